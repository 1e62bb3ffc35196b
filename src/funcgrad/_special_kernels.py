"""torch.special's Bessel and Airy functions and orthogonal polynomials in ``jax.numpy``,
computed as ATen computes them (``aten/src/ATen/native/Math.h``, after Cephes): the same
coefficients, the same order of operations and the same branches for zeros, negative
arguments, infinities, NaN and out-of-range degrees, so values agree with torch's to rounding.

Each function takes arrays of one floating dtype and returns that dtype. The scalar code's early
returns become ``jnp.where`` selections over every branch; its loops, which end element by
element, become ``lax.while_loop``\\s that freeze each element where torch's loop ends, so
the number of terms (and hence the rounding) is torch's.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import jax.scipy.special as jss

# ----- torch's coefficient tables (Cephes) ------------------------------------------------------
_AIRY_AN = (
    3.46538101525629032477e-01, 1.20075952739645805542e+01, 7.62796053615234516538e+01,
    1.68089224934630576269e+02, 1.59756391350164413639e+02, 7.05360906840444183113e+01,
    1.40264691163389668864e+01, 9.99999999999999995305e-01,
)
_AIRY_AD = (
    5.67594532638770212846e-01, 1.47562562584847203173e+01, 8.45138970141474626562e+01,
    1.77318088145400459522e+02, 1.64234692871529701831e+02, 7.14778400825575695274e+01,
    1.40959135607834029598e+01, 1.00000000000000000470e+00,
)
_AIRY_AFN = (
    -1.31696323418331795333e-01, -6.26456544431912369773e-01, -6.93158036036933542233e-01,
    -2.79779981545119124951e-01, -4.91900132609500318020e-02, -4.06265923594885404393e-03,
    -1.59276496239262096340e-04, -2.77649108155232920844e-06, -1.67787698489114633780e-08,
)
_AIRY_AFD = (
    1.33560420706553243746e+01, 3.26825032795224613948e+01, 2.67367040941499554804e+01,
    9.18707402907259625840e+00, 1.47529146771666414581e+00, 1.15687173795188044134e-01,
    4.40291641615211203805e-03, 7.54720348287414296618e-05, 4.51850092970580378464e-07,
)
_AIRY_AGN = (
    1.97339932091685679179e-02, 3.91103029615688277255e-01, 1.06579897599595591108e+00,
    9.39169229816650230044e-01, 3.51465656105547619242e-01, 6.33888919628925490927e-02,
    5.85804113048388458567e-03, 2.82851600836737019778e-04, 6.98793669997260967291e-06,
    8.11789239554389293311e-08, 3.41551784765923618484e-10,
)
_AIRY_AGD = (
    9.30892908077441974853e+00, 1.98352928718312140417e+01, 1.55646628932864612953e+01,
    5.47686069422975497931e+00, 9.54293611618961883998e-01, 8.64580826352392193095e-02,
    4.12656523824222607191e-03, 1.01259085116509135510e-04, 1.17166733214413521882e-06,
    4.91834570062930015649e-09,
)
_J0_PP = (
    7.96936729297347051624e-04, 8.28352392107440799803e-02, 1.23953371646414299388e+00,
    5.44725003058768775090e+00, 8.74716500199817011941e+00, 5.30324038235394892183e+00,
    9.99999999999999997821e-01,
)
_J0_PQ = (
    9.24408810558863637013e-04, 8.56288474354474431428e-02, 1.25352743901058953537e+00,
    5.47097740330417105182e+00, 8.76190883237069594232e+00, 5.30605288235394617618e+00,
    1.00000000000000000218e+00,
)
_J0_QP = (
    -1.13663838898469149931e-02, -1.28252718670509318512e+00, -1.95539544257735972385e+01,
    -9.32060152123768231369e+01, -1.77681167980488050595e+02, -1.47077505154951170175e+02,
    -5.14105326766599330220e+01, -6.05014350600728481186e+00,
)
_J0_QQ = (
    6.43178256118178023184e+01, 8.56430025976980587198e+02, 3.88240183605401609683e+03,
    7.24046774195652478189e+03, 5.93072701187316984827e+03, 2.06209331660327847417e+03,
    2.42005740240291393179e+02,
)
_J0_RP = (
    -4.79443220978201773821e+09, 1.95617491946556577543e+12, -2.49248344360967716204e+14,
    9.70862251047306323952e+15,
)
_J0_RQ = (
    4.99563147152651017219e+02, 1.73785401676374683123e+05, 4.84409658339962045305e+07,
    1.11855537045356834862e+10, 2.11277520115489217587e+12, 3.10518229857422583814e+14,
    3.18121955943204943306e+16, 1.71086294081043136091e+18,
)
_J1_PP = (
    7.62125616208173112003e-04, 7.31397056940917570436e-02, 1.12719608129684925192e+00,
    5.11207951146807644818e+00, 8.42404590141772420927e+00, 5.21451598682361504063e+00,
    1.00000000000000000254e+00,
)
_J1_PQ = (
    5.71323128072548699714e-04, 6.88455908754495404082e-02, 1.10514232634061696926e+00,
    5.07386386128601488557e+00, 8.39985554327604159757e+00, 5.20982848682361821619e+00,
    9.99999999999999997461e-01,
)
_J1_QP = (
    5.10862594750176621635e-02, 4.98213872951233449420e+00, 7.58238284132545283818e+01,
    3.66779609360150777800e+02, 7.10856304998926107277e+02, 5.97489612400613639965e+02,
    2.11688757100572135698e+02, 2.52070205858023719784e+01,
)
_J1_QQ = (
    7.42373277035675149943e+01, 1.05644886038262816351e+03, 4.98641058337653607651e+03,
    9.56231892404756170795e+03, 7.99704160447350683650e+03, 2.82619278517639096600e+03,
    3.36093607810698293419e+02,
)
_J1_RP = (
    -8.99971225705559398224e+08, 4.52228297998194034323e+11, -7.27494245221818276015e+13,
    3.68295732863852883286e+15,
)
_J1_RQ = (
    6.20836478118054335476e+02, 2.56987256757748830383e+05, 8.35146791431949253037e+07,
    2.21511595479792499675e+10, 4.74914122079991414898e+12, 7.84369607876235854894e+14,
    8.95222336184627338078e+16, 5.32278620332680085395e+18,
)
_Y0_YP = (
    1.55924367855235737965e+04, -1.46639295903971606143e+07, 5.43526477051876500413e+09,
    -9.82136065717911466409e+11, 8.75906394395366999549e+13, -3.46628303384729719441e+15,
    4.42733268572569800351e+16, -1.84950800436986690637e+16,
)
_Y0_YQ = (
    1.04128353664259848412e+03, 6.26107330137134956842e+05, 2.68919633393814121987e+08,
    8.64002487103935000337e+10, 2.02979612750105546709e+13, 3.17157752842975028269e+15,
    2.50596256172653059228e+17,
)
_Y1_YP = (
    1.26320474790178026440e+09, -6.47355876379160291031e+11, 1.14509511541823727583e+14,
    -8.12770255501325109621e+15, 2.02439475713594898196e+17, -7.78877196265950026825e+17,
)
_Y1_YQ = (
    5.94301592346128195359e+02, 2.35564092943068577943e+05, 7.34811944459721705660e+07,
    1.87601316108706159478e+10, 3.88231277496238566008e+12, 6.20557727146953693363e+14,
    6.87141087355300489866e+16, 3.97270608116560655612e+18,
)
_K0_A = (
    1.37446543561352307156e-16, 4.25981614279661018399e-14, 1.03496952576338420167e-11,
    1.90451637722020886025e-09, 2.53479107902614945675e-07, 2.28621210311945178607e-05,
    1.26461541144692592338e-03, 3.59799365153615016266e-02, 3.44289899924628486886e-01,
    -5.35327393233902768720e-01,
)
_K0_B = (
    5.30043377268626276149e-18, -1.64758043015242134646e-17, 5.21039150503902756861e-17,
    -1.67823109680541210385e-16, 5.51205597852431940784e-16, -1.84859337734377901440e-15,
    6.34007647740507060557e-15, -2.22751332699166985548e-14, 8.03289077536357521100e-14,
    -2.98009692317273043925e-13, 1.14034058820847496303e-12, -4.51459788337394416547e-12,
    1.85594911495471785253e-11, -7.95748924447710747776e-11, 3.57739728140030116597e-10,
    -1.69753450938905987466e-09, 8.57403401741422608519e-09, -4.66048989768794782956e-08,
    2.76681363944501510342e-07, -1.83175552271911948767e-06, 1.39498137188764993662e-05,
    -1.28495495816278026384e-04, 1.56988388573005337491e-03, -3.14481013119645005427e-02,
    2.44030308206595545468e+00,
)
_K1_A = (
    -7.02386347938628759343e-18, -2.42744985051936593393e-15, -6.66690169419932900609e-13,
    -1.41148839263352776110e-10, -2.21338763073472585583e-08, -2.43340614156596823496e-06,
    -1.73028895751305206302e-04, -6.97572385963986435018e-03, -1.22611180822657148235e-01,
    -3.53155960776544875667e-01, 1.52530022733894777053e+00,
)
_K1_B = (
    -5.75674448366501715755e-18, 1.79405087314755922667e-17, -5.68946255844285935196e-17,
    1.83809354436663880070e-16, -6.05704724837331885336e-16, 2.03870316562433424052e-15,
    -7.01983709041831346144e-15, 2.47715442448130437068e-14, -8.97670518232499435011e-14,
    3.34841966607842919884e-13, -1.28917396095102890680e-12, 5.13963967348173025100e-12,
    -2.12996783842756842877e-11, 9.21831518760500529508e-11, -4.19035475934189648750e-10,
    2.01504975519703286596e-09, -1.03457624656780970260e-08, 5.74108412545004946722e-08,
    -3.50196060308781257119e-07, 2.40648494783721712015e-06, -1.93619797416608296024e-05,
    1.95215518471351631108e-04, -2.85781685962277938680e-03, 1.03923736576817238437e-01,
    2.72062619048444266945e+00,
)


# ----- evaluation helpers ----------------------------------------------------------------------
def _horner(t, coefficients):
    """The polynomial with ``coefficients`` (highest degree first) at ``t``."""
    r = jnp.zeros_like(t)
    for c in coefficients:
        r = r * t + c
    return r


def _chebyshev_series(t, coefficients):
    """Cephes' ``chbevl`` as torch writes it inline: Clenshaw's recurrence, halved."""
    p = q = jnp.zeros_like(t)
    a = jnp.full_like(t, coefficients[0])
    for c in coefficients[1:]:
        p, q = q, a
        a = t * q - p + c
    return 0.5 * (a - p)


# ----- Bessel functions of the first and second kind -------------------------------------------
_PI_4 = 0.785398163397448309615660845819875721
_3PI_4 = 2.356194490192344928846982537459627163
_SQRT_2_PI = 0.797884560802865355879892119868763737
_2_PI = 0.636619772367581343075535053490057448


def _asymptotic(x, w, order: int, second_kind: bool):
    """The Hankel expansion of J or Y for ``x`` > 5, with ``w`` torch's ``(5 / x) ** 2``."""
    pp, pq, qp, qq = ((_J0_PP, _J0_PQ, _J0_QP, _J0_QQ) if order == 0
                      else (_J1_PP, _J1_PQ, _J1_QP, _J1_QQ))
    p = _horner(w, pp) / _horner(w, pq)
    q = 5.0 / x * (_horner(w, qp) / _horner(w, qq))
    phase = x - (_PI_4 if order == 0 else _3PI_4)
    if second_kind:
        value = p * jnp.sin(phase) + q * jnp.cos(phase)
    else:
        value = p * jnp.cos(phase) - q * jnp.sin(phase)
    return value * _SQRT_2_PI / jnp.sqrt(x)


def bessel_j0(x):
    x = jnp.abs(x)
    xx = x * x
    tiny = 1.0 - xx / 4.0
    small = ((xx - 5.78318596294678452118e+00) * (xx - 3.04712623436620863991e+01)
             * _horner(xx, _J0_RP) / _horner(xx, _J0_RQ))
    large = _asymptotic(x, 25.0 / xx, 0, second_kind=False)
    return jnp.where(x <= 5.0, jnp.where(x < 0.00001, tiny, small), large)


def bessel_j1(x):
    # torch's j1(x) is -j1(-x) for x < 0, and -0.0 (not < 0) goes through as it is.
    ax = jnp.where(x < 0.0, -x, x)
    xx = ax * ax
    small = (_horner(xx, _J1_RP) / _horner(xx, _J1_RQ) * ax
             * (xx - 1.46819706421238932572e+01) * (xx - 4.92184563216946036703e+01))
    large = _asymptotic(ax, 5.0 / ax * (5.0 / ax), 1, second_kind=False)
    value = jnp.where(ax <= 5.0, small, large)
    return jnp.where(x < 0.0, -value, value)


def bessel_y0(x):
    xx = x * x
    small = _horner(xx, _Y0_YP) / _horner(xx, _Y0_YQ) + _2_PI * jnp.log(x) * bessel_j0(x)
    small = jnp.where(x == 0.0, -jnp.inf, jnp.where(x < 0.0, jnp.nan, small))
    return jnp.where(x <= 5.0, small, _asymptotic(x, 25.0 / xx, 0, second_kind=True))


def bessel_y1(x):
    xx = x * x
    small = (x * (_horner(xx, _Y1_YP) / _horner(xx, _Y1_YQ))
             + _2_PI * (bessel_j1(x) * jnp.log(x) - 1.0 / x))
    small = jnp.where(x == 0.0, -jnp.inf, jnp.where(x < 0.0, jnp.nan, small))
    return jnp.where(x <= 5.0, small, _asymptotic(x, 5.0 / x * (5.0 / x), 1, second_kind=True))


def spherical_bessel_j0(x):
    xx = x * x
    series = 1.0 + xx * (-1.0 / 6.0 + xx * (1.0 / 120.0 + xx * (-1.0 / 5040.0 + xx * (
        1.0 / 362880.0 + xx * (-1.0 / 39916800.0 + xx * (1.0 / 6227020800.0))))))
    value = jnp.where(jnp.abs(x) < 0.5, series, jnp.sin(x) / x)
    return jnp.where(jnp.isinf(x), 0.0, value)


# ----- modified Bessel functions ---------------------------------------------------------------
# JAX's I0 and I1 are Cephes' too, and agree with torch's to a few units in the last place.
def modified_bessel_i0(x):
    return jss.i0(x)


def modified_bessel_i1(x):
    return jss.i1(x)


def _modified_bessel_k(x, order: int, scaled: bool):
    """K0 or K1, times ``exp(x)`` when ``scaled``."""
    small = _chebyshev_series(x * x - 2.0, _K0_A if order == 0 else _K1_A)
    large = _chebyshev_series(8.0 / x - 2.0, _K0_B if order == 0 else _K1_B)
    log_half = jnp.log(0.5 * x)
    if order == 0:
        small = small - log_half * jss.i0(x)
    else:
        small = log_half * jss.i1(x) + small / x
    if scaled:
        small, large = small * jnp.exp(x), large / jnp.sqrt(x)
    else:
        large = jnp.exp(-x) * large / jnp.sqrt(x)
    value = jnp.where(x <= 2.0, small, large)
    return jnp.where(x == 0.0, jnp.inf, jnp.where(x < 0.0, jnp.nan, value))


def modified_bessel_k0(x):
    return _modified_bessel_k(x, 0, scaled=False)


def modified_bessel_k1(x):
    return _modified_bessel_k(x, 1, scaled=False)


def scaled_modified_bessel_k0(x):
    return _modified_bessel_k(x, 0, scaled=True)


def scaled_modified_bessel_k1(x):
    return _modified_bessel_k(x, 1, scaled=True)


# ----- the Airy function Ai --------------------------------------------------------------------
_AIRY_C = 5.64189583547756286948e-01  # 1 / sqrt(pi)


def _airy_series(x):
    """Ai by its Maclaurin series, summed until a term is below epsilon relative to the sum,
    element by element."""
    eps = jnp.finfo(x.dtype).eps
    z = x * x * x
    one = jnp.ones_like(x)
    # (k, m, n, f, g, t): torch's loop state; t = 0 leaves the elements the series is not for.
    start = (one, one, x, one, x, jnp.where((x >= -2.09) & (x < 2.09), one, 0.0))

    def step(state):
        k, m, n, f, g, t = state
        m = m * z
        k = k + 1.0
        m = m / k
        n = n * z
        k = k + 1.0
        n = n / k
        m = m / k
        f = f + m
        k = k + 1.0
        n = n / k
        g = g + n
        going = t > eps
        new = (k, m, n, f, g, jnp.abs(m / f))
        return tuple(jnp.where(going, a, b) for a, b in zip(new, state))

    _, _, _, f, g, _ = jax.lax.while_loop(lambda state: jnp.any(state[-1] > eps), step, start)
    return 0.355028053887817239260 * f - 0.258819403792806798405 * g


def _by_three(a):
    """``a / 3`` correctly rounded, as C divides. XLA rewrites a division by a constant into a
    multiplication by its rounded reciprocal, a unit in the last place off for a third of all
    ``a``, and Ai's phase off by a unit moves Ai far out; a divisor XLA cannot fold keeps the
    division."""
    return a / jnp.where(jnp.isnan(a), 3.0, 3.0)


def airy_ai(x):
    z = 1.0 / _by_three(-2.0 * x * jnp.sqrt(-x))
    zz = z * z
    phase = _by_three(-2.0 * x * jnp.sqrt(-x)) + 0.25 * math.pi
    negative = _AIRY_C / jnp.sqrt(jnp.sqrt(-x)) * (
        jnp.sin(phase) * (1.0 + zz * _horner(zz, _AIRY_AFN) / _horner(zz, _AIRY_AFD))
        - jnp.cos(phase) * (z * _horner(zz, _AIRY_AGN) / _horner(zz, _AIRY_AGD)))
    zeta = _by_three(2.0 * x * jnp.sqrt(x))
    positive = (_AIRY_C * (_horner(1.0 / zeta, _AIRY_AN) / _horner(1.0 / zeta, _AIRY_AD))
                / (2.0 * jnp.sqrt(jnp.sqrt(x)) * jnp.exp(zeta)))
    value = jnp.where(x < -2.09, negative,
                      jnp.where(x >= 2.09, positive, _airy_series(x)))
    return jnp.where(jnp.isinf(x), jnp.nan, jnp.where(x > 103.892, 0.0, value))


# ----- orthogonal polynomials ------------------------------------------------------------------
# torch counts a polynomial's recurrence steps in int64; the int32 counter here (whose 2k + 1
# must not overflow) stops at this many, a loop torch would take a second per element to run.
_MAX_STEPS = 2 ** 29


def _degree(n):
    """torch's ``static_cast<int64_t>(n)``, kept as a float: truncated toward zero, and (as x86
    converts NaN, infinities and out-of-range values to INT64_MIN) negative where not finite."""
    n = jnp.trunc(n)
    return jnp.where(jnp.abs(n) < 2.0 ** 63, n, -1.0)


def _even(n):
    return jnp.fmod(n, 2.0) == 0.0


def _polynomial(n, cases, first, step):
    """torch's kernel of a polynomial of degree ``n`` (from ``_degree``): 0 for a negative
    degree, else the value of the first of ``cases`` ((condition, value) pairs) that holds,
    else 1 for degree 0, ``first`` for degree 1, and otherwise ``n - 1`` steps of the three-term
    recurrence ``step(k, p, q)`` from ``(1, first)``, with ``k`` the step's number from 1, an
    int32. An element stops early where its latest value is NaN, as torch's loops do."""
    special = jnp.zeros(n.shape, bool)
    for condition, _ in cases:
        special = special | condition
    steps = jnp.where(special, 0.0, jnp.clip(n - 1.0, 0.0, _MAX_STEPS)).astype(jnp.int32)

    def body(state):
        k, p, q = state
        going = (k <= steps) & ~jnp.isnan(q)
        return k + 1, jnp.where(going, q, p), jnp.where(going, step(k, p, q), q)

    def cond(state):
        k, _, q = state
        return jnp.any((k <= steps) & ~jnp.isnan(q))

    _, _, value = jax.lax.while_loop(cond, body, (jnp.int32(1), jnp.ones_like(first), first))
    value = jnp.where(n == 0.0, 1.0, value)
    for condition, special_value in reversed(cases):
        value = jnp.where(condition, special_value, value)
    return jnp.where(n < 0.0, 0.0, value)


def _as(k, x):
    """The int32 ``k`` as ``x``'s dtype, as C converts an int64 in arithmetic with a float."""
    return k.astype(x.dtype)


def chebyshev_polynomial_t(x, n):
    x, n = jnp.broadcast_arrays(x, _degree(n))
    ends = jnp.where((x > 0.0) | _even(n), 1.0, -1.0)
    closed = jnp.cos(n * jnp.acos(x))
    return _polynomial(n, [(jnp.abs(x) == 1.0, ends), ((n > 6) & (jnp.abs(x) < 1.0), closed)],
                       x, lambda k, p, q: (x + x) * q - p)


def chebyshev_polynomial_u(x, n):
    x, n = jnp.broadcast_arrays(x, _degree(n))
    ends = jnp.where((x > 0.0) | _even(n), n + 1.0, -(n + 1.0))
    theta = jnp.acos(x)
    closed = jnp.where(jnp.sin(theta) != 0.0, jnp.sin((n + 1.0) * theta) / jnp.sin(theta),
                       (n + 1.0) * jnp.cos((n + 1.0) * theta) / x)
    return _polynomial(n, [(jnp.abs(x) == 1.0, ends), ((n > 8) & (jnp.abs(x) < 1.0), closed)],
                       x + x, lambda k, p, q: (x + x) * q - p)


def chebyshev_polynomial_v(x, n):
    x, n = jnp.broadcast_arrays(x, _degree(n))
    at_minus_one = jnp.where(_even(n), n + n + 1.0, -(n + n + 1.0))
    theta = jnp.acos(x)
    closed = jnp.where(jnp.sin(theta / 2.0) != 1.0,
                       jnp.cos((n + 0.5) * theta) / jnp.cos(theta / 2.0), at_minus_one)
    return _polynomial(n, [(jnp.abs(x) == 1.0, jnp.where(x > 0.0, 1.0, at_minus_one)),
                           ((n > 8) & (jnp.abs(x) < 1.0), closed)],
                       x + x - 1.0, lambda k, p, q: (x + x) * q - p)


def chebyshev_polynomial_w(x, n):
    x, n = jnp.broadcast_arrays(x, _degree(n))
    ends = jnp.where(x > 0.0, n + n + 1.0, jnp.where(_even(n), 1.0, -1.0))
    theta = jnp.acos(x)
    closed = jnp.where(jnp.cos(theta / 2.0) != 1.0,
                       jnp.sin((n + 0.5) * theta) / jnp.sin(theta / 2.0), ends)
    return _polynomial(n, [(jnp.abs(x) == 1.0, ends), ((n > 8) & (jnp.abs(x) < 1.0), closed)],
                       x + x + 1.0, lambda k, p, q: (x + x) * q - p)


def shifted_chebyshev_polynomial_t(x, n):
    x, n = jnp.broadcast_arrays(x, _degree(n))
    y = x + x - 1.0
    return _polynomial(n, [(x == 1.0, 1.0), (x == 0.0, jnp.where(_even(n), 1.0, -1.0)),
                           ((n > 6) & (jnp.abs(y) < 1.0), jnp.cos(n * jnp.acos(y)))],
                       y, lambda k, p, q: (y + y) * q - p)


def shifted_chebyshev_polynomial_u(x, n):
    x, n = jnp.broadcast_arrays(x, _degree(n))
    y = x + x - 1.0
    theta = jnp.acos(y)
    closed = jnp.where(jnp.sin(theta) != 0.0, jnp.sin((n + 1.0) * theta) / jnp.sin(theta),
                       (n + 1.0) * jnp.cos((n + 1.0) * theta) / y)
    return _polynomial(n, [(x == 1.0, n + 1.0),
                           (x == 0.0, jnp.where(_even(n), n + 1.0, -(n + 1.0))),
                           ((n > 6) & (jnp.abs(y) < 1.0), closed)],
                       y + y, lambda k, p, q: (y + y) * q - p)


def shifted_chebyshev_polynomial_v(x, n):
    x, n = jnp.broadcast_arrays(x, _degree(n))
    y = x + x - 1.0
    theta = jnp.acos(y)
    zero_value = jnp.where(_even(n), n + n + 1.0, -(n + n + 1.0))
    closed = jnp.where(jnp.sin(theta / 2.0) != 1.0,
                       jnp.cos((n + 0.5) * theta) / jnp.cos(theta / 2.0), zero_value)
    return _polynomial(n, [(x == 1.0, 1.0), (x == 0.0, zero_value),
                           ((n > 6) & (jnp.abs(y) < 1.0), closed)],
                       y + y - 1.0, lambda k, p, q: (y + y) * q - p)


def shifted_chebyshev_polynomial_w(x, n):
    x, n = jnp.broadcast_arrays(x, _degree(n))
    y = x + x - 1.0
    theta = jnp.acos(y)
    zero_value = jnp.where(_even(n), 1.0, -1.0)
    closed = jnp.where(jnp.cos(theta / 2.0) != 1.0,
                       jnp.sin((n + 0.5) * theta) / jnp.sin(theta / 2.0), zero_value)
    return _polynomial(n, [(x == 1.0, n + n + 1.0), (x == 0.0, zero_value),
                           ((n > 4) & (jnp.abs(y) < 1.0), closed)],
                       y + y + 1.0, lambda k, p, q: (y + y) * q - p)


def _hermite_limit(x) -> int:
    """The degree above which torch's Hermite polynomials are NaN."""
    return 128 if x.dtype == jnp.float32 else 512


def hermite_polynomial_h(x, n):
    x, n = jnp.broadcast_arrays(x, _degree(n))
    return _polynomial(n, [(n > _hermite_limit(x), jnp.nan)], x + x,
                       lambda k, p, q: (x + x) * q - _as(k + k, x) * p)


def hermite_polynomial_he(x, n):
    x, n = jnp.broadcast_arrays(x, _degree(n))
    return _polynomial(n, [(n > _hermite_limit(x), jnp.nan)], x,
                       lambda k, p, q: x * q - _as(k, x) * p)


def laguerre_polynomial_l(x, n):
    x, n = jnp.broadcast_arrays(x, _degree(n))
    return _polynomial(n, [(jnp.abs(x) == 0.0, 1.0)], 1.0 - x,
                       lambda k, p, q: ((_as(k + k, x) + (1.0 - x)) * q - _as(k, x) * p)
                       / _as(k + 1, x))


def legendre_polynomial_p(x, n):
    x, n = jnp.broadcast_arrays(x, _degree(n))
    ends = jnp.where((x > 0.0) | _even(n), 1.0, -1.0)
    return _polynomial(n, [(jnp.abs(x) == 1.0, ends)], x,
                       lambda k, p, q: (_as(k + k + 1, x) * x * q - _as(k, x) * p)
                       / _as(k + 1, x))

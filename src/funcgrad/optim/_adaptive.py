"""Optimizers that adapt each element's step size: torch's Adagrad, Adadelta, Adamax, NAdam,
RAdam, Rprop and Adafactor, over optax's transformations where those compute what torch
computes, and over small transformations of torch's formulas where optax's differ (each says
how)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from ._optimizer import Optimizer, _check_adam_like, _require, _switches, _with_weight_decay


def _scale_by_torch_rss(initial_accumulator_value, eps) -> optax.GradientTransformation:
    """torch's Adagrad: ``g / (sqrt(sum) + eps)``; optax's scale_by_rss puts eps inside the
    square root."""

    def update(updates, state, params=None):
        total = jax.tree.map(lambda g, s: s + g * g, updates, state.sum_of_squares)
        updates = jax.tree.map(lambda g, s: g / (jnp.sqrt(s) + eps), updates, total)
        return updates, optax.ScaleByRssState(sum_of_squares=total)

    return optax.GradientTransformation(optax.scale_by_rss(initial_accumulator_value).init,
                                        update)


class Adagrad(Optimizer):
    """Adagrad as torch computes it: each element's step divided by the root of its summed
    squared gradients (from ``initial_accumulator_value``) plus ``eps``, with lr decayed to
    ``lr / (1 + (step - 1) * lr_decay)`` and L2 ``weight_decay``.

    >>> import funcgrad
    >>> w = funcgrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = funcgrad.optim.Adagrad([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    _hyper = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _require(lr >= 0.0, f"Invalid learning rate: {lr}")
        _require(lr_decay >= 0.0, f"Invalid lr_decay value: {lr_decay}")
        _require(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _require(initial_accumulator_value >= 0.0,
                 f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        _require(eps >= 0.0, f"Invalid epsilon value: {eps}")
        super().__init__(params, dict(
            lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, eps=eps,
            **_switches(foreach=foreach, maximize=maximize, differentiable=differentiable,
                        fused=fused)))

    @staticmethod
    def _build(structure, lr, lr_decay, weight_decay, initial_accumulator_value, eps):
        return _with_weight_decay(False, _scale_by_torch_rss(initial_accumulator_value, eps),
                                  weight_decay, lambda count: lr / (1 + count * lr_decay))


class Adadelta(Optimizer):
    """Adadelta as torch computes it (optax's scale_by_adadelta is the same rule), with L2
    ``weight_decay`` and ``lr`` scaling the step.

    >>> import funcgrad
    >>> w = funcgrad.tensor([1.0], requires_grad=True)
    >>> opt = funcgrad.optim.Adadelta([w], lr=1.0, eps=1e-2)
    >>> (w ** 2).sum().backward(); opt.step(); w
    tensor([0.6877], requires_grad=True)
    """

    _hyper = ("lr", "rho", "eps", "weight_decay")

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _require(lr >= 0.0, f"Invalid learning rate: {lr}")
        _require(0.0 <= rho <= 1.0, f"Invalid rho value: {rho}")
        _require(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _require(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(
            lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
            **_switches(foreach=foreach, capturable=capturable, maximize=maximize,
                        differentiable=differentiable)))

    @staticmethod
    def _build(structure, lr, rho, eps, weight_decay):
        return _with_weight_decay(False, optax.scale_by_adadelta(rho, eps), weight_decay, lr)


class Adamax(Optimizer):
    """Adamax as torch computes it (optax's scale_by_adamax is the same rule: the infinity
    norm ``max(beta2 * u, |g| + eps)``, the first moment bias-corrected), with L2
    ``weight_decay``.

    >>> import funcgrad
    >>> w = funcgrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = funcgrad.optim.Adamax([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    _hyper = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_adam_like(lr, betas, eps, weight_decay)
        super().__init__(params, dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
            **_switches(foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)))

    @staticmethod
    def _build(structure, lr, betas, eps, weight_decay):
        return _with_weight_decay(False, optax.scale_by_adamax(*betas, eps), weight_decay, lr)


class _NAdamState(NamedTuple):
    count: jax.Array
    mu_product: jax.Array
    mu: optax.Updates
    nu: optax.Updates


def _one_minus_power(b, count):
    """``1 - b ** count``, which torch computes in float64: in float32, ``b ** count`` near 1
    keeps few of its digits after the subtraction (1.5e-4 relative at b = 0.9999, count = 2;
    optax.tree.bias_correction has that error)."""
    return -jnp.expm1(count * jnp.log1p(b - 1.0))  # b - 1 is exact in float32


def _scale_by_torch_nadam(betas, eps, momentum_decay) -> optax.GradientTransformation:
    """torch's NAdam (Dozat's): the momentum coefficient warms up as
    ``beta1 * (1 - 0.5 * 0.96 ** (step * momentum_decay))`` and the first moment is corrected
    by the product of those coefficients; optax's nadam uses beta1 throughout."""
    b1, b2 = betas

    def init(params):
        zeros = optax.tree.zeros_like(params)
        return _NAdamState(count=jnp.zeros([], jnp.int32), mu_product=jnp.ones([]), mu=zeros,
                           nu=zeros)

    def update(updates, state, params=None):
        count = optax.safe_increment(state.count)
        mu = optax.tree.update_moment(updates, state.mu, b1, 1)
        nu = optax.tree.update_moment_per_elem_norm(updates, state.nu, b2, 2)
        correction2 = _one_minus_power(b2, count)
        coef, coef_next = (b1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
                           for t in (count, count + 1))
        mu_product = state.mu_product * coef
        g_scale = (1.0 - coef) / (1.0 - mu_product)
        m_scale = coef_next / (1.0 - mu_product * coef_next)
        updates = jax.tree.map(
            lambda g, m, v: (g_scale * g + m_scale * m) / (jnp.sqrt(v / correction2) + eps),
            updates, mu, nu)
        return updates, _NAdamState(count=count, mu_product=mu_product, mu=mu, nu=nu)

    return optax.GradientTransformation(init, update)


class NAdam(Optimizer):
    """NAdam as torch computes it: Nesterov momentum with torch's ``momentum_decay`` warm-up,
    L2 ``weight_decay``, or decoupled weight decay (as AdamW) with
    ``decoupled_weight_decay=True``.

    >>> import funcgrad
    >>> w = funcgrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = funcgrad.optim.NAdam([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step(); w
    tensor([ 0.8944, -1.8944], requires_grad=True)
    """

    _hyper = ("lr", "betas", "eps", "weight_decay", "momentum_decay")

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_adam_like(lr, betas, eps, weight_decay)
        _require(momentum_decay >= 0.0, f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
            momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
            **_switches(foreach=foreach, maximize=maximize, capturable=capturable,
                        differentiable=differentiable)))

    @staticmethod
    def _structure(group: dict):
        return bool(group["decoupled_weight_decay"])

    @staticmethod
    def _build(decoupled, lr, betas, eps, weight_decay, momentum_decay):
        return _with_weight_decay(decoupled, _scale_by_torch_nadam(betas, eps, momentum_decay),
                                  weight_decay, lr)


def _sma_length(b2, count):
    """RAdam's ``rho_t = rho_inf - 2 t b2^t / (1 - b2^t)`` (``rho_inf = 2 / (1 - b2) - 1``).

    torch evaluates rho_t in float64. In float32 its two terms, both near ``2 / (1 - b2)``
    while ``t (1 - b2)`` is small, cancel: at t = 6 it comes out 0.014 off for b2 = 0.999 and
    1.0 off for b2 = 0.9999, and the rectification with it. With ``z = -t log(b2)`` and
    ``g(x) = 1 / expm1(x) - 1 / x + 1/2 = x/12 - x^3/720 + x^5/30240 - x^7/1209600 + ...``,
    rho_t is exactly ``t + 2 g(z / t) - 2 t g(z)``: no cancellation while z < 1, and beyond,
    where the series would not do, the first form has little.
    """
    log_b2 = jnp.log1p(b2 - 1.0)  # as in _one_minus_power
    z = -count * log_b2

    def g(x):
        x2 = x * x
        return x * (1 / 12 - x2 * (1 / 720 - x2 * (1 / 30240 - x2 / 1209600)))

    near = count + 2.0 * g(-log_b2) - 2.0 * count * g(z)
    far = 2.0 / (1.0 - b2) - 1.0 - 2.0 * count / jnp.expm1(z)
    return jnp.where(z < 1.0, near, far)


def _scale_by_torch_radam(betas, eps) -> optax.GradientTransformation:
    """torch's RAdam: ``eps`` is added to the root of the raw second moment (the bias
    correction multiplies after), and rectification starts when the SMA length exceeds 5;
    optax's scale_by_radam adds eps to the corrected root, rectifies from 5 on, and loses
    the SMA length to float32 cancellation (see _sma_length)."""
    b1, b2 = betas
    rho_inf = 2.0 / (1.0 - b2) - 1.0

    def update(updates, state, params=None):
        count = optax.safe_increment(state.count)
        mu = optax.tree.update_moment(updates, state.mu, b1, 1)
        nu = optax.tree.update_moment_per_elem_norm(updates, state.nu, b2, 2)
        mu_hat = optax.tree.bias_correction(mu, b1, count)
        rho, correction2 = _sma_length(b2, count), _one_minus_power(b2, count)
        rect = jnp.sqrt((rho - 4.0) * (rho - 2.0) * rho_inf
                        / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho))
        updates = jax.tree.map(
            lambda m, v: jnp.where(rho > 5.0, m * jnp.sqrt(correction2) / (jnp.sqrt(v) + eps)
                                   * rect, m), mu_hat, nu)
        return updates, optax.ScaleByAdamState(count=count, mu=mu, nu=nu)

    return optax.GradientTransformation(optax.scale_by_adam().init, update)


class RAdam(Optimizer):
    """RAdam as torch computes it: Adam's step rectified once the variance estimate is
    tractable (plain bias-corrected momentum before), L2 ``weight_decay``, or decoupled weight
    decay with ``decoupled_weight_decay=True``.

    >>> import funcgrad
    >>> w = funcgrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = funcgrad.optim.RAdam([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step(); w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    _hyper = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_adam_like(lr, betas, eps, weight_decay)
        super().__init__(params, dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            **_switches(foreach=foreach, maximize=maximize, capturable=capturable,
                        differentiable=differentiable)))

    @staticmethod
    def _structure(group: dict):
        return bool(group["decoupled_weight_decay"])

    @staticmethod
    def _build(decoupled, lr, betas, eps, weight_decay):
        return _with_weight_decay(decoupled, _scale_by_torch_radam(betas, eps), weight_decay, lr)


def _scale_by_torch_rprop(lr, etas, step_sizes) -> optax.GradientTransformation:
    """torch's Rprop. optax 0.2.8's scale_by_rprop returns the previous step's update (so its
    first step is zero: google-deepmind/optax#1725) and leaves a step size unclamped while the
    gradient's sign is unknown; its state keeps the same two trees."""
    eta_minus, eta_plus = etas
    low, high = step_sizes

    def update(updates, state, params=None):
        sign = jax.tree.map(lambda g, prev: jnp.sign(g * prev), updates, state.prev_updates)
        sizes = jax.tree.map(
            lambda s, size: jnp.clip(size * jnp.where(s > 0, eta_plus, jnp.where(
                s < 0, eta_minus, 1.0)), low, high), sign, state.step_sizes)
        # A gradient whose sign flipped is dropped: no step, and no flip seen next time.
        grads = jax.tree.map(lambda s, g: jnp.where(s < 0, 0.0, g), sign, updates)
        updates = jax.tree.map(lambda g, size: -jnp.sign(g) * size, grads, sizes)
        return updates, optax.ScaleByRpropState(step_sizes=sizes, prev_updates=grads)

    return optax.GradientTransformation(optax.scale_by_rprop(lr).init, update)


class Rprop(Optimizer):
    """Rprop as torch computes it: each element's step size grows by ``etas[1]`` while its
    gradient keeps its sign and shrinks by ``etas[0]`` when it flips (that step is skipped),
    within ``step_sizes``; ``lr`` is the initial step size, read when the state is made.

    >>> import funcgrad
    >>> w = funcgrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = funcgrad.optim.Rprop([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    _hyper = ("lr", "etas", "step_sizes")

    def __init__(self, params, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _require(lr >= 0.0, f"Invalid learning rate: {lr}")
        _require(0.0 < etas[0] < 1.0 < etas[1], f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(
            lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
            **_switches(capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)))

    @staticmethod
    def _build(structure, lr, etas, step_sizes):
        return _scale_by_torch_rprop(lr, etas, step_sizes)


class _AdafactorState(NamedTuple):
    count: jax.Array
    # Per parameter: a matrix's (row, column) means of the squared gradient over its last two
    # dims (each keeping its dim as 1), a vector's squared gradient itself, as running means.
    moments: optax.Updates


def _rms(x: jax.Array) -> jax.Array:
    return jnp.linalg.norm(x.ravel()) / x.size ** 0.5


def _torch_adafactor(eps, lr, beta2_decay, d, weight_decay) -> optax.GradientTransformation:
    """torch's Adafactor, which differs from optax's: eps1 floors the variance estimate and
    its row mean instead of being added to the squared gradient, the relative step is
    ``min(lr, 1 / sqrt(t))`` times the parameter's RMS (at least eps2), and lr scales the
    decoupled weight decay."""
    eps1, eps2 = eps

    def init(params):
        def moments(p):
            if p.ndim < 2:
                return jnp.zeros_like(p)
            return (jnp.zeros((*p.shape[:-1], 1), p.dtype),
                    jnp.zeros((*p.shape[:-2], 1, p.shape[-1]), p.dtype))

        return _AdafactorState(count=jnp.zeros([], jnp.int32),
                               moments=jax.tree.map(moments, params))

    def update(updates, state, params):
        count = optax.safe_increment(state.count)
        weight = count.astype(jnp.float32) ** beta2_decay  # 1 - beta2 at this step
        rho = jnp.minimum(lr, 1 / jnp.sqrt(count.astype(jnp.float32)))

        def one(g, moment, p):
            floor = jnp.finfo(p.dtype).eps if eps1 is None else eps1
            square = g * g
            if p.ndim < 2:
                moment = variance = moment + weight * (square - moment)
            else:
                row, col = moment
                row = row + weight * (jnp.mean(square, axis=-1, keepdims=True) - row)
                col = col + weight * (jnp.mean(square, axis=-2, keepdims=True) - col)
                variance = row @ col / jnp.maximum(jnp.mean(row, axis=-2, keepdims=True), floor)
                moment = (row, col)
            step = g * jax.lax.rsqrt(jnp.maximum(variance, floor * floor))
            alpha = jnp.maximum(eps2, _rms(p)) * rho / jnp.maximum(1.0, _rms(step) / d)
            return -lr * weight_decay * p - alpha * step, moment

        results = jax.tree.map(one, updates, state.moments, params)
        return (jax.tree.map(lambda _, r: r[0], updates, results),
                _AdafactorState(count=count,
                                moments=jax.tree.map(lambda _, r: r[1], updates, results)))

    return optax.GradientTransformation(init, update)


class Adafactor(Optimizer):
    """Adafactor as torch computes it: a matrix's second moment kept as row and column means
    (a vector's whole), ``beta2 = 1 - t ** beta2_decay``, a relative step of
    ``min(lr, 1 / sqrt(t))`` times the parameter's RMS (at least ``eps[1]``), the update's
    RMS clipped to ``d``, and decoupled ``weight_decay`` scaled by lr. ``eps[0]`` None means
    the parameter dtype's machine epsilon.

    >>> import funcgrad
    >>> w = funcgrad.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = funcgrad.optim.Adafactor([w], lr=0.1)
    >>> (w ** 2).sum().backward(); opt.step(); w
    tensor([ 0.9000, -0.9000], requires_grad=True)
    """

    _hyper = ("lr", "beta2_decay", "d", "weight_decay")
    _complex_as_real = None  # torch's refuses complex parameters

    def __init__(self, params, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        _require(lr >= 0.0, f"Learning rate should be >= 0 but is: {lr}")
        _require(beta2_decay <= 0.0, f"beta2_decay should be <= 0 but is: {beta2_decay}")
        _require(eps[0] is None or eps[0] >= 0.0, f"epsilon1 should be >= 0 but is: {eps[0]}")
        _require(eps[1] >= 0.0, f"epsilon2 should be >= 0 but is: {eps[1]}")
        _require(d >= 1.0, f"Clipping threshold d should be >= 1 but is: {d}")
        _require(weight_decay >= 0.0, f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d,
                                      weight_decay=weight_decay,
                                      **_switches(foreach=foreach, maximize=maximize)))

    @staticmethod
    def _structure(group: dict):
        # eps selects the program: eps[0] may be None, which no operand can carry.
        return tuple(group["eps"])

    @staticmethod
    def _build(eps, lr, beta2_decay, d, weight_decay):
        return _torch_adafactor(eps, lr, beta2_decay, d, weight_decay)

"""``funcgrad.special``: torch.special's functions, the ones funcgrad already has under another
name re-exported, the rest new ops over ``jax.scipy.special`` with torch's ``grad_fn`` names.

The Bessel and Airy functions and the orthogonal polynomials are computed as torch computes them
(``_special_kernels``; ``jax.scipy.special.bessel_jn`` is NaN in float32 for ordinary arguments),
and, as torch's, they have no derivative: their results are outside the graph.

>>> import funcgrad
>>> funcgrad.special.ndtr(funcgrad.tensor([0.0]))
tensor([0.5000])
>>> funcgrad.special.chebyshev_polynomial_t(funcgrad.tensor([0.5, 2.0]), 3)
tensor([-1., 26.])
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np

from . import _dtypes, _ops, _special_kernels
from ._graph import Op, apply
from ._math_ops import i0 as i0
from ._math_ops import mvlgamma as multigammaln
from ._math_ops import polygamma as polygamma
from ._ops import _make_inplace
from ._ops import digamma as digamma
from ._ops import digamma as psi
from ._ops import erf as erf
from ._ops import erfc as erfc
from ._ops import erfinv as erfinv
from ._ops import exp2 as exp2
from ._ops import expm1 as expm1
from ._ops import lgamma as gammaln
from ._ops import log1p as log1p
from ._ops import log_softmax as log_softmax
from ._ops import logit as logit
from ._ops import logsumexp as logsumexp
from ._ops import sigmoid as expit
from ._ops import sinc as sinc
from ._ops import softmax as softmax
from ._ops import xlogy as xlogy
from ._tensor import Tensor

# torch.special's functions of one tensor and of a tensor and a degree that it computes by
# ATen's own kernels (Cephes), with no derivative: funcgrad computes them by the same algorithms.
# Each with what it is and its values at [0.5, 2.0] (and degree 3), its docstring's example.
_FUNCTIONS = {
    "airy_ai": ("The Airy function Ai",
                "tensor([0.2317, 0.0349])"),
    "bessel_j0": ("The Bessel function of the first kind of order 0",
                  "tensor([0.9385, 0.2239])"),
    "bessel_j1": ("The Bessel function of the first kind of order 1",
                  "tensor([0.2423, 0.5767])"),
    "bessel_y0": ("The Bessel function of the second kind of order 0",
                  "tensor([-0.4445,  0.5104])"),
    "bessel_y1": ("The Bessel function of the second kind of order 1",
                  "tensor([-1.4715, -0.1070])"),
    "modified_bessel_i0": ("The modified Bessel function of the first kind of order 0",
                           "tensor([1.0635, 2.2796])"),
    "modified_bessel_i1": ("The modified Bessel function of the first kind of order 1",
                           "tensor([0.2579, 1.5906])"),
    "modified_bessel_k0": ("The modified Bessel function of the second kind of order 0",
                           "tensor([0.9244, 0.1139])"),
    "modified_bessel_k1": ("The modified Bessel function of the second kind of order 1",
                           "tensor([1.6564, 0.1399])"),
    "scaled_modified_bessel_k0": ("``exp(input) * modified_bessel_k0(input)``",
                                  "tensor([1.5241, 0.8416])"),
    "scaled_modified_bessel_k1": ("``exp(input) * modified_bessel_k1(input)``",
                                  "tensor([2.7310, 1.0335])"),
    "spherical_bessel_j0": ("The spherical Bessel function of the first kind of order 0",
                            "tensor([0.9589, 0.4546])"),
}
_POLYNOMIALS = {
    "chebyshev_polynomial_t": ("The Chebyshev polynomial of the first kind",
                               "tensor([-1., 26.])"),
    "chebyshev_polynomial_u": ("The Chebyshev polynomial of the second kind",
                               "tensor([-1., 56.])"),
    "chebyshev_polynomial_v": ("The Chebyshev polynomial of the third kind",
                               "tensor([-1., 41.])"),
    "chebyshev_polynomial_w": ("The Chebyshev polynomial of the fourth kind",
                               "tensor([-1., 71.])"),
    "shifted_chebyshev_polynomial_t": ("The shifted Chebyshev polynomial of the first kind",
                                       "tensor([-0., 99.])"),
    "shifted_chebyshev_polynomial_u": ("The shifted Chebyshev polynomial of the second kind",
                                       "tensor([ -0., 204.])"),
    "shifted_chebyshev_polynomial_v": ("The shifted Chebyshev polynomial of the third kind",
                                       "tensor([  1., 169.])"),
    "shifted_chebyshev_polynomial_w": ("The shifted Chebyshev polynomial of the fourth kind",
                                       "tensor([ -1., 239.])"),
    "hermite_polynomial_h": ("The physicists' Hermite polynomial",
                             "tensor([-5., 40.])"),
    "hermite_polynomial_he": ("The probabilists' Hermite polynomial",
                              "tensor([-1.3750,  2.0000])"),
    "laguerre_polynomial_l": ("The Laguerre polynomial",
                              "tensor([-0.1458, -0.3333])"),
    "legendre_polynomial_p": ("The Legendre polynomial",
                              "tensor([-0.4375, 17.0000])"),
}

__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1",
           "gammainc", "gammaincc", "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr",
           "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma",
           "psi", "round", "sinc", "softmax", "xlog1py", "xlogy", "zeta", *_FUNCTIONS,
           *_POLYNOMIALS]

def _ndtr(x):
    """The standard normal CDF as torch computes it, ``(1 + erf(x / sqrt 2)) * 0.5``, which
    takes half precision too (``jax.scipy.special.ndtr`` refuses it)."""
    return (1 + jax.lax.erf(x * math.sqrt(0.5))) * 0.5


_UNARY = {
    "i0e": (jss.i0e, "SpecialI0EBackward0"),
    "i1": (jss.i1, "SpecialI1Backward0"),
    "i1e": (jss.i1e, "SpecialI1EBackward0"),
    "ndtr": (_ndtr, "MulBackward1"),
    "ndtri": (jss.ndtri, "SpecialNdtriBackward0"),
    "log_ndtr": (jss.log_ndtr, "SpecialLogNdtrBackward0"),
    "entr": (jss.entr, "SpecialEntrBackward0"),
    "erfcx": (jss.erfcx, "SpecialErfcxBackward0"),
}
UNARY = {name: Op(f"special_{name}", fn, grad_fn) for name, (fn, grad_fn) in _UNARY.items()}
XLOG1PY = Op("special_xlog1py", jss.xlog1py, "SpecialXlog1PyBackward0")
ZETA = Op("special_zeta", jss.zeta, "SpecialZetaBackward0")
# torch has no derivative with respect to ``a`` for these; JAX's is there.
GAMMAINC = Op("special_gammainc", jss.gammainc, "IgammaBackward0")
GAMMAINCC = Op("special_gammaincc", jss.gammaincc, "IgammacBackward0")


def _unary(name: str):
    op = UNARY[name]

    def fn(input) -> Tensor:
        return apply(op, input)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}`` (``jax.scipy.special.{name}``)."
    return fn


i0e, i1, i1e, ndtr, ndtri, log_ndtr, entr, erfcx = (_unary(name) for name in UNARY)


def xlog1py(input, other) -> Tensor:
    """``input * log1p(other)``, 0 where ``input`` is 0."""
    return apply(XLOG1PY, input, other)


def zeta(input, other) -> Tensor:
    """The Hurwitz zeta function of ``input`` at ``other``."""
    return apply(ZETA, input, other)


def gammainc(input, other) -> Tensor:
    """The regularized lower incomplete gamma function of ``input`` (``a``) at ``other``."""
    return apply(GAMMAINC, input, other)


def gammaincc(input, other) -> Tensor:
    """The regularized upper incomplete gamma function of ``input`` (``a``) at ``other``."""
    return apply(GAMMAINCC, input, other)


# torch's older names, as methods (and, in funcgrad's namespace, functions).
Tensor.igamma, Tensor.igammac = gammainc, gammaincc
Tensor.igamma_, Tensor.igammac_ = _make_inplace(gammainc), _make_inplace(gammaincc)


def round(input, *, decimals: int = 0) -> Tensor:
    """``input`` rounded half to even, to ``decimals`` decimal places: ``round`` with
    ``decimals`` always given, so torch records RoundBackward1."""
    return _ops.round(input, decimals=decimals)


def _kernel_op(name: str) -> Op:
    kernel = getattr(_special_kernels, name)

    def fn(*operands, dtype):
        return kernel(*(jnp.asarray(a, dtype) for a in operands))

    # A degree given as a Python int is data, so a new degree compiles nothing again.
    return Op(f"special_{name}", fn, "", differentiable=False, numbers=True)


KERNELS = {name: _kernel_op(name) for name in (*_FUNCTIONS, *_POLYNOMIALS)}


def _float_dtype(name: str, input, other) -> np.dtype:
    """The dtype torch computes ``name`` of ``input`` and ``other`` in: their promoted dtype,
    the default float dtype for integers and bools; torch's kernels take float32 and float64."""
    dtype = _dtypes.result_type(input, other)
    if not _dtypes.is_inexact(dtype):
        dtype = _dtypes.get_default_dtype()
    if dtype not in (_dtypes.float32, _dtypes.float64):
        raise NotImplementedError(
            f"\"{name}_cpu\" not implemented for '{_dtypes.scalar_name(dtype)}'")
    return dtype


def _function(name: str):
    op = KERNELS[name]

    def fn(input) -> Tensor:
        return apply(op, input, dtype=_float_dtype(name, input, input))

    fn.__name__ = fn.__qualname__ = name
    description, example = _FUNCTIONS[name]
    fn.__doc__ = f"""{description}, elementwise, as torch computes it.

    Args:
        input: a tensor (integers and bools compute in the default float dtype).

    Returns:
        A float32 or float64 tensor, outside the graph: torch gives it no derivative.

    Raises:
        NotImplementedError: for half precision and complex inputs, as torch's CPU kernel.

    >>> import funcgrad
    >>> funcgrad.special.{name}(funcgrad.tensor([0.5, 2.0]))
    {example}
    """
    return fn


def _polynomial(name: str):
    op = KERNELS[name]

    def fn(input, n) -> Tensor:
        return apply(op, input, n, dtype=_float_dtype(name, input, n))

    fn.__name__ = fn.__qualname__ = name
    description, example = _POLYNOMIALS[name]
    fn.__doc__ = f"""{description} of degree ``n`` at ``input``, elementwise, by torch's
    recurrence and its closed forms.

    Args:
        input: a tensor or a number.
        n: the degree, a tensor or a number, broadcast with ``input``: truncated toward zero
            (as torch converts it to an integer); a negative, infinite or NaN degree gives 0.

    Returns:
        A tensor of ``input`` and ``n``'s promoted dtype (the default float dtype for integers),
        outside the graph: torch gives it no derivative.

    Raises:
        NotImplementedError: for half precision and complex dtypes, as torch's CPU kernel.

    >>> import funcgrad
    >>> funcgrad.special.{name}(funcgrad.tensor([0.5, 2.0]), 3)
    {example}
    """
    return fn


(airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1, modified_bessel_i0, modified_bessel_i1,
 modified_bessel_k0, modified_bessel_k1, scaled_modified_bessel_k0, scaled_modified_bessel_k1,
 spherical_bessel_j0) = (_function(name) for name in _FUNCTIONS)
(chebyshev_polynomial_t, chebyshev_polynomial_u, chebyshev_polynomial_v, chebyshev_polynomial_w,
 shifted_chebyshev_polynomial_t, shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v,
 shifted_chebyshev_polynomial_w, hermite_polynomial_h, hermite_polynomial_he,
 laguerre_polynomial_l, legendre_polynomial_p) = (_polynomial(name) for name in _POLYNOMIALS)

"""``funcgrad.special``: torch.special's functions, the ones funcgrad already has under another
name re-exported, the rest new ops over ``jax.scipy.special`` with torch's ``grad_fn`` names.

torch's ``bessel_j0`` and ``bessel_j1`` are left out: ``jax.scipy.special.bessel_jn`` is NaN
in float32 for ordinary arguments.

>>> import funcgrad
>>> funcgrad.special.ndtr(funcgrad.tensor([0.0]))
tensor([0.5000])
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import jax.scipy.special as jss

from ._graph import Op, apply
from ._math_ops import i0 as i0
from ._math_ops import mvlgamma as multigammaln
from ._math_ops import polygamma as polygamma
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

__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1",
           "gammainc", "gammaincc", "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr",
           "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma",
           "psi", "round", "sinc", "softmax", "xlog1py", "xlogy", "zeta"]

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
# torch.special.round is round(decimals=0), which torch records as RoundBackward1.
ROUND = Op("special_round", lambda x, decimals: jnp.round(x, decimals), "RoundBackward1",
           saves=False)


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


def round(input, *, decimals: int = 0) -> Tensor:
    """``input`` rounded half to even, to ``decimals`` decimal places."""
    return apply(ROUND, input, decimals=int(decimals))

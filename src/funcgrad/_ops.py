"""The ops table: each op's JAX function, torch's ``grad_fn`` name, and whether it is
differentiable. Module functions (``funcgrad.sin``) and Tensor methods (``x.sin()``, ``x ** 2``)
are generated from the table or are thin functions over it; every VJP comes from JAX.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import math
import numbers
import warnings
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np

from . import _devices, _dtypes, _forward_ad, _graph, _layouts, _lazy, _legacy_types, return_types
from ._autocast import FP32, LOWER, NONE, autocast_policy
from ._factories import uninitialized, zeros
from ._grad_mode import is_grad_enabled
from ._graph import (
    Op,
    _Output,
    _type_name,
    apply,
    broadcast_shape,
    filled,
    raise_broadcast,
    raise_dim_out_of_range,
)
from ._tensor import Size, Tensor, check_not_inference


# ----- elementwise, one input ------------------------------------------------------------------
def _rsqrt(x):
    # lax.rsqrt takes floats only; torch (and jnp's functions) compute integers and bools in a
    # float dtype.
    return jax.lax.rsqrt(x if jnp.issubdtype(x.dtype, jnp.inexact)
                         else x.astype(jnp.result_type(x, 1.0)))


def _refuse_bool(what: str, *operands) -> None:
    # Checked where the op's function is traced (once per signature), so it costs no call
    # anything: JAX would negate or subtract bools as integers.
    bools = builtins.sum(getattr(a, "dtype", None) == jnp.bool_ for a in operands)
    if bools == 2:
        raise RuntimeError(f"{what}, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if bools:
        how = "on" if what == "Negation" else "with"
        raise RuntimeError(f"{what}, the `-` operator, {how} a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


def _neg(x):
    _refuse_bool("Negation", x)
    return jnp.negative(x)


def _real_only(fn, message: str, error: type[Exception] = NotImplementedError):
    """``fn``, refusing complex operands with torch's error (``{dtype}`` in ``message`` names
    their scalar type): JAX orders, rounds and clamps complex numbers by their real parts, where
    torch refuses them. Checked where the op's function is traced, as ``_refuse_bool``."""
    def checked(*operands, **static):
        for a in operands:
            dtype = getattr(a, "dtype", None)
            if dtype is not None and _dtypes.is_complex(dtype):
                raise error(message.format(dtype=_dtypes.scalar_name(dtype)))
        return fn(*operands, **static)

    return checked


def _abs(x):
    """``|x|``, whose derivative at 0 is torch's 0 (the sign's), not JAX's 1: so the kinks of
    everything built on it (``l1_loss``, the 1-norm, BCE with logits at 0, the Binomial at
    probability 1/2) match torch's gradients there."""
    if jnp.issubdtype(x.dtype, jnp.complexfloating) or x.dtype == jnp.bool_:
        return jnp.abs(x)
    return jnp.sign(x) * x


def _sgn(x):
    """torch's ``sgn``: the sign of a real, ``x / |x|`` (0 at 0) of a complex number. jnp.sign
    computes both, but its derivative is zero, right for reals only."""
    if not jnp.issubdtype(x.dtype, jnp.complexfloating):
        return jnp.sign(x)
    magnitude = jnp.abs(x)
    return jnp.where(magnitude == 0, 0, x / jnp.where(magnitude == 0, 1, magnitude))


def _inexact_only(name: str, fn):
    """``fn``, refusing integer and bool results with the error of torch's CPU kernel, which
    has none for them (JAX would compute in a float dtype or in integers). Checked where the
    op's function is traced, as ``_refuse_bool``."""
    def checked(*operands, **static):
        dtype = jnp.result_type(*operands)
        if not jnp.issubdtype(dtype, jnp.inexact):
            raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                      f"'{_dtypes.scalar_name(dtype)}'")
        return fn(*operands, **static)

    return checked


_UNARY = {
    "abs": (_abs, "AbsBackward0"),
    "neg": (_neg, "NegBackward0"),
    "exp": (jnp.exp, "ExpBackward0"),
    "exp2": (jnp.exp2, "Exp2Backward0"),
    "expm1": (jnp.expm1, "Expm1Backward0"),
    "log": (jnp.log, "LogBackward0"),
    "log1p": (jnp.log1p, "Log1PBackward0"),
    "log2": (jnp.log2, "Log2Backward0"),
    "log10": (jnp.log10, "Log10Backward0"),
    "sqrt": (jnp.sqrt, "SqrtBackward0"),
    "rsqrt": (_rsqrt, "RsqrtBackward0"),
    "square": (jnp.square, "PowBackward0"),
    "reciprocal": (jnp.reciprocal, "ReciprocalBackward0"),
    "sin": (jnp.sin, "SinBackward0"),
    "cos": (jnp.cos, "CosBackward0"),
    "tan": (jnp.tan, "TanBackward0"),
    "sinh": (jnp.sinh, "SinhBackward0"),
    "cosh": (jnp.cosh, "CoshBackward0"),
    "tanh": (jnp.tanh, "TanhBackward0"),
    "asin": (jnp.arcsin, "AsinBackward0"),
    "acos": (jnp.arccos, "AcosBackward0"),
    "atan": (jnp.arctan, "AtanBackward0"),
    "asinh": (jnp.arcsinh, "AsinhBackward0"),
    "acosh": (jnp.arccosh, "AcoshBackward0"),
    "atanh": (jnp.arctanh, "AtanhBackward0"),
    "erf": (jax.scipy.special.erf, "ErfBackward0"),
    "sigmoid": (jax.scipy.special.expit, "SigmoidBackward0"),  # jax.nn's takes floats only
    "relu": (_real_only(jax.nn.relu, "clamp is not supported for complex types"),
             "ReluBackward0"),
    "sign": (_real_only(jnp.sign, "Unlike NumPy, torch.sign is not intended to support complex "
                        "numbers. Please use torch.sgn instead."), "SignBackward0"),
    "floor": (_real_only(jnp.floor, "floor is not supported for complex inputs"),
              "FloorBackward0"),
    "ceil": (_real_only(jnp.ceil, "ceil is not supported for complex inputs"), "CeilBackward0"),
    "round": (_real_only(jnp.round, "\"round_vml_cpu\" not implemented for '{dtype}'"),
              "RoundBackward0"),
    "trunc": (_real_only(jnp.trunc, "trunc is not supported for complex inputs"),
              "TruncBackward0"),
    "erfc": (jax.scipy.special.erfc, "ErfcBackward0"),
    "erfinv": (jax.scipy.special.erfinv, "ErfinvBackward0"),
    "lgamma": (jax.scipy.special.gammaln, "LgammaBackward0"),
    "digamma": (jax.scipy.special.digamma, "DigammaBackward0"),
    "sinc": (jnp.sinc, "SincBackward0"),
    "deg2rad": (jnp.deg2rad, "Deg2RadBackward0"),
    "rad2deg": (jnp.rad2deg, "Rad2DegBackward0"),
    "frac": (_inexact_only("frac", lambda x: x - jnp.trunc(x)), "FracBackward0"),
    "sgn": (_sgn, "SgnBackward0"),
}
# Their VJPs need only the input's shape (negation, scaling, and the zero gradient of the step
# functions), so, as in torch, they save nothing and a second backward through them works.
# (Not sgn: of a complex input its gradient needs the input, and torch saves it.)
_SHAPE_ONLY = {"neg", "sign", "floor", "ceil", "round", "trunc", "deg2rad", "rad2deg", "frac"}
UNARY = {name: Op(name, fn, grad_fn, saves=name not in _SHAPE_ONLY)
         for name, (fn, grad_fn) in _UNARY.items()}


def _unary(name: str):
    op = UNARY[name]

    def fn(input):
        return apply(op, input)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}``; its backward node is ``{op.grad_fn}``."
    return fn


# ----- elementwise, two inputs -----------------------------------------------------------------
def _pow_name(x, y) -> str:
    if not hasattr(x, "shape"):
        return "PowBackward2"
    return "PowBackward0" if not hasattr(y, "shape") else "PowBackward1"


@functools.partial(_real_only, message="clamp is not supported for complex types")
def _clamp(x, lo, hi):
    # torch passes the gradient at the bounds themselves; jnp.clip would split it at ties.
    # The result has the promoted dtype: an integer tensor clamped to 0.5 is a float one.
    x = x.astype(jnp.result_type(*(a for a in (x, lo, hi) if a is not None)))
    if lo is not None:
        x = jnp.where(x < lo, jnp.asarray(lo, x.dtype), x)
    if hi is not None:
        x = jnp.where(x > hi, jnp.asarray(hi, x.dtype), x)
    return x


def _scalar_or_tensor(tensor_name: str, scalar_name: str):
    return lambda x, y, **_: tensor_name if hasattr(y, "shape") else scalar_name


ADD = Op("add", lambda x, y, alpha=1: x + (y if alpha == 1 else alpha * y), "AddBackward0",
         saves=False, numbers=True)
def _sub(x, y, alpha=1):
    _refuse_bool("Subtraction", x, y)
    return x - (y if alpha == 1 else alpha * y)


def _rsub(x, y, alpha=1):
    _refuse_bool("Subtraction", x, y)
    return y - (x if alpha == 1 else alpha * x)


SUB = Op("sub", _sub, "SubBackward0", saves=False, numbers=True)
RSUB = Op("rsub", _rsub, _scalar_or_tensor("RsubBackward0", "RsubBackward1"), saves=False,
          numbers=True)
MUL = Op("mul", jnp.multiply, "MulBackward0", numbers=True)
DIV = Op("div", jnp.true_divide, "DivBackward0", numbers=True)
FLOOR_DIV = Op("floor_divide", jnp.floor_divide, "NotImplemented", differentiable=False)


def _div_rounded(x, y, mode):
    if mode == "floor":
        return jnp.floor_divide(x, y)
    return jnp.trunc(jnp.true_divide(x, y)).astype(jnp.result_type(x, y))


# torch records a rounded division, with a zero gradient (as JAX's floor and trunc have).
DIV_ROUNDED = Op("div_rounded", _div_rounded, "DivBackward2")
REMAINDER = Op("remainder", jnp.remainder,
               _scalar_or_tensor("RemainderBackward1", "RemainderBackward0"))
# By a number: the gradient is 1, so nothing is saved (torch's RemainderBackward0).
REMAINDER_SCALAR = Op("remainder", jnp.remainder, "RemainderBackward0", saves=False,
                      numbers=True)
POW = Op("pow", jnp.power, _pow_name)
MAXIMUM = Op("maximum", _real_only(jnp.maximum, "maximum not implemented for complex tensors.",
                                   RuntimeError), "MaximumBackward0")
MINIMUM = Op("minimum", _real_only(jnp.minimum, "minimum not implemented for complex tensors.",
                                   RuntimeError), "MinimumBackward0")
ATAN2 = Op("atan2", jnp.arctan2, "Atan2Backward0")
HYPOT = Op("hypot", jnp.hypot, "HypotBackward0")
FMOD = Op("fmod", jnp.fmod, _scalar_or_tensor("FmodBackward1", "FmodBackward0"))
FMAX = Op("fmax", _real_only(jnp.fmax, "fmax not implemented for complex tensors.",
                             RuntimeError), "FmaxBackward0")
FMIN = Op("fmin", _real_only(jnp.fmin, "fmin not implemented for complex tensors.",
                             RuntimeError), "FminBackward0")


def _ldexp(x, exponent):
    """``x * 2**exponent`` in a float dtype (ints become the default float, as in torch)."""
    dtype = jnp.result_type(x, exponent)
    if not jnp.issubdtype(dtype, jnp.inexact):
        dtype = _dtypes.get_default_dtype()
    return x.astype(dtype) * jnp.exp2(jnp.asarray(exponent).astype(dtype))


LDEXP = Op("ldexp", _ldexp, "LdexpBackward0")
# frexp: the exponent first (not differentiable), then the mantissa x / 2**exponent from it
FREXP_EXPONENT = Op("frexp_exponent", lambda x: jnp.frexp(x)[1], "", differentiable=False)
FREXP_MANTISSA = Op("frexp", lambda x, exponent: jnp.where(
    jnp.isfinite(x), x / jnp.exp2(exponent.astype(x.dtype)), x), "FrexpBackward0")
# torch records a node whose backward is not implemented; here the result is outside the graph
NEXTAFTER = Op("nextafter", jnp.nextafter, "", differentiable=False)
LERP = Op("lerp", lambda x, end, weight: x + weight * (end - x),
          lambda x, end, weight: "LerpBackward1" if hasattr(weight, "shape") else "LerpBackward0")
ISCLOSE = Op("isclose", jnp.isclose, "", differentiable=False)
CLAMP = Op("clamp", lambda x, lo=None, hi=None: _clamp(x, lo, hi), "ClampBackward1")
CLAMP_T = Op("clamp_tensor", _clamp, "ClampBackward0")
CLAMP_MIN = Op("clamp_min", lambda x, lo: _clamp(x, lo, None),
               _scalar_or_tensor("ClampMinBackward1", "ClampMinBackward0"))
CLAMP_MAX = Op("clamp_max", lambda x, hi: _clamp(x, None, hi),
               _scalar_or_tensor("ClampMaxBackward1", "ClampMaxBackward0"))
NAN_TO_NUM = Op("nan_to_num", jnp.nan_to_num, "NanToNumBackward0")
ADDCMUL = Op("addcmul", lambda x, a, b, value: x + value * a * b, "AddcmulBackward0")
ADDCDIV = Op("addcdiv", lambda x, a, b, value: x + value * a / b, "AddcdivBackward0")
WHERE = Op("where", jnp.where, "WhereBackward0")
MASKED_FILL = Op("masked_fill", lambda x, mask, v: jnp.where(mask, jnp.asarray(v, x.dtype), x),
                 "MaskedFillBackward0")
_ORDERINGS = {name: _real_only(fn, f"\"{name}_cpu\" not implemented for '{{dtype}}'")
              for name, fn in dict(lt=jnp.less, le=jnp.less_equal, gt=jnp.greater,
                                   ge=jnp.greater_equal).items()}
COMPARE = {
    name: Op(name, fn, "", differentiable=False)
    for name, fn in dict(eq=jnp.equal, ne=jnp.not_equal, **_ORDERINGS,
                         logical_and=jnp.logical_and,
                         logical_or=jnp.logical_or, logical_xor=jnp.logical_xor).items()
}
LOGICAL_NOT = Op("logical_not", jnp.logical_not, "", differentiable=False)
ISNAN = Op("isnan", jnp.isnan, "", differentiable=False)
ISFINITE = Op("isfinite", jnp.isfinite, "", differentiable=False)
ISINF = Op("isinf", jnp.isinf, "", differentiable=False)
SIGNBIT = Op("signbit", jnp.signbit, "", differentiable=False)
LOGADDEXP = Op("logaddexp", _inexact_only("logaddexp", jnp.logaddexp), "LogaddexpBackward0")
LOGADDEXP2 = Op("logaddexp2", _inexact_only("logaddexp2", jnp.logaddexp2),
                "Logaddexp2Backward0")
XLOGY = Op("xlogy", jax.scipy.special.xlogy, lambda x, y: "XlogyBackward1" if not hasattr(
    x, "shape") else "XlogyBackward2" if not hasattr(y, "shape") else "XlogyBackward0")
COPYSIGN = Op("copysign", jnp.copysign, _scalar_or_tensor("CopysignBackward0",
                                                          "CopysignBackward1"))
# (jnp.heaviside computes integers in a float dtype; torch keeps theirs.)
HEAVISIDE = Op("heaviside", lambda x, v: jnp.heaviside(x, v).astype(jnp.result_type(x, v)),
               "NotImplemented", differentiable=False)
# torch clamps to [eps, 1 - eps] first; the gradient passes at the bounds, as clamp's does.
LOGIT = Op("logit", lambda x, eps: jax.scipy.special.logit(
    x if eps is None else _clamp(x, eps, 1 - eps)), "LogitBackward0")


def add(input, other, *, alpha=1) -> Tensor:
    """``input + alpha * other``, broadcasting."""
    return apply(ADD, input, other) if alpha == 1 else apply(ADD, input, other, alpha=alpha)


def sub(input, other, *, alpha=1) -> Tensor:
    """``input - alpha * other``, broadcasting."""
    return apply(SUB, input, other) if alpha == 1 else apply(SUB, input, other, alpha=alpha)


def mul(input, other) -> Tensor:
    """``input * other``, broadcasting."""
    return apply(MUL, input, other)


def div(input, other, *, rounding_mode=None) -> Tensor:
    """``input / other``; ``rounding_mode='floor'`` or ``'trunc'`` rounds the quotient."""
    if rounding_mode in ("floor", "trunc"):
        return apply(DIV_ROUNDED, input, other, mode=rounding_mode)
    return apply(DIV, input, other)


def floor_divide(input, other) -> Tensor:
    """``input // other`` (not differentiable, as in torch)."""
    return apply(FLOOR_DIV, input, other)


def remainder(input, other) -> Tensor:
    """Python-style ``input % other``."""
    return apply(REMAINDER if hasattr(other, "shape") else REMAINDER_SCALAR, input, other)


def pow(input, exponent) -> Tensor:
    """``input ** exponent``; either may be a number.

    >>> import funcgrad
    >>> funcgrad.pow(funcgrad.tensor([1.0, 2.0]), 3)
    tensor([1., 8.])
    """
    if (type(exponent) is builtins.int and exponent < 0 and isinstance(input, Tensor)
            and input.dtype.kind in "iu"):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return apply(POW, input, exponent)


def float_power(input, exponent) -> Tensor:
    """``pow`` in double precision: float64, or complex128 when either operand is complex.

    Raises:
        RuntimeError: while ``jax_enable_x64`` is off, which rules out 64-bit dtypes.
    """
    operands = (input, exponent)
    complex_ = builtins.any(_dtypes.is_complex(v.dtype) if isinstance(v, Tensor)
                            else isinstance(v, builtins.complex) for v in operands)
    dtype = _dtypes.complex128 if complex_ else _dtypes.float64
    return pow(*(to(v, dtype) if isinstance(v, Tensor) else v for v in operands))


def maximum(input, other) -> Tensor:
    """Elementwise maximum; at ties the gradient is split, as in torch."""
    return apply(MAXIMUM, input, other)


def minimum(input, other) -> Tensor:
    """Elementwise minimum; at ties the gradient is split, as in torch."""
    return apply(MINIMUM, input, other)


def atan2(input, other) -> Tensor:
    """Elementwise ``atan2(input, other)``."""
    return apply(ATAN2, input, other)


def hypot(input, other) -> Tensor:
    """Elementwise ``sqrt(input**2 + other**2)``, without overflow in the squares."""
    return apply(HYPOT, input, other)


def fmod(input, other) -> Tensor:
    """C-style remainder: the sign of ``input`` (``remainder`` takes the sign of ``other``)."""
    return apply(FMOD, input, other)


def fmax(input, other) -> Tensor:
    """Elementwise maximum that ignores NaN: the other value where one is NaN."""
    return apply(FMAX, input, other)


def fmin(input, other) -> Tensor:
    """Elementwise minimum that ignores NaN: the other value where one is NaN."""
    return apply(FMIN, input, other)


def ldexp(input, other) -> Tensor:
    """``input * 2**other``, in a floating-point dtype."""
    return apply(LDEXP, input, other)




def frexp(input) -> return_types.frexp:
    """``(mantissa, exponent)`` with ``input = mantissa * 2**exponent``, ``|mantissa|`` in
    [0.5, 1) (0 for 0); the exponent is int32."""
    if not _dtypes.is_floating(input.dtype):
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    exponent = apply(FREXP_EXPONENT, input)
    return return_types.frexp(apply(FREXP_MANTISSA, input, exponent), exponent)


def nextafter(input, other) -> Tensor:
    """The next floating-point value after ``input`` towards ``other``."""
    return apply(NEXTAFTER, input, other)


def lerp(input, end, weight) -> Tensor:
    """``input + weight * (end - input)``; ``weight`` is a number or a tensor."""
    return apply(LERP, input, end, weight)


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """Elementwise ``|input - other| <= atol + rtol * |other|``."""
    return apply(ISCLOSE, input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether ``isclose`` holds everywhere (a Python bool: this reads the values)."""
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan).all())


def clamp(input, min=None, max=None) -> Tensor:
    """Limits values to ``[min, max]`` (numbers or tensors); the gradient passes inside the
    closed interval, as in torch.

    >>> import funcgrad
    >>> funcgrad.clamp(funcgrad.tensor([-1.0, 0.5, 2.0]), 0.0, 1.0)
    tensor([0.0000, 0.5000, 1.0000])
    """
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, (Tensor, jax.Array)) or isinstance(max, (Tensor, jax.Array)):
        return apply(CLAMP_T, input, min, max)
    return apply(CLAMP, input, lo=min, hi=max)


clip = clamp


def clamp_min(input, min) -> Tensor:
    """``clamp(input, min=min)``; ``min`` is a number or a tensor."""
    return apply(CLAMP_MIN, input, min)


def clamp_max(input, max) -> Tensor:
    """``clamp(input, max=max)``; ``max`` is a number or a tensor."""
    return apply(CLAMP_MAX, input, max)


def nan_to_num(input, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaNs replaced by ``nan`` and infinities by ``posinf``/``neginf`` (the dtype's largest
    and smallest finite values by default)."""
    return apply(NAN_TO_NUM, input, nan=nan, posinf=posinf, neginf=neginf)


def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value * tensor1 * tensor2``."""
    return apply(ADDCMUL, input, tensor1, tensor2, value)


def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value * tensor1 / tensor2``."""
    return apply(ADDCDIV, input, tensor1, tensor2, value)


def dist(input, other, p=2) -> Tensor:
    """The ``p``-norm of ``input - other``."""
    return apply(DIST, input, other, ord=p)


def where(condition, input=None, other=None):
    """``input`` where ``condition`` holds, else ``other``; with one argument, the indices
    where ``condition`` holds (as ``nonzero(as_tuple=True)``)."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    return apply(WHERE, condition, input, other)


def masked_fill(input, mask, value) -> Tensor:
    """``input`` with ``value`` where ``mask`` is True."""
    try:
        return apply(MASKED_FILL, input, mask, value)
    except RuntimeError:
        raise_broadcast([mask.shape, input.shape])  # torch names the mask first
        raise


def logaddexp(input, other) -> Tensor:
    """``log(exp(input) + exp(other))``, computed stably.

    >>> import funcgrad
    >>> funcgrad.logaddexp(funcgrad.tensor([0.0, 100.0]), funcgrad.tensor([0.0, 100.0]))
    tensor([  0.6931, 100.6931])
    """
    return apply(LOGADDEXP, input, other)


def logaddexp2(input, other) -> Tensor:
    """``log2(2**input + 2**other)``, computed stably."""
    return apply(LOGADDEXP2, input, other)


def xlogy(input, other) -> Tensor:
    """``input * log(other)``, zero where ``input`` is zero; either may be a number."""
    return apply(XLOGY, input, other)


def copysign(input, other) -> Tensor:
    """``|input|`` with the sign of ``other`` (a tensor or a number); no gradient flows to
    ``other``."""
    return apply(COPYSIGN, input, other)


def heaviside(input, values) -> Tensor:
    """The step function: 0 below zero, 1 above, ``values`` at zero (not differentiable)."""
    if input.dtype != values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    return apply(HEAVISIDE, input, values)


def logit(input, eps=None) -> Tensor:
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given."""
    return apply(LOGIT, input, eps=eps)


def signbit(input) -> Tensor:
    """Where the sign bit is set (negative numbers, and -0.0)."""
    return apply(SIGNBIT, input)


# ----- reductions ------------------------------------------------------------------------------
def _wrap_dim(dim, ndim: int) -> int:
    """``dim`` as an index into ``max(ndim, 1)`` dimensions (negative counts from the end), or
    torch's error when the tensor has no such dimension."""
    rank, dim = builtins.max(ndim, 1), builtins.int(dim)
    if not -rank <= dim < rank:
        raise_dim_out_of_range(dim, ndim)
    return dim % rank


def _dims(dim):
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        return tuple(builtins.int(d) for d in dim) or None
    return builtins.int(dim)


def _axis(input, dim):
    """``_dims(dim)``, checked, where torch lets dim 0 or -1 name a 0-d tensor's one element:
    no axis."""
    axes = _dims(dim)
    if axes is None:
        return None
    for d in (axes,) if isinstance(axes, builtins.int) else axes:
        _wrap_dim(d, input.ndim)
    return axes if input.ndim > 0 else ()


def _reduce_name(plain: str, with_dim: str):
    return lambda *a, axis=None, **_: plain if axis is None else with_dim


# Reductions take JAX's own keywords (axis, keepdims, ddof, dtype) as static arguments.
SUM = Op("sum", jnp.sum, _reduce_name("SumBackward0", "SumBackward1"), saves=False)
MEAN = Op("mean", jnp.mean, _reduce_name("MeanBackward0", "MeanBackward1"), saves=False)
PROD = Op("prod", jnp.prod, _reduce_name("ProdBackward0", "ProdBackward1"))
AMAX = Op("amax", _real_only(jnp.max, "\"max_values_cpu\" not implemented for '{dtype}'"),
          "AmaxBackward0")
AMIN = Op("amin", _real_only(jnp.min, "\"min_values_cpu\" not implemented for '{dtype}'"),
          "AminBackward0")
MAX_ALL = Op("max", _real_only(jnp.max, "\"max_all\" not implemented for '{dtype}'"),
             "MaxBackward1")
MIN_ALL = Op("min", _real_only(jnp.min, "\"min_all\" not implemented for '{dtype}'"),
             "MinBackward1")
# max/min along a dim send the gradient to the index they return, not split between ties.
MAX_DIM = Op("max_dim", lambda x, i, axis, keepdims: jnp.take_along_axis(
    x, jnp.expand_dims(i, axis), axis) if keepdims else jnp.squeeze(
    jnp.take_along_axis(x, jnp.expand_dims(i, axis), axis), axis), "MaxBackward0")
ARGMAX = Op("argmax", _real_only(jnp.argmax, "argmax(): does not support complex input",
                                 RuntimeError), "", differentiable=False)
ARGMIN = Op("argmin", _real_only(jnp.argmin, "argmin(): does not support complex input",
                                 RuntimeError), "", differentiable=False)
ALL = Op("all", jnp.all, "", differentiable=False)
ANY = Op("any", jnp.any, "", differentiable=False)
VAR = Op("var", jnp.var, "VarBackward0")
STD = Op("std", jnp.std, "StdBackward0")
LOGSUMEXP = Op("logsumexp", jax.nn.logsumexp, "LogsumexpBackward0")
CUMSUM = Op("cumsum", lambda x, axis: jnp.cumsum(x, axis=axis), "CumsumBackward0", saves=False)
CUMPROD = Op("cumprod", lambda x, axis: jnp.cumprod(x, axis=axis), "CumprodBackward0")


def _vector_norm(x, ord=2, axis=None, keepdims=False):
    if ord == math.inf:
        return jnp.max(_abs(x), axis=axis, keepdims=keepdims)
    if ord == -math.inf:
        return jnp.min(_abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return jnp.sum(x != 0, axis=axis, keepdims=keepdims).astype(x.dtype)
    # sum(|x|^p)^(1/p) with a zero-safe gradient: torch's gradient of the norm at 0 is 0 (a
    # NaN or infinite sum stays as it is).
    total = jnp.sum(jnp.square(x) if ord == 2 else _abs(x) ** ord, axis=axis,
                    keepdims=keepdims)
    zero = total == 0
    root = jnp.sqrt if ord == 2 else (lambda t: t ** (1.0 / ord))
    return jnp.where(zero, 0, root(jnp.where(zero, 1, total)))


NORM = Op("norm", _vector_norm, "LinalgVectorNormBackward0")
DIST = Op("dist", lambda x, y, ord: _vector_norm(x - y, ord), "DistBackward0")
NANSUM = Op("nansum", jnp.nansum, "NansumBackward0")
COUNT_NONZERO = Op("count_nonzero", jnp.count_nonzero, "", differentiable=False)
LOGCUMSUMEXP = Op("logcumsumexp", lambda x, axis: jax.lax.cumlogsumexp(x, axis=axis),
                  "LogcumsumexpBackward0")



def _check_mean_dtype(input, name: str) -> None:
    dtype = input.dtype if hasattr(input, "dtype") else np.dtype(type(input))
    if not (_dtypes.is_floating(dtype) or _dtypes.is_complex(dtype)):
        raise RuntimeError(
            f"{name}(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {_dtypes.scalar_name(dtype)}"
        )


def sum(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum of all elements, or along ``dim`` (an int or a tuple).

    >>> import funcgrad
    >>> funcgrad.tensor([[1.0, 2.0], [3.0, 4.0]]).sum(1)
    tensor([3., 7.])
    """
    return apply(SUM, input, axis=_axis(input, dim), keepdims=keepdim, dtype=dtype)


def mean(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean of all elements, or along ``dim``.

    >>> import funcgrad
    >>> funcgrad.tensor([1.0, 2.0, 4.0]).mean()
    tensor(2.3333)
    """
    if dtype is None:
        _check_mean_dtype(input, "mean")
    return apply(MEAN, input, axis=_axis(input, dim), keepdims=keepdim, dtype=dtype)


@autocast_policy(FP32)
def prod(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product of all elements, or along ``dim``."""
    return apply(PROD, input, axis=_axis(input, dim), keepdims=keepdim, dtype=dtype)


def _check_reducible(name: str, input, dim, error=RuntimeError) -> None:
    """torch's error for a reduction with no identity (max, argmax…) of no elements."""
    if dim is None or dim == ():
        if input.numel() == 0:
            raise error(f"{name}(): Expected reduction dim to be specified for input.numel() == "
                        "0." + (" Specify the reduction dim with the 'dim' argument."
                                if error is RuntimeError else ""))
    elif not isinstance(dim, (Tensor, jax.Array)):
        for d in (dim,) if isinstance(dim, builtins.int) else dim:
            if input.ndim and input.shape[_wrap_dim(d, input.ndim)] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _max_min(input, dim, keepdim, all_op, arg_op, result, name):
    if isinstance(dim, (Tensor, jax.Array)):  # max(a, b): elementwise
        return (maximum if name == "MaxBackward0" else minimum)(input, dim)
    _check_reducible(name[:3].lower(), input, dim)
    if dim is not None and _dtypes.is_complex(input.dtype):
        raise RuntimeError(f"{name[:3].lower()}(): does not support complex input")
    if dim is None:
        return apply(all_op, input)
    axis = builtins.int(dim)
    _wrap_dim(axis, input.ndim)
    indices = apply(arg_op, input, axis=axis, keepdims=False)
    values = apply(_TAKE_DIM[name], input, indices, axis=axis, keepdims=keepdim)
    if keepdim:
        indices = unsqueeze(indices, axis)
    return result(values, indices)


_TAKE_DIM = {
    "MaxBackward0": MAX_DIM,
    "MinBackward0": Op("min_dim", MAX_DIM.fn, "MinBackward0"),
}


def max(input, dim=None, keepdim: bool = False):
    """The largest element; along ``dim``, a ``(values, indices)`` named tuple; given a tensor
    as second argument, the elementwise maximum."""
    return _max_min(input, dim, keepdim, MAX_ALL, ARGMAX, return_types.max, "MaxBackward0")


def min(input, dim=None, keepdim: bool = False):
    """The smallest element; along ``dim``, a ``(values, indices)`` named tuple; given a tensor
    as second argument, the elementwise minimum."""
    return _max_min(input, dim, keepdim, MIN_ALL, ARGMIN, return_types.min, "MinBackward0")


def amax(input, dim=(), keepdim: bool = False) -> Tensor:
    """Largest values along ``dim`` (all dims by default); ties share the gradient."""
    _check_reducible("amax", input, dim)
    return apply(AMAX, input, axis=_axis(input, dim), keepdims=keepdim)


def amin(input, dim=(), keepdim: bool = False) -> Tensor:
    """Smallest values along ``dim`` (all dims by default); ties share the gradient."""
    _check_reducible("amin", input, dim)
    return apply(AMIN, input, axis=_axis(input, dim), keepdims=keepdim)


def argmax(input, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (in the flattened tensor when ``dim`` is None)."""
    _axis(input, dim)
    _check_reducible("argmax", input, dim, IndexError)
    return apply(ARGMAX, input, axis=_dims(dim), keepdims=keepdim and dim is not None)


def argmin(input, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (in the flattened tensor when ``dim`` is None)."""
    _axis(input, dim)
    _check_reducible("argmin", input, dim, IndexError)
    return apply(ARGMIN, input, axis=_dims(dim), keepdims=keepdim and dim is not None)


def _order(x, axis, descending, k=None):
    """The indices sorting ``x`` along ``axis`` (ties in their order), the first ``k``."""
    order = jnp.argsort(x, axis=axis, descending=descending, stable=True)
    return order if k is None else jnp.take(order, jnp.arange(k), axis=axis)


# The values of a sort or top-k are the input at the indices, so the gradient goes back there.
ORDER = Op("argsort", _real_only(_order, " Sort does not support complex dtypes on CPU",
                                 RuntimeError), "", differentiable=False)
SORTED = Op("sort", lambda x, i, axis: jnp.take_along_axis(x, i, axis=axis), "SortBackward0")
TOPK = Op("topk", SORTED.fn, "TopkBackward0")


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (always stably: equal elements keep
    their order, which torch promises only with ``stable=True``)."""
    return apply(ORDER, input, axis=builtins.int(dim), descending=builtins.bool(descending))


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """``(values, indices)`` of ``input`` sorted along ``dim`` (stably, as ``argsort``)."""
    indices = argsort(input, dim, descending)
    return return_types.sort(apply(SORTED, input, indices, axis=builtins.int(dim)), indices)


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """``(values, indices)`` of the ``k`` largest (or smallest) elements along ``dim``,
    largest first."""
    axis, k = _wrap_dim(dim, input.ndim), builtins.int(k)
    if not 0 <= k <= (input.shape[axis] if input.ndim else 1):
        raise RuntimeError("selected index k out of range")
    indices = apply(ORDER, input, axis=axis, descending=builtins.bool(largest), k=k)
    return return_types.topk(apply(TOPK, input, indices, axis=axis), indices)


def all(input, dim=None, keepdim: bool = False) -> Tensor:
    """Whether every element (along ``dim``) is true."""
    return apply(ALL, input, axis=_axis(input, dim), keepdims=keepdim)


def any(input, dim=None, keepdim: bool = False) -> Tensor:
    """Whether some element (along ``dim``) is true."""
    return apply(ANY, input, axis=_axis(input, dim), keepdims=keepdim)


def _correction(unbiased, correction) -> int:
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance (Bessel-corrected unless ``unbiased=False`` or ``correction=0``)."""
    return apply(VAR, input, axis=_axis(input, dim), ddof=_correction(unbiased, correction),
                 keepdims=keepdim)


def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation (Bessel-corrected unless ``unbiased=False`` or ``correction=0``)."""
    return apply(STD, input, axis=_axis(input, dim), ddof=_correction(unbiased, correction),
                 keepdims=keepdim)


def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """The vector p-norm over ``dim`` (all elements by default; ``'fro'`` is the 2-norm, over
    at most two dims), or, for ``'nuc'``, ``linalg.matrix_norm``: torch's dispatch. Computed
    in ``dtype`` when given."""
    if p == "nuc" or p == "fro" and not (dim is None or isinstance(dim, int) or len(dim) <= 2):
        from . import linalg  # (which builds on this module)

        dims = range(input.ndim) if dim is None else (dim,) if isinstance(dim, int) else dim
        return linalg.matrix_norm(input, p, tuple(dims), keepdim, dtype=dtype)
    input = in_dtype("linalg.vector_norm", input, dtype)
    _check_inexact("linalg.vector_norm", input)
    ord = 2 if p in ("fro", None) else p
    return apply(NORM, input, ord=ord, axis=_axis(input, dim), keepdims=keepdim)


def in_dtype(name: str, A, dtype):
    """``A`` in the ``dtype`` a norm is asked to compute in, checked as torch checks it."""
    if dtype is None:
        return A
    dtype = _dtypes.resolve(dtype)
    if not _dtypes.is_inexact(dtype):
        raise RuntimeError(f"{name}: dtype should be floating point or complex, but got "
                           f"{_dtypes.scalar_name(dtype)}")
    kind = "complex" if _dtypes.is_complex(A.dtype) else "real"
    if _dtypes.is_complex(A.dtype) != _dtypes.is_complex(dtype):
        raise RuntimeError(f"{name}: dtype should be {kind} for {kind} inputs, but got "
                           f"{_dtypes.scalar_name(dtype)}")
    if jnp.promote_types(A.dtype, dtype) != dtype:
        raise RuntimeError(f"{name}: the dtype of the input ({_dtypes.scalar_name(A.dtype)}) "
                           "should be convertible without narrowing to the specified dtype "
                           f"({_dtypes.scalar_name(dtype)})")
    return A.to(dtype)


def logsumexp(input, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(input)))`` along ``dim``, computed stably."""
    return apply(LOGSUMEXP, input, axis=_axis(input, dim), keepdims=keepdim)


def cumsum(input, dim) -> Tensor:
    """Cumulative sum along ``dim``."""
    return apply(CUMSUM, input, axis=builtins.int(dim))


def logcumsumexp(input, dim) -> Tensor:
    """``log(cumsum(exp(input)))`` along ``dim``, computed stably."""
    return apply(LOGCUMSUMEXP, input, axis=_wrap_dim(dim, input.ndim))


def nansum(input, dim=None, keepdim: bool = False) -> Tensor:
    """The sum, NaNs counted as zero (and given a zero gradient)."""
    return apply(NANSUM, input, axis=_axis(input, dim), keepdims=keepdim)


def count_nonzero(input, dim=None) -> Tensor:
    """How many elements (along ``dim``) are not zero."""
    return apply(COUNT_NONZERO, input, axis=_dims(dim))


def cumprod(input, dim) -> Tensor:
    """Cumulative product along ``dim``."""
    return apply(CUMPROD, input, axis=builtins.int(dim))


def _median_index(x, axis, ignore_nan: bool):
    """The index of the median (the lower one of an even count) along ``axis`` (of the
    flattened ``x`` when None): of the non-NaN values with ``ignore_nan``, else of the first
    NaN where there is one, as torch's median propagates NaN."""
    if axis is None:
        if x.size == 0:
            return jnp.asarray(0)  # of nothing: MEDIAN makes the value NaN
        x, axis = x.ravel(), 0
    nan = jnp.isnan(x)
    count = jnp.sum(~nan, axis) if ignore_nan else x.shape[axis]
    k = jnp.broadcast_to(jnp.maximum((count - 1) // 2, 0), nan.shape[:axis] + nan.shape[axis + 1:])
    order = _order(x, axis, False)  # NaNs last
    i = jnp.squeeze(jnp.take_along_axis(order, jnp.expand_dims(k, axis), axis), axis)
    return i if ignore_nan else jnp.where(jnp.any(nan, axis), jnp.argmax(nan, axis), i)


def _cum_extreme_index(x, axis: int, largest: bool):
    """The index of the running maximum (minimum) along ``axis``: the last of equal values
    (a 0-d ``x``'s one element is its own)."""
    flat = jnp.atleast_1d(x)
    best = jax.lax.cummax(flat, axis) if largest else jax.lax.cummin(flat, axis)
    position = jnp.arange(flat.shape[axis]).reshape((-1,) + (1,) * (flat.ndim - axis - 1))
    return jax.lax.cummax(jnp.where(flat == best, position, 0), axis).reshape(x.shape)


def _searchsorted(seq, values, side: str, dtype):
    if seq.ndim == 1:
        return jnp.searchsorted(seq, values, side=side).astype(dtype)
    # One search per leading index: torch requires seq's and values' leading dims equal.
    rows = jax.vmap(lambda s, v: jnp.searchsorted(s, v, side=side))(
        seq.reshape(-1, seq.shape[-1]), values.reshape(-1, values.shape[-1]))
    return rows.reshape(values.shape).astype(dtype)


MEDIAN_INDEX = Op("median_index", _median_index, "", differentiable=False)
KTH_INDEX = Op("kth_index", lambda x, axis, k: jnp.take(_order(x, axis, False), k, axis=axis),
               "", differentiable=False)
CUM_EXTREME_INDEX = Op("cum_extreme_index", _cum_extreme_index, "", differentiable=False)
# The values are the input at the indices, so the gradient goes back there, as for max(dim).
MEDIAN = Op("median", lambda x, i: x.ravel()[i] if x.size else jnp.full((), jnp.nan, x.dtype),
            "MedianBackward0")
NANMEDIAN = Op("nanmedian", MEDIAN.fn, "NanmedianBackward0")
_AT_INDEX = {name: Op(name, MAX_DIM.fn, grad_fn) for name, grad_fn in dict(
    median="MedianBackward1", nanmedian="NanmedianBackward1", kthvalue="KthvalueBackward0").items()}
CUMMAX = Op("cummax", lambda x, i, axis: jnp.take_along_axis(
    jnp.atleast_1d(x), jnp.atleast_1d(i), axis).reshape(x.shape), "CummaxBackward0")
CUMMIN = dataclasses.replace(CUMMAX, name="cummin", grad_fn="CumminBackward0")
QUANTILE = Op("quantile", lambda x, q, axis, keepdims, method, ignore_nan: (
    jnp.nanquantile if ignore_nan else jnp.quantile)(x, q, axis=axis, keepdims=keepdims,
                                                     method=method), "SqueezeBackward4")
VAR_MEAN = (dataclasses.replace(VAR, grad_fn="VarMeanBackward0"),
            dataclasses.replace(MEAN, grad_fn="VarMeanBackward0"))
STD_MEAN = (dataclasses.replace(STD, grad_fn="StdMeanBackward0"),
            dataclasses.replace(MEAN, grad_fn="StdMeanBackward0"))
AMINMAX = (dataclasses.replace(AMIN, grad_fn="AminmaxBackward0"),
           dataclasses.replace(AMAX, grad_fn="AminmaxBackward0"))
SEARCHSORTED = Op("searchsorted", _searchsorted, "", differentiable=False)
CDIST = Op("cdist", lambda a, b, ord: _vector_norm(a[..., :, None, :] - b[..., None, :, :], ord,
                                                   axis=-1), "CdistBackward0")


def _at_index(name: str, input, dim, keepdim: bool, index_op: Op, **index_args):
    """``(values, indices)`` along ``dim``, the indices from ``index_op``: as ``max(dim)``,
    a 0-d tensor's dim 0 being its one element."""
    _check_reducible(name, input, dim)
    axis = _wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        input, keepdim = reshape(input, 1), False
    indices = apply(index_op, input, axis=axis, **index_args)
    values = apply(_AT_INDEX[name], input, indices, axis=axis, keepdims=keepdim)
    return getattr(return_types, name)(values, unsqueeze(indices, axis) if keepdim else indices)


def median(input, dim=None, keepdim: bool = False):
    """The median (the lower of the two middle values of an even count), NaN where there is
    one; along ``dim``, a ``(values, indices)`` named tuple.

    >>> import funcgrad
    >>> funcgrad.median(funcgrad.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 0.0]]), 1)
    funcgrad.return_types.median(
    values=tensor([2., 3.]),
    indices=tensor([2, 1]))
    """
    if dim is None:
        return apply(MEDIAN, input, apply(MEDIAN_INDEX, input, axis=None, ignore_nan=False))
    return _at_index("median", input, dim, keepdim, MEDIAN_INDEX, ignore_nan=False)


def nanmedian(input, dim=None, keepdim: bool = False):
    """``median`` of the values that are not NaN."""
    if dim is None:
        return apply(NANMEDIAN, input, apply(MEDIAN_INDEX, input, axis=None, ignore_nan=True))
    return _at_index("nanmedian", input, dim, keepdim, MEDIAN_INDEX, ignore_nan=True)


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False):
    """``(values, indices)`` of the ``k``-th smallest element (from 1) along ``dim``."""
    axis = _wrap_dim(dim, input.ndim)
    if not 1 <= k <= (input.shape[axis] if input.ndim else 1):
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    return _at_index("kthvalue", input, dim, keepdim, KTH_INDEX, k=builtins.int(k) - 1)


def _cum_extreme(name: str, op: Op, input, dim):
    axis = _wrap_dim(dim, input.ndim)
    indices = apply(CUM_EXTREME_INDEX, input, axis=axis, largest=name == "cummax")
    return getattr(return_types, name)(apply(op, input, indices, axis=axis), indices)


def cummax(input, dim: int):
    """``(values, indices)`` of the running maximum along ``dim`` (ties: the last index).

    >>> import funcgrad
    >>> funcgrad.cummax(funcgrad.tensor([1.0, 3.0, 2.0, 5.0]), 0)
    funcgrad.return_types.cummax(
    values=tensor([1., 3., 3., 5.]),
    indices=tensor([0, 1, 1, 3]))
    """
    return _cum_extreme("cummax", CUMMAX, input, dim)


def cummin(input, dim: int):
    """``(values, indices)`` of the running minimum along ``dim`` (ties: the last index)."""
    return _cum_extreme("cummin", CUMMIN, input, dim)


def nanmean(input, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The mean of the values that are not NaN (along ``dim``)."""
    if dtype is None and not _dtypes.is_inexact(input.dtype):
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {_dtypes.scalar_name(input.dtype)}")
    x = input if dtype is None else to(input, dtype)
    return div(nansum(x, dim, keepdim), sum(logical_not(isnan(x)), dim, keepdim))


def _quantile(name: str, input, q, dim, keepdim: bool, interpolation: str, ignore_nan: bool):
    if not _dtypes.is_floating(input.dtype):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if isinstance(q, (builtins.int, builtins.float)) and not 0 <= q <= 1:
        raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
    axis = None if dim is None else _wrap_dim(dim, input.ndim)
    return apply(QUANTILE, input, q, axis=axis, keepdims=keepdim, method=interpolation,
                 ignore_nan=ignore_nan)


@autocast_policy(FP32)
def quantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    """The ``q``-th quantiles (``q`` a number or a 1-D tensor, in [0, 1]) along ``dim`` (of
    all elements when None); several ``q`` make the first dimension."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, False)


@autocast_policy(FP32)
def nanquantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    """``quantile`` of the values that are not NaN."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, True)


def var_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(var, mean)``, as ``var`` and ``mean`` compute them."""
    axis, ddof = _axis(input, dim), _correction(unbiased, correction)
    return (apply(VAR_MEAN[0], input, axis=axis, ddof=ddof, keepdims=keepdim),
            apply(VAR_MEAN[1], input, axis=axis, keepdims=keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(std, mean)``, as ``std`` and ``mean`` compute them."""
    axis, ddof = _axis(input, dim), _correction(unbiased, correction)
    return (apply(STD_MEAN[0], input, axis=axis, ddof=ddof, keepdims=keepdim),
            apply(STD_MEAN[1], input, axis=axis, keepdims=keepdim))


def aminmax(input, *, dim=None, keepdim: bool = False):
    """``(min, max)`` named tuple: ``amin`` and ``amax`` in one call."""
    if input.numel() == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    axis = _axis(input, dim)
    return return_types.aminmax(apply(AMINMAX[0], input, axis=axis, keepdims=keepdim),
                               apply(AMINMAX[1], input, axis=axis, keepdims=keepdim))


def searchsorted(sorted_sequence, input, *, out_int32: bool = False, right: bool = False,
                 side=None, sorter=None) -> Tensor:
    """Where ``input``'s values would go in ``sorted_sequence`` (its last dimension) to keep
    it sorted: before equal values, or after them with ``right=True`` or ``side='right'``.

    >>> import funcgrad
    >>> funcgrad.searchsorted(funcgrad.tensor([1.0, 2.0, 3.0]), funcgrad.tensor([0.5, 2.0, 2.5]))
    tensor([0, 1, 2])
    """
    if right and side == "left":
        raise RuntimeError(f"torch.searchsorted(): side and right can't be set to opposites, "
                           f"got side of {side} while right was True")
    seq_shape = tuple(sorted_sequence.shape)
    value_shape = tuple(input.shape) if isinstance(input, Tensor) else ()
    if len(seq_shape) > 1 and seq_shape[:-1] != value_shape[:-1]:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(seq_shape)} and input value tensor {list(value_shape)}")
    if sorter is not None:
        sorted_sequence = gather(sorted_sequence, -1, sorter)
    dtype = np.dtype(np.int32) if out_int32 else jax.dtypes.canonicalize_dtype(np.int64)
    return apply(SEARCHSORTED, sorted_sequence, input,
                 side="right" if right or side == "right" else "left", dtype=dtype)


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The index of each value's bucket between the 1-D ``boundaries``: ``searchsorted``
    with the arguments swapped."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


@autocast_policy(FP32)
def cdist(x1, x2, p: float = 2.0, compute_mode=None) -> Tensor:
    """The ``p``-norm distance between each row of ``x1`` and each row of ``x2`` (batches
    broadcast)."""
    if x1.ndim < 2 or x2.ndim < 2:
        which, t = ("X1", x1) if x1.ndim < 2 else ("X2", x2)
        raise RuntimeError(f"cdist only supports at least 2D tensors, {which} got: {t.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    for name, x in (("X1", x1), ("X2", x2)):
        if not _dtypes.is_floating(x.dtype):
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{_dtypes.scalar_name(x.dtype)}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    return apply(CDIST, x1, x2, ord=p)


# ----- linear algebra --------------------------------------------------------------------------
def _matmul_name(a, b) -> str:
    if a.ndim == 1 and b.ndim == 1:
        return "DotBackward0"
    if a.ndim == 2 and b.ndim == 2:
        return "MmBackward0"
    if a.ndim == 2 and b.ndim == 1:
        return "MvBackward0"
    if a.ndim == 1 and b.ndim == 2:
        return "SqueezeBackward4"
    # Beyond 2-D, torch folds the operands into a bmm and views the result back.
    return "UnsafeViewBackward0"


def _einsum_name(*operands, equation: str) -> str:
    """torch's einsum ends in a sum (one operand, an index summed out), a permute (one
    operand), a multiply (no index summed out) or a bmm whose result is viewed back."""
    lhs, arrow, out = equation.replace(" ", "").partition("->")
    letters = [c for c in lhs if c.isalpha()]
    if not arrow:
        out = "".join(c for c in letters if letters.count(c) == 1)
    summed = set(letters) - set(out)
    if lhs.count(",") == 0:
        return "SumBackward1" if summed else "PermuteBackward0"
    return "ViewBackward0" if summed else "MulBackward0"


def _logdet(a):
    sign, logabs = jnp.linalg.slogdet(a)
    return jnp.where(sign < 0, jnp.nan, logabs)  # torch: nan for a negative determinant


def _cholesky(a, upper: bool):
    lower = jnp.linalg.cholesky(a)
    return jnp.conj(jnp.swapaxes(lower, -1, -2)) if upper else lower


def _svd(a, full_matrices: bool):
    """torch's SVD; with ``full_matrices``, U's and Vh's columns past the k-th (a basis of the
    complement, arbitrary where that has more than one dimension) take no part in the gradient,
    as in torch."""
    u, s, vh = jnp.linalg.svd(a, full_matrices=False)
    if full_matrices and a.shape[-1] != a.shape[-2]:
        k = s.shape[-1]
        u_full, _, vh_full = jnp.linalg.svd(jax.lax.stop_gradient(a), full_matrices=True)
        u = jnp.concatenate([u, u_full[..., k:]], -1)
        vh = jnp.concatenate([vh, vh_full[..., k:, :]], -2)
    return u, s, vh


def _qr(a, complete: bool):
    m, n = a.shape[-2:]
    if m < n:
        # JAX differentiates the QR of tall and square matrices only; R's columns past the m-th
        # are Q^H times A's, which is how torch's derivative reads a wide matrix too.
        q, r = jnp.linalg.qr(a[..., :m])
        return q, jnp.concatenate([r, jnp.conj(jnp.swapaxes(q, -1, -2)) @ a[..., m:]], -1)
    return jnp.linalg.qr(a, mode="complete" if complete else "reduced")


# torch.linalg's: funcgrad.linalg calls them.
INV = Op("inv", jnp.linalg.inv, "LinalgInvExBackward0")
DET = Op("det", jnp.linalg.det, "LinalgDetBackward0")
LOGDET = Op("logdet", _logdet, "WhereBackward0")
SOLVE = Op("solve", jnp.linalg.solve, "LinalgSolveExBackward0")
CHOLESKY = Op("cholesky", _cholesky, "LinalgCholeskyExBackward0")
# torch.cholesky's (deprecated): its own node.
CHOLESKY_LEGACY = Op("cholesky_legacy", _inexact_only("cholesky", _cholesky), "CholeskyBackward0")
CROSS = Op("cross", lambda a, b, axis: jnp.cross(a, b, axis=axis), "LinalgCrossBackward0")
PINV = Op("pinv", jnp.linalg.pinv, "LinalgPinvBackward0")
MATRIX_EXP = Op("matrix_exp", _dtypes.in_float32(jax.scipy.linalg.expm),
                "LinalgMatrixExpBackward0")
# U, S, Vh (linalg.svd) and V (torch.svd), whose node torch names for the transpose.
SVD = (*(Op(f"svd_{i}", lambda a, full_matrices, i=i: _svd(a, full_matrices)[i],
            "LinalgSvdBackward0") for i in range(3)),
       Op("svd_v", lambda a, full_matrices: jnp.conj(jnp.swapaxes(_svd(a, full_matrices)[2], -1,
                                                                  -2)), "TransposeBackward0"))
SVDVALS = Op("svdvals", lambda a: jnp.linalg.svd(a, compute_uv=False), "LinalgSvdBackward0")
QR = tuple(Op(f"qr_{i}", lambda a, complete, i=i: _qr(a, complete)[i], "LinalgQrBackward0")
           for i in range(2))
SLOGDET = (Op("slogdet_sign", lambda a: jnp.linalg.slogdet(a)[0], "LinalgSlogdetBackward0"),
           Op("slogdet_logabsdet", lambda a: jnp.linalg.slogdet(a)[1], "LinalgSlogdetBackward0"))
MATMUL = Op("matmul", jnp.matmul, _matmul_name)
BMM = Op("bmm", jnp.matmul, "BmmBackward0")
OUTER = Op("outer", jnp.outer, "MulBackward0")
ADDMM = Op("addmm", lambda x, a, b, beta, alpha: beta * x + alpha * (a @ b), "AddmmBackward0")
ADDR = Op("addr", lambda x, v1, v2, beta, alpha: beta * x + alpha * jnp.outer(v1, v2),
          "AddrBackward0")
EINSUM = Op("einsum", lambda *xs, equation: jnp.einsum(equation, *xs), _einsum_name)
# torch computes these as a matrix product of reshaped operands, viewed back.
KRON = Op("kron", jnp.kron, "UnsafeViewBackward0")
TENSORDOT = Op("tensordot", lambda a, b, axes: jnp.tensordot(a, b, axes), "ViewBackward0")
INNER = Op("inner", jnp.inner, "ViewBackward0")
VDOT = Op("vdot", jnp.vdot, "VdotBackward0")


def _check_square(name: str, A) -> None:
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"{name}: A must be batches of square matrices, but they are {A.shape[-2]} by "
            f"{A.shape[-1]} matrices")


def _check_inexact(name: str, A) -> None:
    """torch's error for a tensor that is neither floating point nor complex."""
    if not _dtypes.is_inexact(A.dtype):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{_dtypes.scalar_name(A.dtype)}")


def _check_matrices(name: str, A) -> None:
    """torch's checks of a function of square matrices: their shape, then their dtype."""
    _check_square(name, A)
    _check_inexact(name, A)


def _check_decomposable(name: str, A) -> None:
    """torch's checks of a function of matrices of any shape: at least 2-D, then the dtype."""
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    _check_inexact(name, A)


@autocast_policy(FP32)
def inverse(input) -> Tensor:
    """The inverse of each square matrix (``funcgrad.linalg.inv``)."""
    _check_matrices("linalg.inv", input)
    return apply(INV, input)


@autocast_policy(FP32)
def det(input) -> Tensor:
    """The determinant of each square matrix (``funcgrad.linalg.det``)."""
    _check_matrices("linalg.det", input)
    return apply(DET, input)


@autocast_policy(FP32)
def logdet(input) -> Tensor:
    """The log of each square matrix's determinant: nan where it is negative."""
    _check_matrices("logdet", input)
    return apply(LOGDET, input)




@autocast_policy(FP32)
def slogdet(input):
    """``(sign, logabsdet)`` of each square matrix's determinant: its sign (0 when singular) and
    the log of its absolute value.

    >>> import funcgrad
    >>> funcgrad.slogdet(funcgrad.tensor([[0.0, 2.0], [3.0, 0.0]]))
    funcgrad.return_types.slogdet(
    sign=tensor(-1.),
    logabsdet=tensor(1.7918))
    """
    _check_matrices("linalg.slogdet", input)
    return return_types.slogdet(apply(SLOGDET[0], input), apply(SLOGDET[1], input))




@autocast_policy(FP32)
def svd(input, some: bool = True, compute_uv: bool = True):
    """torch.svd's ``(U, S, V)``, ``input = U diag(S) V^H``: ``V``, not ``linalg.svd``'s
    ``Vh``, and reduced (``some``) by default; without ``compute_uv``, ``U`` and ``V`` are
    square zeros.

    >>> import funcgrad
    >>> funcgrad.svd(funcgrad.tensor([[3.0, 0.0], [0.0, -4.0]])).S
    tensor([4., 3.])
    """
    if input.ndim < 2:
        raise RuntimeError("linalg.svd: input should have at least 2 dimensions, but has "
                           f"{input.ndim} dimensions instead")
    _check_inexact("linalg.svd", input)
    if not compute_uv:
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        return return_types.svd(zeros(*batch, m, m, dtype=input.dtype), apply(SVDVALS, input),
                         zeros(*batch, n, n, dtype=input.dtype))
    full = not some
    return return_types.svd(*(apply(op, input, full_matrices=full)
                              for op in (SVD[0], SVD[1], SVD[3])))




@autocast_policy(FP32)
def qr(input, some: bool = True):
    """torch.qr's ``(Q, R)``, deprecated as torch's is: ``linalg.qr(input, "reduced" if some
    else "complete")``."""
    warnings.warn(
        "funcgrad.qr is deprecated in favor of funcgrad.linalg.qr and will be removed in a future "
        "PyTorch release.\nThe boolean parameter 'some' has been replaced with a string "
        "parameter 'mode'.\nQ, R = funcgrad.qr(A, some)\nshould be replaced with\nQ, R = "
        "funcgrad.linalg.qr(A, 'reduced' if some else 'complete')", UserWarning, stacklevel=2)
    _check_decomposable("linalg.qr", input)
    complete = not some
    return return_types.qr(apply(QR[0], input, complete=complete),
                           apply(QR[1], input, complete=complete))


@autocast_policy(FP32)
def cholesky(input, upper: bool = False) -> Tensor:
    """torch.cholesky, deprecated with torch's warning: ``linalg.cholesky(input)``, or its
    conjugate transpose with ``upper``."""
    warnings.warn(
        "funcgrad.cholesky is deprecated in favor of funcgrad.linalg.cholesky and will be removed "
        "in a future PyTorch release.\nL = funcgrad.cholesky(A)\nshould be replaced with\nL = "
        "funcgrad.linalg.cholesky(A)\nand\nU = funcgrad.cholesky(A, upper=True)\nshould be "
        "replaced with\nU = funcgrad.linalg.cholesky(A).mH\nThis transform will produce "
        "equivalent results for all valid (symmetric positive definite) inputs.", UserWarning,
        stacklevel=2)
    _check_square("cholesky", input)
    return apply(CHOLESKY_LEGACY, input, upper=builtins.bool(upper))


def matrix_power(input, n: int) -> Tensor:
    """Each square matrix to the integer power ``n`` (of its inverse when ``n`` is negative), by
    repeated squaring as torch computes it, so the graph has torch's nodes.

    >>> import funcgrad
    >>> funcgrad.matrix_power(funcgrad.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
    tensor([[1., 3.],
            [0., 1.]])
    """
    _check_square("linalg.matrix_power", input)
    if n == 0:  # torch copies the identity into a tensor shaped as the input: a zero gradient
        return apply(COPY, input, jnp.eye(input.shape[-1], dtype=input.dtype))
    if n == 1:
        return clone(input)
    if n == -1:
        return inverse(input)
    a = inverse(input) if n < 0 else input  # (a composite: under autocast, each op casts)
    n = builtins.abs(n)
    if n <= 3:
        return matmul(matmul(a, a), a) if n == 3 else matmul(a, a)
    square = result = None
    while n:
        n, bit = divmod(n, 2)
        square = a if square is None else matmul(square, square)
        if bit:
            result = square if result is None else matmul(result, square)
    return result


def _check_ndim(name: str, **tensors) -> None:
    for label, (t, ndim) in tensors.items():
        if t.ndim != ndim:
            raise RuntimeError(f"{name}: {label} must be a {ndim}D tensor, got {t.ndim}D")


@autocast_policy(LOWER)
def matmul(input, other) -> Tensor:
    """Matrix product with NumPy's broadcasting rules (``input @ other``).

    >>> import funcgrad
    >>> funcgrad.eye(2) @ funcgrad.tensor([1.0, 2.0])
    tensor([1., 2.])
    """
    if input.ndim == 0 or other.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {input.ndim}D and "
            f"{other.ndim}D"
        )
    try:
        return apply(MATMUL, input, other)
    except (TypeError, ValueError):
        _raise_unmultipliable(tuple(input.shape), tuple(other.shape))
        raise


def _raise_unmultipliable(a: tuple, b: tuple) -> None:
    """torch's error for a matrix product of shapes ``a`` and ``b`` (at least 1-D each) whose
    inner sizes differ (or whose batch dimensions do not broadcast); nothing if they fit."""
    rows, k = math.prod(a[:-1]), a[-1]
    if len(a) == len(b) == 1 and k != b[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{k}] and src [{b[0]}] to have the same "
            f"number of elements, but got {k} and {b[0]} elements respectively"
        )
    if len(b) == 1 and k != b[0]:
        raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{k}), vec ({b[0]})")
    if len(b) == 2 and k != b[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and {b[0]}x{b[1]})"
        )
    if len(b) > 2:
        batch = broadcast_shape(a[:-2], b[:-2])
        if k != b[-2]:
            n = math.prod(batch)
            raise RuntimeError(
                f"Expected size for first two dimensions of batch2 tensor to be: [{n}, {k}] but "
                f"got: [{n}, {b[-2]}]."
            )


@autocast_policy(LOWER)
def mm(input, mat2) -> Tensor:
    """Product of two 2-D tensors."""
    _check_ndim("mm", self=(input, 2), mat2=(mat2, 2))
    return matmul(input, mat2)


@autocast_policy(LOWER)
def bmm(input, mat2) -> Tensor:
    """Batched product of two 3-D tensors."""
    _check_ndim("bmm", batch1=(input, 3), batch2=(mat2, 3))
    a, b = tuple(input.shape), tuple(mat2.shape)
    if a[0] != b[0] or a[2] != b[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{a[0]}, {a[2]}] "
            f"but got: [{b[0]}, {b[1]}]."
        )
    return apply(BMM, input, mat2)


@autocast_policy(NONE)
def mv(input, vec) -> Tensor:
    """Product of a matrix and a vector."""
    _check_ndim("mv", self=(input, 2), vec=(vec, 1))
    return matmul(input, vec)


@autocast_policy(NONE)
def dot(input, other) -> Tensor:
    """Inner product of two 1-D tensors."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors"
        )
    return matmul(input, other)


def outer(input, vec2) -> Tensor:
    """Outer product of two 1-D tensors."""
    return apply(OUTER, input, vec2)


@autocast_policy(LOWER)
def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``."""
    _check_ndim("addmm", mat1=(mat1, 2), mat2=(mat2, 2))
    _raise_unmultipliable(tuple(mat1.shape), tuple(mat2.shape))
    return apply(ADDMM, input, mat1, mat2, beta=beta, alpha=alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``."""
    for name, vec in (("vec1", vec1), ("vec2", vec2)):
        if vec.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {vec.ndim}-D")
    return apply(ADDR, input, vec1, vec2, beta=beta, alpha=alpha)


def resolve_neg(input) -> Tensor:
    """``input`` itself: funcgrad has no lazy negation bit (``is_neg()`` is always False)."""
    return input


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation, as ``jnp.einsum``."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    run = _as_matmul if _contracts(equation.replace(".", "")) else apply
    return run(EINSUM, *operands, equation=equation)


def _contracts(equation: str) -> bool:
    """Whether an einsum sums over an index that two operands share: torch computes that one
    by ``bmm``, which autocast casts, and the others (traces, transposes, outer or elementwise
    products) by ops that it does not."""
    inputs, arrow, output = equation.replace(" ", "").partition("->")
    operands = inputs.split(",")
    if not arrow:
        output = "".join(c for c in inputs if inputs.count(c) == 1)
    summed = builtins.set(inputs) - builtins.set(output) - {","}
    return builtins.any(builtins.sum(c in o for o in operands) > 1 for c in summed)


@autocast_policy(LOWER)
def _as_matmul(op: Op, *args, **static) -> Tensor:
    """``apply`` of an op that torch computes by a matmul, cast as autocast casts that."""
    return apply(op, *args, **static)


def kron(input, other) -> Tensor:
    """The Kronecker product: ``other`` scaled by each element of ``input``, in blocks."""
    return apply(KRON, input, other)


@autocast_policy(LOWER)
def tensordot(a, b, dims=2) -> Tensor:
    """Contracts the last ``dims`` dimensions of ``a`` with the first of ``b``, or the
    dimensions listed in ``dims = (dims_a, dims_b)``."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if not isinstance(dims, builtins.int):
        dims = tuple(tuple(np.atleast_1d(d).tolist()) for d in dims)
    pairs = zip(range(-dims, 0), range(dims)) if isinstance(dims, builtins.int) else zip(*dims)
    for da, db in pairs:
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {a.shape[da]} in dim "
                f"{da} and second has size {b.shape[db]} in dim {db}")
    return apply(TENSORDOT, a, b, axes=dims)


def inner(input, other) -> Tensor:
    """Sums the products over the last dimension of each (a product, for a number)."""
    if input.ndim == 0 or other.ndim == 0:
        return mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(input.shape)} and {list(other.shape)}")
    # torch takes a dot of two vectors, a matmul of the rest
    return (apply if input.ndim == other.ndim == 1 else _as_matmul)(INNER, input, other)


def vdot(input, other) -> Tensor:
    """Inner product of two 1-D tensors, the first conjugated."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors"
        )
    _raise_unmultipliable(tuple(input.shape), tuple(other.shape))
    return apply(VDOT, input, other)


def cross(input, other, dim=None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (``funcgrad.linalg.cross``); without
    ``dim``, along the first dimension of size 3, with torch's deprecation warning."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                      "either pass the dim explicitly or simply use torch.linalg.cross.\nThe "
                      "default value of dim will change to agree with that of linalg.cross in a "
                      "future release.", UserWarning, stacklevel=2)
        dim = next((i for i, n in enumerate(input.shape) if n == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    axis = _wrap_dim(dim, input.ndim)
    if input.shape[axis] != 3 or other.shape[axis] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[axis]} and {other.shape[axis]}")
    broadcast_shape(input.shape, other.shape)
    if input.dtype != other.dtype:  # (torch casts neither)
        raise RuntimeError(f"expected scalar type {_dtypes.scalar_name(input.dtype)} but found "
                           f"{_dtypes.scalar_name(other.dtype)}")
    if input.dtype == _dtypes.bool:
        raise NotImplementedError("\"cross\" not implemented for 'Bool'")
    return apply(CROSS, input, other, axis=dim)


# ----- shapes ----------------------------------------------------------------------------------
def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = shape[0]
    return tuple(builtins.int(s) for s in shape)


def _squeeze_name(x, axis=None, dims=(), first: int = 0) -> str:
    """torch's node for ``squeeze`` (``first`` 0) or ``squeeze_`` (3): by the form of ``dim``."""
    return f"SqueezeBackward{first + (0 if axis is None else 2 if isinstance(axis, tuple) else 1)}"


RESHAPE = Op("reshape", lambda x, shape: jnp.reshape(x, shape), "ViewBackward0", saves=False)
SQUEEZE = Op("squeeze", lambda x, axis=None, dims=(): jnp.squeeze(x, axis=dims),
             _squeeze_name, saves=False)
UNSQUEEZE = Op("unsqueeze", lambda x, axis: jnp.expand_dims(x, axis), "UnsqueezeBackward0",
               saves=False)
TRANSPOSE = Op("transpose", lambda x, a, b: jnp.swapaxes(x, a, b), "TransposeBackward0",
               saves=False)
PERMUTE = Op("permute", lambda x, axes: jnp.transpose(x, axes), "PermuteBackward0", saves=False)
T_OP = Op("t", lambda x: x.T, "TBackward0", saves=False)
# torch records the in-place shape changes under nodes of their own (with the same VJPs).
SQUEEZE_ = dataclasses.replace(SQUEEZE, grad_fn=functools.partial(_squeeze_name, first=3))
UNSQUEEZE_ = dataclasses.replace(UNSQUEEZE, grad_fn="UnsqueezeBackward1")
TRANSPOSE_ = dataclasses.replace(TRANSPOSE, grad_fn="TransposeBackward1")
T_ = dataclasses.replace(T_OP, grad_fn="TBackward1")
EXPAND = Op("expand", lambda x, shape: jnp.broadcast_to(x, shape), "ExpandBackward0", saves=False)
CAT = Op("cat", lambda *xs, axis: jnp.concatenate(xs, axis=axis), "CatBackward0", saves=False)
STACK = Op("stack", lambda *xs, axis: jnp.stack(xs, axis=axis), "StackBackward0", saves=False)
_slice = lambda x, start, stop, axis: jax.lax.slice_in_dim(x, start, stop, axis=axis)  # noqa: E731
SPLIT = Op("split", _slice, "SplitBackward0", saves=False)
SPLIT_SIZES = Op("split_with_sizes", _slice, "SplitWithSizesBackward0", saves=False)
# torch's unsafe_ forms (outputs that are not views) and narrow_copy: the same, named apart
_UNSAFE = {op: dataclasses.replace(op, grad_fn="Unsafe" + op.grad_fn)
           for op in (SPLIT, SPLIT_SIZES)}
NARROW = Op("narrow", _slice, "SliceBackward0", saves=False)
NARROW_COPY = dataclasses.replace(NARROW, grad_fn="NarrowCopyBackward0")
SELECT = Op("select", lambda x, axis, index: jnp.take(x, index, axis=axis), "SelectBackward0",
            saves=False)
UNBIND = Op("unbind", SELECT.fn, "UnbindBackward0", saves=False)
FLIP = Op("flip", lambda x, axes: jnp.flip(x, axes), "FlipBackward0", saves=False)
ROLL = Op("roll", lambda x, shifts, axes: jnp.roll(x, shifts, axes), "RollBackward0", saves=False)
REPEAT = Op("repeat", lambda x, reps: jnp.tile(x, reps), "RepeatBackward0", saves=False)
TRIL = Op("tril", lambda x, k: jnp.tril(x, k), "TrilBackward0", saves=False)
TRIU = Op("triu", lambda x, k: jnp.triu(x, k), "TriuBackward0", saves=False)
def _diag_embed(x, offset: int, axis1: int, axis2: int):
    """Matrices along ``axis1`` and ``axis2`` with ``x``'s last dimension on diagonal
    ``offset``."""
    i = jnp.arange(x.shape[-1])
    n = x.shape[-1] + builtins.abs(offset)
    out = jnp.zeros(x.shape[:-1] + (n, n), x.dtype)
    out = out.at[..., i + builtins.max(-offset, 0), i + builtins.max(offset, 0)].set(x)
    return jnp.moveaxis(out, (-2, -1), (axis1, axis2))


DIAG_EMBED = Op("diag_embed", _diag_embed, "DiagEmbedBackward0", saves=False)
DIAGONAL_VIEW = Op("diagonal_view", lambda x, offset, axis1, axis2: jnp.diagonal(
    x, offset, axis1, axis2), "DiagonalBackward0", saves=False)
ROT90 = Op("rot90", lambda x, k, axes: jnp.rot90(x, k, axes), "Rot90Backward0", saves=False)


def _diagonal_positions(shape: tuple, offset: int, axis1: int, axis2: int) -> tuple:
    """The row and column indices of diagonal ``offset`` of the matrices along ``axis1`` and
    ``axis2`` of ``shape``."""
    length = builtins.max(0, builtins.min(shape[axis1] - builtins.max(0, -offset),
                                          shape[axis2] - builtins.max(0, offset)))
    rows = np.arange(length) + builtins.max(0, -offset)
    return rows, rows + offset


def _diagonal_scatter(x, src, offset, axis1, axis2):
    rows, cols = _diagonal_positions(x.shape, offset, axis1, axis2)
    moved = jnp.moveaxis(x, (axis1, axis2), (-2, -1)).at[..., rows, cols].set(src)
    return jnp.moveaxis(moved, (-2, -1), (axis1, axis2))


# x with what a view (select, slice, diagonal) of it sees replaced by src
SELECT_SCATTER = Op("select_scatter", lambda x, src, axis, index: x.at[
    (slice(None),) * axis + (index,)].set(src), "SelectScatterBackward0", saves=False)
SLICE_SCATTER = Op("slice_scatter", lambda x, src, axis, start, end, step: x.at[
    (slice(None),) * axis + (slice(start, end, step),)].set(src), "SliceScatterBackward0",
    saves=False)
DIAGONAL_SCATTER = Op("diagonal_scatter", _diagonal_scatter, "DiagonalScatterBackward0",
                      saves=False)
TAKE = Op("take", lambda x, index: jnp.take(x.ravel(), index), "TakeBackward0")
BLOCK_DIAG = Op("block_diag", jax.scipy.linalg.block_diag, "BlockDiagBackward0", saves=False)
DIAGONAL = Op("diagonal", lambda x, k: jnp.diag(x, k), "DiagonalBackward0_copy", saves=False)
TRACE = Op("trace", jnp.trace, "TraceBackward0", saves=False)
GATHER = Op("gather", lambda x, index, axis: jnp.take_along_axis(x, index, axis=axis),
            "GatherBackward0")
CLONE = Op("clone", jnp.copy, "CloneBackward0", saves=False)
def _scatter_at(index, axis: int) -> tuple:
    """The positions ``scatter`` writes to: ``index`` along ``axis``, its own position along
    the other dimensions."""
    grids = list(jnp.meshgrid(*(jnp.arange(n) for n in index.shape), indexing="ij"))
    grids[axis] = index
    return tuple(grids)


def _scatter(x, index, src, axis: int, add: bool):
    at = x.at[_scatter_at(index, axis)]
    if hasattr(src, "shape") and src.ndim:  # only the part of src that index covers
        src = src[tuple(slice(0, n) for n in index.shape)]
    return at.add(src) if add else at.set(src)


# A 0-d index picks one slice, keeping the dimension, as a 1-element one does in torch; a 0-d
# input gives itself (its one element, which the index must pick).
INDEX_SELECT = Op("index_select", lambda x, index, axis: x if x.ndim == 0 else jnp.take(
    x, jnp.atleast_1d(index), axis=axis),
                  "IndexSelectBackward0")
SCATTER = Op("scatter", _scatter, lambda x, index, src, **_: "ScatterBackward0"
             if hasattr(src, "shape") else "ScatterBackward1")
SCATTER_ADD = Op("scatter_add", _scatter, "ScatterAddBackward0")
TO_DTYPE = Op("to_dtype", lambda x, dtype: x.astype(dtype), "ToCopyBackward0", saves=False)
# Its VJP runs eagerly and puts the gradient back on the source device (``src``).
TO_DEVICE = Op("to_device", lambda x, device, source: jax.device_put(x, device, src=source),
               "ToCopyBackward0", saves=False, compiled=False)


def reshape(input, *shape) -> Tensor:
    """The same values in a new shape; one dimension may be -1.

    >>> import funcgrad
    >>> funcgrad.arange(6).reshape(2, 3)
    tensor([[0, 1, 2],
            [3, 4, 5]])
    """
    shape = _shape_arg(shape)
    try:
        return apply(RESHAPE, input, shape=shape)
    except (TypeError, ValueError, ZeroDivisionError):
        _raise_bad_shape(shape, input.numel())
        raise


def _raise_bad_shape(shape: tuple, numel: int) -> None:
    """torch's error for a ``shape`` that ``numel`` elements cannot take."""
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for i, size in enumerate(shape):
        if size < -1:
            raise RuntimeError(f"invalid shape dimension {size} at index {i} of shape "
                               f"{list(shape)}")
    known = math.prod(s for s in shape if s != -1)
    if (known != numel) if -1 not in shape else (known == 0 or numel % known):
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")


def flatten(input, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merges dimensions ``start_dim`` through ``end_dim`` into one."""
    shape = tuple(input.shape)
    start, end = _wrap_dim(start_dim, len(shape)), _wrap_dim(end_dim, len(shape))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if not shape:
        return reshape(input, 1)
    return reshape(input, shape[:start] + (-1,) + shape[end + 1:])


def unflatten(input, dim: int, sizes) -> Tensor:
    """Splits dimension ``dim`` into ``sizes`` (one may be -1)."""
    shape, sizes = tuple(input.shape), tuple(builtins.int(s) for s in sizes)
    axis = _wrap_dim(dim, len(shape))
    known = math.prod(s for s in sizes if s != -1)
    if (sizes.count(-1) == 1 and (known == 0 or shape[axis] % known)
            if -1 in sizes else known != shape[axis]):
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shape[axis]}) in the input tensor")
    return reshape(input, shape[:axis] + sizes + shape[axis + 1:])


def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The ``n``-th forward difference along ``dim``, after joining ``prepend`` and
    ``append`` to ``input`` there."""
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    _wrap_dim(dim, input.ndim)
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, dim) if len(parts) > 1 else input
    for _ in range(n):
        length = x.shape[dim]
        x = narrow(x, dim, 1, length - 1) - narrow(x, dim, 0, length - 1)
    return x


def squeeze(input, dim=None) -> Tensor:
    """Removes dimensions of size 1 (all of them, or those in ``dim`` that have size 1)."""
    return _squeeze(input, dim, SQUEEZE)


def _squeeze(input, dim, op: Op) -> Tensor:
    shape = tuple(input.shape)
    if dim is None:
        dims = tuple(i for i, s in enumerate(shape) if s == 1)
        return apply(op, input, dims=dims)
    wanted = _dims(dim)
    wanted_t = (wanted,) if isinstance(wanted, builtins.int) else wanted
    dims = tuple(d for d in (_wrap_dim(d, len(shape)) for d in wanted_t or ())
                 if shape and shape[d] == 1)
    return apply(op, input, axis=wanted, dims=dims)


def unsqueeze(input, dim: int) -> Tensor:
    """Inserts a dimension of size 1 at ``dim``."""
    return apply(UNSQUEEZE, input, axis=builtins.int(dim))


def transpose(input, dim0: int, dim1: int) -> Tensor:
    """Swaps two dimensions."""
    return _transpose(input, dim0, dim1, TRANSPOSE)


def _transpose(input, dim0: int, dim1: int, op: Op) -> Tensor:
    return apply(op, input, a=_wrap_dim(dim0, input.ndim), b=_wrap_dim(dim1, input.ndim))


swapaxes = transpose


def permute(input, *dims) -> Tensor:
    """Reorders the dimensions."""
    dims = _shape_arg(dims)
    if len(dims) != input.ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {input.ndim} is "
            f"not equal to len(dims) = {len(dims)}"
        )
    axes = tuple(_wrap_dim(d, input.ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return apply(PERMUTE, input, axes=axes)


def t(input) -> Tensor:
    """Transpose of a tensor of at most 2 dimensions."""
    return _t(input, T_OP)


def _t(input, op: Op) -> Tensor:
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return apply(op, input)


def expand(input, *sizes) -> Tensor:
    """Broadcasts to ``sizes``; -1 keeps a dimension as it is."""
    sizes = _shape_arg(sizes)
    _check_expand(input, sizes)
    shape = tuple(input.shape)
    lead = len(sizes) - len(shape)
    full = tuple(shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return apply(EXPAND, input, shape=full)


def _check_expand(input, sizes: tuple) -> None:
    """torch's errors for ``input`` that cannot be broadcast to ``sizes`` (-1: as it is)."""
    shape = tuple(input.shape)
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(
            f"expand({_type_name(input)}{{{list(shape)}}}, size={list(sizes)}): the number of "
            f"sizes provided ({len(sizes)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({len(shape)})"
        )
    for i, size in enumerate(sizes):
        if i < lead and size == -1:
            raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                               f"leading, non-existing dimension {i}")
        if i >= lead and size not in (-1, shape[i - lead]) and shape[i - lead] != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({size}) must match the existing size "
                f"({shape[i - lead]}) at non-singleton dimension {i}.  Target sizes: "
                f"{list(sizes)}.  Tensor sizes: {list(shape)}"
            )


def broadcast_to(input, shape) -> Tensor:
    """Broadcasts to ``shape``."""
    return expand(input, *shape)


def _sequence(tensors, name: str) -> tuple:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"{name}(): expected a non-empty list or tuple of Tensors")
    return tuple(tensors)


def cat(tensors, dim: int = 0) -> Tensor:
    """Joins tensors along an existing dimension."""
    tensors = _sequence(tensors, "cat")
    try:
        return apply(CAT, *tensors, axis=builtins.int(dim))
    except (TypeError, ValueError):
        _raise_uncatenable(tensors, builtins.int(dim))
        raise


def _raise_uncatenable(tensors: tuple, dim: int) -> None:
    """torch's error for tensors that ``cat`` cannot join along ``dim``."""
    shapes = [tuple(t.shape) for t in tensors]
    for i, shape in enumerate(shapes):
        if not shape:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
        if len(shape) != len(shapes[0]):
            raise RuntimeError(f"Tensors must have same number of dimensions: got "
                               f"{len(shapes[0])} and {len(shape)}")
    axis = _wrap_dim(dim, len(shapes[0]))
    for i, shape in enumerate(shapes):
        for d, (want, got) in enumerate(zip(shapes[0], shape)):
            if d != axis and want != got:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {axis}. Expected size "
                    f"{want} but got size {got} for tensor number {i} in the list."
                )


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Joins tensors along a new dimension."""
    tensors = _sequence(tensors, "stack")
    shapes = [tuple(t.shape) for t in tensors]
    for i, shape in enumerate(shapes):
        if shape != shapes[0]:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shapes[0])} at entry 0 and {list(shape)} at entry {i}")
    return apply(STACK, *tensors, axis=builtins.int(dim))


def split(tensor, split_size_or_sections, dim: int = 0, *, _unsafe: bool = False) -> tuple:
    """Splits into chunks of a size, or of the sizes in a list."""
    axis = _wrap_dim(dim, tensor.ndim)
    n = tensor.shape[axis]
    if isinstance(split_size_or_sections, builtins.int):
        size = split_size_or_sections
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={size}")
        if size == 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = [builtins.min(size, n - i) for i in range(0, n, size)] if n else [0]
        op = SPLIT
    else:
        sizes = list(split_size_or_sections)
        if builtins.min(sizes, default=0) < 0:
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={sizes}")
        if builtins.sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                f"size at dimension {dim}), but got split_sizes={sizes}"
            )
        op = SPLIT_SIZES
    op = _UNSAFE[op] if _unsafe else op
    bounds = np.cumsum([0] + sizes).tolist()
    return tuple(apply(op, tensor, start=a, stop=b, axis=axis) for a, b in zip(bounds, bounds[1:]))


def unsafe_split(tensor, split_size: int, dim: int = 0) -> tuple:
    """``split``, as torch's form whose pieces are not views (``UnsafeSplitBackward0``)."""
    return split(tensor, split_size, dim, _unsafe=True)


def unsafe_split_with_sizes(tensor, split_sizes, dim: int = 0) -> tuple:
    """``split_with_sizes``, as torch's form whose pieces are not views."""
    return split(tensor, list(split_sizes), dim, _unsafe=True)


def chunk(input, chunks: int, dim: int = 0) -> tuple:
    """Splits into ``chunks`` pieces of equal size (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    return split(input, -(-input.shape[_wrap_dim(dim, input.ndim)] // chunks), dim)


def unsafe_chunk(input, chunks: int, dim: int = 0) -> tuple:
    """``chunk``, as torch's form whose pieces are not views."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    return unsafe_split(input, -(-input.shape[_wrap_dim(dim, input.ndim)] // chunks), dim)


def unbind(input, dim: int = 0) -> tuple:
    """The slices along ``dim``, each without that dimension."""
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    axis = _wrap_dim(dim, input.ndim)
    return tuple(apply(UNBIND, input, axis=axis, index=i) for i in range(input.shape[axis]))


def narrow(input, dim: int, start: int, length: int) -> Tensor:
    """The slice ``start:start + length`` along ``dim``."""
    _check_has_dims("narrow", input)
    axis = _wrap_dim(dim, input.ndim)
    size = input.shape[axis]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    start = start % size if start < 0 else start
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    return apply(NARROW, input, start=start, stop=start + length, axis=axis)


def narrow_copy(input, dim: int, start: int, length: int) -> Tensor:
    """``narrow``, as torch's copying form (``NarrowCopyBackward0``)."""
    view = narrow(input, dim, start, length)  # (its checks)
    axis = _wrap_dim(dim, input.ndim)
    start = start % input.shape[axis] if start < 0 else start
    return apply(NARROW_COPY, input, start=start, stop=start + view.shape[axis], axis=axis)


def _strided_positions(size: tuple, stride: tuple, offset: int) -> np.ndarray:
    """The positions in a row-major storage that ``as_strided`` reads, shaped ``size``."""
    positions = np.full(size, offset, np.int64)
    for axis, (n, step) in enumerate(zip(size, stride)):
        positions += (np.arange(n) * step).reshape((n,) + (1,) * (len(size) - axis - 1))
    return positions


AS_STRIDED = Op("as_strided", lambda x, size, stride, offset: x.reshape(-1)[
    _strided_positions(size, stride, offset)], "AsStridedBackward0")


def _strided_arguments(input, size, stride, storage_offset) -> tuple:
    """``as_strided``'s arguments as ints, with torch's checks that they stay in ``input``."""
    size, stride = tuple(builtins.int(n) for n in size), tuple(builtins.int(s) for s in stride)
    offset = 0 if storage_offset is None else builtins.int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if builtins.any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    needed = 0 if 0 in size else offset + 1 + builtins.sum(
        (n - 1) * s for n, s in zip(size, stride))
    if needed > input.numel():
        item = input.element_size()
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {item} requiring a storage size of "
                           f"{needed * item} are out of bounds for storage of size "
                           f"{input.numel() * item}")
    return size, stride, offset


def as_strided(input, size, stride, storage_offset: int | None = None) -> Tensor:
    """The tensor of shape ``size`` whose element ``(i, j, ...)`` is element ``storage_offset
    + i * stride[0] + j * stride[1] + ...`` of ``input``'s elements in row-major order, as a
    copy; gradients of elements read more than once add up. A funcgrad tensor is its own
    row-major storage (views are copies), so for an input that is a transposed or sliced view
    in torch, torch reads the base's storage and this reads the input's.

    >>> import funcgrad
    >>> funcgrad.arange(5.0).as_strided((3, 3), (1, 1))  # sliding windows
    tensor([[0., 1., 2.],
            [1., 2., 3.],
            [2., 3., 4.]])

    Raises:
        RuntimeError: torch's, for ``size`` and ``stride`` of different lengths, a negative
            stride or offset, or positions beyond the elements.
    """
    size, stride, offset = _strided_arguments(input, size, stride, storage_offset)
    return apply(AS_STRIDED, input, size=size, stride=stride, offset=offset)


AS_STRIDED_ = dataclasses.replace(AS_STRIDED, grad_fn="AsStridedBackward1")


def as_strided_(self, size, stride, storage_offset: int | None = None) -> Tensor:
    """In-place ``as_strided``: this tensor takes the strided tensor's shape and values."""
    size, stride, offset = _strided_arguments(self, size, stride, storage_offset)
    result = apply(AS_STRIDED_, self, size=size, stride=stride, offset=offset)
    return _inplace(self, result, reshape=True)


def _strided_scatter(x, src, size, stride, offset):
    return x.reshape(-1).at[_strided_positions(size, stride, offset)].set(src).reshape(x.shape)


AS_STRIDED_SCATTER = Op("as_strided_scatter", _strided_scatter, "AsStridedScatterBackward0",
                        saves=False)


def as_strided_scatter(input, src, size, stride, storage_offset: int | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` written where ``input.as_strided(size, stride,
    storage_offset)`` reads; gradients flow to both.

    >>> import funcgrad
    >>> funcgrad.zeros(6).as_strided_scatter(funcgrad.tensor([1.0, 2.0]), (2,), (2,), 1)
    tensor([0., 1., 0., 2., 0., 0.])

    Raises:
        RuntimeError: torch's, for ``as_strided``'s bad arguments, a ``src`` not of shape
            ``size``, or positions written more than once.
    """
    size, stride, offset = _strided_arguments(input, size, stride, storage_offset)
    _check_scatter_source(src, size)
    if len(np.unique(_strided_positions(size, stride, offset))) < math.prod(size):
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.")
    return apply(AS_STRIDED_SCATTER, input, src, size=size, stride=stride, offset=offset)


def _check_has_dims(name: str, input) -> None:
    if input.ndim == 0:
        raise IndexError(f"{name}() cannot be applied to a 0-dim tensor.")


def select(input, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, without that dimension."""
    _check_has_dims("select", input)
    axis, index = _wrap_dim(dim, input.ndim), builtins.int(index)
    if not -input.shape[axis] <= index < input.shape[axis]:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {axis}")
    return apply(SELECT, input, axis=axis, index=index)


def _check_scatter_source(src, shape: tuple) -> None:
    if tuple(src.shape) != tuple(shape):
        raise RuntimeError("expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(shape)}")


def select_scatter(input, src, dim: int, index: int) -> Tensor:
    """``input`` with its slice at ``index`` along ``dim`` (``select``'s) replaced by
    ``src``."""
    view = select(input, dim, index)  # (its checks)
    _check_scatter_source(src, view.shape)
    axis = _wrap_dim(dim, input.ndim)
    return apply(SELECT_SCATTER, input, src, axis=axis, index=builtins.int(index))


def slice_scatter(input, src, dim: int = 0, start: int | None = None, end: int | None = None,
                  step: int = 1) -> Tensor:
    """``input`` with its slice ``start:end:step`` along ``dim`` replaced by ``src``."""
    axis = _wrap_dim(dim, input.ndim)
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    length = len(range(*slice(start, end, step).indices(input.shape[axis])))
    _check_scatter_source(src, (*input.shape[:axis], length, *input.shape[axis + 1:]))
    return apply(SLICE_SCATTER, input, src, axis=axis, start=start, end=end, step=step)


def diagonal_scatter(input, src, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """``input`` with its diagonal ``offset`` along ``dim1`` and ``dim2`` (``diagonal``'s)
    replaced by ``src``."""
    view = diagonal(input, offset, dim1, dim2)  # (its checks)
    _check_scatter_source(src, view.shape)
    axis1, axis2 = _wrap_dim(dim1, input.ndim), _wrap_dim(dim2, input.ndim)
    return apply(DIAGONAL_SCATTER, input, src, offset=builtins.int(offset), axis1=axis1,
                 axis2=axis2)


def flip(input, dims) -> Tensor:
    """Reverses the order along ``dims``."""
    return apply(FLIP, input, axes=_dims(dims if isinstance(dims, (list, tuple)) else [dims]))


def roll(input, shifts, dims=None) -> Tensor:
    """Rolls elements along ``dims`` (the flattened tensor when None)."""
    return apply(ROLL, input, shifts=_dims(shifts), axes=_dims(dims))


def repeat(input, *sizes) -> Tensor:
    """Tiles the tensor ``sizes`` times along each dimension."""
    reps = _shape_arg(sizes)
    if len(reps) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    shape = (1,) * (len(reps) - input.ndim) + tuple(input.shape)
    result = [n * r for n, r in zip(shape, reps)]
    if builtins.min(result, default=0) < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{builtins.min(result)}: {result}")
    return apply(REPEAT, input, reps=reps)


def tile(input, dims) -> Tensor:
    """``repeat``, where fewer ``dims`` than dimensions repeat the last ones."""
    dims = tuple(dims)
    return repeat(input, *((1,) * (input.ndim - len(dims)) + dims))


def movedim(input, source, destination) -> Tensor:
    """Moves dimensions ``source`` to positions ``destination`` (ints or sequences)."""
    ndim = input.ndim
    given = {"source": np.atleast_1d(source).tolist(),
             "destination": np.atleast_1d(destination).tolist()}
    if len(given["source"]) != len(given["destination"]):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({given['source']} dims) "
            f"should contain the same number of dims as destination "
            f"({given['destination']} dims)"
        )
    for name, dims in given.items():
        if len({_wrap_dim(d, ndim) for d in dims}) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({dims})")
    source = [_wrap_dim(d, ndim) for d in given["source"]]
    destination = [_wrap_dim(d, ndim) for d in given["destination"]]
    placed = dict(zip(destination, source))
    rest = iter([d for d in range(ndim) if d not in source])
    return permute(input, *(placed[i] if i in placed else next(rest) for i in range(ndim)))


def numel(input) -> int:
    """The number of elements."""
    return input.numel()


def tril(input, diagonal: int = 0) -> Tensor:
    """The lower triangle (zeros above ``diagonal``)."""
    return apply(TRIL, input, k=diagonal)


def triu(input, diagonal: int = 0) -> Tensor:
    """The upper triangle (zeros below ``diagonal``)."""
    return apply(TRIU, input, k=diagonal)


def diag(input, diagonal: int = 0) -> Tensor:
    """A 1-D tensor as a diagonal matrix, or the diagonal of a 2-D tensor."""
    if input.ndim == 1:
        return apply(DIAG_EMBED, input, offset=diagonal, axis1=0, axis2=1)
    return apply(DIAGONAL, input, k=diagonal)


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal ``offset`` of the matrices along ``dim1`` and ``dim2``, as the last
    dimension."""
    axis1, axis2 = _wrap_dim(dim1, input.ndim), _wrap_dim(dim2, input.ndim)
    if axis1 == axis2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(DIAGONAL_VIEW, input, offset=builtins.int(offset), axis1=axis1, axis2=axis2)


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices along ``dim1`` and ``dim2`` (of the result) with the last dimension of
    ``input`` on diagonal ``offset``, zeros elsewhere."""
    axis1, axis2 = _wrap_dim(dim1, input.ndim + 1), _wrap_dim(dim2, input.ndim + 1)
    if axis1 == axis2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(DIAG_EMBED, input, offset=builtins.int(offset), axis1=axis1, axis2=axis2)


def diagflat(input, offset: int = 0) -> Tensor:
    """The flattened ``input`` as diagonal ``offset`` of a square matrix."""
    return diag_embed(ravel(input), offset)


@autocast_policy(FP32)
def trace(input) -> Tensor:
    """Sum of the main diagonal of a 2-D tensor."""
    return apply(TRACE, input)


def gather(input, dim: int, index) -> Tensor:
    """Values of ``input`` at ``index`` along ``dim``."""
    _check_index("gather", index, "int32/int64")
    if builtins.max(index.ndim, 1) != builtins.max(input.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    axis = _wrap_dim(dim, builtins.max(input.ndim, 1))
    for d in range(builtins.max(input.ndim, 1)):
        if d != axis and _size(index, d) > _size(input, d):
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(index.shape)} to be no larger than self "
                               f"{list(input.shape)} apart from dimension {axis}")
    _check_range(input, dim, index)
    return apply(GATHER, input, index, axis=builtins.int(dim))


def _size(t, d: int) -> int:
    """``t.shape[d]``, a 0-d tensor taken as one element (ATen's ``ensure_nonempty_size``)."""
    return t.shape[d] if t.ndim else 1


def _check_range(input, dim: int, index) -> None:
    """gather's and scatter's error for an index outside ``[0, size)`` along ``dim``."""
    axis = _wrap_dim(dim, builtins.max(input.ndim, 1))
    if input.ndim == 0 and index.numel() != 1:
        raise RuntimeError("index_select(): Index to scalar can have only 1 value, got "
                           f"{index.numel()} value(s)")
    size = input.shape[axis] if input.ndim else 1
    bad = _outside(index._read(), 0, size)
    if bad is not None:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {axis} with size {size}")


def _check_index(name: str, index, wanted: str) -> None:
    """torch's error for an index tensor that is not of 32- or 64-bit integers."""
    if str(index.dtype) not in ("int32", "int64"):
        raise RuntimeError(f"{name}(): Expected dtype {wanted} for index")


def _outside(values, low: int, high: int, skip: int | None = None):
    """The first of the integer array ``values`` outside ``[low, high)`` (``skip`` aside), or
    None. Torch reads an index's values to check them on the CPU, and so does funcgrad, where JAX
    would clamp the index or fill in NaN; traced values (inside a JAX transform) are not
    checked."""
    if isinstance(values, jax.core.Tracer) or not values.size:
        return None
    values = np.asarray(values)
    bad = (values < low) | (values >= high)
    if skip is not None:
        bad &= values != skip
    return values[bad][0] if bad.any() else None


def index_select(input, dim: int, index) -> Tensor:
    """The slices at ``index`` (a 1-D integer tensor) along ``dim``."""
    _check_index("index_select", index, "int32 or int64")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    axis = _wrap_dim(dim, builtins.max(input.ndim, 1))
    if input.ndim == 0 and index.numel() != 1:
        raise RuntimeError("index_select(): Index to scalar can have only 1 value, got "
                           f"{index.numel()} value(s)")
    size = input.shape[axis] if input.ndim else 1
    bad = _outside(index._read(), 0, size)
    if bad is not None and axis == 1:  # torch's kernel for dim 1 words it otherwise
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={size}")
    if bad is not None:
        raise IndexError("index out of range in self")
    return apply(INDEX_SELECT, input, index, axis=builtins.int(dim))


def scatter(input, dim: int, index, src=None, *, value=None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor, or a number given as ``src`` or ``value``)
    written at ``index`` along ``dim``."""
    src = value if src is None else src
    _check_scatter(input, dim, index, src)
    return apply(SCATTER, input, index, src, axis=builtins.int(dim), add=False)


def _check_scatter(input, dim: int, index, src) -> None:
    """torch's checks of a scatter: an integer index with the dimensions of ``input`` and of
    ``src`` (when a tensor), no larger than ``src`` and than ``input`` but along ``dim``, its
    values in range."""
    _check_index("scatter", index, "int32/int64")
    for name, other in (("self", input), ("src", src)):
        if isinstance(other, Tensor) and builtins.max(index.ndim, 1) != builtins.max(other.ndim, 1):
            raise RuntimeError(f"Index tensor must have the same number of dimensions as {name} "
                               "tensor")
    axis = _wrap_dim(dim, builtins.max(input.ndim, 1))
    dims = range(builtins.max(input.ndim, 1))
    src = src if isinstance(src, Tensor) else None
    if index.numel() and (
            builtins.any(d != axis and _size(index, d) > _size(input, d) for d in dims)
            or src is not None and builtins.any(_size(index, d) > _size(src, d) for d in dims)):
        than_src = "" if src is None else f" and to be no larger size than src {list(src.shape)}"
        raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self "
                           f"{list(input.shape)} apart from dimension {axis}{than_src}")
    _check_range(input, dim, index)


def scatter_add(input, dim: int, index, src) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats add up)."""
    _check_scatter(input, dim, index, src)
    return apply(SCATTER_ADD, input, index, src, axis=builtins.int(dim), add=True)


def clone(input, *, memory_format=_layouts.preserve_format) -> Tensor:
    """A copy with its own storage; gradients flow back to ``input``."""
    _layouts.check("clone", memory_format, input.ndim)
    return apply(CLONE, input)


def contiguous(input, memory_format=_layouts.contiguous_format) -> Tensor:
    """The tensor itself: it reads as laid out row-major already (``_layouts``)."""
    _layouts.check("contiguous", memory_format, input.ndim)
    return input


def _with_dims(input, ndim: int) -> Tensor:
    """``input`` with at least ``ndim`` (at most 3) dimensions, as torch's atleast_*d adds
    them: a vector becomes a row, a matrix gets a last dimension."""
    if input.ndim == 0:
        return reshape(input, *(1,) * ndim)
    if input.ndim == 1 and ndim >= 2:
        input = unsqueeze(input, 0)
    if input.ndim == 2 and ndim == 3:
        input = unsqueeze(input, -1)
    return input


def _at_least(tensors: tuple, ndim: int):
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return _with_dims(tensors[0], ndim)
    if len(tensors) == 1:  # one sequence of tensors
        tensors = tensors[0]
    return tuple(_with_dims(t, ndim) for t in tensors)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dimension: one tensor, or a tuple for several."""
    return _at_least(tensors, 1)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dimensions (a vector becomes a row)."""
    return _at_least(tensors, 2)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dimensions (a vector ``(n,)`` becomes ``(1, n, 1)``)."""
    return _at_least(tensors, 3)


def hstack(tensors) -> Tensor:
    """Joins tensors column-wise: along dimension 1, or 0 for vectors.

    >>> import funcgrad
    >>> funcgrad.hstack([funcgrad.tensor([1, 2]), funcgrad.tensor([3])])
    tensor([1, 2, 3])
    """
    tensors = [_with_dims(t, 1) for t in _sequence(tensors, "hstack")]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Joins tensors row-wise, vectors as rows."""
    return cat([_with_dims(t, 2) for t in _sequence(tensors, "vstack")], 0)


def dstack(tensors) -> Tensor:
    """Joins tensors along dimension 2, after ``atleast_3d``."""
    return cat([_with_dims(t, 3) for t in _sequence(tensors, "dstack")], 2)


def column_stack(tensors) -> Tensor:
    """Joins tensors column-wise, vectors (and numbers) as columns."""
    tensors = _sequence(tensors, "column_stack")
    return cat([reshape(t, -1, 1) if t.ndim <= 1 else t for t in tensors], 1)


row_stack = vstack


def broadcast_shapes(*shapes) -> Size:
    """The shape tensors of ``shapes`` broadcast to (an int is a 1-D shape)."""
    result: list = []
    for i, shape in enumerate(shapes):
        shape = (shape,) if isinstance(shape, builtins.int) else tuple(shape)
        result = [1] * (len(shape) - len(result)) + result
        for d in range(-1, -len(shape) - 1, -1):
            if shape[d] == 1:
                continue
            if result[d] not in (1, shape[d]):
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {shape[d]} at {d}! "
                    f"Mismatching argument at index {i} had {shape}; but expected shape should "
                    f"be broadcastable to {result}")
            result[d] = shape[d]
    return Size(result)


def broadcast_tensors(*tensors) -> tuple:
    """The tensors broadcast to one shape (a tensor already of that shape as it is)."""
    shape = broadcast_shape(*(tuple(t.shape) for t in tensors))
    return tuple(t if tuple(t.shape) == shape else expand(t, *shape) for t in tensors)


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-D tensors: with ``indexing='ij'`` (the default) tensor ``i``
    varies along dimension ``i``; with ``'xy'`` the first two swap."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t}")
    dims = list(range(len(tensors)))
    if indexing == "xy" and len(dims) > 1:
        dims[:2] = [1, 0]
    shape = [0] * len(dims)
    for t, d in zip(tensors, dims):
        shape[d] = t.numel()
    return tuple(expand(reshape(t, *(-1 if i == d else 1 for i in range(len(dims)))), *shape)
                 for t, d in zip(tensors, dims))


def cartesian_prod(*tensors) -> Tensor:
    """Every combination of one element from each 1-D tensor, a row each."""
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    return stack([ravel(g) for g in meshgrid(*tensors, indexing="ij")], 1)


def tensor_split(input, indices_or_sections, dim: int = 0) -> tuple:
    """Splits along ``dim`` into ``n`` nearly equal parts (the first ones one longer), or at
    the given indices.

    >>> import funcgrad
    >>> funcgrad.tensor_split(funcgrad.arange(5), 3)
    (tensor([0, 1]), tensor([2, 3]), tensor([4]))
    """
    axis = _wrap_dim(dim, input.ndim)
    n = input.shape[axis]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, builtins.int):
        k = indices_or_sections
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        bounds = [i * (n // k) + builtins.min(i, n % k) for i in range(k + 1)]
    else:
        bounds = [0, *indices_or_sections, n]
    parts = []
    for a, b in zip(bounds, bounds[1:]):
        start, stop, _ = slice(a, b).indices(n)
        parts.append(narrow(input, axis, start, builtins.max(stop - start, 0)))
    return tuple(parts)


def _split_along(name: str, input, indices_or_sections, dim: int, min_dims: int) -> tuple:
    """hsplit, vsplit and dsplit: ``tensor_split``, where a number of sections must divide the
    dimension."""
    if input.ndim < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, "
                           f"but got a tensor with {input.ndim} dimensions!")
    size = input.shape[dim]
    if isinstance(indices_or_sections, builtins.int) and (
            indices_or_sections == 0 or size % indices_or_sections):
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the "
                           f"size of the dimension {size} is not divisible by the split_size "
                           f"{indices_or_sections}!")
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input, indices_or_sections) -> tuple:
    """``tensor_split`` along dimension 1 (0 for a vector), into equal parts."""
    return _split_along("hsplit", input, indices_or_sections, 0 if input.ndim == 1 else 1, 1)


def vsplit(input, indices_or_sections) -> tuple:
    """``tensor_split`` along dimension 0, into equal parts."""
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections) -> tuple:
    """``tensor_split`` along dimension 2, into equal parts."""
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


def rot90(input, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotates by 90 degrees ``k`` times, from dimension ``dims[0]`` towards ``dims[1]``."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    axes = tuple(_wrap_dim(d, input.ndim) for d in dims)
    if axes[0] == axes[1]:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} "
                           f"and dim1 = {dims[1]}")
    return apply(ROT90, input, k=builtins.int(k), axes=axes)


def fliplr(input) -> Tensor:
    """Reverses dimension 1 (left to right)."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input) -> Tensor:
    """Reverses dimension 0 (up to down)."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


def take(input, index) -> Tensor:
    """The elements of the flattened ``input`` at ``index``, in ``index``'s shape.

    Raises:
        IndexError: torch's, for an index out of range when its values are at hand (not
            inside a JAX transform): JAX would fill in NaN.
    """
    n = input.numel()
    bad = _outside(index._read(), -n, n)
    if bad is not None:
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")
    return apply(TAKE, input, index)


def take_along_dim(input, indices, dim=None) -> Tensor:
    """``gather`` along ``dim`` after broadcasting ``input`` and ``indices`` in the other
    dimensions; with ``dim=None``, of the flattened tensors."""
    if dim is None:
        return gather(ravel(input), 0, ravel(indices))
    if input.ndim != indices.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {input.ndim} dimensions for input, and {indices.ndim} "
            "dimensions for indices")
    axis = _wrap_dim(dim, input.ndim)
    rest = broadcast_shape(*(tuple(t.shape[:axis]) + (1,) + tuple(t.shape[axis + 1:])
                             for t in (input, indices)))
    input, indices = (t if tuple(t.shape[:axis] + t.shape[axis + 1:]) == rest[:axis] +
                      rest[axis + 1:] else expand(t, *rest[:axis], t.shape[axis],
                                                  *rest[axis + 1:]) for t in (input, indices))
    return gather(input, axis, indices)


def block_diag(*tensors) -> Tensor:
    """A block-diagonal matrix from matrices (vectors are rows, numbers 1 x 1)."""
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.ndim} dimensions")
    return apply(BLOCK_DIAG, *tensors)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Each element (each slice along ``dim``) repeated ``repeats`` times in place; with no
    ``repeats``, ``input`` holds the counts and the result repeats their indices."""
    if repeats is None:
        counts = np.asarray(input)
        return Tensor._wrap(jnp.asarray(np.repeat(np.arange(counts.size), counts)))
    if dim is None:
        input, dim = ravel(input), 0
    axis = _wrap_dim(dim, input.ndim)
    shape = tuple(input.shape)
    if isinstance(repeats, builtins.int):
        spread = expand(unsqueeze(input, axis + 1), *shape[:axis + 1], repeats, *shape[axis + 1:])
        return reshape(spread, *shape[:axis], shape[axis] * repeats, *shape[axis + 1:])
    index = np.repeat(np.arange(shape[axis]), np.asarray(repeats))
    return index_select(input, axis, Tensor._wrap(jnp.asarray(index)))


def nonzero(input, *, as_tuple: bool = False):
    """Indices of the non-zero elements: an ``(n, ndim)`` tensor, or a tuple of 1-D tensors."""
    parts = jnp.nonzero(input._read() if isinstance(input, Tensor) else input)
    if as_tuple:
        return tuple(Tensor._wrap(p) for p in parts)
    return Tensor._wrap(jnp.stack(parts, axis=1))


# ----- indexing --------------------------------------------------------------------------------
_ARRAY = ("array",)
_INT = ("int",)
_BOOL = "bool"


_PLAIN_KEYS = frozenset({builtins.int, slice, type(None), type(Ellipsis)})


def _index(x: Tensor, key) -> tuple[tuple, tuple]:
    """Splits an index of ``x`` into a hashable spec and its array parts (a boolean mask
    becomes the integer indices of its True elements, so every index has a static shape; an
    int becomes an operand, see ``_int_operand``), after torch's checks: JAX would clamp an
    index out of range, torch raises."""
    keys = [k if type(k) in _PLAIN_KEYS else _index_part(k)
            for k in (key if isinstance(key, tuple) else (key,))]
    shape = x._peek().shape
    dims = _check_key(shape, keys)
    spec, arrays = [], []
    for k, dim in zip(keys, dims):
        if type(k) is builtins.bool:  # a 0-d mask: a new dimension of size 1 or 0
            spec.append((_BOOL, k))  # tagged: as static arguments, True == 1 and False == 0
        elif isinstance(k, (np.ndarray, jax.Array)):
            parts = jnp.nonzero(k) if k.dtype == np.bool_ else (k,)
            arrays.extend(parts)
            spec.extend([_ARRAY] * len(parts))
        elif isinstance(k, slice):
            k = slice(*(None if v is None else builtins.int(v)
                        for v in (k.start, k.stop, k.step)))
            start, stop, step = k.indices(shape[dim]) if k.step is None or k.step > 0 else (
                None, None, None)
            length = len(range(start, stop, step)) if step else 0
            if (start, stop, step) == (0, shape[dim], 1):
                spec.append(("slice", None, None, None))
            elif length:  # its start an operand (see _int_operand): a mini-batch loop's x[i:j]
                spec.append(("dslice", dim, length, step))
                arrays.append(_int_operand(start))
            else:
                spec.append(("slice", k.start, k.stop, k.step))
        elif k is None or k is Ellipsis:
            spec.append(k)
        else:
            spec.append(_INT)
            arrays.append(_int_operand(builtins.int(k)))
    return tuple(spec), tuple(arrays)


@functools.lru_cache(maxsize=4096)
def _int_operand(k: int) -> jax.Array:
    """The int index ``k`` as an array operand, made once per value: as a static argument,
    each new index compiled another program (a loop reading ``x[i]`` compiled one per i).
    Concrete even when first asked for inside a JAX trace."""
    with jax.ensure_compile_time_eval():
        return jnp.asarray(k, np.int32)


def _index_part(k):
    """A part of an index other than an int, slice, None or ``...``: a tensor, list or array
    (an integer one of no dimensions as an int, unless traced), or torch's error for what
    cannot index."""
    if isinstance(k, Tensor):
        k = k._read()
    if isinstance(k, list):
        k = jnp.asarray(k)
    if isinstance(k, (builtins.bool, np.bool_)) or (
            isinstance(k, (np.ndarray, jax.Array)) and k.ndim == 0 and k.dtype == np.bool_):
        return builtins.bool(k)
    if isinstance(k, (builtins.int, np.integer)) or (
            isinstance(k, (np.ndarray, jax.Array)) and k.ndim == 0 and k.dtype.kind in "iu"):
        # Inside a transform (func.vmap's per-element index) the value is not at hand: an
        # index array of no dimensions takes its dimension away as an int does.
        return k if isinstance(k, jax.core.Tracer) else builtins.int(k)
    if isinstance(k, (np.ndarray, jax.Array)) and k.dtype.kind not in "iub":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if isinstance(k, (builtins.float, builtins.complex, builtins.str)):
        raise IndexError(
            "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
            f"are valid indices (got {type(k).__name__})"
        )
    return k


def _width(k) -> int:
    """How many of the tensor's dimensions an index part takes."""
    if type(k) in _PLAIN_KEYS:
        return 0 if k is None or k is Ellipsis else 1
    if type(k) is builtins.bool:
        return 0
    return k.ndim if k.dtype == np.bool_ else 1


def _check_key(shape: tuple, keys: list) -> list[int]:
    """torch's errors for an index of a tensor of ``shape``: more indices than dimensions, a
    mask of another shape than the dimensions it covers, an index out of range (of an index
    array too, when its values are at hand: not inside a JAX transform). Returns the first
    dimension each part indexes."""
    widths = [_width(k) for k in keys]
    if builtins.sum(widths) > len(shape):
        if not shape and isinstance(keys[0], builtins.int):
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    dim, arrays_seen, dims = 0, 0, []
    for i, k in enumerate(keys):
        dims.append(dim)
        if k is Ellipsis:
            dim = len(shape) - builtins.sum(widths[i + 1:])
            continue
        if type(k) is builtins.int:
            if not -shape[dim] <= k < shape[dim]:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size "
                                 f"{shape[dim]}")
        elif type(k) is builtins.bool:
            # With a None, JAX puts the new dimensions elsewhere than torch; with an int, so
            # does it when a slice lies between them (NumPy's rule for advanced indices).
            if builtins.any(j is None or type(j) is builtins.int for j in keys):
                raise IndexError(
                    "funcgrad indexes with a bool only together with slices, ... and other "
                    "bools, but this index also has an int or None; index in two steps, e.g. "
                    "x[0][True] for x[0, True]")
        elif type(k) not in _PLAIN_KEYS and not isinstance(k, jax.core.Tracer):
            covered = shape[dim:dim + widths[i]]
            if k.dtype == np.bool_:
                for j, (m, n) in enumerate(zip(k.shape, covered)):
                    if m != n:
                        raise IndexError(
                            f"The shape of the mask {list(k.shape)} at index {j} does not "
                            f"match the shape of the indexed tensor {list(covered)} at index {j}"
                        )
            else:
                bad = _outside(k, -covered[0], covered[0])
                if bad is not None:
                    raise IndexError(f"index {bad} is out of bounds for dimension "
                                     f"{arrays_seen} with size {covered[0]}")
            arrays_seen += 1
        dim += widths[i]
    return dims


def _cut(x, spec: tuple, arrays: Sequence) -> tuple:
    """``x`` cut to the spec's slices whose start is an operand (one ``lax.dynamic_slice``),
    the start indices of the cut (None when there are none) and the index that remains: each
    such slice a static ``::step`` of the cut, the other parts as they are."""
    it = iter(arrays)
    starts, sizes, rest = [np.int32(0)] * x.ndim, list(x.shape), []  # as _int_operand's
    for s in spec:
        if s == _ARRAY or s == _INT:
            rest.append(next(it))
        elif not isinstance(s, tuple):
            rest.append(s)
        elif s[0] == _BOOL:
            rest.append(s[1])
        elif s[0] == "dslice":
            _, dim, length, step = s
            starts[dim], sizes[dim] = next(it), (length - 1) * step + 1
            rest.append(slice(None, None, step))
        else:
            rest.append(slice(*s[1:]))
    if not builtins.any(isinstance(s, tuple) and s[0] == "dslice" for s in spec):
        return x, None, tuple(rest)
    return jax.lax.dynamic_slice(x, starts, sizes), starts, tuple(rest)


def _get(x, *arrays, spec):
    cut, _, rest = _cut(x, spec, arrays)
    return cut[rest]


def _put(x, v, *arrays, spec, accumulate: bool = False):
    cut, starts, rest = _cut(x, spec, arrays)
    cut = _write(cut.at[rest], jnp.asarray(v, x.dtype), accumulate)
    return cut if starts is None else jax.lax.dynamic_update_slice(x, cut, starts)


def _write(at, values, accumulate: bool):
    """``at.add(values)`` or ``at.set(values)``: writes that add up or overwrite."""
    return at.add(values) if accumulate else at.set(values)


def _index_name(x, spec: tuple) -> str:
    """The node of the last view torch's indexing makes, left to right: a lone slice is always
    sliced, but within a tuple a slice that keeps the whole dimension is skipped."""
    if builtins.any(s == _ARRAY or isinstance(s, tuple) and s[0] == _BOOL for s in spec):
        return "IndexBackward0"
    if len(spec) == 1 and isinstance(spec[0], tuple) and spec[0][0] in ("slice", "dslice"):
        return "SliceBackward0"
    name, dim = "AliasBackward0", 0
    for i, s in enumerate(spec):
        if s is None:
            name = "UnsqueezeBackward0"
        elif s is Ellipsis:
            dim = x.ndim - builtins.sum(t is not None and t is not Ellipsis for t in spec[i + 1:])
        elif s == _INT:
            name, dim = "SelectBackward0", dim + 1
        elif s[0] == "dslice":  # never the whole dimension, see _index
            name, dim = "SliceBackward0", dim + 1
        else:
            size = x.shape[dim]
            if slice(*s[1:]).indices(size) != (0, size, 1):
                name = "SliceBackward0"
            dim += 1
    return name


GETITEM = Op("getitem", _get, lambda x, *arrays, spec: _index_name(x, spec))
INDEX_PUT = Op("index_put", _put, lambda *_, spec, accumulate: "IndexPutBackward0"
               if _ARRAY in spec else "torch::autograd::CopySlices")


# Basic indexing (ints, slices, None, ...) needs only the input's shape and the ints (kept when
# the graph is freed, see _GraphNode._free); index arrays are saved.
GETITEM_BASIC = dataclasses.replace(GETITEM, saves=False)


def _getitem(self, key) -> Tensor:
    spec, arrays = _index(self, key)
    return apply(GETITEM if _ARRAY in spec else GETITEM_BASIC, self, *arrays, spec=spec)


def _setitem(self, key, value) -> None:
    _check_writable(self, "a view of a leaf Variable")  # torch writes through a view
    spec, arrays = _index(self, key)
    _inplace(self, put_at(self, value, spec, arrays))


def put_at(input, value, spec: tuple, arrays: tuple, accumulate: bool = False) -> Tensor:
    """``input`` with ``value`` written (or added) where the index ``spec`` (and its index
    ``arrays``) picks, raising torch's error for a value that does not broadcast there: with
    tensors in the index, a shape mismatch; else, expand's."""
    try:
        return apply(INDEX_PUT, input, value, *arrays, spec=spec,
                     accumulate=builtins.bool(accumulate))
    except ValueError:
        if isinstance(value, Tensor):
            target = tuple(jax.eval_shape(functools.partial(_get, spec=spec), input._peek(),
                                          *arrays).shape)
            if builtins.any(s == _ARRAY or isinstance(s, tuple) and s[0] == _BOOL for s in spec):
                raise RuntimeError(f"shape mismatch: value tensor of shape {list(value.shape)} "
                                   "cannot be broadcast to indexing result of shape "
                                   f"{list(target)}") from None
            _check_expand(value, target)
        raise


# ----- softmax and friends ---------------------------------------------------------------------
SOFTMAX = Op("softmax", lambda x, axis: jax.nn.softmax(x, axis=axis), "SoftmaxBackward0")
LOG_SOFTMAX = Op("log_softmax", lambda x, axis: jax.nn.log_softmax(x, axis=axis),
                 "LogSoftmaxBackward0")


def _softmax_axis(input, dim, name: str) -> int:
    """``dim``, required as torch requires it of ``funcgrad.softmax`` and the methods (only
    ``nn.functional``'s picks one, with a warning, when it is None)."""
    if dim is None:
        raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')
    return builtins.int(dim)


def softmax(input, dim=None, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``.

    >>> import funcgrad
    >>> funcgrad.softmax(funcgrad.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    axis = _softmax_axis(input, dim, "softmax")
    x = input if dtype is None else to(input, dtype)
    return apply(SOFTMAX, x, axis=axis)


def log_softmax(input, dim=None, dtype=None) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed stably."""
    axis = _softmax_axis(input, dim, "log_softmax")
    x = input if dtype is None else to(input, dtype)
    return apply(LOG_SOFTMAX, x, axis=axis)


# ----- conversion ------------------------------------------------------------------------------
def to(input, *args, dtype=None, device=None, copy: bool = False, non_blocking: bool = False,
       memory_format=_layouts.preserve_format):
    """Converts to another dtype and/or device: ``to(dtype)``, ``to(device)``,
    ``to(device, dtype)``, ``to(other_tensor)``. Gradients flow back through the conversion.

    >>> import funcgrad
    >>> funcgrad.tensor([1.5]).to(funcgrad.float16)
    tensor([1.5000], dtype=funcgrad.float16)
    """
    _layouts.check("to", memory_format, input.ndim)
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, (str, _devices.device, jax.Device)):
            device = a
        else:
            dtype = a
    out = input
    if dtype is not None and np.dtype(_dtypes.resolve(dtype)) != input.dtype:
        out = apply(TO_DTYPE, out, dtype=_dtypes.resolve(dtype))
    if device is not None:
        target = _devices.device(device)
        if target != input.device:
            out = apply(TO_DEVICE, out, device=target.jax_device,
                        source=input.device.jax_device)
    return clone(out) if copy and out is input else out


def _converter(dtype):
    return lambda self: to(self, dtype)


def cuda(input, device=None) -> Tensor:
    """A copy on the (first, or given) CUDA device."""
    if isinstance(device, builtins.int):
        device = f"cuda:{device}"
    return to(input, "cuda" if device is None else device)


def cpu(input) -> Tensor:
    """A copy on the CPU (the tensor itself when it is there already)."""
    return to(input, "cpu")


def _legacy_type(self, dtype=None, non_blocking: bool = False, **kwargs):
    """With no ``dtype``, the legacy type name (``'funcgrad.FloatTensor'``, with ``cuda.``
    before the name on a GPU); else the tensor converted to ``dtype``: a dtype, or a legacy type
    (``funcgrad.FloatTensor``) or its name (``torch.`` or ``funcgrad.``), which also says the
    device (a CPU one without ``cuda.``).
    """
    if dtype is None:
        return _legacy_types.type_name(self)
    if not isinstance(dtype, (str, _legacy_types.TensorType)):
        return to(self, dtype)
    dtype, device = _legacy_types.parse(dtype)
    return to(to(self, device), dtype)


def _chalf(self, memory_format=None) -> Tensor:
    """torch's ``chalf()``, refused: JAX has no complex dtype of half precision."""
    raise RuntimeError("chalf() would make a ComplexHalf (complex32) tensor, which JAX has no "
                       "dtype for: use .cfloat() (complex64) instead.")


def fix(input) -> Tensor:
    """``trunc``: rounds toward zero."""
    return apply(UNARY["trunc"], input)


def positive(input) -> Tensor:
    """``input`` itself (torch's error for a bool tensor)."""
    if input.dtype == _dtypes.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def ger(input, vec2) -> Tensor:
    """``outer``, by its older name."""
    return outer(input, vec2)


def split_with_sizes(input, split_sizes, dim: int = 0) -> tuple:
    """``split`` into pieces of the sizes in ``split_sizes``."""
    return split(input, list(split_sizes), dim)


def sum_to_size(self, *size) -> Tensor:
    """The sum of this tensor down to ``size``, a shape that broadcasts to this one's: over the
    leading dimensions ``size`` lacks and those where it has 1 (the tensor itself when it has
    that shape already)."""
    size = tuple(size[0] if len(size) == 1 and not isinstance(size[0], builtins.int) else size)
    shape = tuple(self.shape)
    lead = len(shape) - len(size)
    if lead < 0 or builtins.any(n not in (1, m) for n, m in zip(size, shape[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    if size == shape:
        return self
    dims = (*range(lead), *(lead + i for i, n in enumerate(size) if n == 1 != shape[lead + i]))
    out = sum(self, dims, keepdim=True)
    return reshape(out, *size) if lead else out


# ----- in place --------------------------------------------------------------------------------
ZERO = Op("zero", jnp.zeros_like, "ZeroBackward0", saves=False)
# fill and fill_ with a number (FillBackward0, 2) or a 0-d tensor, whose gradient is the sum
# of the output's (FillBackward1, 3).
FILL = Op("fill", lambda x, value, inplace: jnp.full_like(x, value),
          lambda x, value, inplace: "FillBackward2" if inplace else "FillBackward0", saves=False)
FILL_TENSOR = Op("fill", lambda x, value, inplace: jnp.broadcast_to(
    value.astype(x.dtype), x.shape), lambda x, value, inplace: "FillBackward3" if inplace
    else "FillBackward1", saves=False)
# Broadcast against the destination, as torch does, so a mismatch gets torch's errors: apply's
# for shapes that do not broadcast, _inplace's for a result larger than the destination.
COPY = Op("copy", lambda x, src: jnp.broadcast_to(
    jnp.asarray(src).astype(x.dtype), jnp.broadcast_shapes(x.shape, jnp.shape(src))),
    "torch::autograd::CopyBackwards", saves=False)


def _check_writable(self: Tensor, what: str) -> None:
    """torch's rules for writing into ``self``: not into an inference tensor outside inference
    mode; and while grad mode is on, not into a leaf that requires grad (``what`` names it),
    nor into a tensor a module's backward hooks passed through (torch's view of the input of
    its BackwardHookFunction)."""
    check_not_inference(self._storage, "inplace")
    if not is_grad_enabled():
        return
    if self._requires_grad and self.grad_fn is None:
        raise RuntimeError(f"{what} that requires grad is being used in an in-place operation.")
    if type(self.grad_fn) is _Output:
        raise RuntimeError(
            f"Output {self.grad_fn.index} of BackwardHookFunction is a view and is being "
            "modified inplace. This view was created inside a custom Function (or because an "
            "input was returned as-is) and the autograd logic to handle view+inplace would "
            "override the custom backward associated with the custom Function, leading to "
            "incorrect gradients. This behavior is forbidden. You can fix this by cloning the "
            "output of the custom Function.")


def _inplace(self: Tensor, result: Tensor, reshape: bool = False) -> Tensor:
    """Makes ``self`` hold ``result`` (an op's output computed from ``self``), torch's rules
    first: a leaf that requires grad cannot change in place while grad mode is on, and the
    result must keep ``self``'s shape (unless the op is one that ``reshape``s) and be castable
    to its dtype."""
    _check_writable(self, "a leaf Variable")
    array, new = self._peek(), result._peek()  # (shape and dtype without a Size object each)
    if new.shape != array.shape and not reshape:
        raise RuntimeError(
            f"output with shape {list(self.shape)} doesn't match the broadcast shape "
            f"{list(result.shape)}"
        )
    node = result.grad_fn  # the in-place op's own node, before any cast back to self's dtype
    if new.dtype != array.dtype:
        if not np.can_cast(result.dtype, self.dtype, "same_kind") and not (
            result.dtype.kind == self.dtype.kind == "f"
        ):
            raise RuntimeError(
                f"result type {_dtypes.scalar_name(result.dtype)} can't be cast "
                f"to the desired output type {_dtypes.scalar_name(self.dtype)}"
            )
        result = to(result, self.dtype)
    self._write(result._peek())
    if node is not None:
        node._snapshot_self()
    if result.grad_fn is not None:
        self.grad_fn = result.grad_fn
        self._requires_grad = True
        self._rebound()
    if _forward_ad.tangents:
        _take_tangent(self, result)
    return self


def _take_tangent(self: Tensor, result: Tensor) -> None:
    """Forward-mode AD: ``self``, overwritten in place by ``result``, takes its tangent; a
    dual ``self`` overwritten by a value no tangent reaches (``fill_``, ``sign_``) keeps a zero
    one, as in torch."""
    tangent = _forward_ad.tangent_of(result)
    if tangent is None and _forward_ad.tangent_of(self) is not None:
        array = self._peek()
        tangent = Tensor._wrap(filled(0, array.shape, array.dtype))
    if tangent is not None:
        _forward_ad.set_tangent(self, tangent)


def _make_inplace(fn):
    @autocast_policy(NONE)  # torch's autocast leaves in-place ops as they are
    def method(self, *args, **kwargs):
        if not _graph.saved_hooks:
            return _inplace(self, fn(self, *args, **kwargs))
        with _graph.overwriting(self):
            result = fn(self, *args, **kwargs)
        return _inplace(self, result)

    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place ``{fn.__name__}``: rebinds this tensor and returns it."
    return method


def _reshaping(fn):
    """The in-place method of ``fn``, an op that changes the shape (``unsqueeze_``)."""
    return lambda self, *args: _inplace(self, fn(self, *args), reshape=True)


def resize_(self, *sizes, memory_format=None) -> Tensor:
    """Gives this tensor the shape ``sizes``, keeping its leading elements in order; where it
    grows, the new elements are ``uninitialized``'s (torch leaves that memory as it was, but
    fills it as ``empty`` under deterministic algorithms). Not for a tensor
    that requires grad, as in torch.

    >>> import funcgrad
    >>> funcgrad.arange(6.0).resize_(2, 2)
    tensor([[0., 1.],
            [2., 3.]])
    """
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    check_not_inference(self._storage, "inplace")
    shape = _shape_arg(sizes)
    if builtins.any(n < 0 for n in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {builtins.min(shape)}:"
                           f" {list(shape)}")
    if shape == tuple(self.shape):  # torch leaves it, version and all
        return self
    flat, size = self._read().ravel(), math.prod(shape)
    grown = jnp.concatenate([flat[:size],
                             uninitialized((builtins.max(size - flat.size, 0),), flat.dtype)])
    self._write(grown.reshape(shape))
    self._rebound()
    return self


# torch's autograd Function behind the deprecated out-of-place resize
RESIZE = dataclasses.replace(RESHAPE, grad_fn="ResizeBackward")


def resize(self, *sizes) -> Tensor:
    """Deprecated as in torch (it warns so): ``self`` reshaped to ``sizes``, which must keep
    the number of elements.

    Raises:
        RuntimeError: torch's, for ``sizes`` of another number of elements.
    """
    warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
    return _resized(self, _shape_arg(sizes))


def resize_as(self, tensor) -> Tensor:
    """Deprecated as in torch (it warns so): ``self`` reshaped to ``tensor``'s shape, which
    must keep the number of elements."""
    warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
    return _resized(self, tuple(tensor.shape))


def _resized(self, shape: tuple) -> Tensor:
    if math.prod(shape) != self.numel():
        raise RuntimeError(
            f"requested resize to {'x'.join(map(str, shape))} ({math.prod(shape)} elements in "
            f"total), but the given tensor has a size of {'x'.join(map(str, self.shape))} "
            f"({self.numel()} elements). autograd's resize can only change the shape of a "
            "given tensor, while preserving the number of elements. ")
    return apply(RESIZE, self, shape=shape)


ALIAS = Op("alias", lambda x: x, "AliasBackward0", saves=False)


def as_subclass(self, cls) -> Tensor:
    """A ``cls`` tensor sharing this one's storage (writes to either show in both), attached
    to the graph through an alias node, as torch's.

    >>> import funcgrad
    >>> class Marked(funcgrad.Tensor):
    ...     pass
    >>> type(funcgrad.ones(2).as_subclass(Marked)).__name__
    'Marked'

    Raises:
        TypeError: torch's, for a ``cls`` that is not a Tensor subclass.
    """
    if not isinstance(cls, type):
        raise TypeError(f"cls must be a type (got {type(cls).__name__})")
    if not issubclass(cls, Tensor):
        raise TypeError("Creating a Tensor subclass from a class that does not inherit from "
                        "Tensor is not possible. Make sure your class inherits from Tensor.")
    alias = apply(ALIAS, self)
    result = object.__new__(cls)
    result._init(self._storage, alias.requires_grad, alias.grad_fn)
    return result


def float_power_(self, exponent) -> Tensor:
    """In-place ``float_power``: only for a tensor that is already float64 (complex128 for a
    complex result), as in torch."""
    result = float_power(self, exponent)
    if result.dtype != self.dtype:
        raise RuntimeError(f"the base given to float_power_ has dtype "
                           f"{_dtypes.scalar_name(self.dtype)} but the operation's result "
                           f"requires dtype {_dtypes.scalar_name(result.dtype)}")
    return _inplace(self, result)


def _inplace_unary(op: Op):
    """The in-place method of the one-input ``op``."""
    return lambda self: _inplace(self, apply(op, self))


def zero_(self) -> Tensor:
    """Fills with zeros, in place.

    >>> import funcgrad
    >>> funcgrad.tensor([1.0, 2.0]).zero_()
    tensor([0., 0.])
    """
    array = self._peek()
    # Outside the graph (the usual ``.grad.zero_()``), the new value is a constant that needs
    # no op: one shared array per shape and dtype. It has no weak type and the one device's
    # placement, so weakly typed tensors, and tensors where there are several devices, take
    # the op.
    if not (self._requires_grad or array.weak_type or _forward_ad.tangents) and (
            _lazy._one_device() is not None):
        check_not_inference(self._storage, "inplace")
        self._write(filled(0, array.shape, array.dtype))
        return self
    return _inplace(self, apply(ZERO, self))


def fill(input, value) -> Tensor:
    """A tensor of ``input``'s shape and dtype filled with ``value``, a number or a 0-d tensor
    (which then gets the gradient, summed).

    >>> import funcgrad
    >>> funcgrad.fill(funcgrad.ones(2), funcgrad.tensor(2.5))
    tensor([2.5000, 2.5000])

    Raises:
        RuntimeError: torch's, for a value tensor of any other dimension.
    """
    return _fill(input, value, False)


def fill_(self, value) -> Tensor:
    """Fills with ``value`` (a number or a 0-d tensor), in place."""
    return _inplace(self, _fill(self, value, True))


def apply_(self, callable) -> Tensor:
    """Replaces each element with ``callable(element)``, called on the values as Python
    numbers (read to the host), in place and unrecorded: torch's CPU element loop.

    >>> import funcgrad
    >>> funcgrad.tensor([1.0, 2.0]).apply_(lambda v: v * 10)
    tensor([10., 20.])

    Raises:
        RuntimeError: torch's, for a tensor that requires grad.
    """
    return _map("apply_", self, (), callable)


def map_(self, other, callable) -> Tensor:
    """Replaces each element with ``callable(element, other's element)``, ``other``
    broadcast to this tensor's shape (see ``apply_``)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"map_(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(other).__name__}")
    return _map("map_", self, (other,), callable)


def map2_(self, x, y, callable) -> Tensor:
    """Replaces each element with ``callable(element, x's, y's)``, ``x`` and ``y`` broadcast
    to this tensor's shape (see ``apply_``)."""
    return _map("map2_", self, (x, y), callable)


def _map(name: str, self, others: tuple, callable) -> Tensor:
    if builtins.any(t.requires_grad for t in (self, *others)):
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use "
                           f"var.detach().{name}() instead.")
    columns = [np.asarray(self._read()).ravel().tolist()] + [
        np.asarray(expand(t, *self.shape)._read()).ravel().tolist() for t in others]
    convert = {"b": builtins.bool, "c": builtins.complex, "f": builtins.float}.get(
        self.dtype.kind, builtins.int)  # (the number types torch converts the results to)
    values = []
    for args in zip(*columns):
        value = callable(*args)
        if not isinstance(value, (numbers.Number, np.number)):
            raise TypeError(f"must be real number, not {type(value).__name__}")
        values.append(convert(value))
    array = np.asarray(values, self.dtype).reshape(self.shape)
    self._write(jax.device_put(array, next(iter(self._read().devices()))))
    return self


def _fill(input, value, inplace: bool) -> Tensor:
    if not isinstance(value, Tensor):
        return apply(FILL, input, value=value, inplace=inplace)
    if value.ndim:
        raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    return apply(FILL_TENSOR, input, value, inplace=inplace)


def copy_(self, src, non_blocking: bool = False) -> Tensor:
    """Copies ``src`` (broadcast, cast) into this tensor, in place; gradients flow to ``src``."""
    return _inplace(self, apply(COPY, self, src))


def set_(self, source: Tensor | None = None) -> Tensor:
    """Makes this tensor hold ``source``'s storage (its shape and values, shared from now on:
    a write to either shows in both), or an empty one; the dtypes must agree."""
    _check_writable(self, "a leaf Variable")
    if source is None:
        source = Tensor._wrap(jnp.zeros((0,), self.dtype))
    if source.dtype != self.dtype:
        got, want = (_dtypes.scalar_name(t.dtype).lower() for t in (source, self))
        raise RuntimeError(f"Could not set tensor of type {got} to a tensor of type {want}")
    self._storage = source._storage
    self._rebound()
    return self


# ----- the Tensor's methods and operators, from the functions above ---------------------------
for _name in UNARY:
    globals()[_name] = _unary(_name)
for _name, _op in COMPARE.items():
    globals()[_name] = (lambda op: lambda input, other: apply(op, input, other))(_op)


def _round_decimals(x, decimals: int):
    """torch's kernel: scale by 10^|decimals| (dividing by it for negative ``decimals``),
    round half to even and scale back, in float32 at least. JAX's ``round`` multiplies back by
    the inexact 10^-decimals (3.0 to three places gives 3.0000002), and so does XLA for a
    division by a constant or a broadcast scalar: the barrier keeps the scale an array of x's
    shape that XLA knows nothing of. (Under vmap it is broadcast again: a last bit may differ.)"""
    y = x.astype(jnp.promote_types(x.dtype, jnp.float32))
    scale = jax.lax.optimization_barrier(
        jnp.full(y.shape, 10.0 ** (decimals if decimals >= 0 else -decimals), y.dtype))
    y = jnp.round(y * scale) / scale if decimals >= 0 else jnp.round(y / scale) * scale
    return y.astype(x.dtype)


# round with decimals, which torch records as RoundBackward1 (decimals=0 included).
ROUND_DECIMALS = Op("round_decimals", _round_decimals, "RoundBackward1", saves=False)


def round(input, *, decimals: int | None = None) -> Tensor:
    """``input`` rounded half to even, to ``decimals`` decimal places when given (negative:
    to tens, hundreds…).

    Raises:
        NotImplementedError: torch's, for ``decimals`` on an integer tensor.

    >>> import funcgrad
    >>> funcgrad.tensor([1.2345, 2.5, 1250.0]).round(decimals=2)
    tensor([1.2300e+00, 2.5000e+00, 1.2500e+03])
    """
    if decimals is None:
        return apply(UNARY["round"], input)
    if not _dtypes.is_inexact(input.dtype):
        raise NotImplementedError(
            f"\"round_cpu\" not implemented for '{_dtypes.scalar_name(input.dtype)}'")
    return apply(ROUND_DECIMALS, input, decimals=int(decimals))


def logical_not(input) -> Tensor:
    """Elementwise ``not``."""
    return apply(LOGICAL_NOT, input)


def isnan(input) -> Tensor:
    """Where the elements are NaN."""
    return apply(ISNAN, input)


def isfinite(input) -> Tensor:
    """Where the elements are finite."""
    return apply(ISFINITE, input)


def isinf(input) -> Tensor:
    """Where the elements are infinite."""
    return apply(ISINF, input)


# torch's NumPy-style names for the functions above.
_ALIASES = dict(absolute="abs", negative="neg", arccos="acos", arccosh="acosh", arcsin="asin",
                arcsinh="asinh", arctan="atan", arctanh="atanh", greater="gt",
                greater_equal="ge", less="lt", less_equal="le", not_equal="ne")
for _alias, _name in _ALIASES.items():
    globals()[_alias] = globals()[_name]
multiply, divide, true_divide, subtract, arctan2, swapdims = mul, div, div, sub, atan2, transpose


def ravel(input) -> Tensor:
    """The elements as a 1-D tensor."""
    return reshape(input, -1)


def _reflected(fn):
    return lambda self, other: fn(other, self)


def _t_property(self) -> Tensor:
    if self.ndim > 2:
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to "
            "reverse the dimensions of a tensor.", UserWarning, stacklevel=2,
        )
    return permute(self, *range(self.ndim - 1, -1, -1))


def _mt_property(self) -> Tensor:
    if self.ndim == 1:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                           "Got 1-D tensor.")
    if self.ndim == 0:
        warnings.warn("Tensor.mT is deprecated on 0-D tensors. This function is the identity "
                      "in these cases.", UserWarning, stacklevel=2)
        return self
    return transpose(self, -2, -1)


def _adjoint(self, name: str) -> Tensor:
    """``x.H`` (``name``; of a matrix) or ``x.mH`` (of a batch of matrices): the conjugate
    transpose, with torch's error and warning."""
    if self.ndim == 0:
        what = name if name == "adjoint()" else f"Tensor.{name}"
        warnings.warn(f"{what} is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=3)
        return self.conj()
    if name == "H" and self.ndim != 2:
        raise RuntimeError("tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self.ndim}-D tensor."
                           + (" For batches of matrices, consider using tensor.mH"
                              if self.ndim > 2 else ""))
    if self.ndim == 1:
        raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of "
                           "matrices. Got 1-D tensor.")
    return transpose(self, -2, -1).conj()


def adjoint(input) -> Tensor:
    """The conjugate transpose of a matrix or a batch of them (``input.mH``)."""
    return _adjoint(input, "adjoint()")


def rsub(input, other, *, alpha=1) -> Tensor:
    """``other - alpha * input``."""
    return apply(RSUB, input, other) if alpha == 1 else apply(RSUB, input, other, alpha=alpha)


def detach(input) -> Tensor:
    """``input.detach()``: the same values, with no history and no grad."""
    return input.detach()


def _install() -> None:
    m = globals()
    methods = {name: m[name] for name in (
        *UNARY, *COMPARE, "add", "sub", "mul", "div", "floor_divide", "remainder", "pow",
        "maximum", "minimum", "atan2", "clamp", "clip", "masked_fill", "sum", "mean", "prod",
        "max", "min", "amax", "amin", "argmax", "argmin", "all", "any", "var", "std", "norm",
        "logsumexp",
        "cumsum", "cumprod", "matmul", "mm", "bmm", "mv", "dot", "outer", "inverse", "det",
        "logdet", "slogdet", "matrix_power", "svd", "qr", "cholesky", "reshape", "flatten",
        "squeeze", "unsqueeze", "transpose", "swapaxes", "permute", "t", "expand",
        "broadcast_to", "split", "chunk", "unbind", "narrow", "select", "flip", "roll", "repeat",
        "tril", "triu", "diag", "trace", "gather", "clone", "nonzero", "softmax", "log_softmax",
        "to", "cuda", "cpu", "logical_not", "isnan", "isfinite", "zero_", "fill_", "copy_", "set_",
        "hypot", "fmod", "lerp", "isclose", "allclose", "argsort", "sort", "topk", "addmm",
        "tile", "movedim", "clamp_min", "clamp_max", "nan_to_num", "addcmul", "addcdiv", "dist",
        "logcumsumexp", "nansum", "count_nonzero", "index_select", "scatter", "scatter_add",
        "unflatten", "diff", "logaddexp", "logaddexp2", "xlogy", "copysign", "heaviside",
        "logit", "signbit", "isinf", "diagonal", "diag_embed", "diagflat", "tensor_split",
        "hsplit", "vsplit", "dsplit", "rot90", "fliplr", "flipud", "take", "take_along_dim",
        "repeat_interleave", "kron", "inner", "vdot", "median", "nanmedian", "kthvalue",
        "cummax", "cummin", "nanmean", "quantile", "nanquantile", "aminmax", "cross",
        "float_power", "fix", "positive", "ger", "split_with_sizes", "fmax", "fmin", "ldexp",
        "frexp", "nextafter", "select_scatter", "slice_scatter", "diagonal_scatter", "addr",
        "resolve_neg", "unsafe_split", "unsafe_split_with_sizes", "unsafe_chunk",
        "narrow_copy", "as_strided", "apply_", "map_", "map2_", "as_strided_",
        "as_strided_scatter", "resize", "resize_as", "as_subclass",
    )}
    methods.update({alias: m[name] for alias, name in _ALIASES.items()})
    methods.update(
        view=reshape, multiply=mul, moveaxis=movedim, subtract=sub, divide=div, true_divide=div,
        arctan2=atan2, swapdims=transpose, ravel=ravel,
        where=lambda self, condition, other: where(condition, self, other),
        view_as=lambda self, other: reshape(self, *other.shape),
        reshape_as=lambda self, other: reshape(self, *other.shape),
        expand_as=lambda self, other: expand(self, *other.shape),
        type_as=lambda self, other: to(self, other.dtype),
        contiguous=contiguous,
        float=_converter(_dtypes.float32), double=_converter(_dtypes.float64),
        half=_converter(_dtypes.float16), bfloat16=_converter(_dtypes.bfloat16),
        int=_converter(_dtypes.int32), long=_converter(_dtypes.int64),
        bool=_converter(_dtypes.bool), byte=_converter(_dtypes.uint8),
        char=_converter(_dtypes.int8), short=_converter(_dtypes.int16),
        cfloat=_converter(_dtypes.complex64), cdouble=_converter(_dtypes.complex128),
        chalf=_chalf,
        type=_legacy_type, sum_to_size=sum_to_size, is_neg=lambda self: False,
        adjoint=adjoint, resize_=resize_,
        resize_as_=lambda self, other, memory_format=None: resize_(self, *other.shape),
        float_power_=float_power_,
        unsqueeze_=_reshaping(lambda self, dim: apply(UNSQUEEZE_, self, axis=builtins.int(dim))),
        squeeze_=_reshaping(lambda self, dim=None: _squeeze(self, dim, SQUEEZE_)),
        t_=_reshaping(lambda self: _t(self, T_)), addmm_=_make_inplace(addmm),
        transpose_=_reshaping(lambda self, dim0, dim1: _transpose(self, dim0, dim1, TRANSPOSE_)),
        __add__=add, __radd__=add, __sub__=sub, __rsub__=lambda self, o: apply(RSUB, self, o),
        __mul__=mul, __rmul__=mul, __truediv__=div,
        __rtruediv__=lambda self, o: mul(m["reciprocal"](self), o),  # torch's graph for 2 / x
        __floordiv__=floor_divide, __rfloordiv__=_reflected(floor_divide),
        __mod__=remainder, __rmod__=_reflected(remainder), __pow__=pow, __rpow__=_reflected(pow),
        __matmul__=matmul, __rmatmul__=_reflected(matmul), __neg__=m["neg"],
        __pos__=lambda self: self, __abs__=m["abs"], __eq__=m["eq"], __ne__=m["ne"],
        __lt__=m["lt"], __le__=m["le"], __gt__=m["gt"], __ge__=m["ge"],
        __getitem__=_getitem, __setitem__=_setitem,
        T=property(_t_property), mT=property(_mt_property),
        H=property(lambda self: _adjoint(self, "H")),
        mH=property(lambda self: _adjoint(self, "mH")),
    )
    for name in (*UNARY, "add", "sub", "mul", "div", "pow", "clamp", "clip", "masked_fill",
                 "clamp_min", "clamp_max", "nan_to_num", "addcmul", "addcdiv", "lerp", "cumsum",
                 "scatter", "scatter_add", "xlogy", "copysign", "logit", *COMPARE, *_ALIASES,
                 "multiply", "divide", "true_divide", "subtract", "atan2", "arctan2", "fmod",
                 "remainder", "hypot", "heaviside", "floor_divide", "cumprod", "fix",
                 "logical_not", "ldexp", "nextafter", "addr"):
        methods[name + "_"] = _make_inplace(methods[name])
    methods["swapaxes_"] = methods["swapdims_"] = methods["transpose_"]
    # torch records these three in place under a node of their own (whose VJP is the same)
    for name in ("asinh", "acosh", "atanh"):
        methods[name + "_"] = methods["arc" + name[1:] + "_"] = _inplace_unary(
            dataclasses.replace(UNARY[name], grad_fn=UNARY[name].grad_fn[:-1] + "1"))
    for name, op in dict(__iadd__="add", __isub__="sub", __imul__="mul", __itruediv__="div",
                         __ipow__="pow").items():
        methods[name] = methods[op + "_"]
    for name, fn in methods.items():
        setattr(Tensor, name, fn)


_install()

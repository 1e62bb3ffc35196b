"""More of torch's math: integer and bitwise ops, special functions (``polygamma``,
``mvlgamma``, ``i0``), batched products (``addmv``, ``addbmm``, ``baddbmm``), integration
(``trapezoid``), statistics (``cov``, ``corrcoef``, ``mode``), ``renorm``, ``unfold``,
``combinations`` and a few in-place ops, each with torch's ``grad_fn`` name; and the ``sym_*``
helpers, which are plain Python math here, with no symbolic shapes to trace.
"""

from __future__ import annotations

import builtins
import itertools
import math
import warnings

import jax.numpy as jnp
import jax.scipy.special
import numpy as np

from . import _dtypes
from ._autocast import LOWER, NONE, autocast_policy
from ._graph import Op, apply
from ._ops import (
    _AT_INDEX,
    MAX_DIM,
    _at_index,
    _check_writable,
    _inplace,
    _make_inplace,
    _vector_norm,
    _wrap_dim,
    cat,
    clone,
    narrow,
    sort,
    stack,
    tril,
    triu,
)
from ._tensor import Tensor


# ----- integers and bits: outside the graph ----------------------------------------------------
def _integers_only(name: str, fn, bools: bool = True):
    """``fn``, refusing what torch's CPU kernel has no case for: floats (and, unless
    ``bools``, bools), with torch's error."""
    def checked(*operands):
        dtype = jnp.result_type(*operands)
        if jnp.issubdtype(dtype, jnp.inexact) or (dtype == jnp.bool_ and not bools):
            raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                      f"'{_dtypes.scalar_name(dtype)}'")
        return fn(*operands)

    return checked


_INTEGER_OPS = {
    "gcd": _integers_only("gcd", jnp.gcd, bools=False),
    "lcm": _integers_only("lcm", jnp.lcm, bools=False),
    "bitwise_and": _integers_only("bitwise_and", jnp.bitwise_and),
    "bitwise_or": _integers_only("bitwise_or", jnp.bitwise_or),
    "bitwise_xor": _integers_only("bitwise_xor", jnp.bitwise_xor),
    "bitwise_left_shift": _integers_only("lshift", jnp.left_shift, bools=False),
    "bitwise_right_shift": _integers_only("rshift", jnp.right_shift, bools=False),
}
INTEGER_OPS = {name: Op(name, fn, "", differentiable=False) for name, fn in _INTEGER_OPS.items()}
BITWISE_NOT = Op("bitwise_not", _integers_only("bitwise_not", jnp.invert), "",
                 differentiable=False)
ISPOSINF = Op("isposinf", jnp.isposinf, "", differentiable=False)
ISNEGINF = Op("isneginf", jnp.isneginf, "", differentiable=False)


def _binary(name: str):
    op = INTEGER_OPS[name]

    def fn(input, other) -> Tensor:
        return apply(op, input, other)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}`` of integers (and bools where torch takes them)."
    return fn


gcd, lcm, bitwise_and, bitwise_or, bitwise_xor, bitwise_left_shift, bitwise_right_shift = (
    _binary(name) for name in INTEGER_OPS)


def bitwise_not(input) -> Tensor:
    """Elementwise bitwise ``not`` of integers (``not`` of bools)."""
    return apply(BITWISE_NOT, input)


def isposinf(input) -> Tensor:
    """Where the elements are +inf."""
    return apply(ISPOSINF, input)


def isneginf(input) -> Tensor:
    """Where the elements are -inf."""
    return apply(ISNEGINF, input)


def equal(input, other) -> bool:
    """Whether the two tensors have the same shape and the same elements."""
    return tuple(input.shape) == tuple(other.shape) and builtins.bool(
        jnp.all(input._read() == other._read()))


# ----- special functions -----------------------------------------------------------------------
POLYGAMMA = Op("polygamma", lambda x, n: jax.scipy.special.polygamma(n, x), "PolygammaBackward0")
MVLGAMMA = Op("mvlgamma", lambda x, p: jax.scipy.special.multigammaln(x, p), "MvlgammaBackward0")
I0 = Op("i0", jax.scipy.special.i0, "I0Backward0")


def polygamma(n: int, input) -> Tensor:
    """The ``n``-th derivative of the digamma function at ``input``.

    >>> import funcgrad
    >>> funcgrad.polygamma(1, funcgrad.tensor([1.0]))  # pi ** 2 / 6
    tensor([1.6449])
    """
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return apply(POLYGAMMA, input, n=builtins.int(n))


def mvlgamma(input, p: int) -> Tensor:
    """The log of the multivariate gamma function of dimension ``p``."""
    return apply(MVLGAMMA, input, p=builtins.int(p))


def i0(input) -> Tensor:
    """The modified Bessel function of the first kind, of order 0."""
    return apply(I0, input)


# ----- products with an added term -------------------------------------------------------------
ADDMV = Op("addmv", lambda x, a, v, beta, alpha: beta * x + alpha * (a @ v), "AddmvBackward0")
ADDBMM = Op("addbmm", lambda x, a, b, beta, alpha: beta * x + alpha * jnp.einsum(
    "bij,bjk->ik", a, b), "AddbmmBackward0")
BADDBMM = Op("baddbmm", lambda x, a, b, beta, alpha: beta * x + alpha * (a @ b),
             "BaddbmmBackward0")


def addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``."""
    return apply(ADDMV, input, mat, vec, beta=beta, alpha=alpha)


@autocast_policy(LOWER)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha`` times the sum over the batch of ``batch1[i] @ batch2[i]``."""
    return apply(ADDBMM, input, batch1, batch2, beta=beta, alpha=alpha)


@autocast_policy(LOWER)
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (batch1 @ batch2)``, batch by batch."""
    return apply(BADDBMM, input, batch1, batch2, beta=beta, alpha=alpha)


@autocast_policy(LOWER)
def chain_matmul(*matrices) -> Tensor:
    """The product of the matrices, in the cheapest order (deprecated in torch, which warns,
    for ``linalg.multi_dot``)."""
    from .linalg import multi_dot

    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
                  "more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    return clone(matrices[0]) if len(matrices) == 1 else multi_dot(matrices)


# ----- integration and statistics --------------------------------------------------------------
def _trapezoid(y, x, dx, axis: int):
    return jnp.trapezoid(y, x, dx=1.0 if dx is None else dx, axis=axis)


def _cumulative_trapezoid(y, x, dx, axis: int):
    y = jnp.moveaxis(y, axis, -1)
    if x is None:
        widths = 1.0 if dx is None else dx
    else:
        widths = jnp.diff(x if x.ndim == 1 else jnp.moveaxis(x, axis, -1))
    areas = widths * (y[..., 1:] + y[..., :-1]) / 2
    return jnp.moveaxis(jnp.cumsum(areas, axis=-1), -1, axis)


def _integral_name(last: str):
    return lambda y, x, dx, **_: "DivBackward1" if x is not None else last


TRAPEZOID = Op("trapezoid", _trapezoid, _integral_name("MulBackward1"))
CUMULATIVE_TRAPEZOID = Op("cumulative_trapezoid", _cumulative_trapezoid,
                          _integral_name("CumsumBackward0"))


def _integral(op: Op, y, x, dx, dim: int) -> Tensor:
    axis = _wrap_dim(dim, y.ndim)
    if x is not None and x.ndim == 1 and x.shape[0] != y.shape[axis]:
        raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
    return apply(op, y, x, dx, axis=axis)


def trapezoid(y, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The integral of ``y`` along ``dim`` by the trapezoid rule, at points ``x`` or spaced
    ``dx`` (default 1).

    >>> import funcgrad
    >>> funcgrad.trapezoid(funcgrad.tensor([1.0, 2.0, 3.0]))
    tensor(4.)
    """
    return _integral(TRAPEZOID, y, x, dx, dim)


trapz = trapezoid  # torch's older name


@autocast_policy(NONE)
def gradient(input, *, spacing=1, dim=None, edge_order: int = 1) -> tuple[Tensor, ...]:
    """The derivative of ``input`` along each dimension of ``dim`` (every one by default) by
    central differences inside and one-sided differences of order ``edge_order`` (1 or 2) at
    the ends, as torch's (and NumPy's): points ``spacing`` apart (a number, one per dimension),
    or at the coordinates given as one 1-D tensor per dimension. Differentiable.

    >>> import funcgrad
    >>> funcgrad.gradient(funcgrad.tensor([1.0, 4.0, 9.0, 16.0]))
    (tensor([3., 4., 6., 7.]),)
    """
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = range(input.ndim) if dim is None else [dim] if isinstance(dim, int) else dim
    dims = [_wrap_dim(d, input.ndim) for d in dims]
    spacings = (list(spacing) if isinstance(spacing, (list, tuple)) else [spacing] * len(dims))
    if len(spacings) != len(dims):
        raise RuntimeError(
            "torch.gradient expected spacing to be unspecified, a scalar or it's spacing and "
            f"dim arguments to have the same length, but got a spacing argument of length "
            f"{len(spacings)} and a dim argument of length {len(dims)}." if dim is not None else
            "torch.gradient expected spacing to be unspecified, a scalar, or a list of length "
            f"equal to 'self.dim() = {input.ndim}', since dim argument was not given, but got "
            f"a list of length {len(spacings)}")
    if any(input.shape[d] < edge_order + 1 for d in dims):
        raise RuntimeError("torch.gradient expected each dimension size to be at least "
                           "edge_order+1")
    return tuple(_gradient_along(input, d, h, edge_order) for d, h in zip(dims, spacings))


def _gradient_along(f: Tensor, d: int, h, order: int) -> Tensor:
    """``gradient`` along dimension ``d``, points ``h`` apart or at coordinates ``h``."""
    n = f.shape[d]

    def at(start: int, length: int = 1) -> Tensor:
        return narrow(f, d, start, length)

    if isinstance(h, Tensor) and h.ndim == 1:  # coordinates: the differences between them
        gaps = (h[1:] - h[:-1]).reshape([-1 if i == d else 1 for i in range(f.ndim)])
        left, right = narrow(gaps, d, 0, n - 2), narrow(gaps, d, 1, n - 2)
        inner = (-right / (left * (left + right)) * at(0, n - 2)
                 + (right - left) / (left * right) * at(1, n - 2)
                 + left / (right * (left + right)) * at(2, n - 2))
        first, last = narrow(gaps, d, 0, 1), narrow(gaps, d, n - 2, 1)
        if order == 1:
            return cat([(at(1) - at(0)) / first, inner, (at(n - 1) - at(n - 2)) / last], d)
        second, before = narrow(gaps, d, 1, 1), narrow(gaps, d, n - 3, 1)
        start = (-(2 * first + second) / (first * (first + second)) * at(0)
                 + (first + second) / (first * second) * at(1)
                 - first / (second * (first + second)) * at(2))
        end = (last / (before * (before + last)) * at(n - 3)
               - (last + before) / (before * last) * at(n - 2)
               + (2 * last + before) / (last * (before + last)) * at(n - 1))
        return cat([start, inner, end], d)
    inner = (at(2, n - 2) - at(0, n - 2)) / (2 * h)
    if order == 1:
        return cat([(at(1) - at(0)) / h, inner, (at(n - 1) - at(n - 2)) / h], d)
    start = (-1.5 * at(0) + 2 * at(1) - 0.5 * at(2)) / h
    end = (0.5 * at(n - 3) - 2 * at(n - 2) + 1.5 * at(n - 1)) / h
    return cat([start, inner, end], d)


def vander(x, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of the 1-D ``x``: columns ``x ** (N - 1)`` down to ``x ** 0``
    (up, with ``increasing``), ``N`` of them (as many as ``x`` has elements by default);
    integers become the default int, as in torch.

    >>> import funcgrad
    >>> funcgrad.vander(funcgrad.tensor([1.0, 2.0, 3.0]), N=3)
    tensor([[1., 1., 1.],
            [4., 2., 1.],
            [9., 3., 1.]])
    """
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dtype = x.dtype if _dtypes.is_inexact(x.dtype) else _dtypes.default_int()
    # torch's steps: ones, x copied into columns 1.., their running product copied back
    result = Tensor._wrap(jnp.ones((x.shape[0], n), dtype))
    if n > 1:
        result[:, 1:] = x.unsqueeze(1)
        result[:, 1:] = result[:, 1:].cumprod(1)
    return result if increasing else result.flip(1)


def cumulative_trapezoid(y, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The running ``trapezoid`` integral of ``y`` along ``dim`` (one element shorter)."""
    return _integral(CUMULATIVE_TRAPEZOID, y, x, dx, dim)


def _cov(x, fweights, aweights, correction: int):
    return jnp.cov(x, ddof=correction, fweights=fweights, aweights=aweights)


COV = Op("cov", _cov, "SqueezeBackward0")
# torch clips the correlations to [-1, 1], the last node of its graph.
CORRCOEF = Op("corrcoef", lambda x: jnp.clip(jnp.corrcoef(x), -1, 1), "ClampBackward1")


def _check_observations(name: str, input) -> None:
    if input.ndim > 2:
        raise RuntimeError(f"{name}(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions")


@autocast_policy(LOWER)
def cov(input, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """The covariance matrix of the variables in ``input``'s rows (observations in its
    columns), with ``correction`` subtracted from the number of observations."""
    _check_observations("cov", input)
    return apply(COV, input, fweights, aweights, correction=builtins.int(correction))


@autocast_policy(LOWER)
def corrcoef(input) -> Tensor:
    """The Pearson correlation coefficients of the variables in ``input``'s rows."""
    _check_observations("corrcoef", input)
    return apply(CORRCOEF, input)


def _mode_index(x, axis: int):
    """Where the most frequent value along ``axis`` last occurs, the smallest of equally
    frequent ones, as torch's CPU kernel picks it."""
    x = jnp.moveaxis(x, axis, -1)
    counts = jnp.sum(x[..., :, None] == x[..., None, :], axis=-1)
    frequent = counts == counts.max(axis=-1, keepdims=True)
    value = jnp.min(jnp.where(frequent, x, jnp.inf), axis=-1, keepdims=True)
    return x.shape[-1] - 1 - jnp.argmax(jnp.flip(x == value, -1), axis=-1)


MODE_INDEX = Op("mode_index", _mode_index, "", differentiable=False)
# mode is one more (values, indices) op of _ops' table, sharing its value-at-index rows.
_AT_INDEX["mode"] = Op("mode", MAX_DIM.fn, "ModeBackward0")


def mode(input, dim: int = -1, keepdim: bool = False):
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest of a tie)
    and where it last occurs.

    >>> import funcgrad
    >>> funcgrad.mode(funcgrad.tensor([2.0, 1.0, 2.0, 1.0]))
    funcgrad.return_types.mode(
    values=tensor(1.),
    indices=tensor(3))
    """
    return _at_index("mode", input, dim, keepdim, MODE_INDEX)


def msort(input) -> Tensor:
    """``input`` sorted along its first dimension."""
    return sort(input, dim=0).values


# ----- shapes ----------------------------------------------------------------------------------
def _renorm(x, p, axis: int, maxnorm):
    others = tuple(d for d in range(x.ndim) if d != axis)
    norms = _vector_norm(x, p, axis=others, keepdims=True)
    return x * jnp.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)


RENORM = Op("renorm", _renorm, "RenormBackward0")


def renorm(input, p, dim: int, maxnorm) -> Tensor:
    """``input`` with each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` scaled down
    to norm ``maxnorm``."""
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} "
                           "dimensions")
    return apply(RENORM, input, p=p, axis=_wrap_dim(dim, input.ndim), maxnorm=maxnorm)


UNFOLD = Op("unfold", lambda x, axis, size, step: jnp.moveaxis(jnp.take(
    x, jnp.arange(0, x.shape[axis] - size + 1, step)[:, None] + jnp.arange(size), axis=axis),
    axis + 1, -1), "UnfoldBackward0", saves=False)


def unfold(self, dimension: int, size: int, step: int) -> Tensor:
    """The windows of ``size`` elements along ``dimension``, ``step`` apart, in a new last
    dimension.

    >>> import funcgrad
    >>> funcgrad.arange(5.0).unfold(0, 2, 2)
    tensor([[0., 1.],
            [2., 3.]])
    """
    axis = _wrap_dim(dimension, self.ndim)
    length = self.shape[axis] if self.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {axis} is {length} but size "
                           f"is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if not self.ndim:
        return self.reshape(1)
    return apply(UNFOLD, self, axis=axis, size=builtins.int(size), step=builtins.int(step))


def combinations(input, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of the elements of the 1-D ``input``, one a row (as
    ``itertools.combinations``, or ``combinations_with_replacement``)."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = jnp.asarray(list(pick(range(input.shape[0]), r)), jnp.int32).reshape(-1, r)
    if r == 0 or not len(rows):
        return Tensor._wrap(jnp.zeros((0,) if r == 0 else (0, r), input.dtype))
    return stack([input[Tensor._wrap(rows[:, k])] for k in range(r)], 1)


# ----- in place --------------------------------------------------------------------------------
def _diagonal_positions(shape: tuple, wrap: bool) -> tuple:
    """The positions ``fill_diagonal_`` writes: ``(i, i, ...)``, and, with ``wrap``, on down a
    tall matrix after every ``columns + 1`` rows, as NumPy's ``fill_diagonal``."""
    if len(shape) == 2 and wrap:
        flat = jnp.arange(0, shape[0] * shape[1], shape[1] + 1)
        return jnp.unravel_index(flat, shape)
    return (jnp.arange(builtins.min(shape)),) * len(shape)


FILL_DIAGONAL = Op("fill_diagonal", lambda x, value, wrap: x.at[
    _diagonal_positions(x.shape, wrap)].set(jnp.asarray(value, x.dtype)),
    "torch::autograd::CopySlices", saves=False)


def fill_diagonal_(self, fill_value, wrap: bool = False) -> Tensor:
    """Fills the main diagonal with ``fill_value``, in place (a matrix's, or a tensor's with
    all dimensions of one length)."""
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    _check_writable(self, "a view of a leaf Variable")  # torch writes through a diagonal view
    return _inplace(self, apply(FILL_DIAGONAL, self, fill_value, wrap=builtins.bool(wrap)))

# ----- torch's sym_* helpers: compiling traces shapes as ints here, so these are Python's math ----
_SYM_NUMBERS = (np.integer, np.floating, builtins.int, builtins.float)
_SYM_FLOATS = (np.floating, builtins.float)


def sym_int(a) -> int:
    """``int(a)``: a float truncated toward zero.

    >>> import funcgrad
    >>> funcgrad.sym_int(-2.7)
    -2
    """
    return builtins.int(a)


def sym_float(a) -> float:
    """``float(a)``."""
    return builtins.float(a)


def _sym_pick(pick, a, b):
    """``pick(a, b)`` of two numbers, a float when either is one, as torch's ``sym_max``."""
    for x in (a, b):
        if not isinstance(x, _SYM_NUMBERS):
            raise AssertionError(f"expected {_SYM_NUMBERS}, got {type(x)}")
    out = pick(a, b)
    return builtins.float(out) if isinstance(a, _SYM_FLOATS) or isinstance(b, _SYM_FLOATS) else out


def sym_max(a, b):
    """The larger of two numbers, a float when either is one.

    >>> import funcgrad
    >>> funcgrad.sym_max(2, 1.0), funcgrad.sym_max(2, 1)
    (2.0, 2)
    """
    return _sym_pick(builtins.max, a, b)


def sym_min(a, b):
    """The smaller of two numbers, a float when either is one."""
    return _sym_pick(builtins.min, a, b)


def sym_not(a) -> bool:
    """``not a``."""
    return not a


def sym_sqrt(a) -> float:
    """``math.sqrt(a)``."""
    return math.sqrt(a)


def sym_sum(*args):
    """The sum of ``args``, given as one list or tuple or one by one.

    >>> import funcgrad
    >>> funcgrad.sym_sum([1, 2, 3]), funcgrad.sym_sum(1, 2.5)
    (6, 3.5)
    """
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = args[0]
    return builtins.sum(args)


def sym_ite(b: bool, t, f):
    """``t if b else f``, for a ``bool`` ``b`` and ``t``, ``f`` of one type.

    Raises:
        AssertionError: torch's, for another ``b`` or ``t`` and ``f`` of two types.
    """
    if not isinstance(b, builtins.bool):
        raise AssertionError(f"expected SymBool or bool, got {type(b)}")
    if type(t) is not type(f):
        raise AssertionError(f"type mismatch: {type(t)} vs {type(f)}")
    return t if b else f


def _install() -> None:
    methods = dict(gcd=gcd, lcm=lcm, bitwise_and=bitwise_and, bitwise_or=bitwise_or,
                   bitwise_xor=bitwise_xor, bitwise_not=bitwise_not,
                   bitwise_left_shift=bitwise_left_shift, bitwise_right_shift=bitwise_right_shift,
                   isposinf=isposinf, isneginf=isneginf, equal=equal, i0=i0, mvlgamma=mvlgamma,
                   polygamma=lambda self, n: polygamma(n, self), addmv=addmv, addbmm=addbmm,
                   baddbmm=baddbmm, cov=cov, corrcoef=corrcoef, mode=mode, msort=msort,
                   renorm=renorm, unfold=unfold, fill_diagonal_=fill_diagonal_,
                   tril_=_make_inplace(tril), triu_=_make_inplace(triu),
                   __lshift__=bitwise_left_shift, __rshift__=bitwise_right_shift,
                   # torch's &, |, ^ and ~ are bitwise (logical for bools, the same thing)
                   __and__=bitwise_and, __rand__=bitwise_and, __or__=bitwise_or,
                   __ror__=bitwise_or, __xor__=bitwise_xor, __rxor__=bitwise_xor,
                   __invert__=bitwise_not)
    for name in ("i0", "mvlgamma", "addmv", "addbmm", "baddbmm", "renorm", "gcd", "lcm",
                 "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
                 "bitwise_right_shift"):
        methods[name + "_"] = _make_inplace(methods[name])
    methods["polygamma_"] = lambda self, n: _inplace(self, polygamma(n, self))
    for name, fn in methods.items():
        setattr(Tensor, name, fn)


_install()

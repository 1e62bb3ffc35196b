"""Ops that write at index positions (``index_add``, ``index_put``, ``put_``, ``masked_scatter``,
``scatter_reduce`` …) and ops whose output shape depends on their input's values (``unique``,
``masked_select``, ``bincount``, ``argwhere``), with torch's ``grad_fn`` names and errors.

Value-dependent shapes are read from the input's values as torch does on the CPU: inside a
JAX transform, where the values are tracers, JAX raises its ``ConcretizationTypeError`` (use
a fixed ``size``-style formulation there, such as ``where`` with a mask).
"""

from __future__ import annotations

import builtins
import warnings

import jax
import jax.numpy as jnp

from . import _dtypes, return_types
from ._graph import Op, apply
from ._ops import (
    _check_scatter,
    _index,
    _inplace,
    _make_inplace,
    _outside,
    _scatter_at,
    _wrap_dim,
    _write,
    nonzero,
    put_at,
)
from ._tensor import Tensor


# ----- writes at index positions --------------------------------------------------------------
def _along(axis: int, index) -> tuple:
    """The key that picks ``index`` along ``axis`` and everything along the other dims (a 0-d
    index as a 1-element one, as torch's)."""
    return (slice(None),) * axis + (jnp.atleast_1d(index),)


INDEX_ADD = Op("index_add", lambda x, index, src, axis, alpha: x.at[_along(axis, index)].add(
    src if alpha == 1 else alpha * src), "IndexAddBackward0")
INDEX_COPY = Op("index_copy", lambda x, index, src, axis: x.at[_along(axis, index)].set(src),
                "IndexCopyBackward0")
# A number is filled in by IndexFillBackward0, a 0-d tensor (which gets a gradient) by ...1.
INDEX_FILL = Op("index_fill", lambda x, index, value, axis: x.at[_along(axis, index)].set(
    jnp.asarray(value, x.dtype)), lambda x, index, value, **_: "IndexFillBackward1"
    if hasattr(value, "shape") else "IndexFillBackward0")


PUT = Op("put", lambda x, index, src, accumulate: _write(
    x.ravel().at[index.ravel()], src.ravel(), accumulate).reshape(x.shape), "PutBackward0")


def _masked_scatter(x, mask, src):
    mask = jnp.broadcast_to(mask, x.shape).ravel()
    taken = src.ravel()[jnp.clip(jnp.cumsum(mask) - 1, 0, None)]  # the k-th True takes src[k]
    return jnp.where(mask, taken, x.ravel()).reshape(x.shape)


MASKED_SCATTER = Op("masked_scatter", _masked_scatter, "MaskedScatterBackward0")


def _index_vector(name: str, input, dim: int, index) -> int:
    """``index_fill``'s checks: an integer index of at most one dimension. Returns ``dim`` as
    an axis."""
    axis = _wrap_dim(dim, input.ndim)
    if str(index.dtype) not in ("int32", "int64"):
        raise RuntimeError(f"{name}_(): Expected dtype int32/int64 for index but got: "
                           f"{_dtypes.scalar_name(index.dtype)}")
    if index.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    return axis


def _in_range(input, axis: int, index, low: int, error) -> None:
    """Raises ``error(bad, size)`` for the first value of ``index`` outside ``[low * size,
    size)``, ``size`` that of ``input`` along ``axis`` (values at hand only)."""
    size = input.shape[axis] if input.ndim else 1
    bad = _outside(index._read(), low * size, size)
    if bad is not None:
        raise error(bad, size)


def _sliced(shape, axis: int) -> list:
    """``shape`` without dimension ``axis`` (an empty shape stays empty)."""
    return [n for d, n in enumerate(shape) if d != axis]


def _index_func(name: str, input, dim: int, index, source) -> int:
    """The checks torch's ``index_add`` and ``index_reduce`` share (ATen's
    ``index_func_meta_impl``): an integer index of at most one dimension, a source of the same
    dtype with as many slices as the index has values, shaped as ``input`` but along ``dim``.
    Returns ``dim`` as an axis."""
    axis = _wrap_dim(dim, input.ndim)
    if index.ndim > 1:
        raise IndexError(f"{name}_(): Index is supposed to be a vector, but got dim: "
                         f"{index.ndim} with type: {_dtypes.scalar_name(index.dtype)} and size: "
                         f"{list(index.shape)}")
    if str(index.dtype) not in ("int32", "int64"):
        raise RuntimeError(f"{name}_(): Expected dtype int32/int64 for index but got: "
                           f"{_dtypes.scalar_name(index.dtype)}")
    if input.dtype != source.dtype:
        raise RuntimeError(f"{name}_(): self ({_dtypes.scalar_name(input.dtype)}) and source "
                           f"({_dtypes.scalar_name(source.dtype)}) must have the same scalar "
                           "type")
    if axis and axis >= source.ndim:
        raise RuntimeError(f"{name}_(): Indexing dim {axis} is out of bounds of the source "
                           f"tensor with dim {source.ndim}")
    slices = source.shape[axis] if source.ndim else 1
    if index.numel() != slices:
        raise RuntimeError(f"{name}_(): Number of indices ({index.numel()}) should be equal to "
                           f"source.size(dim): ({slices}), for dim: {axis}")
    both = input.ndim and source.ndim
    if (_sliced(input.shape, axis) if both else list(input.shape)) != (
            _sliced(source.shape, axis) if both else list(source.shape)):
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(input.shape)} "
                           f"source.shape = {list(source.shape)}")
    return axis


def index_add(input, dim: int, index, source, *, alpha=1) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added at ``index`` (a vector) along ``dim``;
    repeated indices add up.

    >>> import funcgrad
    >>> funcgrad.zeros(3).index_add(0, funcgrad.tensor([0, 2, 0]), funcgrad.ones(3))
    tensor([2., 0., 1.])

    Raises:
        RuntimeError: torch's, for an index that is not integers, a source of another dtype
            or shape, or (values at hand) an index out of range.
        IndexError: torch's, for an index of more than one dimension.
    """
    axis = _index_func("index_add", input, dim, index, source)
    _in_range(input, axis, index, 0, lambda bad, size: RuntimeError(
        f"index {bad} is out of bounds for dimension {axis} with size {size}"))
    return apply(INDEX_ADD, input, index, source, axis=axis, alpha=alpha)


def index_copy(input, dim: int, index, source) -> Tensor:
    """A copy of ``input`` with ``source``'s slices written at ``index`` along ``dim``.

    Raises:
        IndexError: torch's, for an index of more than one dimension, or not one value per
            slice of ``source``, or (values at hand) out of range.
        RuntimeError: torch's, for an index that is not integers, or a source of another dtype
            or slice shape.
    """
    axis = _wrap_dim(dim, input.ndim)
    if index.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {index.ndim})")
    if source.ndim == 0 and index.numel() != 1:
        raise IndexError("index_copy_(): When source is scalar, index should have one element "
                         f"(got {index.numel()})")
    if source.ndim != input.ndim and source.ndim and input.ndim:
        raise IndexError("index_copy_(): When source and destination are not scalars, their "
                         f"dimensionality must match. Source dimensionality ({source.ndim}), "
                         f"destination dimensionality ({input.ndim})")
    if str(index.dtype) not in ("int32", "int64"):
        raise RuntimeError("index_copy_(): Expected a long tensor for index, but got "
                           f"{_dtypes.scalar_name(index.dtype)}")
    if input.dtype != source.dtype:
        raise RuntimeError("index_copy_(): self and source expected to have the same dtype, but "
                           f"got (self) {_dtypes.scalar_name(input.dtype)} and (source) "
                           f"{_dtypes.scalar_name(source.dtype)}")
    destination, sliced = _sliced(input.shape, axis), _sliced(source.shape, axis)
    if destination != sliced:
        raise RuntimeError("index_copy_(): Source/destination tensor must have same slice "
                           f"shapes. Destination slice shape: {' '.join(map(str, destination))} "
                           f"at dimension {axis} and source slice shape: "
                           f"{' '.join(map(str, sliced))} at dimension 0.")
    if source.ndim and index.numel() != source.shape[axis]:
        raise IndexError(f"index_copy_(): Number of indices ({index.numel()}) should be equal "
                         f"to source.size(dim) ({source.shape[axis]})")
    _in_range(input, axis, index, 0, lambda bad, size: IndexError(
        f"index_copy_(): index {bad} is out of bounds for dimension {axis} with size {size}"))
    return apply(INDEX_COPY, input, index, source, axis=axis)


def index_fill(input, dim: int, index, value) -> Tensor:
    """A copy of ``input`` with ``value`` (a number or a 0-d tensor) at ``index`` along
    ``dim``; negative indices count from the end, as in torch."""
    axis = _index_vector("index_fill", input, dim, index)
    _in_range(input, axis, index, -1, lambda bad, size: IndexError(
        f"index {bad} is out of bounds for dimension {axis} with size {size}"))
    return apply(INDEX_FILL, input, index, value, axis=axis)


def index_put(input, indices, values, accumulate: bool = False) -> Tensor:
    """``input`` with ``values`` written (or, with ``accumulate``, added) at ``input[indices]``,
    ``indices`` a tuple of integer or bool tensors, as ``x[indices] = values``."""
    spec, arrays = _index(input, tuple(indices))
    return put_at(input, values, spec, arrays, accumulate)


def put(input, index, source, accumulate: bool = False) -> Tensor:
    """``input`` with ``source``'s elements written (or added) at ``index`` of the flattened
    tensor; negative indices count from the end."""
    n = input.numel()
    bad = _outside(index._read(), -n, n)
    if bad is not None:
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")
    return apply(PUT, input, index, source, accumulate=builtins.bool(accumulate))


def masked_scatter(input, mask, source) -> Tensor:
    """``input`` with the elements of ``source``, in order, where ``mask`` (broadcast to
    ``input``) is True.

    Raises:
        RuntimeError: torch's, when ``source`` has fewer elements than ``mask`` has True values
            (checked where the mask's values are at hand, not inside a JAX transform).
    """
    count = jnp.broadcast_to(mask._read(), input.shape).sum()
    if not isinstance(count, jax.core.Tracer) and builtins.int(count) > source.numel():
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return apply(MASKED_SCATTER, input, mask, source)


# ----- scatter with a reduction ----------------------------------------------------------------
# torch also takes "max" and "min" for amax and amin, though its message does not say so.
_REDUCTIONS = dict(sum="sum", prod="prod", mean="mean", amax="amax", amin="amin", max="amax",
                   min="amin")


def _scatter_prod(x, index, src, axis: int):
    """``x`` times the product of the ``src`` values scattered to each position, from a mask
    of hits along ``axis`` (JAX has gradients for ``.at[].multiply`` of unique indices only)."""
    hits = jnp.expand_dims(index, -1) == jnp.arange(x.shape[axis])  # index.shape + (size,)
    factors = jnp.where(hits, jnp.expand_dims(src, -1), jnp.ones((), src.dtype))
    product = jnp.moveaxis(jnp.prod(factors, axis=axis), -1, axis)
    return x.at[tuple(slice(0, n) for n in product.shape)].multiply(product)


def _scatter_reduce(x, index, src, axis: int, reduce: str, include_self: bool):
    at = _scatter_at(index, axis)
    src = src[tuple(slice(0, n) for n in index.shape)]
    if not include_self:  # the reduction's identity where something is scattered
        identity = {"sum": 0, "mean": 0, "prod": 1, "amax": -jnp.inf, "amin": jnp.inf}[reduce]
        if not jnp.issubdtype(x.dtype, jnp.inexact) and reduce in ("amax", "amin"):
            info = jnp.iinfo(x.dtype)
            identity = info.min if reduce == "amax" else info.max
        x = x.at[at].set(jnp.asarray(identity, x.dtype))
    if reduce == "prod":
        return _scatter_prod(x, index, src, axis)
    if reduce in ("amax", "amin"):
        return (x.at[at].max if reduce == "amax" else x.at[at].min)(src)
    total = x.at[at].add(src)
    if reduce == "sum":
        return total
    count = jnp.zeros(x.shape, x.dtype).at[at].add(1) + (1 if include_self else 0)
    count = jnp.maximum(count, 1)
    return total / count if jnp.issubdtype(x.dtype, jnp.inexact) else total // count


SCATTER_REDUCE = Op("scatter_reduce", _scatter_reduce, "ScatterReduceBackward0")


def scatter_reduce(input, dim: int, index, src, reduce: str, *, include_self: bool = True):
    """A copy of ``input`` with ``src``'s values at ``index`` along ``dim`` reduced into it
    with ``reduce`` (``"sum"``, ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"``), counting
    ``input``'s own value unless ``include_self`` is False.

    >>> import funcgrad
    >>> x = funcgrad.tensor([1.0, 5.0])
    >>> x.scatter_reduce(0, funcgrad.tensor([0, 0, 1]), funcgrad.tensor([4.0, 2.0, 3.0]), "amax")
    tensor([4., 5.])
    """
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    _check_scatter(input, dim, index, src)
    return apply(SCATTER_REDUCE, input, index, src, axis=_wrap_dim(dim, input.ndim),
                 reduce=_REDUCTIONS[reduce], include_self=builtins.bool(include_self))


def _index_reduce(x, index, src, axis: int, reduce: str, include_self: bool):
    """``_scatter_reduce`` of ``src``'s slices along ``axis``, slice k to ``index[k]``."""
    spread = [1] * src.ndim
    if src.ndim:
        spread[axis] = -1
    index = jnp.broadcast_to(jnp.reshape(index, spread), src.shape)
    return _scatter_reduce(x, index, src, axis, reduce, include_self)


INDEX_REDUCE = Op("index_reduce", _index_reduce, "IndexReduceBackward0")


def index_reduce(input, dim: int, index, source, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """A copy of ``input`` with each slice ``k`` of ``source`` along ``dim`` reduced into the
    slice ``index[k]`` with ``reduce`` (``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"``),
    counting ``input``'s own slice unless ``include_self`` is False. Beta in torch, with its
    warning.

    >>> import funcgrad, warnings
    >>> warnings.simplefilter("ignore")
    >>> funcgrad.ones(3).index_reduce(0, funcgrad.tensor([0, 2, 0]),
    ...                               funcgrad.tensor([2.0, 3.0, 4.0]), "prod")
    tensor([8., 1., 3.])

    Raises:
        RuntimeError: torch's, for another ``reduce``, an index that is not integers, or a
            source of another dtype or shape.
        IndexError: torch's, for an index of more than one dimension or (values at hand) out
            of range.
    """
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError("index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    warnings.warn("index_reduce() is in beta and the API may change at any time.", stacklevel=2)
    axis = _index_func("index_reduce", input, dim, index, source)
    _in_range(input, axis, index, 0, lambda *_: IndexError("index out of range in self"))
    return apply(INDEX_REDUCE, input, index, source, axis=axis, reduce=reduce,
                 include_self=builtins.bool(include_self))


# ----- shapes that depend on values -----------------------------------------------------------
MASKED_SELECT = Op("masked_select", lambda x, positions, shape: jnp.broadcast_to(
    x, shape).ravel()[positions], "MaskedSelectBackward0")


def masked_select(input, mask) -> Tensor:
    """The elements of ``input`` where ``mask`` (broadcast with it) is True, as a 1-D tensor.
    Its length is read from the mask's values (not possible inside a JAX transform)."""
    if mask.dtype != jnp.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = jnp.broadcast_shapes(input.shape, mask.shape)
    positions = jnp.flatnonzero(jnp.broadcast_to(mask._read(), shape))
    return apply(MASKED_SELECT, input, positions, shape=shape)


def _nonzero_static(x, size: int, fill_value: int):
    if x.ndim == 0:  # torch's: no coordinates to give, for each of the size rows
        return jnp.zeros((size, 0), _dtypes.default_int())
    parts = jnp.nonzero(x, size=size, fill_value=fill_value)
    return jnp.stack(parts, axis=1).astype(_dtypes.default_int())


NONZERO_STATIC = Op("nonzero_static", _nonzero_static, "", differentiable=False)


def nonzero_static(input, *, size: int, fill_value: int = -1) -> Tensor:
    """``nonzero(input)`` as ``size`` rows: the first ``size`` coordinates of the non-zero
    elements, padded with rows of ``fill_value``. Its shape does not depend on the values, so
    it runs inside ``jit`` and compiled steps, where ``nonzero`` cannot.

    >>> import funcgrad
    >>> funcgrad.tensor([0, 3, 0, 5]).nonzero_static(size=3)
    tensor([[ 1],
            [ 3],
            [-1]])

    Raises:
        TypeError: torch's, for a size that is not an int.
        RuntimeError: torch's, for a negative size.
    """
    if not isinstance(size, builtins.int) or isinstance(size, builtins.bool):
        raise TypeError(f"nonzero_static(): argument 'size' must be int, not "
                        f"{type(size).__name__}")
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    return apply(NONZERO_STATIC, input, size=size, fill_value=builtins.int(fill_value))


def argwhere(input) -> Tensor:
    """The indices of the non-zero elements, one row each: ``nonzero(input)``."""
    return nonzero(input)


def unique(input, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim=None):
    """The distinct values of ``input`` (or, along ``dim``, its distinct slices), sorted
    (torch's CPU kernel sorts whatever ``sorted`` says), with the inverse indices and counts
    when asked. Read from the values: not inside a JAX transform. Outside the graph (torch
    records a node whose backward raises).

    >>> import funcgrad
    >>> funcgrad.unique(funcgrad.tensor([3, 1, 3]), return_counts=True)
    (tensor([1, 3]), tensor([1, 2]))
    """
    axis = None if dim is None else _wrap_dim(dim, input.ndim)
    values, inverse, counts = jnp.unique(input._read(), return_inverse=True,
                                         return_counts=True, axis=axis)
    return _unique_results(values, inverse.reshape(input.shape if axis is None else -1),
                           counts, return_inverse, return_counts)


def _unique_results(values, inverse, counts, return_inverse: bool, return_counts: bool):
    dtype = _dtypes.default_int()
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(Tensor._wrap(inverse.astype(dtype)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(dtype)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False,
                       dim=None):
    """``input`` with each run of equal consecutive values (or slices along ``dim``) kept
    once, with the inverse indices and the runs' lengths when asked. Read from the values."""
    x = input._read()
    axis = None if dim is None else _wrap_dim(dim, input.ndim)
    rows = x.reshape(-1, 1) if axis is None else jnp.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)
    starts = jnp.concatenate([jnp.ones(builtins.min(len(rows), 1), bool),
                              jnp.any(rows[1:] != rows[:-1], axis=1)])
    firsts = jnp.flatnonzero(starts)
    inverse = jnp.cumsum(starts) - 1
    counts = jnp.diff(jnp.append(firsts, len(rows)))
    values = x.ravel()[firsts] if axis is None else jnp.take(x, firsts, axis=axis)
    return _unique_results(values, inverse.reshape(x.shape) if axis is None else inverse,
                           counts, return_inverse, return_counts)


def bincount(input, weights=None, minlength: int = 0) -> Tensor:
    """How often each value of the 1-D non-negative integer ``input`` occurs (or the sum of
    their ``weights``), ``max(input) + 1`` or ``minlength`` long, whichever is more. The length
    is read from the values (not possible inside a JAX transform); the result is outside the
    graph, as torch's is not differentiable.

    >>> import funcgrad
    >>> funcgrad.bincount(funcgrad.tensor([0, 2, 2]))
    tensor([1, 0, 2])
    """
    x = input._read()
    if not jnp.issubdtype(x.dtype, jnp.integer):
        raise NotImplementedError(f'"bincount_cpu" not implemented for '
                                  f"'{_dtypes.scalar_name(x.dtype)}'")
    if x.ndim != 1 or (x.size and builtins.int(x.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    length = builtins.max(builtins.int(x.max()) + 1 if x.size else 0, minlength)
    if weights is None:
        return Tensor._wrap(jnp.bincount(x, length=length).astype(_dtypes.default_int()))
    w = weights._read()
    # torch sums float32 weights in float32 and every other dtype in float64.
    dtype = w.dtype if w.dtype == jnp.float32 else jax.dtypes.canonicalize_dtype(jnp.float64)
    return Tensor._wrap(jnp.bincount(x, w.astype(dtype), length=length))


def histc(input, bins: int = 100, min=0, max=0) -> Tensor:
    """A histogram of ``input``'s values in ``bins`` equal bins over ``[min, max]`` (the
    values' own range where both are 0, which a JAX transform cannot read); values outside
    are left out. Outside the graph: torch's is not differentiable."""
    x = input._read()
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        raise NotImplementedError(f'"histogram_cpu" not implemented for '
                                  f"'{_dtypes.scalar_name(x.dtype)}'")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    lo, hi = (x.min(), x.max()) if min == max and x.size else (min, max)
    lo, hi = (lo - 1, hi + 1) if lo == hi else (lo, hi)
    counts, _ = jnp.histogram(x, bins, (lo, hi))
    return Tensor._wrap(counts.astype(x.dtype))




def histogram(input, bins=100, *, range=None, weight=None, density: bool = False):
    """``(hist, bin_edges)``: the counts (or ``weight`` sums; a density with ``density``) of
    ``input``'s values in ``bins`` equal bins over ``range`` (the values' own by default), or
    between the edges of the 1-D tensor ``bins``. Outside the graph: torch's is not
    differentiable.

    >>> import funcgrad
    >>> funcgrad.histogram(funcgrad.tensor([1.0, 2.0, 1.0]), bins=4, range=(0.0, 3.0)).hist
    tensor([0., 2., 1., 0.])
    """
    x = input._read()
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise NotImplementedError(f'"histogramdd" not implemented for '
                                  f"'{_dtypes.scalar_name(x.dtype)}'")
    edges = bins._read() if isinstance(bins, Tensor) else bins
    if range is None and not isinstance(bins, Tensor) and x.size:
        lo, hi = x.min(), x.max()
        range = (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)
    weights = None if weight is None else weight._read()
    hist, bin_edges = jnp.histogram(x, edges, range, weights=weights, density=density)
    return return_types.histogram(Tensor._wrap(hist.astype(x.dtype)),
                           Tensor._wrap(bin_edges.astype(x.dtype)))


def histogramdd(input, bins=10, *, range=None, weight=None, density: bool = False):
    """``(hist, bin_edges)`` of the points ``input`` (its last dimension, D, their
    coordinates): the counts (or ``weight`` sums; a density with ``density``) in a D-dimensional
    grid of ``bins`` (a number for every dimension, one number per dimension, or one tensor of
    edges per dimension) over ``range`` (a flat sequence ``[lo0, hi0, lo1, hi1, ...]``; the
    points' own extent by default). Outside the graph, as torch's.

    >>> import funcgrad
    >>> points = funcgrad.tensor([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0]])
    >>> funcgrad.histogramdd(points, bins=2).hist
    tensor([[1., 0.],
            [1., 1.]])
    """
    x = input._read()
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise NotImplementedError(f'"histogramdd" not implemented for '
                                  f"'{_dtypes.scalar_name(x.dtype)}'")
    dims = x.shape[-1]
    x = x.reshape(-1, dims)
    if isinstance(bins, (list, tuple)) and bins and isinstance(bins[0], Tensor):
        bins = [b._read() for b in bins]
    elif not isinstance(bins, (list, tuple)):
        bins = [bins] * dims
    if range is not None:
        range = list(zip(range[::2], range[1::2]))
    elif not isinstance(bins[0], jax.Array):  # each dimension's extent, widened if a point
        lo, hi = (x.min(0), x.max(0)) if x.size else (jnp.zeros(dims), jnp.ones(dims))
        range = [(a - 0.5, b + 0.5) if a == b else (a, b) for a, b in zip(lo, hi)]
    weights = None if weight is None else weight._read().reshape(-1)
    hist, edges = jnp.histogramdd(x, bins, range, weights=weights, density=density)
    return return_types.histogramdd(Tensor._wrap(hist.astype(x.dtype)),
                                    tuple(Tensor._wrap(e.astype(x.dtype)) for e in edges))


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False):
    """Where the elements of ``elements`` are among ``test_elements`` (either may be a
    number); outside the graph, as torch's."""
    read = [e._read() if isinstance(e, Tensor) else jnp.asarray(e)
            for e in (elements, test_elements)]
    return Tensor._wrap(jnp.isin(*read, assume_unique=assume_unique, invert=invert))


def unravel_index(indices, shape) -> tuple:
    """The coordinates in ``shape`` of flat (row-major) ``indices``, one tensor per dimension
    (an index outside ``[0, numel)`` is taken modulo ``numel``, as torch does).

    >>> import funcgrad
    >>> funcgrad.unravel_index(funcgrad.tensor([4, 7]), (2, 4))
    (tensor([1, 1]), tensor([0, 3]))
    """
    if not _dtypes.is_integer(indices.dtype):
        raise TypeError(f"expected 'indices' to be integer dtype, but got "
                        f"{_dtypes.name(indices.dtype)}")
    shape = (shape,) if isinstance(shape, builtins.int) else tuple(shape)
    if any(n < 0 for n in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    flat = indices._read()
    coordinates = []
    for n in reversed(shape):
        coordinates.append(flat % n if n else flat * 0)
        flat = flat // n if n else flat
    return tuple(Tensor._wrap(c) for c in reversed(coordinates))


# ----- in place --------------------------------------------------------------------------------
def put_(self, index, source, accumulate: bool = False) -> Tensor:
    """In-place ``put``."""
    return _inplace(self, put(self, index, source, accumulate))


def index_put_(self, indices, values, accumulate: bool = False) -> Tensor:
    """In-place ``index_put``."""
    return _inplace(self, index_put(self, indices, values, accumulate))


def _install() -> None:
    methods = dict(index_add=index_add, index_copy=index_copy, index_fill=index_fill,
                   index_put=index_put, put=put, masked_scatter=masked_scatter,
                   scatter_reduce=scatter_reduce, index_reduce=index_reduce,
                   masked_select=masked_select, argwhere=argwhere,
                   nonzero_static=nonzero_static, unique=unique,
                   unique_consecutive=unique_consecutive, bincount=bincount, histc=histc,
                   histogram=histogram, put_=put_, index_put_=index_put_)
    for name in ("index_add", "index_copy", "index_fill", "index_reduce", "masked_scatter",
                 "scatter_reduce"):
        methods[name + "_"] = _make_inplace(methods[name])
    for name, fn in methods.items():
        setattr(Tensor, name, fn)


_install()

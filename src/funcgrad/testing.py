"""``funcgrad.testing``: assertions for tests, over Tensors, arrays and pytrees of them, so they
sit beside chex's (``chex.assert_trees_all_close`` accepts Tensors too)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import jax
import jax.test_util
import numpy as np

from . import _dtypes, _factories
from ._tensor import Tensor, arrays, is_tensor

# torch.testing.assert_close's default tolerances, by dtype: (rtol, atol).
_TOLERANCES = {
    "float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7),
}


def _leaves(tree) -> tuple[list, jax.tree_util.PyTreeDef]:
    return jax.tree_util.tree_flatten(arrays(tree))


def assert_close(actual, expected, *, rtol: float | None = None, atol: float | None = None,
                 equal_nan: bool = False, check_dtype: bool = True, msg: str | None = None):
    """Asserts that two Tensors, arrays, numbers or pytrees of them are close, with torch's
    default tolerances for their dtype (``|a - e| <= atol + rtol * |e|``).

    Raises:
        AssertionError: saying how many elements differ and where the largest gaps are.

    >>> import funcgrad
    >>> funcgrad.testing.assert_close(funcgrad.tensor([1.0, 2.0]), funcgrad.tensor([1.0, 2.0]))
    >>> funcgrad.testing.assert_close(funcgrad.tensor([1.0, 2.0]),
    ...                               funcgrad.tensor([1.0, 2.1]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: Tensor-likes are not close!
    <BLANKLINE>
    Mismatched elements: 1 / 2 (50.0%)
    Greatest absolute difference: 0.0999... at index (1,) (up to 1e-05 allowed)
    Greatest relative difference: 0.0476... at index (1,) (up to 1.3e-06 allowed)
    """
    got, got_tree = _leaves(actual)
    want, want_tree = _leaves(expected)
    if got_tree != want_tree:
        raise AssertionError(f"The structures differ: {got_tree} vs {want_tree}")
    for a, e in zip(got, want):
        _assert_leaf_close(np.asarray(a), np.asarray(e), rtol, atol, equal_nan, check_dtype, msg)


def _assert_leaf_close(a, e, rtol, atol, equal_nan, check_dtype, msg) -> None:
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: "
                                    f"{a.shape} != {e.shape}.")
    if check_dtype and a.dtype != e.dtype:
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: "
                                    f"{a.dtype} != {e.dtype}.")
    default_rtol, default_atol = _TOLERANCES.get(str(np.result_type(a, e)), (0.0, 0.0))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if close.all():
        return
    diff = np.abs(a64 - e64)
    rel = diff / np.abs(e64)
    bad = int((~close).sum())
    worst_abs = np.unravel_index(np.nanargmax(np.where(close, -1, diff)), a.shape)
    worst_rel = np.unravel_index(np.nanargmax(np.where(close, -1, rel)), a.shape)
    raise AssertionError(msg or (
        f"{'Tensor-likes' if a.ndim else 'Scalars'} are not close!\n\n"
        f"Mismatched elements: {bad} / {a.size} ({100 * bad / a.size:.1f}%)\n"
        f"Greatest absolute difference: {diff[worst_abs]} at index {tuple(map(int, worst_abs))} "
        f"(up to {atol} allowed)\n"
        f"Greatest relative difference: {rel[worst_rel]} at index {tuple(map(int, worst_rel))} "
        f"(up to {rtol} allowed)"
    ))


def check_grads(f: Callable, args: Sequence, order: int = 1, modes: Sequence[str] = ("rev",),
                atol: float | None = None, rtol: float | None = None,
                eps: float | None = None) -> None:
    """Checks ``f``'s derivatives up to ``order`` against finite differences, in a random
    direction, as ``jax.test_util.check_grads``; ``f`` may use the stateful API and take and
    return Tensors.

    Raises:
        AssertionError: when a derivative and its finite difference disagree.

    >>> import funcgrad
    >>> funcgrad.testing.check_grads(lambda x: funcgrad.sin(x) * x, (funcgrad.tensor(0.5),),
    ...                              order=2, atol=1e-2, rtol=1e-2)
    """
    def pure(*arrays):
        out = f(*(Tensor._wrap(a) for a in arrays))
        return out._read() if is_tensor(out) else out

    arrays = [a._read() if is_tensor(a) else a for a in args]
    jax.test_util.check_grads(pure, arrays, order=order, modes=modes, atol=atol, rtol=rtol,
                              eps=eps)


def make_tensor(*shape, dtype, device=None, low: float | None = None, high: float | None = None,
                requires_grad: bool = False, noncontiguous: bool = False,
                exclude_zero: bool = False, memory_format=None) -> Tensor:
    """A tensor of random values for a test, as ``torch.testing.make_tensor``: uniform in
    ``[low, high)`` (by default ``[-9, 9)`` for floats and complex parts, ``[-9, 10)`` for
    integers, clamped to what ``dtype`` holds; bools either), with no zeros given
    ``exclude_zero``. ``noncontiguous`` and ``memory_format`` are taken: a funcgrad tensor
    has no strides of its own.

    >>> import funcgrad
    >>> t = funcgrad.testing.make_tensor(2, 3, dtype=funcgrad.int32, low=0, high=3)
    >>> t.shape, bool(((t >= 0) & (t < 3)).all())
    (funcgrad.Size([2, 3]), True)
    """
    dtype = _dtypes.resolve(dtype)
    if len(shape) == 1 and isinstance(shape[0], Sequence):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually "
                         f"exclusive, but got noncontiguous={noncontiguous} and "
                         f"memory_format={memory_format}")
    integral = dtype.kind in "biu"
    if requires_grad and integral:
        raise ValueError("`requires_grad=True` is not supported for boolean and integral "
                         f"dtypes, but got dtype={_dtypes.name(dtype)}")
    if dtype.kind == "b":
        bounds, default = (0, 2), (0, 2)
    elif integral:
        info = np.iinfo(dtype)
        bounds, default = (int(info.min), int(info.max) + (dtype != np.int64)), (-9, 10)
    else:
        info = jax.numpy.finfo(dtype)
        bounds, default = (float(info.min), float(info.max)), (-9, 9)
    low, high = _interval(low, high, bounds, default, dtype, integral)
    if integral:
        result = _factories.randint(low, high, shape, dtype=dtype, device=device)
    else:
        real = np.dtype(jax.numpy.finfo(dtype).dtype)  # (a complex dtype's parts)
        parts = [_factories.rand(*shape, dtype=real, device=device) for _ in
                 range(2 if _dtypes.is_complex(dtype) else 1)]
        # (halved and doubled where the width overflows the dtype, as torch does)
        scale = 2 if high - low >= float(jax.numpy.finfo(real).max) else 1
        parts = [(p * (high / scale - low / scale) + low / scale) * scale for p in parts]
        result = parts[0] if len(parts) == 1 else parts[0] + 1j * parts[1]
        result = result.to(dtype)
    if exclude_zero:
        result = result.masked_fill(result == 0, 1 if integral else float(
            jax.numpy.finfo(dtype).tiny))
    return result.requires_grad_(requires_grad) if not integral else result


def _interval(low, high, bounds: tuple, default: tuple, dtype, integral: bool) -> tuple:
    """``make_tensor``'s ``[low, high)``, checked and clamped to ``bounds`` as torch's."""
    low = default[0] if low is None else low
    high = default[1] if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and not integral:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or "
                      "complex types is deprecated since 2.1 and will be removed in 2.3. Use "
                      "`torch.full(...)` instead.", FutureWarning, stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < bounds[0] or low >= bounds[1]:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but {_dtypes.name(dtype)} only supports [{bounds[0]}, {bounds[1]})")
    low, high = (min(max(v, bounds[0]), bounds[1]) for v in (low, high))
    return (math.ceil(low), math.ceil(high)) if integral else (low, high)

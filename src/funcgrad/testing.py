"""``funcgrad.testing``: assertions for tests, over Tensors, arrays and pytrees of them, so they
sit beside chex's (``chex.assert_trees_all_close`` accepts Tensors too)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.test_util
import numpy as np

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

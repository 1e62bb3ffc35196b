"""``funcgrad.cond``: torch.cond, a branch on a tensor's value that stays one program.

The two branches become one ``jax.lax.cond``, recorded as an op (``CondAutogradOpBackward``,
torch's name), so a branch on a value defers, compiles and differentiates as any op does,
inside ``funcgrad.compile``, ``jit`` and ``vmap`` too, where a Python ``if`` on a traced value
cannot run. Its gradient is JAX's derivative of ``lax.cond``: the taken branch's.

Tensors a branch reads from outside its operands (its closure: parameters, activations) are
inputs of the op as well, so their gradients flow, as torch lifts them: running the branches
once abstractly finds them, in the order each branch first reads them, and the op's function
gives a branch the k-th of them at its k-th such read. The program is cached per pair of
branch functions, as ``jax.jit`` caches per function: define the branches once, not as new
lambdas in a loop, or each call compiles anew.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp

from ._grad_mode import no_grad
from ._graph import Op, apply
from ._tensor import Tensor, _Storage


def _is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def cond(pred, true_fn: Callable, false_fn: Callable, operands: tuple | list = ()):
    """``true_fn(*operands)`` where ``pred`` is true, else ``false_fn(*operands)``, as
    ``torch.cond``: a one-element tensor ``pred`` records one op whose gradient is the taken
    branch's; a Python bool or number just calls its branch, as torch specializes it.

    Both branches must return the same structure of tensors (a tensor, or a tuple, list or
    dict of them), of equal shapes and dtypes, and change no input in place.

    Args:
        pred: a one-element tensor (nonzero is true) or a Python bool or number.
        true_fn, false_fn: functions of the operands.
        operands: a tuple or list of tensors (or dicts, lists and tuples of them).

    Raises:
        RuntimeError: torch's, for a ``pred`` or ``operands`` of another kind; funcgrad's for
            branches whose outputs differ or that change an input, each saying the rule.

    >>> import funcgrad
    >>> x = funcgrad.tensor([1.0, 2.0], requires_grad=True)
    >>> y = funcgrad.cond(x.sum() > 0, lambda a: a * 2, lambda a: a - 1, (x,))
    >>> y
    tensor([2., 4.], grad_fn=<CondAutogradOpBackward>)
    >>> y.sum().backward(); x.grad
    tensor([2., 2.])
    """
    if not isinstance(pred, Tensor):
        if not isinstance(pred, (bool, int, float)):
            raise RuntimeError(f"Expected pred to be bool or tensor, but got {pred}.")
        return (true_fn if pred else false_fn)(*operands)
    if pred.numel() != 1:
        raise RuntimeError(
            f"Expected pred to be bool or single-element tensor, but got {pred}.")
    leaves, in_tree = jax.tree_util.tree_flatten(operands, is_leaf=_is_tensor)
    if not isinstance(operands, (tuple, list)) or not all(map(_is_tensor, leaves)):
        raise RuntimeError("Expect operands to be a tuple of possibly nested dict/list/tuple "
                           f"that only consists of tensor leaves, but got {operands}.")
    specs = [jax.ShapeDtypeStruct(tuple(t.shape), t.dtype) for t in leaves]
    (read_true, out_true), (read_false, out_false) = (
        _discover(branch, name, in_tree, specs)
        for branch, name in ((true_fn, "true_fn"), (false_fn, "false_fn")))
    if out_true != out_false:
        raise RuntimeError(
            "cond: true_fn and false_fn must return the same structure of tensors, of equal "
            "shapes and dtypes (one program computes either), but true_fn returned "
            f"{_describe(out_true)} and false_fn {_describe(out_false)}. Make them agree, "
            "e.g. compute both values and choose with funcgrad.where.")
    captured = list({id(t): t for t in (*read_true, *read_false)}.values())
    index = {id(t): i for i, t in enumerate(captured)}
    fn = _cond_fn(true_fn, false_fn, in_tree, len(leaves),
                  tuple(index[id(t)] for t in read_true),
                  tuple(index[id(t)] for t in read_false))
    out_tree, avals = out_true
    outputs = [apply(_output_op(fn, k), pred, *leaves, *captured) for k in range(len(avals))]
    return jax.tree_util.tree_unflatten(out_tree, outputs)


@contextlib.contextmanager
def _outside_reads(substitutes: Sequence | None = None):
    """While a branch runs: the tensors it reads that were made before it (its closure's), in
    the order of their first reads (yielded, filled as it runs). With ``substitutes``, the
    k-th such tensor holds ``substitutes[k]`` from that read on. Either way each one's array
    and version are put back at the end (a traced value must not stay in a real tensor), and
    a funcgrad.compile trace around it still sees every read."""
    outer, before = Tensor._observer, _Storage.epoch
    _Storage.epoch = epoch = before + 1  # tensors the branch makes are born in this epoch
    read: dict[int, Tensor] = {}
    saved: list[tuple[_Storage, object, int]] = []

    def observe(t: Tensor) -> None:
        if outer is not None:
            outer(t)
        storage = t._storage
        if storage.born == epoch or id(t) in read:
            return
        saved.append((storage, storage.array, storage.version))
        if substitutes is not None:
            if len(read) == len(substitutes):
                raise RuntimeError(
                    "cond: a branch read more tensors from outside it than when it was first "
                    f"run ({len(substitutes)}). A branch must read the same tensors every time "
                    "it runs: pass the ones it may read as operands.")
            storage.array = substitutes[len(read)]
        read[id(t)] = t

    Tensor._observer = observe
    try:
        yield read
    finally:
        Tensor._observer, _Storage.epoch = outer, before
        changed = [s for s, _, version in saved if s.version != version]
        for storage, array, version in reversed(saved):
            storage.array, storage.version = array, version
        if changed:
            raise RuntimeError(
                "cond: a branch changed a tensor from outside it in place. torch.cond's "
                "branches may not change their inputs or the tensors they read: return a new "
                "value instead (x + 1, not x.add_(1)).")


def _call(branch: Callable, name: str, in_tree, arrays: Sequence) -> tuple[list, object]:
    """``branch`` on tensors holding ``arrays`` (without a graph: JAX differentiates the whole
    cond), checked: its output leaves' arrays and its output tree."""
    tensors = [Tensor._wrap(a) for a in arrays]
    with no_grad():
        out = branch(*jax.tree_util.tree_unflatten(in_tree, tensors))
    if any(t._storage.version for t in tensors):
        raise RuntimeError(
            f"cond: {name} changed one of its operands in place. torch.cond's branches may not "
            "change their inputs: return a new value instead (x + 1, not x.add_(1)).")
    leaves, out_tree = jax.tree_util.tree_flatten(out, is_leaf=_is_tensor)
    wrong = [type(x).__name__ for x in leaves if not isinstance(x, Tensor)]
    if wrong or not leaves:
        raise RuntimeError(
            f"cond: {name} must return a tensor, or a tuple, list or dict of tensors, but "
            f"returned {type(out).__name__ if not leaves else ', '.join(wrong)}. Return "
            "tensors (funcgrad.tensor(v) for a number v).")
    return [t._read() for t in leaves], out_tree


def _discover(branch: Callable, name: str, in_tree, specs: list) -> tuple[list, tuple]:
    """Runs ``branch`` abstractly: the outside tensors it reads, and its outputs' tree and
    (shape, dtype) pairs."""
    tree = []

    def run(*arrays):
        arrays, out_tree = _call(branch, name, in_tree, arrays)
        tree.append(out_tree)
        return arrays

    with _outside_reads() as read:
        avals = jax.eval_shape(run, *specs)
    return list(read.values()), (tree[0], tuple((tuple(a.shape), a.dtype) for a in avals))


def _describe(out: tuple) -> str:
    tree, avals = out
    shapes = ", ".join(f"{jnp.dtype(d).name}{list(s)}" for s, d in avals)
    return f"{tree.num_leaves} tensor(s) ({shapes}) as {tree}"


@functools.lru_cache(maxsize=256)
def _cond_fn(true_fn: Callable, false_fn: Callable, in_tree, n: int, where_true: tuple,
             where_false: tuple) -> Callable:
    """The op's function: ``(pred, *operand leaves, *captured) -> output leaves``, a
    ``lax.cond`` of the branches; ``where_*[k]``: which captured array a branch's k-th outside
    read gets."""

    def pure(branch: Callable, name: str, where: tuple) -> Callable:
        def run(*arrays):
            operands, captured = arrays[:n], arrays[n:]
            with _outside_reads([captured[i] for i in where]):
                return tuple(_call(branch, name, in_tree, operands)[0])

        return run

    taken, other = pure(true_fn, "true_fn", where_true), pure(false_fn, "false_fn", where_false)

    def fn(pred, *arrays):
        return jax.lax.cond(jnp.reshape(pred, ()).astype(bool), taken, other, *arrays)

    return fn


@functools.lru_cache(maxsize=1024)
def _output_op(fn: Callable, k: int) -> Op:
    return Op("cond", lambda *arrays: fn(*arrays)[k], "CondAutogradOpBackward")

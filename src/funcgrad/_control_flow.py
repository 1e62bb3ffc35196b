"""``funcgrad.cond`` and ``funcgrad.while_loop``: torch's control flow on tensor values, each
one program.

``cond``'s two branches become one ``jax.lax.cond``, recorded as an op
(``CondAutogradOpBackward``, torch's name), so a branch on a value defers, compiles and
differentiates as any op does, inside ``funcgrad.compile``, ``jit`` and ``vmap`` too, where a
Python ``if`` on a traced value cannot run. Its gradient is JAX's derivative of ``lax.cond``:
the taken branch's.

``while_loop`` is one op too. Eagerly, where the values are at hand, it first counts the
iterations (a ``lax.while_loop`` that only counts), then records the loop as a
``lax.fori_loop`` of that many steps, which JAX differentiates as a scan: gradients flow
through every iteration, as torch's do. Inside a transform the count is traced, so the op is a
``lax.while_loop``, which JAX differentiates forward but not in reverse.

Tensors a function reads from outside its operands (its closure: parameters, activations) are
inputs of the op as well, so their gradients flow, as torch lifts them: running the functions
once abstractly finds them, in the order each function first reads them, and the op's function
gives a function the k-th of them at its k-th such read. The program is cached per pair of
functions, as ``jax.jit`` caches per function: define them once, not as new lambdas in a loop,
or each call compiles anew.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp

from . import _autocast, _lazy
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
    leaves, in_tree, specs = _flatten(operands, lambda: (
        "Expect operands to be a tuple of possibly nested dict/list/tuple that only consists "
        f"of tensor leaves, but got {operands}."))
    regions = _autocast.regions()
    (read_true, out_true), (read_false, out_false) = (
        _discover(branch, name, in_tree, specs, regions)
        for branch, name in ((true_fn, "cond: true_fn"), (false_fn, "cond: false_fn")))
    if out_true != out_false:
        raise RuntimeError(
            "cond: true_fn and false_fn must return the same structure of tensors, of equal "
            "shapes and dtypes (one program computes either), but true_fn returned "
            f"{_describe(out_true)} and false_fn {_describe(out_false)}. Make them agree, "
            "e.g. compute both values and choose with funcgrad.where.")
    captured, where_true, where_false = _union(read_true, read_false)
    fn = _cond_fn(true_fn, false_fn, in_tree, len(leaves), where_true, where_false, regions)
    out_tree, avals = out_true
    outputs = [apply(_output_op("cond", "CondAutogradOpBackward", fn, k), pred, *leaves,
                     *captured) for k in range(len(avals))]
    return jax.tree_util.tree_unflatten(out_tree, outputs)


def while_loop(cond_fn: Callable, body_fn: Callable, carried_inputs: tuple | list):
    """Runs ``carried = body_fn(*carried)`` while ``cond_fn(*carried)`` is true, from
    ``carried_inputs``, as ``torch.while_loop``; returns the last ``carried`` (in the form
    ``body_fn`` returns it). One op (``WhileLoopAutogradOpBackward``): eagerly its gradient
    flows back through every iteration; inside ``compile``, ``jit``, ``grad`` or ``vmap``,
    where the number of iterations is traced, it is a ``jax.lax.while_loop``, which JAX
    differentiates only forward (``jvp``, ``jacfwd``).

    ``body_fn`` must return as many tensors as it takes, of the same shapes and dtypes, and
    ``cond_fn`` a one-element bool tensor; neither may change a tensor in place.

    >>> import funcgrad
    >>> x = funcgrad.tensor([1.0, 2.0], requires_grad=True)
    >>> i, y = funcgrad.while_loop(lambda i, a: a.sum() < 20, lambda i, a: (i + 1, a * 2),
    ...                            (funcgrad.tensor(0), x))
    >>> i, y
    (tensor(3), tensor([ 8., 16.], grad_fn=<WhileLoopAutogradOpBackward>))
    >>> y.sum().backward(); x.grad
    tensor([8., 8.])
    """
    leaves, in_tree, specs = _flatten(carried_inputs, lambda: (
        "while_loop: carried_inputs must be a tuple or list of tensors (or dicts, lists and "
        f"tuples of them), but got {carried_inputs}. Make numbers tensors: funcgrad.tensor(0)."))
    regions = _autocast.regions()
    read_cond, (cond_tree, cond_avals) = _discover(cond_fn, "while_loop: cond_fn", in_tree,
                                                   specs, regions)
    if cond_tree.num_leaves != 1 or math.prod(cond_avals[0][0]) != 1 or (
            cond_avals[0][1] != jnp.bool_):
        raise RuntimeError(
            "while_loop: cond_fn must return a one-element bool tensor, but returned "
            f"{_describe((cond_tree, cond_avals))}. Return a comparison, e.g. x.sum() < 10.")
    read_body, (body_tree, body_avals) = _discover(body_fn, "while_loop: body_fn", in_tree,
                                                   specs, regions)
    carried = tuple((tuple(s.shape), s.dtype) for s in specs)
    if body_avals != carried:
        raise RuntimeError(
            "while_loop: body_fn must return tensors of the shapes and dtypes it takes (each "
            "iteration's output is the next one's input), but it takes "
            f"{_describe((in_tree, carried))} and returned {_describe((body_tree, body_avals))}.")
    captured, where_cond, where_body = _union(read_cond, read_body)
    count, known, traced = _loop(cond_fn, body_fn, in_tree, len(leaves), where_cond,
                                 where_body, regions)
    arrays = [t._peek() for t in (*leaves, *captured)]
    if any(isinstance(a, jax.core.Tracer) for a in arrays):
        fn, static = traced, {}
    else:  # values at hand: count the iterations, then record a loop of that many
        fn, static = known, {"iterations": int(count(*_lazy.concrete(tuple(arrays))))}
    outputs = [apply(_output_op("while_loop", "WhileLoopAutogradOpBackward", fn, k), *leaves,
                     *captured, **static) for k in range(len(leaves))]
    return jax.tree_util.tree_unflatten(body_tree, outputs)


def _flatten(operands, error: Callable[[], str]) -> tuple[list, object, list]:
    """The tensors of ``operands`` (a tuple or list, possibly nested), their tree and their
    abstract values; RuntimeError(``error()``) for anything else (a message that shows
    values, made only then: inside a transform they cannot be shown)."""
    leaves, tree = jax.tree_util.tree_flatten(operands, is_leaf=_is_tensor)
    if not isinstance(operands, (tuple, list)) or not all(map(_is_tensor, leaves)):
        raise RuntimeError(error())
    return leaves, tree, [jax.ShapeDtypeStruct(tuple(t.shape), t.dtype) for t in leaves]


def _union(first: list, second: list) -> tuple[list, tuple, tuple]:
    """The tensors two functions read from outside, each once, and where each function's
    k-th one is among them."""
    captured = list({id(t): t for t in (*first, *second)}.values())
    index = {id(t): i for i, t in enumerate(captured)}
    return (captured, tuple(index[id(t)] for t in first),
            tuple(index[id(t)] for t in second))


@contextlib.contextmanager
def _outside_reads(name: str, substitutes: Sequence | None = None, skip=None):
    """While function ``name`` runs: the tensors it reads that were made before it (its
    closure's), in
    the order of their first reads (yielded, filled as it runs). With ``substitutes``, the
    k-th such tensor holds ``substitutes[k]`` from that read on. Either way each one's array
    and version are put back at the end (a traced value must not stay in a real tensor), and
    a funcgrad.compile trace around it still sees every read. A read of the storage ``skip``
    does not count."""
    outer, before = Tensor._observer, _Storage.epoch
    _Storage.epoch = epoch = before + 1  # tensors the branch makes are born in this epoch
    read: dict[int, Tensor] = {}
    saved: list[tuple[_Storage, object, int]] = []

    def observe(t: Tensor) -> None:
        if outer is not None:
            outer(t)
        storage = t._storage
        # born in this epoch, or in that of a function nested in it: not from outside
        if storage.born >= epoch or id(t) in read or storage is skip:
            return
        saved.append((storage, storage.array, storage.version))
        if substitutes is not None:
            if len(read) == len(substitutes):
                raise RuntimeError(
                    f"{name} read more tensors from outside it than when it was first run "
                    f"({len(substitutes)}). It must read the same tensors every time it runs: "
                    "pass the ones it may read as operands.")
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
                f"{name} changed a tensor from outside it in place. The functions of cond and "
                "while_loop, and those that vmap, jit and grad record as one op, may not change "
                "their inputs or the tensors they read, as torch's: return a new value instead "
                "(x + 1, not x.add_(1)).")


def _call(branch: Callable, name: str, in_tree, arrays: Sequence, regions: tuple
          ) -> tuple[list, object]:
    """``branch`` on tensors holding ``arrays``, in the autocast ``regions`` it was called in
    (also when JAX traces it again later) and without a graph (JAX differentiates the whole
    op), checked: its output leaves' arrays and its output tree."""
    tensors = [Tensor._wrap(a) for a in arrays]
    with no_grad(), _autocast.traced(regions):
        out = branch(*jax.tree_util.tree_unflatten(in_tree, tensors))
    if any(t._storage.version for t in tensors):
        raise RuntimeError(
            f"{name} changed one of its operands in place. The functions of cond and "
            "while_loop may not change their inputs, as torch's: return a new value instead "
            "(x + 1, not x.add_(1)).")
    leaves, out_tree = jax.tree_util.tree_flatten(out, is_leaf=_is_tensor)
    wrong = [type(x).__name__ for x in leaves if not isinstance(x, Tensor)]
    if wrong or not leaves:
        raise RuntimeError(
            f"{name} must return a tensor, or a tuple, list or dict of tensors, but "
            f"returned {type(out).__name__ if not leaves else ', '.join(wrong)}. Return "
            "tensors (funcgrad.tensor(v) for a number v).")
    return [t._read() for t in leaves], out_tree


def _discover(branch: Callable, name: str, in_tree, specs: list, regions: tuple
              ) -> tuple[list, tuple]:
    """Runs ``branch`` abstractly: the outside tensors it reads, and its outputs' tree and
    (shape, dtype) pairs."""
    tree = []

    def run(*arrays):
        arrays, out_tree = _call(branch, name, in_tree, arrays, regions)
        tree.append(out_tree)
        return arrays

    with _outside_reads(name) as read:
        avals = jax.eval_shape(run, *specs)
    return list(read.values()), (tree[0], tuple((tuple(a.shape), a.dtype) for a in avals))


def _describe(out: tuple) -> str:
    tree, avals = out
    shapes = ", ".join(f"{jnp.dtype(d).name}{list(s)}" for s, d in avals)
    return f"{tree.num_leaves} tensor(s) ({shapes}) as {tree}"


def _pure(fn: Callable, name: str, in_tree, n: int, where: tuple, regions: tuple
          ) -> Callable:
    """``fn`` as a function of arrays: ``(*operand leaves, *captured) -> output leaves``;
    ``where[k]``: which captured array its k-th outside read gets."""

    def run(*arrays):
        operands, captured = arrays[:n], arrays[n:]
        with _outside_reads(name, [captured[i] for i in where]):
            return tuple(_call(fn, name, in_tree, operands, regions)[0])

    return run


@functools.lru_cache(maxsize=256)
def _cond_fn(true_fn: Callable, false_fn: Callable, in_tree, n: int, where_true: tuple,
             where_false: tuple, regions: tuple) -> Callable:
    """The cond op's function: ``(pred, *operand leaves, *captured) -> output leaves``, a
    ``lax.cond`` of the branches."""
    taken = _pure(true_fn, "cond: true_fn", in_tree, n, where_true, regions)
    other = _pure(false_fn, "cond: false_fn", in_tree, n, where_false, regions)

    def fn(pred, *arrays):
        return jax.lax.cond(jnp.reshape(pred, ()).astype(bool), taken, other, *arrays)

    return fn


@functools.lru_cache(maxsize=256)
def _loop(cond_fn: Callable, body_fn: Callable, in_tree, n: int, where_cond: tuple,
          where_body: tuple, regions: tuple) -> tuple[Callable, Callable, Callable]:
    """A while loop's functions of ``(*carried, *captured)`` arrays: how many iterations it runs
    (jitted); the loop where that number is known (``iterations``: a fori_loop, a scan, which
    JAX differentiates in reverse); and where it is traced (a lax.while_loop)."""
    test = _pure(cond_fn, "while_loop: cond_fn", in_tree, n, where_cond, regions)
    body = _pure(body_fn, "while_loop: body_fn", in_tree, n, where_body, regions)

    def parts(arrays) -> tuple:
        """The carried arrays, a going predicate and a step, both of the carried alone."""
        captured = arrays[n:]
        return (tuple(arrays[:n]), lambda c: jnp.reshape(test(*c, *captured)[0], ()),
                lambda c: body(*c, *captured))

    def count(*arrays):
        carried, going, step = parts(arrays)
        return jax.lax.while_loop(lambda s: going(s[1]), lambda s: (s[0] + 1, step(s[1])),
                                  (0, carried))[0]

    def known(*arrays, iterations: int):
        carried, _, step = parts(arrays)
        return jax.lax.fori_loop(0, iterations, lambda _, c: step(c), carried)

    def traced(*arrays):
        carried, going, step = parts(arrays)
        return jax.lax.while_loop(going, step, carried)

    return jax.jit(count), known, traced


@functools.lru_cache(maxsize=1024)
def _output_op(name: str, grad_fn: str, fn: Callable, k: int) -> Op:
    return Op(name, lambda *arrays, **static: fn(*arrays, **static)[k], grad_fn)

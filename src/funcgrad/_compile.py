"""``funcgrad.compile`` and ``funcgrad.functionalize``: a stateful step as one XLA program.

A step written against the stateful API reads and mutates Tensors it was not given: parameters
held in modules, optimizer state, ``.grad`` slots, the random generator. Every read of a Tensor
goes through ``Tensor._read()``, so tracing the step with an observer on that accessor finds
them: a Tensor whose array is concrete while the step is being traced is state from outside.
The step then becomes a pure function ``(state arrays, arguments) -> (outputs, new state)``:
the state's arrays are swapped for tracers while it is traced, and put back afterwards, so
tracing leaves no mark. ``compile`` jits that function and, after each call, writes the new
arrays into the same storages and ``.grad`` slots, so code outside sees exactly what eager
execution would have left.

A call that repeats the previous one's signature takes a fast path (``_Plan``): a few identity
checks, one call of the jitted program on a flat list of arrays, and a precomputed write-back.
Results that do not depend on any input (the zeros ``.grad.zero_()`` leaves) are computed once
and reused rather than written out by every call.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import traceback
import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.core import ClosedJaxpr, Literal, jaxpr_as_fun

from . import _graph
from ._grad_mode import is_grad_enabled
from ._recompiles import RecompileWarning
from ._tensor import Tensor, _Storage
from .nn._modules import Module

__all__ = ["compile", "functionalize", "CompiledFunction", "OptimizedModule", "RecompileWarning"]


class _Rediscover(Exception):
    """Tracing met state it did not know yet; the state is extended and tracing starts over."""


@dataclasses.dataclass
class _State:
    """The state a step touches: storages of outside Tensors, each with the Tensor it was first
    read through (its owner), and the leaves whose ``.grad`` it may set (in the order first
    seen). The leaves' current ``.grad`` storages are state too, looked up afresh at each call,
    since a step may replace them."""

    storages: list[_Storage] = dataclasses.field(default_factory=list)
    owners: list[Tensor] = dataclasses.field(default_factory=list)
    leaves: list[Tensor] = dataclasses.field(default_factory=list)
    generation: int = 0  # bumped whenever storages or leaves are added or dropped
    # The modules the step called: their training flags (train()/eval()) are Python the
    # trace ran once, so a program is specific to them, as torch.compile guards on them.
    modules: list[Module] = dataclasses.field(default_factory=list)

    def inputs(self) -> list[Tensor]:
        """The tensors whose arrays a call passes in, in order: the owners, then the leaves'
        current gradients (those whose storage is not passed already)."""
        known = set(map(id, self.storages))
        return self.owners + [t._grad for t in self.leaves
                              if t._grad is not None and id(t._grad._storage) not in known]

    def now(self) -> tuple[list[Tensor], tuple]:
        """``inputs()`` and the key of what a program is specific to: which storages and leaves
        (the generation), which leaves have a gradient (by presence, not identity: a step may
        put a new one there every time), which tensors require grad, the shapes and dtypes
        of the arrays, and the training flags of the modules it calls."""
        inputs = self.inputs()
        key = (self.generation, tuple(t._grad is not None for t in self.leaves),
               tuple(t._requires_grad for t in self.tensors()),
               tuple((t.shape, t.dtype) for t in inputs), self.modes())
        return inputs, key

    def modes(self) -> tuple[bool, ...]:
        return tuple(m.training for m in self.modules)

    def copy(self) -> _State:
        """The state as it is now, which later ``extend`` and ``prune`` calls leave alone."""
        return _State(list(self.storages), list(self.owners), list(self.leaves), self.generation,
                      list(self.modules))

    def tensors(self) -> list[Tensor]:
        """The owners and the leaves, each once."""
        return list({id(t): t for t in self.owners + self.leaves}.values())

    def prune(self) -> None:
        """Forgets storages whose owners hold another one now (``.data = ...`` rebound them),
        so that the next trace finds the new one."""
        held = [(s, t) for s, t in zip(self.storages, self.owners) if t._storage is s]
        if len(held) < len(self.storages):
            self.storages, self.owners = [s for s, _ in held], [t for _, t in held]
            self.generation += 1

    def extend(self, found: list[tuple[Tensor, _Storage]], leaves: list[Tensor]) -> None:
        self.leaves.extend(leaves)
        grads = {id(t._grad._storage) for t in self.leaves if t._grad is not None}
        for t, s in found:
            if id(s) not in grads:
                self.storages.append(s)
                self.owners.append(t)
        self.generation += 1


class _Observer:
    """Installed as ``Tensor._observer`` while tracing: notes Tensors from outside, and what
    they held when first seen, so that an aborted trace can put it back."""

    def __init__(self, storages: list[_Storage], leaves: list[Tensor]) -> None:
        self.known = set(map(id, storages))
        self.leaves = set(map(id, leaves))
        self.found: list[tuple[Tensor, _Storage]] = []
        self.found_leaves: list[Tensor] = []
        self._originals: list[tuple[_Storage, Any]] = []
        self._original_grads: list[tuple[Tensor, Any]] = []
        _Storage.epoch += 1
        self.epoch = _Storage.epoch

    def __call__(self, t: Tensor) -> None:
        storage = t._storage
        if storage.born == self.epoch:  # made inside the step: its own, not outside state
            return
        if t._requires_grad and t.grad_fn is None and id(t) not in self.leaves:
            self.leaves.add(id(t))
            self.found_leaves.append(t)
            self._original_grads.append((t, t._grad))
        if id(storage) in self.known or storage.array is None:
            return
        if not isinstance(storage.array, jax.core.Tracer):
            self.known.add(id(storage))
            self.found.append((t, storage))
            self._originals.append((storage, storage.array))

    def restore(self) -> None:
        for storage, array in self._originals:
            storage.array = array
        for t, g in self._original_grads:
            t._grad = g
            t._rebound()


@dataclasses.dataclass
class _Trace:
    """What one trace learned that the call needs afterwards (static per compiled program)."""

    written: tuple[bool, ...] = ()
    grads: tuple[str, ...] = ()  # per leaf: 'same', 'none' or 'new'
    out_tree: Any = None
    out_tensors: tuple[bool, ...] = ()
    # Per output: whether it carries a graph out of the call (it required grad in the trace of
    # a step that ran no backward: a forward, as torch.compile(model) runs).
    graph: tuple[bool, ...] = ()
    # Per tensor argument that requires grad: whether the step's backward gave it a gradient.
    arg_grads: tuple[bool, ...] = ()


def _split_args(args: tuple, kwargs: dict):
    """Tensors, arrays and floats are operands; everything else (modules, optimizers, flags)
    is static and passed through by identity. Returns the operands' arrays, the layout (whose
    ``kinds`` say per operand: 0 not a Tensor, 1 a Tensor, 2 one that requires grad) and the
    leaves, the operands among them as given."""
    if not kwargs and not any(map(_is_container, args)):
        leaves, tree = args, len(args)  # the common case, without a pytree walk
    else:
        leaves, tree = jax.tree_util.tree_flatten((args, kwargs),
                                                  is_leaf=lambda x: not _is_container(x))
    dynamic = tuple(isinstance(x, (Tensor, jax.Array, np.ndarray, float)) for x in leaves)
    operands = tuple(x._read() if isinstance(x, Tensor) else x
                     for x, d in zip(leaves, dynamic) if d)
    static = tuple(_Static(x) for x, d in zip(leaves, dynamic) if not d)
    kinds = tuple(1 + x._requires_grad if isinstance(x, Tensor) else 0
                  for x, d in zip(leaves, dynamic) if d)
    return operands, (tree, dynamic, static, kinds), leaves


_NO_ARGS = (0, (), (), ())  # the layout _split_args gives no arguments


def _is_container(x) -> bool:
    return type(x) in (tuple, list, dict)


def _aval(x):
    """What a program is specific to about an operand: shape, dtype and weak type."""
    if hasattr(x, "shape"):
        return x.shape, x.dtype, getattr(x, "weak_type", False)
    return type(x)


class _Static:
    """A static argument in a cache key: by value when hashable, else by identity."""

    def __init__(self, value) -> None:
        self.value = value
        try:
            self._hash = hash(value)
        except TypeError:
            self._hash = id(value)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:
        if not isinstance(other, _Static):
            return False
        return self.value is other.value or (self._hash == other._hash
                                             and type(self.value) is type(other.value)
                                             and _safe_eq(self.value, other.value))


def _safe_eq(a, b) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def _join_args(operands, layout) -> tuple[tuple, dict, list[Tensor]]:
    """The arguments again, operands as Tensors where they were; and those that require grad."""
    tree, dynamic, static, kinds = layout
    ops, stat, kind = iter(operands), iter(static), iter(kinds)
    leaves, requiring = [], []
    for d in dynamic:
        if d:
            x, k = next(ops), next(kind)
            leaves.append(Tensor._wrap(x, requires_grad=k == 2) if k else x)
            if k == 2:
                requiring.append(leaves[-1])
        else:
            leaves.append(next(stat).value)
    if isinstance(tree, int):
        return tuple(leaves), {}, requiring
    return *jax.tree_util.tree_unflatten(tree, leaves), requiring


_tracing: list[Callable] = []  # the steps being traced now, innermost last


def is_compiling() -> bool:
    """Whether a ``funcgrad.compile`` step is being traced now (``torch.compiler.
    is_compiling``): code there runs once per compile, its tensors hold traced values."""
    return bool(_tracing)


class _Pure:
    """The step as a pure function of (state arrays, operands) for one state and argument
    layout; ``learned`` keeps what tracing learned."""

    def __init__(self, fn: Callable, state: _State, arg_layout, all_outputs: bool) -> None:
        self.fn, self.state, self.arg_layout = fn, state, arg_layout
        self.all_outputs = all_outputs
        self.learned = _Trace()
        self.learned_modules: list[Module] = []  # the modules the last trace called

    def __call__(self, state_arrays, operands):
        storages = [t._storage for t in self.state.inputs()]
        leaves = list(self.state.leaves)
        before = [s.array for s in storages]
        grads_before = [t._grad for t in leaves]
        observer = _Observer(storages, leaves)
        outer, backwards, calls = Tensor._observer, _graph.backwards, Module._calls
        Module._calls = self.learned_modules = []
        try:
            for s, a in zip(storages, state_arrays):
                s.array = a
            args, kwargs, requiring = _join_args(operands, self.arg_layout)
            # Argument tensors are operands even when their arrays are concrete (a constant
            # under an outer jax.lax.scan, say): never state.
            observer.known.update(id(t._storage) for t in jax.tree_util.tree_leaves(
                (args, kwargs), is_leaf=lambda x: isinstance(x, Tensor))
                if isinstance(t, Tensor))
            Tensor._observer = observer
            _tracing.append(self.fn)
            try:
                out = self.fn(*args, **kwargs)
            finally:
                Tensor._observer, Module._calls = outer, calls
                _tracing.pop()
            if observer.found or observer.found_leaves:
                raise _Rediscover(observer.found, observer.found_leaves)
            return self._outputs(storages, leaves, state_arrays, grads_before, out, requiring,
                                 forward_only=_graph.backwards == backwards)
        finally:
            observer.restore()
            for s, a in zip(storages, before):
                s.array = a
            for t, g in zip(leaves, grads_before):
                t._grad = g
                t._rebound()

    def _outputs(self, storages, leaves, state_arrays, grads_before, out, requiring: list,
                 forward_only: bool):
        written = tuple(s.array is not a for s, a in zip(storages, state_arrays))
        new_state = tuple(s.array for s, w in zip(storages, written) if w or self.all_outputs)
        kinds, new_grads = [], []
        for t, g0 in zip(leaves, grads_before):
            g = t._grad
            kinds.append("same" if g is g0 else "none" if g is None else "new")
            if kinds[-1] == "new":
                new_grads.append(g._storage.array)
        new_grads.extend(t._grad._storage.array for t in requiring if t._grad is not None)
        out_leaves, tree = jax.tree_util.tree_flatten(out, is_leaf=lambda x: isinstance(x, Tensor))
        self.learned = _Trace(written, tuple(kinds), tree,
                              tuple(isinstance(x, Tensor) for x in out_leaves),
                              tuple(forward_only and isinstance(x, Tensor) and x._requires_grad
                                    for x in out_leaves),
                              tuple(t._grad is not None for t in requiring))
        out_arrays = tuple(x._storage.array if isinstance(x, Tensor) else x for x in out_leaves)
        return new_state, tuple(new_grads), out_arrays


class _Program:
    """One traced step, compiled: ``run(*state_arrays, *operands)`` returns the outputs that
    vary from call to call; ``template`` (None when there are none) holds the others' values
    in their places, computed once, since writing a constant out every call costs a buffer and
    its fill (all the zeroed gradients of a training step). ``grad_ops`` holds, per output that
    carries a graph, the op its node records: the step's function of all its inputs, pruned
    to that output, whose VJP JAX takes when a backward reaches it."""

    def __init__(self, closed: ClosedJaxpr, trace: _Trace, inputs: list, donated: int) -> None:
        self.trace, self.donated = trace, donated
        jaxpr = closed.jaxpr
        # Donated inputs are deleted by the call, so a constant handed back in as state (the
        # next call's input) must not be one of them: donating steps keep every output.
        fixed = [False] * len(jaxpr.outvars) if donated or jaxpr.effects else _fixed(jaxpr)

        def jit(outvars: list, **options):
            pruned = ClosedJaxpr(jaxpr.replace(outvars=outvars), closed.consts)
            return jax.jit(jaxpr_as_fun(pruned), **options)

        self.run = jit([v for v, f in zip(jaxpr.outvars, fixed) if not f],
                       donate_argnums=tuple(range(donated)))
        self.template = None
        if any(fixed):
            values = iter(jit([v for v, f in zip(jaxpr.outvars, fixed) if f])(*inputs))
            self.template = [next(values) if f else None for f in fixed]
        self._closed, self._fixed, self._lean = closed, fixed, {}
        first = len(jaxpr.outvars) - len(trace.graph)
        self.grad_ops = {k: _output_op(closed, first + k)
                         for k, graph in enumerate(trace.graph) if graph}

    def lean(self, baked: tuple[tuple[int, int], ...]) -> Callable:
        """``run`` for calls whose inputs at the positions ``i`` of ``baked``'s pairs ``(i, j)``
        hold the constant output ``j`` (``template[j]``), as a state tensor does that the last
        call wrote it into (a zeroed ``.grad``): those inputs are left out, and the constants
        computed inside the program instead, where XLA folds them. A zeroed gradient then
        costs no argument, and adding the next gradient to it no work."""
        run = self._lean.get(baked)
        if run is None:
            whole, avals = jaxpr_as_fun(self._closed), self._closed.in_avals
            left_out = dict(baked)
            varying = [j for j, f in enumerate(self._fixed) if not f]

            def program(*given):
                given = iter(given)
                args = [jnp.zeros(a.shape, a.dtype) if i in left_out else next(given)
                        for i, a in enumerate(avals)]
                constants = whole(*args)  # which depend on no input: any will do
                for i, j in baked:
                    args[i] = constants[j]
                outputs = whole(*args)
                return [outputs[j] for j in varying]

            run = self._lean[baked] = jax.jit(program)
        return run


def _output_op(closed: ClosedJaxpr, k: int) -> _graph.Op:
    """The op computing output ``k`` of the program ``closed`` from all its inputs."""
    output = jaxpr_as_fun(ClosedJaxpr(closed.jaxpr.replace(outvars=[closed.jaxpr.outvars[k]]),
                                      closed.consts))
    return _graph.Op("compiled_function", lambda *arrays: output(*arrays)[0],
                     "CompiledFunctionBackward")


def _fixed(jaxpr) -> list[bool]:
    """Per output of ``jaxpr``, whether it depends on none of the inputs."""
    varying = set(jaxpr.invars)
    for eqn in jaxpr.eqns:
        if any(v in varying for v in eqn.invars if not isinstance(v, Literal)):
            varying.update(eqn.outvars)
    return [isinstance(v, Literal) or v not in varying for v in jaxpr.outvars]


class _Plan:
    """A call of one program on one state, with everything decided in advance: the checks that
    a new call has the same signature, the tensors to read, and where each result goes. Then a
    repeated call costs little more than the program itself: a few flat loops."""

    def __init__(self, program: _Program, state: _State, layout, avals, donate: bool) -> None:
        # A copy of the state the program was traced for, since ``_bind`` reads it again: a
        # later call may add tensors to the function's state and then fail to trace (or fall
        # back to eager), leaving this plan in use with a program that never takes them.
        state = state.copy()
        self.program, self.state, self.layout, self.avals = program, state, layout, avals
        self.run, self._donate = program.run, donate
        self.call = self._donating if program.donated else self.run
        self.grad_mode = is_grad_enabled()
        self.rebinds = -1  # check the state at the first call
        self.modes, self.moded = state.modes(), Module._modes
        trace = program.trace
        self.tensors, self.leaves = state.tensors(), list(state.leaves)
        self.regrads = [(t, kind) for t, kind in zip(self.leaves, trace.grads) if kind != "same"]
        # Replacing each gradient by a new one keeps the signature, so the plan follows the
        # new objects; adding or removing one changes it, and the next call plans afresh.
        self.steady = all(kind == "new" and t._grad is not None for t, kind in self.regrads)
        self._bind()
        self.outputs = len(self.targets) + len(self.fixed) + sum(
            kind == "new" for _, kind in self.regrads) + sum(trace.arg_grads)
        # The usual step: gradients kept in place, and one tensor returned (the loss).
        self.simple = (not self.regrads and jax.tree_util.treedef_is_leaf(trace.out_tree)
                       and trace.out_tensors == (True,) and not program.grad_ops
                       and not any(trace.arg_grads)
                       and (program.template is None or program.template[-1] is None))

    def _bind(self) -> None:
        """Takes what the state tensors hold now as what a call must find, and their storages
        (the gradients' included) as the ones to pass in and write back to: ``targets`` from
        the program's first results, ``fixed`` from its constants."""
        self.inputs = self.state.inputs()
        checked = {id(t): t for t in self.tensors + self.inputs}.values()
        self.checks = [(t, t._storage, t._requires_grad, t._grad) for t in checked]
        self.storages = storages = [t._storage for t in self.inputs]
        written = self.program.trace.written
        targets = [s for s, w in zip(storages, written) if w or self._donate]
        template = self.program.template or [None] * len(targets)
        self.targets = [s for s, c in zip(targets, template) if c is None]
        self.fixed = [(s, c) for s, c in zip(targets, template) if c is not None]
        self.written = [s for s, w in zip(storages, written) if w]
        # A call that finds each ``fixed`` storage still holding the constant the last call
        # left there (a zeroed .grad) runs the program without those inputs; every target is
        # an input, so all of ``fixed`` is left out.
        self.whole = self.lean = (self.call, storages, self.inputs)
        if self.fixed:
            constant_at = {id(s): j for j, (s, c) in enumerate(zip(targets, template))
                           if c is not None}
            baked = tuple((i, constant_at[id(s)]) for i, s in enumerate(storages)
                          if id(s) in constant_at)
            kept = [i for i, s in enumerate(storages) if id(s) not in constant_at]
            self.lean = (self.program.lean(baked), [storages[i] for i in kept],
                         [self.inputs[i] for i in kept])

    def __call__(self, operands, layout, leaves):
        """The call's outputs, or ``_MISS`` when it does not fit this plan: when its argument
        layout or shapes or the grad mode differ, or a state tensor holds another storage,
        ``requires_grad`` or ``.grad`` than when the plan was made (or last ran). Those are
        looked at only when some tensor was rebound since the last call (``Tensor._rebinds``);
        checks and write-back are plain loops of identity checks and stores, the cheapest way
        in CPython (and never ``==``, which is elementwise on Tensors)."""
        if (layout is not self.layout and layout != self.layout
                or is_grad_enabled() is not self.grad_mode):
            return _MISS
        if operands:
            for x, aval in zip(operands, self.avals):
                if _aval(x) != aval:
                    return _MISS
        if Module._modes != self.moded:
            if self.state.modes() != self.modes:
                return _MISS
            self.moded = Module._modes
        if Tensor._rebinds != self.rebinds:
            for t, storage, requires_grad, grad in self.checks:
                if (t._storage is not storage or t._requires_grad is not requires_grad
                        or t._grad is not grad):
                    return _MISS
            self.rebinds = Tensor._rebinds
        # What the outputs that carry a graph were computed from, for their nodes.
        saved = [t._read() for t in self.inputs] if self.program.grad_ops else None
        run, storages, inputs = lean = self.lean
        for s, constant in self.fixed:
            if s.array is not constant:
                run, storages, inputs = self.whole
                break
        try:
            # Straight from the storages: a Tensor._read call per tensor would add about a
            # fifth to what this method costs.
            results = run(*map(_array_of, storages), *operands)
        except TypeError:  # a value the lazy tier left pending, not a JAX type until read
            results = run(*map(Tensor._read, inputs), *operands)
        for s, a in zip(self.targets, results):
            s.array = a
        if storages is not lean[1]:
            for s, a in self.fixed:
                s.array = a
        for s in self.written:
            s.version += 1
        if self.simple:
            return Tensor._wrap(results[-1])
        return self._finish(results, saved, operands, leaves)

    def _donating(self, *arrays):
        """The program's call when it deletes its state inputs: each buffer passed once."""
        state = len(self.storages)
        return self.run(*_once_each(arrays[:state]), *arrays[state:])

    def _finish(self, results, saved, operands, leaves):
        """The rest of a call that replaces or removes gradients, gives tensor arguments
        gradients, returns more than one tensor or outputs that carry a graph: all results in
        order, constants included, then the gradients and outputs. A tensor argument's gradient
        goes on as a backward from it (into its .grad, or on through the graph that made it);
        an output that carries a graph gets a node of its own, whose inputs are the state
        tensors and the operands, as they were before the call."""
        template = self.program.template
        if template is not None:
            varying = iter(results)
            results = [next(varying) if r is None else r for r in template]
        if self.regrads:
            grads = iter(results[len(self.targets) + len(self.fixed):self.outputs])
            for t, kind in self.regrads:
                t._grad = None if kind == "none" else Tensor._wrap(next(grads))
                t._rebound()
            if self.steady:
                self._bind()
        trace = self.program.trace
        dynamic, kinds = self.layout[1], self.layout[3]
        given = [x for x, d in zip(leaves, dynamic) if d]
        if any(trace.arg_grads):
            grads = iter(results[self.outputs - sum(trace.arg_grads):self.outputs])
            requiring = [x for x, k in zip(given, kinds) if k == 2]
            for x, has in zip(requiring, trace.arg_grads):
                if has:
                    _graph.backward((x,), (Tensor._wrap(next(grads)),))
        out = [Tensor._wrap(x) if t else x
               for x, t in zip(results[self.outputs:], trace.out_tensors)]
        if saved is not None:
            tensors = (*self.inputs, *given)
            arrays = (*saved, *operands)
            for k, op in self.program.grad_ops.items():
                out[k] = _graph.record(op, tensors, arrays, out[k]._storage.array, {})
        return jax.tree_util.tree_unflatten(trace.out_tree, out)


def _once_each(arrays) -> list:
    """``arrays`` with each repeat of an array object replaced by a copy. A donated buffer may
    be passed only once, and two tensors can well hold one (immutable) array: after
    ``b.copy_(a)``, say, or optimizer states that start out equal."""
    seen, once = set(), []
    for a in arrays:
        if id(a) in seen:
            a = jnp.array(a, copy=True)
        seen.add(id(a))
        once.append(a)
    return once


_array_of = operator.attrgetter("array")
_MISS = object()


class CompiledFunction:
    """A stateful function run as one jitted XLA program; see ``funcgrad.compile``."""

    def __init__(self, fn: Callable, *, warn_after: int = 8, fallback: str | None = None):
        if fallback not in (None, "eager"):
            raise ValueError(f"fallback must be None or 'eager', got {fallback!r}")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.warn_after = warn_after
        self.fallback = fallback
        self.compiles = 0
        self.recompile_reasons: list[str] = []
        self._state = _State()
        self._programs: dict = {}
        self._plan: _Plan | None = None
        self._donate = jax.default_backend() != "cpu"

    def __call__(self, *args, **kwargs):
        if Tensor._observer is not None:
            # Inside the trace of another compiled step (or of a cond branch): part of that
            # program, as torch inlines a compiled function called by one being compiled.
            return self.fn(*args, **kwargs)
        operands, arg_layout, leaves = (_split_args(args, kwargs) if args or kwargs
                                        else ((), _NO_ARGS, ()))
        plan = self._plan
        if plan is not None:
            out = plan(operands, arg_layout, leaves)
            if out is not _MISS:
                return out
        try:
            self._plan = self._prepare(operands, arg_layout)
        except jax.errors.ConcretizationTypeError as e:
            if self.fallback != "eager":
                raise RuntimeError(
                    f"funcgrad.compile cannot compile {getattr(self.fn, '__name__', 'this')}: "
                    f"{_user_line(e)} reads a tensor's value (.item(), print, float(), `if`), "
                    "which exists only when the step runs, not while it is compiled. Return the "
                    "value from the step instead, use funcgrad.where for a choice that depends "
                    "on it, or pass compile(..., fallback='eager') to run this step eagerly."
                ) from e
            return self.fn(*args, **kwargs)
        return self._plan(operands, arg_layout, leaves)  # made for this very call: it fits

    def _prepare(self, operands, arg_layout) -> _Plan:
        """The plan for this call: its program found by its key, or traced and compiled."""
        self._state.prune()
        avals = tuple(map(_aval, operands))
        while True:
            inputs, state_key = self._state.now()
            key = (state_key, arg_layout, avals, is_grad_enabled())
            program = self._programs.get(key)
            if program is None:
                pure = _Pure(self.fn, self._state, arg_layout, all_outputs=self._donate)
                arrays = [t._read() for t in inputs]
                try:
                    closed = jax.make_jaxpr(pure)(arrays, operands)
                except _Rediscover as found:
                    self._state.extend(*found.args)
                    continue
                known = set(map(id, self._state.modules))
                self._state.modules.extend({id(m): m for m in pure.learned_modules
                                            if id(m) not in known}.values())
                key = (self._state.now()[1], arg_layout, avals, is_grad_enabled())
                # A node keeps the arrays an output carrying a graph was computed from, so a
                # step with such outputs gives up no buffer.
                donate = self._donate and not any(pure.learned.graph)
                program = _Program(closed, pure.learned, [*arrays, *operands],
                                   donated=len(arrays) if donate else 0)
                self._note_compile(key)
                self._programs[key] = program
            return _Plan(program, self._state, arg_layout, avals, self._donate)

    def _note_compile(self, key) -> None:
        self.compiles += 1
        if self.compiles > 1:
            previous = list(self._programs)[-1] if self._programs else None
            self.recompile_reasons.append(_why(previous, key))
        if self.compiles == self.warn_after + 1:
            warnings.warn(
                f"funcgrad.compile: {getattr(self.fn, '__name__', 'step')} has been compiled "
                f"{self.compiles} times; the last reason: {self.recompile_reasons[-1]}. Keep "
                "argument shapes and dtypes fixed, and the set of tensors the step touches "
                "stable (e.g. zero_grad the same way every step).",
                RecompileWarning, stacklevel=4,
            )


def _user_line(error: BaseException) -> str:
    """``file:line (code)`` of the innermost frame of the user's code in a traceback."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if "/funcgrad/" not in f.filename and "/jax/" not in f.filename]
    if not frames:
        return "a line"
    f = frames[-1]
    return f"{f.filename}:{f.lineno} ({(f.line or '').strip()})"


def _why(previous, key) -> str:
    if previous is None:
        return "first call"
    ((p_generation, _, p_flags, p_shapes, p_modes), p_layout, p_avals, p_grad_mode) = previous
    ((generation, _, flags, shapes, modes), layout, avals, grad_mode) = key
    if p_avals != avals:
        changed = [f"argument {i}: {a} -> {b}" for i, (a, b) in enumerate(zip(p_avals, avals))
                   if a != b] or [f"{len(p_avals)} -> {len(avals)} operands"]
        return "argument shapes/dtypes changed (" + "; ".join(changed) + ")"
    if p_grad_mode != grad_mode:
        return "grad mode changed (a call under no_grad after one without, or the reverse)"
    if p_layout[:3] != layout[:3]:
        return "a static argument changed"
    if p_layout != layout:
        return "requires_grad of a tensor argument changed"
    if p_generation != generation:
        return ("the set of touched tensors changed (the step reached tensors it had not "
                "before, or a tensor it uses was given new storage)")
    if p_flags != flags:
        return "requires_grad of a tensor the step uses changed"
    if p_shapes != shapes:
        return "the shape or dtype of a state tensor or .grad changed"
    if p_modes != modes[:len(p_modes)]:
        return "a module's training mode changed (train() or eval())"
    return "which tensors have a .grad changed (e.g. the first backward made them)"


# torch.compile's modes: funcgrad takes them, and compiles every one with XLA.
_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def compile(fn: Callable | None = None, *, warn_after: int = 8, fallback: str | None = None,
            fullgraph: bool = False, dynamic: bool | None = None,
            backend: str | Callable | None = None, mode: str | None = None,
            options: dict | None = None, disable: bool = False):
    """Runs a stateful function — forward, ``.backward()``, optimizer steps and in-place updates
    under ``no_grad``, ``zero_grad`` — as one jitted XLA program.

    The Tensors the function reads and mutates are found by tracing it, whether they are
    arguments, held by modules and optimizers, or closed over; their arrays go in, their new
    values come out and are written back into the same Tensor objects (and ``.grad`` slots)
    after each call. Tensor, array and float arguments are operands; other arguments (modules,
    optimizers, ints, strings) are static. It compiles again only when operand shapes or dtypes,
    static arguments, the set of touched Tensors (a tensor given new storage by ``.data = ...``
    counts), which of them require grad, or which ``.grad`` slots are filled change
    (``.recompile_reasons`` says why).

    Python code runs while tracing only: reading a value (``.item()``, ``if loss > 0``) inside
    raises; return the value instead, use ``funcgrad.where``, or pass ``fallback='eager'`` to
    run such a function eagerly. For the same reason an attribute or variable the step reads
    that is later rebound to another Tensor object is not seen; change tensors in place
    (``copy_``, ``.data = ...``) instead.

    A function that runs no ``.backward()`` (a model's forward, a loss) returns tensors that
    carry a graph, as torch.compile's do: each that requires grad has one node
    (``CompiledFunctionBackward``) over the tensors the call read and its tensor arguments,
    whose gradient is JAX's VJP of the compiled function, so ``loss.backward()`` after it
    reaches the parameters and the arguments. A training step that runs its backward inside
    returns tensors without one. A module (``compile(model)``, as ``torch.compile(model)``)
    comes back as an ``OptimizedModule`` around it; ``Module.compile()`` compiles a module's
    calls in place. A compiled function called while another is traced runs as part of it.

    Args:
        fn: the step; ``compile`` also works as a decorator, with or without arguments.
        warn_after: warn (``RecompileWarning``) once it has compiled more than this many times.
        fallback: ``'eager'`` to run ``fn`` eagerly when it cannot be traced.
        fullgraph, dynamic, backend, mode, options: torch.compile's; taken for its code's
            sake (funcgrad always compiles the whole function with XLA, specialized to the
            shapes), with torch's checks of ``mode`` and ``options``.
        disable: True to give ``fn`` back as it is.

    Returns:
        A ``CompiledFunction`` with ``fn``'s signature, or an ``OptimizedModule``.

    >>> import funcgrad
    >>> w = funcgrad.tensor([1.0, -2.0], requires_grad=True)
    >>> @funcgrad.compile
    ... def step(x):
    ...     loss = ((w * x).sum() - 1.0) ** 2
    ...     loss.backward()
    ...     with funcgrad.no_grad():
    ...         w.sub_(0.1 * w.grad)
    ...     w.grad.zero_()
    ...     return loss
    >>> [round(step(funcgrad.tensor([1.0, 1.0])).item(), 4) for _ in range(3)]
    [4.0, 1.44, 0.5184]
    >>> w
    tensor([ 1.7840, -1.2160], requires_grad=True)
    """
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if fn is None:
        return functools.partial(compile, warn_after=warn_after, fallback=fallback,
                                 fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                 mode=mode, options=options, disable=disable)
    if disable:
        return fn
    if isinstance(fn, Module):
        return OptimizedModule(fn, CompiledFunction(fn.__call__, warn_after=warn_after,
                                                    fallback=fallback))
    return CompiledFunction(fn, warn_after=warn_after, fallback=fallback)


def _optimized(mod: Module, warn_after: int, fallback: str | None) -> OptimizedModule:
    return compile(mod, warn_after=warn_after, fallback=fallback)


class OptimizedModule(Module):
    """``compile(module)``, as torch.compile gives it: a module holding the original as its
    one child ``_orig_mod`` (so parameter names and state-dict keys start ``_orig_mod.``),
    whose call runs the original's call (its hooks included) compiled. Reading or setting any
    other attribute, ``training`` included, reads or sets the original's."""

    _own = frozenset({"_orig_mod", "_compiled"})

    def __init__(self, mod: Module, compiled: CompiledFunction) -> None:
        super().__init__()
        self._orig_mod = mod
        self._compiled = compiled

    @property
    def training(self) -> bool:
        return self._orig_mod.training

    @training.setter
    def training(self, mode: bool) -> None:
        if "_orig_mod" in self.__dict__.get("_modules", ()):  # not Module.__init__'s default
            self._orig_mod.training = mode

    def forward(self, *args, **kwargs):
        mod = self._orig_mod
        if hasattr(mod, "_initialize_hook"):  # a lazy module makes its parameters eagerly
            mod._infer_parameters(mod, args, kwargs)
        return self._compiled(*args, **kwargs)

    def __getattr__(self, name: str):
        if name == "_orig_mod":
            return self.__dict__["_modules"]["_orig_mod"]
        return getattr(self._orig_mod, name)

    def __setattr__(self, name: str, value) -> None:
        if name in self._own or hasattr(type(self), name):
            super().__setattr__(name, value)
        else:
            setattr(self._orig_mod, name, value)

    def __delattr__(self, name: str) -> None:
        if name in self._own or hasattr(type(self), name):
            super().__delattr__(name)
        else:
            delattr(self._orig_mod, name)

    def __len__(self) -> int:
        return len(self._orig_mod)

    def __reduce__(self):
        """A copy (``deepcopy``, pickling) compiles a copy of the original afresh, as torch's."""
        return _optimized, (self._orig_mod, self._compiled.warn_after, self._compiled.fallback)

    def __dir__(self) -> list[str]:
        names = self._orig_mod.__dir__()
        return names + [name for name in super().__dir__() if name not in names]


class Functionalized:
    """The pure function behind a stateful step; see ``funcgrad.functionalize``."""

    def __init__(self, fn: Callable, args: tuple, kwargs: dict) -> None:
        self.fn = fn
        operands, self._arg_layout, _ = _split_args(args, kwargs)
        self._state = _State()
        while True:
            pure = _Pure(fn, self._state, self._arg_layout, all_outputs=True)
            try:
                jax.eval_shape(pure, self.state(), operands)
            except _Rediscover as found:
                self._state.extend(*found.args)
                continue
            break
        if any(kind != "same" for kind in pure.learned.grads):
            raise RuntimeError(
                "functionalize needs a step that leaves each .grad as it found it (present or "
                f"None), but {fn.__name__} creates or removes some. Run one step eagerly first "
                "so the gradients exist, and zero them with .zero_() (or zero_grad("
                "set_to_none=False)) rather than setting them to None."
            )
        self._pure = pure

    def state(self) -> tuple:
        """The current arrays of the state, in the order the pure function takes them."""
        return tuple(t._read() for t in self._state.inputs())

    def load_state(self, state: tuple) -> None:
        """Writes arrays (e.g. from ``jax.lax.scan``) back into the Tensors they came from."""
        for t, a in zip(self._state.inputs(), state):
            t._write(a)

    def __call__(self, state: tuple, *args, **kwargs):
        """``(state, *args) -> (output, new_state)``, with no effect on any Tensor."""
        operands, layout, _ = _split_args(args, kwargs)
        if layout != self._arg_layout:
            raise ValueError(
                "functionalize: call the pure function with arguments laid out as the example "
                "arguments were (same structure, same static values)."
            )
        new_state, _, out = self._pure(state, operands)
        trace = self._pure.learned
        leaves = [Tensor._wrap(x) if t else x for x, t in zip(out, trace.out_tensors)]
        return jax.tree_util.tree_unflatten(trace.out_tree, leaves), new_state


def functionalize(fn: Callable, *example_args, **example_kwargs) -> Functionalized:
    """The pure function ``(state, *args) -> (output, new_state)`` behind a stateful step, for
    ``jax.vmap``, ``jax.lax.scan`` or sharding by hand. The state is found by tracing ``fn``
    with the example arguments; ``.state()`` reads it and ``.load_state`` writes it back.

    >>> import jax, funcgrad
    >>> w = funcgrad.tensor([1.0], requires_grad=True)
    >>> def step(x):
    ...     loss = ((w * x).sum() - 3.0) ** 2
    ...     loss.backward()
    ...     with funcgrad.no_grad():
    ...         w.sub_(0.1 * w.grad)
    ...     w.grad.zero_()
    ...     return loss
    >>> step(funcgrad.tensor([1.0]))  # one eager step makes w.grad
    tensor(4., grad_fn=<PowBackward0>)
    >>> f = funcgrad.functionalize(step, funcgrad.tensor([1.0]))
    >>> def body(state, _):
    ...     loss, state = f(state, funcgrad.tensor([1.0]))
    ...     return state, loss
    >>> state, losses = jax.lax.scan(body, f.state(), length=3)
    >>> f.load_state(state); w
    tensor([2.1808], requires_grad=True)
    """
    return Functionalized(fn, example_args, example_kwargs)

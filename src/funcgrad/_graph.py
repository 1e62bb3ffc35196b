"""The graph and the backward engine.

``apply`` runs an op (or, with the lazy tier on, records it as a pending value: ``_lazy``) and,
when grad mode is on and an input requires grad, records a ``Node``: the op, the input arrays it
needs (immutable, so later in-place changes to a box cannot corrupt them) and an edge per input
to where that input's gradient goes. ``backward`` walks the nodes in reverse topological order;
each node's vector-Jacobian product comes from ``jax.vjp`` of the op's own function, compiled
once per (op, static arguments, shapes, dtypes) and shared by every graph. With
``create_graph=True`` those VJPs (or a recurring graph's whole backward, as one op) are
themselves recorded as ops, so the same engine gives derivatives of any order. With the lazy
tier on, the VJPs (or a recurring graph's whole backward) and the ``.grad`` accumulations are
pending values too, and ``backward`` computes everything pending at its end, so a training
step's previous update, forward and backward run as one program.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import math
import operator
import re
import types
import weakref
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax.extend.core import Var

from . import _anomaly, _config, _dtypes, _forward_ad, _grad_mode, _lazy, _saved, _tiers
from ._anomaly import creation_stack, is_anomaly_check_nan_enabled, is_anomaly_enabled
from ._forward_ad import tangents as _tangents
from ._grad_mode import set_grad_enabled
from ._tensor import Size, Tensor, _InferenceStorage

# The context variables behind is_anomaly_enabled and is_grad_enabled, read directly once per
# op (a call each would cost about 2% of a small training step).
_ANOMALY, _GRAD_MODE = _anomaly._enabled, _grad_mode._enabled
_STEP_ENDED = _lazy.step_ended


@dataclasses.dataclass(frozen=True, eq=False)
class Op:
    """A row of the ops table.

    Attributes:
        name: the op's name.
        fn: the JAX function computing it: positional operands (arrays or Python scalars),
            keyword arguments static.
        grad_fn: torch's name for the backward node, or a function of fn's arguments giving it.
        differentiable: False for ops whose output never has a gradient (comparisons, argmax).
        saves: False when the VJP needs only the inputs' shapes (linear ops); a second backward
            through such a node works without ``retain_graph``, as in torch.
        compiled: False when the VJP must run eagerly: a move between devices, whose gradient
            moves back, which one compiled program (placed on one device) cannot do.
        numbers: True when a Python int operand is data, as in ``x * i`` (where torch wraps
            the number in a tensor), not a dim or size: compiled programs then take it as an
            operand, so a changing int compiles nothing again (``_lazy.int_operand``).
    """

    name: str
    fn: Callable[..., Any]
    grad_fn: str | Callable[..., str]
    differentiable: bool = True
    saves: bool = True
    compiled: bool = True
    numbers: bool = False


# torch conjugates lazily, with no node of its own; here a conjugate is an op.
CONJ = Op("conj", jnp.conj, "ConjBackward0", saves=False)


def apply(op: Op, *args, **static) -> Tensor:
    """Computes ``op`` on Tensors, arrays and numbers, recording a Node when a gradient can flow.

    Keyword arguments are static (hashable); positional ones are operands.
    """
    static_key = tuple(sorted(static.items())) if static else ()
    # The hot path (_lazy_on inlined): no observer, so no _peek calls.
    if op.compiled and _config.config.lazy and Tensor._observer is None and not _ANOMALY.get()[0]:
        if _STEP_ENDED[0] and _GRAD_MODE.get() and any(  # a forward after a backward
                isinstance(a, Tensor) and a._requires_grad for a in args):
            _lazy.flush()
        arrays = tuple([a._storage.array if isinstance(a, Tensor) else a for a in args])
        out = _lazy.defer(op.fn, arrays, static_key, op.numbers)
        if out is not None:
            result = _record(op, args, arrays, out, static_key, out.sig)
            return _with_tangent(op, args, static, result) if _tangents else result
    else:
        arrays = tuple([a._peek() if isinstance(a, Tensor) else a for a in args])
    arrays = _lazy.concrete(arrays)
    try:
        out = op.fn(*arrays, **static)
    except (TypeError, ValueError) as e:
        if "incompatible devices" in str(e):
            _raise_mixed_devices(args)
        if "incompatible shapes for broadcasting" in str(e).lower():
            raise_broadcast([a.shape for a in arrays if hasattr(a, "shape")])
        axis = _AXIS_ERROR.fullmatch(str(e))
        if axis:
            raise_dim_out_of_range(int(axis[1]), int(axis[2]))
        raise
    result = _record(op, args, arrays, out, static_key)
    return _with_tangent(op, args, static, result) if _tangents else result


def _with_tangent(op: Op, args: tuple, static: dict, out: Tensor) -> Tensor:
    """Forward-mode AD (``autograd.forward_ad``): gives ``out``, computed by ``op`` from
    ``args``, its tangent, the JVP of ``op`` along the tangents of the inputs that have one,
    computed by ops of its own: recorded when grad mode is on, so a tangent has a gradient."""
    if _forward_ad.paused() or not (isinstance(out, Tensor) and op.differentiable
                                    and _dtypes.is_inexact(out.dtype)):
        return out
    tangents = {i: _forward_ad.tangent_of(a) for i, a in enumerate(args)
                if isinstance(a, Tensor)}
    moving = tuple(i for i, t in tangents.items() if t is not None)
    if moving:
        with _forward_ad.pause():
            tangent = apply(_jvp_op(op, moving, len(args)), *args,
                            *(tangents[i] for i in moving), **static)
        _forward_ad.set_tangent(out, tangent)
    return out


@_tiers.memo("rule_cache_size")
def _jvp_op(op: Op, moving: tuple[int, ...], n: int) -> Op:
    """The op computing the tangent of ``op``'s output from its ``n`` inputs and the tangents
    of those at ``moving``, by ``jax.jvp`` of the op's own function."""

    def fn(*operands, **static):
        def at(*moved):
            inputs = list(operands[:n])
            for i, x in zip(moving, moved):
                inputs[i] = x
            return op.fn(*inputs, **static)

        return jax.jvp(at, [operands[i] for i in moving], list(operands[n:]))[1]

    name = op.grad_fn if isinstance(op.grad_fn, str) else (
        lambda *arrays, **static: op.grad_fn(*arrays[:n], **static))
    return Op(f"{op.name}_jvp", fn, name, compiled=op.compiled, numbers=op.numbers)


def _lazy_on() -> bool:
    """Whether the lazy tier records ops: it is on, except under anomaly detection (which wants
    each op's values as they happen) and while funcgrad.compile traces a step (which must see
    every op). ``apply`` writes this test out inline (once per op, a call costs ~1%): change
    both together."""
    return _config.config.lazy and Tensor._observer is None and not _ANOMALY.get()[0]


def raise_broadcast(shapes: Sequence[tuple]) -> None:
    """torch's error for operands whose shapes do not broadcast: the first pair that fails,
    at its rightmost mismatched dimension."""
    shapes = [tuple(s) for s in shapes]
    a = shapes[0]
    for b in shapes[1:]:
        ndim = max(len(a), len(b))
        a, b = (1,) * (ndim - len(a)) + a, (1,) * (ndim - len(b)) + b
        for i in reversed(range(ndim)):
            if a[i] != b[i] and 1 not in (a[i], b[i]):
                raise RuntimeError(
                    f"The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) at "
                    f"non-singleton dimension {i}"
                ) from None
        a = tuple(max(x, y) for x, y in zip(a, b))


def broadcast_shape(*shapes: tuple) -> tuple:
    """The shape ``shapes`` broadcast to, or torch's error when they do not."""
    try:
        return jnp.broadcast_shapes(*shapes)
    except ValueError:
        raise_broadcast(shapes)


# JAX's error for an axis a tensor does not have, as jnp's functions word it.
_AXIS_ERROR = re.compile(r"axis (-?\d+) is out of bounds for array of dimension (\d+)")


def raise_dim_out_of_range(dim: int, ndim: int) -> None:
    """torch's error for ``dim`` outside ``[-ndim, ndim - 1]`` (a 0-d tensor's range is that
    of one dimension)."""
    rank = max(ndim, 1)
    raise IndexError(
        f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got "
        f"{dim})"
    ) from None


def torch_convention(g: Tensor) -> Tensor:
    """A gradient in torch's convention, given it in JAX's, or the reverse. For a complex
    tensor z and a real loss L, JAX's VJP carries dL/dRe(z) - i dL/dIm(z), torch's gradient
    is the conjugate: so the engine works in JAX's and conjugates each complex gradient where
    it meets the user (given, hooked, retained, accumulated or returned). Real gradients are
    the same in both, and pass through at the cost of a dtype check (none at all for a real
    leaf's, whose accumulator knows its dtype)."""
    return apply(CONJ, g) if g.dtype.kind == "c" else g


def _raise_mixed_devices(args: tuple) -> None:
    seen = list(dict.fromkeys(str(a.device) for a in args if isinstance(a, Tensor)))
    raise RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{seen[0]} and {seen[-1]}! Move them to one device first, e.g. other.to(x.device)."
    ) from None


def record(op: Op, args: tuple, arrays: tuple, out, static: dict) -> Tensor:
    """Boxes ``out``, computed by ``op`` from ``args`` (whose arrays are ``arrays``), with a
    Node when grad mode is on and a gradient can flow to an input."""
    return _record(op, args, arrays, out, tuple(sorted(static.items())))


def _record(op: Op, args: tuple, arrays: tuple, out, static: tuple, sig=None) -> Tensor:
    """``record`` of an op whose lazy-tier signature is ``sig`` (None when it ran eagerly:
    only then can anomaly mode be on, as it keeps the lazy tier off)."""
    if not (op.differentiable and _GRAD_MODE.get()):  # (is_grad_enabled inlined)
        return Tensor._wrap(out)
    edges = tuple([a._edge() if isinstance(a, Tensor) else None for a in args])
    if edges.count(None) == len(edges) or not (
            _dtypes.is_inexact(out.dtype) if sig is None else sig.inexact) or (
            _grad_mode.inference_used and _grad_mode.is_inference_mode_enabled()):
        return Tensor._wrap(out)  # (inference mode records nothing, under enable_grad too)
    node = Node(op, static, args, arrays, edges, sig)
    if saved_hooks and op.saves:
        node._pack(args, *saved_hooks[-1])
    if sig is None and is_anomaly_enabled():
        node.metadata["traceback_"] = creation_stack()
    return Tensor._wrap(out, grad_fn=node)


# autograd.graph.saved_tensors_hooks: the (pack, unpack) pairs in force, innermost last, of
# which the innermost applies; and the tensors that in-place ops are overwriting.
saved_hooks: list[tuple[Callable, Callable]] = []
_overwritten: list[Tensor] = []


class MutationContext:
    """An ``autograd.graph.allow_mutation_on_saved_tensors`` block: the nodes recorded in it,
    which record no versions of what they save (a funcgrad node saves immutable arrays, so an
    in-place change later cannot reach what backward reads: torch's clone on write, free)."""

    def __init__(self) -> None:
        self.nodes: weakref.WeakSet = weakref.WeakSet()


allowing_mutation: list[MutationContext] = []  # the block in force, if any
# Blocks that have ended while graphs recorded in them may still live: a backward through one
# of those graphs, outside its block, raises (torch's rule).
ended_mutation: list[MutationContext] = []


def _check_mutation_blocks(nodes: dict[int, _GraphNode]) -> None:
    ended_mutation[:] = [block for block in ended_mutation if len(block.nodes)]
    for block in ended_mutation:
        if any(id(n) in nodes for n in block.nodes):
            raise AssertionError(  # torch's words, its missing space included
                "Trying to backward outside of the 'allow_mutation_on_saved_tensors' context"
                "in which the graph was originally recorded.")


@contextlib.contextmanager
def overwriting(tensor: Tensor):
    """Marks ``tensor`` as the one an in-place op records its node over and then overwrites:
    a pack hook gets, for it, a tensor of its value from before the write (torch's clone of the
    original self), not the tensor itself."""
    _overwritten.append(tensor)
    try:
        yield
    finally:
        _overwritten.pop()


class RemovableHandle:
    """What registering a hook returns: ``remove()`` unregisters it from ``hooks_dict`` and
    drops its id from each dict of ``extra_dict`` (one or a sequence), which keep something of
    it; as a context manager, at exit. torch's ``utils.hooks.RemovableHandle``: code keeping
    hooks of its own makes one per hook and files the hook under its ``id``.

    >>> hooks = {}
    >>> handle = RemovableHandle(hooks)
    >>> hooks[handle.id] = print
    >>> handle.remove(); hooks
    {}
    """

    next_id = 0

    def __init__(self, hooks_dict: dict, *, extra_dict: dict | Sequence[dict] | None = None
                 ) -> None:
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        extra = () if extra_dict is None else (
            (extra_dict,) if isinstance(extra_dict, dict) else tuple(extra_dict))
        self._dicts = (hooks_dict, *extra)

    def remove(self) -> None:
        for hooks in self._dicts:
            hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def add_hook(hooks: dict, hook: Callable, prepend: bool = False,
             extra: Sequence[dict] = ()) -> RemovableHandle:
    """Registers ``hook`` in ``hooks``, after those there or, with ``prepend`` (``hooks`` an
    OrderedDict), before them; the handle's ``remove()`` unregisters it (and drops its key
    from each dict of ``extra``, which keep something of it)."""
    handle = RemovableHandle(hooks, extra_dict=extra)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle
# torch's sequence number: of two nodes ready at once, backward runs the newer first.
_creation = itertools.count()


class _GraphNode:
    """What every node has: edges to its inputs' nodes, hooks, and tensors retaining grads.

    Hooks run in torch's order: the tensor's hooks (``Tensor.register_hook``), then retained
    grads take the result, then the node's pre-hooks, the node itself, and its post-hooks.
    """

    edges: tuple = ()
    op: Op | None = None  # a Node's op; none at a leaf's accumulator
    # What a Node saved and whether backward freed it (checked before each backward).
    _versions: tuple = ()
    _freed = False
    # Few nodes ever get hooks, retained grads or metadata: they are made on first use, which
    # keeps recording a node (once per op) cheap.
    _tensor_hooks = _prehooks = _posthooks = types.MappingProxyType({})
    _retained: tuple = ()
    refuses_capture = ""  # why a backward to chosen inputs (autograd.grad) cannot pass here
    # Whether the compiled tier must leave a graph with this node to the interpreted engine:
    # once it has had hooks or retained grads (kept when they are removed: it decides speed,
    # never results), or when its VJP must run eagerly.
    _interpreted = False

    def __init__(self) -> None:
        self._sequence = self._rank = next(_creation)

    @property
    def metadata(self) -> dict:
        return self.__dict__.setdefault("_metadata", {})

    def _hooks(self, kind: str) -> dict:
        """This node's hooks of one kind, a dict of its own from the first one on."""
        if kind not in self.__dict__:
            setattr(self, kind, {})
            self._interpreted = True
        return getattr(self, kind)

    @property
    def listed(self) -> tuple[int, ...]:
        """The positions of the inputs torch lists in ``next_functions``."""
        return tuple(range(len(self.edges)))

    @property
    def next_functions(self) -> tuple:
        return tuple((self.edges[i], 0) for i in self.listed)

    def register_prehook(self, hook: Callable) -> RemovableHandle:
        """Registers ``hook(grad_outputs) -> grad_outputs | None``, run before this node."""
        return add_hook(self._hooks("_prehooks"), hook)

    def register_hook(self, hook: Callable) -> RemovableHandle:
        """Registers ``hook(grad_inputs, grad_outputs) -> grad_inputs | None``, run after."""
        return add_hook(self._hooks("_posthooks"), hook)

    def _add_tensor_hook(self, hook: Callable) -> RemovableHandle:
        return add_hook(self._hooks("_tensor_hooks"), hook)

    def _retain(self, tensor: Tensor) -> None:
        self._retained = (*self._retained, weakref.ref(tensor))
        self._interpreted = True

    def _before(self, ct: Tensor) -> tuple[Tensor, list[Tensor]]:
        """Runs the hooks due before this node: returns the gradient to use and the tensors
        that retain (the tensor-hooked) gradient."""
        if not (self._tensor_hooks or self._retained or self._prehooks):
            return ct, []
        ct = torch_convention(ct)
        for hook in list(self._tensor_hooks.values()):
            replaced = hook(ct)
            ct = ct if replaced is None else replaced
        retained = [t for t in (r() for r in self._retained) if t is not None]
        for hook in list(self._prehooks.values()):
            replaced = hook((ct,))
            ct = ct if replaced is None else replaced[0]
        return torch_convention(ct), retained

    def _after(self, grads: list, ct: Tensor) -> list:
        if not self._posthooks:
            return grads
        grads = [None if g is None else torch_convention(g) for g in grads]
        for hook in list(self._posthooks.values()):
            replaced = hook(tuple(grads), (torch_convention(ct),))
            grads = grads if replaced is None else list(replaced)
        return [None if g is None else torch_convention(g) for g in grads]

    def __repr__(self) -> str:
        return f"<{self.name().rsplit('::', 1)[-1]} object at {hex(id(self))}>"


class AccumulateGrad(_GraphNode):
    """The node at a leaf that requires grad: sums the gradients arriving there into ``.grad``."""

    def __init__(self, variable: Tensor) -> None:
        super().__init__()
        self._rank = self._sequence - _ACCUMULATORS_LAST
        self.variable = variable
        self._post_accumulate: dict[int, Callable] = {}
        # Found once per leaf, so that a backward checks no dtype to see that the gradients of
        # real leaves need no change of convention (torch_convention).
        self.complex = variable.dtype.kind == "c"

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"


class Group(_GraphNode):
    """One node over several tensors with an output per tensor, each that tensor unchanged:
    torch's ``BackwardHookFunctionBackward``, which a module's backward hooks put around its
    inputs and its outputs, so that the hooks of this one node see the gradients of every
    output at once. Its hooks get tuples: ``prehook(grad_outputs)``, ``hook(grad_inputs,
    grad_outputs)``, with None in ``grad_outputs`` for an output no gradient reached, and
    zeros in ``grad_inputs`` there (torch's Functions get such gradients materialized).
    ``group`` makes one."""

    _interpreted = True

    def __init__(self, edges: tuple, avals: tuple, outputs: int | None = None) -> None:
        super().__init__()
        self.edges, self._avals = edges, avals
        self.n_outputs = len(edges) if outputs is None else outputs

    def name(self) -> str:
        return "BackwardHookFunctionBackward"

    def _before(self, slots: list) -> tuple[tuple, list]:
        grads = _torch_side(slots)
        for hook in list(self._prehooks.values()):
            replaced = hook(grads)
            grads = grads if replaced is None else tuple(replaced)
        return grads, []

    def input_grads(self, grads: tuple, create_graph: bool) -> list:
        return [None if e is None else Tensor._wrap(filled(0, *aval)) if g is None else g
                for g, e, aval in zip(grads, self.edges, self._avals)]

    def _after(self, grads: list, grad_outputs: tuple) -> list:
        for hook in list(self._posthooks.values()):
            replaced = hook(tuple(grads), grad_outputs)
            grads = grads if replaced is None else list(replaced)
        return list(_torch_side(grads))


class _Output(_GraphNode):
    """The grad_fn of output ``index`` of a ``Group``: the gradient reaching it takes that
    place among the group's gradients. It shows as the group does."""

    _interpreted = True

    def __init__(self, group: Group, index: int) -> None:
        super().__init__()
        self.edges, self.group, self.index = (group,), group, index

    def name(self) -> str:
        return self.group.name()

    @property
    def next_functions(self) -> tuple:
        return self.group.next_functions


def _torch_side(grads) -> tuple:
    """Gradients in torch's convention (see ``torch_convention``), None kept."""
    return tuple(None if g is None else torch_convention(g) for g in grads)


def group(tensors: Sequence[Tensor]) -> tuple[Group, tuple[Tensor, ...]]:
    """A ``Group`` over ``tensors`` and its outputs: a new tensor per tensor that requires
    grad (holding the same value), the tensor itself for one that does not."""
    edges = tuple(t._edge() for t in tensors)
    node = Group(edges, tuple((tuple(t.shape), t.dtype) for t in tensors))
    return node, tuple(t if e is None else Tensor._wrap(t._peek(), grad_fn=_Output(node, i))
                       for i, (t, e) in enumerate(zip(tensors, edges)))


def renamed(tensor: Tensor, grad_fn: str) -> Tensor:
    """``tensor``, its node (if it has one) shown as ``grad_fn``: torch's name for a kernel
    that funcgrad composes of ops with names of their own."""
    if tensor.grad_fn is not None:
        tensor.grad_fn._name = grad_fn
    return tensor


_WRAPS_NUMBERS = frozenset({"add", "sub", "mul", "div", "index_put"})


def _listed(op: Op, inputs: tuple) -> tuple[int, ...]:
    """The inputs torch lists in next_functions, given each input's array or aval (or its
    value, for a number or None): a floating tensor, an absent optional one (None), or a number
    that torch wraps as a tensor (the operands of + - * / and assigned values); never indices,
    masks or scalar exponents."""
    return tuple([i for i, a in enumerate(inputs)
                  if (_dtypes.is_inexact(a.dtype) if hasattr(a, "dtype")
                      else a is None or op.name in _WRAPS_NUMBERS)])


class Node(_GraphNode):
    """A recorded op: what its backward needs, and where each input's gradient goes.
    ``_sig`` is the lazy tier's signature of the op's forward call (function, static
    arguments, input shapes and dtypes: one object per signature), when it was deferred."""

    # Until set: recorded once per op, a node sets only what differs from these.
    _laid_out: tuple | None = None
    _region = None  # the checkpointed call (utils.checkpoint) that recomputes what it saved
    _listed: tuple | None = None  # with a signature, found when ``listed`` is asked for
    _packed: tuple | None = None  # (unpack hook, {input position: what the pack hook gave})

    def __init__(self, op: Op, static: tuple, inputs: tuple, arrays: tuple, edges: tuple,
                 sig: _lazy.Sig | None = None) -> None:
        self._sequence = self._rank = next(_creation)  # _GraphNode.__init__, without a call
        self.op, self.static, self.edges, self._sig = op, static, edges, sig
        self._arrays = arrays
        name = op.grad_fn
        self._name = name if isinstance(name, str) else name(*arrays, **dict(static))
        if sig is None:
            self._listed = _listed(op, arrays)
        if not op.compiled:
            self._interpreted = True
        # (storage, version) of each saved Tensor, to catch in-place changes before backward;
        # the tensor itself (weakly) and its grad_fn name it in the error, as torch does.
        if op.saves:
            if allowing_mutation:
                allowing_mutation[0].nodes.add(self)
            else:
                self._versions = tuple([
                    (t._storage, t._storage.version, weakref.ref(t), t.grad_fn, i)
                    for i, t in enumerate(inputs) if isinstance(t, Tensor)])
                if _grad_mode.inference_used:
                    self._refuse_inference_saves()

    def name(self) -> str:
        return self._name

    def _refuse_inference_saves(self) -> None:
        """torch's error for an inference tensor among the inputs this node's VJP reads."""
        inference = {v[-1] for v in self._versions if type(v[0]) is _InferenceStorage}
        if inference and not inference.isdisjoint(self._reads()):
            raise RuntimeError(
                "Inference tensors cannot be saved for backward. Please do not use Tensors "
                "created in inference mode in computation tracked by autograd. To work around "
                "this, you can make a clone to get a normal tensor and use it in autograd, or "
                "use `funcgrad.no_grad()` instead of `funcgrad.inference_mode()`.")

    @property
    def listed(self) -> tuple[int, ...]:
        if self._listed is None:
            self._listed = _listed(self.op, self._sig.values())
        return self._listed

    def _check_saved(self) -> None:
        if self._region is not None:
            self._region.restore()
        if self._freed and self.op.saves:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or "
                "if you need to access saved tensors after calling backward."
            )
        for storage, version, ref, grad_fn, i in self._versions:
            if storage.version != version and i in self._reads():
                array = self._arrays[i]
                tensor = ref()
                grad_fn = grad_fn if tensor is None else tensor.grad_fn
                where = f", which is output 0 of {_short_name(grad_fn)}," if grad_fn else ""
                hint = (
                    "the backtrace further above shows the operation that failed to compute its "
                    "gradient. The variable in question was changed in there or anywhere later. "
                    "Good luck!" if is_anomaly_enabled() else
                    "enable anomaly detection to find the operation that failed to compute its "
                    "gradient, with funcgrad.autograd.set_detect_anomaly(True, check_nan=False)."
                )
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: [{_type_name(array)} {list(Size(array.shape))}]"
                    f"{where} is at version {storage.version}; expected version {version} "
                    f"instead. Hint: {hint}"
                )

    def _reads(self, k: int | None = None) -> frozenset:
        """The inputs this node's VJP reads (for its k-th differentiated input's gradient)."""
        diff, _ = self._layout()
        operands = tuple(i for i, a in enumerate(self._arrays) if hasattr(a, "shape"))
        avals = tuple((tuple(a.shape), a.dtype) if i in operands else a
                      for i, a in enumerate(self._arrays))
        return _vjp_reads(self.op, self.static, diff, operands, avals, k)

    def _pack(self, inputs: tuple, pack: Callable, unpack: Callable) -> None:
        """Hands each tensor input the VJP reads to ``pack`` (saved_tensors_hooks), without
        grad mode, and keeps what it gives instead of the input, to ``unpack`` in backward.
        The node keeps no value of those inputs, so it checks no version of them either."""
        packed = {}
        with set_grad_enabled(False):
            for i in sorted(self._reads()):
                tensor = inputs[i]
                if not isinstance(tensor, Tensor):
                    continue
                if _overwritten and tensor is _overwritten[-1]:
                    tensor = Tensor._wrap(self._arrays[i], grad_fn=tensor.grad_fn)
                version = tensor._storage.version
                packed[i] = pack(tensor)
                if tensor._storage.version != version:
                    raise RuntimeError(
                        "A saved tensor pack hook is modifying its input in place. Tensors "
                        "provided as input to pack hook cannot be modified by in-place "
                        "operations as this can lead to unexpected side-effects. Please open an "
                        "issue if you need to perform in-place operations on the input to a "
                        "pack hook.")
        self._packed = (unpack, packed)
        self._versions = tuple(v for v in self._versions if v[-1] not in packed)
        self._arrays = tuple(a.aval if i in packed else a for i, a in enumerate(self._arrays))
        self._interpreted = True

    def _unpacked(self) -> tuple:
        """The inputs, each packed one as its unpack hook gives it back (once per call)."""
        arrays = list(self._arrays)
        for i in self._packed[1]:
            arrays[i] = self._unpack(i)._peek()
        return tuple(arrays)

    def _unpack(self, i: int) -> Tensor:
        """Packed input ``i`` as its unpack hook gives it back."""
        unpack, packed = self._packed
        tensor = unpack(packed[i])
        if not isinstance(tensor, Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but "
                            f"got result of type {type(tensor).__name__}")
        return tensor

    def _snapshot_self(self) -> None:
        """For an in-place op: input 0 is the tensor it overwrites, and what this node saved of
        it is the value from before the write (an immutable array, as torch's clone of the
        original self), so that write, and later ones, cannot stale it."""
        self._versions = tuple(v for v in self._versions if v[-1] != 0)

    def _free(self) -> None:
        """Drops the saved values; a linear op keeps only shapes, which is all its VJP needs,
        and its integer operands (the ints of ``x[i]``, which say where its gradient goes)."""
        self._freed = True
        self._versions = ()
        self._packed = None
        if self.op.saves:
            self._arrays = None
        else:
            self._arrays = tuple([
                a.aval if isinstance(a, (jax.Array, _lazy.Pending))
                and not _dtypes.is_integer(a.dtype) else a for a in self._arrays])

    def _primals(self) -> tuple:
        if self._packed is not None:
            return self._unpacked()
        if not self._freed:
            return self._arrays
        return tuple(jnp.zeros(a.shape, a.dtype) if isinstance(a, jax.core.ShapedArray) else a
                     for a in self._arrays)

    def _layout(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Which inputs are differentiated and which are static (found once: every backward
        through this node asks). Ints, bools and None are static; Python floats are operands,
        so a changing learning rate or scale does not compile the rule again."""
        if self._laid_out is None:
            diff = tuple(i for i, e in enumerate(self.edges) if e is not None)
            numbers = self.op.numbers
            scalars = tuple(i for i, a in enumerate(self._arrays)
                            if not hasattr(a, "shape") and not isinstance(a, float)
                            and not _lazy.int_operand(a, numbers))
            self._laid_out = diff, scalars
        return self._laid_out

    def input_grads(self, ct: Tensor, create_graph: bool) -> list:
        """The gradient for each input (None where no gradient flows), given the output's."""
        diff, scalars = self._layout()
        grads: list = [None] * len(self.edges)
        if create_graph:
            primals = self._primals()
            inputs = self._connected_inputs(primals)
            for k, i in enumerate(diff):
                read = self._reads(k)
                grads[i] = apply(_backward_op(self.op, self._name, self.static, diff, scalars, k),
                                 *(a if j in read else primals[j] for j, a in enumerate(inputs)),
                                 ct)
        else:
            rule = _vjp_rule(self.op, self.static, diff, scalars)
            operands = (*self._primals(), ct._peek())
            outs = (_call(rule, operands, self.op.numbers) if self.op.compiled
                    else rule(*_lazy.concrete(operands)))
            for i, g in zip(diff, outs):
                grads[i] = Tensor._wrap(g)
        return grads

    def _connected_inputs(self, primals: tuple | None = None) -> list:
        """The inputs as Tensors connected to the graph, so the VJP can itself be recorded;
        ``primals``: their values, when the caller has them already."""
        out = []
        packed = self._packed[1] if self._packed is not None else ()
        for i, (array, edge) in enumerate(zip(
                self._primals() if primals is None else primals, self.edges)):
            if isinstance(edge, AccumulateGrad) and i not in packed:
                out.append(edge.variable)
            elif edge is not None:
                out.append(Tensor._wrap(array, grad_fn=edge))
            else:
                out.append(array)
        return out

    def _kept_input(self, i: int) -> Tensor:
        """Input ``i`` as torch's saved variable gives it back: the very tensor while it lives
        unchanged (or the unpack hook's tensor, when it was packed), else its saved value,
        connected to the graph where the input was."""
        if self._packed is not None and i in self._packed[1]:
            return self._unpack(i)
        for storage, _, ref, _, j in self._versions:
            tensor = ref()
            if j == i and tensor is not None and tensor._storage is storage:
                return tensor
        saved = self._connected_inputs(self._arrays)[i]
        return saved if isinstance(saved, Tensor) else Tensor._wrap(saved)

    def __dir__(self) -> list:
        """Of the saved variables, those of this node's kind, as torch's node lists."""
        mine = set(_saved.names(self))
        return [n for n in super().__dir__() if not n.startswith("_saved_") or n in mine]


class _SavedVariable:
    """torch's saved variable ``name`` (``_saved_self``, ``_saved_dim`` ...) of a Node, read
    from what the node keeps when asked for (see ``_saved``), so recording a node does no work
    for it. A class attribute per name: a ``__getattr__`` on Node would slow every attribute
    read of every node (CPython's attribute caches skip such classes), about 4% of a step."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, node: Node | None, owner: type | None = None):
        return self if node is None else _saved.saved(node, self.name)


for _attribute in _saved.ATTRIBUTES:
    setattr(Node, _attribute, _SavedVariable(_attribute))


def _short_name(grad_fn) -> str:
    """torch's name for a node in the version error: ``AddBackward0`` -> ``Add``,
    ``ClampBackward1`` -> ``Clamp1``; names without a Backward number stay whole."""
    head, sep, number = grad_fn.name().rpartition("Backward")
    if not (sep and number.isdigit()):
        return grad_fn.name()
    return head + ("" if number == "0" else number)


def _type_name(array) -> str:
    return f"funcgrad.{_dtypes.scalar_name(array.dtype)}Tensor"


@_tiers.memo("rule_cache_size")
def _vjp_rule(op: Op, static: tuple, diff: tuple, scalars: tuple) -> Callable:
    """``(*inputs, ct) -> grads of the inputs at diff``, compiled once per op and layout."""
    rule = _pullback(op, static, diff)
    return jax.jit(rule, static_argnums=scalars) if op.compiled else rule


def _pullback(op: Op, static: tuple, diff: tuple) -> Callable:
    """``(*inputs, ct) -> grads of the inputs at diff``, by ``jax.vjp`` of the op's function."""
    kwargs = dict(static)

    def rule(*args):
        *primals, ct = args

        def f(*wrt):
            full = list(primals)
            for i, value in zip(diff, wrt):
                full[i] = value
            return op.fn(*full, **kwargs)

        return jax.vjp(f, *(primals[i] for i in diff))[1](ct)

    return rule


def _live(jaxpr, outvars) -> set:
    """The variables of ``jaxpr`` that ``outvars`` depend on, looking into the jaxprs of
    nested ``jit`` calls (whose outputs often read only some of their inputs); any other
    primitive reads all its inputs."""
    live = {v for v in outvars if isinstance(v, Var)}
    for eqn in reversed(jaxpr.eqns):
        wanted = [v in live for v in eqn.outvars]
        if not any(wanted):
            continue
        inner = eqn.params.get("jaxpr") if eqn.primitive.name in ("jit", "pjit") else None
        if inner is None:
            live.update(v for v in eqn.invars if isinstance(v, Var))
            continue
        inner_live = _live(inner.jaxpr, [v for v, w in zip(inner.jaxpr.outvars, wanted) if w])
        live.update(v for v, iv in zip(eqn.invars, inner.jaxpr.invars)
                    if isinstance(v, Var) and iv in inner_live)
    return live


def reads(fn, specs: Sequence, k: int | None = None) -> frozenset:
    """The positions of the arguments (of abstract values ``specs``) that output ``k`` of
    ``fn`` (a tuple; None: every output) depends on, found in its jaxpr."""
    jaxpr = jax.make_jaxpr(fn)(*specs).jaxpr
    outvars = jaxpr.outvars if k is None else [jaxpr.outvars[k]]
    live = _live(jaxpr, outvars)
    return frozenset(i for i, v in enumerate(jaxpr.invars) if v in live)


@functools.lru_cache(maxsize=1024)
def _vjp_reads(op: Op, static: tuple, diff: tuple, operands: tuple, avals: tuple,
               k: int | None = None) -> frozenset:
    """The array inputs the VJP of ``op`` reads (for the gradient of ``diff[k]`` only, when
    ``k`` is given), found in its jaxpr. As torch saves only those, only their in-place change
    can fail a backward: ``x * 2`` or ``x + y`` keeps nothing of x. And a recorded VJP
    (create_graph) is connected to those alone, as torch's are: the next backward sends x no
    gradient through the VJP of ``x * y`` with respect to x.

    ``avals`` has ``(shape, dtype)`` for each array input (at ``operands``), else the value.
    """

    def inputs(arrays) -> list:
        full = list(avals)
        for i, a in zip(operands, arrays):
            full[i] = a
        return full

    rule = _pullback(op, static, diff)
    specs = [jax.ShapeDtypeStruct(*avals[i]) for i in operands]
    out = jax.eval_shape(lambda *a: op.fn(*inputs(a), **dict(static)), *specs)
    read = reads(lambda *a: rule(*inputs(a[:-1]), a[-1]), (*specs, out), k)
    return frozenset(operands[j] for j in read if j < len(operands))


@_tiers.memo("rule_cache_size")
def _backward_op(op: Op, name: str, static: tuple, diff: tuple, scalars: tuple, k: int) -> Op:
    """The k-th input's VJP of ``op`` as an op of its own, so create_graph can record it."""
    rule = _vjp_rule(op, static, diff, scalars)
    return Op(f"{op.name}_vjp{k}", lambda *args: rule(*args)[k], f"{name}Backward",
              compiled=op.compiled, numbers=op.numbers)


# ----- the engine ------------------------------------------------------------------------------
def _reachable(roots: Sequence[_GraphNode]) -> dict[int, _GraphNode]:
    """Every node reachable from roots, by id (iterative: any depth)."""
    nodes: dict[int, _GraphNode] = {}
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node is not None and id(node) not in nodes:
            nodes[id(node)] = node
            stack.extend(node.edges)
    return nodes


def _topological(nodes: dict[int, _GraphNode], roots: Sequence[_GraphNode]) -> list[_GraphNode]:
    """The ``_reachable`` nodes in the order torch's engine runs them: each after every node
    that feeds it, and of the nodes ready at once the one of highest priority: leaves'
    accumulators first, then the newest node. Accumulators tie, and torch's ready queue, a
    ``std::priority_queue``, breaks their ties by where its heap happens to hold them, so the
    queue is replayed here push by push (``_push``, ``_pop``): hooks on separate branches and
    on the leaves then run in torch's very order. ``roots`` are made ready in their order, as
    torch's graph root does."""
    waiting: dict[int, int] = {}  # per node, the edges into it still to run
    for edges in (*(n.edges for n in nodes.values()), roots):
        for e in edges:
            if e is not None:
                waiting[id(e)] = waiting.get(id(e), 0) + 1
    ready: list[tuple[float, _GraphNode]] = []
    order = []
    edges = roots
    while True:
        for e in edges:
            if e is not None:
                left = waiting[id(e)] = waiting[id(e)] - 1
                if not left:  # its priority: an accumulator's is the highest (2**64 - 1)
                    _push(ready, (math.inf if type(e) is AccumulateGrad else e._sequence, e))
        if not ready:
            return order
        node = _pop(ready)
        order.append(node)
        edges = node.edges


def _push(heap: list, entry: tuple) -> None:
    """``std::priority_queue::push`` of a ``(priority, node)`` entry, as libstdc++ does it."""
    heap.append(entry)
    _sift_up(heap, len(heap) - 1, entry)


def _sift_up(heap: list, hole: int, entry: tuple) -> None:
    """libstdc++'s ``__push_heap``: ``entry`` moves up past every parent of lower priority."""
    priority = entry[0]
    parent = (hole - 1) // 2
    while hole > 0 and heap[parent][0] < priority:
        heap[hole] = heap[parent]
        hole, parent = parent, (parent - 1) // 2
    heap[hole] = entry


def _pop(heap: list) -> _GraphNode:
    """The node ``std::priority_queue`` gives by ``top`` and then ``pop``, as libstdc++ does it
    (``__pop_heap``, ``__adjust_heap``): the hole the top leaves goes down the path of the
    higher children (the right one on a tie), and the last entry fills it, moving up."""
    top, last = heap[0], heap.pop()
    length = len(heap)
    if length:
        hole = child = 0
        while child < (length - 1) // 2:
            child = 2 * (child + 1)
            if heap[child][0] < heap[child - 1][0]:
                child -= 1
            heap[hole] = heap[child]
            hole = child
        if length % 2 == 0 and child == (length - 2) // 2:
            child = 2 * (child + 1)
            heap[hole] = heap[child - 1]
            hole = child - 1
        _sift_up(heap, hole, last)
    return top[1]


def _newest_first(nodes: dict[int, _GraphNode]) -> list[_GraphNode]:
    """The ``_reachable`` Nodes newest first, then the leaves' accumulators newest first: a
    topological order too, since a node is made after the nodes it reads and an accumulator
    reads none; among the Nodes, torch's very order; and the same order for every graph of one
    structure, although an accumulator, made when its leaf is first used, is older than the
    graph from the second step on. One sort, where ``_topological`` pushes and pops a heap per
    node."""
    return sorted(nodes.values(), key=_rank, reverse=True)


_rank = operator.attrgetter("_rank")
_ACCUMULATORS_LAST = 1 << 62  # below any Node's rank, its sequence number


class GradientEdge(NamedTuple):
    """Where a tensor's gradient is computed in the graph: its ``grad_fn`` (a leaf's gradient
    accumulator) and which output of that node the tensor is (always 0: a funcgrad node has one
    output). ``autograd.grad`` and ``autograd.backward`` take one where they take a tensor, as
    an input or an output; it stays that place in the graph when the tensor itself is changed
    in place afterwards."""

    node: _GraphNode
    output_nr: int
    ownership_token: Any = None


def edge_of(item: Tensor | GradientEdge) -> _GraphNode | None:
    """Where the gradient of ``item`` (a tensor, or the node of a GradientEdge) arrives."""
    return item.node if isinstance(item, GradientEdge) else item._edge()


def as_tensors(items) -> tuple:
    """``items`` (a Tensor or GradientEdge, or a sequence of them) as a tuple."""
    return (items,) if isinstance(items, (Tensor, GradientEdge)) else tuple(items)


def _edge_output(edge: GradientEdge) -> Tensor:
    """A tensor standing for the output of ``edge``'s node, given as a root of a backward: the
    leaf itself for an accumulator, else a tensor of the output's shape and dtype whose grad_fn
    is the node, which is all a backward reads of a root."""
    node = edge.node
    if isinstance(node, AccumulateGrad):
        return node.variable
    if isinstance(node, _Output):
        shape, dtype = node.group._avals[node.index]
    elif node._sig is not None:
        shape, dtype = node._sig.aval.shape, node._sig.aval.dtype
    else:
        node._check_saved()
        aval = jax.eval_shape(functools.partial(node.op.fn, **dict(node.static)),
                              *node._arrays)
        shape, dtype = aval.shape, aval.dtype
    return Tensor._wrap(jnp.zeros(shape, dtype), grad_fn=node)


def _root_grads(tensors: Sequence[Tensor], grads: Sequence | None) -> list[tuple]:
    roots = []
    for i, t in enumerate(tensors):
        if isinstance(t, GradientEdge):
            t = _edge_output(t)
        if not isinstance(t, Tensor):
            raise TypeError(f"backward expects Tensors, but element {i} is {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        g = None if grads is None else grads[i]
        if g is None:
            if t.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if _dtypes.is_complex(t.dtype):
                raise RuntimeError("grad can be implicitly created only for real scalar outputs "
                                   f"but got {_dtypes.name(t.dtype)}")
            # Under funcgrad.compile, a constant made in the trace, as any op's; else a cached one.
            g = Tensor._wrap(filled(1, tuple(t.shape), t.dtype) if _lazy_on()
                             else jnp.ones(t.shape, t.dtype))
        else:
            g = g if isinstance(g, Tensor) else Tensor._wrap(jnp.asarray(g, t.dtype))
            if g.shape != t.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape!r} and "
                    f"output[{i}] has a shape of {t.shape!r}."
                )
            if g.dtype != t.dtype:
                g = g.to(t.dtype)
            g = torch_convention(g)
        roots.append((t._edge(), g))
    return roots


def run(roots: list[tuple[_GraphNode, Tensor]], retain_graph: bool, create_graph: bool,
        capture: set[int] | None, nodes: dict[int, _GraphNode] | None = None
        ) -> tuple[dict[int, tuple[_GraphNode, Tensor]], list]:
    """Runs backward from ``roots``. Returns, per node that gradients stop at, the gradient that
    reached it (the leaves' AccumulateGrad nodes when ``capture`` is None, else the nodes whose
    ids are in ``capture``), and the ``(tensor, grad)`` pairs of tensors that retain grads.
    ``nodes``: the roots' ``_reachable`` nodes, when the caller has them already.

    Nothing outside the graph changes here, so an error leaves every ``.grad`` as it was.
    """
    root_nodes = [node for node, _ in roots]
    if nodes is None:
        nodes = _reachable(root_nodes)
    if ended_mutation:
        _check_mutation_blocks(nodes)
    newest_first = _newest_first(nodes)
    for node in newest_first:
        if node._versions or node._freed:
            node._check_saved()
    if not is_anomaly_enabled():
        targets = [n for n in newest_first
                   if (isinstance(n, AccumulateGrad) if capture is None else id(n) in capture)]
        # What reaches the leaves is accumulated in this order, hooks after accumulation
        # included: torch's, where a leaf has such hooks.
        if capture is None and any(n._post_accumulate for n in targets):
            targets = [n for n in _topological(nodes, root_nodes)
                       if isinstance(n, AccumulateGrad)]
        compiled = _tiers.compiled(newest_first, roots, targets)
        if compiled is not None and not create_graph:
            grads = _call(*compiled, ints=True)  # its every operand is traced
            _free_unless(retain_graph, _ran(newest_first, capture, targets))
            return {id(t): (t, Tensor._wrap(g)) for t, g in zip(targets, grads)
                    if g is not None}, []
        reached = compiled and _recorded(newest_first, roots, targets, compiled[0])
        if reached:
            _free_unless(retain_graph, _ran(newest_first, capture, targets))
            return reached, []
    order = _topological(nodes, root_nodes)
    stops: set[int] = set()
    if capture is not None:
        order, stops = _needed(order, capture)
        for node in order:  # (a reentrant checkpoint's node runs a backward of its own)
            if node.refuses_capture:
                raise RuntimeError(node.refuses_capture)
    cts: dict[int, Tensor] = {}
    for node, g in roots:
        cts[id(node)] = g if id(node) not in cts else cts[id(node)] + g
    reached: dict[int, tuple[_GraphNode, Tensor]] = {}
    retained: list[tuple[Tensor, Tensor]] = []
    check_nan = is_anomaly_enabled() and is_anomaly_check_nan_enabled()
    with set_grad_enabled(create_graph), _task(order):
        for node in order:
            ct = cts.pop(id(node), None)
            if ct is None:
                continue
            ct, retaining = node._before(ct)
            retained.extend((t, ct) for t in retaining)
            if isinstance(node, AccumulateGrad) if capture is None else id(node) in capture:
                reached[id(node)] = (node, ct)
            if isinstance(node, AccumulateGrad) or id(node) in stops:
                continue
            if type(node) is _Output:
                cts.setdefault(id(node.group), [None] * node.group.n_outputs)[node.index] = ct
                continue
            grads = node._after(node.input_grads(ct, create_graph), ct)
            if check_nan:
                _check_nan(node, grads)
            for edge, g in zip(node.edges, grads):
                if g is not None and edge is not None:
                    key = id(edge)
                    if key not in cts:
                        cts[key] = g
                    else:  # a sum of gradients is recorded only when the backward is
                        cts[key] = cts[key] + g if create_graph else Tensor._wrap(_add(cts[key], g))
    _free_unless(retain_graph, [n for n in order if id(n) not in stops])
    return reached, retained


def _ran(order: list[_GraphNode], capture: set[int] | None, targets: list) -> list:
    """The nodes of ``order`` (topological) that a backward to ``capture`` runs, which are
    those it frees: not the nodes beyond the captured ones, nor a captured node that only takes
    its gradient (see ``_needed``). Every node, without ``capture`` or when only leaves' are
    captured."""
    if capture is None or all(type(t) is AccumulateGrad for t in targets):
        return order
    needed, stops = _needed(order, capture)
    return [n for n in needed if id(n) not in stops]


_tasks: list[tuple[int, set[int]]] = []  # the interpreted backwards running, innermost last
_task_ids = itertools.count()


@contextlib.contextmanager
def _task(order: Sequence[_GraphNode]):
    """The interpreted engine running ``order``: torch's graph task, which hooks may ask
    about (``current_graph_task_id``, ``will_execute``)."""
    _tasks.append((next(_task_ids), {id(n) for n in order}))
    try:
        yield
    finally:
        _tasks.pop()


def current_graph_task_id() -> int:
    """The id of the backward whose hooks are running now, or -1 outside one."""
    return _tasks[-1][0] if _tasks else -1


def will_execute(node: _GraphNode) -> bool:
    """Whether the backward running now runs ``node`` (reaches it and needs it)."""
    return bool(_tasks) and id(node) in _tasks[-1][1]


def _needed(order: list[_GraphNode], capture: set[int]) -> tuple[list[_GraphNode], set[int]]:
    """The nodes of ``order`` (topological) that torch's engine runs for a backward to the
    nodes of ``capture``: those a path leads from to a captured node, and the captured nodes
    themselves, of which the ids of those that only take their gradient (no captured node
    lies beyond them) come second."""
    leads: set[int] = set()  # nodes with a captured node beyond them
    for node in reversed(order):
        for e in node.edges:
            if e is not None and (id(e) in leads or id(e) in capture):
                leads.add(id(node))
                break
    return ([n for n in order if id(n) in leads or id(n) in capture],
            {i for i in capture if i not in leads})


def _recorded(order: Sequence[_GraphNode], roots: Sequence[tuple], targets: Sequence,
              program) -> dict[int, tuple[_GraphNode, Tensor]] | None:
    """create_graph's backward of a recurring structure (``order``, topological): the compiled
    tier's ``program``, recorded as one op per target on the replay's operands as tensors of
    the graph, so that its VJP, through the program, gives the next derivative. Each result is
    named as the interpreted engine names it (the VJP node that gave it, or the sum of several),
    so a name does not change once the structure compiles. None, to stay interpreted, when a
    target is a root (its gradient is given, not computed)."""
    sources: dict[int, list[str]] = {}  # per node, the names of the nodes giving it gradients
    for node in order:
        if node.op is not None:
            for edge in node.edges:
                if edge is not None:
                    sources.setdefault(id(edge), []).append(node._name)
    if any(id(t) not in sources for t in targets) or any(node in targets for node, _ in roots):
        return None
    inputs = []
    for node in order:
        if node.op is not None:
            saved = node._connected_inputs()
            inputs.extend([saved[i] for i in _tiers.operand_positions(node)])
    inputs.extend(g for _, g in roots)
    avals = tuple(_operand_aval(a) for a in inputs)
    recorded = {}
    with set_grad_enabled(True):
        for k, t in enumerate(targets):
            read = _replay_reads(program, k, avals)  # connected to what it reads, as a node
            recorded[id(t)] = (t, apply(_replay_op(program, k, (
                f"{sources[id(t)][0]}Backward" if len(sources[id(t)]) == 1
                else "AddBackward0")), *(a if j in read or not isinstance(a, Tensor)
                                         else a._peek() for j, a in enumerate(inputs))))
    return recorded


def _operand_aval(a) -> tuple | type:
    """What ``_replay_reads`` needs of an operand: ``(shape, dtype, weak_type)``, or the type
    of a Python number."""
    if isinstance(a, Tensor):
        a = a._peek()
    return type(a) if isinstance(a, (int, float)) else (
        tuple(a.shape), a.dtype, getattr(a, "weak_type", False))


@_tiers.memo("rule_cache_size")
def _replay_reads(program, k: int, avals: tuple) -> frozenset:
    """The operands that output ``k`` of a whole-graph backward ``program`` reads."""
    specs = [_lazy._spec(a) if a in (int, float) else
             jax.ShapeDtypeStruct(a[0], a[1], weak_type=a[2]) for a in avals]
    return reads(program, specs, k)


@_tiers.memo("rule_cache_size")
def _replay_op(program, k: int, grad_fn: str) -> Op:
    """Output ``k`` of a whole-graph backward ``program`` as an op (see ``_recorded``)."""
    return Op(f"backward{k}", lambda *operands: program(*operands)[k], grad_fn, numbers=True)


def _free_unless(retain_graph: bool, order: Sequence[_GraphNode]) -> None:
    if not retain_graph:
        for node in order:
            if isinstance(node, Node):
                node._free()


def _check_nan(node: _GraphNode, grads: list) -> None:
    for i, g in enumerate(grads):
        array = None if g is None else g._read()
        if array is None or isinstance(array, jax.core.Tracer) or not jnp.isnan(array).any():
            continue
        stack = "".join(node.metadata.get("traceback_", ["  (not recorded)\n"]))
        raise RuntimeError(
            f"Function '{node.name()}' returned nan values in its {i}th output. The forward "
            f"call that created it:\n{stack}Look there for an input outside the op's domain "
            "(e.g. sqrt or log at 0), or guard it with funcgrad.where."
        )


def accumulate(tensor: Tensor, g: Tensor, create_graph: bool) -> None:
    """Adds ``g`` into ``tensor.grad``: in place into a leaf's existing box, as torch does; a
    retained grad of a non-leaf gets a new box (torch's retain_grad adds out of place), and so
    does a gradient that is itself recorded (create_graph)."""
    if tensor._grad is None:
        grad = g if create_graph else Tensor._wrap(g._peek())
    elif create_graph:
        grad = tensor._grad + g
    elif tensor.grad_fn is not None:
        grad = Tensor._wrap(_add(tensor._grad, g))
    else:
        tensor._grad._write(_add(tensor._grad, g))
        return
    tensor._grad = grad
    tensor._rebound()


def _add(a: Tensor, b: Tensor):
    """The sum of two gradients' arrays."""
    return _call(jnp.add, (a._peek(), b._peek()))


def _call(fn, arrays: Sequence, ints: bool = False):
    """``fn(*arrays)`` for the engine's own work outside the graph: pending (a tuple of pending
    values for a tuple result) when the lazy tier is on; ``ints`` as ``_lazy.defer``'s."""
    arrays = tuple(arrays)
    out = _lazy.defer(fn, arrays, (), ints) if _lazy_on() else None
    if out is None:
        return fn(*_lazy.concrete(arrays))
    return _lazy.parts(out) if isinstance(out.aval, tuple) else out


@functools.lru_cache(maxsize=256)
def filled(value, shape: tuple, dtype):
    """An array of ``value`` (the implicit gradient of a one-element output, the zeros
    ``zero_`` writes), made once per value, shape and dtype (arrays are immutable, and making
    one costs more than a whole lazy step), concrete even when first asked for inside a JAX
    trace. (A pending constant instead, folded by the program rather than passed in, costs more
    to record than the input it saves.)"""
    with jax.ensure_compile_time_eval():
        return jnp.full(shape, value, dtype)


# How many times backward() has been called: funcgrad.compile tells a step that runs one (a
# training step) from a forward, whose outputs carry a graph out of the call.
backwards = 0


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs=None) -> None:
    """Accumulates gradients of ``tensors`` into the ``.grad`` of the leaves (or of ``inputs``).

    Args:
        tensors: a Tensor or a sequence of them.
        grad_tensors: gradients with respect to ``tensors`` (None for one-element tensors).
        retain_graph: keep saved values for another backward (defaults to ``create_graph``).
        create_graph: record the backward, for higher-order derivatives.
        inputs: tensors whose ``.grad`` receives the result; by default every leaf.

    >>> import funcgrad
    >>> x = funcgrad.tensor(3.0, requires_grad=True)
    >>> funcgrad.autograd.backward(x * x); x.grad
    tensor(6.)
    """
    global backwards
    backwards += 1
    tensors = as_tensors(tensors)
    if isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    retain_graph = create_graph if retain_graph is None else retain_graph
    roots = _root_grads(tensors, grad_tensors)
    targets = None
    if inputs is not None:
        inputs = as_tensors(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        if not all(isinstance(t, GradientEdge) or t.requires_grad for t in inputs):
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        edges = [edge_of(t) for t in inputs]  # alive until the end: their ids are keys
        # (A GradientEdge's gradient goes to its tensor's .grad only when that is a leaf.)
        targets = {id(e): e.variable if isinstance(t, GradientEdge) else t
                   for e, t in zip(edges, inputs)
                   if not isinstance(t, GradientEdge) or isinstance(e, AccumulateGrad)}
    _accumulate_all(*run(roots, retain_graph, create_graph,
                         None if targets is None else set(targets)), targets, create_graph)
    # What is pending (the previous step's updates, this forward, this backward) runs with the
    # updates that follow, at the next forward or read (see _lazy.step_ended).
    _STEP_ENDED[0] = True


def _accumulate_all(reached: dict, retained: list, targets: dict | None,
                    create_graph: bool) -> None:
    """Accumulates what a backward's ``run`` gave into ``.grad``, running the leaves' hooks."""
    for key, (node, g) in reached.items():
        tensor = node.variable if targets is None else targets[key]
        accumulate(tensor, torch_convention(g) if targets is not None or node.complex else g,
                   create_graph)
        if tensor.grad_fn is None:  # a leaf: node is its accumulator
            for hook in list(node._post_accumulate.values()):
                hook(tensor)
    for tensor, g in retained:
        if targets is None or targets.get(id(tensor.grad_fn)) is not tensor:
            accumulate(tensor, torch_convention(g), create_graph)
    for tensor in () if targets is None else targets.values():
        if tensor.grad_fn is not None:
            tensor.retain_grad()  # torch: a non-leaf input keeps its .grad from now on

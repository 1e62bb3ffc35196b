"""The lazy tier: forward work, backward work and in-place updates recorded as pending values
and run together, as one cached ``jax.jit`` program, when something needs a value.

A ``Pending`` is what a ``_Storage`` holds while its array is not computed yet: the function
that makes it, the operands (concrete arrays, Python scalars, other pending values) and its
abstract value, known at once from a cached ``jax.eval_shape``, so shapes, dtypes and shape
errors never wait. Pending values join the *trace* of work recorded since the last flush, which
builds, as it grows, the program's inputs and its *structure* (functions, static arguments,
abstract values, wiring). Reading a value (``Tensor._read``), the first op recording a
gradient after a backward (``step_ended``) or a full trace (``config.max_pending``, which keeps
memory flat) flushes the trace: the structure, and which values are still referenced, key a
cache of programs, so a training loop, whose every step has the same structure, compiles once
and then runs each step as one dispatch. A structure seen fewer than ``compile_after`` times is
run op by op instead, as the eager engine would, since compiling a one-off graph costs more
than it saves. Python floats stay operands (never baked constants), so a changing learning
rate does not compile again, and so do the ints of arithmetic (``x * i``: ops with
``Op.numbers``); other ints (dims, sizes), bools and None are static, as in the per-op VJP
rules. The backward of a recurring graph joins the trace as one node: the compiled tier's
whole-graph program (``_tiers``).
"""

from __future__ import annotations

import collections
import contextlib
import math
import operator
import sys
import warnings
import weakref

import jax
import jax.numpy as jnp

from . import _config, _dtypes, _recompiles
from ._tiers import _LRU, seen_again

_sigs = _LRU()  # (id(fn), static, operand avals) -> Sig, or None: run that op eagerly
_seen = _LRU()  # hash of a structure -> times seen, before it is worth compiling
_programs = _LRU()  # structure -> jitted program
stats = collections.Counter()


class Sig:
    """What a pending node computes: ``fn`` with ``static`` keyword arguments, on operands of
    abstract values ``avals`` (an aval; ``float`` or ``int`` for a Python number operand;
    ``(type, value)`` for a static int, bool or None), giving ``aval``. One object per
    distinct signature (cached), so structure keys hash and compare it by identity.
    ``operands`` has the positions of the operands that are not static; ``inexact``, whether
    the value is floating or complex (a gradient can flow from it), for a single-output one."""

    __slots__ = ("fn", "static", "avals", "aval", "operands", "inexact")

    def __init__(self, fn, static: tuple, avals: tuple, aval) -> None:
        self.fn, self.static, self.avals, self.aval = fn, static, avals, aval
        self.operands = tuple(i for i, a in enumerate(avals) if not _static(a))
        self.inexact = isinstance(aval, jax.core.ShapedArray) and _dtypes.is_inexact(aval.dtype)

    def values(self) -> tuple:
        """``avals`` with each static operand's value in place of its ``(type, value)``."""
        return tuple(a[1] if _static(a) else a for a in self.avals)


class Pending:
    """A value not computed yet: ``sig.fn(*args, **dict(sig.static))``, node ``pos`` of
    ``trace``. Once computed, ``value`` holds the array and ``args`` is dropped, so the graph
    behind it can go."""

    __slots__ = ("sig", "args", "aval", "sharding", "trace", "pos", "value")
    # (Made by _append alone, which sets the fields itself: an __init__ call would cost about
    # 1% of a small training step.)

    # What metadata reads of an array, answered without computing it.
    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: self.aval.ndim)
    weak_type = property(lambda self: self.aval.weak_type)

    def devices(self) -> set:
        return self.sharding.device_set if self.sharding is not None else {_one_device()}

    def __repr__(self) -> str:
        return f"<pending {self.aval} from {getattr(self.sig.fn, '__name__', self.sig.fn)}>"


class _Trace:
    """The pending values recorded since the last flush, and what the program computing them
    needs: per node ``(sig, wiring)``, where wiring has per operand the position of the node it
    reads (>= 0), of a program input (< 0), or None for a static one; the inputs (each array or
    float once, by identity); and per node its references from inside (see ``flush``).
    ``keys`` has each node's signature key; ``expected``, the keys and nodes of the trace
    before, since a loop records the same ops in the same order again: a node whose key equals
    the one at its position then takes that signature without a cache lookup."""

    __slots__ = ("pendings", "nodes", "inputs", "positions", "uses", "context", "keys",
                 "expected")

    def __init__(self, expected: tuple = ((), ())) -> None:
        self.pendings, self.nodes, self.inputs, self.uses, self.keys = [], [], [], [], []
        self.positions: dict[int, int] = {}
        self.context = None  # _context() of its work, set by its first node
        self.expected = expected


_X64, _PRECISION = jax.enable_x64, jax.default_matmul_precision


def _context() -> tuple:
    """The JAX settings an op's result depends on. A trace holds work of one context and runs
    it under that context whenever it runs: work recorded inside ``jax.enable_x64(True)`` or
    ``jax.default_matmul_precision`` may well be computed after the ``with`` block ends.
    ``defer`` reads the same two settings inline (once per op): change both together."""
    return _X64.value, _PRECISION.value


def _under(context: tuple):
    """A context manager restoring ``context`` (a no-op when it is the current one)."""
    if context == _context():
        return _NO_CHANGE
    stack = contextlib.ExitStack()
    x64, precision = context
    stack.enter_context(jax.enable_x64(x64))
    stack.enter_context(jax.default_matmul_precision(precision))
    return stack


_NO_CHANGE = contextlib.nullcontext()


_trace = _Trace()
# Set at the end of a backward, cleared by every flush: the next op recording a gradient (grad
# mode on, an input that requires grad: the next step's forward) first flushes, so that one
# program holds a training step's forward, backward and the updates after it, and the
# gradients, zeroed or dropped by then, are none of its outputs, as in a hand-written jax.jit
# step (flushing at the end of the backward, the program wrote every gradient out, for the
# next one to read back).
step_ended = [False]
_new = object.__new__
# The last flush's program, by a weak reference to one of its outputs: all of them are ready
# once it has run.
_dispatched: list = [None]
_SCALAR, _FLOAT, _ARRAY = 0, 1, 2
_kinds: dict[type, int | None] = {int: _SCALAR, bool: _SCALAR, type(None): _SCALAR,
                                  float: _FLOAT, Pending: _ARRAY}
_devices: list = []


def _kind(a) -> int | None:
    """What an operand is to a program; None (a tracer, a NumPy array…) means: run eagerly."""
    kind = _kinds.get(type(a), -1)
    if kind == -1:
        concrete = isinstance(a, jax.Array) and not isinstance(a, jax.core.Tracer)
        kind = _kinds[type(a)] = _ARRAY if concrete else None
    return kind


def _one_device():
    """The only device attached, or None when there are several (then values carry theirs)."""
    if _devices:
        return _devices[0]
    attached = set(jax.devices())
    try:
        attached |= set(jax.devices("cpu"))
    except RuntimeError:  # JAX_PLATFORMS leaves the CPU backend out
        pass
    _devices.append(next(iter(attached)) if len(attached) == 1 else None)
    return _devices[0]


_INT32 = range(-2**31, 2**31)


def int_operand(a, ints: bool) -> bool:
    """Whether ``a`` is a Python int that an op taking ints as data (``ints``: the numbers of
    ``x * i``, never the dims or sizes that shape a result) gets as an operand, as it gets a
    Python float, so a changing value compiles nothing again. One beyond int32 stays static."""
    return ints and type(a) is int and a in _INT32


def defer(fn, args: tuple, static: tuple = (), ints: bool = False) -> Pending | None:
    """Records ``fn(*args, **dict(static))`` as a pending value, or returns None when it must
    run now: an operand that is a tracer or not an array or number, operands on different
    devices, or an op whose abstract evaluation fails or warns (running it eagerly raises the
    error, or gives the warning, at this very op, as the eager engine would). ``ints``: Python
    ints are operands (``int_operand``), not static arguments."""
    # (_one_device and _context inlined: this runs once per op.)
    trace, context = _trace, (_X64.value, _PRECISION.value)
    single = (_devices[0] if _devices else _one_device()) is not None
    if context != trace.context:
        if trace.pendings:
            flush()
            trace = _trace
        trace.context = context
    inputs, positions, known = trace.inputs, trace.positions, len(trace.inputs)
    avals, wiring, sharding = [], [], None
    for a in args:  # one pass: the node's avals, and its wiring into the trace
        t = type(a)
        kind = _kinds.get(t, -1)
        if kind == -1:
            kind = _kind(a)
        if kind == _SCALAR:
            if not int_operand(a, ints):
                avals.append((t, a))
                wiring.append(None)
                continue
            kind = _FLOAT  # an operand, as a Python float is
        if kind is None:
            return _undo(trace, known)
        if kind == _ARRAY:
            if not single:
                s = a.sharding
                if sharding is None:
                    sharding = s
                elif s is not sharding and s != sharding:
                    return _undo(trace, known)
            avals.append(a.aval)
            if t is Pending:
                if a.value is None and a.trace is trace:
                    wiring.append(a.pos)
                    continue
                a = value(a)
        else:
            avals.append(t)  # float or int
            if single:
                a = _weak(a, context[0])
        k = positions.get(id(a))
        if k is None:
            k = positions[id(a)] = len(inputs)
            inputs.append(a)
        wiring.append(-1 - k)
    if sharding is None and not single:
        return _undo(trace, known)
    p = _append(trace, fn, args, (id(fn), static, tuple(avals), context), tuple(wiring),
                sharding)
    if p is None:
        _undo(trace, known)
    return p


def _append(trace: _Trace, fn, args: tuple, key: tuple, wiring: tuple, sharding
            ) -> Pending | None:
    """Appends to ``trace`` the node of ``key`` (see ``defer``) reading ``wiring``, or returns
    None when its abstract evaluation fails or warns."""
    pos = len(trace.pendings)
    keys, nodes = trace.expected
    try:  # (_same inlined) mostly identity checks: no hashing
        recurs = pos < len(keys) and keys[pos] == key
    except (TypeError, ValueError):
        recurs = False
    if recurs:
        # The trace keeps the objects of the trace before, not new equal ones: in a loop that
        # reads nothing, what a trace holds grows with every op, and objects it keeps alive
        # are ones the garbage collector walks again and again (each full pass over JAX's
        # objects costs about 100 ms here). Equal nodes also make equal structures compare by
        # identity.
        key, node = keys[pos], nodes[pos]
        sig = node[0]
        if node[1] != wiring:
            node = (sig, wiring)
    else:
        try:
            sig = _sigs.get_or_none(key)
        except TypeError:  # an unhashable static argument
            return None
        if sig is None:
            sig = _abstract(key, fn)
            if sig is None:
                return None
        node = (sig, wiring)
    uses = trace.uses
    for w in wiring:
        if w is not None and w >= 0:
            uses[w] += 1
    p = _new(Pending)
    p.sig, p.args, p.aval, p.sharding, p.trace, p.pos, p.value = (
        sig, args, sig.aval, sharding, trace, pos, None)
    trace.pendings.append(p)
    trace.nodes.append(node)
    trace.keys.append(key)
    uses.append(2)  # the trace's own reference and getrefcount's argument
    if len(trace.pendings) >= _config.config.max_pending:
        flush()
    return p


_floats: dict = {}  # (value, x64, type) -> the weak-typed array of a Python float or int
_FLOATS = 1024  # at most this many: a learning-rate schedule makes a new float every step


def _weak(x: float | int, x64: bool):
    """The weak-typed array JAX makes of the Python float or int ``x``, made once per value:
    called with a number, a program converts it at every call (about 4 µs), with an array it
    does not. Concrete even when first asked for inside a JAX trace."""
    # 1 == 1.0 and 0.0 == -0.0 as keys: the type and the sign of a zero tell them apart.
    key = (x, x64, type(x)) if x else (x, x64, type(x), math.copysign(1.0, x))
    array = _floats.get(key)
    if array is None:
        with jax.ensure_compile_time_eval():
            array = jnp.asarray(x)
        if x == x:  # NaN never finds its key again
            if len(_floats) >= _FLOATS:
                _floats.clear()
            _floats[key] = array
    return array


def _undo(trace: _Trace, known: int) -> None:
    """Forgets the inputs a node that will not be recorded added to the trace."""
    for a in trace.inputs[known:]:
        del trace.positions[id(a)]
    del trace.inputs[known:]


def _static(a) -> bool:
    return type(a) is tuple and type(a[0]) is type


def _abstract(key: tuple, fn) -> Sig | None:
    """The signature of a node key, its output aval from ``jax.eval_shape`` (cached), or None
    when that fails or warns; a failure is cached too, so that op keeps running eagerly."""
    if key in _sigs:
        return None
    _, static, avals, _ = key

    def call(*operands):
        it = iter(operands)
        return fn(*(a[1] if _static(a) else next(it) for a in avals), **dict(static))

    specs = [_spec(a) for a in avals if not _static(a)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = jax.eval_shape(call, *specs)
        except Exception:
            out = None
    sig = None if out is None or caught else Sig(fn, static, avals, jax.tree.map(
        lambda s: jax.core.ShapedArray(s.shape, s.dtype, weak_type=s.weak_type), out))
    _sigs.put(key, sig, _config.config.shape_cache_size)
    return sig


def _spec(a):
    """The abstract operand for an aval, a Python float or int (weak, as JAX types it) or a
    tuple of avals (a multi-output value)."""
    if a is float or a is int:
        return jax.ShapeDtypeStruct((), jnp.result_type(a), weak_type=True)
    if isinstance(a, tuple):
        return tuple(map(_spec, a))
    return jax.ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type)


def parts(p: Pending) -> tuple:
    """The outputs of a multi-output pending value, each a pending value of its own (None for
    an output that is None). While ``p`` is pending in the current trace (it was recorded just
    now), they are appended to it directly: their operands need no inspection."""
    out = []
    for i, aval in enumerate(p.aval):
        if aval is None:
            out.append(None)
        elif p.trace is _trace and p.value is None:
            key = (id(operator.getitem), (), (p.aval, (int, i)), _trace.context)
            out.append(_append(_trace, operator.getitem, (p, i), key, (p.pos, None),
                               p.sharding))
        else:
            out.append(defer(operator.getitem, (p, i)))
    return tuple(out)


def concrete(arrays: tuple) -> tuple:
    """``arrays`` with each pending value computed."""
    if not any(type(a) is Pending for a in arrays):
        return arrays
    return tuple(value(a) if type(a) is Pending else a for a in arrays)


def value(p: Pending):
    """The array of a pending value, computing it (and the rest of its trace) first."""
    if p.value is None and p.trace is _trace:
        flush()
    if p.value is None:
        _recompute(p)
    return p.value


def flush() -> None:
    """Computes the trace as one program and stores the result in each pending value of it that
    is still referenced from outside the trace (by a tensor, a saved value, a caller). Those
    are found by reference counts: a node misjudged as unreferenced keeps its operands and is
    recomputed if it is read after all, so the counts decide speed, never results."""
    global _trace
    step_ended[0] = False
    trace = _trace
    _trace = _Trace((trace.keys, trace.nodes) if trace.keys else trace.expected)
    pendings, inputs, uses, nodes = trace.pendings, trace.inputs, trace.uses, trace.nodes
    # The values of this trace keep it for its context alone: not its inputs (arrays) or its
    # structure, which would otherwise live as long as any of its values does.
    trace.pendings = trace.inputs = trace.positions = trace.uses = None
    trace.nodes = trace.keys = trace.expected = None
    if not pendings:
        return
    outputs = tuple(i for i in range(len(pendings)) if sys.getrefcount(pendings[i]) > uses[i])
    if not outputs:  # nothing of it is wanted any more
        return
    program = _program((tuple(nodes), outputs))
    with _under(trace.context):
        results = program(*inputs)
        first = results[0]
        if type(first) is tuple:  # a multi-output op's value (with None for no output)
            first = next(iter(jax.tree.leaves(results)), None)
        if isinstance(first, jax.core.Tracer):
            # Read inside a JAX trace (a stateful value used under grad or jit): the values
            # must be computed now, not staged into that trace. (Asking first would slow every
            # flush.)
            with jax.ensure_compile_time_eval():
                results = program(*inputs)
            first = None
    for i, result in zip(outputs, results):
        p = pendings[i]
        p.value, p.args = result, None
    try:
        _dispatched[0] = None if first is None else weakref.ref(first)
    except TypeError:  # not an array (an op of the interpreted replay gave a number)
        _dispatched[0] = None


def synchronize() -> None:
    """Runs the pending work and waits for the program that ran it to finish (JAX dispatches
    asynchronously): what ``cuda.synchronize`` is called for, timing a step."""
    flush()
    last = _dispatched[0]() if _dispatched[0] is not None else None
    if last is not None:
        last.block_until_ready()
    jax.effects_barrier()


def _recompute(root: Pending) -> None:
    """Computes a pending value that a flush left uncomputed, op by op from its operands."""
    stack = [root]
    with _under(root.trace.context), jax.ensure_compile_time_eval():
        while stack:
            p = stack[-1]
            todo = [a for a in p.args or () if type(a) is Pending and a.value is None]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            if p.value is None:
                operands = (a.value if type(a) is Pending else a for a in p.args)
                p.value, p.args = p.sig.fn(*operands, **dict(p.sig.static)), None


def _program(key: tuple):
    """The function computing a structure: jitted once the structure recurs, else the plain
    replay, whose ops (and per-op VJP rules) run eagerly one by one."""
    program = _programs.get_or_none(key)
    if program is not None:
        stats["hits"] += 1
        return program
    if seen_again(_seen, key) < _config.config.compile_after:
        stats["interpreted"] += 1
        return _replay(key)
    program = jax.jit(_replay(key))
    _programs.put(key, program, _config.config.cache_size)
    stats["compiles"] += 1
    recompiles.compiled(key)
    return program


def _explain(previous: tuple, key: tuple) -> str:
    """What differs between two structures, first difference first."""
    show = _recompiles.show
    (nodes0, _), (nodes1, _) = previous, key
    if len(nodes0) != len(nodes1):
        return (f"the pending work has {len(nodes1)} ops where the last one compiled here had "
                f"{len(nodes0)}")
    for i, ((was, wiring0), (now, wiring1)) in enumerate(zip(nodes0, nodes1)):
        name = getattr(now.fn, "__name__", repr(now.fn))
        if was.fn is not now.fn:
            return f"op {i} is {name}, was {getattr(was.fn, '__name__', repr(was.fn))}"
        if was.static != now.static:
            return f"op {i} ({name}): static arguments {now.static}, was {was.static}"
        if was.avals != now.avals:
            return (f"op {i} ({name}): input shapes and dtypes {show(now.avals)}, "
                    f"was {show(was.avals)}")
        if wiring0 != wiring1:
            return f"op {i} ({name}): reads other values (wiring {wiring1}, was {wiring0})"
    return "other values are still wanted after it (read, or held by tensors)"


recompiles = _recompiles.Tracker("lazy work", _explain)


def _replay(key: tuple):
    """The function of a structure's inputs that computes its outputs, node by node."""
    nodes, outputs = key

    def run(*inputs):
        values = []
        for sig, wiring in nodes:
            args = [a[1] if w is None else values[w] if w >= 0 else inputs[-1 - w]
                    for a, w in zip(sig.avals, wiring)]
            values.append(sig.fn(*args, **dict(sig.static)))
        return tuple(values[i] for i in outputs)

    return run

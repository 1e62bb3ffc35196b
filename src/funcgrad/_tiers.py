"""The engine's compiled tier: the backward of a recurring graph *structure* as one jitted
program.

The interpreted engine (``_graph.run``) calls one compiled VJP rule per node. When the same
structure comes back — the same ops with the same static arguments, shapes, dtypes and wiring,
as in every step of a training loop — this tier replays the whole backward as one cached
``jax.jit`` program instead: one dispatch, and XLA fuses across nodes. Python floats are
operands of the replay, so changing values never compile again. With ``create_graph`` the
replay is recorded as an op of its own, whose VJP (through the program) gives the next
derivative. Graphs with hooks, retained grads, anomaly checks or moves between devices stay
interpreted.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Sequence

import jax

from . import _config, _recompiles


class _LRU(collections.OrderedDict):
    """A bounded cache that evicts the least recently used entry. It remembers the entry used
    last: a loop asks for the same structure key every step, and comparing a key (mostly
    identity checks) costs less than hashing it twice, for the lookup and the move to the end.
    (That entry is at the end already: it was the last one moved or inserted there.)"""

    _last: tuple = (None, None)

    def get_or_none(self, key):
        last_key, value = self._last
        if _same(key, last_key):
            return value
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
            self._last = key, value
        return value

    def put(self, key, value, limit: int) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > limit:
            self.popitem(last=False)
        self._last = key, value

    def clear(self) -> None:
        super().clear()
        self._last = (None, None)


class Memo:
    """``functools.lru_cache`` for the engine's compiled callables (per-op VJP rules, the ops
    create_graph records), bounded by the config setting ``setting``, read at each insert so
    that changing it takes effect; ``hits`` and ``misses`` count as lru_cache's do."""

    def __init__(self, setting: str, fn) -> None:
        self.setting, self.fn, self.__doc__ = setting, fn, fn.__doc__
        self.cache = _LRU()
        self.hits = self.misses = 0

    def __call__(self, *key):
        value = self.cache.get_or_none(key)
        if value is not None:
            self.hits += 1
            return value
        self.misses += 1
        value = self.fn(*key)
        self.cache.put(key, value, getattr(_config.config, self.setting))
        return value

    def cache_clear(self) -> None:
        self.cache.clear()
        self.hits = self.misses = 0


def memo(setting: str):
    """Decorates a function of hashable arguments as a ``Memo`` bounded by ``setting``."""
    return functools.partial(Memo, setting)


def _same(key, other) -> bool:
    """``key == other`` for cache keys, False where comparing fails (a key holding a NumPy
    array, say, which is never in a cache: it does not hash). ``_lazy._append`` writes this
    out inline (once per op)."""
    try:
        return key == other
    except (TypeError, ValueError):
        return False


_seen = _LRU()  # hash of a structure -> times seen, before it is worth compiling
_programs = _LRU()  # structure -> jitted whole-graph backward
stats = collections.Counter()


def seen_again(seen: _LRU, key: tuple) -> int:
    """How many times the structure ``key`` has come, this time included, counted in ``seen``
    by the key's hash: a one-off structure (hundreds of tuples for a new graph) then does not
    stay alive while it stays in that cache, for every full pass of the garbage collector to
    walk (about 0.7 µs an object on the project's machine). Two structures of one hash only
    compile sooner: the count decides speed, never results."""
    h = hash(key)
    count = seen.get(h, 0) + 1
    seen.put(h, count, _config.config.cache_size)
    return count


def _eligible(order: Sequence) -> bool:
    for n in order:
        if n._interpreted:
            return False
    return True


def _aval(a):
    if hasattr(a, "shape"):
        return (a.shape, a.dtype, getattr(a, "weak_type", False))
    return a if not isinstance(a, float) else float


def structure(order: Sequence, roots: Sequence, targets: Sequence) -> tuple[tuple, list]:
    """The structure key of a graph and the operands its replay takes (node inputs, then the
    root gradients). A node's part of the key is ``(op, static, diff, scalars, edges, avals)``
    (see ``_full``), or ``(op, sig, edges)`` when the lazy tier recorded its forward call:
    that signature, one object per (function, static arguments, avals), says the same and
    hashes and compares by identity, so a recurring graph's key is cheap to look up."""
    index = {id(n): i for i, n in enumerate(order)}
    key, operands = [], []
    for node in order:
        if node.op is None:  # a leaf's accumulator
            key.append(None)
            continue
        primals = node._primals()
        edges = tuple([-1 if e is None else index[id(e)] for e in node.edges])
        sig = node._sig
        if sig is not None:
            key.append((node.op, sig, edges))
            operands.extend([primals[i] for i in sig.operands])
        else:
            diff, scalars = node._layout()
            key.append((node.op, node.static, diff, scalars, edges,
                        tuple(int if type(a) is int and i not in scalars else _aval(a)
                              for i, a in enumerate(primals))))
            operands.extend([primals[i] for i in operand_positions(node)])
    root_key = tuple((index[id(n)], _aval(g._peek())) for n, g in roots)
    operands.extend(g._peek() for _, g in roots)
    target_key = tuple(index[id(t)] for t in targets)
    return (tuple(key), root_key, target_key), operands


def operand_positions(node) -> tuple[int, ...]:
    """The inputs of a node that are operands of the replay: all but its static ones."""
    sig = node._sig
    if sig is not None:
        return sig.operands
    _, scalars = node._layout()
    return tuple([i for i in range(len(node.edges)) if i not in scalars])


def _full(entry: tuple | None) -> tuple | None:
    """A node's part of a structure key in full: ``(op, static, diff, scalars, edges, avals)``,
    where ``avals`` has an aval (or ``float``, ``int``) per operand and the value of each static
    one."""
    if entry is None or len(entry) == 6:
        return entry
    op, sig, edges = entry
    scalars = tuple(i for i in range(len(sig.avals)) if i not in sig.operands)
    diff = tuple(i for i, e in enumerate(edges) if e != -1)
    return op, sig.static, diff, scalars, edges, sig.values()


_NODE_FIELDS = ("op", "static arguments", "differentiable inputs", "Python-number inputs",
                "wiring", "input shapes and dtypes")


def _explain(previous: tuple, key: tuple) -> str:
    """What differs between two structure keys, first difference first."""
    show = _recompiles.show
    (nodes0, roots0, _), (nodes1, roots1, _) = previous, key
    nodes0, nodes1 = tuple(map(_full, nodes0)), tuple(map(_full, nodes1))
    if len(nodes0) != len(nodes1):
        return (f"the graph has {len(nodes1)} nodes where the last one compiled here had "
                f"{len(nodes0)}")
    for i, (was, now) in enumerate(zip(nodes0, nodes1)):
        if was == now:
            continue
        if was is None or now is None:
            return (f"node {i} is {'a leaf' if now is None else now[0].name}, "
                    f"was {'a leaf' if was is None else was[0].name}")
        for field, a, b in zip(_NODE_FIELDS, was, now):
            if a != b:
                return f"node {i} ({now[0].name}): {field} {show(b)}, was {show(a)}"
    if roots0 != roots1:
        return f"the gradient backward starts from is {show(roots1)}, was {show(roots0)}"
    return "other tensors' gradients are wanted"


recompiles = _recompiles.Tracker("backward", _explain)


def _replay(key: tuple):
    """The jitted backward for one structure: operands in, one gradient per target out."""
    from ._graph import _vjp_rule

    nodes, root_key, target_key = key
    nodes = tuple(map(_full, nodes))

    def backward(*operands):
        it = iter(operands)
        primals_per_node = []
        for sig in nodes:
            if sig is None:
                primals_per_node.append(None)
                continue
            static_positions = sig[3]
            primals = [sig[5][j] if j in static_positions else next(it)
                       for j in range(len(sig[5]))]
            primals_per_node.append(primals)
        cts: dict[int, jax.Array] = {}
        for i, _ in root_key:
            g = next(it)
            cts[i] = g if i not in cts else cts[i] + g
        out = {}
        wanted = set(target_key)
        for i, sig in enumerate(nodes):
            ct = cts.pop(i, None)
            if ct is None:
                continue
            if i in wanted:
                out[i] = ct
            if sig is None:
                continue
            op, static, diff, scalars, edges, _ = sig
            rule = _vjp_rule(op, static, diff, scalars)
            for j, g in zip(diff, rule(*primals_per_node[i], ct)):
                e = edges[j]
                cts[e] = g if e not in cts else cts[e] + g
        return tuple(out.get(t) for t in target_key)

    return jax.jit(backward)


def compiled(order: Sequence, roots: Sequence, targets: Sequence):
    """The compiled program giving the gradients at ``targets`` and its operands (to run now, or
    to record as one pending op), or None when this graph should stay interpreted (tier off,
    hooks present, or a structure not seen often enough yet)."""
    if not _config.config.compiled_backward or not _eligible(order):
        return None
    key, operands = structure(order, roots, targets)
    program = _programs.get_or_none(key)
    if program is None:
        if seen_again(_seen, key) < _config.config.compile_after:
            stats["backward_interpreted"] += 1
            return None
        program = _replay(key)
        _programs.put(key, program, _config.config.cache_size)
        stats["backward_compiles"] += 1
        recompiles.compiled(key)
    else:
        stats["backward_hits"] += 1
    return program, operands

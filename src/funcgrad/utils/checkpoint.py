"""``funcgrad.utils.checkpoint``: activation checkpointing, as ``torch.utils.checkpoint``
has it. A checkpointed function's graph drops what its nodes saved for backward, and the first
backward through it runs the function again to get those values back: memory for compute.

``use_reentrant=False`` (what torch recommends) records the function's ops as usual, so every
tensor it reads, module parameters included, gets its gradient, and its outputs show their own
``grad_fn``; the backward's first need for a dropped value runs the function again and gives
each node what its twin in the new run saved. ``use_reentrant=True`` (torch's older default)
records the call as one ``CheckpointFunctionBackward`` node over the tensor arguments, whose
backward runs the function again on detached copies of them and a backward through that.

>>> import funcgrad
>>> from funcgrad.utils.checkpoint import checkpoint
>>> x = funcgrad.tensor([0.5, 1.0], requires_grad=True)
>>> y = checkpoint(lambda t: t.sin() * t, x, use_reentrant=False)
>>> y.sum().backward(); x.grad
tensor([0.9182, 1.3818])
"""

from __future__ import annotations

import contextlib
import warnings
import weakref
from collections.abc import Callable

import jax

from .. import _dtypes, _factories, _graph
from .._grad_mode import enable_grad, is_grad_enabled, no_grad
from .._tensor import Tensor

__all__ = ["CheckpointError", "checkpoint", "checkpoint_sequential", "noop_context_fn"]


class CheckpointError(RuntimeError):
    """A recomputation that does not do what the original forward did."""


def noop_context_fn() -> tuple:
    """The default ``context_fn``: no context around the forward or the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


_REENTRANT_WARNING = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting "
    "in PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
    "use_reentrant=False is recommended, but if you need to preserve the current default "
    "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
    "differences between the two variants.")


def checkpoint(function: Callable, *args, use_reentrant: bool | None = None,
               context_fn: Callable[[], tuple] = noop_context_fn,
               determinism_check: str = "default", debug: bool = False,
               preserve_rng_state: bool = True, **kwargs):
    """``function(*args, **kwargs)``, keeping for backward only what running it again needs:
    its arguments (and the random state, with ``preserve_rng_state``, so dropout draws the
    same mask again). ``context_fn`` gives two context managers, entered around the forward
    and around the recomputation. ``determinism_check="default"`` checks that the
    recomputation records the same ops on the same shapes and dtypes; ``"none"`` checks only
    that it records as many."""
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING, UserWarning, stacklevel=2)
        use_reentrant = True
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    if use_reentrant:
        if context_fn is not noop_context_fn or debug:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        return _reentrant(function, args, preserve_rng_state)
    if debug:
        raise NotImplementedError("checkpoint(debug=True) is not supported: funcgrad's "
                                  "CheckpointError already names the first op that differs.")
    if not is_grad_enabled():
        return function(*args, **kwargs)
    rng = _factories.get_rng_state() if preserve_rng_state else None
    forward_context, recompute_context = context_fn()
    start = next(_graph._creation)
    saved = _Saved(args)
    with forward_context, _no_saved_tensors_hooks():
        out = function(*args, **kwargs)
    region = _Region(function, saved, kwargs, rng, recompute_context, determinism_check)
    region.keep(_recorded(out, start))
    return out


class _Saved:
    """A checkpoint's arguments as it keeps them for the recomputation. torch's checkpoint
    saves its tensor arguments for backward, so the ``saved_tensors_hooks`` in force pack
    each of them (and nothing the ops inside save: the recomputation gives those back), and
    each recomputation runs on them unpacked, with their ``requires_grad``."""

    def __init__(self, args: tuple) -> None:
        self.hooks = _graph.saved_hooks[-1] if _graph.saved_hooks else None
        self.requires = [isinstance(a, Tensor) and a.requires_grad for a in args]
        if self.hooks is None:
            self.args = args
            return
        with no_grad():
            self.args = tuple(self.hooks[0](a) if isinstance(a, Tensor) else a for a in args)
        self.tensors = [isinstance(a, Tensor) for a in args]

    def get(self) -> tuple:
        if self.hooks is None:
            return self.args
        return tuple(self.hooks[1](a).detach().requires_grad_(requires) if is_tensor else a
                     for a, is_tensor, requires in zip(self.args, self.tensors, self.requires))


@contextlib.contextmanager
def _no_saved_tensors_hooks():
    """No ``saved_tensors_hooks`` in force (the checkpoint's own forward keeps nothing)."""
    hooks = _graph.saved_hooks[:]
    _graph.saved_hooks.clear()
    try:
        yield
    finally:
        _graph.saved_hooks[:] = hooks


def _tensors(tree) -> list[Tensor]:
    return [t for t in jax.tree.leaves(tree, is_leaf=lambda t: isinstance(t, Tensor))
            if isinstance(t, Tensor)]


def _recorded(out, start: int) -> list[_graph.Node]:
    """The nodes a call recorded (numbered ``start`` or later) that lead to its outputs and
    save values for backward, oldest first, but for those of a checkpointed call inside it,
    which look after their own."""
    nodes, seen = [], set()
    stack = [t.grad_fn for t in _tensors(out)]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen or node._sequence < start:
            continue
        seen.add(id(node))
        if type(node) is _graph.Node and node.op.saves and node._region is None:
            nodes.append(node)
        stack.extend(node.edges)
    return sorted(nodes, key=lambda n: n._sequence)


class _Region:
    """A non-reentrant checkpointed call: how to run it again, and (weakly) the nodes whose
    saved values it gives back."""

    def __init__(self, function: Callable, args: _Saved, kwargs: dict, rng, context,
                 determinism_check: str) -> None:
        self.function, self.args, self.kwargs, self.rng = function, args, kwargs, rng
        self.context, self.check = context, determinism_check
        self.nodes: list[weakref.ref] = []

    def keep(self, nodes: list[_graph.Node]) -> None:
        """Drops what ``nodes`` saved (as a backward does), to be recomputed when needed."""
        self.metadata = [_metadata(n) for n in nodes] if self.check == "default" else None
        for node in nodes:
            node._free()
            node._region = self
        self.nodes = [weakref.ref(n) for n in nodes]

    def restore(self) -> None:
        """Runs the call again and gives each node what its twin saved (once: a backward that
        frees the graph frees these values too)."""
        if not self.nodes:
            return
        olds, self.nodes = self.nodes, []
        state = _factories.get_rng_state() if self.rng is not None else None
        if self.rng is not None:
            _factories.set_rng_state(self.rng)
        start = next(_graph._creation)
        try:
            with enable_grad(), self.context:
                news = _recorded(self.function(*self.args.get(), **self.kwargs), start)
        finally:
            if state is not None:
                _factories.set_rng_state(state)
        if len(news) != len(olds):
            raise CheckpointError(
                "torch.utils.checkpoint: A different number of ops was recorded during the "
                f"original forward and recomputation.\nNumber of ops recorded during forward: "
                f"{len(olds)}\nNumber of ops recorded during recomputation: {len(news)}.\n"
                "The checkpointed function must record the same ops when it runs again: make "
                "what it computes depend only on its inputs and the random state.")
        for k, new in enumerate(news):
            if self.metadata is not None and self.metadata[k] != _metadata(new):
                raise CheckpointError(
                    "torch.utils.checkpoint: Recomputed values for the following tensors have "
                    f"different metadata than during the forward pass.\nop {k}:\nsaved "
                    f"metadata: {self.metadata[k]}\nrecomputed metadata: {_metadata(new)}\n"
                    "The checkpointed function must compute the same ops on the same shapes "
                    "and dtypes when it runs again (or pass determinism_check='none').")
        for ref, new in zip(olds, news):
            old = ref()
            if old is not None:  # (else a part of the graph nothing needs any more)
                old._arrays, old._freed = new._arrays, False


def _metadata(node: _graph.Node) -> dict:
    return {"op": node.name(), "inputs": [
        (tuple(a.shape), str(a.dtype)) if hasattr(a, "shape") else type(a).__name__
        for a in node._arrays]}


def _reentrant(function: Callable, args: tuple, preserve_rng_state: bool):
    """The reentrant checkpoint: one ``CheckpointFunctionBackward`` node over the tensor
    arguments."""
    if is_grad_enabled() and not any(isinstance(a, Tensor) and a.requires_grad for a in args):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      UserWarning, stacklevel=3)
    rng = _factories.get_rng_state() if preserve_rng_state else None
    with no_grad():
        out = function(*args)
    tensors = [a for a in args if isinstance(a, Tensor)]
    if not is_grad_enabled() or not any(t.requires_grad for t in tensors):
        return out
    node = _Reentrant(function, _Saved(args), rng, tensors, len(_tensors(out)))
    outputs = iter(range(node.n_outputs))
    return jax.tree.map(lambda t: node.output(t, next(outputs)) if isinstance(t, Tensor) else t,
                        out, is_leaf=lambda t: isinstance(t, Tensor))


class _Reentrant(_graph.Group):
    """torch's ``CheckpointFunctionBackward``: its backward runs the function again, with grad
    mode on, on detached copies of the tensor arguments, and a backward from its outputs, which
    gives every leaf the function reads its gradient, and the arguments theirs."""

    def __init__(self, function: Callable, args: _Saved, rng, tensors: list[Tensor],
                 n_outputs: int) -> None:
        super().__init__(tuple(t._edge() for t in tensors),
                         tuple((tuple(t.shape), t.dtype) for t in tensors), n_outputs)
        self.function, self.args, self.rng = function, args, rng

    refuses_capture = ("When use_reentrant=True, torch.utils.checkpoint is incompatible with "
                       ".grad() or passing an `inputs` parameter to .backward(). To resolve this "
                       "error, you can either set use_reentrant=False, or call .backward() "
                       "without passing the `inputs` argument.")

    def name(self) -> str:
        return "CheckpointFunctionBackward"

    def output(self, tensor: Tensor, i: int) -> Tensor:
        """Output ``i``, ``tensor`` recorded as this node's (an integer one as it is)."""
        if not _dtypes.is_inexact(tensor.dtype):
            return tensor
        return Tensor._wrap(tensor._peek(), grad_fn=_graph._Output(self, i))

    def input_grads(self, grads: tuple, create_graph: bool) -> list:
        detached = [a.detach().requires_grad_(a.requires_grad) if isinstance(a, Tensor) else a
                    for a in self.args.get()]
        state = _factories.get_rng_state() if self.rng is not None else None
        if self.rng is not None:
            _factories.set_rng_state(self.rng)
        try:
            with enable_grad():
                out = self.function(*detached)
        finally:
            if state is not None:
                _factories.set_rng_state(state)
        pairs = [(o, g) for o, g in zip(_tensors(out), grads)
                 if g is not None and o.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is "
                               "not necessary")
        _graph.backward([o for o, _ in pairs], [g for _, g in pairs])
        return [t.grad for t in detached if isinstance(t, Tensor)]


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool | None = None,
                          **kwargs):
    """Runs ``functions`` (a ``Sequential`` or a list of modules or functions) one after
    another, in ``segments`` chunks, each but the last checkpointed."""
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING, UserWarning, stacklevel=2)
        use_reentrant = True
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    size = len(functions) // segments
    end = -1

    def run(start: int, stop: int) -> Callable:
        def forward(x):
            for f in functions[start:stop + 1]:
                x = f(x)
            return x
        return forward

    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run(end + 1, len(functions) - 1)(input)

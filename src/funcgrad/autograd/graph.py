"""``funcgrad.autograd.graph``: the graph's node type and version counters, as
``torch.autograd.graph`` has them.

>>> import funcgrad
>>> from funcgrad.autograd.graph import Node
>>> x = funcgrad.tensor(2.0, requires_grad=True)
>>> isinstance((x * x).grad_fn, Node)
True
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

from .. import _graph
from .._graph import GradientEdge, current_graph_task_id, saved_hooks, will_execute
from .._graph import _GraphNode as Node
from .._tensor import Tensor

__all__ = ["GradientEdge", "Node", "allow_mutation_on_saved_tensors",
           "disable_saved_tensors_hooks", "get_gradient_edge", "increment_version",
           "register_multi_grad_hook", "save_on_cpu", "saved_tensors_hooks"]


def get_gradient_edge(tensor: Tensor) -> GradientEdge:
    """The ``GradientEdge`` of ``tensor``, which must require grad.

    >>> import funcgrad
    >>> from funcgrad.autograd.graph import get_gradient_edge
    >>> x = funcgrad.tensor([1.0, 2.0], requires_grad=True)
    >>> h = x * 3
    >>> edge = get_gradient_edge(h)
    >>> h.mul_(2)  # h moves on; the edge is where it was
    tensor([ 6., 12.], grad_fn=<MulBackward0>)
    >>> funcgrad.autograd.grad(h.sum(), edge)
    (tensor([2., 2.]),)
    """
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does "
                           "not require gradients")
    return GradientEdge(tensor._edge(), 0)


def increment_version(tensor) -> None:
    """Marks ``tensor`` (or each of a sequence of them) as changed in place, as an in-place op
    does: a graph that saved it then refuses to backward, with torch's error."""
    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        t._storage.version += 1


class _MultiHandle:
    """What ``register_multi_grad_hook`` returns: ``remove()`` removes the hook from every
    tensor."""

    def __init__(self, handles: tuple) -> None:
        self.handles = handles

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()

    def __enter__(self) -> _MultiHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def register_multi_grad_hook(tensors: Sequence[Tensor], fn: Callable, *,
                             mode: str = "all") -> _MultiHandle:
    """Registers ``fn`` on several tensors' gradients at once, as torch's function does.

    ``mode="all"``: once per backward, when the gradient of every tensor of ``tensors`` that
    this backward computes has been computed, ``fn(grads)`` gets a list of them, None for a
    tensor it does not reach or does not need. ``mode="any"``: once per backward, ``fn(grad)``
    gets the first of them computed.

    >>> import funcgrad
    >>> from funcgrad.autograd.graph import register_multi_grad_hook
    >>> a, b = funcgrad.ones(2, requires_grad=True), funcgrad.ones(1, requires_grad=True)
    >>> handle = register_multi_grad_hook((a, b), print)
    >>> (a * 3).sum().backward()
    [tensor([3., 3.]), None]
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    if mode == "any":
        tensors = [t for t in tensors if t.requires_grad]
    for i, t in enumerate(tensors):
        if not t.requires_grad:
            raise RuntimeError(
                "register_multi_grad_hook(mode='all') waits for the gradient of every tensor, "
                f"but tensor {i} does not require grad. Pass only tensors that do, or make it "
                "require grad with requires_grad_().")
    lock = threading.Lock()
    if mode == "any":
        ran: set[int] = set()

        def first(grad) -> None:
            task = current_graph_task_id()
            with lock:
                if task in ran:
                    return
                ran.clear()  # only the backward running now can call again
                ran.add(task)
            fn(grad)

        return _MultiHandle(tuple(t.register_hook(first) for t in tensors))
    nodes = [t._edge() for t in tensors]
    waiting: dict[int, list] = {}  # per backward: [gradients still awaited, the gradients]

    def hook_of(i: int) -> Callable:
        def hook(grad) -> None:
            task = current_graph_task_id()
            with lock:
                if task not in waiting:
                    waiting[task] = [sum(map(will_execute, nodes)), [None] * len(tensors)]
                state = waiting[task]
                state[0] -= 1
                state[1][i] = grad
                done = state[0] == 0
                if done:
                    del waiting[task]
            if done:
                fn(state[1])

        return hook

    return _MultiHandle(tuple(t.register_hook(hook_of(i)) for i, t in enumerate(tensors)))


class saved_tensors_hooks:  # noqa: N801 (torch's name)
    """Inside this context, each tensor an op saves for its backward goes to
    ``pack_hook(tensor)``, which may return anything (a copy elsewhere, a key, a compressed
    form), and the backward gets it back from ``unpack_hook(packed)``, which must return a
    tensor of the same value. Only the innermost pair of hooks applies.

    An op saves the inputs its backward reads, only those (``x * y`` saves both, when both
    require grad; ``x + y``, neither). Where torch's backward formula reads an op's *output*
    instead (``exp``, ``tanh``, ``sigmoid``, ``relu``…), funcgrad's reads, and packs, its input;
    a custom ``Function``'s hooks get its tensor inputs, not what it saves.

    >>> import funcgrad
    >>> from funcgrad.autograd.graph import saved_tensors_hooks
    >>> a = funcgrad.ones(2, requires_grad=True)
    >>> with saved_tensors_hooks(lambda t: print("pack", t) or t.detach(), lambda t: t):
    ...     y = (a * (a * 2)).sum()
    pack tensor([1., 1.], requires_grad=True)
    pack tensor([2., 2.], grad_fn=<MulBackward0>)
    >>> y.backward(); a.grad
    tensor([4., 4.])
    """

    def __init__(self, pack_hook: Callable[[Tensor], Any],
                 unpack_hook: Callable[[Any], Tensor]) -> None:
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self) -> None:
        if _disabled:
            raise RuntimeError(_disabled[-1])
        saved_hooks.append((self.pack_hook, self.unpack_hook))

    def __exit__(self, *exc: object) -> None:
        saved_hooks.pop()


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 (torch's name)
    """Saved tensors live on the CPU until the backward moves each back to its device: GPU
    memory for activations traded for copies. ``pin_memory`` and ``device_type`` are accepted
    for torch compatibility (JAX manages host memory itself)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(lambda tensor: (tensor.device, tensor.cpu()),
                         lambda packed: packed[1].to(packed[0]))


_disabled: list[str] = []  # disable_saved_tensors_hooks's messages in force, innermost last


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message: str):
    """Inside this context, entering ``saved_tensors_hooks`` (or ``save_on_cpu``) raises a
    RuntimeError with ``error_message``: for code whose saved tensors must stay as they are."""
    _disabled.append(error_message)
    try:
        yield
    finally:
        _disabled.pop()


@contextlib.contextmanager
def allow_mutation_on_saved_tensors():
    """Inside this block, changing in place a tensor that a recorded op saved is allowed, and
    backward uses the value it had when saved, as torch's block (which clones on write) gives;
    the backward through a graph recorded here must run here too.

    Raises:
        RuntimeError: the block is entered inside another one (torch's words).
        AssertionError: a backward after the block, through a graph recorded in it (torch's).

    >>> import funcgrad
    >>> from funcgrad.autograd.graph import allow_mutation_on_saved_tensors
    >>> x = funcgrad.tensor([1.0, 2.0], requires_grad=True)
    >>> with allow_mutation_on_saved_tensors():
    ...     a = x.clone(); loss = (a ** 2).sum(); _ = a.mul_(3)
    ...     loss.backward()
    >>> x.grad
    tensor([2., 4.])
    """
    if _graph.allowing_mutation:
        raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
    block = _graph.MutationContext()
    _graph.allowing_mutation.append(block)
    try:
        yield block
    finally:
        _graph.allowing_mutation.clear()
        _graph.ended_mutation.append(block)

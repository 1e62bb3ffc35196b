"""``funcgrad.autograd.graph``: the graph's node type and version counters, as
``torch.autograd.graph`` has them.

>>> import funcgrad
>>> from funcgrad.autograd.graph import Node
>>> x = funcgrad.tensor(2.0, requires_grad=True)
>>> isinstance((x * x).grad_fn, Node)
True
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from .._graph import _GraphNode as Node
from .._graph import current_graph_task_id, will_execute
from .._tensor import Tensor

__all__ = ["Node", "increment_version", "register_multi_grad_hook"]


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

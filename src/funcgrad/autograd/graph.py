"""``funcgrad.autograd.graph``: the graph's node type and version counters, as
``torch.autograd.graph`` has them.

>>> import funcgrad
>>> from funcgrad.autograd.graph import Node
>>> x = funcgrad.tensor(2.0, requires_grad=True)
>>> isinstance((x * x).grad_fn, Node)
True
"""

from __future__ import annotations

from .._graph import _GraphNode as Node
from .._tensor import Tensor

__all__ = ["Node", "increment_version"]


def increment_version(tensor) -> None:
    """Marks ``tensor`` (or each of a sequence of them) as changed in place, as an in-place op
    does: a graph that saved it then refuses to backward, with torch's error."""
    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        t._storage.version += 1

"""Forward-mode AD's state: the current dual level and each dual tensor's tangent.

A tangent belongs to a tensor object (not its storage, so ``detach()`` has none), by the
tensor's id, with a weak reference that forgets the entry when the tensor goes. Ops give their
output a tangent (``_graph.apply``) only while some tensor has one, so outside a dual level
forward mode costs an op one check of an empty dict. ``funcgrad.autograd.forward_ad`` is the
public face.
"""

from __future__ import annotations

import contextlib
import weakref

tangents: dict[int, tuple] = {}  # id(tensor) -> (weak reference to the tensor, its tangent)
level = -1  # the current dual level; -1: none (torch supports one level, 0)
_paused = [False]  # while an op's tangent is computed: that computation makes no tangents


def tangent_of(tensor):
    """``tensor``'s tangent, or None."""
    entry = tangents.get(id(tensor))
    return None if entry is None else entry[1]


def set_tangent(tensor, tangent) -> None:
    """Makes ``tangent`` (a Tensor) ``tensor``'s tangent, until the level ends or the tensor
    goes."""
    key = id(tensor)

    def forget(ref, key=key):
        entry = tangents.get(key)
        if entry is not None and entry[0] is ref:
            del tangents[key]

    tangents[key] = (weakref.ref(tensor, forget), tangent)


def paused() -> bool:
    return _paused[0]


@contextlib.contextmanager
def pause():
    """Ops inside make no tangents: the ops computing a tangent, or a dual tensor's primal."""
    before, _paused[0] = _paused[0], True
    try:
        yield
    finally:
        _paused[0] = before

"""``funcgrad.compiler``: ``torch.compiler``'s questions and switches that library code asks
and sets, answered for ``funcgrad.compile``, and its decorators, which model code carries.

``funcgrad.compile`` makes a whole step one XLA program, with no graph breaks: where
torch.compile runs a ``disable``d function eagerly, or puts an ``allow_in_graph`` one in its
graph unread, funcgrad.compile traces it with the rest of the step (so it must be traceable: no
``.item()`` of a value the step computes, no Python branch on one). Outside a compiled step the
decorated functions run as they are. The decorators therefore return the function itself."""

import functools

import jax

from ._compile import is_compiling
from .debug import clear_caches


def is_dynamo_compiling() -> bool:
    """``is_compiling``: funcgrad has no TorchDynamo; its tracer is ``funcgrad.compile``'s."""
    return is_compiling()


def reset() -> None:
    """Forgets every compiled program, funcgrad's and JAX's (``torch.compiler.reset``): the next
    steps, backwards and ops compile again."""
    clear_caches()
    jax.clear_caches()


def is_exporting() -> bool:
    """False: funcgrad has no ``torch.export``."""
    return False


def disable(fn=None, recursive: bool = True, *, reason: str | None = None):
    """``fn`` itself (see the module: funcgrad.compile has no graph breaks); as torch's, a
    decorator with or without arguments."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)
    return fn


def allow_in_graph(fn):
    """``fn`` itself: funcgrad.compile traces every function it calls."""
    return fn


def assume_constant_result(fn):
    """``fn`` itself: funcgrad.compile runs a step's Python once, while tracing, so what ``fn``
    returns then is a constant of the program, as torch.compile makes it."""
    return fn


__all__ = ["allow_in_graph", "assume_constant_result", "disable", "is_compiling",
           "is_dynamo_compiling", "is_exporting", "reset"]

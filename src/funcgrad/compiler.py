"""``funcgrad.compiler``: ``torch.compiler``'s questions and switches that library code asks
and sets, answered for ``funcgrad.compile``."""

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


__all__ = ["is_compiling", "is_dynamo_compiling", "reset"]

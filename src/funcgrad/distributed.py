"""``funcgrad.distributed``: what code that guards torch.distributed calls asks first.

funcgrad has no process groups: ``is_available()`` is False and ``is_initialized()`` is False,
so code written as ``if dist.is_available() and dist.is_initialized(): ...`` runs its
single-process branch. For several processes, use JAX's own (``jax.distributed``, sharding).
"""

from __future__ import annotations

__all__ = ["is_available", "is_initialized"]


def is_available() -> bool:
    """False: funcgrad has no torch.distributed (JAX's is ``jax.distributed``).

    >>> import funcgrad
    >>> funcgrad.distributed.is_available(), funcgrad.distributed.is_initialized()
    (False, False)
    """
    return False


def is_initialized() -> bool:
    """False: funcgrad never has a default process group."""
    return False

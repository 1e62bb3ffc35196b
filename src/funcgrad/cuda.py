"""``funcgrad.cuda``: whether JAX has NVIDIA (or other) GPUs attached, and how many."""

from __future__ import annotations

import jax


def _gpus() -> list:
    try:
        return jax.devices("gpu")
    except RuntimeError:
        return []


def is_available() -> bool:
    """True when JAX sees at least one GPU.

    >>> import funcgrad
    >>> isinstance(funcgrad.cuda.is_available(), bool)
    True
    """
    return bool(_gpus())


def device_count() -> int:
    """The number of GPUs JAX sees."""
    return len(_gpus())


def synchronize() -> None:
    """Waits for all work queued on the devices to finish."""
    jax.effects_barrier()

"""``funcgrad.accelerator``: torch.accelerator's device-agnostic questions, answered for the
GPUs JAX sees (``funcgrad.cuda``); without one there is no accelerator, and what needs one
raises torch's error.

>>> import funcgrad
>>> funcgrad.accelerator.device_count() == funcgrad.cuda.device_count()
True
"""

from __future__ import annotations

import warnings

from . import _devices, _lazy, cuda

__all__ = ["current_accelerator", "current_device_idx", "current_device_index", "device_count",
           "empty_cache", "is_available", "max_memory_allocated", "max_memory_reserved",
           "memory_allocated", "memory_reserved", "memory_stats", "synchronize"]


def is_available() -> bool:
    """Whether JAX sees a GPU."""
    return cuda.is_available()


def device_count() -> int:
    """The number of GPUs JAX sees, 0 without one."""
    return cuda.device_count()


def current_accelerator(check_available: bool = False) -> _devices.device | None:
    """``device('cuda')`` where JAX sees a GPU, else None. ``check_available`` is torch's
    (whether the accelerator must also be usable now): a GPU JAX sees is."""
    return _devices.device("cuda") if is_available() else None


def _check() -> None:
    if not is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")


def current_device_index() -> int:
    """The index of the GPU computations go to (see ``cuda.current_device``).

    Raises:
        RuntimeError: torch's, without a GPU.
    """
    _check()
    return cuda.current_device()


def current_device_idx() -> int:
    """``current_device_index``, under torch's older name (with its FutureWarning)."""
    warnings.warn("Use `current_device_index` instead.", FutureWarning, stacklevel=2)
    return current_device_index()


def synchronize(device=None) -> None:
    """Waits for the work given to the GPU to finish (``cuda.synchronize``).

    Raises:
        RuntimeError: torch's, without a GPU.
    """
    _check()
    _lazy.synchronize()


def empty_cache() -> None:
    """Nothing to do (``cuda.empty_cache``), but torch's error without a GPU."""
    _check()


def memory_stats(device=None) -> dict:
    """JAX's allocator statistics for the GPU (``cuda.memory_stats``)."""
    _check()
    return cuda.memory_stats(device)


def memory_allocated(device=None) -> int:
    """Bytes arrays hold on the GPU now (``cuda.memory_allocated``)."""
    _check()
    return cuda.memory_allocated(device)


def max_memory_allocated(device=None) -> int:
    """The most bytes arrays held on the GPU at once (``cuda.max_memory_allocated``)."""
    _check()
    return cuda.max_memory_allocated(device)


def memory_reserved(device=None) -> int:
    """Bytes JAX's allocator holds on the GPU (``cuda.memory_reserved``)."""
    _check()
    return cuda.memory_reserved(device)


def max_memory_reserved(device=None) -> int:
    """The most bytes JAX's allocator held on the GPU at once (``cuda.max_memory_reserved``)."""
    _check()
    return cuda.max_memory_reserved(device)

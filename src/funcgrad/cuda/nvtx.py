"""``funcgrad.cuda.nvtx``: torch's NVTX ranges, as funcgrad's profiler regions
(``funcgrad.profiler.record_function``, JAX's trace annotations): they show, by name, in a
trace taken with ``jax.profiler.trace``. As torch's, they need a GPU: without one each raises
torch's error for a build without CUDA (``record_function`` names regions on any device)."""

from __future__ import annotations

import contextlib
import threading

from ..profiler import record_function
from . import is_available

__all__ = ["range_push", "range_pop", "mark", "range"]

_open = threading.local()  # each thread's open ranges, innermost last, as NVTX keeps them


def _ranges() -> list[record_function]:
    """This thread's open ranges, or torch's error where JAX sees no GPU."""
    if not is_available():
        raise RuntimeError("funcgrad.cuda.nvtx: JAX sees no GPU here (torch built without "
                           "CUDA raises this error too); funcgrad.profiler.record_function "
                           "names a region on any device.")
    return _open.__dict__.setdefault("ranges", [])


def range_push(msg: str) -> int:
    """Opens a range named ``msg`` inside those open on this thread; returns its depth (0 for
    the outermost).

    Raises:
        RuntimeError: JAX sees no GPU (torch's error without CUDA).
    """
    ranges = _ranges()
    ranges.append(record_function(msg).__enter__())
    return len(ranges) - 1


def range_pop() -> int:
    """Closes this thread's innermost open range; returns its depth, or -1 (NVTX's answer)
    where none is open."""
    ranges = _ranges()
    if not ranges:
        return -1
    ranges.pop().__exit__(None, None, None)
    return len(ranges)


def mark(msg: str) -> None:
    """Marks an instant named ``msg`` (an empty range)."""
    _ranges()
    with record_function(msg):
        pass


@contextlib.contextmanager
def range(msg: str, *args, **kwargs):
    """A range around the block, or the decorated function; ``msg.format(*args, **kwargs)``
    names it, as torch's.

    Raises:
        RuntimeError: on entering, JAX sees no GPU (torch's error without CUDA).
    """
    range_push(msg.format(*args, **kwargs))
    try:
        yield
    finally:
        range_pop()

"""``funcgrad.profiler``: torch.profiler's ``record_function``, which names a region of the
code in a profile. funcgrad's regions are JAX's trace annotations: they show up, by name, in a
trace taken with ``jax.profiler.trace`` (or ``start_trace``), which TensorBoard and Perfetto
read. torch's ``profile`` and its tables are torch's profiler; use JAX's to profile funcgrad."""

from __future__ import annotations

import contextlib

import jax

__all__ = ["record_function"]


class record_function(contextlib.ContextDecorator):
    """A named region, as ``torch.profiler.record_function``: a context manager (``with
    record_function("attention"):``) or a decorator; ``args`` is torch's extra string, kept
    with the name.

    >>> import funcgrad
    >>> with funcgrad.profiler.record_function("scale"):
    ...     y = funcgrad.ones(2) * 3
    >>> y
    tensor([3., 3.])
    """

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name, self.args = name, args
        self._annotation = None

    def __enter__(self) -> record_function:
        label = self.name if self.args is None else f"{self.name} ({self.args})"
        self._annotation = jax.profiler.TraceAnnotation(label)
        self._annotation.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._annotation.__exit__(*exc)
        self._annotation = None

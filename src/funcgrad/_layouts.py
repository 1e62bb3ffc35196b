"""torch's layouts and memory formats. A funcgrad tensor is dense (``strided``), and XLA chooses
the physical layout of every array it makes, so a memory format is a hint funcgrad checks as
torch does and then leaves to XLA: values are the same in every format, and strides read as
row-major (``Tensor.stride``).

>>> import funcgrad
>>> x = funcgrad.ones(2, 3, 4, 5).contiguous(memory_format=funcgrad.channels_last)
>>> x.layout, x.shape
(funcgrad.strided, funcgrad.Size([2, 3, 4, 5]))
"""

from __future__ import annotations


class layout:
    """How a tensor's elements are stored: funcgrad's are ``strided`` (dense)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"funcgrad.{self._name}"


class memory_format:
    """The order of a dense tensor's elements in memory that a function is asked for:
    ``contiguous_format``, ``channels_last`` (4-D), ``channels_last_3d`` (5-D), or
    ``preserve_format`` (the input's)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"funcgrad.{self._name}"


strided = layout("strided")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
_RANKS = {channels_last: 4, channels_last_3d: 5}


def check(name: str, format, ndim: int, preserve: bool = True) -> None:
    """torch's checks of a ``memory_format`` argument of function ``name`` for a tensor of
    ``ndim`` dimensions (``preserve``: whether it takes ``preserve_format``).

    Raises:
        TypeError: for anything but a memory format.
        RuntimeError: for a channels-last format of a tensor of another rank, or
            ``preserve_format`` where there is no input to preserve.
    """
    if not isinstance(format, memory_format):
        raise TypeError(f"{name}(): argument 'memory_format' must be funcgrad.memory_format, "
                        f"not {type(format).__name__}")
    rank = _RANKS.get(format)
    if rank is not None and ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {format._name} format")
    if format is preserve_format and not preserve:
        raise RuntimeError("unsupported memory format Preserve")

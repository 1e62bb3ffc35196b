"""``funcgrad.types``: the type aliases torch code imports from torch.types for its
annotations, with funcgrad's classes where torch's name its own: ``Number``, ``Device``,
``FileLike``, and the private ``_dtype``, ``_device`` and ``_size`` that typed code imports
too. torch's ``Storage`` is left out: funcgrad has no storages.

>>> import funcgrad
>>> from funcgrad.types import Number
>>> isinstance(2.5, Number)
True
"""

from __future__ import annotations

import os
from typing import IO

import numpy as np

from ._devices import device as _device
from ._tensor import Size

__all__ = ["Number", "Device", "FileLike"]

Number = int | float | bool
Device = _device | str | int | None
FileLike = str | os.PathLike[str] | IO[bytes]
_dtype = np.dtype  # funcgrad's dtypes are NumPy's
_size = Size | list[int] | tuple[int, ...]

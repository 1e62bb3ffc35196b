"""``funcgrad.utils.deterministic``: ``fill_uninitialized_memory``, whether uninitialized
tensors (``empty``, a grown ``resize_``) come filled with NaN (the largest integer, True)
while ``funcgrad.use_deterministic_algorithms(True)`` is in force; True by default, as in
torch. A module attribute to read and assign, as torch's is."""

import sys
import types

from .. import _config


class _Deterministic(types.ModuleType):
    @property
    def fill_uninitialized_memory(self) -> bool:
        return _config.determinism.fill_uninitialized_memory

    @fill_uninitialized_memory.setter
    def fill_uninitialized_memory(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise RuntimeError(f"expected a bool, but got {type(mode).__name__}")
        _config.determinism.fill_uninitialized_memory = mode


sys.modules[__name__].__class__ = _Deterministic

"""``funcgrad.cpu``: torch.cpu's device functions, for code written for any device type
(``get_device_module(device)``). There is one CPU device, always initialized.

>>> import funcgrad
>>> funcgrad.cpu.is_available(), funcgrad.cpu.device_count(), funcgrad.cpu.current_device()
(True, 1, 'cpu')
"""

from __future__ import annotations

from . import _lazy

__all__ = ["is_available", "is_initialized", "synchronize", "current_device", "set_device",
           "device_count"]


def is_available() -> bool:
    """True: there is always a CPU."""
    return True


def is_initialized() -> bool:
    """True: the CPU needs no initialization."""
    return True


def synchronize(device=None) -> None:
    """Waits for the work given to the CPU to finish, funcgrad's pending work run first."""
    _lazy.synchronize()


def current_device() -> str:
    """``'cpu'``, as torch's."""
    return "cpu"


def set_device(device) -> None:
    """Nothing to do: there is one CPU device (torch's does nothing either)."""


def device_count() -> int:
    """1: JAX's CPU devices are one device to torch code."""
    return 1

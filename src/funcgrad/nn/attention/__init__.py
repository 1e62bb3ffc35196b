"""``funcgrad.nn.attention``: torch's switches for ``scaled_dot_product_attention``, and
FlexAttention (``funcgrad.nn.attention.flex_attention``).

``sdpa_kernel`` sets which kernels torch may pick (``funcgrad.backends.cuda``'s
``enable_flash_sdp`` and kin) for a block and puts them back after, as torch's does. They are
kept as set and choose nothing: XLA compiles attention itself, with the same result.

>>> import funcgrad
>>> from funcgrad.nn.attention import SDPBackend, sdpa_kernel
>>> with sdpa_kernel(SDPBackend.MATH):
...     funcgrad.backends.cuda.flash_sdp_enabled()
False
>>> funcgrad.backends.cuda.flash_sdp_enabled()
True
"""

from __future__ import annotations

import contextlib
import enum

from ... import backends as _backends
from . import flex_attention as flex_attention

__all__ = ["SDPBackend", "WARN_FOR_UNFUSED_KERNELS", "sdpa_kernel"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    """The kernels of ``scaled_dot_product_attention``, as torch names them."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


# torch's flag behind each backend that sdpa_kernel sets (ERROR has none).
_FLAGS = {SDPBackend.CUDNN_ATTENTION: "cudnn", SDPBackend.FLASH_ATTENTION: "flash",
          SDPBackend.EFFICIENT_ATTENTION: "mem_efficient", SDPBackend.MATH: "math",
          SDPBackend.OVERRIDEABLE: "overrideable"}


@contextlib.contextmanager
def sdpa_kernel(backends: list[SDPBackend] | SDPBackend, set_priority: bool = False):
    """Enables only ``backends`` (one or a list) for the block, then restores the flags.
    ``set_priority`` (their order as a priority) is taken and has nothing to order here."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend "
                             f"instances, got {type(backends).__name__}")
    chosen = {backends} if isinstance(backends, SDPBackend) else set(backends)
    flags = _backends.cuda._sdp
    before = dict(flags)
    try:
        for backend, name in _FLAGS.items():
            flags[name] = backend in chosen
        yield {}
    finally:
        flags.update(before)

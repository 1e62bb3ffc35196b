"""``funcgrad.cuda.amp``: torch.cuda.amp's deprecated names, each warning as torch's does and
then being ``funcgrad.amp``'s with ``device_type='cuda'`` (on a machine without a GPU, that
region casts nothing and that scaler is disabled, with torch's warnings)."""

from __future__ import annotations

import warnings

from .. import _autocast
from .._dtypes import float16
from ..amp import _grad_scaler

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]


def _deprecated(name: str, instead: str) -> None:
    warnings.warn(f"`funcgrad.cuda.amp.{name}(args...)` is deprecated. Please use "
                  f"`funcgrad.amp.{instead}` instead.", FutureWarning, stacklevel=3)


class autocast(_autocast.autocast):
    """``funcgrad.amp.autocast('cuda', ...)``, under torch.cuda.amp's deprecated name."""

    def __init__(self, enabled: bool = True, dtype=float16,
                 cache_enabled: bool = True) -> None:
        _deprecated("autocast", "autocast('cuda', args...)")
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_grad_scaler.GradScaler):
    """``funcgrad.amp.GradScaler('cuda', ...)``, under torch.cuda.amp's deprecated name."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        _deprecated("GradScaler", "GradScaler('cuda', args...)")
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)


def custom_fwd(fwd=None, *, cast_inputs=None):
    """``funcgrad.amp.custom_fwd(..., device_type='cuda')``, under its deprecated name."""
    _deprecated("custom_fwd", "custom_fwd(args..., device_type='cuda')")
    return _autocast.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd):
    """``funcgrad.amp.custom_bwd(..., device_type='cuda')``, under its deprecated name."""
    _deprecated("custom_bwd", "custom_bwd(args..., device_type='cuda')")
    return _autocast.custom_bwd(bwd, device_type="cuda")

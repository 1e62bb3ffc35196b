"""``funcgrad.amp``: automatic mixed precision, as ``torch.amp``: the ``autocast`` region, the
decorators that carry it into custom functions, and the ``GradScaler`` that keeps float16
gradients from underflowing."""

from .._autocast import autocast as autocast
from .._autocast import custom_bwd as custom_bwd
from .._autocast import custom_fwd as custom_fwd
from .._autocast import is_autocast_available as is_autocast_available
from ._grad_scaler import GradScaler as GradScaler

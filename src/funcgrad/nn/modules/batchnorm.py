"""``funcgrad.nn.modules.batchnorm``: the batch norms, where torch keeps them, for code importing
from here."""

from .._lazy import LazyBatchNorm1d as LazyBatchNorm1d
from .._lazy import LazyBatchNorm2d as LazyBatchNorm2d
from .._lazy import LazyBatchNorm3d as LazyBatchNorm3d
from .._modules import BatchNorm1d as BatchNorm1d
from .._modules import BatchNorm2d as BatchNorm2d
from .._modules import BatchNorm3d as BatchNorm3d
from .._modules import SyncBatchNorm as SyncBatchNorm
from .._modules import _BatchNorm as _BatchNorm
from .._modules import _NormBase as _NormBase

"""``funcgrad.nn.modules.instancenorm``: the instance norms, where torch keeps them, for code
importing from here."""

from .._lazy import LazyInstanceNorm1d as LazyInstanceNorm1d
from .._lazy import LazyInstanceNorm2d as LazyInstanceNorm2d
from .._lazy import LazyInstanceNorm3d as LazyInstanceNorm3d
from .._modules import InstanceNorm1d as InstanceNorm1d
from .._modules import InstanceNorm2d as InstanceNorm2d
from .._modules import InstanceNorm3d as InstanceNorm3d
from .._modules import _InstanceNorm as _InstanceNorm

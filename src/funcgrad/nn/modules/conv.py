"""``funcgrad.nn.modules.conv``: the convolutions, where torch keeps them, for code importing
from here."""

from .._lazy import LazyConv1d as LazyConv1d
from .._lazy import LazyConv2d as LazyConv2d
from .._lazy import LazyConv3d as LazyConv3d
from .._lazy import LazyConvTranspose1d as LazyConvTranspose1d
from .._lazy import LazyConvTranspose2d as LazyConvTranspose2d
from .._lazy import LazyConvTranspose3d as LazyConvTranspose3d
from .._modules import Conv1d as Conv1d
from .._modules import Conv2d as Conv2d
from .._modules import Conv3d as Conv3d
from .._modules import ConvTranspose1d as ConvTranspose1d
from .._modules import ConvTranspose2d as ConvTranspose2d
from .._modules import ConvTranspose3d as ConvTranspose3d
from .._modules import _ConvNd as _ConvNd
from .._modules import _ConvTransposeNd as _ConvTransposeNd

"""``funcgrad.nn.modules.padding``: the paddings, where torch keeps them, for code importing from
here."""

from .._modules import CircularPad1d as CircularPad1d
from .._modules import CircularPad2d as CircularPad2d
from .._modules import CircularPad3d as CircularPad3d
from .._modules import ConstantPad1d as ConstantPad1d
from .._modules import ConstantPad2d as ConstantPad2d
from .._modules import ConstantPad3d as ConstantPad3d
from .._modules import ReflectionPad1d as ReflectionPad1d
from .._modules import ReflectionPad2d as ReflectionPad2d
from .._modules import ReflectionPad3d as ReflectionPad3d
from .._modules import ReplicationPad1d as ReplicationPad1d
from .._modules import ReplicationPad2d as ReplicationPad2d
from .._modules import ReplicationPad3d as ReplicationPad3d
from .._modules import ZeroPad1d as ZeroPad1d
from .._modules import ZeroPad2d as ZeroPad2d
from .._modules import ZeroPad3d as ZeroPad3d
from .._modules import _ConstantPadNd as _ConstantPadNd

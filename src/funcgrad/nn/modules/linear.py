"""``funcgrad.nn.modules.linear``: the linear maps, where torch keeps them, for code importing
from here."""

from .._lazy import LazyLinear as LazyLinear
from .._modules import Bilinear as Bilinear
from .._modules import Identity as Identity
from .._modules import Linear as Linear

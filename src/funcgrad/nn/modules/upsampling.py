"""``funcgrad.nn.modules.upsampling``: the upsamplings, where torch keeps them, for code
importing from here."""

from .._modules import Upsample as Upsample
from .._modules import UpsamplingBilinear2d as UpsamplingBilinear2d
from .._modules import UpsamplingNearest2d as UpsamplingNearest2d

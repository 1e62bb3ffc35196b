"""``funcgrad.nn.modules.pixelshuffle``: the pixel shuffles, where torch keeps them, for code
importing from here."""

from .._modules import PixelShuffle as PixelShuffle
from .._modules import PixelUnshuffle as PixelUnshuffle

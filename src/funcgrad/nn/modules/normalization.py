"""``funcgrad.nn.modules.normalization``: the normalizations, where torch keeps them, for code
importing from here."""

from .._modules import GroupNorm as GroupNorm
from .._modules import LayerNorm as LayerNorm
from .._modules import LocalResponseNorm as LocalResponseNorm
from .._modules import RMSNorm as RMSNorm

"""``funcgrad.nn.modules.flatten``: the flattening, where torch keeps them, for code importing
from here."""

from .._modules import Flatten as Flatten
from .._modules import Unflatten as Unflatten

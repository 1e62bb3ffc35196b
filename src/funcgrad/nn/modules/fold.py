"""``funcgrad.nn.modules.fold``: the fold and unfold, where torch keeps them, for code importing
from here."""

from .._modules import Fold as Fold
from .._modules import Unfold as Unfold

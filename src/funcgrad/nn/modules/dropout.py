"""``funcgrad.nn.modules.dropout``: the dropouts, where torch keeps them, for code importing from
here."""

from .._modules import AlphaDropout as AlphaDropout
from .._modules import Dropout as Dropout
from .._modules import Dropout1d as Dropout1d
from .._modules import Dropout2d as Dropout2d
from .._modules import Dropout3d as Dropout3d
from .._modules import FeatureAlphaDropout as FeatureAlphaDropout

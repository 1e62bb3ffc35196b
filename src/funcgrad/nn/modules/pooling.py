"""``funcgrad.nn.modules.pooling``: the poolings, where torch keeps them, for code importing from
here."""

from .._modules import AdaptiveAvgPool1d as AdaptiveAvgPool1d
from .._modules import AdaptiveAvgPool2d as AdaptiveAvgPool2d
from .._modules import AdaptiveAvgPool3d as AdaptiveAvgPool3d
from .._modules import AdaptiveMaxPool1d as AdaptiveMaxPool1d
from .._modules import AdaptiveMaxPool2d as AdaptiveMaxPool2d
from .._modules import AdaptiveMaxPool3d as AdaptiveMaxPool3d
from .._modules import AvgPool1d as AvgPool1d
from .._modules import AvgPool2d as AvgPool2d
from .._modules import AvgPool3d as AvgPool3d
from .._modules import FractionalMaxPool2d as FractionalMaxPool2d
from .._modules import FractionalMaxPool3d as FractionalMaxPool3d
from .._modules import LPPool1d as LPPool1d
from .._modules import LPPool2d as LPPool2d
from .._modules import LPPool3d as LPPool3d
from .._modules import MaxPool1d as MaxPool1d
from .._modules import MaxPool2d as MaxPool2d
from .._modules import MaxPool3d as MaxPool3d
from .._modules import MaxUnpool1d as MaxUnpool1d
from .._modules import MaxUnpool2d as MaxUnpool2d
from .._modules import MaxUnpool3d as MaxUnpool3d
from .._modules import _LPPoolNd as _LPPoolNd

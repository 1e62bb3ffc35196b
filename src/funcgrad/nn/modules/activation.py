"""``funcgrad.nn.modules.activation``: the activation modules, where torch keeps them, for code
importing from here."""

from .._modules import CELU as CELU
from .._modules import ELU as ELU
from .._modules import GELU as GELU
from .._modules import GLU as GLU
from .._modules import SELU as SELU
from .._modules import Hardshrink as Hardshrink
from .._modules import Hardsigmoid as Hardsigmoid
from .._modules import Hardswish as Hardswish
from .._modules import Hardtanh as Hardtanh
from .._modules import LeakyReLU as LeakyReLU
from .._modules import LogSigmoid as LogSigmoid
from .._modules import LogSoftmax as LogSoftmax
from .._modules import Mish as Mish
from .._modules import PReLU as PReLU
from .._modules import ReLU as ReLU
from .._modules import ReLU6 as ReLU6
from .._modules import RReLU as RReLU
from .._modules import Sigmoid as Sigmoid
from .._modules import SiLU as SiLU
from .._modules import Softmax as Softmax
from .._modules import Softmax2d as Softmax2d
from .._modules import Softmin as Softmin
from .._modules import Softplus as Softplus
from .._modules import Softshrink as Softshrink
from .._modules import Softsign as Softsign
from .._modules import Tanh as Tanh
from .._modules import Tanhshrink as Tanhshrink
from .._modules import Threshold as Threshold
from .._transformer import MultiheadAttention as MultiheadAttention

"""``funcgrad.nn.parameter``: parameters and buffers, where torch keeps them, for code that
imports them from there."""

from ._modules import Buffer as Buffer
from ._modules import Parameter as Parameter
from ._modules import UninitializedBuffer as UninitializedBuffer
from ._modules import UninitializedParameter as UninitializedParameter
from ._modules import UninitializedTensorMixin as UninitializedTensorMixin
from ._modules import is_lazy as is_lazy

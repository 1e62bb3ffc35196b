"""``funcgrad.nn.modules.adaptive``: the adaptive softmax, where torch keeps them, for code
importing from here."""

from .._modules import AdaptiveLogSoftmaxWithLoss as AdaptiveLogSoftmaxWithLoss
from .._modules import _ASMoutput as _ASMoutput

"""``funcgrad.autograd``: the stateful engine's entry points, as in ``torch.autograd``."""

from .._graph import backward as backward
from ._function import Function as Function
from ._function import FunctionCtx as FunctionCtx
from ._grad import grad as grad

"""``funcgrad.autograd``: the stateful engine's entry points, as in ``torch.autograd``."""

from .._graph import backward as backward
from ._grad import grad as grad

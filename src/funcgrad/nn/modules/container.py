"""``funcgrad.nn.modules.container``: the containers, where torch keeps them, for code importing
from here."""

from .._modules import Container as Container
from .._modules import ModuleDict as ModuleDict
from .._modules import ModuleList as ModuleList
from .._modules import ParameterDict as ParameterDict
from .._modules import ParameterList as ParameterList
from .._modules import Sequential as Sequential

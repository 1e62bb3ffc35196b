"""``funcgrad.nn.modules.module``: the Module base class, where torch keeps it, for code
importing from here."""

from .._modules import Module as Module
from .._modules import _IncompatibleKeys as _IncompatibleKeys

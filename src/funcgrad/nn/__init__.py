"""``funcgrad.nn``: neural-network building blocks."""

from . import attention as attention
from . import functional as functional
from . import grad as grad
from . import init as init
from . import modules as modules
from . import parameter as parameter
from . import utils as utils
from ._modules import DataParallel
from .modules import *  # noqa: F403 (torch.nn's classes, imported as torch.nn imports them)
from .modules import __all__ as _module_names
from .modules.lazy import LazyModuleMixin
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter

__all__ = ["functional", "init", "utils", "Parameter", "Buffer", "UninitializedParameter",
           "UninitializedBuffer", "LazyModuleMixin", "DataParallel", *_module_names]

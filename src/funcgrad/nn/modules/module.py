"""``funcgrad.nn.modules.module``: the Module base class, where torch keeps it, for code
importing from here."""

from .._modules import Module as Module
from .._modules import _IncompatibleKeys as _IncompatibleKeys
from .._modules import (
    register_module_buffer_registration_hook as register_module_buffer_registration_hook,
)
from .._modules import register_module_forward_hook as register_module_forward_hook
from .._modules import register_module_forward_pre_hook as register_module_forward_pre_hook
from .._modules import (
    register_module_full_backward_hook as register_module_full_backward_hook,
)
from .._modules import (
    register_module_full_backward_pre_hook as register_module_full_backward_pre_hook,
)
from .._modules import (
    register_module_module_registration_hook as register_module_module_registration_hook,
)
from .._modules import (
    register_module_parameter_registration_hook as register_module_parameter_registration_hook,
)

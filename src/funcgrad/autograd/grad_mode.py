"""``funcgrad.autograd.grad_mode``: the grad-mode switches, where torch keeps them, for code
importing from here."""

from .._grad_mode import enable_grad as enable_grad
from .._grad_mode import inference_mode as inference_mode
from .._grad_mode import no_grad as no_grad
from .._grad_mode import set_grad_enabled as set_grad_enabled
from .._grad_mode import set_multithreading_enabled as set_multithreading_enabled

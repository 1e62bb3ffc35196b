"""``funcgrad.autograd``: the stateful engine's entry points, as in ``torch.autograd``."""

from .._anomaly import detect_anomaly as detect_anomaly
from .._anomaly import is_anomaly_check_nan_enabled as is_anomaly_check_nan_enabled
from .._anomaly import is_anomaly_enabled as is_anomaly_enabled
from .._anomaly import set_detect_anomaly as set_detect_anomaly
from .._grad_mode import enable_grad as enable_grad
from .._grad_mode import inference_mode as inference_mode
from .._grad_mode import is_multithreading_enabled as is_multithreading_enabled
from .._grad_mode import no_grad as no_grad
from .._grad_mode import set_grad_enabled as set_grad_enabled
from .._grad_mode import set_multithreading_enabled as set_multithreading_enabled
from .._graph import backward as backward
from . import anomaly_mode as anomaly_mode
from . import forward_ad as forward_ad
from . import function as function
from . import functional as functional
from . import grad_mode as grad_mode
from . import graph as graph
from . import profiler as profiler
from ._grad import grad as grad
from ._gradcheck import GradcheckError as GradcheckError
from ._gradcheck import gradcheck as gradcheck
from ._gradcheck import gradgradcheck as gradgradcheck
from .function import Function as Function
from .function import FunctionCtx as FunctionCtx
from .function import once_differentiable as once_differentiable
from .variable import Variable as Variable

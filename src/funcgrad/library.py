"""``funcgrad.library``: torch.library's custom ops (``custom_op`` and its registrations)."""

from ._custom_ops import CustomOpDef as CustomOpDef
from ._custom_ops import custom_op as custom_op
from ._custom_ops import infer_schema as infer_schema
from ._custom_ops import register_autograd as register_autograd
from ._custom_ops import register_fake as register_fake
from ._custom_ops import register_kernel as register_kernel

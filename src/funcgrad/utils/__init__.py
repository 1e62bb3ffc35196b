"""torch.utils's counterparts: ``data`` (datasets, samplers and ``DataLoader``),
``checkpoint`` (activation checkpointing), ``dlpack`` (arrays of other libraries),
``deterministic`` (what uninitialized tensors hold under deterministic algorithms), ``hooks``
(the handle of a registered hook) and ``_pytree`` (torch's nested-container utilities, which
libraries import)."""

from . import _pytree as _pytree
from . import checkpoint as checkpoint
from . import data as data
from . import deterministic as deterministic
from . import dlpack as dlpack
from . import hooks as hooks

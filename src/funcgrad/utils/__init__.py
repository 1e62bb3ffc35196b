"""torch.utils's counterparts: ``data`` (datasets, samplers and ``DataLoader``),
``checkpoint`` (activation checkpointing), ``dlpack`` (arrays of other libraries),
``deterministic`` (what uninitialized tensors hold under deterministic algorithms) and ``hooks``
(the handle of a registered hook)."""

from . import checkpoint as checkpoint
from . import data as data
from . import deterministic as deterministic
from . import dlpack as dlpack
from . import hooks as hooks

"""torch.utils's counterparts: ``data`` (datasets, samplers and ``DataLoader``),
``checkpoint`` (activation checkpointing), ``dlpack`` (arrays of other libraries) and
``deterministic`` (what uninitialized tensors hold under deterministic algorithms)."""

from . import checkpoint as checkpoint
from . import data as data
from . import deterministic as deterministic
from . import dlpack as dlpack

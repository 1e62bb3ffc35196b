"""torch.utils's counterparts: ``data`` (datasets, samplers and ``DataLoader``),
``checkpoint`` (activation checkpointing) and ``dlpack`` (arrays of other libraries)."""

from . import checkpoint as checkpoint
from . import data as data
from . import dlpack as dlpack

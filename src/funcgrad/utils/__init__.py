"""torch.utils's counterparts: ``data`` (datasets, samplers and ``DataLoader``) and
``checkpoint`` (activation checkpointing)."""

from . import checkpoint as checkpoint
from . import data as data

"""torch.utils's counterparts: ``data`` (datasets, samplers and ``DataLoader``)."""

from . import data as data

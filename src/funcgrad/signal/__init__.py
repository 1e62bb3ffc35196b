"""``funcgrad.signal``: torch.signal's windows, in ``signal.windows``."""

from . import windows as windows

"""``funcgrad.optim``: torch's optimizers and schedulers, with optax computing the updates."""

from . import lr_scheduler as lr_scheduler
from ._optimizer import SGD as SGD
from ._optimizer import Adam as Adam
from ._optimizer import AdamW as AdamW
from ._optimizer import Optimizer as Optimizer
from ._optimizer import RMSprop as RMSprop
from ._optimizer import from_optax as from_optax

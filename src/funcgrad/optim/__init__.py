"""``funcgrad.optim``: torch's optimizers and schedulers, with optax computing the updates."""

from . import lr_scheduler as lr_scheduler
from . import optimizer as optimizer
from . import swa_utils as swa_utils
from ._adaptive import Adadelta as Adadelta
from ._adaptive import Adafactor as Adafactor
from ._adaptive import Adagrad as Adagrad
from ._adaptive import Adamax as Adamax
from ._adaptive import NAdam as NAdam
from ._adaptive import RAdam as RAdam
from ._adaptive import Rprop as Rprop
from ._lbfgs import LBFGS as LBFGS
from ._muon import Muon as Muon
from ._optimizer import ASGD as ASGD
from ._optimizer import SGD as SGD
from ._optimizer import Adam as Adam
from ._optimizer import AdamW as AdamW
from ._optimizer import Optimizer as Optimizer
from ._optimizer import RMSprop as RMSprop
from ._optimizer import from_optax as from_optax

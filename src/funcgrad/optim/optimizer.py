"""``funcgrad.optim.optimizer``: torch.optim.optimizer's names, for code that imports from
there: the ``Optimizer`` base class, the ``required`` default of a custom optimizer's
hyperparameters, and the hooks registered on every optimizer's step."""

from ._optimizer import (
    Optimizer,
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
    required,
)

__all__ = ["Optimizer", "register_optimizer_step_post_hook", "register_optimizer_step_pre_hook",
           "required"]

"""Weight averaging, as ``torch.optim.swa_utils``: ``AveragedModel`` keeps a running average
(stochastic weight averaging, or an exponential moving average) of a model's parameters,
``update_bn`` recomputes batch-norm statistics for the averaged weights, and ``SWALR`` anneals
each group's learning rate to a constant SWA rate.

>>> import funcgrad
>>> from funcgrad.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
>>> model = funcgrad.nn.Linear(2, 1)
>>> ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))
>>> ema.update_parameters(model); int(ema.n_averaged)
1
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterable

from .. import _factories, nn
from .._grad_mode import no_grad
from .._tensor import Tensor
from ._optimizer import Optimizer
from .lr_scheduler import LRScheduler, _per_group

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] "
                         "range.")


def _inexact(t: Tensor) -> bool:
    return t.is_floating_point() or t.is_complex()


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """The in-place exponential moving average of lists of tensors: ``ema = decay * ema +
    (1 - decay) * current``."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_params: list, current_params: list, _) -> None:
        for ema, current in zip(ema_params, current_params):
            if _inexact(ema):
                ema.lerp_(current, 1 - decay)
            else:
                ema.copy_(ema * decay + current * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> Callable:
    """The in-place running mean of lists of tensors, of which ``num_averaged`` were seen."""

    @no_grad()
    def swa_update(averaged_params: list, current_params: list, num_averaged) -> None:
        for averaged, current in zip(averaged_params, current_params):
            if _inexact(averaged):
                averaged.lerp_(current, 1 / (num_averaged + 1))
            else:
                averaged.add_((current - averaged) / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """The exponential moving average of one tensor: ``decay * ema + (1 - decay) * current``."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable:
    """The running mean of one tensor, of which ``num_averaged`` were seen."""

    @no_grad()
    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(nn.Module):
    """A copy of ``model`` whose parameters (and, with ``use_buffers``, buffers) are the
    average of those ``update_parameters`` was given: by ``avg_fn`` (one tensor at a time) or
    ``multi_avg_fn`` (lists of them), the plain running mean (SWA) by default. Without
    ``use_buffers``, its buffers are copied from the model at each update. Calling it calls
    the averaged copy."""

    def __init__(self, model: nn.Module, device=None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", _factories.tensor(0, device=device))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _state(self, model: nn.Module) -> list[Tensor]:
        """What is averaged of ``model``: its parameters, and its buffers too with
        ``use_buffers``."""
        if self.use_buffers:
            return list(itertools.chain(model.parameters(), model.buffers()))
        return list(model.parameters())

    @no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        """Averages ``model``'s current parameters in (the first call copies them)."""
        averaged = [p.detach() for p in self._state(self.module)]
        current = [p.detach().to(a.device) for a, p in zip(averaged, self._state(model))]
        if int(self.n_averaged) == 0:
            for a, p in zip(averaged, current):
                a.copy_(p)
        elif self.avg_fn is not None:
            for a, p in zip(averaged, current):
                a.copy_(self.avg_fn(a, p, self.n_averaged))
        else:
            (self.multi_avg_fn or get_swa_multi_avg_fn())(averaged, current, self.n_averaged)
        if not self.use_buffers:
            for b_averaged, b_model in zip(self.module.buffers(), model.buffers()):
                b_averaged.detach().copy_(b_model.detach().to(b_averaged.device))
        self.n_averaged += 1


@no_grad()
def update_bn(loader: Iterable, model: nn.Module, device=None) -> None:
    """Recomputes the running statistics of ``model``'s batch norms as the plain average over
    one pass of ``loader`` (the first element of each batch that is a list or tuple), in
    training mode; restores their momentum and the model's mode afterwards."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for input in loader:
        if isinstance(input, (list, tuple)):
            input = input[0]
        if device is not None:
            input = input.to(device)
        model(input)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's learning rate from its current value to ``swa_lr`` (one per group,
    or shared) over ``anneal_epochs`` steps, by a cosine or a linear curve, then holds it."""

    def __init__(self, optimizer: Optimizer, swa_lr, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        for rate, group in zip(_per_group("swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = rate
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_strategy, self.anneal_epochs = anneal_strategy, anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _anneal(self, t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2 if self.anneal_strategy == "cos" else t

    def get_lr(self) -> list[float]:
        # torch's: the learning rate before annealing is recovered from the current one
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self._anneal(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        alpha = self._anneal(max(0, min(1, step / max(1, self.anneal_epochs))))
        lrs = []
        for group in self.optimizer.param_groups:
            swa_lr = group["swa_lr"]
            before = swa_lr if prev_alpha == 1 else (group["lr"] - prev_alpha * swa_lr) / (
                1 - prev_alpha)
            lrs.append(swa_lr * alpha + before * (1 - alpha))
        return lrs

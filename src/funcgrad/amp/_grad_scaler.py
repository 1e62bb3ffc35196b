"""Gradient scaling as torch's ``GradScaler`` does it: the loss is multiplied by a scale so that
small float16 gradients do not flush to zero, the gradients are divided by it before the
optimizer steps, and a step whose gradients overflowed is skipped while the scale backs off.

The scale and the growth tracker are 0-dim funcgrad tensors (float32 and int32), made on the
device of the first output scaled, as torch makes them. Where torch's kernels compute in
float64 and round to float32 (the reciprocal of the scale, its growth and backoff), this module
computes in Python floats and rounds likewise, so the scale follows torch's bit for bit.
"""

from __future__ import annotations

import warnings
from collections import abc, defaultdict
from enum import Enum
from typing import Any

import numpy as np

from .. import _ops, cuda
from .._dtypes import float16, float32, int32
from .._factories import full
from .._grad_mode import no_grad
from .._tensor import Tensor


class OptState(Enum):
    """Where an optimizer is in the iteration: its gradients scaled, unscaled, or stepped."""

    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state() -> dict[str, Any]:
    # A module-level factory rather than a lambda, so that the scaler pickles.
    return {"stage": OptState.READY, "found_inf_per_device": {}}


def _updated_scale(scale: float, tracker: int, found_inf: bool, growth_factor: float,
                   backoff_factor: float, growth_interval: int) -> tuple[float, int]:
    """The scale and growth tracker after one iteration, as torch's ``_amp_update_scale_``."""
    if found_inf:
        return scale * backoff_factor, 0
    if tracker + 1 != growth_interval:
        return scale, tracker + 1
    with np.errstate(over="ignore"):  # a scale that would pass float32's range stays as it is
        grown = np.float32(scale * growth_factor)
    return (float(grown) if np.isfinite(grown) else scale), 0


class GradScaler:
    """Scales losses and unscales gradients for mixed-precision training, as
    ``torch.amp.GradScaler``.

    Each iteration: ``scaler.scale(loss).backward()``, then ``scaler.step(optimizer)`` (which
    unscales the gradients and skips ``optimizer.step()`` if any is inf or NaN), then
    ``scaler.update()`` (which multiplies the scale by ``backoff_factor`` after a skipped step,
    and by ``growth_factor`` after ``growth_interval`` steps in a row without one).

    Args:
        device: the device type of the tensors scaled, ``'cuda'`` or ``'cpu'``; for
            ``'cuda'`` where no GPU is attached, the scaler warns and disables itself.
        init_scale: the first scale.
        growth_factor: what the scale is multiplied by to grow (> 1).
        backoff_factor: what the scale is multiplied by to back off (< 1).
        growth_interval: the number of unskipped steps in a row after which the scale grows.
        enabled: False makes ``scale`` return its input and ``step`` call ``optimizer.step()``.

    Raises:
        AssertionError: torch's, for ``growth_factor <= 1`` or ``backoff_factor >= 1``.

    >>> import funcgrad
    >>> w = funcgrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = funcgrad.optim.SGD([w], lr=0.1)
    >>> scaler = funcgrad.amp.GradScaler("cpu", init_scale=1024.0)
    >>> scaler.scale((w ** 2).sum()).backward(); w.grad
    tensor([ 2048., -4096.])
    >>> scaler.step(opt); scaler.update(); w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled and not cuda.is_available():
            warnings.warn("funcgrad.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale: Tensor | None = None  # made by the first scale()
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker: Tensor | None = None
            self._per_optimizer_states: dict[int, dict[str, Any]] = defaultdict(
                _refresh_per_optimizer_state)

    def _check_scale(self, funcname: str) -> Tensor:
        if self._scale is None:
            raise AssertionError(
                f"Attempted {funcname} but _scale is None.  This may indicate your script did not "
                "use scaler.scale(loss or outputs) earlier in the iteration.")
        return self._scale

    def scale(self, outputs):
        """Multiplies ``outputs`` by the scale, as recorded ops (so ``backward()`` of the result
        gives scaled gradients).

        Args:
            outputs: a Tensor, or a list, tuple or other iterable of them (nested alike).

        Returns:
            The scaled outputs, in the same structure (a lazy ``map`` for other iterables);
            ``outputs`` itself when the scaler is disabled.

        Raises:
            ValueError: torch's, for an element that is neither a Tensor nor an iterable.
        """
        if not self._enabled:
            return outputs

        def apply_scale(val):
            if isinstance(val, Tensor):
                if self._scale is None:
                    self._scale = full((), self._init_scale, dtype=float32, device=val.device)
                    self._growth_tracker = full((), self._init_growth_tracker,
                                                dtype=int32, device=val.device)
                return val * self._scale.to(val.device)
            if isinstance(val, abc.Iterable):
                scaled = map(apply_scale, val)
                return type(val)(scaled) if isinstance(val, (list, tuple)) else scaled
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply_scale(outputs)

    def unscale_(self, optimizer) -> None:
        """Divides the ``.grad`` of ``optimizer``'s parameters by the scale, in place, and notes
        whether any is inf or NaN; call it before inspecting or clipping the gradients (``step``
        calls it otherwise).

        Args:
            optimizer: the optimizer whose parameters' gradients to unscale.

        Raises:
            RuntimeError: torch's, when called twice for ``optimizer`` since the last
                ``update()``, or after ``step(optimizer)``.
            ValueError: torch's, for a float16 gradient.
        """
        if not self._enabled:
            return
        scale = self._check_scale("unscale_")
        optimizer_state = self._per_optimizer_states[id(optimizer)]
        if optimizer_state["stage"] is OptState.UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update().")
        if optimizer_state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # torch takes the reciprocal in float64 (float32 division is inexact on some backends,
        # XLA's on GPU among them) and rounds it to float32; a zero scale gives inf, as there.
        with np.errstate(divide="ignore"):
            inv_scale = full((), 1.0 / np.float64(scale.item()), dtype=float32,
                             device=scale.device)
        optimizer_state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale)
        optimizer_state["stage"] = OptState.UNSCALED

    @staticmethod
    def _unscale_grads_(optimizer, inv_scale: Tensor) -> dict:
        """Multiplies each gradient by ``inv_scale``; returns, per device, 1.0 where a gradient
        there was inf or NaN before (torch's ``found_inf``), else 0.0."""
        grads = [param.grad for group in optimizer.param_groups for param in group["params"]
                 if param.grad is not None]
        if any(grad.dtype == float16 for grad in grads):  # (before any gradient changes)
            raise ValueError("Attempting to unscale FP16 gradients.")
        nonfinite: dict = {}
        with no_grad():
            for grad in grads:
                found = ~_ops.isfinite(grad).all()
                nonfinite[grad.device] = found | nonfinite.get(grad.device, found)
                grad.mul_(inv_scale.to(grad.device))
        return {device: found.float() for device, found in nonfinite.items()}

    def step(self, optimizer, *args, **kwargs):
        """Unscales the gradients (unless ``unscale_`` did) and calls
        ``optimizer.step(*args, **kwargs)`` unless a gradient is inf or NaN.

        Args:
            optimizer: the optimizer to step.
            *args: passed on to ``optimizer.step``.
            **kwargs: passed on to ``optimizer.step``, except ``closure``.

        Returns:
            What ``optimizer.step`` returned, or None when the step was skipped.

        Raises:
            RuntimeError: torch's, for a ``closure`` keyword, or when ``step(optimizer)`` was
                called since the last ``update()``.
            AssertionError: torch's, before any ``scale()``, or when no parameter of
                ``optimizer`` has a gradient.
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale("step")
        optimizer_state = self._per_optimizer_states[id(optimizer)]
        if optimizer_state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if optimizer_state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        found_infs = optimizer_state["found_inf_per_device"].values()
        if not found_infs:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = None
        if not sum(found.item() for found in found_infs):
            retval = optimizer.step(*args, **kwargs)
        optimizer_state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Updates the scale for the next iteration: backs off if any optimizer's step was
        skipped, grows after ``growth_interval`` unskipped steps in a row; or sets
        ``new_scale``. Call it once per iteration, after ``step`` for every optimizer.

        Args:
            new_scale: the new scale, a float or a one-element tensor (its value is copied).

        Raises:
            AssertionError: torch's, before any ``scale()``, when no ``step`` or ``unscale_``
                ran since the last update, or for a ``new_scale`` tensor on another device
                type, with more than one element, or that requires grad.
        """
        if not self._enabled:
            return
        scale = self._check_scale("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                scale.fill_(new_scale)
            else:
                if (new_scale.device.type != self._device or new_scale.numel() != 1
                        or new_scale.requires_grad is True):
                    raise AssertionError(
                        "new_scale should be a float or a 1-element funcgrad.cuda.FloatTensor or "
                        "funcgrad.FloatTensor with requires_grad=False.")
                scale.copy_(new_scale)
        else:
            found_infs = [found.item() for state in self._per_optimizer_states.values()
                          for found in state["found_inf_per_device"].values()]
            if not found_infs:
                raise AssertionError("No inf checks were recorded prior to update.")
            value, tracker = _updated_scale(
                scale.item(), self._growth_tracker.item(), bool(sum(found_infs)),
                self._growth_factor, self._backoff_factor, self._growth_interval)
            scale.fill_(value)
            self._growth_tracker.fill_(tracker)
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def get_scale(self) -> float:
        """The current scale (``init_scale`` before the first ``scale()``; 1.0 if disabled)."""
        if self._enabled:
            return self._init_scale if self._scale is None else self._scale.item()
        return 1.0

    def get_growth_factor(self) -> float:
        """The factor by which the scale grows."""
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        """Sets the factor by which the scale grows.

        Args:
            new_factor: the new growth factor.
        """
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        """The factor by which the scale backs off."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        """Sets the factor by which the scale backs off.

        Args:
            new_factor: the new backoff factor.
        """
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        """The number of unskipped steps in a row after which the scale grows."""
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        """Sets the number of unskipped steps in a row after which the scale grows.

        Args:
            new_interval: the new growth interval.
        """
        self._growth_interval = new_interval

    def _get_growth_tracker(self) -> int:
        if self._enabled:
            return (self._init_growth_tracker if self._growth_tracker is None
                    else self._growth_tracker.item())
        return 0

    def is_enabled(self) -> bool:
        """Whether the scaler scales (False if made disabled, or disabled for want of CUDA)."""
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """The scaler's state as torch's: ``scale``, ``growth_factor``, ``backoff_factor``,
        ``growth_interval`` and ``_growth_tracker``, as Python numbers; empty if disabled.
        Take it after ``update()``."""
        if self._enabled:
            return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                    "backoff_factor": self._backoff_factor,
                    "growth_interval": self._growth_interval,
                    "_growth_tracker": self._get_growth_tracker()}
        return {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores a state from ``state_dict()`` (nothing, if this scaler is disabled).

        Args:
            state_dict: a dict as ``state_dict()`` returns.

        Raises:
            RuntimeError: torch's, for an empty dict (one saved from a disabled scaler).
        """
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(state_dict["_growth_tracker"])

    def __getstate__(self) -> dict[str, Any]:
        """The pickled state: the scale and tracker as numbers, made into tensors again by the
        first ``scale()`` after unpickling.

        Raises:
            AssertionError: torch's, between ``scale()``'s gradients and ``update()``.
        """
        state = self.__dict__.copy()
        if self._enabled:
            if len(self._per_optimizer_states) != 0:
                raise AssertionError("A GradScaler instance may only be pickled at the beginning "
                                     "of an iteration, or at the end after scaler.update().")
            state["_init_scale"] = self.get_scale()
            state["_init_growth_tracker"] = self._get_growth_tracker()
            state["_scale"] = None
            state["_growth_tracker"] = None
        return state

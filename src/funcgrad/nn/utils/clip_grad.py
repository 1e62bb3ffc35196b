"""``funcgrad.nn.utils.clip_grad``: clipping gradients by their norm or value, where torch
keeps it (``funcgrad.nn.utils`` re-exports it)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from ... import _ops
from ..._factories import tensor as _tensor
from ..._grad_mode import no_grad
from ..._tensor import Tensor
from ...linalg import vector_norm

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _grads(parameters) -> list[Tensor]:
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Scales the ``.grad`` of ``parameters`` in place so that their norm, taken together as
    one vector, is at most ``max_norm``; returns that norm from before the scaling.

    Args:
        parameters: a tensor or an iterable of them; those without ``.grad`` are skipped.
        max_norm: the largest norm allowed.
        norm_type: the norm's order (``float('inf')`` for the largest absolute value).
        error_if_nonfinite: raise when the norm is nan or infinite (this reads its value).
        foreach: accepted for torch's signature; funcgrad has one implementation.

    >>> import funcgrad
    >>> w = funcgrad.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> funcgrad.nn.utils.clip_grad_norm_([w], max_norm=1.0)
    tensor(10.)
    >>> w.grad
    tensor([0.6000, 0.8000])
    """
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_norm(parameters: Tensor | Iterable[Tensor], max_norm: float,
                   norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """torch's deprecated name of ``clip_grad_norm_``, with its FutureWarning."""
    warnings.warn("`funcgrad.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`funcgrad.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The ``norm_type``-norm of ``tensors`` taken together as one vector (the norm of their
    norms).

    Raises:
        RuntimeError: torch's, with ``error_if_nonfinite``, for a nan or infinite norm (this
            reads its value).

    >>> import funcgrad
    >>> funcgrad.nn.utils.get_total_norm([funcgrad.tensor([3.0]), funcgrad.tensor([4.0])])
    tensor(5.)
    """
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if not tensors:
        return _tensor(0.0)
    with no_grad():
        total = vector_norm(_ops.stack([vector_norm(t, norm_type) for t in tensors]), norm_type)
    if error_if_nonfinite and not _ops.isfinite(total).item():
        raise RuntimeError(
            f"The total norm of order {float(norm_type)} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                          total_norm: Tensor, foreach=None) -> None:
    """Scales the ``.grad`` of ``parameters`` in place by ``max_norm / total_norm`` where that
    is below 1 (``total_norm`` from ``get_total_norm``, say, over more than these)."""
    grads = _grads(parameters)
    if not grads:
        return
    with no_grad():
        scale = _ops.clamp(float(max_norm) / (total_norm + 1e-6), max=1.0)
        for g in grads:
            g.mul_(scale.to(g.dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach=None) -> None:
    """Clamps each ``.grad`` of ``parameters`` to ``[-clip_value, clip_value]`` in place."""
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)

"""``funcgrad.nn.utils.convert_parameters``: parameters to one vector and back, where torch
keeps it (``funcgrad.nn.utils`` re-exports it)."""

from __future__ import annotations

from collections.abc import Iterable

from ... import _ops
from ..._tensor import Tensor
from .._modules import _typename

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and joined into one vector (recorded, as torch's ``cat``).

    >>> import funcgrad
    >>> funcgrad.nn.utils.parameters_to_vector([funcgrad.ones(2, 2), funcgrad.zeros(1)])
    tensor([1., 1., 1., 1., 0.])
    """
    return _ops.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Gives each parameter, in turn, the next ``numel`` values of ``vec`` as its ``.data``
    (the inverse of ``parameters_to_vector``; unrecorded, as torch's).

    Raises:
        TypeError: torch's, for a ``vec`` that is not a tensor.
        RuntimeError: torch's, for a ``vec`` shorter than the parameters.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected funcgrad.Tensor, but got: {_typename(vec)}")
    start = 0
    for param in parameters:
        count = param.numel()
        param.data = vec[start:start + count].view_as(param).data
        start += count

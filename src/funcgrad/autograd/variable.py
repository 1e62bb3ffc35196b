"""torch's deprecated ``Variable``, for code from before tensors and Variables merged."""

from __future__ import annotations

import warnings

from .._tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, other) -> bool:
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(tensor, requires_grad=False)``: a tensor of ``tensor``'s values (its storage,
    shared), outside any graph, requiring grad as asked. Every tensor is an instance, as in
    torch.

    >>> import funcgrad
    >>> from funcgrad.autograd import Variable
    >>> x = Variable(funcgrad.ones(2), requires_grad=True)
    >>> (x * 3).sum().backward(); x.grad, isinstance(x, Variable)
    (tensor([3., 3.]), True)

    Raises:
        ValueError: torch's, for both ``volatile`` and ``requires_grad`` (``volatile`` does
            nothing, with torch's warning).
    """

    def __new__(cls, data: Tensor, requires_grad: bool = False, volatile: bool = False) -> Tensor:
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with "
                          "funcgrad.no_grad():` instead.", UserWarning, stacklevel=2)
            if requires_grad:
                raise ValueError("Variable can't be volatile and require_grad at the same "
                                 "time!")
        return data.detach().requires_grad_(requires_grad)

"""``funcgrad.distributions.utils``: torch's helpers for writing distributions: parameters
made tensors of one shape, probabilities and logits made from each other, lower triangles
flattened and filled, and ``lazy_property``, which computes a parameter on first use."""

from __future__ import annotations

import functools

from .. import _dtypes, _factories, _ops
from .._factories import tensor
from .._grad_mode import enable_grad
from .._tensor import Tensor
from ..nn import functional as F
from .distribution import eps


class lazy_property:
    """A property computed on first use and then kept as the instance's attribute, computed
    with grad mode on wherever it is first read (as torch's), so a parameter derived from
    one that requires grad (``logits`` from ``probs``) always carries its graph.

    >>> import funcgrad
    >>> from funcgrad.distributions import Bernoulli
    >>> d = Bernoulli(probs=funcgrad.tensor(0.5, requires_grad=True))
    >>> with funcgrad.no_grad():
    ...     d.logits
    tensor(0., grad_fn=<SubBackward0>)
    """

    def __init__(self, wrapped) -> None:
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def broadcast_all(*values) -> tuple[Tensor, ...]:
    """The values as tensors of one broadcast shape; numbers take the dtype of the tensors
    among them (the default float dtype when there are none), as torch's ``broadcast_all``."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = like.dtype if like is not None else _dtypes.get_default_dtype()
    return _ops.broadcast_tensors(*(v if isinstance(v, Tensor) else tensor(v, dtype=dtype)
                                    for v in values))


def clamp_probs(probs: Tensor) -> Tensor:
    """``probs`` clamped to ``[eps, 1 - eps]`` (``eps`` of their dtype), so their logarithms
    and those of their complements are finite."""
    return probs.clamp(min=eps(probs.dtype), max=1 - eps(probs.dtype))


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """The logits of ``probs``: log-odds if ``is_binary``, else log-probabilities (over the
    last dimension's categories)."""
    clamped = clamp_probs(probs)
    return clamped.log() - (-clamped).log1p() if is_binary else clamped.log()


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """The probabilities of ``logits``: the sigmoid of log-odds if ``is_binary``, else the
    softmax over the last dimension."""
    return logits.sigmoid() if is_binary else F.softmax(logits, dim=-1)


def tril_matrix_to_vec(mat, diag: int = 0):
    """The entries of ``mat`` on and below its ``diag``-th diagonal, row by row."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows, cols = _factories.tril_indices(n, n, diag)
    return mat[..., rows, cols]


def vec_to_tril_matrix(vec, diag: int = 0):
    """The square matrix whose entries on and below its ``diag``-th diagonal are ``vec``'s,
    row by row (zeros elsewhere)."""
    # the positive root of n^2 + (1 + 2 diag) n - |diag| (diag + 1) - 2 len(vec) = 0
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1]
                            + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > eps(vec.dtype):
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be "
                         "expressed as the lower triangular part of a square D x D matrix.")
    n = round(n)
    mat = vec.new_zeros(*vec.shape[:-1], n, n)
    rows, cols = _factories.tril_indices(n, n, diag)
    mat[..., rows, cols] = vec
    return mat

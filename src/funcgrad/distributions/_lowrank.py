"""``LowRankMultivariateNormal``: a multivariate normal whose covariance is a low-rank factor
plus a diagonal, computed through the small capacitance matrix as torch does."""

from __future__ import annotations

import math

import jax

from .. import _ops, linalg
from .._factories import eye
from .._tensor import Size, Tensor
from . import constraints
from ._multivariate import batch_mahalanobis
from .distribution import Distribution, draw
from .utils import lazy_property


def batch_mv(matrix: Tensor, vector: Tensor) -> Tensor:
    """``matrix @ vector`` for batches of each (broadcast)."""
    return (matrix @ vector.unsqueeze(-1)).squeeze(-1)


def capacitance_tril(factor: Tensor, diag: Tensor) -> Tensor:
    """The Cholesky factor of the capacitance ``I + W^T D^-1 W`` (``W`` the factor, ``D``
    the diagonal)."""
    wt_dinv = factor.mT / diag.unsqueeze(-2)
    return linalg.cholesky(wt_dinv @ factor + eye(factor.shape[-1], dtype=factor.dtype))


def lowrank_logdet(factor: Tensor, diag: Tensor, capacitance: Tensor) -> Tensor:
    """``log |W W^T + D|`` by the matrix determinant lemma: ``log |C| + log |D|``."""
    return (2 * capacitance.diagonal(dim1=-2, dim2=-1).log().sum(-1)
            + diag.log().sum(-1))


def lowrank_mahalanobis(factor: Tensor, diag: Tensor, x: Tensor, capacitance: Tensor) -> Tensor:
    """``x^T (W W^T + D)^-1 x`` by the Woodbury identity, through the capacitance."""
    wt_dinv_x = batch_mv(factor.mT / diag.unsqueeze(-2), x)
    return (x.pow(2) / diag).sum(-1) - batch_mahalanobis(capacitance, wt_dinv_x)


class LowRankMultivariateNormal(Distribution):
    """The multivariate normal of mean ``loc`` and covariance ``cov_factor @ cov_factor.mT +
    diag(cov_diag)``; ``log_prob`` and ``entropy`` invert and factor only the rank-sized
    capacitance matrix.

    >>> import funcgrad
    >>> from funcgrad.distributions import LowRankMultivariateNormal
    >>> d = LowRankMultivariateNormal(funcgrad.zeros(2), funcgrad.tensor([[1.0], [0.0]]),
    ...                               funcgrad.ones(2))
    >>> d.variance
    tensor([2., 1.])
    """

    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = loc.shape[-1:]
        if cov_factor.ndim < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if cov_factor.shape[-2:-1] != event_shape:
            raise ValueError(
                f"cov_factor must be a batch of matrices with shape {event_shape[0]} x m")
        if cov_diag.shape[-1:] != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape {event_shape}")
        try:
            loc_, self.cov_factor, diag_ = _ops.broadcast_tensors(
                loc.unsqueeze(-1), cov_factor, cov_diag.unsqueeze(-1))
        except (RuntimeError, ValueError) as e:
            raise ValueError(f"Incompatible batch shapes: loc {loc.shape}, cov_factor "
                             f"{cov_factor.shape}, cov_diag {cov_diag.shape}") from e
        self.loc = loc_[..., 0]
        self.cov_diag = diag_[..., 0]
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self._capacitance_tril = capacitance_tril(cov_factor, cov_diag)
        super().__init__(self.loc.shape[:-1], event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> LowRankMultivariateNormal:
        new = type(self).__new__(type(self))
        loc_shape = Size(batch_shape) + self.event_shape
        new.loc = self.loc.expand(*loc_shape)
        new.cov_diag = self.cov_diag.expand(*loc_shape)
        new.cov_factor = self.cov_factor.expand(*loc_shape, self.cov_factor.shape[-1])
        new._unbroadcasted_cov_factor = self._unbroadcasted_cov_factor
        new._unbroadcasted_cov_diag = self._unbroadcasted_cov_diag
        new._capacitance_tril = self._capacitance_tril
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)

    def _matrix_shape(self) -> tuple:
        return (*self._batch_shape, *self._event_shape, *self._event_shape)

    @lazy_property
    def variance(self) -> Tensor:
        return (self._unbroadcasted_cov_factor.pow(2).sum(-1)
                + self._unbroadcasted_cov_diag).expand(*self._extended_shape())

    @lazy_property
    def scale_tril(self) -> Tensor:
        # factored as D^1/2 (I + D^-1/2 W W^T D^-1/2), torch's form, stable for any rank
        n = self._event_shape[0]
        diag_sqrt = self._unbroadcasted_cov_diag.sqrt().unsqueeze(-1)
        dinvsqrt_w = self._unbroadcasted_cov_factor / diag_sqrt
        k = dinvsqrt_w @ dinvsqrt_w.mT + eye(n, dtype=dinvsqrt_w.dtype)
        return (diag_sqrt * linalg.cholesky(k)).expand(*self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        w = self._unbroadcasted_cov_factor
        return (w @ w.mT + self._unbroadcasted_cov_diag.diag_embed()).expand(
            *self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        wt_dinv = self._unbroadcasted_cov_factor.mT / self._unbroadcasted_cov_diag.unsqueeze(-2)
        a = linalg.solve_triangular(self._capacitance_tril, wt_dinv, upper=False)
        precision = self._unbroadcasted_cov_diag.reciprocal().diag_embed() - a.mT @ a
        return precision.expand(*self._matrix_shape())

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        w_shape = (*shape[:-1], self.cov_factor.shape[-1])
        eps_w = draw(jax.random.normal, w_shape, self.loc.dtype)
        eps_d = draw(jax.random.normal, shape, self.loc.dtype)
        return (self.loc + batch_mv(self._unbroadcasted_cov_factor, eps_w)
                + self._unbroadcasted_cov_diag.sqrt() * eps_d)

    def _logdet(self) -> Tensor:
        return lowrank_logdet(self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag,
                              self._capacitance_tril)

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        m = lowrank_mahalanobis(self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag,
                                value - self.loc, self._capacitance_tril)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + self._logdet() + m)

    def entropy(self) -> Tensor:
        h = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._logdet())
        return h if len(self._batch_shape) == 0 else h.expand(*self._batch_shape)

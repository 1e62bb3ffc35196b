"""Distributions over vectors (categorical, Dirichlet, multivariate normal) and
``Independent``, written with funcgrad's ops as torch writes them."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .. import _dtypes, _ops, linalg
from .._factories import arange, eye, full
from .._tensor import Size, Tensor
from ..nn import functional as F
from . import constraints
from .distribution import Distribution, dirichlet_sample, draw
from .exp_family import ExponentialFamily
from .utils import lazy_property, logits_to_probs, probs_to_logits


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """``value`` summed over its last ``dim`` dimensions."""
    if dim == 0:
        return value
    return value.reshape(*value.shape[:-dim], -1).sum(-1)


def _at_least_1d(value: Tensor, name: str) -> None:
    if value.ndim < 1:
        raise ValueError(f"`{name}` parameter must be at least one-dimensional.")


class Categorical(Distribution):
    """A distribution over ``0 .. K-1`` with (unnormalized) ``probs`` or ``logits`` along the
    last dimension; samples are integer tensors (int64 under ``jax_enable_x64``, else int32).

    >>> import funcgrad
    >>> from funcgrad.distributions import Categorical
    >>> Categorical(logits=funcgrad.zeros(4)).log_prob(funcgrad.tensor(2))
    tensor(-1.3863)
    """

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            _at_least_1d(probs, "probs")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            _at_least_1d(logits, "logits")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        super().__init__(self._param.shape[:-1], validate_args=validate_args)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits)

    support = property(lambda self: constraints.integer_interval(0, self._num_events - 1))
    param_shape = property(lambda self: self._param.shape)
    mean = property(lambda self: full(self._extended_shape(), float("nan"),
                                      dtype=self.probs.dtype))
    mode = property(lambda self: self.probs.argmax(dim=-1))
    variance = mean

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The class indices ``0 .. num_events - 1``."""
        return self._enumerated(arange(self._num_events), expand)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        logits = self.logits.detach()
        return draw(lambda key, lg, shape, dtype: jax.random.categorical(key, lg, shape=shape)
                    .astype(dtype), shape, _dtypes.default_int(), logits)

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value = value.to(_dtypes.default_int()).unsqueeze(-1)
        value, log_pmf = _ops.broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self) -> Tensor:
        logits = self.logits.clamp(min=float(jnp.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)


class OneHotCategorical(Distribution):
    """``Categorical`` with samples as one-hot vectors (of the probabilities' dtype)."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    mean = property(lambda self: self._categorical.probs)
    variance = property(lambda self: self.probs * (1 - self.probs))

    @property
    def mode(self) -> Tensor:
        return F.one_hot(self.probs.argmax(-1), self.event_shape[0]).type_as(self.probs)

    def expand(self, batch_shape, _instance=None) -> OneHotCategorical:
        new = type(self).__new__(type(self))
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, new._categorical.batch_shape, self.event_shape,
                              validate_args=False)
        return new

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The one-hot vectors of the classes."""
        n = self.event_shape[0]
        return self._enumerated(eye(n, dtype=self._categorical._param.dtype), expand)

    def sample(self, sample_shape=()) -> Tensor:
        indices = self._categorical.sample(sample_shape)
        return F.one_hot(indices, self.event_shape[0]).type_as(self.probs)

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.max(-1)[1])

    def entropy(self) -> Tensor:
        return self._categorical.entropy()


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """``OneHotCategorical`` with a straight-through ``rsample`` (Bengio et al., 2013): the
    one-hot sample's value, with the gradient of the probabilities."""

    has_rsample = True

    def rsample(self, sample_shape=()) -> Tensor:
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())


class Dirichlet(ExponentialFamily):
    """The Dirichlet distribution of ``concentration`` over the simplex of its last dimension;
    ``rsample`` is differentiable (implicit reparameterization, as torch)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        _at_least_1d(concentration, "concentration")
        self.concentration = concentration
        shape = concentration.shape
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    mean = property(lambda self: self.concentration / self.concentration.sum(-1, True))

    @property
    def mode(self) -> Tensor:
        excess = (self.concentration - 1).clamp(min=0.0)
        mode = excess / excess.sum(-1, True)
        # with every concentration below 1 the density peaks at a corner
        mask = (self.concentration < 1).all(dim=-1)
        mode[mask] = F.one_hot(mode[mask].argmax(dim=-1), excess.shape[-1]).to(mode)
        return mode

    @property
    def variance(self) -> Tensor:
        total = self.concentration.sum(-1, True)
        return self.concentration * (total - self.concentration) / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()) -> Tensor:
        return dirichlet_sample(self.concentration.expand(*self._extended_shape(sample_shape)))

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return (_ops.xlogy(c - 1.0, value).sum(-1) + c.sum(-1).lgamma()
                - c.lgamma().sum(-1))

    _natural_params = property(lambda self: (self.concentration,))

    def _log_normalizer(self, x) -> Tensor:
        return x.lgamma().sum(-1) - x.sum(-1).lgamma()

    def entropy(self) -> Tensor:
        c = self.concentration
        k = c.shape[-1]
        total = c.sum(-1)
        return (c.lgamma().sum(-1) - total.lgamma() - (k - total) * total.digamma()
                - ((c - 1.0) * c.digamma()).sum(-1))


def _precision_to_scale_tril(precision: Tensor) -> Tensor:
    """The Cholesky factor of the inverse of ``precision``, computed as torch does (from the
    factor of the flipped matrix, without inverting ``precision``)."""
    flipped = linalg.cholesky(precision.flip((-2, -1)))
    inverse = flipped.flip((-2, -1)).mT
    identity = eye(precision.shape[-1], dtype=precision.dtype)
    return linalg.solve_triangular(inverse, identity, upper=False)


def batch_mahalanobis(scale_tril: Tensor, x: Tensor) -> Tensor:
    """``x^T (L L^T)^-1 x`` for each vector of ``x`` and factor ``L`` (batches broadcast)."""
    n = x.shape[-1]
    batch = _ops.broadcast_shapes(scale_tril.shape[:-2], x.shape[:-1])
    solved = linalg.solve_triangular(scale_tril.expand(*batch, n, n),
                                     x.expand(*batch, n).unsqueeze(-1), upper=False)
    return solved.squeeze(-1).pow(2).sum(-1)


class _CholeskyParameterized:
    """The matrices of a distribution parameterized by the Cholesky factor
    ``_unbroadcasted_scale_tril``, each made once and broadcast to ``_matrix_shape()``."""

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(*self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        tril = self._unbroadcasted_scale_tril
        return (tril @ tril.mT).expand(*self._matrix_shape())


class MultivariateNormal(_CholeskyParameterized, Distribution):
    """The multivariate normal of mean ``loc`` and one of ``covariance_matrix``,
    ``precision_matrix`` or ``scale_tril`` (a lower Cholesky factor of the covariance)."""

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = {"covariance_matrix": covariance_matrix, "precision_matrix": precision_matrix,
                 "scale_tril": scale_tril}
        given = {k: v for k, v in given.items() if v is not None}
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        ((name, matrix),) = given.items()
        if matrix.ndim < 2:
            what = "scale_tril matrix" if name == "scale_tril" else name  # (torch's words)
            raise ValueError(f"{what} must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        batch = Size(_ops.broadcast_shapes(matrix.shape[:-2], loc.shape[:-1]))
        n = loc.shape[-1]
        setattr(self, name, matrix.expand(*batch, *matrix.shape[-2:]))
        self.loc = loc.expand(*batch, n)
        super().__init__(batch, (n,), validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = linalg.cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(matrix)

    def _matrix_shape(self) -> tuple:
        return (*self._batch_shape, *self._event_shape, *self._event_shape)

    @lazy_property
    def precision_matrix(self) -> Tensor:
        tril = self._unbroadcasted_scale_tril
        identity = eye(tril.shape[-1], dtype=tril.dtype)
        inverse = linalg.solve_triangular(tril, identity, upper=False)
        return (inverse.mT @ inverse).expand(*self._matrix_shape())

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)

    @property
    def variance(self) -> Tensor:
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(*self._extended_shape())

    def expand(self, batch_shape, _instance=None) -> MultivariateNormal:
        new = type(self).__new__(type(self))
        batch_shape = Size(batch_shape)
        for name, value in self.__dict__.items():
            if isinstance(value, Tensor) and name != "_unbroadcasted_scale_tril":
                value = value.expand(*batch_shape, *value.shape[len(self._batch_shape):])
            new.__dict__[name] = value
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        noise = draw(jax.random.normal, shape, self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ noise.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self) -> Tensor:
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        m = batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self) -> Tensor:
        h = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h if len(self._batch_shape) == 0 else h.expand(*self._batch_shape)


class Independent(Distribution):
    """``base_distribution`` with its last ``reinterpreted_batch_ndims`` batch dimensions read
    as event dimensions: ``log_prob`` sums over them.

    >>> import funcgrad
    >>> from funcgrad.distributions import Independent, Normal
    >>> Independent(Normal(funcgrad.zeros(3), 1.0), 1)
    Independent(Normal(loc: funcgrad.Size([3]), scale: funcgrad.Size([3])), 1)
    """

    arg_constraints: dict = {}

    def __init__(self, base_distribution, reinterpreted_batch_ndims: int, validate_args=None):
        batch = base_distribution.batch_shape
        if reinterpreted_batch_ndims > len(batch):
            raise ValueError(f"Expected reinterpreted_batch_ndims <= "
                             f"len(base_distribution.batch_shape), actual "
                             f"{reinterpreted_batch_ndims} vs {len(batch)}")
        shape = batch + base_distribution.event_shape
        event_dim = reinterpreted_batch_ndims + len(base_distribution.event_shape)
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        super().__init__(shape[:len(shape) - event_dim], shape[len(shape) - event_dim:],
                         validate_args=validate_args)

    has_rsample = property(lambda self: self.base_dist.has_rsample)
    support = property(lambda self: constraints.independent(self.base_dist.support,
                                                            self.reinterpreted_batch_ndims))
    mean = property(lambda self: self.base_dist.mean)
    mode = property(lambda self: self.base_dist.mode)
    variance = property(lambda self: self.base_dist.variance)

    def expand(self, batch_shape, _instance=None) -> Independent:
        event = self.event_shape[:self.reinterpreted_batch_ndims]
        return Independent(self.base_dist.expand(Size(batch_shape) + event),
                           self.reinterpreted_batch_ndims, validate_args=False)

    def sample(self, sample_shape=()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value) -> Tensor:
        return sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self) -> Tensor:
        return sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_dist}, {self.reinterpreted_batch_ndims})"

"""Distributions over matrices: ``LKJCholesky`` (Cholesky factors of correlation matrices)
and ``Wishart`` (positive-definite matrices), as torch's."""

from __future__ import annotations

import math
import warnings

import jax

from .. import _ops, linalg
from .._factories import arange, eye, tensor, tril_indices
from .._grad_mode import no_grad
from .._tensor import Size, Tensor
from . import constraints
from ._multivariate import _CholeskyParameterized, _precision_to_scale_tril
from ._univariate import Beta, Chi2
from .distribution import Distribution, _read_bool, draw, eps, tiny
from .exp_family import ExponentialFamily
from .utils import broadcast_all, lazy_property

_LOG_2 = math.log(2)


class LKJCholesky(Distribution):
    """The LKJ distribution of the lower Cholesky factors of ``dim`` x ``dim`` correlation
    matrices, of ``concentration`` (1: uniform over correlation matrices); sampled by the
    onion method, as torch (no ``rsample``).

    >>> import funcgrad
    >>> from funcgrad.distributions import LKJCholesky
    >>> LKJCholesky(3, 0.5).event_shape
    funcgrad.Size([3, 3])
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = arange(self.dim - 1, dtype=self.concentration.dtype)
        offset = _ops.cat([offset.new_zeros((1,)), offset])
        self._beta = Beta(offset + 0.5, marginal_conc.unsqueeze(-1) - 0.5 * offset)
        super().__init__(self.concentration.shape, (dim, dim), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> LKJCholesky:
        new = type(self).__new__(type(self))
        batch_shape = Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(*batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            shape = self._extended_shape(sample_shape)
            u_normal = draw(jax.random.normal, shape, y.dtype).tril(-1)
            u_hypersphere = u_normal / u_normal.norm(dim=-1, keepdim=True)
            u_hypersphere[..., 0, :] = 0.0  # (the first row is 0 / 0)
            w = y.sqrt() * u_hypersphere
            diag = (1 - (w ** 2).sum(-1)).clamp(min=tiny(w.dtype)).sqrt()
            return w + diag.diag_embed()

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = arange(2, self.dim + 1)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = (order * diag_elems.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = alpha.lgamma() * dm1
        numerator = (alpha - 0.5).mvlgamma(dm1)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        return unnormalized_log_pdf - (pi_constant + numerator - denominator)


def _mvdigamma(x: Tensor, p: int) -> Tensor:
    """The multivariate digamma function of dimension ``p``."""
    if _read_bool(x > (p - 1) / 2) is False:
        raise AssertionError("Wrong domain for multivariate digamma function.")
    return (x.unsqueeze(-1) - arange(p, dtype=x.dtype).div(2).expand(*x.shape, -1)
            ).digamma().sum(-1)


class Wishart(_CholeskyParameterized, ExponentialFamily):
    """The Wishart distribution of ``df`` degrees of freedom and one of ``covariance_matrix``,
    ``precision_matrix`` or ``scale_tril``; ``rsample`` by the Bartlett decomposition (a
    draw that is not positive definite is drawn again, up to ``max_try_correction`` times,
    with a warning).

    >>> import funcgrad
    >>> from funcgrad.distributions import Wishart
    >>> Wishart(funcgrad.tensor(4.0), funcgrad.eye(2)).mean
    tensor([[4., 0.],
            [0., 4.]])
    """

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self) -> dict:
        return {"covariance_matrix": constraints.positive_definite,
                "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky,
                "df": constraints.greater_than(self.event_shape[-1] - 1)}

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        given = [p for p in (covariance_matrix, precision_matrix, scale_tril) if p is not None]
        if len(given) != 1:
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or "
                                 "scale_tril may be specified.")
        param = given[0]
        if param.ndim < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if isinstance(df, Tensor):
            batch_shape = Size(_ops.broadcast_shapes(param.shape[:-2], df.shape))
            self.df = df.expand(*batch_shape)
        else:
            batch_shape = Size(param.shape[:-2])
            self.df = tensor(df, dtype=param.dtype)
        event_shape = param.shape[-2:]
        p = event_shape[-1]
        if _read_bool(self.df > p - 1) is False:
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        name = ("scale_tril" if scale_tril is not None else "covariance_matrix"
                if covariance_matrix is not None else "precision_matrix")
        setattr(self, name, param.expand(*batch_shape, p, p))
        if _read_bool(self.df >= p) is False:
            warnings.warn("Low df values detected. Singular samples are highly likely to occur "
                          "for ndim - 1 < df < ndim.", stacklevel=2)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        self._batch_dims = [-(x + 1) for x in range(len(self._batch_shape))]
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._chi2()

    def _chi2(self) -> Chi2:
        """The chi-squared distributions of the Bartlett factor's squared diagonal."""
        p = self._event_shape[-1]
        offsets = arange(p, dtype=self._unbroadcasted_scale_tril.dtype)
        return Chi2(self.df.unsqueeze(-1) - offsets.expand(*self._batch_shape, -1))

    def expand(self, batch_shape, _instance=None) -> Wishart:
        new = type(self).__new__(type(self))
        batch_shape = Size(batch_shape)
        cov_shape = batch_shape + self.event_shape
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(*cov_shape)
        new.df = self.df.expand(*batch_shape)
        new._batch_dims = [-(x + 1) for x in range(len(batch_shape))]
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(*cov_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._dist_chi2 = new._chi2()
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self) -> tuple:
        return (*self._batch_shape, *self._event_shape)

    @lazy_property
    def precision_matrix(self) -> Tensor:
        identity = eye(self._event_shape[-1], dtype=self._unbroadcasted_scale_tril.dtype)
        return linalg.cholesky_solve(identity, self._unbroadcasted_scale_tril).expand(
            *self._matrix_shape())

    mean = property(lambda self: self.df.view(*self._batch_shape, 1, 1)
                    * self.covariance_matrix)

    @property
    def mode(self) -> Tensor:
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor[factor <= 0] = math.nan
        return factor.view(*self._batch_shape, 1, 1) * self.covariance_matrix

    @property
    def variance(self) -> Tensor:
        v = self.covariance_matrix
        diag_v = v.diagonal(dim1=-2, dim2=-1)
        return self.df.view(*self._batch_shape, 1, 1) * (
            v.pow(2) + diag_v.unsqueeze(-1) * diag_v.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape=()) -> Tensor:
        p = self._event_shape[-1]
        noise = self._dist_chi2.rsample(sample_shape).sqrt().clamp(
            min=eps(self.df.dtype)).diag_embed(dim1=-2, dim2=-1)
        i, j = tril_indices(p, p, -1)
        noise[..., i, j] = draw(jax.random.normal,
                                (*Size(sample_shape), *self._batch_shape, p * (p - 1) // 2),
                                noise.dtype)
        chol = self._unbroadcasted_scale_tril @ noise
        return chol @ chol.mT

    def _singular(self, sample: Tensor) -> Tensor:
        """Per sample (over the batch): whether some matrix is not positive definite."""
        singular = ~self.support.check(sample)
        return singular.amax(self._batch_dims) if self._batch_shape else singular

    def rsample(self, sample_shape=(), max_try_correction=None) -> Tensor:
        max_try_correction = 10 if max_try_correction is None else max_try_correction
        sample_shape = Size(sample_shape)
        sample = self._bartlett_sampling(sample_shape)
        is_singular = self._singular(sample)
        # (inside a JAX trace the check cannot be read: the draw is kept as it is)
        if _read_bool(~is_singular) is False:
            warnings.warn("Singular sample detected.", stacklevel=2)
            # Each try draws every sample again and keeps the new draw where the old one is
            # singular. (torch draws only as many as are singular, into an index_put: a shape
            # that changes with every try, and each new shape would compile every op of the
            # draw again. So a corrected sample's grad_fn is WhereBackward0, torch's
            # IndexPutBackward0.)
            per_sample = (*is_singular.shape, *(1,) * (sample.dim() - is_singular.dim()))
            for _ in range(max_try_correction):
                sample_new = self._bartlett_sampling(sample_shape)
                sample = _ops.where(is_singular.view(per_sample), sample_new, sample)
                is_singular = is_singular & self._singular(sample_new)
                if not bool(is_singular.any()):
                    break
        return sample

    def _half_log_det(self) -> Tensor:
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        nu, p = self.df, self._event_shape[-1]
        return (-nu * (p * _LOG_2 / 2 + self._half_log_det())
                - (nu / 2).mvlgamma(p)
                + (nu - p - 1) / 2 * linalg.slogdet(value).logabsdet
                - linalg.cholesky_solve(value, self._unbroadcasted_scale_tril).diagonal(
                    dim1=-2, dim2=-1).sum(-1) / 2)

    def entropy(self) -> Tensor:
        nu, p = self.df, self._event_shape[-1]
        return ((p + 1) * (p * _LOG_2 / 2 + self._half_log_det())
                + (nu / 2).mvlgamma(p)
                - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p)
                + nu * p / 2)

    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (self.df - p - 1) / 2

    def _log_normalizer(self, x, y) -> Tensor:
        p = self._event_shape[-1]
        return ((y + (p + 1) / 2) * (-linalg.slogdet(-2 * x).logabsdet + _LOG_2 * p)
                + (y + (p + 1) / 2).mvlgamma(p))

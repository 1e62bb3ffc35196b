"""Distributions over scalars (``event_shape == ()``), written with funcgrad's ops as torch
writes them, so values, gradients and ``grad_fn`` names are torch's."""

from __future__ import annotations

import functools
import math

import jax

from .. import _ops
from .._factories import arange, full, ones_like, zeros_like
from .._grad_mode import no_grad
from .._graph import Op, apply
from .._tensor import Size, Tensor
from ..nn import functional as F
from . import constraints
from ._multivariate import Dirichlet
from .distribution import (
    Distribution,
    _read_bool,
    draw,
    eps,
    standard_gamma,
    tiny,
)
from .exp_family import ExponentialFamily
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits

EULER = 0.57721566490153286060  # the Euler-Mascheroni constant


class _Scalar(Distribution):
    """A distribution whose parameters, broadcast together, give its batch shape."""

    def __init__(self, validate_args, **params):
        tensors = broadcast_all(*params.values())
        self.__dict__.update(zip(params, tensors))
        super().__init__(tensors[0].shape, validate_args=validate_args)

    def _checked(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return value


class Normal(_Scalar, ExponentialFamily):
    """The normal distribution of mean ``loc`` and standard deviation ``scale``.

    >>> import funcgrad
    >>> from funcgrad.distributions import Normal
    >>> Normal(0.0, 1.0).log_prob(funcgrad.tensor(1.0))
    tensor(-1.4189)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        super().__init__(validate_args, loc=loc, scale=scale)

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)
    stddev = property(lambda self: self.scale)
    variance = property(lambda self: self.stddev.pow(2))

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return self.loc + draw(jax.random.normal, shape, self.loc.dtype) * self.scale

    def log_prob(self, value) -> Tensor:
        value = self._checked(value)
        var = self.scale ** 2
        return (-((value - self.loc) ** 2) / (2 * var) - self.scale.log()
                - math.log(math.sqrt(2 * math.pi)))

    def cdf(self, value) -> Tensor:
        value = self._checked(value)
        return 0.5 * (1 + ((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)).erf())

    def icdf(self, value) -> Tensor:
        return self.loc + self.scale * (2 * value - 1).erfinv() * math.sqrt(2)

    _mean_carrier_measure = 0
    _natural_params = property(lambda self: (self.loc / self.scale.pow(2),
                                             -0.5 * self.scale.pow(2).reciprocal()))

    def _log_normalizer(self, x, y) -> Tensor:
        return -0.25 * x.pow(2) / y + 0.5 * (-math.pi / y).log()

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()


class LogNormal(_Scalar):
    """The distribution of ``exp(x)`` for ``x ~ Normal(loc, scale)``."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        # torch builds it as a TransformedDistribution, whose repr names no parameter
        self.base_dist = Normal(loc, scale, validate_args=validate_args)
        Distribution.__init__(self, self.base_dist.batch_shape, validate_args=validate_args)

    loc = property(lambda self: self.base_dist.loc)
    scale = property(lambda self: self.base_dist.scale)
    mean = property(lambda self: (self.loc + self.scale.pow(2) / 2).exp())
    mode = property(lambda self: (self.loc - self.scale.square()).exp())

    @property
    def variance(self) -> Tensor:
        scale_sq = self.scale.pow(2)
        return scale_sq.expm1() * (2 * self.loc + scale_sq).exp()

    def expand(self, batch_shape, _instance=None) -> LogNormal:
        new = type(self).__new__(type(self))
        new.base_dist = self.base_dist.expand(batch_shape)
        Distribution.__init__(new, new.base_dist.batch_shape, validate_args=False)
        return new

    def rsample(self, sample_shape=()) -> Tensor:
        return self.base_dist.rsample(sample_shape).exp()

    def log_prob(self, value) -> Tensor:
        x = self._checked(value).log()
        return -x + self.base_dist.log_prob(x)

    def cdf(self, value) -> Tensor:
        return self.base_dist.cdf(self._checked(value).log())

    def icdf(self, value) -> Tensor:
        return self.base_dist.icdf(value).exp()

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() + self.loc

    _checked = _Scalar._checked


class Uniform(_Scalar):
    """The uniform distribution on ``[low, high)``."""

    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        super().__init__(validate_args, low=low, high=high)

    @property
    def arg_constraints(self) -> dict:
        return {"low": constraints.less_than(self.high),
                "high": constraints.greater_than(self.low)}

    support = property(lambda self: constraints.interval(self.low, self.high))
    mean = property(lambda self: (self.high + self.low) / 2)
    mode = property(lambda self: float("nan") * self.high)
    stddev = property(lambda self: (self.high - self.low) / 12 ** 0.5)
    variance = property(lambda self: (self.high - self.low).pow(2) / 12)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return self.low + draw(jax.random.uniform, shape, self.low.dtype) * (self.high - self.low)

    def log_prob(self, value) -> Tensor:
        value = self._checked(value)
        lb = (self.low <= value).type_as(self.low)
        ub = (self.high > value).type_as(self.low)
        return (lb * ub).log() - (self.high - self.low).log()

    def cdf(self, value) -> Tensor:
        value = self._checked(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value) -> Tensor:
        return value * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()


class Exponential(_Scalar, ExponentialFamily):
    """The exponential distribution of rate ``rate`` (mean ``1 / rate``)."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        super().__init__(validate_args, rate=rate)

    mean = property(lambda self: self.rate.reciprocal())
    mode = property(lambda self: zeros_like(self.rate))
    stddev = property(lambda self: self.rate.reciprocal())
    variance = property(lambda self: self.rate.pow(-2))

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return draw(jax.random.exponential, shape, self.rate.dtype) / self.rate

    def log_prob(self, value) -> Tensor:
        value = self._checked(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value) -> Tensor:
        value = self._checked(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value) -> Tensor:
        return -(-value).log1p() / self.rate

    _mean_carrier_measure = 0
    _natural_params = property(lambda self: (-self.rate,))

    def _log_normalizer(self, x) -> Tensor:
        return -(-x).log()

    def entropy(self) -> Tensor:
        return 1.0 - self.rate.log()


class Laplace(_Scalar):
    """The Laplace distribution of location ``loc`` and scale ``scale``."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        super().__init__(validate_args, loc=loc, scale=scale)

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)
    stddev = property(lambda self: 2 ** 0.5 * self.scale)
    variance = property(lambda self: 2 * self.scale.pow(2))

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        dtype = self.loc.dtype
        u = draw(functools.partial(jax.random.uniform, minval=eps(dtype) - 1, maxval=1),
                 shape, dtype)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value) -> Tensor:
        value = self._checked(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value) -> Tensor:
        value = self._checked(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * (
            -(value - self.loc).abs() / self.scale).expm1()

    def icdf(self, value) -> Tensor:
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> Tensor:
        return 1 + (2 * self.scale).log()


# The regularized lower incomplete gamma function: JAX differentiates it in both arguments,
# where torch's backward has no derivative in the first (the concentration).
GAMMAINC = Op("gammainc", jax.scipy.special.gammainc, "IgammaBackward0")


class Gamma(_Scalar, ExponentialFamily):
    """The gamma distribution of shape ``concentration`` and inverse scale ``rate``;
    ``rsample`` is differentiable in both (implicit reparameterization, as torch)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        super().__init__(validate_args, concentration=concentration, rate=rate)

    mean = property(lambda self: self.concentration / self.rate)
    mode = property(lambda self: ((self.concentration - 1) / self.rate).clamp(min=0))
    variance = property(lambda self: self.concentration / self.rate.pow(2))

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        value = standard_gamma(self.concentration.expand(*shape)) / self.rate.expand(*shape)
        # torch clamps the value (not its graph) away from 0, where log_prob is -inf
        value.detach().clamp_(min=tiny(value.dtype))
        return value

    def log_prob(self, value) -> Tensor:
        value = self._checked(value)
        return (_ops.xlogy(self.concentration, self.rate)
                + _ops.xlogy(self.concentration - 1, value)
                - self.rate * value - self.concentration.lgamma())

    def cdf(self, value) -> Tensor:
        value = self._checked(value)
        return apply(GAMMAINC, self.concentration, self.rate * value)

    _mean_carrier_measure = 0
    _natural_params = property(lambda self: (self.concentration - 1, -self.rate))

    def _log_normalizer(self, x, y) -> Tensor:
        return (x + 1).lgamma() + (x + 1) * (-y.reciprocal()).log()

    def entropy(self) -> Tensor:
        c = self.concentration
        return c - self.rate.log() + c.lgamma() + (1.0 - c) * c.digamma()


class Beta(ExponentialFamily):
    """The beta distribution on ``[0, 1]``, of ``concentration1`` (alpha) and
    ``concentration0`` (beta); computed, as in torch, as a two-class Dirichlet."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        c1, c0 = broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(_ops.stack([c1, c0], -1), validate_args=validate_args)
        super().__init__(self._dirichlet.batch_shape, validate_args=validate_args)

    concentration1 = property(lambda self: self._dirichlet.concentration[..., 0])
    concentration0 = property(lambda self: self._dirichlet.concentration[..., 1])
    mean = property(lambda self: self.concentration1 / (self.concentration1
                                                         + self.concentration0))
    mode = property(lambda self: self._dirichlet.mode[..., 0])

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def expand(self, batch_shape, _instance=None) -> Beta:
        new = type(self).__new__(type(self))
        new._dirichlet = self._dirichlet.expand(batch_shape)
        Distribution.__init__(new, new._dirichlet.batch_shape, validate_args=False)
        return new

    def rsample(self, sample_shape=()) -> Tensor:
        return self._dirichlet.rsample(sample_shape).select(-1, 0)

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self._dirichlet.log_prob(_ops.stack([value, 1.0 - value], -1))

    _natural_params = property(lambda self: (self.concentration1, self.concentration0))

    def _log_normalizer(self, x, y) -> Tensor:
        return x.lgamma() + y.lgamma() - (x + y).lgamma()

    def entropy(self) -> Tensor:
        return self._dirichlet.entropy()


class Poisson(_Scalar, ExponentialFamily):
    """The Poisson distribution of mean ``rate``; samples are floats, as in torch."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        super().__init__(validate_args, rate=rate)

    mean = property(lambda self: self.rate)
    mode = property(lambda self: self.rate.floor())
    variance = property(lambda self: self.rate)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        rate = self.rate.detach().expand(*shape)
        return draw(lambda key, lam, shape, dtype: jax.random.poisson(key, lam, shape)
                    .astype(dtype), shape, rate.dtype, rate)

    _natural_params = property(lambda self: (self.rate.log(),))

    def _log_normalizer(self, x) -> Tensor:
        return x.exp()

    def log_prob(self, value) -> Tensor:
        value = self._checked(value)
        return _ops.xlogy(value, self.rate) - self.rate - (value + 1).lgamma()


class _Trials(Distribution):
    """A distribution of ``probs`` (or ``logits``, log-odds) of success per trial: each is
    computed from the other on first use."""

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)

    def _param(self) -> Tensor:
        """The parameter given: ``probs`` or ``logits``."""
        return self.probs if "probs" in self.__dict__ else self.logits

    def _expanded(self, batch_shape):
        """A new distribution of this type with the parameter given (``probs`` or
        ``logits``) expanded to ``batch_shape``; the caller copies what else it keeps."""
        new = type(self).__new__(type(self))
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(*batch_shape))
        Distribution.__init__(new, Size(batch_shape), validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _given(self, probs, logits, *total_count) -> Tensor:
        """Keeps the one of ``probs`` and ``logits`` given, as a tensor (broadcast with the
        ``total_count`` of trials, if given, which is kept in its dtype), and returns it."""
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        name, value = ("probs", probs) if probs is not None else ("logits", logits)
        *counts, param = broadcast_all(*total_count, value)
        setattr(self, name, param)
        if counts:
            self.total_count = counts[0].type_as(param)
        return param


class Bernoulli(_Trials, ExponentialFamily):
    """The Bernoulli distribution of ``probs`` (or ``logits``, log-odds) of drawing 1."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        super().__init__(self._given(probs, logits).shape, validate_args=validate_args)

    mean = property(lambda self: self.probs)
    variance = property(lambda self: self.probs * (1 - self.probs))

    @property
    def mode(self) -> Tensor:
        mode = (self.probs >= 0.5).type_as(self.probs)
        return _ops.where(self.probs == 0.5, float("nan"), mode)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        probs = self.probs.detach().expand(*shape)
        return draw(lambda key, p, shape, dtype: jax.random.bernoulli(key, p, shape)
                    .astype(dtype), shape, probs.dtype, probs)

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = _ops.broadcast_tensors(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    _mean_carrier_measure = 0
    _natural_params = property(lambda self: (self.probs.logit(),))

    def _log_normalizer(self, x) -> Tensor:
        return x.exp().log1p()

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The values 0 and 1."""
        return self._enumerated(arange(2, dtype=self._param().dtype), expand)



class Binomial(_Trials):
    """The number of successes in ``total_count`` independent trials, each a success with
    ``probs`` (or log-odds ``logits``); samples are floats, as in torch.

    >>> import funcgrad
    >>> funcgrad.distributions.Binomial(4, probs=funcgrad.tensor(0.5)).log_prob(
    ...     funcgrad.tensor(2.0)).exp()
    tensor(0.3750)
    """

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        super().__init__(self._given(probs, logits, total_count).shape,
                         validate_args=validate_args)

    support = property(lambda self: constraints.integer_interval(0, self.total_count))
    mean = property(lambda self: self.total_count * self.probs)
    variance = property(lambda self: self.total_count * self.probs * (1 - self.probs))

    @property
    def mode(self) -> Tensor:
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        n, p = self.total_count.detach().expand(*shape), self.probs.detach().expand(*shape)
        return draw(lambda key, n, p, shape, dtype: jax.random.binomial(key, n, p, shape)
                    .astype(dtype), shape, p.dtype, n, p)

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        # k log p + (n - k) log(1 - p) = k logit - n max(logit, 0) - n log1p(e^-|logit|),
        # torch's form, stable for logits of either sign.
        normalizer = (n * (logits.clamp(min=0) + logits - logits.clamp(max=0)) / 2
                      + n * (-logits.abs()).exp().log1p() - (n + 1).lgamma())
        return value * logits - (value + 1).lgamma() - (n - value + 1).lgamma() - normalizer

    def entropy(self) -> Tensor:
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The values ``0 .. total_count`` (one total count for the whole batch only)."""
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError(
                "Inhomogeneous total count not supported by `enumerate_support`.")
        return self._enumerated(arange(1 + total_count, dtype=self._param().dtype), expand)


class NegativeBinomial(_Trials):
    """The number of successes before ``total_count`` failures, each trial a success with
    ``probs`` (or log-odds ``logits``); samples are floats, drawn as a gamma-Poisson
    mixture, as in torch.

    >>> import funcgrad
    >>> funcgrad.distributions.NegativeBinomial(2.0, probs=funcgrad.tensor(0.5)).mean
    tensor(2.)
    """

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        super().__init__(self._given(probs, logits, total_count).shape,
                         validate_args=validate_args)

    mean = property(lambda self: self.total_count * self.logits.exp())
    mode = property(lambda self: ((self.total_count - 1) * self.logits.exp()).floor()
                    .clamp(min=0.0))
    variance = property(lambda self: self.mean / (-self.logits).sigmoid())

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            rate = Gamma(self.total_count, (-self.logits).exp(),
                         validate_args=False).sample(sample_shape)
            return Poisson(rate, validate_args=False).sample()

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        unnormalized = n * F.logsigmoid(-self.logits) + value * F.logsigmoid(self.logits)
        normalization = -(n + value).lgamma() + (1.0 + value).lgamma() + n.lgamma()
        # (the limit where total_count + value is 0: lgamma's pole cancels)
        normalization = normalization.masked_fill(n + value == 0.0, 0.0)
        return unnormalized - normalization


class Cauchy(_Scalar):
    """The Cauchy distribution of median ``loc`` and half width ``scale`` (no mean: nan; no
    variance: inf)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        super().__init__(validate_args, loc=loc, scale=scale)

    mean = property(lambda self: full(self._extended_shape(), math.nan, dtype=self.loc.dtype))
    mode = property(lambda self: self.loc)
    variance = property(lambda self: full(self._extended_shape(), math.inf,
                                          dtype=self.loc.dtype))

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return self.loc + draw(jax.random.cauchy, shape, self.loc.dtype) * self.scale

    def log_prob(self, value) -> Tensor:
        value = self._checked(value)
        return (-math.log(math.pi) - self.scale.log()
                - (((value - self.loc) / self.scale) ** 2).log1p())

    def cdf(self, value) -> Tensor:
        value = self._checked(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value) -> Tensor:
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + self.scale.log()


class Gumbel(_Scalar):
    """The Gumbel (type I extreme value) distribution of location ``loc`` and scale
    ``scale``. As torch's, a transformed uniform: samples, ``cdf`` and ``icdf`` go through
    ``Uniform(tiny, 1 - eps)``."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        super().__init__(validate_args, loc=loc, scale=scale)

    mean = property(lambda self: self.loc + self.scale * EULER)
    mode = property(lambda self: self.loc)
    stddev = property(lambda self: (math.pi / math.sqrt(6)) * self.scale)
    variance = property(lambda self: self.stddev.pow(2))

    def _uniform_bounds(self) -> tuple[float, float]:
        return tiny(self.loc.dtype), 1 - eps(self.loc.dtype)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        low, high = self._uniform_bounds()
        u = draw(functools.partial(jax.random.uniform, minval=low, maxval=high), shape,
                 self.loc.dtype)
        return self.loc + (-self.scale) * (-u.log()).log()

    def log_prob(self, value) -> Tensor:
        value = self._checked(value)
        y = (self.loc - value) / self.scale
        return (y - y.exp()) - self.scale.log()

    def cdf(self, value) -> Tensor:
        value = self._checked(value)
        low, high = self._uniform_bounds()
        u = (-((value - self.loc) / -self.scale).exp()).exp()
        # the uniform's cdf, then torch's monotonizing (both transforms decrease: a sign of 1)
        return (((u - low) / (high - low)).clamp(min=0, max=1) - 0.5) + 0.5

    def icdf(self, value) -> Tensor:
        low, high = self._uniform_bounds()
        u = value * (high - low) + low  # the uniform's icdf
        return self.loc + (-self.scale) * (-u.log()).log()

    def entropy(self) -> Tensor:
        return self.scale.log() + (1 + EULER)


class _Half(Distribution):
    """The distribution of ``|x|`` for ``x`` of a distribution symmetric about 0, of scale
    ``scale`` (``_base``)."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _base: type

    def __init__(self, scale, validate_args=None):
        # torch builds it as a TransformedDistribution: its repr names no parameter
        self.base_dist = self._base(0.0, scale, validate_args=False)
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)

    scale = property(lambda self: self.base_dist.scale)
    mode = property(lambda self: zeros_like(self.scale))

    def expand(self, batch_shape, _instance=None) -> _Half:
        new = type(self).__new__(type(self))
        new.base_dist = self.base_dist.expand(batch_shape)
        Distribution.__init__(new, new.base_dist.batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()) -> Tensor:
        return self.base_dist.rsample(sample_shape).abs()

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return _ops.where(value >= 0, log_prob, -math.inf)

    def cdf(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob) -> Tensor:
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() - math.log(2)


class HalfNormal(_Half):
    """The distribution of ``|x|`` for ``x ~ Normal(0, scale)``."""

    _base = Normal
    mean = property(lambda self: self.scale * math.sqrt(2 / math.pi))
    variance = property(lambda self: self.scale.pow(2) * (1 - 2 / math.pi))


class HalfCauchy(_Half):
    """The distribution of ``|x|`` for ``x ~ Cauchy(0, scale)`` (no mean or variance: inf)."""

    _base = Cauchy
    mean = property(lambda self: full(self._extended_shape(), math.inf, dtype=self.scale.dtype))
    variance = mean


class Chi2(Gamma):
    """The chi-squared distribution of ``df`` degrees of freedom: ``Gamma(df / 2, 1 / 2)``."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    df = property(lambda self: self.concentration * 2)


class StudentT(_Scalar):
    """Student's t distribution of ``df`` degrees of freedom, location ``loc`` and scale
    ``scale`` (mean nan for ``df <= 1``; variance inf for ``1 < df <= 2``, else nan)."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        super().__init__(validate_args, df=df, loc=loc, scale=scale)

    mode = property(lambda self: self.loc)

    @property
    def mean(self) -> Tensor:
        m = self.loc.clone()
        m[self.df <= 1] = math.nan
        return m

    @property
    def variance(self) -> Tensor:
        m = self.df.clone()
        finite = self.df > 2
        m[finite] = self.scale[finite].pow(2) * self.df[finite] / (self.df[finite] - 2)
        m[(self.df <= 2) & (self.df > 1)] = math.inf
        m[self.df <= 1] = math.nan
        return m

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        x = draw(jax.random.normal, shape, self.df.dtype)
        z = Chi2(self.df, validate_args=False).rsample(sample_shape)
        return self.loc + self.scale * (x * (z / self.df).rsqrt())

    def log_prob(self, value) -> Tensor:
        value = self._checked(value)
        y = (value - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi)
             + (0.5 * self.df).lgamma() - (0.5 * (self.df + 1.0)).lgamma())
        return -0.5 * (self.df + 1.0) * (y ** 2.0 / self.df).log1p() - z

    def entropy(self) -> Tensor:
        lbeta = (0.5 * self.df).lgamma() + math.lgamma(0.5) - (0.5 * (self.df + 1)).lgamma()
        return (self.scale.log() + 0.5 * (self.df + 1) * (
            (0.5 * (self.df + 1)).digamma() - (0.5 * self.df).digamma())
            + 0.5 * self.df.log() + lbeta)


class Geometric(_Trials):
    """The number of failures before the first success of trials succeeding with ``probs``
    (or log-odds ``logits``); samples are floats, as in torch."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        super().__init__(self._given(probs, logits).shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            valid = self.probs > 0
            if _read_bool(valid) is False:
                raise ValueError(
                    f"Expected parameter probs ({type(self.probs).__name__} of shape "
                    f"{tuple(self.probs.shape)}) of distribution {self!r} to be positive but "
                    f"found invalid values:\n{self.probs.detach()[~valid]}")

    mean = property(lambda self: 1.0 / self.probs - 1.0)
    mode = property(lambda self: zeros_like(self.probs))
    variance = property(lambda self: (1.0 / self.probs - 1.0) / self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        probs = self.probs.detach()
        with no_grad():
            u = draw(jax.random.uniform, shape, probs.dtype).clamp(min=tiny(probs.dtype))
            return (u.log() / (-probs).log1p()).floor()

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = probs.clone()
        probs[(probs == 1) & (value == 0)] = 0
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs,
                                                  reduction="none") / self.probs


class FisherSnedecor(_Scalar):
    """The F distribution of ``df1`` and ``df2`` degrees of freedom: a ratio of two scaled
    chi-squared draws (mean nan for ``df2 <= 2``, variance nan for ``df2 <= 4``, mode nan for
    ``df1 <= 2``, as torch's)."""

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all(df1, df2)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        Distribution.__init__(self, self.df1.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> FisherSnedecor:
        new = super().expand(batch_shape)
        new._gamma1 = self._gamma1.expand(batch_shape)
        new._gamma2 = self._gamma2.expand(batch_shape)
        return new

    @property
    def mean(self) -> Tensor:
        df2 = self.df2.clone()
        df2[df2 <= 2] = math.nan
        return df2 / (df2 - 2)

    @property
    def mode(self) -> Tensor:
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        mode[self.df1 <= 2] = math.nan
        return mode

    @property
    def variance(self) -> Tensor:
        df2 = self.df2.clone()
        df2[df2 <= 4] = math.nan
        return (2 * df2.pow(2) * (self.df1 + df2 - 2)
                / (self.df1 * (df2 - 2).pow(2) * (df2 - 4)))

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        x1 = self._gamma1.rsample(sample_shape).view(*shape)
        x2 = self._gamma2.rsample(sample_shape).view(*shape)
        # kept away from 0 as torch keeps them (its in-place clamps are in the graph)
        return (x1 / x2.clamp(min=tiny(x2.dtype))).clamp(min=tiny(x1.dtype))

    def log_prob(self, value) -> Tensor:
        value = self._checked(value)
        ct1, ct2, ct3 = self.df1 * 0.5, self.df2 * 0.5, self.df1 / self.df2
        t1 = (ct1 + ct2).lgamma() - ct1.lgamma() - ct2.lgamma()
        t2 = ct1 * ct3.log() + (ct1 - 1) * value.log()
        t3 = (ct1 + ct2) * (ct3 * value).log1p()
        return t1 + t2 - t3


class GeneralizedPareto(_Scalar):
    """The generalized Pareto distribution of ``loc``, ``scale`` and ``concentration``
    (exponential at concentration 0, bounded above for negative ones); samples are its
    ``icdf`` of uniforms, so ``rsample`` differentiates."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        super().__init__(validate_args, loc=loc, scale=scale, concentration=concentration)

    def _safe_concentration(self):
        """Where the concentration is (close to) 0, and the concentration with 1 there."""
        eq_zero = _ops.isclose(self.concentration, full((), 0.0))
        return eq_zero, _ops.where(eq_zero, ones_like(self.concentration),
                                   self.concentration)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return self.icdf(draw(jax.random.uniform, shape, self.loc.dtype))

    def log_prob(self, value) -> Tensor:
        value = self._checked(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        y = 1 / safe_conc + ones_like(z)
        where_nonzero = _ops.where(y == 0, y, y * (safe_conc * z).log1p())
        return -self.scale.log() - _ops.where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value) -> Tensor:
        value = self._checked(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        return _ops.where(eq_zero, -z, -(safe_conc * z).log1p() / safe_conc)

    def log_cdf(self, value) -> Tensor:
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value) -> Tensor:
        return self.log_cdf(value).exp()

    def icdf(self, value) -> Tensor:
        eq_zero, safe_conc = self._safe_concentration()
        logu = (-value).log1p()
        where_nonzero = self.loc + self.scale / safe_conc * (-safe_conc * logu).expm1()
        return _ops.where(eq_zero, self.loc - self.scale * logu, where_nonzero)

    def _z(self, x) -> Tensor:
        return (x - self.loc) / self.scale

    @property
    def mean(self) -> Tensor:
        valid = self.concentration < 1
        safe_conc = _ops.where(valid, self.concentration, 0.5)
        return _ops.where(valid, self.loc + self.scale / (1 - safe_conc), math.nan)

    @property
    def variance(self) -> Tensor:
        valid = self.concentration < 0.5
        safe_conc = _ops.where(valid, self.concentration, 0.25)
        result = self.scale ** 2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))
        return _ops.where(valid, result, math.nan)

    def entropy(self) -> Tensor:
        return _ops.broadcast_to(self.scale.log() + self.concentration + 1, self._batch_shape)

    mode = property(lambda self: self.loc)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        upper = _ops.where(self.concentration < 0, self.loc - self.scale / self.concentration,
                           math.inf)
        return constraints.interval(self.loc, upper)

"""``ContinuousBernoulli``: the continuous relaxation of the Bernoulli on ``[0, 1]``
(Loaiza-Ganem and Cunningham, 2019), as torch's, Taylor expansions included where ``probs``
is near 1/2 and the closed forms cancel."""

from __future__ import annotations

import math

import jax

from .. import _ops
from .._factories import ones_like, zeros_like
from .._grad_mode import no_grad
from .._tensor import Tensor
from ..nn import functional as F
from . import constraints
from ._univariate import _Trials
from .distribution import draw
from .exp_family import ExponentialFamily
from .utils import broadcast_all, clamp_probs, lazy_property


class ContinuousBernoulli(_Trials, ExponentialFamily):
    """The continuous Bernoulli of ``probs`` (or ``logits``): density proportional to
    ``probs ** x (1 - probs) ** (1 - x)`` on ``[0, 1]``; ``lims`` bound the region about
    1/2 where Taylor expansions replace the closed forms.

    >>> import funcgrad
    >>> from funcgrad.distributions import ContinuousBernoulli
    >>> ContinuousBernoulli(funcgrad.tensor(0.5)).log_prob(funcgrad.tensor(0.3))
    tensor(0.)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            # (torch checks here only when validate_args is given, and with these words)
            if validate_args is not None and not bool(
                    self.arg_constraints["probs"].check(self.probs).all()):
                raise ValueError("The parameter probs has invalid values")
            self.probs = clamp_probs(self.probs)
        else:
            (self.logits,) = broadcast_all(logits)
        self._lims = lims
        super().__init__(self._param().shape, validate_args=validate_args)

    @lazy_property
    def probs(self) -> Tensor:
        return clamp_probs(self.logits.sigmoid())

    param_shape = property(lambda self: self._param().shape)

    def expand(self, batch_shape, _instance=None) -> ContinuousBernoulli:
        new = self._expanded(batch_shape)
        new._lims = self._lims
        return new

    def _outside_unstable_region(self) -> Tensor:
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self) -> Tensor:
        return _ops.where(self._outside_unstable_region(), self.probs,
                          self._lims[0] * ones_like(self.probs))

    def _cont_bern_log_norm(self) -> Tensor:
        """The log of the normalizing constant, ``log(2 atanh(1 - 2p) / (1 - 2p))``."""
        cut = self._cut_probs()
        below_half = _ops.where(cut <= 0.5, cut, zeros_like(cut))
        above_half = _ops.where(cut >= 0.5, cut, ones_like(cut))
        log_norm = ((cut.neg().log1p() - cut.log()).abs().log()
                    - _ops.where(cut <= 0.5, (-2.0 * below_half).log1p(),
                                 (2.0 * above_half - 1.0).log()))
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return _ops.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self) -> Tensor:
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / (cut.neg().log1p() - cut.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return _ops.where(self._outside_unstable_region(), mus, taylor)

    stddev = property(lambda self: self.variance.sqrt())

    @property
    def variance(self) -> Tensor:
        cut = self._cut_probs()
        variances = (cut * (cut - 1.0) / (1.0 - 2.0 * cut).pow(2)
                     + 1.0 / (cut.neg().log1p() - cut.log()).pow(2))
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return _ops.where(self._outside_unstable_region(), variances, taylor)

    def sample(self, sample_shape=()) -> Tensor:
        u = draw(jax.random.uniform, self._extended_shape(sample_shape), self.probs.dtype)
        with no_grad():
            return self.icdf(u)

    def rsample(self, sample_shape=()) -> Tensor:
        return self.icdf(draw(jax.random.uniform, self._extended_shape(sample_shape),
                              self.probs.dtype))

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return (-F.binary_cross_entropy_with_logits(logits, value, reduction="none")
                + self._cont_bern_log_norm())

    def cdf(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        cdfs = (cut.pow(value) * (1.0 - cut).pow(1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        unbounded = _ops.where(self._outside_unstable_region(), cdfs, value)
        return _ops.where(value <= 0.0, zeros_like(value),
                          _ops.where(value >= 1.0, ones_like(value), unbounded))

    def icdf(self, value) -> Tensor:
        cut = self._cut_probs()
        return _ops.where(
            self._outside_unstable_region(),
            ((-cut + value * (2.0 * cut - 1.0)).log1p() - cut.neg().log1p())
            / (cut.log() - cut.neg().log1p()),
            value)

    def entropy(self) -> Tensor:
        log_probs0 = self.probs.neg().log1p()
        log_probs1 = self.probs.log()
        return (self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm()
                - log_probs0)

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.logits,)

    def _log_normalizer(self, x) -> Tensor:
        """The log normalizer of the natural parameter (the logits), Taylor-expanded about 0."""
        outside = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut = _ops.where(outside, x, (self._lims[0] - 0.5) * ones_like(x))
        log_norm = cut.expm1().abs().log() - cut.abs().log()
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return _ops.where(outside, log_norm, taylor)

"""The relaxed (Concrete, Gumbel-softmax) distributions: continuous, reparameterizable
stand-ins for Bernoulli and one-hot categorical draws at a ``temperature``, as torch's."""

from __future__ import annotations

import jax

from .._factories import full_like
from .._tensor import Size, Tensor
from . import constraints
from ._multivariate import Categorical
from ._transformed import TransformedDistribution
from ._univariate import _Trials
from .distribution import Distribution, draw
from .transforms import ExpTransform, SigmoidTransform
from .utils import broadcast_all, clamp_probs


def _clamped_uniform(shape, dtype) -> Tensor:
    """Uniform draws kept inside ``[eps, 1 - eps]``."""
    return clamp_probs(draw(jax.random.uniform, shape, dtype))


class LogitRelaxedBernoulli(_Trials):
    """The logit of a ``RelaxedBernoulli`` draw: ``(logit(u) + logits) / temperature`` for a
    uniform ``u``."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self.temperature = temperature
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        name, value = ("probs", probs) if probs is not None else ("logits", logits)
        (param,) = broadcast_all(value)
        setattr(self, name, param)
        super().__init__(param.shape, validate_args=validate_args)

    param_shape = property(lambda self: self._param().shape)

    def expand(self, batch_shape, _instance=None) -> LogitRelaxedBernoulli:
        new = self._expanded(batch_shape)
        new.temperature = self.temperature
        return new

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(*shape))
        uniforms = _clamped_uniform(shape, probs.dtype)
        return (uniforms.log() - (-uniforms).log1p() + probs.log()
                - (-probs).log1p()) / self.temperature

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value.mul(self.temperature)
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class RelaxedBernoulli(TransformedDistribution):
    """A relaxed Bernoulli on ``[0, 1]``: the sigmoid of a ``LogitRelaxedBernoulli`` of
    ``temperature`` and ``probs`` (or ``logits``); as the temperature goes to 0 its draws
    approach Bernoulli ones.

    >>> import funcgrad
    >>> from funcgrad.distributions import RelaxedBernoulli
    >>> RelaxedBernoulli(funcgrad.tensor(0.5), probs=funcgrad.tensor([0.3])).batch_shape
    funcgrad.Size([1])
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base_dist = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base_dist, SigmoidTransform(), validate_args=validate_args)

    temperature = property(lambda self: self.base_dist.temperature)
    logits = property(lambda self: self.base_dist.logits)
    probs = property(lambda self: self.base_dist.probs)


class ExpRelaxedCategorical(Distribution):
    """The log of a ``RelaxedOneHotCategorical`` draw: ``log_softmax((logits + g) /
    temperature)`` for Gumbel noise ``g``."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector  # (the true support is a submanifold of it)
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        self.temperature = temperature
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> ExpRelaxedCategorical:
        new = type(self).__new__(type(self))
        new.temperature = self.temperature
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, Size(batch_shape), self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    param_shape = property(lambda self: self._categorical.param_shape)
    logits = property(lambda self: self._categorical.logits)
    probs = property(lambda self: self._categorical.probs)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        gumbels = -((-(_clamped_uniform(shape, self.logits.dtype).log())).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(dim=-1, keepdim=True)

    def log_prob(self, value) -> Tensor:
        k = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_scale = (full_like(self.temperature, float(k)).lgamma()
                     - self.temperature.log().mul(-(k - 1)))
        score = logits - value.mul(self.temperature)
        score = (score - score.logsumexp(dim=-1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    """A relaxed one-hot categorical on the simplex (Gumbel-softmax): the exp of an
    ``ExpRelaxedCategorical`` of ``temperature`` and ``probs`` (or ``logits``).

    >>> import funcgrad
    >>> from funcgrad.distributions import RelaxedOneHotCategorical
    >>> d = RelaxedOneHotCategorical(funcgrad.tensor(0.5), logits=funcgrad.zeros(3))
    >>> d.event_shape
    funcgrad.Size([3])
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base_dist = ExpRelaxedCategorical(temperature, probs, logits,
                                          validate_args=validate_args)
        super().__init__(base_dist, ExpTransform(), validate_args=validate_args)

    temperature = property(lambda self: self.base_dist.temperature)
    logits = property(lambda self: self.base_dist.logits)
    probs = property(lambda self: self.base_dist.probs)

"""``Multinomial``: counts of ``total_count`` categorical draws, as torch's."""

from __future__ import annotations

from .. import _dtypes
from .._factories import full, ones_like, zeros
from .._ops import broadcast_tensors
from .._tensor import Tensor
from . import constraints
from ._multivariate import Categorical
from ._univariate import Binomial
from .distribution import Distribution


class Multinomial(Distribution):
    """The counts of each of the categories of ``probs`` (or ``logits``) in ``total_count``
    independent draws; samples are floats, as in torch.

    >>> import funcgrad
    >>> from funcgrad.distributions import Multinomial
    >>> Multinomial(4, funcgrad.tensor([0.2, 0.3, 0.5])).mean
    tensor([0.8000, 1.2000, 2.0000])
    """

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}

    def __init__(self, total_count: int = 1, probs=None, logits=None,
                 validate_args: bool | None = None) -> None:
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        shape = self._categorical.param_shape
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    logits = property(lambda self: self._categorical.logits)
    probs = property(lambda self: self._categorical.probs)
    param_shape = property(lambda self: self._categorical.param_shape)
    support = property(lambda self: constraints.multinomial(self.total_count))
    mean = property(lambda self: self.probs * self.total_count)
    variance = property(lambda self: self.total_count * self.probs * (1 - self.probs))

    def expand(self, batch_shape, _instance=None) -> Multinomial:
        param = self._categorical._param
        new = Multinomial.__new__(Multinomial)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        new._binomial = Binomial(total_count=self.total_count, probs=new._categorical.probs)
        Distribution.__init__(new, tuple(batch_shape), param.shape[-1:], validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=()) -> Tensor:
        draws = self._categorical.sample((self.total_count, *sample_shape))
        draws = draws.movedim(0, -1)  # (sample, batch, total_count)
        counts = zeros(*self._extended_shape(sample_shape), dtype=_dtypes.default_int())
        return counts.scatter_add(-1, draws, ones_like(draws)).type_as(self.probs)

    def entropy(self) -> Tensor:
        n = full((), float(self.total_count), dtype=self.probs.dtype)
        first = n * self._categorical.entropy() - (n + 1).lgamma()
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = self._binomial.log_prob(support).exp()
        second = (binomial_probs * (support + 1).lgamma()).sum((0, -1))
        return first + second

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_tensors(self.logits, value)
        log_factorial_n = (value.sum(-1) + 1).lgamma()
        log_factorial_xs = (value + 1).lgamma().sum(-1)
        # a category of probability 0 that was never drawn adds nothing (not 0 * -inf)
        logits = logits.masked_fill((value == 0) & (logits == float("-inf")), 0.0)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)

"""``MixtureSameFamily``: a categorical choice among components of one family, as torch's."""

from __future__ import annotations

from .._grad_mode import no_grad
from .._tensor import Size, Tensor
from . import constraints
from ._multivariate import Categorical
from .distribution import Distribution


class MixtureSameFamily(Distribution):
    """A mixture: ``mixture_distribution`` (a ``Categorical``) picks one of the components,
    which are the last batch dimension of ``component_distribution``. ``log_prob`` is the
    log-sum-exp over components; ``sample`` draws a choice and gathers its component's sample
    (no ``rsample``, as in torch).

    >>> import funcgrad
    >>> from funcgrad.distributions import Categorical, MixtureSameFamily, Normal
    >>> mix = MixtureSameFamily(Categorical(funcgrad.tensor([0.3, 0.7])),
    ...                         Normal(funcgrad.tensor([-1.0, 2.0]), funcgrad.tensor([0.5, 1.0])))
    >>> mix.mean
    tensor(1.1000)
    """

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(self, mixture_distribution: Categorical, component_distribution: Distribution,
                 validate_args: bool | None = None) -> None:
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(" The Mixture distribution needs to be an  instance of "
                             "funcgrad.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution needs to be an instance of "
                             "funcgrad.distributions.Distribution")
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        mixture_batch = mixture_distribution.batch_shape
        component_batch = component_distribution.batch_shape[:-1]
        for a, b in zip(reversed(mixture_batch), reversed(component_batch)):
            if a != 1 and b != 1 and a != b:
                raise ValueError(f"`mixture_distribution.batch_shape` ({mixture_batch}) is not "
                                 f"compatible with `component_distribution.batch_shape`"
                                 f"({component_batch})")
        mixture_k = mixture_distribution.logits.shape[-1]
        component_k = component_distribution.batch_shape[-1]
        if mixture_k != component_k:
            raise ValueError(f"`mixture_distribution component` ({mixture_k}) does not equal "
                             f"`component_distribution.batch_shape[-1]` ({component_k})")
        self._num_component = mixture_k
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(component_batch, component_distribution.event_shape,
                         validate_args=validate_args)

    mixture_distribution = property(lambda self: self._mixture_distribution)
    component_distribution = property(lambda self: self._component_distribution)
    support = property(lambda self: constraints.MixtureSameFamilyConstraint(
        self._component_distribution.support))

    def expand(self, batch_shape, _instance=None) -> MixtureSameFamily:
        batch_shape = Size(batch_shape)
        component = self._component_distribution.expand(batch_shape + (self._num_component,))
        mixture = self._mixture_distribution.expand(batch_shape)
        return MixtureSameFamily(mixture, component, validate_args=False)

    @property
    def mean(self) -> Tensor:
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        return (probs * self.component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self) -> Tensor:
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        mean_of_variances = (probs * self.component_distribution.variance).sum(
            -1 - self._event_ndims)
        variance_of_means = (probs * (self.component_distribution.mean
                                      - self._pad(self.mean)).pow(2.0)).sum(
            -1 - self._event_ndims)
        return mean_of_variances + variance_of_means

    def cdf(self, x) -> Tensor:
        cdf_x = self.component_distribution.cdf(self._pad(x))
        return (cdf_x * self.mixture_distribution.probs).sum(-1)

    def log_prob(self, x) -> Tensor:
        if self._validate_args:
            self._validate_sample(x)
        log_prob_x = self.component_distribution.log_prob(self._pad(x))  # [S, B, k]
        log_mix_prob = self.mixture_distribution.logits.log_softmax(-1)  # [B, k]
        return (log_prob_x + log_mix_prob).logsumexp(-1)  # [S, B]

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            sample_shape = Size(sample_shape)
            gather_dim = len(sample_shape) + len(self.batch_shape)
            event = tuple(self.event_shape)
            choice = self.mixture_distribution.sample(sample_shape)
            samples = self.component_distribution.sample(sample_shape)
            index = choice.reshape(*choice.shape, *(1,) * (len(event) + 1)).repeat(
                *(1,) * choice.ndim, 1, *event)
            return samples.gather(gather_dim, index).squeeze(gather_dim)

    def _pad(self, x: Tensor) -> Tensor:
        return x.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture_dimensions(self, x: Tensor) -> Tensor:
        batch_ndims = len(self.batch_shape)
        mixture_ndims = len(self.mixture_distribution.batch_shape)
        pad = 0 if mixture_ndims == 1 else batch_ndims - mixture_ndims
        return x.reshape(*x.shape[:-1], *(1,) * pad, x.shape[-1], *(1,) * self._event_ndims)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(\n  {self.mixture_distribution},\n  "
                f"{self.component_distribution})")

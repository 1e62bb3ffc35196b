"""``funcgrad.distributions``: torch.distributions on funcgrad tensors.

Each distribution computes ``log_prob``, ``entropy``, ``cdf`` and its moments with funcgrad's
ops, as torch does, so gradients reach the parameters; ``sample`` and ``rsample`` draw from
funcgrad's generator (``funcgrad.manual_seed`` makes them reproducible), and ``rsample``'s
gradients flow to the parameters (for Gamma, Beta and Dirichlet by JAX's implicit
reparameterization of its gamma sampler).

>>> import funcgrad
>>> from funcgrad.distributions import Normal
>>> loc = funcgrad.tensor(0.0, requires_grad=True)
>>> Normal(loc, 1.0).log_prob(funcgrad.tensor(1.0))
tensor(-1.4189, grad_fn=<SubBackward0>)
"""

from . import constraints as constraints
from . import transforms as transforms
from ._continuous_bernoulli import ContinuousBernoulli as ContinuousBernoulli
from ._distribution import Distribution as Distribution
from ._exp_family import ExponentialFamily as ExponentialFamily
from ._lowrank import LowRankMultivariateNormal as LowRankMultivariateNormal
from ._matrix import LKJCholesky as LKJCholesky
from ._matrix import Wishart as Wishart
from ._mixture import MixtureSameFamily as MixtureSameFamily
from ._multinomial import Multinomial as Multinomial
from ._multivariate import Categorical as Categorical
from ._multivariate import Dirichlet as Dirichlet
from ._multivariate import Independent as Independent
from ._multivariate import MultivariateNormal as MultivariateNormal
from ._multivariate import OneHotCategorical as OneHotCategorical
from ._multivariate import OneHotCategoricalStraightThrough as OneHotCategoricalStraightThrough
from ._relaxed import RelaxedBernoulli as RelaxedBernoulli
from ._relaxed import RelaxedOneHotCategorical as RelaxedOneHotCategorical
from ._transformed import InverseGamma as InverseGamma
from ._transformed import Kumaraswamy as Kumaraswamy
from ._transformed import LogisticNormal as LogisticNormal
from ._transformed import Pareto as Pareto
from ._transformed import TransformedDistribution as TransformedDistribution
from ._transformed import Weibull as Weibull
from ._univariate import Bernoulli as Bernoulli
from ._univariate import Beta as Beta
from ._univariate import Binomial as Binomial
from ._univariate import Cauchy as Cauchy
from ._univariate import Chi2 as Chi2
from ._univariate import Exponential as Exponential
from ._univariate import FisherSnedecor as FisherSnedecor
from ._univariate import Gamma as Gamma
from ._univariate import GeneralizedPareto as GeneralizedPareto
from ._univariate import Geometric as Geometric
from ._univariate import Gumbel as Gumbel
from ._univariate import HalfCauchy as HalfCauchy
from ._univariate import HalfNormal as HalfNormal
from ._univariate import Laplace as Laplace
from ._univariate import LogNormal as LogNormal
from ._univariate import NegativeBinomial as NegativeBinomial
from ._univariate import Normal as Normal
from ._univariate import Poisson as Poisson
from ._univariate import StudentT as StudentT
from ._univariate import Uniform as Uniform
from ._von_mises import VonMises as VonMises
from .constraint_registry import biject_to as biject_to
from .constraint_registry import transform_to as transform_to
from .kl import kl_divergence as kl_divergence
from .kl import register_kl as register_kl
from .transforms import AbsTransform as AbsTransform
from .transforms import AffineTransform as AffineTransform
from .transforms import CatTransform as CatTransform
from .transforms import ComposeTransform as ComposeTransform
from .transforms import CorrCholeskyTransform as CorrCholeskyTransform
from .transforms import CumulativeDistributionTransform as CumulativeDistributionTransform
from .transforms import ExpTransform as ExpTransform
from .transforms import IndependentTransform as IndependentTransform
from .transforms import LowerCholeskyTransform as LowerCholeskyTransform
from .transforms import PositiveDefiniteTransform as PositiveDefiniteTransform
from .transforms import PowerTransform as PowerTransform
from .transforms import ReshapeTransform as ReshapeTransform
from .transforms import SigmoidTransform as SigmoidTransform
from .transforms import SoftmaxTransform as SoftmaxTransform
from .transforms import SoftplusTransform as SoftplusTransform
from .transforms import StackTransform as StackTransform
from .transforms import StickBreakingTransform as StickBreakingTransform
from .transforms import TanhTransform as TanhTransform
from .transforms import Transform as Transform
from .transforms import identity_transform as identity_transform

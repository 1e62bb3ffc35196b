"""``funcgrad.distributions.lowrank_multivariate_normal``: ``LowRankMultivariateNormal``, where
torch keeps it, for code importing from here."""

from ._lowrank import LowRankMultivariateNormal as LowRankMultivariateNormal

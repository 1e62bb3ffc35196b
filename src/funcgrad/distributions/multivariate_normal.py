"""``funcgrad.distributions.multivariate_normal``: ``MultivariateNormal``, where torch keeps it,
for code importing from here."""

from ._multivariate import MultivariateNormal as MultivariateNormal

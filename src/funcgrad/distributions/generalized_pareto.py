"""``funcgrad.distributions.generalized_pareto``: ``GeneralizedPareto``, where torch keeps it,
for code importing from here."""

from ._univariate import GeneralizedPareto as GeneralizedPareto

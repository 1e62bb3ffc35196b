"""``funcgrad.distributions.negative_binomial``: ``NegativeBinomial``, where torch keeps it, for
code importing from here."""

from ._univariate import NegativeBinomial as NegativeBinomial

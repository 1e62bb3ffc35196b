"""``funcgrad.distributions.poisson``: ``Poisson``, where torch keeps it, for code importing from
here."""

from ._univariate import Poisson as Poisson

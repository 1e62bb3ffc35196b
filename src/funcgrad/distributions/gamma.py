"""``funcgrad.distributions.gamma``: ``Gamma``, where torch keeps it, for code importing from
here."""

from ._univariate import Gamma as Gamma

"""``funcgrad.distributions.exponential``: ``Exponential``, where torch keeps it, for code
importing from here."""

from ._univariate import Exponential as Exponential

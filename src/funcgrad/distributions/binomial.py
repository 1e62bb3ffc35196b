"""``funcgrad.distributions.binomial``: ``Binomial``, where torch keeps it, for code importing
from here."""

from ._univariate import Binomial as Binomial

"""``funcgrad.distributions.bernoulli``: ``Bernoulli``, where torch keeps it, for code importing
from here."""

from ._univariate import Bernoulli as Bernoulli

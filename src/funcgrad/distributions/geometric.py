"""``funcgrad.distributions.geometric``: ``Geometric``, where torch keeps it, for code importing
from here."""

from ._univariate import Geometric as Geometric

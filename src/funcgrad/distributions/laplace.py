"""``funcgrad.distributions.laplace``: ``Laplace``, where torch keeps it, for code importing from
here."""

from ._univariate import Laplace as Laplace

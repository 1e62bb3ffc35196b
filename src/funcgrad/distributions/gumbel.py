"""``funcgrad.distributions.gumbel``: ``Gumbel``, where torch keeps it, for code importing from
here."""

from ._univariate import Gumbel as Gumbel

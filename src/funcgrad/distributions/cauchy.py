"""``funcgrad.distributions.cauchy``: ``Cauchy``, where torch keeps it, for code importing from
here."""

from ._univariate import Cauchy as Cauchy

"""``funcgrad.distributions.categorical``: ``Categorical``, where torch keeps it, for code
importing from here."""

from ._multivariate import Categorical as Categorical

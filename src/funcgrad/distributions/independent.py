"""``funcgrad.distributions.independent``: ``Independent``, where torch keeps it, for code
importing from here."""

from ._multivariate import Independent as Independent

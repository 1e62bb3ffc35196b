"""``funcgrad.distributions.chi2``: ``Chi2``, where torch keeps it, for code importing from
here."""

from ._univariate import Chi2 as Chi2

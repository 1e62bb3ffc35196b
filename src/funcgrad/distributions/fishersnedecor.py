"""``funcgrad.distributions.fishersnedecor``: ``FisherSnedecor``, where torch keeps it, for code
importing from here."""

from ._univariate import FisherSnedecor as FisherSnedecor

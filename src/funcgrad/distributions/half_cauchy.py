"""``funcgrad.distributions.half_cauchy``: ``HalfCauchy``, where torch keeps it, for code
importing from here."""

from ._univariate import HalfCauchy as HalfCauchy

"""``funcgrad.distributions.half_normal``: ``HalfNormal``, where torch keeps it, for code
importing from here."""

from ._univariate import HalfNormal as HalfNormal

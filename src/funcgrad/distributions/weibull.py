"""``funcgrad.distributions.weibull``: ``Weibull``, where torch keeps it, for code importing from
here."""

from ._transformed import Weibull as Weibull

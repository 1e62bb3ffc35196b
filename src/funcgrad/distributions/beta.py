"""``funcgrad.distributions.beta``: ``Beta``, where torch keeps it, for code importing from
here."""

from ._univariate import Beta as Beta

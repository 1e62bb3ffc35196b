"""``funcgrad.distributions.multinomial``: ``Multinomial``, where torch keeps it, for code
importing from here."""

from ._multinomial import Multinomial as Multinomial

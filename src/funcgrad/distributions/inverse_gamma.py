"""``funcgrad.distributions.inverse_gamma``: ``InverseGamma``, where torch keeps it, for code
importing from here."""

from ._transformed import InverseGamma as InverseGamma

"""``funcgrad.distributions.kumaraswamy``: ``Kumaraswamy``, where torch keeps it, for code
importing from here."""

from ._transformed import Kumaraswamy as Kumaraswamy

"""``funcgrad.distributions.wishart``: ``Wishart``, where torch keeps it, for code importing from
here."""

from ._matrix import Wishart as Wishart

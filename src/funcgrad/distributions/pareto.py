"""``funcgrad.distributions.pareto``: ``Pareto``, where torch keeps it, for code importing from
here."""

from ._transformed import Pareto as Pareto

"""``funcgrad.distributions.uniform``: ``Uniform``, where torch keeps it, for code importing from
here."""

from ._univariate import Uniform as Uniform

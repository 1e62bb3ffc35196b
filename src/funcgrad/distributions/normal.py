"""``funcgrad.distributions.normal``: ``Normal``, where torch keeps it, for code importing from
here."""

from ._univariate import Normal as Normal

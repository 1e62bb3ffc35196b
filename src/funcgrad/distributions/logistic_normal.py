"""``funcgrad.distributions.logistic_normal``: ``LogisticNormal``, where torch keeps it, for code
importing from here."""

from ._transformed import LogisticNormal as LogisticNormal

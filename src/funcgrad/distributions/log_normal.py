"""``funcgrad.distributions.log_normal``: ``LogNormal``, where torch keeps it, for code importing
from here."""

from ._univariate import LogNormal as LogNormal

"""``funcgrad.distributions.studentT``: ``StudentT``, where torch keeps it, for code importing
from here."""

from ._univariate import StudentT as StudentT

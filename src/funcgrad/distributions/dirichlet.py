"""``funcgrad.distributions.dirichlet``: ``Dirichlet``, where torch keeps it, for code importing
from here."""

from ._multivariate import Dirichlet as Dirichlet

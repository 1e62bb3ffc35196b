"""``funcgrad.distributions.lkj_cholesky``: ``LKJCholesky``, where torch keeps it, for code
importing from here."""

from ._matrix import LKJCholesky as LKJCholesky

"""``funcgrad.distributions.relaxed_bernoulli``: ``LogitRelaxedBernoulli`` and
``RelaxedBernoulli``, where torch keeps them, for code importing from here."""

from ._relaxed import LogitRelaxedBernoulli as LogitRelaxedBernoulli
from ._relaxed import RelaxedBernoulli as RelaxedBernoulli

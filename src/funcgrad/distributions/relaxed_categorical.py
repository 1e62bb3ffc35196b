"""``funcgrad.distributions.relaxed_categorical``: ``ExpRelaxedCategorical`` and
``RelaxedOneHotCategorical``, where torch keeps them, for code importing from here."""

from ._relaxed import ExpRelaxedCategorical as ExpRelaxedCategorical
from ._relaxed import RelaxedOneHotCategorical as RelaxedOneHotCategorical

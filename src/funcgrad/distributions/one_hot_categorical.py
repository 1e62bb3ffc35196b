"""``funcgrad.distributions.one_hot_categorical``: ``OneHotCategorical`` and
``OneHotCategoricalStraightThrough``, where torch keeps them, for code importing from here."""

from ._multivariate import OneHotCategorical as OneHotCategorical
from ._multivariate import OneHotCategoricalStraightThrough as OneHotCategoricalStraightThrough

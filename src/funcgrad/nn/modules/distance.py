"""``funcgrad.nn.modules.distance``: the distances, where torch keeps them, for code importing
from here."""

from .._modules import CosineSimilarity as CosineSimilarity
from .._modules import PairwiseDistance as PairwiseDistance

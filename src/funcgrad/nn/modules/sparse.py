"""``funcgrad.nn.modules.sparse``: the embeddings, where torch keeps them, for code importing
from here."""

from .._modules import Embedding as Embedding
from .._modules import EmbeddingBag as EmbeddingBag

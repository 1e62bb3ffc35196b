"""``funcgrad.nn.modules.transformer``: the transformers, where torch keeps them, for code
importing from here."""

from .._transformer import Transformer as Transformer
from .._transformer import TransformerDecoder as TransformerDecoder
from .._transformer import TransformerDecoderLayer as TransformerDecoderLayer
from .._transformer import TransformerEncoder as TransformerEncoder
from .._transformer import TransformerEncoderLayer as TransformerEncoderLayer

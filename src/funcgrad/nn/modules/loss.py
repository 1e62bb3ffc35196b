"""``funcgrad.nn.modules.loss``: the losses, where torch keeps them, for code importing from
here."""

from .._modules import BCELoss as BCELoss
from .._modules import BCEWithLogitsLoss as BCEWithLogitsLoss
from .._modules import CosineEmbeddingLoss as CosineEmbeddingLoss
from .._modules import CrossEntropyLoss as CrossEntropyLoss
from .._modules import CTCLoss as CTCLoss
from .._modules import GaussianNLLLoss as GaussianNLLLoss
from .._modules import HingeEmbeddingLoss as HingeEmbeddingLoss
from .._modules import HuberLoss as HuberLoss
from .._modules import KLDivLoss as KLDivLoss
from .._modules import L1Loss as L1Loss
from .._modules import LinearCrossEntropyLoss as LinearCrossEntropyLoss
from .._modules import MarginRankingLoss as MarginRankingLoss
from .._modules import MSELoss as MSELoss
from .._modules import MultiLabelMarginLoss as MultiLabelMarginLoss
from .._modules import MultiLabelSoftMarginLoss as MultiLabelSoftMarginLoss
from .._modules import MultiMarginLoss as MultiMarginLoss
from .._modules import NLLLoss as NLLLoss
from .._modules import NLLLoss2d as NLLLoss2d
from .._modules import PoissonNLLLoss as PoissonNLLLoss
from .._modules import SmoothL1Loss as SmoothL1Loss
from .._modules import SoftMarginLoss as SoftMarginLoss
from .._modules import TripletMarginLoss as TripletMarginLoss
from .._modules import TripletMarginWithDistanceLoss as TripletMarginWithDistanceLoss
from .._modules import _Loss as _Loss
from .._modules import _WeightedLoss as _WeightedLoss

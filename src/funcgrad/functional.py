"""``funcgrad.functional``: the functions torch keeps in torch.functional (``einsum``,
``stft``, ``split``, ``unique``, ``meshgrid`` …), for code that imports them from there; each
is ``funcgrad``'s own object.

>>> import funcgrad
>>> from funcgrad.functional import einsum
>>> einsum is funcgrad.einsum
True
"""

from ._index_ops import unique as unique
from ._index_ops import unique_consecutive as unique_consecutive
from ._index_ops import unravel_index as unravel_index
from ._lowrank import pca_lowrank as pca_lowrank
from ._lowrank import svd_lowrank as svd_lowrank
from ._math_ops import chain_matmul as chain_matmul
from ._ops import atleast_1d as atleast_1d
from ._ops import atleast_2d as atleast_2d
from ._ops import atleast_3d as atleast_3d
from ._ops import block_diag as block_diag
from ._ops import broadcast_shapes as broadcast_shapes
from ._ops import broadcast_tensors as broadcast_tensors
from ._ops import cartesian_prod as cartesian_prod
from ._ops import cdist as cdist
from ._ops import einsum as einsum
from ._ops import meshgrid as meshgrid
from ._ops import norm as norm
from ._ops import split as split
from ._ops import tensordot as tensordot
from ._stft import istft as istft
from ._stft import stft as stft
from .linalg import lu_deprecated as lu

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors",
           "cartesian_prod", "block_diag", "cdist", "chain_matmul", "einsum", "istft", "lu",
           "norm", "meshgrid", "pca_lowrank", "split", "stft", "svd_lowrank", "tensordot",
           "unique", "unique_consecutive", "unravel_index"]

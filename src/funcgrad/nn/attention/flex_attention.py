"""FlexAttention, as ``torch.nn.attention.flex_attention``: scaled dot-product attention whose
scores a ``score_mod`` changes and a ``mask_mod`` masks, both written per element.

``score_mod(score, b, h, q_idx, kv_idx)`` and ``mask_mod(b, h, q_idx, kv_idx)`` are called
once, on the whole score matrix: ``b``, ``h``, ``q_idx`` and ``kv_idx`` are index tensors laid
out to broadcast against each other, shapes ``(B, 1, 1, 1)`` … ``(1, 1, 1, KV)`` (torch
vmaps the same per-element code over the four dimensions; elementwise ops, ``where`` and
indexing a captured tensor with the indices give the same result either way). Captured
tensors that require grad get their gradients, and so do query, key and value, on every
device (torch's eager FlexAttention has no backward on a CPU).

The attention is computed as torch's reference implementation does it, materializing the
scores: in float32 for lower-precision inputs (float64 for float64), ``-inf`` where masked, a
softmax that gives 0 on a fully masked row, and the output in the inputs' dtype. A BlockMask
masks by blocks too: an element counts where its block is full, or partial and ``mask_mod``
keeps it (a mask made by ``create_block_mask`` keeps exactly what its ``mask_mod`` keeps).
torch warns that its uncompiled FlexAttention materializes the scores and advises
``torch.compile``; funcgrad does not, because here compiled or not computes the same way (XLA
has no fused FlexAttention kernel; ``funcgrad.compile`` and the lazy tier's cached programs
fuse the work around the score matrix, not away from it).

>>> import funcgrad
>>> from funcgrad.nn.attention.flex_attention import create_block_mask, flex_attention
>>> def causal(b, h, q_idx, kv_idx):
...     return q_idx >= kv_idx
>>> mask = create_block_mask(causal, None, None, 4, 4, device="cpu", BLOCK_SIZE=2)
>>> mask.kv_num_blocks.tolist(), mask.full_kv_num_blocks.tolist()
([[[1, 1]]], [[[0, 1]]])
>>> q = funcgrad.ones(1, 1, 4, 2)
>>> flex_attention(q, q, funcgrad.arange(4.).view(1, 1, 4, 1), block_mask=mask).flatten()
tensor([0.0000, 0.5000, 1.0000, 1.5000])
"""

from __future__ import annotations

import enum
import functools
import inspect
import itertools
import math
import operator
import typing
import warnings
from collections.abc import Callable
from typing import NamedTuple, TypedDict

import numpy as np

from ... import _dtypes, _ops, compiler
from ..._factories import arange, zeros
from ..._math_ops import isneginf
from ..._tensor import Tensor
from .. import functional as F

__all__ = ["AuxOutput", "AuxRequest", "BlockMask", "FlexKernelOptions", "and_masks",
           "create_block_mask", "create_mask", "flex_attention", "noop_mask", "or_masks"]

_WARNINGS_SHOWN: set[str] = set()
_DEFAULT_SPARSE_BLOCK_SIZE = 128
_Backend = typing.Literal["AUTO", "TRITON", "FLASH", "TRITON_DECODE"]


def _warn_once(warning_id: str, message: str, category: type[Warning] = UserWarning) -> None:
    """Each of torch's FlexAttention warnings once per process, none while compiling."""
    if warning_id not in _WARNINGS_SHOWN:
        if not compiler.is_compiling():
            warnings.warn(message, category, stacklevel=3)
        _WARNINGS_SHOWN.add(warning_id)


class FlexKernelOptions(TypedDict, total=False):
    """torch's options for its Triton kernels; taken (``BACKEND`` is checked) and unused:
    XLA compiles the attention."""

    BACKEND: _Backend


class AuxRequest(NamedTuple):
    """Which auxiliary outputs ``flex_attention`` returns besides the attention."""

    lse: bool = False
    max_scores: bool = False


class AuxOutput(NamedTuple):
    """The auxiliary outputs asked for (None where not): each row's logsumexp and maximum of
    its modified scores (natural log; ``-inf`` on a fully masked row)."""

    lse: Tensor | None = None
    max_scores: Tensor | None = None


class _ModificationType(enum.Enum):
    SCORE_MOD = 1
    MASK_MOD = 2


def _mod_type(fn: Callable) -> _ModificationType:
    """A score_mod takes five positional arguments, a mask_mod four (those with defaults do
    not count), as torch tells them apart."""
    if hasattr(fn, "__code__"):
        positional = fn.__code__.co_argcount - len(getattr(fn, "__defaults__", None) or ())
    else:
        positional = sum(1 for p in inspect.signature(fn).parameters.values()
                         if p.default is inspect.Parameter.empty)
    if positional not in (4, 5):
        raise AssertionError(f"Expected 4 or 5 positional args, got {positional}")
    return _ModificationType.SCORE_MOD if positional == 5 else _ModificationType.MASK_MOD


def noop_mask(batch: Tensor, head: Tensor, token_q: Tensor, token_kv: Tensor) -> Tensor:
    """Returns a noop mask_mod"""
    return batch.new_ones(size=(), dtype=_dtypes.bool)


def _identity(score: Tensor, batch: Tensor, head: Tensor, token_q: Tensor,
              token_kv: Tensor) -> Tensor:
    return score


def _sliced_mask_mod_error(batch: Tensor, head: Tensor, token_q: Tensor,
                           token_kv: Tensor) -> typing.NoReturn:
    """The mask_mod of a sliced BlockMask: torch's error, since slicing forgets it."""
    raise RuntimeError(
        "Cannot use mask_mod from a sliced BlockMask. When you slice a BlockMask using [], the "
        "mask_mod attribute is reset. You must set it from the original BlockMask's mask_mod."
        "\n\nIncorrect usage:\n  base_mask = create_block_mask(my_mask_fn, ...)"
        "\n  sliced_mask = base_mask[:, :, block_idx]"
        "\n  sliced_mask.mask_mod = apply_offset(sliced_mask.mask_mod, offset)  # WRONG!"
        "\n\nCorrect usage:\n  base_mask = create_block_mask(my_mask_fn, ...)"
        "\n  sliced_mask = base_mask[:, :, block_idx]"
        "\n  sliced_mask.mask_mod = apply_offset(base_mask.mask_mod, offset)  # Use base_mask!")


def _combined(mask_mods: tuple, identity: bool, combine: Callable, name: str) -> Callable:
    """The mask_mod combining ``mask_mods`` by ``combine`` from ``identity``, named as
    torch's (``or_mask``, ``and_mask``)."""
    if not all(callable(arg) for arg in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def mask(b: Tensor, h: Tensor, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
        result = b.new_full((), identity, dtype=_dtypes.bool)
        for mask_mod in mask_mods:
            result = combine(result, mask_mod(b, h, q_idx, kv_idx))
        return result

    mask.__name__ = mask.__qualname__ = name
    return mask


def or_masks(*mask_mods: Callable) -> Callable:
    """Returns a mask_mod that's the union of provided mask_mods"""
    return _combined(mask_mods, False, operator.or_, "or_mask")


def and_masks(*mask_mods: Callable) -> Callable:
    """Returns a mask_mod that's the intersection of provided mask_mods"""
    return _combined(mask_mods, True, operator.and_, "and_mask")


def _indices(shape: tuple[int, int, int, int], device) -> tuple[Tensor, ...]:
    """The batch, head, query and key/value indices of a ``(B, H, Q, KV)`` score matrix, each
    along its own dimension, so that an elementwise mod of them broadcasts to the matrix."""
    return tuple(arange(n, device=device).view([n if d == i else 1 for d in range(4)])
                 for i, n in enumerate(shape))


def _mask_of(mask_mod: Callable, shape: tuple[int, int, int, int], device) -> Tensor:
    return mask_mod(*_indices(shape, device)).expand(shape)


def create_mask(mod_fn: Callable, B: int | None, H: int | None, Q_LEN: int, KV_LEN: int,
                device=None) -> Tensor:
    """The ``(B, H, Q_LEN, KV_LEN)`` boolean mask of a mask_mod, or of a score_mod (where it
    does not give ``-inf`` on zero scores). ``B`` and ``H`` default to 1."""
    shape = (1 if B is None else B, 1 if H is None else H, Q_LEN, KV_LEN)
    if _mod_type(mod_fn) is _ModificationType.SCORE_MOD:
        scores = mod_fn(zeros(shape, device=device), *_indices(shape, device))
        return ~isneginf(scores).expand(shape)
    return _mask_of(mod_fn, shape, device)


def _dense_to_ordered(dense_mask: Tensor) -> tuple[Tensor, Tensor]:
    """Per row of a dense block mask, its number of blocks and the column indices, those of
    its blocks first (a stable sort, as torch's)."""
    dense_mask = dense_mask.to(_dtypes.int32)
    return (dense_mask.sum(dim=-1).to(_dtypes.int32),
            _ops.argsort(dense_mask, dim=-1, descending=True, stable=True).to(_dtypes.int32))


def _ordered_to_dense(num_blocks_in_row: Tensor, col_indices: Tensor, num_cols: int) -> Tensor:
    """The dense int32 block mask of per-row counts and column indices."""
    listed = arange(col_indices.shape[-1]) < num_blocks_in_row.unsqueeze(-1)
    hits = (col_indices.unsqueeze(-1) == arange(num_cols)) & listed.unsqueeze(-1)
    return hits.any(dim=-2).to(_dtypes.int32)


def _transpose_ordered(num_blocks_in_row: Tensor, col_indices: Tensor) -> tuple[Tensor, Tensor]:
    dense = _ordered_to_dense(num_blocks_in_row, col_indices, col_indices.shape[-1])
    return _dense_to_ordered(dense.transpose(-2, -1))


def _adjust_num_blocks_and_indices(num_blocks: Tensor, indices: Tensor, new_num_rows: int,
                                   new_num_cols: int) -> tuple[Tensor, Tensor]:
    indices = indices[:, :, :new_num_rows, :new_num_cols]
    num_blocks = num_blocks[:, :, :new_num_rows].clamp(max=new_num_cols)
    return (indices < num_blocks[:, :, :, None]).sum(dim=-1).to(_dtypes.int32), indices


class BlockMask:
    """torch's block-sparse attention mask: per ``BLOCK_SIZE`` tile row, how many key/value
    blocks it attends to and which (``kv_num_blocks``, ``kv_indices``), the blocks that need no
    ``mask_mod`` at all (``full_kv_*``), and the same by columns for the backward
    (``q_*``, ``full_q_*``, made from the first two)."""

    _TENSOR_ATTRS = ["kv_num_blocks", "kv_indices", "full_kv_num_blocks", "full_kv_indices",
                     "q_num_blocks", "q_indices", "full_q_num_blocks", "full_q_indices",
                     "dq_write_order", "dq_write_order_full", "dq_kv_order"]

    def __init__(self, seq_lengths: tuple[int, int], kv_num_blocks: Tensor, kv_indices: Tensor,
                 full_kv_num_blocks: Tensor | None, full_kv_indices: Tensor | None,
                 q_num_blocks: Tensor | None, q_indices: Tensor | None,
                 full_q_num_blocks: Tensor | None, full_q_indices: Tensor | None,
                 BLOCK_SIZE: tuple[int, int] = (_DEFAULT_SPARSE_BLOCK_SIZE,
                                                _DEFAULT_SPARSE_BLOCK_SIZE),
                 mask_mod: Callable = noop_mask, *, dq_write_order: Tensor | None = None,
                 dq_write_order_full: Tensor | None = None, dq_kv_order: Tensor | None = None,
                 dq_kv_order_spt: bool | None = None) -> None:
        if kv_indices.dim() < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        if (full_kv_num_blocks is None) != (full_kv_indices is None):
            raise AssertionError(
                "full_kv_num_blocks and full_kv_indices must be both provided or omitted")
        if (full_q_num_blocks is None) != (full_q_indices is None):
            raise AssertionError(
                "full_q_num_blocks and full_q_indices must be both provided or omitted")
        if dq_write_order_full is not None and dq_write_order is None:
            raise ValueError("dq_write_order_full requires dq_write_order")
        self.seq_lengths = seq_lengths
        self.kv_num_blocks, self.kv_indices = kv_num_blocks, kv_indices
        self.full_kv_num_blocks, self.full_kv_indices = full_kv_num_blocks, full_kv_indices
        self.q_num_blocks, self.q_indices = q_num_blocks, q_indices
        self.full_q_num_blocks, self.full_q_indices = full_q_num_blocks, full_q_indices
        self.dq_write_order, self.dq_write_order_full = dq_write_order, dq_write_order_full
        self.dq_kv_order, self.dq_kv_order_spt = dq_kv_order, dq_kv_order_spt
        self.BLOCK_SIZE = BLOCK_SIZE
        self.mask_mod = mask_mod

    @classmethod
    def from_kv_blocks(cls, kv_num_blocks: Tensor, kv_indices: Tensor,
                       full_kv_num_blocks: Tensor | None = None,
                       full_kv_indices: Tensor | None = None,
                       BLOCK_SIZE: int | tuple[int, int] = _DEFAULT_SPARSE_BLOCK_SIZE,
                       mask_mod: Callable | None = None,
                       seq_lengths: tuple[int, int] | None = None,
                       compute_q_blocks: bool = True, *, dq_write_order: Tensor | None = None,
                       dq_write_order_full: Tensor | None = None,
                       dq_kv_order: Tensor | bool | None = None) -> BlockMask:
        """A BlockMask from its key/value blocks, the query blocks made from them."""
        if kv_indices.dim() < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        if (full_kv_num_blocks is None) != (full_kv_indices is None):
            raise AssertionError(
                "full_kv_num_blocks and full_kv_indices must be both provided or omitted")
        q_num_blocks = q_indices = full_q_num_blocks = full_q_indices = None
        if compute_q_blocks:
            q_num_blocks, q_indices = _transpose_ordered(kv_num_blocks, kv_indices)
            if full_kv_num_blocks is not None:
                full_q_num_blocks, full_q_indices = _transpose_ordered(full_kv_num_blocks,
                                                                       full_kv_indices)
        if isinstance(BLOCK_SIZE, int):
            BLOCK_SIZE = (BLOCK_SIZE, BLOCK_SIZE)
        if seq_lengths is None:
            seq_lengths = (kv_indices.shape[-2] * BLOCK_SIZE[0],
                           kv_indices.shape[-1] * BLOCK_SIZE[1])
        if dq_kv_order is not None and not isinstance(dq_kv_order, (bool, Tensor)):
            raise ValueError("dq_kv_order must be a bool, Tensor, or None")
        return cls(seq_lengths, kv_num_blocks, kv_indices, full_kv_num_blocks, full_kv_indices,
                   q_num_blocks, q_indices, full_q_num_blocks, full_q_indices,
                   BLOCK_SIZE=BLOCK_SIZE, mask_mod=noop_mask if mask_mod is None else mask_mod,
                   dq_write_order=dq_write_order, dq_write_order_full=dq_write_order_full,
                   dq_kv_order=dq_kv_order if isinstance(dq_kv_order, Tensor) else None,
                   dq_kv_order_spt=dq_kv_order if isinstance(dq_kv_order, bool) else None)

    def as_tuple(self, flatten: bool = True) -> tuple:
        """Its attributes in torch's order; ``flatten`` spreads the two pairs
        (``seq_lengths``, ``BLOCK_SIZE``)."""
        seq_lengths = self.seq_lengths if flatten else (self.seq_lengths,)
        block_size = self.BLOCK_SIZE if flatten else (self.BLOCK_SIZE,)
        return (*seq_lengths, *(getattr(self, name) for name in self._TENSOR_ATTRS),
                self.dq_kv_order_spt, *block_size, self.mask_mod)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.kv_indices.shape[:-2]) + tuple(self.seq_lengths)

    def numel(self) -> int:
        """Returns the number of elements (not accounting for sparsity) in the mask."""
        return functools.reduce(operator.mul, self.shape, 1)

    def sparsity(self) -> float:
        """The percentage of blocks that are skipped, as torch computes it: against the
        elements of the unpadded mask, so a mask shorter than a block reads below zero."""
        computed = self.kv_num_blocks.sum().item()
        if self.full_kv_num_blocks is not None:
            computed += self.full_kv_num_blocks.sum().item()
        return 100 * (1 - computed * self.BLOCK_SIZE[0] * self.BLOCK_SIZE[1] / self.numel())

    def to_dense(self) -> Tensor:
        """Returns a dense block that is equivalent to the block mask."""
        dense = _ordered_to_dense(self.kv_num_blocks, self.kv_indices, self.kv_indices.shape[-1])
        if self.full_kv_num_blocks is not None:
            dense = dense | _ordered_to_dense(self.full_kv_num_blocks, self.full_kv_indices,
                                              self.full_kv_indices.shape[-1])
        return dense

    def _elements(self, shape: tuple[int, int, int, int], device) -> Tensor:
        """What it keeps of a ``shape`` score matrix: where the block is full, or partial and
        ``mask_mod`` keeps the element."""

        def per_element(blocks: Tensor) -> Tensor:
            blocks = blocks.bool()
            for dim, size in ((-2, self.BLOCK_SIZE[0]), (-1, self.BLOCK_SIZE[1])):
                blocks = blocks.repeat_interleave(size, dim=dim)
            blocks = blocks[..., :shape[2], :shape[3]]
            return blocks.expand(shape)

        kept = per_element(_ordered_to_dense(self.kv_num_blocks, self.kv_indices,
                                             self.kv_indices.shape[-1]))
        kept = kept & _mask_of(self.mask_mod, shape, device)
        if self.full_kv_num_blocks is not None:
            kept = kept | per_element(_ordered_to_dense(
                self.full_kv_num_blocks, self.full_kv_indices, self.full_kv_indices.shape[-1]))
        return kept

    def to_string(self, grid_size: int | tuple[int, int] = (20, 20), limit: int = 4) -> str:
        """The mask drawn in blocks (``█`` all kept, ``░`` partly, blank none), at most
        ``grid_size`` cells per batch and head, of at most ``limit`` of those; ``grid_size``
        -1 draws every block."""
        dense = np.asarray(self.to_dense())
        *batch_dims, num_rows, num_cols = dense.shape
        if isinstance(grid_size, int) and grid_size != -1:
            max_rows = max_cols = grid_size
        elif grid_size == -1:
            max_rows, max_cols = num_rows, num_cols
        else:
            max_rows, max_cols = grid_size
        row_step = max(1, -(-num_rows // max_rows))
        col_step = max(1, -(-num_cols // max_cols))

        def cell(section) -> str:
            kept = section.astype(np.float32).mean()
            return "█" if kept == 1 else " " if kept == 0 else "░"

        drawings = []
        for i, index in enumerate(itertools.product(*map(range, batch_dims))):
            if i == limit:
                drawings += ["...", "To print out more, set BlockMask.to_string(limit=N)",
                             "You can also index (BlockMask[batch, head]) to choose a specific "
                             "batch or head"]
                break
            rows = [f"{index}\n"]
            for r in range(0, num_rows, row_step):
                rows.append("".join(cell(dense[index][r:r + row_step, c:c + col_step]) * 2
                                    for c in range(0, num_cols, col_step)) + "\n")
            drawings.append("".join(rows))
        return "\n".join(drawings)

    def __str__(self) -> str:
        return (f"BlockMask(shape={self.shape}, sparsity={self.sparsity():.2f}%, \n"
                f"{self.to_string().strip()}\n)")

    def __repr__(self) -> str:
        def shape(x):
            return None if x is None else x.shape

        mask_mod = getattr(self.mask_mod, "__name__", self.mask_mod)
        return (f"BlockMask(\n    kv_num_blocks={self.kv_num_blocks.shape},\n"
                f"    kv_indices={self.kv_indices.shape},\n"
                f"    full_kv_num_blocks={shape(self.full_kv_num_blocks)},\n"
                f"    full_kv_indices={shape(self.full_kv_indices)},\n"
                f"    q_num_blocks={shape(self.q_num_blocks)},\n"
                f"    q_indices={shape(self.q_indices)},\n"
                f"    full_q_num_blocks={shape(self.full_q_num_blocks)},\n"
                f"    full_q_indices={shape(self.full_q_indices)},\n"
                f"    BLOCK_SIZE={self.BLOCK_SIZE},\n    shape={self.shape},\n"
                f"    sparsity={self.sparsity():.2f}%,\n    mask_mod={mask_mod}\n)")

    def __getitem__(self, index) -> BlockMask:
        """The mask of some batches, heads and query block rows (an int keeps its dimension,
        as torch's). Its mask_mod is a stub that raises: give it the original's, adjusted."""
        _no_dq_kv_order(self, "Slicing")
        index = (index,) if not isinstance(index, tuple) else index
        padded = (*index, slice(None), slice(None), slice(None))[:3]
        index = tuple((slice(i + n, i + n + 1) if -n <= i < 0 else slice(i, i + 1))
                      if isinstance(i, int) else i
                      for i, n in zip(padded, self.kv_num_blocks.shape[:3], strict=True))

        def part(x):
            return None if x is None else x[index]

        return BlockMask.from_kv_blocks(
            self.kv_num_blocks[index], self.kv_indices[index], part(self.full_kv_num_blocks),
            part(self.full_kv_indices), BLOCK_SIZE=self.BLOCK_SIZE,
            mask_mod=_sliced_mask_mod_error, seq_lengths=self.seq_lengths,
            compute_q_blocks=self.q_indices is not None,
            dq_kv_order=self.dq_kv_order_spt)

    def _adjust(self, new_q_len: int, new_kv_len: int) -> BlockMask:
        """The mask cropped to its upper left ``new_q_len`` x ``new_kv_len`` corner."""
        _no_dq_kv_order(self, "Adjusting")
        rows = -(-new_q_len // self.BLOCK_SIZE[0])
        cols = -(-new_kv_len // self.BLOCK_SIZE[1])
        kv = _adjust_num_blocks_and_indices(self.kv_num_blocks, self.kv_indices, rows, cols)
        full = (None, None) if self.full_kv_num_blocks is None else (
            _adjust_num_blocks_and_indices(self.full_kv_num_blocks, self.full_kv_indices, rows,
                                           cols))
        return self.from_kv_blocks(*kv, *full, BLOCK_SIZE=self.BLOCK_SIZE,
                                   mask_mod=self.mask_mod, seq_lengths=(new_q_len, new_kv_len),
                                   compute_q_blocks=self.q_indices is not None,
                                   dq_kv_order=self.dq_kv_order_spt)

    def to(self, device) -> BlockMask:
        """The mask with its tensors on ``device``."""
        tensors = {name: None if getattr(self, name) is None else getattr(self, name).to(device)
                   for name in self._TENSOR_ATTRS}
        return BlockMask(seq_lengths=self.seq_lengths, **tensors, BLOCK_SIZE=self.BLOCK_SIZE,
                         mask_mod=self.mask_mod, dq_kv_order_spt=self.dq_kv_order_spt)


def _no_dq_kv_order(mask: BlockMask, doing: str) -> None:
    if mask.dq_kv_order is not None:
        raise NotImplementedError(
            f"{doing} BlockMask with tensor dq_kv_order is not supported yet. Construct a new "
            "BlockMask with matching precomputed dq_write_order metadata.")


def _blocks_of(mask: Tensor, q_block: int, kv_block: int) -> tuple[Tensor, Tensor]:
    """The partial and the full blocks (int8) of a dense ``(B, H, Q, KV)`` boolean mask,
    padded to whole blocks."""
    B, H, Q, KV = mask.shape
    padded = -(-Q // q_block) * q_block, -(-KV // kv_block) * kv_block
    mask = F.pad(mask, (0, padded[1] - KV, 0, padded[0] - Q))
    mask = mask.view(B, H, padded[0] // q_block, q_block, padded[1] // kv_block, kv_block)
    kept = mask.permute(0, 1, 2, 4, 3, 5).sum(dim=[-2, -1])
    full = kept == q_block * kv_block
    return ((kept > 0) & ~full).to(_dtypes.int8), full.to(_dtypes.int8)


def create_block_mask(mask_mod: Callable, B: int | None, H: int | None, Q_LEN: int,
                      KV_LEN: int, device=None,
                      BLOCK_SIZE: int | tuple[int, int] = _DEFAULT_SPARSE_BLOCK_SIZE,
                      _compile: bool = False, separate_full_blocks: bool = True,
                      compute_dq_write_order: bool = False, dq_kv_order: bool = True
                      ) -> BlockMask:
    """The BlockMask of a mask_mod over ``(B, H, Q_LEN, KV_LEN)`` (``B`` and ``H`` default to
    1, to broadcast), in ``BLOCK_SIZE`` tiles (an int, or (query, key/value)). With
    ``separate_full_blocks`` the blocks that keep every element are listed apart."""
    if _mod_type(mask_mod) is not _ModificationType.MASK_MOD:
        raise AssertionError(f"create-block_mask requires a mask_mod function! Got {mask_mod}")
    q_block, kv_block = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else BLOCK_SIZE
    if _compile:
        warnings.warn(
            "_compile flag on create_block_mask was originally added to work around a "
            "torch.compile limitation. That limitation has since been addressed. So, to compile "
            "create_block_mask, we suggest doing torch.compile(create_block_mask). This still "
            "works for now, but will be removed in the future.",
            DeprecationWarning, stacklevel=2)
    if not isinstance(dq_kv_order, bool):
        raise ValueError("dq_kv_order must be a bool when using create_block_mask")
    if compute_dq_write_order:
        raise NotImplementedError(
            "compute_dq_write_order=True asks for the dQ write order of torch's deterministic "
            "FLASH backward kernel, which funcgrad does not have (XLA computes the attention "
            "and its gradient); leave it False")
    partial, full = _blocks_of(create_mask(mask_mod, B, H, Q_LEN, KV_LEN, device),
                               q_block, kv_block)
    if not separate_full_blocks:
        partial, full = partial | full, None
    kv = _dense_to_ordered(partial)
    full_kv = (None, None) if full is None else _dense_to_ordered(full)
    return BlockMask.from_kv_blocks(*kv, *full_kv, BLOCK_SIZE=(q_block, kv_block),
                                    mask_mod=mask_mod, seq_lengths=(Q_LEN, KV_LEN))


def _check(query: Tensor, key: Tensor, value: Tensor, block_mask: BlockMask | None,
           enable_gqa: bool) -> None:
    """torch's checks of flex_attention's inputs (not its CPU one: here every device has the
    backward)."""
    if query.device != key.device or query.device != value.device:
        raise ValueError(
            "Expected query, key, and value to have the same device type, but got "
            f"query.device: {query.device}, key.device: {key.device}, and value.device: "
            f"{value.device} instead.")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise ValueError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got "
            f"query.dim: {query.dim()}, key.dim: {key.dim()} and value.dim: {value.dim()} "
            "instead.")
    if query.size(-1) != key.size(-1):
        raise ValueError("Expect query and key/value to have the same embedding dimension but "
                         f"got E={query.size(-1)} and E={key.size(-1)}.")
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        raise NotImplementedError("NYI: query, key, and value must be 4D tensors")
    if not enable_gqa and query.size(-3) != key.size(-3):
        raise ValueError(
            "Expect query and key/value to have the same number of heads but got "
            f"Hq={query.size(-3)} and Hkv={key.size(-3)}. Try setting enable_gqa=True for GQA.")
    if enable_gqa and query.size(1) % key.size(1) != 0:
        raise ValueError("Expect number of query heads to be a multiple of kv heads for GQA but "
                         f"got Hq={query.size(1)} and Hkv={key.size(1)}.")
    if query.size(0) != key.size(0):
        if block_mask is None:
            raise ValueError(
                "Expect query and key/value to have the same batch size, or non-none "
                f"block_mask, but got block_mask=None, Bq={query.size(0)}, and "
                f"Bkv={key.size(0)}.")
        if block_mask.kv_num_blocks.size(0) != query.size(0):
            raise ValueError(
                "Expect query and key/value to have the same batch size, or block_mask and "
                f"query to have the same batch size, but got Bq={query.size(0)}, "
                f"Bkv={key.size(0)}, B_block_mask={block_mask.kv_num_blocks.size(0)}.")
        if key.size(0) != 1:
            raise RuntimeError(f"Bq and Bkv must broadcast. Got Bq={query.size(0)} and "
                               f"Bkv={key.size(0)}")
    if block_mask is None:
        return
    if block_mask.mask_mod is _sliced_mask_mod_error:
        raise RuntimeError("Cannot use mask_mod from a sliced BlockMask")
    q_len, kv_len = block_mask.shape[-2:]
    shape = f"block_mask.shape={block_mask.shape}"
    if query.size(-2) > q_len or key.size(-2) > kv_len:
        raise ValueError(
            f"block_mask was created for {shape} but got q_len={query.size(-2)} and "
            f"kv_len={key.size(-2)}. As the block mask was created for a smaller length than "
            "you're using it for, you likely need to create a new block mask.")
    if query.size(-2) < q_len or key.size(-2) < kv_len:
        raise ValueError(
            f"block_mask was created for {shape} but got q_len={query.size(-2)} and "
            f"kv_len={key.size(-2)}. As the block mask was created for a larger length than "
            "you're using it for, you can either 1. create a new block mask with the correct "
            "length, or 2. 'adjust' the existing block mask to the correct length by calling "
            "block_mask._adjust(q_len, kv_len). This essentially 'crops' the block mask to the "
            "upper left corner, which does not work for all mask_mods!")
    if query.device != block_mask.kv_num_blocks.device:
        raise RuntimeError("Expect q/k/v and block_mask to be on the same device but got "
                           f"{query.device} and {block_mask.kv_num_blocks.device}.")


def _check_kernel_options(kernel_options: dict | None) -> None:
    options = kernel_options or {}
    if "BACKEND" in options and options.get("FORCE_USE_FLEX_ATTENTION", False):
        raise RuntimeError(
            "BACKEND cannot be combined with legacy FORCE_USE_FLEX_ATTENTION. BACKEND "
            "supersedes the legacy knob; please drop FORCE_USE_FLEX_ATTENTION and only specify "
            "the desired BACKEND.")
    if "BACKEND" in options and options["BACKEND"] not in typing.get_args(_Backend):
        raise ValueError(f"Invalid BACKEND value '{options['BACKEND']}'. Must be one of "
                         f"{typing.get_args(_Backend)}")
    for internal in ("OUTPUT_LOGSUMEXP", "OUTPUT_MAX"):
        if internal in options:
            raise AssertionError(f"{internal} must not be in kernel_options")


def flex_attention(query: Tensor, key: Tensor, value: Tensor, score_mod: Callable | None = None,
                   block_mask: BlockMask | None = None, scale: float | None = None,
                   enable_gqa: bool = False, return_lse: bool = False,
                   kernel_options: FlexKernelOptions | None = None, *,
                   return_aux: AuxRequest | None = None):
    """``softmax(score_mod(query @ key.T * scale))`` masked by ``block_mask``, times ``value``,
    over query ``(B, Hq, L, E)``, key ``(B, Hkv, S, E)`` and value ``(B, Hkv, S, Ev)``;
    ``scale`` defaults to ``1 / sqrt(E)``, ``enable_gqa`` lets ``Hkv`` divide ``Hq``, and a
    key/value batch of 1 serves every query batch when ``block_mask`` has the query's batch.

    Returns the ``(B, Hq, L, Ev)`` attention; with ``return_aux``, also an AuxOutput of each
    row's logsumexp and maximum of the modified scores (``return_lse=True``, deprecated,
    returns the logsumexp alone).
    """
    _check(query, key, value, block_mask, enable_gqa)
    if return_lse and return_aux is not None:
        raise ValueError("Cannot specify both return_lse and return_aux. return_lse is "
                         "deprecated, please use return_aux=AuxRequest(lse=True) instead.")
    if return_lse:
        _warn_once("deprecated_return_lse",
                   "return_lse is deprecated and will be removed in v2.10. Please use "
                   "return_aux=AuxRequest(lse=True) instead.", FutureWarning)
    _check_kernel_options(kernel_options)
    scale = 1.0 / math.sqrt(query.size(-1)) if scale is None else scale
    groups = query.size(1) // key.size(1)
    if groups > 1:
        key, value = (t.repeat_interleave(groups, dim=1) for t in (key, value))
    shape = (query.size(0), query.size(1), query.size(2), key.size(2))
    precision = _dtypes.float64 if query.dtype == _dtypes.float64 else _dtypes.float32
    scores = (query.to(precision) @ key.to(precision).transpose(-2, -1)) * scale
    modified = (score_mod or _identity)(scores, *_indices(shape, query.device)).to(precision)
    if block_mask is not None:
        modified = _ops.where(block_mask._elements(shape, query.device), modified,
                              -math.inf)
    modified = modified.expand(shape)
    # A row that keeps nothing: logsumexp -inf and weights 0, not the NaN of a plain softmax.
    peak = modified.amax(dim=-1, keepdim=True)
    shift = _ops.where(isneginf(peak), 0.0, peak)
    exp = (modified - shift).exp()
    total = exp.sum(dim=-1, keepdim=True)
    weights = exp / _ops.where(total == 0, 1.0, total)
    out = weights.to(query.dtype) @ value.to(query.dtype)
    if return_aux is None and not return_lse:
        return out
    lse = (total.log() + shift).squeeze(-1)
    if return_aux is None:
        return out, lse
    return out, AuxOutput(lse=lse if return_aux.lse else None,
                          max_scores=peak.squeeze(-1) if return_aux.max_scores else None)

"""``funcgrad.nn.utils.rnn``: batches of sequences of different lengths, padded or packed, as
torch.nn.utils.rnn has them; ``RNN``, ``LSTM`` and ``GRU`` take and return packed ones.

A ``PackedSequence`` holds, time step after time step, the elements of the sequences still
running (longest first): what it moves between layouts are index gathers, so gradients flow
back to whatever was packed. Its ``batch_sizes`` are concrete (a CPU int64 tensor in torch),
so the layouts are computed with NumPy, once per call.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ... import _dtypes, _factories, _ops
from ..._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


class PackedSequence(namedtuple("PackedSequence_", "data batch_sizes sorted_indices "
                                "unsorted_indices")):
    """A batch of sequences packed time step by time step: ``data`` (sum of lengths, *),
    ``batch_sizes[t]`` how many sequences are still running at step t, and the permutation
    that sorted the batch by decreasing length (None where it came sorted).

    >>> import funcgrad
    >>> from funcgrad.nn.utils.rnn import pack_sequence
    >>> pack_sequence([funcgrad.tensor([1., 2.]), funcgrad.tensor([3.])])
    PackedSequence(data=tensor([1., 3., 2.]), batch_sizes=tensor([2, 1]), sorted_indices=None, unsorted_indices=None)
    """  # noqa: E501

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same sequences with ``data`` moved or cast as ``Tensor.to`` does (the indices
        follow it to a device, keeping their dtype)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        indices = [None if i is None else i.to(data.device)
                   for i in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *indices)

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def float(self) -> PackedSequence:
        return self.to(dtype=_dtypes.float32)

    def double(self) -> PackedSequence:
        return self.to(dtype=_dtypes.float64)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation undoing ``permutation`` (None for None)."""
    if permutation is None:
        return None
    order = np.asarray(permutation)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return _factories.tensor(inverse, device=permutation.device)


def _lengths(lengths) -> np.ndarray:
    return np.asarray(lengths.tolist() if isinstance(lengths, Tensor) else lengths, np.int64)


def _positions(batch_sizes: np.ndarray) -> np.ndarray:
    """Per element of a packed ``data``, its flat position ``t * batch + b`` in the padded
    (time, batch) layout."""
    batch = int(batch_sizes[0])
    return np.concatenate([t * batch + np.arange(n) for t, n in enumerate(batch_sizes)])


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Packs a padded batch (T, B, *) ((B, T, *) with ``batch_first``) of sequences of the
    given ``lengths``: sorted by decreasing length unless ``enforce_sorted``, which requires
    them so.

    Raises:
        RuntimeError: torch's, for unsorted lengths with ``enforce_sorted``, a length below 1
            or a count of lengths other than the batch size.
        ValueError: for a length beyond the padded length.
    """
    lengths = _lengths(lengths)
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = _factories.tensor(order, device=input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    steps, batch = input.shape[:2]
    if len(lengths) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lengths)} (batch_size={batch})")
    if lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if lengths.max() > steps:
        raise ValueError(f"a length ({lengths.max()}) is beyond the padded sequences' length "
                         f"({steps}): pass the lengths of the sequences as they are padded")
    batch_sizes = (lengths[None, :] > np.arange(lengths[0])[:, None]).sum(1)
    data = input.reshape(steps * batch, *input.shape[2:])[_positions(batch_sizes)]
    return PackedSequence(data, _factories.tensor(batch_sizes), sorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None
                        ) -> tuple[Tensor, Tensor]:
    """The padded batch (T, B, *) ((B, T, *) with ``batch_first``) of a packed one, in the
    order it was given to packing, and the sequences' lengths (int64). ``total_length`` pads
    to that many steps.

    Raises:
        ValueError: torch's, for a ``total_length`` below the longest sequence.
    """
    data, batch_sizes = sequence.data, np.asarray(sequence.batch_sizes.tolist())
    steps, batch = len(batch_sizes), int(batch_sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps = total_length
    # Each padded position reads its element of data, or the one padding row after them.
    source = np.full(steps * batch, data.shape[0])
    source[_positions(batch_sizes)] = np.arange(data.shape[0])
    padding = _factories.full((1, *data.shape[1:]), padding_value, dtype=data.dtype,
                              device=data.device)
    padded = _ops.cat([data, padding])[source].reshape(steps, batch, *data.shape[1:])
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[np.asarray(sequence.unsorted_indices.tolist())]
    return (padded.transpose(0, 1) if batch_first else padded), _factories.tensor(lengths)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """The sequences (each (L_i, *)) padded with ``padding_value`` to the longest, on
    ``padding_side``, and stacked: (T, B, *), or (B, T, *) with ``batch_first``.

    Raises:
        RuntimeError: torch's, for a ``padding_side`` other than left or right.
    """
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    sequences = list(sequences)
    steps = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        fill = _factories.full((steps - s.shape[0], *s.shape[1:]), padding_value,
                               dtype=s.dtype, device=s.device)
        padded.append(_ops.cat([s, fill] if padding_side == "right" else [fill, s]))
    return _ops.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False
                   ) -> list[Tensor]:
    """The sequences of a padded batch, each cut to its length."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [s[:n] for s, n in zip(padded_sequences, _lengths(lengths).tolist())]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """The sequences (each (L_i, *)) packed; see ``pack_padded_sequence``."""
    sequences = list(sequences)
    return pack_padded_sequence(pad_sequence(sequences), [s.shape[0] for s in sequences],
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The sequences packed in ``packed_sequences``, in the order they were given."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)

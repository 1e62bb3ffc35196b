"""Datasets as torch.utils.data has them: map-style ``Dataset`` (``__getitem__`` and
``__len__``), ``IterableDataset`` (``__iter__``), ``TensorDataset``, ``Subset``,
``ConcatDataset``, ``ChainDataset``, ``StackDataset`` and ``random_split``."""

from __future__ import annotations

import bisect
import itertools
import math
import warnings

from ..._factories import Generator, as_tensor, randperm


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__`` (and usually ``__len__``).
    ``a + b`` concatenates two datasets."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset read as a stream: subclasses define ``__iter__``. A ``DataLoader`` over one
    takes neither a sampler nor ``shuffle``. ``a + b`` chains two of them."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Iterable datasets one after another, read as one stream.

    Raises:
        AssertionError: torch's, where a dataset among them is not an ``IterableDataset``
            (when it is reached).
    """

    def __init__(self, datasets) -> None:
        self.datasets = datasets

    def _checked(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield d

    def __iter__(self):
        for d in self._checked():
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self._checked())


class StackDataset(Dataset):
    """Datasets of one length side by side: item ``i`` is the tuple of their items ``i`` (given
    positionally), or the dict of them by name (given by keyword).

    Raises:
        ValueError: torch's, for none, both kinds at once, or datasets of other lengths.
    """

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        self.datasets = args or kwargs
        parts = list(args or kwargs.values())
        self._length = len(parts[0])
        if any(len(d) != self._length for d in parts):
            raise ValueError("Size mismatch between datasets")

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list) -> list:
        """The items at ``indices``, each part fetched in one call where it has
        ``__getitems__``."""
        named = self.datasets if isinstance(self.datasets, dict) else dict(
            enumerate(self.datasets))
        columns = {}
        for k, d in named.items():
            if callable(getattr(d, "__getitems__", None)):
                items = d.__getitems__(indices)
                if len(items) != len(indices):
                    raise ValueError("Nested dataset's output size mismatch. Expected "
                                     f"{len(indices)}, got {len(items)}")
            else:
                items = [d[i] for i in indices]
            columns[k] = items
        rows = zip(*columns.values())
        if isinstance(self.datasets, dict):
            return [dict(zip(columns, row)) for row in rows]
        return [tuple(row) for row in rows]


class TensorDataset(Dataset):
    """Samples taken from tensors along their first dimension: item ``i`` is
    ``tuple(t[i] for t in tensors)``.

    Raises:
        AssertionError: if the tensors' first dimensions differ (torch's error).

    >>> import funcgrad
    >>> from funcgrad.utils.data import TensorDataset
    >>> ds = TensorDataset(funcgrad.arange(3), funcgrad.tensor([1.0, 2.0, 3.0]))
    >>> len(ds), ds[1]
    (3, (tensor(1), tensor(2.)))
    """

    def __init__(self, *tensors) -> None:
        if any(tensors[0].size(0) != tensor.size(0) for tensor in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)

    def __getitems__(self, indices: list[int]) -> list[tuple]:
        """The samples at ``indices``, as ``[self[i] for i in indices]`` (the ``DataLoader``
        asks for this when it exists).

        One gather per tensor with the indices as a tensor operand, then ``unbind``: a batch's
        ops are then the same every step, so the lazy engine compiles them once. Indexing with
        each int would make every batch a new program (its ints are static), run op by op,
        about ten times slower for batches of 32."""
        columns = [tensor[as_tensor(indices, device=tensor.device)].unbind(0)
                   for tensor in self.tensors]
        return list(zip(*columns))

    def __len__(self) -> int:
        return self.tensors[0].size(0)


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list[int]) -> list:
        """A batch of items at once (the ``DataLoader`` asks for this when it exists)."""
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Map-style datasets one after another.

    Raises:
        AssertionError: for no datasets or an ``IterableDataset`` among them (torch's errors).
    """

    def __init__(self, datasets) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        if any(isinstance(d, IterableDataset) for d in self.datasets):
            raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def random_split(dataset, lengths, generator: Generator | None = None) -> list[Subset]:
    """Splits ``dataset`` at random into non-overlapping subsets of the given lengths.

    Fractions that sum to 1 become ``floor(fraction * len(dataset))`` items each, and what is
    left over goes one item at a time to the splits in turn, from the first (torch's rule).

    Args:
        dataset: a map-style dataset.
        lengths: the splits' lengths, or their fractions of ``len(dataset)``.
        generator: the ``funcgrad.Generator`` to shuffle with (by default the global one).

    Returns:
        One ``Subset`` per length.

    Raises:
        ValueError: for a fraction outside [0, 1], or lengths that do not sum to
            ``len(dataset)`` (torch's errors).

    >>> from funcgrad.utils.data import random_split
    >>> [len(s) for s in random_split(range(10), [0.5, 0.3, 0.2])]
    [5, 3, 2]
    >>> [len(s) for s in random_split(range(11), [0.5, 0.5])]
    [6, 5]
    """
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _fractions_to_lengths(lengths, len(dataset))
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = randperm(sum(lengths), generator=generator).tolist()
    return [Subset(dataset, indices[end - length:end])
            for end, length in zip(itertools.accumulate(lengths), lengths)]


def _fractions_to_lengths(fractions, total: int) -> list[int]:
    """Split lengths from fractions of ``total``, the remainder dealt round-robin; warns, as
    torch does, of every empty split."""
    for i, fraction in enumerate(fractions):
        if not 0 <= fraction <= 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
    lengths = [math.floor(total * fraction) for fraction in fractions]
    for i in range(total - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, length in enumerate(lengths):
        if length == 0:
            warnings.warn(f"Length of split at index {i} is 0. This might result in an empty "
                          "dataset.", UserWarning, stacklevel=3)
    return lengths

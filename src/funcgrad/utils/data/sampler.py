"""Samplers as torch.utils.data has them: iterables of dataset indices (or, for
``BatchSampler``, of lists of them) that a ``DataLoader`` reads.

The random ones draw from a ``funcgrad.Generator`` (by default the global stream, so
``funcgrad.manual_seed`` makes them reproducible) each time they are iterated: every epoch has
a fresh order. The orders are JAX's, not torch's."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp

from ... import _dtypes
from ..._factories import Generator, as_tensor, next_key, randint, randperm


class Sampler:
    """Base class of samplers: subclasses define ``__iter__`` and may define ``__len__``."""

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """The indices ``0 .. len(data_source) - 1`` in order."""

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _check_positive(name: str, value) -> None:
    """torch's check of ``WeightedRandomSampler``'s ``num_samples`` or ``BatchSampler``'s
    ``batch_size``."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value}")


def _check_bool(name: str, value, error=ValueError) -> None:
    """torch's check of a sampler's ``replacement`` or ``drop_last``."""
    if not isinstance(value, bool):
        raise error(f"{name} should be a boolean value, but got {name}={value}")


class RandomSampler(Sampler):
    """The indices of ``data_source`` in a random order: a fresh permutation per pass (repeated
    when ``num_samples`` exceeds the length), or ``num_samples`` draws with ``replacement``.

    Raises:
        TypeError: for a ``replacement`` that is not a bool.
        ValueError: for a ``num_samples`` that is not a positive int (torch's errors).
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | None = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _check_bool("replacement", replacement, TypeError)
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:  # (bools pass here)
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        if self.replacement:
            yield from randint(n, size=(self.num_samples,), generator=self.generator).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from randperm(n, generator=self.generator).tolist()
        if self.num_samples % n:
            yield from randperm(n, generator=self.generator).tolist()[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order, a fresh one per pass."""

    def __init__(self, indices, generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices of ``weights``, each drawn with probability proportional to its
    weight, with or without replacement.

    Raises:
        ValueError: for a ``num_samples`` that is not a positive int, a ``replacement`` that is
            not a bool, or weights that are not 1-D (torch's errors). Iterating raises torch's
            RuntimeError for negative or non-finite weights, weights summing to 0, or more
            samples than weights without replacement.
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True,
                 generator: Generator | None = None) -> None:
        _check_positive("num_samples", num_samples)
        _check_bool("replacement", replacement)
        weights = as_tensor(weights, dtype=_dtypes.default_double())
        if weights.dim() != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights.shape)}")
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        weights = self.weights._read()
        if not self.replacement and self.num_samples > weights.shape[0]:
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                               "replacement")
        if not bool(jnp.all(jnp.isfinite(weights) & (weights >= 0))):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        total = jnp.sum(weights)
        if total <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        draws = jax.random.choice(next_key(self.generator), weights.shape[0],
                                  (self.num_samples,), self.replacement, weights / total)
        yield from draws.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler``; the last one shorter, or dropped with
    ``drop_last``.

    Raises:
        ValueError: for a ``batch_size`` that is not a positive int or a ``drop_last`` that is
            not a bool (torch's errors).

    >>> from funcgrad.utils.data import BatchSampler, SequentialSampler
    >>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))
    [[0, 1, 2], [3, 4, 5], [6]]
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool) -> None:
        _check_positive("batch_size", batch_size)
        _check_bool("drop_last", drop_last)
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)

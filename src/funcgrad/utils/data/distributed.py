"""torch.utils.data.distributed's ``DistributedSampler``: the share of a dataset's indices that
one of several replicas (processes, hosts) reads.

funcgrad has no process groups (``funcgrad.distributed``), so a sampler is given
``num_replicas`` and ``rank``, e.g. ``jax.process_count()`` and ``jax.process_index()``.
"""

from __future__ import annotations

import math

from ..._factories import Generator, randperm
from .sampler import Sampler


class DistributedSampler(Sampler):
    """The indices of ``dataset`` that replica ``rank`` of ``num_replicas`` reads: every
    ``num_replicas``-th index from ``rank`` on, of the indices in order or shuffled. Without
    ``drop_last`` the indices are padded by repeating the first ones, so every replica gets
    the same number; with it, the tail that does not divide evenly is dropped. The shuffled
    order depends only on ``seed`` and the epoch (``set_epoch``), so every replica shuffles
    alike and the replicas' shares never overlap; the order is JAX's, not torch's.

    Args:
        dataset: a dataset with a length.
        num_replicas: how many replicas share the dataset.
        rank: which of them this one is, from 0.
        shuffle: shuffle the indices, a new order per epoch.
        seed: the shuffle's seed, the same on every replica.
        drop_last: drop the tail instead of padding.

    Raises:
        RuntimeError: torch's, when ``num_replicas`` or ``rank`` is not given: torch asks its
            default process group, which funcgrad does not have.
        ValueError: torch's, for a ``rank`` outside ``[0, num_replicas - 1]``.

    >>> from funcgrad.utils.data import DistributedSampler
    >>> [list(DistributedSampler(range(5), 2, rank, shuffle=False)) for rank in (0, 1)]
    [[0, 2, 4], [1, 3, 0]]
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            raise RuntimeError(
                "Requires distributed package to be available: funcgrad has no process "
                "groups, so pass num_replicas and rank (e.g. jax.process_count() and "
                "jax.process_index())")
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, drop_last, shuffle, seed
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = randperm(n, generator=Generator().manual_seed(self.seed + self.epoch))
            indices = indices.tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            padding = self.total_size - n
            indices += (indices * math.ceil(padding / n))[:padding] if padding else []
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch, which with ``seed`` picks the shuffled order: call it before each
        epoch's pass, or every epoch reads the same order."""
        self.epoch = epoch

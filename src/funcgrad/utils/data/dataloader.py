"""``DataLoader``: batches of a dataset's samples, in the main process, with torch's options
and its checks of them."""

from __future__ import annotations

import math

from ..._factories import Generator
from ._collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler


class DataLoader:
    """Iterates over ``dataset`` in batches, as ``torch.utils.data.DataLoader`` does.

    Each pass asks the sampler afresh, so ``shuffle=True`` gives every epoch a new order (drawn
    from ``generator``, by default the global stream). Loading runs in the calling process:
    funcgrad's tensors are JAX arrays, and XLA already spreads each op over the CPU cores.

    Args:
        dataset: a map-style dataset (``__getitem__``, ``__len__``) or an ``IterableDataset``.
        batch_size: samples per batch; None turns batching off (each sample is passed through
            ``default_convert``, or ``collate_fn`` when given).
        shuffle: a random order per epoch (map-style datasets only).
        sampler: the indices to load, in order; excludes ``shuffle``.
        batch_sampler: lists of indices, one per batch; excludes ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``.
        num_workers: must be 0.
        collate_fn: makes a batch from a list of samples; by default ``default_collate``.
        pin_memory: accepted, and does nothing: JAX moves data to the device itself.
        drop_last: drops a last batch smaller than ``batch_size``.
        timeout, worker_init_fn, multiprocessing_context, prefetch_factor,
            persistent_workers, pin_memory_device, in_order: accepted for torch's signature
            and checked as torch checks them; with no workers they change nothing.
        generator: the ``funcgrad.Generator`` that ``shuffle`` draws from.

    Raises:
        ValueError: for the combinations torch rejects, with its messages.
        NotImplementedError: for ``num_workers`` above 0.

    >>> import funcgrad
    >>> from funcgrad.utils.data import DataLoader, TensorDataset
    >>> loader = DataLoader(TensorDataset(funcgrad.arange(5)), batch_size=2)
    >>> len(loader), [batch for (batch,) in loader]
    (3, [tensor([0, 1]), tensor([2, 3]), tensor([4])])
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None,
                 generator: Generator | None = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        _check_workers(num_workers, timeout, prefetch_factor, persistent_workers,
                       multiprocessing_context)
        if isinstance(dataset, IterableDataset):
            _check_iterable_options(shuffle, sampler, batch_sampler)
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not isinstance(dataset, IterableDataset):
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and sampler is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.collate_fn = collate_fn or (
            default_convert if batch_size is None and batch_sampler is None
            else default_collate)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or self.batch_size is not None

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            return self._iter_stream()
        if not self._auto_collation:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        return (self.collate_fn(self._fetch(indices)) for indices in self.batch_sampler)

    def _fetch(self, indices: list) -> list:
        """The samples at ``indices``, in one call where the dataset has ``__getitems__``."""
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(indices)
        return [self.dataset[i] for i in indices]

    def _iter_stream(self):
        """Batches of an ``IterableDataset``: ``batch_size`` consecutive samples each."""
        samples = iter(self.dataset)
        if self.batch_size is None:
            yield from (self.collate_fn(sample) for sample in samples)
            return
        while batch := [sample for _, sample in zip(range(self.batch_size), samples)]:
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            length = len(self.dataset)
            if self.batch_size is None:
                return length
            rounding = math.floor if self.drop_last else math.ceil
            return rounding(length / self.batch_size)
        return len(self.batch_sampler if self._auto_collation else self.sampler)


def _check_workers(num_workers: int, timeout: float, prefetch_factor, persistent_workers: bool,
                   multiprocessing_context) -> None:
    """torch's checks of the worker options, then funcgrad's rule: no worker processes."""
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                         "disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers > 0:
        raise NotImplementedError(
            f"funcgrad's DataLoader loads in the calling process, but got num_workers="
            f"{num_workers}. Pass num_workers=0: JAX arrays do not travel between processes "
            "as torch's shared-memory tensors do, and XLA already uses every CPU core.")
    if prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                         "let num_workers > 0 to enable multiprocessing, otherwise set "
                         "prefetch_factor to None.")
    if persistent_workers:
        raise ValueError("persistent_workers option needs num_workers > 0")
    if multiprocessing_context is not None:
        raise ValueError("multiprocessing_context can only be used with multi-process loading "
                         f"(num_workers > 0), but got num_workers={num_workers}")


def _check_iterable_options(shuffle, sampler, batch_sampler) -> None:
    """torch's rule: an ``IterableDataset`` sets its own order."""
    if shuffle not in (False, None):
        raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle option, "
                         f"but got shuffle={shuffle}")
    if sampler is not None:
        raise ValueError("DataLoader with IterableDataset: expected unspecified sampler option, "
                         f"but got sampler={sampler}")
    if batch_sampler is not None:
        raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler "
                         f"option, but got batch_sampler={batch_sampler}")


def get_worker_info() -> None:
    """The loading worker's id, seed and dataset inside a worker process: funcgrad's
    ``DataLoader`` loads in the main process (``num_workers=0``), where torch's gives None."""
    return None

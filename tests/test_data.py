"""funcgrad.utils.data against torch.utils.data: batching, collation (values, dtypes, container
types), lengths, split sizes and errors are torch's; random orders are checked for what they
must be (permutations, reproducible under a seed, fresh each epoch), since JAX's random numbers
are not torch's; and a small model trained through a DataLoader follows torch's losses."""

from __future__ import annotations

import collections
import subprocess
import sys

import jax
import numpy as np
import pytest

import funcgrad
from funcgrad.utils import data
from test_errors import assert_raises_as_torch, assert_warns_as_torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


Point = collections.namedtuple("Point", "x y")


def _assert_same(ours, theirs, path: str = "batch") -> None:
    """The same structure (container types, dict keys), the same tensors (values, shapes and
    dtypes) and the same other leaves."""
    if hasattr(theirs, "detach"):
        assert isinstance(ours, funcgrad.Tensor), (path, ours)
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), path
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=path, strict=True)
        return
    assert type(ours) is type(theirs), (path, ours, theirs)
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), path
        for key in theirs:
            _assert_same(ours[key], theirs[key], f"{path}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), path
        for i, (o, t) in enumerate(zip(ours, theirs)):
            _assert_same(o, t, f"{path}[{i}]")
    else:
        assert ours == theirs, path


def _batches(lib, make, **options) -> list:
    """Every batch of one pass of a DataLoader over ``make(lib)``."""
    return list(lib.utils.data.DataLoader(make(lib), **options))


def _tensor_dataset(lib, n: int = 10):
    x = np.arange(3 * n, dtype=np.float32).reshape(n, 3)
    return lib.utils.data.TensorDataset(lib.tensor(x), lib.tensor(np.arange(n) % 3))


class _Stream(data.IterableDataset):
    """An IterableDataset of ``n`` dict samples, usable with either library (the DataLoader
    only checks the class of map-style datasets' options)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self):
        return ({"i": i, "x": np.full(2, i, np.float32)} for i in range(self.n))

    def __len__(self) -> int:
        return self.n


# ----- collation ------------------------------------------------------------------------------
SAMPLES = {
    "tensors": lambda lib: [lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])],
    "int tensors": lambda lib: [lib.tensor(1), lib.tensor(2), lib.tensor(3)],
    "ints": lambda lib: [1, 2, 3],
    "floats": lambda lib: [0.5, 1.5],
    "bools": lambda lib: [True, False],
    "strings": lambda lib: ["a", "b"],
    "numpy arrays": lambda lib: [np.ones((2, 2), np.float32), np.zeros((2, 2), np.float32)],
    "numpy int arrays": lambda lib: [np.arange(3, dtype=np.int16), np.arange(3, dtype=np.int16)],
    "numpy scalars": lambda lib: [np.float32(1.5), np.float32(2.5)],
    "numpy int scalars": lambda lib: [np.int32(1), np.int32(2)],
    "tuples": lambda lib: [(lib.tensor([1.0]), 0), (lib.tensor([2.0]), 1)],
    "lists": lambda lib: [[1, 2.0, "a"], [3, 4.0, "b"]],
    "dicts": lambda lib: [{"x": lib.tensor([1.0]), "y": 0}, {"x": lib.tensor([2.0]), "y": 1}],
    "namedtuples": lambda lib: [Point(1.0, np.ones(2, np.float32)), Point(2.0, np.zeros(2,
                                                                                  np.float32))],
    "nested": lambda lib: [{"pair": (1, [2.0, 3.0])}, {"pair": (4, [5.0, 6.0])}],
    "ordered dicts": lambda lib: [collections.OrderedDict(b=1, a=2.0)] * 2,
}


@pytest.mark.parametrize("make", SAMPLES.values(), ids=SAMPLES.keys())
def test_default_collate_matches_torch(torch, make):
    with jax.enable_x64(True):  # torch's int64 and float64 batches, dtype for dtype
        _assert_same(data.default_collate(make(funcgrad)),
                     torch.utils.data.default_collate(make(torch)))


@pytest.mark.parametrize("make", SAMPLES.values(), ids=SAMPLES.keys())
def test_default_convert_matches_torch(torch, make):
    with jax.enable_x64(True):
        _assert_same(data.default_convert(make(funcgrad)[0]),
                     torch.utils.data.default_convert(make(torch)[0]))


def test_collated_python_numbers_are_32_bit_without_x64():
    """Without jax_enable_x64 a batch of Python floats is float32 (torch: float64) and one of
    ints int32 (torch: int64), funcgrad's rule for every 64-bit default."""
    assert data.default_collate([0.5, 1.5]).dtype == funcgrad.float32
    assert data.default_collate([1, 2]).dtype == funcgrad.int32


COLLATE_ERRORS = {
    "unequal lengths": lambda lib: [[1, 2], [3]],
    "an object": lambda lib: [object(), object()],
    "string arrays": lambda lib: [np.array(["a"]), np.array(["b"])],
    "tensor shapes": lambda lib: [lib.zeros(2), lib.zeros(3)],
}


@pytest.mark.parametrize("make", COLLATE_ERRORS.values(), ids=COLLATE_ERRORS.keys())
def test_default_collate_errors_match_torch(torch, make):
    assert_raises_as_torch(torch, lambda lib: lib.utils.data.default_collate(make(lib)))


# ----- datasets -------------------------------------------------------------------------------
def test_tensor_subset_and_concat_datasets_index_as_torch(torch):
    def items(lib):
        base = _tensor_dataset(lib, 6)
        subset = lib.utils.data.Subset(base, [4, 0, 2])
        concat = base + subset
        return ([base[1], subset[0], subset[[1, 2]], concat[7], concat[-1]],
                [len(base), len(subset), len(concat)], concat.cumulative_sizes)

    theirs = items(torch)
    with jax.enable_x64(True):
        _assert_same(items(funcgrad), theirs)


def _counting_stream(lib, start: int, n: int):
    """An IterableDataset of ``lib``'s giving ``start .. start + n - 1``, with a length."""
    return type("Counting", (lib.utils.data.IterableDataset,), {
        "__iter__": lambda self: iter(range(start, start + n)), "__len__": lambda self: n})()


def test_stack_and_chain_datasets_match_torch(torch):
    def items(lib):
        base = _tensor_dataset(lib, 6)
        letters = [chr(97 + i) for i in range(6)]
        tuples = lib.utils.data.StackDataset(base, letters)
        named = lib.utils.data.StackDataset(data=base, letter=letters)
        chained = lib.utils.data.ChainDataset([_counting_stream(lib, 0, 3),
                                               _counting_stream(lib, 10, 2)])
        added = _counting_stream(lib, 5, 2) + _counting_stream(lib, 7, 1)
        return ([tuples[1], named[-1], len(tuples), len(named), list(chained), len(chained),
                 list(added), type(added).__name__],
                _batches(lib, lambda lib: named, batch_size=4))

    theirs = items(torch)
    with jax.enable_x64(True):
        _assert_same(items(funcgrad), theirs)


def test_stack_dataset_fetches_a_batch_as_its_items():
    base = _tensor_dataset(funcgrad, 6)
    for stack in (data.StackDataset(base, list(range(6))), data.StackDataset(a=base, b=base)):
        _assert_same(stack.__getitems__([5, 0, 2]), [stack[i] for i in (5, 0, 2)])


def test_tensor_dataset_fetches_a_batch_as_its_items():
    """The DataLoader's one-call fetch gives what indexing item by item gives."""
    dataset, indices = _tensor_dataset(funcgrad, 6), [5, 0, -1, 2, 2]
    _assert_same(dataset.__getitems__(indices), [dataset[i] for i in indices])


DATASET_ERRORS = {
    "tensor sizes": lambda lib: lib.utils.data.TensorDataset(lib.zeros(3), lib.zeros(4)),
    "no datasets": lambda lib: lib.utils.data.ConcatDataset([]),
    "iterable in concat": lambda lib: lib.utils.data.ConcatDataset([_empty_stream(lib)]),
    "concat index": lambda lib: lib.utils.data.ConcatDataset([range(2), range(3)])[-6],
    "no getitem": lambda lib: lib.utils.data.Dataset()[0],
    "stack of none": lambda lib: lib.utils.data.StackDataset(),
    "stack of both kinds": lambda lib: lib.utils.data.StackDataset(range(2), b=range(2)),
    "stack sizes": lambda lib: lib.utils.data.StackDataset(range(2), range(3)),
    "chain of a map-style one": lambda lib: list(lib.utils.data.ChainDataset([range(2)])),
}


def _empty_stream(lib):
    """An empty IterableDataset of ``lib``'s."""
    return type("Empty", (lib.utils.data.IterableDataset,), {"__iter__": lambda self: iter(())})()


@pytest.mark.parametrize("scenario", DATASET_ERRORS.values(), ids=DATASET_ERRORS.keys())
def test_dataset_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


# ----- random_split ---------------------------------------------------------------------------
SPLITS = {
    "lengths": (10, [3, 7]),
    "fractions": (10, [0.3, 0.3, 0.4]),
    "remainder round robin": (11, [0.25, 0.25, 0.25, 0.25]),
    "remainder of 2": (7, [0.5, 0.5]),
    "uneven fractions": (101, [0.1, 0.2, 0.7]),
}


@pytest.mark.parametrize("n, lengths", SPLITS.values(), ids=SPLITS.keys())
def test_random_split_sizes_match_torch_and_partition_the_dataset(torch, n, lengths):
    splits = data.random_split(range(n), lengths)
    theirs = torch.utils.data.random_split(range(n), lengths)
    assert [len(s) for s in splits] == [len(s) for s in theirs]
    items = [i for s in splits for i in s]
    assert sorted(items) == list(range(n))
    assert all(isinstance(s, data.Subset) for s in splits)


def test_random_split_is_reproducible_with_a_generator():
    def split(seed):
        return [list(s) for s in data.random_split(range(20), [0.5, 0.5],
                                                   generator=funcgrad.Generator().manual_seed(seed))]

    assert split(3) == split(3)
    assert split(3) != split(4)


def test_random_split_warns_of_an_empty_split_as_torch(torch):
    assert_warns_as_torch(torch, lambda lib: lib.utils.data.random_split(range(3), [0.1, 0.1, 0.8]))


SPLIT_ERRORS = {
    "sum": lambda lib: lib.utils.data.random_split(range(10), [3, 3]),
    "fraction above 1": lambda lib: lib.utils.data.random_split(range(10), [1.5, -0.5]),
    "fractions not summing to 1": lambda lib: lib.utils.data.random_split(range(10), [0.5, 0.2]),
}


@pytest.mark.parametrize("scenario", SPLIT_ERRORS.values(), ids=SPLIT_ERRORS.keys())
def test_random_split_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


# ----- samplers -------------------------------------------------------------------------------
def test_sequential_and_batch_samplers_match_torch(torch):
    def batches(lib):
        d = lib.utils.data
        return [(list(d.BatchSampler(d.SequentialSampler(range(n)), size, drop)),
                 len(d.BatchSampler(range(n), size, drop)))
                for n in (0, 1, 7, 9) for size in (1, 3, 9) for drop in (False, True)]

    assert batches(funcgrad) == batches(torch)


def _is_permutation(order, n: int) -> bool:
    return sorted(order) == list(range(n))


def test_random_sampler_draws_a_fresh_permutation_each_epoch():
    funcgrad.manual_seed(0)
    sampler = data.RandomSampler(range(50))
    epochs = [list(sampler) for _ in range(3)]
    assert all(_is_permutation(order, 50) for order in epochs)
    assert epochs[0] != epochs[1] != epochs[2]
    funcgrad.manual_seed(0)
    assert [list(sampler) for _ in range(3)] == epochs


def test_random_sampler_with_a_generator_is_reproducible_and_leaves_the_global_stream():
    funcgrad.manual_seed(1)
    expected = funcgrad.rand(3)
    funcgrad.manual_seed(1)
    first = list(data.RandomSampler(range(20), generator=funcgrad.Generator().manual_seed(5)))
    assert first == list(data.RandomSampler(range(20),
                                            generator=funcgrad.Generator().manual_seed(5)))
    assert bool((funcgrad.rand(3) == expected).all())


def test_random_sampler_num_samples_and_replacement():
    funcgrad.manual_seed(2)
    long = list(data.RandomSampler(range(4), num_samples=10))
    assert len(long) == 10 and _is_permutation(long[:4], 4) and _is_permutation(long[4:8], 4)
    assert len(set(long[8:])) == 2
    drawn = list(data.RandomSampler(range(5), replacement=True, num_samples=200))
    assert len(drawn) == len(data.RandomSampler(range(5), True, 200)) == 200
    assert set(drawn) == set(range(5))  # 200 draws miss one of 5 values with p < 1e-18


def test_subset_random_sampler_permutes_its_indices():
    funcgrad.manual_seed(3)
    sampler = data.SubsetRandomSampler([10, 20, 30, 40, 50, 60])
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == [10, 20, 30, 40, 50, 60]
    assert first != second and len(sampler) == 6


def test_weighted_random_sampler_follows_its_weights():
    funcgrad.manual_seed(4)
    weights = [0.0, 1.0, 3.0]
    counts = np.bincount(list(data.WeightedRandomSampler(weights, 20_000)), minlength=3)
    # Binomial standard deviations are about 61 here: 5 of them is far beyond chance.
    np.testing.assert_allclose(counts, [0, 5000, 15000], atol=310)
    once = list(data.WeightedRandomSampler([1.0, 2.0, 3.0, 4.0], 4, replacement=False))
    assert _is_permutation(once, 4)


SAMPLER_ERRORS = {
    "replacement type": lambda lib: lib.utils.data.RandomSampler(range(3), replacement=1),
    "num_samples zero": lambda lib: lib.utils.data.RandomSampler(range(3), num_samples=0),
    "num_samples float": lambda lib: lib.utils.data.RandomSampler(range(3), num_samples=2.0),
    "empty source": lambda lib: lib.utils.data.RandomSampler([]),
    "weighted num_samples": lambda lib: lib.utils.data.WeightedRandomSampler([1.0], True),
    "weighted replacement": lambda lib: lib.utils.data.WeightedRandomSampler([1.0], 1, 0),
    "weights 2-D": lambda lib: lib.utils.data.WeightedRandomSampler([[1.0, 2.0]], 1),
    "too many without replacement":
        lambda lib: list(lib.utils.data.WeightedRandomSampler([1.0, 2.0], 3, False)),
    "negative weight": lambda lib: list(lib.utils.data.WeightedRandomSampler([-1.0, 2.0], 1)),
    "zero weights": lambda lib: list(lib.utils.data.WeightedRandomSampler([0.0, 0.0], 1)),
    "batch_size zero": lambda lib: lib.utils.data.BatchSampler(range(3), 0, False),
    "batch_size bool": lambda lib: lib.utils.data.BatchSampler(range(3), True, False),
    "drop_last type": lambda lib: lib.utils.data.BatchSampler(range(3), 2, None),
}


@pytest.mark.parametrize("scenario", SAMPLER_ERRORS.values(), ids=SAMPLER_ERRORS.keys())
def test_sampler_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


@pytest.mark.parametrize("n", [0, 1, 7, 10, 11])
@pytest.mark.parametrize("replicas", [1, 3, 4, 12])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_in_order_matches_torch(torch, n, replicas, drop_last):
    """Without shuffling, each rank's indices and length are torch's: padding by repeating the
    first indices (more than once when the replicas outnumber them), or dropping the tail."""
    def shares(lib):
        return [(list(s), len(s)) for s in (
            lib.utils.data.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                              drop_last=drop_last) for rank in range(replicas))]

    assert shares(funcgrad) == shares(torch)


@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_shuffles_alike_on_every_rank_and_per_epoch(torch, drop_last):
    """The ranks' shuffled shares partition the dataset (plus torch's padding, or less its
    dropped tail), each share as long as torch's; the order is fixed by seed and epoch."""
    n, replicas = 23, 4

    def shares(epoch: int, seed: int = 0) -> list[list[int]]:
        samplers = [data.DistributedSampler(range(n), replicas, rank, seed=seed,
                                            drop_last=drop_last) for rank in range(replicas)]
        for s in samplers:
            s.set_epoch(epoch)
        return [list(s) for s in samplers]

    first = shares(0)
    theirs = [list(torch.utils.data.DistributedSampler(range(n), replicas, rank,
                                                      drop_last=drop_last))
              for rank in range(replicas)]
    assert [len(s) for s in first] == [len(s) for s in theirs]
    drawn = sorted(i for share in first for i in share)
    if drop_last:
        assert len(set(drawn)) == len(drawn) == 20
    else:
        assert sorted(set(drawn)) == list(range(n)) and len(drawn) == 24
    assert shares(0) == first  # the same seed and epoch: the same order
    assert shares(1) != first and shares(0, seed=1) != first
    in_order = [list(data.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                             drop_last=drop_last)) for rank in range(replicas)]
    assert first != in_order


DISTRIBUTED_ERRORS = {
    "rank too large": lambda lib: lib.utils.data.DistributedSampler(range(4), 2, 2),
    "negative rank": lambda lib: lib.utils.data.DistributedSampler(range(4), 2, -1),
}


@pytest.mark.parametrize("scenario", DISTRIBUTED_ERRORS.values(), ids=DISTRIBUTED_ERRORS.keys())
def test_distributed_sampler_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


def test_distributed_sampler_without_replicas_says_to_pass_them(torch):
    """torch asks its default process group, which needs torch.distributed; funcgrad has none
    (``distributed.is_available()`` is False), so it raises torch's error for that case, with
    the fix."""
    with pytest.raises(RuntimeError, match="Requires distributed package to be available: "
                                           ".*pass num_replicas and rank"):
        data.DistributedSampler(range(4))


# ----- DataLoader -----------------------------------------------------------------------------
LOADERS = {
    "batch 1": {},
    "batch 4": {"batch_size": 4},
    "batch 4 drop_last": {"batch_size": 4, "drop_last": True},
    "batch 5 exact": {"batch_size": 5, "drop_last": True},
    "no batching": {"batch_size": None},
    "sampler": {"batch_size": 3, "sampler": [9, 0, 4, 4, 1]},
    "batch_sampler": {"batch_sampler": [[1, 2], [0], [7, 8, 9]]},
    "collate_fn": {"batch_size": 4, "collate_fn": lambda batch: len(batch)},
    # (torch warns that it has no accelerator to pin memory for.)
    "pin_memory": pytest.param({"batch_size": 3, "pin_memory": True}, marks=pytest.mark.
                               filterwarnings("ignore:'pin_memory' argument is set as true")),
    "shuffle off": {"batch_size": 3, "shuffle": False},
}


@pytest.mark.parametrize("options", LOADERS.values(), ids=LOADERS.keys())
def test_dataloader_batches_match_torch(torch, options):
    theirs = torch.utils.data.DataLoader(_tensor_dataset(torch), **options)
    with jax.enable_x64(True):
        ours = data.DataLoader(_tensor_dataset(funcgrad), **options)
        assert len(ours) == len(theirs)
        _assert_same(list(ours), list(theirs))


@pytest.mark.parametrize("options", [{"batch_size": 3}, {"batch_size": 3, "drop_last": True},
                                     {"batch_size": None}], ids=["batch", "drop_last", "none"])
def test_dataloader_over_an_iterable_dataset_matches_torch(torch, options):
    # One class serves both: torch's DataLoader asks only isinstance(dataset, its own
    # IterableDataset), so the torch side gets a twin subclass of torch's class.
    twin = type("TorchStream", (torch.utils.data.IterableDataset,),
                {"__iter__": _Stream.__iter__, "__len__": _Stream.__len__,
                 "__init__": _Stream.__init__})
    theirs = torch.utils.data.DataLoader(twin(7), **options)
    with jax.enable_x64(True):
        ours = data.DataLoader(_Stream(7), **options)
        assert len(ours) == len(theirs)
        _assert_same(list(ours), list(theirs))


def test_dataloader_shuffles_afresh_each_epoch_and_reproducibly():
    def epochs(generator=None):
        loader = data.DataLoader(data.TensorDataset(funcgrad.arange(30)), batch_size=7,
                                 shuffle=True, generator=generator)
        return [[i for (batch,) in loader for i in batch.tolist()] for _ in range(2)]

    funcgrad.manual_seed(0)
    first, second = epochs()
    assert _is_permutation(first, 30) and _is_permutation(second, 30) and first != second
    funcgrad.manual_seed(0)
    assert epochs() == [first, second]
    assert epochs(funcgrad.Generator().manual_seed(9)) == epochs(
        funcgrad.Generator().manual_seed(9))


DATALOADER_ERRORS = {
    "negative workers": {"num_workers": -1},
    "negative timeout": {"timeout": -1},
    "prefetch without workers": {"prefetch_factor": 2},
    "persistent without workers": {"persistent_workers": True},
    "context without workers": {"multiprocessing_context": "spawn"},
    "sampler and shuffle": {"sampler": [0, 1], "shuffle": True},
    "batch_sampler and batch_size": {"batch_sampler": [[0]], "batch_size": 2},
    "batch_sampler and drop_last": {"batch_sampler": [[0]], "drop_last": True},
    "no batching and drop_last": {"batch_size": None, "drop_last": True},
    "bad batch_size": {"batch_size": 0},
}


@pytest.mark.parametrize("options", DATALOADER_ERRORS.values(), ids=DATALOADER_ERRORS.keys())
def test_dataloader_errors_match_torch(torch, options):
    assert_raises_as_torch(torch, lambda lib: lib.utils.data.DataLoader(range(4), **options))


@pytest.mark.parametrize("options", [{"shuffle": True}, {"sampler": [0, 1]},
                                     {"batch_sampler": [[0, 1]]}],
                         ids=["shuffle", "sampler", "batch_sampler"])
def test_dataloader_iterable_dataset_errors_match_torch(torch, options):
    assert_raises_as_torch(
        torch, lambda lib: lib.utils.data.DataLoader(_empty_stream(lib), **options))


def test_dataloader_refuses_worker_processes_with_the_fix():
    with pytest.raises(NotImplementedError, match="got num_workers=2. Pass num_workers=0"):
        data.DataLoader(range(4), num_workers=2)


def test_training_through_a_dataloader_follows_torch(torch):
    """A linear model trained with SGD for two epochs over unshuffled batches (the last one
    short) has torch's loss at every step."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.1).astype(np.float32)

    def losses(lib, model):
        loader = lib.utils.data.DataLoader(
            lib.utils.data.TensorDataset(lib.tensor(x), lib.tensor(y)), batch_size=4)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
        seen = []
        for _ in range(2):
            for inputs, targets in loader:
                optimizer.zero_grad()
                loss = lib.nn.functional.mse_loss(model(inputs), targets)
                loss.backward()
                optimizer.step()
                seen.append(loss.item())
        return seen

    torch_model = torch.nn.Linear(3, 1)
    model = funcgrad.nn.Linear(3, 1)
    model.load_state_dict(torch_model.state_dict())
    expected = losses(torch, torch_model)
    assert len(expected) == 6
    np.testing.assert_allclose(losses(funcgrad, model), expected, rtol=1e-5, atol=1e-6)


# ----- Generator ------------------------------------------------------------------------------
def test_generator_seeds_as_torch(torch):
    ours, theirs = funcgrad.Generator(), torch.Generator()
    assert ours.initial_seed() == theirs.initial_seed()
    assert ours.manual_seed(7) is ours and ours.initial_seed() == 7
    seed = ours.seed()
    assert isinstance(seed, int) and ours.initial_seed() == seed
    assert funcgrad.manual_seed(3) is funcgrad.default_generator
    assert funcgrad.default_generator.initial_seed() == 3
    assert str(ours.device) == str(theirs.device) == "cpu"


def test_importing_funcgrad_starts_no_jax_backend():
    """The global generator is made at import; its key and device wait for first use, so
    configuring JAX after importing funcgrad still works."""
    code = ("import funcgrad, jax._src.xla_bridge as xb; "
            "print(xb.backends_are_initialized())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("draw", [
    lambda g: funcgrad.rand(4, generator=g),
    lambda g: funcgrad.randn(2, 2, generator=g),
    lambda g: funcgrad.randint(0, 10, (6,), generator=g),
    lambda g: funcgrad.randperm(8, generator=g),
], ids=["rand", "randn", "randint", "randperm"])
def test_factories_draw_from_a_given_generator(draw):
    g = funcgrad.Generator().manual_seed(11)
    first, second = draw(g), draw(g)
    assert not bool((first == second).all())
    funcgrad.manual_seed(0)
    global_draw = draw(None)
    g.manual_seed(11)
    assert bool((draw(g) == first).all())
    funcgrad.manual_seed(0)
    assert bool((draw(None) == global_draw).all())  # the generator left the global stream


def test_a_compiled_step_draws_from_its_generator_as_eager_code_does():
    g = funcgrad.Generator().manual_seed(1)
    step = funcgrad.compile(lambda: funcgrad.rand(2, generator=g))
    compiled = [step().tolist() for _ in range(3)]
    g.manual_seed(1)
    assert compiled == [funcgrad.rand(2, generator=g).tolist() for _ in range(3)]

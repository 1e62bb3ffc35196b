"""Sampling (``bernoulli``, ``multinomial``, ``normal``, ``poisson`` and the in-place samplers):
the distributions against their closed forms (moments of many draws, within five standard
errors), and shapes, dtypes, recorded nodes, gradients and errors against torch's."""

from __future__ import annotations

import math

import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch

N = 200_000


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _assert_mean(draws, mean: float, std: float) -> None:
    """The sample mean of ``draws`` within five standard errors of ``mean``."""
    draws = np.asarray(draws, np.float64).ravel()
    assert abs(draws.mean() - mean) < 5 * std / math.sqrt(draws.size), (draws.mean(), mean)


@pytest.fixture(autouse=True)
def _seeded():
    funcgrad.manual_seed(0)


def test_bernoulli_draws_ones_with_the_given_probabilities():
    p = np.array([0.0, 0.1, 0.5, 0.9, 1.0], np.float32)
    draws = np.asarray(funcgrad.bernoulli(funcgrad.tensor(np.tile(p, (N // 5, 1)))))
    for j, pj in enumerate(p):
        _assert_mean(draws[:, j], pj, math.sqrt(pj * (1 - pj)) + 1e-12)
    _assert_mean(funcgrad.bernoulli(funcgrad.zeros(N), 0.3), 0.3, math.sqrt(0.21))
    _assert_mean(funcgrad.zeros(N).bernoulli_(0.7), 0.7, math.sqrt(0.21))
    _assert_mean(funcgrad.zeros(N // 2, 2).bernoulli_(funcgrad.tensor([0.2, 0.6])),
                 0.4, math.sqrt(0.24))


@pytest.mark.parametrize("replacement", [True, False])
def test_multinomial_draws_in_proportion_to_the_weights(replacement):
    weights = np.array([1.0, 0.0, 3.0, 4.0], np.float32)  # not normalized
    rows = funcgrad.tensor(np.tile(weights, (N // 2, 1)))
    first = np.asarray(funcgrad.multinomial(rows, 1, replacement))[:, 0]
    p = weights / weights.sum()
    for k, pk in enumerate(p):
        _assert_mean(first == k, pk, math.sqrt(pk * (1 - pk)) + 1e-12)
    if replacement:
        draws = np.asarray(funcgrad.multinomial(funcgrad.tensor(weights), N, True))
        _assert_mean(draws == 3, p[3], math.sqrt(p[3] * (1 - p[3])))
    else:
        # Every index at most once, and the weight-0 category only after the others.
        draws = np.asarray(funcgrad.multinomial(rows[:1000], 4))
        assert (np.sort(draws, 1) == np.arange(4)).all()
        assert (draws[:, 3] == 1).all()


def test_normal_takes_torchs_four_forms():
    mean = funcgrad.tensor([[-1.0], [2.0]])
    std = funcgrad.tensor([0.5, 1.0, 3.0])
    draws = np.stack([np.asarray(funcgrad.normal(mean, std)) for _ in range(N // 6)])
    for i, m in enumerate([-1.0, 2.0]):
        for j, s in enumerate([0.5, 1.0, 3.0]):
            _assert_mean(draws[:, i, j], m, s)
            _assert_mean((draws[:, i, j] - m) ** 2, s ** 2, s ** 2 * math.sqrt(2))
    _assert_mean(funcgrad.normal(funcgrad.full((N,), 3.0), 2.0), 3.0, 2.0)
    _assert_mean(funcgrad.normal(-2.0, funcgrad.full((N,), 0.5)), -2.0, 0.5)
    fixed = funcgrad.normal(1.0, 2.0, (N,))
    assert fixed.shape == (N,) and fixed.dtype == funcgrad.float32
    _assert_mean(fixed, 1.0, 2.0)


def test_poisson_draws_have_the_rates_mean_and_variance():
    rates = np.array([0.5, 4.0, 30.0], np.float32)
    draws = np.asarray(funcgrad.poisson(funcgrad.tensor(np.tile(rates, (N // 3, 1)))))
    assert (draws == np.round(draws)).all()
    for j, r in enumerate(rates):
        _assert_mean(draws[:, j], r, math.sqrt(r))
        _assert_mean((draws[:, j] - r) ** 2, r, math.sqrt(r + 2 * r * r))


def test_binomial_draws_have_the_trials_mean_and_variance():
    counts, probs = np.array([3.0, 10.0, 40.0], np.float32), np.array([0.5, 0.3, 0.9], np.float32)
    draws = np.asarray(funcgrad.binomial(funcgrad.tensor(np.tile(counts, (N // 3, 1))),
                                         funcgrad.tensor(probs)))  # (broadcast)
    assert (draws == np.round(draws)).all() and (draws >= 0).all() and (draws <= counts).all()
    for j, (n, p) in enumerate(zip(counts, probs)):
        _assert_mean(draws[:, j], n * p, math.sqrt(n * p * (1 - p)))


def test_binomial_refuses_integer_counts_as_torch(torch):
    assert_raises_as_torch(torch, lambda T: T.binomial(T.tensor([3, 4], dtype=T.int32),
                                                       T.tensor([0.5, 0.5])))


@pytest.mark.parametrize("sampler, mean, std", [
    (lambda t: t.exponential_(2.0), 0.5, 0.5),
    (lambda t: t.geometric_(0.25), 4.0, math.sqrt(0.75) / 0.25),
    (lambda t: t.log_normal_(0.5, 0.25), math.exp(0.5 + 0.25 ** 2 / 2),
     math.sqrt((math.exp(0.25 ** 2) - 1) * math.exp(1 + 0.25 ** 2))),
    (lambda t: t.random_(3, 13), 7.5, math.sqrt((10 ** 2 - 1) / 12)),
    (lambda t: t.random_(4), 1.5, math.sqrt((4 ** 2 - 1) / 12)),
], ids=["exponential_", "geometric_", "log_normal_", "random_-range", "random_-to"])
def test_in_place_samplers_draw_their_distributions(sampler, mean, std):
    t = funcgrad.zeros(N)
    assert sampler(t) is t
    _assert_mean(t, mean, std)


def test_cauchy_and_default_random_draw_their_distributions():
    # A Cauchy sample has no mean: its quartiles are median -+ sigma.
    draws = np.asarray(funcgrad.zeros(N).cauchy_(1.0, 2.0))
    quartiles = np.quantile(draws, [0.25, 0.5, 0.75])
    np.testing.assert_allclose(quartiles, [-1.0, 1.0, 3.0], atol=0.05)
    # random_() of a float32 tensor: the integers in [0, 2**24], every one exact there.
    draws = np.asarray(funcgrad.zeros(N).random_(), np.float64)
    assert (draws == np.round(draws)).all() and draws.min() >= 0 and draws.max() <= 2 ** 24
    _assert_mean(draws, 2 ** 23, 2 ** 24 / math.sqrt(12))


def test_a_generator_repeats_its_draws():
    def draws(seed):
        g = funcgrad.Generator().manual_seed(seed)
        return [np.asarray(x) for x in (
            funcgrad.bernoulli(funcgrad.full((5,), 0.5), generator=g),
            funcgrad.multinomial(funcgrad.ones(5), 3, generator=g),
            funcgrad.normal(funcgrad.zeros(5), 1.0, generator=g),
            funcgrad.poisson(funcgrad.full((5,), 3.0), generator=g),
            funcgrad.zeros(5).exponential_(generator=g))]

    for a, b in zip(draws(7), draws(7)):
        np.testing.assert_array_equal(a, b)
    assert any((a != b).any() for a, b in zip(draws(7), draws(8)))



def _forked(lib, **kwargs):
    """What the global stream does around a fork_rng block that reseeds and draws: the initial
    seed after it, and whether the draws after it are those of seed 1's stream."""
    lib.manual_seed(1)
    first = lib.rand(4)
    lib.manual_seed(1)
    with lib.random.fork_rng(**kwargs):
        lib.manual_seed(5)
        lib.rand(3)
    return lib.initial_seed(), bool((lib.rand(4) == first).all())


@pytest.mark.parametrize("kwargs", [{}, {"devices": []}, {"devices": iter([])},
                                    {"enabled": False}, {"device_type": "meta"}])
def test_fork_rng_restores_the_stream_as_torch(torch, kwargs):
    want = _forked(torch, **kwargs)
    forks = kwargs.get("enabled", True) and kwargs.get("device_type") != "meta"
    assert want == ((1, True) if forks else (5, False))
    assert _forked(funcgrad, **kwargs) == want


def test_fork_rng_restores_the_stream_after_an_error():
    funcgrad.manual_seed(2)
    state = funcgrad.get_rng_state()
    with pytest.raises(ValueError, match="inside"), funcgrad.random.fork_rng():
        funcgrad.manual_seed(9)
        funcgrad.rand(2)
        raise ValueError("inside")
    assert funcgrad.initial_seed() == 2 and funcgrad.get_rng_state().equal(state)


def test_fork_rng_refuses_a_device_that_is_not_there(torch):
    if funcgrad.cuda.is_available() or torch.cuda.is_available():
        pytest.skip("a GPU is attached: device 0 exists")
    with pytest.raises(AssertionError, match="not compiled with CUDA"):
        with torch.random.fork_rng(devices=[0]):
            pass
    state = funcgrad.get_rng_state()
    with pytest.raises(RuntimeError, match="device 'cuda' is not available: JAX sees"):
        with funcgrad.random.fork_rng(devices=[0]):
            funcgrad.rand(2)
    assert funcgrad.get_rng_state().equal(state)  # the block never ran


def test_seed_restarts_the_stream_from_a_fresh_seed_as_torch(torch):
    for lib in (torch, funcgrad):
        first = lib.seed()
        assert isinstance(first, int) and lib.initial_seed() == first
        after = lib.rand(3)
        assert lib.seed() != first
        lib.manual_seed(first)
        assert (lib.rand(3) == after).all()


def test_random_has_torchs_functions(torch):
    for name in ("Generator", "default_generator", "fork_rng", "get_rng_state",
                 "initial_seed", "manual_seed", "seed", "set_rng_state"):
        assert hasattr(torch.random, name) and hasattr(funcgrad.random, name), name

def _draw(lib, name):
    p = lib.full((2, 3), 0.5, requires_grad=True)
    return {
        "bernoulli": lambda: lib.bernoulli(p),
        "bernoulli-method": lambda: p.bernoulli(),
        "normal-tensor-float": lambda: lib.normal(p, 2.0),
        "normal-float-tensor": lambda: lib.normal(1.0, p),
        "normal-tensors": lambda: lib.normal(p, lib.ones(3)),
        "normal-size": lambda: lib.normal(0.0, 1.0, (4, 2)),
        "poisson": lambda: lib.poisson(p),
        "multinomial": lambda: lib.multinomial(p.detach(), 2),
        "multinomial-method": lambda: p.detach()[0].multinomial(4, replacement=True),
    }[name](), p


@pytest.mark.parametrize("name", ["bernoulli", "bernoulli-method", "normal-tensor-float",
                                  "normal-float-tensor", "normal-tensors", "normal-size",
                                  "poisson", "multinomial", "multinomial-method"])
def test_samples_are_recorded_and_shaped_as_torchs(torch, name):
    ours, p = _draw(funcgrad, name)
    theirs, tp = _draw(torch, name)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.kind == np.dtype(str(theirs.dtype).split(".")[-1]).kind
    assert ours.requires_grad == theirs.requires_grad
    assert (ours.grad_fn and ours.grad_fn.name()) == (theirs.grad_fn and
                                                      type(theirs.grad_fn).__name__)
    if theirs.requires_grad:  # a sample's gradient to what it was drawn from is zero
        ours.sum().backward()
        theirs.sum().backward()
        np.testing.assert_array_equal(np.asarray(p.grad), tp.grad.numpy())


_ERRORS = {
    "bernoulli-outside": lambda lib: lib.bernoulli(lib.tensor([1.5])),
    "bernoulli-p": lambda lib: lib.bernoulli(lib.ones(2), 1.5),
    "bernoulli_-p": lambda lib: lib.ones(2).bernoulli_(-0.5),
    "bernoulli_-tensor": lambda lib: lib.ones(2).bernoulli_(lib.tensor([2.0, 0.0])),
    "bernoulli-ints": lambda lib: lib.bernoulli(lib.tensor([0, 1], dtype=lib.int32)),
    "normal-std": lambda lib: lib.normal(lib.zeros(2), -1.0),
    "normal-std-tensor": lambda lib: lib.normal(lib.zeros(2), lib.tensor([1.0, -1.0])),
    "normal-numbers-std": lambda lib: lib.normal(0.0, -1.0, (2,)),
    "normal-shapes": lambda lib: lib.normal(lib.zeros(2), lib.ones(3)),
    "multinomial-too-many": lambda lib: lib.multinomial(lib.ones(3), 4),
    "multinomial-none": lambda lib: lib.multinomial(lib.ones(3), 0),
    "multinomial-negative": lambda lib: lib.multinomial(lib.tensor([-1.0, 1.0]), 1),
    "multinomial-nan": lambda lib: lib.multinomial(lib.tensor([math.nan, 1.0]), 1),
    "multinomial-zero-sum": lambda lib: lib.multinomial(lib.zeros(2), 1),
    "multinomial-3d": lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1),
    "multinomial-ints": lambda lib: lib.multinomial(lib.tensor([0, 1], dtype=lib.int32), 1),
    "poisson-negative": lambda lib: lib.poisson(lib.tensor([-1.0])),
    "poisson-ints": lambda lib: lib.poisson(lib.tensor([1, 2], dtype=lib.int32)),
    "exponential_": lambda lib: lib.ones(2).exponential_(-1.0),
    "geometric_": lambda lib: lib.ones(2).geometric_(1.5),
    "log_normal_": lambda lib: lib.ones(2).log_normal_(0.0, -1.0),
    "cauchy_": lambda lib: lib.ones(2).cauchy_(0.0, -1.0),
    "random_": lambda lib: lib.ones(2).random_(3, 1),
}


@pytest.mark.parametrize("case", list(_ERRORS))
def test_bad_parameters_raise_torchs_errors(torch, case):
    with pytest.raises((RuntimeError, NotImplementedError)) as theirs:
        _ERRORS[case](torch)
    with pytest.raises(type(theirs.value)) as ours:
        _ERRORS[case](funcgrad)
    expected = str(theirs.value).split("  (Could this error")[0]
    assert str(ours.value) == expected

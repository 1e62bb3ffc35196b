"""``funcgrad.distributions`` against torch.distributions, finite differences and closed forms.

Each case builds one distribution, from the same parameters, in both libraries: every method
and property (``log_prob``, ``entropy``, ``cdf``, ``icdf``, ``mean``, ``mode``, ``variance``,
``stddev``) must give torch's values, ``grad_fn`` and gradients with respect to the parameters,
or raise ``NotImplementedError`` where torch does. ``log_prob``'s gradients are checked against
float64 finite differences too. Sampling is checked for torch's shapes and dtypes, for moments
against the closed forms, and for reparameterized gradients against the derivatives of the
closed-form mean; ``validate_args`` for torch's errors, word for word.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import funcgrad
from funcgrad.autograd import gradcheck
from test_errors import assert_raises_as_torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def D(lib):
    return lib.distributions


def _spd(lib, a):
    """A symmetric positive-definite matrix from any square ``a``, so a parameter can move
    freely (in finite differences too) and stay valid."""
    return a @ a.mT + 0.5 * lib.eye(a.shape[-1], dtype=a.dtype)


class Int(list):
    """Values that are class indices: int64 in torch, funcgrad's default integer dtype."""


LOC, SCALE = [0.3, -1.0], [1.5, 0.7]
# the Cholesky factor of a correlation matrix (rows of unit norm), in float64 so that float32
# rounds it within corr_cholesky's tolerance
CORR_TRIL = np.linalg.cholesky([[1.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.0]]).tolist()
LOGITS = [[0.1, -1.0, 2.0], [0.3, 0.0, -0.5]]
FACTOR = [[1.2, 0.1], [0.4, 0.8]]
# name: (constructor of (lib, *parameters), parameters, a value in the support)
CASES = {
    "Normal": (lambda T, a, b: D(T).Normal(a, b), (LOC, SCALE), [0.2, 1.1]),
    "LogNormal": (lambda T, a, b: D(T).LogNormal(a, b), (LOC, [0.5, 0.8]), [0.7, 2.0]),
    "Uniform": (lambda T, a, b: D(T).Uniform(a, b), ([0.0, -1.0], [2.0, 0.5]), [0.5, 0.2]),
    "Exponential": (lambda T, r: D(T).Exponential(r), ([0.5, 2.0],), [0.3, 1.7]),
    "Laplace": (lambda T, a, b: D(T).Laplace(a, b), (LOC, SCALE), [0.2, -2.0]),
    "Gamma": (lambda T, c, r: D(T).Gamma(c, r), ([0.7, 3.0], [1.5, 0.4]), [0.4, 5.0]),
    "Beta": (lambda T, a, b: D(T).Beta(a, b), ([0.7, 3.0], [2.0, 0.6]), [0.3, 0.8]),
    "Poisson": (lambda T, r: D(T).Poisson(r), ([0.7, 3.0],), [0.0, 4.0]),
    "Bernoulli_probs": (lambda T, p: D(T).Bernoulli(probs=p), ([0.3, 0.8],), [1.0, 0.0]),
    "Bernoulli_logits": (lambda T, lg: D(T).Bernoulli(logits=lg), ([-0.4, 1.2],), [1.0, 0.0]),
    "Binomial_probs": (lambda T, p: D(T).Binomial(6, probs=p), ([0.3, 0.8],), [2.0, 6.0]),
    "Binomial_logits": (lambda T, lg: D(T).Binomial(T.tensor([[3.0], [3.0]]), logits=lg),
                        ([-0.4, 1.2],), [[0.0, 3.0], [1.0, 2.0]]),
    "Categorical_probs": (lambda T, p: D(T).Categorical(probs=p),
                          ([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]],), Int([2, 0])),
    "Categorical_logits": (lambda T, lg: D(T).Categorical(logits=lg), (LOGITS,), Int([1, 2])),
    "OneHotCategorical": (lambda T, lg: D(T).OneHotCategorical(logits=lg), (LOGITS,),
                          [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
    "Dirichlet": (lambda T, c: D(T).Dirichlet(c), ([[0.7, 2.0, 3.0], [0.5, 0.4, 0.9]],),
                  [[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]]),
    "MultivariateNormal_cov": (lambda T, m, a: D(T).MultivariateNormal(m, _spd(T, a)),
                               ([[0.3, -1.0], [0.5, 0.2]], FACTOR), [[0.1, 0.4], [1.0, -1.0]]),
    "MultivariateNormal_tril": (lambda T, m, a: D(T).MultivariateNormal(m, scale_tril=a.tril()),
                                ([0.3, -1.0], FACTOR), [[0.1, 0.4], [1.0, -1.0]]),
    "MultivariateNormal_precision": (
        lambda T, m, a: D(T).MultivariateNormal(m, precision_matrix=_spd(T, a)),
        ([0.3, -1.0], FACTOR), [0.1, 0.4]),
    "Cauchy": (lambda T, a, b: D(T).Cauchy(a, b), (LOC, SCALE), [0.2, 1.1]),
    "Gumbel": (lambda T, a, b: D(T).Gumbel(a, b), (LOC, SCALE), [0.2, 1.1]),
    "HalfNormal": (lambda T, s: D(T).HalfNormal(s), (SCALE,), [0.2, 1.1]),
    "HalfCauchy": (lambda T, s: D(T).HalfCauchy(s), (SCALE,), [0.2, 1.1]),
    "StudentT": (lambda T, df, a, b: D(T).StudentT(df, a, b), ([6.0, 9.0], LOC, SCALE),
                 [0.2, 1.1]),
    "Chi2": (lambda T, df: D(T).Chi2(df), ([3.0, 5.0],), [0.7, 4.0]),
    "Geometric_probs": (lambda T, p: D(T).Geometric(probs=p), ([0.3, 0.8],), [2.0, 0.0]),
    "Geometric_logits": (lambda T, lg: D(T).Geometric(logits=lg), ([-0.4, 1.2],), [1.0, 3.0]),
    "Independent": (lambda T, a, b: D(T).Independent(D(T).Normal(a, b), 1),
                    ([LOC, [0.1, 0.2]], [SCALE, [0.3, 2.0]]), [0.2, 1.1]),
    "NegativeBinomial_probs": (lambda T, n, p: D(T).NegativeBinomial(n, probs=p),
                               ([3.0, 5.0], [0.3, 0.6]), [2.0, 7.0]),
    "NegativeBinomial_logits": (lambda T, n, lg: D(T).NegativeBinomial(n, logits=lg),
                                ([2.5, 4.0], [-0.4, 0.3]), [0.0, 3.0]),
    "Multinomial": (lambda T, p: D(T).Multinomial(5, probs=p),
                    ([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]],), [[1.0, 3.0, 1.0], [4.0, 0.0, 1.0]]),
    "Weibull": (lambda T, s, c: D(T).Weibull(s, c), ([1.0, 2.0], [1.5, 3.0]), [0.4, 2.5]),
    # (alpha above 4: the moments test needs a finite fourth moment)
    "Pareto": (lambda T, s, a: D(T).Pareto(s, a), ([1.0, 2.0], [4.5, 6.0]), [1.2, 5.0]),
    "MixtureSameFamily": (lambda T, lg, m, s: D(T).MixtureSameFamily(
        D(T).Categorical(logits=lg), D(T).Normal(m, s)),
        (LOGITS, [[0.0, 1.0, -1.0], [2.0, 0.5, 0.0]], [[0.5, 1.0, 0.8], [1.2, 0.6, 0.9]]),
        [0.2, 1.1]),
    "LowRankMultivariateNormal": (
        lambda T, m, w, d: D(T).LowRankMultivariateNormal(m, w, d),
        ([[0.3, -1.0, 0.5], [0.5, 0.2, 0.0]], [[0.6, 0.1], [-0.4, 0.8], [0.3, 0.2]],
         [1.1, 0.5, 0.7]), [[0.1, 0.4, -0.3], [1.0, -1.0, 0.2]]),
    "VonMises": (lambda T, a, k: D(T).VonMises(a, k), (LOC, [0.5, 4.5]), [0.2, 4.1]),
    # (concentration above 4: the moments test needs a finite fourth moment)
    "InverseGamma": (lambda T, c, r: D(T).InverseGamma(c, r), ([4.5, 6.0], [1.5, 0.4]),
                     [0.4, 0.05]),
    "RelaxedBernoulli_probs": (lambda T, t, p: D(T).RelaxedBernoulli(t, probs=p),
                               ([0.7, 1.3], [0.3, 0.8]), [0.2, 0.9]),
    "RelaxedBernoulli_logits": (lambda T, t, lg: D(T).RelaxedBernoulli(t, logits=lg),
                                ([0.7, 1.3], [-0.4, 1.2]), [0.2, 0.9]),
    "RelaxedOneHotCategorical": (
        lambda T, t, lg: D(T).RelaxedOneHotCategorical(t, logits=lg), (0.7, LOGITS),
        [[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]]),
    "OneHotCategoricalStraightThrough": (
        lambda T, lg: D(T).OneHotCategoricalStraightThrough(logits=lg), (LOGITS,),
        [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
    "Kumaraswamy": (lambda T, a, b: D(T).Kumaraswamy(a, b), ([0.7, 3.0], [2.0, 1.6]),
                    [0.3, 0.8]),
    "LogisticNormal": (lambda T, a, b: D(T).LogisticNormal(a, b),
                       ([[0.3, -1.0], [0.5, 0.2]], [[1.5, 0.7], [0.4, 1.1]]),
                       [[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]]),
    # (the second probability is in the region about 1/2 where Taylor expansions are used)
    "ContinuousBernoulli_probs": (lambda T, p: D(T).ContinuousBernoulli(probs=p),
                                  ([0.2, 0.5004],), [0.2, 0.9]),
    "ContinuousBernoulli_logits": (lambda T, lg: D(T).ContinuousBernoulli(logits=lg),
                                   ([-0.4, 1.2],), [0.2, 0.9]),
    # (df2 above 8: the moments test needs a finite fourth moment)
    "FisherSnedecor": (lambda T, a, b: D(T).FisherSnedecor(a, b), ([3.0, 5.0], [9.0, 12.0]),
                       [0.7, 2.0]),
    # (concentration below 1/4, for the fourth moment; the negative one bounds the support)
    "GeneralizedPareto": (lambda T, a, b, c: D(T).GeneralizedPareto(a, b, c),
                          (LOC, SCALE, [0.1, -0.2]), [0.5, 1.1]),
    "LKJCholesky": (lambda T, c: D(T).LKJCholesky(3, c), ([0.5, 2.0],), CORR_TRIL),
    "Wishart_cov": (lambda T, df, a: D(T).Wishart(df, _spd(T, a)), ([3.0, 5.5], FACTOR),
                    [[1.5, 0.3], [0.3, 0.9]]),
    "Wishart_tril": (lambda T, df, a: D(T).Wishart(df, scale_tril=a.tril()),
                     ([3.0, 5.5], FACTOR), [[1.5, 0.3], [0.3, 0.9]]),
    "Wishart_precision": (lambda T, df, a: D(T).Wishart(df, precision_matrix=_spd(T, a)),
                          ([3.0, 5.5], FACTOR), [[1.5, 0.3], [0.3, 0.9]]),
}
# torch has no entropy for these (nor has funcgrad)
NO_ENTROPY = ("Poisson", "NegativeBinomial_probs", "NegativeBinomial_logits",
              "MixtureSameFamily", "VonMises", "RelaxedBernoulli_probs",
              "RelaxedBernoulli_logits", "RelaxedOneHotCategorical", "LogisticNormal",
              "LKJCholesky", "FisherSnedecor")
METHODS = ["log_prob", "entropy", "cdf", "icdf", "mean", "mode", "variance", "stddev"]
PROBS = [0.3, 0.8]  # icdf's argument: one per batch entry of every case with one


def _value(lib, value, dtype=None):
    if isinstance(value, Int):
        return lib.tensor(value, dtype=lib.int32 if lib is funcgrad else lib.int64)
    return lib.tensor(value, dtype=dtype)


def _distribution(lib, name, dtype=None):
    make, params, value = CASES[name]
    params = [lib.tensor(p, dtype=dtype, requires_grad=True) for p in params]
    return make(lib, *params), params, _value(lib, value, dtype)


def _evaluate(lib, name, method):
    """The method's result and its gradients with respect to the parameters (None where the
    result does not depend on them; the exception where torch's backward has no formula)."""
    dist, params, value = _distribution(lib, name)
    if method in ("log_prob", "cdf"):
        out = getattr(dist, method)(value)
    elif method == "icdf":
        out = dist.icdf(lib.tensor(PROBS))
    elif method == "entropy":
        out = dist.entropy()
    else:
        out = getattr(dist, method)
    if not out.requires_grad:
        return out, None
    try:
        return out, lib.autograd.grad(out.sum(), params, allow_unused=True)
    except RuntimeError as e:
        return out, e


def _numpy(t):
    return None if t is None else np.asarray(t.detach().numpy(), np.float64)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", CASES)
def test_matches_torch(torch, name, method):
    try:
        t_out, t_grads = _evaluate(torch, name, method)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            _evaluate(funcgrad, name, method)
        return
    out, grads = _evaluate(funcgrad, name, method)
    assert tuple(out.shape) == tuple(t_out.shape)
    assert out.dtype.kind == str(t_out.dtype).removeprefix("torch.")[0].replace("l", "i")
    np.testing.assert_allclose(_numpy(out), _numpy(t_out), rtol=1e-5, atol=1e-5)
    if isinstance(t_grads, RuntimeError):
        # torch's igamma has no derivative in its first argument (Gamma.cdf's concentration)
        assert "derivative for 'igamma: input' is not implemented" in str(t_grads)
        assert name in ("Gamma", "Chi2", "InverseGamma") and method == "cdf"
        return
    assert (t_grads is None) == (grads is None)
    if grads is None:
        return
    assert (out.grad_fn is None) == (t_out.grad_fn is None)  # a parameter itself: a leaf
    if out.grad_fn is not None:
        assert out.grad_fn.name() == t_out.grad_fn.name()
    for ours, theirs in zip(grads, t_grads):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=1e-4, atol=1e-5)


# (case, a parameter computed from the given ones on first use: torch's lazy_property)
_LAZY = [("Bernoulli_probs", "logits"), ("Bernoulli_logits", "probs"),
         ("Categorical_probs", "logits"), ("Categorical_logits", "probs"),
         ("MultivariateNormal_precision", "covariance_matrix"),
         ("MultivariateNormal_cov", "precision_matrix"),
         ("LowRankMultivariateNormal", "scale_tril"), ("VonMises", "variance"),
         ("Wishart_cov", "precision_matrix")]


@pytest.mark.parametrize(("name", "attr"), _LAZY, ids=[f"{n}-{a}" for n, a in _LAZY])
def test_a_parameter_first_read_without_grad_still_has_its_gradient(torch, name, attr):
    """Computed on first use with grad mode on, wherever that is (torch's lazy_property): read
    first under no_grad, it still carries its graph, and later terms differentiate through it
    (a cached value without one gave the parameters no gradient at all)."""

    def grads(lib):
        dist, params, _ = _distribution(lib, name)
        with lib.no_grad():
            first = getattr(dist, attr)
        getattr(dist, attr).sum().backward()
        return first.requires_grad, [_numpy(p.grad) for p in params]

    (ours_flag, ours), (theirs_flag, theirs) = grads(funcgrad), grads(torch)
    assert ours_flag is theirs_flag is True
    assert [a is None for a in ours] == [b is None for b in theirs]
    assert any(b is not None for b in theirs)
    for a, b in zip(ours, theirs):
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_distributions_utils_are_torchs(torch):
    for fn in ("logits_to_probs", "probs_to_logits"):
        for binary in (False, True):
            x = [[0.2, 0.5, 0.3], [0.0, 1.0, 0.0]]
            ours = getattr(funcgrad.distributions.utils, fn)(funcgrad.tensor(x), binary)
            theirs = getattr(torch.distributions.utils, fn)(torch.tensor(x), binary)
            np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=1e-6)
    ours = funcgrad.distributions.utils.broadcast_all(funcgrad.tensor([1.0, 2.0]), 3.0)
    theirs = torch.distributions.utils.broadcast_all(torch.tensor([1.0, 2.0]), 3.0)
    assert [t.tolist() for t in ours] == [t.tolist() for t in theirs]


@pytest.mark.parametrize("method", ["log_prob", "entropy"])
@pytest.mark.parametrize("name", CASES)
def test_gradcheck(name, method):
    """Gradients with respect to the parameters against float64 central differences."""
    if name in NO_ENTROPY and method == "entropy":
        pytest.skip("torch has no entropy of this distribution, nor has funcgrad")
    make, params, value = CASES[name]
    with jax.enable_x64(True):
        inputs = tuple(funcgrad.tensor(p, dtype=funcgrad.float64, requires_grad=True)
                       for p in params)
        value = _value(funcgrad, value, funcgrad.float64)
        if method == "log_prob":
            assert gradcheck(lambda *ps: make(funcgrad, *ps).log_prob(value), inputs)
        else:
            assert gradcheck(lambda *ps: make(funcgrad, *ps).entropy(), inputs)


def _dtype_name(t) -> str:
    """The dtype's name as torch calls it, 64-bit integers read as funcgrad's default."""
    name = str(t.dtype).removeprefix("torch.").removeprefix("funcgrad.")
    return "int32" if name == "int64" and not jax.config.jax_enable_x64 else name


# torch 2.13 warns of a singular sample at every Wishart draw (its check is the wrong way
# round); funcgrad warns only of a draw that is singular
TORCH_WISHART_WARNING = pytest.mark.filterwarnings(
    "ignore:Singular sample detected:UserWarning")


@TORCH_WISHART_WARNING
@pytest.mark.parametrize("name", CASES)
def test_shapes_samples_and_repr_match_torch(torch, name):
    ours, theirs = _distribution(funcgrad, name)[0], _distribution(torch, name)[0]
    assert repr(ours) == repr(theirs).replace("torch.", "funcgrad.")
    assert (ours.batch_shape, ours.event_shape) == (theirs.batch_shape, theirs.event_shape)
    assert ours.has_rsample == theirs.has_rsample
    for shape in [(), (4,), (3, 2)]:
        sample, expected = ours.sample(shape), theirs.sample(shape)
        assert tuple(sample.shape) == tuple(expected.shape)
        assert _dtype_name(sample) == _dtype_name(expected)
        assert not sample.requires_grad
        assert bool(ours.support.check(sample).all())
    if ours.has_rsample:
        sample, expected = ours.rsample((4,)), theirs.rsample((4,))
        assert tuple(sample.shape) == tuple(expected.shape)
        # (torch's Wishart redraws every sample, by the check above, into an index_put)
        if not name.startswith("Wishart"):
            assert sample.grad_fn.name() == expected.grad_fn.name()


@TORCH_WISHART_WARNING
@pytest.mark.parametrize("name", CASES)
def test_expand_matches_torch(torch, name):
    def expanded(lib):
        dist, _, value = _distribution(lib, name)
        new = dist.expand((3, 1, *dist.batch_shape))  # (3, 1): every case's value broadcasts
        return new, new.log_prob(value), new.sample()

    (ours, log_prob, sample), (theirs, t_log_prob, t_sample) = expanded(funcgrad), expanded(torch)
    assert ours.batch_shape == theirs.batch_shape
    assert tuple(sample.shape) == tuple(t_sample.shape)
    np.testing.assert_allclose(_numpy(log_prob), _numpy(t_log_prob), rtol=1e-5, atol=1e-5)


def test_manual_seed_makes_samples_reproducible():
    dist = D(funcgrad).Gamma(funcgrad.tensor([0.5, 2.0]), 1.0)
    funcgrad.manual_seed(3)
    first = dist.rsample((5,)), D(funcgrad).Categorical(logits=funcgrad.zeros(4)).sample((5,))
    funcgrad.manual_seed(3)
    again = dist.rsample((5,)), D(funcgrad).Categorical(logits=funcgrad.zeros(4)).sample((5,))
    for a, b in zip(first, again):
        assert np.array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(dist.rsample((5,)).numpy(), first[0].numpy())


# Sample moments against the closed-form mean and variance, at a fixed seed. With N samples
# the sample mean is off by sqrt(var / N) on average and the sample variance by
# sqrt((m4 - var^2) / N) (m4 the fourth central moment, estimated from the same samples); five
# such standard errors are beyond chance (p < 1e-6 per entry) yet catch any wrong scale, shift
# or shape parameter.
N = 200_000


def _closed_form_moments(name) -> bool:
    """Whether the case has a closed-form mean and variance, of the values' own (not circular)
    moments: Categorical's are nan, Cauchy's do not exist, VonMises's are circular."""
    if name.startswith("Categorical") or "Cauchy" in name or name == "VonMises":
        return False
    try:
        mean = _distribution(funcgrad, name)[0].mean
    except NotImplementedError:
        return False
    return mean is not None


MOMENT_CASES = [n for n in CASES if _closed_form_moments(n)]
# the rest are compared with torch's samples (those with moments at all)
TORCH_MOMENT_CASES = [n for n in CASES if n not in MOMENT_CASES
                      and not n.startswith("Categorical") and "Cauchy" not in n]


@pytest.mark.parametrize("name", MOMENT_CASES)
def test_sample_moments_match_closed_form(name):
    funcgrad.manual_seed(0)
    dist = _distribution(funcgrad, name)[0]
    x = np.asarray(dist.sample((N,)).numpy(), np.float64)
    mean, var = _numpy(dist.mean), _numpy(dist.variance)
    centred = x - mean
    m4 = (centred ** 4).mean(0)
    assert np.all(np.abs(x.mean(0) - mean) <= 5 * np.sqrt(var / N))
    assert np.all(np.abs((centred ** 2).mean(0) - var) <= 5 * np.sqrt((m4 - var ** 2) / N))


@TORCH_WISHART_WARNING
@pytest.mark.parametrize("name", TORCH_MOMENT_CASES)
def test_sample_moments_match_torch(torch, name):
    """Without closed forms, the sample means and variances must agree with torch's samples':
    the difference of two independent estimates within five of its standard errors."""
    funcgrad.manual_seed(0)
    torch.manual_seed(0)
    x = np.asarray(_distribution(funcgrad, name)[0].sample((N,)).numpy(), np.float64)
    y = np.asarray(_distribution(torch, name)[0].sample((N,)).numpy(), np.float64)
    for a, b in [(x, y), ((x - x.mean(0)) ** 2, (y - y.mean(0)) ** 2)]:
        error = np.sqrt((a.var(0) + b.var(0)) / N)
        assert np.all(np.abs(a.mean(0) - b.mean(0)) <= 5 * error + 1e-7)


# ContinuousBernoulli's icdf (so its rsample) is the identity where probs is near 1/2, as
# torch's: there the pathwise gradient is 0, not the mean's, and is compared with torch's
NOT_PATHWISE = ("ContinuousBernoulli_probs",)
RSAMPLE_CASES = [n for n in MOMENT_CASES if _distribution(funcgrad, n)[0].has_rsample
                 and n not in NOT_PATHWISE]
TORCH_RSAMPLE_CASES = [n for n in TORCH_MOMENT_CASES + list(NOT_PATHWISE)
                       if _distribution(funcgrad, n)[0].has_rsample]


def _pathwise_gradients(lib, name, k=20, m=10_000):
    """K estimates (one per group of M samples, each drawn and differentiated on its own) of
    d E[sum of x] / d parameters."""
    dist, params, _ = _distribution(lib, name)
    groups = [lib.autograd.grad(dist.rsample((m,)).mean(0).sum(), params, retain_graph=True,
                                allow_unused=True) for _ in range(k)]
    return [np.stack([_numpy(g[i]) if g[i] is not None else np.zeros(tuple(params[i].shape))
                      for g in groups]) for i in range(len(params))]


@TORCH_WISHART_WARNING
@pytest.mark.parametrize("name", TORCH_RSAMPLE_CASES)
def test_rsample_gradient_matches_torch(torch, name):
    """Without a closed-form mean, the pathwise gradients of the sample mean must agree with
    torch's: their averages within five standard errors of the difference."""
    funcgrad.manual_seed(1)
    torch.manual_seed(1)
    ours, theirs = _pathwise_gradients(funcgrad, name), _pathwise_gradients(torch, name)
    for a, b in zip(ours, theirs):
        error = np.sqrt((a.var(0, ddof=1) + b.var(0, ddof=1)) / len(a))
        assert np.all(np.abs(a.mean(0) - b.mean(0)) <= 5 * error + 1e-6)


@pytest.mark.parametrize("name", RSAMPLE_CASES)
def test_rsample_gradient_is_that_of_the_mean(name):
    """The pathwise gradient of the sample mean estimates d E[x] / d parameters, whose closed
    form is the gradient of ``dist.mean``. Split into K groups, the K estimates' spread gives
    the standard error of their average, which must be within five of the closed form (as the
    moments above). For Gamma, Beta and Dirichlet this is JAX's implicit reparameterization."""
    funcgrad.manual_seed(1)
    dist, params, _ = _distribution(funcgrad, name)
    exact = funcgrad.autograd.grad(dist.mean.sum(), params, allow_unused=True)
    for estimates, expected in zip(_pathwise_gradients(funcgrad, name), exact):
        expected = np.zeros(estimates.shape[1:]) if expected is None else _numpy(expected)
        error = estimates.std(0, ddof=1) / np.sqrt(len(estimates))
        assert np.all(np.abs(estimates.mean(0) - expected) <= 5 * error + 1e-6)


def test_gamma_rsample_gradient_in_concentration_is_one_over_rate():
    """d E[x] / d concentration = 1 / rate: the pathwise estimate over many samples."""
    funcgrad.manual_seed(2)
    concentration = funcgrad.tensor([0.3, 1.0, 4.0], requires_grad=True)
    rate = funcgrad.tensor([2.0, 1.0, 0.5])
    D(funcgrad).Gamma(concentration, rate).rsample((200_000,)).mean(0).sum().backward()
    np.testing.assert_allclose(concentration.grad.numpy(), 1 / rate.numpy(), rtol=0.02)


# ----- kl_divergence ---------------------------------------------------------------------------
# q's parameters for each case (p's are the case's own); Uniform's second q does not cover p,
# whose KL is inf
KL_CASES = {
    "Normal": ([1.0, 0.5], [2.0, 0.3]),
    "LogNormal": ([1.0, 0.5], [2.0, 0.3]),
    "Uniform": ([-1.0, -0.5], [3.0, 1.0]),
    "Exponential": ([1.5, 0.2],),
    "Laplace": ([1.0, 0.5], [2.0, 0.3]),
    "Gamma": ([1.2, 0.5], [0.3, 2.0]),
    "Beta": ([1.5, 0.5], [0.8, 2.5]),
    "Poisson": ([2.0, 0.4],),
    "Bernoulli_probs": ([0.6, 0.1],),
    "Bernoulli_logits": ([0.5, -2.0],),
    "Binomial_probs": ([0.5, 0.1],),
    "Binomial_logits": ([0.3, -1.0],),
    "Categorical_probs": ([[0.1, 0.1, 0.8], [0.3, 0.3, 0.4]],),
    "Categorical_logits": ([[1.0, 0.0, 0.0], [0.0, -2.0, 1.0]],),
    "OneHotCategorical": ([[1.0, 0.0, 0.0], [0.0, -2.0, 1.0]],),
    "Dirichlet": ([[1.0, 1.0, 2.0], [0.3, 0.8, 1.1]],),
    "MultivariateNormal_cov": ([[0.0, 0.5], [1.0, 1.0]], [[0.7, 0.0], [-0.3, 1.1]]),
    "MultivariateNormal_tril": ([[0.0, 0.5], [1.0, 1.0]], [[0.7, 0.0], [-0.3, 1.1]]),
    "MultivariateNormal_precision": ([0.0, 0.5], [[0.7, 0.0], [-0.3, 1.1]]),
    "Independent": ([[1.0, 0.5], [0.0, 0.0]], [[2.0, 0.3], [1.0, 1.0]]),
    "LowRankMultivariateNormal": ([0.0, 0.5, 1.0], [[0.2, 0.0], [0.5, -0.3], [0.1, 0.9]],
                                  [0.8, 1.2, 0.4]),
    "ContinuousBernoulli_probs": ([0.6, 0.1],),
    "ContinuousBernoulli_logits": ([0.5, -2.0],),
    # (no closed form in torch: the Bregman divergence of the exponential family)
    "Wishart_cov": ([4.0, 3.5], [[0.7, 0.0], [-0.3, 1.1]]),
}


@pytest.mark.parametrize("name", KL_CASES)
def test_kl_divergence_matches_torch(torch, name):
    def kl(lib):
        make = CASES[name][0]
        p, p_params, _ = _distribution(lib, name)
        q_params = [lib.tensor(a, requires_grad=True) for a in KL_CASES[name]]
        out = D(lib).kl_divergence(p, make(lib, *q_params))
        return out, lib.autograd.grad(out.sum(), p_params + q_params, allow_unused=True)

    (out, grads), (t_out, t_grads) = kl(funcgrad), kl(torch)
    np.testing.assert_allclose(_numpy(out), _numpy(t_out), rtol=1e-5, atol=1e-5)
    assert out.grad_fn.name() == t_out.grad_fn.name()
    for ours, theirs in zip(grads, t_grads):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=1e-4, atol=1e-5)


def test_register_kl_picks_the_most_specific_pair():
    class Unit(D(funcgrad).Normal):
        pass

    @D(funcgrad).register_kl(Unit, D(funcgrad).Normal)
    def _kl_unit_normal(p, q):  # a stand-in, told apart by its value
        return funcgrad.tensor(-1.0)

    p, q = Unit(0.0, 1.0), D(funcgrad).Normal(1.0, 2.0)
    assert D(funcgrad).kl_divergence(p, q).item() == -1.0
    # the registered Normal-Normal form still serves plain Normals (0.4431 in closed form)
    expected = np.log(2.0) + (1 + 1) / (2 * 4) - 0.5
    assert abs(D(funcgrad).kl_divergence(q.expand(()), q).item()) < 1e-6
    assert abs(D(funcgrad).kl_divergence(D(funcgrad).Normal(0.0, 1.0), q).item()
               - expected) < 1e-6


# ----- validate_args ---------------------------------------------------------------------------
def _index(lib, values):
    return _value(lib, Int(values))


ERRORS = {
    "scale_negative": lambda T: D(T).Normal(0.0, -1.0),
    "scale_negative_batch": lambda T: D(T).Normal(T.zeros(3), T.tensor([1.0, 0.0, 2.0])),
    "value_not_tensor": lambda T: D(T).Normal(0.0, 1.0).log_prob(1.0),
    "value_not_broadcastable": lambda T: D(T).Normal(T.zeros(3), 1.0).log_prob(T.zeros(2)),
    "value_event_shape": lambda T: D(T).MultivariateNormal(T.zeros(2), T.eye(2)).log_prob(
        T.zeros(3)),
    "value_outside_support": lambda T: D(T).Exponential(1.0).log_prob(T.tensor(-1.0)),
    "cdf_outside_support": lambda T: D(T).Exponential(1.0).cdf(T.tensor([-1.0, 1.0])),
    "uniform_low_above_high": lambda T: D(T).Uniform(1.0, 0.0),
    "uniform_value": lambda T: D(T).Uniform(0.0, 1.0).log_prob(T.tensor(2.0)),
    "gamma_concentration": lambda T: D(T).Gamma(T.tensor([1.0, -1.0]), 1.0),
    "beta_concentration": lambda T: D(T).Beta(T.tensor([1.0, -1.0]), 1.0),
    "beta_value": lambda T: D(T).Beta(1.0, 1.0).log_prob(T.tensor(1.5)),
    "poisson_value": lambda T: D(T).Poisson(2.0).log_prob(T.tensor(1.5)),
    "bernoulli_probs": lambda T: D(T).Bernoulli(probs=T.tensor([0.5, 2.0])),
    "bernoulli_value": lambda T: D(T).Bernoulli(0.3).log_prob(T.tensor(0.5)),
    "bernoulli_both": lambda T: D(T).Bernoulli(probs=T.tensor(0.5), logits=T.tensor(0.0)),
    "categorical_neither": lambda T: D(T).Categorical(),
    "categorical_probs": lambda T: D(T).Categorical(probs=T.tensor([0.5, -1.0])),
    "categorical_0d": lambda T: D(T).Categorical(logits=T.tensor(0.0)),
    "categorical_value": lambda T: D(T).Categorical(logits=T.zeros(3)).log_prob(
        _index(T, [3])),
    "one_hot_value": lambda T: D(T).OneHotCategorical(logits=T.zeros(3)).log_prob(
        T.tensor([1.0, 1.0, 0.0])),
    "dirichlet_0d": lambda T: D(T).Dirichlet(T.tensor(1.0)),
    "dirichlet_value": lambda T: D(T).Dirichlet(T.ones(3)).log_prob(T.tensor([0.5, 0.5, 0.5])),
    "mvn_none": lambda T: D(T).MultivariateNormal(T.zeros(2)),
    "mvn_two": lambda T: D(T).MultivariateNormal(T.zeros(2), T.eye(2), scale_tril=T.eye(2)),
    "mvn_loc_0d": lambda T: D(T).MultivariateNormal(T.tensor(0.0), T.eye(1)),
    "mvn_covariance_1d": lambda T: D(T).MultivariateNormal(T.zeros(2), T.ones(2)),
    "mvn_not_positive_definite": lambda T: D(T).MultivariateNormal(
        T.zeros(2), T.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "mvn_scale_tril_upper": lambda T: D(T).MultivariateNormal(
        T.zeros(2), scale_tril=T.tensor([[1.0, 2.0], [0.0, 1.0]])),
    "independent_ndims": lambda T: D(T).Independent(D(T).Normal(T.zeros(2), 1.0), 2),
    "kl_not_registered": lambda T: D(T).kl_divergence(D(T).Normal(0.0, 1.0),
                                                      D(T).Categorical(logits=T.zeros(2))),
    "kl_mvn_event_shapes": lambda T: D(T).kl_divergence(
        D(T).MultivariateNormal(T.zeros(2), T.eye(2)),
        D(T).MultivariateNormal(T.zeros(3), T.eye(3))),
    "lowrank_loc_0d": lambda T: D(T).LowRankMultivariateNormal(T.tensor(0.0), T.ones(1, 1),
                                                               T.ones(1)),
    "lowrank_factor_1d": lambda T: D(T).LowRankMultivariateNormal(T.zeros(2), T.ones(2),
                                                                  T.ones(2)),
    "lowrank_factor_rows": lambda T: D(T).LowRankMultivariateNormal(T.zeros(2), T.ones(3, 1),
                                                                    T.ones(2)),
    "lowrank_diag_shape": lambda T: D(T).LowRankMultivariateNormal(T.zeros(2), T.ones(2, 1),
                                                                   T.ones(3)),
    "lowrank_batch_shapes": lambda T: D(T).LowRankMultivariateNormal(
        T.zeros(3, 2), T.ones(2, 2, 1), T.ones(2)),
    "lowrank_diag_negative": lambda T: D(T).LowRankMultivariateNormal(
        T.zeros(2), T.ones(2, 1), T.tensor([1.0, -1.0])),
    "kl_lowrank_event_shapes": lambda T: D(T).kl_divergence(
        D(T).LowRankMultivariateNormal(T.zeros(2), T.ones(2, 1), T.ones(2)),
        D(T).MultivariateNormal(T.zeros(3), T.eye(3))),
    "von_mises_concentration": lambda T: D(T).VonMises(0.0, -1.0),
    "inverse_gamma_rate": lambda T: D(T).InverseGamma(1.0, T.tensor([1.0, -1.0])),
    "inverse_gamma_value": lambda T: D(T).InverseGamma(1.0, 1.0).log_prob(T.tensor(-1.0)),
    "kumaraswamy_value": lambda T: D(T).Kumaraswamy(1.0, 1.0).log_prob(T.tensor(1.5)),
    "relaxed_bernoulli_both": lambda T: D(T).RelaxedBernoulli(
        T.tensor(0.5), probs=T.tensor(0.5), logits=T.tensor(0.0)),
    "relaxed_bernoulli_probs": lambda T: D(T).RelaxedBernoulli(T.tensor(0.5),
                                                               probs=T.tensor(2.0)),
    "relaxed_one_hot_value": lambda T: D(T).RelaxedOneHotCategorical(
        T.tensor(0.5), logits=T.zeros(3)).log_prob(T.tensor([0.5, 0.6, 0.1])),
    "continuous_bernoulli_probs": lambda T: D(T).ContinuousBernoulli(T.tensor(1.5),
                                                                     validate_args=True),
    "continuous_bernoulli_value": lambda T: D(T).ContinuousBernoulli(T.tensor(0.3)).log_prob(
        T.tensor(1.5)),
    "fisher_snedecor_df": lambda T: D(T).FisherSnedecor(-1.0, 2.0),
    "generalized_pareto_value": lambda T: D(T).GeneralizedPareto(0.0, 1.0, -0.5).log_prob(
        T.tensor(3.0)),
    "lkj_dim": lambda T: D(T).LKJCholesky(1),
    "lkj_value": lambda T: D(T).LKJCholesky(2).log_prob(2 * T.eye(2)),
    "wishart_none": lambda T: D(T).Wishart(T.tensor(3.0)),
    "wishart_df": lambda T: D(T).Wishart(T.tensor([0.5, 3.0]), T.eye(2)),
    "wishart_df_number": lambda T: D(T).Wishart(0.5, T.eye(2)),
    "wishart_1d": lambda T: D(T).Wishart(3.0, T.ones(2)),
    "wishart_value": lambda T: D(T).Wishart(3.0, T.eye(2)).log_prob(-T.eye(2)),
    "logistic_normal_scale": lambda T: D(T).LogisticNormal(T.zeros(2), -T.ones(2)),
    "cat_transform_length": lambda T: D(T).transforms.CatTransform(
        [D(T).transforms.ExpTransform()], dim=0)(T.zeros(2)),
    "stack_transform_dim": lambda T: D(T).transforms.StackTransform(
        [D(T).transforms.ExpTransform()], dim=2)(T.zeros(2)),
    "corr_cholesky_shape": lambda T: D(T).transforms.CorrCholeskyTransform().forward_shape(
        (4,)),
    "corr_cholesky_vector": lambda T: D(T).transforms.CorrCholeskyTransform()(T.zeros(5)),
}


@pytest.mark.torch_wording
@pytest.mark.parametrize("scenario", ERRORS.values(), ids=ERRORS.keys())
def test_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


def test_validate_args_false_skips_the_checks(torch):
    for lib in (funcgrad, torch):
        dist = D(lib).Normal(0.0, -1.0, validate_args=False)
        assert np.isnan(_numpy(dist.log_prob(lib.tensor(0.0))))


def test_log_prob_inside_the_functional_transforms():
    """Under ``grad`` and ``vmap`` the values are traced, so validation (which reads them) is
    skipped; the results are the closed forms: d/dloc log N(x; loc, 1) = x - loc."""
    x = funcgrad.tensor([1.0, 2.5])
    score = funcgrad.grad(lambda loc: D(funcgrad).Normal(loc, 1.0).log_prob(x).sum())
    np.testing.assert_allclose(score(funcgrad.tensor([0.0, 0.5])).numpy(), [1.0, 2.0])
    batched = funcgrad.vmap(lambda loc: D(funcgrad).Normal(loc, 1.0).log_prob(x))
    expected = -0.5 * (np.array([[1.0, 2.5], [0.0, 1.5]]) ** 2) - 0.5 * np.log(2 * np.pi)
    np.testing.assert_allclose(batched(funcgrad.tensor([[0.0], [1.0]])).numpy(), expected,
                               rtol=1e-6)


def test_kl_of_binomials_of_other_total_counts_is_inf_or_refused_as_torch(torch):
    def kl(lib, n_p, n_q):
        p = D(lib).Binomial(lib.tensor(n_p), probs=lib.tensor([0.3, 0.6]))
        return D(lib).kl_divergence(p, D(lib).Binomial(4, probs=lib.tensor([0.5, 0.5])))

    np.testing.assert_allclose(_numpy(kl(funcgrad, [6.0, 4.0], 4)),
                               _numpy(kl(torch, [6.0, 4.0], 4)), rtol=1e-6)
    assert np.isinf(_numpy(kl(funcgrad, [6.0, 4.0], 4))[0])
    for lib in (torch, funcgrad):
        with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
            kl(lib, [3.0, 4.0], 4)


@pytest.mark.parametrize("expand", [True, False])
@pytest.mark.parametrize("name", CASES)
def test_enumerate_support_matches_torch(torch, name, expand):
    (dist, _, _), (t_dist, _, _) = _distribution(funcgrad, name), _distribution(torch, name)
    assert dist.has_enumerate_support == t_dist.has_enumerate_support
    if not t_dist.has_enumerate_support:
        with pytest.raises(NotImplementedError):
            dist.enumerate_support(expand)
        return
    ours, theirs = dist.enumerate_support(expand), t_dist.enumerate_support(expand)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.kind == str(theirs.dtype).removeprefix("torch.")[0].replace("l", "i")
    np.testing.assert_array_equal(_numpy(ours), _numpy(theirs))

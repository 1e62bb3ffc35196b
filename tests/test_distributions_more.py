"""The newer pieces of ``funcgrad.distributions`` against torch.distributions: transforms
(values, inverses, log-determinants, shapes and gradients), constraints, the covariance
matrices of the low-rank normal, the KL divergences across families, the exponential
family's entropy by Bregman divergence, and the accessors the main table does not reach.
The distributions themselves are in ``test_distributions.py``'s table."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import funcgrad
from test_distributions import CORR_TRIL, _numpy, _spd
from test_errors import assert_raises_as_torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def D(lib):
    return lib.distributions


def Tr(lib):
    return lib.distributions.transforms


def _close(ours, theirs, rtol=1e-5, atol=1e-5):
    np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=rtol, atol=atol)


# ----- transforms --------------------------------------------------------------------------------
X2x3 = [[0.3, -1.2, 0.5], [1.1, 0.2, -0.7]]
X3x3 = [[[0.3, -1.2, 0.5], [1.1, 0.2, -0.7], [0.4, 0.9, -0.1]],
        [[-0.5, 0.6, 0.2], [0.8, -0.3, 0.1], [1.3, -0.9, 0.7]]]
# name: (constructor of (lib, *parameters), parameters, a point of the domain)
TRANSFORMS = {
    "StickBreaking": (lambda T: Tr(T).StickBreakingTransform(), (), X2x3),
    "LowerCholesky": (lambda T: Tr(T).LowerCholeskyTransform(), (), X3x3),
    "PositiveDefinite": (lambda T: Tr(T).PositiveDefiniteTransform(), (), X3x3),
    "CorrCholesky": (lambda T: Tr(T).CorrCholeskyTransform(), (), X2x3),
    "Cat": (lambda T, s: Tr(T).CatTransform(
        [Tr(T).ExpTransform(), Tr(T).AffineTransform(1.0, s)], dim=-1, lengths=[2, 1]),
        ([2.0],), X2x3),
    "Cat_dim0": (lambda T: Tr(T).CatTransform(
        [Tr(T).ExpTransform(), Tr(T).TanhTransform()], dim=0), (), X2x3),
    "Cat_events": (lambda T, s: Tr(T).CatTransform(
        [Tr(T).IndependentTransform(Tr(T).ExpTransform(), 1),
         Tr(T).IndependentTransform(Tr(T).AffineTransform(0.0, s), 1)], dim=-1,
        lengths=[2, 1]), ([3.0],), X2x3),
    "Stack": (lambda T: Tr(T).StackTransform(
        [Tr(T).ExpTransform(), Tr(T).SigmoidTransform()], dim=-1), (), [[0.3, -1.2],
                                                                         [1.1, 0.2]]),
    "CumulativeDistribution": (lambda T, a, b: Tr(T).CumulativeDistributionTransform(
        D(T).Normal(a, b)), ([0.3, -1.0], [1.5, 0.7]), [0.2, -0.4]),
}


def _transformed(lib, name):
    """The transform's value, inverse (by a fresh transform: no cache), log-determinant
    (None where not implemented) and the gradients of their sum in the input and
    parameters."""
    make, params, x = TRANSFORMS[name]
    params = [lib.tensor(p, requires_grad=True) for p in params]
    x = lib.tensor(x, requires_grad=True)
    t = make(lib, *params)
    y = t(x)
    back = make(lib, *params).inv(y)
    try:
        ladj = t.log_abs_det_jacobian(x, y)
    except NotImplementedError:
        ladj = None
    total = y.sum() + back.sum() + (0 if ladj is None else ladj.sum())
    grads = lib.autograd.grad(total, [x, *params], allow_unused=True)
    return t, x, y, back, ladj, grads


@pytest.mark.parametrize("name", TRANSFORMS)
def test_transform_matches_torch(torch, name):
    t, x, y, back, ladj, grads = _transformed(funcgrad, name)
    tt, tx, ty, tback, tladj, tgrads = _transformed(torch, name)
    _close(y, ty)
    _close(back, tback, atol=1e-4)
    if t.bijective:
        _close(back, x, atol=1e-4)  # (the inverse undoes the map)
    assert (ladj is None) == (tladj is None)
    if ladj is not None:
        assert tuple(ladj.shape) == tuple(tladj.shape)
        _close(ladj, tladj)
    for ours, theirs in zip(grads, tgrads):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            _close(ours, theirs, rtol=1e-4, atol=1e-4)
    shape = tuple(x.shape)
    assert tuple(t.forward_shape(shape)) == tuple(tt.forward_shape(torch.Size(shape)))
    assert tuple(t.inverse_shape(tuple(y.shape))) == tuple(
        tt.inverse_shape(torch.Size(ty.shape)))
    assert t.bijective == tt.bijective
    assert (t.domain.event_dim, t.codomain.event_dim) == (tt.domain.event_dim,
                                                          tt.codomain.event_dim)
    assert np.array_equal(_numpy(t.codomain.check(y)), _numpy(tt.codomain.check(ty)))


def test_transform_caches_and_inverts_as_torch(torch):
    for lib in (funcgrad, torch):
        t = Tr(lib).CatTransform([Tr(lib).ExpTransform()], dim=0, cache_size=1)
        x = lib.tensor([0.5])
        assert t.inv(t(x)) is x
        assert isinstance(t.with_cache(0), Tr(lib).CatTransform)
    assert Tr(funcgrad).StickBreakingTransform() == Tr(funcgrad).StickBreakingTransform()
    assert Tr(funcgrad).CorrCholeskyTransform().inv(
        funcgrad.tensor(CORR_TRIL)).shape == (3,)


def test_logistic_normal_through_stick_breaking(torch):
    """LogisticNormal's samples lie on the simplex and its log-density is the normal's less
    the stick breaking's log-determinant (torch's, to rounding)."""
    funcgrad.manual_seed(0)
    d = D(funcgrad).LogisticNormal(funcgrad.zeros(3), funcgrad.ones(3))
    x = d.sample((5,))
    assert tuple(x.shape) == (5, 4)
    assert bool(d.support.check(x).all())
    t = D(torch).LogisticNormal(torch.zeros(3), torch.ones(3))
    _close(d.log_prob(x), t.log_prob(torch.tensor(x.numpy())), atol=1e-4)


# ----- constraints -------------------------------------------------------------------------------
PSD = [[[1.0, 1.0], [1.0, 1.0]], [[2.0, 0.5], [0.5, 1.0]]]
NOT_PSD = [[[1.0, 2.0], [2.0, 1.0]], [[2.0, 0.5], [0.5, 1.0]]]
NOT_SYMMETRIC = [[[1.0, 2.0], [0.0, 1.0]], [[2.0, 0.5], [0.5, 1.0]]]
LOWER = [[[1.0, 0.0], [2.0, 1.0]], [[2.0, 0.5], [0.5, 1.0]]]
# name: (constraint of lib, values to check)
CONSTRAINTS = {
    "positive_integer": (lambda T: T.distributions.constraints.positive_integer,
                         [[0.0, 1.0, 2.5, 3.0]]),
    "lower_triangular": (lambda T: T.distributions.constraints.lower_triangular, [LOWER]),
    "corr_cholesky": (lambda T: T.distributions.constraints.corr_cholesky,
                      [CORR_TRIL, [[1.0, 0.0], [0.6, 0.8]], [[1.0, 0.0], [0.6, 0.9]]]),
    "square": (lambda T: T.distributions.constraints.square,
               [PSD, [[[1.0, 2.0, 3.0], [0.0, 1.0, 2.0]]]]),
    "symmetric": (lambda T: T.distributions.constraints.symmetric, [PSD, NOT_SYMMETRIC]),
    "positive_semidefinite": (lambda T: T.distributions.constraints.positive_semidefinite,
                              [PSD, NOT_PSD, NOT_SYMMETRIC]),
    "positive_definite": (lambda T: T.distributions.constraints.positive_definite,
                          [PSD, NOT_PSD, NOT_SYMMETRIC]),
    "cat": (lambda T: T.distributions.constraints.cat(
        [T.distributions.constraints.positive, T.distributions.constraints.real], -1, [1, 2]),
        [[[1.0, -2.0, 3.0], [-1.0, 0.0, 0.0]]]),
    "stack": (lambda T: T.distributions.constraints.stack(
        [T.distributions.constraints.positive, T.distributions.constraints.unit_interval],
        -1), [[[1.0, 0.5], [-1.0, 2.0], [0.2, 0.2]]]),
    "mixture_same_family": (
        lambda T: T.distributions.constraints.MixtureSameFamilyConstraint(
            T.distributions.constraints.positive), [[1.0, -2.0, 3.0]]),
}


@pytest.mark.parametrize("name", CONSTRAINTS)
def test_constraint_matches_torch(torch, name):
    make, values = CONSTRAINTS[name]
    ours, theirs = make(funcgrad), make(torch)
    assert repr(ours) == repr(theirs)
    assert (ours.is_discrete, ours.event_dim) == (theirs.is_discrete, theirs.event_dim)
    for value in values:
        result, expected = ours.check(funcgrad.tensor(value)), theirs.check(torch.tensor(value))
        assert tuple(result.shape) == tuple(expected.shape)
        assert np.array_equal(_numpy(result), _numpy(expected))


def test_dependent_property_is_a_dependent_constraint_on_the_class(torch):
    for lib in (funcgrad, torch):
        support = D(lib).GeneralizedPareto.support
        assert lib.distributions.constraints.is_dependent(support)
        assert (support.is_discrete, support.event_dim) == (False, 0)
    d = D(funcgrad).GeneralizedPareto(0.0, 1.0, funcgrad.tensor([-0.5, 0.5]))
    t = D(torch).GeneralizedPareto(0.0, 1.0, torch.tensor([-0.5, 0.5]))
    _close(d.support.upper_bound, t.support.upper_bound)


# ----- the low-rank normal's matrices ------------------------------------------------------------
def _lowrank(lib):
    loc = lib.tensor([[0.3, -1.0, 0.5], [0.5, 0.2, 0.0]], requires_grad=True)
    w = lib.tensor([[0.6, 0.1], [-0.4, 0.8], [0.3, 0.2]], requires_grad=True)
    d = lib.tensor([1.1, 0.5, 0.7], requires_grad=True)
    return D(lib).LowRankMultivariateNormal(loc, w, d), (w, d)


@pytest.mark.parametrize("attribute", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_lowrank_matrices_match_torch(torch, attribute):
    (ours, params), (theirs, t_params) = _lowrank(funcgrad), _lowrank(torch)
    out, expected = getattr(ours, attribute), getattr(theirs, attribute)
    assert tuple(out.shape) == tuple(expected.shape)
    _close(out, expected)
    grads = funcgrad.autograd.grad(out.sum(), params)
    t_grads = torch.autograd.grad(expected.sum(), t_params)
    for a, b in zip(grads, t_grads):
        _close(a, b, rtol=1e-4, atol=1e-4)


# ----- KL divergences across families ------------------------------------------------------------
def _cb(T, p):
    return D(T).ContinuousBernoulli(probs=p)


# name: (p of lib and parameters, q of lib and parameters, p's parameters, q's parameters)
CROSS_KL = {
    "mvn_lowrank": (lambda T, m, a: D(T).MultivariateNormal(m, scale_tril=a.tril()),
                    lambda T, m, w, d: D(T).LowRankMultivariateNormal(m, w, d),
                    ([[0.3, -1.0], [0.1, 0.2]], [[1.2, 0.0], [0.4, 0.8]]),
                    ([0.5, 0.5], [[0.3], [-0.6]], [0.8, 1.3])),
    "lowrank_mvn": (lambda T, m, w, d: D(T).LowRankMultivariateNormal(m, w, d),
                    lambda T, m, a: D(T).MultivariateNormal(m, _spd(T, a)),
                    ([0.5, 0.5], [[0.3], [-0.6]], [0.8, 1.3]),
                    ([[0.3, -1.0], [0.1, 0.2]], [[1.2, 0.1], [0.4, 0.8]])),
    "beta_cb": (lambda T, a, b: D(T).Beta(a, b), _cb, ([0.7, 3.0], [2.0, 0.6]), ([0.3, 0.8],)),
    "cb_exponential": (_cb, lambda T, r: D(T).Exponential(r), ([0.3, 0.8],), ([0.5, 2.0],)),
    "cb_normal": (_cb, lambda T, a, b: D(T).Normal(a, b), ([0.3, 0.8],),
                  ([0.3, -1.0], [1.5, 0.7])),
    "cb_uniform": (_cb, lambda T, a, b: D(T).Uniform(a, b), ([0.3, 0.8],),
                   ([-0.5, 0.2], [1.5, 2.0])),
    "uniform_cb": (lambda T, a, b: D(T).Uniform(a, b), _cb, ([0.1, -0.5], [0.7, 0.6]),
                   ([0.3, 0.8],)),
    "cb_pareto": (_cb, lambda T, s, a: D(T).Pareto(s, a), ([0.3, 0.8],), ([1.0, 2.0], [3.0, 4.0])),
    "normal_cb": (lambda T, a, b: D(T).Normal(a, b), _cb, ([0.3, -1.0], [1.5, 0.7]),
                  ([0.3, 0.8],)),
    "gamma_cb": (lambda T, a, b: D(T).Gamma(a, b), _cb, ([0.7, 3.0], [1.5, 0.4]),
                 ([0.3, 0.8],)),
}


@pytest.mark.parametrize("name", CROSS_KL)
def test_cross_kl_matches_torch(torch, name):
    def kl(lib):
        make_p, make_q, p_params, q_params = CROSS_KL[name]
        p_params = [lib.tensor(a, requires_grad=True) for a in p_params]
        q_params = [lib.tensor(a, requires_grad=True) for a in q_params]
        out = D(lib).kl_divergence(make_p(lib, *p_params), make_q(lib, *q_params))
        if not out.requires_grad:
            return out, None
        return out, lib.autograd.grad(out.sum(), p_params + q_params, allow_unused=True)

    (out, grads), (t_out, t_grads) = kl(funcgrad), kl(torch)
    _close(out, t_out)
    assert (grads is None) == (t_grads is None)
    for ours, theirs in zip(grads or (), t_grads or ()):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            _close(ours, theirs, rtol=1e-4, atol=1e-5)


# ----- the exponential family --------------------------------------------------------------------
def _wishart(lib):
    a = lib.tensor([[1.2, 0.1], [0.4, 0.8]])
    return D(lib).Wishart(lib.tensor([3.0, 5.5]), _spd(lib, a))


@pytest.mark.parametrize("make", [
    lambda T: D(T).ContinuousBernoulli(logits=T.tensor([-0.4, 1.2, 0.001])), _wishart],
    ids=["ContinuousBernoulli", "Wishart"])
def test_exponential_family_entropy_is_the_bregman_divergence(torch, make):
    """The base class's entropy (from the log normalizer) equals torch's, and the closed form."""
    ours, theirs = make(funcgrad), make(torch)
    assert isinstance(ours, D(funcgrad).ExponentialFamily)
    bregman = D(funcgrad).ExponentialFamily.entropy(ours)
    _close(bregman, D(torch).ExponentialFamily.entropy(theirs), atol=1e-4)
    _close(bregman, ours.entropy(), atol=1e-4)


def test_cross_family_kl_is_refused_as_torch(torch):
    assert_raises_as_torch(torch, lambda T: D(T).kl_divergence(
        D(T).ContinuousBernoulli(T.tensor(0.3)), _wishart(T)))


# ----- what the table leaves out -----------------------------------------------------------------
@pytest.mark.parametrize("method", ["log_survival_function", "log_cdf"])
def test_generalized_pareto_tails_match_torch(torch, method):
    def tail(lib):
        c = lib.tensor([0.1, -0.2, 0.0], requires_grad=True)
        out = getattr(D(lib).GeneralizedPareto(0.3, 1.5, c), method)(lib.tensor([0.5, 1.1, 2.0]))
        return out, lib.autograd.grad(out.sum(), c)[0]

    for a, b in zip(tail(funcgrad), tail(torch)):
        _close(a, b)


def test_straight_through_rsample_is_one_hot_with_the_gradient_of_probs(torch):
    logits = funcgrad.tensor([0.1, -1.0, 2.0], requires_grad=True)
    d = D(funcgrad).OneHotCategoricalStraightThrough(logits=logits)
    x = d.rsample((4,))
    assert bool(d.support.check(x).all())
    weights = funcgrad.tensor([1.0, 2.0, 3.0])
    (x * weights).sum().backward()
    t_logits = torch.tensor([0.1, -1.0, 2.0], requires_grad=True)
    (torch.softmax(t_logits, -1) * torch.tensor([1.0, 2.0, 3.0])).sum().mul(4).backward()
    _close(logits.grad, t_logits.grad)


def test_von_mises_samples_for_tiny_concentrations():
    """At tiny concentrations the draws are near uniform on [-pi, pi) (the proposal is
    computed without the cancellation that made torch's float32 sampler hang)."""
    funcgrad.manual_seed(0)
    x = D(funcgrad).VonMises(0.0, funcgrad.tensor(1e-6)).sample((100_000,)).numpy()
    assert x.min() >= -np.pi and x.max() < np.pi
    assert abs(np.cos(x).mean()) < 5 / np.sqrt(2 * 100_000)


def test_wishart_warns_of_low_df_as_torch(torch):
    def low_df(lib):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            D(lib).Wishart(lib.tensor(1.5), lib.eye(2))
        return [str(w.message) for w in record]

    assert low_df(funcgrad) == low_df(torch)


# ----- biject_to and transform_to ----------------------------------------------------------------
# constraint of lib: an unconstrained point of its transforms' domains
REGISTRY_CASES = {
    "real": (lambda C, T: C.real, [0.3, -1.2]),
    "positive": (lambda C, T: C.positive, [0.3, -1.2]),
    "greater_than": (lambda C, T: C.greater_than(T.tensor([1.0, -2.0])), [0.3, -1.2]),
    "less_than": (lambda C, T: C.less_than(2.0), [0.3, -1.2]),
    "unit_interval": (lambda C, T: C.unit_interval, [0.3, -1.2]),
    "interval": (lambda C, T: C.interval(-1.0, T.tensor([2.0, 3.0])), [0.3, -1.2]),
    "half_open_interval": (lambda C, T: C.half_open_interval(1.0, 4.0), [0.3, -1.2]),
    "simplex": (lambda C, T: C.simplex, [0.3, -1.2]),
    "independent": (lambda C, T: C.independent(C.positive, 1), [0.3, -1.2]),
    "corr_cholesky": (lambda C, T: C.corr_cholesky, [0.3, -1.2, 0.5]),
    "lower_cholesky": (lambda C, T: C.lower_cholesky, [[0.3, -1.2], [0.5, 0.1]]),
    "positive_definite": (lambda C, T: C.positive_definite, [[0.3, -1.2], [0.5, 0.1]]),
    "cat": (lambda C, T: C.cat([C.positive, C.real], -1, [1, 1]), [0.3, -1.2]),
    "stack": (lambda C, T: C.stack([C.positive, C.unit_interval], -1), [0.3, -1.2]),
}


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", REGISTRY_CASES)
def test_constraint_registry_matches_torch(torch, name, registry):
    def mapped(lib):
        make, x = REGISTRY_CASES[name]
        try:
            t = getattr(D(lib), registry)(make(D(lib).constraints, lib))
        except NotImplementedError as e:
            return e
        x = lib.tensor(x)
        y = t(x)
        try:
            ladj = t.log_abs_det_jacobian(x, y)
        except NotImplementedError:  # (the transforms that are not bijections)
            ladj = None
        return type(t).__name__, y, t.codomain.check(y), ladj

    ours, theirs = mapped(funcgrad), mapped(torch)
    if isinstance(theirs, NotImplementedError):
        assert isinstance(ours, NotImplementedError) and str(ours) == str(theirs)
        return
    assert ours[0] == theirs[0]
    assert (ours[3] is None) == (theirs[3] is None)
    for a, b in zip(ours[1:], theirs[1:]):
        if b is not None:
            _close(a, b)


def test_constraint_registry_refuses_as_torch(torch):
    assert_raises_as_torch(torch, lambda T: D(T).biject_to(D(T).constraints.boolean))
    assert_raises_as_torch(torch, lambda T: D(T).transform_to.register(3, lambda c: None))


def test_wishart_redraws_singular_samples_with_a_warning():
    """With df just above dim - 1 some Bartlett draws are singular: rsample warns and redraws
    them, leaving fewer than a draw without corrections."""
    def valid_share(max_try_correction):
        funcgrad.manual_seed(0)
        w = D(funcgrad).Wishart(funcgrad.tensor(2.0001), 1e-3 * funcgrad.eye(3))
        x = w.rsample((2000,), max_try_correction=max_try_correction)
        assert tuple(x.shape) == (2000, 3, 3)
        return float(w.support.check(x).float().mean())

    with pytest.warns(UserWarning, match="Low df values detected"):
        with pytest.warns(UserWarning, match="Singular sample detected."):
            corrected = valid_share(10)
        with pytest.warns(UserWarning, match="Singular sample detected."):
            uncorrected = valid_share(0)
    assert uncorrected < corrected

"""Distribution transforms and ``TransformedDistribution`` against torch's: values, inverses,
log-determinants and their gradients, shapes, caching, and distributions built from them."""

import numpy as np
import pytest
from tests._compare import same_as_torch

import funcgrad

torch = pytest.importorskip("torch")

X = [[-1.5, -0.2, 0.3], [0.8, 1.7, -0.6]]
POSITIVE = [[0.5, 1.2, 2.0], [0.3, 0.9, 1.6]]

TRANSFORMS = {
    "exp": (lambda D, T: D.ExpTransform(), X),
    "sigmoid": (lambda D, T: D.SigmoidTransform(), X),
    "tanh": (lambda D, T: D.TanhTransform(), X),
    "softplus": (lambda D, T: D.SoftplusTransform(), X),
    "power": (lambda D, T: D.PowerTransform(2.5), POSITIVE),
    "power-tensor": (lambda D, T: D.PowerTransform(T.tensor([0.5, 2.0, -1.0])), POSITIVE),
    "affine": (lambda D, T: D.AffineTransform(1.0, -2.0), X),
    "affine-tensor": (lambda D, T: D.AffineTransform(T.tensor([1.0, 0.0, -1.0]),
                                                     T.tensor([0.5, 2.0, 3.0])), X),
    "affine-event": (lambda D, T: D.AffineTransform(0.5, T.tensor([0.5, 2.0, 3.0]),
                                                    event_dim=1), X),
    "compose": (lambda D, T: D.ComposeTransform([D.AffineTransform(0.5, 2.0),
                                                 D.TanhTransform()]), X),
    "inverse": (lambda D, T: D.ExpTransform().inv, POSITIVE),
    "independent": (lambda D, T: D.IndependentTransform(D.SigmoidTransform(), 1), X),
    "reshape": (lambda D, T: D.ReshapeTransform((3,), (3, 1)), X),
}


@pytest.mark.parametrize("name", TRANSFORMS)
def test_transforms_match_torch(name):
    make, data = TRANSFORMS[name]

    def scenario(T):
        D = T.distributions.transforms
        t = make(D, T)
        x = T.tensor(data, requires_grad=True)
        y = t(x)
        ladj = t.log_abs_det_jacobian(x, y)
        back = t.inv(y)
        (y.sum() + ladj.sum()).backward()
        return (y, ladj, back, x.grad, t.bijective, t.domain.event_dim, t.codomain.event_dim,
                tuple(t.forward_shape(x.shape)), tuple(t.inverse_shape(y.shape)))

    same_as_torch(scenario, rtol=1e-5, atol=1e-6)


def test_reprs_signs_and_caching_as_torch():
    def scenario(T):
        D = T.distributions.transforms
        shown = [repr(t) for t in (D.ExpTransform(), D.ExpTransform().inv,
                                   D.IndependentTransform(D.TanhTransform(), 2))]
        signs = [D.ExpTransform().sign, D.AffineTransform(0.0, -3.0).sign,
                 D.ComposeTransform([D.AffineTransform(0.0, -1.0), D.ExpTransform()]).sign]
        cached = D.ExpTransform(cache_size=1)
        x = T.tensor([0.5])
        y = cached(x)
        return shown, signs, cached.inv(y) is x, D.ExpTransform().inv(y) is x, \
            D.ExpTransform() == D.ExpTransform(), D.AbsTransform() == D.AbsTransform()

    assert scenario(funcgrad) == scenario(torch)


def _log_normal(T, D):
    return D.TransformedDistribution(D.Normal(T.tensor([0.2, -0.5]), T.tensor([0.7, 1.3])),
                                     [D.ExpTransform()])


DISTRIBUTIONS = {
    "log-normal": _log_normal,
    "logit-normal-affine": lambda T, D: D.TransformedDistribution(
        D.Normal(0.0, 1.0), [D.AffineTransform(0.5, 2.0), D.SigmoidTransform()]),
    "decreasing": lambda T, D: D.TransformedDistribution(
        D.Exponential(T.tensor([1.5, 0.5])), [D.AffineTransform(1.0, -1.0)]),
    "event-reinterpreted": lambda T, D: D.TransformedDistribution(
        D.Normal(T.zeros(2, 3), 1.0), D.IndependentTransform(D.TanhTransform(), 1)),
}
VALUES = {"log-normal": [0.7, 2.5], "logit-normal-affine": [0.3, 0.9],
          "decreasing": [0.2, -1.5], "event-reinterpreted": [[0.1, -0.4, 0.8]] * 2}


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_transformed_distributions_match_torch(name):
    def scenario(T):
        D = T.distributions
        d = DISTRIBUTIONS[name](T, D)
        value = T.tensor(VALUES[name])
        out = [d.log_prob(value), tuple(d.batch_shape), tuple(d.event_shape), repr(d),
               type(d.support).__name__, d.has_rsample,
               tuple(d.sample((4,)).shape), tuple(d.rsample((2, 3)).shape)]
        if name != "event-reinterpreted":
            out += [d.cdf(value), d.icdf(T.tensor([0.25, 0.75]))]
        return out

    same_as_torch(scenario, rtol=1e-5, atol=1e-6)


def test_rsample_gradients_reach_the_base_parameters():
    """A closed form: for y = exp(loc + scale * e), dy/dloc = y and dy/dscale = y * e."""
    D = funcgrad.distributions
    funcgrad.manual_seed(0)
    loc = funcgrad.tensor(0.3, requires_grad=True)
    scale = funcgrad.tensor(0.8, requires_grad=True)
    d = D.TransformedDistribution(D.Normal(loc, scale), [D.ExpTransform()])
    y = d.rsample((5,))
    y.sum().backward()
    e = (y.detach().log() - 0.3) / 0.8
    np.testing.assert_allclose(loc.grad.item(), y.detach().sum().item(), rtol=1e-5)
    np.testing.assert_allclose(scale.grad.item(), (y.detach() * e).sum().item(), rtol=1e-5)


def test_bad_transforms_argument_as_torch():
    for lib in (torch, funcgrad):
        with pytest.raises(ValueError, match="transforms must be a Transform or list, but was "
                           "exp"):
            lib.distributions.TransformedDistribution(lib.distributions.Normal(0.0, 1.0),
                                                      "exp")


BUILT = {
    "Weibull": (lambda D, T, a, b: D.Weibull(a, b), [1.0, 2.0], [1.5, 0.8], [0.4, 2.5]),
    "Pareto": (lambda D, T, a, b: D.Pareto(a, b), [1.0, 2.0], [3.0, 1.5], [1.2, 5.0]),
}


@pytest.mark.parametrize("name", BUILT)
def test_distributions_built_from_transforms_match_torch(name):
    make, first, second, values = BUILT[name]

    def scenario(T):
        a = T.tensor(first, requires_grad=True)
        b = T.tensor(second, requires_grad=True)
        d = make(T.distributions, T, a, b)
        value = T.tensor(values)
        log_prob = d.log_prob(value)
        log_prob.sum().backward()
        wide = d.expand((3, 2))
        return (log_prob, a.grad, b.grad, d.cdf(value), d.icdf(T.tensor([0.2, 0.7])), d.mean,
                d.mode, d.variance, d.entropy(), repr(d).replace("torch.", "funcgrad."),
                repr(d.support),
                tuple(wide.batch_shape), type(wide).__name__, tuple(d.rsample((4,)).shape))

    same_as_torch(scenario, rtol=1e-5, atol=1e-6)


def test_pareto_validates_values_below_its_scale_as_torch():
    messages = []
    for lib in (torch, funcgrad):
        with pytest.raises(ValueError) as caught:
            lib.distributions.Pareto(lib.tensor(2.0), lib.tensor(1.5)).log_prob(lib.tensor(1.0))
        messages.append(str(caught.value).replace("torch.", "funcgrad."))
    assert messages[0] == messages[1]

"""``MixtureSameFamily`` against torch's: log_prob and its gradients, moments, cdf, sampling
shapes and frequencies, expand, printing and errors."""

import numpy as np
import pytest
from tests._compare import same_as_torch

import funcgrad

torch = pytest.importorskip("torch")


def _gaussian_mixture(T, logits, loc, scale):
    D = T.distributions
    return D.MixtureSameFamily(D.Categorical(logits=logits), D.Normal(loc, scale))


def _batched_vector_mixture(T, logits, loc, scale):
    D = T.distributions
    return D.MixtureSameFamily(D.Categorical(logits=logits),
                               D.Independent(D.Normal(loc, scale), 1))


CASES = {
    "scalar": (_gaussian_mixture, [0.2, -0.5, 1.0], [-1.0, 0.5, 2.0], [0.5, 1.0, 0.8],
               [0.3, -1.2, 2.5]),
    "batched-events": (_batched_vector_mixture, [[0.2, -0.5], [1.0, 0.1]],
                       [[[0.0, 1.0], [2.0, -1.0]], [[0.5, 0.5], [-1.0, 1.5]]],
                       [[[0.5, 1.0], [0.8, 0.7]], [[1.2, 0.6], [0.9, 1.1]]],
                       [[0.1, 0.4], [-0.5, 1.0]]),
}


@pytest.mark.parametrize("name", CASES)
def test_mixture_matches_torch(name):
    make, logits, loc, scale, value = CASES[name]

    def scenario(T):
        params = [T.tensor(v, requires_grad=True) for v in (logits, loc, scale)]
        d = make(T, *params)
        log_prob = d.log_prob(T.tensor(value))
        log_prob.sum().backward()
        out = [log_prob, *(p.grad for p in params), d.mean, d.variance,
               tuple(d.batch_shape), tuple(d.event_shape), tuple(d.sample((5,)).shape),
               tuple(d.expand((4, *d.batch_shape)).batch_shape),
               repr(d).replace("torch.", "funcgrad.")]
        if name == "scalar":
            out.append(d.cdf(T.tensor(value)))
        return out

    same_as_torch(scenario, rtol=1e-5, atol=1e-6)


def test_samples_follow_the_mixture():
    """A closed reference: the share of samples near each well-separated component is its
    weight (the mixture's own probabilities), and the sample mean is the mixture's mean."""
    funcgrad.manual_seed(0)
    weights = np.array([0.2, 0.5, 0.3])
    d = _gaussian_mixture(funcgrad, funcgrad.tensor(np.log(weights), dtype=funcgrad.float32),
                          funcgrad.tensor([-10.0, 0.0, 10.0]), funcgrad.tensor([0.5, 0.5, 0.5]))
    samples = d.sample((20000,)).numpy()
    shares = [(samples < -5).mean(), ((samples > -5) & (samples < 5)).mean(), (samples > 5).mean()]
    np.testing.assert_allclose(shares, weights, atol=0.015)
    np.testing.assert_allclose(samples.mean(), d.mean.item(), atol=0.15)


def test_errors_as_torch():
    def scenario(T):
        D = T.distributions
        messages = []
        for make in (lambda: D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(T.zeros(2), 1.0)),
                     lambda: D.MixtureSameFamily(D.Categorical(T.ones(2) / 2), "normal"),
                     lambda: D.MixtureSameFamily(D.Categorical(T.ones(3) / 3),
                                                 D.Normal(T.zeros(2), 1.0)),
                     lambda: D.MixtureSameFamily(D.Categorical(T.ones(3, 2) / 2),
                                                 D.Normal(T.zeros(4, 2), 1.0))):
            with pytest.raises(ValueError) as caught:
                make()
            messages.append(str(caught.value).replace("torch.", "funcgrad."))
        return messages

    assert scenario(funcgrad) == scenario(torch)

"""``VonMises``: the circular normal distribution, as torch's (its Bessel functions by the
same polynomial approximations, so values and gradients agree)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .. import _ops
from .._tensor import Tensor
from . import constraints
from .distribution import Distribution, draw
from .utils import broadcast_all, lazy_property

# Abramowitz and Stegun's approximations of I0 and I1 (9.8.1-9.8.4): x / 3.75 squared for
# x < 3.75, else 3.75 / x
_COEF_SMALL = (
    (1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2),
    (0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3),
)
_COEF_LARGE = (
    (0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2, -0.2057706e-1,
     0.2635537e-1, -0.1647633e-1, 0.392377e-2),
    (0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1, 0.2282967e-1,
     -0.2895312e-1, 0.1787654e-1, -0.420059e-2),
)


def _eval_poly(y: Tensor, coef) -> Tensor:
    result = coef[-1]
    for c in reversed(coef[:-1]):
        result = c + y * result
    return result


def log_modified_bessel(x: Tensor, order: int = 0) -> Tensor:
    """``log(I_order(x))`` for ``x > 0`` and ``order`` 0 or 1."""
    if order not in (0, 1):
        raise AssertionError(f"order must be 0 or 1, got {order}")
    y = (x / 3.75) * (x / 3.75)
    small = _eval_poly(y, _COEF_SMALL[order])
    if order == 1:
        small = x.abs() * small
    small = small.log()
    large = x - 0.5 * x.log() + _eval_poly(3.75 / x, _COEF_LARGE[order]).log()
    return _ops.where(x < 3.75, small, large)


def _rejection_sample(key, loc, concentration, shape, dtype):
    """Best and Fisher's (1979) sampler: proposals from a wrapped Cauchy, accepted until every
    entry has one. The proposal's ``r`` is computed in a form that keeps its precision for
    small concentrations (torch computes in float64 instead)."""
    kappa = jnp.broadcast_to(concentration, shape)
    tau = 1 + jnp.sqrt(1 + 4 * kappa ** 2)
    # rho = (tau - sqrt(2 tau)) / (2 kappa), written without the cancellation
    rho = 2 * kappa / (tau + jnp.sqrt(2 * tau))
    r = (1 + rho ** 2) / (2 * rho)

    def body(state):
        key, x, done = state
        key, sub = jax.random.split(key)
        u1, u2, u3 = jax.random.uniform(sub, (3, *shape), dtype)
        z = jnp.cos(math.pi * u1)
        f = (1 + r * z) / (r + z)
        c = kappa * (r - f)
        accept = ~done & (((c * (2 - c) - u2) > 0) | (jnp.log(c / u2) + 1 - c >= 0))
        x = jnp.where(accept, jnp.sign(u3 - 0.5) * jnp.arccos(f), x)
        return key, x, done | accept

    init = (key, jnp.zeros(shape, dtype), jnp.zeros(shape, bool))
    _, x, _ = jax.lax.while_loop(lambda s: ~s[2].all(), body, init)
    return (x + math.pi + loc) % (2 * math.pi) - math.pi


class VonMises(Distribution):
    """The von Mises distribution of angles about ``loc`` with ``concentration``: ``loc`` and
    values may be any real numbers, read modulo 2 pi; ``mean`` and ``variance`` are the
    circular ones. Samples lie in ``[-pi, pi)``.

    >>> import funcgrad
    >>> from funcgrad.distributions import VonMises
    >>> VonMises(0.0, 1.0).log_prob(funcgrad.tensor(0.0))
    tensor(-1.0738)
    """

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.concentration * (value - self.loc).cos()
        return (log_prob - math.log(2 * math.pi)
                - log_modified_bessel(self.concentration, order=0))

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        loc, concentration = self.loc.detach(), self.concentration.detach()
        return draw(lambda key, lc, k, shape, dtype: _rejection_sample(key, lc, k, shape, dtype),
                    shape, loc.dtype, loc, concentration)

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)

    @lazy_property
    def variance(self) -> Tensor:
        return 1 - (log_modified_bessel(self.concentration, order=1)
                    - log_modified_bessel(self.concentration, order=0)).exp()

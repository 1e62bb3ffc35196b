"""The ``Distribution`` base class, as torch's, and what its subclasses share: turning
parameters into tensors of one shape, and drawing from funcgrad's random state."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp

from .._factories import next_key, tensor
from .._grad_mode import no_grad
from .._graph import Op, apply
from .._tensor import Size, Tensor
from . import constraints


def _read_bool(check: Tensor) -> bool | None:
    """Whether every entry of ``check`` is True; None inside a JAX trace, where it cannot be
    read (the check is then skipped: torch would need the values too)."""
    array = check.all()._read()
    return None if isinstance(array, jax.core.Tracer) else bool(array)


class Distribution:
    """A probability distribution over tensors, with ``batch_shape`` independent, not
    identically distributed copies of one over events of ``event_shape``.

    Subclasses give ``arg_constraints``, ``support``, ``log_prob`` and what else they can.
    ``validate_args`` (default ``Distribution.set_default_validate_args``, True) checks the
    parameters on construction and the values given to ``log_prob``, ``cdf`` and ``icdf``,
    with torch's ``ValueError`` texts.
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__
    arg_constraints: dict = {}
    support = None

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Sets whether new distributions validate their arguments by default."""
        if value not in (True, False):
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args: bool | None = None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if not self._validate_args:
            return
        for param, constraint in self.arg_constraints.items():
            if constraints.is_dependent(constraint) or param not in self.__dict__ and not (
                    isinstance(getattr(type(self), param, None), property)):
                continue  # parameters not given are computed from those given, and checked
            value = getattr(self, param)
            if _read_bool(constraint.check(value)) is False:
                raise ValueError(
                    f"Expected parameter {param} ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to satisfy the constraint "
                    f"{constraint!r}, but found invalid values:\n{value}")

    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def expand(self, batch_shape, _instance=None) -> Distribution:
        """The distribution with its parameters expanded (not copied) to ``batch_shape``."""
        batch_shape = Size(batch_shape)
        new = type(self).__new__(type(self))
        for name, value in self.__dict__.items():
            if isinstance(value, Tensor):
                event = value.shape[len(self._batch_shape):]
                value = value.expand(*batch_shape, *event)
            new.__dict__[name] = value
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=()) -> Tensor:
        """Draws a sample of shape ``sample_shape + batch_shape + event_shape``; no gradient."""
        with no_grad():
            return self.rsample(sample_shape).detach()

    def sample_n(self, n: int) -> Tensor:
        """``sample((n,))``, after torch's FutureWarning that this name goes."""
        warnings.warn("`sample_n(n)` will be deprecated. Use `sample((n,))` instead.",
                      FutureWarning, stacklevel=2)
        return self.sample(Size((n,)))

    def rsample(self, sample_shape=()) -> Tensor:
        """A reparameterized sample: gradients flow from it to the parameters."""
        raise NotImplementedError

    def log_prob(self, value) -> Tensor:
        raise NotImplementedError

    def cdf(self, value) -> Tensor:
        raise NotImplementedError

    def icdf(self, value) -> Tensor:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """Every value of a discrete support along a new first dimension, expanded over the
        batch shape with ``expand`` (else of size 1 there)."""
        raise NotImplementedError

    def _enumerated(self, values: Tensor, expand: bool) -> Tensor:
        """``values`` (one per support value, along dim 0) as ``enumerate_support`` gives
        them: viewed, then expanded with ``expand``, over the batch shape."""
        event = tuple(values.shape[1:])
        values = values.view((values.shape[0],) + (1,) * len(self._batch_shape) + event)
        if not expand:
            return values
        return values.expand((values.shape[0],) + tuple(self._batch_shape) + event)

    def perplexity(self) -> Tensor:
        """``exp(entropy)``."""
        return self.entropy().exp()

    def _extended_shape(self, sample_shape=()) -> Size:
        return Size(tuple(Size(sample_shape)) + self._batch_shape + self._event_shape)

    def _validate_sample(self, value) -> None:
        """torch's checks of a value given to ``log_prob``, ``cdf`` or ``icdf``."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        start = value.ndim - len(self._event_shape)
        if value.shape[start:] != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{value.shape} vs {self._event_shape}.")
        expected = Size(self._batch_shape + self._event_shape)
        for i, j in zip(reversed(value.shape), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{value.shape} vs {expected}.")
        if _read_bool(self.support.check(value)) is False:
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to be within the support ({self.support!r}) of the "
                f"distribution {self!r}, but found invalid values:\n{value}")

    def __repr__(self) -> str:
        args = ", ".join(
            f"{p}: {v if v.numel() == 1 else v.size()}"
            for p, v in ((p, self.__dict__[p]) for p in self.arg_constraints
                         if p in self.__dict__))
        return f"{type(self).__name__}({args})"


# ----- drawing from funcgrad's generator ---------------------------------------------------------
def draw(sampler, shape, dtype, *params) -> Tensor:
    """``sampler(key, *params, shape, dtype)`` on a fresh key of funcgrad's generator (so
    ``funcgrad.manual_seed`` makes it reproducible), as a tensor with no gradient."""
    arrays = [p._read() for p in params]
    return tensor(sampler(next_key(), *arrays, tuple(shape), dtype))


def _gamma(key_data, concentration):
    key = jax.random.wrap_key_data(key_data)
    return jax.random.gamma(key, concentration, concentration.shape, concentration.dtype)


def _dirichlet(key_data, concentration):
    key = jax.random.wrap_key_data(key_data)
    return jax.random.dirichlet(key, concentration, concentration.shape[:-1],
                                concentration.dtype)


# JAX differentiates its gamma (and Dirichlet) samples with respect to the concentration by
# implicit reparameterization, the gradient torch's _standard_gamma and _Dirichlet give.
STANDARD_GAMMA = Op("standard_gamma", _gamma, "StandardGammaBackward0")
DIRICHLET = Op("dirichlet", _dirichlet, "_DirichletBackward")


def standard_gamma(concentration: Tensor) -> Tensor:
    """Gamma(concentration, 1) samples, one per entry, differentiable in ``concentration``."""
    return apply(STANDARD_GAMMA, jax.random.key_data(next_key()), concentration)


def dirichlet_sample(concentration: Tensor) -> Tensor:
    """Dirichlet samples, one per row, differentiable in ``concentration``."""
    return apply(DIRICHLET, jax.random.key_data(next_key()), concentration)


def tiny(dtype) -> float:
    """The smallest positive normal number of ``dtype`` (torch's ``finfo.tiny``)."""
    return float(jnp.finfo(dtype).tiny)


def eps(dtype) -> float:
    """The machine epsilon of ``dtype`` (torch's ``finfo.eps``)."""
    return float(jnp.finfo(dtype).eps)


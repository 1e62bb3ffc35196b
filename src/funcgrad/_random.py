"""Sampling from distributions that tensors give, as torch's: ``bernoulli``, ``multinomial``,
``normal``, ``poisson`` and the in-place samplers (``bernoulli_``, ``exponential_``,
``geometric_``, ``log_normal_``, ``cauchy_``, ``random_``), each taking ``generator=``.

The numbers are JAX's (``jax.random``), drawn from funcgrad's generators: a seed repeats them in
funcgrad only, not torch's. A sample is outside the gradient, as in torch: where the tensors it
was drawn from require grad, it is recorded under torch's node (``BernoulliBackward0``,
``NormalBackward1`` ...) whose gradient is zero. Parameters are checked as torch checks them,
on their values, before anything is drawn.

>>> import funcgrad
>>> g = funcgrad.Generator().manual_seed(0)
>>> funcgrad.multinomial(funcgrad.tensor([0.0, 1.0, 0.0]), 1, generator=g)
tensor([1])
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from . import _dtypes
from ._factories import Generator, _finish, _float_dtype, _shape, next_key
from ._graph import Op, apply, broadcast_shape
from ._tensor import Tensor

__all__ = ["bernoulli", "binomial", "multinomial", "normal", "poisson"]


def _sample_of(*operands):
    """The last operand, the sample: the others, the tensors it was drawn from, get a zero
    gradient."""
    return operands[-1]


def _node(grad_fn: str) -> Op:
    return Op(grad_fn, _sample_of, grad_fn, saves=False)


_BERNOULLI = _node("BernoulliBackward0")
_POISSON = _node("PoissonBackward0")
# torch's three nodes of normal: a tensor mean, a tensor std, or both
_NORMAL = {(True, False): _node("NormalBackward1"), (False, True): _node("NormalBackward2"),
           (True, True): _node("NormalBackward3")}


def _values(t: Tensor) -> np.ndarray | None:
    """The values of ``t``, for a check, or None inside a JAX transform (not checked there)."""
    array = t._read()
    return None if isinstance(array, jax.core.Tracer) else np.asarray(array)


def _recorded(op: Op, sources: tuple, sample) -> Tensor:
    """``sample`` as a Tensor, recorded under ``op`` where one of ``sources`` (Tensors or
    numbers) requires grad."""
    if not any(isinstance(s, Tensor) and s.requires_grad for s in sources):
        return Tensor._wrap(sample)
    return apply(op, *sources, sample)


def _check_floating(name: str, t: Tensor) -> None:
    if not _dtypes.is_floating(t.dtype):
        raise NotImplementedError(
            f"\"{name}\" not implemented for '{_dtypes.scalar_name(t.dtype)}'")


def _check_probability(name: str, p: float) -> None:
    if not 0 <= p <= 1:
        raise RuntimeError(f"{name} expects p to be in [0, 1], but got p={p}")


def _check_probabilities(p: Tensor) -> None:
    values = _values(p)
    if values is not None and not ((values >= 0) & (values <= 1)).all():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")


def bernoulli(input: Tensor, p: float | None = None, *,
              generator: Generator | None = None) -> Tensor:
    """1 with probability ``input`` (or ``p``, for every element), else 0, in ``input``'s
    shape and dtype.

    >>> import funcgrad
    >>> funcgrad.bernoulli(funcgrad.tensor([0.0, 1.0]))
    tensor([0., 1.])
    """
    _check_floating("bernoulli_tensor_cpu_p_", input)
    if p is None:
        _check_probabilities(input)
        p = input._read()
    else:
        _check_probability("bernoulli_", p)
    sample = jax.random.bernoulli(next_key(generator), p, tuple(input.shape))
    return _recorded(_BERNOULLI, (input,), sample.astype(input.dtype))


def _bernoulli_(self: Tensor, p=0.5, *, generator: Generator | None = None) -> Tensor:
    """Fills with 1 (probability ``p``, a number or a tensor that broadcasts) or 0, in
    place."""
    if isinstance(p, Tensor):
        _check_probabilities(p)
        p = jnp.broadcast_to(p._read(), tuple(self.shape))
    else:
        _check_probability("bernoulli_", p)
    sample = jax.random.bernoulli(next_key(generator), p, tuple(self.shape))
    return self.copy_(Tensor._wrap(sample.astype(self.dtype)))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:
    """``num_samples`` category indices per row of weights ``input`` (1-D or 2-D, not
    necessarily normalized), each drawn in proportion to its weight; without ``replacement``,
    each index at most once (categories of weight 0 come last, when the others run out).

    >>> import funcgrad
    >>> funcgrad.multinomial(funcgrad.tensor([[0.0, 2.0], [3.0, 0.0]]), 1)
    tensor([[1],
            [0]])
    """
    if not _dtypes.is_floating(input.dtype):
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{_dtypes.scalar_name(input.dtype)}")
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > input.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    values = _values(input)
    if values is not None:
        if not (np.isfinite(values) & (values >= 0)).all():
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if (values.sum(-1) <= 0).any():
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    weights = input._read().astype(jnp.float32 if input.dtype.itemsize < 4 else input.dtype)
    logits = jnp.log(weights)  # -inf where the weight is 0
    key = next_key(generator)
    if replacement:
        draws = jax.random.categorical(key, logits, shape=(num_samples, *logits.shape[:-1]))
        draws = jnp.moveaxis(draws, 0, -1)
    else:  # the Gumbel-top-k trick: a weighted draw without replacement
        _, draws = jax.lax.top_k(logits + jax.random.gumbel(key, logits.shape, logits.dtype),
                                 num_samples)
    return Tensor._wrap(draws.astype(_dtypes.default_int()))


def _multinomial(self: Tensor, num_samples: int, replacement: bool = False, *,
                 generator: Generator | None = None) -> Tensor:
    return multinomial(self, num_samples, replacement, generator=generator)


def normal(mean, std=1.0, size=None, *, generator: Generator | None = None, dtype=None,
           device=None, requires_grad: bool = False) -> Tensor:
    """Normal samples of ``mean`` and ``std``: tensors (broadcast together) or numbers, with
    ``size`` when both are numbers.

    >>> import funcgrad
    >>> funcgrad.normal(funcgrad.tensor([1.0, -1.0]), 0.0)
    tensor([ 1., -1.])
    """
    tensors = (isinstance(mean, Tensor), isinstance(std, Tensor))
    if not any(tensors):
        if size is None:
            raise TypeError("normal() of a number mean and std needs size, as in "
                            "normal(0.0, 1.0, (2, 3))")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        dtype = _float_dtype(dtype)
        draws = jax.random.normal(next_key(generator), _shape(size), dtype) * std + mean
        return _finish(draws.astype(dtype), dtype, device, requires_grad)
    if tensors[1]:
        values = _values(std)
        if values is not None and (values < 0).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    shapes = [tuple(t.shape) for t in (mean, std) if isinstance(t, Tensor)]
    shape = broadcast_shape(*shapes)
    like = mean if tensors[0] else std
    m, s = (t._read() if isinstance(t, Tensor) else t for t in (mean, std))
    draws = jax.random.normal(next_key(generator), shape, like.dtype) * s + m
    return _recorded(_NORMAL[tensors], (mean, std), draws.astype(like.dtype))


def binomial(count: Tensor, prob: Tensor, generator: Generator | None = None) -> Tensor:
    """Binomial samples: successes in ``count`` trials of probability ``prob`` (broadcast
    together), in ``count``'s dtype, outside the graph (torch has no derivative for it).

    >>> import funcgrad
    >>> funcgrad.binomial(funcgrad.tensor([3.0, 4.0]), funcgrad.tensor([1.0, 0.0]))
    tensor([3., 0.])

    Raises:
        ValueError: torch's, for a ``count`` that is not floating point.
    """
    if not _dtypes.is_floating(count.dtype):
        raise ValueError("binomial only supports floating-point dtypes for count, got: "
                         f"{_dtypes.scalar_name(count.dtype)}")
    shape = broadcast_shape(tuple(count.shape), tuple(prob.shape))
    draws = jax.random.binomial(next_key(generator), count._read(), prob._read(), shape)
    return Tensor._wrap(draws.astype(count.dtype))


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """Poisson samples of rates ``input``, in its dtype.

    >>> import funcgrad
    >>> funcgrad.poisson(funcgrad.zeros(2))
    tensor([0., 0.])
    """
    _check_floating("poisson_cpu", input)
    values = _values(input)
    if values is not None and (values < 0).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    draws = jax.random.poisson(next_key(generator), input._read(), tuple(input.shape))
    return _recorded(_POISSON, (input,), draws.astype(input.dtype))


def _filled(self: Tensor, draws) -> Tensor:
    return self.copy_(Tensor._wrap(draws.astype(self.dtype)))


def _sampling_dtype(self: Tensor):
    """The float dtype to draw a float tensor's samples in (float32 for 16-bit ones)."""
    return self.dtype if self.dtype.itemsize >= 4 else jnp.float32


def _exponential_(self: Tensor, lambd: float = 1.0, *,
                  generator: Generator | None = None) -> Tensor:
    """Fills with exponential samples of rate ``lambd``, in place."""
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    draws = jax.random.exponential(next_key(generator), tuple(self.shape), _sampling_dtype(self))
    return _filled(self, draws / lambd)


def _geometric_(self: Tensor, p: float, *, generator: Generator | None = None) -> Tensor:
    """Fills with the number of Bernoulli(``p``) trials up to the first success (1, 2, …), in
    place."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    draws = jax.random.geometric(next_key(generator), p, tuple(self.shape))
    return _filled(self, draws)


def _log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *,
                 generator: Generator | None = None) -> Tensor:
    """Fills with ``exp`` of normal samples of ``mean`` and ``std``, in place."""
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    draws = jax.random.normal(next_key(generator), tuple(self.shape), _sampling_dtype(self))
    return _filled(self, jnp.exp(draws * std + mean))


def _cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *,
             generator: Generator | None = None) -> Tensor:
    """Fills with Cauchy samples of ``median`` and scale ``sigma``, in place."""
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    draws = jax.random.cauchy(next_key(generator), tuple(self.shape), _sampling_dtype(self))
    return _filled(self, draws * sigma + median)


def _random_(self: Tensor, from_: int = 0, to: int | None = None, *,
             generator: Generator | None = None) -> Tensor:
    """Fills with integers uniform in ``[from_, to)`` (``random_(to)``: ``[0, to)``), in place;
    with neither, in ``[0, 2**digits]`` for a float dtype (every integer it holds exactly)
    and over the whole range of an integer dtype."""
    if to is None and from_ != 0:
        from_, to = 0, from_
    if to is None:
        if _dtypes.is_floating(self.dtype):
            to = 2 ** (jnp.finfo(self.dtype).nmant + 1) + 1
        else:
            to = 2 if self.dtype == _dtypes.bool else int(jnp.iinfo(self.dtype).max) + 1
    if from_ >= to:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={from_} "
                           f">= to={to}")
    if to > _INT32_MAX and not _dtypes.x64_enabled():
        to = _INT32_MAX  # (without 64-bit ints: an int32 tensor's values but its largest)
    draws = jax.random.randint(next_key(generator), tuple(self.shape), from_, to,
                               jnp.int64 if to > _INT32_MAX else jnp.int32)
    return _filled(self, draws)


_INT32_MAX = 2**31 - 1


Tensor.bernoulli = bernoulli
Tensor.bernoulli_ = _bernoulli_
Tensor.multinomial = _multinomial
Tensor.exponential_ = _exponential_
Tensor.geometric_ = _geometric_
Tensor.log_normal_ = _log_normal_
Tensor.cauchy_ = _cauchy_
Tensor.random_ = _random_

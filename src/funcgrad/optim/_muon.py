"""``Muon``: torch's Muon, momentum orthogonalised by Newton-Schulz iterations in bfloat16, for
2-D parameters.

optax.contrib's muon is another rule: it bias-corrects the momentum, adds eps to the norm, runs
the iterations in the parameters' dtype, and scales by the other dimension ratio (it takes a
weight as (in, out), torch as (out, in)). So the update here is torch's, in jax.numpy,
rounded to bfloat16 exactly where torch's bfloat16 kernels round.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from ._optimizer import Optimizer, _require, _with_weight_decay


class _MuonState(NamedTuple):
    momentum_buffer: optax.Updates  # torch's key


def _bfloat16(x: jax.Array) -> jax.Array:
    """``x`` rounded to bfloat16, kept in float32.

    torch's bfloat16 kernels compute each op in float32 and round its result once (addmm's
    ``beta * C + alpha * A @ B`` included); the same ops on bfloat16 arrays in XLA round after
    each multiply and add, which the iterations magnify to a few percent of the update.
    """
    return jax.lax.reduce_precision(x, exponent_bits=8, mantissa_bits=7)


def _orthogonalize(g: jax.Array, coefficients: tuple, steps: int, eps) -> jax.Array:
    """torch's ``_zeropower_via_newtonschulz``: ``g`` in bfloat16, wide side last, scaled to
    Frobenius norm 1 (dividing by at least ``eps``), then ``steps`` quintic iterations
    ``X <- a X + (b A + c A A) X`` with ``A = X X^T``.

    Raises:
        ValueError: torch's, for 100 steps or more, or other than 3 coefficients.
    """
    _require(steps < 100, "Number of steps must be less than 100 for computational efficiency")
    _require(len(coefficients) == 3, "Coefficients must be a tuple of exactly 3 values")
    a, b, c = coefficients
    tall = g.shape[0] > g.shape[1]
    x = _bfloat16(g.astype(jnp.float32))
    x = x.T if tall else x
    x = _bfloat16(x / _bfloat16(jnp.maximum(jnp.linalg.norm(x), eps)))
    for _ in range(steps):
        # The factors are bfloat16 values, whose products float32 holds exactly: a matmul of
        # any precision gives the float32 sums torch's does.
        gram = _bfloat16(x @ x.T)
        x = _bfloat16(a * x + _bfloat16(b * gram + c * (gram @ gram)) @ x)
    return x.T if tall else x


def _lerp(start, end, weight):
    """torch's lerp, rounding as torch's does (from the nearer end). The buffer is rounded to
    bfloat16 next, so an ulp off in it can turn a bfloat16 rounding the other way."""
    return jnp.where(jnp.abs(weight) < 0.5, start + weight * (end - start),
                     end - (end - start) * (1 - weight))


def _lr_ratio(adjust_lr_fn: str | None, shape: tuple[int, ...]) -> float:
    """torch's ``_adjust_lr`` as a factor of lr, for a weight of ``shape`` (out, in): Keller
    Jordan's ``sqrt(max(1, out / in))`` ("original", the default); Moonshot's
    ``0.2 sqrt(max(out, in))``, AdamW's update RMS ("match_rms_adamw"); 1 for another name
    set on a group after construction."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return 0.2 * math.sqrt(max(rows, cols))
    return 1.0


def _scale_by_torch_muon(nesterov: bool, steps: int, adjust_lr_fn: str | None, momentum,
                         coefficients, eps) -> optax.GradientTransformation:
    """torch's Muon direction, lr's adjustment included: ``buf = lerp(buf, g, 1 - momentum)``,
    orthogonalised (``lerp(g, buf, momentum)`` with ``nesterov``)."""

    def init(params):
        return _MuonState(momentum_buffer=optax.tree.zeros_like(params))

    def update(updates, state, params=None):
        _require(all(g.ndim == 2 for g in jax.tree.leaves(updates)),
                 "Param gradient must be a 2D matrix")
        buf = jax.tree.map(lambda b, g: _lerp(b, g, 1 - momentum), state.momentum_buffer,
                           updates)
        if nesterov:
            direction = jax.tree.map(lambda g, b: _lerp(g, b, momentum), updates, buf)
        else:
            direction = buf

        def step(d):
            return _orthogonalize(d, coefficients, steps, eps) * _lr_ratio(adjust_lr_fn, d.shape)

        return jax.tree.map(step, direction), _MuonState(momentum_buffer=buf)

    return optax.GradientTransformation(init, update)


class Muon(Optimizer):
    """Muon as torch computes it, for 2-D parameters (a weight as (out, in)): momentum
    ``buf = momentum * buf + (1 - momentum) * g`` (Nesterov's by default), orthogonalised by
    ``ns_steps`` Newton-Schulz iterations in bfloat16, a step of lr adjusted to the shape
    (``adjust_lr_fn``), and decoupled weight decay ``p *= 1 - lr * weight_decay``. Biases,
    embeddings and other parameters belong to another optimizer (AdamW, say).

    >>> import funcgrad
    >>> w = funcgrad.tensor([[3.0, 0.0], [0.0, -0.5]], requires_grad=True)
    >>> opt = funcgrad.optim.Muon([w], lr=0.1, weight_decay=0.0)
    >>> (w ** 2).sum().backward(); opt.step(); w
    tensor([[ 2.9270,  0.0000],
            [ 0.0000, -0.3953]], requires_grad=True)

    Raises:
        ValueError: torch's, for a negative lr, momentum or weight_decay, an unknown
            ``adjust_lr_fn``, or a parameter that is not 2-D.
    """

    _hyper = ("lr", "weight_decay", "momentum", "ns_coefficients", "eps")
    _complex_as_real = None  # torch's refuses complex parameters

    def __init__(self, params, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315),
                 eps: float = 1e-7, ns_steps: int = 5, adjust_lr_fn: str | None = None) -> None:
        _require(lr >= 0.0, f"Learning rate should be >= 0 but is: {lr}")
        _require(momentum >= 0.0, f"momentum should be >= 0 but is: {momentum}")
        _require(weight_decay >= 0.0, f"weight decay should be >= 0 but is: {weight_decay}")
        _require(adjust_lr_fn in (None, "original", "match_rms_adamw"),
                 f"Adjust learning rate function {adjust_lr_fn} is not supported")
        super().__init__(params, dict(
            lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
            ns_coefficients=tuple(ns_coefficients), eps=eps, ns_steps=ns_steps,
            adjust_lr_fn=adjust_lr_fn))
        for group in self.param_groups:
            for p in group["params"]:
                _require(p.ndim == 2, "Muon only supports 2D parameters whereas we found a "
                                      f"parameter with size: {p.size()}")

    def _program(self, group: dict):
        # These settings select the program but leave the state's shape (so not _structure):
        # changing them keeps the momentum buffers, as torch's does.
        build, _, hyper = super()._program(group)
        return build, (bool(group["nesterov"]), group["ns_steps"], group["adjust_lr_fn"]), hyper

    @staticmethod
    def _build(structure, lr, weight_decay, momentum, ns_coefficients, eps):
        nesterov, steps, adjust_lr_fn = structure
        return _with_weight_decay(True, _scale_by_torch_muon(
            nesterov, steps, adjust_lr_fn, momentum, ns_coefficients, eps), weight_decay, lr)

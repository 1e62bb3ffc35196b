"""The practical limit: each workload as hand-written pure JAX under ``jax.jit``.

The maths is the same function as in ``workloads.py`` (``wl``); ``J`` hands it ``jax.numpy``
functions under the names torch uses.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import workloads as wl


def _cross_entropy(logits, labels):
    logp = jax.nn.log_softmax(logits, axis=1)
    return -jnp.take_along_axis(logp, labels[:, None], axis=1).mean()


J = SimpleNamespace(
    clamp=jnp.clip, log=jnp.log, sigmoid=jax.nn.sigmoid, relu=jax.nn.relu, tanh=jnp.tanh,
    sin=jnp.sin, cos=jnp.cos,
    nn=SimpleNamespace(functional=SimpleNamespace(cross_entropy=_cross_entropy)),
)


def train_step(data: dict, loss_fn: Callable, dtype: str | None = None,
               lr: float = wl.LR) -> Callable:
    """``jax.jit`` of a pure ``value_and_grad`` and SGD update; ``dtype`` (a name such as
    ``"bfloat16"``) converts the parameters and float inputs."""
    params = [jnp.asarray(p, dtype=dtype) for p in data["params"]]
    inputs = [jnp.asarray(a, dtype=dtype if a.dtype.kind == "f" else None)
              for a in data["inputs"]]

    @jax.jit
    def update(params, inputs):
        loss, grads = jax.value_and_grad(lambda p: loss_fn(J, p, inputs))(params)
        return [p - lr * g for p, g in zip(params, grads)], loss

    def step():
        nonlocal params
        params, loss = update(params, inputs)
        return loss

    return step


def chain_step() -> Callable:
    """Each call traces and compiles ``jit(grad)`` of the next never-seen chain: what a new
    structure costs in JAX."""
    x, y = (jnp.asarray(a) for a in wl.chain_data())
    seeds = itertools.count()

    def step():
        ops = wl.chain_ops(next(seeds))
        gx, gy = jax.jit(jax.grad(lambda x, y: wl.chain(J, ops, x, y), argnums=(0, 1)))(x, y)
        return gx.sum() + gy.sum()

    return step


def hvp_step() -> Callable:
    """``jit(jvp(grad(f)))``, forward-over-reverse."""
    a, x, v = (jnp.asarray(t) for t in wl.hvp_data())

    @jax.jit
    def hvp(a, x, v):
        return jax.jvp(jax.grad(lambda x: wl.tanh_energy(J, a, x)), (x,), (v,))[1]

    return lambda: hvp(a, x, v).sum()


def wide_mlp_step(size: int, dtype: str) -> Callable:
    return train_step(wl.wide_mlp_data(size), wl.mlp_loss, dtype=dtype, lr=wl.GPU_LR)


# Each takes the GPU size (only G1 and G2 use it).
STEPS = {
    "W1": lambda n: train_step(wl.seed_data(), wl.seed_loss),
    "W2": lambda n: train_step(wl.logistic_data(), wl.logistic_loss),
    "W3": lambda n: train_step(wl.mlp_data(), wl.mlp_loss),
    "W4": lambda n: chain_step(),
    "W5": lambda n: hvp_step(),
    "G1": lambda n: wide_mlp_step(n, "float32"),
    "G2": lambda n: wide_mlp_step(n, "bfloat16"),
}

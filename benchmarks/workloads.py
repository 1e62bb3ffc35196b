"""The benchmark workloads, each written once.

The maths of a workload (a loss, a random op chain, the function whose Hessian is probed) takes
a module ``T`` and only uses names that torch and funcgrad share, so torch eager and funcgrad
eager run literally the same code. ``raw_jax.py`` passes a small namespace of ``jax.numpy``
functions under the same names, so the pure JAX step computes the same maths too.

A *step* is a zero-argument callable returning a 0-d value; calling ``.item()`` on it forces
the work (for lazy engines) and gives the number every system must agree on.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LR = 0.1
CHAIN_LENGTH = 20
CHAIN_SIZE = 64
HVP_SIZE = 512
# The GPU workloads (G1, G2): an MLP whose width and batch are both ``size``, big enough to
# fill a GPU by default, tiny for a --quick smoke run anywhere. Their learning rate is smaller
# than LR because the stable step of a standard-parameterised MLP shrinks with its width.
GPU_SIZE = {"full": 4096, "quick": 64}
GPU_DEPTH = 3
GPU_LR = 1e-3
# Every system starts from the same values and takes the same steps, so their results may
# differ only by rounding, compounded over the warm-up steps: float32's, or bfloat16's.
RTOL, ATOL = 1e-4, 1e-6
BF16_RTOL = 2e-2


def seed_data() -> dict:
    """The seed notebook's single example: cgpa 6.7, placement 0, w = 1, b = 0."""
    return {"params": [np.float32(1.0), np.float32(0.0)],
            "inputs": [np.float32(6.7), np.float32(0.0)]}


def logistic_data() -> dict:
    """1024 points in 16 dimensions, labels from a noisy linear rule."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1024, 16), dtype=np.float32)
    y = (x @ rng.standard_normal(16, dtype=np.float32) + rng.standard_normal(1024) > 0)
    return {"params": [np.zeros(16, np.float32), np.float32(0.0)],
            "inputs": [x, y.astype(np.float32)]}


def mlp_data() -> dict:
    """One batch of 128 MNIST-shaped inputs and an He-initialised 784-256-256-10 MLP."""
    rng = np.random.default_rng(0)
    sizes = [784, 256, 256, 10]
    params = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        params.append(rng.standard_normal((fan_in, fan_out), dtype=np.float32)
                      * np.float32(np.sqrt(2 / fan_in)))
        params.append(np.zeros(fan_out, np.float32))
    x = rng.standard_normal((128, 784), dtype=np.float32)
    return {"params": params, "inputs": [x, rng.integers(0, 10, 128)]}


def wide_mlp_data(size: int) -> dict:
    """One batch of ``size`` inputs of width ``size`` and an He-initialised MLP with
    GPU_DEPTH hidden layers of width ``size`` and 10 outputs."""
    rng = np.random.default_rng(0)
    sizes = [size] * (GPU_DEPTH + 1) + [10]
    params = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        params.append(rng.standard_normal((fan_in, fan_out), dtype=np.float32)
                      * np.float32(np.sqrt(2 / fan_in)))
        params.append(np.zeros(fan_out, np.float32))
    x = rng.standard_normal((size, size), dtype=np.float32)
    return {"params": params, "inputs": [x, rng.integers(0, 10, size)]}


def binary_cross_entropy_loss(T, prediction, target):
    """The seed notebook's loss, clamp and all."""
    epsilon = 1e-8
    prediction = T.clamp(prediction, epsilon, 1 - epsilon)
    return -(target * T.log(prediction) + (1 - target) * T.log(1 - prediction))


def seed_loss(T, params, inputs):
    w, b = params
    x, y = inputs
    z = w * x + b
    y_pred = T.sigmoid(z)
    return binary_cross_entropy_loss(T, y_pred, y)


def logistic_loss(T, params, inputs):
    w, b = params
    x, y = inputs
    return binary_cross_entropy_loss(T, T.sigmoid(x @ w + b), y).mean()


def mlp_loss(T, params, inputs):
    """An MLP of any depth: ReLU after every layer but the last, then cross-entropy."""
    h, labels = inputs
    *hidden, w_out, b_out = params
    for w, b in zip(hidden[::2], hidden[1::2]):
        h = T.relu(h @ w + b)
    return T.nn.functional.cross_entropy(h @ w_out + b_out, labels)


def train_step(T, data: dict, loss_fn: Callable, device: str, dtype: str | None = None,
               lr: float = LR) -> Callable:
    """The torch-style SGD step: forward, ``backward()``, update under ``no_grad``, ``zero_``.
    ``dtype`` (a name such as ``"bfloat16"``) converts the parameters and float inputs."""
    dtype = getattr(T, dtype) if dtype else None
    params = [T.tensor(p, dtype=dtype, device=device, requires_grad=True)
              for p in data["params"]]
    inputs = [T.tensor(a, dtype=dtype if a.dtype.kind == "f" else None, device=device)
              for a in data["inputs"]]

    def step():
        loss = loss_fn(T, params, inputs)
        loss.backward()
        with T.no_grad():
            for p in params:
                p -= lr * p.grad
        for p in params:
            p.grad.zero_()
        return loss

    return step


_CHAIN_OPS = (
    lambda T, a, y: T.sin(a),
    lambda T, a, y: T.cos(a),
    lambda T, a, y: T.tanh(a),
    lambda T, a, y: T.sigmoid(a),
    lambda T, a, y: a * 1.5,
    lambda T, a, y: a + 0.5,
    lambda T, a, y: a * y,
    lambda T, a, y: a - y,
)


def chain_ops(seed: int) -> list[Callable]:
    """The op sequence of chain number ``seed``; chain 0 uses every op, so one warm-up
    chain warms them all, and every later seed is, in practice, a structure never seen. Every
    chain reads ``y`` (a draw of none, about one in 300, is drawn again), so ``y.grad`` is
    never None."""
    if seed == 0:
        return [_CHAIN_OPS[i % len(_CHAIN_OPS)] for i in range(CHAIN_LENGTH)]
    rng = random.Random(seed)
    while True:
        ops = rng.choices(_CHAIN_OPS, k=CHAIN_LENGTH)
        if any(op in _CHAIN_OPS[-2:] for op in ops):  # the two ops that read y
            return ops


def chain(T, ops: list[Callable], x, y):
    for op in ops:
        x = op(T, x, y)
    return x.sum()


def chain_data() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.uniform(-1, 1, CHAIN_SIZE).astype(np.float32) for _ in range(2)]


def chain_step(T, device: str) -> Callable:
    """Each call builds the next never-seen chain on fresh leaves and returns its gradient."""
    x0, y0 = chain_data()
    seeds = itertools.count()

    def step():
        x = T.tensor(x0, device=device, requires_grad=True)
        y = T.tensor(y0, device=device, requires_grad=True)
        chain(T, chain_ops(next(seeds)), x, y).backward()
        return x.grad.sum() + y.grad.sum()

    return step


def hvp_data() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((HVP_SIZE, HVP_SIZE), dtype=np.float32)
    x, v = (rng.standard_normal(HVP_SIZE, dtype=np.float32) for _ in range(2))
    return [a / np.float32(np.sqrt(HVP_SIZE)), x, v]


def tanh_energy(T, a, x):
    """f(x) = sum(tanh(Ax)^2)."""
    return (T.tanh(a @ x) ** 2).sum()


def hvp_step(T, device: str) -> Callable:
    """A Hessian-vector product by double backward: grad with ``create_graph=True``, then the
    grad of ``(g * v).sum()``."""
    a, x, v = (T.tensor(t, device=device) for t in hvp_data())
    x.requires_grad_(True)

    def step():
        (g,) = T.autograd.grad(tanh_energy(T, a, x), x, create_graph=True)
        (hv,) = T.autograd.grad((g * v).sum(), x)
        return hv.sum()

    return step


def wide_mlp_step(T, device: str, size: int, dtype: str) -> Callable:
    return train_step(T, wide_mlp_data(size), mlp_loss, device, dtype=dtype, lr=GPU_LR)


@dataclass(frozen=True)
class Workload:
    """A workload: its title (``{n}`` stands for the GPU size), its torch-style step builder
    ``(T, device, size) -> step`` (only G1 and G2 use ``size``), whether each call is timed
    alone (a first-call latency) rather than in a loop, and the relative tolerance of the
    agreement check."""

    title: str
    torch_style: Callable[[object, str, int], Callable]
    single_call: bool = False
    rtol: float = RTOL


_WIDE = "MLP " + "-".join(["{n}"] * (GPU_DEPTH + 1)) + "-10, batch {n}"
WORKLOADS = {
    "W1": Workload("scalar BCE step (seed)",
                   lambda T, d, n: train_step(T, seed_data(), seed_loss, d)),
    "W2": Workload("logistic regression 1024x16",
                   lambda T, d, n: train_step(T, logistic_data(), logistic_loss, d)),
    "W3": Workload("MLP 784-256-256-10, batch 128",
                   lambda T, d, n: train_step(T, mlp_data(), mlp_loss, d)),
    "W4": Workload("first grad of a new 20-op chain", lambda T, d, n: chain_step(T, d),
                   single_call=True),
    "W5": Workload("HVP, sum(tanh(Ax)^2), A 512x512", lambda T, d, n: hvp_step(T, d)),
    "G1": Workload(_WIDE + ", float32", lambda T, d, n: wide_mlp_step(T, d, n, "float32")),
    "G2": Workload(_WIDE + ", bfloat16", lambda T, d, n: wide_mlp_step(T, d, n, "bfloat16"),
                   rtol=BF16_RTOL),
}
CPU_WORKLOADS = ["W1", "W2", "W3", "W4", "W5"]
GPU_WORKLOADS = ["G1", "G2"]

"""An MLP on a generated three-class spiral (no downloads), trained with funcgrad.nn and
funcgrad.optim.Adam: eagerly and with funcgrad.compile, from the same start. Prints time per
step for both, their final losses and accuracy (the two runs agree to float32 rounding)."""


import jax
import numpy as np
from _common import parse, run_steps

import funcgrad
import funcgrad.nn as nn


def spiral(n_per_class: int = 256, classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for c in range(classes):
        r = np.linspace(0.05, 1.0, n_per_class)
        t = np.linspace(c * 4.0, (c + 1) * 4.0, n_per_class) + rng.normal(0, 0.2, n_per_class)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        ys.append(np.full(n_per_class, c))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int32)


def make_model():
    funcgrad.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                         nn.Linear(128, 3))


def make_step(model, optimizer, loss_fn):
    def step(x, y):
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss
    return step


def train(x, y, steps: int, compiled: bool, start: dict):
    model = make_model()
    model.load_state_dict(start)
    optimizer = funcgrad.optim.Adam(model.parameters(), lr=1e-2)
    step = make_step(model, optimizer, nn.CrossEntropyLoss())
    if compiled:
        step = funcgrad.compile(step)
    losses, per_step = run_steps(step, steps, x, y)
    with funcgrad.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    label = "compiled" if compiled else "eager   "
    print(f"{label}: {per_step * 1e6:8.0f} us/step, final loss {float(losses[-1]):.4f}, "
          f"accuracy {accuracy:.3f}")
    return model, per_step


def main() -> None:
    args = parse(__doc__, lambda p: p.add_argument("--steps", type=int, default=200))
    features, labels = spiral()
    x, y = funcgrad.tensor(features), funcgrad.tensor(labels)
    print(f"device: {x.device}, {len(labels)} points, 3 classes")
    # JAX's default float32 matmul on a GPU rounds through TF32 (torch's default does not), and
    # eager and compiled steps split their work into different kernels, so two Adam runs would
    # part at TF32's 1e-3; in full float32 they agree to float32 rounding on every device.
    # Both runs start from one set of parameters. (Drawing them twice from one seed can differ
    # in the last bit: the lazy tier runs a recurring computation as one fused program.)
    start = make_model().state_dict()
    with jax.default_matmul_precision("float32"):
        eager_model, eager_time = train(x, y, args.steps, compiled=False, start=start)
        compiled_model, compiled_time = train(x, y, args.steps, compiled=True, start=start)
    gap = max(float((a - b).abs().max()) for a, b in
              zip(eager_model.parameters(), compiled_model.parameters()))
    print(f"compiled is {eager_time / compiled_time:.1f}x faster per step; "
          f"max parameter difference {gap:.2e}")
    assert gap < 1e-3, "eager and compiled training diverged"


if __name__ == "__main__":
    main()

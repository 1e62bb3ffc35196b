"""The seed's CGPA -> placement logistic regression, trained on a generated data set: eagerly
and with funcgrad.compile, from the same start. Prints both runs' final loss and parameters
(they agree to float32 rounding) and time per step, and saves the loss curves and the decision
boundary to a PNG."""

from pathlib import Path

import numpy as np
from _bce import binary_cross_entropy_loss
from _common import parse, pyplot, run_steps, save

import funcgrad


def make_data(n: int = 400, seed: int = 0):
    """CGPA in [5, 10]; placement more likely above about 7.2."""
    rng = np.random.default_rng(seed)
    cgpa = rng.uniform(5.0, 10.0, n).astype(np.float32)
    placed = (rng.uniform(size=n) < 1 / (1 + np.exp(-2.5 * (cgpa - 7.2)))).astype(np.float32)
    return cgpa, placed


def train(step_fn, x, y, steps: int, label: str):
    w = funcgrad.tensor(1.0, requires_grad=True)
    b = funcgrad.tensor(0.0, requires_grad=True)
    step = step_fn(w, b)
    losses, per_step = run_steps(step, steps, x, y)
    losses = [float(v) for v in losses]
    print(f"{label}: final loss {losses[-1]:.6f}, w {w.item():.6f}, b {b.item():.6f}, "
          f"{per_step * 1e6:.0f} us/step")
    return w, b, losses


def make_step(w, b, lr=0.5):
    def step(x, y):
        z = w * x + b
        loss = binary_cross_entropy_loss(funcgrad.sigmoid(z), y).mean()
        loss.backward()
        with funcgrad.no_grad():
            w.sub_(lr * w.grad)
            b.sub_(lr * b.grad)
        w.grad.zero_()
        b.grad.zero_()
        return loss
    return step


def main() -> None:
    args = parse(__doc__, lambda p: (
        p.add_argument("--steps", type=int, default=300),
        p.add_argument("--out", type=Path, default=Path("out")),
    ))
    cgpa, placed = make_data()
    mean, std = cgpa.mean(), cgpa.std()
    x, y = funcgrad.tensor((cgpa - mean) / std), funcgrad.tensor(placed)
    print(f"device: {x.device}, {len(cgpa)} students, {int(placed.sum())} placed")

    w_e, b_e, eager = train(make_step, x, y, args.steps, "eager   ")
    w_c, b_c, compiled = train(lambda w, b: funcgrad.compile(make_step(w, b)), x, y,
                               args.steps, "compiled")
    gap = max(abs(w_e.item() - w_c.item()), abs(b_e.item() - b_c.item()))
    print(f"eager and compiled agree: max parameter difference {gap:.2e}")
    assert gap < 1e-4, "eager and compiled training diverged"

    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(eager, label="eager")
    ax1.plot(compiled, "--", label="compiled")
    ax1.set(xlabel="step", ylabel="BCE loss", title="training loss")
    ax1.legend()
    grid = np.linspace(5, 10, 200, dtype=np.float32)
    with funcgrad.no_grad():
        prob = funcgrad.sigmoid(w_c * funcgrad.tensor((grid - mean) / std) + b_c).numpy()
    ax2.scatter(cgpa, placed, s=8, alpha=0.4, label="students")
    ax2.plot(grid, prob, color="C3", label="P(placed | CGPA)")
    boundary = mean - b_c.item() / w_c.item() * std
    ax2.axvline(boundary, color="k", ls=":", label=f"boundary {boundary:.2f}")
    ax2.set(xlabel="CGPA", ylabel="placed", title="decision boundary")
    ax2.legend()
    save(fig, args.out, "train_placement.png")


if __name__ == "__main__":
    main()

"""f(x) = sin(x) * x**2 / 4 and its first and second derivatives, from both faces: the
functional one (vmap of grad, and grad of grad) and the stateful one (backward with
create_graph=True, then autograd.grad of the gradient). Prints how far each is from the closed
form, and plots all three curves to a PNG."""

from pathlib import Path

import numpy as np
from _common import parse, pyplot, save

import funcgrad


def f(x):
    return funcgrad.sin(x) * x ** 2 / 4


def closed_forms(x: np.ndarray):
    d1 = (np.cos(x) * x ** 2 + 2 * x * np.sin(x)) / 4
    d2 = (-np.sin(x) * x ** 2 + 4 * x * np.cos(x) + 2 * np.sin(x)) / 4
    return d1, d2


def functional_face(x):
    d1 = funcgrad.vmap(funcgrad.grad(f))
    d2 = funcgrad.vmap(funcgrad.grad(funcgrad.grad(f)))
    return d1(x), d2(x)


def stateful_face(x):
    x = x.detach().requires_grad_()
    f(x).sum().backward(create_graph=True)
    d1 = x.grad
    (d2,) = funcgrad.autograd.grad(d1.sum(), x)
    return d1.detach(), d2


def main() -> None:
    args = parse(__doc__, lambda p: p.add_argument("--out", type=Path, default=Path("out")))
    x = funcgrad.linspace(-6, 6, 241)
    want1, want2 = closed_forms(x.numpy().astype(np.float64))
    print(f"device: {x.device}")
    for name, (d1, d2) in (("functional", functional_face(x)), ("stateful", stateful_face(x))):
        err1 = np.abs(d1.numpy() - want1).max()
        err2 = np.abs(d2.numpy() - want2).max()
        print(f"{name:10s} face: max |f' - closed form| {err1:.1e}, "
              f"max |f'' - closed form| {err2:.1e}")
        assert err1 < 1e-4 and err2 < 1e-4, f"{name} derivatives are off"

    plt = pyplot()
    d1, d2 = functional_face(x)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(x.numpy(), f(x).numpy(), label="f(x) = sin(x) x² / 4")
    ax.plot(x.numpy(), d1.numpy(), label="f'(x)")
    ax.plot(x.numpy(), d2.numpy(), label="f''(x)")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="x", title="a function and its derivatives (funcgrad, both faces agree)")
    ax.legend()
    save(fig, args.out, "plot_derivatives.png")


if __name__ == "__main__":
    main()

"""The seed notebook's derivatives through the functional face: funcgrad.grad(f)(x).

No graph, no .backward(), no .grad to clear: grad(f) is a function that returns the derivative.
Each line prints a derivative as a Python number (or list), to full float32 precision.
"""

from _bce import binary_cross_entropy_loss
from _common import setup

import funcgrad


def show(label: str, value: funcgrad.Tensor) -> None:
    print(f"{label}: {value.tolist()}")


def main() -> None:
    setup(__doc__)
    show("d(x**2)/dx at x=3", funcgrad.grad(lambda x: x**2)(funcgrad.tensor(3.0)))
    show("d(sin(x**2))/dx at x=4",
         funcgrad.grad(lambda x: funcgrad.sin(x**2))(funcgrad.tensor(4.0)))

    x, y = funcgrad.tensor(6.7), funcgrad.tensor(0.0)

    def loss(w, b):
        return binary_cross_entropy_loss(funcgrad.sigmoid(w * x + b), y)

    dw, db = funcgrad.grad(loss, argnums=(0, 1))(funcgrad.tensor(1.0), funcgrad.tensor(0.0))
    show("dL/dw at w=1, b=0", dw)
    show("dL/db at w=1, b=0", db)

    show("d(mean(x**2))/dx at x=[1, 2, 3]",
         funcgrad.grad(lambda x: (x**2).mean())(funcgrad.tensor([1.0, 2.0, 3.0])))

    # Nothing accumulates: asking twice gives the same derivative, so there is nothing to zero_().
    square_grad = funcgrad.grad(lambda x: x**2)
    twice = funcgrad.stack([square_grad(funcgrad.tensor(2.0)) for _ in range(2)])
    show("d(x**2)/dx at x=2, asked twice", twice)

    # stop_gradient is the functional detach(): the value flows, the derivative does not.
    show("d(stop_gradient(x)**2)/dx at x=2",
         funcgrad.grad(lambda x: funcgrad.stop_gradient(x) ** 2)(funcgrad.tensor(2.0)))


if __name__ == "__main__":
    main()

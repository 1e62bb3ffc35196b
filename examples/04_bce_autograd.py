"""The seed notebook's logistic-regression gradient again, this time by autograd."""

from _bce import binary_cross_entropy_loss
from _common import setup

import funcgrad


def main() -> None:
    setup(__doc__)
    x = funcgrad.tensor(6.7)
    y = funcgrad.tensor(0.0)
    w = funcgrad.tensor(1.0, requires_grad=True)
    b = funcgrad.tensor(0.0, requires_grad=True)
    print(repr(w))  # In [32]
    print(repr(b))  # In [33]

    z = w * x + b
    print(repr(z))  # In [34]
    y_pred = funcgrad.sigmoid(z)
    print(repr(y_pred))  # In [35]
    loss = binary_cross_entropy_loss(y_pred, y)
    print(repr(loss))  # In [36]

    loss.backward()
    print(w.grad)  # In [38]
    print(b.grad)


if __name__ == "__main__":
    main()

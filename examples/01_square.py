"""Example 1 of the seed notebook: y = x**2, its derivative by hand and by autograd."""

from _common import setup

import funcgrad


def dy_dx(x):
    return 2 * x


def main() -> None:
    setup(__doc__)
    print(repr(dy_dx(3)))  # In [2]

    x = funcgrad.tensor(3.0, requires_grad=True)
    y = x**2
    print(repr(x))  # In [6]
    print(repr(y))  # In [7]
    y.backward()
    print(repr(x.grad))  # In [9]


if __name__ == "__main__":
    main()

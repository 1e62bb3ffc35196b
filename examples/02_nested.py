"""Example 2 of the seed notebook: the nested function z = sin(x**2), by hand and by autograd."""

import math
import warnings

from _common import setup

import funcgrad


def dz_dx(x):
    return 2 * x * math.cos(x**2)


def main() -> None:
    setup(__doc__)
    print(repr(dz_dx(4)))  # In [11]

    x = funcgrad.tensor(4.0, requires_grad=True)
    y = x**2
    z = funcgrad.sin(y)
    print(repr(x))  # In [15]
    print(repr(y))  # In [16]
    print(repr(z))  # In [17]
    z.backward()
    print(repr(x.grad))  # In [19]

    # In [20]: y is not a leaf, so its .grad stays None and reading it warns (on stderr, as in
    # the notebook). "always" keeps the warning visible whatever -W filters the caller set.
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        print(repr(y.grad))


if __name__ == "__main__":
    main()

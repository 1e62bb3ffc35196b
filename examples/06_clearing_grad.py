"""The seed notebook's gradient clearing: .grad accumulates until x.grad.zero_() clears it."""

from _common import setup

import funcgrad


def main() -> None:
    setup(__doc__)
    x = funcgrad.tensor(2.0, requires_grad=True)
    print(repr(x))  # In [44]
    y = x**2
    print(repr(y))  # In [45]
    y.backward()
    print(repr(x.grad))  # In [47]
    print(repr(x.grad.zero_()))  # In [48]


if __name__ == "__main__":
    main()

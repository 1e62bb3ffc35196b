"""The seed notebook's vector example: the gradient of mean(x**2) for a vector x."""

from _common import setup

import funcgrad


def main() -> None:
    setup(__doc__)
    x = funcgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    print(repr(x))  # In [40]
    y = (x**2).mean()
    print(repr(y))  # In [41]
    y.backward()
    print(repr(x.grad))  # In [43]


if __name__ == "__main__":
    main()

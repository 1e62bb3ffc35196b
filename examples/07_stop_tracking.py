"""The seed notebook's three ways to stop tracking: requires_grad_(False), detach(), no_grad()."""

from _common import setup

import funcgrad


def backward_or_error(t) -> None:
    """Calls t.backward() and prints the error as the notebook shows it, if there is one."""
    try:
        t.backward()
    except RuntimeError as e:
        print(f"{type(e).__name__}: {e}")


def main() -> None:
    setup(__doc__)
    x = funcgrad.tensor(2.0, requires_grad=True)
    print(repr(x))  # In [49]
    y = x**2
    print(repr(y))  # In [50]
    y.backward()
    print(repr(x.grad))  # In [52]

    # option 1 - requires_grad_(False)
    print(repr(x.requires_grad_(False)))  # In [56]
    print(repr(x))  # In [58]
    y = x**2
    print(repr(y))  # In [60]
    backward_or_error(y)  # In [61]

    # option 2 - detach()
    x = funcgrad.tensor(2.0, requires_grad=True)
    print(repr(x))  # In [62]
    z = x.detach()
    print(repr(z))  # In [64]
    y = x**2
    print(repr(y))  # In [66]
    y1 = z**2
    print(repr(y1))  # In [67]
    backward_or_error(y)  # In [68]
    backward_or_error(y1)  # In [69]

    # option 3 - no_grad()
    x = funcgrad.tensor(2.0, requires_grad=True)
    print(repr(x))  # In [71]
    with funcgrad.no_grad():
        y = x**2
    print(repr(y))  # In [73]
    backward_or_error(y)  # In [74]


if __name__ == "__main__":
    main()

"""``funcgrad.torch_version``: ``TorchVersion``, the string ``funcgrad.__version__`` is, which
compares as a version with strings and tuples as torch's does (``__version__ >= (2, 0)``).
funcgrad's version is its own, 0.1.0, not torch's: code that checks for torch 2.x takes its
path for older torch here.

>>> import funcgrad
>>> funcgrad.__version__ < "0.10", funcgrad.__version__ >= (0, 1)
(True, True)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from .version import __version__ as _version

__all__ = ["TorchVersion"]

# PEP 440's canonical spelling: release, pre-release, post-release, dev-release, local label
_PEP440 = re.compile(r"v?(\d+(?:\.\d+)*)(?:(a|b|rc)(\d+))?(?:\.post(\d+))?(?:\.dev(\d+))?"
                     r"(?:\+([a-z0-9]+(?:\.[a-z0-9]+)*))?")


def _sort_key(text: str) -> tuple | None:
    """PEP 440's order of a version in its canonical spelling (packaging's ``Version``, which
    torch's ``TorchVersion`` uses); None for any other string."""
    match = _PEP440.fullmatch(text.strip().lower())
    if match is None:
        return None
    release, phase, pre, post, dev, local = match.groups()
    numbers = [int(n) for n in release.split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    # a dev-release alone comes before the pre-releases, a final release after them
    pre_key = ((0, "a b rc".split().index(phase), int(pre)) if phase
               else (-1,) if dev and not post else (1,))
    local_key = tuple((1, int(p), "") if p.isdigit() else (0, 0, p)
                      for p in local.split(".")) if local else ()
    return (tuple(numbers), pre_key, int(post) if post else -1,
            int(dev) if dev else math.inf, local_key)


def _other_key(other) -> tuple | None:
    if isinstance(other, str) or hasattr(other, "release"):  # packaging's Version too
        return _sort_key(str(other))
    if isinstance(other, Iterable):
        return _sort_key(".".join(str(item) for item in other))
    return None


class TorchVersion(str):
    """A version string that compares as a version (``"0.10" > "0.9"``) with strings, tuples
    (``(2, 1)`` reads as ``"2.1"``) and packaging's ``Version``; with anything else, or a
    version that is not PEP 440's canonical spelling, it compares as the string it is.

    >>> from funcgrad.torch_version import TorchVersion
    >>> TorchVersion("2.13.0+cpu") > "2.13", TorchVersion("2.0") == (2, 0, 0)
    (True, True)
    """

    __slots__ = ()
    __hash__ = str.__hash__

    def _compare(self, other, method: str) -> bool:
        mine, theirs = _sort_key(self), _other_key(other)
        if mine is None or theirs is None:
            return getattr(super(), method)(other)
        return getattr(mine, method)(theirs)

    def __gt__(self, other) -> bool:
        return self._compare(other, "__gt__")

    def __ge__(self, other) -> bool:
        return self._compare(other, "__ge__")

    def __lt__(self, other) -> bool:
        return self._compare(other, "__lt__")

    def __le__(self, other) -> bool:
        return self._compare(other, "__le__")

    def __eq__(self, other) -> bool:
        return self._compare(other, "__eq__")


__version__ = TorchVersion(_version)

"""Why a compiled structure missed: per call site, the structure compiled there last, a reason
for each new one, and a warning once a site has compiled too many.

A *site* is the line of user code that asked for the work (the ``.backward()`` call, say): a
loop that builds a different graph at one site every step compiles every step, and the reason
names what changed (an op, a shape, a dtype, the wiring), which is what one needs to fix it.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import sys
import warnings
from collections.abc import Callable

from . import _config

_PACKAGE = os.path.dirname(__file__) + os.sep


class RecompileWarning(UserWarning):
    """One call site has compiled more structures (or a compiled step has been traced again
    more often) than allowed: something changes every call that should stay fixed."""


def user_site() -> str:
    """``file:line`` of the innermost frame outside funcgrad: the user's line."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    return "<unknown>" if frame is None else f"{frame.f_code.co_filename}:{frame.f_lineno}"


# Every tier's reasons, newest last: what funcgrad.debug.explain_recompiles() returns.
reasons: collections.deque[str] = collections.deque(maxlen=100)


@dataclasses.dataclass
class _Site:
    last: tuple
    compiles: int = 0


class Tracker:
    """Remembers, per site, the last structure one tier compiled there, and explains the next.

    ``describe(previous, new)`` says what differs between two structure keys of the tier.
    """

    def __init__(self, tier: str, describe: Callable[[tuple, tuple], str]) -> None:
        self.tier, self._describe = tier, describe
        self._sites: collections.OrderedDict[str, _Site] = collections.OrderedDict()

    def compiled(self, key: tuple) -> None:
        """Notes a compile of ``key``: records why it differs from the site's last one and warns
        when the site passes ``config.recompile_warn_after`` compiles."""
        where = user_site()
        site = self._sites.pop(where, None)
        self._sites[where] = site = site or _Site(key)
        while len(self._sites) > _config.config.cache_size:
            self._sites.popitem(last=False)
        site.compiles += 1
        if site.compiles > 1:
            reason = f"{self.tier} at {where}: {self._describe(site.last, key)}"
            reasons.append(reason)
            if site.compiles == _config.config.recompile_warn_after + 1:
                warnings.warn(
                    f"funcgrad compiled {site.compiles} different structures for the "
                    f"{reason}. Keep shapes, dtypes and the ops a step runs the same every "
                    "step (or raise funcgrad.config.recompile_warn_after); "
                    "funcgrad.debug.explain_recompiles() lists every reason.",
                    RecompileWarning, stacklevel=2)
        site.last = key

    def clear(self) -> None:
        self._sites.clear()


def show(value) -> str:
    """A structure key's part as a person reads it: avals (a ``jax.core.ShapedArray`` or a
    ``(shape, dtype, weak_type)`` tuple) as ``float32[8, 4]``."""
    if isinstance(value, tuple) and len(value) == 3 and hasattr(value[1], "name"):
        shape, dtype, weak = value
        return f"{'weak ' if weak else ''}{dtype.name}{list(shape)}"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return show((value.shape, value.dtype, getattr(value, "weak_type", False)))
    if isinstance(value, tuple):
        return "(" + ", ".join(map(show, value)) + ")"
    if isinstance(value, type):
        return value.__name__
    return getattr(value, "name", None) or repr(value)

"""``funcgrad.config``: switches for the engine's tiers and the sizes of its caches."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class Config:
    """Engine settings; change them on ``funcgrad.config``.

    Attributes:
        compiled_backward: run the backward of a recurring graph structure as one compiled
            program (results are the same either way; off is for debugging).
        compile_after: how many times a structure must be seen before it is compiled (first
            backwards of one-off graphs stay interpreted, which starts faster).
        cache_size: how many compiled structures to keep (least recently used go first).

    >>> import funcgrad
    >>> funcgrad.config.compiled_backward
    True
    """

    compiled_backward: bool = True
    compile_after: int = 2
    cache_size: int = 256


config = Config()

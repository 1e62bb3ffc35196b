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
        recompile_warn_after: how many different structures one line of code (a
            ``.backward()`` call, say) may compile before a ``RecompileWarning`` says what
            keeps changing; ``funcgrad.debug.explain_recompiles()`` lists every reason.
        lazy: defer forward work, backward work and in-place updates until a value is read,
            then run them as one program (compiled once the structure recurs); shapes, dtypes
            and errors still come at each op. Results are the same either way; off runs every
            op at once, which is for debugging and for timing single ops.
        max_pending: the most pending ops behind one value before it is computed anyway, so
            memory stays flat in a loop that never reads a value.
        shape_cache_size: how many abstract evaluations (an op's output shape and dtype for
            its inputs' shapes and dtypes) the lazy tier keeps.
        rule_cache_size: how many per-op VJP rules (each a jitted function, compiled per
            shape) and ops recorded from them under ``create_graph`` to keep.

    >>> import funcgrad
    >>> funcgrad.config.compiled_backward
    True
    """

    compiled_backward: bool = True
    compile_after: int = 2
    cache_size: int = 256
    recompile_warn_after: int = 8
    lazy: bool = True
    max_pending: int = 10_000
    shape_cache_size: int = 4096
    rule_cache_size: int = 4096


config = Config()

"""``funcgrad.debug``: what the engine's caches hold and how often they hit."""

from __future__ import annotations

from . import _graph, _lazy, _recompiles, _tiers


def cache_info() -> dict:
    """Hits, misses and sizes of the per-op VJP rules, the compiled whole-graph backwards and
    the lazy tier's programs (``shapes``: its cached abstract evaluations).

    >>> import funcgrad
    >>> sorted(funcgrad.debug.cache_info())
    ['backward', 'lazy', 'rules']
    """
    rules = _graph._vjp_rule
    return {
        "rules": {"hits": rules.hits, "misses": rules.misses, "size": len(rules.cache)},
        "backward": {
            "hits": _tiers.stats["backward_hits"],
            "compiles": _tiers.stats["backward_compiles"],
            "interpreted": _tiers.stats["backward_interpreted"],
            "size": len(_tiers._programs),
        },
        "lazy": {
            "hits": _lazy.stats["hits"],
            "compiles": _lazy.stats["compiles"],
            "interpreted": _lazy.stats["interpreted"],
            "size": len(_lazy._programs),
            "shapes": len(_lazy._sigs),
        },
    }


def explain_recompiles() -> list[str]:
    """Why structures were compiled again, newest last: the tier, the user's line that asked
    for it, and the first thing that differs from the structure compiled there before.

    >>> import funcgrad
    >>> funcgrad.debug.clear_caches()
    >>> for n in (2, 2, 2, 3, 3, 3):  # a structure compiles once it recurs
    ...     x = funcgrad.ones(n, requires_grad=True)
    ...     (x * x).sum().backward()
    ...     grad = x.grad.tolist()  # (reading it runs the step's lazy work)
    >>> print(*funcgrad.debug.explain_recompiles(), sep="\\n")  # doctest: +ELLIPSIS
    backward at ...: node 0 (sum): input shapes and dtypes (float32[3]), was (float32[2])
    lazy work at ...: op 0 (multiply): input shapes and dtypes (float32[3], ...), was (...)
    """
    return list(_recompiles.reasons)


def clear_caches() -> None:
    """Empties the compiled caches (the next backwards compile again)."""
    _graph._vjp_rule.cache_clear()
    _graph._backward_op.cache_clear()
    _graph._replay_op.cache_clear()
    _tiers._seen.clear()
    _tiers._programs.clear()
    _tiers.stats.clear()
    for cache in (_lazy._sigs, _lazy._seen, _lazy._programs, _lazy.stats,
                  _tiers.recompiles, _lazy.recompiles, _recompiles.reasons):
        cache.clear()

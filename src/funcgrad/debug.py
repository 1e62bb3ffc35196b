"""``funcgrad.debug``: what the engine's caches hold and how often they hit."""

from __future__ import annotations

from . import _graph, _tiers


def cache_info() -> dict:
    """Hits, misses and sizes of the per-op VJP rules and the compiled whole-graph backwards.

    >>> import funcgrad
    >>> sorted(funcgrad.debug.cache_info())
    ['backward', 'rules']
    """
    rules = _graph._vjp_rule.cache_info()
    return {
        "rules": {"hits": rules.hits, "misses": rules.misses, "size": rules.currsize},
        "backward": {
            "hits": _tiers.stats["backward_hits"],
            "compiles": _tiers.stats["backward_compiles"],
            "interpreted": _tiers.stats["backward_interpreted"],
            "size": len(_tiers._programs),
        },
    }


def clear_caches() -> None:
    """Empties the compiled caches (the next backwards compile again)."""
    _graph._vjp_rule.cache_clear()
    _graph._backward_op.cache_clear()
    _tiers._seen.clear()
    _tiers._programs.clear()
    _tiers.stats.clear()

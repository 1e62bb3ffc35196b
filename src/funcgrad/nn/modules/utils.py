"""``funcgrad.nn.modules.utils``: torch's helpers for a module's size arguments (``_pair`` and
its kin, which custom convolution and pooling modules import from here) and for state dicts."""

from __future__ import annotations

import collections.abc
import itertools
from typing import Any


def _ntuple(n: int, name: str = "parse"):
    """A function making an ``n``-tuple of one value, or a tuple of an iterable's values."""

    def parse(x) -> tuple:
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(itertools.repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t: tuple, n: int) -> tuple:
    """``t`` reversed, each element ``n`` times: a module's per-dimension padding as
    ``F.pad`` takes it (last dimension first, each side).

    >>> _reverse_repeat_tuple((1, 2), 2)
    (2, 2, 1, 1)
    """
    return tuple(x for x in reversed(t) for _ in range(n))


def _list_with_default(out_size, defaults: list[int]):
    """An adaptive pooling's output size with each None replaced by the input's size there
    (``defaults``: the input's shape)."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [v if v is not None else d
            for v, d in zip(out_size, defaults[-len(out_size):], strict=False)]


def consume_prefix_in_state_dict_if_present(state_dict: dict[str, Any], prefix: str) -> None:
    """Strips ``prefix`` from the keys of ``state_dict`` that have it, in place (and from its
    ``_metadata``'s), as when loading a ``DataParallel`` model's ``'module.'`` state into the
    bare model.

    >>> from collections import OrderedDict
    >>> state = OrderedDict([("module.weight", 1), ("bias", 2)])
    >>> consume_prefix_in_state_dict_if_present(state, "module.")
    >>> list(state)
    ['bias', 'weight']
    """
    for key in list(state_dict):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is None:
        return
    for key in list(metadata):
        # '' is the wrapper's own entry, kept; 'module' and 'module.*' are the model's
        if key and (key == prefix.replace(".", "") or key.startswith(prefix)):
            metadata[key[len(prefix):]] = metadata.pop(key)

"""``funcgrad.utils.hooks``: the handle registering a hook returns, for code that keeps hooks
of its own as torch's modules do."""

from .._graph import RemovableHandle as RemovableHandle

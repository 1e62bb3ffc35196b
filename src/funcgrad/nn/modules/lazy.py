"""``funcgrad.nn.modules.lazy``: the lazy-module mixin, where torch keeps them, for code
importing from here."""

from .._lazy import LazyModuleMixin as LazyModuleMixin

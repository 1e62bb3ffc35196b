"""``funcgrad.nn``: neural-network building blocks."""

from . import functional as functional

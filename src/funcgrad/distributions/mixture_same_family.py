"""``funcgrad.distributions.mixture_same_family``: ``MixtureSameFamily``, where torch keeps it,
for code importing from here."""

from ._mixture import MixtureSameFamily as MixtureSameFamily

"""``funcgrad.distributions.transformed_distribution``: ``TransformedDistribution``, where torch
keeps it, for code importing from here."""

from ._transformed import TransformedDistribution as TransformedDistribution

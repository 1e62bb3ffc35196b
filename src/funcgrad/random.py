"""``funcgrad.random``: ``torch.random``'s functions of the global generator, and
``fork_rng``, which runs a block without moving the global stream."""

from ._factories import (
    Generator,
    default_generator,
    fork_rng,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)

__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed",
           "manual_seed", "seed", "set_rng_state"]

"""``funcgrad.autograd.profiler``: torch.autograd.profiler's ``record_function``, the same as
``funcgrad.profiler``'s."""

from ..profiler import record_function as record_function

__all__ = ["record_function"]

"""``funcgrad.nn.utils.stateless``: torch's first home of ``functional_call``, deprecated for
``funcgrad.func.functional_call``."""

from __future__ import annotations

import warnings

from ...func import functional_call as _functional_call


def functional_call(module, parameters_and_buffers: dict, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """``func.functional_call`` of one dict, with torch's ``FutureWarning``."""
    warnings.warn("`funcgrad.nn.utils.stateless.functional_call` is deprecated as of PyTorch "
                  "2.0 and will be removed in a future version of PyTorch. Please use "
                  "`funcgrad.func.functional_call` instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs,
                            tie_weights=tie_weights, strict=strict)

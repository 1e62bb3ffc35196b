"""torch's ``*_copy`` functions: a view op whose output is a fresh tensor, not an alias of the
input. funcgrad's views are copies already, so each is the view op, its ``grad_fn`` renamed
as torch's (``PermuteBackward0_copy``).

>>> import funcgrad
>>> x = funcgrad.ones(2, 3, requires_grad=True)
>>> funcgrad.permute_copy(x, (1, 0)).grad_fn.name()
'PermuteBackward0_copy'
"""

from __future__ import annotations

import jax

from . import _dtypes
from ._complex import view_as_complex, view_as_real
from ._graph import Op, apply, renamed
from ._math_ops import unfold
from ._ops import (
    _wrap_dim,
    as_strided,
    detach,
    diagonal,
    expand,
    permute,
    reshape,
    select,
    split,
    split_with_sizes,
    squeeze,
    t,
    transpose,
    unbind,
    unsqueeze,
)

# torch's slice always records SliceBackward0, where indexing a whole dimension records an alias
SLICE = Op("slice", lambda x, start, stop, step, axis: jax.lax.slice_in_dim(
    x, start, stop, step, axis), "SliceBackward0", saves=False)


def _slice(input, dim: int = 0, start: int | None = None, end: int | None = None,
           step: int = 1):
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    axis = _wrap_dim(dim, input.ndim)
    start, stop, _ = slice(start, end).indices(input.shape[axis])
    return apply(SLICE, input, start=start, stop=max(start, stop), step=step, axis=axis)


# name: (the view, whether torch refuses a complex output that requires grad)
_VIEWS = {
    "alias_copy": (lambda input: input[...], False),
    "as_strided_copy": (as_strided, False),
    # torch records a node whose backward is not implemented; here the copy is outside the graph
    "detach_copy": (detach, False),
    "diagonal_copy": (diagonal, False),
    "expand_copy": (lambda input, size, *, implicit=False: expand(input, size), False),
    "permute_copy": (permute, False),
    "select_copy": (select, True),
    "slice_copy": (_slice, True),
    "split_copy": (split, False),
    "split_with_sizes_copy": (split_with_sizes, False),
    "squeeze_copy": (squeeze, False),
    "t_copy": (t, False),
    "transpose_copy": (transpose, False),
    "unbind_copy": (unbind, False),
    "unfold_copy": (unfold, False),
    "unsqueeze_copy": (unsqueeze, False),
    "view_as_complex_copy": (view_as_complex, True),
    "view_as_real_copy": (view_as_real, False),
    "view_copy": (reshape, False),
}
NAMES = tuple(_VIEWS)


def _function(name: str):
    view, real_grads_only = _VIEWS[name]

    def copy(*args, **kwargs):
        out = view(*args, **kwargs)
        for tensor in out if isinstance(out, tuple) else (out,):
            if real_grads_only and tensor.requires_grad and _dtypes.is_complex(tensor.dtype):
                raise RuntimeError(f"{name} does not support automatic differentiation for "
                                   "outputs with complex dtype.")
            if tensor.grad_fn is not None:
                renamed(tensor, tensor.grad_fn.name() + "_copy")
        return out

    copy.__name__ = copy.__qualname__ = name
    copy.__doc__ = (f"``{name[:-5]}``, as a new tensor (torch's copying form, whose "
                    f"``grad_fn`` names end in ``_copy``).")
    return copy


for _name in NAMES:
    globals()[_name] = _function(_name)

"""torch's top-level spellings of the in-place methods: ``torch.sin_(x)`` is ``x.sin_()``,
with the method's checks, version bump and ``grad_fn``.

>>> import funcgrad
>>> x = funcgrad.tensor([0.0, 1.0])
>>> funcgrad.exp_(x) is x, x
(True, tensor([1.0000, 2.7183]))
"""

from __future__ import annotations

from ._tensor import Tensor

NAMES = ("abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_",
         "arctan_", "arctanh_", "as_strided_", "asin_", "asinh_", "atan_", "atanh_", "ceil_",
         "clamp_", "clamp_max_", "clamp_min_", "clip_", "conj_physical_", "cos_", "cosh_",
         "deg2rad_", "detach_", "erf_",
         "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_", "i0_",
         "index_put_", "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_",
         "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "resize_as_", "round_",
         "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_",
         "trunc_", "xlogy_", "zero_")


def _function(name: str):
    method = getattr(Tensor, name)

    def in_place(input, *args, **kwargs):
        return method(input, *args, **kwargs)

    in_place.__name__ = in_place.__qualname__ = name
    in_place.__doc__ = f"``input.{name}(...)``: ``input`` changed in place, and returned."
    return in_place


for _name in NAMES:
    globals()[_name] = _function(_name)

"""funcgrad: derivatives for research code, on JAX, with a functional and a PyTorch-style face.

This module defines nothing: it re-exports the public surface of the private modules.
"""

from . import autograd as autograd
from . import cuda as cuda
from . import nn as nn
from ._devices import device as device
from ._devices import get_default_device as get_default_device
from ._devices import set_default_device as set_default_device
from ._dtypes import (
    bfloat16, bool, complex64, complex128, double, float, float16, float32, float64, half,
    int, int8, int16, int32, int64, long, short, uint8,
)
from ._dtypes import get_default_dtype as get_default_dtype
from ._dtypes import set_default_dtype as set_default_dtype
from ._factories import (
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace,
    manual_seed, ones, ones_like, rand, randint, randn, randperm, seed, tensor, zeros,
    zeros_like,
)
from ._format import set_printoptions as set_printoptions
from ._grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
    set_grad_enabled,
)
from ._ops import (  # noqa: F401 - generated in _ops from the table
    abs, acos, acosh, add, all, amax, amin, argmax, any, argmin, asin, asinh, atan, atan2, atanh, bmm,
    broadcast_to, cat, ceil, chunk, clamp, clip, clone, concat, concatenate, cos, cosh, cumprod,
    cumsum, diag, div, dot, einsum, eq, erf, exp, exp2, expm1, flatten, flip, floor,
    floor_divide, gather, ge, gt, isfinite, isnan, le, log, log1p, log2, log10, log_softmax,
    logical_and, logical_not, logical_or, logical_xor, logsumexp, lt, masked_fill, matmul, max,
    maximum, mean, min, minimum, mm, mul, mv, narrow, ne, neg, nonzero, norm, outer, permute,
    pow, prod, reciprocal, relu, remainder, repeat, reshape, roll, round, rsqrt, select,
    sigmoid, sign, sin, sinh, softmax, split, sqrt, square, squeeze, stack, std, sub, sum,
    swapaxes, t, tan, tanh, trace, transpose, tril, triu, trunc, unbind, unsqueeze, var, where,
)
from ._tensor import Size as Size
from ._tensor import Tensor as Tensor
from ._transforms import (
    grad, hessian, jacfwd, jacrev, jit, jvp, stop_gradient, value_and_grad, vjp, vmap,
)

__version__ = "0.1.0"

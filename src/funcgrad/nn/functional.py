"""``funcgrad.nn.functional``: activations and losses, each one op with torch's ``grad_fn``
name, or a composition of table ops where torch composes too."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .. import _dtypes, _factories, _grad_mode, _ops
from .._autocast import FP32, LOWER, autocast_policy
from .._graph import Op, apply, broadcast_shape, raise_dim_out_of_range
from .._ops import relu, sigmoid, tanh
from .._tensor import Tensor

__all__ = [
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "silu", "gelu", "softplus", "leaky_relu",
    "elu", "selu", "celu", "logsigmoid", "hardtanh", "relu6", "softsign", "mish", "hardswish",
    "hardsigmoid", "glu", "softmin", "tanhshrink", "softshrink", "hardshrink", "threshold", "prelu",
    "linear", "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss", "l1_loss",
    "smooth_l1_loss", "huber_loss", "soft_margin_loss", "kl_div", "margin_ranking_loss",
    "cosine_embedding_loss", "gaussian_nll_loss", "poisson_nll_loss", "ctc_loss", "nll_loss",
    "cross_entropy", "dropout", "embedding", "layer_norm", "rms_norm", "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "max_pool3d", "avg_pool3d",
    "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d", "max_unpool1d",
    "max_unpool2d", "max_unpool3d", "batch_norm", "instance_norm", "one_hot", "normalize",
    "cosine_similarity", "pairwise_distance", "pad", "group_norm", "scaled_dot_product_attention",
    "interpolate", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle",
    "bilinear",
    "hinge_embedding_loss", "multilabel_soft_margin_loss", "triplet_margin_loss",
    "multi_margin_loss", "unfold", "fold", "affine_grid", "grid_sample", "embedding_bag",
    "multilabel_margin_loss", "local_response_norm", "relu_", "elu_", "selu_", "celu_",
    "leaky_relu_", "hardtanh_", "threshold_", "conv_transpose3d",
    "triplet_margin_with_distance_loss", "pdist", "lp_pool1d", "lp_pool2d", "lp_pool3d",
    "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
    "gumbel_softmax", "adaptive_max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
    "max_pool3d_with_indices", "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices", "rrelu", "rrelu_",
    "linear_cross_entropy", "upsample", "upsample_nearest", "upsample_bilinear",
    "fractional_max_pool2d", "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d_with_indices", "multi_head_attention_forward",
]

_REDUCTIONS = ("none", "mean", "sum")


def _reduce(x, reduction: str):
    if reduction == "mean":
        return jnp.mean(x)
    if reduction == "sum":
        return jnp.sum(x)
    return x


def _is_long(dtype) -> bool:
    """Whether ``dtype`` stands for torch's int64: int64, or funcgrad's default integer dtype
    (int32 without ``jax_enable_x64``)."""
    return dtype in (_dtypes.int64, _dtypes.default_int())


def _check_reduction(reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


SILU = Op("silu", jax.nn.silu, "SiluBackward0")
GELU = Op("gelu", lambda x, approximate: jax.nn.gelu(x, approximate=approximate == "tanh"),
          "GeluBackward0")
# (the untaken branch's exp sees 0, not an overflowing x: jnp.where, not jnp.minimum, whose
# gradient would be split at x * beta == threshold)
SOFTPLUS = Op("softplus", lambda x, beta, threshold: jnp.where(
    x * beta > threshold, x,
    jnp.log1p(jnp.exp(jnp.where(x * beta > threshold, 0, x * beta))) / beta),
    "SoftplusBackward0")
LEAKY_RELU = Op("leaky_relu", lambda x, slope: jnp.where(x > 0, x, x * slope),
                "LeakyReluBackward0")
# slope: a number (the mean slope, in evaluation) or a tensor of one drawn per element
RRELU = Op("rrelu", LEAKY_RELU.fn, "RreluWithNoiseBackward0")


def _elu(x, alpha, scale=1.0, input_scale=1.0):
    """torch's ``elu`` kernel, which ``selu`` and ``celu`` call with their constants."""
    # (jnp.where, not jnp.minimum: at 0 the gradient is the negative branch's, as torch's)
    return scale * jnp.where(x > 0, x, alpha * jnp.expm1(jnp.where(x > 0, 0, x) * input_scale))


def _hardtanh(x, lo, hi):
    # at the bounds the gradient is zero, as torch's hardtanh_backward has it (clip's is not)
    return jnp.where(x <= lo, lo, jnp.where(x >= hi, hi, x))


def _prelu(x, w):
    # the weights go along dimension 1, the channels (a 0-d or 1-D input has one channel)
    w = w.reshape((-1,) + (1,) * (x.ndim - 2)) if x.ndim > 1 else w.reshape(w.shape[:x.ndim])
    return jnp.where(x > 0, x, w * x)


ELU = Op("elu", _elu, "EluBackward0")
CELU = Op("celu", _elu, "CeluBackward0")
LOGSIGMOID = Op("logsigmoid", jax.nn.log_sigmoid, "LogSigmoidBackward0")
HARDTANH = Op("hardtanh", _hardtanh, "HardtanhBackward0")
MISH = Op("mish", lambda x: x * jnp.tanh(jax.nn.softplus(x)), "MishBackward0")
HARDSWISH = Op("hardswish", lambda x: x * _hardtanh(x + 3, 0, 6) / 6, "HardswishBackward0")
HARDSIGMOID = Op("hardsigmoid", lambda x: _hardtanh(x / 6 + 0.5, 0, 1), "HardsigmoidBackward0")
GLU = Op("glu", lambda x, axis: jax.nn.glu(x, axis), "GluBackward0")
SOFTSHRINK = Op("softshrink", lambda x, lambd: jnp.where(
    x > lambd, x - lambd, jnp.where(x < -lambd, x + lambd, jnp.zeros_like(x))),
    "SoftshrinkBackward0")
HARDSHRINK = Op("hardshrink", lambda x, lambd: jnp.where(jnp.abs(x) > lambd, x, 0),
                "HardshrinkBackward0")
THRESHOLD = Op("threshold", lambda x, threshold, value: jnp.where(
    x > threshold, x, jnp.asarray(value, x.dtype)), "ThresholdBackward0")
PRELU = Op("prelu", _prelu, "PreluKernelBackward0")
# torch's in-place leaky_relu, elu, celu and threshold take their gradients from the output:
# other nodes
_INPLACE_OPS = {op: dataclasses.replace(op, grad_fn=op.grad_fn.replace("0", "1"))
                for op in (LEAKY_RELU, ELU, CELU, THRESHOLD, RRELU)}


def _bce(p, t, w=None, reduction="mean"):
    # torch clamps each log at -100 so that p = 0 or 1 gives a finite loss.
    loss = -(t * jnp.maximum(jnp.log(p), -100) + (1 - t) * jnp.maximum(jnp.log(1 - p), -100))
    return _reduce(loss if w is None else loss * w, reduction)


def _bce_logits(x, t, w=None, pw=None, reduction="mean"):
    softplus_neg = jnp.log1p(jnp.exp(-_ops._abs(x))) + jnp.maximum(-x, 0)
    log_weight = 1 if pw is None else 1 + (pw - 1) * t
    loss = (1 - t) * x + log_weight * softplus_neg
    return _reduce(loss if w is None else loss * w, reduction)


def _mse(x, t, reduction="mean"):
    return _reduce(jnp.square(x - t), reduction)


def _nll(logp, target, w=None, ignore_index=-100, reduction="mean"):
    if logp.ndim == 1:  # one sample (a 0-d target, or 1-D of one): its loss unbatched
        loss = _nll(logp[None], jnp.reshape(target, (1,)), w, ignore_index, reduction)
        return loss.reshape(()) if reduction == "none" else loss
    valid = target != ignore_index
    safe = jnp.where(valid, target, 0)
    picked = jnp.take_along_axis(logp, jnp.expand_dims(safe, 1), axis=1).squeeze(1)
    weight = jnp.ones(logp.shape[1], logp.dtype) if w is None else jnp.ravel(w)
    wt = jnp.where(valid, weight[safe], 0)
    loss = -picked * wt
    if reduction == "mean":
        return jnp.sum(loss) / jnp.sum(wt)
    return jnp.sum(loss) if reduction == "sum" else loss


def _smooth_l1(x, t, beta, reduction):
    d = _ops._abs(x - t)
    return _reduce(jnp.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def _huber(x, t, delta, reduction):
    d = _ops._abs(x - t)
    return _reduce(jnp.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


BCE = Op("binary_cross_entropy", _bce, "BinaryCrossEntropyBackward0")
BCE_LOGITS = Op("binary_cross_entropy_with_logits", _bce_logits,
                "BinaryCrossEntropyWithLogitsBackward0")
MSE = Op("mse_loss", _mse, "MseLossBackward0")
SMOOTH_L1 = Op("smooth_l1_loss", _smooth_l1, "SmoothL1LossBackward0")
HUBER = Op("huber_loss", _huber, "HuberLossBackward0")
SOFT_MARGIN = Op("soft_margin_loss", lambda x, t, reduction: _reduce(
    jax.nn.softplus(-t * x), reduction), "SoftMarginLossBackward0")
NLL = Op("nll_loss", _nll, "NllLossBackward0")
# torch fuses the bias into one addmm (2-D input), or an addmm of the flattened input viewed back.
LINEAR = Op("linear", lambda x, w, b: jnp.matmul(x, w.T) + b,
            lambda x, w, b: "AddmmBackward0" if x.ndim == 2 else "ViewBackward0")
# Division by a number inside a torch kernel records DivBackward1 (Python's `/` records
# DivBackward0).
DIV_SCALAR = Op("div_scalar", jnp.true_divide, "DivBackward1")


def _embedding(weight, indices, padding_idx=None, scale_grad_by_freq=False):
    rows = jnp.take(weight, indices, axis=0)
    if scale_grad_by_freq:  # the same rows, whose gradient is divided by the index's count
        counts = jnp.zeros(weight.shape[0], weight.dtype).at[indices].add(1)[indices]
        fixed = jax.lax.stop_gradient(rows)
        rows = fixed + (rows - fixed) / counts[..., None]
    if padding_idx is None:
        return rows
    # torch's backward skips the padding row: its value is looked up, its gradient is cut.
    return jnp.where((indices == padding_idx)[..., None], jax.lax.stop_gradient(rows), rows)


def _layer_norm(x, w=None, b=None, ndim=1, eps=1e-5):
    axes = tuple(range(x.ndim - ndim, x.ndim))
    mean = jnp.mean(x, axis=axes, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=axes, keepdims=True)
    out = (x - mean) * jax.lax.rsqrt(var + eps)
    out = out if w is None else out * w
    return out if b is None else out + b


def _rms_norm(x, w=None, *, ndim: int, eps: float):
    """As torch's composite: a half-precision input is normalized in float32, and the result
    cast back to the input's dtype."""
    low = _dtypes.is_low_precision(x.dtype)
    up = x.astype(jnp.float32) if low else x
    axes = tuple(range(x.ndim - ndim, x.ndim))
    out = up * jax.lax.rsqrt(jnp.mean(jnp.square(up), axis=axes, keepdims=True) + eps)
    out = out if w is None else out * w
    return out.astype(x.dtype) if low else out


EMBEDDING = Op("embedding", _embedding, "EmbeddingBackward0")
LAYER_NORM = Op("layer_norm", _layer_norm, "NativeLayerNormBackward0")
RMS_NORM = Op("rms_norm", _rms_norm,  # (torch's last op composes it)
              lambda x, *_, **__: "ToCopyBackward0" if _dtypes.is_low_precision(x.dtype)
              else "MulBackward0")


def _activate(op: Op, input, inplace: bool, **static):
    """``op`` of ``input``, or, ``inplace``, ``input`` made to hold it (with torch's node for
    the in-place op)."""
    if not inplace:
        return apply(op, input, **static)
    return _ops._inplace(input, apply(_INPLACE_OPS.get(op, op), input, **static))


def silu(input):
    """``x * sigmoid(x)``."""
    return apply(SILU, input)


def gelu(input, approximate: str = "none"):
    """Gaussian error linear unit (exact, or ``approximate='tanh'``)."""
    return apply(GELU, input, approximate=approximate)


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``."""
    return apply(SOFTPLUS, input, beta=beta, threshold=threshold)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    return _activate(LEAKY_RELU, input, inplace, slope=negative_slope)


def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False):
    """Randomized leaky ReLU: ``x`` where positive, else ``a * x`` with ``a`` drawn uniformly
    from ``[lower, upper]`` per element in training (from funcgrad's generator), the mean
    slope ``(lower + upper) / 2`` otherwise."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    slope = (lower + upper) / 2
    if training:
        draws = jax.random.uniform(_factories.next_key(), tuple(input.shape), jnp.float32,
                                   lower, upper)
        slope = Tensor._wrap(draws.astype(input.dtype))
    if not inplace:
        return apply(RRELU, input, slope)
    return _ops._inplace(input, apply(_INPLACE_OPS[RRELU], input, slope))


def rrelu_(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False):
    """``rrelu``, in place."""
    return rrelu(input, lower, upper, training, inplace=True)


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    return _activate(ELU, input, inplace, alpha=alpha)


# torch's constants for selu (Klambauer et al., 2017)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace: bool = False):
    """``scale * elu(x, alpha)`` with the self-normalizing constants (torch's ``elu`` node)."""
    return _activate(ELU, input, inplace, alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def celu(input, alpha: float = 1.0, inplace: bool = False):
    """``x`` where positive, ``alpha * (exp(x / alpha) - 1)`` elsewhere."""
    return _activate(CELU, input, inplace, alpha=alpha, input_scale=1.0 / alpha)


def logsigmoid(input):
    """``log(sigmoid(x))``, computed stably."""
    return apply(LOGSIGMOID, input)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """``x`` clamped to ``[min_val, max_val]``; no gradient at or beyond the bounds.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.hardtanh(funcgrad.tensor([-2.0, 0.5, 3.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _activate(HARDTANH, input, inplace, lo=min_val, hi=max_val)


def relu6(input, inplace: bool = False):
    """``min(max(x, 0), 6)`` (torch's ``hardtanh`` node)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def softsign(input):
    """``x / (1 + |x|)``, composed as torch composes it."""
    return input / (_ops.abs(input) + 1)


def mish(input, inplace: bool = False):
    """``x * tanh(softplus(x))``."""
    return _activate(MISH, input, inplace)


def hardswish(input, inplace: bool = False):
    """``x * relu6(x + 3) / 6``."""
    return _activate(HARDSWISH, input, inplace)


def hardsigmoid(input, inplace: bool = False):
    """``relu6(x + 3) / 6``."""
    return _activate(HARDSIGMOID, input, inplace)


def glu(input, dim: int = -1):
    """Gated linear unit: ``a * sigmoid(b)``, ``a`` and ``b`` the halves of ``input`` along
    ``dim``.

    Raises:
        RuntimeError: torch's, for a 0-d input or an odd ``dim``.
    """
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    axis = _ops._wrap_dim(dim, input.ndim)
    if input.shape[axis] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size "
                           f"{input.shape[axis]}")
    return apply(GLU, input, axis=axis)


def softmin(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``softmax(-x)`` along ``dim`` (composed as torch composes it)."""
    return _ops.softmax(-input, _softmax_dim(input, dim, "softmin"), dtype)


def tanhshrink(input):
    """``x - tanh(x)``."""
    return input - tanh(input)


def softshrink(input, lambd: float = 0.5):
    """``x`` moved toward zero by ``lambd``, and zero within ``lambd`` of it.

    Raises:
        RuntimeError: torch's, for a negative ``lambd``.
    """
    if lambd < 0:
        raise RuntimeError(f"lambda must be in range [0, {jnp.finfo(input.dtype).max:g}] for "
                           f"input dtype {_dtypes.scalar_name(input.dtype)}, but found {lambd:g}")
    return apply(SOFTSHRINK, input, lambd=lambd)


def hardshrink(input, lambd: float = 0.5):
    """``x`` where ``|x| > lambd``, zero elsewhere."""
    return apply(HARDSHRINK, input, lambd=lambd)


def threshold(input, threshold: float, value: float, inplace: bool = False):
    """``x`` where ``x > threshold``, ``value`` elsewhere."""
    return _activate(THRESHOLD, input, inplace, threshold=threshold, value=value)


def relu_(input):
    """``relu``, in place."""
    return input.relu_()


def elu_(input, alpha: float = 1.0):
    """``elu``, in place."""
    return elu(input, alpha, inplace=True)


def selu_(input):
    """``selu``, in place."""
    return selu(input, inplace=True)


def celu_(input, alpha: float = 1.0):
    """``celu``, in place."""
    return celu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope: float = 0.01):
    """``leaky_relu``, in place."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val: float = -1.0, max_val: float = 1.0):
    """``hardtanh``, in place."""
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold: float, value: float):
    """``threshold``, in place."""
    return _activate(THRESHOLD, input, True, threshold=threshold, value=value)


@autocast_policy(LOWER)
def prelu(input, weight):
    """``x`` where positive, ``weight * x`` elsewhere, with one weight, or one per channel
    (dimension 1).

    Raises:
        RuntimeError: torch's, for a weight count that is neither 1 nor the number of
            channels.
    """
    channels = input.shape[1] if input.ndim > 1 else 1
    if weight.numel() not in (1, channels):
        raise RuntimeError("Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {weight.numel()} and channel size = {channels}.")
    return apply(PRELU, input, weight)


def _softmax_dim(input, dim, name: str) -> int:
    """``dim``, or torch's legacy choice for it, with torch's warning, when it is None."""
    if dim is not None:
        return dim
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.", UserWarning, stacklevel=3,
    )
    return 0 if input.ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``funcgrad.softmax``, where a missing ``dim`` is chosen (with a warning), as torch's
    ``nn.functional`` does."""
    return _ops.softmax(input, _softmax_dim(input, dim, "softmax"), dtype)


def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``funcgrad.log_softmax``, where a missing ``dim`` is chosen (with a warning)."""
    return _ops.log_softmax(input, _softmax_dim(input, dim, "log_softmax"), dtype)


@autocast_policy(LOWER)
def linear(input, weight, bias=None):
    """``input @ weight.T + bias``.

    Raises:
        RuntimeError: torch's, for shapes that do not fit; torch adds a bias with ``addmm``, to
            the product of the input flattened to a matrix.
    """
    if input.ndim == 0 or weight.ndim == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are "
                           f"{input.ndim}D and {weight.ndim}D")
    if bias is None:
        return _ops.matmul(input, _ops.t(weight))
    if weight.ndim != 2:
        _ops.t(weight)  # torch's error for more than two dimensions
        raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
    if bias.ndim > 1:  # torch's rules for it are not broadcasting's
        _check_linear(input, weight, bias)
    try:
        return apply(LINEAR, input, weight, bias)
    except (TypeError, ValueError, RuntimeError) as e:
        failure = e
    _check_linear(input, weight, bias)  # torch's error in place of JAX's (not chained to it)
    raise failure


TRILINEAR = Op("bilinear", lambda a, b, w: jnp.einsum("ni,oij,nj->no", a, w, b),
               "TrilinearBackward0")


def bilinear(input1, input2, weight, bias=None):
    """``input1[..., i] * weight[o, i, j] * input2[..., j]`` summed over ``i`` and ``j``, plus
    ``bias[o]``; composed as torch's: one product of the inputs flattened to matrices, viewed
    back to the batch's shape.

    Raises:
        RuntimeError: torch's, for batch dimensions, feature sizes or a bias that do not fit.
    """
    out = weight.shape[0] if weight.ndim else 0
    for dim, (a, b) in enumerate(zip(input1.shape[:-1], input2.shape[:-1])):
        if a != b:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {dim}: "
                               f"got {a} and {b}")
    for name, x, dim in (("input1", input1, 1), ("input2", input2, 2)):
        if weight.ndim <= dim:
            raise_dim_out_of_range(dim, weight.ndim)
        if x.shape[-1] != weight.shape[dim]:
            raise RuntimeError(f"bilinear(): {name} size does not match weight size: got "
                               f"{x.shape[-1]} but expected {weight.shape[dim]}")
    if bias is not None and bias.shape[-1] != out:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias.shape[-1]} but expected {out}")
    flat = apply(TRILINEAR, input1.reshape(-1, input1.shape[-1]),
                 input2.reshape(-1, input2.shape[-1]), weight)
    flat = flat.reshape(*input1.shape[:-1], out)
    return flat if bias is None else flat + bias


def _check_linear(input, weight, bias) -> None:
    """torch's errors for ``linear``'s shapes with a bias. Its ``addmm`` adds a bias of at
    most one dimension, or any bias to a matrix input, to the product of the input flattened
    to (rows, in_features), expanded to (rows, out_features); another bias torch adds in place
    to the product, which it must not enlarge. (torch takes still other ways for a few biases
    with leading dimensions of size 1.)"""
    rows, out = math.prod(input.shape[:-1]), weight.shape[0]
    _ops._raise_unmultipliable((rows, input.shape[-1]), tuple(weight.shape)[::-1])
    if bias.ndim <= 1 or input.ndim == 2:
        _ops.expand(bias, rows, out)
        return
    shape = (*input.shape[:-1], out)
    full = broadcast_shape(shape, tuple(bias.shape))
    if full != shape:
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape "
                           f"{list(full)}")


def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    """torch's ``_Reduction.legacy_get_string``: a loss's deprecated ``size_average`` and
    ``reduce`` arguments, where either is given, as the ``reduction`` they mean (with torch's
    warning); else ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    legacy = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  f"reduction='{legacy}' instead.", UserWarning, stacklevel=3)
    return legacy


@autocast_policy(FP32)
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """BCE of probabilities ``input`` against ``target`` (logs clamped at -100, as in torch).

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.binary_cross_entropy(funcgrad.tensor([0.9]), funcgrad.tensor([1.0]))
    tensor(0.1054)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"Using a target size ({target.shape!r}) that is different to the input size "
            f"({input.shape!r}) is deprecated. Please ensure they have the same size."
        )
    return apply(BCE, input, target, weight, reduction=_check_reduction(reduction))


@autocast_policy(FP32)
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight=None):
    """BCE of ``sigmoid(input)`` against ``target``, computed stably from the logits."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"Target size ({target.shape!r}) must be the same as input size ({input.shape!r})"
        )
    return apply(BCE_LOGITS, input, target, weight, pos_weight,
                 reduction=_check_reduction(reduction))


@autocast_policy(FP32)
def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """Mean squared error; ``weight`` (the input's shape) weighs each element."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    if weight is not None:
        return _weighted((input - target) ** 2, weight, input, reduction)
    return apply(MSE, input, target, reduction=reduction)


def _weighted(errors, weight, input, reduction: str):
    """torch's weighted ``mse_loss`` and ``l1_loss``: each error times its ``weight`` (of the
    input's shape); their mean is divided by the weights' sum."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    errors = errors * weight
    return errors.sum() / weight.sum() if reduction == "mean" else _reduced(errors, reduction)


def _reduced(loss, reduction: str):
    """``loss`` reduced by the Tensor's own ``mean`` or ``sum`` (torch's
    ``apply_loss_reduction``, whose nodes they are)."""
    return loss if reduction == "none" else getattr(loss, reduction)()


@autocast_policy(FP32)
def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """Mean absolute error (composed as torch composes it: abs, then the reduction);
    ``weight`` (the input's shape) weighs each element."""
    reduction = _check_reduction(_legacy_reduction(size_average, reduce, reduction))
    if weight is not None:
        return _weighted(_ops.abs(input - target), weight, input, reduction)
    return _reduced(_ops.abs(input - target), reduction)


def _warn_sizes(input, target) -> None:
    """torch's warning for a target that broadcasts against the input."""
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", UserWarning, stacklevel=3)


@autocast_policy(FP32)
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0):
    """Squared error ``0.5 * d**2 / beta`` where ``|d| < beta``, ``|d| - 0.5 * beta`` beyond
    (``l1_loss`` when ``beta`` is 0, as in torch).

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.smooth_l1_loss(funcgrad.tensor([0.0, 0.0]), funcgrad.tensor([0.5, 3.0]))
    tensor(1.3125)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _warn_sizes(input, target)
    reduction = _check_reduction(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    return apply(SMOOTH_L1, input, target, beta=beta, reduction=reduction)


@autocast_policy(FP32)
def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """Squared error ``0.5 * d**2`` where ``|d| < delta``, ``delta * (|d| - 0.5 * delta)``
    beyond; ``weight`` (input's shape) scales each element before the reduction."""
    _warn_sizes(input, target)
    reduction = _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is None:
        return apply(HUBER, input, target, delta=delta, reduction=reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    return _reduced(apply(HUBER, input, target, delta=delta, reduction="none") * weight,
                    reduction)


@autocast_policy(FP32)
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """Logistic loss ``log(1 + exp(-target * input))`` of labels ``target`` in {-1, 1}.

    Raises:
        RuntimeError: torch's, for a target that requires grad (torch has no derivative for
            it).
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.requires_grad and _grad_mode.is_grad_enabled():
        raise RuntimeError("The function 'soft_margin_loss' is not differentiable with respect "
                           "to argument 'target'. This input cannot have requires_grad True.")
    return apply(SOFT_MARGIN, input, target, reduction=_check_reduction(reduction))


@autocast_policy(FP32)
def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False):
    """KL divergence of log-probabilities ``input`` from ``target`` (probabilities, or
    log-probabilities with ``log_target``), pointwise; ``'batchmean'`` divides the sum by the
    batch size (the true KL divergence), ``'mean'`` by every element, with torch's warning.
    """
    if size_average is not None or reduce is not None:  # (then no warning of 'mean')
        reduced = _legacy_reduction(size_average, reduce, reduction)
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the "
                "support size.'batchmean' divides only by the batch size, and aligns with the KL "
                "div math definition.'mean' will be changed to behave the same as 'batchmean' in "
                "the next major release.", UserWarning, stacklevel=2)
        reduced = "sum" if reduction == "batchmean" else _check_reduction(reduction)
    loss = _pointwise_kl_div(input, target, reduced, log_target)
    return loss / input.shape[0] if reduction == "batchmean" and input.ndim else loss


def _pointwise_kl_div(input, target, reduction: str, log_target: bool):
    """``kl_div``'s pointwise loss, reduced by ``'none'``, ``'mean'`` or ``'sum'``."""
    if log_target:
        loss = _ops.exp(target) * (target - input)
    else:
        loss = _ops.xlogy(target, target) - target * input
    return _reduced(loss, reduction)


@autocast_policy(FP32)
def margin_ranking_loss(input1, input2, target, margin: float = 0.0, size_average=None, reduce=None,
                        reduction: str = "mean"):
    """``max(0, -target * (input1 - input2) + margin)``: ``target`` 1 asks ``input1`` to rank
    higher, -1 lower.

    Raises:
        RuntimeError: torch's, for inputs of different numbers of dimensions.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    reduction = _check_reduction(reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return _reduced(_ops.clamp_min(-target * (input1 - input2) + margin, 0), reduction)


@autocast_policy(FP32)
def cosine_embedding_loss(input1, input2, target, margin: float = 0.0, size_average=None,
                          reduce=None, reduction: str = "mean"):
    """``1 - cos(input1, input2)`` where ``target`` is 1, ``max(0, cos - margin)`` where it
    is -1, composed as torch composes it.

    Raises:
        RuntimeError: torch's, for a target of more than one dimension, or inputs not of one
            dimension more.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    reduction = _check_reduction(reduction)
    dim = target.ndim
    if dim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if not input1.ndim == input2.ndim == dim + 1:
        raise RuntimeError(
            f"{dim}D target tensor expects {dim + 1}D input tensors, but found inputs with "
            f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    eps = 1e-12  # torch's EPSILON, which keeps a zero vector's magnitude off zero
    prod = (input1 * input2).sum(dim)
    denom = (((input1 * input1).sum(dim) + eps) * ((input2 * input2).sum(dim) + eps)).sqrt()
    cos = prod / denom
    zeros = _factories.zeros_like(cos)
    pos = _ops.where(target == 1, 1 - cos, zeros)
    neg = _ops.where(target == -1, _ops.clamp_min(cos - margin, 0), zeros)
    return _reduced(pos + neg, reduction)


@autocast_policy(FP32)
def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """``input`` where ``target`` is 1, ``max(0, margin - input)`` where it is -1 (elsewhere
    both), composed as torch composes it."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    reduction = _check_reduction(reduction)
    zeros = _factories.zeros_like(input)
    below = _ops.where(target != 1, _ops.clamp_min(margin - input, 0), zeros)
    return _reduced(below + _ops.where(target != -1, input, zeros), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean"):
    """Logistic loss of each of ``C`` labels in {0, 1} (the last dimension), averaged over
    them and optionally weighted, composed as torch composes it."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    reduction = _check_reduction(reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(input.ndim - 1) / input.shape[-1]
    return _reduced(loss, reduction)


@autocast_policy(FP32)
def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2.0,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean"):
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with ``d`` the
    ``p``-norm distance of ``pairwise_distance``; ``swap`` takes the smaller of
    ``d(anchor, negative)`` and ``d(positive, negative)``.

    Raises:
        RuntimeError, ValueError: torch's, for inputs of different numbers of dimensions or a
            margin that is not positive.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_triplet(anchor, positive, negative)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    return _triplet(anchor, positive, negative, lambda x, y: pairwise_distance(x, y, p, eps),
                    margin, swap, _check_reduction(reduction))


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean"):
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` for any distance
    function ``d`` of two tensors (``pairwise_distance`` by default); ``swap`` takes the
    smaller of ``d(anchor, negative)`` and ``d(positive, negative)``.

    Raises:
        RuntimeError, ValueError: torch's, for an unknown reduction, a margin that is not
            positive, or inputs of different numbers of dimensions.
    """
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet(anchor, positive, negative)
    distance = pairwise_distance if distance_function is None else distance_function
    return _triplet(anchor, positive, negative, distance, margin, swap, reduction)


def _check_triplet(anchor, positive, negative) -> None:
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
            f"negative {negative.ndim}D inputs")


def _triplet(anchor, positive, negative, distance, margin: float, swap: bool, reduction: str):
    near, far = distance(anchor, positive), distance(anchor, negative)
    if swap:
        far = _ops.minimum(far, distance(positive, negative))
    return _reduced(_ops.clamp_min(margin + near - far, 0), reduction)


def _positive(z):
    """``max(z, 0)`` with torch's gradient for the margin losses: none where ``z`` is 0
    (jnp.maximum would split it)."""
    return jnp.where(z > 0, z, 0)


def _multi_margin(x, target, w=None, *, p, margin, reduction):
    shape, target = target.shape, target.reshape(x.shape[:-1])  # (torch's 'none' has its shape)
    picked = jnp.take_along_axis(x, target[..., None], -1)
    hinge = _positive(margin - picked + x) ** p
    if w is not None:
        hinge = hinge * w[target][..., None]
    others = jnp.arange(x.shape[-1]) != target[..., None]
    loss = jnp.sum(jnp.where(others, hinge, 0), -1) / x.shape[-1]
    return _reduce(loss.reshape(shape), reduction)


MULTI_MARGIN = Op("multi_margin_loss", _multi_margin, "MultiMarginLossBackward0")


@autocast_policy(FP32)
def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None,
                      size_average=None, reduce=None, reduction: str = "mean"):
    """Multi-class hinge loss: for each sample, the mean over the other classes ``i`` of
    ``max(0, margin - input[y] + input[i]) ** p``, scaled by ``weight[y]``, for the class
    index ``y`` of ``target``.

    Raises:
        ValueError, RuntimeError: torch's, for ``p`` other than 1 or 2, shapes, weights or a
            target dtype that do not fit, or a weight that requires grad. (A class index
            outside ``[0, C)`` is not checked: torch reads the targets to check them.)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    reduction = _check_reduction(reduction)
    if input.ndim > 2 or input.numel() == 0 and input.ndim != 2 or input.ndim and (
            input.shape[-1] == 0):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(input.shape)}")
    batch = input.shape[0] if input.ndim == 2 else 1
    if target.ndim > 1 or target.numel() != batch:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of "
            f"input samples (batch size). Expected target size [{batch}], but got "
            f"{list(target.shape)}. Input has shape {list(input.shape)}.")
    if weight is not None and (weight.ndim != 1 or weight.numel() != input.shape[-1]):
        raise RuntimeError(f"inconsistent weight size, expected {input.shape[-1]} but got "
                           f"{list(weight.shape)}")
    if not _is_long(target.dtype):
        raise RuntimeError("expected scalar type Long but found "
                           f"{_dtypes.scalar_name(target.dtype)}")
    if weight is not None and weight.requires_grad and _grad_mode.is_grad_enabled():
        raise RuntimeError("The function 'multi_margin_loss' is not differentiable with respect "
                           "to argument 'weight'. This input cannot have requires_grad True.")
    return apply(MULTI_MARGIN, input, target, weight, p=p, margin=margin, reduction=reduction)


def _multilabel_margin(x, target, *, reduction):
    classes = x.shape[-1]
    listed = jnp.cumprod(target != -1, -1)  # the targets before the first -1
    counts = jnp.sum(jax.nn.one_hot(target, classes, dtype=x.dtype) * listed[..., None], -2)
    hinge = _positive(1 - x[..., :, None] + x[..., None, :])  # [j, i]: target j, other i
    loss = jnp.einsum("...j,...ji,...i->...", counts, hinge, (counts == 0).astype(x.dtype))
    return _reduce(loss / classes, reduction)


MULTILABEL_MARGIN = Op("multilabel_margin_loss", _multilabel_margin,
                       "MultilabelMarginLossBackward0")


@autocast_policy(FP32)
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """Multi-label hinge loss: for each sample, ``max(0, 1 - (input[j] - input[i]))`` summed
    over its target classes ``j`` and the other classes ``i``, over the number of classes.
    ``target`` lists each sample's classes, ended by the first -1.

    Raises:
        RuntimeError: torch's, for an empty input, or a target of another shape or dtype.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    reduction = _check_reduction(reduction)
    if input.ndim > 2 or input.ndim and input.shape[-1] == 0:
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(input.shape)}")
    fits = (target.ndim <= 1 and target.numel() == max(input.numel(), 1) if input.ndim <= 1
            else tuple(target.shape) == tuple(input.shape))
    if not fits:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    if not _is_long(target.dtype):
        raise RuntimeError("expected scalar type Long but found "
                           f"{_dtypes.scalar_name(target.dtype)}")
    return apply(MULTILABEL_MARGIN, input, target.reshape(input.shape), reduction=reduction)


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean"):
    """Negative log-likelihood of ``target`` under normal distributions of mean ``input`` and
    variance ``var`` (input's shape, or one fewer dimension, or a size 1 in one dimension; or
    a float), clamped at ``eps`` without stopping its gradient, as torch does.

    Raises:
        ValueError: torch's, for a negative variance (unchecked inside a transform, where it
            cannot be read), a ``var`` of another size, or an unknown reduction.
    """
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * _factories.ones_like(input)
    else:
        negative = (var < 0).any()._read()
        # (torch reads the variances to check them; a traced one cannot be, and goes unchecked)
        if not isinstance(negative, jax.core.Tracer) and bool(negative):
            raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = _ops.unsqueeze(var, -1)
        elif not (input.ndim == var.ndim and sum(
                v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with _grad_mode.no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (_ops.log(var) + (input - target) ** 2 / var)
    if full:
        loss += 0.5 * math.log(2 * math.pi)
    return _reduced(loss, reduction)


@autocast_policy(FP32)
def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False, size_average=None,
                     eps: float = 1e-8, reduce=None, reduction: str = "mean"):
    """Negative log-likelihood of counts ``target`` under Poisson distributions of rate
    ``exp(input)`` (``log_input``) or ``input``; ``full`` adds Stirling's approximation of
    ``log(target!)`` where ``target > 1``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if log_input:
        loss = _ops.exp(input) - target * input
    else:
        loss = input - target * _ops.log(input + eps)
    if full:
        stirling = (target * _ops.log(target) - target
                    + 0.5 * _ops.log(2 * math.pi * target))
        loss = loss + _ops.masked_fill(stirling, target <= 1, 0)
    return _reduced(loss, reduction)


def _ctc(log_probs, labels, input_lengths, target_lengths, *, blank):
    """Per sequence, -log p(labels | log_probs) by optax's CTC (batch first inside), and
    inf where no alignment fits: an input shorter than its target plus the blanks that must
    separate its repeated labels (optax's log(0) is finite). optax takes logits and applies
    log_softmax, which leaves log-probabilities as they are, and its gradient through that
    log_softmax is torch's: ``exp(log_probs)`` minus the alignments' posterior."""
    logits = jnp.swapaxes(log_probs, 0, 1)
    steps, length = jnp.arange(logits.shape[1]), jnp.arange(labels.shape[1])
    padded = (length[None, :] >= target_lengths[:, None])
    loss = optax.ctc_loss(logits, (steps[None, :] >= input_lengths[:, None]).astype(
        logits.dtype), labels, padded.astype(logits.dtype), blank_id=blank)
    repeats = jnp.sum((labels[:, 1:] == labels[:, :-1]) & ~padded[:, 1:], axis=1)
    return jnp.where(input_lengths < target_lengths + repeats, jnp.inf, loss)


CTC = Op("ctc_loss", _ctc, "CtcLossBackward0")


@autocast_policy(FP32)
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False):
    """The connectionist temporal classification loss of ``log_probs`` (``(T, N, C)``, or
    ``(T, C)`` unbatched, log-softmaxed over classes) against ``targets`` (``(N, S)`` padded,
    or the targets concatenated), each sequence ``n`` being ``input_lengths[n]`` steps long
    with ``target_lengths[n]`` labels; 'mean' averages the losses divided by their target
    lengths. ``zero_infinity`` zeroes impossible alignments' infinite losses and gradients.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> log_probs = funcgrad.zeros(3, 1, 2).log_softmax(2)  # uniform over blank and one label
    >>> F.ctc_loss(log_probs, funcgrad.tensor([[1]]), funcgrad.tensor([3]), funcgrad.tensor([1]))
    tensor(0.2877)
    """
    _check_reduction(reduction)
    batched = log_probs.ndim == 3
    if not batched:
        log_probs, targets = log_probs.unsqueeze(1), targets.reshape(1, -1)
    lengths = [jnp.asarray(t._read() if isinstance(t, Tensor) else t, jnp.int32).reshape(-1)
               for t in (input_lengths, target_lengths)]
    labels = jnp.asarray(targets._read() if isinstance(targets, Tensor) else targets, jnp.int32)
    if labels.ndim == 1:  # concatenated: padded to the longest, as optax takes them
        ends = np.cumsum(np.asarray(lengths[1]))
        longest = int(np.max(np.asarray(lengths[1]), initial=0))
        labels = jnp.stack([jnp.pad(labels[end - n:end], (0, longest - n))
                            for end, n in zip(ends.tolist(), np.asarray(lengths[1]).tolist())])
    loss = apply(CTC, log_probs, labels, *lengths, blank=blank)
    if zero_infinity:
        loss = _ops.where(_ops.isinf(loss), _factories.zeros((), dtype=loss.dtype), loss)
    if not batched:
        loss = loss.squeeze(0)
    if reduction == "mean":
        return (loss / Tensor._wrap(jnp.maximum(lengths[1], 1).astype(loss.dtype))).mean()
    return loss.sum() if reduction == "sum" else loss


def _check_target_dtype(target) -> None:
    if not (_is_long(target.dtype) or target.dtype == _dtypes.uint8):
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{_dtypes.scalar_name(target.dtype)}")


def _check_nll(input, target, weight) -> None:
    """torch's checks of ``nll_loss``'s arguments (``nll_loss_nd``'s, then those of the
    ``nll_loss`` or, with spatial dimensions, ``nll_loss2d`` it calls), in its order and with
    its errors."""
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    batch = target.shape[0] if target.ndim else 0  # (torch reads a 0-d target's as 0)
    if input.ndim != 1 and input.shape[0] != batch:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({batch}).")
    if input.ndim > 2:  # nll_loss2d's checks (other ranks are viewed as 4-D when they fit)
        if input.ndim != 4 and target.shape[1:] != input.shape[2:]:
            raise RuntimeError(f"Expected target size {[input.shape[0], *input.shape[2:]]}, "
                               f"got {list(target.shape)}")
        if target.ndim != input.ndim - 1:
            raise RuntimeError("only batches of spatial targets supported (3D tensors) but got "
                               f"targets of dimension: {target.ndim}")
        _check_target_dtype(target)
        if weight is not None and weight.numel() != input.shape[1]:
            raise RuntimeError("weight tensor should be defined either for all or no classes")
        if target.shape[1:] != input.shape[2:]:
            raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: "
                               f"{list(target.shape)}")
        return
    if target.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    _check_target_dtype(target)
    if input.ndim == 1 and target.ndim == 1 and target.shape[0] != 1:
        raise ValueError("For 1D input, 1D target must have size 1, but got target size: "
                         f"{target.shape[0]}")
    classes = input.shape[-1]
    if weight is not None and (weight.ndim != 1 or weight.numel() != classes):
        raise RuntimeError(f"weight tensor should be defined either for all {classes} classes or "
                           f"no classes but got weight tensor of shape: {list(weight.shape)}")


@autocast_policy(FP32)
def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean"):
    """Negative log-likelihood of class indices ``target`` under log-probabilities ``input``
    of shape ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``.

    Raises:
        ValueError, RuntimeError: torch's, for shapes or a target dtype that do not fit.
        IndexError: torch's, for a target outside ``[0, C)`` other than ``ignore_index`` (read
            as torch reads it, see ``_ops._outside``).
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    reduction = _check_reduction(reduction)
    _check_nll(input, target, weight)
    classes = input.shape[0 if input.ndim == 1 else 1]
    bad = _ops._outside(target._read(), 0, classes, skip=ignore_index)
    if bad is not None:
        raise IndexError(f"Target {bad} is out of bounds.")
    return apply(NLL, input, target, weight, ignore_index=ignore_index, reduction=reduction)


def _class_weight(weight, ndim: int, class_dim: int):
    """``weight`` (one per class) shaped to multiply an ``ndim``-D tensor along
    ``class_dim``, or 1 when there is none."""
    return 1 if weight is None else weight.reshape((-1,) + (1,) * (ndim - class_dim - 1))


def _check_label_smoothing(label_smoothing: float) -> None:
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing:g}")


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction: str = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0, options=None):
    """``cross_entropy`` of the logits ``linear(input, linear_weight, linear_bias)``, with
    torch's checks: ``input`` (N, in_features) or (in_features,); ``linear_weight``
    (C, d1, ..., in_features), whose middle dimensions make a K-dimensional loss. torch's
    ``options`` chunk the logits to save memory; here they are accepted, and XLA fuses the
    projection and the loss.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.linear_cross_entropy(funcgrad.ones(1, 2), funcgrad.zeros(3, 2), funcgrad.tensor([1]))
    tensor(1.0986)
    """
    if input.ndim < 1 or input.ndim > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.ndim}")
    if linear_weight.ndim < 2:
        raise RuntimeError("expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.ndim}")
    batches, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError("expected equal input and linear_weight last dimensions "
                           f"(in_features), got {input.shape[-1]} and {linear_weight.shape[-1]}"
                           ", respectively")
    classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    if out_features and not batches:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape "
                           f"{tuple(linear_weight.shape)} requires batched input, (N, "
                           f"{in_features}), got unbatched input with shape "
                           f"{tuple(input.shape)}")
    logits_shape = (*batches, classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    if out_features:
        linear_weight = linear_weight.reshape((math.prod(logits_shape[len(batches):]),
                                               in_features))
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(linear_weight.shape[0])
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, target, weight, reduction=reduction,
                         ignore_index=-100 if ignore_index is None else ignore_index,
                         label_smoothing=label_smoothing)


@autocast_policy(FP32)
def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100,
                  reduce=None, reduction: str = "mean", label_smoothing: float = 0.0):
    """Cross-entropy of logits ``input`` (``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``) against
    class indices or, when ``target`` has the shape of ``input`` (torch's rule), class
    probabilities.

    Raises:
        RuntimeError, ValueError: torch's, for shapes or dtypes that do not fit (see
            ``nll_loss`` for class indices).

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.cross_entropy(funcgrad.tensor([[0.0, 0.0]]), funcgrad.tensor([1]))
    tensor(0.6931)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    reduction = _check_reduction(reduction)
    class_dim = 0 if input.ndim == 1 else 1
    if tuple(input.shape) == tuple(target.shape):
        if not _dtypes.is_floating(target.dtype):
            raise RuntimeError("Expected floating point type for target with class "
                               f"probabilities, got {_dtypes.scalar_name(target.dtype)}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if input.ndim == 0:
            raise IndexError("Dimension specified as 1 but tensor has no dimensions")
        classes = input.shape[class_dim]
        if weight is not None and (weight.ndim != 1 or weight.numel() != classes):
            raise RuntimeError(
                f"cross_entropy: weight tensor should be defined either for all {classes} "
                f"classes or no classes but got weight tensor of shape: {list(weight.shape)}")
        if label_smoothing > 0:
            _check_label_smoothing(label_smoothing)
            target = target * (1 - label_smoothing) + label_smoothing / classes
        logp = log_softmax(input, dim=class_dim)
        w = _class_weight(weight, input.ndim, class_dim)
        if reduction == "none":
            return -(logp * target * w).sum(class_dim)
        total = -(logp * target * w).sum()
        return total if reduction == "sum" else apply(DIV_SCALAR, total, input.numel() // classes)
    if label_smoothing > 0:
        _check_label_smoothing(label_smoothing)
    logp = log_softmax(input, dim=class_dim)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if not label_smoothing > 0:
        return nll
    classes = input.shape[class_dim]
    smooth = -(logp * _class_weight(weight, input.ndim, class_dim)).sum(class_dim)
    valid = target != ignore_index
    smooth = _ops.where(valid, smooth, 0.0)
    if reduction == "mean":
        counted = valid if weight is None else _ops.where(valid, weight[target * valid], 0.0)
        denom = counted.sum()
        smooth = smooth.sum() / denom
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / classes)


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zeroes each element with probability ``p`` and scales the rest by ``1 / (1 - p)``; the
    identity when not ``training``. The mask comes from the generator ``funcgrad.manual_seed``
    seeds.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.dropout(funcgrad.ones(3), p=0.5, training=False)
    tensor([1., 1., 1.])
    """
    return _dropout(input, p, training, inplace)


# SELU's negative saturation value, -scale * alpha, which alpha dropout sets dropped values to
_ALPHA_DROPOUT = 1.7580993408473766


def _dropout(input, p: float, training: bool, inplace: bool, feature: bool = False,
             alpha: bool = False):
    """torch's ``_dropout_impl``: drops each element, or with ``feature`` each channel (all of
    dimension 1 at once); scales the kept by ``1 / (1 - p)``, or, with ``alpha``, moves
    the dropped to SELU's saturation and rescales all so that mean and variance are kept."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0 or input.numel() == 0:
        return input
    if feature and input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    shape = (*input.shape[:2], *(1,) * (input.ndim - 2)) if feature else tuple(input.shape)
    if p == 1 or not alpha:
        noise = _dropout_noise(p, shape, input.dtype)
        # torch's CPU kernel multiplies by a scaled noise tensor too (grad_fn MulBackward0).
        return input.mul_(noise) if inplace else input * noise
    keep = jax.random.bernoulli(_factories.next_key(), 1.0 - p, shape).astype(input.dtype)
    scale = 1.0 / math.sqrt((_ALPHA_DROPOUT ** 2 * p + 1) * (1 - p))
    shift = (keep - 1) * (_ALPHA_DROPOUT * scale) + _ALPHA_DROPOUT * scale * p
    out = input.mul_(keep * scale) if inplace else input * (keep * scale)
    return out.add_(shift)


def _channel_dropout(n: int, input, p: float, training: bool, inplace: bool):
    """``dropout{n}d``: torch's checks and warnings, then a feature dropout of the batch (an
    unbatched input as a batch of one)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    dims = (n + 1, n + 2)
    if input.ndim not in dims:
        message = (
            f"Received a {input.ndim}-D input to dropout{n}d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            f"warning, please use dropout instead. Note that dropout{n}d exists to provide "
            f"channel-wise dropout on inputs with {n} spatial dimensions, a channel dimension, "
            f"and an optional batch dimension (i.e. {dims[0]}D or {dims[1]}D inputs).")
        if n == 1:
            raise RuntimeError(
                f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note "
                "that dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
                "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
                "inputs).")
        warnings.warn(f"dropout{n}d: {message}", stacklevel=3)
    if n == 2 and input.ndim == 3:  # (torch reads it as (N, C, L), for now)
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=3)
    if n != 2 and input.ndim != n + 2:  # unbatched, as torch reads any but n + 2 dimensions
        if inplace and (not training or p == 0):
            return input
        out = _dropout(input.unsqueeze(0), p, training, False, feature=True).squeeze(0)
        return input.copy_(out) if inplace else out
    return _dropout(input, p, training, inplace, feature=True)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zeroes whole channels (dimension 1 of (N, C, L), 0 of (C, L)) with probability ``p``
    and scales the rest by ``1 / (1 - p)``, in training."""
    return _channel_dropout(1, input, p, training, inplace)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zeroes whole channels of (N, C, H, W) with probability ``p`` and scales the rest by
    ``1 / (1 - p)``, in training (a 3-D input is read as (N, C, L), with torch's warning)."""
    return _channel_dropout(2, input, p, training, inplace)


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) with probability ``p`` and
    scales the rest by ``1 / (1 - p)``, in training."""
    return _channel_dropout(3, input, p, training, inplace)


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Dropout for SELU networks: each dropped element becomes SELU's saturation value, and an
    affine map keeps the mean and variance of a standard normal input."""
    return _dropout(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False,
                          inplace: bool = False):
    """``alpha_dropout`` of whole channels (dimension 1)."""
    return _dropout(input, p, training, inplace, feature=True, alpha=True)


def _dropout_noise(p: float, shape: tuple, dtype):
    """What dropout multiplies by: 0 with probability ``p``, else ``1 / (1 - p)``, drawn from
    the generator ``funcgrad.manual_seed`` seeds."""
    if p == 1:
        return jnp.zeros(shape, dtype)
    keep = jax.random.bernoulli(_factories.next_key(), 1.0 - p, shape)
    return keep.astype(dtype) / (1.0 - p)


def embedding(input, weight, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False):
    """The rows of ``weight`` at the integer indices ``input``; row ``padding_idx`` (if given)
    receives no gradient. With ``max_norm``, each row looked up whose ``norm_type``-norm
    exceeds it is first scaled down to it, in place in ``weight``, as torch does; with
    ``scale_grad_by_freq``, a row's gradient is divided by how often ``input`` holds its index.
    (``sparse`` gives the same gradient, dense.)

    Raises:
        IndexError: if an index is outside ``[0, weight.shape[0])``.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.embedding(funcgrad.tensor([1]), funcgrad.eye(2))
    tensor([[0., 1.]])
    """
    indices = input._read() if isinstance(input, Tensor) else jnp.asarray(input)
    rows = weight.shape[0]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += rows
    if _ops._outside(indices, 0, rows) is not None:
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _renorm_rows(weight, indices, max_norm, norm_type)
    return apply(EMBEDDING, weight, input, padding_idx=padding_idx,
                 scale_grad_by_freq=bool(scale_grad_by_freq))


def _renorm_rows(weight: Tensor, indices, max_norm: float, norm_type: float) -> None:
    """torch's ``embedding_renorm_``: each row of ``weight`` at ``indices`` whose norm exceeds
    ``max_norm`` is scaled by ``max_norm / (norm + 1e-7)``, in place and outside the graph."""
    table = weight._read()
    at = jnp.unique(indices)
    norms = jnp.linalg.norm(table[at], ord=norm_type, axis=-1)
    scale = jnp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(table.dtype)
    weight._write(table.at[at].multiply(scale[:, None]))


def _embedding_bag(weight, indices, offsets, scale=None, *, bags, mode, padding_idx):
    """Reduces the rows of ``weight`` at ``indices`` over bags, bag ``b`` starting at
    ``offsets[b]``; an empty bag (or one of padding only) gives zeros."""
    rows = _embedding(weight, indices, padding_idx)
    bag = jnp.searchsorted(offsets, jnp.arange(indices.shape[0]), side="right") - 1
    counted = (jnp.ones_like(indices, weight.dtype) if padding_idx is None
               else (indices != padding_idx).astype(weight.dtype))
    if mode == "max":
        rows = jnp.where(counted[:, None] > 0, rows, -jnp.inf)
        out = jax.ops.segment_max(rows, bag, bags)
        return jnp.where(jnp.isneginf(out), 0, out)
    rows = rows * counted[:, None] * (1 if scale is None else scale[:, None])
    total = jax.ops.segment_sum(rows, bag, bags)
    if mode == "sum":
        return total
    return total / jnp.maximum(jax.ops.segment_sum(counted, bag, bags), 1)[:, None]


EMBEDDING_BAG = Op("embedding_bag", _embedding_bag, "EmbeddingBagBackward0")


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights=None, include_last_offset: bool = False,
                  padding_idx: int | None = None):
    """The sum, mean or max of the rows of ``weight`` at the indices of each bag: each row of
    a 2-D ``input``, or the runs of a 1-D ``input`` that start at ``offsets``. Indices equal
    to ``padding_idx`` are left out; ``per_sample_weights`` scales each row (mode 'sum').
    (``sparse`` gives the same gradient, dense.)

    Raises:
        ValueError, NotImplementedError: torch's, for an input not of 1 or 2 dimensions,
            offsets that do not fit it, an unknown mode, or per-sample weights outside mode
            'sum'; funcgrad's, for ``scale_grad_by_freq``, which it lacks.
    """
    if scale_grad_by_freq:
        raise ValueError("funcgrad's embedding_bag has no scale_grad_by_freq; use F.embedding "
                         "with scale_grad_by_freq=True and reduce its rows per bag")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a "
                "mini-batch of fixed length sequences. However, found offsets of type "
                f"{type(offsets)}")
        bag_size = input.shape[1]
        offsets = _factories.arange(0, input.numel(), bag_size, dtype=input.dtype)
        input = input.reshape(-1)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    if max_norm is not None:
        _renorm_rows(weight, input._read(), max_norm, norm_type)
    bags = offsets.shape[0] - 1 if include_last_offset else offsets.shape[0]
    return apply(EMBEDDING_BAG, weight, input, offsets, per_sample_weights, bags=bags,
                 mode=mode, padding_idx=padding_idx)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalizes over the trailing ``normalized_shape`` dimensions (biased variance, ``eps``
    inside the square root), then scales by ``weight`` and shifts by ``bias``.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.layer_norm(funcgrad.tensor([[1.0, 3.0]]), (2,))
    tensor([[-1.0000,  1.0000]])
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if len(shape) > input.ndim or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}"
        )
    return apply(LAYER_NORM, input, weight, bias, ndim=len(shape), eps=eps)


def rms_norm(input, normalized_shape, weight=None, eps: float | None = None):
    """Divides by the root mean square over the trailing ``normalized_shape`` dimensions
    (``eps``, by default the dtype's machine epsilon, inside the root), then scales by
    ``weight``.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.rms_norm(funcgrad.tensor([[3.0, 4.0]]), (2,), eps=0.0)
    tensor([[0.8485, 1.1314]])
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if len(shape) > input.ndim or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*{', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(
            "Expected weight to be of same shape as normalized_shape, but got weight of shape "
            f"{list(weight.shape)} and normalized_shape = {list(shape)}")
    eps = float(jnp.finfo(input.dtype).eps) if eps is None else eps
    return apply(RMS_NORM, input, weight, ndim=len(shape), eps=eps)


def _tuple(value, n: int, cast=int) -> tuple:
    """An int (or a ``cast`` of it) or a sequence of them as an n-tuple (torch's ``_pair``,
    ``_single``)."""
    return tuple(value) if isinstance(value, (list, tuple)) else (cast(value),) * n


def _conv(x, w, b, *, stride, padding, dilation, groups):
    n = w.ndim - 2
    spatial = "DHW"[-n:]
    out = jax.lax.conv_general_dilated(
        x, w, stride, padding, rhs_dilation=dilation, feature_group_count=groups,
        dimension_numbers=("NC" + spatial, "OI" + spatial, "NC" + spatial))
    return out if b is None else out + b.reshape((1, -1) + (1,) * n)


CONV = Op("conv", _conv, "ConvolutionBackward0")


def _conv_param(name: str, value: tuple, dim: int) -> tuple:
    """``value`` for each of ``dim`` spatial dimensions: one value repeated, or ``dim`` values
    (torch's ``expand_param_if_needed``)."""
    if len(value) == 1:
        return value * dim
    if len(value) != dim:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {dim} values to match "
            f"the convolution dimensions, but got {name}={list(value)}")
    return value


def _same_param(name: str, value: tuple, dim: int) -> tuple:
    """``_conv_param`` as torch's ``padding='same'`` path words it."""
    if len(value) not in (1, dim):
        raise RuntimeError(f"{name} cannot broadcast to {dim} dimensions")
    return value * dim if len(value) == 1 else value


@functools.lru_cache(maxsize=256)
def _conv_padding(input_shape: tuple, weight_shape: tuple, bias_shape: tuple | None,
                  stride: tuple, padding, dilation: tuple, groups: int) -> tuple:
    """Checks a batched convolution's arguments as torch does, in its order and with its
    errors, and returns ``(stride, padding, dilation)`` for ``CONV``: ``padding`` as
    (low, high) pairs, those of ``'same'`` included. It needs only shapes, so it is cached: a
    training loop asks the same every step."""
    k, shape, sizes = len(weight_shape), list(weight_shape), list(input_shape)
    if k < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    dim = k - 2
    if padding == "same":
        if k != len(sizes):
            raise RuntimeError(
                f"Expected {k}-dimensional input for {k}-dimensional weight{shape}, but got "
                f"{len(sizes)}-dimensional input of size {sizes} instead")
        stride = _same_param("stride", stride, dim)
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        dilation = _same_param("dilation", dilation, dim)
        totals = [d * (w - 1) for d, w in zip(dilation, shape[2:])]
        # torch pads total // 2 on each side (C++ division: toward zero), the rest at the end
        pairs = tuple((int(t / 2), t - int(t / 2)) for t in totals)
    else:
        stride = _conv_param("stride", stride, dim)
        padding = _conv_param("padding", (0,) if padding == "valid" else padding, dim)
        dilation = _conv_param("dilation", dilation, dim)
        pairs = tuple((p, p) for p in padding)
    if any(low < 0 for low, _ in pairs):
        raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d < 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if k != len(sizes):
        raise RuntimeError(
            f"Expected {k}-dimensional input for {k}-dimensional weight {shape}, but got "
            f"{len(sizes)}-dimensional input of size {sizes} instead")
    if shape[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at "
                           f"dimension 0, but got weight of size {shape} instead")
    if shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{shape}] instead")
    if sizes[1] != shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {shape}, expected input{sizes} to have "
            f"{shape[1] * groups} channels, but got {sizes[1]} channels instead")
    if bias_shape is not None and (len(bias_shape) != 1 or bias_shape[0] != shape[0]):
        raise RuntimeError(
            f"Given weight of size {shape}, expected bias to be 1-dimensional with {shape[0]} "
            f"elements, but got bias of size {list(bias_shape)} instead")
    padded = [n + low + high for n, (low, high) in zip(sizes[2:], pairs)]
    kernel = [d * (w - 1) + 1 for d, w in zip(dilation, shape[2:])]
    if any(p < w for p, w in zip(padded, kernel)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, kernel))}). Kernel size can't be greater than "
            "actual input size")
    if 0 not in sizes[:2]:  # (torch returns an empty batch, or no channels, before these)
        _check_conv_kernel(sizes, shape[2:], dilation, groups)
    return stride, pairs, dilation


def _check_conv_kernel(sizes: list, kernel: list, dilation: tuple, groups: int) -> None:
    """The checks of torch's CPU kernels, given a batch with channels: elements to convolve,
    a kernel with elements and dilations above zero (a 1-D convolution seen as a 2-D one of
    height 1). (With groups, torch's oneDNN kernel words an empty kernel in its own way.)"""
    if 0 in sizes:
        raise RuntimeError("Only zero batch or zero channel inputs are supported, but got input "
                           f"shape: {sizes}")
    kernel, dilation = [1] * (2 - len(kernel)) + kernel, [1] * (2 - len(dilation)) + [*dilation]
    if 0 in kernel:
        raise RuntimeError(
            f"kernel size should be greater than zero, but got {kernel}" if dilation != [1, 1]
            else "kernel size should be greater than zero, but got kernel_height: "
                 f"{kernel[0]} kernel_width: {kernel[1]}")
    if 0 in dilation:
        raise RuntimeError("non-positive dilation is not supported" if groups > 1 else
                           f"dilation should be greater than zero, but got {dilation}")


def _convolution(n: int, input, weight, bias, stride, padding, dilation, groups):
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(
            f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to conv{n}d, but got "
            f"input of size: {list(input.shape)}")
    if isinstance(padding, str) and padding not in ("same", "valid"):
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    if input.ndim == n + 1:  # a batch of one, as torch does it
        return _ops.squeeze(_convolution(n, input.unsqueeze(0), weight, bias, stride, padding,
                                         dilation, groups), 0)
    groups = int(groups)
    stride, padding, dilation = _conv_padding(
        tuple(input.shape), tuple(weight.shape), None if bias is None else tuple(bias.shape),
        _tuple(stride, n),
        padding if isinstance(padding, str) else _tuple(padding, n), _tuple(dilation, n), groups)
    return apply(CONV, input, weight, bias, stride=stride, padding=padding, dilation=dilation,
                 groups=groups)


@autocast_policy(LOWER)
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation, as torch's) of ``input`` (N, C, L) or (C, L) with
    ``weight`` (out channels, C / groups, kernel); ``padding`` is an int or 'same'/'valid'."""
    return _convolution(1, input, weight, bias, stride, padding, dilation, groups)


@autocast_policy(LOWER)
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as torch's) of ``input`` (N, C, H, W) or (C, H, W)
    with ``weight`` (out channels, C / groups, kH, kW).

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.conv2d(funcgrad.ones(1, 1, 3, 3), funcgrad.ones(1, 1, 2, 2)).shape
    funcgrad.Size([1, 1, 2, 2])
    """
    return _convolution(2, input, weight, bias, stride, padding, dilation, groups)


@autocast_policy(LOWER)
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution (cross-correlation, as torch's) of ``input`` (N, C, D, H, W) or
    (C, D, H, W) with ``weight`` (out channels, C / groups, kD, kH, kW)."""
    return _convolution(3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(x, w, b, *, stride, padding, output_padding, dilation, groups):
    # The gradient of a convolution with respect to its input: a convolution of the input
    # dilated by the stride, padded so that every kernel tap reaches it, with the kernel
    # flipped and each group's (in, out) weight swapped to (out, in).
    n = w.ndim - 2
    spatial = "DHW"[-n:]
    w = jnp.flip(w, tuple(range(2, w.ndim)))
    w = w.reshape(groups, w.shape[0] // groups, *w.shape[1:]).swapaxes(1, 2)
    w = w.reshape(-1, *w.shape[2:])
    pads = [(d * (k - 1) - p, d * (k - 1) - p + o)
            for k, p, o, d in zip(w.shape[2:], padding, output_padding, dilation)]
    out = jax.lax.conv_general_dilated(
        x, w, (1,) * n, pads, lhs_dilation=stride, rhs_dilation=dilation,
        feature_group_count=groups, dimension_numbers=("NC" + spatial, "OI" + spatial,
                                                       "NC" + spatial))
    return out if b is None else out + b.reshape((1, -1) + (1,) * n)


CONV_TRANSPOSE = Op("conv_transpose", _conv_transpose, "ConvolutionBackward0")


def _check_conv_transpose(n: int, input, weight, bias, stride, padding, output_padding,
                          dilation, groups) -> None:
    """torch's errors for a transposed convolution's arguments (after ``_tuple``)."""
    if weight.ndim != n + 2:
        raise RuntimeError(f"weight should have {n + 2} dimensions for conv_transpose{n}d, but "
                           f"got weight of size {list(weight.shape)}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if any(o < 0 or (o >= s and o >= d) for o, s, d in zip(output_padding, stride, dilation)):
        # (torch's kernel sees a 1-D convolution as a 2-D one of height 1)
        o, s, d = ([fill] * (2 - n) + list(v)
                   for v, fill in ((output_padding, 0), (stride, 1), (dilation, 1)))
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            f"output_padding_height: {o[0]} output_padding_width: {o[1]} stride_height: {s[0]} "
            f"stride_width: {s[1]} dilation_height: {d[0]} dilation_width: {d[1]}")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{list(weight.shape)}] "
                           "instead")
    if input.shape[1] != weight.shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {weight.shape[0]} channels, but got "
            f"{input.shape[1]} channels instead")
    out = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (out,):
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected bias to be "
            f"1-dimensional with {out} elements, but got bias of size {list(bias.shape)} "
            "instead")


def _conv_transposed(n: int, input, weight, bias, stride, padding, output_padding, groups,
                     dilation):
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(
            f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to "
            f"conv_transpose{n}d, but got input of size: {list(input.shape)}")
    if input.ndim == n + 1:  # a batch of one, as torch does it
        return _ops.squeeze(_conv_transposed(n, input.unsqueeze(0), weight, bias, stride,
                                             padding, output_padding, groups, dilation), 0)
    args = dict(stride=_tuple(stride, n), padding=_tuple(padding, n),
                output_padding=_tuple(output_padding, n), dilation=_tuple(dilation, n),
                groups=int(groups))
    _check_conv_transpose(n, input, weight, bias, **args)
    return apply(CONV_TRANSPOSE, input, weight, bias, **args)


@autocast_policy(LOWER)
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """1-D transposed convolution (the gradient of ``conv1d`` with respect to its input) of
    ``input`` (N, C, L) or (C, L) with ``weight`` (C, out channels / groups, kernel); the
    output has length ``(L - 1) * stride - 2 * padding + dilation * (kernel - 1) +
    output_padding + 1``.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.conv_transpose1d(funcgrad.ones(1, 2, 4), funcgrad.ones(2, 3, 3), stride=2).shape
    funcgrad.Size([1, 3, 9])
    """
    return _conv_transposed(1, input, weight, bias, stride, padding, output_padding, groups,
                            dilation)


@autocast_policy(LOWER)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """2-D transposed convolution (the gradient of ``conv2d`` with respect to its input) of
    ``input`` (N, C, H, W) or (C, H, W) with ``weight`` (C, out channels / groups, kH, kW).

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.conv_transpose2d(funcgrad.ones(1, 2, 3, 3), funcgrad.ones(2, 1, 2, 2),
    ...                    stride=2).shape
    funcgrad.Size([1, 1, 6, 6])
    """
    return _conv_transposed(2, input, weight, bias, stride, padding, output_padding, groups,
                            dilation)


@autocast_policy(LOWER)
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """3-D transposed convolution (the gradient of ``conv3d`` with respect to its input) of
    ``input`` (N, C, D, H, W) or (C, D, H, W) with ``weight`` (C, out channels / groups, kD,
    kH, kW).

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.conv_transpose3d(funcgrad.ones(1, 2, 2, 3, 3), funcgrad.ones(2, 1, 2, 2, 2),
    ...                    stride=2).shape
    funcgrad.Size([1, 1, 4, 6, 6])
    """
    return _conv_transposed(3, input, weight, bias, stride, padding, output_padding, groups,
                            dilation)


def _pool(x, init, op, *, kernel, stride, padding, dilation, extra):
    """``op`` over the windows of the last ``len(kernel)`` dimensions, padded by ``padding``
    on both sides and by ``extra`` more at the end (the last windows of ``ceil_mode``)."""
    lead = jax.tree.leaves(x)[0].ndim - len(kernel)
    return jax.lax.reduce_window(
        x, init, op, (1,) * lead + kernel, (1,) * lead + stride,
        [(0, 0)] * lead + [(p, p + e) for p, e in zip(padding, extra)],
        window_dilation=(1,) * lead + dilation)


def _max_pool(x, **window):
    return _pool(x, -jnp.inf, jax.lax.max, **window)


def _pool_argmax(x, **window):
    """The flat index in its plane (the last ``len(kernel)`` dimensions) of each window's
    largest value: torch's, the first of equal ones in the scan order, a NaN over any number
    (the last NaN)."""
    spatial = x.shape[x.ndim - len(window["kernel"]):]
    index = jnp.broadcast_to(jnp.arange(math.prod(spatial)).reshape(spatial), x.shape)

    def larger(a, b):
        (va, ia), (vb, ib) = a, b
        nan_a, nan_b = jnp.isnan(va), jnp.isnan(vb)
        take_b = jnp.where(nan_a | nan_b, nan_b & (~nan_a | (ib > ia)),
                           (vb > va) | ((vb == va) & (ib < ia)))
        return jnp.where(take_b, vb, va), jnp.where(take_b, ib, ia)

    lowest = jnp.array(-jnp.inf, x.dtype) if _dtypes.is_floating(x.dtype) else jnp.iinfo(
        x.dtype).min
    return _pool((x, index), (lowest, jnp.iinfo(index.dtype).max), larger, **window)[1]


def _space_take(x, indices, *, dims: int):
    """The values at ``indices``, flat indices into each plane of the last ``dims``
    dimensions."""
    flat = x.reshape(*x.shape[:x.ndim - dims], -1)
    taken = jnp.take_along_axis(flat, indices.reshape(*indices.shape[:indices.ndim - dims], -1),
                                -1)
    return taken.reshape(indices.shape)


def _avg_pool(x, *, count_include_pad, divisor, **window):
    total = _pool(x, 0.0, jax.lax.add, **window)
    if divisor is None:  # torch's: the window's part of the padded input, or of the input
        spatial, padding = x.shape[x.ndim - len(window["kernel"]):], window["padding"]
        if count_include_pad:
            inside = jnp.ones([n + 2 * p for n, p in zip(spatial, padding)], np.float32)
            divisor = _pool(inside, 0.0, jax.lax.add, **{**window, "padding": (0,) * len(spatial)})
        else:
            divisor = _pool(jnp.ones(spatial, np.float32), 0.0, jax.lax.add, **window)
    return (total / divisor).astype(x.dtype)  # (torch's integer mean, of int64, rounds toward zero)


MAX_POOL2D = Op("max_pool2d", _max_pool, "MaxPool2DWithIndicesBackward0")
AVG_POOL2D = Op("avg_pool2d", _avg_pool, "AvgPool2DBackward0")
MAX_POOL3D = Op("max_pool3d", _max_pool, "MaxPool3DWithIndicesBackward0")
AVG_POOL3D = Op("avg_pool3d", _avg_pool, "AvgPool3DBackward0")
POOL_ARGMAX = Op("max_pool_indices", _pool_argmax, "", differentiable=False)
MAX_POOL_TAKE = Op("max_pool_with_indices", _space_take,
                   lambda x, indices, dims: f"MaxPool{dims}DWithIndicesBackward0")


def _fractional_starts(samples, size: int, out: int, pool: int):
    """Where each of ``out`` windows of ``pool`` along a dimension of ``size`` starts, given a
    sample in [0, 1) per plane: torch's ``generate_intervals``, in the samples' precision."""
    if out == 0:
        return jnp.zeros((*samples.shape, 0), jnp.int32)
    alpha = (np.asarray(size - pool, samples.dtype) / np.asarray(out - 1, samples.dtype)
             if out > 1 else np.zeros((), samples.dtype))
    steps = jnp.arange(out - 1, dtype=samples.dtype)
    starts = ((steps + samples[..., None]) * alpha).astype(jnp.int32) - (
        samples * alpha).astype(jnp.int32)[..., None]
    return jnp.concatenate([starts, jnp.full((*samples.shape, 1), size - pool, jnp.int32)], -1)


def _fractional_argmax(x, samples, *, kernel: tuple, output: tuple):
    """The flat index in its plane of each window's largest value (the first of equals) of a
    fractional max pool of ``x`` (batch, planes, *spatial), its windows placed by ``samples``
    (batch, planes, one per spatial dimension: for 2-D torch's reads W's first); ``x``
    without its batch dimension is one batch."""
    if x.ndim == len(kernel) + 1:
        return _fractional_argmax(x[None], samples, kernel=kernel, output=output)[0]
    batch, planes, *spatial = x.shape
    d = len(spatial)
    samples = samples[:batch]
    flat = 0
    for k in range(d):
        starts = _fractional_starts(samples[..., d - 1 - k if d == 2 else k], spatial[k],
                                    output[k], kernel[k])
        positions = starts[..., None] + jnp.arange(kernel[k])  # (batch, planes, out, pool)
        shape = [batch, planes] + [1] * (2 * d)
        shape[2 + k], shape[2 + d + k] = output[k], kernel[k]
        flat = flat + positions.reshape(shape) * math.prod(spatial[k + 1:])
    flat = jnp.broadcast_to(flat, (batch, planes, *output, *kernel)).reshape(
        batch, planes, *output, math.prod(kernel))
    windows = jnp.take_along_axis(x.reshape(batch, planes, math.prod(spatial)),
                                  flat.reshape(batch, planes, flat[0, 0].size), -1).reshape(
        flat.shape)
    best = jnp.argmax(windows, -1, keepdims=True)
    return jnp.take_along_axis(flat, best, -1)[..., 0]


FRACTIONAL_ARGMAX = Op("fractional_max_pool_indices", _fractional_argmax, "",
                       differentiable=False)
FRACTIONAL_TAKE = Op("fractional_max_pool", _space_take,
                     lambda x, indices, dims: f"FractionalMaxPool{dims}DBackward0")
_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}


def _fractional_max_pool(d: int, input, kernel_size, output_size, output_ratio,
                         return_indices: bool, _random_samples):
    """``fractional_max_pool2d`` (``d`` 2) or ``3d``: torch's arguments and checks."""
    name = f"fractional_max_pool{d}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        ratio = _tuple(output_ratio, d, float)
        if len(ratio) > d:
            raise ValueError(f"{name} requires output_ratio to either be a single Int or tuple "
                             "of Ints.")
        output_size = [int(input.size(k - d) * r) for k, r in enumerate(ratio)]
    samples = _random_samples
    if samples is None:  # (torch draws them before its kernel checks the input)
        samples = _factories.rand(1 if input.ndim == d + 1 else input.size(0),
                                  input.size(-d - 1), d, dtype=input.dtype, device=input.device)
    ints = "Ints" if d == 2 else "three Ints"
    kernel, output = _tuple(kernel_size, d), _tuple(output_size, d)
    if len(kernel) != d:
        raise RuntimeError(f"{name}: kernel_size must either be a single Int or tuple of {ints}")
    if len(output) != d:
        raise RuntimeError(f"{name}: output_size must either be a single Int or tuple of {ints}")
    if input.ndim not in (d + 1, d + 2):
        raise RuntimeError(f"{name}(): Expected {d + 1}D or {d + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    for k in range(1, input.ndim):
        if input.shape[k] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but got{list(input.shape)} with dimension {k} "
                               "being empty.")
    batch, planes, *spatial = input.shape if input.ndim == d + 2 else (1, *input.shape)
    where = name + ("()" if d == 2 else "_out()")
    for what, n, k, o in zip(_DIM_NAMES[d], spatial, kernel, output):
        if o + k - 1 > n:
            raise RuntimeError(f"{where}: pool {what} {k} too large relative to input {what} "
                               f"{n}")
    if samples.ndim != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {samples.ndim}")
    if samples.shape[0] < batch:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.shape[1] != planes:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if samples.shape[2] != d:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {d}; got "
                           f"{samples.shape[2]}.")
    indices = apply(FRACTIONAL_ARGMAX, input, samples.detach(), kernel=tuple(kernel),
                    output=tuple(output))
    values = apply(FRACTIONAL_TAKE, input, indices, dims=d)
    return (values, indices) if return_indices else values


@autocast_policy(FP32)  # (torch's CPU autocast computes it in float32)
def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    """Fractional max pooling (Graham, 2014) over the last two dimensions: ``output_size``
    windows (or ``output_ratio`` of the input's size) of ``kernel_size``, placed at
    pseudo-random fractional strides drawn per plane (from the global generator, unless
    ``_random_samples``, one in [0, 1) per plane and dimension, gives them, which makes it
    torch's result exactly); with ``return_indices`` also each maximum's flat index in its
    plane.

    >>> import funcgrad
    >>> x = funcgrad.arange(16.0).reshape(1, 1, 4, 4)
    >>> funcgrad.nn.functional.fractional_max_pool2d(
    ...     x, 2, output_size=2, _random_samples=funcgrad.tensor([[[0.5, 0.5]]]))
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])

    Raises:
        ValueError: torch's, for neither ``output_size`` nor ``output_ratio``.
        RuntimeError: torch's, for sizes it cannot take or samples of another shape.
    """
    return _fractional_max_pool(2, input, kernel_size, output_size, output_ratio,
                                return_indices, _random_samples)


@autocast_policy(FP32)  # (torch's CPU autocast computes it in float32)
def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    """``fractional_max_pool2d`` over the last three dimensions."""
    return _fractional_max_pool(3, input, kernel_size, output_size, output_ratio,
                                return_indices, _random_samples)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None,
                                       output_ratio=None, return_indices: bool = False,
                                       _random_samples=None):
    """``fractional_max_pool2d`` with its indices."""
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None,
                                       output_ratio=None, return_indices: bool = False,
                                       _random_samples=None):
    """``fractional_max_pool3d`` with its indices."""
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)


def _max_pool_nd(op: Op, input, return_indices: bool, **window):
    """A max pool's values, and with ``return_indices`` their flat indices in their planes
    too; the gradient goes to those values either way. (A dilated window's values are taken
    at their indices too: JAX has no VJP of a dilated max ``reduce_window``.)"""
    if not return_indices and set(window["dilation"]) == {1}:
        return apply(op, input, **window)
    indices = apply(POOL_ARGMAX, input, **window)
    values = apply(MAX_POOL_TAKE, input, indices, dims=len(window["kernel"]))
    return (values, indices) if return_indices else values


def _ceil_extra(sizes, kernel, stride, padding, dilation, out) -> tuple:
    """How far ``out`` windows reach past the padded input, per dimension (ceil_mode)."""
    return tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p))
                 for n, k, s, p, d, o in zip(sizes, kernel, stride, padding, dilation, out))


def _pool_pair(name: str, what: str, value, lengths: tuple) -> tuple:
    """A pool's argument as the pair (or triple, for ``lengths`` (1, 3)) torch reads: an int
    for every dimension, or a sequence of one value for all or of one per dimension."""
    n = max(lengths)
    value = tuple(value) if isinstance(value, (list, tuple)) else (int(value),) * n
    if len(value) not in lengths:
        raise RuntimeError(f"{name}: {what}")
    return value * n if len(value) == 1 else value


def _pool_size(size: int, kernel: int, pad: int, stride: int, dilation: int,
               ceil_mode: bool) -> int:
    """One dimension of a pool's output, checked as torch's ``pooling_output_shape``."""
    if stride == 0:
        raise RuntimeError("stride should not be zero")
    if pad < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {pad}")
    if pad > int(((kernel - 1) * dilation + 1) / 2):  # (C++ division: toward zero)
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                           f"pad={pad}, kernel_size={kernel} and dilation={dilation}")
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:  # the last window starts in the input
        out -= 1
    return out


def _pool_args(name: str, input, kernel_size, stride, padding, dilation, ceil_mode) -> tuple:
    """Checks a 2-D pool's arguments as torch does (``name``'s meta function, then
    ``pool2d_shape_check``), in its order and with its errors, and returns its window (the
    keyword arguments of ``_pool``)."""
    kernel = _pool_pair(name, "kernel_size must either be a single int, or a tuple of two ints",
                        kernel_size, (1, 2))
    omitted = stride is None or isinstance(stride, (list, tuple)) and not stride
    stride = kernel if omitted else _pool_pair(
        name, "stride must either be omitted, a single int, or a tuple of two ints", stride,
        (1, 2))
    padding = _pool_pair(name, "padding must either be a single int, or a tuple of two ints",
                         padding, (1, 2))
    dilation = _pool_pair(name, "dilation must be either a single int, or a tuple of two ints",
                          dilation, (1, 2))
    if name == "max_pool2d" and input.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    if input.ndim < 3:  # avg_pool2d reads the channels at dimension -3
        if input.ndim == 0:
            raise IndexError("Dimension specified as -3 but tensor has no dimensions")
        raise_dim_out_of_range(-3, input.ndim)
    channels, height, width = input.shape[-3:]
    out = [_pool_size(*args, ceil_mode) for args in
           zip((height, width), kernel, padding, stride, dilation)]
    (kh, kw), (dh, dw), (ph, pw) = kernel, stride, padding
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kh} kW: {kw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {dh} dW: {dw}")
    if min(dilation) <= 0:
        raise RuntimeError("dilation should be greater than zero, but got dilationH: "
                           f"{dilation[0]} dilationW: {dilation[1]}")
    if 0 in input.shape[input.ndim - 3:] or input.ndim not in (3, 4):  # (a batch may be empty)
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
                           f"for input, but got:{list(input.shape)}")
    if kw // 2 < pw or kh // 2 < ph:
        raise RuntimeError("pad should be smaller than or equal to half of kernel size, but got "
                           f"padW = {pw}, padH = {ph}, kW = {kw}, kH = {kh}")
    if min(out) < 1:
        raise RuntimeError(f"Given input size: ({channels}x{height}x{width}). Calculated output "
                           f"size: ({channels}x{out[0]}x{out[1]}). Output size is too small")
    return dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                extra=_ceil_extra((height, width), kernel, stride, padding, dilation, out))


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The largest value of each ``kernel_size`` window (``stride`` defaults to it; its
    elements ``dilation`` apart; with ``ceil_mode`` a last window that starts inside covers the
    rest), and with ``return_indices`` its flat index in its plane too; the gradient goes to
    that value.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.max_pool2d(funcgrad.arange(9.0).reshape(1, 3, 3), 2, ceil_mode=True,
    ...              return_indices=True)
    (tensor([[[4., 5.],
             [7., 8.]]]), tensor([[[4, 5],
             [7, 8]]]))
    """
    window = _pool_args("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    if input.dtype == _dtypes.bool:
        raise NotImplementedError("\"max_pool2d\" not implemented for 'Bool'")
    return _max_pool_nd(MAX_POOL2D, input, return_indices, **window)


def _divisor(divisor_override):
    """An average pool's ``divisor_override``, checked as torch does."""
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    return divisor_override


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None):
    """The mean of each ``kernel_size`` window (``stride`` defaults to it; with ``ceil_mode``
    a last window that starts inside covers the rest); with ``count_include_pad=False`` padded
    positions do not count; ``divisor_override`` divides every window's sum instead."""
    divisor = _divisor(divisor_override)
    window = _pool_args("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    if not (_dtypes.is_floating(input.dtype) or _is_long(input.dtype)):
        raise NotImplementedError(
            f"\"avg_pool2d\" not implemented for '{_dtypes.scalar_name(input.dtype)}'")
    return apply(AVG_POOL2D, input, count_include_pad=bool(count_include_pad), divisor=divisor,
                 **window)


def _pool3d_args(name: str, input, kernel_size, stride, padding, dilation, ceil_mode) -> tuple:
    """Checks a 3-D pool's arguments as torch does (``name``'s meta function, then
    ``pool3d_shape_check``), in its order and with its errors, and returns its window (the
    keyword arguments of ``_pool``)."""
    verb = "must either be" if name == "max_pool3d" else "must be"
    kernel = _pool_pair(name, f"kernel_size {verb} a single int, or a tuple of three ints",
                        kernel_size, (1, 3))
    omitted = stride is None or isinstance(stride, (list, tuple)) and not stride
    stride = kernel if omitted else _pool_pair(
        name, f"stride {verb} omitted, a single int, or a tuple of three ints", stride, (1, 3))
    padding = _pool_pair(name, f"padding {verb} a single int, or a tuple of three ints",
                         padding, (1, 3))
    dilation = _pool_pair(name, "dilation must be either a single int, or a tuple of three ints",
                          dilation, (1, 3))
    if input.ndim not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    sizes = input.shape[-3:]
    out = [_pool_size(*args, ceil_mode) for args in zip(sizes, kernel, padding, stride, dilation)]
    if min(dilation) <= 0:
        raise RuntimeError("dilation should be greater than zero, but got dilationT: "
                           f"{dilation[0]} dilationH: {dilation[1]} dilationW: {dilation[2]}")
    if name == "avg_pool3d" and any(n < k for n, k in zip(sizes, kernel)):
        raise RuntimeError(f"input image (T: {sizes[0]} H: {sizes[1]} W: {sizes[2]}) smaller "
                           f"than kernel size (kT: {kernel[0]} kH: {kernel[1]} kW: {kernel[2]})")
    if min(out) < 1:
        channels = input.shape[-4]
        raise RuntimeError(
            f"Given input size: ({channels}x{'x'.join(map(str, sizes))}). Calculated output "
            f"size: ({channels}x{'x'.join(map(str, out))}). Output size is too small")
    return dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                extra=_ceil_extra(sizes, kernel, stride, padding, dilation, out))


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """``max_pool2d`` over the last three dimensions."""
    window = _pool3d_args("max_pool3d", input, kernel_size, stride, padding, dilation,
                          ceil_mode)
    if return_indices:
        return _max_pool_nd(MAX_POOL3D, input, True, **window)
    return _max_pool3d_values(input, window)


@autocast_policy(FP32)  # torch's autocast: max_pool3d, not max_pool3d_with_indices
def _max_pool3d_values(input, window: dict):
    return _max_pool_nd(MAX_POOL3D, input, False, **window)


@autocast_policy(FP32)
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None):
    """``avg_pool2d`` over the last three dimensions."""
    divisor = _divisor(divisor_override)
    window = _pool3d_args("avg_pool3d", input, kernel_size, stride, padding, 1, ceil_mode)
    return apply(AVG_POOL3D, input, count_include_pad=bool(count_include_pad), divisor=divisor,
                 **window)


def _pool1d_args(name: str, input, kernel_size, stride, padding, dilation, ceil_mode) -> tuple:
    """Checks a 1-D max pool's arguments as torch's ``check_max_pool1d`` does, with its
    errors, and returns its window, stride, padding and dilation as ints."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{name}: Expected 2D or 3D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got:{list(input.shape)}")
    stride = () if stride is None else stride
    args = {}
    for arg, value, allowed in (("kernel_size", kernel_size, "an int, list of ints or tuple"),
                                ("stride", stride, "None, an int, list of ints, or tuple"),
                                ("padding", padding, "an int, list of ints, or tuple"),
                                ("dilation", dilation, "an int, list of ints or tuple")):
        value = _tuple(value, 1)
        if len(value) != 1 and not (arg == "stride" and not value):
            raise RuntimeError(f"{name}() {arg} must be {allowed} of ints of size 1 but got size "
                               f"{len(value)}")
        args[arg] = value[0] if value else args["kernel_size"]
    kernel, stride, padding, dilation = args.values()
    for arg, value in (("kernel_size", kernel), ("stride", stride)):
        if value <= 0:
            raise RuntimeError(f"{name}() {arg} must be greater than zero, but got {value}")
    if padding < 0:
        raise RuntimeError(f"{name}() padding must be non-negative, but got {padding}")
    if padding > kernel // 2:
        raise RuntimeError(f"{name}() padding should be at most half of kernel size, but got "
                           f"padding={padding} and kernel_size={kernel}")
    if dilation <= 0:
        raise RuntimeError(f"{name}() dilation must be greater than zero, but got {dilation}")
    out = _pool_size(input.shape[-1], kernel, padding, stride, dilation, ceil_mode)
    if out <= 0:
        raise RuntimeError(f"{name}() Invalid computed output size: {out}")
    return kernel, stride, padding, dilation


def _check_1d(name: str, input, **args) -> None:
    """torch's ``checkDimRange`` and ``check1d`` for a 1-D pool that calls the 2-D one."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor "
                           f"for argument #1 'self' (while checking arguments for {name})")
    for arg, value in args.items():
        if len(value) != 1:
            raise RuntimeError(f"{name}() argument '{arg}' should contain one int (got "
                               f"{len(value)})")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The largest value of each ``kernel_size`` window along the last dimension (``stride``
    defaults to it): torch's 2-D pool of a window of height 1."""
    kernel, stride, padding, dilation = _pool1d_args("max_pool1d", input, kernel_size, stride,
                                                     padding, dilation, ceil_mode)
    out = max_pool2d(input.unsqueeze(-2), (1, kernel), (1, stride), (0, padding), (1, dilation),
                     ceil_mode, return_indices)
    if return_indices:  # (a flat index in a plane of height 1 is the index along the row)
        return tuple(_ops.squeeze(t, -2) for t in out)
    return _ops.squeeze(out, -2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True):
    """The mean of each ``kernel_size`` window along the last dimension (``stride`` defaults
    to it): torch's 2-D pool of a window of height 1."""
    kernel = _tuple(kernel_size, 1)
    stride = kernel if stride is None else _tuple(stride, 1)
    padding = _tuple(padding, 1)
    _check_1d("avg_pool1d", input, kernel_size=kernel, stride=stride, padding=padding)
    out = avg_pool2d(input.unsqueeze(-2), (1, *kernel), (1, *stride), (0, *padding), ceil_mode,
                     count_include_pad)
    return _ops.squeeze(out, -2)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _put_last(values, indices, length: int):
    """Zeros of ``length`` along the last axis with ``values`` put at ``indices`` (one of
    equal indices wins, as in torch; out-of-range ones write nothing). Its derivatives are
    those of adding the values at the indices instead, so its VJP takes the cotangent at the
    indices, as torch's does: every value put at an index gets its gradient, where a
    scatter's VJP would give it to the winner alone."""
    out = jnp.zeros((*values.shape[:-1], length), values.dtype)
    return jnp.put_along_axis(out, indices, values, -1, inplace=False, mode="drop")


@_put_last.defjvp
def _put_last_jvp(length: int, primals: tuple, tangents: tuple) -> tuple:
    values, indices = primals
    out = jnp.zeros((*values.shape[:-1], length), values.dtype)
    lead = jnp.indices(indices.shape, sparse=True)[:-1]
    return (_put_last(values, indices, length),
            out.at[(*lead, indices)].add(tangents[0], mode="drop"))


def _max_unpool(x, indices, *, size: tuple):
    """Zeros of the spatial ``size`` with each value of ``x`` at its flat index in its
    plane."""
    lead = x.shape[:x.ndim - len(size)]
    out = _put_last(x.reshape(*lead, -1), indices.reshape(*lead, -1), math.prod(size))
    return out.reshape(*lead, *size)


MAX_UNPOOL = Op("max_unpool", _max_unpool,
                lambda x, indices, size: f"MaxUnpool{len(size)}DBackward0")


def _unpool_size(input, kernel: tuple, stride: tuple, padding: tuple, output_size) -> tuple:
    """torch's ``_unpool_output_size``: the pool's input size, from its output, or
    ``output_size`` (with or without its first two dimensions) checked against it."""
    n = len(kernel)
    default = [(input.shape[input.ndim - n + d] - 1) * stride[d] + kernel[d] - 2 * padding[d]
               for d in range(n)]
    if output_size is None:
        return tuple(default)
    given = list(output_size)
    if len(given) == n + 2:
        given = given[2:]
    if len(given) != n:
        raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} "
                         f"elements, but it has a length of '{len(given)}'")
    for d in range(n):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < given[d] < high:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between '
                             f"{low} and {high})")
    return tuple(int(g) for g in given)


def _max_unpool_nd(n: int, input, indices, kernel_size, stride, padding, output_size):
    kernel = _tuple(kernel_size, n)
    stride = kernel if stride is None else _tuple(stride, n)
    size = _unpool_size(input, kernel, stride, _tuple(padding, n), output_size)
    if not _dtypes.is_integer(indices.dtype):
        raise RuntimeError("elements in indices should be type int64 but got: "
                           f"{_dtypes.scalar_name(indices.dtype)}")
    if indices.shape != input.shape:
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor "
            f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    if input.ndim not in (n + 1, n + 2) or 0 in input.shape[1:]:
        raise RuntimeError(f"Input to max_unpooling{n}d should be a {n + 1}d or {n + 2}d Tensor, "
                           f"but got a tensor with {input.ndim} dimensions.")
    return apply(MAX_UNPOOL, input, indices, size=size)


@autocast_policy(FP32)
def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of ``max_pool1d``: each value at the index ``return_indices`` gave it,
    zeros elsewhere."""
    kernel = _tuple(kernel_size, 1)
    stride = kernel if stride is None else _tuple(stride, 1)
    padding = _tuple(padding, 1)
    size = _unpool_size(input, kernel, stride, padding, output_size)
    out = _max_unpool_nd(2, input.unsqueeze(-1), indices.unsqueeze(-1), (*kernel, 1),
                         (*stride, 1), (*padding, 0), [*size, 1])
    return _ops.squeeze(out, -1)


@autocast_policy(FP32)
def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of ``max_pool2d``: each value (N, C, H, W) at the flat index in its plane
    that ``return_indices`` gave it, zeros elsewhere.

    Raises:
        ValueError, RuntimeError: torch's, for an ``output_size`` the pool could not have
            come from, or indices that are not integers or not of the input's shape.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> values, indices = F.max_pool2d(funcgrad.arange(4.0).reshape(1, 2, 2), 2,
    ...                                return_indices=True)
    >>> F.max_unpool2d(values, indices, 2)
    tensor([[[0., 0.],
             [0., 3.]]])
    """
    return _max_unpool_nd(2, input, indices, kernel_size, stride, padding, output_size)


@autocast_policy(FP32)
def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """``max_unpool2d`` over the last three dimensions."""
    return _max_unpool_nd(3, input, indices, kernel_size, stride, padding, output_size)


def _adaptive_matrix(size: int, out: int, dtype) -> np.ndarray:
    """(out, size): row i averages torch's adaptive window ``[floor(i * size / out),
    ceil((i + 1) * size / out))``."""
    matrix = np.zeros((out, size), dtype)
    for i in range(out):
        start, end = i * size // out, -(-(i + 1) * size // out)
        matrix[i, start:end] = 1 / (end - start)
    return matrix


def _adaptive_avg_pool(x, out):
    """Averages the last ``len(out)`` dimensions, one matrix product per dimension."""
    for axis, (n, o) in enumerate(zip(x.shape[-len(out):], out), x.ndim - len(out)):
        x = jnp.moveaxis(jnp.tensordot(x, _adaptive_matrix(n, o, x.dtype), ((axis,), (1,))),
                         -1, axis)
    return x


def _adaptive_argmax(x, out):
    """The flat index in each plane (or volume) of the last ``len(out)`` dimensions of the
    largest value of each of torch's adaptive windows, found one dimension at a time, last
    first: per window of a dimension, its largest value over the windows found already, and
    where that lies."""
    best, flat, stride = x, None, 1
    for k in reversed(range(len(out))):
        axis = x.ndim - len(out) + k  # (the dimensions after it hold windows already)
        n = x.shape[axis]
        member = jnp.asarray(_adaptive_matrix(n, out[k], np.float32) > 0)
        member = member.reshape(member.shape + (1,) * (x.ndim - axis - 1))
        masked = jnp.where(member, jnp.expand_dims(best, axis), -jnp.inf)  # (..., o, n, rest)
        arg = jnp.argmax(masked, axis + 1)
        best = jnp.max(masked, axis + 1)
        positions = arg * stride
        if flat is not None:  # the index found within the later dimensions, at that position
            spread = jnp.broadcast_to(jnp.expand_dims(flat, axis), masked.shape)
            positions = positions + jnp.take_along_axis(
                spread, jnp.expand_dims(arg, axis + 1), axis + 1).squeeze(axis + 1)
        flat, stride = positions, stride * n
    return flat


ADAPTIVE_AVG_POOL2D = Op("adaptive_avg_pool2d", _adaptive_avg_pool, "AdaptiveAvgPool2DBackward0")
ADAPTIVE_AVG_POOL3D = Op("adaptive_avg_pool3d", _adaptive_avg_pool, "AdaptiveAvgPool3DBackward0")
ADAPTIVE_ARGMAX = Op("adaptive_max_pool2d_indices", _adaptive_argmax, "", differentiable=False)
ADAPTIVE_MAX_POOL2D = Op("adaptive_max_pool2d", _space_take, "AdaptiveMaxPool2DBackward0")
ADAPTIVE_MAX_POOL3D = Op("adaptive_max_pool3d", _space_take, "AdaptiveMaxPool3DBackward0")


def adaptive_avg_pool2d(input, output_size):
    """Averages over windows that split the last two dimensions into ``output_size`` (an int
    for both, or a pair; None keeps that dimension's size) as evenly as torch's do.

    Raises:
        RuntimeError: torch's, for an input that is not 3-D or 4-D, or is empty but for the
            batch.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.adaptive_avg_pool2d(funcgrad.arange(4.0).reshape(1, 2, 2), 1)
    tensor([[[1.5000]]])
    """
    out = _adaptive_size("adaptive_avg_pool2d", 2, input, output_size, "")
    if out == (1, 1):  # torch takes the mean
        return input.mean((-2, -1), keepdim=True)
    return apply(ADAPTIVE_AVG_POOL2D, input, out=out)


def _adaptive_size(name: str, n: int, input, output_size, colon: str) -> tuple:
    """Checks an ``n``-D adaptive pool's input as torch does, with its errors (whose
    ``got`` some follow by a colon), and returns its output size, None read as the input's."""
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"{name}(): Expected {n + 1}D or {n + 2}D tensor, but got{colon} "
                           f"{list(input.shape)}")
    for dim in range(input.ndim - n - 1, input.ndim):
        if input.shape[dim] == 0:
            raise RuntimeError(
                f"{name}(): Expected input to have non-zero size for non-batch dimensions, but "
                f"input has sizes {list(input.shape)} with dimension {dim} being empty")
    size = _tuple(output_size, n)
    if len(size) != n:
        raise RuntimeError(f"{name}(): internal error: output_size.size() must be {n}")
    return tuple(input.shape[-n + i] if o is None else int(o) for i, o in enumerate(size))


@autocast_policy(FP32)
def adaptive_avg_pool3d(input, output_size):
    """Averages over windows that split the last three dimensions into ``output_size`` as
    evenly as torch's do."""
    out = _adaptive_size("adaptive_avg_pool3d", 3, input, output_size, "")
    if out == (1, 1, 1):  # torch takes the mean
        return input.mean((-3, -2, -1), keepdim=True)
    return apply(ADAPTIVE_AVG_POOL3D, input, out=out)


def adaptive_max_pool2d(input, output_size, return_indices: bool = False):
    """The largest value of each of the windows that split the last two dimensions into
    ``output_size`` as torch's do; with ``return_indices``, also its flat index in its plane.
    The gradient goes to that value.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.adaptive_max_pool2d(funcgrad.arange(12.0).reshape(1, 3, 4), 2, return_indices=True)
    (tensor([[[ 5.,  7.],
             [ 9., 11.]]]), tensor([[[ 5,  7],
             [ 9, 11]]]))
    """
    out = _adaptive_size("adaptive_max_pool2d", 2, input, output_size, ":")
    indices = apply(ADAPTIVE_ARGMAX, input, out=out)
    values = apply(ADAPTIVE_MAX_POOL2D, input, indices, dims=2)
    return (values, indices) if return_indices else values


@autocast_policy(FP32)
def adaptive_max_pool3d(input, output_size, return_indices: bool = False):
    """The largest value of each of the windows that split the last three dimensions into
    ``output_size`` as torch's do; with ``return_indices``, also its flat index in its
    volume."""
    out = _adaptive_size("adaptive_max_pool3d", 3, input, output_size, ":")
    indices = apply(ADAPTIVE_ARGMAX, input, out=out)
    values = apply(ADAPTIVE_MAX_POOL3D, input, indices, dims=3)
    return (values, indices) if return_indices else values


def adaptive_max_pool1d(input, output_size, return_indices: bool = False):
    """The largest value of each of the windows that split the last dimension into
    ``output_size``, as torch's (its 2-D pool, of height 1)."""
    size = _tuple(output_size, 1)
    _check_1d("adaptive_max_pool1d", input, output_size=size)
    values, indices = adaptive_max_pool2d(input.unsqueeze(-2), (1, *size), True)
    values, indices = _ops.squeeze(values, -2), _ops.squeeze(indices, -2)
    return (values, indices) if return_indices else values


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False):
    """``max_pool1d``'s values and indices (whatever ``return_indices`` says, as torch's)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False):
    """``max_pool2d``'s values and indices."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False):
    """``max_pool3d``'s values and indices."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices: bool = False):
    """``adaptive_max_pool1d``'s values and indices."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices: bool = False):
    """``adaptive_max_pool2d``'s values and indices."""
    return adaptive_max_pool2d(input, output_size, True)


@autocast_policy(FP32)
def adaptive_max_pool3d_with_indices(input, output_size, return_indices: bool = False):
    """``adaptive_max_pool3d``'s values and indices."""
    return adaptive_max_pool3d(input, output_size, True)


def adaptive_avg_pool1d(input, output_size):
    """Averages over windows that split the last dimension into ``output_size``, as torch's
    (its 2-D pool, of height 1)."""
    size = _tuple(output_size, 1)
    _check_1d("adaptive_avg_pool1d", input, output_size=size)
    return _ops.squeeze(adaptive_avg_pool2d(input.unsqueeze(-2), (1, *size)), -2)


def _batch_norm(x, w, b, mean, var, eps):
    """Normalizes over every axis but the channels (axis 1) with ``mean`` and ``var`` (the
    batch's, computed here, when None), then scales and shifts; in ``x``'s dtype, as torch's
    kernel gives a half-precision ``x`` with float32 statistics and parameters."""
    axes = (0, *range(2, x.ndim))
    if mean is None:
        mean, var = jnp.mean(x, axes), jnp.var(x, axes)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    out = (x - mean.reshape(shape)) * jax.lax.rsqrt(var.reshape(shape) + eps)
    if w is not None:
        out = out * w.reshape(shape)
    if b is not None:
        out = out + b.reshape(shape)
    return out.astype(x.dtype)


BATCH_NORM = Op("batch_norm", _batch_norm, "NativeBatchNormBackward0")
ONE_HOT = Op("one_hot", lambda x, num_classes: jax.nn.one_hot(x, num_classes, dtype=x.dtype), "",
             differentiable=False)


def _check_batch_norm(input, running_mean, running_var, weight, bias, training) -> None:
    """torch's checks of ``batch_norm``'s arguments, in its order and with its errors: more
    than one value per channel when training, then (for an input with elements) each given
    vector's length against the channels, the running statistics in evaluation, and a
    floating-point input."""
    if training and input.shape[0] * math.prod(input.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {input.shape}")
    if input.numel() == 0:  # torch returns the empty input as it is
        return
    channels = input.shape[1] if input.ndim > 1 else 0  # (torch reads a missing size as 0)
    given = {"running_mean": running_mean, "running_var": running_var, "weight": weight,
             "bias": bias}
    for name, vector in given.items():
        if vector is None and not training and name.startswith("running"):
            raise RuntimeError(f"{name} must be defined in evaluation mode")
        if vector is not None and vector.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not "
                               f"{vector.numel()}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be "
                         "None")
    if not _dtypes.is_floating(input.dtype):
        raise NotImplementedError(
            f"\"batch_norm\" not implemented for '{_dtypes.scalar_name(input.dtype)}'")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum: float = 0.1, eps: float = 1e-5):
    """Normalizes each channel (dimension 1): in training by the batch's mean and biased
    variance, updating ``running_mean`` and ``running_var`` (unbiased) in place by
    ``momentum``; otherwise by the running statistics.

    Raises:
        RuntimeError, ValueError: torch's, before anything changes, for vectors whose length
            is not the number of channels, a single value per channel when training, or no
            running statistics in evaluation.
    """
    _check_batch_norm(input, running_mean, running_var, weight, bias, training)
    if not training:
        return apply(BATCH_NORM, input, weight, bias, running_mean, running_var, eps)
    if running_mean is not None and input.numel():  # (an empty batch leaves them as they are)
        with _grad_mode.no_grad():
            axes = (0, *range(2, input.ndim))
            x = input.detach()
            running_mean.mul_(1 - momentum).add_(x.mean(axes) * momentum)
            running_var.mul_(1 - momentum).add_(x.var(axes) * momentum)
    return apply(BATCH_NORM, input, weight, bias, None, None, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5):
    """Normalizes each channel of each sample (N, C, *) over its own spatial positions, as
    torch composes it: ``batch_norm`` of the input viewed as one sample of N * C channels,
    viewed back. Running statistics, when given, are updated by the mean over the batch of
    each sample's statistics (and used instead of them when not ``use_input_stats``).

    Raises:
        ValueError, RuntimeError: torch's, for a single spatial position when using the
            input's statistics, or no running statistics when not.
    """
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError("Expected more than 1 spatial element when training, got input size "
                         f"{input.shape}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when "
                           "use_input_stats is false")
    batch, channels = input.shape[:2]

    def repeated(vector):
        return None if vector is None else vector.repeat(batch)

    stats = repeated(running_mean), repeated(running_var)
    out = batch_norm(input.reshape(1, batch * channels, *input.shape[2:]), *stats,
                     repeated(weight), repeated(bias), use_input_stats, momentum, eps)
    with _grad_mode.no_grad():
        for vector, updated in zip((running_mean, running_var), stats):
            if vector is not None:
                vector.copy_(updated.view(batch, channels).mean(0))
    return out.view(input.shape)


def local_response_norm(input, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0):
    """Divides each value by ``(k + alpha * m) ** beta``, ``m`` the mean square over ``size``
    neighbouring channels (dimension 1, zero-padded), composed as torch composes it.

    Raises:
        ValueError: torch's, for an input of fewer than three dimensions.
    """
    if input.ndim < 3:
        raise ValueError(  # (torch's message has this run of spaces in it)
            f"Expected 3D or higher dimensionality{' ' * 26}input (got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    div = input.mul(input)
    if input.ndim == 3:
        div = pad(div.unsqueeze(1), (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = input.shape
        div = div.view(sizes[0], 1, sizes[1], sizes[2], -1)
        div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1).view(sizes)
    return input / div.mul(alpha).add(k).pow(beta)


def gumbel_softmax(logits, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1):
    """A sample of the Gumbel-softmax (Concrete) distribution: ``softmax((logits + g) / tau)``
    for standard Gumbel noise ``g``; with ``hard``, the one-hot vector of its largest entry,
    whose gradient is the soft sample's (straight-through). ``eps`` is deprecated and unused,
    as in torch.
    """
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = jax.random.gumbel(_factories.next_key(), tuple(logits.shape), logits.dtype)
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = _factories.zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def one_hot(tensor, num_classes: int = -1):
    """Each class index of ``tensor`` as a row of ``num_classes`` integers, 1 at the index
    (``-1``: one more than the largest index). The indices are read to check them, as torch
    does; inside a transform (where they cannot be) give ``num_classes``, and they go
    unchecked.

    Raises:
        RuntimeError: torch's, for indices not of int64 (funcgrad's default integer dtype),
            negative or not below ``num_classes``.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.one_hot(funcgrad.tensor([0, 2]))
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    if not _is_long(tensor.dtype):
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    num_classes = int(num_classes)
    if tensor.numel() == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    else:
        indices = tensor._read()
        if not isinstance(indices, jax.core.Tracer) or num_classes == -1:
            # (one read of both bounds; a traced index has none, and int() raises JAX's error)
            low, high = map(int, jax.device_get((jnp.min(indices), jnp.max(indices))))
            if low < 0:
                raise RuntimeError("Class values must be non-negative.")
            if num_classes == -1:
                num_classes = high + 1
            elif num_classes <= high:
                raise RuntimeError("Class values must be smaller than num_classes.")
    return apply(ONE_HOT, tensor, num_classes=num_classes)


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12):
    """``input`` divided by its ``p``-norm along ``dim`` (at least ``eps``).

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.normalize(funcgrad.tensor([[3.0, 4.0]]))
    tensor([[0.6000, 0.8000]])
    """
    return input / _ops.norm(input, p, dim, keepdim=True).clamp_min(eps).expand_as(input)


def _clamped_norm(x, dim: int, eps: float):
    """``x``'s 2-norm along ``dim``, raised to ``eps`` as torch does it: in place without
    grad, so that the gradient flows as though it were not clamped."""
    norm = _ops.norm(x, 2, dim, keepdim=True).clone()
    with _grad_mode.no_grad():
        norm.clamp_min_(eps)
    return norm


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """The cosine of the angle between ``x1`` and ``x2`` (broadcast) along ``dim``, each
    normalized first (norms at least ``eps``), as torch computes it."""
    shape = broadcast_shape(tuple(x1.shape), tuple(x2.shape))
    x1, x2 = (x if tuple(x.shape) == shape else x.expand(*shape) for x in (x1, x2))
    return ((x1 / _clamped_norm(x1, dim, eps)) * (x2 / _clamped_norm(x2, dim, eps))).sum(dim)


# at::norm of a dimension (torch's pairwise_distance calls it) records NormBackward1
NORM_DIM = dataclasses.replace(_ops.NORM, grad_fn="NormBackward1")


def _pdist(x, *, p: float):
    first, second = np.triu_indices(x.shape[0], 1)
    return _ops._vector_norm(x[first] - x[second], p, axis=-1)


PDIST = Op("pdist", _pdist, "PdistBackward0")


def pdist(input, p: float = 2.0):
    """The ``p``-norm distances between the rows of ``input`` (N, M), each pair once: row
    ``i`` against every row after it, in order (``N * (N - 1) / 2`` values).

    Raises:
        RuntimeError: torch's, for an input that is not 2-D or a negative ``p``.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.pdist(funcgrad.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
    tensor([5.0000, 1.0000, 4.2426])
    """
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    return apply(PDIST, input, p=float(p))


def _lp_pool(n: int, input, norm_type: float, kernel_size, stride, ceil_mode: bool):
    """torch's power-average pool over the last ``n`` dimensions: ``(sum of x^p over each
    window)^(1/p)``, the max of ``|x|`` for an infinite ``p``."""
    pool = (max_pool1d, max_pool2d, max_pool3d)[n - 1]
    if norm_type == math.inf:
        return pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    avg = (avg_pool1d, avg_pool2d, avg_pool3d)[n - 1]
    out = avg(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    size = math.prod(_tuple(kernel_size, n))
    return (_ops.sign(out) * relu(_ops.abs(out))).mul(size).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
    """The ``norm_type``-norm of each window of the last dimension (see ``_lp_pool``).

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.lp_pool1d(funcgrad.tensor([[[3.0, 4.0, 1.0, 0.0]]]), 2, 2)
    tensor([[[5., 1.]]])
    """
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
    """The ``norm_type``-norm of each window of the last two dimensions."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
    """The ``norm_type``-norm of each window of the last three dimensions."""
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """The ``p``-norm of ``x1 - x2 + eps`` along the last dimension."""
    dim = max(x1.ndim, x2.ndim) - 1
    return apply(NORM_DIM, x1 - x2 + eps, ord=p, axis=dim, keepdims=keepdim)


def _pad(x, pads: tuple, mode: str, value):
    """``x`` padded by ``pads``, (low, high) pairs from the last dimension back. Another mode
    than 'constant' gathers each padded dimension from the input positions it repeats (a
    negative pad, which crops, included)."""
    if mode == "constant":
        config = [(0, 0, 0)] * (x.ndim - len(pads)) + [(lo, hi, 0) for lo, hi in pads[::-1]]
        return jax.lax.pad(x, jnp.asarray(value, x.dtype), config)
    for k, (lo, hi) in enumerate(pads):
        axis = x.ndim - 1 - k
        n = x.shape[axis]
        index = np.arange(-lo, n + hi)
        if mode == "reflect":
            index = np.abs(index)
            index = np.where(index >= n, 2 * (n - 1) - index, index)
        elif mode == "replicate":
            index = np.clip(index, 0, n - 1)
        else:  # torch wraps around what is left once the negative pads have cropped
            start, kept = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
            index = start + np.arange(-max(lo, 0), kept + max(hi, 0)) % kept
        x = jnp.take(x, index, axis=axis)
    return x


def _pad_name(x, pads: tuple, mode: str, value) -> str:
    if mode == "constant":
        return "ConstantPadNdBackward0"
    if mode == "circular":  # torch pads circularly by copying slices into a new tensor
        return "CopySlices"
    return f"{'Reflection' if mode == 'reflect' else 'Replication'}Pad{len(pads)}DBackward0"


PAD = Op("pad", _pad, _pad_name)
# constant_pad_nd's backward needs only the pads (torch's others keep the input)
CONSTANT_PAD = dataclasses.replace(PAD, saves=False)
_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _check_pad(input, pad: tuple, mode: str, value) -> None:
    """torch's checks of ``pad``'s arguments, with its errors."""
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input.ndim}")
    if mode == "constant":
        return
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    n = len(pad) // 2
    if n > 3 or input.ndim not in (n + 1, n + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    for k in range(n):
        lo, hi, size = pad[2 * k], pad[2 * k + 1], input.shape[-1 - k]
        if mode == "reflect" and not (lo < size and hi < size):
            raise RuntimeError(
                f"Argument #{4 + 2 * k}: Padding size should be less than the corresponding "
                f"input dimension, but got: padding ({lo}, {hi}) at dimension "
                f"{input.ndim - 1 - k} of input {list(input.shape)}")
        if mode == "circular" and (lo > size or hi > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")


def pad(input, pad, mode: str = "constant", value=None):
    """``input`` padded by ``pad``: (left, right) sizes for the last dimension, then for the
    one before, and so on (negative sizes crop), with ``value`` ('constant'), the input
    mirrored without its edge ('reflect'), its edge repeated ('replicate'), or wrapped around
    ('circular'; these three pad the last 1 to 3 dimensions of a batched or unbatched input).

    Raises:
        RuntimeError, NotImplementedError: torch's, for an odd or too long ``pad``, an unknown
            mode, a ``value`` in another mode than 'constant', or sizes the mode cannot pad.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.pad(funcgrad.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
    tensor([[3., 2., 1., 2., 3., 2.]])
    """
    pad = tuple(int(p) for p in pad)
    _check_pad(input, pad, mode, value)
    pairs = tuple(zip(pad[::2], pad[1::2]))
    if mode == "replicate" or mode == "reflect" and len(pairs) < 3:
        return _pad_in_float32(input, pairs, mode)
    return apply(CONSTANT_PAD if mode == "constant" else PAD, input, pads=pairs, mode=mode,
                 value=0 if value is None else value)


@autocast_policy(FP32)  # torch's autocast: replication_pad, reflection_pad1d and 2d
def _pad_in_float32(input, pairs: tuple, mode: str):
    return apply(PAD, input, pads=pairs, mode=mode, value=0)


def _group_norm(x, w, b, groups, eps):
    grouped = x.reshape(x.shape[0], groups, -1)
    mean = jnp.mean(grouped, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(grouped - mean), axis=-1, keepdims=True)
    out = ((grouped - mean) * jax.lax.rsqrt(var + eps)).reshape(x.shape)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    out = out if w is None else out * w.reshape(shape)
    return out if b is None else out + b.reshape(shape)


GROUP_NORM = Op("group_norm", _group_norm, "NativeGroupNormBackward0")


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Normalizes each of ``num_groups`` groups of channels (dimension 1) of each sample over
    the group's channels and every later dimension (biased variance), then scales and shifts
    each channel by ``weight`` and ``bias``.

    Raises:
        RuntimeError, ValueError: torch's, for fewer than 2 dimensions, channels that
            ``num_groups`` does not divide, one value per group, or a weight or bias of
            another length than the channels.
    """
    if input.ndim < 2:
        raise RuntimeError("Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    batch, channels = input.shape[:2]
    if batch * channels // num_groups * math.prod(input.shape[2:]) == 1:
        raise ValueError("Expected more than 1 value per channel when training, got input size "
                         f"{[batch * channels // num_groups, num_groups, *input.shape[2:]]}")
    if channels % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    for name, vector in (("weight", weight), ("bias", bias)):
        if vector is not None and (vector.ndim != 1 or vector.numel() != channels):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in "
                f"input, but got {name} of shape {list(vector.shape)} and input of shape "
                f"{list(input.shape)}")
    return apply(GROUP_NORM, input, weight, bias, groups=num_groups, eps=eps)


def multi_head_attention_forward(
        query, key, value, embed_dim_to_check: int, num_heads: int, in_proj_weight,
        in_proj_bias, bias_k, bias_v, add_zero_attn: bool, dropout_p: float, out_proj_weight,
        out_proj_bias, training: bool = True, key_padding_mask=None, need_weights: bool = True,
        attn_mask=None, use_separate_proj_weight: bool = False, q_proj_weight=None,
        k_proj_weight=None, v_proj_weight=None, static_k=None, static_v=None,
        average_attn_weights: bool = True, is_causal: bool = False):
    """``nn.MultiheadAttention``'s computation on its parameters: (L, N, E) ``query`` and
    (S, N, E) ``key`` and ``value`` (or unbatched (L, E), (S, E)), projected (by
    ``in_proj_weight`` split in three, or the separate ``q/k/v_proj_weight``), with the
    learned ``bias_k``/``bias_v`` and a zero key and value where asked, ``num_heads`` heads
    of scaled dot-product attention under the masks (boolean ones are True where attention is
    not allowed), dropout while ``training``, and the output projection. ``static_k`` and
    ``static_v`` ((N * heads, S, E / heads)) replace the projected keys and values. Returns
    the output and, with ``need_weights``, the weights (averaged over heads unless told
    otherwise), else None.

    Raises:
        RuntimeError: torch's, for ``is_causal`` without ``attn_mask``, or a mask of another
            shape.
        AssertionError: torch's, for an embedding of another size than
            ``embed_dim_to_check`` or not divisible by ``num_heads``.
    """
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    batched = query.ndim == 3
    if not batched:
        query, key, value = (x.unsqueeze(1) for x in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    length, batch, e = query.shape
    if e != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {e}")
    heads, head_dim = num_heads, e // num_heads
    if head_dim * heads != e:
        raise AssertionError(f"embed_dim {e} not divisible by num_heads {heads}")
    biases = [None] * 3 if in_proj_bias is None else \
        [in_proj_bias[i * e:(i + 1) * e] for i in range(3)]
    weights = ([q_proj_weight, k_proj_weight, v_proj_weight] if use_separate_proj_weight
               else [in_proj_weight[i * e:(i + 1) * e] for i in range(3)])
    q, k, v = (linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))
    if bias_k is not None:
        k = _ops.cat([k, bias_k.repeat(1, batch, 1)])
        v = _ops.cat([v, bias_v.repeat(1, batch, 1)])
    q, k, v = (x.reshape(x.shape[0], batch * heads, head_dim).transpose(0, 1)
               for x in (q, k, v))
    k = k if static_k is None else static_k
    v = v if static_v is None else static_v
    if add_zero_attn:
        zeros = _factories.zeros(batch * heads, 1, head_dim, dtype=k.dtype, device=k.device)
        k, v = _ops.cat([k, zeros], 1), _ops.cat([v, zeros], 1)
    scores = (q * (1 / math.sqrt(head_dim))) @ k.transpose(-2, -1)
    source = key.shape[0]
    mask = _attention_mask(attn_mask, key_padding_mask, heads, batch, length, source,
                           query.dtype)
    if mask is not None:
        added = k.shape[1] - source  # keys every query attends to, whatever the masks say
        scores = scores + (pad(mask, (0, added)) if added else mask)
    attention = dropout(softmax(scores, -1), dropout_p, training)
    out = (attention @ v).transpose(0, 1).reshape(length * batch, e)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(length, batch, e)
    if not batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    attention = attention.reshape(batch, heads, length, attention.shape[-1])
    if average_attn_weights:
        attention = attention.mean(1)
    return out, (attention if batched else attention.squeeze(0))


def _additive(mask, dtype):
    """A mask as the float added to the scores: a boolean one is -inf where True (a position
    not attended to, as torch's ``MultiheadAttention`` reads it)."""
    if mask is None or mask.is_floating_point():
        return mask
    return _factories.zeros(*mask.shape, dtype=dtype).masked_fill(mask, -math.inf)


def _attention_mask(attn_mask, key_padding_mask, heads: int, batch: int, length: int,
                    source: int, dtype):
    """The float mask added to the (N * heads, L, S) scores of ``multi_head_attention_forward``,
    or None."""
    attn_mask = _additive(attn_mask, dtype)
    key_padding_mask = _additive(key_padding_mask, dtype)
    if attn_mask is not None:
        want = (length, source) if attn_mask.ndim == 2 else (batch * heads, length, source)
        if tuple(attn_mask.shape) != want:
            raise RuntimeError(f"The shape of the {attn_mask.ndim}D attn_mask is "
                               f"{attn_mask.shape}, but should be {want}.")
        if attn_mask.ndim == 2:
            attn_mask = attn_mask.unsqueeze(0)
    if key_padding_mask is None:
        return attn_mask
    padding = key_padding_mask.reshape(batch, 1, 1, source).expand(
        batch, heads, 1, source).reshape(batch * heads, 1, source)
    return padding if attn_mask is None else attn_mask + padding


def _attention(q, k, v, mask=None, noise=None, *, causal: bool, scale: float, groups: int):
    if groups > 1:  # grouped-query attention: each key and value head serves `groups` heads
        k, v = jnp.repeat(k, groups, axis=-3), jnp.repeat(v, groups, axis=-3)
    scores = jnp.matmul(q, jnp.swapaxes(k, -1, -2)) * scale
    if causal:  # (top-left aligned, as torch's tril of an L x S matrix)
        scores = jnp.where(jnp.tril(jnp.ones(scores.shape[-2:], bool)), scores, -jnp.inf)
    if mask is not None:
        scores = jnp.where(mask, scores, -jnp.inf) if mask.dtype == bool else scores + mask
    weights = jax.nn.softmax(scores, axis=-1)
    return jnp.matmul(weights if noise is None else weights * noise, v)


def _attention_name(q, k, v, *args, **static) -> str:
    """torch's CPU node: its fused kernel's for 4-D inputs of one head size, else its math
    path's last matmul's."""
    if q.ndim == 4 and q.shape[-1] == k.shape[-1] == v.shape[-1]:
        return "ScaledDotProductFlashAttentionForCpuBackward0"
    return "MmBackward0" if q.ndim == 2 else "UnsafeViewBackward0"


ATTENTION = Op("scaled_dot_product_attention", _attention, _attention_name)


@autocast_policy(LOWER)
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False):
    """``softmax(query @ key.T * scale + mask) @ value`` over the last two dimensions;
    ``scale`` defaults to ``1 / sqrt(E)``. A boolean ``attn_mask`` keeps the positions where
    it is True, a float one is added; ``is_causal`` keeps the lower triangle; with
    ``enable_gqa`` each key/value head serves several query heads (dimension -3).
    ``dropout_p`` drops attention weights as ``dropout`` does (always: this function, like
    torch's, has no training flag; pass 0 in evaluation).

    Raises:
        RuntimeError: torch's, for ``attn_mask`` together with ``is_causal``.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.scaled_dot_product_attention(funcgrad.ones(1, 2, 4), funcgrad.ones(1, 3, 4),
    ...                                funcgrad.ones(1, 3, 5)).shape
    funcgrad.Size([1, 2, 5])
    """
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    groups = query.shape[-3] // key.shape[-3] if enable_gqa and query.ndim >= 3 else 1
    noise = None
    if dropout_p > 0:
        heads = key.shape[:-3] + (query.shape[-3],) if groups > 1 else key.shape[:-2]
        batch = broadcast_shape(tuple(query.shape[:-2]), tuple(heads))
        noise = _dropout_noise(dropout_p, (*batch, query.shape[-2], key.shape[-2]), query.dtype)
    return apply(ATTENTION, query, key, value, attn_mask, noise, causal=bool(is_causal),
                 scale=scale, groups=groups)


def _cubic_weights(t) -> list:
    """torch's bicubic weights of the four pixels around a point ``t`` past the second
    (cubic convolution, A = -0.75)."""
    a = -0.75

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


# The filters of torch's antialiasing kernels over |x|, in source pixels, and their support
# at scale 1 (half their taps). Its bicubic filter here has A = -0.5, not -0.75.
_AA_FILTERS = {
    "bilinear": (1.0, lambda x: np.maximum(1.0 - x, 0.0)),
    "bicubic": (2.0, lambda x: np.where(x < 1, (1.5 * x - 2.5) * x * x + 1, np.where(
        x < 2, ((x - 5) * x + 8) * x * -0.5 + 2.0, 0.0))),
    "lanczos": (3.0, lambda x: np.where(x < 3, np.sinc(x) * np.sinc(x / 3), 0.0)),
}


def _antialias_matrix(size: int, out: int, scale, mode: str, align_corners: bool
                      ) -> np.ndarray:
    """(out, size): torch's antialiasing kernel (``_compute_weights_aa``): when shrinking, the
    filter is stretched by the shrink factor, so each output pixel averages all the input
    pixels it covers; the weights are normalized to sum to 1."""
    if align_corners:
        ratio = np.float32((size - 1) / (out - 1) if out > 1 else 0.0)
    else:
        ratio = np.float32(1 / scale if scale else size / out)
    half, kernel = _AA_FILTERS[mode]
    support = np.float32(half * ratio if ratio >= 1 else half)
    stretch = np.float32(1 / ratio if ratio >= 1 else 1.0)
    matrix = np.zeros((out, size))
    for i in range(out):
        center = ratio * np.float32(i + 0.5)
        low = max(int(center - support + np.float32(0.5)), 0)
        high = min(int(center + support + np.float32(0.5)), size)
        weights = kernel(np.abs((np.arange(low, high) - center + 0.5) * stretch))
        total = weights.sum()
        matrix[i, low:high] = weights / total if total else weights
    return matrix


def _resize_matrix(size: int, out: int, scale, mode: str, align_corners: bool) -> np.ndarray:
    """(out, size): row i weighs the input positions torch's upsampling kernel reads for
    output position i. ``scale`` is the caller's scale factor, or None (then size / out)."""
    ratio = np.float32(1 / scale if scale else size / out)  # (torch's kernels: float)
    matrix = np.zeros((out, size))
    dst = np.arange(out)
    if mode in ("nearest", "nearest-exact"):
        offset = np.float32(0.5 if mode == "nearest-exact" else 0.0)
        src = np.minimum(np.floor((dst.astype(np.float32) + offset) * ratio), size - 1)
        matrix[dst, src.astype(int)] = 1.0
        return matrix
    if align_corners:
        src = dst * ((size - 1) / (out - 1) if out > 1 else 0.0)
    else:
        src = ratio * (dst + 0.5) - 0.5
    if mode == "bicubic":  # torch's: src is not clamped at 0, each of the 4 taps is
        low = np.minimum(np.floor(src), size - 1)
        for j, w in enumerate(_cubic_weights(np.clip(src - low, 0.0, 1.0))):
            np.add.at(matrix, (dst, np.clip(low + j - 1, 0, size - 1).astype(int)), w)
        return matrix
    src = np.maximum(src, 0.0)
    low = src.astype(int)
    high = np.where(low < size - 1, low + 1, low)
    weight = np.clip(src - low, 0.0, 1.0)
    np.add.at(matrix, (dst, low), 1.0 - weight)
    np.add.at(matrix, (dst, high), weight)
    return matrix


def _interpolate(x, *, sizes: tuple, scales: tuple, mode: str, align_corners: bool,
                 antialias: bool = False):
    resize = _antialias_matrix if antialias else _resize_matrix
    for k, (out, scale) in enumerate(zip(sizes, scales)):
        axis = x.ndim - len(sizes) + k
        matrix = resize(x.shape[axis], out, scale, mode, align_corners)
        x = jnp.moveaxis(jnp.tensordot(x, matrix.astype(x.dtype), ((axis,), (1,))), -1, axis)
    return x


_UPSAMPLE_NAMES = {"nearest": "Nearest", "nearest-exact": "NearestExact", "linear": "Linear",
                   "bilinear": "Bilinear", "bicubic": "Bicubic", "trilinear": "Trilinear",
                   "lanczos": "Lanczos"}
INTERPOLATE = Op("interpolate", _interpolate, lambda x, sizes, mode, antialias=False, **_: (
    f"Upsample{_UPSAMPLE_NAMES[mode]}{len(sizes)}D{'Aa' if antialias else ''}Backward0"),
    saves=False)
# the interpolating modes and the number of spatial dimensions each needs
_INTERPOLATING = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3, "lanczos": 2}


def upsample(input, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None):
    """torch's deprecated name of ``interpolate``, with its warning."""
    _upsample_warning("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """torch's deprecated ``interpolate(mode='nearest')``, with its warning."""
    _upsample_warning("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """torch's deprecated ``interpolate(mode='bilinear', align_corners=True)``, with its
    warning."""
    _upsample_warning("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _upsample_warning(name: str) -> None:
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=3)


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False):
    """Resizes the spatial dimensions (all after the first two) of ``input`` to ``size``, or
    by ``scale_factor``, as torch's upsampling kernels do: modes 'nearest', 'nearest-exact',
    'linear' (3-D input), 'bilinear' and 'bicubic' (4-D), 'trilinear' (5-D) and 'area'
    (adaptive average pooling). ``antialias`` (4-D bilinear, bicubic, and 'lanczos', which
    needs it) filters as torch's antialiasing kernels do, so that shrinking averages every
    input pixel an output pixel covers.

    Raises:
        ValueError, NotImplementedError: torch's, for both or neither of ``size`` and
            ``scale_factor``, sizes for another number of dimensions, ``align_corners`` with
            a mode that does not interpolate, or a mode the input's dimensions do not fit.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.interpolate(funcgrad.tensor([[[1.0, 2.0]]]), scale_factor=2, mode="linear")
    tensor([[[1.0000, 1.2500, 1.7500, 2.0000]]])
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dims = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    given = size if size is not None else scale_factor
    if isinstance(given, (list, tuple)) and len(given) != dims:
        what, of, form = (("output", "output size of", "output size in (o1, o2, ...,oK)")
                          if size is not None else
                          ("scale_factor", "scale_factor of shape",
                           "scale_factor in (s1, s2, ...,sK)"))
        raise ValueError(
            f"Input and {what} must have the same number of spatial dimensions, but got input "
            f"with spatial dimensions of {list(input.shape[2:])} and {of} {given}. Please "
            f"provide input tensor in (N, C, d1, d2, ...,dK) format and {form} format.")
    given = tuple(given) if isinstance(given, (list, tuple)) else (given,) * dims
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    if mode == "lanczos" and input.ndim == 4:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    if size is not None:
        sizes, scales = tuple(int(n) for n in given), (None,) * dims
    else:
        sizes = tuple(int(n * f) for n, f in zip(input.shape[2:], given))
        # torch's kernels take the given factor, unless asked to recompute it from the sizes
        scales = (None,) * dims if recompute_scale_factor or mode == "area" else given
    if mode == "area" and 1 <= dims <= 3:
        pool = (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[dims - 1]
        return pool(input, sizes)
    needs = _INTERPOLATING.get(mode, dims)
    if mode not in _UPSAMPLE_NAMES or not 1 <= dims <= 3 or needs != dims:
        if mode in _INTERPOLATING and mode != "bicubic" and 1 <= dims <= 3:  # (torch's words)
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                      f"{needs + 2}D input")
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
            "the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
            f"nearest-exact (got {mode})")
    return apply(INTERPOLATE, input, sizes=sizes, scales=scales, mode=mode,
                 align_corners=bool(align_corners), antialias=bool(antialias))


def _pixel_shuffle(x, r):
    *lead, c, h, w = x.shape
    x = x.reshape(*lead, c // (r * r), r, r, h, w)
    n = len(lead)
    x = jnp.transpose(x, (*range(n), n, n + 3, n + 1, n + 4, n + 2))
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def _pixel_unshuffle(x, r):
    *lead, c, h, w = x.shape
    x = x.reshape(*lead, c, h // r, r, w // r, r)
    n = len(lead)
    x = jnp.transpose(x, (*range(n), n, n + 2, n + 4, n + 1, n + 3))
    return x.reshape(*lead, c * r * r, h // r, w // r)


def _channel_shuffle(x, groups):
    n, c, *rest = x.shape
    return x.reshape(n, groups, c // groups, *rest).swapaxes(1, 2).reshape(x.shape)


PIXEL_SHUFFLE = Op("pixel_shuffle", _pixel_shuffle, "PixelShuffleBackward0", saves=False)
PIXEL_UNSHUFFLE = Op("pixel_unshuffle", _pixel_unshuffle, "PixelUnshuffleBackward0", saves=False)
CHANNEL_SHUFFLE = Op("channel_shuffle", _channel_shuffle, "ChannelShuffleBackward0", saves=False)


def _check_shuffle(name: str, input, factor: int, what: str) -> None:
    """torch's checks shared by ``pixel_shuffle`` and ``pixel_unshuffle``."""
    if input.ndim < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input "
                           f"with {input.ndim} dimension(s)")
    if factor <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {factor}")


def pixel_shuffle(input, upscale_factor: int):
    """Rearranges (*, C * r * r, H, W) into (*, C, H * r, W * r), ``r`` the
    ``upscale_factor``: each channel's ``r * r`` block becomes an ``r`` by ``r`` patch.

    Raises:
        RuntimeError: torch's, for fewer than three dimensions, a factor that is not positive,
            or channels not divisible by its square.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.pixel_shuffle(funcgrad.arange(4.0).reshape(4, 1, 1), 2)
    tensor([[[0., 1.],
             [2., 3.]]])
    """
    r = int(upscale_factor)
    _check_shuffle("pixel_shuffle", input, r, "upscale_factor")
    if input.shape[-3] % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={input.shape[-3]} is not divisible "
            f"by {r * r}")
    return apply(PIXEL_SHUFFLE, input, r=r)


def pixel_unshuffle(input, downscale_factor: int):
    """Undoes ``pixel_shuffle``: (*, C, H * r, W * r) into (*, C * r * r, H, W).

    Raises:
        RuntimeError: torch's, for fewer than three dimensions, a factor that is not positive,
            or a height or width not divisible by it.
    """
    r = int(downscale_factor)
    _check_shuffle("pixel_unshuffle", input, r, "downscale_factor")
    for dim, what in ((-2, "height"), (-1, "width")):
        if input.shape[dim] % r:
            raise RuntimeError(
                f"pixel_unshuffle expects {what} to be divisible by downscale_factor, but "
                f"input.size({dim})={input.shape[dim]} is not divisible by {r}")
    return apply(PIXEL_UNSHUFFLE, input, r=r)


def channel_shuffle(input, groups: int):
    """Interleaves the channels (dimension 1) of ``groups`` groups: (N, g * k, *) seen as
    (N, g, k, *), transposed to (N, k, g, *).

    Raises:
        RuntimeError: torch's, for fewer than three dimensions, groups that are not positive
            or do not divide the channels.
    """
    groups = int(groups)
    if input.ndim <= 2:
        raise RuntimeError("channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError("Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    if input.shape[1] % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got "
                           f"{input.shape[1]} channels and {groups} groups.")
    return apply(CHANNEL_SHUFFLE, input, groups=groups)


# torch's kernel-level name, with the same checks; torch records no derivative for it, and
# this is channel_shuffle's, with one
native_channel_shuffle = channel_shuffle


def _im2col(x, *, kernel, dilation, padding, stride):
    """(N, C, H, W) or (C, H, W) to columns (N, C * kH * kW, L) or (C * kH * kW, L)."""
    patches = jax.lax.conv_general_dilated_patches(
        x.reshape(-1, *x.shape[-3:]), kernel, stride, [(p, p) for p in padding],
        rhs_dilation=dilation)
    return patches.reshape(*x.shape[:-3], patches.shape[1], -1)


def _col2im(x, *, size, kernel, dilation, padding, stride):
    # fold is unfold's transpose: each block's values are summed back where they came from
    image = jax.ShapeDtypeStruct((*x.shape[:-2], x.shape[-2] // math.prod(kernel), *size),
                                 x.dtype)
    unfold = functools.partial(_im2col, kernel=kernel, dilation=dilation, padding=padding,
                               stride=stride)
    return jax.linear_transpose(unfold, image)(x)[0]


IM2COL = Op("im2col", _im2col, "Im2ColBackward0", saves=False)
COL2IM = Op("col2im", _col2im, "Col2ImBackward0", saves=False)


def _block_args(kernel_size, dilation, padding, stride) -> dict:
    """``unfold``'s and ``fold``'s window arguments as pairs, checked as torch's ``im2col``
    and ``col2im`` check them."""
    args = {"kernel_size": kernel_size, "dilation": dilation, "padding": padding,
            "stride": stride}
    pairs = {}
    for name, value in args.items():
        value = _tuple(value, 2)
        if len(value) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(value)}")
        pairs[name] = value
    for name, low, rule in (("kernel_size", 1, "kernel size should be greater than zero"),
                            ("dilation", 1, "dilation should be greater than zero"),
                            ("padding", 0, "padding should be non-negative"),
                            ("stride", 1, "stride should be greater than zero")):
        height, width = pairs[name]
        if min(height, width) < low:
            word = {"kernel_size": "kernel", "padding": "pad"}.get(name, name)
            raise RuntimeError(f"{rule}, but got {word}_height: {height} {word}_width: {width}")
    return {"kernel": pairs["kernel_size"], "dilation": pairs["dilation"],
            "padding": pairs["padding"], "stride": pairs["stride"]}


def _blocks(size: tuple, kernel, dilation, padding, stride) -> tuple:
    """The number of sliding blocks along each spatial dimension (torch's ``div_rtn``)."""
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, d, p, s in zip(size, kernel, dilation, padding, stride))


def _pairs_text(args: dict) -> str:
    return ", ".join(f"{name}=({', '.join(map(str, args[key]))})" for name, key in (
        ("kernel_size", "kernel"), ("dilation", "dilation"), ("padding", "padding")))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding ``kernel_size`` blocks of a batch of images (N, C, H, W) or (C, H, W) as
    columns: (N, C * kH * kW, L), L the number of blocks (torch's ``im2col``).

    Raises:
        RuntimeError: torch's, for arguments of other than two values, windows, dilations,
            strides or paddings out of range, inputs not 3-D or 4-D, or no block that fits.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.unfold(funcgrad.ones(1, 2, 3, 3), 2).shape
    funcgrad.Size([1, 8, 4])
    """
    args = _block_args(kernel_size, dilation, padding, stride)
    for dim in (1, 2):
        if input.ndim <= dim:
            raise_dim_out_of_range(dim, input.ndim)
    if input.ndim not in (3, 4) or 0 in input.shape[-3:]:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and "
                           f"other non-zero dimensions for input, but got: {list(input.shape)}")
    blocks = _blocks(input.shape[-2:], **args)
    if min(blocks) < 1:
        raise RuntimeError(
            f"Given input with spatial size ({', '.join(map(str, input.shape[-2:]))}), "
            f"{_pairs_text(args)}, calculated shape of the array of sliding blocks as "
            f"({', '.join(map(str, blocks))}), but its components must be at least one.")
    return apply(IM2COL, input, **args)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums columns of sliding blocks (N, C * kH * kW, L) or (C * kH * kW, L) back into
    images of ``output_size``: the transpose of ``unfold`` (torch's ``col2im``).

    Raises:
        RuntimeError: torch's, for arguments of other than two values, windows, dilations,
            strides or paddings out of range, inputs not 2-D or 3-D, channels not a multiple
            of the window, or a number of blocks that is not the output's.
    """
    size = _tuple(output_size, 2)
    if len(size) != 2:
        raise RuntimeError(f"It is expected output_size equals to 2, but got size {len(size)}")
    args = _block_args(kernel_size, dilation, padding, stride)
    if input.ndim not in (2, 3) or 0 in input.shape[-2:]:
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           "batch size and non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    kernel = args["kernel"]
    if input.shape[-2] % math.prod(kernel):
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={input.shape[-2]} and "
            f"kernel_size=({kernel[0]}, {kernel[1]}).")
    blocks = _blocks(size, **args)
    given = (f"Given output_size=({size[0]}, {size[1]}), {_pairs_text(args)}, "
             f"stride=({', '.join(map(str, args['stride']))}), ")
    if input.shape[-1] != blocks[0] * blocks[1]:
        raise RuntimeError(
            f"{given}expected size of input's dimension 2 to match the calculated number of "
            f"sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got "
            f"input.size(2)={input.shape[-1]}.")
    if min(blocks) < 1:
        raise RuntimeError(f"{given}calculated shape of the array of sliding blocks as "
                           f"({blocks[0]}, {blocks[1]}), which is too small (non-positive)")
    return apply(COL2IM, input, size=size, **args)


def _base_grid(size: int, align_corners: bool) -> np.ndarray:
    """The normalized coordinates of ``size`` pixels' centres (of the corner pixels' centres
    at -1 and 1 with ``align_corners``, else of their outer edges)."""
    points = np.linspace(-1.0, 1.0, size) if size > 1 else np.zeros(1)
    return points if align_corners else points * (size - 1) / size


def _affine_grid(theta, *, size, align_corners):
    # (*size, n + 1): each output point's (x, y[, z], 1), x along the last dimension.
    axes = np.meshgrid(*(_base_grid(n, align_corners) for n in size), indexing="ij")
    base = np.stack([*reversed(axes), np.ones(size)], -1)
    return jnp.einsum("...k,njk->n...j", base.astype(theta.dtype), theta)


AFFINE_GRID = Op("affine_grid", _affine_grid, "AffineGridGeneratorBackward0")


def _warn_align_corners(align_corners) -> bool:
    if align_corners is None:
        warnings.warn(
            "Default grid_sample and affine_grid behavior has changed to align_corners=False "
            "since 1.3.0. Please specify align_corners=True if the old behavior is desired. See "
            "the documentation of grid_sample for details.", UserWarning, stacklevel=3)
    return bool(align_corners)


@autocast_policy(LOWER)
def affine_grid(theta, size, align_corners=None):
    """The sampling grid of the affine maps ``theta`` for outputs of ``size``: (N, H, W, 2)
    for 2-D maps (N, 2, 3) and a size (N, C, H, W), (N, D, H, W, 3) for 3-D ones (N, 3, 4) and
    a size (N, C, D, H, W). Each output point's normalized (x, y[, z]) position in the input,
    for ``grid_sample``.

    Raises:
        ValueError, NotImplementedError, RuntimeError: torch's, for ``theta`` of the wrong
            shape for ``size``, a size of neither four nor five values, or batch sizes that
            differ.
    """
    align_corners = _warn_align_corners(align_corners)
    size = tuple(int(n) for n in size)
    if len(size) not in (4, 5):
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
            f"respectively. Got size {size}.")
    dims = len(size) - 2
    if theta.ndim != 3 or tuple(theta.shape[-2:]) != (dims, dims + 1):
        raise ValueError(f"Expected a batch of {dims}D affine matrices of shape "
                         f"Nx{dims}x{dims + 1} for size {size}. Got {theta.shape}.")
    if min(size[2:]) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if align_corners and min(size[2:]) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
            "align_corners=True. This is not an intended use case of affine_grid. See the "
            "documentation of affine_grid for details.", UserWarning, stacklevel=2)
    if theta.shape[0] != size[0]:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{size[0]}, {dims + 1}] but got: [{theta.shape[0]}, {dims + 1}].")
    return apply(AFFINE_GRID, theta, size=size[2:], align_corners=align_corners)


def _reflect(coord, low2: int, high2: int):
    """torch's ``reflect_coordinates``: ``coord`` folded into [low2 / 2, high2 / 2]."""
    if low2 == high2:
        return jnp.zeros_like(coord)
    low, span = low2 / 2, (high2 - low2) / 2
    coord = jnp.abs(coord - low)
    extra, flips = jnp.fmod(coord, span), jnp.floor(coord / span)
    return jnp.where(flips % 2 == 0, extra + low, span - extra + low)


def _unnormalize(coord, size: int, align_corners: bool):
    """A normalized grid coordinate as a pixel coordinate."""
    return (coord + 1) / 2 * (size - 1) if align_corners else ((coord + 1) * size - 1) / 2


def _pad(coord, size: int, padding_mode: str, align_corners: bool):
    """A pixel coordinate moved inside as ``padding_mode`` asks (left as it is for 'zeros')."""
    if padding_mode == "reflection":
        coord = (_reflect(coord, 0, 2 * (size - 1)) if align_corners
                 else _reflect(coord, -1, 2 * size - 1))
    if padding_mode in ("border", "reflection"):
        coord = jnp.clip(coord, 0, size - 1)
    return coord


def _grid_sample(x, grid, *, mode, padding_mode, align_corners):
    sizes = x.shape[2:]
    # The grid's last axis has (x, y[, z]): the input's spatial dimensions from the last.
    coords = [_unnormalize(grid[..., len(sizes) - 1 - d], n, align_corners)
              for d, n in enumerate(sizes)]

    def pixels(index):  # (N, C, *out) at integer positions, per spatial dimension; zero outside
        inside = functools.reduce(jnp.logical_and, [(i >= 0) & (i < n)
                                                    for i, n in zip(index, sizes)])
        taken = jax.vmap(lambda image, *i: image[(slice(None), *i)])(
            x, *(jnp.clip(i, 0, n - 1).astype(jnp.int32) for i, n in zip(index, sizes)))
        return jnp.where(inside[:, None], taken, 0)

    if mode == "bicubic":  # 2-D: each of the 4 x 4 pixels around padded on its own
        (y, ys), (x_, xs) = ((jnp.floor(c), c) for c in coords)
        wy, wx = _cubic_weights(ys - y), _cubic_weights(xs - x_)
        rows = [sum(w[:, None] * pixels([_pad(y + i - 1, sizes[0], padding_mode, align_corners),
                                         _pad(x_ + j - 1, sizes[1], padding_mode, align_corners)])
                    for j, w in enumerate(wx)) for i in range(4)]
        return sum(w[:, None] * row for w, row in zip(wy, rows))
    coords = [_pad(c, n, padding_mode, align_corners) for c, n in zip(coords, sizes)]
    if mode == "nearest":  # (rounding half to even, as torch's nearbyint)
        return pixels([jnp.round(c) for c in coords])
    low = [jnp.floor(c) for c in coords]
    weights = [(c - f)[:, None] for c, f in zip(coords, low)]
    # torch's (n-)linear interpolation: corners in its order, each weight a product from x on
    return sum(functools.reduce(jnp.multiply, [w if up else 1 - w for w, up in
                                               reversed(list(zip(weights, corner)))])
               * pixels([f + up for f, up in zip(low, corner)])
               for corner in itertools.product((0, 1), repeat=len(sizes)))


GRID_SAMPLE = Op("grid_sample", _grid_sample,
                 lambda x, grid, **_: f"GridSampler{x.ndim - 2}DBackward0")


@autocast_policy(FP32)
def grid_sample(input, grid, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners=None):
    """Samples ``input`` (N, C, H, W) or (N, C, D, H, W) at the normalized (x, y[, z])
    positions of ``grid`` (N, Ho, Wo, 2) or (N, Do, Ho, Wo, 3), -1 and 1 the input's edges
    (its corner pixels' centres with ``align_corners``), by ``mode`` 'bilinear' (trilinear in
    3-D), 'nearest' or 'bicubic' (2-D); positions outside read zeros, the nearest border value,
    or the input reflected (``padding_mode``).

    Raises:
        ValueError, RuntimeError: torch's, for an unknown mode or padding mode, a grid whose
            batch or last dimension does not fit the input, an empty input, inputs of neither
            4 nor 5 dimensions, or bicubic in 3-D.
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    align_corners = _warn_align_corners(align_corners)
    shapes = f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got {shapes}")
    if grid.shape[-1] != input.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.ndim - 2} in last "
                           f"dimension, but got grid with sizes {list(grid.shape)}")
    for d in range(2, input.ndim):
        if input.shape[d] == 0:
            raise RuntimeError("grid_sampler(): expected input to have non-empty spatial "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {d} being empty")
    dims = 4 if input.ndim == 4 else 5
    if input.ndim != dims or grid.ndim != dims:
        raise RuntimeError(f"grid_sampler(): expected {dims}D input and grid with same number "
                           f"of dimensions, but got {shapes}")
    if mode == "bicubic" and dims == 5:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    return apply(GRID_SAMPLE, input, grid, mode=mode, padding_mode=padding_mode,
                 align_corners=align_corners)


Tensor.hardshrink = hardshrink
Tensor.prelu = prelu


def __getattr__(name: str):
    """``grad``: as torch's, this module's ``grad`` is the ``nn.grad`` module, found on first
    use (``nn.grad`` imports this module, so importing it here would be circular)."""
    if name == "grad":
        from . import grad

        return grad
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

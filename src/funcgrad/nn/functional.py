"""``funcgrad.nn.functional``: activations and losses, each one op with torch's ``grad_fn``
name, or a composition of table ops where torch composes too."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .. import _factories, _grad_mode, _ops
from .._graph import Op, apply
from .._ops import log_softmax, relu, sigmoid, softmax, tanh
from .._tensor import Tensor

__all__ = [
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "silu", "gelu", "softplus",
    "leaky_relu", "elu", "logsigmoid", "linear", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "mse_loss", "l1_loss", "nll_loss", "cross_entropy",
    "dropout", "embedding", "layer_norm", "conv1d", "conv2d", "max_pool2d", "avg_pool2d",
    "batch_norm",
]

_REDUCTIONS = ("none", "mean", "sum")


def _reduce(x, reduction: str):
    if reduction == "mean":
        return jnp.mean(x)
    if reduction == "sum":
        return jnp.sum(x)
    return x


def _check_reduction(reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction; use one of "
                         f"{', '.join(_REDUCTIONS)}")
    return reduction


SILU = Op("silu", jax.nn.silu, "SiluBackward0")
GELU = Op("gelu", lambda x, approximate: jax.nn.gelu(x, approximate=approximate == "tanh"),
          "GeluBackward0")
SOFTPLUS = Op("softplus", lambda x, beta, threshold: jnp.where(
    x * beta > threshold, x, jnp.log1p(jnp.exp(jnp.minimum(x * beta, threshold))) / beta),
    "SoftplusBackward0")
LEAKY_RELU = Op("leaky_relu", lambda x, slope: jnp.where(x > 0, x, x * slope),
                "LeakyReluBackward0")
ELU = Op("elu", lambda x, alpha: jnp.where(x > 0, x, alpha * jnp.expm1(jnp.minimum(x, 0))),
         "EluBackward0")
LOGSIGMOID = Op("logsigmoid", jax.nn.log_sigmoid, "LogSigmoidBackward0")


def _bce(p, t, w=None, reduction="mean"):
    # torch clamps each log at -100 so that p = 0 or 1 gives a finite loss.
    loss = -(t * jnp.maximum(jnp.log(p), -100) + (1 - t) * jnp.maximum(jnp.log(1 - p), -100))
    return _reduce(loss if w is None else loss * w, reduction)


def _bce_logits(x, t, w=None, pw=None, reduction="mean"):
    softplus_neg = jnp.log1p(jnp.exp(-jnp.abs(x))) + jnp.maximum(-x, 0)
    log_weight = 1 if pw is None else 1 + (pw - 1) * t
    loss = (1 - t) * x + log_weight * softplus_neg
    return _reduce(loss if w is None else loss * w, reduction)


def _mse(x, t, reduction="mean"):
    return _reduce(jnp.square(x - t), reduction)


def _nll(logp, target, w=None, ignore_index=-100, reduction="mean"):
    classes = logp.shape[1] if logp.ndim > 1 else logp.shape[0]
    if logp.ndim == 1:
        logp, target = logp[None], target[None]
    valid = target != ignore_index
    safe = jnp.where(valid, target, 0)
    picked = jnp.take_along_axis(logp, jnp.expand_dims(safe, 1), axis=1).squeeze(1)
    weight = jnp.ones(classes, logp.dtype) if w is None else w
    wt = jnp.where(valid, weight[safe], 0)
    loss = -picked * wt
    if reduction == "mean":
        return jnp.sum(loss) / jnp.sum(wt)
    return jnp.sum(loss) if reduction == "sum" else loss


BCE = Op("binary_cross_entropy", _bce, "BinaryCrossEntropyBackward0")
BCE_LOGITS = Op("binary_cross_entropy_with_logits", _bce_logits,
                "BinaryCrossEntropyWithLogitsBackward0")
MSE = Op("mse_loss", _mse, "MseLossBackward0")
NLL = Op("nll_loss", _nll, "NllLossBackward0")
# torch fuses the bias into one addmm (2-D input), or an addmm of the flattened input viewed back.
LINEAR = Op("linear", lambda x, w, b: jnp.matmul(x, w.T) + b,
            lambda x, w, b: "AddmmBackward0" if x.ndim == 2 else "ViewBackward0")
# Division by a number inside a torch kernel records DivBackward1 (Python's `/` records
# DivBackward0).
DIV_SCALAR = Op("div_scalar", jnp.true_divide, "DivBackward1")


def _embedding(weight, indices, padding_idx=None):
    rows = jnp.take(weight, indices, axis=0)
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


EMBEDDING = Op("embedding", _embedding, "EmbeddingBackward0")
LAYER_NORM = Op("layer_norm", _layer_norm, "NativeLayerNormBackward0")


def silu(input):
    """``x * sigmoid(x)``."""
    return apply(SILU, input)


def gelu(input, approximate: str = "none"):
    """Gaussian error linear unit (exact, or ``approximate='tanh'``)."""
    return apply(GELU, input, approximate=approximate)


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``."""
    return apply(SOFTPLUS, input, beta=beta, threshold=threshold)


def leaky_relu(input, negative_slope: float = 0.01):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    return apply(LEAKY_RELU, input, slope=negative_slope)


def elu(input, alpha: float = 1.0):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    return apply(ELU, input, alpha=alpha)


def logsigmoid(input):
    """``log(sigmoid(x))``, computed stably."""
    return apply(LOGSIGMOID, input)


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``."""
    if bias is None:
        return _ops.matmul(input, _ops.t(weight))
    return apply(LINEAR, input, weight, bias)


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean"):
    """BCE of probabilities ``input`` against ``target`` (logs clamped at -100, as in torch).

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.binary_cross_entropy(funcgrad.tensor([0.9]), funcgrad.tensor([1.0]))
    tensor(0.1054)
    """
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"Using a target size ({target.shape!r}) that is different to the input size "
            f"({input.shape!r}) is deprecated. Please ensure they have the same size."
        )
    return apply(BCE, input, target, weight, reduction=_check_reduction(reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",
                                     pos_weight=None):
    """BCE of ``sigmoid(input)`` against ``target``, computed stably from the logits."""
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"Target size ({target.shape!r}) must be the same as input size ({input.shape!r})"
        )
    return apply(BCE_LOGITS, input, target, weight, pos_weight,
                 reduction=_check_reduction(reduction))


def mse_loss(input, target, reduction: str = "mean"):
    """Mean squared error."""
    return apply(MSE, input, target, reduction=_check_reduction(reduction))


def l1_loss(input, target, reduction: str = "mean"):
    """Mean absolute error (composed as torch composes it: abs, then the reduction)."""
    loss = _ops.abs(input - target)
    reduction = _check_reduction(reduction)
    return loss if reduction == "none" else getattr(loss, reduction)()


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """Negative log-likelihood of class indices ``target`` under log-probabilities ``input``
    of shape ``(N, C)`` or ``(C,)``."""
    return apply(NLL, input, target, weight, ignore_index=ignore_index,
                 reduction=_check_reduction(reduction))


def cross_entropy(input, target, weight=None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0):
    """Cross-entropy of logits ``input`` (``(N, C)`` or ``(C,)``) against class indices or
    class probabilities ``target``.

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.cross_entropy(funcgrad.tensor([[0.0, 0.0]]), funcgrad.tensor([1]))
    tensor(0.6931)
    """
    reduction = _check_reduction(reduction)
    logp = log_softmax(input, dim=1 if input.ndim > 1 else 0)
    if jnp.issubdtype(target.dtype, jnp.floating):
        classes = input.shape[1] if input.ndim > 1 else input.shape[0]
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / classes
        w = 1 if weight is None else weight
        if reduction == "none":
            return -(logp * target * w).sum(1 if input.ndim > 1 else 0)
        total = -(logp * target * w).sum()
        return total if reduction == "sum" else apply(DIV_SCALAR, total, input.numel() // classes)
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    if not label_smoothing:
        return nll
    classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    w = 1 if weight is None else weight
    smooth = -(logp * w).sum(1 if input.ndim > 1 else 0)
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
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        noise = jnp.zeros(input.shape, input.dtype)
    else:
        keep = jax.random.bernoulli(_factories.next_key(), 1.0 - p, tuple(input.shape))
        noise = keep.astype(input.dtype) / (1.0 - p)
    # torch's CPU kernel multiplies by a scaled noise tensor too (grad_fn MulBackward0).
    return input.mul_(noise) if inplace else input * noise


def embedding(input, weight, padding_idx: int | None = None):
    """The rows of ``weight`` at the integer indices ``input``; row ``padding_idx`` (if given)
    receives no gradient.

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
    if not isinstance(indices, jax.core.Tracer) and indices.size and bool(
        (indices.min() < 0) | (indices.max() >= rows)
    ):
        raise IndexError("index out of range in self")
    return apply(EMBEDDING, weight, input, padding_idx=padding_idx)


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


def _tuple(value, n: int) -> tuple:
    """An int or a sequence of ints as an n-tuple (torch's ``_pair``, ``_single``)."""
    return tuple(value) if isinstance(value, (list, tuple)) else (int(value),) * n


def _conv(x, w, b, *, stride, padding, dilation, groups):
    n = w.ndim - 2
    spatial = "DHW"[-n:]
    out = jax.lax.conv_general_dilated(
        x, w, stride, padding if isinstance(padding, str) else [(p, p) for p in padding],
        rhs_dilation=dilation, feature_group_count=groups,
        dimension_numbers=("NC" + spatial, "OI" + spatial, "NC" + spatial))
    return out if b is None else out + b.reshape((1, -1) + (1,) * n)


CONV = Op("conv", _conv, "ConvolutionBackward0")


def _convolution(n: int, input, weight, bias, stride, padding, dilation, groups):
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(
            f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to conv{n}d, but got "
            f"input of size: {list(input.shape)}")
    if input.ndim == n + 1:  # a batch of one, as torch does it
        return _ops.squeeze(_convolution(n, input.unsqueeze(0), weight, bias, stride, padding,
                                         dilation, groups), 0)
    stride = _tuple(stride, n)
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"Invalid padding string '{padding}', should be one of "
                             "{'valid', 'same'}")
        if padding == "same" and any(s != 1 for s in stride):
            raise ValueError("padding='same' is not supported for strided convolutions")
        padding = padding.upper()
    else:
        padding = _tuple(padding, n)
    return apply(CONV, input, weight, bias, stride=stride, padding=padding,
                 dilation=_tuple(dilation, n), groups=int(groups))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation, as torch's) of ``input`` (N, C, L) or (C, L) with
    ``weight`` (out channels, C / groups, kernel); ``padding`` is an int or 'same'/'valid'."""
    return _convolution(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as torch's) of ``input`` (N, C, H, W) or (C, H, W)
    with ``weight`` (out channels, C / groups, kH, kW).

    >>> import funcgrad
    >>> import funcgrad.nn.functional as F
    >>> F.conv2d(funcgrad.ones(1, 1, 3, 3), funcgrad.ones(1, 1, 2, 2)).shape
    funcgrad.Size([1, 1, 2, 2])
    """
    return _convolution(2, input, weight, bias, stride, padding, dilation, groups)


def _pool(x, kernel, stride, padding, init, op):
    lead = x.ndim - len(kernel)
    return jax.lax.reduce_window(x, init, op, (1,) * lead + kernel, (1,) * lead + stride,
                                 [(0, 0)] * lead + [(p, p) for p in padding])


def _max_pool(x, kernel, stride, padding):
    return _pool(x, kernel, stride, padding, -jnp.inf, jax.lax.max)


def _avg_pool(x, kernel, stride, padding, count_include_pad):
    total = _pool(x, kernel, stride, padding, 0.0, jax.lax.add)
    if count_include_pad:
        return total / np.prod(kernel)
    return total / _pool(jnp.ones_like(x), kernel, stride, padding, 0.0, jax.lax.add)


MAX_POOL2D = Op("max_pool2d", _max_pool, "MaxPool2DWithIndicesBackward0")
AVG_POOL2D = Op("avg_pool2d", _avg_pool, "AvgPool2DBackward0")


def _pool_args(kernel_size, stride, padding, ceil_mode) -> dict:
    if ceil_mode:
        raise ValueError("funcgrad pools with ceil_mode=False only: pad the input instead")
    kernel = _tuple(kernel_size, 2)
    padding = _tuple(padding, 2)
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise RuntimeError("pad should be at most half of effective kernel size, but got "
                           f"pad={padding[0]}, kernel_size={kernel[0]} and dilation=1")
    return dict(kernel=kernel, stride=kernel if stride is None else _tuple(stride, 2),
                padding=padding)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The largest value of each ``kernel_size`` window (``stride`` defaults to it); the
    gradient goes to that value."""
    if _tuple(dilation, 2) != (1, 1) or return_indices:
        raise ValueError("funcgrad's max_pool2d has dilation=1 and return_indices=False only")
    return apply(MAX_POOL2D, input, **_pool_args(kernel_size, stride, padding, ceil_mode))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True):
    """The mean of each ``kernel_size`` window (``stride`` defaults to it); with
    ``count_include_pad=False`` padded positions do not count."""
    return apply(AVG_POOL2D, input, **_pool_args(kernel_size, stride, padding, ceil_mode),
                 count_include_pad=bool(count_include_pad))


def _batch_norm(x, w, b, mean, var, eps):
    """Normalizes over every axis but the channels (axis 1) with ``mean`` and ``var`` (the
    batch's, computed here, when None), then scales and shifts."""
    axes = (0, *range(2, x.ndim))
    if mean is None:
        mean, var = jnp.mean(x, axes), jnp.var(x, axes)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    out = (x - mean.reshape(shape)) * jax.lax.rsqrt(var.reshape(shape) + eps)
    if w is not None:
        out = out * w.reshape(shape)
    if b is not None:
        out = out + b.reshape(shape)
    return out


BATCH_NORM = Op("batch_norm", _batch_norm, "NativeBatchNormBackward0")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum: float = 0.1, eps: float = 1e-5):
    """Normalizes each channel (dimension 1): in training by the batch's mean and biased
    variance, updating ``running_mean`` and ``running_var`` (unbiased) in place by
    ``momentum``; otherwise by the running statistics."""
    if not training:
        return apply(BATCH_NORM, input, weight, bias, running_mean, running_var, eps)
    count = input.numel() // input.shape[1]
    if count <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {list(input.shape)}")
    if running_mean is not None:
        with _grad_mode.no_grad():
            axes = (0, *range(2, input.ndim))
            x = input.detach()
            running_mean.mul_(1 - momentum).add_(x.mean(axes) * momentum)
            running_var.mul_(1 - momentum).add_(x.var(axes) * momentum)
    return apply(BATCH_NORM, input, weight, bias, None, None, eps)

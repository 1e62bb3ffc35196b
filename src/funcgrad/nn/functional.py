"""``funcgrad.nn.functional``: activations and losses, each one op with torch's ``grad_fn``
name, or a composition of table ops where torch composes too."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .. import _factories, _ops
from .._graph import Op, apply
from .._ops import log_softmax, relu, sigmoid, softmax, tanh
from .._tensor import Tensor

__all__ = [
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "silu", "gelu", "softplus",
    "leaky_relu", "elu", "logsigmoid", "linear", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "mse_loss", "l1_loss", "nll_loss", "cross_entropy",
    "dropout", "embedding", "layer_norm",
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

"""torch's top-level spellings of ``nn.functional`` ops (``torch.conv2d``, ``torch.dropout``,
``torch.layer_norm``, ``torch.embedding``…), with the signatures torch gives them at that level,
which are ATen's: ``dropout(input, p, train)`` with every argument required, ``batch_norm`` with
the weight before the running statistics, ``embedding(weight, indices)``. Each is the
``nn.functional`` op underneath, so values, gradients and ``grad_fn`` names are the same.

>>> import funcgrad
>>> funcgrad.dropout(funcgrad.ones(3), 0.5, False)
tensor([1., 1., 1.])
"""

from __future__ import annotations

from . import _dtypes, _factories, _grad_mode
from ._autocast import FP32, autocast_policy
from ._graph import renamed
from ._tensor import Tensor
from .nn import functional as F
from .nn._rnn import functional_cell

conv1d = F.conv1d
conv2d = F.conv2d
conv3d = F.conv3d
conv_transpose1d = F.conv_transpose1d
conv_transpose2d = F.conv_transpose2d
conv_transpose3d = F.conv_transpose3d
bilinear = F.bilinear
cosine_similarity = F.cosine_similarity
pairwise_distance = F.pairwise_distance
pdist = F.pdist
pixel_shuffle = F.pixel_shuffle
pixel_unshuffle = F.pixel_unshuffle
channel_shuffle = F.channel_shuffle
hardshrink = F.hardshrink
relu_ = F.relu_
selu_ = F.selu_
celu_ = F.celu_
rrelu_ = F.rrelu_
threshold_ = F.threshold_
celu = F.celu
selu = F.selu
prelu = F.prelu
rrelu = F.rrelu
max_pool1d = F.max_pool1d
max_pool2d = F.max_pool2d
max_pool3d = F.max_pool3d
max_pool1d_with_indices = F.max_pool1d_with_indices
avg_pool1d = F.avg_pool1d
adaptive_avg_pool1d = F.adaptive_avg_pool1d
rms_norm = F.rms_norm


def threshold(input, threshold: float, value: float):
    """``value`` where ``input <= threshold``, else ``input``."""
    return F.threshold(input, threshold, value)


def dropout(input, p: float, train: bool):
    """``nn.functional.dropout`` (``train`` is its ``training``)."""
    return F.dropout(input, p, train)


def alpha_dropout(input, p: float, train: bool):
    """``nn.functional.alpha_dropout`` (``train`` is its ``training``)."""
    return F.alpha_dropout(input, p, train)


def feature_dropout(input, p: float, train: bool):
    """Dropout of whole channels (dimension 1) of an input of 2 or more dimensions."""
    return F._dropout(input, p, train, False, feature=True)


def feature_alpha_dropout(input, p: float, train: bool):
    """``nn.functional.feature_alpha_dropout`` (``train`` is its ``training``)."""
    return F.feature_alpha_dropout(input, p, train)


def dropout_(input, p: float, train: bool):
    """``dropout`` of ``input`` in place; returns ``input``."""
    return F.dropout(input, p, train, inplace=True)


def alpha_dropout_(input, p: float, train: bool):
    """``alpha_dropout`` of ``input`` in place; returns ``input``."""
    return F.alpha_dropout(input, p, train, inplace=True)


def feature_dropout_(input, p: float, train: bool):
    """``feature_dropout`` of ``input`` in place; returns ``input``."""
    return F._dropout(input, p, train, True, feature=True)


def feature_alpha_dropout_(input, p: float, train: bool):
    """``feature_alpha_dropout`` of ``input`` in place; returns ``input``."""
    return F.feature_alpha_dropout(input, p, train, inplace=True)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5,
               cudnn_enable: bool = True):
    """``nn.functional.layer_norm``; ``cudnn_enable`` is accepted and has no effect."""
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5,
               cudnn_enabled: bool = True):
    """``nn.functional.group_norm``; ``cudnn_enabled`` is accepted and has no effect."""
    return F.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training: bool,
               momentum: float, eps: float, cudnn_enabled: bool):
    """``nn.functional.batch_norm`` with ATen's order of arguments (affine parameters first)."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats: bool,
                  momentum: float, eps: float, cudnn_enabled: bool):
    """``nn.functional.instance_norm`` with ATen's order of arguments."""
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                           momentum, eps)


def embedding(weight, indices, padding_idx: int = -1, scale_grad_by_freq: bool = False,
              sparse: bool = False):
    """``nn.functional.embedding`` with ATen's order of arguments (the table first); a
    negative ``padding_idx`` means none."""
    return F.embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def native_layer_norm(input, normalized_shape, weight, bias, eps: float):
    """``layer_norm`` with the statistics it normalized by: ``(out, mean, rstd)``, the mean
    and ``1 / sqrt(var + eps)`` over the normalized dimensions, kept as size 1 (outside the
    graph, as torch's).

    >>> import funcgrad
    >>> out, mean, rstd = funcgrad.native_layer_norm(funcgrad.ones(2, 3), (3,), None, None,
    ...                                              1e-5)
    >>> mean.shape
    funcgrad.Size([2, 1])
    """
    out = F.layer_norm(input, normalized_shape, weight, bias, eps)
    ndim = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
    axes = tuple(range(input.ndim - ndim, input.ndim))
    with _grad_mode.no_grad():
        mean = input.mean(axes, keepdim=True)
        rstd = input.var(axes, correction=0, keepdim=True).add(eps).rsqrt()
    return out, mean, rstd


def native_batch_norm(input, weight, bias, running_mean, running_var, training: bool,
                      momentum: float, eps: float):
    """``batch_norm`` (running statistics updated in place when ``training``) with the
    statistics it normalized by: ``(out, save_mean, save_invstd)``, in training the batch's
    mean and ``1 / sqrt(var + eps)`` per channel, in evaluation empty; outside the graph and
    of the running statistics' dtype (float32 for a half-precision input), as torch's.

    >>> import funcgrad
    >>> out, mean, invstd = funcgrad.native_batch_norm(
    ...     funcgrad.tensor([[1.0], [3.0]]), None, None, None, None, True, 0.1, 0.0)
    >>> mean, invstd
    (tensor([2.]), tensor([1.]))
    """
    out = F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    dtype = input.dtype if running_mean is None else running_mean.dtype
    if not training:
        return out, _factories.empty(0, dtype=dtype), _factories.empty(0, dtype=dtype)
    axes = (0, *range(2, input.ndim))
    with _grad_mode.no_grad():
        x = input.to(dtype)
        return out, x.mean(axes), x.var(axes, correction=0).add(eps).rsqrt()


def native_group_norm(input, weight, bias, N: int, C: int, HxW: int, group: int, eps: float):
    """``group_norm`` of ``input`` read as ``(N, C, HxW)``, with the statistics it normalized
    by: ``(out, mean, rstd)``, the mean and ``1 / sqrt(var + eps)`` of each sample's group,
    ``(N, group)``, through which gradients flow too, as torch's.

    Raises:
        RuntimeError: torch's, when ``input`` does not have ``N * C * HxW`` elements.

    >>> import funcgrad
    >>> out, mean, rstd = funcgrad.native_group_norm(funcgrad.ones(2, 4, 3), None, None,
    ...                                              2, 4, 3, 2, 1e-5)
    >>> mean.shape
    funcgrad.Size([2, 2])
    """
    if input.numel() != N * C * HxW:
        raise RuntimeError("Expected X.numel() == N * C * HxW to be true, but got false.  "
                           "(Could this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")
    x = input.reshape(N, C, HxW) if tuple(input.shape[:2]) != (N, C) else input
    out = F.group_norm(x, group, weight, bias, eps).reshape(input.shape)
    grouped = input.reshape(N, group, -1)
    mean = grouped.mean(-1)
    rstd = grouped.var(-1, correction=0).add(eps).rsqrt()
    return tuple(renamed(t, "NativeGroupNormBackward0") for t in (out, mean, rstd))


def native_dropout(input, p: float, train: bool | None):
    """``dropout`` with its mask: ``(out, mask)``, ``mask`` True where an element was kept.
    ``train`` None drops as True does; False keeps every element (``out`` a copy).

    Raises:
        RuntimeError: torch's, for ``p`` outside ``[0, 1]`` in training, or an input not of
            floating point.

    >>> import funcgrad
    >>> funcgrad.native_dropout(funcgrad.ones(2), 0.5, False)
    (tensor([1., 1.]), tensor([True, True]))
    """
    if input.numel() == 0:
        return input, _factories.empty_like(input)
    if train is False:
        return (renamed(input.clone(), "NativeDropoutBackward0"),
                _factories.ones_like(input, dtype=_dtypes.bool))
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={1 - p}")
    if not _dtypes.is_floating(input.dtype):
        raise RuntimeError("result type Float can't be cast to the desired output type "
                           f"{_dtypes.scalar_name(input.dtype)}")
    noise = F._dropout_noise(p, tuple(input.shape), input.dtype)
    return renamed(input * noise, "NativeDropoutBackward0"), Tensor._wrap(noise != 0)


def _check_lstm_states(hx) -> tuple:
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    return tuple(hx)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One step of ``nn.LSTMCell`` with the given weights on a batch ``input`` (N, input
    size) from ``hx = (h, c)``; returns ``(h', c')``.

    Raises:
        RuntimeError: torch's, for weights, input or states whose sizes do not agree.
    """
    both = functional_cell("LSTM", input, _check_lstm_states(hx), w_ih, w_hh, b_ih, b_hh)
    return both[0], both[1]


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One step of ``nn.GRUCell`` with the given weights on a batch ``input`` from ``hx``.

    Raises:
        RuntimeError: torch's, for weights, input or state whose sizes do not agree.
    """
    return functional_cell("GRU", input, (hx,), w_ih, w_hh, b_ih, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One step of ``nn.RNNCell`` (tanh) with the given weights on a batch ``input``.

    Raises:
        RuntimeError: torch's, for weights, input or state whose sizes do not agree.

    >>> import funcgrad
    >>> funcgrad.rnn_tanh_cell(funcgrad.ones(1, 2), funcgrad.zeros(1, 1),
    ...                        funcgrad.ones(1, 2), funcgrad.ones(1, 1))
    tensor([[0.9640]])
    """
    return functional_cell("RNN_TANH", input, (hx,), w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One step of ``nn.RNNCell`` (relu) with the given weights on a batch ``input``.

    Raises:
        RuntimeError: torch's, for weights, input or state whose sizes do not agree.
    """
    return functional_cell("RNN_RELU", input, (hx,), w_ih, w_hh, b_ih, b_hh)


def convolution(input, weight, bias, stride, padding, dilation, transposed: bool,
                output_padding, groups: int):
    """The convolution, or with ``transposed`` the transposed one, of as many spatial
    dimensions as ``weight`` has beyond two (``conv2d``, ``conv_transpose3d``…);
    ``output_padding`` is read only when ``transposed``.

    Raises:
        RuntimeError: torch's, for a weight of fewer than 3 dimensions or an input of
            another number of dimensions than the weight (no unbatched input, unlike
            ``conv2d``'s).

    >>> import funcgrad
    >>> funcgrad.convolution(funcgrad.ones(1, 1, 4), funcgrad.ones(1, 1, 2), None, [1], [0],
    ...                      [1], False, [0], 1)
    tensor([[[2., 2., 2.]]])
    """
    if weight.ndim < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if input.ndim != weight.ndim:
        raise RuntimeError(
            f"Expected {weight.ndim}-dimensional input for {weight.ndim}-dimensional weight "
            f"{list(weight.shape)}, but got {input.ndim}-dimensional input of size "
            f"{list(input.shape)} instead")
    n = weight.ndim - 2
    if transposed:
        return getattr(F, f"conv_transpose{n}d")(input, weight, bias, stride, padding,
                                                  output_padding, groups, dilation)
    return getattr(F, f"conv{n}d")(input, weight, bias, stride, padding, dilation, groups)


def adaptive_max_pool1d(input, output_size):
    """``nn.functional.adaptive_max_pool1d`` with its indices, which ATen's always returns."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def constant_pad_nd(input, pad, value: float = 0):
    """``nn.functional.pad`` with a constant."""
    return F.pad(input, pad, value=value)


# ATen's losses take the reduction as a number: its index here.
_REDUCTIONS = ("none", "mean", "sum")


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None,
                                     reduction: int = 1):
    """``nn.functional.binary_cross_entropy_with_logits``, ``reduction`` a number."""
    return F.binary_cross_entropy_with_logits(input, target, weight, reduction=_REDUCTIONS[
        reduction], pos_weight=pos_weight)


@autocast_policy(FP32)
def kl_div(input, target, reduction: int = 1, *, log_target: bool = False):
    """``nn.functional.kl_div``, ``reduction`` a number (ATen's has no warning of 'mean')."""
    return F._pointwise_kl_div(input, target, _REDUCTIONS[reduction], log_target)


def margin_ranking_loss(input1, input2, target, margin: float = 0.0, reduction: int = 1):
    """``nn.functional.margin_ranking_loss``, ``reduction`` a number."""
    return F.margin_ranking_loss(input1, input2, target, margin,
                                 reduction=_REDUCTIONS[reduction])


def hinge_embedding_loss(input, target, margin: float = 1.0, reduction: int = 1):
    """``nn.functional.hinge_embedding_loss``, ``reduction`` a number."""
    return F.hinge_embedding_loss(input, target, margin, reduction=_REDUCTIONS[reduction])


def cosine_embedding_loss(input1, input2, target, margin: float = 0.0, reduction: int = 1):
    """``nn.functional.cosine_embedding_loss``, ``reduction`` a number."""
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_REDUCTIONS[reduction])


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, reduction: int = 1):
    """``nn.functional.triplet_margin_loss``, ``reduction`` a number."""
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_REDUCTIONS[reduction])


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank: int = 0,
             reduction: int = 1, zero_infinity: bool = False):
    """``nn.functional.ctc_loss``, ``reduction`` a number."""
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                      _REDUCTIONS[reduction], zero_infinity)


def poisson_nll_loss(input, target, log_input: bool, full: bool, eps: float, reduction: int):
    """``nn.functional.poisson_nll_loss``, every argument given, ``reduction`` a number."""
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_REDUCTIONS[reduction])

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

from ._autocast import FP32, autocast_policy
from .nn import functional as F

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


def poisson_nll_loss(input, target, log_input: bool, full: bool, eps: float, reduction: int):
    """``nn.functional.poisson_nll_loss``, every argument given, ``reduction`` a number."""
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_REDUCTIONS[reduction])

"""Bad input to ``funcgrad.nn`` and ``funcgrad.linalg`` raises torch's errors, and changes
nothing.

As in tests/test_errors.py: where torch has the error, the same code runs on both libraries and
funcgrad's exception must have torch's type and, word for word, torch's message (with
``torch`` read as ``funcgrad``). No bad input may give a result where torch gives an error, and a
call that raises leaves every module buffer, running statistic and ``.grad`` as it was. Then
the results these checks came with: ``F.one_hot``, and the inputs whose results were wrong.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch, assert_unchanged, assert_warns_as_torch, snapshot


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def F(lib):
    return lib.nn.functional


def idx(lib, values):
    """Class indices as each library has torch's int64 (funcgrad's int32, without x64)."""
    return lib.tensor(values, dtype=lib.int32 if lib is funcgrad else lib.int64)


# ----- convolutions ----------------------------------------------------------------------------
CONV_ERRORS = {
    "weight_3d_for_conv2d": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3)),
    "weight_5d_for_conv2d": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3, 3, 3)),
    "weight_4d_for_conv1d": lambda T: F(T).conv1d(T.ones(1, 3, 8), T.ones(4, 3, 3, 3)),
    "weight_2d": lambda T: F(T).conv1d(T.ones(1, 3, 8), T.ones(4, 3)),
    "weight_3d_unbatched": lambda T: F(T).conv2d(T.ones(3, 8, 8), T.ones(4, 3, 3)),
    "weight_3d_same": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3), padding="same"),
    "weight_3d_valid": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3),
                                             padding="valid"),
    "channels": lambda T: F(T).conv2d(T.ones(1, 2, 8, 8), T.ones(4, 3, 3, 3)),
    "channels_unbatched": lambda T: F(T).conv2d(T.ones(2, 8, 8), T.ones(4, 3, 3, 3)),
    "channels_conv1d": lambda T: F(T).conv1d(T.ones(1, 2, 8), T.ones(4, 3, 3)),
    "channels_groups": lambda T: F(T).conv2d(T.ones(1, 4, 8, 8), T.ones(4, 3, 3, 3), groups=2),
    "channels_same": lambda T: F(T).conv2d(T.ones(1, 2, 8, 8), T.ones(4, 3, 3, 3),
                                           padding="same"),
    "out_channels_groups": lambda T: F(T).conv2d(T.ones(1, 6, 8, 8), T.ones(5, 3, 3, 3),
                                                 groups=2),
    "fewer_out_channels_than_groups": lambda T: F(T).conv2d(T.ones(1, 6, 8, 8),
                                                            T.ones(1, 3, 3, 3), groups=2),
    "groups_zero": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3, 3), groups=0),
    "bias_size": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3, 3), T.ones(3)),
    "bias_2d": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3, 3), T.ones(4, 1)),
    "kernel_larger_than_input": lambda T: F(T).conv2d(T.ones(1, 3, 2, 2), T.ones(4, 3, 3, 3)),
    "kernel_larger_padded": lambda T: F(T).conv2d(T.ones(1, 3, 2, 2), T.ones(4, 3, 5, 5),
                                                  padding=1),
    "kernel_larger_dilated": lambda T: F(T).conv2d(T.ones(1, 3, 4, 4), T.ones(4, 3, 3, 3),
                                                   dilation=2),
    "kernel_larger_conv1d": lambda T: F(T).conv1d(T.ones(1, 3, 2), T.ones(4, 3, 3)),
    "kernel_larger_unbatched": lambda T: F(T).conv2d(T.ones(3, 2, 2), T.ones(4, 3, 3, 3)),
    "kernel_larger_valid": lambda T: F(T).conv2d(T.ones(1, 3, 2, 2), T.ones(4, 3, 3, 3),
                                                 padding="valid"),
    "kernel_empty": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 0, 3)),
    "kernel_empty_conv1d": lambda T: F(T).conv1d(T.ones(1, 3, 8), T.ones(4, 3, 0)),
    "input_empty": lambda T: F(T).conv2d(T.ones(1, 3, 0, 8), T.ones(4, 3, 3, 3), padding=2),
    "stride_zero": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3, 3), stride=0),
    "stride_negative": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3, 3), stride=-1),
    "stride_length": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3, 3),
                                           stride=(1, 1, 1)),
    "padding_negative": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3, 3),
                                              padding=-1),
    "padding_length": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3, 3),
                                            padding=(1, 1, 1)),
    "dilation_zero": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3, 3), dilation=0),
    "dilation_negative": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3, 3),
                                               dilation=-1),
    "dilation_length": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3, 3),
                                             dilation=(1, 1, 1)),
    "padding_string": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3, 3),
                                            padding="full"),
    "same_strided": lambda T: F(T).conv2d(T.ones(1, 3, 8, 8), T.ones(4, 3, 3, 3),
                                          padding="same", stride=2),
    "same_stride_length": lambda T: F(T).conv1d(T.ones(1, 3, 8), T.ones(4, 3, 3),
                                                padding="same", stride=(1, 1)),
}


# ----- pools -----------------------------------------------------------------------------------
POOL_ERRORS = {
    "max_output_empty": lambda T: F(T).max_pool2d(T.ones(1, 3, 2, 2), 3),
    "max_output_empty_unbatched": lambda T: F(T).max_pool2d(T.ones(3, 2, 2), 3),
    "max_output_empty_height": lambda T: F(T).max_pool2d(T.ones(1, 3, 2, 8), 3),
    "avg_output_empty": lambda T: F(T).avg_pool2d(T.ones(1, 3, 2, 2), 3),
    "avg_output_empty_unbatched": lambda T: F(T).avg_pool2d(T.ones(3, 2, 2), 3),
    "max_padding_width": lambda T: F(T).max_pool2d(T.ones(1, 3, 8, 8), (3, 5), padding=(1, 3)),
    "avg_padding_width": lambda T: F(T).avg_pool2d(T.ones(1, 3, 8, 8), (4, 2), padding=(0, 2)),
    "max_padding_negative": lambda T: F(T).max_pool2d(T.ones(1, 3, 8, 8), 2, padding=-1),
    "avg_padding_negative": lambda T: F(T).avg_pool2d(T.ones(1, 3, 8, 8), 2, padding=-1),
    "max_2d_input": lambda T: F(T).max_pool2d(T.ones(8, 8), 3),
    "max_5d_input": lambda T: F(T).max_pool2d(T.ones(1, 1, 1, 8, 8), 3),
    "avg_2d_input": lambda T: F(T).avg_pool2d(T.ones(8, 8), 3),
    "avg_0d_input": lambda T: F(T).avg_pool2d(T.tensor(1.0), 3),
    "avg_5d_input": lambda T: F(T).avg_pool2d(T.ones(1, 1, 1, 8, 8), 3),
    "max_no_channels": lambda T: F(T).max_pool2d(T.ones(1, 0, 8, 8), 2),
    "max_stride_zero": lambda T: F(T).max_pool2d(T.ones(1, 3, 8, 8), 3, stride=0),
    "avg_stride_negative": lambda T: F(T).avg_pool2d(T.ones(1, 3, 8, 8), 2, stride=-1),
    "max_kernel_zero": lambda T: F(T).max_pool2d(T.ones(1, 3, 8, 8), 0, stride=1),
    "max_kernel_length": lambda T: F(T).max_pool2d(T.ones(1, 3, 8, 8), (2, 2, 2)),
    "avg_stride_length": lambda T: F(T).avg_pool2d(T.ones(1, 3, 8, 8), 2, stride=(1, 1, 1)),
    "max_padding_length": lambda T: F(T).max_pool2d(T.ones(1, 3, 8, 8), 2, padding=(1, 1, 1)),
    "max_bool": lambda T: F(T).max_pool2d(T.ones(1, 3, 8, 8, dtype=T.bool), 2),
    "avg_bool": lambda T: F(T).avg_pool2d(T.ones(1, 3, 8, 8, dtype=T.bool), 2),
    "avg_int16": lambda T: F(T).avg_pool2d(T.ones(1, 3, 8, 8, dtype=T.int16), 2),
}


# ----- batch_norm, linear, losses, one_hot -----------------------------------------------------
NN_ERRORS = {
    "batch_norm_module_features": lambda T: T.nn.BatchNorm1d(3)(T.ones(4, 5)),
    "batch_norm_module_features_eval": lambda T: T.nn.BatchNorm1d(3).eval()(T.ones(4, 5)),
    "batch_norm_module_one_value": lambda T: T.nn.BatchNorm1d(3)(T.ones(1, 3)),
    "batch_norm_running_mean": lambda T: F(T).batch_norm(T.ones(4, 5), T.ones(3), T.ones(3)),
    "batch_norm_running_mean_training": lambda T: F(T).batch_norm(
        T.ones(4, 5), T.ones(3), T.ones(3), training=True),
    "batch_norm_running_var": lambda T: F(T).batch_norm(T.ones(4, 3), T.ones(3), T.ones(5)),
    "batch_norm_weight": lambda T: F(T).batch_norm(T.ones(4, 3), T.ones(3), T.ones(3),
                                                   T.ones(2)),
    "batch_norm_bias": lambda T: F(T).batch_norm(T.ones(4, 3), T.ones(3), T.ones(3), T.ones(3),
                                                 T.ones(2)),
    "batch_norm_1d_input": lambda T: F(T).batch_norm(T.ones(3), T.ones(3), T.ones(3)),
    "batch_norm_eval_without_mean": lambda T: F(T).batch_norm(T.ones(4, 3), None, None),
    "batch_norm_eval_without_var": lambda T: F(T).batch_norm(T.ones(4, 3), T.ones(3), None),
    "batch_norm_training_without_var": lambda T: F(T).batch_norm(
        T.ones(4, 3), T.ones(3), None, training=True),
    "batch_norm_one_value": lambda T: F(T).batch_norm(T.ones(1, 3, 1), T.ones(3), T.ones(3),
                                                      training=True),
    "batch_norm_int": lambda T: F(T).batch_norm(T.ones(4, 3, dtype=T.int32), T.ones(3),
                                                T.ones(3)),
    "Linear": lambda T: T.nn.Linear(3, 2)(T.ones(4, 5)),
    "linear_bias": lambda T: F(T).linear(T.ones(4, 5), T.ones(2, 3), T.ones(2)),
    "linear_bias_3d": lambda T: F(T).linear(T.ones(2, 4, 5), T.ones(2, 3), T.ones(2)),
    "linear_bias_1d": lambda T: F(T).linear(T.ones(5), T.ones(2, 3), T.ones(2)),
    "linear_0d": lambda T: F(T).linear(T.tensor(1.0), T.ones(2, 3), T.ones(2)),
    "linear_0d_weight": lambda T: F(T).linear(T.ones(4, 3), T.tensor(1.0)),
    "linear_1d_weight_bias": lambda T: F(T).linear(T.ones(4, 3), T.ones(3), T.ones(1)),
    "linear_3d_weight_bias": lambda T: F(T).linear(T.ones(4, 3), T.ones(2, 2, 3), T.ones(2)),
    "linear_bias_size": lambda T: F(T).linear(T.ones(4, 3), T.ones(2, 3), T.ones(3)),
    "linear_bias_size_3d": lambda T: F(T).linear(T.ones(2, 4, 3), T.ones(2, 3), T.ones(3)),
    "linear_bias_3d_for_2d": lambda T: F(T).linear(T.ones(4, 3), T.ones(2, 3), T.ones(3, 4, 2)),
    "linear_bias_2d_for_1d": lambda T: F(T).linear(T.ones(3), T.ones(2, 3), T.ones(4, 2)),
    "linear_bias_2d_for_3d": lambda T: F(T).linear(T.ones(2, 4, 3), T.ones(2, 3), T.ones(3, 2)),
    "cross_entropy_float_target": lambda T: F(T).cross_entropy(T.ones(4, 3), T.ones(4)),
    "cross_entropy_float_target_2d": lambda T: F(T).cross_entropy(T.ones(4, 3), T.ones(4, 2)),
    "cross_entropy_float_target_batch": lambda T: F(T).cross_entropy(T.ones(4, 3),
                                                                     T.ones(3, 3)),
    "cross_entropy_float_target_spatial": lambda T: F(T).cross_entropy(T.ones(4, 3, 5),
                                                                       T.ones(4, 3)),
    "cross_entropy_batch": lambda T: F(T).cross_entropy(T.ones(4, 3), idx(T, [0, 1, 2])),
    "cross_entropy_batch_smoothing": lambda T: F(T).cross_entropy(
        T.ones(4, 3), idx(T, [0, 1, 2]), label_smoothing=0.1),
    "cross_entropy_batch_2d_target": lambda T: F(T).cross_entropy(T.ones(4, 3),
                                                                  idx(T, [[0, 1, 2, 0]])),
    "cross_entropy_smoothing_above_1": lambda T: F(T).cross_entropy(
        T.ones(4, 3), idx(T, [0, 1, 2, 0]), label_smoothing=1.5),
    "cross_entropy_weight": lambda T: F(T).cross_entropy(T.ones(4, 3), idx(T, [0, 1, 2, 0]),
                                                         weight=T.ones(2)),
    "cross_entropy_probabilities_weight": lambda T: F(T).cross_entropy(
        T.ones(4, 3), T.ones(4, 3), weight=T.ones(2)),
    "cross_entropy_probabilities_ignore_index": lambda T: F(T).cross_entropy(
        T.ones(4, 3), T.ones(4, 3), ignore_index=0),
    "cross_entropy_probabilities_int": lambda T: F(T).cross_entropy(
        T.ones(4, 3), T.zeros(4, 3, dtype=T.int16)),
    "nll_loss_batch": lambda T: F(T).nll_loss(T.ones(4, 3), idx(T, [0, 1, 2])),
    "nll_loss_0d_target": lambda T: F(T).nll_loss(T.ones(4, 3), idx(T, 0)),
    "nll_loss_0d_input": lambda T: F(T).nll_loss(T.tensor(1.0), idx(T, [0])),
    "nll_loss_float_target": lambda T: F(T).nll_loss(T.ones(4, 3), T.ones(4)),
    "nll_loss_int16_target": lambda T: F(T).nll_loss(T.ones(4, 3), T.ones(4, dtype=T.int16)),
    "nll_loss_weight": lambda T: F(T).nll_loss(T.ones(4, 3), idx(T, [0, 1, 2, 0]),
                                               weight=T.ones(2)),
    "nll_loss_1d_target_size": lambda T: F(T).nll_loss(T.ones(3), idx(T, [0, 1])),
    "nll_loss_spatial_target": lambda T: F(T).nll_loss(T.ones(2, 3, 5), idx(T, [[0] * 4] * 2)),
    "nll_loss_spatial_weight": lambda T: F(T).nll_loss(T.ones(2, 3, 5), idx(T, [[0] * 5] * 2),
                                                       weight=T.ones(2)),
    "nll_loss_2d_spatial_target": lambda T: F(T).nll_loss(T.ones(2, 3, 4, 5),
                                                          idx(T, [[0] * 5] * 2)),
    "nll_loss_2d_spatial_size": lambda T: F(T).nll_loss(T.ones(2, 3, 4, 5),
                                                        idx(T, [[[0] * 4] * 4] * 2)),
    # JAX would give NaN for a class out of range; torch reads the targets and raises.
    "nll_loss_target_out_of_range": lambda T: F(T).nll_loss(T.ones(2, 3), idx(T, [0, 3])),
    "nll_loss_target_negative": lambda T: F(T).nll_loss(T.ones(2, 3), idx(T, [-1, 0])),
    "nll_loss_spatial_target_out_of_range": lambda T: F(T).nll_loss(
        T.ones(2, 3, 4), idx(T, [[0, 0, 0, 0], [0, 5, 0, 0]])),
    "cross_entropy_target_out_of_range": lambda T: F(T).cross_entropy(T.ones(2, 3),
                                                                      idx(T, [7, 0])),
    "embedding_out_of_range": lambda T: F(T).embedding(idx(T, [0, 4]), T.ones(4, 2)),
    "one_hot_negative": lambda T: F(T).one_hot(idx(T, [0, -1])),
    "one_hot_too_large": lambda T: F(T).one_hot(idx(T, [0, 3]), 3),
    "one_hot_no_classes": lambda T: F(T).one_hot(idx(T, [0]), 0),
    "one_hot_float": lambda T: F(T).one_hot(T.tensor([0.0, 1.0])),
    "one_hot_int16": lambda T: F(T).one_hot(T.tensor([0, 1], dtype=T.int16)),
    "one_hot_empty": lambda T: F(T).one_hot(idx(T, [])),
}


# ----- shuffles, bilinear, margin losses -------------------------------------------------------
MORE_NN_ERRORS = {
    "conv3d_4d_weight": lambda T: F(T).conv3d(T.ones(1, 2, 4, 4, 4), T.ones(3, 2, 2, 2)),
    "conv3d_channels": lambda T: F(T).conv3d(T.ones(1, 3, 4, 4, 4), T.ones(3, 2, 2, 2, 2)),
    "conv3d_3d_input": lambda T: F(T).conv3d(T.ones(2, 4, 4), T.ones(3, 2, 2, 2, 2)),
    "conv3d_kernel_larger": lambda T: F(T).conv3d(T.ones(1, 2, 4, 1, 4), T.ones(3, 2, 2, 2, 2)),
    "pixel_shuffle_channels": lambda T: F(T).pixel_shuffle(T.ones(2, 8, 3, 3), 3),
    "pixel_shuffle_2d": lambda T: F(T).pixel_shuffle(T.ones(8, 3), 2),
    "pixel_shuffle_factor_zero": lambda T: F(T).pixel_shuffle(T.ones(2, 8, 3, 3), 0),
    "pixel_unshuffle_height": lambda T: F(T).pixel_unshuffle(T.ones(2, 8, 3, 4), 2),
    "pixel_unshuffle_width": lambda T: F(T).pixel_unshuffle(T.ones(2, 8, 4, 3), 2),
    "pixel_unshuffle_2d": lambda T: F(T).pixel_unshuffle(T.ones(8, 3), 2),
    "pixel_unshuffle_factor_negative": lambda T: F(T).pixel_unshuffle(T.ones(2, 8, 4, 4), -2),
    "channel_shuffle_groups": lambda T: F(T).channel_shuffle(T.ones(2, 8, 3), 3),
    "channel_shuffle_groups_zero": lambda T: F(T).channel_shuffle(T.ones(2, 8, 3), 0),
    "channel_shuffle_2d": lambda T: F(T).channel_shuffle(T.ones(2, 8), 2),
    "bilinear_batch": lambda T: F(T).bilinear(T.ones(2, 3), T.ones(3, 4), T.ones(5, 3, 4)),
    "bilinear_input1": lambda T: F(T).bilinear(T.ones(2, 3), T.ones(2, 4), T.ones(5, 2, 4)),
    "bilinear_input2": lambda T: F(T).bilinear(T.ones(2, 3), T.ones(2, 4), T.ones(5, 3, 3)),
    "bilinear_bias": lambda T: F(T).bilinear(T.ones(2, 3), T.ones(2, 4), T.ones(5, 3, 4),
                                             T.ones(4)),
    "bilinear_2d_weight": lambda T: F(T).bilinear(T.ones(2, 3), T.ones(2, 4), T.ones(5, 3)),
    "bilinear_module_features": lambda T: T.nn.Bilinear(3, 4, 5)(T.ones(2, 4), T.ones(2, 4)),
    "hinge_embedding_reduction": lambda T: F(T).hinge_embedding_loss(T.ones(3), T.ones(3),
                                                                     reduction="all"),
    "multilabel_soft_margin_size": lambda T: F(T).multilabel_soft_margin_loss(T.ones(4, 5),
                                                                              T.ones(4, 3)),
    "triplet_margin_dims": lambda T: F(T).triplet_margin_loss(T.ones(4, 5), T.ones(4, 5),
                                                              T.ones(5)),
    "triplet_margin_negative": lambda T: F(T).triplet_margin_loss(
        T.ones(4, 5), T.ones(4, 5), T.ones(4, 5), margin=-1.0),
    "multi_margin_p": lambda T: F(T).multi_margin_loss(T.ones(4, 5), idx(T, [0, 1, 2, 3]), p=3),
    "multi_margin_module_p": lambda T: T.nn.MultiMarginLoss(p=3),
    "multi_margin_module_weight": lambda T: T.nn.MultiMarginLoss(weight=T.ones(2, 2)),
    "multi_margin_target_size": lambda T: F(T).multi_margin_loss(T.ones(4, 5), idx(T, [0, 1])),
    "multi_margin_target_2d": lambda T: F(T).multi_margin_loss(T.ones(4, 5),
                                                               idx(T, [[0, 1, 2, 3]])),
    "multi_margin_weight": lambda T: F(T).multi_margin_loss(T.ones(4, 5), idx(T, [0, 1, 2, 3]),
                                                            weight=T.ones(4)),
    "multi_margin_weight_grad": lambda T: F(T).multi_margin_loss(
        T.ones(4, 5), idx(T, [0, 1, 2, 3]), weight=T.ones(5, requires_grad=True)),
    "multi_margin_float_target": lambda T: F(T).multi_margin_loss(T.ones(4, 5),
                                                                  T.tensor([0.0, 1, 2, 3])),
    "multi_margin_3d": lambda T: F(T).multi_margin_loss(T.ones(2, 3, 5), idx(T, [1, 2])),
    "multi_margin_no_classes": lambda T: F(T).multi_margin_loss(T.ones(4, 0),
                                                                idx(T, [0, 1, 2, 3])),
    "batch_norm_3d_module_4d": lambda T: T.nn.BatchNorm3d(3)(T.ones(2, 3, 4, 4)),
    "instance_norm_one_position": lambda T: F(T).instance_norm(T.ones(2, 3, 1)),
    "instance_norm_module_one_position": lambda T: T.nn.InstanceNorm2d(3)(T.ones(2, 3, 1, 1)),
    "instance_norm_module_2d": lambda T: T.nn.InstanceNorm2d(3)(T.ones(2, 3)),
    "instance_norm_module_features": lambda T: T.nn.InstanceNorm1d(3, affine=True)(
        T.ones(2, 4, 5)),
    "instance_norm_eval_without_stats": lambda T: F(T).instance_norm(T.ones(2, 3, 4),
                                                                     use_input_stats=False),
    "unfold_kernel_length": lambda T: F(T).unfold(T.ones(1, 2, 5, 5), (2, 2, 2)),
    "unfold_stride_length": lambda T: F(T).unfold(T.ones(1, 2, 5, 5), 2, stride=(1, 1, 1)),
    "unfold_kernel_zero": lambda T: F(T).unfold(T.ones(1, 2, 5, 5), 0),
    "unfold_dilation_zero": lambda T: F(T).unfold(T.ones(1, 2, 5, 5), 2, dilation=(1, 0)),
    "unfold_padding_negative": lambda T: F(T).unfold(T.ones(1, 2, 5, 5), 2, padding=-1),
    "unfold_stride_zero": lambda T: F(T).unfold(T.ones(1, 2, 5, 5), 2, stride=0),
    "unfold_2d": lambda T: F(T).unfold(T.ones(5, 6), 2),
    "unfold_5d": lambda T: F(T).unfold(T.ones(1, 1, 2, 5, 6), 2),
    "unfold_no_channels": lambda T: F(T).unfold(T.ones(1, 0, 5, 6), 2),
    "unfold_kernel_larger": lambda T: F(T).unfold(T.ones(1, 2, 5, 6), 7),
    "fold_output_size_length": lambda T: F(T).fold(T.ones(1, 8, 4), (3, 3, 3), 2),
    "fold_kernel_zero": lambda T: F(T).fold(T.ones(1, 8, 4), 3, 0),
    "fold_padding_negative": lambda T: F(T).fold(T.ones(1, 8, 4), 3, 2, padding=-1),
    "fold_4d": lambda T: F(T).fold(T.ones(1, 8, 4, 1), 3, 2),
    "fold_channels": lambda T: F(T).fold(T.ones(1, 9, 4), 3, 2),
    "fold_blocks": lambda T: F(T).fold(T.ones(1, 8, 5), 3, 2),
    "fold_too_small": lambda T: F(T).fold(T.ones(1, 8, 0), 3, 2),
    "fold_no_blocks": lambda T: F(T).fold(T.ones(1, 8, 1), 1, 2),
    "max_pool3d_kernel_length": lambda T: F(T).max_pool3d(T.ones(1, 2, 4, 5, 6), (2, 2)),
    "avg_pool3d_kernel_length": lambda T: F(T).avg_pool3d(T.ones(1, 2, 4, 5, 6), (2, 2)),
    "max_pool3d_stride_length": lambda T: F(T).max_pool3d(T.ones(1, 2, 4, 5, 6), 2,
                                                          stride=(1, 1)),
    "avg_pool3d_padding_length": lambda T: F(T).avg_pool3d(T.ones(1, 2, 4, 5, 6), 2,
                                                           padding=(1, 1)),
    "max_pool3d_dilation_length": lambda T: F(T).max_pool3d(T.ones(1, 2, 4, 5, 6), 2,
                                                            dilation=(1, 1)),
    "max_pool3d_3d_input": lambda T: F(T).max_pool3d(T.ones(3, 4, 5), 2),
    "avg_pool3d_3d_input": lambda T: F(T).avg_pool3d(T.ones(3, 4, 5), 2),
    "max_pool3d_kernel_zero": lambda T: F(T).max_pool3d(T.ones(1, 2, 4, 5, 6), 0),
    "max_pool3d_padding_half": lambda T: F(T).max_pool3d(T.ones(1, 2, 4, 5, 6), 2, padding=2),
    "avg_pool3d_padding_negative": lambda T: F(T).avg_pool3d(T.ones(1, 2, 4, 5, 6), 2,
                                                             padding=-1),
    "max_pool3d_dilation_zero": lambda T: F(T).max_pool3d(T.ones(1, 2, 4, 5, 6), 2, dilation=0),
    "max_pool3d_output_empty": lambda T: F(T).max_pool3d(T.ones(1, 2, 4, 5, 6), 5),
    "avg_pool3d_kernel_larger": lambda T: F(T).avg_pool3d(T.ones(1, 2, 4, 5, 6), 5),
    "adaptive_max_pool2d_1d": lambda T: F(T).adaptive_max_pool2d(T.ones(7), 2),
    "adaptive_max_pool2d_no_channels": lambda T: F(T).adaptive_max_pool2d(T.ones(2, 0, 4, 4), 2),
    "adaptive_max_pool2d_size_length": lambda T: F(T).adaptive_max_pool2d(T.ones(2, 3, 4, 4),
                                                                          (2, 3, 4)),
    "adaptive_max_pool1d_size_length": lambda T: F(T).adaptive_max_pool1d(T.ones(2, 3, 7),
                                                                          (2, 3)),
    "adaptive_max_pool1d_1d": lambda T: F(T).adaptive_max_pool1d(T.ones(7), 2),
    "adaptive_avg_pool3d_3d": lambda T: F(T).adaptive_avg_pool3d(T.ones(4, 5, 6), 2),
    "adaptive_avg_pool3d_empty": lambda T: F(T).adaptive_avg_pool3d(T.ones(2, 4, 0, 5, 6), 2),
    "affine_grid_theta_shape": lambda T: F(T).affine_grid(T.ones(2, 3, 3), (2, 3, 4, 5), False),
    "affine_grid_3d_size": lambda T: F(T).affine_grid(T.ones(2, 2, 3), (2, 3, 4), False),
    "affine_grid_batch": lambda T: F(T).affine_grid(T.ones(2, 2, 3), (3, 3, 4, 5), False),
    "affine_grid_empty": lambda T: F(T).affine_grid(T.ones(2, 2, 3), (2, 3, 0, 5), False),
    "grid_sample_mode": lambda T: F(T).grid_sample(T.ones(1, 2, 3, 3), T.zeros(1, 2, 2, 2),
                                                   mode="area", align_corners=False),
    "grid_sample_padding_mode": lambda T: F(T).grid_sample(
        T.ones(1, 2, 3, 3), T.zeros(1, 2, 2, 2), padding_mode="circular", align_corners=False),
    "grid_sample_grid_last": lambda T: F(T).grid_sample(T.ones(1, 2, 3, 3), T.zeros(1, 2, 2, 3),
                                                        align_corners=False),
    "grid_sample_batch": lambda T: F(T).grid_sample(T.ones(1, 2, 3, 3), T.zeros(2, 2, 2, 2),
                                                    align_corners=True),
    "avg_pool2d_divisor": lambda T: F(T).avg_pool2d(T.ones(1, 2, 3, 3), 2, divisor_override=0),
    "max_unpool2d_output_size_length": lambda T: F(T).max_unpool2d(
        T.ones(1, 2, 2, 2), idx(T, [[[[0, 1], [2, 3]]] * 2]), 2, output_size=(1, 4, 4)),
    "max_unpool2d_output_size_range": lambda T: F(T).max_unpool2d(
        T.ones(1, 2, 2, 2), idx(T, [[[[0, 1], [2, 3]]] * 2]), 2, output_size=(9, 4)),
    "max_unpool2d_float_indices": lambda T: F(T).max_unpool2d(T.ones(1, 2, 2, 2),
                                                              T.ones(1, 2, 2, 2), 2),
    "max_unpool2d_indices_shape": lambda T: F(T).max_unpool2d(
        T.ones(1, 2, 2, 2), idx(T, [[[[0, 1]]] * 2]), 2),
    "max_unpool1d_output_size_length": lambda T: F(T).max_unpool1d(
        T.ones(1, 2, 2), idx(T, [[[0, 1]] * 2]), 2, output_size=(1, 2)),
    "avg_pool3d_divisor": lambda T: F(T).avg_pool3d(T.ones(1, 2, 3, 3, 3), 2,
                                                    divisor_override=0),
    "grid_sample_batch_before_last": lambda T: F(T).grid_sample(
        T.ones(1, 2, 3, 3), T.zeros(2, 2, 2, 3), align_corners=True),
    "grid_sample_empty": lambda T: F(T).grid_sample(T.ones(1, 2, 0, 3, 3),
                                                    T.zeros(1, 2, 2, 2, 3), align_corners=True),
    "grid_sample_dims": lambda T: F(T).grid_sample(T.ones(1, 2, 3, 3, 3), T.zeros(1, 2, 2, 3),
                                                   align_corners=True),
    "grid_sample_6d": lambda T: F(T).grid_sample(T.ones(1, 1, 2, 2, 2, 2),
                                                 T.zeros(1, 1, 1, 1, 1, 4), align_corners=True),
    "grid_sample_bicubic_3d": lambda T: F(T).grid_sample(
        T.ones(1, 2, 3, 3, 3), T.zeros(1, 2, 2, 2, 3), mode="bicubic", align_corners=True),
    "affine_grid_3d_theta_shape": lambda T: F(T).affine_grid(T.ones(2, 2, 3), (2, 3, 4, 5, 6),
                                                             False),
    "affine_grid_3d_batch": lambda T: F(T).affine_grid(T.ones(2, 3, 4), (3, 3, 4, 5, 6), False),
    "affine_grid_6d_size": lambda T: F(T).affine_grid(T.ones(2, 3, 4), (2, 3, 4, 5, 6, 7),
                                                      False),
    "embedding_bag_2d_offsets": lambda T: F(T).embedding_bag(idx(T, [[0, 1]]), T.ones(3, 2),
                                                             [0]),
    "embedding_bag_no_offsets": lambda T: F(T).embedding_bag(idx(T, [0, 1]), T.ones(3, 2)),
    "embedding_bag_2d_offsets_tensor": lambda T: F(T).embedding_bag(
        idx(T, [0, 1]), T.ones(3, 2), idx(T, [[0]])),
    "embedding_bag_3d": lambda T: F(T).embedding_bag(idx(T, [[[0]]]), T.ones(3, 2)),
    "embedding_bag_mode": lambda T: F(T).embedding_bag(idx(T, [[0, 1]]), T.ones(3, 2),
                                                       mode="min"),
    "embedding_bag_weights_mean": lambda T: F(T).embedding_bag(
        idx(T, [[0, 1]]), T.ones(3, 2), per_sample_weights=T.ones(1, 2)),
    "multilabel_margin_target_size": lambda T: F(T).multilabel_margin_loss(
        T.ones(2, 3), idx(T, [[0, 1, -1]])),
    "multilabel_margin_target_1d": lambda T: F(T).multilabel_margin_loss(T.ones(3),
                                                                         idx(T, [0, -1])),
    "multilabel_margin_3d": lambda T: F(T).multilabel_margin_loss(T.ones(1, 2, 3),
                                                                  idx(T, [[[0, 1, 2]] * 2])),
    "multilabel_margin_float_target": lambda T: F(T).multilabel_margin_loss(
        T.ones(2, 3), T.zeros(2, 3)),
    "local_response_norm_2d": lambda T: F(T).local_response_norm(T.ones(2, 3), 2),
    "multi_margin_reduction": lambda T: F(T).multi_margin_loss(T.ones(4, 5),
                                                               idx(T, [0, 1, 2, 3]),
                                                               reduction="all"),
}

def test_instance_norm_warns_as_torch_of_features_it_does_not_use(torch):
    assert_warns_as_torch(torch, lambda T: T.nn.InstanceNorm1d(3)(T.ones(2, 4, 5)))


@pytest.mark.parametrize("call", [
    lambda T: F(T).affine_grid(T.zeros(1, 2, 3), (1, 1, 2, 2)),
    lambda T: F(T).grid_sample(T.ones(1, 1, 2, 2), T.zeros(1, 1, 1, 2)),
    lambda T: F(T).affine_grid(T.zeros(1, 2, 3), (1, 1, 1, 3), align_corners=True),
], ids=["affine_grid-default", "grid_sample-default", "affine_grid-unit-size"])
def test_grid_warnings_are_torchs(torch, call):
    assert_warns_as_torch(torch, call)


# ----- linalg ----------------------------------------------------------------------------------
def _square_ints(T):
    return T.ones(2, 2, dtype=T.int32)


LINALG_ERRORS = {
    "cross_length": lambda T: T.linalg.cross(T.ones(2), T.ones(2)),
    "cross_length_one": lambda T: T.linalg.cross(T.ones(3), T.ones(2)),
    "cross_length_dim": lambda T: T.linalg.cross(T.ones(2, 3), T.ones(2, 3), dim=0),
    "cross_ndim": lambda T: T.linalg.cross(T.ones(3), T.ones(4, 3)),
    "cross_length_before_broadcast": lambda T: T.linalg.cross(T.ones(2, 2), T.ones(4, 3)),
    "cross_0d": lambda T: T.linalg.cross(T.tensor(1.0), T.tensor(1.0)),
    "cross_dtypes": lambda T: T.linalg.cross(T.ones(3, dtype=T.int32), T.ones(3)),
    "cholesky_int": lambda T: T.linalg.cholesky(_square_ints(T)),
    "cholesky_bool": lambda T: T.linalg.cholesky(T.ones(2, 2, dtype=T.bool)),
    "inv_int": lambda T: T.linalg.inv(_square_ints(T)),
    "det_int": lambda T: T.linalg.det(_square_ints(T)),
    "matrix_exp_int": lambda T: T.linalg.matrix_exp(_square_ints(T)),
    "pinv_int": lambda T: T.linalg.pinv(T.ones(2, 3, dtype=T.int32)),
    "pinv_1d": lambda T: T.linalg.pinv(T.ones(2)),
    "vector_norm_int": lambda T: T.linalg.vector_norm(_square_ints(T)),
    "matrix_norm_int": lambda T: T.linalg.matrix_norm(_square_ints(T)),
    "matrix_norm_1d": lambda T: T.linalg.matrix_norm(T.ones(2)),
    "norm_int": lambda T: T.linalg.norm(_square_ints(T)),
    "norm_int_fro": lambda T: T.linalg.norm(_square_ints(T), "fro"),
    "solve_int": lambda T: T.linalg.solve(_square_ints(T), T.ones(2)),
    "solve_int_before_shape": lambda T: T.linalg.solve(T.ones(2, dtype=T.int32), T.ones(2)),
    "solve_dtypes": lambda T: T.linalg.solve(T.eye(2), T.ones(2, dtype=T.int32)),
    "solve_vector": lambda T: T.linalg.solve(T.eye(3), T.ones(2)),
    "solve_matrix": lambda T: T.linalg.solve(T.eye(3), T.ones(2, 4)),
    "solve_vectors": lambda T: T.linalg.solve(T.eye(3).expand(2, 3, 3), T.ones(4, 3)),
    "solve_batch": lambda T: T.linalg.solve(T.eye(3).expand(2, 3, 3), T.ones(4, 3, 1)),
    "solve_0d": lambda T: T.linalg.solve(T.eye(3), T.tensor(1.0)),
    "eigh_int": lambda T: T.linalg.eigh(_square_ints(T)),
    "eigh_1d": lambda T: T.linalg.eigh(T.ones(3)),
    "eigh_rectangular": lambda T: T.linalg.eigh(T.ones(3, 2)),
    "eigh_uplo": lambda T: T.linalg.eigh(T.eye(2), UPLO="X"),
    "eigvalsh_int": lambda T: T.linalg.eigvalsh(_square_ints(T)),
    "svd_int": lambda T: T.linalg.svd(_square_ints(T)),
    "svd_1d": lambda T: T.linalg.svd(T.ones(3)),
    "svdvals_1d": lambda T: T.linalg.svdvals(T.ones(3)),
    "torch_svd_1d": lambda T: T.svd(T.ones(3)),
    "torch_svd_int": lambda T: _square_ints(T).svd(),
    "qr_int": lambda T: T.linalg.qr(_square_ints(T)),
    "qr_1d": lambda T: T.linalg.qr(T.ones(3)),
    "qr_mode": lambda T: T.linalg.qr(T.eye(3), mode="full"),
    "slogdet_int": lambda T: T.linalg.slogdet(_square_ints(T)),
    "slogdet_rectangular": lambda T: T.slogdet(T.ones(3, 2)),
    "matrix_power_rectangular": lambda T: T.linalg.matrix_power(T.ones(3, 2), 2),
    "matrix_power_1d": lambda T: T.ones(3).matrix_power(2),
    "matrix_power_int_inverse": lambda T: T.linalg.matrix_power(_square_ints(T), -1),
    "solve_triangular_int": lambda T: T.linalg.solve_triangular(
        _square_ints(T), _square_ints(T), upper=True),
    "solve_triangular_b_1d": lambda T: T.linalg.solve_triangular(T.eye(3), T.ones(3), upper=True),
    "solve_triangular_rectangular": lambda T: T.linalg.solve_triangular(
        T.ones(3, 2), T.ones(3, 2), upper=True),
    "solve_triangular_shapes": lambda T: T.linalg.solve_triangular(
        T.eye(3), T.ones(2, 2), upper=True),
    "solve_triangular_shapes_right": lambda T: T.linalg.solve_triangular(
        T.eye(3), T.ones(3, 2), upper=True, left=False),
    "solve_triangular_batch": lambda T: T.linalg.solve_triangular(
        T.eye(3).expand(2, 3, 3), T.ones(4, 3, 1), upper=False),
    "multi_dot_one": lambda T: T.linalg.multi_dot([T.ones(2, 2)]),
    "multi_dot_first_3d": lambda T: T.linalg.multi_dot([T.ones(2, 2, 2), T.ones(2, 2)]),
    "multi_dot_last_0d": lambda T: T.linalg.multi_dot([T.ones(2, 2), T.tensor(1.0)]),
    "multi_dot_middle_1d": lambda T: T.linalg.multi_dot([T.ones(2, 2), T.ones(2), T.ones(2)]),
    "multi_dot_shapes": lambda T: T.linalg.multi_dot([T.ones(2, 3), T.ones(2, 2)]),
    "vecdot_int": lambda T: T.linalg.vecdot(T.ones(3, dtype=T.int32), T.ones(3, dtype=T.int32)),
    "vecdot_dtypes": lambda T: T.linalg.vecdot(T.ones(3), T.ones(3, dtype=T.float16)),
    "cond_1d": lambda T: T.linalg.cond(T.ones(3)),
    "cond_fro_rectangular": lambda T: T.linalg.cond(T.ones(3, 2), "fro"),
    "inv_ex_rectangular": lambda T: T.linalg.inv_ex(T.ones(3, 2)),
    "cholesky_ex_int": lambda T: T.linalg.cholesky_ex(_square_ints(T)),
    "lu_factor_int": lambda T: T.linalg.lu_factor(_square_ints(T)),
    "lu_factor_1d": lambda T: T.linalg.lu_factor(T.ones(3)),
    "lu_solve_b_1d": lambda T: T.linalg.lu_solve(*T.linalg.lu_factor(T.eye(3)), T.ones(3)),
    "lu_solve_shapes": lambda T: T.linalg.lu_solve(*T.linalg.lu_factor(T.eye(3)), T.ones(2, 2)),
}

MODULE_ERRORS = {
    "softmax2d_2d": lambda T: T.nn.Softmax2d()(T.ones(2, 3)),
    "rms_norm_shape": lambda T: F(T).rms_norm(T.ones(2, 4), (3,)),
    "rms_norm_weight": lambda T: F(T).rms_norm(T.ones(2, 4), (4,), T.ones(3)),
    "rms_norm_module_shape": lambda T: T.nn.RMSNorm((2, 4))(T.ones(4, 2)),
    "reflection_pad3d_too_wide": lambda T: T.nn.ReflectionPad3d(3)(T.ones(1, 2, 2, 2, 2)),
}

ERRORS = {**CONV_ERRORS, **POOL_ERRORS, **NN_ERRORS, **MORE_NN_ERRORS, **LINALG_ERRORS,
          **MODULE_ERRORS}


@pytest.mark.parametrize("scenario", ERRORS.values(), ids=ERRORS)
def test_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


def test_errors_text():
    """The key messages, spelled out, so they are checked where torch is not installed."""
    cases = {
        "channels": "Given groups=1, weight of size [4, 3, 3, 3], expected input[1, 2, 8, 8] to "
                    "have 3 channels, but got 2 channels instead",
        "kernel_larger_than_input": "Calculated padded input size per channel: (2 x 2). Kernel "
                                    "size: (3 x 3). Kernel size can't be greater than actual "
                                    "input size",
        "max_output_empty": "Given input size: (3x2x2). Calculated output size: (3x0x0). Output "
                            "size is too small",
        "batch_norm_module_features": "running_mean should contain 5 elements not 3",
        "linear_bias_3d": "mat1 and mat2 shapes cannot be multiplied (8x5 and 3x2)",
        "nll_loss_batch": "Expected input batch_size (4) to match target batch_size (3).",
        "one_hot_negative": "Class values must be non-negative.",
        "cross_length": "linalg.cross: inputs dimension -1 must have length 3. Got 2 and 2",
        "cholesky_int": "linalg.cholesky: Expected a floating point or complex tensor as input. "
                        "Got Int",
        "solve_vector": "linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                        "(3x3 and 2x1)",
    }
    for name, text in cases.items():
        with pytest.raises((RuntimeError, ValueError)) as info:
            ERRORS[name](funcgrad)
        assert str(info.value) == text


# ----- bad input changes nothing ---------------------------------------------------------------
def _buffers(module) -> list:
    return [(name, b.tolist()) for name, b in module.named_buffers()]


@pytest.mark.parametrize("bad", [
    lambda: funcgrad.ones(4, 5),  # the wrong number of features
    lambda: funcgrad.ones(1, 3),  # one value per channel
    lambda: funcgrad.ones(4, 3, dtype=funcgrad.int32),
], ids=["features", "one_value", "int"])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_module_error_changes_no_state(bad, momentum):
    funcgrad.manual_seed(0)
    norm, fresh = funcgrad.nn.BatchNorm1d(3, momentum=momentum), None
    x = funcgrad.randn(4, 3)
    norm(x)
    fresh = funcgrad.nn.BatchNorm1d(3, momentum=momentum)
    fresh.load_state_dict(norm.state_dict())
    before = _buffers(norm)
    with pytest.raises((RuntimeError, ValueError, NotImplementedError)):
        norm(bad())
    assert _buffers(norm) == before
    np.testing.assert_allclose(norm(x).detach().numpy(), fresh(x).detach().numpy(), rtol=1e-6)
    for (name, ours), (_, theirs) in zip(_buffers(norm), _buffers(fresh)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, err_msg=name)


def test_batch_norm_error_changes_no_running_statistics_or_grad():
    x = funcgrad.randn(4, 3, requires_grad=True)
    mean, var = funcgrad.zeros(3), funcgrad.ones(3)
    weight = funcgrad.ones(3, requires_grad=True)
    (x.sum() + weight.sum()).backward()
    before = snapshot(x, mean, var, weight)
    with pytest.raises(RuntimeError, match="bias should contain 3 elements not 2"):
        F(funcgrad).batch_norm(x, mean, var, weight, funcgrad.ones(2), training=True)
    assert_unchanged(before, x, mean, var, weight)


# ----- results -----------------------------------------------------------------------------------
ONE_HOT = {
    "inferred": ([0, 2, 1], -1),
    "num_classes": ([0, 2, 1], 5),
    "2d": ([[0, 3], [1, 1]], -1),
    "2d_num_classes": ([[0, 3], [1, 1]], 4),
    "0d": (2, -1),
    "empty": ([], 3),
}


@pytest.mark.parametrize("values,num_classes", ONE_HOT.values(), ids=ONE_HOT)
def test_one_hot_matches_torch(torch, values, num_classes):
    ours = F(funcgrad).one_hot(idx(funcgrad, values), num_classes)
    theirs = torch.nn.functional.one_hot(idx(torch, values), num_classes)
    assert ours.dtype == funcgrad.int32 and not ours.requires_grad
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_one_hot_with_x64_takes_and_gives_int64():
    with jax.enable_x64(True):
        ours = F(funcgrad).one_hot(funcgrad.tensor([[1, 0]]), 3)
        assert ours.dtype == funcgrad.int64 and ours.tolist() == [[[0, 1, 0], [1, 0, 0]]]
        with pytest.raises(RuntimeError, match="index tensor of type LongTensor"):
            F(funcgrad).one_hot(funcgrad.tensor([1, 0], dtype=funcgrad.int32))


def test_one_hot_inside_a_transform_needs_num_classes():
    one_hot = F(funcgrad).one_hot
    out = jax.jit(lambda i: one_hot(i, 3))(funcgrad.tensor([2, 0]))
    assert out.tolist() == [[0, 0, 1], [1, 0, 0]]
    with pytest.raises(jax.errors.ConcretizationTypeError):
        jax.jit(lambda i: one_hot(i))(funcgrad.tensor([2, 0]))


def _floats(*shape, seed=0):
    return np.random.default_rng(seed).uniform(0.1, 1.0, shape).astype(np.float32)


# Inputs torch accepts whose results were wrong (a weight along the wrong axis, a loss or
# solution of the wrong shape, an integer mean in floating point).
RESULTS = {
    "cross_entropy_probabilities_spatial_weight": (
        lambda T, x, t, w: F(T).cross_entropy(x, t, weight=w, reduction="none"),
        _floats(2, 3, 3), _floats(2, 3, 3, seed=1), _floats(3, seed=2)),
    "cross_entropy_smoothing_spatial_weight": (
        lambda T, x, w: F(T).cross_entropy(x, idx(T, [[0, 2, 1], [2, 2, 0]]), weight=w,
                                           label_smoothing=0.2),
        _floats(2, 3, 3), _floats(3, seed=2)),
    "cross_entropy_negative_smoothing": (
        lambda T, x: F(T).cross_entropy(x, idx(T, [0, 2, 1, 2]), label_smoothing=-0.5),
        _floats(4, 3)),
    "nll_loss_unbatched_none": (
        lambda T, x: F(T).nll_loss(x, idx(T, 1), reduction="none"), _floats(3)),
    "nll_loss_spatial_weight_2d": (
        lambda T, x, w: F(T).nll_loss(x, idx(T, np.ones((2, 4, 5), int)), weight=w),
        _floats(2, 3, 4, 5), _floats(3, 1, seed=2)),
    "solve_batch_of_vectors": (
        lambda T, a, b: T.linalg.solve(a, b), _floats(2, 2, 2) + 2 * np.eye(2, dtype=np.float32),
        _floats(2, 2, seed=1)),
    "solve_batch_of_vectors_3": (
        lambda T, a, b: T.linalg.solve(a, b), _floats(2, 3, 3) + 2 * np.eye(3, dtype=np.float32),
        _floats(2, 3, seed=1)),
    # a norm of NaNs (or infinities) is NaN (infinite), not the 0 of a zero vector
    **{f"vector_norm_nonfinite_{ord}": (
        lambda T, x, ord=ord: T.linalg.vector_norm(x, ord, dim=-1),
        np.array([[1.0, np.nan], [np.inf, 2.0], [0.0, 0.0]], np.float32))
       for ord in (2, 1, 3.5)},
    "avg_pool2d_int": (
        lambda T, x: F(T).avg_pool2d(x.to(T.int64 if T is not funcgrad else T.int32), 3, 2, 1),
        np.arange(-40, 32, dtype=np.float32).reshape(2, 1, 6, 6)),
}


@pytest.mark.parametrize("fn,arrays", [(c[0], c[1:]) for c in RESULTS.values()], ids=RESULTS)
def test_results_match_torch(torch, fn, arrays):
    ours = fn(funcgrad, *map(funcgrad.tensor, arrays))
    theirs = fn(torch, *map(torch.tensor, arrays))
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
    if ours.dtype != funcgrad.float32:
        assert (ours.dtype, theirs.dtype) == (funcgrad.int32, torch.int64)

"""``funcgrad.nn.utils.fusion``: a convolution or linear layer with the batch norm after it
folded in, for inference, as torch.nn.utils.fusion computes it."""

from __future__ import annotations

import copy

from ... import _factories, _ops
from ..._tensor import Tensor
from .._modules import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]


def _check_eval(layer, bn) -> None:
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval!")


def _check_statistics(bn) -> None:
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")


def fuse_conv_bn_eval(conv, bn, transpose: bool = False):
    """A copy of ``conv`` (in eval mode) computing ``bn(conv(x))`` (``bn`` in eval mode).

    Raises:
        AssertionError: torch's, for a module in training mode or a batch norm without
            running statistics.

    >>> import funcgrad
    >>> from funcgrad import nn
    >>> conv, bn = nn.Conv2d(2, 3, 1).eval(), nn.BatchNorm2d(3).eval()
    >>> x = funcgrad.randn(1, 2, 4, 4)
    >>> funcgrad.allclose(nn.utils.fuse_conv_bn_eval(conv, bn)(x), bn(conv(x)), atol=1e-6)
    True
    """
    _check_eval(conv, bn)
    _check_statistics(bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
        transpose)
    return fused


def fuse_conv_bn_weights(conv_w: Tensor, conv_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor,
                         bn_eps: float, bn_w: Tensor | None, bn_b: Tensor | None,
                         transpose: bool = False) -> tuple[Parameter, Parameter]:
    """The weight and bias of a convolution followed by a batch norm of these statistics and
    affine parameters (``transpose``: a transposed convolution's weight layout)."""
    bias_dtype = conv_w.dtype if conv_b is None else conv_b.dtype
    conv_b = _factories.zeros_like(bn_rm) if conv_b is None else conv_b
    bn_w = _factories.ones_like(bn_rm) if bn_w is None else bn_w
    bn_b = _factories.zeros_like(bn_rm) if bn_b is None else bn_b
    rsqrt = _ops.rsqrt(bn_rv + bn_eps)
    shape = [1, -1] if transpose else [-1, 1]
    shape += [1] * (conv_w.ndim - 2)
    weight = (conv_w * (bn_w * rsqrt).reshape(shape)).to(dtype=conv_w.dtype)
    bias = ((conv_b - bn_rm) * rsqrt * bn_w + bn_b).to(dtype=bias_dtype)
    return Parameter(weight, conv_w.requires_grad), Parameter(bias, conv_b.requires_grad)


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` (in eval mode) computing ``bn(linear(x))`` (``bn`` in eval mode,
    over the linear layer's outputs, or of one feature).

    Raises:
        AssertionError: torch's, as ``fuse_conv_bn_eval``'s, and for a batch norm of another
            number of features.
    """
    _check_eval(linear, bn)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(
            "To fuse, linear.out_features == bn.num_features or bn.num_features == 1, got "
            f"linear.out_features={linear.out_features} and bn.num_features={bn.num_features}")
    _check_statistics(bn)
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused


def fuse_linear_bn_weights(linear_w: Tensor, linear_b: Tensor | None, bn_rm: Tensor,
                           bn_rv: Tensor, bn_eps: float, bn_w: Tensor, bn_b: Tensor
                           ) -> tuple[Parameter, Parameter]:
    """The weight and bias of a linear layer followed by a batch norm of these statistics and
    affine parameters."""
    bias_dtype = linear_w.dtype if linear_b is None else linear_b.dtype
    linear_b = _factories.zeros_like(bn_rm) if linear_b is None else linear_b
    scale = bn_w * _ops.rsqrt(bn_rv + bn_eps)
    weight = linear_w * scale.unsqueeze(-1).to(dtype=linear_w.dtype)
    bias = ((linear_b - bn_rm) * scale + bn_b).to(dtype=bias_dtype)
    return Parameter(weight, linear_w.requires_grad), Parameter(bias, linear_b.requires_grad)

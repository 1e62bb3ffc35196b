"""``funcgrad.nn.grad``: the gradients of a convolution with respect to its input and to its
weight, given the gradient of its output, as torch.nn.grad has them. Each is the backward of
the convolution, taken by funcgrad's autograd with ``create_graph``, so it is itself
differentiable (in ``weight``, ``input`` and ``grad_output``).

>>> import funcgrad
>>> from funcgrad.nn import grad
>>> grad.conv1d_input((1, 1, 3), funcgrad.ones(1, 1, 2), funcgrad.ones(1, 1, 2))
tensor([[[1., 2., 1.]]])
"""

from __future__ import annotations

from .. import autograd
from .._factories import zeros
from .._grad_mode import enable_grad
from . import functional as F

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input",
           "conv3d_weight"]


def _backward(conv, input, weight, grad_output, wrt: int, stride, padding, dilation, groups):
    """The gradient of ``conv(input, weight)`` with respect to argument ``wrt`` (0: input,
    1: weight, of which the value does not matter: given as a size), for ``grad_output``."""
    args = [input, weight]
    with enable_grad():
        args[wrt] = zeros(args[wrt], dtype=grad_output.dtype, device=grad_output.device,
                          requires_grad=True)
        output = conv(*args, None, stride, padding, dilation, groups)
        return autograd.grad(output, args[wrt], grad_output, create_graph=True)[0]


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv1d`` with respect to its input, of shape ``input_size``."""
    return _backward(F.conv1d, input_size, weight, grad_output, 0, stride, padding, dilation,
                     groups)


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv1d`` with respect to its weight, of shape ``weight_size``."""
    return _backward(F.conv1d, input, weight_size, grad_output, 1, stride, padding, dilation,
                     groups)


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv2d`` with respect to its input, of shape ``input_size``."""
    return _backward(F.conv2d, input_size, weight, grad_output, 0, stride, padding, dilation,
                     groups)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv2d`` with respect to its weight, of shape ``weight_size``."""
    return _backward(F.conv2d, input, weight_size, grad_output, 1, stride, padding, dilation,
                     groups)


def conv3d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv3d`` with respect to its input, of shape ``input_size``."""
    return _backward(F.conv3d, input_size, weight, grad_output, 0, stride, padding, dilation,
                     groups)


def conv3d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv3d`` with respect to its weight, of shape ``weight_size``."""
    return _backward(F.conv3d, input, weight_size, grad_output, 1, stride, padding, dilation,
                     groups)

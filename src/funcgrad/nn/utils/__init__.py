"""``funcgrad.nn.utils``: gradient clipping and flattening parameters into one vector, as
torch.nn.utils has them; ``rnn``, padded and packed batches of sequences; ``fusion``,
batch norms folded into the layers before them; ``parametrize`` and ``parametrizations``,
parameters computed from other tensors (weight and spectral normalization); the older,
hook-based ``weight_norm`` and ``spectral_norm``; and ``stateless``, the deprecated home of
``functional_call``."""

from __future__ import annotations

import inspect

from .._modules import Module
from . import clip_grad as clip_grad
from . import convert_parameters as convert_parameters
from . import fusion as fusion
from . import parametrizations as parametrizations
from . import parametrize as parametrize
from . import rnn as rnn
from . import stateless as stateless
from ._spectral_norm import remove_spectral_norm, spectral_norm
from ._weight_norm import remove_weight_norm, weight_norm
from .clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .fusion import (
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_", "parameters_to_vector", "vector_to_parameters", "rnn", "fusion",
           "parametrize", "parametrizations", "fuse_conv_bn_eval", "fuse_conv_bn_weights",
           "fuse_linear_bn_eval", "fuse_linear_bn_weights", "skip_init", "weight_norm",
           "remove_weight_norm", "spectral_norm", "remove_spectral_norm",
           "convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def convert_conv2d_weight_memory_format(module: Module, memory_format) -> Module:
    """Lays out the weights of the 2-D (transposed) convolutions in ``module`` in
    ``memory_format``: checked as torch checks it, and left to XLA, which lays out arrays
    itself (``funcgrad.channels_last``). Returns ``module``."""
    return _convert_weights(module, memory_format, ("Conv2d", "ConvTranspose2d"))


def convert_conv3d_weight_memory_format(module: Module, memory_format) -> Module:
    """``convert_conv2d_weight_memory_format`` for 3-D convolutions."""
    return _convert_weights(module, memory_format, ("Conv3d", "ConvTranspose3d"))


def _convert_weights(module: Module, memory_format, kinds: tuple) -> Module:
    for m in module.modules():
        if type(m).__name__ in kinds:
            m.weight.contiguous(memory_format=memory_format)  # (its checks)
    return module


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` with its parameters left to be set: torch skips their
    initialization, which here costs little, so they hold it (any values are right for
    parameters a caller will overwrite).

    Raises:
        RuntimeError: torch's, for a class that is not a Module or takes no ``device``.
    """
    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    return module_cls(*args, **kwargs)

"""Lazy modules, as torch's: ``LazyLinear(out_features)`` and the others leave the size of
their input (``in_features``, ``in_channels``, ``num_features``) to their first call, which
reads it from the input, gives the parameters and buffers their shapes and initial values,
and turns the module into the plain one (``LazyLinear`` into ``Linear``). Loading a state
dict gives them their shapes too.

>>> import funcgrad
>>> layer = funcgrad.nn.LazyLinear(2)
>>> layer
LazyLinear(in_features=0, out_features=2, bias=True)
>>> layer(funcgrad.ones(4, 3)).shape, layer
(funcgrad.Size([4, 2]), Linear(in_features=3, out_features=2, bias=True))
"""

from __future__ import annotations

from .._grad_mode import no_grad
from ._modules import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    Linear,
    UninitializedBuffer,
    UninitializedParameter,
    is_lazy,
)


class LazyModuleMixin:
    """Makes a module lazy: before its first call, ``initialize_parameters(*args, **kwargs)``
    (which a subclass defines) gives the uninitialized parameters and buffers their shapes;
    then the module becomes its ``cls_to_become``. A state dict loaded before that gives the
    shapes instead."""

    cls_to_become: type | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._load_hook = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters,
                                                               with_kwargs=True)

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer of this module (not its children) has no shape yet."""
        return any(is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")

    def _infer_parameters(self, module, args: tuple, kwargs: dict) -> None:
        module.initialize_parameters(*args, **kwargs)
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        module._load_hook.remove()
        del module._initialize_hook, module._load_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _lazy_load_hook(self, state_dict: dict, prefix: str, *args) -> None:
        for name, t in (*self._parameters.items(), *self._buffers.items()):
            given = state_dict.get(prefix + name)
            if is_lazy(t) and given is not None and not is_lazy(given):
                t.materialize(tuple(given.shape))


def _lazy_parameters(module, names: tuple[str, ...], device, dtype) -> None:
    """Replaces the parameters ``names`` (those that are not None) by uninitialized ones."""
    for name in names:
        if getattr(module, name) is not None:
            setattr(module, name, UninitializedParameter(device=device, dtype=dtype))


def _adopt(module, fresh: tuple) -> None:
    """Gives the uninitialized ``weight`` and ``bias`` of ``module`` the shapes and values of
    ``fresh`` (a new weight and bias from the plain module's initialization)."""
    with no_grad():
        for name, new in zip(("weight", "bias"), fresh):
            param = getattr(module, name)
            if param is not None and is_lazy(param):
                param.materialize(tuple(new.shape))
                param.copy_(new)


class LazyLinear(LazyModuleMixin, Linear):
    """``Linear`` whose ``in_features`` is the last dimension of its first input."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(0, 0, bias, device, dtype)
        self.out_features = out_features
        _lazy_parameters(self, ("weight", "bias"), device, dtype)

    def initialize_parameters(self, input) -> None:
        if self.has_uninitialized_params():
            self.in_features = input.shape[-1]
            _adopt(self, self._initial(self.bias is not None, self.weight.dtype, None))
        if self.in_features == 0:  # shaped by a state dict
            if input.shape[-1] != self.weight.shape[-1]:
                raise RuntimeError(f"The in_features inferred from input: {input.shape[-1]} is "
                                   "not equal to in_features from self.weight: "
                                   f"{self.weight.shape[-1]}")
            self.in_features = input.shape[-1]


class _LazyConvMixin(LazyModuleMixin):
    """A convolution whose ``in_channels`` is the channel dimension of its first input."""

    def __init__(self, out_channels: int, kernel_size, *args, device=None, dtype=None,
                 **kwargs) -> None:
        super().__init__(0, 0, kernel_size, *args, device=device, dtype=dtype, **kwargs)
        self.out_channels = out_channels
        _lazy_parameters(self, ("weight", "bias"), device, dtype)

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if not self.has_uninitialized_params():
            return
        n = self._dims
        if input.ndim not in (n + 1, n + 2):
            raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to "
                               f"{type(self).__name__}, but got input of size: {input.shape}")
        self.in_channels = input.shape[input.ndim - n - 1]
        if self.in_channels % self.groups:
            raise ValueError("in_channels must be divisible by groups")
        _adopt(self, self._initial(self.bias is not None, self.weight.dtype, None))


class LazyConv1d(_LazyConvMixin, Conv1d):
    """``Conv1d`` whose ``in_channels`` comes from its first input."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConvMixin, Conv2d):
    """``Conv2d`` whose ``in_channels`` comes from its first input."""

    cls_to_become = Conv2d


class LazyConv3d(_LazyConvMixin, Conv3d):
    """``Conv3d`` whose ``in_channels`` comes from its first input."""

    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvMixin, ConvTranspose1d):
    """``ConvTranspose1d`` whose ``in_channels`` comes from its first input."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvMixin, ConvTranspose2d):
    """``ConvTranspose2d`` whose ``in_channels`` comes from its first input."""

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvMixin, ConvTranspose3d):
    """``ConvTranspose3d`` whose ``in_channels`` comes from its first input."""

    cls_to_become = ConvTranspose3d


class _LazyNormMixin(LazyModuleMixin):
    """Batch or instance normalization whose ``num_features`` is dimension 1 of its first
    input; affine and with running statistics by default, the instance norms too (torch's
    defaults for the lazy ones)."""

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None) -> None:
        super().__init__(0, eps, momentum, affine, track_running_stats, device, dtype)
        _lazy_parameters(self, ("weight", "bias"), device, dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)

    def initialize_parameters(self, input) -> None:
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            for name in ("weight", "bias", "running_mean", "running_var"):
                t = getattr(self, name)
                if t is not None and is_lazy(t):
                    t.materialize((self.num_features,))
            self.reset_parameters()


class LazyBatchNorm1d(_LazyNormMixin, BatchNorm1d):
    """``BatchNorm1d`` whose ``num_features`` comes from its first input."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormMixin, BatchNorm2d):
    """``BatchNorm2d`` whose ``num_features`` comes from its first input."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormMixin, BatchNorm3d):
    """``BatchNorm3d`` whose ``num_features`` comes from its first input."""

    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyNormMixin, InstanceNorm1d):
    """``InstanceNorm1d`` whose ``num_features`` comes from its first input."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNormMixin, InstanceNorm2d):
    """``InstanceNorm2d`` whose ``num_features`` comes from its first input."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNormMixin, InstanceNorm3d):
    """``InstanceNorm3d`` whose ``num_features`` comes from its first input."""

    cls_to_become = InstanceNorm3d

"""torch's legacy tensor types (``FloatTensor``, ``cuda.LongTensor`` …) and their names.

Each is a class that makes tensors of one dtype on one device (torch's legacy constructor) and
that ``isinstance`` checks a tensor's dtype and device against; a tensor is never made *of*
such a class (``type(x)`` stays ``Tensor``), as in torch, whose metaclass answers ``isinstance``
the same way. ``Tensor.type`` gives the names (``'funcgrad.FloatTensor'``) and takes the names
or the classes.
"""

from __future__ import annotations

import importlib
import warnings

import numpy as np

from . import _devices, _dtypes, _layouts
from ._factories import legacy_new
from ._tensor import Tensor

# torch's legacy type names ("FloatTensor") by dtype, and the reverse
NAMES = {dtype: name + "Tensor" for dtype, name in _dtypes._SCALAR_NAMES.items()}
_DTYPES = {name: dtype for dtype, name in NAMES.items()}


class TensorType(type):
    """The type of the legacy tensor types: calling one makes a tensor of its dtype on its
    device, from data, a size or nothing (see ``_factories.legacy_new``), and ``isinstance``
    holds for a tensor of that dtype on that kind of device.

    >>> import funcgrad
    >>> funcgrad.FloatTensor([1, 2]), funcgrad.IntTensor(2, 3).shape
    (tensor([1., 2.]), funcgrad.Size([2, 3]))
    >>> isinstance(funcgrad.ones(2), funcgrad.FloatTensor)
    True
    >>> isinstance(funcgrad.ones(2, dtype=funcgrad.float16), funcgrad.FloatTensor)
    False
    """

    def __instancecheck__(cls, obj) -> bool:
        return (isinstance(obj, Tensor) and obj.dtype == cls.dtype
                and obj.device.type == _device_type(cls))

    def __call__(cls, *args, device=None, **kwargs) -> Tensor:
        if kwargs:
            raise TypeError(
                f"{cls.__module__}.{cls.__name__}() takes data or a size, and no keyword but "
                f"device; got {', '.join(kwargs)}. For a dtype or requires_grad use "
                "funcgrad.tensor(data, dtype=..., requires_grad=...) instead.")
        _check_available(cls)
        where = _devices.device(_device_type(cls) if device is None else device)
        if where.type != _device_type(cls):
            raise RuntimeError(f"legacy constructor expects device type: {_device_type(cls)} "
                               f"but device type: {where.type} was passed")
        return legacy_new(cls.dtype, where, *args)


def _device_type(cls: TensorType) -> str:
    return "cuda" if cls.is_cuda else "cpu"


def _check_available(cls: TensorType) -> None:
    """torch's error for a ``cuda`` type where there is no GPU."""
    from . import cuda  # funcgrad.cuda builds its types from this module

    if cls.is_cuda and not cuda.is_available():
        raise TypeError(
            f"type {cls.__module__}.{cls.__name__} not available: JAX sees no GPU here (torch "
            "says 'Torch not compiled with CUDA enabled'). Install jax[cuda12] on a machine "
            "with an NVIDIA GPU, or check funcgrad.cuda.is_available() first.")


def tensor_type(dtype, cuda: bool = False) -> TensorType:
    """The legacy tensor type of ``dtype``, ``funcgrad.cuda``'s for ``cuda``."""
    name = NAMES[dtype]
    return TensorType(name, (), {
        "__module__": "funcgrad.cuda" if cuda else "funcgrad", "__qualname__": name,
        "dtype": dtype, "is_cuda": cuda, "is_sparse": False, "layout": _layouts.strided})


FloatTensor = tensor_type(_dtypes.float32)
DoubleTensor = tensor_type(_dtypes.float64)
HalfTensor = tensor_type(_dtypes.float16)
BFloat16Tensor = tensor_type(_dtypes.bfloat16)
ByteTensor = tensor_type(_dtypes.uint8)
CharTensor = tensor_type(_dtypes.int8)
ShortTensor = tensor_type(_dtypes.int16)
IntTensor = tensor_type(_dtypes.int32)
LongTensor = tensor_type(_dtypes.int64)
BoolTensor = tensor_type(_dtypes.bool)


def type_name(tensor: Tensor) -> str:
    """The legacy type name of ``tensor``: ``'funcgrad.FloatTensor'``, with ``cuda.`` before the
    name on a GPU."""
    return f"funcgrad.{'cuda.' if tensor.is_cuda else ''}{NAMES[tensor.dtype]}"


def parse(legacy_type) -> tuple[np.dtype, str]:
    """The dtype and device type (``'cpu'`` or ``'cuda'``) of a legacy type: a class
    (``funcgrad.FloatTensor``) or a name (``'torch.FloatTensor'``, ``'funcgrad.cuda.LongTensor'``;
    every scalar type has one, ``'funcgrad.UInt16Tensor'`` too).

    Raises:
        ValueError: torch's, for a name that is no legacy type's.
    """
    if isinstance(legacy_type, TensorType):
        return legacy_type.dtype, _device_type(legacy_type)
    *module, name = legacy_type.split(".")
    if module[:1] not in (["torch"], ["funcgrad"]) or module[1:] not in ([], ["cuda"]) or (
            name not in _DTYPES):
        raise ValueError(f"invalid type: {legacy_type!r}")
    return _DTYPES[name], "cuda" if module[1:] else "cpu"


def set_default_tensor_type(t) -> None:
    """Sets the default dtype to a legacy type's (torch deprecated this in 2.1, and so warns).

    A ``funcgrad.cuda`` type also makes the GPU the default device; a CPU type leaves the
    default device as it is (JAX's default unless ``set_default_device`` changed it).

    Args:
        t: a floating legacy type (``funcgrad.DoubleTensor``) or its dotted name, ``torch.``
            read as ``funcgrad.`` (``'torch.DoubleTensor'``).

    Raises:
        TypeError: torch's, for a type that is not a floating legacy type, or a ``cuda`` type
            where JAX sees no GPU.
        RuntimeError: for ``DoubleTensor`` while ``jax_enable_x64`` is off.

    >>> import warnings, funcgrad
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     funcgrad.set_default_tensor_type(funcgrad.HalfTensor)
    >>> funcgrad.get_default_dtype()
    dtype('float16')
    >>> funcgrad.set_default_dtype(funcgrad.float32)
    """
    if isinstance(t, str):  # torch imports the dotted name
        root, *path = t.split(".")
        t = importlib.import_module("funcgrad" if root == "torch" else root)
        for attr in path:
            t = getattr(t, attr)
    warnings.warn("funcgrad.set_default_tensor_type() is deprecated as of PyTorch 2.1, please "
                  "use funcgrad.set_default_dtype() and funcgrad.set_default_device() as "
                  "alternatives.", UserWarning, stacklevel=2)
    if not isinstance(t, TensorType):
        raise TypeError("invalid type object: only floating-point types are supported as the "
                        "default type")
    _check_available(t)
    if not _dtypes.is_floating(t.dtype):
        raise TypeError("only floating-point types are supported as the default type")
    _dtypes.set_default_dtype(t.dtype)
    if t.is_cuda:
        _devices.set_default_device("cuda")


def is_storage(obj) -> bool:
    """False: funcgrad has no storage objects (a JAX array owns its memory), so nothing is one.

    >>> import funcgrad
    >>> funcgrad.is_storage(funcgrad.zeros(2))
    False
    """
    return False

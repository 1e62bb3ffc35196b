"""``funcgrad.cuda``: whether JAX has NVIDIA (or other) GPUs attached, what they are, the
memory JAX holds on them, and torch.cuda's seeding functions.

funcgrad draws random numbers for every device from one generator, the global one. Where JAX
sees a GPU, the seeding functions here therefore seed (or read) that generator; where it sees
none they do nothing, as torch's do on a machine without CUDA. The memory figures are JAX's
allocator's (``Device.memory_stats()``), and 0 without a GPU, as torch's.
"""

from __future__ import annotations

import importlib

import jax

from .. import _dtypes, _factories, _lazy
from .._legacy_types import tensor_type

__all__ = ["is_available", "device_count", "synchronize", "current_device",
           "get_device_name", "get_device_capability", "is_bf16_supported", "is_initialized",
           "manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed",
           "memory_allocated", "max_memory_allocated", "memory_reserved",
           "max_memory_reserved", "memory_stats", "empty_cache", "FloatTensor", "DoubleTensor",
           "HalfTensor", "BFloat16Tensor", "ByteTensor", "CharTensor", "ShortTensor",
           "IntTensor", "LongTensor", "BoolTensor"]

# torch's legacy tensor types for GPUs: without one, calling them raises torch's TypeError
FloatTensor = tensor_type(_dtypes.float32, cuda=True)
DoubleTensor = tensor_type(_dtypes.float64, cuda=True)
HalfTensor = tensor_type(_dtypes.float16, cuda=True)
BFloat16Tensor = tensor_type(_dtypes.bfloat16, cuda=True)
ByteTensor = tensor_type(_dtypes.uint8, cuda=True)
CharTensor = tensor_type(_dtypes.int8, cuda=True)
ShortTensor = tensor_type(_dtypes.int16, cuda=True)
IntTensor = tensor_type(_dtypes.int32, cuda=True)
LongTensor = tensor_type(_dtypes.int64, cuda=True)
BoolTensor = tensor_type(_dtypes.bool, cuda=True)


def _gpus() -> list:
    try:
        return jax.devices("gpu")
    except RuntimeError:
        return []


def is_available() -> bool:
    """True when JAX sees at least one GPU.

    >>> import funcgrad
    >>> isinstance(funcgrad.cuda.is_available(), bool)
    True
    """
    return bool(_gpus())


def device_count() -> int:
    """The number of GPUs JAX sees."""
    return len(_gpus())


def synchronize(device=None) -> None:
    """Waits for the work given to the devices to finish: funcgrad's pending work is run first
    (see ``_lazy.synchronize``), so a step timed up to here has really run."""
    _lazy.synchronize()


def _gpu(device=None):
    """The GPU ``device`` names (an index, ``'cuda:N'``, a ``funcgrad.device``; None: the
    first), or an error that says none is there."""
    gpus = _gpus()
    if not gpus:
        raise AssertionError("funcgrad.cuda: JAX sees no GPU here (torch says 'Torch not "
                             "compiled with CUDA enabled'); install jax[cuda12] on a machine "
                             "with an NVIDIA GPU, or check funcgrad.cuda.is_available() first.")
    if isinstance(device, str):  # (a str's .index is a method)
        index = int(device.partition(":")[2] or 0)
    else:
        index = getattr(device, "index", device)
    index = 0 if index is None else index
    if not 0 <= index < len(gpus):
        raise ValueError(f"funcgrad.cuda: no GPU {index}: JAX sees {len(gpus)} "
                         f"(indices 0 to {len(gpus) - 1}).")
    return gpus[index]


def current_device() -> int:
    """The index of the GPU computations go to: 0, the first JAX sees."""
    _gpu()
    return 0


def get_device_name(device=None) -> str:
    """The GPU's name, as its driver gives it (``'NVIDIA H100 80GB HBM3'``)."""
    return _gpu(device).device_kind


def get_device_capability(device=None) -> tuple[int, int]:
    """The GPU's CUDA compute capability, ``(major, minor)``."""
    major, _, minor = str(_gpu(device).compute_capability).partition(".")
    return int(major), int(minor or 0)


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """True where JAX sees a GPU: XLA computes in bfloat16 on every GPU it supports."""
    return is_available()


def is_initialized() -> bool:
    """True where JAX has a GPU backend (JAX starts its backends together)."""
    return is_available()


def manual_seed(seed: int) -> None:
    """Seeds the global generator where JAX sees a GPU (see the module's docstring)."""
    if is_available():
        _factories.manual_seed(seed)


manual_seed_all = manual_seed


def seed() -> None:
    """Reseeds the global generator from the operating system where JAX sees a GPU."""
    if is_available():
        _factories.seed()


seed_all = seed


def initial_seed() -> int:
    """The seed the global generator last started from."""
    _gpu()
    return _factories.initial_seed()


def _memory(device, key: str) -> int:
    """One of JAX's allocator statistics for the GPU, 0 without a GPU or the statistic."""
    return int(memory_stats(device).get(key, 0))


def memory_allocated(device=None) -> int:
    """Bytes that arrays hold on the GPU now."""
    return _memory(device, "bytes_in_use")


def max_memory_allocated(device=None) -> int:
    """The most bytes arrays held on the GPU at once, since JAX started."""
    return _memory(device, "peak_bytes_in_use")


def memory_reserved(device=None) -> int:
    """Bytes JAX's allocator holds on the GPU (arrays and its pool)."""
    return _memory(device, "pool_bytes")


def max_memory_reserved(device=None) -> int:
    """The most bytes JAX's allocator held on the GPU at once."""
    return _memory(device, "peak_pool_bytes")


def memory_stats(device=None) -> dict:
    """JAX's allocator statistics for the GPU (its own keys), or an empty dict without one."""
    return dict(_gpu(device).memory_stats() or {}) if _gpus() else {}


def empty_cache() -> None:
    """Nothing to do: JAX frees an array's memory when its last reference goes."""


def __getattr__(name: str):
    # torch.cuda.amp, made on first use: it builds on funcgrad.amp, which needs this module.
    if name == "amp":
        return importlib.import_module(".amp", __name__)
    raise AttributeError(f"module 'funcgrad.cuda' has no attribute '{name}'")

"""``funcgrad.cuda``: whether JAX has NVIDIA (or other) GPUs attached, what they are, the
memory JAX holds on them, which one is current, torch.cuda's seeding functions, its streams
and events, and (``funcgrad.cuda.nvtx``) its profiler ranges.

funcgrad draws random numbers for every device from one generator, the global one. Where JAX
sees a GPU, the seeding functions here therefore seed (or read) that generator; where it sees
none they do nothing, as torch's do on a machine without CUDA. The memory figures are JAX's
allocator's (``Device.memory_stats()``), and 0 without a GPU, as torch's.

JAX orders the work on a GPU itself, on streams of its own: here one stream stands for them
all, so ``Stream``, ``stream(...)`` and ``wait_stream`` order nothing (the work is ordered
already), while ``synchronize`` really waits. ``Event.record`` waits too (see ``Event``).
Without a GPU each name fails, or does nothing, as torch's do in a build without CUDA.
"""

from __future__ import annotations

import importlib
import time
import warnings

import jax

from .. import _devices, _dtypes, _factories, _lazy
from .._legacy_types import tensor_type

__all__ = ["is_available", "device_count", "synchronize", "current_device",
           "get_device_name", "get_device_capability", "get_device_properties", "get_arch_list",
           "set_device", "device", "device_of", "is_bf16_supported", "is_initialized",
           "manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed",
           "get_rng_state", "set_rng_state", "get_rng_state_all", "set_rng_state_all",
           "memory_allocated", "max_memory_allocated", "memory_reserved",
           "max_memory_reserved", "memory_stats", "mem_get_info", "reset_peak_memory_stats",
           "reset_max_memory_allocated", "empty_cache", "Stream", "StreamContext", "stream",
           "current_stream", "default_stream", "set_stream", "is_current_stream_capturing",
           "Event", "nvtx", "FloatTensor", "DoubleTensor",
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


def _index(device) -> int | None:
    """The GPU number ``device`` gives (an index, ``'cuda:N'``, a ``funcgrad.device``), None
    where it gives none (``'cuda'``, None); torch's ValueError for a device of another type."""
    if isinstance(device, str):  # (a str's .index is a method)
        kind, _, number = device.partition(":")
        kind_ok = kind in ("cuda", "gpu")
    else:
        kind_ok = getattr(device, "type", "cuda") == "cuda"
        number = getattr(device, "index", device)
    if not kind_ok:
        raise ValueError(f"Expected a cuda device, but got: {device}")
    return int(number) if number not in (None, "") else None


def _gpu_index(device=None, error: type[Exception] = AssertionError) -> int:
    """The number of the GPU ``device`` names (None: the current one), or an ``error`` (the
    type torch raises there without CUDA) that says JAX sees none."""
    gpus = _gpus()
    if not gpus:
        raise error("funcgrad.cuda: JAX sees no GPU here (torch built without CUDA raises "
                    "this error too); install jax[cuda12] on a machine with an NVIDIA GPU, "
                    "or check funcgrad.cuda.is_available() first.")
    index = _index(device)
    index = _devices.current_gpu[0] if index is None else index
    if not 0 <= index < len(gpus):
        raise ValueError(f"funcgrad.cuda: no GPU {index}: JAX sees {len(gpus)} "
                         f"(indices 0 to {len(gpus) - 1}).")
    return index


def _gpu(device=None, error: type[Exception] = AssertionError) -> jax.Device:
    """The GPU ``device`` names (see ``_gpu_index``)."""
    return _gpus()[_gpu_index(device, error)]


def current_device() -> int:
    """The index of the GPU ``'cuda'`` names: 0, the first JAX sees, unless ``set_device``
    or ``device`` chose another."""
    return _gpu_index()


def _select(index: int | None, error: type[Exception]) -> int:
    """Makes GPU ``index`` the current one (None or a negative one: no change, as torch);
    returns the one current before."""
    before = _devices.current_gpu[0]
    if index is not None and index >= 0:
        _devices.current_gpu[0] = _gpu_index(index, error)
    return before


def set_device(device) -> None:
    """Makes GPU ``device`` (an index, ``'cuda:N'``, a ``funcgrad.device``) the current one:
    the one ``'cuda'``, ``.cuda()`` and this module's functions name from then on. A negative
    index changes nothing, as torch's.

    Raises:
        AttributeError: JAX sees no GPU (torch's error without CUDA).
        ValueError: ``device`` is not a GPU, or not one JAX sees.
    """
    _select(_index(device), AttributeError)


class device:
    """Context manager: GPU ``device`` is the current one inside the block (see
    ``set_device``); None or a negative index changes nothing.

    Raises:
        RuntimeError: on entering, JAX sees no GPU (torch's error without CUDA).
    """

    def __init__(self, device) -> None:
        self.idx = -1 if device is None else _index(device)
        self.prev_idx = -1

    def __enter__(self) -> None:
        self.prev_idx = _select(self.idx, RuntimeError)

    def __exit__(self, *exc) -> bool:
        _devices.current_gpu[0] = self.prev_idx
        return False


class device_of(device):
    """Context manager: the GPU tensor ``obj`` is on is the current one inside the block; a
    tensor on no GPU changes nothing."""

    def __init__(self, obj) -> None:
        super().__init__(obj.get_device() if obj.is_cuda else -1)


def get_device_name(device=None) -> str:
    """The GPU's name, as its driver gives it (``'NVIDIA H100 80GB HBM3'``)."""
    return _gpu(device).device_kind


class _CudaDeviceProperties:
    """What ``get_device_properties`` tells of a GPU: the figures JAX gives, no others."""

    def __init__(self, gpu: jax.Device) -> None:
        major, _, minor = str(gpu.compute_capability).partition(".")
        self.name, self.major, self.minor = gpu.device_kind, int(major), int(minor or 0)
        limit = (gpu.memory_stats() or {}).get("bytes_limit")
        if limit is not None:
            self.total_memory = int(limit)
        if hasattr(gpu, "core_count"):
            self.multi_processor_count = int(gpu.core_count)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"_CudaDeviceProperties({fields})"


def get_device_properties(device=None) -> _CudaDeviceProperties:
    """The GPU's ``name``, compute capability (``major``, ``minor``), ``total_memory`` and
    ``multi_processor_count``, as torch's. ``total_memory`` is what JAX's allocator may use
    (``memory_stats()['bytes_limit']``: by default 75% of the GPU's memory, which JAX takes
    when it starts), not the card's size; a figure JAX does not give is not there.

    Raises:
        AssertionError: JAX sees no GPU (torch's error without CUDA).
    """
    return _CudaDeviceProperties(_gpu(device))


def get_device_capability(device=None) -> tuple[int, int]:
    """The GPU's CUDA compute capability, ``(major, minor)``."""
    properties = get_device_properties(device)
    return properties.major, properties.minor


def get_arch_list() -> list[str]:
    """The CUDA architectures of the GPUs JAX sees (``['sm_90']``), [] without one. torch
    lists those its kernels were built for; XLA compiles for the GPU at hand, so these are
    the ones funcgrad's programs run on."""
    capabilities = sorted({get_device_capability(i) for i in range(device_count())})
    return [f"sm_{major}{minor}" for major, minor in capabilities]


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


def get_rng_state(device="cuda"):
    """The global generator's state (funcgrad's one generator, see the module's docstring).

    Raises:
        AssertionError: JAX sees no GPU (torch's error without CUDA).
    """
    _gpu(device)
    return _factories.get_rng_state()


def set_rng_state(new_state, device="cuda") -> None:
    """Restores the global generator's state where JAX sees a GPU; nothing without one."""
    if is_available():
        _gpu(device)
        _factories.set_rng_state(new_state)


def get_rng_state_all() -> list:
    """``get_rng_state()`` for each GPU: the same state, one generator serving them all."""
    return [get_rng_state(index) for index in range(device_count())]


def set_rng_state_all(new_states) -> None:
    """``set_rng_state`` for each GPU in turn: with one generator for them all, the last
    state given is the one it keeps."""
    for index, state in enumerate(new_states):
        set_rng_state(state, index)


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


def mem_get_info(device=None) -> tuple[int, int]:
    """``(free, total)`` bytes of the GPU, as JAX's allocator counts them: ``total`` is what
    it may use (``bytes_limit``, see ``get_device_properties``), ``free`` what of that its
    arrays leave.

    Raises:
        AssertionError: JAX sees no GPU (torch's error without CUDA).
    """
    stats = dict(_gpu(device).memory_stats() or {})
    if "bytes_limit" not in stats:
        raise RuntimeError("funcgrad.cuda.mem_get_info: JAX's allocator gives no "
                           f"'bytes_limit' for this GPU; it gives {sorted(stats)}.")
    return stats["bytes_limit"] - stats.get("bytes_in_use", 0), stats["bytes_limit"]


def reset_peak_memory_stats(device=None) -> None:
    """Cannot reset the peaks: JAX's allocator keeps its peak since it started and has no
    reset. ``max_memory_allocated`` and ``max_memory_reserved`` therefore stay JAX's: never
    below the peak since this call, and equal to it once that peak passes any before.

    Raises:
        AttributeError: JAX sees no GPU (torch's error without CUDA).
    """
    _gpu(device, AttributeError)


def reset_max_memory_allocated(device=None) -> None:
    """``reset_peak_memory_stats``, with torch's FutureWarning that it resets every peak."""
    warnings.warn("funcgrad.cuda.reset_max_memory_allocated now calls "
                  "funcgrad.cuda.reset_peak_memory_stats, which resets /all/ peak memory "
                  "stats.", FutureWarning, stacklevel=2)
    reset_peak_memory_stats(device)


def empty_cache() -> None:
    """Nothing to do: JAX frees an array's memory when its last reference goes."""


class Stream:
    """A GPU stream, as ``torch.cuda.Stream``: here each stands for the order JAX gives the
    GPU's work itself (see the module's docstring), so work 'on' one is ordered with work on
    any other; ``synchronize`` waits for all of it.

    Raises:
        RuntimeError: JAX sees no GPU (torch's error without CUDA).
    """

    def __init__(self, device=None, priority: int = 0) -> None:
        index = _gpu_index(device, RuntimeError)
        self.device, self.priority = _devices.device("cuda", index), priority

    def synchronize(self) -> None:
        """Runs funcgrad's pending work and waits for the GPU to finish it."""
        synchronize()

    def query(self) -> bool:
        """Whether the work given so far has finished: waits for it (JAX tells no sooner)."""
        synchronize()
        return True

    def wait_stream(self, stream: Stream) -> None:
        """Nothing to do: ``stream``'s work is already ordered before the work to come."""

    def wait_event(self, event: Event) -> None:
        """Nothing to do: ``event``'s work is already ordered before the work to come."""

    def record_event(self, event: Event | None = None) -> Event:
        """Records ``event`` (a new one if None) here; returns it."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def __repr__(self) -> str:
        return f"<funcgrad.cuda.Stream device={self.device}>"


_default_streams: dict[int, Stream] = {}
_current_streams: dict[int, Stream] = {}


def default_stream(device=None) -> Stream:
    """The GPU's default stream (one object per GPU).

    Raises:
        AssertionError: JAX sees no GPU (torch's error without CUDA).
    """
    index = _gpu_index(device)
    if index not in _default_streams:
        _default_streams[index] = Stream(index)
    return _default_streams[index]


def current_stream(device=None) -> Stream:
    """The stream ``stream(...)`` or ``set_stream`` chose for the GPU, else its default."""
    index = _gpu_index(device)
    return _current_streams.get(index) or default_stream(index)


def set_stream(stream: Stream | None) -> None:
    """Makes ``stream`` its GPU's current stream; None changes nothing, as torch's."""
    if stream is not None:
        _current_streams[stream.device.index] = stream


class StreamContext:
    """Context manager: ``stream`` is its GPU's current stream inside the block; None changes
    nothing."""

    def __init__(self, stream: Stream | None) -> None:
        self.stream, self._before = stream, None

    def __enter__(self) -> None:
        if self.stream is not None:
            self._before = current_stream(self.stream.device)
            set_stream(self.stream)

    def __exit__(self, *exc) -> None:
        set_stream(self._before)


def stream(stream: Stream | None) -> StreamContext:
    """``with stream(s):`` makes ``s`` the current stream inside the block (``StreamContext``).

    >>> import funcgrad
    >>> with funcgrad.cuda.stream(None):
    ...     y = funcgrad.ones(2) + 1
    >>> y
    tensor([2., 2.])
    """
    return StreamContext(stream)


def is_current_stream_capturing() -> bool:
    """False: funcgrad never captures a CUDA graph (XLA decides where it uses them).

    Raises:
        RuntimeError: JAX sees no GPU (torch's error without CUDA).
    """
    _gpu(error=RuntimeError)
    return False


class Event:
    """A marker in the GPU's work, as ``torch.cuda.Event``, to time it (``elapsed_time``).

    JAX has no CUDA events, so ``record()`` runs funcgrad's pending work, waits for the GPU to
    finish it (``synchronize``) and reads the host's clock (``time.perf_counter``). That costs
    what torch's event does not: each record stops the host from running ahead of the GPU,
    so a loop recording events runs a little slower than one without, while the time between
    two records is the work's, launches included. ``query``, ``synchronize`` and ``wait``
    have nothing left to wait for.

    Raises:
        RuntimeError: JAX sees no GPU (torch's error without CUDA).
    """

    def __init__(self, enable_timing: bool = False, blocking: bool = False,
                 interprocess: bool = False) -> None:
        _gpu(error=RuntimeError)
        self.enable_timing, self.blocking, self.interprocess = (
            enable_timing, blocking, interprocess)
        self._time: float | None = None

    def record(self, stream: Stream | None = None) -> None:
        """Waits for the work given so far and notes the time (see the class's docstring)."""
        synchronize()
        self._time = time.perf_counter()

    def query(self) -> bool:
        """True: the work before ``record`` has finished (record waited for it)."""
        return True

    def synchronize(self) -> None:
        """Nothing to wait for: ``record`` waited for the work before it."""

    def wait(self, stream: Stream | None = None) -> None:
        """Nothing to do: work given after this is ordered after the recorded work."""

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds from this event's ``record`` to ``end_event``'s.

        Raises:
            RuntimeError: an event made without ``enable_timing=True``, or not recorded.
        """
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument "
                               "'enable_timing=True'.")
        if self._time is None or end_event._time is None:
            raise RuntimeError("Both events must be recorded before calculating elapsed "
                               "time.")
        return (end_event._time - self._time) * 1000.0


def __getattr__(name: str):
    # torch.cuda.amp and .nvtx, made on first use: they build on modules that need this one.
    if name in ("amp", "nvtx"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'funcgrad.cuda' has no attribute '{name}'")

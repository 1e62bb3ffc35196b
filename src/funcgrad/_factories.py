"""Making tensors: ``tensor`` and the factories, each with ``dtype``, ``device`` and
``requires_grad``; the random ones draw from one seeded JAX key."""

from __future__ import annotations

import contextlib
import functools
import math
import secrets
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from . import _config, _devices, _dtypes, _layouts
from ._tensor import Size, Tensor, check_can_require_grad


def _finish(array, dtype, device, requires_grad: bool) -> Tensor:
    """Boxes ``array`` (a JAX array, or a NumPy one of the final dtype) on ``device``."""
    jax_device = _devices.as_jax(device)
    if isinstance(array, np.ndarray):
        host, array = array, _placing(jax_device)(array)
        if isinstance(array, jax.core.Tracer):  # called inside a JAX trace: concrete all the
            with jax.ensure_compile_time_eval():  # same (asking first costs more than a call)
                array = _placing(jax_device)(host)
    elif jax_device is not None:
        array = jax.device_put(array, jax_device)
    t = Tensor._wrap(array)
    if requires_grad:
        check_can_require_grad(t.dtype)
        t._requires_grad = True
    return t


@functools.cache
def _placing(device):
    """A jitted identity that copies a NumPy array to ``device`` (None: JAX's default one,
    uncommitted, as ``jnp.asarray`` leaves it). A jitted call moves its arguments to the device
    on its C++ path, 4-10 times faster than ``jnp.asarray`` or ``jax.device_put`` (15 µs against
    70-180 µs for a small array, measured on this project's 2-CPU machine)."""
    if device is None:
        return jax.jit(lambda x: x)
    return jax.jit(lambda x: x, out_shardings=jax.sharding.SingleDeviceSharding(device))


def _to_numpy(data):
    if isinstance(data, Tensor):
        return data._read()
    if isinstance(data, (list, tuple)):
        return [_to_numpy(d) for d in data]
    return data


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (a number, nested lists, a NumPy or JAX
    array, or a Tensor).

    Args:
        data: the values.
        dtype: the dtype; by default floats take ``get_default_dtype()``, integers int64
            (int32 without ``jax_enable_x64``) and arrays keep theirs.
        device: where to put it (``'cpu'``, ``'cuda'``, ``'cuda:1'`` …); by default
            ``get_default_device()``.
        requires_grad: whether autograd records ops on it.

    Raises:
        RuntimeError: for ``requires_grad`` on an integer dtype, a 64-bit dtype without
            ``jax_enable_x64``, or a device that is not attached.

    >>> import funcgrad
    >>> funcgrad.tensor(3.0, requires_grad=True)
    tensor(3., requires_grad=True)
    >>> funcgrad.tensor([1, 2])
    tensor([1, 2])
    """
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.clone()."
            "detach() or sourceTensor.clone().detach().requires_grad_(True), rather than "
            "torch.tensor(sourceTensor).", UserWarning, stacklevel=2,
        )
    dtype = _dtypes.infer(data) if dtype is None else _dtypes.resolve(dtype)
    if requires_grad:
        check_can_require_grad(dtype)
    if isinstance(data, jax.Array):
        array = jnp.asarray(data, dtype=dtype)
    else:
        array = np.asarray(_to_numpy(data))
        if _casts_on_host(array.dtype, dtype, jax.enable_x64.value):
            # A copy of the caller's array, never a view: JAX may alias host memory it is
            # given (on CPU it does for large arrays), and the caller may write to it later.
            array = array.astype(dtype, copy=not isinstance(data, (list, tuple, *_NUMBERS)))
        else:  # JAX's own conversion: its checks, and its warnings for 64-bit types
            array = jnp.array(array, dtype=dtype)
    return _finish(array, dtype, device, requires_grad)


_NUMBERS = (bool, int, float, complex)


@functools.lru_cache(maxsize=256)
def _casts_on_host(source, dtype, x64: bool) -> bool:
    """Whether NumPy's cast from ``source`` gives what ``jnp.asarray`` would (under the x64
    setting ``x64``): to a dtype JAX has as it is (not a 64-bit one it would narrow), from the
    same dtype or a float."""
    return dtype == jax.dtypes.canonicalize_dtype(dtype) and (
        source == dtype or (jnp.issubdtype(source, jnp.floating)
                            and jnp.issubdtype(dtype, jnp.floating)))


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor``, sharing ``data`` when it is already a Tensor of that dtype and device."""
    if isinstance(data, Tensor) and dtype in (None, data.dtype) and device is None:
        return data
    return tensor(data, dtype=dtype, device=device)


def asarray(obj, *, dtype=None, device=None, copy: bool | None = None,
            requires_grad: bool | None = None) -> Tensor:
    """``obj`` as a tensor: a Tensor itself when it already has that dtype and device (unless
    ``copy``), else converted (refused when ``copy=False``); any other data as ``tensor``
    makes it. A Tensor keeps its graph unless ``requires_grad=False`` (then the result is
    detached), and ``requires_grad=True`` marks it (``obj`` itself when it is the result);
    not saying either way about one that requires grad gets torch's warning.

    >>> import funcgrad
    >>> x = funcgrad.ones(2)
    >>> funcgrad.asarray(x) is x, funcgrad.asarray(x, copy=True) is x
    (True, False)
    """
    if not isinstance(obj, Tensor):
        return tensor(obj, dtype=dtype, device=device, requires_grad=bool(requires_grad))
    if requires_grad is None and obj.requires_grad:
        warnings.warn("torch.asarray: unspecified requires_grad now defaults to "
                      "obj.requires_grad instead of False. Pass requires_grad=False explicitly "
                      "to get the old behavior and silence this warning.", UserWarning,
                      stacklevel=2)
    out = obj if dtype is None else obj.to(dtype=dtype)
    out = out if device is None else out.to(device)
    if out is not obj and copy is False:
        raise ValueError(f"can't alias tensor with dtype '{_dtypes.scalar_name(obj.dtype)}' "
                           f"into dtype '{_dtypes.scalar_name(out.dtype)}'.")
    out = out.clone() if copy and out is obj else out
    if requires_grad is False and out.requires_grad:
        return out.detach()
    return out.requires_grad_() if requires_grad and not out.requires_grad else out


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor with the values of a NumPy array (copied: JAX arrays are immutable)."""
    return tensor(array)


def _shape(size, negative: str = "") -> tuple[int, ...]:
    """The shape a factory is given, as ints; torch's error (or ``negative``) for a negative
    size."""
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = size[0]
    shape = tuple(int(s) for s in size)
    below = [s for s in shape if s < 0]
    if below:
        raise RuntimeError(negative or f"Trying to create tensor with negative dimension "
                                        f"{below[0]}: {list(shape)}")
    return shape


def _float_dtype(dtype):
    return _dtypes.get_default_dtype() if dtype is None else _dtypes.resolve(dtype)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros.

    >>> import funcgrad
    >>> funcgrad.zeros(2, 3).shape
    funcgrad.Size([2, 3])
    """
    dtype = _float_dtype(dtype)
    shape = _shape(size, "zeros: Dimension size must be non-negative.")
    return _finish(jnp.zeros(shape, dtype), dtype, device, requires_grad)


def uninitialized(shape: tuple, dtype) -> jax.Array:
    """What a tensor torch leaves uninitialized holds here (a JAX array always holds values):
    zeros; under deterministic algorithms (``use_deterministic_algorithms``) with
    ``utils.deterministic.fill_uninitialized_memory``, torch's known value then: NaN, the
    largest integer of an integer dtype, True."""
    if not (_config.determinism.enabled and _config.determinism.fill_uninitialized_memory):
        return jnp.zeros(shape, dtype)
    if dtype == np.bool_:
        return jnp.ones(shape, dtype)
    value = jnp.iinfo(dtype).max if jnp.issubdtype(dtype, jnp.integer) else math.nan
    return jnp.full(shape, value, dtype)


def empty(*size, dtype=None, device=None, requires_grad: bool = False,
          memory_format=_layouts.contiguous_format) -> Tensor:
    """A new tensor: uninitialized in torch, ``uninitialized``'s values here.

    >>> import funcgrad
    >>> funcgrad.empty(2, 3).shape
    funcgrad.Size([2, 3])
    """
    dtype = _float_dtype(dtype)
    shape = _shape(size)
    _layouts.check("empty", memory_format, len(shape), preserve=False)
    return _finish(uninitialized(shape, dtype), dtype, device, requires_grad)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad: bool = False
                  ) -> Tensor:
    """``empty(size)``: a funcgrad tensor has no strides of its own, so ``stride`` is taken
    and changes nothing."""
    return empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones.

    >>> import funcgrad
    >>> funcgrad.ones(2)
    tensor([1., 1.])
    """
    dtype = _float_dtype(dtype)
    return _finish(jnp.ones(_shape(size), dtype), dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype follows the value, as in torch).

    >>> import funcgrad
    >>> funcgrad.full((2,), 7)
    tensor([7, 7])
    """
    dtype = _dtypes.infer(fill_value) if dtype is None else _dtypes.resolve(dtype)
    return _finish(jnp.full(_shape((size,)), fill_value, dtype), dtype, device, requires_grad)


def _like(fn):
    def like(input, dtype=None, device=None, requires_grad: bool = False,
             memory_format=_layouts.preserve_format, **kwargs) -> Tensor:
        _layouts.check(like.__name__, memory_format, input.ndim)
        dtype = input.dtype if dtype is None else dtype
        device = input.device if device is None else device
        return fn(*input.shape, dtype=dtype, device=device, requires_grad=requires_grad, **kwargs)

    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"``{fn.__name__}`` with the shape, dtype and device of ``input``."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)


def full_like(input, fill_value, dtype=None, device=None, requires_grad: bool = False,
              memory_format=_layouts.preserve_format) -> Tensor:
    """``full`` with the shape, dtype and device of ``input``."""
    _layouts.check("full_like", memory_format, input.ndim)
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; integers unless any is a float.

    >>> import funcgrad
    >>> funcgrad.arange(3)
    tensor([0, 1, 2])
    >>> funcgrad.arange(0, 1, 0.25)
    tensor([0.0000, 0.2500, 0.5000, 0.7500])
    """
    if end is None:
        start, end = 0, start
    if not all(map(math.isfinite, (start, end))):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    dtype = _dtypes.infer([start, end, step]) if dtype is None else _dtypes.resolve(dtype)
    return _finish(jnp.arange(start, end, step, dtype=dtype), dtype, device, requires_grad)


def range(start=0, end=None, step=1, dtype=None, device=None,
          requires_grad: bool = False) -> Tensor:
    """Deprecated, as in torch: values from ``start`` to ``end`` inclusive by ``step``, floats
    unless ``dtype`` says otherwise. Use ``arange``, whose ``end`` is exclusive."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    dtype = _dtypes.get_default_dtype() if dtype is None else _dtypes.resolve(dtype)
    count = math.floor((end - start) / step) + 1
    values = np.asarray(start, np.float64) + np.arange(count) * np.asarray(step, np.float64)
    return _finish(jnp.asarray(values.astype(dtype)), dtype, device, requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    >>> import funcgrad
    >>> funcgrad.linspace(0, 1, 3)
    tensor([0.0000, 0.5000, 1.0000])
    """
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = _float_dtype(dtype)
    return _finish(jnp.linspace(start, end, steps, dtype=dtype), dtype, device, requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` values ``base ** e``, the exponents ``e`` evenly spaced from ``start`` to
    ``end`` inclusive.

    >>> import funcgrad
    >>> funcgrad.logspace(0, 2, 3)
    tensor([  1.,  10., 100.])
    """
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = _float_dtype(dtype)
    exponents = jnp.linspace(start, end, steps, dtype=jnp.result_type(float))
    return _finish(jnp.power(base, exponents).astype(dtype), dtype, device, requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor of the number ``s``, in the default float dtype unless ``dtype``."""
    return tensor(s, dtype=_float_dtype(dtype), device=device, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix, ``n`` by ``m`` (square by default)."""
    for name, size in (("n", n), ("m", m)):
        if size is not None and size < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {size}")
    dtype = _float_dtype(dtype)
    return _finish(jnp.eye(n, m, dtype=dtype), dtype, device, requires_grad)


class Generator:
    """A stream of random numbers, as ``torch.Generator``: a JAX key that each draw splits.

    Pass one as ``generator=`` to ``rand``, ``randn``, ``randint``, ``randperm``, the samplers
    of ``funcgrad.utils.data`` or ``random_split`` to draw from it instead of the global stream.
    The numbers are JAX's, not torch's: the same seed gives the same numbers in funcgrad only.

    Args:
        device: accepted for torch's signature; JAX's keys work on every device.

    >>> import funcgrad
    >>> g = funcgrad.Generator().manual_seed(42)
    >>> g.initial_seed()
    42
    >>> a = funcgrad.rand(2, generator=g)
    >>> bool((a == funcgrad.rand(2, generator=g.manual_seed(42))).all())
    True
    """

    # torch's default seed of a new generator.
    _DEFAULT_SEED = 67280421310721

    def __init__(self, device="cpu") -> None:
        self._device = device
        self._initial_seed = self._DEFAULT_SEED
        # The key lives in a Tensor box, so funcgrad.compile sees it as state and a compiled
        # step draws fresh numbers on every call. Made on first draw: importing funcgrad, which
        # makes the global generator, starts no JAX backend.
        self._state = Tensor._wrap(None)

    @property
    def device(self) -> _devices.device:
        """The device named at construction (looked up when asked: that starts JAX)."""
        return _devices.device(self._device)

    def manual_seed(self, seed: int) -> Generator:
        """Restarts the stream from ``seed`` and returns this generator."""
        self._initial_seed = int(seed)
        self._state._write(jax.random.key(self._initial_seed))
        return self

    def seed(self) -> int:
        """Restarts the stream from a fresh seed taken from the operating system; returns it."""
        seed = secrets.randbits(63)  # jax.random.key takes a signed 64-bit seed
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """The seed the stream last started from."""
        return self._initial_seed

    def get_state(self) -> Tensor:
        """The stream's state, as a tensor (the JAX key's data: ``uint32`` words, where torch
        gives bytes) that ``set_state`` takes back to replay the draws from here."""
        if self._state._storage.array is None:
            self.manual_seed(self._initial_seed)
        return Tensor._wrap(jax.random.key_data(self._state._read()))

    def set_state(self, new_state: Tensor) -> Generator:
        """Restores a state that ``get_state`` gave; returns this generator."""
        data = new_state._read() if isinstance(new_state, Tensor) else new_state
        current = jax.random.key_data(jax.random.key(0))
        if getattr(data, "shape", None) != current.shape or data.dtype != current.dtype:
            raise RuntimeError(
                f"set_state expects a state from get_state: {current.dtype} words of shape "
                f"{list(current.shape)}, but got {getattr(data, 'dtype', type(data).__name__)} "
                f"of shape {list(getattr(data, 'shape', ()))}. Pass what get_state (or "
                "funcgrad.get_rng_state) returned.")
        self._state._write(jax.random.wrap_key_data(data))
        return self

    def clone_state(self) -> Generator:
        """A new generator on this one's device, at this one's seed and place in the stream:
        both draw the same numbers from here on."""
        clone = Generator(self._device)
        clone._initial_seed = self._initial_seed
        if self._state._storage.array is not None:  # else both start from the seed
            clone._state._write(self._state._read())
        return clone

    def next_key(self) -> jax.Array:
        """A fresh JAX key (advancing the stream)."""
        if _vmap_randomness and _vmap_randomness[-1] == "error":
            raise RuntimeError(
                "vmap: called random operation while in randomness error mode. Please either "
                "use the 'same' or 'different' randomness flags on vmap or perform the "
                "randomness operation out of vmap")
        if self._state._storage.array is None:
            self.manual_seed(self._initial_seed)
        # Split eagerly while the generator holds a concrete key, even inside a jit, vjp or
        # grad trace: a draw there must not leave a tracer in the generator. (Under
        # funcgrad.compile the key is itself traced state, and the split is staged as usual.)
        with jax.ensure_compile_time_eval():
            state, key = jax.random.split(self._state._read())
        self._state._write(state)
        return key


# The global stream starts from seed 0 (as funcgrad always has), not torch's default seed.
default_generator = Generator()
default_generator._initial_seed = 0

# The randomness= of the torch.func.vmap calls whose functions are running, innermost last.
_vmap_randomness: list[str] = []


@contextlib.contextmanager
def vmap_randomness(randomness: str, axis_name):
    """Inside the function that ``torch.func.vmap`` maps over the axis ``axis_name``: with
    ``'error'`` a draw raises torch's error; with ``'different'`` the global generator gives
    each element a stream of its own (one key drawn from it, folded with the element's index),
    and is left advanced by that one draw; ``'same'`` changes nothing: every element draws the
    same numbers."""
    storage = default_generator._state._storage
    if randomness == "different":
        key = default_generator.next_key()
        outer, storage.array = storage.array, jax.random.fold_in(key,
                                                                  jax.lax.axis_index(axis_name))
    _vmap_randomness.append(randomness)
    try:
        yield
    finally:
        _vmap_randomness.pop()
        if randomness == "different":
            storage.array = outer


def manual_seed(seed: int) -> Generator:
    """Seeds the generator behind ``rand``, ``randn``, ``randint``, ``randperm`` and dropout;
    returns it.

    >>> import funcgrad
    >>> g = funcgrad.manual_seed(0); a = funcgrad.rand(2)
    >>> g = funcgrad.manual_seed(0); bool((a == funcgrad.rand(2)).all())
    True
    """
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Restarts the global generator from a fresh seed taken from the operating system and
    returns it (``Generator.seed``), as ``torch.seed``: a run seeded so is not repeatable,
    unless it records the seed."""
    return default_generator.seed()


def next_key(generator: Generator | None = None) -> jax.Array:
    """A fresh JAX key from ``generator`` (by default the global one), advancing it."""
    return (generator or default_generator).next_key()


def rand(*size, generator: Generator | None = None, dtype=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1), from ``generator`` (by default the global one)."""
    dtype = _float_dtype(dtype)
    return _finish(jax.random.uniform(next_key(generator), _shape(size), dtype), dtype, device,
                   requires_grad)


def randn(*size, generator: Generator | None = None, dtype=None, device=None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples, from ``generator`` (by default the global one)."""
    dtype = _float_dtype(dtype)
    return _finish(jax.random.normal(next_key(generator), _shape(size), dtype), dtype, device,
                   requires_grad)


def rand_like(input, *, generator: Generator | None = None, dtype=None, device=None,
              requires_grad: bool = False, memory_format=_layouts.preserve_format) -> Tensor:
    """``rand`` of ``input``'s shape, dtype and device (unless given)."""
    _layouts.check("rand_like", memory_format, input.ndim)
    return rand(*input.shape, generator=generator, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


def randn_like(input, *, generator: Generator | None = None, dtype=None, device=None,
               requires_grad: bool = False, memory_format=_layouts.preserve_format) -> Tensor:
    """``randn`` of ``input``'s shape, dtype and device (unless given)."""
    _layouts.check("randn_like", memory_format, input.ndim)
    return randn(*input.shape, generator=generator, dtype=dtype or input.dtype,
                 device=device or input.device, requires_grad=requires_grad)


def randint(low, high=None, size=(), *, generator: Generator | None = None, dtype=None,
            device=None) -> Tensor:
    """Uniform integers in ``[low, high)``, from ``generator`` (by default the global one)."""
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    dtype = _dtypes.default_int() if dtype is None else _dtypes.resolve(dtype)
    # (JAX draws no bools: a bool tensor's 0s and 1s are drawn as ints)
    draws = jax.random.randint(next_key(generator), _shape((size,)), low, high,
                               jnp.int32 if dtype == _dtypes.bool else dtype).astype(dtype)
    return _finish(draws, dtype, device, False)


def randint_like(input, low: int = 0, high: int | None = None, *,
                 generator: Generator | None = None, dtype=None, device=None,
                 requires_grad: bool = False, memory_format=_layouts.preserve_format) -> Tensor:
    """``randint`` of ``input``'s shape, dtype and device (unless given): integers in
    ``[low, high)``, or ``[0, low)`` given one bound."""
    _layouts.check("randint_like", memory_format, input.ndim)
    if high is None:
        low, high = 0, low
    dtype = input.dtype if dtype is None else _dtypes.resolve(dtype)
    draws = randint(low, high, tuple(input.shape), generator=generator,
                    device=device or input.device)
    return _finish(draws._read().astype(dtype), dtype, device or input.device, requires_grad)


def initial_seed() -> int:
    """The seed the global generator last started from."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The global generator's state (``Generator.get_state``).

    >>> import funcgrad
    >>> state = funcgrad.get_rng_state(); a = funcgrad.rand(2)
    >>> funcgrad.set_rng_state(state); bool((a == funcgrad.rand(2)).all())
    True
    """
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restores the global generator's state from ``get_rng_state``."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str | None = None):
    """Within the block, the global generator draws (or is seeded) as it likes; at its end it
    is back where it was, its state and its initial seed, as ``torch.random.fork_rng`` leaves
    it. funcgrad has one stream for every device, so forking it forks them all: ``devices``
    only has to name devices that exist (of ``device_type``, by default ``"cuda"``), as torch
    checks (``_caller`` and ``_devices_kw`` are torch's, for the callers that pass them), and
    ``enabled=False`` forks nothing.

    >>> import funcgrad
    >>> _ = funcgrad.manual_seed(0); first = funcgrad.rand(2)
    >>> _ = funcgrad.manual_seed(0)
    >>> with funcgrad.random.fork_rng():
    ...     _ = funcgrad.manual_seed(5); noise = funcgrad.rand(3)
    >>> funcgrad.initial_seed(), bool((funcgrad.rand(2) == first).all())
    (0, True)
    """
    if not enabled or device_type == "meta":
        yield
        return
    for index in [] if devices is None else list(devices):
        _devices.device(device_type or "cuda", index)  # torch's error for one that is not there
    state, initial = default_generator.get_state(), default_generator.initial_seed()
    try:
        yield
    finally:
        default_generator.set_state(state)
        default_generator._initial_seed = initial


def randperm(n: int, dtype=None, device=None, *, generator: Generator | None = None) -> Tensor:
    """A random permutation of ``0 .. n-1``, from ``generator`` (by default the global one)."""
    _shape((n,))
    dtype = _dtypes.default_int() if dtype is None else _dtypes.resolve(dtype)
    permutation = jax.random.permutation(next_key(generator), n).astype(dtype)
    return _finish(permutation, dtype, device, False)


def _triangle_indices(name: str, fn, row: int, col: int, offset: int, dtype, device) -> Tensor:
    for label, size in (("row", row), ("col", col)):
        if size < 0:
            raise RuntimeError(f"{label} must be non-negative, got{size}")  # (torch's spacing)
    dtype = _dtypes.default_int() if dtype is None else _dtypes.resolve(dtype)
    if dtype.kind not in "iu":
        raise NotImplementedError(f"\"{name}\" not implemented for '{_dtypes.scalar_name(dtype)}'")
    return _finish(np.stack(fn(row, offset, col)).astype(dtype), dtype, device, False)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The ``(2, n)`` row and column indices of the lower triangle of a ``row`` by ``col``
    matrix (on and below diagonal ``offset``), row by row."""
    return _triangle_indices("tril_indices", np.tril_indices, row, col, offset, dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The ``(2, n)`` row and column indices of the upper triangle of a ``row`` by ``col``
    matrix (on and above diagonal ``offset``), row by row."""
    return _triangle_indices("triu_indices", np.triu_indices, row, col, offset, dtype, device)


def _new(fn):
    def method(self, *args, dtype=None, device=None, requires_grad: bool = False, **kw):
        if "size" in kw:  # torch's keyword for the size: new_ones(size=(2, 3))
            args = (kw.pop("size"), *args)
        return fn(*args, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad, **kw)

    return method


def legacy_new(dtype, device, *args) -> Tensor:
    """torch's legacy constructor, behind ``x.new(...)`` and the legacy tensor types
    (``funcgrad.FloatTensor(...)``), making ``dtype`` on ``device`` (a ``device``): from
    ``(2, 3)`` or ``(size)`` an uninitialized tensor of that size (as ``empty``'s), from ``()``
    an empty one, from ``(data)`` a tensor of ``data`` (a list or tuple is data, never a size)
    and from ``(tensor)`` that tensor's storage, which must hold ``dtype`` on ``device``.

    Raises:
        TypeError: torch's, for a number or string as data, a size that is not all ints, or a
            tensor of another dtype or device.
    """
    if len(args) == 1 and isinstance(args[0], Tensor):
        other = args[0]
        if (other.dtype, other.device) != (dtype, device):
            raise TypeError(
                f"new(): a tensor given as data must already be of the dtype and device made "
                f"({_dtypes.name(dtype)} on {device}), got {_dtypes.name(other.dtype)} on "
                f"{other.device}: convert it first with .to()")
        return other.detach()
    if len(args) == 1 and not (_is_size(args[0]) or isinstance(args[0], Size)):
        data = args[0]
        if isinstance(data, str):
            raise TypeError("new(): invalid data type 'str'")
        if data is None or isinstance(data, _NUMBERS):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        return tensor(data, dtype=dtype, device=device)
    size = args[0] if len(args) == 1 and isinstance(args[0], Size) else args
    for i, n in enumerate(size):
        if not _is_size(n):
            raise TypeError(f"new(): argument 'size' failed to unpack the object at pos "
                            f"{i + 1} with error \"type must be tuple of ints,but got "
                            f"{type(n).__name__}\"")
    return empty(size if args else (0,), dtype=dtype, device=device)


def _legacy_new(self, *args, device=None) -> Tensor:
    """torch's ``x.new(...)``: ``legacy_new`` of ``x``'s dtype, on ``x``'s device unless
    ``device`` is given.

    >>> import funcgrad
    >>> x = funcgrad.zeros(2, dtype=funcgrad.float16)
    >>> x.new(2, 3).shape, x.new([1, 2])
    (funcgrad.Size([2, 3]), tensor([1., 2.], dtype=funcgrad.float16))
    """
    return legacy_new(self.dtype, self.device if device is None else _devices.device(device),
                      *args)


def _is_size(n) -> bool:
    return isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_))


def _uniform_(self, from_: float = 0.0, to: float = 1.0, *,
              generator: Generator | None = None) -> Tensor:
    """Fills with uniform samples in ``[from_, to)``, from ``generator`` (by default the global
    one), in place (torch's ``uniform_(from, to)``: ``from`` is a Python keyword)."""
    return self.copy_(rand_like(self, generator=generator) * (to - from_) + from_)


def _normal_(self, mean: float = 0.0, std: float = 1.0, *,
             generator: Generator | None = None) -> Tensor:
    """Fills with normal samples of ``mean`` and ``std``, from ``generator`` (by default the
    global one), in place."""
    return self.copy_(randn_like(self, generator=generator) * std + mean)


Tensor.uniform_ = _uniform_
Tensor.normal_ = _normal_
Tensor.new = _legacy_new
Tensor.new_tensor = _new(tensor)
Tensor.new_empty = _new(empty)
Tensor.new_empty_strided = _new(empty_strided)
Tensor.new_zeros = _new(zeros)
Tensor.new_ones = _new(ones)
Tensor.new_full = _new(full)

"""Automatic mixed precision, as torch's ``autocast``: inside an autocast region, each op on a
policy list casts its floating inputs first, matmuls and convolutions down to the region's
lower precision (bfloat16 by default on the CPU, float16 on a GPU), and ops that need the range,
such as losses, reductions of products and linear algebra, up to float32.

An op casts as torch's autocast kernel does: only the tensors on the region's device type, of a
floating dtype other than float64; each cast is an op of the graph (``ToCopyBackward0``), so
gradients flow back in the inputs' own dtypes. Inside a policy op, autocast is off, as torch
redispatches below its autocast key: a composite here that calls other listed functions casts
once, at its own entry; in-place ops never cast. The lists are torch 2.13's for its CPU
autocast, as that build's ops behave (``tests/test_autocast.py`` runs every op case of
``test_ops`` under both). A GPU region uses the same lists for now: torch's CUDA lists also
keep exp, log, pow, softmax, sum and the norms in float32, which these do not yet. A leaf's
cast to the lower precision is made once per outermost region (``cache_enabled``), so both
uses of a weight read one ``ToCopyBackward0``.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import warnings

from . import _dtypes

LOWER, FP32, NONE = "lower", "fp32", "none"
_DEFAULT_DTYPES = {"cpu": "bfloat16", "cuda": "float16"}

# Per device type enabled here: its lower-precision dtype. None outside any region.
_regions = contextvars.ContextVar("funcgrad_autocast", default=None)
_dtypes_set: dict[str, object] = {}  # set_autocast_dtype's choices, per device type
_cache_enabled = contextvars.ContextVar("funcgrad_autocast_cache", default=True)
_nesting = contextvars.ContextVar("funcgrad_autocast_nesting", default=0)
_cache: dict[int, tuple] = {}  # id of a leaf -> (leaf, its cast): kept while a region is open


def autocast_policy(kind: str):
    """Decorates a public function with its autocast policy: ``LOWER`` (cast to the region's
    dtype), ``FP32`` (cast to float32) or ``NONE`` (a fused op in torch: its inner ops do not
    cast)."""

    def decorate(fn):
        @functools.wraps(fn)
        def cast(*args, **kwargs):
            regions = _regions.get()
            if not regions:
                return fn(*args, **kwargs)
            with restored(()):
                if kind == NONE:
                    return fn(*args, **kwargs)
                targets = {device: dtype if kind == LOWER else _dtypes.float32
                           for device, dtype in regions.items()}
                args = [_cast(a, targets) for a in args]
                kwargs = {k: _cast(a, targets) for k, a in kwargs.items()}
                return fn(*args, **kwargs)

        return cast

    return decorate


def _cast(a, targets: dict, cache: bool = True):
    """``a`` (a tensor, or a list or tuple of them) with each eligible tensor cast; ``cache``:
    a leaf's cast to the lower precision comes from the region's cache."""
    from ._tensor import Tensor

    if isinstance(a, (list, tuple)) and any(isinstance(t, Tensor) for t in a):
        return type(a)(_cast(t, targets, cache) for t in a)
    if not isinstance(a, Tensor) or not _dtypes.is_floating(a.dtype) or a.dtype == _dtypes.float64:
        return a
    to = targets.get(a.device.type)
    if to is None or a.dtype == to:
        return a
    cached = cache and to != _dtypes.float32 and a.dtype == _dtypes.float32 and a.requires_grad \
        and a.grad_fn is None and _cache_enabled.get()
    if not cached:
        return a.to(to)
    hit = _cache.get(id(a))
    if hit is None or hit[0] is not a or hit[1].dtype != to:
        hit = _cache[id(a)] = (a, a.to(to))
    return hit[1]


class autocast:
    """A context manager (or decorator) in whose region the ops on autocast's lists run in mixed
    precision on ``device_type``'s tensors, as ``torch.autocast``.

    Args:
        device_type: ``"cpu"`` or ``"cuda"``, the type of the devices whose tensors cast.
        dtype: the lower precision, ``bfloat16`` or ``float16`` (default: ``get_autocast_dtype``).
        enabled: False makes a region where nothing casts (inside an enabled one, say).
        cache_enabled: whether a leaf's cast is made once per region (default True).

    >>> import funcgrad
    >>> w = funcgrad.ones(2, 2, requires_grad=True)
    >>> with funcgrad.autocast("cpu"):
    ...     y = w @ w
    >>> y.dtype == funcgrad.bfloat16, y.grad_fn.name()
    (True, 'MmBackward0')
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        _check_device_type(device_type)
        if not is_autocast_available(device_type):
            raise RuntimeError(
                f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = _cache_enabled.get() if cache_enabled is None else cache_enabled
        name = device_type.upper()
        if enabled and device_type == "cuda" and not _cuda_available():
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                          stacklevel=2)
            enabled = False
        elif enabled and not _dtypes.is_low_precision(self.fast_dtype):
            warnings.warn(
                f"In {name} autocast, but the target dtype is not supported. Disabling "
                f"autocast.\n{name} Autocast only supports dtypes of funcgrad.bfloat16, "
                "funcgrad.float16 currently.", stacklevel=2)
            enabled = False
        self._enabled = enabled
        self._tokens: list = []

    def __enter__(self) -> autocast:
        regions = dict(_regions.get() or {})
        if self._enabled:
            regions[self.device] = self.fast_dtype
        else:
            regions.pop(self.device, None)
        self._tokens.append((_regions.set(regions), _cache_enabled.set(self._cache_enabled),
                             _nesting.set(_nesting.get() + 1)))
        return self

    def __exit__(self, *exc) -> None:
        regions, cache, nesting = self._tokens.pop()
        _nesting.reset(nesting)
        if _nesting.get() == 0:
            _cache.clear()
        _cache_enabled.reset(cache)
        _regions.reset(regions)

    def __call__(self, func):
        @functools.wraps(func)
        def in_region(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return in_region


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorates the ``forward`` of an ``autograd.Function`` for autocast regions, as torch's:
    with ``cast_inputs`` (a dtype), in a region on ``device_type``, the floating inputs are cast
    to it and ``forward`` runs with autocast off; without, ``forward`` runs in the region as it
    is. Either way ``custom_bwd`` then runs ``backward`` as ``forward`` ran.

    >>> import funcgrad
    >>> class Square(funcgrad.autograd.Function):
    ...     @staticmethod
    ...     @funcgrad.amp.custom_fwd(device_type="cpu", cast_inputs=funcgrad.float32)
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x @ x
    ...     @staticmethod
    ...     @funcgrad.amp.custom_bwd(device_type="cpu")
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return g @ x.mT + x.mT @ g
    >>> with funcgrad.autocast("cpu"):
    ...     y = Square.apply(funcgrad.eye(2, dtype=funcgrad.bfloat16))
    >>> y.dtype == funcgrad.float32
    True
    """
    _check_device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def forward(ctx, *args, **kwargs):
        ctx._dtype = get_autocast_dtype(device_type)
        in_region = is_autocast_enabled(device_type)
        ctx._fwd_used_autocast = in_region and cast_inputs is None
        if cast_inputs is None or not in_region:
            return fwd(ctx, *args, **kwargs)
        targets = {device_type: cast_inputs}
        with autocast(device_type, enabled=False):
            return fwd(ctx, *_cast(args, targets, cache=False),
                       **{k: _cast(v, targets, cache=False) for k, v in kwargs.items()})

    return forward


def custom_bwd(bwd=None, *, device_type: str):
    """Decorates the ``backward`` of an ``autograd.Function`` whose ``forward`` ``custom_fwd``
    decorates: it runs in the autocast state that ``forward`` ran in."""
    _check_device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def backward(ctx, *args, **kwargs):
        with autocast(device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(ctx, *args, **kwargs)

    return backward


def _check_device_type(device_type) -> None:
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")


def regions() -> tuple:
    """The autocast regions on now, as a hashable key: ``(device type, dtype)`` pairs."""
    return tuple(sorted((_regions.get() or {}).items()))


@contextlib.contextmanager
def restored(key: tuple):
    """Runs a block in the autocast regions of a ``regions()`` key."""
    token = _regions.set(dict(key) or None)
    try:
        yield
    finally:
        _regions.reset(token)


@contextlib.contextmanager
def traced(key: tuple):
    """``restored(key)`` for a block that JAX traces (a Function's forward, a branch of
    cond), without the cast cache: its casts of traced values must not outlive the trace."""
    token = _cache_enabled.set(False)
    try:
        with restored(key):
            yield
    finally:
        _cache_enabled.reset(token)


def _cuda_available() -> bool:
    from . import cuda

    return cuda.is_available()


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast supports ``device_type``: ``"cpu"`` and ``"cuda"`` here. A string that
    names no device type raises the error ``funcgrad.device`` gives it."""
    from ._devices import device

    return device_type in _DEFAULT_DTYPES or device(device_type) is None


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether an autocast region is on for ``device_type`` (``"cuda"`` when None, as torch)."""
    return ("cuda" if device_type is None else device_type) in (_regions.get() or ())


def get_autocast_dtype(device_type: str):
    """The lower precision autocast uses on ``device_type``: set by ``set_autocast_dtype``, else
    bfloat16 on the CPU and float16 on a GPU."""
    return _dtypes_set.get(device_type) or getattr(_dtypes, _DEFAULT_DTYPES[device_type])


def set_autocast_dtype(device_type: str, dtype) -> None:
    """Sets the lower precision of later ``autocast(device_type)`` regions with no dtype."""
    _dtypes_set[device_type] = dtype


def is_autocast_cache_enabled() -> bool:
    return _cache_enabled.get()


def clear_autocast_cache() -> None:
    """Forgets the leaves' casts made so far."""
    _cache.clear()

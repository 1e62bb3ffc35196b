"""``funcgrad.config``: switches for the engine's tiers and the sizes of its caches; torch's
setting of how float32 matrix products compute, kept in JAX's own; torch's
deterministic-algorithms settings; and its switches for warnings and denormal numbers."""

from __future__ import annotations

import dataclasses
import os
import warnings

import jax


@dataclasses.dataclass
class Config:
    """Engine settings; change them on ``funcgrad.config``.

    Attributes:
        compiled_backward: run the backward of a recurring graph structure as one compiled
            program (results are the same either way; off is for debugging).
        compile_after: how many times a structure must be seen before it is compiled (first
            backwards of one-off graphs stay interpreted, which starts faster).
        cache_size: how many compiled structures to keep (least recently used go first).
        recompile_warn_after: how many different structures one line of code (a
            ``.backward()`` call, say) may compile before a ``RecompileWarning`` says what
            keeps changing; ``funcgrad.debug.explain_recompiles()`` lists every reason.
        lazy: defer forward work, backward work and in-place updates until a value is read,
            then run them as one program (compiled once the structure recurs); shapes, dtypes
            and errors still come at each op. Results are the same either way; off runs every
            op at once, which is for debugging and for timing single ops.
        max_pending: the most pending ops behind one value before it is computed anyway, so
            memory stays flat in a loop that never reads a value.
        shape_cache_size: how many abstract evaluations (an op's output shape and dtype for
            its inputs' shapes and dtypes) the lazy tier keeps.
        rule_cache_size: how many per-op VJP rules (each a jitted function, compiled per
            shape) and ops recorded from them under ``create_graph`` to keep.

    >>> import funcgrad
    >>> funcgrad.config.compiled_backward
    True
    """

    compiled_backward: bool = True
    compile_after: int = 2
    cache_size: int = 256
    recompile_warn_after: int = 8
    lazy: bool = True
    max_pending: int = 10_000
    shape_cache_size: int = 4096
    rule_cache_size: int = 4096


config = Config()


# torch's float32 matmul precisions, each as JAX's jax_default_matmul_precision spells it.
_MATMUL_PRECISIONS = {"highest": "float32", "high": "tensorfloat32", "medium": "bfloat16"}
# JAX's names for those settings (its older 'highest' and 'high' too), and what each backend
# does with JAX's default.
_TORCH_NAMES = {v: k for k, v in _MATMUL_PRECISIONS.items()} | {"highest": "highest",
                                                                 "high": "high"}
_BACKEND_DEFAULTS = {"gpu": "high", "tpu": "medium"}  # a CPU computes float32 in float32


# What set_num_threads and set_num_interop_threads were given (see set_num_threads).
_threads: dict[str, int] = {}


def _set_threads(name: str, n: int) -> None:
    if type(n) is not int:
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{name} expects a positive integer")
    _threads[name] = n


def set_num_threads(n: int) -> None:
    """Takes torch's thread setting, checked as torch checks it, for code that sets it. It
    changes nothing: XLA sizes its CPU thread pools when its backend starts (to the cores
    there are), and ``get_num_threads`` gives back what was set.

    >>> import funcgrad
    >>> funcgrad.set_num_threads(2); funcgrad.get_num_threads()
    2
    """
    _set_threads("set_num_threads", n)


def get_num_threads() -> int:
    """What ``set_num_threads`` was given, or else the number of cores."""
    return _threads.get("set_num_threads") or os.cpu_count()


def set_num_interop_threads(n: int) -> None:
    """``set_num_threads``'s twin for torch's inter-op pool: checked, kept, and nothing else."""
    _set_threads("set_num_interop_threads", n)


def get_num_interop_threads() -> int:
    """What ``set_num_interop_threads`` was given, or else the number of cores."""
    return _threads.get("set_num_interop_threads") or os.cpu_count()


def set_float32_matmul_precision(precision: str) -> None:
    """Sets how float32 matrix products (matmul, linear layers, convolutions, einsum) may
    compute, as torch's does: ``'highest'`` in float32; ``'high'`` may round their inputs to
    TensorFloat32 (NVIDIA GPUs since Ampere, whose JAX default this is); ``'medium'`` may
    compute in bfloat16 (TPUs' default). It sets JAX's ``jax_default_matmul_precision``
    (``'float32'``, ``'tensorfloat32'``, ``'bfloat16'``), so it holds for JAX code and
    funcgrad's transforms too, and work already recorded keeps the setting it was recorded
    under. A CPU computes in float32 whatever is set.

    Args:
        precision: ``'highest'``, ``'high'`` or ``'medium'``; another string warns and
            changes nothing, as in torch.

    Raises:
        RuntimeError: ``precision`` is not a string.

    >>> import funcgrad
    >>> funcgrad.set_float32_matmul_precision("high")
    >>> funcgrad.get_float32_matmul_precision()
    'high'
    >>> funcgrad.set_float32_matmul_precision("highest")
    """
    if not isinstance(precision, str):
        raise RuntimeError("set_float32_matmul_precision expects a str, but got "
                           f"{type(precision).__name__}")
    if precision not in _MATMUL_PRECISIONS:
        # torch's words (its missing space included).
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", stacklevel=2)
        return
    jax.config.update("jax_default_matmul_precision", _MATMUL_PRECISIONS[precision])


def get_float32_matmul_precision() -> str:
    """The precision float32 matrix products may compute in, in torch's names (see
    ``set_float32_matmul_precision``): what JAX's ``jax_default_matmul_precision`` (the
    setting in force, a ``jax.default_matmul_precision`` block included) says, and where it is
    JAX's default or an algorithm preset, what the default backend does by default:
    ``'highest'`` on a CPU, ``'high'`` on a GPU (TensorFloat32), ``'medium'`` on a TPU.

    >>> import funcgrad, jax
    >>> with jax.default_matmul_precision("tensorfloat32"):
    ...     funcgrad.get_float32_matmul_precision()
    'high'
    """
    name = _TORCH_NAMES.get(jax.default_matmul_precision.value)
    return name or _BACKEND_DEFAULTS.get(jax.default_backend(), "highest")


@dataclasses.dataclass
class _Determinism:
    """torch's deterministic-algorithms settings: whether they are asked for, whether only a
    warning (not an error) is due where they are not had, and whether uninitialized memory
    (``empty``, a grown ``resize_``) is filled with a known value then."""

    enabled: bool = False
    warn_only: bool = False
    fill_uninitialized_memory: bool = True


determinism = _Determinism()
# The XLA flag that makes a GPU's scatters and reductions deterministic; XLA reads XLA_FLAGS
# once, when JAX starts the GPU backend.
_XLA_DETERMINISTIC = "--xla_gpu_deterministic_ops=true"


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Asks for deterministic algorithms, as ``torch.use_deterministic_algorithms``: while on,
    ``empty`` and the other uninitialized tensors come filled with NaN (the largest value for
    an integer dtype, True for bool), unless ``funcgrad.utils.deterministic.
    fill_uninitialized_memory`` is False, as torch's do. XLA on a CPU computes every op
    deterministically already; on a GPU, XLA's scatters (index_add, the gradient of an
    embedding or of an indexing) are deterministic only when JAX starts with
    ``XLA_FLAGS=--xla_gpu_deterministic_ops=true``, which turning this on there without it
    warns about (set it in the environment before JAX starts; it cannot change afterwards).

    Raises:
        TypeError: ``mode`` or ``warn_only`` is not a bool (torch's words).

    >>> import funcgrad
    >>> funcgrad.use_deterministic_algorithms(True)
    >>> funcgrad.empty(2), funcgrad.are_deterministic_algorithms_enabled()
    (tensor([nan, nan]), True)
    >>> funcgrad.use_deterministic_algorithms(False)
    """
    for name, value, where in (("mode", mode, " (position 1)"), ("warn_only", warn_only, "")):
        if not isinstance(value, bool):
            raise TypeError(f"_set_deterministic_algorithms(): argument '{name}'{where} must be "
                            f"bool, not {type(value).__name__}")
    if mode and jax.default_backend() == "gpu" and _XLA_DETERMINISTIC not in os.environ.get(
            "XLA_FLAGS", ""):
        warnings.warn(
            "use_deterministic_algorithms(True): JAX's GPU backend started without "
            f"{_XLA_DETERMINISTIC} in XLA_FLAGS, so its scatters (index_add, the gradients of "
            "embeddings and indexing) may add in a different order from run to run. Set "
            f"XLA_FLAGS={_XLA_DETERMINISTIC} in the environment before JAX starts.",
            stacklevel=2)
    determinism.enabled, determinism.warn_only = mode, warn_only


def are_deterministic_algorithms_enabled() -> bool:
    """Whether ``use_deterministic_algorithms(True)`` is in force."""
    return determinism.enabled


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether it was given ``warn_only=True``."""
    return determinism.warn_only


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode: str | int) -> None:
    """torch's other spelling of ``use_deterministic_algorithms``: ``'default'`` (0) turns it
    off, ``'warn'`` (1) on with ``warn_only``, ``'error'`` (2) on."""
    if not isinstance(debug_mode, (str, int)):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    """0, 1 or 2 (see ``set_deterministic_debug_mode``), from the settings in force."""
    return 0 if not determinism.enabled else 1 if determinism.warn_only else 2


_warn_always = [False]


def set_warn_always(b: bool) -> None:
    """Sets torch's flag that makes its once-per-process warnings warn every time. funcgrad's
    warnings go through Python's ``warnings``, whose filters decide how often each shows; the
    flag is kept for ``is_warn_always_enabled``."""
    _warn_always[0] = bool(b)


def is_warn_always_enabled() -> bool:
    """Whether ``set_warn_always(True)`` is in force."""
    return _warn_always[0]


def set_flush_denormal(mode: bool) -> bool:
    """torch's switch for flushing denormal floats to zero, and whether it could be set. XLA
    flushes them on the CPU always (a ``1e-39 * 0.5`` in float32 is 0), so flushing is
    already on: True for ``mode`` True, and False for False, which XLA cannot do.

    >>> import funcgrad
    >>> funcgrad.set_flush_denormal(True)
    True
    """
    return bool(mode)

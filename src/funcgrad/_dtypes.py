"""Dtypes: torch's names for NumPy/JAX dtypes, the default dtype, and the 64-bit rule.

funcgrad's dtypes *are* NumPy dtype objects, so ``x.dtype == jnp.float32`` holds and any JAX
function accepts them, and their class, ``funcgrad.dtype``, is ``numpy.dtype``. JAX only makes
64-bit arrays when ``jax_enable_x64`` is on; funcgrad never turns it on for you (importing a
library must not change global configuration), so asking for a 64-bit dtype without it is an
error that says how to turn it on.
"""

from __future__ import annotations

import builtins
import functools

import jax
import jax.numpy as jnp
import numpy as np

float16 = half = np.dtype("float16")
bfloat16 = jnp.dtype(jnp.bfloat16)
float32 = float = np.dtype("float32")  # noqa: A001 - torch's public names
float64 = double = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int16 = short = np.dtype("int16")
int32 = int = np.dtype("int32")  # noqa: A001
int64 = long = np.dtype("int64")
uint16 = np.dtype("uint16")
uint32 = np.dtype("uint32")
uint64 = np.dtype("uint64")
bool = np.dtype("bool")  # noqa: A001
complex64 = cfloat = np.dtype("complex64")
complex128 = cdouble = np.dtype("complex128")
# ml_dtypes' 8-bit floats, which JAX exports and torch names the same
float8_e4m3fn = jnp.dtype(jnp.float8_e4m3fn)
float8_e5m2 = jnp.dtype(jnp.float8_e5m2)
float8_e4m3fnuz = jnp.dtype(jnp.float8_e4m3fnuz)
float8_e5m2fnuz = jnp.dtype(jnp.float8_e5m2fnuz)
float8_e8m0fnu = jnp.dtype(jnp.float8_e8m0fnu)

_NAMES = {
    float16: "float16", bfloat16: "bfloat16", float32: "float32", float64: "float64",
    int8: "int8", uint8: "uint8", int16: "int16", int32: "int32", int64: "int64",
    bool: "bool", complex64: "complex64", complex128: "complex128",
}
# torch's names for the scalar types, as its error messages spell them ("... Got Int").
_SCALAR_NAMES = {
    float16: "Half", bfloat16: "BFloat16", float32: "Float", float64: "Double", int8: "Char",
    uint8: "Byte", int16: "Short", int32: "Int", int64: "Long", bool: "Bool",
    complex64: "ComplexFloat", complex128: "ComplexDouble", uint16: "UInt16", uint32: "UInt32",
    uint64: "UInt64", float8_e4m3fn: "Float8_e4m3fn", float8_e5m2: "Float8_e5m2",
    float8_e4m3fnuz: "Float8_e4m3fnuz", float8_e5m2fnuz: "Float8_e5m2fnuz",
    float8_e8m0fnu: "Float8_e8m0fnu",
}
_default_float = [float32]


def x64_enabled() -> bool:
    return jax.enable_x64.value


def name(dtype) -> str:
    """torch's spelling of a dtype, e.g. ``funcgrad.float64``."""
    dtype = np.dtype(dtype)
    return "funcgrad." + _NAMES.get(dtype, dtype.name)


def scalar_name(dtype) -> str:
    """torch's name of a dtype's scalar type in its error messages, e.g. ``Int`` for int32."""
    dtype = np.dtype(dtype)
    return _SCALAR_NAMES.get(dtype, dtype.name)


def get_default_dtype() -> np.dtype:
    """The dtype of tensors made from Python floats (float32 unless changed).

    >>> import funcgrad
    >>> funcgrad.get_default_dtype()
    dtype('float32')
    """
    return _default_float[0]


def set_default_dtype(dtype) -> None:
    """Sets the dtype of tensors made from Python floats.

    Args:
        dtype: a floating dtype; float64 needs ``jax_enable_x64``.

    Raises:
        TypeError: if ``dtype`` is not a floating dtype.

    >>> import funcgrad
    >>> funcgrad.set_default_dtype(funcgrad.float16); funcgrad.tensor(1.5).dtype
    dtype('float16')
    >>> funcgrad.set_default_dtype(funcgrad.float32)
    """
    dtype = resolve(dtype)
    if not is_floating(dtype):
        raise TypeError(
            f"set_default_dtype only supports floating point dtypes, got {name(dtype)}. "
            "Pass funcgrad.float32, funcgrad.float64, funcgrad.float16 or funcgrad.bfloat16."
        )
    _default_float[0] = dtype


def default_int() -> np.dtype:
    """int64 as torch has it when JAX can make it, else int32."""
    return int64 if x64_enabled() else int32


def default_double() -> np.dtype:
    """float64 where torch makes it whatever the default dtype (Python floats collated into a
    batch, sampler weights) when JAX can make it, else float32."""
    return float64 if x64_enabled() else float32


# Cached: the engine asks for every op it records, and jnp.issubdtype takes a microsecond.
@functools.lru_cache(maxsize=64)
def is_floating(dtype) -> builtins.bool:
    return jnp.issubdtype(dtype, jnp.floating)


@functools.lru_cache(maxsize=64)
def is_complex(dtype) -> builtins.bool:
    return jnp.issubdtype(dtype, jnp.complexfloating)


@functools.lru_cache(maxsize=64)
def is_inexact(dtype) -> builtins.bool:
    return jnp.issubdtype(dtype, jnp.inexact)


def is_low_precision(dtype) -> builtins.bool:
    """float16 or bfloat16: the dtypes torch's composites compute some ops of in float32."""
    return dtype == float16 or dtype == bfloat16


def in_float32(fn):
    """``fn`` of one array, computed in float32 for a half-precision one (which it refuses) and
    cast back, as torch's kernels compute half precision."""

    def computed(x):
        return fn(x.astype(float32)).astype(x.dtype) if is_low_precision(x.dtype) else fn(x)

    return computed


@functools.lru_cache(maxsize=64)
def is_integer(dtype) -> builtins.bool:
    return jnp.issubdtype(dtype, jnp.integer)


def default_complex() -> np.dtype:
    """The complex dtype matching the default float dtype: complex128 for float64, else
    complex64 (torch's default complex dtype)."""
    return complex128 if get_default_dtype() == float64 else complex64


def is_default(dtype) -> builtins.bool:
    """Whether a tensor of this dtype prints without a ``dtype=`` suffix (torch's rule)."""
    return dtype in (get_default_dtype(), default_complex(), default_int(), bool)


def resolve(dtype) -> np.dtype:
    """Checks that JAX can make ``dtype`` as asked and returns it as a NumPy dtype.

    Raises:
        RuntimeError: for a 64-bit dtype while ``jax_enable_x64`` is off.
    """
    dtype = jnp.dtype(dtype)
    if dtype.itemsize == 8 and dtype.kind in "fiuc" and dtype != complex64 and not x64_enabled():
        raise RuntimeError(
            f"{name(dtype)} needs 64-bit mode in JAX, and jax_enable_x64 is off, so JAX would "
            f"silently make {name(jax.dtypes.canonicalize_dtype(dtype))} instead. Turn it on "
            "before creating arrays: jax.config.update('jax_enable_x64', True), or set the "
            "environment variable JAX_ENABLE_X64=1, or use a 32-bit dtype."
        )
    return dtype


def infer(data) -> np.dtype:
    """torch's dtype for data given without ``dtype=``: floats take the default dtype,
    integers int64 (int32 without x64), NumPy and JAX arrays keep theirs (64-bit ones narrowed
    to 32 bits without x64, as JAX itself does)."""
    if hasattr(data, "dtype"):
        return jax.dtypes.canonicalize_dtype(data.dtype)
    kind = max((_kind(v) for v in _scalars(data)), default="f", key="biufc".index)
    if kind == "b":
        return bool
    if kind in "iu":
        return default_int()
    if kind == "c":
        return default_complex()
    return get_default_dtype()


def _kind(value) -> str:
    if hasattr(value, "dtype"):
        return np.dtype(value.dtype).kind
    return {builtins.bool: "b", builtins.int: "i", builtins.complex: "c"}.get(type(value), "f")


def _scalars(data):
    if isinstance(data, (list, tuple)):
        for item in data:
            yield from _scalars(item)
    else:
        yield data


class finfo:
    """torch.finfo: the numerical properties of a floating dtype (of a complex one's parts;
    of the default dtype when none is given), from ``jnp.finfo``, bfloat16 included.

    >>> import funcgrad
    >>> funcgrad.finfo(funcgrad.float16).max
    65504.0
    >>> funcgrad.finfo().eps
    1.1920928955078125e-07
    """

    def __init__(self, type=None) -> None:
        dtype = get_default_dtype() if type is None else jnp.dtype(type)
        if not is_inexact(dtype):
            raise TypeError("funcgrad.finfo() requires a floating point input type. Use "
                            "funcgrad.iinfo to handle 'funcgrad.finfo'")
        info = jnp.finfo(dtype)
        self.bits, self.dtype = builtins.int(info.bits), jnp.dtype(info.dtype).name
        self.eps, self.max, self.min = builtins.float(info.eps), builtins.float(info.max), \
            builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision  # exactly, as torch gives it

    def __eq__(self, other) -> builtins.bool:
        return isinstance(other, finfo) and self.dtype == other.dtype

    def __hash__(self) -> builtins.int:
        return hash(("finfo", self.dtype))

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """torch.iinfo: the range of an integer dtype, from ``jnp.iinfo``.

    >>> import funcgrad
    >>> funcgrad.iinfo(funcgrad.uint8)
    iinfo(min=0, max=255, dtype=uint8)
    """

    def __init__(self, type) -> None:
        dtype = jnp.dtype(type)
        if dtype == bool:
            raise TypeError("funcgrad.bool is not supported by funcgrad.iinfo")
        if not is_integer(dtype):
            raise TypeError("funcgrad.iinfo() requires an integer input type. Use "
                            "funcgrad.finfo to handle 'funcgrad.iinfo'")
        info = jnp.iinfo(dtype)
        self.bits, self.dtype = builtins.int(info.bits), dtype.name
        self.min, self.max = builtins.int(info.min), builtins.int(info.max)

    def __eq__(self, other) -> builtins.bool:
        return isinstance(other, iinfo) and self.dtype == other.dtype

    def __hash__(self) -> builtins.int:
        return hash(("iinfo", self.dtype))

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def promote_types(type1, type2) -> np.dtype:
    """The smallest dtype that both cast to, as torch promotes two dtypes.

    >>> import funcgrad
    >>> funcgrad.promote_types(funcgrad.uint8, funcgrad.int8)
    dtype('int16')
    """
    return np.dtype(jnp.promote_types(type1, type2))


def can_cast(from_, to) -> builtins.bool:
    """Whether torch's casting rules let an op write ``from_`` values into ``to`` in place:
    not a complex into a real, a float into an integer, or a non-bool into a bool."""
    return not (is_complex(from_) and not is_complex(to)
                or is_floating(from_) and jnp.issubdtype(to, jnp.integer)
                or from_ != bool and to == bool)


def _category(dtype) -> builtins.int:
    return 0 if dtype == bool else 1 if jnp.issubdtype(dtype, jnp.integer) else (
        3 if is_complex(dtype) else 2)


def _scalar_dtype(value, result) -> np.dtype:
    """The dtype a Python number takes when it lifts ``result`` (None: there is none) to its
    higher category: the defaults, and for a complex the precision of a float ``result``."""
    if isinstance(value, builtins.bool):
        return bool
    if isinstance(value, builtins.int):
        return default_int()
    if isinstance(value, builtins.float):
        return get_default_dtype()
    float_dtype = result if result is not None and _category(result) == 2 else (
        get_default_dtype())
    return complex128 if np.dtype(float_dtype).itemsize == 8 else complex64


def result_type(tensor, other) -> np.dtype:
    """The dtype of an op of ``tensor`` and ``other`` (tensors or numbers), by torch's rule:
    tensors with dimensions decide, then 0-d tensors and then numbers only where they are of a
    higher category (bool, integer, float, complex).

    >>> import funcgrad
    >>> funcgrad.result_type(funcgrad.tensor([1, 2], dtype=funcgrad.int32), 1.0)
    dtype('float32')
    """
    operands = (tensor, other)
    result = None
    for priority in (2, 1):
        group = [x.dtype for x in operands
                 if hasattr(x, "dtype") and (x.ndim > 0) == (priority == 2)]
        if group:
            promoted = functools.reduce(promote_types, group)
            if result is None or _category(promoted) > _category(result):
                result = promoted
    for x in operands:
        if not hasattr(x, "dtype"):
            dtype = _scalar_dtype(x, result)
            if result is None:
                result = dtype
            elif _category(dtype) > _category(result):
                result = dtype
            elif all(not hasattr(y, "dtype") for y in operands):
                result = promote_types(result, dtype)
    return np.dtype(result)

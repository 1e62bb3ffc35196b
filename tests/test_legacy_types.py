"""torch's dtype class, its rarer dtypes (unsigned, 8-bit floats, ``cfloat``), and the legacy
tensor types (``FloatTensor`` …) against torch's: the same reprs (``torch.`` read as
``funcgrad.``), the same ``isinstance`` answers, the same errors; 64-bit types under
``jax.enable_x64`` and, without it, funcgrad's error naming the rule and the fix."""

from __future__ import annotations

import subprocess
import sys
import typing
import warnings

import jax
import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch, message


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def default_dtype(torch):
    """Both libraries' default dtype, restored to float32 afterwards."""
    yield
    torch.set_default_dtype(torch.float32)
    funcgrad.set_default_dtype(funcgrad.float32)


def expected(t) -> str:
    return repr(t).replace("torch.", "funcgrad.")


DTYPE_NAMES = ["float16", "half", "bfloat16", "float32", "float", "float64", "double", "int8",
               "uint8", "int16", "short", "int32", "int", "int64", "long", "bool", "complex64",
               "cfloat", "complex128", "cdouble", "uint16", "uint32", "uint64", "float8_e4m3fn",
               "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu"]
NEW_DTYPES = ["uint16", "uint32", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
              "float8_e5m2fnuz", "float8_e8m0fnu", "cfloat"]
LEGACY_TYPES = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "ByteTensor",
                "CharTensor", "ShortTensor", "IntTensor", "LongTensor", "BoolTensor"]


# ----- the dtype class and the dtype names -----------------------------------------------------
@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_every_dtype_is_a_dtype_and_aliases_are_torchs(torch, name):
    assert isinstance(getattr(funcgrad, name), funcgrad.dtype)
    assert isinstance(getattr(torch, name), torch.dtype)
    # the same aliasing: torch.cfloat is torch.complex64 as funcgrad.cfloat is funcgrad.complex64
    ours = [n for n in DTYPE_NAMES if getattr(funcgrad, n) == getattr(funcgrad, name)]
    theirs = [n for n in DTYPE_NAMES if getattr(torch, n) == getattr(torch, name)]
    assert ours == theirs


def test_a_dtype_annotation_names_the_class():
    def cast(x, dtype: funcgrad.dtype) -> funcgrad.Tensor:
        return x.to(dtype)

    assert typing.get_type_hints(cast)["dtype"] is funcgrad.dtype
    assert not isinstance("float32", funcgrad.dtype)


# ----- the new dtypes: creation, printing, conversion ------------------------------------------
@pytest.mark.parametrize("name", NEW_DTYPES)
def test_new_dtypes_make_and_print_as_torch(torch, name):
    """Zero too, but not in float8_e8m0fnu, which has none: torch rounds it to 2 ** -127,
    ml_dtypes to NaN."""
    zero = 1 if name == "float8_e8m0fnu" else 0

    def made(lib):
        dtype = getattr(lib, name)
        return [lib.tensor([1, 2, 3], dtype=dtype), lib.tensor([[4, zero]], dtype=dtype),
                lib.ones((), dtype=dtype), lib.tensor([1.5, 2.25, 300.0]).to(dtype)]

    for ours, theirs in zip(made(funcgrad), made(torch), strict=True):
        assert repr(ours) == expected(theirs)
        assert ours.type() == theirs.type().replace("torch.", "funcgrad.")


@pytest.mark.parametrize("name", ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
                                  "float8_e5m2fnuz"])
def test_float8_rounds_negatives_and_overflow_as_torch(torch, name):
    """Overflow too (to inf or NaN), but not float8_e4m3fn's: torch saturates it to 448 where
    XLA makes NaN."""
    values = [-2.25, 0.1, -300.0] + ([] if name == "float8_e4m3fn" else [1e6])
    ours, theirs = (lib.tensor(values).to(getattr(lib, name)) for lib in (funcgrad, torch))
    assert repr(ours) == expected(theirs)


def test_uint64_prints_as_torch_under_x64(torch):
    with jax.enable_x64(True):
        ours = funcgrad.tensor([1, 2**40, 300], dtype=funcgrad.uint64)
        theirs = torch.tensor([1, 2**40, 300], dtype=torch.uint64)
        assert repr(ours) == expected(theirs)
        assert ours.type() == "funcgrad.UInt64Tensor" == theirs.type().replace("torch", "funcgrad")


def test_uint64_without_x64_names_the_rule():
    with jax.enable_x64(False), pytest.raises(RuntimeError, match="jax_enable_x64"):
        funcgrad.zeros(2, dtype=funcgrad.uint64)


def test_chalf_is_refused_clearly():
    """torch makes a complex32 tensor; JAX has no such dtype, so funcgrad says so."""
    with pytest.raises(RuntimeError, match=r"ComplexHalf \(complex32\).*\.cfloat\(\)"):
        funcgrad.ones(2).chalf()


# ----- the legacy tensor types ----------------------------------------------------------------
_CALLS = {"data": ([1, 0, 2],), "nested": ([[1.5, 2.0]],), "tuple is data": ((2, 3),),
          "array": (np.array([1, 2]),), "nothing": ()}


@pytest.mark.parametrize("call", _CALLS)
@pytest.mark.parametrize("name", LEGACY_TYPES)
def test_legacy_types_make_what_torchs_make(torch, name, call):
    with jax.enable_x64(True):
        ours = getattr(funcgrad, name)(*_CALLS[call])
        theirs = getattr(torch, name)(*_CALLS[call])
        assert repr(ours) == expected(theirs)
        assert type(ours) is funcgrad.Tensor and type(theirs) is torch.Tensor


@pytest.mark.parametrize("size", [(2, 3), (0,), (4,), "Size", "empty Size"])
@pytest.mark.parametrize("name", ["FloatTensor", "LongTensor", "BoolTensor"])
def test_legacy_types_of_a_size_are_of_that_shape(torch, name, size):
    """Only the shape and dtype: torch leaves the values uninitialized."""
    def made(lib):
        args = {"Size": (lib.Size([2, 1]),), "empty Size": (lib.Size([]),)}.get(size, size)
        return getattr(lib, name)(*args)

    with jax.enable_x64(True):
        ours, theirs = made(funcgrad), made(torch)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert ours.type() == theirs.type().replace("torch.", "funcgrad.")


def test_long_tensor_without_x64_names_the_rule():
    with jax.enable_x64(False), pytest.raises(RuntimeError, match="jax_enable_x64"):
        funcgrad.LongTensor([1, 2])


@pytest.mark.parametrize("name", LEGACY_TYPES)
def test_isinstance_checks_dtype_and_device_as_torch(torch, name):
    with jax.enable_x64(True):
        for dtype in ["float32", "float64", "float16", "bfloat16", "uint8", "int8", "int16",
                      "int32", "int64", "bool", "complex64"]:
            ours = isinstance(funcgrad.zeros(2, dtype=getattr(funcgrad, dtype)),
                              getattr(funcgrad, name))
            theirs = isinstance(torch.zeros(2, dtype=getattr(torch, dtype)), getattr(torch, name))
            assert ours == theirs, dtype
    for lib in (funcgrad, torch):
        assert not isinstance(lib.zeros(2), getattr(lib.cuda, name))
        assert not isinstance([1.0], getattr(lib, name))
        assert not issubclass(getattr(lib, name), lib.Tensor)


@pytest.mark.parametrize("name", LEGACY_TYPES)
def test_legacy_types_print_and_describe_as_torchs(torch, name):
    for ours, theirs in [(getattr(funcgrad, name), getattr(torch, name)),
                         (getattr(funcgrad.cuda, name), getattr(torch.cuda, name))]:
        assert repr(ours) == repr(theirs).replace("torch", "funcgrad")
        assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
        assert (ours.is_cuda, ours.is_sparse) == (theirs.is_cuda, theirs.is_sparse)
        assert ours.layout is funcgrad.strided


@pytest.mark.parametrize("target", ["DoubleTensor", "HalfTensor", "IntTensor", "BoolTensor",
                                    "FloatTensor"])
def test_type_converts_to_a_legacy_type_as_torch(torch, target):
    with jax.enable_x64(True):
        ours = funcgrad.tensor([1.5, 0.0, -3.0]).type(getattr(funcgrad, target))
        theirs = torch.tensor([1.5, 0.0, -3.0]).type(getattr(torch, target))
        assert repr(ours) == expected(theirs)
        assert isinstance(ours, getattr(funcgrad, target))


def test_legacy_type_of_a_tensor_shares_its_storage_as_torch(torch):
    for lib in (funcgrad, torch):
        y = lib.arange(3.0)
        lib.FloatTensor(y).add_(1)
        assert y.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("args", [(2.5,), ("a",), (True,), (None,), (2, 3.0), (-1,)],
                         ids=["float", "str", "bool", "None", "float-size", "negative"])
def test_legacy_types_refuse_as_torch(torch, args):
    assert_raises_as_torch(torch, lambda lib: lib.FloatTensor(*args))


@pytest.mark.parametrize("call", [
    lambda lib: lib.FloatTensor(lib.tensor([1, 2])),
    lambda lib: lib.FloatTensor([1, 2], dtype=lib.float16),
    lambda lib: lib.FloatTensor([1, 2], requires_grad=True),
], ids=["tensor of another dtype", "dtype keyword", "requires_grad keyword"])
def test_legacy_types_refuse_with_torchs_error_type(torch, call):
    """torch's messages print C++ TensorOptions and its argument parser's signatures; ours say
    the rule and the fix."""
    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError, match=r"float32 on cpu|no keyword but device"):
        call(funcgrad)


def test_legacy_types_take_a_cpu_device_only(torch):
    for lib in (funcgrad, torch):
        assert lib.FloatTensor(2, 3, device="cpu").shape == (2, 3)
        assert lib.FloatTensor([1, 2], device=lib.device("cpu")).tolist() == [1.0, 2.0]
        with pytest.raises(RuntimeError):
            lib.FloatTensor([1, 2], device="meta")


@pytest.mark.skipif(funcgrad.cuda.is_available(), reason="JAX sees a GPU")
@pytest.mark.parametrize("args", [(), ([1, 2],), (2, 3)])
def test_cuda_types_without_a_gpu_raise_torchs_type_error(torch, args):
    with pytest.raises(TypeError, match="type torch.cuda.FloatTensor not available") as theirs:
        torch.cuda.FloatTensor(*args)
    with pytest.raises(TypeError, match="type funcgrad.cuda.FloatTensor not available") as ours:
        funcgrad.cuda.FloatTensor(*args)
    assert "Torch not compiled with CUDA enabled" in str(theirs.value)
    assert "funcgrad.cuda.is_available()" in str(ours.value)


@pytest.mark.gpu
def test_cuda_types_make_gpu_tensors():
    x = funcgrad.cuda.FloatTensor([1, 2])
    assert x.is_cuda and x.type() == "funcgrad.cuda.FloatTensor"
    assert isinstance(x, funcgrad.cuda.FloatTensor) and not isinstance(x, funcgrad.FloatTensor)
    assert funcgrad.cuda.IntTensor(2, 3).shape == (2, 3)
    assert isinstance(funcgrad.ones(2).type(funcgrad.cuda.HalfTensor), funcgrad.cuda.HalfTensor)
    with pytest.raises(RuntimeError, match="expects device type: cuda but device type: cpu"):
        funcgrad.cuda.FloatTensor([1], device="cpu")


# ----- set_default_tensor_type and is_storage -------------------------------------------------
def test_set_default_tensor_type_warns_torchs_words(torch, default_dtype):
    """torch warns once per process (TORCH_WARN_ONCE), so its warning comes from a fresh one."""
    code = ("import warnings, torch\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            "    torch.set_default_tensor_type(torch.FloatTensor)\n"
            "print(caught[0].category.__name__, caught[0].message, sep='|')")
    theirs = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    with pytest.warns(UserWarning) as record:
        funcgrad.set_default_tensor_type(funcgrad.FloatTensor)
    assert len(record) == 1
    assert f"UserWarning|{record[0].message}" == message(theirs)


_DEFAULTS = {"half": lambda lib: lib.HalfTensor, "bfloat16": lambda lib: lib.BFloat16Tensor,
             "float": lambda lib: lib.FloatTensor,
             "double by name": lambda lib: "torch.DoubleTensor",
             "half by name": lambda lib: "torch.HalfTensor"}


@pytest.mark.parametrize("t", _DEFAULTS.values(), ids=_DEFAULTS)
def test_set_default_tensor_type_sets_the_default_dtype_as_torch(torch, default_dtype, t):
    with jax.enable_x64(True), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib in (funcgrad, torch):
            lib.set_default_tensor_type(t(lib))
        assert repr(funcgrad.tensor([1.5])) == expected(torch.tensor([1.5]))


_NOT_DEFAULTS = {"int": lambda lib: lib.IntTensor, "a dtype": lambda lib: lib.float64,
                 "int by name": lambda lib: "torch.IntTensor",
                 "no such name": lambda lib: "torch.Foo", "a number": lambda lib: 3}


@pytest.mark.parametrize("t", _NOT_DEFAULTS.values(), ids=_NOT_DEFAULTS)
def test_set_default_tensor_type_refuses_as_torch(torch, default_dtype, t):
    """The same error type and, but for the module's name, message; the default stays."""
    def refused(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(Exception) as info:
                lib.set_default_tensor_type(t(lib))
        return info.value

    ours, theirs = refused(funcgrad), refused(torch)
    assert type(ours) is type(theirs)
    assert str(ours) == str(theirs).replace("'torch'", "'funcgrad'")
    assert funcgrad.get_default_dtype() == funcgrad.float32


def test_double_default_tensor_type_without_x64_names_the_rule(default_dtype):
    with jax.enable_x64(False), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="jax_enable_x64"):
            funcgrad.set_default_tensor_type(funcgrad.DoubleTensor)
    assert funcgrad.get_default_dtype() == funcgrad.float32


def test_is_storage_is_false_for_tensors_and_numbers_as_torch(torch):
    for lib in (funcgrad, torch):
        assert [lib.is_storage(x) for x in (lib.zeros(2), 3, None)] == [False] * 3

"""Tensor metadata torch code reads (byte sizes, strides, contiguity) against torch."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import funcgrad


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 1, 4)])
@pytest.mark.parametrize("dtype", ["float32", "float16", "int32", "bool"])
def test_sizes_and_strides_match_torch(shape, dtype) -> None:
    torch = pytest.importorskip("torch")
    ours = funcgrad.zeros(shape, dtype=getattr(funcgrad, dtype))
    theirs = torch.zeros(shape, dtype=getattr(torch, dtype))
    assert (ours.itemsize, ours.element_size(), ours.nbytes) == (
        theirs.itemsize, theirs.element_size(), theirs.nbytes)
    assert ours.stride() == theirs.stride()
    assert [ours.stride(d) for d in range(-len(shape), len(shape))] == [
        theirs.stride(d) for d in range(-len(shape), len(shape))]
    assert ours.is_contiguous() == theirs.is_contiguous()


FLOATS = ["float32", "float16", "bfloat16", "float64", "complex64", "complex128"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("dtype", [*FLOATS, None])
def test_finfo_matches_torch(dtype) -> None:
    torch = pytest.importorskip("torch")
    ours = funcgrad.finfo() if dtype is None else funcgrad.finfo(getattr(funcgrad, dtype))
    theirs = torch.finfo() if dtype is None else torch.finfo(getattr(torch, dtype))
    fields = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")
    assert [getattr(ours, f) for f in fields] == [getattr(theirs, f) for f in fields]
    assert repr(ours) == repr(theirs)
    assert ours == funcgrad.finfo(ours.dtype) and hash(ours) == hash(funcgrad.finfo(ours.dtype))


@pytest.mark.parametrize("dtype", INTS)
def test_iinfo_matches_torch(dtype) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = funcgrad.iinfo(getattr(funcgrad, dtype)), torch.iinfo(getattr(torch, dtype))
    assert (ours.bits, ours.min, ours.max, ours.dtype, repr(ours)) == (
        theirs.bits, theirs.min, theirs.max, theirs.dtype, repr(theirs))


@pytest.mark.parametrize("call", ["finfo(int32)", "iinfo(float32)", "iinfo(bool)"])
def test_finfo_and_iinfo_refuse_the_other_kind_as_torch(call) -> None:
    torch = pytest.importorskip("torch")
    name, dtype = call.rstrip(")").split("(")
    with pytest.raises(TypeError) as theirs:
        getattr(torch, name)(getattr(torch, dtype))
    with pytest.raises(TypeError) as ours:
        getattr(funcgrad, name)(getattr(funcgrad, dtype))
    assert str(ours.value) == str(theirs.value).replace("torch", "funcgrad")


@pytest.mark.parametrize("expression", ["s[1:]", "s[::-2]", "s[0]", "s[-1]", "s + s", "s + (5,)",
                                        "(5,) + s", "s * 2", "2 * s", "s + ()", "s[5:]"])
def test_size_arithmetic_and_slices_give_sizes_as_torch(expression) -> None:
    torch = pytest.importorskip("torch")
    ours = eval(expression, {"s": funcgrad.zeros(2, 3, 4).shape})
    theirs = eval(expression, {"s": torch.zeros(2, 3, 4).shape})
    assert repr(ours) == repr(theirs).replace("torch", "funcgrad")
    assert ours == theirs


def test_size_refuses_a_list_as_a_tuple_does() -> None:
    torch = pytest.importorskip("torch")
    for lib in (funcgrad, torch):
        with pytest.raises(TypeError):
            lib.zeros(2).shape + [3]


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "int32", "uint8", "int8",
                                   "int16", "bool", "complex64"])
def test_type_names_signedness_and_device_queries_match_torch(dtype) -> None:
    torch = pytest.importorskip("torch")
    ours = funcgrad.zeros(2, 3, dtype=getattr(funcgrad, dtype))
    theirs = torch.zeros(2, 3, dtype=getattr(torch, dtype))
    assert ours.type() == theirs.type().replace("torch.", "funcgrad.")
    assert (ours.is_signed(), ours.is_cpu, ours.get_device(), ours.ndimension()) == (
        theirs.is_signed(), theirs.is_cpu, theirs.get_device(), theirs.ndimension())
    assert ours.is_same_size(funcgrad.ones(2, 3)) and not ours.is_same_size(funcgrad.ones(3, 2))


@pytest.mark.parametrize("target", ["float16", "torch.IntTensor", "funcgrad.ByteTensor",
                                    "torch.BoolTensor", "torch.CharTensor", "torch.ShortTensor"])
def test_type_converts_as_torchs(target) -> None:
    torch = pytest.importorskip("torch")
    # (A negative float has no uint8 value: C leaves the conversion undefined, and torch's
    # and XLA's differ, so the values are non-negative.)
    values = [[1.5, 2.0, 0.0]]
    ours = funcgrad.tensor(values).type(getattr(funcgrad, target, target))
    theirs = torch.tensor(values).type(getattr(torch, target, target.replace("funcgrad",
                                                                             "torch")))
    assert ours.type() == theirs.type().replace("torch.", "funcgrad.")
    assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("convert", ["byte", "char", "short", "cfloat"])
def test_dtype_shorthands_match_torch(convert) -> None:
    torch = pytest.importorskip("torch")
    values = [1.5, 0.0, 3.0]
    ours, theirs = (getattr(lib.tensor(values), convert)() for lib in (funcgrad, torch))
    assert (ours.type(), ours.tolist()) == (theirs.type().replace("torch.", "funcgrad."),
                                            theirs.tolist())


@pytest.mark.parametrize("call", ["type('foo')", "type('torch.FloatStorage')",
                                  "type('numpy.FloatTensor')"])
def test_type_refuses_what_torch_refuses(call) -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as theirs:
        eval(f"x.{call}", {"x": torch.ones(2)})
    with pytest.raises(ValueError) as ours:
        eval(f"x.{call}", {"x": funcgrad.ones(2)})
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("values", [[0.0], [2.0], 0.0, [], [1.0, 2.0]])
def test_is_nonzero_and_bool_match_torch(values) -> None:
    torch = pytest.importorskip("torch")
    for call in (lambda t: t.is_nonzero(), bool):
        try:
            expected = call(torch.tensor(values))
        except RuntimeError as e:
            with pytest.raises(RuntimeError, match=str(e)):
                call(funcgrad.tensor(values))
        else:
            assert call(funcgrad.tensor(values)) is expected


def test_resize_keeps_the_leading_elements_as_torch():
    """Where a resize grows a tensor, torch leaves the new memory as it was and funcgrad
    writes zeros, so only the kept elements are compared."""
    torch = pytest.importorskip("torch")
    for shape, kept in (((2, 2), 4), ((6,), 6), ((3, 3), 6)):
        got = funcgrad.arange(6.0).resize_(*shape)
        want = torch.arange(6.0).resize_(*shape)
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy().ravel()[:kept], want.numpy().ravel()[:kept])
    assert funcgrad.arange(6.0).resize_(3, 3).numpy().ravel()[6:].tolist() == [0.0] * 3
    like = funcgrad.ones(2, 3).resize_as_(funcgrad.ones(3, 2))
    assert tuple(like.shape) == (3, 2)
    for lib in (torch, funcgrad):
        x = lib.ones(3, requires_grad=True) * 2
        with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
            x.resize_(2)
        assert tuple(x.shape) == (3,)


def test_in_place_shape_changes_refuse_leaves_and_bump_the_version_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (torch, funcgrad):
        leaf = lib.ones(2, 3, requires_grad=True)
        for change in (lambda t: t.unsqueeze_(0), lambda t: t.t_(),
                       lambda t: t.transpose_(0, 1), lambda t: t.squeeze_()):
            with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being "
                               "used in an in-place operation."):
                change(leaf)
        assert tuple(leaf.shape) == (2, 3)
        x = lib.ones(2, 3)
        version = x._version
        assert x.unsqueeze_(0) is x and tuple(x.shape) == (1, 2, 3)
        assert x.squeeze_(0).t_() is x and tuple(x.shape) == (3, 2)
        assert x._version == version + 3


def test_float_power_in_place_needs_a_double_tensor_as_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        torch.ones(2).float_power_(2)
    with jax.enable_x64(True):
        x = funcgrad.ones(2)
        with pytest.raises(RuntimeError) as ours:
            x.float_power_(2)
        assert str(ours.value) == str(theirs.value) and x.tolist() == [1.0, 1.0]
        y = funcgrad.tensor([1.5, 2.0], dtype=funcgrad.float64)
        assert y.float_power_(2) is y and y.tolist() == [2.25, 4.0]


@pytest.mark.parametrize("convert", [
    lambda t: np.array(t), lambda t: np.array(t, dtype=np.float64),
    lambda t: np.array(t, copy=True), lambda t: np.asarray(t, dtype=np.float16),
], ids=["array", "array-dtype", "array-copy", "asarray-dtype"])
# torch's Tensor.__array__ takes no copy keyword yet, which NumPy 2 warns about
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_numpy_copies_are_writable_and_apart_as_torchs(convert) -> None:
    """``np.array`` of a tensor is a copy of its own, as torch's: writing to it changes
    neither the tensor nor another copy."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (funcgrad, torch):
        t = lib.tensor([1.0, 2.0])
        copy = convert(t)
        copy[0] = 5
        results.append((copy.tolist(), str(copy.dtype), t.tolist()))
    assert results[0] == results[1]


@pytest.mark.parametrize("query", [
    lambda lib: lib.is_same_size(lib.ones(2, 3), lib.zeros(2, 3)),
    lambda lib: lib.is_same_size(lib.ones(2, 3), lib.zeros(3, 2)),
    lambda lib: [lib.is_signed(lib.ones(1, dtype=d)) for d in (lib.uint8, lib.int32, lib.bool)],
    lambda lib: lib.is_neg(lib.ones(2)),
    lambda lib: lib.get_device(lib.ones(2, device="cpu")),
], ids=["same-size", "other-size", "signed", "neg", "device"])
def test_top_level_queries_match_torch(query) -> None:
    torch = pytest.importorskip("torch")
    assert query(funcgrad) == query(torch)


def test_anomaly_mode_switches_as_torchs() -> None:
    torch = pytest.importorskip("torch")

    def states(lib):
        seen = [(lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled())]
        lib.set_anomaly_enabled(True, False)
        seen.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
        lib.set_anomaly_enabled(False)
        seen.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
        return seen

    assert states(funcgrad) == states(torch)


def test_data_pointers_tell_shared_storage_as_torchs() -> None:
    torch = pytest.importorskip("torch")
    for lib in (funcgrad, torch):
        x = lib.ones(3, requires_grad=True)
        p = lib.nn.Parameter(x.detach())
        assert x.data_ptr() == x.detach().data_ptr() == x.data.data_ptr() == p.data_ptr()
        assert x.const_data_ptr() == x.data_ptr()
        assert x.clone().data_ptr() != x.data_ptr() and lib.ones(3).data_ptr() != x.data_ptr()
        assert x.storage_offset() == 0


_NEVER = ["is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_mkldnn", "is_nested",
          "is_mps", "is_xpu", "is_ipu", "is_xla", "is_vulkan", "is_maia", "is_mtia"]


@pytest.mark.parametrize("shape", [(), (2, 3)])
def test_a_dense_tensor_reports_its_kind_as_torch(shape) -> None:
    """The flags code written for torch checks (``grad.is_sparse`` in optimizers), the dense
    and sparse dimensions, and ``to_dense`` (the tensor itself, or a conversion to a dtype)."""
    torch = pytest.importorskip("torch")
    ours = funcgrad.ones(shape, requires_grad=True)
    theirs = torch.ones(shape, requires_grad=True)
    assert [getattr(ours, n) for n in _NEVER] == [getattr(theirs, n) for n in _NEVER]
    assert (ours.dense_dim(), ours.sparse_dim()) == (theirs.dense_dim(), theirs.sparse_dim())
    assert ours.to_dense() is ours and theirs.to_dense() is theirs
    assert ours.to_dense(dtype=funcgrad.float32) is ours
    converted, want = ours.to_dense(dtype=funcgrad.float16), theirs.to_dense(dtype=torch.float16)
    assert (converted.dtype, converted.grad_fn.name()) == (
        funcgrad.float16, type(want.grad_fn).__name__)

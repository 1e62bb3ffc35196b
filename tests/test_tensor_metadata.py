"""Tensor metadata torch code reads (byte sizes, strides, contiguity) against torch."""

from __future__ import annotations

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

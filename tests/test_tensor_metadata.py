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

"""DLPack interop against torch's: tensors go to torch, NumPy and JAX and come back with the
same values, shape and dtype; torch's rules for tensors that require grad."""

import jax.numpy as jnp
import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


_DTYPES = ["float32", "bfloat16", "int32", "int8", "uint8", "bool", "complex64"]


def _values(lib, dtype: str):
    return lib.arange(-3, 9).reshape(3, 4).to(getattr(lib, dtype))


@pytest.mark.parametrize("dtype", _DTYPES)
def test_tensors_round_trip_through_torch(torch, dtype):
    theirs = _values(torch, dtype)
    ours = funcgrad.from_dlpack(theirs)
    assert str(ours.dtype) == dtype and tuple(ours.shape) == (3, 4)
    assert not ours.requires_grad and ours.grad_fn is None
    back = torch.from_dlpack(ours)
    assert back.dtype == theirs.dtype and torch.equal(back, theirs)
    assert torch.equal(torch.from_dlpack(funcgrad.to_dlpack(ours)), theirs)


def test_a_strided_torch_tensor_comes_in_its_logical_order(torch):
    theirs = torch.arange(12.0).reshape(3, 4).t()[1:]
    np.testing.assert_array_equal(funcgrad.from_dlpack(theirs).numpy(), theirs.numpy())


def test_numpy_and_jax_read_a_tensor_and_give_one():
    t = funcgrad.tensor([[1.0, 2.0], [3.0, 4.0]]) * 2  # pending in the lazy tier until read
    np.testing.assert_array_equal(np.from_dlpack(t), [[2.0, 4.0], [6.0, 8.0]])
    np.testing.assert_array_equal(jnp.from_dlpack(t), [[2.0, 4.0], [6.0, 8.0]])
    back = funcgrad.from_dlpack(np.arange(4, dtype=np.int32))
    assert str(back.dtype) == "int32" and back.tolist() == [0, 1, 2, 3]
    assert funcgrad.utils.dlpack.from_dlpack is funcgrad.from_dlpack
    assert t.__dlpack_device__() == np.from_dlpack(t).__dlpack_device__()


def test_a_tensor_that_requires_grad_is_refused_as_torch(torch):
    assert_raises_as_torch(torch, lambda lib: lib.ones(2, requires_grad=True).__dlpack__())
    x = funcgrad.ones(2, requires_grad=True)
    assert torch.equal(torch.from_dlpack((x * 3).detach()), torch.full((2,), 3.0))


def test_a_capsule_or_a_list_gets_a_clear_error(torch):
    for bad in (torch.utils.dlpack.to_dlpack(torch.ones(2)), [1.0, 2.0]):
        with pytest.raises(TypeError, match="__dlpack__ .* pass the array itself"):
            funcgrad.from_dlpack(bad)

"""``funcgrad.tensor`` from host data: the values and dtypes torch gives (JAX's where x64 is
off and torch's would be 64-bit), a copy that later writes to the NumPy array cannot reach,
and a concrete array even inside a JAX trace."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import funcgrad

DATA = {
    "float": 2.5,
    "int": 7,
    "bool": True,
    "nested floats": [[0.1, -2.0], [3.25, 1e4]],
    "mixed int and float": [1, 2.5],
    "float64 array": np.linspace(-1.0, 1.0, 5),
    "float32 array": np.linspace(-1.0, 1.0, 5, dtype=np.float32),
    "int64 array": np.arange(4),
    "bool array": np.array([True, False]),
    "0-d float64 array": np.array(0.1),
    "NumPy scalar": np.float32(1.5),
}
DTYPES = [None, "float32", "float16", "bfloat16", "int32", "bool"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", DATA)
def test_tensor_values_and_dtypes_match_torch(name, dtype):
    torch = pytest.importorskip("torch")
    data = DATA[name]
    if name == "NumPy scalar" and dtype in ("int32", "bool"):
        pytest.skip("torch rejects a NumPy float scalar with an integer or bool dtype")
    t = funcgrad.tensor(data, dtype=None if dtype is None else getattr(funcgrad, dtype))
    expected = torch.tensor(data, dtype=None if dtype is None else getattr(torch, dtype))
    # Without x64, JAX narrows torch's 64-bit defaults (float64 arrays, int64) to 32 bits.
    narrowed = {"float64": "float32", "int64": "int32"}
    want = str(expected.dtype).removeprefix("torch.")
    assert str(t.dtype).removeprefix("funcgrad.") == narrowed.get(want, want)
    np.testing.assert_array_equal(np.asarray(t.tolist(), float),
                                  np.asarray(expected.float().tolist(), float))


@pytest.mark.parametrize("array", [
    np.arange(8, dtype=np.float32),
    np.random.default_rng(0).random((512, 512)).astype(np.float32),
    np.arange(1001, dtype=np.float32)[1:],  # not aligned
    np.arange(6.0).reshape(2, 3).T,  # not contiguous, and cast to float32
], ids=["small", "large", "unaligned", "transposed"])
@pytest.mark.parametrize("device", [None, "cpu"])
def test_tensor_copies_numpy_data(array, device):
    before = array.copy()
    t = funcgrad.tensor(array, device=device)
    array += 100
    np.testing.assert_array_equal(t.numpy(), before.astype(np.float32))


def test_the_tensor_constructor_copies_numpy_data():
    # JAX may alias host memory it is given, or read it after the call returns: without a copy
    # of its own, about half of these constructions saw the write after them.
    for _ in range(30):
        array = np.ones((64, 64), np.float32)
        t = funcgrad.Tensor(array)
        array += 1
        np.testing.assert_array_equal(t.numpy(), np.ones((64, 64), np.float32))


def test_tensor_made_inside_a_jax_trace_is_concrete():
    seen = []

    @jax.jit
    def f(x):
        t = funcgrad.tensor([1.0, 2.0])
        seen.append(isinstance(t._read(), jax.core.Tracer))
        return x + t._read()

    np.testing.assert_array_equal(f(jnp.ones(2)), [2.0, 3.0])
    assert seen == [False]


def test_tensor_on_a_named_device_is_committed_there():
    # jax.device_put's semantics: placed on the device named, and committed to it.
    t = funcgrad.tensor(np.ones(3), device="cpu")
    assert t._read().devices() == {jax.devices("cpu")[0]}
    assert t._read().committed
    assert not funcgrad.tensor(np.ones(3))._read().committed


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("row, col, offset", [(3, 4, 0), (3, 4, 1), (4, 3, -2), (0, 3, 0),
                                              (3, 3, 5)])
def test_triangle_indices_match_torch(name, row, col, offset):
    torch = pytest.importorskip("torch")
    got = getattr(funcgrad, name)(row, col, offset)
    want = getattr(torch, name)(row, col, offset)
    assert got.dtype == jax.dtypes.canonicalize_dtype(np.int64)
    np.testing.assert_array_equal(np.asarray(got), want.numpy())
    assert tuple(got.shape) == tuple(want.shape)

"""``funcgrad.tensor`` from host data: the values and dtypes torch gives (JAX's where x64 is
off and torch's would be 64-bit), a copy that later writes to the NumPy array cannot reach,
and a concrete array even inside a JAX trace."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch

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


def _same_tensor(ours, theirs, atol=1e-6) -> None:
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1].replace(
        "int64", "int32")  # (integers are int32 without jax_enable_x64)
    np.testing.assert_allclose(np.asarray(ours.detach(), np.float64),
                               theirs.detach().double().numpy(), rtol=1e-5, atol=atol)


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window",
                                  "bartlett_window", "kaiser_window"])
@pytest.mark.parametrize("length", [0, 1, 2, 5, 16])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_torch(name, length, periodic):
    torch = pytest.importorskip("torch")
    _same_tensor(getattr(funcgrad, name)(length, periodic),
                 getattr(torch, name)(length, periodic))


def test_window_parameters_and_errors_match_torch():
    torch = pytest.importorskip("torch")
    for lib_call in (lambda lib: lib.hamming_window(7, False, 0.5, 0.3, dtype=lib.float16),
                     lambda lib: lib.kaiser_window(6, True, 5.0),
                     lambda lib: lib.hann_window(4, requires_grad=True)):
        ours, theirs = lib_call(funcgrad), lib_call(torch)
        _same_tensor(ours, theirs, atol=1e-3)
        assert ours.requires_grad == theirs.requires_grad
    with pytest.raises(RuntimeError) as theirs:
        torch.blackman_window(-1)
    with pytest.raises(RuntimeError, match=str(theirs.value)):
        funcgrad.blackman_window(-1)


@pytest.mark.parametrize("call", [
    lambda lib: lib.logspace(0, 2, 3), lambda lib: lib.logspace(-1, 3, 5, base=2),
    lambda lib: lib.logspace(0, 2, 3, dtype=lib.int32), lambda lib: lib.logspace(1, 1, 0),
    lambda lib: lib.scalar_tensor(3), lambda lib: lib.scalar_tensor(2.5, dtype=lib.float16),
], ids=["logspace", "logspace-base", "logspace-int", "logspace-empty", "scalar_tensor",
        "scalar_tensor-dtype"])
def test_creation_functions_match_torch(call):
    torch = pytest.importorskip("torch")
    _same_tensor(call(funcgrad), call(torch), atol=0)


def test_randint_like_draws_in_range_in_the_inputs_dtype():
    funcgrad.manual_seed(0)
    draws = funcgrad.randint_like(funcgrad.zeros(10_000), 2, 5)
    assert draws.dtype == funcgrad.float32
    assert set(np.unique(np.asarray(draws))) == {2.0, 3.0, 4.0}
    assert set(np.unique(np.asarray(funcgrad.randint_like(funcgrad.zeros(1000,
                                                                          dtype=funcgrad.int32),
                                                          3)))) == {0, 1, 2}
    assert funcgrad.initial_seed() == 0


@pytest.mark.parametrize("indices, shape", [([4, 7, 0], (2, 4)), (5, (2, 3)), ([[1, 5]], (2, 3)),
                                            ([6, -7, -1], (2, 3)), ([3], 4)])
def test_unravel_index_matches_torch(indices, shape):
    torch = pytest.importorskip("torch")
    ours = funcgrad.unravel_index(funcgrad.tensor(indices), shape)
    theirs = torch.unravel_index(torch.tensor(indices), shape)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        _same_tensor(o, t, atol=0)


@pytest.mark.parametrize("args", [([1.0], (2, 3)), ([1], (2, -3))])
def test_unravel_index_errors_match_torch(args):
    torch = pytest.importorskip("torch")
    data, shape = args
    with pytest.raises((TypeError, ValueError)) as theirs:
        torch.unravel_index(torch.tensor(data), shape)
    with pytest.raises(type(theirs.value)) as ours:
        funcgrad.unravel_index(funcgrad.tensor(data), shape)
    assert str(ours.value) == str(theirs.value).replace("torch.", "funcgrad.")


_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "float16", "bfloat16", "float32",
           "complex64"]


@pytest.mark.parametrize("a", _DTYPES)
@pytest.mark.parametrize("b", _DTYPES)
def test_promote_types_and_can_cast_match_torch(a, b):
    torch = pytest.importorskip("torch")
    ours = funcgrad.promote_types(getattr(funcgrad, a), getattr(funcgrad, b))
    assert str(ours) == str(torch.promote_types(getattr(torch, a), getattr(torch, b))).split(
        ".")[-1]
    assert funcgrad.can_cast(getattr(funcgrad, a), getattr(funcgrad, b)) == torch.can_cast(
        getattr(torch, a), getattr(torch, b))


_OPERANDS = {
    "int32 vector": lambda lib: lib.ones(2, dtype=lib.int32),
    "uint8 vector": lambda lib: lib.ones(2, dtype=lib.uint8),
    "bool vector": lambda lib: lib.ones(2, dtype=lib.bool),
    "float16 vector": lambda lib: lib.ones(2, dtype=lib.float16),
    "0-d int16": lambda lib: lib.tensor(1, dtype=lib.int16),
    "0-d float16": lambda lib: lib.tensor(1.0, dtype=lib.float16),
    "0-d complex64": lambda lib: lib.tensor(1j, dtype=lib.complex64),
    "float": lambda lib: 1.5, "bool": lambda lib: True, "complex": lambda lib: 1j,
}


@pytest.mark.parametrize("a", list(_OPERANDS))
@pytest.mark.parametrize("b", list(_OPERANDS))
def test_result_type_matches_torch(a, b):
    torch = pytest.importorskip("torch")
    if isinstance(_OPERANDS[a](torch), (bool, float, complex)) and isinstance(
            _OPERANDS[b](torch), (bool, float, complex)):
        pytest.skip("torch.result_type takes at least one tensor")
    ours = funcgrad.result_type(_OPERANDS[a](funcgrad), _OPERANDS[b](funcgrad))
    theirs = str(torch.result_type(_OPERANDS[a](torch), _OPERANDS[b](torch))).split(".")[-1]
    # JAX has no complex32: half precision and a complex give the smallest complex it has
    assert str(ours) == theirs.replace("complex32", "complex64")


def test_type_queries_match_torch():
    torch = pytest.importorskip("torch")
    for lib in (funcgrad, torch):
        assert lib.is_floating_point(lib.ones(1)) and not lib.is_floating_point(
            lib.ones(1, dtype=lib.int32))
        assert lib.is_nonzero(lib.tensor([2.0])) and not lib.is_nonzero(lib.tensor(0.0))
    assert funcgrad.typename(funcgrad.ones(2)) == torch.typename(torch.ones(2)).replace(
        "torch", "funcgrad")
    assert funcgrad.typename(3) == torch.typename(3)


@pytest.mark.parametrize("dtype, low, high", [
    ("float32", None, None), ("float16", -1.0, 2.0), ("complex64", None, None),
    ("int32", None, None), ("uint8", None, None), ("int8", -200, 200), ("bool", None, None),
    ("int16", 3, 4),
])
def test_make_tensor_draws_torchs_intervals(dtype, low, high):
    torch = pytest.importorskip("torch")
    funcgrad.manual_seed(0)
    ours = funcgrad.testing.make_tensor(20_000, dtype=getattr(funcgrad, dtype), low=low,
                                        high=high)
    theirs = torch.testing.make_tensor(20_000, dtype=getattr(torch, dtype), device="cpu",
                                       low=low, high=high)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    parts = (lambda t: [t.real, t.imag]) if ours.is_complex() else (lambda t: [t])
    for o, t in zip(parts(ours), parts(theirs)):
        o, t = np.asarray(o, np.float64), t.double().numpy()
        # the same bounds, both reached closely by 20,000 draws
        assert o.min() >= t.min() - 0.01 * (t.max() - t.min() + 1)
        assert o.max() <= t.max() + 0.01 * (t.max() - t.min() + 1)
        np.testing.assert_allclose([o.min(), o.max()], [t.min(), t.max()],
                                   atol=0.01 * (t.max() - t.min() + 1))


def test_make_tensor_options_match_torch():
    torch = pytest.importorskip("torch")
    for lib in (funcgrad, torch):
        t = lib.testing.make_tensor((3, 4), dtype=lib.float32, device="cpu",
                                    requires_grad=True, exclude_zero=True, low=0, high=1e-30)
        assert t.requires_grad and t.is_leaf and tuple(t.shape) == (3, 4)
        assert bool((t != 0).all())
        z = lib.testing.make_tensor(50, dtype=lib.int32, device="cpu", low=0, high=1,
                                    exclude_zero=True)
        assert z.tolist() == [1] * 50


@pytest.mark.parametrize("kwargs", [dict(low=2, high=1), dict(low=float("nan")),
                                    dict(low=300, high=400, dtype="int8"),
                                    dict(requires_grad=True, dtype="int32")])
def test_make_tensor_errors_match_torch(kwargs):
    torch = pytest.importorskip("torch")
    dtype = kwargs.pop("dtype", "float32")

    def raised(lib):
        with pytest.raises(ValueError) as info:
            lib.testing.make_tensor(2, dtype=getattr(lib, dtype), device="cpu", **kwargs)
        return str(info.value).replace("torch.", "funcgrad.")

    assert raised(funcgrad) == raised(torch)


@pytest.mark.parametrize("call", [
    lambda lib: lib.histogram(lib.tensor([1.0, 2.0, 1.0, 3.5]), bins=4, range=(0.0, 3.0)),
    lambda lib: lib.histogram(lib.tensor([1.0, 2.0, 1.0]), lib.tensor([0.0, 1.0, 2.0, 3.0]),
                              weight=lib.tensor([1.0, 2.0, 4.0]), density=True),
    lambda lib: lib.tensor([0.5, -1.0, 2.0, 2.0, 7.0]).histogram(3),
    lambda lib: lib.histogram(lib.tensor([2.0, 2.0]), 2),
], ids=["range", "edges-weights-density", "method-own-range", "one-value"])
def test_histogram_matches_torch(call):
    torch = pytest.importorskip("torch")
    ours, theirs = call(funcgrad), call(torch)
    for o, t in zip(ours, theirs):
        _same_tensor(o, t)


_POINTS = np.random.default_rng(0).standard_normal((200, 3)).astype(np.float32)


@pytest.mark.parametrize("call", [
    lambda lib: lib.histogramdd(lib.tensor(_POINTS), bins=4),
    lambda lib: lib.histogramdd(lib.tensor(_POINTS[:, :2]), bins=[3, 5],
                                weight=lib.tensor(_POINTS[:, 2] ** 2)),
    lambda lib: lib.histogramdd(lib.tensor(_POINTS[:, :2]), bins=[2, 2],
                                range=[-1.0, 1.0, -0.5, 0.5], density=True),
    lambda lib: lib.histogramdd(lib.tensor(_POINTS[:, :2]), bins=[
        lib.tensor([-2.0, 0.0, 2.0]), lib.tensor([-1.0, 0.0, 0.5, 3.0])]),
    lambda lib: lib.histogramdd(lib.tensor([[1.0, 2.0], [1.0, 2.0]]), bins=2),
    lambda lib: lib.histogramdd(lib.tensor(_POINTS).reshape(10, 20, 3), bins=(2, 3, 2)),
], ids=["bins", "per-dim-bins-weights", "range-density", "edges", "one-point", "batched"])
def test_histogramdd_matches_torch(call):
    torch = pytest.importorskip("torch")
    (ours, our_edges), (theirs, their_edges) = call(funcgrad), call(torch)
    _same_tensor(ours, theirs)
    assert len(our_edges) == len(their_edges)
    for o, t in zip(our_edges, their_edges):
        _same_tensor(o, t)


def test_empty_strided_and_is_neg_match_torch():
    torch = pytest.importorskip("torch")
    for lib in (funcgrad, torch):
        t = lib.empty_strided((2, 3), (3, 1), dtype=lib.float16)
        assert (tuple(t.shape), str(t.dtype).split(".")[-1]) == ((2, 3), "float16")
        n = t.new_empty_strided((4,), (1,))
        assert tuple(n.shape) == (4,) and n.dtype == t.dtype
        assert not t.is_neg() and t.resolve_neg() is t


@pytest.mark.parametrize("args", [(1, 4), (0, 1, 0.3), (5, 1, -1.5), (2.5, 2.5)],
                         ids=["ints", "float-step", "down", "one"])
def test_deprecated_range_includes_its_end_and_warns_as_torch(args):
    torch = pytest.importorskip("torch")
    with pytest.warns(UserWarning, match="torch.range is deprecated") as ours:
        got = funcgrad.range(*args)
    with pytest.warns(UserWarning) as theirs:
        want = torch.range(*args)
    assert str(ours[0].message) == str(theirs[0].message)
    assert got.dtype == funcgrad.float32 and want.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="inconsistent with step"):
        funcgrad.range(4, 0)


def test_asarray_shares_converts_or_copies_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (torch, funcgrad):
        x = lib.ones(2)
        assert lib.asarray(x) is x and lib.asarray(x, copy=True) is not x
        assert lib.asarray(x, dtype=lib.float16).dtype == lib.float16
        made = lib.asarray([1.0, 2.0], requires_grad=True)
        assert made.requires_grad and made.is_leaf and made.tolist() == [1.0, 2.0]
        marked = lib.asarray(lib.ones(2), requires_grad=True)
        assert marked.requires_grad and marked.is_leaf
        assert repr(lib.asarray([1, 2])) == "tensor([1, 2])"
        with pytest.raises(ValueError, match="can't alias tensor with dtype 'Float' into "
                           "dtype 'Half'."):
            lib.asarray(x, copy=False, dtype=lib.float16)
        y = lib.ones(2, requires_grad=True) * 2
        plain = lib.asarray(y, requires_grad=False)
        assert not plain.requires_grad and plain.grad_fn is None
        assert lib.asarray(y, copy=True, requires_grad=True).grad_fn.name() == "CloneBackward0"


def test_asarray_warns_as_torch_when_a_graph_is_kept_unasked():
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (torch, funcgrad):
        y = lib.ones(2, requires_grad=True) * 2
        with pytest.warns(UserWarning) as caught:
            assert lib.asarray(y) is y
        messages.append(str(caught[0].message).split(" (Triggered")[0])
    assert messages[0] == messages[1]


_LEGACY_NEW = {
    "sizes": (2, 3), "Size": "Size", "one size": (3,), "zero": (0,), "nothing": (),
    "list": ([1, 2],), "nested list": ([[1.5, 2.0]],), "tuple is data": ((2, 3),),
    "array": (np.array([1, 2]),),
}


@pytest.mark.parametrize("name", _LEGACY_NEW)
def test_legacy_new_makes_what_torchs_makes(name):
    """``x.new(...)``: sizes give a tensor of that shape, data a tensor of it, both in x's
    dtype, neither requiring grad (the values of a sized one are uninitialized in torch)."""
    torch = pytest.importorskip("torch")
    args = _LEGACY_NEW[name]

    def made(lib):
        x = lib.ones(2, dtype=lib.float16, requires_grad=True)
        return x.new(*((lib.Size([2, 3]),) if args == "Size" else args))

    ours, theirs = made(funcgrad), made(torch)
    assert (tuple(ours.shape), ours.requires_grad) == (tuple(theirs.shape), theirs.requires_grad)
    assert ours.dtype == funcgrad.float16 and theirs.dtype == torch.float16
    if name in ("list", "nested list", "tuple is data", "array"):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_legacy_new_of_a_tensor_shares_its_storage_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (funcgrad, torch):
        y = lib.arange(3.0)
        lib.zeros(1).new(y).add_(1)
        assert y.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("args", [(2.5,), ("a",), (True,), (None,), (2, 3.0), (-1,)],
                         ids=["float", "str", "bool", "None", "float-size", "negative"])
def test_legacy_new_refuses_as_torch(args):
    torch = pytest.importorskip("torch")
    assert_raises_as_torch(torch, lambda lib: lib.zeros(1).new(*args))


def test_legacy_new_refuses_a_tensor_of_another_dtype():
    """torch's error type; its message prints C++ TensorOptions, ours says the rule."""
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError):
        torch.zeros(1).new(torch.arange(3))
    with pytest.raises(TypeError, match=r"float32 on cpu\), got funcgrad.int32"):
        funcgrad.zeros(1).new(funcgrad.arange(3))


@pytest.mark.parametrize("call", [
    lambda x: x.new_ones(size=(2, 3)), lambda x: x.new_zeros(size=()),
    lambda x: x.new_full(size=(2,), fill_value=7), lambda x: x.new_empty(size=(3, 1)),
    lambda x: x.new_ones((2,), dtype=x.new_tensor(True).dtype),
], ids=["ones", "zeros-0d", "full", "empty", "positional"])
def test_new_factories_take_the_size_by_keyword_as_torch(request, call):
    torch = pytest.importorskip("torch")
    ours = call(funcgrad.zeros(1, dtype=funcgrad.float16))
    theirs = call(torch.zeros(1, dtype=torch.float16))
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    if "empty" not in request.node.name:  # empty's values are undefined
        np.testing.assert_array_equal(np.asarray(ours), theirs.numpy())

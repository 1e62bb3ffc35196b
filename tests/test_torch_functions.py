"""torch's top-level functions that are thin forms of others (the ``*_copy`` views, the
``native_*`` norms, the in-place dropouts, the ``sym_*`` helpers, the RNN cells…): values,
gradients, dtypes, ``grad_fn`` names and errors against torch's."""

import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _leaf(lib, values, requires_grad=True):
    return lib.tensor(values, requires_grad=requires_grad)


def _outputs(out) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _assert_same(ours, theirs, rtol=1e-5, atol=1e-6):
    """Tensors, tuples of them or numbers: the same values, shapes and dtypes."""
    if not hasattr(theirs, "detach") and not isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and ours == theirs
        return
    ours, theirs = _outputs(ours), _outputs(theirs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert tuple(a.shape) == tuple(b.shape)
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


def _compare(torch, fn, *arrays, grads=True, rtol=1e-5, atol=1e-6):
    """Runs ``fn(lib, *leaves)`` in both libraries and compares outputs, ``grad_fn`` names
    and, through a weighted sum of the outputs, the leaves' gradients."""
    results = {}
    for lib in (funcgrad, torch):
        leaves = [_leaf(lib, a, grads and np.asarray(a).dtype.kind in "fc") for a in arrays]
        out = fn(lib, *leaves)
        names = [o.grad_fn.name() if o.grad_fn is not None else None for o in _outputs(out)]
        if grads:
            total = sum(((o.real if o.is_complex() else o) * (k + 1)).sum()
                        for k, o in enumerate(_outputs(out)) if o.requires_grad)
            total.backward()
        results[lib] = out, names, [leaf.grad for leaf in leaves]
    (ours, our_names, our_grads), (theirs, their_names, their_grads) = results.values()
    _assert_same(ours, theirs, rtol, atol)
    assert our_names == their_names
    for a, b in zip(our_grads, their_grads):
        assert (a is None) == (b is None)
        if b is not None:
            _assert_same(a, b, rtol, atol)


_RNG = np.random.default_rng(0)
_X = _RNG.standard_normal((3, 4)).astype(np.float32)
_ROW = _RNG.standard_normal((1, 4)).astype(np.float32)
_PAIRS = _RNG.standard_normal((3, 2)).astype(np.float32)

_VIEW_COPIES = {
    "alias_copy": (lambda T, x: T.alias_copy(x), _X),
    "as_strided_copy": (lambda T, x: T.as_strided_copy(x, (2, 2), (1, 2), 1), _X),
    "diagonal_copy": (lambda T, x: T.diagonal_copy(x, 1), _X),
    "diagonal_copy_dims": (lambda T, x: T.diagonal_copy(x, -1, 1, 0), _X),
    "expand_copy": (lambda T, x: T.expand_copy(x, (2, 3, 4)), _ROW),
    "expand_copy_implicit": (lambda T, x: T.expand_copy(x, (3, -1), implicit=True), _ROW),
    "permute_copy": (lambda T, x: T.permute_copy(x, (1, 0)), _X),
    "select_copy": (lambda T, x: T.select_copy(x, 1, -1), _X),
    "slice_copy": (lambda T, x: T.slice_copy(x), _X),
    "slice_copy_step": (lambda T, x: T.slice_copy(x, 1, -3, 100, 2), _X),
    "slice_copy_empty": (lambda T, x: T.slice_copy(x, -1, 3, 1), _X),
    "split_copy": (lambda T, x: T.split_copy(x, 3, 1), _X),
    "split_with_sizes_copy": (lambda T, x: T.split_with_sizes_copy(x, [1, 3], 1), _X),
    "squeeze_copy": (lambda T, x: T.squeeze_copy(x), _ROW),
    "squeeze_copy_dim": (lambda T, x: T.squeeze_copy(x, 0), _ROW),
    "squeeze_copy_dims": (lambda T, x: T.squeeze_copy(x, (0, 1)), _ROW),
    "t_copy": (lambda T, x: T.t_copy(x), _X),
    "transpose_copy": (lambda T, x: T.transpose_copy(x, 0, -1), _X),
    "unbind_copy": (lambda T, x: T.unbind_copy(x, 1), _X),
    "unfold_copy": (lambda T, x: T.unfold_copy(x, 1, 2, 1), _X),
    "unsqueeze_copy": (lambda T, x: T.unsqueeze_copy(x, -1), _X),
    "view_as_real_copy": (lambda T, x: T.view_as_real_copy(T.view_as_complex(x)), _PAIRS),
    "view_copy": (lambda T, x: T.view_copy(x, (2, -1)), _X),
}


@pytest.mark.parametrize("fn, values", _VIEW_COPIES.values(), ids=_VIEW_COPIES)
def test_view_copies_match_torch(torch, fn, values):
    _compare(torch, fn, values)


def test_view_copies_are_new_tensors_as_torchs(torch):
    def copy_then_change(lib):
        x = lib.zeros(2, 3)
        y = lib.permute_copy(x, (1, 0))
        y.add_(1)
        return x, y
    _assert_same(copy_then_change(funcgrad), copy_then_change(torch))


def test_view_copies_without_grad_match_torch(torch):
    _compare(torch, lambda T, x: T.view_as_complex_copy(x), _PAIRS, grads=False)
    _compare(torch, lambda T, x: T.detach_copy(x), _X, grads=False)


@pytest.mark.parametrize("scenario", [
    lambda T: T.view_as_complex_copy(T.ones(2, 2, requires_grad=True)),
    lambda T: T.select_copy(T.ones(2, 2, dtype=T.complex64, requires_grad=True), 0, 0),
    lambda T: T.slice_copy(T.ones(2, 2, dtype=T.complex64, requires_grad=True), 0, 0, 1),
    lambda T: T.slice_copy(T.ones(2, 2), 0, 0, 2, 0),
    lambda T: T.slice_copy(T.ones(2, 2), 2),
    lambda T: T.permute_copy(T.ones(2, 2), (0,)),
], ids=["view_as_complex", "select_complex", "slice_complex", "slice_step", "slice_dim",
        "permute_dims"])
def test_view_copy_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


_SYM_CALLS = {
    "int_float": lambda T: T.sym_int(-2.7),
    "int_bool": lambda T: T.sym_int(True),
    "int_tensor": lambda T: T.sym_int(T.tensor(2.7)),
    "float_int": lambda T: T.sym_float(3),
    "float_tensor": lambda T: T.sym_float(T.tensor(3)),
    "max_ints": lambda T: T.sym_max(2, 3),
    "max_mixed": lambda T: T.sym_max(3, 2.0),
    "max_numpy": lambda T: T.sym_max(np.int64(3), np.float32(2.0)),
    "max_bool": lambda T: T.sym_max(True, 2),
    "max_nan": lambda T: T.sym_max(float("nan"), 1.0),
    "min_ints": lambda T: T.sym_min(2, 1),
    "min_mixed": lambda T: T.sym_min(2, 3.0),
    "not": lambda T: T.sym_not(0),
    "not_tensor": lambda T: T.sym_not(T.tensor(0.0)),
    "sqrt_int": lambda T: T.sym_sqrt(4),
    "sqrt_tensor": lambda T: T.sym_sqrt(T.tensor(2.0)),
    "sum_list": lambda T: T.sym_sum([1, 2, 3]),
    "sum_args": lambda T: T.sym_sum(1, 2.5),
    "sum_empty": lambda T: T.sym_sum([]),
    "sum_tensors": lambda T: T.sym_sum([T.tensor(1.0), T.tensor(2.0)]),
    "ite_true": lambda T: T.sym_ite(True, 1, 2),
    "ite_false": lambda T: T.sym_ite(False, "a", "b"),
}


@pytest.mark.parametrize("call", _SYM_CALLS.values(), ids=_SYM_CALLS)
def test_sym_functions_match_torch(torch, call):
    ours, theirs = call(funcgrad), call(torch)
    if isinstance(theirs, float) and theirs != theirs:
        assert isinstance(ours, float) and ours != ours
    else:
        _assert_same(ours, theirs)


@pytest.mark.parametrize("scenario", [
    lambda T: T.sym_max("a", 1),
    lambda T: T.sym_min(1, None),
    lambda T: T.sym_sqrt(-1.0),
    lambda T: T.sym_ite(1, 1, 2),
    lambda T: T.sym_ite(True, 1, 2.0),
    lambda T: T.sym_not(T.tensor([True, False])),
    lambda T: T.sym_int("x"),
], ids=["max_str", "min_none", "sqrt_negative", "ite_int", "ite_types", "not_tensor",
        "int_str"])
def test_sym_function_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


def test_warn_always_flag_round_trips_as_torchs(torch):
    for lib in (funcgrad, torch):
        assert lib.is_warn_always_enabled() is False
        lib.set_warn_always(True)
        try:
            assert lib.is_warn_always_enabled() is True
        finally:
            lib.set_warn_always(False)
        assert lib.is_warn_always_enabled() is False


def test_flush_denormal_says_what_xla_does(torch):
    """XLA's CPU code flushes denormal floats whatever is asked: True for the mode in force,
    as torch's answer on a CPU that can flush, and False for the mode XLA cannot give."""
    assert funcgrad.set_flush_denormal(True) is True is torch.set_flush_denormal(True)
    torch.set_flush_denormal(False)
    assert funcgrad.set_flush_denormal(False) is False
    denormal = funcgrad.tensor([1e-39], device="cpu")
    assert (denormal * 0.5).item() == 0.0


def test_get_device_module_finds_torchs_modules(torch):
    for spec in ("cuda", "cuda:1", "gpu"):
        assert funcgrad.get_device_module(spec) is funcgrad.cuda
    assert torch.get_device_module("cuda:1") is torch.cuda


def test_get_device_module_of_the_cpu_is_the_cpu_module(torch):
    assert funcgrad.get_device_module(funcgrad.device("cpu")) is funcgrad.cpu
    assert torch.get_device_module(torch.device("cpu")) is torch.cpu
    if not funcgrad.cuda.is_available():
        assert funcgrad.get_device_module() is funcgrad.cpu


def test_get_device_module_error_matches_torch(torch):
    assert_raises_as_torch(torch, lambda T: T.get_device_module(3))


_IN_PLACE_DROPOUTS = ("dropout_", "alpha_dropout_", "feature_dropout_", "feature_alpha_dropout_")


@pytest.mark.parametrize("p, train", [(0.5, False), (0.0, True), (1.0, True)])
@pytest.mark.parametrize("name", _IN_PLACE_DROPOUTS)
def test_in_place_dropouts_match_torch(torch, name, p, train):
    """The cases without randomness: the same values, gradients, ``grad_fn`` and version."""
    def run(lib, x):
        y = x * 1
        version = y._version
        assert getattr(lib, name)(y, p, train) is y
        return y, y._version - version
    results = {}
    for lib in (funcgrad, torch):
        x = _leaf(lib, _RNG.standard_normal((2, 3, 4)).astype(np.float32) if lib is funcgrad
                  else results[funcgrad][2].detach().numpy())
        y, bumps = run(lib, x)
        y.sum().backward()
        results[lib] = y, bumps, x
    (y, bumps, x), (ty, their_bumps, tx) = results.values()
    assert bumps == their_bumps
    assert y.grad_fn.name() == ty.grad_fn.name()
    _assert_same(y, ty)
    _assert_same(x.grad, tx.grad)


@pytest.mark.parametrize("name", _IN_PLACE_DROPOUTS)
def test_in_place_dropouts_keep_or_drop_as_torchs(torch, name):
    """With randomness, each element is one of the values torch's gives it over many draws
    (kept or dropped), and some of each are seen."""
    x = _RNG.standard_normal((16, 4, 3)).astype(np.float32)
    ours = getattr(funcgrad, name)(funcgrad.tensor(x), 0.5, True).numpy()
    draws = np.stack([getattr(torch, name)(torch.tensor(x), 0.5, True).numpy()
                      for _ in range(30)])
    seen = np.isclose(draws, ours, rtol=1e-5, atol=1e-6)
    assert seen.any(axis=0).all()
    assert 0 < seen.mean() < 1


def test_in_place_dropout_errors_match_torch(torch):
    assert_raises_as_torch(torch, lambda T: T.dropout_(T.ones(2, requires_grad=True), 0.5, True))
    assert_raises_as_torch(torch, lambda T: T.feature_dropout_(T.ones(2), 0.5, True))

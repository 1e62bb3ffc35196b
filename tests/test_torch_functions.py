"""torch's top-level functions that are thin forms of others (the ``*_copy`` views, the
``native_*`` norms, the in-place dropouts, the ``sym_*`` helpers, the RNN cells…): values,
gradients, dtypes, ``grad_fn`` names and errors against torch's."""

import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch, assert_warns_as_torch


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


def _compare(torch, fn, *arrays, grads=True, check_names=True, rtol=1e-5, atol=1e-6):
    """Runs ``fn(lib, *leaves)`` in both libraries and compares outputs, ``grad_fn`` names
    (unless not ``check_names``) and, through a weighted sum of the outputs, the leaves'
    gradients."""
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
    assert our_names == their_names or not check_names
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


_BATCH = _RNG.standard_normal((4, 3, 5)).astype(np.float32)
_CHANNELS = _RNG.standard_normal(3).astype(np.float32)
_GROUPED = _RNG.standard_normal((2, 6, 5)).astype(np.float32)
_SIX = _RNG.standard_normal(6).astype(np.float32)


def _running_batch_norm(T, x, w, b, training):
    mean, var = T.zeros(3), T.ones(3)
    return (*T.native_batch_norm(x, w, b, mean, var, training, 0.1, 1e-5), mean, var)


_NATIVE_NORMS = {
    "layer_norm": (lambda T, x, w, b: T.native_layer_norm(x, (5,), w, b, 1e-5),
                   _BATCH, _BATCH[0, 0], _BATCH[1, 1]),
    "layer_norm_2d": (lambda T, x: T.native_layer_norm(x, [3, 5], None, None, 0.1), _BATCH),
    "batch_norm_train": (lambda T, x, w, b: _running_batch_norm(T, x, w, b, True),
                         _BATCH, _CHANNELS, _CHANNELS[::-1].copy()),
    "batch_norm_no_stats": (lambda T, x: T.native_batch_norm(x, None, None, None, None, True,
                                                             0.1, 1e-5), _BATCH),
    "batch_norm_eval": (lambda T, x, w: _running_batch_norm(T, x, w, None, False),
                        _BATCH, _CHANNELS),
    "group_norm": (lambda T, x, w, b: T.native_group_norm(x, w, b, 2, 6, 5, 3, 1e-5),
                   _GROUPED, _SIX, _SIX[::-1].copy()),
    "group_norm_4d": (lambda T, x: T.native_group_norm(x.reshape(2, 6, 5, 1), None, None,
                                                       2, 6, 5, 2, 1e-5), _GROUPED),
    "group_norm_read_as": (lambda T, x: T.native_group_norm(x, None, None, 1, 12, 5, 3, 0.0),
                           _GROUPED),
}


@pytest.mark.parametrize("fn, values", [(v[0], v[1:]) for v in _NATIVE_NORMS.values()],
                         ids=_NATIVE_NORMS)
def test_native_norms_match_torch(torch, fn, values):
    """The statistics too, with torch's shapes, and the gradients through each output."""
    _compare(torch, fn, *values, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("stats", [False, True])
@pytest.mark.parametrize("training", [False, True])
def test_native_batch_norm_statistics_of_half_have_torchs_dtypes(torch, training, stats):
    """torch's kernel for a half-precision input takes float32 running statistics, and gives
    its statistics in their dtype."""
    dtypes = {}
    for lib in (funcgrad, torch):
        running = (lib.zeros(3), lib.ones(3)) if stats else (None, None)
        if not training and not stats:
            continue  # (torch's kernel crashes the process there)
        outputs = lib.native_batch_norm(lib.tensor(_BATCH).half(), None, None, *running,
                                        training, 0.1, 1e-5)
        dtypes[lib] = [str(t.dtype).split(".")[-1] for t in outputs]
    assert dtypes.get(funcgrad) == dtypes.get(torch)


@pytest.mark.parametrize("scenario", [
    lambda T: T.native_group_norm(T.ones(2, 6, 5), None, None, 2, 6, 4, 3, 1e-5),
    lambda T: T.native_group_norm(T.ones(2, 6, 5), None, None, 2, 6, 5, 4, 1e-5),
    lambda T: T.native_layer_norm(T.ones(2, 3), (2,), None, None, 1e-5),
], ids=["group_norm_numel", "group_norm_groups", "layer_norm_shape"])
def test_native_norm_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


@pytest.mark.parametrize("p, train", [(0.5, False), (0.0, True), (1.0, True), (0.0, None)])
def test_native_dropout_without_randomness_matches_torch(torch, p, train):
    _compare(torch, lambda T, x: T.native_dropout(x, p, train), _BATCH)


def test_native_dropout_mask_is_what_it_kept(torch):
    """With randomness: ``out`` is the input kept where the mask is True, scaled, and the
    gradient the same scale there; torch's keeps about as many."""
    x = funcgrad.tensor(_BATCH, requires_grad=True)
    out, mask = funcgrad.native_dropout(x, 0.25, None)
    out.sum().backward()
    kept = mask.numpy()
    assert mask.dtype == funcgrad.bool
    np.testing.assert_allclose(out.detach().numpy(), np.where(kept, _BATCH / 0.75, 0), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 1 / 0.75, 0), rtol=1e-6)
    theirs = torch.native_dropout(torch.tensor(_BATCH), 0.25, None)[1].numpy()
    assert abs(kept.mean() - theirs.mean()) < 0.3


@pytest.mark.parametrize("scenario", [
    lambda T: T.native_dropout(T.ones(2), 1.5, True),
    lambda T: T.native_dropout(T.ones(2, dtype=T.int32), 0.5, True),
], ids=["p", "int"])
def test_native_dropout_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


@pytest.fixture
def torch_warns_always(torch):
    """torch warns of ``frobenius_norm`` once a process; every time here, as funcgrad."""
    torch.set_warn_always(True)
    yield torch
    torch.set_warn_always(False)


@pytest.mark.parametrize("dim, keepdim", [([1], False), ((0, 2), True), ([], False), (-1, True)])
def test_frobenius_norm_matches_torch(torch_warns_always, dim, keepdim):
    def norm(T, x):
        with pytest.warns(UserWarning, match="frobenius_norm is deprecated"):
            return T.frobenius_norm(x, dim, keepdim)
    _compare(torch_warns_always, norm, _BATCH)


def test_frobenius_norm_warning_and_errors_match_torch(torch_warns_always):
    torch = torch_warns_always
    assert_warns_as_torch(torch, lambda T: T.frobenius_norm(T.ones(2, 2), [0]))
    with pytest.warns(UserWarning):
        assert_raises_as_torch(torch, lambda T: T.frobenius_norm(T.ones(2, 2, 2), [0, 1, 2]))
        assert_raises_as_torch(torch, lambda T: T.frobenius_norm(T.ones(2, dtype=T.int32), [0]))


@pytest.mark.parametrize("pow, dim", [(2, 0), (3, 2), (2, 1), (2, -1), (3, -2), (2, -3)])
def test_norm_except_dim_matches_torch(torch, pow, dim):
    _compare(torch, lambda T, x: T.norm_except_dim(x, pow, dim), _BATCH)


def test_norm_except_dim_error_matches_torch(torch):
    assert_raises_as_torch(torch, lambda T: T.norm_except_dim(T.ones(2, 3), 2, 2))


_N, _IN, _HIDDEN = 3, 4, 5
_CELL_INPUT = _RNG.standard_normal((_N, _IN)).astype(np.float32)
_STATE = _RNG.standard_normal((_N, _HIDDEN)).astype(np.float32)


def _cell_weights(gates):
    return [(_RNG.standard_normal(shape) * 0.5).astype(np.float32) for shape in
            ((gates * _HIDDEN, _IN), (gates * _HIDDEN, _HIDDEN), (gates * _HIDDEN,),
             (gates * _HIDDEN,))]


_CELLS = {
    "lstm_cell": (lambda T, x, h, c, *w: T.lstm_cell(x, (h, c), *w), 4, 2),
    "lstm_cell_no_bias": (lambda T, x, h, c, *w: T.lstm_cell(x, [h, c], *w[:2]), 4, 2),
    "gru_cell": (lambda T, x, h, *w: T.gru_cell(x, h, *w), 3, 1),
    "gru_cell_no_bias": (lambda T, x, h, *w: T.gru_cell(x, h, *w[:2]), 3, 1),
    "rnn_tanh_cell": (lambda T, x, h, *w: T.rnn_tanh_cell(x, h, *w), 1, 1),
    "rnn_relu_cell": (lambda T, x, h, *w: T.rnn_relu_cell(x, h, *w), 1, 1),
    "rnn_relu_cell_one_bias": (lambda T, x, h, *w: T.rnn_relu_cell(x, h, *w[:3]), 1, 1),
}


@pytest.mark.parametrize("fn, gates, states", _CELLS.values(), ids=_CELLS)
def test_cells_match_torch(torch, fn, gates, states):
    """Values and the gradients of input, states and weights. torch composes its cells of
    ops, the last naming its grad_fn (AddBackward0 …); funcgrad's are one op, as
    nn.LSTMCell's (RnnCellBackward0)."""
    _compare(torch, fn, _CELL_INPUT, *(_STATE * (k + 1) for k in range(states)),
             *_cell_weights(gates), check_names=False, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("scenario", [
    lambda T: T.rnn_tanh_cell(T.ones(3, 4), T.ones(3, 5), T.ones(5, 4), T.ones(6, 5)),
    lambda T: T.rnn_tanh_cell(T.ones(3, 4), T.ones(3, 5), T.ones(5, 4), T.ones(5, 6)),
    lambda T: T.gru_cell(T.ones(3, 4), T.ones(2, 5), T.ones(6, 4), T.ones(15, 5)),
    lambda T: T.rnn_relu_cell(T.ones(3, 4), T.ones(3, 5), T.ones(5, 3), T.ones(5, 5)),
    lambda T: T.rnn_relu_cell(T.ones(3, 4), T.ones(2, 5), T.ones(5, 4), T.ones(5, 5)),
    lambda T: T.gru_cell(T.ones(3, 4), T.ones(3, 4), T.ones(15, 4), T.ones(15, 5)),
    lambda T: T.lstm_cell(T.ones(3, 4), (T.ones(3, 5),), T.ones(20, 4), T.ones(20, 5)),
    lambda T: T.lstm_cell(T.ones(3, 4), (T.ones(3, 5), T.ones(2, 5)), T.ones(20, 4),
                          T.ones(20, 5)),
    lambda T: T.rnn_tanh_cell(T.ones(4), T.ones(5), T.ones(5, 4), T.ones(5, 5)),
], ids=["weight_hh", "weight_ih", "gru_weight_ih", "input_size", "batch", "hidden_size",
        "lstm_one_state", "lstm_batch", "unbatched"])
def test_cell_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


_SIGNAL = _RNG.standard_normal((2, 3, 7)).astype(np.float32)
_IMAGE = _RNG.standard_normal((2, 4, 5, 6)).astype(np.float32)
_CONVOLUTIONS = {
    "conv1d": (lambda T, x, w, b: T.convolution(x, w, b, [2], [1], [1], False, [0], 1),
               _SIGNAL, _RNG.standard_normal((4, 3, 3)).astype(np.float32), _CHANNELS[:1]
               .repeat(4)),
    "conv2d_groups": (lambda T, x, w: T.convolution(x, w, None, [1, 2], [0, 1], [2, 1], False,
                                                    [0, 0], 2),
                      _IMAGE, _RNG.standard_normal((6, 2, 2, 3)).astype(np.float32)),
    "transposed1d": (lambda T, x, w, b: T.convolution(x, w, b, [2], [1], [1], True, [1], 1),
                     _SIGNAL, _RNG.standard_normal((3, 2, 3)).astype(np.float32),
                     _CHANNELS[:2]),
    "transposed2d": (lambda T, x, w: T.convolution(x, w, None, [2, 1], [1, 0], [1, 2], True,
                                                   [1, 0], 2),
                     _IMAGE, _RNG.standard_normal((4, 3, 3, 2)).astype(np.float32)),
}


@pytest.mark.parametrize("fn, values", [(v[0], v[1:]) for v in _CONVOLUTIONS.values()],
                         ids=_CONVOLUTIONS)
def test_convolution_matches_torch(torch, fn, values):
    _compare(torch, fn, *values, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("scenario", [
    lambda T: T.convolution(T.ones(1, 2, 5), T.ones(3, 2), None, [1], [0], [1], False, [0], 1),
    lambda T: T.convolution(T.ones(2, 5), T.ones(3, 2, 2), None, [1], [0], [1], False, [0], 1),
], ids=["weight_dims", "unbatched"])
def test_convolution_errors_match_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_ctc_loss_matches_torch(torch, reduction):
    log_probs = np.log(_RNG.dirichlet(np.ones(4), (6, 2))).astype(np.float32)

    def loss(T, log_probs):
        return T.ctc_loss(log_probs, T.tensor([[1, 2, 1], [3, 3, 0]]), [6, 5], [3, 2], 0,
                          reduction)
    _compare(torch, loss, log_probs, rtol=1e-4, atol=1e-5)

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

"""Tensor methods of torch's that funcgrad had lacked, against torch's: values, gradients,
grad_fn names, warnings and errors (word for word)."""

import warnings

import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch, message
from test_legacy_names import _warned


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


_VALUES = np.arange(1.0, 7.0, dtype=np.float32)
_WEIGHTS = np.linspace(-1.0, 2.0, 6, dtype=np.float32).reshape(2, 3)


_RESIZES = {"resize": lambda x, T: x.resize(2, 3),
            "resize_as": lambda x, T: x.resize_as(T.zeros(2, 3))}


@pytest.mark.parametrize("resize", _RESIZES.values(), ids=_RESIZES)
def test_resize_warns_and_reshapes_with_gradients_as_torchs(torch, resize):
    def run(lib):
        x = lib.tensor(_VALUES, requires_grad=True)
        y = resize(x, lib)
        (y * lib.tensor(_WEIGHTS)).sum().backward()
        return y, x.grad

    (ours, our_grad), our_warning = _warned(funcgrad, run)
    (theirs, their_grad), their_warning = _warned(torch, run)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    np.testing.assert_array_equal(our_grad.numpy(), their_grad.numpy())
    assert ours.grad_fn.name() == type(theirs.grad_fn).__name__ == "ResizeBackward"
    assert our_warning.category is their_warning.category is UserWarning
    assert message(our_warning.message) == message(their_warning.message)


def test_resize_to_another_size_raises_as_torch(torch):
    def scenario(T):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            T.arange(6.0).resize(2, 2)

    assert_raises_as_torch(torch, scenario)


@pytest.mark.parametrize("call", [lambda x: x.solve(x), lambda x: x.lstsq(x),
                                  lambda x: x.eig(), lambda x: x.symeig(eigenvectors=True)],
                         ids=["solve", "lstsq", "eig", "symeig"])
def test_removed_linalg_methods_raise_torchs_message(torch, call):
    text = assert_raises_as_torch(torch, lambda T: call(T.eye(2)))
    assert "funcgrad.linalg." in text and "torch" not in text


def test_sharing_and_pinning_answer_as_torch_on_cpu(torch):
    for lib in (funcgrad, torch):
        x = lib.ones(2)
        assert x.is_shared() is False and x.is_pinned() is False
        assert x.share_memory_() is x
    if not (funcgrad.cuda.is_available() or torch.cuda.is_available()):
        assert_raises_as_torch(torch, lambda T: T.ones(2).pin_memory())


def test_as_strided__is_as_strided_in_place(torch):
    def run(lib):
        x = lib.tensor(_VALUES, requires_grad=True)
        y = x * 1
        out = y.as_strided_((2, 2), (3, 1), 1)
        (out * lib.tensor(_WEIGHTS[:, :2])).sum().backward()
        return y, out, x.grad

    (y, out, grad), (ty, tout, tgrad) = run(funcgrad), run(torch)
    assert out is y and tout is ty
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(grad.numpy(), tgrad.numpy())
    assert y.grad_fn.name() == type(ty.grad_fn).__name__


@pytest.mark.parametrize("size, stride, offset", [((2,), (2,), 1), ((2, 2), (3, 1), 1),
                                                  ((3,), (1,), None)])
def test_as_strided_scatter_values_and_gradients(torch, size, stride, offset):
    """Values and ``src``'s gradient as torch's; ``input``'s gradient is the output's where
    ``src`` was not written. torch 2.13 gives the opposite (the output's gradient where ``src``
    was written: its own gradcheck fails), so that one is checked in closed form."""
    source = np.random.default_rng(0).standard_normal(size).astype(np.float32)

    def run(lib):
        x = lib.tensor(_VALUES, requires_grad=True)
        src = lib.tensor(source, requires_grad=True)
        out = lib.as_strided_scatter(x * 1, src, size, stride, offset)
        (out * lib.arange(6.0)).sum().backward()
        return out, src.grad, x.grad

    (out, src_grad, x_grad), (tout, tsrc_grad, _) = run(funcgrad), run(torch)
    np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
    np.testing.assert_array_equal(src_grad.numpy(), tsrc_grad.numpy())
    written = torch.zeros(6).as_strided_scatter(torch.ones(size), size, stride, offset).numpy()
    np.testing.assert_array_equal(x_grad.numpy(), np.where(written, 0.0, np.arange(6.0)))


@pytest.mark.parametrize("args", [((3,), (2,), 1), ((2,), (4,), 3), ((3,), (0,), 1)],
                         ids=["src-shape", "out-of-bounds", "overlap"])
def test_as_strided_scatter_errors_are_torchs(torch, args):
    size = args[0]
    assert_raises_as_torch(torch, lambda T: T.as_strided_scatter(
        T.zeros(6), T.ones(2 if size == (3,) and args[1] == (2,) else size), *args))


@pytest.mark.parametrize("values", [[1.0, -2.0], [1 + 2j, 3 - 1j]], ids=["real", "complex"])
def test_conj_physical__in_place_with_torchs_node(torch, values):
    def run(lib):
        x = lib.tensor(values, requires_grad=True)
        y = x * 1
        version = y._version
        assert y.conj_physical_() is y
        y.abs().sum().backward()
        return y, y._version - version, x.grad

    (y, bumped, grad), (ty, tbumped, tgrad) = run(funcgrad), run(torch)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_allclose(grad.numpy(), tgrad.numpy(), rtol=1e-6)
    assert bumped == tbumped == 1
    assert y.grad_fn.name() == type(ty.grad_fn).__name__ == "ConjPhysicalBackward1"


@pytest.mark.parametrize("shape", [(2, 3, 5), (1, 2, 3), (4,), (), (2, 1), (1, 2, 3, 4),
                                   (2, 1, 1, 3), (2, 3, 1, 1), (1, 1, 2, 1, 3), (2, 0, 1, 3),
                                   (1, 3, 1, 1)])
@pytest.mark.parametrize("check", [False, True, "contiguous", "last", "both"])
def test_dim_order_of_contiguous_tensors_as_torchs(torch, shape, check):
    def run(T):
        formats = {"contiguous": [T.contiguous_format], "last": [T.channels_last],
                   "both": [T.contiguous_format, T.channels_last]}
        return T.zeros(shape).dim_order(ambiguity_check=formats.get(check, check))

    try:
        expected = run(torch)
    except RuntimeError:
        assert_raises_as_torch(torch, run)
    else:
        assert run(funcgrad) == expected


def test_dim_order_refuses_a_bad_check_as_torch(torch):
    assert_raises_as_torch(torch, lambda T: T.zeros(2).dim_order(ambiguity_check="ILLEGAL"))


def test_as_subclass_shares_storage_and_graph_as_torch(torch):
    def run(lib):
        class Marked(lib.Tensor):
            pass

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.as_subclass(Marked)
        (y * y).sum().backward()
        plain = lib.zeros(2)
        plain.as_subclass(Marked).add_(1)
        return type(y) is Marked, y.is_leaf, type(y.grad_fn).__name__, x.grad, plain

    ours, theirs = run(funcgrad), run(torch)
    assert ours[:2] == theirs[:2] == (True, False)
    assert funcgrad.tensor(1.0, requires_grad=True).as_subclass(
        funcgrad.nn.Parameter).grad_fn.name() == "AliasBackward0"
    for mine, their in zip(ours[3:], theirs[3:]):
        np.testing.assert_array_equal(mine.numpy(), their.numpy())


@pytest.mark.parametrize("cls", [int, 3], ids=["not-a-tensor-class", "not-a-type"])
def test_as_subclass_refuses_what_torch_refuses(torch, cls):
    assert_raises_as_torch(torch, lambda T: T.ones(2).as_subclass(cls))

"""nn names of torch's that funcgrad had lacked, against torch's: the registration hooks of
every module, nn.grad's convolution gradients, native_channel_shuffle."""

import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _registrations(lib):
    """What the three registration hooks see while a small model is built and changed, and
    the model they leave (a hook's return value replaces what is registered)."""
    module = lib.nn.modules.module
    seen, handles = [], []
    for kind in ("buffer", "parameter", "module"):
        def hook(owner, name, value, kind=kind):
            seen.append((kind, type(owner).__name__, name, type(value).__name__))
            if kind == "buffer" and value is not None:
                return value + 1
            return None
        handles.append(getattr(module, f"register_module_{kind}_registration_hook")(hook))
    try:
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        model[1].running_mean = lib.zeros(2)
        model.add_module("extra", None)
        model.register_buffer("plain", None)
        model.register_buffer("count", lib.ones(1))
        model[0].register_parameter("absent", None)
    finally:
        for handle in handles:
            handle.remove()
    model.register_buffer("after", lib.zeros(1))  # (the hooks are gone)
    return seen, model


def test_registration_hooks_run_and_replace_as_torchs(torch):
    (ours, model), (theirs, their_model) = _registrations(funcgrad), _registrations(torch)
    assert ours == theirs
    # (BatchNorm's running statistics are left out: torch fills them in place after
    # registering them, funcgrad registers them filled)
    for name in ("count", "after"):
        np.testing.assert_array_equal(model.get_buffer(name).numpy(),
                                      their_model.get_buffer(name).numpy())


_CONV = {1: (2, 4, 9), 2: (2, 4, 7, 6), 3: (1, 4, 5, 6, 4)}


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("options", [dict(), dict(stride=2, padding=1, dilation=2, groups=2)],
                         ids=["plain", "strided"])
def test_nn_grad_is_torchs_and_differentiable(torch, n, options):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(_CONV[n]).astype(np.float32)
    w = rng.standard_normal((6, 4 // options.get("groups", 1), *(3,) * n)).astype(np.float32)

    def run(lib):
        conv = getattr(lib.nn.functional, f"conv{n}d")
        out_shape = conv(lib.tensor(x), lib.tensor(w), None, **options).shape
        g = lib.tensor(rng_out(out_shape), requires_grad=True)
        weight, input = lib.tensor(w, requires_grad=True), lib.tensor(x, requires_grad=True)
        grad_input = getattr(lib.nn.grad, f"conv{n}d_input")(x.shape, weight, g, **options)
        grad_weight = getattr(lib.nn.grad, f"conv{n}d_weight")(input, w.shape, g, **options)
        (grad_input.square().sum() + grad_weight.square().sum()).backward()
        return grad_input, grad_weight, g.grad, weight.grad, input.grad

    def rng_out(shape):
        return np.random.default_rng(0).standard_normal(tuple(shape)).astype(np.float32)

    for ours, theirs in zip(run(funcgrad), run(torch)):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-4,
                                   atol=1e-4)


@pytest.mark.parametrize("shape, groups", [((2, 6, 3), 3), ((1, 4, 2, 2), 2)])
def test_native_channel_shuffle_is_channel_shuffle_as_torch(torch, shape, groups):
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    ours = funcgrad.nn.functional.native_channel_shuffle(funcgrad.tensor(x), groups)
    theirs = torch.nn.functional.native_channel_shuffle(torch.tensor(x), groups)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("shape, groups", [((1, 4, 3), 0), ((1, 4, 3), 3), ((4, 3), 2)])
def test_native_channel_shuffle_errors_are_torchs(torch, shape, groups):
    assert_raises_as_torch(
        torch, lambda T: T.nn.functional.native_channel_shuffle(T.zeros(shape), groups))

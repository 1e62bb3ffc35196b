"""torch's older names and small conveniences against torch's: the same values, the same
warnings (word for word), the same errors."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch, message


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _warned(lib, call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call(lib)
    assert len(caught) == 1
    return result, caught[0]


_UPSAMPLED = {
    "upsample": lambda T, x: T.nn.functional.upsample(x, scale_factor=2, mode="bilinear"),
    "upsample_nearest": lambda T, x: T.nn.functional.upsample_nearest(x, size=5),
    "upsample_bilinear": lambda T, x: T.nn.functional.upsample_bilinear(x, scale_factor=2),
}


@pytest.mark.parametrize("fn", _UPSAMPLED.values(), ids=_UPSAMPLED)
def test_upsample_is_interpolate_with_torchs_warning(torch, fn):
    values = np.random.default_rng(0).standard_normal((1, 2, 3, 3)).astype(np.float32)
    ours, our_warning = _warned(funcgrad, lambda T: fn(T, T.tensor(values)))
    theirs, their_warning = _warned(torch, lambda T: fn(T, T.tensor(values)))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
    assert our_warning.category is their_warning.category
    assert message(our_warning.message) == message(their_warning.message)


def test_clip_grad_norm_is_clip_grad_norm__with_torchs_warning(torch):
    def clip(lib):
        p = lib.nn.Parameter(lib.tensor([3.0, 4.0]))
        p.grad = lib.tensor([3.0, 4.0])
        return lib.nn.utils.clip_grad_norm([p], 1.0), p.grad

    (ours, our_grad), our_warning = _warned(funcgrad, clip)
    (theirs, their_grad), their_warning = _warned(torch, clip)
    assert ours.item() == theirs.item() == 5.0
    np.testing.assert_allclose(our_grad.numpy(), their_grad.numpy(), rtol=1e-6)
    assert our_warning.category is their_warning.category is FutureWarning
    assert message(our_warning.message) == message(their_warning.message)


def test_stateless_functional_call_is_func_functional_call_with_torchs_warning(torch):
    def call(lib):
        lib.manual_seed(0)
        model = lib.nn.Linear(2, 1)
        weight = lib.tensor([[2.0, -1.0]], requires_grad=True)
        out = lib.nn.utils.stateless.functional_call(
            model, {"weight": weight, "bias": lib.tensor([0.5])}, (lib.tensor([1.0, 3.0]),))
        out.sum().backward()
        return out.item(), weight.grad.tolist(), model.weight.grad

    (ours, our_warning), (theirs, their_warning) = _warned(funcgrad, call), _warned(torch, call)
    assert ours == theirs == (-0.5, [[1.0, 3.0]], None)
    assert our_warning.category is their_warning.category is FutureWarning
    assert message(our_warning.message) == message(their_warning.message)


def test_variable_is_a_detached_tensor_as_torchs(torch):
    for lib in (funcgrad, torch):
        t = lib.ones(2, requires_grad=True) * 2
        v = lib.autograd.Variable(t, requires_grad=True)
        assert v is not t and v.is_leaf and v.requires_grad and v.grad_fn is None
        assert isinstance(t, lib.autograd.Variable) and not isinstance(2.0, lib.autograd.Variable)
        assert not lib.autograd.Variable(t).requires_grad
        (v * 3).sum().backward()
        assert v.grad.tolist() == [3.0, 3.0]
        _, warning = _warned(lib, lambda T: T.autograd.Variable(T.ones(1), volatile=True))
        assert "volatile was removed" in str(warning.message)
    def both(lib):
        with warnings.catch_warnings(action="ignore"):
            lib.autograd.Variable(lib.ones(1), True, True)

    assert_raises_as_torch(torch, both)


def test_conv_weight_memory_formats_are_checked_as_torchs(torch):
    for lib in (funcgrad, torch):
        model = lib.nn.Sequential(lib.nn.Conv2d(2, 3, 1), lib.nn.ReLU())
        assert lib.nn.utils.convert_conv2d_weight_memory_format(
            model, lib.channels_last) is model
        assert lib.nn.utils.convert_conv3d_weight_memory_format(
            lib.nn.Conv3d(1, 1, 1), lib.channels_last_3d).weight.shape == (1, 1, 1, 1, 1)
    assert_raises_as_torch(torch, lambda T: T.nn.utils.convert_conv2d_weight_memory_format(
        T.nn.Conv2d(2, 3, 1), T.channels_last_3d))


def test_small_names_are_torchs(torch):
    assert funcgrad.utils.data.get_worker_info() is torch.utils.data.get_worker_info() is None
    identity = funcgrad.distributions.identity_transform
    assert isinstance(identity, funcgrad.distributions.ComposeTransform) and not identity.parts
    x = funcgrad.tensor([0.5, -1.0])
    assert identity(x) is x
    assert issubclass(funcgrad.linalg.LinAlgError, RuntimeError)
    for name in ("pi", "e", "inf"):
        assert getattr(funcgrad, name) == getattr(torch, name)
    assert funcgrad.nan != funcgrad.nan and torch.nan != torch.nan
    assert funcgrad.newaxis is torch.newaxis is None
    assert funcgrad.arange(3.0)[funcgrad.newaxis].shape == (1, 3)


_ELEMENT_LOOPS = {
    "apply_": lambda T: T.arange(6.0).reshape(2, 3).apply_(lambda v: v * 2 - 1),
    "apply_-int": lambda T: T.arange(4, dtype=T.int32).apply_(lambda v: v * 1.5),
    "apply_-bool": lambda T: T.tensor([True, False]).apply_(lambda v: not v),
    "map_": lambda T: T.arange(6.0).reshape(2, 3).map_(T.tensor([1.0, 2.0, 3.0]),
                                                       lambda a, b: a * b),
    "map2_": lambda T: T.ones(2, 3).map2_(T.arange(3.0), T.tensor([[1.0], [2.0]]),
                                          lambda a, b, c: a + b * c),
}


@pytest.mark.parametrize("loop", _ELEMENT_LOOPS.values(), ids=_ELEMENT_LOOPS)
def test_element_loops_are_torchs(torch, loop):
    ours, theirs = loop(funcgrad), loop(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1].replace(
        "int64", "int32")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("scenario", [
    lambda T: (T.ones(3, requires_grad=True) * 2).apply_(lambda v: v),
    lambda T: T.ones(3).map_(T.ones(3, requires_grad=True), lambda a, b: a),
    lambda T: T.ones(3).map2_(T.ones(3), T.ones(3, requires_grad=True), lambda a, b, c: a),
    lambda T: T.ones(3).apply_(lambda v: "one"),
    lambda T: T.ones(2, 3).map_(T.ones(4), lambda a, b: a),
    lambda T: T.ones(3).map_(5, lambda a, b: a),
], ids=["apply_-grad", "map_-grad", "map2_-grad", "not-a-number", "map_-shape", "map_-number"])
def test_element_loops_refuse_as_torch(torch, scenario):
    assert_raises_as_torch(torch, scenario)


def test_deprecated_linear_algebra_warns_as_torch_in_a_fresh_process(torch):
    # torch warns once per process, so its warnings come from a process of their own.
    code = ("import torch, warnings\nwith warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    torch.triangular_solve(torch.ones(2, 1), torch.eye(2))\n"
            "    torch.lu_solve(torch.ones(2, 1), *torch.linalg.lu_factor(torch.eye(2)))\n"
            "    torch.nuclear_norm(torch.eye(2))\n"
            "print(repr([str(m.message) for m in w]))")
    theirs = eval(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        funcgrad.triangular_solve(funcgrad.ones(2, 1), funcgrad.eye(2))
        funcgrad.lu_solve(funcgrad.ones(2, 1), *funcgrad.linalg.lu_factor(funcgrad.eye(2)))
        funcgrad.nuclear_norm(funcgrad.eye(2))
    assert [message(w.message) for w in ours] == [message(m) for m in theirs]


def test_share_memory_returns_the_module_with_its_state_as_torchs(torch):
    def shared(lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
        params = list(model.parameters())
        before = [t.tolist() for t in model.state_dict().values()]
        assert model.share_memory() is model
        assert all(a is b for a, b in zip(params, model.parameters()))
        return before == [t.tolist() for t in model.state_dict().values()]

    assert shared(funcgrad) and shared(torch)


def test_modules_switches_are_off_as_torchs(torch):
    for lib in (funcgrad, torch):
        assert lib.nn.Module.call_super_init is False and lib.nn.Module.dump_patches is False
        assert lib.nn.Linear(1, 1).call_super_init is False


def test_sample_n_is_sample_of_n_with_torchs_warning(torch):
    def sampled(lib):
        lib.manual_seed(0)
        normal = lib.distributions.Normal(lib.tensor([0.0, 10.0]), lib.tensor([1.0, 0.1]))
        return normal.sample_n(4000)

    ours, our_warning = _warned(funcgrad, sampled)
    theirs, their_warning = _warned(torch, sampled)
    assert our_warning.category is their_warning.category is FutureWarning
    assert message(our_warning.message) == message(their_warning.message)
    assert tuple(ours.shape) == tuple(theirs.shape) == (4000, 2)
    np.testing.assert_allclose(ours.mean(0).numpy(), [0.0, 10.0], atol=0.06)


def test_a_cloned_generator_draws_what_the_original_draws_as_torchs(torch):
    def cloned(lib, seed):
        g = lib.Generator()
        if seed is not None:
            g.manual_seed(seed)
            lib.rand(3, generator=g)
        clone = g.clone_state()
        draws = lib.rand(4, generator=g).tolist(), lib.rand(4, generator=clone).tolist()
        return draws[0] == draws[1], clone.initial_seed() == g.initial_seed(), str(clone.device)

    for seed in (None, 7):
        assert cloned(funcgrad, seed) == cloned(torch, seed) == (True, True, "cpu")


def test_functional_grad_is_the_nn_grad_module_as_torchs(torch):
    from funcgrad.nn.functional import grad

    for lib in (funcgrad, torch):
        assert lib.nn.functional.grad is lib.nn.grad
    assert grad is funcgrad.nn.grad
    assert_raises_as_torch(torch, lambda T: T.nn.functional.no_such_name)

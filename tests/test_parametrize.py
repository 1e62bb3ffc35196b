"""nn.utils.parametrize and nn.utils.parametrizations against torch's: the same weights give
the same parametrized values, gradients, printing, state dicts and errors."""

import copy
import pickle
import re

import numpy as np
import pytest

import funcgrad
from _compare import F32_ATOL


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _close(ours, theirs, rtol=1e-5, atol=F32_ATOL) -> None:
    np.testing.assert_allclose(np.asarray(ours.detach()), np.asarray(theirs.detach()),
                               rtol=rtol, atol=atol)


def _close_grad(ours, theirs) -> None:
    """Gradients sum many products: an entry that cancels to near zero keeps the float32
    rounding of the large terms (XLA fuses and orders the sums unlike torch, and differently
    for a cached program than for eager ops), so the absolute tolerance is 16 ulps of the
    gradient's largest entry."""
    scale = float(np.abs(np.asarray(theirs.detach())).max())
    _close(ours, theirs, rtol=1e-4, atol=max(F32_ATOL, 16 * np.finfo(np.float32).eps * scale))


def _set(lib, module, **values) -> None:
    with lib.no_grad():
        for name, value in values.items():
            getattr(module, name).copy_(lib.tensor(np.asarray(value, np.float32)))


def _symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).T

        def right_inverse(self, a):
            return a.triu()

    return Symmetric()


def _scale(lib):
    class Scale(lib.nn.Module):
        def forward(self, x):
            return x * 2

        def right_inverse(self, x):
            return x / 2

    return Scale()


_W = np.arange(9.0).reshape(3, 3) / 4 - 1
_X = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])


def _parametrized(lib):
    layer = lib.nn.Linear(3, 3)
    _set(lib, layer, weight=_W, bias=[0.1, -0.2, 0.3])
    lib.nn.utils.parametrize.register_parametrization(layer, "weight", _symmetric(lib))
    lib.nn.utils.parametrize.register_parametrization(layer, "weight", _scale(lib))
    return layer


def test_a_parametrized_weight_is_computed_and_trained_through_its_original(torch):
    layers = [_parametrized(lib) for lib in (torch, funcgrad)]
    assert repr(layers[1]) == repr(layers[0])
    assert list(layers[1].state_dict()) == list(layers[0].state_dict())
    assert [n for n, _ in layers[1].named_parameters()] == [
        n for n, _ in layers[0].named_parameters()]
    _close(layers[1].weight, layers[0].weight)
    _close(layers[1].parametrizations.weight.original,
           layers[0].parametrizations.weight.original)
    for lib, layer in zip((torch, funcgrad), layers):
        (layer(lib.tensor(_X, dtype=lib.float32)) ** 2).sum().backward()
    _close_grad(layers[1].parametrizations.weight.original.grad,
                layers[0].parametrizations.weight.original.grad)
    _close_grad(layers[1].bias.grad, layers[0].bias.grad)
    assert layers[1].weight.grad_fn.name() == layers[0].weight.grad_fn.name()


def test_assigning_to_a_parametrized_weight_goes_through_right_inverse(torch):
    layers = [_parametrized(lib) for lib in (torch, funcgrad)]
    target = np.full((3, 3), 3.0) + np.eye(3)
    for lib, layer in zip((torch, funcgrad), layers):
        layer.weight = lib.tensor(target, dtype=lib.float32)
    _close(layers[1].parametrizations.weight.original,
           layers[0].parametrizations.weight.original)
    np.testing.assert_allclose(np.asarray(layers[1].weight.detach()), target, rtol=1e-6)


def test_cached_computes_each_parametrized_tensor_once_per_block():
    layer = _parametrized(funcgrad)
    assert layer.weight is not layer.weight
    with funcgrad.nn.utils.parametrize.cached():
        first = layer.weight
        with funcgrad.nn.utils.parametrize.cached():
            assert layer.weight is first
        assert layer.weight is first
    assert layer.weight is not first


@pytest.mark.parametrize("leave_parametrized", [True, False])
def test_removing_parametrizations_restores_a_plain_module(torch, leave_parametrized):
    layers = [_parametrized(lib) for lib in (torch, funcgrad)]
    for lib, layer in zip((torch, funcgrad), layers):
        parametrize = lib.nn.utils.parametrize
        assert parametrize.is_parametrized(layer) and parametrize.is_parametrized(layer, "weight")
        assert not parametrize.is_parametrized(layer, "bias")
        assert parametrize.type_before_parametrizations(layer) is lib.nn.Linear
        parametrize.remove_parametrizations(layer, "weight", leave_parametrized)
        assert type(layer) is lib.nn.Linear and not parametrize.is_parametrized(layer)
        assert isinstance(layer.weight, lib.nn.Parameter)
    assert repr(layers[1]) == repr(layers[0])
    _close(layers[1].weight, layers[0].weight)


def test_a_right_inverse_giving_several_tensors_makes_several_originals(torch):
    def rank_one(lib):
        class RankOne(lib.nn.Module):
            def forward(self, x, y):
                return x.unsqueeze(-1) @ y.unsqueeze(-2)

            def right_inverse(self, z):
                return z[:, 0], z[0] / z[0, 0]

        return RankOne()

    layers = []
    for lib in (torch, funcgrad):
        layer = lib.nn.Linear(3, 2, bias=False)
        _set(lib, layer, weight=[[1.0, 2.0, -1.0], [2.0, 4.0, -2.0]])
        layers.append(lib.nn.utils.parametrize.register_parametrization(
            layer, "weight", rank_one(lib)))
        layer(lib.ones(1, 3)).sum().backward()
    assert list(layers[1].state_dict()) == list(layers[0].state_dict())
    _close(layers[1].weight, layers[0].weight)
    for i in range(2):
        original = [getattr(layer.parametrizations.weight, f"original{i}") for layer in layers]
        _close(original[1], original[0])
        _close_grad(original[1].grad, original[0].grad)
    with pytest.raises(ValueError) as expected:
        torch.nn.utils.parametrize.remove_parametrizations(layers[0], "weight", False)
    with pytest.raises(ValueError, match=re.escape(expected.value.args[0])):
        funcgrad.nn.utils.parametrize.remove_parametrizations(layers[1], "weight", False)


def _bad(lib, case: str):
    class Bad(lib.nn.Module):
        def forward(self, x):
            return x[0] if case.endswith("shape") else x.tolist()

    if case == "no such tensor":
        return lib.nn.utils.parametrize.register_parametrization(lib.nn.Linear(2, 2), "foo",
                                                                  _scale(lib))
    if case == "inverse shape":
        class Identity(lib.nn.Module):
            def forward(self, x):
                return x

            def right_inverse(self, x):
                return x[0]

        layer = lib.nn.utils.parametrize.register_parametrization(lib.nn.Linear(2, 2), "weight",
                                                                   _scale(lib))
        return lib.nn.utils.parametrize.register_parametrization(layer, "weight", Identity())
    layer = lib.nn.Linear(2, 2)
    if case.startswith("second"):
        lib.nn.utils.parametrize.register_parametrization(layer, "weight", _scale(lib))
    return lib.nn.utils.parametrize.register_parametrization(layer, "weight", Bad())


@pytest.mark.parametrize("case", ["no such tensor", "first shape", "first not a tensor",
                                  "second shape", "second not a tensor", "inverse shape"])
def test_parametrization_errors_match_torch(torch, case):
    with pytest.raises(ValueError) as expected:
        _bad(torch, case)
    with pytest.raises(ValueError) as got:
        _bad(funcgrad, case)
    text = str(expected.value).replace("torch.", "funcgrad.")
    if case == "no such tensor":  # the module prints with its own random-free repr
        text = text.split("'")[0]
    assert str(got.value).startswith(text)


def test_a_parametrized_module_deep_copies_but_refuses_pickling(torch):
    layers = [_parametrized(lib) for lib in (torch, funcgrad)]
    for layer in layers:
        copied = copy.deepcopy(layer)
        assert type(copied).__name__ == "ParametrizedLinear"
        assert copied.parametrizations.weight.original is not (
            layer.parametrizations.weight.original)
        _close(copied.weight, layer.weight)
    with pytest.raises(RuntimeError) as expected:
        pickle.dumps(layers[0])
    with pytest.raises(RuntimeError) as got:
        pickle.dumps(layers[1])
    assert str(got.value) == str(expected.value)


def test_transferring_parametrizations_shares_the_originals(torch):
    for lib in (torch, funcgrad):
        source = _parametrized(lib)
        target = lib.nn.utils.parametrize.transfer_parametrizations_and_params(
            source, lib.nn.Linear(3, 3))
        assert (target.parametrizations.weight.original
                is source.parametrizations.weight.original)
        assert len(target.parametrizations.weight) == 2
    _close(target.weight, _parametrized(torch).weight)


@pytest.mark.parametrize("make, dim", [
    (lambda lib: lib.nn.Linear(3, 4), 0), (lambda lib: lib.nn.Linear(3, 4), 1),
    (lambda lib: lib.nn.Conv1d(2, 3, 3), 0), (lambda lib: lib.nn.Conv1d(2, 3, 3), None),
    (lambda lib: lib.nn.Conv2d(2, 3, 2), 1),
], ids=["linear", "linear-dim1", "conv1d", "conv1d-whole", "conv2d-dim1"])
def test_weight_norm_matches_torch(torch, make, dim):
    rng = np.random.default_rng(0)
    theirs = make(torch)
    ours = make(funcgrad)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((2, *{2: (3,), 3: (2, 5), 4: (2, 4, 4)}[theirs.weight.ndim]))
    for lib, layer in ((torch, theirs), (funcgrad, ours)):
        lib.nn.utils.parametrizations.weight_norm(layer, dim=dim)
        (layer(lib.tensor(x, dtype=lib.float32)) ** 2).sum().backward()
    assert repr(ours) == repr(theirs)
    assert ours.weight.grad_fn.name() == theirs.weight.grad_fn.name()
    _close(ours.weight, theirs.weight)
    for i in range(2):
        pair = [getattr(m.parametrizations.weight, f"original{i}") for m in (ours, theirs)]
        _close(pair[0], pair[1])
        _close_grad(pair[0].grad, pair[1].grad)


def _old_weight_norm(lib, layer, **kwargs):
    """The deprecated hook-based nn.utils.weight_norm, its FutureWarning checked."""
    with pytest.warns(FutureWarning) as caught:
        lib.nn.utils.weight_norm(layer, **kwargs)
    return str(caught[0].message).replace(lib.__name__, "LIB")


@pytest.mark.parametrize("make, dim", [
    (lambda lib: lib.nn.Linear(3, 4), 0), (lambda lib: lib.nn.Linear(3, 4), 1),
    (lambda lib: lib.nn.Conv1d(2, 3, 3), None), (lambda lib: lib.nn.Conv2d(2, 3, 2), 1),
], ids=["linear", "linear-dim1", "conv1d-whole", "conv2d-dim1"])
def test_older_weight_norm_matches_torch(torch, make, dim):
    rng = np.random.default_rng(0)
    theirs, ours = make(torch), make(funcgrad)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((2, *{2: (3,), 3: (2, 5), 4: (2, 4, 4)}[theirs.weight.ndim]))
    warnings = [_old_weight_norm(lib, layer, dim=dim)
                for lib, layer in ((torch, theirs), (funcgrad, ours))]
    assert warnings[0] == warnings[1]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for _ in range(2):  # the hook recomputes the weight from g and v before each call
        for lib, layer in ((torch, theirs), (funcgrad, ours)):
            (layer(lib.tensor(x, dtype=lib.float32)) ** 2).sum().backward()
            with lib.no_grad():
                layer.weight_g.mul_(1.5)
        assert ours.weight.grad_fn.name() == theirs.weight.grad_fn.name()
        _close(ours.weight, theirs.weight)
        for name in ("weight_g", "weight_v"):
            _close(getattr(ours, name), getattr(theirs, name))
            _close_grad(getattr(ours, name).grad, getattr(theirs, name).grad)
    for lib, layer in ((torch, theirs), (funcgrad, ours)):
        lib.nn.utils.remove_weight_norm(layer)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert type(ours.weight) is funcgrad.nn.Parameter
    _close(ours.weight, theirs.weight)


def test_older_weight_norm_errors_match_torch(torch):
    def errors(lib):
        layer = lib.nn.Linear(2, 2)
        _old_weight_norm(lib, layer)
        found = []
        for action, kind in [(lambda: _old_weight_norm(lib, layer), RuntimeError),
                             (lambda: lib.nn.utils.remove_weight_norm(layer, "bias"),
                              ValueError)]:
            with pytest.raises(kind) as info:
                action()
            found.append(str(info.value))
        return found

    assert errors(funcgrad) == errors(torch)


def test_a_checkpoint_of_the_older_weight_norm_loads_into_it(torch):
    with pytest.warns(FutureWarning):
        theirs = torch.nn.utils.weight_norm(torch.nn.Linear(3, 2))
    ours = funcgrad.nn.Linear(3, 2)
    _old_weight_norm(funcgrad, ours)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.ones((1, 3), np.float32)
    _close(ours(funcgrad.tensor(x)), theirs(torch.tensor(x)))


def _spectral_steps(torch, theirs, ours, weight_ndim: int):
    """Three steps of (layer(x) ** 2).sum().backward() on torch's and funcgrad's twin layers,
    the third in eval mode (no power iteration), the outputs compared; yields after each."""
    x = np.random.default_rng(1).standard_normal(
        (2, *{2: (3,), 3: (2, 5), 4: (2, 4, 4)}[weight_ndim]))
    for step in range(3):
        if step == 2:
            ours.eval(), theirs.eval()
        outs = [(layer(lib.tensor(x, dtype=lib.float32)) ** 2).sum()
                for lib, layer in ((torch, theirs), (funcgrad, ours))]
        for out in outs:
            out.backward()
        _close(outs[1], outs[0], rtol=1e-4)
        yield step


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Linear(3, 4), lambda lib: lib.nn.Conv2d(2, 3, 2),
    lambda lib: lib.nn.ConvTranspose1d(2, 3, 2),
], ids=["linear", "conv2d", "conv-transpose1d"])
def test_hook_based_spectral_norm_matches_torch(torch, make):
    theirs, ours = make(torch), make(funcgrad)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    for lib, layer in ((torch, theirs), (funcgrad, ours)):
        lib.nn.utils.spectral_norm(layer, n_power_iterations=2)
    # Registration starts the power iteration from random vectors: start ours from torch's.
    state = theirs.state_dict()
    ours.load_state_dict({k: v.detach().numpy() for k, v in state.items()})
    assert list(ours.state_dict()) == list(state)
    assert dict(ours.state_dict()._metadata) == dict(state._metadata)
    for _ in _spectral_steps(torch, theirs, ours, theirs.weight_orig.ndim):
        assert ours.weight.grad_fn.name() == theirs.weight.grad_fn.name()
        for name in ("weight_u", "weight_v", "weight_orig"):
            _close(getattr(ours, name), getattr(theirs, name), rtol=1e-4)
        _close_grad(ours.weight_orig.grad, theirs.weight_orig.grad)
    for lib, layer in ((torch, theirs), (funcgrad, ours)):
        lib.nn.utils.remove_spectral_norm(layer)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _close(ours.weight, theirs.weight, rtol=1e-4)
    assert not ours._state_dict_hooks and not ours._load_state_dict_pre_hooks


def test_hook_based_spectral_norm_loads_a_version_0_state_dict_as_torch(torch):
    # Version 0 saved the normalized weight and u, not v: loading solves for v.
    source = torch.nn.utils.spectral_norm(torch.nn.Linear(3, 4))
    source(torch.ones(1, 3))
    state = {k: v.detach().clone() for k, v in source.state_dict().items() if k != "weight_v"}
    state["weight"] = source.weight.detach().clone()
    loaded = []
    for lib in (torch, funcgrad):
        layer = lib.nn.utils.spectral_norm(lib.nn.Linear(3, 4))
        layer.load_state_dict({k: lib.tensor(v.numpy()) for k, v in state.items()})
        loaded.append(layer.weight_v)
    _close(loaded[1], loaded[0], rtol=1e-4)


def test_hook_based_spectral_norm_errors_match_torch(torch):
    def errors(lib):
        found = []
        layer = lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2))
        for action, kind in [(lambda: lib.nn.utils.spectral_norm(layer), RuntimeError),
                             (lambda: lib.nn.utils.remove_spectral_norm(layer, "bias"),
                              ValueError),
                             (lambda: lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2),
                                                                 n_power_iterations=0),
                              ValueError)]:
            with pytest.raises(kind) as info:
                action()
            found.append(str(info.value).split(" found in ")[0])
        return found

    assert errors(funcgrad) == errors(torch)


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Linear(3, 4), lambda lib: lib.nn.Conv2d(2, 3, 2),
    lambda lib: lib.nn.ConvTranspose1d(2, 3, 2),
], ids=["linear", "conv2d", "conv-transpose1d"])
def test_spectral_norm_matches_torch_from_the_same_power_iteration_state(torch, make):
    theirs, ours = make(torch), make(funcgrad)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for lib, layer in ((torch, theirs), (funcgrad, ours)):
        lib.nn.utils.parametrizations.spectral_norm(layer, n_power_iterations=2)
    # Registration starts the power iteration from random vectors: start ours from torch's.
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for _ in _spectral_steps(torch, theirs, ours, theirs.parametrizations.weight.original.ndim):
        spectral = [m.parametrizations.weight[0] for m in (ours, theirs)]
        _close(spectral[0]._u, spectral[1]._u, rtol=1e-4)
        _close(spectral[0]._v, spectral[1]._v, rtol=1e-4)
    _close_grad(ours.parametrizations.weight.original.grad,
                theirs.parametrizations.weight.original.grad)


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2), dim=2),
    lambda lib: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2),
                                                            n_power_iterations=0),
], ids=["dim", "iterations"])
def test_spectral_norm_errors_match_torch(torch, call):
    with pytest.raises((IndexError, ValueError)) as expected:
        call(torch)
    with pytest.raises(expected.type, match=re.escape(expected.value.args[0])):
        call(funcgrad)


def test_spectral_norm_makes_the_largest_singular_value_one():
    layer = funcgrad.nn.utils.parametrizations.spectral_norm(funcgrad.nn.Linear(5, 4),
                                                             n_power_iterations=20)
    _ = layer.weight  # training mode: every read takes more power-iteration steps
    singular = np.linalg.svd(np.asarray(layer.weight.detach()), compute_uv=False)
    np.testing.assert_allclose(singular[0], 1.0, rtol=1e-4)

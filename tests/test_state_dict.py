"""The state-dict protocol against torch's: ``state_dict`` and ``load_state_dict`` hooks, the
``_save_to_state_dict`` / ``_load_from_state_dict`` overrides, extra state, ``assign``, the
``_metadata`` versions and the older layouts that load through them. Each scenario is written
once, runs with torch and with funcgrad, and returns plain values (key lists, logs, numbers)
that must be equal."""

from __future__ import annotations

import copy
import io
import warnings

import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _plain(value):
    """Tensors as nested lists (exact: every value here is copied, never computed), containers
    recursively, everything else as it is."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "detach"):
        return value.detach().tolist()
    return value


def _same(scenario, torch):
    expected = _plain(scenario(torch))
    got = _plain(scenario(funcgrad))
    assert got == expected
    return got


def _net(lib):
    """A parent with a parameter, a child Linear and a nested Sequential, with fixed values."""

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = lib.nn.Parameter(lib.tensor([2.0]))
            self.fc = lib.nn.Linear(2, 2)
            self.head = lib.nn.Sequential(lib.nn.Linear(2, 1), lib.nn.ReLU())
            self.register_buffer("count", lib.tensor(3))

    net = Net()
    with lib.no_grad():
        for i, p in enumerate(net.parameters()):
            p.copy_(lib.arange(p.numel(), dtype=lib.float32).reshape(p.shape) / 4 - i)
    return net


def _values(lib, net, offset: float) -> dict:
    return {k: v.detach() + offset if v.is_floating_point() else v.detach()
            for k, v in net.state_dict().items()}


def test_state_dict_hooks_run_in_torchs_order(torch):
    def scenario(lib):
        net, log = _net(lib), []
        for name, module in [("net", net), ("fc", net.fc), ("head", net.head)]:
            module.register_state_dict_pre_hook(
                lambda m, prefix, keep_vars, name=name: log.append(("pre", name, prefix,
                                                                    keep_vars)))
            module.register_state_dict_post_hook(
                lambda m, sd, prefix, meta, name=name: log.append(("post", name, prefix,
                                                                   list(sd), dict(meta))))
        state = net.state_dict(prefix="model.", keep_vars=True)
        return log, list(state), dict(state._metadata), state["model.fc.weight"].requires_grad

    _same(scenario, torch)


def test_state_dict_post_hooks_edit_and_replace_as_torchs(torch):
    def scenario(lib):
        net = _net(lib)

        def drop_bias(m, sd, prefix, meta):
            del sd[prefix + "bias"]

        net.fc.register_state_dict_post_hook(drop_bias)
        # The older, private hook's result replaces the state dict of the root module only.
        net.head._register_state_dict_hook(lambda m, sd, prefix, meta: {"ignored": 1})
        handle = net._register_state_dict_hook(
            lambda m, sd, prefix, meta: {k.upper(): v for k, v in sd.items()})
        replaced = list(net.state_dict())
        handle.remove()
        return replaced, list(net.state_dict())

    _same(scenario, torch)


def test_state_dict_hook_errors_match_torch(torch):
    def scenario(lib):
        errors = []
        net = _net(lib)

        def returns(m, sd, prefix, meta):
            return sd

        net.register_state_dict_post_hook(returns)
        for action in (net.state_dict, lambda: net._register_state_dict_hook(returns)):
            with pytest.raises(RuntimeError) as info:
                action()
            errors.append(str(info.value))
        with pytest.warns(FutureWarning) as caught:
            net.fc.state_dict(None, "p.")
        errors.append(str(caught[0].message))
        return errors

    _same(scenario, torch)


def _with_extra_state(lib):
    class Counter(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(1, 1)
            self.steps = 0

        def get_extra_state(self):
            return {"steps": self.steps}

        def set_extra_state(self, state):
            self.steps = state["steps"]

    return Counter()


def test_extra_state_round_trips_as_torchs(torch):
    def scenario(lib):
        outer = lib.nn.Sequential(_with_extra_state(lib), lib.nn.Linear(1, 1))
        outer[0].steps = 7
        state = outer.state_dict()
        fresh = lib.nn.Sequential(_with_extra_state(lib), lib.nn.Linear(1, 1))
        loaded = fresh.load_state_dict(state)
        without = {k: v for k, v in state.items() if not k.endswith("_extra_state")}
        missing = fresh.load_state_dict(without, strict=False)
        # A module that keeps no extra state finds the key unexpected.
        unexpected = lib.nn.Linear(1, 1).load_state_dict(
            {"weight": lib.zeros(1, 1), "bias": lib.zeros(1), "_extra_state": 1}, strict=False)
        return (list(state), state["0._extra_state"], fresh[0].steps, repr(loaded),
                list(missing), list(unexpected))

    _same(scenario, torch)


def _renaming(lib):
    """A layer whose checkpoint calls its weight ``kernel``: it saves under that name and
    renames it back on loading, as a module that changed its layout does."""

    class Renamed(lib.nn.Linear):
        def _save_to_state_dict(self, destination, prefix, keep_vars):
            super()._save_to_state_dict(destination, prefix, keep_vars)
            destination[prefix + "kernel"] = destination.pop(prefix + "weight")

        def _load_from_state_dict(self, state_dict, prefix, *args):
            if prefix + "kernel" in state_dict:
                state_dict[prefix + "weight"] = state_dict.pop(prefix + "kernel")
            super()._load_from_state_dict(state_dict, prefix, *args)

    layer = Renamed(2, 1)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor([[1.0, -2.0]]))
        layer.bias.fill_(0.5)
    return layer


def test_save_and_load_overrides_as_torchs(torch):
    def scenario(lib):
        source = lib.nn.Sequential(_renaming(lib))
        state = source.state_dict()
        target = lib.nn.Sequential(_renaming(lib))
        with lib.no_grad():
            target[0].weight.zero_()
        result = target.load_state_dict(state)
        return list(state), repr(result), target[0].weight, target[0].bias

    _same(scenario, torch)


def test_load_hooks_see_and_edit_what_torchs_do(torch):
    def scenario(lib):
        net, log = _net(lib), []
        state = _values(lib, net, 1.0)
        state["fc.w_old"] = state.pop("fc.weight")

        def rename(module, sd, prefix, meta, strict, missing, unexpected, errors):
            log.append(("pre", type(module).__name__, prefix, sorted(sd), dict(meta), strict,
                        list(missing), list(unexpected), list(errors)))
            if prefix + "w_old" in sd:
                sd[prefix + "weight"] = sd.pop(prefix + "w_old")

        def private(sd, prefix, *rest):
            log.append(("private", prefix, sorted(sd)))

        def post(module, keys):
            log.append(("post", type(module).__name__, list(keys.missing_keys),
                        list(keys.unexpected_keys)))
            keys.missing_keys.clear()  # a strict load then passes

        for module in (net, net.fc, net.head[0]):
            module.register_load_state_dict_pre_hook(rename)
            module.register_load_state_dict_post_hook(post)
        net.head._register_load_state_dict_pre_hook(private)
        del state["head.0.bias"]
        result = net.load_state_dict(state)
        return log, repr(result), net.fc.weight, net.scale

    _same(scenario, torch)


def test_load_post_hook_must_return_none_as_in_torch(torch):
    def scenario(lib):
        layer = lib.nn.Linear(1, 1)
        layer.register_load_state_dict_post_hook(lambda module, keys: keys)
        with pytest.raises(AssertionError) as info:
            layer.load_state_dict(layer.state_dict())
        return str(info.value)

    _same(scenario, torch)


def test_assign_takes_the_state_dicts_tensors_as_torchs(torch):
    def scenario(lib):
        layer = lib.nn.Linear(2, 1)
        layer.bias.requires_grad_(False)
        weight = lib.tensor([[1.0, 2.0]], dtype=lib.float16)
        bias = lib.nn.Parameter(lib.tensor([3.0], dtype=lib.float16))
        result = layer.load_state_dict({"weight": weight, "bias": bias}, assign=True)
        with lib.no_grad():
            weight.add_(1.0)  # shared with the module's new parameter
        copied = lib.nn.Linear(2, 1)
        copied.load_state_dict({"weight": weight, "bias": bias})
        return (repr(result), type(layer.weight).__name__, str(layer.weight.dtype).split(".")[-1],
                layer.weight.requires_grad, layer.bias is bias, bias.requires_grad,
                layer.weight, str(copied.weight.dtype).split(".")[-1], copied.weight)

    got = _same(scenario, torch)
    assert got[2] == "float16"


def test_load_errors_match_torch(torch):
    def scenario(lib):
        layer = lib.nn.Linear(2, 1)
        with pytest.raises(RuntimeError) as info:
            layer.load_state_dict({"weight": [[1.0, 2.0]], "bias": lib.zeros(1)})
        return str(info.value).replace("torch.Tensor", "Tensor")

    expected = scenario(torch)
    assert scenario(funcgrad) == expected


def test_a_failed_load_changes_no_parameter_or_buffer():
    # torch leaves what it copied before an error; funcgrad puts it back, versions included,
    # so a graph recorded before the load still runs backward.
    net = _net(funcgrad)
    before = {k: np.asarray(v) for k, v in net.state_dict().items()}
    versions = {k: v._version for k, v in net.state_dict().items()}
    y = (net.scale * 3.0).sum()
    state = _values(funcgrad, net, 5.0)
    state["head.0.weight"] = funcgrad.zeros(3, 3)  # loaded after scale and fc, and wrong
    with pytest.raises(RuntimeError, match="size mismatch for head.0.weight"):
        net.load_state_dict(state)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(np.asarray(v), before[k], err_msg=k)
        assert v._version == versions[k], k
    y.backward()
    np.testing.assert_array_equal(np.asarray(net.scale.grad), [3.0])

    # The same when a post hook raises after everything was written, and with assign.
    weight = net.fc.weight
    net.register_load_state_dict_post_hook(lambda m, keys: 1 / 0)
    for assign in (False, True):
        with pytest.raises(ZeroDivisionError):
            net.load_state_dict(_values(funcgrad, net, 5.0), assign=assign)
        assert net.fc.weight is weight
        for k, v in net.state_dict().items():
            np.testing.assert_array_equal(np.asarray(v), before[k], err_msg=k)


def test_batch_norm_loads_state_dicts_of_older_versions_as_torchs(torch):
    def scenario(lib):
        norm = lib.nn.BatchNorm1d(2)
        norm.num_batches_tracked.fill_(4)
        old = {k: v for k, v in norm.state_dict().items() if k != "num_batches_tracked"}
        plain = norm.load_state_dict(old, strict=False)  # no _metadata: a version-1 layout
        versioned = type(norm.state_dict())(old)
        versioned._metadata = {"": {"version": 2}}
        current = norm.load_state_dict(versioned, strict=False)
        instance = lib.nn.InstanceNorm1d(2)
        with pytest.raises(RuntimeError) as info:
            instance.load_state_dict({"running_mean": lib.zeros(2), "running_var": lib.ones(2)})
        return (repr(plain), repr(current), norm.num_batches_tracked,
                dict(norm.state_dict()._metadata), str(info.value))

    _same(scenario, torch)


def test_weight_norm_loads_the_older_weight_norms_state_dict(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch's old weight_norm is deprecated
        old = torch.nn.utils.weight_norm(torch.nn.Linear(3, 2))
    with torch.no_grad():
        old.weight_g.mul_(2.0)
        old(torch.zeros(1, 3))  # which computes old.weight from weight_g and weight_v
    state = old.state_dict()
    assert {"weight_g", "weight_v"} <= set(state)

    def scenario(lib):
        layer = lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(3, 2))
        loaded = layer.load_state_dict({k: lib.tensor(v.numpy()) for k, v in state.items()})
        return repr(loaded), sorted(layer.state_dict()), layer.weight

    got = _same(scenario, torch)
    np.testing.assert_allclose(got[2], old.weight.detach().numpy(), rtol=1e-6)


def test_a_copied_module_gives_its_load_hooks_the_copy(torch):
    def scenario(lib):
        layer, seen = lib.nn.Linear(1, 1), []
        layer.register_load_state_dict_pre_hook(lambda module, *args: seen.append(module))
        twin = copy.deepcopy(layer)
        twin.load_state_dict(twin.state_dict())
        layer.load_state_dict(layer.state_dict())
        return [seen[0] is twin, seen[1] is layer]

    assert _same(scenario, torch) == [True, True]


def test_state_dict_metadata_survives_save_and_load():
    state = _net(funcgrad).state_dict()
    buffer = io.BytesIO()
    funcgrad.save(state, buffer)
    buffer.seek(0)
    loaded = funcgrad.load(buffer)
    assert dict(loaded._metadata) == {"": {"version": 1}, "fc": {"version": 1},
                                      "head": {"version": 1}, "head.0": {"version": 1},
                                      "head.1": {"version": 1}}


def _with_buffers(lib):
    """A module whose buffers come from nn.Buffer attributes, one not persistent, one made
    from a tensor that requires grad, one reassigned a plain tensor afterwards."""

    class Stats(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.count = lib.nn.Buffer(lib.zeros(1))
            self.scratch = lib.nn.Buffer(lib.ones(2), persistent=False)
            self.tracked = lib.nn.Buffer(lib.ones(2, requires_grad=True))
            self.empty = lib.nn.Buffer()

    module = Stats()
    module.scratch = lib.full((2,), 3.0)  # a buffer stays one, and keeps its persistence
    return module


def _described(module) -> tuple:
    return ([(name, tuple(b.shape), b.requires_grad, np.asarray(b.detach()).tolist())
             for name, b in module.named_buffers()],
            list(module.state_dict()), list(module._parameters))


def test_buffers_assigned_as_nn_buffer_register_as_torchs(torch) -> None:
    ours, theirs = _with_buffers(funcgrad), _with_buffers(torch)
    assert _described(ours) == _described(theirs)
    assert _described(copy.deepcopy(ours)) == _described(copy.deepcopy(theirs))


def test_a_buffer_shares_its_datas_storage_as_torchs(torch) -> None:
    def run(lib):
        data = lib.zeros(2)
        buffer = lib.nn.Buffer(data)
        data.add_(1.0)
        return buffer.tolist(), buffer.persistent

    assert run(funcgrad) == run(torch)


@pytest.mark.parametrize("scenario", [
    lambda lib: setattr(lib.nn.Module.__new__(lib.nn.Module), "b", lib.nn.Buffer(lib.ones(1))),
    lambda lib: setattr(lib.nn.Linear(2, 2), "weight", lib.nn.Buffer(lib.ones(1))),
], ids=["before-init", "over-a-parameter"])
def test_misplaced_buffers_raise_as_torch(scenario, torch) -> None:
    assert_raises_as_torch(torch, scenario)

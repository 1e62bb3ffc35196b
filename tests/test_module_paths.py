"""torch's module layout: code that imports from torch's submodules (``torch.nn.modules.conv``,
``torch.nn.parameter``, ``torch.autograd.function``, ``torch.distributions.normal``,
``torch.optim.optimizer``, ``torch.utils.data.dataset`` …) runs with ``torch`` read as
``funcgrad``. Each path is checked against torch's own: every public name torch has there,
and funcgrad has at all, is importable from the same path and is funcgrad's object; then the
private helpers that research code imports from those paths behave as torch's do."""

from __future__ import annotations

import collections
import importlib
import importlib.metadata
import pkgutil
import types
import typing

import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _submodules(torch, package: str) -> list[str]:
    module = importlib.import_module(f"torch.{package}")
    return [f"{package}.{info.name}" for info in pkgutil.iter_modules(module.__path__)
            if not info.name.startswith("_")]


# torch's packages whose every submodule is mirrored, and funcgrad's namespace holding the
# names ("": the top level); then single modules, with the namespace holding theirs
_PACKAGES = {"nn.modules": "nn", "distributions": "distributions"}
_SINGLE = {"functional": "", "nn.parameter": "nn", "autograd.function": "autograd",
           "autograd.grad_mode": "autograd", "autograd.anomaly_mode": "autograd",
           "optim.optimizer": "optim", "utils.data.dataset": "utils.data",
           "utils.data.dataloader": "utils.data", "utils.data.sampler": "utils.data",
           "utils.data.distributed": "utils.data",
           "nn.utils.clip_grad": "nn.utils", "nn.utils.convert_parameters": "nn.utils"}


def _public(module) -> list[str]:
    names = getattr(module, "__all__", None)
    return list(names) if names is not None else [
        n for n, v in vars(module).items()
        if not n.startswith("_") and getattr(v, "__module__", "").startswith("torch")]


def test_every_submodule_path_torch_has_is_here(torch):
    """Each public name of the path that funcgrad has (in the namespace torch re-exports it
    from) imports from the path as that very object; a path of which funcgrad has nothing
    (torch's quantization helpers …) is left out, and at least 250 names are checked."""
    paths = dict(_SINGLE)
    for package, namespace in _PACKAGES.items():
        paths.update(dict.fromkeys(_submodules(torch, package), namespace))
    checked = 0
    for path, namespace in paths.items():
        theirs = importlib.import_module(f"torch.{path}")
        where = importlib.import_module(".".join(filter(None, ["funcgrad", namespace])))
        wanted = [n for n in _public(theirs) if hasattr(where, n)
                  and getattr(theirs, n) is getattr(importlib.import_module(
                      ".".join(filter(None, ["torch", namespace]))), n, None)]
        if not wanted:
            continue
        ours = importlib.import_module(f"funcgrad.{path}")
        for name in wanted:
            assert getattr(ours, name) is getattr(where, name), (path, name)
            checked += 1
    assert checked > 250


def test_submodules_are_attributes_as_in_torch(torch):
    for lib in (torch, funcgrad):
        assert lib.nn.modules.conv.Conv2d is lib.nn.Conv2d
        assert lib.nn.parameter.Parameter is lib.nn.Parameter
        assert lib.distributions.normal.Normal is lib.distributions.Normal
        assert lib.autograd.function.Function is lib.autograd.Function
        assert lib.utils.data.dataset.Dataset is lib.utils.data.Dataset


_BASES = {"nn.modules.conv": ["_ConvNd", "_ConvTransposeNd"],
          "nn.modules.loss": ["_Loss", "_WeightedLoss"],
          "nn.modules.batchnorm": ["_BatchNorm"], "nn.modules.instancenorm": ["_InstanceNorm"],
          "nn.modules.module": ["Module"], "nn.modules.lazy": ["LazyModuleMixin"],
          "optim.lr_scheduler": ["_LRScheduler"], "nn.parameter": ["UninitializedTensorMixin"]}


@pytest.mark.parametrize("path", _BASES)
def test_base_classes_are_where_torch_keeps_them_with_torchs_subclasses(torch, path):
    ours, theirs = (importlib.import_module(f"{lib}.{path}") for lib in ("funcgrad", "torch"))
    for base in _BASES[path]:
        mine_base, torch_base, compared = getattr(ours, base), getattr(theirs, base), 0
        for namespace in ("nn", "optim.lr_scheduler"):
            here = importlib.import_module(f"funcgrad.{namespace}")
            for name, cls in vars(importlib.import_module(f"torch.{namespace}")).items():
                mine = getattr(here, name, None)
                if isinstance(cls, type) and isinstance(mine, type):
                    assert issubclass(mine, mine_base) == issubclass(cls, torch_base), (
                        base, name)
                    compared += 1
        assert compared > 100


@pytest.mark.parametrize("size", ["_single", "_pair", "_triple", "_quadruple"])
@pytest.mark.parametrize("value", [3, (4, 5), [1, 2, 3]])
def test_size_helpers_are_torchs(torch, size, value):
    ours = getattr(funcgrad.nn.modules.utils, size)
    theirs = getattr(torch.nn.modules.utils, size)
    assert ours(value) == theirs(value) and ours.__name__ == theirs.__name__


def test_padding_and_adaptive_size_helpers_are_torchs(torch):
    for lib in (funcgrad, torch):
        utils = lib.nn.modules.utils
        assert utils._reverse_repeat_tuple((1, 2, 3), 2) == (3, 3, 2, 2, 1, 1)
        assert utils._list_with_default([None, 4], [8, 16, 32]) == [16, 4]
        assert utils._list_with_default(7, [1, 2]) == 7
    assert_raises_as_torch(torch, lambda T: T.nn.modules.utils._list_with_default(
        [None, 4], [8, 16]))


def test_consume_prefix_in_state_dict_is_torchs(torch):
    def consumed(lib):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2))
        state = lib.nn.DataParallel(model).state_dict() if lib is torch else (
            collections.OrderedDict((f"module.{k}", v) for k, v in model.state_dict().items()))
        state._metadata = collections.OrderedDict(
            [("", {"version": 1}), ("module", {"version": 1}), ("module.0", {"version": 1})])
        lib.nn.modules.utils.consume_prefix_in_state_dict_if_present(state, "module.")
        model.load_state_dict(state)
        return list(state), list(state._metadata)

    assert consumed(funcgrad) == consumed(torch) == (["0.weight", "0.bias"], ["", "0"])


def test_fan_helpers_are_torchs(torch):
    for shape in [(3, 4), (8, 2, 3, 3), (5, 1, 7)]:
        ours, theirs = funcgrad.empty(*shape), torch.empty(*shape)
        assert (funcgrad.nn.init._calculate_fan_in_and_fan_out(ours)
                == torch.nn.init._calculate_fan_in_and_fan_out(theirs))
        for mode in ("fan_in", "FAN_OUT"):
            assert (funcgrad.nn.init._calculate_correct_fan(ours, mode)
                    == torch.nn.init._calculate_correct_fan(theirs, mode))
    assert_raises_as_torch(torch, lambda T: T.nn.init._calculate_fan_in_and_fan_out(T.ones(3)))
    assert_raises_as_torch(torch, lambda T: T.nn.init._calculate_correct_fan(T.ones(3, 3), "x"))
    assert_raises_as_torch(torch, lambda T: T.nn.init.kaiming_uniform_(T.ones(3, 3), mode="x"))


def _custom_optimizer(lib):
    from importlib import import_module

    optimizer = import_module(f"{lib.__name__}.optim.optimizer")

    class SignSGD(optimizer.Optimizer):
        def __init__(self, params, lr=optimizer.required, momentum=0.0):
            super().__init__(params, {"lr": lr, "momentum": momentum})

        @lib.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    p.sub_(group["lr"] * p.grad.sign())

    return SignSGD, optimizer.required


def test_a_custom_optimizer_with_a_required_lr_is_torchs(torch):
    def trained(lib):
        SignSGD, required = _custom_optimizer(lib)
        w, b = lib.tensor([1.0, -2.0], requires_grad=True), lib.tensor(0.5, requires_grad=True)
        opt = SignSGD([{"params": [w], "lr": 0.1}, {"params": [b], "lr": 0.3}])
        ((w * w).sum() + b * 3).backward()
        opt.step()
        return repr(required), w.tolist() + [b.item()], opt.param_groups[1]["momentum"]

    ours, theirs = trained(funcgrad), trained(torch)
    assert ours[0] == theirs[0] == "<required parameter>" and ours[2] == theirs[2] == 0.0
    np.testing.assert_allclose(theirs[1], [0.9, -1.9, 0.2], rtol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)


def test_a_group_without_a_required_value_is_refused_as_torch(torch):
    def refused(lib):
        SignSGD, _ = _custom_optimizer(lib)
        SignSGD([lib.ones(1, requires_grad=True)])

    assert "required optimization parameter lr" in assert_raises_as_torch(torch, refused)


def test_an_optimizer_given_its_required_value_later_takes_it(torch):
    def groups(lib):
        SignSGD, _ = _custom_optimizer(lib)
        opt = SignSGD([{"params": [lib.ones(1, requires_grad=True)], "lr": 0.5}])
        opt.add_param_group({"params": [lib.zeros(1, requires_grad=True)], "lr": 0.2})
        return [g["lr"] for g in opt.param_groups]

    assert groups(funcgrad) == groups(torch) == [0.5, 0.2]


def test_a_custom_lr_scheduler_on_the_old_base_class_is_torchs(torch):
    def rates(lib):
        class Halving(lib.optim.lr_scheduler._LRScheduler):
            def get_lr(self):
                return [group["lr"] * 0.5 for group in self.optimizer.param_groups]

        opt = lib.optim.SGD([lib.ones(1, requires_grad=True)], lr=1.0)
        scheduler = Halving(opt)
        out = []
        for _ in range(3):
            opt.step()
            scheduler.step()
            out.append(scheduler.get_last_lr()[0])
        return out

    assert rates(funcgrad) == rates(torch) == [0.25, 0.125, 0.0625]


def test_removable_handles_made_by_hand_work_as_torchs(torch):
    """The pattern of code keeping hooks of its own: one handle per hook, the hook filed
    under the handle's id; ``remove()`` (or leaving the ``with`` block) unregisters it."""

    def calls(lib):
        hooks, extra, seen = collections.OrderedDict(), collections.OrderedDict(), []
        handles = []
        for k in range(3):
            handle = lib.utils.hooks.RemovableHandle(hooks, extra_dict=extra)
            hooks[handle.id] = lambda k=k: seen.append(k)
            extra[handle.id] = k
            handles.append(handle)
        handles[1].remove()
        with handles[2]:
            for hook in hooks.values():
                hook()
        for hook in hooks.values():
            hook()
        ids = [h.id for h in handles]
        return seen, list(extra.values()), ids == sorted(set(ids))

    assert calls(funcgrad) == calls(torch) == ([0, 2, 0], [0], True)


def test_once_differentiable_from_torchs_path_refuses_a_second_derivative(torch):
    def run(lib):
        from importlib import import_module

        function = import_module(f"{lib.__name__}.autograd.function")

        class Cube(function.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            @function.once_differentiable
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 3 * x ** 2

        x = lib.tensor(2.0, requires_grad=True)
        (g,) = lib.autograd.grad(Cube.apply(x), x)
        (g2,) = lib.autograd.grad(Cube.apply(x), x, create_graph=True)
        return g.item(), g2.item(), isinstance(function.FunctionCtx, type)

    assert run(funcgrad) == run(torch) == (12.0, 12.0, True)


def test_version_module_has_torchs_names_with_funcgrads_version(torch):
    """torch.version's names but ``git_version`` (funcgrad is not built from a commit); the
    version is funcgrad's, the installed package's, and ``cuda`` a CUDA plugin's."""
    from funcgrad import version

    assert set(version.__all__) == set(torch.version.__all__) - {"git_version"}
    expected = importlib.metadata.version("funcgrad")
    assert version.__version__ == funcgrad.__version__ == expected
    assert type(version.__version__) is type(torch.version.__version__) is str
    assert (version.debug, version.hip, version.rocm, version.xpu) == (False, None, None, None)
    assert version._cuda_version(None) is None
    plugin = types.SimpleNamespace(cuda_runtime_build_version=lambda: 12080)
    assert version._cuda_version(plugin) == "12.8"


_VERSIONS = ["2.13.0+cpu", "2.0", "2", "2.0.0a1", "2.0.0rc1", "2.0.0.dev3", "2.0.0a1.dev2",
             "2.0.post1", "2.0.0+cu121", "2.0.0+cpu.1", "1.10.0a0", "0.1.0", "0.10", "parrot"]


@pytest.mark.parametrize("version", _VERSIONS)
def test_torch_version_compares_as_torchs(torch, version):
    ours, theirs = funcgrad.torch_version.TorchVersion(version), (
        torch.torch_version.TorchVersion(version))
    for other in [*_VERSIONS, (2,), (2, 0, 1), [1, 10], (0, 9)]:
        for method in ("__gt__", "__ge__", "__lt__", "__le__", "__eq__", "__ne__"):
            assert getattr(ours, method)(other) == getattr(theirs, method)(other), (
                version, other, method)
    assert hash(ours) == hash(theirs) == hash(version) and str(ours) == version
    assert_raises_as_torch(torch, lambda T: T.torch_version.TorchVersion(version) > 3)


def test_funcgrads_version_is_its_own_and_compares_as_torchs(torch):
    assert isinstance(funcgrad.__version__, funcgrad.torch_version.TorchVersion)
    assert type(torch.__version__) is torch.torch_version.TorchVersion
    assert funcgrad.__version__ < "2.0" and funcgrad.__version__ >= (0, 1)


def test_types_path_holds_torchs_aliases_with_funcgrads_classes(torch):
    """Each alias of torch.types that funcgrad has names the same types, funcgrad's classes
    standing for torch's (``torch.device`` → ``funcgrad.device``)."""
    ours_for = {torch.device: funcgrad.device, torch.Size: funcgrad.Size,
                torch.dtype: funcgrad.dtype}
    assert set(funcgrad.types.__all__) == set(torch.types.__all__) - {"Storage"}
    for name in [*funcgrad.types.__all__, "_dtype", "_device", "_size"]:
        ours, theirs = getattr(funcgrad.types, name), getattr(torch.types, name)
        if isinstance(theirs, type):
            assert ours is ours_for.get(theirs, theirs), name
        else:
            assert typing.get_args(ours) == tuple(
                ours_for.get(arg, arg) for arg in typing.get_args(theirs)), name
    for value in (3, 2.5, True):
        assert isinstance(value, funcgrad.types.Number) and isinstance(value, torch.types.Number)

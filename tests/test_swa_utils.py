"""optim.swa_utils against torch's: the same model, the same sequence of weights, the same
averages (SWA, EMA, by one tensor or by lists, with and without buffers), batch-norm statistics
recomputed by update_bn, and SWALR's learning rates."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _net(lib):
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(),
                            lib.nn.Linear(4, 2))
    with lib.no_grad():
        for i, p in enumerate(net.parameters()):
            p.copy_(lib.arange(p.numel(), dtype=lib.float32).reshape(p.shape) / 10 - i)
    return net


def _values(tensors) -> list:
    return [np.asarray(t.detach(), np.float64) for t in tensors]


_AVERAGES = {
    "swa": lambda sw: {},
    "ema-avg_fn": lambda sw: {"avg_fn": sw.get_ema_avg_fn(0.9)},
    "ema-multi": lambda sw: {"multi_avg_fn": sw.get_ema_multi_avg_fn(0.8)},
    "swa-avg_fn-buffers": lambda sw: {"avg_fn": sw.get_swa_avg_fn(), "use_buffers": True},
    "ema-multi-buffers": lambda sw: {"multi_avg_fn": sw.get_ema_multi_avg_fn(0.5),
                                     "use_buffers": True},
}


@pytest.mark.parametrize("average", list(_AVERAGES))
def test_averaged_model_matches_torch(torch, average):
    rng = np.random.default_rng(0)
    steps = [[rng.standard_normal(p.shape).astype(np.float32) for p in _net(torch).parameters()]
             for _ in range(4)]
    x = rng.standard_normal((5, 3)).astype(np.float32)

    def run(lib):
        net = _net(lib)
        averaged = lib.optim.swa_utils.AveragedModel(net, **_AVERAGES[average](
            lib.optim.swa_utils))
        for weights in steps:
            with lib.no_grad():
                for p, w in zip(net.parameters(), weights):
                    p.copy_(lib.tensor(w))
            net(lib.tensor(x))  # moves the batch-norm statistics
            averaged.update_parameters(net)
        return averaged

    ours, theirs = run(funcgrad), run(torch)
    assert int(ours.n_averaged) == int(theirs.n_averaged) == 4
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for o, t in zip(_values(ours.state_dict().values()), _values(theirs.state_dict().values())):
        np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-6)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(_values([ours(funcgrad.tensor(x))])[0],
                               _values([theirs(torch.tensor(x))])[0], rtol=1e-5, atol=1e-6)


def test_update_bn_matches_torch(torch):
    batches = [np.random.default_rng(i).standard_normal((6, 3)).astype(np.float32)
               for i in range(3)]

    def run(lib):
        net = _net(lib)
        net.add_module("norm", lib.nn.InstanceNorm1d(6, track_running_stats=True))
        net[1].momentum = 0.3
        net.eval()
        loader = [(lib.tensor(b), lib.zeros(6)) for b in batches]
        lib.optim.swa_utils.update_bn(loader, net)
        return net

    ours, theirs = run(funcgrad), run(torch)
    assert (ours.training, ours[1].momentum) == (theirs.training, theirs[1].momentum)
    for o, t in zip(_values(ours.buffers()), _values(theirs.buffers())):
        np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("anneal_epochs", [0, 1, 3])
@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_swalr_learning_rates_match_torch(torch, anneal_epochs, strategy):
    def lrs(lib):
        params = [lib.nn.Parameter(lib.zeros(1)), lib.nn.Parameter(lib.zeros(1))]
        optimizer = lib.optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}],
                                  lr=1.0)
        scheduler = lib.optim.swa_utils.SWALR(optimizer, swa_lr=[0.05, 0.2],
                                              anneal_epochs=anneal_epochs,
                                              anneal_strategy=strategy)
        seen = []
        for _ in range(6):
            optimizer.step()
            scheduler.step()
            seen.append(scheduler.get_last_lr())
        return seen

    np.testing.assert_allclose(lrs(funcgrad), lrs(torch), rtol=1e-12)


_ERRORS = {
    "swa_lr length": lambda lib, opt: lib.optim.swa_utils.SWALR(opt, swa_lr=[0.1, 0.2]),
    "strategy": lambda lib, opt: lib.optim.swa_utils.SWALR(opt, 0.1, anneal_strategy="foo"),
    "negative anneal": lambda lib, opt: lib.optim.swa_utils.SWALR(opt, 0.1, anneal_epochs=-1),
    "float anneal": lambda lib, opt: lib.optim.swa_utils.SWALR(opt, 0.1, anneal_epochs=1.5),
    "decay": lambda lib, opt: lib.optim.swa_utils.get_ema_avg_fn(1.5),
    "multi decay": lambda lib, opt: lib.optim.swa_utils.get_ema_multi_avg_fn(-0.1),
    "both functions": lambda lib, opt: lib.optim.swa_utils.AveragedModel(
        lib.nn.Linear(1, 1), avg_fn=lambda *a: 0, multi_avg_fn=lambda *a: 0),
}


@pytest.mark.parametrize("case", list(_ERRORS))
def test_errors_match_torch(torch, case):
    def raised(lib):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=1.0)
        with pytest.raises((ValueError, AssertionError)) as info:
            _ERRORS[case](lib, opt)
        return type(info.value), str(info.value)

    assert raised(funcgrad) == raised(torch)

"""funcgrad.optim.Muon against torch.optim.Muon: the same parameters and gradients give the
same parameters and momentum buffers after every step, in every combination of its options;
its groups, state dicts, printing and errors are torch's."""

import inspect

import numpy as np
import pytest

import funcgrad
from funcgrad import optim
from funcgrad.optim import lr_scheduler


@pytest.fixture
def torch():
    torch = pytest.importorskip("torch")
    if not hasattr(torch.optim, "Muon"):
        pytest.skip(f"torch {torch.__version__} has no optim.Muon")
    return torch


# Wide, tall (orthogonalised transposed), square and a single row.
SHAPES = [(4, 7), (9, 3), (5, 5), (1, 6)]


def _starts_and_grads(steps: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    starts = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(steps)]
    return starts, grads


class _Pair:
    """The same parameters in funcgrad and torch, each under its library's Muon. Gradients are
    set, not computed: the two engines' backward passes round differently, and Muon rounds its
    input to bfloat16, where a last-bit difference can round the other way."""

    def __init__(self, torch, starts, groups=None, **kwargs) -> None:
        self.torch = torch
        self.params = [funcgrad.tensor(a, requires_grad=True) for a in starts]
        self.t_params = [torch.tensor(a, requires_grad=True) for a in starts]
        self.opt = optim.Muon(groups(self.params) if groups else self.params, **kwargs)
        self.t_opt = torch.optim.Muon(groups(self.t_params) if groups else self.t_params,
                                      **kwargs)

    def step(self, grads, used=None) -> None:
        for i, g in enumerate(grads):
            given = used is None or i in used
            self.params[i].grad = funcgrad.tensor(g) if given else None
            self.t_params[i].grad = self.torch.tensor(g) if given else None
        self.opt.step()
        self.t_opt.step()

    def assert_close(self, rtol=1e-5, atol=1e-6) -> None:
        state = self.opt.state_dict()["state"]
        t_state = self.t_opt.state_dict()["state"]
        for i, (p, t_p) in enumerate(zip(self.params, self.t_params)):
            np.testing.assert_allclose(np.asarray(p.detach()), t_p.detach().numpy(), rtol=rtol,
                                       atol=atol, err_msg=f"parameter {i}")
            if i in t_state:
                assert list(t_state[i]) == list(state[i][0]._fields) == ["momentum_buffer"]
                np.testing.assert_allclose(np.asarray(state[i][0].momentum_buffer[0]),
                                           t_state[i]["momentum_buffer"].numpy(), rtol=rtol,
                                           atol=atol, err_msg=f"momentum_buffer {i}")


CONFIGS = [
    dict(),
    dict(lr=0.02),
    dict(lr=0.02, nesterov=False),
    dict(lr=0.02, weight_decay=0.0),
    dict(lr=0.02, weight_decay=0.3, nesterov=False),
    dict(lr=0.02, adjust_lr_fn="original"),
    dict(lr=0.02, adjust_lr_fn="match_rms_adamw"),
    dict(lr=0.02, adjust_lr_fn="match_rms_adamw", nesterov=False, weight_decay=0.0),
    dict(lr=0.02, ns_steps=1),
    dict(lr=0.02, ns_steps=3, nesterov=False, adjust_lr_fn="match_rms_adamw"),
    dict(lr=0.02, ns_steps=8, ns_coefficients=(2.0, -1.5, 0.5)),
    dict(lr=0.02, momentum=0.9),
    dict(lr=0.02, momentum=0.0),
    dict(lr=0.02, momentum=0.5, nesterov=False, weight_decay=0.05),
    dict(lr=0.02, eps=10.0),  # the norms are below eps: torch divides by eps itself
]


@pytest.mark.parametrize("kwargs", CONFIGS, ids=["-".join(f"{k}={v}" for k, v in kw.items())
                                                 or "defaults" for kw in CONFIGS])
def test_muon_matches_torch_step_for_step(torch, kwargs):
    starts, grads = _starts_and_grads(8)
    pair = _Pair(torch, starts, **kwargs)
    for g in grads:
        pair.step(g)
        pair.assert_close()


def test_muon_steps_on_gradients_of_a_loss_as_torch(torch):
    # Gradients that depend on the parameters, computed by each library: the parameters follow
    # torch's to float32 rounding for as long as no bfloat16 rounding differs.
    rng = np.random.default_rng(2)
    x, y = (rng.standard_normal(s).astype(np.float32) for s in [(16, 6), (16, 3)])
    w0, w1 = (rng.standard_normal(s).astype(np.float32) for s in [(5, 6), (3, 5)])
    runs = []
    for lib in (funcgrad, torch):
        ws = [lib.tensor(w, requires_grad=True) for w in (w0, w1)]
        opt = lib.optim.Muon(ws, lr=0.01)
        for _ in range(5):
            opt.zero_grad()
            ((lib.tanh(lib.tensor(x) @ ws[0].T) @ ws[1].T - lib.tensor(y)) ** 2).mean().backward()
            opt.step()
        runs.append([np.asarray(w.detach()) for w in ws])
    for ours, theirs in zip(*runs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_groups_skipped_parameters_and_changed_settings_match_torch(torch):
    # A parameter without a gradient keeps its buffer; lr, momentum, nesterov, ns_steps and
    # adjust_lr_fn changed between steps take effect at once, buffers kept as in torch.
    starts, grads = _starts_and_grads(12, seed=1)

    def groups(params):
        return [{"params": params[:2], "lr": 0.05, "adjust_lr_fn": "match_rms_adamw"},
                {"params": params[2:], "nesterov": False}]

    pair = _Pair(torch, starts, groups, lr=0.02)
    assert pair.opt.state_dict()["param_groups"] == pair.t_opt.state_dict()["param_groups"]
    changes = {4: ("lr", 0.01), 6: ("momentum", 0.8), 7: ("nesterov", True),
               8: ("ns_steps", 3), 9: ("adjust_lr_fn", "original"), 10: ("weight_decay", 0.2)}
    for i, g in enumerate(grads):
        if i in changes:
            for group in (*pair.opt.param_groups, *pair.t_opt.param_groups):
                group[changes[i][0]] = changes[i][1]
        pair.step(g, used={0, 2, 3} if i < 5 else None)
        pair.assert_close()


def test_state_dict_round_trip_resumes_exactly(torch):
    starts, grads = _starts_and_grads(8, seed=3)
    kwargs = dict(lr=0.03, weight_decay=0.05, nesterov=False, ns_steps=4,
                  adjust_lr_fn="match_rms_adamw")
    whole = _Pair(torch, starts, **kwargs)
    for g in grads:
        whole.step(g)

    first = _Pair(torch, starts, **kwargs)
    for g in grads[:4]:
        first.step(g)
    saved = first.opt.state_dict()
    t_saved = first.t_opt.state_dict()
    assert saved["param_groups"] == t_saved["param_groups"]
    assert list(saved["state"]) == list(t_saved["state"]) == [0, 1, 2, 3]
    for i, t_state in t_saved["state"].items():
        np.testing.assert_allclose(np.asarray(saved["state"][i][0].momentum_buffer[0]),
                                   t_state["momentum_buffer"].numpy(), rtol=1e-5, atol=1e-6)
    resumed = _Pair(torch, [np.asarray(p.detach()) for p in first.params])
    resumed.opt.load_state_dict(saved)  # over defaults, which the loaded group replaces
    assert {k: resumed.opt.param_groups[0][k] for k in kwargs} == kwargs
    first.step(grads[4])  # the saved state is a snapshot: this leaves it be
    for g in grads[4:]:
        resumed.opt.zero_grad()
        for p, a in zip(resumed.params, g):
            p.grad = funcgrad.tensor(a)
        resumed.opt.step()
    for a, b in zip(resumed.params, whole.params):
        np.testing.assert_array_equal(np.asarray(a.detach()), np.asarray(b.detach()))


def test_compiled_step_follows_lr_and_momentum_changes_as_eager_does():
    # They are operands, in boxes that the compiled program reads at every call.
    rng = np.random.default_rng(4)
    w0, x = (rng.standard_normal(s).astype(np.float32) for s in [(4, 6), (3, 6)])
    runs = []
    for compiled in (False, True):
        w = funcgrad.tensor(w0, requires_grad=True)
        opt = optim.Muon([w], lr=0.05)
        sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

        def step(w=w, opt=opt):
            opt.zero_grad()
            ((funcgrad.tensor(x) @ w.T) ** 2).sum().backward()
            opt.step()

        step = funcgrad.compile(step) if compiled else step
        for i in range(8):
            if i in (3, 5):
                opt.param_groups[0]["momentum"] = 0.9 if i == 3 else 0.5
            step()
            sched.step()
        runs.append(np.asarray(w.detach()))
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-5, atol=1e-6)


@pytest.mark.torch_wording
def test_signature_defaults_and_printing_are_torchs(torch):
    assert ([(p.name, p.kind, p.default) for p in inspect.signature(optim.Muon).parameters
             .values()] == [(p.name, p.kind, p.default) for p in
                            inspect.signature(torch.optim.Muon).parameters.values()])
    opt = optim.Muon([funcgrad.zeros(2, 3, requires_grad=True)])
    t_opt = torch.optim.Muon([torch.zeros(2, 3, requires_grad=True)])
    assert opt.defaults == t_opt.defaults
    assert repr(opt) == repr(t_opt)


@pytest.mark.torch_wording
@pytest.mark.parametrize("kwargs", [
    dict(lr=-1.0), dict(momentum=-0.5), dict(weight_decay=-0.1),
    dict(adjust_lr_fn="rms"), dict(shape=(3,)), dict(shape=(2, 3, 4)), dict(shape=()),
], ids=["lr", "momentum", "weight_decay", "adjust_lr_fn", "1-D", "3-D", "scalar"])
def test_construction_errors_are_torchs(torch, kwargs):
    shape = kwargs.pop("shape", (2, 3))
    with pytest.raises(ValueError) as theirs:
        torch.optim.Muon([torch.zeros(shape, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError) as ours:
        optim.Muon([funcgrad.zeros(shape, requires_grad=True)], **kwargs)
    assert str(ours.value) == str(theirs.value).replace("torch", "funcgrad")


def _first_step_error(lib, make):
    w = lib.ones(2, 3, requires_grad=True)
    opt = make(lib, w)
    for p in (p for group in opt.param_groups for p in group["params"]):
        (p * p).sum().backward()
    with pytest.raises(Exception) as info:
        opt.step()
    return type(info.value), str(info.value), np.asarray(w.detach())


@pytest.mark.torch_wording
@pytest.mark.parametrize("make", [
    lambda lib, w: lib.optim.Muon([w], ns_steps=100),
    lambda lib, w: lib.optim.Muon([w], ns_coefficients=(3.0, -4.0)),
    lambda lib, w: lib.optim.Muon([w], ns_coefficients=(3.0, -4.0, 2.0, 1.0)),
], ids=["ns_steps", "two-coefficients", "four-coefficients"])
def test_step_errors_are_torchs(torch, make):
    # torch checks these settings at the step, before anything moves.
    ours, theirs = _first_step_error(funcgrad, make), _first_step_error(torch, make)
    assert ours[:2] == theirs[:2]
    np.testing.assert_array_equal(ours[2], theirs[2])


@pytest.mark.torch_wording
def test_a_1d_parameter_added_later_is_refused_at_the_step_as_in_torch(torch):
    raised = []
    for lib in (funcgrad, torch):
        opt = lib.optim.Muon([lib.ones(2, 3, requires_grad=True)])
        b = lib.ones(3, requires_grad=True)
        opt.add_param_group({"params": [b]})  # torch checks the shape only at construction
        (b * b).sum().backward()
        with pytest.raises(ValueError) as info:
            opt.step()
        raised.append(str(info.value))
    assert raised[0] == raised[1]


@pytest.mark.torch_wording
def test_a_complex_parameter_is_refused_as_torch_does(torch):
    raised = []
    for lib in (funcgrad, torch):
        z = lib.ones(2, 3, dtype=lib.complex64, requires_grad=True)
        opt = lib.optim.Muon([z])
        (z.abs() ** 2).sum().backward()
        with pytest.raises(RuntimeError) as info:
            opt.step()
        raised.append(str(info.value))
        np.testing.assert_array_equal(np.asarray(z.detach()), np.ones((2, 3)))
    assert raised[0].startswith(raised[1] + ";")

"""funcgrad.optim against torch.optim: the same model, data and hyperparameters give the same
parameters after every step; groups, skipped parameters, state dicts and schedulers behave as
torch's; changing the learning rate never recompiles the update."""

import inspect
import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import funcgrad
import funcgrad.nn.functional as F
from funcgrad import optim
from funcgrad.optim import lr_scheduler


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _np(t) -> np.ndarray:
    return np.asarray(t.detach())


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 2))


class _Problem:
    """A small regression MLP, built in torch and in funcgrad with the same weights."""

    def __init__(self, torch) -> None:
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((16, 4)).astype(np.float32)
        self.y = rng.standard_normal((16, 2)).astype(np.float32)
        torch.manual_seed(0)
        self.torch, self.t_model, self.model = torch, _mlp(torch), _mlp(funcgrad)
        self.model.load_state_dict(self.t_model.state_dict())

    def backward(self) -> None:
        torch = self.torch
        torch.nn.functional.mse_loss(self.t_model(torch.tensor(self.x)),
                                     torch.tensor(self.y)).backward()
        F.mse_loss(self.model(funcgrad.tensor(self.x)), funcgrad.tensor(self.y)).backward()

    def step(self, t_opt, opt) -> None:
        t_opt.zero_grad()
        opt.zero_grad()
        self.backward()
        t_opt.step()
        opt.step()

    def assert_close(self, rtol=2e-5, atol=2e-6) -> None:
        for (name, p), t_p in zip(self.model.named_parameters(), self.t_model.parameters()):
            np.testing.assert_allclose(_np(p), _np(t_p), rtol=rtol, atol=atol, err_msg=name)


CONFIGS = [  # one per program structure; the other hyperparameters are operands
    ("SGD", dict(lr=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.005, alpha=0.9, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.05)),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.1,
                     eps=1e-6)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.05)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.9999), weight_decay=0.05, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9999), eps=1e-6, weight_decay=0.05)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.5, etas=(0.3, 1.5), step_sizes=(1e-4, 0.02))),  # lr clamped at once
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=5, weight_decay=0.05)),
    ("Adafactor", dict(lr=0.05)),
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.6, eps=(1e-4, 1e-2), d=2.0, weight_decay=0.05)),
]


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS,
                         ids=[f"{n}-{'-'.join(kw)}" for n, kw in CONFIGS])
def test_optimizer_matches_torch_step_for_step(torch, name, kwargs):
    problem = _Problem(torch)
    t_opt = getattr(torch.optim, name)(problem.t_model.parameters(), **kwargs)
    opt = getattr(optim, name)(problem.model.parameters(), **kwargs)
    # RMSprop divides by the root of a small running mean, which magnifies the float32
    # rounding differences between the two engines' gradients.
    tolerance = dict(rtol=1e-4, atol=1e-5) if name == "RMSprop" else {}
    for _ in range(25):
        problem.step(t_opt, opt)
        problem.assert_close(**tolerance)


ALL_OPTIMIZERS = sorted({name for name, _ in CONFIGS})


@pytest.mark.parametrize("name", ALL_OPTIMIZERS)
def test_maximize_ascends_as_torch(torch, name):
    problem = _Problem(torch)
    kwargs = dict(lr=0.01, maximize=True)
    t_opt = getattr(torch.optim, name)(problem.t_model.parameters(), **kwargs)
    opt = getattr(optim, name)(problem.model.parameters(), **kwargs)
    for _ in range(5):
        problem.step(t_opt, opt)
        problem.assert_close(rtol=1e-4, atol=1e-5)


def _complex_steps(lib, name: str, kwargs: dict, steps: int) -> np.ndarray:
    """A complex parameter after ``steps`` steps on a loss that is not a function of |z| alone,
    so a rule that stepped by |g|^2 instead of per part would show."""
    rng = np.random.default_rng(1)
    z0, c = (rng.standard_normal((2, 6, 2)) @ np.array([1, 1j])).astype(np.complex64)
    z = lib.tensor(z0, requires_grad=True)
    opt = getattr(lib.optim, name)([z], **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        ((lib.abs(z - lib.tensor(c)) ** 3).sum() + (z.real * z.imag ** 2).sum()).backward()
        opt.step()
    return np.asarray(z.detach())


COMPLEX_CONFIGS = [(n, kw) for n, kw in CONFIGS if n != "Adafactor"]


@pytest.mark.parametrize(("name", "kwargs"), COMPLEX_CONFIGS,
                         ids=[f"{n}-{'-'.join(kw)}" for n, kw in COMPLEX_CONFIGS])
def test_a_complex_parameter_steps_as_its_real_view_as_in_torch(torch, name, kwargs):
    # torch steps a complex parameter as view_as_real: Adam's second moment per part, say.
    np.testing.assert_allclose(_complex_steps(funcgrad, name, kwargs, 10),
                               _complex_steps(torch, name, kwargs, 10), rtol=1e-4, atol=1e-5)


def test_adafactor_refuses_a_complex_parameter_as_torch_does(torch):
    with pytest.raises(RuntimeError) as theirs:
        _complex_steps(torch, "Adafactor", {}, 1)
    z = funcgrad.tensor([1 + 1j], requires_grad=True)
    opt = optim.Adafactor([z])
    (z.abs() ** 2).sum().backward()
    with pytest.raises(RuntimeError, match=f"^{theirs.value}; step their real views instead"):
        opt.step()
    np.testing.assert_array_equal(z.detach().numpy(), [1 + 1j])  # nothing stepped


def test_from_optax_leaves_a_complex_parameter_to_optax():
    # optax's own rule for complex updates (|g|^2 in Adam's second moment) is what a user of
    # from_optax asks for.
    z0, g = np.array([1 + 2j, -1j], np.complex64), np.array([0.5 - 1j, 2 + 1j], np.complex64)
    z = funcgrad.tensor(z0, requires_grad=True)
    opt = optim.from_optax(optax.adam(0.1), [z])
    z.grad = funcgrad.tensor(g)
    opt.step()
    transform = optax.adam(0.1)
    updates, _ = transform.update(jnp.asarray(g), transform.init(jnp.asarray(z0)))
    np.testing.assert_allclose(z.detach().numpy(), z0 + np.asarray(updates), rtol=1e-6)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_with_decoupled_weight_decay_is_adamw_as_in_torch(torch, amsgrad):
    problem = _Problem(torch)
    kwargs = dict(lr=0.01, weight_decay=0.1, amsgrad=amsgrad, decoupled_weight_decay=True)
    t_opt = torch.optim.Adam(problem.t_model.parameters(), **kwargs)
    opt = optim.Adam(problem.model.parameters(), **kwargs)
    for _ in range(10):
        problem.step(t_opt, opt)
        problem.assert_close()


@pytest.mark.parametrize("name", ALL_OPTIMIZERS)
def test_optimizers_take_and_print_torchs_switches(torch, name):
    # foreach, fused and capturable choose among torch's kernels: funcgrad's step is one
    # program whatever they say, and they print and save as torch's group entries.
    ours, theirs = getattr(optim, name), getattr(torch.optim, name)
    assert ([(p.name, p.kind, p.default) for p in inspect.signature(ours).parameters.values()]
            == [(p.name, p.kind, p.default) for p in inspect.signature(theirs).parameters.values()])
    switches = {k: True for k in ("foreach", "capturable") if k in inspect.signature(theirs)
                .parameters}
    opt = ours([funcgrad.zeros(1, requires_grad=True)], **switches)
    t_opt = theirs([torch.zeros(1, requires_grad=True)], **switches)
    assert repr(opt) == repr(t_opt)
    assert opt.state_dict()["param_groups"] == t_opt.state_dict()["param_groups"]


def test_foreach_with_fused_and_differentiable_are_refused():
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together."):
        optim.Adam([funcgrad.zeros(1, requires_grad=True)], foreach=True, fused=True)
    w = funcgrad.zeros(1, requires_grad=True)
    with pytest.raises(NotImplementedError, match="not supported.*functional_call"):
        optim.SGD([w], differentiable=True)


def test_radams_sma_length_and_bias_correction_keep_float32_precision():
    # torch computes them in float64; the naive float32 rho_t is 1.0 off at b2=0.9999, t=6.
    from funcgrad.optim._adaptive import _one_minus_power, _sma_length

    for b2 in (0.0, 0.5, 0.9, 0.99, 0.999, 0.9999):
        b = float(np.float32(b2))  # the operand's value
        for t in [*range(1, 30), 100, 1000, 10000, 100000]:
            b2_t, t_ = jnp.float32(b2), jnp.int32(t)
            want = 2 / (1 - b) - 1 - 2 * t * b ** t / (1 - b ** t)
            np.testing.assert_allclose(float(_sma_length(b2_t, t_)), want, rtol=2e-6,
                                       err_msg=f"{b2}, {t}")
            np.testing.assert_allclose(float(_one_minus_power(b2_t, t_)), 1 - b ** t, rtol=2e-6)


def test_asgd_averages_the_parameters_as_torch(torch):
    problem = _Problem(torch)
    t_opt = torch.optim.ASGD(problem.t_model.parameters(), lr=0.05, t0=3)
    opt = optim.ASGD(problem.model.parameters(), lr=0.05, t0=3)
    for _ in range(10):
        problem.step(t_opt, opt)
    state = opt.state_dict()["state"]  # per parameter: (weight decay's, ASGD's)
    for i, t_p in enumerate(problem.t_model.parameters()):
        np.testing.assert_allclose(np.asarray(state[i][1].ax[0]), _np(t_opt.state[t_p]["ax"]),
                                   rtol=2e-5, atol=2e-6)


def test_adafactor_factors_the_last_two_dims_as_torch(torch):
    # A batch of matrices is factored per matrix; a scalar keeps its whole second moment.
    rng = np.random.default_rng(1)
    starts = [rng.standard_normal(shape).astype(np.float32) for shape in [(2, 3, 4), (), (5,)]]
    weights = [rng.standard_normal(a.shape).astype(np.float32) for a in starts]
    runs = []
    for lib, opt_lib in ((funcgrad, optim), (torch, torch.optim)):
        params = [lib.tensor(a, requires_grad=True) for a in starts]
        opt = opt_lib.Adafactor(params, lr=0.05)
        for _ in range(10):
            opt.zero_grad()
            sum((p ** 2 * lib.tensor(w)).sum() for p, w in zip(params, weights)).backward()
            opt.step()
        runs.append([_np(p) for p in params])
    for ours, theirs in zip(*runs):
        np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=2e-6)


def test_param_groups_with_their_own_hyperparameters_match_torch(torch):
    problem = _Problem(torch)

    def groups(model):
        return [{"params": model[0].parameters(), "lr": 0.05, "momentum": 0.5},
                {"params": model[2].parameters()}]

    t_opt = torch.optim.SGD(groups(problem.t_model), lr=0.1, momentum=0.9, nesterov=True)
    opt = optim.SGD(groups(problem.model), lr=0.1, momentum=0.9, nesterov=True)
    assert [sorted(g) for g in opt.param_groups] == [
        sorted(k for k in g if k in {"params", *opt.defaults}) for g in t_opt.param_groups]
    for i in range(30):
        if i == 10:
            for group in (*opt.param_groups, *t_opt.param_groups):
                group["lr"] *= 0.5
        problem.step(t_opt, opt)
    problem.assert_close()


def test_turning_momentum_on_and_off_matches_torch(torch):
    # Momentum on or off selects the program and the state's shape: a new state starts, as
    # torch makes the missing buffer at its first use.
    problem = _Problem(torch)
    t_opt = torch.optim.SGD(problem.t_model.parameters(), lr=0.1)
    opt = optim.SGD(problem.model.parameters(), lr=0.1)
    for i in range(12):
        if i in (3, 8):
            for group in (*opt.param_groups, *t_opt.param_groups):
                group["momentum"] = 0.9 if i == 3 else 0.0
        problem.step(t_opt, opt)
        problem.assert_close()


def test_add_param_group_matches_torch(torch):
    problem = _Problem(torch)
    t_opt = torch.optim.Adam(problem.t_model[0].parameters(), lr=0.01)
    opt = optim.Adam(problem.model[0].parameters(), lr=0.01)
    for i in range(20):
        if i == 5:
            t_opt.add_param_group({"params": problem.t_model[2].parameters(), "lr": 0.03})
            opt.add_param_group({"params": problem.model[2].parameters(), "lr": 0.03})
        problem.step(t_opt, opt)
        problem.assert_close()
    with pytest.raises(ValueError, match="some parameters appear in more than one"):
        opt.add_param_group({"params": [problem.model[0].weight]})


def test_parameters_without_grad_are_skipped_with_their_own_step_count(torch):
    start = np.array([1.0, -2.0, 0.5], np.float32)
    t_params = [torch.tensor(start * (i + 1), requires_grad=True) for i in range(3)]
    params = [funcgrad.tensor(start * (i + 1), requires_grad=True) for i in range(3)]
    t_opt = torch.optim.Adam(t_params, lr=0.1)
    opt = optim.Adam(params, lr=0.1)
    for step in range(12):
        used = 2 if step < 4 else 3  # the last parameter joins late: its bias correction
        for ps, o in ((t_params, t_opt), (params, opt)):  # restarts at step 1, as in torch
            o.zero_grad()
            sum((p ** 2 * (i + 1)).sum() for i, p in enumerate(ps[:used])).backward()
            o.step()
        for p, t_p in zip(params, t_params):
            np.testing.assert_allclose(_np(p), _np(t_p), rtol=1e-5, atol=1e-6)
    assert len(opt.state) == 3


def test_zero_grad_drops_or_zeroes_in_place():
    w = funcgrad.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w ** 2).sum().backward()
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad and not np.any(_np(grad))
    opt.zero_grad()
    assert w.grad is None
    opt.step()
    np.testing.assert_array_equal(_np(w), [1.0, 2.0])


def test_step_returns_the_closures_loss():
    w = funcgrad.tensor([3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 9.0
    assert w.item() == 1.5


def _train(problem, opt, steps) -> None:
    for _ in range(steps):
        opt.zero_grad()
        F.mse_loss(problem.model(funcgrad.tensor(problem.x)),
                   funcgrad.tensor(problem.y)).backward()
        opt.step()


RESUMED = [("Adam", dict(lr=0.05, amsgrad=True)), ("Adagrad", dict(lr=0.05, lr_decay=0.01)),
           ("Adadelta", dict(weight_decay=0.01)), ("Adamax", dict(lr=0.01)),
           ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
           ("RAdam", dict(lr=0.01)), ("Rprop", dict(lr=0.005)), ("ASGD", dict(t0=3)),
           ("Adafactor", dict(lr=0.02, weight_decay=0.01))]


@pytest.mark.parametrize(("name", "kwargs"), RESUMED, ids=[n for n, _ in RESUMED])
def test_state_dict_resumes_training_exactly(torch, name, kwargs):
    make = getattr(optim, name)
    whole = _Problem(torch)
    _train(whole, make(whole.model.parameters(), **kwargs), 10)

    first = _Problem(torch)
    first_opt = make(first.model.parameters(), **kwargs)
    _train(first, first_opt, 5)
    saved = first_opt.state_dict()
    assert list(saved["state"]) == [0, 1, 2, 3]
    assert saved["param_groups"][0]["params"] == [0, 1, 2, 3]
    second = _Problem(torch)
    second.model.load_state_dict(first.model.state_dict())
    _train(first, first_opt, 1)  # the saved optimizer state is a snapshot: this leaves it be

    second_opt = make(second.model.parameters())  # defaults, which the loaded groups replace
    second_opt.load_state_dict(saved)
    assert {k: second_opt.param_groups[0][k] for k in kwargs} == kwargs
    _train(second, second_opt, 5)
    for a, b in zip(second.model.parameters(), whole.model.parameters()):
        np.testing.assert_array_equal(_np(a), _np(b))
    with pytest.raises(ValueError, match="different number of parameter groups"):
        second_opt.load_state_dict({"state": {}, "param_groups": []})


def test_invalid_arguments_raise_torchs_errors(torch):
    cases = [("SGD", dict(lr=-1.0)), ("SGD", dict(lr=0.1, momentum=-0.5)),
             ("SGD", dict(lr=0.1, nesterov=True)), ("SGD", dict(lr=0.1, weight_decay=-1)),
             ("Adam", dict(betas=(1.0, 0.9))), ("Adam", dict(betas=(0.9, -0.1))),
             ("Adam", dict(eps=-1.0)), ("AdamW", dict(weight_decay=-0.1)),
             ("RMSprop", dict(alpha=-0.5)), ("RMSprop", dict(momentum=-1.0)),
             ("Adagrad", dict(lr=-1.0)), ("Adagrad", dict(lr_decay=-0.1)),
             ("Adagrad", dict(weight_decay=-0.1)), ("Adagrad", dict(initial_accumulator_value=-1)),
             ("Adagrad", dict(eps=-1e-10)), ("Adadelta", dict(rho=1.5)),
             ("Adadelta", dict(eps=-1.0)), ("Adadelta", dict(weight_decay=-1.0)),
             ("Adamax", dict(lr=-0.1)), ("Adamax", dict(betas=(0.9, 1.0))),
             ("NAdam", dict(eps=-1.0)), ("NAdam", dict(momentum_decay=-0.1)),
             ("RAdam", dict(betas=(-0.1, 0.9))), ("RAdam", dict(weight_decay=-0.1)),
             ("Rprop", dict(lr=-1.0)), ("Rprop", dict(etas=(0.5, 1.0))),
             ("Rprop", dict(etas=(0.0, 1.2))), ("ASGD", dict(lr=-0.1)),
             ("ASGD", dict(weight_decay=-1.0)), ("Adafactor", dict(lr=-1.0)),
             ("Adafactor", dict(beta2_decay=0.5)), ("Adafactor", dict(eps=(-1.0, 1e-3))),
             ("Adafactor", dict(eps=(None, -1.0))), ("Adafactor", dict(d=0.5)),
             ("Adafactor", dict(weight_decay=-0.1))]
    for name, kwargs in cases:
        with pytest.raises(ValueError) as ours:
            getattr(optim, name)([funcgrad.zeros(1, requires_grad=True)], **kwargs)
        with pytest.raises(ValueError) as theirs:
            getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kwargs)
        assert str(ours.value) == str(theirs.value)
    for lib, opt in ((funcgrad, optim), (torch, torch.optim)):
        with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
            opt.SGD([], lr=0.1)
        with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
            opt.SGD([lib.ones(1, requires_grad=True) * 2], lr=0.1)
        with pytest.raises(TypeError, match="ordered collections"):
            opt.SGD([lib.ones(1, requires_grad=True)]).add_param_group(
                {"params": {lib.ones(1, requires_grad=True)}})


def _libraries(torch):
    return ((funcgrad, optim, lr_scheduler), (torch, torch.optim, torch.optim.lr_scheduler))


def _two_groups(lib, opt_lib, name="SGD"):
    return getattr(opt_lib, name)([{"params": [lib.zeros(1, requires_grad=True)], "lr": 0.3},
                                   {"params": [lib.zeros(1, requires_grad=True)]}], lr=0.1)


def _lrs(torch, make, steps, optimizer="SGD", also=None):
    """Step by step, funcgrad's and torch's scheduler's last lrs and the groups' lrs (and
    ``also(group)`` for each group when given), on two groups of ``optimizer``."""
    out = []
    for lib, opt_lib, sched_lib in _libraries(torch):
        opt = _two_groups(lib, opt_lib, optimizer)
        sched = make(sched_lib, opt)

        def record(sched=sched, opt=opt):
            groups = opt.param_groups
            return sched.get_last_lr() + [g["lr"] for g in groups] + [also(g) for g in groups
                                                                    if also]

        seq = [record()]
        for _ in range(steps):
            opt.step()
            sched.step()
            seq.append(record())
        out.append(seq)
    return out


def test_step_lr_matches_torch(torch):
    ours, theirs = _lrs(torch, lambda lib, opt: lib.StepLR(opt, step_size=3, gamma=0.5), 20)
    assert ours == theirs


@pytest.mark.parametrize("eta_min", [0.0, 0.01])
def test_cosine_annealing_lr_matches_torch(torch, eta_min):
    ours, theirs = _lrs(torch, lambda lib, opt: lib.CosineAnnealingLR(opt, 7, eta_min), 30)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


class _Warmup:
    """A callable object: a LambdaLR's state keeps its attributes, as torch's does."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def __call__(self, epoch: int) -> float:
        return min(1.0, (epoch + 1) / self.epochs)


_SCHEDULERS = {
    "lambda": lambda lib, opt: lib.LambdaLR(opt, lambda e: 0.9 ** e + 0.1),
    "lambda-per-group": lambda lib, opt: lib.LambdaLR(opt, [_Warmup(4), lambda e: 0.95 ** e]),
    "multiplicative": lambda lib, opt: lib.MultiplicativeLR(opt, lambda e: 0.95),
    "multistep": lambda lib, opt: lib.MultiStepLR(opt, [3, 7, 7, 12], gamma=0.5),
    "exponential": lambda lib, opt: lib.ExponentialLR(opt, 0.9),
    "constant": lambda lib, opt: lib.ConstantLR(opt, 0.25, total_iters=4),
    "linear": lambda lib, opt: lib.LinearLR(opt, 0.2, 0.9, total_iters=6),
    "polynomial": lambda lib, opt: lib.PolynomialLR(opt, total_iters=8, power=2.0),
    "warm-restarts": lambda lib, opt: lib.CosineAnnealingWarmRestarts(opt, 3, 2, eta_min=0.01),
    "warm-restarts-fixed": lambda lib, opt: lib.CosineAnnealingWarmRestarts(opt, T_0=4),
    "one-cycle": lambda lib, opt: lib.OneCycleLR(opt, max_lr=[1.0, 0.5], total_steps=20),
    "one-cycle-three-phase": lambda lib, opt: lib.OneCycleLR(
        opt, 0.8, epochs=4, steps_per_epoch=6, pct_start=0.25, anneal_strategy="linear",
        div_factor=10.0, final_div_factor=100.0, three_phase=True),
    "cyclic": lambda lib, opt: lib.CyclicLR(opt, 0.01, [0.1, 0.2], 3, step_size_down=5),
    "cyclic-triangular2": lambda lib, opt: lib.CyclicLR(opt, 0.01, 0.1, 2, mode="triangular2"),
    "cyclic-exp-range": lambda lib, opt: lib.CyclicLR(opt, 0.01, 0.1, 4, mode="exp_range",
                                                      gamma=0.9),
    "cyclic-scale-fn": lambda lib, opt: lib.CyclicLR(
        opt, 0.01, 0.1, 3, scale_fn=lambda x: 0.5 ** x, scale_mode="iterations"),
    "sequential": lambda lib, opt: lib.SequentialLR(
        opt, [lib.LinearLR(opt, 0.1, total_iters=4), lib.CosineAnnealingLR(opt, 10, 0.001)],
        milestones=[5]),
    "sequential-three": lambda lib, opt: lib.SequentialLR(
        opt, [lib.ConstantLR(opt, 0.5, total_iters=3), lib.ExponentialLR(opt, 0.9),
              lib.StepLR(opt, 2, 0.5)], milestones=[4, 10]),
    "sequential-restarts-at-epoch-0": lambda lib, opt: lib.SequentialLR(
        opt, [lib.MultiStepLR(opt, [1, 2]), lib.PolynomialLR(opt, 5, 2.0),
              lib.LinearLR(opt, 0.5, 1.0, 4)], milestones=[3, 9]),
    "chained": lambda lib, opt: lib.ChainedScheduler(
        [lib.ConstantLR(opt, 0.5, total_iters=3), lib.ExponentialLR(opt, 0.9)]),
}


@pytest.mark.parametrize("name", list(_SCHEDULERS))
def test_more_schedulers_match_torch(torch, name):
    ours, theirs = _lrs(torch, _SCHEDULERS[name], 20)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def _momentum(group):
    return group["momentum"]


def _beta1(group):
    return group["betas"][0]


_MOMENTUM_CYCLES = {
    "one-cycle-sgd": ("SGD", _momentum, lambda lib, opt: lib.OneCycleLR(opt, [1.0, 0.5], 20)),
    "one-cycle-adam": ("Adam", _beta1, lambda lib, opt: lib.OneCycleLR(
        opt, 1.0, 20, three_phase=True, base_momentum=[0.8, 0.7])),
    "cyclic-sgd": ("SGD", _momentum, lambda lib, opt: lib.CyclicLR(opt, 0.01, 0.1, 3)),
    "cyclic-adam": ("Adam", _beta1, lambda lib, opt: lib.CyclicLR(
        opt, 0.01, 0.1, 2, mode="exp_range", gamma=0.95, max_momentum=[0.95, 0.9])),
}


@pytest.mark.parametrize("name", list(_MOMENTUM_CYCLES))
def test_cycled_momentum_matches_torch(torch, name):
    optimizer, momentum, make = _MOMENTUM_CYCLES[name]
    ours, theirs = _lrs(torch, make, 20, optimizer, also=momentum)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kwargs", [
    dict(), dict(mode="max", factor=0.5, patience=2, threshold=0.1, cooldown=2),
    dict(threshold_mode="abs", threshold=0.01, patience=1, factor=0.3, min_lr=[0.05, 0.01]),
], ids=["default", "max-cooldown", "abs-min-lr"])
def test_reduce_lr_on_plateau_matches_torch(torch, kwargs):
    metrics = [1.0, 0.9, 0.95, 0.9, 0.91, 0.9, 0.89995, 0.7, 0.8, 0.8, 0.8, 0.8, 0.5, 0.6] * 3
    runs = []
    for lib, opt_lib, sched_lib in _libraries(torch):
        opt = _two_groups(lib, opt_lib)
        sched = sched_lib.ReduceLROnPlateau(opt, **kwargs)
        seq = []
        for metric in metrics:
            opt.step()
            sched.step(metric)
            seq.append(sched.get_last_lr())
        runs.append(seq)
    assert runs[0] == runs[1]
    assert runs[0][-1] != runs[0][0]


@pytest.mark.parametrize("make", [
    lambda lib, opt: lib.LambdaLR(opt, [lambda e: 1.0]),
    lambda lib, opt: lib.MultiplicativeLR(opt, [lambda e: 1.0, 2.0]),
    lambda lib, opt: lib.ConstantLR(opt, factor=1.5),
    lambda lib, opt: lib.LinearLR(opt, start_factor=0.0),
    lambda lib, opt: lib.CosineAnnealingWarmRestarts(opt, T_0=0),
    lambda lib, opt: lib.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0),
    lambda lib, opt: lib.OneCycleLR(opt, 1.0),
    lambda lib, opt: lib.OneCycleLR(opt, 1.0, total_steps=0),
    lambda lib, opt: lib.OneCycleLR(opt, 1.0, epochs=2, steps_per_epoch=0),
    lambda lib, opt: lib.OneCycleLR(opt, [1.0], total_steps=10),
    lambda lib, opt: lib.OneCycleLR(opt, 1.0, total_steps=10, pct_start=1),
    lambda lib, opt: lib.OneCycleLR(opt, 1.0, total_steps=10, anneal_strategy="exp"),
    lambda lib, opt: lib.CyclicLR(opt, 0.1, 1.0, mode="sawtooth"),
    lambda lib, opt: lib.ReduceLROnPlateau(opt, factor=1.0),
    lambda lib, opt: lib.ReduceLROnPlateau(opt, mode="avg"),
    lambda lib, opt: lib.ReduceLROnPlateau(opt, threshold_mode="pct"),
    lambda lib, opt: lib.ReduceLROnPlateau(opt, min_lr=[0.1]),
    lambda lib, opt: lib.SequentialLR(opt, [], []),
    lambda lib, opt: lib.SequentialLR(opt, [lib.ExponentialLR(opt, 0.9)], [3]),
    lambda lib, opt: lib.SequentialLR(opt, [lib.ReduceLROnPlateau(opt)], []),
    lambda lib, opt: lib.ChainedScheduler([]),
    lambda lib, opt: lib.ChainedScheduler([lib.ExponentialLR(opt, 0.9), object()]),
], ids=["lambda-count", "not-callable", "constant-factor", "linear-start", "restarts-T_0",
        "restarts-T_mult", "one-cycle-no-length", "one-cycle-total", "one-cycle-epochs",
        "one-cycle-max-lrs", "one-cycle-pct", "one-cycle-anneal", "cyclic-mode",
        "plateau-factor", "plateau-mode", "plateau-threshold-mode", "plateau-min-lrs",
        "sequential-empty", "sequential-milestones", "sequential-plateau", "chained-empty",
        "chained-not-a-scheduler"])
def test_scheduler_errors_match_torch(torch, make):
    raised = []
    for lib, opt_lib, sched_lib in ((funcgrad, optim, lr_scheduler),
                                    (torch, torch.optim, torch.optim.lr_scheduler)):
        opt = opt_lib.SGD([{"params": [lib.zeros(1, requires_grad=True)]},
                           {"params": [lib.zeros(1, requires_grad=True)]}], lr=0.1)
        with pytest.raises(Exception) as info:
            make(sched_lib, opt)
        raised.append((type(info.value), str(info.value)))
    assert raised[0] == raised[1]


def test_a_lambda_schedulers_state_keeps_callable_objects_attributes():
    opt = optim.SGD([funcgrad.zeros(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.LambdaLR(opt, _Warmup(4))
    opt.step()
    sched.step()
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"epochs": 4}] and state["last_epoch"] == 1
    fresh = lr_scheduler.LambdaLR(opt, _Warmup(10))
    fresh.load_state_dict(state)
    opt.step()
    fresh.step()
    assert fresh.lr_lambdas[0].epochs == 4 and fresh.get_last_lr() == [0.75]


def test_scheduler_state_dict_round_trip():
    opt = optim.SGD([funcgrad.zeros(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        opt.step()
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 3
    other = lr_scheduler.StepLR(opt, step_size=5)
    other.load_state_dict(state)
    opt.step()
    other.step()
    assert other.get_last_lr() == [0.25]


class _Halving:
    """A callable object: a CyclicLR's state keeps its attributes, as torch's does."""

    def __init__(self, base: float) -> None:
        self.base = base

    def __call__(self, x: float) -> float:
        return self.base ** x


@pytest.mark.parametrize("name", ["sequential", "chained", "one-cycle", "warm-restarts", "cyclic"])
def test_scheduler_state_dict_resumes_the_schedule(name):
    makers = {**_SCHEDULERS, "cyclic": lambda lib, opt: lib.CyclicLR(
        opt, 0.01, 0.1, 3, scale_fn=_Halving(0.5), scale_mode="iterations")}

    def fresh():
        opt = _two_groups(funcgrad, optim)
        return opt, makers[name](lr_scheduler, opt)

    def run(opt, sched, steps):
        lrs = []
        for _ in range(steps):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        return lrs

    whole = run(*fresh(), 16)
    first_opt, first = fresh()
    run(first_opt, first, 6)
    opt, sched = fresh()  # made before loading the optimizer's state, as torch advises
    if name == "cyclic":
        sched._scale_fn_custom.base = 0.9  # the loaded state brings back 0.5
    opt.load_state_dict(first_opt.state_dict())
    sched.load_state_dict(first.state_dict())
    assert run(opt, sched, 10) == whole[6:]


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_training_under_one_cycle_matches_torch(torch, name):
    # OneCycleLR turns SGD's momentum on (a new program and state) and moves Adam's beta1.
    problem = _Problem(torch)
    t_opt = getattr(torch.optim, name)(problem.t_model.parameters(), lr=0.01)
    opt = getattr(optim, name)(problem.model.parameters(), lr=0.01)
    t_sched = torch.optim.lr_scheduler.OneCycleLR(t_opt, max_lr=0.05, total_steps=15)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=15)
    for _ in range(15):
        problem.step(t_opt, opt)
        t_sched.step()
        sched.step()
        problem.assert_close()


def test_changing_lr_does_not_recompile_the_update(torch, monkeypatch):
    builds = []
    build = optim.Adam._build

    def counted(*args, **kwargs):
        builds.append(1)
        return build(*args, **kwargs)

    monkeypatch.setattr(optim.Adam, "_build", staticmethod(counted))
    problem = _Problem(torch)
    t_opt = torch.optim.Adam(problem.t_model.parameters(), lr=0.05)
    opt = optim.Adam(problem.model.parameters(), lr=0.05)
    t_sched = torch.optim.lr_scheduler.CosineAnnealingLR(t_opt, T_max=10)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    problem.step(t_opt, opt)
    after_first = len(builds)  # the state's init (per parameter) and one trace
    for i in range(15):
        t_sched.step()
        sched.step()
        if i == 7:
            opt.param_groups[0]["lr"] = t_opt.param_groups[0]["lr"] = 3e-3
        problem.step(t_opt, opt)
        problem.assert_close()
    assert len(builds) == after_first


def test_from_optax_matches_torch(torch):
    problem = _Problem(torch)
    t_opt = torch.optim.SGD(problem.t_model.parameters(), lr=0.1, momentum=0.9)
    opt = optim.from_optax(optax.sgd(0.1, momentum=0.9), problem.model.parameters())
    for _ in range(20):
        problem.step(t_opt, opt)
        problem.assert_close()


def test_from_optax_takes_a_group_as_one_pytree(torch):
    problem = _Problem(torch)
    t_params = list(problem.t_model.parameters())
    t_opt = torch.optim.SGD(t_params, lr=0.1)
    opt = optim.from_optax(optax.chain(optax.clip_by_global_norm(0.1), optax.sgd(0.1)),
                           problem.model.parameters())
    for _ in range(10):
        t_opt.zero_grad()
        opt.zero_grad()
        problem.backward()
        torch.nn.utils.clip_grad_norm_(t_params, 0.1)
        t_opt.step()
        opt.step()
        problem.assert_close(rtol=1e-4, atol=1e-5)


def test_from_optax_injected_hyperparameters_follow_a_scheduler(torch):
    traces = []
    adam = optax.inject_hyperparams(optax.adam)(learning_rate=0.05)

    def update(updates, state, params=None):
        traces.append(1)
        return adam.update(updates, state, params)

    problem = _Problem(torch)
    opt = optim.from_optax(optax.GradientTransformation(adam.init, update),
                           problem.model.parameters())
    t_opt = torch.optim.Adam(problem.t_model.parameters(), lr=0.05)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05)
    t_sched = torch.optim.lr_scheduler.StepLR(t_opt, step_size=3, gamma=0.5)
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    for _ in range(12):
        problem.step(t_opt, opt)
        problem.assert_close()
        t_sched.step()
        sched.step()
    assert len(traces) == 1


def test_compiled_step_follows_lr_changes_as_eager_does():
    # The hyperparameters live in Tensor boxes, so funcgrad.compile takes a new lr as an
    # operand of the program it compiled once, rather than keeping the traced value.
    x, y = funcgrad.randn(16, 4), funcgrad.randn(16, 2)
    runs = []
    for compiled in (False, True):
        funcgrad.manual_seed(0)
        model = _mlp(funcgrad)
        opt = optim.Adam(model.parameters(), lr=0.05, amsgrad=True)
        sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)

        def step(model=model, opt=opt):
            opt.zero_grad()
            F.mse_loss(model(x), y).backward()
            opt.step()

        step = funcgrad.compile(step) if compiled else step
        for _ in range(8):
            step()
            sched.step()
        runs.append([_np(p) for p in model.parameters()])
    for eager, compiled in zip(*runs):
        np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-6)


def _rosenbrock(lib, x):
    return ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()


def _lbfgs_fit(lib, x0: np.ndarray, loss_fn, steps: int, **kwargs) -> tuple:
    """LBFGS on ``loss_fn(lib, x)`` from ``x0``: the iterate after each step, the closure
    calls and the iterations it took."""
    x = lib.tensor(x0, requires_grad=True)
    opt = lib.optim.LBFGS([x], **kwargs)

    def closure():
        opt.zero_grad()
        loss = loss_fn(lib, x)
        loss.backward()
        return loss

    path = [np.array(_np(x)) for _ in range(steps) if opt.step(closure) is not None]
    return np.array(path), opt.state[x]["func_evals"], opt.state[x]["n_iter"]


@pytest.mark.parametrize("kwargs", [
    dict(), dict(lr=0.1, history_size=3, max_iter=7),
    dict(line_search_fn="strong_wolfe"),
    dict(line_search_fn="strong_wolfe", history_size=2, max_iter=7, tolerance_change=1e-6),
], ids=["fixed-step", "short-history", "strong-wolfe", "strong-wolfe-short-history"])
def test_lbfgs_takes_torchs_steps_and_evaluations(torch, kwargs):
    # In float64, so that the line search's comparisons fall the same way in both.
    x0 = np.array([-1.2, 1.0, -0.5, 0.8])
    with jax.enable_x64(True):
        ours = _lbfgs_fit(funcgrad, x0, _rosenbrock, 5, **kwargs)
    theirs = _lbfgs_fit(torch, x0, _rosenbrock, 5, **kwargs)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6, atol=1e-6)
    assert ours[1:] == theirs[1:]


def test_lbfgs_steps_a_complex_parameter_as_its_real_view_as_torch(torch):
    z0, c = np.array([1 + 2j, -1j, 0.5], np.complex64), np.array([0.3 - 1j, 2, 1j], np.complex64)

    def loss(lib, z):
        return ((z - lib.tensor(c)).abs() ** 2).sum() + (z.real ** 4).sum()

    ours, theirs = (_lbfgs_fit(lib, z0, loss, 2, line_search_fn="strong_wolfe")[0]
                    for lib in (funcgrad, torch))
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def _closure(w):
    def closure():
        loss = (w ** 2).sum()
        loss.backward()
        return loss
    return closure


@pytest.mark.parametrize("call", [
    lambda lib, w: lib.optim.LBFGS([{"params": [w]}, {"params": [w * 1]}]),
    lambda lib, w: lib.optim.LBFGS([w], lr=-1.0),
    lambda lib, w: lib.optim.LBFGS([w], line_search_fn="armijo").step(_closure(w)),
], ids=["groups", "lr", "line-search"])
def test_lbfgs_errors_match_torch(torch, call):
    with pytest.raises(Exception) as theirs:
        call(torch, torch.ones(2, requires_grad=True))
    with pytest.raises(type(theirs.value), match=re.escape(str(theirs.value))):
        call(funcgrad, funcgrad.ones(2, requires_grad=True))


# ----- hooks on step, state_dict and load_state_dict -------------------------------------------
def _hooked_steps(lib, make):
    """Two steps of an optimizer with global and own step hooks (one pre-hook removed after
    the first step, another supplying a closure); what each hook saw, in order, and the
    step's returns."""
    import importlib
    module = importlib.import_module(f"{lib.__name__}.optim.optimizer")
    seen = []
    w = lib.tensor([1.0, -2.0], requires_grad=True)
    opt = make(lib, [w])

    def log(name):
        return lambda o, args, kwargs: seen.append(
            (name, o is opt, len(args), args[0] is opt, sorted(kwargs)))

    handles = [module.register_optimizer_step_pre_hook(log("global-pre")),
               module.register_optimizer_step_post_hook(log("global-post"))]
    try:
        removed = opt.register_step_pre_hook(log("pre"))
        opt.register_step_post_hook(log("post"))
        (w ** 2).sum().backward()
        returns = [opt.step()]
        removed.remove()
        opt.register_step_pre_hook(
            lambda o, args, kwargs: (args, {**kwargs, "closure": lambda: (w * 3).sum()}))
        returns.append(opt.step().item())
    finally:
        for handle in handles:
            handle.remove()
    return seen, returns, w.detach().tolist()


_HOOKED = {"SGD": lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9),
           "Adam": lambda lib, p: lib.optim.Adam(p, lr=0.1)}


@pytest.mark.parametrize("name", list(_HOOKED))
def test_step_hooks_run_in_torchs_order_and_may_replace_arguments(torch, name):
    ours, theirs = _hooked_steps(funcgrad, _HOOKED[name]), _hooked_steps(torch, _HOOKED[name])
    assert ours[0] == theirs[0] and ours[1][0] is theirs[1][0] is None
    np.testing.assert_allclose([ours[1][1], *ours[2]], [theirs[1][1], *theirs[2]], rtol=1e-6)
    assert ours[0][0] == ("global-pre", True, 1, True, [])


def test_a_step_pre_hook_returning_something_else_raises_as_torch(torch):
    for lib in (torch, funcgrad):
        opt = lib.optim.SGD([lib.ones(1, requires_grad=True)], lr=0.1)
        opt.register_step_pre_hook(lambda o, args, kwargs: 3)
        with pytest.raises(RuntimeError, match=r"must return None or a tuple of \(new_args, "
                                               r"new_kwargs\), but got 3\."):
            opt.step()


def _state_dict_hooks(lib):
    seen = []
    w = lib.tensor([1.0, -2.0], requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)
    opt.register_state_dict_pre_hook(lambda o: seen.append("pre-1"))
    opt.register_state_dict_pre_hook(lambda o: seen.append("pre-0"), prepend=True)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "note": sorted(sd)})
    saved = opt.state_dict()
    seen.append(saved["note"])

    def lower_lr(o, sd):
        seen.append(("load-pre", sorted(sd)))
        sd["param_groups"] = [{**g, "lr": 0.01} for g in sd["param_groups"]]

    opt.register_load_state_dict_pre_hook(lower_lr)
    opt.register_load_state_dict_post_hook(lambda o: seen.append(("load-post",
                                                                  o.param_groups[0]["lr"])))
    opt.load_state_dict(saved)
    seen.append(saved["param_groups"][0]["lr"])  # the hook changed a copy: 0.1 still
    return seen


def test_state_dict_hooks_run_and_replace_as_torchs(torch):
    assert _state_dict_hooks(funcgrad) == _state_dict_hooks(torch) == [
        "pre-0", "pre-1", ["param_groups", "state"], ("load-pre", ["note", "param_groups",
                                                                   "state"]),
        ("load-post", 0.01), 0.1]


def _hand_written_adam(lib, count=lambda lib: 0):
    """An optimizer written as torch's are: its own ``step()``, in-place updates under
    ``no_grad``, its own state in ``self.state[p]`` (its step count made by ``count``)."""

    class HandAdam(lib.optim.Optimizer):
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
            super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

        @lib.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state["step"] = count(lib)
                        state["exp_avg"] = lib.zeros_like(p)
                        state["exp_avg_sq"] = lib.zeros_like(p)
                    state["step"] += 1
                    state["exp_avg"].mul_(beta1).add_(p.grad, alpha=1 - beta1)
                    state["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                    m_hat = state["exp_avg"] / (1 - beta1 ** state["step"])
                    v_hat = state["exp_avg_sq"] / (1 - beta2 ** state["step"])
                    p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))

    return HandAdam


def test_an_optimizer_written_as_torchs_trains_as_in_torch(torch):
    problem = _Problem(torch)
    t_opt = _hand_written_adam(torch)(problem.t_model.parameters(), lr=0.01)
    opt = _hand_written_adam(funcgrad)(problem.model.parameters(), lr=0.01)
    for _ in range(4):
        problem.step(t_opt, opt)
        problem.assert_close()
    p, t_p = next(problem.model.parameters()), next(problem.t_model.parameters())
    assert sorted(opt.state[p]) == sorted(t_opt.state[t_p]) and opt.state[p]["step"] == 4
    np.testing.assert_allclose(_np(opt.state[p]["exp_avg"]), _np(t_opt.state[t_p]["exp_avg"]),
                               rtol=2e-5, atol=1e-7)


def test_an_optimizer_written_as_torchs_resumes_from_its_state_dict(torch):
    problem = _Problem(torch)
    t_opt = _hand_written_adam(torch)(problem.t_model.parameters(), lr=0.01)
    opt = _hand_written_adam(funcgrad)(problem.model.parameters(), lr=0.01)
    for _ in range(2):
        problem.step(t_opt, opt)
    saved, t_saved = opt.state_dict(), t_opt.state_dict()
    exp_avg = _np(saved["state"][0]["exp_avg"]).copy()
    assert saved["param_groups"] == t_saved["param_groups"]
    assert list(saved["state"]) == list(t_saved["state"]) == list(range(4))
    opt = _hand_written_adam(funcgrad)(problem.model.parameters(), lr=0.5)
    t_opt = _hand_written_adam(torch)(problem.t_model.parameters(), lr=0.5)
    opt.load_state_dict(saved)
    t_opt.load_state_dict(t_saved)
    assert opt.param_groups[0]["lr"] == 0.01
    for _ in range(2):
        problem.step(t_opt, opt)
        problem.assert_close()
    # the loaded state is a copy: training on did not change what was saved
    assert saved["state"][0]["step"] == 2
    np.testing.assert_array_equal(_np(saved["state"][0]["exp_avg"]), exp_avg)


def _compiled_hand_written_training(count, eager_steps: int):
    x, y = funcgrad.randn(16, 4), funcgrad.randn(16, 2)
    model = _mlp(funcgrad)
    opt = _hand_written_adam(funcgrad, count)(model.parameters(), lr=0.05)

    def step():
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()

    for _ in range(eager_steps):
        step()
    return model, opt, step, funcgrad.compile(step)


def test_a_compiled_optimizer_written_as_torchs_trains_as_eager():
    """With its state made by one uncompiled step and its step count in a tensor."""
    runs = []
    for compiled in (False, True):
        funcgrad.manual_seed(0)
        model, _, eager, compiled_step = _compiled_hand_written_training(
            lambda lib: lib.tensor(0.0), 1)
        for _ in range(4):
            (compiled_step if compiled else eager)()
        runs.append([_np(p) for p in model.parameters()])
    for eager, compiled in zip(*runs):
        np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("eager_steps", "count", "said"), [
    (0, lambda lib: lib.tensor(0.0), "made its state (self.state[p]) while funcgrad.compile"),
    (1, lambda lib: 0, "changed self.state[p]['step'], a Python int, while funcgrad.compile"),
], ids=["state-made-in-the-trace", "python-step-count"])
def test_compiling_a_step_that_python_state_would_freeze_is_refused(eager_steps, count, said):
    funcgrad.manual_seed(0)
    model, opt, _, step = _compiled_hand_written_training(count, eager_steps)
    before = [_np(p).copy() for p in model.parameters()]
    states = {p: dict(s) for p, s in opt.state.items()}
    with pytest.raises(RuntimeError, match=re.escape(said)):
        step()
    assert {p: dict(s) for p, s in opt.state.items()} == states
    for p, was in zip(model.parameters(), before):
        np.testing.assert_array_equal(_np(p), was)

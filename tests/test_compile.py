"""funcgrad.compile and functionalize against eager execution of the same step (the
reference), compile counts, and the errors for what cannot be compiled."""

import functools

import jax
import numpy as np
import pytest

import funcgrad
import funcgrad.nn.functional as F
from _compare import F32_ATOL


class Model:
    """Tensors held by an object, as a module holds them: compile must find them."""

    def __init__(self):
        funcgrad.manual_seed(0)
        self.w1 = funcgrad.randn(8, 16, requires_grad=True)
        self.w2 = funcgrad.randn(16, 3, requires_grad=True)
        self.velocity = [funcgrad.zeros(8, 16), funcgrad.zeros(16, 3)]

    def params(self):
        return [self.w1, self.w2]


def _step(model, x, y, lr):
    h = funcgrad.tanh(x @ model.w1)
    loss = F.cross_entropy(h @ model.w2, y)
    loss.backward()
    with funcgrad.no_grad():
        for p, v in zip(model.params(), model.velocity):
            v.mul_(0.9).add_(p.grad)
            p.sub_(lr * v)
    for p in model.params():
        p.grad.zero_()
    return loss


def _data(seed):
    funcgrad.manual_seed(seed)
    return funcgrad.randn(32, 8), funcgrad.randint(0, 3, (32,))


def _run(step, steps=20):
    model = Model()
    losses = [step(model, *_data(s), 0.05).item() for s in range(steps)]
    return model, np.array(losses)


def test_compiled_step_matches_eager_over_many_steps():
    eager_model, eager_losses = _run(_step)
    compiled = funcgrad.compile(_step)
    model, losses = _run(compiled)
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-5, atol=1e-6)
    for got, want in zip(model.params() + model.velocity,
                         eager_model.params() + eager_model.velocity):
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    np.testing.assert_array_equal(model.w1.grad.numpy(), np.zeros((8, 16)))
    # Once for the first step, once more when the .grad slots that step made became state.
    assert compiled.compiles == 2
    assert "grad" in compiled.recompile_reasons[0]


def test_state_is_written_back_into_the_same_objects():
    model = Model()
    w1, grad_box = model.w1, None
    step = funcgrad.compile(_step)
    for s in range(3):
        step(model, *_data(s), 0.05)
        grad_box = model.w1.grad if grad_box is None else grad_box
    assert model.w1 is w1 and model.w1.grad is grad_box
    assert model.w1.is_leaf and model.w1.requires_grad
    assert model.w1._version > 0


def test_one_compile_per_shape_and_the_reason_is_reported():
    w = funcgrad.zeros(4, requires_grad=True)

    @funcgrad.compile
    def step(x):
        loss = ((x @ w) - 1.0).pow(2).mean()
        loss.backward()
        with funcgrad.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None  # zero_grad(set_to_none=True): every call starts and ends the same way
        return loss

    for _ in range(4):
        step(funcgrad.ones(8, 4))
    assert step.compiles == 1
    for _ in range(3):
        step(funcgrad.ones(16, 4))
    assert step.compiles == 2
    assert "argument shapes/dtypes changed" in step.recompile_reasons[-1]
    assert "(8, 4)" in step.recompile_reasons[-1] and "(16, 4)" in step.recompile_reasons[-1]


def test_a_training_steps_outputs_carry_no_graph_a_forwards_do():
    w = funcgrad.tensor([2.0], requires_grad=True)

    def train():
        loss = (w * 3).sum()
        loss.backward()
        return loss

    out = funcgrad.compile(train)()
    assert out.grad_fn is None and not out.requires_grad and out.item() == 6.0
    assert w.grad.tolist() == [3.0]
    out = funcgrad.compile(lambda: (w * w).sum())()
    assert out.grad_fn.name() == "CompiledFunctionBackward" and out.item() == 4.0
    out.backward()
    assert w.grad.tolist() == [7.0]  # 3 + d(w^2)/dw


def test_random_numbers_follow_the_eager_sequence():
    def draw():
        return funcgrad.rand(3)

    funcgrad.manual_seed(7)
    eager = [draw().tolist() for _ in range(3)]
    funcgrad.manual_seed(7)
    compiled = funcgrad.compile(draw)
    got = [compiled().tolist() for _ in range(3)]
    np.testing.assert_allclose(got, eager)
    assert got[0] != got[1]


def test_reading_a_value_inside_raises_a_clear_error():
    w = funcgrad.tensor([1.0], requires_grad=True)

    @funcgrad.compile
    def step():
        loss = (w * 2).sum()
        if loss.item() > 0:
            return loss
        return -loss

    with pytest.raises(RuntimeError, match=r"test_compile.py:\d+ \(if loss.item\(\) > 0:\)"
                       r" reads a tensor's value.*Return the value"):
        step()
    assert w.tolist() == [1.0] and w.grad is None  # the failed trace left nothing behind


def test_printing_a_value_inside_raises_too(capsys):
    w = funcgrad.tensor([1.0], requires_grad=True)

    @funcgrad.compile
    def step():
        loss = (w * 2).sum()
        print(loss)
        return loss

    with pytest.raises(RuntimeError, match=r"\(print\(loss\)\) reads a tensor's value"):
        step()
    assert capsys.readouterr().out == ""


def test_eager_fallback_runs_what_cannot_be_traced():
    w = funcgrad.tensor([1.0], requires_grad=True)

    @funcgrad.compile(fallback="eager")
    def step():
        loss = (w * 2).sum()
        return loss if loss.item() > 0 else -loss

    assert step().item() == 2.0


def test_functionalize_with_scan_matches_a_python_loop():
    def make():
        return funcgrad.tensor([0.5, -0.5], requires_grad=True)

    def step_for(w):
        def step(x):
            loss = ((w * x).sum() - 2.0) ** 2
            loss.backward()
            with funcgrad.no_grad():
                w.sub_(0.05 * w.grad)
            w.grad.zero_()
            return loss
        return step

    x = funcgrad.tensor([1.0, 2.0])
    w_loop = make()
    step = step_for(w_loop)
    loop_losses = [step(x).item() for _ in range(6)]

    w_scan = make()
    step = step_for(w_scan)
    first = step(x).item()  # an eager step makes w.grad, which the pure function then carries
    f = funcgrad.functionalize(step, x)
    state, losses = jax.lax.scan(lambda s, _: f(s, x)[::-1], f.state(), length=5)
    f.load_state(state)
    np.testing.assert_allclose([first, *np.asarray(losses).tolist()], loop_losses, rtol=1e-6)
    np.testing.assert_allclose(w_scan.detach().numpy(), w_loop.detach().numpy(), rtol=1e-6)


def test_functionalize_refuses_a_step_that_creates_grads():
    w = funcgrad.tensor([1.0], requires_grad=True)

    def step():
        (w * 2).sum().backward()

    with pytest.raises(RuntimeError, match="leaves each .grad as it found it"):
        funcgrad.functionalize(step)


def test_leaves_made_inside_the_step_are_its_own_not_state():
    @funcgrad.compile
    def step(a):
        x = funcgrad.tensor(2.0, requires_grad=True)
        y = funcgrad.tensor(3.0, requires_grad=True)
        (x * y * a).sin().sum().backward()
        return x.grad, y.grad

    for a in (1.0, 2.0):
        gx, gy = step(funcgrad.tensor(a))
        np.testing.assert_allclose([gx.item(), gy.item()],
                                   [3 * a * np.cos(6 * a), 2 * a * np.cos(6 * a)], rtol=1e-5)
    assert step.compiles == 1


OPTIMIZERS = {
    "SGD-momentum": lambda p: funcgrad.optim.SGD(p, lr=0.05, momentum=0.9),
    "SGD-nesterov-decay": lambda p: funcgrad.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True,
                                                       weight_decay=1e-3),
    "Adam": lambda p: funcgrad.optim.Adam(p, lr=1e-2),
    "AdamW": lambda p: funcgrad.optim.AdamW(p, lr=1e-2, weight_decay=0.1),
    "RMSprop-centered": lambda p: funcgrad.optim.RMSprop(p, lr=1e-3, momentum=0.5,
                                                         centered=True),
    "Adagrad": lambda p: funcgrad.optim.Adagrad(p, lr=1e-2, lr_decay=1e-3),
    "Adadelta": lambda p: funcgrad.optim.Adadelta(p, weight_decay=1e-3),
    "Adamax": lambda p: funcgrad.optim.Adamax(p, lr=1e-2),
    "NAdam": lambda p: funcgrad.optim.NAdam(p, lr=1e-2),
    "RAdam-decoupled": lambda p: funcgrad.optim.RAdam(p, lr=1e-2, weight_decay=0.1,
                                                      decoupled_weight_decay=True),
    "Rprop": lambda p: funcgrad.optim.Rprop(p, lr=1e-3),
    "ASGD": lambda p: funcgrad.optim.ASGD(p, lr=1e-2, t0=10),
    "Adafactor": lambda p: funcgrad.optim.Adafactor(p, lr=1e-2, weight_decay=0.01),
}


def _classifier_step(make_optimizer, width: int = 16, classes: int = 3):
    """A seeded MLP classifier, its optimizer, a batch, and a torch-style training step."""
    funcgrad.manual_seed(0)
    model = funcgrad.nn.Sequential(funcgrad.nn.Linear(4, width), funcgrad.nn.Tanh(),
                                   funcgrad.nn.Linear(width, classes))
    optimizer = make_optimizer(model.parameters())
    x, y = funcgrad.randn(32, 4), funcgrad.randint(0, classes, (32,))

    def step(x, y):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return model, optimizer, x, y, step


def _train_with(make_optimizer, compiled: bool, steps: int = 100):
    model, optimizer, x, y, step = _classifier_step(make_optimizer)
    run = funcgrad.compile(step) if compiled else step
    losses = [run(x, y).item() for _ in range(steps)]
    state = [np.asarray(a) for a in jax.tree_util.tree_leaves(optimizer.state_dict()["state"])]
    return losses, [p.detach().numpy() for p in model.parameters()], state, run


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_compiled_training_equals_eager_for_every_optimizer(name):
    eager = _train_with(OPTIMIZERS[name], compiled=False)
    compiled = _train_with(OPTIMIZERS[name], compiled=True)
    np.testing.assert_allclose(compiled[0], eager[0], rtol=1e-5, atol=1e-6)
    for got, want in zip(compiled[1] + compiled[2], eager[1] + eager[2], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=F32_ATOL)
    assert compiled[3].compiles <= 2


def test_compiled_steps_keep_their_state_on_the_device():
    """No host round trip per step: JAX's transfer guard refuses any implicit transfer (it
    fires on the CPU backend too, and on a GPU this is the check that matters)."""
    *_, x, y, eager_step = _classifier_step(
        lambda p: funcgrad.optim.SGD(p, lr=0.1, momentum=0.9), width=8, classes=2)
    step = funcgrad.compile(eager_step)
    for _ in range(3):  # compile first: tracing itself moves constants
        step(x, y)
    with jax.transfer_guard("disallow"):
        losses = [step(x, y) for _ in range(5)]
        with pytest.raises(Exception, match="[Dd]isallowed"):
            jax.numpy.asarray(np.ones(2))  # the guard is live: an implicit transfer is refused
    assert losses[-1].item() < losses[0].item()


class Regression:
    """A linear model and its data, all found by compile as state."""

    def __init__(self):
        funcgrad.manual_seed(1)
        self.w = funcgrad.randn(3, requires_grad=True)
        self.b = funcgrad.zeros((), requires_grad=True)
        self.x, self.y = funcgrad.randn(8, 3), funcgrad.randn(8)


def _regression_step(model):
    loss = ((model.x @ model.w + model.b - model.y) ** 2).mean()
    loss.backward()
    with funcgrad.no_grad():
        for p in (model.w, model.b):
            if p.grad is not None:
                p -= 0.1 * p.grad
                p.grad.zero_()
    return loss


def _rebind_w(model):
    model.w.data = model.w.detach() * 0.5  # a new storage under the same tensor


def _w_grad_none(model):
    model.w.grad = None


def _w_grad_replaced(model):
    model.w.grad = funcgrad.ones(3)


def _w_grad_from_eager_backward(model):
    (model.w * model.w).sum().backward()  # accumulates into w.grad, or makes a new one


def _w_changed_in_place(model):
    with funcgrad.no_grad():
        model.w.add_(1.0)


def _x_replaced_in_place(model):
    model.x.copy_(funcgrad.ones(8, 3))


def _grad_copied_from_w(model):
    # Arrays are immutable, so the two tensors may now hold one array object: a donating step
    # must still pass (and donate) each buffer once.
    with funcgrad.no_grad():
        model.w.grad.copy_(model.w)


# Changes made between calls: step index -> what is done before it. Each must reach the
# compiled step exactly as it reaches the eager one, whether or not it changes the signature.
CHANGES = {
    "nothing": {},
    "storage rebound": {3: _rebind_w},
    "requires_grad off and on": {2: lambda m: m.b.requires_grad_(False),
                                 5: lambda m: m.b.requires_grad_(True)},
    ".grad set to None": {3: _w_grad_none},
    ".grad replaced": {3: _w_grad_replaced},
    ".grad made by an eager backward": {3: _w_grad_none, 5: _w_grad_from_eager_backward},
    "detached in place": {3: lambda m: m.b.detach_()},
    "value changed in place": {3: _w_changed_in_place},
    "data changed in place": {2: _x_replaced_in_place},
    "two tensors holding one array": {3: _grad_copied_from_w},
}


def _snapshot(model, loss):
    def grad(t):
        return None if t.grad is None else t.grad.tolist()

    return (loss.item(), model.w.tolist(), model.b.item(), grad(model.w), grad(model.b),
            model.b.requires_grad)


def _run_with_changes(step, changes: dict, steps: int = 8):
    model = Regression()
    seen = []
    for i in range(steps):
        if i in changes:
            changes[i](model)
        seen.append(_snapshot(model, step(model)))
    return seen


def _assert_same_runs(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert [x is None for x in g] == [x is None for x in w]
        for a, b in zip(g, w):
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _retained_grad(t):
    y = t * 2
    y.retain_grad()
    y.sum().backward()


# Every way to give a tensor another storage, requires_grad or .grad object. The compiled
# step's fast path looks at its state tensors again only when one of these happened.
REBINDINGS = {
    ".grad =": lambda t: setattr(t, "grad", funcgrad.ones(3)),
    ".grad = None": lambda t: setattr(t, "grad", None),
    "first backward": lambda t: (t * t).sum().backward(),
    "retained grad": _retained_grad,
    "create_graph backward": lambda t: (t * t).sum().backward(create_graph=True),
    ".data =": lambda t: setattr(t, "data", funcgrad.zeros(3)),
    "requires_grad_": lambda t: t.requires_grad_(False),
    "detach_": lambda t: t.detach_(),
    "in-place op with a grad": lambda t: t.detach_().mul_(funcgrad.ones(3, requires_grad=True)),
}


def test_gradients_the_last_call_zeroed_are_not_passed_in_again():
    model, step = Regression(), funcgrad.compile(_regression_step)
    for _ in range(3):
        step(model)
    _, passed, _ = step._plan.lean
    zeroed = {id(model.w.grad._storage), id(model.b.grad._storage)}
    assert zeroed.isdisjoint(map(id, passed)) and len(passed) == 4  # w, b, x, y


@pytest.mark.parametrize("name", REBINDINGS)
def test_each_rebinding_is_counted(name):
    t = funcgrad.randn(3, requires_grad=True)
    before = funcgrad.Tensor._rebinds
    REBINDINGS[name](t)
    assert funcgrad.Tensor._rebinds > before


@pytest.mark.parametrize("name", CHANGES)
def test_changes_between_calls_reach_the_compiled_step_as_they_reach_eager(name):
    eager = _run_with_changes(_regression_step, CHANGES[name])
    compiled = _run_with_changes(funcgrad.compile(_regression_step), CHANGES[name])
    _assert_same_runs(compiled, eager)


@pytest.mark.parametrize("lazy", [True, False], ids=["lazy", "eager ops"])
@pytest.mark.parametrize("name", CHANGES)
def test_donating_steps_follow_eager_too(name, lazy, monkeypatch):
    """The path of non-CPU backends, where the state's buffers are donated to the program:
    the CPU backend donates too when asked, so this runs it for real."""
    monkeypatch.setattr(funcgrad.config, "lazy", lazy)
    step = funcgrad.compile(_regression_step)
    step._donate = True
    eager = _run_with_changes(_regression_step, CHANGES[name])
    _assert_same_runs(_run_with_changes(step, CHANGES[name]), eager)


def test_the_fast_path_gives_what_planning_every_call_gives(monkeypatch):
    """A repeated call skips finding its program (the plan of the last call fits it); forcing
    that search on every call changes no result, and the repeated calls really skip it."""
    prepared = []
    prepare = funcgrad.CompiledFunction._prepare
    monkeypatch.setattr(funcgrad.CompiledFunction, "_prepare",
                        lambda self, *a: prepared.append(1) or prepare(self, *a))
    fast = funcgrad.compile(_regression_step)
    fast_run = _run_with_changes(fast, {})
    fast_plans = len(prepared)

    slow = funcgrad.compile(_regression_step)
    slow_run = _run_with_changes(lambda m: (setattr(slow, "_plan", None), slow(m))[1], {})
    assert fast_run == slow_run  # the same programs on the same values: bit for bit
    _assert_same_runs(fast_run, _run_with_changes(_regression_step, {}))
    assert fast_plans == 2  # the first call, and the second, which finds the .grads made
    assert len(prepared) == fast_plans + 8


def test_a_tensor_first_touched_in_a_later_call_becomes_state():
    def run(compiled):
        model = Regression()
        extra = funcgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)

        def step(model, use_extra):  # `extra` is closed over: state, found when first read
            w = model.w + extra if use_extra else model.w
            loss = ((model.x @ w - model.y) ** 2).mean()
            loss.backward()
            with funcgrad.no_grad():
                for p in (model.w, extra):
                    if p.grad is not None:
                        p -= 0.1 * p.grad
                        p.grad.zero_()
            return loss

        step = funcgrad.compile(step) if compiled else step
        losses = [step(model, i >= 3).item() for i in range(6)]
        return step, [losses, model.w.tolist(), extra.tolist(), extra.grad.tolist()]

    compiled, got = run(compiled=True)
    _, want = run(compiled=False)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert "static argument" in compiled.recompile_reasons[1]


def test_outputs_of_every_kind_come_back_as_eager_returns_them():
    def step(model):
        loss = _regression_step(model)
        return {"loss": loss, "double": loss * 2}, model.w.grad + 1, 7

    def run(step):
        model = Regression()
        outs = [step(model) for _ in range(4)]
        return [(d["loss"].item(), d["double"].item(), g.tolist(), int(n)) for d, g, n in outs]

    got, want = run(funcgrad.compile(step)), run(step)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g[:2], w[:2], rtol=1e-5)
        np.testing.assert_allclose(g[2], w[2], rtol=1e-5)
        assert g[3] == w[3]


def test_gradients_replaced_every_call_follow_eager():
    """zero_grad(set_to_none=True) first, so each call makes new .grad tensors."""
    def step(model):
        model.w.grad = model.b.grad = None
        return _regression_step(model)

    eager = _run_with_changes(step, {})
    compiled = _run_with_changes(funcgrad.compile(step), {})
    _assert_same_runs(compiled, eager)


def test_state_found_by_a_call_that_falls_back_to_eager_is_not_passed_to_other_programs():
    """An evaluation call finds a new tensor, then cannot be compiled (it reads the value) and
    runs eagerly; the training calls' plan stays, and binds its inputs again after each call
    (it replaces the gradients), so it must not take up the tensor its program never saw."""
    def run(compiled):
        model = Regression()
        scale = funcgrad.tensor(2.0)  # first read by the evaluation call, as a value

        def step(model, train):
            if not train:
                with funcgrad.no_grad():
                    return ((model.x @ model.w - model.y) ** 2).mean() * scale.item()
            model.w.grad = model.b.grad = None
            return _regression_step(model)

        step = funcgrad.compile(step, fallback="eager") if compiled else step
        return [_snapshot(model, step(model, i != 2)) for i in range(6)]

    _assert_same_runs(run(compiled=True), run(compiled=False))


# (torch.compile's own warnings, on this machine)
@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")
def test_is_compiling_says_whether_a_step_is_being_traced_as_torchs(dynamo_torch):
    torch = dynamo_torch
    for lib, compile_ in ((torch, lambda f: torch.compile(f, backend="eager")),
                          (funcgrad, funcgrad.compile)):
        seen = [lib.compiler.is_compiling()]
        w = lib.ones(2, requires_grad=True)

        def step(w=w, seen=seen, lib=lib):
            seen.append(lib.compiler.is_compiling())
            return (w * 2).sum()

        compile_(step)()
        seen.append(lib.compiler.is_compiling())
        assert seen[0] is seen[-1] is False and set(seen[1:-1]) == {True}, lib.__name__


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")
def test_functions_marked_for_torch_compile_give_torchs_results_compiled_or_not(dynamo_torch):
    """compiler.disable (bare and with arguments), allow_in_graph and assume_constant_result:
    torch.compile breaks the graph at, keeps unread, or bakes in those; funcgrad.compile traces
    them with the step, which gives the same numbers."""
    torch = dynamo_torch

    def run(lib, compile_):
        @lib.compiler.disable
        def penalty(w):
            return (w ** 2).sum() * 0.1

        @lib.compiler.disable(recursive=False, reason="a bound")
        def bounded(loss):
            return loss.clamp(max=100.0)

        @lib.compiler.allow_in_graph
        def act(x):
            return lib.tanh(x) * 1.5

        @lib.compiler.assume_constant_result
        def scale():
            return 0.5

        w = lib.tensor([0.3, -0.7, 1.1], requires_grad=True)
        x = lib.tensor([[1.0, 2.0, -1.0], [0.5, -0.5, 2.0]])

        def step():
            loss = bounded(act(x @ w).sum() * scale() + penalty(w))
            loss.backward()
            return loss

        step = compile_(step)
        losses = [step().item() for _ in range(3)]
        return losses, w.grad.tolist()

    ours = run(funcgrad, lambda f: f), run(funcgrad, funcgrad.compile)
    theirs = run(torch, lambda f: f), run(torch, lambda f: torch.compile(f, backend="eager"))
    for got in (*ours, theirs[1]):
        np.testing.assert_allclose(got[0], theirs[0][0], rtol=1e-6)
        np.testing.assert_allclose(got[1], theirs[0][1], rtol=1e-6)
    assert funcgrad.compiler.is_exporting() is torch.compiler.is_exporting() is False


def test_compiler_reset_forgets_every_program_and_changes_no_result():
    x = funcgrad.tensor([0.5, -1.0], requires_grad=True)
    for _ in range(3):  # a recurring structure: compiled
        (x.sin() * 2).sum().backward()
    assert funcgrad.debug.cache_info()["lazy"]["size"] > 0
    before = x.grad.numpy().copy()
    funcgrad.compiler.reset()
    info = funcgrad.debug.cache_info()
    assert info["lazy"]["size"] == info["backward"]["size"] == info["rules"]["size"] == 0
    x.grad = None
    for _ in range(3):
        (x.sin() * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), before, rtol=1e-6)


# ----- compiled forwards: outputs with a graph, compile(module), Module.compile -----------------
def _mlp(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 5), lib.nn.Tanh(), lib.nn.Linear(5, 2))
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            values = np.linspace(-1, 1, p.numel(), dtype=np.float32) * (i + 1) / 2
            p.copy_(lib.tensor(values.reshape(tuple(p.shape))))
    return model


def _forward_then_backward(lib, model, call, steps=3):
    """Calls ``call`` (a compiled model) and runs backward and an SGD step after it, as a
    torch.compile(model) training loop does: the losses and gradients of each step."""
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
    x = lib.tensor(np.arange(8, dtype=np.float32).reshape(4, 2).repeat(2, 1)[:, :3] / 7,
                   requires_grad=True)
    seen = []
    for _ in range(steps):
        optimizer.zero_grad()
        x.grad = None
        y = call(x)
        loss = (y ** 2).mean()
        loss.backward()
        name = y.grad_fn.name() if lib is funcgrad else type(y.grad_fn).__name__
        seen.append((name, loss.item(), [p.grad.numpy().copy() for p in model.parameters()],
                     x.grad.numpy().copy()))
        optimizer.step()
    return seen


def _same_steps(ours, theirs):
    for (name, loss, grads, x_grad), (t_name, t_loss, t_grads, t_x_grad) in zip(ours, theirs):
        assert name == t_name
        np.testing.assert_allclose(loss, t_loss, rtol=1e-5)
        for g, t in zip([*grads, x_grad], [*t_grads, t_x_grad]):
            np.testing.assert_allclose(g, t, rtol=1e-5, atol=F32_ATOL)


def test_a_compiled_model_trains_with_backward_outside_as_torchs(dynamo_torch):
    torch = dynamo_torch
    model, t_model = _mlp(funcgrad), _mlp(torch)
    compiled = funcgrad.compile(model)
    _same_steps(_forward_then_backward(funcgrad, model, compiled),
                _forward_then_backward(torch, t_model, torch.compile(t_model, backend="aot_eager")))
    assert compiled._compiled.compiles == 1  # the SGD steps between calls compile nothing


def test_an_optimized_module_is_torchs_wrapper(dynamo_torch):
    torch = dynamo_torch
    ours, theirs = funcgrad.compile(_mlp(funcgrad)), torch.compile(_mlp(torch), backend="aot_eager")
    assert type(ours).__name__ == type(theirs).__name__ == "OptimizedModule"
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    for m in (ours, theirs):
        m.eval()
        assert (m.training, m._orig_mod.training, m._orig_mod[0].training) == (False,) * 3
        m.train()
        m.note = "set on the original"
        assert m._orig_mod.note == "set on the original" and "note" not in vars(m)
        assert len(m) == 3 and m._orig_mod[0].weight is m._modules["_orig_mod"][0].weight
    with funcgrad.no_grad():
        assert not ours(funcgrad.ones(2, 3)).requires_grad
    loaded = funcgrad.compile(_mlp(funcgrad))
    loaded.load_state_dict({k: funcgrad.tensor(v.numpy() * 0 + 1)
                            for k, v in theirs.state_dict().items()})
    assert all(bool((p == 1).all()) for p in loaded._orig_mod.parameters())


def test_module_compile_compiles_in_place_as_torchs(dynamo_torch):
    torch = dynamo_torch
    model, t_model = _mlp(funcgrad), _mlp(torch)
    assert model.compile() is None and t_model.compile(backend="aot_eager") is None
    assert list(model.state_dict()) == list(t_model.state_dict()) == ["0.weight", "0.bias",
                                                                     "2.weight", "2.bias"]
    assert repr(model) == repr(t_model)
    ours = _forward_then_backward(funcgrad, model, model)
    theirs = _forward_then_backward(torch, t_model, t_model)
    # (torch 2.13 names the output's node by the last op of the module here, funcgrad by the
    # compiled call; values and gradients are what compare.)
    _same_steps([("", *s[1:]) for s in ours], [("", *s[1:]) for s in theirs])
    assert model._compiled_call_impl.compiles == 1


def test_which_outputs_carry_a_graph_is_torchs(dynamo_torch):
    torch = dynamo_torch

    def f(a, b):
        return (a * b).sin(), a.detach() * 2, (b * 3).argmax()

    def run(lib, compile):
        a, b = lib.tensor([0.5, 1.5], requires_grad=True), lib.tensor([2.0, -1.0])
        outs = compile(f)(a, b)
        outs[0].sum().backward()
        return [o.requires_grad for o in outs], a.grad.numpy()

    ours = run(funcgrad, funcgrad.compile)
    theirs = run(torch, functools.partial(torch.compile, backend="aot_eager"))
    assert ours[0] == theirs[0] == [True, False, False]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)


def test_a_compiled_forward_differentiates_through_the_random_numbers_it_drew():
    w = funcgrad.full((6, 6), 2.0, requires_grad=True)
    x = funcgrad.ones(6, 6)
    forward = funcgrad.compile(lambda x: F.dropout(x, 0.5, training=True) * w)
    for _ in range(2):
        w.grad = None
        out = forward(x)
        out.sum().backward()
        # d(sum(mask * x * w))/dw is the dropped-out x: the output over w, from the same draw
        np.testing.assert_array_equal(w.grad.numpy(), out.detach().numpy() / 2)
        assert 0 < int((out == 0).sum()) < 36


def test_a_compiled_forwards_graph_frees_its_arrays_as_torchs(dynamo_torch):
    torch = dynamo_torch
    from test_errors import assert_raises_as_torch

    def scenario(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        compiled = (funcgrad.compile(lambda x: (w * x).exp().sum()) if lib is funcgrad
                    else torch.compile(lambda x: (w * x).exp().sum(), backend="aot_eager"))
        out = compiled(lib.tensor([0.5, 0.25]))
        out.backward()
        out.backward()

    assert_raises_as_torch(torch, scenario)


def test_grad_mode_is_part_of_what_a_compiled_function_is_specialized_to():
    w = funcgrad.tensor([1.0, 2.0], requires_grad=True)
    forward = funcgrad.compile(lambda x: (w * x).sum())
    x = funcgrad.tensor([3.0, 4.0])
    with funcgrad.no_grad():
        assert not forward(x).requires_grad
    out = forward(x)
    out.backward()
    assert w.grad.tolist() == [3.0, 4.0] and forward.compiles == 2
    assert forward.recompile_reasons == [
        "grad mode changed (a call under no_grad after one without, or the reverse)"]
    x.requires_grad_()
    forward(x).backward()
    assert x.grad.tolist() == [1.0, 2.0]
    assert forward.recompile_reasons[-1] == "requires_grad of a tensor argument changed"


def test_a_compiled_function_called_by_one_being_compiled_is_part_of_it():
    w, v = funcgrad.tensor([1.0, 2.0], requires_grad=True), funcgrad.tensor([3.0, 4.0],
                                                                             requires_grad=True)
    inner = funcgrad.compile(lambda x: (x * w).sum())

    def train(x):
        loss = inner(x) + (x * v * v).sum()
        loss.backward()
        return loss

    outer = funcgrad.compile(train)
    x = funcgrad.tensor([1.0, -1.0])
    for _ in range(2):
        assert outer(x).item() == 1.0 - 2.0 + 9.0 - 16.0
    assert w.grad.tolist() == [2.0, -2.0] and v.grad.tolist() == [12.0, -16.0]
    assert inner.compiles == 0 and funcgrad.Tensor._observer is None


def test_torch_compiles_options_are_taken_and_checked_as_torchs(dynamo_torch):
    torch = dynamo_torch
    from test_errors import assert_raises_as_torch

    def f(x):
        return x * 2

    assert funcgrad.compile(f, disable=True) is f
    step = funcgrad.compile(fullgraph=True, dynamic=False, backend="inductor",
                            mode="max-autotune")(f)
    assert step(funcgrad.tensor([1.0])).tolist() == [2.0]
    for kwargs in ({"mode": "fast"}, {"mode": "default", "options": {}}):
        assert_raises_as_torch(
            torch, lambda lib, kwargs=kwargs: lib.compile(f, **kwargs)(lib.ones(1)))


def test_a_compiled_model_follows_train_and_eval_as_torchs(dynamo_torch):
    torch = dynamo_torch

    def run(lib, compile):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4))
        compiled = compile(model)
        x = lib.tensor(np.linspace(-2, 3, 24, dtype=np.float32).reshape(6, 4)[:, :3])
        seen = []
        for mode in ("train", "eval", "train", "eval"):
            getattr(compiled, mode)()
            y = compiled(x * (len(seen) + 1))
            seen.append((y.detach().numpy().copy(), model[1].running_mean.numpy().copy()))
        with lib.no_grad():  # the same weights in both libraries: copy ours into torch's
            return seen, [p.detach().numpy().copy() for p in model.parameters()]

    ours, params = run(funcgrad, funcgrad.compile)

    def theirs_compile(model):
        with torch.no_grad():
            for p, v in zip(model.parameters(), params):
                p.copy_(torch.tensor(v))
        return torch.compile(model, backend="aot_eager")

    theirs, _ = run(torch, theirs_compile)
    for (y, mean), (t_y, t_mean) in zip(ours, theirs):
        np.testing.assert_allclose(y, t_y, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(mean, t_mean, rtol=1e-5, atol=1e-6)


def test_changing_a_modules_mode_compiles_once_per_mode_and_says_why():
    model = funcgrad.nn.Sequential(funcgrad.nn.Linear(2, 2), funcgrad.nn.Dropout(0.5))
    step = funcgrad.compile(lambda x: model(x).sum())
    x = funcgrad.ones(3, 2)
    for _ in range(2):
        model.train()
        step(x)
        model.eval()
        assert step(x).item() == pytest.approx(model(x).sum().item())
        model[1].training = True  # set directly, not by train(): seen as well
        step(x)
    assert step.compiles == 3  # train, eval, and eval with dropout training
    assert step.recompile_reasons == ["a module's training mode changed (train() or eval())"] * 2


def test_copies_of_compiled_modules_are_torchs(dynamo_torch):
    import copy

    torch = dynamo_torch
    for lib in (funcgrad, torch):
        compile = lib.compile if lib is funcgrad else functools.partial(torch.compile,
                                                                          backend="aot_eager")
        model = lib.nn.Linear(2, 2)
        model.compile(**({} if lib is funcgrad else {"backend": "aot_eager"}))
        model(lib.ones(1, 2))
        assert copy.deepcopy(model)._compiled_call_impl is None  # a copy is uncompiled
        wrapped = compile(lib.nn.Linear(2, 2))
        wrapped(lib.ones(1, 2))
        for again in (copy.deepcopy(wrapped), _saved_and_loaded(lib, wrapped)):
            assert type(again).__name__ == "OptimizedModule"
            assert again._orig_mod is not wrapped._orig_mod
            assert lib.equal(again._orig_mod.weight, wrapped._orig_mod.weight)
            assert lib.equal(again(lib.ones(1, 2)), wrapped(lib.ones(1, 2)))
            again.eval()
            assert not again._orig_mod.training and wrapped._orig_mod.training


def _saved_and_loaded(lib, obj):
    import io

    buffer = io.BytesIO()
    lib.save(obj, buffer)
    buffer.seek(0)
    return lib.load(buffer, weights_only=False)


# (TorchDynamo itself reads .grad of the non-leaf argument, which torch warns about.)
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_tensor_arguments_of_a_training_step_get_their_gradients_as_torchs(dynamo_torch):
    torch = dynamo_torch

    def run(lib, compile):
        w = lib.tensor([1.0, -2.0], requires_grad=True)
        a = lib.tensor([0.5, 0.25], requires_grad=True)

        def step(x):
            loss = (w * x).sin().sum()
            loss.backward()
            return loss

        compiled, seen = compile(step), []
        for i in range(3):
            x = lib.tensor([1.0, 2.0 + i], requires_grad=True)
            compiled(x)  # a leaf argument: its .grad
            compiled(a * 3)  # made by an op: the gradient goes on through the graph, to a
            seen += [x.grad.numpy().copy(), w.grad.numpy().copy(), a.grad.numpy().copy()]
        return seen

    ours = run(funcgrad, funcgrad.compile)
    theirs = run(torch, functools.partial(torch.compile, backend="aot_eager"))
    for g, t in zip(ours, theirs):
        np.testing.assert_allclose(g, t, rtol=1e-6)

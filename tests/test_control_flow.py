"""``funcgrad.cond`` against ``torch.cond``: values, ``grad_fn`` names and gradients (of the
operands and of tensors the branches close over), torch's errors for bad arguments; and what
only funcgrad does with it: one program under ``compile``, ``jit``, ``grad`` and ``vmap``,
whichever branch a step takes, each checked against eager Python branching."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch

# torch.cond traces its branches with TorchDynamo, which trips on this warning of its own.
pytestmark = pytest.mark.filterwarnings(
    "ignore:The .grad attribute of a Tensor that is not a leaf:UserWarning")


@pytest.fixture
def torch(dynamo_torch):
    return dynamo_torch


def _branches(lib):
    """A cond over operands (x, {"k": k}) whose branches close over a leaf w and a tensor h
    made before it, and return a dict of two tensors."""
    x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    k = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = lib.tensor(1.5, requires_grad=True)
    h = (x * x).sum()

    def true_fn(a, d):
        return {"y": (a * w).sin() + h, "z": a * d["k"]}

    def false_fn(a, d):
        return {"y": a - w * h, "z": (a + d["k"]).exp()}

    return (x, k, w), true_fn, false_fn


def _run(lib, pred_of):
    leaves, true_fn, false_fn = _branches(lib)
    x, k, _ = leaves
    out = lib.cond(pred_of(lib, x), true_fn, false_fn, (x, {"k": k}))
    (out["y"].sum() + (out["z"] * lib.tensor([1.0, -2.0, 0.5])).sum()).backward()
    return out, [t.grad for t in leaves]


_PREDS = {
    "bool-tensor-true": lambda lib, x: x.sum() > 0,
    "bool-tensor-false": lambda lib, x: x.sum() > 5,
    "float-tensor": lambda lib, x: lib.tensor(0.0),
    "int-tensor-2d": lambda lib, x: lib.tensor([[3]]),
}


@pytest.mark.parametrize("pred", list(_PREDS))
def test_values_names_and_gradients_are_torchs(torch, pred):
    theirs, their_grads = _run(torch, _PREDS[pred])
    ours, our_grads = _run(funcgrad, _PREDS[pred])
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        np.testing.assert_allclose(ours[name].detach().numpy(), theirs[name].detach().numpy(),
                                   rtol=1e-6, atol=1e-6)
        assert ours[name].grad_fn.name() == type(theirs[name].grad_fn).__name__
    for got, want in zip(our_grads, their_grads):  # x (through h too), k, w
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pred", [True, False, 1, 0.0])
def test_a_python_pred_calls_its_branch_as_torch(torch, pred):
    got, want = (lib.cond(pred, lambda a: a.sin(), lambda a: a * 2,
                          (lib.tensor([1.0, 2.0], requires_grad=True),)) for lib in (funcgrad,
                                                                                     torch))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6)
    assert got.grad_fn.name() == type(want.grad_fn).__name__  # the branch's op: no cond


@pytest.mark.parametrize("scenario", [
    lambda lib: lib.cond(None, lambda a: a, lambda a: a, (lib.ones(2),)),
    lambda lib: lib.cond("yes", lambda a: a, lambda a: a, (lib.ones(2),)),
    lambda lib: lib.cond(lib.tensor([True, False]), lambda a: a, lambda a: a, (lib.ones(2),)),
    lambda lib: lib.cond(lib.tensor(True), lambda a: a, lambda a: a, lib.ones(2)),
    lambda lib: lib.cond(lib.tensor(True), lambda a, b: a * b, lambda a, b: a, (lib.ones(2), 2)),
], ids=["none", "str", "two-element", "operands-tensor", "operands-int"])
def test_bad_arguments_raise_torchs_errors(torch, scenario):
    assert_raises_as_torch(torch, scenario)


def test_branches_that_disagree_raise_the_rule():
    x = funcgrad.ones(3)
    for false_fn, seen in ((lambda a: a[:2], r"float32\[2\]"),
                           (lambda a: a.half(), r"float16\[3\]"),
                           (lambda a: (a, a), "2 tensor")):
        with pytest.raises(RuntimeError, match=r"cond: true_fn and false_fn must return the "
                                               rf"same structure.*{seen}.*funcgrad.where"):
            funcgrad.cond(funcgrad.tensor(True), lambda a: a * 2, false_fn, (x,))
    with pytest.raises(RuntimeError, match="cond: false_fn must return a tensor.*float"):
        funcgrad.cond(funcgrad.tensor(True), lambda a: a, lambda a: 1.0, (x,))


def test_a_branch_that_changes_a_tensor_raises_and_leaves_it_as_it_was():
    w = funcgrad.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="cond: true_fn changed a tensor from outside it in "
                                           "place"):
        funcgrad.cond(funcgrad.tensor(True), lambda a: a + w.add_(1), lambda a: a, (w * 1,))
    assert w.tolist() == [1.0, 2.0] and w._version == 0
    with pytest.raises(RuntimeError, match="cond: false_fn changed one of its operands in "
                                           "place"):
        funcgrad.cond(funcgrad.tensor(True), lambda a: a, lambda a: a.mul_(2), (w,))
    assert w.tolist() == [1.0, 2.0]


def _piecewise(lib, x):
    """f(x) = sum(sin(x) * 3) where sum(x) > 0, else sum(x * x); as a cond and as Python."""
    def positive(a):
        return (a.sin() * 3).sum()

    def negative(a):
        return (a * a).sum()

    if lib is None:  # the reference: a Python branch, eagerly
        return positive(x) if x.sum().item() > 0 else negative(x)
    return funcgrad.cond(x.sum() > 0, positive, negative, (x,))


def _piecewise_grad(x: np.ndarray) -> np.ndarray:
    """Its gradient, in closed form."""
    return 3 * np.cos(x) if x.sum() > 0 else 2 * x


_POINTS = [np.array([0.3, 1.2, -0.4], np.float32), np.array([-1.0, 0.2, -0.1], np.float32)]


def test_a_compiled_step_takes_either_branch_without_compiling_again():
    w = funcgrad.tensor(_POINTS[0], requires_grad=True)
    v = funcgrad.tensor(_POINTS[0], requires_grad=True)

    def step(p, branch):
        loss = branch(p)
        loss.backward()
        with funcgrad.no_grad():
            p -= 0.5 * p.grad
        p.grad.zero_()
        return loss

    compiled = funcgrad.compile(lambda: step(w, lambda p: _piecewise(funcgrad, p)))
    losses = [compiled().item() for _ in range(6)]
    taken, expected = [], []
    for _ in range(6):
        taken.append(v.sum().item() > 0)
        expected.append(step(v, lambda p: _piecewise(None, p)).item())
    assert True in taken and False in taken  # the steps take both branches
    np.testing.assert_allclose(losses, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.detach().numpy(), v.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert compiled.compiles <= 2  # (the second: the .grad slot the first step made)


@pytest.mark.parametrize("point", range(len(_POINTS)))
def test_jit_and_grad_of_a_cond_are_the_taken_branchs(point):
    x = _POINTS[point]
    got = funcgrad.jit(funcgrad.func.grad(lambda a: _piecewise(funcgrad, a)))(
        funcgrad.tensor(x))
    np.testing.assert_allclose(np.asarray(got), _piecewise_grad(x), rtol=1e-6)


def test_vmap_takes_each_examples_branch():
    batch = funcgrad.tensor(np.stack(_POINTS))
    got = funcgrad.vmap(lambda a: _piecewise(funcgrad, a))(batch)
    want = [_piecewise(None, funcgrad.tensor(p)).item() for p in _POINTS]
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)


@pytest.mark.parametrize("lazy", [True, False])
def test_lazy_and_eager_engines_agree_and_a_recurring_cond_compiles_once(lazy, monkeypatch):
    monkeypatch.setattr(funcgrad.config, "lazy", lazy)
    before = funcgrad.debug.cache_info()["lazy"]["compiles"]
    grads = []
    for point in _POINTS * 3:
        x = funcgrad.tensor(point, requires_grad=True)
        _piecewise(funcgrad, x).backward()
        grads.append(x.grad.numpy())
    for point, got in zip(_POINTS * 3, grads):
        np.testing.assert_allclose(got, _piecewise_grad(point), rtol=1e-6)
    compiles = funcgrad.debug.cache_info()["lazy"]["compiles"] - before
    assert compiles <= (1 if lazy else 0)


def test_jax_differentiates_only_the_branch_taken():
    """A branch that would give NaN gradients elsewhere (sqrt at 0) does not poison the other:
    lax.cond's derivative is the taken branch's alone, as torch's cond's is."""
    x = funcgrad.tensor([0.0, 0.0], requires_grad=True)
    y = funcgrad.cond(x.sum() > 0, lambda a: a.sqrt().sum(), lambda a: (a * 2).sum(), (x,))
    y.backward()
    assert x.grad.tolist() == [2.0, 2.0]
    assert jax.numpy.isfinite(x.grad.numpy()).all()


def _linear_step(x, layer, optimizer, branch):
    optimizer.zero_grad()
    loss = branch(x, layer)
    loss.backward()
    optimizer.step()
    return loss


def test_branches_closing_over_a_modules_parameters_train_it_in_a_compiled_step():
    """The branches read a Linear layer's parameters (not operands): compile finds them as its
    state through the cond, and the cond sends them their gradients."""
    def model():
        funcgrad.manual_seed(0)
        layer = funcgrad.nn.Linear(3, 1)
        return layer, funcgrad.optim.SGD(layer.parameters(), lr=0.1)

    def with_cond(x, layer):
        return funcgrad.cond(x.sum() > 0, lambda a: layer(a).pow(2).sum(),
                             lambda a: layer(-a).abs().sum(), (x,))

    def with_if(x, layer):
        return layer(x).pow(2).sum() if x.sum().item() > 0 else layer(-x).abs().sum()

    xs = [funcgrad.tensor(np.random.default_rng(i).standard_normal((4, 3)).astype(np.float32))
          for i in range(6)]
    assert len({x.sum().item() > 0 for x in xs}) == 2  # both branches are taken
    layer, optimizer = model()
    compiled = funcgrad.compile(lambda x: _linear_step(x, layer, optimizer, with_cond))
    losses = [compiled(x).item() for x in xs]
    eager_layer, eager_optimizer = model()
    expected = [_linear_step(x, eager_layer, eager_optimizer, with_if).item() for x in xs]
    np.testing.assert_allclose(losses, expected, rtol=1e-5, atol=1e-6)
    for got, want in zip(layer.parameters(), eager_layer.parameters()):
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    assert compiled.compiles <= 2


# ----- while_loop --------------------------------------------------------------------------------
def _loop(lib):
    """A while_loop over (i, a) whose body closes over a leaf w and a tensor h made before it;
    its value, and the gradients of x (through h too) and w."""
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor(1.5, requires_grad=True)
    h = x.sum()
    i, y = lib.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * w + h),
                          (lib.tensor(0), x))
    (y * lib.tensor([1.0, -0.5])).sum().backward()
    return i, y, x.grad, w.grad


def test_while_loop_values_names_and_gradients_are_torchs(torch):
    theirs, ours = _loop(torch), _loop(funcgrad)
    assert ours[0].item() == theirs[0].item() == 3
    assert ours[1].grad_fn.name() == type(theirs[1].grad_fn).__name__
    for got, want in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("limit", [0.0, 100.0], ids=["no-iteration", "six-iterations"])
@pytest.mark.parametrize("body", ["tuple", "tensor"])
def test_while_loop_returns_as_the_body_does_and_may_not_run_at_all_as_torch(torch, body,
                                                                             limit):
    got, want = (lib.while_loop(lambda a: a.sum() < limit,
                                (lambda a: (a * 2,)) if body == "tuple" else (lambda a: a * 2),
                                (lib.ones(2),))
                 for lib in (funcgrad, torch))
    assert isinstance(got, tuple) == isinstance(want, tuple) == (body == "tuple")
    got, want = (got[0], want[0]) if body == "tuple" else (got, want)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def _doubling(a):
    """Doubles a until its sum reaches 10: eagerly, as a Python loop (the reference)."""
    while a.sum().item() < 10:
        a = a * 2
    return a


def _doubling_loop(a):
    return funcgrad.while_loop(lambda v: v.sum() < 10, lambda v: (v * 2,), (a,))[0]


def test_while_loop_inside_jit_and_vmap_runs_each_examples_count():
    batch = funcgrad.tensor([[1.0, 1.0], [4.0, 4.0], [0.1, 0.2]])
    want = np.stack([_doubling(row).numpy() for row in batch])
    np.testing.assert_array_equal(funcgrad.vmap(_doubling_loop)(batch).numpy(), want)
    np.testing.assert_array_equal(funcgrad.jit(_doubling_loop)(batch[2]).numpy(), want[2])


def test_a_traced_while_loop_differentiates_forward_but_not_in_reverse():
    x = funcgrad.tensor([1.0, 2.0])
    tangent = funcgrad.func.jvp(_doubling_loop, (x,), (funcgrad.ones(2),))[1]
    np.testing.assert_array_equal(tangent.numpy(), [4.0, 4.0])  # two doublings: d/dx = 4
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work for "
                                         "lax.while_loop"):
        funcgrad.func.grad(lambda a: _doubling_loop(a).sum())(x)


def test_a_recurring_eager_while_loop_compiles_once_per_count():
    before = funcgrad.debug.cache_info()["lazy"]["compiles"]
    for start in (1.0, 1.2, 1.0, 1.2, 1.0, 1.2):  # 3 doublings from each
        x = funcgrad.tensor([start, start], requires_grad=True)
        _doubling_loop(x).sum().backward()
        assert x.grad.tolist() == [8.0, 8.0]
    assert funcgrad.debug.cache_info()["lazy"]["compiles"] - before <= 1


@pytest.mark.parametrize(("cond_fn", "body_fn", "carried", "rule"), [
    (lambda a: a.sum(), lambda a: (a * 2,), (funcgrad.ones(2),), "cond_fn must return a "
     "one-element bool tensor"),
    (lambda a: a < 3, lambda a: (a * 2,), (funcgrad.ones(2),), "cond_fn must return a "
     "one-element bool tensor"),
    (lambda a: a.sum() < 3, lambda a: (a.half(),), (funcgrad.ones(2),), "body_fn must return "
     r"tensors of the shapes and dtypes it takes.*float16\[2\]"),
    (lambda a: a.sum() < 3, lambda a: (a, a), (funcgrad.ones(2),), "body_fn must return "
     "tensors of the shapes and dtypes it takes.*2 tensor"),
    (lambda a: a.sum() < 3, lambda a: (a * 2,), funcgrad.ones(2), "carried_inputs must be a "
     "tuple or list of tensors"),
    (lambda i, a: i < 3, lambda i, a: (i + 1, a), (0, funcgrad.ones(2)), "carried_inputs must "
     r"be a tuple or list of tensors.*funcgrad.tensor\(0\)"),
], ids=["cond-float", "cond-two-elements", "body-dtype", "body-count", "carried-tensor",
        "carried-int"])
def test_while_loop_refuses_what_cannot_loop_with_the_rule(cond_fn, body_fn, carried, rule):
    with pytest.raises(RuntimeError, match=f"while_loop: {rule}"):
        funcgrad.while_loop(cond_fn, body_fn, carried)


def test_a_while_loop_body_that_changes_a_tensor_raises_and_leaves_it_as_it_was():
    w = funcgrad.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="while_loop: body_fn changed a tensor from outside "
                                           "it in place"):
        funcgrad.while_loop(lambda a: a.sum() < 10, lambda a: (a + w.mul_(2),), (w * 1,))
    assert w.tolist() == [1.0, 2.0] and w._version == 0


def _in_autocast(lib, which: str):
    """A cond or a while_loop in an autocast region, over a leaf the functions close over;
    backward after the region ends. torch's loop is a Python loop: torch 2.13's while_loop
    sends a closed-over tensor the gradient of its last iteration's use only (here w.grad
    [[4.5, 4.5], [3, 3]], where the unrolled loop gives [[13.5, 3], [12, 1.5]]), with or
    without autocast."""
    w = lib.tensor([[1.0, 2.0], [0.5, -1.0]], requires_grad=True)
    with lib.autocast("cpu"):
        if which == "cond":
            out = lib.cond(lib.tensor(True), lambda a: a @ w, lambda a: a @ w.t(),
                           (lib.ones(3, 2),))
        elif lib is funcgrad:
            _, out = lib.while_loop(lambda i, a: i < 2, lambda i, a: (i + 1, (a @ w).float()),
                                    (lib.tensor(0), lib.ones(3, 2)))
        else:
            out = lib.ones(3, 2)
            for _ in range(2):
                out = (out @ w).float()
    out.float().sum().backward()
    return out, w.grad


@pytest.mark.parametrize("which", ["cond", "while_loop"])
def test_cond_and_while_loop_cast_in_autocast_regions_as_torchs(torch, which):
    ours, theirs = _in_autocast(funcgrad, which), _in_autocast(torch, which)
    for got, want in zip(ours, theirs):
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_allclose(got.detach().float().numpy(),
                                   want.detach().float().numpy(), rtol=1e-2)

"""``autograd.graph.saved_tensors_hooks``, ``save_on_cpu`` and ``disable_saved_tensors_hooks``
against torch: each scenario is written once, run with both libraries, and the logs of what the
hooks saw (how many tensors, their values, shapes, ``requires_grad`` and ``grad_fn``) and of
the gradients must agree."""

from __future__ import annotations

import pytest

import funcgrad
from test_errors import assert_raises_as_torch
from test_hooks import assert_same_as_torch


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _graph(lib):
    return lib.autograd.graph


def _run(lib, log, body, unpacked=lambda t: t):
    """``body()`` under hooks that note each tensor packed (its shape, ``requires_grad``,
    whether it has a ``grad_fn``, its value: logged once the forward is done, sorted, as the
    two libraries may pack an op's tensors in another order) and log each unpack; what unpack
    gives back for a packed ``t`` is ``unpacked(t)``."""
    packed = []

    def pack(t):
        packed.append([list(t.shape), t.requires_grad, t.grad_fn is not None, t.tolist()])
        return t.detach()

    def unpack(t):
        log("unpack", list(t.shape))
        return unpacked(t)

    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        out = body()
    log("packed", sorted(packed, key=repr))
    return out


# Ops whose torch backward formula reads inputs, so both libraries save the same tensors.
OPS = {
    "mul": lambda lib, a, b, c: a * b,
    "mul_constant": lambda lib, a, b, c: a * c,
    "mul_number": lambda lib, a, b, c: a * 2.0,
    "add": lambda lib, a, b, c: a + b,
    "pow": lambda lib, a, b, c: a ** 2,
    "div": lambda lib, a, b, c: a / (b.abs() + 1),
    "constant_div": lambda lib, a, b, c: c / (a.abs() + 1),
    "matmul": lambda lib, a, b, c: a @ b,
    "matmul_constant": lambda lib, a, b, c: a @ c,
    "sin": lambda lib, a, b, c: a.sin(),
    "log": lambda lib, a, b, c: (a.abs() + 1).log(),
    "clamp": lambda lib, a, b, c: a.clamp(-0.5, 0.5),
    "sum": lambda lib, a, b, c: a.sum(0),
    "mean": lambda lib, a, b, c: a.mean(),
    "transpose": lambda lib, a, b, c: a.t(),
    "where": lambda lib, a, b, c: lib.where(c > 0, a, b),
    "mse_loss": lambda lib, a, b, c: lib.nn.functional.mse_loss(a, c),
}


def _inputs(lib):
    a = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [0.1, 0.2, 0.3]], requires_grad=True)
    b = lib.tensor([[1.0, 2.0, -1.0], [0.5, -0.5, 1.5], [2.0, 1.0, 0.0]], requires_grad=True)
    c = lib.tensor([[0.3, -0.2, 0.1], [1.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
    return a, b, c


@pytest.mark.parametrize("name", OPS)
def test_an_op_packs_what_its_backward_reads(name):
    """Which tensors an op saves (and in which state), and that backward unpacks each once."""
    def scenario(lib, log):
        a, b, c = _inputs(lib)
        out = _run(lib, log, lambda: OPS[name](lib, a, b, c))
        out.sum().backward()
        log("grads", [a.grad, b.grad])

    assert_same_as_torch(scenario)


def test_what_unpack_gives_is_what_backward_uses():
    """An unpack hook that doubles each value: the gradients of ``a * b`` and of ``sin``
    follow it, as torch's."""
    def scenario(lib, log):
        a, b, _ = _inputs(lib)
        out = _run(lib, log, lambda: (a * b).sum() + a.sin().sum(), lambda t: t * 2)
        out.backward()
        log("grads", [a.grad, b.grad])

    assert_same_as_torch(scenario)


def test_retain_graph_unpacks_again_and_a_freed_graph_refuses(torch):
    def scenario(lib, log):
        a, b, _ = _inputs(lib)
        out = _run(lib, log, lambda: (a * b).sum())
        out.backward(retain_graph=True)
        out.backward()
        log("grads", [a.grad, b.grad])

    assert_same_as_torch(scenario)

    def twice(lib):
        a, b, _ = _inputs(lib)
        with _graph(lib).saved_tensors_hooks(lambda t: t.detach(), lambda t: t):
            out = (a * b).sum()
        out.backward()
        out.backward()

    assert_raises_as_torch(torch, twice)


def test_nothing_is_packed_without_a_graph_and_the_innermost_hooks_apply():
    def scenario(lib, log):
        a, b, c = _inputs(lib)
        graph = _graph(lib)
        outer, inner = [], []
        with graph.saved_tensors_hooks(lambda t: outer.append(t.tolist()) or t, lambda t: t):
            with lib.no_grad():
                a * b
            c * c
            with graph.saved_tensors_hooks(lambda t: inner.append(t.tolist()) or t, lambda t: t):
                out = (a * b).sum()
            (a.sin() * c).sum()
        log("outer", sorted(outer))
        log("inner", sorted(inner))
        out.backward()
        log("grads", [a.grad, b.grad])

    assert_same_as_torch(scenario)


def test_hooks_run_without_grad_mode_except_unpack_for_create_graph():
    def scenario(lib, log):
        a, b, _ = _inputs(lib)

        def pack(t):
            log("pack grad mode", lib.is_grad_enabled())
            return t.detach()

        def unpack(t):
            log("unpack grad mode", lib.is_grad_enabled())
            return t

        with _graph(lib).saved_tensors_hooks(pack, unpack):
            out = (a * a * b).sum()
        (g,) = lib.autograd.grad(out, a, create_graph=True)
        log("first", g)
        g.sum().backward()
        log("second", [a.grad, b.grad])

    assert_same_as_torch(scenario)


def test_second_order_gradients_through_unpacked_values():
    """create_graph: the recorded VJPs read the unpacked values, connected to the graph."""
    def scenario(lib, log):
        a, b, _ = _inputs(lib)
        out = _run(lib, log, lambda: (a * a * b).sum() + (a.sin() * b).sum(), lambda t: t * 2)
        (g,) = lib.autograd.grad(out, a, create_graph=True)
        log("first", g)
        g.sum().backward()
        log("second", [a.grad, b.grad])

    assert_same_as_torch(scenario)


def test_an_in_place_op_packs_its_input_from_before_the_write():
    """torch packs a clone of an in-place op's original self; here, a tensor of that value:
    a pack hook that keeps ``t.detach()`` (which shares the tensor's storage) still gives
    backward the value from before the write. (The two pack in a different order, so the
    values packed are compared as a set.)"""
    def scenario(lib, log):
        a, b, _ = _inputs(lib)
        packed = []
        with _graph(lib).saved_tensors_hooks(lambda t: packed.append(t.tolist()) or t.detach(),
                                             lambda t: t):
            h = a * 1
            h.mul_(b)
        log("packed", sorted(packed))
        h.sum().backward()
        log("grads", [a.grad, b.grad])

    assert_same_as_torch(scenario)


def test_a_saved_leaf_changed_in_place_is_not_a_version_error():
    """With hooks, what backward reads is what unpack gives: a leaf changed in place after it
    was saved (its storage shared by the packed ``detach()``) raises no version error, and its
    gradient uses the new value, as torch's does."""
    def scenario(lib, log):
        a, _, _ = _inputs(lib)
        with _graph(lib).saved_tensors_hooks(lambda t: t.detach(), lambda t: t):
            out = (a * a).sum()
        with lib.no_grad():
            a.add_(1)
        out.backward()
        log("grad", a.grad)

    assert_same_as_torch(scenario)


def test_save_on_cpu_gives_the_gradients_of_no_hooks():
    """A small network's training step under ``save_on_cpu``: the same parameters as torch's
    after three steps."""
    def scenario(lib, log):
        lib.manual_seed(0)
        x = lib.linspace(-1, 1, 24).reshape(8, 3)
        target = x.sum(1, keepdim=True).sin()
        weights = [lib.tensor([[0.5, -0.25, 0.75], [0.1, 0.2, -0.3]], requires_grad=True),
                   lib.tensor([[1.0, -1.0]], requires_grad=True)]
        for _ in range(3):
            with _graph(lib).save_on_cpu():
                hidden = lib.tanh(x @ weights[0].t())
                loss = ((hidden @ weights[1].t() - target) ** 2).mean()
            loss.backward()
            with lib.no_grad():
                for w in weights:
                    w -= 0.1 * w.grad
                    w.grad = None
            log("loss", loss)
        log("weights", weights)

    assert_same_as_torch(scenario)


def test_a_recurring_graph_with_hooks_leaves_the_compiled_tier():
    """A step that ran often enough to compile, then under hooks: each tensor is still
    packed and unpacked, and the gradients are the same."""
    def scenario(lib, log):
        a, b, _ = _inputs(lib)
        for step in range(6):
            if step < 4:
                out = ((a * b).sin() * a).sum()
            else:
                out = _run(lib, log, lambda: ((a * b).sin() * a).sum(), lambda t: t * 2)
            out.backward()
            log("grads", [a.grad, b.grad])

    assert_same_as_torch(scenario)


def test_unpack_must_give_a_tensor_and_the_leaves_keep_their_grads(torch):
    def scenario(lib):
        a, b, _ = _inputs(lib)
        with _graph(lib).saved_tensors_hooks(lambda t: t.detach(), lambda t: "packed"):
            out = (a * b).sum()
        try:
            out.backward()
        finally:
            assert a.grad is None and b.grad is None

    assert_raises_as_torch(torch, scenario)


def test_pack_must_not_change_its_input_in_place(torch):
    def scenario(lib):
        a, b, _ = _inputs(lib)
        with _graph(lib).saved_tensors_hooks(lambda t: t.mul_(2), lambda t: t):
            a.detach().requires_grad_() * b.detach()

    assert_raises_as_torch(torch, scenario)


def test_disable_saved_tensors_hooks(torch):
    def scenario(lib):
        graph = _graph(lib)
        with graph.disable_saved_tensors_hooks("activation offloading is off here"):
            with graph.save_on_cpu():
                pass

    assert "activation offloading is off here" == assert_raises_as_torch(torch, scenario)

    def after_it(lib, log):
        graph = _graph(lib)
        with graph.disable_saved_tensors_hooks("off"):
            pass
        a, b, _ = _inputs(lib)
        out = _run(lib, log, lambda: (a * b).sum())
        out.backward()
        log("grads", [a.grad, b.grad])

    assert_same_as_torch(after_it)


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_a_checkpoint_packs_its_arguments_and_recomputes_from_them_unpacked(use_reentrant):
    """torch's checkpoint saves its tensor arguments for backward, and nothing the ops inside
    save: so the hooks pack those, and the recomputation runs on them unpacked (doubled
    here, so the gradients show it)."""
    def scenario(lib, log):
        a, b, _ = _inputs(lib)
        checkpoint = lib.utils.checkpoint.checkpoint
        out = _run(lib, log, lambda: checkpoint(lambda h: (h.sin() * h * b).sum(), a * b,
                                                use_reentrant=use_reentrant),
                   lambda t: t * 2)
        out.backward()
        log("grads", [a.grad, b.grad])

    assert_same_as_torch(scenario)


# ----- allow_mutation_on_saved_tensors ---------------------------------------------------------
_MUTATIONS = {
    "sin_": lambda t: t.sin_(),
    "mul_": lambda t: t.mul_(3),
    "setitem": lambda t: t.__setitem__(0, 7.0),
    "zero_": lambda t: t.zero_(),
}


@pytest.mark.parametrize("mutation", list(_MUTATIONS))
@pytest.mark.parametrize("op", ["mul", "pow", "div", "matmul", "sin", "log", "clamp"])
def test_changing_a_saved_tensor_inside_allow_mutation_keeps_the_saved_value_as_torch(op,
                                                                                      mutation):
    def scenario(lib, log):
        a, b, c = _inputs(lib)
        with lib.autograd.graph.allow_mutation_on_saved_tensors():
            x, y = a.clone(), b.clone()
            out = OPS[op](lib, x, y, c)
            _MUTATIONS[mutation](x)
            _MUTATIONS[mutation](y)
            out.sum().backward()
        log("grads", [a.grad, b.grad])

    assert_same_as_torch(scenario)


def _recorded_in_the_block(lib, mutate: bool):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        a = x.clone()
        out = (a ** 2).sum()
        if mutate:
            a.mul_(3)
    out.backward()


@pytest.mark.parametrize("mutate", [True, False])
def test_a_backward_after_the_block_raises_torchs_error(torch, mutate):
    assert_raises_as_torch(torch, lambda lib: _recorded_in_the_block(lib, mutate))


def test_blocks_do_not_nest_and_a_graph_recorded_before_one_keeps_its_check(torch):
    def nested(lib):
        with lib.autograd.graph.allow_mutation_on_saved_tensors():
            with lib.autograd.graph.allow_mutation_on_saved_tensors():
                pass

    assert_raises_as_torch(torch, nested)
    for lib in (torch, funcgrad):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a = x.clone()
        out = (a ** 2).sum()
        with lib.autograd.graph.allow_mutation_on_saved_tensors():
            a.mul_(3)
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                out.backward()

"""The stateful autograd face against torch doing the same thing (when installed) and against
closed forms (always): backward and its arguments, ``.grad`` accumulation, leaves, detaching,
``grad_fn`` graphs, retained grads and hooks, ``autograd.grad``, in-place ops, freeing saved
values, and the version counter.

A *scenario* is a function of the library (``funcgrad`` or ``torch``) that returns plain data:
the same code runs on both and ``same`` compares the results, tensors by value.
"""

from __future__ import annotations

import copy
import gc
import math
import pickle
import weakref

import numpy as np
import pytest

import funcgrad

FREED = "Trying to backward through the graph a second time"


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def plain(x):
    """Tensors (of either library) as NumPy arrays, containers recursively, the rest as is."""
    if hasattr(x, "detach") and hasattr(x, "tolist"):
        return np.asarray(x.detach().tolist(), dtype=np.float64)
    if isinstance(x, (list, tuple)):
        return type(x)(plain(v) for v in x)
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    return x


def assert_same(ours, theirs, path="result"):
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), path
        assert ours.shape == theirs.shape, path
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6, err_msg=path)
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(theirs, dict):
        assert ours.keys() == theirs.keys(), path
        for k in theirs:
            assert_same(ours[k], theirs[k], f"{path}[{k!r}]")
    elif isinstance(theirs, float):
        # To float32 rounding, as arrays: a value computed by a fused program (the lazy tier)
        # may round differently in the last bits from torch's op-by-op result.
        assert ours == pytest.approx(theirs, rel=1e-6), path
    else:
        assert ours == theirs, path


def same(torch, scenario):
    """Runs ``scenario`` on both libraries; asserts they agree and returns funcgrad's result."""
    ours = plain(scenario(funcgrad))
    assert_same(ours, plain(scenario(torch)))
    return ours


def close(t, expected):
    np.testing.assert_allclose(np.asarray(t.tolist()), expected, rtol=1e-6, atol=1e-6)


# ----- backward and .grad ----------------------------------------------------------------------
def test_backward_of_a_scalar_closed_form():
    x = funcgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x ** 2).mean().backward()
    close(x.grad, [2 / 3, 4 / 3, 2.0])
    assert x.grad.requires_grad is False and x.grad.grad_fn is None and x.grad.is_leaf


def test_backward_with_gradient(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * x
        y.backward(gradient=lib.tensor([1.0, 0.5, -2.0]))
        w = lib.tensor([[1.0, -1.0], [2.0, 0.5]], requires_grad=True)
        (w.exp() * 3).backward(lib.ones(2, 2) * 2)
        return x.grad, w.grad

    grads = same(torch, scenario)
    np.testing.assert_allclose(grads[0], [2.0, 2.0, -12.0])


def test_accumulation_is_in_place_into_the_same_grad(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        first = x.grad
        snapshot = first.clone()
        (x * 3).sum().backward()
        return snapshot, x.grad, first is x.grad, first

    grads = same(torch, scenario)
    np.testing.assert_allclose(grads[1], [5.0, 7.0])


def test_grad_zero_(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        g = x.grad
        returned = g.zero_()
        after_zero = g.clone()
        (x * 3).sum().backward()
        return returned is g, after_zero, x.grad, x.grad is g

    assert same(torch, scenario)[0] is True


def test_grad_set_to_none_starts_fresh(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        old = x.grad
        x.grad = None
        (x * 3).sum().backward()
        return old, x.grad, old is x.grad

    same(torch, scenario)


def test_is_leaf_and_requires_grad(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        c = lib.tensor([1.0, 2.0])
        y = x * 2
        with lib.no_grad():
            n = x * 2
        return [(t.is_leaf, t.requires_grad, t.grad_fn is None)
                for t in (x, c, y, c * 2, n, x.detach(), y.detach(), y.sum())]

    same(torch, scenario)


def test_requires_grad_(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0])
        out = [x.requires_grad_() is x, x.requires_grad, x.is_leaf]
        y = x * 2
        out += [x.requires_grad_(False).requires_grad, y.requires_grad]
        x.requires_grad = True
        out.append(x.requires_grad)
        z = x * 2
        out += [z.requires_grad_(True) is z, z.requires_grad, repr(z.grad_fn.name())]
        return out

    same(torch, scenario)


def test_detach_shares_storage_and_version(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        d = x.detach()
        before = x._version, d._version
        d.add_(1)
        d[0] = 10.0
        y = x * 2
        e = y.detach()
        e.mul_(5)
        return (before, x, x._version, d._version, d.requires_grad, d.is_leaf, y, y._version,
                e._version, x.requires_grad)

    out = same(torch, scenario)
    np.testing.assert_allclose(out[1], [10.0, 3.0])
    assert out[2] == out[3] == 2


def test_data_shares_storage(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.data.mul_(3)
        return x, x.data.requires_grad, x.requires_grad, x.is_leaf

    same(torch, scenario)


def test_detach_(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        returned = y.detach_()
        z = y * 3
        return returned is y, y.is_leaf, y.requires_grad, y.grad_fn, z.requires_grad, y

    same(torch, scenario)


# ----- grad_fn graphs --------------------------------------------------------------------------
def structure(fn, depth=3):
    """A node as (name, [children]) down to ``depth``; None where no gradient flows."""
    if fn is None:
        return None
    if depth == 0:
        return fn.name()
    return fn.name(), [(structure(g, depth - 1), i) for g, i in fn.next_functions]


GRAPHS = {
    "mul-sin-sum": lambda lib, x, w: (x * w + x.sin()).sum(),
    "constant": lambda lib, x, w: x * lib.tensor([1.0, 1.0, 1.0]) + 2,
    "pow-scalar": lambda lib, x, w: x ** 2,
    "rpow": lambda lib, x, w: 2 ** x,
    "pow-tensor": lambda lib, x, w: x.abs() ** w,
    "radd-rsub": lambda lib, x, w: 1 - (1 + x),
    "rdiv": lambda lib, x, w: 2 / x,
    "div": lambda lib, x, w: x / w,
    "where": lambda lib, x, w: lib.where(x > 0, x, w),
    "clamp": lambda lib, x, w: x.clamp(0, 1),
    "clamp-tensors": lambda lib, x, w: x.clamp(w, w + 1),
    "index": lambda lib, x, w: x[lib.tensor([0, 2])],
    "mask": lambda lib, x, w: x[x > 0],
    "select-slice": lambda lib, x, w: x[1] + x[1:].sum(),
    "masked_fill": lambda lib, x, w: x.masked_fill(x > 0, 0.0),
    "max-dim": lambda lib, x, w: x.reshape(1, 3).max(1)[0],
    "gather": lambda lib, x, w: x.gather(0, lib.tensor([0, 2])),
    "cat-stack": lambda lib, x, w: lib.stack([lib.cat([x, w]), lib.cat([w, x])]),
    "matmul": lambda lib, x, w: x @ w,
    "mean-view": lambda lib, x, w: x.reshape(3, 1).mean(),
    "softmax": lambda lib, x, w: x.softmax(0),
    "to-dtype": lambda lib, x, w: x.to(lib.float16),
    "remainder": lambda lib, x, w: x % 2,
}


@pytest.mark.parametrize("graph", GRAPHS)
def test_grad_fn_names_and_next_functions(torch, graph):
    def scenario(lib):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        w = lib.tensor([0.5, 2.0, -1.0], requires_grad=True)
        return structure(GRAPHS[graph](lib, x * 1, w * 1).grad_fn)

    same(torch, scenario)


def test_accumulate_grad_node(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        acc = y.grad_fn.next_functions[0][0]
        z = x * 3
        return (acc.name(), acc.variable is x, acc is z.grad_fn.next_functions[0][0],
                acc.next_functions, repr(acc).split(" object")[0])

    same(torch, scenario)


def _freed_without_the_collector(make) -> bool:
    """Whether what ``make()`` returns is freed as soon as its last reference goes, with the
    cyclic garbage collector off (a reference cycle would keep it until a collection)."""
    gc.disable()
    try:
        ref = weakref.ref(make())
        return ref() is None
    finally:
        gc.enable()


def test_a_leaf_nothing_references_is_freed_at_once(torch):
    def scenario(lib):
        def used_leaf():
            x = lib.tensor([1.0, 2.0], requires_grad=True)
            (x * x).sum().backward()
            return x

        def leaf_of_a_live_graph():
            x = lib.tensor([1.0, 2.0], requires_grad=True)
            kept.append(x * 3)
            return x

        kept = []
        # The graph keeps the leaf (through its accumulator) as long as the graph lives.
        return (_freed_without_the_collector(used_leaf),
                _freed_without_the_collector(leaf_of_a_live_graph),
                kept[0].grad_fn.next_functions[0][0].variable.tolist())

    assert same(torch, scenario)[:2] == (True, False)


def test_leaf_hooks_outlive_the_graphs_they_ran_in(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g * 10)
        seen = []
        x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
        for _ in range(2):
            (x * x).sum().backward()  # each graph is gone before the next is made
            gc.collect()
        return x.grad, seen

    grad, seen = same(torch, scenario)
    np.testing.assert_allclose(grad, [40.0, 80.0])  # closed form: twice 10 * 2x
    assert seen == [[20.0, 40.0], [40.0, 80.0]]


def test_a_deep_copy_of_a_leaf_accumulates_into_its_own_grad(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2  # x's accumulator is alive while y is
        x_copy = copy.deepcopy(x)
        (x_copy * 3).sum().backward()
        return x.grad is None, x_copy.grad, y.grad_fn.next_functions[0][0].variable is x

    assert same(torch, scenario)[0] is True


def test_deep_copies_copy_leaves_with_their_grads_and_shared_storages(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        copied = copy.deepcopy({"grad": x.grad, "x": x, "view": x.detach(),
                                "n": lib.tensor([3, 4])})
        copied["view"].add_(1)  # shares the copy of x's storage, not x's
        error = None
        try:
            copy.deepcopy(x * 2)
        except RuntimeError as e:
            error = str(e).split(";")[0].split(".")[0]
        return (x, copied["x"], copied["x"].grad, copied["x"].grad is x.grad,
                copied["x"].grad is copied["grad"],
                copied["x"].requires_grad, copied["n"], copied["n"].is_floating_point(),
                error)

    same(torch, scenario)


def test_shallow_copies_are_leaves_on_the_same_storage(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        leaf, out = copy.copy(x), copy.copy(x * 2)
        with lib.no_grad():
            leaf.add_(1)  # shows in x too
        return (x, leaf, leaf.grad, leaf.requires_grad, leaf.is_leaf, out, out.grad_fn is None,
                out.requires_grad)

    same(torch, scenario)


def test_pickled_tensors_come_back_as_leaves_with_their_values(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        p = lib.nn.Parameter(lib.tensor([[0.5, -1.0]]))
        back = pickle.loads(pickle.dumps([x, x * 2, lib.tensor([1, 2]), p, {"w": p.detach()}]))
        # (Integers are int32 without jax_enable_x64, so only the kind of dtype is compared.)
        return [(t, t.requires_grad, t.grad, t.grad_fn is None, type(t).__name__,
                 t.is_floating_point()) for t in back[:4]] + [back[4]["w"]]

    same(torch, scenario)


# ----- retain_grad and hooks -------------------------------------------------------------------
def test_retain_grad(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        y.retain_grad()  # twice changes nothing
        (y * y).sum().backward()
        x.retain_grad()  # a no-op on leaves
        return y.grad, x.grad, y.retains_grad, x.retains_grad

    out = same(torch, scenario)
    np.testing.assert_allclose(out[0], [6.0, 12.0])


def test_retained_grads_accumulate_into_a_new_box(torch):
    """Unlike a leaf's .grad, a retained grad is summed out of place (torch's retain_grad)."""

    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        (y * y).sum().backward(retain_graph=True)
        first, leaf_first = y.grad, x.grad
        (y * y).sum().backward()
        return first, y.grad, first is y.grad, leaf_first is x.grad, x.grad

    same(torch, scenario)


def test_autograd_grad_fills_retained_grads_but_no_leaf_grad(torch):
    """autograd.grad leaves .grad of leaves alone, yet a retained non-leaf gets its gradient,
    summed over calls, also when it is the input differentiated (torch's retain_grad hook)."""

    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        z = x * 3
        z.retain_grad()
        y = (z ** 2).sum()
        (g,) = lib.autograd.grad(y, x, retain_graph=True)
        first = z.grad.clone()
        lib.autograd.grad(y, x)
        b = x * x
        b.retain_grad()
        (gb,) = lib.autograd.grad((b * 5).sum(), b)
        return g, first, z.grad, x.grad, gb, b.grad

    out = same(torch, scenario)
    np.testing.assert_allclose(out[2], [12.0, 24.0])


def test_hook_replaces_the_gradient_until_removed(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        seen = []

        def hook(g):
            seen.append(g.clone())
            return g * 10

        handle = x.register_hook(hook)
        (x * x).sum().backward()
        first = x.grad.clone()
        handle.remove()
        x.grad = None
        (x * x).sum().backward()
        return first, x.grad, seen

    out = same(torch, scenario)
    np.testing.assert_allclose(out[0], [20.0, 40.0])


def test_hook_on_a_non_leaf_and_hooks_returning_none(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        seen = []
        y.register_hook(lambda g: g + 1)
        y.register_hook(lambda g: seen.append(g.clone()))
        (y * y).sum().backward()
        return x.grad, seen

    same(torch, scenario)


# ----- autograd.grad ---------------------------------------------------------------------------
def test_higher_derivatives_of_a_cube_closed_form():
    x = funcgrad.tensor(2.0, requires_grad=True)
    (g,) = funcgrad.autograd.grad(x ** 3, x, create_graph=True)
    (g2,) = funcgrad.autograd.grad(g, x, create_graph=True)
    (g3,) = funcgrad.autograd.grad(g2, x)
    assert (g.item(), g2.item(), g3.item()) == (12.0, 12.0, 6.0)
    assert g.requires_grad and g2.requires_grad and not g3.requires_grad
    assert x.grad is None


# torch warns of a reference cycle between a parameter and its gradient (a C++ leak); Python's
# garbage collector frees such cycles, so funcgrad has nothing to warn about.
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_second_derivatives(torch):
    def scenario(lib):
        x = lib.tensor([0.5, 1.0, -1.5], requires_grad=True)
        y = (x.sin() * x ** 3).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        w = lib.tensor([0.3, -0.7], requires_grad=True)
        z = (w.exp() * w).sum()
        z.backward(create_graph=True)
        gw = w.grad
        w.grad = None
        gw.sum().backward()
        return g, h, gw, w.grad, x.grad

    out = same(torch, scenario)
    x = np.array([0.5, 1.0, -1.5])
    np.testing.assert_allclose(out[1], -np.sin(x) * x**3 + 6 * np.cos(x) * x**2
                               + 6 * x * np.sin(x), rtol=1e-5)


def test_autograd_grad_options(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        z = lib.tensor([3.0], requires_grad=True)
        unused = lib.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
        zeros = lib.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)
        weighted = lib.autograd.grad(x.sin(), x, grad_outputs=lib.tensor([1.0, 3.0]))
        two = lib.autograd.grad([(x * x).sum(), (x * z).sum()], [x, z])
        y = x.exp().sum()
        kept = lib.autograd.grad(y, x, retain_graph=True)
        again = lib.autograd.grad(y, x)
        return unused, zeros, weighted, two, kept, again, x.grad, z.grad

    same(torch, scenario)


def test_backward_inputs(torch):
    def scenario(lib):
        x = lib.tensor(2.0, requires_grad=True)
        w = lib.tensor(3.0, requires_grad=True)
        (x * w).backward(inputs=[w])
        out = [x.grad, w.grad]
        (x * w).backward(inputs=x)
        out += [x.grad, w.grad]
        y = x * 3
        (y * y).backward(inputs=[y], retain_graph=True)  # a non-leaf input now retains grad
        out += [y.grad, y.retains_grad]
        (y * y).backward()
        out += [y.grad, x.grad]
        v = x * 5
        v.retain_grad()
        (v * v).backward(inputs=[v])  # once, not twice
        return out + [v.grad]

    same(torch, scenario)


def test_backward_of_several_tensors(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        lib.autograd.backward([(x * 2).sum(), x * x], [lib.tensor(1.0), lib.tensor([3.0, -1.0])])
        return x.grad

    same(torch, scenario)


# ----- in-place ops ----------------------------------------------------------------------------
def _iadd(lib, y, w):
    y += w


def _isub(lib, y, w):
    y -= 2


def _imul(lib, y, w):
    y *= w


def _itruediv(lib, y, w):
    y /= w


def _imul_scalar(lib, y, w):
    y *= 3


def _idiv_scalar(lib, y, w):
    y /= 4


INPLACE = {
    "add_": lambda lib, y, w: y.add_(w),
    "add_-alpha": lambda lib, y, w: y.add_(w, alpha=2),
    "add_-scalar": lambda lib, y, w: y.add_(1),
    "sub_": lambda lib, y, w: y.sub_(w),
    "sub_-scalar": lambda lib, y, w: y.sub_(2.0),
    "mul_": lambda lib, y, w: y.mul_(w),
    "mul_-scalar": lambda lib, y, w: y.mul_(3),
    "div_": lambda lib, y, w: y.div_(w),
    "div_-scalar": lambda lib, y, w: y.div_(2),
    "zero_": lambda lib, y, w: y.zero_(),
    "fill_": lambda lib, y, w: y.fill_(7),
    "copy_": lambda lib, y, w: y.copy_(w),
    "copy_-constant": lambda lib, y, w: y.copy_(lib.tensor([9.0, 8.0, 7.0])),
    "clamp_": lambda lib, y, w: y.clamp_(0, 5),
    "clamp_-min": lambda lib, y, w: y.clamp_(min=2),
    "+=": _iadd, "-=": _isub, "*=": _imul, "/=": _itruediv,
    "*=-scalar": _imul_scalar, "/=-scalar": _idiv_scalar,
    "setitem-scalar": lambda lib, y, w: y.__setitem__(1, 5.0),
    "setitem-slice": lambda lib, y, w: y.__setitem__(slice(0, 2), w[:2]),
    "setitem-mask": lambda lib, y, w: y.__setitem__(y > 2, 0.0),
    "setitem-index": lambda lib, y, w: y.__setitem__(lib.tensor([0, 2]), w[1:] * 2),
    "chain": lambda lib, y, w: y.mul_(2).add_(w).div_(w),
    "twice-mul_": lambda lib, y, w: y.mul_(w).mul_(w),
    "pow_": lambda lib, y, w: y.pow_(2),
    "neg_": lambda lib, y, w: y.neg_(),
    "index_add_": lambda lib, y, w: y.index_add_(0, lib.tensor([2, 0, 2]), w, alpha=2),
    "index_fill_": lambda lib, y, w: y.index_fill_(0, lib.tensor([1]), 4.0),
    "index_copy_": lambda lib, y, w: y.index_copy_(0, lib.tensor([1, 2]), w[:2]),
    "index_put_": lambda lib, y, w: y.index_put_((lib.tensor([0, 0]),), w[1:], accumulate=True),
    "put_": lambda lib, y, w: y.put_(lib.tensor([-1]), w[:1]),
    "masked_scatter_": lambda lib, y, w: y.masked_scatter_(w > 0, w),
    "scatter_": lambda lib, y, w: y.scatter_(0, lib.tensor([2, 0]), w[:2]),
    "scatter_add_": lambda lib, y, w: y.scatter_add_(0, lib.tensor([1, 1]), w[1:]),
    "scatter_reduce_": lambda lib, y, w: y.scatter_reduce_(0, lib.tensor([0, 0, 1]), w, "amax"),
}


@pytest.mark.parametrize("op", INPLACE)
def test_inplace_on_a_non_leaf(torch, op):
    def scenario(lib):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        w = lib.tensor([0.5, 2.0, -1.0], requires_grad=True)
        y = x * x
        returned = INPLACE[op](lib, y, w)
        out = dict(returned=returned is None or returned is y, name=y.grad_fn.name(),
                   value=y, version=y._version, graph=structure(y.grad_fn, 2))
        (y * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        return dict(out, x=x.grad, w=w.grad)

    same(torch, scenario)


def test_fill_diagonal_on_a_non_leaf(torch):
    """fill_diagonal_ needs a matrix, which INPLACE's vectors are not."""

    def scenario(lib):
        x = lib.tensor([[1.0, -2.0, 3.0], [0.5, 2.0, -1.0]], requires_grad=True)
        y = x * x
        returned = y.fill_diagonal_(7.0)
        out = dict(returned=returned is y, name=y.grad_fn.name(), value=y, version=y._version)
        (y * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        return dict(out, x=x.grad)

    same(torch, scenario)


def test_inplace_then_backward_closed_form():
    x = funcgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.mul_(3)
    y += x
    y.sum().backward()
    close(x.grad, [7.0, 13.0])  # d/dx (3x^2 + x)


def test_inplace_under_no_grad_on_leaves(torch):
    """The SGD update: with no_grad, a leaf changes in place and stays a leaf."""

    def scenario(lib):
        w = lib.tensor([1.0, -2.0], requires_grad=True)
        b = lib.tensor(0.5, requires_grad=True)
        x, t = lib.tensor([[1.0, 2.0], [3.0, 4.0]]), lib.tensor([1.0, 0.0])
        losses = []
        for _ in range(3):
            loss = ((x @ w + b - t) ** 2).mean()
            loss.backward()
            with lib.no_grad():
                w -= 0.01 * w.grad
                b.sub_(0.01 * b.grad)
                w.grad.zero_()
                b.grad.zero_()
            losses.append(loss.item())
        return w, b, losses, w.is_leaf, w.requires_grad, w.grad_fn, w._version, b._version

    same(torch, scenario)


def test_inplace_on_a_leaf_that_does_not_require_grad_starts_a_graph(torch):
    def scenario(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        acc = lib.zeros(2)
        acc.add_(w * 3)
        acc.sum().backward()
        return acc.requires_grad, acc.is_leaf, acc.grad_fn.name(), w.grad

    same(torch, scenario)


# ----- saved values: freed after backward ------------------------------------------------------
def test_second_backward_through_a_freed_graph_raises(torch):
    def scenario(lib):
        x = lib.tensor(2.0, requires_grad=True)
        y = x.exp() * x
        y.backward()
        with pytest.raises(RuntimeError, match=FREED):
            y.backward()
        with pytest.raises(RuntimeError, match=FREED):
            lib.autograd.grad(y, x)
        return x.grad

    same(torch, scenario)


def test_ops_that_save_nothing_allow_a_second_backward(torch):
    def scenario(lib):
        x = lib.tensor([2.0, 3.0], requires_grad=True)
        w = lib.tensor([1.0, 2.0])
        for y in ((x + 1).sum(), (x - w).sum(), x.reshape(2, 1).t().sum(), (-x).mean(), x[0],
                  x[1:].sum(), x.floor().sum(), (x % 2).sum(), x.cumsum(0).sum()):
            y.backward()
            y.backward()
        return x.grad

    same(torch, scenario)


def test_retain_graph_allows_another_backward(torch):
    def scenario(lib):
        x = lib.tensor(2.0, requires_grad=True)
        y = x.exp() * x
        y.backward(retain_graph=True)
        y.backward(retain_graph=True)
        y.backward()
        return x.grad

    grad = same(torch, scenario)
    np.testing.assert_allclose(grad, 3 * 3 * math.exp(2.0), rtol=1e-6)


def test_a_new_graph_over_freed_nodes_raises(torch):
    def scenario(lib):
        x = lib.tensor(2.0, requires_grad=True)
        y = x.sin() * x
        y.backward()
        z = y * 2  # z's own node is fresh, y's is freed
        with pytest.raises(RuntimeError, match=FREED):
            z.backward()
        return x.grad

    same(torch, scenario)


# ----- the version counter ---------------------------------------------------------------------
VERSION = "one of the variables needed for gradient computation has been modified by an inplace"


def test_version_counter_counts_inplace_changes(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0])
        versions = [x._version]
        for change in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.__setitem__(0, 3.0),
                       lambda: x.zero_(), lambda: x.copy_(lib.ones(2))):
            change()
            versions.append(x._version)
        _ = x + 1
        versions.append(x._version)
        return versions

    assert same(torch, scenario) == [0, 1, 2, 3, 4, 5, 5]


def test_modifying_a_saved_input_raises_at_backward(torch):
    def scenario(lib):
        out = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        for modify in (lambda y: y.add_(1), lambda y: y.mul_(3), lambda y: y.__setitem__(0, 1.0),
                       lambda y: y.detach().zero_()):
            y = x * 2
            z = y * y
            modify(y)
            with pytest.raises(RuntimeError, match=VERSION):
                z.sum().backward()
            out.append(x.grad)
        leaf = lib.tensor([1.0, 2.0], requires_grad=True)
        z = leaf * leaf
        with lib.no_grad():
            leaf.add_(1)
        with pytest.raises(RuntimeError, match=VERSION):
            z.sum().backward()
        return out, leaf.grad

    same(torch, scenario)


def test_modifying_an_input_that_was_not_saved_is_fine(torch):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        z = y + 1  # add saves nothing
        y.add_(1)
        z.sum().backward()
        return x.grad, z

    same(torch, scenario)


def test_grad_to_a_non_leaf_frees_only_the_nodes_it_runs():
    """autograd.grad(y, c) runs the nodes between y and c, not c's own node or those beyond:
    those keep their saved values for a later backward, as in torch (interpreted once, then
    from the compiled tier when the structure recurs)."""
    from tests._compare import same_as_torch

    def scenario(T):
        a = T.tensor([0.5, 1.0], requires_grad=True)
        grads = []
        for _ in range(4):
            c = a.sin()
            d = c.exp() * c
            grads.append(T.autograd.grad(d.sum(), c)[0])
            c.sum().backward()
            with pytest.raises(RuntimeError, match="backward through the graph a second time"):
                d.sum().backward()
        return grads, a.grad

    same_as_torch(scenario)

"""Higher-order gradients: ``create_graph=True``, ``funcgrad.autograd.grad`` and its options, and
``funcgrad.autograd.functional``, against closed forms, JAX's own transforms on the same
function in ``jax.numpy``, and torch doing the same."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import funcgrad
from _compare import as_numpy, same_as_torch
from funcgrad.autograd import grad

# torch warns that .backward(create_graph=True) makes a reference cycle; funcgrad does not.
TORCH_CYCLE_WARNING = "ignore:Using backward\\(\\) with create_graph=True:UserWarning"
X = [-1.3, -0.4, 0.6, 1.7]


def _tanh_third(x):
    t = np.tanh(x)
    return (1 - t ** 2) * (6 * t ** 2 - 2)


@pytest.mark.parametrize("name, f, third", [
    ("x**4", lambda x: x ** 4, lambda x: 24 * x),
    ("sin", lambda x: x.sin(), lambda x: -np.cos(x)),
    ("exp", lambda x: x.exp(), np.exp),
    ("tanh", lambda x: x.tanh(), _tanh_third),
])
def test_third_derivative_matches_closed_form_and_torch(name, f, third):
    def scenario(lib):
        x = lib.tensor(X, requires_grad=True)
        (d1,) = lib.autograd.grad(f(x).sum(), x, create_graph=True)
        (d2,) = lib.autograd.grad(d1.sum(), x, create_graph=True)
        (d3,) = lib.autograd.grad(d2.sum(), x)
        return d1, d2, d3

    x = funcgrad.tensor(X, requires_grad=True)
    (d1,) = grad(f(x).sum(), x, create_graph=True)
    assert d1.requires_grad and d1.grad_fn is not None
    d3 = as_numpy(scenario(funcgrad)[2])
    np.testing.assert_allclose(d3, third(np.asarray(X, np.float32)), rtol=1e-5, atol=1e-5)
    same_as_torch(scenario)


@pytest.mark.filterwarnings(TORCH_CYCLE_WARNING)
def test_backward_create_graph_then_backward_of_grad_accumulates_as_torch():
    def scenario(lib):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        (x ** 4).sum().backward(create_graph=True)
        first = x.grad
        recorded = first.requires_grad
        x.grad = None
        first.sum().backward(create_graph=True)
        second = x.grad
        x.grad = None
        second.sum().backward()
        third = x.grad
        # Without resetting: a second create_graph backward adds to the recorded .grad, and
        # the backward of that .grad accumulates into it again.
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        (w ** 3).sum().backward(create_graph=True)
        (w ** 3).sum().backward(create_graph=True)
        twice = w.grad.detach().clone()
        w.grad.sum().backward()
        return recorded, first, second, third, twice, w.grad

    got = same_as_torch(scenario)
    x = np.array([0.5, 1.5])
    np.testing.assert_allclose(got[3], 24 * x, rtol=1e-6)  # d^3/dx^3 x**4
    w = np.array([1.0, 2.0])
    np.testing.assert_allclose(got[5], 6 * w ** 2 + 12 * w, rtol=1e-6)


def _critic(lib, inputs, w1, w2):
    return (inputs @ w1).tanh() @ w2


INPUTS = [[1.0, 2.0, -0.5], [0.3, -1.0, 0.8]]
W1 = [[0.3, -0.2], [0.1, 0.4], [-0.5, 0.2]]
W2 = [[0.7], [-1.1]]


def test_gradient_penalty_reaches_the_weights_as_in_torch_and_jax():
    def scenario(lib):
        inputs = lib.tensor(INPUTS, requires_grad=True)
        w1 = lib.tensor(W1, requires_grad=True)
        w2 = lib.tensor(W2, requires_grad=True)
        (g,) = lib.autograd.grad(_critic(lib, inputs, w1, w2).sum(), inputs, create_graph=True)
        penalty = ((g.norm(dim=1) - 1) ** 2).mean()
        penalty.backward()
        return penalty, w1.grad, w2.grad, inputs.grad

    got = same_as_torch(scenario)

    def penalty(w1, w2, inputs):
        g = jax.grad(lambda x: jnp.sum(jnp.tanh(x @ w1) @ w2))(inputs)
        return jnp.mean((jnp.linalg.norm(g, axis=1) - 1) ** 2)

    args = (jnp.asarray(W1), jnp.asarray(W2), jnp.asarray(INPUTS))
    expected = jax.value_and_grad(penalty, argnums=(0, 1, 2))(*args)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5)
    for g, e in zip(got[1:], expected[1]):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def _loss(lib, w):
    return (w.sin() * w ** 2).sum() + (w[0] * w[1] * w[2]).exp()


def _loss_jnp(w):
    return jnp.sum(jnp.sin(w) * w ** 2) + jnp.exp(w[0] * w[1] * w[2])


W = [0.4, -0.7, 1.2]
V = [1.0, -2.0, 0.5]


def test_hessian_vector_product_by_double_backward_matches_jax_and_torch():
    def scenario(lib):
        w = lib.tensor(W, requires_grad=True)
        (g,) = lib.autograd.grad(_loss(lib, w), w, create_graph=True)
        (g * lib.tensor(V)).sum().backward()
        return g, w.grad

    got = same_as_torch(scenario)
    w, v = jnp.asarray(W), jnp.asarray(V)
    g, hv = jax.jvp(jax.grad(_loss_jnp), (w,), (v,))
    np.testing.assert_allclose(got[0], g, rtol=1e-5)
    np.testing.assert_allclose(got[1], hv, rtol=1e-5)
    np.testing.assert_allclose(got[1], jax.hessian(_loss_jnp)(w) @ v, rtol=1e-5)


@pytest.mark.filterwarnings(TORCH_CYCLE_WARNING)
@pytest.mark.parametrize("f", [
    lambda x, y: (x * y).sum(), lambda x, y: (x * 2 + y.sin() * x).sum(),
    lambda x, y: (x @ y.exp()) * 3, lambda x, y: (x * y).sum() + (x ** 2).sum(),
], ids=["product", "linear-in-x", "matmul", "quadratic"])
def test_a_second_backward_reaches_only_what_the_first_backward_read(f):
    torch = pytest.importorskip("torch")

    # d/dx of x*y is y, which does not depend on x: torch's recorded VJP has no edge to x, so
    # the second backward leaves x.grad None (not zeros). Four steps: the last two run the
    # compiled tier's recorded program, which must connect the same inputs.
    def run(lib):
        x = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        y = lib.tensor([3.0, 4.0, -1.0], requires_grad=True)
        log = []
        for _ in range(4):
            (g,) = lib.autograd.grad(f(x, y), x, create_graph=True)
            (g ** 2).sum().backward()
            log.append([None if t.grad is None else t.grad.tolist() for t in (x, y)])
        return log

    ours, theirs = run(funcgrad), run(torch)
    for step_ours, step_theirs in zip(ours, theirs):
        for a, b in zip(step_ours, step_theirs):
            assert (a is None) == (b is None), (ours, theirs)
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-5)


def test_grad_with_grad_outputs_and_several_outputs_and_inputs():
    def scenario(lib):
        x = lib.tensor([[0.5, -1.0], [2.0, 0.3]], requires_grad=True)
        y = lib.tensor([1.5, -0.5], requires_grad=True)
        a = x * y
        b = (x.exp() + y).sum(0)
        grads = lib.autograd.grad([a, b], [x, y], grad_outputs=[lib.ones(2, 2) * 3,
                                                                lib.tensor([1.0, -1.0])])
        return grads, x.grad, y.grad

    got = same_as_torch(scenario)
    assert got[1] is None and got[2] is None  # autograd.grad leaves .grad alone


def test_grad_allow_unused_and_materialize_grads():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        unused = lib.tensor([3.0], requires_grad=True)
        y = (x ** 2).sum()
        none = lib.autograd.grad(y, [x, unused], allow_unused=True, retain_graph=True)
        zeros = lib.autograd.grad(y, [x, unused], materialize_grads=True)
        return none, zeros

    got = same_as_torch(scenario)
    assert got[0][1] is None
    np.testing.assert_array_equal(got[1][1], [0.0])


def _raises_like_torch(scenario):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as expected:
        scenario(torch)
    with pytest.raises(RuntimeError) as got:
        scenario(funcgrad)
    assert str(got.value) == str(expected.value)


@pytest.mark.torch_wording
def test_grad_of_an_unused_input_raises_torchs_error():
    def scenario(lib):
        x = lib.tensor(1.0, requires_grad=True)
        unused = lib.tensor(2.0, requires_grad=True)
        lib.autograd.grad(x * 3, [x, unused])

    _raises_like_torch(scenario)


def test_grad_with_respect_to_a_tensor_without_grad_raises_torchs_error():
    def scenario(lib):
        x = lib.tensor(1.0, requires_grad=True)
        lib.autograd.grad(x * 3, [lib.tensor(2.0)])

    _raises_like_torch(scenario)


def test_grad_frees_the_graph_unless_retained():
    def retained(lib):
        x = lib.tensor(2.0, requires_grad=True)
        y = x.sin() * x
        first = lib.autograd.grad(y, x, retain_graph=True)
        return first, lib.autograd.grad(y, x)

    same_as_torch(retained)

    def freed(lib):
        x = lib.tensor(2.0, requires_grad=True)
        y = x.sin() * x
        lib.autograd.grad(y, x)
        lib.autograd.grad(y, x)

    _raises_like_torch(freed)


def test_create_graph_retains_the_graph_by_default():
    def scenario(lib):
        x = lib.tensor([0.5, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        again = lib.autograd.grad(y, x, retain_graph=True)  # the graph is still there
        return g, again, lib.autograd.grad(g.sum(), x)

    same_as_torch(scenario)


# ----- funcgrad.autograd.functional against torch.autograd.functional ---------------------------
def _scalar(x):
    return (x.sin() * x).sum()


def _pair_to_pair(x, y):
    return x * y.exp(), (x ** 2).sum() + y.sum()


def _pair_to_scalar(x, y):
    return (x.tanh() * y).sum() + (x * x * y).sum()


def _vector(x):
    return x.cumsum(0) * x.sigmoid()


XS = [0.3, -0.7, 1.1]
YS = [0.2, 0.4, -0.5]


def _functional(lib):
    import importlib

    return importlib.import_module(f"{lib.__name__}.autograd.functional")


@pytest.mark.parametrize("case", [
    ("jacobian", lambda F, lib, x, y: F.jacobian(_vector, x)),
    ("jacobian tuple in/out", lambda F, lib, x, y: F.jacobian(_pair_to_pair, (x, y))),
    ("hessian", lambda F, lib, x, y: F.hessian(_scalar, x)),
    ("hessian tuple in", lambda F, lib, x, y: F.hessian(_pair_to_scalar, (x, y))),
    ("vjp", lambda F, lib, x, y: F.vjp(_vector, x, lib.tensor([1.0, -1.0, 2.0]))),
    ("vjp tuple in/out", lambda F, lib, x, y: F.vjp(_pair_to_pair, (x, y),
                                                    (lib.ones(3), lib.tensor(2.0)))),
    ("jvp", lambda F, lib, x, y: F.jvp(_vector, x, lib.tensor([0.5, 1.0, -1.0]))),
    ("jvp tuple in/out", lambda F, lib, x, y: F.jvp(_pair_to_pair, (x, y),
                                                    (lib.ones(3), lib.tensor([1.0, 0.0, 2.0])))),
    ("hvp", lambda F, lib, x, y: F.hvp(_scalar, x, lib.tensor([1.0, 2.0, -1.0]))),
    ("hvp tuple in", lambda F, lib, x, y: F.hvp(_pair_to_scalar, (x, y),
                                                (lib.ones(3), lib.tensor([1.0, -1.0, 0.5])))),
], ids=lambda case: case[0])
def test_functional_matches_torch(case):
    def scenario(lib):
        return case[1](_functional(lib), lib, lib.tensor(XS), lib.tensor(YS))

    same_as_torch(scenario)


def test_functional_hessian_matches_jax():
    x = jnp.asarray(XS)
    expected = jax.hessian(lambda x: jnp.sum(jnp.sin(x) * x))(x)
    got = funcgrad.autograd.functional.hessian(_scalar, funcgrad.tensor(XS))
    np.testing.assert_allclose(as_numpy(got), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", [
    ("jacobian", lambda F, lib, x, y: F.jacobian(_pair_to_pair, (x, y), create_graph=True)),
    ("hessian", lambda F, lib, x, y: F.hessian(_pair_to_scalar, (x, y), create_graph=True)),
    ("vjp", lambda F, lib, x, y: F.vjp(_pair_to_pair, (x, y), (lib.ones(3), lib.tensor(2.0)),
                                       create_graph=True)[1]),
    ("jvp", lambda F, lib, x, y: F.jvp(_vector, x, lib.tensor([0.5, 1.0, -1.0]),
                                       create_graph=True)[1]),
    ("hvp", lambda F, lib, x, y: F.hvp(_scalar, x, lib.tensor([1.0, 2.0, -1.0]),
                                       create_graph=True)[1]),
], ids=lambda case: case[0])
def test_functional_create_graph_results_are_differentiable_as_in_torch(case):
    def scenario(lib):
        x = lib.tensor(XS, requires_grad=True)
        y = lib.tensor(YS, requires_grad=True)
        result = case[1](_functional(lib), lib, x, y)
        leaves = [t for t in _flatten(result) if t.requires_grad]
        assert leaves, "create_graph=True gave nothing differentiable"
        total = sum(((t * t).sum() for t in leaves), lib.tensor(0.0))
        return result, lib.autograd.grad(total, [x, y], allow_unused=True)

    same_as_torch(scenario)


def _flatten(tree) -> list:
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in _flatten(t)]
    return [tree]


def test_functional_without_create_graph_records_nothing():
    x = funcgrad.tensor(XS, requires_grad=True)
    jac = funcgrad.autograd.functional.jacobian(_vector, x)
    out, hv = funcgrad.autograd.functional.hvp(_scalar, x, funcgrad.ones(3))
    assert not any(t.requires_grad for t in (jac, out, hv))
    assert x.grad is None

"""Stateful code (``.backward()``, ``retain_grad``, hooks, ``no_grad`` updates) inside
``funcgrad.jit``, ``vmap`` and ``grad``: the same numbers as running it eagerly and as the same
computation written in pure JAX; and a clear error where a value would have to be read."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import funcgrad
from _compare import as_numpy, assert_trees_close

X = [0.3, -0.7, 1.2]
BATCH = [[0.3, -0.7, 1.2], [1.0, 2.0, -0.4]]


def inner_grads(x):
    """Backward inside the function: the gradients of a leaf and of a retained non-leaf."""
    w = x.detach().clone().requires_grad_()
    h = (w * 2).sin()
    h.retain_grad()
    ((h ** 2).sum() + (w ** 3).sum()).backward()
    return w.grad, h.grad


def inner_grads_jnp(x):
    h = jnp.sin(2 * x)
    loss = lambda w, h: jnp.sum(h ** 2) + jnp.sum(w ** 3)
    # d loss/d w through h, and d loss/d h holding w fixed
    return jax.grad(lambda w: loss(w, jnp.sin(2 * w)))(x), jax.grad(loss, argnums=1)(x, h)


TRANSFORMS = {
    "eager": lambda f: f,
    "jit": funcgrad.jit,
    "jit twice": lambda f: (lambda *a: (funcgrad.jit(f)(*a), funcgrad.jit(f)(*a))[1]),
}


@pytest.mark.parametrize("transform", TRANSFORMS.values(), ids=TRANSFORMS.keys())
def test_backward_and_retain_grad_inside_jit_match_eager_and_jax(transform):
    got = as_numpy(transform(inner_grads)(funcgrad.tensor(X)))
    assert_trees_close(got, as_numpy(inner_grads(funcgrad.tensor(X))), rtol=1e-6)
    assert_trees_close(got, as_numpy(inner_grads_jnp(jnp.asarray(X))), rtol=1e-5)


def test_backward_inside_vmap_matches_each_row_eagerly_and_jax_vmap():
    got = as_numpy(funcgrad.vmap(inner_grads)(funcgrad.tensor(BATCH)))
    rows = [as_numpy(inner_grads(funcgrad.tensor(row))) for row in BATCH]
    assert_trees_close(got, tuple(np.stack(parts) for parts in zip(*rows)), rtol=1e-6)
    assert_trees_close(got, as_numpy(jax.vmap(inner_grads_jnp)(jnp.asarray(BATCH))), rtol=1e-5)


def test_grad_of_a_function_that_runs_backward_differentiates_through_that_backward():
    """As create_graph=True does eagerly, and as jax.grad of jax.grad does."""

    def total(x):
        w_grad, h_grad = inner_grads(x)
        return w_grad.sum() + h_grad.sum()

    got = funcgrad.grad(total)(funcgrad.tensor(X))

    w = funcgrad.tensor(X, requires_grad=True)
    h = (w * 2).sin()
    grads = funcgrad.autograd.grad((h ** 2).sum() + (w ** 3).sum(), [w, h], create_graph=True)
    (grads[0].sum() + grads[1].sum()).backward()
    np.testing.assert_allclose(as_numpy(got), as_numpy(w.grad), rtol=1e-5)

    expected = jax.grad(lambda x: sum(jnp.sum(g) for g in inner_grads_jnp(x)))(jnp.asarray(X))
    np.testing.assert_allclose(as_numpy(got), expected, rtol=1e-5)
    np.testing.assert_allclose(as_numpy(funcgrad.jit(funcgrad.grad(total))(funcgrad.tensor(X))),
                               expected, rtol=1e-5)


def hooked(x):
    w = x.detach().clone().requires_grad_()
    h = (w * 2).sin()
    h.register_hook(lambda g: g * 3)
    h.retain_grad()
    (h ** 2).sum().backward()
    return w.grad, h.grad


def test_hooks_inside_jit_and_vmap_match_eager_and_jax():
    expected = (3 * 2 * jnp.sin(2 * jnp.asarray(X)) * 2 * jnp.cos(2 * jnp.asarray(X)),
                3 * 2 * jnp.sin(2 * jnp.asarray(X)))
    eager = as_numpy(hooked(funcgrad.tensor(X)))
    assert_trees_close(eager, as_numpy(expected), rtol=1e-5)
    assert_trees_close(as_numpy(funcgrad.jit(hooked)(funcgrad.tensor(X))), eager, rtol=1e-6)
    batched = as_numpy(funcgrad.vmap(hooked)(funcgrad.tensor(BATCH)))
    assert_trees_close(tuple(b[0] for b in batched), eager, rtol=1e-6)


def sgd(x, steps: int = 3, lr: float = 0.1):
    """A training loop: backward, an update under no_grad, then zeroing the grad."""
    w = x.detach().clone().requires_grad_()
    losses = []
    for _ in range(steps):
        loss = ((w.sin() - 0.5) ** 2).sum()
        loss.backward()
        with funcgrad.no_grad():
            w -= lr * w.grad
        w.grad.zero_()
        losses.append(loss.detach())
    return w.detach(), funcgrad.stack(losses)


def sgd_jnp(x, steps: int = 3, lr: float = 0.1):
    loss = lambda w: jnp.sum((jnp.sin(w) - 0.5) ** 2)
    losses = []
    for _ in range(steps):
        losses.append(loss(x))
        x = x - lr * jax.grad(loss)(x)
    return x, jnp.stack(losses)


@pytest.mark.parametrize("transform", [funcgrad.jit, funcgrad.vmap],
                         ids=["jit", "vmap"])
def test_a_training_loop_inside_a_transform_matches_eager_and_jax(transform):
    data = X if transform is funcgrad.jit else BATCH
    got = as_numpy(transform(sgd)(funcgrad.tensor(data)))
    reference = sgd_jnp if transform is funcgrad.jit else jax.vmap(sgd_jnp)
    assert_trees_close(got, as_numpy(reference(jnp.asarray(data))), rtol=1e-5)
    if transform is funcgrad.jit:
        assert_trees_close(got, as_numpy(sgd(funcgrad.tensor(X))), rtol=1e-6)


def hvp(x, v):
    """A Hessian-vector product by double backward, inside the function."""
    w = x.detach().clone().requires_grad_()
    (g,) = funcgrad.autograd.grad((w.sin() * w).sum(), w, create_graph=True)
    (g * v).sum().backward()
    return w.grad


def test_create_graph_inside_jit_and_vmap():
    x, v = funcgrad.tensor(X), funcgrad.tensor([1.0, -1.0, 2.0])
    expected = jax.jvp(jax.grad(lambda a: jnp.sum(jnp.sin(a) * a)), (jnp.asarray(X),),
                       (jnp.asarray([1.0, -1.0, 2.0]),))[1]
    np.testing.assert_allclose(as_numpy(hvp(x, v)), expected, rtol=1e-5)
    np.testing.assert_allclose(as_numpy(funcgrad.jit(hvp)(x, v)), expected, rtol=1e-5)
    batched = funcgrad.vmap(hvp, in_axes=(0, None))(funcgrad.tensor(BATCH), v)
    np.testing.assert_allclose(as_numpy(batched)[0], expected, rtol=1e-5)


# ----- reading a value inside a transform ------------------------------------------------------
READS = {
    "item": lambda t: t * t.sum().item(),
    "float": lambda t: t * float(t.sum()),
    "int": lambda t: t * int(t.sum()),
    "bool": lambda t: t * bool(t.sum() > 0),
    "if": lambda t: t if t.sum() > 0 else -t,
    "tolist": lambda t: t * t.tolist()[0],
    "numpy": lambda t: t * t.numpy()[0],
}
TRANSFORMS_THAT_TRACE = {
    "jit": funcgrad.jit,
    "vmap": funcgrad.vmap,
    "grad": lambda f: funcgrad.grad(lambda t: f(t).sum()),
}


# Under grad alone a comparison is concrete (JAX computes it from the primal), so `if` on one
# works there; see the test below.
CASES = [pytest.param(read, transform, id=f"{r}-{t}")
         for r, read in READS.items() for t, transform in TRANSFORMS_THAT_TRACE.items()
         if not (t == "grad" and r in ("bool", "if"))]


@pytest.mark.parametrize("read, transform", CASES)
def test_reading_a_value_inside_a_transform_says_what_to_do(read, transform):
    x = funcgrad.tensor([1.0, 2.0])
    read(x)  # fine eagerly
    with pytest.raises(jax.errors.ConcretizationTypeError) as e:
        transform(read)(x)
    message = str(e.value)
    assert "funcgrad cannot read a value inside a transform" in message
    assert "Return the value from the transformed function" in message
    assert "funcgrad.where" in message


def test_python_control_flow_on_a_comparison_works_under_grad_as_in_jax():
    f = READS["if"]
    for x in ([1.0, 2.0], [-1.0, -2.0]):
        got = funcgrad.grad(lambda t: (f(t) ** 2).sum())(funcgrad.tensor(x))
        expected = jax.grad(lambda a: jnp.sum(jnp.where(a.sum() > 0, a, -a) ** 2))(
            jnp.asarray(x))
        np.testing.assert_allclose(as_numpy(got), expected, rtol=1e-6)


def test_funcgrad_where_is_the_way_out():
    f = lambda t: funcgrad.where(t.sum() > 0, t, -t)
    for x in ([1.0, 2.0], [-1.0, -2.0]):
        np.testing.assert_allclose(as_numpy(funcgrad.jit(f)(funcgrad.tensor(x))), np.abs(x))


# ----- jit and the tensors a function reads from outside ----------------------------------------
def test_jit_reads_the_current_values_of_the_tensors_it_closes_over():
    # jax.jit bakes a closed-over array into its program; a tensor is an input instead.
    w = funcgrad.tensor([1.0, 2.0])
    calls = []

    def dot(x, power):
        calls.append(power)
        return (x * w ** power).sum()

    jitted = funcgrad.jit(dot, static_argnums=1)
    x = funcgrad.tensor([3.0, -1.0])
    for _ in range(4):
        with funcgrad.no_grad():
            w.add_(0.5)
        assert jitted(x, 2).item() == pytest.approx(dot(x, 2).item())
    # one trace to find what it reads, one to compile; then the program is reused
    assert calls.count(2) == 2 + 4
    assert jitted(x, 3).item() == pytest.approx(dot(x, 3).item())


def test_jit_results_carry_gradients_to_arguments_and_closure_as_eager():
    w = funcgrad.tensor([0.5, -1.0, 2.0], requires_grad=True)
    bias = funcgrad.tensor(0.3, requires_grad=True)

    def f(x):
        return ((x @ w).tanh() + bias).square().mean()

    jitted = funcgrad.jit(f)
    rng = np.random.default_rng(0)
    grads = []
    for fn in (f, jitted):
        x = funcgrad.tensor(rng.standard_normal((5, 3)).astype(np.float32), requires_grad=True)
        w.grad = bias.grad = None
        for _ in range(2):
            loss = fn(x)
            (g,) = funcgrad.autograd.grad(loss, w, create_graph=True)
            (loss + g.square().sum()).backward()
        grads.append(as_numpy((loss, w.grad, bias.grad, x.grad)))
        rng = np.random.default_rng(0)
    assert jitted(funcgrad.ones(1, 3)).grad_fn.name() == "JitBackward0"
    assert_trees_close(grads[1], grads[0], rtol=1e-5)


def test_a_jitted_module_trains_as_the_module():
    def train(jit: bool):
        funcgrad.manual_seed(0)
        model = funcgrad.nn.Sequential(funcgrad.nn.Linear(3, 4), funcgrad.nn.Tanh(),
                                       funcgrad.nn.Linear(4, 1))
        forward = funcgrad.jit(model) if jit else model
        optimizer = funcgrad.optim.Adam(model.parameters(), lr=0.1)
        x = funcgrad.tensor(BATCH)
        for _ in range(4):
            optimizer.zero_grad()
            loss = forward(x).square().mean()
            loss.backward()
            optimizer.step()
        return as_numpy([loss, *model.parameters()])

    assert_trees_close(train(jit=True), train(jit=False), rtol=1e-5)


def test_jit_of_a_function_changing_its_closure_in_place_is_refused():
    count = funcgrad.zeros(())

    def counting(x):
        count.add_(1)
        return x * 2

    with pytest.raises(RuntimeError, match="jit changed a tensor from outside it in place"):
        funcgrad.jit(counting)(funcgrad.ones(2))
    assert count.item() == 0.0

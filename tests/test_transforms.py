"""The functional face, jitted and not (chex variants): funcgrad's transforms against closed forms
and against JAX's own transforms applied to the same function written with ``jax.numpy``."""

from __future__ import annotations

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized

import funcgrad
import funcgrad.nn.functional as F

RTOL = 1e-5


def as_arrays(tree):
    """The tree with Tensors and lists of numbers as arrays (chex sees a Tensor as a pytree node,
    so it only matches another Tensor)."""
    return jax.tree_util.tree_map(jnp.asarray, tree,
                                  is_leaf=lambda x: isinstance(x, (funcgrad.Tensor, list)))


def close(got, expected, rtol=RTOL):
    """Compares any mix of Tensors, arrays and numbers, leaf by leaf, with chex."""
    chex.assert_trees_all_close(as_arrays(got), as_arrays(expected), rtol=rtol, atol=1e-6)


def is_tensor_tree(tree) -> bool:
    leaves = jax.tree_util.tree_leaves(tree, is_leaf=lambda x: isinstance(x, funcgrad.Tensor))
    return bool(leaves) and all(isinstance(x, funcgrad.Tensor) for x in leaves)


def is_array_tree(tree) -> bool:
    leaves = jax.tree_util.tree_leaves(tree, is_leaf=lambda x: isinstance(x, funcgrad.Tensor))
    return bool(leaves) and all(
        isinstance(x, jax.Array) and not isinstance(x, funcgrad.Tensor) for x in leaves)


X3 = np.array([0.5, -1.0, 2.0], np.float32)
LOGITS = np.array([[0.2, -1.0, 0.7], [1.5, 0.3, -0.4]], np.float32)
LABELS = np.array([2, 0])
TARGETS = np.array([0.0, 1.0, 1.0], np.float32)

# The stateful API inside a transform, each beside the same function in jax.numpy: the
# reference is jax.grad of the jnp function, so funcgrad's ops table is checked too.
STATEFUL_FUNCTIONS = [
    ("sin_of_square", lambda x: funcgrad.sin(x ** 2).sum(), lambda x: jnp.sin(x ** 2).sum(), X3),
    ("methods", lambda x: x.exp().mean() * x.sum(), lambda x: jnp.exp(x).mean() * x.sum(), X3),
    ("indexing", lambda x: x[1:].prod() + x[funcgrad.tensor([0, 0, 2])].sum() + x[-1] ** 3,
     lambda x: x[1:].prod() + x[jnp.array([0, 0, 2])].sum() + x[-1] ** 3, X3),
    ("mse_loss", lambda x: F.mse_loss(x, funcgrad.tensor(TARGETS)),
     lambda x: jnp.mean((x - TARGETS) ** 2), X3),
    ("bce", lambda x: F.binary_cross_entropy(funcgrad.sigmoid(x), funcgrad.tensor(TARGETS)),
     lambda x: -jnp.mean(TARGETS * jax.nn.log_sigmoid(x) + (1 - TARGETS) * jax.nn.log_sigmoid(-x)),
     X3),
    ("bce_with_logits", lambda x: F.binary_cross_entropy_with_logits(x, funcgrad.tensor(TARGETS),
                                                                     reduction="sum"),
     lambda x: -jnp.sum(TARGETS * jax.nn.log_sigmoid(x) + (1 - TARGETS) * jax.nn.log_sigmoid(-x)),
     X3),
    ("cross_entropy", lambda x: F.cross_entropy(x, funcgrad.tensor(LABELS)),
     lambda x: -jnp.mean(jax.nn.log_softmax(x)[jnp.arange(2), LABELS]), LOGITS),
    ("softmax_relu", lambda x: (F.softmax(x, dim=1) * F.relu(x)).sum(),
     lambda x: (jax.nn.softmax(x, axis=1) * jax.nn.relu(x)).sum(), LOGITS),
]


class TransformsTest(chex.TestCase):
    """Each test runs twice: the body as it is, and the body under ``jax.jit``."""

    @chex.variants(with_jit=True, without_jit=True)
    def test_variant_jits_only_the_jit_variant(self):
        traced = []

        def f(x):
            g = funcgrad.grad(lambda x: x ** 2)(x)
            traced.append(isinstance(jnp.asarray(g), jax.core.Tracer))
            return g

        close(self.variant(f)(funcgrad.tensor(3.0)), 6.0)
        assert traced == [self.variant.type == chex.ChexVariantType.WITH_JIT]

    @chex.variants(with_jit=True, without_jit=True)
    def test_grad_closed_forms_of_the_seed_examples(self):
        square = self.variant(funcgrad.grad(lambda x: x ** 2))
        nested = self.variant(funcgrad.grad(lambda x: funcgrad.sin(x ** 2)))
        mean_sq = self.variant(funcgrad.grad(lambda x: (x ** 2).mean()))
        close(square(funcgrad.tensor(3.0)), 6.0)
        close(nested(funcgrad.tensor(4.0)), 2 * 4.0 * math.cos(16.0))
        close(mean_sq(funcgrad.tensor([1.0, 2.0, 3.0])), [2 / 3, 4 / 3, 2.0])

    @chex.variants(with_jit=True, without_jit=True)
    def test_results_mirror_the_inputs(self):
        g = self.variant(funcgrad.grad(lambda x: funcgrad.sin(x ** 2).sum()))
        expected = 2 * X3 * np.cos(X3 ** 2)
        from_tensor, from_array = g(funcgrad.tensor(X3)), g(jnp.asarray(X3))
        assert isinstance(from_tensor, funcgrad.Tensor) and is_array_tree(from_array)
        close(from_tensor, expected)
        close(from_array, expected)
        from_number = self.variant(funcgrad.grad(lambda x: x ** 3))(2.0)
        assert is_array_tree(from_number)
        close(from_number, 12.0)

    @chex.variants(with_jit=True, without_jit=True)
    def test_argnums_int_and_tuple_against_jax(self):
        def pure(a, b, c):
            return jnp.sum(jnp.sin(a) * b ** 2) + c * jnp.sum(a)

        def stateful(a, b, c):
            return (funcgrad.sin(a) * b ** 2).sum() + c * a.sum()

        args = (funcgrad.tensor(X3), funcgrad.tensor(X3[::-1].copy()), funcgrad.tensor(0.5))
        arrays = tuple(jnp.asarray(a) for a in args)
        for argnums in (0, 2, (0, 1), (2, 0), (-1,)):
            got = self.variant(funcgrad.grad(stateful, argnums=argnums))(*args)
            close(got, jax.grad(pure, argnums=argnums)(*arrays))
            assert is_tensor_tree(got)
            if isinstance(argnums, tuple):
                assert isinstance(got, tuple) and len(got) == len(argnums)

    @chex.variants(with_jit=True, without_jit=True)
    def test_value_and_grad_with_aux_against_jax(self):
        def pure(w, x):
            out = jnp.tanh(x @ w)
            return jnp.sum(out ** 2), {"out": out, "norm": jnp.linalg.norm(w)}

        def stateful(w, x):
            out = funcgrad.tanh(x @ w)
            return (out ** 2).sum(), {"out": out, "norm": w.norm()}

        w, x = funcgrad.tensor(X3), funcgrad.tensor(LOGITS)
        (value, aux), g = self.variant(
            funcgrad.value_and_grad(stateful, argnums=(0, 1), has_aux=True))(w, x)
        (ref_value, ref_aux), ref_g = jax.value_and_grad(pure, (0, 1), has_aux=True)(
            jnp.asarray(X3), jnp.asarray(LOGITS))
        close((value, aux, g), (ref_value, ref_aux, ref_g))
        assert is_tensor_tree((value, aux, g))
        chex.assert_shape(aux["out"], (2,))

        g_aux = self.variant(funcgrad.grad(stateful, has_aux=True))(w, x)
        close(g_aux, (ref_g[0], ref_aux))

    @chex.variants(with_jit=True, without_jit=True)
    def test_pytrees_of_tensors_arrays_and_numbers(self):
        def loss(params, batch):
            w, b = params["w"], params["b"]
            x, y = batch
            return ((x @ w + b - y) ** 2).mean() + params["decay"] * (w * w).sum()

        params = {"w": funcgrad.tensor(X3), "b": jnp.float32(0.25), "decay": 0.1}
        batch = (funcgrad.tensor(LOGITS), jnp.array([1.0, -1.0]))
        got = self.variant(funcgrad.grad(loss))(params, batch)
        ref = jax.grad(loss)(as_arrays(params), as_arrays(batch))
        chex.assert_trees_all_equal_structs(as_arrays(got), ref)
        close(got, ref)
        assert is_tensor_tree(got)  # an input was a Tensor: every array comes back as one
        residual = LOGITS @ X3 + 0.25 - np.array([1.0, -1.0])  # closed form of d/dw
        close(got["w"], LOGITS.T @ residual + 2 * 0.1 * X3)

        both = self.variant(funcgrad.grad(loss, argnums=(0, 1)))(params, batch)
        close(both[0], got)
        chex.assert_shape(both[1], [(2, 3), (2,)])

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.named_parameters(*STATEFUL_FUNCTIONS)
    def test_stateful_api_inside_grad(self, stateful, pure, x):
        got = self.variant(funcgrad.grad(stateful))(funcgrad.tensor(x))
        assert isinstance(got, funcgrad.Tensor)
        close(got, jax.grad(pure)(jnp.asarray(x)))

    @chex.variants(with_jit=True, without_jit=True)
    def test_vjp_and_jvp_against_jax(self):
        def pure(x, y):
            return jnp.sin(x) * y.sum()

        def stateful(x, y):
            return x.sin() * y.sum()

        x, y = funcgrad.tensor(X3), funcgrad.tensor([1.0, 2.0])
        ct, tx, ty = funcgrad.tensor([1.0, -2.0, 0.5]), funcgrad.ones(3), jnp.array([0.5, 0.5])

        def vjp_both(x, y, ct):
            out, pullback = funcgrad.vjp(stateful, x, y)
            return out, pullback(ct)

        out, cts = self.variant(vjp_both)(x, y, ct)
        ref_out, ref_pullback = jax.vjp(pure, jnp.asarray(x), jnp.asarray(y))
        close((out, cts), (ref_out, ref_pullback(jnp.asarray(ct))))
        assert is_tensor_tree((out, cts))

        jvp = self.variant(lambda x, y, tx: funcgrad.jvp(stateful, (x, y), (tx, ty)))
        ref = jax.jvp(pure, (jnp.asarray(x), jnp.asarray(y)), (jnp.ones(3), ty))
        close(jvp(x, y, tx), ref)
        close(ref[1], np.cos(X3) * 3.0 + np.sin(X3) * 1.0)  # d(sin(x)·sum(y)) along (1, 0.5)

    @chex.variants(with_jit=True, without_jit=True)
    def test_vjp_and_jvp_with_aux(self):
        def f(x):
            return x ** 2, x.detach()

        x = funcgrad.tensor(X3)
        out, pullback, aux = funcgrad.vjp(f, x, has_aux=True)
        close((out, pullback(funcgrad.ones(3))[0], aux), (X3 ** 2, 2 * X3, X3))
        got = self.variant(lambda x: funcgrad.jvp(f, (x,), (funcgrad.ones(3),), has_aux=True))(x)
        close(got, (X3 ** 2, 2 * X3, X3))

    @chex.variants(with_jit=True, without_jit=True)
    def test_jacobians_and_hessian(self):
        def stateful(x):
            return x.sin() * x.sum()

        def pure(x):
            return jnp.sin(x) * jnp.sum(x)

        x = funcgrad.tensor(X3)
        expected = np.diag(np.cos(X3) * X3.sum()) + np.sin(X3)[:, None]  # closed form
        for transform, reference in ((funcgrad.jacrev, jax.jacrev), (funcgrad.jacfwd, jax.jacfwd)):
            got = self.variant(transform(stateful))(x)
            assert isinstance(got, funcgrad.Tensor)
            chex.assert_shape(got, (3, 3))
            close(got, expected)
            close(got, reference(pure)(jnp.asarray(X3)))

        cube = self.variant(funcgrad.hessian(lambda x: (x ** 3).sum()))(x)
        close(cube, np.diag(6 * X3))
        h = self.variant(funcgrad.hessian(lambda x, y: (x.sin() * y).sum() * y.sum(),
                                          argnums=(0, 1)))(x, funcgrad.tensor(X3[::-1].copy()))
        ref = jax.hessian(lambda x, y: jnp.sum(jnp.sin(x) * y) * jnp.sum(y), argnums=(0, 1))(
            jnp.asarray(X3), jnp.asarray(X3[::-1].copy()))
        close(h, ref)
        assert is_tensor_tree(h)

    @chex.variants(with_jit=True, without_jit=True)
    def test_vmap_in_axes_and_out_axes(self):
        m, v = funcgrad.tensor(LOGITS), funcgrad.tensor(X3)
        rows = self.variant(funcgrad.vmap(lambda row, v: (row * v).sum(), in_axes=(0, None)))
        close(rows(m, v), LOGITS @ X3)
        cols = self.variant(funcgrad.vmap(lambda col: col.max(), in_axes=1))
        close(cols(m), LOGITS.max(axis=0))
        scaled = self.variant(funcgrad.vmap(lambda row, s: row * s, in_axes=(0, 0), out_axes=1))
        got = scaled(m, jnp.array([2.0, -1.0]))
        assert isinstance(got, funcgrad.Tensor)
        close(got, (LOGITS * np.array([[2.0], [-1.0]])).T)

    @chex.variants(with_jit=True, without_jit=True)
    def test_jit_with_static_arguments(self):
        def power(x, n, *, scale):
            return x ** n * scale

        by_position = funcgrad.jit(power, static_argnums=1, static_argnames="scale")
        x = funcgrad.tensor(X3)
        close(self.variant(lambda x: by_position(x, 3, scale=2.0))(x), X3 ** 3 * 2)
        close(self.variant(lambda x: by_position(x, 2, scale=-1.0))(x), -(X3 ** 2))
        assert isinstance(by_position(x, 2, scale=1.0), funcgrad.Tensor)
        assert is_array_tree(by_position(jnp.asarray(X3), 2, scale=1.0))

    @chex.variants(with_jit=True, without_jit=True)
    def test_stop_gradient_in_the_functional_face(self):
        def f(x):
            return x * funcgrad.stop_gradient(x) + funcgrad.stop_gradient({"a": x ** 2})["a"]

        close(self.variant(funcgrad.grad(f))(funcgrad.tensor(3.0)), 3.0)  # not 2·3 + 2·3
        close(self.variant(funcgrad.grad(f))(jnp.float32(3.0)), 3.0)
        close(self.variant(funcgrad.grad(f))(3.0), 3.0)

    @chex.variants(with_jit=True, without_jit=True)
    def test_nested_transforms(self):
        def f(x):
            return funcgrad.sin(x ** 2)

        x = 1.3
        d1 = 2 * x * math.cos(x ** 2)
        d2 = 2 * math.cos(x ** 2) - 4 * x ** 2 * math.sin(x ** 2)
        d3 = -12 * x * math.sin(x ** 2) - 8 * x ** 3 * math.cos(x ** 2)
        t = funcgrad.tensor(x)
        close(self.variant(funcgrad.grad(funcgrad.grad(f)))(t), d2)
        close(self.variant(funcgrad.grad(funcgrad.grad(funcgrad.grad(f))))(t), d3)
        close(self.variant(funcgrad.jit(funcgrad.grad(f)))(t), d1)
        xs = funcgrad.tensor(X3)
        close(self.variant(funcgrad.vmap(funcgrad.grad(f)))(xs), 2 * X3 * np.cos(X3 ** 2))
        close(self.variant(funcgrad.grad(lambda v: funcgrad.vmap(f)(v).sum()))(xs),
              2 * X3 * np.cos(X3 ** 2))

        def g(v):
            return (v.sin() * v.sum()).sum()

        hess = self.variant(funcgrad.hessian(g))(xs)
        close(self.variant(funcgrad.jacfwd(funcgrad.jacrev(g)))(xs), hess)
        close(self.variant(funcgrad.jacrev(funcgrad.grad(g)))(xs), hess)
        close(hess, jax.hessian(lambda v: jnp.sum(jnp.sin(v) * jnp.sum(v)))(jnp.asarray(X3)))

    @chex.variants(with_jit=True, without_jit=True)
    def test_errors_surface_when_traced_too(self):
        with pytest.raises(TypeError, match=r"grad needs a function that returns a scalar"):
            self.variant(funcgrad.grad(lambda x: x ** 2))(funcgrad.tensor(X3))
        with pytest.raises(TypeError, match=r"floating-point inputs.*int32"):
            self.variant(funcgrad.grad(lambda x: x * 2.0))(3)


def test_both_variants_of_every_transform_test_exist():
    names = [n for n in dir(TransformsTest) if n.startswith("test_")]
    jitted = {n.removesuffix("_with_jit") for n in names if n.endswith("_with_jit")}
    eager = {n.removesuffix("_without_jit") for n in names if n.endswith("_without_jit")}
    assert jitted == eager and len(jitted) >= 14
    assert all(n.endswith(("_with_jit", "_without_jit")) for n in names)


# ----- stop_gradient in the stateful face -----------------------------------------------------

def test_stop_gradient_detaches_in_the_stateful_face():
    x = funcgrad.tensor(3.0, requires_grad=True)
    held = funcgrad.stop_gradient(x)
    assert repr(held) == "tensor(3.)" and not held.requires_grad and held.grad_fn is None
    y = x * held
    y.backward()
    close(x.grad, 3.0)  # only the unstopped factor carries a derivative


# ----- errors: the rule, what was seen, the fix ---------------------------------------------------

@pytest.mark.parametrize("transform", ["grad", "value_and_grad"])
def test_non_scalar_output_names_the_shape_and_the_fixes(transform):
    f = getattr(funcgrad, transform)(lambda x: x ** 2)
    with pytest.raises(TypeError) as info:
        f(funcgrad.tensor(LOGITS))
    message = str(info.value)
    assert message.startswith(f"{transform} needs a function that returns a scalar")
    assert "shape (2, 3)" in message and ".sum()" in message and "jacrev" in message


@pytest.mark.parametrize("value", [3, funcgrad.tensor([1, 2]), jnp.arange(3), {"k": 2}],
                         ids=["python_int", "int_tensor", "int_array", "int_in_pytree"])
@pytest.mark.parametrize("transform", ["grad", "jacrev", "jacfwd", "hessian"])
def test_integer_input_says_to_convert_it(transform, value):
    f = getattr(funcgrad, transform)(lambda x: jax.tree_util.tree_leaves(x)[0] * 1.0)
    with pytest.raises(TypeError) as info:
        f(value)
    message = str(info.value)
    assert message.startswith(f"{transform} requires floating-point inputs")
    assert "argument 0 has dtype int" in message and ".float()" in message
    assert "3.0 instead of 3" in message


@pytest.mark.parametrize("argnums", ["0", 1.0, [0, "a"], None])
@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "jacrev", "hessian"])
def test_bad_argnums_type_is_refused_when_wrapping(transform, argnums):
    with pytest.raises(TypeError) as info:
        getattr(funcgrad, transform)(lambda x: x, argnums=argnums)
    assert str(info.value) == (
        f"argnums must be an int or a tuple of ints, got {argnums!r}. Pass the positions of the "
        "arguments to differentiate, e.g. argnums=0 or argnums=(0, 1).")


@pytest.mark.parametrize("argnums", [1, (0, 1), -2])
@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "jacfwd"])
def test_argnums_out_of_range_says_how_many_arguments_came(transform, argnums):
    f = getattr(funcgrad, transform)(lambda x: x.sum(), argnums=argnums)
    with pytest.raises(ValueError) as info:
        f(funcgrad.tensor(X3))
    message = str(info.value)
    assert message.startswith(f"{transform}: argnums={argnums!r} asks for argument ")
    assert "called with 1 positional argument(s)" in message and "range(1)" in message


def test_has_aux_without_a_pair_says_what_came_back():
    def square(x):
        return x ** 2

    with pytest.raises(TypeError, match=r"^grad with has_aux=True needs a function that returns "
                                        r"a pair \(output, aux\), but square returned Tensor"):
        funcgrad.grad(square, has_aux=True)(funcgrad.tensor(2.0))


# ----- chex's assertions take Tensors -------------------------------------------------------------

def test_chex_assertions_accept_tensors():
    t = funcgrad.tensor(LOGITS, requires_grad=True)
    chex.assert_shape(t, (2, 3))
    chex.assert_rank(t, 2)
    chex.assert_type(t, jnp.float32)
    chex.assert_tree_all_finite({"t": t})
    chex.assert_trees_all_close({"t": t * 1.0}, {"t": funcgrad.tensor(LOGITS)})
    with pytest.raises(AssertionError, match="assert_trees_all_close"):
        chex.assert_trees_all_close(t, t + 1e-3)
    with pytest.raises(AssertionError, match="assert_shape"):
        chex.assert_shape(t, (3, 2))


# ----- torch as the reference, where it is installed ----------------------------------------------

def test_grad_of_a_torch_written_loss_matches_torch():
    torch = pytest.importorskip("torch")

    def loss(lib, w, x, labels):
        logits = lib.tanh(x @ w)
        return lib.nn.functional.cross_entropy(logits, labels) + (w ** 2).sum() * 0.01

    w0 = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    got = funcgrad.grad(lambda w: loss(funcgrad, w, funcgrad.tensor(LOGITS),
                                       funcgrad.tensor(LABELS)))(funcgrad.tensor(w0))
    w = torch.tensor(w0, requires_grad=True)
    loss(torch, w, torch.tensor(LOGITS), torch.tensor(LABELS)).backward()
    close(got, w.grad.numpy())

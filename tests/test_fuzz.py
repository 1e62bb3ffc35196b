"""Differential fuzzing of first and second derivatives.

Hypothesis builds random compositions (depth 1 to 5) of ops from the table over two inputs of
random, mutually broadcastable shapes (``()`` included), then takes

- funcgrad's stateful gradient (``backward(create_graph=True)``) and, from it, a
  Hessian-vector product (a second ``backward``);
- the same two by ``jax.grad`` and ``jax.jvp`` of the expression mirrored in ``jax.numpy``;
- the same two by torch's stateful autograd, when torch is installed;

and requires all to agree, in float64. Inputs are drawn away from kinks and domain edges: an
example where any op sees an input within a margin of one (``log`` near 0, ``maximum`` at a
tie) is rejected. A failure is shrunk by Hypothesis and reported with the expression.

CI runs a fixed, derandomized set of examples; set FUNCGRAD_FUZZ_EXAMPLES to run more.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable

import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import jax.scipy.special
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import funcgrad

EXAMPLES = int(os.environ.get("FUNCGRAD_FUZZ_EXAMPLES", "60"))
MARGIN = 0.15  # how far every op's inputs stay from its kinks and domain edges
BOUND = 1e3  # values and derivatives beyond this are rejected, not compared
RTOL, ATOL = 1e-7, 1e-9


def _always(*_args, **_static) -> bool:
    return True


def _broadcast(*shapes, **_static) -> tuple:
    return tuple(np.broadcast_shapes(*shapes))


def _no_statics(*_shapes):
    return st.just({})


@dataclasses.dataclass(frozen=True)
class Spec:
    """One fuzzed op: the call shared by torch and funcgrad, its jax.numpy mirror, the inputs it
    accepts (checked on float64 NumPy values), its output shape, and its static arguments."""

    name: str
    arity: int
    call: Callable  # (lib, *tensors, **static)
    mirror: Callable  # (*arrays, **static)
    ok: Callable = _always
    shape: Callable = _broadcast
    statics: Callable = _no_statics  # (*shapes) -> strategy of static kwargs, or None


def _away(lo=None, hi=None, zero=False):
    """Inputs above ``lo`` and below ``hi`` by the margin (and off zero, if ``zero``)."""

    def ok(x, **_):
        return bool(np.all((lo is None or x > lo + MARGIN) & (hi is None or x < hi - MARGIN)
                           & (not zero or np.abs(x) > MARGIN)))

    return ok


def _unary(name, call, mirror, ok=_always):
    return Spec(name, 1, lambda lib, a: call(a), mirror, ok)


UNARY = [
    _unary("sin", lambda a: a.sin(), jnp.sin),
    _unary("cos", lambda a: a.cos(), jnp.cos),
    _unary("tan", lambda a: a.tan(), jnp.tan, _away(-1.3, 1.3)),
    _unary("tanh", lambda a: a.tanh(), jnp.tanh),
    _unary("sigmoid", lambda a: a.sigmoid(), jax.nn.sigmoid),
    _unary("atan", lambda a: a.atan(), jnp.arctan),
    _unary("asinh", lambda a: a.asinh(), jnp.arcsinh),
    _unary("asin", lambda a: a.asin(), jnp.arcsin, _away(-1, 1)),
    _unary("acos", lambda a: a.acos(), jnp.arccos, _away(-1, 1)),
    _unary("atanh", lambda a: a.atanh(), jnp.arctanh, _away(-1, 1)),
    _unary("acosh", lambda a: a.acosh(), jnp.arccosh, _away(1)),
    _unary("sinh", lambda a: a.sinh(), jnp.sinh, _away(-4, 4)),
    _unary("cosh", lambda a: a.cosh(), jnp.cosh, _away(-4, 4)),
    _unary("erf", lambda a: a.erf(), jax.scipy.special.erf),
    _unary("exp", lambda a: a.exp(), jnp.exp, _away(hi=4)),
    _unary("expm1", lambda a: a.expm1(), jnp.expm1, _away(hi=4)),
    _unary("log", lambda a: a.log(), jnp.log, _away(0)),
    _unary("log1p", lambda a: a.log1p(), jnp.log1p, _away(-1)),
    _unary("log2", lambda a: a.log2(), jnp.log2, _away(0)),
    _unary("sqrt", lambda a: a.sqrt(), jnp.sqrt, _away(0)),
    _unary("rsqrt", lambda a: a.rsqrt(), jax.lax.rsqrt, _away(0)),
    _unary("reciprocal", lambda a: a.reciprocal(), jnp.reciprocal, _away(zero=True)),
    _unary("square", lambda a: a.square(), jnp.square),
    _unary("neg", lambda a: -a, jnp.negative),
    _unary("abs", lambda a: a.abs(), jnp.abs, _away(zero=True)),
    _unary("relu", lambda a: a.relu(), jax.nn.relu, _away(zero=True)),
    _unary("clamp(-0.5, 0.7)", lambda a: a.clamp(-0.5, 0.7), lambda a: jnp.clip(a, -0.5, 0.7),
           lambda a: bool(np.all((np.abs(a + 0.5) > MARGIN) & (np.abs(a - 0.7) > MARGIN)))),
    _unary("pow(3)", lambda a: a ** 3, lambda a: a ** 3),
    _unary("pow(0.5)", lambda a: a ** 0.5, lambda a: a ** 0.5, _away(0)),
    _unary("pow(-1.5)", lambda a: a ** -1.5, lambda a: a ** -1.5, _away(0)),
    _unary("mul(-1.7)", lambda a: a * -1.7, lambda a: a * -1.7),
    _unary("rsub(2)", lambda a: 2.0 - a, lambda a: 2.0 - a),
    _unary("rdiv(1.5)", lambda a: 1.5 / a, lambda a: 1.5 / a, _away(zero=True)),
]


def _gap(a, b, **_):
    return bool(np.all(np.abs(a - b) > MARGIN))


BINARY = [
    Spec("add", 2, lambda lib, a, b: a + b, jnp.add),
    Spec("sub", 2, lambda lib, a, b: a - b, jnp.subtract),
    Spec("mul", 2, lambda lib, a, b: a * b, jnp.multiply),
    Spec("div", 2, lambda lib, a, b: a / b, jnp.divide,
         lambda a, b: _away(zero=True)(b)),
    Spec("pow", 2, lambda lib, a, b: a ** b, jnp.power,
         lambda a, b: _away(0)(a) and bool(np.all(np.abs(b) < 3))),
    Spec("maximum", 2, lambda lib, a, b: lib.maximum(a, b), jnp.maximum, _gap),
    Spec("minimum", 2, lambda lib, a, b: lib.minimum(a, b), jnp.minimum, _gap),
    Spec("atan2", 2, lambda lib, a, b: lib.atan2(a, b), jnp.arctan2,
         lambda a, b: bool(np.all(np.hypot(a, b) > MARGIN))),
    Spec("hypot", 2, lambda lib, a, b: lib.hypot(a, b), jnp.hypot,
         lambda a, b: bool(np.all(np.hypot(a, b) > MARGIN))),
    Spec("lerp(0.3)", 2, lambda lib, a, b: lib.lerp(a, b, 0.3), lambda a, b: a + 0.3 * (b - a)),
    Spec("clamp_min", 2, lambda lib, a, b: lib.clamp_min(a, b), jnp.maximum, _gap),
    Spec("addcmul", 2, lambda lib, a, b: lib.addcmul(a, a, b, value=0.5),
         lambda a, b: a + 0.5 * a * b),
]


def _dim_statics(keepdim: bool = True, min_size: int = 1):
    """Static ``dim`` (and ``keepdim``) for an input with at least one axis of ``min_size``."""

    def statics(shape):
        dims = [d for d in range(len(shape)) if shape[d] >= min_size]
        if not dims:
            return None
        kw = {"dim": st.sampled_from(dims)}
        if keepdim:
            kw["keepdim"] = st.booleans()
        return st.fixed_dictionaries(kw)

    return statics


def _reduced(shape, dim=None, keepdim=False):
    if dim is None:
        return ()
    return tuple(1 if d == dim else n for d, n in enumerate(shape)
                 if keepdim or d != dim)


def _same_shape(shape, **_):
    return tuple(shape)


def _top_two_apart(x, dim, **_):
    top = np.sort(x, axis=dim)
    return x.shape[dim] == 1 or bool(np.all(np.diff(top, axis=dim)[-1:] > MARGIN)
                                     if dim is None else
                                     np.all(np.take(np.diff(top, axis=dim), -1, axis=dim)
                                            > MARGIN))


def _reduction(name, call, mirror, ok=_always, keepdim=True, min_size=1, shape=_reduced):
    return Spec(name, 1, call, mirror, ok, shape, _dim_statics(keepdim, min_size))


REDUCTIONS = [
    Spec("sum()", 1, lambda lib, a: a.sum(), jnp.sum, shape=lambda s: ()),
    Spec("mean()", 1, lambda lib, a: a.mean(), jnp.mean, shape=lambda s: ()),
    Spec("norm()", 1, lambda lib, a: a.norm(), jnp.linalg.norm,
         lambda a: bool(np.linalg.norm(a) > MARGIN), shape=lambda s: ()),
    _reduction("sum", lambda lib, a, dim, keepdim: a.sum(dim, keepdim=keepdim),
               lambda a, dim, keepdim: jnp.sum(a, dim, keepdims=keepdim)),
    _reduction("mean", lambda lib, a, dim, keepdim: a.mean(dim, keepdim=keepdim),
               lambda a, dim, keepdim: jnp.mean(a, dim, keepdims=keepdim)),
    _reduction("prod", lambda lib, a, dim, keepdim: a.prod(dim, keepdim=keepdim),
               lambda a, dim, keepdim: jnp.prod(a, dim, keepdims=keepdim),
               _away(zero=True)),
    _reduction("amax", lambda lib, a, dim, keepdim: a.amax(dim, keepdim=keepdim),
               lambda a, dim, keepdim: jnp.max(a, dim, keepdims=keepdim), _top_two_apart),
    _reduction("logsumexp", lambda lib, a, dim, keepdim: a.logsumexp(dim, keepdim=keepdim),
               lambda a, dim, keepdim: jax.scipy.special.logsumexp(a, dim, keepdims=keepdim)),
    _reduction("norm", lambda lib, a, dim, keepdim: a.norm(dim=dim, keepdim=keepdim),
               lambda a, dim, keepdim: jnp.linalg.norm(a, axis=dim, keepdims=keepdim),
               lambda a, dim, keepdim: bool(np.all(np.linalg.norm(a, axis=dim) > MARGIN))),
    _reduction("var", lambda lib, a, dim, keepdim: a.var(dim, keepdim=keepdim),
               lambda a, dim, keepdim: jnp.var(a, dim, ddof=1, keepdims=keepdim),
               min_size=2),
    _reduction("std", lambda lib, a, dim, keepdim: a.std(dim, keepdim=keepdim),
               lambda a, dim, keepdim: jnp.std(a, dim, ddof=1, keepdims=keepdim),
               lambda a, dim, keepdim: bool(np.all(np.std(a, dim, ddof=1) > MARGIN)),
               min_size=2),
    _reduction("softmax", lambda lib, a, dim: a.softmax(dim),
               lambda a, dim: jax.nn.softmax(a, axis=dim), keepdim=False, shape=_same_shape),
    _reduction("log_softmax", lambda lib, a, dim: a.log_softmax(dim),
               lambda a, dim: jax.nn.log_softmax(a, axis=dim), keepdim=False,
               shape=_same_shape),
    _reduction("cumsum", lambda lib, a, dim: a.cumsum(dim),
               lambda a, dim: jnp.cumsum(a, dim), keepdim=False, shape=_same_shape),
    _reduction("cumprod", lambda lib, a, dim: a.cumprod(dim),
               lambda a, dim: jnp.cumprod(a, dim), _away(zero=True), keepdim=False,
               shape=_same_shape),
]


def _needs_ndim(n: int, statics=None):
    return lambda shape: (statics or _no_statics)(shape) if len(shape) >= n else None


def _flip(shape):
    return tuple(reversed(shape))


SHAPE_OPS = [
    Spec("reshape(-1)", 1, lambda lib, a: a.reshape(-1), lambda a: a.reshape(-1),
         shape=lambda s: (math.prod(s),)),
    Spec("unsqueeze(0)", 1, lambda lib, a: a.unsqueeze(0), lambda a: a[None],
         shape=lambda s: (1, *s)),
    Spec("transpose(0, 1)", 1, lambda lib, a: a.transpose(0, 1), lambda a: jnp.swapaxes(a, 0, 1),
         shape=lambda s: (s[1], s[0], *s[2:]), statics=_needs_ndim(2)),
    Spec("permute(reversed)", 1, lambda lib, a: a.permute(*reversed(range(a.ndim))),
         lambda a: jnp.transpose(a), shape=_flip, statics=_needs_ndim(1)),
    Spec("flip(0)", 1, lambda lib, a: a.flip(0), lambda a: jnp.flip(a, 0),
         shape=_same_shape, statics=_needs_ndim(1)),
    Spec("[0]", 1, lambda lib, a: a[0], lambda a: a[0], shape=lambda s: s[1:],
         statics=_needs_ndim(1)),
    Spec("[-1:]", 1, lambda lib, a: a[-1:], lambda a: a[-1:], shape=lambda s: (1, *s[1:]),
         statics=_needs_ndim(1)),
    Spec("matmul(self, self.T)", 1, lambda lib, a: a @ a.t(), lambda a: a @ a.T,
         shape=lambda s: (s[0], s[0]),
         statics=lambda s: _no_statics(s) if len(s) == 2 else None),
]

ONE_INPUT = UNARY + REDUCTIONS + SHAPE_OPS


# ----- expressions -----------------------------------------------------------------------------
class Expr:
    """A leaf (``spec`` None: input ``name``) or an op applied to ``args``."""

    def __init__(self, shape: tuple, name: str = "", spec: Spec | None = None,
                 args: tuple = (), static: tuple = ()) -> None:
        self.shape, self.name, self.spec, self.args, self.static = shape, name, spec, args, static

    def __str__(self) -> str:
        if self.spec is None:
            return self.name
        inner = [str(a) for a in self.args] + [f"{k}={v}" for k, v in self.static]
        return f"{self.spec.name}({', '.join(inner)})"

    __repr__ = __str__  # how Hypothesis reports a failing example

    def evaluate(self, leaf: Callable, apply: Callable, on_op: Callable = lambda *a: None):
        """Evaluates bottom-up: ``leaf(name)`` for inputs, ``apply(spec, *values, **static)``
        for ops; ``on_op(spec, values, static)`` sees each op's inputs first."""
        if self.spec is None:
            return leaf(self.name)
        values = [a.evaluate(leaf, apply, on_op) for a in self.args]
        on_op(self.spec, values, dict(self.static))
        return apply(self.spec, *values, **dict(self.static))


def _op(draw, spec: Spec, *args: Expr) -> Expr | None:
    statics = spec.statics(*(a.shape for a in args))
    if statics is None:
        return None
    static = draw(statics)
    return Expr(spec.shape(*(a.shape for a in args), **static), spec=spec, args=args,
                static=tuple(sorted(static.items())))


def _total(e: Expr) -> Expr:
    return Expr((), spec=REDUCTIONS[0], args=(e,))


@st.composite
def expressions(draw, leaves: tuple[Expr, ...], depth: int, root: bool = False) -> Expr:
    # A leaf one time in four below the root; 0 is where integers shrink to, so a failing
    # example shrinks towards the bare inputs.
    if depth == 0 or not (root or draw(st.integers(0, 3))):
        return draw(st.sampled_from(leaves))
    child = expressions(leaves, depth - 1)
    if draw(st.booleans()):
        left, right = draw(child), draw(child)
        try:
            np.broadcast_shapes(left.shape, right.shape)
        except ValueError:
            right = _total(right)  # a scalar broadcasts with anything
        return _op(draw, draw(st.sampled_from(BINARY)), left, right)
    arg = draw(child)
    candidates = [s for s in ONE_INPUT if s.statics(arg.shape) is not None]
    return _op(draw, draw(st.sampled_from(candidates)), arg)


@st.composite
def examples(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2,
                                                    max_side=3)).input_shapes
    leaves = (Expr(shapes[0], "x"), Expr(shapes[1], "y"))
    expr = draw(expressions(leaves, draw(st.integers(1, 5)), root=True))
    seed = draw(st.integers(0, 2 ** 16))
    return expr, dict(zip("xy", shapes)), seed


# ----- the three computations ------------------------------------------------------------------
def _draw_values(shapes: dict, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(0.3, 1.5, s) * rng.choice([-1.0, 1.0], s) for k, s in shapes.items()}


def _weights(shape: tuple, lo: float, hi: float) -> np.ndarray:
    return np.linspace(lo, hi, math.prod(shape)).reshape(shape)


def _mirror(spec: Spec, *args, **static):
    return spec.mirror(*args, **static)


def _in_domain(expr: Expr, values: dict) -> bool:
    """Every op's inputs inside its domain, away from its kinks; every value bounded. (Op by
    op: each jnp op compiles once per shape, so this is cheap once warm, and rejects an example
    before its reference is compiled.)"""
    ok = True

    def check(spec, args, static):
        nonlocal ok
        args = [np.asarray(a) for a in args]
        ok = ok and spec.ok(*args, **static) and all(np.all(np.abs(a) < BOUND) for a in args)

    out = expr.evaluate(lambda k: jnp.asarray(values[k]), _mirror, check)
    return ok and bool(np.all(np.abs(np.asarray(out)) < BOUND))


def _jax_reference(expr: Expr, values: dict, w, v: dict) -> tuple[list, list]:
    """The first derivatives and the Hessian-vector product, by jax.grad and jax.jvp of the
    expression in jax.numpy (one jitted program: one compile)."""
    names = sorted(values)

    def loss(*arrays):
        env = dict(zip(names, arrays))
        return jnp.sum(expr.evaluate(env.__getitem__, _mirror) * w)

    grad = jax.jit(lambda p, t: jax.jvp(jax.grad(loss, argnums=(0, 1)), p, t))
    first, second = grad(tuple(jnp.asarray(values[k]) for k in names),
                         tuple(jnp.asarray(v[k]) for k in names))
    return [np.asarray(g) for g in first], [np.asarray(h) for h in second]


def _stateful(lib, expr: Expr, values: dict, w, v: dict) -> tuple[list, list]:
    """First derivatives by backward(create_graph=True), then a Hessian-vector product by a
    second backward of <grad, v>, with torch's or funcgrad's stateful API."""
    names = sorted(values)
    dtype = lib.float64
    leaves = {k: lib.tensor(values[k], dtype=dtype, requires_grad=True) for k in names}
    out = expr.evaluate(leaves.__getitem__, lambda s, *a, **k: s.call(lib, *a, **k))
    (out * lib.tensor(w, dtype=dtype)).sum().backward(create_graph=True)
    first = [leaves[k].grad for k in names]
    for t in leaves.values():
        t.grad = None
    products = [(g * lib.tensor(v[k], dtype=dtype)).sum()
                for g, k in zip(first, names) if g is not None and g.requires_grad]
    if products:
        sum(products[1:], products[0]).backward()
    second = [leaves[k].grad for k in names]
    return _numpy(first, values), _numpy(second, values)


def _numpy(grads: list, values: dict) -> list:
    """As float64 arrays; a missing gradient (None) is zero, as JAX reports it. (clone: torch
    may hand back a zero tensor without storage, which tolist refuses.)"""
    return [np.zeros(np.shape(values[k])) if g is None
            else np.asarray(g.detach().clone().tolist())
            for g, k in zip(grads, sorted(values))]


def _torch():
    try:
        import torch
    except ImportError:  # the JAX reference still runs
        return None
    return torch


def _compare(got: tuple, expected: tuple, what: str, report: str) -> None:
    for order, g_all, e_all in zip(("first", "second"), got, expected):
        for name, g, e in zip("xy", g_all, e_all):
            np.testing.assert_allclose(
                g, e, rtol=RTOL, atol=ATOL * max(1.0, float(np.max(np.abs(e), initial=0))),
                err_msg=f"{order} derivative with respect to {name}, funcgrad vs {what}\n{report}")


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
@given(examples())
def test_first_and_second_derivatives_match_jax_and_torch(example):
    expr, shapes, seed = example
    values = _draw_values(shapes, seed)
    w = _weights(expr.shape, 0.5, 1.5)
    v = {k: _weights(s, -1.0, 1.0) for k, s in shapes.items()}
    with jax.enable_x64(True):
        assume(_in_domain(expr, values))
        expected = _jax_reference(expr, values, w, v)
        assume(all(np.all(np.abs(g) < BOUND) for part in expected for g in part))
        got = _stateful(funcgrad, expr, values, w, v)
    report = f"expression: {expr}\nshapes: {shapes}\nvalues: {values}"
    _compare(got, expected, "jax.grad / jax.jvp", report)
    torch = _torch()
    if torch is not None:
        _compare(got, _stateful(torch, expr, values, w, v), "torch", report)

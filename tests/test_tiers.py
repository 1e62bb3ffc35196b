"""The engine's tiers change no result: the compiled whole-graph backward against the
interpreted engine (the reference), plus compile counts and cache bounds."""

import numpy as np
import pytest

import funcgrad
import funcgrad.nn.functional as F
from funcgrad import _tiers


@pytest.fixture
def fresh_caches():
    funcgrad.debug.clear_caches()
    saved = (funcgrad.config.compiled_backward, funcgrad.config.cache_size,
             funcgrad.config.compile_after, funcgrad.config.recompile_warn_after,
             funcgrad.config.rule_cache_size)
    yield
    (funcgrad.config.compiled_backward, funcgrad.config.cache_size,
     funcgrad.config.compile_after, funcgrad.config.recompile_warn_after,
     funcgrad.config.rule_cache_size) = saved
    funcgrad.debug.clear_caches()


def _train(compiled: bool, steps: int = 6):
    funcgrad.config.compiled_backward = compiled
    funcgrad.manual_seed(0)
    x = funcgrad.randn(32, 8)
    y = funcgrad.randint(0, 3, (32,))
    w1 = funcgrad.randn(8, 16, requires_grad=True)
    w2 = funcgrad.randn(16, 3, requires_grad=True)
    losses = []
    for step in range(steps):
        h = funcgrad.tanh(x @ w1)
        loss = F.cross_entropy(h @ w2, y) + 0.01 * (w1 ** 2).sum() + (h * h).mean()
        loss.backward()
        with funcgrad.no_grad():
            lr = 0.1 / (step + 1)  # a changing Python float
            w1.sub_(lr * w1.grad)
            w2.sub_(lr * w2.grad)
        w1.grad.zero_()
        w2.grad.zero_()
        losses.append(loss.item())
    return np.array(losses), w1.detach().numpy(), w2.detach().numpy()


def test_compiled_backward_matches_the_interpreted_engine(fresh_caches):
    reference = _train(compiled=False)
    tiered = _train(compiled=True)
    for a, b in zip(tiered, reference):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    info = funcgrad.debug.cache_info()["backward"]
    assert info["compiles"] == 1  # one structure, compiled once, on its second sighting
    assert info["interpreted"] == 1
    assert info["hits"] == 4


def test_changing_python_floats_do_not_compile_again(fresh_caches):
    w = funcgrad.tensor([1.0, 2.0], requires_grad=True)
    for scale in (0.5, 1.5, 2.5, 3.5):
        (w * scale).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [8.0, 8.0])
    assert funcgrad.debug.cache_info()["backward"]["compiles"] == 1


def test_autograd_grad_of_non_leaves_and_several_roots(fresh_caches):
    def grads(compiled):
        funcgrad.config.compiled_backward = compiled
        out = []
        for _ in range(3):
            x = funcgrad.tensor([0.5, -1.0, 2.0], requires_grad=True)
            h = x.sin() * x
            y1, y2 = (h ** 2).sum(), h.exp().mean()
            out.append(funcgrad.autograd.grad([y1, y2], [h, x]))
        return out

    for got, want in zip(grads(True), grads(False)):
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6)


def _derivatives(lib, a, x0, v):
    """First, second (Hessian- and Jacobian-vector products) and third derivatives by repeated
    ``create_graph`` backwards, through ``autograd.grad`` and through ``.grad``."""
    x = lib.tensor(x0, requires_grad=True)
    a, v = lib.tensor(a), lib.tensor(v)
    f = (lib.tanh(a @ x) ** 2).sum() + (x * x).sum()
    (g,) = lib.autograd.grad(f, x, create_graph=True)
    (hv,) = lib.autograd.grad((g * v).sum(), x, create_graph=True)
    (third,) = lib.autograd.grad((hv ** 2).sum(), x)
    (lib.tanh(a @ x) ** 2).sum().backward(create_graph=True)
    (hv2,) = lib.autograd.grad((x.grad * v).sum(), x)
    h = a @ x
    (gh,) = lib.autograd.grad(h.sin().sum(), h, create_graph=True)
    # A Jacobian-vector product by the double-VJP trick: the gradient flows to the given one.
    u = lib.zeros(6, requires_grad=True)
    (gu,) = lib.autograd.grad(lib.sin(a @ x), x, u, create_graph=True)
    (jv,) = lib.autograd.grad(gu, u, v)
    return [g, hv, gh, third, hv2, jv]


# torch warns of a reference cycle that Python's garbage collector frees (see test_autograd).
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_a_recurring_create_graph_backward_runs_compiled_with_torchs_derivatives(
        fresh_caches):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, v = rng.standard_normal((6, 6), dtype=np.float32), rng.standard_normal(6, np.float32)
    names, hits = [], []
    for _ in range(6):
        x0 = rng.standard_normal(6, np.float32)
        ours = _derivatives(funcgrad, a, x0, v)
        for got, want in zip(ours, _derivatives(torch, a, x0, v)):
            np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=2e-5,
                                       atol=2e-5)
        # Named as the interpreted engine names them (sums of several VJPs; one VJP), before and
        # after their structures compile.
        names.append([t.grad_fn.name() for t in ours[:3]])
        hits.append(funcgrad.debug.cache_info()["backward"]["hits"])
    assert names == [["AddBackward0", "AddBackward0", "SinBackward0Backward"]] * 6
    # Once every structure has compiled, each of the eight backwards of a step is a cache hit,
    # the five create_graph ones included, and nothing compiles again.
    assert np.diff(hits)[-2:].tolist() == [8, 8]
    compiles = funcgrad.debug.cache_info()["backward"]["compiles"]
    _derivatives(funcgrad, a, x0, v)
    assert funcgrad.debug.cache_info()["backward"]["compiles"] == compiles


def test_a_create_graph_backward_from_a_target_stays_interpreted(fresh_caches):
    # The gradient of y with respect to y itself is the given one: nothing to record.
    for _ in range(4):
        y = funcgrad.tensor([1.0, 2.0], requires_grad=True) * 3
        (g,) = funcgrad.autograd.grad([y, y.sum()], y, [funcgrad.ones(2), None],
                                      create_graph=True)
        np.testing.assert_array_equal(g.detach().numpy(), [2.0, 2.0])


def test_a_freed_graph_still_raises_and_leaves_grads_alone(fresh_caches):
    for _ in range(3):
        x = funcgrad.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward()
    before = x.grad.numpy().copy()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), before)


def test_hooks_keep_the_interpreted_path_and_its_results(fresh_caches):
    seen = []
    for _ in range(3):
        x = funcgrad.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        h.register_hook(lambda g: seen.append(g.tolist()) or g * 2)
        (h ** 2).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [36.0, 72.0])
    assert seen == [[6.0, 12.0]] * 3
    assert funcgrad.debug.cache_info()["backward"]["compiles"] == 0


def test_the_structure_cache_is_bounded(fresh_caches):
    funcgrad.config.cache_size = 3
    for n in range(1, 9):
        for _ in range(2):
            x = funcgrad.ones(n, requires_grad=True)
            (x * x).sum().backward()
    assert funcgrad.debug.cache_info()["backward"]["size"] <= 3
    assert funcgrad.debug.cache_info()["backward"]["compiles"] == 8


def test_the_per_op_rule_cache_is_bounded_and_keeps_results(fresh_caches):
    funcgrad.config.compiled_backward = False  # every backward asks for each node's rule
    funcgrad.config.rule_cache_size = 3
    ops = (funcgrad.sin, funcgrad.cos, funcgrad.tanh, funcgrad.exp, funcgrad.sigmoid)
    slopes = (np.cos, lambda v: -np.sin(v), lambda v: 1 - np.tanh(v) ** 2, np.exp,
              lambda v: np.exp(-v) / (1 + np.exp(-v)) ** 2)
    for _ in range(2):
        for op, slope in zip(ops, slopes):
            x = funcgrad.tensor([0.3, -1.2], requires_grad=True)
            op(x).sum().backward()
            np.testing.assert_allclose(x.grad.numpy(), slope(np.array([0.3, -1.2])),
                                       rtol=1e-6)
    info = funcgrad.debug.cache_info()["rules"]
    assert info["size"] <= 3 and info["misses"] > len(ops) + 1  # (+ sum): evicted ones again


def test_a_structure_used_every_step_outlives_one_offs(fresh_caches):
    """Least recently used goes first: a training step's graph, met again between graphs seen
    once, stays compiled however many of those come and go."""
    funcgrad.config.cache_size = 3

    def train_step():
        x = funcgrad.ones(4, requires_grad=True)
        (x * x).sum().backward()

    for n in range(5, 12):
        train_step()
        train_step()
        x = funcgrad.ones(n, requires_grad=True)
        for _ in range(2):  # a one-off graph, compiled at its second sighting
            (x * x).sum().backward()
    info = funcgrad.debug.cache_info()["backward"]
    assert info["compiles"] == 1 + 7 and info["size"] <= 3


def test_a_key_that_does_not_hash_misses_as_before():
    """The cache answers a repeat of its last key by comparing; a key holding a NumPy array
    (whose == is elementwise) must still fail as an unhashable key, not as a comparison."""
    cache = _tiers._LRU()
    cache.put((1, (2, 3)), "program", limit=4)
    assert cache.get_or_none((1, (2, 3))) == "program"
    with pytest.raises(TypeError, match="unhashable"):
        cache.get_or_none((1, np.arange(2)))


def _backward_reasons() -> list[str]:
    """The backward tier's recompile reasons (the lazy tier gives its own)."""
    return [r for r in funcgrad.debug.explain_recompiles() if r.startswith("backward at")]


def _square_sum_grads(sizes):
    """``d/dx sum(x * x)`` at ones of each size, twice each (the second sighting compiles),
    all from one line of code."""
    grads = []
    for n in sizes:
        for _ in range(2):
            x = funcgrad.ones(n, requires_grad=True)
            (x * x).sum().backward()
        grads.append(x.grad.numpy())
    return grads


def test_explain_recompiles_names_the_op_and_the_shapes_that_changed(fresh_caches):
    for n, grad in zip((2, 3), _square_sum_grads((2, 3))):
        np.testing.assert_array_equal(grad, np.full(n, 2.0))  # closed form: 2x
    reasons = _backward_reasons()
    assert len(reasons) == 1  # the first structure at a line is no recompile
    assert reasons[0].startswith(f"backward at {__file__}:")
    assert "(sum): input shapes and dtypes (float32[3]), was (float32[2])" in reasons[0]
    funcgrad.debug.clear_caches()
    assert funcgrad.debug.explain_recompiles() == []


def test_explain_recompiles_names_a_changed_op(fresh_caches):
    derivative = {funcgrad.sin: np.cos, funcgrad.cos: lambda x: -np.sin(x)}
    for op in (funcgrad.sin, funcgrad.cos, funcgrad.cos):
        for _ in range(2):
            x = funcgrad.tensor([0.5, 1.0], requires_grad=True)
            op(x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), derivative[op](x.detach().numpy()),
                                   rtol=1e-6)
    [reason] = _backward_reasons()
    assert "(cos): op cos, was sin" in reason


def test_one_line_compiling_too_often_warns_once_with_the_reason(fresh_caches):
    funcgrad.config.recompile_warn_after = 2
    with pytest.warns(funcgrad.RecompileWarning) as caught:
        grads = _square_sum_grads(range(1, 6))
    for n, grad in zip(range(1, 6), grads):
        np.testing.assert_array_equal(grad, np.full(n, 2.0))
    [warning] = [w for w in caught if issubclass(w.category, funcgrad.RecompileWarning)
                 and "for the backward at" in str(w.message)]
    assert "compiled 3 different structures for the backward at" in str(warning.message)
    assert "input shapes and dtypes (float32[3]), was (float32[2])" in str(warning.message)
    assert len(_backward_reasons()) == 4

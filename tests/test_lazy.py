"""The lazy tier changes no result: training, higher-order gradients, hooks, errors and warnings
with laziness on against laziness off (and against torch where it is installed), plus compile
counts, cache bounds, the bound on pending work, and values read inside JAX transforms."""

import gc
import warnings
import weakref

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import funcgrad
from funcgrad import _graph, _lazy

SETTINGS = ("lazy", "cache_size", "compile_after", "max_pending", "shape_cache_size")


@pytest.fixture
def fresh():
    funcgrad.debug.clear_caches()
    saved = [getattr(funcgrad.config, name) for name in SETTINGS]
    yield
    for name, value in zip(SETTINGS, saved):
        setattr(funcgrad.config, name, value)
    funcgrad.debug.clear_caches()


def _pending(t) -> bool:
    """Whether the tensor's value is still to be computed."""
    array = t._storage.array
    return isinstance(array, _lazy.Pending) and array.value is None


def _train(lib, steps: int = 6):
    """An MLP trained torch-style, with a learning rate that changes every step."""
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((32, 8), dtype=np.float32))
    y = lib.tensor(rng.integers(0, 3, 32))
    w1 = lib.tensor(rng.standard_normal((8, 16), dtype=np.float32), requires_grad=True)
    w2 = lib.tensor(rng.standard_normal((16, 3), dtype=np.float32), requires_grad=True)
    losses = []
    for step in range(steps):
        h = lib.tanh(x @ w1)
        loss = lib.nn.functional.cross_entropy(h @ w2, y) + 0.01 * (w1 ** 2).sum()
        loss.backward()
        with lib.no_grad():
            lr = 0.1 / (step + 1)
            w1 -= lr * w1.grad
            w2.sub_(lr * w2.grad)
        w1.grad.zero_()
        w2.grad.zero_()
        losses.append(loss.item())
    return [np.array(losses), w1.detach().numpy(), w2.detach().numpy()]


def _per_batch(lib, steps: int, batch: int | None):
    """SGD over a data matrix, reading row ``x[i]`` (batch None) or rows
    ``x[i * batch:(i + 1) * batch]`` at step i; the losses and the weights."""
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((steps * (batch or 1), 4), dtype=np.float32))
    y = lib.tensor(rng.standard_normal(steps * (batch or 1), dtype=np.float32))
    w = lib.zeros(4, requires_grad=True)
    losses = []
    for i in range(steps):
        rows = i if batch is None else slice(i * batch, (i + 1) * batch)
        loss = ((x[rows] * w).sum(-1) - y[rows]).pow(2).mean()
        loss.backward()
        with lib.no_grad():
            w -= 0.1 * w.grad
        w.grad.zero_()
        losses.append(loss.item())
    return [np.array(losses), w.detach().numpy()]


@pytest.mark.parametrize("batch", [None, 3])
def test_a_loop_over_rows_compiles_once_whatever_the_index(fresh, batch):
    # Ints and slice starts are operands, not static arguments: static ones made each step
    # a new structure, compiled once per row or batch.
    ours = _per_batch(funcgrad, 12, batch)
    info = funcgrad.debug.cache_info()
    assert info["lazy"]["compiles"] == 1 and info["lazy"]["hits"] >= 8
    torch = pytest.importorskip("torch")
    for a, b in zip(ours, _per_batch(torch, 12, batch)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _int_schedule(lib, steps: int):
    """Training whose arithmetic reads the step's Python int (``x * i``, ``i - x``, ``x / i``,
    ``x % i``), and the integer tensors it makes from it; the losses, weights and ints."""
    w = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
    counts = lib.tensor([5, 250, 7], dtype=lib.uint8)
    losses, ints = [], []
    for i in range(1, steps + 1):
        loss = ((w * i - i / (w + 4)) ** 2 + (i - w) % 3).mean()
        loss.backward()
        with lib.no_grad():
            w -= 0.01 * w.grad
        w.grad.zero_()
        ints.append((counts + 40 * i - i).tolist())
        losses.append(loss.item())
    return [np.array(losses), w.detach().numpy(), np.array(ints)]


def test_a_python_int_that_changes_every_step_compiles_once(fresh):
    # The ints of arithmetic are operands, as floats are: static, each step was a structure
    # never seen, run op by op for good. Results stay torch's, wrapping uint8 included.
    ours = _int_schedule(funcgrad, 12)
    info = funcgrad.debug.cache_info()
    # One structure a step, compiled once: the training step and the integer ops that tolist
    # reads (which record no gradient, so they run with the step rather than after it).
    assert info["lazy"]["compiles"] == 1 and info["lazy"]["hits"] >= 7
    assert info["backward"]["compiles"] == 1
    torch = pytest.importorskip("torch")
    for a, b in zip(ours, _int_schedule(torch, 12)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_an_int_operand_keeps_an_int_type_and_a_float_one_a_float_type(fresh):
    # 1 == 1.0 (and hashes alike): their cached arrays must not be taken for one another.
    x = funcgrad.tensor([3, 4])
    assert (x * 1).dtype == x.dtype and (x * 1).tolist() == [3, 4]
    assert (x * 1.0).dtype == funcgrad.float32
    assert (x + 0).dtype == x.dtype and (x + 0.0).dtype == funcgrad.float32


def test_training_matches_eager_and_torch_and_compiles_once(fresh):
    with jax.default_matmul_precision("float32"):  # a GPU's default rounds matmuls to TF32
        funcgrad.config.lazy = False
        eager = _train(funcgrad)
        funcgrad.config.lazy = True
        lazy = _train(funcgrad)
    for a, b in zip(lazy, eager):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # Step 1 (nothing pending before it) and step 2 (the first with a previous update) are
    # run op by op; step 3 compiles the recurring structure; steps 4-6 reuse it.
    info = funcgrad.debug.cache_info()["lazy"]
    assert info["compiles"] == 1
    assert info["hits"] == 3
    torch = pytest.importorskip("torch")
    for a, b in zip(lazy, _train(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_metadata_does_not_compute_and_reading_does(fresh):
    x = funcgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * 2).sin()
    assert _pending(y)
    assert (y.shape, y.dtype, y.device, y.ndim, y.numel()) == (
        funcgrad.Size([3]), funcgrad.float32, x.device, 1, 3)
    assert y.grad_fn.name() == "SinBackward0" and y.requires_grad and not y.is_leaf
    assert _pending(y)
    assert repr(y).startswith("tensor([ 0.9093, -0.7568, -0.2794]")
    assert not _pending(y)


def test_a_training_step_runs_as_one_program_without_its_gradients(fresh):
    # A backward leaves its work pending; the next forward runs it with the updates and zero_
    # that came after it, as one program per step even when nothing is read. Its outputs are
    # the loss and the parameters: the gradient sums, overwritten by zero_, are not written.
    w = funcgrad.tensor([0.5, -1.0], requires_grad=True)
    losses = []
    for _ in range(6):
        loss = (w.sigmoid() * w).sum()
        losses.append(loss)
        loss.backward()
        assert _pending(loss) and _pending(w.grad)
        with funcgrad.no_grad():
            w -= 0.1 * w.grad
        w.grad.zero_()
        assert _pending(w)  # the update waits for a reader, or the next forward
    info = funcgrad.debug.cache_info()["lazy"]
    assert info["compiles"] == 1 and info["hits"] == 2  # steps 4 and 5 (6 is still pending)
    before = dict(info)
    loss.item()
    after = funcgrad.debug.cache_info()["lazy"]
    assert sum(after[k] - before[k] for k in ("hits", "compiles", "interpreted")) == 1
    assert not (_pending(w) or _pending(loss))
    (_, outputs), _ = _lazy._programs._last  # (structure, outputs), program
    assert len(outputs) == 2  # the loss and w, not w.grad's sum
    # Each step's loss is torch's.
    torch = pytest.importorskip("torch")
    ref = torch.tensor([0.5, -1.0], requires_grad=True)
    for ours in losses:
        theirs = (ref.sigmoid() * ref).sum()
        theirs.backward()
        with torch.no_grad():
            ref -= 0.1 * ref.grad
        ref.grad.zero_()
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-6)
    np.testing.assert_allclose(w.detach().numpy(), ref.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("lazy", [True, False])
def test_shape_errors_come_at_the_op(fresh, lazy):
    funcgrad.config.lazy = lazy
    a, b = funcgrad.ones(2, 3), funcgrad.ones(4)
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of "
                                           r"tensor b \(4\) at non-singleton dimension 1"):
        a + b
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 "
                                           r"and 2x3\)"):
        a @ funcgrad.ones(2, 3)


def test_errors_and_their_messages_are_the_same_either_way(fresh):
    def failures():
        messages = []
        x = funcgrad.tensor([1.0, 2.0], requires_grad=True)
        a = x * 1
        b = a * a
        a.add_(1)  # what b's node saved changes in place
        with pytest.raises(RuntimeError) as e:
            b.sum().backward()
        messages.append(str(e.value))
        z = (x * x).sum()
        z.backward()
        with pytest.raises(RuntimeError) as e:
            z.backward()
        messages.append(str(e.value))
        with pytest.raises(RuntimeError) as e:
            funcgrad.ones(2, 2).view(3)
        messages.append(str(e.value))
        return messages

    funcgrad.config.lazy = False
    eager = failures()
    funcgrad.config.lazy = True
    assert failures() == eager


def test_an_op_whose_abstract_evaluation_warns_runs_eagerly_and_warns_each_time(fresh):
    def noisy(x):
        warnings.warn("noisy op", UserWarning, stacklevel=2)
        return x + 1

    op = _graph.Op("noisy", noisy, "NoisyBackward0")
    x = funcgrad.tensor([1.0, 2.0])
    for _ in range(3):
        with pytest.warns(UserWarning, match="noisy op"):
            y = _graph.apply(op, x)
        assert not _pending(y)
        np.testing.assert_allclose(y.numpy(), [2.0, 3.0])


def test_higher_order_hooks_and_retained_grads_match_eager(fresh):
    def run():
        out = []
        for _ in range(3):
            x = funcgrad.tensor([0.3, -0.7, 1.1], requires_grad=True)
            h = x.tanh() * x
            h.retain_grad()
            h.register_hook(lambda g: g * 2)
            (g,) = funcgrad.autograd.grad((h ** 2).sum(), x, create_graph=True)
            (hv,) = funcgrad.autograd.grad((g * g).sum(), x, retain_graph=True)
            y = (h.exp() * x).sum()
            y.backward()
            out += [g.detach().numpy(), hv.numpy(), x.grad.numpy(), h.grad.numpy()]
        return out

    funcgrad.config.lazy = False
    eager = run()
    funcgrad.config.lazy = True
    for a, b in zip(run(), eager):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_hessian_vector_product_matches_jax(fresh):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 6), dtype=np.float32)
    x0, v = rng.standard_normal(6, dtype=np.float32), rng.standard_normal(6, dtype=np.float32)
    f = lambda x: (jnp.tanh(a @ x) ** 2).sum()  # noqa: E731
    want = jax.jvp(jax.grad(f), (x0,), (v,))[1]
    for _ in range(3):
        x = funcgrad.tensor(x0, requires_grad=True)
        (g,) = funcgrad.autograd.grad((funcgrad.tensor(a) @ x).tanh().pow(2).sum(), x,
                                      create_graph=True)
        (hv,) = funcgrad.autograd.grad((g * funcgrad.tensor(v)).sum(), x)
        np.testing.assert_allclose(hv.numpy(), want, rtol=1e-5, atol=1e-5)


def test_grad_ends_a_step_as_backward_does(fresh):
    """``autograd.grad`` ends a step as ``backward`` does: a loop of Hessian-vector products
    runs one program per step (when the next step's forward starts), rather than keeping every
    step pending until a read."""
    rng = np.random.default_rng(2)
    a, x0, v = (rng.standard_normal(s, dtype=np.float32) for s in ((5, 5), 5, 5))
    want = jax.jvp(jax.grad(lambda x: (jnp.tanh(a @ x) ** 2).sum()), (x0,), (v,))[1]
    x = funcgrad.tensor(x0, requires_grad=True)
    for step in range(4):
        before = funcgrad.debug.cache_info()["lazy"]
        (g,) = funcgrad.autograd.grad((funcgrad.tensor(a) @ x).tanh().pow(2).sum(), x,
                                      create_graph=True)
        assert _pending(g)  # a gradient to differentiate again is not a step's end
        (hv,) = funcgrad.autograd.grad((g * funcgrad.tensor(v)).sum(), x)
        assert _pending(hv)
        after = funcgrad.debug.cache_info()["lazy"]
        # the previous step's program, run by this step's first op
        assert sum(after[k] - before[k] for k in ("hits", "compiles", "interpreted")) == (
            step > 0)
    np.testing.assert_allclose(hv.numpy(), want, rtol=1e-5, atol=1e-5)
    assert not _lazy._trace.pendings


def test_pending_work_is_bounded(fresh):
    funcgrad.config.max_pending = 50
    x = funcgrad.ones(4)
    longest = 0
    with funcgrad.no_grad():
        for _ in range(1000):
            x = x * 1.001 + 0.0
            longest = max(longest, len(_lazy._trace.pendings))
    assert longest < 50
    np.testing.assert_allclose(x.numpy(), np.full(4, 1.001 ** 1000, np.float32), rtol=1e-4)
    # The chunks recur: a handful of programs, not one per chunk.
    assert funcgrad.debug.cache_info()["lazy"]["compiles"] <= 3


def test_caches_are_bounded(fresh):
    funcgrad.config.cache_size = 2
    funcgrad.config.shape_cache_size = 3
    for n in range(1, 7):
        for _ in range(2):  # the second sighting compiles
            (funcgrad.ones(n) * 2.0).sum().item()
    info = funcgrad.debug.cache_info()["lazy"]
    assert info["compiles"] == 6
    assert info["size"] <= 2 and info["shapes"] <= 3


def test_values_read_inside_transforms_are_concrete(fresh):
    w = funcgrad.tensor([1.0, 2.0])
    y = w * 3  # pending
    out = jax.jit(lambda a: a * y)(jnp.ones(2))  # y is read inside the trace
    np.testing.assert_allclose(out, [3.0, 6.0])
    assert not isinstance(y._read(), jax.core.Tracer)
    grad = funcgrad.grad(lambda x: (x * w * 2).sum())(funcgrad.tensor([5.0, 6.0]))
    np.testing.assert_allclose(grad.numpy(), [2.0, 4.0])
    assert not _pending(grad)


def test_values_a_flush_left_behind_are_recomputed(fresh, monkeypatch):
    # If reference counts ever took every value for unreferenced, reads still give results.
    monkeypatch.setattr(_lazy.sys, "getrefcount", lambda _: 0)
    x = funcgrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert y.item() == 5.0


def _pending_under_x64_read_after():
    """Float64 work recorded inside ``jax.enable_x64(True)`` and read after the block ends."""
    with jax.enable_x64(True):
        a = funcgrad.tensor(np.random.default_rng(0).standard_normal((2, 3)))
        total, where = (a * 2).sum(), a.argmax(1)
    other = funcgrad.tensor([1.0, 2.0]) * 2  # outside the block: a trace of its own
    return other.tolist(), total.item(), where.tolist(), str(total.dtype)


def test_work_runs_under_the_jax_settings_it_was_recorded_in(fresh):
    got = _pending_under_x64_read_after()
    funcgrad.config.lazy = False
    assert got == _pending_under_x64_read_after()
    x = np.random.default_rng(0).standard_normal((2, 3))
    assert got[1:] == (2 * x.sum(), x.argmax(1).tolist(), "float64")  # NumPy's float64


def test_a_missing_cpu_backend_means_one_device(fresh, monkeypatch):
    # Under JAX_PLATFORMS=cuda JAX has no CPU backend to ask about (seen on a GPU machine).
    devices = jax.devices

    def without_cpu(backend=None):
        if backend == "cpu":
            raise RuntimeError("Unknown backend cpu. Available backends are ['cuda']")
        return devices(backend)

    monkeypatch.setattr(jax, "devices", without_cpu)
    monkeypatch.setattr(_lazy, "_devices", [])
    assert _lazy._one_device() == devices()[0]
    np.testing.assert_allclose((funcgrad.ones(3) * 2).numpy(), [2.0, 2.0, 2.0])


def test_explain_recompiles_names_the_lazy_op_whose_shapes_changed(fresh):
    for n in (2, 2, 2, 3, 3, 3):
        x = funcgrad.ones(n, requires_grad=True)
        (x * x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.full(n, 2.0))  # closed form: 2x
    [reason] = [r for r in funcgrad.debug.explain_recompiles() if r.startswith("lazy work")]
    assert reason.startswith(f"lazy work at {__file__}:")
    assert "(multiply): input shapes and dtypes (float32[3], float32[3]), was (float32[2]" \
        in reason


def test_the_same_ops_wired_differently_are_another_structure(fresh):
    # Each trace holds the objects of the one before where its ops match it; an op with the
    # same signature that reads other values must not take that op's wiring.
    funcgrad.config.compile_after = 2
    a, b = np.float32([1.5, -2.0]), np.float32([0.5, 3.0])
    for i in range(8):
        x, y = funcgrad.tensor(a), funcgrad.tensor(b)
        z = x * y
        z = z + (x if i % 4 < 2 else y)  # the same ops; the add reads x, then y
        np.testing.assert_array_equal(z.numpy(), a * b + (a if i % 4 < 2 else b))
    assert funcgrad.debug.cache_info()["lazy"]["compiles"] == 2


def test_a_computed_value_keeps_nothing_of_the_work_before_alive(fresh):
    # Its trace (which it keeps, for the JAX settings it ran under) drops its inputs and
    # structure when it runs; and a leaf's gradient, with its pending work, is freed with it.
    def computed():
        x = funcgrad.tensor(np.arange(3, dtype=np.float32), requires_grad=True)
        arrays.append(weakref.ref(x._peek()))
        y = (x * 2).exp()
        y.sum().backward()
        x.grad.numpy()  # runs the trace: y is computed, not read yet
        return y.detach()

    arrays = []
    gc.disable()
    try:
        kept = computed()
        assert arrays[0]() is None
    finally:
        gc.enable()
    np.testing.assert_allclose(kept.numpy(), np.exp(2 * np.arange(3)), rtol=1e-6)


def test_python_float_operands_keep_torch_values_and_dtypes(fresh):
    # A float operand reaches a lazy program as a weak-typed array made once per value: -0.0
    # must not find 0.0's, NaN must not be cached, and promotion must stay a Python float's.
    torch = pytest.importorskip("torch")

    def results(lib):
        x = lib.tensor([1.0, -2.0, 0.0])
        half, ints = x.to(lib.float16), lib.tensor([1, 2, 3])
        out = [x * 0.0, x * -0.0, x + float("nan"), x * float("inf"), half * 0.1, ints * 0.5]
        return [(t.dtype, np.asarray(t.tolist()), np.signbit(np.asarray(t.tolist())))
                for t in out]

    for (dtype, value, sign), (ref_dtype, ref_value, ref_sign) in zip(results(funcgrad),
                                                                      results(torch)):
        assert str(dtype).split(".")[-1] == str(ref_dtype).split(".")[-1]
        np.testing.assert_array_equal(value, ref_value)
        np.testing.assert_array_equal(sign, ref_sign)


def test_the_arrays_of_python_floats_are_bounded(fresh):
    x = funcgrad.tensor([1.0, 2.0])
    for i in range(_lazy._FLOATS + 10):
        y = x * (1.0 + i / 4096)
    assert y.tolist() == pytest.approx([v * (1.0 + (_lazy._FLOATS + 9) / 4096) for v in (1, 2)])
    assert 0 < len(_lazy._floats) <= _lazy._FLOATS


@pytest.mark.parametrize("max_pending", range(1, 8))
def test_a_flush_between_the_outputs_of_one_backward_loses_none(fresh, max_pending):
    # The whole-graph backward is one pending op whose outputs (one gradient per leaf) are
    # recorded after it; a full trace may flush between them. Closed forms: d(a*b*c)/da = bc.
    funcgrad.config.compile_after = 1
    funcgrad.config.max_pending = max_pending
    values = np.float32([2.0, 3.0, 5.0])
    for _ in range(3):
        leaves = [funcgrad.tensor(v, requires_grad=True) for v in values]
        a, b, c = leaves
        (a * b * c).backward()
        grads = [t.grad.item() for t in leaves]
        assert grads == [15.0, 10.0, 6.0]
    assert funcgrad.debug.cache_info()["backward"]["hits"] >= 2

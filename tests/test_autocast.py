"""``funcgrad.autocast`` against ``torch.autocast`` on the CPU.

Every op case of ``test_ops`` runs in an autocast region in both libraries, on float32 inputs
(which show the ops that cast down to bfloat16) and on bfloat16 inputs (which show the ops that
cast up to float32): the outputs' dtypes, values to bfloat16's precision and ``grad_fn`` names,
and the inputs' gradients, must be torch's. Then the region's own rules: nesting, ``enabled``,
the decorator form, the cast cache, and the errors and warnings of bad arguments.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch, assert_warns_as_torch
from test_ops import CASES, _expected_dtype, _outputs, _tensors

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _run(lib, case, arrays, dtype):
    """The case in an autocast region: its inputs, its outputs, or the error it raised."""
    inputs = _tensors(lib, case, arrays, dtype)
    try:
        with lib.autocast("cpu"):
            return inputs, _outputs(case.fn(lib, *inputs))
    except Exception as e:  # noqa: BLE001 - torch has no bfloat16 kernel for some ops
        return inputs, e


def _close(ours, theirs, what: str) -> None:
    np.testing.assert_allclose(np.asarray(ours.detach().float(), np.float64),
                               theirs.detach().double().numpy(), rtol=4e-2, atol=4e-2,
                               err_msg=what)


# Where funcgrad's autocast differs from torch's, and why: per case id prefix, and below.
_DIFFERENT = {
    "linalg.pinv": "torch's pinv is a composite ending in a bfloat16 matmul, whose result and "
                   "grad_fn differ; funcgrad's is one op, computed in float32",
}
_ATTENTION = ("F.scaled_dot_product_attention", "F.scaled_dot_product_attention-3d-causal",
              "F.scaled_dot_product_attention-2d-float-mask")
_KINKS = ("F.grid_sample-bicubic-reflection", "F.grid_sample-3d-bilinear-reflection")
# (case, precision) where torch's multi_head_attention_forward casts inside its fused attention
# kernels (and returns bfloat16 weights) and funcgrad's composite casts op by op.
_FUSED_ATTENTION = {("F.multi_head_attention_forward-separate", "float32"),
                    ("F.multi_head_attention_forward-separate", "bfloat16"),
                    ("F.multi_head_attention_forward-packed-masks", "float32"),
                    ("F.multi_head_attention_forward-static-unbatched", "float32"),
                    ("F.multi_head_attention_forward-static-unbatched", "bfloat16")}


def _params():
    for case in CASES:
        if case.xfail:
            continue
        for precision in ("float32", "bfloat16"):
            reason = next((r for k, r in _DIFFERENT.items() if case.id.startswith(k)), None)
            if case.id in _ATTENTION:
                reason = ("torch's CPU attention kernel for these masks computes bfloat16 in "
                          "float32 and casts back (ToCopyBackward0); funcgrad's computes in "
                          "bfloat16")
            if precision == "bfloat16" and "matrix_exp" in case.id:
                reason = ("torch's bfloat16 matrix_exp overflows (1e30, inf) on these inputs; "
                          "funcgrad's computes in float32")
            if (case.id, precision) in _FUSED_ATTENTION:
                reason = ("torch's multi_head_attention_forward casts inside its fused "
                          "attention kernels; funcgrad's is composed of ops that each cast as "
                          "torch's op lists say")
            if precision == "bfloat16" and case.id.startswith(_KINKS):
                reason = ("bfloat16 grid points fall on the reflection's kinks, where torch's "
                          "and funcgrad's one-sided derivatives differ")
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(case, precision, id=f"{case.id}-{precision}", marks=marks)


@pytest.mark.parametrize(("case", "precision"), list(_params()))
def test_ops_cast_as_torchs(case, precision, torch) -> None:
    arrays = case.arrays()
    theirs, want = _run(torch, case, arrays, getattr(torch, precision))
    if isinstance(want, Exception):
        pytest.skip(f"torch raises: {want}")
    ours, got = _run(funcgrad, case, arrays, getattr(funcgrad, precision))
    if isinstance(got, Exception):
        raise got
    assert len(got) == len(want)
    for y, t in zip(got, want):
        assert (tuple(y.shape), y.dtype) == (tuple(t.shape), _expected_dtype(t.dtype))
        if y.dtype.kind == "f" or str(y.dtype) == "bfloat16":
            _close(y, t, "value")
        want_name = None if t.grad_fn is None else type(t.grad_fn).__name__
        assert (None if y.grad_fn is None else y.grad_fn.name()) == want_name
    differentiable = [(y, t) for y, t in zip(got, want) if t.requires_grad]
    if not differentiable:
        return
    try:
        sum(t.float().sum() for _, t in differentiable).backward()
    except (NotImplementedError, RuntimeError) as e:  # no bfloat16 backward kernel
        pytest.skip(f"torch's backward raises: {e}")
    sum(y.float().sum() for y, _ in differentiable).backward()
    for x, xt in zip(ours, theirs):
        if xt.grad is not None:
            assert x.grad.dtype == _expected_dtype(xt.grad.dtype)
            _close(x.grad, xt.grad, "gradient")


def _mm_in_regions(lib):
    """A matmul in nested regions and the decorator form: the dtypes each gives."""
    x = lib.ones(2, 2, requires_grad=True)
    seen = []
    with lib.autocast("cpu"):
        y = x @ x
        seen.append(y.dtype)
        with lib.autocast("cpu", enabled=False):
            seen += [(x @ x).dtype, (y @ y).dtype]
            with lib.autocast("cpu", dtype=lib.float16):  # (torch's cache would give x's
                fresh = lib.ones(2, 2, requires_grad=True)  # bfloat16 cast again: a new leaf)
                seen.append((fresh @ fresh).dtype)
        seen.append((x.int() @ x.int()).dtype)
        seen.append(lib.is_autocast_enabled("cpu"))
        seen.append(lib.is_autocast_enabled())
        seen.append(lib.get_autocast_dtype("cpu"))
    seen.append(lib.is_autocast_enabled("cpu"))
    seen.append(lib.autocast("cpu")(lambda a: a @ a)(x).dtype)
    y.sum().backward()
    seen.append(x.grad.dtype)
    return [str(s).removeprefix("torch.") for s in seen]


def test_regions_nest_and_decorate_as_torchs(torch) -> None:
    assert _mm_in_regions(funcgrad) == _mm_in_regions(torch)


@pytest.mark.parametrize("cache", [True, False])
def test_a_leafs_cast_is_made_once_per_region_as_torchs(cache, torch) -> None:
    """torch caches the cast of a leaf that requires grad: both uses of the weight then read
    one ToCopyBackward0, and the gradient gathers there."""

    def edges(lib):
        w = lib.ones(2, 2, requires_grad=True)
        with lib.autocast("cpu", cache_enabled=cache):
            y = w @ w
        (a, _), (b, _) = y.grad_fn.next_functions
        return a is b, a.name()

    assert edges(funcgrad) == edges(torch)


def test_the_cast_of_an_op_inside_a_listed_op_happens_once(torch) -> None:
    """F.linear casts its inputs, bias included, once: the result is bfloat16 and its graph is
    torch's, a linear layer's gradients arrive in float32."""

    def run(lib):
        layer_input = lib.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3))
        w = lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3),
                       requires_grad=True)
        b = lib.zeros(4, requires_grad=True)
        with lib.autocast("cpu"):
            y = lib.nn.functional.linear(layer_input, w, b)
        y.float().pow(2).sum().backward()
        return y, w.grad, b.grad

    for ours, theirs in zip(run(funcgrad), run(torch)):
        assert ours.dtype == _expected_dtype(theirs.dtype)
        _close(ours, theirs, "linear")


def test_a_device_object_is_refused_as_torch(torch) -> None:
    assert_raises_as_torch(torch, lambda lib: lib.autocast(lib.device("cpu")))


def test_an_unsupported_dtype_warns_and_disables_as_torch(torch) -> None:
    def region(lib):
        with lib.autocast("cpu", dtype=lib.float64):
            return lib.is_autocast_enabled("cpu")

    assert_warns_as_torch(torch, region)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert region(funcgrad) is region(torch) is False


def test_cuda_without_a_gpu_warns_and_disables_as_torch(torch) -> None:
    if funcgrad.cuda.is_available():
        pytest.skip("a GPU is attached")

    def region(lib):
        with lib.autocast("cuda"):
            return lib.is_autocast_enabled("cuda")

    assert_warns_as_torch(torch, region)


_LAYERS = {
    "LSTM": lambda lib: lib.nn.LSTM(4, 3, batch_first=True),
    "GRU": lambda lib: lib.nn.GRU(4, 3, batch_first=True),
    "RNN": lambda lib: lib.nn.RNN(4, 3, batch_first=True),
    "LSTMCell": lambda lib: _first_step(lib.nn.LSTMCell(4, 3)),
    "GRUCell": lambda lib: _first_step(lib.nn.GRUCell(4, 3)),
    "RNNCell": lambda lib: _first_step(lib.nn.RNNCell(4, 3)),
    "MultiheadAttention": lambda lib: _self_attention(lib.nn.MultiheadAttention(4, 2,
                                                                                 batch_first=True)),
    "TransformerEncoderLayer": lambda lib: lib.nn.TransformerEncoderLayer(4, 2, 8,
                                                                          batch_first=True),
    "Bilinear": lambda lib: _self_attention(lib.nn.Bilinear(4, 4, 2), 2),
    "LayerNorm": lambda lib: lib.nn.LayerNorm(4),
}


def _first_step(cell):
    return lambda x: cell(x[0])


def _self_attention(layer, n: int = 3):
    return lambda x: layer(*[x] * n)


@pytest.mark.parametrize("name", _LAYERS)
def test_layers_compute_in_torchs_dtypes(name, torch) -> None:
    """Layers that are one op here and several in torch (or the reverse): each output's dtype,
    and each parameter's gradient dtype, as torch's CPU autocast gives them."""

    def run(lib):
        lib.manual_seed(0)
        layer = _LAYERS[name](lib)
        x = lib.tensor(np.linspace(-1, 1, 24, dtype=np.float32).reshape(2, 3, 4))
        with lib.autocast("cpu"):
            out = layer(x)
        outs = [t for t in _outputs(out) if not isinstance(t, tuple)]
        sum(t.float().sum() for t in outs).backward()
        params = getattr(layer, "parameters", lambda: [])()
        return [str(t.dtype).removeprefix("torch.") for t in outs], [
            str(p.grad.dtype).removeprefix("torch.") for p in params if p.grad is not None]

    assert run(funcgrad) == run(torch)


def test_a_mixed_precision_training_loop_follows_torchs(torch) -> None:
    """An MLP trained for a few SGD steps with its forward in an autocast region: the losses
    and the float32 parameters follow torch's, to bfloat16's precision."""
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((8, 6)).astype(np.float32)
    labels = rng.integers(0, 3, 8)

    start = [rng.uniform(-0.4, 0.4, shape).astype(np.float32)
             for shape in [(16, 6), (16,), (3, 16), (3,)]]

    def train(lib):
        model = lib.nn.Sequential(lib.nn.Linear(6, 16), lib.nn.ReLU(), lib.nn.Linear(16, 3))
        with lib.no_grad():
            for p, value in zip(model.parameters(), start):
                p.copy_(lib.tensor(value))
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
        x, y = lib.tensor(inputs), lib.tensor(labels)
        losses = []
        for _ in range(4):
            with lib.autocast("cpu"):
                logits = model(x)
                loss = lib.nn.functional.cross_entropy(logits, y)
            losses.append((*(str(t.dtype).removeprefix("torch.") for t in (logits, loss)),
                           loss.item()))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return losses, [p.detach() for p in model.parameters()]

    (ours, our_params), (theirs, their_params) = train(funcgrad), train(torch)
    assert [o[:2] for o in ours] == [t[:2] for t in theirs] == [("bfloat16", "float32")] * 4
    np.testing.assert_allclose([o[2] for o in ours], [t[2] for t in theirs], rtol=2e-2)
    for p, q in zip(our_params, their_params):
        assert p.dtype == _expected_dtype(q.dtype)
        _close(p, q, "parameter")


def _product_function(lib, cast_inputs):
    """A custom product ``a @ b`` whose forward and backward autocast decorates; backward
    reports the dtype its own matmuls compute in."""
    seen = []

    class Product(lib.autograd.Function):
        @staticmethod
        @lib.amp.custom_fwd(device_type="cpu", cast_inputs=cast_inputs)
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a @ b

        @staticmethod
        @lib.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            grads = g @ b.mT, a.mT @ g
            seen.append(str(grads[0].dtype).removeprefix("torch."))
            return grads

    return Product, seen


@pytest.mark.parametrize("cast_inputs", [None, "float32"])
@pytest.mark.parametrize("in_region", [True, False])
def test_custom_functions_cast_as_torchs(cast_inputs, in_region, torch) -> None:
    def run(lib):
        product, seen = _product_function(lib, cast_inputs and getattr(lib, cast_inputs))
        a = lib.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
        b = lib.tensor(np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4), requires_grad=True)
        with lib.autocast("cpu", enabled=in_region):  # (outside one, torch's matmul refuses
            y = product.apply(a.to(lib.bfloat16) if in_region else a, b)  # mixed dtypes)
        y.float().sum().backward()
        return [str(y.dtype).removeprefix("torch."), *seen, str(a.grad.dtype)], y, a.grad, b.grad

    (ours, *our_values), (theirs, *their_values) = run(funcgrad), run(torch)
    assert ours == [str(d).removeprefix("torch.") for d in theirs]
    for y, t in zip(our_values, their_values):
        _close(y, t, "custom function")


def test_custom_fwd_takes_a_device_type_string_as_torchs(torch) -> None:
    assert_raises_as_torch(torch, lambda lib: lib.amp.custom_fwd(device_type=lib.device("cpu")))


_SPECTRAL = [f"fft.{name}" for name in (
    "fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn",
    "ifftn", "rfftn", "irfftn", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftshift", "ifftshift")]


@pytest.mark.parametrize("name", [*_SPECTRAL, "polar", "view_as_complex", "stft"])
def test_spectral_and_complex_ops_cast_as_torchs(name, torch) -> None:
    """The Fourier transforms, stft, polar and view_as_complex on bfloat16 (which torch's kernels
    refuse outside autocast): computed in float32, or left as they are, as torch's."""
    x = np.linspace(-1, 1, 16, dtype=np.float32).reshape(4, 4)

    def run(lib):
        fn = lib
        for part in name.split("."):
            fn = getattr(fn, part)
        t = lib.tensor(x, dtype=lib.bfloat16)
        args = {"polar": (t.abs(), t), "view_as_complex": (t[:, :2].contiguous(),),
                "stft": (t.flatten(), 4, 2, None, lib.ones(4), True, "reflect", False, None,
                         True)}
        with lib.autocast("cpu"):
            return fn(*args.get(name, (t,)))

    try:
        want = run(torch)
    except RuntimeError as e:
        pytest.skip(f"torch raises: {e}")
    got = run(funcgrad)
    assert got.dtype == _expected_dtype(want.dtype)
    np.testing.assert_allclose(np.asarray(got.float() if got.dtype.kind != "c" else got),
                               want.float().numpy() if not want.is_complex()
                               else want.resolve_conj().numpy(),
                               rtol=1e-2, atol=1e-2)

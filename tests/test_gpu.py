"""The GPU path, run by scripts/gpu_check.sh where JAX sees an NVIDIA GPU; skipped elsewhere.

References: the same computation on the CPU (float32 tolerances that allow for GPU math, e.g.
TF32 matmuls) and closed forms.
"""

import jax
import numpy as np
import pytest

import funcgrad
import funcgrad.nn.functional as F

pytestmark = pytest.mark.gpu

# GPU float32 matmuls may run in TF32; elementwise math differs in the last bits.
GPU_RTOL, GPU_ATOL = 2e-2, 2e-3


def test_default_device_is_the_gpu():
    assert jax.default_backend() == "gpu"
    assert funcgrad.get_default_device().type == "cuda"
    assert funcgrad.ones(2).device.type == "cuda"


def test_tensors_live_on_the_gpu_and_copy_back():
    x = funcgrad.tensor([1.0, 2.0], device="cuda")
    assert x.device == funcgrad.device("cuda:0")
    assert next(iter(x._read().devices())).platform == "gpu"
    assert x.cpu().device.type == "cpu"
    assert x.numpy().tolist() == [1.0, 2.0]
    assert (x * 2).sum().item() == 6.0


def test_gradients_flow_back_across_device_moves():
    x = funcgrad.tensor([1.0, 2.0, 3.0], device="cpu", requires_grad=True)
    y = (x.to("cuda") ** 2).sum()
    assert y.device.type == "cuda"
    y.backward()
    assert x.grad.device.type == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_mixing_devices_raises_torchs_error():
    a = funcgrad.ones(2, device="cuda")
    b = funcgrad.ones(2, device="cpu")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        a + b


def _mlp_grads(device):
    funcgrad.manual_seed(0)
    x = funcgrad.randn(64, 32).to(device)
    w1 = funcgrad.randn(32, 64).to(device).requires_grad_()
    w2 = funcgrad.randn(64, 10).to(device).requires_grad_()
    target = funcgrad.randint(0, 10, (64,)).to(device)
    loss = F.cross_entropy(F.relu(x @ w1) @ w2, target)
    loss.backward()
    return loss.item(), w1.grad.cpu().numpy(), w2.grad.cpu().numpy()


def test_mlp_gradients_match_the_cpu():
    gpu, cpu = _mlp_grads("cuda"), _mlp_grads("cpu")
    for g, c in zip(gpu, cpu):
        np.testing.assert_allclose(g, c, rtol=GPU_RTOL, atol=GPU_ATOL)


def test_functional_face_on_the_gpu():
    g = funcgrad.grad(lambda x: funcgrad.sin(x ** 2))(funcgrad.tensor(4.0, device="cuda"))
    assert g.device.type == "cuda"
    np.testing.assert_allclose(g.item(), 2 * 4.0 * np.cos(16.0), rtol=1e-5)


def test_highest_matmul_precision_computes_in_float32():
    """JAX's GPU default rounds float32 matmul inputs to TF32 (errors of about 1e-2 here);
    torch's 'highest', which ``set_float32_matmul_precision`` asks JAX for, does not (about
    1e-5). Reference: the float64 product on the host."""
    a = np.random.default_rng(0).standard_normal((256, 256)).astype(np.float32)
    exact = a.astype(np.float64) @ a.astype(np.float64)
    before = jax.default_matmul_precision.value
    try:
        funcgrad.set_float32_matmul_precision("highest")
        x = funcgrad.tensor(a, device="cuda")
        got = (x @ x).cpu().numpy()
    finally:
        jax.config.update("jax_default_matmul_precision", before)
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-3)

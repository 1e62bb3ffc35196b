"""Devices: torch's names mapped onto JAX devices, ``device=`` on the factories, ``.to``,
``.cpu()``, the default device, the error for a device that is not attached, and the repr's
``device=`` suffix. Moves between two devices run in a subprocess that asks XLA for two CPU
devices (``--xla_force_host_platform_device_count=2``), so any machine can run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time

import jax
import pytest

import funcgrad
from test_errors import assert_raises_as_torch, message


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def default_device():
    yield funcgrad.set_default_device
    funcgrad.set_default_device(None)


def first_cpu() -> jax.Device:
    return jax.devices("cpu")[0]


def test_names_as_torch(torch):
    for spec in ["cpu", "cpu:0"]:
        assert repr(funcgrad.device(spec)) == repr(torch.device(spec))
        assert str(funcgrad.device(spec)) == str(torch.device(spec))
    assert repr(funcgrad.device("cpu", 0)) == repr(torch.device("cpu", 0))
    d = funcgrad.device("cpu")
    assert (d.type, d.index) == ("cpu", None)


def test_device_objects():
    cpu = funcgrad.device("cpu")
    assert funcgrad.device(cpu) == cpu
    assert funcgrad.device(first_cpu()) == cpu
    assert cpu.jax_device == first_cpu()
    assert cpu == "cpu" and cpu == "cpu:0" and cpu == funcgrad.device("cpu:0")
    assert hash(cpu) == hash(funcgrad.device("cpu:0"))
    assert len({cpu, funcgrad.device("cpu:0"), funcgrad.device(first_cpu())}) == 1


def test_tensor_device(torch):
    x = funcgrad.tensor([1.0, 2.0], device="cpu")
    assert x.device == funcgrad.device("cpu")
    assert repr(x.device) == repr(torch.tensor([1.0]).device) == "device(type='cpu')"
    assert x.device.jax_device in x._read().devices()
    assert not x.is_cuda


def test_to_and_cpu_return_the_tensor_itself_when_already_there(torch):
    for lib in (funcgrad, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True, device="cpu")
        assert x.to("cpu") is x
        assert x.cpu() is x
        assert x.to(lib.device("cpu")) is x


def test_to_device_and_dtype():
    x = funcgrad.tensor([1.5, 2.5], requires_grad=True)
    y = x.to("cpu", funcgrad.float16)
    assert y.dtype == funcgrad.float16 and y.device == "cpu"
    assert y.grad_fn.name() == "ToCopyBackward0"
    y.float().sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


FACTORIES = {
    "tensor": lambda device: funcgrad.tensor([1.0, 2.0], device=device),
    "zeros": lambda device: funcgrad.zeros(2, 3, device=device),
    "ones": lambda device: funcgrad.ones(2, device=device),
    "empty": lambda device: funcgrad.empty(2, device=device),
    "full": lambda device: funcgrad.full((2,), 7.0, device=device),
    "arange": lambda device: funcgrad.arange(4, device=device),
    "linspace": lambda device: funcgrad.linspace(0, 1, 5, device=device),
    "eye": lambda device: funcgrad.eye(3, device=device),
    "rand": lambda device: funcgrad.rand(2, device=device),
    "randn": lambda device: funcgrad.randn(2, device=device),
    "randint": lambda device: funcgrad.randint(0, 5, (3,), device=device),
    "randperm": lambda device: funcgrad.randperm(4, device=device),
    "zeros_like": lambda device: funcgrad.zeros_like(funcgrad.ones(2), device=device),
    "ones_like": lambda device: funcgrad.ones_like(funcgrad.ones(2), device=device),
    "full_like": lambda device: funcgrad.full_like(funcgrad.ones(2), 3.0, device=device),
    "new_zeros": lambda device: funcgrad.ones(2).new_zeros(3, device=device),
}


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("spec", ["cpu", "cpu:0", "device", "jax"])
def test_factories_take_device(name, spec):
    device = {"device": funcgrad.device("cpu"), "jax": first_cpu()}.get(spec, spec)
    t = FACTORIES[name](device)
    assert t.device == funcgrad.device("cpu")
    assert t._read().devices() == {first_cpu()}


def test_default_device(default_device):
    assert funcgrad.get_default_device() == funcgrad.device(jax.devices()[0])
    default_device("cpu")
    assert funcgrad.get_default_device() == funcgrad.device("cpu")
    for make in FACTORIES.values():
        assert make(None).device == "cpu"
    default_device(None)
    assert funcgrad.get_default_device() == funcgrad.device(jax.devices()[0])


def test_cuda_availability_matches_jax():
    gpus = [d for d in jax.devices() if d.platform in ("gpu", "cuda", "rocm")]
    assert funcgrad.cuda.is_available() is bool(gpus)
    assert funcgrad.cuda.device_count() == len(gpus)


def test_without_a_gpu_torch_cudas_functions_do_what_torchs_do_without_cuda():
    torch = pytest.importorskip("torch")
    if funcgrad.cuda.is_available() or torch.cuda.is_available():
        pytest.skip("compares with torch on a machine without CUDA")
    funcgrad.manual_seed(5)
    expected = funcgrad.rand(3).tolist()
    funcgrad.manual_seed(5)
    for lib in (funcgrad, torch):
        for quiet in ("manual_seed(1)", "manual_seed_all(2)", "seed()", "seed_all()",
                      "empty_cache()"):
            assert eval(f"lib.cuda.{quiet}") is None
        values = [lib.cuda.memory_allocated(), lib.cuda.max_memory_allocated(),
                  lib.cuda.memory_reserved(), lib.cuda.max_memory_reserved()]
        assert values == [0, 0, 0, 0] and dict(lib.cuda.memory_stats()) == {}
        assert (lib.cuda.is_bf16_supported(), lib.cuda.is_initialized()) == (False, False)
        for asks in ("current_device()", "get_device_name()", "get_device_name(0)",
                     "get_device_capability()", "initial_seed()"):
            with pytest.raises(AssertionError):
                eval(f"lib.cuda.{asks}")
    assert funcgrad.rand(3).tolist() == expected  # the global stream was left alone


def test_cpu_module_answers_as_torchs():
    torch = pytest.importorskip("torch")
    for lib in (funcgrad, torch):
        assert (lib.cpu.is_available(), lib.cpu.is_initialized(), lib.cpu.device_count(),
                lib.cpu.current_device()) == (True, True, 1, "cpu")
        assert lib.cpu.synchronize() is None and lib.cpu.set_device("cpu") is None


_NEEDS_AN_ACCELERATOR = ["synchronize()", "current_device_index()", "empty_cache()",
                         "memory_stats()", "memory_allocated()", "max_memory_allocated()",
                         "memory_reserved()", "max_memory_reserved()"]


def test_without_a_gpu_the_accelerator_functions_do_what_torchs_do_without_one():
    torch = pytest.importorskip("torch")
    if funcgrad.cuda.is_available() or torch.accelerator.is_available():
        pytest.skip("compares with torch on a machine without an accelerator")
    for lib in (funcgrad, torch):
        assert (lib.accelerator.is_available(), lib.accelerator.device_count()) == (False, 0)
        assert lib.accelerator.current_accelerator() is None
        assert lib.accelerator.current_accelerator(check_available=True) is None
        for call in _NEEDS_AN_ACCELERATOR:
            with pytest.raises(RuntimeError, match="^Cannot access accelerator device when none "
                                                   "is available.$"):
                eval(f"lib.accelerator.{call}")
        with pytest.warns(FutureWarning, match="Use `current_device_index` instead."), (
                pytest.raises(RuntimeError)):
            lib.accelerator.current_device_idx()


@pytest.mark.gpu
def test_the_accelerator_is_jaxs_gpu():
    assert funcgrad.accelerator.is_available() and funcgrad.accelerator.device_count() >= 1
    assert funcgrad.accelerator.current_accelerator() == funcgrad.device("cuda")
    assert funcgrad.accelerator.current_device_index() == 0
    assert funcgrad.accelerator.memory_allocated() == funcgrad.cuda.memory_allocated()
    funcgrad.accelerator.synchronize()


@pytest.mark.parametrize("synchronize", [funcgrad.cpu.synchronize, funcgrad.cuda.synchronize])
def test_synchronize_runs_the_pending_work_and_waits_for_it(synchronize):
    """A step timed up to ``synchronize()`` has run: nothing of it is left pending, and its
    results are computed (closed form: w - lr * 2w after one step of sum(w ** 2))."""
    from funcgrad import _lazy

    w = funcgrad.ones(256, requires_grad=True)
    for _ in range(3):  # a recurring structure: the update stays pending after backward
        (w ** 2).sum().backward()
        with funcgrad.no_grad():
            w -= 0.25 * w.grad
        w.grad.zero_()
    assert type(w._storage.array) is _lazy.Pending
    synchronize()
    assert not _lazy._trace.pendings
    array = w._storage.array
    assert array.value.is_ready() if type(array) is _lazy.Pending else array.is_ready()
    assert w.tolist() == [0.125] * 256


@pytest.mark.gpu
def test_torch_cudas_functions_read_jaxs_gpu():
    gpu = jax.devices("gpu")[0]
    assert funcgrad.cuda.current_device() == 0
    assert funcgrad.cuda.get_device_name() == funcgrad.cuda.get_device_name("cuda:0") == (
        gpu.device_kind)
    assert funcgrad.cuda.get_device_capability() >= (5, 0)
    funcgrad.cuda.manual_seed_all(7)
    assert funcgrad.cuda.initial_seed() == funcgrad.initial_seed() == 7
    before = funcgrad.cuda.memory_allocated()
    x = funcgrad.ones(1024, 1024, device="cuda")
    assert funcgrad.cuda.memory_allocated() >= before + x.numel() * 4
    assert funcgrad.cuda.max_memory_allocated() >= funcgrad.cuda.memory_allocated()
    with pytest.raises(ValueError, match="no GPU 99"):
        funcgrad.cuda.get_device_name(99)


# ----- torch.cuda's streams, events, current device and nvtx ranges ----------------------------
_WITHOUT_CUDA_RAISE = [
    "Event()", "Event(enable_timing=True)", "Stream()", "current_stream()", "default_stream()",
    "set_device(0)", "set_device('cuda:0')", "set_device('cpu')", "device(0).__enter__()",
    "get_device_properties()", "get_device_properties(0)", "mem_get_info()",
    "reset_peak_memory_stats()", "get_rng_state()", "is_current_stream_capturing()",
    "nvtx.range_push('step')", "nvtx.range_pop()", "nvtx.mark('step')",
    "nvtx.range('step').__enter__()"]


def test_without_a_gpu_streams_events_and_devices_do_what_torchs_do_without_cuda(torch):
    if funcgrad.cuda.is_available() or torch.cuda.is_available():
        pytest.skip("compares with torch on a machine without CUDA")
    funcgrad.manual_seed(5)
    expected = funcgrad.rand(3).tolist()
    funcgrad.manual_seed(5)
    for call in _WITHOUT_CUDA_RAISE:
        with pytest.raises(Exception) as theirs:
            eval(f"torch.cuda.{call}")
        with pytest.raises(type(theirs.value)):
            eval(f"funcgrad.cuda.{call}")
    assert_raises_as_torch(torch, lambda lib: lib.cuda.set_device("cpu"))
    for lib in (funcgrad, torch):
        assert (lib.cuda.get_rng_state_all(), lib.cuda.get_arch_list()) == ([], [])
        assert lib.cuda.set_rng_state(lib.get_rng_state()) is None
        assert lib.cuda.set_rng_state_all([lib.get_rng_state()]) is None
        assert lib.cuda.set_device(-1) is None and lib.cuda.set_stream(None) is None
        with lib.cuda.device(-1) as a, lib.cuda.device_of(lib.ones(1)) as b, (
                lib.cuda.stream(None)) as c:
            assert (a, b, c) == (None, None, None)
        assert isinstance(lib.cuda.stream(None), lib.cuda.StreamContext)
        lib.cuda.nvtx.range("made, not entered")  # the error comes on entering
        with pytest.warns(FutureWarning) as record, pytest.raises(AttributeError):
            lib.cuda.reset_max_memory_allocated()
        assert message(record[0].message) == message(
            "torch.cuda.reset_max_memory_allocated now calls torch.cuda."
            "reset_peak_memory_stats, which resets /all/ peak memory stats.")
    assert funcgrad.rand(3).tolist() == expected  # the global stream was left alone


def test_the_new_cuda_names_are_torchs(torch):
    ours = set(funcgrad.cuda.__all__)
    assert ours <= set(dir(torch.cuda)), ours - set(dir(torch.cuda))
    assert all(hasattr(funcgrad.cuda, name) for name in ours)
    assert set(funcgrad.cuda.nvtx.__all__) <= set(torch.cuda.nvtx.__all__)


def test_opt_einsum_switches_as_torchs(torch):
    if not torch.backends.opt_einsum.is_available():
        pytest.skip("compares with torch where the opt_einsum package is installed")
    for lib in (funcgrad, torch):
        switches = lib.backends.opt_einsum
        assert (switches.is_available(), switches.enabled, switches.strategy) == (
            True, True, "auto")
        with switches.flags(strategy="greedy"):
            assert (switches.enabled, switches.strategy) == (True, "greedy")
            assert switches.set_flags(None, "optimal") == (True, "greedy")
        assert switches.strategy == "auto"
        with switches.flags(enabled=False):
            assert (switches.enabled, switches.strategy) == (False, "auto")
        assert switches.enabled is True
    for scenario in (lambda lib: lib.backends.opt_einsum.set_flags(None, "dp"),
                     lambda lib: lib.backends.opt_einsum.set_flags(False, "greedy")):
        assert_raises_as_torch(torch, scenario)
        for lib in (funcgrad, torch):
            switches = lib.backends.opt_einsum
            assert (switches.enabled, switches.strategy) in ((True, "auto"), (False, "auto"))
            switches.enabled = True


def _on_another_thread(fn):
    seen = []
    thread = threading.Thread(target=lambda: seen.append(fn()))
    thread.start()
    thread.join()
    return seen[0]


def test_multithreading_switch_as_torchs(torch):
    for lib in (funcgrad, torch):
        autograd = lib.autograd
        assert autograd.is_multithreading_enabled() is True
        switch = autograd.set_multithreading_enabled(False)  # a function call sets it at once
        assert autograd.is_multithreading_enabled() is False
        assert _on_another_thread(autograd.is_multithreading_enabled) is True  # per thread
        with switch:
            with autograd.grad_mode.set_multithreading_enabled(True) as entered:
                assert entered is None and autograd.is_multithreading_enabled() is True
            assert autograd.is_multithreading_enabled() is False
        assert autograd.is_multithreading_enabled() is True
        with switch.clone():
            assert autograd.is_multithreading_enabled() is False
        assert autograd.is_multithreading_enabled() is True


@pytest.mark.gpu
def test_events_time_the_work_between_their_records():
    """``record`` waits for the pending work (closed form: w - 0.25 * 2w after a step of
    sum(w ** 2)), and the time between two records holds a known sleep."""
    from funcgrad import _lazy

    w = funcgrad.ones(256, device="cuda", requires_grad=True)
    start, end = (funcgrad.cuda.Event(enable_timing=True) for _ in range(2))
    start.record()
    for _ in range(3):
        (w ** 2).sum().backward()
        with funcgrad.no_grad():
            w -= 0.25 * w.grad
        w.grad.zero_()
    time.sleep(0.05)
    end.record()
    assert not _lazy._trace.pendings
    assert start.query() and end.query() and end.synchronize() is None and end.wait() is None
    assert 50.0 <= start.elapsed_time(end) < 60_000.0
    assert w.tolist() == [0.125] * 256
    with pytest.raises(RuntimeError, match="^Both events must be recorded"):
        start.elapsed_time(funcgrad.cuda.Event(enable_timing=True))
    untimed = funcgrad.cuda.Event()
    untimed.record()
    with pytest.raises(RuntimeError, match="enable_timing=True"):
        start.elapsed_time(untimed)


@pytest.mark.gpu
def test_one_stream_stands_for_the_gpus():
    default = funcgrad.cuda.default_stream()
    assert funcgrad.cuda.current_stream() is default is funcgrad.cuda.default_stream(0)
    assert default.device == funcgrad.device("cuda", 0)
    side = funcgrad.cuda.Stream()
    with funcgrad.cuda.stream(side):
        assert funcgrad.cuda.current_stream() is side
        side.wait_stream(default)
        y = funcgrad.ones(4, device="cuda") * 3
    assert funcgrad.cuda.current_stream() is default
    side.synchronize()
    assert side.query() and isinstance(side.record_event(), funcgrad.cuda.Event)
    funcgrad.cuda.set_stream(side)
    assert funcgrad.cuda.current_stream() is side
    funcgrad.cuda.set_stream(default)
    assert y.tolist() == [3.0] * 4
    assert funcgrad.cuda.is_current_stream_capturing() is False


@pytest.mark.gpu
def test_the_current_gpu_and_its_properties():
    gpu = jax.devices("gpu")[0]
    funcgrad.cuda.set_device(0)
    with funcgrad.cuda.device("cuda:0"):
        assert funcgrad.cuda.current_device() == 0
        x = funcgrad.ones(2).cuda()
        with funcgrad.cuda.device_of(x), funcgrad.cuda.device(-1):
            assert funcgrad.cuda.current_device() == x.get_device() == 0
    count = funcgrad.cuda.device_count()
    with pytest.raises(ValueError, match=f"no GPU {count}"):
        funcgrad.cuda.set_device(count)
    assert funcgrad.cuda.current_device() == 0
    properties = funcgrad.cuda.get_device_properties()
    assert properties.name == gpu.device_kind == funcgrad.cuda.get_device_name()
    assert (properties.major, properties.minor) == funcgrad.cuda.get_device_capability()
    assert f"sm_{properties.major}{properties.minor}" in funcgrad.cuda.get_arch_list()
    assert getattr(properties, "multi_processor_count", None) == getattr(gpu, "core_count", None)
    stats = gpu.memory_stats() or {}
    assert getattr(properties, "total_memory", None) == stats.get("bytes_limit")
    if "bytes_limit" in stats:
        kept = funcgrad.ones(1024, 1024, device="cuda")
        funcgrad.cuda.synchronize()  # kept is computed, so held on the GPU
        free, total = funcgrad.cuda.mem_get_info()
        assert total == stats["bytes_limit"]
        assert free == total - funcgrad.cuda.memory_allocated() and free <= total - kept.numel() * 4
    assert funcgrad.cuda.reset_peak_memory_stats() is None
    assert funcgrad.cuda.max_memory_allocated() >= funcgrad.cuda.memory_allocated()


@pytest.mark.gpu
def test_cuda_rng_state_is_the_global_generators():
    state = funcgrad.cuda.get_rng_state()
    assert funcgrad.cuda.get_rng_state().tolist() == funcgrad.get_rng_state().tolist()
    assert len(funcgrad.cuda.get_rng_state_all()) == funcgrad.cuda.device_count()
    drawn = funcgrad.rand(3, device="cuda").tolist()
    funcgrad.cuda.set_rng_state(state)
    assert funcgrad.rand(3, device="cuda").tolist() == drawn
    funcgrad.cuda.set_rng_state_all([state])
    assert funcgrad.rand(3, device="cuda").tolist() == drawn


@pytest.mark.gpu
def test_nvtx_ranges_nest_as_nvtxs(tmp_path):
    nvtx = funcgrad.cuda.nvtx
    with jax.profiler.trace(str(tmp_path)):
        assert (nvtx.range_push("nvtx_outer"), nvtx.range_push("nvtx_inner")) == (0, 1)
        (funcgrad.ones(3, device="cuda") * 2).tolist()
        assert (nvtx.range_pop(), nvtx.range_pop(), nvtx.range_pop()) == (1, 0, -1)
        assert nvtx.mark("nvtx_instant") is None

        @nvtx.range("nvtx_step_{}", 3)
        def step():
            return nvtx.range_push("nvtx_in_step"), nvtx.range_pop()

        assert step() == (1, 1)
    assert nvtx.range_pop() == -1
    written = b"".join(p.read_bytes() for p in tmp_path.rglob("*.xplane.pb"))
    for name in (b"nvtx_outer", b"nvtx_inner", b"nvtx_instant", b"nvtx_step_3", b"nvtx_in_step"):
        assert name in written


@pytest.mark.parametrize("spec", ["cuda:7", "tpu", "cpu:5"])
def test_absent_device_lists_the_devices_there_are(spec):
    kind = spec.partition(":")[0]
    platform = {"cuda": "gpu"}.get(kind, kind)
    try:
        there = jax.devices(platform)
    except RuntimeError:
        there = []
    if (len(there) > 7 if kind == "cuda" else len(there) > 5 if kind == "cpu" else there):
        pytest.skip(f"{spec} is attached here")
    available = ", ".join(str(funcgrad.device(d)) for d in jax.devices())
    for attempt in (lambda: funcgrad.device(spec), lambda: funcgrad.zeros(2, device=spec),
                    lambda: funcgrad.tensor([1.0]).to(spec)):
        with pytest.raises(RuntimeError) as info:
            attempt()
        assert f"device '{spec}' is not available" in str(info.value)
        assert f"JAX sees these devices: {available}." in str(info.value)


@pytest.mark.parametrize("spec", ["xpu", "cpu:x", "banana"])
def test_malformed_device_names(spec):
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda, gpu, tpu device type"):
        funcgrad.device(spec)


def test_repr_has_no_suffix_on_the_default_device(default_device):
    assert repr(funcgrad.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    default_device("cpu")
    assert repr(funcgrad.zeros(2, device="cpu")) == "tensor([0., 0.])"


# ----- two devices, in a subprocess ------------------------------------------------------------
TWO_DEVICES = textwrap.dedent("""
    import json
    import jax
    import funcgrad

    out = {"devices": [str(funcgrad.device(d)) for d in jax.devices()]}
    x = funcgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.to("cpu:1")
    out["x"] = [str(x.device), repr(x.device)]
    out["y"] = [str(y.device), repr(y.device), repr(y), y._read().devices() == {jax.devices()[1]}]
    out["eq"] = [y.device == "cpu:1", y.device == x.device, y.device == funcgrad.device("cpu", 1)]
    for _ in range(3):  # the third backward of one structure runs compiled where it can
        x.grad = None
        (y.to("cpu:1") * y + x.to("cpu:1")).sum().backward()
    out["grad"] = [x.grad.tolist(), str(x.grad.device)]
    g, = funcgrad.autograd.grad((x.to("cpu:1") ** 3).sum(), x, create_graph=True)
    g.sum().backward()
    out["second"] = [g.tolist(), str(g.device), x.grad.tolist(), str(x.grad.device)]
    back = y.to("cpu:0")
    out["back"] = [str(back.device), back.grad_fn.name(), repr(back),
                   back.tolist() == x.tolist(), str(back.dtype)]
    w = funcgrad.zeros(2, device="cpu:1")
    out["factory"] = [str(w.device), repr(w), str(w.cpu().device), str(w.to("cpu").device)]
    try:
        funcgrad.ones(2, device="cpu") + w
    except RuntimeError as e:
        out["mixed"] = str(e)
    try:
        funcgrad.device("cpu:5")
    except RuntimeError as e:
        out["absent"] = str(e)
    funcgrad.set_default_device("cpu:1")
    out["default"] = [str(funcgrad.get_default_device()), repr(funcgrad.zeros(1)),
                      repr(funcgrad.zeros(1, device="cpu"))]
    print(json.dumps(out))
""")


def test_two_devices_in_a_subprocess():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
               JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-W", "error", "-c", TWO_DEVICES], env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["devices"] == ["cpu", "cpu:1"]
    assert out["x"] == ["cpu", "device(type='cpu')"]
    assert out["y"] == ["cpu:1", "device(type='cpu', index=1)",
                        "tensor([1., 2., 3.], device='cpu:1', grad_fn=<ToCopyBackward0>)",
                        True]
    assert out["eq"] == [True, False, True]
    assert out["grad"] == [[3.0, 5.0, 7.0], "cpu"]
    assert out["second"] == [[3.0, 12.0, 27.0], "cpu", [9.0, 17.0, 25.0], "cpu"]
    assert out["back"] == ["cpu", "ToCopyBackward0",
                           "tensor([1., 2., 3.], grad_fn=<ToCopyBackward0>)", True, "float32"]
    assert out["factory"] == ["cpu:1", "tensor([0., 0.], device='cpu:1')", "cpu", "cpu"]
    assert "Expected all tensors to be on the same device" in out["mixed"]
    assert "JAX sees these devices: cpu, cpu:1." in out["absent"]
    assert out["default"] == ["cpu:1", "tensor([0.])", "tensor([0.], device='cpu')"]


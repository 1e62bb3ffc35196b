"""``funcgrad.backends`` against ``torch.backends``: ``cuda.matmul.allow_tf32`` as a view of the
float32 matmul precision, cuDNN's flags (defaults, setting, ``flags()`` blocks, errors) and the
availability checks, on a CPU."""

from __future__ import annotations

import jax
import pytest

import funcgrad
from test_errors import assert_raises_as_torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _restored():
    """JAX's matmul precision and cuDNN's flags as they were, after each test."""
    precision = jax.config.jax_default_matmul_precision
    cudnn = funcgrad.backends.cudnn
    flags = {name: getattr(cudnn, name) for name in cudnn._SETTERS}
    yield
    jax.config.update("jax_default_matmul_precision", precision)
    for name, value in flags.items():
        setattr(cudnn, name, value)
    try:
        import torch
    except ImportError:
        return
    torch.set_float32_matmul_precision("highest")
    for name, value in flags.items():
        setattr(torch.backends.cudnn, name, value)


cpu_only = pytest.mark.skipif(jax.default_backend() != "cpu",
                              reason="JAX's default precision on a GPU or TPU is not torch's")


@cpu_only
def test_allow_tf32_reads_and_sets_the_matmul_precision_as_torchs(torch):
    steps = [
        lambda lib: None,
        lambda lib: setattr(lib.backends.cuda.matmul, "allow_tf32", True),
        lambda lib: setattr(lib.backends.cuda.matmul, "allow_tf32", False),
        lambda lib: lib.set_float32_matmul_precision("high"),
        lambda lib: lib.set_float32_matmul_precision("highest"),
        lambda lib: setattr(lib.backends.cuda.matmul, "allow_tf32", True),
    ]  # (allow_tf32 = False after set_float32_matmul_precision('high') or 'medium' leaves
    # torch's CPU and CUDA backends apart, and torch refusing to say one precision: funcgrad has
    # one setting, for every backend, and says 'highest')
    for step in steps:
        seen = []
        for lib in (torch, funcgrad):
            step(lib)
            seen.append((lib.backends.cuda.matmul.allow_tf32,
                         lib.get_float32_matmul_precision()))
        assert seen[0] == seen[1]
    assert jax.config.jax_default_matmul_precision == "tensorfloat32"  # JAX follows it


def _cudnn_flags(lib) -> tuple:
    c = lib.backends.cudnn
    return c.enabled, c.benchmark, c.deterministic, c.allow_tf32


def test_cudnn_flags_keep_torchs_defaults_and_values(torch):
    assert _cudnn_flags(funcgrad) == _cudnn_flags(torch) == (True, False, False, True)
    for name, value in (("benchmark", True), ("deterministic", True), ("enabled", False),
                        ("allow_tf32", False), ("benchmark", False)):
        for lib in (torch, funcgrad):
            setattr(lib.backends.cudnn, name, value)
        assert _cudnn_flags(funcgrad) == _cudnn_flags(torch)


@pytest.mark.parametrize("kwargs", [{}, {"enabled": True, "benchmark": True},
                                    {"deterministic": True, "allow_tf32": False}])
def test_cudnn_flags_block_sets_and_restores_as_torchs(torch, kwargs):
    inside = []
    for lib in (torch, funcgrad):
        lib.backends.cudnn.benchmark = True
        with lib.backends.cudnn.flags(**kwargs):
            inside.append(_cudnn_flags(lib))
    assert inside[0] == inside[1]
    assert _cudnn_flags(funcgrad) == _cudnn_flags(torch) == (True, True, False, True)


@pytest.mark.parametrize("scenario", [
    lambda lib: setattr(lib.backends.cudnn, "benchmark", 1),
    lambda lib: setattr(lib.backends.cudnn, "deterministic", None),
    lambda lib: setattr(lib.backends.cudnn, "enabled", "yes"),
    lambda lib: setattr(lib.backends.cudnn, "allow_tf32", "x"),
    lambda lib: setattr(lib.backends.cuda.matmul, "allow_tf32", 1),
    lambda lib: setattr(lib.backends.cuda.matmul, "allow_tf33", True),
    lambda lib: lib.backends.cuda.matmul.allow_tf33,
], ids=["benchmark-int", "deterministic-none", "enabled-str", "cudnn-tf32-str",
        "matmul-tf32-int", "matmul-unknown-set", "matmul-unknown-get"])
def test_bad_values_raise_torchs_errors_and_change_nothing(torch, scenario):
    before = (_cudnn_flags(funcgrad), funcgrad.get_float32_matmul_precision())
    assert_raises_as_torch(torch, scenario)
    assert (_cudnn_flags(funcgrad), funcgrad.get_float32_matmul_precision()) == before


def test_a_bad_value_in_a_flags_block_restores_every_flag():
    before = _cudnn_flags(funcgrad)
    with pytest.raises(RuntimeError, match="set_deterministic_cudnn expects a bool, but got "
                                           "int"):
        with funcgrad.backends.cudnn.flags(benchmark=True, deterministic=1):
            pass
    assert _cudnn_flags(funcgrad) == before


def test_availability_is_torchs_on_a_cpu(torch):
    if funcgrad.cuda.is_available():
        pytest.skip("a GPU is attached")
    for check in (lambda lib: lib.backends.cudnn.is_available(),
                  lambda lib: lib.backends.mps.is_available(),
                  lambda lib: lib.backends.mps.is_built(),
                  lambda lib: lib.backends.cuda.is_built()):
        assert check(funcgrad) is check(torch) is False


def test_thread_settings_are_checked_and_kept_as_torchs(torch, monkeypatch):
    monkeypatch.setattr(funcgrad._config, "_threads", {})
    before = torch.get_num_threads(), torch.get_num_interop_threads()
    try:
        for name in ("set_num_threads", "set_num_interop_threads"):
            for bad in (0, -2, 1.5, "2", True):
                assert_raises_as_torch(torch, lambda lib, name=name, bad=bad:
                                       getattr(lib, name)(bad))
        funcgrad.set_num_threads(before[0])
        funcgrad.set_num_interop_threads(3)
        assert funcgrad.get_num_threads() == torch.get_num_threads() == before[0]
        assert funcgrad.get_num_interop_threads() == 3
    finally:
        torch.set_num_threads(before[0])


def test_a_device_is_the_default_inside_its_with_block_as_torchs(torch):
    for lib in (funcgrad, torch):
        with lib.device("cpu") as d:
            assert d == lib.device("cpu") and lib.zeros(1).device == lib.device("cpu")
            with lib.device("cpu:0"):
                assert lib.get_default_device().type == "cpu"
            assert lib.ones(2).device.type == "cpu"
    assert funcgrad._devices._default == [None] and funcgrad._devices._entered == []


def test_torch_cuda_amps_deprecated_names_warn_and_work_as_torchs(torch):
    from test_errors import message

    def made(lib):
        with pytest.warns(Warning) as caught:
            region = lib.cuda.amp.autocast(enabled=False)
            scaler = lib.cuda.amp.GradScaler(enabled=False)
            fwd = lib.cuda.amp.custom_fwd(cast_inputs=lib.float32)
            bwd = lib.cuda.amp.custom_bwd(lambda ctx, g: g)
        return ([(w.category, message(w.message)) for w in caught],
                region.fast_dtype, scaler.is_enabled(), callable(fwd), callable(bwd))

    assert made(funcgrad) == made(torch)[:1] + (funcgrad.float16, False, True, True)
    with pytest.warns(Warning) as caught:
        funcgrad.cuda.amp.autocast(enabled=not funcgrad.cuda.is_available())
    assert [w.category for w in caught] == [FutureWarning, UserWarning]

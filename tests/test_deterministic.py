"""``use_deterministic_algorithms`` and its family against torch's: the settings each call
leaves, the errors of bad arguments, and what uninitialized tensors hold (``empty`` and its
kin, a grown ``resize_``): torch's known values while deterministic algorithms are on."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _restored():
    """Every test starts and ends with the defaults, in both libraries."""
    libs = [funcgrad]
    try:
        import torch
        libs.append(torch)
    except ImportError:
        pass
    yield
    for lib in libs:
        lib.use_deterministic_algorithms(False)
        lib.utils.deterministic.fill_uninitialized_memory = True


def _settings(lib) -> tuple:
    return (lib.are_deterministic_algorithms_enabled(),
            lib.is_deterministic_algorithms_warn_only_enabled(),
            lib.get_deterministic_debug_mode(),
            lib.utils.deterministic.fill_uninitialized_memory)


_CALLS = [
    lambda lib: lib.use_deterministic_algorithms(True),
    lambda lib: lib.use_deterministic_algorithms(True, warn_only=True),
    lambda lib: lib.use_deterministic_algorithms(False, warn_only=True),
    lambda lib: lib.set_deterministic_debug_mode("warn"),
    lambda lib: lib.set_deterministic_debug_mode("error"),
    lambda lib: lib.set_deterministic_debug_mode("default"),
    lambda lib: lib.set_deterministic_debug_mode(2),
    lambda lib: lib.set_deterministic_debug_mode(True),
    lambda lib: lib.set_deterministic_debug_mode(0),
    lambda lib: setattr(lib.utils.deterministic, "fill_uninitialized_memory", False),
]


def test_each_call_leaves_torchs_settings(torch):
    assert _settings(funcgrad) == _settings(torch) == (False, False, 0, True)
    for call in _CALLS:  # one sequence: each call starts from what the one before left
        call(torch)
        call(funcgrad)
        assert _settings(funcgrad) == _settings(torch)


@pytest.mark.parametrize("scenario", [
    lambda lib: lib.use_deterministic_algorithms("yes"),
    lambda lib: lib.use_deterministic_algorithms(1),
    lambda lib: lib.use_deterministic_algorithms(None),
    lambda lib: lib.use_deterministic_algorithms(True, warn_only=1),
    lambda lib: lib.set_deterministic_debug_mode("x"),
    lambda lib: lib.set_deterministic_debug_mode(3),
    lambda lib: lib.set_deterministic_debug_mode(-1),
    lambda lib: lib.set_deterministic_debug_mode(1.5),
    lambda lib: lib.set_deterministic_debug_mode(None),
    lambda lib: setattr(lib.utils.deterministic, "fill_uninitialized_memory", 1),
], ids=["mode-str", "mode-int", "mode-none", "warn-only-int", "debug-str", "debug-3",
        "debug-negative", "debug-float", "debug-none", "fill-int"])
def test_bad_arguments_raise_torchs_errors_and_change_nothing(torch, scenario):
    assert_raises_as_torch(torch, scenario)
    assert _settings(funcgrad) == _settings(torch) == (False, False, 0, True)


_DTYPES = ["float32", "float16", "bfloat16", "complex64", "int32", "int16", "int8", "uint8",
           "bool"]
_UNINITIALIZED = {
    "empty": lambda lib, d: lib.empty(2, 3, dtype=d),
    "empty_like": lambda lib, d: lib.empty_like(lib.ones(4, dtype=d)),
    "new_empty": lambda lib, d: lib.ones(1, dtype=d).new_empty((3,)),
    "empty_strided": lambda lib, d: lib.empty_strided((2, 2), (2, 1), dtype=d),
    "new": lambda lib, d: lib.ones(1, dtype=d).new(3),
    "resize_": lambda lib, d: lib.ones(2, dtype=d).resize_(2, 3),
}


def _values(tensor) -> np.ndarray:
    if str(tensor.dtype).endswith("bfloat16"):
        tensor = tensor.float()
    return tensor.numpy()


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize("name", list(_UNINITIALIZED))
def test_uninitialized_tensors_hold_torchs_values_under_deterministic_algorithms(
        torch, name, dtype):
    make = _UNINITIALIZED[name]
    for lib in (torch, funcgrad):
        lib.use_deterministic_algorithms(True)
    ours, theirs = make(funcgrad, getattr(funcgrad, dtype)), make(torch, getattr(torch, dtype))
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(_values(ours), _values(theirs))


@pytest.mark.parametrize("name", list(_UNINITIALIZED))
def test_uninitialized_tensors_hold_zeros_otherwise(name):
    """torch's hold whatever the memory held (nothing to compare); funcgrad's hold zeros."""
    make = _UNINITIALIZED[name]
    for enabled, fill in ((False, True), (True, False)):
        funcgrad.use_deterministic_algorithms(enabled)
        funcgrad.utils.deterministic.fill_uninitialized_memory = fill
        values = _values(make(funcgrad, funcgrad.float32))
        kept = 2 if name == "resize_" else 0  # resize_ keeps the two ones it had
        np.testing.assert_array_equal(values.ravel()[:kept], 1.0)
        np.testing.assert_array_equal(values.ravel()[kept:], 0.0)


def test_on_a_gpu_without_xlas_deterministic_ops_it_warns_with_the_fix(monkeypatch):
    monkeypatch.setattr(funcgrad._config.jax, "default_backend", lambda: "gpu")
    monkeypatch.setenv("XLA_FLAGS", "--xla_gpu_autotune_level=0")
    with pytest.warns(UserWarning, match=r"Set XLA_FLAGS=--xla_gpu_deterministic_ops=true in "
                                         r"the environment before JAX starts"):
        funcgrad.use_deterministic_algorithms(True)
    assert funcgrad.are_deterministic_algorithms_enabled()
    monkeypatch.setenv("XLA_FLAGS", "--xla_gpu_deterministic_ops=true")
    funcgrad.use_deterministic_algorithms(True, warn_only=True)  # (warnings are errors here)
    funcgrad.use_deterministic_algorithms(False)

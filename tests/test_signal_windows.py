"""``funcgrad.signal.windows`` against torch.signal.windows: every window's values for
several lengths, symmetric and periodic, in float32 and float64, its parameters, and
torch's errors."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# each window with the parameters it is called with (its defaults, then others)
_WINDOWS = [("bartlett", {}), ("blackman", {}), ("cosine", {}), ("exponential", {}),
            ("exponential", {"tau": 2.5}), ("gaussian", {}), ("gaussian", {"std": 0.4}),
            ("general_cosine", {"a": [0.46, 0.23, 0.31]}),
            ("general_cosine", {"a": lambda: (x for x in [0.5, 0.5])}),
            ("general_hamming", {}), ("general_hamming", {"alpha": 0.6}), ("hamming", {}),
            ("hann", {}), ("kaiser", {}), ("kaiser", {"beta": 0.0}), ("kaiser", {"beta": 3.5}),
            ("nuttall", {})]


def _window(lib, name, M, sym, dtype, params):
    params = {k: v() if callable(v) else v for k, v in params.items()}  # a generator, afresh
    return getattr(lib.signal.windows, name)(M, sym=sym, dtype=getattr(lib, dtype), **params)


def _assert_same(torch, ours, theirs, dtype) -> None:
    assert ours.dtype == getattr(funcgrad, dtype) and theirs.dtype == getattr(torch, dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    tolerance = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(np.asarray(ours), theirs.numpy(), rtol=tolerance,
                               atol=tolerance)


@pytest.mark.parametrize(("name", "params"), _WINDOWS)
@pytest.mark.parametrize("M", [0, 1, 2, 7, 10])
@pytest.mark.parametrize("sym", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_window_matches_torch(torch, name, params, M, sym, dtype):
    with jax.enable_x64(dtype == "float64"):
        _assert_same(torch, _window(funcgrad, name, M, sym, dtype, params),
                     _window(torch, name, M, sym, dtype, params), dtype)


@pytest.mark.parametrize("M", [1, 4, 9])
@pytest.mark.parametrize("center", [0.0, 2.0, 5.5])
def test_a_periodic_exponential_window_about_a_center_matches_torch(torch, M, center):
    ours, theirs = (lib.signal.windows.exponential(M, center=center, tau=1.5, sym=False)
                    for lib in (funcgrad, torch))
    _assert_same(torch, ours, theirs, "float32")


def test_the_default_dtype_and_requires_grad_are_torchs(torch):
    for lib in (funcgrad, torch):
        window = lib.signal.windows.hann(5, requires_grad=True)
        assert window.dtype == lib.float32 and window.requires_grad
    with jax.enable_x64(True):
        funcgrad.set_default_dtype(funcgrad.float64)
        try:
            assert funcgrad.signal.windows.kaiser(3).dtype == funcgrad.float64
        finally:
            funcgrad.set_default_dtype(funcgrad.float32)


@pytest.mark.parametrize("call", [
    lambda T: T.signal.windows.hann(-1),
    lambda T: T.signal.windows.blackman(-2),
    lambda T: T.signal.windows.exponential(-1),
    lambda T: T.signal.windows.kaiser(3, dtype=T.int32),
    lambda T: T.signal.windows.nuttall(3, dtype=T.float16),
    lambda T: T.signal.windows.bartlett(3, dtype=T.bfloat16),
    lambda T: T.signal.windows.gaussian(3, std=0),
    lambda T: T.signal.windows.gaussian(3, std=-1.5),
    lambda T: T.signal.windows.exponential(3, tau=0),
    lambda T: T.signal.windows.exponential(4, center=1.0),
    lambda T: T.signal.windows.kaiser(3, beta=-1),
    lambda T: T.signal.windows.general_cosine(3, a=5),
    lambda T: T.signal.windows.general_cosine(3, a=[]),
])
def test_errors_are_torchs(torch, call):
    assert_raises_as_torch(torch, call)


def test_coefficients_of_a_window_of_one_point_are_not_checked_as_torch(torch):
    for lib in (funcgrad, torch):
        assert lib.signal.windows.general_cosine(1, a=5).tolist() == [1.0]
        assert lib.signal.windows.general_cosine(0, a=[]).tolist() == []


def test_the_windows_are_torchs(torch):
    assert funcgrad.signal.windows.__all__ == torch.signal.windows.__all__
    from funcgrad.signal.windows import hann
    assert hann is funcgrad.signal.windows.hann

"""``stft`` and ``istft`` against torch's (values, ``grad_fn`` names, gradients, errors and
warnings) and against finite differences in float64."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import funcgrad
from funcgrad.autograd import gradcheck
from test_errors import assert_raises_as_torch, assert_warns_as_torch

SIGNAL = np.random.default_rng(0).standard_normal((2, 40))

# Keyword arguments of stft (and of the istft that inverts it); "window": a Hann window's length.
SETTINGS = {
    "defaults": dict(n_fft=16, window=16),
    "hop-win-normalized": dict(n_fft=16, hop_length=5, win_length=12, window=12,
                               normalized=True),
    "not-centered": dict(n_fft=16, center=False),
    "two-sided": dict(n_fft=16, onesided=False, window=16),
    "constant-pad": dict(n_fft=8, pad_mode="constant", window=8),
    "unbatched": dict(n_fft=16, window=16, unbatched=True),
}


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _arguments(lib, setting: dict) -> tuple:
    kwargs = dict(setting)
    unbatched, size = kwargs.pop("unbatched", False), kwargs.pop("window", None)
    signal = lib.tensor(SIGNAL[0] if unbatched else SIGNAL, dtype=lib.float32,
                        requires_grad=True)
    return signal, dict(kwargs, window=None if size is None else lib.hann_window(size))


def _transforms(lib, setting: dict) -> tuple:
    """stft of the signal, istft of that back to it, and the gradients of each."""
    signal, kwargs = _arguments(lib, setting)
    spectrum = lib.stft(signal, return_complex=True, **kwargs)
    (spectrum.real.sum() + (spectrum.imag ** 2).sum()).backward()
    given = spectrum.detach().requires_grad_()
    inverse = lib.istft(given, length=signal.shape[-1], **{
        k: v for k, v in kwargs.items() if k != "pad_mode"})
    (inverse ** 2).sum().backward()
    return spectrum, signal.grad, inverse, given.grad


def _numpy(t) -> np.ndarray:
    return np.asarray(t.detach().resolve_conj() if hasattr(t, "resolve_conj") else t.detach())


@pytest.mark.filterwarnings("ignore:A window was not provided")
@pytest.mark.parametrize("setting", SETTINGS.values(), ids=SETTINGS)
def test_stft_and_istft_match_torch(setting, torch) -> None:
    ours, theirs = _transforms(funcgrad, setting), _transforms(torch, setting)
    for got, want in zip(ours, theirs):
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(_numpy(got), _numpy(want), rtol=1e-4, atol=1e-4)
    for got, want in zip(ours[::2], theirs[::2]):
        assert got.grad_fn.name() == want.grad_fn.name()


def test_istft_inverts_stft() -> None:
    signal = funcgrad.tensor(SIGNAL, dtype=funcgrad.float32)
    window = funcgrad.hann_window(16)
    spectrum = funcgrad.stft(signal, 16, window=window, return_complex=True)
    back = funcgrad.istft(spectrum, 16, window=window, length=40)
    np.testing.assert_allclose(np.asarray(back), SIGNAL, atol=1e-5)


@pytest.mark.parametrize("setting", ["defaults", "hop-win-normalized", "two-sided"])
def test_gradients_match_finite_differences(setting) -> None:
    with jax.enable_x64(True):
        kwargs = dict(SETTINGS[setting])
        window = funcgrad.hann_window(kwargs.pop("window"), dtype=funcgrad.float64)
        signal = funcgrad.tensor(SIGNAL[:, :24], requires_grad=True)

        def spectrum_parts(x):
            spectrum = funcgrad.stft(x, window=window, return_complex=True, **kwargs)
            return funcgrad.view_as_real(spectrum)

        def inverse(x):
            spectrum = funcgrad.stft(x, window=window, return_complex=True, **kwargs)
            return funcgrad.istft(spectrum * 1.5, window=window, length=24, **{
                k: v for k, v in kwargs.items() if k != "pad_mode"})

        assert gradcheck(spectrum_parts, (signal,))
        assert gradcheck(inverse, (signal,))


def _stft(**kwargs):
    def call(lib):
        signal = lib.tensor(SIGNAL, dtype=lib.float32)
        rest = {k: v for k, v in kwargs.items() if k != "window"}
        window = kwargs.get("window")
        return lib.stft(signal, **rest, window=None if window is None else lib.ones(window))

    return call


@pytest.mark.parametrize("scenario", [
    _stft(n_fft=16),
    _stft(n_fft=16, return_complex=True, hop_length=0, window=16),
    _stft(n_fft=16, return_complex=True, win_length=20),
    _stft(n_fft=16, return_complex=True, win_length=12, window=10),
    _stft(n_fft=100, return_complex=True, center=False, window=100),
    _stft(n_fft=100, return_complex=True, window=100),
    lambda lib: lib.stft(lib.zeros(2, 2, 40), 16, window=lib.ones(16), return_complex=True),
    lambda lib: lib.istft(lib.zeros(9, 11), 16),
    lambda lib: lib.istft(lib.zeros(2, 9, 11, dtype=lib.complex64), 16, onesided=False,
                          window=lib.ones(16)),
    lambda lib: lib.istft(lib.ones(2, 9, 11, dtype=lib.complex64), 16, window=lib.zeros(16)),
], ids=["no-return-complex", "hop", "win-length", "window-size", "n-fft", "pad", "3d",
        "real-istft", "frequencies", "vanishing-window"])
def test_errors_match_torch(scenario, torch) -> None:
    assert_raises_as_torch(torch, scenario)


def test_real_output_warns_as_torch(torch) -> None:
    assert_warns_as_torch(torch, _stft(n_fft=16, return_complex=False, window=16))


@pytest.mark.parametrize("scenario", [
    _stft(n_fft=16, return_complex=True),
    lambda lib: lib.istft(lib.stft(lib.ones(40), 16, window=lib.ones(16), return_complex=True),
                          16),
], ids=["stft", "istft"])
def test_a_missing_window_warns(scenario) -> None:
    """(torch warns once per process, so its warning cannot be caught here again.)"""
    with pytest.warns(UserWarning, match="A window was not provided. A rectangular window"):
        scenario(funcgrad)


def test_the_tensor_methods_match_torch(torch) -> None:
    """``x.stft(...)`` and ``spectrum.istft(...)``, torch's methods, as the functions."""
    def transforms(lib):
        signal = lib.tensor(SIGNAL, dtype=lib.float32)
        window = lib.hann_window(16)
        spectrum = signal.stft(16, hop_length=4, window=window, return_complex=True)
        return spectrum, spectrum.istft(16, hop_length=4, window=window, length=SIGNAL.shape[-1])

    for got, want in zip(transforms(funcgrad), transforms(torch)):
        np.testing.assert_allclose(_numpy(got), _numpy(want), rtol=1e-4, atol=1e-4)

"""The short-time Fourier transform and its inverse, as torch's ``stft`` and ``istft``: composed
of the ops torch's own implementation runs (padding, frames, window, FFT, overlap-add), so the
gradients, and the ``grad_fn`` names, are theirs."""

from __future__ import annotations

import warnings

import jax.numpy as jnp

from . import _dtypes, fft
from ._autocast import FP32, autocast_policy
from ._complex import view_as_real
from ._factories import ones
from ._tensor import Tensor
from .nn import functional as F


def _signature(name: str, input: Tensor, n_fft: int, hop: int, win: int, window, **rest) -> str:
    """torch's rendering of a call, which its errors start with (istft's names the input's
    type as ``CPUComplexFloatType``)."""
    def tensor(t):
        return f"funcgrad.{_dtypes.scalar_name(t.dtype)}Tensor"

    shown = "None" if window is None else f"{tensor(window)}{{{list(window.shape)}}}"
    given = (tensor(input) if name == "stft" else
             f"{input.device.type.upper()}{_dtypes.scalar_name(input.dtype)}Type")
    extra = "".join(f", {k}={v}" for k, v in rest.items())
    return (f"{name}({given}{list(input.shape)}, n_fft={n_fft}, hop_length={hop}, "
            f"win_length={win}, window={shown}{extra})")


def _flag(value: bool | None) -> int | None:
    """An optional flag as torch's errors print it."""
    return None if value is None else int(value)


def _window(window, n_fft: int, win_length: int, dtype, warning: str) -> Tensor:
    """The window, zero-padded on both sides to ``n_fft`` points; a rectangle (with torch's
    warning) when none is given."""
    if window is None:
        warnings.warn(warning, stacklevel=3)
        window = ones(win_length, dtype=dtype)
    left = (n_fft - win_length) // 2
    return F.pad(window, (left, n_fft - win_length - left)) if win_length < n_fft else window


_NO_WINDOW = ("A window was not provided. A rectangular window will be applied,which is known "
              "to cause spectral leakage. Other windows such as funcgrad.hann_window or "
              "funcgrad.hamming_window are recommended to reduce spectral leakage.To suppress "
              "this warning and use a rectangular window, explicitly set "
              "`window=funcgrad.ones(n_fft, device=<device>)`.")


@autocast_policy(FP32)
def stft(input: Tensor, n_fft: int, hop_length: int | None = None,
         win_length: int | None = None, window: Tensor | None = None, center: bool = True,
         pad_mode: str = "reflect", normalized: bool = False, onesided: bool | None = None,
         return_complex: bool | None = None) -> Tensor:
    """The short-time Fourier transform of a signal (1-D) or a batch of them (2-D): the FFT of
    each frame of ``n_fft`` points, every ``hop_length`` (default ``n_fft // 4``), times
    ``window`` (``win_length`` points, centered; default a rectangle, with torch's warning).

    Args:
        center: pad ``n_fft // 2`` points on both sides (by ``pad_mode``), so frame ``t`` is
            centered at ``t * hop_length``.
        normalized: multiply by ``n_fft ** -0.5``.
        onesided: only the non-negative frequencies (default for a real signal and window).
        return_complex: must be given for a real signal; False returns ``view_as_real``.

    Returns:
        A complex tensor ``(batch?, frequencies, frames)``.

    Raises:
        RuntimeError: torch's, for a missing ``return_complex``, more than 2 dimensions, or an
            ``n_fft``, hop, window length or window that does not fit.

    >>> import funcgrad
    >>> x = funcgrad.arange(8.0)
    >>> funcgrad.stft(x, 4, window=funcgrad.ones(4), return_complex=True).shape
    funcgrad.Size([3, 9])
    """
    complex_input = _dtypes.is_complex(input.dtype) or (
        window is not None and _dtypes.is_complex(window.dtype))
    if return_complex is None and not complex_input:
        raise RuntimeError("stft requires the return_complex parameter be given for real "
                           "inputs, and will further require that return_complex=True in a "
                           "future PyTorch release.")
    if return_complex is False:
        warnings.warn("stft with return_complex=False is deprecated. In a future pytorch "
                      "release, stft will return complex tensors for all inputs, and "
                      "return_complex=False will raise an error.\nNote: you can still call "
                      "funcgrad.view_as_real on the complex output to recover the old return "
                      "format.", stacklevel=2)
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if center:  # padded as a batch of one-channel signals, whatever its dimensions
        shape = tuple(input.shape)
        padded = F.pad(input.reshape((1,) * (3 - len(shape)) + shape), (n_fft // 2,) * 2,
                       pad_mode)
        input = padded.reshape(padded.shape[-len(shape):])
    rest = dict(normalized=int(normalized), onesided=_flag(onesided), return_complex=int(
        bool(return_complex or complex_input)), align_to_window=None)

    def fail(rule: str) -> None:
        raise RuntimeError(f"{_signature('stft', input, n_fft, hop, win, window, **rest)} : "
                           f"{rule}")

    if not 1 <= input.ndim <= 2:
        fail("expected a 1D or 2D tensor")
    length = input.shape[-1]
    if not 0 < n_fft <= length:
        fail(f"expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop <= 0:
        fail(f"expected hop_length > 0, but got hop_length={hop}")
    if not 0 < win <= n_fft:
        fail(f"expected 0 < win_length <= n_fft, but got win_length={win}")
    if window is not None and (window.ndim != 1 or window.shape[0] != win):
        fail(f"expected a 1D window tensor of size equal to win_length={win}, but got window "
             f"with size {list(window.shape)}")
    batched = input.ndim == 2
    frames = (input if batched else input.unsqueeze(0)).unfold(-1, n_fft, hop)
    frames = frames * _window(window, n_fft, win, input.dtype, _NO_WINDOW)
    onesided = not complex_input if onesided is None else onesided
    spectrum = (fft.rfft if onesided else fft.fft)(frames, norm="ortho" if normalized else None)
    spectrum.transpose_(1, 2)
    if not batched:
        spectrum.squeeze_(0)
    return spectrum if return_complex or complex_input else view_as_real(spectrum)


_NO_WINDOW_INVERSE = ("A window was not provided. A rectangular window will be applied.Please "
                      "provide the same window used by stft to make the inversion lossless.To "
                      "suppress this warning and use a rectangular window, explicitly set "
                      "`window=funcgrad.ones(n_fft, device=<device>)`.")


def istft(input: Tensor, n_fft: int, hop_length: int | None = None,
          win_length: int | None = None, window: Tensor | None = None, center: bool = True,
          normalized: bool = False, onesided: bool | None = None, length: int | None = None,
          return_complex: bool = False) -> Tensor:
    """The inverse of ``stft``: each frame's inverse FFT, windowed and overlap-added, divided by
    the overlap-added squared window (which must not vanish), cropped (or zero-padded) to
    ``length`` points.

    Raises:
        RuntimeError: torch's, for a real ``input``, a frequency dimension that does not match
            ``n_fft``, or a window whose overlap-add vanishes somewhere.

    >>> import funcgrad
    >>> x = funcgrad.arange(8.0)
    >>> w = funcgrad.hann_window(4)
    >>> spectrum = funcgrad.stft(x, 4, window=w, return_complex=True)
    >>> funcgrad.istft(spectrum, 4, window=w, length=8)
    tensor([0., 1., 2., 3., 4., 5., 6., 7.])
    """
    if not _dtypes.is_complex(input.dtype):
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    batched = input.ndim == 3
    spectrum = input if batched else input.unsqueeze(0)
    call = _signature("istft", input, n_fft, hop, win, window, center=int(center),
                      normalized=int(normalized), onesided=_flag(onesided), length=length,
                      return_complex=int(return_complex))
    onesided = spectrum.shape[-2] != n_fft if onesided is None else onesided
    expected = n_fft // 2 + 1 if onesided else n_fft
    if spectrum.shape[-2] != expected:
        raise RuntimeError(
            f"{call} : expected the frequency dimension (3rd to the last) of the input tensor "
            f"to match {'n_fft / 2 + 1' if onesided else 'n_fft'} when onesided="
            f"{onesided}, but got {spectrum.shape[-2]}")
    norm = "ortho" if normalized else None
    spectrum = spectrum.transpose(1, 2)
    if return_complex:
        frames = fft.ifft(spectrum, n_fft, norm=norm)
    else:  # a real signal: torch reads the non-negative frequencies alone, even when given all
        frames = fft.irfft(spectrum[..., :n_fft // 2 + 1], n_fft, norm=norm)
    w = _window(window, n_fft, win, jnp.finfo(frames.dtype).dtype, _NO_WINDOW_INVERSE)
    n_frames = frames.shape[1]
    total = n_fft + hop * (n_frames - 1)

    def overlap_add(columns):
        return F.fold(columns.transpose(1, 2), (1, total), (1, n_fft), stride=(1, hop))[:, 0, 0]

    signal = overlap_add(frames * w)
    envelope = overlap_add((w * w).expand(1, n_frames, n_fft))[0]
    start = n_fft // 2 if center else 0
    end = total - (n_fft // 2 if center else 0) if length is None else start + length
    signal, envelope = signal[:, start:end], envelope[start:end]
    if envelope.abs().min() < 1e-11:
        raise RuntimeError(f"{call} window overlap add min: 1\n[ CPUBoolType{{}} ]")
    signal = signal / envelope
    if length is not None and signal.shape[-1] < length:
        signal = F.pad(signal, (0, length - signal.shape[-1]))
    return signal if batched else signal.squeeze(0)


Tensor.stft = stft
Tensor.istft = istft

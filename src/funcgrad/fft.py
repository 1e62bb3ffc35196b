"""``funcgrad.fft``: torch.fft's discrete Fourier transforms, computed by ``jax.numpy.fft``
(derivatives included), with torch's arguments (``n``/``s``, ``dim``, ``norm``), ``grad_fn``
names and errors.

As in torch, an integer input is transformed in the default float dtype. torch records some
transforms as a chain of nodes (``ifft`` of a real input as an ``FftR2C`` then a ``Conj``);
here each is one node, named as torch's last one.

>>> import funcgrad
>>> x = funcgrad.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
>>> funcgrad.fft.rfft(x)
tensor([10.+0.j, -2.+2.j, -2.+0.j], grad_fn=<FftR2CBackward0>)
>>> (funcgrad.fft.rfft(x).abs() ** 2).sum().backward(); x.grad
tensor([12., 20., 20., 28.])
"""

from __future__ import annotations

import functools

import jax.numpy as jnp

from . import _dtypes
from ._autocast import FP32, autocast_policy
from ._factories import _finish, _float_dtype
from ._graph import Op, apply
from ._ops import _wrap_dim, roll
from ._tensor import Tensor

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
           "fftn", "ifftn", "rfftn", "irfftn", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq",
           "rfftfreq", "fftshift", "ifftshift"]

_NORMS = (None, "backward", "ortho", "forward")


def _c2c_name(forward: bool):
    """torch's last node of a complex-output transform of one dimension: ``FftC2C`` for a
    complex input; for a real one, ``FftR2C`` (forward) or the ``Conj`` after it (inverse)."""
    real_input = "FftR2CBackward0" if forward else "ConjBackward0"
    return lambda x, **_: "FftC2CBackward0" if _dtypes.is_complex(x.dtype) else real_input


_SWAPPED = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def _hfftn(x, s, axes, norm):
    """The N-D Hermitian FFT (jnp has none): the inverse real FFT of the conjugate, scaled the
    other way."""
    return jnp.fft.irfftn(jnp.conj(x), s, axes, norm=_SWAPPED[norm])


def _ihfftn(x, s, axes, norm):
    return jnp.conj(jnp.fft.rfftn(x, s, axes, norm=_SWAPPED[norm]))


_FUNCTIONS = {"hfftn": _hfftn, "ihfftn": _ihfftn}


@functools.cache
def _op(name: str, grad_fn) -> Op:
    """The op computing ``jnp.fft.<name>`` (or ``_FUNCTIONS``'); its static arguments are
    jnp's."""
    return Op(name, _FUNCTIONS.get(name) or getattr(jnp.fft, name), grad_fn)


_GRAD_FNS = dict(
    fft=_c2c_name(forward=True), ifft=_c2c_name(forward=False), rfft="FftR2CBackward0",
    irfft="FftC2RBackward0", hfft="FftC2RBackward0", ihfft="ConjBackward0",
    fftn="FftC2CBackward0", ifftn="FftC2CBackward0", rfftn="FftR2CBackward0",
    irfftn="FftC2RBackward0", hfftn="FftC2RBackward0",
    # (over one dimension torch takes ihfft's path, which ends in a Conj)
    ihfftn=lambda x, axes, **_: "ConjBackward0" if len(axes) == 1 else "FftC2CBackward0",
)
# Transforms that take real inputs only, with the name torch's error gives them.
_REAL_ONLY = {"rfft": "rfft expects a real input tensor",
              "ihfft": "ihfft expects a real input tensor",
              "rfftn": "rfftn expects a real-valued input tensor"}


def _prepare(name: str, input, norm) -> Tensor:
    """``input`` checked for transform ``name`` and ``norm``; integers in the default float."""
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    if name == "ihfftn" and _dtypes.is_complex(input.dtype):
        raise RuntimeError("Only supports floating-point dtypes, but found: "
                           f"{_dtypes.scalar_name(input.dtype)}")
    if name in _REAL_ONLY and _dtypes.is_complex(input.dtype):
        raise RuntimeError(f"{_REAL_ONLY[name]}, but got {_dtypes.scalar_name(input.dtype)}")
    if not _dtypes.is_inexact(input.dtype):
        return input.to(_dtypes.get_default_dtype())
    return input


def _check_points(sizes) -> None:
    for n in sizes:
        if n is not None and n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")


def _one_dim(name: str, doc: str):
    def transform(input, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
        input = _prepare(name, input, norm)
        _check_points([n])
        axis = _wrap_dim(dim, input.ndim)
        return apply(_op(name, _GRAD_FNS[name]), input, n=n, axis=axis, norm=norm)

    transform.__name__ = transform.__qualname__ = name
    transform.__doc__ = (f"{doc} along ``dim``, of ``n`` points (the input cropped or "
                         "zero-padded; by default its size), normalized as ``norm`` says "
                         '(``"backward"``, ``"ortho"`` or ``"forward"``).')
    return autocast_policy(FP32)(transform)


def _n_dims(name: str, jnp_name: str, default_dims, doc: str):
    def transform(input, s=None, dim=default_dims, norm: str | None = None) -> Tensor:
        input = _prepare(jnp_name, input, norm)
        if s is not None and dim is not None and len(s) != len(dim):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
        if dim is None:
            dim = range(input.ndim) if s is None else range(-len(s), 0)
        axes = tuple(_wrap_dim(d, input.ndim) for d in dim)
        _check_points(s or ())
        return apply(_op(jnp_name, _GRAD_FNS[jnp_name]), input,
                     s=None if s is None else tuple(s), axes=axes, norm=norm)

    transform.__name__ = transform.__qualname__ = name
    transform.__doc__ = (f"{doc} over the dimensions ``dim``, of sizes ``s`` (the input cropped "
                         "or zero-padded; by default its sizes), normalized as ``norm`` says.")
    # torch's autocast computes the transforms in float32, all but the Hermitian N-D ones
    return transform if jnp_name in ("hfftn", "ihfftn") else autocast_policy(FP32)(transform)


fft = _one_dim("fft", "The discrete Fourier transform")
ifft = _one_dim("ifft", "The inverse discrete Fourier transform")
rfft = _one_dim("rfft", "The Fourier transform of a real signal, its non-negative frequencies")
irfft = _one_dim("irfft", "The real signal of the non-negative frequencies of a Hermitian "
                          "spectrum (``rfft``'s inverse)")
hfft = _one_dim("hfft", "The real spectrum of a Hermitian signal given by its first half")
ihfft = _one_dim("ihfft", "The inverse of ``hfft``: of a real signal, its first half")
fft2 = _n_dims("fft2", "fftn", (-2, -1), "The 2-D discrete Fourier transform")
ifft2 = _n_dims("ifft2", "ifftn", (-2, -1), "The 2-D inverse discrete Fourier transform")
rfft2 = _n_dims("rfft2", "rfftn", (-2, -1), "The 2-D Fourier transform of a real signal")
irfft2 = _n_dims("irfft2", "irfftn", (-2, -1), "The inverse of ``rfft2``")
fftn = _n_dims("fftn", "fftn", None, "The N-D discrete Fourier transform")
ifftn = _n_dims("ifftn", "ifftn", None, "The N-D inverse discrete Fourier transform")
rfftn = _n_dims("rfftn", "rfftn", None, "The N-D Fourier transform of a real signal")
irfftn = _n_dims("irfftn", "irfftn", None, "The inverse of ``rfftn``")
hfft2 = _n_dims("hfft2", "hfftn", (-2, -1), "The 2-D real spectrum of a Hermitian signal given "
                                            "by its first half along the last dimension")
ihfft2 = _n_dims("ihfft2", "ihfftn", (-2, -1), "The inverse of ``hfft2``: of a real signal")
hfftn = _n_dims("hfftn", "hfftn", None, "The N-D real spectrum of a Hermitian signal given by "
                                        "its first half along the last dimension")
ihfftn = _n_dims("ihfftn", "ihfftn", None, "The inverse of ``hfftn``: of a real signal")


def fftfreq(n: int, d: float = 1.0, *, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """The sample frequencies of ``fft`` for ``n`` points spaced ``d`` apart.

    >>> import funcgrad
    >>> funcgrad.fft.fftfreq(4)
    tensor([ 0.0000,  0.2500, -0.5000, -0.2500])
    """
    dtype = _float_dtype(dtype)
    return _finish(jnp.fft.fftfreq(n, d, dtype=dtype), dtype, device, requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """The sample frequencies of ``rfft`` for ``n`` points spaced ``d`` apart."""
    dtype = _float_dtype(dtype)
    return _finish(jnp.fft.rfftfreq(n, d, dtype=dtype), dtype, device, requires_grad)


def _shift_dims(input, dim) -> tuple[int, ...]:
    dims = range(input.ndim) if dim is None else dim if isinstance(dim, (list, tuple)) else [dim]
    return tuple(_wrap_dim(d, input.ndim) for d in dims)


def fftshift(input, dim=None) -> Tensor:
    """Rolls the zero frequency to the middle of ``dim`` (every dimension when None)."""
    dims = _shift_dims(input, dim)
    return roll(input, [input.shape[d] // 2 for d in dims], dims)


def ifftshift(input, dim=None) -> Tensor:
    """The inverse of ``fftshift``."""
    dims = _shift_dims(input, dim)
    return roll(input, [-(input.shape[d] // 2) for d in dims], dims)

"""``funcgrad.signal.windows``: torch.signal.windows's windows of ``M`` points, symmetric
(``sym=True``, the default, for filter design) or periodic (``sym=False``, for spectral
analysis: the symmetric window one longer with its last point dropped). Each checks its
arguments as torch's does, raising torch's errors.

A window made with ``requires_grad=True`` is a leaf here; torch's is the output of the
operations that computed it (``grad_fn=<SumBackward1>`` …), with the same values.

>>> import funcgrad
>>> funcgrad.signal.windows.hann(5)
tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
"""

from __future__ import annotations

from collections.abc import Iterable

import jax.numpy as jnp

from .. import _dtypes, _layouts
from .._factories import _finish, _float_dtype
from .._windows import cosine_sum, samples, triangle
from .._windows import kaiser as _kaiser

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]


def _checked_dtype(name: str, M: int, dtype, layout):
    """torch's checks common to every window; returns the window's dtype."""
    dtype = _dtypes.get_default_dtype() if dtype is None else jnp.dtype(dtype)
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not _layouts.strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dtype not in (jnp.float32, jnp.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: "
                         f"{_dtypes.name(dtype)}")
    return _float_dtype(dtype)


def _window(M: int, sym: bool, dtype, device, requires_grad: bool, values):
    return _finish(samples(M, not sym, dtype, values), dtype, device, requires_grad)


def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True,
                dtype=None, layout=_layouts.strided, device=None,
                requires_grad: bool = False):
    """The exponential (Poisson) window ``exp(-|n - c| / tau)``.

    Args:
        M: the window's length.
        center: ``c``; by default the window's middle, ``(M - 1) / 2``, or ``M / 2`` for a
            periodic window; only a periodic window takes one.
        tau: the decay, positive.
        sym: symmetric (True) or periodic (False).
        dtype, layout, device, requires_grad: as torch's factories.

    Returns:
        The window, a tensor of ``M`` values.

    Raises:
        ValueError: for a negative ``M``, ``tau`` <= 0, a ``center`` of a symmetric window,
            a dtype other than float32 or float64, or a layout other than strided.

    >>> import funcgrad
    >>> funcgrad.signal.windows.exponential(4, center=1.0, sym=False)
    tensor([0.3679, 1.0000, 0.3679, 0.1353])
    """
    dtype = _checked_dtype("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2
    # not from ``samples``: with a center given, a window of one point is not 1
    array = jnp.exp(-jnp.abs(jnp.arange(M, dtype=dtype) - center) / tau).astype(dtype)
    return _finish(array, dtype, device, requires_grad)


def cosine(M: int, *, sym: bool = True, dtype=None, layout=_layouts.strided, device=None,
           requires_grad: bool = False):
    """The cosine (sine) window ``sin(pi (n + 1/2) / M)``.

    Args:
        M: the window's length.
        sym: symmetric (True) or periodic (False).
        dtype, layout, device, requires_grad: as torch's factories.

    Returns:
        The window, a tensor of ``M`` values.

    Raises:
        ValueError: for a negative ``M``, a dtype other than float32 or float64, or a
            layout other than strided.

    >>> import funcgrad
    >>> funcgrad.signal.windows.cosine(3)
    tensor([0.5000, 1.0000, 0.5000])
    """
    dtype = _checked_dtype("cosine", M, dtype, layout)
    return _window(M, sym, dtype, device, requires_grad,
                   lambda k, n: jnp.sin(jnp.pi * (k + 0.5) / n))


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype=None,
             layout=_layouts.strided, device=None, requires_grad: bool = False):
    """The gaussian window ``exp(-((n - (M - 1) / 2) / std)^2 / 2)``.

    Args:
        M: the window's length.
        std: the standard deviation, positive.
        sym: symmetric (True) or periodic (False).
        dtype, layout, device, requires_grad: as torch's factories.

    Returns:
        The window, a tensor of ``M`` values.

    Raises:
        ValueError: for a negative ``M``, ``std`` <= 0, a dtype other than float32 or
            float64, or a layout other than strided.

    >>> import funcgrad
    >>> funcgrad.signal.windows.gaussian(3)
    tensor([0.6065, 1.0000, 0.6065])
    """
    dtype = _checked_dtype("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    return _window(M, sym, dtype, device, requires_grad,
                   lambda k, n: jnp.exp(-0.5 * ((k - (n - 1) / 2) / std) ** 2))


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype=None,
           layout=_layouts.strided, device=None, requires_grad: bool = False):
    """The Kaiser window ``I0(beta sqrt(1 - (2n / (M - 1) - 1)^2)) / I0(beta)``.

    Args:
        M: the window's length.
        beta: the shape, non-negative (0: the rectangular window).
        sym: symmetric (True) or periodic (False).
        dtype, layout, device, requires_grad: as torch's factories.

    Returns:
        The window, a tensor of ``M`` values.

    Raises:
        ValueError: for a negative ``M``, a negative ``beta``, a dtype other than float32
            or float64, or a layout other than strided.

    >>> import funcgrad
    >>> funcgrad.signal.windows.kaiser(3, beta=2.0)
    tensor([0.4387, 1.0000, 0.4387])
    """
    dtype = _checked_dtype("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    return _window(M, sym, dtype, device, requires_grad, _kaiser(beta))


def bartlett(M: int, *, sym: bool = True, dtype=None, layout=_layouts.strided, device=None,
             requires_grad: bool = False):
    """The Bartlett (triangular) window ``1 - |2n / (M - 1) - 1|``.

    Args:
        M: the window's length.
        sym: symmetric (True) or periodic (False).
        dtype, layout, device, requires_grad: as torch's factories.

    Returns:
        The window, a tensor of ``M`` values.

    Raises:
        ValueError: for a negative ``M``, a dtype other than float32 or float64, or a
            layout other than strided.

    >>> import funcgrad
    >>> funcgrad.signal.windows.bartlett(5)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    dtype = _checked_dtype("bartlett", M, dtype, layout)
    return _window(M, sym, dtype, device, requires_grad, triangle)


def general_cosine(M: int, *, a: Iterable, sym: bool = True, dtype=None,
                   layout=_layouts.strided, device=None, requires_grad: bool = False):
    """The sum of cosines ``sum_i (-1)^i a_i cos(2 pi i n / (M - 1))``.

    Args:
        M: the window's length.
        a: the coefficients ``a_i``, at least one.
        sym: symmetric (True) or periodic (False).
        dtype, layout, device, requires_grad: as torch's factories.

    Returns:
        The window, a tensor of ``M`` values.

    Raises:
        ValueError: for a negative ``M``, no coefficients, a dtype other than float32 or
            float64, or a layout other than strided.
        TypeError: for coefficients that are not iterable (torch checks them for ``M`` > 1
            only, as here).

    >>> import funcgrad
    >>> funcgrad.signal.windows.general_cosine(5, a=[0.5, 0.5])
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    dtype = _checked_dtype("general_cosine", M, dtype, layout)
    if M > 1:
        if not isinstance(a, Iterable):
            raise TypeError("Coefficients must be a list/tuple")
        if not a:
            raise ValueError("Coefficients cannot be empty")
    return _window(M, sym, dtype, device, requires_grad, cosine_sum(*a) if M > 1 else None)


def general_hamming(M: int, *, alpha: float = 0.54, sym: bool = True, dtype=None,
                    layout=_layouts.strided, device=None, requires_grad: bool = False):
    """The window ``alpha - (1 - alpha) cos(2 pi n / (M - 1))``: ``general_cosine`` with
    ``a = [alpha, 1 - alpha]``, whose checks and errors it has.

    >>> import funcgrad
    >>> funcgrad.signal.windows.general_hamming(3, alpha=0.6)
    tensor([0.2000, 1.0000, 0.2000])
    """
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def hamming(M: int, *, sym: bool = True, dtype=None, layout=_layouts.strided, device=None,
            requires_grad: bool = False):
    """The Hamming window, ``general_hamming`` with ``alpha = 0.54``.

    >>> import funcgrad
    >>> funcgrad.signal.windows.hamming(3)
    tensor([0.0800, 1.0000, 0.0800])
    """
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def hann(M: int, *, sym: bool = True, dtype=None, layout=_layouts.strided, device=None,
         requires_grad: bool = False):
    """The Hann window, ``general_hamming`` with ``alpha = 0.5``.

    >>> import funcgrad
    >>> funcgrad.signal.windows.hann(4, sym=False)
    tensor([0.0000, 0.5000, 1.0000, 0.5000])
    """
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M: int, *, sym: bool = True, dtype=None, layout=_layouts.strided, device=None,
             requires_grad: bool = False):
    """The Blackman window, ``general_cosine`` with ``a = [0.42, 0.5, 0.08]``.

    >>> import funcgrad
    >>> funcgrad.signal.windows.blackman(3)
    tensor([-1.4901e-08,  1.0000e+00, -1.4901e-08])
    """
    _checked_dtype("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def nuttall(M: int, *, sym: bool = True, dtype=None, layout=_layouts.strided, device=None,
            requires_grad: bool = False):
    """The Nuttall window, ``general_cosine`` with ``a = [0.3635819, 0.4891775, 0.1365995,
    0.0106411]``.

    >>> import funcgrad
    >>> funcgrad.signal.windows.nuttall(3)
    tensor([3.6280e-04, 1.0000e+00, 3.6280e-04])
    """
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym,
                          dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)

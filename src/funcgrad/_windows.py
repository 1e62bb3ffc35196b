"""Signal windows, as torch's (``hann_window``, ``hamming_window``, ``blackman_window``,
``bartlett_window``, ``kaiser_window``): a ``periodic`` window (the default, for spectral
analysis) is the symmetric window one longer with its last value dropped.

>>> import funcgrad
>>> funcgrad.hann_window(4)
tensor([0.0000, 0.5000, 1.0000, 0.5000])
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._factories import _finish, _float_dtype

__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window"]


def _window(name: str, window_length: int, periodic: bool, dtype, device, requires_grad,
            values) -> object:
    """A window from ``values(k, n)``, the symmetric window of length ``n`` >= 2 at the
    positions ``k = 0 .. n-1``."""
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    dtype = _float_dtype(dtype)
    return _finish(samples(window_length, periodic, dtype, values), dtype, device,
                   requires_grad)


def samples(window_length: int, periodic: bool, dtype, values) -> jax.Array:
    """The JAX array of a window from ``values(k, n)``, the symmetric window of length
    ``n`` >= 2 at the positions ``k = 0 .. n-1``; a window of length 0 or 1 is empty or
    ``[1]``, whether periodic or not."""
    if window_length <= 1:
        return jnp.ones((window_length,), dtype)
    n = window_length + 1 if periodic else window_length
    return values(jnp.arange(n, dtype=dtype), n)[:window_length].astype(dtype)


def cosine_sum(*coefficients: float):
    """The window ``sum_j (-1)^j a_j cos(2 pi j k / (N - 1))`` of coefficients ``a_j``."""
    return lambda k, n: sum((-1) ** j * a * jnp.cos(2 * jnp.pi * j * k / (n - 1))
                            for j, a in enumerate(coefficients))


def triangle(k, n):
    """The window ``1 - |2k / (N - 1) - 1|``."""
    return 1 - jnp.abs(2 * k / (n - 1) - 1)


def kaiser(beta: float):
    """The window ``I0(beta sqrt(1 - (2k / (N - 1) - 1)^2)) / I0(beta)``."""
    return lambda k, n: jnp.i0(beta * jnp.sqrt(jnp.clip(
        1 - (2 * k / (n - 1) - 1) ** 2, 0))) / jnp.i0(beta)


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, device=None,
                requires_grad: bool = False):
    """``0.5 - 0.5 cos(2 pi k / (N - 1))``."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   cosine_sum(0.5, 0.5))


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype=None, device=None, requires_grad: bool = False):
    """``alpha - beta cos(2 pi k / (N - 1))``."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   cosine_sum(alpha, beta))


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, device=None,
                    requires_grad: bool = False):
    """``0.42 - 0.5 cos(2 pi k / (N - 1)) + 0.08 cos(4 pi k / (N - 1))``."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   cosine_sum(0.42, 0.5, 0.08))


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, device=None,
                    requires_grad: bool = False):
    """The triangle ``1 - |2k / (N - 1) - 1|``."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   triangle)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype=None, device=None, requires_grad: bool = False):
    """``I0(beta sqrt(1 - (2k / (N - 1) - 1)^2)) / I0(beta)``."""
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   kaiser(beta))

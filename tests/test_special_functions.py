"""torch.special's Bessel and Airy functions and orthogonal polynomials against torch's, in
float32 and in float64: values (branch points, zeros, negative, large, infinite and NaN
arguments; negative, fractional, huge and non-finite degrees), dtypes, broadcasting, and the
missing derivative (a result outside the graph, and torch's errors).

funcgrad computes them by torch's own algorithms, so values agree to rounding: XLA's
elementary functions and torch's fused multiply-adds differ from each other in the last bit,
which cancellation (near a zero, or in a recurrence or closed form of high degree) magnifies.
The tolerances below are set that way: relative to the value, or to the size of the terms that
cancel.
"""

from __future__ import annotations

import contextlib

import jax
import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch

FUNCTIONS = list(funcgrad.special._FUNCTIONS)
POLYNOMIALS = list(funcgrad.special._POLYNOMIALS)
DTYPES = ["float32", "float64"]

# Zeros, the branch points of torch's kernels (5 for J and Y, 2 for K, 8 for I, -2.09, 2.09
# and 8.3203353 for Ai, 0.5 for the spherical J0, 1e-5), tiny, large, infinite and NaN.
X = np.concatenate([np.linspace(-12.0, 12.0, 97), [
    -0.0, 1e-6, -1e-6, 1e-5, 0.5, 2.09, -2.09, 8.3203353, 20.0, -20.0, 50.0, -50.0, 88.0, 100.0,
    103.9, 700.0, -700.0, 1e4, -1e4, np.inf, -np.inf, np.nan]])
# Functions that cross zero, whose values near a zero are a difference of terms of size 1.
OSCILLATING = {"airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
               "spherical_bessel_j0"}

# Arguments on both sides of [-1, 1] and of [0, 1] (the shifted polynomials' interval), their
# ends, 0 and -0.0; degrees negative, fractional (truncated), either side of the degrees where
# torch's Chebyshev kernels switch from the recurrence to the closed form (4, 6 and 8).
POLY_X = np.concatenate([np.linspace(-2.5, 2.5, 41), [-0.0, 0.3, 0.75, 3.0, -3.0]])
POLY_N = np.array([-2, -0.5, 0, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 20, 31])


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _precision(dtype: str):
    return jax.enable_x64(True) if dtype == "float64" else contextlib.nullcontext()


def _ours(name: str, *arrays, requires_grad: bool = False):
    args = [funcgrad.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f")
            for a in arrays]
    return getattr(funcgrad.special, name)(*args)


def _theirs(torch, name: str, *arrays, requires_grad: bool = False):
    args = [torch.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f") for a in arrays]
    return getattr(torch.special, name)(*args)


def _assert_close_to_scale(got: np.ndarray, want: np.ndarray, ulps: float) -> None:
    """Within ``ulps`` units of ``want``'s dtype times ``max(|want|, 1)``, the size of the terms
    a polynomial's recurrence and closed forms cancel on ``[-1, 1]``; NaN where torch's is."""
    eps = np.finfo(np.asarray(want).dtype).eps
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[np.isinf(want)], want[np.isinf(want)])
    finite = np.isfinite(want)
    error = np.abs(got[finite] - want[finite]) / np.maximum(np.abs(want[finite]), 1.0)
    assert error.max(initial=0.0) <= ulps * eps, error.max() / eps


# ----- Bessel and Airy functions ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_matches_torch(name: str, dtype: str, torch) -> None:
    x = X.astype(dtype)
    want = _theirs(torch, name, x, requires_grad=True)
    with _precision(dtype):
        got = _ours(name, x, requires_grad=True)
        assert (got.dtype, tuple(got.shape)) == (np.dtype(dtype), tuple(want.shape))
        assert (got.requires_grad, got.grad_fn) == (want.requires_grad, want.grad_fn) == (
            False, None)
        eps, tiny = np.finfo(dtype).eps, np.finfo(dtype).tiny
        # XLA flushes subnormal results to zero: K0 and K1 past 85 in float32 are 0, not 1e-39.
        np.testing.assert_allclose(np.asarray(got), want.detach().numpy(), rtol=32 * eps,
                                   atol=8 * eps if name in OSCILLATING else tiny)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_of_integers_and_bools_is_in_the_default_dtype(name: str, torch) -> None:
    for values in ([0, 1, 3, -2], [True, False]):
        want = getattr(torch.special, name)(torch.tensor(values))
        got = getattr(funcgrad.special, name)(funcgrad.tensor(values))
        assert got.dtype == funcgrad.float32 and want.dtype == torch.float32
        np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-6, atol=1e-7)


# ----- orthogonal polynomials ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomial_matches_torch(name: str, dtype: str, torch) -> None:
    x, n = POLY_X.astype(dtype)[:, None], POLY_N.astype(dtype)
    want = _theirs(torch, name, x, n, requires_grad=True)
    with _precision(dtype):
        got = _ours(name, x, n, requires_grad=True)
        assert (got.dtype, tuple(got.shape)) == (np.dtype(dtype), tuple(want.shape))
        assert (got.requires_grad, got.grad_fn) == (want.requires_grad, want.grad_fn) == (
            False, None)
        _assert_close_to_scale(got, want.detach().numpy(), 256)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomial_at_edges_matches_torch(name: str, dtype: str, torch) -> None:
    """The ends of the intervals, infinite arguments, overflowing values (|x| > 1 at high
    degree), high degrees (the closed forms, torch's Hermite limits 128 and 512 and the long
    recurrences), and non-finite or out-of-range degrees, which torch's conversion to int64
    makes negative, so 0."""
    x = np.array([0.0, -0.0, 1.0, -1.0, 0.5, 0.3, -0.6, 1.5, -1.5, 50.0, -50.0, np.inf,
                  -np.inf], dtype)[:, None]
    n = np.array([100, 128, 129, 512, 513, 1000, np.nan, np.inf, -np.inf, 1e30, -1e30], dtype)
    want = _theirs(torch, name, x, n).numpy()
    with _precision(dtype):
        got = np.asarray(_ours(name, x, n))
    # A closed form's phase n * acos(x) carries acos's last bit n times over.
    _assert_close_to_scale(got, want, 64 * 1000)


# torch reads an uninitialized variable for a NaN argument at degree 2 or more in these (its
# recurrence stops before the first step, on the NaN): a value that depends on the build.
_UNINITIALIZED = {"chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
                  "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
                  "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w",
                  "laguerre_polynomial_l", "legendre_polynomial_p"}


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomial_of_nan_matches_torch(name: str, torch) -> None:
    n = np.array([0.0, 1.0] if name in _UNINITIALIZED else [0.0, 1.0, 2.0, 5.0, 200.0],
                 np.float32)
    x = np.full(n.shape, np.nan, np.float32)
    np.testing.assert_array_equal(np.asarray(_ours(name, x, n)), _theirs(torch, name, x, n))


# (input, n) pairs as the same code makes them in either library: a tensor or a number each,
# integer and float dtypes mixed, 0-d tensors (which do not decide a dimensioned tensor's dtype).
PROMOTIONS = {
    "float32-int64": lambda m: (m.tensor([0.5, 2.0, -0.3]), m.tensor([3, 4, 9])),
    "int64-int64": lambda m: (m.tensor([2, -1, 0]), m.tensor([3, 4, 2])),
    "bool-int": lambda m: (m.tensor([True, False]), 3),
    "int64-int": lambda m: (m.tensor([2, -1, 3]), 3),
    "float32-int": lambda m: (m.tensor([0.5, 2.0]), 3),
    "float32-float": lambda m: (m.tensor([0.5, 2.0]), 3.7),
    "float32-bool": lambda m: (m.tensor([0.5, 2.0]), True),
    "float-int64": lambda m: (0.5, m.tensor([3, 4, 10])),
    "int-int64": lambda m: (2, m.tensor([3, 4])),
    "0d-float32": lambda m: (m.tensor(0.25), m.tensor([2.0, 7.0, 9.0])),
    "broadcast": lambda m: (m.tensor([[0.25], [-0.7], [1.2]]), m.tensor([0.0, 2.0, 7.0, 11.0])),
}
PROMOTIONS_64 = {
    "float64-float32": lambda m: (m.tensor([0.5, 2.0], dtype=m.float64), m.tensor([3.0, 9.0])),
    "float32-float64": lambda m: (m.tensor([0.5, 2.0]), m.tensor([3.0, 9.0], dtype=m.float64)),
    "float-float64": lambda m: (0.5, m.tensor([3.0, 9.0], dtype=m.float64)),
    "float32-0d-float64": lambda m: (m.tensor([0.5, 2.0]), m.tensor(3.0, dtype=m.float64)),
    "0d-float64-float32": lambda m: (m.tensor(0.5, dtype=m.float64), m.tensor([3.0, 9.0])),
}


# All twelve share the promotion; three kernels of different shapes check it.
@pytest.mark.parametrize("name", ["chebyshev_polynomial_t", "shifted_chebyshev_polynomial_w",
                                  "laguerre_polynomial_l"])
@pytest.mark.parametrize("make", [*PROMOTIONS.values(), *PROMOTIONS_64.values()],
                         ids=[*PROMOTIONS, *PROMOTIONS_64])
def test_polynomial_promotes_and_broadcasts_as_torch(name: str, make, torch) -> None:
    want = getattr(torch.special, name)(*make(torch))
    with _precision("float64" if make in PROMOTIONS_64.values() else "float32"):
        got = getattr(funcgrad.special, name)(*make(funcgrad))
        want_dtype = np.dtype(str(want.dtype).removeprefix("torch."))
        assert (got.dtype, tuple(got.shape)) == (want_dtype, tuple(want.shape))
        _assert_close_to_scale(got, want.numpy(), 256)


@pytest.mark.parametrize("name", ["chebyshev_polynomial_t", "legendre_polynomial_p",
                                  "hermite_polynomial_he"])
def test_polynomial_of_a_changing_degree_compiles_as_eager(name: str, torch) -> None:
    fn = getattr(funcgrad.special, name)
    compiled = funcgrad.compile(lambda x, n: fn(x, n))
    x = np.array([0.3, -0.8, 1.7], np.float32)
    for n in (2, 7, 12):
        want = getattr(torch.special, name)(torch.tensor(x), n).numpy()
        _assert_close_to_scale(compiled(funcgrad.tensor(x), n), want, 256)


# ----- errors ----------------------------------------------------------------------------------
_ARGUMENTS = {name: (lambda m, x: (x,)) for name in FUNCTIONS} | {
    name: (lambda m, x: (x, 3)) for name in POLYNOMIALS}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "complex64"])
@pytest.mark.parametrize("name", FUNCTIONS + POLYNOMIALS)
def test_unsupported_dtypes_raise_as_torch(name: str, dtype: str, torch) -> None:
    def scenario(m):
        x = m.tensor([0.5, 1.5], dtype=getattr(m, dtype))
        getattr(m.special, name)(*_ARGUMENTS[name](m, x))

    assert_raises_as_torch(torch, scenario)


@pytest.mark.parametrize("name", FUNCTIONS + POLYNOMIALS)
def test_backward_raises_as_torch(name: str, torch) -> None:
    """torch records no node for these: the result does not require grad."""

    def scenario(m):
        x = m.tensor([0.5, 1.5], requires_grad=True)
        getattr(m.special, name)(*_ARGUMENTS[name](m, x)).sum().backward()

    assert_raises_as_torch(torch, scenario)


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomial_of_unbroadcastable_shapes_raises_as_torch(name: str, torch) -> None:
    assert_raises_as_torch(
        torch, lambda m: getattr(m.special, name)(m.ones(2), m.tensor([1.0, 2.0, 3.0])))

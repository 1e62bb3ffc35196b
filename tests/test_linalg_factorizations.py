"""``linalg.eig``/``eigvals``, the Householder family (``geqrf``, ``householder_product``,
``orgqr``, ``ormqr``) and the LDL factorization (``ldl_factor``, ``ldl_solve``) against
torch, beyond the real cases of ``test_ops``: complex inputs, their named tuples and Tensor
methods, and torch's errors.

Eigenvectors are unique up to a phase each, which LAPACK builds may choose differently: they
are compared through ``A v = v λ``, their magnitudes and gradients of losses that do not depend
on the phase (the only ones torch's gradient is defined for).
"""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _complex(rng, *shape) -> np.ndarray:
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)


def _grads(lib, arrays, fn):
    """The gradients of ``fn``'s real loss for each array."""
    inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
    fn(lib, *inputs).backward()
    return [np.asarray(x.grad.detach() if lib is not funcgrad else x.grad) for x in inputs]


def _phase_free_loss(lib, a):
    w, v = lib.linalg.eig(a)
    weights = lib.arange(v.shape[-1], dtype=v.real.dtype) + 1
    return (v.abs() ** 3 * weights).sum() + (w * w).real.sum() + w.imag.sum()


@pytest.mark.parametrize("dtype", [np.float32, np.complex64])
def test_eig_decomposes_and_differentiates_as_torch(torch, dtype) -> None:
    rng = np.random.default_rng(0)
    a = _complex(rng, 2, 4, 4) if dtype == np.complex64 else rng.standard_normal((2, 4, 4))
    a = a.astype(dtype)
    w, v = funcgrad.linalg.eig(funcgrad.tensor(a))
    tw, tv = torch.linalg.eig(torch.tensor(a))
    assert (w.dtype, v.dtype) == (np.complex64, np.complex64)
    np.testing.assert_allclose(np.asarray(w), tw.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.abs(np.asarray(v)), tv.abs().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(funcgrad.tensor(a).to(v.dtype) @ v),
                               np.asarray(v * w.unsqueeze(-2)), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(np.asarray(v), axis=-2), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(funcgrad.linalg.eigvals(funcgrad.tensor(a))),
                               torch.linalg.eigvals(torch.tensor(a)).numpy(), rtol=1e-4,
                               atol=1e-5)
    got, want = _grads(funcgrad, [a], _phase_free_loss), _grads(torch, [a], _phase_free_loss)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-3, atol=1e-4)


def test_eigvals_gradient_is_torchs_for_a_complex_matrix(torch) -> None:
    a = _complex(np.random.default_rng(1), 3, 3)

    def loss(lib, x):
        return (lib.linalg.eigvals(x) ** 2).abs().sum()

    np.testing.assert_allclose(_grads(funcgrad, [a], loss)[0], _grads(torch, [a], loss)[0],
                               rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [True, False])
def test_householder_family_computes_complex_as_torch(torch, left, transpose) -> None:
    """geqrf's reflectors of a complex matrix, Q from them, and Q (or Q^H) applied to a matrix
    on either side, with the gradients of all their inputs."""
    rng = np.random.default_rng(2)
    m = _complex(rng, 2, 4, 3)
    a, tau = (np.asarray(x) for x in funcgrad.geqrf(funcgrad.tensor(m)))
    ta, ttau = torch.geqrf(torch.tensor(m))
    np.testing.assert_allclose(a, ta.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(tau, ttau.numpy(), rtol=1e-4, atol=1e-5)
    c = _complex(rng, 2, 4, 2) if left else _complex(rng, 2, 2, 4)
    g = _complex(rng, 2, 4, 3)

    def loss(lib, a, tau, c):
        q = lib.linalg.householder_product(a, tau)
        out = lib.ormqr(a, tau, c, left, transpose)
        return (q * lib.tensor(g)).real.sum() + (out * out).imag.sum()

    for got, want in zip(_grads(funcgrad, [a, tau, c], loss), _grads(torch, [a, tau, c], loss)):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("fn", [lambda m, a: m.linalg.eig(a), lambda m, a: a.geqrf()],
                         ids=["eig", "geqrf"])
def test_results_are_torchs_named_tuples(torch, fn) -> None:
    got, want = fn(funcgrad, funcgrad.eye(3)), fn(torch, torch.eye(3))
    assert (type(got).__name__, len(got)) == (type(want).__name__, len(want))
    assert all(getattr(want, field) is t for field, t in zip(got._fields, want))


@pytest.mark.parametrize("hermitian", [False, True], ids=["symmetric", "hermitian"])
def test_ldl_factor_and_solve_complex_as_torch(torch, hermitian) -> None:
    """LAPACK's pivots exactly, LD to rounding, and the solution, with 2 by 2 blocks (small
    diagonals) and 1 by 1 ones."""
    rng = np.random.default_rng(4)
    a = _complex(rng, 3, 5, 5)
    a[0] *= 1 - 0.99 * np.eye(5)
    b = _complex(rng, 5, 2)
    got = funcgrad.linalg.ldl_factor_ex(funcgrad.tensor(a), hermitian=hermitian)
    want = torch.linalg.ldl_factor_ex(torch.tensor(a), hermitian=hermitian)
    np.testing.assert_array_equal(np.asarray(got.pivots), want.pivots.numpy())
    np.testing.assert_array_equal(np.asarray(got.info), want.info.numpy())
    np.testing.assert_allclose(np.asarray(got.LD), want.LD.numpy(), rtol=1e-4, atol=1e-5)
    x = funcgrad.linalg.ldl_solve(got.LD, got.pivots, funcgrad.tensor(b), hermitian=hermitian)
    tx = torch.linalg.ldl_solve(want.LD, want.pivots, torch.tensor(b), hermitian=hermitian)
    np.testing.assert_allclose(np.asarray(x), tx.numpy(), rtol=1e-3, atol=1e-4)


def test_ldl_factor_ex_reports_a_zero_pivot_as_torch(torch) -> None:
    got = funcgrad.linalg.ldl_factor_ex(funcgrad.zeros(2, 3, 3))
    want = torch.linalg.ldl_factor_ex(torch.zeros(2, 3, 3))
    for ours, theirs in zip(got, want):
        np.testing.assert_array_equal(np.asarray(ours), theirs.numpy())


ERRORS = {
    "eig_int": lambda T: T.linalg.eig(T.ones(3, 3, dtype=T.int32)),
    "eig_half": lambda T: T.linalg.eig(T.ones(3, 3, dtype=T.float16)),
    "eig_not_square": lambda T: T.linalg.eig(T.ones(2, 3)),
    "eig_1d": lambda T: T.linalg.eig(T.ones(3)),
    "eigvals_not_square": lambda T: T.linalg.eigvals(T.ones(4, 2, 3)),
    "eigvals_int": lambda T: T.linalg.eigvals(T.ones(2, 2, dtype=T.int32)),
    "householder_1d": lambda T: T.linalg.householder_product(T.ones(4), T.ones(1)),
    "householder_wide": lambda T: T.linalg.householder_product(T.ones(3, 4), T.ones(2)),
    "householder_many_taus": lambda T: T.linalg.householder_product(T.ones(4, 3), T.ones(4)),
    "householder_tau_0d": lambda T: T.linalg.householder_product(T.ones(4, 3), T.ones(())),
    "householder_tau_ndim": lambda T: T.linalg.householder_product(T.ones(2, 4, 3), T.ones(3)),
    "householder_tau_batch": lambda T: T.linalg.householder_product(T.ones(2, 4, 3),
                                                                    T.ones(3, 2)),
    "householder_tau_dtype": lambda T: T.linalg.householder_product(
        T.ones(4, 3), T.ones(2, dtype=T.int32)),
    "householder_int": lambda T: T.linalg.householder_product(
        T.ones(4, 3, dtype=T.int32), T.ones(2, dtype=T.int32)),
    "householder_half": lambda T: T.orgqr(T.ones(4, 3, dtype=T.float16),
                                          T.ones(2, dtype=T.float16)),
    "geqrf_1d": lambda T: T.geqrf(T.ones(3)),
    "geqrf_int": lambda T: T.geqrf(T.ones(3, 3, dtype=T.int32)),
    "ormqr_input_1d": lambda T: T.ormqr(T.ones(4), T.ones(2), T.ones(4, 2)),
    "ormqr_other_1d": lambda T: T.ormqr(T.ones(4, 3), T.ones(3), T.ones(4)),
    "ormqr_rows": lambda T: T.ormqr(T.ones(4, 3), T.ones(1), T.ones(5, 2)),
    "ormqr_columns": lambda T: T.ormqr(T.ones(4, 3), T.ones(2), T.ones(2, 5), left=False),
    "ormqr_taus": lambda T: T.ormqr(T.ones(4, 3), T.ones(2), T.ones(4, 2)),
    "ormqr_tau_0d": lambda T: T.ormqr(T.ones(4, 3), T.ones(()), T.ones(4, 2)),
    "ormqr_tau_ndim": lambda T: T.ormqr(T.ones(4, 3), T.ones(2, 3), T.ones(4, 2)),
    "ormqr_other_ndim": lambda T: T.ormqr(T.ones(2, 4, 3), T.ones(2, 3), T.ones(4, 2)),
    "ormqr_other_batch": lambda T: T.ormqr(T.ones(2, 4, 3), T.ones(2, 3), T.ones(3, 4, 2)),
    "ormqr_tau_dtype": lambda T: T.ormqr(T.ones(4, 3), T.ones(3, dtype=T.complex64),
                                         T.ones(4, 2)),
    "ormqr_other_dtype": lambda T: T.ormqr(T.ones(4, 3), T.ones(3), T.ones(4, 2, dtype=T.int32)),
    "ormqr_int": lambda T: T.ormqr(T.ones(4, 3, dtype=T.int32), T.ones(3, dtype=T.int32),
                                   T.ones(4, 2, dtype=T.int32)),
    "ldl_factor_1d": lambda T: T.linalg.ldl_factor(T.ones(3)),
    "ldl_factor_not_square": lambda T: T.linalg.ldl_factor(T.ones(2, 3)),
    "ldl_factor_int": lambda T: T.linalg.ldl_factor_ex(T.ones(3, 3, dtype=T.int32)),
    "ldl_factor_half": lambda T: T.linalg.ldl_factor(T.ones(3, 3, dtype=T.float16)),
    "ldl_solve_1d": lambda T: T.linalg.ldl_solve(*T.linalg.ldl_factor(T.eye(4)), T.ones(4)),
    "ldl_solve_rows": lambda T: T.linalg.ldl_solve(*T.linalg.ldl_factor(T.eye(4)),
                                                   T.ones(3, 2)),
    "ldl_solve_float_pivots": lambda T: T.linalg.ldl_solve(T.eye(4), T.ones(4), T.ones(4, 2)),
    "ldl_solve_pivots_shape": lambda T: T.linalg.ldl_solve(
        T.eye(4), T.ones(3, dtype=T.int32), T.ones(4, 2)),
    "ldl_solve_dtype": lambda T: T.linalg.ldl_solve(*T.linalg.ldl_factor(T.eye(4)),
                                                    T.ones(4, 2, dtype=T.complex64)),
    "ldl_solve_not_square": lambda T: T.linalg.ldl_solve(
        T.ones(3, 4), T.ones(3, dtype=T.int32), T.ones(4, 2)),
    "ldl_solve_int": lambda T: T.linalg.ldl_solve(
        T.eye(4, dtype=T.int32), T.ones(4, dtype=T.int32), T.ones(4, 2, dtype=T.int32)),
}


@pytest.mark.parametrize("scenario", ERRORS.values(), ids=ERRORS)
def test_errors_match_torch(torch, scenario) -> None:
    assert_raises_as_torch(torch, scenario)


def _matrices() -> np.ndarray:
    """Positive-definite, indefinite at orders 2 and 3 (one read only through its upper
    triangle), singular, NaN, and a batch with one bad matrix."""
    rng = np.random.default_rng(3)
    m = rng.standard_normal((3, 3)).astype(np.float32)
    spd = m @ m.T + np.eye(3, dtype=np.float32)
    indefinite2 = np.array([[1, 2, 0], [2, 1, 0], [0, 0, 1]], np.float32)
    indefinite3 = np.diag(np.float32([1, 1, -1]))
    upper_only = np.triu(np.array([[1, 5, 0], [9, 1, 0], [0, 0, 1]], np.float32))
    singular = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    return np.stack([spd, indefinite2, indefinite3, upper_only, singular,
                     np.full((3, 3), np.nan, np.float32)])


_EX = {
    "cholesky_ex": lambda T, a: T.linalg.cholesky_ex(a).info,
    "cholesky_ex-upper": lambda T, a: T.linalg.cholesky_ex(a, upper=True).info,
    "inv_ex": lambda T, a: T.linalg.inv_ex(a).info,
    "solve_ex": lambda T, a: T.linalg.solve_ex(a, T.ones(6, 3, 2)).info,
    "lu_factor_ex": lambda T, a: T.linalg.lu_factor_ex(a).info,
}


@pytest.mark.parametrize("info", _EX.values(), ids=_EX)
def test_ex_functions_give_lapacks_info_as_torch(torch, info):
    a = _matrices()
    ours, theirs = info(funcgrad, funcgrad.tensor(a)), info(torch, torch.tensor(a))
    assert ours.tolist() == theirs.tolist() and ours.dtype == funcgrad.int32
    one = info(funcgrad, funcgrad.tensor(a[1])), info(torch, torch.tensor(a[1]))
    assert one[0].tolist() == one[1].tolist()


@pytest.mark.parametrize("check", [
    lambda T, a: T.linalg.cholesky_ex(a, check_errors=True),
    lambda T, a: T.linalg.cholesky_ex(a[2], upper=True, check_errors=True),
    lambda T, a: T.linalg.inv_ex(a[3:], check_errors=True),
    lambda T, a: T.linalg.inv_ex(a[4], check_errors=True),
    lambda T, a: T.linalg.solve_ex(a, T.ones(6, 3, 1), check_errors=True),
    lambda T, a: T.linalg.lu_factor_ex(a[4:5], check_errors=True),
], ids=["cholesky_ex", "cholesky_ex-one", "inv_ex", "inv_ex-one", "solve_ex", "lu_factor_ex"])
def test_check_errors_raises_torchs_errors(torch, check):
    def raised(lib):
        with pytest.raises(RuntimeError) as info:
            check(lib, lib.tensor(_matrices()))
        return (isinstance(info.value, lib.linalg.LinAlgError),
                str(info.value).replace("torch.", "funcgrad."))

    assert raised(funcgrad) == raised(torch)
    assert funcgrad.linalg.cholesky_ex(funcgrad.tensor(_matrices()[0]),
                                       check_errors=True).info.item() == 0


# ----- svd_lowrank, pca_lowrank -----------------------------------------------------------------
# Their sketches are random (each library's own generator), but on a matrix of rank at most q
# the result is the exact truncated SVD: singular values and the product U S V^H are then
# torch's, and so, where the rank is q, are the gradients of the singular values (to first
# order the sketch's range moves with A without changing them). Singular vectors are compared
# through those, being unique up to a sign.


def _rank_three(rng, *shape):
    *batch, m, n = shape
    return (rng.standard_normal((*batch, m, 3)) @ rng.standard_normal((*batch, 3, n))
            ).astype(np.float32)


@pytest.mark.parametrize("shape", [(20, 8), (8, 20), (2, 12, 7)], ids=["tall", "wide", "batch"])
@pytest.mark.parametrize("q", [3, 5])
@pytest.mark.parametrize("subtract", [False, True], ids=["A", "A-M"])
def test_svd_lowrank_is_torchs_on_a_low_rank_matrix(torch, shape, q, subtract):
    rng = np.random.default_rng(q)
    M = rng.standard_normal(shape[-1]).astype(np.float32) if subtract else None
    A = _rank_three(rng, *shape) + (0 if M is None else M)

    def run(lib):
        a = lib.tensor(A, requires_grad=True)
        U, S, V = lib.svd_lowrank(a, q=q, M=None if M is None else lib.tensor(M))
        S[..., :3].sum().backward()
        return a, U, S, V

    (a, U, S, V), (at, Ut, St, Vt) = run(funcgrad), run(torch)
    for ours, theirs in zip((U, S, V), (Ut, St, Vt)):
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert ours.grad_fn.name() == type(theirs.grad_fn).__name__
    np.testing.assert_allclose(S.detach().numpy(), St.detach().numpy(), atol=1e-3, rtol=1e-4)
    product = (U * S[..., None, :]) @ V.mH
    np.testing.assert_allclose(product.detach().numpy(), A - (0 if M is None else M),
                               atol=1e-3)
    if q == 3:  # (beyond the rank, the sketch's QR divides by its rounding errors)
        np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), atol=1e-3)


def test_pca_lowrank_finds_torchs_components(torch):
    """Six features of 50 centred observations, q = 6: the exact PCA. Variances and the
    directions (up to sign) are torch's, and the scores reproduce the centred data."""
    X = np.random.default_rng(0).standard_normal((50, 6)).astype(np.float32) * np.arange(1, 7)
    (U, S, V), (Ut, St, Vt) = (lib.pca_lowrank(lib.tensor(X + 5.0), q=6)
                               for lib in (funcgrad, torch))
    np.testing.assert_allclose(S.numpy(), St.numpy(), rtol=1e-4)
    np.testing.assert_allclose(np.abs(V.numpy().T @ Vt.numpy()), np.eye(6), atol=1e-3)
    np.testing.assert_allclose((U * S) @ V.mT, X - X.mean(0), atol=1e-3)


@pytest.mark.parametrize("kwargs", [{"q": 7}, {"q": -1}, {"niter": -1}])
def test_pca_lowrank_refuses_as_torch(torch, kwargs):
    assert_raises_as_torch(torch, lambda lib: lib.pca_lowrank(lib.ones(7, 6), **kwargs))

"""Randomized low-rank SVD and PCA (``svd_lowrank``, ``pca_lowrank``): torch's composites of
Halko, Martinsson and Tropp (2009), Algorithm 5.1, written with funcgrad's ops, so they run
on batches of matrices and their gradients flow through the QR and SVD steps as torch's do.
The random test matrix is drawn from funcgrad's global generator."""

from __future__ import annotations

from . import _dtypes, _factories, linalg
from ._tensor import Tensor


def _approximate_basis(A: Tensor, q: int, niter: int, M: Tensor | None) -> Tensor:
    """An orthonormal ``Q`` of ``q`` columns whose range approximates that of ``A - M``, by
    ``niter`` subspace (power) iterations on a Gaussian sketch."""
    dtype = A.dtype if _dtypes.is_inexact(A.dtype) else _dtypes.get_default_dtype()
    R = _factories.randn(A.shape[-1], q, dtype=dtype, device=A.device)

    def times(B: Tensor, adjoint: bool = False) -> Tensor:
        X = (A.mH if adjoint else A) @ B
        return X if M is None else X - (M.mH if adjoint else M) @ B

    Q = linalg.qr(times(R)).Q
    for _ in range(niter):
        Q = linalg.qr(times(Q, adjoint=True)).Q
        Q = linalg.qr(times(Q)).Q
    return Q


def _svd_lowrank(A: Tensor, q: int, niter: int, M: Tensor | None) -> tuple:
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    if m < n:  # the algorithm takes a tall matrix
        A = A.mH
        M = None if M is None else M.mH
    Q = _approximate_basis(A, q, niter, M)
    B = Q.mH @ A
    if M is not None:
        B = B - Q.mH @ M
    U, S, Vh = linalg.svd(B, full_matrices=False)
    U, V = Q.matmul(U), Vh.mH
    return (V, S, U) if m < n else (U, S, V)


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2,
                M: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """An approximate truncated SVD ``A - M ≈ U diag(S) V^H`` of rank ``q``, randomized (as
    torch's; ``U`` and ``V`` have ``q`` columns). Exact, up to rounding, when ``A - M`` has
    rank at most ``q``; more ``niter`` (power iterations) sharpen it otherwise.

    Args:
        A: a matrix or a batch of them.
        q: the rank (at most ``min(m, n)``; 6 by default).
        niter: the number of subspace iterations (2 by default).
        M: a matrix broadcastable to ``A`` that is subtracted first.

    >>> import funcgrad
    >>> A = funcgrad.tensor([[3.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    >>> U, S, V = funcgrad.svd_lowrank(A, q=2)
    >>> S.round(decimals=3)
    tensor([3., 2.])
    """
    return _svd_lowrank(A, 6 if q is None else q, 2 if niter is None else niter, M)


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True,
                niter: int = 2) -> tuple[Tensor, Tensor, Tensor]:
    """Principal component analysis of the rows of ``A`` (or of each matrix of a batch) by
    ``svd_lowrank``: ``V``'s columns are the principal directions, ``S**2 / (m - 1)`` the
    variances along them, ``U`` the normalized scores.

    Args:
        A: an ``(*, m, n)`` tensor of ``m`` observations of ``n`` features.
        q: how many components (``min(6, m, n)`` by default).
        center: subtract the mean of each feature first.
        niter: the number of subspace iterations.

    Raises:
        ValueError: torch's, for ``q`` outside ``[0, min(m, n)]`` or a negative ``niter``.
    """
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if center:
        A = A - A.mean(dim=(-2,), keepdim=True)
    return _svd_lowrank(A, q, niter, None)

"""``funcgrad.linalg``: torch.linalg's differentiable matrix functions, computed by
``jax.numpy.linalg`` (derivatives included), with torch's ``grad_fn`` names.

As in torch, a function of matrices takes batches of them (the last two dimensions). Unlike
torch, a singular or not positive-definite input gives ``inf`` or ``nan`` rather than an error:
torch checks the values, which would force lazily pending work to run at every call.

>>> import funcgrad
>>> a = funcgrad.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> funcgrad.linalg.det(a)
tensor(5., grad_fn=<LinalgDetBackward0>)
"""

from __future__ import annotations

import jax.numpy as jnp

from . import _dtypes, _ops
from ._graph import Op, apply, broadcast_shape
from ._ops import (
    CHOLESKY,
    MATRIX_EXP,
    PINV,
    SOLVE,
    _check_inexact,
    _check_matrices,
    _check_square,
)
from ._ops import norm as norm_op
from ._tensor import Tensor

__all__ = ["inv", "det", "solve", "cholesky", "vector_norm", "matrix_norm", "norm", "cross",
           "pinv", "matrix_exp"]

# torch solves for a batch of vectors B when B is 1-D or has A's shape less its last dimension;
# jnp.linalg.solve only when B is 1-D, so the other batches go in as matrices of one column.
SOLVE_VECTORS = Op("solve_vectors", lambda A, B: jnp.linalg.solve(A, B[..., None])[..., 0],
                   "LinalgSolveExBackward0")


inv = _ops.inverse
det = _ops.det


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """The solution ``X`` of ``A X = B``; ``B`` is a vector or a batch of them (1-D, or with
    ``A``'s shape less its last dimension, as torch reads it) or of matrices.

    Raises:
        RuntimeError: torch's, for dtypes or shapes that do not fit.
        ValueError: for ``left=False``: solve the transposed system instead.
    """
    if not left:
        raise ValueError(
            "funcgrad.linalg.solve solves A X = B (left=True); for X A = B, solve the transposed "
            "system: funcgrad.linalg.solve(A.mT, B.mT).mT")
    _check_inexact("linalg.solve", A)
    if B.dtype != A.dtype:
        raise RuntimeError(
            "linalg.solve: Expected A and B to have the same dtype, but found A of type "
            f"{_dtypes.scalar_name(A.dtype)} and B of type {_dtypes.scalar_name(B.dtype)} "
            "instead")
    vectors = B.ndim == 1 or tuple(B.shape) == tuple(A.shape[:-1])
    _check_square("linalg.solve", A)
    rows = B.shape + (1,) if vectors else B.shape  # B's matrices, as torch checks them
    if len(rows) < 2:
        raise RuntimeError("linalg.solve: The input tensor B must have at least 2 dimensions.")
    if rows[-2] != A.shape[-1]:
        raise RuntimeError(
            "linalg.solve: Incompatible shapes of A and B for the equation AX = B "
            f"({A.shape[-2]}x{A.shape[-1]} and {rows[-2]}x{rows[-1]})")
    broadcast_shape(rows[:-2], A.shape[:-2])
    return apply(SOLVE_VECTORS if vectors and B.ndim > 1 else SOLVE, A, B)


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of each symmetric positive-definite matrix: lower triangular
    ``L`` with ``A = L L^H``, or its conjugate transpose with ``upper=True``."""
    _check_matrices("linalg.cholesky", A)
    return apply(CHOLESKY, A, upper=bool(upper))


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False) -> Tensor:
    """The vector ``ord``-norm over ``dim`` (every element by default)."""
    return norm_op(x, ord, dim, keepdim)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False) -> Tensor:
    """The Frobenius norm of each matrix.

    Raises:
        ValueError: for another ``ord``: its norms need singular values or row and column
            sums, which ``vector_norm`` and ``funcgrad.sum`` give.
    """
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    _check_inexact("linalg.matrix_norm", A)
    if ord != "fro":
        raise ValueError(
            f"funcgrad.linalg.matrix_norm computes ord='fro', not ord={ord!r}; for the others "
            "use the singular values (funcgrad.linalg is missing svd) or, for ord=1 or inf, "
            "A.abs().sum(-2).amax(-1) and A.abs().sum(-1).amax(-1)")
    return vector_norm(A, 2, dim, keepdim)


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False) -> Tensor:
    """``vector_norm`` of a vector (or over one ``dim``), else ``matrix_norm``; with ``ord``
    None, the 2-norm of all the elements (over ``dim``)."""
    if ord is None:
        return vector_norm(A, 2, dim, keepdim)
    if isinstance(dim, int) or (dim is None and A.ndim == 1):
        return vector_norm(A, ord, dim, keepdim)
    return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim``."""
    return _ops.cross(input, other, dim)


def pinv(A: Tensor) -> Tensor:
    """The Moore-Penrose pseudo-inverse of each matrix."""
    if A.ndim < 2 or A.dtype not in (_dtypes.float32, _dtypes.float64, _dtypes.complex64,
                                     _dtypes.complex128):
        raise RuntimeError(
            f"linalg.pinv({_dtypes.scalar_name(A.dtype)}{{{list(A.shape)}}}): expected a tensor "
            "with 2 or more dimensions of float, double, cfloat or cdouble types")
    return apply(PINV, A)


def matrix_exp(A: Tensor) -> Tensor:
    """The exponential of each square matrix."""
    _check_matrices("linalg.matrix_exp", A)
    return apply(MATRIX_EXP, A)

"""``funcgrad.linalg``: torch.linalg's differentiable matrix functions, computed by
``jax.numpy.linalg`` (derivatives included), with torch's ``grad_fn`` names.

As in torch, a function of matrices takes batches of them (the last two dimensions). Unlike
torch, a singular or not positive-definite input gives ``inf`` or ``nan`` rather than an error:
torch checks the values, which would force lazily pending work to run at every call. The
``_ex`` functions give LAPACK's ``info`` as torch's do, and read it to raise torch's errors
when ``check_errors`` asks them to.

>>> import funcgrad
>>> a = funcgrad.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> funcgrad.linalg.det(a)
tensor(5., grad_fn=<LinalgDetBackward0>)
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from . import _dtypes, _ops, return_types
from ._autocast import FP32, LOWER, autocast_policy
from ._factories import ones_like, zeros
from ._graph import Op, apply, broadcast_shape, renamed
from ._ops import (
    CHOLESKY,
    MATRIX_EXP,
    PINV,
    QR,
    SOLVE,
    SVD,
    SVDVALS,
    _check_decomposable,
    _check_inexact,
    _check_matrices,
    _check_square,
    _inexact_only,
)
from ._ops import norm as norm_op
from ._tensor import Tensor

__all__ = ["inv", "det", "solve", "cholesky", "vector_norm", "matrix_norm", "norm", "cross",
           "pinv", "matrix_exp", "eigh", "eigvalsh", "svd", "svdvals", "qr", "slogdet",
           "matrix_power", "solve_triangular", "lstsq", "multi_dot", "vecdot", "matmul",
           "diagonal", "matrix_rank", "cond", "inv_ex", "cholesky_ex", "solve_ex", "lu_factor",
           "lu_solve", "lu_factor_ex", "lu", "vander", "tensorinv", "tensorsolve", "eig",
           "eigvals", "householder_product", "ldl_factor", "ldl_factor_ex", "ldl_solve",
           "LinAlgError"]

class LinAlgError(RuntimeError):
    """torch.linalg's error for a matrix a function cannot take (singular, not
    positive-definite): ``inv_ex``, ``cholesky_ex`` and ``solve_ex`` raise it when
    ``check_errors`` asks them to; the other functions do not read values to check them (see
    this module's docstring)."""


# torch solves for a batch of vectors B when B is 1-D or has A's shape less its last dimension;
# jnp.linalg.solve only when B is 1-D, so the other batches go in as matrices of one column.
SOLVE_VECTORS = Op("solve_vectors", lambda A, B: jnp.linalg.solve(A, B[..., None])[..., 0],
                   "LinalgSolveExBackward0")


def _hermitian(a, lower: bool):
    """The Hermitian matrix torch's eigh reads from ``a``'s lower (or upper) triangle, with the
    derivative of ``(a + a^H) / 2``: torch's gradient, which assumes a Hermitian input, is
    that Hermitian part."""
    a_h = jnp.conj(jnp.swapaxes(a, -1, -2))
    triangle = jnp.tri(a.shape[-1], dtype=bool)
    read = jnp.where(triangle if lower else triangle.T, a, a_h)
    mean = (a + a_h) / 2
    return mean + jax.lax.stop_gradient(read - mean)


def _eigh(a, lower: bool):
    return jnp.linalg.eigh(_hermitian(a, lower), symmetrize_input=False)


def _solve_triangular(a, b, upper: bool, left: bool, unitriangular: bool):
    batch = jnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return jax.lax.linalg.triangular_solve(
        jnp.broadcast_to(a, batch + a.shape[-2:]), jnp.broadcast_to(b, batch + b.shape[-2:]),
        left_side=left, lower=not upper, unit_diagonal=unitriangular)


def _lu_solve(lu, pivots, b, left: bool, adjoint: bool):
    """torch's ``lu_solve``: its pivots count from 1; ``X A = B`` is solved as
    ``A^H X^H = B^H``."""
    batch = jnp.broadcast_shapes(lu.shape[:-2], b.shape[:-2])
    lu, pivots = jnp.broadcast_to(lu, batch + lu.shape[-2:]), jnp.broadcast_to(
        pivots, batch + pivots.shape[-1:])
    if left:
        return jax.scipy.linalg.lu_solve((lu, pivots - 1), jnp.broadcast_to(
            b, batch + b.shape[-2:]), trans=2 if adjoint else 0)
    b_h = jnp.broadcast_to(jnp.conj(jnp.swapaxes(b, -1, -2)), batch + b.shape[-1:-3:-1])
    x_h = jax.scipy.linalg.lu_solve((lu, pivots - 1), b_h, trans=0 if adjoint else 2)
    return jnp.conj(jnp.swapaxes(x_h, -1, -2))


def _rank(a, atol: float, rtol: float, hermitian: bool):
    s = jnp.abs(jnp.linalg.eigvalsh(a)) if hermitian else jnp.linalg.svd(a, compute_uv=False)
    largest = jnp.max(s, -1, keepdims=True, initial=0.0)
    return jnp.sum(s > jnp.maximum(atol, rtol * largest), -1)


def _empty(name: str, grad_fn: str) -> Op:
    """An op giving the empty tensor torch returns for an output it does not compute, in its
    node."""
    return Op(name, lambda a, *_: jnp.zeros((0,), a.dtype), grad_fn)


EIGH = tuple(Op(f"eigh_{i}", _inexact_only("linalg_eigh", lambda a, lower, i=i: _eigh(a, lower)[i]),
                "LinalgEighBackward0") for i in range(2))


def _eig(a):
    """``(eigenvalues, eigenvectors)`` by LAPACK's geev (on a GPU too, where JAX runs it on the
    host), differentiable under geev's normalisation of each eigenvector (unit norm, largest
    component real): for a loss that does not depend on that choice, torch's gradient."""
    if a.dtype in (jnp.float16, jnp.bfloat16):
        raise NotImplementedError(f'"linalg_eig_out_cpu" not implemented for '
                                  f"'{_dtypes.scalar_name(a.dtype)}'")
    return jax.lax.linalg.eig(a, compute_left_eigenvectors=False, enable_eigvec_derivs=True)


EIG = tuple(Op(f"eig_{i}", lambda a, i=i: _eig(a)[i], "LinalgEigBackward0") for i in range(2))


def _reflect(v, tau, c, left: bool, adjoint: bool):
    """``Q c`` (``c Q`` with ``left=False``; ``Q^H`` for ``Q`` with ``adjoint``) for ``Q`` the
    product ``H_1 ... H_k`` of the reflectors ``H_i = I - tau_i v_i v_i^H``, the columns of
    ``v``, one reflector at a time (the product is never formed)."""
    batch = jnp.broadcast_shapes(v.shape[:-2], tau.shape[:-1], c.shape[:-2])
    v, c = jnp.broadcast_to(v, batch + v.shape[-2:]), jnp.broadcast_to(c, batch + c.shape[-2:])
    tau = jnp.broadcast_to(tau, batch + tau.shape[-1:])
    if adjoint:
        tau = jnp.conj(tau)
    # Q c applies H_k first; Q^H c, H_1^H first; c Q, H_1 first; c Q^H, H_k^H first.
    reverse = left != adjoint

    def step(c, reflector):
        v_i, tau_i = reflector
        if left:
            w = jnp.einsum("...m,...mp->...p", jnp.conj(v_i), c)
            return c - jnp.einsum("...m,...p->...mp", tau_i[..., None] * v_i, w), None
        w = jnp.einsum("...pm,...m->...p", c, v_i)
        return c - jnp.einsum("...p,...m->...pm", w, tau_i[..., None] * jnp.conj(v_i)), None

    reflectors = (jnp.moveaxis(v, -1, 0), jnp.moveaxis(tau, -1, 0))
    return jax.lax.scan(step, c, reflectors, reverse=reverse)[0]


def _reflectors(a, k: int):
    """The Householder vectors that LAPACK's geqrf stores below ``a``'s diagonal, with their
    implicit leading ones, as the first ``k`` columns."""
    m = a.shape[-2]
    return jnp.tril(a[..., :, :k], -1) + jnp.eye(m, k, dtype=a.dtype)


def _householder_product(a, tau):
    m, n = a.shape[-2:]
    identity = jnp.broadcast_to(jnp.eye(m, n, dtype=a.dtype), a.shape)
    return _reflect(_reflectors(a, tau.shape[-1]), tau, identity, left=True, adjoint=False)


def _ormqr(a, tau, c, left: bool, transpose: bool):
    return _reflect(_reflectors(a, tau.shape[-1]), tau, c, left, transpose)


def _lapack_only(kernel: str, fn):
    """``fn``, refusing the dtypes LAPACK has no routine for with torch's CPU kernel's error."""
    def checked(*operands, **static):
        dtype = jnp.result_type(*operands)
        if dtype not in (jnp.float32, jnp.float64, jnp.complex64, jnp.complex128):
            raise NotImplementedError(f'"{kernel}_cpu" not implemented for '
                                      f"'{_dtypes.scalar_name(dtype)}'")
        return fn(*operands, **static)

    return checked


HOUSEHOLDER_PRODUCT = Op("householder_product", _lapack_only("orgqr", _householder_product),
                         "LinalgHouseholderProductBackward0")
ORMQR = Op("ormqr", _lapack_only("ormqr", _ormqr), "OrmqrBackward0")
# torch records GeqrfBackward0, whose backward raises "not implemented"; here the results are
# outside the graph. numpy's "raw" QR is geqrf's, its reflectors transposed (Fortran's layout).
GEQRF = (Op("geqrf_a", _lapack_only("geqrf", lambda a: jnp.swapaxes(
    jnp.linalg.qr(a, mode="raw")[0], -1, -2)), "", differentiable=False),
         Op("geqrf_tau", _lapack_only("geqrf", lambda a: jnp.linalg.qr(a, mode="raw")[1]), "",
            differentiable=False))
# Bunch-Kaufman's threshold, (1 + sqrt(17)) / 8: it bounds the growth of the factors.
_BUNCH_KAUFMAN = (1 + math.sqrt(17)) / 8


def _magnitude(x, hermitian_diagonal: bool = False):
    """The magnitude LAPACK compares pivots by: |re| + |im| of a complex number (its cabs1);
    of a Hermitian matrix's (real) diagonal, |re|."""
    if not jnp.iscomplexobj(x):
        return jnp.abs(x)
    return jnp.abs(x.real) if hermitian_diagonal else jnp.abs(x.real) + jnp.abs(x.imag)


def _adjoint(x, hermitian: bool):
    return jnp.conj(x) if hermitian else x


def _mirror(a, hermitian: bool):
    """The symmetric (Hermitian) matrix of ``a``'s lower triangle."""
    strict = jnp.tril(a, -1)
    diagonal = jnp.diagonal(a).real.astype(a.dtype) if hermitian else jnp.diagonal(a)
    return strict + _adjoint(strict.T, hermitian) + jnp.diag(diagonal)


def _sytf2(a, hermitian: bool):
    """LAPACK's unblocked Bunch-Kaufman factorization (s/d/c/zsytf2 and c/zhetf2, lower) of one
    matrix: ``(LD, pivots, info)`` as sytrf stores them, the pivots from 1 and negative for
    the rows of a 2 by 2 block. The trailing matrix is kept whole (mirrored from its lower
    triangle after each step, which LAPACK's updates compute), so a pivot's row and its swaps
    read it directly."""
    n = a.shape[-1]
    idx = jnp.arange(n)

    def step(state):
        k, a, pivots, info = state
        absakk = _magnitude(a[k, k], hermitian)
        column = jnp.where(idx > k, _magnitude(a[:, k]), -1.0)
        imax = jnp.argmax(column)
        colmax = jnp.maximum(column[imax], 0.0)
        rowmax = jnp.max(jnp.where((idx >= k) & (idx != imax), _magnitude(a[imax]), 0.0))
        zero = (jnp.maximum(absakk, colmax) == 0) | jnp.isnan(absakk)
        keep = zero | (absakk >= _BUNCH_KAUFMAN * colmax) | (
            absakk >= _BUNCH_KAUFMAN * colmax * (colmax / rowmax))
        swap_one = ~keep & (_magnitude(a[imax, imax], hermitian) >= _BUNCH_KAUFMAN * rowmax)
        kstep = jnp.where(keep | swap_one, 1, 2)
        kp, kk = jnp.where(keep, k, imax), k + kstep - 1
        perm = idx.at[kk].set(kp).at[kp].set(kk)
        trailing = (idx[:, None] >= k) & (idx[None, :] >= k)
        a = jnp.where(trailing, a[perm][:, perm], a)
        a = jax.lax.cond(zero, lambda a: a, lambda a: jax.lax.cond(
            kstep == 1, lambda a: _sytf2_one(a, k, hermitian),
            lambda a: _sytf2_two(a, k, hermitian), a), a)
        code = jnp.where(kstep == 1, kp + 1, -(kp + 1)).astype(jnp.int32)
        pivots = pivots.at[k].set(code).at[kk].set(code)
        info = jnp.where(zero & (info == 0), k + 1, info).astype(jnp.int32)
        return k + kstep, _mirror(a, hermitian), pivots, info

    start = (jnp.int32(0), _mirror(a, hermitian), jnp.zeros(n, jnp.int32),
             jnp.zeros((), jnp.int32))
    _, a, pivots, info = jax.lax.while_loop(lambda state: state[0] < n, step, start)
    return jnp.tril(a), pivots, info


def _sytf2_one(a, k, hermitian: bool):
    """A 1 by 1 pivot at ``k``: the rank-1 update of the trailing matrix and column ``k`` of
    ``L``, as sytf2 (syr and scal) and hetf2 (her and dscal)."""
    idx = jnp.arange(a.shape[-1])
    d11 = 1 / (a[k, k].real if hermitian else a[k, k])
    x = jnp.where(idx > k, a[:, k], 0)
    a = a + x[:, None] * (-d11 * _adjoint(x, hermitian))[None, :]
    return a.at[:, k].set(jnp.where(idx > k, d11 * a[:, k], a[:, k]))


def _sytf2_two(a, k, hermitian: bool):
    """A 2 by 2 pivot at ``k`` and ``k + 1``: the rank-2 update and columns ``k``, ``k + 1``
    of ``L``, in sytf2's (hetf2's) arithmetic."""
    idx = jnp.arange(a.shape[-1])
    below = idx > k + 1
    ak, ak1 = jnp.where(below, a[:, k], 0), jnp.where(below, a[:, k + 1], 0)
    if hermitian:
        d = jnp.abs(a[k + 1, k])
        d11, d22 = a[k + 1, k + 1].real / d, a[k, k].real / d
        d21, d = a[k + 1, k] / d, 1 / (d11 * d22 - 1) / d
        wk, wkp1 = d * (d11 * ak - d21 * ak1), d * (d22 * ak1 - jnp.conj(d21) * ak)
    else:
        d21 = a[k + 1, k]
        d11, d22 = a[k + 1, k + 1] / d21, a[k, k] / d21
        d21 = 1 / (d11 * d22 - 1) / d21
        wk, wkp1 = d21 * (d11 * ak - ak1), d21 * (d22 * ak1 - ak)
    a = (a - ak[:, None] * _adjoint(wk, hermitian)[None, :]
         - ak1[:, None] * _adjoint(wkp1, hermitian)[None, :])
    a = a.at[:, k].set(jnp.where(below, wk, a[:, k]))
    return a.at[:, k + 1].set(jnp.where(below, wkp1, a[:, k + 1]))


def _ldl_factor(a, hermitian: bool):
    batch, n = a.shape[:-2], a.shape[-1]
    flat = jax.vmap(lambda m: _sytf2(m, hermitian))(a.reshape(-1, n, n))
    return tuple(x.reshape(batch + x.shape[1:]) for x in flat)


def _swap_rows(b, i, j):
    return b.at[i].set(b[j]).at[j].set(b[i])


def _sytrs(ld, pivots, b, hermitian: bool):
    """LAPACK's s/d/c/zsytrs and c/zhetrs (lower) for one system: ``b`` through ``L``'s
    interchanges and columns and ``D``'s blocks, then back through ``L``'s (conjugate)
    transpose."""
    n = ld.shape[-1]
    idx = jnp.arange(n)

    def forward(state):
        k, b = state
        one = pivots[k] > 0
        b = _swap_rows(b, jnp.where(one, k, k + 1), jnp.where(one, pivots[k], -pivots[k]) - 1)
        b = b - jnp.where(idx > jnp.where(one, k, k + 1), ld[:, k], 0)[:, None] * b[k][None, :]
        b = jax.lax.cond(one, lambda b: b.at[k].multiply(1 / _diagonal_of(ld[k, k], hermitian)),
                         lambda b: _solve_block(b - jnp.where(idx > k + 1, ld[:, k + 1], 0)[
                             :, None] * b[k + 1][None, :], k), b)
        return k + jnp.where(one, 1, 2), b

    def _solve_block(b, k):
        akm1k = ld[k + 1, k]
        akm1, ak = ld[k, k] / _adjoint(akm1k, hermitian), ld[k + 1, k + 1] / akm1k
        denom = akm1 * ak - 1
        bkm1, bk = b[k] / _adjoint(akm1k, hermitian), b[k + 1] / akm1k
        return b.at[k].set((ak * bkm1 - bk) / denom).at[k + 1].set((akm1 * bk - bkm1) / denom)

    def backward(state):
        k, b = state
        one = pivots[k] > 0
        column = _adjoint(jnp.where(idx > k, ld[:, k], 0), hermitian)
        b = b.at[k].add(-(column @ b))
        previous = _adjoint(jnp.where(one, 0, jnp.where(idx > k, ld[:, k - 1], 0)), hermitian)
        b = b.at[k - 1].add(-(previous @ b))
        b = _swap_rows(b, k, jnp.abs(pivots[k]) - 1)
        return k - jnp.where(one, 1, 2), b

    _, b = jax.lax.while_loop(lambda state: state[0] < n, forward, (jnp.int32(0), b))
    _, b = jax.lax.while_loop(lambda state: state[0] >= 0, backward, (jnp.int32(n - 1), b))
    return b


def _diagonal_of(x, hermitian: bool):
    return x.real if hermitian else x


def _ldl_solve(ld, pivots, b, hermitian: bool):
    batch = jnp.broadcast_shapes(ld.shape[:-2], b.shape[:-2])
    n, columns = ld.shape[-1], b.shape[-1]
    ld = jnp.broadcast_to(ld, batch + ld.shape[-2:]).reshape(-1, n, n)
    pivots = jnp.broadcast_to(pivots, batch + pivots.shape[-1:]).reshape(-1, n)
    b = jnp.broadcast_to(b, batch + b.shape[-2:]).reshape(-1, n, columns)
    x = jax.vmap(lambda *args: _sytrs(*args, hermitian))(ld, pivots.astype(jnp.int32), b)
    return x.reshape(batch + (n, columns))


LDL_FACTOR = tuple(Op(f"ldl_factor_{i}", _lapack_only("ldl_factor_kernel", lambda a, hermitian, i=i:
                                                       _ldl_factor(a, hermitian)[i]),
                      "", differentiable=False) for i in range(3))
# torch records NotImplemented: its solve has no derivative either
LDL_SOLVE = Op("ldl_solve", _lapack_only("ldl_solve_kernel", lambda ld, b, pivots, hermitian:
                                         _ldl_solve(ld, pivots, b, hermitian)),
               "", differentiable=False)
QR_NO_Q = _empty("qr_no_q", "LinalgQrBackward0")
SOLVE_TRIANGULAR = Op("solve_triangular",
                      _inexact_only("triangular_solve", _solve_triangular),
                      "LinalgSolveTriangularBackward0")
# torch's CPU driver (gelsy) gives the minimum-norm least-squares solution, the
# pseudo-inverse's (each ignoring singular values below its own tolerance), and computes
# neither residuals nor singular values.
LSTSQ = Op("lstsq", lambda a, b: jnp.linalg.pinv(a) @ b, "LinalgLstsqBackward0")
LSTSQ_VECTORS = Op("lstsq_vectors", lambda a, b: (jnp.linalg.pinv(a) @ b[..., None])[..., 0],
                   "LinalgLstsqBackward0")
LSTSQ_NO_RESIDUALS = _empty("lstsq_no_residuals", "LinalgLstsqBackward0")
LU_FACTOR = Op("lu_factor", _inexact_only("lu", lambda a: jax.lax.linalg.lu(a)[0]),
               "LinalgLuFactorExBackward0")
LU_PIVOTS = Op("lu_pivots", lambda a: jax.lax.linalg.lu(a)[1] + 1, "", differentiable=False)
LU_SOLVE = Op("lu_solve", _lu_solve, "LinalgLuSolveBackward0")


def _unpacked(lu, part: int):
    """``L`` (``part`` 0: unit lower triangular) or ``U`` (1) of a packed LU factorization."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    if part == 0:
        return jnp.tril(lu[..., :, :k], -1) + jnp.eye(m, k, dtype=lu.dtype)
    return jnp.triu(lu[..., :k, :])


def _permutation(pivots, m: int, dtype):
    """The permutation matrix ``P`` of LAPACK's row swaps ``pivots`` (from 1): ``A = P L U``."""
    perm = jax.lax.linalg.lu_pivots_to_permutation(pivots.astype(jnp.int32) - 1, m)
    return jnp.swapaxes(jnp.eye(m, dtype=dtype)[perm], -1, -2)


LU_L, LU_U = (Op(f"lu_{part}", _inexact_only("lu", lambda a, part=part: _unpacked(
    jax.lax.linalg.lu(a)[0], part)), "LinalgLuBackward0") for part in (0, 1))
LU_P = Op("lu_p", lambda a: _permutation(jax.lax.linalg.lu(a)[1] + 1, a.shape[-2], a.dtype), "",
          differentiable=False)
UNPACK_L, UNPACK_U = (Op(f"lu_unpack_{part}", lambda lu, part=part: _unpacked(lu, part),
                         "LuUnpackBackward0") for part in (0, 1))
UNPACK_P = Op("lu_unpack_p", lambda lu, pivots: _permutation(pivots, lu.shape[-2], lu.dtype), "",
              differentiable=False)
CHOLESKY_SOLVE = Op("cholesky_solve", lambda b, factor, upper: jax.scipy.linalg.cho_solve(
    (factor, not upper), b), "CholeskySolveBackward0")
CHOLESKY_INVERSE = Op("cholesky_inverse", lambda factor, upper: jax.scipy.linalg.cho_solve(
    (factor, not upper), jnp.broadcast_to(jnp.eye(factor.shape[-1], dtype=factor.dtype),
                                          factor.shape)), "CholeskyInverseBackward0")
MATRIX_RANK = Op("matrix_rank", _rank, "", differentiable=False)
# torch conjugates lazily (a flag, no node): its graph is a product and a sum, as for reals.
CONJ_MUL = Op("conj_mul", lambda x, y: jnp.conj(x) * y, "MulBackward0")
MULTI_DOT = Op("multi_dot", lambda *xs: jnp.linalg.multi_dot(xs), "ViewBackward0")


inv = _ops.inverse
det = _ops.det
matmul = _ops.matmul
matrix_power = _ops.matrix_power


@autocast_policy(FP32)
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


@autocast_policy(FP32)
def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of each symmetric positive-definite matrix: lower triangular
    ``L`` with ``A = L L^H``, or its conjugate transpose with ``upper=True``."""
    _check_matrices("linalg.cholesky", A)
    return apply(CHOLESKY, A, upper=bool(upper))


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The vector ``ord``-norm over ``dim`` (every element by default), computed in ``dtype``
    when given."""
    return norm_op(x, ord, dim, keepdim, dtype)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """The ``ord``-norm of each matrix, over the two dimensions ``dim``: ``'fro'``
    (Frobenius), ``'nuc'`` (nuclear: the sum of the singular values), 2 and -2 (the largest
    and the smallest singular value), 1 and -1 (the largest and the smallest column sum of
    absolute values), ``inf`` and ``-inf`` (row sums), composed of the ops torch composes it
    of (so its ``grad_fn`` is theirs), in ``dtype`` when given.

    >>> import funcgrad
    >>> A = funcgrad.tensor([[1.0, -2.0], [3.0, 4.0]])
    >>> [round(funcgrad.linalg.matrix_norm(A, o).item(), 4) for o in ("fro", 1, float("inf"))]
    [5.4772, 6.0, 7.0]

    Raises:
        RuntimeError: torch's, for another ``ord``, ``dim`` not two different dimensions, a
            tensor of fewer than two dimensions or of integers, or a ``dtype`` it cannot take.
    """
    if ord not in ("fro", "nuc") and (isinstance(ord, str) or abs(ord) not in (1, 2, math.inf)):
        shown = ord if isinstance(ord, str) else f"{ord:g}"
        raise RuntimeError(f"linalg.matrix_norm: Order {shown} not supported.")
    _check_decomposable("linalg.matrix_norm", A)
    if ord in ("nuc", 2, -2) and A.dtype in (_dtypes.float16, _dtypes.bfloat16):
        raise RuntimeError("linalg.matrix_norm: Low precision dtypes not supported. Got "
                           f"{_dtypes.scalar_name(A.dtype)}")
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                           f"{' '.join(map(str, dims))}")
    rows, cols = (_ops._wrap_dim(d, A.ndim) for d in dims)
    if rows == cols:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({rows}, {cols})")
    A = _ops.in_dtype("linalg.matrix_norm", A, dtype)
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):  # of the singular values, the matrices' dims moved to the end
        order = [d for d in range(A.ndim) if d not in (rows, cols)] + [rows, cols]
        s = svdvals(A.permute(order))
        result = (s.sum(-1, keepdim=keepdim) if ord == "nuc" else
                  s.amax(-1, keepdim=keepdim) if ord == 2 else s.amin(-1, keepdim=keepdim))
        return result.unsqueeze(-1).permute(tuple(order.index(d) for d in range(A.ndim))
                                            ) if keepdim else result
    if abs(ord) == math.inf:  # the 1-norm of the transpose
        rows, cols = cols, rows
    sums = vector_norm(A, 1, rows, keepdim)
    cols -= not keepdim and rows < cols
    return sums.amax(cols, keepdim=keepdim) if ord > 0 else sums.amin(cols, keepdim=keepdim)


def nuclear_norm(input: Tensor, dim=(-2, -1), keepdim: bool = False) -> Tensor:
    """torch's top-level ``nuclear_norm(input, keepdim=False)`` or ``(input, dim,
    keepdim=False)``: ``matrix_norm(input, 'nuc', dim, keepdim)``, with torch's deprecation
    warning."""
    warnings.warn("at::nuclear_norm is deprecated and it is just left for JIT compatibility. "
                  "It will be removed in a future PyTorch release. Please use "
                  "`linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead", UserWarning,
                  stacklevel=2)
    if isinstance(dim, bool):  # the first form, keepdim given by position
        dim, keepdim = (-2, -1), dim
    return matrix_norm(input, "nuc", dim, keepdim)


def frobenius_norm(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """torch's top-level ``frobenius_norm``: the 2-norm over at most two dimensions ``dim``
    (every element when empty), with torch's deprecation warning.

    Raises:
        RuntimeError: torch's, for more than two dimensions or an input not of floating point
            or complex.
    """
    warnings.warn("at::frobenius_norm is deprecated and it is just left for JIT compatibility. "
                  "It will be removed in a future PyTorch release. Please use "
                  "`linalg.vector_norm(A, 2., dim, keepdim)` instead", UserWarning,
                  stacklevel=2)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dims)} dimensions "
                           "instead.")
    if not _dtypes.is_inexact(input.dtype):
        raise RuntimeError("norm(): input dtype should be either floating point or complex. "
                           f"Got {_dtypes.scalar_name(input.dtype)} instead.")
    return renamed(norm_op(input, 2, dims or None, keepdim), "NormBackward1")


def norm_except_dim(v: Tensor, pow: int = 2, dim: int = 0) -> Tensor:
    """The ``pow``-norm of ``v`` over every dimension but ``dim``, which is kept (the others
    as size 1); over every element when ``dim`` is -1. Composed as torch composes it, so its
    nodes are torch's.

    >>> import funcgrad
    >>> funcgrad.norm_except_dim(funcgrad.tensor([[3.0, 4.0], [0.0, 1.0]]))
    tensor([[5.],
            [1.]])
    """
    if dim == -1:
        return renamed(norm_op(v, pow), "NormBackward0")
    if dim not in (0, v.ndim - 1):
        return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)
    kept = [1] * v.ndim
    kept[dim] = v.shape[dim]
    rows = v.reshape(v.shape[0], -1) if dim == 0 else v.reshape(-1, v.shape[-1])
    return norm_op(rows, pow, 1 if dim == 0 else 0).view(kept)


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``matrix_norm`` over two dimensions (``dim``, or those of a 2-D ``A``) for a given
    ``ord``, else ``vector_norm`` (the 2-norm of every element when ``ord`` is None), as
    torch dispatches it.

    Raises:
        RuntimeError: torch's, for ``dim`` not of one or two dimensions, or an ``ord``
            without ``dim`` for a tensor not 1-D or 2-D.
    """
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) not in (1, 2):
            raise RuntimeError("linalg.norm: If dim is specified, it must be of length 1 or 2. "
                               f"Got {list(dims)}")
    elif ord is not None and A.ndim not in (1, 2):
        raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {A.ndim}D.")
    if isinstance(ord, str) or ord is not None and (A.ndim == 2 if dim is None
                                                   else len(dims) == 2):
        return matrix_norm(A, ord, (0, 1) if dim is None else dims, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim``."""
    return _ops.cross(input, other, dim)


@autocast_policy(FP32)
def pinv(A: Tensor, *, atol: float | None = None, rtol: float | None = None,
         hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse of each matrix, singular values below ``rtol`` times
    the largest taken as 0 (``hermitian``: ``A`` is, and only its lower triangle is read).

    Raises:
        NotImplementedError: for ``atol``, an absolute tolerance JAX's pinv does not take.
    """
    if A.ndim < 2 or A.dtype not in (_dtypes.float32, _dtypes.float64, _dtypes.complex64,
                                     _dtypes.complex128):
        raise RuntimeError(
            f"linalg.pinv({_dtypes.scalar_name(A.dtype)}{{{list(A.shape)}}}): expected a tensor "
            "with 2 or more dimensions of float, double, cfloat or cdouble types")
    if atol:
        raise NotImplementedError("funcgrad.linalg.pinv takes a relative tolerance (rtol) only, "
                                  f"but got atol={atol}; pass rtol instead")
    if rtol is None and not hermitian:
        return apply(PINV, A)
    return apply(PINV, _hermitian_part(A) if hermitian else A,
                 rtol=None if rtol is None else float(rtol), hermitian=bool(hermitian))


def _hermitian_part(A: Tensor) -> Tensor:
    """The Hermitian matrices that ``A``'s lower triangles give, as torch reads a matrix it is
    told is Hermitian."""
    lower = A.tril(-1)
    return lower + lower.mH + A.diagonal(dim1=-2, dim2=-1).real.diag_embed().to(A.dtype)


@autocast_policy(FP32)
def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """``pinv(input, rtol=rcond)``, by torch's older name."""
    return pinv(input, rtol=rcond)


def matrix_exp(A: Tensor) -> Tensor:
    """The exponential of each square matrix."""
    _check_matrices("linalg.matrix_exp", A)
    return apply(MATRIX_EXP, A)


@autocast_policy(FP32)
def eigh(A: Tensor, UPLO: str = "L"):
    """``(eigenvalues, eigenvectors)`` of each Hermitian matrix, read from its lower (``UPLO``
    ``"L"``) or upper triangle; the eigenvalues ascending, the eigenvectors as columns.

    As in torch, the gradient assumes ``A`` Hermitian, and the eigenvectors' signs (phases)
    are arbitrary: a differentiable loss must not depend on them.

    >>> import funcgrad
    >>> funcgrad.linalg.eigh(funcgrad.tensor([[2.0, 1.0], [1.0, 2.0]])).eigenvalues
    tensor([1., 3.])
    """
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    _check_square("linalg.eigh", A)
    lower = UPLO == "L"
    return return_types.linalg_eigh(apply(EIGH[0], A, lower=lower), apply(EIGH[1], A, lower=lower))


@autocast_policy(FP32)
def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues of each Hermitian matrix, ascending (``eigh``'s first output)."""
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    _check_square("linalg.eigh", A)
    return apply(EIGH[0], A, lower=UPLO == "L")


def _check_eig(name: str, A: Tensor) -> None:
    _check_square(name, A)
    if not _dtypes.is_inexact(A.dtype):
        raise RuntimeError(f"Unknown Complex ScalarType for {_dtypes.scalar_name(A.dtype)}")


@autocast_policy(FP32)
def eig(A: Tensor):
    """``(eigenvalues, eigenvectors)`` of each square matrix, complex (for a real ``A`` too),
    as LAPACK's geev orders them; the eigenvectors are columns of unit norm.

    Each eigenvector is unique up to a complex factor of modulus one: as in torch, a
    differentiable loss must not depend on it (``v.abs()`` does not, nor do the eigenvalues).
    torch checks that and raises for a loss that does; funcgrad does not check, and its
    gradient of such a loss is that of geev's choice (the largest component real). On a GPU,
    JAX computes it with LAPACK on the host.

    >>> import funcgrad
    >>> funcgrad.linalg.eig(funcgrad.tensor([[2.0, 0.0], [0.0, 3.0]])).eigenvalues
    tensor([2.+0.j, 3.+0.j])
    """
    _check_eig("linalg.eig", A)
    return return_types.linalg_eig(apply(EIG[0], A), apply(EIG[1], A))


@autocast_policy(FP32)
def eigvals(A: Tensor) -> Tensor:
    """The eigenvalues of each square matrix, complex, as ``eig`` gives them.

    >>> import funcgrad
    >>> funcgrad.linalg.eigvals(funcgrad.tensor([[0.0, -1.0], [1.0, 0.0]]))
    tensor([0.+1.j, 0.-1.j])
    """
    _check_eig("linalg.eigvals", A)
    return apply(EIG[0], A)


@autocast_policy(FP32)
def svd(A: Tensor, full_matrices: bool = True):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``, the singular values ``S`` descending; with
    ``full_matrices`` (torch's default) ``U`` and ``Vh`` are square.

    The singular vectors' signs are arbitrary: a differentiable loss must not depend on them.

    >>> import funcgrad
    >>> funcgrad.linalg.svd(funcgrad.tensor([[3.0, 0.0], [0.0, -4.0]])).S
    tensor([4., 3.])
    """
    _check_decomposable("linalg.svd", A)
    full = bool(full_matrices)
    return return_types.linalg_svd(*(apply(op, A, full_matrices=full) for op in SVD[:3]))


@autocast_policy(FP32)
def svdvals(A: Tensor) -> Tensor:
    """The singular values of each matrix, descending."""
    _check_decomposable("linalg.svd", A)
    return apply(SVDVALS, A)


@autocast_policy(FP32)
def qr(A: Tensor, mode: str = "reduced"):
    """``(Q, R)`` with ``A = Q R``, ``Q`` orthonormal columns and ``R`` upper triangular; with
    ``mode="complete"`` ``Q`` is square, with ``"r"`` only ``R`` is computed (``Q`` is empty).

    >>> import funcgrad
    >>> funcgrad.linalg.qr(funcgrad.tensor([[3.0], [4.0]]), mode="r").R.abs()
    tensor([[5.]])
    """
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    _check_decomposable("linalg.qr", A)
    complete = mode == "complete"
    q = apply(QR_NO_Q, A) if mode == "r" else apply(QR[0], A, complete=complete)
    return return_types.linalg_qr(q, apply(QR[1], A, complete=complete))


def _check_batches(name: str, what: str, batch: tuple, input: Tensor) -> None:
    if input.ndim > 2 and tuple(batch) != tuple(input.shape[:-2]):
        raise RuntimeError(f"{name}: Expected batch dimensions of {what} to be equal to "
                           f"input.shape[:-2], but got {list(batch)}")


def _check_not_scalar(tau: Tensor) -> None:
    if tau.ndim == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")


def _check_tau(name: str, input: Tensor, tau: Tensor) -> None:
    if input.ndim - tau.ndim != 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got "
                           f"tau.ndim equal to {tau.ndim} and input.ndim is equal to {input.ndim}")
    _check_batches(name, "tau", tau.shape[:-1], input)


@autocast_policy(FP32)
def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first ``n`` columns of the product ``H_1 ... H_k`` of Householder reflectors
    ``H_i = I - tau_i v_i v_i^H``, ``v_i`` the ``i``-th column of ``A`` (``m`` by ``n``, ``m >= n``)
    below its diagonal with a one on it, as ``geqrf`` stores them: ``Q`` of the QR
    decomposition, from ``geqrf``'s ``(a, tau)``.

    Raises:
        RuntimeError: torch's, for shapes or dtypes that do not fit.

    >>> import funcgrad
    >>> A = funcgrad.tensor([[3.0, 1.0], [4.0, 2.0], [0.0, 5.0]])
    >>> Q = funcgrad.linalg.householder_product(*funcgrad.geqrf(A))
    >>> funcgrad.allclose(Q @ funcgrad.linalg.qr(A).R, A, atol=1e-5)
    True
    """
    name = "funcgrad.linalg.householder_product"
    if A.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if A.shape[-2] < A.shape[-1]:
        raise RuntimeError(
            f"{name}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    _check_not_scalar(tau)
    if A.shape[-1] < tau.shape[-1]:
        raise RuntimeError(
            f"{name}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    _check_tau(name, A, tau)
    if tau.dtype != A.dtype:
        raise RuntimeError(f"{name}: tau dtype {_dtypes.scalar_name(tau.dtype)} does not match "
                           f"input dtype {_dtypes.scalar_name(A.dtype)}")
    return apply(HOUSEHOLDER_PRODUCT, A, tau)


@autocast_policy(FP32)
def orgqr(input: Tensor, tau: Tensor) -> Tensor:
    """``householder_product(input, tau)``, by LAPACK's name (torch's ``orgqr``)."""
    return householder_product(input, tau)


@autocast_policy(FP32)
def geqrf(input: Tensor):
    """``(a, tau)``: LAPACK's geqrf, the QR decomposition of each matrix with ``R`` on and
    above ``a``'s diagonal and ``Q`` as Householder reflectors (``householder_product``) below
    it. As torch's, not differentiable (torch records a node whose backward raises; here the
    results have no ``grad_fn``): ``linalg.qr`` is.

    >>> import funcgrad
    >>> funcgrad.geqrf(funcgrad.tensor([[3.0], [4.0]])).a
    tensor([[-5.0000],
            [ 0.5000]])
    """
    if input.ndim < 2:
        raise RuntimeError("funcgrad.geqrf: input must have at least 2 dimensions.")
    return return_types.geqrf(apply(GEQRF[0], input), apply(GEQRF[1], input))


@autocast_policy(FP32)
def ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool = True,
          transpose: bool = False) -> Tensor:
    """``Q @ other`` (``other @ Q`` with ``left=False``; ``Q^H`` in place of ``Q`` with
    ``transpose``) for ``Q`` the product of the Householder reflectors of ``geqrf``'s
    ``(input, tau)``, without forming ``Q``.

    Raises:
        RuntimeError: torch's, for shapes or dtypes that do not fit.

    >>> import funcgrad
    >>> a, tau = funcgrad.geqrf(funcgrad.tensor([[3.0], [4.0]]))
    >>> funcgrad.ormqr(a, tau, funcgrad.tensor([[1.0], [0.0]]))  # Q's first column
    tensor([[-0.6000],
            [-0.8000]])
    """
    name = "funcgrad.ormqr"
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if other.ndim < 2:
        raise RuntimeError(f"{name}: other must have at least 2 dimensions.")
    side = -2 if left else -1
    if other.shape[side] != input.shape[-2]:
        raise RuntimeError(f"{name}: other.shape[{side}] must be equal to input.shape[-2]")
    _check_not_scalar(tau)
    if tau.shape[-1] != min(other.shape[side], input.shape[-1]):
        raise RuntimeError(f"{name}: tau.shape[-1] must be equal to min(other.shape[{side}], "
                           "input.shape[-1])")
    _check_tau(name, input, tau)
    if other.ndim != input.ndim:
        raise RuntimeError(
            f"{name}: Expected other to have the same number of dimensions as input, but got "
            f"other.ndim equal to {other.ndim} and input.ndim is equal to {input.ndim}")
    _check_batches(name, "other", other.shape[:-2], input)
    for what, t in (("tau", tau), ("other", other)):
        if t.dtype != input.dtype:
            raise RuntimeError(
                f"{name}: Expected input and {what} to have the same dtype, but input has dtype"
                f"{_dtypes.scalar_name(input.dtype)} and {what} has dtype "
                f"{_dtypes.scalar_name(t.dtype)}")
    return apply(ORMQR, input, tau, other, left=bool(left), transpose=bool(transpose))


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False):
    """``(LD, pivots, info)``: the Bunch-Kaufman factorization ``A = P L D L^T P^T`` (``L^H``
    with ``hermitian``) of each symmetric (Hermitian) matrix, read from its lower triangle,
    as LAPACK's sytrf (hetrf) stores it and torch returns it: ``L`` (unit diagonal, not
    stored) below ``D``'s diagonal and subdiagonal (of its 2 by 2 blocks) in ``LD``, the
    interchanges in ``pivots`` (from 1, negative for a 2 by 2 block), and in ``info`` the
    first zero pivot (from 1; 0 when there is none). Computed by sytrf's unblocked
    algorithm, so the pivots are LAPACK's and ``LD`` equal to rounding. ``check_errors``
    is ignored: funcgrad does not read the values (see this module's docstring). As in
    torch, not differentiable.

    >>> import funcgrad
    >>> funcgrad.linalg.ldl_factor_ex(funcgrad.tensor([[0.0, 1.0], [1.0, 0.0]])).pivots.tolist()
    [-2, -2]
    """
    name = "funcgrad.linalg.ldl_factor_ex"
    _check_matrices(name, A)
    hermitian = bool(hermitian)
    return return_types.linalg_ldl_factor_ex(
        *(apply(op, A, hermitian=hermitian) for op in LDL_FACTOR))


def ldl_factor(A: Tensor, *, hermitian: bool = False):
    """``(LD, pivots)`` of ``ldl_factor_ex``. A singular matrix gives ``inf`` or ``nan``
    where torch raises (see this module's docstring).

    >>> import funcgrad
    >>> A = funcgrad.tensor([[4.0, 2.0], [2.0, 3.0]])
    >>> funcgrad.linalg.ldl_factor(A).LD
    tensor([[4.0000, 0.0000],
            [0.5000, 2.0000]])
    """
    LD, pivots, _ = ldl_factor_ex(A, hermitian=hermitian)
    return return_types.linalg_ldl_factor(LD, pivots)


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False) -> Tensor:
    """The solution ``X`` of ``A X = B`` from ``A``'s ``ldl_factor`` (LAPACK's sytrs, or hetrs
    with ``hermitian``), batches broadcasting. As in torch, not differentiable.

    Raises:
        RuntimeError: torch's, for shapes or dtypes that do not fit.

    >>> import funcgrad
    >>> A = funcgrad.tensor([[0.0, 1.0], [1.0, 2.0]])
    >>> LD, pivots = funcgrad.linalg.ldl_factor(A)
    >>> funcgrad.linalg.ldl_solve(LD, pivots, funcgrad.tensor([[1.0], [4.0]]))
    tensor([[2.],
            [1.]])
    """
    name = "funcgrad.linalg.ldl_solve"
    _check_matrices(name, LD)
    if not _dtypes.is_integer(pivots.dtype):
        raise RuntimeError(f"{name}: Expected pivots to be integers. Got "
                           f"{_dtypes.scalar_name(pivots.dtype)}")
    if tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise RuntimeError(f"{name}: Expected LD.shape[:-1] and pivots.shape to be the same, "
                           f"but got pivots with shape {list(pivots.shape)} instead")
    if B.ndim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(B.ndim, 1)}, {max(B.ndim, 1) - 1}], but got -2)")
    if B.shape[-2] != LD.shape[-1]:
        raise RuntimeError(
            f"Incompatible matrix sizes for {name}: each A matrix is {LD.shape[-2]} by "
            f"{LD.shape[-1]} but each b matrix is {B.shape[-2]} by {B.shape[-1]}")
    if B.dtype != LD.dtype:
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type "
            f"{_dtypes.scalar_name(B.dtype)} and A of type {_dtypes.scalar_name(LD.dtype)} "
            "instead.")
    broadcast_shape(B.shape[:-2], LD.shape[:-2])
    return apply(LDL_SOLVE, LD, B, pivots, hermitian=bool(hermitian))


@autocast_policy(FP32)
def slogdet(A: Tensor):
    """``(sign, logabsdet)`` of each square matrix's determinant (``funcgrad.slogdet``)."""
    return return_types.linalg_slogdet(*_ops.slogdet(A))


def _check_right_side(name: str, A, B, left: bool) -> None:
    """torch's checks for solving ``AX = B`` (or ``XA = B``) with square matrices ``A`` (or
    their factorisation) and matrices ``B``, batches broadcasting."""
    _check_square(name, A)
    if B.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    if (B.shape[-2] if left else B.shape[-1]) != A.shape[-1]:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"{name}: Incompatible shapes of A and B for the equation {equation} "
            f"({A.shape[-2]}x{A.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})")
    broadcast_shape(B.shape[:-2], A.shape[:-2])


@autocast_policy(FP32)
def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """The solution ``X`` of ``A X = B`` (``X A = B`` with ``left=False``) for triangular
    ``A``, read from its upper (or lower) triangle, its diagonal taken as ones with
    ``unitriangular``.

    >>> import funcgrad
    >>> A = funcgrad.tensor([[2.0, 1.0], [0.0, 4.0]])
    >>> funcgrad.linalg.solve_triangular(A, funcgrad.tensor([[3.0], [4.0]]), upper=True)
    tensor([[1.],
            [1.]])
    """
    _check_right_side("linalg.solve_triangular", A, B, left)
    return apply(SOLVE_TRIANGULAR, A, B, upper=bool(upper), left=bool(left),
                 unitriangular=bool(unitriangular))


@autocast_policy(FP32)
def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None):
    """The least-squares solution ``X`` minimizing ``||A X - B||``, as torch's CPU default
    driver ``gelsy`` returns it: ``(solution, residuals, rank, singular_values)`` with
    residuals and singular values empty. ``B`` is a matrix or, with one dimension less than
    ``A``, a vector (batch).

    Raises:
        ValueError: for another ``driver``: its residuals and singular values are
            ``((A @ X - B) ** 2).sum(-2)`` and ``funcgrad.linalg.svdvals(A)``.
    """
    if driver not in (None, "gelsy"):
        raise ValueError(
            f"funcgrad.linalg.lstsq computes the outputs of the driver 'gelsy', not {driver!r}; "
            "for residuals and singular values use ((A @ X - B) ** 2).sum(-2) and "
            "funcgrad.linalg.svdvals(A)")
    _check_decomposable("linalg.lstsq", A)
    vectors = B.ndim == A.ndim - 1
    return return_types.linalg_lstsq(apply(LSTSQ_VECTORS if vectors else LSTSQ, A, B),
                       apply(LSTSQ_NO_RESIDUALS, A, B),
                       matrix_rank(A, rtol=rcond),
                       zeros(0, dtype=A.dtype))


@autocast_policy(LOWER)
def multi_dot(tensors) -> Tensor:
    """The product of the matrices in ``tensors``, in the order of fewest operations; the
    first may be a row vector and the last a column vector (1-D).

    >>> import funcgrad
    >>> funcgrad.linalg.multi_dot([funcgrad.ones(2), funcgrad.eye(2), funcgrad.ones(2)])
    tensor(2.)
    """
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        if i in (0, len(tensors) - 1) and t.ndim not in (1, 2):
            which = "first" if i == 0 else "last"
            raise RuntimeError(f"multi_dot(): the {which} tensor must be 1D or 2D but got "
                               f"{t.ndim}D")
        if 0 < i < len(tensors) - 1 and t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    for i, (a, b) in enumerate(zip(tensors, tensors[1:])):
        if a.shape[-1] != b.shape[0]:
            raise RuntimeError(
                f"multi_dot(): tensors {i} and {i + 1} with shapes {list(a.shape)} and "
                f"{list(b.shape)} cannot be multiplied")
    return apply(MULTI_DOT, *tensors)


@autocast_policy(LOWER)
def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product of vectors along ``dim`` (``x`` conjugated), broadcasting the rest."""
    _check_inexact("linalg.vecdot", x)
    if x.dtype != y.dtype:
        raise RuntimeError(
            "linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
            f"{_dtypes.scalar_name(x.dtype)} and y of type {_dtypes.scalar_name(y.dtype)} "
            "instead")
    products = apply(CONJ_MUL, x, y) if _dtypes.is_complex(x.dtype) else x * y
    return _ops.sum(products, dim)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonal ``offset`` of each matrix (``funcgrad.diagonal`` with the last two
    dimensions as default)."""
    return _ops.diagonal(A, offset, dim1, dim2)


@autocast_policy(FP32)
def matrix_rank(A: Tensor, *, atol: float | None = None, rtol: float | None = None,
                hermitian: bool = False, tol: float | None = None) -> Tensor:
    """The number of singular values (eigenvalue magnitudes with ``hermitian``) of each matrix
    above ``max(atol, rtol * largest)``; ``rtol`` is ``eps * max(rows, cols)`` by default, zero
    when only ``atol`` (or its old name ``tol``) is given.

    >>> import funcgrad
    >>> funcgrad.linalg.matrix_rank(funcgrad.ones(3, 3))
    tensor(1)
    """
    _check_decomposable("linalg.matrix_rank", A)
    atol = tol if atol is None else atol
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else (
            float(jnp.finfo(A.dtype).eps) * max(A.shape[-2:]))
    return apply(MATRIX_RANK, A, atol=float(atol or 0.0), rtol=float(rtol),
                 hermitian=bool(hermitian))


@autocast_policy(FP32)
def cond(A: Tensor, p=None) -> Tensor:
    """The condition number of each matrix in the ``p``-norm: with ``p`` None, 2 or -2 the
    ratio of its extreme singular values, else ``norm(A) * norm(inv(A))`` of square ``A``.

    >>> import funcgrad
    >>> funcgrad.linalg.cond(funcgrad.tensor([[2.0, 0.0], [0.0, 0.5]]))
    tensor(4.)
    """
    if A.ndim < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    if p in (None, 2, -2):
        s = svdvals(A)
        largest, smallest = _ops.narrow(s, -1, 0, 1), _ops.narrow(s, -1, -1, 1)
        ratio = largest / smallest if p != -2 else smallest / largest
        return _ops.squeeze(ratio, -1)
    _check_square(f"linalg.cond(ord={p})", A)
    # torch's nan_to_num: a singular matrix's condition number is inf, not nan.
    return _ops.nan_to_num(matrix_norm(A, p) * matrix_norm(inv(A), p), math.inf)


def _lu_info(a):
    """LAPACK getrf's ``info``: the first (from 1) zero on the diagonal of the pivoted LU's
    ``U``, or 0."""
    zero = jnp.diagonal(jax.lax.linalg.lu(a)[0], axis1=-2, axis2=-1) == 0
    return jnp.where(zero.any(-1), jnp.argmax(zero, -1) + 1, 0).astype(jnp.int32)


def _cholesky_info(a):
    """LAPACK potrf's ``info``: the order (from 1) of the first leading minor of ``a`` (its
    lower triangle read) that is not positive-definite, or 0: unpivoted Cholesky, column by
    column, until a pivot is not positive (or is NaN)."""
    n = a.shape[-1]
    rows = jnp.arange(n)

    def one(m):
        def column(k, state):
            factor, info = state
            pivot = jnp.real(m[k, k] - jnp.sum(jnp.abs(factor[k]) ** 2))
            info = jnp.where((info == 0) & ~(pivot > 0), k + 1, info)
            root = jnp.sqrt(jnp.where(pivot > 0, pivot, 1))
            below = (m[:, k] - factor @ jnp.conj(factor[k])) / root
            return factor.at[:, k].set(jnp.where(rows > k, below, jnp.where(rows == k, root,
                                                                            0))), info

        return jax.lax.fori_loop(0, n, column, (jnp.zeros_like(m), jnp.int32(0)))[1]

    return jax.vmap(one)(a.reshape(-1, n, n)).reshape(a.shape[:-2])


LU_INFO = Op("lu_info", _lu_info, "", differentiable=False)
CHOLESKY_INFO = Op("cholesky_info", _cholesky_info, "", differentiable=False)


def _checked(name: str, info: Tensor, message, error=None) -> Tensor:
    """``info``, after raising torch's error (``error``, by default ``LinAlgError``) for its
    first non-zero element when ``check_errors`` asked for that check: ``message(value)``,
    prefixed by the batch element where there are several matrices."""
    values = np.asarray(info._read())
    bad = np.flatnonzero(values)
    if bad.size:
        where = f"(Batch element {bad[0]}): " if values.ndim else ""
        raise (error or LinAlgError)(f"{name}: {where}{message(int(values.flat[bad[0]]))}")
    return info


@autocast_policy(FP32)
def inv_ex(A: Tensor, *, check_errors: bool = False):
    """``(inverse, info)``: ``inv(A)``, and per matrix the first zero (from 1) on the diagonal
    of its LU factorization's ``U`` (0 when invertible), as LAPACK's; with ``check_errors``,
    torch's ``LinAlgError`` for a singular matrix (reading ``info``'s values)."""
    inverse = inv(A)
    info = apply(LU_INFO, A)
    if check_errors:
        _checked("linalg.inv_ex", info, lambda k: f"The diagonal element {k} is zero, the "
                 "inversion could not be completed because the input matrix is singular.")
    return return_types.linalg_inv_ex(inverse, info)


@autocast_policy(FP32)
def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False):
    """``(L, info)``: ``cholesky(A, upper=upper)``, and per matrix the order (from 1) of the
    first leading minor that is not positive-definite (0 when it is), as LAPACK's; with
    ``check_errors``, torch's ``LinAlgError`` for such a matrix (reading ``info``'s values).
    ``info`` is computed column by column, a pass of ``n`` steps (the lazy tier leaves it out
    when nothing reads it)."""
    factor = cholesky(A, upper=upper)
    info = apply(CHOLESKY_INFO, A.transpose(-2, -1).conj() if upper else A)  # (the triangle read)
    if check_errors:
        _checked("linalg.cholesky_ex", info, lambda k: "The factorization could not be "
                 "completed because the input is not positive-definite (the leading minor of "
                 f"order {k} is not positive-definite).")
    return return_types.linalg_cholesky_ex(factor, info)


@autocast_policy(FP32)
def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False):
    """``(result, info)``: ``solve(A, B, left=left)`` and ``inv_ex``'s ``info``; with
    ``check_errors``, torch's ``LinAlgError`` for a singular matrix."""
    result = solve(A, B, left=left)
    info = apply(LU_INFO, A)
    if check_errors:
        _checked("funcgrad.linalg.solve_ex", info,
                 lambda k: "The solver failed because the input matrix is singular.")
    return return_types.linalg_solve_ex(result, info)


@autocast_policy(FP32)
def lu_factor(A: Tensor, *, pivot: bool = True):
    """``(LU, pivots)``: the LU factorization with partial pivoting of each matrix, ``L``
    (unit diagonal, not stored) and ``U`` packed in one matrix, and the row swaps (counted
    from 1, as LAPACK and torch count them), for ``lu_solve``.

    Raises:
        ValueError: for ``pivot=False``, which torch computes on CUDA only.

    >>> import funcgrad
    >>> funcgrad.linalg.lu_factor(funcgrad.tensor([[1.0, 2.0], [3.0, 4.0]])).pivots
    tensor([2, 2])
    """
    if not pivot:
        raise ValueError("funcgrad.linalg.lu_factor pivots (pivot=True), as torch on the CPU")
    if A.ndim < 2:
        raise RuntimeError("funcgrad.lu_factor: Expected tensor with 2 or more dimensions. Got "
                           f"size: {list(A.shape)} instead")
    return return_types.linalg_lu_factor(apply(LU_FACTOR, A), apply(LU_PIVOTS, A))


@autocast_policy(FP32)
def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,
             adjoint: bool = False) -> Tensor:
    """The solution ``X`` of ``A X = B`` (``X A = B`` with ``left=False``; ``A^H`` in place of
    ``A`` with ``adjoint``) from ``A``'s ``lu_factor``.

    >>> import funcgrad
    >>> A = funcgrad.tensor([[2.0, 0.0], [0.0, 4.0]])
    >>> funcgrad.linalg.lu_solve(*funcgrad.linalg.lu_factor(A), funcgrad.tensor([[2.0], [2.0]]))
    tensor([[1.0000],
            [0.5000]])
    """
    _check_right_side("linalg.lu_solve", LU, B, left)
    return apply(LU_SOLVE, LU, pivots, B, left=bool(left), adjoint=bool(adjoint))


@autocast_policy(FP32)
def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False):
    """``(LU, pivots, info)``: ``lu_factor(A)`` and ``inv_ex``'s ``info``; with
    ``check_errors``, torch's error for a zero on ``U``'s diagonal."""
    factors = lu_factor(A, pivot=pivot)
    info = apply(LU_INFO, A)
    if check_errors:
        _checked("funcgrad.linalg.lu_factor_ex", info, lambda k: f"U[{k},{k}] is zero and "
                 "using it on lu_solve would result in a division by zero. If you still want "
                 "to perform the factorization, consider calling linalg.lu(A, pivot) or "
                 "linalg.lu_factor_ex(A, pivot)", RuntimeError)
    return return_types.linalg_lu_factor_ex(*factors, info)


@autocast_policy(FP32)
def lu(A: Tensor, *, pivot: bool = True):
    """``(P, L, U)`` with ``A = P @ L @ U``: the permutation matrix, ``L`` lower triangular
    with a unit diagonal and ``U`` upper triangular, of the LU factorization with partial
    pivoting of each matrix.

    >>> import funcgrad
    >>> P, L, U = funcgrad.linalg.lu(funcgrad.tensor([[1.0, 2.0], [3.0, 4.0]]))
    >>> P @ L @ U
    tensor([[1., 2.],
            [3., 4.]])
    """
    if A.ndim < 2:
        raise RuntimeError("linalg.lu: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A.shape)} instead")
    if not pivot:
        raise ValueError("funcgrad.linalg.lu pivots (pivot=True), as torch on the CPU")
    return return_types.linalg_lu(apply(LU_P, A), apply(LU_L, A), apply(LU_U, A))


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True):
    """``(P, L, U)`` from ``lu_factor``'s packed ``(LU, pivots)`` (empty tensors for what is
    not unpacked)."""
    empty = zeros(0, dtype=LU_data.dtype)
    return return_types.lu_unpack(
        apply(UNPACK_P, LU_data, LU_pivots) if unpack_pivots else empty,
        apply(UNPACK_L, LU_data) if unpack_data else empty,
        apply(UNPACK_U, LU_data) if unpack_data else empty)


@autocast_policy(FP32)
def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    """The solution ``X`` of ``A X = B`` given ``A``'s Cholesky factor ``L`` (``A = L L^H``,
    or with ``upper``, ``A = U^H U``)."""
    if tuple(B.shape[-2:-1]) != tuple(L.shape[-1:]):
        raise RuntimeError(
            f"Incompatible matrix sizes for cholesky_solve: each A matrix is {L.shape[-2]} by "
            f"{L.shape[-1]} but each b matrix is {B.shape[-2]} by {B.shape[-1]}")
    return apply(CHOLESKY_SOLVE, B, L, upper=bool(upper))


@autocast_policy(FP32)
def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:
    """The inverse of ``A`` given its Cholesky factor ``L`` (``A = L L^H``, or with
    ``upper``, ``A = U^H U``)."""
    _check_matrices("cholesky_inverse", L)
    return apply(CHOLESKY_INVERSE, L, upper=bool(upper))


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """The Vandermonde matrices of the vectors along ``x``'s last dimension: the powers
    ``x ** 0`` up to ``x ** (N - 1)`` as columns (``N`` defaults to the vectors' length)."""
    if x.ndim < 1:
        raise RuntimeError("N must be greater than 1.")
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    powers = x.unsqueeze(-1).expand(*x.shape, n - 1).cumprod(-1)
    return _ops.cat([ones_like(x).unsqueeze(-1), powers], -1)


# torch.triangular_solve's two outputs, each with its node's name.
TRIANGULAR_SOLVE = Op("triangular_solve", _inexact_only(
    "triangular_solve", lambda b, a, upper, transpose, unitriangular: jax.lax.linalg.
    triangular_solve(*(jnp.broadcast_to(m, jnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
                                        + m.shape[-2:]) for m in (a, b)),
                     left_side=True, lower=not upper, transpose_a=transpose,
                     unit_diagonal=unitriangular)), "TriangularSolveBackward0")
TRIANGULAR_COEFFICIENT = Op("triangular_solve_coefficient", lambda a, shape: jnp.broadcast_to(
    a, shape), "TriangularSolveBackward0")


@autocast_policy(FP32)
def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False):
    """torch's deprecated ``triangular_solve``: ``(solution, cloned_coefficient)``, the
    solution ``X`` of ``A X = b`` (``A^T X = b`` with ``transpose``) for ``A`` read from its
    upper (or lower) triangle, and a copy of ``A`` (broadcast with ``b``'s batch), with
    torch's warning; ``linalg.solve_triangular(A, b, upper=upper)`` is the new spelling.

    Raises:
        RuntimeError: torch's, for ``b`` or ``A`` of fewer than two dimensions, or matrices
            whose sizes do not match.
    """
    warnings.warn("funcgrad.triangular_solve is deprecated in favor of "
                  "funcgrad.linalg.solve_triangularand will be removed in a future PyTorch "
                  "release.\nfuncgrad.linalg.solve_triangular has its arguments reversed and "
                  "does not return a copy of one of the inputs.\nX = funcgrad.triangular_solve"
                  "(B, A).solution\nshould be replaced with\nX = funcgrad.linalg."
                  "solve_triangular(A, B).", UserWarning, stacklevel=2)
    for name, m in (("b", b), ("A", A)):
        if m.ndim < 2:
            raise RuntimeError(f"torch.triangular_solve: Expected {name} to have at least 2 "
                               f"dimensions, but it has {m.ndim} dimensions instead")
    if A.shape[-1] != A.shape[-2] or A.shape[-1] != b.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for triangular_solve: each A matrix is "
                           f"{A.shape[-2]} by {A.shape[-1]} but each b matrix is {b.shape[-2]} "
                           f"by {b.shape[-1]}")
    batch = broadcast_shape(tuple(b.shape[:-2]), tuple(A.shape[:-2]))
    return return_types.triangular_solve(
        apply(TRIANGULAR_SOLVE, b, A, upper=bool(upper), transpose=bool(transpose),
              unitriangular=bool(unitriangular)),
        apply(TRIANGULAR_COEFFICIENT, A, shape=(*batch, *A.shape[-2:])))


def lu_solve_deprecated(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """torch's deprecated ``lu_solve(b, LU, pivots)``: ``linalg.lu_solve(LU, pivots, b)``,
    with torch's warning."""
    warnings.warn("funcgrad.lu_solve is deprecated in favor of funcgrad.linalg.lu_solveand "
                  "will be removed in a future PyTorch release.\nNote that funcgrad.linalg."
                  "lu_solve has its arguments reversed.\nX = funcgrad.lu_solve(B, LU, pivots)"
                  "\nshould be replaced with\nX = funcgrad.linalg.lu_solve(LU, pivots, B)",
                  UserWarning, stacklevel=2)
    return lu_solve(LU_data, LU_pivots, b)


@autocast_policy(FP32)
def lu_deprecated(A: Tensor, pivot: bool = True, get_infos: bool = False):
    """``funcgrad.lu``, torch's older ``torch.lu``: ``(LU, pivots)`` (and ``infos``), with
    its deprecation warning."""
    warnings.warn("funcgrad.lu is deprecated in favor of funcgrad.linalg.lu_factor / "
                  "funcgrad.linalg.lu_factor_ex and will be removed in a future PyTorch release."
                  "\nLU, pivots = funcgrad.lu(A, compute_pivots)\nshould be replaced with\n"
                  "LU, pivots = funcgrad.linalg.lu_factor(A, compute_pivots)\nand\n"
                  "LU, pivots, info = funcgrad.lu(A, compute_pivots, get_infos=True)\nshould "
                  "be replaced with\nLU, pivots, info = funcgrad.linalg.lu_factor_ex(A, "
                  "compute_pivots)", UserWarning, stacklevel=2)
    result = lu_factor_ex(A, pivot=pivot)
    return tuple(result) if get_infos else tuple(result[:2])


# Tensor methods torch has removed, which raise its message naming what replaces them
_REMOVED = dict(
    solve="This function was deprecated since version 1.9 and is now removed. "
    "`funcgrad.solve` is deprecated in favor of `funcgrad.linalg.solve`. "
    "`funcgrad.linalg.solve` has its arguments reversed and does not return the LU "
    "factorization.\n\nTo get the LU factorization see `funcgrad.lu`, which can be used with "
    "`funcgrad.lu_solve` or `funcgrad.lu_unpack`.\nX = funcgrad.solve(B, A).solution should be "
    "replaced with:\nX = funcgrad.linalg.solve(A, B)",
    lstsq="This function was deprecated since version 1.9 and is now removed. "
    "`funcgrad.lstsq` is deprecated in favor of `funcgrad.linalg.lstsq`.\n"
    "`funcgrad.linalg.lstsq` has reversed arguments and does not return the QR decomposition "
    "in the returned tuple (although it returns other information about the problem).\n\n"
    "To get the QR decomposition consider using `funcgrad.linalg.qr`.\n\n"
    "The returned solution in `funcgrad.lstsq` stored the residuals of the solution in the last "
    "m - n columns of the returned value whenever m > n. In funcgrad.linalg.lstsq, the "
    "residuals are in the field 'residuals' of the returned named tuple.\n\n"
    "The unpacking of the solution, as in\nX, _ = funcgrad.lstsq(B, A).solution[:A.size(1)]\n"
    "should be replaced with:\nX = funcgrad.linalg.lstsq(A, B).solution",
    eig="This function was deprecated since version 1.9 and is now removed. "
    "`funcgrad.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than "
    "real tensors mimicking complex tensors.\n\nL, _ = funcgrad.eig(A) should be replaced "
    "with:\nL_complex = funcgrad.linalg.eigvals(A)\n\nand\n\nL, V = funcgrad.eig(A, "
    "eigenvectors=True) should be replaced with:\nL_complex, V_complex = funcgrad.linalg.eig(A)",
    symeig="This function was deprecated since version 1.9 and is now removed. The default "
    "behavior has changed from using the upper triangular portion of the matrix by default to "
    "using the lower triangular portion.\n\nL, _ = funcgrad.symeig(A, upper=upper) should be "
    "replaced with:\nL = funcgrad.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\n"
    "L, V = funcgrad.symeig(A, eigenvectors=True) should be replaced with:\nL, V = "
    "funcgrad.linalg.eigh(A, UPLO='U' if upper else 'L')",
)


def _removed(name: str):
    def method(self, *args, **kwargs):
        raise RuntimeError(_REMOVED[name])

    method.__name__ = name
    method.__doc__ = "Removed from torch: raises its RuntimeError, which names the replacement."
    return method


for _name in _REMOVED:
    setattr(Tensor, _name, _removed(_name))
Tensor.matrix_exp = matrix_exp
Tensor.pinverse = pinverse
Tensor.cholesky_solve = cholesky_solve
Tensor.cholesky_inverse = cholesky_inverse
Tensor.lu = lu_deprecated
Tensor.lu_solve = lu_solve_deprecated
Tensor.triangular_solve = triangular_solve
Tensor.geqrf = geqrf
Tensor.orgqr = orgqr
Tensor.ormqr = ormqr


# torch's tensorinv reshapes the (column-major) inverse under a node of that name
_RESHAPE_ALIAS = dataclasses.replace(_ops.RESHAPE, grad_fn="ReshapeAliasBackward0")


def _check_halves(first: tuple, rest: tuple, split: str) -> None:
    if math.prod(rest) != math.prod(first):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[{split}:]) "
                           f"== prod(self.shape[:{split}]), but got {math.prod(rest)} != "
                           f"{math.prod(first)}")


@autocast_policy(FP32)
def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The inverse of ``A`` read as a matrix of its first ``ind`` dimensions by the rest
    (as many elements each), shaped back: ``tensordot(tensorinv(A, ind), A, ind)`` is the
    identity.

    >>> import funcgrad
    >>> funcgrad.linalg.tensorinv(funcgrad.eye(4).reshape(4, 2, 2), ind=1).shape
    funcgrad.Size([2, 2, 4])
    """
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    first, rest = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    _check_halves(first, rest, "ind")
    inverse = inv(A.reshape(math.prod(first), math.prod(rest)))
    return apply(_RESHAPE_ALIAS, inverse, shape=rest + first)


@autocast_policy(FP32)
def tensorsolve(A: Tensor, B: Tensor, dims=None) -> Tensor:
    """The ``X`` with ``tensordot(A, X, X.ndim) == B``: ``A`` read as a matrix of its first
    ``B.ndim`` dimensions by the rest, after moving its dimensions ``dims`` to the end."""
    if dims is not None:
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
        A = A.movedim(dims, tuple(range(A.ndim - len(dims), A.ndim)))
    first, rest = tuple(A.shape[:B.ndim]), tuple(A.shape[B.ndim:])
    _check_halves(first, rest, "other.ndim")
    return solve(A.reshape(math.prod(first), math.prod(rest)), B.flatten()).reshape(rest)

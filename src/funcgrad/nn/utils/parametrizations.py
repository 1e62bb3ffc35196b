"""``funcgrad.nn.utils.parametrizations``: weight normalization, spectral normalization and
orthogonal (unitary) matrices as parametrizations (``parametrize.register_parametrization``),
as torch's.

>>> import funcgrad
>>> from funcgrad.nn.utils.parametrizations import weight_norm
>>> layer = weight_norm(funcgrad.nn.Linear(3, 2))
>>> [name for name, _ in layer.named_parameters()]
['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
>>> layer.parametrizations.weight.original0.shape   # the norm g of each row of v
funcgrad.Size([2, 1])
"""

from __future__ import annotations

import jax.numpy as jnp

from ... import _dtypes, _factories, _ops
from ..._grad_mode import no_grad
from ..._graph import Op, apply
from ..._tensor import Tensor
from ...linalg import geqrf, householder_product, matrix_exp, norm_except_dim, solve
from .. import functional as F
from .._modules import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, Module
from . import parametrize

__all__ = ["orthogonal", "weight_norm", "spectral_norm"]


def _weight_norm(v, g, *, dim: int):
    axes = None if dim == -1 else tuple(d for d in range(v.ndim) if d != dim)
    return v * (g / jnp.sqrt(jnp.sum(jnp.square(jnp.abs(v)), axis=axes, keepdims=dim != -1)))


# one op, so that the weight's grad_fn is named as torch's
_WEIGHT_NORM = Op("weight_norm", _weight_norm, "WeightNormInterfaceBackward0")


def weight_normalized(v: Tensor, g: Tensor, dim: int) -> Tensor:
    """``g * v / ||v||``, the norm over every dimension of ``v`` but ``dim`` (-1: over all), as
    torch's ``_weight_norm``: one op where torch's kernel fuses it (``dim`` first or last, and
    no 16-bit dtype), composed of ops otherwise, so the grad_fn is named as torch's."""
    if dim in (0, v.ndim - 1) and v.dtype.itemsize > 2:
        return apply(_WEIGHT_NORM, v, g, dim=dim)
    return v * (g / norm_except_dim(v, 2, dim))


class _WeightNorm(Module):
    """``w = g * v / ||v||`` from the originals ``g`` (``original0``) and ``v``
    (``original1``), the norm taken over every dimension but ``dim`` (-1: over all)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_normalized(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Parametrizes ``module.<name>`` as ``g * v / ||v||``, a magnitude ``g``
    (``parametrizations.<name>.original0``) and a direction ``v`` (``original1``), the norm
    taken per slice along ``dim`` (over the whole tensor when ``dim`` is None); returns
    ``module``. A state dict of the older ``nn.utils.weight_norm`` (``<name>_g`` and
    ``<name>_v``) loads into it, as into torch's."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(state_dict, prefix, *_) -> None:
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


class _SpectralNorm(Module):
    """``w / sigma``, ``sigma`` the largest singular value of ``w`` (as a matrix whose rows
    run along ``dim``), estimated by power iteration on the buffers ``_u`` and ``_v``: one
    step (``n_power_iterations``) per read in training mode, none in eval mode."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim % ndim if ndim else 0
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            matrix = self._matrix(weight)
            h, w = matrix.shape
            self.register_buffer("_u", F.normalize(_factories.randn(h, dtype=weight.dtype), dim=0,
                                                   eps=eps))
            self.register_buffer("_v", F.normalize(_factories.randn(w, dtype=weight.dtype), dim=0,
                                                   eps=eps))
            self._power_method(matrix, 15)

    def _matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, matrix: Tensor, steps: int) -> None:
        """``steps`` steps of power iteration, written into ``_u`` and ``_v`` in place."""
        with no_grad():
            for _ in range(steps):
                self._u.copy_(F.normalize(_ops.mv(matrix, self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(_ops.mv(matrix.mH, self._u), dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        matrix = self._matrix(weight)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        sigma = _ops.vdot(self._u.clone(), _ops.mv(matrix, self._v.clone()))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Parametrizes ``module.<name>`` as itself divided by its spectral norm (largest singular
    value), estimated by power iteration, ``n_power_iterations`` steps each time it is read in
    training mode; ``dim`` (default 0, or 1 for the transposed convolutions) is the one that
    runs along the matrix's rows. Returns ``module``.

    Raises:
        ValueError: torch's, when ``module`` has no parameter or buffer ``name``.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


_ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


def _is_orthogonal(Q: Tensor) -> bool:
    """Whether ``Q``'s columns are orthonormal, to torch's tolerance."""
    eps = 10.0 * Q.shape[-2] * _dtypes.finfo(Q.dtype).eps
    return _ops.allclose(Q.mH @ Q, _factories.eye(Q.shape[-1], dtype=Q.dtype), atol=eps)


def _make_orthogonal(A: Tensor) -> Tensor:
    """``Q`` of ``A = Q R`` (``A`` tall) with ``R``'s diagonal real and non-negative."""
    X, tau = geqrf(A)
    Q = householder_product(X, tau)
    return Q * X.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


def _with_diagonal(A: Tensor, diagonal: Tensor) -> Tensor:
    return _ops.diagonal_scatter(A, diagonal, dim1=-2, dim2=-1)


class _Orthogonal(Module):
    """An orthogonal (unitary) matrix, or batch of them, from an unconstrained ``X`` of its
    shape: the ``matrix_exp`` or ``cayley`` map of the skew-Hermitian matrix of ``X``'s lower
    triangle, or the ``householder`` product of the reflectors below ``X``'s diagonal; with
    ``use_trivialization``, left-multiplied by the buffer ``base`` (set by ``right_inverse``)."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *,
                 use_trivialization: bool = True) -> None:
        super().__init__()
        # a complex matrix has more real degrees of freedom than its reflectors (torch's note)
        if weight.is_complex() and orthogonal_map == "householder":
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2:]
        transposed = n < k
        if transposed:
            X, n, k = X.mT, k, n
        if self.orthogonal_map == "householder":
            A = X.tril(diagonal=-1)
            Q = householder_product(A, 2.0 / (1.0 + (A * A).sum(dim=-2)))
            # X's diagonal (ones and minus ones) flips columns, outside the gradient
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        else:
            X = X.tril()
            if n != k:
                X = _ops.cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH
            if self.orthogonal_map == "matrix_exp":
                Q = matrix_exp(A)
            else:  # the Cayley retraction (I + A/2)(I - A/2)^-1
                eye = _factories.eye(n, dtype=A.dtype)
                Q = solve(_ops.add(eye, A, alpha=-0.5), _ops.add(eye, A, alpha=0.5))
            if n != k:
                Q = Q[..., :k]
        if hasattr(self, "base"):
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        with no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q: Tensor) -> Tensor:
        if Q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {Q.shape}.")
        Q_init = Q
        n, k = Q.shape[-2:]
        transpose = n < k
        if transpose:
            Q, n, k = Q.mT, k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map != "householder":
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley "
                    "parametrizations when use_trivialization=False.")
            # reflectors with R's diagonal signs: ones, but minus one where LAPACK reflects
            # nothing (tau exactly zero), which the forward's sign flip undoes
            A, tau = geqrf(Q)
            signs = A.diagonal(dim1=-2, dim2=-1).sign()
            A = _with_diagonal(A, _ops.where(tau == 0.0, -signs, signs))
            return A.mT if transpose else A
        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:  # completed to a square orthogonal matrix by random columns
            N = _factories.randn(*Q.shape[:-2], n, n - k, dtype=Q.dtype)
            Q = _make_orthogonal(_ops.cat([Q, N], dim=-1))
        self.base = Q
        # -I: the householder map of zeros with this diagonal is I
        return _with_diagonal(_factories.zeros_like(Q_init),
                              _factories.full(Q_init.shape[:-2] + (min(n, k),), -1.0,
                                              dtype=Q_init.dtype))


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Parametrizes ``module.<name>``, a matrix or batch of them, as orthogonal (unitary):
    orthonormal columns, or rows when it is wide. ``orthogonal_map`` is ``"matrix_exp"``,
    ``"cayley"`` or ``"householder"`` (default: ``"matrix_exp"`` for square or complex
    matrices, else ``"householder"``). With ``use_trivialization`` (the default) the map's
    result is multiplied by a stored orthogonal ``base`` (torch's dynamic trivialization), and
    the initial weight is the original one made orthogonal by QR; assigning an orthogonal
    matrix to the weight sets it. Returns ``module``.

    As in torch, completing a non-square weight to the square ``base`` draws random columns
    (from funcgrad's generator, which is not torch's).

    Raises:
        ValueError: torch's, for a missing or 1-D tensor or an unknown map.

    >>> import funcgrad
    >>> from funcgrad.nn.utils.parametrizations import orthogonal
    >>> layer = orthogonal(funcgrad.nn.Linear(3, 3))
    >>> funcgrad.allclose(layer.weight @ layer.weight.T, funcgrad.eye(3), atol=1e-5)
    True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. "
                         f"Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    if orthogonal_map not in _ORTHOGONAL_MAPS:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module

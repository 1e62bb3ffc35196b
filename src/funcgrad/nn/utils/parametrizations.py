"""``funcgrad.nn.utils.parametrizations``: weight normalization and spectral normalization as
parametrizations (``parametrize.register_parametrization``), as torch's.

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

from ... import _factories, _ops
from ..._grad_mode import no_grad
from ..._graph import Op, apply
from ..._tensor import Tensor
from ...linalg import vector_norm
from .. import functional as F
from .._modules import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, Module
from . import parametrize

__all__ = ["weight_norm", "spectral_norm"]


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of ``v`` over every dimension but ``dim``, keeping them (torch's
    ``norm_except_dim``); over all of ``v`` when ``dim`` is -1."""
    if dim == -1:
        return vector_norm(v)
    return vector_norm(v, dim=tuple(d for d in range(v.ndim) if d != dim), keepdim=True)


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
    return v * (g / _norm_except_dim(v, dim))


class _WeightNorm(Module):
    """``w = g * v / ||v||`` from the originals ``g`` (``original0``) and ``v``
    (``original1``), the norm taken over every dimension but ``dim`` (-1: over all)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_normalized(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return _norm_except_dim(weight, self.dim), weight


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

"""Complex tensors: conjugates, real and imaginary parts, polar form, and views between complex
tensors and real pairs, with torch's ``grad_fn`` names and errors.

torch conjugates lazily (a flag on a view); here a conjugate is a new array, so ``is_conj`` is
always False and ``resolve_conj`` has nothing to resolve. Gradients of complex tensors follow
torch's convention (``_graph`` converts JAX's where they reach the user).

>>> import funcgrad
>>> z = funcgrad.tensor([1 + 2j, 3 - 1j])
>>> z.conj()
tensor([1.-2.j, 3.+1.j])
>>> funcgrad.view_as_real(z)
tensor([[ 1.,  2.],
        [ 3., -1.]])
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from . import _dtypes
from ._autocast import FP32, autocast_policy
from ._graph import CONJ, Op, apply
from ._ops import _inplace, select
from ._tensor import Tensor

CONJ_PHYSICAL = Op("conj_physical", jnp.conj, "ConjPhysicalBackward0", saves=False)
CONJ_PHYSICAL_ = dataclasses.replace(CONJ_PHYSICAL, grad_fn="ConjPhysicalBackward1")
ANGLE = Op("angle", jnp.angle, "AngleBackward0")
COMPLEX = Op("complex", jax.lax.complex, "ComplexBackward0", saves=False)
POLAR = Op("polar", lambda abs, angle: jax.lax.complex(abs * jnp.cos(angle),
                                                        abs * jnp.sin(angle)), "PolarBackward0")
VIEW_AS_REAL = Op("view_as_real", lambda z: jnp.stack([z.real, z.imag], -1),
                  "ViewAsRealBackward0", saves=False)
VIEW_AS_COMPLEX = Op("view_as_complex", lambda x: jax.lax.complex(x[..., 0], x[..., 1]),
                     "ViewAsComplexBackward0", saves=False)
ISREAL = Op("isreal", lambda z: jnp.imag(z) == 0, "", differentiable=False)


def is_complex(input) -> bool:
    """Whether ``input`` has a complex dtype."""
    return bool(_dtypes.is_complex(input.dtype))


def conj(input) -> Tensor:
    """The complex conjugate; a real tensor is returned as it is, as torch does.

    >>> import funcgrad
    >>> funcgrad.conj(funcgrad.tensor([1j]))
    tensor([0.-1.j])
    """
    return apply(CONJ, input) if is_complex(input) else input


def conj_physical(input) -> Tensor:
    """The complex conjugate, as a new tensor (torch's non-lazy conjugate); a real tensor is
    returned as it is."""
    return apply(CONJ_PHYSICAL, input) if is_complex(input) else input


def conj_physical_(self) -> Tensor:
    """In-place ``conj_physical``; recorded for a real tensor too, as in torch."""
    return _inplace(self, apply(CONJ_PHYSICAL_, self))


def resolve_conj(input) -> Tensor:
    """``input`` itself: conjugates here are never lazy, so there is nothing to resolve."""
    return input


def is_conj(input) -> bool:
    """False: conjugates here are never lazy views."""
    return False


def view_as_real(input) -> Tensor:
    """A complex tensor as real pairs, in a new last dimension of size 2.

    Raises:
        RuntimeError: if ``input`` is not complex.
    """
    if not is_complex(input):
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return apply(VIEW_AS_REAL, input)


@autocast_policy(FP32)
def view_as_complex(input) -> Tensor:
    """Real pairs (a last dimension of size 2) as complex numbers.

    Raises:
        RuntimeError: if the last dimension is not of size 2, or the dtype not float32/64
            (JAX has no complex dtype of half precision, torch's ComplexHalf).
    """
    if input.dtype == _dtypes.float16:
        raise RuntimeError("view_as_complex of a Half tensor would make a ComplexHalf tensor, "
                           "which JAX has no dtype for: convert it with .float() first.")
    if input.dtype not in (_dtypes.float32, _dtypes.float64):
        raise RuntimeError("view_as_complex is only supported for half, float and double "
                           "tensors, but got a tensor of scalar type: "
                           f"{_dtypes.scalar_name(input.dtype)}")
    if input.ndim == 0 or input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    return apply(VIEW_AS_COMPLEX, input)


def real(input) -> Tensor:
    """The real parts (of a real tensor, the tensor itself); torch's graph: a select of the
    real view."""
    return select(view_as_real(input), -1, 0) if is_complex(input) else input


def imag(input) -> Tensor:
    """The imaginary parts.

    Raises:
        RuntimeError: if ``input`` is not complex.
    """
    if not is_complex(input):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return select(view_as_real(input), -1, 1)


def angle(input) -> Tensor:
    """The argument of each element, in radians (pi for negative reals, 0 otherwise)."""
    return apply(ANGLE, input)


def isreal(input) -> Tensor:
    """Where the imaginary part is zero (everywhere, for a real tensor)."""
    return apply(ISREAL, input)


def _check_parts(real, imag) -> None:
    """torch's checks of ``complex``'s and ``polar``'s two real operands."""
    dtypes = (real.dtype, imag.dtype)
    if not all(d in (_dtypes.float16, _dtypes.float32, _dtypes.float64) for d in dtypes):
        raise RuntimeError("Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_dtypes.scalar_name(dtypes[0])} and {_dtypes.scalar_name(dtypes[1])}")
    if dtypes[0] != dtypes[1]:
        raise RuntimeError(f"Expected object of scalar type {_dtypes.scalar_name(dtypes[0])} but "
                           f"got scalar type {_dtypes.scalar_name(dtypes[1])} for second argument")


def complex(real, imag) -> Tensor:  # noqa: A001 - torch's name
    """The complex tensor ``real + 1j * imag`` (broadcast).

    >>> import funcgrad
    >>> funcgrad.complex(funcgrad.tensor([1.0]), funcgrad.tensor([2.0]))
    tensor([1.+2.j])
    """
    _check_parts(real, imag)
    return apply(COMPLEX, real, imag)


@autocast_policy(FP32)
def polar(abs, angle) -> Tensor:  # noqa: A002 - torch's argument names
    """The complex tensor of absolute values ``abs`` and arguments ``angle``."""
    _check_parts(abs, angle)
    return apply(POLAR, abs, angle)


def _install() -> None:
    for name, fn in dict(conj=conj, conj_physical=conj_physical, conj_physical_=conj_physical_,
                         resolve_conj=resolve_conj, is_conj=is_conj, is_complex=is_complex,
                         angle=angle, isreal=isreal).items():
        setattr(Tensor, name, fn)
    Tensor.real = property(real)
    Tensor.imag = property(imag)


_install()

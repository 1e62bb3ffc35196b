"""``funcgrad.autograd.forward_ad``: forward-mode AD on stateful tensors, as
``torch.autograd.forward_ad`` has it. Inside a ``dual_level``, ``make_dual`` pairs a tensor
with a tangent, every op on it gives its output the tangent the op's JVP (from ``jax.jvp``)
carries forward, and ``unpack_dual`` reads it back: one Jacobian-vector product per pass, with
no backward. An op computes its output's tangent with ops of its own, recorded when grad mode
is on, so a tangent has a gradient (reverse-over-forward).

>>> import funcgrad
>>> import funcgrad.autograd.forward_ad as fwAD
>>> x = funcgrad.tensor([1.0, 2.0])
>>> with fwAD.dual_level():
...     y = fwAD.make_dual(x, funcgrad.tensor([1.0, 0.0])) ** 2
...     y
...     fwAD.unpack_dual(y).tangent
tensor([1., 4.], tangent=tensor([2., 0.]))
tensor([2., 0.])
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from .. import _dtypes, _forward_ad
from .._grad_mode import _GradModeContext
from .._graph import Op, apply
from .._tensor import Tensor

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual",
           "unpack_dual", "dual_level"]

# torch's dual tensor is a view of its primal, and the primal unpack_dual gives a view of the
# dual: identities with torch's node names, where a gradient flows through them.
_MAKE_DUAL = Op("make_dual", jnp.asarray, "ViewBackward0", saves=False)
_PRIMAL = Op("primal", jnp.asarray, "Identity", saves=False)


def enter_dual_level() -> int:
    """Enters a new forward-AD level (there is one at a time) and returns it."""
    if _forward_ad.level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _forward_ad.level = 0
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Exits the current forward-AD level: every tangent made in it is forgotten."""
    level = _forward_ad.level if level is None else level
    if level != _forward_ad.level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    _forward_ad.tangents.clear()
    _forward_ad.level = -1


class dual_level(_GradModeContext):
    """The block (or decorated function) where forward-AD computations happen: entering makes
    the level (``as`` gives it), leaving forgets every tangent made in it."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc) -> None:
        exit_dual_level()


def _level(level: int | None) -> int:
    return _forward_ad.level if level is None else level


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """``tensor`` with ``tangent`` attached: ops on the result carry the tangent forward. It
    shares ``tensor``'s storage unless ``tensor`` requires grad (then it is a copy, connected
    to ``tensor`` by a ``ViewBackward0`` node: funcgrad's views do not alias)."""
    level = _level(level)
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if level != _forward_ad.level:
        raise RuntimeError("Invalid level given to _make_dual")
    for what, t in (("primal", tensor), ("tangent", tangent)):
        if not _dtypes.is_inexact(t.dtype):
            raise ValueError(f"Expected {what} to be floating point or complex, but got: "
                             f"{_dtypes.name(t.dtype)}")
    if tangent.shape != tensor.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            "original Tensor, this is not supported. Tensor is of size "
            f"{list(tensor.shape)} while the given forward gradient is of size "
            f"{list(tangent.shape)}.")
    if tangent.dtype != tensor.dtype:
        raise ValueError(
            f"make_dual needs a tangent of the primal's dtype: the primal is "
            f"{_dtypes.name(tensor.dtype)} and the tangent {_dtypes.name(tangent.dtype)}. "
            f"Convert the tangent first: tangent.to({_dtypes.name(tensor.dtype)}).")
    if _forward_ad.tangent_of(tensor) is not None:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward "
                           f"gradient at the same level {level} is not supported.")
    dual = apply(_MAKE_DUAL, tensor) if tensor.requires_grad else tensor.detach()
    _forward_ad.set_tangent(dual, tangent)
    return dual


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal and the tangent (None when there is none)."""

    primal: Tensor
    tangent: Tensor | None


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``tensor``'s primal (a tensor without the tangent: sharing its storage, or, when it
    requires grad, a copy connected to it by an ``Identity`` node) and its tangent. Outside a
    level: ``tensor`` itself and None."""
    if _level(level) < 0:
        return UnpackedDualTensor(tensor, None)
    tangent = _forward_ad.tangent_of(tensor)
    if tensor.requires_grad:
        with _forward_ad.pause():
            primal = apply(_PRIMAL, tensor)
    else:
        primal = tensor.detach()
    return UnpackedDualTensor(primal, tangent)

"""``funcgrad.utils.dlpack``: tensors to and from other array libraries (torch, NumPy, JAX,
CuPy …) through DLPack, without copying where the device allows.

>>> import numpy as np, funcgrad
>>> t = funcgrad.from_dlpack(np.arange(3, dtype=np.float32))
>>> t, np.from_dlpack(t * 2)
(tensor([0., 1., 2.]), array([0., 2., 4.], dtype=float32))
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .. import _factories
from .._tensor import Tensor

__all__ = ["from_dlpack", "to_dlpack"]


def from_dlpack(ext_tensor, *, device=None, copy: bool | None = None) -> Tensor:
    """A tensor of the array ``ext_tensor`` of another library (any object with
    ``__dlpack__`` and ``__dlpack_device__``), sharing its memory unless ``copy`` or a
    ``device`` of its own asks for a copy (or, on the host, strides that JAX cannot take, as
    a transposed slice's). It requires no grad. Without ``jax_enable_x64``,
    a 64-bit array comes as 32 bits (a copy), as ``funcgrad.tensor`` makes a NumPy array's.

    Raises:
        TypeError: for anything else, a DLPack capsule included (JAX reads the protocol's
            objects only: pass the array itself).
    """
    if not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(
            "from_dlpack takes an array of another library, with __dlpack__ and "
            f"__dlpack_device__ (a torch, NumPy, JAX or CuPy array), but got "
            f"{type(ext_tensor).__name__}. JAX reads no DLPack capsule: pass the array itself.")
    try:
        array = jnp.from_dlpack(ext_tensor, copy=copy)
    except jax.errors.JaxRuntimeError as e:
        # JAX takes compact strides only; NumPy reads any strides of a host array, to copy.
        if "striding" not in str(e) or copy is False or ext_tensor.__dlpack_device__()[0] != 1:
            raise
        array = jnp.asarray(np.from_dlpack(ext_tensor))
    return _factories._finish(array, array.dtype, device, False)


def to_dlpack(tensor: Tensor):
    """A DLPack capsule of ``tensor``'s values, for a library that reads capsules (torch's
    ``from_dlpack``), consumed once. A tensor itself goes to other libraries' ``from_dlpack``
    directly, as their protocol prefers."""
    return tensor._read().__dlpack__()

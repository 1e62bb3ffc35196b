"""Device names as torch spells them ('cpu', 'cuda', 'cuda:1', 'gpu') mapped onto JAX devices."""

from __future__ import annotations

import sys
import types

import jax

_TORCH_TYPE = {"cpu": "cpu", "gpu": "cuda", "cuda": "cuda", "rocm": "cuda", "tpu": "tpu"}
_JAX_PLATFORM = {"cpu": "cpu", "cuda": "gpu", "gpu": "gpu", "tpu": "tpu"}
_default: list[jax.Device | None] = [None]
# The GPU 'cuda' names without an index: torch's current device, which cuda.set_device and
# cuda.device choose.
current_gpu: list[int] = [0]


class device:
    """A device as torch names it, bound to a JAX device.

    Args:
        spec: ``'cpu'``, ``'cuda'``, ``'cuda:N'``, ``'gpu'``, ``'gpu:N'``, a ``device`` or a
            ``jax.Device``.
        index: the device number when ``spec`` names only the type.

    Raises:
        RuntimeError: if no such device is attached; the message lists those that are.

    >>> import funcgrad
    >>> funcgrad.device("cpu")
    device(type='cpu')
    """

    __slots__ = ("type", "index", "jax_device")
    __module__ = "funcgrad"  # where users find it: its type prints as <class 'funcgrad.device'>

    def __init__(self, spec, index: int | None = None) -> None:
        if isinstance(spec, device):
            spec = spec.jax_device
        if isinstance(spec, jax.Device):
            self.jax_device = spec
            self.type = _TORCH_TYPE.get(spec.platform, spec.platform)
            # The first CPU is torch's index-less 'cpu'; JAX's other (e.g. forced host) CPU
            # devices keep their number, so 'cpu:1' stays distinguishable from 'cpu'.
            self.index = None if self.type == "cpu" and spec.id == 0 else spec.id
            return
        self.type, number = _parse(spec)
        self.index = index if number is None else number
        self.jax_device = _find(self.type, self.index, spec)

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.jax_device == other.jax_device

    def __hash__(self) -> int:
        return hash(self.jax_device)

    def __enter__(self) -> device:
        """``with device(...):`` makes it the default device inside, as torch's does."""
        _entered.append(_default[0])
        _default[0] = self.jax_device
        return self

    def __exit__(self, *exc) -> None:
        _default[0] = _entered.pop()


_entered: list[jax.Device | None] = []  # the default devices the open with-blocks replaced


def _parse(spec) -> tuple[str, int | None]:
    """torch's type of the device ``spec`` names ('cuda' for 'gpu:1'), and its number if any."""
    kind, _, num = str(spec).partition(":")
    if kind not in _JAX_PLATFORM or (num and not num.isdigit()):
        raise RuntimeError(
            f"Expected one of cpu, cuda, gpu, tpu device type at start of device string: "
            f"{spec}"
        )
    return _TORCH_TYPE[kind], int(num) if num else None


def _find(kind: str, index: int | None, spec) -> jax.Device:
    try:
        candidates = jax.devices(_JAX_PLATFORM[kind])
    except RuntimeError:
        candidates = []
    if index is None and candidates:
        return candidates[current_gpu[0] if kind == "cuda" else 0]
    for d in candidates:
        if d.id == index or (kind == "cpu" and index == 0):
            return d
    there = ", ".join(str(device(d)) for d in jax.devices()) or "none"
    raise RuntimeError(
        f"device '{spec}' is not available: JAX sees these devices: {there}. Use one of them, "
        "or install a JAX build for that backend (for NVIDIA GPUs: pip install 'jax[cuda12]')."
    )


def as_jax(spec) -> jax.Device | None:
    """The JAX device for a torch-style spec, or None for 'wherever JAX puts it'."""
    if spec is None:
        return _default[0]
    return device(spec).jax_device


def get_default_device() -> device:
    """The device that factories use when ``device=`` is not given: JAX's default backend
    unless ``set_default_device`` changed it.

    >>> import funcgrad
    >>> funcgrad.get_default_device().type in ("cpu", "cuda", "tpu")
    True
    """
    return device(_default[0] or jax.devices()[0])


def set_default_device(spec) -> None:
    """Sets the device that factories use when ``device=`` is not given.

    Args:
        spec: a device name, ``device`` or ``jax.Device``; None restores JAX's default.

    >>> import funcgrad
    >>> funcgrad.set_default_device("cpu"); funcgrad.zeros(2).device
    device(type='cpu')
    >>> funcgrad.set_default_device(None)
    """
    _default[0] = None if spec is None else device(spec).jax_device


def of(array) -> device:
    """The device an array lives on (the default device for an abstract tracer)."""
    try:
        devices = array.devices()
    except Exception:  # a tracer has no concrete device
        return get_default_device()
    return device(next(iter(devices)))


def get_device_module(spec=None):
    """The module of a device type, ``funcgrad.cuda`` for ``'cuda'`` or ``'cuda:1'``; with no
    ``spec``, that of the first device JAX sees (its accelerator, or the CPU). The device need
    not be attached.

    Raises:
        RuntimeError: torch's, for a ``spec`` that is not a device name, or a device type with
            no module.

    >>> import funcgrad
    >>> funcgrad.get_device_module("cuda:0") is funcgrad.cuda
    True
    """
    if isinstance(spec, device):
        kind = spec.type
    elif isinstance(spec, str):
        kind = _parse(spec)[0]
    elif spec is None:
        kind = device(jax.devices()[0]).type
    else:
        raise RuntimeError(f"Invalid value of device '{spec}', expect funcgrad.device, str, or "
                           "None")
    module = sys.modules["funcgrad"].__dict__.get(kind)
    if not isinstance(module, types.ModuleType):
        raise RuntimeError(f"Device '{kind}' does not have a corresponding module registered as "
                           f"'funcgrad.{kind}'.")
    return module

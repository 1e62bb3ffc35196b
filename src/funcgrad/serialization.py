"""``funcgrad.save`` and ``funcgrad.load``, as ``torch.save`` and ``torch.load``: an object
holding tensors (a ``state_dict``, an optimizer's, a checkpoint dict) to a file and back.

A tensor comes back on the device it was saved from, or where ``map_location`` says. As torch
does since 2.6, ``load`` unpickles only tensors, containers and plain values unless the caller
allows more (``add_safe_globals``, ``safe_globals``) or passes ``weights_only=False``: a pickle
can name any function to call, so loading an untrusted file that way can run any code.

The file is a pickle (tensors travel through the host as NumPy arrays), not torch's zip archive:
``torch.load`` cannot read it, and ``funcgrad.load`` does not read torch's files.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Callable, Iterable

import numpy as np

from . import _tensor
from ._devices import device
from ._factories import tensor
from ._tensor import Tensor

# What weights_only loading unpickles, by the names a pickle gives them: tensors (and the
# helper that rebuilds them), containers and plain values, the NumPy arrays tensors travel as
# (``numpy._core`` since NumPy 2, ``numpy.core`` before) and the JAX arrays of an optimizer's
# state; besides these, optax's state records (see ``_WeightsUnpickler``).
_DEFAULT_SAFE = frozenset({
    "funcgrad._tensor._unpickle", "funcgrad._tensor.Tensor", "funcgrad._tensor.Size",
    "funcgrad.nn._modules.Parameter", "jax._src.array._reconstruct_array",
    "collections.OrderedDict", "builtins.set", "builtins.frozenset", "builtins.complex",
    "builtins.slice", "builtins.bytearray", "_codecs.encode",
    "numpy.ndarray", "numpy.dtype",
    "numpy._core.multiarray._reconstruct", "numpy._core.multiarray.scalar",
    "numpy.core.multiarray._reconstruct", "numpy.core.multiarray.scalar",
})
_safe: dict[str, object] = {}  # what add_safe_globals allowed, by name
_ZIP_MAGIC = b"PK\x03\x04"


def save(obj, f, pickle_module=pickle, pickle_protocol: int = 2) -> None:
    """Saves ``obj`` to ``f``: a path, or a file opened for writing bytes.

    Args:
        obj: what to save: tensors, modules' and optimizers' ``state_dict()``, and any
            containers and values of them.
        f: a path (``str`` or ``os.PathLike``) or a binary file object.
        pickle_module: the module that pickles (``pickle`` by default).
        pickle_protocol: the pickle protocol (torch's default, 2).

    >>> import io, funcgrad
    >>> buffer = io.BytesIO()
    >>> funcgrad.save({"w": funcgrad.tensor([1.0, 2.0], requires_grad=True)}, buffer)
    >>> _ = buffer.seek(0)
    >>> funcgrad.load(buffer)
    {'w': tensor([1., 2.], requires_grad=True)}
    """
    with _opened(f, "wb") as file:
        pickle_module.dump(obj, file, protocol=pickle_protocol)


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None,
         **pickle_load_args):
    """Loads what ``funcgrad.save`` saved.

    Args:
        f: a path (``str`` or ``os.PathLike``) or a binary file object.
        map_location: where tensors go: None (the device each was saved from), a device
            (``'cpu'``, ``'cuda:0'``, a ``funcgrad.device``), a dict from saved device names to
            devices, or a callable ``(tensor, location)`` given each tensor on the CPU and the
            name of the device it was saved from, returning the tensor to use or None (then
            it goes to that device).
        pickle_module: the module that unpickles, with ``weights_only=False`` only.
        weights_only: unpickle only tensors, containers, plain values and what
            ``add_safe_globals`` allowed (the default, as in torch). False unpickles anything,
            which can run any code the file names: only for files you trust.
        pickle_load_args: passed to the unpickler (``encoding``, say).

    Raises:
        pickle.UnpicklingError: with ``weights_only``, for a file that names anything else; the
            message names it and says how to allow it.
        RuntimeError: for a tensor saved on a device that is not here (the message says to
            use ``map_location``), or a file that ``torch.save`` wrote.
    """
    weights_only = True if weights_only is None else weights_only
    if weights_only and pickle_module is not None:
        raise RuntimeError(
            "funcgrad.load: weights_only=True unpickles with its own restricted unpickler, so it "
            f"cannot use pickle_module={getattr(pickle_module, '__name__', pickle_module)!r}. "
            "Pass weights_only=False to load with that module (only for files you trust)."
        )
    place = _placer(map_location)  # a bad map_location fails before the file is opened
    unpickler = _WeightsUnpickler if weights_only else (pickle_module or pickle).Unpickler
    with _opened(f, "rb") as file:
        _refuse_torch_archive(file)
        token = _tensor._placement.set(place)
        try:
            return unpickler(file, **pickle_load_args).load()
        finally:
            _tensor._placement.reset(token)


def add_safe_globals(safe_globals: Iterable) -> None:
    """Allows ``load`` with ``weights_only`` to unpickle these classes and functions too.

    Args:
        safe_globals: the objects, or ``(object, "module.name")`` pairs for one that a pickle
            names differently from its ``__module__`` and ``__qualname__``.
    """
    for entry in safe_globals:
        obj, name = entry if isinstance(entry, tuple) else (entry, _name(entry))
        _safe[name] = obj


def get_safe_globals() -> list:
    """What ``add_safe_globals`` allowed, in order."""
    return list(_safe.values())


def clear_safe_globals() -> None:
    """Forgets what ``add_safe_globals`` allowed."""
    _safe.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: Iterable):
    """``add_safe_globals`` inside a ``with`` block only."""
    before = dict(_safe)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _safe.clear()
        _safe.update(before)


class _WeightsUnpickler(pickle.Unpickler):
    """Unpickles only the globals in ``_DEFAULT_SAFE``, those allowed by name, and optax's state
    records (the NamedTuples of an optimizer's ``state_dict``); it checks the name before
    importing anything but optax's own modules."""

    def find_class(self, module: str, name: str):
        full = f"{module}.{name}"
        if full in _safe:
            return _safe[full]
        if full in _DEFAULT_SAFE:
            return super().find_class(module, name)
        if module.partition(".")[0] == "optax":
            try:
                record = super().find_class(module, name)
            except (ImportError, AttributeError):
                record = None
            if isinstance(record, type) and issubclass(record, tuple) and hasattr(
                    record, "_fields"):
                return record
        raise pickle.UnpicklingError(
            f"Weights only load failed: the file names {full}, which funcgrad.load does not "
            "unpickle by default (a pickle can call anything it names). If you trust the "
            f"file's source, allow it with funcgrad.serialization.add_safe_globals([{full}]) "
            "or the funcgrad.serialization.safe_globals context manager, or load with "
            "weights_only=False."
        )


def _name(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


@contextlib.contextmanager
def _opened(f, mode: str):
    """``f`` itself when it is a file object, else the file at that path, closed after."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, mode) as file:
            yield file
    else:
        yield f


def _refuse_torch_archive(file) -> None:
    if not (hasattr(file, "seekable") and file.seekable()):
        return
    start = file.tell()
    head = file.read(len(_ZIP_MAGIC))
    file.seek(start)
    if head == _ZIP_MAGIC:
        raise RuntimeError(
            "funcgrad.load: this file is a zip archive, as torch.save writes them; "
            "funcgrad.load reads the pickles funcgrad.save writes. Load it with torch.load "
            "and make each tensor a funcgrad one with funcgrad.tensor(t.numpy())."
        )


def _placer(map_location) -> Callable[[np.ndarray, str], object]:
    """``(host array, saved device name) -> array`` placed where ``map_location`` says."""
    if map_location is None:
        return _placed
    if isinstance(map_location, (str, device)):
        target = str(device(map_location))  # an unknown device fails here, not mid-file
        return lambda array, saved: _placed(array, target)
    if isinstance(map_location, dict):
        return lambda array, saved: _placed(array, str(map_location.get(saved, saved)))
    if callable(map_location):
        def place(array: np.ndarray, saved: str):
            moved = map_location(tensor(array, device="cpu"), saved)
            if moved is None:
                return _placed(array, saved)
            if not isinstance(moved, Tensor):
                raise TypeError(
                    "funcgrad.load: a map_location callable returns the tensor to use or None, "
                    f"but returned a {type(moved).__name__}."
                )
            return moved._read()

        return place
    raise TypeError(
        "funcgrad.load: map_location is a device (such as 'cpu' or funcgrad.device('cuda:0')), "
        "a dict from saved device names to devices, or a callable (tensor, location), but got "
        f"a {type(map_location).__name__}."
    )


def _placed(array: np.ndarray, name: str):
    try:
        where = device(name)
    except RuntimeError as e:
        raise RuntimeError(
            f"funcgrad.load: a tensor in this file was saved on '{name}', which is not here "
            f"({e}) Pass map_location='cpu' (or another device, or a dict from saved device "
            "names to devices) to place the file's tensors there."
        ) from None
    return tensor(array, device=where)._storage.array

"""``default_collate`` (samples into a batch) and ``default_convert`` (one sample's NumPy
arrays into tensors), with torch's rules for each kind of element."""

from __future__ import annotations

import collections.abc
import copy
import re

import numpy as np

from ... import _dtypes
from ..._factories import as_tensor, tensor
from ..._ops import stack
from ..._tensor import Tensor

# NumPy dtypes of strings and objects, which make no tensor (torch's pattern).
_STRING_OR_OBJECT = re.compile(r"[SaUO]")

_COLLATE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                  "or lists; found {}")


def default_collate(batch):
    """Puts a list of samples together into a batch, as torch's ``default_collate`` does.

    Tensors are stacked along a new first dimension; NumPy arrays and NumPy scalars become
    tensors first; Python ints make an integer tensor and Python floats a float64 one (float32
    without ``jax_enable_x64``); strings stay a list. Dicts, namedtuples and sequences are
    collated field by field (tuples come back as lists, as in torch).

    Raises:
        RuntimeError: for sequences of different lengths.
        TypeError: for any other kind of element, or NumPy arrays of strings or objects.

    >>> import funcgrad
    >>> from funcgrad.utils.data import default_collate
    >>> default_collate([(funcgrad.tensor([1.0, 2.0]), 0), (funcgrad.tensor([3.0, 4.0]), 1)])
    [tensor([[1., 2.],
            [3., 4.]]), tensor([0, 1])]
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if _STRING_OR_OBJECT.search(elem.dtype.str):
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return default_collate([as_tensor(b) for b in batch])
    if isinstance(elem, (np.bool_, np.number, np.object_)):
        return as_tensor(np.asarray(batch))  # a NumPy array keeps the scalars' dtype
    if isinstance(elem, float):
        return tensor(batch, dtype=_dtypes.default_double())
    if isinstance(elem, int):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _same_mapping(elem, {key: default_collate([d[key] for d in batch])
                                    for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(samples) for samples in zip(*batch)]
        return fields if isinstance(elem, tuple) else _same_sequence(elem, fields)
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_convert(data):
    """One sample with its NumPy arrays and scalars turned into tensors (what a ``DataLoader``
    without batching applies); containers keep their type (tuples become lists, as in torch),
    everything else is returned as it is.

    >>> import numpy as np
    >>> from funcgrad.utils.data import default_convert
    >>> default_convert({"x": np.array([1, 2]), "name": "a"})
    {'x': tensor([1, 2]), 'name': 'a'}
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.bool_, np.number)):
        if isinstance(data, np.ndarray) and _STRING_OR_OBJECT.search(data.dtype.str):
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _same_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _same_sequence(data, [default_convert(d) for d in data])
    return data


def _same_mapping(like, items: dict):
    """``items`` in a mapping of ``like``'s type where that type can be made (a plain dict
    where not), as torch returns them."""
    if isinstance(like, collections.abc.MutableMapping):
        clone = copy.copy(like)
        clone.update(items)
        return clone
    try:
        return type(like)(items)
    except TypeError:
        return items


def _same_sequence(like, items: list):
    """``items`` in a sequence of ``like``'s type where that type can be made (a list where
    not), as torch returns them."""
    if isinstance(like, collections.abc.MutableSequence):
        clone = copy.copy(like)
        clone[:] = items
        return clone
    try:
        return type(like)(items)
    except TypeError:
        return items

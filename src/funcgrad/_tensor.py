"""Tensor: a mutable box around an immutable ``jax.Array``, plus autograd metadata.

The array lives in a ``_Storage`` that ``detach()`` and ``.data`` share, as torch's storage is
shared: an in-place op on either side rebinds the one array and bumps the one version counter.
Every read of the array goes through ``Tensor._read()``, which computes it first when the lazy
tier (``_lazy``) left it pending; metadata and the recording of further ops use
``Tensor._peek()``, which answers from the pending value's abstract shape and dtype instead.
"""

from __future__ import annotations

import contextvars
import copy
import math
import warnings
import weakref
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import _devices, _dtypes, _format, _forward_ad, _grad_mode, _layouts, _lazy

_new = object.__new__


class _Storage:
    __slots__ = ("array", "version", "born")

    # Bumped by funcgrad.compile at each trace: storages born during a trace are the step's
    # own (made inside it), never state from outside.
    epoch = 0

    def __new__(cls, array=None):
        return _new(_storage_type() if cls is _Storage else cls)

    def __init__(self, array) -> None:
        self.array = array
        self.version = 0
        self.born = _Storage.epoch


class _InferenceStorage(_Storage):
    """The storage of an inference tensor: one made inside ``inference_mode()``, or sharing
    such a one's storage (``detach()``, ``.data``), as torch's. Outside inference mode it
    cannot be saved for backward, changed in place or made to require grad."""

    __slots__ = ()


def _storage_type() -> type:
    """The storage class for a tensor made now."""
    if _grad_mode.inference_blocks and _grad_mode.is_inference_mode_enabled():
        return _InferenceStorage
    return _Storage


def check_not_inference(storage: _Storage, what: str) -> None:
    """torch's error for ``what`` (an in-place update, requiring grad) done to an inference
    tensor outside inference mode."""
    if type(storage) is _InferenceStorage and not _grad_mode.is_inference_mode_enabled():
        if what == "requires_grad":
            raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                               "InferenceMode is not allowed.")
        raise RuntimeError(  # torch's words, their missing spaces included
            "Inplace update to inference tensor outside InferenceMode is not allowed.You can "
            "make a clone to get a normal tensor before doing inplace update.See "
            "https://github.com/pytorch/rfcs/pull/17 for more details.")


class Size(tuple):
    """A tensor's shape: a tuple that prints as torch prints ``torch.Size``; slicing,
    concatenating and repeating one gives a Size, as in torch.

    >>> import funcgrad
    >>> s = funcgrad.zeros(2, 3, 4).shape
    >>> s[1:], (5,) + s
    (funcgrad.Size([3, 4]), funcgrad.Size([5, 2, 3, 4]))
    """

    def __repr__(self) -> str:
        return f"funcgrad.Size({list(self)})"

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        out = tuple.__add__(self, other)
        return out if out is NotImplemented else Size(out)

    def __radd__(self, other):
        return Size(tuple.__add__(other, self)) if isinstance(other, tuple) else NotImplemented

    def __mul__(self, times):
        out = tuple.__mul__(self, times)
        return out if out is NotImplemented else Size(out)

    __rmul__ = __mul__

    def numel(self) -> int:
        return math.prod(self)


_NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information."
)

_TRACED_READ = (
    "funcgrad cannot read a value inside a transform (jit, vmap, grad, compile): .item(), "
    "float(), int(), bool(), .tolist(), .numpy() and Python `if`/`while` on a tensor need a "
    "concrete value, and here the tensor holds a traced one. Return the value from the "
    "transformed function instead, or use funcgrad.where for a choice that depends on it "
    "(funcgrad.cond to run one of two functions).\n"
)


def check_can_require_grad(dtype, who: str = "Only Tensors of floating point and complex dtype"
                           ) -> None:
    """Raises torch's error for an integer or bool dtype; ``who`` is the wording of the entry
    point (factories, ``requires_grad_()`` and the ``requires_grad`` setter differ in torch)."""
    if not (_dtypes.is_floating(dtype) or _dtypes.is_complex(dtype)):
        raise RuntimeError(f"{who} can require gradients")


def row_major_strides(shape: tuple) -> tuple[int, ...]:
    """The strides (in elements) of a row-major tensor of ``shape``: every funcgrad tensor's."""
    return tuple(int(np.prod(shape[i + 1:])) for i in range(len(shape)))


def _row_major_in(shape: tuple, format) -> bool:
    """Whether a row-major tensor of ``shape`` is laid out in ``format`` too, by torch's rule
    (the strides of size-1 dimensions do not count)."""
    if format is _layouts.contiguous_format:
        return True
    if _layouts._RANKS.get(format) != len(shape):
        return False
    wanted, row, step = [0] * len(shape), np.cumprod((1, *shape[:0:-1]))[::-1], 1
    for axis in (1, *range(len(shape) - 1, 1, -1), 0):  # channels innermost
        wanted[axis], step = step, step * shape[axis]
    return all(n == 1 or a == b for n, a, b in zip(shape, wanted, row))


class Tensor:
    """A multi-dimensional array with PyTorch's autograd semantics, backed by a ``jax.Array``.

    Make tensors with ``funcgrad.tensor`` and the other factories; ``Tensor(data)`` works too and
    gives a float tensor, as torch's legacy constructor does.

    >>> import funcgrad
    >>> x = funcgrad.tensor(3.0, requires_grad=True)
    >>> y = x ** 2
    >>> y
    tensor(9., grad_fn=<PowBackward0>)
    >>> y.backward(); x.grad
    tensor(6.)
    """

    __slots__ = ("_storage", "_requires_grad", "_grad", "grad_fn", "_accumulate",
                 "_retains_grad", "__weakref__")
    __array_priority__ = 1000  # NumPy defers `ndarray * tensor` to Tensor.__rmul__

    def __init__(self, data: Any = (), *, requires_grad: bool = False) -> None:
        # A private host copy (np.array copies) for JAX to take: it may alias the host memory it
        # is given, or read it after this returns, and the caller may write to it.
        array = jnp.asarray(np.array(data, dtype=np.float32), dtype=_dtypes.get_default_dtype())
        self._init(_Storage(array), requires_grad, None)

    def _init(self, storage: _Storage, requires_grad: bool, grad_fn) -> None:
        self._storage = storage
        self._requires_grad = requires_grad
        self._grad = None
        self.grad_fn = grad_fn
        self._accumulate = None
        self._retains_grad = False

    @classmethod
    def _wrap(cls, array, grad_fn=None, requires_grad: bool = False) -> Tensor:
        """Boxes an array without checks: the path of ops, the engine and pytree unflattening.
        It runs once per op, so it sets the fields itself: calling ``_Storage()`` and ``_init``
        would cost about 40% more."""
        storage = _new(_Storage if not _grad_mode.inference_blocks else _storage_type())
        storage.array, storage.version, storage.born = array, 0, _Storage.epoch
        t = _new(cls)
        t._storage, t.grad_fn = storage, grad_fn
        t._requires_grad = requires_grad or grad_fn is not None
        t._grad = t._accumulate = None
        t._retains_grad = False
        return t

    # Called with each tensor read while set: how funcgrad.compile finds the state a function
    # uses. A class attribute, so the hot path pays one attribute check.
    _observer = None
    # Counts the rebinding of any tensor's storage, requires_grad or .grad object (not the
    # in-place writes of arrays into a storage): funcgrad.compile's fast path checks the state
    # it planned for again only when this has moved.
    _rebinds = 0

    def _rebound(self) -> None:
        Tensor._rebinds += 1

    def _read(self):
        """The current array, computed if it is pending. The one accessor readers go through."""
        if Tensor._observer is not None:
            Tensor._observer(self)
        array = self._storage.array
        if type(array) is _lazy.Pending:
            array = self._storage.array = _lazy.value(array)
        return array

    def _peek(self):
        """The current array, or the pending value that will be it: for what needs only its
        shape, dtype and device (metadata, recording another op), so reading them forces
        nothing."""
        if Tensor._observer is not None:
            Tensor._observer(self)
        return self._storage.array

    def _write(self, array) -> None:
        """Rebinds the box to a new array: an in-place change, visible to every alias."""
        self._storage.array = array
        self._storage.version += 1

    # ----- metadata ---------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._peek().shape)

    def size(self, dim: int | None = None):
        """The shape, or its length along ``dim``.

        Raises:
            IndexError: torch's, for a ``dim`` the tensor does not have.
        """
        shape = self.shape
        if dim is None:
            return shape
        if not shape:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        if not -len(shape) <= dim < len(shape):
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-len(shape)}, {len(shape) - 1}], but got {dim})")
        return shape[dim]

    @property
    def dtype(self) -> np.dtype:
        return self._peek().dtype

    @property
    def device(self) -> _devices.device:
        return _devices.of(self._peek())

    @property
    def ndim(self) -> int:
        return self._peek().ndim

    def dim(self) -> int:
        return self.ndim

    ndimension = dim

    def numel(self) -> int:
        return self.shape.numel()

    nelement = numel

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self.dtype.itemsize

    def element_size(self) -> int:
        """Bytes per element."""
        return self.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of all the elements."""
        return self.numel() * self.itemsize

    def is_contiguous(self, memory_format=None) -> bool:
        """Always True: a JAX array has no strides of its own, so a tensor reads as laid out
        row-major, as a contiguous torch tensor is, and as laid out in any format asked for
        (``_layouts``)."""
        return True

    @property
    def layout(self) -> _layouts.layout:
        """``strided``: funcgrad's tensors are dense."""
        return _layouts.strided

    def data_ptr(self) -> int:
        """An integer naming this tensor's storage, where torch gives the address of its first
        element: the same for tensors that share storage (``detach()``, ``.data``, a
        ``Parameter`` made of a tensor), another for a copy. funcgrad's views are copies, so
        a view's differs from its base's."""
        return id(self._storage)

    const_data_ptr = data_ptr

    def storage_offset(self) -> int:
        """0: a funcgrad tensor starts at the start of its storage (views are copies)."""
        return 0

    def stride(self, dim: int | None = None):
        """The row-major strides (in elements), or the one of ``dim``."""
        strides = row_major_strides(self.shape)
        return strides if dim is None else strides[dim]

    def dim_order(self, *, ambiguity_check=False) -> tuple:
        """The dimensions from outermost to innermost in memory: always in order, as
        ``stride`` reads (row-major). With ``ambiguity_check`` True, or a list of memory
        formats, raises torch's error where another order is as true (a size-1 dimension, or
        equal strides) and the formats do not single one out.

        >>> import funcgrad
        >>> funcgrad.empty(2, 3, 5).dim_order()
        (0, 1, 2)

        Raises:
            TypeError: torch's, for an ``ambiguity_check`` that is not a bool or a list of
                memory formats.
            RuntimeError: torch's, for an ambiguous order when asked to check.
        """
        if not isinstance(ambiguity_check, bool) and not (
                isinstance(ambiguity_check, list) and all(
                    isinstance(f, _layouts.memory_format) for f in ambiguity_check)):
            raise TypeError("The ambiguity_check argument must be a bool or a list of memory "
                            "formats.")
        shape, strides = tuple(self.shape), self.stride()
        tied = any(a == b for a, b in zip(strides, strides[1:]))
        formats = ambiguity_check if isinstance(ambiguity_check, list) else []
        if ambiguity_check is not False and (1 in shape or tied) and sum(
                _row_major_in(shape, f) for f in formats) != 1:
            raise RuntimeError("The tensor does not have unique dim order, or cannot map to "
                               "exact one of the given memory formats.")
        # torch orders the dimensions by stride where channels-last fits as well, and then
        # finds ties
        if ambiguity_check and _row_major_in(shape, _layouts.channels_last) and (
                tied or 0 in strides):
            raise RuntimeError("The tensor does not have unique dim order.")
        return tuple(range(self.ndim))

    def is_shared(self) -> bool:
        """False: a JAX array lives in this process's memory, never in memory shared with
        other processes (``share_memory_`` cannot move it there)."""
        return False

    def share_memory_(self) -> Tensor:
        """Returns this tensor as it is: JAX arrays cannot be placed in shared memory, so
        another process given this tensor gets a copy (``is_shared`` stays False)."""
        return self

    def is_pinned(self, device=None) -> bool:
        """False: funcgrad has no page-locked host memory of its own."""
        return False

    def pin_memory(self, device=None) -> Tensor:
        """This tensor as it is where there is an accelerator (JAX stages its copies to the
        device itself, so ``is_pinned`` stays False).

        Raises:
            RuntimeError: torch's, where there is no accelerator.
        """
        from . import cuda

        if not cuda.is_available():
            raise RuntimeError("Cannot access accelerator device when none is available.")
        return self

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    # What a funcgrad tensor never is: sparse, quantized, nested, a meta tensor, or on a
    # backend torch names apart. Code written for torch asks (optimizers check grad.is_sparse).
    is_sparse = is_sparse_csr = is_quantized = is_meta = is_mkldnn = is_nested = False
    is_mps = is_xpu = is_ipu = is_xla = is_vulkan = is_maia = is_mtia = False

    def dense_dim(self) -> int:
        """The number of dense dimensions: all of them (funcgrad has no sparse tensors)."""
        return self.ndim

    def sparse_dim(self) -> int:
        """The number of sparse dimensions: none (funcgrad has no sparse tensors)."""
        return 0

    def to_dense(self, dtype=None, *, masked_grad=None) -> Tensor:
        """This tensor, which is dense already (converted to ``dtype`` when that differs, as
        ``to`` converts). ``masked_grad`` matters only to sparse tensors."""
        return self if dtype is None or dtype == self.dtype else self.to(dtype)

    def get_device(self) -> int:
        """The index of the GPU this tensor is on; -1 on the CPU."""
        device = self.device
        return -1 if device.type == "cpu" else device.index or 0

    def is_signed(self) -> bool:
        """Whether the dtype holds negative values (not ``uint8`` or ``bool``)."""
        return self.dtype.kind not in "ub"

    def is_same_size(self, other: Tensor) -> bool:
        return self.shape == other.shape

    def is_floating_point(self) -> bool:
        return bool(_dtypes.is_floating(self.dtype))

    @property
    def _version(self) -> int:
        if type(self._storage) is _InferenceStorage:
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._storage.version

    # ----- autograd metadata ------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if flag:
            check_can_require_grad(self.dtype, "only Tensors of floating point and complex dtype")
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Sets whether autograd records ops on this leaf tensor, in place.

        Raises:
            RuntimeError: turning it off on a non-leaf tensor, or asking an integer tensor to
                require grad.

        >>> import funcgrad
        >>> funcgrad.tensor(2.0, requires_grad=True).requires_grad_(False)
        tensor(2.)
        """
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad:
            check_can_require_grad(self.dtype, "only Tensors of floating point dtype")
            check_not_inference(self._storage, "requires_grad")
        self._requires_grad = bool(requires_grad)
        self._rebound()
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def is_inference(self) -> bool:
        """Whether this is an inference tensor: made inside ``inference_mode()``, or sharing
        such a tensor's storage (``detach()``, ``.data``). Outside inference mode it cannot be
        saved for backward, updated in place or made to require grad; ``clone()`` gives a
        normal tensor of its values. funcgrad's views are copies: a view made outside inference
        mode of an inference tensor is a normal tensor (torch's is an inference one), one made
        inside of a normal tensor is an inference tensor (torch's is normal); and ``detach()``
        of an inference tensor is one in every way, where torch's, made outside inference
        mode, may be updated in place.

        >>> import funcgrad
        >>> with funcgrad.inference_mode():
        ...     x = funcgrad.ones(2)
        >>> x.is_inference(), x.clone().is_inference()
        (True, False)
        """
        return type(self._storage) is _InferenceStorage

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def grad(self) -> Tensor | None:
        if self.grad_fn is not None and not self._retains_grad:
            warnings.warn(_NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value.shape != self.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor "
                    f"of size '{list(self.shape)}'. Please ensure that the gradient and the "
                    "tensor are the same size"
                )
        self._grad = value
        self._rebound()

    @property
    def data(self) -> Tensor:
        """This tensor's values without its history, sharing its storage (as torch's ``.data``)."""
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        self._storage = _Storage(value._peek() if isinstance(value, Tensor)
                                 else jnp.asarray(np.array(value)))  # a private copy, as above
        self._rebound()

    def detach(self) -> Tensor:
        """A tensor that shares this one's storage but has no history and requires no grad.

        >>> import funcgrad
        >>> funcgrad.tensor(2.0, requires_grad=True).detach()
        tensor(2.)
        """
        t = object.__new__(Tensor)
        t._init(self._storage, False, None)
        return t

    def detach_(self) -> Tensor:
        """Detaches this tensor from the graph in place, making it a leaf that needs no grad."""
        self.grad_fn = None
        self._requires_grad = False
        self._rebound()
        return self

    def _accumulator(self):
        """The graph node that accumulates this leaf's gradient. As in torch, the tensor holds
        it weakly and it holds the tensor: the graphs through the leaf keep both alive, and a
        leaf that nothing else references is freed at once, with its ``.grad`` and the work it
        keeps, rather than left in a reference cycle for the garbage collector. A leaf whose
        accumulator is gone gets a new one, as does a copy (``copy.deepcopy``) of a leaf; one
        that hooks were registered on is held for good (``_hold_accumulator``)."""
        accumulator = self._accumulate
        if type(accumulator) is weakref.ref:
            accumulator = accumulator()
        if accumulator is None or accumulator.variable is not self:
            from ._graph import AccumulateGrad

            accumulator = AccumulateGrad(self)
            self._accumulate = weakref.ref(accumulator)
        return accumulator

    def _hold_accumulator(self):
        """The leaf's accumulator, held strongly from now on: it carries hooks registered through
        the tensor (torch keeps those on the tensor and gives them to each new accumulator)."""
        accumulator = self._accumulate = self._accumulator()
        return accumulator

    def _edge(self):
        """Where a gradient for this tensor flows: its grad_fn, its accumulator, or nowhere."""
        if not self._requires_grad:
            return None
        return self.grad_fn if self.grad_fn is not None else self._accumulator()

    def retain_grad(self) -> None:
        """Keeps ``.grad`` of a non-leaf tensor after backward (a no-op on leaves).

        >>> import funcgrad
        >>> x = funcgrad.tensor(2.0, requires_grad=True)
        >>> y = x * 3; y.retain_grad(); (y ** 2).backward(); y.grad
        tensor(12.)
        """
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self._retains_grad:
            self.grad_fn._retain(self)
            self._retains_grad = True

    def register_hook(self, hook):
        """Registers ``hook(grad) -> Tensor | None``, called with this tensor's gradient each
        backward; a returned tensor replaces the gradient. Returns a handle with ``.remove()``.

        >>> import funcgrad
        >>> x = funcgrad.tensor(2.0, requires_grad=True)
        >>> h = x.register_hook(lambda g: g * 10)
        >>> (x ** 2).backward(); x.grad
        tensor(40.)
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node = self._hold_accumulator() if self.grad_fn is None else self.grad_fn
        return node._add_tensor_hook(hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Registers ``hook(tensor)``, called after backward accumulated into this leaf's
        ``.grad`` (e.g. to step an optimizer per parameter). Returns a handle with ``.remove()``.

        Raises:
            RuntimeError: on a tensor that does not require grad or is not a leaf.

        >>> import funcgrad
        >>> x = funcgrad.tensor(2.0, requires_grad=True)
        >>> h = x.register_post_accumulate_grad_hook(lambda t: print("grad", t.grad))
        >>> (x ** 2).backward()
        grad tensor(4.)
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        from ._graph import add_hook

        accumulator = self._hold_accumulator()
        return add_hook(accumulator._post_accumulate, hook)

    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Accumulates the gradient of this tensor into ``.grad`` of the leaves it depends on.

        Args:
            gradient: the gradient of some scalar with respect to this tensor; may be omitted
                for a single-element tensor.
            retain_graph: keep the graph's saved values for another backward (defaults to
                ``create_graph``).
            create_graph: record the backward itself, for higher-order gradients.
            inputs: accumulate only into these tensors' ``.grad``.

        Raises:
            RuntimeError: if this tensor does not require grad, the graph was freed by an
                earlier backward, or ``gradient`` is omitted for a multi-element tensor.

        >>> import funcgrad
        >>> x = funcgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (x ** 2).mean().backward(); x.grad
        tensor([0.6667, 1.3333, 2.0000])
        """
        from ._graph import backward

        backward((self,), None if gradient is None else (gradient,), retain_graph,
                 create_graph, inputs)

    # ----- conversion -------------------------------------------------------------------------
    def _concrete(self) -> np.ndarray:
        array = self._read()
        try:
            return np.asarray(array)
        except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
            # JAX's own error names neither the tensor method nor the way out.
            raise jax.errors.ConcretizationTypeError(array, _TRACED_READ) from None

    def item(self):
        """The value of a one-element tensor as a Python number.

        >>> import funcgrad
        >>> funcgrad.tensor([2.5]).item()
        2.5
        """
        n = self.numel()
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        return self._concrete().reshape(()).item()

    def tolist(self):
        """The values as (nested) Python lists of numbers."""
        return self._concrete().tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as a NumPy array (a read-only copy: JAX arrays are immutable).

        Raises:
            RuntimeError: if the tensor requires grad (call ``detach()`` first), as in torch.
        """
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._concrete()

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """NumPy's protocol: ``np.array(t)`` asks for a copy (writable, as torch's gives),
        ``np.asarray(t)`` for the tensor's memory where it can (read-only: JAX's)."""
        array = self._concrete()
        if copy:
            return np.array(array, dtype)
        return array if dtype is None else array.astype(dtype, copy=False)

    def __jax_array__(self):
        return self._read()

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """DLPack's protocol, for other libraries' ``from_dlpack`` (the tensor's memory, where
        the device allows).

        Raises:
            BufferError: torch's, for a tensor that requires grad (detach it first).
        """
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self._read().__dlpack__(stream=stream, max_version=max_version,
                                       dl_device=dl_device, copy=copy)

    def __dlpack_device__(self) -> tuple:
        return self._read().__dlpack_device__()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    def __index__(self) -> int:
        if _dtypes.is_floating(self.dtype):
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with "
                               f"{'no values' if self.numel() == 0 else 'more than one value'} "
                               "is ambiguous")
        return bool(self.item())

    def is_nonzero(self) -> bool:
        """Whether the one element is not zero (torch's error for none or several)."""
        return bool(self)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    __hash__ = object.__hash__

    def __format__(self, spec: str) -> str:
        if self.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __repr__(self) -> str:
        prefix = "tensor("
        suffixes = []
        array = self._read()
        if isinstance(array, jax.core.Tracer):
            if Tensor._observer is not None:  # inside funcgrad.compile: a print would run once
                raise jax.errors.ConcretizationTypeError(array, _TRACED_READ)
            body = f"<traced {array.aval.str_short()}>"
        else:
            dev = self.device
            if dev != _devices.get_default_device():
                suffixes.append(f"device='{dev}'")
            floating = bool(_dtypes.is_floating(self.dtype))
            body = _format.contents(np.asarray(array), floating, len(prefix))
            if self.numel() == 0:
                if self.ndim != 1:
                    suffixes.append(f"size={tuple(self.shape)}")
                if self.dtype != _dtypes.get_default_dtype():
                    suffixes.append(f"dtype={_dtypes.name(self.dtype)}")
            elif not _dtypes.is_default(self.dtype):
                suffixes.append(f"dtype={_dtypes.name(self.dtype)}")
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name().rsplit('::', 1)[-1]}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        tangent = _forward_ad.tangent_of(self)
        if tangent is not None:
            suffixes.append(f"tangent={tangent}")
        return _format.with_suffixes(prefix + body, suffixes, len(prefix))

    __str__ = __repr__

    def __copy__(self) -> Tensor:
        """A shallow copy as torch makes one: a leaf on the same storage (an in-place write to
        either shows in both), with ``requires_grad`` but no ``.grad`` or graph."""
        out = object.__new__(type(self))
        out._init(self._storage, self._requires_grad, None)
        return out

    def __deepcopy__(self, memo: dict) -> Tensor:
        """A copy as torch makes one: a leaf's values, ``requires_grad`` and ``.grad`` (copied
        too), tensors that share a storage sharing one copy of it.

        Raises:
            RuntimeError: for a tensor made by an op that records a gradient (not a leaf).
        """
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                f"protocol at the moment; this one is the output of {self.grad_fn.name()}. "
                "Copy tensor.detach() instead, and call requires_grad_() on the copy if it "
                "should require grad."
            )
        storage = memo.get(id(self._storage))
        if storage is None:
            storage = memo[id(self._storage)] = _Storage(self._read())
        out = memo[id(self)] = object.__new__(type(self))
        out._init(storage, self._requires_grad, None)
        if self._grad is not None:
            out._grad = copy.deepcopy(self._grad, memo)  # once, if other tensors hold it
        return out

    def __reduce_ex__(self, protocol: int):
        """Pickles as torch does: the values (copied to the host), device, ``requires_grad`` and
        class (a Parameter stays one). What unpickles is a leaf, without ``.grad`` or graph."""
        return _unpickle, (type(self), np.asarray(self._read()), str(self.device),
                           self._requires_grad)


# Where funcgrad.load puts unpickled tensors: ``(host array, saved device name) -> array``;
# unset (a plain pickle.load), each goes back to the device it was saved from.
_placement: contextvars.ContextVar = contextvars.ContextVar("funcgrad_placement", default=None)


def _unpickle(cls: type, array: np.ndarray, device: str, requires_grad: bool) -> Tensor:
    from ._factories import tensor

    place = _placement.get()
    value = tensor(array, device=device)._storage.array if place is None else place(array, device)
    return cls._wrap(value, requires_grad=requires_grad)


def _flatten(t: Tensor):
    return (t._read(),), None


def _unflatten(_, children) -> Tensor:
    return Tensor._wrap(children[0])


# A Tensor is a pytree with one leaf, so jax.jit / vmap / grad and chex see through it. Its
# autograd metadata does not cross a transform: inside one, a Tensor is a plain value.
jax.tree_util.register_pytree_node(Tensor, _flatten, _unflatten)


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def is_nonzero(input: Tensor) -> bool:
    return input.is_nonzero()


def is_same_size(input: Tensor, other: Tensor) -> bool:
    return input.is_same_size(other)


def is_signed(input: Tensor) -> bool:
    return input.is_signed()


def is_neg(input: Tensor) -> bool:
    return input.is_neg()


def is_inference(input: Tensor) -> bool:
    return input.is_inference()


def get_device(input: Tensor) -> int:
    return input.get_device()


def arrays(tree):
    """The tree with each Tensor replaced by its array."""
    return jax.tree_util.tree_map(lambda x: x._read() if is_tensor(x) else x, tree,
                                  is_leaf=is_tensor)

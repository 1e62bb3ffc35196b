"""``Module`` and the layers and losses built on it, with torch's registration rules, names,
state dicts and printing.

A Module is a JAX pytree: its Parameters, then its buffers, then its submodules are the
children, and every other attribute (sizes, ``training``, ``p``) is static. So
``jax.tree_util.tree_leaves(model)`` gives the parameter arrays and ``jax.jit`` / ``jax.grad``
accept a model as an argument.
"""

from __future__ import annotations

import math
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtypes, _factories, _ops, _tensor
from .._grad_mode import no_grad
from .._graph import RemovableHandle, _type_name, add_hook
from .._tensor import Tensor, _Storage, check_can_require_grad, check_not_inference
from . import functional as F
from ._hooks import BackwardHook, register_non_full

__all__ = [
    "Parameter", "Buffer", "Module", "Linear", "Conv1d", "Conv2d", "ConvTranspose1d",
    "ConvTranspose2d",
    "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Sequential", "ModuleList",
    "ModuleDict", "Identity", "Flatten", "ReLU", "Tanh", "Sigmoid", "GELU", "SiLU", "LeakyReLU",
    "ELU", "Softplus", "Softmax", "LogSoftmax", "Dropout", "Hardtanh", "ReLU6", "SELU", "CELU",
    "Softsign", "Mish", "Hardswish", "Hardsigmoid", "GLU", "Softmin", "Tanhshrink", "Softshrink",
    "Hardshrink", "Threshold", "LogSigmoid", "PReLU", "Embedding", "LayerNorm", "RMSNorm",
    "ParameterList", "ParameterDict", "ConstantPad3d", "ZeroPad3d", "ReflectionPad3d",
    "ReplicationPad3d", "CircularPad3d", "UpsamplingNearest2d", "UpsamplingBilinear2d", "Softmax2d",
    "MSELoss", "L1Loss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "SmoothL1Loss", "HuberLoss", "SoftMarginLoss", "KLDivLoss", "MarginRankingLoss",
    "CosineEmbeddingLoss", "GaussianNLLLoss", "PoissonNLLLoss", "GroupNorm", "ConstantPad1d",
    "ConstantPad2d", "ZeroPad1d", "ZeroPad2d", "ReflectionPad1d", "ReflectionPad2d",
    "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d", "CircularPad2d", "Unflatten",
    "CosineSimilarity", "PairwiseDistance", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d", "Upsample", "ConvTranspose3d", "TripletMarginWithDistanceLoss", "LPPool1d",
    "LPPool2d", "LPPool3d", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
    "FeatureAlphaDropout", "AdaptiveMaxPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d",
    "DataParallel",
]


class Parameter(Tensor):
    """A Tensor that a Module registers as a parameter when assigned as its attribute; it
    requires grad unless told otherwise, and shares ``data``'s storage as torch's does.

    >>> import funcgrad
    >>> funcgrad.nn.Parameter(funcgrad.ones(2))
    Parameter containing:
    tensor([1., 1.], requires_grad=True)
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            storage = _Storage(jnp.zeros((0,), _dtypes.get_default_dtype()))
        elif isinstance(data, Tensor):
            storage = data._storage
        else:
            storage = _Storage(jnp.asarray(data))
        if requires_grad:
            check_can_require_grad(storage.array.dtype)
            check_not_inference(storage, "requires_grad")
        self._init(storage, bool(requires_grad), None)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__


# Unlike a plain Tensor's, a Parameter's requires_grad crosses a transform: a model rebuilt by
# tree_map stays trainable.
jax.tree_util.register_pytree_node(
    Parameter,
    lambda p: ((p._read(),), p._requires_grad),
    lambda requires_grad, children: Parameter._wrap(children[0], requires_grad=requires_grad),
)


class Buffer(Tensor):
    """A Tensor that a Module registers as a buffer when assigned as its attribute, as torch's
    ``nn.Buffer``: ``data`` detached (sharing its storage, keeping ``requires_grad``), with
    ``persistent`` saying whether the module's ``state_dict`` has it.

    >>> import funcgrad
    >>> m = funcgrad.nn.Module()
    >>> m.steps = funcgrad.nn.Buffer(funcgrad.zeros(1))
    >>> m.cache = funcgrad.nn.Buffer(funcgrad.zeros(2), persistent=False)
    >>> [name for name, _ in m.named_buffers()], list(m.state_dict())
    (['steps', 'cache'], ['steps'])
    """

    __slots__ = ("_persistent",)

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True) -> None:
        data = _factories.empty(0) if data is None else data
        self._init(data._storage, data.requires_grad, None)
        self._persistent = bool(persistent)

    # (a copy, which does not come through __init__, is persistent, as a module's own set of
    # non-persistent buffers says for the buffers it holds)
    persistent = property(lambda self: getattr(self, "_persistent", True))


# A Buffer crosses a transform as the Tensor it is.
jax.tree_util.register_pytree_node(Buffer, _tensor._flatten, _tensor._unflatten)


class _IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns; printed as torch prints it."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, "
                f"unexpected_keys={self.unexpected_keys!r})")

    __str__ = __repr__


# The key of a module's extra state (``get_extra_state``) in a state dict, after its prefix.
_EXTRA_STATE = "_extra_state"
# The undo logs of the load_state_dict calls running, innermost last: each write a load makes
# notes how to take it back, should the load fail after it.
_undo_logs: list[list] = []


def _note_undo(step) -> None:
    if _undo_logs:
        _undo_logs[-1].append(step)


def _host_copy(value):
    """A JAX array of a foreign array's values (NumPy's, torch's) made from a private host copy:
    JAX may alias the host memory it is given, or read it after this returns, and torch's
    optimizer, say, writes to its tensors in place. (A JAX array is immutable: taken as is.)"""
    if isinstance(value, jax.Array):
        return value
    if hasattr(value, "detach"):  # a torch tensor, which NumPy reads only detached
        value = value.detach()
    return jnp.asarray(np.asarray(value).copy())


def _load_into(target: Tensor, value) -> None:
    """``load_state_dict``'s in-place write: ``value``'s values into ``target``'s storage, in
    its dtype and on its device (noting how to undo it)."""
    array = value._read() if isinstance(value, Tensor) else _host_copy(value)
    current = target._read()
    storage = target._storage
    before = storage.array, storage.version
    target._write(jax.device_put(array.astype(current.dtype), current.sharding))

    def undo() -> None:
        storage.array, storage.version = before

    _note_undo(undo)


class _WithModule:
    """A load_state_dict pre-hook that takes its module first. It holds the module weakly, as
    torch's ``_WrappedHook`` does (no reference cycle), and a copy of it takes the copy."""

    def __init__(self, hook, module: Module) -> None:
        self.hook, self.module = hook, weakref.ref(module)

    def __call__(self, *args):
        return self.hook(self.module(), *args)

    def __getstate__(self) -> dict:
        return {"hook": self.hook, "module": self.module()}

    def __setstate__(self, state: dict) -> None:
        self.hook, self.module = state["hook"], weakref.ref(state["module"])


def _typename(obj) -> str:
    """torch.typename: a tensor's type name, else the qualified name of the object's class."""
    if isinstance(obj, Tensor):
        return _type_name(obj._read())
    cls = type(obj)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _zero_grad(params, set_to_none: bool) -> None:
    """Drops (``set_to_none``) or zeroes in place the ``.grad`` of each tensor, as torch does."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            if p.grad.grad_fn is not None:
                p.grad.detach_()
            else:
                p.grad.requires_grad_(False)
            p.grad.zero_()


def _add_indent(text: str, spaces: int) -> str:
    first, *rest = text.split("\n")
    return "\n".join([first, *(" " * spaces + line for line in rest)])


_SLOTS = ("_parameters", "_buffers", "_modules")
# a module's hooks, with the keys of the forward ones that take the keyword arguments too
_HOOK_DICTS = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks",
               "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
               "_backward_pre_hooks", "_backward_hooks",
               "_state_dict_pre_hooks", "_state_dict_hooks", "_load_state_dict_pre_hooks",
               "_load_state_dict_post_hooks")


# The hooks every module runs before its own (nn.modules.module's register_module_*_hook),
# in dicts of the names of a module's, with the marks of the forward ones.
_GLOBAL_HOOKS = {name: OrderedDict() for name in _HOOK_DICTS[:7]}
# the dicts whose hooks make a module call go the slow way
_GLOBAL_HOOKS_ON = tuple(_GLOBAL_HOOKS[name] for name in (
    "_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks", "_backward_hooks"))


def _hooks_with_global(module: Module, name: str) -> list:
    """``module``'s hooks of the dict ``name``, after the ones every module runs."""
    return [*_GLOBAL_HOOKS[name].items(), *module.__dict__[name].items()]


def _marked(module: Module, mark: str, key: int) -> bool:
    """Whether the hook registered under ``key`` has the mark ``mark`` (with_kwargs, ...)."""
    return key in module.__dict__[mark] or key in _GLOBAL_HOOKS[mark]


def _add_marked_hook(dicts: dict, hooks: str, hook, prepend: bool, **flags: bool
                     ) -> RemovableHandle:
    """Registers ``hook`` in ``dicts[hooks]``, marked in ``dicts[<hooks>_<flag>]`` for each
    of ``flags`` that is true (``with_kwargs``, ``always_called``)."""
    marks = [dicts[f"{hooks}_{flag}"] for flag in flags]
    handle = add_hook(dicts[hooks], hook, prepend, marks)
    for mark, on in zip(marks, flags.values()):
        if on:
            mark[handle.id] = True
    return handle


def register_module_forward_pre_hook(hook) -> RemovableHandle:
    """Registers ``hook(module, args)`` to run before every module's ``forward``, before the
    module's own pre-hooks; what it returns, if not None, replaces ``args``."""
    return add_hook(_GLOBAL_HOOKS["_forward_pre_hooks"], hook)


def register_module_forward_hook(hook, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """Registers ``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with
    ``with_kwargs``) to run after every module's ``forward``, before the module's own hooks;
    what it returns, if not None, replaces the output. With ``always_call``, it runs even when
    the call raises."""
    return _add_marked_hook(_GLOBAL_HOOKS, "_forward_hooks", hook, False,
                            with_kwargs=with_kwargs, always_called=always_call)


def register_module_full_backward_pre_hook(hook) -> RemovableHandle:
    """``Module.register_full_backward_pre_hook`` for every module, run before its own."""
    return add_hook(_GLOBAL_HOOKS["_backward_pre_hooks"], hook)


def register_module_full_backward_hook(hook) -> RemovableHandle:
    """``Module.register_full_backward_hook`` for every module, run before its own."""
    return add_hook(_GLOBAL_HOOKS["_backward_hooks"], hook)


# The hooks every module runs when a buffer, parameter or submodule is registered
# (nn.modules.module's register_module_*_registration_hook), by kind.
_REGISTRATION_HOOKS = {kind: OrderedDict() for kind in ("buffer", "parameter", "module")}


def _registered(kind: str, module: Module, name: str, value):
    """``value`` as the registration hooks of ``kind`` leave it: each may return another."""
    for hook in _REGISTRATION_HOOKS[kind].values():
        output = hook(module, name, value)
        if output is not None:
            value = output
    return value


def register_module_buffer_registration_hook(hook) -> RemovableHandle:
    """Registers ``hook(module, name, buffer)`` to run whenever any module registers a buffer
    (``register_buffer``, or assigning to one); what it returns, if not None, is registered
    instead.

    >>> import funcgrad
    >>> handle = funcgrad.nn.modules.module.register_module_buffer_registration_hook(
    ...     lambda module, name, buffer: buffer * 2)
    >>> m = funcgrad.nn.Module()
    >>> m.register_buffer("count", funcgrad.ones(1))
    >>> m.count
    tensor([2.])
    >>> handle.remove()
    """
    return add_hook(_REGISTRATION_HOOKS["buffer"], hook)


def register_module_parameter_registration_hook(hook) -> RemovableHandle:
    """Registers ``hook(module, name, param)`` to run whenever any module registers a
    parameter that is not None; what it returns, if not None, is registered instead."""
    return add_hook(_REGISTRATION_HOOKS["parameter"], hook)


def register_module_module_registration_hook(hook) -> RemovableHandle:
    """Registers ``hook(module, name, submodule)`` to run whenever any module registers a
    submodule (``add_module``, or assigning one); what it returns, if not None, is registered
    instead."""
    return add_hook(_REGISTRATION_HOOKS["module"], hook)


def _same(a, b) -> bool:
    """Static values compare by value; arrays and Tensors (which a trace bakes in as
    constants) by identity, as their ``==`` is elementwise."""
    if a is b:
        return True
    if isinstance(a, (Tensor, jax.Array, np.ndarray)) or isinstance(b, (Tensor, jax.Array,
                                                                        np.ndarray)):
        return False
    return bool(a == b)


class _Static:
    """A module's non-pytree attributes, as pytree aux data: compared by value, hashed by name
    (values such as sets need not be hashable)."""

    def __init__(self, attrs: dict) -> None:
        self.attrs = attrs

    def __eq__(self, other) -> bool:
        return (isinstance(other, _Static) and self.attrs.keys() == other.attrs.keys()
                and all(_same(v, other.attrs[k]) for k, v in self.attrs.items()))

    def __hash__(self) -> int:
        return hash(tuple(self.attrs))


def _flatten_with_keys(module: Module):
    children = [(jax.tree_util.GetAttrKey(k), v)
                for slot in _SLOTS for k, v in module.__dict__[slot].items()]
    names = tuple(tuple(module.__dict__[slot]) for slot in _SLOTS)
    static = {k: v for k, v in module.__dict__.items() if k not in _SLOTS}
    return children, (names, _Static(static))


def _flatten(module: Module):
    children, aux = _flatten_with_keys(module)
    return [c for _, c in children], aux


def _unflatten(cls, aux, children) -> Module:
    names, static = aux
    module = object.__new__(cls)
    module.__dict__.update(static.attrs)
    module.__dict__["_non_persistent_buffers_set"] = set(module._non_persistent_buffers_set)
    children = iter(children)
    for slot, keys in zip(_SLOTS, names):
        module.__dict__[slot] = {k: next(children) for k in keys}
    return module


class Module:
    """Base class of layers: assigning a Parameter, a Module or a registered buffer as an
    attribute registers it, so ``parameters()``, ``state_dict()``, ``train()`` and ``to()`` reach
    it. Subclasses call ``super().__init__()`` first and define ``forward``; calling the module
    calls ``forward``. Every subclass is registered as a JAX pytree.

    >>> import funcgrad
    >>> class Affine(funcgrad.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = funcgrad.nn.Parameter(funcgrad.tensor(2.0))
    ...     def forward(self, x):
    ...         return self.scale * x
    >>> m = Affine()
    >>> [name for name, _ in m.named_parameters()]
    ['scale']
    >>> m(funcgrad.tensor(3.0))
    tensor(6., grad_fn=<MulBackward0>)
    """

    training: bool
    # The version of a class's state-dict layout, saved in a state dict's ``_metadata``: a
    # class that changes its layout raises it and loads the older ones (``_BatchNorm``).
    _version: int = 1
    # torch's class switches, at torch's defaults for code that reads them; funcgrad's Module
    # neither passes __init__ arguments on to object.__init__ nor prints patch notes on loading,
    # whatever they are set to.
    call_super_init: bool = False
    dump_patches: bool = False
    # Whether this module's backward hooks are full ones (register_full_backward_hook) or not
    # (register_backward_hook): set by the first, it stays, as torch's, once they are removed.
    _is_full_backward_hook: bool | None = None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        jax.tree_util.register_pytree_with_keys(
            cls, _flatten_with_keys, lambda aux, children: _unflatten(cls, aux, children),
            _flatten,
        )

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", {})
        for name in _HOOK_DICTS:
            object.__setattr__(self, name, OrderedDict())

    def __getstate__(self) -> dict:
        """The module's attributes, without what ``compile()`` made: a copy (``deepcopy``,
        pickling) is the module uncompiled, as torch's."""
        state = dict(self.__dict__)
        state.pop("_compiled_call_impl", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        for name in _HOOK_DICTS:  # a module pickled before it had these kinds of hooks
            self.__dict__.setdefault(name, OrderedDict())

    def forward(self, *args, **kwargs):
        """The computation; subclasses define it, and calling the module calls it."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # Module.compile's compiled _call_impl, which calls go through from then on.
    _compiled_call_impl = None
    # funcgrad.compile's view of modules: while it traces a step, the modules called are
    # noted here; every change of a training flag counts in _modes, so that a compiled step
    # looks at the flags of its modules again only when one may have changed.
    _calls: list | None = None
    _modes = 0

    def __call__(self, *args, **kwargs):
        if Module._calls is not None:
            Module._calls.append(self)
        if self._compiled_call_impl is not None:
            return self._compiled_call_impl(*args, **kwargs)
        return self._call_impl(*args, **kwargs)

    def _call_impl(self, *args, **kwargs):
        if (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or self._backward_pre_hooks or any(_GLOBAL_HOOKS_ON)):
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def compile(self, *args, **kwargs) -> None:
        """Compiles this module's calls in place (``funcgrad.compile`` of its call, hooks
        included, with these arguments); unlike ``funcgrad.compile(module)`` it stays this
        module, with its parameter names and state-dict keys."""
        from .._compile import compile

        object.__setattr__(self, "_compiled_call_impl", compile(self._call_impl, *args, **kwargs))

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        """``forward`` between its pre-hooks and hooks, as torch calls them, with the backward
        hooks set up around it (``_hooks.BackwardHook``). Should any of it raise, the forward
        hooks registered with ``always_call`` that have not run yet run before the error goes
        on (an error of theirs then only warns)."""
        output, called = None, set()
        try:
            for key, hook in _hooks_with_global(self, "_forward_pre_hooks"):
                if _marked(self, "_forward_pre_hooks_with_kwargs", key):
                    result = hook(self, args, kwargs)
                    if result is not None:
                        if not (isinstance(result, tuple) and len(result) == 2):
                            raise RuntimeError("forward pre-hook must return None or a tuple "
                                               f"of (new_args, new_kwargs), but got {result}.")
                        args, kwargs = result
                else:
                    result = hook(self, args)
                    if result is not None:
                        args = result if isinstance(result, tuple) else (result,)
            backward_hook = None
            hooks, non_full = list(_GLOBAL_HOOKS["_backward_hooks"].values()), []
            (hooks if self._is_full_backward_hook else non_full).extend(
                self._backward_hooks.values())
            pre_hooks = [hook for _, hook in _hooks_with_global(self, "_backward_pre_hooks")]
            if hooks or pre_hooks:
                backward_hook = BackwardHook(self, hooks, pre_hooks)
                args = backward_hook.setup_input_hook(args)
            output = self.forward(*args, **kwargs)
            for key, hook in _hooks_with_global(self, "_forward_hooks"):
                if _marked(self, "_forward_hooks_always_called", key):
                    called.add(key)
                result = self._forward_hook(key, hook, args, kwargs, output)
                if result is not None:
                    output = result
            if backward_hook is not None:
                if not isinstance(output, (Tensor, tuple)):
                    warnings.warn("For backward hooks to be called, module output should be a "
                                  f"Tensor or a tuple of Tensors but received {type(output)}",
                                  stacklevel=3)
                output = backward_hook.setup_output_hook(output)
            if non_full:
                register_non_full(self, non_full, args, output)
            return output
        except Exception:
            for key, hook in _hooks_with_global(self, "_forward_hooks"):
                if _marked(self, "_forward_hooks_always_called", key) and key not in called:
                    try:
                        result = self._forward_hook(key, hook, args, kwargs, output)
                        output = output if result is None else result
                    except Exception as e:
                        warnings.warn("module forward hook with ``always_call=True`` raised an "
                                      "exception that was silenced as another error was raised "
                                      f"in forward: {e}", stacklevel=3)
            raise

    def _forward_hook(self, key: int, hook, args: tuple, kwargs: dict, output):
        """Calls the forward hook ``hook`` registered under ``key``, as it takes its
        arguments."""
        if _marked(self, "_forward_hooks_with_kwargs", key):
            return hook(self, args, kwargs, output)
        return hook(self, args, output)

    def _add_hook(self, hooks: str, hook, prepend: bool, **flags: bool) -> RemovableHandle:
        """Registers ``hook`` in this module's dict ``hooks`` (see ``_add_marked_hook``)."""
        return _add_marked_hook(self.__dict__, hooks, hook, prepend, **flags)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Calls ``hook(module, grad_output)`` when the gradients of this module's outputs
        are known, before they go further back; what it returns, if not None, replaces
        ``grad_output`` (a tuple with None for an output that is not a tensor or got no
        gradient). Returns a handle whose ``remove()`` unregisters it. As in torch, the
        module's forward then gets, and its caller receives, new tensors holding the same
        values, which must not be changed in place.

        >>> import funcgrad
        >>> layer = funcgrad.nn.Linear(2, 1)
        >>> _ = layer.register_full_backward_pre_hook(lambda module, grad_out: (grad_out[0] * 0,))
        >>> layer(funcgrad.ones(1, 2, requires_grad=True)).sum().backward(); layer.bias.grad
        tensor([0.])
        """
        return self._add_hook("_backward_pre_hooks", hook, prepend)

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Calls ``hook(module, grad_input, grad_output)`` when the gradients of this module's
        positional inputs are known (of its outputs, where no input requires grad); what it
        returns, if not None, replaces ``grad_input``. Entries are None for arguments that
        are not tensors. Returns a handle whose ``remove()`` unregisters it. The module's
        tensors in and out are new tensors, as with ``register_full_backward_pre_hook``.

        >>> import funcgrad
        >>> seen = []
        >>> layer = funcgrad.nn.Linear(2, 1)
        >>> _ = layer.register_full_backward_hook(
        ...     lambda module, grad_in, grad_out: seen.append(grad_in[0].shape))
        >>> x = funcgrad.ones(3, 2, requires_grad=True)
        >>> layer(x).sum().backward(); seen
        [funcgrad.Size([3, 2])]
        """
        self._set_full_backward_hook(True)
        return self._add_hook("_backward_hooks", hook, prepend)

    def register_backward_hook(self, hook) -> RemovableHandle:
        """torch's deprecated non-full backward hook: calls ``hook(module, grad_input,
        grad_output)`` after the node that made this module's output (its first tensor), with
        the gradients of that node's inputs, not the module's: for ``nn.Linear``, torch's
        ``addmm(bias, input, weight.t())`` (for an input that is not a matrix, the flattened
        addmm output), for a convolution (input, weight, bias), None where no gradient flows.
        What it returns, if not None, replaces ``grad_input``. Registered at each call; torch's
        ``FutureWarning`` says when it misses gradients. Unlike torch's, a module whose output
        comes from a multi-output op (``split``) sees one output's gradient, each output having
        a node of its own in funcgrad, and an ``nn.Linear`` without bias given other than a
        matrix sees the matmul's (input, weight.t()), not torch's flattened product. Returns a
        handle whose ``remove()`` unregisters it.

        Raises:
            RuntimeError: where the module has full backward hooks, as torch's.

        >>> import funcgrad
        >>> act = funcgrad.nn.ReLU()
        >>> _ = act.register_backward_hook(lambda module, grad_in, grad_out: (grad_in[0] * 2,))
        >>> x = funcgrad.tensor([1.0, -1.0], requires_grad=True)
        >>> act(x * 1).sum().backward(); x.grad
        tensor([2., 0.])
        """
        self._set_full_backward_hook(False)
        return self._add_hook("_backward_hooks", hook, False)

    def _set_full_backward_hook(self, full: bool) -> None:
        if self._is_full_backward_hook is not None and self._is_full_backward_hook != full:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks "
                               "on a single Module. Please use only one of them.")
        self.__dict__["_is_full_backward_hook"] = full

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Calls ``hook(module, args)`` before each ``forward`` (``hook(module, args, kwargs)``
        with ``with_kwargs``); what it returns, if not None, replaces the arguments (a
        non-tuple is the one argument; with ``with_kwargs``, an ``(args, kwargs)`` pair).
        ``prepend`` puts it before the hooks there already. Returns a handle whose
        ``remove()`` unregisters it.

        >>> import funcgrad
        >>> layer = funcgrad.nn.Identity()
        >>> handle = layer.register_forward_pre_hook(lambda module, args: args[0] * 2)
        >>> layer(funcgrad.tensor(3.0))
        tensor(6.)
        >>> handle.remove(); layer(funcgrad.tensor(3.0))
        tensor(3.)
        """
        return self._add_hook("_forward_pre_hooks", hook, prepend, with_kwargs=with_kwargs)

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Calls ``hook(module, args, output)`` after each ``forward`` (``hook(module, args,
        kwargs, output)`` with ``with_kwargs``); what it returns, if not None, replaces the
        output. With ``always_call``, it runs even when the call raises (``output`` then None
        if there is none yet). Returns a handle whose ``remove()`` unregisters it.

        >>> import funcgrad
        >>> seen = []
        >>> layer = funcgrad.nn.Linear(2, 3)
        >>> _ = layer.register_forward_hook(lambda module, args, out: seen.append(out.shape))
        >>> _ = layer(funcgrad.ones(4, 2)); seen
        [funcgrad.Size([4, 3])]
        """
        return self._add_hook("_forward_hooks", hook, prepend, with_kwargs=with_kwargs,
                              always_called=always_call)

    def get_submodule(self, target: str) -> Module:
        """The module at the dotted path ``target`` (``''``: this one).

        Raises:
            AttributeError: torch's, for a name that is missing or not a module.
        """
        module = self
        for name in target.split(".") if target else ():
            if not hasattr(module, name):
                raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
            module = getattr(module, name)
            if not isinstance(module, Module):
                raise AttributeError(f"`{name}` is not an nn.Module")
        return module

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Puts ``module`` at the dotted path ``target``, replacing the module there or (unless
        ``strict``) adding it to the parent.

        Raises:
            ValueError, AttributeError: torch's, for an empty target, a ``module`` that is not
                one, a missing parent, a missing name with ``strict``, or a name that holds
                something other than a module.
        """
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        path, _, name = target.rpartition(".")
        parent = self.get_submodule(path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def _owner(self, target: str) -> tuple[Module, str]:
        """The module holding the attribute at the dotted path ``target``, and its name;
        torch's AttributeError where there is no such attribute."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
        return module, name

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target``.

        Raises:
            AttributeError: torch's, for a name that is missing or not a parameter.
        """
        module, name = self._owner(target)
        param = getattr(module, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target``.

        Raises:
            AttributeError: torch's, for a name that is missing or not a buffer.
        """
        module, name = self._owner(target)
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return getattr(module, name)

    # ----- registration -----------------------------------------------------------------------
    def _check_name(self, kind: str, name) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
        if "." in name:
            got = f", got: {name}" if kind == "module" else ""
            raise KeyError(f'{kind} name can\'t contain "."{got}')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')

    def _forget(self, name: str, *slots: str) -> None:
        for slot in slots:
            self.__dict__[slot].pop(name, None)
        self.__dict__.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Registers ``param`` (a Parameter, or None for an absent one) under ``name``."""
        self._check_name("parameter", name)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                "(torch.nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                f"created explicitly. To express '{name}' as a function of another Tensor, "
                "compute the value in the forward() method."
            )
        self._parameters[name] = param if param is None else _registered(
            "parameter", self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Registers a tensor that is state but not a parameter (saved in ``state_dict`` unless
        ``persistent=False``, moved by ``to``, a pytree leaf).

        >>> import funcgrad
        >>> m = funcgrad.nn.Module()
        >>> m.register_buffer("count", funcgrad.zeros(1))
        >>> list(m.state_dict())
        ['count']
        """
        self._check_name("buffer", name)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                "(torch Tensor or None required)"
            )
        self._buffers[name] = _registered("buffer", self, name, tensor)
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Registers a child module under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        self._check_name("module", name)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = _registered("module", self, name, module)

    register_module = add_module

    def __setattr__(self, name: str, value) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, "_buffers", "_modules")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, "_parameters", "_buffers")
            self._modules[name] = _registered("module", self, name, value)
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(torch.nn.Module or None expected)")
            self._modules[name] = _registered("module", self, name, None)
        elif isinstance(value, Buffer) or params is not None and name in self._buffers:
            if params is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(torch.nn.Buffer, torch.Tensor or None expected)")
            if isinstance(value, Buffer):
                self._forget(name, "_parameters", "_modules")
                self.register_buffer(name, value, value.persistent)
            else:
                self._buffers[name] = _registered("buffer", self, name, value)
        else:
            if name == "training":
                Module._modes += 1
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        for slot in _SLOTS:
            members = self.__dict__.get(slot)
            if members is not None and name in members:
                return members[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for slot in _SLOTS:
            if name in self.__dict__.get(slot, ()):
                del self.__dict__[slot][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    # ----- traversal --------------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every module below it, with dotted names, each once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, prefix + ("." if prefix else "") + name,
                                                remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every module below it, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for each direct child, each once."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct children, each once."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, slot: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        seen: set[int] = set()
        for module_prefix, module in modules:
            for name, value in module.__dict__[slot].items():
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, Parameter)`` pairs, this module's first, then its children's."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The Parameters of this module (and, with ``recurse``, of all below it), each once."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, buffer)`` pairs, this module's first, then its children's."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """The buffers of this module (and, with ``recurse``, of all below it), each once."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn) -> Module:
        """Calls ``fn`` on every child (recursively), then on this module; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ----- state ------------------------------------------------------------------------------
    def get_extra_state(self) -> Any:
        """What this module keeps in its state dict besides tensors (under the key
        ``_extra_state``), where a subclass defines it, with ``set_extra_state``."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called: a "
            "module's state dict has extra state only where its class defines get_extra_state."
        )

    def set_extra_state(self, state: Any) -> None:
        """Takes back what ``get_extra_state`` gave, where a subclass defines both."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called: a "
            "module loads extra state only where its class defines set_extra_state."
        )

    def register_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """Calls ``hook(module, prefix, keep_vars)`` before this module's ``state_dict`` saves
        anything. Returns a handle whose ``remove()`` unregisters it."""
        return self._add_hook("_state_dict_pre_hooks", hook, False)

    def register_state_dict_post_hook(self, hook) -> RemovableHandle:
        """Calls ``hook(module, state_dict, prefix, local_metadata)`` once this module and
        those below it have saved their state, to change ``state_dict`` in place (it must
        return None). Returns a handle whose ``remove()`` unregisters it."""
        hook._from_public_api = True
        return self._add_hook("_state_dict_hooks", hook, False)

    def _register_state_dict_hook(self, hook) -> RemovableHandle:
        """torch's older post-hook: as ``register_state_dict_post_hook``'s, but what it returns,
        if not None, replaces the state dict of the module ``state_dict`` was called on."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError("Cannot register the same function as the state dict post hook "
                               "that was previously registered via "
                               "register_state_dict_post_hook")
        return self._add_hook("_state_dict_hooks", hook, False)

    def register_load_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """Calls ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before this module loads its part of a state dict; it may
        change that (a copy of the caller's) and the three lists in place. Returns a handle
        whose ``remove()`` unregisters it."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(self, hook, with_module: bool = False
                                           ) -> RemovableHandle:
        """``register_load_state_dict_pre_hook``, the module left out of the hook's arguments
        unless ``with_module``."""
        return self._add_hook("_load_state_dict_pre_hooks",
                              _WithModule(hook, self) if with_module else hook, False)

    def register_load_state_dict_post_hook(self, hook) -> RemovableHandle:
        """Calls ``hook(module, incompatible_keys)`` once this module and those below it have
        loaded a state dict; it may change ``incompatible_keys.missing_keys`` and
        ``.unexpected_keys`` in place (what ``strict`` then checks) and must return None.
        Returns a handle whose ``remove()`` unregisters it."""
        return self._add_hook("_load_state_dict_post_hooks", hook, False)

    def state_dict(self, *args, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Any]:
        """Parameters and persistent buffers by dotted name, detached (sharing storage, as in
        torch) unless ``keep_vars``, and the extra state of modules that define
        ``get_extra_state``. Each module adds its own part (``_save_to_state_dict``) between its
        state-dict hooks; the dict's ``_metadata`` has each module's ``version``.

        >>> import funcgrad
        >>> list(funcgrad.nn.Linear(2, 1).state_dict())
        ['weight', 'bias']
        """
        if args:
            warnings.warn(
                "Positional args are being deprecated, use kwargs instead. Refer to "
                "https://pytorch.org/docs/main/generated/torch.nn.Module.html"
                "#torch.nn.Module.state_dict for details.", FutureWarning, stacklevel=2)
            destination = args[0] if destination is None else destination
            prefix = args[1] if len(args) > 1 and prefix == "" else prefix
            keep_vars = args[2] if len(args) > 2 and keep_vars is False else keep_vars
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": self._version}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in list(self._state_dict_pre_hooks.values()):
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        for hook in list(self._state_dict_hooks.values()):
            result = hook(self, destination, prefix, local_metadata)
            if not getattr(hook, "_from_public_api", False):
                destination = destination if result is None else result
            elif result is not None:
                raise RuntimeError("state_dict post-hook must return None")
        return destination

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        """Adds this module's own state (not its children's) to ``destination``; a subclass
        may override it, as in torch."""
        for name, tensor in self._local_state().items():
            destination[prefix + name] = tensor if keep_vars or is_lazy(tensor) else tensor.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE] = self.get_extra_state()

    def _local_state(self) -> dict[str, Tensor]:
        """This module's own parameters and persistent buffers."""
        state = {k: v for k, v in self._parameters.items() if v is not None}
        state.update((k, v) for k, v in self._buffers.items()
                     if v is not None and k not in self._non_persistent_buffers_set)
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False):
        """Copies values (Tensors or other arrays: NumPy's, JAX's, torch's) into the
        parameters and buffers in place, or, with ``assign``, makes the state dict's tensors
        the module's (a Parameter keeping its ``requires_grad``). Each module loads its part
        (``_load_from_state_dict``) between its load hooks, in torch's order.

        An error changes no parameter or buffer: what was written before it is put back (the
        extra state that ``set_extra_state`` took, and what hooks did, stay).

        Returns:
            ``(missing_keys, unexpected_keys)`` as a named tuple.

        Raises:
            RuntimeError: torch's message, for a shape mismatch, a value that is not an array,
                or (with ``strict``) a missing or unexpected key.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing: list[str] = []
        unexpected: list[str] = []
        errors: list[str] = []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)  # the hooks and loaders may change it
        if metadata is not None:
            state_dict._metadata = metadata

        def load(module: Module, local: dict, prefix: str = "") -> None:
            local_metadata = dict(metadata.get(prefix[:-1], {}) if metadata is not None else {})
            if assign:
                local_metadata["assign_to_params_buffers"] = True
            module._load_from_state_dict(local, prefix, local_metadata, True, missing,
                                         unexpected, errors)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    load(child, {k: v for k, v in local.items() if k.startswith(child_prefix)},
                         child_prefix)
            keys = _IncompatibleKeys(missing, unexpected)
            for hook in list(module._load_state_dict_post_hooks.values()):
                if hook(module, keys) is not None:
                    raise AssertionError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not "
                        "expected to return new values, if incompatible_keys need to be "
                        "modified, it should be done inplace.")

        undo: list = []
        _undo_logs.append(undo)
        try:
            load(self, state_dict)
            if strict and unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if strict and missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
            if errors:
                raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                    type(self).__name__, "\n\t".join(errors)))
        except BaseException:
            for step in reversed(undo):
                step()
            raise
        finally:
            _undo_logs.remove(undo)
        return _IncompatibleKeys(missing, unexpected)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict,
                              strict: bool, missing_keys: list, unexpected_keys: list,
                              error_msgs: list) -> None:
        """Loads this module's own part of ``state_dict`` (not its children's), after its load
        pre-hooks, noting missing and unexpected keys and errors in the lists; a subclass may
        override it, as in torch."""
        for hook in list(self._load_state_dict_pre_hooks.values()):
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                 error_msgs)
        local_state = self._local_state()
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, target in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if not (isinstance(value, Tensor) or hasattr(value, "shape")
                    and hasattr(value, "dtype")):
                error_msgs.append(f'While copying the parameter named "{key}", expected '
                                  "torch.Tensor or Tensor-like object from checkpoint but "
                                  f"received {type(value)}")
                continue
            if target.ndim == 0 and tuple(value.shape) == (1,):
                value = value[0]
            if tuple(value.shape) != tuple(target.shape):
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape "
                    f"{type(target.shape)(value.shape)!r} from checkpoint, the shape in current "
                    f"model is {target.shape!r}.")
                continue
            try:
                if assign:
                    self._assign_loaded(name, target, value)
                else:
                    _load_into(target, value)
            except Exception as e:
                error_msgs.append(
                    f'While copying the parameter named "{key}", whose dimensions in the model '
                    f"are {target.shape} and whose dimensions in the checkpoint are "
                    f"{type(target.shape)(value.shape)}, an exception occurred : {e.args}.")
        extra = prefix + _EXTRA_STATE
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra in state_dict:
                self.set_extra_state(state_dict[extra])
            elif strict:
                missing_keys.append(extra)
        elif strict and extra in state_dict:
            unexpected_keys.append(extra)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra:
                    head, *rest = key[len(prefix):].split(".", 1)
                    if head not in (self._modules if rest else local_state):
                        unexpected_keys.append(key)

    def _assign_loaded(self, name: str, target: Tensor, value) -> None:
        """``load_state_dict(assign=True)``'s write: ``value`` (a Tensor as it is, another array
        copied into one) becomes the attribute, a Parameter where ``target`` is one."""
        if not isinstance(value, Tensor):
            value = Tensor._wrap(_host_copy(value))
        if isinstance(target, Parameter):
            if isinstance(value, Parameter):
                was = value.requires_grad
                value.requires_grad_(target.requires_grad)
                _note_undo(lambda: value.requires_grad_(was))
            else:
                value = Parameter(value, requires_grad=target.requires_grad)
        setattr(self, name, value)
        _note_undo(lambda: setattr(self, name, target))

    def train(self, mode: bool = True) -> Module:
        """Sets training mode (what Dropout looks at) on this module and all below it."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        Module._modes += 1
        return self

    def eval(self) -> Module:
        """``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Sets ``requires_grad`` of every parameter, in place; returns self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drops (or, with ``set_to_none=False``, zeroes) every parameter's ``.grad``."""
        _zero_grad(self.parameters(), set_to_none)

    def to(self, *args, **kwargs) -> Module:
        """Moves and/or casts the parameters, their gradients and the buffers in place (each
        box keeps its identity): ``to(device)``, ``to(dtype)``, ``to(device, dtype)``,
        ``to(tensor)``. A dtype applies to floating-point tensors only.

        >>> import funcgrad
        >>> funcgrad.nn.Linear(2, 1).to(funcgrad.float16).weight.dtype == funcgrad.float16
        True
        """
        tensors = [*self.parameters(), *self.buffers()]
        tensors += [p.grad for p in self.parameters() if p.grad is not None]
        # A memory format applies to the 4-D and 5-D tensors alone, as in torch.
        formatted = kwargs.pop("memory_format", None)
        with no_grad():
            for t in tensors:
                converted = t.to(*args, **kwargs, **(
                    {"memory_format": formatted} if formatted is not None and t.ndim in (4, 5)
                    else {}))
                if not t.is_floating_point():
                    converted = t.to(converted.device)
                elif not converted.is_floating_point():
                    raise TypeError("nn.Module.to only accepts floating point or complex dtypes, "
                                    f"but got desired dtype={converted.dtype}")
                if converted is not t:
                    t._write(converted._read())
        return self

    def _apply(self, fn, recurse: bool = True) -> Module:
        """Applies ``fn`` (a Tensor to a Tensor) to the state, as torch's ``_apply``: each
        parameter and its ``.grad`` keep their identity and take ``fn``'s result in place;
        each buffer becomes ``fn``'s result. With ``recurse``, the modules below first.

        Every result is computed before anything changes, so an error (torch's, for a
        parameter that requires grad cast to an integer dtype) changes nothing."""
        writes = []

        def plan(module: Module) -> None:
            for child in module.children() if recurse else ():
                plan(child)
            for param in module._parameters.values():
                # (an uninitialized parameter has nothing to convert: torch's keeps it as is)
                for t in () if param is None or is_lazy(param) else (param, param.grad):
                    applied = None if t is None else fn(t)
                    if applied is None or applied is t:
                        continue
                    if t.requires_grad and not _dtypes.is_inexact(applied.dtype):
                        raise RuntimeError("data set to a tensor that requires gradients must "
                                           "be floating point or complex dtype")
                    writes.append(lambda t=t, applied=applied: t._write(applied._peek()))
            for name, buffer in module._buffers.items():
                if buffer is not None and not is_lazy(buffer):
                    writes.append(lambda buffers=module._buffers, name=name,
                                  applied=fn(buffer): buffers.__setitem__(name, applied))

        with no_grad():
            plan(self)
        for write in writes:
            write()
        return self

    def float(self) -> Module:
        """Casts the floating-point parameters and buffers to float32, in place."""
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self) -> Module:
        """Casts the floating-point parameters and buffers to float64, in place."""
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self) -> Module:
        """Casts the floating-point parameters and buffers to float16, in place."""
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def bfloat16(self) -> Module:
        """Casts the floating-point parameters and buffers to bfloat16, in place."""
        return self._apply(lambda t: t.bfloat16() if t.is_floating_point() else t)

    def type(self, dst_type) -> Module:
        """Casts every parameter and buffer (integer ones too) to ``dst_type``, in place."""
        return self._apply(lambda t: t.type(dst_type))

    def cpu(self) -> Module:
        """Moves every parameter and buffer to the CPU, in place."""
        return self._apply(lambda t: t.cpu())

    def cuda(self, device=None) -> Module:
        """Moves every parameter and buffer to the (first, or given) GPU, in place."""
        return self._apply(lambda t: t.cuda(device))

    def share_memory(self) -> Module:
        """Calls ``share_memory_`` on every parameter and buffer (which leaves a JAX array as
        it is: see ``Tensor.share_memory_``); returns the module."""
        return self._apply(lambda t: t.share_memory_())

    def to_empty(self, *, device, recurse: bool = True) -> Module:
        """Gives every parameter, its ``.grad`` and every buffer an uninitialized tensor of its
        shape and dtype on ``device`` (``empty_like``'s values: zeros, or torch's NaN fill
        under deterministic algorithms), in place, as torch's: for a module to fill anew."""
        return self._apply(lambda t: _factories.empty_like(t, device=device), recurse)

    # ----- printing ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside this module's parentheses, before its children."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_add_indent(repr(module), 2)}"
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


jax.tree_util.register_pytree_with_keys(
    Module, _flatten_with_keys, lambda aux, children: _unflatten(Module, aux, children), _flatten
)


def _uniform(shape: tuple[int, ...], bound: float, dtype, device) -> Parameter:
    """Uniform in [-bound, bound), from funcgrad's seeded generator."""
    return Parameter(_factories.rand(*shape, dtype=dtype, device=device) * (2 * bound) - bound)


def _kaiming_uniform(module: Module, shape: tuple[int, ...], bound: float, dtype,
                     device) -> Parameter:
    """``module``'s weight as torch's ``kaiming_uniform_`` initializes it (``bound`` from its
    fan), with its warning when the weight has no elements, but for a lazy module's
    placeholder (torch's lazy modules initialize no placeholder)."""
    if 0 in shape and getattr(module, "cls_to_become", None) is None:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=4)
    return _uniform(shape, bound, dtype, device)


_STORAGE = Tensor.__dict__["_storage"]  # the slot, which the uninitialized kinds hide


class UninitializedTensorMixin:
    """What ``UninitializedParameter`` and ``UninitializedBuffer`` share: a tensor with no
    shape or values yet, any use of which is refused, until ``materialize`` gives it a shape
    and makes it a ``cls_to_become``."""

    __slots__ = ()
    cls_to_become: type

    def _start(self, requires_grad: bool, device, dtype) -> None:
        dtype = _dtypes.get_default_dtype() if dtype is None else _dtypes.resolve(dtype)
        self._init(_Storage(jax.ShapeDtypeStruct((0,), dtype)), requires_grad, None)

    def _refuse(self):
        raise ValueError(
            f"Attempted to use an uninitialized parameter ({type(self).__name__}). This error "
            "happens when you are using a `LazyModule` or explicitly manipulating "
            "`funcgrad.nn.UninitializedParameter` objects. When using LazyModules call "
            "`forward` with a dummy batch to initialize the parameters before calling "
            "funcgrad functions")

    # Reading the storage (what every op, print and conversion does) is refused; writing it
    # is how it starts and how it is materialized.
    _storage = property(_refuse, _STORAGE.__set__)

    @property
    def dtype(self):
        """The dtype it will have (what it was made with)."""
        return _STORAGE.__get__(self).array.dtype

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Gives this tensor the shape ``shape`` (zeros, where torch leaves memory as it was)
        and makes it a ``cls_to_become``."""
        dtype = self.dtype if dtype is None else _dtypes.resolve(dtype)
        self._storage = _Storage(_factories.zeros(*shape, dtype=dtype, device=device)._read())
        self.__class__ = self.cls_to_become

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    __str__ = __repr__


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape a lazy module (``LazyLinear``) finds at its first call.

    >>> import funcgrad
    >>> funcgrad.nn.LazyLinear(3).weight
    <UninitializedParameter>
    """

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        self._start(requires_grad, device, dtype)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape a lazy module (``LazyBatchNorm1d``) finds at its first call."""

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device=None, dtype=None) -> None:
        self._start(requires_grad, device, dtype)


def is_lazy(tensor) -> bool:
    """Whether ``tensor`` is an ``UninitializedParameter`` or ``UninitializedBuffer``."""
    return isinstance(tensor, UninitializedTensorMixin)


class Linear(Module):
    """``y = x @ weight.T + bias``, initialized as torch does: weight and bias uniform in
    ``±1/sqrt(in_features)`` (kaiming-uniform with ``a=sqrt(5)``), drawn from the generator
    ``funcgrad.manual_seed`` seeds.

    >>> import funcgrad
    >>> layer = funcgrad.nn.Linear(3, 2)
    >>> layer
    Linear(in_features=3, out_features=2, bias=True)
    >>> layer(funcgrad.ones(4, 3)).shape
    funcgrad.Size([4, 2])
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight, bias = self._initial(bias, dtype, device)
        self.register_parameter("bias", bias)

    def _initial(self, bias: bool, dtype, device) -> tuple[Parameter, Parameter | None]:
        """A fresh weight and bias (or None) for the current sizes."""
        bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
        return (_kaiming_uniform(self, (self.out_features, self.in_features), bound, dtype,
                                 device),
                _uniform((self.out_features,), bound, dtype, device) if bias else None)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """``y[..., o] = x1 @ weight[o] @ x2 + bias[o]``, initialized as torch does: weight and
    bias uniform in ``±1/sqrt(in1_features)``.

    >>> import funcgrad
    >>> funcgrad.nn.Bilinear(3, 4, 5)(funcgrad.ones(2, 3), funcgrad.ones(2, 4)).shape
    funcgrad.Size([2, 5])
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        bound = 1 / math.sqrt(in1_features) if in1_features > 0 else 0.0
        self.weight = _uniform((out_features, in1_features, in2_features), bound, dtype, device)
        if bias:
            self.bias = _uniform((out_features,), bound, dtype, device)
        else:
            self.register_parameter("bias", None)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class _ConvNd(Module):
    """A convolution layer over ``_dims`` spatial dimensions, initialized as torch does: weight
    and bias uniform in ``±1/sqrt(fan_in)``, fan_in = the weight's size but its first
    dimension's (in_channels / groups * kernel size; out_channels / groups * kernel size for a
    transposed one, whose weight is (in, out / groups, kernel...))."""

    _dims: int
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError(f"funcgrad's convolutions pad with zeros only, not {padding_mode!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError("in_channels and out_channels must be divisible by groups")
        n = self._dims
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride = F._tuple(kernel_size, n), F._tuple(stride, n)
        self.padding = padding if isinstance(padding, str) else F._tuple(padding, n)
        self.dilation, self.output_padding = F._tuple(dilation, n), (0,) * n
        self.weight, bias = self._initial(bias, dtype, device)
        self.register_parameter("bias", bias)

    def _initial(self, bias: bool, dtype, device) -> tuple[Parameter, Parameter | None]:
        """A fresh weight and bias (or None) for the current channels."""
        groups = self.groups
        shape = ((self.in_channels, self.out_channels // groups) if self._transposed
                 else (self.out_channels, self.in_channels // groups)) + self.kernel_size
        fan_in = math.prod(shape[1:])
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        return (_kaiming_uniform(self, shape, bound, dtype, device),
                _uniform((self.out_channels,), bound, dtype, device) if bias else None)

    def forward(self, input: Tensor) -> Tensor:
        conv = (F.conv1d, F.conv2d, F.conv3d)[self._dims - 1]
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                    self.groups)

    def extra_repr(self) -> str:
        n = self._dims
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * n:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + (", bias=False" if self.bias is None else "")


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) or (C, L) inputs.

    >>> import funcgrad
    >>> funcgrad.nn.Conv1d(2, 4, 3, stride=2)
    Conv1d(2, 4, kernel_size=(3,), stride=(2,))
    """

    _dims = 1


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) or (C, H, W) inputs.

    >>> import funcgrad
    >>> funcgrad.nn.Conv2d(3, 8, 3, padding=1)(funcgrad.ones(2, 3, 5, 5)).shape
    funcgrad.Size([2, 8, 5, 5])
    """

    _dims = 2


class Conv3d(_ConvNd):
    """3-D convolution over (N, C, D, H, W) or (C, D, H, W) inputs.

    >>> import funcgrad
    >>> funcgrad.nn.Conv3d(2, 3, 3)
    Conv3d(2, 3, kernel_size=(3, 3, 3), stride=(1, 1, 1))
    """

    _dims = 3


class _ConvTransposeNd(_ConvNd):
    """A transposed convolution layer (the gradient of a convolution with respect to its
    input), with torch's argument order and weight layout (in, out / groups, kernel...)."""

    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)
        self.output_padding = F._tuple(output_padding, self._dims)

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        """The output padding that gives the spatial ``output_size`` (which may lead with the
        batch and channel sizes), as torch's: one within a stride of the smallest output."""
        n, lead = self._dims, input.ndim - self._dims
        sizes = list(output_size)
        if len(sizes) == lead + n:
            sizes = sizes[lead:]
        if len(sizes) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.ndim}D input, output_size must have "
                             f"{n} or {lead + n} elements (got {len(sizes)})")
        low = [(input.shape[lead + d] - 1) * self.stride[d] - 2 * self.padding[d]
               + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(n)]
        high = [size + stride - 1 for size, stride in zip(low, self.stride)]
        if any(not lo <= size <= hi for size, lo, hi in zip(sizes, low, high)):
            raise ValueError(f"requested an output size of {list(output_size)}, but valid sizes "
                             f"range from {low} to {high} (for an input of {input.shape[2:]})")
        return tuple(size - lo for size, lo in zip(sizes, low))

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self._dims - 1]
        output_padding = (self.output_padding if output_size is None
                          else self._output_padding(input, output_size))
        return conv(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                    self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over (N, C, L) or (C, L) inputs.

    >>> import funcgrad
    >>> funcgrad.nn.ConvTranspose1d(4, 2, 3, stride=2, output_padding=1)
    ConvTranspose1d(4, 2, kernel_size=(3,), stride=(2,), output_padding=(1,))
    """

    _dims = 1


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C, H, W) or (C, H, W) inputs: with stride 2 it
    doubles the spatial size (``output_size`` picks among the sizes a stride allows).

    >>> import funcgrad
    >>> up = funcgrad.nn.ConvTranspose2d(8, 3, 4, stride=2, padding=1)
    >>> up(funcgrad.ones(2, 8, 5, 5)).shape
    funcgrad.Size([2, 3, 10, 10])
    """

    _dims = 2


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution over (N, C, D, H, W) or (C, D, H, W) inputs."""

    _dims = 3


class _LPPoolNd(Module):
    """The ``norm_type``-norm of each window (``F.lp_pool1d`` and the others)."""

    _dims: int

    def __init__(self, norm_type: float, kernel_size, stride=None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return F._lp_pool(self._dims, input, self.norm_type, self.kernel_size, self.stride,
                          self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """The ``norm_type``-norm of each window of the last dimension."""

    _dims = 1


class LPPool2d(_LPPoolNd):
    """The ``norm_type``-norm of each window of the last two dimensions."""

    _dims = 2


class LPPool3d(_LPPoolNd):
    """The ``norm_type``-norm of each window of the last three dimensions."""

    _dims = 3


class MaxPool2d(Module):
    """The largest value of each window."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation, self.ceil_mode = padding, dilation, ceil_mode
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Tensor:
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class DataParallel(Module):
    """torch's data-parallel wrapper as torch runs it on a machine without CUDA devices: the
    wrapped ``module`` does the work, on its own device, and the state dict's keys start with
    ``module.``, so checkpoints of wrapped models load as torch's. funcgrad does not copy the
    module to several GPUs per call; a batch is spread over devices with JAX's sharding.

    >>> import funcgrad
    >>> model = funcgrad.nn.DataParallel(funcgrad.nn.Linear(2, 1))
    >>> list(model.state_dict())
    ['module.weight', 'module.bias']
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0
                 ) -> None:
        super().__init__()
        self.module = module
        self.device_ids = []

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


class _FractionalMaxPoolNd(Module):
    """Fractional max pooling (``F.fractional_max_pool2d``), its output sized by
    ``output_size`` or by ``output_ratio`` of the input's, each ratio in (0, 1). Shows no
    arguments in its repr, as torch's."""

    _dims = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None,
                 return_indices: bool = False, _random_samples=None) -> None:
        super().__init__()
        name = type(self).__name__
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling "
                             "ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if output_ratio is not None:
            ratios = F._tuple(output_ratio, self._dims, float)
            if not all(0 < r < 1 for r in ratios):
                raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")
        self.kernel_size = F._tuple(kernel_size, self._dims)
        self.output_size = None if output_size is None else F._tuple(output_size, self._dims)
        self.output_ratio = None if output_ratio is None else ratios
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)

    def forward(self, input: Tensor):
        pool = F.fractional_max_pool2d if self._dims == 2 else F.fractional_max_pool3d
        return pool(input, self.kernel_size, self.output_size, self.output_ratio,
                    self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Fractional max pooling over the last two dimensions (``F.fractional_max_pool2d``)."""


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Fractional max pooling over the last three dimensions (``F.fractional_max_pool3d``)."""

    _dims = 3


class AvgPool2d(Module):
    """The mean of each window."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool1d(MaxPool2d):
    """The largest value of each window along the last dimension."""

    def forward(self, input: Tensor) -> Tensor:
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool1d(AvgPool2d):
    """The mean of each window along the last dimension.

    >>> import funcgrad
    >>> funcgrad.nn.AvgPool1d(3, stride=2)
    AvgPool1d(kernel_size=(3,), stride=(2,), padding=(0,))
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__(F._tuple(kernel_size, 1), None if stride is None else F._tuple(stride, 1),
                         F._tuple(padding, 1), ceil_mode, count_include_pad)

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class MaxPool3d(MaxPool2d):
    """The largest value of each window of the last three dimensions."""

    def forward(self, input: Tensor) -> Tensor:
        return F.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool3d(AvgPool2d):
    """The mean of each window of the last three dimensions."""

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class MaxUnpool2d(Module):
    """The inverse of MaxPool2d: each value at the index the pool gave it, zeros elsewhere.

    >>> import funcgrad
    >>> funcgrad.nn.MaxUnpool2d(2)
    MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))
    """

    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = F._tuple(kernel_size, self._dims)
        self.stride = self.kernel_size if stride is None else F._tuple(stride, self._dims)
        self.padding = F._tuple(padding, self._dims)

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        unpool = getattr(F, f"max_unpool{self._dims}d")
        return unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(MaxUnpool2d):
    """The inverse of MaxPool1d."""

    _dims = 1


class MaxUnpool3d(MaxUnpool2d):
    """The inverse of MaxPool3d."""

    _dims = 3


class AdaptiveAvgPool1d(Module):
    """Averages over ``output_size`` windows that split the last dimension evenly."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(AdaptiveAvgPool1d):
    """Averages over windows that split the last two dimensions evenly into
    ``output_size``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool3d(AdaptiveAvgPool1d):
    """Averages over windows that split the last three dimensions evenly into
    ``output_size``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool1d(AdaptiveAvgPool1d):
    """The largest value of each of ``output_size`` windows that split the last dimension
    evenly (and its index, with ``return_indices``)."""

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(AdaptiveMaxPool1d):
    """The largest value of each of the windows that split the last two dimensions evenly
    into ``output_size`` (and its flat index in its plane, with ``return_indices``)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(AdaptiveMaxPool1d):
    """The largest value of each of the windows that split the last three dimensions evenly
    into ``output_size`` (and its flat index in its volume, with ``return_indices``)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class PixelShuffle(Module):
    """``F.pixel_shuffle``: (*, C * r * r, H, W) to (*, C, H * r, W * r)."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``F.pixel_unshuffle``: (*, C, H * r, W * r) to (*, C * r * r, H, W)."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """``F.channel_shuffle``: interleaves the channels of ``groups`` groups."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class Unfold(Module):
    """``F.unfold``: an image batch's sliding blocks as columns."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Unfold):
    """``F.fold``: columns of sliding blocks summed back into images of ``output_size``."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}, {super().extra_repr()}"


class Upsample(Module):
    """Resizes the spatial dimensions to ``size`` or by ``scale_factor`` with
    ``F.interpolate``'s ``mode``.

    >>> import funcgrad
    >>> funcgrad.nn.Upsample(scale_factor=2, mode="bilinear")
    Upsample(scale_factor=2.0, mode='bilinear')
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.size, self.mode = size, mode
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            return f"scale_factor={self.scale_factor!r}, mode={self.mode!r}"
        return f"size={self.size!r}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample`` in 'nearest' mode."""

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample`` in 'bilinear' mode with ``align_corners=True``."""

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class _NormBase(Module):
    """What batch and instance normalizations share, as torch's: per-channel affine
    parameters, running statistics and their reset, printing, and loading old state dicts."""

    _input_dims: tuple[int, ...]
    _version = 2  # num_batches_tracked came in version 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None,
                 *, bias: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(_factories.ones(num_features, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(_factories.zeros(num_features, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean",
                                 _factories.zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var",
                                 _factories.ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", _factories.tensor(0, device=device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        """Zeroes the running mean and the count and sets the running variance to 1."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """``reset_running_stats``, and the affine weight to 1 and bias to 0."""
        self.reset_running_stats()
        with no_grad():
            if self.weight is not None:
                self.weight.fill_(1)
            if self.bias is not None:
                self.bias.zero_()

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in self._input_dims:
            raise ValueError(f"expected {' or '.join(f'{d}D' for d in self._input_dims)} "
                             f"input (got {input.ndim}D input)")

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict,
                              *args) -> None:
        """A state dict from before version 2 has no ``num_batches_tracked``: the module keeps
        its own count, as torch's does."""
        version = local_metadata.get("version")
        if (version is None or version < 2) and self.track_running_stats:
            count = self.num_batches_tracked
            state_dict.setdefault(prefix + "num_batches_tracked",
                                  _factories.tensor(0) if count is None else count)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)


class _BatchNorm(_NormBase):
    """Batch normalization over channels (dimension 1) with running statistics, as torch's:
    the batch's statistics in training (updating the running ones, by ``momentum``, or by a
    cumulative average when it is None), the running ones in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        stats = (self.running_mean, self.running_var) if track else (None, None)
        # torch's checks before the count changes, so that a bad input changes nothing
        F._check_batch_norm(input, *stats, self.weight, self.bias, use_batch)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative average (this reads the count)
                momentum = 1.0 / float(self.num_batches_tracked)
        return F.batch_norm(input, *stats, self.weight, self.bias, use_batch, momentum, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs."""

    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) inputs.

    >>> import funcgrad
    >>> funcgrad.nn.BatchNorm2d(3)
    BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    _input_dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalization of (N, C, D, H, W) inputs."""

    _input_dims = (5,)


class SyncBatchNorm(_BatchNorm):
    """Batch normalization of (N, C, *) inputs whose statistics torch gathers across the
    processes of ``process_group``. funcgrad runs in one process, so it is ``BatchNorm``'s
    (accepted for torch compatibility; ``jax.lax.pmean`` inside ``shard_map`` is JAX's way to
    share statistics across devices).

    >>> import funcgrad
    >>> net = funcgrad.nn.Sequential(funcgrad.nn.Linear(3, 4), funcgrad.nn.BatchNorm1d(4))
    >>> funcgrad.nn.SyncBatchNorm.convert_sync_batchnorm(net)[1]
    SyncBatchNorm(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """``module`` with each of its batch normalizations (itself included) replaced by a
        ``SyncBatchNorm`` sharing its parameters, running statistics and mode."""
        output = module
        if isinstance(module, _BatchNorm):
            output = cls(module.num_features, module.eps, module.momentum, module.affine,
                         module.track_running_stats, process_group,
                         bias=module.bias is not None)
            if module.affine:
                output.weight, output.bias = module.weight, module.bias
            output.running_mean, output.running_var = module.running_mean, module.running_var
            output.num_batches_tracked = module.num_batches_tracked
            output.training = module.training
            if hasattr(module, "qconfig"):
                output.qconfig = module.qconfig
        for name, child in module.named_children():
            output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return output


class _InstanceNorm(_NormBase):
    """Instance normalization of (N, C, *) or unbatched (C, *) inputs: each sample's channels
    by their own statistics (and, with ``track_running_stats``, by the running ones in eval
    mode), as torch's; no affine parameters or running statistics by default."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype)

    def forward(self, input: Tensor) -> Tensor:
        unbatched = self._input_dims[0]
        self._check_input_dim(input)
        dim = input.ndim - unbatched
        if input.shape[dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={dim} to match num_features "
                                 f"({self.num_features}), but got: {input.shape[dim]}.")
            warnings.warn(f"input's size at dim={dim} does not match num_features. You can "
                          "silence this warning by not passing in num_features, which is not "
                          "used because affine=False", UserWarning, stacklevel=2)
        batch = input.unsqueeze(0) if input.ndim == unbatched else input
        out = F.instance_norm(batch, self.running_mean, self.running_var, self.weight,
                              self.bias, self.training or not self.track_running_stats,
                              0.0 if self.momentum is None else self.momentum, self.eps)
        return out.squeeze(0) if input.ndim == unbatched else out

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict,
                              strict: bool, missing_keys: list, unexpected_keys: list,
                              error_msgs: list) -> None:
        """A state dict without a version may come from before running statistics became
        optional (torch 0.4): running ones for a module that does not track them are an error,
        worded as torch's, and are dropped."""
        if local_metadata.get("version") is None and not self.track_running_stats:
            keys = [prefix + name for name in ("running_mean", "running_var")
                    if prefix + name in state_dict]
            if keys:
                klass = type(self).__name__
                error_msgs.append(
                    "Unexpected running stats buffer(s) {names} for {klass} with "
                    "track_running_stats=False. If state_dict is a checkpoint saved before "
                    "0.4.0, this may be expected because {klass} does not track running stats "
                    "by default since 0.4.0. Please remove these keys from state_dict. If the "
                    "running stats are actually needed, instead set track_running_stats=True "
                    "in {klass} to enable them. See the documentation of {klass} for "
                    "details.".format(names=" and ".join(f'"{k}"' for k in keys), klass=klass))
                for key in keys:
                    state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or (C, L) inputs.

    >>> import funcgrad
    >>> funcgrad.nn.InstanceNorm1d(3)
    InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)
    """

    _input_dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) or (C, H, W) inputs."""

    _input_dims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W) or (C, D, H, W) inputs."""

    _input_dims = (4, 5)


class LocalResponseNorm(Module):
    """``F.local_response_norm``: each value over a power of its neighbouring channels' mean
    square."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class GroupNorm(Module):
    """Normalizes each group of channels of each sample, then applies a learned per-channel
    scale (ones) and shift (zeros) when ``affine``.

    >>> import funcgrad
    >>> funcgrad.nn.GroupNorm(2, 4)
    GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        if affine:
            self.weight = Parameter(_factories.ones(num_channels, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(_factories.zeros(num_channels, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _PadNd(Module):
    """Pads the last ``_dims`` dimensions in ``_mode`` by ``padding`` (an int for every
    side, or torch's (left, right, top, bottom) order)."""

    _mode: str
    _dims: int

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = F._tuple(padding, 2 * self._dims)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    _mode = "constant"

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dimension with ``value``."""

    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dimensions with ``value``."""

    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three dimensions with ``value``."""

    _dims = 3


class ZeroPad1d(ConstantPad1d):
    """Pads the last dimension with zeros."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    extra_repr = _PadNd.extra_repr


class ZeroPad2d(ConstantPad2d):
    """Pads the last two dimensions with zeros.

    >>> import funcgrad
    >>> funcgrad.nn.ZeroPad2d((1, 0, 0, 1))(funcgrad.ones(1, 1, 1)).shape
    funcgrad.Size([1, 2, 2])
    """

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    extra_repr = _PadNd.extra_repr


class ZeroPad3d(ConstantPad3d):
    """Pads the last three dimensions with zeros."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    extra_repr = _PadNd.extra_repr


class ReflectionPad1d(_PadNd):
    """Pads the last dimension with its mirror image (without the edge)."""

    _mode, _dims = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Pads the last two dimensions with their mirror images (without the edges)."""

    _mode, _dims = "reflect", 2


class ReplicationPad1d(_PadNd):
    """Pads the last dimension by repeating its edge."""

    _mode, _dims = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Pads the last two dimensions by repeating their edges."""

    _mode, _dims = "replicate", 2


class CircularPad1d(_PadNd):
    """Pads the last dimension by wrapping it around."""

    _mode, _dims = "circular", 1


class CircularPad2d(_PadNd):
    """Pads the last two dimensions by wrapping them around."""

    _mode, _dims = "circular", 2


class ReflectionPad3d(_PadNd):
    """Pads the last three dimensions with their mirror images (without the edges)."""

    _mode, _dims = "reflect", 3


class ReplicationPad3d(_PadNd):
    """Pads the last three dimensions by repeating their edges."""

    _mode, _dims = "replicate", 3


class CircularPad3d(_PadNd):
    """Pads the last three dimensions by wrapping them around."""

    _mode, _dims = "circular", 3


class Container(Module):
    """torch's deprecated module holding the modules given by name (with its warning)."""

    def __init__(self, **kwargs: Module) -> None:
        super().__init__()
        warnings.warn("`nn.Container` is deprecated. All of its functionality is now implemented "
                      "in `nn.Module`. Subclass that instead.", FutureWarning, stacklevel=2)
        for name, module in kwargs.items():
            self.add_module(name, module)


class Sequential(Module):
    """Modules applied in order; built from modules (named ``'0'``, ``'1'`` …) or from an
    ``OrderedDict`` of names to modules.

    >>> import funcgrad
    >>> net = funcgrad.nn.Sequential(funcgrad.nn.Linear(2, 2), funcgrad.nn.ReLU())
    >>> [name for name, _ in net.named_parameters()]
    ['0.weight', '0.bias']
    """

    def __init__(self, *args: Module) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, idx):
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(items[idx]))
        if not -len(items) <= idx < len(items):
            raise IndexError(f"index {idx} is out of range")
        return items[idx][1]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Adds ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self


class _Slotted(Module):
    """A container over one of a module's slots (``_slot``: ``'_modules'`` or
    ``'_parameters'``); a subclass says how an entry is registered (``_register``)."""

    _slot: str

    @property
    def _entries(self) -> dict:
        return self.__dict__[self._slot]

    def _register(self, key: str, value) -> None:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self._entries)


class _SlotList(_Slotted):
    """The list protocol of ``ModuleList`` and ``ParameterList``: entries named ``'0'``,
    ``'1'`` …"""

    def __init__(self, values=None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def _position(self, idx: int) -> int:
        if not -len(self) <= idx < len(self):
            raise IndexError(f"index {idx} is out of range")
        return idx % len(self)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self)[idx])
        return self._entries[str(self._position(idx))]

    def __setitem__(self, idx: int, value) -> None:
        self._register(str(self._position(idx)), value)

    def __iter__(self):
        return iter(self._entries.values())

    def append(self, value):
        """Adds ``value`` at the end; returns self."""
        self._register(str(len(self)), value)
        return self

    def extend(self, values):
        """Adds each of ``values`` at the end; returns self."""
        for value in values:
            self.append(value)
        return self


class ModuleList(_SlotList):
    """Modules held in a list and registered (named ``'0'``, ``'1'`` …), so their parameters
    are the holder's.

    >>> import funcgrad
    >>> layers = funcgrad.nn.ModuleList([funcgrad.nn.Linear(2, 2) for _ in range(2)])
    >>> [name for name, _ in layers.named_parameters()]
    ['0.weight', '0.bias', '1.weight', '1.bias']
    """

    _slot = "_modules"

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__(modules)

    def _register(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def insert(self, index: int, module: Module) -> None:
        """Puts ``module`` before position ``index``."""
        modules = list(self)
        modules.insert(index, module)
        self._entries.clear()
        self.extend(modules)

    def __repr__(self) -> str:
        # torch prints a run of modules that print alike once: "(0-2): 3 x Linear(...)"
        runs: list[list] = []
        for i, module in enumerate(self):
            text = repr(module)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        if not runs:
            return self._get_name() + "()"
        lines = [_add_indent(f"({a}): {text}" if a == b else f"({a}-{b}): {b - a + 1} x {text}",
                             2) for a, b, text in runs]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class _SlotDict(_Slotted):
    """The dict protocol of ``ModuleDict`` and ``ParameterDict``, in insertion order."""

    def __init__(self, entries=None) -> None:
        super().__init__()
        if entries is not None:
            self.update(entries)

    def __getitem__(self, key: str):
        return self._entries[key]

    def __delitem__(self, key: str) -> None:
        del self._entries[key]

    def __setitem__(self, key: str, value) -> None:
        self._register(key, value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def keys(self):
        return self._entries.keys()

    def values(self):
        return self._entries.values()

    def items(self):
        return self._entries.items()

    def pop(self, key: str):
        """Removes ``key`` and returns its entry."""
        return self._entries.pop(key)

    def clear(self) -> None:
        self._entries.clear()

    def update(self, entries) -> None:
        """Adds or replaces entries from a mapping or from ``(key, value)`` pairs."""
        for key, value in (entries.items() if isinstance(entries, Mapping) else entries):
            self[key] = value


class ModuleDict(_SlotDict):
    """Modules held in a dict and registered under their keys, in insertion order.

    >>> import funcgrad
    >>> heads = funcgrad.nn.ModuleDict({"mean": funcgrad.nn.Linear(2, 1)})
    >>> [name for name, _ in heads.named_parameters()]
    ['mean.weight', 'mean.bias']
    """

    _slot = "_modules"

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        super().__init__(modules)

    def _register(self, key: str, module: Module) -> None:
        self.add_module(key, module)


def _as_parameter(value) -> Parameter:
    """A tensor given to a ParameterList or ParameterDict, as the Parameter it holds."""
    if isinstance(value, Parameter):
        return value
    if not isinstance(value, Tensor):
        raise TypeError(f"funcgrad's ParameterList and ParameterDict hold tensors (made "
                        f"Parameters), got {_typename(value)}: keep other objects elsewhere")
    return Parameter(value)


def _parameter_line(key, p: Tensor, type_name: str) -> str:
    """A line of torch's printing of a ParameterList or ParameterDict."""
    size = "x".join(map(str, p.shape))
    device = f" ({p.device})" if p.device.type == "cuda" else ""
    return f"  ({key}): Parameter containing: [{type_name} of size {size}{device}]"


class ParameterList(_SlotList):
    """Parameters held in a list and registered (named ``'0'``, ``'1'`` …); a plain tensor
    given to it becomes a Parameter.

    >>> import funcgrad
    >>> funcgrad.nn.ParameterList([funcgrad.ones(2, 3), funcgrad.zeros(3)])
    ParameterList(
        (0): Parameter containing: [funcgrad.float32 of size 2x3]
        (1): Parameter containing: [funcgrad.float32 of size 3]
    )
    """

    _slot = "_parameters"

    def __init__(self, values: Iterable[Tensor] | None = None) -> None:
        super().__init__(values)

    def _register(self, key: str, value: Tensor) -> None:
        self.register_parameter(key, _as_parameter(value))

    def extra_repr(self) -> str:
        return "\n".join(_parameter_line(i, p, _dtypes.name(p.dtype)) for i, p in enumerate(self))


class ParameterDict(_SlotDict):
    """Parameters held in a dict and registered under their keys, in insertion order; a
    plain tensor given to it becomes a Parameter.

    >>> import funcgrad
    >>> funcgrad.nn.ParameterDict({"scale": funcgrad.ones(2), "shift": funcgrad.zeros(2)})
    ParameterDict(
        (scale): Parameter containing: [funcgrad.FloatTensor of size 2]
        (shift): Parameter containing: [funcgrad.FloatTensor of size 2]
    )
    """

    _slot = "_parameters"

    def __init__(self, parameters=None) -> None:
        super().__init__(parameters)

    def _register(self, key: str, value: Tensor) -> None:
        self.register_parameter(key, _as_parameter(value))

    def get(self, key: str, default=None):
        return self._parameters.get(key, default)

    def extra_repr(self) -> str:
        return "\n".join(_parameter_line(key, p, _typename(p)) for key, p in self.items())


class RMSNorm(Module):
    """Divides by the root mean square over the trailing ``normalized_shape`` dimensions,
    then applies a learned elementwise scale (ones) when ``elementwise_affine``.

    >>> import funcgrad
    >>> funcgrad.nn.RMSNorm(4)
    RMSNorm((4,), eps=None, elementwise_affine=True)
    """

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_factories.ones(*shape, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)

    def forward(self, x: Tensor) -> Tensor:
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class ReLU(Module):
    """``max(x, 0)``, elementwise (in place with ``inplace=True``)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return input.relu_() if self.inplace else F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """Hyperbolic tangent, elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Sigmoid(Module):
    """Logistic sigmoid, elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Identity(Module):
    """Returns its input; takes and ignores any arguments, as torch's."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Flatten(Module):
    """Merges dimensions ``start_dim`` through ``end_dim`` (all but the batch's, by default)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dimension ``dim`` into ``unflattened_size``."""

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError("unflattened_size must be a tuple of ints, but found type "
                            f"{type(unflattened_size).__name__}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class CosineSimilarity(Module):
    """The cosine similarity of two inputs along ``dim``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """The ``p``-norm distance of two inputs along their last dimension."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class GELU(Module):
    """Gaussian error linear unit (``approximate='tanh'`` for the tanh form)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x * sigmoid(x)``, elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input)


class LeakyReLU(Module):
    """``x`` where positive, else ``negative_slope * x``."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class RReLU(Module):
    """Randomized leaky ReLU (``functional.rrelu``): a slope drawn from ``[lower, upper]`` per
    negative element in training, their mean in evaluation."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
                 inplace: bool = False) -> None:
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace
                                                             else "")


class ELU(Module):
    """``x`` where positive, else ``alpha * (exp(x) - 1)``."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """``x`` where positive, else ``alpha * (exp(x / alpha) - 1)``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.celu(input, self.alpha, self.inplace)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class _Inplace(Module):
    """An elementwise activation of no arguments but torch's ``inplace``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardtanh(Module):
    """``x`` clamped to ``[min_val, max_val]``."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0,
                 inplace: bool = False) -> None:
        super().__init__()
        if not max_val > min_val:
            raise AssertionError(f"max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        text = f"min_val={self.min_val}, max_val={self.max_val}"
        return text + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class SELU(_Inplace):
    """Scaled ELU with the self-normalizing constants."""

    def forward(self, input: Tensor) -> Tensor:
        return F.selu(input, self.inplace)




class Mish(_Inplace):
    """``x * tanh(softplus(x))``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.mish(input, self.inplace)


class Hardswish(_Inplace):
    """``x * relu6(x + 3) / 6``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.hardswish(input, self.inplace)

    extra_repr = Module.extra_repr  # (torch's prints no inplace)


class Hardsigmoid(_Inplace):
    """``relu6(x + 3) / 6``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.hardsigmoid(input, self.inplace)

    extra_repr = Module.extra_repr  # (torch's prints no inplace)


class Softsign(Module):
    """``x / (1 + |x|)``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.softsign(input)


class Tanhshrink(Module):
    """``x - tanh(x)``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanhshrink(input)


class LogSigmoid(Module):
    """``log(sigmoid(x))``, computed stably."""

    def forward(self, input: Tensor) -> Tensor:
        return F.logsigmoid(input)


class GLU(Module):
    """Gated linear unit over the halves of ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softshrink(Module):
    """``x`` moved toward zero by ``lambd``, zero within ``lambd`` of it."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return F.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Softshrink):
    """``x`` where ``|x| > lambd``, zero elsewhere."""

    def forward(self, input: Tensor) -> Tensor:
        return F.hardshrink(input, self.lambd)


class Threshold(Module):
    """``x`` where ``x > threshold``, ``value`` elsewhere."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        text = f"threshold={self.threshold}, value={self.value}"
        return text + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """``x`` where positive, else ``weight * x``: a learned slope (``init``), one for all
    channels or one per channel (``num_parameters``).

    >>> import funcgrad
    >>> funcgrad.nn.PReLU(3)
    PReLU(num_parameters=3)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(_factories.full((num_parameters,), init, dtype=dtype,
                                                device=device))

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Softmax(Module):
    """Softmax along ``dim``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels (dimension -3) of a (C, H, W) or (N, C, H, W) input."""

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D "
                             "instead")
        return F.softmax(input, -3)


class LogSoftmax(Softmax):
    """Log-softmax along ``dim``, computed stably."""

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)


class Softmin(Softmax):
    """Softmin (the softmax of ``-x``) along ``dim``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.softmin(input, self.dim)


class Dropout(Module):
    """In training mode, zeroes each element with probability ``p`` and scales the others by
    ``1 / (1 - p)``; in eval mode, the identity. Masks come from the generator
    ``funcgrad.manual_seed`` seeds.

    >>> import funcgrad
    >>> drop = funcgrad.nn.Dropout(0.5).eval()
    >>> drop(funcgrad.ones(3))
    tensor([1., 1., 1.])
    """

    _drop = staticmethod(F.dropout)

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return self._drop(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """``F.dropout1d``: whole channels of (N, C, L) or (C, L), in training."""

    _drop = staticmethod(F.dropout1d)


class Dropout2d(Dropout):
    """``F.dropout2d``: whole channels of (N, C, H, W), in training."""

    _drop = staticmethod(F.dropout2d)


class Dropout3d(Dropout):
    """``F.dropout3d``: whole channels of (N, C, D, H, W) or (C, D, H, W), in training."""

    _drop = staticmethod(F.dropout3d)


class AlphaDropout(Dropout):
    """``F.alpha_dropout``, for SELU networks, in training."""

    _drop = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(Dropout):
    """``F.feature_alpha_dropout``: alpha dropout of whole channels, in training."""

    _drop = staticmethod(F.feature_alpha_dropout)


class Embedding(Module):
    """A lookup table: row ``i`` of ``weight`` (initialized standard normal) for index ``i``.
    Row ``padding_idx``, if given, starts at zero and receives no gradient.

    >>> import funcgrad
    >>> emb = funcgrad.nn.Embedding(10, 3, padding_idx=0)
    >>> emb(funcgrad.tensor([[0, 4]])).shape
    funcgrad.Size([1, 2, 3])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Tensor | None = None, _freeze: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is not None:  # given weights are kept as they are, padding row included
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError(
                    "Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)
            return
        weight = _factories.randn(num_embeddings, embedding_dim, dtype=dtype, device=device)
        if padding_idx is not None:
            weight[padding_idx] = 0.0
        self.weight = Parameter(weight)

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True,
                        padding_idx: int | None = None, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding whose weight shares the storage of the 2-D ``embeddings`` and, with
        ``freeze``, requires no grad.

        >>> import funcgrad
        >>> emb = funcgrad.nn.Embedding.from_pretrained(funcgrad.eye(3), padding_idx=0)
        >>> emb, emb.weight.requires_grad
        (Embedding(3, 3, padding_idx=0), False)
        """
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text + _norm_options(self) + (", sparse=True" if self.sparse else "")


def _norm_options(module) -> str:
    """What torch's repr of an Embedding or EmbeddingBag shows of its options that are set:
    ``max_norm``, ``norm_type`` and ``scale_grad_by_freq``."""
    text = "" if module.max_norm is None else f", max_norm={module.max_norm!r}"
    if module.norm_type != 2:
        text += f", norm_type={module.norm_type!r}"
    if module.scale_grad_by_freq:
        text += f", scale_grad_by_freq={module.scale_grad_by_freq!r}"
    return text


class EmbeddingBag(Module):
    """``F.embedding_bag`` with a table (initialized standard normal, row ``padding_idx``
    zero): the sum, mean or max of the rows of each bag of indices.

    >>> import funcgrad
    >>> funcgrad.nn.EmbeddingBag(10, 3, mode="sum")
    EmbeddingBag(10, 3, mode='sum')
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, include_last_offset: bool = False,
                 padding_idx: int | None = None, device=None, dtype=None) -> None:
        embedding = Embedding(num_embeddings, embedding_dim, padding_idx, device=device,
                              dtype=dtype)
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset, self.padding_idx = include_last_offset, embedding.padding_idx
        self.weight = embedding.weight

    def forward(self, input: Tensor, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        text = (f"{self.num_embeddings}, {self.embedding_dim}{_norm_options(self)}, "
                f"mode='{self.mode}'")
        return text if self.padding_idx is None else f"{text}, padding_idx={self.padding_idx}"


class LayerNorm(Module):
    """Normalizes over the trailing ``normalized_shape`` dimensions, then applies a learned
    elementwise scale (ones) and shift (zeros) when ``elementwise_affine``.

    >>> import funcgrad
    >>> funcgrad.nn.LayerNorm(4)
    LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_factories.ones(*shape, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(_factories.zeros(*shape, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class _Loss(Module):
    """A loss module's ``reduction``: as given, or as torch reads the deprecated
    ``size_average`` and ``reduce`` where either is given (with torch's warning)."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = F._legacy_reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    """A loss whose optional ``weight`` rescales classes or elements: a buffer, so it follows
    the module across devices and dtypes and into its state_dict."""

    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error (``reduction`` ``'mean'``, ``'sum'`` or ``'none'``).

    >>> import funcgrad
    >>> funcgrad.nn.MSELoss()(funcgrad.tensor([1.0, 2.0]), funcgrad.tensor([1.0, 4.0]))
    tensor(2.)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error (``reduction`` ``'mean'``, ``'sum'`` or ``'none'``)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities against class indices, with torch's
    ``weight`` and ``ignore_index``."""

    def __init__(self, weight: Tensor | None = None, size_average=None, ignore_index: int = -100,
                 reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class NLLLoss2d(NLLLoss):
    """``NLLLoss``, under the name torch deprecated (with its warning)."""

    def __init__(self, weight: Tensor | None = None, size_average=None, ignore_index: int = -100,
                 reduce=None, reduction: str = "mean") -> None:
        warnings.warn("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a "
                      "drop-in replacement and see https://pytorch.org/docs/main/nn.html#torch.nn"
                      ".NLLLoss for more details.", FutureWarning, stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities; ``weight`` rescales each element."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of ``sigmoid(input)``, computed stably from the logits;
    ``pos_weight`` weighs the positive term."""

    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits against class indices or class probabilities, with torch's
    ``weight``, ``ignore_index`` and ``label_smoothing``.

    >>> import funcgrad
    >>> funcgrad.nn.CrossEntropyLoss()(funcgrad.tensor([[0.0, 0.0]]), funcgrad.tensor([0]))
    tensor(0.6931)
    """

    def __init__(self, weight: Tensor | None = None, size_average=None, ignore_index: int = -100,
                 reduce=None, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class LinearCrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of ``input`` projected to the logits of ``num_classes`` classes (and of
    ``out_features`` positions) by a ``Linear`` layer of its own, ``self.linear``:
    ``nn.functional.linear_cross_entropy``. ``options`` (torch's chunking of the logits) is
    accepted and kept; XLA fuses the projection and the loss here.

    >>> import funcgrad
    >>> loss = funcgrad.nn.LinearCrossEntropyLoss(4, 3)
    >>> loss.linear
    Linear(in_features=4, out_features=3, bias=False)
    >>> loss(funcgrad.ones(2, 4), funcgrad.tensor([0, 2])).shape
    funcgrad.Size([])
    """

    def __init__(self, in_features: int, num_classes: int, *, out_features: tuple = (),
                 bias: bool = False, device=None, dtype=None, reduction: str = "mean",
                 weight: Tensor | None = None, ignore_index: int | None = None,
                 label_smoothing: float = 0.0, options=None) -> None:
        if weight is not None and tuple(weight.shape) != (num_classes,):
            raise RuntimeError(f"expected weight shape to be {(num_classes,)}, got "
                               f"{tuple(weight.shape)}")
        if label_smoothing < 0 or label_smoothing > 1.0:
            raise RuntimeError("expected label_smoothing to be in range [0, 1], got "
                               f"{label_smoothing}")
        super().__init__(weight, reduction=reduction)
        self.num_classes, self.out_features = num_classes, out_features
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing
        self.linear = Linear(in_features, math.prod(out_features, start=num_classes), bias=bias,
                             device=device, dtype=dtype)
        self.options = options

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        bias = self.linear.bias
        return F.linear_cross_entropy(
            input, self.linear.weight.reshape(
                (self.num_classes, *self.out_features, self.linear.in_features)), target,
            linear_bias=None if bias is None else bias.reshape(
                (self.num_classes, *self.out_features)),
            weight=self.weight, reduction=self.reduction, ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing, options=self.options)

    def extra_repr(self) -> str:
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
                f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}, options={self.options}")


class _ASMoutput(NamedTuple):
    """What ``AdaptiveLogSoftmaxWithLoss`` returns: each target's log-probability, and the
    mean negative log-likelihood."""

    output: Tensor
    loss: Tensor


class AdaptiveLogSoftmaxWithLoss(Module):
    """Grave et al.'s adaptive softmax, torch's: the ``cutoffs[0]`` most frequent classes and
    one entry per cluster of rarer classes share a ``head`` layer; each cluster's classes come
    from a ``tail`` projection of width ``in_features // div_value ** (i + 1)``, computed only
    for the rows whose target is in it.

    >>> import funcgrad
    >>> asm = funcgrad.nn.AdaptiveLogSoftmaxWithLoss(16, 10, cutoffs=[4, 8])
    >>> result = asm(funcgrad.ones(3, 16), funcgrad.tensor([1, 5, 9]))
    >>> result.output.shape, asm.log_prob(funcgrad.ones(3, 16)).shape
    (funcgrad.Size([3]), funcgrad.Size([3, 10]))
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs, div_value: float = 4.0,
                 head_bias: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted "
                             "in an increasing order, where each value is between 1 and "
                             "n_classes-1")
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs, self.div_value, self.head_bias = cutoffs + [n_classes], div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, device=device,
                           dtype=dtype)
        self.tail = ModuleList([
            Sequential(Linear(in_features, int(in_features // div_value ** (i + 1)), bias=False,
                              device=device, dtype=dtype),
                       Linear(int(in_features // div_value ** (i + 1)),
                              self.cutoffs[i + 1] - self.cutoffs[i], bias=False, device=device,
                              dtype=dtype))
            for i in range(self.n_clusters)])

    def reset_parameters(self) -> None:
        """Initializes the head and tail layers again, as ``Linear`` does."""
        self.head.reset_parameters()
        for projection in self.tail:
            for layer in projection:
                layer.reset_parameters()

    def forward(self, input_: Tensor, target_: Tensor) -> _ASMoutput:
        if target_.ndim == 1:
            if input_.shape[0] != target_.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch "
                                   "dimension.")
            if input_.ndim != 2:
                raise RuntimeError("1D target tensor expects 2D input tensors, but found inputs "
                                   f"with size {input_.shape}")
        elif target_.ndim == 0:
            if input_.ndim != 1:
                raise RuntimeError("0D target tensor expects 1D input tensors, but found inputs "
                                   f"with size {input_.shape}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target_.ndim > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        output = input.new_zeros(target.shape[0])
        gather = target.new_empty(target.shape[0])
        used = 0
        for i, (low, high) in enumerate(zip([0, *self.cutoffs], self.cutoffs)):
            mask = (target >= low) & (target < high)
            rows = mask.nonzero().squeeze()
            if rows.numel() == 0:
                continue
            if i == 0:
                gather.index_copy_(0, rows, target[mask])
            else:
                cluster = F.log_softmax(self.tail[i - 1](input.index_select(0, rows)), dim=1)
                gather.index_fill_(0, rows, self.shortlist_size + i - 1)
                output.index_copy_(0, rows, cluster.gather(
                    1, (target[mask] - low).unsqueeze(1)).squeeze(1))
            used += rows.numel()
        if used != target.shape[0]:
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but "
                               f"values in range [{target.min().item()}, "
                               f"{target.max().item()}] were found. ")
        head = F.log_softmax(self.head(input), dim=1)
        output = output + head.gather(1, gather.unsqueeze(1)).squeeze()
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        """The log-probability of every class, from ``input`` and its head's output."""
        head = F.log_softmax(head_output, dim=1)
        parts = [head[:, :self.shortlist_size]]
        for i, projection in enumerate(self.tail):
            parts.append(F.log_softmax(projection(input), dim=1)
                         + head[:, self.shortlist_size + i].unsqueeze(1))
        return _ops.cat(parts, 1)

    def log_prob(self, input: Tensor) -> Tensor:
        """The log-probabilities of all ``n_classes`` classes, (N, n_classes)."""
        return self._full_log_prob(input, self.head(input))

    def predict(self, input: Tensor) -> Tensor:
        """The most probable class of each row: ``log_prob(input).argmax(1)``, without the
        tail layers where the head's best is a frequent class."""
        head_output = self.head(input)
        output = head_output.argmax(1)
        rare = output >= self.shortlist_size
        if not rare.any():
            return output
        if rare.all():
            return self._full_log_prob(input, head_output).argmax(1)
        output[rare] = self._full_log_prob(input[rare], head_output[rare]).argmax(1)
        return output


class SmoothL1Loss(_Loss):
    """Squared error below ``beta``, absolute error above it (``reduction`` as ``MSELoss``'s)."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Squared error below ``delta``, ``delta`` times the absolute error above it."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, self.reduction, self.delta)


class SoftMarginLoss(_Loss):
    """Logistic loss of labels in {-1, 1}."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities from a target distribution (``'batchmean'``
    divides by the batch size; ``log_target`` for a target in log space)."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MarginRankingLoss(_Loss):
    """``max(0, -target * (input1 - input2) + margin)``."""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, self.margin,
                                     reduction=self.reduction)


class CosineEmbeddingLoss(MarginRankingLoss):
    """``1 - cos`` for pairs labelled 1, ``max(0, cos - margin)`` for pairs labelled -1."""

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, self.margin,
                                       reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Negative log-likelihood of the target under normals of the input's means and given
    variances (clamped at ``eps``); ``full`` adds the constant term."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, var) -> Tensor:
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class PoissonNLLLoss(_Loss):
    """Negative log-likelihood of counts under Poisson rates ``exp(input)`` (``log_input``)
    or ``input``; ``full`` adds Stirling's term."""

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None,
                 eps: float = 1e-8, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps,
                                  reduction=self.reduction)


class CTCLoss(_Loss):
    """The connectionist temporal classification loss (``F.ctc_loss``), blank index
    ``blank``."""

    def __init__(self, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths: Tensor,
                target_lengths: Tensor) -> Tensor:
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity)


class HingeEmbeddingLoss(_Loss):
    """``input`` where the label is 1, ``max(0, margin - input)`` where it is -1."""

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Logistic loss of each label in {0, 1}, averaged over the labels; ``weight`` rescales
    each label."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_soft_margin_loss(input, target, self.weight,
                                             reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` for the ``p``-norm
    distance ``d``; ``swap`` uses the nearer of the anchor and the positive to the negative."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps,
                                     self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` for a distance function
    ``d`` of two tensors (a ``PairwiseDistance()`` by default)."""

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError("TripletMarginWithDistanceLoss: expected margin to be greater than "
                             f"0, got {margin} instead")
        self.distance_function = (distance_function if distance_function is not None
                                  else PairwiseDistance())
        self.margin, self.swap = margin, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss of scores against class indices (``p`` 1 or 2); ``weight``
    rescales each class."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                 size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.dim() != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got "
                             f"{weight.dim()}D instead")
        self.p, self.margin = p, margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                   reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss of scores against lists of class indices ended by -1."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)

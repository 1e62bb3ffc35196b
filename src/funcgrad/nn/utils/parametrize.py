"""``funcgrad.nn.utils.parametrize``: a module's parameter or buffer computed, each time it is
read, by modules from unconstrained originals, as torch's.

``register_parametrization(module, "weight", P())`` moves ``module.weight`` to
``module.parametrizations.weight.original`` (``original0``, ``original1`` … when ``P``'s
``right_inverse`` gives several tensors) and makes ``weight`` a property of a class made for
that module (``ParametrizedLinear``, a subclass of its class): reading it runs the
parametrizations in order; assigning to it runs their ``right_inverse`` in reverse order and
stores the result in the originals. Within ``with cached():`` each parametrized tensor is
computed once.

>>> import funcgrad
>>> from funcgrad.nn.utils import parametrize
>>> class Symmetric(funcgrad.nn.Module):
...     def forward(self, x):
...         return x.triu() + x.triu(1).T
>>> layer = parametrize.register_parametrization(funcgrad.nn.Linear(3, 3), "weight", Symmetric())
>>> bool((layer.weight == layer.weight.T).all()), type(layer).__name__
(True, 'ParametrizedLinear')
>>> sorted(layer.state_dict())
['bias', 'parametrizations.weight.original']
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Sequence

from ..._grad_mode import no_grad
from ..._tensor import Tensor
from .._modules import Module, ModuleDict, ModuleList, Parameter

__all__ = ["cached", "ParametrizationList", "register_parametrization", "is_parametrized",
           "remove_parametrizations", "type_before_parametrizations",
           "transfer_parametrizations_and_params"]

_cache_depth = 0
_cache: dict[tuple[int, str], Tensor] = {}


@contextlib.contextmanager
def cached():
    """Within it, each parametrized tensor is computed at its first read and then reused (the
    cache empties when the outermost ``with`` ends): for a module whose parametrized weight is
    read many times in one forward, as a recurrent layer's is."""
    global _cache_depth
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache.clear()


def _register_parameter_or_buffer(module: Module, name: str, value: Tensor) -> None:
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _differs(value: Tensor, reference: Tensor) -> str | None:
    """``'dtype'`` or ``'shape'``: the first of them ``value`` does not share with
    ``reference`` (None if neither)."""
    return next((field for field in ("dtype", "shape")
                 if getattr(value, field) != getattr(reference, field)), None)


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor (``module.parametrizations[name]``) and its
    originals: ``original``, or ``original0``, ``original1`` … when the first
    parametrization's ``right_inverse`` gives several tensors. Calling it computes the
    parametrized tensor. ``register_parametrization`` makes it."""

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False
                 ) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new = original
            for module in reversed(self):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new.dtype != original.dtype:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change "
                                 f"the dtype.\noriginal.dtype: {original.dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            with no_grad():
                original.set_(new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, part in enumerate(new):
                if not isinstance(part, Tensor):
                    raise ValueError("'right_inverse' must return a Tensor or a Sequence of "
                                     f"tensors (list, tuple...). Got element {i} of the "
                                     f"sequence with type {type(part).__name__}.")
                if isinstance(original, Parameter):
                    part = Parameter(part, original.requires_grad)
                part.requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", part)
        if not self.unsafe:
            value = self()
            if not isinstance(value, Tensor):
                raise ValueError(
                    f"A parametrization must return a tensor. Got {type(value).__name__}.")
            field = _differs(value, original)
            if field:
                raise ValueError(
                    f"Registering a parametrization may not change the {field} of the tensor, "
                    f"unless `unsafe` flag is enabled.\nunparametrized {field}: "
                    f"{getattr(original, field)}\nparametrized {field}: {getattr(value, field)}")

    def right_inverse(self, value: Tensor) -> None:
        """Stores in the originals what the parametrizations' ``right_inverse``, in reverse
        order, make of ``value``: what assigning to the parametrized tensor does."""
        with no_grad():
            for module in reversed(self):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       "implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(
                        f"`right_inverse` should return a tensor. Got {type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(f"The tensor returned by `right_inverse` has dtype "
                                     f"{value.dtype} while `original` has dtype "
                                     f"{self.original.dtype}")
                self.original.set_(value)
                return
            if not isinstance(value, Sequence):
                raise ValueError("'right_inverse' must return a sequence of tensors. "
                                 f"Got {type(value).__name__}.")
            if len(value) != self.ntensors:
                raise ValueError("'right_inverse' must return a sequence of tensors of length "
                                 f"{self.ntensors}. Got a sequence of length {len(value)}.")
            for i, part in enumerate(value):
                original = getattr(self, f"original{i}")
                if part.dtype != original.dtype:
                    raise ValueError(f"Tensor {i} returned by `right_inverse` has dtype "
                                     f"{part.dtype} while `original{i}` has dtype "
                                     f"{original.dtype}")
                original.set_(part)

    def forward(self) -> Tensor:
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in list(self)[1:]:
            x = module(x)
        return x


def _deepcopy(self, memo: dict):
    """A parametrized module's deep copy (its class refuses to pickle, and deepcopy would)."""
    replica = memo.get(id(self))
    if replica is None:
        replica = memo[id(self)] = self.__new__(type(self))
        replica.__dict__ = copy.deepcopy(self.__dict__, memo)
    return replica


def _refuse_pickling(self):
    raise RuntimeError(
        "Serialization of parametrized modules is only supported through state_dict(). See:\n"
        "https://pytorch.org/tutorials/beginner/saving_loading_models.html"
        "#saving-loading-a-general-checkpoint-for-inference-and-or-resuming-training")


def _inject_new_class(module: Module) -> None:
    """Gives ``module`` a class of its own, ``Parametrized<its class>``, to hold the
    properties of its parametrized tensors."""
    cls = type(module)
    namespace = {"__getstate__": _refuse_pickling}
    if not hasattr(cls, "__deepcopy__"):
        namespace["__deepcopy__"] = _deepcopy
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), namespace)


def _inject_property(module: Module, name: str) -> None:
    """The property ``name`` of ``module``'s own class: read, the parametrized tensor (cached
    within ``cached()``); assigned, the originals through ``right_inverse``."""

    def get(self) -> Tensor:
        parametrization = self.parametrizations[name]
        if not _cache_depth:
            return parametrization()
        key = (id(self), name)
        if key not in _cache:
            _cache[key] = parametrization()
        return _cache[key]

    def set(self, value: Tensor) -> None:
        self.parametrizations[name].right_inverse(value)

    setattr(type(module), name, property(get, set))


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Makes ``module.<tensor_name>`` (a parameter, a buffer, or a tensor parametrized
    already) the output of ``parametrization`` (after those registered before); returns
    ``module``. The first parametrization of a tensor calls its ``right_inverse``, if it has
    one, on the tensor to find the original(s) it stores. ``unsafe``: skip the checks that
    the parametrization keeps the tensor's dtype and shape.

    Raises:
        ValueError: torch's, for a module without such a tensor, or a parametrization that
            returns no tensor or (without ``unsafe``) changes its dtype or shape.
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            before = getattr(module, tensor_name)
            after = parametrization(before)
            if not isinstance(after, Tensor):
                raise ValueError(
                    f"A parametrization must return a tensor. Got {type(after).__name__}.")
            field = _differs(after, before)
            if field:
                raise ValueError(
                    f"Registering a parametrization may not change the {field} of the tensor, "
                    f"unless the `unsafe` flag is enabled.\nmodule.{tensor_name}.{field}: "
                    f"{getattr(before, field)}\nparametrization(module.{tensor_name}).{field}: "
                    f"{getattr(after, field)}")
            try:
                inverse = getattr(parametrization, "right_inverse", lambda x: x)(after)
            except NotImplementedError:
                inverse = after
            if not isinstance(inverse, Tensor):
                raise ValueError("parametrization.right_inverse must return a tensor. Got: "
                                 f"{type(inverse).__name__}")
            field = _differs(inverse, before)
            if field:
                raise ValueError(
                    "The tensor returned by parametrization.right_inverse must have the same "
                    f"{field} as module.{tensor_name}, unless the `unsafe` flag is enabled.\n"
                    f"module.{tensor_name}.{field}: {getattr(before, field)}\n"
                    f"returned {field}: {getattr(inverse, field)}")
        module.parametrizations[tensor_name].append(parametrization)
        module.parametrizations[tensor_name].unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        parametrizations = ParametrizationList([parametrization],
                                               getattr(module, tensor_name), unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has parametrizations (on ``tensor_name``, when given)."""
    parametrizations = getattr(module, "parametrizations", None)
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Makes ``module.<tensor_name>`` a plain parameter or buffer again: its current
    parametrized value (``leave_parametrized``) or its original. When the last
    parametrization goes, so does the module's own class. Returns ``module``.

    Raises:
        ValueError: torch's, when the tensor is not parametrized, or when
            ``leave_parametrized=False`` and it has several originals.
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                original.set_(getattr(module, tensor_name))
    elif leave_parametrized:
        value = getattr(module, tensor_name)
        original = Parameter(value) if value.requires_grad else value
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                         "that is parametrized in terms of a sequence of tensors.")
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The class ``module`` had before it was parametrized (its class, if it is not)."""
    return type(module).__bases__[0] if is_parametrized(module) else type(module)


def transfer_parametrizations_and_params(from_module: Module, to_module: Module,
                                         tensor_name: str | None = None) -> Module:
    """Registers ``from_module``'s parametrizations (of ``tensor_name``, or all) on
    ``to_module`` too, with the same originals (shared), making a parameter of the
    parametrized value where ``to_module`` has none of that name; returns ``to_module``."""
    if not is_parametrized(from_module):
        return to_module
    for name in from_module.parametrizations if tensor_name is None else [tensor_name]:
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name)))
        source = from_module.parametrizations[name]
        for parametrization in source:
            register_parametrization(to_module, name, parametrization)
        target = to_module.parametrizations[name]
        if hasattr(source, "original"):
            target.original = source.original
        else:
            for i in range(source.ntensors):
                setattr(target, f"original{i}", getattr(source, f"original{i}"))
    return to_module

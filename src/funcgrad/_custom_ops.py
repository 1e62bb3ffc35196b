"""torch.library's custom ops: a Python function made an op with its own gradient.

An op's body is opaque to autograd, as torch's is: it runs with grad mode off, and its
gradient is the ``backward`` given to ``register_autograd``. The op is an
``autograd.Function`` generated for it (named as torch names it), applied with the tensor
arguments as its operands. Its backward runs the body again eagerly (JAX recomputes what
``setup_context`` saves), so a body that reads concrete values (numpy, a kernel outside JAX)
works as in torch.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from ._devices import device
from ._grad_mode import is_grad_enabled, no_grad
from ._tensor import Tensor
from .autograd.function import Function
from .autograd.graph import increment_version

_Number = int | float | bool
_SCALARS = {Tensor: "Tensor", int: "SymInt", float: "float", bool: "bool", str: "str",
            np.dtype: "ScalarType", device: "Device", _Number: "Scalar"}
_PARAMETERS = {**_SCALARS, **{t | None: f"{s}?" for t, s in _SCALARS.items()},
               **{list[t]: f"{s}[]" for t, s in _SCALARS.items()},
               **{Sequence[t]: f"{s}[]" for t, s in _SCALARS.items()},
               list[Tensor | None]: "Tensor?[]"}
_RETURNS = {Tensor: "Tensor", list[Tensor]: "Tensor[]", int: "SymInt", float: "float",
            bool: "bool", _Number: "Scalar"}
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")

ops_by_name: dict[str, CustomOpDef] = {}  # qualified name -> the op defined last under it


def infer_schema(prototype_function: Callable, /, *, mutates_args) -> str:
    """torch's schema string of a custom op, from the function's type annotations.

    Args:
        prototype_function: the op's body, with every parameter and the return annotated.
        mutates_args: names of the arguments it changes in place, or ``"unknown"`` (all).

    Returns:
        The schema, as torch writes it (``Tensor(a0!)`` for a mutated argument).

    Raises:
        ValueError: an annotation missing or of a type custom ops do not take.

    >>> import funcgrad
    >>> def scale(x: funcgrad.Tensor, k: float) -> funcgrad.Tensor: ...
    >>> funcgrad.library.infer_schema(scale, mutates_args=())
    '(Tensor x, float k) -> Tensor'
    """
    sig = _signature(prototype_function)

    def fail(what: str):
        raise ValueError(f"infer_schema(func): {what} Got func with signature {sig})")

    mutated = _mutated(sig, mutates_args, fail)
    params, kwonly_started = [], False
    for k, (name, p) in enumerate(sig.parameters.items()):
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            fail("We do not support positional-only args, varargs, or varkwargs.")
        if p.annotation is p.empty:
            fail(f"Parameter {name} must have a type annotation.")
        if p.annotation not in _PARAMETERS:
            fail(f"Parameter {name} has unsupported type {p.annotation}. The valid types are: "
                 f"{_PARAMETERS.keys()}.")
        kind = _PARAMETERS[p.annotation]
        if name in mutated:
            kind = f"Tensor(a{k}!){kind[6:]}"
        if p.kind is p.KEYWORD_ONLY and not kwonly_started:
            params.append("*")
            kwonly_started = True
        default = "" if p.default is p.empty else "=" + (
            f'"{p.default}"' if isinstance(p.default, str) else repr(p.default))
        params.append(f"{kind} {name}{default}")
    return f"({', '.join(params)}) -> {_returns(sig, fail)}"


def _signature(fn: Callable) -> inspect.Signature:
    return inspect.signature(fn, eval_str=True)


def _mutated(sig: inspect.Signature, mutates_args, fail) -> set:
    if mutates_args == "unknown":
        return set(sig.parameters)
    if isinstance(mutates_args, str) or not isinstance(mutates_args, Iterable):
        raise ValueError("mutates_args must either be a sequence of the names of the arguments "
                         "that are mutated or the string 'unknown'. ")
    unknown = set(mutates_args) - set(sig.parameters)
    if unknown:
        fail(f"{unknown} in mutates_args were not found in the custom op's signature. "
             "mutates_args should contain the names of all args that the custom op mutates, "
             "or just the string 'unknown' if you don't know.")
    return set(mutates_args)


def _returns(sig: inspect.Signature, fail) -> str:
    ann = sig.return_annotation
    if ann is sig.empty:
        fail("No return type annotation was provided. Please add one.")
    if ann is None:
        return "()"
    if typing.get_origin(ann) is tuple:
        return f"({', '.join(_return(a, fail) for a in typing.get_args(ann))})"
    return _return(ann, fail)


def _return(ann, fail) -> str:
    if ann not in _RETURNS:
        fail(f"Return has unsupported type {ann}. The valid types are: {_RETURNS}.")
    return _RETURNS[ann]


class _List(tuple):
    """A list argument, as the hashable tuple ``Function.apply`` takes for a constant."""


def _frozen(value):
    return _List(value) if isinstance(value, list) else value


def _thawed(value):
    return list(value) if isinstance(value, _List) else value


def _holds_tensors(value) -> bool:
    return isinstance(value, list) and any(isinstance(v, Tensor) for v in value)


class _Call(typing.NamedTuple):
    """What one call passes the generated Function besides its flat arguments: the kernel,
    the length of each tensor-list argument (None for another argument), the keyword-only
    arguments."""

    kernel: Callable
    lists: tuple
    kwonly: tuple

    def arguments(self, flat: Sequence) -> tuple[list, dict]:
        """The positional arguments from the flat ones, and the keyword-only ones."""
        args, i = [], 0
        for n in self.lists:
            args.append(_thawed(flat[i]) if n is None else list(flat[i:i + n]))
            i += 1 if n is None else n
        return args, {k: _thawed(v) for k, v in self.kwonly}

    def flat(self, per_argument: Sequence) -> tuple:
        """One entry per flat argument, from one per positional argument (a list for a
        tensor-list argument)."""
        return tuple(x for n, v in zip(self.lists, per_argument)
                     for x in ((v,) if n is None else (v or [None] * n)))


class CustomOpDef:
    """A custom op, as ``custom_op`` makes it: callable, with ``register_autograd``,
    ``register_fake`` and ``register_kernel`` to add to it (torch's ``CustomOpDef``)."""

    def __init__(self, namespace: str, name: str, schema: str, fn: Callable) -> None:
        self._namespace, self._name, self._schema = namespace, name, schema
        self._init_fn = fn
        self._signature = _signature(fn)
        if any(p.kind is p.KEYWORD_ONLY and "Tensor" in _PARAMETERS.get(p.annotation, "")
               for p in self._signature.parameters.values()):
            raise NotImplementedError(
                "custom_op with kwarg-only Tensor args. Please make your tensors not "
                f"kwarg-only. Got: {name}{schema}")
        self._kernels: dict[str | None, Callable] = {}
        self._abstract_fn: Callable | None = None
        self._backward_fn: Callable | None = None
        self._setup_context_fn: Callable | None = None
        self._function = _generated_function(self)
        ops_by_name[self._qualname] = self

    @property
    def _qualname(self) -> str:
        return f"{self._namespace}::{self._name}"

    def __repr__(self) -> str:
        return f"<CustomOpDef({self._qualname})>"

    def _mutable(self) -> bool:
        return "!)" in self._schema

    def register_kernel(self, device_types, fn: Callable | None = None, /) -> Callable:
        """Registers ``fn`` as the op's body for tensors on ``device_types`` ('cpu', 'cuda',
        a sequence of them, or None for every device); a decorator when ``fn`` is left out.
        The device of the first tensor argument chooses."""

        def register(fn: Callable) -> Callable:
            kinds = [device_types] if device_types is None or isinstance(device_types, str) \
                else list(device_types)
            for kind in kinds:
                self._kernels[kind] = fn
            return fn

        return register if fn is None else register(fn)

    def register_fake(self, fn: Callable, /) -> Callable:
        """Keeps ``fn``, the op's shape rule for torch.compile: funcgrad traces the body
        itself with JAX, so it never calls it."""
        self._abstract_fn = fn
        return fn

    def register_autograd(self, backward: Callable, /, *,
                          setup_context: Callable | None = None) -> None:
        """Gives the op a gradient: ``setup_context(ctx, inputs, output)`` runs after the
        body (with ``keyword_only_inputs`` before ``output`` when the op has keyword-only
        parameters) and saves on ``ctx`` what ``backward(ctx, *grads)`` needs; ``backward``
        returns one gradient per positional input (None for a non-tensor)."""
        if self._mutable():
            raise RuntimeError(
                f"Cannot register autograd formula for non-functional operator {self} with "
                f"schema {self._qualname}{self._schema}. Please create a functional operator "
                "and register an autograd formula for that.")
        self._backward_fn, self._setup_context_fn = backward, setup_context

    def __call__(self, *args, **kwargs):
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        positional = [v for k, v in bound.arguments.items()
                      if self._signature.parameters[k].kind is not inspect.Parameter.KEYWORD_ONLY]
        kwonly = {k: v for k, v in bound.arguments.items()
                  if self._signature.parameters[k].kind is inspect.Parameter.KEYWORD_ONLY}
        tensors = [t for v in positional for t in (v if _holds_tensors(v) else [v])
                   if isinstance(t, Tensor)]
        kernel = self._kernel(tensors)
        if self._mutable():
            return self._mutate(kernel, bound, positional, kwonly)
        if not (is_grad_enabled() and any(t.requires_grad for t in tensors)):
            with no_grad():
                return _checked(self, kernel, positional, kwonly)
        call = _Call(kernel, tuple(len(v) if _holds_tensors(v) else None for v in positional),
                     tuple((k, _frozen(v)) for k, v in kwonly.items()))
        out = self._function.apply(*call.flat([_frozen(v) for v in positional]), call)
        return list(out) if self._signature.return_annotation == list[Tensor] else out

    def _kernel(self, tensors: list) -> Callable:
        kind = tensors[0].device.type if tensors else "cpu"
        kernel = self._kernels.get(kind, self._kernels.get(None))
        if kernel is None:
            raise NotImplementedError(
                f"Could not run '{self._qualname}' with arguments from the '{kind.upper()}' "
                f"backend. It has kernels for {sorted(self._kernels)} only: add one with "
                "register_kernel.")
        return kernel

    def _mutate(self, kernel: Callable, bound, positional: list, kwonly: dict):
        with no_grad():
            out = _checked(self, kernel, positional, kwonly)
        for name, value in bound.arguments.items():
            if f"!) {name}" in self._schema:
                increment_version([t for t in (value if _holds_tensors(value) else [value])
                                   if isinstance(t, Tensor)])
        return out


def _checked(op: CustomOpDef, kernel: Callable, args: list, kwargs: dict):
    """``kernel``'s output, which (as torch requires) is none of its inputs."""
    out = kernel(*args, **kwargs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    inputs = [t for v in args for t in (v if isinstance(v, list) else [v])]
    if any(o is t for o in outs if isinstance(o, Tensor) for t in inputs):
        raise RuntimeError(
            f"{op._name} (with implementation in {inspect.getmodule(kernel)}): The output of "
            "this custom operator (1) must not also be an input to this custom operator and "
            "(2) may not alias any inputs to this custom operator or other returns. The most "
            "common way to trigger this error is if we have y = custom_op(x) and y and x are "
            "the same Tensor. Please instead return a clone of the offending output tensor(s) "
            "(e.g. return x.clone()) or refactor the custom operator to not return y.")
    return tuple(out) if isinstance(out, list) else out


def _generated_function(op: CustomOpDef) -> type:
    """The ``autograd.Function`` that applies ``op``: its flat arguments end with the
    ``_Call``; its backward is the registered one, or raises as torch's does without one."""
    kwonly = any(p.kind is p.KEYWORD_ONLY for p in op._signature.parameters.values())

    def forward(ctx, *flat):
        call = flat[-1]
        args, kwargs = call.arguments(flat[:-1])
        out = _checked(op, call.kernel, args, kwargs)
        ctx.call = call
        if op._setup_context_fn is not None:
            extra = {"keyword_only_inputs": kwargs} if kwonly else {}
            op._setup_context_fn(ctx=ctx, inputs=tuple(args), **extra, output=out)
        return out

    def backward(ctx, *grads):
        if op._backward_fn is None:
            raise RuntimeError(
                f"Trying to backward through {op._namespace}.{op._name}.default but no "
                "autograd formula was registered. Please use register_autograd to add one.")
        call, needs = ctx.call, ctx.needs_input_grad
        ctx.needs_input_grad = tuple(call.arguments(needs[:-1])[0])
        result = op._backward_fn(ctx, *grads)
        ctx.needs_input_grad = needs
        result = result if isinstance(result, tuple) else (result,)
        flat = call.flat(result) if len(result) == len(call.lists) else result
        return (*flat, None)

    name = f"GeneratedBackwardFor_{op._namespace}_{op._name}_default"
    return type(name, (Function,), {"forward": staticmethod(forward),
                                    "backward": staticmethod(backward), "_compiled": False})


def custom_op(name: str, fn: Callable | None = None, /, *, mutates_args,
              device_types=None, schema: str | None = None):
    """Makes ``fn`` an op named ``"namespace::name"``, reachable also as
    ``funcgrad.ops.namespace.name``; a decorator when ``fn`` is left out.

    Args:
        name: ``"namespace::name"``.
        fn: the op's body, every parameter and the return annotated.
        mutates_args: names of the arguments the body changes in place (their versions
            advance), or ``"unknown"``.
        device_types: the devices ``fn`` is the body for ('cpu', 'cuda'); None for all.
        schema: torch's schema string, inferred from the annotations when None.

    Returns:
        The op (a ``CustomOpDef``).

    >>> import funcgrad
    >>> @funcgrad.library.custom_op("doc::twice", mutates_args=())
    ... def twice(x: funcgrad.Tensor) -> funcgrad.Tensor:
    ...     return x * 2
    >>> twice.register_autograd(lambda ctx, grad: grad * 2)
    >>> x = funcgrad.tensor(1.0, requires_grad=True)
    >>> y = funcgrad.ops.doc.twice(x)
    >>> y
    tensor(2., grad_fn=<GeneratedBackwardFor_doc_twice_defaultBackward>)
    >>> y.backward(); x.grad
    tensor(2.)
    """

    def make(fn: Callable) -> CustomOpDef:
        text = infer_schema(fn, mutates_args=mutates_args) if schema is None else schema
        namespace, opname = name.split("::")
        if not (_IDENTIFIER.fullmatch(namespace) and _IDENTIFIER.fullmatch(opname)):
            raise RuntimeError(f"custom op names look like 'namespace::name' with both parts "
                               f"Python identifiers, got {name!r}")
        op = CustomOpDef(namespace, opname, text, fn)
        op.register_kernel(device_types, fn)
        return op

    return make if fn is None else make(fn)


def _opdef(op) -> CustomOpDef:
    if isinstance(op, (CustomOpDef, _OpOverload)):
        return op._op if isinstance(op, _OpOverload) else op
    if op not in ops_by_name:
        raise RuntimeError(f"operator {op} does not exist")
    return ops_by_name[op]


def register_autograd(op, backward: Callable, /, *, setup_context: Callable | None = None,
                      lib=None) -> None:
    """``op.register_autograd(backward, setup_context=...)`` for an op or its name.

    >>> import funcgrad
    >>> @funcgrad.library.custom_op("doc::cube", mutates_args=())
    ... def cube(x: funcgrad.Tensor) -> funcgrad.Tensor:
    ...     return x ** 3
    >>> def setup(ctx, inputs, output):
    ...     ctx.save_for_backward(inputs[0])
    >>> def backward(ctx, grad):
    ...     (x,) = ctx.saved_tensors
    ...     return grad * 3 * x ** 2
    >>> funcgrad.library.register_autograd("doc::cube", backward, setup_context=setup)
    >>> x = funcgrad.tensor(2.0, requires_grad=True)
    >>> funcgrad.autograd.grad(cube(x), x)
    (tensor(12.),)
    """
    if isinstance(op, str):
        namespace, name = op.split("::")
        op = getattr(getattr(ops, namespace), name)
    _opdef(op).register_autograd(backward, setup_context=setup_context)


def register_fake(op, fn: Callable | None = None, /, *, lib=None, _stacklevel: int = 1):
    """``op.register_fake(fn)`` for an op or its name; a decorator when ``fn`` is left out.

    >>> import funcgrad
    >>> @funcgrad.library.custom_op("doc::neg", mutates_args=())
    ... def neg(x: funcgrad.Tensor) -> funcgrad.Tensor:
    ...     return -x
    >>> @funcgrad.library.register_fake("doc::neg")
    ... def _(x):
    ...     return funcgrad.empty_like(x)
    """
    opdef = _opdef(op)
    return opdef.register_fake if fn is None else opdef.register_fake(fn)


def register_kernel(op, device_types, fn: Callable | None = None, /, *, lib=None):
    """``op.register_kernel(device_types, fn)`` for an op or its name.

    >>> import funcgrad
    >>> @funcgrad.library.custom_op("doc::half", mutates_args=())
    ... def half(x: funcgrad.Tensor) -> funcgrad.Tensor:
    ...     return x / 2
    >>> @funcgrad.library.register_kernel("doc::half", "cpu")
    ... def _(x):
    ...     return x * 0.5
    >>> half(funcgrad.tensor(3.0))
    tensor(1.5000)
    """
    return _opdef(op).register_kernel(device_types, fn)


class _OpOverload:
    """``funcgrad.ops.namespace.name`` (torch's overload packet) or its ``.default``."""

    def __init__(self, op: str, overload: str | None) -> None:
        self._qualified_op_name, self._overloadname = op, overload

    @property
    def _op(self) -> CustomOpDef:
        return ops_by_name[self._qualified_op_name]

    @property
    def default(self) -> _OpOverload:
        return _OpOverload(self._qualified_op_name, "default")

    def __getattr__(self, name: str):
        raise AttributeError(f"The underlying op of '{self}' has no overload name '{name}'")

    def __call__(self, *args, **kwargs):
        return self._op(*args, **kwargs)

    def __str__(self) -> str:
        name = self._qualified_op_name.replace("::", ".")
        return name if self._overloadname is None else f"{name}.{self._overloadname}"

    def __repr__(self) -> str:
        return str(self) if self._overloadname is None else (
            f"<OpOverload(op='{self._qualified_op_name.replace('::', '.')}', "
            f"overload='{self._overloadname}')>")


class _OpNamespace(types.ModuleType):
    """``funcgrad.ops.namespace``: its custom ops as attributes."""

    def __getattr__(self, name: str) -> _OpOverload:
        qualified = f"{self.__name__}::{name}"
        if name.startswith("__") or qualified not in ops_by_name:
            raise AttributeError(
                f"'_OpNamespace' '{self.__name__}' object has no attribute '{name}'")
        return _OpOverload(qualified, None)


class _Ops(types.ModuleType):
    """``funcgrad.ops``: one namespace per custom ops' namespace, made on first use."""

    def __getattr__(self, name: str) -> _OpNamespace:
        if name.startswith("__"):
            raise AttributeError(name)
        namespace = _OpNamespace(name)
        setattr(self, name, namespace)
        return namespace


ops = _Ops("funcgrad.ops", "torch.ops's place: ``funcgrad.ops.namespace.name`` is a custom op.")

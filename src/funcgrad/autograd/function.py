"""``funcgrad.autograd.Function``: user-defined forward and backward, as in torch.

A Function becomes a ``jax.custom_vjp`` whose backward calls the user's ``backward``. That one
function is then an op like any other: the stateful engine records it (its VJP is the user's
backward), and under ``funcgrad.grad``, ``vmap`` or ``jit`` JAX uses the same custom rule. The
user's backward is written with funcgrad ops, so it is itself differentiable: ``create_graph``
and nested ``grad`` see through it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from .. import _autocast, _forward_ad
from .._factories import zeros_like
from .._grad_mode import no_grad
from .._graph import Op, record, torch_convention
from .._tensor import Tensor
from .._tensor import arrays as _arrays


class FunctionCtx:
    """The ``ctx`` handed to ``forward`` and ``backward``; attributes set on it in ``forward``
    (numbers, strings, shapes) reach ``backward``; tensors go through ``save_for_backward``."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors) -> None:
        """Keeps tensors (or None) for ``backward`` as ``ctx.saved_tensors``."""
        self.saved_tensors = tensors

    def save_for_forward(self, *tensors) -> None:
        """Keeps tensors (or None) for ``jvp`` (forward-mode AD) as ``ctx.saved_tensors``."""
        self.saved_for_forward = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for torch compatibility: gradients reaching ``backward`` are always
        materialized (zeros, never None)."""
        self.materialize_grads = value

    def mark_non_differentiable(self, *tensors) -> None:
        """Accepted for torch compatibility: integer outputs never carry gradients here."""


class _Opaque:
    """Python-side attributes of a ctx, carried through JAX as static tree data."""

    def __init__(self, attrs: dict) -> None:
        self.attrs = attrs


def _ctx_flatten(ctx: FunctionCtx):
    saved = tuple(t._read() if isinstance(t, Tensor) else t for t in ctx.saved_tensors)
    attrs = {k: v for k, v in vars(ctx).items() if k != "saved_tensors"}
    return (saved,), _Opaque(attrs)


def _ctx_unflatten(static: _Opaque, children) -> FunctionCtx:
    ctx = FunctionCtx.__new__(FunctionCtx)
    vars(ctx).update(static.attrs)
    ctx.saved_tensors = tuple(None if a is None else Tensor._wrap(a) for a in children[0])
    return ctx


# The ctx is the residual of the custom VJP: its saved tensors are the leaves.
jax.tree_util.register_pytree_node(FunctionCtx, _ctx_flatten, _ctx_unflatten)


def _is_operand(a) -> bool:
    return isinstance(a, (Tensor, jax.Array, np.ndarray))


_NO_JVP = ("You must implement the jvp function for custom autograd.Function to use it with "
           "forward mode AD.")


class Function:
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``, then call
    ``MyFunction.apply(*args)``. ``backward`` returns one gradient (or None) per argument of
    ``forward``. Or, as torch recommends for use with ``torch.func``, a ``forward(*args)``
    without ``ctx`` and a ``setup_context(ctx, inputs, output)`` that saves what backward
    needs (``inputs``: the arguments, ``output``: what ``forward`` returned).

    >>> import funcgrad
    >>> class Exp(funcgrad.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         y = x.exp()
    ...         ctx.save_for_backward(y)
    ...         return y
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (y,) = ctx.saved_tensors
    ...         return grad * y
    >>> x = funcgrad.tensor(0.0, requires_grad=True)
    >>> y = Exp.apply(x)
    >>> y
    tensor(1., grad_fn=<ExpBackward>)
    >>> y.backward(); x.grad
    tensor(1.)
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any) -> Any:
        raise NotImplementedError("a Function subclass must define a static forward(ctx, ...)")

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: Any) -> Any:
        """Overridden, it makes ``forward`` a function of the arguments alone, and sets up
        ``ctx`` from them and ``forward``'s output."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("a Function subclass must define a static backward(ctx, ...)")

    @staticmethod
    def jvp(ctx: FunctionCtx, *grad_inputs: Any) -> Any:
        """Forward-mode AD (``autograd.forward_ad``): the tangents of the outputs, given one
        per argument of ``forward`` (zeros for a tensor without one, None for a non-tensor).
        ``ctx`` holds what ``forward`` saved with ``save_for_forward`` as ``saved_tensors``."""
        raise NotImplementedError(_NO_JVP)

    # False for a forward that reads concrete values (numpy, a kernel outside JAX): the engine
    # then runs it again eagerly for the VJP, not compiled.
    _compiled = True

    @classmethod
    def apply(cls, *args):
        """Runs ``forward`` and records ``backward`` as its gradient; returns its output(s).
        Inside a dual level, ``jvp`` gives dual outputs their tangents."""
        dual = bool(_forward_ad.tangents) and any(
            isinstance(a, Tensor) and _forward_ad.tangent_of(a) is not None for a in args)
        if dual and cls.jvp is Function.jvp:
            raise NotImplementedError(_NO_JVP)
        outputs = cls._apply(args)
        if dual:
            _give_tangents(cls, args, outputs)
        return outputs

    @classmethod
    def _apply(cls, args: tuple):
        layout = tuple(_is_operand(a) for a in args)
        consts = tuple(a for a, is_op in zip(args, layout) if not is_op)
        try:
            hash(consts)
        except TypeError:
            raise TypeError(
                f"{cls.__name__}.apply: arguments that are not tensors must be hashable "
                f"(numbers, strings, tuples), got {[type(c).__name__ for c in consts]}. Pass "
                "tuples instead of lists, or tensors for array data."
            ) from None
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        fn = _custom_vjp(cls, layout, consts, needs, _autocast.regions())
        operands = tuple(a for a, is_op in zip(args, layout) if is_op)
        arrays = tuple(a._read() if isinstance(a, Tensor) else a for a in operands)
        out = fn(*arrays)
        if isinstance(out, tuple):
            return tuple(record(_output_op(cls, fn, k), operands, arrays, o, {})
                         for k, o in enumerate(out))
        return record(_output_op(cls, fn, None), operands, arrays, out, {})


def _give_tangents(cls: type, args: tuple, outputs) -> None:
    """Sets the tangents ``cls.jvp`` gives ``outputs``, with a ``ctx`` from running ``forward``
    again (as torch does, without a graph): one more run of it, and no tangents of its own ops."""
    needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
    ctx = FunctionCtx(needs)
    with _forward_ad.pause():
        with no_grad():
            _forward(cls, ctx, args)
        ctx.saved_tensors = getattr(ctx, "saved_for_forward", ())
        tangents = cls.jvp(ctx, *(
            None if not isinstance(a, Tensor) else
            zeros_like(a) if _forward_ad.tangent_of(a) is None else _forward_ad.tangent_of(a)
            for a in args))
    tangents = tangents if isinstance(tangents, tuple) else (tangents,)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    if len(tangents) != len(outputs):
        raise RuntimeError(f"function {cls.__name__}.jvp returned an incorrect number of "
                           f"tangents (expected {len(outputs)}, got {len(tangents)})")
    for out, tangent in zip(outputs, tangents):
        if tangent is not None:
            _forward_ad.set_tangent(out, tangent)


def _forward(cls: type, ctx: FunctionCtx, args) -> Any:
    """``cls.forward`` on ``args``, setting ``ctx`` up: in it, or after it by
    ``setup_context`` where the Function defines one (torch's two styles)."""
    if cls.setup_context is Function.setup_context:
        return cls.forward(ctx, *args)
    out = cls.forward(*args)
    cls.setup_context(ctx, tuple(args), out)
    return out


@functools.lru_cache(maxsize=1024)
def _output_op(cls: type, fn, k: int | None) -> Op:
    select = fn if k is None else lambda *arrays: fn(*arrays)[k]
    return Op(f"{cls.__name__}.apply", select, f"{cls.__name__}Backward", compiled=cls._compiled)


@functools.lru_cache(maxsize=1024)
def _custom_vjp(cls: type, layout: tuple, consts: tuple, needs: tuple, regions: tuple):
    """``forward`` as a function of the tensor arguments' arrays, with ``backward`` as its VJP.
    ``forward`` runs in the autocast ``regions`` it was applied in, also when the engine runs
    it again for the VJP; each gradient ``backward`` gives is cast to its input's dtype, as
    torch's engine casts it."""

    def arguments(arrays) -> list:
        it_arrays, it_consts = iter(arrays), iter(consts)
        return [Tensor._wrap(next(it_arrays)) if is_op else next(it_consts) for is_op in layout]

    def forward(*arrays):
        ctx = FunctionCtx(needs)
        with no_grad(), _autocast.traced(regions):
            out = _forward(cls, ctx, arguments(arrays))
        ctx._input_dtypes = tuple(a.dtype for a in arrays)
        return _arrays(out), ctx

    def backward(ctx: FunctionCtx, cts):
        cts = cts if isinstance(cts, tuple) else (cts,)
        # The user's backward takes and gives complex gradients in torch's convention.
        grads = cls.backward(ctx, *(torch_convention(Tensor._wrap(c)) for c in cts))
        grads = grads if isinstance(grads, tuple) else (grads,)
        if len(grads) != len(layout):
            raise RuntimeError(
                f"function {cls.__name__}Backward returned an incorrect number of gradients "
                f"(expected {len(layout)}, got {len(grads)})"
            )
        grads = [g for g, is_op in zip(grads, layout) if is_op]
        return tuple(None if g is None else
                     _arrays(torch_convention(g) if isinstance(g, Tensor) else g).astype(dtype)
                     for g, dtype in zip(grads, ctx._input_dtypes))

    fn = jax.custom_vjp(lambda *arrays: forward(*arrays)[0])
    fn.defvjp(forward, backward)
    return fn


def once_differentiable(backward: Callable) -> Callable:
    """Marks a Function's ``backward`` as not differentiable itself: its result is a gradient
    as usual, but differentiating it again raises, as in torch.

    >>> import funcgrad
    >>> class Cube(funcgrad.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     @funcgrad.autograd.once_differentiable
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return grad * 3 * x ** 2
    >>> x = funcgrad.tensor(2.0, requires_grad=True)
    >>> (g,) = funcgrad.autograd.grad(Cube.apply(x), x, create_graph=True)
    >>> g.backward()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    RuntimeError: trying to differentiate twice a function that was marked with ...
    """

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        leaves, treedef = jax.tree_util.tree_flatten((ctx, grads))

        @jax.custom_vjp
        def run(*leaves):
            inner_ctx, inner_grads = jax.tree_util.tree_unflatten(treedef, leaves)
            return _arrays(backward(inner_ctx, *inner_grads))

        def refuse(*_):
            raise RuntimeError(
                "trying to differentiate twice a function that was marked with "
                "@once_differentiable"
            )

        run.defvjp(lambda *leaves: (run(*leaves), None), refuse)
        return jax.tree_util.tree_map(Tensor._wrap, run(*leaves))

    return wrapper

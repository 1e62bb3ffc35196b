"""The functional face: JAX's transforms with JAX's signatures, over Tensors too.

Arguments and results may be Tensors, arrays, Python numbers or pytrees of them. A Tensor is a
pytree, so inside a transform the function sees Tensors wrapping JAX tracers and can use the
stateful API (``funcgrad.sin(x ** 2)``, ``x.sum()``). Results mirror the inputs: if any input
was a Tensor, every array in the result is a Tensor.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import custom_jvp as custom_jvp  # Tensors are pytrees, so JAX's own work as they are
from jax import custom_vjp as custom_vjp

from . import _autocast
from ._control_flow import _output_op, _outside_reads
from ._factories import default_generator
from ._grad_mode import is_grad_enabled, no_grad
from ._graph import record
from ._tensor import Tensor
from ._tensor import arrays as _arrays
from ._tensor import is_tensor as _is_tensor


def _has_tensor(tree) -> bool:
    return any(map(_is_tensor, jax.tree_util.tree_leaves(tree, is_leaf=_is_tensor)))


def _mirror(tree, as_tensors: bool):
    """Tensor in, Tensor out: boxes every array of the result when an input was a Tensor."""
    tree = _arrays(tree)
    if not as_tensors:
        return tree
    return jax.tree_util.tree_map(
        lambda x: Tensor._wrap(x) if isinstance(x, (jax.Array, np.ndarray)) else x, tree)


def _boxed_like(template, tree):
    """``tree`` (``template`` with arrays for Tensors), boxed again where ``template`` had a
    Tensor: so a function that JAX calls on arrays still sees the Tensors it was given."""
    return jax.tree_util.tree_map(lambda t, a: Tensor._wrap(a) if _is_tensor(t) else a,
                                  template, tree, is_leaf=_is_tensor)


def _check_argnums(argnums) -> None:
    nums = (argnums,) if isinstance(argnums, int) else argnums
    if not isinstance(nums, Sequence) or not all(isinstance(i, int) for i in nums):
        raise TypeError(
            f"argnums must be an int or a tuple of ints, got {argnums!r}. Pass the positions "
            "of the arguments to differentiate, e.g. argnums=0 or argnums=(0, 1)."
        )


def _check_argnums_fit(fun_name: str, argnums, args: tuple) -> None:
    nums = (argnums,) if isinstance(argnums, int) else argnums
    for i in nums:
        if not -len(args) <= i < len(args):
            raise ValueError(
                f"{fun_name}: argnums={argnums!r} asks for argument {i}, but the function was "
                f"called with {len(args)} positional argument(s). Pass an argnums within "
                f"range({len(args)}), or pass the argument positionally."
            )


def _check_inexact(fun_name: str, argnums, args: tuple) -> None:
    nums = (argnums,) if isinstance(argnums, int) else argnums
    for i in nums:
        for leaf in jax.tree_util.tree_leaves(_arrays(args[i])):
            dtype = jnp.result_type(leaf)
            if not jnp.issubdtype(dtype, jnp.inexact):
                raise TypeError(
                    f"{fun_name} requires floating-point inputs to differentiate, but argument "
                    f"{i} has dtype {dtype}. Convert it with .float() (or pass a float literal "
                    "such as 3.0 instead of 3), or leave it out of argnums."
                )


def _scalar_output(fun_name: str, out) -> jax.Array:
    value = out._read() if _is_tensor(out) else out
    shape = np.shape(value)
    if not isinstance(value, (jax.Array, np.ndarray, float, int)) or shape != ():
        raise TypeError(
            f"{fun_name} needs a function that returns a scalar, but it returned a value of "
            f"shape {shape if shape else type(out).__name__}. Reduce it to a scalar (e.g. "
            "out.sum() or out.mean()), or use jacrev/jacfwd for the full Jacobian."
        )
    return value


def value_and_grad(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
                   **jax_kwargs) -> Callable:
    """``fun``'s value and its gradient with respect to the arguments at ``argnums``.

    Args:
        fun: a function returning a scalar (or ``(scalar, aux)`` with ``has_aux``).
        argnums: which positional arguments to differentiate.
        has_aux: whether ``fun`` returns auxiliary data alongside the scalar.
        **jax_kwargs: passed to ``jax.value_and_grad`` (``holomorphic``, ``allow_int``).

    Returns:
        A function returning ``(value, grad)`` or ``((value, aux), grad)``.

    Raises:
        TypeError: for a bad ``argnums``, integer inputs, or a non-scalar output.

    >>> import funcgrad
    >>> funcgrad.value_and_grad(lambda x: (x ** 2).sum())(funcgrad.tensor([1.0, 2.0]))
    (tensor(5.), tensor([2., 4.]))
    """
    return _value_and_grad("value_and_grad", fun, argnums, has_aux, jax_kwargs)


def _value_and_grad(transform: str, fun: Callable, argnums, has_aux: bool,
                    jax_kwargs: dict) -> Callable:
    """``value_and_grad``, its errors naming ``transform``: the function the user called."""
    _check_argnums(argnums)
    name = getattr(fun, "__name__", "fun")

    def scalar_fun(*args, **kwargs):
        out = fun(*args, **kwargs)
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError(
                    f"{transform} with has_aux=True needs a function that returns a pair "
                    f"(output, aux), but {name} returned {type(out).__name__}. Return a tuple, "
                    "or drop has_aux."
                )
            return _scalar_output(transform, out[0]), _arrays(out[1])
        return _scalar_output(transform, out), None

    run = _joining_graph(jax.value_and_grad(scalar_fun, argnums, has_aux=True, **jax_kwargs),
                         transform, "GradBackward0")

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        _check_argnums_fit(transform, argnums, args)
        if not jax_kwargs.get("allow_int", False):
            _check_inexact(transform, argnums, args)
        (value, aux), g = run(args, kwargs)
        return ((value, aux) if has_aux else value), g

    return wrapped


def grad(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
         **jax_kwargs) -> Callable:
    """The gradient of a scalar function, as ``jax.grad``; Tensor in, Tensor out.

    Args:
        fun: a function returning a scalar (or ``(scalar, aux)`` with ``has_aux``).
        argnums: which positional arguments to differentiate.
        has_aux: whether ``fun`` returns auxiliary data alongside the scalar.
        **jax_kwargs: passed to ``jax.grad`` (``holomorphic``, ``allow_int``).

    Returns:
        A function returning the gradient (and aux, with ``has_aux``).

    Raises:
        TypeError: for a bad ``argnums``, integer inputs, or a non-scalar output.

    >>> import funcgrad
    >>> funcgrad.grad(lambda x: funcgrad.sin(x ** 2))(funcgrad.tensor(4.0))
    tensor(-7.6613)
    """
    vg = _value_and_grad("grad", fun, argnums, has_aux, jax_kwargs)

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        (value_or_pair, g) = vg(*args, **kwargs)
        return (g, value_or_pair[1]) if has_aux else g

    return wrapped


def vjp(fun: Callable, *primals, has_aux: bool = False):
    """``fun``'s output and a function mapping an output cotangent to input cotangents.

    >>> import funcgrad
    >>> out, pullback = funcgrad.vjp(funcgrad.sin, funcgrad.tensor(0.0))
    >>> pullback(funcgrad.tensor(1.0))
    (tensor(1.),)
    """
    tensors = _has_tensor(primals)
    result = jax.vjp(lambda *a: _arrays(fun(*a)), *primals, has_aux=has_aux)
    out, pullback = result[0], result[1]

    def tensor_pullback(ct):
        return _mirror(pullback(_arrays(ct)), tensors)

    if has_aux:
        return _mirror(out, tensors), tensor_pullback, _mirror(result[2], tensors)
    return _mirror(out, tensors), tensor_pullback


def jvp(fun: Callable, primals: Sequence, tangents: Sequence, has_aux: bool = False):
    """``fun``'s output and its directional derivative along ``tangents``.

    >>> import funcgrad
    >>> funcgrad.jvp(lambda x: x ** 2, (funcgrad.tensor(3.0),), (funcgrad.tensor(1.0),))
    (tensor(9.), tensor(6.))
    """
    tensors = _has_tensor((primals, tangents))
    primals = tuple(primals)
    # JAX needs primals and tangents of one structure, so both go in as arrays (a Tensor primal
    # may come with an array tangent); fun still gets its Tensors back.
    out = jax.jvp(lambda *a: _arrays(fun(*_boxed_like(primals, a))), tuple(_arrays(primals)),
                  tuple(_arrays(tuple(tangents))), has_aux=has_aux)
    return tuple(_mirror(o, tensors) for o in out)


def linearize(fun: Callable, *primals):
    """``fun(*primals)`` and the function mapping tangents of ``primals`` to the directional
    derivative there (``jax.linearize``: the forward pass is run once, not per tangent).

    >>> import funcgrad
    >>> out, jvp_fn = funcgrad.func.linearize(lambda x: x.sin(), funcgrad.tensor(0.0))
    >>> jvp_fn(funcgrad.tensor(2.0))
    tensor(2.)
    """
    tensors = _has_tensor(primals)
    out, linear = jax.linearize(lambda *a: _arrays(fun(*_boxed_like(primals, a))),
                                *_arrays(primals))
    return _mirror(out, tensors), lambda *tangents: _mirror(linear(*_arrays(tangents)), tensors)


def _jacobian(jax_transform: Callable, fun: Callable, argnums, has_aux: bool, **kwargs):
    _check_argnums(argnums)
    inner = jax_transform(lambda *a, **k: _arrays(fun(*a, **k)), argnums=argnums,
                          has_aux=has_aux, **kwargs)
    name = jax_transform.__name__
    run = _joining_graph(inner, name, f"{name.capitalize()}Backward0")

    @functools.wraps(fun)
    def wrapped(*args, **kw):
        _check_argnums_fit(name, argnums, args)
        _check_inexact(name, argnums, args)
        return run(args, kw)

    return wrapped


def jacrev(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
           **kwargs) -> Callable:
    """The Jacobian by reverse mode, as ``jax.jacrev``.

    >>> import funcgrad
    >>> funcgrad.jacrev(lambda x: x ** 2)(funcgrad.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    return _jacobian(jax.jacrev, fun, argnums, has_aux, **kwargs)


def jacfwd(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
           **kwargs) -> Callable:
    """The Jacobian by forward mode, as ``jax.jacfwd``.

    >>> import funcgrad
    >>> funcgrad.jacfwd(lambda x: x.sum() * x)(funcgrad.tensor([1.0, 2.0]))
    tensor([[4., 1.],
            [2., 5.]])
    """
    return _jacobian(jax.jacfwd, fun, argnums, has_aux, **kwargs)


def hessian(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
            **kwargs) -> Callable:
    """The Hessian of a scalar function, as ``jax.hessian``.

    >>> import funcgrad
    >>> funcgrad.hessian(lambda x: (x ** 3).sum())(funcgrad.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    return _jacobian(jax.hessian, fun, argnums, has_aux, **kwargs)


def vmap(fun: Callable, in_axes: Any = 0, out_axes: Any = 0, **kwargs) -> Callable:
    """Maps ``fun`` over an axis of its inputs, as ``jax.vmap``; Tensors are mapped like arrays.

    In grad mode, when a Tensor argument or a tensor ``fun`` reads from outside (its closure:
    parameters, buffers) requires grad, the results are recorded as one op
    (``VmapBackward0``), so gradients flow back to those tensors, as through torch.func.vmap.
    That op runs ``fun`` without grad mode (JAX differentiates it whole).

    >>> import funcgrad
    >>> funcgrad.vmap(lambda row: row.sum())(funcgrad.ones(2, 3))
    tensor([3., 3.])
    >>> w = funcgrad.tensor([1.0, 2.0], requires_grad=True)
    >>> y = funcgrad.vmap(lambda row: (row * w).sum())(funcgrad.ones(3, 2))
    >>> y.sum().backward(); y, w.grad
    (tensor([3., 3., 3.], grad_fn=<VmapBackward0>), tensor([3., 3.]))
    """
    inner = jax.vmap(lambda *a, **k: _arrays(fun(*a, **k)), in_axes, out_axes, **kwargs)
    run = _joining_graph(inner, "vmap", "VmapBackward0")

    @functools.wraps(fun)
    def wrapped(*args, **kw):
        return run(args, kw)

    return wrapped


def _joining_graph(inner: Callable, name: str, grad_fn: str) -> Callable:
    """``inner`` (a JAX transform of a function of Tensors, returning arrays) as a function of
    ``(args, kwargs)`` whose results are mirrored and, in grad mode, join the graph as the
    outputs of one op where a gradient can flow (``_recorded``): the tensors the function
    reads from outside are found while it runs."""
    ops: dict = {}

    def call(captured: Sequence, rebuild: Callable):
        with _outside_reads(name, captured, skip=_generator()):
            args, kwargs = rebuild()  # tensors born inside: not reads from outside
            return inner(*args, **kwargs)

    def run(args: tuple, kwargs: dict):
        if not is_grad_enabled():
            return _mirror(inner(*args, **kwargs), _has_tensor((args, kwargs)))
        generator = _generator()
        if generator.array is None:
            default_generator.manual_seed(default_generator._initial_seed)
        key, draws = generator.array, generator.version
        leaves, tree = jax.tree_util.tree_flatten((args, kwargs), is_leaf=_is_tensor)
        arrays = [x._read() if _is_tensor(x) else x for x in leaves]
        with _outside_reads(name, skip=generator) as read:
            inside_args, inside_kwargs = _rebuilt(tree, arrays, list(map(_is_tensor, leaves)))
            out = inner(*inside_args, **inside_kwargs)
        return _recorded(name, grad_fn, call, leaves, tree, arrays, list(read.values()),
                         key if generator.version != draws else None, out, ops)

    return run


_OPERANDS = (Tensor, jax.Array, np.ndarray)


def _generator():
    """The global generator's state storage."""
    return default_generator._state._storage


def _recorded(name: str, grad_fn: str, call: Callable, leaves: list, tree, arrays: list,
              captured: list, key, out, ops: dict):
    """The results ``out`` of a transformed function on the argument ``leaves`` of ``tree``
    (their ``arrays``), mirrored, and recorded as one op when a gradient can flow: when a
    Tensor argument or a tensor it read from outside (``captured``) requires grad. The op's
    inputs are the array and Tensor arguments, the ``captured`` tensors and the generator's
    ``key`` before the call, where it drew random numbers (else None): its function is
    ``call(captured arrays, rebuild)`` (``rebuild()`` gives the call's args and kwargs from
    the op's arrays), which draws what the call drew, so every later run
    (the backward's, under JAX's VJP) computes what this one did. ``ops`` keeps the op's
    function per layout of the arguments, so a loop compiles one program for its backward."""
    if not any(x.requires_grad for x in (*leaves, *captured) if _is_tensor(x)):
        return _mirror(out, any(map(_is_tensor, leaves)))
    operands = tuple(i for i, x in enumerate(leaves) if isinstance(x, _OPERANDS))
    static = tuple(None if i in operands else x for i, x in enumerate(leaves))
    layout = (tree, tuple(map(_is_tensor, leaves)), operands, static, key is not None,
              _autocast.regions())
    try:
        fn = ops.get(layout)
    except TypeError:  # an unhashable argument that is not an array: a function per call
        fn = _op_function(call, layout)
    if fn is None:
        fn = ops[layout] = _op_function(call, layout)
    key = () if key is None else (key,)
    inputs = key + tuple(leaves[i] for i in operands) + tuple(captured)
    inputs_arrays = key + tuple(arrays[i] for i in operands) + tuple(t._read() for t in captured)
    # A Tensor in the results (a gradient is one, a Hessian one of a Tensor): its array.
    out = jax.tree_util.tree_map(lambda x: jax.tree_util.tree_leaves(x)[0], out,
                                 is_leaf=_is_tensor)
    out_leaves, out_tree = jax.tree_util.tree_flatten(out)
    return jax.tree_util.tree_unflatten(out_tree, [
        record(_output_op(name, grad_fn, fn, k), inputs, inputs_arrays, value, {})
        for k, value in enumerate(out_leaves)])


def _rebuilt(tree, arrays: Sequence, boxed: Sequence[bool]) -> tuple:
    """``(args, kwargs)`` of ``tree`` from leaf ``arrays``, as new Tensors where ``boxed``."""
    return jax.tree_util.tree_unflatten(
        tree, [Tensor._wrap(a) if b else a for a, b in zip(arrays, boxed)])


def _fresh(args: tuple, kwargs: dict) -> tuple:
    """``(args, kwargs)`` with each Tensor a new one of the same array: inside
    ``_outside_reads``, tensors the function is given, not ones it reads from outside."""
    leaves, tree = jax.tree_util.tree_flatten((args, kwargs), is_leaf=_is_tensor)
    return _rebuilt(tree, [x._storage.array if _is_tensor(x) else x for x in leaves],
                    list(map(_is_tensor, leaves)))


def _op_function(call: Callable, layout: tuple) -> Callable:
    """The op function of ``_recorded``: ``([key], *operands, *captured) -> output leaves``,
    run without grad mode (JAX differentiates it whole) in the autocast regions of the call."""
    tree, boxed, operands, static, drew, regions = layout

    def run(*arrays):
        key, arrays = (arrays[0], arrays[1:]) if drew else (None, arrays)
        leaves = list(static)
        for i, a in zip(operands, arrays):
            leaves[i] = a
        generator = _generator()
        state = generator.array, generator.version
        if drew:
            generator.array = key
        try:
            with no_grad(), _autocast.traced(regions):
                return tuple(jax.tree_util.tree_leaves(call(
                    arrays[len(operands):], lambda: _rebuilt(tree, leaves, boxed))))
        finally:
            generator.array, generator.version = state

    return run


def jit(fun: Callable | None = None, **jax_kwargs) -> Callable:
    """Compiles ``fun`` with XLA, as ``jax.jit``; usable as ``@jit`` or ``@jit(...)``.

    The tensors ``fun`` reads from outside (parameters, buffers; found by tracing it once per
    layout of the arguments) are inputs of the program, not constants of it as JAX arrays in a
    closure are: each call computes with their current values. In grad mode, when one of them
    or a Tensor argument requires grad, the results are recorded as one op (``JitBackward0``),
    so gradients flow back to them, as vmap's do. ``fun`` may not change them in place.

    >>> import funcgrad
    >>> funcgrad.jit(lambda x: x * 2)(funcgrad.tensor([1.0]))
    tensor([2.])
    >>> w = funcgrad.tensor([1.0, 2.0], requires_grad=True)
    >>> dot = funcgrad.jit(lambda x: (x * w).sum())
    >>> with funcgrad.no_grad():
    ...     _ = w.mul_(10)
    >>> y = dot(funcgrad.ones(2)); y.backward(); y, w.grad
    (tensor(30., grad_fn=<JitBackward0>), tensor([1., 1.]))
    """
    if fun is None:
        return functools.partial(jit, **jax_kwargs)

    def run(captured: Sequence, *args, **kwargs):
        with _outside_reads("jit", captured, skip=_generator()):
            args, kwargs = _fresh(args, kwargs)
            return _arrays(fun(*args, **kwargs))

    inner = jax.jit(run, **_after_one(jax_kwargs))
    closures: dict = {}  # layout of the arguments -> the tensors fun reads from outside
    ops: dict = {}

    def call(captured: Sequence, rebuild: Callable):
        args, kwargs = rebuild()
        return inner(captured, *args, **kwargs)

    def probe(*args, **kwargs):
        """Traces ``fun`` (not compiling it): the tensors it reads from outside."""
        with _outside_reads("jit", skip=_generator()) as read:
            args, kwargs = _fresh(args, kwargs)
            _arrays(fun(*args, **kwargs))
        return list(read.values())

    @functools.wraps(fun)
    def wrapped(*args, **kw):
        leaves, tree = jax.tree_util.tree_flatten((args, kw), is_leaf=_is_tensor)
        layout = (tree, tuple((x.shape, x.dtype) if isinstance(x, _OPERANDS) else x
                              for x in leaves))
        try:
            captured = closures.get(layout)
        except TypeError:  # an unhashable argument that is not an array: traced per call
            layout, captured = None, None
        if captured is None:
            found = []
            jax.jit(lambda *a, **k: found.extend(probe(*a, **k)), **jax_kwargs).trace(
                *args, **kw)
            captured = found
            if layout is not None:
                closures[layout] = captured
        arrays = [x._read() if _is_tensor(x) else x for x in leaves]
        out = inner(tuple(t._read() for t in captured), *args, **kw)
        if not is_grad_enabled():
            return _mirror(out, _has_tensor((args, kw)))
        return _recorded("jit", "JitBackward0", call, leaves, tree, arrays, captured, None,
                         out, ops)

    return wrapped


def _after_one(jax_kwargs: dict) -> dict:
    """``jax.jit``'s arguments for the function with one more positional argument first."""
    shifted = dict(jax_kwargs)
    for name in ("static_argnums", "donate_argnums"):
        nums = shifted.get(name)
        if nums is not None:
            shifted[name] = tuple(n + 1 if n >= 0 else n
                                  for n in ((nums,) if isinstance(nums, int) else nums))
    if isinstance(shifted.get("in_shardings"), (tuple, list)):
        shifted["in_shardings"] = (None, *shifted["in_shardings"])
    return shifted


def stop_gradient(x):
    """``x`` with no gradient flowing through it, under both faces (a detached Tensor for a
    Tensor, ``jax.lax.stop_gradient`` for arrays and pytrees).

    >>> import funcgrad
    >>> funcgrad.grad(lambda x: x * funcgrad.stop_gradient(x))(funcgrad.tensor(3.0))
    tensor(3.)
    """
    if _is_tensor(x):
        return Tensor._wrap(jax.lax.stop_gradient(x._read()))
    return jax.lax.stop_gradient(x)

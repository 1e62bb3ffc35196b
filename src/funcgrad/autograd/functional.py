"""``funcgrad.autograd.functional``: Jacobians, Hessians and their products for functions
written with the stateful API, computed by the stateful engine (as ``torch.autograd.functional``).

Each function takes ``func`` and ``inputs`` (a Tensor or a tuple of them). Without
``create_graph`` the inputs are detached first, so nothing is recorded into the caller's graph;
with it, the results are differentiable and connected to the inputs.
"""

from __future__ import annotations

from collections.abc import Callable

from .._grad_mode import enable_grad
from .._ops import reshape, stack
from ._grad import grad


def _as_tuple(x) -> tuple[bool, tuple]:
    is_tuple = isinstance(x, (tuple, list))
    return is_tuple, tuple(x) if is_tuple else (x,)


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    return tuple(t if create_graph and t.requires_grad else t.detach().requires_grad_()
                 for t in inputs)


def _finish(tensors, create_graph: bool):
    if isinstance(tensors, tuple):
        return tuple(_finish(t, create_graph) for t in tensors)
    return tensors if create_graph or tensors is None else tensors.detach()


def _grads(outputs, inputs, grad_outputs, create_graph: bool, retain_graph: bool = True):
    return grad(outputs, inputs, grad_outputs, retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True, materialize_grads=True)


def vjp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(*inputs), v^T J)``.

    >>> import funcgrad
    >>> from funcgrad.autograd.functional import vjp
    >>> vjp(lambda x: x ** 2, funcgrad.tensor([1.0, 2.0]), funcgrad.ones(2))
    (tensor([1., 4.]), tensor([2., 4.]))
    """
    inputs_tuple, inputs = _as_tuple(inputs)
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        outputs = func(*inputs)
        outputs_tuple, outs = _as_tuple(outputs)
        vs = None if v is None else _as_tuple(v)[1]
        g = _grads(outs, inputs, vs, create_graph)
    out = _finish(outs if outputs_tuple else outs[0], create_graph)
    return out, _finish(g if inputs_tuple else g[0], create_graph)


def jacobian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: shape ``output.shape + input.shape``; nested
    tuples (outputs, then inputs) when either is a tuple.

    >>> import funcgrad
    >>> from funcgrad.autograd.functional import jacobian
    >>> jacobian(lambda x: x ** 2, funcgrad.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    inputs_tuple, inputs = _as_tuple(inputs)
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        outputs_tuple, outs = _as_tuple(func(*inputs))
        per_output = []
        for out in outs:
            flat = reshape(out, -1)
            rows = [_grads(flat[i], inputs, None, create_graph) for i in range(flat.shape[0])]
            per_output.append(tuple(
                reshape(stack([row[j] for row in rows]) if rows else x.new_zeros((0,) + x.shape),
                        *out.shape, *x.shape)
                for j, x in enumerate(inputs)
            ))
    result = tuple(r if inputs_tuple else r[0] for r in per_output)
    return _finish(result if outputs_tuple else result[0], create_graph)


def hessian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar ``func`` at ``inputs``.

    >>> import funcgrad
    >>> from funcgrad.autograd.functional import hessian
    >>> hessian(lambda x: (x ** 3).sum(), funcgrad.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    inputs_tuple, _ = _as_tuple(inputs)

    def gradient(*xs):
        g = _grads(func(*xs), xs, None, create_graph=True)
        return g if inputs_tuple else g[0]

    return jacobian(gradient, inputs, create_graph=create_graph)


def jvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(*inputs), J v)``, by differentiating the (linear) VJP once more.

    >>> import funcgrad
    >>> from funcgrad.autograd.functional import jvp
    >>> jvp(lambda x: x ** 2, funcgrad.tensor([1.0, 2.0]), funcgrad.ones(2))
    (tensor([1., 4.]), tensor([2., 4.]))
    """
    inputs_tuple, inputs = _as_tuple(inputs)
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        outputs_tuple, outs = _as_tuple(func(*inputs))
        dummies = tuple(o.new_zeros(tuple(o.shape), requires_grad=True) for o in outs)
        g = _grads(outs, inputs, dummies, create_graph=True)
        vs = _as_tuple(v)[1] if v is not None else tuple(x.new_ones(tuple(x.shape))
                                                          for x in inputs)
        out_grads = _grads(g, dummies, vs, create_graph)
    out = _finish(outs if outputs_tuple else outs[0], create_graph)
    return out, _finish(out_grads if outputs_tuple else out_grads[0], create_graph)


def hvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(*inputs), H v)`` for a scalar ``func``.

    >>> import funcgrad
    >>> from funcgrad.autograd.functional import hvp
    >>> hvp(lambda x: (x ** 3).sum(), funcgrad.tensor([1.0, 2.0]), funcgrad.ones(2))
    (tensor(9.), tensor([ 6., 12.]))
    """
    inputs_tuple, inputs = _as_tuple(inputs)
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        out = func(*inputs)
        g = _grads(out, inputs, None, create_graph=True)
        vs = _as_tuple(v)[1] if v is not None else tuple(x.new_ones(tuple(x.shape))
                                                          for x in inputs)
        products = _grads(g, inputs, vs, create_graph)
    return _finish(out, create_graph), _finish(products if inputs_tuple else products[0],
                                               create_graph)


vhp = hvp  # the Hessian of a scalar function is symmetric

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

"""``funcgrad.autograd.grad``: gradients of outputs with respect to chosen inputs, returned
rather than accumulated into ``.grad``."""

from __future__ import annotations

from collections.abc import Sequence

from .. import _lazy
from .._graph import (
    GradientEdge,
    _reachable,
    _root_grads,
    accumulate,
    as_tensors,
    edge_of,
    run,
    torch_convention,
)
from .._tensor import Tensor


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None,
         materialize_grads: bool = False) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``; no leaf's ``.grad`` is touched
    (the non-leaf tensors that ``retain_grad()`` get theirs, as in torch).

    Args:
        outputs: a Tensor or a sequence of them (or of ``autograd.graph.GradientEdge`` objects).
        inputs: the Tensors (or ``GradientEdge`` objects) to differentiate with respect to.
        grad_outputs: gradients with respect to ``outputs`` (None for one-element outputs).
        retain_graph: keep the graph for another backward (defaults to ``create_graph``).
        create_graph: record this backward so its result can be differentiated again.
        allow_unused: return None for an input the outputs do not depend on, instead of
            raising.
        materialize_grads: return zeros instead of None for unused inputs.

    Returns:
        A tuple with one gradient per input.

    Raises:
        RuntimeError: if an input does not require grad, or is unused without
            ``allow_unused``.

    >>> import funcgrad
    >>> x = funcgrad.tensor(2.0, requires_grad=True)
    >>> (g,) = funcgrad.autograd.grad(x ** 3, x, create_graph=True)
    >>> g
    tensor(12., grad_fn=<PowBackward0Backward>)
    >>> funcgrad.autograd.grad(g, x)
    (tensor(12.),)
    """
    outputs, inputs = as_tensors(outputs), as_tensors(inputs)
    if isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    for t in inputs:
        if isinstance(t, GradientEdge):
            if materialize_grads:
                raise RuntimeError("materialize_grads cannot be used when the given input is a "
                                   "GradientEdge")
        elif not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    retain_graph = create_graph if retain_graph is None else retain_graph
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    edges = [edge_of(t) for t in inputs]
    roots = _root_grads(outputs, grad_outputs)
    nodes = _reachable([node for node, _ in roots])
    if not allow_unused:
        _check_used(nodes, edges)
    reached, retained = run(roots, retain_graph, create_graph, {id(e) for e in edges}, nodes)
    grads = tuple(_result(reached.get(id(e)), t, materialize_grads)
                  for e, t in zip(edges, inputs))
    for tensor, g in retained:
        accumulate(tensor, torch_convention(g), create_graph)
    if not create_graph:
        _lazy.step_ended[0] = True  # as backward's end
    return grads


def _check_used(reachable: dict, edges: list) -> None:
    """Raises torch's error for an input the outputs do not reach (``reachable``: the nodes
    they reach), before anything runs, so the graph is still there for a corrected call."""
    for i, edge in enumerate(edges):
        if id(edge) not in reachable:
            raise RuntimeError(
                f"The differentiated Tensor at index {i} appears to not have been used in the "
                "graph. Set allow_unused=True if this is the desired behavior."
            )


def _result(entry: Sequence | None, input: Tensor, materialize: bool):
    if entry is not None:
        return torch_convention(entry[1])
    return input.new_zeros(tuple(input.shape)) if materialize else None

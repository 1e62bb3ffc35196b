"""``autograd.graph.GradientEdge`` and ``get_gradient_edge`` against torch: as the inputs and
the outputs of ``autograd.grad`` and ``backward``, before and after the tensor they came from
changes in place; each scenario runs with both libraries and the logs must agree."""

from __future__ import annotations

import pytest

from test_errors import assert_raises_as_torch
from test_hooks import assert_same_as_torch


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _graph(lib):
    return lib.autograd.graph


def _setup(lib):
    x = lib.tensor([1.0, 2.0, -0.5], requires_grad=True)
    w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    h = x * w
    return x, w, h, (h.sin() * x).sum()


def test_an_edge_as_an_input_gives_its_tensors_gradient():
    def scenario(lib, log):
        x, w, h, y = _setup(lib)
        edge = _graph(lib).get_gradient_edge(h)
        log("output_nr", edge.output_nr)
        log("node", edge.node.name())
        log("leaf node", _graph(lib).get_gradient_edge(x).node.name())
        log("grad", lib.autograd.grad(y, edge, retain_graph=True))
        log("mixed", lib.autograd.grad(y, [edge, x, _graph(lib).get_gradient_edge(w)]))

    assert_same_as_torch(scenario)


def test_an_edge_stays_where_the_tensor_was_before_an_in_place_change():
    def scenario(lib, log):
        x, w, _, _ = _setup(lib)
        h = x * w
        edge = _graph(lib).get_gradient_edge(h)
        h.mul_(3)
        y = (h ** 2).sum()
        log("at the edge", lib.autograd.grad(y, edge, retain_graph=True))
        log("at the tensor", lib.autograd.grad(y, h))

    assert_same_as_torch(scenario)


def test_edges_as_outputs_take_their_grad_outputs():
    def scenario(lib, log):
        x, w, h, y = _setup(lib)
        edge = _graph(lib).get_gradient_edge(h)
        log("edge alone", lib.autograd.grad(edge, x, grad_outputs=lib.ones(3),
                                            retain_graph=True))
        log("edge and tensor", lib.autograd.grad(
            [edge, y], [x, w], grad_outputs=[lib.tensor([1.0, 2.0, 3.0]), None]))

    assert_same_as_torch(scenario)


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
def test_an_edge_of_a_recorded_op_without_the_lazy_tier():
    """Under anomaly detection ops run eagerly: the edge's output shape comes from the op."""
    def scenario(lib, log):
        with lib.autograd.detect_anomaly(check_nan=False):
            x, _, h, _ = _setup(lib)
            edge = _graph(lib).get_gradient_edge(h.exp())
            log("grad", lib.autograd.grad(edge, x, grad_outputs=lib.ones(3)))

    assert_same_as_torch(scenario)


def test_an_edge_of_a_module_output_with_backward_hooks():
    def scenario(lib, log):
        lib.manual_seed(0)
        layer = lib.nn.Linear(3, 2)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor([[0.1, 0.2, 0.3], [-0.4, 0.5, -0.6]]))
        layer.register_full_backward_hook(lambda m, gi, go: log("hook", go))
        x = lib.tensor([[1.0, -1.0, 2.0]], requires_grad=True)
        out = layer(x)
        log("node", out.grad_fn.name())
        edge = _graph(lib).get_gradient_edge(out)
        log("grad", lib.autograd.grad(edge, x, grad_outputs=lib.tensor([[1.0, -2.0]])))

    assert_same_as_torch(scenario)


def test_backward_to_edges_fills_only_leaves_grads():
    def scenario(lib, log):
        x, w, h, y = _setup(lib)
        y.backward(inputs=[_graph(lib).get_gradient_edge(x)], retain_graph=True)
        log("x", x.grad)
        log("w", w.grad)
        y.backward(inputs=[_graph(lib).get_gradient_edge(h), w])
        log("x again", x.grad)
        log("w again", w.grad)
        log("h retains", h.retains_grad)

    assert_same_as_torch(scenario)


def test_second_derivatives_through_an_edge():
    def scenario(lib, log):
        x, _, h, y = _setup(lib)
        (g,) = lib.autograd.grad(y, _graph(lib).get_gradient_edge(h), create_graph=True)
        log("first", g)
        (g * h).sum().backward()
        log("second", x.grad)

    assert_same_as_torch(scenario)


@pytest.mark.parametrize("scenario", [
    lambda lib: _graph(lib).get_gradient_edge(lib.ones(2)),
    lambda lib: lib.autograd.grad(
        _setup(lib)[3], _graph(lib).get_gradient_edge(lib.tensor(1.0, requires_grad=True))),
    lambda lib: lib.autograd.grad(
        _setup(lib)[3], _graph(lib).get_gradient_edge(lib.tensor(1.0, requires_grad=True)),
        materialize_grads=True),
    lambda lib: lib.autograd.grad(_graph(lib).get_gradient_edge(_setup(lib)[2]),
                                  _setup(lib)[0]),
    lambda lib: lib.autograd.grad([_graph(lib).get_gradient_edge(_setup(lib)[2])],
                                  [_setup(lib)[0]], grad_outputs=[lib.ones(2)]),
], ids=["no grad", "unused", "materialize", "implicit grad output", "grad output shape"])
def test_errors(scenario, torch):
    assert_raises_as_torch(torch, scenario)


def test_unused_edges_with_allow_unused():
    def scenario(lib, log):
        _, _, _, y = _setup(lib)
        z = lib.tensor(1.0, requires_grad=True)
        log("unused", lib.autograd.grad(y, _graph(lib).get_gradient_edge(z), allow_unused=True))

    assert_same_as_torch(scenario)

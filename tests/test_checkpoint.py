"""Activation checkpointing (``utils.checkpoint``) against torch's: outputs, grad_fns,
gradients of arguments and of the parameters a function reads, recomputation (how often the
function runs, the random state), freeing, warnings and errors."""

import warnings

import numpy as np
import pytest
from tests._compare import as_numpy, assert_trees_close, same_as_torch

import funcgrad
from funcgrad.utils.checkpoint import CheckpointError

torch = pytest.importorskip("torch")

W = [[0.5, -0.3, 0.2], [0.1, 0.4, -0.6], [-0.2, 0.3, 0.7]]
B = [0.05, -0.1, 0.2]
X = [[1.0, 2.0, -1.5], [0.3, -0.7, 0.9]]


def _linear(T):
    lin = T.nn.Linear(3, 3)
    with T.no_grad():
        lin.weight.copy_(T.tensor(W))
        lin.bias.copy_(T.tensor(B))
    return lin


@pytest.mark.parametrize("reentrant", [False, True])
def test_gradients_reach_arguments_and_parameters_as_in_torch(reentrant):
    def scenario(T):
        lin, calls = _linear(T), []

        def block(a):
            calls.append(1)
            return T.tanh(lin(a)) * a.sin()

        x = T.tensor(X, requires_grad=True)
        y = T.utils.checkpoint.checkpoint(block, x, use_reentrant=reentrant)
        name = y.grad_fn.name()
        (y ** 2).sum().backward()
        return y, x.grad, lin.weight.grad, lin.bias.grad, name, len(calls)

    same_as_torch(scenario)


def test_the_same_gradients_as_without_checkpointing():
    """A reference of its own: the same maths, not checkpointed."""
    lin = _linear(funcgrad)

    def block(a):
        return funcgrad.nn.functional.gelu(lin(a)).exp().sum(1)

    results = []
    for checkpointed in (False, True):
        x = funcgrad.tensor(X, requires_grad=True)
        lin.zero_grad()
        y = (funcgrad.utils.checkpoint.checkpoint(block, x, use_reentrant=False)
             if checkpointed else block(x))
        y.sum().backward()
        results.append(as_numpy((y, x.grad, lin.weight.grad)))
    assert_trees_close(results[1], results[0], rtol=1e-6)


def test_saved_values_are_dropped_until_backward():
    lin = _linear(funcgrad)
    x = funcgrad.tensor(X, requires_grad=True)
    y = funcgrad.utils.checkpoint.checkpoint(lambda a: lin(a).exp(), x, use_reentrant=False)
    node = y.grad_fn
    assert node._arrays is None and node._freed  # nothing of exp's input kept
    y.sum().backward(retain_graph=True)
    assert node._arrays is not None  # recomputed, and kept for the second backward
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (y.detach().numpy() @ np.array(W)),
                               rtol=1e-5)


def test_kwargs_context_fn_and_keyword_only_calls():
    def scenario(T):
        x = T.tensor(X, requires_grad=True)
        entered = []

        class Note:
            def __init__(self, what):
                self.what = what

            def __enter__(self):
                entered.append(self.what)

            def __exit__(self, *exc):
                pass

        y = T.utils.checkpoint.checkpoint(lambda a, scale: (a * scale).cos(), x, scale=3.0,
                                          use_reentrant=False,
                                          context_fn=lambda: (Note("forward"), Note("again")))
        y.sum().backward()
        return y, x.grad, entered

    same_as_torch(scenario)


def test_dropout_draws_the_same_mask_again():
    def scenario(T):
        T.manual_seed(0)
        x = T.ones(64, requires_grad=True)
        y = T.utils.checkpoint.checkpoint(T.nn.Dropout(0.5), x, use_reentrant=False)
        y.sum().backward()
        return x.grad.tolist() == y.tolist(), T.rand(1).shape  # the stream goes on after

    assert scenario(funcgrad) == scenario(torch)


def test_a_second_backward_needs_retain_graph_as_in_torch():
    def scenario(T):
        x = T.tensor([0.5, 1.5], requires_grad=True)
        y = T.utils.checkpoint.checkpoint(lambda a: (a.exp() * 2).sum(), x, use_reentrant=False)
        y.backward(retain_graph=True)
        y.backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
            y.backward()
        return x.grad

    same_as_torch(scenario)


def test_higher_order_gradients_through_a_checkpoint():
    def scenario(T):
        x = T.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = T.utils.checkpoint.checkpoint(lambda a: (a.sin() * a).sum(), x, use_reentrant=False)
        (g,) = T.autograd.grad(y, x, create_graph=True)
        (h,) = T.autograd.grad(g.sum(), x)
        return g, h

    with warnings.catch_warnings():
        same_as_torch(scenario)


def test_nested_checkpoints():
    def scenario(T):
        cp = T.utils.checkpoint.checkpoint
        x = T.tensor(X, requires_grad=True)

        def inner(a):
            return a.exp() * a

        def outer(a):
            return cp(inner, a.sin(), use_reentrant=False).tanh()

        y = cp(outer, x, use_reentrant=False)
        y.sum().backward()
        return y, x.grad

    same_as_torch(scenario)


@pytest.mark.parametrize("reentrant", [False, True])
def test_checkpoint_sequential_as_torch(reentrant):
    def scenario(T):
        T.manual_seed(0)
        model = T.nn.Sequential(T.nn.Linear(3, 4), T.nn.ReLU(), T.nn.Linear(4, 4), T.nn.Tanh(),
                                T.nn.Linear(4, 2))
        with T.no_grad():
            for k, p in enumerate(model.parameters()):
                p.copy_(T.tensor(np.linspace(-1, 1, p.numel()).reshape(tuple(p.shape)) * (k + 1),
                                 dtype=T.float32))
        x = T.tensor(X, requires_grad=True)
        y = T.utils.checkpoint.checkpoint_sequential(model, 2, x, use_reentrant=reentrant)
        y.sum().backward()
        return y, x.grad, [p.grad for p in model.parameters()], y.grad_fn.name()

    same_as_torch(scenario)


def test_reentrant_warnings_and_outputs_as_torch():
    def scenario(T):
        cp = T.utils.checkpoint.checkpoint
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            plain = cp(lambda a: a * 2, T.ones(2), use_reentrant=True)
            default = cp(lambda a: a * 2, T.ones(2, requires_grad=True))
        x = T.ones(2, requires_grad=True)
        pair = cp(lambda a: (a.exp(), a.sin(), a.argmax()), x, use_reentrant=True)
        (pair[0] + pair[1]).sum().backward()
        return ([str(w.message) for w in caught], repr(plain), repr(default),
                [repr(t) for t in pair], x.grad)

    expected = scenario(torch)
    got = scenario(funcgrad)
    assert got[:4] == expected[:4]
    np.testing.assert_allclose(got[4].numpy(), expected[4].numpy(), rtol=1e-6)


ERRORS = {
    "reentrant kwargs": lambda T, x: T.utils.checkpoint.checkpoint(
        lambda a, s=1.0: a * s, x, use_reentrant=True, s=2.0),
    "reentrant context_fn": lambda T, x: T.utils.checkpoint.checkpoint(
        lambda a: a, x, use_reentrant=True, context_fn=lambda: (None, None)),
    "determinism_check": lambda T, x: T.utils.checkpoint.checkpoint(
        lambda a: a, x, use_reentrant=False, determinism_check="x"),
    "reentrant autograd.grad": lambda T, x: T.autograd.grad(T.utils.checkpoint.checkpoint(
        lambda a: a.exp(), x, use_reentrant=True).sum(), x),
}


@pytest.mark.parametrize("make", ERRORS.values(), ids=ERRORS)
def test_errors_match_torch(make):
    def scenario(T):
        x = T.ones(2, requires_grad=True)
        with pytest.raises((ValueError, RuntimeError)) as caught:
            make(T, x)
        return type(caught.value).__name__, str(caught.value), x.grad

    assert scenario(funcgrad) == scenario(torch)


def test_a_recomputation_that_differs_is_refused():
    def flaky(calls):
        def block(a):
            calls.append(1)
            return a.sin().cos() if len(calls) == 1 else a.sin()
        return block

    x = funcgrad.tensor([1.0, 2.0], requires_grad=True)
    y = funcgrad.utils.checkpoint.checkpoint(flaky([]), x, use_reentrant=False)
    with pytest.raises(CheckpointError, match="Number of ops recorded during forward: 2\n"
                       "Number of ops recorded during recomputation: 1"):
        y.sum().backward()
    assert x.grad is None

    def reshaped(calls):
        def block(a):
            calls.append(1)
            return (a if len(calls) == 1 else a[:1]).exp()
        return block

    y = funcgrad.utils.checkpoint.checkpoint(reshaped([]), x, use_reentrant=False)
    with pytest.raises(CheckpointError, match=r"different metadata(.|\n)*'inputs': \[\(\(2,\)"):
        y.sum().backward()
    def renamed(calls):
        def block(a):
            calls.append(1)
            return a.exp() if len(calls) == 1 else a.sin()
        return block

    y = funcgrad.utils.checkpoint.checkpoint(renamed([]), x, use_reentrant=False)
    with pytest.raises(CheckpointError, match=r"'op': 'ExpBackward0'(.|\n)*'op': 'SinBackward0'"):
        y.sum().backward()
    y = funcgrad.utils.checkpoint.checkpoint(renamed([]), x, use_reentrant=False,
                                             determinism_check="none")
    y.sum().backward()  # unchecked, exp's node takes what sin's saved: the same input
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]), rtol=1e-6)


def test_under_no_grad_it_is_a_plain_call():
    def scenario(T):
        with T.no_grad():
            return [repr(T.utils.checkpoint.checkpoint(
                lambda a: a * 2, T.ones(2, requires_grad=True), use_reentrant=r))
                for r in (False, True)]

    assert scenario(funcgrad) == scenario(torch)


def test_rng_state_round_trips():
    state = funcgrad.get_rng_state()
    first = funcgrad.randn(3)
    funcgrad.set_rng_state(state)
    np.testing.assert_array_equal(funcgrad.randn(3).numpy(), first.numpy())
    with pytest.raises(RuntimeError, match="set_state expects a state from get_state"):
        funcgrad.set_rng_state(funcgrad.ones(3))

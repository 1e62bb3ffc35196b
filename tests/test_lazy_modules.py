"""Lazy modules (``nn.LazyLinear`` and the others) against torch's: printing before and
after the first call, the shapes they infer, the class they become, state dicts, optimizers
made before the shapes are known, and errors."""

import numpy as np
import pytest

import funcgrad

torch = pytest.importorskip("torch")

MODULES = {
    "LazyLinear": (lambda nn: nn.LazyLinear(3), (2, 4)),
    "LazyLinear-nobias": (lambda nn: nn.LazyLinear(3, bias=False), (5,)),
    "LazyConv1d": (lambda nn: nn.LazyConv1d(4, 3, stride=2), (2, 3, 9)),
    "LazyConv2d": (lambda nn: nn.LazyConv2d(6, 3, padding=1, groups=2), (1, 4, 5, 5)),
    "LazyConv2d-unbatched": (lambda nn: nn.LazyConv2d(2, 2), (3, 4, 4)),
    "LazyConv3d": (lambda nn: nn.LazyConv3d(2, 2, bias=False), (1, 2, 3, 3, 3)),
    "LazyConvTranspose1d": (lambda nn: nn.LazyConvTranspose1d(4, 2, stride=2), (2, 3, 5)),
    "LazyConvTranspose2d": (lambda nn: nn.LazyConvTranspose2d(2, 3, output_padding=0),
                            (1, 4, 3, 3)),
    "LazyConvTranspose3d": (lambda nn: nn.LazyConvTranspose3d(2, 2), (1, 3, 2, 2, 2)),
    "LazyBatchNorm1d": (lambda nn: nn.LazyBatchNorm1d(), (4, 3)),
    "LazyBatchNorm2d": (lambda nn: nn.LazyBatchNorm2d(momentum=0.5), (2, 3, 2, 2)),
    "LazyBatchNorm3d": (lambda nn: nn.LazyBatchNorm3d(affine=False), (2, 2, 2, 2, 2)),
    "LazyInstanceNorm1d": (lambda nn: nn.LazyInstanceNorm1d(), (2, 3, 4)),
    "LazyInstanceNorm2d": (lambda nn: nn.LazyInstanceNorm2d(track_running_stats=False),
                           (2, 3, 2, 2)),
    "LazyInstanceNorm3d": (lambda nn: nn.LazyInstanceNorm3d(affine=False), (1, 2, 2, 2, 2)),
}


def _shapes(module) -> dict:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


@pytest.mark.parametrize("name", MODULES)
def test_first_call_infers_shapes_and_the_plain_class_as_torch(name):
    make, shape = MODULES[name]
    results = []
    for lib in (torch, funcgrad):
        module = make(lib.nn)
        before = (repr(module), module.has_uninitialized_params(),
                  sorted((k, repr(v)) for k, v in module.state_dict().items()))
        x = lib.ones(*shape, requires_grad=True)
        y = module(x)
        y.sum().backward()
        results.append((before, repr(module), type(module).__name__, _shapes(module),
                        tuple(y.shape), tuple(x.grad.shape),
                        sorted(type(p).__name__ for p in module.parameters())))
    ours, theirs = results
    assert ours == theirs


def test_the_plain_modules_values_and_gradients_after_it():
    """Once shaped, a lazy Linear computes as the Linear it became (closed form)."""
    layer = funcgrad.nn.LazyLinear(2)
    x = funcgrad.tensor([[1.0, 2.0, 3.0]])
    y = layer(x)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), x.numpy() @ w.T + b, rtol=1e-6)
    assert np.abs(w).max() <= 1 / np.sqrt(3)  # torch's initialization bound
    y.sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.ones((2, 1)) * x.numpy())


def test_an_optimizer_made_before_the_shapes_are_known_steps_them():
    """Adam's first step has a closed form, lr * g / (|g| + eps), for every parameter,
    including those shaped after the optimizer was made."""
    for lib in (torch, funcgrad):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.LazyLinear(4), lib.nn.ReLU(), lib.nn.LazyLinear(1))
        model.float()  # before the first call: nothing to convert yet
        optimizer = lib.optim.Adam(model.parameters(), lr=0.01)
        (model(lib.ones(3, 5)) ** 2).mean().backward()
        before = [p.detach().numpy().copy() for p in model.parameters()]
        grads = [p.grad.numpy().copy() for p in model.parameters()]
        optimizer.step()
        for p, old, g in zip(model.parameters(), before, grads):
            np.testing.assert_allclose(p.detach().numpy(), old - 0.01 * g / (np.abs(g) + 1e-8),
                                       rtol=1e-5, atol=1e-7)
        assert len(optimizer.state) == 4
        assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]


def test_loading_a_state_dict_gives_the_shapes_as_torch():
    results = []
    for lib in (torch, funcgrad):
        source = lib.nn.Linear(5, 3)
        layer = lib.nn.LazyLinear(3)
        report = repr(layer.load_state_dict(source.state_dict()))
        loaded = (report, repr(layer), type(layer.weight).__name__, _shapes(layer))
        y = layer(lib.ones(2, 5))
        np.testing.assert_allclose(y.detach().numpy(), source(lib.ones(2, 5)).detach().numpy(),
                                   rtol=1e-6)
        results.append((loaded, repr(layer)))
    assert results[0] == results[1]


ERRORS = {
    "use before the first call": lambda nn, lib: nn.LazyLinear(3).weight + 1,
    "conv input of the wrong rank": lambda nn, lib: nn.LazyConv2d(4, 3)(lib.ones(6, 6)),
    "channels not divisible by groups": lambda nn, lib: nn.LazyConv2d(4, 3, groups=2)(
        lib.ones(1, 3, 6, 6)),
}


@pytest.mark.parametrize("make", ERRORS.values(), ids=ERRORS)
def test_errors_as_torch(make):
    messages = []
    for lib in (torch, funcgrad):
        with pytest.raises((ValueError, RuntimeError)) as caught:
            make(lib.nn, lib)
        messages.append((type(caught.value).__name__, str(caught.value).split(" This error")[0]
                         .split(" in <")[0].split(" (")[0].replace("torch.", "funcgrad.")))
    assert messages[0] == messages[1]


def test_uninitialized_kinds_print_and_type_as_torch():
    for lib in (torch, funcgrad):
        p, b = lib.nn.UninitializedParameter(), lib.nn.UninitializedBuffer()
        assert (repr(p), repr(b)) == ("<UninitializedParameter>", "<UninitializedBuffer>")
        assert isinstance(p, lib.nn.Parameter) and p.requires_grad and not b.requires_grad
        p.materialize((2, 3))
        assert type(p) is lib.nn.Parameter and tuple(p.shape) == (2, 3)

"""torch's saved variables on grad_fn nodes (``y.grad_fn._saved_self``, ``_saved_exponent``,
``_saved_result`` ...) against torch: for each op of funcgrad's table, the names a node has and
their values, and the errors once backward freed the graph or a saved input changed in place."""

from __future__ import annotations

import pytest

import funcgrad
from test_errors import assert_raises_as_torch, message


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _inputs(lib):
    x = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], requires_grad=True)
    y = lib.tensor([[1.0, 2.0, -1.0], [0.5, -0.5, 1.5]], requires_grad=True)
    w = lib.tensor([[1.0, 2.0], [0.5, -0.5], [2.0, 1.0]], requires_grad=True)
    c = lib.tensor([[0.3, -0.2, 0.1], [1.0, 0.0, -1.0]])
    return x, y, w, c


CASES = {
    "pow": lambda lib, x, y, w, c: x ** 2,
    "pow_float": lambda lib, x, y, w, c: x ** 2.5,
    "pow_tensor": lambda lib, x, y, w, c: x.abs() ** y,
    "rpow": lambda lib, x, y, w, c: 2 ** x,
    "square": lambda lib, x, y, w, c: x.square(),
    "exp": lambda lib, x, y, w, c: x.exp(),
    "exp2": lambda lib, x, y, w, c: x.exp2(),
    "log": lambda lib, x, y, w, c: x.abs().log(),
    "log1p": lambda lib, x, y, w, c: x.abs().log1p(),
    "sin": lambda lib, x, y, w, c: x.sin(),
    "cos": lambda lib, x, y, w, c: x.cos(),
    "tan": lambda lib, x, y, w, c: x.tan(),
    "atan": lambda lib, x, y, w, c: x.atan(),
    "erf": lambda lib, x, y, w, c: x.erf(),
    "tanh": lambda lib, x, y, w, c: x.tanh(),
    "sigmoid": lambda lib, x, y, w, c: x.sigmoid(),
    "relu": lambda lib, x, y, w, c: x.relu(),
    "silu": lambda lib, x, y, w, c: lib.nn.functional.silu(x),
    "gelu": lambda lib, x, y, w, c: lib.nn.functional.gelu(x, approximate="tanh"),
    "leaky_relu": lambda lib, x, y, w, c: lib.nn.functional.leaky_relu(x, 0.1),
    "sqrt": lambda lib, x, y, w, c: x.abs().sqrt(),
    "rsqrt": lambda lib, x, y, w, c: x.abs().rsqrt(),
    "reciprocal": lambda lib, x, y, w, c: x.reciprocal(),
    "abs": lambda lib, x, y, w, c: x.abs(),
    "neg": lambda lib, x, y, w, c: -x,
    "sign": lambda lib, x, y, w, c: x.sign(),
    "floor": lambda lib, x, y, w, c: x.floor(),
    "mul": lambda lib, x, y, w, c: x * y,
    "mul_constant": lambda lib, x, y, w, c: x * c,
    "mul_number": lambda lib, x, y, w, c: x * 2.0,
    "div": lambda lib, x, y, w, c: x / y,
    "constant_div": lambda lib, x, y, w, c: c / y,
    "maximum": lambda lib, x, y, w, c: lib.maximum(x, y),
    "add": lambda lib, x, y, w, c: x + y,
    "add_alpha": lambda lib, x, y, w, c: lib.add(x, y, alpha=2),
    "add_float_alpha": lambda lib, x, y, w, c: lib.add(x, c, alpha=0.5),
    "sub": lambda lib, x, y, w, c: x - y,
    "sub_alpha": lambda lib, x, y, w, c: lib.sub(x, 2, alpha=3),
    "rsub": lambda lib, x, y, w, c: 1 - x,
    "matmul": lambda lib, x, y, w, c: x @ w,
    "mm_constant": lambda lib, x, y, w, c: c.mm(w),
    "mv": lambda lib, x, y, w, c: x @ w[:, 0].detach(),
    "addmm": lambda lib, x, y, w, c: lib.addmm(y[:, :2], x, w, beta=0.5),
    "sum": lambda lib, x, y, w, c: x.sum(),
    "sum_dim": lambda lib, x, y, w, c: x.sum(1),
    "sum_dims": lambda lib, x, y, w, c: x.sum((0, -1), keepdim=True),
    "mean": lambda lib, x, y, w, c: x.mean(),
    "mean_dim": lambda lib, x, y, w, c: x.mean(-2),
    "prod": lambda lib, x, y, w, c: x.prod(),
    "logsumexp": lambda lib, x, y, w, c: x.logsumexp(1),
    "softmax": lambda lib, x, y, w, c: x.softmax(1),
    "log_softmax": lambda lib, x, y, w, c: x.log_softmax(-1),
    "cumsum": lambda lib, x, y, w, c: x.cumsum(-1),
    "clamp": lambda lib, x, y, w, c: x.clamp(-0.5, 0.5),
    "clamp_min": lambda lib, x, y, w, c: x.clamp(min=0.0),
    "clamp_tensor": lambda lib, x, y, w, c: x.clamp(min=c),
    "max_dim": lambda lib, x, y, w, c: x.max(1)[0],
    "min_dim": lambda lib, x, y, w, c: x.min(-2).values,
    "max": lambda lib, x, y, w, c: x.max(),
    "where": lambda lib, x, y, w, c: lib.where(c > 0, x, y),
    "mse_loss": lambda lib, x, y, w, c: lib.nn.functional.mse_loss(x, y, reduction="sum"),
    "select": lambda lib, x, y, w, c: x.select(1, 2),
    "view": lambda lib, x, y, w, c: x.view(3, 2),
    "reshape": lambda lib, x, y, w, c: x.reshape(-1),
    "expand": lambda lib, x, y, w, c: x[:1].expand(4, 3),
    "transpose": lambda lib, x, y, w, c: x.transpose(1, 0),
    "t": lambda lib, x, y, w, c: x.t(),
    "permute": lambda lib, x, y, w, c: x.permute(1, 0),
    "unsqueeze": lambda lib, x, y, w, c: x.unsqueeze(-1),
    "squeeze": lambda lib, x, y, w, c: x.unsqueeze(-1).squeeze(),
    "squeeze_dim": lambda lib, x, y, w, c: x.unsqueeze(0).squeeze(0),
    "squeeze_dims": lambda lib, x, y, w, c: x.unsqueeze(-1).squeeze((0, -1)),
    "cat": lambda lib, x, y, w, c: lib.cat([x, y], -1),
    "stack": lambda lib, x, y, w, c: lib.stack([x, y]),
}


def _names(node) -> list[str]:
    return [a for a in dir(node) if a.startswith("_saved")]


def _described(lib, value, inputs, out):
    """A saved value, comparable across the libraries: a tensor by which input it is (by
    identity), its grad_fn, requires_grad and values; anything else as it is, with its type."""
    if not isinstance(value, lib.Tensor):
        return type(value).__name__, value
    which = next((k for k, t in enumerate(inputs) if value is t), None)
    return ("tensor", which, value.grad_fn is out.grad_fn, value.requires_grad,
            list(value.shape), [round(v, 4) for v in value.detach().float().reshape(-1).tolist()])


def _saved(lib, name):
    inputs = _inputs(lib)
    out = CASES[name](lib, *inputs)
    node = out.grad_fn
    return {a: _described(lib, getattr(node, a), inputs, out) for a in _names(node)}


@pytest.mark.parametrize("name", CASES)
def test_saved_variables_match_torch(torch, name):
    """The names a node has (torch's derivatives.yaml's for its kind) and their values: the
    very input tensor where torch gives it, None where the backward reads no input, the output
    as the node's own, dims as torch shows them (a negative one as an unsigned int)."""
    assert _saved(funcgrad, name) == _saved(torch, name)


def test_a_number_torch_wraps_is_a_tensor(torch):
    """``x * 2.0`` saves its number as a 0-d tensor (torch's is float64, funcgrad's of the
    dtype funcgrad gives a Python float), and nothing of x."""
    for lib in (funcgrad, torch):
        x = _inputs(lib)[0]
        node = (x * 2.0).grad_fn
        assert node._saved_self is None
        assert isinstance(node._saved_other, lib.Tensor) and node._saved_other.item() == 2.0


def test_an_op_outside_the_table_has_none(torch):
    def scenario(lib):
        x = _inputs(lib)[0]
        return (x + x).grad_fn._saved_result

    assert_raises_as_torch(torch, scenario)


def _after_backward(lib, name):
    """Each saved variable once a backward freed the graph: torch's error for a tensor, else
    its value."""
    inputs = _inputs(lib)
    out = CASES[name](lib, *inputs)
    out.sum().backward()
    found = {}
    for a in _names(out.grad_fn):
        try:
            found[a] = _described(lib, getattr(out.grad_fn, a), inputs, out)
        except RuntimeError as e:
            found[a] = message(e)
    return found


@pytest.mark.parametrize("name", ["pow", "exp", "mul", "matmul", "sum_dims", "max_dim",
                                  "clamp", "softmax"])
def test_backward_frees_tensors_not_the_rest(torch, name):
    """After a backward without retain_graph, a saved tensor raises torch's error; a number,
    dim or size stays readable."""
    assert _after_backward(funcgrad, name) == _after_backward(torch, name)


def test_retain_graph_keeps_them(torch):
    def scenario(lib):
        x = _inputs(lib)[0]
        y = x.sin()
        y.sum().backward(retain_graph=True)
        return y.grad_fn._saved_self is x

    assert scenario(funcgrad) and scenario(torch)


def test_a_saved_input_changed_in_place(torch):
    """torch's version error, naming the input's node and versions, on reading the input."""
    def scenario(lib):
        x = _inputs(lib)[0]
        a = x * 1
        y = a.sin()
        a.add_(1)
        return y.grad_fn._saved_self

    assert_raises_as_torch(torch, scenario)


def test_an_input_not_saved_changed_in_place(torch):
    """``a * c`` saves only c: a changed in place reads None, and no error."""
    for lib in (funcgrad, torch):
        x, _, _, c = _inputs(lib)
        a = x * 1
        y = a * c
        a.add_(1)
        assert y.grad_fn._saved_self is None and y.grad_fn._saved_other is c


def test_under_saved_tensors_hooks_reads_unpack(torch):
    """A packed input reads as its unpack hook gives it back, unpacking on each read."""
    def scenario(lib):
        log = []
        x = _inputs(lib)[0]

        def unpack(t):
            log.append("unpack")
            return t * 2

        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach(), unpack):
            y = x.sin()
        log.append(y.grad_fn._saved_self.tolist())
        log.append(y.grad_fn._saved_self is x)
        return log

    assert scenario(funcgrad) == scenario(torch)

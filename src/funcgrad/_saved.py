"""torch's saved variables on a node, as autograd tutorials read them: ``y.grad_fn._saved_self``,
``_saved_exponent``, ``_saved_result`` ... Which names a node has is torch's (its
derivatives.yaml), per op and node name, in ``SAVED``; each value is found when it is read, from
what the node keeps, so recording a node does no work for them:

- an input tensor: the very tensor while it lives unchanged (a leaf always does), else its saved
  value, connected where the input was; None where the node's backward does not read it (torch
  saves it only then: ``x * c`` keeps nothing of x); a number torch wraps as a tensor
  (``x * 2.0``) as a 0-d tensor, of funcgrad's dtype for it.
- ``_saved_result``: a node keeps no output, so the op is computed again from the saved inputs,
  giving a tensor whose grad_fn is the node, as torch's.
- static arguments (dim, keepdim, alpha ...) and input sizes as torch gives them; a negative dim
  as the unsigned 64-bit int torch shows (-1 reads 18446744073709551615).

A tensor raises torch's errors once backward has freed the graph or once an input the node saved
was changed in place; the rest stay readable, except a number or size the node read from its
saved inputs when the lazy tier's signature did not keep it (a float operand, eager nodes).
Unlike torch: once freed, an input the backward never read raises too, rather than reading None;
a dim some ops take already made non-negative (transpose, permute, select) reads so; and
``max(dim, keepdim=True)``'s indices lack the kept dimension.
torch's ``_raw_saved_*`` (hooks per saved tensor) are not here: funcgrad's hooks pack all of a
node's saved inputs at once, and a node has no output saved to hook.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from . import _lazy
from ._tensor import Tensor, row_major_strides

Source = Callable[[Any], Any]  # a node -> the saved value


def _kept(node) -> tuple:
    """The inputs' arrays (avals, once a linear op's node is freed) and numbers; after backward
    freed them, what the lazy tier's signature kept: avals, static ints, a float's type."""
    if node._arrays is not None:
        return node._arrays
    if node._sig is None:
        node._check_saved()
    return node._sig.values()


def _input(i: int) -> Source:
    def get(node):
        node._check_saved()
        value = node._arrays[i]
        if not hasattr(value, "shape"):  # a number torch wraps, or None
            return None if value is None else Tensor._wrap(jnp.asarray(value))
        return node._kept_input(i) if i in node._reads() else None

    return get


def _number(i: int) -> Source:
    def get(node):
        value = _kept(node)[i]
        if isinstance(value, type):  # a float the signature kept only the type of
            node._check_saved()
        return value

    return get


def _result(node) -> Tensor:
    node._check_saved()
    primals = _lazy.concrete(node._primals())
    return Tensor._wrap(node.op.fn(*primals, **dict(node.static)), grad_fn=node)


def _sizes(i: int) -> Source:
    return lambda node: tuple(int(d) for d in _kept(node)[i].shape)


def _strides(i: int) -> Source:
    """Input i's strides, which torch saves only when a gradient flows to it."""
    return lambda node: () if node.edges[i] is None else row_major_strides(
        tuple(_kept(node)[i].shape))


def _numel(i: int) -> Source:
    return lambda node: math.prod(_kept(node)[i].shape)


def _dim(d):
    """A dim as torch's saved variable shows it: a negative one as an unsigned 64-bit int."""
    return d % 2**64 if isinstance(d, int) else d


def _dims(d) -> tuple | None:
    return None if d is None else tuple(_dim(k) for k in (d if isinstance(d, tuple) else (d,)))


def _static(key: str, default=None, convert: Callable = lambda v: v) -> Source:
    return lambda node: convert(dict(node.static).get(key, default))


def _constant(value) -> Source:
    return lambda node: value


SELF, OTHER, RESULT = {"self": _input(0)}, {"other": _input(1)}, {"result": _result}
SIZES = {"self_sym_sizes": _sizes(0)}
ALPHA = {"alpha": _static("alpha", 1)}
DIM = {"dim": _static("axis", convert=_dim)}
DIMS_KEEPDIM = {"dim": _static("axis", convert=_dims), "keepdim": _static("keepdims")}


def _mm(a: str, b: str, i: int) -> dict:
    """A matrix product's: its two matrices (inputs ``i``, ``i + 1``), their sizes and strides."""
    return {a: _input(i), b: _input(i + 1), f"{a}_sym_sizes": _sizes(i),
            f"{a}_sym_strides": _strides(i), f"{b}_sym_sizes": _sizes(i + 1),
            f"{b}_sym_strides": _strides(i + 1)}


# (op name, node name) -> {torch's name after ``_saved_``: where its value comes from}
SAVED: dict[tuple[str, str], dict[str, Source]] = {
    ("pow", "PowBackward0"): {**SELF, "exponent": _number(1)},
    ("pow", "PowBackward1"): {**SELF, "exponent": _input(1), **RESULT},
    ("pow", "PowBackward2"): {"self": _number(0), "exponent": _input(1), **RESULT},
    ("square", "PowBackward0"): {**SELF, "exponent": _constant(2)},
    **{(op, name): SELF for op, name in [
        ("log", "LogBackward0"), ("log1p", "Log1PBackward0"), ("sin", "SinBackward0"),
        ("cos", "CosBackward0"), ("abs", "AbsBackward0"), ("atan", "AtanBackward0"),
        ("erf", "ErfBackward0"), ("silu", "SiluBackward0")]},
    **{(op, name): RESULT for op, name in [
        ("exp", "ExpBackward0"), ("exp2", "Exp2Backward0"), ("tanh", "TanhBackward0"),
        ("tan", "TanBackward0"), ("sigmoid", "SigmoidBackward0"), ("relu", "ReluBackward0"),
        ("sqrt", "SqrtBackward0"), ("rsqrt", "RsqrtBackward0"),
        ("reciprocal", "ReciprocalBackward0")]},
    **{(op, name): {} for op, name in [
        ("neg", "NegBackward0"), ("t", "TBackward0"), ("sign", "SignBackward0"),
        ("floor", "FloorBackward0")]},
    ("leaky_relu", "LeakyReluBackward0"): {**SELF, "negative_slope": _static("slope")},
    ("gelu", "GeluBackward0"): {**SELF, "approximate": _static("approximate")},
    ("mul", "MulBackward0"): {**SELF, **OTHER},
    ("div", "DivBackward0"): {**SELF, **OTHER},
    ("maximum", "MaximumBackward0"): {**SELF, **OTHER},
    ("add", "AddBackward0"): ALPHA,
    ("sub", "SubBackward0"): ALPHA,
    ("rsub", "RsubBackward1"): ALPHA,
    ("matmul", "MmBackward0"): _mm("self", "mat2", 0),
    ("matmul", "MvBackward0"): {**SELF, "vec": _input(1)},
    ("addmm", "AddmmBackward0"): {**_mm("mat1", "mat2", 1), **ALPHA,
                                  "beta": _static("beta", 1)},
    ("sum", "SumBackward0"): SIZES,
    ("sum", "SumBackward1"): {**DIMS_KEEPDIM, **SIZES},
    ("mean", "MeanBackward0"): {**SIZES, "self_sym_numel": _numel(0)},
    ("mean", "MeanBackward1"): {**DIMS_KEEPDIM, **SIZES, "self_sym_numel": _numel(0)},
    ("prod", "ProdBackward0"): {**SELF, **RESULT},
    ("logsumexp", "LogsumexpBackward0"): {**DIMS_KEEPDIM, **SELF, **RESULT},
    ("softmax", "SoftmaxBackward0"): {**DIM, **RESULT},
    ("log_softmax", "LogSoftmaxBackward0"): {**DIM, **RESULT},
    ("cumsum", "CumsumBackward0"): DIM,
    ("clamp", "ClampBackward1"): {**SELF, "min": _static("lo"), "max": _static("hi")},
    ("clamp_tensor", "ClampBackward0"): {**SELF, "min": _input(1), "max": _input(2)},
    **{(op, name): {**DIM, "indices": _input(1), "keepdim": _static("keepdims"), **SIZES}
       for op, name in [("max_dim", "MaxBackward0"), ("min_dim", "MinBackward0")]},
    ("max", "MaxBackward1"): {**SELF, **RESULT},
    ("where", "WhereBackward0"): {"condition": _input(0)},
    ("mse_loss", "MseLossBackward0"): {
        **SELF, "target": _input(1),
        "reduction": _static("reduction", convert=("none", "mean", "sum").index)},
    ("select", "SelectBackward0"): {**DIM, "index": _static("index", convert=_dim), **SIZES},
    ("reshape", "ViewBackward0"): SIZES,
    ("expand", "ExpandBackward0"): SIZES,
    ("transpose", "TransposeBackward0"): {"dim0": _static("a", convert=_dim),
                                          "dim1": _static("b", convert=_dim)},
    ("permute", "PermuteBackward0"): {"dims": _static("axes", convert=_dims)},
    ("unsqueeze", "UnsqueezeBackward0"): DIM,
    ("squeeze", "SqueezeBackward0"): SIZES,
    ("squeeze", "SqueezeBackward1"): {**DIM, **SIZES},
    ("squeeze", "SqueezeBackward2"): {"dim": _static("axis", convert=_dims), **SIZES},
    ("cat", "CatBackward0"): DIM,
    ("stack", "StackBackward0"): DIM,
}


# Every saved variable's attribute name, of any kind of node.
ATTRIBUTES = frozenset(f"_saved_{name}" for sources in SAVED.values() for name in sources)


def _sources(node) -> dict[str, Source]:
    return SAVED.get((node.op.name, node.name()), {})


def names(node) -> list[str]:
    """The saved variables' attribute names of ``node``, as torch's node of its kind has."""
    return [f"_saved_{name}" for name in _sources(node)]


def saved(node, attribute: str):
    """The value of ``node``'s saved variable ``attribute`` (``_saved_<name>``).

    Raises:
        AttributeError: as torch, for a name that node's kind does not save.
        RuntimeError: torch's, for a tensor once backward freed it or its input was changed in
            place.
    """
    source = _sources(node).get(attribute.removeprefix("_saved_"))
    if source is None:
        raise AttributeError(f"'{node.name()}' object has no attribute '{attribute}'")
    return source(node)

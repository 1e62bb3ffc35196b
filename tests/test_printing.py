"""Tensor reprs against torch's own: the same values printed by both libraries, with torch's
``torch.`` read as ``funcgrad.``, plus the contract's literal examples (closed form, no torch).

Values reach both libraries from the same Python or NumPy data, so any difference is in the
printing, never in the arithmetic. Suffixes that name a dtype are 3 characters longer in
funcgrad (``funcgrad.float16``), which moves torch's 80-column wrap point; cases with a dtype
suffix are kept short so that difference cannot decide a line break.
"""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

import funcgrad

NAN, INF = math.nan, math.inf


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def printoptions(torch):
    """Both libraries' print options, restored to the defaults afterwards."""

    def set_both(**kwargs):
        torch.set_printoptions(**kwargs)
        funcgrad.set_printoptions(**kwargs)

    yield set_both
    torch.set_printoptions(profile="default")
    funcgrad.set_printoptions(profile="default")


def expected(t) -> str:
    return repr(t).replace("torch.", "funcgrad.")


# ----- the contract's examples (no torch needed) -----------------------------------------------
def test_contract_examples():
    x = funcgrad.tensor(3.0, requires_grad=True)
    assert repr(x) == "tensor(3., requires_grad=True)"
    assert repr(x ** 2) == "tensor(9., grad_fn=<PowBackward0>)"
    assert repr(funcgrad.tensor([2 / 3, 4 / 3, 2.0])) == "tensor([0.6667, 1.3333, 2.0000])"
    assert repr(funcgrad.tensor(-0.2879)) == "tensor(-0.2879)"
    assert str(x) == repr(x)


def test_literal_forms():
    assert repr(funcgrad.tensor(7)) == "tensor(7)"
    assert repr(funcgrad.tensor([True, False])) == "tensor([ True, False])"
    assert repr(funcgrad.tensor([1e-5, 1.0])) == "tensor([1.0000e-05, 1.0000e+00])"
    assert repr(funcgrad.tensor([])) == "tensor([])"
    assert repr(funcgrad.zeros(2, 0)) == "tensor([], size=(2, 0))"
    assert repr(funcgrad.tensor([[1.0, -2.0], [30.0, 4.5]])) == (
        "tensor([[ 1.0000, -2.0000],\n        [30.0000,  4.5000]])"
    )


# ----- values: torch's rules for the default dtypes --------------------------------------------
SCALARS = [3.0, -2.5, 0.0, -0.0, 1e-10, 12345.678, 123456789.0, NAN, INF, -INF, 0.1, 7, -7, 0,
           True, False]

VECTORS = [
    [1.0, 2.0, 3.0], [0.1, 100.0, 1e-5], [1e10, 1.0], [1e-5, 1e-6], [-1.5, 2.25, -3.125],
    [NAN, 1.0, INF, -INF], [NAN], [INF, 2.0], [-INF], [1e8, 1.0], [1e9], [0.0001, 1.0], [1e-5],
    [1000.0, 1.0], [1001.0, 1.0], [0.0, 0.0], [-0.0, 1.0], [100.0, -0.001], [1.5] * 30,
    [1, 2, -300], [True, False, True], [0.5, NAN, -2.0],
    [[1e-3, 2e5], [3.0, 4.0]], [[1.0, 2.0], [3.0, 40.0]], [[1, 22], [333, -4]],
    [[[1.0, -2.0], [3.0, 4.5]], [[5.0, 6.0], [7.0, 8.0]]], [[True], [False]],
    [[0.5] * 15] * 3, [[[1, -1]] * 2] * 3,
    np.linspace(-3, 3, 40).tolist(), np.linspace(0, 1e5, 25).tolist(),
]


@pytest.mark.parametrize("value", SCALARS + VECTORS, ids=repr)
def test_values(torch, value):
    assert repr(funcgrad.tensor(value)) == expected(torch.tensor(value))


@pytest.mark.parametrize("shape", [(2000,), (1001,), (40, 40), (5, 300), (3, 4, 100),
                                   (10, 10, 11), (7, 1, 200)])
def test_summarized(torch, shape):
    """More than 1000 elements: the edges of every dimension and '...'."""
    n = int(np.prod(shape))
    floats = (np.arange(n, dtype=np.float32).reshape(shape) / 7 - 3).astype(np.float32)
    assert repr(funcgrad.tensor(floats)) == expected(torch.tensor(floats))
    ints = np.arange(n).reshape(shape) - n // 2
    assert repr(funcgrad.tensor(ints)) == expected(torch.tensor(ints))


def test_random_values(torch):
    """Many shapes, magnitudes from 1e-7 to 1e9, integer-valued and non-finite mixes."""
    rng = np.random.default_rng(1234)
    shapes = [(), (1,), (5,), (3, 4), (2, 3, 4), (2, 1, 3, 2), (12,), (40, 30), (3, 400)]
    for i in range(90):
        shape = shapes[i % len(shapes)]
        values = rng.standard_normal(shape) * 10.0 ** rng.integers(-7, 10)
        if i % 3 == 1:
            values = np.round(values)
        if i % 3 == 2 and values.size:
            values.flat[0] = [NAN, INF, -INF][i % 3]
        values = values.astype(np.float32)
        assert repr(funcgrad.tensor(values)) == expected(torch.tensor(values)), (shape, values)
        assert (repr(funcgrad.tensor(values, requires_grad=True))
                == expected(torch.tensor(values, requires_grad=True)))


def test_empty(torch):
    for shape in [(0,), (0, 3), (2, 0, 3), (3, 0)]:
        assert repr(funcgrad.zeros(*shape)) == expected(torch.zeros(*shape))
        assert (repr(funcgrad.zeros(*shape, requires_grad=True))
                == expected(torch.zeros(*shape, requires_grad=True)))
    for name in ["int32", "int16", "uint8", "bool", "float16", "bfloat16"]:
        assert (repr(funcgrad.tensor([], dtype=getattr(funcgrad, name)))
                == expected(torch.tensor([], dtype=getattr(torch, name))))


# ----- dtype suffixes --------------------------------------------------------------------------
SHORT = [[1.5, 2.25], 3.0, [1e-5, 1.0], [1, 2], [[0.5, -1.0], [2.0, 4.0]], [NAN, 1.0], 60000.0]


@pytest.mark.parametrize("name", ["float16", "bfloat16", "int8", "int16", "uint8"])
@pytest.mark.parametrize("value", SHORT, ids=repr)
def test_dtype_suffix(torch, name, value):
    if name in ("int8", "uint8", "int16"):
        value = np.nan_to_num(np.asarray(value)).clip(0, 100).astype(name)
    assert (repr(funcgrad.tensor(value, dtype=getattr(funcgrad, name)))
            == expected(torch.tensor(value, dtype=getattr(torch, name))))


@pytest.mark.parametrize("value", SHORT, ids=repr)
def test_64bit_suffixes(torch, value):
    """float64 prints its suffix and int64 none, as in torch; int32 gains one once int64 is
    the default integer type."""
    ints = np.nan_to_num(np.asarray(value)).astype(np.int64)
    with jax.enable_x64(True):
        for dtype in ("float64", "float32", "int64", "int32"):
            data = ints if dtype.startswith("int") else value
            assert (repr(funcgrad.tensor(data, dtype=getattr(funcgrad, dtype)))
                    == expected(torch.tensor(data, dtype=getattr(torch, dtype))))
        assert repr(funcgrad.tensor(ints)) == expected(torch.tensor(ints))


def test_int32_is_the_default_integer_without_x64():
    # Without jax_enable_x64, JAX's integers are int32 and funcgrad treats int32 as the
    # default integer type: it prints the way torch prints its default, int64.
    assert repr(funcgrad.tensor([1, 2])) == "tensor([1, 2])"
    assert funcgrad.tensor([1, 2]).dtype == funcgrad.int32


# ----- grad_fn and requires_grad suffixes ------------------------------------------------------
OPS = {
    "pow": lambda x: x ** 2,
    "mul": lambda x: x * 2,
    "add": lambda x: x + 1,
    "neg": lambda x: -x,
    "sum": lambda x: x.sum(),
    "select": lambda x: x[0],
    "slice": lambda x: x[1:],
    "view": lambda x: x.reshape(-1, 1),
    "relu": lambda x: x.relu(),
    "abs": lambda x: x.abs(),
    "clone": lambda x: x.clone(),
}


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("value", [[1.0, -2.0, 3.5], [[1.0, 2.0], [-3.0, 4.25]],
                                   np.linspace(-1, 1, 9).tolist(), [0.125] * 24])
def test_grad_fn_suffix(torch, op, value):
    t, f = torch.tensor(value, requires_grad=True), funcgrad.tensor(value, requires_grad=True)
    assert repr(f) == expected(t)
    assert repr(OPS[op](f)) == expected(OPS[op](t))


@pytest.mark.parametrize("n", range(4, 13))
def test_suffix_wraps_at_80_columns(torch, n):
    """The suffix goes on its own line exactly when the last line would pass 80 columns."""
    value = np.linspace(-1, 1, n).tolist()
    t, f = torch.tensor(value, requires_grad=True), funcgrad.tensor(value, requires_grad=True)
    assert repr(f * 2) == expected(t * 2)
    assert repr(f) == expected(t)


def test_suffix_combinations(torch):
    value = [1.5, -2.0]
    for name in ("float16", "bfloat16"):
        t = torch.tensor(value, dtype=getattr(torch, name), requires_grad=True)
        f = funcgrad.tensor(value, dtype=getattr(funcgrad, name), requires_grad=True)
        assert repr(f) == expected(t)
        assert repr(f * 2) == expected(t * 2)
    with funcgrad.no_grad():
        assert repr(funcgrad.tensor(value, requires_grad=True) * 2) == "tensor([ 3., -4.])"
    assert repr(funcgrad.tensor(value, requires_grad=True).detach()) == "tensor([ 1.5000, -2.0000])"


# ----- print options ---------------------------------------------------------------------------
OPTIONS = [dict(precision=2), dict(precision=6), dict(sci_mode=True), dict(sci_mode=False),
           dict(precision=1, sci_mode=True), dict(linewidth=40), dict(linewidth=200),
           dict(threshold=5), dict(edgeitems=1, threshold=5), dict(edgeitems=2, threshold=3),
           dict(profile="short"), dict(profile="full")]
OPTION_VALUES = [[1.23456789, 2.0], [1e-5, 1.0, 1000.5], [1.0, 2.0, 3.0], 3.14159, [1e10],
                 list(range(12)), [float(i) for i in range(12)], [[0.5, 1.5, 2.5] * 4] * 8,
                 [NAN, 1.5], [NAN], [0.0, 0.0], np.linspace(-1, 1, 30).reshape(5, 6).tolist()]


@pytest.mark.parametrize("options", OPTIONS, ids=repr)
def test_set_printoptions(torch, printoptions, options):
    printoptions(**options)
    for value in OPTION_VALUES:
        assert repr(funcgrad.tensor(value)) == expected(torch.tensor(value)), value
        floats = np.asarray(value, dtype=np.float32)
        assert (repr(funcgrad.tensor(floats, requires_grad=True))
                == expected(torch.tensor(floats, requires_grad=True)))


def test_printoptions_restore(printoptions):
    printoptions(precision=2, sci_mode=True)
    assert repr(funcgrad.tensor([1.0, 2.0])) == "tensor([1.00e+00, 2.00e+00])"
    printoptions(profile="default")
    assert repr(funcgrad.tensor([1.0, 2.0])) == "tensor([1., 2.])"


# ----- __format__ ------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [3.14159, 2.0, -0.5, 7, True])
@pytest.mark.parametrize("spec", ["", ".2f", "10.3e", ">8", "+"])
def test_format_0d(torch, value, spec):
    assert format(funcgrad.tensor(value), spec) == format(torch.tensor(value), spec)


def test_fstrings(torch):
    f = funcgrad.tensor(2.5, requires_grad=True)
    t = torch.tensor(2.5, requires_grad=True)
    assert f"{f}" == f"{t}" == "2.5"
    assert f"{f * 2:.3f}" == f"{t * 2:.3f}" == "5.000"
    assert f"{funcgrad.tensor(1 / 3):.2f}" == "0.33"
    vector = funcgrad.tensor([1.0, 2.0])
    assert f"{vector}" == repr(vector) == expected(torch.tensor([1.0, 2.0]))


RETURN_TYPES = {
    "max": lambda T, x: T.max(x, 1),
    "min_keepdim": lambda T, x: x.min(0, keepdim=True),
    "sort": lambda T, x: T.sort(x, descending=True),
    "topk": lambda T, x: T.topk(x, 2),
    "median": lambda T, x: x.median(1),
    "kthvalue": lambda T, x: T.kthvalue(x, 2),
    "cummax": lambda T, x: T.cummax(x, 0),
    "aminmax": lambda T, x: T.aminmax(x),
    "frexp": lambda T, x: T.frexp(x),
    "mode": lambda T, x: T.mode(T.round(x)),
    "slogdet": lambda T, x: T.linalg.slogdet(x[:, :2] @ x[:, :2].t() + T.eye(3)),
    "eigh": lambda T, x: T.linalg.eigh(x @ x.t()),
    "grad_fn": lambda T, x: T.max(x.requires_grad_(), 1),
}


@pytest.mark.parametrize("op", RETURN_TYPES)
def test_return_types_print_as_torch(torch, op):
    value = [[0.5, -1.25, 3.0, 2.0], [4.0, 1.5, -2.5, 0.75], [-1.0, 2.25, 0.25, 3.5]]
    got = RETURN_TYPES[op](funcgrad, funcgrad.tensor(value))
    want = RETURN_TYPES[op](torch, torch.tensor(value))
    assert type(got).__name__ == type(want).__name__
    if op not in ("eigh",):  # eigenvectors' signs are the solver's choice
        assert repr(got) == expected(want).replace(", dtype=funcgrad.int32", "")
    assert str(got) == repr(got)


def test_return_types_pickle_and_unpack():
    import pickle

    result = funcgrad.sort(funcgrad.tensor([3.0, 1.0, 2.0]))
    values, indices = pickle.loads(pickle.dumps(result))
    assert type(pickle.loads(pickle.dumps(result))) is funcgrad.return_types.sort
    assert values.tolist() == [1.0, 2.0, 3.0] and indices.tolist() == [1, 2, 0]
    assert result.values is result[0] and result._fields == ("values", "indices")

"""``nn.utils.parametrizations.orthogonal`` against torch's: for the same original (and base)
the same orthogonal weight, ``grad_fn`` and gradients, for every map, with and without the
trivialization, tall, wide, batched and complex; the same initial weight and assignments
through ``right_inverse``; torch's errors."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad
from test_errors import assert_raises_as_torch


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _draw(rng, shape, complex_: bool, scale: float = 1.0) -> np.ndarray:
    x = rng.standard_normal(shape) * scale
    if complex_:
        return (x + 1j * rng.standard_normal(shape) * scale).astype(np.complex64)
    return x.astype(np.float32)


def _orthogonal(lib, weight: np.ndarray, **kwargs):
    module = lib.nn.Module()
    module.weight = lib.nn.Parameter(lib.tensor(weight))
    return lib.nn.utils.parametrizations.orthogonal(module, **kwargs)


def _array(t) -> np.ndarray:
    return np.asarray(t.detach())


def _parametrization(module):
    return module.parametrizations.weight


def _copy(lib, target, value: np.ndarray) -> None:
    with lib.no_grad():
        target.copy_(lib.tensor(value))


MAPS = [None, "matrix_exp", "cayley", "householder"]
SHAPES = [(3, 3), (5, 3), (3, 5), (2, 3, 3)]


@pytest.mark.parametrize("trivialization", [True, False], ids=["trivialization", "plain"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
def test_weight_and_gradient_are_torchs(torch, orthogonal_map, shape, trivialization,
                                        complex_) -> None:
    if complex_ and orthogonal_map == "householder":
        pytest.skip("torch's householder map refuses complex tensors (tested below)")
    rng = np.random.default_rng(len(shape) + shape[-1] * 7 + 3 * complex_)
    weight, original = _draw(rng, shape, complex_), _draw(rng, shape, complex_, 0.5)
    if orthogonal_map == "householder" or (orthogonal_map is None and shape[-1] != shape[-2]):
        # the diagonal's signs flip the reflectors' columns; other values truncate to zero
        k = min(shape[-2:])
        signs = rng.choice([-1.0, 1.0], shape[:-2] + (k,))
        idx = np.arange(k)
        original[..., idx, idx] = signs
    ours = _orthogonal(funcgrad, weight, orthogonal_map=orthogonal_map,
                       use_trivialization=trivialization)
    theirs = _orthogonal(torch, weight, orthogonal_map=orthogonal_map,
                         use_trivialization=trivialization)
    if trivialization:  # a non-square base is completed with random columns: take torch's
        _copy(funcgrad, _parametrization(ours)[0].base, _array(_parametrization(theirs)[0].base))
    _copy(funcgrad, _parametrization(ours).original, original)
    _copy(torch, _parametrization(theirs).original, original)
    got, want = ours.weight, theirs.weight
    np.testing.assert_allclose(_array(got), _array(want), rtol=1e-4, atol=1e-5)
    assert got.grad_fn.name() == type(want.grad_fn).__name__
    upstream = _draw(rng, shape, complex_)
    (got * funcgrad.tensor(upstream)).real.sum().backward()
    (want * torch.tensor(upstream)).real.sum().backward()
    np.testing.assert_allclose(np.asarray(_parametrization(ours).original.grad),
                               _parametrization(theirs).original.grad.numpy(), rtol=1e-3,
                               atol=1e-4)


@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)], ids=["3x3", "2x4x4"])
def test_initial_weight_is_torchs_qr(torch, orthogonal_map, shape) -> None:
    """A square weight starts as its QR's Q with R's diagonal positive (a deterministic base):
    the same in both, and orthogonal."""
    weight = _draw(np.random.default_rng(5), shape, False)
    ours = _orthogonal(funcgrad, weight, orthogonal_map=orthogonal_map)
    theirs = _orthogonal(torch, weight, orthogonal_map=orthogonal_map)
    np.testing.assert_allclose(_array(ours.weight), _array(theirs.weight), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_array(_parametrization(ours).original),
                               _array(_parametrization(theirs).original))
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())


@pytest.mark.parametrize("trivialization", [True, False], ids=["trivialization", "plain"])
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)], ids=["4x4", "5x3", "3x5"])
def test_assigning_an_orthogonal_matrix_gives_it_back(torch, shape, trivialization) -> None:
    """``right_inverse``: the weight assigned is the weight read (householder without the
    trivialization stores reflectors; with it the assigned matrix completes the base)."""
    rng = np.random.default_rng(6)
    q = np.linalg.qr(rng.standard_normal((max(shape), min(shape))))[0].astype(np.float32)
    q = q if shape[0] >= shape[1] else q.T
    ours = _orthogonal(funcgrad, _draw(rng, shape, False), orthogonal_map="householder",
                       use_trivialization=trivialization)
    theirs = _orthogonal(torch, _draw(rng, shape, False), orthogonal_map="householder",
                         use_trivialization=trivialization)
    ours.weight, theirs.weight = funcgrad.tensor(q), torch.tensor(q)
    np.testing.assert_allclose(_array(ours.weight), q, atol=1e-5)
    np.testing.assert_allclose(_array(theirs.weight), q, atol=1e-5)
    if not trivialization:
        np.testing.assert_allclose(_array(_parametrization(ours).original),
                                   _array(_parametrization(theirs).original), atol=1e-5)


def _assign_without_trivialization(T):
    module = T.nn.utils.parametrizations.orthogonal(T.nn.Linear(3, 3), orthogonal_map="cayley",
                                                    use_trivialization=False)
    module.weight = T.eye(3)


def _assign_wrong_shape(T):
    module = T.nn.utils.parametrizations.orthogonal(T.nn.Linear(3, 3))
    module.weight = T.eye(4)


ERRORS = {
    "vector": lambda T: T.nn.utils.parametrizations.orthogonal(T.nn.Linear(3, 3), "bias"),
    "missing": lambda T: T.nn.utils.parametrizations.orthogonal(T.nn.Linear(3, 3), "kernel"),
    "unknown_map": lambda T: T.nn.utils.parametrizations.orthogonal(T.nn.Linear(3, 3),
                                                                    orthogonal_map="qr"),
    "complex_householder": lambda T: _orthogonal(T, np.eye(3, dtype=np.complex64),
                                                 orthogonal_map="householder"),
    "assign_without_trivialization": _assign_without_trivialization,
    "assign_wrong_shape": _assign_wrong_shape,
}


@pytest.mark.parametrize("scenario", ERRORS.values(), ids=ERRORS)
def test_errors_match_torch(torch, scenario) -> None:
    assert_raises_as_torch(torch, scenario)

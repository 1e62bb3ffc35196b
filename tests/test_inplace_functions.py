"""torch's top-level in-place functions (``torch.sin_(x)``) against torch's: the tensor they
return, its values, version, ``grad_fn`` and the gradient through it."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad
from funcgrad._inplace_functions import NAMES

# The arguments after the tensor, per function that takes some (as lib -> args).
_ARGS = {
    "addmv_": lambda lib: (lib.tensor([[0.5, 0.25], [0.2, 0.1]]), lib.tensor([0.3, 0.6])),
    "clamp_": lambda lib: (0.3, 0.6), "clip_": lambda lib: (0.3, 0.6),
    "clamp_max_": lambda lib: (0.5,), "clamp_min_": lambda lib: (0.5,),
    "fill_": lambda lib: (2.5,), "ldexp_": lambda lib: (lib.tensor([1.0, 2.0]),),
    "xlogy_": lambda lib: (lib.tensor([0.5, 2.0]),), "logit_": lambda lib: (0.1,),
    "index_put_": lambda lib: ((lib.tensor([1]),), lib.tensor([7.0])),
    "resize_as_": lambda lib: (lib.zeros(2),),
    "as_strided_": lambda lib: ((2,), (1,)),
}
_INTEGER = ("gcd_", "lcm_")  # on integers only: no gradient
_NOT_RECORDED = ("detach_", "resize_as_")  # no grad_fn of their own
_ACOSH = ("acosh_", "arccosh_")  # defined from 1 up
# torch has no derivative for these in place (it raises); compared without a graph
_NO_TORCH_DERIVATIVE = ("acosh_", "arccosh_", "asinh_", "arcsinh_", "atanh_", "arctanh_")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _run(lib, name: str):
    if name in _INTEGER:
        x = lib.tensor([12, 18])
        return x, getattr(lib, name)(x, lib.tensor([8, 12])), None
    leaf = lib.tensor([0.25, 0.75],
                      requires_grad=name not in (*_NOT_RECORDED, *_NO_TORCH_DERIVATIVE))
    x = leaf + 1 if name in _ACOSH else leaf * 1 if leaf.requires_grad else leaf.clone()
    version = x._version
    out = getattr(lib, name)(x, *_ARGS.get(name, lambda lib: ())(lib))
    if leaf.requires_grad:
        out.sum().backward()
    return x, out, (x._version - version, leaf.grad)


@pytest.mark.parametrize("name", NAMES)
def test_in_place_functions_match_torch(name, torch) -> None:
    (x, out, rest), (xt, out_t, rest_t) = _run(funcgrad, name), _run(torch, name)
    assert out is x and out_t is xt
    np.testing.assert_allclose(np.asarray(out.detach()), out_t.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    assert (None if out.grad_fn is None else out.grad_fn.name()) == (
        None if out_t.grad_fn is None else out_t.grad_fn.name())
    if rest is not None:
        (bumped, grad), (bumped_t, grad_t) = rest, rest_t
        assert (bumped > 0) == (bumped_t > 0)
        assert (grad is None) == (grad_t is None)
        if grad is not None:
            np.testing.assert_allclose(np.asarray(grad), grad_t.numpy(), rtol=1e-5, atol=1e-6)


def test_every_in_place_function_of_torch_is_here(torch) -> None:
    """Each of torch's top-level in-place functions whose method funcgrad has."""
    wanted = {n for n in dir(torch) if n.endswith("_") and not n.startswith("_")
              and hasattr(funcgrad.Tensor, n)}
    assert wanted <= {n for n in dir(funcgrad) if callable(getattr(funcgrad, n))}

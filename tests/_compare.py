"""Comparing a scenario run with torch against the same scenario run with funcgrad: the
scenario is written once against the API the two share and returns a tree of results."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import funcgrad

# Float32 results on a GPU differ from the CPU reference in the last bits (fused kernels, other
# summation orders), which shows as an absolute error of a few 1e-6 where values cancel.
F32_ATOL = 1e-5 if jax.default_backend() == "gpu" else 1e-6


def as_numpy(tree):
    """Tensors (torch's or funcgrad's) and arrays as float64 NumPy arrays; tuples and lists
    recursively; None, bools and strings as they are."""
    if tree is None or isinstance(tree, (bool, str)):
        return tree
    if isinstance(tree, (tuple, list)):
        return type(tree)(as_numpy(t) for t in tree)
    if hasattr(tree, "detach"):
        tree = tree.detach().cpu().numpy() if hasattr(tree, "cpu") else tree.detach().numpy()
    return np.asarray(tree, np.float64)


def assert_trees_close(got, expected, rtol: float = 1e-5, atol: float = 1e-6, path: str = ""):
    """Same structure, same None/bool/str leaves, numbers close."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(expected), (path, got, expected)
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_trees_close(g, e, rtol, atol, f"{path}[{i}]")
    elif expected is None or isinstance(expected, (bool, str)):
        assert got == expected, (path, got, expected)
    else:
        assert got is not None, (path, got, expected)
        assert np.shape(got) == np.shape(expected), (path, np.shape(got), np.shape(expected))
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=path)


def same_as_torch(scenario, rtol: float = 1e-5, atol: float = 1e-6):
    """Runs ``scenario(lib)`` with torch and with funcgrad; asserts the results agree and returns
    funcgrad's, as NumPy."""
    torch = pytest.importorskip("torch")
    expected = as_numpy(scenario(torch))
    got = as_numpy(scenario(funcgrad))
    assert_trees_close(got, expected, rtol, atol)
    return got

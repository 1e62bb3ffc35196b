"""The higher-order examples, run as a user runs them: what they print against JAX, torch and
closed forms computed here from the examples' own constants."""

from __future__ import annotations

import ast
import doctest
import runpy
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(name: str) -> dict:
    """The script's ``label: value`` lines, each value parsed as a Python literal."""
    done = subprocess.run([sys.executable, str(EXAMPLES / name), "--device", "cpu"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = (line.rpartition(": ") for line in done.stdout.splitlines())
    return {label: ast.literal_eval(value) for label, _, value in lines}


def constants(name: str) -> dict:
    """The example's module globals (its data and functions), without running main."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        return runpy.run_path(str(EXAMPLES / name))
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.fixture(scope="module")
def penalty_run() -> dict:
    return run("gradient_penalty.py")


def _penalty_jax(c: dict):
    mix = jnp.asarray(c["MIX"])[:, None]
    x = mix * jnp.asarray(c["REAL"]) + (1 - mix) * jnp.asarray(c["FAKE"])

    def penalty(w1, w2):
        g = jax.grad(lambda x: jnp.sum(jnp.tanh(x @ w1) @ w2))(x)
        return jnp.mean((jnp.linalg.norm(g, axis=1) - 1) ** 2)

    return jax.value_and_grad(penalty, argnums=(0, 1))(jnp.asarray(c["W1"]), jnp.asarray(c["W2"]))


@pytest.mark.parametrize("prefix", ["", "functional "], ids=["stateful", "functional"])
def test_gradient_penalty_matches_jax(penalty_run, prefix):
    value, (dw1, dw2) = _penalty_jax(constants("gradient_penalty.py"))
    np.testing.assert_allclose(penalty_run[f"{prefix}penalty"], value, rtol=1e-5)
    np.testing.assert_allclose(penalty_run[f"{prefix}dpenalty/dw1"], dw1, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(penalty_run[f"{prefix}dpenalty/dw2"], dw2, rtol=1e-5, atol=1e-7)


def test_gradient_penalty_matches_torch(penalty_run):
    torch = pytest.importorskip("torch")
    c = constants("gradient_penalty.py")
    mix = torch.tensor(c["MIX"]).unsqueeze(1)
    x = (mix * torch.tensor(c["REAL"]) + (1 - mix) * torch.tensor(c["FAKE"])).requires_grad_()
    w1 = torch.tensor(c["W1"], requires_grad=True)
    w2 = torch.tensor(c["W2"], requires_grad=True)
    (g,) = torch.autograd.grad(((x @ w1).tanh() @ w2).sum(), x, create_graph=True)
    penalty = ((g.norm(dim=1) - 1) ** 2).mean()
    penalty.backward()
    np.testing.assert_allclose(penalty_run["penalty"], penalty.item(), rtol=1e-5)
    np.testing.assert_allclose(penalty_run["dpenalty/dw1"], w1.grad.tolist(), rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_allclose(penalty_run["dpenalty/dw2"], w2.grad.tolist(), rtol=1e-5,
                               atol=1e-7)


def _rosenbrock_hessian(x: np.ndarray) -> np.ndarray:
    """d^2/dx^2 of sum(100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2), by hand."""
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 2 + 1200 * x[i] ** 2 - 400 * x[i + 1]
        h[i + 1, i + 1] += 200
        h[i, i + 1] = h[i + 1, i] = -400 * x[i]
    return h


def test_hessian_vector_products_match_the_closed_form():
    printed = run("hessian_vector_product.py")
    c = constants("hessian_vector_product.py")
    x, v = np.array(c["X"]), np.array(c["V"])
    f = np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    np.testing.assert_allclose(printed["f(x)"], f, rtol=1e-6)
    expected = _rosenbrock_hessian(x) @ v
    for label in ("double backward", "autograd.functional.hvp", "jvp of grad"):
        np.testing.assert_allclose(printed[label], expected, rtol=1e-5, err_msg=label)


def test_the_readme_examples_run_as_shown():
    page = EXAMPLES.parent / "README.md"
    parser = doctest.DocTestParser()
    test = parser.get_doctest(page.read_text(), {}, page.name, str(page), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0 and result.failed == 0, f"{result.failed} example(s) failed"

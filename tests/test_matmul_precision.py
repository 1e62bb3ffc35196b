"""``funcgrad.set_float32_matmul_precision`` and ``get_float32_matmul_precision`` against
torch's: the names each accepts and reports, the error and the warning of bad arguments; and
that the setting is JAX's own (closed forms: the value JAX's config then holds). What a setting
does to the numbers shows only on a GPU (``test_gpu``): a CPU computes float32 in float32."""

from __future__ import annotations

import jax
import pytest

import funcgrad
from test_errors import assert_raises_as_torch, assert_warns_as_torch


@pytest.fixture
def torch():
    """torch, its precision restored after the test."""
    torch = pytest.importorskip("torch")
    before = torch.get_float32_matmul_precision()
    yield torch
    torch.set_float32_matmul_precision(before)


@pytest.fixture(autouse=True)
def _restore_jax():
    before = jax.default_matmul_precision.value
    yield
    jax.config.update("jax_default_matmul_precision", before)


def test_the_default_is_torchs_on_the_cpu(torch):
    if jax.default_backend() != "cpu":
        pytest.skip("JAX's default on a GPU or TPU is not torch's (see test_gpu)")
    jax.config.update("jax_default_matmul_precision", None)
    assert funcgrad.get_float32_matmul_precision() == torch.get_float32_matmul_precision()


@pytest.mark.parametrize("precision", ["high", "medium", "highest"])
def test_each_precision_reads_back_as_torchs(torch, precision):
    for lib in (funcgrad, torch):
        lib.set_float32_matmul_precision(precision)
    assert funcgrad.get_float32_matmul_precision() == torch.get_float32_matmul_precision()


@pytest.mark.parametrize(("precision", "jax_name"), [
    ("highest", "float32"), ("high", "tensorfloat32"), ("medium", "bfloat16")])
def test_the_setting_is_jaxs(precision, jax_name):
    funcgrad.set_float32_matmul_precision(precision)
    assert jax.default_matmul_precision.value == jax_name
    with jax.default_matmul_precision("highest"):  # a JAX block is read as well
        assert funcgrad.get_float32_matmul_precision() == "highest"
    assert funcgrad.get_float32_matmul_precision() == precision


def test_a_non_string_raises_as_torch(torch):
    assert_raises_as_torch(torch, lambda lib: lib.set_float32_matmul_precision(3))


def test_an_unknown_name_warns_as_torch_and_changes_nothing(torch):
    for lib in (funcgrad, torch):
        lib.set_float32_matmul_precision("medium")
    assert_warns_as_torch(torch, lambda lib: lib.set_float32_matmul_precision("low"))
    assert funcgrad.get_float32_matmul_precision() == "medium"
    assert jax.default_matmul_precision.value == "bfloat16"

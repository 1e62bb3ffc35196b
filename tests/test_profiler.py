"""``funcgrad.profiler.record_function`` against torch's (as a context manager and a decorator),
and its regions in a JAX profile; ``funcgrad.distributed``'s answers."""

from __future__ import annotations

import jax
import pytest

import funcgrad


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _uses(lib):
    record_function = lib.autograd.profiler.record_function
    assert record_function is lib.profiler.record_function

    @record_function("double")
    def double(x):
        return x * 2

    with record_function("outer", "with args") as region:
        assert isinstance(region, record_function)
        with record_function("inner"):
            y = double(lib.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="inside"), record_function("failing"):
        raise ValueError("inside")
    return y.tolist()


def test_record_function_is_torchs(torch):
    assert _uses(funcgrad) == _uses(torch) == [2.0, 4.0]


def test_its_regions_are_named_in_a_jax_profile(tmp_path):
    with jax.profiler.trace(str(tmp_path)):
        with funcgrad.profiler.record_function("funcgrad_region_of_a_test"):
            (funcgrad.ones(3) * 2).tolist()
    written = [p.read_bytes() for p in tmp_path.rglob("*.xplane.pb")]
    assert written and any(b"funcgrad_region_of_a_test" in data for data in written)


def test_distributed_says_there_is_no_process_group(torch):
    assert funcgrad.distributed.is_initialized() is torch.distributed.is_initialized() is False
    assert funcgrad.distributed.is_available() is False

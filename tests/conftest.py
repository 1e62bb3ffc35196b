"""Shared test setup: the ``gpu`` marker skips cleanly on machines without a GPU."""

import pytest

import funcgrad


def pytest_collection_modifyitems(config, items):
    if funcgrad.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a GPU: JAX sees none here (see scripts/gpu_check.sh)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)

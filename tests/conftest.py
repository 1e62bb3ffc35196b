"""Shared test setup: the ``gpu`` marker skips cleanly on machines without a GPU, and the
``torch_wording`` marker where the installed torch is not the version whose words funcgrad
copies."""

import importlib.metadata

import pytest

import funcgrad

# The error messages and reprs funcgrad copies are those of the torch that CI installs; other
# torch versions word some of them differently (a GPU machine's image may carry another).
REFERENCE_TORCH = "2.13."

# The suite sweeps hundreds of graphs through a few shared helpers, each helper line compiling
# many structures on purpose: the warning that flags that in a training loop stays out of the
# way here (tests/test_tiers.py turns it back on to test it).
funcgrad.config.recompile_warn_after = 1_000_000


def _installed_torch() -> str | None:
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None


def pytest_collection_modifyitems(config, items):
    skips = {}
    if not funcgrad.cuda.is_available():
        skips["gpu"] = "needs a GPU: JAX sees none here (see scripts/gpu_check.sh)"
    torch_version = _installed_torch()
    if torch_version is not None and not torch_version.startswith(REFERENCE_TORCH):
        skips["torch_wording"] = (f"compares strings with torch {REFERENCE_TORCH}x's; torch "
                                  f"{torch_version} words them differently")
    for item in items:
        for marker, reason in skips.items():
            if marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))

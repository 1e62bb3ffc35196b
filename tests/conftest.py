"""Shared test setup: the ``gpu`` marker skips cleanly on machines without a GPU, the
``torch_wording`` marker where the installed torch is not the version whose words funcgrad
copies, and the compiled caches are emptied now and then so one process can run the whole
suite. The README's command spreads the suite over one process per core (pytest-xdist)."""

import importlib.metadata
import os

# Under pytest-xdist each worker is a process with its own JAX client, and a GPU client takes
# 75% of the GPU's memory when it starts unless told otherwise: the workers share the GPU. (Set
# before JAX starts its backends, at the first computation, not at the import.)
if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import jax  # noqa: E402
import pytest  # noqa: E402

import funcgrad  # noqa: E402

# The error messages and reprs funcgrad copies are those of the torch that CI installs; other
# torch versions word some of them differently (a GPU machine's image may carry another).
REFERENCE_TORCH = "2.13."

# The suite sweeps hundreds of graphs through a few shared helpers, each helper line compiling
# many structures on purpose: the warning that flags that in a training loop stays out of the
# way here (tests/test_tiers.py turns it back on to test it).
funcgrad.config.recompile_warn_after = 1_000_000

# Every program XLA compiles for the CPU holds about a dozen memory maps for as long as a cache
# keeps it, and a process past Linux's vm.max_map_count (65530 by default, about 5,000
# programs) crashes inside XLA's compiler. The suite compiles far more than that in one process
# (test_ops.py alone does), so after every COMPILES_BEFORE_CLEAR compiles the teardown of the
# current test empties funcgrad's caches and JAX's; later tests compile again what they need.
COMPILES_BEFORE_CLEAR = 2_000
_compiles = 0


def _count_compile(event: str, duration: float, **kwargs) -> None:
    global _compiles
    if event == "/jax/core/compile/backend_compile_duration":
        _compiles += 1


jax.monitoring.register_event_duration_secs_listener(_count_compile)


def pytest_runtest_teardown(item, nextitem):
    global _compiles
    if _compiles >= COMPILES_BEFORE_CLEAR:
        funcgrad.debug.clear_caches()
        jax.clear_caches()
        _compiles = 0


@pytest.fixture
def dynamo_torch():
    """torch, for a test that runs TorchDynamo (``torch.cond``, ``torch.while_loop``,
    ``torch.compile``). Dynamo turns torch.distributions' argument validation off for the whole
    process (``Distribution.set_default_validate_args(False)``), and later tests compare with
    torch's validation errors: this puts it back as it was."""
    torch = pytest.importorskip("torch")
    validating = torch.distributions.Distribution._validate_args
    yield torch
    torch.distributions.Distribution.set_default_validate_args(validating)


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

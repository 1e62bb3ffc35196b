"""``funcgrad.version``: torch.version's build facts, funcgrad's own: ``__version__``
(funcgrad's, not a torch version, as a plain string: ``funcgrad.__version__`` is the one that
compares as a version), ``cuda`` (the CUDA version of JAX's CUDA plugin, as torch's is its
build's; None without one), ``hip``, ``rocm`` and ``xpu`` (None: funcgrad has no builds for
them), and ``debug`` (False). torch's ``git_version``, the commit torch was built from, has no
counterpart in funcgrad and is left out.

>>> import funcgrad
>>> funcgrad.version.hip is None, funcgrad.version.debug
(True, False)
"""

from __future__ import annotations

try:  # JAX's own CUDA checks read the plugin's versions in this private module
    from jax._src.lib import cuda_versions as _cuda_plugin
except ImportError:  # a JAX that moved it: the version is then unknown, not an import error
    _cuda_plugin = None

__all__ = ["__version__", "debug", "cuda", "hip", "rocm", "xpu"]


def _cuda_version(versions) -> str | None:
    """``"12.8"`` from the CUDA runtime version a CUDA plugin was built with (12080); None
    without a plugin, or one that does not say."""
    build_version = getattr(versions, "cuda_runtime_build_version", None)
    if build_version is None:
        return None
    build = build_version()
    return f"{build // 1000}.{build % 1000 // 10}"


__version__ = "0.1.0"
debug = False
cuda: str | None = _cuda_version(_cuda_plugin)
hip: str | None = None
rocm: str | None = None
xpu: str | None = None

"""``funcgrad.backends``: the switches of ``torch.backends`` that training scripts set.

- ``cuda.matmul.allow_tf32`` is torch's older name for the float32 matmul precision: reading it
  says whether ``get_float32_matmul_precision()`` is other than ``'highest'``, setting it sets
  ``'high'`` or ``'highest'`` (``set_float32_matmul_precision``), so JAX follows it. On a GPU
  it reads True by default, because JAX's default there is TensorFloat32.
- ``cudnn.enabled``, ``benchmark``, ``deterministic`` and ``allow_tf32`` are kept as set, with
  torch's defaults and checks, and ``cudnn.flags(...)`` sets them for a block. They choose
  nothing here: XLA picks (and autotunes) its GPU convolution algorithms itself, computes
  convolutions at the float32 matmul precision, and is deterministic on a GPU when JAX starts
  with ``XLA_FLAGS=--xla_gpu_deterministic_ops=true`` (see ``use_deterministic_algorithms``).
- ``cuda.enable_flash_sdp(...)``/``cuda.flash_sdp_enabled()`` and their math, mem_efficient
  and cudnn kin (what ``nn.attention.sdpa_kernel`` sets) are kept as set: XLA compiles
  ``scaled_dot_product_attention`` itself, whichever are enabled.
- ``mps.is_available()`` and ``mps.is_built()``: False, JAX has no Metal backend here.
- ``opt_einsum.enabled`` and ``strategy`` are kept as set, and ``opt_einsum.flags(...)``
  sets them for a block (checked there, as torch checks them): ``einsum`` is ``jnp.einsum``,
  which always plans its contraction order with the opt_einsum package (JAX's dependency, so
  ``is_available()`` is True), by its ``'auto'`` strategy, whatever they say.

>>> import funcgrad
>>> funcgrad.backends.cudnn.benchmark = True
>>> funcgrad.backends.cudnn.benchmark
True
>>> funcgrad.backends.cudnn.benchmark = False
"""

from __future__ import annotations

import contextlib

from . import _config
from . import cuda as _cuda


def _checked(setter: str, value) -> bool:
    if not isinstance(value, bool):
        raise RuntimeError(f"{setter} expects a bool, but got {type(value).__name__}")
    return value


class _Switches:
    """Attributes that must exist: torch's AttributeError for an unknown one, read or set."""

    _names: tuple = ()

    def __getattr__(self, name: str):
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name: str, value) -> None:
        if name not in self._names:
            raise AttributeError(f"Unknown attribute {name}")
        super().__setattr__(name, value)


class _Matmul(_Switches):
    """``torch.backends.cuda.matmul``."""

    _names = ("allow_tf32",)

    @property
    def allow_tf32(self) -> bool:
        return _config.get_float32_matmul_precision() != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        allow = _checked("set_allow_tf32_cublas", value)
        _config.set_float32_matmul_precision("high" if allow else "highest")


def _sdp_switch(name: str):
    """``enable_<name>_sdp`` and ``<name>_sdp_enabled`` of ``torch.backends.cuda``: kept as
    set, choosing nothing (XLA compiles attention itself)."""

    def enable(self, enabled: bool) -> None:
        if not isinstance(enabled, bool):
            raise TypeError(f"enable_{name}_sdp expects a bool, but got "
                            f"{type(enabled).__name__}")
        self._sdp[name] = enabled

    def enabled(self) -> bool:
        return self._sdp[name]

    enable.__name__, enabled.__name__ = f"enable_{name}_sdp", f"{name}_sdp_enabled"
    return enable, enabled


class _Cuda:
    """``torch.backends.cuda``."""

    matmul = _Matmul()
    # The scaled_dot_product_attention kernels torch may pick (nn.attention.sdpa_kernel sets
    # them for a block): all enabled, as torch's defaults.
    _sdp = dict.fromkeys(("cudnn", "flash", "mem_efficient", "math", "overrideable"), True)
    enable_cudnn_sdp, cudnn_sdp_enabled = _sdp_switch("cudnn")
    enable_flash_sdp, flash_sdp_enabled = _sdp_switch("flash")
    enable_mem_efficient_sdp, mem_efficient_sdp_enabled = _sdp_switch("mem_efficient")
    enable_math_sdp, math_sdp_enabled = _sdp_switch("math")

    @staticmethod
    def is_built() -> bool:
        """Whether JAX has a GPU backend (torch: whether it was built with CUDA)."""
        return _cuda.is_available()


class _Cudnn(_Switches):
    """``torch.backends.cudnn``: torch's flags, kept as set (see the module's note)."""

    # torch's setter name for each flag, in its errors (allow_tf32's is torch's, word for word)
    _SETTERS = {"enabled": "set_enabled_cudnn", "benchmark": "set_benchmark_cudnn",
                "deterministic": "set_deterministic_cudnn",
                "allow_tf32": "set_allow_tf32_cublas"}
    _names = tuple(_SETTERS)

    def __init__(self) -> None:
        for name, value in (("enabled", True), ("benchmark", False), ("deterministic", False),
                            ("allow_tf32", True)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value) -> None:
        if name in self._SETTERS:
            _checked(self._SETTERS[name], value)
        super().__setattr__(name, value)

    @staticmethod
    def is_available() -> bool:
        """Whether cuDNN is at hand: JAX's GPU backend brings it."""
        return _cuda.is_available()

    @contextlib.contextmanager
    def flags(self, enabled: bool = False, benchmark: bool = False,
              deterministic: bool = False, allow_tf32: bool = True):
        """Sets the flags for the block (torch's defaults: each one given or not), then puts
        back what they were."""
        given = {"enabled": enabled, "benchmark": benchmark, "deterministic": deterministic,
                 "allow_tf32": allow_tf32}
        before = {name: getattr(self, name) for name in given}
        try:
            for name, value in given.items():
                setattr(self, name, value)
            yield
        finally:
            for name, value in before.items():
                object.__setattr__(self, name, value)


class _Mps:
    """``torch.backends.mps``."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def is_built() -> bool:
        return False


class _OptEinsum(_Switches):
    """``torch.backends.opt_einsum``: torch's switches, kept as set (see the module's note)."""

    _names = ("enabled", "strategy")

    def __init__(self) -> None:
        self.enabled, self.strategy = True, "auto"

    @staticmethod
    def is_available() -> bool:
        """True: the opt_einsum package comes with JAX."""
        return True

    def set_flags(self, _enabled: bool | None = None, _strategy: str | None = None) -> tuple:
        """Sets the switches given; returns ``(enabled, strategy)`` as they were.

        Raises:
            ValueError: a strategy other than ``'auto'``, ``'greedy'`` or ``'optimal'``, or one
                given while ``enabled`` is False.
        """
        before = (self.enabled, self.strategy)
        if _enabled is not None:
            self.enabled = _enabled
        if _strategy is not None:
            if not self.enabled:
                raise ValueError(
                    f"opt_einsum is not enabled, so setting a `strategy` to {_strategy} will "
                    "not be meaningful. torch.einsum will bypass path calculation and simply "
                    "contract from left to right. Please set `enabled` to `True` as well or "
                    "unset `strategy`.")
            if _strategy not in ("auto", "greedy", "optimal"):
                raise ValueError("`strategy` must be one of the following: [auto, greedy, "
                                 f"optimal] but is {_strategy}")
            self.strategy = _strategy
        return before

    @contextlib.contextmanager
    def flags(self, enabled: bool | None = None, strategy: str | None = None):
        """Sets the switches given for the block, then puts back what they were."""
        before = self.set_flags(enabled, strategy)
        try:
            yield
        finally:
            self.set_flags(*before)


cuda = _Cuda()
cudnn = _Cudnn()
mps = _Mps()
opt_einsum = _OptEinsum()

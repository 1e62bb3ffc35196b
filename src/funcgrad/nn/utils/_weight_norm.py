"""The older, hook-based weight normalization (``nn.utils.weight_norm``), as torch's: the
weight becomes two parameters, ``<name>_g`` and ``<name>_v``, and a forward pre-hook computes
the weight from them before each call. torch deprecates it in favor of
``nn.utils.parametrizations.weight_norm``, which loads its state dicts; both are here, for the
code and checkpoints that use this one.

>>> import warnings, funcgrad
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore", FutureWarning)
...     layer = funcgrad.nn.utils.weight_norm(funcgrad.nn.Linear(3, 2))
>>> sorted(layer.state_dict())
['bias', 'weight_g', 'weight_v']
"""

from __future__ import annotations

import warnings

from ...linalg import norm_except_dim
from .._modules import Module, Parameter
from .parametrizations import weight_normalized

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


class WeightNorm:
    """The forward pre-hook that computes ``module.<name>`` from ``<name>_g`` and
    ``<name>_v``."""

    def __init__(self, name: str, dim: int | None) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module):
        return weight_normalized(getattr(module, self.name + "_v"),
                                 getattr(module, self.name + "_g"), self.dim)

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        warnings.warn("`funcgrad.nn.utils.weight_norm` is deprecated in favor of "
                      "`funcgrad.nn.utils.parametrizations.weight_norm`.", FutureWarning,
                      stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g",
                                  Parameter(norm_except_dim(weight, 2, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Splits ``module.<name>`` into a magnitude ``<name>_g`` (the norm over every dimension
    but ``dim``; over all of it when ``dim`` is None) and a direction ``<name>_v``, and
    recomputes ``module.<name> = g * v / ||v||`` before each forward call; returns ``module``.
    Deprecated, as torch's: ``nn.utils.parametrizations.weight_norm`` is the newer form."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Makes ``module.<name>`` a parameter again, holding the weight computed last from
    ``<name>_g`` and ``<name>_v``; returns ``module``."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")

"""The hook-based spectral normalization (``nn.utils.spectral_norm``), as torch's: the weight
becomes the parameter ``<name>_orig`` and the buffers ``<name>_u`` and ``<name>_v`` (the power
iteration's vectors), and a forward pre-hook computes ``module.<name> = orig / sigma`` before
each call, one power-iteration step per call in training mode. Its state dicts are torch's
(versioned in ``_metadata``), so torch's checkpoints of it load.
``nn.utils.parametrizations.spectral_norm`` is the newer form.

>>> import funcgrad
>>> layer = funcgrad.nn.utils.spectral_norm(funcgrad.nn.Linear(3, 2))
>>> sorted(layer.state_dict())
['bias', 'weight_orig', 'weight_u', 'weight_v']
"""

from __future__ import annotations

from ... import _ops, linalg
from ..._factories import as_tensor, randn
from ..._grad_mode import no_grad
from .. import functional as F
from .._modules import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, Module, Parameter

__all__ = ["SpectralNorm", "SpectralNormLoadStateDictPreHook", "SpectralNormStateDictHook",
           "spectral_norm", "remove_spectral_norm"]


class SpectralNorm:
    """The forward pre-hook that computes ``module.<name>`` from ``<name>_orig`` and the power
    iteration's vectors."""

    _version: int = 1  # of its state-dict layout (version 0 saved the weight, not ``_v``)

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.dim = name, dim
        self.n_power_iterations, self.eps = n_power_iterations, eps

    def reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module: Module, do_power_iteration: bool):
        """``<name>_orig / sigma``, after ``n_power_iterations`` steps of power iteration
        (written into the buffers) when ``do_power_iteration``."""
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        matrix = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(F.normalize(_ops.mv(matrix.t(), u), dim=0, eps=self.eps))
                    u.copy_(F.normalize(_ops.mv(matrix, v), dim=0, eps=self.eps))
                u, v = u.clone(), v.clone()  # so later steps' writes do not stale this graph
        return weight / _ops.dot(u, _ops.mv(matrix, v))

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, module.training))

    def _solve_v_and_rescale(self, matrix, u, target_sigma):
        """The ``v`` that a version-0 state dict's weight implies, scaled to its sigma."""
        v = linalg.multi_dot([linalg.pinv(matrix.t().mm(matrix)), matrix.t(),
                              u.unsqueeze(1)]).squeeze(1)
        return v * (target_sigma / _ops.dot(u, _ops.mv(matrix, v)))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int,
              eps: float) -> SpectralNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError("Cannot register two spectral_norm hooks on the same "
                                   f"parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        with no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            u = F.normalize(randn(h, dtype=weight.dtype, device=weight.device), dim=0,
                            eps=fn.eps)
            v = F.normalize(randn(w, dtype=weight.dtype, device=weight.device), dim=0,
                            eps=fn.eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        module._register_state_dict_hook(SpectralNormStateDictHook(fn))
        module._register_load_state_dict_pre_hook(SpectralNormLoadStateDictPreHook(fn))
        return fn


class SpectralNormLoadStateDictPreHook:
    """Loads a version-0 state dict (the weight saved, ``<name>_v`` not): ``v`` is solved for
    from the weight and ``<name>_orig``."""

    def __init__(self, fn: SpectralNorm) -> None:
        self.fn = fn

    def __call__(self, state_dict, prefix, local_metadata, strict, missing_keys,
                 unexpected_keys, error_msgs) -> None:
        fn = self.fn
        version = local_metadata.get("spectral_norm", {}).get(fn.name + ".version")
        if version is not None and version >= 1:
            return
        key = prefix + fn.name
        if version is None and key not in state_dict and all(
                key + suffix in state_dict for suffix in ("_orig", "_u", "_v")):
            return  # a current layout without metadata
        missing = [key + suffix for suffix in ("_orig", "", "_u") if key + suffix not in state_dict]
        if missing:
            if strict:
                missing_keys.extend(missing)
            return
        with no_grad():
            weight_orig = as_tensor(state_dict[key + "_orig"])
            sigma = (weight_orig / as_tensor(state_dict.pop(key))).mean()
            state_dict[key + "_v"] = fn._solve_v_and_rescale(
                fn.reshape_weight_to_matrix(weight_orig), as_tensor(state_dict[key + "_u"]),
                sigma)


class SpectralNormStateDictHook:
    """Records the state-dict layout's version in ``_metadata``."""

    def __init__(self, fn: SpectralNorm) -> None:
        self.fn = fn

    def __call__(self, module: Module, state_dict, prefix, local_metadata) -> None:
        versions = local_metadata.setdefault("spectral_norm", {})
        key = self.fn.name + ".version"
        if key in versions:
            raise RuntimeError(f"Unexpected key in metadata['spectral_norm']: {key}")
        versions[key] = self.fn._version


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Normalizes ``module.<name>`` by its spectral norm (its largest singular value as a
    matrix whose rows run along ``dim``: 1 for transposed convolutions, else 0), estimated by
    power iteration, recomputed by a forward pre-hook before each call; returns ``module``."""
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Makes ``module.<name>`` a parameter again, holding the normalized weight (from the
    current vectors, without a power-iteration step); returns ``module``."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            break
    else:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    for hooks, kind in ((module._state_dict_hooks, SpectralNormStateDictHook),
                        (module._load_state_dict_pre_hooks, SpectralNormLoadStateDictPreHook)):
        for key, hook in hooks.items():
            if isinstance(hook, kind) and hook.fn.name == name:
                del hooks[key]
                break
    return module

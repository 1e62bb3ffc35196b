"""``funcgrad.nn.init``: torch.nn.init's initializers, filling a tensor in place (without
recording a graph) and returning it. The random ones draw from ``generator``, a
``funcgrad.Generator``, by default the global one that ``funcgrad.manual_seed`` seeds.

>>> import funcgrad
>>> w = funcgrad.nn.init.constant_(funcgrad.empty(2, 3), 0.5)
>>> w.sum()
tensor(3.)
"""

from __future__ import annotations

import functools
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from .. import _factories
from .._factories import Generator, next_key
from .._grad_mode import no_grad
from .._tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_", "dirac_"]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale of initial weights for a nonlinearity, as torch's table has it.

    >>> import funcgrad
    >>> funcgrad.nn.init.calculate_gain("tanh")
    1.6666666666666667
    """
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"negative_slope {slope} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """A weight's fan in and fan out: its dims 1 and 0 times its receptive field (the product
    of the rest), torch's rule, which custom modules import under this name to initialize as
    ``Linear`` and the convolutions do."""
    if tensor.dim() < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    """The fan ``mode`` ('fan_in' or 'fan_out', any case) names, for the Kaiming inits."""
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of {['fan_in', 'fan_out']}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Tensor, values) -> Tensor:
    """Writes ``values`` (a tensor of its shape, or a number) into ``tensor``, unrecorded."""
    with no_grad():
        return tensor.copy_(values)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> Tensor:
    """Samples from the uniform distribution on ``[a, b)``.

    >>> import funcgrad
    >>> g = funcgrad.Generator().manual_seed(0)
    >>> w = funcgrad.nn.init.uniform_(funcgrad.empty(3), generator=g)
    >>> bool((w == funcgrad.nn.init.uniform_(funcgrad.empty(3), generator=g.manual_seed(0))).all())
    True
    """
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    """Samples from the normal distribution of ``mean`` and ``std``."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Generator | None = None) -> Tensor:
    """Samples from the normal distribution of ``mean`` and ``std`` cut to ``[a, b]``."""
    lower, upper = (a - mean) / std, (b - mean) / std
    sample = jax.random.truncated_normal(next_key(generator), lower, upper,
                                         tuple(tensor.shape), tensor.dtype)
    return _fill(tensor, _factories.tensor(sample, device=tensor.device) * std + mean)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fills with ``val``."""
    return _fill(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    """Fills with ones."""
    return _fill(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    """Fills with zeros."""
    return _fill(tensor, 0.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fills a 2-D tensor with the identity (ones on the diagonal)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, _factories.eye(*tensor.shape, dtype=tensor.dtype, device=tensor.device))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: Generator | None = None) -> Tensor:
    """Glorot's uniform initialization: bound ``gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: Generator | None = None) -> Tensor:
    """Glorot's normal initialization: std ``gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _is_empty(tensor: Tensor) -> bool:
    """Whether ``tensor`` has no elements, which He's initializations leave, with torch's
    warning (their fan could be zero)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """He's uniform initialization: bound ``gain * sqrt(3 / fan)``."""
    if _is_empty(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """He's normal initialization: std ``gain / sqrt(fan)``."""
    if _is_empty(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fills with a (semi-)orthogonal matrix times ``gain``, the tensor seen as (rows, the
    rest): the Q of a normal sample's QR decomposition, its columns' signs made those of R's
    diagonal so that Q is uniform over orthogonal matrices, as torch's.

    Raises:
        ValueError: torch's, for fewer than two dimensions.
    """
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    sample = jax.random.normal(next_key(generator), (max(rows, cols), min(rows, cols)),
                               tensor.dtype)
    q, r = jnp.linalg.qr(sample)
    q = q * jnp.sign(jnp.diagonal(r))
    q = q.T if rows < cols else q
    values = _factories.tensor(q.reshape(tensor.shape) * gain, device=tensor.device)
    return _fill(tensor, values)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01,
            generator: Generator | None = None) -> Tensor:
    """Fills a 2-D tensor with normal values of ``std``, then zeroes ``ceil(sparsity *
    rows)`` of each column's entries, chosen at random.

    Raises:
        ValueError: torch's, for a tensor not of two dimensions.
    """
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    zeros = int(math.ceil(sparsity * rows))
    normal, order = jax.random.split(next_key(generator))
    values = jax.random.normal(normal, (rows, cols), tensor.dtype) * std
    # each column a random order of the rows; the first ``zeros`` of it are zeroed
    ranks = jax.random.permutation(order, jnp.broadcast_to(jnp.arange(rows)[:, None],
                                                           (rows, cols)), 0, independent=True)
    values = jnp.where(ranks < zeros, 0, values)
    return _fill(tensor, _factories.tensor(values, device=tensor.device))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fills a 3-, 4- or 5-D convolution weight with the Dirac delta: a convolution that
    passes each of the first input channels of each of ``groups`` groups to an output channel.

    Raises:
        ValueError: torch's, for other numbers of dimensions, or output channels not divisible
            by ``groups``.
    """
    if tensor.dim() not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    out, channels, *kernel = tensor.shape
    if out % groups:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = out // groups
    values = np.zeros(tuple(tensor.shape), jnp.dtype(tensor.dtype))
    centre = tuple(k // 2 for k in kernel)
    for g in range(groups):
        for d in range(min(per_group, channels)):
            values[(g * per_group + d, d, *centre)] = 1
    return _fill(tensor, _factories.tensor(values, device=tensor.device))


def _deprecated(method):
    """torch's older name of an initializer (``uniform`` for ``uniform_``): the same, with its
    FutureWarning."""
    old, new = method.__name__[:-1], method.__name__

    @functools.wraps(method)
    def deprecated(*args, **kwargs):
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new}`.",
                      FutureWarning, stacklevel=2)
        return method(*args, **kwargs)

    deprecated.__name__ = deprecated.__qualname__ = old
    deprecated.__doc__ = f"``{new}``, by its deprecated name."
    return deprecated


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)

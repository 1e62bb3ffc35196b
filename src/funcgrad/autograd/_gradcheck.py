"""``gradcheck`` and ``gradgradcheck``: the stateful engine's gradients against central finite
differences, checked the way ``torch.autograd.gradcheck`` checks them.

Both Jacobians have one row per element of an input and one column per element of an output.
The analytical one is built a column at a time by ``autograd.grad`` with a one-hot
``grad_outputs`` (the engine under test, never ``jax.grad``); the numerical one a row at a
time by perturbing one input element by ``±eps``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .. import _dtypes
from .._factories import rand
from .._tensor import Tensor
from ._grad import grad


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` and ``gradgradcheck`` when a check fails."""


def _as_tuple(x) -> tuple:
    if isinstance(x, tuple):
        return x
    return tuple(x) if isinstance(x, list) else (x,)


def _differentiable(outputs) -> tuple:
    return tuple(o for o in _as_tuple(outputs) if isinstance(o, Tensor) and o.requires_grad)


def _check_inputs(inputs: tuple) -> tuple[int, ...]:
    """The positions of the inputs to differentiate; each must be float64."""
    wrt = tuple(i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad)
    if not wrt:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of "
            "them have requires_grad=True."
        )
    for i in wrt:
        if inputs[i].dtype != _dtypes.float64:
            raise ValueError(
                f"Input #{i} requires gradient and is {_dtypes.name(inputs[i].dtype)}, but "
                "gradcheck needs funcgrad.float64: central differences with eps=1e-6 are noise "
                "in lower precision. Make the inputs with dtype=funcgrad.float64, which needs "
                "JAX's 64-bit mode: `with jax.enable_x64(True):` around the check, or "
                "jax.config.update('jax_enable_x64', True) at start-up."
            )
    return wrt


def _values(outputs) -> list[np.ndarray]:
    return [np.asarray(o, np.float64).ravel() for o in _as_tuple(outputs)]


def _numerical(func, inputs: tuple, wrt: tuple, sizes: list[int], eps: float) -> list[list]:
    """``J[j][o]``: the Jacobian of output ``o`` with respect to input ``wrt[j]``."""
    jacobians = []
    for i in wrt:
        array = inputs[i]._read()
        per_output = [np.zeros((array.size, n)) for n in sizes]
        for k in range(array.size):
            sides = []
            for delta in (eps, -eps):
                step = np.zeros(array.shape)
                step.flat[k] = delta
                args = list(inputs)
                # Added to the input's own array, so the copy lives where the input does.
                args[i] = Tensor._wrap(array + step, requires_grad=True)
                sides.append(_values(func(*args)))
            for jac, plus, minus in zip(per_output, *sides):
                jac[k] = (plus - minus) / (2 * eps)
        jacobians.append(per_output)
    return jacobians


def _analytical(output: Tensor, inputs: list[Tensor]) -> list[np.ndarray]:
    """The Jacobian of ``output`` with respect to each of ``inputs``, one backward a column."""
    n = output.numel()
    jacobians = [np.zeros((x.numel(), n)) for x in inputs]
    for k in range(n):
        onehot = np.zeros(n, np.float64)
        onehot[k] = 1
        grads = grad(output, inputs, (onehot.reshape(output.shape),), retain_graph=True,
                     allow_unused=True)
        for jac, g, x in zip(jacobians, grads, inputs):
            if g is None:
                continue
            if g.shape != x.shape:
                raise GradcheckError("Analytical gradient has incorrect size")
            jac[:, k] = np.asarray(g, np.float64).ravel()
    return jacobians


def _mismatch(output_idx: int, input_idx: int, numerical, analytical) -> str:
    return (
        f"Jacobian mismatch for output {output_idx} with respect to input {input_idx},\n"
        f"numerical:{Tensor._wrap(jnp.asarray(numerical))}\n"
        f"analytical:{Tensor._wrap(jnp.asarray(analytical))}\n"
    )


def _check(func, inputs: tuple, eps: float, atol: float, rtol: float) -> None:
    wrt = _check_inputs(inputs)
    outputs = _as_tuple(func(*inputs))
    numerical = _numerical(func, inputs, wrt, [v.size for v in _values(outputs)], eps)
    diff = [k for k, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
    if not diff:
        if any(np.any(n != 0) for per_output in numerical for n in per_output):
            raise GradcheckError("Numerical gradient for function expected to be zero")
        return
    diff_inputs = [inputs[i] for i in wrt]
    for output_idx, k in enumerate(diff):
        for input_idx, a in enumerate(_analytical(outputs[k], diff_inputs)):
            n = numerical[input_idx][k]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                raise GradcheckError(_mismatch(output_idx, input_idx, n, a))


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Checks the gradients the engine computes for ``func`` against central finite
    differences, with respect to every input that requires grad.

    Analytical and numerical Jacobians must satisfy ``|a - n| <= atol + rtol * |n|``
    elementwise, as ``torch.allclose`` checks. Outputs that do not require grad are skipped;
    when none does, the numerical Jacobian must be zero.

    Args:
        func: a function of Tensors returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of inputs; Tensors that require grad must be float64.
        eps: the perturbation of the finite differences.
        atol: absolute tolerance.
        rtol: relative tolerance.
        raise_exception: raise on a failed check; False returns False instead.

    Returns:
        True if every Jacobian matches.

    Raises:
        GradcheckError: on a mismatch (``raise_exception=True``), with both Jacobians.
        ValueError: if no input requires grad, or one that does is not float64 (float64
            needs JAX's 64-bit mode: ``with jax.enable_x64(True):``).

    >>> import jax, funcgrad
    >>> with jax.enable_x64(True):
    ...     x = funcgrad.tensor([0.5, 2.0], dtype=funcgrad.float64, requires_grad=True)
    ...     funcgrad.autograd.gradcheck(lambda t: (t.sin() * t).sum(), x)
    True
    """
    try:
        _check(func, _as_tuple(inputs), eps, atol, rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _random_like(output: Tensor) -> Tensor:
    dtype = output.dtype if _dtypes.is_floating(output.dtype) else _dtypes.float64
    return (rand(*output.shape, dtype=dtype, device=output.device) * 2 - 1).requires_grad_()


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Checks second derivatives: ``gradcheck`` of the gradients of ``func`` (taken with
    ``create_graph=True``) with respect to the inputs and the ``grad_outputs`` that require
    grad.

    Args:
        func: a function of Tensors returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of inputs; Tensors that require grad must be float64.
        grad_outputs: the gradients with respect to ``func``'s outputs that require grad;
            by default uniform in [-1, 1), requiring grad.
        eps: the perturbation of the finite differences.
        atol: absolute tolerance.
        rtol: relative tolerance.
        raise_exception: raise on a failed check; False returns False instead.

    Returns:
        True if every Jacobian of the gradients matches.

    Raises:
        GradcheckError: on a mismatch (``raise_exception=True``).
        ValueError: as ``gradcheck``.

    >>> import jax, funcgrad
    >>> with jax.enable_x64(True):
    ...     x = funcgrad.tensor([0.5, 2.0], dtype=funcgrad.float64, requires_grad=True)
    ...     funcgrad.autograd.gradgradcheck(lambda t: t ** 3, x)
    True
    """
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        grad_outputs = tuple(_random_like(o) for o in _differentiable(func(*inputs)))
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_derivatives(*args):
        outputs = _differentiable(func(*args[:n]))
        grads = grad(outputs, [args[i] for i in wrt], args[n:], create_graph=True,
                     allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)

"""``funcgrad.func``: torch.func's names and signatures over funcgrad's transforms, so code
written against torch.func runs with ``torch`` replaced by ``funcgrad``: ``functional_call``
(a module run with other parameters and buffers), ``grad``, ``grad_and_value``, ``vjp``,
``jvp``, ``jacrev``, ``jacfwd``, ``hessian``, ``vmap`` (``in_dims``, ``out_dims``),
``linearize`` and ``stack_module_state`` (an ensemble's weights, stacked for ``vmap``).
As torch.func's, ``grad``, ``grad_and_value`` and ``vjp`` give (and ``vjp`` takes) complex
gradients in torch's convention, the conjugate of JAX's that ``funcgrad.grad`` keeps.

Per-sample gradients, torch.func's way:

>>> import funcgrad
>>> from funcgrad.func import functional_call, grad, vmap
>>> model = funcgrad.nn.Linear(3, 1)
>>> params = {k: v.detach() for k, v in model.named_parameters()}
>>> def loss(params, x, y):
...     return ((functional_call(model, params, (x,)) - y) ** 2).sum()
>>> x, y = funcgrad.ones(8, 3), funcgrad.zeros(8, 1)
>>> per_sample = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
>>> per_sample["weight"].shape, per_sample["bias"].shape
(funcgrad.Size([8, 1, 3]), funcgrad.Size([8, 1]))
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Mapping, Sequence

import jax

from . import _transforms
from ._factories import as_tensor, vmap_randomness
from ._graph import torch_convention
from ._ops import stack
from ._tensor import Tensor
from ._transforms import hessian, jacfwd, jvp, linearize, value_and_grad
from ._transforms import vmap as _vmap

__all__ = ["functional_call", "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd",
           "hessian", "vmap", "linearize", "stack_module_state", "functionalize",
           "replace_all_batch_norm_modules_", "debug_unwrap"]


def _converted(tree):
    """``tree`` with each complex Tensor conjugated: gradients between JAX's convention and
    torch's (``torch_convention``)."""
    return jax.tree_util.tree_map(lambda g: torch_convention(g) if isinstance(g, Tensor) else g,
                                  tree, is_leaf=lambda x: isinstance(x, Tensor))


def grad(func: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """The gradient of a scalar function (``(grad, aux)`` with ``has_aux``), torch.func's:
    ``funcgrad.grad`` with complex gradients in torch's convention.

    >>> import funcgrad
    >>> funcgrad.func.grad(lambda z: (z.abs() ** 2).sum())(funcgrad.tensor([1 + 2j]))
    tensor([2.+4.j])
    """
    gradient = _transforms.grad(func, argnums, has_aux)

    def wrapped(*args, **kwargs):
        out = gradient(*args, **kwargs)
        return (_converted(out[0]), out[1]) if has_aux else _converted(out)

    return wrapped


def grad_and_value(func: Callable, argnums: int | Sequence[int] = 0,
                   has_aux: bool = False) -> Callable:
    """``grad`` that also returns the value: ``(grad, value)``, or ``(grad, (value, aux))``
    with ``has_aux`` (torch.func's order; ``funcgrad.value_and_grad`` is JAX's)."""
    both = value_and_grad(func, argnums, has_aux)

    def wrapped(*args, **kwargs):
        value, gradient = both(*args, **kwargs)
        return _converted(gradient), value

    return wrapped


def vjp(func: Callable, *primals, has_aux: bool = False):
    """``func``'s output and a function mapping an output cotangent to the inputs' (and the
    aux output, with ``has_aux``), torch.func's: complex cotangents in torch's convention."""
    out, pullback, *aux = _transforms.vjp(func, *primals, has_aux=has_aux)

    def torch_pullback(ct):
        return _converted(pullback(_converted(ct)))

    return (out, torch_pullback, *aux)


def vmap(func: Callable, in_dims=0, out_dims=0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """``func`` mapped over the ``in_dims`` axes of its arguments (None: not mapped), its
    results stacked along ``out_dims``; ``funcgrad.vmap`` with torch.func's names.

    ``randomness`` says what a random draw inside does, as torch's: ``'error'`` raises,
    ``'same'`` draws the same numbers for every element, ``'different'`` draws each element's
    own from the global generator (another ``Generator`` passed in draws the same for all).
    ``chunk_size`` is checked and taken, but the batch is mapped as one vectorized call.

    >>> import funcgrad
    >>> x = funcgrad.func.vmap(lambda t: t + funcgrad.rand(()), randomness="different")(
    ...     funcgrad.zeros(3))
    >>> len(set(x.tolist()))
    3
    """
    if randomness not in ("error", "same", "different"):
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")
    axis = object()  # the name under which the element's index is looked up

    def element(*args, **kwargs):
        with vmap_randomness(randomness, axis):
            return func(*args, **kwargs)

    return _vmap(element, in_axes=in_dims, out_axes=out_dims, axis_name=axis)


def jacrev(func: Callable, argnums: int | Sequence[int] = 0, *, has_aux: bool = False,
           chunk_size: int | None = None, _preallocate_and_copy: bool = False) -> Callable:
    """``funcgrad.jacrev`` with torch.func's signature: ``chunk_size`` is checked and taken,
    and the Jacobian's rows are computed as one vectorized call."""
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    return _transforms.jacrev(func, argnums, has_aux)


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """Calls ``module`` with the given tensors in place of its parameters and buffers (by
    dotted name, as ``named_parameters`` gives them), and puts its own back after.

    Args:
        module: the module to call.
        parameter_and_buffer_dicts: a dict of names to tensors, or a sequence of such dicts
            (no name in two of them).
        args: the positional arguments (one that is not a tuple is the only one).
        kwargs: the keyword arguments.
        tie_weights: a tensor given for one of several names that share one parameter is used
            for all of them.
        strict: every parameter and buffer must be given, and nothing else.

    Raises:
        ValueError: for a name in two dicts.
        RuntimeError: with ``strict``, for missing or unexpected names.
    """
    dicts = (list(parameter_and_buffer_dicts)
             if isinstance(parameter_and_buffer_dicts, (list, tuple))
             else [parameter_and_buffer_dicts])
    names = [name for d in dicts for name in d]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional "
                         "call is ambiguous")
    values = {name: value for d in dicts for name, value in d.items()}
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with _reparametrized(module, values, tie_weights, strict):
        return module(*args, **(kwargs or {}))


@contextlib.contextmanager
def _reparametrized(module, values: Mapping, tie_weights: bool, strict: bool):
    own = dict(itertools.chain(module.named_parameters(remove_duplicate=False),
                               module.named_buffers(remove_duplicate=False)))
    if strict:
        missing = sorted(name for name in own if name not in values)
        unexpected = sorted(name for name in values if name not in own)
        if missing or unexpected:
            lines = [f"Error(s) in reparametrizing for {type(module).__name__}:"]
            if unexpected:
                lines.append(f"\tUnexpected key(s): {', '.join(map(repr, unexpected))}.")
            if missing:
                lines.append(f"\tMissing key(s): {', '.join(map(repr, missing))}.")
            raise RuntimeError("\n".join(lines))
    if tie_weights:
        given = {id(own[name]): value for name, value in values.items() if name in own}
        values = {**{name: given[id(t)] for name, t in own.items() if id(t) in given}, **values}
    modules = dict(module.named_modules(remove_duplicate=False))
    undo = []
    try:
        for key, value in values.items():
            path, _, name = key.rpartition(".")
            if path not in modules:
                raise AttributeError(f"functional_call: {type(module).__name__} has no submodule "
                                     f"'{path}' (for '{key}')")
            owner = modules[path]
            value = value if isinstance(value, Tensor) else as_tensor(value)
            slot = next((s for s in (owner._parameters, owner._buffers) if name in s), None)
            if slot is None:  # not the module's: an attribute for the call, as torch's
                object.__setattr__(owner, name, value)
                undo.append(lambda owner=owner, name=name: object.__delattr__(owner, name))
            else:
                undo.append(lambda slot=slot, name=name, old=slot[name]: slot.__setitem__(
                    name, old))
                slot[name] = value
        yield
    finally:
        for restore in reversed(undo):
            restore()


def stack_module_state(models) -> tuple[dict, dict]:
    """The parameters and the buffers of ``models`` (of one class and one training mode),
    each stacked along a new first dimension, by name: an ensemble's state, to map
    ``functional_call`` over with ``vmap``. A stacked parameter is a new leaf that requires
    grad (where the models' do).

    >>> import funcgrad
    >>> params, buffers = funcgrad.func.stack_module_state(
    ...     [funcgrad.nn.Linear(3, 2) for _ in range(4)])
    >>> params["weight"].shape
    funcgrad.Size([4, 2, 3])
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if len({type(m) for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named: list[dict]) -> dict:
        out = {}
        for name in named[0]:
            tensors = [n[name] for n in named]
            requires_grad = {t.requires_grad for t in tensors}
            if len(requires_grad) > 1:
                raise RuntimeError(f"Expected {name} from each model to have the same "
                                   ".requires_grad")
            out[name] = stack([t.detach() for t in tensors]).requires_grad_(
                requires_grad.pop())
        return out

    return (stacked([dict(m.named_parameters()) for m in models]),
            stacked([dict(m.named_buffers()) for m in models]))


_REMOVE = ("mutations", "mutations_and_views")


def functionalize(func: Callable, *, remove: str = "mutations") -> Callable:
    """``func`` with its in-place ops made out-of-place, torch.func's: funcgrad's ops already
    compute on immutable JAX arrays (an in-place op rebinds its tensor to a new array, and views
    are copies), so this gives ``func``, whose results, in-place changes to its inputs included,
    are those torch's functionalized function gives.

    >>> import funcgrad
    >>> x = funcgrad.ones(2)
    >>> funcgrad.func.functionalize(lambda t: t.add_(1) * 2)(x), x
    (tensor([4., 4.]), tensor([2., 2.]))
    """
    if remove not in _REMOVE:
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}."
            " Valid options are:\n     remove='mutations': all inplace and out= operators will be"
            " removed from the program, and replaced with their out-of-place equivalents.\n     "
            "remove='mutations_and_views': In addition to the above, all aliasing operators "
            "{view} will be replaced with their non-aliasing counterparts, {view}_copy.\n")
    return func


def replace_all_batch_norm_modules_(root):
    """Makes every batch normalization in ``root`` (itself included) use the statistics of
    each batch, in training and in eval mode: no running statistics, which ``vmap`` over a
    model could not update. Changes ``root`` in place and returns it."""
    from .nn.modules.batchnorm import _BatchNorm

    for module in root.modules():
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            module.running_mean = module.running_var = module.num_batches_tracked = None
            module.track_running_stats = False
    return root


def debug_unwrap(tensor: Tensor, *, recurse: bool = True) -> Tensor:
    """``tensor`` itself: torch.func wraps tensors inside its transforms, funcgrad's transforms
    trace arrays, so there is no wrapper to take off."""
    return tensor

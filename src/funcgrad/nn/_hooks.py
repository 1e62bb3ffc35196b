"""A module's backward hooks, as torch runs them (``torch.utils.hooks.BackwardHook``).

A module with backward hooks passes its positional tensor inputs through one ``Group`` node
(an identity with an output per tensor) before ``forward``, and its outputs through another
after. The output group's hook sees every output's gradient at once: it runs the backward
pre-hooks, which may replace them, and keeps them; the input group's hook then runs the
backward hooks with the inputs' gradients and those outputs' gradients, and may replace the
inputs' gradients. Where no input requires grad, the backward hooks run from the output group,
with a warning, as in torch.

A module's non-full hooks (``Module.register_backward_hook``, deprecated in torch) instead go on
the node that made its (first) output, and see the gradients of that node's inputs as torch's
node would list them (``NonFullHooks``).
"""

from __future__ import annotations

import os
import sys
import warnings
import weakref

from .._grad_mode import is_grad_enabled
from .._graph import _Output, _type_name, group
from .._tensor import Tensor


class BackwardHook:
    """One call of a module with backward hooks: ``hooks`` (``hook(module, grad_input,
    grad_output)``) and ``pre_hooks`` (``hook(module, grad_output)``)."""

    def __init__(self, module, hooks: list, pre_hooks: list) -> None:
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs: tuple | None = None
        self.n_inputs = self.n_outputs = 0
        self.input_index: list[int] | None = None
        self.output_index: list[int] | None = None

    def setup_input_hook(self, args: tuple) -> tuple:
        """``args`` with each tensor passed through the input group (when one requires grad)."""
        self.n_inputs = len(args)
        args, self.input_index = self._apply(args, self._input_hook)
        return args

    def setup_output_hook(self, result):
        """``result`` (a tensor or a tuple) with each tensor passed through the output group."""
        single = not isinstance(result, tuple)
        outputs = (result,) if single else result
        self.n_outputs = len(outputs)
        outputs, self.output_index = self._apply(outputs, self._output_hook)
        return outputs[0] if single else outputs

    @staticmethod
    def _apply(args: tuple, hook) -> tuple[tuple, list[int] | None]:
        index = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not (any(args[i].requires_grad for i in index) and is_grad_enabled()):
            return args, None
        node, outputs = group([args[i] for i in index])
        node.register_hook(hook)
        args = list(args)
        for i, out in zip(index, outputs):
            args[i] = out
        return tuple(args), index

    @staticmethod
    def _spread(index: list[int], values, size: int) -> tuple:
        """``values`` at the positions ``index`` of a tuple of ``size``, None elsewhere."""
        out = [None] * size
        for i, v in zip(index, values):
            out[i] = v
        return tuple(out)

    def _output_hook(self, _, grad_outputs: tuple) -> tuple:
        self.grad_outputs = self._spread(self.output_index, grad_outputs, self.n_outputs)
        for hook in self.pre_hooks:
            replaced = hook(self.module, self.grad_outputs)
            if replaced is None:
                continue
            if len(replaced) != len(self.grad_outputs):
                raise RuntimeError(
                    "Backward pre hook returned an invalid number of grad_output, got "
                    f"{len(replaced)}, but expected {len(self.grad_outputs)}")
            self.grad_outputs = replaced
        wanted = self.grad_outputs
        if self.input_index is None:
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to "
                "module outputs since no inputs require gradients. See "
                "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                "#torch.nn.Module.register_full_backward_hook for more details.",
                UserWarning, stacklevel=_caller_level())
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                result = hook(self.module, grad_inputs, self.grad_outputs)
                if result is not None and not (isinstance(result, tuple)
                                               and all(g is None for g in result)):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should "
                        "always return None or None for all gradients.")
            self.grad_outputs = None
        return tuple(wanted[i] for i in self.output_index)

    def _input_hook(self, grad_inputs: tuple, _) -> tuple | None:
        if self.grad_outputs is None:
            # A gradient reached the inputs without passing through the outputs (a double
            # backward, say): torch runs no hook then.
            return None
        result = self._spread(self.input_index, grad_inputs, self.n_inputs)
        for hook in self.hooks:
            replaced = hook(self.module, result, self.grad_outputs)
            if replaced is None:
                continue
            if len(replaced) != len(result):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                   f"got {len(replaced)}, but expected {len(result)}")
            result = replaced
        self.grad_outputs = None
        return tuple(result[i] for i in self.input_index)


def _torch_node(node):
    """``node`` as torch's graph has it: the group of a ``Group``'s output (torch's one
    ``BackwardHookFunctionBackward`` node)."""
    return node.group if type(node) is _Output else node


def _mT(g):
    return None if g is None else g.mT


def _linear_view_grads(node, grad_outputs: tuple, replaced: tuple) -> list:
    """The gradients of funcgrad's linear node (input, weight, bias) for a replaced gradient of
    torch's flattened addmm output."""
    if replaced[0] is None:
        return [None] * len(node.edges)
    return node.input_grads(replaced[0].reshape(grad_outputs[0].shape), is_grad_enabled())


# Nodes that stand for torch's last node of a module differently from one input to one input,
# by (op, grad_fn name): how torch's node lists its inputs' gradients, given funcgrad's node's
# and its output's, and funcgrad's node's gradients given torch's. nn.Linear's one node is
# torch's addmm(bias, input, weight.t()), or for another input than a matrix, the view of an
# addmm of the flattened input, whose one input is that addmm's output.
_AS_TORCH = {
    ("linear", "AddmmBackward0"): (
        lambda grads, grad_outputs: (grads[2], grads[0], _mT(grads[1])),
        lambda node, grad_outputs, grads: [grads[1], _mT(grads[2]), grads[0]]),
    ("linear", "ViewBackward0"): (
        lambda grads, grad_outputs: (grad_outputs[0].reshape(-1, grad_outputs[0].shape[-1]),),
        _linear_view_grads),
}


class NonFullHooks:
    """A module's non-full backward hooks (``hook(module, grad_input, grad_output)``), as a
    post-hook of the node that made its output: ``grad_input`` are the gradients of the inputs
    torch's node lists, in its order; what a hook returns replaces them, as torch checks it.
    The module and the node are held weakly, as torch's ``_WrappedHook`` holds the module."""

    def __init__(self, module, hooks: list, node) -> None:
        self.module, self.hooks, self.node = weakref.ref(module), hooks, weakref.ref(node)

    def __call__(self, grads: tuple, grad_outputs: tuple) -> list | None:
        node = self.node()
        module = self.module()
        if module is None:
            raise RuntimeError("You are trying to call the hook of a dead Module!")
        as_torch, from_torch = _AS_TORCH.get(node.op and (node.op.name, node.name()),
                                             (None, None))
        listed = node.listed
        grad_input = (as_torch(grads, grad_outputs) if as_torch
                      else tuple(grads[i] for i in listed))
        replaced = None
        for hook in self.hooks:
            result = hook(module, grad_input, grad_outputs)
            if result is not None:
                _check_replaced(hook, result, grad_input)
                grad_input = replaced = result
        if replaced is None:
            return None
        if from_torch:
            return from_torch(node, grad_outputs, replaced)
        grads = [None] * len(grads)
        for i, g in zip(listed, replaced):
            grads[i] = g
        return grads


def _check_replaced(hook, result, grads: tuple) -> None:
    """torch's checks of what a node's hook returned in place of ``grads``."""
    name = getattr(hook, "__name__", "<unknown>")
    if not isinstance(result, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(result).__name__}'")
    if len(result) != len(grads):
        raise RuntimeError(f"hook '{name}' has returned an incorrect number of values (got "
                           f"{len(result)}, but expected {len(grads)})")
    for new, old in zip(result, grads):
        if new is None:
            continue
        if old is None:
            raise RuntimeError("can't replace a None gradient with a non-None value")
        if new.dtype != old.dtype:
            raise RuntimeError(f"hook '{name}' has changed the type of value (was "
                               f"{_type_name(old)} got {_type_name(new)})")
        if new.shape != old.shape:
            raise RuntimeError(f"hook '{name}' has changed the size of value")


def register_non_full(module, hooks: list, args, result) -> None:
    """Puts a module's non-full backward ``hooks`` on the node that made the first tensor of
    its output ``result`` (of a dict, its first tensor value), as torch does, and warns as
    torch does where they will miss gradients: ``result`` or ``args`` not a tensor or a tuple
    of tensors, outputs of several nodes, or inputs not those of the node."""
    var = result
    while not isinstance(var, Tensor):
        var = (next(v for v in var.values() if isinstance(v, Tensor)) if isinstance(var, dict)
               else var[0])
    if var.grad_fn is None:
        return
    node = _torch_node(var.grad_fn)
    node.register_hook(NonFullHooks(module, hooks, node))
    _warn_non_full(args, result, node)


def _warn_non_full(inputs, result, node) -> None:
    """torch's ``Module._maybe_warn_non_full_backward_hook``. (Its warning for outputs nested
    in a Python structure never fires: the hooks' node made the first output.)"""
    for values, which, missing in ((result, "return", "grad_output"),
                                   (inputs, "take as input", "grad_input")):
        if not (isinstance(values, Tensor) or isinstance(values, tuple)
                and all(isinstance(v, Tensor) for v in values)):
            _deprecated(f"Using non-full backward hooks on a Module that does not {which} a "
                        "single Tensor or a tuple of Tensors is deprecated and will be removed "
                        f"in future versions. This hook will be missing some of the {missing}. "
                        "Please use register_full_backward_hook to get the documented behavior.")
            return
    outputs = {_torch_node(r.grad_fn) for r in _as_tuple(result) if r.grad_fn is not None}
    if len(outputs) > 1:
        _deprecated("Using a non-full backward hook when outputs are generated by different "
                    "autograd Nodes is deprecated and will be removed in future versions. This "
                    "hook will be missing some grad_output. Please use "
                    "register_full_backward_hook to get the documented behavior.")
    elif ({_torch_node(i.grad_fn) for i in _as_tuple(inputs) if i.grad_fn is not None}
          != {e if e is None else _torch_node(e) for e, _ in node.next_functions}):
        _deprecated("Using a non-full backward hook when the forward contains multiple autograd "
                    "Nodes is deprecated and will be removed in future versions. This hook will "
                    "be missing some grad_input. Please use register_full_backward_hook to get "
                    "the documented behavior.")


def _as_tuple(values) -> tuple:
    return (values,) if isinstance(values, Tensor) else values


def _deprecated(text: str) -> None:
    warnings.warn(text, FutureWarning, stacklevel=_caller_level())


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _caller_level() -> int:
    """The ``stacklevel`` that makes a warning raised by the caller of this function point at
    the first frame outside funcgrad: the user's call of ``backward``, as torch's does."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level

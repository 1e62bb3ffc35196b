"""A module's backward hooks, as torch runs them (``torch.utils.hooks.BackwardHook``).

A module with backward hooks passes its positional tensor inputs through one ``Group`` node
(an identity with an output per tensor) before ``forward``, and its outputs through another
after. The output group's hook sees every output's gradient at once: it runs the backward
pre-hooks, which may replace them, and keeps them; the input group's hook then runs the
backward hooks with the inputs' gradients and those outputs' gradients, and may replace the
inputs' gradients. Where no input requires grad, the backward hooks run from the output group,
with a warning, as in torch.
"""

from __future__ import annotations

import os
import sys
import warnings

from .._grad_mode import is_grad_enabled
from .._graph import group
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


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _caller_level() -> int:
    """The ``stacklevel`` that makes a warning raised by the caller of this function point at
    the first frame outside funcgrad: the user's call of ``backward``, as torch's does."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level

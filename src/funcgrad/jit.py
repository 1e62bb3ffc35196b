"""``funcgrad.jit``: called, JAX's ``jit`` for funcgrad functions; its attributes are
``torch.jit``'s names that model code carries, so that code runs as Python.

funcgrad has no TorchScript. To compile, use ``funcgrad.compile`` (a whole stateful step, or a
module, as one XLA program) or call ``funcgrad.jit(fun)`` (a function of tensors, as
``jax.jit``). Here ``script`` and ``trace`` give back the function or module they are given,
with torch's DeprecationWarning; ``is_scripting`` and ``is_tracing`` are False, so code takes
its eager branch; ``ignore``, ``unused`` and ``script_if_tracing`` return the function;
``annotate`` returns the value; ``Final`` is ``typing.Final``. TorchScript's saving, loading,
freezing and ``fork`` are not here.

>>> import funcgrad
>>> funcgrad.jit(lambda x: x * 2)(funcgrad.tensor([1.0]))
tensor([2.])
>>> funcgrad.jit.is_scripting()
False
"""

import sys
import types
import warnings
from typing import Final as Final

from . import _transforms

__all__ = ["Final", "annotate", "ignore", "is_scripting", "is_tracing", "script",
           "script_if_tracing", "trace", "unused"]


def _deprecated(name: str) -> None:
    # torch's words, but for its torch.export, which funcgrad does not have
    warnings.warn(f"`funcgrad.jit.{name}` is deprecated. Please switch to `funcgrad.compile`.",
                  DeprecationWarning, stacklevel=3)


def script(obj, optimize=None, _frames_up: int = 0, _rcb=None, example_inputs=None):
    """``obj`` itself (a function, class or module), after torch's DeprecationWarning: funcgrad
    runs TorchScript code as Python. The other arguments are accepted for torch's signature.

    >>> import warnings, funcgrad
    >>> with warnings.catch_warnings(action="ignore"):
    ...     double = funcgrad.jit.script(lambda x: 2 * x)
    >>> double(funcgrad.tensor(3.0))
    tensor(6.)
    """
    _deprecated("script")
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """``func`` itself (a function or module), after torch's DeprecationWarning: funcgrad does
    not record a trace, so ``func`` is not run on ``example_inputs``; every call runs it as
    Python, control flow included. The other arguments (``check_trace`` …) are accepted for
    torch's signature.

    >>> import warnings, funcgrad
    >>> layer = funcgrad.nn.Identity()
    >>> with warnings.catch_warnings(action="ignore"):
    ...     funcgrad.jit.trace(layer, funcgrad.ones(1)) is layer
    True
    """
    _deprecated("trace")
    return func


def is_scripting() -> bool:
    """False: funcgrad code never runs as TorchScript.

    >>> import funcgrad
    >>> funcgrad.jit.is_scripting()
    False
    """
    return False


def is_tracing() -> bool:
    """False: ``funcgrad.jit.trace`` records nothing (``funcgrad.compiler.is_compiling`` says
    whether ``funcgrad.compile`` is tracing).

    >>> import funcgrad
    >>> funcgrad.jit.is_tracing()
    False
    """
    return False


def unused(fn):
    """``fn`` itself (a function or property): funcgrad compiles no TorchScript to leave it
    out of.

    >>> import funcgrad
    >>> funcgrad.jit.unused(abs) is abs
    True
    """
    return fn


def ignore(drop=False, **kwargs):
    """``@ignore`` returns the function; ``@ignore(drop)`` a decorator that does. As torch's,
    ``drop=True`` (or ``drop_on_export=True``) gives a FutureWarning.

    Raises:
        RuntimeError: ``drop`` is neither a bool nor a function.

    >>> import funcgrad
    >>> funcgrad.jit.ignore(abs) is abs and funcgrad.jit.ignore(drop=False)(abs) is abs
    True
    """
    if callable(drop):
        return drop
    if not isinstance(drop, bool):
        raise RuntimeError(
            f"Argument to @funcgrad.jit.ignore must be a bool or a function but got {drop}")
    if kwargs.pop("drop_on_export", None):
        warnings.warn("ignore(drop_on_export=True) has been deprecated. TorchScript will now "
                      "drop the function call on compilation. Use funcgrad.jit.unused now. {}",
                      FutureWarning, stacklevel=2)
    elif drop:
        warnings.warn("ignore(True) has been deprecated. TorchScript will now drop the function "
                      "call on compilation. Use funcgrad.jit.unused now. {}", FutureWarning,
                      stacklevel=2)
    return unused


def script_if_tracing(fn):
    """``fn`` itself: funcgrad never traces with ``funcgrad.jit.trace``, so ``fn`` always runs as
    Python.

    >>> import funcgrad
    >>> funcgrad.jit.script_if_tracing(abs) is abs
    True
    """
    return fn


def annotate(the_type, the_value):
    """``the_value``: the type is a hint for TorchScript, which funcgrad does not compile.

    >>> import funcgrad
    >>> funcgrad.jit.annotate(dict[str, int], {})
    {}
    """
    return the_value


class _CallableModule(types.ModuleType):
    """This module, callable as ``funcgrad.jit(fun, **jax_kwargs)``: funcgrad's ``jit``
    transform predates the module of torch.jit's names and keeps its name."""

    def __call__(self, fun=None, **jax_kwargs):
        """``fun`` compiled with XLA, as ``jax.jit`` (funcgrad's ``_transforms.jit``); usable as
        ``@funcgrad.jit`` or ``@funcgrad.jit(...)``."""
        return _transforms.jit(fun, **jax_kwargs)



sys.modules[__name__].__class__ = _CallableModule

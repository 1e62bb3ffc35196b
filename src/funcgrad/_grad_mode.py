"""Grad mode: whether ops record a graph. Per thread and per async task (contextvars)."""

from __future__ import annotations

import contextvars
import functools
import threading

_enabled = contextvars.ContextVar("funcgrad_grad_enabled", default=True)
_inference = contextvars.ContextVar("funcgrad_inference_mode", default=False)
_multithreading = contextvars.ContextVar("funcgrad_multithreading", default=True)
_threads = threading.local()  # per thread: id(context object) -> its entries' tokens
# How many inference_mode(True) blocks are open, on any thread: while none is, a tensor being
# made needs no look at whether it is an inference tensor. ``inference_used``: whether one has
# ever opened, so whether an inference tensor can exist at all.
inference_blocks = 0
inference_used = False


def is_grad_enabled() -> bool:
    """Returns True when ops record the graph that ``backward()`` walks.

    >>> import funcgrad
    >>> with funcgrad.no_grad():
    ...     funcgrad.is_grad_enabled()
    False
    """
    return _enabled.get()


def is_inference_mode_enabled() -> bool:
    """Returns True inside ``inference_mode()``."""
    return _inference.get()


class _GradModeContext:
    """A context manager that is also a decorator, like torch's grad-mode classes."""

    _mode: bool = True

    def __new__(cls, orig_func=None, *args, **kwargs):
        # `@no_grad` without parentheses decorates at once, as torch allows.
        if callable(orig_func) and cls in (no_grad, enable_grad, inference_mode):
            return cls()(orig_func)
        return super().__new__(cls)

    def __enter__(self) -> None:
        self._push(_enabled.set(self._mode))

    def __exit__(self, *exc) -> None:
        _enabled.reset(self._pop())

    def _push(self, token) -> None:
        """Keeps the token of an entry into this object, per thread and innermost last: one
        object may be entered again inside its own block, or by several threads at once."""
        _threads.__dict__.setdefault("tokens", {}).setdefault(id(self), []).append(token)

    def _pop(self):
        """The token of the innermost entry into this object on this thread."""
        tokens = _threads.tokens
        mine = tokens[id(self)]
        token = mine.pop()
        if not mine:
            del tokens[id(self)]
        return token

    def _fresh(self) -> _GradModeContext:
        return type(self)()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._fresh():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Disables graph recording inside the block or the decorated function.

    >>> import funcgrad
    >>> x = funcgrad.tensor(2.0, requires_grad=True)
    >>> with funcgrad.no_grad():
    ...     y = x ** 2
    >>> y
    tensor(4.)
    """

    _mode = False


class enable_grad(_GradModeContext):
    """Enables graph recording inside the block, even within ``no_grad``.

    >>> import funcgrad
    >>> with funcgrad.no_grad():
    ...     with funcgrad.enable_grad():
    ...         funcgrad.is_grad_enabled()
    True
    """

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Sets grad mode to ``mode``: at once when called, and restores it when used with ``with``.

    Args:
        mode: True to record graphs, False not to.

    >>> import funcgrad
    >>> with funcgrad.set_grad_enabled(False):
    ...     funcgrad.is_grad_enabled()
    False
    >>> funcgrad.is_grad_enabled()
    True
    """

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._prev_token = _enabled.set(self._mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        _enabled.reset(self._prev_token)

    def __call__(self, fn):
        mode = self._mode
        _enabled.reset(self._prev_token)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            token = _enabled.set(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _enabled.reset(token)

        return wrapper


class inference_mode(_GradModeContext):
    """Like ``no_grad``, for code that will never need gradients. The tensors made inside are
    inference tensors (``Tensor.is_inference``): outside inference mode, autograd may not save
    them for backward, and they may not be updated in place or made to require grad.

    Args:
        mode: True (the default) to enter inference mode; False leaves it and turns grad
            mode on, as torch's ``inference_mode(False)`` does.

    >>> import funcgrad
    >>> with funcgrad.inference_mode():
    ...     funcgrad.is_grad_enabled(), funcgrad.is_inference_mode_enabled()
    (False, True)
    """

    def __init__(self, mode: bool = True) -> None:
        self._on = bool(mode)

    def _fresh(self) -> inference_mode:
        return inference_mode(self._on)

    def __enter__(self) -> None:
        global inference_blocks, inference_used
        self._push((_enabled.set(not self._on), _inference.set(self._on)))
        if self._on:
            inference_blocks += 1
            inference_used = True

    def __exit__(self, *exc) -> None:
        global inference_blocks
        enabled, inference = self._pop()
        _enabled.reset(enabled)
        _inference.reset(inference)
        if self._on:
            inference_blocks -= 1


def is_multithreading_enabled() -> bool:
    """Whether ``set_multithreading_enabled`` last allowed a backward on worker threads."""
    return _multithreading.get()


class set_multithreading_enabled:
    """torch's switch for running backward on a thread per device: at once when called, and
    until the end of a ``with`` block. funcgrad's backward always runs on the calling thread
    (JAX spreads the work over devices itself), so the switch is kept, per thread, for
    ``is_multithreading_enabled`` to read back, and changes nothing else.

    Args:
        mode: True (torch's default) to allow worker threads, False not to.

    >>> import funcgrad
    >>> with funcgrad.autograd.set_multithreading_enabled(False):
    ...     funcgrad.autograd.is_multithreading_enabled()
    False
    >>> funcgrad.autograd.is_multithreading_enabled()
    True
    """

    def __init__(self, mode: bool) -> None:
        self.mode = mode
        self._prev_token = _multithreading.set(bool(mode))

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        _multithreading.reset(self._prev_token)

    def clone(self) -> set_multithreading_enabled:
        """A new switch to the same mode (which it sets at once)."""
        return type(self)(self.mode)

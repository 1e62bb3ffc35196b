"""Anomaly mode: remember where each op was created, and stop a backward that makes NaNs."""

from __future__ import annotations

import contextvars
import functools
import traceback

_enabled = contextvars.ContextVar("funcgrad_anomaly", default=(False, True))


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return _enabled.get()[0]


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection, when on, checks backward results for NaN (the flag alone, as
    torch's: True by default)."""
    return _enabled.get()[1]


class detect_anomaly:
    """Context manager and decorator that turns anomaly detection on: each recorded op keeps
    the stack where it was created (``grad_fn.metadata['traceback_']``), and a backward that
    produces NaN raises an error naming the ``grad_fn`` and showing that stack.

    Args:
        check_nan: whether to check backward results for NaN.

    >>> import funcgrad
    >>> x = funcgrad.tensor(0.0, requires_grad=True)
    >>> with funcgrad.autograd.detect_anomaly():
    ...     y = funcgrad.sqrt(x) * 0.0
    ...     y.backward()
    Traceback (most recent call last):
    ...
    RuntimeError: Function 'SqrtBackward0' returned nan values in its 0th output...
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self._token = _enabled.set((True, self.check_nan))

    def __exit__(self, *exc) -> None:
        _enabled.reset(self._token)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


def set_detect_anomaly(mode: bool, check_nan: bool = True) -> None:
    """Turns anomaly detection on or off for the current thread.

    >>> import funcgrad
    >>> funcgrad.autograd.set_detect_anomaly(True); funcgrad.autograd.is_anomaly_enabled()
    True
    >>> funcgrad.autograd.set_detect_anomaly(False)
    """
    _enabled.set((bool(mode), check_nan))


def creation_stack() -> list[str]:
    """The user's stack at the op being recorded, without funcgrad's own frames."""
    frames = [f for f in traceback.extract_stack() if "/funcgrad/" not in f.filename]
    return traceback.format_list(frames)

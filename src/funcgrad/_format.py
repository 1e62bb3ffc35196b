"""torch's printing rules (torch/_tensor_str.py), applied to a NumPy copy of the values."""

from __future__ import annotations

import dataclasses
import math

import numpy as np


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Sets how tensors print, with torch's arguments and profiles.

    Args:
        precision: digits after the decimal point (default 4).
        threshold: element count above which a tensor is summarized (default 1000).
        edgeitems: items shown at each end of a summarized dimension (default 3).
        linewidth: characters per line (default 80).
        profile: ``'default'``, ``'short'`` or ``'full'``.
        sci_mode: force (True) or forbid (False) scientific notation; None decides per tensor.

    >>> import funcgrad
    >>> funcgrad.set_printoptions(precision=2); funcgrad.tensor([1.2345])
    tensor([1.23])
    >>> funcgrad.set_printoptions(profile="default")
    """
    if profile == "default":
        PRINT_OPTS.__init__()
    elif profile == "short":
        PRINT_OPTS.__init__(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        PRINT_OPTS.__init__(threshold=math.inf)
    for key, value in dict(precision=precision, threshold=threshold, edgeitems=edgeitems,
                           linewidth=linewidth).items():
        if value is not None:
            setattr(PRINT_OPTS, key, value)
    PRINT_OPTS.sci_mode = sci_mode


class _Formatter:
    def __init__(self, values: np.ndarray, floating: bool) -> None:
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not floating:
            self.max_width = max((len(f"{v}") for v in flat.tolist()), default=1)
        else:
            self._measure_floats(flat.astype(np.float64))

    def _measure_floats(self, flat: np.ndarray) -> None:
        nonzero = flat[np.isfinite(flat) & (flat != 0)]
        if nonzero.size == 0:
            return
        magnitude = np.abs(nonzero)
        lo, hi = magnitude.min(), magnitude.max()
        self.int_mode = bool(np.all(nonzero == np.ceil(nonzero)))
        p = PRINT_OPTS.precision
        # A forced sci_mode counts before the widths are measured (torch >= 2.9), so columns
        # and line breaks follow the notation actually printed.
        self.sci_mode = (bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)
                         if PRINT_OPTS.sci_mode is None else PRINT_OPTS.sci_mode)
        if self.sci_mode:
            widths = [len(f"{v:.{p}e}") for v in nonzero.tolist()]
        elif self.int_mode:
            widths = [len(f"{v:.0f}") + 1 for v in nonzero.tolist()]
        else:
            widths = [len(f"{v:.{p}f}") for v in nonzero.tolist()]
        self.max_width = max(self.max_width, *widths)

    def format(self, value) -> str:
        p = PRINT_OPTS.precision
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{p}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{p}f}"
        return (self.max_width - len(text)) * " " + text


class _ComplexFormatter:
    """torch's pair of formatters for a complex tensor: one measures the real parts, one the
    imaginary parts, and a value prints as ``real`` then ``imag`` with its sign and a ``j``."""

    def __init__(self, values: np.ndarray) -> None:
        self.real = _Formatter(values.real, floating=True)
        self.imag = _Formatter(values.imag, floating=True)
        self.max_width = self.real.max_width + self.imag.max_width + 1  # and the "j"

    def format(self, value) -> str:
        imag = (self.imag.format(value.imag) + "j").lstrip()
        return self.real.format(value.real) + ("" if imag[0] in "+-" else "+") + imag


def _summarized(values: np.ndarray) -> np.ndarray:
    e = PRINT_OPTS.edgeitems
    if values.ndim == 0:
        return values
    if values.shape[0] > 2 * e:
        values = np.concatenate([values[:e], values[-e:]])
    if values.ndim == 1:
        return values
    return np.stack([_summarized(row) for row in values])


def _vector(values: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    e = PRINT_OPTS.edgeitems
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / (fmt.max_width + 2))))
    if summarize and values.shape[0] > 2 * e:
        data = ([fmt.format(v) for v in values[:e].tolist()] + [" ..."]
                + [fmt.format(v) for v in values[-e:].tolist()])
    else:
        data = [fmt.format(v) for v in values.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(values: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if values.ndim == 0:
        return fmt.format(values.item())
    if values.ndim == 1:
        return _vector(values, indent, summarize, fmt)
    e, n = PRINT_OPTS.edgeitems, values.shape[0]
    if summarize and n > 2 * e:
        rows = ([_nested(values[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."]
                + [_nested(values[i], indent + 1, summarize, fmt) for i in range(n - e, n)])
    else:
        rows = [_nested(values[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def contents(values: np.ndarray, floating: bool, indent: int) -> str:
    """The bracketed numbers of a tensor's repr."""
    if values.size == 0:
        return "[]"
    summarize = values.size > PRINT_OPTS.threshold
    if values.dtype.kind == "f" and values.dtype.itemsize < 4 or values.dtype.name == "bfloat16":
        values = values.astype(np.float32)
    measured = _summarized(values) if summarize else values
    fmt = (_ComplexFormatter(measured) if values.dtype.kind == "c"
           else _Formatter(measured, floating))
    return _nested(values, indent, summarize, fmt)


def with_suffixes(body: str, suffixes: list[str], indent: int) -> str:
    """Joins ``tensor(<body>`` with its suffixes, wrapping lines at the line width like torch."""
    parts = [body]
    last_line_len = len(body) - body.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)

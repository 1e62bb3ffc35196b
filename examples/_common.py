"""The command line every example shares: ``--device`` picks funcgrad's default device."""

from __future__ import annotations

import argparse
import sys
import time

import funcgrad


def _device(spec: str) -> funcgrad.device:
    try:
        return funcgrad.device(spec)
    except RuntimeError as e:  # argparse turns this into a usage error that lists the devices
        raise argparse.ArgumentTypeError(str(e)) from None


def setup(description: str | None) -> funcgrad.device | None:
    """Parses ``--device`` and makes it funcgrad's default device.

    Args:
        description: what the script does, shown by ``--help``.

    Returns:
        The device asked for, or None when ``--device`` was not given (funcgrad's default, JAX's
        default backend, stays).
    """
    return parse(description).device


def parse(description: str | None, add_arguments=None) -> argparse.Namespace:
    """Like ``setup``, with the script's own options: ``add_arguments(parser)`` adds them.

    Returns:
        The parsed options; ``.device`` is the device asked for, or None.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--device", type=_device, default=None,
        help="cpu, cuda, gpu or cuda:N (default: funcgrad's default device)",
    )
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args()
    if args.device is not None:
        funcgrad.set_default_device(args.device)
    return args


def progress(step: int, total: int, **values: float) -> None:
    """A one-line progress bar on stderr, redrawn in place."""
    width = 30
    done = width * step // total
    shown = "  ".join(f"{k} {v:.4f}" for k, v in values.items())
    end = "\n" if step == total else ""
    print(f"\r[{'#' * done}{'.' * (width - done)}] {step}/{total}  {shown}", end=end,
          file=sys.stderr, flush=True)


def run_steps(step, steps: int, *args) -> tuple[list, float]:
    """Calls ``step(*args)`` ``steps`` times under a progress bar. Returns what each call
    returned and the seconds per step after the first quarter, since the first steps compile
    (a compiled step at its first call, an eager loop's recurring step at its second
    sighting)."""
    losses, warm, began = [], steps // 4, None
    for i in range(steps):
        if i == warm:
            began = time.perf_counter()
        losses.append(step(*args))
        if (i + 1) % max(1, steps // 20) == 0 or i + 1 == steps:
            progress(i + 1, steps, loss=float(losses[-1]))
    return losses, (time.perf_counter() - began) / (steps - warm)


def pyplot():
    """matplotlib's pyplot, drawing to files (no screen needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, out, name: str) -> None:
    """Saves a figure as ``out/name`` and says where."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"saved {path}")

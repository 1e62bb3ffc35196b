"""Turning the raw results into the markdown table and the chart."""

from __future__ import annotations

import textwrap
from pathlib import Path

from worker import SYSTEMS

COMPILED_MISSING = "n/a (funcgrad.compile not built yet)"
RATIOS = [("funcgrad", "torch"), ("funcgrad", "jax"), ("compiled", "torch"),
          ("compiled", "jax")]


def _ms(cell: dict) -> str:
    if "error" in cell:
        return "error: " + textwrap.shorten(cell["error"], 80).replace("|", "\\|")
    if "unavailable" in cell:
        return cell["unavailable"]
    return f"{cell['median_s'] * 1e3:.3g} ({cell['iqr_s'] * 1e3:.2g})"


def _ratio(cells: dict, num: str, den: str) -> str:
    a, b = cells[num], cells[den]
    if "median_s" not in a or "median_s" not in b:
        return "n/a"
    return f"{a['median_s'] / b['median_s']:.3g}x"


def _check(row: dict) -> str:
    if row["failed"]:
        return f"✗ ({', '.join(row['failed'])} failed)"
    return "✓" if row["agree"] else "✗"


def table(results: dict) -> str:
    """One row per workload: median time per step with its IQR for each system, the ratios
    of funcgrad against torch eager and raw JAX, and whether every system ran and agreed."""
    names = {"torch": "torch", "jax": "raw JAX", "funcgrad": "eager", "compiled": "compiled"}
    header = (["workload", *SYSTEMS.values()]
              + [f"{names[n]} / {names[d]}" for n, d in RATIOS] + ["same result"])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, row in results["workloads"].items():
        cells = row["systems"]
        lines.append("| " + " | ".join(
            [f"{name} {row['title']}", *(_ms(cells[s]) for s in SYSTEMS)]
            + [_ratio(cells, n, d) for n, d in RATIOS] + [_check(row)]
        ) + " |")
    return "\n".join(lines)


def soak_line(soak: dict) -> str:
    if "error" in soak:
        return f"Memory soak (funcgrad eager, W2): error: {soak['error']}"
    return (f"Memory soak (funcgrad eager, {soak['steps']:,} W2 steps{soak['note']}, "
            f"{soak['seconds']:.1f} s): RSS {soak['rss_start_mb']:.1f} MB -> "
            f"{soak['rss_end_mb']:.1f} MB, growth {soak['growth_mb']:+.1f} MB")


def chart(results: dict, path: Path) -> bool:
    """A log-scale grouped bar chart of median time per step; False if matplotlib is
    missing."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["workloads"]
    workloads = list(rows)
    shown = [key for key in SYSTEMS
             if any("median_s" in rows[name]["systems"][key] for name in workloads)]
    width = 0.8 / len(shown)
    fig, ax = plt.subplots(figsize=(1.8 * len(workloads) + 3, 4.5))
    for i, key in enumerate(shown):
        xs, ys = [], []
        for j, name in enumerate(workloads):
            cell = rows[name]["systems"][key]
            if "median_s" in cell:
                xs.append(j + (i - (len(shown) - 1) / 2) * width)
                ys.append(cell["median_s"] * 1e3)
        # One colour per system in every chart, whichever systems were measured.
        ax.bar(xs, ys, width, label=SYSTEMS[key], color=f"C{list(SYSTEMS).index(key)}")
    ax.set_xticks(range(len(workloads)), workloads)
    ax.set_yscale("log")
    ax.set_ylabel("median ms per step (W4: per first gradient)")
    machine = results["machine"]
    ax.set_title(f"funcgrad benchmarks, {machine['device']}, {machine['cpu_count']} CPUs")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True

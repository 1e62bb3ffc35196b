"""Measures one system on one workload (or the memory soak) in this process and prints the
result as one JSON line. ``run.py`` starts one of these per system and workload, so no system
inherits another's caches, threads or memory."""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import time
import traceback
from collections.abc import Callable

from workloads import WORKLOADS

SYSTEMS = {
    "torch": "torch eager",
    "jax": "raw JAX",
    "funcgrad": "funcgrad eager",
    "compiled": "funcgrad compiled",
}


def build(system: str, workload: str, device: str, size: int) -> Callable:
    """The step of ``workload`` for ``system``; ``size`` is the GPU workloads' width and
    batch."""
    if system == "jax":
        import raw_jax

        return raw_jax.STEPS[workload](size)
    if system == "torch":
        import torch

        return WORKLOADS[workload].torch_style(torch, device, size)
    import funcgrad

    step = WORKLOADS[workload].torch_style(funcgrad, device, size)
    if system == "funcgrad":
        return step
    if WORKLOADS[workload].single_call:
        # A fresh compile per call: the point is the cost of a structure never seen.
        return lambda: funcgrad.compile(step)()
    return funcgrad.compile(step)


def describe(system: str, device: str) -> dict:
    """The library versions and the device this process computes on."""
    if system == "torch":
        import torch

        return {"torch": torch.__version__, "device": device,
                "threads": torch.get_num_threads()}
    import jax

    info = {"jax": jax.__version__, "backend": jax.default_backend(),
            "device": str(jax.devices()[0])}
    if system != "jax":
        import funcgrad

        info["funcgrad"] = funcgrad.__version__
    return info


def measure(step: Callable, single_call: bool, warmup: int, blocks: int,
            block_seconds: float) -> dict:
    """Warm up, then time ``blocks`` loops of steps; each loop ends by reading the last
    result, so lazy or asynchronous work is inside the time it belongs to."""
    for _ in range(warmup):
        value = step().item()
    start = time.perf_counter()
    step().item()
    once = time.perf_counter() - start
    inner = 1 if single_call else max(1, round(block_seconds / once))
    times = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(inner):
            out = step()
        out.item()
        times.append((time.perf_counter() - start) / inner)
    q1, median, q3 = statistics.quantiles(times, n=4, method="inclusive")
    return {"value": value, "steps_per_block": inner, "times_s": times,
            "median_s": median, "iqr_s": q3 - q1}


def rss_mb() -> float:
    """Resident set size from ``/proc/self/status`` (Linux)."""
    with open("/proc/self/status") as f:
        kb = next(line.split()[1] for line in f if line.startswith("VmRSS:"))
    return int(kb) / 1024


def soak(steps: int, warmup: int, device: str) -> dict:
    """``steps`` funcgrad-eager W2 steps with nothing read in between; RSS before and after."""
    import funcgrad

    step = WORKLOADS["W2"].torch_style(funcgrad, device, 0)
    for _ in range(warmup):
        step().item()
    gc.collect()
    start_mb, start = rss_mb(), time.perf_counter()
    for _ in range(steps):
        out = step()
    value = out.item()
    gc.collect()
    end_mb = rss_mb()
    return {"value": value, "steps": steps, "seconds": time.perf_counter() - start,
            "rss_start_mb": start_mb, "rss_end_mb": end_mb, "growth_mb": end_mb - start_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--system", choices=SYSTEMS, required=True)
    parser.add_argument("--workload", choices=[*WORKLOADS, "soak"], required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--warmup", type=int, required=True)
    parser.add_argument("--blocks", type=int, required=True)
    parser.add_argument("--block-seconds", type=float, required=True)
    parser.add_argument("--soak-steps", type=int, required=True)
    parser.add_argument("--gpu-size", type=int, required=True)
    args = parser.parse_args()
    try:
        if args.workload == "soak":
            result = soak(args.soak_steps, args.warmup, args.device)
        else:
            result = measure(build(args.system, args.workload, args.device, args.gpu_size),
                             WORKLOADS[args.workload].single_call, args.warmup, args.blocks,
                             args.block_seconds)
    except Exception as e:  # reported as the cell's value; the traceback goes to stderr
        traceback.print_exc()
        print(json.dumps({"error": f"{type(e).__name__}: {e}".splitlines()[0]}))
        sys.exit(1)
    result["env"] = describe(args.system, args.device) | {"python": platform.python_version()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()

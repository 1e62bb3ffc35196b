"""Runs the funcgrad benchmark suite: every workload on torch eager, raw JAX, funcgrad eager
and funcgrad compiled, each in its own process; prints a markdown table and writes
results.json and benchmarks.png to --out.

    python benchmarks/run.py [--quick] [--workloads W1,W3,soak] [--out DIR] [--device cpu]
    python benchmarks/run.py --device cuda [--gpu-size 4096]    # G1, G2: sizes that fill a GPU
    python benchmarks/run.py --gpu-sizes --quick                # their smoke version (size 64)

Exits with status 1 when the systems disagree on a result or a measurement failed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from report import COMPILED_MISSING, chart, soak_line, table
from worker import SYSTEMS
from workloads import CPU_WORKLOADS, GPU_SIZE, GPU_WORKLOADS, WORKLOADS

HERE = Path(__file__).resolve().parent
SETTINGS = {
    "full": {"warmup": 20, "blocks": 21, "block_seconds": 0.25, "soak_steps": 10_000},
    "quick": {"warmup": 5, "blocks": 5, "block_seconds": 0.05, "soak_steps": 1_000},
}
# Processes per system and workload, taken in turns. On a shared machine one process can run
# twice as slow as the next for its whole life (a raw JAX W1 step took 16 µs in one process
# and 35 µs in the next); pooling the blocks of several makes one such process move no median.
PROCESSES = {"full": 3, "quick": 1}
ATOL = 1e-6
# A hung system costs this much and then shows as an error, so the suite always finishes.
WORKER_TIMEOUT_S = 300


def child_env(device: str) -> dict:
    # float32 matmuls in full float32 on JAX as in torch (whose CUDA default leaves TF32 off);
    # JAX's GPU default would round them to TF32.
    return os.environ | {"JAX_PLATFORMS": device, "JAX_DEFAULT_MATMUL_PRECISION": "float32"}


def run_worker(system: str, workload: str, settings: dict, device: str) -> dict:
    command = [sys.executable, str(HERE / "worker.py"), "--system", system,
               "--workload", workload, "--device", device]
    for key, value in settings.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, env=child_env(device),
                              timeout=WORKER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {WORKER_TIMEOUT_S} s"}
    lines = proc.stdout.strip().splitlines()
    if lines and lines[-1].startswith("{"):
        return json.loads(lines[-1])
    return {"error": (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]}


def compile_available(device: str) -> bool:
    probe = "import funcgrad; print(hasattr(funcgrad, 'compile'))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=child_env(device), check=True)
    return proc.stdout.strip() == "True"


def agree(cells: dict, rtol: float) -> bool:
    """True when every value measured, in every process, is close to the first (torch
    eager's)."""
    values = [r["value"] for c in cells.values() for r in c.get("runs", [c]) if "value" in r]
    return all(math.isclose(v, values[0], rel_tol=rtol, abs_tol=ATOL) for v in values)


def machine_info(device: str) -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    versions = {}
    for package in ("funcgrad", "jax", "jaxlib", "torch", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {"cpu": cpu, "cpu_count": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "load_average": os.getloadavg(),
            "device": device, "versions": versions}


def pooled(runs: list[dict]) -> dict:
    """One cell from the runs of one system in several processes: the median and IQR of all
    their timed blocks together, the first run's value, and each run as measured; the first
    error, if any run failed."""
    failed = [r for r in runs if "error" in r]
    if failed:
        return failed[0]
    times = [t for r in runs for t in r["times_s"]]
    q1, median, q3 = statistics.quantiles(times, n=4, method="inclusive")
    return {"value": runs[0]["value"], "median_s": median, "iqr_s": q3 - q1,
            "process_medians_s": [r["median_s"] for r in runs], "runs": runs}


def measure_workload(name: str, settings: dict, device: str, compiled: bool,
                     processes: int) -> dict:
    runs: dict[str, list] = {s: [] for s in SYSTEMS if compiled or s != "compiled"}
    for _ in range(processes):  # in turns, so a slow spell of the machine hits every system
        for system in runs:
            runs[system].append(run_worker(system, name, settings, device))
    cells = {}
    for system, label in SYSTEMS.items():
        if system not in runs:
            cells[system] = {"unavailable": COMPILED_MISSING}
            continue
        cells[system] = pooled(runs[system])
        done = cells[system].get("median_s")
        shown = f"{done * 1e3:.3g} ms" if done else cells[system]["error"]
        print(f"  {name} {label}: {shown}", file=sys.stderr, flush=True)
    failed = [SYSTEMS[s] for s, cell in cells.items() if "error" in cell]
    workload = WORKLOADS[name]
    return {"title": workload.title.format(n=settings["gpu_size"]), "systems": cells,
            "agree": agree(cells, workload.rtol), "rtol": workload.rtol, "failed": failed}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="a short smoke run: fewer warm-up steps, repeats and soak steps")
    parser.add_argument("--workloads",
                        help=f"comma-separated subset of {','.join([*WORKLOADS, 'soak'])} "
                        f"(default {','.join([*CPU_WORKLOADS, 'soak'])}, or "
                        f"{','.join(GPU_WORKLOADS)} with --gpu-sizes)")
    parser.add_argument("--gpu-sizes", action="store_true",
                        help="run the GPU workloads G1, G2 (implied by --device cuda)")
    parser.add_argument("--gpu-size", type=int,
                        help=f"width and batch of G1, G2 (default {GPU_SIZE['full']}, "
                        f"or {GPU_SIZE['quick']} with --quick)")
    parser.add_argument("--out", type=Path, default=HERE / "results",
                        help="directory for results.json and benchmarks.png")
    parser.add_argument("--device", choices=["cpu", "cuda", "gpu"], default="cpu",
                        help="where torch and JAX compute (default cpu)")
    parser.add_argument("--processes", type=int,
                        help=f"processes per system and workload, their timings pooled "
                        f"(default {PROCESSES['full']}, or {PROCESSES['quick']} with --quick)")
    args = parser.parse_args()
    args.device = "cuda" if args.device == "gpu" else args.device
    args.gpu_sizes = args.gpu_sizes or args.device == "cuda"
    if args.workloads is None:
        args.workloads = GPU_WORKLOADS if args.gpu_sizes else [*CPU_WORKLOADS, "soak"]
    else:
        args.workloads = args.workloads.split(",")
    unknown = set(args.workloads) - {*WORKLOADS, "soak"}
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}; choose from {[*WORKLOADS, 'soak']}")
    if args.gpu_size is None:
        args.gpu_size = GPU_SIZE["quick" if args.quick else "full"]
    if args.processes is None:
        args.processes = PROCESSES["quick" if args.quick else "full"]
    if args.processes < 1:
        parser.error(f"--processes must be at least 1, got {args.processes}")
    return args


def main() -> int:
    args = parse_args()
    settings = SETTINGS["quick" if args.quick else "full"] | {"gpu_size": args.gpu_size}
    results = {"machine": machine_info(args.device),
               "settings": settings | {"processes": args.processes}, "workloads": {}}
    compiled = compile_available(args.device)
    for name in args.workloads:
        if name != "soak":
            results["workloads"][name] = measure_workload(name, settings, args.device, compiled,
                                                          args.processes)
    if "soak" in args.workloads:
        soak = run_worker("funcgrad", "soak", settings, args.device)
        full = SETTINGS["full"]["soak_steps"]
        soak["note"] = f" (--quick: not {full:,})" if args.quick else ""
        results["soak"] = soak

    machine = results["machine"]
    print(f"Machine: {machine['cpu']}, {machine['cpu_count']} CPUs, device {args.device}, "
          f"load average {machine['load_average'][0]:.2f}; Python {machine['python']}; "
          + ", ".join(f"{k} {v}" for k, v in machine["versions"].items()))
    print("Cells: median ms per step (IQR); W4: ms to the first gradient of a new structure."
          f"{' Quick run.' if args.quick else ''}\n")
    if results["workloads"]:
        print(table(results))
    if "soak" in results:
        print("\n" + soak_line(results["soak"]))

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    if results["workloads"] and not chart(results, args.out / "benchmarks.png"):
        print("\nmatplotlib is not installed, so no chart was drawn: "
              "pip install 'funcgrad[bench]'", file=sys.stderr)
    print(f"\nWrote {args.out / 'results.json'}", file=sys.stderr)
    ok = all(row["agree"] and not row["failed"] for row in results["workloads"].values())
    return 0 if ok and "error" not in results.get("soak", {}) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Runs every example in this folder, after saying which JAX backend and device they run on.

Usage: python examples/run_all.py [--device cpu|cuda|gpu|cuda:N]
Exits non-zero if any example fails.
"""

import subprocess
import sys
from pathlib import Path

import jax
from _common import setup

import funcgrad


def main() -> int:
    device = setup(__doc__)
    print(f"JAX backend: {jax.default_backend()}, "
          f"funcgrad device: {funcgrad.get_default_device()}", flush=True)
    device_flag = [] if device is None else ["--device", str(device)]
    failed = []
    here = Path(__file__).parent
    scripts = sorted(here.glob("[0-9][0-9]_*.py")) + sorted(
        p for p in here.glob("[a-z]*.py") if p.name != "run_all.py")
    for script in scripts:
        print(f"\n== {script.name} ==", flush=True)
        if subprocess.run([sys.executable, str(script), *device_flag]).returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

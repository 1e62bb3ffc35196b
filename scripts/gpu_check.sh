#!/usr/bin/env bash
# The GPU run: on a machine with an NVIDIA GPU, run the whole test suite with JAX on the GPU,
# every example with --device cuda, and the GPU benchmark (G1, G2: an MLP at width and batch
# 4096 in float32 and bfloat16, all four systems on the GPU); write what they print to $OUT_DIR.
#
#   bash scripts/gpu_check.sh            # installs jax[cuda12] into .venv-gpu first
#   SKIP_INSTALL=1 bash scripts/gpu_check.sh   # use the python on PATH as it is
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT_DIR:-gpu_check_out}
mkdir -p "$out"
if [ -z "${SKIP_INSTALL:-}" ]; then
  python3 -m venv .venv-gpu
  .venv-gpu/bin/pip install -q -e ".[test,bench]" "jax[cuda12]" torch==2.13.0
  PATH="$PWD/.venv-gpu/bin:$PATH"
fi
python - <<'PY' | tee "$out/devices.txt"
import jax, funcgrad
print("jax", jax.__version__, "backend", jax.default_backend(), "devices", jax.devices())
print("funcgrad default device", funcgrad.get_default_device(), "cuda available",
      funcgrad.cuda.is_available())
assert funcgrad.cuda.is_available(), "JAX sees no GPU: install a CUDA build of jaxlib"
PY
# The whole suite on the GPU: the gpu-marked tests run instead of skipping.
python -m pytest -q -p no:cacheprovider 2>&1 | tee "$out/tests.txt"
python examples/run_all.py --device cuda 2>&1 | tee "$out/examples.txt"
python benchmarks/run.py --device cuda --gpu-sizes --out "$out" 2>&1 | tee "$out/benchmark.txt"

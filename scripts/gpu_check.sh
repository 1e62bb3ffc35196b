#!/usr/bin/env bash
# The GPU run: on a machine with an NVIDIA GPU, run the whole test suite with JAX on the GPU,
# every example with --device cuda, and the GPU benchmark (G1, G2: an MLP at width and batch
# 4096 in float32 and bfloat16, all four systems on the GPU); write what they print to $OUT_DIR.
#
#   bash scripts/gpu_check.sh                  # installs jax[cuda12] into .venv-gpu first
#   SKIP_INSTALL=1 bash scripts/gpu_check.sh   # use the python3 on PATH as it is (it needs
#                                              # jax with CUDA, optax, torch, pytest, chex,
#                                              # hypothesis, matplotlib; funcgrad from src/)
#
# The test suite and the examples run side by side (pytest spreads over GPU_CHECK_WORKERS
# processes where pytest-xdist is installed, without pytest-benchmark, which warns under xdist
# and the suite turns warnings into errors; GPU_CHECK_TEST_LIMIT=SECONDS interrupts it then,
# still printing its summary); the benchmark runs alone afterwards, so its timings have the
# machine to themselves. Exits non-zero if any of the three failed.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT_DIR:-gpu_check_out}
mkdir -p "$out"
py=python3
if [ -z "${SKIP_INSTALL:-}" ]; then
  python3 -m venv .venv-gpu
  .venv-gpu/bin/pip install -q -e ".[test,bench]" "jax[cuda12]" torch==2.13.0
  py=.venv-gpu/bin/python
elif ! $py -c "import funcgrad" 2>/dev/null; then
  export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
fi
$py - <<'PY' 2>&1 | tee "$out/devices.txt" || exit 1
import jax, jaxlib, torch, funcgrad
print("jax", jax.__version__, "jaxlib", jaxlib.__version__, "torch", torch.__version__)
print("backend", jax.default_backend(), "devices", jax.devices())
print("funcgrad default device", funcgrad.get_default_device(), "cuda available",
      funcgrad.cuda.is_available())
assert funcgrad.cuda.is_available(), "JAX sees no GPU: install a CUDA build of jaxlib"
x = funcgrad.ones(3, requires_grad=True)
(x * 2).sum().backward()
print("a tensor:", x.device, "its gradient:", x.grad.device, x.grad)
PY

# Several processes share the GPU while the tests and the examples run: no preallocation.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
workers=()
if $py -c "import xdist" 2>/dev/null; then workers=(-n "${GPU_CHECK_WORKERS:-8}" --dist loadfile); fi
# The suite checks float32 maths against torch on the CPU and float64 finite differences at
# float32 tolerances, so its matmuls run in full float32; the gpu-marked tests
# (tests/test_gpu.py) check the GPU's default math (TF32 matmuls) against the CPU instead.
JAX_DEFAULT_MATMUL_PRECISION=highest ${GPU_CHECK_TEST_LIMIT:+timeout -s INT "$GPU_CHECK_TEST_LIMIT"} \
  $py -m pytest -q -p no:cacheprovider -p no:benchmark -rfE "${workers[@]}" \
  >"$out/tests.txt" 2>&1 &
tests=$!
$py examples/run_all.py --device cuda >"$out/examples.txt" 2>&1
examples_rc=$?
wait $tests
tests_rc=$?
unset XLA_PYTHON_CLIENT_PREALLOCATE

# One process per cell: a lent GPU machine is not shared, and its time is short.
$py benchmarks/run.py --device cuda --gpu-sizes --processes 1 --out "$out" >"$out/benchmark.txt" 2>&1
bench_rc=$?

echo "== examples (exit $examples_rc) =="; grep -E "^(JAX backend|== |failed)" "$out/examples.txt"
echo "== tests (exit $tests_rc) =="; tail -n 25 "$out/tests.txt"
echo "== benchmark (exit $bench_rc) =="; tail -n 30 "$out/benchmark.txt"
[ $examples_rc -eq 0 ] && [ $tests_rc -eq 0 ] && [ $bench_rc -eq 0 ]

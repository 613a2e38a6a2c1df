#!/usr/bin/env bash
# GPU verification, one go: a smoke check in a process of its own, the GPU tests (`-m gpu`:
# every device-parametrized test on "cuda", the fused CuPy kernels against the composed path
# among them; the pointer loops' and fused layers' files first), then the GPU benchmark.
# Pass --all to run the whole suite with CuPy present instead of the GPU tests alone.
# Results go to $OUT (or ./gpu-results): the card, the versions, the smoke check, the pytest
# logs, the table. The exit status is 1 if any part failed; each part runs regardless.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-results}
mkdir -p "$out"
# full float32 (matched precision); and a run where CuPy sees no GPU fails, never skips
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 CUPY_TF32=0 \
  TINYGRAD_RNN_REQUIRE_GPU=1
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c "import sys, numpy, cupy, hypothesis; print('python', sys.version.split()[0], \
'numpy', numpy.__version__, 'cupy', cupy.__version__, 'hypothesis', hypothesis.__version__)"
} | tee "$out/machine.txt"
status=0
timeout 120 python3 benchmarks/gpu_smoke.py 2>&1 | tee "$out/smoke.txt" || status=1
marker=(-m gpu)
[ "${1:-}" = "--all" ] && marker=()
first=(tests/test_pointer_steps.py tests/test_fused.py tests/test_kernel_calls.py tests/test_rnn.py)
rest=()
for f in "${first[@]}"; do rest+=(--ignore "$f"); done
# the tests get at most ${PYTEST_TIMEOUT:-300} s in all, so that the benchmark always runs
t=${PYTEST_TIMEOUT:-300}
timeout $((t * 2 / 5)) python3 -m pytest -q -p no:cacheprovider -rfE "${marker[@]}" \
  "${first[@]}" 2>&1 | tee "$out/pytest_gpu_first.txt" || status=1
timeout $((t * 3 / 5)) python3 -m pytest -q -p no:cacheprovider -rfE "${marker[@]}" \
  "${rest[@]}" tests 2>&1 | tee "$out/pytest_gpu.txt" || status=1
python3 benchmarks/bench_rnn.py --device cuda --out "$out/bench_gpu.md" 2>&1 \
  | tee "$out/bench_gpu.log" || status=1
exit $status

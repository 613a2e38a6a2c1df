#!/usr/bin/env bash
# GPU verification, one go: a smoke check in a process of its own, the GPU tests (`-m gpu`:
# every device-parametrized test on "cuda", the fused CuPy kernels against the composed path
# among them; the pointer loops' and fused layers' files first), then the GPU benchmark.
# Pass --all to run the whole suite with CuPy present instead of the GPU tests alone.
# Results go to $OUT (or ./gpu-results): the card, the versions, the smoke check, the pytest
# logs, the table. The exit status is 1 if any part failed; each part runs regardless.
#
# Made for a machine that allows a command 10 minutes: the smoke check gets at most 120 s, the
# tests GPU_TEST_BUDGET s in all (default 240), the benchmark 150 s: 510 s. A part that runs
# out of time gets SIGINT, so that pytest still prints its summary and the slowest tests (and
# the benchmark its rows so far), and SIGKILL if it still runs 5 s (smoke check), 30 s (each
# pytest run) or 10 s (benchmark) later: 585 s at the very worst.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-results}
mkdir -p "$out"
# full float32 (matched precision); a run where CuPy sees no GPU fails, never skips; and
# Hypothesis's small profile, the GPU's time being short
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 CUPY_TF32=0 \
  TINYGRAD_RNN_REQUIRE_GPU=1 HYPOTHESIS_PROFILE=dev
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c "import sys, numpy, cupy, hypothesis; print('python', sys.version.split()[0], \
'numpy', numpy.__version__, 'cupy', cupy.__version__, 'hypothesis', hypothesis.__version__)"
  python3 -c "
try:
    import torch
except ImportError:
    print('torch not installed: the GPU table has no cuDNN or cell-loop columns')
else:
    print('torch', torch.__version__, 'torch.version.cuda', torch.version.cuda,
          'torch.cuda.is_available()', torch.cuda.is_available())"
} 2>&1 | tee "$out/machine.txt"
status=0
timeout -s INT -k 5 120 python3 benchmarks/gpu_smoke.py 2>&1 | tee "$out/smoke.txt" || status=1
marker=(-m gpu)
[ "${1:-}" = "--all" ] && marker=()
first=(tests/test_pointer_steps.py tests/test_fused.py tests/test_kernel_calls.py tests/test_rnn.py)
rest=()
for f in "${first[@]}"; do rest+=(--ignore "$f"); done
opts=(-q -p no:cacheprovider -rfE --durations=15)
# a test that hangs is cut off by pytest-timeout, where installed, and the rest still run
python3 -c "import pytest_timeout" 2>/dev/null && opts+=(--timeout=90)
# the tests get at most GPU_TEST_BUDGET s in all, so that the benchmark always runs
t=${GPU_TEST_BUDGET:-240}
timeout -s INT -k 30 $((t * 2 / 5)) python3 -m pytest "${opts[@]}" "${marker[@]}" \
  "${first[@]}" 2>&1 | tee "$out/pytest_gpu_first.txt" || status=1
timeout -s INT -k 30 $((t * 3 / 5)) python3 -m pytest "${opts[@]}" "${marker[@]}" \
  "${rest[@]}" tests 2>&1 | tee "$out/pytest_gpu.txt" || status=1
timeout -s INT -k 10 150 python3 benchmarks/bench_rnn.py --device cuda \
  --out "$out/bench_gpu.md" 2>&1 | tee "$out/bench_gpu.log" || status=1
exit $status

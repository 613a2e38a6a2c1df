#!/usr/bin/env bash
# GPU verification, one go: the GPU tests (`-m gpu`: every device-parametrized test on "cuda",
# the fused CuPy kernels against the composed path among them), then the GPU benchmark.
# Pass --all to run the whole suite with CuPy present instead of the GPU tests alone.
# Results go to $OUT (or ./gpu-results): the card, the versions, the pytest log, the table.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-results}
mkdir -p "$out"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c "import sys, numpy, cupy, hypothesis; print('python', sys.version.split()[0], \
'numpy', numpy.__version__, 'cupy', cupy.__version__, 'hypothesis', hypothesis.__version__)"
} | tee "$out/machine.txt"
status=0
marker=(-m gpu)
[ "${1:-}" = "--all" ] && marker=()
# the tests get at most ${PYTEST_TIMEOUT:-300} s, so that the benchmark always runs in one call
timeout "${PYTEST_TIMEOUT:-300}" python3 -m pytest -q -p no:cacheprovider -rfE "${marker[@]}" 2>&1 \
  | tee "$out/pytest_gpu.txt" || status=1
python3 benchmarks/bench_rnn.py --device cuda --out "$out/bench_gpu.md" 2>&1 \
  | tee "$out/bench_gpu.log" || status=1
exit $status

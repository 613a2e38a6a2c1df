#!/usr/bin/env bash
# GPU verification, one go: the whole test suite with CuPy present (every device-parametrized
# test then also runs on "cuda"), then just the GPU tests (`-m gpu`). Results go to $OUT (or
# ./gpu-results): the card, the versions, and each pytest log.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-results}
mkdir -p "$out"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c "import sys, numpy, cupy, hypothesis; print('python', sys.version.split()[0], \
'numpy', numpy.__version__, 'cupy', cupy.__version__, 'hypothesis', hypothesis.__version__)"
  python3 -c "import tinygrad_rnn as tr; print('tr.cuda.is_available():', tr.cuda.is_available())"
} | tee "$out/machine.txt"
status=0
python3 -m pytest -q -p no:cacheprovider -rfE 2>&1 | tee "$out/pytest_all.txt" || status=1
python3 -m pytest -q -p no:cacheprovider -rfE -m gpu 2>&1 | tee "$out/pytest_gpu.txt" || status=1
exit $status

"""What tinygrad_rnn's own Python costs a fused layer on the GPU path, measured on the CPU.

    python benchmarks/host_overhead.py [--rounds 31]

On CuPy each step of a fused layer is one cuBLAS gemm and one kernel launch each way
(``tinygrad_rnn/ops/pointer_steps.py``). This runs the same layers, with the same pointer loops,
on NumPy through a backend whose gemm and launch do nothing. What it times is therefore the
Python on tinygrad_rnn's side (the module, the autograd graph, the loops computing addresses),
plus NumPy's few array operations around the loop, small at these sizes (I = H = 32, B = 1).
It runs each layer at two lengths. The difference gives the cost per step; the rest is the
fixed cost per call. A GPU adds CuPy's and CUDA's own cost per call to this: the GPU table's
"fused host ms" column measures the whole.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tinygrad_rnn as tr  # noqa: E402
from tinygrad_rnn import nn  # noqa: E402
from tinygrad_rnn.ops import fused  # noqa: E402
from tinygrad_rnn.ops.pointer_steps import PointerSteps  # noqa: E402


class NullBackend:
    """A pointer backend that counts its gemm and launch calls and does nothing else."""

    def __init__(self) -> None:
        self.calls = 0

    def handle(self) -> int:
        return 0

    @staticmethod
    def ptr(a: np.ndarray) -> int:
        return a.ctypes.data

    def gemm(self, *args: object) -> None:
        self.calls += 1

    def launch(self, name: str, grid: int, args: tuple) -> None:
        self.calls += 1


def median_seconds(cell: str, T: int, rounds: int = 31, B: int = 1, H: int = 32) -> float:
    tr.manual_seed(0)
    layer = getattr(nn, cell)(H, H)
    x = tr.randn(T, B, H, requires_grad=True)

    def run() -> None:
        x.grad = None
        layer.zero_grad()
        layer(x)[0].sum().backward()

    times = []
    with np.errstate(all="ignore"):  # the buffers hold whatever memory held: no values here
        run()
        for _ in range(rounds):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=31)
    rounds = ap.parse_args().rounds
    backend = NullBackend()
    fused._Sequence.stepper = PointerSteps(backend, np.float32)  # every layer, by pointer
    short, long = 100, 200
    print("| cell | per call, T=100 (ms) | per step (us) | fixed per call (us) "
          "| backend calls per step |")
    print("|---|---|---|---|---|")
    for cell in ("LSTM", "GRU", "RNN"):
        backend.calls = 0
        median_seconds(cell, short, rounds=1)  # warm-up, and the calls of two runs
        calls = backend.calls / (2 * short)
        a, b = median_seconds(cell, short, rounds), median_seconds(cell, long, rounds)
        per_step = (b - a) / (long - short)
        print(f"| {cell} | {a * 1e3:.2f} | {per_step * 1e6:.1f} | "
              f"{(a - per_step * short) * 1e6:.0f} | {calls:g} |")


if __name__ == "__main__":
    main()

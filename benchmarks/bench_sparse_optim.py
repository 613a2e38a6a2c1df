"""The time of one optimizer step on a sparse embedding gradient.

    python benchmarks/bench_sparse_optim.py [--rows 50000] [--dim 128] [--batch 64] [--steps 200]

An ``nn.Embedding(rows, dim, sparse=True)`` looks up ``batch`` random rows; its weight's
gradient is a sparse tensor of those rows. Each optimizer (SparseAdam, SGD with momentum,
Adagrad) steps on it ``steps`` times; the median time of a step is printed, with torch's on
the same sizes where torch is installed. A step that touches only the gradient's rows costs
time proportional to ``batch``; one that copies the table, to ``rows``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tinygrad_rnn as tr  # noqa: E402
from tinygrad_rnn import nn, optim  # noqa: E402

OPTIMIZERS = {
    "SparseAdam": lambda m, o: o.SparseAdam(m.parameters(), lr=1e-3),
    "SGD(momentum=0.9)": lambda m, o: o.SGD(m.parameters(), lr=0.1, momentum=0.9),
    "Adagrad": lambda m, o: o.Adagrad(m.parameters(), lr=0.1),
}


def median_step(lib: object, nn_: object, optim_: object, make: object, args: argparse.Namespace,
                index: np.ndarray) -> float:
    """Median seconds of ``opt.step()`` over ``args.steps`` steps, each after its backward."""
    emb = nn_.Embedding(args.rows, args.dim, sparse=True)
    opt = make(emb, optim_)
    times = []
    for k in range(args.steps):
        idx = lib.tensor(index[k])
        emb(idx).sum().backward()
        start = time.perf_counter()
        opt.step()
        times.append(time.perf_counter() - start)
        opt.zero_grad()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    index = np.random.default_rng(0).integers(0, args.rows, (args.steps, args.batch))
    try:
        import torch
    except ImportError:
        torch = None
    # (torch's Adagrad builds sparse tensors without checking them, and says so each time)
    warnings.filterwarnings("ignore", message="Sparse invariant checks")
    print(f"embedding {args.rows} x {args.dim}, {args.batch} indices a step, median of "
          f"{args.steps} steps")
    for name, make in OPTIMIZERS.items():
        ours = median_step(tr, nn, optim, make, args, index)
        line = f"{name:20s} tinygrad_rnn {ours * 1e3:8.3f} ms"
        if torch is not None:
            theirs = median_step(torch, torch.nn, torch.optim, make, args, index)
            line += f"   torch {theirs * 1e3:8.3f} ms"
        print(line)


if __name__ == "__main__":
    main()

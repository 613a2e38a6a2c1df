"""A first look at a GPU, in a process of its own, before the GPU tests and the benchmark.

It checks, in order, and stops at the first failure (exit status 1, the reason printed):
1. CuPy imports and sees a GPU (warnings are shown, not taken for failure);
2. the pointer-stepped loops build and pass their first-use check, in float32 and float64
   (a kernel that crashes the GPU kills this process only, not the test run after it);
3. each fused layer (LSTM, LSTM with proj_size, GRU, RNN), forward and backward on a small
   padded batch, gives the CPU's outputs and gradients.

    python benchmarks/gpu_smoke.py                  # on the GPU
    python benchmarks/gpu_smoke.py --device strict  # step 3 on the CPU (as the tests do)
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("CUPY_TF32", "0")  # full float32, as the tests' tolerances assume
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import tinygrad_rnn as tr  # noqa: E402
from tinygrad_rnn import nn  # noqa: E402

LAYERS = {
    "LSTM": lambda: nn.LSTM(5, 8, num_layers=2, bidirectional=True),
    "LSTM proj": lambda: nn.LSTM(5, 8, proj_size=3, bidirectional=True),
    "GRU": lambda: nn.GRU(5, 8, num_layers=2, bidirectional=True),
    "RNN": lambda: nn.RNN(5, 8, nonlinearity="relu", bidirectional=True),
}


def check_device(device: str) -> None:
    if device != "cuda":
        return
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ok = tr.cuda.is_available()
    for w in seen:
        print(f"warning while loading CuPy: {w.message}")
    if not ok:
        sys.exit(f"FAIL: CuPy sees no GPU: {tr.backend._cupy_error}")
    import cupy

    from tinygrad_rnn.ops import pointer_steps

    name = cupy.cuda.runtime.getDeviceProperties(0)["name"]  # bytes or str, by CuPy version
    name = name.decode() if isinstance(name, bytes) else name
    print(f"GPU: {name}, CuPy {cupy.__version__}")
    for dtype in (np.float32, np.float64):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            steps = pointer_steps.get(cupy, dtype)
        for w in seen:  # shown whatever the outcome: a warning with the loops on is news too
            print(f"warning while building the pointer loops for {np.dtype(dtype)}: "
                  f"{w.message}")
        if steps is None:
            why = "; ".join(str(w.message) for w in seen) or "no reason given"
            sys.exit(f"FAIL: pointer loops off for {np.dtype(dtype)}: {why}")
        print(f"pointer loops on for {np.dtype(dtype)}: built, and they agree with the array "
              "path")


def run(layer: nn.Module, device: str, x: np.ndarray, lengths: list[int]) -> list[np.ndarray]:
    layer = layer.to(device)
    xt = tr.tensor(x, device=device, requires_grad=True)
    out, _ = layer(xt, lengths=lengths)
    (out * out).sum().backward()
    return [out.numpy(), xt.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]


def check_layers(device: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4, 5))
    lengths = [6, 2, 5, 1]
    for name, make in LAYERS.items():
        tr.manual_seed(0)
        ref = run(make().double(), "cpu", x, lengths)
        tr.manual_seed(0)
        got = run(make().double(), device, x, lengths)
        err = max(float(np.max(np.abs(a - b), initial=0.0)) for a, b in zip(ref, got))
        if not err < 1e-9:
            sys.exit(f"FAIL: {name} on {device} differs from the CPU by {err:.3g}")
        print(f"{name} on {device}: outputs and gradients match the CPU (max diff {err:.1e})")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", help="cuda (default), or cpu/strict for CI")
    device = ap.parse_args(argv).device
    if device == "strict":
        from tinygrad_rnn.testing import strict

        strict.register()
    check_device(device)
    check_layers(device)
    print("smoke check passed")


if __name__ == "__main__":
    main()

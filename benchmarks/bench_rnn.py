"""Recurrent-layer benchmarks: forward + backward of one layer over a whole sequence, float32.

    python benchmarks/bench_rnn.py                 # CPU (one thread), then GPU where there is one
    python benchmarks/bench_rnn.py --device cpu    # CPU only: the four configurations
    python benchmarks/bench_rnn.py --device cuda   # GPU only: against cuDNN and the cell loop
    python benchmarks/bench_rnn.py --quick         # a smoke run

CPU implementations: tinygrad_rnn's fused path (the default) and composed path, ``torch.nn``
(same thread count), and the hand-written NumPy floor in ``benchmarks/floor.py``. GPU: the fused
path on CuPy, ``torch.nn`` on CUDA (cuDNN) and a Python loop over ``torch.nn.*Cell`` on CUDA, all
in full float32 (TF32 off everywhere). Every implementation runs interleaved with the others,
round after round, and the table reports medians, ratios, and (CPU) peak traced memory. Before
timing, each configuration checks that every implementation computes the same gradients.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

# matched precision: CuPy's float32 matmuls in full float32, never TF32. CuPy reads this once,
# at its first float32 matmul (the pointer loops' first-use check makes one), so set it now
os.environ["CUPY_TF32"] = "0"
if "cuda" not in sys.argv:  # the CPU table runs on one thread: set it before NumPy loads BLAS
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import floor  # noqa: E402

import tinygrad_rnn as tr  # noqa: E402
from tinygrad_rnn import nn  # noqa: E402

CONFIGS = {  # name: (T, B, I, H)
    "ptb-small": (35, 20, 200, 200),
    "medium": (100, 64, 256, 256),
    "tiny": (100, 1, 32, 32),
    "long": (1000, 8, 32, 64),
    "large": (100, 256, 1024, 1024),
}
CPU_CONFIGS = ["ptb-small", "medium", "tiny", "long"]
GPU_CONFIGS = ["tiny", "medium", "large"]
CELLS = ["LSTM", "GRU", "RNN"]
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def make_problem(cell: str, T: int, B: int, I: int, H: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    k, G = 1 / np.sqrt(H), GATES[cell] * H
    f32 = np.float32
    return {
        "x": rng.standard_normal((T, B, I)).astype(f32),
        "h0": np.zeros((B, H), f32), "c0": np.zeros((B, H), f32),
        "w_ih": rng.uniform(-k, k, (G, I)).astype(f32),
        "w_hh": rng.uniform(-k, k, (G, H)).astype(f32),
        "b_ih": rng.uniform(-k, k, G).astype(f32), "b_hh": rng.uniform(-k, k, G).astype(f32),
        "gy": rng.standard_normal((T, B, H)).astype(f32),
    }


def state_dict(p: dict) -> dict:
    return {"weight_ih_l0": p["w_ih"], "weight_hh_l0": p["w_hh"],
            "bias_ih_l0": p["b_ih"], "bias_hh_l0": p["b_hh"]}


# ---- implementations: each returns a zero-argument run() and a grads() for checking ----------


def impl_floor(cell: str, p: dict, xp=np) -> tuple[Callable, Callable]:  # noqa: ANN001
    a = {k: xp.asarray(v) for k, v in p.items()}
    fn = getattr(floor, cell.lower())
    args = [a["x"], a["h0"]] + ([a["c0"]] if cell == "LSTM" else []) + [
        a["w_ih"], a["w_hh"], a["b_ih"], a["b_hh"], a["gy"]]
    result = {}

    def run() -> None:
        result["r"] = fn(*args)

    def grads() -> list:
        run()
        return [result["r"][1], result["r"][2], result["r"][3]]  # dx, dW_ih, dW_hh

    return run, grads


def impl_ours(cell: str, p: dict, impl: str, device: str = "cpu") -> tuple[Callable, Callable]:
    layer = getattr(nn, cell)(p["x"].shape[2], p["h0"].shape[1], impl=impl, device=device)
    layer.load_state_dict(state_dict(p))
    x = tr.tensor(p["x"], device=device, requires_grad=True)
    gy = tr.tensor(p["gy"], device=device)

    def run() -> None:
        x.grad = None
        layer.zero_grad()
        out, _ = layer(x)
        out.backward(gy)

    def grads() -> list:
        run()
        return [x.grad.numpy(), layer.weight_ih_l0.grad.numpy(), layer.weight_hh_l0.grad.numpy()]

    return run, grads


def impl_torch(cell: str, p: dict, device: str = "cpu", loop: bool = False
               ) -> tuple[Callable, Callable]:
    import torch

    T, B, I = p["x"].shape
    H = p["h0"].shape[1]
    mod = getattr(torch.nn, cell + ("Cell" if loop else ""))(I, H).to(device)
    names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    with torch.no_grad():
        for n, v in zip(names, [p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"]]):
            getattr(mod, n if loop else n + "_l0").copy_(torch.from_numpy(v))
    x = torch.from_numpy(p["x"]).to(device).requires_grad_()
    gy = torch.from_numpy(p["gy"]).to(device)

    def forward() -> object:
        if not loop:
            return mod(x)[0]
        h = torch.zeros(B, H, device=device)
        state = (h, torch.zeros(B, H, device=device)) if cell == "LSTM" else h
        outs = []
        for t in range(T):
            state = mod(x[t], state)
            outs.append(state[0] if cell == "LSTM" else state)
        return torch.stack(outs)

    def run() -> None:
        x.grad = None
        mod.zero_grad()
        forward().backward(gy)

    def grads() -> list:
        run()
        w = "weight_ih" if loop else "weight_ih_l0"
        return [x.grad.cpu().numpy(), getattr(mod, w).grad.cpu().numpy(),
                getattr(mod, w.replace("ih", "hh")).grad.cpu().numpy()]

    return run, grads


# ---- measuring ------------------------------------------------------------------------------


def interleaved(runs: dict[str, Callable], rounds: int, sync: Callable[[], None]) -> dict:
    """Median seconds of each run, measured round-robin (the order rotates every round)."""
    times: dict[str, list[float]] = {k: [] for k in runs}
    names = list(runs)
    for name in names:  # warm-up (and kernel compilation on the GPU)
        runs[name]()
    sync()
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            sync()
            t0 = time.perf_counter()
            runs[name]()
            sync()
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def host_seconds(run: Callable, rounds: int, sync: Callable[[], None]) -> float:
    """Median seconds until ``run`` returns, the GPU idle at the start and not waited for at
    the end: the time Python takes to queue the work. Near the whole time, the run is bound
    by its launches; well under it, by the GPU."""
    times = []
    for _ in range(rounds):
        sync()
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    sync()
    return statistics.median(times)


def peak_traced(run: Callable) -> int:
    """Peak bytes that NumPy allocated during one run (tracemalloc sees NumPy's buffers)."""
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def needed_bytes(cell: str, T: int, B: int, I: int, H: int) -> int:
    """What backward must keep from the forward (float32): the input x (for dW_ih) and, per
    step, LSTM i, f, g, o, c, h; GRU r, z, n, W_hn h + b_hn, h; RNN h."""
    per_step = {"LSTM": 6, "GRU": 5, "RNN": 1}[cell] * H
    return 4 * T * B * (per_step + I)


def check_same(grads: dict[str, Callable], atol: float) -> None:
    ref_name, *others = list(grads)
    ref = grads[ref_name]()
    for name in others:
        got = grads[name]()
        for a, b, what in zip(got, ref, ["dx", "dW_ih", "dW_hh"]):
            scale = max(float(np.abs(b).max()), 1.0)
            err = float(np.abs(np.asarray(a) - np.asarray(b)).max()) / scale
            if err > atol:
                raise SystemExit(f"{name} disagrees with {ref_name} on {what}: {err:.2e}")


def engine_overhead_us(n_ops: int = 2000, rounds: int = 7) -> dict[str, float]:
    """Microseconds per primitive op (forward + backward) on one-element arrays."""
    import torch

    def ours() -> None:
        x = tr.tensor([0.5], requires_grad=True)
        y = x
        for _ in range(n_ops // 2):
            y = y * 0.999 + 0.001
        y.sum().backward()

    def theirs() -> None:
        x = torch.tensor([0.5], requires_grad=True)
        y = x
        for _ in range(n_ops // 2):
            y = y * 0.999 + 0.001
        y.sum().backward()

    med = interleaved({"tinygrad_rnn": ours, "torch": theirs}, rounds, lambda: None)
    return {k: v / n_ops * 1e6 for k, v in med.items()}


def cpu_table(configs: list[str], cells: list[str], rounds: int) -> tuple[list[str], dict]:
    import torch

    torch.set_num_threads(1)
    lines = [
        "| config | cell | floor ms | fused ms | composed ms | torch.nn ms | fused/floor "
        "| composed/floor | fused/torch |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)  # each row follows as it is measured
    results = {}
    for cfg in configs:
        T, B, I, H = CONFIGS[cfg]
        for cell in cells:
            p = make_problem(cell, T, B, I, H)
            impls = {"floor": impl_floor(cell, p), "fused": impl_ours(cell, p, "fused"),
                     "composed": impl_ours(cell, p, "composed"), "torch": impl_torch(cell, p)}
            check_same({k: v[1] for k, v in impls.items()}, atol=2e-3)
            r = rounds if T * B * H < 1e6 else max(3, rounds // 2)
            med = interleaved({k: v[0] for k, v in impls.items()}, r, lambda: None)
            # x lives through the whole run, allocated before tracing began: add it
            peak = {k: peak_traced(impls[k][0]) + p["x"].nbytes for k in ("floor", "fused")}
            results[(cfg, cell)] = dict(med, peak_fused=peak["fused"], peak_floor=peak["floor"],
                                        needed=needed_bytes(cell, T, B, I, H))
            f = med["floor"]
            lines.append(
                f"| {cfg} | {cell} | {f * 1e3:.2f} | {med['fused'] * 1e3:.2f} | "
                f"{med['composed'] * 1e3:.1f} | {med['torch'] * 1e3:.2f} | "
                f"{med['fused'] / f:.2f}x | {med['composed'] / f:.2f}x | "
                f"{med['fused'] / med['torch']:.2f}x |")
            print(lines[-1], flush=True)
    lines += ["", "Peak memory of forward + backward (traced NumPy allocations, plus the input "
              "x) against what backward needs from the forward: x and the saved activations. "
              "The rest is mostly the gradient dx, the same size as x.", "",
              "| config | cell | fused MB | floor MB | needed MB | fused / needed "
              "| floor / needed |", "|---|---|---|---|---|---|---|"]
    for (cfg, cell), r in results.items():
        lines.append(f"| {cfg} | {cell} | {r['peak_fused'] / 2**20:.1f} | "
                     f"{r['peak_floor'] / 2**20:.1f} | {r['needed'] / 2**20:.1f} | "
                     f"{r['peak_fused'] / r['needed']:.2f}x | "
                     f"{r['peak_floor'] / r['needed']:.2f}x |")
    print("\n".join(lines[lines.index("") :]), flush=True)
    return lines, results


def gpu_table(configs: list[str], cells: list[str], rounds: int) -> list[str]:
    import cupy
    import torch

    torch.backends.cudnn.allow_tf32 = False  # matched precision: full float32 everywhere
    torch.backends.cuda.matmul.allow_tf32 = False
    if os.environ.get("CUPY_TF32") != "0":
        raise RuntimeError("CUPY_TF32 must be 0 for a matched-precision table")

    def sync() -> None:
        cupy.cuda.Device().synchronize()
        torch.cuda.synchronize()

    lines = ["| config | cell | fused (CuPy) ms | fused us/step | fused host ms | cuDNN ms "
             "| torch cell loop ms | fused/cuDNN | cell loop/fused |",
             "|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)  # each row follows as it is measured
    for cfg in configs:
        T, B, I, H = CONFIGS[cfg]
        for cell in cells:
            p = make_problem(cell, T, B, I, H)
            impls = {"fused": impl_ours(cell, p, "fused", "cuda"),
                     "cudnn": impl_torch(cell, p, "cuda"),
                     "cell_loop": impl_torch(cell, p, "cuda", loop=True)}
            check_same({k: v[1] for k, v in impls.items()}, atol=2e-3)
            med = interleaved({k: v[0] for k, v in impls.items()}, rounds, sync)
            host = host_seconds(impls["fused"][0], rounds, sync)
            lines.append(
                f"| {cfg} | {cell} | {med['fused'] * 1e3:.2f} | {med['fused'] / T * 1e6:.0f} | "
                f"{host * 1e3:.2f} | {med['cudnn'] * 1e3:.2f} | "
                f"{med['cell_loop'] * 1e3:.2f} | {med['fused'] / med['cudnn']:.2f}x | "
                f"{med['cell_loop'] / med['fused']:.2f}x |")
            print(lines[-1], flush=True)
    return lines


def machine(device: str) -> str:
    import torch

    info = [f"python {platform.python_version()}", f"numpy {np.__version__}",
            f"torch {torch.__version__}", f"{platform.machine()}, {os.cpu_count()} cores"]
    if device == "cuda":
        import cupy

        name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
        name = name.decode() if isinstance(name, bytes) else name
        from tinygrad_rnn.ops import pointer_steps

        path = "pointer-stepped" if pointer_steps.get(cupy, np.float32) is not None else \
            "on the array path (the pointer loops are off: see the warning)"
        info += [f"cupy {cupy.__version__}", f"GPU {name}", f"fused loops {path}"]
    return ", ".join(info)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                    help="auto (the default): the CPU table, then the GPU table where CuPy sees "
                         "a GPU")
    ap.add_argument("--configs", nargs="+", choices=list(CONFIGS))
    ap.add_argument("--cells", nargs="+", choices=CELLS, default=CELLS)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--quick", action="store_true", help="one small configuration, 3 rounds")
    ap.add_argument("--out", type=Path, help="also write the Markdown tables here")
    args = ap.parse_args()
    if args.quick:
        args.configs, args.rounds = args.configs or ["tiny"], 3
    devices = [args.device] if args.device != "auto" else (
        ["cpu", "cuda"] if tr.cuda.is_available() and _torch_has_cuda() else ["cpu"])
    out: list[str] = []
    for device in devices:
        configs = args.configs or (GPU_CONFIGS if device == "cuda" else CPU_CONFIGS)
        head = [f"Machine: {machine(device)}", ""]
        print(head[0], flush=True)
        if device == "cuda":
            lines = gpu_table(configs, args.cells, args.rounds)
        else:
            lines, _ = cpu_table(configs, args.cells, args.rounds)
            ov = engine_overhead_us()
            lines += ["", "Engine overhead per primitive op (forward + backward, 1-element "
                          f"arrays): tinygrad_rnn {ov['tinygrad_rnn']:.1f} us, torch "
                          f"{ov['torch']:.1f} us"]
            print("\n" + lines[-1])
        out += (["", ""] if out else []) + head + lines
        if args.out:  # after each table, so that a failure later loses nothing
            args.out.write_text("\n".join(out) + "\n")


def _torch_has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


if __name__ == "__main__":
    main()

"""Recurrent-layer benchmarks: forward + backward of one layer over a whole sequence, float32.

    python benchmarks/bench_rnn.py                 # CPU (one thread), then GPU where there is one
    python benchmarks/bench_rnn.py --device cpu    # CPU only: the four configurations
    python benchmarks/bench_rnn.py --device cuda   # GPU only: against cuDNN and the cell loop
    python benchmarks/bench_rnn.py --quick         # a smoke run

CPU implementations: tinygrad_rnn's fused path (the default) and composed path, ``torch.nn``
(where torch is installed), and the hand-written NumPy floor in ``benchmarks/floor.py``, NumPy's
BLAS and torch on the same thread count (one; the machine line says what each ran on). GPU: the
fused path on CuPy, ``torch.nn`` on CUDA (cuDNN) and a Python loop over ``torch.nn.*Cell`` on
CUDA (where torch has CUDA), all in full float32 (TF32 off everywhere). Every implementation
runs interleaved with the others, round after round, and the table reports medians, ratios
(each the median over rounds of two times taken within one round),
and (CPU) peak traced memory. Before timing, each configuration checks that every
implementation computes the same outputs and gradients.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType

# matched precision: CuPy's float32 matmuls in full float32, never TF32. CuPy reads this once,
# at its first float32 matmul (the pointer loops' first-use check makes one), so set it now
os.environ["CUPY_TF32"] = "0"
CPU_THREADS = 1  # the CPU table's thread count, for NumPy's BLAS and torch alike
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
if __name__ == "__main__" and not {"cuda", "--device=cuda"} & set(sys.argv[1:]):
    # BLAS reads these once, when NumPy loads it: set them now, whatever the shell had set
    # (threadpoolctl, where installed, also holds the count at run time: see cpu_threads)
    for var in THREAD_VARS:
        os.environ[var] = str(CPU_THREADS)

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
# grads() runs once more and returns the outputs, then the gradients of x, W_ih, W_hh, b_ih, b_hh

CHECKED = ["out", "dx", "dW_ih", "dW_hh", "db_ih", "db_hh"]
WEIGHTS = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]


def _torch() -> ModuleType | None:
    """torch, or None where it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def _torch_with_cuda() -> ModuleType | None:
    """torch, where it is installed and sees a GPU; else None."""
    torch = _torch()
    return torch if torch is not None and torch.cuda.is_available() else None


def _host(a: object) -> np.ndarray:
    return a.get() if type(a).__module__.startswith("cupy") else np.asarray(a)


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
        return [_host(r) for r in result["r"]]  # out, dx, dW_ih, dW_hh, db_ih, db_hh

    return run, grads


def impl_ours(cell: str, p: dict, impl: str, device: str = "cpu") -> tuple[Callable, Callable]:
    layer = getattr(nn, cell)(p["x"].shape[2], p["h0"].shape[1], impl=impl, device=device)
    layer.load_state_dict(state_dict(p))
    x = tr.tensor(p["x"], device=device, requires_grad=True)
    gy = tr.tensor(p["gy"], device=device)

    def forward_backward() -> tr.Tensor:
        x.grad = None
        layer.zero_grad()
        out, _ = layer(x)
        out.backward(gy)
        return out

    def run() -> None:
        forward_backward()

    def grads() -> list:
        out = forward_backward()
        return [out.numpy(), x.grad.numpy()] + [
            getattr(layer, w + "_l0").grad.numpy() for w in WEIGHTS]

    return run, grads


def impl_torch(cell: str, p: dict, device: str = "cpu", loop: bool = False
               ) -> tuple[Callable, Callable]:
    import torch

    T, B, I = p["x"].shape
    H = p["h0"].shape[1]
    mod = getattr(torch.nn, cell + ("Cell" if loop else ""))(I, H).to(device)
    names = [w if loop else w + "_l0" for w in WEIGHTS]
    with torch.no_grad():
        for n, v in zip(names, [p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"]]):
            getattr(mod, n).copy_(torch.from_numpy(v))
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

    def forward_backward() -> object:
        x.grad = None
        mod.zero_grad()
        out = forward()
        out.backward(gy)
        return out

    def run() -> None:
        forward_backward()

    def grads() -> list:
        out = forward_backward()
        return [out.detach().cpu().numpy(), x.grad.cpu().numpy()] + [
            getattr(mod, n).grad.cpu().numpy() for n in names]

    return run, grads


# ---- measuring ------------------------------------------------------------------------------


REPEAT_TO = 0.02  # seconds: a run shorter than this is repeated within its turn


def interleaved(runs: dict[str, Callable], rounds: int, sync: Callable[[], None]) -> dict:
    """Median seconds of each run over ``round_times``' rounds."""
    return {k: statistics.median(v) for k, v in round_times(runs, rounds, sync).items()}


def paired_ratio(times: dict[str, list[float]], a: str, b: str) -> float:
    """The median over rounds of a's time over b's in the same round. The two ran within
    moments of each other, so a burst of load on the machine, which lasts seconds, slows
    both: a ratio of medians taken over different rounds moved by up to 0.3x with such bursts
    (the tiny configuration: 1.31x, then 1.61x a minute later), this one far less."""
    return statistics.median(x / y for x, y in zip(times[a], times[b]))


def round_times(runs: dict[str, Callable], rounds: int, sync: Callable[[], None]
                ) -> dict[str, list[float]]:
    """Seconds of each run in each round, measured round-robin (the order rotates every
    round). A run shorter than ``REPEAT_TO`` (the tiny configuration's, about a millisecond)
    is repeated within its turn, the same number of times in every round, and its time is the
    turn's over that number: one call of a millisecond is at the mercy of the timer and of
    whatever else the machine does, and its median over a few rounds moved by 20% from run
    to run. Every implementation is measured the same way."""
    times: dict[str, list[float]] = {k: [] for k in runs}
    names = list(runs)
    reps = {}
    for name in names:  # warm-up (and kernel compilation on the GPU), and the repeat count
        sync()
        t0 = time.perf_counter()
        runs[name]()
        sync()
        reps[name] = max(1, min(100, int(REPEAT_TO / max(time.perf_counter() - t0, 1e-9))))
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            sync()
            t0 = time.perf_counter()
            for _ in range(reps[name]):
                runs[name]()
            sync()
            times[name].append((time.perf_counter() - t0) / reps[name])
    return times


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


def check_same(grads: dict[str, Callable], atol: float,
               checked: Sequence[str] = CHECKED) -> None:
    """Every implementation's outputs and gradients (named by ``checked``) equal the first
    one's, to ``atol`` relative to the larger of 1 and the reference's largest magnitude."""
    ref_name, *others = list(grads)
    ref = grads[ref_name]()
    for name in others:
        got = grads[name]()
        if len(got) != len(ref):
            raise SystemExit(f"{name} returned {len(got)} arrays, {ref_name} {len(ref)}")
        for a, b, what in zip(got, ref, checked):
            a, b = np.asarray(a), np.asarray(b)
            if a.shape != b.shape:
                raise SystemExit(f"{name} disagrees with {ref_name} on {what}: shape "
                                 f"{a.shape} against {b.shape}")
            scale = max(float(np.abs(b).max(initial=0.0)), 1.0)
            err = float(np.abs(a - b).max(initial=0.0)) / scale
            if not err <= atol:  # a NaN fails too
                raise SystemExit(f"{name} disagrees with {ref_name} on {what}: {err:.2e}")


def engine_overhead_us(n_ops: int = 2000, rounds: int = 7) -> dict[str, float]:
    """Microseconds per primitive op (forward + backward) on one-element float32 arrays, for a
    chain of n_ops multiplications and additions: tinygrad_rnn's, torch's (where installed),
    and "numpy": the same chain written directly in NumPy (forward, each link's multiplication
    and addition; backward, the multiplication's vector-Jacobian product, the addition's being
    the identity), the part of ours that is NumPy's own cost."""
    torch = _torch()

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

    def bare() -> None:
        y = np.array([0.5], np.float32)
        for _ in range(n_ops // 2):
            y = y * 0.999 + 0.001
        y.sum()
        gy = np.ones_like(y)
        for _ in range(n_ops // 2):
            gy = gy * 0.999

    runs = {"tinygrad_rnn": ours, "numpy": bare}
    if torch is not None:
        runs["torch"] = theirs
    times = round_times(runs, rounds, lambda: None)
    us = {k: statistics.median(v) / n_ops * 1e6 for k, v in times.items()}
    if torch is not None:  # (a ratio, not microseconds: the machine's speed cancels)
        us["ratio_to_torch"] = paired_ratio(times, "tinygrad_rnn", "torch")
    return us


def overhead_line(ov: dict[str, float]) -> str:
    mine, bare = ov["tinygrad_rnn"], ov["numpy"]
    theirs = (f"torch {ov['torch']:.1f} us ({ov['ratio_to_torch']:.2f}x torch's, within each "
              "round)" if "torch" in ov else "torch not installed")
    return ("Engine overhead per primitive op (forward + backward, 1-element arrays): "
            f"tinygrad_rnn {mine:.1f} us, {theirs}; the same chain in bare NumPy "
            f"{bare:.1f} us, so tinygrad_rnn's own {mine - bare:.1f} us")


# ---- tables ---------------------------------------------------------------------------------


@contextlib.contextmanager
def cpu_threads(n: int) -> Iterator[None]:
    """NumPy's BLAS (by threadpoolctl, where installed; else the environment, set before NumPy
    loaded it) and torch on n threads each; as they were after."""
    torch = _torch()
    before = torch.get_num_threads() if torch is not None else None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        limits = None
    else:
        limits = threadpool_limits(limits=n, user_api="blas")
    if torch is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if limits is not None:
            limits.restore_original_limits()
        if torch is not None:
            torch.set_num_threads(before)


def numpy_threads() -> str:
    """The thread count of NumPy's BLAS: threadpoolctl's word, else the environment's."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        var = next((v for v in THREAD_VARS if v in os.environ), None)
        return f"{os.environ[var]} ({var})" if var else "unknown (no threadpoolctl)"
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    mine = [i for i in blas if "numpy" in i["filepath"]] or blas
    return "/".join(str(n) for n in sorted({i["num_threads"] for i in mine})) or "unknown"


def config_rounds(T: int, B: int, H: int, rounds: int) -> int:
    """The CPU table's rounds for a configuration: fewer (half, at least 3) for the long runs,
    T * B * H of a million or more (medium), and three times as many for the overhead-bound
    ones, under ten thousand (tiny: a round lasts a tenth of a second, and more of them carry
    its medians past the machine's bursts of load); the table says so under it."""
    if T * B * H < 1e4:
        return 3 * rounds
    return rounds if T * B * H < 1e6 else max(3, rounds // 2)


def cpu_table(configs: list[str], cells: list[str], rounds: int) -> tuple[list[str], dict]:
    torch = _torch()
    head = ["config", "cell", "floor ms", "fused ms", "composed ms"] + (
        ["torch.nn ms"] if torch else []) + ["fused/floor", "composed/floor"] + (
        ["fused/torch"] if torch else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    print("\n".join(lines), flush=True)  # each row follows as it is measured
    results, fewer = {}, {}
    for cfg in configs:
        T, B, I, H = CONFIGS[cfg]
        for cell in cells:
            p = make_problem(cell, T, B, I, H)
            impls = {"floor": impl_floor(cell, p), "fused": impl_ours(cell, p, "fused"),
                     "composed": impl_ours(cell, p, "composed")}
            if torch:
                impls["torch"] = impl_torch(cell, p)
            check_same({k: v[1] for k, v in impls.items()}, atol=2e-3)
            r = config_rounds(T, B, H, rounds)
            if r != rounds:
                fewer[cfg] = r
            times = round_times({k: v[0] for k, v in impls.items()}, r, lambda: None)
            med = {k: statistics.median(v) for k, v in times.items()}
            # x lives through the whole run, allocated before tracing began: add it
            peak = {k: peak_traced(impls[k][0]) + p["x"].nbytes for k in ("floor", "fused")}
            ratio = {(a, b): paired_ratio(times, a, b) for a, b in (
                ("fused", "floor"), ("composed", "floor"), ("fused", "torch")) if b in times}
            results[(cfg, cell)] = dict(med, peak_fused=peak["fused"], peak_floor=peak["floor"],
                                        needed=needed_bytes(cell, T, B, I, H), ratio=ratio)
            f = med["floor"]
            row = [cfg, cell, f"{f * 1e3:.2f}", f"{med['fused'] * 1e3:.2f}",
                   f"{med['composed'] * 1e3:.1f}"] + (
                [f"{med['torch'] * 1e3:.2f}"] if torch else []) + [
                f"{ratio['fused', 'floor']:.2f}x", f"{ratio['composed', 'floor']:.2f}x"] + (
                [f"{ratio['fused', 'torch']:.2f}x"] if torch else [])
            lines.append("| " + " | ".join(row) + " |")
            print(lines[-1], flush=True)
    notes = [f"Medians of {rounds} rounds each"
             + "".join(f"; {cfg}: {r} rounds (its runs are "
                       f"{'short' if r > rounds else 'long'})" for cfg, r in fewer.items())
             + ". A ratio is the median over rounds of the two times within one round."]
    if not torch:
        notes.append("torch is not installed: no torch.nn column (pip install torch).")
    lines += [""] + notes
    print("\n".join([""] + notes), flush=True)
    mem = ["", "Peak memory of forward + backward (traced NumPy allocations, plus the input x) "
           "against what backward needs from the forward: x and the saved activations. The "
           "rest is mostly the gradient dx, the same size as x.", "",
           "| config | cell | fused MB | floor MB | needed MB | fused / needed "
           "| floor / needed |", "|---|---|---|---|---|---|---|"]
    for (cfg, cell), r in results.items():
        mem.append(f"| {cfg} | {cell} | {r['peak_fused'] / 2**20:.1f} | "
                   f"{r['peak_floor'] / 2**20:.1f} | {r['needed'] / 2**20:.1f} | "
                   f"{r['peak_fused'] / r['needed']:.2f}x | "
                   f"{r['peak_floor'] / r['needed']:.2f}x |")
    print("\n".join(mem), flush=True)
    return lines + mem, results


def gpu_table(configs: list[str], cells: list[str], rounds: int) -> list[str]:
    import cupy

    torch = _torch_with_cuda()
    if os.environ.get("CUPY_TF32") != "0":
        raise RuntimeError("CUPY_TF32 must be 0 for a matched-precision table")
    if torch is not None:
        torch.backends.cudnn.allow_tf32 = False  # matched precision: full float32 everywhere
        torch.backends.cuda.matmul.allow_tf32 = False

    def sync() -> None:
        cupy.cuda.Device().synchronize()
        if torch is not None:
            torch.cuda.synchronize()

    head = ["config", "cell", "fused (CuPy) ms", "fused us/step", "fused host ms"] + (
        ["cuDNN ms", "torch cell loop ms", "fused/cuDNN", "cell loop/fused"] if torch else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    print("\n".join(lines), flush=True)  # each row follows as it is measured
    for cfg in configs:
        T, B, I, H = CONFIGS[cfg]
        for cell in cells:
            p = make_problem(cell, T, B, I, H)
            impls = {"fused": impl_ours(cell, p, "fused", "cuda")}
            if torch is not None:
                impls["cudnn"] = impl_torch(cell, p, "cuda")
                impls["cell_loop"] = impl_torch(cell, p, "cuda", loop=True)
                check_same({k: v[1] for k, v in impls.items()}, atol=2e-3)
            else:  # nothing on the GPU to compare with: the CPU's fused path, then
                check_same({"fused": impls["fused"][1],
                            "fused (CPU)": impl_ours(cell, p, "fused")[1]}, atol=2e-3)
            times = round_times({k: v[0] for k, v in impls.items()}, rounds, sync)
            med = {k: statistics.median(v) for k, v in times.items()}
            host = host_seconds(impls["fused"][0], rounds, sync)
            row = [cfg, cell, f"{med['fused'] * 1e3:.2f}", f"{med['fused'] / T * 1e6:.0f}",
                   f"{host * 1e3:.2f}"]
            if torch is not None:
                row += [f"{med['cudnn'] * 1e3:.2f}", f"{med['cell_loop'] * 1e3:.2f}",
                        f"{paired_ratio(times, 'fused', 'cudnn'):.2f}x",
                        f"{paired_ratio(times, 'cell_loop', 'fused'):.2f}x"]
            lines.append("| " + " | ".join(row) + " |")
            print(lines[-1], flush=True)
    if torch is None:
        lines += ["", f"torch has no CUDA here ({_torch_cuda_words()}): no cuDNN or cell-loop "
                      "columns."]
        print("\n".join(lines[-2:]), flush=True)
    return lines


def _torch_cuda_words() -> str:
    torch = _torch()
    if torch is None:
        return "torch not installed"
    return (f"torch {torch.__version__}, CUDA {torch.version.cuda}, "
            f"cuda.is_available() {torch.cuda.is_available()}")


def machine(device: str) -> str:
    torch = _torch()
    info = [f"python {platform.python_version()}", f"numpy {np.__version__}",
            f"torch {torch.__version__}" if torch is not None else "torch not installed",
            f"{platform.machine()}, {os.cpu_count()} cores"]
    if device == "cpu":
        info.append(f"threads: numpy {numpy_threads()}, torch "
                    f"{torch.get_num_threads() if torch is not None else '-'}")
    if device == "cuda":
        import cupy

        name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
        name = name.decode() if isinstance(name, bytes) else name
        from tinygrad_rnn.ops import pointer_steps

        path = "pointer-stepped" if pointer_steps.get(cupy, np.float32) is not None else \
            "on the array path (the pointer loops are off: see the warning)"
        info += [f"cupy {cupy.__version__}", f"GPU {name}", f"fused loops {path}"]
        if torch is not None:
            info.append(f"torch CUDA {torch.version.cuda}, "
                        f"available {torch.cuda.is_available()}")
    return ", ".join(info)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                    help="auto (the default): the CPU table, then the GPU table where CuPy sees "
                         "a GPU")
    ap.add_argument("--configs", nargs="+", choices=list(CONFIGS))
    ap.add_argument("--cells", nargs="+", choices=CELLS, default=CELLS)
    ap.add_argument("--rounds", type=int, help="rounds per configuration (default 9; 3 with "
                                               "--quick)")
    ap.add_argument("--quick", action="store_true",
                    help="one small configuration (unless --configs), 3 rounds (unless --rounds)")
    ap.add_argument("--out", type=Path, help="also write the Markdown tables here")
    args = ap.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 9
    if args.quick:
        args.configs = args.configs or ["tiny"]
    if args.device == "cuda" and not tr.cuda.is_available():
        ap.exit(2, f"{ap.prog}: no GPU table: CuPy sees no GPU "
                   f"({tr.backend._cupy_error or 'no reason given'})\n")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    devices = [args.device] if args.device != "auto" else (
        ["cpu", "cuda"] if tr.cuda.is_available() else ["cpu"])
    out: list[str] = []
    for device in devices:
        configs = args.configs or (GPU_CONFIGS if device == "cuda" else CPU_CONFIGS)
        with cpu_threads(CPU_THREADS) if device == "cpu" else contextlib.nullcontext():
            head = [f"Machine: {machine(device)}", ""]
            print(head[0], flush=True)
            if device == "cuda":
                lines = gpu_table(configs, args.cells, args.rounds)
            else:
                lines, _ = cpu_table(configs, args.cells, args.rounds)
                lines += ["", overhead_line(engine_overhead_us())]
                print("\n" + lines[-1], flush=True)
        out += (["", ""] if out else []) + head + lines
        if args.out:  # after each table, so that a failure later loses nothing
            args.out.write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # gpu_check.sh's time limit sends SIGINT: say so, not a traceback
        sys.exit(f"{Path(__file__).name}: interrupted; the rows printed so far are all there is")

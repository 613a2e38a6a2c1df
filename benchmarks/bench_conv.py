"""Convolution and pooling benchmarks on the CPU: forward + backward (the input's gradient and
the weight's and bias's) of one op, float32.

    python benchmarks/bench_conv.py            # every case, 9 rounds
    python benchmarks/bench_conv.py --quick    # small shapes, 3 rounds: a smoke run

Three implementations, interleaved round after round on one thread (NumPy's BLAS and torch
alike): tinygrad_rnn's ``functional`` ops, ``torch.nn.functional`` (where torch is installed),
and the floor below: the same forward and backward written directly in NumPy, the practical
floor for NumPy code. Before timing, each case checks that all of them compute the same output
and gradients. The table gives medians and the ratios ours/torch and ours/floor.

The floor's convolution is im2col + matmul: the windows of the zero-padded input gathered by
one copy of a strided view into (N, G, C/G·K, L) (K taps, L windows, G groups), one batched
matmul with the weight as (G, O/G, C/G·K); backward, the weight's gradient is one batched
matmul summed over the batch, the columns' gradient one batched matmul, added back into the
padded input tap by tap (col2im, a short loop over the K taps). A depthwise convolution (one
input channel per group) is K multiply-adds over whole arrays instead, which beats G·N
matrix products of one row. The transposed convolution is the same two pieces the other way
round; a pool is a strided view, reduced; an adaptive average pool two matmuls with an
averaging matrix per axis, an adaptive max pool a gather of each window and its argmax.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

CPU_THREADS = 1
if __name__ == "__main__":  # BLAS reads these once, when NumPy loads it: set them first
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(CPU_THREADS)

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import as_strided  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_rnn  # noqa: E402  (its timing, thread and machine helpers)

import tinygrad_rnn as tr  # noqa: E402
from tinygrad_rnn import functional as F  # noqa: E402

# name: (op, input shape, weight shape or pool kernel, options)
CASES: dict[str, tuple[str, tuple[int, ...], tuple[int, ...], dict]] = {
    "conv1d k3": ("conv1d", (16, 64, 256), (64, 64, 3), {"padding": "same"}),
    "conv1d k3 dil4": ("conv1d", (16, 64, 256), (64, 64, 3), {"padding": "same",
                                                               "dilation": 4}),
    "conv2d 3->32": ("conv2d", (32, 3, 32, 32), (32, 3, 3, 3), {"padding": 1}),
    "conv2d 32->64 s2": ("conv2d", (32, 32, 32, 32), (64, 32, 3, 3), {"padding": 1,
                                                                      "stride": 2}),
    "conv2d depthwise": ("conv2d", (32, 32, 32, 32), (32, 1, 3, 3), {"padding": 1,
                                                                     "groups": 32}),
    "conv2d 1x1": ("conv2d", (32, 32, 32, 32), (64, 32, 1, 1), {}),
    "conv_transpose2d s2": ("conv_transpose2d", (32, 64, 16, 16), (64, 32, 3, 3),
                            {"stride": 2, "padding": 1, "output_padding": 1}),
    "max_pool2d 2x2": ("max_pool2d", (32, 32, 32, 32), (2, 2), {}),
    "avg_pool2d 2x2": ("avg_pool2d", (32, 32, 32, 32), (2, 2), {}),
    "adaptive_avg_pool2d 7": ("adaptive_avg_pool2d", (32, 32, 32, 32), (7, 7), {}),
    "adaptive_avg_pool2d 1": ("adaptive_avg_pool2d", (32, 32, 32, 32), (1, 1), {}),
    "adaptive_max_pool2d 7": ("adaptive_max_pool2d", (32, 32, 32, 32), (7, 7), {}),
}
QUICK = {  # the same ops on small shapes
    "conv1d k3": ("conv1d", (2, 4, 16), (4, 4, 3), {"padding": "same"}),
    "conv1d k3 dil4": ("conv1d", (2, 4, 16), (4, 4, 3), {"padding": "same", "dilation": 4}),
    "conv2d 3->32": ("conv2d", (2, 3, 8, 8), (4, 3, 3, 3), {"padding": 1}),
    "conv2d 32->64 s2": ("conv2d", (2, 4, 8, 8), (6, 4, 3, 3), {"padding": 1, "stride": 2}),
    "conv2d depthwise": ("conv2d", (2, 4, 8, 8), (4, 1, 3, 3), {"padding": 1, "groups": 4}),
    "conv2d 1x1": ("conv2d", (2, 4, 8, 8), (6, 4, 1, 1), {}),
    "conv_transpose2d s2": ("conv_transpose2d", (2, 6, 4, 4), (6, 4, 3, 3),
                            {"stride": 2, "padding": 1, "output_padding": 1}),
    "max_pool2d 2x2": ("max_pool2d", (2, 4, 8, 8), (2, 2), {}),
    "avg_pool2d 2x2": ("avg_pool2d", (2, 4, 8, 8), (2, 2), {}),
    "adaptive_avg_pool2d 7": ("adaptive_avg_pool2d", (2, 4, 8, 8), (3, 3), {}),
    "adaptive_avg_pool2d 1": ("adaptive_avg_pool2d", (2, 4, 8, 8), (1, 1), {}),
    "adaptive_max_pool2d 7": ("adaptive_max_pool2d", (2, 4, 8, 8), (3, 3), {}),
}
CHECKED = ["out", "dx", "dw", "db"]


# ---- the floor: NumPy, no framework -----------------------------------------------------------


def _ints(v: object, d: int) -> tuple[int, ...]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * d


def _windows(xp_: np.ndarray, k: tuple[int, ...], s: tuple[int, ...], dl: tuple[int, ...],
             n_out: tuple[int, ...]) -> np.ndarray:
    """(N, C, *k, *n_out): tap j of window l is xp_[:, :, l·s + j·dl], a view."""
    st = xp_.strides
    return as_strided(xp_, (*xp_.shape[:2], *k, *n_out),
                      (*st[:2], *(t * d for t, d in zip(st[2:], dl)),
                       *(t * v for t, v in zip(st[2:], s))), writeable=False)


def _taps(k: tuple[int, ...], s: tuple[int, ...], dl: tuple[int, ...],
          n_out: tuple[int, ...]) -> list[tuple]:
    """Each tap's index into the padded input: a strided slice per spatial axis."""
    return [(slice(None), slice(None), *(slice(j * d, j * d + v * (m - 1) + 1, v)
                                         for j, d, v, m in zip(js, dl, s, n_out)))
            for js in np.ndindex(*k)]


def _col2im(gcols: np.ndarray, padded: tuple[int, ...], k: tuple[int, ...],
            s: tuple[int, ...], dl: tuple[int, ...], n_out: tuple[int, ...]) -> np.ndarray:
    """gcols (N, C, K, *n_out) added back where each tap was read: (N, C, *padded)."""
    out = np.zeros((*gcols.shape[:2], *padded), gcols.dtype)
    for j, tap in enumerate(_taps(k, s, dl, n_out)):
        out[tap] += gcols[:, :, j]
    return out


def floor_conv(x, w, b, gy, stride=1, padding=0, dilation=1, groups=1):  # noqa: ANN001, ANN201
    """conv1d/2d: y, then the gradients of x, w, b for the upstream gy."""
    d = x.ndim - 2
    (N, C), (O, Cg), k = x.shape[:2], w.shape[:2], w.shape[2:]
    s, dl, G, K = _ints(stride, d), _ints(dilation, d), groups, math.prod(k)
    if padding == "same":
        pads = [(t // 2, t - t // 2) for t in (v * (kk - 1) for v, kk in zip(dl, k))]
    else:
        pads = [(p, p) for p in _ints(padding, d)]
    padded = tuple(n + a + z for n, (a, z) in zip(x.shape[2:], pads))
    n_out = tuple((n - v * (kk - 1) - 1) // t + 1 for n, v, kk, t in zip(padded, dl, k, s))
    L = math.prod(n_out)
    inner = (slice(None), slice(None), *(slice(a, a + n) for (a, _), n in zip(pads, x.shape[2:])))
    xp_ = np.zeros((N, C, *padded), x.dtype)
    xp_[inner] = x
    win = _windows(xp_, k, s, dl, n_out)
    gb = gy.sum((0, *range(2, gy.ndim)))
    if Cg == 1 and O == G and all(v == 1 for v in s):
        return _floor_depthwise(x, w, b, gy, xp_[inner].shape[2:], pads, dl, n_out, gb)
    cols = win.reshape(N, G, Cg * K, L)  # the one copy (none for a 1x1 kernel, stride 1)
    wm = w.reshape(G, O // G, Cg * K)
    y = np.matmul(wm, cols).reshape(N, O, *n_out)
    y += b.reshape(O, *(1,) * d)
    gy2 = gy.reshape(N, G, O // G, L)
    gw = np.matmul(gy2, cols.swapaxes(-1, -2)).sum(0).reshape(w.shape)
    gcols = np.matmul(wm.swapaxes(-1, -2), gy2).reshape(N, C, K, *n_out)
    if all(v == 1 for v in k) and padded == x.shape[2:] and all(t == 1 for t in s):
        return y, gcols.reshape(x.shape), gw, gb
    return y, _col2im(gcols, padded, k, s, dl, n_out)[inner], gw, gb


def _floor_depthwise(x, w, b, gy, size, pads, dl, n_out, gb):  # noqa: ANN001, ANN202
    """Depthwise, stride 1: each channel's padded input one flat row, every tap one
    contiguous slice of it (output position a at a · the padded strides, the positions past
    each output row's end computed and dropped), K multiply-adds, a few images at a time so
    that they stay in cache."""
    N, C = x.shape[:2]
    k = w.shape[2:]
    padded = [m + v * (kk - 1) for m, v, kk in zip(n_out, dl, k)]
    st = [math.prod(padded[i + 1:]) for i in range(len(padded))]
    offs = [sum(j * v * t for j, v, t in zip(js, dl, st)) for js in np.ndindex(*k)]
    q = n_out[0] * st[0]
    grid = (n_out[0], *padded[1:])
    crop = (..., *(slice(m) for m in n_out[1:]))
    rows = np.zeros((N, C, q + max(offs)), x.dtype)
    rows[:, :, :math.prod(padded)].reshape(N, C, *padded)[
        (slice(None), slice(None), *(slice(a, a + m) for (a, _), m in zip(pads, size)))] = x
    wk = w.reshape(C, -1, 1)
    y = np.empty((N, C, q), x.dtype)
    g = np.zeros((N, C, q), x.dtype)
    g.reshape(N, C, *grid)[crop] = gy
    grows = np.zeros_like(rows)
    gw = np.zeros((C, len(offs)), x.dtype)
    step = max(1, 2**17 // (C * rows.shape[2]))
    for a in range(0, N, step):
        r, yb, gb_, gr = rows[a:a + step], y[a:a + step], g[a:a + step], grows[a:a + step]
        tmp = np.empty_like(yb)
        np.multiply(r[:, :, offs[0]:offs[0] + q], wk[:, 0], out=yb)
        for j, o in enumerate(offs[1:], 1):
            yb += np.multiply(r[:, :, o:o + q], wk[:, j], out=tmp)
        for j, o in enumerate(offs):
            gw[:, j] += np.einsum("ncq,ncq->c", gb_, r[:, :, o:o + q])
            gr[:, :, o:o + q] += np.multiply(gb_, wk[:, j], out=tmp)
    y = y.reshape(N, C, *grid)[crop] + b.reshape(C, *(1,) * len(k))
    gx = grows[:, :, :math.prod(padded)].reshape(N, C, *padded)[
        (slice(None), slice(None), *(slice(a, a + m) for (a, _), m in zip(pads, size)))]
    return y, gx, gw.reshape(w.shape), gb


def floor_conv_transpose(x, w, b, gy, stride=1, padding=0, output_padding=0):  # noqa: ANN001, ANN201
    """conv_transpose2d (groups 1, dilation 1): y = col2im(wᵀ x) cropped; the gradients read
    gy's windows (im2col): gx = w · cols, gw = x · colsᵀ."""
    d = x.ndim - 2
    (N, C), (_, O), k = x.shape[:2], w.shape[:2], w.shape[2:]
    s, p, e = _ints(stride, d), _ints(padding, d), _ints(output_padding, d)
    n_in, K, L = x.shape[2:], math.prod(k), math.prod(x.shape[2:])
    full = tuple((m - 1) * t + kk + ee for m, t, kk, ee in zip(n_in, s, k, e))
    inner = (slice(None), slice(None), *(slice(pp, f - pp) for pp, f in zip(p, full)))
    wm = w.reshape(C, O * K)
    x2 = x.reshape(N, C, L)
    cols = np.matmul(wm.T, x2).reshape(N, O, K, *n_in)
    y = _col2im(cols, full, k, s, (1,) * d, n_in)[inner]
    y += b.reshape(O, *(1,) * d)
    gb = gy.sum((0, *range(2, gy.ndim)))
    gfull = np.zeros((N, O, *full), gy.dtype)
    gfull[inner] = gy
    gcols = _windows(gfull, k, s, (1,) * d, n_in).reshape(N, O * K, L)
    gx = np.matmul(wm, gcols).reshape(x.shape)
    gw = np.matmul(x2, gcols.swapaxes(-1, -2)).sum(0).reshape(w.shape)
    return y, gx, gw, gb


def floor_max_pool(x, k, gy):  # noqa: ANN001, ANN201
    """max_pool2d, stride = kernel, no padding: the maximum over the taps (strided views),
    then the first tap equal to it (it gets the window's gradient, as torch's), a few images
    at a time; no NaN in the input."""
    N, C = x.shape[:2]
    n_out = tuple(m // kk for m, kk in zip(x.shape[2:], k))
    taps = _taps(k, k, (1, 1), n_out)
    y = np.empty((N, C, *n_out), x.dtype)
    gx = np.zeros_like(x)
    step = max(1, 2**17 // x[0].size)
    for a in range(0, N, step):
        xb, yb, gb, gxb = x[a:a + step], y[a:a + step], gy[a:a + step], gx[a:a + step]
        yb[...] = xb[taps[0]]
        for t in taps[1:]:
            np.maximum(yb, xb[t], out=yb)
        free = np.ones(yb.shape, bool)  # no earlier tap has taken the window's gradient
        for t in taps:
            hit = xb[t] == yb
            hit &= free
            free &= ~hit
            gxb[t] = np.where(hit, gb, 0)
    return y, gx


def floor_avg_pool(x, k, gy):  # noqa: ANN001, ANN201
    """avg_pool2d, stride = kernel, no padding: the taps (strided views) added up."""
    n_out = tuple(m // kk for m, kk in zip(x.shape[2:], k))
    taps = _taps(k, k, (1, 1), n_out)
    y = x[taps[0]].copy()
    for t in taps[1:]:
        y += x[t]
    y /= math.prod(k)
    gx = np.zeros_like(x)
    g = gy / math.prod(k)
    for t in taps:
        gx[t] = g
    return y, gx


def _adaptive_windows(length: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Window i of an adaptive pool covers [floor(i·L/size), ceil((i+1)·L/size))."""
    i = np.arange(size)
    return (i * length) // size, -(-((i + 1) * length) // size)


def floor_adaptive_avg_pool(x, size, gy):  # noqa: ANN001, ANN201
    """adaptive_avg_pool2d: an (L, size) averaging matrix per axis, y = A_Hᵀ x A_W and
    gx = A_H gy A_Wᵀ (two matmuls each way)."""
    mats = []
    for length, s in zip(x.shape[2:], size):
        start, end = _adaptive_windows(length, s)
        at = np.arange(length)[:, None]
        mats.append((((at >= start) & (at < end)) / (end - start)).astype(x.dtype))
    ah, aw = mats
    y = ah.T @ (x @ aw)
    gx = ah @ (gy @ aw.T)
    return y, gx


def floor_adaptive_max_pool(x, size, gy):  # noqa: ANN001, ANN201
    """adaptive_max_pool2d: each window's values gathered (its last row and column repeated
    up to the widest window), the first maximum's place, its value taken and gy added there
    (windows may share an element)."""
    (N, C, H, W), places = x.shape, []
    for length, s in zip((H, W), size):
        start, end = _adaptive_windows(length, s)
        at = start[:, None] + np.arange(int((end - start).max()))
        places.append(np.minimum(at, end[:, None] - 1))
    (ih, iw), (sh, sw) = places, size
    flat = (ih[:, None, :, None] * W + iw[None, :, None, :]).reshape(sh, sw, -1)
    x2 = x.reshape(N, C, H * W)
    best = np.take_along_axis(flat[None, None], x2[:, :, flat].argmax(-1)[..., None], -1)[..., 0]
    best = best.reshape(N, C, sh * sw)
    y = np.take_along_axis(x2, best, -1).reshape(N, C, sh, sw)
    gx = np.zeros_like(x2)
    rows = (np.arange(N * C) * (H * W))[:, None]
    np.add.at(gx.reshape(-1), (rows + best.reshape(N * C, -1)).ravel(), gy.ravel())
    return y, gx.reshape(x.shape)


# ---- implementations: each returns run() and grads() -> [out, dx, dw, db] -----------------------


def make_problem(op: str, xs: tuple[int, ...], ws: tuple[int, ...], seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    f32 = np.float32
    p = {"x": rng.standard_normal(xs).astype(f32)}
    if op.startswith("conv"):
        fan = math.prod(ws[1:])
        p["w"] = rng.uniform(-1, 1, ws).astype(f32) / np.float32(math.sqrt(fan))
        out_ch = ws[0] if op != "conv_transpose2d" else ws[1]
        p["b"] = rng.uniform(-0.1, 0.1, out_ch).astype(f32)
    return p


def _out_shape(op: str, p: dict, ws: tuple[int, ...], opts: dict) -> tuple[int, ...]:
    """The output's shape, from torch's rule (computed once on a throwaway forward)."""
    fn = getattr(F, op)
    x = tr.tensor(p["x"])
    with tr.no_grad():
        y = fn(x, tr.tensor(p["w"]), tr.tensor(p["b"]), **opts) if "w" in p else fn(x, ws, **opts)
    return y.shape


def impl_floor(op: str, p: dict, ws: tuple[int, ...], opts: dict, gy: np.ndarray
               ) -> tuple[Callable, Callable]:
    result = {}
    if op.startswith("conv_transpose"):
        def fn() -> tuple:
            return floor_conv_transpose(p["x"], p["w"], p["b"], gy, **opts)
    elif op.startswith("conv"):
        def fn() -> tuple:
            return floor_conv(p["x"], p["w"], p["b"], gy, **opts)
    else:
        pool = {"max_pool2d": floor_max_pool, "avg_pool2d": floor_avg_pool,
                "adaptive_avg_pool2d": floor_adaptive_avg_pool,
                "adaptive_max_pool2d": floor_adaptive_max_pool}[op]

        def fn() -> tuple:
            return pool(p["x"], ws, gy)

    def run() -> None:
        result["r"] = fn()

    def grads() -> list:
        run()
        return list(result["r"])

    return run, grads


def impl_ours(op: str, p: dict, ws: tuple[int, ...], opts: dict, gy: np.ndarray
              ) -> tuple[Callable, Callable]:
    fn = getattr(F, op)
    x = tr.tensor(p["x"], requires_grad=True)
    params = [tr.tensor(p[k], requires_grad=True) for k in ("w", "b") if k in p]
    g = tr.tensor(gy)

    def forward_backward() -> tr.Tensor:
        for t in (x, *params):
            t.grad = None
        y = fn(x, *params, **opts) if params else fn(x, ws, **opts)
        y.backward(g)
        return y

    def grads() -> list:
        y = forward_backward()
        return [y.numpy(), x.grad.numpy()] + [t.grad.numpy() for t in params]

    return forward_backward, grads


def impl_torch(op: str, p: dict, ws: tuple[int, ...], opts: dict, gy: np.ndarray
               ) -> tuple[Callable, Callable]:
    import torch

    fn = getattr(torch.nn.functional, op)
    x = torch.from_numpy(p["x"]).requires_grad_()
    params = [torch.from_numpy(p[k]).requires_grad_() for k in ("w", "b") if k in p]
    g = torch.from_numpy(gy)

    def forward_backward() -> object:
        for t in (x, *params):
            t.grad = None
        y = fn(x, *params, **opts) if params else fn(x, ws, **opts)
        y.backward(g)
        return y

    def grads() -> list:
        y = forward_backward()
        return [y.detach().numpy(), x.grad.numpy()] + [t.grad.numpy() for t in params]

    return forward_backward, grads


# ---- the table --------------------------------------------------------------------------------


def table(cases: dict, rounds: int) -> list[str]:
    torch = bench_rnn._torch()
    head = ["case", "ours ms"] + (["torch ms"] if torch else []) + ["floor ms"] + (
        ["ours/torch"] if torch else []) + ["ours/floor"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    print("\n".join(lines), flush=True)  # each row follows as it is measured
    for name, (op, xs, ws, opts) in cases.items():
        p = make_problem(op, xs, ws)
        gy = np.random.default_rng(1).standard_normal(_out_shape(op, p, ws, opts)).astype(
            np.float32)
        impls = {"floor": impl_floor(op, p, ws, opts, gy), "ours": impl_ours(op, p, ws, opts, gy)}
        if torch:
            impls["torch"] = impl_torch(op, p, ws, opts, gy)
        bench_rnn.check_same({k: v[1] for k, v in impls.items()}, 1e-4, CHECKED)
        med = bench_rnn.interleaved({k: v[0] for k, v in impls.items()}, rounds, lambda: None)
        ours, fl = med["ours"], med["floor"]
        row = [name, f"{ours * 1e3:.2f}"] + ([f"{med['torch'] * 1e3:.2f}"] if torch else []) + [
            f"{fl * 1e3:.2f}"] + ([f"{ours / med['torch']:.2f}x"] if torch else []) + [
            f"{ours / fl:.2f}x"]
        lines.append("| " + " | ".join(row) + " |")
        print(lines[-1], flush=True)
    notes = [f"Medians of {rounds} rounds, forward + backward, float32."]
    if not torch:
        notes.append("torch is not installed: no torch columns (pip install torch).")
    print("\n".join([""] + notes), flush=True)
    return lines + [""] + notes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", nargs="+", choices=list(CASES))
    ap.add_argument("--rounds", type=int, help="rounds per case (default 9; 3 with --quick)")
    ap.add_argument("--quick", action="store_true",
                    help="every case on small shapes, 3 rounds (unless --rounds)")
    ap.add_argument("--out", type=Path, help="also write the Markdown table here")
    args = ap.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 9
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    source = QUICK if args.quick else CASES
    cases = {k: v for k, v in source.items() if args.cases is None or k in args.cases}
    with bench_rnn.cpu_threads(CPU_THREADS):
        head = [f"Machine: {bench_rnn.machine('cpu')}", ""]
        print(head[0], flush=True)
        lines = head + table(cases, args.rounds)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

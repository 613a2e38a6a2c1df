"""The pointer-stepped GPU loops (``ops/pointer_steps.py``), run on the CPU.

Those loops hand cuBLAS and the CUDA kernels raw addresses, so an offset or a leading
dimension off by one would read the wrong memory on a GPU, and CI has none. Here the very same
loops run on NumPy arrays, through a backend that stands in for CuPy:

- addresses are the arrays' own (``ndarray.ctypes.data``), and every one handed out in a
  loop is remembered, so each access below must fall inside an array that loop asked the
  address of;
- gemm is an emulated column-major cuBLAS gemm on those addresses (transpose flags, leading
  dimensions, alpha and beta read from host memory, C not read when beta is 0);
- each kernel is its generated CUDA source compiled as C++ (``__global__`` dropped, one call
  per thread, threads run in either order), or without a compiler its NumPy step on views of
  the same addresses.

The layers must then give what the NumPy array path gives, in value and gradient.
"""

from __future__ import annotations

import ctypes
import sys
import types
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import nn
from tinygrad_rnn.nn import rnn
from tinygrad_rnn.ops import fused, pointer_steps
from tinygrad_rnn.ops.pointer_steps import OP_N, OP_T, PointerSteps, kernel_params
from tinygrad_rnn.testing import strategies as tst

from .conftest import gpu, needs_cuda
from .test_fused import LAYERS, _outputs_and_grads
from .test_kernel_calls import NUMPY_STEP, build_with_host_compiler

GATES = {"lstm": 4, "gru": 3, "rnn": 1}
SUFFIX = {np.dtype(np.float32): ("f32", "float"), np.dtype(np.float64): ("f64", "double")}

def _on(m, x):  # the kernels select by the mask, never multiply (inf * 0 is NaN)
    return np.where(m != 0, x, 0)


def _off(m, x):
    return np.where(m != 0, 0, x)


def _lstm_fwd_masked(xw, hw, c_prev, h_prev, m, H, c, h, y, acts):
    c_new, h_new = np.empty_like(c_prev), np.empty_like(c_prev)
    fused.lstm_step(np, xw, hw, c_prev, acts, c_new, h_new)
    c[...], h[...], y[...] = np.where(m != 0, c_new, c_prev), np.where(m != 0, h_new, h_prev), \
        _on(m, h_new)


def _lstm_bwd_masked(acts, c_prev, c, dh, gy, dc, m, H, dgates, dc_prev, dh_keep):
    dh, dc, dcp = dh.copy(), dc.copy(), np.empty_like(dc)  # dc_prev is dc, dh_keep is dh
    fused.lstm_step_backward(np, acts, c_prev, c, _on(m, dh + gy), np.zeros_like(dh), _on(m, dc),
                             dgates, dcp)
    dc_prev[...], dh_keep[...] = dcp + _off(m, dc), _off(m, dh)


def _gru_fwd_masked(gi, gh, b_hh, h_prev, m, H, h, y, ghn, rzn):
    h_new = np.empty_like(h_prev)
    fused.gru_step(np, gi, gh, b_hh, h_prev, rzn, h_new, ghn)
    h[...], y[...] = np.where(m != 0, h_new, h_prev), _on(m, h_new)


def _gru_bwd_masked(rzn, ghn, h_prev, dh, gy, m, H, dgi, dgh, dghn, dh_keep):
    dh, dz, zero = dh.copy(), np.empty_like(dh), np.zeros_like(dh)
    fused.gru_step_backward(np, rzn, ghn, h_prev, _on(m, dh + gy), zero, zero, dgi, dgh, dghn, dz)
    dh_keep[...] = dz + _off(m, dh)


def _rnn_fwd_masked(xw, hw, h_prev, m, relu, H, new_h, h, y):
    h_new = np.empty_like(h_prev)
    fused.rnn_step(np, xw, hw, bool(relu), h_new)
    new_h[...], h[...], y[...] = h_new, np.where(m != 0, h_new, h_prev), _on(m, h_new)


def _rnn_bwd_masked(dh, gy, y, m, relu, H, dpre, dh_keep):
    dh = dh.copy()  # dh_keep is dh
    fused.rnn_step_backward(np, _on(m, dh + gy), np.zeros_like(dh), y, bool(relu), dpre)
    dh_keep[...] = _off(m, dh)


def _lstm_proj_fwd_masked(xw, hw, c_prev, m, H, c, h_raw, acts):
    c_new = np.empty_like(c_prev)
    fused.lstm_step(np, xw, hw, c_prev, acts, c_new, h_raw)
    c[...] = np.where(m != 0, c_new, c_prev)


def _lstm_proj_out_masked(hp, h_prev, m, H, h, y):
    h[...], y[...] = np.where(m != 0, hp, h_prev), _on(m, hp)


def _lstm_proj_bwd_masked(dh, gy, m, H, dh_new, dh_keep):
    dh = dh.copy()  # dh_keep may be dh
    dh_new[...], dh_keep[...] = _on(m, dh + gy), _off(m, dh)


# the masked kernels' NumPy twins, for a machine without a compiler
NUMPY_MASKED = {"lstm_fwd_masked": _lstm_fwd_masked, "lstm_bwd_masked": _lstm_bwd_masked,
                "gru_fwd_masked": _gru_fwd_masked, "gru_bwd_masked": _gru_bwd_masked,
                "rnn_fwd_masked": _rnn_fwd_masked, "rnn_bwd_masked": _rnn_bwd_masked,
                "lstm_proj_fwd_masked": _lstm_proj_fwd_masked,
                "lstm_proj_out_masked": _lstm_proj_out_masked,
                "lstm_proj_bwd_masked": _lstm_proj_bwd_masked}

PRELUDE = """#include <cmath>
using std::tanh;
#define __global__
#define __device__
struct tr_dim3 { unsigned x; };
static tr_dim3 blockIdx, blockDim, threadIdx;
"""


def _cpp_source() -> str:
    """Every pointer kernel for float and double, each in its own namespace (its own ``T``),
    with a launcher that runs the grid's threads one by one, in order or in reverse."""
    parts = [PRELUDE]
    for name in pointer_steps.kernel_names():
        for sfx, ctype in SUFFIX.values():
            fn = f"tinygrad_rnn_{name}"
            src = pointer_steps.kernel_source(name, ctype).replace(fn + "(", f"{fn}_{sfx}(")
            params = kernel_params(name)
            decls = ", ".join(d for d, _ in params)
            names = ", ".join(n for _, n in params)
            parts.append(
                f"namespace {name}_{sfx} {{\n{src}\n"
                f'extern "C" void run_{name}_{sfx}(unsigned grid, int reverse, {decls}) {{\n'
                f"  blockDim.x = {pointer_steps.BLOCK};\n"
                "  const long total = (long)grid * blockDim.x;\n"
                "  for (long s = 0; s < total; ++s) {\n"
                "    const long t = reverse ? total - 1 - s : s;\n"
                "    blockIdx.x = t / blockDim.x; threadIdx.x = t % blockDim.x;\n"
                f"    {fn}_{sfx}({names});\n  }}\n}}\n}}\n")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """The pointer kernels as a shared library built with the host's C++ compiler, or None."""
    return build_with_host_compiler(tmp_path_factory.mktemp("pointer_kernels"), _cpp_source(),
                                    "the pointer kernels")


class HostBackend:
    """Stands in for ``pointer_steps.CupyBackend`` on NumPy arrays (see the module docstring).
    Counts gemms and launches per kernel."""

    def __init__(self, lib, dtype, reverse: bool = False) -> None:
        self.lib, self.dtype, self.reverse = lib, np.dtype(dtype), reverse
        self.regions: list[tuple[int, int]] = []
        self.calls: dict[str, int] = {}
        self.gemm = self._gemm

    # -- addresses
    def ptr(self, a: np.ndarray) -> int:
        assert isinstance(a, np.ndarray) and a.dtype == self.dtype, "pointer of a foreign array"
        assert a.flags.c_contiguous, "pointer of a non-contiguous array"
        self.regions.append((a.ctypes.data, a.nbytes))
        return a.ctypes.data

    def view(self, address: int, n: int, what: str) -> np.ndarray:
        """n elements from ``address``, which must lie inside an array handed out by ``ptr``."""
        assert isinstance(address, int), f"{what}: an address must be a Python int"
        nbytes = n * self.dtype.itemsize
        assert any(lo <= address and address + nbytes <= lo + size for lo, size in self.regions), \
            f"{what}: [{address}, +{nbytes}) is outside every array the loop took the address of"
        return np.frombuffer((ctypes.c_char * nbytes).from_address(address), self.dtype)

    def handle(self) -> int:
        self.regions = []  # each loop takes its handle first, then the addresses it uses
        return 0

    # -- cuBLAS gemm, column-major: C (m, n) = alpha op(A) op(B) + beta C
    def _gemm(self, handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc):
        self.calls["gemm"] = self.calls.get("gemm", 0) + 1
        assert handle == 0 and transa in (OP_N, OP_T) and transb in (OP_N, OP_T)

        def mat(address, rows, cols, ld, what):
            assert ld >= max(rows, 1), f"{what}: leading dimension {ld} < {rows} rows"
            flat = self.view(address, (cols - 1) * ld + rows, what)
            s = self.dtype.itemsize
            return np.lib.stride_tricks.as_strided(flat, (rows, cols), (s, ld * s))

        a = mat(A, *((m, k) if transa == OP_N else (k, m)), lda, "gemm A")
        b = mat(B, *((k, n) if transb == OP_N else (n, k)), ldb, "gemm B")
        a, b = (a if transa == OP_N else a.T), (b if transb == OP_N else b.T)
        c = mat(C, m, n, ldc, "gemm C")
        al = np.frombuffer((ctypes.c_char * self.dtype.itemsize).from_address(alpha), self.dtype)
        be = np.frombuffer((ctypes.c_char * self.dtype.itemsize).from_address(beta), self.dtype)
        prod = al[0] * (a @ b)
        c[...] = prod if be[0] == 0 else prod + be[0] * c

    # -- kernels
    def launch(self, name: str, grid: int, args: tuple) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        params = kernel_params(name)
        assert len(args) == len(params), f"{name}: {len(args)} arguments, {len(params)} declared"
        count = int(args[-1])
        assert grid * pointer_steps.BLOCK >= count > 0 and grid == -(-count // pointer_steps.BLOCK)
        names = [n for _, n in params]
        H = int(args[names.index("H")]) if "H" in names else count
        G = GATES[name.split("_")[0]]
        views, c_args = [], []
        for (decl, pname), a in zip(params, args):
            if decl.startswith("const int"):
                assert isinstance(a, np.int32), f"{name}: {pname} must be numpy.int32"
                views.append(int(a))
                c_args.append(ctypes.c_int(int(a)))
                continue
            raw = not pname.startswith("p_")
            n = G * H if pname == "b_hh" else count // H if pname == "m" else \
                count * G if raw else count
            flat = self.view(a, n, f"{name}: {pname}")
            views.append(flat if pname == "b_hh" else flat.reshape(count // H, -1))
            c_args.append(ctypes.c_void_p(a))
        if self.lib is not None:
            sfx = SUFFIX[self.dtype][0]
            getattr(self.lib, f"run_{name}_{sfx}")(ctypes.c_uint(grid), ctypes.c_int(self.reverse),
                                                   *c_args)
        else:
            (NUMPY_STEP | NUMPY_MASKED)[name](*views[:-1])


class Stepping:
    """What ``host_steps`` installed: the stepper made per dtype, and the thread order."""

    def __init__(self, lib) -> None:
        self.lib, self.reverse, self.steps = lib, False, {}

    def get(self, xp, dtype):
        key = np.dtype(dtype)
        if key not in SUFFIX:
            return None
        if key not in self.steps:
            self.steps[key] = PointerSteps(HostBackend(self.lib, key, self.reverse), key)
        return self.steps[key]

    def calls(self, dtype) -> dict:
        """The gemms and launches per kernel so far ({} where no stepper was made)."""
        made = self.steps.get(np.dtype(dtype))
        return {} if made is None else made.backend.calls


@pytest.fixture
def host_steps(monkeypatch, compiled):
    """Makes the fused layers step by pointer on NumPy, through ``HostBackend``, until the
    test calls ``array_path()``; and sets 4 steps per backward chunk."""
    stepping = Stepping(compiled)
    monkeypatch.setattr(pointer_steps, "get", stepping.get)
    monkeypatch.setattr(fused._Sequence, "chunk_steps", 4)
    stepping.array_path = lambda: monkeypatch.setattr(pointer_steps, "get", lambda xp, dt: None)
    stepping.pointer_path = lambda: monkeypatch.setattr(pointer_steps, "get", stepping.get)
    return stepping


def _run(layer, x, retain, loss_kind, lengths=None):
    x.grad = None
    layer.zero_grad()
    h0 = None
    if loss_kind == "state":  # a given initial state, and the loss through the final state only
        D, rng = 2 if layer.bidirectional else 1, np.random.default_rng(1)

        def state(size):
            a = rng.standard_normal((layer.num_layers * D, x.shape[1], size))
            return tr.tensor(np.asfortranarray(a.astype(x.numpy().dtype)), device=x.device)

        h0 = state(getattr(layer, "proj_size", 0) or layer.hidden_size)
        if isinstance(layer, nn.LSTM):
            h0 = (h0, state(layer.hidden_size))
    out, state = layer(x, h0, lengths=lengths)
    states = list(state) if isinstance(state, tuple) else [state]
    if loss_kind == "sum":  # the output gradient is a broadcast of ones (not contiguous)
        loss = out.sum()
    elif loss_kind == "state":
        loss = sum((s * s).sum() for s in states)
    else:
        loss = (out * out).sum() + sum((s * s).sum() for s in states)
    loss.backward(retain_graph=retain)
    if retain:
        loss.backward()  # the second (last) backward may write over the saved buffers
    return [out.numpy(), x.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]


CASES = [("LSTM", {}), ("LSTM", {"proj_size": 3}), ("GRU", {}), ("RNN", {}),
         ("RNN", {"nonlinearity": "relu"})]


@pytest.mark.parametrize("mode,kw", CASES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("retain", [False, True])
@pytest.mark.parametrize("loss_kind", ["squares", "sum", "state"])
@pytest.mark.parametrize("lengths", [None, [6, 2, 4]])
def test_pointer_loops_match_the_array_path(host_steps, mode, kw, dtype, retain, loss_kind,
                                            lengths):
    tr.manual_seed(0)
    layer = getattr(nn, mode)(3, 5, num_layers=2, bidirectional=True, dtype=dtype, **kw)
    x = tr.randn(6, 3, 3, dtype=dtype, requires_grad=True)
    got = _run(layer, x, retain, loss_kind, lengths)  # two chunks where backward uses a buffer
    calls = host_steps.calls(dtype)
    host_steps.array_path()
    want = _run(layer, x, retain, loss_kind, lengths)
    assert calls.get("gemm", 0) > 0, "the pointer loops did not run"
    tol = 1e-10 if dtype == "float64" else 2e-5
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("mode,kw", [("LSTM", {}), ("GRU", {}), ("RNN", {}),
                                     ("LSTM", {"proj_size": 2})])
@pytest.mark.parametrize("lengths", [None, [7, 3]])
def test_pointer_loops_make_two_calls_per_step_each_way(host_steps, mode, kw, lengths):
    """One gemm and one kernel launch per step, forward and backward: nothing else per step,
    with or without the mask of ``lengths``. A projection adds one gemm each way, and with
    ``lengths`` one more kernel (the mask falls on h after the projection)."""
    T = 7
    layer = getattr(nn, mode)(3, 4, **kw)
    layer(tr.randn(T, 2, 3), lengths=lengths)[0].sum().backward()
    calls = host_steps.calls(np.float32)
    name_fwd, name_bwd = (f"{mode.lower()}_fwd", f"{mode.lower()}_bwd") if lengths is None \
        else (f"{mode.lower()}_fwd_masked", f"{mode.lower()}_bwd_masked")
    if not kw:
        assert calls == {"gemm": 2 * T, name_fwd: T, name_bwd: T}
    elif lengths is None:
        assert calls == {"gemm": 4 * T, name_fwd: T, name_bwd: T}
    else:
        assert calls == {"gemm": 4 * T, "lstm_proj_fwd_masked": T, "lstm_proj_out_masked": T,
                         "lstm_proj_bwd_masked": T, "lstm_bwd_masked": T}


@pytest.mark.parametrize("mode,kw", CASES)
@pytest.mark.parametrize("lengths", [None, [4, 2]])
def test_pointer_kernels_do_not_depend_on_thread_order(host_steps, compiled, mode, kw, lengths):
    """Threads of a GPU kernel run in no fixed order: reversed, the results must not change
    (a thread reading what another writes would show here). The state spans two blocks, so a
    kernel that indexed by thread instead of element would show too, against the array path."""
    if compiled is None:
        pytest.skip("no C++ compiler to build the kernels with")
    results = []
    for reverse in (False, True, None):  # None: the NumPy array path
        host_steps.reverse, host_steps.steps = reverse, {}
        if reverse is None:
            host_steps.array_path()
        tr.manual_seed(0)
        layer = getattr(nn, mode)(2, 300, bidirectional=True, dtype="float64", **kw)
        x = tr.randn(4, 2, 2, dtype="float64", requires_grad=True)  # 2 x 300 > one block
        results.append(_run(layer, x, False, "squares", lengths))
    for a, b, c in zip(*results):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("mode,kw", CASES)
def test_pointer_loops_keep_nans_of_padding_where_the_array_path_does(host_steps, monkeypatch,
                                                                     mode, kw):
    """NaN in the padded steps of a batch: the masked kernels must spread it (or not) exactly
    as the array path's ``where`` and products do. (The layers zero the padding before the
    fused ops see it; here they do not, so the NaN reaches the kernels.)"""
    monkeypatch.setattr(rnn, "_zero_padding", lambda x, mask: x)
    tr.manual_seed(0)
    layer = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True, dtype="float64", **kw)
    x0 = np.random.default_rng(0).standard_normal((5, 2, 3))
    x0[3:, 1] = np.nan  # the second sequence has 3 steps: its padding is NaN
    results = []
    for path in (host_steps.pointer_path, host_steps.array_path):
        path()
        x = tr.tensor(x0, requires_grad=True)
        results.append(_run(layer, x, False, "squares", [5, 3]))
    assert any(np.isnan(a).any() for a in results[0]), "the NaNs did not reach anything"
    for a, b in zip(*results):  # NaN exactly where the array path has NaN
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode,kw", CASES)
def test_pointer_loops_never_read_the_output_gradient_at_padding(host_steps, mode, kw):
    """NaN in the output gradient at padded steps: the masked kernels select, never multiply
    by the mask, so it reaches no gradient (NaN * 0 would be NaN everywhere)."""
    tr.manual_seed(0)
    layer = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True, dtype="float64", **kw)
    x = tr.randn(5, 2, 3, dtype="float64", requires_grad=True)
    results = []
    for path in (host_steps.pointer_path, host_steps.array_path):
        path()
        x.grad = None
        layer.zero_grad()
        out, _ = layer(x, lengths=[5, 3])
        gy = np.ones(out.shape)
        gy[3:, 1] = np.nan
        (out * tr.tensor(gy)).sum().backward()
        results.append([x.grad.numpy()] + [q.grad.numpy() for q in layer.parameters()])
        if len(results) == 1:
            assert host_steps.calls(np.float64).get("gemm", 0) > 0, "the pointer loops did not run"
    for a, b in zip(*results):
        assert np.isfinite(a).all()
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_a_failing_gpu_toolchain_falls_back_with_a_warning(monkeypatch):
    """Where CuPy's cuBLAS or kernel compiler fails, the layers must still train (on the array
    path), and say once why they are slower."""

    def broken(xp, dtype):
        raise RuntimeError("nvrtc: cannot open libnvrtc")

    monkeypatch.setattr(pointer_steps, "CupyBackend", broken)
    monkeypatch.setattr(pointer_steps, "_STEPS", {})
    fake_cupy = types.SimpleNamespace(__name__="cupy", cuda=types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDevice=lambda: 0)))
    with pytest.warns(RuntimeWarning, match="libnvrtc.*array path"):
        assert pointer_steps.get(fake_cupy, np.float32) is None
    assert pointer_steps.get(fake_cupy, np.float32) is None  # decided once: no second warning
    with warnings.catch_warnings():  # where warnings are errors, the first call raises ...
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="libnvrtc"):
            pointer_steps.get(fake_cupy, np.float64)
        assert pointer_steps.get(fake_cupy, np.float64) is None  # ... and the next falls back
    assert pointer_steps.get(np, np.float32) is None  # NumPy never steps by pointer
    assert pointer_steps.get(fake_cupy, np.float16) is None  # no half-precision gemm here


def _cuda_equals_cpu(dtype, retain, loss_kind, lengths):
    """Every cell, bidirectional and 2 layers, on CUDA and on the CPU: the same values and
    gradients."""
    for mode, kw in CASES:
        results = []
        for device in ("cpu", "cuda"):
            tr.manual_seed(0)
            layer = getattr(nn, mode)(3, 5, num_layers=2, bidirectional=True, dtype=dtype,
                                      device=device, **kw)
            x = tr.randn(6, 3, 3, dtype=dtype, device=device, requires_grad=True)
            results.append(_run(layer, x, retain, loss_kind, lengths))
        tol = 1e-10 if dtype == "float64" else 1e-4
        for a, b in zip(*results):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@gpu
@needs_cuda
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("retain", [False, True])
@pytest.mark.parametrize("loss_kind", ["squares", "sum", "state"])
@pytest.mark.parametrize("lengths", [None, [6, 2, 4]])
def test_pointer_steps_run_on_cupy(monkeypatch, dtype, retain, loss_kind, lengths):
    """On a GPU the layers take the pointer loops (built without a fallback warning, and
    launched) and agree with NumPy: both directions, several chunks, every kind of loss, with
    and without ``lengths``."""
    import cupy

    steps = pointer_steps.get(cupy, dtype)
    assert isinstance(steps, PointerSteps)
    launches: list[str] = []
    launch = steps.launch
    monkeypatch.setattr(steps, "launch", lambda name, grid, args: (launches.append(name),
                                                                  launch(name, grid, args)))
    monkeypatch.setattr(fused._Sequence, "chunk_steps", 4)
    _cuda_equals_cpu(dtype, retain, loss_kind, lengths)
    assert len(launches) == sum((1 + (2 if retain else 1)) * 6 * 4
                                * (2 if kw.get("proj_size") and lengths else 1) for _, kw in CASES)


@gpu
@needs_cuda
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("lengths", [None, [6, 2, 4]])
def test_the_array_path_still_runs_on_cupy(monkeypatch, dtype, lengths):
    """The fallback, where the pointer loops are off: the CuPy array path agrees with NumPy."""
    monkeypatch.setattr(pointer_steps, "get", lambda xp, dt: None)
    monkeypatch.setattr(fused._Sequence, "chunk_steps", 4)
    _cuda_equals_cpu(dtype, True, "squares", lengths)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_an_empty_batch_takes_the_array_path(host_steps, mode):
    """A grid of no blocks is a CUDA error: an empty batch must not reach the pointer loops."""
    layer = getattr(nn, mode)(3, 4)
    x = tr.randn(5, 0, 3, requires_grad=True)
    out, _ = layer(x)
    out.sum().backward()
    assert out.shape == (5, 0, 4) and x.grad.shape == (5, 0, 3)
    assert host_steps.steps == {} or host_steps.calls(np.float32) == {}


def test_steps_too_large_for_int_thread_indices_take_the_array_path():
    """A kernel's thread index is an int up to the element count rounded up to whole blocks
    of 256: it must stay below 2**31 (and the gate offsets, up to B G, are 64-bit)."""
    fits = PointerSteps.fits
    assert fits(1, 1) and fits(1, 2**31 - 256) and fits(2**15, 2**16 - 1)
    assert not fits(1, 2**31 - 255) and not fits(2**16, 2**15) and not fits(0, 8)
    for name in ("lstm_fwd", "lstm_bwd", "gru_fwd", "gru_bwd"):
        assert "const long long b = i / H, j = i % H, k = b * " in fused._CUDA_SOURCES[name][2]


@given(mode=st.sampled_from(list(LAYERS)), dims=tst.recurrent_dims(), layers=st.integers(1, 2),
       bidir=st.booleans(), bias=st.booleans(), batch_first=st.booleans(),
       give_state=st.booleans(), use_lengths=st.booleans(), proj=st.booleans(),
       chunk=st.sampled_from([None, 1, 2, 3]), retain=st.booleans(), data=st.data())
def test_pointer_stepped_layer_equals_composed(compiled, mode, dims, layers, bidir, bias,
                                               batch_first, give_state, use_lengths, proj, chunk,
                                               retain, data):
    """Drawn layers, states, upstream gradients and chunk sizes: the pointer loops against
    the composed cells, as ``test_fused`` holds the array path to them."""
    T, B, I, H = dims["T"], dims["B"], dims["I"], dims["H"]
    cls, extra = LAYERS[mode]
    kw = dict(num_layers=layers, bidirectional=bidir, bias=bias, batch_first=batch_first,
              dtype="float64", **extra)
    if mode == "LSTM" and proj and H > 1:
        kw["proj_size"] = data.draw(st.integers(1, H - 1))
    tr.manual_seed(0)
    fast, composed = cls(I, H, **kw), cls(I, H, impl="composed", **kw)
    composed.load_state_dict(fast.state_dict())
    D, P = 2 if bidir else 1, kw.get("proj_size") or H  # P: the size of h
    x = data.draw(tst.arrays((B, T, I) if batch_first else (T, B, I)))
    sizes = [P, H] if mode == "LSTM" else [P]  # of h, and of c
    state = [data.draw(tst.arrays((layers * D, B, n))) for n in sizes] if give_state else None
    lengths = data.draw(st.lists(st.integers(1, T), min_size=B, max_size=B)) \
        if use_lengths else None
    out_shape = (B, T, D * P) if batch_first else (T, B, D * P)
    upstream = [data.draw(tst.arrays(out_shape))]
    upstream += [data.draw(tst.arrays((layers * D, B, n))) for n in sizes]

    stepping, get = Stepping(compiled), pointer_steps.get
    pointer_steps.get, fused._Sequence.chunk_steps = stepping.get, chunk
    try:
        a = _outputs_and_grads(fast, x, state, lengths, upstream, retain)
    finally:
        pointer_steps.get, fused._Sequence.chunk_steps = get, None
    # one recurrent gemm per step of each layer and direction, forward and backward, and one
    # more with a projection
    per_step = 2 if P == H else 4
    assert stepping.calls(np.float64).get("gemm", 0) == per_step * T * layers * D
    b = _outputs_and_grads(composed, x, state, lengths, upstream)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)


class _GemmIgnoresBeta(HostBackend):
    """A planted fault: gemm always overwrites C (beta read as 0)."""

    zeros = {np.dtype(t): np.zeros(1, t) for t in (np.float32, np.float64)}

    def _gemm(self, handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc):
        super()._gemm(handle, transa, transb, m, n, k, alpha, A, lda, B, ldb,
                      self.zeros[self.dtype].ctypes.data, C, ldc)


class _BackwardSkipsAStep(HostBackend):
    """A planted fault: the backward kernel of one step (the first launched in each loop)
    does not run."""

    def handle(self):
        self.skip = True
        return super().handle()

    def launch(self, name, grid, args):
        if name.endswith(("bwd", "bwd_masked")) and self.skip:
            self.skip = False
            return
        super().launch(name, grid, args)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_first_use_check_passes_correct_loops_and_catches_faults(compiled, tmp_path, dtype):
    """``agrees``, which ``get`` runs before a GPU stepper is used: true for the real loops;
    false for a gemm that ignores beta (only the padded backward adds), a backward that skips
    a step, and (with a compiler) kernels that read the mask by thread instead of by
    element (wrong past the first block) or whose padded RNN backward forgets relu."""
    assert pointer_steps.agrees(np, PointerSteps(HostBackend(compiled, dtype), dtype), dtype)
    faults = [PointerSteps(faulty(compiled, dtype), dtype)
              for faulty in (_GemmIgnoresBeta, _BackwardSkipsAStep)]
    if compiled is not None:
        source = _cpp_source()
        for k, (old, new) in enumerate([
                ("m[i / H]", "m[threadIdx.x / H]"),
                ("rnn_bwd_body(i, on ? dh + gy : (T)0, (T)0, y, relu, dpre)",
                 "rnn_bwd_body(i, on ? dh + gy : (T)0, (T)0, y, 0, dpre)")]):
            assert old in source
            d = tmp_path / str(k)
            d.mkdir()
            lib = build_with_host_compiler(d, source.replace(old, new), "the planted fault")
            faults.append(PointerSteps(HostBackend(lib, dtype), dtype))
    for steps in faults:
        assert not pointer_steps.agrees(np, steps, dtype)


def test_loops_that_disagree_on_first_use_fall_back_with_a_warning(monkeypatch):
    fake_cupy = types.SimpleNamespace(__name__="cupy", cuda=types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDevice=lambda: 0)))
    monkeypatch.setattr(pointer_steps, "CupyBackend", lambda xp, dtype: HostBackend(None, dtype))
    monkeypatch.setattr(pointer_steps, "agrees", lambda xp, steps, dtype: False)
    monkeypatch.setattr(pointer_steps, "_STEPS", {})
    with pytest.warns(RuntimeWarning, match="disagree with the array path"):
        assert pointer_steps.get(fake_cupy, np.float32) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cupy_backend_makes_the_cupy_calls_it_should(monkeypatch, dtype):
    """``CupyBackend`` against a recording stand-in of the CuPy API it uses: every kernel
    built from its source and compiled up front, the handle put on the current stream with
    host pointers for alpha and beta, the gemm of the dtype, launches as (grid,), (block,)."""
    calls = []

    class RawKernel:
        def __init__(self, code, name):
            assert f"void {name}(" in code and "typedef" in code
            self.name = name
            calls.append(("build", name))

        def compile(self):
            calls.append(("compile", self.name))

        def __call__(self, grid, block, args):
            calls.append(("launch", self.name, grid, block, args))

    cublas = types.ModuleType("cupy_backends.cuda.libs.cublas")
    cublas.sgemm, cublas.dgemm = "sgemm", "dgemm"
    cublas.CUBLAS_POINTER_MODE_HOST = 0
    cublas.setStream = lambda h, s: calls.append(("stream", h, s))
    cublas.setPointerMode = lambda h, m: calls.append(("pointer mode", h, m))
    for name in ("cupy_backends", "cupy_backends.cuda", "cupy_backends.cuda.libs"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    sys.modules["cupy_backends.cuda.libs"].cublas = cublas
    monkeypatch.setitem(sys.modules, "cupy_backends.cuda.libs.cublas", cublas)
    cuda = types.SimpleNamespace(device=types.SimpleNamespace(get_cublas_handle=lambda: 7),
                                 get_current_stream=lambda: types.SimpleNamespace(ptr=99))
    fake_cupy = types.SimpleNamespace(__name__="cupy", RawKernel=RawKernel, cuda=cuda)

    backend = pointer_steps.CupyBackend(fake_cupy, np.dtype(dtype))
    names = pointer_steps.kernel_names()
    assert [c for c in calls if c[0] == "build"] == [("build", f"tinygrad_rnn_{n}") for n in names]
    assert [c for c in calls if c[0] == "compile"] == [("compile", f"tinygrad_rnn_{n}")
                                                      for n in names]
    assert backend.gemm == ("sgemm" if dtype == np.float32 else "dgemm")
    calls.clear()
    assert backend.handle() == 7
    assert calls == [("stream", 7, 99), ("pointer mode", 7, 0)]
    calls.clear()
    backend.launch("rnn_fwd", 3, (1, 2))
    assert calls == [("launch", "tinygrad_rnn_rnn_fwd", (3,), (pointer_steps.BLOCK,), (1, 2))]

"""The fused loops on CuPy, stepped by raw pointers.

On a GPU a small recurrent layer is paced by Python, not by arithmetic: each CuPy call in a
step (a view such as ``xw[t]``, a ``cupy.matmul``, an ``ElementwiseKernel``) checks and
converts its arguments for several microseconds, while the step's math takes a few. So
``PointerSteps`` runs each step as two calls on precomputed addresses: one cuBLAS gemm for the
recurrent matmul and one ``RawKernel`` launch for the pointwise math (with the mask of
``lengths`` applied inside, where there is one); an LSTM's projection (``proj_size``) adds one
gemm each way (and, with ``lengths``, one more kernel). Step t of a (T, B, X) buffer
starts at its address plus t B X itemsize bytes, so no array object is made per step.

The kernels are built from the same bodies as the ``ElementwiseKernel`` ones
(``fused._CUDA_SOURCES``): ``kernel_source`` wraps each body in a function of pointers, one
thread per element ``i`` of the (B, H) state; a masked kernel calls its cell's body.
Everything that touches CUDA goes through a backend (``CupyBackend``: addresses, gemm,
kernels), so tests/test_pointer_steps.py runs these very loops on the CPU, with the kernel
sources compiled as C++ and an emulated gemm, against the NumPy path.

Before a GPU uses a stepper, ``agrees`` runs it against the array path on a small test
batch; where they differ, or CuPy cannot build it, the loops warn once and take the array
path.

The per-step matmuls are plain ``sgemm``/``dgemm``: full float32 even where ``CUPY_TF32=1``
lets ``cupy.matmul`` (the input projections, the weight gradients) use TF32.

cuBLAS is column-major: a row-major (m, n) matrix is, to it, the (n, m) transpose. So
C = op(A) op(B) in row-major is the column-major Cᵀ = op(B)ᵀ op(A)ᵀ: ``PointerSteps.mm`` swaps
the operands and keeps the transpose flags.
"""

from __future__ import annotations

import os
import re
import warnings
from typing import Any

import numpy as np

BLOCK = 256  # threads per block; one thread per element of the (B, H) state
OP_N, OP_T = 0, 1  # cuBLAS: use a matrix as stored, or its transpose


# Steps of a padded batch (``lengths``): a row whose sequence has ended (m = 0) keeps its
# state and outputs zero. Each masked kernel runs its cell's plain body (as the device function
# ``<cell>_body``) on one element, then applies the mask, as the array path does with
# ``xp.where``: forward, state ← m ? new : previous and y ← m ? new : 0; backward, the step
# sees m ? dh + gy : 0 and m ? dc : 0, and the carried gradient keeps m ? 0 : dh (and dc), to
# which the step's gemm then adds dgates W_hh (beta = 1). Selected, never multiplied by m: an
# inf or NaN at a padded position times 0 would be NaN. m is one number per batch row: raw,
# m[i / H].
MASKED_SOURCES = {
    "lstm_fwd_masked": (
        "raw T xw, raw T hw, T c_prev, T h_prev, raw T m, int32 H", "T c, T h, T y, raw T acts",
        """
        const bool on = m[i / H] != (T)0;
        T c_new, h_new;
        lstm_fwd_body(i, xw, hw, c_prev, H, c_new, h_new, acts);
        c = on ? c_new : c_prev; h = on ? h_new : h_prev; y = on ? h_new : (T)0;
        """,
    ),
    "lstm_bwd_masked": (
        "raw T acts, T c_prev, T c, T dh, T gy, T dc, raw T m, int32 H",
        "raw T dgates, T dc_prev, T dh_keep",
        """
        const bool on = m[i / H] != (T)0;
        T dcp;
        lstm_bwd_body(i, acts, c_prev, c, on ? dh + gy : (T)0, (T)0, on ? dc : (T)0, H, dgates,
                      dcp);
        dc_prev = dcp + (on ? (T)0 : dc); dh_keep = on ? (T)0 : dh;
        """,
    ),
    "gru_fwd_masked": (
        "raw T gi, raw T gh, raw T b_hh, T h_prev, raw T m, int32 H", "T h, T y, T ghn, raw T rzn",
        """
        const bool on = m[i / H] != (T)0;
        T h_new;
        gru_fwd_body(i, gi, gh, b_hh, h_prev, H, h_new, ghn, rzn);
        h = on ? h_new : h_prev; y = on ? h_new : (T)0;
        """,
    ),
    "gru_bwd_masked": (
        "raw T rzn, T ghn, T h_prev, T dh, T gy, raw T m, int32 H",
        "raw T dgi, raw T dgh, T dghn, T dh_keep",
        """
        const bool on = m[i / H] != (T)0;
        T dh_z;
        gru_bwd_body(i, rzn, ghn, h_prev, on ? dh + gy : (T)0, (T)0, (T)0, H, dgi, dgh, dghn,
                     dh_z);
        dh_keep = dh_z + (on ? (T)0 : dh);
        """,
    ),
    "rnn_fwd_masked": (
        "T xw, T hw, T h_prev, raw T m, int32 relu, int32 H", "T new_h, T h, T y",
        """
        const bool on = m[i / H] != (T)0;
        T h_new;
        rnn_fwd_body(i, xw, hw, relu, h_new);
        new_h = h_new; h = on ? h_new : h_prev; y = on ? h_new : (T)0;
        """,
    ),
    "rnn_bwd_masked": (
        "T dh, T gy, T y, raw T m, int32 relu, int32 H", "T dpre, T dh_keep",
        """
        const bool on = m[i / H] != (T)0;
        rnn_bwd_body(i, on ? dh + gy : (T)0, (T)0, y, relu, dpre);
        dh_keep = on ? (T)0 : dh;
        """,
    ),
    # A projected LSTM's mask falls on h after the projection, so its step splits in two
    # around the projection's gemm. Forward: the cell, c masked, the unprojected h_raw kept
    # whole; then, on the projected hp (H here is its width P), h ← m ? hp : previous and
    # y ← m ? hp : 0. Backward: the output's part, dh_new = m ? dh + gy : 0 and the kept
    # m ? 0 : dh; the cell's part is lstm_bwd_masked, given the projected-back gradient.
    "lstm_proj_fwd_masked": (
        "raw T xw, raw T hw, T c_prev, raw T m, int32 H", "T c, T h_raw, raw T acts",
        """
        const bool on = m[i / H] != (T)0;
        T c_new;
        lstm_fwd_body(i, xw, hw, c_prev, H, c_new, h_raw, acts);
        c = on ? c_new : c_prev;
        """,
    ),
    "lstm_proj_out_masked": (
        "T hp, T h_prev, raw T m, int32 H", "T h, T y",
        """
        const bool on = m[i / H] != (T)0;
        h = on ? hp : h_prev; y = on ? hp : (T)0;
        """,
    ),
    "lstm_proj_bwd_masked": (
        "T dh, T gy, raw T m, int32 H", "T dh_new, T dh_keep",
        """
        const bool on = m[i / H] != (T)0;
        dh_new = on ? dh + gy : (T)0; dh_keep = on ? (T)0 : dh;
        """,
    ),
}


def _spec(name: str) -> tuple[str, str, str]:
    from .fused import _CUDA_SOURCES

    return MASKED_SOURCES[name] if name in MASKED_SOURCES else _CUDA_SOURCES[name]


def kernel_names() -> list[str]:
    """Every pointer kernel: one per plain ``ElementwiseKernel``, and their masked twins."""
    from .fused import _CUDA_SOURCES

    return [*_CUDA_SOURCES, *MASKED_SOURCES]


def _parsed(name: str) -> list[tuple[bool, bool, str, str]]:
    """(is an input, raw, type, name) of each parameter of kernel ``name``, in order."""
    ins, outs, _ = _spec(name)
    n_in = len(ins.split(","))
    out = []
    for idx, decl in enumerate((ins + ", " + outs).split(",")):
        *raw, typ, pname = decl.split()
        out.append((idx < n_in, bool(raw), typ, pname))
    return out


def kernel_params(name: str) -> list[tuple[str, str]]:
    """(C declaration, name) of each parameter of the pointer kernel ``name``, in the order of
    its spec, then ``count`` (the number of elements). An elementwise parameter becomes a
    pointer ``p_<name>``; a ``raw`` one stays a pointer to the step's rows."""
    params = []
    for is_in, raw, typ, pname in _parsed(name):
        const = "const " if is_in else ""
        if typ == "int32":
            params.append((f"const int {pname}", pname))
        elif raw:
            params.append((f"{const}T* {pname}", pname))
        else:
            params.append((f"{const}T* p_{pname}", "p_" + pname))
    return params + [("const int count", "count")]


def _body_function(name: str) -> str:
    """The plain body of kernel ``name`` as a device function of one element i: elementwise
    inputs by value, elementwise outputs by reference, raw arrays as pointers."""
    args = []
    for is_in, raw, typ, pname in _parsed(name):
        const = "const " if is_in else ""
        args.append(f"const int {pname}" if typ == "int32" else f"{const}T* {pname}" if raw
                    else f"const T {pname}" if is_in else f"T& {pname}")
    return (f"__device__ inline void {name}_body(const int i, {', '.join(args)}) {{\n"
            f"{_spec(name)[2]}\n}}\n")


def kernel_source(name: str, ctype: str) -> str:
    """The CUDA source of the pointer kernel ``name`` for element type ``ctype``: thread i
    loads its elementwise inputs (by value, so an output may be the same memory), binds its
    elementwise outputs by reference, and runs the body (a masked kernel's body calls its
    cell's plain one, included as a device function)."""
    binds = [f"const T {pname} = p_{pname}[i];" if is_in else f"T& {pname} = p_{pname}[i];"
             for is_in, raw, typ, pname in _parsed(name) if typ == "T" and not raw]
    sig = ", ".join(d for d, _ in kernel_params(name))
    called = re.search(r"(\w+)_body\(", _spec(name)[2]) if name in MASKED_SOURCES else None
    base = _body_function(called.group(1)) if called else ""
    return (f"typedef {ctype} T;\n{base}"
            f'extern "C" __global__ void tinygrad_rnn_{name}({sig}) {{\n'
            "  const int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
            "  if (i >= count) return;\n"
            f"  {' '.join(binds)}\n{_spec(name)[2]}\n}}\n")


class CupyBackend:
    """Addresses, cuBLAS and kernels on CuPy."""

    def __init__(self, cupy: Any, dtype: Any) -> None:
        from cupy_backends.cuda.libs import cublas

        self.cupy, self.cublas, self.dtype = cupy, cublas, np.dtype(dtype)
        self.gemm = cublas.sgemm if dtype == np.float32 else cublas.dgemm
        ctype = "float" if dtype == np.float32 else "double"
        self.kernels = {}
        for name in kernel_names():
            k = cupy.RawKernel(kernel_source(name, ctype), f"tinygrad_rnn_{name}")
            k.compile()  # now, so a failure falls back before any step runs
            self.kernels[name] = k
        self.handle()  # likewise for cuBLAS

    def handle(self) -> int:
        """The current device's cuBLAS handle, on CuPy's current stream (where the kernels
        launch), reading alpha and beta from host memory."""
        h = self.cupy.cuda.device.get_cublas_handle()
        self.cublas.setStream(h, self.cupy.cuda.get_current_stream().ptr)
        self.cublas.setPointerMode(h, getattr(self.cublas, "CUBLAS_POINTER_MODE_HOST", 0))
        return h

    def ptr(self, a: Any) -> int:
        """The address of a C-contiguous array of the loops' dtype (once per array per loop)."""
        if not a.flags.c_contiguous or a.dtype != self.dtype:
            raise ValueError(f"pointer loops need C-contiguous {self.dtype} arrays, got "
                             f"{a.dtype} with strides {a.strides}")
        return a._data.ptr

    def launch(self, name: str, grid: int, args: tuple) -> None:
        self.kernels[name]((grid,), (BLOCK,), args)


_STEPS: dict[Any, Any] = {}


def get(xp: Any, dtype: Any) -> PointerSteps | None:
    """The pointer stepper for arrays of ``dtype`` on ``xp`` (on the current GPU), or None
    where there is none: not CuPy, not float32 or float64, or building its kernels or cuBLAS
    handle failed, or its first results disagreed with the array path (then, once per GPU and
    dtype, a warning says why, and the loops take the array path)."""
    if getattr(xp, "__name__", "") != "cupy" or np.dtype(dtype) not in (np.float32, np.float64):
        return None
    key = (xp.cuda.runtime.getDevice(), np.dtype(dtype))  # kernels are compiled per GPU
    if key not in _STEPS:
        _STEPS[key] = None  # decided before warning: a warning turned error must not retry
        try:
            steps = PointerSteps(CupyBackend(xp, key[1]), key[1])
            if not agrees(xp, steps, key[1]):
                raise RuntimeError("they disagree with the array path on a small test batch")
            _STEPS[key] = steps
        except Exception as e:  # a broken toolchain must not stop training: take the array path
            warnings.warn(f"tinygrad_rnn: the pointer-stepped GPU loops are off "
                          f"({type(e).__name__}: {e}); the fused layers take the slower array "
                          "path", RuntimeWarning, stacklevel=2)
    return _STEPS[key]


def agrees(xp: Any, steps: PointerSteps, dtype: Any) -> bool:
    """Whether ``steps`` gives the array path's outputs and gradients, to rounding, on a small
    batch of each cell (LSTM with and without a projection, GRU, RNN tanh and relu), its state
    wider than one block of
    threads: padded and not, both directions, with and without an output gradient, on the
    last backward and on one that keeps the graph (gate gradients in a buffer, in chunks).
    ``get`` runs this once before a GPU uses a stepper: the CPU tests cannot see how a GPU's
    compiler and cuBLAS take the kernels' arguments. It is a guard, not a proof."""
    from .fused import GRUSequence, LSTMSequence, RNNSequence

    rng = np.random.default_rng(0)  # its own generator: the caller's random state stays put

    def draw(*shape: int) -> Any:
        return xp.asarray(rng.uniform(-1, 1, shape).astype(dtype))

    T, B, I, H, P = 4, 3, 2, 90, 7  # B H = 270 elements: two blocks of threads
    mask = xp.asarray(np.arange(T)[:, None, None] < np.array([4, 1, 3])[None, :, None])
    tol = 1e-4 if np.dtype(dtype) == np.float32 else 1e-10
    if np.dtype(dtype) == np.float32 and os.environ.get("CUPY_TF32") == "1":
        tol = 1e-2  # the array path's matmuls round to TF32 (10 bits), the loops' gemm does not
    # (mask, reverse, gy given, last backward)
    cases = [(None, False, True, True), (mask, True, False, True), (mask, False, True, False),
             (None, True, False, False)]
    for cls, G, out, kw in ((LSTMSequence, 4 * H, H, {}), (LSTMSequence, 4 * H, P, {}),
                            (GRUSequence, 3 * H, H, {}),
                            (RNNSequence, H, H, {"nonlinearity": "tanh"}),
                            (RNNSequence, H, H, {"nonlinearity": "relu"})):
        cell, proj = cls is LSTMSequence, out != H  # out: the size of h (P when projected)
        inputs = [draw(T, B, I), draw(B, out), *([draw(B, H)] if cell else []), draw(G, I),
                  draw(G, out), draw(G), draw(G), *([draw(P, H)] if proj else [])]
        gys = [draw(T, B, out), draw(B, out), *([draw(B, H)] if cell else [])]
        for m, reverse, with_gy, last in cases:
            results = []
            for stepper in (None, steps):  # the array path, then the pointer loops
                fn = cls()
                fn.xp, fn.stepper, fn.final, fn.chunk_steps = xp, stepper, last, 2
                outs = fn.forward(*(a.copy() for a in inputs), bias=True, proj=proj,
                                  reverse=reverse, mask=m, **kw)
                grads = fn.backward(gys[0].copy() if with_gy else None,
                                    *(g.copy() for g in gys[1:]))
                results.append([np.asarray(a.get() if hasattr(a, "get") else a)
                                for a in (*outs, *grads)])
            if not all(np.allclose(a, b, rtol=tol, atol=tol) for a, b in zip(*results)):
                return False
    return True


class PointerSteps:
    """The per-step loops of ``fused`` for one dtype, on a backend. Each method runs the steps
    its array twin in ``fused`` runs, writing the same buffers; every buffer it is given is
    C-contiguous (the callers make them so, once per sequence)."""

    def __init__(self, backend: Any, dtype: Any) -> None:
        self.backend = backend
        self.ptr, self.launch = backend.ptr, backend.launch
        self.itemsize = np.dtype(dtype).itemsize
        # alpha = 1 and beta = 0, read by cuBLAS from host memory: kept alive here
        self._one, self._zero = np.ones(1, dtype), np.zeros(1, dtype)
        self.one, self.zero = self._one.ctypes.data, self._zero.ctypes.data

    @staticmethod
    def fits(n_rows: int, width: int) -> bool:
        """Whether a (rows, width) step can be launched: not empty (a grid of no blocks is a
        CUDA error) and within the kernels' int thread index, which runs up to the element
        count rounded up to whole blocks (the gate offsets are 64-bit)."""
        return 0 < n_rows * width <= 2 ** 31 - BLOCK

    def mm(self, h: int, c: int, a: int, b: int, m: int, n: int, k: int, b_t: bool,
           add: bool = False) -> None:
        """Row-major C (m, n) = A (m, k) @ B (k, n), or A @ Bᵀ with B stored (n, k) when
        ``b_t``; C += instead when ``add``; all three contiguous, at addresses c, a, b."""
        self.backend.gemm(h, OP_T if b_t else OP_N, OP_N, n, m, k, self.one,
                          b, k if b_t else n, a, k, self.one if add else self.zero, c, n)

    def _mask(self, mask: Any, ys: Any) -> tuple[int | None, int | None]:
        """Addresses of the (T, B) mask and of the outputs ys, or None without a mask."""
        return (None, None) if mask is None else (self.ptr(mask), self.ptr(ys))

    # ---- forward: hw = h_prev W_hhᵀ, then the kernel; step t's state is at base + t * step.
    # With a ``mask`` ((T, B), 1 inside a sequence), hs and cs hold the kept states and ``ys``
    # the outputs (zero outside).

    def lstm_forward(self, order: range, xw: Any, h0: Any, c0: Any, w_hh: Any, hw: Any,
                     cs: Any, hs: Any, mask: Any = None, ys: Any = None, w_hr: Any = None,
                     raw: Any = None, hp: Any = None) -> None:
        """With a projection ``w_hr`` (P, H), each step's cell output goes to ``raw`` and a
        second gemm projects it: into ``hs`` (hs[t] = raw[t] W_hrᵀ), or, with a mask, into the
        (B, P) buffer ``hp``, which a third kernel masks into hs[t] and ys[t]."""
        if w_hr is not None and mask is not None and hp is None:
            raise ValueError("lstm_forward: a projection with a mask needs the buffer hp")
        T, B, G = xw.shape
        H, P = G // 4, hs.shape[-1]
        handle = self.backend.handle()  # first: a backend may begin the loop there
        p, s, n = self.ptr, self.itemsize, B * H
        xw_p, hw_p, w_p, cs_p, hs_p = p(xw), p(hw), p(w_hh), p(cs), p(hs)
        m_p, ys_p = self._mask(mask, ys)
        wr_p, raw_p = (None, None) if w_hr is None else (p(w_hr), p(raw))
        hp_p = None if w_hr is None or mask is None else p(hp)
        h, c = p(h0), p(c0)
        grid, H32, n32 = -(-n // BLOCK), np.int32(H), np.int32(n)
        grid_p, P32, nP32 = -(-B * P // BLOCK), np.int32(P), np.int32(B * P)
        for t in order:
            self.mm(handle, hw_p, h, w_p, B, G, P, True)
            a, c_new, h_new = xw_p + t * B * G * s, cs_p + t * n * s, hs_p + t * B * P * s
            if hp_p is not None:  # projected and masked
                h_raw, m_t = raw_p + t * n * s, m_p + t * B * s
                self.launch("lstm_proj_fwd_masked", grid, (a, hw_p, c, m_t, H32, c_new, h_raw, a,
                                                           n32))
                self.mm(handle, hp_p, h_raw, wr_p, B, P, H, True)
                self.launch("lstm_proj_out_masked", grid_p, (hp_p, h, m_t, P32, h_new,
                                                             ys_p + t * B * P * s, nP32))
            elif wr_p is not None:
                h_raw = raw_p + t * n * s
                self.launch("lstm_fwd", grid, (a, hw_p, c, H32, c_new, h_raw, a, n32))
                self.mm(handle, h_new, h_raw, wr_p, B, P, H, True)
            elif m_p is None:
                self.launch("lstm_fwd", grid, (a, hw_p, c, H32, c_new, h_new, a, n32))
            else:
                self.launch("lstm_fwd_masked", grid, (a, hw_p, c, h, m_p + t * B * s, H32, c_new,
                                                      h_new, ys_p + t * n * s, a, n32))
            h, c = h_new, c_new

    def gru_forward(self, order: range, gi: Any, h0: Any, w_hh: Any, hw: Any, bias: Any,
                    ghn: Any, hs: Any, mask: Any = None, ys: Any = None) -> None:
        T, B, G = gi.shape
        H = G // 3
        handle = self.backend.handle()  # first: a backend may begin the loop there
        p, s, n = self.ptr, self.itemsize, B * H
        gi_p, hw_p, w_p, b_p, ghn_p, hs_p = p(gi), p(hw), p(w_hh), p(bias), p(ghn), p(hs)
        m_p, ys_p = self._mask(mask, ys)
        h = p(h0)
        grid, H32, n32 = -(-n // BLOCK), np.int32(H), np.int32(n)
        for t in order:
            self.mm(handle, hw_p, h, w_p, B, G, H, True)
            g, h_new, ghn_t = gi_p + t * B * G * s, hs_p + t * n * s, ghn_p + t * n * s
            if m_p is None:
                self.launch("gru_fwd", grid, (g, hw_p, b_p, h, H32, h_new, ghn_t, g, n32))
            else:
                self.launch("gru_fwd_masked", grid, (g, hw_p, b_p, h, m_p + t * B * s, H32, h_new,
                                                     ys_p + t * n * s, ghn_t, g, n32))
            h = h_new

    def rnn_forward(self, order: range, xw: Any, h0: Any, w_hh: Any, hw: Any, relu: bool,
                    hs: Any, mask: Any = None, ys: Any = None) -> None:
        """Each step's new state overwrites its input projection in ``xw``; with a mask, the
        kept states go to ``hs`` (unused without one) and the outputs to ``ys``."""
        T, B, H = xw.shape
        handle = self.backend.handle()  # first: a backend may begin the loop there
        p, s, n = self.ptr, self.itemsize, B * H
        xw_p, hw_p, w_p = p(xw), p(hw), p(w_hh)
        m_p, ys_p = self._mask(mask, ys)
        hs_p = None if mask is None else p(hs)
        h = p(h0)
        grid, relu32, H32, n32 = -(-n // BLOCK), np.int32(relu), np.int32(H), np.int32(n)
        for t in order:
            self.mm(handle, hw_p, h, w_p, B, H, H, True)
            a = xw_p + t * n * s
            if m_p is None:
                self.launch("rnn_fwd", grid, (a, hw_p, relu32, a, n32))
                h = a
            else:
                h_new = hs_p + t * n * s
                self.launch("rnn_fwd_masked", grid, (a, hw_p, h, m_p + t * B * s, relu32, H32, a,
                                                     h_new, ys_p + t * n * s, n32))
                h = h_new

    # ---- backward over one chunk of times: the kernel, then dh = dgates W_hh into dh_buf
    # (with a mask, dh_buf += dgates W_hh, onto the part of dh the mask kept). Each returns the
    # array holding dh after the chunk (dh itself or dh_buf).

    def lstm_backward(self, times: range, t0: int, first: int, dt: int, acts: Any, dgates: Any,
                      cs: Any, c0: Any, gy: Any, dh: Any, dc: Any, dh_buf: Any, w_hh: Any,
                      zero: Any, mask: Any = None) -> Any:
        """``dgates`` (K, B, G) for times t0.. (may be ``acts`` itself from t0 on); ``dc`` is
        updated in place; ``gy`` None for no output gradient (``zero`` stands in)."""
        T, B, G = acts.shape
        H = G // 4
        handle = self.backend.handle()  # first: a backend may begin the loop there
        p, s, n = self.ptr, self.itemsize, B * H
        acts_p, dg_p, cs_p, dc_p, buf_p, w_p = p(acts), p(dgates), p(cs), p(dc), p(dh_buf), p(w_hh)
        c0_p, dh_p = p(c0), p(dh)
        m_p = None if mask is None else p(mask)
        gy_p, gy_step = (p(zero), 0) if gy is None else (p(gy), n * s)
        grid, H32, n32 = -(-n // BLOCK), np.int32(H), np.int32(n)
        for t in times:
            dg = dg_p + (t - t0) * B * G * s
            c_prev = c0_p if t == first else cs_p + (t - dt) * n * s
            args = (acts_p + t * B * G * s, c_prev, cs_p + t * n * s, dh_p, gy_p + t * gy_step,
                    dc_p)
            if m_p is None:
                self.launch("lstm_bwd", grid, (*args, H32, dg, dc_p, n32))
            else:
                self.launch("lstm_bwd_masked", grid, (*args, m_p + t * B * s, H32, dg, dc_p,
                                                      buf_p, n32))
            self.mm(handle, buf_p, dg, w_p, B, H, G, False, add=m_p is not None)
            dh_p, dh = buf_p, dh_buf
        return dh

    def lstm_backward_projected(self, times: range, t0: int, first: int, dt: int, acts: Any,
                                dgates: Any, cs: Any, c0: Any, dc: Any, dh_all: Any, draw: Any,
                                dh_buf: Any, w_hh: Any, w_hr: Any, zero: Any) -> Any:
        """The backward of a projected LSTM (no mask). ``dh_all`` (T, B, P) holds, on entry,
        each step's output gradient (plus dh_n at the loop's last step); the step before adds
        its dgates W_hh there, so on reaching step t it is the whole gradient of h_t (the
        array path's ``dh_new_all``). Per step: draw = dh_all[t] W_hr (the gradient of the
        cell's output), the kernel, then dh_all[t - dt] += dgates W_hh, or, at the loop's
        first step, dh_buf = dgates W_hh (the gradient of h0), which is returned."""
        T, B, G = acts.shape
        H, P = G // 4, dh_all.shape[-1]
        handle = self.backend.handle()  # first: a backend may begin the loop there
        p, s, n = self.ptr, self.itemsize, B * H
        acts_p, dg_p, cs_p, dc_p, buf_p, w_p = p(acts), p(dgates), p(cs), p(dc), p(dh_buf), p(w_hh)
        c0_p, all_p, draw_p, wr_p, zero_p = p(c0), p(dh_all), p(draw), p(w_hr), p(zero)
        grid, H32, n32 = -(-n // BLOCK), np.int32(H), np.int32(n)
        for t in times:
            dg = dg_p + (t - t0) * B * G * s
            c_prev = c0_p if t == first else cs_p + (t - dt) * n * s
            self.mm(handle, draw_p, all_p + t * B * P * s, wr_p, B, H, P, False)
            self.launch("lstm_bwd", grid, (acts_p + t * B * G * s, c_prev, cs_p + t * n * s,
                                           draw_p, zero_p, dc_p, H32, dg, dc_p, n32))
            if t == first:
                self.mm(handle, buf_p, dg, w_p, B, P, G, False)
            else:
                self.mm(handle, all_p + (t - dt) * B * P * s, dg, w_p, B, P, G, False, add=True)
        return dh_buf

    def lstm_backward_projected_masked(self, times: range, t0: int, first: int, dt: int,
                                       acts: Any, dgates: Any, cs: Any, c0: Any, gy: Any,
                                       dh: Any, dc: Any, dh_all: Any, draw: Any, dh_buf: Any,
                                       w_hh: Any, w_hr: Any, zero_h: Any, zero_c: Any,
                                       mask: Any) -> Any:
        """The backward of a projected LSTM with a mask. Per step: dh_all[t] = m ? dh + gy : 0
        and dh_buf = m ? 0 : dh (``lstm_proj_bwd_masked``); draw = dh_all[t] W_hr; the cell's
        masked kernel; then dh_buf += dgates W_hh. ``dh_all`` is the array path's
        ``dh_new_all``; returns dh_buf (dh after the chunk)."""
        T, B, G = acts.shape
        H, P = G // 4, dh_all.shape[-1]
        handle = self.backend.handle()  # first: a backend may begin the loop there
        p, s, n = self.ptr, self.itemsize, B * H
        acts_p, dg_p, cs_p, dc_p, buf_p, w_p = p(acts), p(dgates), p(cs), p(dc), p(dh_buf), p(w_hh)
        c0_p, all_p, draw_p, wr_p, m_p = p(c0), p(dh_all), p(draw), p(w_hr), p(mask)
        dh_p, zc_p = p(dh), p(zero_c)
        gy_p, gy_step = (p(zero_h), 0) if gy is None else (p(gy), B * P * s)
        grid, H32, n32 = -(-n // BLOCK), np.int32(H), np.int32(n)
        grid_p, P32, nP32 = -(-B * P // BLOCK), np.int32(P), np.int32(B * P)
        for t in times:
            dg, m_t, dh_t = dg_p + (t - t0) * B * G * s, m_p + t * B * s, all_p + t * B * P * s
            c_prev = c0_p if t == first else cs_p + (t - dt) * n * s
            self.launch("lstm_proj_bwd_masked", grid_p, (dh_p, gy_p + t * gy_step, m_t, P32,
                                                         dh_t, buf_p, nP32))
            self.mm(handle, draw_p, dh_t, wr_p, B, H, P, False)
            self.launch("lstm_bwd_masked", grid, (acts_p + t * B * G * s, c_prev, cs_p + t * n * s,
                                                  draw_p, zc_p, dc_p, m_t, H32, dg, dc_p, draw_p,
                                                  n32))
            self.mm(handle, buf_p, dg, w_p, B, P, G, False, add=True)
            dh_p = buf_p
        return dh_buf

    def gru_backward(self, times: range, t0: int, first: int, dt: int, rzn: Any, ghn: Any,
                     dgi: Any, dghn: Any, dgh: Any, hs: Any, h0: Any, gy: Any, dh: Any,
                     dh_dir: Any, dh_buf: Any, w_hh: Any, zero: Any, mask: Any = None) -> Any:
        """``dgi`` (K, B, G) and ``dghn`` (K, B, H) for times t0.. (may be ``rzn`` and ``ghn``
        themselves from t0 on); ``dgh`` one step's; ``dh_dir`` updated in place (unused with
        a mask: dh is then one array)."""
        T, B, G = rzn.shape
        H = G // 3
        handle = self.backend.handle()  # first: a backend may begin the loop there
        p, s, n = self.ptr, self.itemsize, B * H
        rzn_p, ghn_p, dgi_p, dghn_p, dgh_p = p(rzn), p(ghn), p(dgi), p(dghn), p(dgh)
        hs_p, dir_p, buf_p, w_p, h0_p, dh_p = p(hs), p(dh_dir), p(dh_buf), p(w_hh), p(h0), p(dh)
        m_p = None if mask is None else p(mask)
        gy_p, gy_step = (p(zero), 0) if gy is None else (p(gy), n * s)
        grid, H32, n32 = -(-n // BLOCK), np.int32(H), np.int32(n)
        for t in times:
            h_prev = h0_p if t == first else hs_p + (t - dt) * n * s
            rzn_t, ghn_t, gy_t = rzn_p + t * B * G * s, ghn_p + t * n * s, gy_p + t * gy_step
            dgi_t, dghn_t = dgi_p + (t - t0) * B * G * s, dghn_p + (t - t0) * n * s
            if m_p is None:
                self.launch("gru_bwd", grid, (rzn_t, ghn_t, h_prev, dh_p, dir_p, gy_t, H32, dgi_t,
                                              dgh_p, dghn_t, dir_p, n32))
            else:
                self.launch("gru_bwd_masked", grid, (rzn_t, ghn_t, h_prev, dh_p, gy_t,
                                                     m_p + t * B * s, H32, dgi_t, dgh_p, dghn_t,
                                                     buf_p, n32))
            self.mm(handle, buf_p, dgh_p, w_p, B, H, G, False, add=m_p is not None)
            dh_p, dh = buf_p, dh_buf
        return dh

    def rnn_backward(self, times: range, t0: int, new: Any, dpre: Any, gy: Any, dh: Any,
                     dh_buf: Any, w_hh: Any, relu: bool, zero: Any, mask: Any = None) -> Any:
        """``dpre`` (K, B, H) for times t0.. ; ``new`` each step's new state (before a mask)."""
        T, B, H = new.shape
        handle = self.backend.handle()  # first: a backend may begin the loop there
        p, s, n = self.ptr, self.itemsize, B * H
        new_p, d_p, buf_p, w_p, dh_p = p(new), p(dpre), p(dh_buf), p(w_hh), p(dh)
        m_p = None if mask is None else p(mask)
        gy_p, gy_step = (p(zero), 0) if gy is None else (p(gy), n * s)
        grid, relu32, H32, n32 = -(-n // BLOCK), np.int32(relu), np.int32(H), np.int32(n)
        for t in times:
            d, gy_t, y_t = d_p + (t - t0) * n * s, gy_p + t * gy_step, new_p + t * n * s
            if m_p is None:
                self.launch("rnn_bwd", grid, (dh_p, gy_t, y_t, relu32, d, n32))
            else:
                self.launch("rnn_bwd_masked", grid, (dh_p, gy_t, y_t, m_p + t * B * s, relu32,
                                                     H32, d, buf_p, n32))
            self.mm(handle, buf_p, d, w_p, B, H, H, False, add=m_p is not None)
            dh_p, dh = buf_p, dh_buf
        return dh

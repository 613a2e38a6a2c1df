"""The fused loops' common case on CuPy, stepped by raw pointers.

On a GPU a small recurrent layer is paced by Python, not by arithmetic: each CuPy call in a
step (a view such as ``xw[t]``, a ``cupy.matmul``, an ``ElementwiseKernel``) checks and
converts its arguments for several microseconds, while the step's math takes a few. So for the
loops without a mask or a projection (the common case), ``PointerSteps`` runs each step as two
calls on precomputed addresses: one cuBLAS gemm for the recurrent matmul and one ``RawKernel``
launch for the pointwise math. Step t of a (T, B, X) buffer starts at its address plus
t B X itemsize bytes, so no array object is made per step.

The kernels are built from the same bodies as the ``ElementwiseKernel`` ones
(``fused._CUDA_SOURCES``): ``kernel_source`` wraps each body in a function of pointers, one
thread per element ``i`` of the (B, H) state. Everything that touches CUDA goes through a
backend (``CupyBackend``: addresses, gemm, kernels), so tests/test_pointer_steps.py runs these
very loops on the CPU, with the kernel sources compiled as C++ and an emulated gemm, against
the NumPy path.

The per-step matmuls are plain ``sgemm``/``dgemm``: full float32 even where ``CUPY_TF32=1``
lets ``cupy.matmul`` (the input projections, the weight gradients) use TF32.

cuBLAS is column-major: a row-major (m, n) matrix is, to it, the (n, m) transpose. So
C = op(A) op(B) in row-major is the column-major Cᵀ = op(B)ᵀ op(A)ᵀ: ``PointerSteps.mm`` swaps
the operands and keeps the transpose flags.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

BLOCK = 256  # threads per block; one thread per element of the (B, H) state
OP_N, OP_T = 0, 1  # cuBLAS: use a matrix as stored, or its transpose


def kernel_params(name: str) -> list[tuple[str, str]]:
    """(C declaration, name) of each parameter of the pointer kernel ``name``, in the order of
    its ``ElementwiseKernel`` twin, then ``count`` (the number of elements). An elementwise
    parameter becomes a pointer ``p_<name>``; a ``raw`` one stays a pointer to the step's rows."""
    from .fused import _CUDA_SOURCES

    ins, outs, _ = _CUDA_SOURCES[name]
    n_in = len(ins.split(","))
    params = []
    for idx, decl in enumerate((ins + ", " + outs).split(",")):
        *raw, typ, pname = decl.split()
        const = "const " if idx < n_in else ""
        if typ == "int32":
            params.append((f"const int {pname}", pname))
        elif raw:
            params.append((f"{const}T* {pname}", pname))
        else:
            params.append((f"{const}T* p_{pname}", "p_" + pname))
    return params + [("const int count", "count")]


def kernel_source(name: str, ctype: str) -> str:
    """The CUDA source of the pointer kernel ``name`` for element type ``ctype``: thread i
    loads its elementwise inputs (by value, so an output may be the same memory), binds its
    elementwise outputs by reference, and runs the shared body."""
    from .fused import _CUDA_SOURCES

    ins, outs, body = _CUDA_SOURCES[name]
    n_in = len(ins.split(","))
    binds = []
    for idx, decl in enumerate((ins + ", " + outs).split(",")):
        *raw, typ, pname = decl.split()
        if typ == "T" and not raw:
            binds.append(f"const T {pname} = p_{pname}[i];" if idx < n_in
                         else f"T& {pname} = p_{pname}[i];")
    sig = ", ".join(d for d, _ in kernel_params(name))
    return (f"typedef {ctype} T;\n"
            f'extern "C" __global__ void tinygrad_rnn_{name}({sig}) {{\n'
            "  const int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
            "  if (i >= count) return;\n"
            f"  {' '.join(binds)}\n{body}\n}}\n")


class CupyBackend:
    """Addresses, cuBLAS and kernels on CuPy."""

    def __init__(self, cupy: Any, dtype: Any) -> None:
        from cupy_backends.cuda.libs import cublas

        self.cupy, self.cublas = cupy, cublas
        self.gemm = cublas.sgemm if dtype == np.float32 else cublas.dgemm
        ctype = "float" if dtype == np.float32 else "double"
        self.kernels = {}
        from .fused import _CUDA_SOURCES

        for name in _CUDA_SOURCES:
            k = cupy.RawKernel(kernel_source(name, ctype), f"tinygrad_rnn_{name}")
            k.compile()  # now, so a failure falls back before any step runs
            self.kernels[name] = k
        self.handle()  # likewise for cuBLAS

    def handle(self) -> int:
        """The current device's cuBLAS handle, reading alpha and beta from host memory."""
        h = self.cupy.cuda.device.get_cublas_handle()
        self.cublas.setPointerMode(h, getattr(self.cublas, "CUBLAS_POINTER_MODE_HOST", 0))
        return h

    @staticmethod
    def ptr(a: Any) -> int:
        return a.data.ptr

    def launch(self, name: str, grid: int, args: tuple) -> None:
        self.kernels[name]((grid,), (BLOCK,), args)


_STEPS: dict[Any, Any] = {}


def get(xp: Any, dtype: Any) -> PointerSteps | None:
    """The pointer stepper for arrays of ``dtype`` on ``xp`` (on the current GPU), or None
    where there is none: not CuPy, not float32 or float64, or building its kernels or cuBLAS
    handle failed (then, once per GPU and dtype, a warning says why, and the loops take the
    array path)."""
    if getattr(xp, "__name__", "") != "cupy" or np.dtype(dtype) not in (np.float32, np.float64):
        return None
    key = (xp.cuda.runtime.getDevice(), np.dtype(dtype))  # kernels are compiled per GPU
    if key not in _STEPS:
        _STEPS[key] = None  # decided before warning: a warning turned error must not retry
        try:
            _STEPS[key] = PointerSteps(CupyBackend(xp, key[1]), key[1])
        except Exception as e:  # a broken toolchain must not stop training: take the array path
            warnings.warn(f"tinygrad_rnn: the pointer-stepped GPU loops are off "
                          f"({type(e).__name__}: {e}); the fused layers take the slower array "
                          "path", RuntimeWarning, stacklevel=2)
    return _STEPS[key]


def contiguous(xp: Any, a: Any, dtype: Any) -> Any:
    """``a`` as a C-contiguous array of ``dtype`` (itself where it already is one)."""
    return xp.ascontiguousarray(a, dtype=dtype)


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
        CUDA error) and within the kernels' int indexing."""
        return 0 < n_rows * width < 2 ** 31

    def mm(self, h: int, c: int, a: int, b: int, m: int, n: int, k: int, b_t: bool) -> None:
        """Row-major C (m, n) = A (m, k) @ B (k, n), or A @ Bᵀ with B stored (n, k) when
        ``b_t``; all three contiguous, at addresses c, a, b."""
        self.backend.gemm(h, OP_T if b_t else OP_N, OP_N, n, m, k, self.one,
                          b, k if b_t else n, a, k, self.zero, c, n)

    # ---- forward: hw = h_prev W_hhᵀ, then the kernel; step t's state is at base + t * step

    def lstm_forward(self, order: range, xw: Any, h0: Any, c0: Any, w_hh: Any, hw: Any,
                     cs: Any, hs: Any) -> None:
        T, B, G = xw.shape
        H = G // 4
        handle = self.backend.handle()  # first: a loop's addresses are taken after it
        p, s, n = self.ptr, self.itemsize, B * H
        xw_p, hw_p, w_p, cs_p, hs_p = p(xw), p(hw), p(w_hh), p(cs), p(hs)
        h, c = p(h0), p(c0)
        grid, H32, n32 = -(-n // BLOCK), np.int32(H), np.int32(n)
        for t in order:
            self.mm(handle, hw_p, h, w_p, B, G, H, True)
            a, c_new, h_new = xw_p + t * B * G * s, cs_p + t * n * s, hs_p + t * n * s
            self.launch("lstm_fwd", grid, (a, hw_p, c, H32, c_new, h_new, a, n32))
            h, c = h_new, c_new

    def gru_forward(self, order: range, gi: Any, h0: Any, w_hh: Any, hw: Any, bias: Any,
                    ghn: Any, hs: Any) -> None:
        T, B, G = gi.shape
        H = G // 3
        handle = self.backend.handle()  # first: a loop's addresses are taken after it
        p, s, n = self.ptr, self.itemsize, B * H
        gi_p, hw_p, w_p, b_p, ghn_p, hs_p = p(gi), p(hw), p(w_hh), p(bias), p(ghn), p(hs)
        h = p(h0)
        grid, H32, n32 = -(-n // BLOCK), np.int32(H), np.int32(n)
        for t in order:
            self.mm(handle, hw_p, h, w_p, B, G, H, True)
            g, h_new = gi_p + t * B * G * s, hs_p + t * n * s
            self.launch("gru_fwd", grid, (g, hw_p, b_p, h, H32, h_new, ghn_p + t * n * s, g, n32))
            h = h_new

    def rnn_forward(self, order: range, xw: Any, h0: Any, w_hh: Any, hw: Any, relu: bool
                    ) -> None:
        T, B, H = xw.shape
        handle = self.backend.handle()  # first: a loop's addresses are taken after it
        p, s, n = self.ptr, self.itemsize, B * H
        xw_p, hw_p, w_p = p(xw), p(hw), p(w_hh)
        h = p(h0)
        grid, relu32, n32 = -(-n // BLOCK), np.int32(relu), np.int32(n)
        for t in order:
            self.mm(handle, hw_p, h, w_p, B, H, H, True)
            h = xw_p + t * n * s  # the new state overwrites the step's input projection
            self.launch("rnn_fwd", grid, (h, hw_p, relu32, h, n32))

    # ---- backward over one chunk of times: the kernel, then dh = dgates W_hh into dh_buf.
    # Each returns the array holding dh after the chunk (dh itself or dh_buf).

    def lstm_backward(self, times: range, t0: int, first: int, dt: int, acts: Any, dgates: Any,
                      cs: Any, c0: Any, gy: Any, dh: Any, dc: Any, dh_buf: Any, w_hh: Any,
                      zero: Any) -> Any:
        """``dgates`` (K, B, G) for times t0.. (may be ``acts`` itself from t0 on); ``dc`` is
        updated in place; ``gy`` None for no output gradient (``zero`` stands in)."""
        T, B, G = acts.shape
        H = G // 4
        handle = self.backend.handle()  # first: a loop's addresses are taken after it
        p, s, n = self.ptr, self.itemsize, B * H
        acts_p, dg_p, cs_p, dc_p, buf_p, w_p = p(acts), p(dgates), p(cs), p(dc), p(dh_buf), p(w_hh)
        c0_p, dh_p = p(c0), p(dh)
        gy_p, gy_step = (p(zero), 0) if gy is None else (p(gy), n * s)
        grid, H32, n32 = -(-n // BLOCK), np.int32(H), np.int32(n)
        for t in times:
            dg = dg_p + (t - t0) * B * G * s
            c_prev = c0_p if t == first else cs_p + (t - dt) * n * s
            self.launch("lstm_bwd", grid, (acts_p + t * B * G * s, c_prev, cs_p + t * n * s, dh_p,
                                           gy_p + t * gy_step, dc_p, H32, dg, dc_p, n32))
            self.mm(handle, buf_p, dg, w_p, B, H, G, False)
            dh_p, dh = buf_p, dh_buf
        return dh

    def gru_backward(self, times: range, t0: int, first: int, dt: int, rzn: Any, ghn: Any,
                     dgi: Any, dghn: Any, dgh: Any, hs: Any, h0: Any, gy: Any, dh: Any,
                     dh_dir: Any, dh_buf: Any, w_hh: Any, zero: Any) -> Any:
        """``dgi`` (K, B, G) and ``dghn`` (K, B, H) for times t0.. (may be ``rzn`` and ``ghn``
        themselves from t0 on); ``dgh`` one step's; ``dh_dir`` updated in place."""
        T, B, G = rzn.shape
        H = G // 3
        handle = self.backend.handle()  # first: a loop's addresses are taken after it
        p, s, n = self.ptr, self.itemsize, B * H
        rzn_p, ghn_p, dgi_p, dghn_p, dgh_p = p(rzn), p(ghn), p(dgi), p(dghn), p(dgh)
        hs_p, dir_p, buf_p, w_p, h0_p, dh_p = p(hs), p(dh_dir), p(dh_buf), p(w_hh), p(h0), p(dh)
        gy_p, gy_step = (p(zero), 0) if gy is None else (p(gy), n * s)
        grid, H32, n32 = -(-n // BLOCK), np.int32(H), np.int32(n)
        for t in times:
            h_prev = h0_p if t == first else hs_p + (t - dt) * n * s
            self.launch("gru_bwd", grid, (
                rzn_p + t * B * G * s, ghn_p + t * n * s, h_prev, dh_p, dir_p, gy_p + t * gy_step,
                H32, dgi_p + (t - t0) * B * G * s, dgh_p, dghn_p + (t - t0) * n * s, dir_p, n32))
            self.mm(handle, buf_p, dgh_p, w_p, B, H, G, False)
            dh_p, dh = buf_p, dh_buf
        return dh

    def rnn_backward(self, times: range, t0: int, new: Any, dpre: Any, gy: Any, dh: Any,
                     dh_buf: Any, w_hh: Any, relu: bool, zero: Any) -> Any:
        """``dpre`` (K, B, H) for times t0.. ."""
        T, B, H = new.shape
        handle = self.backend.handle()  # first: a loop's addresses are taken after it
        p, s, n = self.ptr, self.itemsize, B * H
        new_p, d_p, buf_p, w_p, dh_p = p(new), p(dpre), p(dh_buf), p(w_hh), p(dh)
        gy_p, gy_step = (p(zero), 0) if gy is None else (p(gy), n * s)
        grid, relu32, n32 = -(-n // BLOCK), np.int32(relu), np.int32(n)
        for t in times:
            d = d_p + (t - t0) * n * s
            self.launch("rnn_bwd", grid, (dh_p, gy_p + t * gy_step, new_p + t * n * s, relu32, d,
                                          n32))
            self.mm(handle, buf_p, d, w_p, B, H, H, False)
            dh_p, dh = buf_p, dh_buf
        return dh

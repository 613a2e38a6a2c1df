"""Fused recurrent ops: the fast path of the recurrent layers.

The composed cells in ``functional`` record about 15 tiny ops per time step; these ops do the
same math in a few array calls per step, with a hand-written backward:

- ``LSTMPointwise``, ``GRUPointwise``: one cell step's elementwise math (all gates and the state
  update) as one op, forward and backward.
- ``LSTMSequence``, ``GRUSequence``, ``RNNSequence``: one layer, one direction, the whole
  sequence as one op. The input projection of every step is one matmul before the loop; each
  step is one recurrent matmul plus the fused pointwise math; the backward loops once in
  reverse, and the weight gradients are one matmul each for the whole sequence, or for each
  chunk of steps where memory asks for it (``_Sequence.accumulate``).

The pointwise math exists twice, with the same formulas: plain ``xp`` expressions (NumPy, and
CuPy when no kernel applies) and, on CuPy, one memoised ``ElementwiseKernel`` per direction.
On CuPy the loops go further: ``pointer_steps`` runs each step as one cuBLAS call and one
``RawKernel`` launch (made from the same kernel bodies, with the mask of ``lengths`` applied
inside; a projection adds one cuBLAS call, and with ``lengths`` one more launch) on
precomputed addresses, with no array object per step.
Where a kernel writes over one of its inputs, the loops pass the same array object as input
and output: CuPy copies an input that overlaps an output held by another object, which would
cost a copy per step. Without a GPU, tests/test_kernel_calls.py checks every kernel call of
the array path and each kernel body, compiled as C++, against the NumPy step,
tests/test_pointer_steps.py runs the pointer loops themselves on NumPy memory, and
tests/test_cuda_compile.py builds every kernel with NVRTC, as CuPy does (no GPU needed).
Each op equals its composed twin in value and gradient (tests/test_fused.py). Their backward
works on arrays only; under ``create_graph=True`` (second derivatives: a gradient penalty,
``tr.func.jvp``, a Hessian) each op replays itself from its inputs with the composed cells
instead (``_Replayed``) and differentiates that replay, so the recorded gradient has
derivatives of its own. The replay costs a composed forward and backward.

Notation as in ``functional``: gate blocks i, f, g, o (LSTM) and r, z, n (GRU) along the last
axis, H the hidden size, ``xw`` the input projection, ``hw`` the recurrent one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Function, Tensor
from . import pointer_steps

# ---- CuPy kernels (built on first use; CuPy caches the compiled code per dtype) ------------

_KERNELS: dict[str, Any] = {}

_SIG = "(T)1 / ((T)1 + exp(-({x})))"  # σ, as elementwise.sigmoid_array: exp(-x) = inf gives 0

_CUDA_SOURCES = {
    "lstm_fwd": (
        "raw T xw, raw T hw, T c_prev, int32 H", "T c, T h, raw T acts",
        f"""
        const long long b = i / H, j = i % H, k = b * 4 * H + j;  // k: 64-bit
        T a_i = {_SIG.format(x="xw[k] + hw[k]")};
        T a_f = {_SIG.format(x="xw[k + H] + hw[k + H]")};
        T a_g = tanh(xw[k + 2 * H] + hw[k + 2 * H]);
        T a_o = {_SIG.format(x="xw[k + 3 * H] + hw[k + 3 * H]")};
        acts[k] = a_i; acts[k + H] = a_f; acts[k + 2 * H] = a_g; acts[k + 3 * H] = a_o;
        c = a_f * c_prev + a_i * a_g;
        h = a_o * tanh(c);
        """,
    ),
    "lstm_bwd": (
        "raw T acts, T c_prev, T c, T dh_next, T gy, T dc, int32 H", "raw T dgates, T dc_prev",
        """
        const long long b = i / H, j = i % H, k = b * 4 * H + j;  // k: 64-bit
        T a_i = acts[k], a_f = acts[k + H], a_g = acts[k + 2 * H], a_o = acts[k + 3 * H];
        T dh = dh_next + gy;
        T tc = tanh(c);
        T dct = dc + dh * a_o * ((T)1 - tc * tc);
        dgates[k] = dct * a_g * a_i * ((T)1 - a_i);
        dgates[k + H] = dct * c_prev * a_f * ((T)1 - a_f);
        dgates[k + 2 * H] = dct * a_i * ((T)1 - a_g * a_g);
        dgates[k + 3 * H] = dh * tc * a_o * ((T)1 - a_o);
        dc_prev = dct * a_f;
        """,
    ),
    "gru_fwd": (
        "raw T gi, raw T gh, raw T b_hh, T h_prev, int32 H", "T h, T ghn, raw T rzn",
        f"""
        const long long b = i / H, j = i % H, k = b * 3 * H + j;  // k: 64-bit
        T r = {_SIG.format(x="gi[k] + gh[k] + b_hh[j]")};
        T z = {_SIG.format(x="gi[k + H] + gh[k + H] + b_hh[j + H]")};
        T hn = gh[k + 2 * H] + b_hh[j + 2 * H];
        T n = tanh(gi[k + 2 * H] + r * hn);
        rzn[k] = r; rzn[k + H] = z; rzn[k + 2 * H] = n;
        ghn = hn;
        h = n + z * (h_prev - n);
        """,
    ),
    "gru_bwd": (
        "raw T rzn, T ghn, T h_prev, T dh_mm, T dh_dir, T gy, int32 H",
        "raw T dgi, raw T dgh, T dghn, T dh_prev",
        """
        const long long b = i / H, j = i % H, k = b * 3 * H + j;  // k: 64-bit
        T r = rzn[k], z = rzn[k + H], n = rzn[k + 2 * H], hn = ghn;
        T dh = dh_mm + dh_dir + gy;
        T dnp = dh * ((T)1 - z) * ((T)1 - n * n);
        T drp = dnp * hn * r * ((T)1 - r);
        T dzp = dh * (h_prev - n) * z * ((T)1 - z);
        dgi[k] = drp; dgi[k + H] = dzp; dgi[k + 2 * H] = dnp;
        dgh[k] = drp; dgh[k + H] = dzp; dgh[k + 2 * H] = dnp * r;
        dghn = dnp * r;
        dh_prev = dh * z;
        """,
    ),
    "rnn_fwd": (
        "T xw, T hw, int32 relu", "T h",
        "T p = xw + hw; h = relu ? (p < (T)0 ? (T)0 : p) : tanh(p);",  # relu(NaN) = NaN
    ),
    "rnn_bwd": (
        "T dh_next, T gy, T y, int32 relu", "T dpre",
        "T d = dh_next + gy; dpre = relu ? (y <= (T)0 ? (T)0 : d) : d * ((T)1 - y * y);",
    ),
}


def _kernel(xp: Any, name: str) -> Any:
    """The CuPy kernel ``name``, or None when ``xp`` is not CuPy."""
    if getattr(xp, "__name__", "") != "cupy":
        return None
    k = _KERNELS.get(name)
    if k is None:
        ins, outs, body = _CUDA_SOURCES[name]
        k = _KERNELS[name] = xp.ElementwiseKernel(ins, outs, body, f"tinygrad_rnn_{name}")
    return k


# ---- one step's pointwise math, forward and backward ---------------------------------------


def lstm_step(xp: Any, xw: Any, hw: Any, c_prev: Any, acts: Any, c: Any, h: Any) -> None:
    """gates = xw + hw; acts ← [σ(i), σ(f), tanh(g), σ(o)], c ← f c_prev + i g,
    h ← o tanh(c), all written in place (acts may be xw itself: each is read before written;
    c and h must not share memory with the inputs: h holds i g on the way)."""
    H = c_prev.shape[-1]
    k = _kernel(xp, "lstm_fwd")
    if k is not None:
        k(xw, hw, c_prev, H, c, h, acts)
        return
    xp.add(xw, hw, out=acts)  # the gates' pre-activations, then each gate in place
    g = xp.tanh(acts[:, 2 * H:3 * H])
    _sigmoid_inplace(xp, acts)
    acts[:, 2 * H:3 * H] = g
    i, f, o = acts[:, :H], acts[:, H:2 * H], acts[:, 3 * H:]
    xp.multiply(f, c_prev, out=c)
    xp.multiply(i, g, out=h)  # h as scratch: i g
    c += h
    xp.tanh(c, out=h)
    h *= o


def _sigmoid_inplace(xp: Any, a: Any) -> None:
    """a ← σ(a) = 1 / (1 + exp(-a)) in place, as ``sigmoid_array`` (exp(-a) may overflow to
    inf, giving the right limit 0)."""
    with np.errstate(over="ignore"):
        xp.negative(a, out=a)
        xp.exp(a, out=a)
    a += 1
    xp.reciprocal(a, out=a)


def lstm_step_backward(xp: Any, acts: Any, c_prev: Any, c: Any, dh_next: Any, gy: Any,
                       dc: Any, dgates: Any, dc_prev: Any) -> None:
    """With dh = dh_next + gy and dc the gradients of the step's h and c: dgates ← dL/d(the
    pre-activations), dc_prev ← dL/dc_prev, in place (dgates may be acts, dc_prev may be dc).
    dc_total = dc + dh o (1 - tanh²c); di = dc_total g σ'(i); df = dc_total c_prev σ'(f);
    dg = dc_total i (1 - g²); do = dh tanh(c) σ'(o); dc_prev = dc_total f."""
    H = c.shape[-1]
    k = _kernel(xp, "lstm_bwd")
    if k is not None:
        k(acts, c_prev, c, dh_next, gy, dc, H, dgates, dc_prev)
        return
    dh = dh_next + gy
    i, f, g, o = acts[:, :H], acts[:, H:2 * H], acts[:, 2 * H:3 * H], acts[:, 3 * H:]
    tc = xp.tanh(c)
    dct = dc + dh * o * (1 - tc * tc)
    # all computed before any is stored: the outputs may share memory with the inputs
    di, df = dct * g * i * (1 - i), dct * c_prev * f * (1 - f)
    dg, do, dcp = dct * i * (1 - g * g), dh * tc * o * (1 - o), dct * f
    dgates[:, :H], dgates[:, H:2 * H], dgates[:, 2 * H:3 * H], dgates[:, 3 * H:] = di, df, dg, do
    dc_prev[...] = dcp


def gru_step(xp: Any, gi: Any, gh: Any, b_hh: Any, h_prev: Any, rzn: Any, h: Any,
             ghn: Any) -> None:
    """With gh' = gh + b_hh: r = σ(gi_r + gh'_r), z = σ(gi_z + gh'_z), n = tanh(gi_n + r gh'_n)
    and h = n + z (h_prev - n) (= (1 - z) n + z h_prev). Writes rzn ← [r, z, n] (may be gi
    itself), h, and ghn ← gh'_n (backward needs it), in place."""
    H = h_prev.shape[-1]
    k = _kernel(xp, "gru_fwd")
    if k is not None:
        k(gi, gh, b_hh, h_prev, H, h, ghn, rzn)
        return
    xp.add(gh[:, 2 * H:], b_hh[2 * H:], out=ghn)
    rz = rzn[:, :2 * H]  # written in place (rzn may be gi: each element read before written)
    xp.add(gi[:, :2 * H], gh[:, :2 * H], out=rz)
    rz += b_hh[:2 * H]
    _sigmoid_inplace(xp, rz)
    r, z = rzn[:, :H], rzn[:, H:2 * H]
    xp.multiply(r, ghn, out=h)  # h as scratch: the n gate's pre-activation
    h += gi[:, 2 * H:]
    n = rzn[:, 2 * H:]
    xp.tanh(h, out=n)
    xp.subtract(h_prev, n, out=h)
    h *= z
    h += n


def gru_step_backward(xp: Any, rzn: Any, ghn: Any, h_prev: Any, dh_mm: Any, dh_dir: Any,
                      gy: Any, dgi: Any, dgh: Any, dghn: Any, dh_prev: Any) -> None:
    """With dh = dh_mm + dh_dir + gy (the gradient of h through the next step's recurrent
    matmul, through its direct path z h, and from the output): dgi, dgh ← dL/d(gi),
    dL/d(gh + b_hh), dghn ← the n block of dgh, and dh_prev ← the direct part dh z, in place
    (dgi may be rzn, dghn may be ghn, dh_prev may be dh_dir).
    dn' = dh (1 - z)(1 - n²); dr' = dn' gh_n σ'(r); dz' = dh (h_prev - n) σ'(z); the n block of
    dgh is dn' r (the reset gate scales W_hn h + b_hn)."""
    H = h_prev.shape[-1]
    k = _kernel(xp, "gru_bwd")
    if k is not None:
        k(rzn, ghn, h_prev, dh_mm, dh_dir, gy, H, dgi, dgh, dghn, dh_prev)
        return
    dh = dh_mm + dh_dir + gy
    r, z, n = rzn[:, :H], rzn[:, H:2 * H], rzn[:, 2 * H:]
    # all computed before any is stored: the outputs may share memory with the inputs
    dnp = dh * (1 - z) * (1 - n * n)
    drp = dnp * ghn * r * (1 - r)
    dzp = dh * (h_prev - n) * z * (1 - z)
    dnr, dhz = dnp * r, dh * z
    dgi[:, :H], dgi[:, H:2 * H], dgi[:, 2 * H:] = drp, dzp, dnp
    dgh[:, :H], dgh[:, H:2 * H], dgh[:, 2 * H:] = drp, dzp, dnr
    dghn[...] = dnr
    dh_prev[...] = dhz


def rnn_step(xp: Any, xw: Any, hw: Any, relu: bool, h: Any) -> None:
    """h ← tanh(xw + hw) (or relu), in place (h may be xw itself)."""
    k = _kernel(xp, "rnn_fwd")
    if k is not None:
        k(xw, hw, int(relu), h)
        return
    xp.add(xw, hw, out=h)
    if relu:
        xp.maximum(h, 0, out=h)  # relu(NaN) = NaN
    else:
        xp.tanh(h, out=h)


def rnn_step_backward(xp: Any, dh_next: Any, gy: Any, y: Any, relu: bool, dpre: Any) -> None:
    """dpre ← (dh_next + gy) (1 - y²) for tanh, or (dh_next + gy) unless y <= 0 for relu."""
    k = _kernel(xp, "rnn_bwd")
    if k is not None:
        k(dh_next, gy, y, int(relu), dpre)
        return
    d = dh_next + gy
    dpre[...] = xp.where(y <= 0, 0, d) if relu else d * (1 - y * y)  # relu: as a select


# ---- create_graph=True: a replay with composed ops -----------------------------------------


class _Replayed(Function):
    """A fused op whose gradient under ``create_graph=True`` comes from a replay: ``replay``
    computes the op's outputs from its inputs (tensors) with the composed cells of
    ``functional``; differentiating that, with ``create_graph``, gives the same gradient as
    ``backward`` (the replay and the op are one function: tests/test_fused.py), recorded as
    ops that can be differentiated again. ``graph_backward`` is the engine's entry for that
    case; ``backward`` (arrays) stays the fast one for every other. The JVP (forward-mode
    AD) is the replay's too: the replay run on dual tensors, its ops carrying the tangents."""

    def replay(self, *inputs: Tensor) -> Any:
        raise NotImplementedError

    def jvp(self, *tangents: Any) -> Any:
        from ..autograd_forward import replay_jvp

        return replay_jvp(self.replay, self.inputs, tangents)

    def graph_backward(self, gy: Any, parents: tuple[Tensor, ...]) -> Any:
        from ..autograd import enable_grad, grad

        ins = [self.graph_input(a, parents) for a in self.inputs]
        with enable_grad():
            # each input through a node of its own: the derivative in it is then the direct
            # one (a partial), not also through another input made from it (a cell's gh from
            # its h_prev), which the engine adds along that other path itself
            ins = [t * 1 if isinstance(t, Tensor) and t.requires_grad else t for t in ins]
            outs = self.replay(*ins)
        outs = outs if isinstance(outs, tuple) else (outs,)
        gys = gy if self.n_out > 1 else (gy,)
        pairs = [(o, g) for o, g in zip(outs, gys) if g is not None and o.requires_grad]
        need = [k for k, t in enumerate(ins) if isinstance(t, Tensor) and t.requires_grad]
        got: list[Any] = [None] * len(parents)
        if pairs and need:
            found = grad([o for o, _ in pairs], [ins[k] for k in need], [g for _, g in pairs],
                         create_graph=True, allow_unused=True)
            for k, g in zip(need, found):
                got[k] = g
        return tuple(got)


# ---- one cell step as one op ---------------------------------------------------------------


class LSTMPointwise(_Replayed):
    """(h, c) from pre-activations ``gates`` = W_ih x + b_ih + W_hh h + b_hh and ``c_prev``:
    all four gates and the state update in one op (see ``functional.lstm_cell``).
    VJP: ``lstm_step_backward``.  Saves the gate activations, c_prev and c."""

    def replay(self, gates: Tensor, c_prev: Tensor) -> tuple[Tensor, Tensor]:
        i, f, g, o = gates.split(c_prev.shape[-1], axis=-1)
        c = f.sigmoid() * c_prev + i.sigmoid() * g.tanh()
        return o.sigmoid() * c.tanh(), c

    def forward(self, gates: Any, c_prev: Any) -> tuple[Any, Any]:
        xp = self.xp
        acts, c, h = xp.empty_like(gates), xp.empty_like(c_prev), xp.empty_like(c_prev)
        lstm_step(xp, gates, xp.zeros_like(gates), c_prev, acts, c, h)
        self.saved = (acts, c_prev, c)
        return h, c

    def backward(self, gh: Any, gc: Any) -> tuple[Any, Any]:
        xp = self.xp
        acts, c_prev, c = self.saved
        zero = xp.zeros_like(c)
        dgates, dc_prev = xp.empty_like(acts), xp.empty_like(c)
        lstm_step_backward(xp, acts, c_prev, c, zero if gh is None else gh, zero,
                           zero if gc is None else gc, dgates, dc_prev)
        return dgates, dc_prev


class GRUPointwise(_Replayed):
    """h from ``gi`` = W_ih x + b_ih, ``gh`` = W_hh h + b_hh and ``h_prev``: the r, z, n gates
    and the update in one op (see ``functional.gru_cell``).  VJP: ``gru_step_backward``.
    Saves r, z, n, gh_n and h_prev."""

    def replay(self, gi: Tensor, gh: Tensor, h_prev: Tensor) -> Tensor:
        (i_r, i_z, i_n), (h_r, h_z, h_n) = (a.split(h_prev.shape[-1], axis=-1)
                                            for a in (gi, gh))
        r, z = (i_r + h_r).sigmoid(), (i_z + h_z).sigmoid()
        return (1 - z) * (i_n + r * h_n).tanh() + z * h_prev

    def forward(self, gi: Any, gh: Any, h_prev: Any) -> Any:
        xp = self.xp
        rzn, h, ghn = xp.empty_like(gi), xp.empty_like(h_prev), xp.empty_like(h_prev)
        gru_step(xp, gi, gh, xp.zeros(gi.shape[-1], dtype=gi.dtype), h_prev, rzn, h, ghn)
        self.saved = (rzn, ghn, h_prev)
        return h

    def backward(self, dh: Any) -> tuple[Any, Any, Any]:
        xp = self.xp
        rzn, ghn, h_prev = self.saved
        dgi, dgh, dh_direct = xp.empty_like(rzn), xp.empty_like(rzn), xp.empty_like(h_prev)
        zero = xp.zeros_like(dh)
        gru_step_backward(xp, rzn, ghn, h_prev, dh, zero, zero, dgi, dgh, xp.empty_like(h_prev),
                          dh_direct)
        return dgi, dgh, dh_direct


# ---- a whole layer (one direction) over a whole sequence as one op -------------------------


def _feature_major(op: Any, xp: Any, xw: Any, sign: Any, bias: Any = None) -> Any:
    """xw (T, B, G) re-laid out as (T, G, B) in its own memory (each step's block is the same
    memory in both layouts), a chunk of steps at a time through a small buffer, plus ``bias``
    (G,) where given, and each row multiplied by ``sign`` (G, 1)."""
    T, B, G = xw.shape
    out = xw.reshape(T, G, B)
    C = op.chunk_len(T, B * G, 32)
    chunk = xp.empty((C, B, G), dtype=xw.dtype)
    for c0 in range(0, T, C):
        c1 = min(T, c0 + C)
        chunk[:c1 - c0] = xw[c0:c1]
        if bias is not None:  # here, where the chunk is in cache: no pass over all of xw
            chunk[:c1 - c0] += bias
        xp.multiply(chunk[:c1 - c0].transpose(0, 2, 1), sign, out=out[c0:c1])
    return out


# the states and activations a sequence op's loop keeps for its backward (those it made)
_KEPT = ("h0", "c0", "states", "cells", "acts", "raw", "rzn", "ghn", "new")


class _Sequence(_Replayed):
    """Shared by the three sequence ops. Inputs, in order: x (T, B, I), h0 (B, H_out),
    [c0 (B, H) for LSTM], W_ih, W_hh, [b_ih, b_hh], [W_hr for LSTM with a projection].
    Keyword arguments: ``bias``, ``proj`` (what the optional inputs are), ``reverse`` (run
    from the last step to the first) and ``mask`` ((T, B, 1) booleans: which steps lie inside
    each sequence, or None). Outputs: the outputs of every step (T, B, H_out), zero where the
    mask is off, and the final state(s).

    Every buffer is indexed by time, whichever way the loop runs: ``self.order`` lists the
    times in the order the loop visits them, and the step before time t (in that order) is
    t - ``self.dt``. So the reverse direction needs no reversed (negative-stride) views,
    which matmuls would copy.

    Memory: the backward writes each step's gate gradients over the saved activations of that
    step, used up by then, where it may (the last backward through the op, and only into
    buffers the op owns). Otherwise it writes them into a buffer of a few steps and adds the
    weight gradients every ``chunk_len`` steps. The CPU array path also works in chunks of
    ``chunk_len`` steps: per chunk, the factors of the backward that do not depend on the
    incoming gradients for all its steps at once (a few NumPy calls instead of a few per
    step), then a short reverse loop over the chunk."""

    has_cell = False
    chunk_steps: int | None = None  # steps per weight-gradient chunk; None: see chunk_len

    def forward(self, *arrays: Any, bias: bool, proj: bool, reverse: bool, mask: Any
                ) -> tuple[Any, ...]:
        xp = self.xp
        it = iter(arrays)
        x, h0 = next(it), next(it)
        c0 = next(it) if self.has_cell else None
        w_ih, w_hh = next(it), next(it)
        b_ih, b_hh = (next(it), next(it)) if bias else (None, None)
        w_hr = next(it) if proj else None
        T, B, n_in = x.shape
        xw = (x.reshape(T * B, n_in) @ w_ih.T).reshape(T, B, w_ih.shape[0])
        if b_ih is not None:
            xw += b_ih if not self.adds_b_hh_early else b_ih + b_hh
        self.order = range(T - 1, -1, -1) if reverse else range(T)
        self.dt = -1 if reverse else 1
        self.bias, self.proj, self.mask = bias, proj, mask
        outs = self.loop(xp, xw, h0, c0, w_hh, b_hh, w_hr, mask)
        # what backward needs besides the inputs (the loop's states and activations) goes in
        # `saved` too, where the engine keeps an op's arrays (and saved_tensors_hooks pack
        # them); backward takes it back as attributes
        d = self.__dict__
        self.kept = tuple(k for k in _KEPT if d.get(k) is not None)
        self.saved = (x, w_ih, w_hh, w_hr, *(d.pop(k) for k in self.kept))
        return outs

    adds_b_hh_early = True  # LSTM and RNN add both biases to xw; GRU keeps b_hh inside r ⊙ (.)

    def replay(self, *inputs: Tensor) -> tuple[Tensor, ...]:
        """The layer again, from tensors, one composed cell (``cell``) per step, in the same
        order, with the same mask rule (a finished sequence keeps its state, outputs 0)."""
        from ..functional import linear
        from .elementwise import where
        from .movement import stack

        it = iter(inputs)
        x, h0 = next(it), next(it)
        c0 = next(it) if self.has_cell else None
        w_ih, w_hh = next(it), next(it)
        b_ih, b_hh = (next(it), next(it)) if self.bias else (None, None)
        w_hr = next(it) if self.proj else None
        xw = linear(x, w_ih, b_ih)
        T = x.shape[0]
        state: tuple[Any, ...] = (h0, c0) if self.has_cell else (h0,)
        ys: list[Any] = [None] * T
        for t in (range(T - 1, -1, -1) if self.dt == -1 else range(T)):
            new = self.cell(xw[t], state, w_hh, b_hh, w_hr)
            if self.mask is None:
                state, ys[t] = new, new[0]
            else:
                m = Tensor._wrap(self.mask[t], x._dev)
                ys[t] = where(m, new[0], 0.0)
                state = tuple(where(m, a, b) for a, b in zip(new, state))
        return (stack(ys, 0), *state)

    def backward(self, *gys: Any) -> tuple[Any, ...]:
        xp = self.xp
        x, w_ih, w_hh, w_hr, *kept = self.saved
        self.__dict__.update(zip(self.kept, kept))
        needs = [p.requires_grad for p in self.parents] if self.parents else None
        # the gradients, filled chunk by chunk by `accumulate` during the loop
        self.dx = xp.empty(x.shape, dtype=x.dtype) if needs is None or needs[0] else None
        self.dw_ih, self.dw_hh = xp.zeros_like(w_ih), xp.zeros_like(w_hh)
        self.db_ih = xp.zeros(w_ih.shape[0], dtype=x.dtype)
        self.db_hh = xp.zeros(w_ih.shape[0], dtype=x.dtype)
        self.shared = False  # True when the recurrent and input projections share a gradient
        finals = self.loop_backward(xp, *gys)
        grads: list[Any] = [self.dx, *finals, self.dw_ih, self.dw_hh]
        if self.bias:
            grads += [self.db_ih, self.db_ih if self.shared else self.db_hh]
        if self.proj:
            grads.append(self.projection_grad())
        for name in ("dx", "dw_ih", "dw_hh", "db_ih", "db_hh", "dh_new_all", *self.kept):
            self.__dict__.pop(name, None)  # the gradients belong to the caller now (and
            # the states and activations stay in `saved` only)
        if self.final:  # the engine frees `saved`; these buffers go with it
            self.__dict__.clear()
        return tuple(grads)

    stepper: Any = "auto"  # or a given pointer stepper, or None for the array path

    def steps(self, xp: Any, a: Any, ok: bool = True) -> Any:
        """The pointer stepper (``pointer_steps``) for the buffers of ``a`` (T, B, G), where
        the loop may use one (``ok``) and one exists (``self.stepper``, unless "auto":
        ``pointer_steps.get``); else None, for the array path."""
        if not ok or not pointer_steps.PointerSteps.fits(*a.shape[1:]):
            return None
        return pointer_steps.get(xp, a.dtype) if self.stepper == "auto" else self.stepper

    def row_mask(self, xp: Any, dtype: Any) -> Any:
        """The mask as (T, B) numbers of ``dtype`` (1 inside a sequence), or None."""
        m = self.mask
        return None if m is None else xp.ascontiguousarray(m.reshape(m.shape[:2]), dtype=dtype)

    def chunk_len(self, T: int, step_size: int, parts: int = 8) -> int:
        """Steps per chunk when the gate gradients cannot overwrite saved activations: an
        eighth of the sequence (a ``parts``-th), so the buffer stays small next to what the
        forward saved, but at least 65,536 numbers' worth, so a short or small sequence is one
        chunk (each chunk costs a few matmuls), and never more than the sequence."""
        if self.chunk_steps is not None:
            return min(self.chunk_steps, T)
        return min(T, max(-(-T // parts), -(-65536 // max(step_size, 1)), 1))

    def before(self, xp: Any, states: Any, first: Any, t0: int, t1: int) -> Any:
        """The state before each step at times t0..t1-1: ``states`` (indexed by time) one step
        back in the loop's order, and ``first`` (1, ...) before the loop's first step."""
        T = states.shape[0]
        if self.dt == 1:
            return states[t0 - 1:t1 - 1] if t0 > 0 else xp.concatenate([first, states[:t1 - 1]])
        return states[t0 + 1:t1 + 1] if t1 < T else xp.concatenate([states[t0 + 1:], first])

    def backward_chunks(self, T: int, K: int) -> list[tuple[int, int, range]]:
        """The backward's walk, in chunks of at most K steps: (t0, t1, times) with [t0, t1)
        the chunk's times and ``times`` the order to visit them (the loop's, reversed)."""
        if self.dt == 1:  # the loop ran 0 .. T-1: back from the end
            return [(max(0, t1 - K), t1, range(t1 - 1, max(0, t1 - K) - 1, -1))
                    for t1 in range(T, 0, -K)]
        return [(t0, min(T, t0 + K), range(t0, min(T, t0 + K))) for t0 in range(0, T, K)]

    def accumulate(self, t0: int, t1: int, dxw: Any, dhw: list[tuple[int, Any, int]]) -> None:
        """Adds the steps at times t0..t1-1 to the gradients of x, W_ih, W_hh and the biases.
        ``dxw`` (K, B, G): the gradients of those steps' input projections; ``dhw``: those of
        their recurrent projections, as (first row, (K, B, columns), n) blocks, of which the
        first n columns count. dx = dxw W_ih; dW_ih += Σ dxwᵀ x; dW_hh += Σ dhw_tᵀ h_prev(t)
        (h0 for the loop's first step): one matmul each for the whole chunk."""
        xp = self.xp
        x, w_ih = self.saved[0], self.saved[1]
        K, B, G = dxw.shape
        d = dxw.reshape(K * B, G)
        if self.dx is not None:
            xp.matmul(d, w_ih, out=self.dx[t0:t1].reshape(K * B, x.shape[-1]))
        self.dw_ih += d.T @ x[t0:t1].reshape(K * B, x.shape[-1])
        if self.bias:
            self.db_ih += d.sum(axis=0)
        self.shared = len(dhw) == 1 and dhw[0][1] is dxw
        first, dt = self.order[0], self.dt
        for row, blk, n_rows in dhw:
            rows = slice(row, row + n_rows)
            if self.bias and not self.shared:
                self.db_hh[rows] += blk.sum(axis=(0, 1))[:n_rows]
            lo, hi = t0, t1
            if lo <= first < hi:  # the loop's first step follows h0
                self.dw_hh[rows] += (blk[first - t0].T @ self.h0)[:n_rows]
                if dt == 1:
                    blk, lo = blk[1:], lo + 1
                else:
                    blk, hi = blk[:-1], hi - 1
            n = hi - lo
            if n > 0:
                h_prev = self.states[lo - dt:hi - dt].reshape(n * B, self.h0.shape[-1])
                self.dw_hh[rows] += (blk.reshape(n * B, blk.shape[-1]).T @ h_prev)[:n_rows]


def _masked_step(xp: Any, m: Any, h_new: Any, h: Any, ys: Any, hs: Any, t: int) -> Any:
    """Step t of a padded batch: a finished sequence (m false) keeps its state and outputs
    zeros. Writes the output and the state of step t; returns the state."""
    ys[t] = xp.where(m, h_new, 0)  # selected, not multiplied: inf * 0 would be NaN
    hs[t] = h = xp.where(m, h_new, h)
    return h


class LSTMSequence(_Sequence):
    """An LSTM layer (one direction) over a sequence: outputs (ys, h_n, c_n)."""

    has_cell = True

    @staticmethod
    def cell(xw: Tensor, state: Any, w_hh: Tensor, b_hh: Any, w_hr: Any) -> tuple[Any, ...]:
        from ..functional import lstm_cell_projected

        return lstm_cell_projected(xw, state, w_hh, b_hh, w_hr)

    def loop(self, xp: Any, xw: Any, h0: Any, c0: Any, w_hh: Any, b_hh: Any, w_hr: Any,
             mask: Any) -> tuple[Any, ...]:
        T, B, G = xw.shape
        H = G // 4
        direct = mask is None and w_hr is None  # the step writes straight into hs, cs
        order, steps = self.order, self.steps(xp, xw)
        self.feature_major = (w_hr is None and steps is None
                              and _kernel(xp, "lstm_fwd") is None)
        if self.feature_major:  # NumPy: the loop below, in the layout NumPy runs fastest
            return self.loop_feature_major(xp, xw, h0, c0, w_hh, mask)
        acts = xw  # each step's gate activations overwrite its input projection, used up
        cs = xp.empty((T, B, H), dtype=xw.dtype)  # cell state after each step
        hs = xp.empty((T, B, h0.shape[-1]), dtype=xw.dtype)  # hidden state after each step
        raw = xp.empty((T, B, H), dtype=xw.dtype) if w_hr is not None else None
        ys = hs if mask is None else xp.empty_like(hs)
        w_hh_t = xp.ascontiguousarray(w_hh.T)  # (see RNNSequence.loop)
        w_hr_t = None if w_hr is None else xp.ascontiguousarray(w_hr.T)
        hw = xp.empty((B, G), dtype=xw.dtype)  # each step's recurrent matmul, into one buffer
        if steps is not None:  # the whole loop by pointer (pointer_steps.py)
            h0, c0, w, wr = (None if a is None else xp.ascontiguousarray(a, dtype=xw.dtype)
                             for a in (h0, c0, w_hh, w_hr))
            hp = None if w_hr is None or mask is None else xp.empty_like(hs[0])
            steps.lstm_forward(order, xw, h0, c0, w, hw, cs, hs, mask=self.row_mask(xp, xw.dtype),
                               ys=ys, w_hr=wr, raw=raw, hp=hp)
            order = ()  # so the array path below runs no step
        h, c = h0, c0
        for t in order:
            c_new = cs[t] if direct else xp.empty((B, H), dtype=xw.dtype)
            h_new = hs[t] if direct else xp.empty((B, H), dtype=xw.dtype)
            a = xw[t]  # one array object for input and output: CuPy copies other overlaps
            lstm_step(xp, a, xp.matmul(h, w_hh_t, out=hw), c, a, c_new, h_new)
            if direct:
                h, c = h_new, c_new
                continue
            if w_hr is not None:
                raw[t] = h_new
                h_new = h_new @ w_hr_t
            if mask is None:
                h, c = h_new, c_new
            else:  # a finished sequence keeps its state and outputs zeros
                m = mask[t]
                ys[t] = xp.where(m, h_new, 0)
                h, c = xp.where(m, h_new, h), xp.where(m, c_new, c)
            hs[t], cs[t] = h, c
        self.h0, self.c0, self.states, self.cells, self.acts, self.raw = h0, c0, hs, cs, acts, raw
        last = self.order[-1]
        return ys, hs[last].copy(), cs[last].copy()

    def loop_feature_major(self, xp: Any, xw: Any, h0: Any, c0: Any, w_hh: Any, mask: Any
                           ) -> tuple[Any, Any, Any]:
        """The forward loop on arrays (NumPy, no projection), as ``lstm_step`` at every step,
        with the gates and cell states stored feature-major: a step's i, f, g, o and c are
        each one contiguous (H, B) block, where in (B, 4H) they are strided slices that NumPy
        runs about half as fast. The rows of the sigmoid gates i, f, o are negated once (in
        the projection and a copy of W_hh: exact), so each σ is exp, + 1, 1 /; NumPy's overflow
        warning (exp(-a) = inf gives σ = 0, the right limit) is silenced once. With a mask, a
        finished sequence keeps its state and outputs zeros (selected, as ``_masked_step``)."""
        T, B, G = xw.shape
        H, dt = G // 4, xw.dtype
        sig = xp.ones((G, 1), dtype=dt)
        sig[:2 * H], sig[3 * H:] = -1, -1  # i, f, o
        acts = _feature_major(self, xp, xw, sig)
        w = w_hh * sig
        cs = xp.empty((T, H, B), dtype=dt)  # the cell state kept after each step
        ys = xp.empty((T, B, H), dtype=dt)
        hs = ys if mask is None else xp.empty_like(ys)  # the hidden state kept after each step
        off = None if mask is None else ~mask.reshape(T, B)  # steps past a sequence's end
        gh, g = xp.empty((G, B), dtype=dt), xp.empty((H, B), dtype=dt)
        h, c = xp.ascontiguousarray(h0.T), xp.ascontiguousarray(c0.T)
        states = (xp.empty((H, B), dtype=dt), xp.empty((H, B), dtype=dt))
        # one sequence, no mask: a step's (H, 1) state is its (1, H) output, the same memory,
        # so the step writes h into the output itself, with no copy (overhead-bound sizes)
        direct = B == 1 and off is None
        with np.errstate(over="ignore"):
            for k, t in enumerate(self.order):
                a, c_new = acts[t], cs[t]
                h_new = ys[t].reshape(H, 1) if direct else states[k % 2]
                a += xp.matmul(w, h, out=gh)
                xp.tanh(a[2 * H:3 * H], out=g)
                xp.exp(a, out=a)  # also g's block, overwritten next
                a += 1
                xp.reciprocal(a, out=a)
                a[2 * H:3 * H] = g
                xp.multiply(a[H:2 * H], c, out=c_new)
                xp.multiply(a[:H], g, out=g)
                c_new += g
                xp.tanh(c_new, out=h_new)
                h_new *= a[3 * H:]
                if not direct:
                    ys[t] = h_new.T
                if off is not None:  # a finished sequence: output 0, state kept
                    xp.copyto(ys[t], 0, where=off[t][:, None])
                    xp.copyto(c_new, c, where=off[t])
                    xp.copyto(h_new, h, where=off[t])
                    hs[t] = h_new.T
                h, c = h_new, c_new
        self.h0, self.c0, self.states, self.cells, self.acts = h0, c0, hs, cs, acts
        last = self.order[-1]
        return ys, hs[last].copy(), cs[last].T.copy()  # a copy even where .T is contiguous

    def loop_backward_feature_major(self, xp: Any, gy: Any, g_hn: Any, g_cn: Any
                                    ) -> list[Any]:
        """The backward of ``loop_feature_major``. Per chunk of steps, every factor that does
        not depend on the incoming dh and dc for all its steps at once: [g σ'(i),
        c_prev σ'(f), i (1 - g²), tanh(c) σ'(o)] (σ'(i) = i (1 - i) from the gate's value),
        o (1 - tanh² c) and f. Then per step: dc += dh o (1 - tanh² c); the gate gradients
        are those factors times [dc, dc, dc, dh], one multiply each; dh ← W_hhᵀ dgates and
        dc ← dc f for the step before. The weight gradients once per chunk."""
        acts, cs, w_hh = self.acts, self.cells, self.saved[2]
        T, G, B = acts.shape
        H, dt = G // 4, acts.dtype
        K = self.chunk_len(T, B * G, 32)
        P = xp.empty((K, G, B), dtype=dt)  # the factors, then the step gradients
        Q = xp.empty((K, 2 * H, B), dtype=dt)  # o (1 - tanh² c), f
        D = xp.empty((K, B, G), dtype=dt)  # the step gradients batch-major, for `accumulate`
        w_t = xp.ascontiguousarray(w_hh.T)
        dh = xp.zeros((H, B), dtype=dt) if g_hn is None else xp.array(g_hn.T, dtype=dt)
        dc = xp.zeros((H, B), dtype=dt) if g_cn is None else xp.array(g_cn.T, dtype=dt)
        tmp = xp.empty((H, B), dtype=dt)
        c0 = self.c0.T[None]
        for t0, t1, times in self.backward_chunks(T, K):
            n = t1 - t0
            c_prev = self.before(xp, cs, c0, t0, t1)
            a, p, q = acts[t0:t1], P[:n], Q[:n]
            i, f, g, o = (a[:, k * H:(k + 1) * H] for k in range(4))
            p_i, p_f, p_g, p_o = (p[:, k * H:(k + 1) * H] for k in range(4))
            q_c, q_f = q[:, :H], q[:, H:]
            xp.tanh(cs[t0:t1], out=p_o)  # tanh c, for now
            xp.multiply(p_o, p_o, out=q_c)
            xp.subtract(1, q_c, out=q_c)
            q_c *= o  # o (1 - tanh² c)
            q_f[...] = f
            xp.subtract(1, o, out=p_i)
            p_o *= p_i
            p_o *= o  # tanh c σ'(o)
            xp.subtract(1, f, out=p_f)
            p_f *= f
            p_f *= c_prev  # c_prev σ'(f)
            xp.multiply(g, g, out=p_g)
            xp.subtract(1, p_g, out=p_g)
            p_g *= i  # i (1 - g²)
            xp.subtract(1, i, out=p_i)
            p_i *= i
            p_i *= g  # g σ'(i)
            p4 = p.reshape(n, 4, H, B)
            for t in times:
                k = t - t0
                if self.mask is not None:  # a finished sequence's step passes dh, dc on
                    on = self.mask[t, :, 0]
                    dh_t = xp.where(on, dh if gy is None else dh + gy[t].T, 0)
                    keep_h, keep_c, dc_t = xp.where(on, 0, dh), xp.where(on, 0, dc), \
                        xp.where(on, dc, 0)
                    dc_t += dh_t * q[k, :H]
                    p4[k, :3] *= dc_t
                    p4[k, 3] *= dh_t
                    xp.matmul(w_t, p[k], out=dh)
                    dh += keep_h
                    xp.multiply(dc_t, q[k, H:], out=dc)
                    dc += keep_c
                    continue
                if gy is not None:
                    dh += gy[t].T
                xp.multiply(dh, q[k, :H], out=tmp)
                dc += tmp
                p4[k, :3] *= dc
                p4[k, 3] *= dh
                xp.matmul(w_t, p[k], out=dh)
                dc *= q[k, H:]
            d = D[:n]
            d[...] = p.transpose(0, 2, 1)
            self.accumulate(t0, t1, d, [(0, d, G)])
        return [xp.ascontiguousarray(dh.T), xp.ascontiguousarray(dc.T)]

    def loop_backward(self, xp: Any, gy: Any, g_hn: Any, g_cn: Any) -> list[Any]:
        if self.feature_major:
            return self.loop_backward_feature_major(xp, gy, g_hn, g_cn)
        hs, cs, acts, mask = self.states, self.cells, self.acts, self.mask
        w_hh, w_hr = self.saved[2], self.saved[3]
        T, B, G = acts.shape
        zero_h, zero_c = xp.zeros_like(hs[0]), xp.zeros_like(cs[0])
        dh = zero_h if g_hn is None else g_hn
        # updated in place below
        dc = xp.array(zero_c if g_cn is None else g_cn, dtype=cs.dtype, order="C")
        direct = mask is None and w_hr is None
        steps = self.steps(xp, acts)
        # on the last backward, each step's gate gradients overwrite its used-up activations
        K = T if self.final else self.chunk_len(T, B * G)
        ring = None if self.final else xp.empty((K, B, G), dtype=acts.dtype)
        dh_new_all = xp.empty_like(hs) if w_hr is not None else None
        dh_buf = xp.empty_like(zero_h)  # each step's recurrent matmul, into one buffer
        first, dt = self.order[0], self.dt
        if steps is not None:
            gy, dh, c0, w, wr = (None if a is None else xp.ascontiguousarray(a, dtype=acts.dtype)
                                 for a in (gy, dh, self.c0, w_hh, w_hr))
            row_mask = self.row_mask(xp, acts.dtype)
            if w_hr is not None:
                draw = xp.empty_like(zero_c)
            if w_hr is not None and mask is None:  # each step's output gradient, to which
                dh_new_all[...] = 0 if gy is None else gy  # the next step adds
                dh_new_all[self.order[-1]] += dh
        for t0, t1, times in self.backward_chunks(T, K):
            dgates = acts[t0:t1] if ring is None else ring[:t1 - t0]
            if steps is not None and w_hr is not None and mask is not None:  # by pointer
                dh = steps.lstm_backward_projected_masked(
                    times, t0, first, dt, acts, dgates, cs, c0, gy, dh, dc, dh_new_all, draw,
                    dh_buf, w, wr, zero_h, zero_c, row_mask)
                times = ()  # so the array path below runs no step
            elif steps is not None and w_hr is not None:  # the whole chunk by pointer
                dh = steps.lstm_backward_projected(times, t0, first, dt, acts, dgates, cs, c0, dc,
                                                   dh_new_all, draw, dh_buf, w, wr, zero_c)
                times = ()  # so the array path below runs no step
            elif steps is not None:
                dh = steps.lstm_backward(times, t0, first, dt, acts, dgates, cs, c0, gy, dh, dc,
                                         dh_buf, w, zero_h, mask=row_mask)
                times = ()
            for t in times:
                a = acts[t]
                dg = a if ring is None else dgates[t - t0]  # in place: the same array object
                c_prev = self.c0 if t == first else cs[t - dt]
                gy_t = zero_h if gy is None else gy[t]
                if direct:
                    lstm_step_backward(xp, a, c_prev, cs[t], dh, gy_t, dc, dg, dc)
                    dh = xp.matmul(dg, w_hh, out=dh_buf)
                    continue
                dh_new, dc_new = dh + gy_t, dc
                if mask is not None:  # selected, not multiplied: a NaN or inf gradient at
                    m = mask[t]  # a padded position must not reach the weights (NaN * 0)
                    dh_new, dc_new = xp.where(m, dh_new, 0), xp.where(m, dc, 0)
                if w_hr is not None:
                    dh_new_all[t] = dh_new
                    dh_new = dh_new @ w_hr
                dc_prev = xp.empty_like(dc)
                lstm_step_backward(xp, a, c_prev, cs[t], dh_new, zero_c, dc_new, dg, dc_prev)
                dh_prev = dg @ w_hh
                if mask is not None:
                    dh_prev = dh_prev + xp.where(m, 0, dh)
                    dc_prev = dc_prev + xp.where(m, 0, dc)
                dh, dc = dh_prev, dc_prev
            self.accumulate(t0, t1, dgates, [(0, dgates, G)])
        self.dh_new_all = dh_new_all
        return [dh, dc]

    def projection_grad(self) -> Any:
        T, B, P = self.dh_new_all.shape
        return self.dh_new_all.reshape(T * B, P).T @ self.raw.reshape(T * B, self.raw.shape[-1])


class GRUSequence(_Sequence):
    """A GRU layer (one direction) over a sequence: outputs (ys, h_n)."""

    adds_b_hh_early = False

    @staticmethod
    def cell(xw: Tensor, state: Any, w_hh: Tensor, b_hh: Any, w_hr: Any) -> tuple[Any, ...]:
        from ..functional import gru_cell_projected

        return (gru_cell_projected(xw, state[0], w_hh, b_hh),)

    def loop(self, xp: Any, gi: Any, h0: Any, c0: Any, w_hh: Any, b_hh: Any, w_hr: Any,
             mask: Any) -> tuple[Any, ...]:
        T, B, G = gi.shape
        bias = b_hh if b_hh is not None else xp.zeros(G, dtype=gi.dtype)
        order, steps = self.order, self.steps(xp, gi)
        self.feature_major = steps is None and _kernel(xp, "gru_fwd") is None
        if self.feature_major:  # NumPy: the loop below, in the layout NumPy runs fastest
            return self.loop_feature_major(xp, gi, h0, w_hh, bias, mask)
        rzn = gi  # each step's r, z, n overwrite its input projection, used up by then
        ghn = xp.empty((T, B, G // 3), dtype=gi.dtype)
        hs = xp.empty((T, B, G // 3), dtype=gi.dtype)
        ys = hs if mask is None else xp.empty_like(hs)
        w_hh_t = w_hh.T
        hw = xp.empty((B, G), dtype=gi.dtype)  # each step's recurrent matmul, into one buffer
        if steps is not None:  # the whole loop by pointer (pointer_steps.py)
            h0, w, bias = (xp.ascontiguousarray(a, dtype=gi.dtype) for a in (h0, w_hh, bias))
            steps.gru_forward(order, gi, h0, w, hw, bias, ghn, hs,
                              mask=self.row_mask(xp, gi.dtype), ys=ys)
            order = ()  # so the array path below runs no step
        h = h0
        for t in order:
            h_new = hs[t] if mask is None else xp.empty_like(h0)
            g = gi[t]  # rzn is gi: one array object for input and output
            gru_step(xp, g, xp.matmul(h, w_hh_t, out=hw), bias, h, g, h_new, ghn[t])
            h = h_new if mask is None else _masked_step(xp, mask[t], h_new, h, ys, hs, t)
        self.h0, self.states, self.rzn, self.ghn = h0, hs, rzn, ghn
        return ys, hs[self.order[-1]].copy()

    def loop_feature_major(self, xp: Any, gi: Any, h0: Any, w_hh: Any, b_hh: Any, mask: Any
                           ) -> tuple[Any, Any]:
        """The forward loop on arrays (NumPy), as ``gru_step`` at every step, with the
        gates and states stored feature-major: a step's r, z and n are each one contiguous
        (H, B) block, where in (B, 3H) they are strided slices that NumPy runs about half as
        fast. The r and z rows are negated once (in the projection and a copy of W_hh: exact),
        so each σ is exp, + 1, 1 /; b_hh's r, z part joins the input projection; NumPy's
        overflow warning (exp(-a) = inf gives σ = 0, the right limit) is silenced once. With a
        mask, a finished sequence keeps its state and outputs zeros (as ``_masked_step``)."""
        T, B, G = gi.shape
        H, dt = G // 3, gi.dtype
        sign = xp.ones((G, 1), dtype=dt)
        sign[:2 * H] = -1
        b_rz = xp.concatenate([b_hh[:2 * H], xp.zeros(H, dtype=dt)])
        acts = _feature_major(self, xp, gi, sign, b_rz)  # the projection, then r, z, n
        w = xp.concatenate([-w_hh[:2 * H], w_hh[2 * H:]])
        b_hn = xp.empty((H, B), dtype=dt)
        b_hn[...] = b_hh[2 * H:, None]  # a whole block: a broadcast costs more per call
        ghn = xp.empty((T, H, B), dtype=dt)  # W_hn h + b_hn of each step, for the backward
        ys = xp.empty((T, B, H), dtype=dt)
        hs = ys if mask is None else xp.empty_like(ys)  # the state kept after each step
        off = None if mask is None else ~mask.reshape(T, B)  # steps past a sequence's end
        gh, tmp = xp.empty((G, B), dtype=dt), xp.empty((H, B), dtype=dt)
        h, states = xp.ascontiguousarray(h0.T), (xp.empty((H, B), dtype=dt), xp.empty((H, B),
                                                                                     dtype=dt))
        direct = B == 1 and off is None  # h written into the output itself (as the LSTM's)
        with np.errstate(over="ignore"):
            for k, t in enumerate(self.order):
                a, hn = acts[t], ghn[t]
                h_new = ys[t].reshape(H, 1) if direct else states[k % 2]
                xp.matmul(w, h, out=gh)
                xp.add(gh[2 * H:], b_hn, out=hn)
                rz = a[:2 * H]
                rz += gh[:2 * H]
                xp.exp(rz, out=rz)
                rz += 1
                xp.reciprocal(rz, out=rz)
                xp.multiply(a[:H], hn, out=tmp)  # r (W_hn h + b_hn)
                n = a[2 * H:]
                n += tmp
                xp.tanh(n, out=n)
                xp.subtract(h, n, out=h_new)
                h_new *= a[H:2 * H]
                h_new += n
                if not direct:
                    ys[t] = h_new.T
                if off is not None:  # a finished sequence: output 0, state kept
                    xp.copyto(ys[t], 0, where=off[t][:, None])
                    xp.copyto(h_new, h, where=off[t])
                    hs[t] = h_new.T
                h = h_new
        self.h0, self.states, self.acts, self.ghn = h0, hs, acts, ghn
        return ys, hs[self.order[-1]].copy()

    def loop_backward_feature_major(self, xp: Any, gy: Any, g_hn: Any) -> list[Any]:
        """The backward of ``loop_feature_major``. Per chunk of steps, the factors that turn
        dh (the whole gradient of a step's h) into the gradients of [gh_n, r's, z's, n's
        pre-activations] for all its steps at once, then per
        step one multiply gives those gradients and one matmul carries dh back (W_hh's rows
        taken n, r, z, to read one block); the weight gradients once per chunk, W_hh's in the
        same rotated rows (one matmul), turned back after the loop."""
        acts, ghn, ys, w_hh = self.acts, self.ghn, self.states, self.saved[2]
        T, G, B = acts.shape
        H, dt = G // 3, acts.dtype
        K = self.chunk_len(T, B * 4 * H, 32)
        P = xp.empty((K, 4 * H, B), dtype=dt)  # the factors, then the step gradients
        D = xp.empty((K, B, 4 * H), dtype=dt)  # the same, batch-major, for `accumulate`
        S = xp.empty((K, H, B), dtype=dt)
        w_t = xp.ascontiguousarray(xp.concatenate([w_hh[2 * H:], w_hh[:2 * H]]).T)
        dh = xp.zeros((H, B), dtype=dt) if g_hn is None else xp.array(g_hn.T, dtype=dt)
        tmp = xp.empty((H, B), dtype=dt)
        for t0, t1, times in self.backward_chunks(T, K):
            n = t1 - t0
            h_prev = self.before(xp, ys, self.h0[None], t0, t1)
            a, p = acts[t0:t1], P[:n]
            r, z, nn = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
            p_hn, p_r, p_z, p_n = p[:, :H], p[:, H:2 * H], p[:, 2 * H:3 * H], p[:, 3 * H:]
            xp.multiply(nn, nn, out=p_n)
            xp.subtract(1, p_n, out=p_n)
            xp.subtract(1, z, out=p_z)
            p_n *= p_z  # (1 - z)(1 - n²)
            xp.multiply(p_n, r, out=p_hn)
            xp.subtract(1, r, out=p_r)
            p_r *= p_hn
            p_r *= ghn[t0:t1]  # (1 - z)(1 - n²) r (1 - r) gh_n
            p_z *= z
            xp.subtract(h_prev.transpose(0, 2, 1), nn, out=S[:n])
            p_z *= S[:n]  # (h_prev - n) z (1 - z)
            p4 = p.reshape(n, 4, H, B)
            for t in times:
                k = t - t0
                if self.mask is not None:  # a finished sequence's step passes dh on
                    on = self.mask[t, :, 0]
                    keep = xp.where(on, 0, dh)
                    dh_t = xp.where(on, dh if gy is None else dh + gy[t].T, 0)
                    p4[k] *= dh_t
                    xp.multiply(dh_t, acts[t, H:2 * H], out=dh)
                    dh += keep
                else:
                    if gy is not None:
                        dh += gy[t].T
                    p4[k] *= dh
                    dh *= acts[t, H:2 * H]
                xp.matmul(w_t, p[k, :3 * H], out=tmp)
                dh += tmp
            d = D[:n]
            d[...] = p.transpose(0, 2, 1)
            # gh_n, r, z: the gradient of W_hh h + b_hh, in W_hh's rows rotated (n, r, z);
            # r, z, n: the input projection's
            self.accumulate(t0, t1, d[..., H:], [(0, d[..., :3 * H], 3 * H)])
        # the rows of W_hh's and b_hh's gradients back from n, r, z to r, z, n
        self.dw_hh, self.db_hh = xp.roll(self.dw_hh, -H, axis=0), xp.roll(self.db_hh, -H)
        return [xp.ascontiguousarray(dh.T)]

    def loop_backward(self, xp: Any, gy: Any, g_hn: Any) -> list[Any]:
        if self.feature_major:
            return self.loop_backward_feature_major(xp, gy, g_hn)
        hs, rzn, ghn, mask, w_hh = self.states, self.rzn, self.ghn, self.mask, self.saved[2]
        T, B, G = rzn.shape
        H = G // 3
        zero = xp.zeros_like(hs[0])
        dh = zero if g_hn is None else g_hn
        steps = self.steps(xp, rzn)
        # on the last backward, each step's dgi overwrites its used-up r, z, n, and the n block
        # of its dgh (the r and z blocks equal dgi's) overwrites its gh_n
        K = T if self.final else self.chunk_len(T, B * 4 * H)
        if not self.final:
            ring_i = xp.empty((K, B, G), dtype=rzn.dtype)
            ring_n = xp.empty((K, B, H), dtype=rzn.dtype)
        dgh = xp.empty((B, G), dtype=rzn.dtype)  # one step's, for the recurrent matmul
        # without a mask, dh stays in two parts, the recurrent matmul's and the direct path's,
        # which the next kernel adds: no separate add per step
        dh_dir = zero.copy()
        dh_buf = xp.empty_like(zero)  # each step's recurrent matmul, into one buffer
        first, dt = self.order[0], self.dt
        if steps is not None:
            gy, dh, h0, w = (None if a is None else xp.ascontiguousarray(a, dtype=rzn.dtype)
                             for a in (gy, dh, self.h0, w_hh))
            row_mask = self.row_mask(xp, rzn.dtype)
        for t0, t1, times in self.backward_chunks(T, K):
            dgi = rzn[t0:t1] if self.final else ring_i[:t1 - t0]
            dghn = ghn[t0:t1] if self.final else ring_n[:t1 - t0]
            if steps is not None:  # the whole chunk by pointer (pointer_steps.py)
                dh = steps.gru_backward(times, t0, first, dt, rzn, ghn, dgi, dghn, dgh, hs, h0, gy,
                                        dh, dh_dir, dh_buf, w, zero, mask=row_mask)
                times = ()  # so the array path below runs no step
            for t in times:
                r_t, n_t = rzn[t], ghn[t]  # in place: pass the same array objects as outputs
                dgi_t, dghn_t = (r_t, n_t) if self.final else (dgi[t - t0], dghn[t - t0])
                h_prev = self.h0 if t == first else hs[t - dt]
                gy_t = zero if gy is None else gy[t]
                if mask is None:
                    gru_step_backward(xp, r_t, n_t, h_prev, dh, dh_dir, gy_t, dgi_t, dgh, dghn_t,
                                      dh_dir)
                    dh = xp.matmul(dgh, w_hh, out=dh_buf)
                else:
                    m = mask[t]
                    dh_prev = xp.empty_like(zero)
                    gru_step_backward(xp, r_t, n_t, h_prev, xp.where(m, dh + gy_t, 0), zero,
                                      zero, dgi_t, dgh, dghn_t, dh_prev)
                    dh_prev += dgh @ w_hh + xp.where(m, 0, dh)
                    dh = dh_prev
            # dW_hh's r and z rows from dgi's r and z blocks: the whole of dgi goes into the
            # matmul (a column slice is a strided matrix, which cuBLAS would copy) and the n
            # rows it gives are dropped
            self.accumulate(t0, t1, dgi, [(0, dgi, 2 * H), (2 * H, dghn, H)])
        return [dh + dh_dir if mask is None else dh]


class RNNSequence(_Sequence):
    """An Elman RNN layer (one direction) over a sequence: outputs (ys, h_n). The keyword
    ``nonlinearity`` is "tanh" or "relu"."""

    def forward(self, *arrays: Any, nonlinearity: str = "tanh", **kwargs: Any) -> tuple[Any, ...]:
        self.relu = nonlinearity == "relu"
        return super().forward(*arrays, **kwargs)

    def cell(self, xw: Tensor, state: Any, w_hh: Tensor, b_hh: Any, w_hr: Any
             ) -> tuple[Any, ...]:
        from ..functional import rnn_cell_projected

        return (rnn_cell_projected(xw, state[0], w_hh, b_hh, "relu" if self.relu else "tanh"),)

    def loop(self, xp: Any, xw: Any, h0: Any, c0: Any, w_hh: Any, b_hh: Any, w_hr: Any,
             mask: Any) -> tuple[Any, ...]:
        new = xw  # the h_new of every step, written over its used-up input projection
        hs = new if mask is None else xp.empty_like(new)  # the state after each step
        ys = hs if mask is None else xp.empty_like(hs)
        # W_hhᵀ copied once, contiguous: OpenBLAS runs h @ W_hhᵀ on a transposed view 1.2-3.7x
        # slower than on a contiguous copy at a step's sizes (a few rows of h)
        w_hh_t = xp.ascontiguousarray(w_hh.T)
        hw = xp.empty(h0.shape, dtype=xw.dtype)  # each step's recurrent matmul, one buffer
        order, steps = self.order, self.steps(xp, xw)
        if steps is not None:  # the whole loop by pointer (pointer_steps.py)
            h0, w = (xp.ascontiguousarray(a, dtype=xw.dtype) for a in (h0, w_hh))
            steps.rnn_forward(order, xw, h0, w, hw, self.relu, hs,
                              mask=self.row_mask(xp, xw.dtype), ys=ys)
            order = ()  # so the array path below runs no step
        h = h0
        if mask is None and not self.relu and _kernel(xp, "rnn_fwd") is None:
            for t in order:  # rnn_step written out: three calls a step, nothing else
                a = xw[t]
                a += xp.matmul(h, w_hh_t, out=hw)
                h = xp.tanh(a, out=a)
            order = ()
        for t in order:
            a = xw[t]  # new is xw: one array object for input and output
            rnn_step(xp, a, xp.matmul(h, w_hh_t, out=hw), self.relu, a)
            h = a if mask is None else _masked_step(xp, mask[t], a, h, ys, hs, t)
        self.h0, self.states, self.new = h0, hs, new
        return ys, hs[self.order[-1]].copy()

    def loop_backward(self, xp: Any, gy: Any, g_hn: Any) -> list[Any]:
        hs, new, mask, w_hh = self.states, self.new, self.mask, self.saved[2]
        T, B, H = hs.shape
        zero = xp.zeros_like(hs[0])
        dh = zero if g_hn is None else g_hn
        # the saved states are the layer's output, which the caller may hold: the step
        # gradients go to a buffer of K steps instead
        K = self.chunk_len(T, B * H)
        ring = xp.empty((K, B, H), dtype=hs.dtype)
        dh_buf = xp.empty_like(zero)  # each step's recurrent matmul, into one buffer
        steps = self.steps(xp, hs)
        if steps is not None:
            gy, dh, w = (None if a is None else xp.ascontiguousarray(a, dtype=hs.dtype)
                         for a in (gy, dh, w_hh))
            row_mask = self.row_mask(xp, hs.dtype)
        # the array path of a tanh RNN without a mask: tanh's slope 1 - h² for a whole chunk of
        # steps at once, then a multiply and a matmul per step (a relu keeps its select)
        by_chunk = (mask is None and not self.relu and steps is None
                    and _kernel(xp, "rnn_bwd") is None)
        if by_chunk:
            dh = xp.array(dh, dtype=hs.dtype, order="C")  # updated in place
        for t0, t1, times in self.backward_chunks(T, K):
            dpre = ring[:t1 - t0]
            if steps is not None:  # the whole chunk by pointer (pointer_steps.py)
                dh = steps.rnn_backward(times, t0, new, dpre, gy, dh, dh_buf, w, self.relu, zero,
                                        mask=row_mask)
                times = ()  # so the array path below runs no step
            elif by_chunk:
                y = new[t0:t1]
                xp.multiply(y, y, out=dpre)
                xp.subtract(1, dpre, out=dpre)
                for t in times:
                    if gy is not None:
                        dh += gy[t]
                    d = dpre[t - t0]
                    d *= dh
                    xp.matmul(d, w_hh, out=dh)
                times = ()
            for t in times:
                d = dpre[t - t0]
                gy_t = zero if gy is None else gy[t]
                if mask is None:
                    rnn_step_backward(xp, dh, gy_t, new[t], self.relu, d)
                    dh = xp.matmul(d, w_hh, out=dh_buf)
                else:
                    m = mask[t]
                    rnn_step_backward(xp, xp.where(m, dh + gy_t, 0), zero, new[t], self.relu, d)
                    dh = d @ w_hh + xp.where(m, 0, dh)
            self.accumulate(t0, t1, dpre, [(0, dpre, H)])
        return [dh]

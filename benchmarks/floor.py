"""The practical floor for NumPy code: a hand-written forward + backward of one recurrent layer,
with no framework at all. All input projections are one matmul, each step is one matmul plus
the gate math, and the weight gradients are one matmul each after the backward loop.

Each function takes x (T, B, I), h0 (B, H) (and c0), the weights in PyTorch's layout and an
upstream gradient for the outputs, and returns the outputs and the gradients of x and of every
weight: the same work a framework does for ``out.backward(gy)``.

Tuned for NumPy's per-call cost, which is what a small step pays for:

- every step writes into preallocated buffers (``out=`` and in-place ufuncs), no temporaries;
- the LSTM and GRU keep their states and gates feature-major, (T, H, B) and (T, 4H, B), so
  that each gate of a step is a contiguous block: a NumPy call on a non-contiguous 2-D view
  goes through the general iterator, which costs more than the arithmetic at these sizes. The
  cost is a transposing copy of the input projections, of gy, of the gate gradients and of
  the outputs, one pass each (the RNN's step takes whole rows, so it stays batch-major);
- the gates are reordered once, outside the loops (LSTM o, i, f, g; the GRU's backward n, r, z),
  so that each kind of gate math is one call on one contiguous block, and the rows of the
  weight gradients are put back in PyTorch's order at the end;
- the sigmoid is the accurate 1 / (1 + exp(-a)) (as PyTorch computes it; 0.5 tanh(a/2) + 0.5
  loses relative accuracy for negative a). Its -a comes from negated weight rows, exact in
  floating point, so it costs exp, add, reciprocal and no negation;
- in the backward, every factor that does not depend on the incoming dh (and dc) is computed
  for all steps at once before the reverse loop, so the loop does 3 (RNN) to 6 (LSTM) calls per
  step, and the gate gradients are written over those factors.

Works with NumPy and CuPy (``xp`` is taken from x), untuned on CuPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _xp(a: Any) -> Any:
    if type(a).__module__.startswith("cupy"):
        import cupy

        return cupy
    return np


def _rotate(xp: Any, a: Any, k: int) -> Any:
    """a's rows (or elements) rotated by k, as ``xp.roll(a, k, 0)`` (a sixth of its cost)."""
    return xp.concatenate((a[-k:], a[:-k]))


def _feature_major(xp: Any, a: Any) -> Any:
    """(T, B, K) -> a contiguous (T, K, B) copy: each step's state, gate or gradient a
    contiguous block, whichever rows of it a call takes."""
    return xp.ascontiguousarray(a.transpose(0, 2, 1))


def lstm(x, h0, c0, w_ih, w_hh, b_ih, b_hh, gy):  # noqa: ANN001, ANN201
    """c' = f c + i g, h' = o tanh(c'), with i, f, o = s(.) and g = tanh(.) of
    W_ih x + b_ih + W_hh h + b_hh. Inside, the gates are in the order o, i, f, g (PyTorch's
    i, f, g, o rotated by H): the sigmoid gates o, i, f are one block forward, and i, f, g
    (the ones that dc scales) one block backward."""
    xp = _xp(x)
    T, B, I = x.shape
    H = h0.shape[1]
    dt = x.dtype
    sign = xp.ones((4 * H, 1), dt)
    sign[:3 * H] = -1  # sigmoid rows negated: their preactivations come out as -a
    w_ih_r, w_hh_r = _rotate(xp, w_ih, H), _rotate(xp, w_hh, H)
    w_hh_s = w_hh_r * sign
    x2 = x.reshape(T * B, I)
    xw = (x2 @ (w_ih_r * sign).T).reshape(T, B, 4 * H)
    A = xp.empty((T, 4 * H, B), dt)  # preactivations, then the activations o, i, f, g
    xp.add(xw.transpose(0, 2, 1), _rotate(xp, b_ih + b_hh, H)[:, None] * sign, out=A)
    del xw
    S, O, I_, F, G = (A[:, :3 * H], A[:, :H], A[:, H:2 * H], A[:, 2 * H:3 * H], A[:, 3 * H:])
    hs = xp.empty((T + 1, H, B), dt)
    cs = xp.empty((T + 1, H, B), dt)
    tcs = xp.empty((T, H, B), dt)  # tanh(c), kept for the backward
    hs[0], cs[0] = h0.T, c0.T
    hw = xp.empty((4 * H, B), dt)
    tmp = xp.empty((H, B), dt)
    with np.errstate(over="ignore"):
        for t in range(T):
            a = A[t]
            xp.matmul(w_hh_s, hs[t], out=hw)
            a += hw
            s = S[t]  # 1 / (1 + exp(-a)) of the sigmoid gates, -a being what s holds
            xp.exp(s, out=s)
            s += 1
            xp.reciprocal(s, out=s)
            g = G[t]
            xp.tanh(g, out=g)
            c, tc = cs[t + 1], tcs[t]
            xp.multiply(F[t], cs[t], out=c)
            xp.multiply(I_[t], g, out=tmp)
            c += tmp
            xp.tanh(c, out=tc)
            xp.multiply(O[t], tc, out=hs[t + 1])

    # the backward's factors for all steps, [q, po, pi, pf, pg]: with dh and dc the total
    # gradients of a step's h and c, dc += dh q; do = dh po; [di, df, dg] = dc [pi, pf, pg]
    P = xp.empty((T, 5 * H, B), dt)
    Q, Po, Pi, Pf, Pg = (P[:, k * H:(k + 1) * H] for k in range(5))
    xp.multiply(tcs, tcs, out=Q)
    xp.subtract(1, Q, out=Q)
    Q *= O  # o (1 - tanh(c)^2)
    xp.subtract(1, O, out=Po)
    Po *= O
    Po *= tcs  # tanh(c) o (1 - o)
    xp.subtract(1, I_, out=Pi)
    Pi *= I_
    Pi *= G  # g i (1 - i)
    xp.subtract(1, F, out=Pf)
    Pf *= F
    Pf *= cs[:-1]  # c_prev f (1 - f)
    xp.multiply(G, G, out=Pg)
    xp.subtract(1, Pg, out=Pg)
    Pg *= I_  # i (1 - g^2)
    P5 = P.reshape(T, 5, H, B)
    Pqo, Pifg = P5[:, :2], P5[:, 2:]
    DA = P[:, H:]  # o, i, f, g: the gate gradients, written over their factors
    gyT = _feature_major(xp, gy)
    w_hh_rT = w_hh_r.T
    dh = xp.zeros((H, B), dt)
    dc = xp.zeros((H, B), dt)
    for t in range(T - 1, -1, -1):
        dh += gyT[t]
        qo = Pqo[t]
        xp.multiply(qo, dh, out=qo)  # dh q, do
        dc += Q[t]
        ifg = Pifg[t]
        xp.multiply(ifg, dc, out=ifg)  # di, df, dg
        xp.matmul(w_hh_rT, DA[t], out=dh)
        dc *= F[t]
    da = A.reshape(4 * H, T, B)  # A is used up: the gate gradients, all steps, in its place
    da[...] = DA.transpose(1, 0, 2)
    da = da.reshape(4 * H, T * B)
    hs = xp.ascontiguousarray(hs.transpose(0, 2, 1))  # (T + 1, B, H)
    dx = (da.T @ w_ih_r).reshape(T, B, I)
    dw_ih = _rotate(xp, da @ x2, -H)
    dw_hh = _rotate(xp, da @ hs[:-1].reshape(T * B, H), -H)
    db = _rotate(xp, da.sum(1), -H)
    return hs[1:], dx, dw_ih, dw_hh, db, db


def gru(x, h0, w_ih, w_hh, b_ih, b_hh, gy):  # noqa: ANN001, ANN201
    """r = s(W_ir x + b_ir + W_hr h + b_hr), z likewise, n = tanh(W_in x + b_in + r hn) with
    hn = W_hn h + b_hn, h' = n + z (h - n). The backward's gradient block is [hn, r, z, n]:
    its first three (n, r, z: the rows of W_hh rotated by H) are the gradient of W_hh h + b_hh,
    its last three (r, z, n) the gradient of W_ih x + b_ih."""
    xp = _xp(x)
    T, B, I = x.shape
    H = h0.shape[1]
    dt = x.dtype
    sign = xp.ones((3 * H, 1), dt)
    sign[:2 * H] = -1  # sigmoid rows negated: their preactivations come out as -a
    b = b_ih.copy()
    b[:2 * H] += b_hh[:2 * H]
    b_hn = xp.empty((H, B), dt)
    b_hn[...] = b_hh[2 * H:, None]  # as a whole block: a broadcast costs a call more time
    w_hh_s = w_hh * sign
    x2 = x.reshape(T * B, I)
    xw = (x2 @ (w_ih * sign).T).reshape(T, B, 3 * H)
    A = xp.empty((T, 3 * H, B), dt)  # preactivations of W_ih x + b, then r, z, n
    xp.add(xw.transpose(0, 2, 1), b[:, None] * sign, out=A)
    del xw
    RZ, R, Z, N = A[:, :2 * H], A[:, :H], A[:, H:2 * H], A[:, 2 * H:]
    hs = xp.empty((T + 1, H, B), dt)
    hs[0] = h0.T
    HN = xp.empty((T, H, B), dt)  # W_hn h + b_hn, kept for the backward
    gh = xp.empty((3 * H, B), dt)
    gh_rz, gh_n = gh[:2 * H], gh[2 * H:]
    tmp = xp.empty((H, B), dt)
    with np.errstate(over="ignore"):
        for t in range(T):
            xp.matmul(w_hh_s, hs[t], out=gh)
            hn, rz, n, h = HN[t], RZ[t], N[t], hs[t + 1]
            xp.add(gh_n, b_hn, out=hn)
            rz += gh_rz  # 1 / (1 + exp(-a)), -a being what rz holds
            xp.exp(rz, out=rz)
            rz += 1
            xp.reciprocal(rz, out=rz)
            xp.multiply(R[t], hn, out=tmp)
            n += tmp
            xp.tanh(n, out=n)
            xp.subtract(hs[t], n, out=h)
            h *= Z[t]
            h += n

    # the backward's factors for all steps, [phn, pr, pz, pn]: with dh the total gradient of a
    # step's h, the gradients of hn, of r's and z's preactivations and of n's are dh times them
    P = xp.empty((T, 4 * H, B), dt)
    Phn, Pr, Pz, Pn = (P[:, k * H:(k + 1) * H] for k in range(4))
    xp.multiply(N, N, out=Pn)
    xp.subtract(1, Pn, out=Pn)
    xp.subtract(1, Z, out=Pz)
    Pn *= Pz  # (1 - z)(1 - n^2)
    xp.multiply(Pn, R, out=Phn)  # (1 - z)(1 - n^2) r
    xp.subtract(1, R, out=Pr)
    Pr *= Phn
    Pr *= HN  # (1 - z)(1 - n^2) hn r (1 - r)
    Pz *= Z
    xp.subtract(hs[:-1], N, out=R)  # r is used up: h_prev - n in its place
    Pz *= R  # (h_prev - n) z (1 - z)
    P4 = P.reshape(T, 4, H, B)
    DH = P[:, :3 * H]  # the gradient of W_hh h + b_hh, rows n, r, z
    gyT = _feature_major(xp, gy)
    w_hh_rT = _rotate(xp, w_hh, H).T  # rows n, r, z
    dh = xp.zeros((H, B), dt)
    for t in range(T - 1, -1, -1):
        dh += gyT[t]
        d = P4[t]
        xp.multiply(d, dh, out=d)
        dh *= Z[t]
        xp.matmul(w_hh_rT, DH[t], out=tmp)
        dh += tmp
    d = xp.ascontiguousarray(P.transpose(1, 0, 2)).reshape(4 * H, T * B)
    dgh, dgi = d[:3 * H], d[H:]
    hs = xp.ascontiguousarray(hs.transpose(0, 2, 1))  # (T + 1, B, H)
    dx = (dgi.T @ w_ih).reshape(T, B, I)
    dw_ih = dgi @ x2
    dw_hh = _rotate(xp, dgh @ hs[:-1].reshape(T * B, H), -H)
    db = d.sum(1)
    return hs[1:], dx, dw_ih, dw_hh, db[H:], _rotate(xp, db[:3 * H], -H)


def rnn(x, h0, w_ih, w_hh, b_ih, b_hh, gy):  # noqa: ANN001, ANN201
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh)."""
    xp = _xp(x)
    T, B, I = x.shape
    H = h0.shape[1]
    x2 = x.reshape(T * B, I)
    xw = x2 @ w_ih.T
    xw += b_ih + b_hh
    xw = xw.reshape(T, B, H)
    hs = xp.empty((T + 1, B, H), x.dtype)
    hs[0] = h0
    w_hh_T = xp.ascontiguousarray(w_hh.T)  # a transposed view is slower (BLAS, few rows)
    for t in range(T):
        h = hs[t + 1]
        xp.matmul(hs[t], w_hh_T, out=h)
        h += xw[t]
        xp.tanh(h, out=h)
    dp = xw  # used up: 1 - h^2 in its place, then the preactivations' gradients over that
    xp.multiply(hs[1:], hs[1:], out=dp)
    xp.subtract(1, dp, out=dp)
    dh = xp.zeros((B, H), x.dtype)
    for t in range(T - 1, -1, -1):
        dh += gy[t]
        d = dp[t]
        d *= dh
        xp.matmul(d, w_hh, out=dh)
    dp2 = dp.reshape(T * B, H)
    dx = (dp2 @ w_ih).reshape(T, B, I)
    db = dp2.sum(0)
    return hs[1:], dx, dp2.T @ x2, dp2.T @ hs[:-1].reshape(T * B, H), db, db

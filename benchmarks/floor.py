"""The practical floor for NumPy code: a hand-written forward + backward of one recurrent layer,
with no framework at all. All input projections are one matmul, each step is one matmul plus
the gate math, and the weight gradients are one matmul each after the backward loop.

Each function takes x (T, B, I), h0 (B, H) (and c0), the weights in PyTorch's layout and an
upstream gradient for the outputs, and returns the outputs and the gradients of x and of every
weight: the same work a framework does for ``out.backward(gy)``. Works with NumPy and CuPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _xp(a: Any) -> Any:
    if type(a).__module__.startswith("cupy"):
        import cupy

        return cupy
    import numpy

    return numpy


def sigmoid(xp: Any, x: Any) -> Any:
    """1 / (1 + exp(-x)), accurate everywhere as PyTorch's (an overflow to inf gives 0)."""
    with np.errstate(over="ignore"):
        e = xp.exp(-x)
    e += 1
    return 1 / e


def lstm(x, h0, c0, w_ih, w_hh, b_ih, b_hh, gy):  # noqa: ANN001, ANN201
    xp = _xp(x)
    T, B, I = x.shape
    H = h0.shape[1]
    xw = (x.reshape(T * B, I) @ w_ih.T + (b_ih + b_hh)).reshape(T, B, 4 * H)
    hs = xp.empty((T + 1, B, H), x.dtype)
    cs = xp.empty((T + 1, B, H), x.dtype)
    ifgo = xp.empty((T, B, 4 * H), x.dtype)
    hs[0], cs[0] = h0, c0
    for t in range(T):
        a = xw[t] + hs[t] @ w_hh.T
        s = sigmoid(xp, a)
        s[:, 2 * H:3 * H] = xp.tanh(a[:, 2 * H:3 * H])
        ifgo[t] = s
        cs[t + 1] = s[:, H:2 * H] * cs[t] + s[:, :H] * s[:, 2 * H:3 * H]
        hs[t + 1] = s[:, 3 * H:] * xp.tanh(cs[t + 1])
    dh = xp.zeros((B, H), x.dtype)
    dc = xp.zeros((B, H), x.dtype)
    da = xp.empty_like(ifgo)
    for t in range(T - 1, -1, -1):
        s = ifgo[t]
        i, f, g, o = s[:, :H], s[:, H:2 * H], s[:, 2 * H:3 * H], s[:, 3 * H:]
        dh = dh + gy[t]
        tc = xp.tanh(cs[t + 1])
        dc = dc + dh * o * (1 - tc * tc)
        da[t, :, :H] = dc * g * i * (1 - i)
        da[t, :, H:2 * H] = dc * cs[t] * f * (1 - f)
        da[t, :, 2 * H:3 * H] = dc * i * (1 - g * g)
        da[t, :, 3 * H:] = dh * tc * o * (1 - o)
        dh = da[t] @ w_hh
        dc = dc * f
    da2 = da.reshape(T * B, 4 * H)
    dx = (da2 @ w_ih).reshape(T, B, I)
    dw_ih = da2.T @ x.reshape(T * B, I)
    dw_hh = da2.T @ hs[:-1].reshape(T * B, H)
    db = da2.sum(0)
    return hs[1:], dx, dw_ih, dw_hh, db, db


def gru(x, h0, w_ih, w_hh, b_ih, b_hh, gy):  # noqa: ANN001, ANN201
    xp = _xp(x)
    T, B, I = x.shape
    H = h0.shape[1]
    gi = (x.reshape(T * B, I) @ w_ih.T + b_ih).reshape(T, B, 3 * H)
    hs = xp.empty((T + 1, B, H), x.dtype)
    rzn = xp.empty((T, B, 3 * H), x.dtype)
    ghn = xp.empty((T, B, H), x.dtype)
    hs[0] = h0
    for t in range(T):
        gh = hs[t] @ w_hh.T + b_hh
        rz = sigmoid(xp, gi[t, :, :2 * H] + gh[:, :2 * H])
        n = xp.tanh(gi[t, :, 2 * H:] + rz[:, :H] * gh[:, 2 * H:])
        rzn[t, :, :2 * H], rzn[t, :, 2 * H:], ghn[t] = rz, n, gh[:, 2 * H:]
        hs[t + 1] = (1 - rz[:, H:]) * n + rz[:, H:] * hs[t]
    dh = xp.zeros((B, H), x.dtype)
    dgi = xp.empty_like(rzn)
    dgh = xp.empty_like(rzn)
    for t in range(T - 1, -1, -1):
        r, z, n = rzn[t, :, :H], rzn[t, :, H:2 * H], rzn[t, :, 2 * H:]
        dh = dh + gy[t]
        dn = dh * (1 - z) * (1 - n * n)
        dz = dh * (hs[t] - n) * z * (1 - z)
        dr = dn * ghn[t] * r * (1 - r)
        dgi[t, :, :H], dgi[t, :, H:2 * H], dgi[t, :, 2 * H:] = dr, dz, dn
        dgh[t, :, :H], dgh[t, :, H:2 * H], dgh[t, :, 2 * H:] = dr, dz, dn * r
        dh = dh * z + dgh[t] @ w_hh
    dgi2, dgh2 = dgi.reshape(T * B, 3 * H), dgh.reshape(T * B, 3 * H)
    dx = (dgi2 @ w_ih).reshape(T, B, I)
    return (hs[1:], dx, dgi2.T @ x.reshape(T * B, I), dgh2.T @ hs[:-1].reshape(T * B, H),
            dgi2.sum(0), dgh2.sum(0))


def rnn(x, h0, w_ih, w_hh, b_ih, b_hh, gy):  # noqa: ANN001, ANN201
    xp = _xp(x)
    T, B, I = x.shape
    H = h0.shape[1]
    xw = (x.reshape(T * B, I) @ w_ih.T + (b_ih + b_hh)).reshape(T, B, H)
    hs = xp.empty((T + 1, B, H), x.dtype)
    hs[0] = h0
    for t in range(T):
        hs[t + 1] = xp.tanh(xw[t] + hs[t] @ w_hh.T)
    dh = xp.zeros((B, H), x.dtype)
    dp = xp.empty((T, B, H), x.dtype)
    for t in range(T - 1, -1, -1):
        dh = dh + gy[t]
        dp[t] = dh * (1 - hs[t + 1] * hs[t + 1])
        dh = dp[t] @ w_hh
    dp2 = dp.reshape(T * B, H)
    dx = (dp2 @ w_ih).reshape(T, B, I)
    db = dp2.sum(0)
    return hs[1:], dx, dp2.T @ x.reshape(T * B, I), dp2.T @ hs[:-1].reshape(T * B, H), db, db

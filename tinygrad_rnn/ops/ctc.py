"""Connectionist temporal classification (CTC): the loss of an unsegmented label sequence
given per-step class log-probabilities, summed over every alignment (Graves et al., 2006).

For one sequence: log-probabilities ``lp`` of shape (T, C), a target ``l`` of S labels, and
the extended target ``l'`` of length L = 2S + 1 (a blank before, between and after the
labels). An alignment is a path through ``l'`` that starts at position 0 or 1, ends at L - 1
or L - 2, and at each step stays, moves one on, or skips a blank between two different
labels. In log space (⊕ = logaddexp):

    α[0, 0] = lp[0, blank],   α[0, 1] = lp[0, l'1]
    α[t, s] = (α[t-1, s] ⊕ α[t-1, s-1] ⊕ α[t-1, s-2] if l's ≠ blank and l's ≠ l's-2)
              + lp[t, l's]
    loss = -(α[T-1, L-1] ⊕ α[T-1, L-2])

and β, the same from the end (including the step's own lp). The derivative of the loss for
``lp[t, c]`` is ``-exp(⊕_{s: l's = c} (α[t, s] + β[t, s]) - lp[t, c] + loss)``: minus the
share of all alignments' probability that passes through class c at step t.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Function

_NEG = -np.inf


class CTC(Function):
    """Per-sequence CTC losses, shape (N,), of ``lp`` (T, N, C) log-probabilities.

    ``ext`` (N, L): the extended targets (blanks interleaved), ``ext_len`` (N,) their lengths
    2·S + 1, ``in_len`` (N,) the steps of each sequence; ``zero_infinity``: an impossible
    alignment (too few steps) gives loss 0 and gradient 0 instead of inf (and gradient NaN).

    VJP: glp[t, n, c] = gy[n] · -exp(⊕_{s: ext[n, s] = c} (α + β)[t, n, s] - lp[t, n, c]
    + loss[n]) for t < in_len[n], else 0. Saves α, β (T, N, L) and the losses. Its backward
    works on arrays: ``create_graph=True`` through it is refused.
    """

    differentiable_backward = False

    def forward(self, lp: Any, ext: Any, ext_len: Any, in_len: Any, blank: int,
                zero_infinity: bool) -> Any:
        xp = self.xp
        T, N, C = lp.shape
        L = ext.shape[1]
        rows = xp.arange(N)[:, None]
        emit = lp[:, rows, ext]  # (T, N, L): lp of each extended position's class
        pos = xp.arange(L)[None, :]
        valid = pos < ext_len[:, None]  # (N, L)
        # a skip over a blank into s: s is a label, and differs from the label two back
        skip = (ext != blank) & (pos >= 2)
        skip[:, 2:] &= ext[:, 2:] != ext[:, :-2]
        alpha = xp.full((T, N, L), _NEG, dtype=lp.dtype)
        start = xp.full((N, L), _NEG, dtype=lp.dtype)
        start[:, :2] = 0.0
        a = xp.where(valid, start + emit[0], _NEG)
        alpha[0] = a
        for t in range(1, T):
            prev = xp.logaddexp(a, _shift(xp, a, 1))
            prev = xp.where(skip, xp.logaddexp(prev, _shift(xp, a, 2)), prev)
            a = xp.where(valid, prev + emit[t], _NEG)
            alpha[t] = a
        last = xp.clip(in_len - 1, 0, T - 1)
        end = alpha[last, xp.arange(N)]  # (N, L): α at each sequence's last step
        i1 = xp.clip(ext_len - 1, 0, L - 1)[:, None]
        i2 = xp.clip(ext_len - 2, 0, L - 1)[:, None]
        two = ext_len >= 2
        ll = xp.where(two, xp.logaddexp(xp.take_along_axis(end, i1, 1)[:, 0],
                                        xp.take_along_axis(end, i2, 1)[:, 0]),
                      xp.take_along_axis(end, i1, 1)[:, 0])
        ll = xp.where(in_len > 0, ll, _NEG)
        loss = -ll
        self.inf = ~xp.isfinite(loss)
        if zero_infinity:
            loss = xp.where(self.inf, xp.zeros_like(loss), loss)
        self.saved = (alpha,)
        self.lp, self.ext, self.ext_len, self.in_len, self.skip, self.valid = (
            lp, ext, ext_len, in_len, skip, valid)
        self.loss, self.zero_infinity = loss, zero_infinity
        return loss

    def backward(self, gy: Any) -> Any:
        xp = self.xp
        (alpha,) = self.saved
        lp, ext, ext_len, in_len = self.lp, self.ext, self.ext_len, self.in_len
        T, N, C = lp.shape
        L = ext.shape[1]
        rows = xp.arange(N)[:, None]
        emit = lp[:, rows, ext]
        pos = xp.arange(L)[None, :]
        end_ok = (pos == ext_len[:, None] - 1) | (pos == ext_len[:, None] - 2)
        # the skip out of s into s + 2: as the skip into s + 2
        skip_from = xp.zeros_like(self.skip)
        skip_from[:, :-2] = self.skip[:, 2:]
        beta = xp.full((T, N, L), _NEG, dtype=lp.dtype)
        b = xp.full((N, L), _NEG, dtype=lp.dtype)
        for t in range(T - 1, -1, -1):
            nxt = xp.logaddexp(b, _shift(xp, b, -1))
            nxt = xp.where(skip_from, xp.logaddexp(nxt, _shift(xp, b, -2)), nxt)
            first = (t == in_len - 1)[:, None]  # the last step of that sequence: its end
            b = xp.where(first, xp.where(end_ok, 0.0, _NEG), nxt)
            b = xp.where(self.valid & (t < in_len)[:, None], b + emit[t], _NEG)
            beta[t] = b
        ab = alpha + beta  # the paths through (t, s), lp[t, l's] counted twice
        lcab = xp.full((T, N, C), _NEG, dtype=lp.dtype)
        for s in range(L):  # ⊕ over the positions of each class
            c = ext[:, s]
            cur = lcab[:, xp.arange(N), c]
            lcab[:, xp.arange(N), c] = xp.logaddexp(cur, ab[:, :, s])
        with np.errstate(invalid="ignore", over="ignore"):
            g = -xp.exp(lcab - lp + self.loss[None, :, None])
        live = (xp.arange(T)[:, None] < in_len[None, :])[:, :, None]
        g = xp.where(live & xp.isfinite(g), g, 0.0)
        # an impossible alignment: gradient 0 with zero_infinity, else NaN on its steps, as
        # PyTorch's (an infinite loss has no gradient)
        if self.zero_infinity:
            g = xp.where(self.inf[None, :, None], 0.0, g)
        else:
            g = xp.where(self.inf[None, :, None] & live, np.nan, g)
        return (g * gy[None, :, None]).astype(lp.dtype, copy=False)


def _shift(xp: Any, a: Any, k: int) -> Any:
    """``a`` moved k places along its last axis (right for k > 0), filled with -inf."""
    out = xp.full(a.shape, _NEG, dtype=a.dtype)
    if k > 0:
        out[:, k:] = a[:, :-k]
    else:
        out[:, :k] = a[:, -k:]
    return out

"""A linear layer and softmax cross-entropy as one op that makes the logits of a few rows at a
time: for x (N, I) and a class count C much larger than I (a language model's vocabulary),
the (N, C) logits are the largest array of the loss, and here at most (chunk, C) of them
exist at once, in the forward and again in the backward."""

from __future__ import annotations

from typing import Any

from ..tensor import Function


def _rows(n: int, chunk: int) -> list[slice]:
    return [slice(a, min(a + chunk, n)) for a in range(0, n, chunk)]


class LinearCrossEntropy(Function):
    """Per-row losses of z = x Wᵀ + b (x (N, I), W (C, I), b (C,) optional) against class
    indices t (N,): ``ℓ_n = w_n (logsumexp_c z_nc - z_{n t_n})``, with w_n the row's class
    weight (1 without one; 0 where t_n is ``ignore_index``), ``chunk`` rows at a time.

    VJP: with g_n the upstream gradient of ℓ_n, ``gz_nc = g_n w_n (softmax(z_n)_c -
    [c = t_n])``, then ``gx = gz W``, ``gW = gzᵀ x``, ``gb = Σ_n gz_n``, the logits of each
    chunk made again from x, W, b and the saved logsumexp of each row. Saves x, W, b, and per
    row the target, its weight and its logsumexp. Its backward works on arrays:
    ``create_graph=True`` through it is refused."""

    differentiable_backward = False

    def forward(self, x: Any, W: Any, *b: Any, target: Any, weight: Any, ignore_index: int,
                chunk: int) -> Any:
        xp = self.xp
        keep = target != ignore_index
        t = xp.where(keep, target, 0)
        w = keep.astype(x.dtype) if weight is None else xp.where(keep, weight[t], 0)
        lse, loss = xp.empty(len(x), dtype=x.dtype), xp.empty(len(x), dtype=x.dtype)
        for r in _rows(len(x), chunk):
            z = x[r] @ W.T + (b[0] if b else 0)
            m = z.max(1, keepdims=True)
            lse[r] = (m + xp.log(xp.exp(z - m).sum(1, keepdims=True)))[:, 0]
            picked = z[xp.arange(len(z)), t[r]]
            loss[r] = xp.where(keep[r], w[r] * (lse[r] - picked), 0)
        self.saved, self.args = (x, W, *b), (t, w, lse, chunk)
        return loss

    def backward(self, gy: Any) -> Any:
        xp = self.xp
        x, W, *b = self.saved
        t, w, lse, chunk = self.args
        g = gy * w
        gx, gW = xp.empty_like(x), xp.zeros_like(W)
        gb = xp.zeros_like(b[0]) if b else None
        for r in _rows(len(x), chunk):
            p = xp.exp(x[r] @ W.T + (b[0] if b else 0) - lse[r, None])  # softmax
            p[xp.arange(len(p)), t[r]] -= 1
            gz = p * g[r, None]
            gx[r] = gz @ W
            gW += gz.T @ x[r]
            if b:
                gb += gz.sum(0)
        return (gx, gW, gb) if b else (gx, gW)

"""Matrix multiplication with NumPy's rules: 1-D operands are promoted to a row or column and
the added axis is removed afterwards; leading (batch) axes broadcast."""

from __future__ import annotations

from typing import Any

from ..tensor import Function, Tensor


class MatMul(Function):
    """y = x0 @ x1 for operands with at least two axes (batch axes broadcast).

    VJP: g0 = gy @ x1ᵀ, g1 = x0ᵀ @ gy (ᵀ swaps the last two axes; the engine sums broadcast
    batch axes back).  Saves both inputs.
    """

    def forward(self, x0: Any, x1: Any) -> Any:
        self.saved = (x0, x1)
        return x0 @ x1

    def backward(self, gy: Any) -> Any:
        x0, x1 = self.saved
        return gy @ x1.swapaxes(-1, -2), x0.swapaxes(-1, -2) @ gy


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` with NumPy's 1-D and batched rules. The dtypes must match, as in PyTorch (a
    float64 result from float32 weights would be silent and slow)."""
    if a.dtype != b.dtype:
        raise TypeError(f"matmul: the operands' dtypes differ ({a.dtype} and {b.dtype}); "
                        "convert one to the other's dtype (a Tensor with .to(dtype), a NumPy "
                        "array with .astype(dtype))")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must not be scalars (shapes {a.shape} and {b.shape})")
    if a.ndim == 1 and b.ndim == 1:
        if a.shape != b.shape:
            raise ValueError(f"matmul: vector shapes {a.shape} and {b.shape} differ")
        return (a * b).sum()
    if a.ndim == 1:
        return MatMul.apply(a.reshape(1, -1), b).squeeze(-2)
    if b.ndim == 1:
        return MatMul.apply(a, b.reshape(-1, 1)).squeeze(-1)
    return MatMul.apply(a, b)

"""Normalisation layers: LayerNorm, as ``torch.nn``'s."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from .. import functional as F
from ..backend import get_device
from ..tensor import DTypeLike, Tensor
from .module import Module, param_dtype


class LayerNorm(Module):
    """y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias over the last
    ``len(normalized_shape)`` axes (``F.layer_norm``; Var biased, divided by n).

    ``weight`` (ones) and ``bias`` (zeros) have the shape ``normalized_shape`` and exist with
    ``elementwise_affine`` (``bias=False`` leaves the bias out); otherwise they are None, as in
    PyTorch."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True,
                 device: str | None = None, dtype: DTypeLike = None) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self._device = get_device(device or "cpu").name
        self._dtype = param_dtype(dtype, type(self).__name__)
        self.register_parameter("weight", None)
        self.register_parameter("bias", None)
        if elementwise_affine:
            self._init_parameter("weight", np.ones(self.normalized_shape))
            if bias:
                self._init_parameter("bias", np.zeros(self.normalized_shape))

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0, in place (where they exist)."""
        if self.weight is not None:
            self._init_parameter("weight", np.ones(self.normalized_shape))
        if self.bias is not None:
            self._init_parameter("bias", np.zeros(self.normalized_shape))

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")

"""Small layers: Linear, Embedding, Dropout, Sequential."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from .. import random as _random
from ..backend import get_device
from ..tensor import DTypeLike, Tensor, resolve_dtype
from .module import Module, Parameter


def _host_param(host: np.ndarray, dtype: DTypeLike, device: str | None) -> Parameter:
    dt = resolve_dtype(dtype) if dtype is not None else np.dtype(np.float32)
    dev = get_device(device or "cpu")
    return Parameter(Tensor._wrap(dev.to_device(host.astype(dt)), dev))


class Linear(Module):
    """y = x Wᵀ + b, W of shape (out_features, in_features), PyTorch's initialisation
    U(-1/sqrt(in), 1/sqrt(in))."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: str | None = None, dtype: DTypeLike = None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        k = 1 / math.sqrt(in_features)
        rng = _random.generator()
        self.weight = _host_param(rng.uniform(-k, k, (out_features, in_features)), dtype, device)
        self.bias = (_host_param(rng.uniform(-k, k, (out_features,)), dtype, device)
                     if bias else None)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``, N(0, 1) init."""

    def __init__(self, num_embeddings: int, embedding_dim: int, device: str | None = None,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        host = _random.generator().standard_normal((num_embeddings, embedding_dim))
        self.weight = _host_param(host, dtype, device)

    def forward(self, indices: Any) -> Tensor:
        return F.embedding(indices, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Dropout(Module):
    """Zeroes elements with probability ``p`` in training mode; the identity in eval mode."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Sequential(Module):
    """Modules applied one after another, registered as ``0``, ``1``, ... ."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, m in enumerate(modules):
            setattr(self, str(i), m)

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

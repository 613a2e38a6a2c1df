"""The few array-module functions that ops call in ``backward``, on Tensors.

With ``create_graph=True`` the engine runs an op's ``backward`` with ``self.xp`` set to a
``TensorXP`` for the op's device, so ``xp.where(...)`` there records a differentiable op instead
of computing an array. Only what backward formulas use is here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import Device
from ..tensor import Tensor
from .elementwise import where as _where
from .movement import cat, stack


class TensorXP:
    nan = np.nan

    def __init__(self, device: Device) -> None:
        self.device = device

    def zeros(self, shape: tuple[int, ...], dtype: Any) -> Tensor:
        """A constant tensor of zeros on this device."""
        return Tensor._wrap(self.device.xp.zeros(shape, dtype=dtype), self.device)

    @staticmethod
    def concatenate(tensors: Any, axis: int = 0) -> Tensor:
        return cat(list(tensors), axis)

    @staticmethod
    def stack(tensors: Any, axis: int = 0) -> Tensor:
        return stack(list(tensors), axis)

    @staticmethod
    def where(cond: Any, x0: Any, x1: Any) -> Tensor:
        return _where(cond, x0, x1)

    @staticmethod
    def log(x: Tensor) -> Tensor:
        return x.log()

    @staticmethod
    def exp(x: Tensor) -> Tensor:
        return x.exp()

    @staticmethod
    def tanh(x: Tensor) -> Tensor:
        return x.tanh()

    @staticmethod
    def broadcast_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
        return x.broadcast_to(shape)


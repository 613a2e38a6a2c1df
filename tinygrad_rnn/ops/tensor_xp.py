"""The few array-module functions that ops call in ``backward``, on Tensors.

With ``create_graph=True`` the engine runs an op's ``backward`` with ``self.xp`` set to
``TENSOR_XP``, so ``xp.where(...)`` there records a differentiable op instead of computing an
array. Only what backward formulas use is here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .elementwise import where as _where


class _TensorXP:
    nan = np.nan

    @staticmethod
    def where(cond: Any, x0: Any, x1: Any) -> Tensor:
        return _where(cond, x0, x1)

    @staticmethod
    def log(x: Tensor) -> Tensor:
        return x.log()

    @staticmethod
    def broadcast_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
        return x.broadcast_to(shape)


TENSOR_XP = _TensorXP()

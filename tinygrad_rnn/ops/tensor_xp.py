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
from .elementwise import maximum as _maximum
from .elementwise import minimum as _minimum
from .elementwise import where as _where
from .movement import cat, stack
from .reduce import Cumsum


class TensorXP:
    nan = np.nan

    def __init__(self, device: Device) -> None:
        self.device = device

    def zeros(self, shape: tuple[int, ...], dtype: Any = None) -> Tensor:
        """A constant tensor of zeros on this device."""
        return Tensor._wrap(self.device.xp.zeros(shape, dtype=dtype), self.device)

    def ones(self, shape: tuple[int, ...], dtype: Any = None) -> Tensor:
        """A constant tensor of ones on this device."""
        return Tensor._wrap(self.device.xp.ones(shape, dtype=dtype), self.device)

    def eye(self, n: int, dtype: Any = None) -> Tensor:
        """A constant identity matrix on this device."""
        return Tensor._wrap(self.device.xp.eye(n, dtype=dtype), self.device)

    def cumprod(self, x: Tensor, axis: int) -> Tensor:
        """The running product along ``axis``, from Tensor products alone, so that it is
        differentiable again and exact where x holds zeros (no division): a doubling scan
        (Hillis and Steele's) of ceil(log2 n) steps, d = 1, 2, 4, ..., each multiplying every
        element by the one d places before it (by 1 for the first d). After step d, element
        i holds x_{i-2d+1} · ... · x_i (from x_0 where i < 2d): once 2d >= n, all of them."""
        axis %= max(x.ndim, 1)
        n, lead, d = x.shape[axis], (slice(None),) * axis, 1
        while d < n:
            ones = self.ones(x.shape[:axis] + (d,) + x.shape[axis + 1:], dtype=x.dtype)
            x = x * cat([ones, x[(*lead, slice(0, n - d))]], axis)
            d *= 2
        return x

    @staticmethod
    def concatenate(tensors: Any, axis: int = 0) -> Tensor:
        return cat(list(tensors), axis)

    @staticmethod
    def stack(tensors: Any, axis: int = 0) -> Tensor:
        return stack(list(tensors), axis)

    @staticmethod
    def cumsum(x: Tensor, axis: int | None = None) -> Tensor:
        """The running sum along ``axis`` (None: of the flattened tensor, as NumPy's)."""
        if axis is None:
            x, axis = x.reshape(-1), 0
        return Cumsum.apply(x, axis=axis % max(x.ndim, 1))

    @staticmethod
    def flip(x: Tensor, axis: Any = None) -> Tensor:
        """``x`` reversed along ``axis`` (an int or a tuple; None: every axis, as NumPy's)."""
        return x.flip(tuple(range(x.ndim)) if axis is None else axis)

    @staticmethod
    def einsum(spec: str, *xs: Tensor, optimize: bool = False) -> Tensor:
        """``Einsum`` of an explicit spec whose operands agree (as its backward makes them)."""
        from .linalg import Einsum

        return Einsum.apply(*xs, spec=spec)

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
    def sin(x: Tensor) -> Tensor:
        return x.sin()

    @staticmethod
    def cos(x: Tensor) -> Tensor:
        return x.cos()

    @staticmethod
    def broadcast_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
        return x.broadcast_to(shape)

    @staticmethod
    def trunc(x: Tensor) -> Tensor:
        """x rounded towards 0 (gradient 0)."""
        return x.trunc()

    @staticmethod
    def sqrt(x: Tensor) -> Tensor:
        return x.sqrt()

    @staticmethod
    def abs(x: Tensor) -> Tensor:
        return x.abs()

    @staticmethod
    def maximum(x0: Any, x1: Any) -> Tensor:
        return _maximum(x0, x1)

    @staticmethod
    def minimum(x0: Any, x1: Any) -> Tensor:
        return _minimum(x0, x1)

    @property
    def linalg(self) -> Any:
        """``inv`` and ``solve``, as the ops ``Inv`` and ``Solve`` (the matrix ops' backwards
        call them)."""
        return _TensorLinalg

    def sign(self, x: Any) -> Tensor:
        """A constant: sign's derivative is 0 wherever it has one."""
        a = x._data if isinstance(x, Tensor) else x
        return Tensor._wrap(self.device.xp.sign(a), self.device)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"xp.{name} is not available in backward under create_graph=True: there xp is a "
            "TensorXP, whose functions record differentiable ops (it has "
            f"{', '.join(sorted(k for k in vars(TensorXP) if not k.startswith('_')))}). Write "
            "the backward with those and Tensor operators, or set differentiable_backward = "
            "False on the op, so that create_graph=True refuses it with a clear error")



class _TensorLinalg:
    @staticmethod
    def inv(x: Tensor) -> Tensor:
        from .linalg import Inv

        return Inv.apply(x)

    @staticmethod
    def solve(a: Tensor, b: Any) -> Tensor:
        from .linalg import Solve

        return Solve.apply(a, b if isinstance(b, Tensor) else Tensor._wrap(b, a._dev))

"""Activations as modules, as ``torch.nn``'s: each holds its options and calls ``functional``.

``inplace=`` is taken where PyTorch takes it, so ported code runs, but the result is always a
new tensor (in-place writes are not recorded by autograd here). GELU is not here: PyTorch's
default, x Φ(x), needs erf, which this package has no op for.
"""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..tensor import Tensor
from .module import Module


class Identity(Module):
    """y = x. Takes and ignores any arguments, as PyTorch's (so it can stand in for a layer)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input


class ReLU(Module):
    """y = max(x, 0) (``F.relu``)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """y = x where x > 0, else negative_slope · x (``F.leaky_relu``)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Tanh(Module):
    """y = tanh(x)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.tanh(input)


class Sigmoid(Module):
    """y = σ(x) = 1 / (1 + exp(-x))."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.sigmoid(input)


class _SoftmaxBase(Module):
    """Holds ``dim``, which is required: PyTorch's default ``dim=None`` picks an axis from the
    input's number of axes (0 for 0-, 1- and 3-D inputs, else 1) and warns that this is
    deprecated; for a (T, B, C) sequence output that is the time axis, a silent mistake. Here
    None is refused when the layer is made (a TypeError, as for a missing argument)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        if dim is None:
            name = type(self).__name__
            raise TypeError(f"{name} needs dim= (the axis to normalise, e.g. {name}(dim=-1)); "
                            "PyTorch's implicit choice for dim=None is deprecated there and "
                            "not supported here")
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """y_i = exp(x_i) / Σ_j exp(x_j) along ``dim`` (``F.softmax``)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softmax(input, axis=self.dim)


class LogSoftmax(_SoftmaxBase):
    """y_i = x_i - log Σ_j exp(x_j) along ``dim`` (``F.log_softmax``)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.log_softmax(input, axis=self.dim)

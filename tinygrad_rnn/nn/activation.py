"""Activations as modules, as ``torch.nn``'s: each holds its options and calls ``functional``.

``inplace=True`` writes the result into the input and returns it, as PyTorch's
(``Tensor._overwrite``'s rules: recorded by autograd, refused on a leaf that requires grad).
Each repr is PyTorch's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..backend import get_device
from ..tensor import DTypeLike, Tensor
from .module import Module, param_dtype


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
        return F.relu(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """y = x where x > 0, else negative_slope · x (``F.leaky_relu``)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class _InplaceActivation(Module):
    """An activation whose only option is PyTorch's ``inplace=``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class GELU(Module):
    """y = x Φ(x), Φ the standard normal CDF (``F.gelu``; ``approximate="tanh"`` for the tanh
    approximation)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):  # now, not at the first batch
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(_InplaceActivation):
    """y = x σ(x) (``F.silu``)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.silu(input, self.inplace)


class ELU(Module):
    """y = x where x > 0, else α (exp(x) - 1) (``F.elu``)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SELU(_InplaceActivation):
    """y = scale · elu(x, α), self-normalising (``F.selu``)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.selu(input, self.inplace)


class CELU(ELU):
    """y = x where x > 0, else α (exp(x/α) - 1) (``F.celu``)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        if alpha == 0:
            raise ValueError("CELU: alpha cannot be 0 (it divides x)")
        super().__init__(alpha, inplace)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.celu(input, self.alpha, self.inplace)


class Softplus(Module):
    """y = log(1 + exp(β x)) / β, x itself where β x > threshold (``F.softplus``)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(Module):
    """y = x / (1 + |x|) (``F.softsign``)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softsign(input)


class Hardtanh(Module):
    """y = x clipped to [min_val, max_val] (``F.hardtanh``)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
                 ) -> None:
        super().__init__()
        if min_val > max_val:  # now, not at the first batch
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val "
                             f"({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return (f"min_val={self.min_val}, max_val={self.max_val}"
                + (", inplace=True" if self.inplace else ""))


class ReLU6(Hardtanh):
    """y = min(max(x, 0), 6) (``F.relu6``): ``Hardtanh(0, 6)``, as PyTorch's."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LogSigmoid(Module):
    """y = log σ(x), stable for any x (``F.logsigmoid``)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.logsigmoid(input)


class Mish(_InplaceActivation):
    """y = x tanh(softplus(x)) (``F.mish``)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.mish(input, self.inplace)


class GLU(Module):
    """y = a σ(b), a and b the halves of the input along ``dim`` (``F.glu``)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Hardsigmoid(_InplaceActivation):
    """y = min(max(x + 3, 0), 6) / 6 (``F.hardsigmoid``)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.hardsigmoid(input, self.inplace)


class Hardswish(_InplaceActivation):
    """y = x hardsigmoid(x) (``F.hardswish``)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.hardswish(input, self.inplace)


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


class Softmin(_SoftmaxBase):
    """y_i = exp(-x_i) / Σ_j exp(-x_j) along ``dim`` (``F.softmin``)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softmin(input, axis=self.dim)


class Tanhshrink(Module):
    """y = x - tanh(x) (``F.tanhshrink``)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.tanhshrink(input)


class Softshrink(Module):
    """y = x - λ above λ, x + λ below -λ, else 0 (``F.softshrink``)."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = F._lambd("Softshrink", lambd)  # now, not at the first batch

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Module):
    """y = x where |x| > λ, else 0 (``F.hardshrink``)."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = F._lambd("Hardshrink", lambd)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Threshold(Module):
    """y = x where x > ``threshold``, else ``value`` (``F.threshold``)."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return (f"threshold={self.threshold}, value={self.value}"
                + (", inplace=True" if self.inplace else ""))


class PReLU(Module):
    """y = max(0, x) + a · min(0, x) with a learned slope ``a`` (``F.prelu``): one for all
    channels, or ``num_parameters`` of them, one per channel (axis 1 of the input), each
    starting at ``init``. As PyTorch's, the weight has shape (num_parameters,)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: str | None = None,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, (int, np.integer)) \
                or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be an int >= 1, got "
                             f"{num_parameters!r}")
        self.num_parameters, self.init = int(num_parameters), init
        self._device = get_device(device or "cpu").name
        self._dtype = param_dtype(dtype, "PReLU")
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every slope ``init``, in place where the weight exists."""
        self._init_parameter("weight", np.full(self.num_parameters, self.init, dtype=float))

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """The randomized leaky relu (``F.rrelu``): in training each element x <= 0 is scaled by
    its own slope drawn from U(lower, upper); in evaluation by (lower + upper) / 2, exactly
    ``LeakyReLU((lower + upper) / 2)``."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
                 inplace: bool = False) -> None:
        super().__init__()
        if lower > upper:  # now, not at the first batch
            raise ValueError(f"RReLU: the lower bound ({lower}) must be at most the upper bound "
                             f"({upper})")
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return (f"lower={self.lower}, upper={self.upper}"
                + (", inplace=True" if self.inplace else ""))


class Softmax2d(Module):
    """``F.softmax`` over the channels of (N, C, H, W) or (C, H, W) inputs (axis -3), at
    each position."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if not isinstance(input, Tensor) or input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                             f"got {getattr(input, 'shape', type(input).__name__)}")
        return F.softmax(input, -3)

"""Convolution and pooling over one spatial axis, as ``torch.nn``'s: Conv1d, MaxPool1d,
AvgPool1d, AdaptiveAvgPool1d, AdaptiveMaxPool1d. Inputs are (N, C, L) or (C, L); the math is
in ``functional`` (``conv1d``, ``max_pool1d``, ...)."""

from __future__ import annotations

import math
from typing import Any

from .. import functional as F
from .. import random as _random
from ..backend import get_device
from ..tensor import DTypeLike, Tensor
from .module import Module, param_dtype

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _single(where_: str, name: str, v: Any, least: int) -> tuple[int]:
    """PyTorch keeps these as 1-tuples: ``conv.kernel_size == (3,)``."""
    return (F._one_int(where_, name, v, least),)


class Conv1d(Module):
    """``F.conv1d`` with a learned ``weight`` (out_channels, in_channels / groups,
    kernel_size) and ``bias`` (out_channels,), both U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
    fan_in = in_channels / groups · kernel_size, PyTorch's initialisation.

    ``padding`` is an int, ``"same"`` (stride 1) or ``"valid"``; ``padding_mode`` "zeros" or,
    through ``F.pad``, "reflect", "replicate" or "circular"."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, padding: int | str = 0, dilation: int = 1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device: str | None = None,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.in_channels = F._one_int(name, "in_channels", in_channels, 1)
        self.out_channels = F._one_int(name, "out_channels", out_channels, 1)
        self.groups = F._one_int(name, "groups", groups, 1)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must both be divisible by groups ({groups})")
        self.kernel_size = _single(name, "kernel_size", kernel_size, 1)
        self.stride = _single(name, "stride", stride, 1)
        self.dilation = _single(name, "dilation", dilation, 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, 'same' or 'valid', got "
                                 f"{padding!r}")
            if padding == "same" and self.stride != (1,):
                raise ValueError(f"{name}: padding='same' needs stride 1, got stride={stride}")
            self.padding: tuple[int] | str = padding
        else:
            self.padding = _single(name, "padding", padding, 0)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.padding_mode = padding_mode
        self._device = get_device(device or "cpu").name
        self._dtype = param_dtype(dtype, name)
        self._has_bias = bool(bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the weight and the bias, in place."""
        shape = (self.out_channels, self.in_channels // self.groups, self.kernel_size[0])
        k = 1 / math.sqrt(shape[1] * shape[2])
        rng = _random.generator()
        self._init_parameter("weight", rng.uniform(-k, k, shape))
        params = self._parameters
        if params["bias"] is not None if "bias" in params else self._has_bias:
            self._init_parameter("bias", rng.uniform(-k, k, (self.out_channels,)))
        else:
            self.bias = None

    def _pads(self) -> tuple[int, int]:
        """(left, right) padding, ``"same"``'s extra element on the right."""
        if self.padding == "valid":
            return 0, 0
        if self.padding == "same":
            total = self.dilation[0] * (self.kernel_size[0] - 1)
            return total // 2, total - total // 2
        return self.padding[0], self.padding[0]

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if self.padding_mode == "zeros":
            return F.conv1d(input, self.weight, self.bias, self.stride, self.padding,
                            self.dilation, self.groups)
        x, unbatched = F._batched(type(self).__name__, input)
        y = F.conv1d(F.pad(x, self._pads(), self.padding_mode), self.weight, self.bias,
                     self.stride, 0, self.dilation, self.groups)
        return y.squeeze(0) if unbatched else y

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else \
                f", padding={self.padding}"
        if self.dilation != (1,):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class MaxPool1d(Module):
    """``F.max_pool1d``: the largest element of each window (``stride`` defaults to
    ``kernel_size``)."""

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0,
                 dilation: int = 1, return_indices: bool = False, ceil_mode: bool = False
                 ) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation = F._pool_args(
            type(self).__name__, kernel_size, stride, padding, dilation)
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    """``F.avg_pool1d``: the mean of each window (``stride`` defaults to ``kernel_size``)."""

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        k, s, p, _ = F._pool_args(type(self).__name__, kernel_size, stride, padding)
        self.kernel_size, self.stride, self.padding = (k,), (s,), (p,)
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """``F.adaptive_avg_pool1d``: the means of ``output_size`` windows that tile the input."""

    def __init__(self, output_size: int) -> None:
        super().__init__()
        self.output_size = F._one_int(type(self).__name__, "output_size", output_size, 1)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(Module):
    """``F.adaptive_max_pool1d``: the maxima of ``output_size`` windows that tile the input
    (``AdaptiveMaxPool1d(1)`` is max-over-time pooling)."""

    def __init__(self, output_size: int, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = F._one_int(type(self).__name__, "output_size", output_size, 1)
        self.return_indices = bool(return_indices)

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class Upsample(Module):
    """``F.interpolate`` as a layer, as ``torch.nn.Upsample``: resample the spatial axes of a
    3-D, 4-D or 5-D input to ``size`` or by ``scale_factor``, with ``mode`` ("nearest",
    "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")."""

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        if mode not in F.INTERPOLATE_MODES:  # refused here, not at the first forward
            raise ValueError(f"{type(self).__name__}: mode must be one of "
                             f"{', '.join(F.INTERPOLATE_MODES)}, got {mode!r}")
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self) -> str:
        sf = self.scale_factor
        what = (f"size={self.size!r}" if sf is None else
                f"scale_factor={tuple(float(f) for f in sf)!r}" if isinstance(sf, (tuple, list))
                else f"scale_factor={float(sf)!r}")
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample`` with mode "nearest", for 4-D inputs."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, "nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample`` with mode "bilinear" and ``align_corners=True``, as PyTorch's."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, "bilinear", align_corners=True)

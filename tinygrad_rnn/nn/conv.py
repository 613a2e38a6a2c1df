"""Convolution and pooling over 1, 2 or 3 spatial axes, as ``torch.nn``'s: Conv1d/2d/3d,
ConvTranspose1d/2d/3d, MaxPool1d/2d/3d, AvgPool1d/2d/3d, AdaptiveAvgPool1d/2d/3d,
AdaptiveMaxPool1d/2d/3d, FractionalMaxPool2d/3d, MaxUnpool1d/2d/3d, LPPool1d/2d/3d, Unfold
and Fold, Upsample, PixelShuffle, PixelUnshuffle and ChannelShuffle. Inputs are (N, C,
*spatial) or (C, *spatial); the math is in ``functional`` (``conv2d``, ``max_pool2d``, ...)."""

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


def _sizes(where_: str, name: str, v: Any, d: int, least: int) -> tuple[int, ...]:
    """An int or d of them as a d-tuple, as PyTorch keeps a convolution's options."""
    return _single(where_, name, v, least) if d == 1 else F._ints(where_, name, v, d, least)


class _ConvBase(Module):
    """What the convolutions and the transposed ones share: their options, parameters and
    repr. ``_d`` is the number of spatial axes."""

    _d = 1
    transposed = False

    def _setup(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
               padding: Any, dilation: Any, groups: int, bias: bool, padding_mode: str,
               device: str | None, dtype: DTypeLike, output_padding: Any = 0) -> None:
        name, d = type(self).__name__, self._d
        self.in_channels = F._one_int(name, "in_channels", in_channels, 1)
        self.out_channels = F._one_int(name, "out_channels", out_channels, 1)
        self.groups = F._one_int(name, "groups", groups, 1)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must both be divisible by groups ({groups})")
        self.kernel_size = _sizes(name, "kernel_size", kernel_size, d, 1)
        self.stride = _sizes(name, "stride", stride, d, 1)
        self.dilation = _sizes(name, "dilation", dilation, d, 1)
        self.output_padding = _sizes(name, "output_padding", output_padding, d, 0)
        if isinstance(padding, str) and not self.transposed:
            F._conv_padding(name, padding, d, self.kernel_size, self.stride, self.dilation)
            self.padding: tuple[int, ...] | str = padding
        else:
            self.padding = _sizes(name, "padding", padding, d, 0)
        modes = ("zeros",) if self.transposed else PADDING_MODES
        if padding_mode not in modes:
            raise ValueError(f"{name}: padding_mode must be one of {modes}, got "
                             f"{padding_mode!r}")
        self.padding_mode = padding_mode
        self._device = get_device(device or "cpu").name
        self._dtype = param_dtype(dtype, name)
        self._has_bias = bool(bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the weight and the bias, in place: PyTorch's
        kaiming_uniform(a=sqrt(5)), fan_in = weight.shape[1] · the kernel's size."""
        rows, cols = (self.in_channels, self.out_channels) if self.transposed else \
            (self.out_channels, self.in_channels)
        shape = (rows, cols // self.groups, *self.kernel_size)
        k = 1 / math.sqrt(shape[1] * math.prod(self.kernel_size))
        rng = _random.generator()
        self._init_parameter("weight", rng.uniform(-k, k, shape))
        params = self._parameters
        if params["bias"] is not None if "bias" in params else self._has_bias:
            self._init_parameter("bias", rng.uniform(-k, k, (self.out_channels,)))
        else:
            self.bias = None

    def extra_repr(self) -> str:
        d = self._d
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * d:
            s += f", padding={self.padding}"  # "same" shown bare, as PyTorch shows it
        if self.dilation != (1,) * d:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * d:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _ConvNd(_ConvBase):
    """``F.conv1d/2d/3d`` with a learned ``weight`` (out_channels, in_channels / groups,
    *kernel_size) and ``bias`` (out_channels,), both U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
    fan_in = in_channels / groups · the kernel's size, PyTorch's initialisation.

    ``padding`` is an int, d of them, ``"same"`` (stride 1) or ``"valid"``; ``padding_mode``
    "zeros" or, through ``F.pad``, "reflect", "replicate" or "circular"."""

    _conv = staticmethod(F.conv1d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any,
                 stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device: str | None = None,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        self._setup(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                    bias, padding_mode, device, dtype)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if self.padding_mode == "zeros":
            return self._conv(input, self.weight, self.bias, self.stride, self.padding,
                              self.dilation, self.groups)
        name = type(self).__name__
        x, unbatched = F._batched(name, input, self._d)
        pads = F._conv_padding(name, self.padding, self._d, self.kernel_size, self.stride,
                               self.dilation)
        y = self._conv(F.pad(x, F._pad_arg(pads), self.padding_mode), self.weight, self.bias,
                       self.stride, 0, self.dilation, self.groups)
        return y.squeeze(0) if unbatched else y


class Conv1d(_ConvNd):
    """``F.conv1d`` with a learned ``weight`` (out_channels, in_channels / groups,
    kernel_size) and ``bias`` (out_channels,), both U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
    fan_in = in_channels / groups · kernel_size, PyTorch's initialisation.

    ``padding`` is an int, ``"same"`` (stride 1) or ``"valid"``; ``padding_mode`` "zeros" or,
    through ``F.pad``, "reflect", "replicate" or "circular"."""

    _d, _conv = 1, staticmethod(F.conv1d)


class Conv2d(_ConvNd):
    """``F.conv2d`` with a learned ``weight`` (out_channels, in_channels / groups, kH, kW) and
    ``bias``, initialised as ``Conv1d``'s; each size an int or an (H, W) pair."""

    _d, _conv = 2, staticmethod(F.conv2d)


class Conv3d(_ConvNd):
    """``F.conv3d`` with a learned ``weight`` (out_channels, in_channels / groups, kD, kH, kW)
    and ``bias``, initialised as ``Conv1d``'s; each size an int or a (D, H, W) triple."""

    _d, _conv = 3, staticmethod(F.conv3d)


class _ConvTransposeNd(_ConvBase):
    """``F.conv_transpose1d/2d/3d`` with a learned ``weight`` (in_channels, out_channels /
    groups, *kernel_size) and ``bias`` (out_channels,), both U(-1/sqrt(fan_in),
    1/sqrt(fan_in)) with fan_in = out_channels / groups · the kernel's size, as PyTorch's.
    ``padding_mode`` "zeros" only, as there."""

    transposed = True
    _conv = staticmethod(F.conv_transpose1d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any,
                 stride: Any = 1, padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                 bias: bool = True, dilation: Any = 1, padding_mode: str = "zeros",
                 device: str | None = None, dtype: DTypeLike = None) -> None:
        super().__init__()
        self._setup(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                    bias, padding_mode, device, dtype, output_padding)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        """``output_size`` (the last d sizes are read) picks the output padding, as PyTorch's:
        each size between the smallest output and stride - 1 more."""
        extra = self.output_padding if output_size is None else \
            self._output_padding(input, output_size)
        return self._conv(input, self.weight, self.bias, self.stride, self.padding, extra,
                          self.groups, self.dilation)

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple[int, ...]:  # noqa: A002
        name, d = type(self).__name__, self._d
        x, _ = F._batched(name, input, d)
        want = tuple(output_size)[-d:] if len(output_size) in (d + 1, d + 2) else \
            tuple(output_size)
        if len(want) != d:
            raise ValueError(f"{name}: output_size must have {d} or {d + 2} elements, got "
                             f"{output_size!r}")
        extra = []
        for w, n, k, s, p, dl in zip(want, x.shape[2:], self.kernel_size, self.stride,
                                     self.padding, self.dilation):
            least = (n - 1) * s - 2 * p + dl * (k - 1) + 1
            if not least <= w < least + s:
                raise ValueError(f"{name}: output_size {tuple(want)} is out of reach for an "
                                 f"input of shape {input.shape}: each size must be between "
                                 f"the smallest output and stride - 1 more, here {least} and "
                                 f"{least + s - 1}")
            extra.append(w - least)
        return tuple(extra)


class ConvTranspose1d(_ConvTransposeNd):
    """``F.conv_transpose1d`` with a learned ``weight`` (in_channels, out_channels / groups,
    kernel_size) and ``bias``: the gradient of a Conv1d from out_channels to in_channels."""

    _d, _conv = 1, staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """``F.conv_transpose2d`` with a learned ``weight`` (in_channels, out_channels / groups,
    kH, kW) and ``bias``."""

    _d, _conv = 2, staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """``F.conv_transpose3d`` with a learned ``weight`` (in_channels, out_channels / groups,
    kD, kH, kW) and ``bias``."""

    _d, _conv = 3, staticmethod(F.conv_transpose3d)


class _MaxPoolNd(Module):
    """``F.max_pool1d/2d/3d``: the largest element of each window (``stride`` defaults to
    ``kernel_size``). The options are kept as given, as PyTorch keeps them."""

    _d, _pool = 1, staticmethod(F.max_pool1d)

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False, ceil_mode: bool = False
                 ) -> None:
        super().__init__()
        F._pool_args(type(self).__name__, self._d, kernel_size, stride, padding, dilation)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        return self._pool(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """``F.max_pool1d``: the largest element of each window (``stride`` defaults to
    ``kernel_size``)."""

    _d, _pool = 1, staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """``F.max_pool2d``: the largest element of each window (``stride`` defaults to
    ``kernel_size``); each option an int or an (H, W) pair."""

    _d, _pool = 2, staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """``F.max_pool3d``: the largest element of each window (``stride`` defaults to
    ``kernel_size``); each option an int or a (D, H, W) triple."""

    _d, _pool = 3, staticmethod(F.max_pool3d)


class AvgPool1d(Module):
    """``F.avg_pool1d``: the mean of each window (``stride`` defaults to ``kernel_size``)."""

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding, _ = F._pool_args(
            type(self).__name__, 1, kernel_size, stride, padding)
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AvgPoolNd(Module):
    """``F.avg_pool2d/3d``: the mean of each window (``stride`` defaults to ``kernel_size``),
    divided by ``divisor_override`` where given. The options are kept as given, as PyTorch
    keeps them."""

    _d, _pool = 2, staticmethod(F.avg_pool2d)

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        F._pool_args(type(self).__name__, self._d, kernel_size, stride, padding)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, bool(ceil_mode)
        self.count_include_pad, self.divisor_override = bool(count_include_pad), divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return self._pool(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """``F.avg_pool2d``: the mean of each window; each option an int or an (H, W) pair."""

    _d, _pool = 2, staticmethod(F.avg_pool2d)


class AvgPool3d(_AvgPoolNd):
    """``F.avg_pool3d``: the mean of each window; each option an int or a (D, H, W) triple."""

    _d, _pool = 3, staticmethod(F.avg_pool3d)


def _output_size(where_: str, output_size: Any, d: int) -> Any:
    """``output_size`` checked (an int >= 1 or d of them, None keeping an axis), as given."""
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * d
    F._ints(where_, "output_size", [1 if v is None else v for v in sizes], d, 1)
    return output_size


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


class _AdaptiveAvgPoolNd(Module):
    """``F.adaptive_avg_pool2d/3d``: the means of the windows that tile the spatial axes into
    ``output_size`` (an int or one per axis, None keeping that axis's size)."""

    _d, _pool = 2, staticmethod(F.adaptive_avg_pool2d)

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = _output_size(type(self).__name__, output_size, self._d)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return self._pool(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """``F.adaptive_avg_pool2d``: the means of the windows that tile (H, W) into
    ``output_size`` (an int or a pair, None keeping that axis's size)."""

    _d, _pool = 2, staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """``F.adaptive_avg_pool3d``: ``AdaptiveAvgPool2d`` over (D, H, W)."""

    _d, _pool = 3, staticmethod(F.adaptive_avg_pool3d)


class _AdaptiveMaxPoolNd(Module):
    """``F.adaptive_max_pool2d/3d``: the maxima of the windows that tile the spatial axes into
    ``output_size`` (an int or one per axis, None keeping that axis's size)."""

    _d, _pool = 2, staticmethod(F.adaptive_max_pool2d)

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = _output_size(type(self).__name__, output_size, self._d)
        self.return_indices = bool(return_indices)

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        return self._pool(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """``F.adaptive_max_pool2d``: the maxima of the windows that tile (H, W) into
    ``output_size`` (an int or a pair, None keeping that axis's size)."""

    _d, _pool = 2, staticmethod(F.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """``F.adaptive_max_pool3d``: ``AdaptiveMaxPool2d`` over (D, H, W)."""

    _d, _pool = 3, staticmethod(F.adaptive_max_pool3d)


class _FractionalMaxPoolNd(Module):
    """``F.fractional_max_pool2d/3d``: max pooling with pseudo-random strides onto
    ``output_size``, or ``output_ratio`` (in (0, 1)) of the input's size; the samples that
    place the windows are drawn from the global generator at each call, unless
    ``_random_samples`` fixes them."""

    _d, _pool = 2, staticmethod(F.fractional_max_pool2d)

    def __init__(self, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                 return_indices: bool = False, _random_samples: Tensor | None = None) -> None:
        super().__init__()
        where_, d = type(self).__name__, self._d
        self.kernel_size = F._ints(where_, "kernel_size", kernel_size, d, 1)
        if (output_size is None) == (output_ratio is None):
            raise ValueError(f"{where_}: give exactly one of output_size and output_ratio, got "
                             f"output_size={output_size!r}, output_ratio={output_ratio!r}")
        self.output_size = None if output_size is None else \
            F._ints(where_, "output_size", output_size, d, 1)
        self.output_ratio = None
        if output_ratio is not None:
            ratio = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else \
                (output_ratio,) * d
            if len(ratio) != d or not all(0 < r < 1 for r in ratio):
                raise ValueError(f"{where_}: output_ratio must be a number in (0, 1) or {d} of "
                                 f"them, got {output_ratio!r}")
            self.output_ratio = ratio
        self.return_indices = bool(return_indices)
        self._random_samples = _random_samples

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        return self._pool(input, self.kernel_size, self.output_size, self.output_ratio,
                          self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """``F.fractional_max_pool2d``: max pooling of (H, W) by ``kernel_size`` windows with
    pseudo-random strides onto ``output_size`` or ``output_ratio`` of the input."""

    _d, _pool = 2, staticmethod(F.fractional_max_pool2d)


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """``F.fractional_max_pool3d``: ``FractionalMaxPool2d`` over (T, H, W)."""

    _d, _pool = 3, staticmethod(F.fractional_max_pool3d)


def _block_options(where_: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any
                   ) -> None:
    """``Unfold``'s and ``Fold``'s options checked (each an int or an (H, W) pair)."""
    for arg, v, least in (("kernel_size", kernel_size, 1), ("dilation", dilation, 1),
                          ("padding", padding, 0), ("stride", stride, 1)):
        F._ints(where_, arg, v, 2, least)


class Unfold(Module):
    """``F.unfold``: the sliding blocks of an image as columns (im2col), (N, C, H, W) to
    (N, C·kH·kW, L). The options are kept as given, as PyTorch keeps them."""

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
                 ) -> None:
        super().__init__()
        _block_options(type(self).__name__, kernel_size, dilation, padding, stride)
        self.kernel_size, self.dilation, self.padding, self.stride = (
            kernel_size, dilation, padding, stride)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """``F.fold``: columns back into an image (col2im), (N, C·kH·kW, L) to
    (N, C, *output_size), overlapping blocks added up. The options are kept as given."""

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:
        super().__init__()
        F._ints(type(self).__name__, "output_size", output_size, 2, 1)
        _block_options(type(self).__name__, kernel_size, dilation, padding, stride)
        self.output_size, self.kernel_size, self.dilation, self.padding, self.stride = (
            output_size, kernel_size, dilation, padding, stride)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


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


class _MaxUnpoolNd(Module):
    """``F.max_unpool1d/2d/3d``: ``MaxPool``'s outputs put back at their indices in zeros.
    ``kernel_size``, ``stride`` (``kernel_size`` unless given) and ``padding`` are kept as
    d-tuples, as PyTorch keeps them."""

    _d, _unpool = 1, staticmethod(F.max_unpool1d)

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        name, d = type(self).__name__, self._d
        self.kernel_size = _sizes(name, "kernel_size", kernel_size, d, 1)
        self.stride = self.kernel_size if stride is None else _sizes(name, "stride", stride, d, 1)
        self.padding = _sizes(name, "padding", padding, d, 0)

    def forward(self, input: Tensor, indices: Tensor,  # noqa: A002
                output_size: Any = None) -> Tensor:
        return self._unpool(input, indices, self.kernel_size, self.stride, self.padding,
                            output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """``F.max_unpool1d``: (N, C, L) or (C, L) and ``MaxPool1d``'s indices to zeros of the
    pooled input's length (or ``output_size``) with each element at its index."""

    _d, _unpool = 1, staticmethod(F.max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """``F.max_unpool2d``: ``MaxUnpool1d`` over (H, W)."""

    _d, _unpool = 2, staticmethod(F.max_unpool2d)


class MaxUnpool3d(_MaxUnpoolNd):
    """``F.max_unpool3d``: ``MaxUnpool1d`` over (D, H, W)."""

    _d, _unpool = 3, staticmethod(F.max_unpool3d)


class _LPPoolNd(Module):
    """``F.lp_pool1d/2d/3d``: the ``norm_type``-norm of each window (``stride`` defaults to
    ``kernel_size``). The options are kept as given, as PyTorch keeps them."""

    _d, _pool = 1, staticmethod(F.lp_pool1d)

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        F._pool_args(type(self).__name__, self._d, kernel_size, stride, 0)
        self.norm_type, self.kernel_size, self.stride = norm_type, kernel_size, stride
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return self._pool(input, self.norm_type, self.kernel_size, self.stride,
                          self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """``F.lp_pool1d``: (Σ_window x^p)^(1/p), p = ``norm_type``."""

    _d, _pool = 1, staticmethod(F.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """``F.lp_pool2d``: ``LPPool1d`` over (H, W)."""

    _d, _pool = 2, staticmethod(F.lp_pool2d)


class LPPool3d(_LPPoolNd):
    """``F.lp_pool3d``: ``LPPool1d`` over (D, H, W)."""

    _d, _pool = 3, staticmethod(F.lp_pool3d)


class PixelShuffle(Module):
    """``F.pixel_shuffle``: (*, C·r², H, W) to (*, C, H·r, W·r), r = ``upscale_factor``."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = F._factor("PixelShuffle", "upscale_factor", upscale_factor)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``F.pixel_unshuffle``: (*, C, H·r, W·r) to (*, C·r², H, W), r =
    ``downscale_factor``."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = F._factor("PixelUnshuffle", "downscale_factor",
                                          downscale_factor)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """``F.channel_shuffle``: the channels of (N, C, *) in ``groups`` groups, interleaved."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = F._factor("ChannelShuffle", "groups", groups)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"

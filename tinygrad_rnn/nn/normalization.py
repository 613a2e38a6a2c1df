"""Normalisation layers, as ``torch.nn``'s: LayerNorm, BatchNorm1d/2d/3d, GroupNorm, RMSNorm,
InstanceNorm1d/2d/3d, LocalResponseNorm, CrossMapLRN2d."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from .. import functional as F
from ..autograd import no_grad
from ..backend import get_device
from ..tensor import DTypeLike, Tensor, tensor
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


class _BatchNorm(Module):
    """``F.batch_norm`` over the channels (axis 1), with ``weight`` (ones) and ``bias``
    (zeros, unless ``bias=False``) where ``affine``, and, where ``track_running_stats``, the
    buffers
    ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` (int64),
    all in ``state_dict()`` under PyTorch's names.

    Training mode normalises by the batch's statistics and updates the running ones with
    ``momentum`` (None: their plain average over every batch so far, 1 / num_batches_tracked);
    evaluation mode normalises by the running ones. Without running stats both use the batch.
    """

    dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 device: str | None = None, dtype: DTypeLike = None, *, bias: bool = True
                 ) -> None:
        super().__init__()
        self._has_bias = bool(bias)
        if isinstance(num_features, bool) or not isinstance(num_features, numbers.Integral) \
                or num_features < 1:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive int, got "
                             f"{num_features!r}")
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self._device = get_device(device or "cpu").name
        self._dtype = param_dtype(dtype, type(self).__name__)
        self.register_parameter("weight", None)
        self.register_parameter("bias", None)
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            self.register_buffer(name, None)
        if self.track_running_stats:
            c = self.num_features
            self.running_mean = tensor(np.zeros(c), dtype=self._dtype, device=self._device)
            self.running_var = tensor(np.ones(c), dtype=self._dtype, device=self._device)
            self.num_batches_tracked = tensor(0, dtype=np.int64, device=self._device)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0, in place."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """The running stats reset; weight = 1, bias = 0, in place (where they exist)."""
        self.reset_running_stats()
        if self.affine:
            self._init_parameter("weight", np.ones(self.num_features))
            if self._has_bias:
                self._init_parameter("bias", np.zeros(self.num_features))

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in self.dims:
            want = " or ".join(f"{d}-D" for d in self.dims)
            raise ValueError(f"{name}: expected a {want} input, got shape {input.shape}")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected {self.num_features} channels on axis 1, got "
                             f"an input of shape {input.shape}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            if input.size // self.num_features <= 1:  # refused before the count changes
                raise ValueError(f"{name}: expected more than 1 value per channel when "
                                 f"training, got input of shape {input.shape}")
            F._check_batch_norm(input, self.running_mean, self.running_var, self.weight,
                                self.bias)
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                momentum = 1.0 / int(self.num_batches_tracked.item())
        use_batch = self.training or self.running_mean is None
        keep = not self.training or self.track_running_stats  # which running stats to pass
        return F.batch_norm(input, self.running_mean if keep else None,
                            self.running_var if keep else None, self.weight, self.bias,
                            use_batch, momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C."""

    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel C."""

    dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) inputs, per channel C."""

    dims = (5,)


class GroupNorm(Module):
    """``F.group_norm``: (sample, group of channels) normalisation, with per-channel
    ``weight`` (ones) and ``bias`` (zeros, unless ``bias=False``) where ``affine``."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: str | None = None, dtype: DTypeLike = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine, self._use_bias = eps, bool(affine), bool(bias)
        self._device = get_device(device or "cpu").name
        self._dtype = param_dtype(dtype, type(self).__name__)
        self.register_parameter("weight", None)
        self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0, in place (where they exist)."""
        if self.affine:
            self._init_parameter("weight", np.ones(self.num_channels))
            if self._use_bias:
                self._init_parameter("bias", np.zeros(self.num_channels))

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected an input of shape (N, {self.num_channels}, "
                             f"...), got {input.shape}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """``F.rms_norm`` over the last ``len(normalized_shape)`` axes, with ``weight`` (ones)
    where ``elementwise_affine``; ``eps`` None is the dtype's machine epsilon."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True, device: str | None = None,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps, self.elementwise_affine = eps, bool(elementwise_affine)
        self._device = get_device(device or "cpu").name
        self._dtype = param_dtype(dtype, type(self).__name__)
        self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight = 1, in place (where it exists)."""
        if self.elementwise_affine:
            self._init_parameter("weight", np.ones(self.normalized_shape))

    def forward(self, x: Tensor) -> Tensor:  # (PyTorch's name here)
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class _InstanceNorm(_BatchNorm):
    """``F.instance_norm`` per (sample, channel), over the positions; ``affine`` and
    ``track_running_stats`` off by default, as PyTorch's. An input without its batch axis
    is one sample."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False,
                 device: str | None = None, dtype: DTypeLike = None, *, bias: bool = True
                 ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.ndim not in self.dims:
            raise ValueError(f"{name}: expected a {' or '.join(f'{d}-D' for d in self.dims)} "
                             f"input, got {getattr(input, 'shape', type(input).__name__)}")
        unbatched = input.ndim == self.dims[0]
        x = input.unsqueeze(0) if unbatched else input
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected {self.num_features} channels, got an input of "
                             f"shape {input.shape}")
        use_input_stats = self.training or not self.track_running_stats
        momentum = 0.0 if self.momentum is None else self.momentum  # None: kept, as torch
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_input_stats, momentum, self.eps)
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) inputs."""

    dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) inputs."""

    dims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W) inputs."""

    dims = (4, 5)


class LocalResponseNorm(Module):
    """``F.local_response_norm``: each channel divided by (k + alpha / size · the sum of the
    squares of the ``size`` channels around it)^beta."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
                 ) -> None:
        super().__init__()
        self.size = F._factor("LocalResponseNorm", "size", size)  # now, not at the first batch
        self.alpha, self.beta, self.k = alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class CrossMapLRN2d(Module):
    """PyTorch's legacy cross-channel local response normalisation of (N, C, H, W) inputs:
    each channel times (k + alpha / size · the sum of the squares of the channels within
    (size - 1) // 2 of it)^-beta, channel 0's square staying in the sums past the window's
    reach, as PyTorch's kernel keeps it (``LocalResponseNorm`` is the usual one)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1
                 ) -> None:
        super().__init__()
        self.size = F._factor("CrossMapLRN2d", "size", size)
        self.alpha, self.beta, self.k = alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F._cross_map_lrn2d(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"

"""The lazy layers, as ``torch.nn``'s: ``LazyConv1d/2d/3d``, ``LazyConvTranspose1d/2d/3d``,
``LazyBatchNorm1d/2d/3d`` and ``LazyInstanceNorm1d/2d/3d`` (``LazyLinear`` is in
``layers``), with ``UninitializedBuffer``; and ``SyncBatchNorm``, batch normalisation over
inputs of any rank, which with one process (the only kind here) is plain batch norm.

A lazy layer reads its input size (``in_channels``, ``num_features``) from its first input:

    net = nn.Sequential(nn.LazyConv2d(16, 3), nn.LazyBatchNorm2d(), nn.ReLU())
    net(x)          # now a Conv2d(3, 16, ...) and a BatchNorm2d(16): their classes too

Until then its parameters are ``UninitializedParameter``s and its running statistics
``UninitializedBuffer``s, which ``state_dict()`` holds as they are; ``load_state_dict``
gives them the loaded shapes (after which the first forward checks that the input fits);
the first forward gives them their shapes and the plain layer's initialisation, and the
module becomes the plain layer (``cls_to_become``), with the same parameter objects, so an
optimizer made before keeps training them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import no_grad
from ..backend import get_device
from ..tensor import DTypeError, DTypeLike, Tensor, host_array, resolve_dtype, tensor
from .conv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
)
from .module import Module, UninitializedParameter, param_dtype
from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    _BatchNorm,
    _InstanceNorm,
)

__all__ = ["LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d", "LazyConv2d",
           "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
           "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d", "SyncBatchNorm",
           "UninitializedBuffer"]


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet, as PyTorch's: a lazy normalisation's running
    statistics before its first forward. It holds no values (an empty array of its dtype, on
    its device); ``materialize(shape)`` gives it zeros of that shape and makes it a plain
    ``Tensor``, the same object. ``persistent`` says whether ``state_dict()`` would hold it
    (register it with ``module.register_buffer(name, b, persistent=b.persistent)``: assigning
    one to a new attribute name does not register it here, where PyTorch's does)."""

    __slots__ = ()  # Tensor's layout, so that materialize can make it a Tensor
    cls_to_become = Tensor
    persistent = True

    def __init__(self, requires_grad: bool = False, device: str | None = None,
                 dtype: DTypeLike = None, persistent: bool = True) -> None:
        t = tensor(np.zeros(0), dtype=param_dtype(dtype, "UninitializedBuffer"),
                   device=get_device(device or "cpu").name, requires_grad=requires_grad)
        self._data, self._dev, self._out = t._data, t._dev, 0
        self._base = self._views = None
        self.requires_grad, self.grad, self._ctx = t.requires_grad, None, None
        if not persistent:
            self.__class__ = _NonPersistentUninitializedBuffer

    def materialize(self, shape: Any, device: str | None = None, dtype: DTypeLike = None
                    ) -> None:
        """Zeros of ``shape`` (an int or a tuple), on ``device`` with ``dtype`` (its own
        unless given); from now on a plain ``Tensor``."""
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else \
            tuple(int(n) for n in shape)
        dev = get_device(device) if device is not None else self._dev
        dt = self.dtype if dtype is None else resolve_dtype(dtype)
        self._data, self._dev = dev.xp.zeros(shape, dtype=dt), dev
        self.__class__ = self.cls_to_become

    def __repr__(self) -> str:
        return "<UninitializedBuffer>"


class _NonPersistentUninitializedBuffer(UninitializedBuffer):
    """An ``UninitializedBuffer(persistent=False)`` (its own class, as a Tensor has no room
    for the flag)."""

    __slots__ = ()
    persistent = False


def _is_lazy(t: Any) -> bool:
    return isinstance(t, (UninitializedParameter, UninitializedBuffer))


class _LazyMixin:
    """What the lazy layers share, as PyTorch's ``LazyModuleMixin``: ``has_uninitialized_params``,
    the first forward (``initialize_parameters``, then the class becomes ``cls_to_become``),
    ``state_dict`` holding the uninitialized tensors themselves, and ``load_state_dict`` giving
    them the loaded shapes (checked by ``_loaded_shape_problem``)."""

    cls_to_become: type
    _lazy_buffer_names: tuple[str, ...] = ()

    def _start_lazy(self) -> None:
        m: Any = self
        m._load_hook = m.register_load_state_dict_pre_hook(_lazy_load_hook)
        m._save_hook = m.register_state_dict_post_hook(_lazy_save_hook)

    def _mend_buffers(self) -> None:
        """An uninitialized buffer that ``to()`` replaced (as it replaces every buffer it casts
        or moves) by an empty tensor is made an ``UninitializedBuffer`` again, with the new
        dtype and device."""
        buffers = self.__dict__["_buffers"]
        for name in self._lazy_buffer_names:
            b = buffers.get(name)
            if b is not None and not _is_lazy(b) and b.shape == (0,) and b.dtype.kind == "f":
                buffers[name] = UninitializedBuffer(device=b.device, dtype=b.dtype)

    def __getattr__(self, name: str) -> Any:
        if name in type(self)._lazy_buffer_names:  # read after a to(): mended first
            self._mend_buffers()
        return super().__getattr__(name)  # type: ignore[misc]

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer still waits for its shape."""
        self._mend_buffers()
        d = self.__dict__
        return any(_is_lazy(t) for t in [*d["_parameters"].values(), *d["_buffers"].values()])

    def _check_input(self, input: Any, ndims: tuple[int, ...]) -> None:  # noqa: A002
        """The input must be a Tensor of one of ``ndims`` axes, of the parameters' dtype and
        device: checked before any parameter is made."""
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.ndim not in ndims:
            want = " or ".join(f"{n}-D" for n in ndims)
            raise ValueError(f"{name}: expected a {want} input, got "
                             f"{getattr(input, 'shape', type(input).__name__)}")
        d = self.__dict__
        floats = [t for t in [*d["_parameters"].values(), *d["_buffers"].values()]
                  if t is not None and t.dtype.kind == "f"]
        if floats and input.dtype != floats[0].dtype:
            raise DTypeError(f"{name}: input dtype {input.dtype} does not match the parameters' "
                             f"dtype {floats[0].dtype}; convert the input with "
                             f"x.to({str(floats[0].dtype)!r}) or the layer with .to(dtype)")
        if floats and input.device != floats[0].device:
            raise ValueError(f"{name}: the input is on {input.device!r}, the parameters on "
                             f"{floats[0].device!r}; move one with .to(device)")

    def _loaded_shape_problem(self, name: str, shape: tuple[int, ...],
                              beside: list[tuple[int, ...]]) -> str | None:
        """Why a loaded value of ``shape`` cannot be ``name`` (None if it can), ``beside``
        the shapes of the values loaded before it into this module."""
        raise NotImplementedError

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        m: Any = self
        m.initialize_parameters(*args, **kwargs)
        if m.has_uninitialized_params():
            raise RuntimeError(f"module {type(self).__name__} has not been fully initialized")
        m._load_hook.remove()
        m._save_hook.remove()
        del m._load_hook, m._save_hook
        m.__class__ = self.cls_to_become
        return m.forward(*args, **kwargs)


def _lazy_load_hook(module: Any, state: dict[str, Any], prefix: str, *args: Any) -> None:
    """Before ``load_state_dict``: each uninitialized parameter or buffer given a value takes
    its shape (a value that is itself uninitialized is skipped, as PyTorch's). A shape that
    cannot be the layer's is refused (``args[-1]`` collects the problems) and then nothing of
    this module is materialized."""
    errors, shapes = args[-1], {}
    module._mend_buffers()
    d = module.__dict__
    for table in (d["_parameters"], d["_buffers"]):
        for name, t in table.items():
            key = prefix + name
            if not _is_lazy(t) or key not in state or _is_lazy(state[key]):
                continue
            shape = tuple(np.shape(host_array(state[key])))
            problem = module._loaded_shape_problem(name, shape,
                                                   [s for _, s in shapes.values()])
            if problem:
                errors.append(f"{key}: {problem}, got {shape}")
            shapes[name] = (t, shape)
    if not errors:
        for t, shape in shapes.values():
            t.materialize(shape)


def _lazy_save_hook(module: Any, state: dict[str, Any], prefix: str, *args: Any) -> None:
    """``state_dict`` holds an uninitialized buffer itself, as PyTorch's (not a detached
    empty tensor)."""
    module._mend_buffers()
    persistent_off = module.__dict__["_non_persistent_buffers_set"]
    for name, b in module.__dict__["_buffers"].items():
        if isinstance(b, UninitializedBuffer) and name not in persistent_off:
            state[prefix + name] = b


# ---- convolutions -------------------------------------------------------------------------


class _LazyConvMixin(_LazyMixin):
    """A convolution whose ``in_channels`` is read from its first input (axis 1, or axis 0
    of an unbatched one), as PyTorch's ``_LazyConvXdMixin``."""

    def _start(self, out_channels: int, bias: bool, device: str | None, dtype: DTypeLike,
               setup: Any) -> None:
        m: Any = self
        Module.__init__(m)
        name = type(self).__name__
        dev, dt = get_device(device or "cpu").name, param_dtype(dtype, name)
        m.weight = UninitializedParameter(device=dev, dtype=dt)
        if bias:
            m.bias = UninitializedParameter(device=dev, dtype=dt)
        else:
            m.register_parameter("bias", None)
        setup()  # the options checked as the plain layer's (in_channels stands in as groups)
        m.in_channels = 0
        self._start_lazy()

    def reset_parameters(self) -> None:
        """The plain layer's initialisation, once the shapes are known (else nothing)."""
        if not self.has_uninitialized_params() and self.__dict__.get("in_channels", 0) != 0:
            super().reset_parameters()  # type: ignore[misc]

    def _weight_shape(self, in_channels: int) -> tuple[int, ...]:
        m: Any = self
        rows, cols = (in_channels, m.out_channels) if m.transposed else \
            (m.out_channels, in_channels)
        return (rows, cols // m.groups, *m.kernel_size)

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any  # noqa: A002
                              ) -> None:
        """``in_channels`` from ``input`` and the parameters made and initialised (a no-op
        once they are); after a ``load_state_dict`` the input must fit the weight."""
        m: Any = self
        name, d = type(self).__name__, m._d
        self._check_input(input, (d + 1, d + 2))
        channels = input.shape[1] if input.ndim == d + 2 else input.shape[0]
        if self.has_uninitialized_params():
            if channels % m.groups:
                raise ValueError(f"{name}: in_channels ({channels}, from the input of shape "
                                 f"{input.shape}) must be divisible by groups ({m.groups})")
            m.in_channels = channels
            m.weight.materialize(self._weight_shape(channels))
            if m.bias is not None:
                m.bias.materialize((m.out_channels,))
            self.reset_parameters()
        elif m.in_channels == 0:  # loaded: the weight says how many
            loaded = m.weight.shape[0] if m.transposed else m.weight.shape[1] * m.groups
            if channels != loaded:
                raise ValueError(f"{name}: the input has {channels} channels (shape "
                                 f"{input.shape}), the loaded weight of shape {m.weight.shape} "
                                 f"expects {loaded}")
            m.in_channels = loaded

    def _loaded_shape_problem(self, name: str, shape: tuple[int, ...],
                              beside: list[tuple[int, ...]]) -> str | None:
        m: Any = self
        if name == "bias":
            return None if shape == (m.out_channels,) else \
                f"expected shape ({m.out_channels},)"
        want = self._weight_shape(m.groups)  # the shape with in_channels = groups
        at = 0 if m.transposed else 1  # the axis that in_channels sizes
        ok = len(shape) == len(want) and all(
            s == w for k, (s, w) in enumerate(zip(shape, want)) if k != at)
        if ok and (shape[at] == 0 or m.transposed and shape[0] % m.groups):
            ok = False
        if ok:
            return None
        spec = list(map(str, want))
        spec[at] = "in_channels" + ("" if m.transposed else f" / {m.groups}")
        return f"expected shape ({', '.join(spec)}) for {type(self).__name__}"


class _LazyConvNd(_LazyConvMixin):
    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: str | None = None,
                 dtype: DTypeLike = None) -> None:
        m: Any = self
        self._start(out_channels, bias, device, dtype, lambda: m._setup(
            groups, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, device, dtype))


class _LazyConvTransposeNd(_LazyConvMixin):
    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: str | None = None,
                 dtype: DTypeLike = None) -> None:
        m: Any = self
        self._start(out_channels, bias, device, dtype, lambda: m._setup(
            groups, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, device, dtype, output_padding))


class LazyConv1d(_LazyConvNd, Conv1d):
    """A ``Conv1d`` whose ``in_channels`` is read from its first input: the same options,
    less ``in_channels``; a ``Conv1d`` after its first forward."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConvNd, Conv2d):
    """A ``Conv2d`` whose ``in_channels`` is read from its first input."""

    cls_to_become = Conv2d


class LazyConv3d(_LazyConvNd, Conv3d):
    """A ``Conv3d`` whose ``in_channels`` is read from its first input."""

    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTransposeNd, ConvTranspose1d):
    """A ``ConvTranspose1d`` whose ``in_channels`` is read from its first input."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTransposeNd, ConvTranspose2d):
    """A ``ConvTranspose2d`` whose ``in_channels`` is read from its first input."""

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTransposeNd, ConvTranspose3d):
    """A ``ConvTranspose3d`` whose ``in_channels`` is read from its first input."""

    cls_to_become = ConvTranspose3d


# ---- normalisations -----------------------------------------------------------------------


class _LazyNormBase(_LazyMixin):
    """A batch or instance normalisation whose ``num_features`` is read from its first input,
    as PyTorch's ``_LazyNormBase``: ``affine`` and ``track_running_stats`` on by default
    (for the instance norms too, as there)."""

    _lazy_buffer_names = ("running_mean", "running_var")

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: str | None = None,
                 dtype: DTypeLike = None, *, bias: bool = True) -> None:
        m: Any = self
        # the plain layer's checks and empty slots, with nothing to initialise yet
        _BatchNorm.__init__(m, 1, eps, momentum, False, False, device, dtype, bias=False)
        m.num_features, m.affine = 0, bool(affine)
        m.track_running_stats, m._has_bias = bool(track_running_stats), bool(bias)
        dev, dt = m._device, m._dtype
        if m.affine:
            m.weight = UninitializedParameter(device=dev, dtype=dt)
            if bias:
                m.bias = UninitializedParameter(device=dev, dtype=dt)
        if m.track_running_stats:
            m.running_mean = UninitializedBuffer(device=dev, dtype=dt)
            m.running_var = UninitializedBuffer(device=dev, dtype=dt)
            m.num_batches_tracked = tensor(0, dtype=np.int64, device=dev)
        self._start_lazy()

    def reset_parameters(self) -> None:
        """The plain layer's reset, once the shapes are known (else nothing)."""
        if not self.has_uninitialized_params() and self.__dict__.get("num_features", 0) != 0:
            super().reset_parameters()  # type: ignore[misc]

    def _channels(self, input: Tensor) -> int:  # noqa: A002
        return input.shape[1]

    def initialize_parameters(self, input: Tensor) -> None:  # noqa: A002
        """``num_features`` from ``input``'s channel axis and the parameters and running
        statistics made and reset (a no-op once they are); after a ``load_state_dict`` the
        input must fit them."""
        m: Any = self
        self._check_input(input, m.dims)
        channels = self._channels(input)
        if self.has_uninitialized_params():
            m.num_features = channels
            for t in (m.weight, m.bias, m.running_mean, m.running_var):
                if _is_lazy(t):
                    t.materialize((channels,))
            self.reset_parameters()
        elif m.num_features == 0:
            sized = [t for t in (m.weight, m.bias, m.running_mean, m.running_var)
                     if t is not None]
            loaded = sized[0].shape[0] if sized else channels  # nothing to size: the input
            if channels != loaded:
                raise ValueError(f"{type(self).__name__}: the input has {channels} channels "
                                 f"(shape {input.shape}), the loaded state expects {loaded}")
            m.num_features = loaded

    def _loaded_shape_problem(self, name: str, shape: tuple[int, ...],
                              beside: list[tuple[int, ...]]) -> str | None:
        d = self.__dict__
        known = [t.shape for t in [*d["_parameters"].values(), *d["_buffers"].values()]
                 if t is not None and not _is_lazy(t) and t.dtype.kind == "f"] + beside
        if len(shape) != 1 or shape[0] == 0:
            return "expected shape (num_features,)"
        if known and known[0] != shape:
            return f"expected shape {known[0]}, as the values loaded beside it"
        return None


class _LazyInstanceNorm(_LazyNormBase):
    def _channels(self, input: Tensor) -> int:  # noqa: A002
        m: Any = self
        return input.shape[0] if input.ndim == m.dims[0] else input.shape[1]


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """A ``BatchNorm1d`` whose ``num_features`` is read from its first input (axis 1); a
    ``BatchNorm1d`` after its first forward."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """A ``BatchNorm2d`` whose ``num_features`` is read from its first input."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    """A ``BatchNorm3d`` whose ``num_features`` is read from its first input."""

    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    """An ``InstanceNorm1d`` whose ``num_features`` is read from its first input (axis 1, or
    axis 0 of an unbatched one, where PyTorch's reads axis 1 and then refuses the input)."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    """An ``InstanceNorm2d`` whose ``num_features`` is read from its first input."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    """An ``InstanceNorm3d`` whose ``num_features`` is read from its first input."""

    cls_to_become = InstanceNorm3d


# ---- SyncBatchNorm ------------------------------------------------------------------------


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation of (N, C, *) inputs of any rank, as ``torch.nn.SyncBatchNorm``:
    PyTorch's averages the batch statistics over the processes of ``process_group``; with
    one process, the only kind here, it is batch normalisation over every axis but C, which
    is what this computes (the same parameters, buffers, state-dict keys, momentum and
    train/eval behaviour as ``BatchNorm1d/2d/3d``). ``process_group`` is kept and changes
    nothing. ``SyncBatchNorm.convert_sync_batchnorm(model)`` swaps every batch norm in a
    model for one, sharing its tensors."""

    dims = tuple(range(2, 65))  # any rank from 2 (NumPy's arrays stop at 64 axes)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 process_group: Any = None, device: str | None = None,
                 dtype: DTypeLike = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)
        self.process_group = process_group

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if not isinstance(input, Tensor):
            raise TypeError(f"SyncBatchNorm: input must be a Tensor, got {type(input).__name__}")
        if input.ndim < 2:
            raise ValueError(f"SyncBatchNorm: expected at least 2D input (got {input.ndim}D "
                             "input)")
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")
        return super().forward(input)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """``module`` with each batch normalisation in it (``BatchNorm1d/2d/3d``, a
        ``SyncBatchNorm``, itself too) replaced by a ``SyncBatchNorm`` that shares its
        parameters and running statistics and keeps its train/eval mode, as PyTorch's (the
        instance norms stay). Returns the new root (``module`` itself unless it is one)."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, _InstanceNorm):
            b: Any = module
            out = cls(b.num_features, b.eps, b.momentum, b.affine, b.track_running_stats,
                      process_group, device=b._device, dtype=b._dtype)
            with no_grad():
                if b.affine:
                    out.weight, out.bias = b.weight, b.bias
                out.running_mean, out.running_var = b.running_mean, b.running_var
                out.num_batches_tracked = b.num_batches_tracked
            out.training = b.training
            if hasattr(b, "qconfig"):
                out.qconfig = b.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out

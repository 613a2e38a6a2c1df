"""Small layers: Linear, LazyLinear, Bilinear, Embedding, the dropouts, Sequential, Flatten
and Unflatten, the padding layers, and the distances CosineSimilarity and PairwiseDistance."""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import functional as F
from .. import random as _random
from ..backend import get_device
from ..tensor import DTypeError, DTypeLike, Tensor, host_array, tensor
from .module import Module, UninitializedParameter, _ModuleSequence, param_dtype


def _size(name: str, v: Any) -> int:
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
    return int(v)


class Linear(Module):
    """y = x Wᵀ + b, W of shape (out_features, in_features), PyTorch's initialisation
    U(-1/sqrt(in), 1/sqrt(in))."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: str | None = None, dtype: DTypeLike = None) -> None:
        super().__init__()
        self.in_features = _size("in_features", in_features)
        self.out_features = _size("out_features", out_features)
        self._device = get_device(device or "cpu").name
        self._dtype = param_dtype(dtype, type(self).__name__)
        self._has_bias = bool(bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(in), 1/sqrt(in)) for the weight and the bias (zeros when in is 0), in
        place where the parameters exist."""
        k = 1 / math.sqrt(self.in_features) if self.in_features else 0.0
        rng = _random.generator()
        self._init_parameter("weight", rng.uniform(-k, k, (self.out_features, self.in_features)))
        params = self._parameters  # a bias set to None since is not put back
        if params["bias"] is not None if "bias" in params else self._has_bias:
            self._init_parameter("bias", rng.uniform(-k, k, (self.out_features,)))
        else:
            self.bias = None

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 (PyTorch's name)
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class LazyLinear(Linear):
    """A ``Linear`` whose ``in_features`` is read from its first input, as
    ``torch.nn.LazyLinear``: until then ``in_features`` is 0 and ``weight`` and ``bias`` are
    ``UninitializedParameter``s (in ``state_dict()`` as they are); the first forward gives
    them their shapes and ``Linear``'s initialisation, and the module becomes a ``Linear``
    (its class too). ``load_state_dict`` before then takes their shapes from the state
    (the values loaded), as PyTorch's; ``has_uninitialized_params()`` says which it is."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: str | None = None,
                 dtype: DTypeLike = None) -> None:
        Module.__init__(self)
        self.in_features = 0
        self.out_features = _size("out_features", out_features)
        self._device = get_device(device or "cpu").name
        self._dtype = param_dtype(dtype, type(self).__name__)
        self._has_bias = bool(bias)
        self.weight = UninitializedParameter(device=self._device, dtype=self._dtype)
        if bias:
            self.bias = UninitializedParameter(device=self._device, dtype=self._dtype)
        else:
            self.register_parameter("bias", None)
        self._load_hook = self.register_load_state_dict_pre_hook(_lazy_linear_shapes)

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter still waits for its shape."""
        return any(isinstance(p, UninitializedParameter) for p in self._parameters.values())

    def reset_parameters(self) -> None:
        """``Linear``'s initialisation, once the shapes are known (else nothing)."""
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:  # noqa: A002
        """``in_features`` from ``input``'s last axis, the parameters made and initialised (a
        no-op once they are); after a ``load_state_dict`` the input must fit the weight."""
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.ndim == 0:
            raise ValueError(f"{name}: the input must be a Tensor with at least one axis (its "
                             f"features), got {getattr(input, 'shape', type(input).__name__)}")
        w = self.weight  # checked before the parameters are made (F.linear would after)
        if input.dtype != w.dtype:
            raise DTypeError(f"{name}: input dtype {input.dtype} does not match the parameters' "
                             f"dtype {w.dtype}; convert the input with x.to({str(w.dtype)!r}) or "
                             "the layer with .to(dtype)")
        if input.device != w.device:
            raise ValueError(f"{name}: the input is on {input.device!r}, the parameters on "
                             f"{w.device!r}; move one with .to(device)")
        if self.has_uninitialized_params():
            self.in_features = input.shape[-1]
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()
        elif self.in_features == 0:  # loaded: the weight says how many
            if input.shape[-1] != self.weight.shape[-1]:
                raise ValueError(f"{name}: the input has {input.shape[-1]} "
                                 f"features (shape {input.shape}), the loaded weight of shape "
                                 f"{self.weight.shape} expects {self.weight.shape[-1]}")
            self.in_features = self.weight.shape[-1]

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self.initialize_parameters(input)
        self._load_hook.remove()
        del self._load_hook
        self.__class__ = self.cls_to_become
        return self.forward(input)


def _lazy_linear_shapes(module: LazyLinear, state: dict[str, Any], prefix: str, *args: Any
                        ) -> None:
    """Before ``load_state_dict``: a ``LazyLinear``'s uninitialized parameters take the shapes
    of the values given for them, (out_features, k) and (out_features,), or the load is
    refused (``args[-1]`` collects the problems)."""
    errors, shapes = args[-1], {}
    for name, want in (("weight", 2), ("bias", 1)):
        p, key = module._parameters.get(name), prefix + name
        if not isinstance(p, UninitializedParameter) or key not in state or \
                isinstance(state[key], UninitializedParameter):
            continue
        shape = tuple(np.shape(host_array(state[key])))
        if len(shape) != want or shape[0] != module.out_features:
            errors.append(f"{key}: expected shape ({module.out_features}"
                          f"{', in_features' if want == 2 else ''}) for LazyLinear("
                          f"out_features={module.out_features}), got {shape}")
        shapes[name] = shape
    if not errors:
        for name, shape in shapes.items():
            module._parameters[name].materialize(shape)


class Bilinear(Module):
    """y = x1ᵀ W x2 + b (``F.bilinear``), W of shape (out_features, in1_features,
    in2_features), both initialised U(-1/sqrt(in1), 1/sqrt(in1)), as PyTorch's."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device: str | None = None, dtype: DTypeLike = None
                 ) -> None:
        super().__init__()
        self.in1_features = _size("in1_features", in1_features)
        self.in2_features = _size("in2_features", in2_features)
        self.out_features = _size("out_features", out_features)
        self._device = get_device(device or "cpu").name
        self._dtype = param_dtype(dtype, type(self).__name__)
        self._has_bias = bool(bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(in1), 1/sqrt(in1)) for the weight and the bias, in place."""
        k = 1 / math.sqrt(self.in1_features) if self.in1_features else 0.0
        rng = _random.generator()
        self._init_parameter("weight", rng.uniform(
            -k, k, (self.out_features, self.in1_features, self.in2_features)))
        params = self._parameters
        if params["bias"] is not None if "bias" in params else self._has_bias:
            self._init_parameter("bias", rng.uniform(-k, k, (self.out_features,)))
        else:
            self.register_parameter("bias", None)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class _Table(Module):
    """What Embedding and EmbeddingBag share: a table of ``num_embeddings`` vectors of size
    ``embedding_dim``, N(0, 1) init, the row ``padding_idx`` (a negative index counts from
    the end) zero; the options checked as PyTorch's."""

    def _table(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None,
               max_norm: float | None, norm_type: float, scale_grad_by_freq: bool,
               sparse: bool) -> None:
        name = type(self).__name__
        if scale_grad_by_freq:
            raise ValueError(f"{name}: scale_grad_by_freq=True is not implemented (it divides "
                             "each row's gradient by its count in the batch)")
        if max_norm is not None and not (isinstance(max_norm, numbers.Real) and max_norm > 0):
            raise ValueError(f"{name}: max_norm must be a positive number, got {max_norm!r}")
        self.max_norm, self.norm_type, self.sparse = max_norm, float(norm_type), bool(sparse)
        self.scale_grad_by_freq = False
        self.num_embeddings = _size("num_embeddings", num_embeddings)
        self.embedding_dim = _size("embedding_dim", embedding_dim)
        if padding_idx is not None:
            n = self.num_embeddings
            if not isinstance(padding_idx, (int, np.integer)) or isinstance(padding_idx, bool) \
                    or not -n <= padding_idx < n:
                raise ValueError(f"padding_idx must be an index in [-{n}, {n}), got "
                                 f"{padding_idx!r}")
            padding_idx = int(padding_idx) % n
        self.padding_idx = padding_idx

    def reset_parameters(self) -> None:
        """N(0, 1), the padding row zero; in place where the weight exists."""
        host = _random.generator().standard_normal((self.num_embeddings, self.embedding_dim))
        if self.padding_idx is not None:
            host[self.padding_idx] = 0
        self._init_parameter("weight", host)


class Embedding(_Table):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``, N(0, 1) init.
    With ``padding_idx``, as PyTorch: that row starts at zero and gets no gradient (a
    negative index counts from the end). With ``max_norm``, as PyTorch: each forward first
    rescales, in place and outside autograd, every looked-up row whose ``norm_type``-norm
    exceeds it to norm ``max_norm`` (exactly: ``max_norm / (norm + 1e-7)``).
    With ``sparse=True``, the weight's gradient is a sparse COO tensor of the looked-up rows
    (for ``optim.SparseAdam``, ``SGD``, ``Adagrad``), as PyTorch's."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: np.ndarray | None = None, _freeze: bool = False,
                 device: str | None = None, dtype: DTypeLike = None) -> None:
        super().__init__()
        self._table(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                    scale_grad_by_freq, sparse)
        self._device = get_device(device or "cpu").name
        self._dtype = param_dtype(dtype, type(self).__name__)
        if _weight is None:
            self.reset_parameters()
        else:  # from_pretrained: these values, no random draw
            if _weight.shape != (self.num_embeddings, self.embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {_weight.shape}, expected "
                                 f"({self.num_embeddings}, {self.embedding_dim})")
            self._init_parameter("weight", np.asarray(host_array(_weight)))
        if _freeze:
            self.weight.requires_grad = False

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True,
                        padding_idx: int | None = None, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False, device: str | None = None,
                        dtype: DTypeLike = None) -> Embedding:
        """An Embedding whose weight is a copy of ``embeddings`` (num_embeddings,
        embedding_dim: a Tensor, array, or PyTorch tensor), as PyTorch's: frozen
        (``requires_grad`` False) unless ``freeze=False``; the row ``padding_idx`` keeps its
        values and gets no gradient. On the tensor's device with its dtype unless given."""
        if isinstance(embeddings, Tensor):
            host, where = embeddings.numpy(), embeddings.device
        elif isinstance(embeddings, (list, tuple)):  # as tr.tensor (and torch.tensor) read
            # them: Python floats float32, NumPy float64 scalars or rows float64
            host, where = tensor(embeddings).numpy(), "cpu"
        else:
            host, where = np.asarray(host_array(embeddings)), "cpu"
        if host.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D "
                             f"(num_embeddings, embedding_dim), got shape {host.shape}")
        m = cls(host.shape[0], host.shape[1], padding_idx, device=device or where,
                dtype=host.dtype if dtype is None else dtype, max_norm=max_norm,
                norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse,
                _weight=host)
        m.weight.requires_grad = not freeze
        return m

    def forward(self, input: Any) -> Tensor:  # noqa: A002 (PyTorch's name: the indices)
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           sparse=self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        return s + (", sparse=True" if self.sparse else "")


class Dropout(Module):
    """Zeroes elements with probability ``p`` in training mode; the identity in eval mode."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"dropout probability must be a number in [0, 1], got {p!r}")
        self.p, self.inplace = p, bool(inplace)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class AlphaDropout(Dropout):
    """Alpha dropout for SELU networks (``F.alpha_dropout``): in training, drops each element
    with probability ``p`` to SELU's saturation value and rescales, keeping zero mean and
    unit variance; the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.alpha_dropout(input, self.p, self.training, self.inplace)


class Dropout1d(Dropout):
    """Channel-wise dropout (``F.dropout1d``): each channel of (N, C, L) or (C, L) inputs is
    zeroed as a whole with probability ``p`` in training (the rest scaled by 1/(1-p)); the
    identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(Dropout):
    """Channel-wise dropout (``F.dropout2d``) of (N, C, H, W) inputs; a 3-D input is taken
    as (N, C, L), with PyTorch's warning."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(Dropout):
    """Channel-wise dropout (``F.dropout3d``) of (N, C, D, H, W) or (C, D, H, W) inputs."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout3d(input, self.p, self.training, self.inplace)


class FeatureAlphaDropout(Dropout):
    """Alpha dropout of whole channels (``F.feature_alpha_dropout``), for SELU networks; the
    identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.feature_alpha_dropout(input, self.p, self.training, self.inplace)


class EmbeddingBag(_Table):
    """Sums, means or maxima of bags of embeddings (``F.embedding_bag``), without making each
    bag's lookups first, as ``torch.nn.EmbeddingBag``: a table of ``num_embeddings`` vectors
    of size ``embedding_dim``, N(0, 1) init (the row ``padding_idx``, if given, zero; its
    entries are left out of every bag). ``forward(input, offsets=None,
    per_sample_weights=None)``: a 2-D input is a batch of bags of one length, a 1-D input
    with ``offsets`` bags of any length. ``max_norm`` renormalises looked-up rows in place,
    as ``Embedding``'s; ``sparse=True`` gives the weight a sparse gradient, as ``Embedding``'s.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Any = None, include_last_offset: bool = False,
                 padding_idx: int | None = None, device: str | None = None,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        if mode not in F.EMBEDDING_BAG_MODES:
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        self._table(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                    scale_grad_by_freq, sparse)
        self.mode, self.include_last_offset = mode, bool(include_last_offset)
        self._device = get_device(device or "cpu").name
        self._dtype = param_dtype(dtype, type(self).__name__)
        if _weight is None:
            self.reset_parameters()
        else:
            host = np.asarray(host_array(_weight))
            if host.shape != (self.num_embeddings, self.embedding_dim):
                raise ValueError(f"EmbeddingBag: _weight has shape {host.shape}, expected "
                                 f"({self.num_embeddings}, {self.embedding_dim})")
            self._init_parameter("weight", host)

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag whose weight is a copy of the 2-D ``embeddings`` (a Tensor, array
        or PyTorch tensor), frozen unless ``freeze=False``, as PyTorch's."""
        if isinstance(embeddings, Tensor):
            host, where = embeddings.numpy(), embeddings.device
        else:
            host, where = np.asarray(host_array(embeddings)), "cpu"
        if host.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-D, got shape "
                             f"{host.shape}")
        m = cls(host.shape[0], host.shape[1], max_norm, norm_type, scale_grad_by_freq, mode,
                sparse, host, include_last_offset, padding_idx, device=where,
                dtype=host.dtype if host.dtype.kind == "f" else None)
        m.weight.requires_grad = not freeze
        return m

    def forward(self, input: Tensor, offsets: Tensor | None = None,  # noqa: A002
                per_sample_weights: Tensor | None = None) -> Tensor:
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               False, self.mode, self.sparse, per_sample_weights,
                               self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s


class Sequential(_ModuleSequence):
    """Modules applied one after another, registered as ``0``, ``1``, ... (or under the keys
    of one ``OrderedDict`` given instead, as PyTorch's). Indexing, ``append``, ``extend``,
    ``insert``, ``pop``, ``del``, ``+``, ``+=``, ``*`` and ``*=`` work as PyTorch's; a slice
    keeps the modules' names, as there (so its ``state_dict`` names match the whole model's)."""

    def __init__(self, *modules: Any) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            named = list(modules[0].items())
        else:
            named = [(str(i), m) for i, m in enumerate(modules)]
        for name, m in named:
            self.add_module(name, m)

    def forward(self, input: Any) -> Any:  # noqa: A002 (PyTorch's name)
        for m in self:
            input = m(input)  # noqa: A001
        return input

    def _slice(self, idx: slice) -> Sequential:
        return type(self)(OrderedDict(list(self._modules.items())[idx]))

    def _only_sequential(self, other: Any) -> None:
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but "
                             f"{type(other).__name__} is given")

    def __add__(self, other: Sequential) -> Sequential:
        self._only_sequential(other)
        return Sequential(*self, *other)

    def __iadd__(self, other: Sequential) -> Sequential:
        self._only_sequential(other)
        return self.extend(other)

    def _times(self, n: Any) -> list[Module]:
        """The modules ``n`` times over (the same objects), for ``*``."""
        if not isinstance(n, int):
            raise TypeError(f"unsupported operand type(s) for *: {type(self).__name__!r} and "
                            f"{type(n).__name__!r}")
        if n <= 0:
            raise ValueError(f"Non-positive multiplication factor {n} for Sequential")
        return list(self) * n

    def __mul__(self, n: int) -> Sequential:
        """``seq * n``: a new Sequential of the modules repeated (shared, not copied)."""
        return Sequential(*self._times(n))

    __rmul__ = __mul__

    def __imul__(self, n: int) -> Sequential:
        return self.extend(self._times(n)[len(self):])


class Flatten(Module):
    """The axes ``start_dim`` to ``end_dim`` merged into one (``Tensor.flatten``); by default
    all but the first (the batch)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Axis ``dim`` split into ``unflattened_size`` (one entry may be -1): Flatten undone."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)) or not all(
                isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                for n in unflattened_size):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of integers, got "
                            f"{unflattened_size!r}")
        self.dim, self.unflattened_size = dim, tuple(int(n) for n in unflattened_size)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if not -input.ndim <= self.dim < input.ndim:
            raise ValueError(f"Unflatten: dim {self.dim} is out of range for an input of shape "
                             f"{input.shape}")
        d = self.dim % input.ndim
        return input.reshape(*input.shape[:d], *self.unflattened_size, *input.shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _paddings(where_: str, padding: Any, n: int) -> tuple[int, ...]:
    """An int (the same on every side) or ``2 n`` ints as a ``2 n``-tuple, as PyTorch keeps a
    padding layer's ``padding``."""
    pads = (padding,) * (2 * n) if isinstance(padding, (int, np.integer)) else padding
    if not isinstance(pads, (tuple, list)) or len(pads) != 2 * n or not all(
            isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pads):
        raise ValueError(f"{where_}: padding must be an int or {2 * n} ints (before, after "
                         f"per axis, the last axis first), got {padding!r}")
    return tuple(int(p) for p in pads)


class _PadNd(Module):
    """Pads the last ``n`` axes of an input with ``n + 1`` or ``n + 2`` axes (``F.pad`` in
    ``mode``): ``padding`` is an int or ``2 n`` ints, (before, after) per axis, the last axis
    first."""

    n, mode = 1, "reflect"

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__()
        self.padding = _paddings(type(self).__name__, padding, self.n)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pads the last axis with its mirror image about its edge (``F.pad``, "reflect")."""


class ReflectionPad2d(_PadNd):
    """``ReflectionPad1d`` over the last two axes: (left, right, top, bottom)."""

    n = 2


class ReflectionPad3d(_PadNd):
    """``ReflectionPad1d`` over the last three axes: (left, right, top, bottom, front,
    back)."""

    n = 3


class ReplicationPad1d(_PadNd):
    """Pads the last axis with copies of its edge element (``F.pad``, "replicate")."""

    mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """``ReplicationPad1d`` over the last two axes."""

    n = 2


class ReplicationPad3d(ReplicationPad1d):
    """``ReplicationPad1d`` over the last three axes."""

    n = 3


class CircularPad1d(_PadNd):
    """Pads the last axis with the input wrapped around (``F.pad``, "circular")."""

    mode = "circular"


class CircularPad2d(CircularPad1d):
    """``CircularPad1d`` over the last two axes."""

    n = 2


class CircularPad3d(CircularPad1d):
    """``CircularPad1d`` over the last three axes."""

    n = 3


class _ConstantPadNd(Module):
    """Pads the last ``n`` axes with ``value`` (``F.pad``, mode "constant"). ``padding`` is
    an int (the same on every side) or ``2 n`` ints: (before, after) per axis, the last axis
    first."""

    n = 1

    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__()
        self.padding, self.value = _paddings(type(self).__name__, padding, self.n), value

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last axis with ``value``: ``padding`` is an int or (before, after)."""


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two axes with ``value``: ``padding`` is an int or (left, right, top,
    bottom), the last axis first."""

    n = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three axes with ``value``: ``padding`` is an int or (left, right, top,
    bottom, front, back), the last axis first."""

    n = 3


class ZeroPad1d(ConstantPad1d):
    """Pads the last axis with zeros: ``padding`` is an int or (before, after)."""

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pads the last two axes with zeros: ``padding`` is an int or (left, right, top,
    bottom)."""

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pads the last three axes with zeros: ``padding`` is an int or (left, right, top,
    bottom, front, back)."""

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class CosineSimilarity(Module):
    """The cosine of the angle between x1 and x2 along ``dim`` (``F.cosine_similarity``)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, eps={self.eps}"


class PairwiseDistance(Module):
    """‖x1 - x2 + eps‖_p along the last axis (``F.pairwise_distance``)."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim  # ``norm``: PyTorch's name for p

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)

    def extra_repr(self) -> str:
        return f"p={self.norm}, eps={self.eps}, keepdim={self.keepdim}"


class DataParallel(Module):
    """``torch.nn.DataParallel`` on one device: ``forward`` calls the wrapped ``module`` where
    it is (PyTorch's, given one GPU, would move the module and inputs there: here move them
    with ``.to``), and the state dict's names gain the prefix ``module.``, as there, so
    checkpoints of wrapped models load in both. Splitting a batch over several GPUs is not
    done here: more than one of ``device_ids`` is refused."""

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel wraps an nn.Module, got {type(module).__name__}")
        ids = [] if device_ids is None else list(device_ids)
        if len(ids) > 1:
            raise ValueError(f"DataParallel: device_ids={ids}: this framework runs a model on "
                             "one device; give at most one")
        self.module = module
        self.device_ids, self.output_device, self.dim = ids, output_device, dim

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

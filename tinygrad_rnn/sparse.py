"""Sparse COO tensors, as PyTorch's ``torch.sparse_coo`` layout, and ``tr.sparse`` (``mm``,
``addmm``, ``sum``, ``softmax``, ``log_softmax``).

A sparse tensor of shape ``S + D`` (``sparse_dim()`` axes S, ``dense_dim()`` axes D) holds
``indices``, an int64 array (sparse_dim, nnz), and ``values``, a Tensor (nnz, *D): entry k is
``values[k]`` at ``indices[:, k]``. An index may appear more than once (an *uncoalesced*
tensor): the entries at one place add up. ``coalesce()`` sums them and sorts the indices.

``SparseTensor`` is a class of its own beside ``Tensor``, not a flag on it, so no dense op pays
for sparse tensors: a dense op handed one refuses it (naming the op and ``.to_dense()``), and
every sparse operation is written here from the dense ops. The values are a Tensor, so
gradients flow through them as through any op: ``to_dense()``, ``sparse.mm``, ``coalesce()``
and ``sparse_coo_tensor(indices, values)`` are differentiable in the values (a leaf sparse
tensor's ``.grad`` is sparse and coalesced, one entry per place it holds).
``embedding(..., sparse=True)`` gives its weight a sparse gradient (``EmbeddingSparse``),
which ``optim.SparseAdam``, ``SGD`` and ``Adagrad`` apply to the rows present only.

Differences from PyTorch: ``isinstance(s, tr.Tensor)`` is False; ``s1 + s2`` of uncoalesced
tensors joins the entries in order (PyTorch merges them, summing equal heads), which is the
same tensor with its entries in another order and, where an index repeats, more of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .backend import device_of, get_device
from .tensor import (
    DTypeLike,
    Function,
    Size,
    Tensor,
    layout,
    resolve_dtype,
    sparse_coo,
    strided,
    tensor,
)

__all__ = ["SparseTensor", "sparse_coo_tensor", "mm", "addmm", "sum", "softmax",
           "log_softmax", "sparse_coo", "strided", "layout"]




class SparseError(NotImplementedError, AttributeError):
    """An operation that sparse tensors do not support (NotImplementedError, as PyTorch's;
    an AttributeError too, so ``hasattr`` and ``getattr(s, name, default)`` work)."""


def refuse(op: str) -> SparseError:
    """The error for ``op`` given a sparse tensor."""
    return SparseError(f"{op} does not support sparse tensors (layout tinygrad_rnn.sparse_coo); "
                       "convert with .to_dense() first")


def _ints(indices: Any, dev: Any) -> Any:
    """``indices`` as an int64 array on ``dev``."""
    if isinstance(indices, Tensor):
        a = indices._data
        if indices._dev is not dev:
            raise ValueError(f"sparse_coo_tensor: indices are on {indices.device!r} and values "
                             f"on {dev.name!r}; move one with .to(device)")
    else:
        a = dev.to_device(np.asarray(indices))
    if a.dtype.kind not in "iu" and not (a.size == 0 and a.dtype.kind == "f"):
        raise TypeError(f"sparse_coo_tensor: indices must be integers, got {a.dtype}")
    return a.astype(np.int64)


class SparseTensor:
    """A sparse COO tensor (see the module's docstring). Make one with
    ``tr.sparse_coo_tensor`` or ``x.to_sparse()``."""

    __slots__ = ("_idx", "_vals", "_shape", "_coalesced", "__weakref__")
    is_sparse = True
    layout = sparse_coo
    __array_ufunc__ = None  # so ndarray * SparseTensor reaches the sparse operator

    def __init__(self, indices: Any, values: Tensor, shape: tuple[int, ...],
                 coalesced: bool) -> None:
        """The engine's constructor: ``indices`` an int64 array on the values' device,
        unchecked (``sparse_coo_tensor`` checks)."""
        self._idx, self._vals, self._shape = indices, values, tuple(shape)
        self._coalesced = bool(coalesced) or indices.shape[1] == 0

    # ---- what it is ----------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._shape)

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self._shape[dim]

    @property
    def dtype(self) -> np.dtype:
        return self._vals.dtype

    @property
    def device(self) -> Any:
        return self._vals.device

    @property
    def is_cuda(self) -> bool:
        return self._vals.is_cuda

    # PyTorch's other layout, kind and device queries: False, as there for a sparse COO tensor
    is_sparse_csr = is_quantized = is_nested = is_meta = is_mkldnn = is_mps = is_xpu = False
    is_xla = is_ipu = is_mtia = is_maia = is_vulkan = False

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def dim(self) -> int:
        return len(self._shape)

    def numel(self) -> int:
        return math.prod(self._shape)

    def sparse_dim(self) -> int:
        return int(self._idx.shape[0])

    def dense_dim(self) -> int:
        return len(self._shape) - self.sparse_dim()

    def _nnz(self) -> int:
        """The number of entries stored (duplicates counted)."""
        return int(self._idx.shape[1])

    def is_coalesced(self) -> bool:
        return self._coalesced

    def _indices(self) -> Tensor:
        """The indices (sparse_dim, nnz) as they are, coalesced or not."""
        return Tensor._wrap(self._idx, self._vals._dev)

    def _values(self) -> Tensor:
        """The values (nnz, *dense dims) as they are (differentiable)."""
        return self._vals

    def indices(self) -> Tensor:
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._indices()

    def values(self) -> Tensor:
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._vals

    # ---- autograd ------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._vals.requires_grad

    def requires_grad_(self, requires_grad: bool = True) -> SparseTensor:
        self._vals.requires_grad_(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self._vals.is_leaf

    @property
    def grad_fn(self) -> Any:
        return self._vals.grad_fn

    @property
    def grad(self) -> SparseTensor | None:
        """A leaf's gradient, as PyTorch's: sparse, coalesced, one entry per place this
        tensor holds (the values' gradient there: every copy of a duplicated index gets the
        same one, the gradient of the dense tensor at that place)."""
        g = self._vals.grad
        if g is None:
            return None
        if self._coalesced:
            return SparseTensor(self._idx, g, self._shape, True)
        xp, sd = g._dev.xp, self.sparse_dim()
        flat = xp.ravel_multi_index(tuple(self._idx), self._shape[:sd])
        uniq, first = xp.unique(flat, return_index=True)
        idx = xp.stack(xp.unravel_index(uniq, self._shape[:sd])).astype(np.int64)
        return SparseTensor(idx.reshape(sd, -1), Tensor._wrap(g._data[first], g._dev),
                            self._shape, True)

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None:
            raise refuse("assigning .grad of a sparse tensor (other than None)")
        self._vals.grad = None

    def zero_(self) -> SparseTensor:
        """No entries left (nnz 0), in place, as PyTorch's."""
        dev = self._vals._dev
        self._idx = dev.xp.zeros((self.sparse_dim(), 0), dtype=np.int64)
        self._vals = Tensor._wrap(dev.xp.zeros((0,) + self._vals.shape[1:], self.dtype), dev)
        self._coalesced = True
        return self

    def detach(self) -> SparseTensor:
        return SparseTensor(self._idx, self._vals.detach(), self._shape, self._coalesced)

    def clone(self) -> SparseTensor:
        return SparseTensor(self._idx.copy(), self._vals.clone(), self._shape, self._coalesced)

    def to(self, device: Any = None, dtype: DTypeLike = None) -> SparseTensor:
        """On another device and/or with another dtype (differentiable in the values)."""
        v = self._vals.to(device, dtype)
        return SparseTensor(v._dev.to_device(self._idx) if v._dev is not self._vals._dev
                            else self._idx, v, self._shape, self._coalesced)

    def double(self) -> SparseTensor:
        return self.to(dtype=np.float64)

    def float(self) -> SparseTensor:
        return self.to(dtype=np.float32)

    def cpu(self) -> SparseTensor:
        return self.to("cpu")

    def __repr__(self) -> str:
        return (f"tensor(indices={self._indices()!r},\n       values={self._vals!r},\n"
                f"       size={self._shape}, nnz={self._nnz()}, layout=tinygrad_rnn.sparse_coo)")

    def __getattr__(self, name: str) -> Any:  # only for names the class does not have
        if name.startswith("_"):  # (copy, pickle and the engine probe for these)
            raise AttributeError(f"'SparseTensor' object has no attribute {name!r}")
        raise refuse(name)

    def __bool__(self) -> bool:
        raise refuse("bool()")

    __hash__ = object.__hash__  # (by identity, as a dense tensor's)

    def __eq__(self, other: Any) -> Any:  # never Python's identity test, silently
        raise refuse("==")

    def __ne__(self, other: Any) -> Any:
        raise refuse("!=")

    def __lt__(self, other: Any) -> Any:
        raise refuse("<")

    def __le__(self, other: Any) -> Any:
        raise refuse("<=")

    def __gt__(self, other: Any) -> Any:
        raise refuse(">")

    def __ge__(self, other: Any) -> Any:
        raise refuse(">=")

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise refuse("conversion to a NumPy array")

    def __getitem__(self, index: Any) -> Any:
        raise refuse("indexing (s[...])")

    def __setitem__(self, index: Any, value: Any) -> None:
        raise refuse("indexed assignment (s[...] = v)")

    def __len__(self) -> int:
        return self._shape[0]

    def __reduce_ex__(self, protocol: Any) -> Any:  # pickle, deepcopy: the parts, on the host
        dev = self._vals._dev
        return (_rebuild, (dev.to_host(self._idx), self._vals.detach().numpy(), self._shape,
                           self._coalesced, dev.name, self.requires_grad))

    # ---- conversions ---------------------------------------------------------------------
    def to_dense(self) -> Tensor:
        """The dense tensor: zeros with the values added at their indices (duplicates add).
        Differentiable in the values: g_values = gy[indices] (``IndexScatter``'s VJP)."""
        from .ops.movement import IndexScatter

        return IndexScatter.apply(self._vals, index=tuple(self._idx), shape=self._shape)

    def to_sparse(self, sparse_dim: int | None = None) -> SparseTensor:
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise refuse("to_sparse with another sparse_dim")
        return self

    def to_sparse_coo(self) -> SparseTensor:
        return self

    def coalesce(self) -> SparseTensor:
        """The same tensor with each index once (the duplicates' values summed) and the
        indices in row-major order. Differentiable: g_values[k] = g_new[place of k]."""
        if self._coalesced:
            return self
        from .ops.movement import IndexScatter

        xp, sd = self._vals._dev.xp, self.sparse_dim()
        flat = xp.ravel_multi_index(tuple(self._idx), self._shape[:sd])
        uniq, inv = xp.unique(flat, return_inverse=True)
        idx = xp.stack(xp.unravel_index(uniq, self._shape[:sd])).astype(np.int64)
        vals = IndexScatter.apply(self._vals, index=(inv.reshape(-1),),
                                  shape=(len(uniq),) + self._vals.shape[1:])
        return SparseTensor(idx.reshape(sd, -1), vals, self._shape, True)

    # ---- arithmetic ----------------------------------------------------------------------
    def _with(self, values: Tensor) -> SparseTensor:
        """New values at the same indices (coalesced if this is, or if it holds at most one
        entry, as PyTorch marks such results)."""
        return SparseTensor(self._idx, values, self._shape,
                            self._coalesced or self._idx.shape[1] <= 1)

    def _scalar(self, other: Any, op: str) -> Any:
        if isinstance(other, Tensor) and other.ndim == 0:
            return other
        if isinstance(other, (int, float, np.number)) and not isinstance(other, bool):
            return other
        raise refuse(f"sparse {op} with a {type(other).__name__} (only a number or a 0-d "
                     "tensor, or another sparse tensor for + and -)")

    def __mul__(self, other: Any) -> SparseTensor:
        return self._with(self._vals * self._scalar(other, "*"))

    __rmul__ = __mul__

    def mul(self, other: Any) -> SparseTensor:
        return self * other

    def __truediv__(self, other: Any) -> SparseTensor:
        return self._with(self._vals / self._scalar(other, "/"))

    def div(self, other: Any) -> SparseTensor:
        return self / other

    def __neg__(self) -> SparseTensor:
        return self._with(-self._vals)

    def neg(self) -> SparseTensor:
        return -self

    def __add__(self, other: Any) -> SparseTensor:
        """s + t of two sparse tensors of one shape: their entries joined (uncoalesced,
        unless both were coalesced, as PyTorch's). s + dense is refused, as PyTorch's."""
        if not isinstance(other, SparseTensor):
            if isinstance(other, Tensor):
                raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                                   "instead.")
            raise refuse(f"sparse + {type(other).__name__}")
        if other._shape != self._shape or other.sparse_dim() != self.sparse_dim():
            raise ValueError(f"sparse add: shapes {self._shape} (sparse_dim "
                             f"{self.sparse_dim()}) and {other._shape} (sparse_dim "
                             f"{other.sparse_dim()}) must be equal")
        from .ops.movement import cat

        xp = self._vals._dev.xp
        both = self._coalesced and other._coalesced
        if other._vals._dev is not self._vals._dev:
            raise ValueError(f"sparse add: tensors on {self.device!r} and {other.device!r}")
        vals = other._vals if other.dtype == self.dtype else other._vals.to(dtype=self.dtype)
        s = SparseTensor(xp.concatenate([self._idx, other._idx], axis=1),
                         cat([self._vals, vals], 0), self._shape, False)
        return s.coalesce() if both else s

    def __radd__(self, other: Any) -> Any:  # dense + sparse: dense, as PyTorch's
        if isinstance(other, Tensor):
            return other + self.to_dense()
        raise refuse(f"{type(other).__name__} + sparse")

    def __sub__(self, other: Any) -> SparseTensor:
        if isinstance(other, SparseTensor):
            return self + (-other)
        return self + other  # refused there, with add's message

    def __rsub__(self, other: Any) -> Any:
        if isinstance(other, Tensor):
            return other - self.to_dense()
        raise refuse(f"{type(other).__name__} - sparse")

    def add(self, other: Any, alpha: Any = 1) -> SparseTensor:
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, alpha: Any = 1) -> SparseTensor:
        return self - (other if alpha == 1 else other * alpha)

    def t(self) -> SparseTensor:
        """The transpose of a 2-D sparse tensor (both axes sparse)."""
        if self.ndim != 2 or self.sparse_dim() != 2:
            raise ValueError(f"t() expects a 2-D sparse tensor with 2 sparse dims, got shape "
                             f"{self._shape} with sparse_dim {self.sparse_dim()}")
        return SparseTensor(self._idx[::-1].copy(), self._vals, self._shape[::-1], False)

    @property
    def T(self) -> SparseTensor:  # noqa: N802
        return self.t()

    def mm(self, other: Tensor) -> Tensor:
        return mm(self, other)

    def __matmul__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor) and other.ndim == 1:  # a matrix times a vector
            return mm(self, other.unsqueeze(1)).squeeze(1)
        return mm(self, other)

    def matmul(self, other: Any) -> Tensor:
        return mm(self, other)

    def sum(self, dim: Any = None) -> Any:
        return sum(self, dim)


def _rebuild(indices: np.ndarray, values: np.ndarray, shape: tuple[int, ...],
             coalesced: bool, device: str, requires_grad: bool) -> SparseTensor:
    dev = get_device(device)
    vals = Tensor._wrap(dev.to_device(values), dev, requires_grad)
    return SparseTensor(dev.to_device(indices), vals, shape, coalesced)


def sparse_coo_tensor(indices: Any, values: Any, size: Sequence[int] | None = None, *,
                      dtype: DTypeLike = None, device: Any = None, requires_grad: bool = False,
                      check_invariants: bool | None = None,
                      is_coalesced: bool | None = None) -> SparseTensor:
    """A sparse COO tensor with ``values[k]`` at ``indices[:, k]``, as
    ``torch.sparse_coo_tensor``: ``indices`` (sparse_dim, nnz) integers, ``values`` (nnz,
    *dense dims). ``size`` defaults to one past the largest index in each sparse axis (then
    the values' other axes). Values that are a Tensor recording a graph stay in it (the
    result is differentiable in them); ``requires_grad=True`` makes a leaf.
    ``is_coalesced=True`` promises that the indices are unique and sorted (unchecked, as
    PyTorch's)."""
    if isinstance(values, Tensor):
        vals = values if device is None else values.to(device)
        if dtype is not None and resolve_dtype(dtype) != vals.dtype:
            vals = vals.to(dtype=dtype)
    else:
        vals = tensor(values, dtype=dtype, device=device)
    dev = vals._dev
    idx = _ints(indices, dev)
    if idx.ndim != 2:
        raise ValueError(f"sparse_coo_tensor: indices must be 2-D (sparse_dim, nnz), got shape "
                         f"{tuple(idx.shape)}")
    sd, nnz = idx.shape
    if vals.ndim < 1 or vals.shape[0] != nnz:
        raise ValueError(f"sparse_coo_tensor: values must have nnz = {nnz} rows (one per "
                         f"index column), got shape {tuple(vals.shape)}")
    if sd < 1:
        raise ValueError("sparse_coo_tensor: indices need at least one row (sparse_dim >= 1)")
    host = dev.to_host(idx)
    if nnz and host.min() < 0:
        raise ValueError("sparse_coo_tensor: indices must be non-negative")
    dense = tuple(vals.shape[1:])
    if size is None:
        shape = tuple(int(m) + 1 for m in host.max(axis=1)) if nnz else (0,) * sd
        shape += dense
    else:
        shape = tuple(int(n) for n in size)
        if len(shape) != sd + len(dense) or shape[sd:] != dense:
            raise ValueError(f"sparse_coo_tensor: size {shape} must be {sd} sparse sizes "
                             f"followed by the values' dense sizes {dense}")
        if nnz:
            big = host.max(axis=1)
            for d in range(sd):
                if big[d] >= shape[d]:
                    raise ValueError(f"sparse_coo_tensor: index {int(big[d])} in sparse "
                                     f"dimension {d} is out of range for size {shape[d]}")
    if requires_grad:
        if vals.dtype.kind not in "fc":
            raise TypeError(f"sparse_coo_tensor: only floating-point values can require "
                            f"gradients, got {vals.dtype}")
        vals = vals.detach().requires_grad_()
    return SparseTensor(idx.copy() if idx is getattr(indices, "_data", None) else idx, vals,
                        shape, bool(is_coalesced))


def to_sparse(x: Tensor, sparse_dim: int | None = None) -> SparseTensor:
    """``x.to_sparse(sparse_dim)``: the first ``sparse_dim`` axes (all by default) sparse,
    holding each place where any value is nonzero, coalesced. Differentiable (the values are
    ``x[indices]``)."""
    sd = x.ndim if sparse_dim is None else int(sparse_dim)
    if not 1 <= sd <= x.ndim:
        raise ValueError(f"to_sparse: sparse_dim must be in [1, {x.ndim}] for a tensor of "
                         f"shape {tuple(x.shape)}, got {sparse_dim}")
    xp = x._dev.xp
    nonzero = x._data != 0
    if sd < x.ndim:
        nonzero = nonzero.any(axis=tuple(range(sd, x.ndim)))
    idx = xp.stack(xp.nonzero(nonzero)).astype(np.int64).reshape(sd, -1)
    return SparseTensor(idx, x[tuple(Tensor._wrap(i, x._dev) for i in idx)], tuple(x.shape),
                        True)


# ---- tr.sparse ---------------------------------------------------------------------------


def _sparse_matrix(s: Any, op: str) -> SparseTensor:
    if not isinstance(s, SparseTensor):
        raise TypeError(f"{op}: the first argument must be a sparse tensor, got "
                        f"{type(s).__name__}")
    if s.ndim != 2 or s.sparse_dim() != 2:
        raise ValueError(f"{op}: the sparse argument must be a 2-D matrix with 2 sparse dims, "
                         f"got shape {s._shape} with sparse_dim {s.sparse_dim()}")
    return s


def mm(s: SparseTensor, d: Tensor) -> Tensor:
    """The dense product s @ d of a sparse (n, m) and a dense (m, p) matrix, as
    ``torch.sparse.mm``: out[i] = sum of v * d[j] over the entries (i, j, v). Built from
    dense ops (a gather of d's rows, a product, a scatter-add into out's rows), so it is
    differentiable in d (g_d[j] += v * gy[i]) and in s's values (g_v = gy[i] . d[j]), and
    twice."""
    from .ops.movement import IndexScatter

    s = _sparse_matrix(s, "sparse.mm")
    if isinstance(d, SparseTensor):
        raise refuse("sparse.mm of two sparse tensors")
    if not isinstance(d, Tensor) or d.ndim != 2 or d.shape[0] != s._shape[1]:
        raise ValueError(f"sparse.mm: shapes {s._shape} and "
                         f"{tuple(getattr(d, 'shape', ()))} cannot be multiplied (the dense "
                         f"one must be 2-D with {s._shape[1]} rows)")
    if d._dev is not s._vals._dev:
        raise ValueError(f"sparse.mm: the sparse tensor is on {s.device!r} and the dense one "
                         f"on {d.device!r}; move one with .to(device)")
    if d.dtype != s.dtype:
        raise TypeError(f"sparse.mm: dtypes differ: {s.dtype} (sparse) and {d.dtype} (dense)")
    rows, cols = s._idx
    picked = d[Tensor._wrap(cols, d._dev)] * s._vals.unsqueeze(1)  # (nnz, p)
    return IndexScatter.apply(picked, index=(rows,), shape=(s._shape[0], d.shape[1]))


def addmm(input: Tensor, mat1: SparseTensor, mat2: Tensor, *, beta: Any = 1,  # noqa: A002
          alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2) with mat1 sparse, as ``torch.sparse.addmm``."""
    prod = mm(mat1, mat2)
    return (input if beta == 1 else input * beta) + (prod if alpha == 1 else prod * alpha)


def sum(input: SparseTensor, dim: Any = None, dtype: DTypeLike = None) -> Any:  # noqa: A001, A002
    """The sum of a sparse tensor, as ``torch.sparse.sum``: over everything (a 0-d dense
    tensor), or over the axes ``dim``: a dense tensor if they include every sparse axis,
    else a coalesced sparse tensor. Differentiable in the values."""
    if not isinstance(input, SparseTensor):
        raise TypeError(f"sparse.sum: input must be a sparse tensor, got {type(input).__name__}")
    s = input if dtype is None else input.to(dtype=dtype)
    if dim is None:
        return s._vals.sum()
    n, sd = s.ndim, s.sparse_dim()
    dims = sorted({d % n for d in ((dim,) if isinstance(dim, int) else dim)})
    sparse_dims = [d for d in dims if d < sd]
    dense_axes = tuple(d - sd + 1 for d in dims if d >= sd)
    vals = s._vals.sum(dense_axes) if dense_axes else s._vals
    if len(sparse_dims) == sd:  # only dense axes left: sum the entries too
        return vals.sum(0)
    keep = [d for d in range(sd) if d not in sparse_dims]
    shape = tuple(s._shape[d] for d in range(n) if d not in dims)
    return SparseTensor(s._idx[keep], vals, shape, not sparse_dims and s._coalesced).coalesce()


def _softmax(s: SparseTensor, dim: int, log: bool, op: str) -> SparseTensor:
    """softmax over the entries present along ``dim`` (absent entries are -inf, as
    PyTorch's sparse softmax), for a coalesced tensor without dense axes."""
    from .functional import log_softmax as dense_log_softmax
    from .functional import softmax as dense_softmax

    if not isinstance(s, SparseTensor):
        raise TypeError(f"{op}: input must be a sparse tensor, got {type(s).__name__}")
    if s.dense_dim():
        raise refuse(f"{op} of a hybrid sparse tensor (dense_dim > 0)")
    s = s.coalesce()
    dense = s.to_dense()
    xp = dense._dev.xp
    present = xp.zeros(s._shape, dtype=bool)
    present[tuple(s._idx)] = True
    masked = dense.masked_fill(Tensor._wrap(~present, dense._dev), -math.inf)
    out = (dense_log_softmax if log else dense_softmax)(masked, dim=dim)
    return SparseTensor(s._idx, out[tuple(Tensor._wrap(i, dense._dev) for i in s._idx)],
                        s._shape, True)


def softmax(input: SparseTensor, dim: int, dtype: DTypeLike = None) -> SparseTensor:  # noqa: A002
    """Softmax along ``dim`` over the entries present (the others count as -inf and stay
    absent), as ``torch.sparse.softmax``; differentiable in the values."""
    return _softmax(input if dtype is None else input.to(dtype=dtype), dim, False,
                    "sparse.softmax")


def log_softmax(input: SparseTensor, dim: int, dtype: DTypeLike = None  # noqa: A002
                ) -> SparseTensor:
    """``sparse.softmax``'s logarithm, as ``torch.sparse.log_softmax``."""
    return _softmax(input if dtype is None else input.to(dtype=dtype), dim, True,
                    "sparse.log_softmax")


# ---- sparse gradients ----------------------------------------------------------------------


class EmbeddingSparse(Function):
    """y = weight[idx], rows of weight (N, D) picked by integer indices, with a *sparse*
    gradient for weight, as PyTorch's ``embedding(..., sparse=True)``.

    VJP: g_weight = the sparse tensor with indices ``idx`` (flattened; those where ``keep``
    is False, such as ``padding_idx``, left out) and values gy's rows, uncoalesced (a row
    picked twice has two entries). Saves the indices and weight's shape. The gradient is
    array code (``differentiable_backward = False``): no ``create_graph`` through it.
    """

    differentiable_backward = False
    why_no_graph = ("embedding(sparse=True) gives a sparse gradient, which create_graph=True "
                    "cannot record; use sparse=False for higher derivatives")

    def forward(self, w: Any, idx: Any, keep: Any = None) -> Any:
        self.idx, self.keep, self.shape = idx, keep, w.shape
        return w[idx]

    def backward(self, gy: Any) -> Any:
        rows = gy.reshape((-1,) + self.shape[1:])
        flat = self.idx.reshape(-1)
        if self.keep is not None:
            rows, flat = rows[self.keep], flat[self.keep]
        return SparseTensor(flat.astype(np.int64)[None], Tensor._wrap(rows.copy(),
                                                                      device_of(rows)),
                            self.shape, False)


def accumulate(t: Tensor, g: SparseTensor) -> None:
    """A leaf's ``.grad`` after a sparse gradient ``g`` arrives, as PyTorch's: ``g`` itself
    if it had none (its arrays are the backward's own), sparse + sparse (entries joined) if
    it held a sparse one, dense + sparse (dense) if it held a dense one."""
    old = t.grad
    if g.dtype != t.dtype:
        g = g.to(dtype=t.dtype)
    if old is None:
        t.grad = SparseTensor(g._idx, g._vals.detach(), g._shape, g._coalesced)
    elif isinstance(old, SparseTensor):
        t.grad = (old + g).detach()
    else:
        from .tensor import _set_values

        _set_values(old, old._data + g.detach().to_dense()._data, "a gradient accumulated")


def dense_array(g: SparseTensor) -> Any:
    """A sparse gradient as a dense array (where it flows on into an op's backward)."""
    return g.detach().to_dense()._data

"""Variable-length sequences, as ``torch.nn.utils.rnn``: padding and packing.

Two ways to hand a recurrent layer a batch of uneven sequences:

- padded, with ``lengths=`` (ours): ``pad_sequence`` makes the (T, B, *) tensor, and the layer
  takes one length per sequence, in any order;
- packed, as PyTorch code does: ``pack_padded_sequence`` (or ``pack_sequence``) makes a
  ``PackedSequence``, the layer returns one for its output, and ``pad_packed_sequence`` turns
  it back into a padded tensor and the lengths.

A packed sequence holds the steps of every sequence, time-major, longest sequences first:
step 0 of each of the ``batch_sizes[0]`` sequences, then step 1 of the ``batch_sizes[1]``
sequences at least 2 long, and so on. So the data of step t, in the order of the sorted
batch, are rows ``offset[t] : offset[t] + batch_sizes[t]``, ``offset`` the running sum of
``batch_sizes``. ``sorted_indices`` says which sequence of the batch is the s-th longest
(None where the batch came sorted); ``unsorted_indices`` undoes it. Packing and unpacking
are each one gather (``GetItem``) with an index built on the host, so gradients flow
through both; the layers run a packed batch as a padded one with ``lengths`` (same values,
same gradients, same states: the last step of each sequence, in the batch's own order).
"""

from __future__ import annotations

import numbers
from collections import namedtuple
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ...creation import full
from ...ops.movement import GetItem, cat, stack
from ...tensor import DTypeError, DTypeLike, Tensor, describe_type, host_array, tensor


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices",
                                                    "unsorted_indices"])):
    """A batch of sequences of different lengths, packed (see the module's docstring), as
    ``torch.nn.utils.rnn.PackedSequence``: ``data`` (sum of the lengths, *),
    ``batch_sizes`` (int64, on the CPU, one per step of the longest sequence), and
    ``sorted_indices``/``unsorted_indices`` (int64, on the data's device; None where the
    batch came sorted by decreasing length). Given ``sorted_indices`` alone,
    ``unsorted_indices`` is its inverse, as PyTorch's."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None

    def __new__(cls, data: Tensor, batch_sizes: Tensor, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, device: str | None = None, dtype: DTypeLike = None) -> PackedSequence:
        """The data moved and/or converted (``Tensor.to``); the indices follow the data's
        device, ``batch_sizes`` stays on the CPU."""
        data = self.data.to(device, dtype)
        if data is self.data:
            return self
        return PackedSequence(data, self.batch_sizes,
                              *(None if i is None else i.to(data.device)
                                for i in (self.sorted_indices, self.unsorted_indices)))

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def cuda(self) -> PackedSequence:
        return self.to("cuda")

    def float(self) -> PackedSequence:
        return self.to(dtype="float32")

    def double(self) -> PackedSequence:
        return self.to(dtype="float64")

    @property
    def is_cuda(self) -> bool:
        return self.data.device == "cuda"


def _int64(v: np.ndarray, device: str = "cpu") -> Tensor:
    return tensor(np.ascontiguousarray(v, dtype=np.int64), dtype=np.int64, device=device)


def _lengths(lengths: Any, batch: int, steps: int, where: str, least: int = 1) -> np.ndarray:
    """``lengths`` (a list, array, or CPU or GPU tensor) as host int64, checked: one per
    sequence, each in [least, steps]."""
    host = np.asarray(host_array(lengths))
    if host.dtype.kind not in "iu" and not (host.size == 0 and host.dtype.kind == "f"):
        raise DTypeError(f"{where}: lengths must be integers, got dtype {host.dtype}")
    if host.shape != (batch,):
        raise ValueError(f"{where}: lengths must hold one length per sequence: expected shape "
                         f"({batch},), got {host.shape}")
    if batch == 0:
        raise ValueError(f"{where}: the batch has no sequences")
    if host.min() < least or host.max() > steps:
        raise ValueError(f"{where}: lengths must lie in [{least}, {steps}] (the padded "
                         f"length), got {host.tolist()}")
    return host.astype(np.int64)


def _rows(batch_sizes: np.ndarray, order: np.ndarray, batch: int) -> np.ndarray:
    """For each row of a packed sequence, its position t * batch + b in the (T, batch)
    padded layout: step t of the s-th longest sequence is sequence b = order[s]."""
    t = np.arange(len(batch_sizes))
    inside = np.arange(batch)[None, :] < batch_sizes[:, None]  # (T, batch), in sorted order
    return (t[:, None] * batch + order[None, :])[inside]


def _gather(x: Tensor, flat_index: np.ndarray) -> Tensor:
    """Rows ``flat_index`` of ``x`` (a gather: its gradient scatters back), the index built
    on the host and in range by construction."""
    return GetItem.apply(x, index=x._dev.to_device(flat_index), in_range=True)


def pack_padded_sequence(input: Tensor, lengths: Any,  # noqa: A002 - PyTorch's name
                         batch_first: bool = False, enforce_sorted: bool = True
                         ) -> PackedSequence:
    """A padded batch (T, B, *), or (B, T, *) with ``batch_first``, packed, as PyTorch's.
    ``lengths`` (one per sequence, each in [1, T]) must decrease along the batch when
    ``enforce_sorted``; otherwise the batch is sorted here (stably: equal lengths keep their
    order) and ``sorted_indices`` records how. Differentiable in ``input``; whatever the
    padding holds is not read."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence: input must be a Tensor, got "
                        f"{describe_type(input)}")
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: input needs a time and a batch axis, got shape "
                         f"{input.shape}")
    x = input.swapaxes(0, 1) if batch_first else input
    T, B = x.shape[0], x.shape[1]
    lens = _lengths(lengths, B, T, "pack_padded_sequence")
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise ValueError(f"pack_padded_sequence: lengths must decrease along the batch "
                             f"when enforce_sorted=True, got {lens.tolist()}; pass "
                             "enforce_sorted=False to have the batch sorted here")
        order, sorted_idx, unsorted_idx = np.arange(B), None, None
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_idx, unsorted_idx = order, np.argsort(order)
    batch_sizes = (lens[order][None, :] > np.arange(lens.max())[:, None]).sum(axis=1)
    data = _gather(x.reshape(T * B, *x.shape[2:]), _rows(batch_sizes, order, B))
    return PackedSequence(data, _int64(batch_sizes), *(
        None if i is None else _int64(i, input.device) for i in (sorted_idx, unsorted_idx)))


def _check_packed(sequence: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(batch_sizes, order) of a PackedSequence, checked: order[s] is the sequence of the
    batch that is the s-th longest."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{where}: expected a PackedSequence, got {describe_type(sequence)}")
    bs = np.asarray(host_array(sequence.batch_sizes)).astype(np.int64)
    if bs.ndim != 1 or bs.size == 0 or np.any(bs < 1) or np.any(np.diff(bs) > 0):
        raise ValueError(f"{where}: batch_sizes must be a non-increasing list of positive "
                         f"counts, got {bs.tolist()}")
    if int(bs.sum()) != sequence.data.shape[0]:
        raise ValueError(f"{where}: data has {sequence.data.shape[0]} rows but batch_sizes "
                         f"add up to {int(bs.sum())}")
    B = int(bs[0])
    if sequence.sorted_indices is None:
        return bs, np.arange(B)
    order = np.asarray(host_array(sequence.sorted_indices)).astype(np.int64)
    if order.shape != (B,) or not np.array_equal(np.sort(order), np.arange(B)):
        raise ValueError(f"{where}: sorted_indices must be a permutation of the batch's {B} "
                         f"sequences, got {order.tolist()}")
    return bs, order


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None
                        ) -> tuple[Tensor, Tensor]:
    """A packed sequence back as ``(padded, lengths)``, as PyTorch's: padded (T, B, *), or
    (B, T, *) with ``batch_first``, in the batch's original order, T the longest length (or
    ``total_length``), ``padding_value`` after each sequence's end; lengths int64 on the CPU.
    Differentiable in the data."""
    bs, order = _check_packed(sequence, "pad_packed_sequence")
    steps, B = len(bs), int(bs[0])
    if total_length is not None and (isinstance(total_length, bool) or not isinstance(
            total_length, numbers.Integral)):
        raise TypeError(f"pad_packed_sequence: total_length must be an integer, got "
                        f"{total_length!r}")
    T = steps if total_length is None else int(total_length)
    if T < steps:
        raise ValueError(f"pad_packed_sequence: total_length={total_length} is less than the "
                         f"longest sequence ({steps} steps)")
    data = sequence.data
    n = data.shape[0]
    if data.dtype.kind == "f" and np.isfinite(padding_value):
        with np.errstate(over="ignore"):
            if not np.isfinite(np.asarray(padding_value, dtype=data.dtype)):
                raise ValueError(f"pad_packed_sequence: padding_value={padding_value} does not "
                                 f"fit in {data.dtype}")
    # index[t, order[s]] = the packed row of step t of the s-th longest sequence, else the
    # padding row n (one row of padding_value joined under the data)
    index = np.full((T, B), n, dtype=np.int64)
    index.reshape(-1)[_rows(bs, order, B)] = np.arange(n)
    pad = full((1, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = _gather(cat([data, pad]), index.reshape(-1)).reshape(T, B, *data.shape[1:])
    lengths = np.empty(B, dtype=np.int64)
    lengths[order] = (bs[None, :] > np.arange(B)[:, None]).sum(axis=1)
    return (padded.swapaxes(0, 1) if batch_first else padded), _int64(lengths)


def _packed_like(padded: Tensor, like: PackedSequence) -> PackedSequence:
    """A (T, B, *) output of a layer, in the batch's original order, packed as ``like``."""
    bs, order = _check_packed(like, "packing the output")
    T, B = padded.shape[0], padded.shape[1]
    data = _gather(padded.reshape(T * B, *padded.shape[2:]), _rows(bs, order, B))
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Sequences of shapes (L_i, *) packed, as PyTorch's: ``pad_sequence`` then
    ``pack_padded_sequence`` with their lengths."""
    seqs = list(sequences)
    return pack_padded_sequence(pad_sequence(seqs), [s.shape[0] for s in seqs],
                                enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False
                   ) -> list[Tensor]:
    """The sequences of a padded batch, each cut to its length, as PyTorch's."""
    x = padded_sequences.swapaxes(0, 1) if batch_first else padded_sequences
    lens = _lengths(lengths, x.shape[1], x.shape[0], "unpad_sequence", least=0)
    return [x[:int(n), b] for b, n in enumerate(lens)]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The sequences of a packed batch, in the batch's original order, as PyTorch's."""
    padded, lengths = pad_packed_sequence(packed_sequences)
    return unpad_sequence(padded, lengths)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of 0..n-1 (None stays None), as PyTorch's."""
    if permutation is None:
        return None
    p = np.asarray(host_array(permutation)).astype(np.int64)
    inverse = np.empty_like(p)
    inverse[p] = np.arange(p.size)
    return _int64(inverse, permutation.device if isinstance(permutation, Tensor) else "cpu")


def pad_sequence(sequences: Iterable[Tensor] | Tensor, batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Sequences of shapes (L_i, *) as one tensor of shape (T, B, *), or (B, T, *) with
    ``batch_first``, T = max L_i: each is padded with ``padding_value`` after its end
    (``padding_side="right"``) or before its start ("left"), as PyTorch's.

    The padding is a constant joined on with ``cat``, so the result is differentiable: each
    sequence gets back the gradient of its own positions. The result has the first sequence's
    dtype, as PyTorch's; a tensor given instead of a list counts as the list of its rows."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    seqs = list(sequences)
    if not seqs:
        raise ValueError("pad_sequence: received an empty list of sequences")
    for s in seqs:
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: each sequence must be a Tensor, got "
                            f"{type(s).__name__}")
        if s.ndim == 0:
            raise ValueError("pad_sequence: each sequence needs a time axis (its first), got a "
                             "0-d tensor")
    dtype, rest = seqs[0].dtype, seqs[0].shape[1:]
    longest = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        if s.shape[1:] != rest:
            raise ValueError(f"pad_sequence: every sequence must have the shape (L, "
                             f"{', '.join(map(str, rest))}) of the first, got {s.shape}")
        s = s if s.dtype == dtype else s.to(dtype=dtype)
        n = longest - s.shape[0]
        if n:
            pad = full((n, *rest), padding_value, dtype=dtype, device=s.device)
            s = cat([s, pad] if padding_side == "right" else [pad, s])
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)

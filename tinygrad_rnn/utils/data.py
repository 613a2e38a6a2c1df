"""Datasets and minibatches, as ``torch.utils.data``: ``Dataset``, ``TensorDataset``,
``Subset``, ``random_split``, ``DataLoader`` and ``default_collate``.

    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    for xb, yb in loader:
        ...

A ``DataLoader`` draws each epoch's order when the epoch starts, from tr's generator (so
``tr.manual_seed`` makes it reproducible) or from the ``numpy.random.Generator`` passed as
``generator``. Loading runs in this process: ``num_workers``, ``pin_memory`` and
``persistent_workers`` are accepted, so ported code runs as it is, and change nothing.
A batch of a ``TensorDataset`` (or a ``Subset`` of one, as ``random_split`` makes) under the
default collate is one gather per tensor (``t[indices]``) rather than one lookup per sample
and a ``stack``: the same batch, in one op. A dataset with ``__getitems__(indices)`` fetches
each batch's samples itself, as in PyTorch.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .. import random as _random
from ..ops.movement import stack
from ..tensor import Tensor, default_dtype, describe_type, tensor


class Dataset:
    """A map-style dataset: ``dataset[i]`` is sample i, ``len(dataset)`` how many there are.
    Subclass it and define both."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class TensorDataset(Dataset):
    """Samples along the first axis of tensors of as many rows: sample i is
    ``(t[i] for t in tensors)``, as a tuple."""

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} is a {type(t).__name__}, not a "
                                "Tensor; wrap it with tr.tensor(...)")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is 0-d; each tensor needs a "
                                 "first axis of samples")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) > 1:
            raise ValueError(f"TensorDataset: the tensors must have as many rows, got "
                             f"{[t.shape for t in tensors]}")
        self.tensors = tuple(tensors)

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples ``indices`` of ``dataset``, in that order (``dataset[indices[i]]``)."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def _tensor_rows(dataset: Any) -> tuple[tuple[Tensor, ...], np.ndarray | None] | None:
    """(tensors, index map) where every sample of ``dataset`` is rows of the same tensors: a
    TensorDataset (whose ``__getitem__`` is not overridden) or Subsets of one; the map (None:
    the identity) takes a position in ``dataset`` to a row. None for any other dataset."""
    if type(dataset).__getitem__ is TensorDataset.__getitem__:
        return dataset.tensors, None
    if type(dataset).__getitem__ is Subset.__getitem__:
        inner = _tensor_rows(dataset.dataset)
        if inner is not None:
            rows = np.asarray(dataset.indices, dtype=np.int64).reshape(-1)
            return inner[0], rows if inner[1] is None else inner[1][rows]
    return None


def _len(dataset: Any, where: str) -> int:
    try:
        return len(dataset)
    except (TypeError, NotImplementedError):
        raise TypeError(f"{where} needs a map-style dataset (with __len__ and __getitem__), got "
                        f"{type(dataset).__name__}") from None


def random_split(dataset: Any, lengths: Sequence[float],
                 generator: Any = None) -> list[Subset]:
    """``dataset`` split at random into non-overlapping ``Subset``s of the given lengths: counts
    that add up to its size, or fractions that add up to 1 (each gets the floor of its share,
    and what is left goes one by one to the first splits, as PyTorch's)."""
    n = _len(dataset, "random_split")
    lengths = list(lengths)
    if any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in lengths):
        raise TypeError(f"random_split: lengths must be numbers, got {lengths!r}")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1 and not all(
            isinstance(v, numbers.Integral) for v in lengths):
        for i, f in enumerate(lengths):
            if not 0 <= f <= 1:
                raise ValueError(f"random_split: fraction {i} ({f}) is not between 0 and 1")
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        if not all(isinstance(v, numbers.Integral) and v >= 0 for v in lengths):
            raise ValueError(f"random_split: lengths must be counts (integers >= 0) or "
                             f"fractions adding up to 1, got {lengths!r}")
        counts = [int(v) for v in lengths]
    if sum(counts) != n:
        raise ValueError(f"random_split: the lengths {counts} add up to {sum(counts)}, not to "
                         f"the dataset's {n} samples")
    order = _random.rng_of(generator, "random_split").permutation(n).tolist()
    ends = np.cumsum(counts).tolist()
    return [Subset(dataset, order[end - c:end]) for c, end in zip(counts, ends)]


def default_collate(batch: Sequence[Any]) -> Any:
    """A list of samples as one batch, as PyTorch's: tensors stacked along a new first axis
    (differentiable), NumPy arrays and NumPy numbers stacked into a tensor of their dtype,
    Python floats into float64; Python ints and bools into int64, or bool if all are bools, or
    float32 if a float is among them (torch's rules: the first sample's type, then the values);
    dicts key by key, tuples
    and lists position by position (a namedtuple stays one; any other tuple becomes a list);
    strings stay a list."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, (np.ndarray, np.generic)) and not isinstance(elem, (np.str_, np.bytes_)):
        if np.asarray(elem).dtype.kind not in "biufc":
            raise TypeError(f"default_collate: cannot batch NumPy arrays of dtype "
                            f"{np.asarray(elem).dtype}")
        return tensor(np.stack([np.asarray(b) for b in batch]))
    if isinstance(elem, numbers.Real) and not isinstance(elem, numbers.Integral):
        return tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, (numbers.Integral, np.bool_)):  # the batch's values decide, as torch's
        if any(isinstance(b, numbers.Real) and not isinstance(b, numbers.Integral)
               for b in batch):
            return tensor(np.array(batch, dtype=default_dtype()))  # the default float dtype
        if all(isinstance(b, (bool, np.bool_)) for b in batch):
            return tensor(np.array(batch, dtype=np.bool_))
        return tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise ValueError(f"default_collate: each sample must have as many elements, got "
                             f"lengths {[len(b) for b in batch]}")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {describe_type(elem)}")


def _convert(sample: Any) -> Any:
    """One sample, unbatched (``batch_size=None``): NumPy arrays and numbers as tensors,
    containers element by element, as PyTorch's ``default_convert``."""
    if isinstance(sample, np.ndarray) and sample.dtype.kind in "biufc":
        return tensor(sample)
    if isinstance(sample, np.generic) and not isinstance(sample, (np.str_, np.bytes_)):
        return tensor(sample)
    if isinstance(sample, Mapping):
        return {k: _convert(v) for k, v in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(_convert(v) for v in sample))
    if isinstance(sample, (list, tuple)):
        return [_convert(v) for v in sample]
    return sample


def _index(i: Any) -> Any:
    """An index from the order: an integer as an int (a float is refused); a list or array
    of them (a batch sampler's) as it is."""
    if isinstance(i, (list, tuple, np.ndarray, Tensor)):
        return i
    try:
        return operator.index(i)
    except TypeError:
        raise TypeError(f"DataLoader: the sampler gave {i!r}, which is not an integer index"
                        ) from None


class DataLoader:
    """Minibatches of a dataset, as PyTorch's: ``batch_size`` samples at a time (``None``:
    one sample at a time, unbatched), in order or, with ``shuffle``, in a new random order each
    epoch; ``sampler`` (an iterable of indices, read afresh each epoch) gives the order
    instead. ``drop_last`` drops a last, smaller batch. ``collate_fn`` turns a list of samples
    into a batch (``default_collate`` unless given)."""

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool = False,
                 sampler: Iterable[int] | None = None, num_workers: int = 0,
                 collate_fn: Callable[[list[Any]], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False,
                 generator: Any = None, *,
                 persistent_workers: bool = False) -> None:
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(
                batch_size, numbers.Integral) or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive integer or None, got "
                             f"{batch_size!r}")
        if batch_size is None and drop_last:
            raise ValueError("DataLoader: drop_last needs a batch_size (batch_size=None loads "
                             "one sample at a time)")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True exclude each other (the "
                             "sampler gives the order)")
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) \
                or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an integer >= 0, got "
                             f"{num_workers!r}")
        _random.rng_of(generator, "DataLoader")  # a tr.Generator, a NumPy one, or None
        if sampler is None:
            _len(dataset, "DataLoader")
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, bool(shuffle)
        self.sampler, self.num_workers, self.collate_fn = sampler, int(num_workers), collate_fn
        self.pin_memory, self.drop_last, self.generator = pin_memory, bool(drop_last), generator
        self.persistent_workers = persistent_workers

    def _order(self) -> list[int] | np.ndarray:
        if self.sampler is not None:
            return list(self.sampler)
        n = len(self.dataset)
        if self.shuffle:
            return _random.rng_of(self.generator, "DataLoader").permutation(n)
        return np.arange(n)

    def __iter__(self) -> Iterator[Any]:
        order = self._order()  # drawn now, when the epoch starts
        if self.batch_size is None:  # one sample (or whatever index the sampler gives) at a time
            for i in order:
                yield _convert(self.dataset[_index(i)])
            return
        rows = _tensor_rows(self.dataset) if self.collate_fn is None else None
        collate = self.collate_fn or default_collate
        many = getattr(self.dataset, "__getitems__", None)
        n, b = len(order), self.batch_size
        stop = n - n % b if self.drop_last else n
        for start in range(0, stop, b):
            idx = [_index(i) for i in order[start:start + b]]
            if rows is not None:  # the same batch as collating the samples: one gather each
                at = np.asarray(idx, dtype=np.int64)
                at = at if rows[1] is None else rows[1][at]
                yield [t[at] for t in rows[0]]
            elif many is not None:  # the dataset fetches a batch of samples itself, as torch
                yield collate(many(idx))
            else:
                yield collate([self.dataset[i] for i in idx])

    def __len__(self) -> int:
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)  # type: ignore
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

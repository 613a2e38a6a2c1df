"""Datasets and minibatches, as ``torch.utils.data``: ``Dataset``, ``IterableDataset``,
``TensorDataset``, ``Subset``, ``ConcatDataset``, ``ChainDataset``, ``StackDataset``,
``random_split``, the samplers (``SequentialSampler``, ``RandomSampler``,
``SubsetRandomSampler``, ``WeightedRandomSampler``, ``BatchSampler``, ``DistributedSampler``),
``DataLoader``, ``default_collate``, ``default_convert`` and ``get_worker_info``.

    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    for xb, yb in loader:
        ...

A ``DataLoader`` draws each epoch's order when the epoch starts, from tr's generator (so
``tr.manual_seed`` makes it reproducible) or from the ``generator`` passed (a ``tr.Generator``
or a ``numpy.random.Generator``); so do the random samplers. ``num_workers=N`` loads in N
worker processes, as PyTorch's (``get_worker_info()`` tells a dataset which worker runs it;
the processes themselves are in ``_workers.py``); ``pin_memory`` changes nothing. A batch of
a ``TensorDataset`` (or a ``Subset`` of one, as ``random_split`` makes) under the default
collate is one gather per tensor (``t[indices]``) rather than one lookup per sample and a
``stack``: the same batch, in one op. A dataset with ``__getitems__(indices)`` fetches each
batch's samples itself, as in PyTorch.

PyTorch's submodules ``torch.utils.data.dataloader``, ``.sampler``, ``.dataset`` and
``.distributed`` are here as ``tinygrad_rnn.utils.data.dataloader`` and so on (the same
objects under the paths ported code imports them from: ``from
tinygrad_rnn.utils.data.dataloader import default_collate``).
"""

from __future__ import annotations

import bisect
import copy
import itertools
import math
import multiprocessing
import multiprocessing.context
import numbers
import operator
import os
import sys
import types
import warnings
from collections.abc import (
    Callable,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    MutableSequence,
    Sequence,
    Sized,
)
from typing import Any, Generic, TypeVar

import numpy as np

from .. import random as _random
from ..ops.movement import stack
from ..tensor import DTypeError, Tensor, describe_type, tensor
from ._workers import END, Failure, WorkerInfo, WorkerPool, get_worker_info  # noqa: F401

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """A map-style dataset: ``dataset[i]`` is sample i, ``len(dataset)`` how many there are.
    Subclass it and define both (``Dataset[T]`` in a subclass's bases, as in PyTorch).
    ``a + b`` is ``ConcatDataset([a, b])``."""

    def __getitem__(self, index: int) -> T_co:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: Dataset[T_co]) -> ConcatDataset[T_co]:
        return ConcatDataset([self, other])


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
    """The samples ``indices`` of ``dataset``, in that order (``dataset[indices[i]]``; a list
    of positions reads ``dataset[[indices[i] for i in positions]]``), as PyTorch's.
    ``__getitems__`` fetches a batch through the dataset's own ``__getitems__`` where it has
    one, so a ``DataLoader`` reads a subset as it reads the dataset; hence, as in PyTorch, a
    subclass that overrides ``__getitem__`` must override ``__getitems__`` too."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        if type(self).__getitem__ is not Subset.__getitem__ and \
                type(self).__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{type(self).__name__} overrides __getitem__ but not __getitems__: a "
                "DataLoader fetches a batch with __getitems__, which would pass your "
                "__getitem__ by; define it too, for example\n\n"
                "def __getitems__(self, indices):\n"
                "    return [self.__getitem__(idx) for idx in indices]")
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index: int | list[int]) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list[int]) -> list[Any]:
        many = getattr(self.dataset, "__getitems__", None)
        if callable(many):
            return many([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset[T_co]):
    """The samples of ``datasets``, one dataset after the other, as PyTorch's:
    ``cumulative_sizes[k]`` is how many samples the first k + 1 datasets hold (their sizes
    when made), and a negative index counts from the end. An index out of range is an
    IndexError (PyTorch's is a ValueError for a negative one); an empty list of datasets is a
    ValueError and an ``IterableDataset`` among them a TypeError (PyTorch's are
    AssertionErrors)."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        datasets = list(datasets)
        if not datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for k, d in enumerate(datasets):
            if isinstance(d, IterableDataset):
                raise TypeError(f"ConcatDataset does not support IterableDataset (dataset {k} "
                                f"is a {type(d).__name__}); chain iterable datasets with "
                                "ChainDataset")
        self.cumulative_sizes = self.cumsum(datasets)
        self.datasets = datasets

    @staticmethod
    def cumsum(sequence: Iterable[Any]) -> list[int]:
        """The running total of the datasets' sizes."""
        sizes = [_len(d, f"ConcatDataset (dataset {k})") for k, d in enumerate(sequence)]
        return list(itertools.accumulate(sizes))

    def __getitem__(self, index: int) -> T_co:
        n = len(self)
        i = operator.index(index)
        if not -n <= i < n:
            raise IndexError(f"ConcatDataset: index {i} is out of range for {n} samples")
        i = i + n if i < 0 else i
        k = bisect.bisect_right(self.cumulative_sizes, i)  # the dataset holding sample i
        return self.datasets[k][i - (self.cumulative_sizes[k - 1] if k else 0)]

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]



class IterableDataset(Dataset[T_co]):
    """A dataset read as a stream, as PyTorch's: subclass it and define ``__iter__``, which
    yields the samples in order (a ``DataLoader`` batches them as they come: no indices, so
    no shuffle and no sampler). Define ``__len__`` too where ``len(loader)`` should work;
    without it ``len`` is a TypeError, as for any object without a length. ``a + b`` is
    ``ChainDataset([a, b])``.

    With ``num_workers=N`` each worker iterates its own copy of the dataset, so, as in
    PyTorch, ``__iter__`` splits the stream by ``get_worker_info()`` (worker ``id`` of
    ``num_workers``), or every sample comes N times."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __len__(self) -> int:
        # a TypeError, as for an object without __len__ (list() and the like then ignore it)
        raise TypeError(f"object of type '{type(self).__name__}' has no len()")

    def __add__(self, other: Dataset[T_co]) -> ChainDataset[T_co]:  # type: ignore[override]
        return ChainDataset([self, other])


class ChainDataset(IterableDataset[T_co]):
    """The samples of several ``IterableDataset``s, one stream after the other, as PyTorch's:
    each is iterated when the chain reaches it; ``len`` is the sum of their lengths. A dataset
    that is not an ``IterableDataset`` is a TypeError there (PyTorch's is an
    AssertionError)."""

    def __init__(self, datasets: Iterable[Dataset[T_co]]) -> None:
        self.datasets = datasets

    def _each(self) -> Iterator[Any]:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset only supports IterableDataset, got "
                                f"{type(d).__name__}")
            yield d

    def __iter__(self) -> Iterator[T_co]:
        for d in self._each():
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self._each())


class StackDataset(Dataset):
    """Several map-style datasets of one length, read side by side, as PyTorch's:
    ``StackDataset(a, b)[i]`` is the tuple ``(a[i], b[i])``, ``StackDataset(x=a, y=b)[i]``
    the dict ``{"x": a[i], "y": b[i]}``. ``__getitems__`` fetches a batch from each dataset
    at once (with the dataset's own ``__getitems__`` where it has one), so a ``DataLoader``
    reads a batch in one call."""

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError("StackDataset: supported either tuple- (via args) or dict- (via "
                             "kwargs) like input/output, but both types are given")
        if not args and not kwargs:
            raise ValueError("StackDataset: at least one dataset should be passed")
        parts = list(args) if args else list(kwargs.values())
        lengths = [_len(d, "StackDataset") for d in parts]
        if any(n != lengths[0] for n in lengths):
            raise ValueError(f"StackDataset: size mismatch between datasets, got lengths "
                             f"{lengths}")
        self._length = lengths[0]
        self.datasets: tuple[Dataset, ...] | dict[str, Dataset] = args if args else kwargs

    def __getitem__(self, index: Any) -> Any:
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    @staticmethod
    def _column(dataset: Any, indices: list[Any]) -> list[Any]:
        many = getattr(dataset, "__getitems__", None)
        if not callable(many):
            return [dataset[i] for i in indices]
        items = many(indices)
        if len(items) != len(indices):
            raise ValueError(f"StackDataset: nested dataset's output size mismatch, expected "
                             f"{len(indices)}, got {len(items)}")
        return list(items)

    def __getitems__(self, indices: list[Any]) -> list[Any]:
        if isinstance(self.datasets, dict):
            columns = {k: self._column(d, indices) for k, d in self.datasets.items()}
            return [{k: c[j] for k, c in columns.items()} for j in range(len(indices))]
        cols = [self._column(d, indices) for d in self.datasets]
        return [tuple(c[j] for c in cols) for j in range(len(indices))]

    def __len__(self) -> int:
        return self._length


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
    and what is left goes one by one to the first splits, as PyTorch's). As there, lengths
    that add up to 1 are fractions even if they are ints (``[0, 1]``, ``[1]``), and a
    fraction that leaves a split empty warns. The order is drawn from ``generator`` or tr's
    generator: other subsets than PyTorch's for one seed."""
    n = _len(dataset, "random_split")
    lengths = list(lengths)
    if any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in lengths):
        raise TypeError(f"random_split: lengths must be numbers, got {lengths!r}")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:  # fractions, as PyTorch decides
        for i, f in enumerate(lengths):
            if not 0 <= f <= 1:
                raise ValueError(f"random_split: fraction {i} ({f}) is not between 0 and 1")
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              "empty dataset.", stacklevel=2)
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


def _positive(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{what} should be a positive integer value, but got {value!r}")
    return int(value)


class Sampler(Generic[T_co]):
    """The indices (or, for a batch sampler, lists of indices) a ``DataLoader`` reads, in
    order: subclass it and define ``__iter__``, and ``__len__`` where ``len(loader)`` should
    work. Any iterable does as well (a list of indices, say), as in PyTorch."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1, as PyTorch's."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def _draw(self) -> np.ndarray:
        return np.arange(len(self.data_source))

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """``num_samples`` indices (default: ``len(data_source)``) in a random order drawn anew
    each epoch, as PyTorch's: without ``replacement``, a permutation of the data source (and as
    many whole permutations, then part of one, as ``num_samples`` asks); with it, each index
    uniform and independent. Drawn from ``generator`` (a ``tr.Generator`` or a
    ``numpy.random.Generator``) or tr's generator (``tr.manual_seed``): other numbers than
    PyTorch's for one seed."""

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator: Any = None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, but got "
                            f"replacement={replacement!r}")
        _random.rng_of(generator, "RandomSampler")
        if num_samples is None and len(data_source) == 0:  # PyTorch refuses it too
            raise ValueError("RandomSampler: the data source is empty (num_samples should be "
                             "a positive integer value, but got num_samples=0)")
        if num_samples is not None:
            _positive(num_samples, "RandomSampler: num_samples")
        self.data_source, self.replacement, self.generator = data_source, replacement, generator
        self._num_samples = num_samples

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def _draw(self) -> np.ndarray:
        """The epoch's indices, all at once."""
        n, k = len(self.data_source), self.num_samples
        if n == 0:
            raise ValueError("RandomSampler: cannot draw from an empty data source")
        rng = _random.rng_of(self.generator, "RandomSampler")
        if self.replacement:
            return rng.integers(0, n, size=k, dtype=np.int64)
        parts = [rng.permutation(n) for _ in range(k // n)]
        if k % n:  # only where part of one is asked for (PyTorch draws it anyway)
            parts.append(rng.permutation(n)[:k % n])
        return np.concatenate(parts).astype(np.int64, copy=False)

    def __iter__(self) -> Iterator[int]:
        yield from self._draw().tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given ``indices`` in a random order drawn anew each epoch, as PyTorch's (from
    ``generator`` or tr's generator, as ``RandomSampler``)."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        _random.rng_of(generator, "SubsetRandomSampler")
        self.indices, self.generator = indices, generator

    def __iter__(self) -> Iterator[int]:
        order = _random.rng_of(self.generator, "SubsetRandomSampler").permutation(
            len(self.indices))
        for i in order.tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices of ``weights`` (>= 0, not necessarily summing to 1), index i
    drawn with probability weights[i] / sum(weights), as PyTorch's: with ``replacement``
    independently, without it each at most once. ``weights`` is kept as a float64 tensor.
    Drawn from ``generator`` or tr's generator, as ``RandomSampler``. Bad weights (not 1-D,
    negative, not finite, all 0, or too few above 0 for ``num_samples`` without replacement)
    are an error here, where PyTorch's comes when the first epoch draws."""

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Any = None) -> None:
        num_samples = _positive(num_samples, "WeightedRandomSampler: num_samples")
        if not isinstance(replacement, bool):
            raise ValueError(f"WeightedRandomSampler: replacement should be a boolean value, "
                             f"but got replacement={replacement!r}")
        _random.rng_of(generator, "WeightedRandomSampler")
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence but "
                             f"given weights have shape {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
            raise ValueError("WeightedRandomSampler: weights must be finite and >= 0, with a "
                             "positive sum")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError(f"WeightedRandomSampler: {num_samples} samples without "
                             f"replacement, but only {np.count_nonzero(w)} weights are > 0")
        self.weights, self.num_samples = tensor(w), num_samples
        self.replacement, self.generator = replacement, generator

    def __iter__(self) -> Iterator[int]:
        drawn = _random.multinomial(self.weights, self.num_samples, self.replacement,
                                    generator=self.generator)
        yield from drawn.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """The indices of ``sampler`` (a ``Sampler`` or any iterable of indices, read afresh each
    epoch) in lists of ``batch_size``, as PyTorch's; ``drop_last`` drops a last, shorter
    list. ``len`` needs the sampler's ``len``."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        batch_size = _positive(batch_size, "BatchSampler: batch_size")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, but got "
                             f"drop_last={drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self) -> Iterator[list[int]]:
        it = iter(self.sampler)
        while batch := list(itertools.islice(it, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)



def _randperm_like_torch(n: int, seed: int) -> list[int]:
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()``, the
    same list: PyTorch's CPU generator is the standard MT19937 seeded with the seed's low 32
    bits, as NumPy's legacy ``RandomState(seed)``, and its ``randperm`` (for n below 2^32 / 20)
    swaps position i with i + (the next 32-bit draw mod (n - i)), for i = 0 .. n - 2. (tr's
    own generators are PCG64 and cannot give these numbers.)"""
    if n >= 2**32 // 20:  # PyTorch draws differently there
        raise ValueError(f"DistributedSampler: shuffling {n} samples like PyTorch is only "
                         "done below 2**32 / 20 samples")
    r = list(range(n))
    if n < 2:
        return r
    draws = np.random.RandomState(seed & 0xFFFFFFFF).randint(
        0, 2**32, size=n - 1, dtype=np.uint64).tolist()  # raw 32-bit outputs
    for i, z in enumerate(draws):
        j = i + z % (n - i)
        r[i], r[j] = r[j], r[i]
    return r


class DistributedSampler(Sampler[int]):
    """The share of ``dataset``'s indices that process ``rank`` of ``num_replicas`` reads, as
    PyTorch's: the indices (in order, or with ``shuffle`` a permutation drawn from
    ``seed + epoch``), padded by repeating the first ones to a multiple of ``num_replicas``
    (or, with ``drop_last``, cut to one), then every ``num_replicas``-th from ``rank`` on.
    ``set_epoch(e)`` before each epoch gives a new order, the same in every process.

    The same index lists as PyTorch's for the same seed, epoch and settings: the permutation
    is PyTorch's ``randperm`` under ``torch.Generator().manual_seed(seed + epoch)``,
    reproduced with NumPy's MT19937, so a run split here and one split by PyTorch read the
    same samples. There is no process group here: ``num_replicas`` and ``rank`` default to a
    world of one process (1 and 0), where PyTorch asks the default process group and refuses
    without one."""

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        num_replicas = 1 if num_replicas is None else _positive(
            num_replicas, "DistributedSampler: num_replicas")
        rank = 0 if rank is None else rank
        if isinstance(rank, bool) or not isinstance(rank, numbers.Integral) \
                or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank!r}, rank should be in the "
                             f"interval [0, {num_replicas - 1}]")
        try:
            seed = operator.index(seed)
        except TypeError:
            raise TypeError(f"DistributedSampler: seed must be an int, got "
                            f"{type(seed).__name__}") from None
        n = _len(dataset, "DistributedSampler")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, int(rank)
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, bool(drop_last), shuffle, seed
        if self.drop_last and n % num_replicas:  # the tail that cannot be split evenly goes
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        indices = _randperm_like_torch(n, self.seed + self.epoch) if self.shuffle else \
            list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose order ``__iter__`` gives next (with ``shuffle``): call it before
        each epoch, in every process, or every epoch reads the same order."""
        self.epoch = epoch

def default_collate(batch: Sequence[Any]) -> Any:
    """A list of samples as one batch, as PyTorch's: tensors stacked along a new first axis
    (differentiable), NumPy arrays and NumPy numbers stacked into a tensor of their dtype
    (several dtypes promoted as torch's), Python floats into float64; Python ints and bools as
    ``tensor(batch)`` makes them: int64, or bool if all are bools, or float32 if a float is
    among them (torch's rules: the first sample's type, then the values);
    mappings key by key (of the first sample's keys and type: an ``OrderedDict`` stays one),
    tuples and lists position by position (a namedtuple stays one, and a list's type is kept;
    any other tuple becomes a list);
    strings stay as they come: the list given, or a tuple for a field of tuples or lists."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        if isinstance(batch, Tensor):  # PyTorch's stack refuses it too
            raise TypeError(f"default_collate takes a list of samples, got one Tensor of shape "
                            f"{tuple(batch.shape)} (a sample: with batch_size=None, leave "
                            f"collate_fn unset or give one that takes a sample)")
        return stack(list(batch), 0)
    if isinstance(elem, (np.ndarray, np.generic)) and not isinstance(elem, (np.str_, np.bytes_)):
        if np.asarray(elem).dtype.kind not in "biufc":
            raise DTypeError(f"default_collate: cannot batch NumPy arrays of dtype "
                             f"{np.asarray(elem).dtype}")
        arrays = [np.asarray(b) for b in batch]
        if all(a.dtype == arrays[0].dtype for a in arrays):
            return tensor(np.stack(arrays))
        # several dtypes: each sample a tensor, stacked with PyTorch's promotion (int32 with
        # float32 is float32, float16 with int64 float16, where NumPy gives float64)
        return stack([tensor(b) for b in batch], 0)
    if isinstance(elem, numbers.Real) and not isinstance(elem, numbers.Integral):
        return tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, numbers.Integral):
        # as torch.tensor(batch): the values decide (int64, bool if all are bools, the
        # default float dtype with a float among them, a tensor's or NumPy number's dtype)
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        return _like(elem, {k: default_collate([d[k] for d in batch]) for k in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise ValueError(f"default_collate: each sample must have as many elements, got "
                             f"lengths {[len(b) for b in batch]}")
        fields = [default_collate(s) for s in zip(*batch)]
        return fields if isinstance(elem, tuple) else _like(elem, fields)
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {describe_type(elem)}")


def default_convert(sample: Any) -> Any:
    """One sample, unbatched (``DataLoader``'s ``batch_size=None``), as PyTorch's: NumPy
    arrays and NumPy numbers as tensors, containers element by element (of their own type: a
    namedtuple or an ``OrderedDict`` stays one; any other tuple becomes a list); anything else
    as it is."""
    if isinstance(sample, np.ndarray) and sample.dtype.kind in "biufc":
        return tensor(sample)
    if isinstance(sample, np.generic) and not isinstance(sample, (np.str_, np.bytes_)):
        return tensor(sample)
    if isinstance(sample, Mapping):
        return _like(sample, {k: default_convert(sample[k]) for k in sample})
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(v) for v in sample))
    if isinstance(sample, tuple):
        return [default_convert(v) for v in sample]
    if isinstance(sample, Sequence) and not isinstance(sample, (str, bytes)):
        return _like(sample, [default_convert(v) for v in sample])
    return sample


def _like(container: Any, values: dict | list) -> Any:
    """``values`` in a container of ``container``'s type, as PyTorch's collate keeps it (an
    ``OrderedDict`` stays one): a copy of it updated where the type is mutable (it may hold
    more than its items), else the type made from ``values``; a plain dict or list where the
    type allows neither."""
    try:
        if isinstance(container, (MutableMapping, MutableSequence)):
            clone = copy.copy(container)
            if isinstance(values, dict):
                clone.update(values)
            else:
                for i, v in enumerate(values):
                    clone[i] = v
            return clone
        return type(container)(values)
    except TypeError:
        return values


def _index(i: Any, source: str) -> Any:
    """An index the ``source`` (sampler) gave: an integer as an int (a float is refused); a
    list or array of them (a batch, for ``batch_size=None``) as it is."""
    if isinstance(i, (list, tuple, np.ndarray)) or isinstance(i, Tensor) and i.ndim:
        return i
    try:
        return operator.index(i)
    except TypeError:
        raise TypeError(f"DataLoader: the {source} gave {i!r}, which is not an integer index"
                        ) from None



class _InfiniteConstantSampler(Sampler[None]):
    """An ``IterableDataset``'s sampler in a ``DataLoader``, as PyTorch's: None forever (the
    stream itself says which sample comes next)."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)


class _Fetcher:
    """A ``DataLoader``'s batches, one at a time, as PyTorch's fetchers make them. Map-style:
    ``fetch(index)`` reads the samples at ``index`` (a batch of indices, or one index
    unbatched) and collates them (for a ``TensorDataset`` under the default collate, one
    gather per tensor). An ``IterableDataset``: ``start()`` opens the stream and
    ``fetch(None)`` is its next ``batch_size`` samples (a last, shorter batch unless
    ``drop_last``), ``END`` once it has run out. The main process uses one when
    ``num_workers=0``; each worker process has its own copy."""

    def __init__(self, loader: DataLoader) -> None:
        self.dataset, self.iterable = loader.dataset, loader._iterable
        self.batched = loader.batch_sampler is not None
        self.size, self.drop_last = loader.batch_size, loader.drop_last
        self.collate = loader.collate_fn or (default_collate if self.batched else
                                             default_convert)
        self.rows = _tensor_rows(self.dataset) if self.batched and not self.iterable and \
            loader.collate_fn is None else None
        self.stream: Iterator[Any] | None = None
        self.ended = False

    def start(self) -> None:
        if self.iterable:
            self.stream, self.ended = iter(self.dataset), False

    def __call__(self, index: Any) -> Any:
        if self.iterable:
            return self._next()
        if not self.batched:
            return self.collate(self.dataset[index])
        if self.rows is not None:  # the same batch as collating the samples: one gather each
            at = np.asarray(index, dtype=np.int64)
            at = at if self.rows[1] is None else self.rows[1][at]
            return [t[at] for t in self.rows[0]]
        index = index.tolist() if isinstance(index, np.ndarray) else index
        many = getattr(self.dataset, "__getitems__", None)
        if many is not None:  # the dataset fetches a batch of samples itself, as torch
            return self.collate(many(index))
        return self.collate([self.dataset[i] for i in index])

    def _next(self) -> Any:
        if self.ended:
            return END
        if not self.batched:
            sample = next(self.stream, END)  # type: ignore[call-overload]
            self.ended = sample is END
            return END if self.ended else self.collate(sample)
        batch = list(itertools.islice(self.stream, self.size))  # type: ignore[arg-type]
        self.ended = len(batch) < self.size  # type: ignore[operator]
        if not batch or self.ended and self.drop_last:
            return END
        return self.collate(batch)


def _cpu_count() -> int | None:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


class DataLoader:
    """Minibatches of a dataset, as PyTorch's: ``batch_size`` samples at a time (``None``:
    one sample at a time, unbatched, each through ``default_convert``), in order or, with
    ``shuffle``, in a new random order each epoch (a ``RandomSampler``). ``sampler`` (any
    iterable of indices, read afresh each epoch) gives the order instead, and
    ``batch_sampler`` (any iterable of lists of indices) each batch's indices; ``drop_last``
    drops a last, smaller batch. ``collate_fn`` turns a list of samples into a batch
    (``default_collate`` unless given). As in PyTorch, ``sampler`` excludes ``shuffle=True``,
    and ``batch_sampler`` excludes ``batch_size`` (other than 1), ``shuffle``, ``sampler``
    and ``drop_last``; ``loader.sampler`` and ``loader.batch_sampler`` are the samplers in
    use (a ``SequentialSampler`` or ``RandomSampler`` and a ``BatchSampler`` of it unless
    given); ``len(loader)`` is the length of the batch sampler (or, unbatched, the sampler).
    ``generator`` is the shuffle's.

    Worker processes, as PyTorch's. ``num_workers=0`` loads in this process. With
    ``num_workers=N`` > 0, each ``iter(loader)`` starts N processes (by
    ``multiprocessing_context``: a start method's name, a context, or None for the platform's
    default), each with its copy of the dataset; the main process draws the indices and sends
    the batches' indices to them in turn, at most ``prefetch_factor`` (default 2) per worker
    ahead, and yields the batches in the sampler's order (``in_order=False``: as they come, a
    slow worker getting fewer). Each iterator draws a base seed from ``generator`` or tr's
    generator (also with no workers, so ``num_workers`` does not change the draws that follow);
    worker i seeds Python's ``random`` and tr's generator with base seed + i and NumPy's global
    generator with a hash of both, as PyTorch's, then calls ``worker_init_fn(i)``: workers draw
    other numbers, and the same ones again after the same ``tr.manual_seed``. In a worker,
    ``get_worker_info()`` gives its id, the number of workers, its seed and its dataset. An
    error in a worker is raised here, of its type, its message naming the worker and holding the
    worker's traceback, and the iterator can still be asked for the next batch, as PyTorch's (an
    in-process one too); a worker that dies, or (``timeout`` > 0) a batch that takes more than
    ``timeout`` seconds, is a RuntimeError. The workers exit at the end of the epoch, when the
    loop is left or the iterator dropped, or, with ``persistent_workers=True``, stay for the
    next epochs until the loader is dropped. Batches travel pickled, the values of large arrays
    through shared memory (two copies of their bytes: see ``_workers.py``); the dataset must
    give host data (CPU tensors, NumPy arrays:
    move each batch to the GPU in the main loop). ``pin_memory`` and ``pin_memory_device``
    change nothing (host memory is not pinned here). As in PyTorch, ``prefetch_factor``,
    ``persistent_workers`` and ``multiprocessing_context`` need ``num_workers > 0``, and more
    workers than the CPUs this process may use warns.

    Over an ``IterableDataset`` the batches are the stream's samples in order, ``batch_size``
    at a time (``drop_last`` drops a last, shorter batch; ``batch_size=None`` yields each
    sample through ``default_convert``), as PyTorch's; ``shuffle``, ``sampler`` and
    ``batch_sampler`` are refused there. With workers, each worker reads its own copy of the
    stream (split it by ``get_worker_info()``), and the batches come from the workers in
    turn, skipping those whose stream has run out. ``len(loader)`` needs the dataset's
    ``__len__`` (its length in batches); as in PyTorch, once it has been asked, an iteration
    begun afterwards warns at each batch past the dataset's reported length (PyTorch
    compares the count of batches with the dataset's length in samples, and so does
    this)."""

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool = False,
                 sampler: Iterable[Any] | None = None,
                 batch_sampler: Iterable[Sequence[Any]] | None = None, num_workers: int = 0,
                 collate_fn: Callable[[list[Any]], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], Any] | None = None,
                 multiprocessing_context: Any = None, generator: Any = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) \
                or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an integer >= 0, got "
                             f"{num_workers!r} (0 loads in the main process)")
        if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or timeout < 0:
            raise ValueError(f"DataLoader: timeout must be non-negative, got {timeout!r}")
        if timeout > 0 and num_workers == 0:
            raise ValueError(f"DataLoader: timeout={timeout!r} limits the wait for worker "
                             "processes (num_workers > 0); with num_workers=0 leave it 0")
        if prefetch_factor is not None and num_workers == 0:
            raise ValueError("DataLoader: prefetch_factor needs worker processes "
                             "(num_workers > 0); with num_workers=0 leave it None")
        if prefetch_factor is not None and (isinstance(prefetch_factor, bool) or not isinstance(
                prefetch_factor, numbers.Integral) or prefetch_factor < 1):
            raise ValueError(f"DataLoader: prefetch_factor must be a positive integer (the "
                             f"batches loaded ahead per worker), got {prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        iterable = isinstance(dataset, IterableDataset)
        if iterable:  # PyTorch's checks, in its order, before the others
            for what, value, unset in (("shuffle", shuffle, shuffle in (False, None)),
                                       ("sampler", sampler, sampler is None),
                                       ("batch_sampler", batch_sampler, batch_sampler is None)):
                if not unset:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{what} option, but got {what}={value!r}")
            shuffle = False
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True exclude each other (the "
                             "sampler gives the order)")
        if batch_sampler is not None:
            clashes = [what for what, clash in [
                (f"batch_size={batch_size!r}", batch_size != 1), ("shuffle=True", shuffle),
                ("a sampler", sampler is not None), ("drop_last=True", drop_last)] if clash]
            if clashes:
                raise ValueError(f"DataLoader: batch_sampler excludes batch_size, shuffle, "
                                 f"sampler and drop_last (the batch sampler gives each batch's "
                                 f"indices), got {', '.join(clashes)}")
            batch_size = None  # as PyTorch's: the batch sampler batches
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(
                batch_size, numbers.Integral) or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive integer or None, got "
                             f"{batch_size!r}")
        if batch_size is None and batch_sampler is None and drop_last:
            raise ValueError("DataLoader: drop_last needs a batch_size (batch_size=None loads "
                             "one sample at a time)")
        _random.rng_of(generator, "DataLoader")  # a tr.Generator, a NumPy one, or None
        if sampler is None and batch_sampler is None and not iterable:
            _len(dataset, "DataLoader")
        if iterable:
            sampler = _InfiniteConstantSampler()
        elif sampler is None:  # PyTorch's defaults, which the fast path below recognizes
            sampler = RandomSampler(dataset, generator=generator) if shuffle else \
                SequentialSampler(dataset)
        if batch_sampler is None and batch_size is not None:
            batch_sampler = BatchSampler(sampler, int(batch_size), bool(drop_last))
        self.multiprocessing_context = _context(multiprocessing_context, int(num_workers))
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, bool(shuffle)
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.num_workers, self.collate_fn = int(num_workers), collate_fn
        self.pin_memory, self.drop_last = pin_memory, bool(drop_last) and batch_size is not None
        self.pin_memory_device, self.timeout = pin_memory_device, timeout
        self.worker_init_fn, self.in_order = worker_init_fn, bool(in_order)
        self.prefetch_factor = prefetch_factor if prefetch_factor is not None or \
            num_workers == 0 else 2
        self.generator, self.persistent_workers = generator, bool(persistent_workers)
        self._iterable = iterable
        self._IterableDataset_len_called: int | None = None  # PyTorch's name
        self._workers: WorkerPool | None = None  # the persistent workers, once started
        cpus = _cpu_count()
        if self.num_workers > (cpus or 0):
            warnings.warn(f"DataLoader: {self.num_workers} worker processes, more than the "
                          f"{cpus or 'unknown number of'} CPUs this process may use; loading "
                          "may run slower than with fewer workers, or stall the machine: "
                          "lower num_workers if so", stacklevel=2)

    def _batches(self) -> Iterator[list[Any] | np.ndarray]:
        """Each batch's indices: an array for the default samplers (the epoch's order is
        drawn in one go, when the epoch starts), a list from any other."""
        bs = self.batch_sampler
        if type(bs) is BatchSampler and type(bs.sampler) in (SequentialSampler, RandomSampler):
            order = bs.sampler._draw()
            stop = len(order) - len(order) % bs.batch_size if bs.drop_last else len(order)
            for start in range(0, stop, bs.batch_size):
                yield order[start:start + bs.batch_size]
            return
        source = "sampler" if type(bs) is BatchSampler else "batch sampler"
        for batch in bs:  # type: ignore[union-attr]
            yield [_index(i, source) for i in batch]

    def _indices(self) -> Iterator[Any]:
        """What each fetch reads: None forever for a stream, else a batch of indices (or,
        unbatched, one index)."""
        if self._iterable:
            return itertools.repeat(None)
        if self.batch_sampler is None:
            return (_index(i, "sampler") for i in self.sampler)
        return self._batches()

    def _in_process(self, fetch: _Fetcher) -> Iterator[Any]:
        fetch.start()
        for index in self._indices():
            try:
                batch = fetch(index)
            except Exception as e:  # raised by _LoaderIter, which can go on after it
                batch = Failure(e)
            if batch is END:
                return
            yield batch

    def __iter__(self) -> Iterator[Any]:
        pool = self._workers  # persistent workers, once started
        if pool is None or pool.closed:
            rows = _tensor_rows(self.dataset) if self.num_workers else None
            if rows is not None and any(t.is_cuda for t in rows[0]):
                raise RuntimeError("DataLoader: worker processes cannot read this dataset's "
                                   "GPU tensors (a forked process cannot use the GPU): keep "
                                   "them on the host and move each batch to the GPU in the "
                                   "training loop, or load with num_workers=0")
            # one base seed per iterator (per pool of persistent workers), drawn as PyTorch's
            # even without workers, so that num_workers does not change later draws
            base_seed = int(_random.rng_of(self.generator, "DataLoader").integers(2**63))
            if self.num_workers > 0:
                pool = WorkerPool(_Fetcher(self), self.num_workers, base_seed,
                                  self.worker_init_fn, self.multiprocessing_context,
                                  int(self.prefetch_factor), float(self.timeout),  # type: ignore
                                  self.in_order, self.persistent_workers)
                self._workers = pool if self.persistent_workers else None
        batches = self._in_process(_Fetcher(self)) if pool is None else \
            pool.epoch(self._indices())
        return _LoaderIter(self, batches)

    def __len__(self) -> int:
        if self._iterable:  # the dataset's own length (a TypeError without one), in batches
            n = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        batches = self.batch_sampler if self.batch_sampler is not None else self.sampler
        return len(batches)  # type: ignore[arg-type]


class _LoaderIter:
    """``iter(loader)``: the batches; where loading one failed, its error is raised and the
    next batch can still be asked for, as PyTorch's iterator. Over an ``IterableDataset``
    whose length ``len(loader)`` asked before, each batch past that length warns."""

    def __init__(self, loader: DataLoader, batches: Iterator[Any]) -> None:
        self.loader, self.batches, self.count = loader, batches, 0
        self.reported = loader._IterableDataset_len_called if loader._iterable else None

    def __iter__(self) -> _LoaderIter:
        return self

    def __len__(self) -> int:  # the loader's number of batches, as PyTorch's iterator
        return len(self.loader)

    def __next__(self) -> Any:
        batch = next(self.batches)
        if isinstance(batch, Failure):
            error = batch.error
            # the traceback keeps this frame, and must not keep the iterator (and its workers)
            # alive once the caller has let it go
            del self, batch
            raise error
        self.count += 1
        if self.reported is not None and self.count > self.reported:
            more = "" if not self.loader.num_workers else (  # a hint of ours after PyTorch's
                "With worker processes, each worker iterates its own copy of the dataset: "
                "split the stream by get_worker_info() in __iter__.")
            warnings.warn(f"Length of IterableDataset {self.loader.dataset} was reported to be "
                          f"{self.reported}(when accessing len(dataloader)), but {self.count} "
                          f"samples have been fetched. {more}", stacklevel=2)
        return batch


def _context(context: Any, num_workers: int) -> Any:
    """``multiprocessing_context`` as a context object (None: the platform's default), checked
    as PyTorch's."""
    if context is None:
        return None
    if num_workers == 0:
        raise ValueError(f"DataLoader: multiprocessing_context can only be used with "
                         f"multi-process loading (num_workers > 0), but got "
                         f"num_workers={num_workers}")
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(f"DataLoader: multiprocessing_context should be a start method "
                             f"in {methods!r}, but got {context!r}")
        return multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError(f"DataLoader: multiprocessing_context should be a context object or "
                        f"the name of a start method, but got {context!r}")
    return context


def _submodule(name: str, names: list[str]) -> types.ModuleType:
    """``tinygrad_rnn.utils.data.<name>``, registered as a module, holding ``names``, as
    PyTorch's ``torch.utils.data.<name>``: ported code imports from there."""
    module = types.ModuleType(f"{__name__}.{name}", f"``{names[0]}`` and the rest, as "
                              f"``torch.utils.data.{name}``: the objects of ``{__name__}``.")
    module.__dict__.update({n: globals()[n] for n in names})
    module.__all__ = names  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    return module


# attributes of this module too, so that ``tinygrad_rnn.utils.data.dataloader`` resolves
dataloader = _submodule("dataloader", ["DataLoader", "default_collate", "default_convert"])
sampler = _submodule("sampler", ["Sampler", "SequentialSampler", "RandomSampler",
                                 "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler"])
dataset = _submodule("dataset", ["Dataset", "IterableDataset", "TensorDataset", "Subset",
                                 "ConcatDataset", "ChainDataset", "StackDataset",
                                 "random_split"])
distributed = _submodule("distributed", ["DistributedSampler"])

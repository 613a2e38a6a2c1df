"""tr.utils.data's streams and splits against torch.utils.data: ``IterableDataset`` through a
``DataLoader`` (batches, ``drop_last``, ``collate_fn``, ``batch_size=None``, ``len`` and its
warning, the refused options), ``ChainDataset``, ``StackDataset`` (tuple and dict forms),
``ConcatDataset`` refusing a stream, ``get_worker_info``, ``DistributedSampler`` (the same
index lists as PyTorch's for every setting), ``Dataset.__add__`` and ``random_split``'s
fractions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.utils.data import (
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    DistributedSampler,
    IterableDataset,
    StackDataset,
    TensorDataset,
    get_worker_info,
    random_split,
)

torch = pytest.importorskip("torch")
tud = torch.utils.data
pytestmark = pytest.mark.torch


def _plain(batch):
    """A batch as NumPy arrays and lists, whichever library made it."""
    if hasattr(batch, "numpy"):
        return batch.detach().numpy() if hasattr(batch, "detach") else batch.numpy()
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return [type(batch).__name__, *[_plain(v) for v in batch]]
    return batch


def _same(ours, theirs):
    a, b = _plain(ours), _plain(theirs)
    assert type(a) is type(b), (a, b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        assert a == b


def _stream(base):
    """The same stream class on each side: squares, (index, value) pairs or dicts, with a
    length where ``length`` is given."""

    class Stream(base):
        def __init__(self, n, length=None, kind="int"):
            self.n, self.length, self.kind = n, length, kind

        def __iter__(self):
            for i in range(self.n):
                if self.kind == "int":
                    yield i * i
                elif self.kind == "pair":
                    yield i, float(i) / 2
                else:
                    yield {"x": np.full(2, i, dtype=np.float32), "y": i}

    class Sized(Stream):
        def __len__(self):
            return self.length

    return Stream, Sized


OURS, OURS_SIZED = _stream(IterableDataset)
THEIRS, THEIRS_SIZED = _stream(tud.IterableDataset)


@pytest.mark.parametrize("kind", ["int", "pair", "dict"])
@pytest.mark.parametrize(("n", "batch_size", "drop_last"),
                         [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False),
                          (2, 5, True), (0, 2, False), (7, None, False), (4, 1, False)])
def test_iterable_dataset_batches_match_torch(kind, n, batch_size, drop_last):
    ours = list(DataLoader(OURS(n, kind=kind), batch_size=batch_size, drop_last=drop_last))
    theirs = list(tud.DataLoader(THEIRS(n, kind=kind), batch_size=batch_size,
                                 drop_last=drop_last))
    _same(ours, theirs)


def test_iterable_dataset_collate_fn_sees_the_raw_samples_as_torch():
    seen, seen_t = [], []

    def collate(into):
        return lambda batch: (into.append(list(batch)), len(batch))[1]

    ours = list(DataLoader(OURS(7, kind="pair"), batch_size=3, collate_fn=collate(seen)))
    theirs = list(tud.DataLoader(THEIRS(7, kind="pair"), batch_size=3,
                                 collate_fn=collate(seen_t)))
    assert ours == theirs == [3, 3, 1] and seen == seen_t
    # unbatched: collate_fn takes each sample
    ours = list(DataLoader(OURS(3), batch_size=None, collate_fn=lambda s: -s))
    theirs = list(tud.DataLoader(THEIRS(3), batch_size=None, collate_fn=lambda s: -s))
    assert ours == theirs == [0, -1, -4]


@pytest.mark.parametrize(("n", "length", "batch_size", "drop_last"),
                         [(10, 10, 3, False), (10, 10, 3, True), (5, 5, None, False),
                          (10, 3, 2, False), (6, 2, None, False)])
def test_iterable_dataset_len_and_its_warning_as_torch(n, length, batch_size, drop_last):
    ours = DataLoader(OURS_SIZED(n, length), batch_size=batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(THEIRS_SIZED(n, length), batch_size=batch_size,
                            drop_last=drop_last)
    assert len(ours) == len(theirs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = list(ours)
    ours_msgs = [str(w.message).replace(repr(ours.dataset), "DS") for w in caught]
    with warnings.catch_warnings(record=True) as caught_t:
        warnings.simplefilter("always")
        want = list(theirs)
    theirs_msgs = [str(w.message).replace(repr(theirs.dataset), "DS") for w in caught_t]
    _same(got, want)
    assert ours_msgs == theirs_msgs
    assert bool(ours_msgs) == (len(got) > length)
    assert all(w.category is UserWarning for w in caught)


def test_iterable_dataset_without_len_and_before_len_was_asked():
    with pytest.raises(TypeError, match="object of type 'Stream' has no len()"):
        len(DataLoader(OURS(3)))
    with pytest.raises(TypeError, match="has no len()"):
        len(tud.DataLoader(THEIRS(3)))
    # no len() asked: no warning, however long the stream (filterwarnings = error)
    assert len(list(DataLoader(OURS_SIZED(10, 2), batch_size=1))) == 10
    assert list(OURS(3)) == [0, 1, 4]  # list() ignores the TypeError of __len__


@pytest.mark.parametrize("option", [{"shuffle": True}, {"sampler": [0, 1]},
                                    {"batch_sampler": [[0]]}])
def test_iterable_dataset_refuses_shuffle_and_samplers_as_torch(option):
    with pytest.raises(ValueError) as theirs:
        tud.DataLoader(THEIRS(3), **option)
    with pytest.raises(ValueError) as ours:
        DataLoader(OURS(3), **option)
    assert str(ours.value).split(" option")[0] == str(theirs.value).split(" option")[0]
    assert "DataLoader with IterableDataset: expected unspecified" in str(ours.value)
    # shuffle=False and None are "unspecified"
    assert len(list(DataLoader(OURS(3), shuffle=False))) == 3
    assert len(list(DataLoader(OURS(3), shuffle=None))) == 3


def test_iterable_loader_keeps_torchs_attributes_and_reiterates():
    loader = DataLoader(OURS(5), batch_size=2)
    assert type(loader.sampler).__name__ == "_InfiniteConstantSampler"
    assert loader.batch_sampler.batch_size == 2
    first, second = list(loader), list(loader)  # a fresh iterator each epoch
    _same(first, second)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(OURS(3), batch_size=None, drop_last=True)


def test_chain_dataset_and_add_match_torch():
    ours = ChainDataset([OURS(3), OURS_SIZED(2, 2, kind="pair")])
    theirs = tud.ChainDataset([THEIRS(3), THEIRS_SIZED(2, 2, kind="pair")])
    _same(list(ours), list(theirs))
    _same(list(DataLoader(ours, batch_size=2, collate_fn=list)),
          list(tud.DataLoader(theirs, batch_size=2, collate_fn=list)))
    assert len(ChainDataset([OURS_SIZED(3, 3), OURS_SIZED(4, 4)])) == 7
    with pytest.raises(TypeError, match="has no len()"):
        len(ours)
    added = OURS(2) + OURS(3)
    assert type(added) is ChainDataset and list(added) == [0, 1, 0, 1, 4]
    assert type(THEIRS(2) + THEIRS(3)) is tud.ChainDataset
    with pytest.raises(TypeError, match="ChainDataset only supports IterableDataset, got list"):
        list(ChainDataset([OURS(1), [5, 6]]))
    mapped = TensorDataset(tr.arange(3)) + TensorDataset(tr.arange(2))
    assert type(mapped) is ConcatDataset and len(mapped) == 5


def test_concat_dataset_refuses_a_stream_before_asking_its_length():
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        tud.ConcatDataset([THEIRS_SIZED(2, 2)])
    with pytest.raises(TypeError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([TensorDataset(tr.arange(2)), OURS_SIZED(2, 2)])
    with pytest.raises(ValueError, match="should not be an empty iterable"):
        ConcatDataset([])


def test_stack_dataset_tuple_and_dict_forms_match_torch():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6)

    class Items(Dataset):  # a dataset that fetches a batch itself
        calls = 0

        def __getitem__(self, i):
            return int(y[i]) * 10

        def __getitems__(self, indices):
            Items.calls += 1
            return [int(y[i]) * 10 for i in indices]

        def __len__(self):
            return 6

    class TItems(tud.Dataset):
        def __getitem__(self, i):
            return int(y[i]) * 10

        def __getitems__(self, indices):
            return [int(y[i]) * 10 for i in indices]

        def __len__(self):
            return 6

    ours_t = StackDataset(TensorDataset(tr.tensor(x)), list(y), Items())
    theirs_t = tud.StackDataset(tud.TensorDataset(torch.tensor(x)), list(y), TItems())
    assert len(ours_t) == len(theirs_t) == 6
    _same(ours_t[2], theirs_t[2])
    ours_d = StackDataset(a=TensorDataset(tr.tensor(x)), b=list(y), c=Items())
    theirs_d = tud.StackDataset(a=tud.TensorDataset(torch.tensor(x)), b=list(y), c=TItems())
    _same(ours_d[5], theirs_d[5])
    _same(ours_d.__getitems__([0, 3]), theirs_d.__getitems__([0, 3]))
    for ours, theirs in ((ours_t, theirs_t), (ours_d, theirs_d)):
        Items.calls = 0
        _same(list(DataLoader(ours, batch_size=4)), list(tud.DataLoader(theirs, batch_size=4)))
        assert Items.calls == 2  # one __getitems__ per batch
        g = torch.Generator().manual_seed(0)
        order = list(tud.RandomSampler(range(6), generator=g))
        _same(list(DataLoader(ours, batch_size=2, sampler=order)),
              list(tud.DataLoader(theirs, batch_size=2, sampler=order)))


def test_stack_dataset_errors_as_torch():
    for args, kwargs, match in [((), {}, "at least one dataset"),
                                (([1, 2],), {"b": [1, 2]}, "both types are given"),
                                (([1, 2], [1]), {}, r"size mismatch between datasets"),
                                ((), {"a": [1], "b": [1, 2]}, r"size mismatch")]:
        with pytest.raises(ValueError, match="(?i)" + match.split(" ")[0]):
            tud.StackDataset(*args, **kwargs)
        with pytest.raises(ValueError, match=match):
            StackDataset(*args, **kwargs)

    class Short(Dataset):
        def __getitems__(self, indices):
            return [0]

        def __len__(self):
            return 3

    with pytest.raises(ValueError, match="output size mismatch, expected 2, got 1"):
        StackDataset(Short()).__getitems__([0, 1])


def test_get_worker_info_is_none_in_the_main_process_as_torch():
    assert get_worker_info() is None is tud.get_worker_info()
    from tinygrad_rnn.utils import data

    assert data.get_worker_info is get_worker_info


@pytest.mark.parametrize("n", [0, 1, 2, 7, 10, 33, 100])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4, 8])
@pytest.mark.parametrize(("shuffle", "drop_last"), [(True, False), (True, True),
                                                     (False, False), (False, True)])
def test_distributed_sampler_gives_torchs_index_lists(n, replicas, shuffle, drop_last):
    data = list(range(n))
    for rank in range(replicas):
        for seed in (0, 7):
            ours = DistributedSampler(data, replicas, rank, shuffle, seed, drop_last)
            theirs = tud.DistributedSampler(data, replicas, rank, shuffle, seed, drop_last)
            assert (ours.num_samples, ours.total_size) == (theirs.num_samples,
                                                            theirs.total_size)
            for epoch in (0, 1, 5):
                ours.set_epoch(epoch)
                theirs.set_epoch(epoch)
                assert list(ours) == list(theirs)
                assert len(ours) == len(theirs)


def test_distributed_sampler_in_a_data_loader_and_its_errors():
    data = TensorDataset(tr.arange(10))
    sampler = DistributedSampler(data, num_replicas=3, rank=1, seed=3)
    theirs = tud.DistributedSampler(range(10), num_replicas=3, rank=1, seed=3)
    got = [b[0].numpy().tolist() for b in DataLoader(data, batch_size=2, sampler=sampler)]
    want = [b.tolist() for b in tud.DataLoader(range(10), batch_size=2, sampler=theirs)]
    assert got == want
    one = DistributedSampler(data, shuffle=False)  # no process group: a world of one
    assert (one.num_replicas, one.rank, list(one)) == (1, 0, list(range(10)))
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval "
                                         r"\[0, 2\]"):
        tud.DistributedSampler(range(4), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match=r"invalid rank 3, rank should be in the interval "
                                         r"\[0, 2\]"):
        DistributedSampler(data, num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="invalid rank -1"):
        DistributedSampler(data, num_replicas=3, rank=-1)
    with pytest.raises(ValueError, match="num_replicas should be a positive integer"):
        DistributedSampler(data, num_replicas=0, rank=0)
    with pytest.raises(TypeError, match="needs a map-style dataset"):
        DistributedSampler(OURS(3), num_replicas=1, rank=0)


def test_distributed_sampler_permutation_is_torchs_randperm():
    from tinygrad_rnn.utils.data import _randperm_like_torch

    for n in (0, 1, 2, 5, 1000):
        for seed in (0, 1, 123456789, 2**40 + 3, -5):
            g = torch.Generator().manual_seed(seed)
            assert _randperm_like_torch(n, seed) == torch.randperm(n, generator=g).tolist()


@pytest.mark.parametrize(("n", "lengths"),
                         [(10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]), (5, [1]), (4, [0, 1]),
                          (3, [0.1, 0.9]), (7, [0.25, 0.25, 0.25, 0.25]), (1, [1.0, 0.0])])
def test_random_split_fractions_match_torchs_sizes_and_warnings(n, lengths):
    with warnings.catch_warnings(record=True) as theirs_w:
        warnings.simplefilter("always")
        theirs = [len(s) for s in tud.random_split(range(n), lengths)]
    with warnings.catch_warnings(record=True) as ours_w:
        warnings.simplefilter("always")
        parts = random_split(list(range(n)), lengths)
    assert [len(p) for p in parts] == theirs
    assert [str(w.message) for w in ours_w] == [str(w.message) for w in theirs_w]
    assert sorted(i for p in parts for i in (p[j] for j in range(len(p)))) == list(range(n))

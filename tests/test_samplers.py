"""tr.utils.data's samplers, ConcatDataset and DataLoader's sampler/batch_sampler against
torch.utils.data where they are deterministic (orders, batches, lengths, cumulative sizes,
conflicting arguments); the random samplers by their properties (permutations, frequencies
that follow the weights, reproducible under tr.manual_seed); and a bucketing loader that
feeds padded, packed batches of similar lengths to an LSTM."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.nn.utils.rnn import pack_padded_sequence, pad_sequence
from tinygrad_rnn.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_convert,
)


def _rows(loader):
    """A loader's batches as lists (whichever library made it)."""
    return [_listed(b) for b in loader]


def _listed(batch):
    if isinstance(batch, list):
        return [_listed(t) for t in batch]
    return batch.tolist() if hasattr(batch, "tolist") else batch


class Numbers(Dataset):
    """Sample i is the int 10 * i (no fast path: each sample is looked up and collated)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __getitem__(self, i):
        return 10 * i

    def __len__(self) -> int:
        return self.n


@pytest.mark.torch
@given(n=st.integers(0, 12), batch_size=st.integers(1, 5), drop_last=st.booleans(),
       data=st.data())
def test_sequential_and_batch_samplers_match_torch(n, batch_size, drop_last, data):
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata

    assert list(SequentialSampler(range(n))) == list(tdata.SequentialSampler(range(n)))
    assert len(SequentialSampler(range(n))) == n
    indices = data.draw(st.lists(st.integers(0, 20), max_size=12))  # any iterable of indices
    for source, theirs_source in [(indices, indices),
                                  (SequentialSampler(range(n)), tdata.SequentialSampler(range(n)))]:
        ours = BatchSampler(source, batch_size, drop_last)
        theirs = tdata.BatchSampler(theirs_source, batch_size, drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        assert list(ours) == list(ours)  # read afresh each epoch
    del torch


@pytest.mark.torch
@given(sizes=st.lists(st.integers(0, 4), min_size=1, max_size=4))
def test_concat_dataset_indexes_as_torch(sizes):
    pytest.importorskip("torch")
    from torch.utils import data as tdata

    parts = [list(range(100 * k, 100 * k + s)) for k, s in enumerate(sizes)]
    ours, theirs = ConcatDataset(parts), tdata.ConcatDataset(parts)
    assert ours.cumulative_sizes == theirs.cumulative_sizes and len(ours) == len(theirs)
    n = len(theirs)
    assert [ours[i] for i in range(-n, n)] == [theirs[i] for i in range(-n, n)]
    for i in (n, -n - 1):
        with pytest.raises(IndexError, match=f"index {i} is out of range for {n} samples"):
            ours[i]


def test_concat_dataset_batches_and_errors():
    a, b = TensorDataset(tr.arange(3)), TensorDataset(tr.arange(10, 12))
    both = a + b  # Dataset.__add__, as torch's
    assert isinstance(both, ConcatDataset) and both.cumulative_sizes == [3, 5]
    assert _rows(DataLoader(both, batch_size=2)) == [[[0, 1]], [[2, 10]], [[11]]]
    assert both[-1][0].item() == 11 and len(ConcatDataset(iter([a]))) == 3
    with pytest.raises(ValueError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(TypeError, match=r"ConcatDataset \(dataset 1\) needs a map-style"):
        ConcatDataset([a, iter(range(3))])


@pytest.mark.torch
@given(n=st.integers(0, 10), batch_size=st.integers(1, 4), drop_last=st.booleans(),
       data=st.data())
def test_loaders_with_samplers_match_torch(n, batch_size, drop_last, data):
    """A sampler, a batch sampler (a list of lists, or a BatchSampler): the same batches and
    len() as torch's, on the one-gather path (TensorDataset) and the general one."""
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata

    order = data.draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=10) if n else st.just([]))
    batches = data.draw(st.lists(st.lists(st.integers(0, n - 1), min_size=1, max_size=3),
                                 max_size=4) if n else st.just([]))
    ours_data = [TensorDataset(tr.arange(n) * 2), Numbers(n)]
    theirs_data = [tdata.TensorDataset(torch.arange(n) * 2), Numbers(n)]
    for d, td in zip(ours_data, theirs_data):
        cases = [
            (dict(sampler=order, batch_size=batch_size, drop_last=drop_last),
             dict(sampler=order, batch_size=batch_size, drop_last=drop_last)),
            (dict(batch_sampler=batches), dict(batch_sampler=batches)),
            (dict(batch_sampler=BatchSampler(SequentialSampler(d), batch_size, drop_last)),
             dict(batch_sampler=tdata.BatchSampler(tdata.SequentialSampler(td), batch_size,
                                                   drop_last))),
            (dict(sampler=order, batch_size=None), dict(sampler=order, batch_size=None)),
            (dict(batch_size=batch_size, drop_last=drop_last),
             dict(batch_size=batch_size, drop_last=drop_last)),
        ]
        for kw, tkw in cases:
            ours, theirs = DataLoader(d, **kw), tdata.DataLoader(td, **tkw)
            assert len(ours) == len(theirs), kw
            assert _rows(ours) == _rows(theirs), kw
            assert ours.batch_size == theirs.batch_size and ours.drop_last == theirs.drop_last
            assert type(ours.sampler).__name__ == type(theirs.sampler).__name__
            assert type(ours.batch_sampler).__name__ == type(theirs.batch_sampler).__name__


@pytest.mark.torch
@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(batch_sampler=[[0]], batch_size=2), "got batch_size=2"),
    (dict(batch_sampler=[[0]], batch_size=None), "got batch_size=None"),
    (dict(batch_sampler=[[0]], shuffle=True), "got shuffle=True"),
    (dict(batch_sampler=[[0]], sampler=[0]), "got a sampler"),
    (dict(batch_sampler=[[0]], drop_last=True, batch_size=3), "got batch_size=3, drop_last"),
    (dict(sampler=[0], shuffle=True), "sampler and shuffle=True exclude each other"),
    (dict(sampler=[0], shuffle=True, batch_sampler=[[0]]), "sampler and shuffle=True"),
    (dict(batch_size=None, drop_last=True), "drop_last needs a batch_size"),
])
def test_conflicting_arguments_are_errors_as_torch(kwargs, message):
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata

    with pytest.raises(ValueError):
        tdata.DataLoader(tdata.TensorDataset(torch.arange(4)), **kwargs)
    with pytest.raises(ValueError, match=message):
        DataLoader(TensorDataset(tr.arange(4)), **kwargs)


@pytest.mark.torch
def test_default_convert_matches_torch():
    pytest.importorskip("torch")
    from torch.utils.data.dataloader import default_convert as theirs

    samples = [np.arange(3, dtype=np.int32), np.float32(2.5), 3, "s", (np.ones(2), 1),
               {"a": np.zeros(2), "b": [np.int64(4), "x"]}]
    for sample in samples:
        ours = default_convert(sample)
        assert repr(_plain(ours)) == repr(_plain(theirs(sample))), sample


def _plain(x):
    if hasattr(x, "tolist") and not isinstance(x, (int, float, str)):
        return ("tensor", str(x.dtype).replace("torch.", ""), x.tolist())
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_plain(v) for v in x])
    return x


def test_submodules_import_as_torchs():
    """``tinygrad_rnn.utils.data.dataloader`` (and ``.sampler``, ``.dataset``) import, in a
    fresh interpreter too, as torch's do."""
    import tinygrad_rnn.utils.data.dataloader
    from tinygrad_rnn.utils.data.dataloader import DataLoader as Loader
    from tinygrad_rnn.utils.data.dataloader import default_collate
    from tinygrad_rnn.utils.data.dataset import ConcatDataset as Concat
    from tinygrad_rnn.utils.data.sampler import BatchSampler as Batches

    data = tr.utils.data
    assert tinygrad_rnn.utils.data.dataloader.default_collate is data.default_collate
    assert default_collate is data.default_collate and Loader is DataLoader
    assert Concat is ConcatDataset and Batches is BatchSampler
    code = ("import tinygrad_rnn.utils.data.dataloader as m; "
            "from tinygrad_rnn.utils.data.sampler import Sampler; "
            "print(m.default_collate.__name__, Sampler.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["default_collate", "Sampler"]


def test_random_sampler_permutes_reproducibly_under_manual_seed():
    data = range(10)
    sampler = RandomSampler(data)
    tr.manual_seed(5)
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == list(range(10)) and first != second
    tr.manual_seed(5)
    assert [list(sampler), list(sampler)] == [first, second]
    more = RandomSampler(data, num_samples=25)  # two whole permutations, then 5 of a third
    drawn = list(more)
    assert len(drawn) == len(more) == 25
    assert sorted(drawn[:10]) == sorted(drawn[10:20]) == list(range(10))
    assert len(set(drawn[20:])) == 5
    fewer = list(RandomSampler(data, num_samples=4))
    assert len(set(fewer)) == 4
    again = RandomSampler(data, replacement=True, num_samples=200)
    drawn = list(again)
    assert len(drawn) == 200 and set(drawn) == set(range(10))  # all in range, with repeats
    # a generator of its own: a tr.Generator and a NumPy one of the same seed draw alike
    g = list(RandomSampler(data, generator=tr.Generator().manual_seed(3)))
    assert g == list(RandomSampler(data, generator=np.random.default_rng(3)))
    assert g == np.random.default_rng(3).permutation(10).tolist()


def test_default_and_custom_samplers_give_the_same_batches():
    """DataLoader(shuffle=True) reads its RandomSampler in one go; the same sampler passed as
    ``sampler``, or a subclass of it (the general path), gives the same batches."""
    class Mine(RandomSampler):
        pass

    data = TensorDataset(tr.arange(11) * 3)
    shared = np.random.default_rng(0)  # the loader's: it draws the iterator's base seed first
    loaders = [DataLoader(data, batch_size=4, shuffle=True, generator=shared),
               DataLoader(data, batch_size=4, sampler=RandomSampler(
                   data, generator=np.random.default_rng(0))),
               DataLoader(data, batch_size=4, sampler=Mine(
                   data, generator=np.random.default_rng(0))),
               DataLoader(data, batch_sampler=BatchSampler(Mine(
                   data, generator=np.random.default_rng(0)), 4, False))]
    runs = [[_rows(loader) for _ in range(2)] for loader in loaders]  # two epochs each
    assert all(r == runs[1] for r in runs[1:]) and runs[1][0] != runs[1][1]
    alone = np.random.default_rng(0)  # the first loader's draws: a seed, an order, again
    assert runs[0] == [_rows(DataLoader(data, batch_size=4, sampler=[
        int(i) for i in (alone.integers(2**63), alone.permutation(11))[1]])) for _ in range(2)]
    assert all(len(loader) == 3 for loader in loaders)
    assert isinstance(loaders[0].sampler, RandomSampler)
    assert isinstance(loaders[0].batch_sampler, BatchSampler)


def test_subset_random_sampler_permutes_its_indices():
    indices = [7, 3, 11, 2]
    tr.manual_seed(0)
    first = list(SubsetRandomSampler(indices))
    assert sorted(first) == sorted(indices) and len(SubsetRandomSampler(indices)) == 4
    tr.manual_seed(0)
    assert list(SubsetRandomSampler(indices)) == first
    own = SubsetRandomSampler(indices, generator=tr.Generator().manual_seed(1))
    assert sorted(own) == sorted(indices)
    data = TensorDataset(tr.arange(12) * 2)
    got = _rows(DataLoader(data, batch_size=3, sampler=SubsetRandomSampler(indices)))
    assert sorted(sum((b[0] for b in got), [])) == [4, 6, 14, 22]


def test_weighted_random_sampler_counts_follow_the_weights():
    weights = [1.0, 2.0, 3.0, 4.0, 0.0]
    tr.manual_seed(0)
    sampler = WeightedRandomSampler(weights, 20000)
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == 20000
    freq = np.bincount(drawn, minlength=5) / len(drawn)
    np.testing.assert_allclose(freq, np.array(weights) / 10, atol=0.015)
    assert freq[4] == 0
    tr.manual_seed(0)
    assert list(sampler) == drawn  # reproducible under tr.manual_seed
    assert sampler.weights.dtype == np.float64 and sampler.replacement
    once = list(WeightedRandomSampler(weights, 4, replacement=False))
    assert sorted(once) == [0, 1, 2, 3]  # each at most once, never a weight of 0
    own = [list(WeightedRandomSampler(tr.tensor(weights), 6,
                                      generator=tr.Generator().manual_seed(2)))
           for _ in range(2)]
    assert own[0] == own[1]


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda: RandomSampler([]), ValueError, "the data source is empty"),
    (lambda: RandomSampler(range(3), num_samples=0), ValueError, "positive integer value"),
    (lambda: RandomSampler(range(3), replacement=1), TypeError, "replacement should be a bool"),
    (lambda: RandomSampler(range(3), generator=3), TypeError, "generator must be a tr.Gen"),
    (lambda: SubsetRandomSampler([0], generator="x"), TypeError, "generator must be a"),
    (lambda: WeightedRandomSampler([1.0, 2.0], 0), ValueError, "num_samples should be a pos"),
    (lambda: WeightedRandomSampler([1.0, 2.0], True), ValueError, "positive integer value"),
    (lambda: WeightedRandomSampler([[1.0, 2.0]], 2), ValueError, r"1d sequence .* \(1, 2\)"),
    (lambda: WeightedRandomSampler([1.0, -1.0], 2), ValueError, "finite and >= 0"),
    (lambda: WeightedRandomSampler([0.0, 0.0], 2), ValueError, "positive sum"),
    (lambda: WeightedRandomSampler([1.0, 0.0], 2, replacement=False), ValueError,
     "2 samples without replacement, but only 1 weights are > 0"),
    (lambda: WeightedRandomSampler([1.0], 2, replacement=None), ValueError, "boolean value"),
    (lambda: BatchSampler([0, 1], 0, False), ValueError, "batch_size should be a positive"),
    (lambda: BatchSampler([0, 1], 2, None), ValueError, "drop_last should be a boolean"),
    (lambda: DataLoader(TensorDataset(tr.arange(0)), shuffle=True), ValueError,
     "the data source is empty"),
])
def test_sampler_arguments_are_checked_when_made(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_samplers_of_any_index_type_and_unbatched_collate():
    data = TensorDataset(tr.arange(6) * 1.0)
    loader = DataLoader(data, batch_size=2, sampler=[np.int64(5), tr.tensor(0), 3])
    assert _rows(loader) == [[[5.0, 0.0]], [[3.0]]]
    with pytest.raises(TypeError, match="the batch sampler gave 'a', which is not an integer"):
        list(DataLoader(data, batch_sampler=[[0, "a"]]))
    with pytest.raises(NotImplementedError, match="Sampler must define __iter__"):
        iter(Sampler())
    # batch_size=None: collate_fn (if given) takes each sample, as torch's
    doubled = list(DataLoader(Numbers(3), batch_size=None, collate_fn=lambda s: s * 2))
    assert doubled == [0, 20, 40]

    class Fetches(Numbers):  # __getitems__ fetches each batch a batch sampler gives
        def __getitems__(self, idx):
            return [-i for i in idx]

    assert _rows(DataLoader(Fetches(5), batch_sampler=[[4, 2], [1]])) == [[-4, -2], [-1]]
    with pytest.raises(TypeError, match="has no len"):
        len(DataLoader(data, batch_sampler=iter([[0]])))


class Sequences(Dataset):
    """Sequences of lengths 1 to 12 (features 3) with the length as the label."""

    def __init__(self, lengths) -> None:
        rng = np.random.default_rng(0)
        self.lengths = list(lengths)
        self.xs = [rng.standard_normal((n, 3)).astype(np.float32) for n in self.lengths]

    def __getitem__(self, i):
        return tr.tensor(self.xs[i]), self.lengths[i]

    def __len__(self) -> int:
        return len(self.lengths)


class Buckets(Sampler[list[int]]):
    """Batches of indices of similar lengths: sorted by length, cut into batches, the batches
    in a random order each epoch (from tr's generator)."""

    def __init__(self, lengths, batch_size: int) -> None:
        order = np.argsort(lengths, kind="stable").tolist()
        self.batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]

    def __iter__(self):
        for k in tr.randperm(len(self.batches)).tolist():
            yield self.batches[k]

    def __len__(self) -> int:
        return len(self.batches)


def _pad(samples):
    """Padded (B, T, 3) with the lengths, longest first (as pack_padded_sequence wants)."""
    samples = sorted(samples, key=lambda s: -s[1])
    return pad_sequence([x for x, _ in samples], batch_first=True), [n for _, n in samples]


def test_bucketing_batches_feed_a_packed_lstm():
    """A batch sampler of similar lengths, a collate_fn that pads, then pack_padded_sequence
    through an LSTM: every sequence once per epoch, little padding, and each sequence's last
    state as if it had run alone."""
    lengths = np.random.default_rng(1).integers(1, 13, size=23).tolist()
    data = Sequences(lengths)
    loader = DataLoader(data, batch_sampler=Buckets(lengths, 4), collate_fn=_pad)
    assert len(loader) == 6 and loader.batch_size is None
    tr.manual_seed(0)
    lstm = tr.nn.LSTM(3, 5, batch_first=True)
    seen = []
    for x, lens in loader:
        assert x.shape == (len(lens), max(lens), 3)
        assert max(lens) - min(lens) <= 4  # buckets of similar lengths: little padding
        _, (h, _) = lstm(pack_padded_sequence(x, lens, batch_first=True))
        for b, n in enumerate(lens):  # the packed batch's last states: each sequence alone
            alone = x[b:b + 1, :n]
            _, (h1, _) = lstm(alone)
            np.testing.assert_allclose(h.numpy()[0, b], h1.numpy()[0, 0], rtol=1e-5, atol=1e-6)
        seen += lens
    assert sorted(seen) == sorted(lengths)
    tr.manual_seed(3)
    first = [lens for _, lens in loader]
    tr.manual_seed(3)
    assert [lens for _, lens in loader] == first  # the bucket order, reproducible


@pytest.mark.torch
def test_dataloader_takes_torchs_worker_options_in_torchs_places():
    torch = pytest.importorskip("torch")
    import inspect

    ours = list(inspect.signature(DataLoader).parameters)
    theirs = list(inspect.signature(torch.utils.data.DataLoader).parameters)
    assert ours == theirs
    called = []
    data = TensorDataset(tr.arange(6))
    loader = DataLoader(data, 2, False, None, None, 0, None, False, False, 0,
                        lambda i: called.append(i), None, None, prefetch_factor=None,
                        persistent_workers=False, pin_memory_device="", in_order=True)
    assert [b[0].tolist() for b in loader] == [[0, 1], [2, 3], [4, 5]]
    assert called == []  # no workers: never called, as torch with num_workers=0
    with pytest.raises(ValueError, match="timeout must be non-negative"):
        DataLoader(data, timeout=-1)

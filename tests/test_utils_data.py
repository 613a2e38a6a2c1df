"""tr.utils.data against torch.utils.data: batches (values, dtypes, structure), lengths,
splits; shuffling by tr's generator; the one-gather batches of a TensorDataset equal the
collated ones (gradients too, on every device); clear errors."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.utils.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)

from .conftest import DEVICES

Pair = namedtuple("Pair", "x y")


def _plain(batch):
    """A batch as NumPy arrays and lists, whichever library made it."""
    if hasattr(batch, "numpy"):
        return batch.detach().numpy() if hasattr(batch, "detach") else batch.numpy()
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return (type(batch).__name__, [_plain(v) for v in batch])
    if isinstance(batch, (list, tuple)):
        return [type(batch).__name__, *[_plain(v) for v in batch]]
    return batch


def _assert_same(ours, theirs):
    ours, theirs = _plain(ours), _plain(theirs)
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype, (ours, theirs)
        np.testing.assert_array_equal(ours, theirs)
    elif isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for k in theirs:
            _assert_same(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b)
    else:
        assert ours == theirs


class Samples(Dataset):
    """Samples of every kind default_collate batches."""

    def __init__(self, n: int, torch=None) -> None:
        self.n, self.torch = n, torch

    def __getitem__(self, i):
        x = np.arange(3.0) * i
        t = self.torch.tensor(x) if self.torch else tr.tensor(x)
        return {"t": t, "a": x.astype(np.float32), "i": i, "f": i / 2, "b": i % 2 == 0,
                "s": f"s{i}", "g": np.int16(i), "p": Pair(i, [i, -i]), "tup": (i, 0.5)}

    def __len__(self) -> int:
        return self.n


@pytest.mark.torch
@given(n=st.integers(0, 9), batch_size=st.one_of(st.none(), st.integers(1, 4)),
       drop_last=st.booleans())
def test_batches_match_torch(n, batch_size, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata

    drop_last = drop_last and batch_size is not None
    x = np.arange(n * 2.0).reshape(n, 2)
    y = np.arange(n)
    ours = DataLoader(TensorDataset(tr.tensor(x), tr.tensor(y)), batch_size=batch_size,
                      drop_last=drop_last)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.tensor(x), torch.tensor(y)),
                              batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    got, expected = list(ours), list(theirs)
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        _assert_same(a, b)
    ours = DataLoader(Samples(n), batch_size=batch_size, drop_last=drop_last)
    theirs = tdata.DataLoader(Samples(n, torch), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        _assert_same(a, b)


@pytest.mark.torch
def test_default_collate_matches_torch():
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as theirs

    cases = [[(1, 2.0), (3, 4.0)], [[1, 2], [3, 4]], [np.float32(1), np.float32(2)],
             [True, False], [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}], [Pair(1, 2.0), Pair(3, 4.0)],
             [np.ones((2, 2), np.int32), np.zeros((2, 2), np.int32)], ["a", "b"],
             [("a", 1), ("b", 2)], [["a", 1], ["b", 2]], [Pair("a", 1), Pair("b", 2)]]
    for batch in cases:
        _assert_same(default_collate(batch), theirs(batch))
    with pytest.raises(ValueError, match=r"as many elements, got lengths \[2, 1\]"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found NoneType"):
        default_collate([None, None])


@pytest.mark.torch
@pytest.mark.parametrize(("n", "lengths"), [(10, [0.33, 0.33, 0.34]), (11, [0.5, 0.5]),
                                            (7, [3, 4]), (5, [5, 0]), (3, [0.2, 0.8])])
def test_random_split_sizes_match_torch(n, lengths):
    torch = pytest.importorskip("torch")
    import warnings

    with warnings.catch_warnings():  # torch warns about an empty split
        warnings.simplefilter("ignore", UserWarning)
        expected = [len(s) for s in torch.utils.data.random_split(range(n), lengths)]
    parts = random_split(list(range(n)), lengths)
    assert [len(p) for p in parts] == expected
    assert sorted(i for p in parts for i in (p[j] for j in range(len(p)))) == list(range(n))


def test_shuffle_draws_a_new_permutation_each_epoch_from_trs_generator():
    data = TensorDataset(tr.arange(10))
    loader = DataLoader(data, batch_size=4, shuffle=True)
    tr.manual_seed(3)
    first = [np.concatenate([b[0].numpy() for b in loader]) for _ in range(2)]
    tr.manual_seed(3)
    again = [np.concatenate([b[0].numpy() for b in loader]) for _ in range(2)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)  # reproducible under tr.manual_seed
        assert sorted(a.tolist()) == list(range(10))  # each epoch every sample once
    assert not np.array_equal(first[0], first[1])  # a new order each epoch
    own = DataLoader(data, batch_size=4, shuffle=True, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in own]),
                                  np.random.default_rng(0).permutation(10))
    sampled = DataLoader(data, batch_size=2, sampler=[9, 0, 4])
    assert [b[0].numpy().tolist() for b in sampled] == [[9, 0], [4]] and len(sampled) == 2


@pytest.mark.parametrize("device", DEVICES)
def test_tensor_dataset_batches_are_the_collated_ones_gradients_too(device):
    """The one-gather batch of a TensorDataset equals collating its samples, in value and in
    the gradient that reaches the dataset's tensors."""
    values = np.random.default_rng(0).standard_normal((7, 3))
    xs = [tr.tensor(values, device=device, requires_grad=True) for _ in range(2)]
    y = tr.tensor(np.arange(7), device=device)
    for x, collate in zip(xs, [None, default_collate]):
        loader = DataLoader(TensorDataset(x, y), batch_size=3, shuffle=True,
                            generator=np.random.default_rng(1), collate_fn=collate)
        total = None
        for xb, yb in loader:
            assert xb.device == device and yb.dtype == np.int64
            term = (xb * xb).sum() * 2.0 + (xb.sum(axis=1) * yb).sum()
            total = term if total is None else total + term
        total.backward()
    np.testing.assert_allclose(xs[0].grad.numpy(), xs[1].grad.numpy(), rtol=1e-15)
    first = next(iter(DataLoader(TensorDataset(xs[0], y), batch_size=4)))
    second = next(iter(DataLoader(TensorDataset(xs[0], y), batch_size=4,
                                  collate_fn=default_collate)))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_subset_and_unbatched_loading():
    sub = Subset(Samples(6), [5, 1])
    assert len(sub) == 2 and sub[0]["i"] == 5
    (one,) = list(DataLoader(Subset(TensorDataset(tr.arange(4)), [2]), batch_size=None))
    assert isinstance(one, list) and one[0].numpy() == 2  # a tuple sample becomes a list
    loader = DataLoader(Samples(2), batch_size=None)
    sample = next(iter(loader))
    assert isinstance(sample["a"], tr.Tensor) and sample["i"] == 0 and len(loader) == 2


def test_bad_arguments_are_clear_errors_at_construction():
    data = TensorDataset(tr.arange(4))
    with pytest.raises(ValueError, match="batch_size must be a positive integer or None, got 0"):
        DataLoader(data, batch_size=0)
    with pytest.raises(ValueError, match="sampler and shuffle=True exclude each other"):
        DataLoader(data, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="drop_last needs a batch_size"):
        DataLoader(data, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers must be an integer >= 0"):
        DataLoader(data, num_workers=-1)
    with pytest.raises(TypeError, match="generator must be a tr.Generator or a numpy"):
        DataLoader(data, generator=3)
    with pytest.raises(TypeError, match="needs a map-style dataset"):
        DataLoader(iter(range(3)))
    assert len(DataLoader(data, num_workers=1, pin_memory=True, persistent_workers=True)) == 4
    with pytest.raises(ValueError, match=r"as many rows, got \[\(4,\), \(3,\)\]"):
        TensorDataset(tr.arange(4), tr.arange(3))
    with pytest.raises(TypeError, match="argument 0 is a ndarray, not a Tensor"):
        TensorDataset(np.arange(3))
    with pytest.raises(ValueError, match=r"add up to 5, not to the dataset's 4 samples"):
        random_split(data, [2, 3])
    with pytest.raises(ValueError, match="counts .* or fractions adding up to 1"):
        random_split(data, [1.5, 2.5])
    with pytest.raises(NotImplementedError, match="must define __getitem__"):
        Dataset()[0]


@pytest.mark.torch
def test_collated_numbers_take_their_dtype_from_the_values_as_torch():
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as theirs

    for batch in ([1, 2.5], [True, 2], [1, np.float32(2.5)], [2.5, 1], [True, False], [3, 4]):
        _assert_same(default_collate(batch), theirs(batch))


def test_subclasses_subsets_and_getitems_are_honoured():
    class Scaled(TensorDataset):  # an augmentation in __getitem__ must run
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 10.0, y

    base = (tr.arange(6) * 1.0, tr.arange(6))
    assert [b[0].numpy().tolist() for b in DataLoader(Scaled(*base), batch_size=4)] == \
        [[0.0, 10.0, 20.0, 30.0], [40.0, 50.0]]

    class Fetches(Dataset):  # torch calls __getitems__ for a batch where a dataset has one
        def __getitem__(self, i):
            raise AssertionError("__getitems__ should be used")

        def __getitems__(self, idx):
            return [100 + i for i in idx]

        def __len__(self):
            return 4

    assert [b.numpy().tolist() for b in DataLoader(Fetches(), batch_size=3)] == \
        [[100, 101, 102], [103]]
    # a Subset of a Subset of a TensorDataset: one gather, the batches as collating them
    nested = Subset(Subset(TensorDataset(*base), [5, 4, 3, 2]), [3, 0, 1])
    fast = [[t.numpy().tolist() for t in b] for b in DataLoader(nested, batch_size=2)]
    slow = [[t.numpy().tolist() for t in b]
            for b in DataLoader(nested, batch_size=2, collate_fn=default_collate)]
    assert fast == slow == [[[2.0, 5.0], [2, 5]], [[4.0], [4]]]


def test_samplers_give_integers_or_whole_batches():
    data = TensorDataset(tr.arange(5) * 1.0)
    with pytest.raises(TypeError, match="the sampler gave 1.7, which is not an integer index"):
        list(DataLoader(data, batch_size=2, sampler=[0, 1.7]))
    # batch_size=None with a sampler of index lists: each list is one batch, as torch's
    batches = list(DataLoader(data, batch_size=None, sampler=[[0, 1], [4]]))
    assert [b[0].numpy().tolist() for b in batches] == [[0.0, 1.0], [4.0]]


@pytest.mark.torch
def test_a_batch_of_pytorch_tensors_is_named_as_such():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"found torch\.Tensor \(PyTorch's"):
        default_collate([torch.zeros(2), torch.zeros(2)])


def test_a_generator_of_its_own_as_torch_generator():
    """``tr.Generator().manual_seed(s)`` makes DataLoader's shuffle, random_split, the random
    tensors and nn.init draw from it, reproducibly and apart from the global generator."""
    data = TensorDataset(tr.arange(10.0))

    def draws(seed):
        g = tr.Generator().manual_seed(seed)
        order = [b[0].numpy().tolist() for b in DataLoader(data, batch_size=10, shuffle=True,
                                                            generator=g)]
        split = [s.indices for s in random_split(data, [3, 7], generator=g)]
        w = tr.nn.init.uniform_(tr.zeros(4), generator=g)
        return (order, split, tr.randn(3, generator=g).numpy().tolist(),
                tr.rand(2, generator=g).numpy().tolist(),
                tr.randint(0, 9, (3,), generator=g).numpy().tolist(),
                tr.randperm(5, generator=g).numpy().tolist(),
                tr.multinomial(tr.ones(4), 2, generator=g).numpy().tolist(), w.numpy().tolist())

    tr.manual_seed(0)
    first = draws(7)
    tr.manual_seed(1)  # the global generator does not matter
    assert draws(7) == first and draws(8) != first
    g = tr.Generator().manual_seed(3)
    state = g.get_state()
    a = tr.randn(2, generator=g).numpy()
    g.set_state(state)
    assert (tr.randn(2, generator=g).numpy() == a).all() and g.initial_seed() == 3
    assert isinstance(g.seed(), int)
    with pytest.raises(TypeError, match="randn: generator must be a tr.Generator"):
        tr.randn(2, generator=3)


@pytest.mark.torch
@pytest.mark.parametrize("drop_last", [False, True])
def test_the_iterator_has_the_loaders_length_as_torch(drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import TensorDataset as TorchTensors

    class Stream(tr.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    class TorchStream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    x = np.arange(10.0)
    ours = [DataLoader(TensorDataset(tr.tensor(x)), 3, drop_last=drop_last),
            DataLoader(Stream(), 3, drop_last=drop_last)]
    theirs = [TorchLoader(TorchTensors(torch.tensor(x)), 3, drop_last=drop_last),
              TorchLoader(TorchStream(), 3, drop_last=drop_last)]
    for a, b in zip(ours, theirs):
        it = iter(a)
        assert len(it) == len(a) == len(b) and len(list(it)) == len(a)
    assert len(iter(theirs[0])) == len(theirs[0])  # (torch's iterator over a stream has no
    # length, a TypeError from its sampler; ours gives the loader's, as len(loader) does)

"""DataLoader worker processes against torch.utils.data's: the batches and their order for
map-style datasets and streams (sharded by ``get_worker_info``, unsharded ones duplicating,
workers running out unevenly), ``drop_last``, ``batch_size=None``, ``in_order=False``; what
``get_worker_info`` tells a worker; seeding (the same NumPy seed words as PyTorch's, other
numbers per worker, the same again under one ``tr.manual_seed``); ``worker_init_fn``; errors,
dead workers and timeouts raised in the main process; shutting down at the end, on a break
and when the iterator is dropped, persistent workers; the refused arguments.

The datasets are defined once per library (``_kit``), so both loaders read the same code.
Workers start by fork here (the dataset classes live in functions); one test starts them by
spawn, with a dataset class importable from this module.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import random
import signal
import time
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.utils import _workers
from tinygrad_rnn.utils import data as trd
from tinygrad_rnn.utils.data import DataLoader, TensorDataset, get_worker_info

from .conftest import gpu, needs_cuda

if "fork" not in multiprocessing.get_all_start_methods():
    pytest.skip("these tests start workers by fork", allow_module_level=True)

pytestmark = [
    # more workers than this machine's CPUs warns, here as in torch; and Python 3.12+ warns
    # when a process with threads forks
    pytest.mark.filterwarnings("ignore:DataLoader. .* worker processes, more than"),
    pytest.mark.filterwarnings("ignore:This DataLoader will create"),
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]


@pytest.fixture(autouse=True, scope="module")
def _fork_by_default():
    """Workers start by fork here (the platform's default on Linux before Python 3.14, whose
    default is forkserver), for both libraries' loaders left with the default context."""
    before = multiprocessing.get_start_method(allow_none=True)
    multiprocessing.set_start_method("fork", force=True)
    yield
    multiprocessing.set_start_method(before, force=True)


def _torch_data():
    torch = pytest.importorskip("torch")
    return torch.utils.data


def _kit(lib):
    """The test datasets, subclassing ``lib``'s ``Dataset`` and ``IterableDataset`` and asking
    ``lib.get_worker_info``."""
    info = lib.get_worker_info

    class Numbers(lib.Dataset):
        """i -> i * 10, an int."""

        def __init__(self, n):
            self.n = n

        def __len__(self):
            return self.n

        def __getitem__(self, i):
            return i * 10

    class Sharded(lib.IterableDataset):
        """0 .. n-1, each worker reading every num_workers-th, worker w also ``extra * w``
        more (so workers run out at different times)."""

        def __init__(self, n, extra=0):
            self.n, self.extra = n, extra

        def __iter__(self):
            w = info()
            if w is None:
                return iter(range(self.n))
            return iter(range(w.id, self.n + self.extra * w.id * w.num_workers, w.num_workers))

    class Whole(lib.IterableDataset):
        """0 .. n-1 in every worker: each sample comes once per worker."""

        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

    class WhoAmI(lib.Dataset):
        """i -> (i, worker id, num_workers, the worker's seed, whether ``dataset`` is this
        copy)."""

        def __len__(self):
            return 12

        def __getitem__(self, i):
            w = info()
            return i, w.id, w.num_workers, w.seed, w.dataset is self

    return types.SimpleNamespace(Numbers=Numbers, Sharded=Sharded, Whole=Whole, WhoAmI=WhoAmI)


OURS = _kit(trd)


def _plain(batch):
    if hasattr(batch, "tolist"):
        return batch.tolist()
    if isinstance(batch, (list, tuple)):
        return [_plain(b) for b in batch]
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    return batch


def _both(make, **options):
    """The batches of ``make(kit)`` through our loader and torch's, as plain lists."""
    tud = _torch_data()
    ours = [_plain(b) for b in DataLoader(make(OURS), **options)]
    theirs = [_plain(b) for b in tud.DataLoader(make(_kit(tud)), **options)]
    return ours, theirs


def _no_children():
    assert multiprocessing.active_children() == []


@pytest.mark.torch
@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("options", [dict(batch_size=3), dict(batch_size=None),
                                     dict(batch_size=3, drop_last=True, prefetch_factor=1)])
def test_map_style_batches_come_in_sampler_order_as_torch(workers, options):
    ours, theirs = _both(lambda k: k.Numbers(10), num_workers=workers, **options)
    assert ours == theirs
    assert ours[:2] == ([[0, 10, 20], [30, 40, 50]] if options["batch_size"] else [0, 10])
    assert len(ours) == (3 if options.get("drop_last") else 4 if options["batch_size"] else 10)
    _no_children()


def test_tensor_dataset_and_collate_fn_through_workers_match_in_process():
    x, y = tr.randn(11, 3, dtype="float64"), tr.arange(11)
    data = TensorDataset(x, y)
    for options in (dict(batch_size=4), dict(batch_size=4, shuffle=True),
                    dict(batch_size=None), dict(batch_size=4, collate_fn=lambda b: len(b))):
        tr.manual_seed(3)
        alone = [_plain(b) for b in DataLoader(data, **options)]
        tr.manual_seed(3)  # the same order with workers: the base seed is drawn either way
        assert [_plain(b) for b in DataLoader(data, num_workers=2, **options)] == alone
    xb, yb = next(iter(DataLoader(data, batch_size=4, num_workers=1)))
    assert xb.dtype == np.float64 and yb.dtype == np.int64 and xb.shape == (4, 3)
    np.testing.assert_array_equal(xb.numpy(), x.numpy()[:4])
    _no_children()


@pytest.mark.torch
@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("options", [dict(batch_size=2), dict(batch_size=None),
                                     dict(batch_size=3, drop_last=True, prefetch_factor=1)])
def test_streams_interleave_across_workers_as_torch(workers, options):
    sharded = _both(lambda k: k.Sharded(10, extra=1), num_workers=workers, **options)
    assert sharded[0] == sharded[1]
    whole = _both(lambda k: k.Whole(5), num_workers=workers, **options)
    assert whole[0] == whole[1]  # every worker yields the whole stream: duplicates
    if options == dict(batch_size=2) and workers == 2:
        assert whole[0] == [[0, 1], [0, 1], [2, 3], [2, 3], [4], [4]]
    _no_children()


@pytest.mark.torch
@settings(max_examples=8)
@given(workers=st.integers(1, 3), n=st.integers(0, 12), extra=st.integers(0, 3),
       batch_size=st.one_of(st.none(), st.integers(1, 4)), drop_last=st.booleans())
def test_uneven_streams_give_torchs_batches(workers, n, extra, batch_size, drop_last):
    options = dict(num_workers=workers, batch_size=batch_size,
                   drop_last=drop_last and batch_size is not None)
    ours, theirs = _both(lambda k: k.Sharded(n, extra), **options)
    assert ours == theirs


class _SlowFirst(trd.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 0:
            time.sleep(0.5)
        return i


@pytest.mark.parametrize("stream", [False, True])
def test_in_order_false_gives_the_same_batches_as_they_come(stream):
    data = OURS.Sharded(20, extra=2) if stream else OURS.Numbers(20)
    ordered = [_plain(b) for b in DataLoader(data, batch_size=3, num_workers=3)]
    loose = [_plain(b) for b in DataLoader(data, batch_size=3, num_workers=3, in_order=False)]
    assert sorted(loose) == sorted(ordered) and len(loose) == len(ordered)
    if not stream:  # sample 0 takes half a second: the other worker's come first
        out = [_plain(b) for b in DataLoader(_SlowFirst(), batch_size=None, num_workers=2,
                                             in_order=False)]
        assert sorted(out) == list(range(6)) and out[0] == 1
        assert [_plain(b) for b in DataLoader(_SlowFirst(), batch_size=None,
                                              num_workers=2)] == list(range(6))
    _no_children()


class _SlowWorker0(trd.Dataset):
    def __len__(self):
        return 24

    def __getitem__(self, i):
        if get_worker_info().id == 0:
            time.sleep(0.2)
        return get_worker_info().id


def test_in_order_false_sends_more_tasks_to_the_faster_worker_as_torch():
    """A worker holding its share of the outstanding tasks (prefetch_factor * num_workers /
    active workers) gets no more until it gives some back: the fast one takes the rest
    (torch gives the slow one 2 of 24 here; in order, each gets 12)."""
    loader = DataLoader(_SlowWorker0(), batch_size=None, num_workers=2, in_order=False)
    by = [_plain(b) for b in loader]
    assert len(by) == 24 and by.count(0) < 8
    _no_children()


@pytest.mark.torch
def test_get_worker_info_in_workers_as_torch():
    assert get_worker_info() is None
    ours, theirs = _both(lambda k: k.WhoAmI(), batch_size=None, num_workers=3)
    assert [o[:3] for o in ours] == [t[:3] for t in theirs]  # the same worker for each task
    assert [o[1] for o in ours] == [i % 3 for i in range(12)]
    assert all(o[2] == 3 and o[4] for o in ours)
    seeds = {o[1]: o[3] for o in ours}
    assert [seeds[w] - seeds[0] for w in range(3)] == [0, 1, 2]  # base seed + id
    info = _workers.WorkerInfo(1, 2, 5, None)
    with pytest.raises(AttributeError):  # frozen, as torch's
        info.id = 3  # type: ignore[misc]


class _Draws(trd.Dataset):
    """i -> (worker id, its seed, a draw from Python's random, NumPy's global generator and
    tr's generator)."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        w = get_worker_info()
        return w.id, w.seed, random.random(), float(np.random.rand()), tr.rand(1).item()  # noqa: NPY002


def _draws(**options):
    return [_plain(b) for b in DataLoader(_Draws(), batch_size=None, num_workers=2, **options)]


@pytest.mark.torch
def test_workers_are_seeded_as_torchs():
    from torch.utils.data._utils.worker import _generate_state

    tr.manual_seed(7)
    first = _draws()
    for wid, seed, py, npy, ours in first[:2]:
        base = seed - wid
        assert py == random.Random(seed).random()
        assert npy == np.random.RandomState(_generate_state(base, wid)).rand()
        assert ours == pytest.approx(tr.rand(1, generator=tr.Generator().manual_seed(seed)).item())
    assert first[0][2:] != first[1][2:]  # the workers draw other numbers
    tr.manual_seed(7)
    assert _draws() == first  # and the same ones again under the same seed
    tr.manual_seed(8)
    assert _draws()[0][1] != first[0][1]
    loader = DataLoader(_Draws(), batch_size=None, num_workers=2)
    assert _plain(list(loader))[0][1] != _plain(list(loader))[0][1]  # a base seed per epoch
    loader = DataLoader(_Draws(), batch_size=None, num_workers=2, persistent_workers=True)
    epochs = [_plain(list(loader)) for _ in range(2)]  # one base seed, the draws go on
    assert epochs[0][0][1] == epochs[1][0][1] and epochs[0][0][2] != epochs[1][0][2]
    del loader
    gc.collect()
    g = [_draws(generator=tr.Generator().manual_seed(1)) for _ in range(2)]
    assert g[0] == g[1]  # the base seed comes from the loader's generator


def test_numpy_seed_words_are_torchs():
    torch_worker = pytest.importorskip("torch.utils.data._utils.worker")
    for base in (0, 1, 2**32 - 1, 2**32 + 7, 2**63 - 1, 123456789012345):
        for wid in (0, 1, 5):
            assert _workers.numpy_seed(base, wid).tolist() == torch_worker._generate_state(
                base, wid)


class _Tagged(trd.Dataset):
    """i -> (i, the tag worker_init_fn gave this worker's copy, what it drew from random)."""

    tag = None

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return i, self.tag, self.drawn


def _tag(worker_id):
    info = get_worker_info()
    info.dataset.tag = worker_id * 10 + info.num_workers
    info.dataset.drawn = random.random()  # after seeding


def test_worker_init_fn_runs_in_each_worker_after_seeding():
    data = _Tagged()
    out = [_plain(b) for b in DataLoader(data, batch_size=None, num_workers=2,
                                         worker_init_fn=_tag)]
    assert [(i, tag) for i, tag, _ in out] == [(i, (i % 2) * 10 + 2) for i in range(6)]
    assert data.tag is None  # the main process's copy is untouched
    seeds = [info[3] for info in _plain(list(DataLoader(OURS.WhoAmI(), batch_size=None,
                                                        num_workers=2)))]
    assert len({d for *_, d in out}) == 2 and len(set(seeds)) == 2


class _Fails(trd.Dataset):
    def __init__(self, error, at=3):
        self.error, self.at = error, at

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == self.at:
            raise self.error
        return i


class _TwoArgs(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


def test_errors_in_workers_are_raised_here_with_the_workers_traceback():
    with pytest.raises(TypeError, match="the sampler gave 0.5, which is not an integer"):
        list(DataLoader(OURS.Numbers(4), sampler=[1, 0.5], num_workers=2))
    _no_children()
    loader = DataLoader(_Fails(ValueError("bad sample 3")), batch_size=None, num_workers=2)
    with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker process 1") as e:
        list(loader)
    assert "Original Traceback" in str(e.value) and "bad sample 3" in str(e.value)
    assert "in __getitem__" in str(e.value)
    _no_children()
    with pytest.raises(KeyError) as e:
        list(DataLoader(_Fails(KeyError("k")), batch_size=None, num_workers=2))
    assert "\n" in str(e.value) and "Caught KeyError" in str(e.value)  # readable, not a repr
    with pytest.raises(RuntimeError, match="Caught _TwoArgs in DataLoader worker process 1"):
        list(DataLoader(_Fails(_TwoArgs(1, 2)), batch_size=None, num_workers=2))

    def init_fails(worker_id):
        raise OSError(f"no file for worker {worker_id}")

    with pytest.raises(OSError, match="no file for worker 0"):
        list(DataLoader(OURS.Numbers(4), num_workers=1, worker_init_fn=init_fails))
    _no_children()


def _failing(lib):
    """A dataset failing at sample 3 and a stream failing at its third item, in ``lib``."""

    class Fails(lib.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            if i == 3:
                raise ValueError("bad sample 3")
            return i

    class FailingStream(lib.IterableDataset):
        def __iter__(self):
            w = lib.get_worker_info()
            for i in range(0 if w is None else w.id, 8, 1 if w is None else w.num_workers):
                if i == 4:
                    raise ValueError("bad item 4")
                yield i

    return Fails, FailingStream


def _go_on(loader, steps=12):
    """What ``next`` gives, again and again: batches, the name of an error, or "end"."""
    it, seen = iter(loader), []
    for _ in range(steps):
        try:
            seen.append(_plain(next(it)))
        except StopIteration:
            seen.append("end")
            break
        except ValueError as e:
            seen.append(str(e).splitlines()[0][:28])
    return seen


@pytest.mark.torch
@pytest.mark.parametrize("workers", [0, 2])
def test_the_iterator_goes_on_after_an_error_as_torch(workers):
    tud = _torch_data()
    for ours, theirs in zip(_failing(trd), _failing(tud)):
        mine = _go_on(DataLoader(ours(), batch_size=None, num_workers=workers))
        assert mine == _go_on(tud.DataLoader(theirs(), batch_size=None, num_workers=workers))
        assert mine[-1] == "end" and sum(str(x).startswith(("bad", "Caught")) for x in mine) == 1
        assert len(mine) > 5  # batches came after the error
    _no_children()  # the iterators are gone, and their workers with them


class _Dies(trd.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return i


class _Slow(trd.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 1:
            time.sleep(30)
        return i


def test_a_dead_worker_or_a_timeout_is_a_runtime_error_not_a_hang():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker 0 \(pid \d+, killed by signal "
                                           r"SIGKILL\) exited unexpectedly"):
        list(DataLoader(_Dies(), batch_size=None, num_workers=2))
    _no_children()
    loader = DataLoader(_Slow(), batch_size=None, num_workers=2, timeout=0.3)
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.3 seconds"):
        list(loader)
    _no_children()
    assert time.monotonic() - start < 5


def test_workers_exit_at_the_end_on_a_break_and_when_the_iterator_is_dropped():
    loader = DataLoader(OURS.Numbers(40), batch_size=2, num_workers=2)
    assert len(list(loader)) == 20
    _no_children()
    for _ in loader:
        assert len(multiprocessing.active_children()) == 2
        break
    _no_children()
    it = iter(loader)
    assert len(multiprocessing.active_children()) == 2  # started by iter(), as torch's
    next(it)
    del it
    _no_children()
    it = iter(loader)
    del it
    _no_children()


class _Pid(trd.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        return i, os.getpid()


def test_persistent_workers_stay_for_the_next_epochs():
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(_Pid(), persistent_workers=True)
    loader = DataLoader(_Pid(), batch_size=None, num_workers=2, persistent_workers=True)
    first = [_plain(b) for b in loader]
    assert [i for i, _ in first] == list(range(6))
    assert len(multiprocessing.active_children()) == 2
    for _ in loader:  # cut short: the next epoch still reads everything
        break
    again = [_plain(b) for b in loader]
    assert again == first  # the same processes
    stream = DataLoader(OURS.Sharded(7), batch_size=2, num_workers=2, persistent_workers=True)
    assert [_plain(b) for b in stream] == [_plain(b) for b in stream] == \
        [[0, 2], [1, 3], [4, 6], [5]]
    del loader, stream
    gc.collect()
    _no_children()


class _Mixed(trd.Dataset):
    """Tensors of several dtypes, NumPy arrays, strings and dicts."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": tr.full((2,), i / 3, dtype="float64"), "n": np.arange(3, dtype=np.int32) + i,
                "ok": tr.tensor(i % 2 == 0), "name": f"s{i}", "pair": (i, float(i))}


def test_tensors_arrays_and_strings_travel_intact():
    alone = list(DataLoader(_Mixed(), batch_size=2))
    workers = list(DataLoader(_Mixed(), batch_size=2, num_workers=2, pin_memory=True))
    assert [_plain(b) for b in workers] == [_plain(b) for b in alone]
    for a, w in zip(alone, workers):
        assert w["x"].dtype == a["x"].dtype and w["n"].dtype == a["n"].dtype == np.int32
        assert w["ok"].dtype == np.bool_ and isinstance(w["x"], tr.Tensor)
    _no_children()


class FakeGPUArray:
    """Stands for a CuPy array (its class says it comes from cupy)."""

    __module__ = "cupy"


class _OnGPU(trd.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return FakeGPUArray()


def test_gpu_data_from_a_worker_is_refused_with_a_clear_message():
    with pytest.raises(RuntimeError, match="worker processes produce host data"):
        list(DataLoader(_OnGPU(), batch_size=None, num_workers=1))
    _no_children()


def test_a_tensor_dataset_on_the_gpu_is_refused_before_workers_start(monkeypatch):
    data = TensorDataset(tr.arange(4))
    monkeypatch.setattr(tr.Tensor, "is_cuda", property(lambda t: True))  # as if on the GPU
    with pytest.raises(RuntimeError, match="cannot read this dataset's GPU tensors"):
        iter(DataLoader(data, num_workers=1))
    _no_children()


@gpu
@needs_cuda
def test_a_cuda_tensor_in_a_batch_is_refused():
    with pytest.raises(RuntimeError, match="move each batch to the GPU in the training loop"):
        _workers._on_host({"x": [tr.ones(2, device="cuda")]})
    with pytest.raises(RuntimeError, match="cannot read this dataset's GPU tensors"):
        iter(DataLoader(TensorDataset(tr.ones(4, device="cuda")), num_workers=1))


@pytest.mark.torch
def test_refused_arguments_as_torch():
    tud = _torch_data()
    cases = [dict(prefetch_factor=2), dict(prefetch_factor=-1, num_workers=1),
             dict(timeout=-1), dict(num_workers=-1), dict(persistent_workers=True),
             dict(multiprocessing_context="fork"),
             dict(multiprocessing_context="no-such-method", num_workers=1),
             dict(multiprocessing_context=3, num_workers=1)]
    for case in cases:
        with pytest.raises(Exception) as theirs:
            tud.DataLoader(_kit(tud).Numbers(4), **case)
        with pytest.raises(type(theirs.value)):
            DataLoader(OURS.Numbers(4), **case)
    with pytest.raises(AssertionError):  # torch refuses it when iterating; ours at once
        iter(tud.DataLoader(_kit(tud).Numbers(4), timeout=1))
    with pytest.raises(ValueError, match="limits the wait for worker processes"):
        DataLoader(OURS.Numbers(4), timeout=1)
    with pytest.raises(ValueError, match="prefetch_factor needs worker processes"):
        DataLoader(OURS.Numbers(4), prefetch_factor=2)
    with pytest.raises(ValueError, match="prefetch_factor must be a positive integer"):
        DataLoader(OURS.Numbers(4), num_workers=1, prefetch_factor=0)
    loader = DataLoader(OURS.Numbers(4), num_workers=1)
    assert loader.prefetch_factor == 2 and loader.multiprocessing_context is None
    ctx = multiprocessing.get_context("fork")
    assert DataLoader(OURS.Numbers(4), num_workers=1, multiprocessing_context="fork") \
        .multiprocessing_context is ctx
    assert [b.tolist() for b in DataLoader(OURS.Numbers(4), batch_size=2, num_workers=1,
                                           multiprocessing_context=ctx)] == [[0, 10], [20, 30]]


def test_more_workers_than_cpus_warns():
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with pytest.warns(UserWarning, match="worker processes, more than the"):
        DataLoader(OURS.Numbers(4), num_workers=cpus + 1)


@pytest.mark.torch
def test_len_is_the_same_with_workers_and_a_stream_past_its_length_warns():
    tud = _torch_data()

    class Sized(OURS.Whole):
        def __len__(self):
            return self.n

    class TorchSized(_kit(tud).Whole):
        def __len__(self):
            return self.n

    for make in (lambda: OURS.Numbers(10), lambda: Sized(10)):
        assert len(DataLoader(make(), batch_size=3, num_workers=2)) == 4
    assert len(tud.DataLoader(TorchSized(10), batch_size=3, num_workers=2)) == 4
    loader = DataLoader(Sized(3), batch_size=2, num_workers=2)  # unsharded: duplicates
    assert len(loader) == 2
    with pytest.warns(UserWarning, match="reported to be 3.*but 4 samples .*each worker "
                                         "iterates its own copy"):
        assert len(list(loader)) == 4


class Squares(trd.Dataset):
    """Importable from this module, so that spawned workers can unpickle it."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return i * i, get_worker_info().id


def test_spawned_workers_load_the_same_batches():
    start = time.monotonic()
    loader = DataLoader(Squares(), batch_size=3, num_workers=1, multiprocessing_context="spawn")
    assert [_plain(b) for b in loader] == [[[0, 1, 4], [0, 0, 0]], [[9, 16, 25], [0, 0, 0]]]
    _no_children()
    assert time.monotonic() - start < 20
    loader = DataLoader(Squares(), collate_fn=lambda b: b, num_workers=1,
                        multiprocessing_context="spawn")
    with pytest.raises((pickle.PicklingError, AttributeError)) as e:  # as Python words it
        iter(loader)
    if hasattr(e.value, "add_note"):  # Python 3.11+: a note says what to do
        assert "no lambdas or local classes" in "".join(e.value.__notes__)
    _no_children()



class _Sleepy(trd.Dataset):
    def __len__(self):
        return 40

    def __getitem__(self, i):
        time.sleep(0.4)
        return i


def test_leaving_early_skips_the_tasks_still_queued():
    loader = DataLoader(_Sleepy(), batch_size=None, num_workers=2, prefetch_factor=8)
    for _ in loader:
        start = time.monotonic()
        break
    # each worker ends the one task it is loading, not the 7 queued behind it (2.8 s more)
    assert time.monotonic() - start < 2
    _no_children()


class _Counting:
    """A sampler that counts the indices drawn from it."""

    def __init__(self, n):
        self.n, self.drawn = n, 0

    def __iter__(self):
        for i in range(self.n):
            self.drawn += 1
            yield i

    def __len__(self):
        return self.n


@pytest.mark.torch
@pytest.mark.parametrize("workers, prefetch", [(1, 2), (2, 2), (2, 3)])
def test_at_most_prefetch_factor_batches_per_worker_are_ahead_as_torch(workers, prefetch):
    tud = _torch_data()
    counts = []
    for lib, Loader in ((OURS, DataLoader), (_kit(tud), tud.DataLoader)):
        sampler = _Counting(20)
        it = iter(Loader(lib.Numbers(20), sampler=sampler, num_workers=workers,
                         prefetch_factor=prefetch))
        next(it)  # the first batch: one more task goes out as it is taken
        counts.append(sampler.drawn)
        del it
    assert counts[0] == counts[1] == prefetch * workers + 1
    _no_children()


class _Big(trd.Dataset):
    """Batches with arrays above and below the size that goes through shared memory."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        big = np.arange(_workers.SHARED_MIN // 4 + 7, dtype=np.float32) + i
        return {"big": big, "tensor": tr.tensor(big[::-1].copy()), "small": np.full(3, i),
                "f_order": np.asfortranarray(big[:_workers.SHARED_MIN // 4].reshape(-1, 4))}


def _shared_blocks() -> set[str]:
    return {f for f in os.listdir("/dev/shm") if f.startswith(("psm_", "trnn"))}


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="no /dev/shm to look into")
@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_large_arrays_travel_through_shared_memory_intact_and_are_freed(context):
    before = _shared_blocks()
    alone = list(DataLoader(_Big(), batch_size=2))
    loader = DataLoader(_Big(), batch_size=2, num_workers=2, multiprocessing_context=context)
    for a, w in zip(alone, loader, strict=True):
        for key in a:
            np.testing.assert_array_equal(np.asarray(w[key]), np.asarray(a[key]))
            assert np.asarray(w[key]).dtype == np.asarray(a[key]).dtype
        w["big"][0] = -1  # the arrays are this process's own, writable
    for _ in loader:  # an epoch left early: the batches loaded ahead are freed too
        break
    del loader
    gc.collect()
    _no_children()
    assert _shared_blocks() <= before


def test_pack_sends_large_buffers_apart_and_falls_back_to_the_pipe(monkeypatch):
    batch = _Big()[1]
    names = (f"trnntest{os.getpid()}x{k}" for k in range(100))
    data, blocks = _workers._pack(batch, names)
    assert len(blocks) == 3 and len(data) < _workers.SHARED_MIN  # big, tensor, f_order
    got = _workers._unpack(data, blocks)
    np.testing.assert_array_equal(got["f_order"], batch["f_order"])
    assert got["f_order"].flags.f_contiguous

    def no_room(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_workers.shared_memory, "SharedMemory", no_room)
    data, blocks = _workers._pack(batch, names)  # no shared memory: all in the pickle
    assert blocks == [] and len(data) > 2 * _workers.SHARED_MIN
    np.testing.assert_array_equal(_workers._unpack(data, blocks)["tensor"].numpy(),
                                  batch["tensor"].numpy())


def test_no_shared_memory_warnings_at_exit(tmp_path):
    """A program that loads through workers ends without the resource tracker's 'leaked
    shared_memory objects' warnings (the workers' blocks are accounted as freed)."""
    import subprocess
    import sys

    script = tmp_path / "load.py"
    script.write_text(
        "import numpy as np\n"
        "from tinygrad_rnn.utils.data import DataLoader, Dataset\n"
        "class D(Dataset):\n"
        "    def __len__(self): return 4\n"
        "    def __getitem__(self, i): return np.full(100_000, i, np.float32)\n"
        "if __name__ == '__main__':\n"
        "    for ctx in ('fork', 'spawn'):\n"
        "        assert [float(b[0]) for b in DataLoader(D(), batch_size=None,\n"
        "                num_workers=2, multiprocessing_context=ctx)] == [0, 1, 2, 3]\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, cwd=root, env={**os.environ, "PYTHONPATH": root})
    assert run.returncode == 0, run.stderr
    assert "leaked" not in run.stderr and "resource_tracker" not in run.stderr, run.stderr


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="no /dev/shm to look into")
def test_blocks_of_results_never_read_are_freed_at_shutdown():
    """A block whose result never came out of the pipe (a worker that exits with results
    still queued, or is stopped while packing) is freed by name when the pool shuts down."""
    loader = DataLoader(_Big(), batch_size=2, num_workers=1, persistent_workers=True)
    next(iter(loader))
    pool = loader._workers
    stray = _workers.shared_memory.SharedMemory(name=pool.prefix + "0x999", create=True,
                                                size=16)  # as a worker would have left it
    stray.close()
    pool.shutdown()
    _no_children()
    assert not [f for f in os.listdir("/dev/shm") if f.startswith(pool.prefix)]

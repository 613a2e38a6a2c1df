"""Worker processes for ``DataLoader(num_workers=N)``, as PyTorch's: N processes load batches
while the main process trains on the ones already loaded.

How the work flows. Each worker has a queue of tasks from the main process, ``(epoch, task,
index)`` (``None``: exit), and all of them share one queue of results, ``(epoch, task, status,
payload)``. The main process draws the indices (the sampler runs there) and sends task k to
the next worker round-robin, keeping at most ``prefetch_factor * N`` tasks outstanding; each
worker answers its tasks in the order they came. A map-style task's index is a batch of
indices (or one index, unbatched); an ``IterableDataset``'s task asks for the next batch of
the worker's own copy of the stream, and a worker whose copy has run out answers "end" and is
skipped from then on, so the batches of a stream come round-robin from the workers that have
some left. Results come back in task order (``in_order=True``) or as they arrive; then a
worker that holds its share of the outstanding tasks is passed over, so a slow one gets fewer.

What travels. Each worker gets its copy of the dataset when it starts (by fork, or pickled
under spawn). The indices and the batches go through pipes, pickled, except the values of
large arrays (``SHARED_MIN`` bytes and more): the worker copies each into a block of shared
memory (``_pack``) and sends its name; the main process copies it out and frees the block
(``_unpack``). Each pool's block names start with its own prefix (``trnn<pid>x<pool>x``),
so once its workers are gone it frees the blocks of any result that never arrived
(``_free_left``). So a large batch costs two copies of its bytes on top of the time to load it
(a pipe costs several); where shared memory has no room (a small /dev/shm in a container),
or the platform has none, the values go through the pipe. Workers pay where a batch takes
longer to load (decode, augment) than to copy, not for arrays already in memory (keep
``num_workers=0`` for a ``TensorDataset``). Tensors arrive as new tensors with their values,
dtype and ``requires_grad`` (never a graph, nor a GPU array: workers make host data).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import pickle
import queue
import random
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from multiprocessing import resource_tracker, shared_memory
from typing import Any

import numpy as np

from .. import random as _random
from ..tensor import Tensor

_POLL = 0.1  # seconds between checks that every worker is still alive, while waiting
_JOIN_TIMEOUT = 5.0  # seconds workers get to exit on their own before they are terminated
SHARED_MIN = 1 << 18  # an array of this many bytes or more travels through shared memory
_POOLS = itertools.count()  # numbers this process's worker pools
END = object()  # what a fetcher returns when an IterableDataset's stream has run out


@dataclass(frozen=True)
class WorkerInfo:
    """Which worker process runs this code (``get_worker_info()`` in a worker): ``id`` in
    0 .. ``num_workers`` - 1, the ``seed`` its generators were seeded with, and ``dataset``,
    this process's own copy of the dataset."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The ``WorkerInfo`` of the ``DataLoader`` worker process running this code (``id``,
    ``num_workers``, ``seed``, ``dataset``), or None in the main process, as
    ``torch.utils.data.get_worker_info``. An ``IterableDataset`` splits its stream with it in
    ``__iter__`` (worker ``id`` reads every ``num_workers``-th item, say), or each worker
    yields the whole stream and every sample comes ``num_workers`` times; a
    ``worker_init_fn`` can configure ``dataset``, the worker's copy, with it."""
    return _info


def numpy_seed(base_seed: int, worker_id: int) -> np.ndarray:
    """The four 32-bit words that seed NumPy's global generator in worker ``worker_id``, as
    PyTorch's workers do: NumPy's ``SeedSequence`` hash of (worker_id, the low and high 32
    bits of the base seed, 0), so that it differs from ``random.seed(base_seed + worker_id)``."""
    words = [worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32, 0]
    return np.random.SeedSequence(words).generate_state(4)


def _caught(worker_id: int) -> tuple[type, str]:
    """The exception being handled, as (its class, a message that names the worker and holds
    its traceback); a class that cannot travel by pickle goes as RuntimeError."""
    kind = sys.exc_info()[0] or RuntimeError
    text = (f"Caught {kind.__name__} in DataLoader worker process {worker_id}.\n"
            f"Original {traceback.format_exc()}")
    try:
        pickle.dumps(kind)
    except Exception:
        kind = RuntimeError
    return kind, text


class _KeyErrorText(str):
    """A KeyError prints the repr of its message; this one prints the traceback as lines."""

    def __repr__(self) -> str:
        return str(self)


class Failure:
    """An error met while loading a batch, in place of the batch: the loader's iterator
    raises ``error`` when that batch is asked for, and can be asked for the next one after
    it, as PyTorch's."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def _rebuilt(kind: type, text: str) -> Exception:
    """A worker's error as an exception of its class here (RuntimeError for a class whose
    constructor takes other arguments)."""
    if kind is KeyError:
        text = _KeyErrorText(text)
    try:
        return kind(text)
    except Exception:
        return RuntimeError(text)


def _on_host(batch: Any) -> Any:
    """``batch``, after checking that it holds no GPU data (CUDA does not work in a forked
    process, and a worker's batch goes through host memory anyway)."""
    todo = [batch]
    while todo:
        x = todo.pop()
        if isinstance(x, Tensor) and x.is_cuda or type(x).__module__.startswith("cupy"):
            raise RuntimeError(f"DataLoader worker: the dataset gave data on the GPU "
                               f"({type(x).__name__} on {getattr(x, 'device', 'cuda')}); "
                               "worker processes produce host data: have the dataset return "
                               "CPU tensors and move each batch to the GPU in the training "
                               "loop (xb.to('cuda'))")
        if isinstance(x, (list, tuple)):
            todo.extend(x)
        elif isinstance(x, Mapping):
            todo.extend(x.values())
    return batch


def _shared_copy(raw: memoryview, name: str) -> str | None:
    """``name``, a new block of shared memory holding ``raw``'s bytes, or None where there is
    no room for it (or no shared memory). The block's pages are reserved before they are
    written (``posix_fallocate``): a full /dev/shm is an error here, never a SIGBUS later."""
    try:
        block = shared_memory.SharedMemory(name=name, create=True, size=raw.nbytes)
    except OSError:
        return None
    try:
        fd = getattr(block, "_fd", -1)
        if fd >= 0 and hasattr(os, "posix_fallocate"):
            os.posix_fallocate(fd, 0, raw.nbytes)
        block.buf[:raw.nbytes] = raw.cast("B")
    except OSError:
        block.close()
        block.unlink()
        return None
    block.close()
    return block.name


def _pack(batch: Any, names: Iterator[str]) -> tuple[bytes, list[tuple[str, int]]]:
    """``batch`` pickled (protocol 5), the values of its large arrays in blocks of shared
    memory (``_shared_copy``, named from ``names``) instead of in the pickle: (the pickle,
    each block's name and size, in the order ``_unpack`` gives them back)."""
    blocks: list[tuple[str, int]] = []

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:  # True: keep it in the pickle
        raw = buffer.raw()
        name = _shared_copy(raw, next(names)) if raw.nbytes >= SHARED_MIN else None
        if name is None:
            return True
        blocks.append((name, raw.nbytes))
        return False

    try:
        return pickle.dumps(batch, 5, buffer_callback=out_of_band), blocks
    except BaseException:
        _free(blocks)
        raise


def _unpack(data: bytes, blocks: list[tuple[str, int]]) -> Any:
    """``_pack``'s batch: each block copied out into an array of this process, and freed."""
    buffers = []
    for name, size in blocks:
        block = shared_memory.SharedMemory(name=name)
        try:
            buffers.append(np.frombuffer(block.buf, np.uint8, size).copy())
        finally:
            block.close()
            block.unlink()
    return pickle.loads(data, buffers=buffers)


def _free(blocks: list[tuple[str, int]]) -> None:
    """Free the shared memory of a packed batch nobody will unpack."""
    for name, _ in blocks:
        try:
            block = shared_memory.SharedMemory(name=name)
        except OSError:
            continue
        block.close()
        block.unlink()


def _free_left(prefix: str) -> None:
    """Free every block whose name starts with ``prefix`` (a pool's, once its workers are
    gone): those of results that never came out of a pipe (a worker exits without sending
    what it has queued, or is stopped while packing). Where the platform lists its shared
    memory (/dev/shm); elsewhere the resource tracker frees them when the program ends."""
    if os.path.isdir("/dev/shm"):
        _free([(name, 0) for name in os.listdir("/dev/shm") if name.startswith(prefix)])


def _drop(status: str, payload: Any) -> None:
    """A result that will not be used: its shared memory freed."""
    if status == "ok":
        _free(payload[1])


def _worker_loop(worker_id: int, num_workers: int, base_seed: int, fetch: Any,
                 init_fn: Callable[[int], Any] | None, tasks: Any, results: Any,
                 done: Any, prefix: str) -> None:
    """A worker process: seed (Python's ``random`` and tr's generator with ``base_seed +
    worker_id``, NumPy's global one with ``numpy_seed``, as PyTorch's workers), run
    ``init_fn(worker_id)``, then answer tasks until told to exit (``None``), skipping those
    still queued once the main process has set ``done``. Its blocks of shared memory are
    named ``prefix``, its id and a count."""
    global _info
    names = (f"{prefix}{worker_id}x{k}" for k in itertools.count())
    seed = base_seed + worker_id
    random.seed(seed)
    _random.manual_seed(seed)
    np.random.seed(numpy_seed(base_seed, worker_id))  # noqa: NPY002 - the global one, as torch
    _info = WorkerInfo(worker_id, num_workers, seed, fetch.dataset)
    failed, epoch, ended = None, None, False  # failed: init_fn's error, every task's answer
    try:
        try:
            if init_fn is not None:
                init_fn(worker_id)
        except Exception:
            failed = _caught(worker_id)
        while (task := tasks.get()) is not None:
            e, k, index = task
            if e != epoch:  # a new epoch (persistent workers): a new pass over the stream
                epoch, ended, started = e, False, False
            if ended or done.is_set():  # answers nobody will read
                continue
            try:
                if failed:
                    results.put((e, k, "error", failed))
                    continue
                if not started:
                    fetch.start()
                    started = True
                batch = fetch(index)
                if batch is END:
                    ended = True
                    results.put((e, k, "end", None))
                else:  # pickled here, so that a batch that cannot travel is an error to report
                    results.put((e, k, "ok", _pack(_on_host(batch), names)))
            except Exception:
                results.put((e, k, "error", _caught(worker_id)))
    except KeyboardInterrupt:  # the main process gets it too and shuts the workers down
        pass
    results.cancel_join_thread()  # exit at once: results not yet sent are not wanted


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"killed by signal {signal.Signals(-exitcode).name}"
    return f"exit code {exitcode}"


class WorkerPool:
    """``num_workers`` worker processes for one ``DataLoader`` iterator (or, with persistent
    workers, for all its epochs): ``epoch(indices)`` loads one pass, ``shutdown()`` ends
    them (also when the pool is garbage-collected)."""

    def __init__(self, fetch: Any, num_workers: int, base_seed: int,
                 init_fn: Callable[[int], Any] | None, context: Any, prefetch_factor: int,
                 timeout: float, in_order: bool, persistent: bool) -> None:
        ctx = context if context is not None else multiprocessing.get_context()
        self.prefetch, self.timeout = prefetch_factor, timeout
        self.in_order, self.persistent = in_order, persistent
        self.closed, self.epoch_id, self.workers = False, 0, []
        self.results, self.done = ctx.Queue(), ctx.Event()
        self.tasks = [ctx.Queue() for _ in range(num_workers)]
        for q in self.tasks:
            q.cancel_join_thread()  # exiting never waits on a pipe no dead worker will read
        # one tracker of shared memory for this process and its workers (forked or spawned),
        # so that a block a worker makes and this process frees is accounted for as freed
        resource_tracker.ensure_running()
        # this pool's blocks' names begin with it (short: macOS allows 31 characters)
        self.prefix = f"trnn{os.getpid()}x{next(_POOLS)}x"
        try:
            for i, q in enumerate(self.tasks):
                w = ctx.Process(target=_worker_loop, daemon=True,
                                name=f"DataLoader worker {i}",
                                args=(i, num_workers, base_seed, fetch, init_fn, q,
                                      self.results, self.done, self.prefix))
                # started before anything is put on a queue, so that no queue's feeder
                # thread runs yet when a worker is forked
                w.start()
                self.workers.append(w)
        except BaseException as e:
            self.shutdown(now=True)
            if isinstance(e, (pickle.PicklingError, AttributeError, TypeError)) and \
                    hasattr(e, "add_note"):
                e.add_note(f"DataLoader: starting workers by {ctx.get_start_method()} pickles "
                           "the dataset, collate_fn and worker_init_fn: define them at the "
                           "top level of a module (no lambdas or local classes), or use "
                           "multiprocessing_context='fork' where the platform has it")
            raise

    def epoch(self, indices: Iterator[Any]) -> Iterator[Any]:
        """The batches of one pass: ``indices`` gives each task's index (for a stream, None
        forever); the pass ends when every task has been answered, or, for a stream, when
        every worker's copy has run out."""
        self.epoch_id += 1
        epoch, n = self.epoch_id, len(self.workers)
        active = [True] * n
        owner: dict[int, int] = {}  # outstanding task -> its worker, in the order sent
        early: dict[int, tuple[str, Any]] = {}  # results that came before their turn
        load = [0] * n  # each worker's tasks not yet taken back
        turn, sent = itertools.cycle(range(n)), itertools.count()

        def pick() -> int:
            """The next active worker in turn; as ready (``in_order=False``), the next one
            that holds less than its share of the tasks, as PyTorch's, where there is one."""
            share, first = self.prefetch * n // sum(active), None
            for _ in range(n):
                w = next(turn)
                if active[w] and (self.in_order or load[w] < share):
                    return w
                first = w if first is None and active[w] else first
            return first  # type: ignore[return-value]

        def send() -> None:
            if not any(active):
                return
            index = next(indices, END)
            if index is END:
                return
            w, k = pick(), next(sent)
            self.tasks[w].put((epoch, k, index))
            owner[k] = w
            load[w] += 1

        try:
            for _ in range(self.prefetch * n):
                send()
            while owner:
                first = next(iter(owner))
                if first in early:
                    status, payload = early.pop(first)
                    load[owner.pop(first)] -= 1
                else:
                    e, k, status, payload = self._get()
                    if e != epoch:  # left over from an epoch that was cut short
                        _drop(status, payload)
                        continue
                    if status == "end":  # its unanswered tasks will never be: drop them
                        spent = owner[k]
                        active[spent] = False
                        for j in [j for j, w in owner.items() if w == spent and j not in early]:
                            del owner[j]
                        send()
                        continue
                    if self.in_order and k != first:
                        early[k] = (status, payload)
                        continue
                    load[owner.pop(k)] -= 1
                send()
                yield Failure(_rebuilt(*payload)) if status == "error" else _unpack(*payload)
                if self.epoch_id != epoch:  # a newer pass began on these (persistent) workers
                    return
        finally:
            for status, payload in early.values():
                _drop(status, payload)
            if not self.persistent:
                self.shutdown()

    def _get(self) -> tuple[int, int, str, Any]:
        """The next result, checking while it waits that no worker died and (``timeout``
        > 0) that it does not wait longer than ``timeout`` seconds."""
        start = time.monotonic()
        while True:
            wait = _POLL if not self.timeout else min(
                _POLL, max(0.0, start + self.timeout - time.monotonic()))
            try:
                return self.results.get(timeout=wait)
            except queue.Empty:
                pass
            dead = [f"{i} (pid {w.pid}, {_how(w.exitcode)})"
                    for i, w in enumerate(self.workers) if not w.is_alive()]
            if dead:
                self.shutdown(now=True)
                raise RuntimeError(f"DataLoader worker {', '.join(dead)} exited unexpectedly")
            if self.timeout and time.monotonic() - start >= self.timeout:
                self.shutdown(now=True)
                raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds")

    def shutdown(self, now: bool = False) -> None:
        """Tell every worker to exit, give them ``_JOIN_TIMEOUT`` seconds (none if ``now``),
        then terminate those still running; every process is joined, so none is left
        behind."""
        if self.closed:
            return
        self.closed = True
        self.done.set()
        for q in self.tasks:
            try:
                q.put(None)
            except (ValueError, OSError):  # already closed
                pass
        deadline = time.monotonic() + (0.0 if now else _JOIN_TIMEOUT)
        for w in self.workers:
            w.join(max(0.0, deadline - time.monotonic()))
            if w.is_alive():
                w.terminate()
                w.join(1.0)
            if w.is_alive():
                w.kill()
                w.join()
        while True:  # results nobody will read: their shared memory freed
            try:
                _, _, status, payload = self.results.get(timeout=0.01)
            except (queue.Empty, ValueError, OSError, EOFError):
                break
            _drop(status, payload)
        if hasattr(self, "prefix"):
            _free_left(self.prefix)
        for q in (*self.tasks, self.results):
            q.close()

    def __del__(self) -> None:
        if hasattr(self, "closed") and not sys.is_finalizing():
            self.shutdown()

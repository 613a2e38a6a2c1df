"""A profiler, as ``torch.profiler``: where the time goes, op by op.

    with tr.profiler.profile(record_shapes=True) as prof:
        loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")  # a timeline: chrome://tracing or ui.perfetto.dev

Every op run is an event: its forward under the op's name (``MatMul``), its backward under
the graph node's (``MatMulBackward0``). So is each ``record_function("name")`` block, each
optimizer ``step`` (``Optimizer.step#SGD.step``, as PyTorch names it), each pause of
Python's garbage collector (``Python GC (generation 2)``) and, with ``with_modules=True``,
each module's forward (``nn.Module: LSTM``). An event's total time
includes the events that ran inside it; its self time does not, so the self times add up to
the time profiled. ``key_averages()`` sums the events of one name (and, with
``group_by_input_shape=True``, of one list of input shapes).

How it works: the profiler is a ``debug.Listener``. ``Function.apply`` and the backward loop
tell the listeners when an op starts (``before``, ``before_backward``) and when it is done
(``forward``, ``backward``); the profiler keeps a stack of the events open on each thread.
Times are the host's wall clock. On the GPU an op returns once its kernels are queued:
``activities`` with ``ProfilerActivity.CUDA`` waits for the device at the end of each event,
so that its time is the kernels' too (which slows the run down).
"""

from __future__ import annotations

import contextlib
import enum
import gc
import json
import os
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import autograd
from .debug import Listener, listen
from .tensor import Function, Tensor

__all__ = ["ProfilerAction", "ProfilerActivity", "profile", "record_function", "schedule",
           "tensorboard_trace_handler"]


class ProfilerActivity(enum.Enum):
    """What to profile, as ``torch.profiler.ProfilerActivity``: CPU (the ops' wall time),
    CUDA (the same, waiting for the GPU at the end of each event)."""

    CPU = 0
    CUDA = 1


class ProfilerAction(enum.Enum):
    """What a ``schedule`` says to do at a step, as ``torch.profiler.ProfilerAction``."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0
             ) -> Callable[[int], ProfilerAction]:
    """Which steps to record, as ``torch.profiler.schedule``: after ``skip_first`` steps,
    cycles of ``wait`` steps not recorded, ``warmup`` steps run as if recorded but dropped, and
    ``active`` steps recorded, the last of which hands the cycle's events to
    ``on_trace_ready``; ``repeat`` cycles (0: as many as there are steps)."""
    for name, v in (("wait", wait), ("warmup", warmup), ("active", active),
                    ("repeat", repeat), ("skip_first", skip_first)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"schedule: {name} must be an int >= 0, got {v!r}")
    if active < 1:
        raise ValueError("schedule: active must be at least 1 (the steps it records)")
    if warmup == 0:  # PyTorch's words
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      UserWarning, stacklevel=2)

    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        at = step % cycle
        if at < wait:
            return ProfilerAction.NONE
        if at < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if at < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


# ---- events -----------------------------------------------------------------------------------


def _format_time(us: float) -> str:
    """PyTorch's table format: seconds, milliseconds or microseconds, three decimals."""
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_memory(nbytes: float) -> str:
    for unit, size in (("Gb", 1 << 30), ("Mb", 1 << 20), ("Kb", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{int(nbytes)} b"


@dataclass
class FunctionEvent:
    """One event: ``name``, when it ran (``start_us``, ``end_us``, from the profile's start),
    its total and self time in microseconds, the shapes of its inputs (``record_shapes``), the
    bytes its outputs hold (``profile_memory``: ``cpu_memory_usage``; PyTorch counts what an op
    allocates), its ``kind`` ("cpu_op", "backward", "user_annotation", "python_function",
    "python_gc") and thread."""

    name: str
    start_us: float
    end_us: float
    self_cpu_time_total: float
    kind: str = "cpu_op"
    input_shapes: list[list[int]] = field(default_factory=list)
    cpu_memory_usage: int = 0
    thread: int = 0

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_time_total(self) -> float:
        return self.end_us - self.start_us

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total

    @property
    def self_cpu_memory_usage(self) -> int:
        return self.cpu_memory_usage

    @property
    def count(self) -> int:
        return 1


@dataclass
class FunctionEventAvg:
    """The events of one name (and input shapes), summed: ``count``, ``cpu_time_total``,
    ``self_cpu_time_total``, ``cpu_time`` (the average total), memory."""

    key: str
    count: int = 0
    cpu_time_total: float = 0.0
    self_cpu_time_total: float = 0.0
    cpu_memory_usage: int = 0
    input_shapes: Any = None

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / max(self.count, 1)

    @property
    def self_cpu_time(self) -> float:
        return self.self_cpu_time_total / max(self.count, 1)

    @property
    def self_cpu_memory_usage(self) -> int:
        return self.cpu_memory_usage

    def add(self, e: FunctionEvent | FunctionEventAvg) -> FunctionEventAvg:
        self.count += e.count
        self.cpu_time_total += e.cpu_time_total
        self.self_cpu_time_total += e.self_cpu_time_total
        self.cpu_memory_usage += e.cpu_memory_usage
        return self


_SORT_KEYS = ("cpu_time_total", "self_cpu_time_total", "cpu_time", "self_cpu_time", "count",
              "cpu_memory_usage", "self_cpu_memory_usage")


class EventList(list):
    """A list of events (or of their averages) with PyTorch's ``key_averages``, ``table``,
    ``total_average`` and ``export_chrome_trace``."""

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        """One ``FunctionEventAvg`` per name (per name and input shapes), in the order the
        names first ran."""
        groups: dict[Any, FunctionEventAvg] = {}
        for e in self:
            shapes = str(e.input_shapes) if group_by_input_shape else None
            avg = groups.get((e.key, shapes))
            if avg is None:
                avg = groups[(e.key, shapes)] = FunctionEventAvg(
                    e.key, input_shapes=e.input_shapes if group_by_input_shape else None)
            avg.add(e)
        return EventList(groups.values())

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for e in self:
            total.add(e)
        return total

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_name_column_width: int
              = 55, header: str | None = None, top_level_events_only: bool = False) -> str:
        """PyTorch's table: a row per event (or average), sorted by ``sort_by`` (largest
        first: "cpu_time_total", "self_cpu_time_total", "cpu_time", "count", the memory
        columns), the first ``row_limit`` rows; percentages of the self time of all rows."""
        rows = list(self)
        if sort_by is not None:
            if sort_by not in _SORT_KEYS:
                raise ValueError(f"table: sort_by must be one of {list(_SORT_KEYS)} (this "
                                 f"profiler times the host: no device columns), got {sort_by!r}")
            rows.sort(key=lambda e: getattr(e, sort_by), reverse=True)
        if top_level_events_only:
            raise ValueError("table: top_level_events_only is not supported")
        total = sum(e.self_cpu_time_total for e in self) or 1.0
        shapes = any(getattr(e, "input_shapes", None) for e in rows)
        memory = any(e.cpu_memory_usage for e in rows)
        names = [e.key if len(e.key) <= max_name_column_width
                 else e.key[:max_name_column_width - 3] + "..." for e in rows[:row_limit]]
        width = max([len("Name"), *map(len, names)]) + 2
        heads = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
        if memory:
            heads += ["CPU Mem", "Self CPU Mem"]
        heads.append("# of Calls")
        cols = [width] + [14] * len(heads)
        line = "  ".join("-" * w for w in cols)
        out = [line, "  ".join(h.rjust(w) for h, w in zip(["Name", *heads], cols))
               + ("  Input Shapes" if shapes else ""), line]
        for name, e in zip(names, rows):
            cells = [f"{e.self_cpu_time_total / total * 100:.2f}%",
                     _format_time(e.self_cpu_time_total),
                     f"{e.cpu_time_total / total * 100:.2f}%", _format_time(e.cpu_time_total),
                     _format_time(e.cpu_time)]
            if memory:
                cells += [_format_memory(e.cpu_memory_usage),
                          _format_memory(e.self_cpu_memory_usage)]
            cells.append(str(e.count))
            out.append("  ".join(c.rjust(w) for c, w in zip([name, *cells], cols))
                       + (f"  {e.input_shapes}" if shapes else ""))
        out += [line, f"Self CPU time total: {_format_time(total)}"]
        return ("" if header is None else header + "\n") + "\n".join(out) + "\n"

    def export_chrome_trace(self, path: str | os.PathLike[str]) -> None:
        """The events as a Chrome trace (JSON, one complete event each): a timeline that
        chrome://tracing and ui.perfetto.dev draw."""
        pid = os.getpid()
        events = [{"ph": "X", "cat": e.kind, "name": e.name, "pid": pid, "tid": e.thread,
                   "ts": e.start_us, "dur": e.cpu_time_total,
                   "args": {"Input Dims": e.input_shapes} if e.input_shapes else {}}
                  for e in self if isinstance(e, FunctionEvent)]
        with open(path, "w") as f:
            json.dump({"traceEvents": events, "displayTimeUnit": "ms"}, f)

    def __str__(self) -> str:
        return self.table()


# ---- the recorder: a Listener with a stack of open events per thread ---------------------------


class _Recorder(Listener):
    def __init__(self, record_shapes: bool, profile_memory: bool, sync: bool,
                 with_modules: bool) -> None:
        self.record_shapes, self.profile_memory, self.sync = record_shapes, profile_memory, sync
        self.with_modules = with_modules
        self.start_ns = time.perf_counter_ns()
        self.events: list[FunctionEvent] = []
        self.stacks: dict[int, list[list[Any]]] = {}
        self.keep = True  # False while a schedule warms up: events are timed, then dropped

    def open(self, name: str, kind: str, shapes: Any = None) -> None:
        stack = self.stacks.setdefault(threading.get_ident(), [])
        stack.append([name, kind, time.perf_counter_ns(), 0, shapes])

    def close(self, name: str, memory: int = 0) -> None:
        """End the innermost open event of ``name`` (and any left open inside it by an op
        that raised)."""
        end = time.perf_counter_ns()
        if self.sync:
            from .cuda import synchronize

            synchronize()
            end = time.perf_counter_ns()
        stack = self.stacks.get(threading.get_ident())
        while stack:
            entry = stack.pop()
            if entry[0] != name:
                continue  # left open by an op that raised
            duration = end - entry[2]
            if stack:
                stack[-1][3] += duration  # the enclosing event's time in events inside it
            if self.keep:
                self.events.append(FunctionEvent(
                    name, (entry[2] - self.start_ns) / 1e3, (end - self.start_ns) / 1e3,
                    (duration - entry[3]) / 1e3, entry[1], entry[4] or [], memory,
                    threading.get_ident()))
            return

    # Listener's callbacks
    def before(self, cls: type[Function]) -> None:
        self.open(cls.__name__, "cpu_op")

    def forward(self, fn: Function, inputs: tuple[Tensor, ...], out: Any) -> None:
        stack = self.stacks.get(threading.get_ident())
        if stack and self.record_shapes and stack[-1][0] == type(fn).__name__:
            stack[-1][4] = [list(t.shape) for t in inputs]
        memory = 0
        if self.profile_memory:
            memory = sum(o._data.nbytes for o in (out if type(out) is tuple else (out,)))
        self.close(type(fn).__name__, memory)

    def before_backward(self, fn: Function) -> None:
        self.open(fn.name(), "backward")

    def backward(self, fn: Function, gys: Any, gxs: Any, parents: Any) -> None:
        self.close(fn.name())

    def collecting(self, phase: str, info: dict[str, Any]) -> None:
        """Python's garbage collector (``gc.callbacks``): a pause is an event of its own,
        so the op it interrupts is not charged for it."""
        name = f"Python GC (generation {info.get('generation')})"
        if phase == "start":
            self.open(name, "python_gc")
        else:
            self.close(name)


_ACTIVE: list[_Recorder] = []  # the recording profilers, innermost last


def _recorder() -> _Recorder | None:
    return _ACTIVE[-1] if _ACTIVE and autograd._HOOKS.active else None


class record_function(contextlib.ContextDecorator):  # noqa: N801 - PyTorch's name
    """Mark a block (or, as a decorator, each call of a function) as one event named
    ``name`` in the profile, as ``torch.profiler.record_function``; nothing while no
    profiler records."""

    def __init__(self, name: str, args: str | None = None) -> None:
        if not isinstance(name, str):
            raise TypeError(f"record_function: name must be a str, got {type(name).__name__}")
        self.name, self.args = name, args
        self._in: list[_Recorder | None] = []

    def __enter__(self) -> record_function:
        rec = _recorder()
        if rec is not None:
            rec.open(self.name, "user_annotation")
        self._in.append(rec)
        return self

    def __exit__(self, *exc: object) -> None:
        rec = self._in.pop()
        if rec is not None:
            rec.close(self.name)


def _event(name: str, kind: str) -> contextlib.AbstractContextManager[Any]:
    """An event named ``name`` around a block, for the package's own marks (an optimizer's
    step, a module's forward), while a profiler records; else nothing."""
    rec = _recorder()
    if rec is None or (kind == "python_function" and not rec.with_modules):
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def block() -> Any:
        rec.open(name, kind)
        try:
            yield
        finally:
            rec.close(name)

    return block()


# ---- the profiler -----------------------------------------------------------------------------


class profile:  # noqa: N801 - PyTorch's name
    """Record the ops run inside it, as ``torch.profiler.profile``: ``events()``,
    ``key_averages()``, ``export_chrome_trace(path)``. With a ``schedule``, ``step()`` marks
    the end of each training step and only the steps it says are recorded, each cycle's
    events handed to ``on_trace_ready(prof)`` (``tensorboard_trace_handler(dir)`` writes them
    as a trace file); without one everything is recorded, handed over at the end.

    ``record_shapes`` keeps each op's input shapes; ``profile_memory`` the bytes of its
    outputs; ``with_modules`` adds each module's forward as an event. ``with_stack``,
    ``with_flops`` and ``experimental_config`` are taken and change nothing."""

    def __init__(self, activities: Iterable[ProfilerActivity] | None = None, *,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable[[profile], Any] | None = None,
                 record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_flops: bool = False,
                 with_modules: bool = False, experimental_config: Any = None,
                 acc_events: bool = False, use_cuda: bool | None = None) -> None:
        acts = set(activities) if activities is not None else {ProfilerActivity.CPU}
        for a in acts:
            if not isinstance(a, ProfilerActivity):
                raise TypeError(f"profile: activities must be ProfilerActivity values, got "
                                f"{a!r}")
        self.activities = acts
        self.sync = ProfilerActivity.CUDA in acts or bool(use_cuda)
        self.schedule, self.on_trace_ready = schedule, on_trace_ready
        self.record_shapes, self.profile_memory = record_shapes, profile_memory
        self.with_modules, self.acc_events = with_modules, acc_events
        self.step_num = 0
        self._saved: list[FunctionEvent] = []
        self._rec: _Recorder | None = None
        self._listening: contextlib.ExitStack | None = None
        self._action = ProfilerAction.RECORD

    # ---- running -------------------------------------------------------------------------
    def start(self) -> None:
        if self._listening is not None:
            raise RuntimeError("profile: already started")
        self.step_num = 0
        self._action = self.schedule(0) if self.schedule else ProfilerAction.RECORD
        self._rec = _Recorder(self.record_shapes, self.profile_memory, self.sync,
                              self.with_modules)
        self._rec.keep = self._action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        self._listening = contextlib.ExitStack()
        self._listening.enter_context(listen(self._rec))
        gc.callbacks.append(self._rec.collecting)
        self._listening.callback(gc.callbacks.remove, self._rec.collecting)
        _ACTIVE.append(self._rec)

    def stop(self) -> None:
        if self._listening is None:
            return
        _ACTIVE.remove(self._rec)  # type: ignore[arg-type]
        self._listening.close()
        self._listening = None
        if self._action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE):
            self._save()

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def step(self) -> None:
        """The end of a training step: the schedule's next action takes over (the events of
        a cycle whose last active step this was go to ``on_trace_ready``)."""
        if self._rec is None:
            raise RuntimeError("profile.step: the profiler has not been started")
        before = self._action
        self.step_num += 1
        self._action = self.schedule(self.step_num) if self.schedule else ProfilerAction.RECORD
        if before == ProfilerAction.RECORD_AND_SAVE:
            self._save()
        elif before in (ProfilerAction.NONE, ProfilerAction.WARMUP):
            self._rec.events = []  # what warming up timed is dropped
        self._rec.keep = self._action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)

    def _save(self) -> None:
        rec = self._rec
        events = list(rec.events) if rec is not None else []
        if rec is not None:
            rec.events = []
        self._saved = self._saved + events if self.acc_events else events
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    # ---- results -------------------------------------------------------------------------
    def events(self) -> EventList:
        """The events of the last cycle saved (all of them, without a schedule), in the order
        they ended (an event inside another ends first)."""
        return EventList(self._saved)

    @property
    def function_events(self) -> EventList:
        return self.events()

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0
                     ) -> EventList:
        if group_by_input_shape and not self.record_shapes:
            raise ValueError("key_averages: group_by_input_shape needs record_shapes=True")
        return self.events().key_averages(group_by_input_shape)

    @property
    def self_cpu_time_total(self) -> float:
        return self.events().self_cpu_time_total

    def export_chrome_trace(self, path: str | os.PathLike[str]) -> None:
        self.events().export_chrome_trace(path)

    def table(self, *args: Any, **kwargs: Any) -> str:
        return self.events().table(*args, **kwargs)


class _LegacyProfile(profile):
    """``torch.autograd.profiler.profile``'s signature (``enabled``, ``use_cuda``, ...) over
    ``profile``; ``enabled=False`` records nothing."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False,
                 use_device: str | None = None, record_shapes: bool = False,
                 with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, use_kineto: bool = False,
                 use_cpu: bool = True, experimental_config: Any = None,
                 acc_events: bool = False) -> None:
        super().__init__(use_cuda=use_cuda or use_device == "cuda",
                         record_shapes=record_shapes, profile_memory=profile_memory,
                         with_modules=with_modules, acc_events=acc_events)
        self.enabled = enabled

    def __enter__(self) -> _LegacyProfile:
        if self.enabled:
            self.start()
        return self


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False) -> Callable[[profile], None]:
    """An ``on_trace_ready`` that writes each cycle's events into ``dir_name`` as
    ``{worker_name}.{time in ns}.pt.trace.json`` (TensorBoard's profiler plugin reads them;
    so do chrome://tracing and ui.perfetto.dev), as ``torch.profiler``'s."""
    if use_gzip:
        raise ValueError("tensorboard_trace_handler: use_gzip is not supported")

    def handler(prof: profile) -> None:
        os.makedirs(dir_name, exist_ok=True)
        name = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        prof.export_chrome_trace(os.path.join(dir_name, f"{name}.{time.time_ns()}.pt.trace.json"))

    return handler


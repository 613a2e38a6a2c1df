"""The profiler (tinygrad_rnn/profiler.py) against torch.profiler's API: every op forward and
backward an event, record_function blocks, the optimizer's step and modules as events, self
and total times that add up, key_averages and the table, schedules (the same actions as
torch's, step for step) with on_trace_ready, Chrome traces, the legacy
tr.autograd.profiler."""

from __future__ import annotations

import contextlib
import json
import os

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import profiler as P


def _program(n: int = 3) -> tr.Tensor:
    x = tr.tensor(np.random.default_rng(0).standard_normal((4, 5)), requires_grad=True)
    w = tr.tensor(np.random.default_rng(1).standard_normal((5, 3)), requires_grad=True)
    y = x
    for _ in range(n):
        y = (y @ w).tanh() @ w.T
    loss = y.sum()
    loss.backward()
    return loss


def test_every_op_forward_and_backward_is_an_event():
    with tr.profiler.profile() as prof:
        _program(3)
    counts = {e.key: e.count for e in prof.key_averages()}
    assert counts["MatMul"] == 6 and counts["Tanh"] == 3 and counts["Sum"] == 1
    assert counts["MatMulBackward0"] == 6 and counts["TanhBackward0"] == 3
    events = prof.events()
    assert all(e.cpu_time_total + 1e-6 >= e.self_cpu_time_total >= 0 for e in events)
    assert all(e.end_us >= e.start_us >= 0 for e in events)


def test_self_times_add_up_to_the_enclosing_block():
    with tr.profiler.profile() as prof:
        with tr.profiler.record_function("outer"):
            with tr.profiler.record_function("inner"):
                _program(2)
            (tr.ones(3) * 2).sum()
    by = {e.name: e for e in prof.events() if e.kind == "user_annotation"}
    outer, inner = by["outer"], by["inner"]
    assert outer.start_us <= inner.start_us and inner.end_us <= outer.end_us
    # the self times of everything inside outer, and outer's own, make outer's total
    total = sum(e.self_cpu_time_total for e in prof.events())
    assert total == pytest.approx(outer.cpu_time_total, rel=1e-9, abs=1e-6)
    inside = [e for e in prof.events() if inner.start_us <= e.start_us and
              e.end_us <= inner.end_us and e is not inner]
    assert inner.self_cpu_time_total == pytest.approx(
        inner.cpu_time_total - sum(e.self_cpu_time_total for e in inside), abs=1e-6)


def test_nothing_is_recorded_outside_a_profile_and_record_function_is_free_there():
    @tr.profiler.record_function("decorated")
    def f(x):
        return x * 2

    f(tr.ones(2))  # no profiler: nothing happens
    with tr.profiler.profile() as prof:
        f(tr.ones(2))
    assert [e.name for e in prof.events()] == ["Mul", "decorated"]
    (tr.ones(2) + 1).sum()
    assert len(prof.events()) == 2  # after the block: nothing more
    assert not tr.autograd._HOOKS.active


def test_an_op_that_raises_leaves_the_profile_consistent():
    with tr.profiler.profile() as prof:
        with tr.profiler.record_function("block"):
            with pytest.raises(ValueError):
                tr.ones(2, 3) @ tr.ones(2, 3)
            tr.ones(2).sum()
    names = [e.name for e in prof.events()]
    assert names == ["Sum", "block"]


def test_modules_optimizer_step_and_shapes():
    lstm = tr.nn.LSTM(3, 4)
    opt = tr.optim.SGD(lstm.parameters(), lr=0.1)
    x = tr.randn(5, 2, 3)
    with tr.profiler.profile(record_shapes=True, with_modules=True, profile_memory=True) as p:
        out, _ = lstm(x)
        out.sum().backward()
        opt.step()
    names = {e.name for e in p.events()}
    assert {"nn.Module: LSTM", "Optimizer.step#SGD.step"} <= names
    seq = next(e for e in p.events() if e.name == "LSTMSequence")
    assert seq.input_shapes[0] == [5, 2, 3] and seq.cpu_memory_usage > 0
    grouped = p.key_averages(group_by_input_shape=True)
    assert any(a.key == "LSTMSequence" and a.input_shapes for a in grouped)
    with tr.profiler.profile() as q:  # without with_modules: no module events
        lstm(x)
    assert not any(e.name.startswith("nn.Module") for e in q.events())


@pytest.mark.torch
def test_the_optimizer_step_event_is_named_as_torchs():
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.SGD([p], lr=0.1)
    p.grad = torch.ones(2)
    with torch.profiler.profile() as tp:
        opt.step()
    theirs = {e.key for e in tp.key_averages() if e.key.startswith("Optimizer.step")}
    q = tr.nn.Parameter(tr.ones(2))
    ours_opt = tr.optim.SGD([q], lr=0.1)
    q.grad = tr.ones(2)
    with tr.profiler.profile() as op:
        ours_opt.step()
    assert theirs <= {e.key for e in op.key_averages()}


def test_table_sorts_limits_and_refuses_device_columns():
    with tr.profiler.profile() as prof:
        _program(2)
    avgs = prof.key_averages()
    text = avgs.table(sort_by="self_cpu_time_total", row_limit=3)
    lines = text.strip().splitlines()
    assert "Self CPU %" in lines[1] and "# of Calls" in lines[1]
    assert lines[-1].startswith("Self CPU time total:")
    assert len(lines) == 3 + 3 + 2  # header (3 lines), 3 rows, the rule and the total
    selfs = sorted((a.self_cpu_time_total for a in avgs), reverse=True)[:3]
    assert [a.key for a in avgs if a.self_cpu_time_total in selfs][0] in text
    with pytest.raises(ValueError, match="sort_by must be one of"):
        avgs.table(sort_by="cuda_time_total")
    assert str(avgs) == avgs.table()
    total = avgs.total_average()
    assert total.count == sum(a.count for a in avgs)


@pytest.mark.torch
@pytest.mark.parametrize("kw", [dict(wait=1, warmup=1, active=2),
                                dict(wait=0, warmup=0, active=1, repeat=3),
                                dict(wait=2, warmup=1, active=3, repeat=2, skip_first=4)])
def test_schedule_gives_torchs_actions(kw):
    torch = pytest.importorskip("torch")
    with pytest.warns(UserWarning) if kw["warmup"] == 0 else contextlib.nullcontext():
        ours = tr.profiler.schedule(**kw)
    with pytest.warns(UserWarning) if kw["warmup"] == 0 else contextlib.nullcontext():
        theirs = torch.profiler.schedule(**kw)
    assert [ours(i).name for i in range(40)] == [theirs(i).name for i in range(40)]


def test_a_schedule_records_the_active_steps_and_hands_each_cycle_over(tmp_path):
    seen = []

    def ready(prof):
        seen.append(sorted({e.name for e in prof.events() if e.name.startswith("step")}))

    handler = tr.profiler.tensorboard_trace_handler(str(tmp_path), worker_name="w")
    with tr.profiler.profile(schedule=tr.profiler.schedule(wait=1, warmup=1, active=2,
                                                           repeat=2),
                             on_trace_ready=lambda p: (ready(p), handler(p))) as prof:
        for i in range(10):
            with tr.profiler.record_function(f"step{i}"):
                (tr.ones(2) * i).sum()
            prof.step()
    assert seen == [["step2", "step3"], ["step6", "step7"]]
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 2 and all(f.startswith("w.") and f.endswith(".pt.trace.json")
                                   for f in files)
    trace = json.loads((tmp_path / files[0]).read_text())
    assert {e["name"] for e in trace["traceEvents"]} >= {"step2", "Mul", "Sum"}
    assert all(e["ph"] == "X" and e["dur"] >= 0 for e in trace["traceEvents"])


def test_without_a_schedule_everything_goes_to_on_trace_ready_at_the_end(tmp_path):
    calls = []
    with tr.profiler.profile(on_trace_ready=lambda p: calls.append(len(p.events()))) as prof:
        (tr.ones(2) + 1).sum()
        prof.step()
        tr.ones(2).exp()
    assert calls == [3]
    path = tmp_path / "t.json"
    prof.export_chrome_trace(str(path))
    assert len(json.loads(path.read_text())["traceEvents"]) == 3


def test_legacy_autograd_profiler():
    with tr.autograd.profiler.profile(record_shapes=True) as prof:
        with tr.autograd.profiler.record_function("mark"):
            (tr.ones(2, 2) @ tr.ones(2, 2)).sum()
    assert {"mark", "MatMul", "Sum"} <= {e.key for e in prof.key_averages()}
    assert prof.function_events and prof.self_cpu_time_total > 0
    with tr.autograd.profiler.profile(enabled=False) as off:
        tr.ones(2).sum()
    assert len(off.events()) == 0
    from tinygrad_rnn.autograd.profiler import profile  # PyTorch's import path

    assert profile is tr.autograd.profiler.profile


def test_bad_arguments():
    with pytest.raises(TypeError, match="ProfilerActivity"):
        tr.profiler.profile(activities=["cpu"])
    with pytest.raises(ValueError, match="active must be at least 1"):
        tr.profiler.schedule(wait=1, warmup=0, active=0)
    with pytest.raises(RuntimeError, match="not been started"):
        tr.profiler.profile().step()
    with pytest.raises(ValueError, match="record_shapes"):
        tr.profiler.profile().key_averages(group_by_input_shape=True)
    assert P.ProfilerActivity.CPU in tr.profiler.profile().activities


def test_garbage_collector_pauses_are_events_of_their_own():
    import gc

    with tr.profiler.profile() as prof:
        with tr.profiler.record_function("block"):
            gc.collect()
    gc_events = [e for e in prof.events() if e.kind == "python_gc"]
    assert [e.name for e in gc_events] == ["Python GC (generation 2)"]
    block = next(e for e in prof.events() if e.name == "block")
    assert block.self_cpu_time_total == pytest.approx(
        block.cpu_time_total - gc_events[0].cpu_time_total, abs=1e-6)
    assert prof._rec.collecting not in gc.callbacks  # the profiler stopped listening

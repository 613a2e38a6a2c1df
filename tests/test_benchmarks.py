"""The benchmark command produces its tables (a smoke run; timings are never asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import tinygrad_rnn as tr

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.torch
def test_bench_rnn_quick_run_writes_both_tables(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "table.md"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_rnn.py"), "--quick",
                          "--device", "cpu", "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    text = out.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| tiny |")]
    assert [r.split("|")[2].strip() for r in rows] == ["LSTM", "GRU", "RNN"] * 2  # time, memory
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert all(c.endswith("x") and float(c[:-1]) > 0 for c in cells[-2:])
    assert "Engine overhead per primitive op" in text
    assert text.startswith("Machine: python")


@pytest.mark.torch
def test_gpu_table_on_cpu_stand_ins(monkeypatch):
    """The GPU table's code, run on the CPU (CI has no GPU): stand-ins for CuPy's and torch's
    synchronisation, every implementation on the CPU, a small configuration. A GPU run is
    rare: its table must not fail on a slip in the code that only a GPU would reach."""
    import importlib.util
    import types

    torch = pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("bench_rnn_stand_in",
                                                  ROOT / "benchmarks" / "bench_rnn.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setenv("CUPY_TF32", "1")  # a user's setting: loading overrides it (restored after)
    spec.loader.exec_module(bench)
    device = types.SimpleNamespace(synchronize=lambda: None)
    cupy = types.SimpleNamespace(__name__="cupy_stand_in", __version__="0",
                                 cuda=types.SimpleNamespace(
                                     Device=lambda: device, runtime=types.SimpleNamespace(
                                         getDeviceProperties=lambda i: {"name": b"Stand-in"})))
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda: None)
    assert os.environ["CUPY_TF32"] == "0"  # set when the benchmark loads, before any matmul
    ours, theirs = bench.impl_ours, bench.impl_torch
    monkeypatch.setattr(bench, "impl_ours", lambda c, p, impl, device: ours(c, p, impl, "cpu"))
    monkeypatch.setattr(bench, "impl_torch",
                        lambda c, p, device, loop=False: theirs(c, p, "cpu", loop))
    monkeypatch.setitem(bench.CONFIGS, "tiny", (5, 2, 3, 4))
    tf32 = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    try:
        lines = bench.gpu_table(["tiny"], bench.CELLS, 2)
    finally:  # gpu_table turns TF32 off: as it was for the other tests
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = tf32
    head, rows = lines[0], lines[2:]
    assert [r.split("|")[2].strip() for r in rows] == bench.CELLS
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == head.count("|") - 1
        # times, then ratios: numbers, rounded (on a loaded CPU a ratio may print as 0.00x)
        assert all(float(c) >= 0 for c in cells[2:-2])
        assert all(c.endswith("x") and float(c[:-1]) >= 0 for c in cells[-2:])
    line = bench.machine("cuda")
    assert "GPU Stand-in" in line and "fused loops on the array path" in line


def test_host_overhead_runs_the_pointer_loops():
    """The host-overhead table: every cell by pointer, one gemm and one launch each way."""
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "host_overhead.py"),
                          "--rounds", "1"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    rows = [line.strip("|").split("|") for line in run.stdout.splitlines()
            if line.startswith(("| LSTM", "| GRU", "| RNN"))]
    assert [r[0].strip() for r in rows] == ["LSTM", "GRU", "RNN"]
    assert all(r[-1].strip() == "4" for r in rows)  # backend calls per step, both ways


def test_gpu_smoke_checks_the_layers_on_a_cpu_device():
    """The GPU run's first step, its layer check run on the "strict" device (CI has no GPU);
    asked for "cuda" where CuPy sees none, it fails and says why."""
    script = str(ROOT / "benchmarks" / "gpu_smoke.py")
    run = subprocess.run([sys.executable, script, "--device", "strict"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("match the CPU") == 4 and "smoke check passed" in run.stdout
    if not tr.cuda.is_available():
        run = subprocess.run([sys.executable, script], capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 1 and "CuPy sees no GPU" in run.stderr

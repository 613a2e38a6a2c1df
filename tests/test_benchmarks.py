"""The benchmark command produces its tables (a smoke run; timings are never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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

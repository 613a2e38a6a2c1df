"""The benchmark command produces its tables (a smoke run; timings are never asserted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinygrad_rnn as tr

ROOT = Path(__file__).resolve().parent.parent


def load_script(name: str, monkeypatch):
    """A script of benchmarks/ as a module (not __main__, so it leaves the thread count to the
    test process); the environment it sets is restored after the test."""
    import importlib.util

    monkeypatch.setenv("CUPY_TF32", "1")  # a user's setting: loading overrides it
    spec = importlib.util.spec_from_file_location(f"{name}_under_test",
                                                  ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cupy_stand_in(name):
    """As much of CuPy as the benchmark and the smoke check touch before their first array."""
    device = types.SimpleNamespace(synchronize=lambda: None)
    runtime = types.SimpleNamespace(getDeviceProperties=lambda i: {"name": name})
    return types.SimpleNamespace(__name__="cupy_stand_in", __version__="0",
                                 cuda=types.SimpleNamespace(Device=lambda: device,
                                                            runtime=runtime))


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
    assert "Engine overhead per primitive op" in text and "bare NumPy" in text
    assert text.startswith("Machine: python")
    assert re.search(r"threads: numpy 1\b.*, torch 1$", text.splitlines()[0])
    assert ("Medians of 3 rounds each; tiny: 9 rounds (its runs are short). A ratio is the "
            "median over rounds of the two times within one round.") in text


def test_bench_rnn_ratios_pair_the_times_of_one_round(monkeypatch):
    """A burst of load slows every implementation in the rounds it lasts: the ratio is taken
    within each round, then the median, so the burst cancels; a ratio of the medians would
    not. Here fused takes half the floor's time in every round, and a burst (x4) lasts from
    the floor's turn in round 2 to the end."""
    bench = load_script("bench_rnn", monkeypatch)
    times = {"fused": [1.0, 1.0, 1.0, 4.0, 4.0], "floor": [2.0, 2.0, 8.0, 8.0, 8.0]}
    assert bench.paired_ratio(times, "fused", "floor") == 0.5
    assert bench.paired_ratio(times, "floor", "fused") == 2.0
    assert bench.statistics.median(times["fused"]) / bench.statistics.median(times["floor"]) \
        == 0.125
    assert bench.config_rounds(100, 1, 32, 9) == 27  # tiny: overhead-bound, three times as many
    assert bench.config_rounds(35, 20, 200, 9) == 9
    assert bench.config_rounds(100, 64, 256, 9) == 4  # medium: long runs, half


@pytest.mark.torch
@pytest.mark.parametrize("torch_cuda", [True, False], ids=["torch-cuda", "torch-without-cuda"])
def test_gpu_table_on_cpu_stand_ins(monkeypatch, torch_cuda):
    """The GPU table's code, run on the CPU (CI has no GPU): stand-ins for CuPy's and torch's
    synchronisation, every implementation on the CPU, a small configuration. A GPU run is
    rare: its table must not fail on a slip in the code that only a GPU would reach. Where
    torch has no CUDA, the table leaves its columns out and says so."""
    torch = pytest.importorskip("torch")
    bench = load_script("bench_rnn", monkeypatch)
    monkeypatch.setitem(sys.modules, "cupy", cupy_stand_in(b"Stand-in"))
    monkeypatch.setattr(torch.cuda, "synchronize", lambda: None)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: torch_cuda)
    assert os.environ["CUPY_TF32"] == "0"  # set when the benchmark loads, before any matmul
    ours, theirs = bench.impl_ours, bench.impl_torch
    monkeypatch.setattr(bench, "impl_ours",
                        lambda c, p, impl, device="cpu": ours(c, p, impl, "cpu"))
    monkeypatch.setattr(bench, "impl_torch",
                        lambda c, p, device, loop=False: theirs(c, p, "cpu", loop))
    monkeypatch.setitem(bench.CONFIGS, "tiny", (5, 2, 3, 4))
    tf32 = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    try:
        lines = bench.gpu_table(["tiny"], bench.CELLS, 2)
    finally:  # gpu_table turns TF32 off: as it was for the other tests
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = tf32
    head, rows = lines[0], [r for r in lines[2:] if r.startswith("| tiny |")]
    assert [r.split("|")[2].strip() for r in rows] == bench.CELLS
    ncols = 9 if torch_cuda else 5
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == head.count("|") - 1 == ncols
        # times, then ratios: numbers, rounded (on a loaded CPU a ratio may print as 0.00x)
        assert all(float(c) >= 0 for c in cells[2:7 if torch_cuda else 5])
        assert all(c.endswith("x") and float(c[:-1]) >= 0 for c in cells[7:])
    assert ("cuDNN" in head) == torch_cuda
    assert any("torch has no CUDA here" in line for line in lines) != torch_cuda
    line = bench.machine("cuda")
    assert "GPU Stand-in" in line and "fused loops on the array path" in line
    assert f"torch CUDA {torch.version.cuda}, available {torch_cuda}" in line


def test_bench_rnn_cpu_table_without_torch(monkeypatch, tmp_path, capsys):
    """Without torch, the CPU table and the engine overhead leave torch out and say so in a
    line; the rounds note names a configuration that ran fewer rounds."""
    bench = load_script("bench_rnn", monkeypatch)
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch fails
    monkeypatch.setitem(bench.CONFIGS, "tiny", (5, 2, 3, 4))
    monkeypatch.setattr(bench, "config_rounds", lambda T, B, H, rounds: 2)
    overhead = bench.engine_overhead_us
    monkeypatch.setattr(bench, "engine_overhead_us", lambda: overhead(n_ops=20, rounds=2))
    threads = bench.numpy_threads()
    out = tmp_path / "table.md"
    bench.main(["--quick", "--device", "cpu", "--cells", "GRU", "RNN", "--out", str(out)])
    assert bench.numpy_threads() == threads  # the count is the test process's again
    text = out.read_text()
    assert "torch not installed" in text.splitlines()[0]
    head = next(line for line in text.splitlines() if line.startswith("| config |"))
    assert "torch" not in head
    assert "torch is not installed: no torch.nn column" in text
    assert "Medians of 3 rounds each; tiny: 2 rounds (its runs are long)." in text
    assert "torch not installed; the same chain in bare NumPy" in text
    rows = [line for line in text.splitlines() if line.startswith("| tiny |")]
    assert len(rows) == 4 and all(row.count("|") == 8 for row in rows)  # time, memory
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("what", ["out", "dx", "dW_ih", "dW_hh", "db_ih", "db_hh"])
def test_bench_rnn_check_same_catches_each_wrong_result(monkeypatch, what):
    bench = load_script("bench_rnn", monkeypatch)
    assert bench.CHECKED == ["out", "dx", "dW_ih", "dW_hh", "db_ih", "db_hh"]
    p = bench.make_problem("GRU", 4, 2, 3, 5)
    floor = bench.impl_floor("GRU", p)[1]
    bench.check_same({"floor": floor, "fused": bench.impl_ours("GRU", p, "fused")[1]}, 2e-3)
    wrong = floor()
    wrong[bench.CHECKED.index(what)].flat[-1] += 0.01
    with pytest.raises(SystemExit, match=f"wrong disagrees with floor on {what}: "):
        bench.check_same({"floor": floor, "wrong": lambda: wrong}, 2e-3)
    with pytest.raises(SystemExit, match="returned 5 arrays"):
        bench.check_same({"floor": floor, "short": lambda: floor()[:5]}, 2e-3)


def test_bench_rnn_arguments(monkeypatch, capsys):
    """--quick sets 3 rounds and one configuration, not over an explicit --rounds or
    --configs; --device cuda where CuPy sees no GPU says so in one line, exit status 2."""
    bench = load_script("bench_rnn", monkeypatch)
    assert (bench.parse_args([]).rounds, bench.parse_args([]).configs) == (9, None)
    assert (bench.parse_args(["--quick"]).rounds, bench.parse_args(["--quick"]).configs) == (
        3, ["tiny"])
    args = bench.parse_args(["--quick", "--rounds", "5", "--configs", "long"])
    assert (args.rounds, args.configs) == (5, ["long"])
    monkeypatch.setattr(tr.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit) as e:
        bench.parse_args(["--device", "cuda"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "no GPU table: CuPy sees no GPU" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.skipif(tr.cuda.is_available(), reason="the message for a machine without a GPU")
def test_bench_rnn_cuda_without_gpu_is_one_line():
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_rnn.py"), "--device",
                          "cuda"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1 and "CuPy sees no GPU" in run.stderr


def test_bench_rnn_engine_overhead_has_the_bare_numpy_chain(monkeypatch):
    bench = load_script("bench_rnn", monkeypatch)
    ov = bench.engine_overhead_us(n_ops=20, rounds=2)
    assert {"tinygrad_rnn", "numpy"} <= set(ov) and all(v > 0 for v in ov.values())
    if "torch" in ov:  # the ratio is taken round by round, not from the medians
        assert ov["ratio_to_torch"] > 0
    line = bench.overhead_line({"tinygrad_rnn": 6.0, "numpy": 1.5, "torch": 5.0,
                                "ratio_to_torch": 1.25})
    assert line.endswith("tinygrad_rnn 6.0 us, torch 5.0 us (1.25x torch's, within each round); "
                         "the same chain in bare NumPy 1.5 us, so tinygrad_rnn's own 4.5 us")


@pytest.mark.parametrize("name", [b"Stand-in GPU", "Stand-in GPU"], ids=["bytes", "str"])
def test_gpu_smoke_prints_the_pointer_loop_warnings(monkeypatch, capsys, name):
    """On a GPU, the smoke check shows every warning raised while the pointer loops are built,
    even when they are on, and takes the GPU's name as bytes or str (CuPy versions differ)."""
    from tinygrad_rnn.ops import pointer_steps

    smoke = load_script("gpu_smoke", monkeypatch)
    monkeypatch.setitem(sys.modules, "cupy", cupy_stand_in(name))
    monkeypatch.setattr(tr.cuda, "is_available", lambda: True)

    def get(cupy, dtype):
        warnings.warn(f"slow path for {np.dtype(dtype)}", RuntimeWarning, stacklevel=2)
        return object()

    monkeypatch.setattr(pointer_steps, "get", get)
    smoke.check_device("cuda")
    out = capsys.readouterr().out
    assert "GPU: Stand-in GPU, CuPy 0" in out
    for dt in ("float32", "float64"):
        assert (f"warning while building the pointer loops for {dt}: slow path for {dt}"
                in out)
        assert f"pointer loops on for {dt}" in out


@pytest.mark.torch
@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (6, 3, 4, 5), (3, 1, 7, 2)])
def test_floor_equals_torch_in_float64(monkeypatch, cell, shape):
    """The NumPy floor computes the layer: outputs and the gradients of x and of every weight
    equal torch's in float64, from a nonzero initial state, without touching its inputs."""
    torch = pytest.importorskip("torch")
    floor = load_script("floor", monkeypatch)
    T, B, I, H = shape
    G = {"LSTM": 4, "GRU": 3, "RNN": 1}[cell] * H
    rng = np.random.default_rng(T * B + I * H)
    x, gy = 2 * rng.standard_normal((T, B, I)), rng.standard_normal((T, B, H))
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    weights = [rng.standard_normal(s) for s in [(G, I), (G, H), (G,), (G,)]]
    mod = getattr(torch.nn, cell)(I, H).double()
    names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    with torch.no_grad():
        for n, w in zip(names, weights):
            getattr(mod, n).copy_(torch.from_numpy(w))
    xt = torch.from_numpy(x).requires_grad_()
    state = torch.from_numpy(h0)[None]
    out, _ = mod(xt, (state, torch.from_numpy(c0)[None]) if cell == "LSTM" else state)
    out.backward(torch.from_numpy(gy))
    want = [out.detach().numpy(), xt.grad.numpy()] + [getattr(mod, n).grad.numpy()
                                                      for n in names]
    args = [x, h0] + ([c0] if cell == "LSTM" else []) + weights + [gy]
    copies = [a.copy() for a in args]
    got = getattr(floor, cell.lower())(*args)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == np.float64
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12 * max(1, np.abs(w).max()))
    assert all(np.array_equal(a, c) for a, c in zip(args, copies))


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


@pytest.mark.torch
def test_bench_conv_quick_run_writes_its_table(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    out = tmp_path / "conv.md"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_conv.py"), "--quick",
                          "--rounds", "1", "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    text = out.read_text()
    assert re.search(r"threads: numpy 1\b.*, torch 1$", text.splitlines()[0])
    head, *rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert head.split("|")[2:-1] == [" ours ms ", " torch ms ", " floor ms ", " ours/torch ",
                                     " ours/floor "]
    bench = load_script("bench_conv", monkeypatch)
    assert [r.split("|")[1].strip() for r in rows] == list(bench.QUICK)
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert all(float(c) > 0 for c in cells[1:4])
        assert all(c.endswith("x") and float(c[:-1]) > 0 for c in cells[4:])
    assert "Medians of 1 rounds, forward + backward, float32." in text


@pytest.mark.torch
def test_bench_conv_floor_is_torch_in_float64(monkeypatch):
    """The hand-written NumPy floor computes what torch computes: output and every gradient,
    each case of the quick table, in float64."""
    pytest.importorskip("torch")
    bench = load_script("bench_conv", monkeypatch)
    for name, (op, xs, ws, opts) in bench.QUICK.items():
        p = {k: v.astype(np.float64) for k, v in bench.make_problem(op, xs, ws).items()}
        gy = np.random.default_rng(1).standard_normal(bench._out_shape(op, p, ws, opts))
        floor = bench.impl_floor(op, p, ws, opts, gy)[1]()
        torch_ = bench.impl_torch(op, p, ws, opts, gy)[1]()
        assert len(floor) == len(torch_), name
        for a, b, what in zip(floor, torch_, bench.CHECKED):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"{name}: {what}")


def test_bench_conv_without_torch_leaves_its_columns_out(monkeypatch, tmp_path):
    bench = load_script("bench_conv", monkeypatch)
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch fails
    out = tmp_path / "conv.md"
    bench.main(["--quick", "--rounds", "1", "--cases", "conv2d 3->32", "max_pool2d 2x2",
                "--out", str(out)])
    text = out.read_text()
    assert "torch not installed" in text.splitlines()[0]
    assert "torch is not installed: no torch columns" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0].count("|") == 5 and [r.split("|")[1].strip() for r in rows[1:]] == [
        "conv2d 3->32", "max_pool2d 2x2"]

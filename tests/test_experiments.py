"""Training runs and the tinygrad-rnn command: exact resume, clear errors, and (marked slow)
the experiments whose results the docs record."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tinygrad_rnn import experiments as ex
from tinygrad_rnn.serialization import load, save


def tiny(**kw):
    base = dict(task="adding", cell="lstm", T=8, steps=12, hidden=8, batch=8, test_size=50,
                eval_every=3)
    return ex.Config(**{**base, **kw})


@pytest.mark.parametrize("task,cell,orthogonal", [
    ("adding", "lstm", False), ("copy", "gru", False), ("digits-row", "rnn", False),
    ("text", "lstm", False), ("adding", "rnn", True)])
def test_resumed_run_continues_exactly_like_an_uninterrupted_one(tmp_path, task, cell,
                                                                 orthogonal):
    cfg = tiny(task=task, cell=cell, T=6 if task != "copy" else 3, orthogonal=orthogonal)
    whole = ex.train(cfg, progress=False)
    ex.train(cfg, tmp_path, progress=False, checkpoint_every=5, stop_after=7)
    resumed = ex.train(cfg, tmp_path, resume=True, progress=False)
    assert [h["step"] for h in resumed] == [h["step"] for h in whole]
    for a, b in zip(resumed, whole):
        assert a == b  # the same losses and metrics, bit for bit


def test_a_resumed_run_drops_the_end_of_a_shorter_run_and_refuses_to_go_back(tmp_path):
    whole = ex.train(tiny(steps=12), progress=False)
    ex.train(tiny(steps=7), tmp_path, progress=False)  # evaluated at 3, 6 and its end, 7
    resumed = ex.train(tiny(steps=12), tmp_path, resume=True, progress=False)
    assert resumed == whole  # no row at step 7: the run went on past it
    with pytest.raises(ValueError, match="already at step 12, past steps 10; give steps 12"):
        ex.train(tiny(steps=10), tmp_path, resume=True, progress=False)
    assert load(tmp_path / "checkpoint.trn")["config"]["steps"] == 12  # left as it was


def _ctrl_c_at(step):
    """A stop_when that presses Ctrl-C at the evaluation of ``step``."""
    def press(row):
        if row["step"] == step:
            os.kill(os.getpid(), signal.SIGINT)
        return False
    return press


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or sys.platform == "win32",
                    reason="needs POSIX signals")
def test_ctrl_c_finishes_the_step_saves_it_and_resume_continues_exactly(tmp_path):
    whole = ex.train(tiny(), progress=False)
    with pytest.raises(ex.TrainingInterrupted, match="stopped after step 6") as info:
        ex.train(tiny(), tmp_path, progress=False, checkpoint_every=100,
                 stop_when=_ctrl_c_at(6))
    assert isinstance(info.value, KeyboardInterrupt) and info.value.step == 6
    assert load(tmp_path / "checkpoint.trn")["step"] == 6  # not the last checkpoint_every
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    assert ex.train(tiny(), tmp_path, resume=True, progress=False) == whole

    def twice(row):  # the second Ctrl-C stops at once, with nothing saved
        _ctrl_c_at(row["step"])(row)
        os.kill(os.getpid(), signal.SIGINT)
        return False

    with pytest.raises(KeyboardInterrupt) as info:
        ex.train(tiny(), tmp_path / "b", progress=False, stop_when=twice)
    assert not isinstance(info.value, ex.TrainingInterrupted)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or sys.platform == "win32",
                    reason="needs POSIX signals")
def test_sigterm_finishes_the_step_saves_it_and_a_second_stops_at_once(tmp_path):
    after = []

    def term_at(step):
        def send(row):
            if row["step"] == step:
                os.kill(os.getpid(), signal.SIGTERM)
                after.append(signal.getsignal(signal.SIGTERM))  # a second one: the default
            return False
        return send

    with pytest.raises(ex.TrainingInterrupted, match="stopped after step 6") as info:
        ex.train(tiny(), tmp_path, progress=False, checkpoint_every=100, stop_when=term_at(6))
    assert info.value.signum == signal.SIGTERM and info.value.step == 6
    assert after == [signal.SIG_DFL]  # which ends the process at once
    assert load(tmp_path / "checkpoint.trn")["step"] == 6
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler restored
    # a second SIGTERM gets the handler that was there before: here a test's own, to see it
    caught = []
    previous = signal.signal(signal.SIGTERM, lambda *a: caught.append(a[0]))
    try:
        def twice(row):
            os.kill(os.getpid(), signal.SIGTERM)  # not the default handler: train leaves it
            return False
        ex.train(tiny(steps=3, eval_every=3), tmp_path / "b", progress=False, stop_when=twice)
        assert caught == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")
def test_a_signal_after_the_last_step_lets_the_run_finish(tmp_path):
    whole = ex.train(tiny(), progress=False)
    assert ex.train(tiny(), tmp_path, progress=False, stop_when=_ctrl_c_at(12)) == whole
    assert load(tmp_path / "checkpoint.trn")["step"] == 12


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")
def test_after_ctrl_c_a_sigterm_stops_at_once_too(tmp_path):
    seen = []

    def press(row):
        if row["step"] == 3:
            os.kill(os.getpid(), signal.SIGINT)
            seen.append(signal.getsignal(signal.SIGTERM))
        return False

    with pytest.raises(ex.TrainingInterrupted):
        ex.train(tiny(), tmp_path, progress=False, stop_when=press)
    assert seen == [signal.SIG_DFL]


def test_training_reduces_the_loss_and_is_seeded():
    a = ex.train(tiny(steps=60, eval_every=20, lr=3e-2), progress=False)
    b = ex.train(tiny(steps=60, eval_every=20, lr=3e-2), progress=False)
    assert a == b
    assert a[-1]["test_mse"] < 0.2


def test_bad_configs_are_refused_before_anything_runs():
    with pytest.raises(ValueError, match="unknown task"):
        ex.Config(task="sorting").check()
    with pytest.raises(ValueError, match="unknown cell"):
        ex.Config(cell="transformer").check()
    with pytest.raises(ValueError, match="steps must be at least 1"):
        ex.Config(steps=0).check()


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path):
    ex.train(tiny(), tmp_path, progress=False)
    with pytest.raises(ValueError, match="hidden=8 there, 16 here"):
        ex.train(tiny(hidden=16), tmp_path, resume=True, progress=False)
    with pytest.raises(ValueError, match="lr=0.01 there, 0.5 here; seed=0 there, 3 here"):
        ex.train(tiny(lr=0.5, seed=3), tmp_path, resume=True, progress=False)
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        ex.train(tiny(), tmp_path / "elsewhere", resume=True, progress=False)


def test_checkpoints_from_older_versions_with_an_unread_text_path_still_load(tmp_path):
    ex.train(tiny(steps=6), tmp_path, progress=False, stop_after=3)
    path = tmp_path / "checkpoint.trn"
    ck = load(path)
    ck["config"]["text_path"] = "corpus.txt"  # older versions kept --text for any task
    save(ck, path)
    cfg, _ = ex.load_run(path)
    assert cfg.task == "adding" and cfg.text_path is None
    resumed = ex.train(tiny(steps=6), tmp_path, resume=True, progress=False)
    assert resumed == ex.train(tiny(steps=6), progress=False)


def test_generate_samples_text_from_a_character_model(tmp_path):
    cfg = tiny(task="text", T=10, steps=5, test_size=20)
    ex.train(cfg, tmp_path, progress=False)
    _, model = ex.load_run(tmp_path / "checkpoint.trn")
    text = ex.generate(model, length=40, prime="def ", temperature=0.8, seed=1)
    assert text.startswith("def ") and len(text) == 44
    assert text == ex.generate(model, length=40, prime="def ", temperature=0.8, seed=1)
    # temperature 0: the likeliest character each time, whatever the seed; what a very low
    # temperature gives too
    greedy = ex.generate(model, length=40, prime="def ", temperature=0, seed=1)
    assert greedy == ex.generate(model, length=40, prime="def ", temperature=0, seed=2)
    assert greedy == ex.generate(model, length=40, prime="def ", temperature=1e-3, seed=3)
    assert greedy == ex.generate(model, length=40, prime="def ", temperature=1e-320, seed=4)


# ---- the command --------------------------------------------------------------------------


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "tinygrad_rnn", *args], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_cli_ctrl_c_or_sigterm_saves_the_step_and_the_metrics(tmp_path, sig):
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinygrad_rnn", "train", "--T", "6", "--hidden", "4", "--batch",
         "4", "--test-size", "10", "--eval-every", "2", "--steps", "1000000",
         "--checkpoint-every", "2", "--out", str(tmp_path), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(1200):  # the first checkpoint: training is under way
            if (tmp_path / "checkpoint.trn").exists():
                break
            time.sleep(0.05)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 128 + sig and "--resume continues" in err, err
    step = load(tmp_path / "checkpoint.trn")["step"]
    rows = list(csv.DictReader((tmp_path / "metrics.csv").read_text().splitlines()))
    assert step >= 2 and int(rows[-1]["step"]) == step - step % 2


def test_cli_compare_writes_table_metrics_and_plot(tmp_path):
    r = run_cli("compare", "--T", "6", "--steps", "10", "--hidden", "8", "--test-size", "50",
                "--eval-every", "5", "--out", str(tmp_path), "--quiet")
    assert r.returncode == 0, r.stderr
    assert "final test MSE" in r.stdout and "lstm" in r.stdout
    saved = json.loads((tmp_path / "compare.json").read_text())
    assert [row["cell"] for row in saved["results"]] == ["rnn", "lstm", "gru"]
    assert all(0 < row["trained_grad_reach"] for row in saved["results"])
    assert "‖∂L/∂h_0‖ / ‖∂L/∂h_{T-1}‖" in r.stdout
    assert saved["config"]["cells"] == ["rnn", "lstm", "gru"] and "cell" not in saved["config"]
    assert (tmp_path / "curves.csv").read_text().startswith("cell,step")
    assert (tmp_path / "compare.png").stat().st_size > 1000


def test_cli_compare_of_a_diverged_run_writes_valid_json(tmp_path):
    r = run_cli("compare", "--T", "4", "--steps", "6", "--hidden", "4", "--test-size", "10",
                "--eval-every", "2", "--lr", "1e30", "--clip", "0", "--cells", "rnn",
                "--out", str(tmp_path), "--quiet")
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "compare.json").read_text()
    assert "NaN" not in text and "Infinity" not in text  # JSON has no such numbers: null
    assert json.loads(text)["results"][0]["final_test_mse"] is None
    # a second compare into the same folder must say so, before it trains anything
    again = ("compare", "--T", "4", "--steps", "2", "--hidden", "4", "--test-size", "10",
             "--cells", "gru", "--out", str(tmp_path), "--quiet")
    r = run_cli(*again)
    assert r.returncode == 1 and "pass --overwrite" in r.stderr and r.stdout == "", r.stderr
    assert (tmp_path / "compare.json").read_text() == text
    r = run_cli(*again, "--overwrite")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "compare.json").read_text())["config"]["cells"] == ["gru"]
    (tmp_path / "p" / "compare.png").mkdir(parents=True)  # in the way: said first, whatever else
    r = run_cli(*again[:-3], "--out", str(tmp_path / "p"), "--quiet")
    assert r.returncode == 1 and "compare.png is a folder" in r.stderr, r.stderr


def test_cli_help_gives_defaults_and_the_version():
    from tinygrad_rnn import __version__

    text = run_cli("generate", "--help").stdout
    assert "characters to sample (default: 400)" in " ".join(text.split())
    assert "(default: 'def ')" in text  # a string with a space shows as one
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"tinygrad-rnn {__version__}"


def test_cli_gradflow_writes_the_decay_table(tmp_path):
    r = run_cli("gradflow", "--T", "20", "--hidden", "8", "--batch", "4", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "decay per step" in r.stdout
    # read as CSV readers do: the names of the models hold commas
    decay = list(csv.DictReader((tmp_path / "decay.csv").read_text().splitlines()))
    assert len(decay) == 6 and all(float(row["decay_factor"]) > 0 for row in decay)
    assert any("," in row["model"] for row in decay)
    flow = list(csv.reader((tmp_path / "gradflow.csv").read_text().splitlines()))
    assert flow[0][0] == "distance" and len(flow[0]) == 7
    assert all(len(row) == len(flow[0]) for row in flow) and len(flow) == 21
    # a second run into the same folder says so, before it computes anything
    before = (tmp_path / "gradflow.csv").read_text()
    again = ("gradflow", "--T", "5", "--hidden", "2", "--batch", "2", "--out", str(tmp_path))
    r = run_cli(*again)
    assert r.returncode == 1 and "earlier gradflow: pass --overwrite" in r.stderr, r.stderr
    assert r.stdout == "" and (tmp_path / "gradflow.csv").read_text() == before
    r = run_cli(*again, "--overwrite")
    assert r.returncode == 0, r.stderr
    assert len((tmp_path / "gradflow.csv").read_text().splitlines()) == 6
    (tmp_path / "p" / "decay.csv").mkdir(parents=True)  # in the way: said first
    r = run_cli(*again[:-1], str(tmp_path / "p"))
    assert r.returncode == 1 and "decay.csv is a folder: gradflow writes" in r.stderr, r.stderr


def test_cli_train_resume_and_generate(tmp_path):
    common = ["--task", "text", "--T", "10", "--hidden", "8", "--batch", "4", "--test-size",
              "20", "--eval-every", "5", "--out", str(tmp_path), "--quiet"]
    r = run_cli("train", *common, "--steps", "5")
    assert r.returncode == 0, r.stderr
    r = run_cli("train", *common, "--steps", "5")
    assert r.returncode == 1 and "--resume" in r.stderr  # nothing overwritten by accident
    r = run_cli("train", *common, "--steps", "10", "--resume")
    assert r.returncode == 0, r.stderr
    assert load(tmp_path / "checkpoint.trn")["step"] == 10
    r = run_cli("generate", "--checkpoint", str(tmp_path / "checkpoint.trn"), "--length", "20")
    assert r.returncode == 0 and r.stdout.startswith("def ")
    r = run_cli("generate", "--checkpoint", str(tmp_path / "checkpoint.trn"), "--prime", "\ue000")
    assert r.returncode == 1 and "--prime has characters the model never saw" in r.stderr


@pytest.mark.parametrize("args,message", [
    (["train", "--task", "text", "--text", "/nonexistent.txt"], "text file not found"),
    (["train", "--device", "tpu"], "unknown device 'tpu'"),
    (["generate", "--checkpoint", "/nonexistent.trn"], "nonexistent.trn"),
    (["compare", "--steps", "0"], "--steps must be at least 1"),
    (["gradflow", "--T", "1"], "--T must be at least 2"),
    (["train", "--checkpoint-every", "0", "--steps", "2"],
     "--checkpoint-every must be at least 1"),
    (["compare", "--lr", "inf"], "--lr must be a positive number"),
    (["train", "--clip", "nan"], "--clip must be a number"),
    (["train", "--cell", "gru", "--orthogonal"],
     "--orthogonal keeps the plain RNN's square W_hh orthogonal; --cell 'gru'"),
])
def test_cli_bad_input_is_one_clear_line_and_a_nonzero_exit(tmp_path, args, message):
    r = run_cli(*args, "--out", str(tmp_path)) if args[0] != "generate" else run_cli(*args)
    assert r.returncode != 0
    assert message in r.stderr and "Traceback" not in r.stderr


def test_cli_rejects_unknown_task_cell_and_cuda_without_cupy(tmp_path, monkeypatch):
    r = run_cli("train", "--task", "sorting")
    assert r.returncode == 2 and "invalid choice" in r.stderr
    from tinygrad_rnn import backend

    if not backend.cuda_available():
        r = run_cli("compare", "--device", "cuda", "--out", str(tmp_path))
        assert r.returncode == 1 and "cuda" in r.stderr and "pip install" in r.stderr
        assert not (tmp_path / "compare.csv").exists()


def test_cli_text_too_short_and_incomplete_checkpoint(tmp_path):
    from tinygrad_rnn.serialization import save

    short = tmp_path / "t.txt"
    short.write_text("abc")
    r = run_cli("train", "--task", "text", "--text", str(short), "--batch", "1", "--T", "1",
                "--steps", "2", "--out", str(tmp_path / "o"))
    assert r.returncode == 1 and "too short" in r.stderr and "Traceback" not in r.stderr
    save({"format": "tinygrad-rnn run"}, tmp_path / "c.trn")
    r = run_cli("generate", "--checkpoint", str(tmp_path / "c.trn"))
    assert r.returncode == 1 and "incomplete" in r.stderr and "Traceback" not in r.stderr


def test_cli_result_files_are_readable_by_others(tmp_path):
    r = run_cli("gradflow", "--T", "5", "--hidden", "2", "--batch", "2", "--out", str(tmp_path))
    assert r.returncode == 0
    assert (tmp_path / "decay.csv").stat().st_mode & 0o044 == 0o044  # the umask's usual r--r--


def test_cli_corrupt_or_empty_inputs(tmp_path):
    bad = tmp_path / "bad.trn"
    bad.write_text("not a checkpoint")
    r = run_cli("generate", "--checkpoint", str(bad))
    assert r.returncode == 1 and "bad.trn" in r.stderr and "Traceback" not in r.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    r = run_cli("train", "--task", "text", "--text", str(empty), "--out", str(tmp_path / "o"))
    assert r.returncode == 1 and "empty" in r.stderr


# ---- the experiments (slow: minutes each; their numbers are in docs/results.md) ------------

SLOW = dict(hidden=64, batch=64, lr=1e-2, clip=1.0, forget_bias=1.0, seed=0, test_size=10_000)


def first_step_below(history, key, threshold):
    return next((h["step"] for h in history if h[key] < threshold), None)


@pytest.mark.slow
def test_adding_T100_lstm_and_gru_solve_it_and_the_rnn_does_not():
    lstm = ex.train(ex.Config(task="adding", cell="lstm", T=100, steps=2000, **SLOW))
    gru = ex.train(ex.Config(task="adding", cell="gru", T=100, steps=1000, **SLOW))
    rnn = ex.train(ex.Config(task="adding", cell="rnn", T=100, steps=2000, **SLOW))
    assert first_step_below(lstm, "test_mse", 0.01) is not None
    assert first_step_below(gru, "test_mse", 0.01) is not None
    assert rnn[-1]["test_mse"] > 0.10


@pytest.mark.slow
def test_adding_T10_the_rnn_learns_it():
    rnn = ex.train(ex.Config(task="adding", cell="rnn", T=10, steps=1500, **SLOW))
    assert first_step_below(rnn, "test_mse", 0.05) is not None


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_digits_pixel_by_pixel(cell):
    h = ex.train(ex.Config(task="digits", cell=cell, T=64, steps=3000, **{**SLOW, "lr": 3e-3}))
    assert max(r["test_accuracy"] for r in h[-5:]) >= 0.85


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_digits_row_by_row(cell):
    h = ex.train(ex.Config(task="digits-row", cell=cell, T=8, steps=1500, **{**SLOW, "lr": 3e-3}))
    assert max(r["test_accuracy"] for r in h[-5:]) >= 0.95


def test_slow_results_use_the_documented_settings():
    assert SLOW["hidden"] == 64 and SLOW["batch"] == 64 and SLOW["test_size"] == 10_000
    assert np.isclose(SLOW["clip"], 1.0) and SLOW["forget_bias"] == 1.0


@pytest.mark.slow
def test_character_lstm_beats_the_bigram_model_and_writes_real_words(tmp_path):
    import re

    from tinygrad_rnn import data

    cfg = ex.Config(task="text", cell="lstm", T=50, steps=2000, embed=32,
                    **{**SLOW, "test_size": 2000})
    h = ex.train(cfg, tmp_path)
    bigram = ex.make_task(cfg).baseline["test_nats"]
    assert h[-1]["test_nats"] <= bigram - 0.3
    _, model = ex.load_run(tmp_path / "checkpoint.trn")
    words = set(re.findall(r"[A-Za-z]{2,}", data.default_corpus()))
    # five samples pooled: at a low temperature one sample can sit in a long run of
    # indentation for most of its length, leaving too few words to judge by
    sample = [w for seed in range(5)
              for w in re.findall(r"[A-Za-z]{2,}", ex.generate(model, 2000, "def ", 0.5, seed))]
    assert len(sample) >= 50 and sum(w in words for w in sample) / len(sample) > 0.5


# ---- bad input: refused before anything is made, named as the user wrote it -----------------


def cli(capsys, *args):
    """The command in this process: (exit status, stderr)."""
    from tinygrad_rnn import cli as command

    try:
        rc = command.main(list(args))
    except SystemExit as e:  # argparse's own errors
        rc = e.code
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "-0.001"])
def test_cli_generate_refuses_a_temperature_that_is_not_finite_and_at_least_0(capsys, value):
    # checked before the (here missing) checkpoint is read
    rc, err = cli(capsys, "generate", "--checkpoint", "/nonexistent.trn", f"--temperature={value}")
    assert rc == 1 and "--temperature must be a finite number >= 0" in err
    assert "Probabilities" not in err


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1e-300, -0.5])
def test_generate_refuses_a_bad_temperature_naming_the_argument(value):
    with pytest.raises(ValueError, match="^temperature must be a finite number >= 0"):
        ex.check_sampling(10, value, 0)
    with pytest.raises(ValueError, match="^seed must be an integer >= 0"):
        ex.check_sampling(10, 1.0, -1)
    with pytest.raises(ValueError, match="^length must be an integer >= 0"):
        ex.check_sampling(-1, 1.0, 0)


def short_text(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("abcdefgh")
    return str(path)


@pytest.mark.parametrize("args,message", [
    (["train", "--checkpoint-every", "0"], "--checkpoint-every must be at least 1, got 0"),
    (["train", "--task", "text", "--text", "/nonexistent.txt"], "text file not found"),
    (["train", "--task", "text", "--text", "SHORT", "--batch", "2", "--T", "3"],
     "too short for --batch 2 x chunks of --T 3"),
    (["train", "--resume"], "--resume: no checkpoint to continue"),
    (["train", "--eval-every", "0"], "--eval-every must be at least 1, got 0"),
    (["train", "--task", "copy", "--forget-bias", "nan"], "--forget-bias must be a finite"),
    (["train", "--seed", "-1"], "--seed must be an integer >= 0, got -1"),
    (["train", "--text", "SHORT"], "--text is read by the text task only, not by --task"),
    (["compare", "--seed", "-1"], "--seed must be an integer >= 0"),
    (["compare", "--test-size", "0"], "--test-size must be at least 1"),
    (["compare", "--cells", "lstm", "gru", "lstm"], "--cells names lstm more than once"),
    (["gradflow", "--seed", "-1"], "--seed must be at least 0, got -1"),
    (["gradflow", "--hidden", "0"], "--hidden must be at least 1, got 0"),
])
def test_cli_bad_input_leaves_no_output_folder_behind(capsys, tmp_path, args, message):
    args = [short_text(tmp_path) if a == "SHORT" else a for a in args]
    small = ["--T", "4", "--hidden", "2", "--batch", "2"]  # quick, should a check be missed
    small += ["--steps", "2", "--test-size", "5"] if args[0] != "gradflow" else []
    out = tmp_path / "out" / "run"
    rc, err = cli(capsys, args[0], *small, *args[1:], "--out", str(out), "--quiet")
    assert rc == 1 and message in err, err
    assert not (tmp_path / "out").exists()


def test_cli_out_must_be_a_folder_that_can_be_made(capsys, tmp_path):
    (tmp_path / "file").write_text("x")
    rc, err = cli(capsys, "gradflow", "--out", str(tmp_path / "file" / "sub"))
    assert rc == 1 and "is not a folder" in err
    rc, err = cli(capsys, "train", "--out", str(tmp_path / "file"))
    assert rc == 1 and "exists and is not a folder" in err
    rc, err = cli(capsys, "train", "--out", "")
    assert rc == 1 and "--out is empty" in err
    rc, err = cli(capsys, "train", "--task", "text", "--text", "", "--out", str(tmp_path / "t"))
    assert rc == 1 and "--text must be the path of a file" in err
    (tmp_path / "run" / "metrics.csv").mkdir(parents=True)  # found before training, not after
    rc, err = cli(capsys, "train", "--out", str(tmp_path / "run"))
    assert rc == 1 and "metrics.csv is a folder" in err
    (tmp_path / "link").symlink_to(tmp_path / "gone")  # a link to nothing is named as such
    for out in (tmp_path / "link", tmp_path / "link" / "sub"):
        rc, err = cli(capsys, "gradflow", "--out", str(out))
        assert rc == 1 and "is a link to" in err and "does not exist" in err, err


def test_cli_resume_and_overwrite_cannot_be_given_together(capsys, tmp_path):
    rc, err = cli(capsys, "train", "--resume", "--overwrite", "--out", str(tmp_path))
    assert rc == 2 and "not allowed with" in err


def test_python_api_errors_name_the_python_argument(tmp_path):
    with pytest.raises(ValueError, match="^checkpoint_every must be at least 1, got 0"):
        ex.train(tiny(), tmp_path / "a", progress=False, checkpoint_every=0)
    with pytest.raises(ValueError, match="^stop_after must be at least 1"):
        ex.train(tiny(), tmp_path / "a", progress=False, stop_after=0)
    with pytest.raises(ValueError, match="^resume needs out_dir"):
        ex.train(tiny(), progress=False, resume=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="^out_dir .* exists and is not a folder"):
        ex.train(tiny(), tmp_path / "file", progress=False)
    with pytest.raises(ValueError, match=r"too short for batch 8 x chunks of T 6 .* smaller batch"):
        ex.train(tiny(task="text", T=6, text_path=short_text(tmp_path)), tmp_path / "b",
                 progress=False)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("kw,message", [
    (dict(T="5"), "^T must be an integer, got '5'"),
    (dict(steps=2.5), "^steps must be an integer, got 2.5"),
    (dict(seed=-1), "^seed must be an integer >= 0, got -1"),
    (dict(lr="0.1"), "^lr must be a positive number"),
    (dict(text_path="x.txt"), "^text_path is read by the text task only, not by task 'adding'"),
])
def test_config_refuses_values_of_the_wrong_kind(kw, message):
    with pytest.raises(ValueError, match=message):
        ex.Config(**kw).check()


def test_resume_mismatch_names_the_flag_from_the_command(capsys, tmp_path):
    common = ["train", "--T", "4", "--steps", "2", "--hidden", "4", "--batch", "2",
              "--test-size", "5", "--out", str(tmp_path), "--quiet"]
    assert cli(capsys, *common)[0] == 0
    rc, err = cli(capsys, *common[:-3], "--hidden", "6", "--out", str(tmp_path), "--quiet",
                  "--resume")
    assert rc == 1 and "--hidden=4 there, 6 here" in err


def test_an_orthogonal_rnn_keeps_w_hh_orthogonal_through_training(tmp_path):
    cfg = tiny(cell="rnn", orthogonal=True, layers=2, steps=6)
    start = ex.make_task(cfg).model
    ex.train(cfg, tmp_path, progress=False)
    _, trained = ex.load_run(tmp_path / "checkpoint.trn")
    for k in range(2):
        name = f"weight_hh_l{k}"
        W = getattr(trained.rnn, name).numpy().astype(np.float64)
        assert np.abs(W - getattr(start.rnn, name).numpy()).max() > 1e-3  # it trained
        np.testing.assert_allclose(W.T @ W, np.eye(8), atol=1e-5)

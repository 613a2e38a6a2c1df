"""The ``tinygrad-rnn`` command (also ``python -m tinygrad_rnn``).

    tinygrad-rnn compare     # RNN vs LSTM vs GRU on the adding problem: table + learning curves
    tinygrad-rnn gradflow    # how fast gradients vanish: ‖∂L/∂h_t‖ per step back, per cell
    tinygrad-rnn train --task text --cell lstm --out runs/text   # one model, with checkpoints
    tinygrad-rnn generate --checkpoint runs/text/checkpoint.trn  # sample from a text model

Results go to the output folder: metrics as CSV and JSON, plots as PNG (with matplotlib).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import experiments as ex
from .backend import get_device


def _publish(tmp: str, path: Path) -> None:
    """Give a finished temporary file the permissions of the file it replaces, or the usual
    ones, and move it into place."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask  # mkstemp makes files only their owner can read
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _write_atomic(path: Path, text: str) -> None:
    """Write a whole file or nothing: a temporary file, flushed to disk, then a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        _publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Rows as CSV, the columns in order of first appearance; a name with a comma is quoted."""
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    text = io.StringIO()
    writer = csv.DictWriter(text, keys, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    _write_atomic(path, text.getvalue())


def _json_numbers(obj: Any) -> Any:
    """NaN and infinities as null: JSON has no spelling for them (a diverged run has them)."""
    if isinstance(obj, dict):
        return {k: _json_numbers(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_numbers(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def _plot(path: Path, draw: Any) -> bool:
    """Save a figure drawn by ``draw(ax)``; False (with a note) without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: no plot without matplotlib: pip install 'tinygrad-rnn[experiments]'",
              file=sys.stderr)
        return False
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    draw(ax)
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp)
        _publish(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
        plt.close(fig)
    return True


def _check_out(path: str) -> Path:
    """The --out folder, checked now but made only when there is something to put in it, so
    that bad input leaves no empty folder behind."""
    if not path.strip():
        raise ValueError("--out is empty: give a folder (. for this one)")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"--out {p} exists and is not a folder")
    near = p
    while not near.exists():  # the nearest folder that exists, where p would be made
        if near.is_symlink():
            raise ValueError(f"--out {p}: {near} is a link to {os.readlink(near)}, which does "
                             "not exist")
        near = near.parent
    if not near.is_dir():
        raise ValueError(f"--out {p}: {near} is not a folder")
    if not os.access(near, os.W_OK | os.X_OK):
        raise ValueError(f"--out {p}: cannot write in {near}")
    return p


def _make_out(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


FLAGS = {"text_path": "--text", "out_dir": "--out"}  # where a flag is not the field's name


def _flag(field: str) -> str:
    """The command-line flag of a setting: ``checkpoint_every`` -> ``--checkpoint-every``."""
    return FLAGS.get(field, "--" + field.replace("_", "-"))


def _config(args: argparse.Namespace, **fixed: Any) -> ex.Config:
    fields = ex.Config.__dataclass_fields__
    values = {k: v for k, v in vars(args).items() if k in fields and v is not None}
    cfg = ex.Config(**{**values, **fixed})
    cfg.check()
    return cfg


def _check_earlier(out: Path, names: Sequence[str], command: str, overwrite: bool) -> None:
    """Before any work: a folder where ``command`` writes a file is an error, and so are the
    files of an earlier run, unless ``overwrite``."""
    for path in (out / n for n in names):
        if path.is_dir():
            raise ValueError(f"{path} is a folder: {command} writes a file there")
    if not overwrite and any((out / n).exists() for n in names):
        raise ValueError(f"{out} holds the results of an earlier {command}: pass --overwrite to "
                         "replace them, or another --out")


# ---- compare ------------------------------------------------------------------------------------

# how much of the error at the last of the T states, h_0 .. h_{T-1}, reaches the first
REACH = "‖∂L/∂h_0‖ / ‖∂L/∂h_{T-1}‖"


def cmd_compare(args: argparse.Namespace) -> int:
    cfg0 = _config(args, task="adding")
    twice = sorted({c for c in args.cells if args.cells.count(c) > 1})
    if twice:
        raise ValueError(f"--cells names {', '.join(twice)} more than once")
    get_device(cfg0.device)  # fail now, not after a first model has trained
    out = _check_out(args.out)
    _check_earlier(out, ("compare.csv", "curves.csv", "compare.json", "compare.png"), "compare",
                   args.overwrite)
    from .diagnostics import hidden_grad_norms
    from .tensor import tensor

    # after training, how much of the error at the last step reaches the first (32 sequences)
    probe, _ = ex.data.adding_problem(32, cfg0.T, np.random.default_rng([cfg0.seed, 2]))
    curves, rows = {}, []
    for cell in args.cells:
        cfg = ex.Config(**{**cfg0.__dict__, "cell": cell})
        with tempfile.TemporaryDirectory() as tmp:  # the trained model, through its checkpoint
            history = ex.train(cfg, tmp, progress=not args.quiet, checkpoint_every=cfg.steps)
            _, model = ex.load_run(Path(tmp) / "checkpoint.trn", cfg.device)
        norms = hidden_grad_norms(model.rnn, tensor(probe, device=cfg.device))
        with np.errstate(divide="ignore", invalid="ignore"):
            reach = float(norms[0] / norms[-1])
        curves[cell] = history
        final = history[-1]["test_mse"]
        best = min((h["test_mse"] for h in history if np.isfinite(h["test_mse"])),
                   default=float("nan"))  # a diverged run's NaN is no best
        rows.append({"cell": cell, "T": cfg.T, "steps": cfg.steps, "final_test_mse": final,
                     "best_test_mse": best, "baseline_mse": ex.data.ADDING_BASELINE_MSE,
                     "solved": final < 0.01, "trained_grad_reach": reach})
    print(f"\nAdding problem, T = {cfg0.T}, {cfg0.steps} steps, hidden {cfg0.hidden}, "
          f"batch {cfg0.batch}, Adam lr {cfg0.lr}, test set {cfg0.test_size}:")
    print(f"{'cell':6} {'final test MSE':>15} {'best':>10} {'vs baseline 1/6':>16} "
          f"{REACH:>26}")
    for r in rows:
        ratio = r["final_test_mse"] / r["baseline_mse"]
        reach = r["trained_grad_reach"]  # exactly 0: it underflowed, vanished for good
        shown = "0 (underflow)" if reach == 0 else f"{reach:.1e}"
        print(f"{r['cell']:6} {r['final_test_mse']:15.4f} {r['best_test_mse']:10.4f} "
              f"{ratio:15.3f}x {shown:>26}")
    print("(the last column, after training: how much of the error at the last step reaches "
          "the first)")
    _make_out(out)
    _write_csv(out / "compare.csv", rows)
    _write_csv(out / "curves.csv", [{"cell": c, **h} for c, hs in curves.items() for h in hs])
    config = {k: v for k, v in cfg0.__dict__.items() if k != "cell"} | {"cells": args.cells}
    _write_atomic(out / "compare.json", json.dumps(_json_numbers(
        {"config": config, "results": rows, "curves": curves}), indent=1, allow_nan=False))

    def draw(ax: Any) -> None:
        for cell, hs in curves.items():
            ax.plot([h["step"] for h in hs], [h["test_mse"] for h in hs], label=cell.upper())
        ax.axhline(ex.data.ADDING_BASELINE_MSE, color="gray", ls="--", label="predict 1 (1/6)")
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel("test MSE")
        ax.set_title(f"Adding problem, T = {cfg0.T}")
        ax.legend()

    if _plot(out / "compare.png", draw):
        print(f"plot: {out / 'compare.png'}")
    else:  # no matplotlib: no plot of an earlier compare beside these results
        (out / "compare.png").unlink(missing_ok=True)
    print(f"metrics: {out / 'compare.csv'}, {out / 'curves.csv'}")
    return 0


# ---- gradflow -----------------------------------------------------------------------------------

# (name, cell, LSTM forget bias, W_hh kept orthogonal: every singular value 1, so W_hh
# itself neither shrinks nor grows the gradient; only tanh' <= 1 does)
GRADFLOW_MODELS = [("RNN (tanh)", "rnn", 0.0, False), ("RNN, orthogonal W_hh", "rnn", 0.0, True),
                   ("LSTM, forget bias 0", "lstm", 0.0, False),
                   ("LSTM, forget bias 1", "lstm", 1.0, False),
                   ("LSTM, forget bias 3", "lstm", 3.0, False), ("GRU", "gru", 0.0, False)]


def gradflow_table(T: int, hidden: int, batch: int, seed: int, device: str = "cpu"
                   ) -> list[dict[str, Any]]:
    """‖∂L/∂h_t‖ for each model of ``GRADFLOW_MODELS`` at initialisation, on adding-problem
    inputs, with the fitted per-step decay factor."""
    from . import random as _random
    from .diagnostics import gate_stats
    from .nn.utils import parametrizations
    from .tensor import tensor

    x, _ = ex.data.adding_problem(batch, T, np.random.default_rng(seed))
    xt = tensor(np.ascontiguousarray(x.transpose(1, 0, 2)), device=device)
    rows = []
    for name, cell, fb, orthogonal in GRADFLOW_MODELS:
        _random.manual_seed(seed)
        kw = {"forget_bias": fb} if cell == "lstm" else {}
        layer = ex.CELLS[cell](2, hidden, device=device, **kw)
        if orthogonal:
            parametrizations.orthogonal(layer, "weight_hh_l0")
        norms = ex.gradient_norms(layer, xt, seed=seed)
        gates = gate_stats(layer, xt) if cell != "rnn" else {}
        rows.append({"model": name, "decay_factor": ex.decay_factor(norms),
                     "norms": norms.tolist(), "saturated": gates})
    return rows


def cmd_gradflow(args: argparse.Namespace) -> int:
    for flag, value, least in (("--T", args.T, 2), ("--hidden", args.hidden, 1),
                               ("--batch", args.batch, 1), ("--seed", args.seed, 0)):
        if value < least:
            raise ValueError(f"{flag} must be at least {least}, got {value}")
    get_device(args.device)
    out = _check_out(args.out)
    _check_earlier(out, ("gradflow.csv", "decay.csv", "gradflow.png"), "gradflow",
                   args.overwrite)
    rows = gradflow_table(args.T, args.hidden, args.batch, args.seed, args.device)
    _make_out(out)
    print(f"\nGradient flow at initialisation (T = {args.T}, hidden {args.hidden}): "
          f"‖∂L/∂h_t‖ for L = <v, h_{{T-1}}> (the last state)")
    print(f"{'model':22} {'decay per step':>15} {REACH:>28}  "
          "saturated gates (<0.1 or >0.9)")
    for r in rows:
        n = r["norms"]
        sat = " ".join(f"{g} {v:.0%}" for g, v in r["saturated"].items())
        print(f"{r['model']:22} {r['decay_factor']:15.4f} {n[0] / n[-1]:28.3e}  {sat}")
    dist = list(range(args.T - 1, -1, -1))
    _write_csv(out / "gradflow.csv", [{"distance": d, **{r["model"]: r["norms"][t]
                                                        for r in rows}}
                                      for t, d in enumerate(dist)])
    _write_csv(out / "decay.csv", [{"model": r["model"], "decay_factor": r["decay_factor"],
                                    **{f"saturated_{g}": v for g, v in r["saturated"].items()}}
                                   for r in rows])

    def draw(ax: Any) -> None:
        for r in rows:
            ax.plot(dist, r["norms"], label=f"{r['model']} (λ = {r['decay_factor']:.3f})")
        ax.set_yscale("log")
        ax.set_xlabel("distance T - 1 - t (steps back from the last state)")
        ax.set_ylabel("‖∂L/∂h_t‖")
        ax.set_title("How far back does the gradient reach? (at initialisation)")
        ax.legend(fontsize=8)

    if _plot(out / "gradflow.png", draw):
        print(f"plot: {out / 'gradflow.png'}")
    else:  # no matplotlib: no plot of an earlier run beside these results
        (out / "gradflow.png").unlink(missing_ok=True)
    print(f"metrics: {out / 'gradflow.csv'}, {out / 'decay.csv'}")
    return 0


# ---- train and generate ---------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    cfg = _config(args)
    get_device(cfg.device)
    out = _check_out(args.out)
    ckpt = out / "checkpoint.trn"
    for path in (ckpt, out / "metrics.csv"):  # found now, not when the run has trained
        if path.is_dir():
            raise ValueError(f"{path} is a folder: the run writes a file there")
    if args.resume and not ckpt.exists():
        raise ValueError(f"--resume: no checkpoint to continue at {ckpt}")
    if not args.resume and ckpt.exists() and not args.overwrite:
        raise ValueError(f"{ckpt} exists: pass --resume to continue it or --overwrite to start "
                         "again")
    # train checks --checkpoint-every and reads the text before it makes the folder
    try:
        history = ex.train(cfg, out, resume=args.resume, progress=not args.quiet,
                           checkpoint_every=args.checkpoint_every)
    except ex.TrainingInterrupted as e:  # Ctrl-C, SIGTERM: the last step was finished, saved
        _write_csv(out / "metrics.csv", e.history)
        print(f"interrupted: {e}; --resume continues", file=sys.stderr)
        return 128 + e.signum  # the shell's status for a process stopped by that signal
    _write_csv(out / "metrics.csv", history)
    last = history[-1] if history else {}
    print("final: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                for k, v in last.items()))
    print(f"checkpoint: {out / 'checkpoint.trn'}; metrics: {out / 'metrics.csv'}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    if args.length < 1:
        raise ValueError(f"--length must be at least 1, got {args.length}")
    ex.check_sampling(args.length, args.temperature, args.seed)  # before loading anything
    get_device(args.device)
    cfg, model = ex.load_run(args.checkpoint, device=args.device)
    print(ex.generate(model, args.length, args.prime, args.temperature, args.seed))
    return 0


# ---- the parser ---------------------------------------------------------------------------------


def _common(p: argparse.ArgumentParser, out: str) -> None:
    p.add_argument("--device", default="cpu", help="cpu, or cuda (needs CuPy)")
    p.add_argument("--seed", type=int, default=0, help="seeds the weights and the data")
    p.add_argument("--out", default=out, help="output folder (created if missing)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS threads: for matrices this small one is fastest, and on a busy "
                   "machine many times faster")


def _training(p: argparse.ArgumentParser, T: int, steps: int, one_task: bool) -> None:
    """The training settings; ``one_task``: the command runs only the adding problem."""
    p.add_argument("--T", type=int, default=T, help="sequence length" if one_task else
                   "sequence length (adding), delay (copy), chunk length (text); the digits "
                   "tasks have their own")
    p.add_argument("--steps", type=int, default=steps, help="training steps (batches)")
    p.add_argument("--hidden", type=int, default=64, help="hidden size of the recurrent layer")
    p.add_argument("--batch", type=int, default=64, help="sequences per step")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam's learning rate")
    p.add_argument("--clip", type=float, default=1.0, help="global gradient-norm clip (0: off)")
    p.add_argument("--forget-bias", dest="forget_bias", type=float, default=1.0,
                   help="LSTM forget-gate bias at initialisation")
    p.add_argument("--test-size", dest="test_size", type=int, default=10_000,
                   help="held-out sequences" if one_task else
                   "held-out sequences (adding, copy); the text task evaluates on 10 x this "
                   "many characters; the digits tasks always hold out 20%% of the images")
    p.add_argument("--eval-every", dest="eval_every", type=int, default=100,
                   help="steps between evaluations on the held-out set")


class _Help(argparse.HelpFormatter):
    """Help that gives each option's default, except for on/off flags and options without
    one."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        d = action.default
        if not action.help or action.nargs == 0 or d is None or d is argparse.SUPPRESS:
            return action.help
        shown = (" ".join(map(str, d)) if isinstance(d, list)
                 else repr(d) if isinstance(d, str) and d.strip() != d else str(d))
        return f"{action.help} (default: {shown.replace('%', '%%')})"


def parser() -> argparse.ArgumentParser:
    from . import __version__

    ap = argparse.ArgumentParser(prog="tinygrad-rnn", description=(
        "Recurrent nets on this package's engine: compare RNN, LSTM and GRU, measure how far "
        "back gradients reach, train, sample. Also runs as python -m tinygrad_rnn."))
    ap.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    shows_defaults = {"formatter_class": _Help}

    p = sub.add_parser("compare", help="RNN vs LSTM vs GRU on the adding problem",
                       description="Train each cell on the adding problem with the same "
                       "settings; print the table, write metrics and learning curves.",
                       **shows_defaults)
    _common(p, "results/compare")
    _training(p, T=100, steps=2000, one_task=True)
    p.add_argument("--cells", nargs="+", choices=list(ex.CELLS), default=["rnn", "lstm", "gru"],
                   help="the cells to train, in order")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the results of an earlier compare in --out")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("gradflow", help="vanishing gradients at initialisation, per cell",
                       description="‖∂L/∂h_t‖ at each step t, back from the last state, for "
                       "an RNN, LSTMs with three forget biases and a GRU, untrained, on "
                       "adding-problem inputs.",
                       **shows_defaults)
    _common(p, "results/gradflow")
    p.add_argument("--T", type=int, default=100, help="sequence length")
    p.add_argument("--hidden", type=int, default=64, help="hidden size")
    p.add_argument("--batch", type=int, default=32, help="sequences averaged over")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the results of an earlier gradflow in --out")
    p.set_defaults(func=cmd_gradflow)

    p = sub.add_parser("train", help="train one model on one task, with checkpoints",
                       description="Train one model on one task, with checkpoints. Ctrl-C or "
                       "SIGTERM saves the last finished step; --resume continues exactly.",
                       **shows_defaults)
    _common(p, "results/train")
    p.add_argument("--task", choices=list(ex.TASKS), default="adding", help="what to learn")
    p.add_argument("--cell", choices=list(ex.CELLS), default="lstm", help="recurrent cell")
    _training(p, T=100, steps=2000, one_task=False)
    p.add_argument("--text", dest="text_path", help="a UTF-8 text file (task text; default: "
                   "the Python standard library's source)")
    p.add_argument("--embed", type=int, default=32, help="embedding size (copy, text)")
    p.add_argument("--layers", type=int, default=1, help="stacked recurrent layers")
    p.add_argument("--orthogonal", action="store_true", help="keep W_hh orthogonal while it "
                   "trains (--cell rnn)")
    p.add_argument("--checkpoint-every", dest="checkpoint_every", type=int, default=500,
                   help="steps between checkpoints (and one at the end)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue the checkpoint in --out")
    again.add_argument("--overwrite", action="store_true", help="start again over a checkpoint")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("generate", help="sample text from a trained character model",
                       description="Sample text from a character model trained with "
                       "--task text.", **shows_defaults)
    p.add_argument("--checkpoint", required=True, help="a checkpoint.trn of a text run")
    p.add_argument("--length", type=int, default=400, help="characters to sample")
    p.add_argument("--temperature", type=float, default=0.8,
                   help="below 1: safer, more repetitive; above 1: more varied; 0: always "
                   "the likeliest character")
    p.add_argument("--prime", default="def ", help="text fed to the model first")
    p.add_argument("--seed", type=int, default=0, help="seeds the sampling")
    p.add_argument("--device", default="cpu", help="cpu, or cuda (needs CuPy)")
    p.set_defaults(func=cmd_generate)
    return ap


@contextlib.contextmanager
def _blas_threads(n: int | None) -> Iterator[None]:
    """NumPy's BLAS on ``n`` threads while a command runs, then as it was (a command run
    from Python, as the tests do, leaves the caller's setting alone)."""
    if n is None:
        yield
        return
    if n < 1:
        raise ValueError(f"--threads must be at least 1, got {n}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # nothing to limit with: as set_num_threads, the number is not used
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; bad input ends with a one-line message and exit status 1."""
    args = parser().parse_args(argv)
    try:
        with _blas_threads(getattr(args, "threads", None)):
            return args.func(args)
    except ex.SettingError as e:  # named by its flag, not by the Python field
        print(f"tinygrad-rnn {args.command}: error: {e.render(_flag)}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, RuntimeError, KeyError, OSError) as e:
        print(f"tinygrad-rnn {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

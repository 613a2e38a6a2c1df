"""Training runs for the experiments behind ``tinygrad-rnn``: a model, a task, a loop, metrics,
checkpoints that resume exactly, and the gradient-flow measurement.

    from tinygrad_rnn.experiments import Config, train
    history = train(Config(task="adding", cell="lstm", T=100, steps=2000))

Every run is seeded: the model's initial weights (``tr.manual_seed``), the training batches and
the fixed test set each come from their own generator, so a run is repeatable, and a run resumed
from a checkpoint continues exactly as if it had never stopped.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import data, nn, optim
from . import functional as F
from . import random as _random
from .autograd import no_grad
from .diagnostics import hidden_grad_norms
from .serialization import load, save
from .tensor import Tensor, tensor

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
TASKS = ("adding", "copy", "digits", "digits-row", "text")


class SettingError(ValueError):
    """A bad setting of a run. The message names settings as ``{field}`` in ``template``: the
    Python API shows the argument's name (``checkpoint_every``), and the command line, through
    ``render``, its flag (``--checkpoint-every``). ``values`` fill the other ``{placeholders}``.
    """

    def __init__(self, template: str, **values: Any) -> None:
        self.template, self.values = template, values
        super().__init__(self.render())

    def render(self, name: Callable[[str], str] = str) -> str:
        """The message, each setting spelled ``name(field)``."""
        return self.template.format_map(_Names(name, self.values))


class _Names(dict):  # type: ignore[type-arg]
    """``values``, and for any other key, the name of that setting."""

    def __init__(self, name: Callable[[str], str], values: dict[str, Any]) -> None:
        super().__init__(values)
        self.name = name

    def __missing__(self, key: str) -> str:
        return self.name(key)


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


class Progress:
    """A progress bar on stderr: redrawn in place on a terminal, a line every 10% elsewhere."""

    def __init__(self, total: int, desc: str, enabled: bool = True) -> None:
        self.total, self.desc, self.enabled = max(total, 1), desc, enabled
        self.n, self.t0, self.last_tenth = 0, time.perf_counter(), -1
        self.tty = sys.stderr.isatty()
        self.info: dict[str, Any] = {}  # the latest metrics, shown until new ones come

    def update(self, n: int = 1, **info: Any) -> None:
        self.n += n
        self.info.update(info)
        if not self.enabled:
            return
        frac = self.n / self.total
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / frac * (1 - frac) if frac > 0 else 0.0
        extra = " ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in self.info.items())
        bar = "#" * int(frac * 24)
        line = (f"{self.desc} [{bar:<24}] {self.n}/{self.total} "
                f"{elapsed:.0f}s<{eta:.0f}s {extra}")
        if self.tty:
            width = shutil.get_terminal_size().columns - 1  # never wrap: \r redraws one line
            sys.stderr.write("\r" + line[:width].ljust(width))
            sys.stderr.flush()
        elif int(frac * 10) > self.last_tenth:
            self.last_tenth = int(frac * 10)
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled and self.tty:
            sys.stderr.write("\n")


@dataclass
class Config:
    """One training run. ``T`` is the sequence length (adding), the delay (copy) or the chunk
    length (text); ``forget_bias`` applies to LSTM only; ``orthogonal`` (RNN only) keeps each
    layer's W_hh orthogonal while it trains (``nn.utils.parametrizations.orthogonal``)."""

    task: str = "adding"
    cell: str = "lstm"
    T: int = 100
    steps: int = 2000
    hidden: int = 64
    batch: int = 64
    lr: float = 1e-2
    clip: float = 1.0
    forget_bias: float = 1.0
    seed: int = 0
    device: str = "cpu"
    test_size: int = 10_000
    eval_every: int = 100
    text_path: str | None = None
    embed: int = 32
    layers: int = 1
    orthogonal: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.text_path, os.PathLike):  # a Path is saved as the text it spells
            self.text_path = os.fspath(self.text_path)

    def check(self) -> None:
        """A clear error (``SettingError``) for an impossible configuration, before anything
        runs."""
        if self.task not in TASKS:
            raise SettingError("unknown {task} {got!r}; choose from {known}", got=self.task,
                               known=", ".join(TASKS))
        if self.cell not in CELLS:
            raise SettingError("unknown {cell} {got!r}; choose from {known}", got=self.cell,
                               known=", ".join(CELLS))
        for name in ("T", "steps", "hidden", "batch", "test_size", "eval_every", "embed",
                     "layers"):
            v = getattr(self, name)
            if not _is_int(v):
                raise SettingError("{" + name + "} must be an integer, got {got!r}", got=v)
            if v < 1:
                raise SettingError("{" + name + "} must be at least 1, got {got}", got=v)
        if not (_is_int(self.seed) and self.seed >= 0):
            raise SettingError("{seed} must be an integer >= 0, got {got!r}", got=self.seed)
        if not (_is_real(self.lr) and math.isfinite(self.lr) and self.lr > 0):
            raise SettingError("{lr} must be a positive number, got {got!r}", got=self.lr)
        if not (_is_real(self.clip) and math.isfinite(self.clip) and self.clip >= 0):
            raise SettingError("{clip} must be a number >= 0 (0: off), got {got!r}",
                               got=self.clip)
        if not (_is_real(self.forget_bias) and math.isfinite(self.forget_bias)):
            raise SettingError("{forget_bias} must be a finite number, got {got!r}",
                               got=self.forget_bias)
        if not isinstance(self.orthogonal, bool):
            raise SettingError("{orthogonal} must be True or False, got {got!r}",
                               got=self.orthogonal)
        if self.orthogonal and self.cell != "rnn":
            raise SettingError("{orthogonal} keeps the plain RNN's square W_hh orthogonal; "
                               "{cell} {got!r} has gate blocks stacked in W_hh", got=self.cell)
        if self.task == "adding" and self.T < 2:
            raise SettingError("the adding problem needs {T} >= 2, got {got}", got=self.T)
        if self.text_path is not None and not (isinstance(self.text_path, str)
                                               and self.text_path.strip()):
            raise SettingError("{text_path} must be the path of a file (or be left out for the "
                               "Python standard library's source), got {got!r}",
                               got=self.text_path)
        if self.text_path is not None and self.task != "text":
            raise SettingError("{text_path} is read by the text task only, not by {task} "
                               "{got!r}", got=self.task)


class SequenceModel(nn.Module):
    """An RNN, LSTM or GRU with a linear read-out: of the last step (one prediction per
    sequence) or of every step (``per_step``). Token inputs (``vocab``) are embedded first."""

    def __init__(self, cell: str, input_size: int, hidden: int, output_size: int,
                 per_step: bool, vocab: int = 0, forget_bias: float = 1.0, layers: int = 1,
                 device: str = "cpu", orthogonal: bool = False) -> None:
        super().__init__()
        self.per_step = per_step
        self.embedding = nn.Embedding(vocab, input_size, device=device) if vocab else None
        kw: dict[str, Any] = {"forget_bias": forget_bias} if cell == "lstm" else {}
        self.rnn = CELLS[cell](input_size, hidden, num_layers=layers, batch_first=True,
                               device=device, **kw)
        for k in range(layers if orthogonal else 0):
            nn.utils.parametrizations.orthogonal(self.rnn, f"weight_hh_l{k}")
        self.head = nn.Linear(hidden, output_size, device=device)

    def forward(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        if self.embedding is not None:
            x = self.embedding(x)
        out, state = self.rnn(x, state)
        return self.head(out if self.per_step else out[:, -1]), state


@dataclass
class Task:
    """What a run needs from a task: a model, a batch sampler, a loss, and an evaluation."""

    model: SequenceModel
    sample: Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]
    loss: Callable[[Tensor, Tensor], Tensor]
    evaluate: Callable[[SequenceModel], dict[str, float]]
    baseline: dict[str, float] = field(default_factory=dict)
    stateful: bool = False  # text: the hidden state carries over between chunks


def _in_batches(model: SequenceModel, x: np.ndarray, device: str, size: int = 1000
                ) -> np.ndarray:
    """Model outputs for a whole test set, in batches, without recording a graph."""
    outs = []
    with no_grad():
        model.eval()
        for s in range(0, len(x), size):
            out, _ = model(tensor(x[s:s + size], device=device))
            outs.append(out.numpy())
        model.train()
    return np.concatenate(outs)


def make_task(cfg: Config) -> Task:
    """Build the model, data and metrics of ``cfg.task`` (seeded by ``cfg.seed``)."""
    cfg.check()
    test_rng = np.random.default_rng([cfg.seed, 1])  # the fixed test set
    _random.manual_seed(cfg.seed)  # the model's initial weights
    dev, mk = cfg.device, dict(forget_bias=cfg.forget_bias, layers=cfg.layers, device=cfg.device,
                               orthogonal=cfg.orthogonal)

    if cfg.task == "adding":
        x_test, y_test = data.adding_problem(cfg.test_size, cfg.T, test_rng)
        model = SequenceModel(cfg.cell, 2, cfg.hidden, 1, per_step=False, **mk)

        def evaluate(m: SequenceModel) -> dict[str, float]:
            pred = _in_batches(m, x_test, dev)[:, 0]
            return {"test_mse": float(np.mean((pred - y_test) ** 2))}

        return Task(model, lambda rng, step: data.adding_problem(cfg.batch, cfg.T, rng),
                    lambda out, y: F.mse_loss(out.reshape(-1), y), evaluate,
                    {"test_mse": data.ADDING_BASELINE_MSE})

    if cfg.task == "copy":
        n_sym = 8
        x_test, y_test = data.copy_task(cfg.test_size, cfg.T, test_rng, n_symbols=n_sym)
        model = SequenceModel(cfg.cell, cfg.embed, cfg.hidden, n_sym + 2, per_step=True,
                              vocab=n_sym + 2, **mk)

        def evaluate(m: SequenceModel) -> dict[str, float]:
            logits = _in_batches(m, x_test, dev)
            z = logits - logits.max(-1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
            ce = -np.take_along_axis(logp, y_test[..., None], -1).mean()
            acc = (logits[:, -10:].argmax(-1) == y_test[:, -10:]).mean()
            return {"test_ce": float(ce), "copy_accuracy": float(acc)}

        return Task(model,
                    lambda rng, step: data.copy_task(cfg.batch, cfg.T, rng, n_symbols=n_sym),
                    lambda out, y: F.cross_entropy(out.reshape(-1, n_sym + 2), y.reshape(-1)),
                    evaluate, {"test_ce": data.copy_baseline(cfg.T, n_symbols=n_sym)})

    if cfg.task in ("digits", "digits-row"):
        (x_tr, y_tr), (x_te, y_te) = data.digits("pixel" if cfg.task == "digits" else "row",
                                                 test_rng)
        model = SequenceModel(cfg.cell, x_tr.shape[2], cfg.hidden, 10, per_step=False, **mk)

        def sample(rng: np.random.Generator, step: int) -> tuple[np.ndarray, np.ndarray]:
            idx = rng.choice(len(x_tr), size=min(cfg.batch, len(x_tr)), replace=False)
            return x_tr[idx], y_tr[idx]

        def evaluate(m: SequenceModel) -> dict[str, float]:
            return {"test_accuracy": float((_in_batches(m, x_te, dev).argmax(-1) == y_te).mean())}

        return Task(model, sample, lambda out, y: F.cross_entropy(out, y), evaluate,
                    {"test_accuracy": float(np.bincount(y_te).max() / len(y_te))})

    # character-level text
    text = data.read_text(cfg.text_path) if cfg.text_path is not None else data.default_corpus()
    vocab = data.Vocab(text)
    train_ids, test_ids = data.split_text(vocab.encode(text))
    if len(test_ids) < 2 or len(train_ids) < cfg.batch * (cfg.T + 1):
        raise SettingError(
            "the text has {n} characters: too short for {batch} {batch_v} x chunks of {T} "
            "{T_v} (and a held-out tenth); give a longer text or a smaller {batch} or {T}",
            n=len(text), batch_v=cfg.batch, T_v=cfg.T)
    model = SequenceModel(cfg.cell, cfg.embed, cfg.hidden, len(vocab), per_step=True,
                          vocab=len(vocab), **mk)
    model.vocab = vocab  # for generate and checkpoints
    chunks = list(data.bptt_stream(train_ids, cfg.batch, cfg.T))

    def sample_text(rng: np.random.Generator, step: int) -> tuple[np.ndarray, np.ndarray]:
        del rng  # chunks come in order, so each row continues where it stopped
        return chunks[step % len(chunks)]

    held = test_ids[: cfg.test_size * 10 + 1]

    def evaluate(m: SequenceModel) -> dict[str, float]:
        with no_grad():
            m.eval()
            logits, _ = m(tensor(held[None, :-1], device=dev))
            m.train()
            ce = F.cross_entropy(logits.reshape(-1, len(vocab)), tensor(held[1:], device=dev))
        return {"test_nats": float(ce.item())}

    return Task(model, sample_text,
                lambda out, y: F.cross_entropy(out.reshape(-1, len(vocab)), y.reshape(-1)),
                evaluate, {"test_nats": data.bigram_nats(train_ids, held, len(vocab))},
                stateful=True)


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) during ``train`` with a checkpoint folder: the step under way was
    finished and saved. ``step`` and ``history`` say where the run stopped, ``signum`` which
    signal stopped it; ``resume=True`` continues."""

    def __init__(self, step: int, history: list[dict[str, float]], path: Path,
                 signum: int = signal.SIGINT) -> None:
        super().__init__(f"stopped after step {step}, saved in {path}")
        self.step, self.history, self.path, self.signum = step, history, path, signum


class _FinishTheStep:
    """While training with a checkpoint: the first Ctrl-C (or SIGTERM, as ``kill``, a job
    scheduler or ``timeout`` send) asks the loop to stop after the step under way (a step cut
    in two would leave half-updated weights to save); a second stops at once. Only for a
    signal whose handler is Python's default one, in the main thread."""

    DEFAULT = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}

    def __enter__(self) -> _FinishTheStep:
        self.requested, self.signum = False, signal.SIGINT
        self.previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for sig, default in self.DEFAULT.items():
                if signal.getsignal(sig) is default:
                    self.previous[sig] = signal.signal(sig, self._ask)
        return self

    def _ask(self, signum: int, frame: Any) -> None:
        self.requested, self.signum = True, signum
        for sig, handler in self.previous.items():  # a second signal, either, stops at once
            signal.signal(sig, handler)
        name = self.NAMES[signum]
        print(f"\n{name}: saving after this step ({name} again stops at once)",
              file=sys.stderr)

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def train(cfg: Config, out_dir: str | Path | None = None, resume: bool = False,
          progress: bool = True, checkpoint_every: int = 500,
          stop_when: Callable[[dict[str, float]], bool] | None = None,
          stop_after: int | None = None) -> list[dict[str, float]]:
    """Train one model on one task; returns the evaluations (one dict per ``eval_every``).

    With ``out_dir``, a checkpoint (``checkpoint.trn``: model, optimizer, step, generators and
    history) is written atomically every ``checkpoint_every`` steps and at the end, and
    ``resume=True`` continues from it exactly. ``stop_when`` ends the run early when an
    evaluation satisfies it; ``stop_after`` stops (as if interrupted) after that many steps.
    With ``out_dir``, Ctrl-C (or SIGTERM) finishes the step under way, saves it and raises
    ``TrainingInterrupted`` (a ``KeyboardInterrupt``); a second one stops at once.
    Every argument is checked, and the task's data made, before ``out_dir`` is created.
    """
    if not (_is_int(checkpoint_every) and checkpoint_every >= 1):
        raise SettingError("{checkpoint_every} must be at least 1, got {got!r}",
                           got=checkpoint_every)
    if stop_after is not None and not (_is_int(stop_after) and stop_after >= 1):
        raise SettingError("{stop_after} must be at least 1 (or None), got {got!r}",
                           got=stop_after)
    ckpt = Path(out_dir) / "checkpoint.trn" if out_dir is not None else None
    if ckpt is not None and ckpt.parent.exists() and not ckpt.parent.is_dir():
        raise SettingError("{out_dir} {path} exists and is not a folder", path=str(out_dir))
    if resume and ckpt is None:
        raise SettingError("{resume} needs {out_dir}: the folder of the checkpoint to continue")
    if resume and not ckpt.exists():  # type: ignore[union-attr]
        raise FileNotFoundError(f"nothing to resume: no checkpoint at {ckpt}")
    task = make_task(cfg)
    model = task.model
    opt = optim.Adam(model.parameters(), lr=cfg.lr)
    batch_rng = np.random.default_rng([cfg.seed, 2])
    history: list[dict[str, float]] = []
    step, state = 0, None
    if ckpt is not None and not resume:
        ckpt.parent.mkdir(parents=True, exist_ok=True)
    if resume:
        step, history, state = _restore(load(ckpt), cfg, model, opt, batch_rng)
    bar = Progress(cfg.steps, f"{cfg.cell} {cfg.task}", progress)
    bar.update(step)
    with _FinishTheStep() if ckpt is not None else contextlib.nullcontext() as ctrl_c:
        while step < cfg.steps:
            xb, yb = task.sample(batch_rng, step)
            x = tensor(xb, device=cfg.device)
            y = tensor(yb, device=cfg.device)
            out, new_state = model(x, state if task.stateful else None)
            loss = task.loss(out, y)
            opt.zero_grad()
            loss.backward()
            if cfg.clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            if task.stateful:
                state = nn.utils.detach_state(new_state)
            step += 1
            if step % cfg.eval_every == 0 or step == cfg.steps:
                row = {"step": step, "loss": float(loss.item()), **task.evaluate(model)}
                history.append(row)
                # labelled with the step they were measured at: the bar shows them until
                # the next evaluation
                bar.update(0, **{"eval @": step}, **{k: v for k, v in row.items()
                                                     if k != "step"})
                if stop_when is not None and stop_when(row):
                    break
            bar.update(1)
            if ckpt is not None and (step % checkpoint_every == 0 or step == cfg.steps):
                save(_checkpoint(cfg, model, opt, step, batch_rng, history, state), ckpt)
            if stop_after is not None and step >= stop_after:
                break
            if ctrl_c is not None and ctrl_c.requested:
                break
    bar.close()
    if ckpt is not None:
        save(_checkpoint(cfg, model, opt, step, batch_rng, history, state), ckpt)
    if ctrl_c is not None and ctrl_c.requested and step < cfg.steps:  # else: it had finished
        raise TrainingInterrupted(step, history, ckpt,  # type: ignore[arg-type]
                                  ctrl_c.signum)
    return history


def _checkpoint(cfg: Config, model: SequenceModel, opt: optim.Optimizer, step: int,
                batch_rng: np.random.Generator, history: list[dict[str, float]],
                state: Any) -> dict[str, Any]:
    states = [] if state is None else list(state) if isinstance(state, tuple) else [state]
    return {
        "format": "tinygrad-rnn run", "config": asdict(cfg), "step": step,
        "model": model.state_dict(), "optimizer": opt.state_dict(),
        "batch_rng": batch_rng.bit_generator.state, "rng": _random.get_rng_state(),
        "history": history, "hidden": [s.numpy() for s in states],
        "vocab": "".join(model.vocab.chars) if hasattr(model, "vocab") else None,
    }


def _restore(ck: Any, cfg: Config, model: SequenceModel, opt: optim.Optimizer,
             batch_rng: np.random.Generator) -> tuple[int, list[dict[str, float]], Any]:
    """Load a checkpoint into a freshly built run; a clear error if it belongs to another."""
    _check_run(ck, "the checkpoint")
    saved = ck["config"]
    # everything but the length of the run and where it runs must match, or it is another run
    changed = [k for k in RESUME_FIXED if saved.get(k) != getattr(cfg, k)]
    if changed:
        raise SettingError(
            "cannot resume: the checkpoint was made with other settings: "
            + "; ".join("{" + k + "}={there_" + k + "!r} there, {here_" + k + "!r} here"
                        for k in changed),
            **{f"there_{k}": saved.get(k) for k in changed},
            **{f"here_{k}": getattr(cfg, k) for k in changed})
    if int(ck["step"]) > cfg.steps:
        raise SettingError("cannot resume: the checkpoint is already at step {at}, past "
                           "{steps} {got}; give {steps} {at} or more", at=int(ck["step"]),
                           got=cfg.steps)
    vocab = getattr(model, "vocab", None)
    if vocab is not None and ck.get("vocab") != "".join(vocab.chars):
        raise ValueError("cannot resume: the text's characters differ from the checkpoint's")
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["optimizer"])
    batch_rng.bit_generator.state = ck["batch_rng"]
    _random.set_rng_state(ck["rng"])
    hidden = [tensor(h, device=cfg.device) for h in ck["hidden"]]
    state = None if not hidden else hidden[0] if len(hidden) == 1 else tuple(hidden)
    step, history = int(ck["step"]), list(ck["history"])
    if history and step < cfg.steps and step % cfg.eval_every and history[-1]["step"] == step:
        history.pop()  # the end-of-run evaluation of a shorter run: the run goes on past it
    return step, history, state


RESUME_FIXED = ("task", "cell", "T", "hidden", "batch", "lr", "clip", "forget_bias", "seed",
                "test_size", "text_path", "embed", "layers", "orthogonal")
RUN_KEYS = ("config", "step", "model", "optimizer", "batch_rng", "rng", "history", "hidden")


def _check_run(ck: Any, where: str) -> None:
    """A clear error unless ``ck`` is a complete training checkpoint."""
    if not isinstance(ck, dict) or ck.get("format") != "tinygrad-rnn run":
        raise ValueError(f"{where} is not a tinygrad-rnn training checkpoint")
    missing = [k for k in RUN_KEYS if k not in ck]
    if missing or not isinstance(ck["config"], dict):
        raise ValueError(f"{where} is incomplete: it lacks {', '.join(missing) or 'a config'}")
    unknown = sorted(set(ck["config"]) - set(Config.__dataclass_fields__))
    if unknown:
        raise ValueError(f"{where} has settings this version does not know: {unknown}")
    if ck["config"].get("task") != "text":  # older versions kept a --text that no task read
        ck["config"] = dict(ck["config"], text_path=None)


def load_run(path: str | Path, device: str = "cpu") -> tuple[Config, SequenceModel]:
    """The config and trained model of a checkpoint (for ``generate``)."""
    ck = load(path)
    _check_run(ck, str(path))
    cfg = Config(**dict(ck["config"], device=device))
    if cfg.task == "text" and ck.get("vocab"):
        vocab = data.Vocab(ck["vocab"])
        _random.manual_seed(cfg.seed)
        model = SequenceModel(cfg.cell, cfg.embed, cfg.hidden, len(vocab), per_step=True,
                              vocab=len(vocab), forget_bias=cfg.forget_bias, layers=cfg.layers,
                              device=device, orthogonal=cfg.orthogonal)
        model.vocab = vocab
    else:
        model = make_task(cfg).model
    model.load_state_dict(ck["model"])
    return cfg, model


def check_sampling(length: int, temperature: float, seed: int) -> None:
    """A clear error (``SettingError``) for settings ``generate`` cannot sample with: a length
    below 0, a temperature that is not a finite number >= 0, a seed below 0."""
    if not (_is_int(length) and length >= 0):
        raise SettingError("{length} must be an integer >= 0, got {got!r}", got=length)
    if not (_is_real(temperature) and math.isfinite(temperature) and temperature >= 0):
        raise SettingError("{temperature} must be a finite number >= 0 (0: always the likeliest "
                           "character), got {got!r}", got=temperature)
    if not (_is_int(seed) and seed >= 0):
        raise SettingError("{seed} must be an integer >= 0, got {got!r}", got=seed)


def generate(model: SequenceModel, length: int = 300, prime: str = "\n",
             temperature: float = 1.0, seed: int = 0) -> str:
    """Sample ``length`` characters from a character model, after feeding it ``prime``: each
    drawn with probabilities softmax(logits / ``temperature``); at temperature 0, the likeliest
    one (greedy decoding, the limit as the temperature goes to 0)."""
    check_sampling(length, temperature, seed)
    if not hasattr(model, "vocab"):
        raise ValueError("generate needs a character model (trained on the text task)")
    unknown = sorted(set(prime or "\n") - set(model.vocab.index))
    if unknown:
        raise SettingError("{prime} has characters the model never saw: {chars!r}",
                           chars="".join(unknown))
    vocab, rng = model.vocab, np.random.default_rng(seed)
    dev = model.head.weight.device
    ids = vocab.encode(prime or "\n")
    out, state = [], None
    with no_grad():
        model.eval()
        logits, state = model(tensor(ids[None, :], device=dev), state)
        for _ in range(length):
            z = logits.numpy()[0, -1].astype(np.float64)
            if temperature == 0:
                nxt = int(np.argmax(z))
            else:
                with np.errstate(over="ignore"):  # a tiny temperature: -inf, p 0, as it should
                    p = np.exp((z - z.max()) / temperature)  # (z / temperature: inf - inf)
                nxt = int(rng.choice(len(p), p=p / p.sum()))
            out.append(nxt)
            logits, state = model(tensor(np.array([[nxt]]), device=dev), state)
    return prime + vocab.decode(np.array(out))


# ---- gradient flow ------------------------------------------------------------------------------


def gradient_norms(layer: nn.RNNBase, x: Tensor, seed: int = 0) -> np.ndarray:
    """‖∂L/∂h_t‖ for every step t = 0 .. T-1 of the first layer of ``layer``, for
    L = <v, h_{T-1}> with a fixed random unit vector v per sequence, averaged over the batch
    (``x`` is (T, B, I)): ``diagnostics.hidden_grad_norms``, as ``tinygrad-rnn gradflow`` uses
    it."""
    return hidden_grad_norms(layer, x, seed=seed)


def decay_factor(norms: np.ndarray) -> float:
    """The per-step factor λ of a fit ‖∂L/∂h_t‖ ≈ C λ^(T-1-t), t = 0 .. T-1 (least squares on
    the log)."""
    T = len(norms)
    dist = T - 1 - np.arange(T)
    ok = norms > 0
    if ok.sum() < 2:
        return 0.0
    slope = np.polyfit(dist[ok], np.log(norms[ok]), 1)[0]
    return float(math.exp(slope))

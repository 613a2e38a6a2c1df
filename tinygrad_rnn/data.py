"""Data for the experiments: synthetic long-range tasks, digits read as sequences, and
character-level text, with seeded batching and streams for truncated backpropagation.

Everything is made on the host with NumPy from a ``numpy.random.Generator`` you pass in, so the
same seed gives the same data on any machine; arrays are (batch, time, features), float32 for
inputs and int64 for class labels.
"""

from __future__ import annotations

import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import numpy as np


def _check_count(name: str, value: object, least: int = 1) -> None:
    """A clear error unless ``value`` is an integer of at least ``least`` (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")


def _check_fraction(name: str, value: object) -> None:
    """A clear error unless ``value`` is a number in [0, 1) (NaN is not)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not (ok and 0 <= value < 1):  # type: ignore[operator]
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")


# ---- the adding problem ---------------------------------------------------------------------


def adding_problem(n: int, T: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter & Schmidhuber 1997), in the two-channel form of Le et al.
    (2015) and Arjovsky et al. (2016).

    Each sequence has T steps of two channels: a value drawn from U(0, 1), and a marker that is 1
    at exactly two steps, one in the first half and one in the second half, and 0 elsewhere. The
    target is the sum of the two marked values. Always predicting 1 (the mean) gives an MSE of
    1/6 (the variance of a sum of two U(0, 1)), so a model must beat 1/6 to have learned
    anything, and must carry a value across up to T steps to solve it.

    Returns x (n, T, 2) and y (n,), float32.
    """
    _check_count("n", n, 0)
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 2:
        raise ValueError(f"the adding problem needs an integer T >= 2, got {T!r}")
    values = rng.random((n, T))
    marker = np.zeros((n, T))
    half = T // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, T, n)
    rows = np.arange(n)
    marker[rows, first] = 1.0
    marker[rows, second] = 1.0
    x = np.stack([values, marker], axis=-1).astype(np.float32)
    y = (values[rows, first] + values[rows, second]).astype(np.float32)
    return x, y


ADDING_BASELINE_MSE = 1 / 6


# ---- the copying-memory task ----------------------------------------------------------------


def copy_task(n: int, delay: int, rng: np.random.Generator, length: int = 10,
              n_symbols: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The copying-memory task (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016).

    A sequence of ``length`` symbols from 1..n_symbols, then ``delay`` blanks (0), of which the
    last is replaced by a delimiter (n_symbols + 1), then ``length`` more blanks; the target is
    blank everywhere except the last ``length`` steps, which must repeat the symbols. Tokens are
    class indices (int64), shape (n, delay + 2 * length) for both x and y. A model that outputs
    blanks and then guesses uniformly scores ``copy_baseline(delay, length, n_symbols)``.
    """
    _check_count("n", n, 0)
    _check_count("delay", delay)
    _check_count("length", length)
    _check_count("n_symbols", n_symbols)
    T = delay + 2 * length
    symbols = rng.integers(1, n_symbols + 1, (n, length))
    x = np.zeros((n, T), dtype=np.int64)
    y = np.zeros((n, T), dtype=np.int64)
    x[:, :length] = symbols
    x[:, length + delay - 1] = n_symbols + 1
    y[:, -length:] = symbols
    return x, y


def copy_baseline(delay: int, length: int = 10, n_symbols: int = 8) -> float:
    """Cross-entropy per step of the memoryless strategy: blanks, then uniform guesses."""
    return length * np.log(n_symbols) / (delay + 2 * length)


# ---- digits read as sequences -----------------------------------------------------------------


def digits(by: str, rng: np.random.Generator, test_fraction: float = 0.2
           ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """scikit-learn's bundled 8x8 digits (1,797 images, offline), read as sequences.

    ``by="pixel"``: 64 steps of one pixel; ``by="row"``: 8 steps of one 8-pixel row. Values are
    scaled to [0, 1]. Returns ((x_train, y_train), (x_test, y_test)), a seeded split;
    ``test_fraction`` is in [0, 1) (0: no test set).
    """
    _check_fraction("test_fraction", test_fraction)
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise RuntimeError(
            "the digits task needs scikit-learn: pip install 'tinygrad-rnn[experiments]'"
        ) from e
    if by not in ("pixel", "row"):
        raise ValueError(f"digits: read by 'pixel' or 'row', got {by!r}")
    d = load_digits()
    images = (d.images / 16.0).astype(np.float32)
    x = images.reshape(len(images), 64, 1) if by == "pixel" else images
    order = rng.permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    if n_test == len(x):
        raise ValueError(f"test_fraction {test_fraction} of {len(x)} digits leaves none to "
                         "train on")
    test, train = order[:n_test], order[n_test:]
    y = d.target.astype(np.int64)
    return (x[train], y[train]), (x[test], y[test])


# ---- character-level text ---------------------------------------------------------------------


def default_corpus(max_chars: int = 2_000_000) -> str:
    """A text that every machine with Python has: the standard library's own source code.

    Modules are read in sorted order until ``max_chars`` characters, so the corpus is the same
    for a given Python version.
    """
    _check_count("max_chars", max_chars)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    parts, total = [], 0
    for path in sorted(stdlib.glob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        parts.append(text)
        total += len(text)
        if total >= max_chars:
            break
    if not parts:
        raise RuntimeError(f"no Python sources found in {stdlib} ({sys.version.split()[0]})")
    return "".join(parts)[:max_chars]


def read_text(path: str | Path) -> str:
    """A UTF-8 text file, with clear errors for a missing, unreadable or empty one."""
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"{p} is a folder, not a text file")
    if not p.is_file():
        raise FileNotFoundError(f"text file not found: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{p} is not UTF-8 text: {e}") from None
    except OSError as e:
        raise ValueError(f"cannot read {p}: {e}") from None
    if len(text) < 2:
        raise ValueError(f"{p} is empty: a character model needs some text")
    return text


class Vocab:
    """The characters of a text, each mapped to an integer id (sorted, so it is reproducible)."""

    def __init__(self, text: str) -> None:
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {''.join(unknown)!r}")
        return np.fromiter((self.index[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids: np.ndarray) -> str:
        """The text of a 1-D sequence of ids, each in 0 .. len(self) - 1."""
        a = np.asarray(ids)
        if a.ndim == 1 and a.size == 0:
            return ""  # np.asarray([]) is float64: nothing to check
        if a.ndim != 1 or a.dtype.kind not in "iu":
            raise ValueError(f"decode takes a 1-D array of integer ids, got {a.dtype} of shape "
                             f"{a.shape}")
        bad = a[(a < 0) | (a >= len(self))]
        if bad.size:
            raise ValueError(f"ids out of range for a vocabulary of {len(self)} characters "
                             f"(0 to {len(self) - 1}): {bad[:5].tolist()}")
        return "".join(self.chars[i] for i in a.tolist())


def split_text(ids: np.ndarray, test_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """The first part for training, the rest (``test_fraction``, in [0, 1)) for held-out
    evaluation."""
    _check_fraction("test_fraction", test_fraction)
    cut = int(len(ids) * (1 - test_fraction))
    if cut == 0:
        raise ValueError(f"split_text: {len(ids)} ids with test_fraction {test_fraction} leave "
                         "none to train on")
    return ids[:cut], ids[cut:]


def bptt_stream(ids: np.ndarray, batch_size: int, seq_len: int
                ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Chunks for truncated backpropagation through time.

    The text is cut into ``batch_size`` contiguous streams, one per batch row, and walked
    ``seq_len`` characters at a time: row b of chunk k continues row b of chunk k - 1, so a
    model can carry its hidden state from one chunk to the next (detached). Yields
    (inputs, targets), each (batch_size, seq_len) int64, targets shifted by one character.
    Bad arguments, or a text too short for one chunk, raise here, not at the first chunk.
    """
    _check_count("batch_size", batch_size)
    _check_count("seq_len", seq_len)
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"bptt_stream takes a 1-D array of ids, got shape {ids.shape}")
    n = (len(ids) - 1) // batch_size
    if n < seq_len:
        raise ValueError(f"text too short: {len(ids)} characters; one chunk of {batch_size} "
                         f"streams x {seq_len} steps needs at least {batch_size * seq_len + 1}")
    streams = ids[: n * batch_size + 1]
    x = np.stack([streams[b * n: (b + 1) * n] for b in range(batch_size)])
    y = np.stack([streams[b * n + 1: (b + 1) * n + 1] for b in range(batch_size)])
    return ((x[:, s:s + seq_len], y[:, s:s + seq_len]) for s in range(0, n - seq_len + 1, seq_len))


def bigram_nats(train: np.ndarray, test: np.ndarray, vocab_size: int, alpha: float = 0.1
                ) -> float:
    """Held-out cross-entropy (nats per character) of an add-alpha smoothed bigram model: the
    baseline a character model must beat. Ids are in 0 .. vocab_size - 1; ``alpha`` > 0."""
    _check_count("vocab_size", vocab_size)
    if not (isinstance(alpha, (int, float, np.integer, np.floating)) and np.isfinite(alpha)
            and alpha > 0):
        raise ValueError(f"alpha must be a positive number, got {alpha!r}")
    train, test = np.asarray(train), np.asarray(test)
    if len(test) < 2:
        raise ValueError(f"bigram_nats needs at least 2 test ids (one bigram), got {len(test)}")
    for name, a in (("train", train), ("test", test)):
        if a.size and (a.min() < 0 or a.max() >= vocab_size):
            raise ValueError(f"{name} ids must be in 0 .. {vocab_size - 1} (vocab_size "
                             f"{vocab_size}), got {a.min()} .. {a.max()}")
    counts = np.full((vocab_size, vocab_size), alpha)
    np.add.at(counts, (train[:-1], train[1:]), 1.0)
    logp = np.log(counts / counts.sum(axis=1, keepdims=True))
    return float(-logp[test[:-1], test[1:]].mean())


# ---- batching ---------------------------------------------------------------------------------


def batches(x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator,
            shuffle: bool = True) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of (x, y) minibatches; a seeded shuffle unless ``shuffle=False``. ``x`` and
    ``y`` must have as many samples; bad arguments raise here, not partway through the epoch."""
    _check_count("batch_size", batch_size)
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        raise ValueError(f"batches takes arrays of samples, got shapes {np.shape(x)} and "
                         f"{np.shape(y)}")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}: shapes {np.shape(x)} "
                         f"and {np.shape(y)}")
    return _epoch(x, y, batch_size, rng, shuffle)


def _epoch(x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator,
           shuffle: bool) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
    for start in range(0, len(x), batch_size):
        idx = order[start:start + batch_size]
        yield x[idx], y[idx]

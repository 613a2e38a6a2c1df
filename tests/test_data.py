"""The experiment data: shapes, the properties each task promises, seeding, and TBPTT streams."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_rnn import data


@given(n=st.integers(1, 20), T=st.integers(2, 30), seed=st.integers(0, 100))
def test_adding_problem_has_two_markers_one_per_half_and_sums_them(n, T, seed):
    x, y = data.adding_problem(n, T, np.random.default_rng(seed))
    assert x.shape == (n, T, 2) and y.shape == (n,) and x.dtype == np.float32
    marks = x[:, :, 1]
    assert np.all(marks.sum(1) == 2)
    assert np.all(marks[:, : T // 2].sum(1) == 1) and np.all(marks[:, T // 2:].sum(1) == 1)
    np.testing.assert_allclose(y, (x[:, :, 0] * marks).sum(1), rtol=1e-6)


def test_adding_baseline_is_one_sixth():
    _, y = data.adding_problem(200_000, 10, np.random.default_rng(0))
    assert abs(np.mean((y - 1) ** 2) - data.ADDING_BASELINE_MSE) < 2e-3
    with pytest.raises(ValueError, match="T >= 2"):
        data.adding_problem(1, 1, np.random.default_rng(0))


def test_data_is_reproducible_from_the_seed():
    a = data.adding_problem(5, 10, np.random.default_rng(3))
    b = data.adding_problem(5, 10, np.random.default_rng(3))
    assert all(np.array_equal(u, v) for u, v in zip(a, b))


@given(n=st.integers(1, 5), delay=st.integers(1, 20), length=st.integers(1, 5))
def test_copy_task_asks_to_repeat_the_symbols_after_the_delimiter(n, delay, length):
    x, y = data.copy_task(n, delay, np.random.default_rng(0), length=length)
    T = delay + 2 * length
    assert x.shape == y.shape == (n, T)
    np.testing.assert_array_equal(y[:, -length:], x[:, :length])
    assert np.all(x[:, length + delay - 1] == 9) and np.all(y[:, :-length] == 0)
    assert np.all((x[:, :length] >= 1) & (x[:, :length] <= 8))


def test_digits_by_pixel_and_by_row():
    (xtr, ytr), (xte, yte) = data.digits("pixel", np.random.default_rng(0))
    assert xtr.shape[1:] == (64, 1) and len(xtr) + len(xte) == 1797
    assert 0 <= xtr.min() and xtr.max() <= 1 and set(np.unique(ytr)) == set(range(10))
    (rtr, _), _ = data.digits("row", np.random.default_rng(0))
    assert rtr.shape[1:] == (8, 8)
    with pytest.raises(ValueError, match="pixel"):
        data.digits("column", np.random.default_rng(0))


def test_default_corpus_is_the_standard_library_and_the_vocab_round_trips():
    text = data.default_corpus(max_chars=50_000)
    assert len(text) == 50_000 and "def " in text
    v = data.Vocab(text)
    ids = v.encode(text[:1000])
    assert v.decode(ids) == text[:1000]
    with pytest.raises(ValueError, match="not in the vocabulary"):
        data.Vocab("abc").encode("abd")


def test_read_text_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        data.read_text(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(ValueError, match="empty"):
        data.read_text(tmp_path / "empty.txt")
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ValueError, match="UTF-8"):
        data.read_text(tmp_path / "bin.txt")


def test_bptt_stream_rows_continue_across_chunks():
    ids = np.arange(101)
    chunks = list(data.bptt_stream(ids, batch_size=4, seq_len=5))
    assert len(chunks) == 5
    (x0, y0), (x1, _) = chunks[0], chunks[1]
    np.testing.assert_array_equal(y0, x0 + 1)  # targets: the next character
    np.testing.assert_array_equal(x1[:, 0], x0[:, -1] + 1)  # each row goes on where it stopped
    with pytest.raises(ValueError, match="too short"):
        list(data.bptt_stream(np.arange(10), batch_size=4, seq_len=5))


def test_bigram_baseline_beats_uniform_on_text():
    ids = data.Vocab("abab" * 100).encode("abab" * 100)
    nats = data.bigram_nats(ids[:300], ids[300:], 2)
    assert nats < 0.1 < np.log(2)


def test_batches_cover_the_data_once_per_epoch():
    x, y = np.arange(10), np.arange(10) * 2
    seen = np.concatenate([bx for bx, _ in data.batches(x, y, 3, np.random.default_rng(0))])
    assert sorted(seen.tolist()) == list(range(10))

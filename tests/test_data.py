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
    with pytest.raises(IsADirectoryError, match="is a folder, not a text file"):
        data.read_text(tmp_path)
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


# ---- bad arguments: a clear error, raised at the call, naming the argument -----------------


def test_batches_refuses_x_and_y_of_different_lengths_up_front():
    rng = np.random.default_rng(0)
    for y in (np.arange(12), np.arange(7)):  # a longer y was cut, a shorter one failed midway
        with pytest.raises(ValueError, match=f"x has 10 samples but y has {len(y)}"):
            data.batches(np.arange(10), y, 3, rng)  # no iteration needed


@pytest.mark.parametrize("size", [0, -2, 2.5, True])
def test_batches_refuses_a_batch_size_that_is_not_a_positive_integer(size):
    with pytest.raises(ValueError, match=f"batch_size must be an integer >= 1, got {size!r}"):
        data.batches(np.arange(10), np.arange(10), size, np.random.default_rng(0))


def test_batches_draws_its_shuffle_when_iterated():
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    epoch = data.batches(np.arange(10), np.arange(10), 4, rng_a)
    rng_a.random()  # a draw between the call and the first batch, as before
    rng_b.random()
    first = next(epoch)[0]
    np.testing.assert_array_equal(first, rng_b.permutation(10)[:4])


@pytest.mark.parametrize("kw,message", [
    (dict(batch_size=0, seq_len=5), "batch_size must be an integer >= 1, got 0"),
    (dict(batch_size=4, seq_len=0), "seq_len must be an integer >= 1, got 0"),
    (dict(batch_size=4, seq_len=-3), "seq_len must be an integer >= 1, got -3"),
])
def test_bptt_stream_refuses_bad_sizes_at_the_call(kw, message):
    with pytest.raises(ValueError, match=message):
        data.bptt_stream(np.arange(101), **kw)


def test_bptt_stream_refuses_a_text_too_short_for_one_chunk_at_the_call():
    with pytest.raises(ValueError, match=r"too short: 20 .* 4 streams x 5 steps needs at least 21"):
        data.bptt_stream(np.arange(20), batch_size=4, seq_len=5)
    assert len(list(data.bptt_stream(np.arange(21), batch_size=4, seq_len=5))) == 1
    with pytest.raises(ValueError, match="1-D array of ids, got shape"):
        data.bptt_stream(np.arange(100).reshape(10, 10), batch_size=2, seq_len=2)


@pytest.mark.parametrize("fraction", [2.0, 1.0, 1.5, -0.1, float("nan"), "0.1"])
def test_split_text_and_digits_refuse_a_fraction_outside_0_1(fraction):
    with pytest.raises(ValueError, match="test_fraction must be a number in"):
        data.split_text(np.arange(100), fraction)
    with pytest.raises(ValueError, match="test_fraction must be a number in"):
        data.digits("row", np.random.default_rng(0), test_fraction=fraction)


def test_split_text_and_digits_refuse_an_empty_training_part():
    with pytest.raises(ValueError, match="none to train on"):
        data.split_text(np.arange(1), 0.5)
    with pytest.raises(ValueError, match="none to train on"):
        data.digits("row", np.random.default_rng(0), test_fraction=0.9999)
    train, test = data.split_text(np.arange(10), 0.0)  # 0: all for training
    assert len(train) == 10 and len(test) == 0


def test_vocab_decode_refuses_ids_out_of_range_or_not_integers():
    v = data.Vocab("abc")
    assert v.decode(np.array([2, 0])) == "ca" and v.decode([]) == ""
    for ids in ([-1], [3], [0, 7, -2]):
        with pytest.raises(ValueError, match=r"out of range for a vocabulary of 3 .*0 to 2"):
            v.decode(np.array(ids))
    with pytest.raises(ValueError, match="integer ids, got float64"):
        v.decode(np.array([1.7]))
    with pytest.raises(ValueError, match=r"shape \(1, 1\)"):
        v.decode(np.array([[1]]))


@pytest.mark.parametrize("call,message", [
    (lambda r: data.adding_problem(-1, 5, r), "n must be an integer >= 0, got -1"),
    (lambda r: data.adding_problem(2, 2.5, r), "integer T >= 2, got 2.5"),
    (lambda r: data.copy_task(2, 3, r, n_symbols=0), "n_symbols must be an integer >= 1"),
    (lambda r: data.copy_task(2, 0, r), "delay must be an integer >= 1, got 0"),
    (lambda r: data.default_corpus(-5), "max_chars must be an integer >= 1, got -5"),
    (lambda r: data.bigram_nats(np.arange(3), np.arange(3), 3, alpha=0), "alpha must be"),
    (lambda r: data.bigram_nats(np.arange(3), np.arange(1), 3), "at least 2 test ids"),
    (lambda r: data.bigram_nats(np.arange(5), np.arange(3), 3), r"train ids must be in 0 \.\. 2"),
])
def test_data_helpers_refuse_bad_arguments_clearly(call, message):
    with pytest.raises(ValueError, match=message):
        call(np.random.default_rng(0))

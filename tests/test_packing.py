"""Packed sequences (``nn.utils.rnn``): packing, unpacking and their helpers against
PyTorch's (values, batch sizes, indices, gradients; float64), gradients against central
differences on every device, and clear errors for what PyTorch would refuse or misread.
The recurrent layers on packed input: tests/test_rnn.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import nn
from tinygrad_rnn.nn.utils.rnn import (
    PackedSequence,
    invert_permutation,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    unpack_sequence,
    unpad_sequence,
)
from tinygrad_rnn.testing import gradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES


@st.composite
def padded_batches(draw):
    """(lengths, T, trailing shape, batch_first, enforce_sorted): 1 to 5 sequences, T at
    least the longest, equal lengths likely (their order is PyTorch's too)."""
    lengths = draw(st.lists(st.integers(1, 4), min_size=1, max_size=5))
    sort = draw(st.booleans())
    if sort:
        lengths = sorted(lengths, reverse=True)
    T = max(lengths) + draw(st.integers(0, 2))
    return lengths, T, draw(tst.shapes(min_dims=0, max_dims=2, max_side=3)), \
        draw(st.booleans()), sort


def _same_indices(ours, theirs):
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert ours.dtype == np.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.torch
@given(batch=padded_batches(), data=st.data())
def test_pack_and_pad_match_torch(batch, data):
    """pack_padded_sequence, then pad_packed_sequence (with total_length and padding_value):
    every field and both gradients, as torch's."""
    torch = pytest.importorskip("torch")
    lengths, T, rest, batch_first, sort = batch
    B = len(lengths)
    x = data.draw(tst.arrays((B, T, *rest) if batch_first else (T, B, *rest)))
    ours_x = tr.tensor(x, requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    ours = pack_padded_sequence(ours_x, lengths, batch_first=batch_first, enforce_sorted=sort)
    theirs = torch.nn.utils.rnn.pack_padded_sequence(theirs_x, torch.tensor(lengths),
                                                     batch_first=batch_first,
                                                     enforce_sorted=sort)
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.detach().numpy())
    assert ours.batch_sizes.dtype == np.int64 and ours.batch_sizes.device == "cpu"
    np.testing.assert_array_equal(ours.batch_sizes.numpy(), theirs.batch_sizes.numpy())
    _same_indices(ours.sorted_indices, theirs.sorted_indices)
    _same_indices(ours.unsorted_indices, theirs.unsorted_indices)

    total = data.draw(st.sampled_from([None, T + 1]))
    value = data.draw(st.sampled_from([0.0, -2.5]))
    out_first = data.draw(st.booleans())
    padded, lens = pad_packed_sequence(ours, batch_first=out_first, padding_value=value,
                                       total_length=total)
    t_padded, t_lens = torch.nn.utils.rnn.pad_packed_sequence(
        theirs, batch_first=out_first, padding_value=value, total_length=total)
    np.testing.assert_array_equal(padded.numpy(), t_padded.detach().numpy())
    assert lens.dtype == np.int64 and lens.device == "cpu"
    np.testing.assert_array_equal(lens.numpy(), t_lens.numpy())

    g_data = data.draw(tst.arrays(tuple(theirs.data.shape)))
    g_padded = data.draw(tst.arrays(tuple(t_padded.shape)))
    ((ours.data * tr.tensor(g_data)).sum() + (padded * tr.tensor(g_padded)).sum()).backward()
    ((theirs.data * torch.tensor(g_data)).sum()
     + (t_padded * torch.tensor(g_padded)).sum()).backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.torch
@given(batch=padded_batches(), data=st.data())
def test_sequence_helpers_match_torch(batch, data):
    """pack_sequence, unpack_sequence, unpad_sequence, invert_permutation."""
    torch = pytest.importorskip("torch")
    lengths, _, rest, batch_first, sort = batch
    arrays = [data.draw(tst.arrays((n, *rest))) for n in lengths]
    ours = pack_sequence([tr.tensor(a) for a in arrays], enforce_sorted=sort)
    theirs = torch.nn.utils.rnn.pack_sequence([torch.tensor(a) for a in arrays],
                                              enforce_sorted=sort)
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    np.testing.assert_array_equal(ours.batch_sizes.numpy(), theirs.batch_sizes.numpy())
    _same_indices(ours.sorted_indices, theirs.sorted_indices)
    for a, b in zip(unpack_sequence(ours), torch.nn.utils.rnn.unpack_sequence(theirs),
                    strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    padded = tr.nn.utils.rnn.pad_sequence([tr.tensor(a) for a in arrays], batch_first)
    for a, b in zip(unpad_sequence(padded, lengths, batch_first),
                    torch.nn.utils.rnn.unpad_sequence(torch.tensor(padded.numpy()),
                                                      torch.tensor(lengths), batch_first),
                    strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    if ours.sorted_indices is not None:
        _same_indices(invert_permutation(ours.sorted_indices),
                      torch.nn.utils.rnn.invert_permutation(theirs.sorted_indices))
    assert invert_permutation(None) is None


@pytest.mark.parametrize("device", DEVICES)
def test_pack_and_pad_gradcheck_on_every_device(device):
    rng = np.random.default_rng(0)
    x = tr.tensor(rng.standard_normal((4, 3, 2)), device=device, requires_grad=True)
    lengths = [2, 4, 1]

    def round_trip(x):
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        padded, _ = pad_packed_sequence(packed, padding_value=0.5, total_length=5)
        return packed.data.sum(axis=1) * 2.0, padded

    assert gradcheck(lambda x: round_trip(x)[0], (x,))
    assert gradcheck(lambda x: round_trip(x)[1], (x,))
    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
    assert packed.data.device == device and packed.sorted_indices.device == device
    assert packed.batch_sizes.device == "cpu"  # as PyTorch's


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("impl", ["fused", "composed"])
def test_layer_on_packed_input_equals_lengths_on_every_device(device, impl):
    """The layers run a packed batch as the padded batch with its lengths: the same numbers
    (batch_first, which does not apply to packed data, changes nothing)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 3, 2))
    lengths = [3, 5, 1]
    lstm = nn.LSTM(2, 4, num_layers=2, bidirectional=True, batch_first=True, dtype="float64",
                   device=device, impl=impl)
    out, (h, c) = lstm(pack_padded_sequence(tr.tensor(x, device=device), lengths,
                                            enforce_sorted=False))
    padded, lens = pad_packed_sequence(out)
    np.testing.assert_array_equal(lens.numpy(), lengths)
    lstm.batch_first = False
    ref, (h_ref, c_ref) = lstm(tr.tensor(x, device=device), lengths=lengths)
    np.testing.assert_allclose(padded.numpy(), ref.numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(h.numpy(), h_ref.numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(c.numpy(), c_ref.numpy(), rtol=1e-13, atol=1e-15)
    assert out.data.device == device


def test_packed_sequence_is_a_named_tuple_that_moves_and_converts():
    x = tr.tensor(np.arange(12.0).reshape(3, 2, 2))
    packed = pack_padded_sequence(x, [2, 3], enforce_sorted=False)
    data, batch_sizes, sorted_indices, unsorted_indices = packed  # a namedtuple, as torch's
    assert packed._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    assert packed.data is data and not packed.is_cuda
    as_f32 = packed.float()
    assert as_f32.data.dtype == np.float32 and as_f32.batch_sizes is batch_sizes
    np.testing.assert_array_equal(as_f32.sorted_indices.numpy(), sorted_indices.numpy())
    assert packed.double() is packed and packed.cpu() is packed
    on_strict = packed.to("strict")
    assert on_strict.data.device == "strict" and on_strict.unsorted_indices.device == "strict"
    assert on_strict.batch_sizes.device == "cpu"
    plain = PackedSequence(data, batch_sizes)
    assert plain.sorted_indices is None and plain.unsorted_indices is None
    # given sorted_indices alone, unsorted_indices is their inverse, as torch's
    filled = PackedSequence(data, batch_sizes, sorted_indices)
    np.testing.assert_array_equal(filled.unsorted_indices.numpy(), unsorted_indices.numpy())


def test_bad_input_is_a_clear_error():
    x = tr.tensor(np.zeros((4, 3, 2)))
    with pytest.raises(ValueError, match=r"decrease along the batch .*\[1, 3, 2\].*"
                                         "enforce_sorted=False"):
        pack_padded_sequence(x, [1, 3, 2])
    with pytest.raises(ValueError, match=r"lie in \[1, 4\].*\[5, 3, 2\]"):
        pack_padded_sequence(x, [5, 3, 2])
    with pytest.raises(ValueError, match=r"lie in \[1, 4\].*\[3, 0, 2\]"):
        pack_padded_sequence(x, [3, 0, 2], enforce_sorted=False)
    with pytest.raises(ValueError, match=r"expected shape \(3,\), got \(2,\)"):
        pack_padded_sequence(x, [3, 2])
    with pytest.raises(TypeError, match="lengths must be integers, got dtype float64"):
        pack_padded_sequence(x, [3.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="needs a time and a batch axis"):
        pack_padded_sequence(tr.tensor([1.0, 2.0]), [1])
    with pytest.raises(TypeError, match="input must be a Tensor, got list"):
        pack_padded_sequence([[1.0]], [1])
    packed = pack_padded_sequence(x, [3, 2, 1])
    with pytest.raises(ValueError, match=r"total_length=2 is less than the longest sequence "
                                         r"\(3 steps\)"):
        pad_packed_sequence(packed, total_length=2)
    with pytest.raises(TypeError, match="expected a PackedSequence, got Tensor"):
        pad_packed_sequence(x)
    broken = PackedSequence(packed.data[:-1], packed.batch_sizes)
    with pytest.raises(ValueError, match="data has 5 rows but batch_sizes add up to 6"):
        pad_packed_sequence(broken)
    with pytest.raises(ValueError, match="batch_sizes must be a non-increasing list"):
        pad_packed_sequence(PackedSequence(packed.data, tr.tensor([1, 2, 3])))
    with pytest.raises(ValueError, match="sorted_indices must be a permutation"):
        pad_packed_sequence(packed._replace(sorted_indices=tr.tensor([0, 0, 1])))
    gru = nn.GRU(2, 3, dtype="float64")
    with pytest.raises(ValueError, match="a PackedSequence carries its own lengths"):
        gru(packed, lengths=[3, 2, 1])
    with pytest.raises(ValueError, match="input has 2 features .* but input_size is 3"):
        nn.GRU(3, 3, dtype="float64")(packed)
    flat = pack_sequence([tr.tensor([1.0, 2.0, 3.0])])  # data of shape (3,): no feature axis
    with pytest.raises(ValueError, match=r"packed input's data must be 2-D \(steps, 1\), got "
                                         r"shape \(3,\)"):
        nn.GRU(1, 2, dtype="float64")(flat)
    with pytest.raises(TypeError, match=r"total_length"):
        pad_packed_sequence(packed, total_length=5.7)
    with pytest.raises(ValueError, match="padding_value=1e.40 does not fit in float32"):
        pad_packed_sequence(packed.float(), padding_value=1e40)


@pytest.mark.torch
def test_pytorchs_own_objects_are_named_in_the_errors():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.utils.rnn.pack_sequence([torch.zeros(2, 1), torch.zeros(1, 1)])
    with pytest.raises(TypeError, match=r"got torch\.nn\.utils\.rnn\.PackedSequence "
                                        r"\(PyTorch's"):
        nn.LSTM(1, 2)(theirs)
    with pytest.raises(TypeError, match=r"expected a PackedSequence, got torch\..*PyTorch's"):
        pad_packed_sequence(theirs)
    with pytest.raises(TypeError, match=r"input must be a Tensor, got torch\.Tensor "
                                        r"\(PyTorch's"):
        pack_padded_sequence(torch.zeros(3, 2, 1), [3, 2])


@pytest.mark.torch
def test_unpad_sequence_takes_empty_sequences_as_torch():
    torch = pytest.importorskip("torch")
    x = np.arange(12.0).reshape(4, 3)
    ours = unpad_sequence(tr.tensor(x), [4, 0, 1])
    theirs = torch.nn.utils.rnn.unpad_sequence(torch.tensor(x), torch.tensor([4, 0, 1]))
    assert [a.shape for a in ours] == [tuple(b.shape) for b in theirs] == [(4,), (0,), (1,)]
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())

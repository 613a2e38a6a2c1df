"""Movement ops: reshape, transpose, broadcast, squeeze/unsqueeze, indexing (basic, integer
arrays, boolean masks, with scatter-add gradients), cat, stack, split."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES


def _check(fn, ref, a, device, second=True):
    x = tr.tensor(a, device=device, requires_grad=True)
    out = fn(x)
    np.testing.assert_array_equal(out.numpy(), ref(a))
    assert gradcheck(fn, [x])
    if second:
        assert gradgradcheck(fn, [x])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_reshape_and_flatten(device, data):
    a = data.draw(tst.arrays())
    _check(lambda x: x.reshape(-1), lambda v: v.reshape(-1), a, device)
    _check(lambda x: x.reshape(a.shape[::-1]), lambda v: v.reshape(a.shape[::-1]), a, device)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_transpose_permute_and_T(device, data):
    a = data.draw(tst.arrays(tst.shapes(min_dims=1)))
    perm = tuple(data.draw(st.permutations(range(a.ndim))))
    _check(lambda x: x.transpose(perm), lambda v: v.transpose(perm), a, device)
    _check(lambda x: x.permute(*perm), lambda v: v.transpose(perm), a, device)
    _check(lambda x: x.T, lambda v: v.T, a, device)


@pytest.mark.parametrize("device", DEVICES)
@given(shapes=tst.broadcastable_shapes(2), data=st.data())
def test_broadcast_to_sums_gradient_back(device, shapes, data):
    target = np.broadcast_shapes(*shapes)
    a = data.draw(tst.arrays(shapes[0]))
    _check(lambda x: x.broadcast_to(target), lambda v: np.broadcast_to(v, target), a, device)


def test_expand_keeps_sizes_given_as_minus_one():
    x = tr.ones(3, 1)
    assert x.expand(2, -1, 4).shape == (2, 3, 4)


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_squeeze_unsqueeze(device, data):
    a = data.draw(tst.arrays(tst.shapes(min_side=1, max_side=2)))
    ax = data.draw(st.integers(-a.ndim - 1, a.ndim))
    _check(lambda x: x.unsqueeze(ax), lambda v: np.expand_dims(v, ax), a, device)
    _check(lambda x: x.squeeze(), lambda v: np.squeeze(v), a, device)


def test_squeeze_of_an_axis_that_is_not_one_leaves_it_as_pytorch():
    assert tr.ones(2, 1, 3).squeeze(0).shape == (2, 1, 3)
    assert tr.ones(2, 1, 3).squeeze(1).shape == (2, 3)
    with pytest.raises(ValueError, match="unsqueeze"):
        tr.ones(2).unsqueeze(3)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", ["basic", "int_array", "bool_mask"])
@given(data=st.data())
def test_indexing_values_and_scatter_add_gradient(device, kind, data):
    a = data.draw(tst.arrays(tst.shapes(min_dims=1)))
    index = data.draw(tst.indices(a.shape, kind))
    _check(lambda x: x[index], lambda v: v[index], a, device)


def test_integer_index_repeats_add_their_gradients():
    x = tr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_index_with_tensors_and_mixed_parts():
    a = np.arange(24.0).reshape(2, 3, 4)
    x = tr.tensor(a, requires_grad=True)
    idx = tr.tensor([2, 0])
    mask = tr.tensor([True, False, True, True])
    np.testing.assert_array_equal(x[:, idx].numpy(), a[:, [2, 0]])
    # the int first, as in PyTorch (NumPy would put the picked axis first: a[1, :, mask].T)
    np.testing.assert_array_equal(x[1, :, mask].numpy(), a[1][:, [True, False, True, True]])
    np.testing.assert_array_equal(x[..., 1:3].numpy(), a[..., 1:3])
    assert gradcheck(lambda t: t[1, :, mask] * t[0, :, mask], [x])


@pytest.mark.parametrize("device", DEVICES)
def test_out_of_range_index_is_a_clear_error(device):
    """On every device: CuPy itself wraps an out-of-range array index around (x[[5]] of 3
    elements would be x[2]), so off NumPy the engine checks, and names the axis of x."""
    with pytest.raises(ValueError, match=r"does not fit shape \(3,\)"):
        tr.ones(3, device=device)[[5]]
    x = tr.zeros(2, 3, 4, device=device)
    for index, axis, size in (([0, -3], 0, 2), ((0, [0, 3]), 1, 3), ((1, None, ..., [-5]), 2, 4),
                              ((True, 0, slice(None), [1, 9]), 2, 4), (([1], [0], [4]), 2, 4),
                              (np.array([[True, False, True, False]] * 2), None, None)):
        message = (rf"out of bounds for axis {axis} with size {size}" if axis is not None
                   else "boolean mask of shape")
        with pytest.raises(ValueError, match=message):
            x[index]
        with pytest.raises(ValueError, match=message):
            x[index] = 1.0
    for index in (tr.tensor(7, device=device), ((0, 9),), (np.int64(2),)):  # 0-d, a tuple
        with pytest.raises(ValueError, match="out of bounds for axis 0 with size 2"):
            x[index]
    assert not x.numpy().any()  # nothing written
    x[(0, [0, 2], slice(1, None))] = 1.0  # in range: written as torch writes it
    assert x.numpy()[0, [0, 2], 1:].all() and x.numpy().sum() == 6


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_cat_stack_split(device, data):
    shape = data.draw(tst.shapes(min_dims=1))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = data.draw(st.integers(1, 3))
    arrays = []
    for _ in range(n):
        s = list(shape)
        s[axis] = data.draw(st.integers(1, 3))
        arrays.append(data.draw(tst.arrays(tuple(s))))
    xs = [tr.tensor(a, device=device, requires_grad=True) for a in arrays]
    np.testing.assert_array_equal(tr.cat(xs, axis).numpy(), np.concatenate(arrays, axis))
    assert gradcheck(lambda *ts: tr.cat(ts, axis), xs)
    assert gradgradcheck(lambda *ts: tr.cat(ts, axis) * tr.cat(ts, axis), xs)

    same = [tr.tensor(data.draw(tst.arrays(shape)), device=device, requires_grad=True)
            for _ in range(n)]
    sax = data.draw(st.integers(-len(shape) - 1, len(shape)))
    np.testing.assert_array_equal(tr.stack(same, sax).numpy(),
                                  np.stack([t.numpy() for t in same], sax))
    assert gradcheck(lambda *ts: tr.stack(ts, sax), same)
    assert gradgradcheck(lambda *ts: tr.stack(ts, sax) * tr.stack(ts, sax), same)

    whole = tr.cat(xs, axis)
    sizes = [a.shape[axis] for a in arrays]
    parts = tr.split(whole, sizes, axis)
    for p, a in zip(parts, arrays):
        np.testing.assert_array_equal(p.numpy(), a)
    assert gradcheck(lambda t: tuple(tr.split(t, 2, axis)), [whole])
    assert gradgradcheck(lambda t: tuple(p * p for p in tr.split(t, 2, axis)), [whole])
    rows = whole.unbind(axis)
    assert len(rows) == whole.shape[axis]
    for i, r in enumerate(rows):
        np.testing.assert_array_equal(r.numpy(), np.take(whole.numpy(), i, axis))
    assert gradcheck(lambda t: tuple(t.unbind(axis)), [whole])
    assert gradgradcheck(lambda t: tuple(r * r for r in t.unbind(axis)), [whole])


def test_split_and_cat_errors_are_clear():
    with pytest.raises(ValueError, match="add up"):
        tr.split(tr.ones(5), [2, 2])
    with pytest.raises(ValueError, match="Cat"):
        tr.cat([tr.ones(2, 3), tr.ones(2, 4)], axis=0)
    with pytest.raises(ValueError, match="same shape"):
        tr.stack([tr.ones(2), tr.ones(3)])
    with pytest.raises(ValueError, match="permutation"):
        tr.ones(2, 3).permute(0, 0)
    with pytest.raises(ValueError, match="Reshape"):
        tr.ones(2, 3).reshape(4)


def test_transpose_without_axes_reverses_them():
    x = tr.ones(2, 3, 4)
    assert tr.transpose(x).shape == x.transpose().shape == x.permute().shape == (4, 3, 2)
    assert x.transpose(()).shape == (4, 3, 2)


@pytest.mark.parametrize("device", DEVICES)
def test_a_boolean_mask_of_the_wrong_shape_is_refused(device):
    x = tr.tensor(np.arange(9.0).reshape(3, 3), device=device)
    bad = [np.array([[True, False], [False, True]]), np.array([True, False, False, False]),
           (Ellipsis, np.array([True, False])), (0, np.array([True, False, True, True]))]
    for index in bad:
        with pytest.raises(ValueError, match="boolean mask of shape"):
            x[index]
    for index in ((0, False, [0, 1]), (np.array(False), slice(None), [1, 2])):  # 0 vs 2 picks
        with pytest.raises(ValueError, match="does not fit shape"):
            x[index]
    good = [(slice(None), np.array([True, False, True])), (np.array([True, False, True]), ...),
            (None, np.array([False, True, True])), np.arange(9.0).reshape(3, 3) > 4,
            (np.array(True),), (slice(None), True, [1, 2]), (False, slice(None), [1])]
    a = np.arange(9.0).reshape(3, 3)
    for index in good:  # no int separated from an array by a slice: NumPy's rule is torch's
        np.testing.assert_array_equal(x[index].numpy(), a[index])


def test_an_index_checked_by_its_caller_still_has_its_masks_expanded():
    """GetItem(in_range=True) skips only the range check (embedding, cross_entropy)."""
    from tinygrad_rnn.ops.movement import GetItem

    a = np.arange(6.0).reshape(2, 3)
    x = tr.tensor(a, requires_grad=True)
    mask = np.array([[True, False, True], [False, True, False]])
    y = GetItem.apply(x, index=mask, in_range=True)
    np.testing.assert_array_equal(y.numpy(), a[mask])
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.where(mask, 2 * a, 0))
    assert gradcheck(lambda t: GetItem.apply(t, index=mask, in_range=True) ** 2, [x])

"""Primitive ops against PyTorch (float64 values, gradients and second derivatives:
broadcasting, tuple axes, indexing with repeated and negative indices), and the gradchecks the
op-family files leave out, on every device: ``where`` with both branches differentiated and
broadcast against ``cond``, ``var`` with the default correction, ``squeeze(axis)``, ``expand``
and second derivatives of batched ``matmul``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES

RTOL = 1e-10  # float64 throughout: the engine and torch differ only by rounding


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _compare_with_torch(ours, theirs, arrays, seed=0, rtol=RTOL, atol=0.0):
    """Run ``ours`` on tinygrad_rnn tensors and ``theirs`` on torch tensors made from the same
    float64 ``arrays`` (all requiring grad); assert equal values, then backpropagate one random
    upstream gradient per output through both and assert equal input gradients."""
    torch = pytest.importorskip("torch")
    xs = [tr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    ys, us = _as_tuple(ours(*xs)), _as_tuple(theirs(*ts))
    assert len(ys) == len(us)
    rng = _rng(seed + 1000)
    ours_loss, theirs_loss = None, None
    for y, u in zip(ys, us):
        assert y.dtype == np.float64
        assert y.shape == tuple(u.shape)
        np.testing.assert_allclose(y.numpy(), u.detach().numpy(), rtol=rtol, atol=atol)
        v = rng.standard_normal(y.shape)
        a = (y * tr.tensor(v)).sum()
        b = (u * torch.tensor(v)).sum()
        ours_loss = a if ours_loss is None else ours_loss + a
        theirs_loss = b if theirs_loss is None else theirs_loss + b
    ours_loss.backward()
    theirs_loss.backward()
    for k, (x, t) in enumerate(zip(xs, ts)):
        if t.grad is None:  # torch never reached it: ours must hold zeros or nothing
            assert x.grad is None or not np.any(x.grad.numpy()), f"input {k}"
            continue
        assert x.grad is not None, f"input {k}: torch has a gradient, tinygrad_rnn none"
        assert x.grad.shape == x.shape
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {k}")
    return xs


# ---- 1. PyTorch parity --------------------------------------------------------------------

BROADCAST_SHAPES = [
    ((3, 1, 4), (2, 4)),
    ((2, 3), ()),
    ((4,), (3, 1)),
    ((1,), (2, 1, 3)),
    ((2, 1, 3), (2, 5, 1)),
]


def _binary_arrays(name, sa, sb, seed):
    rng = _rng(seed)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    if name == "div":  # away from the pole
        b = np.sign(b) * (0.5 + np.abs(b))
    if name == "pow":  # positive base: log(base) is real
        a = 0.3 + np.abs(a)
    if name in ("maximum", "minimum"):  # no ties, not even after broadcasting
        gap = np.abs(np.subtract(a, b))
        assert gap.min() > 1e-3, "seed gives a near-tie: pick another"
    return a, b


BINARY_TORCH = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a**b, lambda a, b: a**b),
    "maximum": (tr.maximum, lambda a, b: a.maximum(b)),
    "minimum": (tr.minimum, lambda a, b: a.minimum(b)),
}


@pytest.mark.torch
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("name", list(BINARY_TORCH))
def test_binary_op_matches_torch_with_broadcasting(name, shapes):
    pytest.importorskip("torch")
    ours, theirs = BINARY_TORCH[name]
    a, b = _binary_arrays(name, *shapes, seed=len(name))
    _compare_with_torch(ours, theirs, [a, b])


@pytest.mark.torch
@pytest.mark.parametrize("name", ["add", "mul", "div", "pow", "maximum"])
def test_binary_op_with_an_input_used_twice_matches_torch(name):
    pytest.importorskip("torch")
    ours, theirs = BINARY_TORCH[name]
    a = 0.5 + np.abs(_rng(3).standard_normal((2, 3)))
    # both operands are the same tensor; maximum(x, 2x - 1) has no ties away from x = 1
    if name == "maximum":
        _compare_with_torch(lambda x: ours(x, 2 * x - 1), lambda t: theirs(t, 2 * t - 1),
                            [a + 1.5])
    else:
        # x / x has gradient 0 up to rounding: an absolute tolerance of a few ulps
        _compare_with_torch(lambda x: ours(x, x), lambda t: theirs(t, t), [a], atol=1e-14)


@pytest.mark.torch
@pytest.mark.parametrize(
    "sc,s0,s1",
    [((3, 1), (1, 4), (3, 4)), ((4,), (2, 1, 4), ()), ((2, 3, 4), (3, 1), (4,)),
     ((), (2, 3), (3,))],
    ids=str,
)
def test_where_matches_torch_with_broadcasting(sc, s0, s1):
    torch = pytest.importorskip("torch")
    rng = _rng(7)
    cond = rng.random(sc) < 0.5
    if cond.ndim:  # both branches taken
        cond.flat[0], cond.flat[-1] = True, False
    a, b = rng.standard_normal(s0), rng.standard_normal(s1)
    _compare_with_torch(lambda x0, x1: tr.where(tr.tensor(cond), x0, x1),
                        lambda x0, x1: torch.where(torch.tensor(cond), x0, x1), [a, b])


@pytest.mark.torch
@pytest.mark.parametrize(
    "lo,hi", [(-0.5, 0.7), (-0.5, None), (None, 0.3)], ids=["both", "min", "max"])
def test_clip_and_clamp_match_torch(lo, hi):
    torch = pytest.importorskip("torch")
    a = _rng(11).standard_normal((4, 5))
    for edge in (lo, hi):  # off the kinks
        if edge is not None:
            a = np.where(np.abs(a - edge) < 1e-3, edge + 0.1, a)
    _compare_with_torch(lambda x: x.clip(lo, hi), lambda t: torch.clamp(t, lo, hi), [a])
    _compare_with_torch(lambda x: tr.clip(x, min=lo, max=hi),
                        lambda t: t.clamp(min=lo, max=hi), [a])
    _compare_with_torch(lambda x: x.clamp(lo, hi), lambda t: t.clip(lo, hi), [a])


MOVEMENT_TORCH = {
    "reshape": (lambda x: x.reshape(4, -1), lambda t: t.reshape(4, -1)),
    "reshape_tuple": (lambda x: tr.reshape(x, (3, 8)), lambda t: t.reshape((3, 8))),
    "view_flat": (lambda x: x.view(-1), lambda t: t.view(-1)),
    "transpose": (lambda x: x.transpose(2, 0, 1), lambda t: t.permute(2, 0, 1)),
    "permute": (lambda x: x.permute(1, 2, 0), lambda t: t.permute(1, 2, 0)),
    "transpose_two_axes": (lambda x: x.transpose(0, 2), lambda t: t.transpose(0, 2)),
    "transpose_two_neg_axes": (lambda x: x.transpose(-1, 1), lambda t: t.transpose(-1, 1)),
    "transpose_same_axis": (lambda x: x.transpose(1, 1), lambda t: t.transpose(1, 1)),
    "transpose_2d_0_1": (lambda x: x.reshape(6, 4).transpose(0, 1),
                         lambda t: t.reshape(6, 4).transpose(0, 1)),
    "tr_transpose": (lambda x: tr.transpose(x, (0, 2, 1)), lambda t: t.transpose(1, 2)),
    "swapaxes": (lambda x: x.swapaxes(0, -1), lambda t: t.swapaxes(0, -1)),
    "T_2d": (lambda x: x.reshape(6, 4).T, lambda t: t.reshape(6, 4).T),
    "expand": (lambda x: x[:, :1].expand(5, -1, 3, -1),
               lambda t: t[:, :1].expand(5, -1, 3, -1)),
    "broadcast_to": (lambda x: tr.broadcast_to(x[:1], (3, 2, 3, 4)),
                     lambda t: t[:1].broadcast_to((3, 2, 3, 4))),
    "squeeze_all": (lambda x: x[:1, 1:2].squeeze(), lambda t: t[:1, 1:2].squeeze()),
    "squeeze_axis": (lambda x: x[:, 1:2].squeeze(1), lambda t: t[:, 1:2].squeeze(1)),
    "squeeze_neg_axis": (lambda x: x[..., :1].squeeze(-1), lambda t: t[..., :1].squeeze(-1)),
    "squeeze_not_one": (lambda x: x.squeeze(0), lambda t: t.squeeze(0)),
    "squeeze_tuple": (lambda x: tr.squeeze(x[:1, :, :1], (0, 2)),
                      lambda t: t[:1, :, :1].squeeze((0, 2))),
    "unsqueeze": (lambda x: x.unsqueeze(1), lambda t: t.unsqueeze(1)),
    "unsqueeze_neg": (lambda x: tr.unsqueeze(x, -1), lambda t: t.unsqueeze(-1)),
    "unsqueeze_front": (lambda x: x.unsqueeze(-4), lambda t: t.unsqueeze(-4)),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(MOVEMENT_TORCH))
def test_movement_op_matches_torch(name):
    pytest.importorskip("torch")
    ours, theirs = MOVEMENT_TORCH[name]
    a = _rng(5).standard_normal((2, 3, 4))
    # moving is exact; a broadcast's gradient is a sum, whose order may differ from torch's
    sums = name in ("expand", "broadcast_to")
    _compare_with_torch(ours, theirs, [a], rtol=RTOL if sums else 0)


INDEXES = {
    "basic_slices": lambda: (slice(1, None), slice(None, None, 2), -1),
    "int_and_slice": lambda: (0, slice(1, 3)),
    "ellipsis_newaxis": lambda: (Ellipsis, None, slice(1, 3)),
    "step_slices": lambda: (slice(None, None, 2), slice(0, 3, 2), slice(1, None, 2)),
    "neg_int_array_repeats": lambda: np.array([-1, 0, -1, -2, -1]),
    "neg_int_array_2d": lambda: np.array([[-1, 0], [0, -3]]),
    "int_array_second_axis": lambda: (slice(None), np.array([-1, -1, 0, -3, 2])),
    "two_int_arrays": lambda: (np.array([0, -1, 0]), slice(None), np.array([-4, -4, 3])),
    "bool_mask_all_axes": lambda: _rng(2).random((3, 3, 4)) < 0.5,
    "bool_mask_leading": lambda: np.array([[True, False, True], [False, True, True],
                                           [True, True, False]]),
    "bool_mask_middle": lambda: (slice(None), np.array([True, False, True])),
    "bool_mask_and_int": lambda: (np.array([True, False, True]), -1),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(INDEXES))
def test_indexing_matches_torch_with_scatter_add_gradient(name):
    torch = pytest.importorskip("torch")
    index = INDEXES[name]()
    parts = index if isinstance(index, tuple) else (index,)
    t_index = tuple(torch.tensor(p) if isinstance(p, np.ndarray) else p for p in parts)
    a = _rng(9).standard_normal((3, 3, 4))
    # squaring the picked elements makes a repeated element's gradient depend on every pick
    (x,) = _compare_with_torch(lambda x: x[index] * x[index], lambda t: t[t_index] * t[t_index],
                               [a])
    counts = np.zeros(a.shape)
    np.add.at(counts, index, 1.0)
    assert counts.any()
    # only picked elements get a gradient (the values above show repeats add up, as torch's)
    assert np.all(x.grad.numpy()[counts == 0] == 0)


@st.composite
def _mixed_indices(draw):
    """A shape and an index that mixes ints, slices, None, Ellipsis, 0-d booleans, integer
    lists and at most one boolean mask: where NumPy's and PyTorch's rules part."""
    shape = draw(tst.shapes(min_dims=1, max_dims=4, max_side=4))
    picks = draw(st.integers(1, 3))  # every array index picks this many (they broadcast)
    parts, axis = [], 0
    while axis < len(shape):
        n = shape[axis]
        kind = draw(st.sampled_from(["int", "slice", "list", "mask", "none", "bool", "stop"]))
        if kind == "stop":
            parts.append(...) if draw(st.booleans()) else None
            break
        if kind in ("none", "bool"):
            parts.append(None if kind == "none" else True)  # False would pick 0 of picks
            continue
        if kind == "mask" and n >= picks and not any(isinstance(p, np.ndarray) for p in parts):
            on = draw(st.lists(st.integers(0, n - 1), min_size=picks, max_size=picks,
                               unique=True))
            parts.append(np.isin(np.arange(n), on))
        elif kind == "list":
            parts.append(draw(st.lists(st.integers(-n, n - 1), min_size=picks,
                                       max_size=picks)))
        elif kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        else:
            ends = st.none() | st.integers(-n - 1, n + 1)
            parts.append(slice(draw(ends), draw(ends), draw(st.none() | st.integers(1, 3))))
        axis += 1
    return shape, tuple(parts)


@pytest.mark.torch
@given(_mixed_indices())
@example(((2, 3, 4), (0, slice(None), [0, 1, 1])))  # (3, 3) in torch, (3, 3) transposed in NumPy
@example(((2, 3, 4, 2), (1, ..., [0, 2], -1)))
@example(((2, 3, 4), (-1, None, [0, 1])))
@example(((2, 3, 4), (0, slice(1, None), np.array([True, False, True, False]))))
@example(((2, 3, 4), (1, slice(None), True, [2, 0])))
@example(((2, 3), (0, False)))
def test_mixed_indices_follow_torch_ints_first(case):
    """x[0, :, [0, 1]] takes the int first, as PyTorch (NumPy moves the picked axis to the
    front): the values, the scatter-add gradient, its own gradient, and x[index] = value."""
    torch = pytest.importorskip("torch")
    shape, index = case
    t_index = tuple(torch.tensor(p) if isinstance(p, np.ndarray) else p for p in index)
    a = _rng(3).standard_normal(shape)
    _compare_with_torch(lambda x: x[index] * x[index], lambda t: t[t_index] * t[t_index], [a])
    x = tr.tensor(a, requires_grad=True)
    assert gradgradcheck(lambda t: (t[index] ** 2).sum(), [x])
    ours, theirs = tr.tensor(a), torch.tensor(a)
    value = _rng(4).standard_normal(tuple(theirs[t_index].shape))
    ours[index] = value
    theirs[t_index] = torch.tensor(value)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.torch
def test_index_forms_where_numpy_and_torch_part():
    """A tuple inside an index is a list (torch), and a ... that stands for no axis does not
    separate two arrays (NumPy would move the picked axes to the front in both)."""
    torch = pytest.importorskip("torch")
    a = _rng(8).standard_normal((5, 3, 4))
    m = _rng(9).random((5, 3)) < 0.5
    m[0, 0] = True
    for index in ((0, slice(None), (0, 2)), (slice(None), [0, 1], ..., [0, 1]),
                  (None, m, ..., True), ([[0, 1]], ..., [2]), (..., [0, 1], slice(None), 2)):
        t_index = tuple(torch.tensor(p) if isinstance(p, np.ndarray) else p for p in index)
        _compare_with_torch(lambda x, i=index: x[i] * 2.0, lambda t, i=t_index: t[i] * 2.0, [a])


def test_mixed_index_named_as_written_in_errors():
    x = tr.zeros(2, 3, 4)
    with pytest.raises(ValueError, match=r"index \(5, slice\(None, None, None\), \[0, 1\]\) "
                       r"does not fit shape \(2, 3, 4\)"):
        x[5, :, [0, 1]]
    with pytest.raises(ValueError, match=r"x\[\(0, slice\(None, None, None\), \[0, 9\]\)\] = "
                       r"value \(shape \(\)\) does not fit x of shape \(2, 3, 4\)"):
        x[0, :, [0, 9]] = 1.0
    assert not x.numpy().any()
    with pytest.raises(ValueError, match=r"mask of shape \(4,\) does not match the axes 1\.\.1"):
        x[0, [True, False, True, True]]  # axis 1 of x, though axis 0 of x[0]


@pytest.mark.torch
def test_repeated_negative_indices_add_up_like_torch():
    torch = pytest.importorskip("torch")
    a = _rng(4).standard_normal(5)
    idx = np.array([-1, 4, -1, 0, -5])
    x, t = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    x[idx].sum().backward()
    t[torch.tensor(idx)].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 0.0, 0.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cat_matches_torch(axis):
    torch = pytest.importorskip("torch")
    rng = _rng(12)
    shapes = []
    for n in (1, 3, 2):
        s = [2, 3, 4]
        s[axis] = n
        shapes.append(tuple(s))
    arrays = [rng.standard_normal(s) for s in shapes]
    _compare_with_torch(lambda *xs: tr.cat(xs, axis), lambda *ts: torch.cat(ts, axis), arrays)


@pytest.mark.torch
@pytest.mark.parametrize("axis", [0, 2, -1, -3])
def test_stack_matches_torch(axis):
    torch = pytest.importorskip("torch")
    rng = _rng(13)
    arrays = [rng.standard_normal((2, 3)) for _ in range(3)]
    _compare_with_torch(lambda *xs: tr.stack(xs, axis), lambda *ts: torch.stack(ts, axis),
                        arrays)


@pytest.mark.torch
@pytest.mark.parametrize("sizes,axis", [(2, 0), (3, 1), ([1, 4, 2], 1), ([3, 0, 4], -2),
                                        (4, -1)])
def test_split_matches_torch(sizes, axis):
    torch = pytest.importorskip("torch")
    a = _rng(14).standard_normal((5, 7, 4))
    ours = tr.split(tr.tensor(a), sizes, axis)
    theirs = torch.split(torch.tensor(a), sizes, axis)
    assert [p.shape for p in ours] == [tuple(q.shape) for q in theirs]
    _compare_with_torch(lambda x: tr.split(x, sizes, axis),
                        lambda t: torch.split(t, sizes, axis), [a])


TORCH_MATMUL_SHAPES = [
    ((4,), (4,)),            # 1-D x 1-D: a scalar
    ((4,), (4, 3)),          # 1-D x 2-D
    ((2, 4), (4,)),          # 2-D x 1-D
    ((2, 4), (4, 3)),
    ((2, 1, 3, 4), (5, 4, 2)),   # batch dims broadcast both ways
    ((3, 4), (2, 4, 5)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 4, 3)),
    ((1, 3, 4), (2, 1, 4, 2)),
]


@pytest.mark.torch
@pytest.mark.parametrize("sa,sb", TORCH_MATMUL_SHAPES, ids=str)
def test_matmul_matches_torch(sa, sb):
    torch = pytest.importorskip("torch")
    rng = _rng(15)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    _compare_with_torch(lambda x, y: x @ y, lambda s, t: s @ t, [a, b], atol=1e-14)
    _compare_with_torch(tr.matmul, torch.matmul, [a, b], atol=1e-14)


def _dim(t, ax):
    """torch's ``dim`` for our ``axis``: None reduces every axis (keepdim still applies)."""
    return tuple(range(t.ndim)) if ax is None else ax


REDUCE_TORCH = {
    "sum": (lambda x, ax, kd: x.sum(ax, kd), lambda t, ax, kd: t.sum(_dim(t, ax), kd)),
    "mean": (lambda x, ax, kd: x.mean(ax, kd), lambda t, ax, kd: t.mean(_dim(t, ax), kd)),
    "max": (lambda x, ax, kd: x.amax(ax, kd), lambda t, ax, kd: t.amax(_dim(t, ax), kd)),
    "min": (lambda x, ax, kd: x.amin(ax, kd), lambda t, ax, kd: t.amin(_dim(t, ax), kd)),
    # the default correction=1 on both sides
    "var": (lambda x, ax, kd: x.var(ax, keepdims=kd),
            lambda t, ax, kd: t.var(_dim(t, ax), keepdim=kd)),
    "tr_functions": (
        lambda x, ax, kd: tr.sum(x, ax, kd) + tr.mean(x, ax, kd) + tr.amax(x, ax, kd)
        - tr.amin(x, ax, kd) + tr.var(x, ax, keepdim=kd),
        lambda t, ax, kd: t.sum(_dim(t, ax), kd) + t.mean(_dim(t, ax), kd)
        + t.amax(_dim(t, ax), kd) - t.amin(_dim(t, ax), kd) + t.var(_dim(t, ax), keepdim=kd),
    ),
}


@pytest.mark.torch
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [(0, 2), (-1, 1), (0, 1, 2), (1,), -2, None], ids=str)
@pytest.mark.parametrize("name", list(REDUCE_TORCH))
def test_reduction_over_tuple_axes_matches_torch(name, axis, keepdims):
    pytest.importorskip("torch")
    ours, theirs = REDUCE_TORCH[name]
    # distinct values: max/min have a single winner in every slice
    a = _rng(16).permutation(24).reshape(2, 3, 4) / 7.0 - 1.5
    _compare_with_torch(lambda x: ours(x, axis, keepdims), lambda t: theirs(t, axis, keepdims),
                        [a], atol=1e-14)


ZERO_DIM_AXIS_0 = {
    "sum": (lambda x: x.sum(0), lambda t: t.sum(0)),
    "sum_keepdims": (lambda x: x.sum(0, keepdims=True), lambda t: t.sum(0, keepdim=True)),
    "mean": (lambda x: x.mean(0), lambda t: t.mean(0)),
    "max": (lambda x: x.amax(0), lambda t: t.amax(0)),
    "min": (lambda x: x.amin((0,)), lambda t: t.amin((0,))),
    "squeeze": (lambda x: x.squeeze(0), lambda t: t.squeeze(0)),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(ZERO_DIM_AXIS_0))
def test_zero_dim_reduction_over_axis_0_matches_torch(name):
    pytest.importorskip("torch")
    ours, theirs = ZERO_DIM_AXIS_0[name]
    _compare_with_torch(ours, theirs, [np.array(1.5)])


@pytest.mark.torch
def test_zero_dim_boolean_mask_index_matches_torch():
    torch = pytest.importorskip("torch")
    a = _rng(17).standard_normal((2, 3))
    for m in (True, False):
        _compare_with_torch(lambda x, m=m: x[np.array(m)] * 2.0,
                            lambda t, m=m: t[torch.tensor(m)] * 2.0, [a])


@pytest.mark.torch
def test_var_default_correction_is_unbiased_like_torch_on_one_axis_of_two():
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 3.0], [2.0, 8.0]])
    out = tr.tensor(a).var(axis=1)
    np.testing.assert_allclose(out.numpy(), [2.0, 18.0], rtol=1e-15)
    np.testing.assert_allclose(out.numpy(), torch.tensor(a).var(dim=1).numpy(), rtol=1e-15)


SECOND_ORDER_TORCH = {
    "where": (lambda c: lambda a, b: tr.where(tr.tensor(c), a * b, b * b),
              lambda torch, c: lambda a, b: torch.where(torch.tensor(c), a * b, b * b)),
    "pow": (lambda c: lambda a, b: (a * a + 0.5) ** b,
            lambda torch, c: lambda a, b: (a * a + 0.5) ** b),
    "div_max_min": (lambda c: lambda a, b: tr.maximum(a, b) / (2.0 + tr.minimum(a * a, b)),
                    lambda torch, c: lambda a, b: a.maximum(b) / (2.0 + (a * a).minimum(b))),
    "clip_index": (lambda c: lambda a, b: (a * b).clip(-0.3, 0.4)[[-1, 0, -1]] * a[[-1, 0, -1]],
                   lambda torch, c: lambda a, b: (a * b).clamp(-0.3, 0.4)[[-1, 0, -1]]
                   * a[[-1, 0, -1]]),
    "matmul_var": (lambda c: lambda a, b: (a @ b.T).var(axis=(0, 1), keepdims=True) * a,
                   lambda torch, c: lambda a, b: (a @ b.T).var((0, 1), keepdim=True) * a),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(SECOND_ORDER_TORCH))
def test_second_derivatives_match_torch(name):
    """create_graph=True runs each backward formula on Tensors (a code path of its own): the
    gradient it records must equal torch's, and so must the gradient of that gradient.
    (gradgradcheck alone cannot see a wrong create_graph gradient: it differentiates that very
    gradient both analytically and numerically.)"""
    torch = pytest.importorskip("torch")
    rng = _rng(30)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    b = np.where(np.abs(a - b) < 1e-3, b + 0.1, b)
    c = rng.random((3, 1)) < 0.5
    c[0, 0], c[1, 0] = True, False
    ours, theirs = SECOND_ORDER_TORCH[name][0](c), SECOND_ORDER_TORCH[name][1](torch, c)
    xs = [tr.tensor(v, requires_grad=True) for v in (a, b)]
    ts = [torch.tensor(v, requires_grad=True) for v in (a, b)]
    y, u = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(y.numpy(), u.detach().numpy(), rtol=RTOL)
    v = rng.standard_normal(y.shape)
    gs = tr.grad(y, xs, tr.tensor(v), create_graph=True)
    hs = torch.autograd.grad(u, ts, torch.tensor(v), create_graph=True)
    for g, h in zip(gs, hs):
        np.testing.assert_allclose(g.numpy(), h.detach().numpy(), rtol=RTOL, atol=1e-14)
    w = [rng.standard_normal(x.shape) for x in xs]
    sum((g * tr.tensor(wk)).sum() for g, wk in zip(gs, w)).backward()
    sum((h * torch.tensor(wk)).sum() for h, wk in zip(hs, w)).backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=RTOL, atol=1e-14)


# ---- 2. gradchecks on every device --------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
def test_where_both_branches_gradcheck_broadcast_against_cond(device):
    rng = _rng(20)
    cond = tr.tensor(np.array([[True], [False], [True]]), device=device)  # (3, 1)
    x0 = tr.tensor(rng.standard_normal((1, 4)), device=device, requires_grad=True)
    x1 = tr.tensor(rng.standard_normal((3, 4)), device=device, requires_grad=True)
    out = tr.where(cond, x0, x1)
    np.testing.assert_array_equal(out.numpy(), np.where(cond.numpy(), x0.numpy(), x1.numpy()))
    (out * out).sum().backward()
    # x0's row is picked by rows 0 and 2: its gradient sums both; x1 keeps only row 1
    np.testing.assert_allclose(x0.grad.numpy(), 4 * x0.numpy(), rtol=1e-15)
    np.testing.assert_allclose(x1.grad.numpy(), 2 * x1.numpy() * [[0], [1], [0]], rtol=1e-15)
    f = lambda c, a, b: tr.where(c, a, b)  # noqa: E731
    assert gradcheck(f, [cond, x0, x1])
    assert gradgradcheck(lambda c, a, b: tr.where(c, a * b, b * b), [cond, x0, x1])


@pytest.mark.parametrize("device", DEVICES)
@given(shapes=tst.broadcastable_shapes(3), data=st.data())
def test_where_both_branches_gradcheck_drawn_broadcast(device, shapes, data):
    sc, s0, s1 = shapes
    c = data.draw(tst.arrays(sc, dtype=np.int64, min_value=0, max_value=1)).astype(bool)
    a, b = data.draw(tst.arrays(s0)), data.draw(tst.arrays(s1))
    cond = tr.tensor(c, device=device)
    x0 = tr.tensor(a, device=device, requires_grad=True)
    x1 = tr.tensor(b, device=device, requires_grad=True)
    out = tr.where(cond, x0, x1)
    assert out.shape == np.broadcast_shapes(sc, s0, s1)
    np.testing.assert_array_equal(out.numpy(), np.where(c, a, b))
    assert gradcheck(lambda k, p, q: tr.where(k, p, q), [cond, x0, x1])
    # second order: the branches are products, so their gradients depend on both inputs
    assert gradgradcheck(lambda k, p, q: tr.where(k, p * q, q * q), [cond, x0, x1])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data(), keepdims=st.booleans())
def test_var_default_correction_gradcheck_over_drawn_axes(device, data, keepdims):
    a = data.draw(tst.arrays(tst.shapes(min_dims=1)))
    axis = data.draw(tst.axes(a.ndim))
    axes = tuple(range(a.ndim)) if axis is None else (
        tuple(ax % a.ndim for ax in ((axis,) if isinstance(axis, int) else axis)))
    n = int(np.prod([a.shape[ax] for ax in axes]))
    x = tr.tensor(a, device=device, requires_grad=True)
    if n < 2:  # n - 1 = 0: warned, and inf or NaN, as PyTorch
        with pytest.warns(RuntimeWarning, match="correction=1"), np.errstate(all="ignore"):
            out = x.var(axis, keepdims=keepdims)
        assert not np.isfinite(out.numpy()).any()
        return
    out = x.var(axis, keepdims=keepdims)
    np.testing.assert_allclose(out.numpy(), a.var(axis=axes, ddof=1, keepdims=keepdims),
                               rtol=1e-10, atol=1e-12)
    f = lambda t: t.var(axis, keepdims)  # noqa: E731
    assert gradcheck(f, [x])
    assert gradgradcheck(f, [x])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_squeeze_axis_gradcheck(device, data):
    a = data.draw(tst.arrays(tst.shapes(min_dims=1, max_dims=4, max_side=2)))
    axis = data.draw(tst.axes(a.ndim, allow_none=False))
    axes = tuple(ax % a.ndim for ax in ((axis,) if isinstance(axis, int) else axis))
    ones = tuple(ax for ax in axes if a.shape[ax] == 1)  # others stay, as in PyTorch
    x = tr.tensor(a, device=device, requires_grad=True)
    out = x.squeeze(axis)
    np.testing.assert_array_equal(out.numpy(), np.squeeze(a, ones))
    assert out.shape == np.squeeze(a, ones).shape
    f = lambda t: t.squeeze(axis)  # noqa: E731
    assert gradcheck(f, [x])
    assert gradgradcheck(lambda t: f(t) * f(t), [x])


@pytest.mark.parametrize("device", DEVICES)
@given(shapes=tst.broadcastable_shapes(2), data=st.data())
def test_expand_gradcheck(device, shapes, data):
    src = shapes[0]
    target = np.broadcast_shapes(*shapes)
    lead = len(target) - len(src)
    # -1 keeps a size: allowed on the source's own axes only (PyTorch's rule)
    args = tuple(-1 if i >= lead and src[i - lead] == n and data.draw(st.booleans()) else n
                 for i, n in enumerate(target))
    a = data.draw(tst.arrays(src))
    x = tr.tensor(a, device=device, requires_grad=True)
    out = x.expand(*args)
    assert out.shape == target
    np.testing.assert_array_equal(out.numpy(), np.broadcast_to(a, target))
    assert gradcheck(lambda t: t.expand(*args), [x])
    assert gradgradcheck(lambda t: t.expand(args) * t.expand(args), [x])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_matmul_gradgradcheck_on_drawn_batched_shapes(device, data):
    n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    batch = data.draw(tst.broadcastable_shapes(2, max_dims=2, max_side=2))
    a = data.draw(tst.arrays(batch[0] + (n, k)))
    b = data.draw(tst.arrays(batch[1] + (k, m)))
    ta = tr.tensor(a, device=device, requires_grad=True)
    tb = tr.tensor(b, device=device, requires_grad=True)
    np.testing.assert_allclose((ta @ tb).numpy(), a @ b, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x, y: x @ y, [ta, tb])
    assert gradgradcheck(lambda x, y: x @ y, [ta, tb])


_DTYPES = ["bool", "int32", "int64", "float32", "float64"]
_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
        "/": lambda a, b: a / b}


@pytest.mark.torch
@pytest.mark.parametrize("op", list(_OPS))
@pytest.mark.parametrize("left", _DTYPES)
def test_arithmetic_result_dtypes_follow_pytorch(left, op):
    """Every pair of dtypes, 0-d tensors, and every kind of Python number on either side: the
    result has the dtype torch gives (NumPy alone would give float64 for int with float32, and
    float64 for float32 with a 0-d float64 tensor, where torch keeps float32)."""
    torch = pytest.importorskip("torch")
    f = _OPS[op]
    a = np.array([1, 0, 1], dtype=left)
    others = [np.array([2, 1, 3], dtype=d) for d in _DTYPES] + [2, 2.5, True]
    others += [np.array(2, dtype=d) for d in _DTYPES]  # 0-d: weaker, within its kind
    for b in others:
        for x, y in ((a, b), (b, a)):
            ours = [tr.tensor(v) if isinstance(v, np.ndarray) else v for v in (x, y)]
            theirs = [torch.from_numpy(v) if isinstance(v, np.ndarray) else v for v in (x, y)]
            try:
                want = str(f(*theirs).dtype).removeprefix("torch.")
            except RuntimeError:  # torch refuses bool - bool
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                got = str(f(*ours).dtype)
            assert got == want, f"{x!r} {op} {y!r}"


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_division_and_power_gradients_at_extremes_match_torch(dtype):
    """Div's gradient by the denominator without squaring it (x1² over- or underflows where
    x0 / x1 / x1 does not); Pow's gradient by the base at 0 ** 0 is 0, not 0 * inf."""
    torch = pytest.importorskip("torch")
    big, small = (1e30, 1e-20) if dtype == "float32" else (1e300, 1e-200)
    cases = [(big, big * 1e-10), (small, small * 1e-5), (small, small), (3.0, -2.0)]
    x0 = np.array([c[0] for c in cases], dtype=dtype)
    x1 = np.array([c[1] for c in cases], dtype=dtype)
    ours = [tr.tensor(a, requires_grad=True) for a in (x0, x1)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x0, x1)]
    (ours[0] / ours[1]).sum().backward()
    (theirs[0] / theirs[1]).sum().backward()
    for o, t in zip(ours, theirs):
        assert np.isfinite(o.grad.numpy()).all()
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-6)
    base = np.array([0.0, 0.0, 2.0, 0.0, 0.0, -1.0], dtype=dtype)
    expo = np.array([0.0, 2.0, 0.0, 0.5, -1.0, 2.0], dtype=dtype)  # 0 ** -1: -inf by the exponent
    ours = [tr.tensor(a, requires_grad=True) for a in (base, expo)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (base, expo)]
    with np.errstate(divide="ignore"):
        (ours[0] ** ours[1]).sum().backward()
    (theirs[0] ** theirs[1]).sum().backward()
    np.testing.assert_array_equal(ours[0].grad.numpy(), theirs[0].grad.numpy())
    np.testing.assert_array_equal(ours[1].grad.numpy(), theirs[1].grad.numpy())


@pytest.mark.torch
def test_nan_gradients_of_extrema_and_abs_match_torch():
    """Where an input is NaN: maximum and minimum give both inputs the whole gradient, a full
    max() or min() gives it to the NaN, and abs gives 0, as PyTorch."""
    torch = pytest.importorskip("torch")
    nan = np.nan
    a = np.array([nan, 1.0, 2.0, 3.0])
    b = np.array([1.0, nan, 2.0, -1.0])
    cases = [(lambda x, y: tr.maximum(x, y), torch.maximum), (lambda x, y: tr.minimum(x, y),
                                                             torch.minimum)]
    for ours, theirs in cases:
        xs = [tr.tensor(v, requires_grad=True) for v in (a, b)]
        ts = [torch.tensor(v, requires_grad=True) for v in (a, b)]
        ours(*xs).sum().backward()
        theirs(*ts).sum().backward()
        for x, t in zip(xs, ts):
            np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    for name in ("max", "min", "abs"):
        x, t = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, u = getattr(x, name)(), getattr(t, name)()
        np.testing.assert_array_equal(y.numpy(), u.detach().numpy())
        y.sum().backward()
        u.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.torch
def test_min_of_unsigned_boolean_and_extreme_integers_matches_torch():
    torch = pytest.importorskip("torch")
    for values, dtype in [([1, 2, 0], "uint8"), ([np.iinfo(np.int64).min, 0], "int64"),
                          ([True, False], "bool")]:
        a = np.array(values, dtype=dtype)
        assert tr.tensor(a).min().item() == torch.tensor(a).min().item()
        assert tr.tensor(a).max().item() == torch.tensor(a).max().item()


@pytest.mark.torch
def test_mean_over_no_elements_is_nan_as_torch():
    torch = pytest.importorskip("torch")
    with np.errstate(invalid="ignore"):
        assert np.isnan(tr.zeros(0).mean().item()) and np.isnan(torch.zeros(0).mean().item())
        got = tr.zeros(2, 0).mean(1).numpy()
    assert got.shape == (2,) and np.isnan(got).all()
    assert np.isnan(tr.functional.mse_loss(tr.zeros(0), tr.zeros(0)).item())


_TENSOR_FUNCS = {
    "**": (lambda a, b: a**b, lambda a, b: a**b),
    "maximum": (tr.maximum, lambda a, b: __import__("torch").maximum(a, b)),
    "minimum": (tr.minimum, lambda a, b: __import__("torch").minimum(a, b)),
    "where": (lambda a, b: tr.where(np.array([True, False, True]), a, b),
              lambda a, b: __import__("torch").where(__import__("torch").tensor(
                  [True, False, True]), a, b)),
    "cat": (lambda a, b: tr.cat([a, b]), lambda a, b: __import__("torch").cat([a, b])),
    "stack": (lambda a, b: tr.stack([a, b]), lambda a, b: __import__("torch").stack([a, b])),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(_TENSOR_FUNCS))
def test_result_dtypes_of_two_tensor_functions_follow_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = _TENSOR_FUNCS[name]
    for left in _DTYPES:
        for right, shape in [(d, s) for d in _DTYPES for s in ((3,), ())]:  # () : 0-d
            if name in ("cat", "stack") and shape == ():
                continue
            a, b = np.array([1, 0, 1], dtype=left), np.full(shape, 2, dtype=right)
            try:
                want = str(theirs(torch.from_numpy(a), torch.from_numpy(b)).dtype)
            except RuntimeError:  # torch refuses bool ** bool: so do we, by name
                with pytest.raises(TypeError, match="bool"):
                    ours(tr.tensor(a), tr.tensor(b))
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                got = str(ours(tr.tensor(a), tr.tensor(b)).dtype)
            assert got == want.removeprefix("torch."), f"{name}({left}, {right})"


@pytest.mark.torch
def test_result_dtypes_of_numbers_and_unary_functions_follow_pytorch():
    torch = pytest.importorskip("torch")
    cases = [(lambda t: t**2.5, "int64"), (lambda t: t**2, "int64"), (lambda t: 2.5**t, "int64"),
             (lambda t: t.clip(0, 1), "int64"), (lambda t: t.clip(0.5, 1), "int64"),
             (lambda t: t.clip(0, 1), "bool"), (lambda t: t.clip(0.5), "int32")]
    cases += [(lambda t, f=f: getattr(t, f)(), d) for f in ("exp", "log", "sqrt", "tanh",
                                                             "sigmoid")
              for d in ("int64", "bool", "float64")]
    for f, dtype in cases:
        a = np.array([1, 0, 2], dtype=dtype)
        try:
            want = str(f(torch.from_numpy(a)).dtype).removeprefix("torch.")
        except RuntimeError:
            continue
        with np.errstate(divide="ignore"):
            assert str(f(tr.tensor(a)).dtype) == want
    for f in (lambda t: t**2, lambda t: t**2.5):  # a bool base
        a = np.array([True, False])
        assert str(f(tr.tensor(a)).dtype) == str(f(torch.from_numpy(a)).dtype).removeprefix(
            "torch.")
    for f in (lambda t: t**True, lambda t: True**t):  # torch: x itself, and an error
        with pytest.raises(TypeError, match="both bool"):
            f(tr.tensor([True, False]))
    for value in (3, True, 2.5, np.int32(3)):
        assert str(tr.full((2,), value).dtype) == \
            str(torch.full((2,), value.item() if isinstance(value, np.number) else value)
                .dtype).removeprefix("torch.")
    assert tr.zeros(2).dtype == tr.ones(2).dtype == np.float32


@pytest.mark.torch
def test_item_assignment_matches_torch():
    """x[index] = value and x[index] op= value, outside autograd, as PyTorch."""
    torch = pytest.importorskip("torch")
    ours, theirs = tr.zeros(3, 4, dtype="float64"), torch.zeros(3, 4, dtype=torch.float64)
    col = np.array([1.0, 2.0, 3.0])
    steps = [
        lambda x, T: x.__setitem__(1, 5.0),
        lambda x, T: x.__setitem__((slice(None), 0), T(col)),
        lambda x, T: x.__setitem__((0, slice(1, 3)), T(np.array([7.0, 8.0]))),
        lambda x, T: x.__setitem__(np.array([2, 0]), -2.0),
        lambda x, T: x.__setitem__(x > 4, -1.0),
        lambda x, T: x.__setitem__((Ellipsis, -1), 9.0),
    ]
    for step in steps:
        step(ours, tr.tensor)
        step(theirs, torch.tensor)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours[0:2] += 1
    theirs[0:2] += 1
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert (ours == None) is False and (ours != None) is True  # noqa: E711 - torch's answer


def test_item_assignment_refuses_autograd_and_misfits_and_changes_nothing():
    w = tr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        w[0] = 2.0
    with tr.no_grad():
        w[0] = 2.0  # editing a parameter by hand
    assert w.numpy().tolist() == [2.0, 1.0, 1.0] and w.requires_grad
    x = tr.zeros(2, 3)
    with pytest.raises(ValueError, match=r"\(shape \(4,\)\) does not fit x of shape \(2, 3\)"):
        x[0] = tr.ones(4)
    assert not x.numpy().any()
    y = tr.ones(2)
    z = y * 3  # a result that must not follow, and a view that must, as in PyTorch
    view = y[0:1]
    y[0] = 5.0
    assert view.numpy().tolist() == [5.0] and z.numpy().tolist() == [3.0, 3.0]


@pytest.mark.torch
def test_corner_cases_follow_torch():
    torch = pytest.importorskip("torch")
    # var with no degrees of freedom: warned, inf or NaN
    for a, c in (([1.0], 1), ([1.0, 2.0], 3), ([1.0, 1.0], 3), ([], 1)):
        with pytest.warns(RuntimeWarning, match="degrees of freedom"), np.errstate(all="ignore"):
            ours = tr.tensor(a).var(correction=c).item()
        with pytest.warns(UserWarning):
            theirs = torch.tensor(a).var(correction=c).item()
        np.testing.assert_equal(ours, theirs)
    # logsumexp over no elements is -inf, with an empty gradient
    x = tr.zeros(0, 3, requires_grad=True)
    with np.errstate(divide="ignore"):
        y = x.logsumexp(0)
        np.testing.assert_equal(y.numpy(), torch.zeros(0, 3).logsumexp(0).numpy())
        y.sum().backward()
    assert x.grad.shape == (0, 3)
    # where with two numbers takes their type and cond's device
    cond = [True, False]
    for a, b in ((1.5, 2), (1, 2), (True, False), (1, 2.5), (np.float64(1.5), np.float64(2)),
                 (np.int32(1), 2)):
        ours = tr.where(tr.tensor(cond), a, b)
        theirs = torch.where(torch.tensor(cond), a, b)
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    # Tensor(data) is float32, as torch.Tensor; tensor(data) infers
    for data in ([1, 2], np.arange(3), np.ones(2), [True]):
        assert str(tr.Tensor(data).dtype) == str(torch.Tensor(data).dtype).removeprefix("torch.")
        np.testing.assert_array_equal(tr.Tensor(data).numpy(), torch.Tensor(data).numpy())
    assert tr.tensor([1, 2]).dtype == np.int64
    assert tr.Tensor([1, 2], dtype="float64").dtype == np.float64


@pytest.mark.torch
def test_call_forms_that_pytorch_code_uses():
    """randint(high, size) and size=; flatten(start, end); max/min(other); argmax(keepdims)."""
    torch = pytest.importorskip("torch")
    for args, kw in (((3, (2, 5)), {}), ((-2, 3, (4,)), {}), ((0, 3), {"size": (2,)}),
                     ((7,), {"size": (3, 1)})):
        r = tr.randint(*args, **kw)
        t = torch.randint(*args, **kw)
        assert r.shape == tuple(t.shape) and r.dtype == np.int64
        low, high = (0, args[0]) if len(args) + ("size" in kw) == 2 else args[:2]
        assert low <= r.numpy().min() and r.numpy().max() < high
    with pytest.raises(ValueError, match=r"high \(3\) must be greater than low \(3\)"):
        tr.randint(3, 3, (2,))
    with pytest.raises(TypeError, match="randint needs a size"):
        tr.randint(3)
    for kw in ({"low": 2, "high": 5, "size": (3,)}, {"high": 5, "size": (3,)},
               {"low": 2, "high": 5, "shape": (3,)}):  # shape=: the name this had before
        r = tr.randint(**kw)
        assert r.shape == (3,) and r.numpy().min() >= kw.get("low", 0) and r.numpy().max() < 5
    with pytest.raises(TypeError, match="low and high must be integers"):
        tr.randint(0, 5.5, (2,))
    a = _rng(5).standard_normal((2, 3, 4, 5))
    for s, e in ((0, -1), (1, 2), (-3, -2), (2, 2), (0, 3), (-1, -1)):
        _compare_with_torch(lambda x, s=s, e=e: x.flatten(s, e),
                            lambda t, s=s, e=e: t.flatten(s, e), [a])
    assert tr.tensor(2.0).flatten().shape == (1,) == tuple(torch.tensor(2.0).flatten().shape)
    with pytest.raises(ValueError, match="start_axis 2 comes after end_axis 1"):
        tr.tensor(a).flatten(2, 1)
    b = _rng(6).standard_normal((3, 4))
    _compare_with_torch(lambda x, y: (tr.max(x, y), x.min(y)),
                        lambda x, y: (torch.max(x, y), x.min(y)), [b, b[::-1].copy()])
    for axis in (None, 0, 1, -1):
        ours = tr.tensor(b).argmax(axis, keepdims=True)
        theirs = torch.tensor(b).argmax(axis, keepdim=True)
        if axis is None:  # torch keeps every axis, with length 1
            assert ours.shape == (1, 1) == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy().reshape(ours.shape))
        assert ours.dtype == np.int64
        np.testing.assert_array_equal(tr.tensor(b).argmin(axis, keepdims=True).numpy(),
                                      torch.tensor(b).argmin(axis, keepdim=True).numpy())


@pytest.mark.torch
def test_comparisons_promote_as_arithmetic_does():
    """float32 [0.1] == 0-d float64 0.1 is True in torch (the 0-d side takes float32), and
    uint8 [200] == 0-d int64 -56 too (-56 as uint8 is 200)."""
    torch = pytest.importorskip("torch")
    pairs = [(np.array([0.1, 0.2], np.float32), np.array(0.1)),
             (np.array([200, 3], np.uint8), np.array(-56)),
             (np.array(0.1), np.array([0.1, 0.3], np.float32)),
             (np.array([1, 2], np.int32), np.array(2.5))]
    ops = ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"]
    for a, b in pairs:
        for op in ops:
            ours = getattr(tr.tensor(a), op)(tr.tensor(b)).numpy()
            theirs = getattr(torch.from_numpy(a), op)(torch.from_numpy(b)).numpy()
            np.testing.assert_array_equal(ours, theirs, err_msg=f"{a!r} {op} {b!r}")


@pytest.mark.torch
def test_pytorch_keyword_names_are_taken_too():
    """dim= and keepdim= (start_dim/end_dim for flatten) work where axis= and keepdims= do."""
    torch = pytest.importorskip("torch")
    from tinygrad_rnn import functional as F

    a = _rng(12).standard_normal((2, 3, 4))
    calls = [
        (lambda x: x.sum(dim=1, keepdim=True), lambda t: t.sum(dim=1, keepdim=True)),
        (lambda x: x.mean(dim=(0, 2)), lambda t: t.mean(dim=(0, 2))),
        (lambda x: x.var(dim=1), lambda t: t.var(dim=1)),
        (lambda x: x.std(dim=-1, keepdim=True), lambda t: t.std(dim=-1, keepdim=True)),
        (lambda x: x.amax(dim=1) if hasattr(x, "amax") else x.max(dim=1),
         lambda t: t.amax(dim=1)),
        (lambda x: x.logsumexp(dim=2), lambda t: t.logsumexp(dim=2)),
        (lambda x: F.softmax(x, dim=1), lambda t: torch.nn.functional.softmax(t, dim=1)),
        (lambda x: x.log_softmax(dim=-1), lambda t: t.log_softmax(dim=-1)),
        (lambda x: tr.cat([x, x], dim=2), lambda t: torch.cat([t, t], dim=2)),
        (lambda x: tr.stack([x, x], dim=1), lambda t: torch.stack([t, t], dim=1)),
        (lambda x: x.flatten(start_dim=1), lambda t: t.flatten(start_dim=1)),
        (lambda x: x.unsqueeze(dim=1), lambda t: t.unsqueeze(dim=1)),
        (lambda x: x.chunk(2, dim=2)[1], lambda t: t.chunk(2, dim=2)[1]),
        (lambda x: x.norm(dim=1), lambda t: t.norm(dim=1)),
    ]
    for ours, theirs in calls:
        _compare_with_torch(ours, theirs, [a])
    x = tr.tensor(a)
    np.testing.assert_array_equal(x.argmax(dim=1, keepdim=True).numpy(),
                                  torch.tensor(a).argmax(dim=1, keepdim=True).numpy())
    with pytest.raises(TypeError, match=r"sum\(\) got both axis= and dim="):
        x.sum(axis=1, dim=1)


@pytest.mark.torch
def test_conveniences_pytorch_code_calls():
    """The small methods and functions ported PyTorch code calls, against torch."""
    torch = pytest.importorskip("torch")
    a = _rng(13).standard_normal((2, 3))
    _compare_with_torch(lambda x: x.repeat(2, 1, 2), lambda t: t.repeat(2, 1, 2), [a])
    _compare_with_torch(lambda x: x.repeat((3, 1)), lambda t: t.repeat((3, 1)), [a])
    _compare_with_torch(lambda x: x.narrow(1, -2, 2), lambda t: t.narrow(1, -2, 2), [a])
    _compare_with_torch(lambda x: x.narrow(dim=0, start=1, length=1),
                        lambda t: t.narrow(dim=0, start=1, length=1), [a])
    _compare_with_torch(lambda x: x.t() @ x, lambda t: t.t() @ t, [a])
    _compare_with_torch(lambda x: x.masked_fill(x > 0, -1.0), lambda t: t.masked_fill(t > 0, -1.0),
                        [a])
    _compare_with_torch(lambda x: x.add(x, alpha=2).sub(x, alpha=0.5).mul(x).div(3.0),
                        lambda t: t.add(t, alpha=2).sub(t, alpha=0.5).mul(t).div(3.0), [a])
    _compare_with_torch(lambda x: x.mm(x.T).matmul(x), lambda t: t.mm(t.T).matmul(t), [a])
    _compare_with_torch(lambda x: tr.softmax(x, dim=0) * tr.log_softmax(x, 1),
                        lambda t: torch.softmax(t, dim=0) * torch.log_softmax(t, 1), [a])
    x, t = tr.tensor(a), torch.tensor(a)
    for ours, theirs in [(x.long(), t.long()), (x.int(), t.int()), (x.bool(), t.bool()),
                         (~(x > 0), ~(t > 0)), ((x > 0).logical_not(), (t > 0).logical_not()),
                         (~x.long(), ~t.long()), (tr.argmax(x, dim=1), torch.argmax(t, dim=1)),
                         (x.new_zeros(2, 2), t.new_zeros(2, 2)), (x.new_ones((3,)), t.new_ones(3)),
                         (x.type_as(tr.tensor([1], dtype=tr.int32)),
                          t.type_as(torch.tensor([1], dtype=torch.int32))),
                         (tr.linspace(-1, 2, 7), torch.linspace(-1, 2, 7)),
                         (tr.isnan(tr.tensor([1.0, np.nan])),
                          torch.isnan(torch.tensor([1.0, np.nan]))),
                         (tr.tensor([np.inf, 1.0]).isfinite(),
                          torch.tensor([np.inf, 1.0]).isfinite())]:
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert [c.shape for c in tr.chunk(x, 2, dim=1)] == \
        [tuple(c.shape) for c in torch.chunk(t, 2, 1)]
    assert x.dim() == t.dim() and tr.allclose(x, x + 1e-9) and not tr.allclose(x, x + 1)
    assert tr.long is tr.int64 and tr.float is tr.float32 and tr.double is tr.float64
    y = tr.zeros(2, 3)
    y.copy_(tr.tensor([1.0, 2.0, 3.0]))  # broadcast, in place
    np.testing.assert_array_equal(y.numpy(), [[1, 2, 3], [1, 2, 3]])
    assert y.fill_(4).numpy().sum() == 24 and y.zero_().numpy().sum() == 0
    w = tr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="under tr.no_grad"):
        w.zero_()
    with pytest.raises(ValueError, match="does not broadcast"):
        y.copy_(tr.ones(4))
    with pytest.raises(ValueError, match="at most 2 axes"):
        tr.zeros(1, 2, 3).t()


def test_multinomial_and_map_location(tmp_path):
    tr.manual_seed(3)
    p = tr.tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    s = tr.multinomial(p, 2, replacement=True)
    assert s.shape == (2, 2) and s.dtype == np.int64
    assert (s.numpy()[0] == 1).all() and set(s.numpy()[1]) <= {0, 2}
    assert sorted(tr.multinomial(tr.tensor([1.0, 2.0, 3.0]), 3).numpy()) == [0, 1, 2]
    with pytest.raises(ValueError, match="4 samples without replacement from 3 classes"):
        tr.multinomial(tr.tensor([1.0, 2.0, 3.0]), 4)
    with pytest.raises(ValueError, match="positive sum"):
        tr.multinomial(tr.zeros(3), 1)
    tr.save({"w": tr.ones(2)}, tmp_path / "c.trn")
    assert tr.load(tmp_path / "c.trn", map_location="cpu")["w"].numpy().tolist() == [1, 1]
    with pytest.raises(TypeError, match="not both"):
        tr.load(tmp_path / "c.trn", device="cpu", map_location="cpu")


def test_review_of_the_conveniences():
    """copy_/fill_ and a 0-d masked_fill value cross devices (as torch's); mm/bmm take only
    2-D/3-D; map_location takes PyTorch's forms only; multinomial refuses what torch refuses."""
    from tinygrad_rnn.testing import strict

    strict.register()
    y = tr.zeros(3, device="strict").copy_(tr.tensor([1.0, 2.0, 3.0]))
    assert y.device == "strict" and y.numpy().tolist() == [1, 2, 3]
    x = tr.ones(3, device="strict")
    m = tr.tensor([True, False, True], device="strict")
    assert x.masked_fill(m, tr.tensor(0.0)).numpy().tolist() == [0, 1, 0]
    with pytest.raises(ValueError, match="a number or a 0-d tensor"):
        x.masked_fill(m, tr.ones(3, device="strict"))
    assert tr.zeros(3).copy_(tr.ones(3, requires_grad=True)).requires_grad  # recorded
    with pytest.raises(ValueError, match=r"mm takes two 2-D tensors, got shapes \(2, 3, 4\)"):
        tr.zeros(2, 3, 4).mm(tr.zeros(4, 5))
    assert tr.zeros(2, 3, 4).bmm(tr.zeros(2, 4, 5)).shape == (2, 3, 5)
    with pytest.raises(TypeError, match="floating-point"):
        tr.multinomial(tr.tensor([1, 3]), 2)
    with pytest.raises(ValueError, match="4 samples without replacement from 3 classes"):
        tr.multinomial(tr.tensor([1.0, 0.0, 0.0]), 4)
    for _ in range(5):  # the classes of weight > 0 first, then those of weight 0 (torch's CPU)
        d = tr.multinomial(input=tr.tensor([0.2, 0.0, 0.8, 0.0]), num_samples=4).tolist()
        assert sorted(d[:2]) == [0, 2] and sorted(d[2:]) == [1, 3]
    assert tr.multinomial(tr.zeros(0, 3), 2).shape == (0, 2)
    with pytest.raises(TypeError, match="map_location must be a device name"):
        tr.load("unused.trn", map_location=3)
    assert tr.Tensor.long.__doc__ and tr.ones(2).int().dtype == np.int32


@pytest.mark.torch
def test_flip_permute_transpose_take_pytorch_keywords():
    pytest.importorskip("torch")
    a = _rng(14).standard_normal((2, 3, 4))
    _compare_with_torch(lambda x: x.flip(dims=[0, 2]), lambda t: t.flip(dims=[0, 2]), [a])
    _compare_with_torch(lambda x: x.permute(dims=(2, 0, 1)), lambda t: t.permute(dims=(2, 0, 1)),
                        [a])
    _compare_with_torch(lambda x: x.transpose(dim0=0, dim1=2),
                        lambda t: t.transpose(dim0=0, dim1=2), [a])
    x = tr.tensor(a)
    with pytest.raises(TypeError, match="got both axes and dims="):
        x.flip(0, dims=[1])
    with pytest.raises(TypeError, match="both dim0= and dim1="):
        x.transpose(dim0=1)

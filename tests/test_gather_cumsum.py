"""cumsum (a primitive op: the gradient is the cumulative sum of gy taken from the end), gather,
index_select and masked_select (one differentiable gather each, the index checked first), and
the module-level names that ported code calls: tr.bmm, mm, clamp, flip, all, any, randperm,
randn_like, rand_like, empty, and ``x.is_cuda``.

Values, result dtypes, gradients and second derivatives against PyTorch in float64 (negative
dims, 0-d and empty tensors, repeated indices, broadcast masks, integer and bool inputs);
gradcheck and gradgradcheck on every device, in float32 and float64; and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES, gpu, needs_cuda

TOL = {"rtol": 1e-12, "atol": 1e-12}  # float64 throughout: only rounding differs


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _against_torch(ours, theirs, a, seed=0):
    """Run ``ours`` on a float64 tensor of ``a`` and ``theirs`` on torch's: equal values and
    shapes, equal gradients of sum(f(x)³ v), and equal second derivatives (the gradient
    recorded with create_graph=True, differentiated again along w)."""
    torch = pytest.importorskip("torch")
    x, t = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, u = ours(x), theirs(t)
    assert y.dtype == np.float64 and y.shape == tuple(u.shape)
    np.testing.assert_allclose(y.numpy(), u.detach().numpy(), **TOL)
    rng = _rng(seed)
    v, w = rng.standard_normal(y.shape), rng.standard_normal(np.shape(a))
    (gx,) = tr.grad((y ** 3 * tr.tensor(v)).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad((u ** 3 * torch.tensor(v)).sum(), t, create_graph=True)
    np.testing.assert_allclose(gx.numpy(), gt.detach().numpy(), **TOL)
    if not gt.requires_grad:  # torch records nothing where nothing was picked
        assert not np.any(gx.numpy())
        return
    (ggx,) = tr.grad((gx * tr.tensor(w)).sum(), x, allow_unused=True)
    (ggt,) = torch.autograd.grad((gt * torch.tensor(w)).sum(), t, allow_unused=True)
    ggt = np.zeros(np.shape(a)) if ggt is None else ggt.numpy()
    np.testing.assert_allclose(np.zeros(np.shape(a)) if ggx is None else ggx.numpy(), ggt,
                               **TOL)


@st.composite
def _shape_and_dim(draw, min_dims=0, min_side=0):
    """A shape (0-d and zero-size axes included) and a valid dim for it, negative too."""
    shape = draw(tst.shapes(min_dims=min_dims, max_dims=3, min_side=min_side))
    n = max(len(shape), 1)
    return shape, draw(st.integers(-n, n - 1))


@st.composite
def _gather_case(draw, min_side=0):
    """(x's shape, dim, index): an int64 index with x's number of dims (a 0-d x counting as
    one of shape (1,), so its index is 0-d or 1-D; a 1-D x also takes a 0-d index, as torch),
    index.size(d) <= x.size(d) for d != dim, any size along dim, values in range."""
    shape, dim = draw(_shape_and_dim(min_side=min_side))
    full = shape or (1,)
    ax = dim % len(full)
    ishape = [draw(st.integers(0, n)) for n in full]
    ishape[ax] = draw(st.integers(0, 4)) if full[ax] else 0
    if len(full) == 1 and ishape == [1] and draw(st.booleans()):
        ishape = []
    top = max(full[ax] - 1, 0)
    index = draw(hnp.arrays(np.int64, tuple(ishape), elements=st.integers(0, top)))
    return shape, dim, index


@st.composite
def _index_select_case(draw, min_side=0):
    """(x's shape, dim, index): a 1-D int64 index (or 0-d), repeats allowed; a 0-d x takes
    one index, 0."""
    shape, dim = draw(_shape_and_dim(min_side=min_side))
    if not shape:
        return shape, dim, np.array(0) if draw(st.booleans()) else np.array([0])
    n = shape[dim]
    k = draw(st.integers(0, 5)) if n else 0
    index = draw(hnp.arrays(np.int64, (k,), elements=st.integers(0, max(n - 1, 0))))
    if k == 1 and draw(st.booleans()):
        index = index.reshape(())
    return shape, dim, index


@st.composite
def _masked_case(draw, min_side=0):
    """(x's shape, a bool mask) of shapes that broadcast together, either one the larger."""
    xs, ms = draw(tst.broadcastable_shapes(2, min_side=min_side))
    return xs, draw(hnp.arrays(np.bool_, ms))


# ---- cumsum --------------------------------------------------------------------------------


@pytest.mark.torch
@given(case=_shape_and_dim(), data=st.data())
def test_cumsum_matches_torch(case, data):
    shape, dim = case
    a = data.draw(tst.arrays(shape))
    _against_torch(lambda x: x.cumsum(dim), lambda t: t.cumsum(dim), a)
    _against_torch(lambda x: tr.cumsum(x, dim=dim), lambda t: t.cumsum(dim=dim), a)


INT_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.torch
@pytest.mark.parametrize("cast", [None, "int32", "int64", "float32", "float64"])
@pytest.mark.parametrize("dtype", [*INT_DTYPES, "float16", "float32", "float64"])
def test_cumsum_dtypes_match_torch(dtype, cast):
    torch = pytest.importorskip("torch")
    a = _rng(1).integers(0, 3, (3, 4)).astype(dtype)
    if dtype.startswith("float"):
        a = a + np.asarray(0.25, dtype=dtype)
    for dim in (0, 1, -1):
        y = tr.tensor(a).cumsum(dim, dtype=cast)
        u = torch.tensor(a).cumsum(dim, dtype=None if cast is None else getattr(torch, cast))
        assert y.dtype.name == str(u.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(y.numpy(), u.numpy())


@pytest.mark.torch
def test_cumsum_of_0d_and_empty_tensors_matches_torch():
    torch = pytest.importorskip("torch")
    for a, dim in [(np.array(2.5), 0), (np.array(2.5), -1), (np.array(3), 0),
                   (np.zeros((0,)), 0), (np.zeros((2, 0)), 0), (np.zeros((2, 0)), 1),
                   (np.zeros((0, 3)), -1)]:
        y, u = tr.tensor(a).cumsum(dim), torch.tensor(a).cumsum(dim)
        assert y.shape == tuple(u.shape) and y.dtype.name == str(u.dtype)[6:]
        np.testing.assert_array_equal(y.numpy(), u.numpy())


@pytest.mark.torch
def test_cumsum_of_float16_adds_up_in_float32_as_torch():
    torch = pytest.importorskip("torch")
    a = _rng(6).random(2000).astype(np.float16)  # a float16 sum would stall near 256
    y, u = tr.tensor(a).cumsum(0), torch.tensor(a).cumsum(0)
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y.numpy(), u.numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_cumsum_keeps_float16_in_values_and_gradients(device):
    x = tr.tensor([0.5, 1.5, 2.0], dtype="float16", device=device, requires_grad=True)
    y = x.cumsum(0)
    y.backward(tr.ones(3, dtype="float16", device=device))
    assert y.dtype == x.grad.dtype == np.float16
    assert y.tolist() == [0.5, 2.0, 4.0] and x.grad.tolist() == [3.0, 2.0, 1.0]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@given(case=_shape_and_dim(), data=st.data())
def test_cumsum_gradcheck(device, dtype, case, data):
    shape, dim = case
    x = data.draw(tst.tensors(shape, dtype=dtype, device=device, requires_grad=True))
    f = lambda a: a.cumsum(dim)  # noqa: E731
    g = lambda a: (a.cumsum(dim) * a).cumsum(dim)  # noqa: E731  (second derivative nonzero)
    assert gradcheck(f, [x]) and gradgradcheck(f, [x])
    assert gradcheck(g, [x]) and gradgradcheck(g, [x])


@pytest.mark.parametrize("device", DEVICES)
def test_cumsum_gradient_is_the_reversed_cumulative_sum(device):
    x = tr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype="float64", device=device,
                  requires_grad=True)
    gy = np.array([[1.0, 10.0, 100.0], [2.0, 20.0, 200.0]])
    x.cumsum(1).backward(tr.tensor(gy, device=device))
    np.testing.assert_array_equal(x.grad.numpy(), [[111.0, 110.0, 100.0], [222.0, 220.0, 200.0]])
    assert x.grad.device == device
    # with create_graph=True the gradient is a graph, differentiable again: of sum(cumsum²),
    # 2 cumsum's reversed cumulative sum (cumsum [1, 3, 6] -> [2, 6, 12] -> [20, 18, 12])
    (g,) = tr.grad((x.cumsum(-1) ** 2).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [[20.0, 18.0, 12.0], [56.0, 48.0, 30.0]])
    assert g.requires_grad and g.device == device
    (gg,) = tr.grad(g[0, 2], x)  # d/dx of 2 (x0 + x1 + x2): 2 along row 0
    np.testing.assert_array_equal(gg.numpy(), [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("device", DEVICES)
def test_cumsum_keeps_int_results_out_of_autograd(device):
    y = tr.tensor([True, True, False, True], device=device).cumsum(0)
    assert y.dtype == np.int64 and not y.requires_grad and y.device == device
    assert y.tolist() == [1, 2, 2, 3]
    x = tr.tensor([1, 2], dtype="int32", device=device)
    assert x.cumsum(0, dtype="float32").dtype == np.float32
    assert x.cumsum(0, dtype=np.int32).dtype == np.int32


def test_cumsum_errors():
    x = tr.tensor([[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"dim 2 is out of range.*\[-2, 1\]"):
        x.cumsum(2)
    with pytest.raises(ValueError, match="out of range"):
        tr.tensor(1.0).cumsum(1)
    with pytest.raises(TypeError, match="one int"):
        x.cumsum((0, 1))
    with pytest.raises(TypeError, match="axis"):
        x.cumsum(0, axis=1)
    with pytest.raises(TypeError):
        x.cumsum()  # dim is required, as in torch


# ---- gather --------------------------------------------------------------------------------


@pytest.mark.torch
@given(case=_gather_case(), data=st.data())
def test_gather_matches_torch(case, data):
    torch = pytest.importorskip("torch")
    shape, dim, index = case
    a = data.draw(tst.arrays(shape))
    _against_torch(lambda x: x.gather(dim, tr.tensor(index)),
                   lambda t: t.gather(dim, torch.tensor(index)), a)
    _against_torch(lambda x: tr.gather(x, dim=dim, index=tr.tensor(index)),
                   lambda t: torch.gather(t, dim=dim, index=torch.tensor(index)), a)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [*INT_DTYPES, "float32"])
@given(case=_gather_case(min_side=1))
def test_gather_of_other_dtypes_and_int32_index_matches_torch(dtype, case):
    torch = pytest.importorskip("torch")
    shape, dim, index = case
    a = _rng(2).integers(0, 9, shape).astype(dtype)
    for idx in (index, index.astype(np.int32)):
        y = tr.tensor(a).gather(dim, tr.tensor(idx))
        u = torch.tensor(a).gather(dim, torch.tensor(idx))
        assert y.dtype == a.dtype and y.shape == tuple(u.shape)
        np.testing.assert_array_equal(y.numpy(), u.numpy())


@pytest.mark.torch
def test_gather_smaller_index_and_empty_index_as_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(12.0).reshape(3, 4)
    cases = [(1, np.array([[3, 0, 0, 1, 2]])),  # fewer rows than x, more columns along dim
             (0, np.array([[2], [0]])),  # smaller in the other dim
             (1, np.zeros((5, 0), np.int64)),  # empty: torch checks no sizes
             (0, np.zeros((0,), np.int64)),  # empty, fewer dims
             (-1, np.array([[1, 1], [1, 1], [0, 0]]))]
    for dim, index in cases:
        _against_torch(lambda x: x.gather(dim, tr.tensor(index)),  # noqa: B023
                       lambda t: t.gather(dim, torch.tensor(index)), a)  # noqa: B023
    for a0, index in [(np.array(4.0), np.array(0)), (np.array(4.0), np.array([0, 0, 0])),
                      (np.array([4.0, 5.0]), np.array(1)), (np.zeros((0, 2)), np.zeros((0, 1),
                                                                               np.int64))]:
        _against_torch(lambda x: x.gather(0, tr.tensor(index)),  # noqa: B023
                       lambda t: t.gather(0, torch.tensor(index)), a0)  # noqa: B023


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@given(case=_gather_case(), data=st.data())
def test_gather_gradcheck(device, dtype, case, data):
    shape, dim, index = case
    x = data.draw(tst.tensors(shape, dtype=dtype, device=device, requires_grad=True))
    i = tr.tensor(index, device=device)
    f = lambda a, i: a.gather(dim, i)  # noqa: E731
    g = lambda a, i: a.gather(dim, i) ** 2  # noqa: E731
    assert gradcheck(f, [x, i]) and gradgradcheck(f, [x, i])
    assert gradcheck(g, [x, i]) and gradgradcheck(g, [x, i])


@pytest.mark.parametrize("device", DEVICES)
def test_gather_scatter_adds_repeated_picks(device):
    x = tr.tensor([[1.0, 2.0, 3.0]], dtype="float64", device=device, requires_grad=True)
    y = x.gather(1, tr.tensor([[2, 2, 0, 2]], device=device))
    assert y.tolist() == [[3.0, 3.0, 1.0, 3.0]] and y.device == device
    y.backward(tr.tensor([[1.0, 10.0, 100.0, 1000.0]], device=device))
    assert x.grad.tolist() == [[100.0, 0.0, 1011.0]]


@pytest.mark.parametrize("device", DEVICES)
def test_gather_errors(device):
    x = tr.tensor(np.arange(6.0).reshape(2, 3), device=device)
    with pytest.raises(ValueError, match=r"index 3 is out of bounds for dim 1 with size 3 "
                                         r"\(the index must lie in \[0, 3\)\)"):
        x.gather(1, tr.tensor([[0, 3]], device=device))
    with pytest.raises(ValueError, match="index -1 is out of bounds for dim 0 with size 2"):
        x.gather(-2, tr.tensor([[-1]], device=device))  # negative indices do not wrap, as torch
    with pytest.raises(ValueError, match=r"larger than x.*at dim 1"):
        x.gather(0, tr.tensor([[0, 0, 0, 0]], device=device))
    with pytest.raises(ValueError, match="as many dimensions"):
        x.gather(1, tr.tensor([0], device=device))
    with pytest.raises(ValueError, match="out of range"):
        x.gather(2, tr.tensor([[0]], device=device))
    with pytest.raises(TypeError, match="integers"):
        x.gather(1, tr.tensor([[0.0]], device=device))
    with pytest.raises(TypeError, match="integers"):
        x.gather(1, tr.tensor([[True]], device=device))
    with pytest.raises(TypeError, match="must be a Tensor"):
        x.gather(1, [[0]])
    with pytest.raises(ValueError, match="size 0"):
        tr.zeros(2, 0, device=device).gather(1, tr.tensor([[0]], device=device))


# ---- index_select --------------------------------------------------------------------------


@pytest.mark.torch
@given(case=_index_select_case(), data=st.data())
def test_index_select_matches_torch(case, data):
    torch = pytest.importorskip("torch")
    shape, dim, index = case
    a = data.draw(tst.arrays(shape))
    _against_torch(lambda x: x.index_select(dim, tr.tensor(index)),
                   lambda t: t.index_select(dim, torch.tensor(index)), a)
    _against_torch(lambda x: tr.index_select(x, dim=dim, index=tr.tensor(index)),
                   lambda t: torch.index_select(t, dim=dim, index=torch.tensor(index)), a)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", INT_DTYPES)
@given(case=_index_select_case(min_side=1))
def test_index_select_of_int_dtypes_matches_torch(dtype, case):
    torch = pytest.importorskip("torch")
    shape, dim, index = case
    a = _rng(3).integers(0, 9, shape).astype(dtype)
    y = tr.tensor(a).index_select(dim, tr.tensor(index.astype(np.int32)))
    u = torch.tensor(a).index_select(dim, torch.tensor(index.astype(np.int32)))
    assert y.dtype == a.dtype and y.shape == tuple(u.shape)
    np.testing.assert_array_equal(y.numpy(), u.numpy())


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@given(case=_index_select_case(), data=st.data())
def test_index_select_gradcheck(device, dtype, case, data):
    shape, dim, index = case
    x = data.draw(tst.tensors(shape, dtype=dtype, device=device, requires_grad=True))
    i = tr.tensor(index, device=device)
    f = lambda a, i: a.index_select(dim, i)  # noqa: E731
    g = lambda a, i: a.index_select(dim, i).sin()  # noqa: E731
    assert gradcheck(f, [x, i]) and gradgradcheck(f, [x, i])
    assert gradcheck(g, [x, i]) and gradgradcheck(g, [x, i])


@pytest.mark.parametrize("device", DEVICES)
def test_index_select_errors(device):
    x = tr.tensor(np.arange(6.0).reshape(2, 3), device=device)
    with pytest.raises(ValueError, match=r"index 3 is out of bounds for dim 1 with size 3"):
        x.index_select(1, tr.tensor([0, 3], device=device))
    with pytest.raises(ValueError, match=r"index -1 is out of bounds for dim 1"):
        x.index_select(-1, tr.tensor([-1], device=device))
    with pytest.raises(ValueError, match=r"1-D \(or 0-d\)"):
        x.index_select(0, tr.tensor([[0]], device=device))
    with pytest.raises(ValueError, match="one element"):
        tr.tensor(1.0, device=device).index_select(0, tr.tensor([0, 0], device=device))
    with pytest.raises(ValueError, match="out of range"):
        x.index_select(-3, tr.tensor([0], device=device))
    with pytest.raises(TypeError, match="integers"):
        x.index_select(0, tr.tensor([0.0], device=device))


# ---- masked_select -------------------------------------------------------------------------


@pytest.mark.torch
@given(case=_masked_case(min_side=0), data=st.data())
def test_masked_select_matches_torch(case, data):
    torch = pytest.importorskip("torch")
    shape, mask = case
    a = data.draw(tst.arrays(shape))
    _against_torch(lambda x: x.masked_select(tr.tensor(mask)),
                   lambda t: t.masked_select(torch.tensor(mask)), a)
    _against_torch(lambda x: tr.masked_select(x, tr.tensor(mask)),
                   lambda t: torch.masked_select(t, torch.tensor(mask)), a)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", INT_DTYPES)
@given(case=_masked_case())
def test_masked_select_of_int_dtypes_matches_torch(dtype, case):
    torch = pytest.importorskip("torch")
    shape, mask = case
    a = _rng(4).integers(0, 9, shape).astype(dtype)
    y, u = tr.tensor(a).masked_select(tr.tensor(mask)), torch.tensor(a).masked_select(
        torch.tensor(mask))
    assert y.dtype == a.dtype and y.shape == tuple(u.shape)
    np.testing.assert_array_equal(y.numpy(), u.numpy())


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@given(case=_masked_case(min_side=0), data=st.data())
def test_masked_select_gradcheck(device, dtype, case, data):
    shape, mask = case
    x = data.draw(tst.tensors(shape, dtype=dtype, device=device, requires_grad=True))
    m = tr.tensor(mask, device=device)
    f = lambda a, m: a.masked_select(m)  # noqa: E731
    g = lambda a, m: a.masked_select(m) ** 3  # noqa: E731
    assert gradcheck(f, [x, m]) and gradgradcheck(f, [x, m])
    assert gradcheck(g, [x, m]) and gradgradcheck(g, [x, m])


@pytest.mark.parametrize("device", DEVICES)
def test_masked_select_of_a_broadcast_x_sums_the_gradient(device):
    x = tr.tensor([1.0, 2.0, 3.0], dtype="float64", device=device, requires_grad=True)
    m = tr.tensor([[True, False, True], [True, True, False]], device=device)
    y = x.masked_select(m)
    assert y.tolist() == [1.0, 3.0, 1.0, 2.0] and y.device == device
    y.backward(tr.tensor([1.0, 10.0, 100.0, 1000.0], device=device))
    assert x.grad.tolist() == [101.0, 1000.0, 10.0]


@pytest.mark.parametrize("device", DEVICES)
def test_masked_select_errors(device):
    x = tr.tensor(np.arange(6.0).reshape(2, 3), device=device)
    with pytest.raises(TypeError, match="must be bool"):
        x.masked_select(tr.tensor([1, 0, 1], device=device))
    with pytest.raises(TypeError, match="bool Tensor"):
        x.masked_select([True, False, True])
    with pytest.raises(ValueError, match=r"mask of shape \(2,\) and x of shape \(2, 3\)"):
        x.masked_select(tr.tensor([True, False], device=device))


# ---- module-level names and small additions ------------------------------------------------


@pytest.mark.torch
def test_module_level_aliases_match_torch():
    torch = pytest.importorskip("torch")
    rng = _rng(5)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5))
    _against_torch(lambda x: tr.bmm(x, tr.tensor(b)), lambda t: torch.bmm(t, torch.tensor(b)), a)
    _against_torch(lambda x: tr.mm(x, tr.tensor(b[0])),
                   lambda t: torch.mm(t, torch.tensor(b[0])), a[0])
    _against_torch(lambda x: tr.clamp(x, -0.5, 0.5), lambda t: torch.clamp(t, -0.5, 0.5), a)
    _against_torch(lambda x: tr.clamp(x, min=0.1), lambda t: torch.clamp(t, min=0.1), a)
    for dims in [(0,), (1, -1), [2]]:
        _against_torch(lambda x: tr.flip(x, dims), lambda t: torch.flip(t, dims), a)  # noqa: B023
        _against_torch(lambda x: tr.flip(x, dims=dims),  # noqa: B023
                       lambda t: torch.flip(t, dims=dims), a)  # noqa: B023
    m = a > 0
    for f in ("all", "any"):
        assert getattr(tr, f)(tr.tensor(m)).item() == getattr(torch, f)(torch.tensor(m)).item()
        for dim in (0, -1):
            for keep in (False, True):
                y = getattr(tr, f)(tr.tensor(m), dim=dim, keepdim=keep)
                u = getattr(torch, f)(torch.tensor(m), dim=dim, keepdim=keep)
                assert y.dtype == np.bool_ and y.shape == tuple(u.shape)
                np.testing.assert_array_equal(y.numpy(), u.numpy())


def test_module_level_aliases_errors():
    x = tr.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="bmm takes two 3-D tensors"):
        tr.bmm(x, x)
    with pytest.raises(ValueError, match="mm takes two 2-D tensors"):
        tr.mm(x[None], x)
    with pytest.raises(ValueError, match="out of range"):
        tr.flip(x, 2)


def test_all_and_any_stay_out_of_the_star_import():
    # tr.all and tr.any are attributes; `from tinygrad_rnn import *` keeps Python's builtins
    assert "all" not in tr.__all__ and "any" not in tr.__all__
    for name in ("cumsum", "gather", "index_select", "masked_select", "bmm", "mm", "clamp", "flip",
                 "randperm", "randn_like", "rand_like", "empty"):
        assert name in tr.__all__ and callable(getattr(tr, name))


@pytest.mark.parametrize("device", DEVICES)
def test_randperm(device):
    tr.manual_seed(7)
    p = tr.randperm(10, device=device)
    assert p.dtype == np.int64 and p.device == device and sorted(p.tolist()) == list(range(10))
    tr.manual_seed(7)
    assert tr.randperm(10, device=device).tolist() == p.tolist()  # from tr's generator
    assert tr.randperm(0).shape == (0,) and tr.randperm(1).tolist() == [0]
    assert tr.randperm(4, dtype="float32").dtype == np.float32
    assert tr.randperm(np.int64(3)).shape == (3,)
    with pytest.raises(ValueError, match=">= 0"):
        tr.randperm(-1)
    with pytest.raises(TypeError, match="an int"):
        tr.randperm(2.0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["randn_like", "rand_like"])
def test_randn_like_and_rand_like(name, device):
    like = getattr(tr, name)
    x = tr.zeros(2, 3, dtype="float64", device=device)
    y = like(x)
    assert y.shape == (2, 3) and y.dtype == np.float64 and y.device == device
    assert not y.requires_grad and like(x, requires_grad=True).requires_grad
    assert like(x, dtype="float32").dtype == np.float32
    assert like(x, device="cpu").device == "cpu"
    tr.manual_seed(3)
    a = like(x).numpy()
    tr.manual_seed(3)
    np.testing.assert_array_equal(like(x).numpy(), a)
    if name == "rand_like":
        assert np.all((a >= 0) & (a < 1))
    with pytest.raises(TypeError, match="floating-point"):
        like(tr.tensor([1, 2], device=device))
    assert like(tr.tensor([1, 2], device=device), dtype="float32").dtype == np.float32


@pytest.mark.parametrize("device", DEVICES)
def test_empty_is_zero_filled_and_is_cuda(device):
    for args in [(2, 3), ((2, 3),), ([2, 3],), (0,), ((),)]:
        e = tr.empty(*args, device=device)
        assert e.dtype == np.float32 and e.device == device and not np.any(e.numpy())
    assert tr.empty(2, 3).shape == (2, 3) and tr.empty(()).shape == ()
    assert tr.empty(2, dtype="int64").dtype == np.int64
    assert tr.empty(2, requires_grad=True).requires_grad
    assert tr.tensor([1.0], device=device).is_cuda is False


@gpu
@needs_cuda
def test_is_cuda_on_the_gpu():
    assert tr.tensor([1.0], device="cuda").is_cuda and not tr.tensor([1.0]).is_cuda

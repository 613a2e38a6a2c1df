"""prod (a primitive op whose gradient is built from exclusive running products, so it is exact
with zeros in the input), scatter and scatter_add (out of place; gradients for x and src),
repeat_interleave and unfold (one differentiable gather each), and TensorXP's cumprod (the
differentiable running product that prod's backward uses under create_graph=True).

Values, result dtypes, gradients and second derivatives against PyTorch in float64 (negative
dims, 0-d and empty tensors, one and several zeros along the reduced axis); gradcheck and
gradgradcheck in float64 on every device over drawn shapes, axes and indices; and the errors.

Where ours differs from PyTorch: scatter with duplicate positions keeps the last element along
the axis (PyTorch: unspecified), and only that element gets a gradient (PyTorch gives gy to
every duplicate); a src larger than index gets zeros where index does not reach (PyTorch
raises in backward); scatter's ``reduce`` is differentiable here (not in PyTorch)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr
from tinygrad_rnn.backend import get_device
from tinygrad_rnn.ops.movement import repeat_interleave, scatter, scatter_add, unfold
from tinygrad_rnn.ops.reduce import prod
from tinygrad_rnn.ops.tensor_xp import TensorXP
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES

TOL = {"rtol": 1e-10, "atol": 1e-12}  # float64 throughout: only rounding differs


def _against_torch(ours, theirs, arrays, seed=0):
    """Run ``ours`` on float64 tensors of ``arrays`` and ``theirs`` on torch's: equal values
    and shapes, equal gradients of sum(f(xs)³ v) for every input, and equal second derivatives
    (those gradients, recorded with create_graph=True, differentiated again along w)."""
    torch = pytest.importorskip("torch")
    xs = [tr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, u = ours(*xs), theirs(*ts)
    assert y.dtype == np.float64 and y.shape == tuple(u.shape)
    np.testing.assert_allclose(y.numpy(), u.detach().numpy(), **TOL)
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(y.shape)
    gs = tr.grad((y ** 3 * tr.tensor(v)).sum(), xs, create_graph=True, allow_unused=True)
    gts = torch.autograd.grad((u ** 3 * torch.tensor(v)).sum(), ts, create_graph=True,
                              allow_unused=True)
    ws = [rng.standard_normal(np.shape(a)) for a in arrays]
    for g, gt, a in zip(gs, gts, arrays):
        np.testing.assert_allclose(np.zeros(np.shape(a)) if g is None else g.numpy(),
                                   np.zeros(np.shape(a)) if gt is None else gt.detach().numpy(),
                                   **TOL)
    ours2 = [(g * tr.tensor(w)).sum() for g, w in zip(gs, ws) if g is not None and
             g.requires_grad]
    theirs2 = [(g * torch.tensor(w)).sum() for g, w in zip(gts, ws) if g is not None and
               g.requires_grad]
    if not theirs2:  # torch recorded nothing: nothing depends on the inputs twice
        return
    ggs = tr.grad(sum(ours2), xs, allow_unused=True) if ours2 else [None] * len(xs)
    ggts = torch.autograd.grad(sum(theirs2), ts, allow_unused=True)
    for g, gt, a in zip(ggs, ggts, arrays):
        np.testing.assert_allclose(np.zeros(np.shape(a)) if g is None else g.numpy(),
                                   np.zeros(np.shape(a)) if gt is None else gt.numpy(), **TOL)


# ---- prod ----------------------------------------------------------------------------------


@st.composite
def _prod_case(draw, min_side=0):
    """(an array with some zeros, an axis: None, or one int, negative too)."""
    shape = draw(tst.shapes(min_dims=0, max_dims=3, min_side=min_side))
    # rounded: no subnormal numbers, at which torch's (divided) second derivative is NaN
    a = np.asarray(np.round(draw(tst.arrays(shape, min_value=-2.0, max_value=2.0)), 3))
    a[draw(hnp.arrays(np.bool_, shape, elements=st.integers(0, 3).map(lambda k: k == 0)))] = 0
    n = max(len(shape), 1)
    return a, draw(st.none() | st.integers(-n, n - 1))


ZERO_ROWS = np.array([[1.5, -2.0, 0.5, 3.0],  # no zero
                      [1.5, 0.0, 0.5, 3.0],  # one zero
                      [0.0, -2.0, 0.0, 3.0],  # two zeros
                      [0.0, 0.0, 0.0, 0.0]])  # all zeros


@pytest.mark.torch
@given(case=_prod_case(), keep=st.booleans())
def test_prod_matches_torch(case, keep):
    torch = pytest.importorskip("torch")
    a, dim = case
    if dim is None:
        _against_torch(prod, torch.prod, [a])
    else:
        _against_torch(lambda x: prod(x, dim=dim, keepdim=keep),
                       lambda t: torch.prod(t, dim=dim, keepdim=keep), [a])


@pytest.mark.torch
@pytest.mark.parametrize("dim", [0, 1, -1, None])
def test_prod_with_zeros_matches_torch(dim):
    for a in (ZERO_ROWS, ZERO_ROWS.T.copy(), ZERO_ROWS[1:3]):
        f = (lambda t: t.prod()) if dim is None else (lambda t: t.prod(dim))
        _against_torch(prod if dim is None else lambda x: prod(x, dim), f, [a])


@pytest.mark.parametrize("device", DEVICES)
def test_prod_gradient_is_exact_with_zeros(device):
    x = tr.tensor(ZERO_ROWS, device=device, requires_grad=True)
    y = prod(x, 1)
    assert y.tolist() == [-4.5, 0.0, 0.0, 0.0] and y.device == device
    y.backward(tr.ones(4, dtype="float64", device=device))
    # the product of the others: no zero: y / x; one zero: nonzero there alone; two: none
    np.testing.assert_array_equal(x.grad.numpy(), [[-3.0, 2.25, -9.0, -1.5],
                                                   [0.0, 2.25, 0.0, 0.0], [0.0] * 4, [0.0] * 4])
    # second derivative of prod([0, 0, 3]) in x0 and x1: 3 (the product of the rest)
    z = tr.tensor([0.0, 0.0, 3.0], dtype="float64", device=device, requires_grad=True)
    (g,) = tr.grad(prod(z), z, create_graph=True)
    assert g.tolist() == [0.0, 0.0, 0.0] and g.requires_grad
    (gg,) = tr.grad(g[0], z)
    assert gg.tolist() == [0.0, 3.0, 0.0]


@pytest.mark.parametrize("device", DEVICES)
@given(case=_prod_case(min_side=1))
def test_prod_gradcheck(device, case):
    a, dim = case
    x = tr.tensor(a, device=device, requires_grad=True)
    f = lambda t: prod(t, dim)  # noqa: E731
    g = lambda t: prod(t * t, dim, keepdims=True) * t  # noqa: E731  (broadcast back)
    assert gradcheck(f, [x]) and gradgradcheck(f, [x])
    assert gradcheck(g, [x]) and gradgradcheck(g, [x])


@pytest.mark.torch
@pytest.mark.parametrize("cast", [None, "int64", "float32", "float64"])
@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int32", "int64", "float32"])
def test_prod_dtypes_match_torch(dtype, cast):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(1).integers(0, 4, (3, 4)).astype(dtype)
    for dim in (None, 0, -1):
        y = prod(tr.tensor(a), dim, dtype=cast)
        t = torch.tensor(a)
        kw = {} if cast is None else {"dtype": getattr(torch, cast)}
        u = t.prod(**kw) if dim is None else t.prod(dim, **kw)
        assert y.dtype.name == str(u.dtype).removeprefix("torch.")
        assert not y.requires_grad
        np.testing.assert_array_equal(y.numpy(), u.numpy())


@pytest.mark.torch
def test_prod_of_0d_and_empty_tensors_matches_torch():
    torch = pytest.importorskip("torch")
    for a, dim in [(np.array(2.5), None), (np.array(2.5), 0), (np.array(2.5), -1),
                   (np.zeros((0,)), None), (np.zeros((2, 0)), 1), (np.zeros((2, 0)), 0),
                   (np.zeros((0, 3)), 0)]:
        for keep in (False, True):
            y = prod(tr.tensor(a), dim, keep)
            t = torch.tensor(a)
            u = (t.prod() if not keep else t.prod().reshape((1,) * a.ndim)) if dim is None \
                else t.prod(dim, keep)
            assert y.shape == tuple(u.shape)
            np.testing.assert_array_equal(y.numpy(), u.numpy())
    x = tr.tensor(np.zeros((2, 0)), requires_grad=True)
    prod(x, 1).sum().backward()
    assert x.grad.shape == (2, 0)


@pytest.mark.parametrize("device", DEVICES)
def test_prod_keeps_float32(device):
    x = tr.tensor([[0.5, 2.0], [0.0, 3.0]], dtype="float32", device=device, requires_grad=True)
    y = prod(x, 0)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == np.float32
    assert y.tolist() == [0.0, 6.0] and x.grad.tolist() == [[0.0, 3.0], [0.5, 2.0]]


def test_prod_errors():
    x = tr.tensor([[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"dim 2 is out of range.*\[-2, 1\]"):
        prod(x, 2)
    with pytest.raises(TypeError, match="one int"):
        prod(x, (0, 1))  # torch's prod takes one dim
    with pytest.raises(TypeError, match="both axis= and dim="):
        prod(x, axis=0, dim=1)


@pytest.mark.parametrize("device", DEVICES)
@given(shape=tst.shapes(min_dims=1, max_dims=2, min_side=0, max_side=9), data=st.data())
def test_tensor_xp_cumprod_is_a_differentiable_running_product(device, shape, data):
    a = np.round(data.draw(tst.arrays(shape, min_value=-2.0, max_value=2.0)), 3)  # (as above)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    xp = TensorXP(get_device(device))
    x = tr.tensor(a, device=device, requires_grad=True)
    np.testing.assert_allclose(xp.cumprod(x, axis).numpy(), np.cumprod(a, axis), rtol=1e-12)
    if all(shape):
        f = lambda t: xp.cumprod(t, axis)  # noqa: E731
        assert gradcheck(f, [x]) and gradgradcheck(f, [x])


# ---- scatter and scatter_add ---------------------------------------------------------------


@st.composite
def _scatter_case(draw, unique=False, min_side=1, larger_src=True):
    """(x's shape, dim, index, src's shape): an int64 index with x's number of dims (a 0-d x
    counting as one of shape (1,), so its index and src may be 0-d), index.size(d) <=
    x.size(d) for d != dim, src at least index's size everywhere, values in range. With
    ``unique`` no two elements of index name one position (and index.size(dim) <=
    x.size(dim)): each line along dim is the start of a random permutation. The index is
    rarely empty (``test_scatter_of_0d_and_empty_index_matches_torch`` has those)."""
    shape = draw(tst.shapes(min_dims=0, max_dims=3, min_side=min_side))
    full = shape or (1,)
    dim = draw(st.integers(-len(full), len(full) - 1))
    ax, n = dim % len(full), full[dim]
    ishape = [draw(st.integers(min(m, 1), m)) for m in full]
    ishape[ax] = draw(st.integers(1, n if unique else 4)) if n else 0
    sshape = [m + draw(st.integers(0, 1)) if larger_src else m for m in ishape]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if unique:
        keys = rng.random((*ishape[:ax], n, *ishape[ax + 1:]))
        index = np.take(np.argsort(keys, axis=ax), range(ishape[ax]), axis=ax)
    else:
        index = rng.integers(0, max(n, 1), ishape)
    if not shape and ishape == [1] and draw(st.booleans()):
        index = index.reshape(())
    if not larger_src:
        sshape = list(index.shape)
    elif not shape and sshape == [1] and draw(st.booleans()):
        sshape = []
    return shape, dim, index.astype(np.int64), tuple(sshape)


def _scatter_reference(a, dim, index, src, how=None):
    """scatter by a Python loop over index in row-major order (the last write wins)."""
    y, a_dim = a.copy().reshape(a.shape or (1,)), dim % max(a.ndim, 1)
    src = src.reshape(src.shape or (1,))
    for pos in np.ndindex(*(index.shape or (1,))):
        at = list(pos)
        at[a_dim] = index.reshape(index.shape or (1,))[pos]
        at = tuple(at)
        y[at] = src[pos] if how is None else y[at] + src[pos] if how == "add" else \
            y[at] * src[pos]
    return y.reshape(a.shape)


@pytest.mark.torch
@given(case=_scatter_case(unique=True, larger_src=False), data=st.data())
def test_scatter_matches_torch(case, data):
    torch = pytest.importorskip("torch")
    shape, dim, index, sshape = case
    a, s = data.draw(tst.arrays(shape)), data.draw(tst.arrays(sshape))
    _against_torch(lambda x, u: scatter(x, dim, tr.tensor(index), u),
                   lambda x, u: torch.scatter(x, dim, torch.tensor(index), u), [a, s])
    _against_torch(lambda x: scatter(x, dim=dim, index=tr.tensor(index), value=1.5),
                   lambda x: torch.scatter(x, dim=dim, index=torch.tensor(index), value=1.5),
                   [a])


@pytest.mark.torch
@given(case=_scatter_case(larger_src=False), data=st.data())
def test_scatter_add_matches_torch(case, data):
    torch = pytest.importorskip("torch")
    shape, dim, index, sshape = case
    a, s = data.draw(tst.arrays(shape)), data.draw(tst.arrays(sshape))
    _against_torch(lambda x, u: scatter_add(x, dim, tr.tensor(index), u),
                   lambda x, u: torch.scatter_add(x, dim, torch.tensor(index), u), [a, s])


@pytest.mark.torch
@given(case=_scatter_case(min_side=0), data=st.data())
def test_scatter_values_with_duplicates_and_larger_src_match_torch(case, data):
    torch = pytest.importorskip("torch")
    shape, dim, index, sshape = case
    a, s = data.draw(tst.arrays(shape)), data.draw(tst.arrays(sshape))
    i, t, u = torch.tensor(index), torch.tensor(a), torch.tensor(s)
    x, src = tr.tensor(a), tr.tensor(s)
    ours = {"add": scatter_add(x, dim, tr.tensor(index), src).numpy()}
    theirs = {"add": torch.scatter_add(t, dim, i, u).numpy()}
    with warnings.catch_warnings():  # torch's reduce= is deprecated
        warnings.simplefilter("ignore", UserWarning)
        for how in ("add", "multiply"):
            ours[how + "="] = scatter(x, dim, tr.tensor(index), src, reduce=how).numpy()
            theirs[how + "="] = torch.scatter(t, dim, i, u, reduce=how).numpy()
    ours["last"] = scatter(x, dim, tr.tensor(index), src).numpy()  # torch: unspecified
    theirs["last"] = _scatter_reference(a, dim, index, s)
    for k in ours:
        assert ours[k].shape == theirs[k].shape
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-12, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("device", DEVICES)
def test_scatter_with_duplicates_keeps_the_last_and_its_gradient(device):
    x = tr.tensor(np.zeros((2, 3)), device=device, requires_grad=True)
    src = tr.tensor(np.arange(1.0, 9.0).reshape(2, 4), device=device, requires_grad=True)
    index = tr.tensor([[0, 2, 0, 0], [1, 1, 2, 1]], device=device)
    y = scatter(x, 1, index, src)
    assert y.tolist() == [[4.0, 0.0, 2.0], [0.0, 8.0, 7.0]] and y.device == device
    y.backward(tr.tensor([[1.0, 10.0, 100.0], [1000.0, 1e4, 1e5]], device=device))
    assert x.grad.tolist() == [[0.0, 10.0, 0.0], [1000.0, 0.0, 0.0]]
    assert src.grad.tolist() == [[0.0, 100.0, 0.0, 1.0], [0.0, 0.0, 1e5, 1e4]]
    x.grad = src.grad = None
    scatter_add(x, 1, index, src).backward(tr.tensor([[1.0, 10.0, 100.0], [1e3, 1e4, 1e5]],
                                                     device=device))
    assert x.grad.tolist() == [[1.0, 10.0, 100.0], [1e3, 1e4, 1e5]]
    assert src.grad.tolist() == [[1.0, 100.0, 1.0, 1.0], [1e4, 1e4, 1e5, 1e4]]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("how", ["set", "add", "multiply", "scatter_add"])
@given(case=_scatter_case(min_side=1), data=st.data())
def test_scatter_gradcheck(device, how, case, data):
    shape, dim, index, sshape = case
    x = data.draw(tst.tensors(shape, device=device, requires_grad=True))
    src = data.draw(tst.tensors(sshape, device=device, requires_grad=True))
    i = tr.tensor(index, device=device)
    if how == "scatter_add":
        f = lambda a, s: scatter_add(a, dim, i, s)  # noqa: E731
    else:
        f = lambda a, s: scatter(a, dim, i, s, None if how == "set" else how)  # noqa: E731
    # f is linear in x and src but for reduce="multiply", whose second derivative is nonzero
    assert gradcheck(f, [x, src]) and gradgradcheck(f, [x, src])


@pytest.mark.parametrize("device", DEVICES)
def test_scatter_keeps_dtypes_and_devices(device):
    x = tr.tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float32", device=device, requires_grad=True)
    src = tr.tensor([[5.0, 6.0]], dtype="float32", device=device, requires_grad=True)
    i = tr.tensor([[1, 0]], device=device)
    for y in (scatter(x, 0, i, src), scatter_add(x, 0, i, src),
              scatter(x, 0, i, src, reduce="multiply")):
        x.grad = src.grad = None
        y.sum().backward()
        assert y.dtype == x.grad.dtype == src.grad.dtype == np.float32 and y.device == device
    n = tr.tensor([0, 0, 0], device=device)
    assert scatter(n, 0, tr.tensor([2], device=device), 7.5).tolist() == [0, 0, 7]  # as torch
    assert scatter_add(n, 0, tr.tensor([1, 1], device=device),
                       tr.tensor([2, 3], device=device)).tolist() == [0, 5, 0]


@pytest.mark.torch
def test_scatter_of_0d_and_empty_index_matches_torch():
    torch = pytest.importorskip("torch")
    cases = [(np.array(1.0), np.array(0), np.array(5.0)),
             (np.array(1.0), np.array([0]), np.array([5.0])),
             (np.array([1.0, 2.0]), np.array(1), np.array(5.0)),
             (np.zeros((3, 4)), np.zeros(0, np.int64), np.ones((3, 4))),  # empty: no checks
             (np.zeros((3, 4)), np.zeros((0, 7), np.int64), np.ones(1))]
    for a, index, s in cases:
        for ours, theirs in [(scatter, torch.scatter), (scatter_add, torch.scatter_add)]:
            y = ours(tr.tensor(a), 0, tr.tensor(index), tr.tensor(s))
            u = theirs(torch.tensor(a), 0, torch.tensor(index), torch.tensor(s))
            assert y.shape == tuple(u.shape)
            np.testing.assert_array_equal(y.numpy(), u.numpy())
    x = tr.tensor(np.ones(3), requires_grad=True)
    scatter(x, 0, tr.tensor(np.zeros(0, np.int64)), 2.0).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("device", DEVICES)
def test_scatter_errors(device):
    x = tr.tensor(np.zeros((2, 3)), device=device)
    src = tr.tensor(np.ones((2, 3)), device=device)
    i = tr.tensor([[0, 1]], device=device)
    for f in (scatter, scatter_add):
        with pytest.raises(ValueError, match=r"index 3 is out of bounds for dim 1 with size 3"):
            f(x, 1, tr.tensor([[3]], device=device), src)
        with pytest.raises(ValueError, match="index -1 is out of bounds for dim 0"):
            f(x, 0, tr.tensor([[-1]], device=device), src)  # no wrapping, as torch
        with pytest.raises(ValueError, match=r"index of shape \(2,\) must have as many dim"):
            f(x, 0, tr.tensor([0, 1], device=device), src)
        with pytest.raises(ValueError, match=r"src, of shape \(3,\)"):
            f(x, 0, i, tr.tensor(np.ones(3), device=device))
        with pytest.raises(ValueError, match=r"larger than src.*at dim 1"):
            f(x, 0, tr.tensor([[0, 0, 0]], device=device), src[:, :2])
        with pytest.raises(ValueError, match=r"or than x, of shape \(2, 3\), at dim 1"):
            f(x, 0, tr.tensor([[0, 0, 0, 0]], device=device),
              tr.tensor(np.ones((1, 4)), device=device))
        with pytest.raises(TypeError, match=r"src's dtype float32 differs from x's float64"):
            f(x, 0, i, tr.tensor(np.ones((2, 3)), dtype="float32", device=device))
        with pytest.raises(TypeError, match="integers"):
            f(x, 0, tr.tensor([[0.0]], device=device), src)
        with pytest.raises(TypeError, match="must be a Tensor"):
            f(x, 0, [[0]], src)
        with pytest.raises(ValueError, match="out of range"):
            f(x, 2, i, src)
    # along dim, index may be longer than x (but not than src), as torch
    assert scatter(x, 0, tr.tensor([[0], [1], [0]], device=device),
                   tr.tensor(np.ones((3, 1)), device=device)).shape == (2, 3)
    with pytest.raises(TypeError, match="must be a Tensor, got float"):
        scatter_add(x, 0, i, 1.0)
    with pytest.raises(TypeError, match="not both or neither"):
        scatter(x, 0, i, src, value=1.0)
    with pytest.raises(TypeError, match="not both or neither"):
        scatter(x, 0, i)
    with pytest.raises(ValueError, match="reduce must be None, 'add' or 'multiply'"):
        scatter(x, 0, i, src, reduce="mean")


# ---- repeat_interleave ---------------------------------------------------------------------


@st.composite
def _repeat_case(draw, min_side=0):
    """(x's shape, dim or None, repeats: an int, or an int64 array of one per slice or one for
    all, 0-d or 1-D)."""
    shape = draw(tst.shapes(min_dims=0, max_dims=3, min_side=min_side))
    dim = None if not shape or draw(st.booleans()) else \
        draw(st.integers(-len(shape), len(shape) - 1))
    n = int(np.prod(shape)) if dim is None else shape[dim]
    kind = draw(st.sampled_from(["int", "one", "each", "0d"]))
    if kind == "int":
        return shape, dim, draw(st.integers(0, 3))
    k = n if kind == "each" else 1
    r = draw(hnp.arrays(np.int64, (k,), elements=st.integers(0, 3)))
    return shape, dim, r.reshape(()) if kind == "0d" else r


def _repeats(r, lib):
    return r if isinstance(r, int) else lib.tensor(r)


@pytest.mark.torch
@given(case=_repeat_case(), data=st.data())
def test_repeat_interleave_matches_torch(case, data):
    torch = pytest.importorskip("torch")
    shape, dim, r = case
    a = data.draw(tst.arrays(shape))
    _against_torch(lambda x: repeat_interleave(x, _repeats(r, tr), dim=dim),
                   lambda t: torch.repeat_interleave(t, _repeats(r, torch), dim=dim), [a])


@pytest.mark.parametrize("device", DEVICES)
@given(case=_repeat_case(min_side=1), data=st.data())
def test_repeat_interleave_gradcheck(device, case, data):
    shape, dim, r = case
    x = data.draw(tst.tensors(shape, device=device, requires_grad=True))
    reps = r if isinstance(r, int) else tr.tensor(r, device=device)
    f = lambda t: repeat_interleave(t, reps, dim) ** 3  # noqa: E731
    assert gradcheck(f, [x]) and gradgradcheck(f, [x])


@pytest.mark.parametrize("device", DEVICES)
def test_repeat_interleave_adds_up_gradients_and_keeps_dtypes(device):
    x = tr.tensor([[1.0, 2.0, 3.0]], dtype="float32", device=device, requires_grad=True)
    y = repeat_interleave(x, tr.tensor([2, 0, 1], dtype="int32", device=device), 1)
    assert y.tolist() == [[1.0, 1.0, 3.0]] and y.dtype == np.float32 and y.device == device
    y.backward(tr.tensor([[1.0, 10.0, 100.0]], dtype="float32", device=device))
    assert x.grad.tolist() == [[11.0, 0.0, 100.0]] and x.grad.dtype == np.float32
    n = repeat_interleave(tr.tensor([[1, 2]], device=device), 2)
    assert n.tolist() == [1, 1, 2, 2] and n.dtype == np.int64


@pytest.mark.parametrize("device", DEVICES)
def test_repeat_interleave_errors(device):
    x = tr.tensor(np.zeros((2, 3)), device=device)
    with pytest.raises(ValueError, match=r"2 repeats for 3 slices along dim 1.*\(2, 3\)"):
        repeat_interleave(x, tr.tensor([1, 2], device=device), 1)
    with pytest.raises(ValueError, match="must not be negative, got -1"):
        repeat_interleave(x, -1, 1)
    with pytest.raises(ValueError, match="must not be negative, got -2"):
        repeat_interleave(x, tr.tensor([1, -2, 1], device=device), 1)
    with pytest.raises(ValueError, match=r"0-d or 1-D, got shape \(1, 3\)"):
        repeat_interleave(x, tr.tensor([[1, 1, 1]], device=device), 1)
    with pytest.raises(TypeError, match="must hold integers"):
        repeat_interleave(x, tr.tensor([1.0, 1.0, 1.0], device=device), 1)
    for bad in (2.0, True, [1, 2, 3]):
        with pytest.raises(TypeError, match="repeats must be an int"):
            repeat_interleave(x, bad, 1)
    with pytest.raises(ValueError, match="out of range"):
        repeat_interleave(x, 2, 2)
    with pytest.raises(ValueError, match="0-d tensor takes dim=None"):
        repeat_interleave(tr.tensor(1.0), 2, 0)  # as torch


# ---- unfold --------------------------------------------------------------------------------


@st.composite
def _unfold_case(draw, min_side=0):
    """(x's shape, dimension, size in [0, n], step in [1, n + 1]): windows that overlap
    (step < size), touch, or leave gaps."""
    shape = draw(tst.shapes(min_dims=0, max_dims=3, min_side=min_side))
    n_dims = max(len(shape), 1)
    dim = draw(st.integers(-n_dims, n_dims - 1))
    n = shape[dim] if shape else 1
    return shape, dim, draw(st.integers(0, n)), draw(st.integers(1, n + 1))


@pytest.mark.torch
@given(case=_unfold_case(), data=st.data())
def test_unfold_matches_torch(case, data):
    shape, dim, size, step = case
    a = data.draw(tst.arrays(shape))
    _against_torch(lambda x: unfold(x, dim, size, step), lambda t: t.unfold(dim, size, step),
                   [a])


@pytest.mark.parametrize("device", DEVICES)
@given(case=_unfold_case(min_side=1), data=st.data())
def test_unfold_gradcheck(device, case, data):
    shape, dim, size, step = case
    x = data.draw(tst.tensors(shape, device=device, requires_grad=True))
    f = lambda t: unfold(t, dim, size, step) ** 2  # noqa: E731
    assert gradcheck(f, [x]) and gradgradcheck(f, [x])


@pytest.mark.parametrize("device", DEVICES)
def test_unfold_adds_up_gradients_where_windows_overlap(device):
    x = tr.tensor(np.arange(5.0), dtype="float32", device=device, requires_grad=True)
    y = unfold(x, 0, 3, 1)
    assert y.tolist() == [[0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [2.0, 3.0, 4.0]]
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0, 2.0, 1.0] and x.grad.dtype == np.float32
    m = unfold(tr.tensor(np.arange(12).reshape(3, 4), device=device), 1, 2, 2)
    assert m.shape == (3, 2, 2) and m.dtype == np.int64 and m.device == device
    assert m[1].tolist() == [[4, 5], [6, 7]]


@pytest.mark.parametrize("device", DEVICES)
def test_unfold_errors(device):
    x = tr.tensor(np.zeros((2, 5)), device=device)
    with pytest.raises(ValueError, match=r"size 6 is larger than dimension 1 of x, of shape "
                                         r"\(2, 5\), which has 5 elements"):
        unfold(x, 1, 6, 1)
    with pytest.raises(ValueError, match="step > 0, got size=2, step=0"):
        unfold(x, 1, 2, 0)
    with pytest.raises(ValueError, match="size must be >= 0"):
        unfold(x, 1, -1, 1)
    with pytest.raises(ValueError, match="out of range"):
        unfold(x, 2, 1, 1)
    with pytest.raises(TypeError, match="size must be an int, got float"):
        unfold(x, 1, 2.0, 1)
    with pytest.raises(TypeError, match="step must be an int"):
        unfold(x, 1, 2, True)
    with pytest.raises(TypeError, match="one int"):
        unfold(x, (0, 1), 2, 1)
    with pytest.raises(ValueError, match="larger than dimension 0"):
        unfold(tr.tensor(1.0, device=device), 0, 2, 1)

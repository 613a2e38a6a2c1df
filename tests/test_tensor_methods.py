"""The Tensor methods a PyTorch user reaches for: std, norm, pow, softmax, log_softmax, clone,
contiguous, chunk, flip, expand_as, view_as, reshape_as, any, all, half, ``//`` and ``%``.

Values, result dtypes and gradients against PyTorch (float64), and gradchecks on every device
for the two new primitive ops (``FloorDivide``, ``Remainder``) and the compositions with a
masked gradient (``norm``, ``std``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import nn
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES
from .test_ops_torch import _compare_with_torch, _rng

# ---- std and norm ------------------------------------------------------------------------

AXES = [None, 0, 1, -1, (0, 1)]


@pytest.mark.torch
@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
def test_std_matches_torch(axis, keepdims, correction):
    a = _rng(1).standard_normal((3, 4))
    _compare_with_torch(lambda x: x.std(axis, keepdims=keepdims, correction=correction),
                        lambda t: t.std(dim=axis, keepdim=keepdims, correction=correction), [a])


@pytest.mark.torch
def test_std_gradient_of_constant_is_zero_as_torch():
    # var is 0, so sqrt's slope is infinite; PyTorch gives 0 there, and so do we (not NaN)
    a = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    xs = _compare_with_torch(lambda x: x.std(axis=1), lambda t: t.std(dim=1), [a])
    assert np.all(xs[0].grad.numpy()[0] == 0)


NORMS = [2, "fro", 1, math.inf, -math.inf, 0.5, 1.5, 3, 7.0]


@pytest.mark.torch
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("p", NORMS, ids=str)
def test_norm_matches_torch(p, axis, keepdims):
    # row 0 is all zeros (the norm's gradient there is 0/0: PyTorch takes 0), row 1 has a zero
    a = _rng(2).standard_normal((3, 4))
    a[0] = 0.0
    a[1, 2] = 0.0
    _compare_with_torch(lambda x: x.norm(p, axis, keepdims),
                        lambda t: t.norm(p, dim=axis, keepdim=keepdims), [a])


@pytest.mark.torch
@pytest.mark.parametrize("p", NORMS, ids=str)
def test_norm_gradient_at_zero_is_zero_as_torch(p):
    torch = pytest.importorskip("torch")
    x = tr.zeros(3, dtype=np.float64, requires_grad=True)
    t = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    x.norm(p).backward()
    t.norm(p).backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    assert np.all(x.grad.numpy() == 0)


def test_norm_and_std_keep_float32():
    x = tr.randn(3, 4)
    for y in (x.norm(), x.norm(3, axis=1), x.norm(math.inf), x.std(axis=0)):
        assert y.dtype == np.float32


def test_norm_refuses_what_it_does_not_compute():
    x = tr.randn(3)
    with pytest.raises(ValueError, match="p must be"):
        x.norm("max")
    with pytest.raises(ValueError, match="matrix"):  # "nuc" needs a matrix
        x.norm("nuc")
    v = np.array([0.5, -2.0, 4.0])  # p < 0 and "nuc" as linalg's, None as 2, as PyTorch's
    assert np.isclose(tr.tensor(v).norm(-1).item(), 1 / np.sum(1 / np.abs(v)))
    assert np.isclose(tr.tensor(v).norm(None).item(), np.linalg.norm(v))
    a = np.arange(6.0).reshape(2, 3)
    assert np.isclose(tr.tensor(a).norm("nuc").item(), np.linalg.norm(a, "nuc"))
    with pytest.raises(TypeError, match="floating-point"):
        tr.tensor([3, 4]).norm()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("p", [2, 1, math.inf, 0.5, 3])
@given(data=st.data())
def test_norm_and_std_gradients(p, device, data):
    a = data.draw(tst.arrays((2, 3)))
    a = np.where(np.abs(a) < 1e-2, 0.5, a)  # off the kinks of |x|
    if math.isinf(p):  # no ties for the largest |x| of a row
        a = a + np.arange(6).reshape(2, 3) * 0.1 * np.sign(a)
        top = np.sort(np.abs(a), axis=1)
        assume(np.all(top[:, -1] - top[:, -2] > 1e-3))
    x = tr.tensor(a, device=device, requires_grad=True)
    norm = lambda t: t.norm(p, axis=1)  # noqa: E731
    assert gradcheck(norm, [x]) and gradgradcheck(norm, [x])
    y = tr.tensor(a + np.arange(3), device=device, requires_grad=True)  # never constant
    assert gradcheck(lambda t: t.std(axis=1), [y]) and gradgradcheck(lambda t: t.std(), [y])


# ---- pow, softmax, log_softmax ------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_pow_softmax_log_softmax_match_torch(axis):
    a = _rng(3).standard_normal((2, 5))
    b = 0.5 + np.abs(a)
    _compare_with_torch(lambda x: x.pow(3), lambda t: t.pow(3), [a])
    _compare_with_torch(lambda x, y: x.pow(y), lambda t, u: t.pow(u), [b, a])
    _compare_with_torch(lambda x: x.softmax(axis), lambda t: t.softmax(axis), [a])
    _compare_with_torch(lambda x: x.log_softmax(axis), lambda t: t.log_softmax(axis), [a])


# ---- clone, contiguous, half --------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
def test_clone_copies_bits_and_passes_the_gradient(device):
    bits = np.array([np.float64(-0.0).view(np.uint64), 0x7FF8_0000_0000_1234], dtype=np.uint64)
    a = np.concatenate([bits.view(np.float64), [1.5]])
    x = tr.tensor(a, device=device, requires_grad=True)
    c = x.clone()
    assert c._data is not x._data and c.requires_grad and c.grad_fn is not None
    np.testing.assert_array_equal(c.numpy().view(np.uint64), a.view(np.uint64))  # -0.0, payload
    (c * tr.tensor([1.0, 2.0, 3.0], device=device)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0])
    assert gradcheck(lambda t: t.clone(), [x[2:]]) and gradgradcheck(lambda t: t.clone(), [x[2:]])


def test_clone_owns_its_array_and_keeps_dtype():
    x = tr.tensor([1, 2, 3])
    c = x.clone()
    assert c.dtype == np.int64 and not c.requires_grad
    assert not np.shares_memory(c._data, x._data)


def test_contiguous_is_self_and_half_is_float16():
    x = tr.randn(2, 3, requires_grad=True)
    assert x.contiguous() is x
    h = x.half()
    assert h.dtype == np.float16
    h.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))


# ---- chunk, flip, expand_as, view_as, reshape_as ------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("chunks", [1, 2, 3, 4, 5, 7])
@pytest.mark.parametrize("n", [0, 1, 5, 6, 7])
def test_chunk_matches_torch(n, chunks):
    torch = pytest.importorskip("torch")
    a = np.arange(2 * n, dtype=np.float64).reshape(2, n)
    ours = tr.tensor(a).chunk(chunks, axis=1)
    theirs = torch.tensor(a).chunk(chunks, dim=1)
    assert [p.shape for p in ours] == [tuple(t.shape) for t in theirs]
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.numpy(), t.numpy())


@pytest.mark.torch
def test_chunk_gradient_matches_torch():
    a = _rng(4).standard_normal((7, 2))
    _compare_with_torch(lambda x: x.chunk(3)[::2], lambda t: t.chunk(3)[::2], [a])
    with pytest.raises(ValueError, match="positive"):
        tr.tensor(a).chunk(0)


@pytest.mark.torch
@pytest.mark.parametrize("axes", [0, -1, (1,), (0, 2), [2, 0, 1], ()], ids=str)
def test_flip_matches_torch(axes):
    a = _rng(5).standard_normal((2, 3, 4))
    dims = (axes,) if isinstance(axes, int) else tuple(axes)
    _compare_with_torch(lambda x: x.flip(axes), lambda t: t.flip(dims), [a])
    if isinstance(axes, list):  # several ints, as torch's x.flip(0, 1)
        _compare_with_torch(lambda x: x.flip(*axes), lambda t: t.flip(*axes), [a])


def test_flip_refuses_a_repeated_axis():
    with pytest.raises(ValueError, match="repeats"):
        tr.zeros(2, 3).flip((0, 0))


@pytest.mark.parametrize("device", DEVICES)
def test_flip_gradients(device):
    x = tr.tensor(_rng(6).standard_normal((3, 4)), device=device, requires_grad=True)
    f = lambda t: t.flip(1) * t  # noqa: E731
    assert gradcheck(f, [x]) and gradgradcheck(f, [x])


@pytest.mark.torch
def test_as_methods_match_torch():
    torch = pytest.importorskip("torch")
    a, b = _rng(7).standard_normal((1, 3)), np.zeros((4, 3))
    c = np.zeros((3, 1))
    other, their_other = tr.tensor(b), torch.tensor(b)
    _compare_with_torch(lambda x: x.expand_as(other), lambda t: t.expand_as(their_other), [a])
    _compare_with_torch(lambda x: x.view_as(tr.tensor(c)),
                        lambda t: t.view_as(torch.tensor(c)), [a])
    _compare_with_torch(lambda x: x.reshape_as(tr.tensor(c)),
                        lambda t: t.reshape_as(torch.tensor(c)), [a])


# ---- any, all -------------------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)], ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "bool"])
def test_any_all_match_torch(dtype, axis, keepdims):
    torch = pytest.importorskip("torch")
    a = np.array([[0, 1, 2], [0, 0, 3], [1, 1, 1], [0, 0, 0]]).astype(dtype)
    if dtype.startswith("float"):
        a[3, 0] = np.nan  # NaN is nonzero: True
    x = tr.tensor(a, requires_grad=dtype.startswith("float"))
    t = torch.tensor(a)
    for name in ("any", "all"):
        ours = getattr(x, name)(axis, keepdims)
        theirs = getattr(t, name)(**({} if axis is None else {"dim": axis,
                                                                "keepdim": keepdims}))
        assert ours.dtype == np.bool_ and not ours.requires_grad
        if axis is None and keepdims:  # torch has no keepdim without dim
            theirs = theirs.reshape(1, 1)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_any_all_of_empty_and_0d(device):
    e = tr.zeros(0, 3, device=device)
    assert not e.any().item() and e.all().item()
    assert e.any(axis=0).shape == (3,) and e.all(axis=1).shape == (0,)
    z = tr.tensor(2.0, device=device)
    assert z.any().item() and z.all(axis=0).item() and z.any().shape == ()


# ---- // and % -------------------------------------------------------------------------------

def _divisor(b: np.ndarray) -> np.ndarray:
    """Away from 0: at least 0.5 in size, either sign."""
    return np.where(b < 0, -1.0, 1.0) * (0.5 + np.abs(b))


@pytest.mark.torch
@pytest.mark.parametrize("shapes", [((3, 1, 4), (2, 4)), ((2, 3), ()), ((4,), (3, 1))], ids=str)
def test_remainder_and_floor_divide_match_torch(shapes):
    torch = pytest.importorskip("torch")
    rng = _rng(8)
    a, b = 4 * rng.standard_normal(shapes[0]), _divisor(rng.standard_normal(shapes[1]))
    _compare_with_torch(lambda x, y: x % y, lambda t, u: t % u, [a, b])
    _compare_with_torch(lambda x, y: y.__rmod__(x), lambda t, u: u.__rmod__(t), [a, b])
    # torch's // records a graph whose backward raises; its div(rounding_mode="floor") gives
    # the gradient 0, as ours
    _compare_with_torch(lambda x, y: x // y,
                        lambda t, u: torch.div(t, u, rounding_mode="floor"), [a, b])
    np.testing.assert_array_equal((tr.tensor(a) // tr.tensor(b)).numpy(),
                                  (torch.tensor(a) // torch.tensor(b)).numpy())


@pytest.mark.torch
def test_remainder_and_floor_divide_edge_values_match_torch():
    torch = pytest.importorskip("torch")
    a = np.array([5.0, -5.0, 5.0, -5.0, 0.0, -0.0, 5.3, 1e300, np.inf, np.nan, 7.0, 7.0])
    b = np.array([0.0, 0.0, np.inf, np.inf, -3.0, 3.0, 0.1, 3e-300, 2.0, 2.0, -2.0, 1e-320])
    ours = (tr.tensor(a) // tr.tensor(b)).numpy()  # and no warning
    theirs = (torch.tensor(a) // torch.tensor(b)).numpy()
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))
    ours = (tr.tensor(a) % tr.tensor(b)).numpy()
    theirs = (torch.tensor(a) % torch.tensor(b)).numpy()
    # torch's CPU kernel mostly computes a - floor(a / b) b: NaN where a / b overflows
    exact = [7, 11]
    np.testing.assert_array_equal(np.delete(ours, exact), np.delete(theirs, exact))
    # ours is exact, as Python's % (and torch's CUDA kernel): zeros take the divisor's sign
    python = [x % y if y else math.nan for x, y in zip(a.tolist(), b.tolist())]
    np.testing.assert_array_equal(ours, python)
    numbers = ~np.isnan(ours)
    np.testing.assert_array_equal(np.signbit(ours[numbers]), np.signbit(np.array(python)[numbers]))


_DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]


def _operands():
    """Every dtype with axes and as a 0-d tensor, and Python numbers: (ours, theirs, name)."""
    torch = pytest.importorskip("torch")
    out = []
    for dt in _DTYPES:
        for a in (np.array([5, 3, 1]).astype(dt), np.array(3).astype(dt)):
            out.append((tr.tensor(a), torch.tensor(a), f"{dt}{list(a.shape)}"))
    return out + [(v, v, repr(v)) for v in (3, 2.5, True)]


@pytest.mark.torch
@pytest.mark.parametrize("op", ["//", "%"])
def test_floor_divide_and_remainder_dtypes_match_torch(op):
    fn = {"//": lambda x, y: x // y, "%": lambda x, y: x % y}[op]
    operands = _operands()
    for x, t, xname in operands:
        for y, u, yname in operands:
            if not (isinstance(x, tr.Tensor) or isinstance(y, tr.Tensor)):
                continue
            try:
                theirs = fn(t, u)
            except (RuntimeError, NotImplementedError):  # torch refuses bool op bool
                with pytest.raises(TypeError, match="bool"):
                    fn(x, y)
                continue
            ours = fn(x, y)
            where = f"{xname} {op} {yname}"
            assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), where
            np.testing.assert_allclose(ours.numpy().astype(float),
                                       theirs.numpy().astype(float), err_msg=where)


@pytest.mark.parametrize("device", DEVICES)
def test_integer_division_by_zero_raises(device):
    x = tr.tensor([5, 7], device=device)
    for zero in (tr.tensor([1, 0], device=device), 0, False):
        with pytest.raises(ZeroDivisionError):
            x // zero
        with pytest.raises(ZeroDivisionError):
            x % zero


@pytest.mark.parametrize("device", DEVICES)
def test_floor_divide_and_remainder_values(device):
    a, b = np.array([7, -7, 7, -7]), np.array([2, 2, -2, -2])
    x, y = tr.tensor(a, device=device), tr.tensor(b, device=device)
    np.testing.assert_array_equal((x // y).numpy(), [3, -4, -4, 3])
    np.testing.assert_array_equal((x % y).numpy(), [1, 1, -1, -1])  # the divisor's sign
    np.testing.assert_array_equal((20 // x).numpy(), [2, -3, 2, -3])
    np.testing.assert_array_equal((20 % x).numpy(), [6, -1, 6, -1])
    f = tr.tensor([7.5, -7.5], device=device)
    np.testing.assert_array_equal((f % 2).numpy(), [1.5, 0.5])
    assert (f // 2).dtype == np.float32 and (x // 2.5).dtype == np.float32


def _off_the_jumps(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Operands whose quotient is away from an integer (where // and % jump), so central
    differences see a smooth function: an irrational offset for the simple values Hypothesis
    tries first, then a check on the broadcast quotient."""
    a, b = a + 0.3713, _divisor(b) * 1.1618
    q = a / b
    assume(np.all(np.abs(q - np.round(q)) > 1e-3))
    return a, b


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", ["//", "%"])
@given(shapes=tst.broadcastable_shapes(2), data=st.data())
def test_floor_divide_and_remainder_gradients_broadcast(op, device, shapes, data):
    fn = {"//": lambda x, y: x // y, "%": lambda x, y: x % y}[op]
    ref = {"//": np.floor_divide, "%": np.remainder}[op]
    a, b = _off_the_jumps(data.draw(tst.arrays(shapes[0])), data.draw(tst.arrays(shapes[1])))
    x = tr.tensor(a, device=device, requires_grad=True)
    y = tr.tensor(b, device=device, requires_grad=True)
    np.testing.assert_array_equal(fn(x, y).numpy(), ref(a, b))
    assert gradcheck(fn, [x, y]) and gradgradcheck(fn, [x, y])


@pytest.mark.torch
def test_writes_into_a_part_or_view_reach_the_tensor_as_in_torch():
    """An in-place write into a part or a view of a tensor reaches the tensor, as in
    PyTorch, though arrays here are never written in place (copy on write: the engine passes
    the write on, ``Tensor._overwrite``). Writes into a copy (flip, a reshape that had to
    copy, advanced indexing, clone, contiguous of a transpose, repeat) stay their own."""
    torch = pytest.importorskip("torch")
    writes = [
        lambda m, p, w: p[1:3].fill_(1.0),
        lambda m, p, w: w[0].copy_(m.ones(2)),
        lambda m, p, w: w[0].__setitem__(1, 5.0),  # w[0][1] = 5.0
        lambda m, p, w: w.chunk(2)[1].mul_(2.0),
        lambda m, p, w: w.unbind(0)[3].fill_(2.0),
        lambda m, p, w: m.split(w, 3)[0].add_(2.0),
        lambda m, p, w: w[0][1:].fill_(4.0),  # a part of a part, though w[0] is gone
        lambda m, p, w: w[1, 1].fill_(6.0),  # one element (a copy in NumPy, a view in torch)
        lambda m, p, w: w[7][1].fill_(8.0),
        lambda m, p, w: w.view(-1)[3:5].sub_(1.0),
        lambda m, p, w: w.view(4, 2, 2)[1].mul_(3.0),  # the gate-block idiom
        lambda m, p, w: w.reshape(2, 8).__setitem__((0, 0), 9.0),
        lambda m, p, w: w.T.add_(0.5),
        lambda m, p, w: w.t()[0].fill_(1.5),
        lambda m, p, w: w.transpose(0, 1).copy_(m.arange(16.0).reshape(2, 8)),
        lambda m, p, w: w.permute(1, 0)[1].mul_(-1.0),
        lambda m, p, w: w.unsqueeze(0).add_(1.0),
        lambda m, p, w: w[:1].squeeze(0).fill_(0.25),
        lambda m, p, w: w.flatten().clamp_(-2.0, 10.0),
        lambda m, p, w: w.detach()[2].zero_(),
        lambda m, p, w: w.detach().div_(2.0),
        lambda m, p, w: p.detach().add_(1.0),
        # copies, as in PyTorch: the tensor keeps its values
        lambda m, p, w: w.flip(0).fill_(7.0),
        lambda m, p, w: w[[0, 1]].fill_(7.0),
        lambda m, p, w: w.T.reshape(-1).fill_(7.0),
        lambda m, p, w: w.clone().fill_(7.0),
        lambda m, p, w: w.T.contiguous().fill_(7.0),
        lambda m, p, w: w.repeat(1, 1).fill_(7.0),
    ]
    ours = (nn.Parameter(tr.zeros(4, dtype="float64")), tr.zeros(8, 2, dtype="float64"))
    theirs = (torch.nn.Parameter(torch.zeros(4, dtype=torch.float64)),
              torch.zeros(8, 2, dtype=torch.float64))
    for k, write in enumerate(writes):
        with tr.no_grad():
            write(tr, *ours)
        with torch.no_grad():
            write(torch, *theirs)
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a.numpy(), b.detach().numpy(), err_msg=f"write {k}")
    rows = tr.arange(6.0).reshape(2, 3)  # a view of a temporary: it writes into that
    rows += 1.0
    assert rows.numpy()[0].tolist() == [1, 2, 3]


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
def test_bitwise_and_logical_ops_match_torch(device):
    torch = pytest.importorskip("torch")
    a = np.array([[True, False, True], [False, False, True]])
    b = np.array([True, True, False])
    i, j = np.array([5, 3, 12]), np.array([[1], [6]])
    for x, y in [(a, b), (i, j), (a, True), (i, 4)]:
        ours, theirs = tr.tensor(x, device=device), torch.tensor(x)
        other = tr.tensor(y, device=device) if isinstance(y, np.ndarray) else y
        t_other = torch.tensor(y) if isinstance(y, np.ndarray) else y
        for op in ("__and__", "__or__", "__xor__", "__rand__", "__ror__", "__rxor__"):
            got, want = getattr(ours, op)(other), getattr(theirs, op)(t_other)
            assert got.dtype == want.numpy().dtype and got.device == device
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    f = np.array([0.0, 2.0, -1.0])
    for name in ("logical_and", "logical_or", "logical_xor"):
        got = getattr(tr.tensor(f, device=device), name)(tr.tensor(i, device=device))
        np.testing.assert_array_equal(got.numpy(),
                                      getattr(torch.tensor(f), name)(torch.tensor(i)).numpy())
    with pytest.raises(TypeError, match=r"x & y needs bool or integer tensors, got float64"):
        tr.tensor(f) & tr.tensor(a[0])


def test_load_takes_weights_only_as_torch(tmp_path):
    path = tmp_path / "ckpt.pt"
    tr.save({"w": tr.ones(2)}, path)
    assert tr.load(path, weights_only=True)["w"].numpy().tolist() == [1.0, 1.0]
    assert tr.load(path, weights_only=False)["w"].numpy().tolist() == [1.0, 1.0]  # the same
    with pytest.raises(TypeError, match="weights_only must be True or False"):
        tr.load(path, weights_only="yes")

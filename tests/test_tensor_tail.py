"""The last of PyTorch's names users hit, and tensors printed as PyTorch prints them.

Part 1, printing: ``repr`` of tensors of every dtype, shape and kind of value (nan, inf, -0.0,
tiny and huge, whole, empty, 0-d, summarised, with their suffixes) equals PyTorch's string for
string but for the ``torch.`` of ``dtype=torch.float64`` (where that prefix moves a suffix to
the next line in PyTorch's, the lines are compared joined), under ``set_printoptions`` too.

Part 2, the names: values, dtypes, shapes and gradients against PyTorch in float64, gradients
against central differences with Hypothesis, every op on the strict device equal to the CPU,
and the errors, raised before anything changes."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr
from tinygrad_rnn import nn
from tinygrad_rnn.testing import gradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES, assert_device_equals_cpu
from .test_ops_more import _distinct, _torch
from .test_ops_torch import _compare_with_torch, _rng

NAN, INF = math.nan, math.inf

# ---- part 1: printing ----------------------------------------------------------------------

_SUFFIX = re.compile(r",\n {7}(?=(?:device|size|dtype|grad_fn|requires_grad)=)")


def _theirs(t) -> str:
    """PyTorch's repr with its ``torch.`` prefixes dropped (``dtype=torch.float64``)."""
    return repr(t).replace("torch.", "")


def _same_repr(ours, theirs):
    """Ours equals PyTorch's string for string; where a ``dtype=`` suffix is shown, its
    ``torch.`` may move it to the next line in PyTorch's (6 more characters), so the suffixes
    are compared on one line there."""
    a, b = repr(ours), _theirs(theirs)
    if "dtype=" in a:
        a, b = _SUFFIX.sub(", ", a), _SUFFIX.sub(", ", b)
    assert a == b, f"\nours:\n{a}\ntorch's:\n{b}"


def _both(a: np.ndarray):
    """A tinygrad_rnn and a torch tensor of the host array ``a`` (its dtype kept)."""
    torch = _torch()
    return tr.tensor(a), torch.tensor(a)


@pytest.fixture
def _print_defaults():
    """Each test that changes the print options (ours and PyTorch's) leaves the defaults."""
    yield
    tr.set_printoptions(profile="default")
    try:
        import torch
    except ImportError:
        return
    torch.set_printoptions(profile="default")


PRINTED = {
    "floats": [1.5, 2.0], "whole floats": [1.0, -2.0, 30.0], "0-d": 0.25, "0-d whole": -3.0,
    "quarter": [0.25], "nan and inf": [1.5, NAN, INF, -INF], "only nan": [NAN],
    "only zeros": [0.0, -0.0], "negative zero": [-0.0], "zero and nan": [0.0, NAN],
    "whole and inf": [1.0, INF], "tiny": [1e-5, 1.0], "huge": [1e10, 1.0], "ratio": [1.0, 1001],
    "ratio 1000": [1.0, 1000.0], "sci whole": [1e9, 2e9], "sci with nan": [1e-8, NAN, -3e4],
    "precision edge": [0.99995, 1.00005], "negative": [-0.1, 0.2], "big whole": [123456.0, 7.0],
    "rows": [[1.5, -2.25], [3.0, 4.125]], "3-d": np.arange(24.0).reshape(2, 3, 4) / 7,
    "4-d": np.arange(16.0).reshape(2, 2, 2, 2) - 8, "long row": np.linspace(-1, 1, 30),
    "long row sci": np.logspace(-6, 3, 25), "long int row": np.arange(-40, 40),
    "widest ratio": [1e300, 1e-300, 5e-324], "max": [np.finfo(np.float64).max, -1.0],
}


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("name", list(PRINTED))
def test_repr_of_floats_matches_torch(name, dtype):
    with np.errstate(over="ignore"):  # (1e10 in float16 is inf)
        a = np.asarray(PRINTED[name], dtype=dtype)
    _same_repr(*_both(a))


@pytest.mark.torch
@pytest.mark.parametrize("a", [
    np.array([1, -20, 300]), np.array(7), np.array([True]), np.array([True, False]),
    np.array(False), np.array([[True, False], [False, True]]), np.arange(6, dtype=np.int32),
    np.array([255, 0], dtype=np.uint8), np.array([-128, 5], dtype=np.int8),
    np.array([-(2**62), 2**62]), np.arange(-5, 7, dtype=np.int16).reshape(3, 4),
    np.array([1 + 2j, -0.5j], dtype=np.complex64), np.array([1e-6 + 1j, 3.0], dtype=np.complex128),
], ids=lambda a: f"{a.dtype}{a.shape}")
def test_repr_of_integers_bools_and_complex_matches_torch(a):
    _same_repr(*_both(a))


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3, 1), (3, 0, 2)], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool", "int32"])
def test_repr_of_empty_tensors_matches_torch(shape, dtype):
    _same_repr(*_both(np.zeros(shape, dtype=dtype)))


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(1001,), (2000,), (40, 30), (3, 400), (11, 10, 10),
                                   (2, 3, 4, 50), (7, 1, 200)], ids=str)
def test_repr_summarises_large_tensors_as_torch(shape):
    a = _rng(1).standard_normal(shape)
    for arr in (a, a.astype(np.float32), (a * 100).astype(np.int64), a > 0, np.exp(a * 6)):
        _same_repr(*_both(arr))


@pytest.mark.torch
def test_repr_suffixes_match_torch():
    torch = _torch()
    a = _rng(2).standard_normal((3, 4))
    x, t = tr.tensor(a, dtype="float32", requires_grad=True), torch.tensor(
        a, dtype=torch.float32, requires_grad=True)
    _same_repr(x, t)
    _same_repr(x * 2, t * 2)  # grad_fn=<MulBackward0>, on the last line
    _same_repr(x[0] + 1, t[0] + 1)
    wide = _rng(3).standard_normal(6) * 1000  # one full line
    y, u = tr.tensor(wide, dtype="float32", requires_grad=True), torch.tensor(
        wide, dtype=torch.float32, requires_grad=True)
    _same_repr(y * 3, u * 3)  # a long last line: grad_fn goes on the next
    assert repr(y * 3).endswith(",\n       grad_fn=<MulBackward0>)")
    z, v = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    _same_repr(z, v)
    _same_repr(z * 2, v * 2)
    _same_repr(tr.tensor(3.5, requires_grad=True), torch.tensor(3.5, requires_grad=True))
    _same_repr(tr.zeros(0, 2, requires_grad=True), torch.zeros(0, 2, requires_grad=True))
    # a parameter, as torch.nn.Parameter prints
    p = nn.Parameter(tr.tensor(a[:2], dtype="float32"))
    assert repr(p) == _theirs(torch.nn.Parameter(torch.tensor(a[:2], dtype=torch.float32)))


@pytest.mark.torch
def test_repr_leaves_out_the_default_dtype_as_torch():
    torch = _torch()
    old = torch.get_default_dtype()
    try:
        tr.set_default_dtype("float64")
        torch.set_default_dtype(torch.float64)
        for a in (np.array([1.5, 2.0]), np.array([1.5], dtype=np.float32), np.zeros(0),
                  np.zeros(0, dtype=np.float32), np.array([1j], dtype=np.complex128),
                  np.array([1j], dtype=np.complex64)):
            _same_repr(*_both(a))
    finally:
        torch.set_default_dtype(old)


PRINT_OPTIONS = [
    {"precision": 2}, {"precision": 0}, {"precision": 7}, {"sci_mode": True},
    {"sci_mode": False}, {"linewidth": 40}, {"linewidth": 200}, {"threshold": 10},
    {"threshold": 10, "edgeitems": 1}, {"threshold": 10, "edgeitems": 0}, {"edgeitems": 0},
    {"profile": "short"}, {"profile": "full"}, {"profile": "short", "precision": 5},
    {"threshold": 0}, {"linewidth": 5},
]


@pytest.mark.torch
@pytest.mark.parametrize("options", PRINT_OPTIONS, ids=str)
def test_repr_under_set_printoptions_matches_torch(options, _print_defaults):
    torch = _torch()
    tr.set_printoptions(**options)
    torch.set_printoptions(**options)
    rng = _rng(4)
    for a in (np.array([1.23456789, 2e-5]), np.array([1.5, 2.0]), np.arange(30.0) / 3,
              rng.standard_normal((5, 7)), np.arange(24).reshape(2, 3, 4), np.array(0.125),
              np.array([[NAN, 1e12], [-0.0, 3.0]]), rng.standard_normal(1200),
              np.zeros((0, 2)), np.array([True, False] * 8)):
        _same_repr(*_both(a))


numbers = st.one_of(
    st.sampled_from([0.0, -0.0, NAN, INF, -INF, 1.0, -1.0, 0.5, 1e-5, 1e-4, 1e8, 1e9, 999.0,
                     1000.0, 0.1]),
    st.floats(-1e3, 1e3, allow_nan=False, width=32),
    st.floats(-1e12, 1e12, allow_nan=False).map(lambda v: float(np.float32(v))),
    st.integers(-(2**20), 2**20).map(float))


@pytest.mark.torch
@given(data=st.data())
def test_repr_matches_torch_on_drawn_tensors(data):
    dtype = data.draw(st.sampled_from(["float32", "float64", "float16", "int64", "int32",
                                       "bool", "uint8"]))
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6))
    a = data.draw(hnp.arrays(np.float64, shape, elements=numbers))
    if dtype in ("float32", "float16"):
        with np.errstate(over="ignore"):
            a = a.astype(dtype)
    elif dtype != "float64":
        a = np.nan_to_num(a, posinf=7, neginf=-7).clip(-100, 100).astype(dtype)
    _same_repr(*_both(a))


@pytest.mark.torch
def test_repr_on_the_strict_device_names_it(_print_defaults):
    torch = _torch()
    x = tr.tensor([[1.5, 2.0], [3.0, 4.0]], device="strict")
    assert repr(x) == _theirs(torch.tensor([[1.5, 2.0], [3.0, 4.0]]))[:-1] + \
        ", device='strict')"
    tr.set_printoptions(threshold=5)
    big = tr.arange(100.0, device="strict")
    assert repr(big) == "tensor([ 0.,  1.,  2.,  ..., 97., 98., 99.], device='strict')"


def test_set_printoptions_refuses_bad_values_before_changing_anything(_print_defaults):
    with pytest.raises(ValueError, match="linewidth must be an int"):
        tr.set_printoptions(precision=2, linewidth=-1)
    assert repr(tr.tensor([1.5])) == "tensor([1.5000])"  # precision unchanged


# ---- part 2: the tensor itself -------------------------------------------------------------


def test_data_ptr_and_storage_offset_follow_views():
    x = tr.arange(12.0).reshape(3, 4)
    assert x.data_ptr() == x.view(12).data_ptr() == x.detach().data_ptr() == x[0].data_ptr()
    assert x.data_ptr() == x.T.data_ptr() == x.data.data_ptr()
    assert x[1].data_ptr() == x.data_ptr() + 4 * 4
    assert (x.storage_offset(), x[1].storage_offset(), x[:, 2].storage_offset()) == (0, 4, 2)
    assert x[1:, 1:].storage_offset() == 5 and x.clone().storage_offset() == 0
    assert x.clone().data_ptr() != x.data_ptr()
    assert tr.zeros(0).data_ptr() == 0 and tr.zeros(0).storage_offset() == 0
    # weight tying: one parameter, one address; two parameters, two
    emb, out = nn.Embedding(5, 3), nn.Linear(3, 5, bias=False)
    assert emb.weight.data_ptr() != out.weight.data_ptr()
    out.weight = emb.weight
    assert emb.weight.data_ptr() == out.weight.data_ptr()
    with pytest.raises(RuntimeError, match="expose no address"):
        tr.zeros(2, device="strict").data_ptr()


@pytest.mark.torch
def test_data_ptr_is_the_array_address_as_torch_from_numpy():
    torch = _torch()
    a = np.arange(6.0)
    assert tr.asarray(a).data_ptr() == torch.from_numpy(a).data_ptr() == a.ctypes.data
    assert tr.asarray(a)[2:].storage_offset() == torch.from_numpy(a)[2:].storage_offset()


def test_device_queries_and_no_op_memory_flags():
    x = tr.ones(2)
    assert x.is_cpu is True and x.get_device() == -1 and x.ndimension() == 1
    s = tr.ones(2, device="strict")
    assert s.is_cpu is False and s.get_device() == -1
    assert x.share_memory_() is x and x.is_shared() is False and x.is_pinned() is False
    assert x.is_inference() is False and tr.is_inference(x) is False


def test_retains_grad_as_torch():
    x = tr.ones(2, requires_grad=True)
    y, z = x * 2, x * 3
    y.retain_grad()
    assert y.retains_grad and not z.retains_grad and not x.retains_grad
    (y + z).sum().backward()
    assert y.retains_grad and y.grad is not None and z.grad is None


def test_is_inference_mode_enabled_as_torch():
    assert not tr.is_inference_mode_enabled()
    with tr.no_grad():
        assert not tr.is_inference_mode_enabled()
    with tr.inference_mode():
        assert tr.is_inference_mode_enabled() and not tr.is_grad_enabled()
        with tr.inference_mode(False):
            assert not tr.is_inference_mode_enabled() and tr.is_grad_enabled()
        assert tr.is_inference_mode_enabled()
        y = tr.ones(2) * 2
    assert not tr.is_inference_mode_enabled() and tr.is_grad_enabled()
    assert y.is_inference() is False  # (PyTorch marks it; documented)

    @tr.inference_mode
    def f():
        return tr.is_inference_mode_enabled(), tr.is_grad_enabled()

    @tr.inference_mode()
    def g():
        return tr.is_inference_mode_enabled()

    assert f() == (True, False) and g() is True and not tr.is_inference_mode_enabled()


# ---- reductions, distances and products ----------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), (-1, False),
                                            ((0, 1), True)], ids=str)
def test_nansum_nanmean_match_torch(axis, keepdims):
    torch = _torch()
    a = _rng(5).standard_normal((3, 4))
    a[0, 1] = a[2, 2] = a[1, 0] = NAN
    kw = {} if axis is None else {"dim": axis, "keepdim": keepdims}
    _compare_with_torch(lambda x: tr.nansum(x, **kw), lambda t: torch.nansum(t, **kw), [a])
    _compare_with_torch(lambda x: x.nanmean(**kw), lambda t: t.nanmean(**kw), [a])
    a[1] = NAN  # a row of NaN: nansum 0, nanmean NaN, as there; its gradient 0 (PyTorch's NaN)
    _compare_with_torch(lambda x: tr.nansum(x, **kw), lambda t: torch.nansum(t, **kw), [a])
    x = tr.tensor(a, requires_grad=True)
    ours, theirs = x.nanmean(**kw), torch.tensor(a).nanmean(**kw)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.numpy(), rtol=1e-15)
    ours.sum().backward()
    assert np.all(x.grad.numpy()[1] == 0) and np.all(np.isfinite(x.grad.numpy()))
    for data in ([1, 2, 3], [True, True, False], np.array([1, 2], dtype=np.int32)):
        ours, theirs = tr.nansum(tr.tensor(data)), torch.nansum(torch.tensor(data))
        assert ours.dtype == np.dtype(str(theirs.dtype)[6:]) and ours.item() == theirs.item()
    ours = tr.nansum(tr.tensor([1.0, NAN]), dtype=tr.float64)
    assert ours.dtype == np.float64 and ours.item() == 1.0
    assert tr.nanmean(tr.tensor([1.0, NAN, 2.0]), dtype="float64").dtype == np.float64
    with pytest.raises(TypeError, match="floating-point"):
        tr.nanmean(tr.tensor([1, 2]))


@pytest.mark.torch
@pytest.mark.parametrize("p", [2, 1, 3.5, 0, INF, -INF, 0.5])
def test_dist_matches_torch(p):
    torch = _torch()
    rng = _rng(6)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    if p == 0:  # PyTorch's backward fails for p = 0: the value, and a gradient of 0
        x = tr.tensor(a, requires_grad=True)
        y = tr.dist(x, tr.tensor(b), 0)
        assert y.item() == torch.dist(torch.tensor(a), torch.tensor(b), 0).item() == 12
        y.backward()
        assert not np.any(x.grad.numpy())
        return
    _compare_with_torch(lambda x, y: tr.dist(x, y, p), lambda t, u: torch.dist(t, u, p), [a, b])
    _compare_with_torch(lambda x: x.dist(x.detach(), p), lambda t: t.dist(t.detach(), p), [a])


@pytest.mark.torch
def test_trace_sum_to_size_and_products_match_torch():
    torch = _torch()
    rng = _rng(7)
    for shape in ((3, 3), (2, 4), (4, 1), (0, 2)):
        a = rng.standard_normal(shape)
        _compare_with_torch(lambda x: x.trace(), lambda t: t.trace(), [a])
    ours, theirs = tr.ones(2, 2, dtype="int32").trace(), torch.ones(2, 2, dtype=torch.int32).trace()
    assert ours.dtype == np.int64 and str(theirs.dtype) == "torch.int64"
    assert tr.trace is tr.debug.trace  # the top-level name is still the debug tracer
    with pytest.raises(ValueError, match="expected a matrix"):
        tr.ones(2, 2, 2).trace()
    a = rng.standard_normal((2, 3, 4))
    for size in ((1, 3, 1), (3, 4), (4,), (2, 3, 4), (1,), ()):
        _compare_with_torch(lambda x, s=size: x.sum_to_size(*s),
                            lambda t, s=size: t.sum_to_size(*s) if s else t.sum(), [a])
    _compare_with_torch(lambda x: x.sum_to_size((3, 1)), lambda t: t.sum_to_size((3, 1)), [a])
    with pytest.raises(ValueError, match="not expandable"):
        tr.tensor(a).sum_to_size(2)
    m, v, w, c = (rng.standard_normal(s) for s in ((3, 4), (4,), (3,), (3, 4)))
    for beta, alpha in ((1, 1), (0.5, -2)):
        _compare_with_torch(lambda i, x, y, b=beta, al=alpha: i.addmv(x, y, beta=b, alpha=al),
                            lambda i, x, y, b=beta, al=alpha: i.addmv(x, y, beta=b, alpha=al),
                            [w, m, v])
        _compare_with_torch(lambda i, x, y, b=beta, al=alpha: tr.addr(i, x, y, beta=b, alpha=al),
                            lambda i, x, y, b=beta, al=alpha: torch.addr(i, x, y, beta=b,
                                                                         alpha=al), [c, w, v])
    # beta = 0 ignores the input, NaN included, as there (no gradient reaches it: PyTorch's
    # is zeros)
    i = tr.tensor(np.full(3, NAN), requires_grad=True)
    ours = tr.addmv(i, tr.tensor(m, requires_grad=True), tr.tensor(v), beta=0)
    np.testing.assert_allclose(ours.detach().numpy(), torch.addmv(
        torch.tensor(np.full(3, NAN)), torch.tensor(m), torch.tensor(v), beta=0).numpy(),
        rtol=1e-12)
    ours.sum().backward()
    assert i.grad is None
    _compare_with_torch(lambda i, x, y: tr.addr(i, x, y), lambda i, x, y: torch.addr(i, x, y),
                        [np.float64(2.0), w, v])  # a 0-d input broadcasts
    _compare_with_torch(lambda x, y: x.mv(y), lambda t, u: t.mv(u), [m, v])
    for sa, sb in (((4,), (4,)), ((3, 4), (4,)), ((2, 3, 4), (5, 4)), ((), (3, 2)), ((3,), ())):
        _compare_with_torch(lambda x, y: tr.inner(x, y), lambda t, u: torch.inner(t, u),
                            [rng.standard_normal(sa), rng.standard_normal(sb)])
    _compare_with_torch(lambda x, y: tr.vdot(x, y), lambda t, u: torch.vdot(t, u),
                        [v, v[::-1].copy()])
    with pytest.raises(ValueError, match="does not broadcast"):
        tr.tensor(c).addmv(tr.tensor(m), tr.tensor(v))
    with pytest.raises(ValueError, match="last dims differ"):
        tr.inner(tr.ones(3), tr.ones(4))
    with pytest.raises(TypeError, match="one dtype"):
        tr.vdot(tr.ones(3), tr.ones(3, dtype="float64"))
    with pytest.raises(ValueError, match=r"mv: a matrix \(n, k\)"):
        tr.ones(3).mv(tr.ones(3))


# ---- movement ------------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("cuts", [3, 1, 4, 7, [1, 3], [-2, 10, 1], [0], [], (2, 2)], ids=str)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_tensor_split_matches_torch(cuts, dim):
    torch = _torch()
    a = _rng(8).standard_normal((5, 6))
    _compare_with_torch(lambda x: tr.tensor_split(x, cuts, dim),
                        lambda t: torch.tensor_split(t, cuts, dim), [a])
    _compare_with_torch(lambda x: x.tensor_split(cuts, dim=dim),
                        lambda t: t.tensor_split(cuts, dim=dim), [a])
    as_tensor = torch.tensor(cuts) if isinstance(cuts, int) or cuts else None
    if as_tensor is not None:  # a 0-d tensor of sections, a 1-D tensor of indices
        ours = tr.tensor_split(tr.tensor(a), tr.tensor(cuts), dim)
        theirs = torch.tensor_split(torch.tensor(a), as_tensor, dim)
        assert [o.shape for o in ours] == [tuple(t.shape) for t in theirs]


@pytest.mark.torch
def test_tensor_split_pieces_are_views_and_hvdsplit_match_torch():
    torch = _torch()
    x = tr.arange(6.0)
    first, _ = x.tensor_split(2)
    first[0] = 10.0
    assert x[0].item() == 10.0  # a view, as PyTorch's
    a = _rng(9).standard_normal((4, 6, 2))
    for name in ("hsplit", "vsplit", "dsplit"):
        for cuts in (2, [1, 3], [5]):
            if name == "dsplit" and cuts == 2 or name != "dsplit":
                _compare_with_torch(lambda x, n=name, c=cuts: getattr(tr, n)(x, c),
                                    lambda t, n=name, c=cuts: getattr(torch, n)(t, c), [a])
                _compare_with_torch(lambda x, n=name, c=cuts: getattr(x, n)(c),
                                    lambda t, n=name, c=cuts: getattr(t, n)(c), [a])
    _compare_with_torch(lambda x: tr.hsplit(x, 3), lambda t: torch.hsplit(t, 3), [a[0, :, 0]])
    with pytest.raises(ValueError, match="equal sections"):
        tr.hsplit(tr.tensor(a), 4)
    with pytest.raises(ValueError, match="at least 3"):
        tr.dsplit(tr.ones(2, 2), 1)
    with pytest.raises(ValueError, match="sections must be > 0"):
        tr.tensor_split(tr.ones(3), 0)
    with pytest.raises(ValueError, match="0-d"):
        tr.tensor_split(tr.tensor(1.0), 1)
    with pytest.raises(TypeError, match="indices_or_sections"):
        tr.tensor_split(tr.ones(3), 1.5)


@pytest.mark.torch
def test_ravel_swapdims_narrow_copy_flips_msort_match_torch():
    torch = _torch()
    a = _rng(10).standard_normal((3, 4, 2))
    cases = [(lambda x: tr.ravel(x), lambda t: torch.ravel(t)),
             (lambda x: x.T.ravel(), lambda t: t.permute(2, 1, 0).ravel()),
             (lambda x: tr.swapdims(x, 0, 2), lambda t: torch.swapdims(t, 0, 2)),
             (lambda x: x.swapdims(1, -1), lambda t: t.swapdims(1, -1)),
             (lambda x: tr.narrow_copy(x, 1, 1, 2), lambda t: torch.narrow_copy(t, 1, 1, 2)),
             (lambda x: x.narrow_copy(dim=-1, start=1, length=1),
              lambda t: t.narrow_copy(dim=-1, start=1, length=1)),
             (lambda x: tr.fliplr(x), lambda t: torch.fliplr(t)),
             (lambda x: x.flipud(), lambda t: t.flipud()),
             (lambda x: tr.msort(x), lambda t: torch.msort(t)),
             (lambda x: x[0].msort(), lambda t: t[0].msort())]
    for ours, theirs in cases:
        _compare_with_torch(ours, theirs, [a])
    _compare_with_torch(lambda x: x.ravel(), lambda t: t.ravel(), [np.float64(2.0)])
    # a negative start: the values as PyTorch's, whose gradient there is 0 (its bug); ours
    # is narrow's
    x = tr.tensor(a, requires_grad=True)
    y = x.narrow_copy(-1, -1, 1)
    np.testing.assert_array_equal(y.detach().numpy(),
                                  torch.tensor(a).narrow_copy(-1, -1, 1).numpy())
    y.sum().backward()
    assert x.grad.numpy()[..., 1].min() == 1 and not np.any(x.grad.numpy()[..., 0])
    x = tr.tensor(a)
    assert x.ravel().data_ptr() == x.data_ptr()  # a view where the layout allows
    y = x.narrow_copy(0, 0, 1)
    y[0] = 0.0
    assert x[0, 0, 0].item() == a[0, 0, 0]  # a copy
    with pytest.raises(ValueError, match="at least 2-D"):
        tr.ones(3).fliplr()
    with pytest.raises(ValueError, match="at least 1-D"):
        tr.tensor(1.0).flipud()


@pytest.mark.torch
def test_take_and_put_match_torch():
    torch = _torch()
    rng = _rng(11)
    a = rng.standard_normal((3, 4))
    index = np.array([[0, -1, 5], [5, 11, -12]])
    _compare_with_torch(lambda x: tr.take(x, tr.tensor(index)),
                        lambda t: torch.take(t, torch.tensor(index)), [a])
    _compare_with_torch(lambda x: x.take(tr.tensor(3)), lambda t: t.take(torch.tensor(3)), [a])
    src = rng.standard_normal(6)
    unique = np.array([[0, -1, 5], [6, 11, -12]])
    for acc, idx in ((False, unique), (True, index)):
        _compare_with_torch(
            lambda x, s, i=idx, c=acc: x.put(tr.tensor(i), s.reshape(2, 3), accumulate=c),
            lambda t, s, i=idx, c=acc: t.put(torch.tensor(i), s.reshape(2, 3), accumulate=c),
            [a, src])
        _compare_with_torch(lambda x, s, i=idx, c=acc: tr.put(x, tr.tensor(i), s, c),
                            lambda t, s, i=idx, c=acc: torch.put(t, torch.tensor(i), s, c),
                            [a, src])
    x = tr.tensor(a)
    assert x.put_(tr.tensor([1, 1]), tr.tensor([1.0, 2.0], dtype="float64"),
                  accumulate=True) is x
    assert x[0, 1].item() == a[0, 1] + 3
    with pytest.raises(ValueError, match="out of range"):
        tr.take(tr.ones(3), tr.tensor([3]))
    with pytest.raises(TypeError, match="integers"):
        tr.take(tr.ones(3), tr.tensor([0.0]))
    with pytest.raises(ValueError, match="one number of elements"):
        tr.ones(3).put(tr.tensor([0, 1]), tr.ones(3))
    with pytest.raises(TypeError, match="dtype"):
        tr.ones(3).put(tr.tensor([0]), tr.ones(1, dtype="float64"))
    y = tr.ones(3)
    with pytest.raises(ValueError, match="out of range"):
        y.put_(tr.tensor([0, 3]), tr.tensor([5.0, 5.0]))
    assert y.tolist() == [1.0, 1.0, 1.0]  # refused before anything changed


@pytest.mark.torch
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_copy_matches_torch(dim):
    torch = _torch()
    rng = _rng(12)
    a = rng.standard_normal((4, 5))
    index = np.array([3, 0])
    shape = list(a.shape)
    shape[dim] = 2
    s = rng.standard_normal(shape)
    _compare_with_torch(lambda x, y: x.index_copy(dim, tr.tensor(index), y),
                        lambda t, u: t.index_copy(dim, torch.tensor(index), u), [a, s])
    _compare_with_torch(lambda x, y: tr.index_copy(x, dim, tr.tensor(index), y),
                        lambda t, u: torch.index_copy(t, dim, torch.tensor(index), u), [a, s])
    x = tr.tensor(a)
    assert x.index_copy_(dim, tr.tensor(index), tr.tensor(s)) is x
    np.testing.assert_array_equal(
        x.numpy(), torch.tensor(a).index_copy_(dim, torch.tensor(index), torch.tensor(s)).numpy())
    with pytest.raises(ValueError, match="out of bounds"):
        tr.tensor(a).index_copy(0, tr.tensor([4, 0]), tr.tensor(s if dim == 0 else a[:2]))
    with pytest.raises(ValueError, match="expected shape"):
        tr.tensor(a).index_copy(0, tr.tensor([0]), tr.ones(1, 4, dtype="float64"))
    with pytest.raises(TypeError, match="dtype"):
        tr.tensor(a).index_copy(0, tr.tensor([0]), tr.ones(1, 5))


@pytest.mark.torch
def test_scatter_family_matches_torch():
    torch = _torch()
    rng = _rng(13)
    a = rng.standard_normal((3, 4, 5))
    for offset, d1, d2 in ((0, 0, 1), (1, 1, 2), (-2, 2, 0), (3, 0, 2), (0, -1, -2)):
        diag = torch.tensor(a).diagonal(offset, d1, d2)
        src = rng.standard_normal(tuple(diag.shape))
        _compare_with_torch(lambda x, s, o=offset, i=d1, j=d2: tr.diagonal_scatter(x, s, o, i, j),
                            lambda t, s, o=offset, i=d1, j=d2: torch.diagonal_scatter(t, s, o, i,
                                                                                      j), [a, src])
    for dim, index in ((0, 2), (1, -1), (-1, 0)):
        src = rng.standard_normal(torch.tensor(a).select(dim, index).shape)
        _compare_with_torch(lambda x, s, d=dim, i=index: x.select_scatter(s, d, i),
                            lambda t, s, d=dim, i=index: t.select_scatter(s, d, i), [a, src])
    for dim, start, end, step in ((0, None, None, 1), (1, 1, 3, 1), (2, 0, None, 2),
                                  (-1, -3, -1, 1), (1, 5, None, 1), (2, 1, 100, 3)):
        src = rng.standard_normal(tuple(torch.tensor(a).narrow(0, 0, 3).swapdims(0, dim)[
            start:end:step].swapdims(0, dim).shape))
        _compare_with_torch(
            lambda x, s, d=dim, b=start, e=end, k=step: tr.slice_scatter(x, s, d, b, e, k),
            lambda t, s, d=dim, b=start, e=end, k=step: torch.slice_scatter(t, s, d, b, e, k),
            [a, src])
    # src of another dtype is cast, as PyTorch's
    ours = tr.zeros(2, 2).diagonal_scatter(tr.ones(2, dtype="float64"))
    assert ours.dtype == np.float32 and ours.tolist() == [[1, 0], [0, 1]]
    with pytest.raises(ValueError, match="shape of the part"):
        tr.zeros(4, 2).slice_scatter(tr.ones(1, 2), 0, 0, 2)
    with pytest.raises(ValueError, match="out of range"):
        tr.zeros(2, 2).select_scatter(tr.ones(2), 0, 2)
    with pytest.raises(ValueError, match="step must be > 0"):
        tr.zeros(2, 2).slice_scatter(tr.ones(2, 2), step=0)
    with pytest.raises(ValueError, match="at least 2 axes"):
        tr.zeros(2).diagonal_scatter(tr.ones(1))


@pytest.mark.torch
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_unique_consecutive_matches_torch(dim):
    torch = _torch()
    a = np.array([[1.0, 1, 2, 2, NAN, NAN, 1], [1, 1, 3, 3, 0, 0, 0], [1, 1, 3, 3, 0, 0, 0]])
    for data in (a, a.astype(np.float32), np.nan_to_num(a).astype(np.int64),
                 np.zeros((0, 3)), np.zeros((2, 0)), np.array([True, True, False])):
        if dim is not None and data.ndim <= (dim if dim >= 0 else -dim - 1):
            continue
        if dim is not None and any(n == 0 for k, n in enumerate(data.shape)
                                   if k != dim % data.ndim):
            with pytest.raises(ValueError, match="empty dim"):  # as PyTorch refuses
                tr.unique_consecutive(tr.tensor(data), dim=dim)
            continue
        for inverse in (False, True):
            for counts in (False, True):
                ours = tr.unique_consecutive(tr.tensor(data), return_inverse=inverse,
                                             return_counts=counts, dim=dim)
                theirs = torch.unique_consecutive(torch.tensor(data), return_inverse=inverse,
                                                  return_counts=counts, dim=dim)
                for o, t in zip(ours if inverse or counts else [ours],
                                theirs if inverse or counts else [theirs]):
                    assert o.shape == tuple(t.shape) and str(t.dtype) == f"torch.{o.dtype}"
                    np.testing.assert_array_equal(o.numpy(), t.numpy())
    ours = tr.tensor(2.5).unique_consecutive(return_inverse=True, return_counts=True)
    theirs = torch.tensor(2.5).unique_consecutive(return_inverse=True, return_counts=True)
    assert [tuple(o.shape) for o in ours] == [tuple(t.shape) for t in theirs]
    with pytest.raises(ValueError, match="0-d"):
        tr.tensor(1.0).unique_consecutive(dim=0)


# ---- elementwise ---------------------------------------------------------------------------


@pytest.mark.torch
def test_elementwise_names_match_torch():
    torch = _torch()
    a = np.array([[-2.5, -1.0, -0.0, 0.0, 0.3, 1.0], [2.75, 7.5, -0.6, 100.25, -1e-3, 4.0]])
    for name in ("frac", "deg2rad", "rad2deg", "positive", "absolute"):
        _compare_with_torch(lambda x, n=name: getattr(tr, n)(x),
                            lambda t, n=name: getattr(torch, n)(t), [a])
        _compare_with_torch(lambda x, n=name: getattr(x, n)(), lambda t, n=name: getattr(t, n)(),
                            [a])
    for name in ("fix", "sgn"):  # PyTorch's gradient is a "zero tensor": ours is 0 too
        x = tr.tensor(a, requires_grad=True)
        y = getattr(x, name)()
        np.testing.assert_array_equal(y.detach().numpy(), getattr(torch, name)(
            torch.tensor(a)).numpy())
        (y * 3).sum().backward()
        assert x.grad is None or not np.any(x.grad.numpy())
    b = np.abs(a) + 0.5
    _compare_with_torch(lambda x, y: tr.float_power(x, y), lambda t, u: torch.float_power(t, u),
                        [b, a])
    _compare_with_torch(lambda x: x.float_power(3), lambda t: t.float_power(3), [a])
    _compare_with_torch(lambda x: tr.float_power(0.1, x), lambda t: torch.float_power(0.1, t),
                        [a])  # the number taken in float64, as there
    special = np.array([NAN, INF, -INF, 0.0, -0.0, 1.5, -1.5, 1e30])
    for data in (special, special.astype(np.float32), np.array([1, -2, 0]),
                 np.array([True, False])):
        x, t = tr.tensor(data), torch.tensor(data)
        for name in ("isneginf", "isposinf", "isreal", "deg2rad", "rad2deg", "sgn", "fix",
                     "frac"):
            if name in ("frac", "fix") and data.dtype.kind != "f":
                continue
            if name == "fix" and data.dtype.kind == "b":
                continue
            ours, theirs = getattr(tr, name)(x), getattr(torch, name)(t)
            assert str(theirs.dtype) == f"torch.{ours.dtype}", name
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=name)
        ours, theirs = x.float_power(2), t.float_power(2)
        assert ours.dtype == np.float64 and str(theirs.dtype) == "torch.float64"
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    c = np.array([1 + 1j, 0, -2j], dtype=np.complex128)
    for name in ("sgn", "isreal"):
        np.testing.assert_allclose(getattr(tr, name)(tr.tensor(c)).numpy(),
                                   getattr(torch, name)(torch.tensor(c)).numpy(), rtol=1e-15)
    with pytest.raises(TypeError, match="bool"):
        tr.positive(tr.tensor([True]))
    with pytest.raises(TypeError, match="floating-point"):
        tr.frac(tr.tensor([1, 2]))
    x = tr.tensor([1.5, -2.0])
    assert +x is x and tr.positive(x) is x


def test_in_place_twins_equal_their_functions():
    rng = _rng(14)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)) + 3
    for name, args in (("absolute_", ()), ("negative_", ()), ("true_divide_", (tr.tensor(b),)),
                       ("sgn_", ()), ("frac_", ()), ("fix_", ()), ("deg2rad_", ()),
                       ("rad2deg_", ())):
        x = tr.tensor(a)
        base = {"absolute_": "abs", "negative_": "neg", "true_divide_": "div",
                "fix_": "trunc"}.get(name, name[:-1])
        expected = getattr(tr.tensor(a), base)(*args).numpy()
        assert getattr(x, name)(*args) is x
        np.testing.assert_array_equal(x.numpy(), expected, err_msg=name)
    p = tr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        p.frac_()


# ---- random fills and draws ----------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int8", "uint8",
                                   "bool", "int32"])
def test_random_draws_in_torchs_ranges(dtype):
    torch = _torch()
    x = tr.zeros(4000, dtype=dtype)
    assert x.random_() is x and x.dtype == np.dtype(dtype)
    v = x.numpy().astype(np.float64)
    t = torch.zeros(4000, dtype=getattr(torch, dtype)).random_().numpy().astype(np.float64)
    top = {"float32": 2**24, "float64": 2**53, "float16": 2**11, "bool": 1}.get(dtype) or \
        np.iinfo(dtype).max
    assert v.min() >= 0 and v.max() <= top and t.max() <= top
    assert v.max() > top / 2  # spread over the range, as torch's
    y = tr.zeros(3000, dtype=dtype).random_(2)
    assert set(np.unique(y.numpy().astype(np.int64))) == {0, 1}
    if dtype != "bool":
        z = tr.zeros(3000, dtype=dtype).random_(3, 7).numpy().astype(np.int64)
        assert z.min() == 3 and z.max() == 6
        assert tr.zeros(10, dtype=dtype).random_(to=5).numpy().max() < 5


def test_random_and_cauchy_are_seeded_and_checked():
    tr.manual_seed(3)
    a = tr.zeros(5).random_(100).numpy()
    tr.manual_seed(3)
    np.testing.assert_array_equal(tr.zeros(5).random_(100).numpy(), a)
    g = tr.Generator().manual_seed(1)
    b = tr.zeros(5, dtype="float64").cauchy_(2.0, 0.5, generator=g).numpy()
    np.testing.assert_array_equal(
        b, 2.0 + 0.5 * np.random.default_rng(1).standard_cauchy(5))
    draws = tr.zeros(20000, dtype="float64").cauchy_(1.0, 3.0).numpy()
    assert abs(np.median(draws) - 1.0) < 0.2
    assert abs(np.quantile(draws, 0.75) - np.quantile(draws, 0.25) - 6.0) < 0.5
    x = tr.ones(3, dtype="uint8")
    for bad in ((-1, 5), (0, 300), (5, 5)):
        with pytest.raises(ValueError, match="does not fit|empty"):
            x.random_(*bad)
    with pytest.raises(ValueError, match="does not fit"):
        tr.zeros(2).random_(0, 2**25)
    with pytest.raises(TypeError, match="random_"):
        x.random_(1, 2, 3)
    assert x.tolist() == [1, 1, 1]
    with pytest.raises(TypeError, match="floating-point"):
        tr.zeros(2, dtype="int64").cauchy_()
    with pytest.raises(ValueError, match="sigma"):
        tr.zeros(2).cauchy_(0.0, 0.0)


def test_poisson_draws_with_the_rates_mean_and_variance():
    rates = tr.tensor([0.0, 0.5, 4.0, 50.0], dtype="float64").expand(20000, 4)
    draws = tr.poisson(rates)
    assert draws.dtype == np.float64 and draws.shape == (20000, 4)
    d = draws.numpy()
    assert np.all(d[:, 0] == 0) and np.all(d == np.round(d))
    np.testing.assert_allclose(d.mean(0)[1:], [0.5, 4.0, 50.0], rtol=0.03)
    np.testing.assert_allclose(d.var(0)[1:], [0.5, 4.0, 50.0], rtol=0.06)
    tr.manual_seed(5)
    a = tr.poisson(tr.ones(4) * 3)
    tr.manual_seed(5)
    assert tr.poisson(tr.ones(4) * 3).tolist() == a.tolist()
    with pytest.raises(ValueError, match=">= 0"):
        tr.poisson(tr.tensor([-1.0]))
    with pytest.raises(TypeError, match="floating-point"):
        tr.poisson(tr.tensor([1]))


def test_seed_reseeds_and_returns_the_seed():
    s = tr.seed()
    assert isinstance(s, int) and tr.initial_seed() == s
    a = tr.rand(3).tolist()
    tr.manual_seed(s)
    assert tr.rand(3).tolist() == a
    assert tr.seed() != s


# ---- Python callables, element by element --------------------------------------------------


@pytest.mark.torch
def test_apply_and_map_match_torch_on_the_cpu():
    torch = _torch()
    a = _rng(15).standard_normal((2, 3))
    x, t = tr.tensor(a), torch.tensor(a)
    assert x.apply_(lambda v: v * v + 1) is x
    t.apply_(lambda v: v * v + 1)
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    y, u = tr.tensor([1, 2, 3]), torch.tensor([1, 2, 3])
    y.apply_(lambda v: v / 2)  # the result converted to the tensor's dtype, as there
    u.apply_(lambda v: v / 2)
    assert y.tolist() == u.tolist() and y.dtype == np.int64
    other = _rng(16).standard_normal(3)
    x.map_(tr.tensor(other), lambda p, q: p - q)
    t.map_(torch.tensor(other), lambda p, q: p - q)
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    with pytest.raises(RuntimeError, match="CPU tensors only"):
        tr.ones(2, device="strict").apply_(lambda v: v)
    with pytest.raises(ValueError, match="does not broadcast"):
        x.map_(tr.ones(4, dtype="float64"), lambda p, q: p)
    with pytest.raises(RuntimeError, match="leaf"):
        tr.ones(2, requires_grad=True).apply_(lambda v: v)
    np.testing.assert_array_equal(x.numpy(), t.numpy())


# ---- the post-accumulate-grad hook ---------------------------------------------------------


@pytest.mark.torch
def test_post_accumulate_grad_hook_matches_torch():
    torch = _torch()
    seen, theirs = [], []
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    h = x.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    t.register_post_accumulate_grad_hook(lambda p: theirs.append(p.grad.tolist()))
    x.register_hook(lambda g: g * 10)  # runs first: the hook sees the stored gradient
    t.register_hook(lambda g: g * 10)
    for _ in range(2):  # accumulated: the second call sees the sum
        (x * x + x).sum().backward()
        (t * t + t).sum().backward()
    (x * 3).sum().backward(inputs=[x])
    (t * 3).sum().backward(inputs=[t])
    tr.grad((x * 2).sum(), x)  # stores no .grad: no call, as torch.autograd.grad
    torch.autograd.grad((t * 2).sum(), t)
    assert seen == theirs and len(seen) == 3
    h.remove()
    (x * 1).sum().backward()
    assert len(seen) == 3
    # once per backward, on the summed gradient, also without register_hook
    y, u = tr.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    seen.clear()
    theirs.clear()
    y.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    u.register_post_accumulate_grad_hook(lambda p: theirs.append(p.grad.tolist()))
    (y * y + y * 3 + y).sum().backward()
    (u * u + u * 3 + u).sum().backward()
    assert seen == theirs == [[6.0, 8.0]]


def test_post_accumulate_grad_hook_can_step_the_parameter_in_place():
    w = tr.tensor([1.0, -2.0], requires_grad=True)

    def step(p):
        with tr.no_grad():
            p -= 0.1 * p.grad
        p.grad = None

    w.register_post_accumulate_grad_hook(step)
    (w * w).sum().backward()
    np.testing.assert_allclose(w.numpy(), [0.8, -1.6], rtol=1e-6)
    assert w.grad is None
    y = (w * w).sum()
    y.backward(create_graph=True)  # with create_graph too
    np.testing.assert_allclose(w.numpy(), [0.64, -1.28], rtol=1e-6)
    with pytest.raises(RuntimeError, match="leaf tensors only"):
        (w * 2).register_post_accumulate_grad_hook(step)
    with pytest.raises(RuntimeError, match="does not require grad"):
        tr.ones(2).register_post_accumulate_grad_hook(step)
    v = tr.ones(2, requires_grad=True)
    v.register_post_accumulate_grad_hook(lambda p: 1)
    with pytest.raises(RuntimeError, match="must return None"):
        v.sum().backward()


# ---- top-level functions: asarray, logspace, promotion ---------------------------------------


@pytest.mark.torch
def test_asarray_shares_and_copies_as_torch():
    torch = _torch()
    a = np.arange(4.0)
    x = tr.asarray(a)
    assert x.dtype == np.float64 and x.data_ptr() == a.ctypes.data
    a[0] = 9.0
    assert x[0].item() == 9.0  # NumPy's write shows, as in PyTorch
    x.add_(1)  # copy on write: the tensor's own write does not reach the array (documented)
    assert a[1] == 1.0 and x[1].item() == 2.0
    assert tr.asarray(a, copy=True).data_ptr() != a.ctypes.data
    assert tr.asarray(a[::2]).data_ptr() == a[::2].ctypes.data
    assert tr.asarray(a, dtype="float32").dtype == np.float32
    for bad in ((a, {"dtype": "float32", "copy": False}), ([1, 2], {"copy": False})):
        with pytest.raises(ValueError, match="copy=False"):
            tr.asarray(bad[0], **bad[1])
    for obj in ([1, 2], [1.0, 2.0], 3.0, np.float64(3.0), True, [[1, 2]], np.int32(4)):
        ours, theirs = tr.asarray(obj), torch.asarray(obj)
        assert str(theirs.dtype) == f"torch.{ours.dtype}" and ours.tolist() == theirs.tolist()
    t = tr.ones(2) * 2
    assert tr.asarray(t) is t
    assert tr.asarray(t, dtype="float64").dtype == np.float64
    w = tr.ones(2, requires_grad=True)
    y = w * 2
    assert tr.asarray(y) is y and tr.asarray(y, requires_grad=False).requires_grad is False
    assert tr.asarray(y, requires_grad=False).data_ptr() == y.data_ptr()
    z = tr.asarray(a, requires_grad=True)
    assert z.requires_grad and z.is_leaf
    with pytest.raises(ValueError, match="copy=False"):
        tr.asarray(t, dtype="float64", copy=False)
    moved = tr.asarray(a, device="strict")
    assert moved.device == "strict" and moved.tolist() == a.tolist()
    assert tr.asarray(moved).device == "strict" and tr.asarray(moved) is moved
    with pytest.raises(TypeError, match="copy must be"):
        tr.asarray(a, copy="yes")


@pytest.mark.torch
@pytest.mark.parametrize("start, end, steps, base", [
    (0, 1, 7, 10.0), (-3, 2.5, 33, 10.0), (0.3, 1.7, 101, 2.0), (1, -2, 17, 10.0), (2, 3, 1, 10.0),
    (2, 3, 0, 10.0), (-10, 10, 200, math.e), (0, 0, 4, 10.0), (5, 5.5, 2, 0.5)], ids=str)
def test_logspace_matches_torch(start, end, steps, base):
    torch = _torch()
    for dtype in ("float32", "float64", "float16", "int64"):
        if dtype == "int64" and base < 1:
            continue
        ours = tr.logspace(start, end, steps, base, dtype=dtype)
        theirs = torch.logspace(start, end, steps, base, dtype=getattr(torch, dtype))
        assert ours.shape == tuple(theirs.shape) and str(theirs.dtype) == f"torch.{ours.dtype}"
        if dtype == "int64":
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        else:  # a unit in the last place (PyTorch's float32 exponents are float32)
            eps = np.finfo(dtype).eps
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=4 * eps)
    assert tr.logspace(0, 2, 3).dtype == np.float32
    x = tr.logspace(0, 1, 3, device="strict", requires_grad=True)
    assert x.device == "strict" and x.requires_grad
    with pytest.raises(ValueError, match="steps must be"):
        tr.logspace(0, 1, -1)


DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]


@pytest.mark.torch
def test_promote_types_and_can_cast_match_torch():
    torch = _torch()
    for a in DTYPES:
        for b in DTYPES:
            ta, tb = getattr(torch, a), getattr(torch, b)
            assert str(torch.promote_types(ta, tb)) == f"torch.{tr.promote_types(a, b)}", (a, b)
            assert torch.can_cast(ta, tb) == tr.can_cast(a, b), (a, b)


@pytest.mark.torch
def test_result_type_matches_torch():
    torch = _torch()
    samples = {"bool": [True], "uint8": [3], "int32": [3], "int64": [3], "float16": [1.5],
               "float32": [1.5], "float64": [1.5], "complex64": [1j]}
    operands = []  # (ours, theirs): tensors with axes and 0-d, and numbers
    for name, v in samples.items():
        a = np.array(v, dtype=name)
        operands.append((tr.tensor(a), torch.tensor(a)))
        operands.append((tr.tensor(a[0]), torch.tensor(a[0])))
    operands += [(v, v) for v in (True, 2, 2.5, 1j)]
    for o1, t1 in operands:
        for o2, t2 in operands:
            if not (isinstance(o1, tr.Tensor) or isinstance(o2, tr.Tensor)) and \
                    isinstance(o1, complex) != isinstance(o2, complex):
                continue  # (two numbers: as PyTorch, but it takes at most one number)
            try:
                theirs = torch.result_type(t1, t2)
            except (TypeError, RuntimeError):
                continue
            if str(theirs) == "torch.complex32":  # (float16 with complex: no NumPy dtype)
                assert tr.result_type(o1, o2) == np.complex64
                continue
            assert str(theirs) == f"torch.{tr.result_type(o1, o2)}", (o1, o2)
    with pytest.raises(TypeError, match="tensors and numbers"):
        tr.result_type(tr.ones(1), "float32")


# ---- gradients (Hypothesis) and the strict device --------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_new_ops_gradients(device, data):
    shape = data.draw(tst.shapes(min_dims=2, max_dims=3, min_side=1, max_side=4))
    x = tr.tensor(data.draw(_distinct(shape)), device=device, requires_grad=True)
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[dim]
    k = data.draw(st.integers(0, n - 1))
    picks = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    index = tr.tensor(picks, device=device)
    src_shape = list(shape)
    src_shape[dim] = len(picks)
    src = tr.tensor(data.draw(tst.arrays(tuple(src_shape))), device=device, requires_grad=True)
    flat = tr.tensor(data.draw(st.lists(st.integers(-x.size, x.size - 1), min_size=1,
                                        max_size=6)), device=device)
    s = tr.tensor(data.draw(tst.arrays((flat.size,))), device=device, requires_grad=True)
    assert gradcheck(lambda t, u: t.index_copy(dim, index, u), [x, src])
    assert gradcheck(lambda t, u: t.put(flat, u, accumulate=True), [x, s])
    assert gradcheck(lambda t: tr.take(t, flat) * tr.nansum(t, dim).sum(), [x])
    assert gradcheck(lambda t: t.select_scatter(t.select(dim, k) * 2, dim, k), [x])
    assert gradcheck(lambda t: t.slice_scatter(t.narrow(dim, k, n - k) ** 2, dim, k), [x])
    d1, d2 = dim % x.ndim, (dim + 1) % x.ndim
    assert gradcheck(lambda t: t.diagonal_scatter(t.diagonal(1, d1, d2).sin(), 1, d1, d2), [x])
    far = tr.tensor(data.draw(tst.arrays(shape[1:])), device=device) + 100  # (no kink)
    assert gradcheck(lambda t: t.dist(far, 3) + t.dist(far, 1) + t.nanmean(dim).sum(), [x])
    assert gradcheck(lambda t: tr.float_power(t.abs() + 0.5, t) + (t + 0.05).frac(), [x])


def _strict_cases():
    """(name, f(x), x): every new differentiable op, on float64 values (distinct)."""
    a = np.random.default_rng(17).permutation(24).reshape(2, 3, 4) * 0.25 - 2.9
    return {
        "nansum": lambda x: tr.nansum(x, 1), "nanmean": lambda x: x.nanmean((0, 2)),
        "dist": lambda x: x.dist(x[0] * 2, 3), "trace": lambda x: x[0].trace(),
        "sum_to_size": lambda x: x.sum_to_size(1, 3, 1), "addmv": lambda x: x[0, :, 0].addmv(
            x[1], x[0, 0]), "addr": lambda x: tr.addr(x[0], x[1, :, 0], x[1, 0]),
        "inner": lambda x: tr.inner(x, x[0]), "vdot": lambda x: x[0, 0].vdot(x[1, 1]),
        "mv": lambda x: x[0].mv(x[1, 0]), "ravel": lambda x: x.T.ravel(),
        "swapdims": lambda x: x.swapdims(0, 2), "tensor_split": lambda x: x.tensor_split(
            [1, 3], 2)[1], "hsplit": lambda x: tr.hsplit(x, 3)[2], "narrow_copy":
        lambda x: x.narrow_copy(2, 1, 2), "flips": lambda x: x.fliplr() + x.flipud(),
        "msort": lambda x: x.msort(), "take": lambda x: x.take(tr.tensor([[0, -1], [5, 5]],
                                                                         device=x.device)),
        "put": lambda x: x.put(tr.tensor([1, 1, -2], device=x.device), x[0, 0, :3]) + x.put(
            tr.tensor([1, 1], device=x.device), x[1, 1, :2], accumulate=True),
        "index_copy": lambda x: x.index_copy(1, tr.tensor([2, 0], device=x.device),
                                             x[:, :2] * 2),
        "diagonal_scatter": lambda x: x.diagonal_scatter(x[:, 0, 1:], 1, 1, 2),
        "select_scatter": lambda x: x.select_scatter(x[1] * 2, 0, 0),
        "slice_scatter": lambda x: x.slice_scatter(x[..., ::2] * 3, 2, 0, None, 2),
        "float_power": lambda x: tr.float_power(x.abs() + 1, x), "frac": lambda x: x.frac(),
        "angles": lambda x: x.deg2rad() + x.rad2deg(), "sgn": lambda x: x.sgn() * x,
    }, a


@pytest.mark.parametrize("device", DEVICES)
def test_strict_device_equals_cpu(device):
    """Every new op's forward and backward through ``xp`` only (the strict device refuses
    NumPy called directly, as CuPy would), and the ones without a gradient."""
    cases, a = _strict_cases()
    assert_device_equals_cpu(cases, a, device)
    x = tr.tensor(np.where(a > 0, np.round(a), [NAN, INF, -INF, 0.0]), device=device)
    others = {
        "unique_consecutive": lambda: tr.unique_consecutive(x.nan_to_num(), dim=1,
                                                            return_counts=True)[1],
        "isneginf": lambda: x.isneginf(), "isposinf": lambda: x.isposinf(),
        "isreal": lambda: x.isreal(), "nansum": lambda: tr.where(x.isinf(), 0, x).nansum(),
        "repr": lambda: x,
    }
    for name, f in others.items():
        y = f()
        assert y.device == device, name
        with tr.no_grad():
            x = x.to("cpu")
            expected = f()
            x = x.to(device)
        np.testing.assert_array_equal(y.numpy(), expected.numpy(), err_msg=name)
        assert repr(y).replace(f", device='{device}'", "") == repr(expected), name
    for draw in (lambda t: t.random_(7), lambda t: t.cauchy_(), lambda t: tr.poisson(t.abs())):
        tr.manual_seed(0)
        y = draw(tr.ones(3, device=device))
        tr.manual_seed(0)
        np.testing.assert_array_equal(y.numpy(), draw(tr.ones(3)).numpy())
        assert y.device == device

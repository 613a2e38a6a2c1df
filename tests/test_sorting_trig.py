"""sin and cos (primitive ops), and sort, argsort and topk (a device-side stable argsort, then
one differentiable gather): values, indices and gradients against PyTorch in float64 (ties,
k = 0, k = size, negative dims, 0-d to 3-d inputs), gradients and second derivatives against
central differences on every device, broadcasting, and the errors.

Ties: ours is always a stable sort, so it equals ``torch.sort(..., stable=True)`` index for
index. PyTorch's default sort is stable only up to 16 elements along the axis on the CPU, and
its topk orders tied elements as its selection algorithm leaves them: there ours equals
torch's values, and its indices are those of torch's stable sort (the first of equal elements
win)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES

# ---- sin and cos -------------------------------------------------------------------------

TRIG = {"sin": (np.sin, np.cos), "cos": (np.cos, lambda a: -np.sin(a))}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(TRIG))
@given(a=tst.arrays(min_value=-10.0, max_value=10.0))
def test_trig_values_and_gradients(name, device, a):
    f, df = TRIG[name]
    x = tr.tensor(a, device=device, requires_grad=True)
    y = getattr(x, name)()
    np.testing.assert_allclose(y.numpy(), f(a), rtol=1e-12, atol=1e-15)
    y.backward(tr.ones(*a.shape, dtype="float64", device=device))
    np.testing.assert_allclose(x.grad.numpy(), df(a), rtol=1e-12, atol=1e-15)
    op = getattr(tr, name)
    assert gradcheck(op, [x]) and gradgradcheck(op, [x])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_trig_of_broadcast_operands_gradients(device, data):
    a, b = data.draw(tst.broadcastable_tensors(2, device=device, requires_grad=True,
                                               min_side=0))
    f = lambda a, b: (a * b).sin() * b.cos()  # noqa: E731
    assert gradcheck(f, [a, b]) and gradgradcheck(f, [a, b])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(TRIG))
def test_trig_keeps_float_dtypes_and_makes_integers_float32(name, dtype, device):
    x = tr.tensor([0.5, -1.5], dtype=dtype, device=device, requires_grad=True)
    y = getattr(x, name)()
    y.sum().backward()
    assert y.dtype == np.dtype(dtype) and x.grad.dtype == np.dtype(dtype)
    assert getattr(tr.tensor([1, 2], device=device), name)().dtype == np.float32  # as torch
    assert gradcheck(getattr(tr, name), [x]) and gradgradcheck(getattr(tr, name), [x])


@pytest.mark.torch
@pytest.mark.parametrize("name", list(TRIG))
@given(a=tst.arrays(min_value=-10.0, max_value=10.0))
def test_trig_first_and_second_derivatives_match_torch(name, a):
    torch = pytest.importorskip("torch")
    v = np.random.default_rng(0).standard_normal(a.shape)
    x, t = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, u = getattr(x, name)(), getattr(torch, name)(t)
    np.testing.assert_allclose(y.numpy(), u.detach().numpy(), rtol=1e-14, atol=1e-15)
    (gx,) = tr.grad(y, x, tr.tensor(v), create_graph=True)
    (gt,) = torch.autograd.grad(u, t, torch.tensor(v), create_graph=True)
    np.testing.assert_allclose(gx.numpy(), gt.detach().numpy(), rtol=1e-14, atol=1e-15)
    (ggx,) = tr.grad(gx, x, tr.tensor(v))
    (ggt,) = torch.autograd.grad(gt, t, torch.tensor(v))
    np.testing.assert_allclose(ggx.numpy(), ggt.numpy(), rtol=1e-14, atol=1e-15)


# ---- sort, argsort, topk against torch ---------------------------------------------------


@st.composite
def sort_inputs(draw, min_dims: int = 0):
    """(array, dim): 0-d to 3-d float64, sizes 0 to 5, often with ties (small integers), and a
    dim in range, negative ones included."""
    shape = draw(tst.shapes(min_dims=min_dims, max_dims=3, min_side=0, max_side=5))
    if draw(st.booleans()):
        a = draw(tst.arrays(shape, dtype=np.int64, min_value=-2, max_value=2)).astype(np.float64)
    else:
        a = draw(tst.arrays(shape))
    n = max(len(shape), 1)
    return a, draw(st.integers(-n, n - 1))


def _upstream(shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(1).standard_normal(shape)


def _check_pair(ours, theirs, x, t, dim: int = 0, exact_indices: bool = True) -> None:
    """Values, indices (int64, no gradient) and the gradient of one random upstream gradient
    on the values, against torch's pair; at ties (``exact_indices=False``), the values only,
    and the gradient is the upstream one scattered to our indices along ``dim``."""
    values, indices = ours
    assert isinstance(ours, tuple) and ours.values is values and ours.indices is indices
    np.testing.assert_array_equal(values.numpy(), theirs.values.detach().numpy())
    assert values.shape == tuple(theirs.values.shape) and indices.shape == values.shape
    assert indices.dtype == np.int64 and not indices.requires_grad and indices.grad_fn is None
    if exact_indices:
        np.testing.assert_array_equal(indices.numpy(), theirs.indices.numpy())
    v = _upstream(values.shape)
    values.backward(tr.tensor(v, device=x.device))
    theirs.values.backward(_torch().tensor(v))
    want = t.grad.numpy()
    if not exact_indices and x.ndim:
        want = np.zeros(x.shape)
        np.put_along_axis(want, indices.numpy(), v, dim)
    np.testing.assert_array_equal(x.grad.numpy(), want)


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@given(case=sort_inputs(), descending=st.booleans())
def test_sort_matches_torch_stable_sort(device, case, descending):
    torch = _torch()
    a, dim = case
    x, t = tr.tensor(a, device=device, requires_grad=True), torch.tensor(a, requires_grad=True)
    _check_pair(x.sort(dim=dim, descending=descending), torch.sort(
        t, dim=dim, descending=descending, stable=True), x, t, dim)
    # torch's default (unstable) sort: the same values; argsort is sort's indices
    np.testing.assert_array_equal(tr.sort(x, dim, descending).values.numpy(),
                                  torch.sort(t, dim=dim, descending=descending)[0].detach())
    np.testing.assert_array_equal(
        tr.argsort(x, axis=dim, descending=descending).numpy(),
        torch.argsort(t, dim=dim, descending=descending, stable=True).numpy())


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@given(case=sort_inputs(), largest=st.booleans(), data=st.data())
def test_topk_matches_torch(device, case, largest, data):
    """Values as torch.topk (k from 0 to the size); indices those of torch's stable sort, which
    are torch.topk's own where the values along dim are distinct; the gradient scatters the
    upstream gradient back to those indices."""
    torch = _torch()
    a, dim = case
    n = a.shape[dim] if a.ndim else 1
    k = data.draw(st.integers(0, n), label="k")
    x, t = tr.tensor(a, device=device, requires_grad=True), torch.tensor(a, requires_grad=True)
    ours, theirs = x.topk(k, dim=dim, largest=largest), torch.topk(t, k, dim=dim,
                                                                  largest=largest)
    rows = np.moveaxis(a, dim, -1).reshape(-1, n) if a.ndim and a.size else []
    distinct = all(len(np.unique(r)) == n for r in rows)
    _check_pair(ours, theirs, x, t, dim, exact_indices=distinct)
    stable = torch.sort(t.detach(), dim=dim, descending=largest, stable=True).indices
    stable = stable if a.ndim == 0 else stable.narrow(dim, 0, k)
    np.testing.assert_array_equal(ours.indices.numpy(), stable.numpy())


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data(), largest=st.booleans(),
       dtype=st.sampled_from(["float64", "float32", "int64", "bool"]))
def test_topk_by_selection_equals_the_sorts_first_k(device, data, largest, dtype):
    """For k below half the axis, topk selects (partition) before it sorts: the same values,
    indices (ties: the first ones; NaN the largest) and gradient as the first k of the sort."""
    shape = data.draw(tst.shapes(min_dims=1, max_dims=3, min_side=1, max_side=12), label="shape")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    pool = {"bool": [0.0, 1.0], "int64": [-2.0, 0.0, 1.0, 3.0]}.get(
        dtype, [-1.0, 0.0, 2.0, np.nan, np.inf, -np.inf, 0.5])
    a = np.asarray(data.draw(st.lists(st.sampled_from(pool), min_size=int(np.prod(shape)),
                                      max_size=int(np.prod(shape)))), dtype=np.float64)
    a = a.reshape(shape).astype(dtype)
    n = shape[dim]
    k = data.draw(st.integers(0, n), label="k")
    differentiable = dtype.startswith("float")
    x = tr.tensor(a, device=device, requires_grad=differentiable)
    ours = x.topk(k, dim=dim, largest=largest)
    first = x.sort(dim=dim, descending=largest)
    take = [slice(None)] * len(shape)
    take[dim] = slice(0, k)
    np.testing.assert_array_equal(ours.indices.numpy(), first.indices.numpy()[tuple(take)])
    np.testing.assert_array_equal(ours.values.numpy(), first.values.numpy()[tuple(take)])
    assert ours.values.dtype == a.dtype and ours.indices.device == device
    if differentiable:
        v = np.random.default_rng(0).standard_normal(ours.values.shape).astype(a.dtype)
        ours.values.backward(tr.tensor(v, device=device))
        want = np.zeros(shape)
        np.put_along_axis(want, ours.indices.numpy(), v, dim)
        np.testing.assert_array_equal(x.grad.numpy(), want)


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", [(0,), (4,), (3, 5), (2, 0, 3), (2, 3, 4)])
def test_topk_k_zero_and_k_size_match_torch(shape, device):
    torch = _torch()
    a = np.random.default_rng(2).integers(-2, 3, shape).astype(np.float64)
    for dim in range(-len(shape), len(shape)):
        for k in (0, shape[dim]):
            x = tr.tensor(a, device=device, requires_grad=True)
            t = torch.tensor(a, requires_grad=True)
            ours = tr.topk(x, k, dim)
            _check_pair(ours, torch.topk(t, k, dim), x, t, dim, exact_indices=False)
            assert ours.values.shape == shape[:dim % len(shape)] + (k,) + \
                shape[dim % len(shape) + 1:]


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dim", [0, -1])
def test_zero_dim_tensor_sorts_as_torch(device, dim):
    """A 0-d tensor is its own sort, argsort 0, and its own topk for k = 0 and k = 1."""
    torch = _torch()
    for f, g in [(lambda x: x.sort(dim), lambda t: torch.sort(t, dim)),
                 (lambda x: x.topk(0, dim), lambda t: torch.topk(t, 0, dim)),
                 (lambda x: x.topk(1, dim, largest=False), lambda t: torch.topk(t, 1, dim, False))]:
        x, t = tr.tensor(2.5, dtype="float64", device=device, requires_grad=True), \
            torch.tensor(2.5, dtype=torch.float64, requires_grad=True)
        _check_pair(f(x), g(t), x, t)
    assert tr.tensor(2.5, device=device).argsort(dim).shape == ()


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("descending", [False, True])
def test_sort_places_nan_and_infinities_as_torch(device, descending):
    torch = _torch()
    a = np.array([1.0, np.nan, 0.0, np.nan, -np.inf, np.inf, -0.0, 0.0, 2.0, -3.0])
    x, t = tr.tensor(a, device=device), torch.tensor(a)
    ours, theirs = x.sort(descending=descending), torch.sort(t, descending=descending,
                                                               stable=True)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())  # NaNs equal
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    top = x.topk(4, largest=descending)
    np.testing.assert_array_equal(top.values.numpy(), torch.topk(t, 4, largest=descending)[0])


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_sort_and_topk_of_integers_and_bools_match_torch(dtype, descending, device):
    """Descending works without negation (which would wrap uint8 and fail for bool)."""
    torch = _torch()
    a = np.array([[3, 0, 3, 255 if dtype == "uint8" else 1, 0, 1]]).astype(dtype)
    if dtype == "bool":
        a = a.astype(bool)
    x, t = tr.tensor(a, device=device), torch.from_numpy(a)
    ours, theirs = x.sort(-1, descending), torch.sort(t, dim=-1, descending=descending, stable=True)
    assert ours.values.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    if dtype != "bool":  # torch has no topk for bool
        np.testing.assert_array_equal(x.topk(3, largest=descending).values.numpy(),
                                      torch.topk(t, 3, largest=descending).values.numpy())


# ---- gradients against central differences, on every device ------------------------------


@st.composite
def distinct_inputs(draw, device: str):
    """(tensor, dim): 1-d to 3-d, values distinct and at least 0.25 apart (a sort is not
    differentiable at a tie, where central differences average the two sides)."""
    shape = draw(tst.shapes(min_dims=1, max_dims=3, max_side=4))
    order = np.array(draw(st.permutations(range(int(np.prod(shape))))), dtype=np.float64)
    a = order.reshape(shape) * 0.5 - 3 + draw(tst.arrays(shape, min_value=0.0,
                                                         max_value=0.25))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return tr.tensor(a, device=device, requires_grad=True), dim


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data(), largest=st.booleans())
def test_sort_and_topk_gradients(device, data, largest):
    x, dim = data.draw(distinct_inputs(device))
    k = data.draw(st.integers(0, x.shape[dim]), label="k")
    for f in (lambda t: t.sort(dim, descending=largest).values,
              lambda t: t.topk(k, dim, largest=largest),  # the pair: indices are constants
              lambda t: tr.topk(t, k, dim, largest).values.sin() * t.sum()):
        assert gradcheck(f, [x]) and gradgradcheck(f, [x])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_topk_of_broadcast_sum_gradients(device, data):
    """x + b with b broadcast along dim (so the values along dim stay distinct): the gradient
    of b is the sum over what broadcasting spread."""
    x, dim = data.draw(distinct_inputs(device))
    d = dim % x.ndim
    shape = tuple(1 if i == d or data.draw(st.booleans()) else n for i, n in enumerate(x.shape))
    b = tr.tensor(data.draw(tst.arrays(shape[data.draw(st.integers(0, d)):])), device=device,
                  requires_grad=True)
    k = data.draw(st.integers(0, x.shape[d]), label="k")
    f = lambda x, b: (x + b).topk(k, dim).values * b  # noqa: E731
    assert gradcheck(f, [x, b]) and gradgradcheck(f, [x, b])


@pytest.mark.parametrize("device", DEVICES)
def test_sort_gradient_goes_to_the_picked_tied_positions(device):
    """At a tie the gradient goes where the index says (the first of the equal elements
    first), as torch's stable sort: not split between them, as max splits it."""
    x = tr.tensor([1.0, 3.0, 3.0, 2.0, 3.0], device=device, requires_grad=True)
    values, indices = x.topk(2)
    np.testing.assert_array_equal(indices.numpy(), [1, 2])
    values.backward(tr.tensor([10.0, 1.0], device=device))
    np.testing.assert_array_equal(x.grad.numpy(), [0, 10, 1, 0, 0])


# ---- the API: names, keywords and errors -------------------------------------------------


def test_dim_and_axis_keywords_and_positions_agree():
    x = tr.tensor(np.random.default_rng(3).standard_normal((3, 4)))
    for a, b in [(x.sort(dim=0), tr.sort(x, axis=0)), (x.sort(0, True), tr.sort(x, 0, True)),
                 (x.topk(2, dim=0, largest=False), tr.topk(x, 2, 0, False, True))]:
        np.testing.assert_array_equal(a.values.numpy(), b.values.numpy())
        np.testing.assert_array_equal(a.indices.numpy(), b.indices.numpy())
    np.testing.assert_array_equal(x.argsort(dim=1, descending=True).numpy(),
                                  tr.argsort(x, 1, True, stable=True).numpy())
    with pytest.raises(TypeError, match="both axis= and dim="):
        x.sort(axis=0, dim=0)


@pytest.mark.parametrize("k", [-1, 4, 10])
def test_topk_refuses_k_out_of_range_naming_k_and_the_size(k):
    with pytest.raises(ValueError, match=rf"k={k} is out of range for size 3 along dim -1"):
        tr.topk(tr.ones(2, 3), k)
    with pytest.raises(ValueError, match=rf"k={k} is out of range for size 2 along dim 0"):
        tr.topk(tr.ones(2, 3), k, dim=0)
    with pytest.raises(ValueError, match=rf"k={k} is out of range for size 1"):
        tr.topk(tr.tensor(1.0), k)  # a 0-d tensor counts as one element, as in PyTorch


def test_topk_refuses_a_k_that_is_not_an_int():
    for k in (1.5, True, None):
        with pytest.raises(TypeError, match="k must be an int"):
            tr.ones(3).topk(k)


def _sorters(x, dim):
    return [("sort", lambda: x.sort(dim)), ("argsort", lambda: tr.argsort(x, dim)),
            ("topk", lambda: x.topk(1, dim=dim))]


@pytest.mark.parametrize("dim", [2, -3, 5])
def test_sort_argsort_topk_refuse_a_dim_out_of_range(dim):
    for name, call in _sorters(tr.ones(2, 3), dim):
        with pytest.raises(ValueError, match=rf"{name}: dim {dim} is out of range for a "
                                             r"tensor with 2 dimensions \(expected one in "
                                             r"\[-2, 1\]\)"):
            call()
    for name, call in _sorters(tr.tensor(1.0), dim):
        with pytest.raises(ValueError, match=rf"{name}: dim .* \[-1, 0\]"):
            call()


@pytest.mark.parametrize("dim", [(0, 1), 1.0, None, True])
def test_sort_argsort_topk_refuse_a_dim_that_is_not_one_int(dim):
    for name, call in _sorters(tr.ones(2, 3), dim):
        with pytest.raises(TypeError, match=rf"{name}: dim must be one int"):
            call()


def test_sort_flags_must_be_bools():
    x = tr.tensor([3.0, 1.0, 2.0])
    with pytest.raises(TypeError, match="sort: descending must be a bool, got 'no'"):
        x.sort(descending="no")
    with pytest.raises(TypeError, match="topk: largest must be a bool, got 0"):
        x.topk(1, largest=0)
    with pytest.raises(TypeError, match="argsort: descending must be a bool"):
        x.argsort(descending=None)


# ---- max / min along one axis: (values, indices), as torch ----------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("smallest", [False, True])
@given(case=sort_inputs(), keepdim=st.booleans())
def test_max_and_min_along_an_axis_match_torch(device, smallest, case, keepdim):
    """x.max(dim) and tr.min(x, dim): values, indices (the first of ties, the first NaN) and
    the gradient, which goes to the returned index alone, as torch's."""
    torch = _torch()
    a, dim = case
    if a.ndim and a.shape[dim] == 0:
        return  # refused by both; see the errors test
    x, t = tr.tensor(a, device=device, requires_grad=True), torch.tensor(a, requires_grad=True)
    if smallest:
        ours, theirs = tr.min(x, dim, keepdim), torch.min(t, dim, keepdim)
    else:
        ours, theirs = x.max(dim=dim, keepdim=keepdim), t.max(dim=dim, keepdim=keepdim)
    _check_pair(ours, theirs, x, t, dim)


@pytest.mark.torch
def test_max_idioms_of_ported_code():
    torch = _torch()
    logits = [[0.1, 2.0, 0.3], [3.0, 0.2, 0.1], [0.0, 0.1, 5.0]]
    y = [1, 0, 2]
    _, predicted = tr.max(tr.tensor(logits), 1)
    assert (predicted == tr.tensor(y)).sum().item() == 3
    assert tr.tensor(logits).max(1).indices.numpy().tolist() == \
        torch.tensor(logits).max(1).indices.tolist()
    full = tr.tensor(logits).max()  # no axis: the largest element, a 0-d tensor
    assert full.shape == () and full.item() == 5.0
    np.testing.assert_array_equal(tr.tensor(logits).amax(1).numpy(),
                                  torch.tensor(logits).amax(1).numpy())
    np.testing.assert_array_equal(tr.amin(tr.tensor(logits), (0, 1)).numpy(),
                                  torch.amin(torch.tensor(logits), (0, 1)).numpy())


def test_max_along_axes_errors_name_the_way_out():
    x = tr.ones(2, 0, 3)
    with pytest.raises(TypeError, match=r"over several axes there is no single index: use "
                                        r"amax\(axes\)"):
        tr.ones(2, 3).max((0, 1))
    with pytest.raises(ValueError, match=r"axis 1 has size 0 \(shape \(2, 0, 3\)\)"):
        x.min(1)
    with pytest.raises(ValueError, match="max: dim 2 is out of range"):
        tr.ones(2, 3).max(2)

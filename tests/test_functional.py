"""functional.py: values against NumPy formulas written here (float64), gradients against central
differences on drawn shapes, stability at large inputs, bad input, and PyTorch as an oracle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES

IGNORE = -100
REDUCTIONS = ["mean", "sum", "none"]


# ---- NumPy references (float64) ------------------------------------------------------------


def np_logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    return m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def np_log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return x - np_logsumexp(x, axis)


def np_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_reduce(loss: np.ndarray, reduction: str, count: float | None = None) -> np.ndarray:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum())
    return np.asarray(loss.sum() / (loss.size if count is None else count))


def np_cross_entropy(logits: np.ndarray, target: np.ndarray, reduction: str = "mean",
                     ignore_index: int = IGNORE) -> np.ndarray:
    """-log softmax(logits)[target], classes on axis 1 ((C,) for one sample)."""
    target = np.asarray(target)
    if logits.ndim == 1:
        logits, target = logits[None], target.reshape(1)
    logp = np_log_softmax(logits, axis=1)
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    picked = np.take_along_axis(logp, safe[:, None], axis=1)[:, 0]
    loss = np.where(keep, -picked, 0.0)
    return np_reduce(loss, reduction, max(int(keep.sum()), 1))


def np_sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def np_bce_with_logits(x: np.ndarray, y: np.ndarray, reduction: str = "mean") -> np.ndarray:
    """The textbook formula (fine for moderate x)."""
    s = np_sigmoid(x)
    return np_reduce(-(y * np.log(s) + (1 - y) * np.log(1 - s)), reduction)


def t(a: object, device: str, requires_grad: bool = False, dtype: object = None) -> tr.Tensor:
    return tr.tensor(np.asarray(a), dtype=dtype, device=device, requires_grad=requires_grad)


@pytest.fixture
def seeded_rng():
    """Keep the global generator's state as it was before the test."""
    state = tr.random.get_rng_state()
    yield
    tr.random.set_rng_state(state)


# ---- linear ----------------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch", [(), (3,), (2, 3)])
def test_linear_matches_numpy(device, bias, batch):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((*batch, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    out = F.linear(t(x, device), t(w, device), t(b, device) if bias else None)
    ref = x @ w.T + (b if bias else 0)
    assert out.shape == (*batch, 5)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@given(batch=tst.shapes(min_dims=0, max_dims=2, max_side=3), n_in=st.integers(1, 3),
       n_out=st.integers(1, 3), bias=st.booleans(), data=st.data())
def test_linear_gradcheck(device, batch, n_in, n_out, bias, data):
    x = data.draw(tst.tensors((*batch, n_in), device=device, requires_grad=True))
    w = data.draw(tst.tensors((n_out, n_in), device=device, requires_grad=True))
    b = data.draw(tst.tensors((n_out,), device=device, requires_grad=True))
    if bias:
        assert gradcheck(F.linear, [x, w, b])
    else:
        assert gradcheck(lambda x, w: F.linear(x, w), [x, w])


@pytest.mark.parametrize("device", DEVICES)
def test_linear_gradgradcheck(device):
    rng = np.random.default_rng(1)
    x = t(rng.standard_normal((2, 3)), device, True)
    w = t(rng.standard_normal((4, 3)), device, True)
    b = t(rng.standard_normal(4), device, True)
    assert gradgradcheck(lambda x, w, b: F.linear(x, w, b).tanh(), [x, w, b])


@pytest.mark.parametrize("device", DEVICES)
def test_linear_wrong_feature_size_raises(device):
    x, w = t(np.ones((2, 3)), device), t(np.ones((5, 4)), device)
    with pytest.raises(ValueError, match=r"3 features.*expects 4"):
        F.linear(x, w)


# ---- softmax, log_softmax, logsumexp --------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@given(shape=tst.shapes(min_dims=1), data=st.data())
def test_softmax_matches_numpy(device, shape, data):
    a = data.draw(tst.arrays(shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    out = F.softmax(t(a, device), axis=axis)
    np.testing.assert_allclose(out.numpy(), np_softmax(a, axis), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out.numpy().sum(axis=axis), 1.0, rtol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@given(shape=tst.shapes(min_dims=1), data=st.data())
def test_log_softmax_matches_numpy(device, shape, data):
    a = data.draw(tst.arrays(shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    out = F.log_softmax(t(a, device), axis=axis)
    np.testing.assert_allclose(out.numpy(), np_log_softmax(a, axis), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
@given(shape=tst.shapes(min_dims=1), data=st.data())
def test_softmax_gradcheck(device, fn, shape, data):
    x = data.draw(tst.tensors(shape, device=device, requires_grad=True))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    assert gradcheck(lambda x: fn(x, axis=axis), [x])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
@given(x=tst.arrays(tst.shapes(min_dims=1, max_dims=2, max_side=3)))
def test_softmax_gradgradcheck(device, fn, x):
    assert gradgradcheck(fn, [t(x, device, True)])


LARGE = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1.0 - 1e4], [1e4, 1e4, 1e4]])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_large_inputs_finite_and_correct(device, dtype):
    # pytest turns any overflow/invalid RuntimeWarning into an error
    x = t(LARGE, device, dtype=dtype)
    sm, lsm, lse = F.softmax(x), F.log_softmax(x), tr.logsumexp(x, axis=-1)
    for out in (sm, lsm, lse):
        assert np.all(np.isfinite(out.numpy()))
        assert out.dtype == dtype
    # float32 holds 1e4 to within ~1e-3, so log-domain values carry that absolute error
    tol = {"rtol": 1e-12, "atol": 1e-11} if dtype == np.float64 else {"rtol": 1e-3, "atol": 2e-3}
    np.testing.assert_allclose(sm.numpy(), np_softmax(LARGE), **tol)
    np.testing.assert_allclose(lsm.numpy(), np_log_softmax(LARGE), **tol)
    np.testing.assert_allclose(lse.numpy(), np_logsumexp(LARGE, -1)[:, 0], **tol)
    np.testing.assert_allclose(sm.numpy()[0], [1.0, 0.0, 0.0], atol=1e-12)
    # softmax itself never leaves the probability domain: exact to float32 precision too
    np.testing.assert_allclose(sm.numpy(), np_softmax(LARGE), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(lse.numpy()[2], 1e4 + np.log(3), rtol=1e-7)


@pytest.mark.parametrize("device", DEVICES)
def test_log_softmax_large_inputs_gradient_finite(device):
    x = t(LARGE, device, True)
    v = np.random.default_rng(2).standard_normal(LARGE.shape)
    F.log_softmax(x).backward(t(v, device))
    ref = v - np_softmax(LARGE) * v.sum(axis=-1, keepdims=True)
    assert np.all(np.isfinite(x.grad.numpy()))
    np.testing.assert_allclose(x.grad.numpy(), ref, rtol=1e-12, atol=1e-12)


# ---- cross_entropy ---------------------------------------------------------------------------


def _ce_inputs(shape: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits of ``shape`` (classes on axis 1) and targets with one ignored entry."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal(shape)
    c = shape[1]
    target = rng.integers(0, c, size=(shape[0], *shape[2:]))
    target.reshape(-1)[1] = IGNORE
    return logits, target


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 3), (3, 4, 2), (2, 3, 1)])
def test_cross_entropy_matches_numpy(device, reduction, shape):
    logits, target = _ce_inputs(shape)
    out = F.cross_entropy(t(logits, device), t(target, device), reduction=reduction)
    ref = np_cross_entropy(logits, target, reduction)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)
    if reduction == "none":
        assert np.all(out.numpy().reshape(-1)[1] == 0.0)  # the ignored entry adds nothing


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_single_sample_matches_numpy(device, reduction):
    logits = np.array([0.5, -1.0, 2.0, 0.1])
    for target in (2, np.array(2)):
        out = F.cross_entropy(t(logits, device), t(target, device), reduction=reduction)
        assert out.shape == ()
        np.testing.assert_allclose(out.item(), -np_log_softmax(logits)[2], rtol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_single_sample_none_is_scalar(device):
    out = F.cross_entropy(t([0.5, -1.0, 2.0], device), t(2, device), reduction="none")
    assert out.shape == ()


@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_mean_divides_by_kept_count(device):
    logits, target = _ce_inputs((5, 3), seed=3)
    target[[0, 3]] = IGNORE  # with target[1], three of five ignored
    lt, tt = t(logits, device), t(target, device)
    mean = F.cross_entropy(lt, tt).item()
    total = F.cross_entropy(lt, tt, reduction="sum").item()
    np.testing.assert_allclose(mean, total / 2, rtol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_custom_ignore_index(device):
    logits = np.random.default_rng(4).standard_normal((4, 3))
    target = np.array([0, 1, 2, 1])
    out = F.cross_entropy(t(logits, device), t(target, device), ignore_index=1)
    np.testing.assert_allclose(out.item(), np_cross_entropy(logits, target, "mean", 1),
                               rtol=1e-12)


def test_losses_refuse_weights_and_targets_of_another_dtype_as_torch():
    x = tr.tensor(np.zeros((2, 3)))  # float64
    w32 = tr.ones(3)  # float32
    y = tr.tensor([0, 2])
    for f in (F.cross_entropy, F.nll_loss, F.multi_margin_loss):
        with pytest.raises(TypeError, match="weight dtype float32 does not match the input's "
                                            "dtype float64"):
            f(x, y, weight=w32)
    with pytest.raises(TypeError, match="target dtype float64 does not match the input's "
                                        "dtype float32"):
        F.binary_cross_entropy(tr.full((2,), 0.5), tr.tensor(np.ones(2)))


def test_cross_entropy_probability_target_refuses_ignore_index():
    # as torch's: a probability target has no class to ignore
    probs = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match="ignore_index=0 is not supported"):
        F.cross_entropy(tr.zeros(2, 3, dtype="float64"), tr.tensor(probs), ignore_index=0)
    F.cross_entropy(tr.zeros(2, 3, dtype="float64"), tr.tensor(probs), ignore_index=-100)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_all_ignored_is_zero_with_zero_gradient(device, reduction):
    # intended difference from PyTorch, whose mean is 0/0 = NaN here
    x = t(np.random.default_rng(5).standard_normal((3, 4)), device, True)
    out = F.cross_entropy(x, t(np.full(3, IGNORE), device), reduction=reduction)
    assert out.item() == 0.0
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))


@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_accepts_host_target_and_keeps_float32(device):
    logits = np.random.default_rng(6).standard_normal((3, 4)).astype(np.float32)
    for reduction in REDUCTIONS:
        out = F.cross_entropy(t(logits, device), [0, 3, 1], reduction=reduction)
        assert out.dtype == np.float32
        assert out.device == device
        ref = np_cross_entropy(logits.astype(np.float64), np.array([0, 3, 1]), reduction)
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5)


@st.composite
def ce_problems(draw, device: str) -> tuple[tr.Tensor, tr.Tensor]:
    """(logits (N, C[, d1]), integer targets, some of them ignored)."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
    logits = draw(tst.tensors((n, c, *extra), device=device, requires_grad=True))
    raw = draw(hnp.arrays(np.int64, (n, *extra), elements=st.integers(-1, c - 1)))
    return logits, t(np.where(raw < 0, IGNORE, raw), device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_cross_entropy_gradcheck(device, reduction, data):
    logits, target = data.draw(ce_problems(device))
    ref = np_cross_entropy(logits.numpy(), target.numpy(), reduction)
    out = F.cross_entropy(logits, target, reduction=reduction)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x: F.cross_entropy(x, target, reduction=reduction), [logits])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_gradgradcheck(device, reduction):
    logits, target = _ce_inputs((3, 4, 2), seed=7)
    x = t(logits, device, True)
    tt = t(target, device)
    assert gradgradcheck(lambda x: F.cross_entropy(x, tt, reduction=reduction), [x])


@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_float_target_raises_type_error(device):
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(t(np.zeros((2, 3)), device), t(np.array([0.0, 1.0]), device))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("bad", [3, -1, 7])
def test_cross_entropy_target_out_of_range_raises(device, bad):
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        F.cross_entropy(t(np.zeros((2, 3)), device), t(np.array([0, bad]), device))


@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_target_count_mismatch_raises(device):
    with pytest.raises(ValueError, match=r"target shape \(3,\)"):
        F.cross_entropy(t(np.zeros((2, 4)), device), t(np.array([0, 1, 2]), device))


@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_shape_mismatch_names_both_shapes(device):
    with pytest.raises(ValueError, match=r"(?s)(?=.*\(3,\))(?=.*\(2, 4\))"):
        F.cross_entropy(t(np.zeros((2, 4)), device), t(np.array([0, 1, 2]), device))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("logits_shape", "target_shape"), [((2, 3, 4), (4, 2)), ((2, 3), (2, 1))])
def test_cross_entropy_same_size_wrong_shape_target_raises(device, logits_shape, target_shape):
    with pytest.raises(ValueError, match="target shape"):
        F.cross_entropy(t(np.zeros(logits_shape), device),
                        t(np.zeros(target_shape, dtype=np.int64), device))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("fn", ["cross_entropy", "mse_loss", "bce"])
def test_loss_bad_reduction_raises(device, fn):
    x = t(np.zeros((2, 3)), device)
    calls = {
        "cross_entropy": lambda: F.cross_entropy(x, t(np.array([0, 1]), device), reduction="avg"),
        "mse_loss": lambda: F.mse_loss(x, x, reduction="avg"),
        "bce": lambda: F.binary_cross_entropy_with_logits(x, x, reduction="avg"),
    }
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none'.*'avg'"):
        calls[fn]()


# ---- mse_loss --------------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(shape=tst.shapes(), data=st.data())
def test_mse_loss_values_and_gradcheck(device, reduction, shape, data):
    a = data.draw(tst.tensors(shape, device=device, requires_grad=True))
    b = data.draw(tst.tensors(shape, device=device, requires_grad=True))
    out = F.mse_loss(a, b, reduction=reduction)
    ref = np_reduce((a.numpy() - b.numpy()) ** 2, reduction)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-15)
    assert gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [a, b])


@pytest.mark.parametrize("device", DEVICES)
def test_mse_loss_gradgradcheck(device):
    rng = np.random.default_rng(8)
    a = t(rng.standard_normal((2, 3)), device, True)
    b = t(rng.standard_normal((2, 3)), device, True)
    assert gradgradcheck(F.mse_loss, [a, b])


@pytest.mark.parametrize("device", DEVICES)
def test_mse_loss_shape_mismatch_names_both_shapes(device):
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        F.mse_loss(t(np.zeros((2, 3)), device), t(np.zeros((3, 2)), device))


# ---- binary_cross_entropy_with_logits --------------------------------------------------------


@st.composite
def bce_problems(draw, device: str, shape: tuple[int, ...] | None = None):
    """Targets in [0, 1] and logits in [-3, 3] (0 included: the gradient is exact there)."""
    shp = shape if shape is not None else draw(tst.shapes())
    x = draw(tst.arrays(shp))
    y = draw(tst.arrays(shp, min_value=0.0, max_value=1.0))
    return t(x, device, True), t(y, device, True)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_bce_with_logits_values_and_gradcheck(device, reduction, data):
    x, y = data.draw(bce_problems(device))
    out = F.binary_cross_entropy_with_logits(x, y, reduction=reduction)
    ref = np_bce_with_logits(x.numpy(), y.numpy(), reduction)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)
    fn = lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction=reduction)  # noqa: E731
    assert gradcheck(fn, [x, y])


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_bce_with_logits_gradgradcheck(device, data):
    x, y = data.draw(bce_problems(device, (2, 2)))
    assert gradgradcheck(F.binary_cross_entropy_with_logits, [x, y])


@pytest.mark.parametrize("device", DEVICES)
def test_bce_with_logits_gradient_at_zero_logit(device):
    x = t(np.zeros(3), device, True)
    y = np.array([0.0, 0.5, 1.0])
    F.binary_cross_entropy_with_logits(x, t(y, device), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), 0.5 - y, rtol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bce_with_logits_large_logits_finite(device, dtype):
    x_np = np.array([1e4, -1e4, 1e4, -1e4, 1e4])
    y_np = np.array([1.0, 0.0, 0.0, 1.0, 0.25])
    x = t(x_np, device, True, dtype=dtype)
    out = F.binary_cross_entropy_with_logits(x, t(y_np, device, dtype=dtype), reduction="none")
    assert np.all(np.isfinite(out.numpy()))
    np.testing.assert_allclose(out.numpy(), [0.0, 0.0, 1e4, 1e4, 0.75e4], rtol=1e-6)
    out.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 1.0, -1.0, 0.75], atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_bce_with_logits_shape_mismatch_names_both_shapes(device):
    with pytest.raises(ValueError, match=r"\(4,\).*\(2, 2\)"):
        F.binary_cross_entropy_with_logits(t(np.zeros(4), device), t(np.zeros((2, 2)), device))


# ---- dropout ---------------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_dropout_eval_is_identity(device):
    x = t(np.random.default_rng(9).standard_normal((3, 4)), device, True)
    w = np.random.default_rng(10).standard_normal((3, 4))
    out = F.dropout(x, p=0.9, training=False)
    np.testing.assert_array_equal(out.numpy(), x.numpy())
    (out * t(w, device)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), w)


@pytest.mark.parametrize("device", DEVICES)
def test_dropout_p0_is_identity(device, seeded_rng):
    x = t(np.random.default_rng(11).standard_normal((3, 4)), device, True)
    out = F.dropout(x, p=0.0)
    np.testing.assert_array_equal(out.numpy(), x.numpy())
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 4)))


@pytest.mark.parametrize("device", DEVICES)
def test_dropout_p1_zeroes_everything(device, seeded_rng):
    x = t(np.random.default_rng(12).standard_normal((3, 4)), device, True)
    out = F.dropout(x, p=1.0)
    np.testing.assert_array_equal(out.numpy(), np.zeros((3, 4)))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))


@pytest.mark.parametrize("device", DEVICES)
def test_dropout_same_seed_same_mask(device, seeded_rng):
    x = t(np.ones((20, 30)), device)
    tr.manual_seed(123)
    a = F.dropout(x, p=0.5).numpy()
    b = F.dropout(x, p=0.5).numpy()
    tr.manual_seed(123)
    c = F.dropout(x, p=0.5).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)  # the generator moves on between calls
    tr.manual_seed(123)  # the mask is drawn on the host: every device gets the same one
    np.testing.assert_array_equal(F.dropout(t(np.ones((20, 30)), "cpu"), p=0.5).numpy(), a)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("p", [0.1, 0.3, 0.75])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dropout_scales_kept_elements(device, p, dtype, seeded_rng):
    tr.manual_seed(0)
    x_np = np.random.default_rng(13).uniform(1.0, 2.0, size=(100, 100))
    x = t(x_np, device, True, dtype=dtype)
    out = F.dropout(x, p=p)
    assert out.dtype == dtype
    y = out.numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], x_np[kept] / (1 - p), rtol=1e-6)
    n = kept.size
    assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)
    g = np.random.default_rng(14).standard_normal((100, 100))
    out.backward(t(g, device, dtype=dtype))
    np.testing.assert_allclose(x.grad.numpy(), g * kept / (1 - p), rtol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
@given(x=tst.arrays(), p=st.sampled_from([0.0, 0.2, 0.5, 1.0]), seed=st.integers(0, 2**16))
def test_dropout_gradcheck(device, x, p, seed):
    state = tr.random.get_rng_state()
    try:
        def fn(a):
            tr.manual_seed(seed)  # the same mask on every call gradcheck makes
            return F.dropout(a, p=p)

        assert gradcheck(fn, [t(x, device, True)])
    finally:
        tr.random.set_rng_state(state)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_bad_p_raises(device, p):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.dropout(t(np.ones(3), device), p=p)


# ---- embedding -------------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_embedding_picks_rows_and_accumulates_repeats(device):
    rng = np.random.default_rng(15)
    w_np = rng.standard_normal((5, 3))
    idx = np.array([[0, 1, 1], [4, 1, 0]])
    w = t(w_np, device, True)
    out = F.embedding(t(idx, device), w)
    np.testing.assert_array_equal(out.numpy(), w_np[idx])
    g = rng.standard_normal((2, 3, 3))
    out.backward(t(g, device))
    ref = np.zeros((5, 3))
    np.add.at(ref, idx, g)
    gw = w.grad.numpy()
    np.testing.assert_allclose(gw, ref, rtol=1e-12)
    np.testing.assert_allclose(gw[1], g[0, 1] + g[0, 2] + g[1, 1], rtol=1e-12)  # row 1 picked 3x
    np.testing.assert_array_equal(gw[[2, 3]], 0.0)


@pytest.mark.parametrize("device", DEVICES)
@given(n=st.integers(1, 4), dim=st.integers(1, 3), data=st.data())
def test_embedding_gradcheck(device, n, dim, data):
    w = data.draw(tst.tensors((n, dim), device=device, requires_grad=True))
    idx = data.draw(hnp.arrays(np.int64, tst.shapes(max_dims=2), elements=st.integers(0, n - 1)))
    ti = t(idx, device)
    assert gradcheck(lambda w: F.embedding(ti, w), [w])
    assert gradgradcheck(lambda w: F.embedding(ti, w) ** 2, [w])


@pytest.mark.parametrize("device", DEVICES)
def test_embedding_bad_indices_raise(device):
    w = t(np.zeros((5, 2)), device)
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        F.embedding(t(np.array([0, 5]), device), w)
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        F.embedding(t(np.array([-1]), device), w)
    with pytest.raises(TypeError, match="integers"):
        F.embedding(t(np.array([0.0, 1.0]), device), w)


# ---- one_hot ---------------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_one_hot_matches_numpy_eye(device):
    idx = np.array([[0, 3], [2, 2]])
    out = F.one_hot(t(idx, device), num_classes=5)
    assert out.shape == (2, 2, 5)
    assert out.dtype == np.int64
    assert out.device == device
    np.testing.assert_array_equal(out.numpy(), np.eye(5, dtype=np.int64)[idx])
    inferred = F.one_hot(t(idx, device))
    np.testing.assert_array_equal(inferred.numpy(), np.eye(4, dtype=np.int64)[idx])


def test_one_hot_accepts_host_indices():
    out = F.one_hot([1, 0], 2)
    np.testing.assert_array_equal(out.numpy(), [[0, 1], [1, 0]])


@pytest.mark.parametrize("device", DEVICES)
def test_one_hot_bad_indices_raise(device):
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        F.one_hot(t(np.array([0, 3]), device), num_classes=3)
    with pytest.raises(TypeError, match="integers"):
        F.one_hot(t(np.array([0.0]), device))


# ---- PyTorch as the oracle (float64) ---------------------------------------------------------


def _torch_pair(torch, a: np.ndarray, device: str) -> tuple[tr.Tensor, object]:
    return t(a, device, True), torch.tensor(a, dtype=torch.float64, requires_grad=True)


def _assert_same(ours: tr.Tensor, theirs) -> None:
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
class TestAgainstTorch:
    def test_linear_matches_torch(self, device):
        torch = pytest.importorskip("torch")
        rng = np.random.default_rng(20)
        (x, xt), (w, wt), (b, bt) = (_torch_pair(torch, rng.standard_normal(s), device)
                                     for s in [(2, 3, 4), (5, 4), (5,)])
        out, ref = F.linear(x, w, b), torch.nn.functional.linear(xt, wt, bt)
        _assert_same(out, ref)
        g = rng.standard_normal(ref.shape)
        out.backward(t(g, device))
        ref.backward(torch.tensor(g))
        for ours, theirs in [(x, xt), (w, wt), (b, bt)]:
            _assert_same(ours.grad, theirs.grad)

    @pytest.mark.parametrize("name", ["softmax", "log_softmax"])
    @pytest.mark.parametrize("axis", [0, 1, -1])
    def test_softmax_matches_torch(self, device, name, axis):
        torch = pytest.importorskip("torch")
        rng = np.random.default_rng(21)
        x, xt = _torch_pair(torch, rng.standard_normal((3, 4, 2)), device)
        out, ref = getattr(F, name)(x, axis=axis), getattr(torch.nn.functional, name)(xt, dim=axis)
        _assert_same(out, ref)
        g = rng.standard_normal(ref.shape)
        out.backward(t(g, device))
        ref.backward(torch.tensor(g))
        _assert_same(x.grad, xt.grad)

    @pytest.mark.parametrize("reduction", REDUCTIONS)
    @pytest.mark.parametrize("shape", [(5, 3), (3, 4, 2)])
    @pytest.mark.parametrize("ignore_index", [IGNORE, 0])
    def test_cross_entropy_matches_torch(self, device, reduction, shape, ignore_index):
        torch = pytest.importorskip("torch")
        logits, target = _ce_inputs(shape, seed=22)
        target = np.where(target == IGNORE, ignore_index, target)
        x, xt = _torch_pair(torch, logits, device)
        out = F.cross_entropy(x, t(target, device), reduction=reduction,
                              ignore_index=ignore_index)
        ref = torch.nn.functional.cross_entropy(xt, torch.tensor(target), reduction=reduction,
                                                ignore_index=ignore_index)
        _assert_same(out, ref)
        g = np.random.default_rng(23).standard_normal(ref.shape)
        out.backward(t(g, device))
        ref.backward(torch.tensor(g))
        _assert_same(x.grad, xt.grad)

    @pytest.mark.parametrize("reduction", ["mean", "sum"])
    def test_cross_entropy_single_sample_matches_torch(self, device, reduction):
        torch = pytest.importorskip("torch")
        x, xt = _torch_pair(torch, np.array([0.3, -1.2, 2.0, 0.0]), device)
        out = F.cross_entropy(x, t(1, device), reduction=reduction)
        ref = torch.nn.functional.cross_entropy(xt, torch.tensor(1), reduction=reduction)
        _assert_same(out, ref)
        out.backward()
        ref.backward()
        _assert_same(x.grad, xt.grad)

    def test_cross_entropy_all_ignored_differs_from_torch(self, device):
        torch = pytest.importorskip("torch")
        x, xt = _torch_pair(torch, np.ones((2, 3)), device)
        target = np.full(2, IGNORE)
        ref = torch.nn.functional.cross_entropy(xt, torch.tensor(target))
        assert torch.isnan(ref)  # PyTorch: 0/0
        assert F.cross_entropy(x, t(target, device)).item() == 0.0  # ours: 0, by design
        ref_sum = torch.nn.functional.cross_entropy(xt, torch.tensor(target), reduction="sum")
        _assert_same(F.cross_entropy(x, t(target, device), reduction="sum"), ref_sum)

    @pytest.mark.parametrize("reduction", REDUCTIONS)
    def test_mse_loss_matches_torch(self, device, reduction):
        torch = pytest.importorskip("torch")
        rng = np.random.default_rng(24)
        (a, at), (b, bt) = (_torch_pair(torch, rng.standard_normal((3, 4)), device)
                            for _ in range(2))
        out = F.mse_loss(a, b, reduction=reduction)
        ref = torch.nn.functional.mse_loss(at, bt, reduction=reduction)
        _assert_same(out, ref)
        g = rng.standard_normal(ref.shape)
        out.backward(t(g, device))
        ref.backward(torch.tensor(g))
        _assert_same(a.grad, at.grad)
        _assert_same(b.grad, bt.grad)

    @pytest.mark.parametrize("reduction", REDUCTIONS)
    def test_bce_with_logits_matches_torch(self, device, reduction):
        torch = pytest.importorskip("torch")
        rng = np.random.default_rng(25)
        x, xt = _torch_pair(torch, 3 * rng.standard_normal((3, 4)) + 0.1, device)
        y, yt = _torch_pair(torch, rng.uniform(0, 1, (3, 4)), device)
        out = F.binary_cross_entropy_with_logits(x, y, reduction=reduction)
        ref = torch.nn.functional.binary_cross_entropy_with_logits(xt, yt, reduction=reduction)
        _assert_same(out, ref)
        g = rng.standard_normal(ref.shape)
        out.backward(t(g, device))
        ref.backward(torch.tensor(g))
        _assert_same(x.grad, xt.grad)
        _assert_same(y.grad, yt.grad)

    def test_embedding_and_one_hot_match_torch(self, device):
        torch = pytest.importorskip("torch")
        rng = np.random.default_rng(26)
        w, wt = _torch_pair(torch, rng.standard_normal((6, 3)), device)
        idx = np.array([[1, 5, 1], [0, 1, 2]])
        out, ref = F.embedding(t(idx, device), w), torch.nn.functional.embedding(
            torch.tensor(idx), wt)
        _assert_same(out, ref)
        g = rng.standard_normal(ref.shape)
        out.backward(t(g, device))
        ref.backward(torch.tensor(g))
        _assert_same(w.grad, wt.grad)
        oh = F.one_hot(t(idx, device), 6)
        np.testing.assert_array_equal(
            oh.numpy(), torch.nn.functional.one_hot(torch.tensor(idx), 6).numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_log_softmax_is_exact_at_large_logits(device):
    """s - log Σ exp(s) with s = x - max: x - logsumexp(x) lost 4e-3 at 1e5 in float32."""
    for offset in (0.0, 1e4, 1e5):
        x = np.array([[offset, offset + 0.5, offset - 3.0]], dtype=np.float32)
        exact = np.array([[0.0, 0.5, -3.0]]) - np.log(np.exp([0.0, 0.5, -3.0]).sum())
        got = F.log_softmax(tr.tensor(x, device=device)).numpy()
        np.testing.assert_allclose(got, exact, atol=1e-6)
        assert got.dtype == np.float32


def test_softmax_and_log_softmax_of_empty_tensors_are_empty():
    for shape in ((0, 3), (2, 0)):
        for f in (F.softmax, F.log_softmax):
            x = tr.zeros(*shape, requires_grad=True)
            y = f(x)
            assert y.shape == shape
            y.sum().backward()
            assert x.grad.shape == shape


def test_losses_name_a_target_that_is_not_a_tensor():
    for f, name in ((F.mse_loss, "mse_loss"),
                    (F.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits")):
        with pytest.raises(TypeError, match=f"{name}: target must be a Tensor, got list"):
            f(tr.ones(2), [1.0, 0.0])


# ---- weights, label smoothing, probability targets, nll_loss, binary_cross_entropy ----------


@st.composite
def _class_problems(draw):
    """Logits of shape (C,), (N, C) or (N, C, d), class targets (some ignored, or all), and
    per-class weights (or None)."""
    C = draw(st.integers(1, 4))
    shape = draw(st.sampled_from([(C,), (draw(st.integers(1, 4)), C),
                                  (draw(st.integers(1, 3)), C, draw(st.integers(1, 3)))]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal(shape) * 3
    tshape = () if len(shape) == 1 else (shape[0], *shape[2:])
    target = rng.integers(0, C, tshape)
    ignore_index = draw(st.sampled_from([IGNORE, 0]))
    if draw(st.booleans()):
        target = np.where(rng.random(tshape) < 0.3, ignore_index, target)
    weight = rng.uniform(0.1, 2.0, C) if draw(st.booleans()) else None
    return logits, target, weight, ignore_index, rng


def _torch_loss_check(torch, ours, theirs, inputs, device, seed=0):
    """Our loss and torch's on the same float64 inputs: equal values and input gradients."""
    xs = [t(a, device, True) for a in inputs]
    ts = [torch.tensor(a, requires_grad=True) for a in inputs]
    out, ref = ours(*xs), theirs(*ts)
    if not torch.isfinite(ref).all():  # torch's 0/0 where every target is ignored: ours 0
        np.testing.assert_array_equal(out.numpy(), np.where(np.isfinite(ref.detach().numpy()),
                                                            ref.detach().numpy(), 0.0))
        return
    _assert_same(out, ref)
    g = np.random.default_rng(seed).standard_normal(ref.shape)
    out.backward(t(g, device))
    ref.backward(torch.tensor(g))
    for x, xt in zip(xs, ts):
        _assert_same(x.grad, xt.grad)


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(problem=_class_problems(), smoothing=st.sampled_from([0.0, 0.1, 1.0]))
def test_cross_entropy_and_nll_weights_and_smoothing_match_torch(device, reduction, problem,
                                                                  smoothing):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    logits, target, weight, ignore_index, _ = problem
    w = None if weight is None else t(weight, device)
    tw = None if weight is None else torch.tensor(weight)
    kw = {"reduction": reduction, "ignore_index": ignore_index}
    _torch_loss_check(
        torch, lambda x: F.cross_entropy(x, t(target, device), w, label_smoothing=smoothing, **kw),
        lambda x: tf.cross_entropy(x, torch.tensor(target), tw, label_smoothing=smoothing, **kw),
        [logits], device)
    _torch_loss_check(  # nll_loss of log-probabilities
        torch, lambda x: F.nll_loss(F.log_softmax(x, int(x.ndim > 1)), t(target, device), w, **kw),
        lambda x: tf.nll_loss(tf.log_softmax(x, int(x.ndim > 1)), torch.tensor(target), tw, **kw),
        [logits], device)


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(problem=_class_problems(), smoothing=st.sampled_from([0.0, 0.2]))
def test_cross_entropy_probability_targets_match_torch(device, reduction, problem, smoothing):
    """Soft targets of the logits' shape: the gradient reaches the targets too."""
    torch = pytest.importorskip("torch")
    logits, _, weight, _, rng = problem
    axis = 0 if logits.ndim == 1 else 1
    probs = rng.random(logits.shape)
    probs /= probs.sum(axis, keepdims=True)
    w = None if weight is None else t(weight, device)
    tw = None if weight is None else torch.tensor(weight)
    _torch_loss_check(
        torch, lambda x, y: F.cross_entropy(x, y, w, reduction, label_smoothing=smoothing),
        lambda x, y: torch.nn.functional.cross_entropy(x, y, tw, reduction=reduction,
                                                       label_smoothing=smoothing),
        [logits, probs], device)


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(shape=tst.shapes(min_dims=1, max_dims=3), seed=st.integers(0, 2**16),
       weighted=st.booleans(), positive=st.booleans())
def test_binary_cross_entropies_with_weights_match_torch(device, reduction, shape, seed,
                                                         weighted, positive):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal(shape) * 3, rng.random(shape)
    w = rng.uniform(0.1, 2, shape[-1:]) if weighted else None  # broadcast along the last axis
    p = rng.uniform(0.1, 3, shape[-1:]) if positive else None

    def ours(v):
        return None if v is None else t(v, device)

    def theirs(v):
        return None if v is None else torch.tensor(v)

    _torch_loss_check(
        torch, lambda a, b: F.binary_cross_entropy_with_logits(a, b, ours(w), reduction,
                                                               ours(p)),
        lambda a, b: tf.binary_cross_entropy_with_logits(a, b, theirs(w), reduction=reduction,
                                                         pos_weight=theirs(p)),
        [x, y], device)
    probs = 0.02 + 0.96 / (1 + np.exp(-x))  # inside (0, 1), where the clamp never acts
    _torch_loss_check(
        torch, lambda a, b: F.binary_cross_entropy(a, b, ours(w), reduction),
        lambda a, b: tf.binary_cross_entropy(a, b, theirs(w), reduction=reduction),
        [probs, y], device)


@pytest.mark.parametrize("device", DEVICES)
def test_new_loss_options_check_their_input(device):
    x = t(np.zeros((2, 3)), device, True)
    with pytest.raises(ValueError, match=r"one entry per class, shape \(3,\), got \(2,\)"):
        F.cross_entropy(x, t(np.array([0, 1]), device), weight=t(np.ones(2), device))
    with pytest.raises(ValueError, match="label_smoothing must be a number in"):
        F.cross_entropy(x, t(np.array([0, 1]), device), label_smoothing=1.5)
    with pytest.raises(TypeError, match=r"or class probabilities of the logits' shape"):
        F.cross_entropy(x, t(np.zeros((2, 2)), device))
    with pytest.raises(ValueError, match="must be a probability in"):
        F.binary_cross_entropy(t(np.array([0.5, 1.5]), device), t(np.ones(2), device))
    with pytest.raises(ValueError, match="must be a probability in"):
        F.binary_cross_entropy(t(np.array([0.5, np.nan]), device), t(np.ones(2), device))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\) does not broadcast"):
        F.binary_cross_entropy_with_logits(x, x.detach(), pos_weight=t(np.ones(2), device))
    # the clamped logs: finite at 0 and 1, with a zero (not NaN) gradient there
    p = t(np.array([0.0, 1.0, 0.5]), device, True)
    loss = F.binary_cross_entropy(p, t(np.array([1.0, 0.0, 1.0]), device), reduction="sum")
    np.testing.assert_allclose(loss.item(), 200 + np.log(2))
    loss.backward()
    np.testing.assert_allclose(p.grad.numpy(), [0.0, 0.0, -2.0])


@pytest.mark.torch
def test_loss_modules_are_torch_nn_losses():
    """nn.CrossEntropyLoss and the rest: the functional loss with the options they hold, the
    weights buffers (in state_dict, moved by to()), loading torch's loss state."""
    torch = pytest.importorskip("torch")
    from tinygrad_rnn import nn

    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((4, 3)), rng.integers(0, 3, 4)
    probs, w = rng.random((4, 3)), rng.uniform(0.5, 2, 3)
    cases = [
        (nn.CrossEntropyLoss(t(w, "cpu"), label_smoothing=0.1, reduction="sum"),
         torch.nn.CrossEntropyLoss(torch.tensor(w), label_smoothing=0.1, reduction="sum"), x, y),
        (nn.NLLLoss(t(w, "cpu"), ignore_index=1), torch.nn.NLLLoss(torch.tensor(w), ignore_index=1),
         np.log(probs / probs.sum(1, keepdims=True)), y),
        (nn.MSELoss(), torch.nn.MSELoss(), x, probs),
        (nn.BCELoss(t(w, "cpu"), reduction="none"),
         torch.nn.BCELoss(torch.tensor(w), reduction="none"), probs, probs[::-1].copy()),
        (nn.BCEWithLogitsLoss(pos_weight=t(w, "cpu")), torch.nn.BCEWithLogitsLoss(
            pos_weight=torch.tensor(w)), x, probs),
    ]
    for ours, theirs, a, b in cases:
        assert ours.state_dict().keys() == theirs.state_dict().keys(), type(ours).__name__
        ours.load_state_dict(theirs.state_dict())
        _assert_same(ours(t(a, "cpu"), t(b, "cpu")), theirs(torch.tensor(a), torch.tensor(b)))
        assert repr(ours).startswith(type(ours).__name__)
    moved = nn.CrossEntropyLoss(t(w, "cpu")).to(dtype="float32")
    assert moved.weight.dtype == np.float32
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        nn.MSELoss(reduction="avg")

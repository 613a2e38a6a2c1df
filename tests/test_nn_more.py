"""More of ``torch.nn.functional`` and its layers: bilinear, channel-wise dropout, rrelu and
the in-place activations, the reflection/replication/circular/constant padding layers,
max_unpool, lp_pool, pixel and channel shuffles, local_response_norm, BatchNorm3d and
InstanceNorm3d, the margin losses, pdist, the ``*_with_indices`` pools, the deprecated
``upsample`` names, affine_grid and grid_sample. Values and gradients against torch in
float64, gradients against central differences and the strict device (every op through
``xp``), random layers by their masks' structure and statistics, reprs and errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn
from tinygrad_rnn.testing import gradcheck

from .conftest import DEVICES


def _same(torch, ours_fn, theirs_fn, arrays, rtol=1e-12, atol=1e-13):
    """Call both on copies of ``arrays`` (float arrays require grad; integer ones and None
    pass as they are), compare the outputs and the gradients of a random weighting."""

    def make(lib, a):
        if a is None or not isinstance(a, np.ndarray):
            return a
        grad = a.dtype.kind == "f"
        return tr.tensor(a, requires_grad=grad) if lib == "tr" else \
            torch.tensor(a, requires_grad=grad)

    ours, theirs = [make("tr", a) for a in arrays], [make("torch", a) for a in arrays]
    y, yt = ours_fn(*ours), theirs_fn(*theirs)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(tr.tensor(g))
    yt.backward(torch.tensor(g))
    for a, at in zip(ours, theirs):
        if isinstance(a, tr.Tensor) and a.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), rtol=rtol, atol=atol)


def _rng(seed=0):
    return np.random.default_rng(seed)


# ---- bilinear ---------------------------------------------------------------------------------


@pytest.mark.torch
@given(lead=st.sampled_from([(), (3,), (2, 3)]), n1=st.integers(1, 3), n2=st.integers(1, 3),
       out=st.integers(1, 3), bias=st.booleans(), seed=st.integers(0, 2**16))
def test_bilinear_matches_torch(lead, n1, n2, out, bias, seed):
    torch = pytest.importorskip("torch")
    rng = _rng(seed)
    arrays = [rng.standard_normal((*lead, n1)), rng.standard_normal((*lead, n2)),
              rng.standard_normal((out, n1, n2)), rng.standard_normal(out) if bias else None]
    _same(torch, F.bilinear, torch.nn.functional.bilinear, arrays)


@pytest.mark.torch
def test_bilinear_module_loads_torch_weights_both_ways_and_has_its_repr():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Bilinear(3, 4, 2).double()
    ours = nn.Bilinear(3, 4, 2, dtype="float64")
    assert repr(ours) == repr(theirs)
    assert repr(nn.Bilinear(1, 2, 3, bias=False)) == repr(torch.nn.Bilinear(1, 2, 3, bias=False))
    ours.load_state_dict(theirs.state_dict())
    x1, x2 = _rng().standard_normal((5, 3)), _rng(1).standard_normal((5, 4))
    np.testing.assert_allclose(ours(tr.tensor(x1), tr.tensor(x2)).numpy(),
                               theirs(torch.tensor(x1), torch.tensor(x2)).detach().numpy(),
                               rtol=1e-12)
    back = torch.nn.Bilinear(3, 4, 2).double()
    back.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    bound = 1 / math.sqrt(3)  # U(-1/sqrt(in1), 1/sqrt(in1)), as torch's
    w = nn.Bilinear(3, 40, 50).weight.numpy()
    assert -bound <= w.min() < -0.9 * bound and 0.9 * bound < w.max() <= bound


def test_bilinear_errors_name_the_shapes():
    w = tr.zeros(2, 3, 4)
    with pytest.raises(ValueError, match=r"\(2, 3\) and input2 of shape \(3, 4\) must have "
                                         r"the same leading"):
        F.bilinear(tr.zeros(2, 3), tr.zeros(3, 4), w)
    with pytest.raises(ValueError, match=r"expects 3 and 4"):
        F.bilinear(tr.zeros(2, 3), tr.zeros(2, 5), w)
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        F.bilinear(tr.zeros(3), tr.zeros(4), w, tr.zeros(3))


# ---- channel-wise dropout ---------------------------------------------------------------------


@pytest.mark.parametrize(("fn", "shape", "batched"), [
    (F.dropout1d, (40, 50, 3), True), (F.dropout1d, (50, 3), False),
    (F.dropout2d, (40, 50, 2, 3), True), (F.dropout3d, (40, 50, 1, 2, 3), True),
    (F.dropout3d, (50, 2, 2, 3), False)])
def test_channel_dropout_drops_whole_channels_at_rate_p(fn, shape, batched):
    p = 0.3
    x = tr.tensor(_rng().uniform(1, 2, shape), requires_grad=True)
    y = fn(x, p)
    assert y.shape == x.shape
    ratio = (y / x).numpy().reshape(shape[0] * shape[1] if batched else shape[0], -1)
    # every channel is dropped (0) or kept (1 / (1 - p)) as a whole
    kept = ratio[:, 0] != 0
    np.testing.assert_allclose(ratio[kept], 1 / (1 - p), rtol=1e-6)
    np.testing.assert_array_equal(ratio[~kept], 0)
    n = ratio.shape[0]
    assert abs((~kept).mean() - p) < 4 * math.sqrt(p * (1 - p) / n)
    y.sum().backward()  # the gradient is the mask
    np.testing.assert_allclose(x.grad.numpy().reshape(ratio.shape), ratio, rtol=1e-6)
    assert fn(x, p, training=False) is x and fn(x, 0.0) is x
    np.testing.assert_array_equal(fn(x, 1.0).numpy(), 0)


def test_channel_dropout_modules_apply_in_training_only_and_warn_as_torch():
    for m, xin in ((nn.Dropout1d(0.5), tr.ones(4, 6, 9)), (nn.Dropout2d(0.5), tr.ones(4, 6, 3, 3)),
                   (nn.Dropout3d(0.5), tr.ones(6, 3, 3, 1))):
        m.eval()
        assert m(xin) is xin
        m.train()
        y = m(xin).numpy().reshape(-1, 9)
        assert ((y == 0).all(1) | (y == 2).all(1)).all()
    assert repr(nn.Dropout1d(0.2, True)) == "Dropout1d(p=0.2, inplace=True)"
    with pytest.warns(UserWarning, match="assuming that channel-wise 1D dropout"):
        y = F.dropout2d(tr.ones(20, 30, 4), 0.5)  # (N, C, L), masks per (n, c), as torch's
    assert ((y.numpy() == 0).all(-1) | (y.numpy() == 2).all(-1)).all()
    with pytest.warns(UserWarning, match="Received a 5-D input to dropout2d"):
        F.dropout2d(tr.ones(1, 2, 3, 4, 5), 0.5)
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        F.dropout3d(tr.ones(2, 3, 4), 0.5)
    with pytest.raises(ValueError, match=r"2-D \(C, L\) or 3-D \(N, C, L\) input, got "
                                         r"\(2, 3, 4, 5\)"):
        F.dropout1d(tr.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"probability must be a number in \[0, 1\], got 1.5"):
        F.dropout2d(tr.ones(2, 3, 4, 5), 1.5)


def test_feature_alpha_dropout_keeps_mean_and_variance_and_channel_structure():
    x = tr.tensor(_rng().standard_normal((400, 300, 4)))
    y = F.feature_alpha_dropout(x, 0.2, training=True).numpy()
    dropped = (y == y[..., :1]).all(-1)  # a kept channel's values differ
    assert abs(dropped.mean() - 0.2) < 0.01
    assert abs(y.mean()) < 0.02 and abs(y.var() - 1) < 0.02
    assert F.feature_alpha_dropout(x, 0.2) is x  # training=False by default, as torch's
    m = nn.FeatureAlphaDropout(0.2)
    assert repr(m) == "FeatureAlphaDropout(p=0.2, inplace=False)"
    assert m.eval()(x) is x


# ---- rrelu and the in-place activations ----------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_rrelu_in_eval_mode_is_exactly_torchs(dtype):
    torch = pytest.importorskip("torch")
    a = _rng().standard_normal((3, 50)).astype(dtype)
    a[0, :3] = 0
    for lower, upper in ((1 / 8, 1 / 3), (0.1, 0.9), (0.25, 0.25)):
        x, xt = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y = F.rrelu(x, lower, upper)
        yt = torch.nn.functional.rrelu(xt, lower, upper)
        np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
        y.sum().backward()
        yt.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
        m = nn.RReLU(lower, upper).eval()
        np.testing.assert_array_equal(m(tr.tensor(a)).numpy(), yt.detach().numpy())
    assert repr(nn.RReLU()) == repr(torch.nn.RReLU())
    assert repr(nn.RReLU(0.1, 0.3, True)) == repr(torch.nn.RReLU(0.1, 0.3, True))


def test_rrelu_in_training_draws_one_slope_per_negative_element():
    a = _rng().standard_normal(20000)
    x = tr.tensor(a, requires_grad=True)
    y = nn.RReLU(0.1, 0.4)(x)  # a module is in training mode at first
    y.sum().backward()
    neg = a < 0
    np.testing.assert_array_equal(y.numpy()[~neg], a[~neg])
    slope = y.numpy()[neg] / a[neg]
    assert slope.min() >= 0.1 and slope.max() <= 0.4
    assert abs(slope.mean() - 0.25) < 0.005 and abs(slope.var() - 0.3 ** 2 / 12) < 0.001
    np.testing.assert_allclose(x.grad.numpy()[neg], slope, rtol=1e-12)
    np.testing.assert_array_equal(x.grad.numpy()[~neg], 1)
    with pytest.raises(ValueError, match=r"lower bound \(0.5\) must be at most the upper"):
        F.rrelu(x, 0.5, 0.2)
    with pytest.raises(ValueError, match="lower bound"):
        nn.RReLU(0.5, 0.2)


@pytest.mark.torch
@pytest.mark.parametrize(("name", "args"), [
    ("relu_", ()), ("elu_", (0.7,)), ("leaky_relu_", (0.2,)), ("hardtanh_", (-0.5, 0.8)),
    ("selu_", ()), ("celu_", (1.3,)), ("threshold_", (0.1, -2.0)),
    ("rrelu_", (0.1, 0.3, False))])
def test_in_place_activations_write_into_their_input_as_torch(name, args):
    torch = pytest.importorskip("torch")
    a = _rng().standard_normal((3, 4))
    a[0, 0] = 0.3  # away from every kink
    x, xt = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    h, ht = x * 2, xt * 2
    out = getattr(F, name)(h, *args)
    getattr(torch.nn.functional, name)(ht, *args)
    assert out is h
    np.testing.assert_allclose(h.numpy(), ht.detach().numpy(), rtol=1e-12)
    not_inplace = getattr(F, name[:-1])(x * 2, *args)
    np.testing.assert_array_equal(h.numpy(), not_inplace.numpy())
    g = _rng(1).standard_normal(a.shape)
    h.backward(tr.tensor(g))
    ht.backward(torch.tensor(g))
    # (torch's celu gradient uses a float32 constant: about 1e-8 off)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(),
                               rtol=1e-7 if name == "celu_" else 1e-12)
    leaf = tr.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match=f"{name} on a leaf tensor that requires grad"):
        getattr(F, name)(leaf, *args)
    np.testing.assert_array_equal(leaf.numpy(), a)


# ---- Softmax2d, LocalResponseNorm ---------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 2, 2)])
def test_softmax2d_matches_torch(shape):
    torch = pytest.importorskip("torch")
    _same(torch, nn.Softmax2d(), torch.nn.Softmax2d(), [_rng().standard_normal(shape)])
    assert repr(nn.Softmax2d()) == "Softmax2d()"
    with pytest.raises(ValueError, match=r"3-D \(C, H, W\) or 4-D .* got \(2, 3\)"):
        nn.Softmax2d()(tr.zeros(2, 3))


@pytest.mark.torch
@given(shape=st.sampled_from([(2, 5, 3), (1, 4, 2, 3), (2, 3, 2, 1, 2)]), size=st.integers(1, 6),
       alpha=st.sampled_from([1e-4, 0.5]), beta=st.sampled_from([0.75, 1.5]),
       k=st.sampled_from([1.0, 2.0]), seed=st.integers(0, 2**16))
def test_local_response_norm_matches_torch(shape, size, alpha, beta, k, seed):
    torch = pytest.importorskip("torch")
    _same(torch, nn.LocalResponseNorm(size, alpha, beta, k),
          torch.nn.LocalResponseNorm(size, alpha, beta, k), [_rng(seed).standard_normal(shape)])
    assert repr(nn.LocalResponseNorm(size, alpha, beta, k)) == \
        repr(torch.nn.LocalResponseNorm(size, alpha, beta, k))


# ---- padding layers -----------------------------------------------------------------------------

PADS = ["ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
        "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d", "CircularPad2d",
        "CircularPad3d", "ConstantPad3d", "ZeroPad3d"]


@pytest.mark.torch
@pytest.mark.parametrize("name", PADS)
@pytest.mark.parametrize("batched", [True, False])
def test_padding_layers_match_torch(name, batched):
    torch = pytest.importorskip("torch")
    d = int(name[-2])
    rng = _rng(d)
    padding = tuple(int(v) for v in rng.integers(0, 3, 2 * d))
    args = (padding, 1.5) if name == "ConstantPad3d" else (padding,)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    shape = (2, 3, 4, 3, 5)[3 - d:] if batched else (3, 4, 3, 5)[3 - d:]
    _same(torch, ours, theirs, [rng.standard_normal(shape)])
    assert repr(getattr(nn, name)(*((1, 0.0) if name == "ConstantPad3d" else (1,)))) == \
        repr(getattr(torch.nn, name)(*((1, 0.0) if name == "ConstantPad3d" else (1,))))


def test_padding_layers_refuse_what_they_cannot_pad():
    with pytest.raises(ValueError, match=r"padding must be an int or 4 ints"):
        nn.ReflectionPad2d((1, 2, 3))
    with pytest.raises(ValueError, match=r"smaller than the axis it pads, of size 2"):
        nn.ReflectionPad1d(2)(tr.zeros(1, 2))
    with pytest.raises(ValueError, match=r"pads the last 1, 2 or 3 axes of an input with 1 or 2"):
        nn.CircularPad1d(1)(tr.zeros(1, 2, 3, 4))


# ---- max_unpool, lp_pool, the *_with_indices pools ----------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("d", [1, 2, 3])
@given(k=st.integers(1, 3), stride=st.sampled_from([None, 1, 2]), pad=st.integers(0, 1),
       batched=st.booleans(), seed=st.integers(0, 2**16), data=st.data())
def test_max_unpool_of_max_pool_matches_torch(d, k, stride, pad, batched, seed, data):
    torch = pytest.importorskip("torch")
    pad = min(pad, k // 2)
    size = tuple(data.draw(st.integers(k, k + 3)) for _ in range(d))
    x = _rng(seed).standard_normal(((2,) if batched else ()) + (3, *size))
    y, idx = getattr(torch.nn.functional, f"max_pool{d}d")(torch.tensor(x), k, stride, pad,
                                                           return_indices=True)
    s = k if stride is None else stride
    default = tuple((n - 1) * s + k - 2 * pad for n in y.shape[-d:])
    # the pooled input's size (always within stride of the default), or the default itself
    # where that is it; given as the spatial sizes or with (N, C) first
    out = None if default == size and data.draw(st.booleans()) else \
        data.draw(st.sampled_from([size, tuple(x.shape)])) if batched else size
    args = (k, stride, pad, out)
    yo = y.numpy()
    if s >= k:  # windows do not overlap: each position at most once
        _same(torch, lambda v, i: getattr(F, f"max_unpool{d}d")(v, i, *args),
              lambda v, i: getattr(torch.nn.functional, f"max_unpool{d}d")(v, i, *args),
              [yo, idx.numpy()])
    else:  # a position named twice takes the last value, as torch's CPU kernel
        ours = getattr(F, f"max_unpool{d}d")(tr.tensor(yo), tr.tensor(idx.numpy()), *args)
        theirs = getattr(torch.nn.functional, f"max_unpool{d}d")(y, idx, *args)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_max_unpool_gives_a_repeated_position_the_last_value_and_it_alone_a_gradient():
    v = tr.tensor([[[1.0, 2.0, 3.0]]], requires_grad=True)
    y = F.max_unpool1d(v, tr.tensor([[[1, 1, 2]]]), 2, 1)  # default output size 4
    np.testing.assert_array_equal(y.numpy(), [[[0, 2, 3, 0]]])
    y.sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [[[0, 1, 1]]])


@pytest.mark.torch
def test_max_unpool_modules_match_torch_and_refuse_bad_arguments():
    torch = pytest.importorskip("torch")
    for d, args in ((1, (2,)), (2, (2, 1, 1)), (3, ((1, 2, 3),))):
        ours, theirs = getattr(nn, f"MaxUnpool{d}d")(*args), getattr(torch.nn,
                                                                      f"MaxUnpool{d}d")(*args)
        assert repr(ours) == repr(theirs)
    x = _rng().standard_normal((1, 2, 4, 4))
    pool = torch.nn.MaxPool2d(2, return_indices=True)
    y, i = pool(torch.tensor(x))
    got = nn.MaxUnpool2d(2)(tr.tensor(y.numpy()), tr.tensor(i.numpy()), output_size=(1, 2, 5, 5))
    np.testing.assert_array_equal(got.numpy(), torch.nn.MaxUnpool2d(2)(y, i, (1, 2, 5, 5)))
    with pytest.raises(ValueError, match=r"invalid output_size \(7, 4\) \(axis 0 must be "
                                         r"between 2 and 6"):
        F.max_unpool2d(tr.tensor(y.numpy()), tr.tensor(i.numpy()), 2, output_size=(7, 4))
    with pytest.raises(ValueError, match=r"output_size should hold 2 or 4 sizes"):
        F.max_unpool2d(tr.tensor(y.numpy()), tr.tensor(i.numpy()), 2, output_size=(4,))
    with pytest.raises(ValueError, match=r"index is out of range for an output of spatial "
                                         r"size \(4, 4\)"):
        F.max_unpool2d(tr.tensor(y.numpy()), tr.tensor(i.numpy() + 16), 2)
    with pytest.raises(ValueError, match=r"indices of shape \(2, 2, 2\) for an input of "
                                         r"shape \(1, 2, 2, 2\)"):
        F.max_unpool2d(tr.tensor(y.numpy()), tr.tensor(i.numpy()[0]), 2)
    with pytest.raises(TypeError, match="indices must be integers"):
        F.max_unpool2d(tr.tensor(y.numpy()), tr.tensor(y.numpy()), 2)


@pytest.mark.torch
@pytest.mark.parametrize("d", [1, 2, 3])
@given(p=st.sampled_from([1, 2, 3, 1.5, math.inf, -math.inf]), k=st.integers(1, 3),
       stride=st.sampled_from([None, 1, 2]), ceil=st.booleans(), batched=st.booleans(),
       seed=st.integers(0, 2**16))
def test_lp_pool_matches_torch(d, p, k, stride, ceil, batched, seed):
    torch = pytest.importorskip("torch")
    rng = _rng(seed)
    shape = ((2,) if batched else ()) + (2,) + tuple(rng.integers(k, k + 3, d))
    a = rng.uniform(0.2, 2, shape) * rng.choice([-1, 1], shape)
    if p not in (1, 2, math.inf, -math.inf):  # x^p of a negative x: NaN or a negative sum
        a = np.abs(a)
    name = f"lp_pool{d}d"
    _same(torch, lambda x: getattr(F, name)(x, p, k, stride, ceil),
          lambda x: getattr(torch.nn.functional, name)(x, p, k, stride, ceil), [a],
          rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_lp_pool_of_a_zero_window_has_gradient_zero_and_modules_match_torch():
    torch = pytest.importorskip("torch")
    a = np.zeros((1, 1, 4))
    a[0, 0, 2:] = [0.5, -1.0]
    _same(torch, lambda x: F.lp_pool1d(x, 2, 2), lambda x: torch.nn.functional.lp_pool1d(x, 2, 2),
          [a])
    for d, args in ((1, (2, 3)), (2, (2.0, (2, 3), 1)), (3, (1, 2, None, True))):
        ours, theirs = getattr(nn, f"LPPool{d}d")(*args), getattr(torch.nn, f"LPPool{d}d")(*args)
        assert repr(ours) == repr(theirs)
    x = _rng().uniform(0.1, 1, (2, 3, 4, 5))
    _same(torch, nn.LPPool2d(3, 2), torch.nn.LPPool2d(3, 2), [x], rtol=1e-10)
    with pytest.raises(ValueError, match="norm_type must be a nonzero number"):
        F.lp_pool1d(tr.zeros(1, 2, 3), 0, 2)


@pytest.mark.torch
@pytest.mark.parametrize("d", [1, 2, 3])
def test_with_indices_pools_always_return_indices_as_torch(d):
    torch = pytest.importorskip("torch")
    x = _rng(d).standard_normal((2, 3) + (5,) * d)
    for name, args in ((f"max_pool{d}d_with_indices", (2, 1, 1)),
                       (f"adaptive_max_pool{d}d_with_indices", (3,))):
        y, i = getattr(F, name)(tr.tensor(x), *args)
        yt, it = getattr(torch.nn.functional, name)(torch.tensor(x), *args)
        np.testing.assert_array_equal(y.numpy(), yt.numpy())
        np.testing.assert_array_equal(i.numpy(), it.numpy())
        assert i.dtype == np.int64


# ---- pixel and channel shuffles ------------------------------------------------------------------


@pytest.mark.torch
@given(lead=st.sampled_from([(), (2,), (2, 1)]), c=st.integers(1, 3), r=st.integers(1, 3),
       h=st.integers(1, 3), w=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_pixel_shuffle_and_unshuffle_match_torch_and_undo_each_other(lead, c, r, h, w, seed):
    torch = pytest.importorskip("torch")
    a = _rng(seed).standard_normal((*lead, c * r * r, h, w))
    _same(torch, nn.PixelShuffle(r), torch.nn.PixelShuffle(r), [a], rtol=0, atol=0)
    b = F.pixel_shuffle(tr.tensor(a), r).numpy()
    _same(torch, nn.PixelUnshuffle(r), torch.nn.PixelUnshuffle(r), [b], rtol=0, atol=0)
    np.testing.assert_array_equal(F.pixel_unshuffle(tr.tensor(b), r).numpy(), a)


@pytest.mark.torch
@given(g=st.integers(1, 3), per=st.integers(1, 3), rest=st.sampled_from([(2,), (1, 3)]),
       seed=st.integers(0, 2**16))
def test_channel_shuffle_matches_torch(g, per, rest, seed):
    torch = pytest.importorskip("torch")
    a = _rng(seed).standard_normal((2, g * per, *rest))
    _same(torch, nn.ChannelShuffle(g), torch.nn.ChannelShuffle(g), [a], rtol=0, atol=0)


@pytest.mark.torch
def test_shuffle_layers_reprs_and_errors():
    torch = pytest.importorskip("torch")
    for name, v in (("PixelShuffle", 2), ("PixelUnshuffle", 3), ("ChannelShuffle", 2)):
        assert repr(getattr(nn, name)(v)) == repr(getattr(torch.nn, name)(v))
    with pytest.raises(ValueError, match=r"channels \(5, axis -3 of shape \(5, 3, 3\)\) must "
                                         r"be divisible by upscale_factor² = 4"):
        F.pixel_shuffle(tr.zeros(5, 3, 3), 2)
    with pytest.raises(ValueError, match=r"height and width \(3, 4\) .* divisible by "
                                         r"downscale_factor 2"):
        F.pixel_unshuffle(tr.zeros(1, 3, 4), 2)
    with pytest.raises(ValueError, match=r"channels \(5\) must be divisible by groups \(2\)"):
        F.channel_shuffle(tr.zeros(2, 5, 3), 2)
    with pytest.raises(ValueError, match=r"at least 3 axes \(N, C, \*\), got shape \(2, 6\)"):
        F.channel_shuffle(tr.zeros(2, 6), 2)
    with pytest.raises(ValueError, match="upscale_factor must be a positive int, got 0"):
        nn.PixelShuffle(0)


# ---- BatchNorm3d, InstanceNorm3d ----------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize(("name", "kwargs", "shape"), [
    ("BatchNorm3d", {}, (3, 2, 2, 3, 2)), ("BatchNorm3d", {"momentum": None}, (2, 2, 1, 2, 3)),
    ("BatchNorm3d", {"affine": False}, (2, 2, 2, 2, 2)),
    ("BatchNorm3d", {"bias": False}, (2, 2, 2, 2, 2)),
    ("InstanceNorm3d", {}, (2, 3, 2, 2, 2)),
    ("InstanceNorm3d", {"affine": True, "track_running_stats": True}, (2, 3, 2, 1, 3)),
    ("InstanceNorm3d", {"affine": True}, (3, 2, 2, 2))])
def test_3d_norms_match_torch_in_training_and_eval(name, kwargs, shape):
    torch = pytest.importorskip("torch")
    c = shape[-4]
    theirs = getattr(torch.nn, name)(c, **kwargs).double()
    ours = getattr(nn, name)(c, dtype="float64", **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = _rng()
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.tensor(rng.uniform(0.5, 1.5, p.shape)))
    ours.load_state_dict(theirs.state_dict())
    for _ in range(2):
        _same(torch, ours, theirs, [rng.standard_normal(shape)], rtol=1e-10, atol=1e-12)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), rtol=1e-12)
    ours.eval()
    theirs.eval()
    _same(torch, ours, theirs, [rng.standard_normal(shape)], rtol=1e-10, atol=1e-12)
    back = getattr(torch.nn, name)(c, **kwargs).double()
    back.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})


def test_batchnorm3d_refuses_other_ranks():
    with pytest.raises(ValueError, match=r"BatchNorm3d: expected a 5-D input, got shape"):
        nn.BatchNorm3d(2)(tr.zeros(2, 2, 3, 3))
    with pytest.raises(ValueError, match=r"InstanceNorm3d: expected a 4-D or 5-D input"):
        nn.InstanceNorm3d(2)(tr.zeros(2, 2, 3))


# ---- margin losses, pdist ------------------------------------------------------------------------

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


@pytest.mark.torch
@given(n=st.sampled_from([None, 1, 4]), c=st.integers(1, 5), p=st.sampled_from([1, 2]),
       margin=st.sampled_from([0.5, 1.0, 2.0]), weighted=st.booleans(), reduction=REDUCTIONS,
       seed=st.integers(0, 2**16))
def test_multi_margin_loss_matches_torch(n, c, p, margin, weighted, reduction, seed):
    torch = pytest.importorskip("torch")
    rng = _rng(seed)
    x = rng.standard_normal((c,) if n is None else (n, c))
    y = rng.integers(0, c, () if n is None else (n,))
    w = rng.uniform(0.5, 2, c) if weighted else None
    _same(torch, lambda x: nn.MultiMarginLoss(p, margin, None if w is None else tr.tensor(w),
                                              reduction=reduction)(x, tr.tensor(y)),
          lambda x: torch.nn.MultiMarginLoss(p, margin, None if w is None else torch.tensor(w),
                                             reduction=reduction)(x, torch.tensor(y)), [x])


@pytest.mark.torch
@given(n=st.sampled_from([None, 1, 3]), c=st.integers(1, 5), reduction=REDUCTIONS,
       seed=st.integers(0, 2**16))
def test_multilabel_margin_loss_matches_torch(n, c, reduction, seed):
    torch = pytest.importorskip("torch")
    rng = _rng(seed)
    rows = []
    for _ in range(1 if n is None else n):
        k = rng.integers(0, c + 1)  # k target classes, then -1, then anything
        row = np.concatenate([rng.permutation(c)[:k], [-1] * (c - k)])
        if k < c - 1:
            row[k + 1:] = rng.integers(-1, c, c - k - 1)
        rows.append(row)
    y = np.array(rows[0] if n is None else rows, dtype=np.int64)
    x = rng.standard_normal(y.shape)
    _same(torch, lambda x: nn.MultiLabelMarginLoss(reduction=reduction)(x, tr.tensor(y)),
          lambda x: torch.nn.MultiLabelMarginLoss(reduction=reduction)(x, torch.tensor(y)), [x])


@pytest.mark.torch
@given(shape=st.sampled_from([(4,), (3, 4)]), margin=st.sampled_from([0.5, 2.0]),
       swap=st.booleans(), custom=st.booleans(), reduction=REDUCTIONS,
       seed=st.integers(0, 2**16))
def test_triplet_margin_with_distance_loss_matches_torch(shape, margin, swap, custom, reduction,
                                                         seed):
    torch = pytest.importorskip("torch")
    rng = _rng(seed)
    ours_d = (lambda a, b: 1 - F.cosine_similarity(a, b, -1)) if custom else None
    theirs_d = (lambda a, b: 1 - torch.nn.functional.cosine_similarity(a, b, -1)) if custom \
        else None
    _same(torch, nn.TripletMarginWithDistanceLoss(distance_function=ours_d, margin=margin,
                                                  swap=swap, reduction=reduction),
          torch.nn.TripletMarginWithDistanceLoss(distance_function=theirs_d, margin=margin,
                                                 swap=swap, reduction=reduction),
          [rng.standard_normal(shape) for _ in range(3)], rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_margin_loss_modules_reprs_buffers_and_errors():
    torch = pytest.importorskip("torch")
    assert repr(nn.MultiMarginLoss()) == repr(torch.nn.MultiMarginLoss()) == "MultiMarginLoss()"
    assert repr(nn.MultiLabelMarginLoss()) == repr(torch.nn.MultiLabelMarginLoss())
    custom = nn.TripletMarginWithDistanceLoss(distance_function=F.pairwise_distance)
    assert repr(custom) == repr(torch.nn.TripletMarginWithDistanceLoss(
        distance_function=torch.nn.functional.pairwise_distance))
    assert isinstance(nn.TripletMarginWithDistanceLoss().distance_function, nn.PairwiseDistance)
    w = tr.tensor([1.0, 2.0])
    m = nn.MultiMarginLoss(weight=w)
    assert list(m.state_dict()) == list(torch.nn.MultiMarginLoss(
        weight=torch.ones(2)).state_dict()) == ["weight"]
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match=r"target values must be class indices in \[0, 2\)"):
        F.multi_margin_loss(tr.zeros(3, 2), tr.tensor([0, 2, 1]))
    with pytest.raises(ValueError, match=r"target of shape \(2,\) for an input of shape \(3, "
                                         r"2\)"):
        F.multi_margin_loss(tr.zeros(3, 2), tr.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"weight must have one entry per class, shape \(3,\)"):
        F.multi_margin_loss(tr.zeros(2, 3), tr.tensor([0, 1]), weight=w)
    with pytest.raises(ValueError, match=r"before the first -1 must be class indices in "
                                         r"\[0, 3\)"):
        F.multilabel_margin_loss(tr.zeros(1, 3), tr.tensor([[0, 3, -1]]))
    with pytest.raises(ValueError, match="expected margin to be greater than 0"):
        nn.TripletMarginWithDistanceLoss(margin=0.0)
    with pytest.raises(ValueError, match="as many axes"):
        F.triplet_margin_with_distance_loss(tr.zeros(2, 3), tr.zeros(2, 3), tr.zeros(3))


@pytest.mark.torch
@given(n=st.integers(2, 5), m=st.integers(1, 3), p=st.sampled_from([0, 1, 2, 3, 0.5, math.inf]),
       seed=st.integers(0, 2**16))
def test_pdist_matches_torch(n, m, p, seed):
    torch = pytest.importorskip("torch")
    a = _rng(seed).standard_normal((n, m))
    if n > 2:
        a[2] = a[0]  # a zero distance: gradient 0, as torch's
    if p == 0.5:  # torch's gradient at a zero distance is NaN for p < 1
        a = a[:2]
    if p == 0 or (p == math.inf and n > 2):  # a count (gradient 0), and a tie at p = inf
        np.testing.assert_allclose(  # splits otherwise: values only
            F.pdist(tr.tensor(a), p).numpy(),
            torch.nn.functional.pdist(torch.tensor(a), p).numpy(), rtol=1e-12)
        return
    _same(torch, lambda x: F.pdist(x, p), lambda x: torch.nn.functional.pdist(x, p), [a],
          rtol=1e-10, atol=1e-12)


def test_pdist_of_fewer_than_two_rows_is_empty():
    for n in (0, 1):  # (torch's backward crashes on these)
        x = tr.tensor(np.ones((n, 3)), requires_grad=True)
        y = F.pdist(x)
        assert y.shape == (0,)
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros((n, 3)))


def test_pdist_and_cdist_at_p0_take_gradient_zero_as_torch():
    a = _rng(3).standard_normal((3, 2))
    a[1, 0] = np.nan
    x = tr.tensor(a, requires_grad=True)
    y = F.pdist(x, 0)
    assert y.requires_grad  # as torch's: a count, its gradient 0
    np.testing.assert_array_equal(y.detach().numpy(), [np.nan, 2, np.nan])
    y.nansum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 2)))
    assert tr.cdist(x[None], x[None], 0).requires_grad


def test_pdist_errors():
    with pytest.raises(ValueError, match=r"2-D input \(N, M\), got shape \(3,\)"):
        F.pdist(tr.zeros(3))
    with pytest.raises(ValueError, match="p must be a number >= 0"):
        F.pdist(tr.zeros(3, 2), -1)


# ---- upsample's deprecated names ----------------------------------------------------------------


def test_upsample_names_warn_and_interpolate():
    x = tr.tensor(_rng().standard_normal((1, 2, 3, 4)))
    for fn, kwargs, same in (
            (F.upsample, {"scale_factor": 2, "mode": "bilinear"},
             {"scale_factor": 2, "mode": "bilinear"}),
            (F.upsample_nearest, {"size": (5, 7)}, {"size": (5, 7), "mode": "nearest"}),
            (F.upsample_bilinear, {"scale_factor": 2},
             {"scale_factor": 2, "mode": "bilinear", "align_corners": True})):
        with pytest.warns(UserWarning, match=f"`nn.functional.{fn.__name__}` is deprecated"):
            y = fn(x, **kwargs)
        np.testing.assert_array_equal(y.numpy(), F.interpolate(x, **same).numpy())


# ---- affine_grid and grid_sample ---------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("d", [2, 3])
@given(mode=st.sampled_from(["bilinear", "nearest"]),
       padding_mode=st.sampled_from(["zeros", "border", "reflection"]), align=st.booleans(),
       seed=st.integers(0, 2**16), data=st.data())
def test_grid_sample_matches_torch(d, mode, padding_mode, align, seed, data):
    torch = pytest.importorskip("torch")
    rng = _rng(seed)
    size = tuple(data.draw(st.integers(1, 4)) for _ in range(d))
    out = tuple(data.draw(st.integers(1, 3)) for _ in range(d))
    x = rng.standard_normal((2, 2, *size))
    grid = rng.uniform(-2.5, 2.5, (2, *out, d))

    def ours(x, g):
        return F.grid_sample(x, g, mode, padding_mode, align)

    def theirs(x, g):
        return torch.nn.functional.grid_sample(x, g, mode, padding_mode, align)

    if mode == "bilinear":
        _same(torch, ours, theirs, [x, grid], rtol=1e-10, atol=1e-12)
    else:  # the grid has no gradient (torch's is zeros)
        _same(torch, lambda x: ours(x, tr.tensor(grid)),
              lambda x: theirs(x, torch.tensor(grid)), [x], rtol=0, atol=0)


@pytest.mark.torch
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 2, 1, 3), (2, 1, 3, 2, 4)])
@pytest.mark.parametrize("align", [True, False])
def test_affine_grid_matches_torch_and_feeds_grid_sample(size, align):
    torch = pytest.importorskip("torch")
    d = len(size) - 2
    rng = _rng(d)
    theta = rng.standard_normal((size[0], d, d + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # both warn for a unit size when aligned
        _same(torch, lambda t: F.affine_grid(t, size, align),
              lambda t: torch.nn.functional.affine_grid(t, size, align), [theta])
        x = rng.standard_normal(size)
        _same(torch, lambda x, t: F.grid_sample(x, F.affine_grid(t, size, align),
                                                align_corners=align),
              lambda x, t: torch.nn.functional.grid_sample(
                  x, torch.nn.functional.affine_grid(t, size, align), align_corners=align),
              [x, theta * 0.5], rtol=1e-10, atol=1e-12)
    # the identity map samples every pixel at its centre
    eye = np.tile(np.eye(d, d + 1), (size[0], 1, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        y = F.grid_sample(tr.tensor(x), F.affine_grid(tr.tensor(eye), size, align),
                          align_corners=align)
    np.testing.assert_allclose(y.numpy(), x, rtol=1e-12, atol=1e-12)


def test_grid_functions_warn_for_the_default_align_corners_and_check_their_arguments():
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        grid = F.affine_grid(tr.tensor(np.eye(2, 3)[None], dtype="float32"), (1, 1, 2, 2))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(tr.ones(1, 1, 2, 2), grid)
    with pytest.raises(ValueError, match=r"affine matrices of shape \(1, 2, 3\) for size "
                                         r"\(1, 1, 2, 2\), got \(1, 3, 4\)"):
        F.affine_grid(tr.zeros(1, 3, 4), (1, 1, 2, 2), False)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or"):
        F.grid_sample(tr.ones(1, 1, 2, 2), grid, mode="linear", align_corners=False)
    with pytest.raises(ValueError, match="padding_mode to be 'zeros', 'border', or"):
        F.grid_sample(tr.ones(1, 1, 2, 2), grid, padding_mode="wrap", align_corners=False)
    with pytest.raises(ValueError, match="'bicubic' is not supported"):
        F.grid_sample(tr.ones(1, 1, 2, 2), grid, mode="bicubic", align_corners=False)
    with pytest.raises(ValueError, match=r"expected a grid of shape \(1, \*out, 2\)"):
        F.grid_sample(tr.ones(1, 1, 2, 2), grid[..., :1], align_corners=False)


# ---- every new op through xp: gradients on each device -------------------------------------------

_IDX = np.array([[[1, 2], [4, 7]]])  # positions in a length-8 output, for max_unpool1d
OPS = {
    "bilinear": (lambda a, b, w: F.bilinear(a, b, w), [(2, 3), (2, 2), (2, 3, 2)]),
    "local_response_norm": (lambda x: F.local_response_norm(x, 3, 0.5, 0.75, 1.0),
                            [(2, 4, 3)]),
    "lp_pool2d": (lambda x: F.lp_pool2d(x.abs() + 0.5, 2.5, 2, 1), [(1, 2, 3, 3)]),
    "max_unpool1d": (lambda x: F.max_unpool1d(x, tr.tensor(_IDX, device=x.device), 4,
                                              output_size=(8,)), [(1, 2, 2)]),
    "pixel_shuffle": (lambda x: F.pixel_unshuffle(F.pixel_shuffle(x, 2) * 2, 2), [(1, 8, 2, 1)]),
    "channel_shuffle": (lambda x: F.channel_shuffle(x, 2) * 3, [(1, 4, 2)]),
    "pdist": (lambda x: F.pdist(x, 3.0), [(4, 2)]),
    "multi_margin_loss": (lambda x: F.multi_margin_loss(
        x, tr.tensor([0, 2, 1], device=x.device), 2, 1.5,
        tr.tensor([1.0, 2.0, 0.5], device=x.device, dtype=x.dtype)), [(3, 3)]),
    "multilabel_margin_loss": (lambda x: F.multilabel_margin_loss(
        x, tr.tensor([[2, 0, -1], [1, -1, 0]], device=x.device), "sum"), [(2, 3)]),
    "triplet_margin_with_distance_loss": (
        lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, swap=True), [(3, 2)] * 3),
    "rrelu_eval": (lambda x: F.rrelu(x, 0.1, 0.3), [(2, 3)]),
    "affine_grid": (lambda t: F.affine_grid(t, (1, 1, 2, 3), False), [(1, 2, 3)]),
    "grid_sample_bilinear_reflection": (
        lambda x, g: F.grid_sample(x, g, "bilinear", "reflection", False), [(1, 2, 3, 2),
                                                                            (1, 2, 2, 2)]),
    "grid_sample_bilinear_border_3d": (
        lambda x, g: F.grid_sample(x, g, "bilinear", "border", True), [(1, 1, 2, 2, 3),
                                                                       (1, 1, 2, 2, 3)]),
    "grid_sample_nearest": (
        lambda x: F.grid_sample(x, tr.tensor(np.full((1, 2, 2, 2), 0.3), device=x.device),
                                "nearest", "zeros", False), [(1, 2, 3, 3)]),
}


def _op_inputs(shapes, device, seed=5):
    rng = _rng(seed)
    return [tr.tensor(rng.uniform(-1.3, 1.3, s), device=device, requires_grad=True)
            for s in shapes]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(OPS))
def test_new_ops_run_through_xp_and_have_central_difference_gradients(device, name):
    fn, shapes = OPS[name]
    args = _op_inputs(shapes, device)
    y = fn(*args)
    assert y.device == device
    y.sum().backward()
    ref = _op_inputs(shapes, "cpu")
    fn(*ref).sum().backward()
    np.testing.assert_allclose(y.numpy(), fn(*_op_inputs(shapes, "cpu")).numpy(), rtol=1e-12,
                               atol=1e-14)
    for a, r in zip(args, ref):
        assert a.grad.device == device
        np.testing.assert_allclose(a.grad.numpy(), r.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert gradcheck(fn, _op_inputs(shapes, device))


@pytest.mark.parametrize("device", DEVICES)
def test_channel_dropout_and_rrelu_training_on_each_device(device):
    x = tr.tensor(_rng().uniform(1, 2, (8, 16, 3)), device=device, requires_grad=True)
    for y in (F.dropout1d(x, 0.5), F.feature_alpha_dropout(x, 0.5, True),
              F.rrelu(-x, training=True)):
        assert y.device == device
        y.sum().backward()
        assert x.grad.device == device
    ratio = (F.dropout2d(x.reshape(8, 16, 3, 1), 0.5) / x.reshape(8, 16, 3, 1)).numpy()
    assert ((ratio == 0).all((2, 3)) | (ratio == 2).all((2, 3))).all()

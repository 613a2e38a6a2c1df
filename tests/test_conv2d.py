"""2-D and 3-D convolution and pooling, transposed convolutions, unfold and fold
(``functional.conv2d``, ``conv3d``, ``conv_transpose1d/2d/3d``, ``max_pool2d/3d``,
``avg_pool2d/3d``, the adaptive pools, ``unfold``, ``fold``; ``nn.Conv2d``, ``nn.MaxPool2d``,
...): values, indices and gradients against torch in float64, gradients against central
differences on every device, and the layers' parameters, reprs and state dicts against
torch's."""

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
from tinygrad_rnn.testing import gradcheck, gradgradcheck

from .conftest import DEVICES


def _per_axis(draw, d, strategy):
    """An int for every axis, or a d-tuple of them (torch takes both)."""
    values = [draw(strategy) for _ in range(d)]
    return values[0] if draw(st.booleans()) and len(set(values)) == 1 else tuple(values)


def _each(v, d):
    return v if isinstance(v, tuple) else (v,) * d


@st.composite
def conv_cases(draw, d):
    """Shapes and options of one conv2d or conv3d call whose output is not empty."""
    groups = draw(st.integers(1, 2))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(d))
    dilation = _per_axis(draw, d, st.integers(1, 2))
    stride = _per_axis(draw, d, st.integers(1, 2))
    options = [_per_axis(draw, d, st.integers(0, 2)), "valid"]
    padding = draw(st.sampled_from(options + ["same"] if _each(stride, d) == (1,) * d
                                   else options))
    if padding == "same":
        pads = [dl * (kk - 1) for kk, dl in zip(k, _each(dilation, d))]
    else:
        pads = [2 * p for p in _each(0 if padding == "valid" else padding, d)]
    least = [max(dl * (kk - 1) + 1 - p, 1) for kk, dl, p in zip(k, _each(dilation, d), pads)]
    size = tuple(draw(st.integers(m, m + 3)) for m in least)
    n = draw(st.sampled_from([None, 1, 2]))  # None: an unbatched (C, *spatial) input
    return dict(d=d, n=n, c=c, o=o, k=k, size=size, stride=stride, padding=padding,
                dilation=dilation, groups=groups, bias=draw(st.booleans()),
                seed=draw(st.integers(0, 2**16)))


def _conv_arrays(case):
    rng = np.random.default_rng(case["seed"])
    lead = () if case["n"] is None else (case["n"],)
    x = rng.standard_normal((*lead, case["c"], *case["size"]))
    w = rng.standard_normal((case["o"], case["c"] // case["groups"], *case["k"]))
    b = rng.standard_normal(case["o"]) if case["bias"] else None
    return x, w, b


def _conv_opts(case):
    return dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"],
                groups=case["groups"])


def _same_values_and_gradients(torch, ours_fn, theirs_fn, arrays, rtol=1e-10, atol=1e-12):
    """Call both on float64 copies of ``arrays`` (None passes as None), compare the outputs
    (and the indices, where a pair comes back) and the gradients of a random weighting."""
    ours = [None if a is None else tr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    y = ours_fn(*ours)
    with warnings.catch_warnings():  # torch warns (once) of a copy for some "same" pads
        warnings.simplefilter("ignore", UserWarning)
        yt = theirs_fn(*theirs)
    if isinstance(yt, tuple):
        (y, i), (yt, it) = y, yt
        assert i.dtype == np.int64
        np.testing.assert_array_equal(i.numpy(), it.numpy())
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(tr.tensor(g))
    yt.backward(torch.tensor(g))
    for a, at in zip(ours, theirs):
        if a is not None:
            np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), rtol=rtol, atol=atol)


@pytest.mark.torch
@pytest.mark.parametrize("d", [2, 3])
@given(data=st.data())
def test_conv_nd_matches_torch(d, data):
    torch = pytest.importorskip("torch")
    case = data.draw(conv_cases(d))
    ours, theirs = (F.conv2d, torch.nn.functional.conv2d) if d == 2 else \
        (F.conv3d, torch.nn.functional.conv3d)
    _same_values_and_gradients(torch, lambda *a: ours(*a, **_conv_opts(case)),
                               lambda *a: theirs(*a, **_conv_opts(case)), _conv_arrays(case))


@pytest.mark.parametrize("device", DEVICES)
@given(case=conv_cases(2))
def test_conv2d_gradient_is_that_of_central_differences(device, case):
    args = [tr.tensor(a, device=device, requires_grad=True) for a in _conv_arrays(case)
            if a is not None]
    assert gradcheck(lambda x, w, b=None: F.conv2d(x, w, b, **_conv_opts(case)), args)


@st.composite
def conv_transpose_cases(draw, d):
    """Shapes and options of one conv_transpose1d/2d/3d call whose output is not empty."""
    groups = draw(st.integers(1, 2))
    c, og = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(d))
    stride, dilation = (_per_axis(draw, d, st.integers(1, 3 if d < 3 else 2)) for _ in "sd")
    extra = tuple(draw(st.integers(0, max(s, dl) - 1))
                  for s, dl in zip(_each(stride, d), _each(dilation, d)))
    size = tuple(draw(st.integers(1, 4 if d < 3 else 3)) for _ in range(d))
    full = [(m - 1) * s + dl * (kk - 1) + 1 + e for m, s, dl, kk, e in
            zip(size, _each(stride, d), _each(dilation, d), k, extra)]
    padding = tuple(draw(st.integers(0, (f - 1) // 2)) for f in full)
    n = draw(st.sampled_from([None, 2]))
    return dict(d=d, n=n, c=c, o=og * groups, k=k, size=size, stride=stride, padding=padding,
                output_padding=extra, dilation=dilation, groups=groups,
                bias=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


def _conv_transpose_arrays(case):
    rng = np.random.default_rng(case["seed"])
    lead = () if case["n"] is None else (case["n"],)
    x = rng.standard_normal((*lead, case["c"], *case["size"]))
    w = rng.standard_normal((case["c"], case["o"] // case["groups"], *case["k"]))
    b = rng.standard_normal(case["o"]) if case["bias"] else None
    return x, w, b


def _conv_transpose_opts(case):
    return dict(stride=case["stride"], padding=case["padding"],
                output_padding=case["output_padding"], groups=case["groups"],
                dilation=case["dilation"])


@pytest.mark.torch
@pytest.mark.parametrize("d", [1, 2, 3])
@given(data=st.data())
def test_conv_transpose_matches_torch(d, data):
    torch = pytest.importorskip("torch")
    case = data.draw(conv_transpose_cases(d))
    name = f"conv_transpose{d}d"
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
    opts = _conv_transpose_opts(case)
    _same_values_and_gradients(torch, lambda *a: ours(*a, **opts),
                               lambda *a: theirs(*a, **opts), _conv_transpose_arrays(case))


@pytest.mark.parametrize("device", DEVICES)
@given(case=conv_transpose_cases(2))
def test_conv_transpose2d_gradient_is_that_of_central_differences(device, case):
    args = [tr.tensor(a, device=device, requires_grad=True)
            for a in _conv_transpose_arrays(case) if a is not None]
    opts = _conv_transpose_opts(case)
    assert gradcheck(lambda x, w, b=None: F.conv_transpose2d(x, w, b, **opts), args)


def test_conv_transpose2d_is_the_gradient_of_conv2d():
    rng = np.random.default_rng(0)
    w = tr.tensor(rng.standard_normal((4, 3, 3, 2)))
    z = tr.tensor(rng.standard_normal((2, 3, 8, 7)), requires_grad=True)
    opts = dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2))
    y = F.conv2d(z, w, **opts)  # (2, 4, 4, 5); conv2d drops z's last row, output_padding adds it
    g = tr.tensor(rng.standard_normal(y.shape))
    y.backward(g)
    back = F.conv_transpose2d(g, w, output_padding=(1, 0), **opts)
    np.testing.assert_allclose(back.numpy(), z.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_conv2d_and_conv_transpose2d_second_derivatives(device):
    rng = np.random.default_rng(3)
    args = [tr.tensor(rng.standard_normal(s), device=device, requires_grad=True)
            for s in ((2, 4, 4, 3), (2, 2, 2, 2), (2,))]
    assert gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1,
                                                  groups=2).tanh(), args)
    args[1] = tr.tensor(rng.standard_normal((4, 1, 2, 2)), device=device, requires_grad=True)
    assert gradgradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                            groups=2).tanh(), args)


@st.composite
def pool_cases(draw, d, dilation=True):
    k = tuple(draw(st.integers(1, 3)) for _ in range(d))
    stride = draw(st.sampled_from([None, 1, 2, tuple(draw(st.integers(1, 3))
                                                     for _ in range(d))]))
    padding = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    dl = _per_axis(draw, d, st.integers(1, 2)) if dilation else 1
    least = [max(di * (kk - 1) + 1 - 2 * p, 1) for kk, di, p in zip(k, _each(dl, d), padding)]
    if d == 3 and not dilation:  # torch's avg_pool3d refuses an input smaller than the kernel
        least = [max(m, kk) for m, kk in zip(least, k)]
    size = tuple(draw(st.integers(m, m + (4 if d == 2 else 2))) for m in least)
    lead = draw(st.sampled_from([(), (1,), (2,)]))
    return dict(d=d, k=k, stride=stride, padding=padding, dilation=dl,
                shape=(*lead, 2, *size), ceil=draw(st.booleans()),
                seed=draw(st.integers(0, 2**16)))


def _pool_input(case):
    return np.random.default_rng(case["seed"]).standard_normal(case["shape"])


@pytest.mark.torch
@pytest.mark.parametrize("d", [2, 3])
@given(data=st.data())
def test_max_pool_matches_torch_values_indices_and_gradients(d, data):
    torch = pytest.importorskip("torch")
    case = data.draw(pool_cases(d))
    x = _pool_input(case)
    name = f"max_pool{d}d"
    args = (case["k"], case["stride"], case["padding"], case["dilation"], case["ceil"], True)
    y, i = getattr(F, name)(tr.tensor(x), *args)
    yt, it = getattr(torch.nn.functional, name)(torch.tensor(x), *args)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
    real = np.isfinite(y.numpy())  # a dilated window can hold padding only: there the
    np.testing.assert_array_equal(i.numpy()[real], it.numpy()[real])  # index is not torch's
    if real.all():  # and torch sends its gradient to an element outside the window
        _same_values_and_gradients(torch, lambda x: getattr(F, name)(x, *args),
                                   lambda x: getattr(torch.nn.functional, name)(x, *args), [x],
                                   rtol=1e-12, atol=0)


@pytest.mark.torch
def test_max_pool2d_sends_a_tied_windows_gradient_to_its_first_maximum_as_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[[[1.0, 3.0, 3.0], [3.0, 2.0, 3.0], [0.0, 3.0, 1.0]]]])
    _same_values_and_gradients(torch, lambda x: F.max_pool2d(x, 2, 1, return_indices=True),
                               lambda x: torch.nn.functional.max_pool2d(x, 2, 1,
                                                                        return_indices=True),
                               [x], rtol=1e-12, atol=0)


@pytest.mark.torch
@pytest.mark.parametrize("d", [2, 3])
@given(data=st.data(), count_include_pad=st.booleans(),
       divisor_override=st.sampled_from([None, 1, 3]))
def test_avg_pool_matches_torch(d, data, count_include_pad, divisor_override):
    torch = pytest.importorskip("torch")
    case = data.draw(pool_cases(d, dilation=False))
    args = (case["k"], case["stride"], case["padding"], case["ceil"], count_include_pad,
            divisor_override)
    name = f"avg_pool{d}d"
    _same_values_and_gradients(torch, lambda x: getattr(F, name)(x, *args),
                               lambda x: getattr(torch.nn.functional, name)(x, *args),
                               [_pool_input(case)], rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("d", [2, 3])
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_adaptive_pools_match_torch(d, data, seed):
    torch = pytest.importorskip("torch")
    top = 7 if d == 2 else 4
    shape = tuple(data.draw(st.integers(1, top)) for _ in range(d))
    size = tuple(data.draw(st.one_of(st.none(), st.integers(1, top + 1))) for _ in range(d))
    if data.draw(st.booleans()) and None not in size and len(set(size)) == 1:
        size = size[0]
    x = np.random.default_rng(seed).standard_normal((2, 3, *shape))
    avg, mx = f"adaptive_avg_pool{d}d", f"adaptive_max_pool{d}d"
    _same_values_and_gradients(torch, lambda x: getattr(F, avg)(x, size),
                               lambda x: getattr(torch.nn.functional, avg)(x, size), [x],
                               rtol=1e-12, atol=1e-15)
    _same_values_and_gradients(torch, lambda x: getattr(F, mx)(x, size, True),
                               lambda x: getattr(torch.nn.functional, mx)(x, size, True),
                               [x[0]], rtol=1e-12, atol=0)


@pytest.mark.parametrize("device", DEVICES)
@given(case=pool_cases(2))
def test_pool2d_gradients_are_those_of_central_differences(device, case):
    x = tr.tensor(_pool_input(case), device=device, requires_grad=True)
    k, s, p = case["k"], case["stride"], case["padding"]

    def max_pool(x):  # a window of padding only gives -inf: 0 there, for the differences
        y = F.max_pool2d(x, k, s, p, case["dilation"], case["ceil"])
        return tr.where(tr.isfinite(y.detach()), y, 0.0)

    assert gradcheck(max_pool, [x])
    assert gradcheck(lambda x: F.avg_pool2d(x, k, s, p, case["ceil"], False), [x])
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, None)), [x])
    assert gradcheck(lambda x: F.adaptive_max_pool2d(x, 2), [x])


@pytest.mark.parametrize("device", DEVICES)
def test_pool3d_gradients_are_those_of_central_differences(device):
    x = tr.tensor(np.random.default_rng(0).standard_normal((1, 2, 3, 4, 5)), device=device,
                  requires_grad=True)
    assert gradcheck(lambda x: F.max_pool3d(x, (2, 3, 2), 1, (1, 1, 0), ceil_mode=True), [x])
    assert gradcheck(lambda x: F.avg_pool3d(x, 2, (1, 2, 2), 1, True, False), [x])
    assert gradcheck(lambda x: F.adaptive_avg_pool3d(x, (2, 3, 2)), [x])
    assert gradcheck(lambda x: F.adaptive_max_pool3d(x, (2, 3, 4)), [x])


@st.composite
def unfold_cases(draw):
    k = tuple(draw(st.integers(1, 3)) for _ in range(2))
    dilation, stride, padding = (_per_axis(draw, 2, st.integers(lo, 2))
                                 for lo in (1, 1, 0))
    least = [max(dl * (kk - 1) + 1 - 2 * p, 1)
             for kk, dl, p in zip(k, _each(dilation, 2), _each(padding, 2))]
    size = tuple(draw(st.integers(m, m + 3)) for m in least)
    lead = draw(st.sampled_from([(), (2,)]))
    return dict(k=k, dilation=dilation, padding=padding, stride=stride, size=size,
                shape=(*lead, 2, *size), seed=draw(st.integers(0, 2**16)))


@pytest.mark.torch
@given(case=unfold_cases())
def test_unfold_and_fold_match_torch(case):
    torch = pytest.importorskip("torch")
    opts = dict(kernel_size=case["k"], dilation=case["dilation"], padding=case["padding"],
                stride=case["stride"])
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["shape"])
    _same_values_and_gradients(torch, lambda x: F.unfold(x, **opts),
                               lambda x: torch.nn.functional.unfold(x, **opts), [x])
    cols = rng.standard_normal(F.unfold(tr.tensor(x), **opts).shape)
    _same_values_and_gradients(torch, lambda c: F.fold(c, case["size"], **opts),
                               lambda c: torch.nn.functional.fold(c, case["size"], **opts),
                               [cols])


@pytest.mark.parametrize("device", DEVICES)
def test_unfold_and_fold_gradients_are_those_of_central_differences(device):
    rng = np.random.default_rng(0)
    opts = dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
    x = tr.tensor(rng.standard_normal((2, 2, 4, 5)), device=device, requires_grad=True)
    assert gradcheck(lambda x: F.unfold(x, **opts), [x])
    cols = tr.tensor(rng.standard_normal(F.unfold(x, **opts).shape), device=device,
                     requires_grad=True)
    assert gradcheck(lambda c: F.fold(c, (4, 5), **opts), [cols])


def test_fold_of_unfold_counts_each_element_once_per_block_that_holds_it():
    x = tr.randn(2, 3, 5, 6, dtype="float64")
    opts = dict(kernel_size=(2, 3), padding=1, stride=(1, 2))
    ones = tr.ones(*x.shape, dtype="float64")
    counts = F.fold(F.unfold(ones, **opts), (5, 6), **opts)
    np.testing.assert_allclose(F.fold(F.unfold(x, **opts), (5, 6), **opts).numpy(),
                               x.numpy() * counts.numpy(), rtol=1e-12)
    assert counts.numpy().min() >= 1  # every element is in some block here


# ---- layers -----------------------------------------------------------------------------


def _load_torch_weights(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


@pytest.mark.torch
@pytest.mark.parametrize("make", [
    lambda m: m.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
    lambda m: m.Conv2d(4, 3, 3, padding="same", padding_mode="reflect"),
    lambda m: m.Conv2d(4, 2, (2, 3), padding=(1, 2), padding_mode="circular", bias=False),
    lambda m: m.Conv2d(4, 4, 3, padding="valid", padding_mode="replicate", groups=4),
    lambda m: m.Conv3d(4, 2, (2, 3, 2), stride=(1, 2, 1), padding=1),
    lambda m: m.Conv3d(4, 2, 3, padding="same", padding_mode="replicate"),
    lambda m: m.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
    lambda m: m.ConvTranspose2d(4, 3, (3, 2), stride=(2, 3), padding=(1, 0), dilation=2,
                                bias=False),
    lambda m: m.ConvTranspose3d(4, 2, 2, stride=2),
], ids=["conv2d", "same-reflect", "circular", "depthwise-replicate", "conv3d",
        "conv3d-same", "transpose1d", "transpose2d", "transpose3d"])
def test_conv_layers_take_torchs_weights_and_give_its_outputs(make):
    torch = pytest.importorskip("torch")
    theirs, ours = make(torch.nn).double(), make(nn).double()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    _load_torch_weights(ours, theirs)
    d = len(ours.kernel_size)
    for lead in ((2,), ()):  # batched and unbatched
        x = np.random.default_rng(0).standard_normal((*lead, 4, *(5, 6, 4)[:d]))
        _same_values_and_gradients(torch, ours, theirs, [x])
    fresh = make(nn).double()  # and back: our weights load into torch
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy()))
                            for k, v in fresh.state_dict().items()})
    np.testing.assert_allclose(fresh(tr.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_conv_transpose_output_size_picks_the_output_padding_as_torch():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=(3, 2), padding=1, dtype=torch.float64)
    ours = nn.ConvTranspose2d(2, 3, 3, stride=(3, 2), padding=1, dtype="float64")
    _load_torch_weights(ours, theirs)
    x = np.random.default_rng(0).standard_normal((1, 2, 3, 4))
    for size in [(7, 7), (9, 8), (1, 3, 8, 8)]:
        np.testing.assert_allclose(ours(tr.tensor(x), size).numpy(),
                                   theirs(torch.tensor(x), size).detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"between the smallest output and stride - 1 more, "
                                         r"here 7 and 9"):
        ours(tr.tensor(x), (10, 8))


@pytest.mark.torch
def test_pool_and_fold_layers_are_torchs():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    for make in [
        lambda m: m.MaxPool2d(2),
        lambda m: m.MaxPool2d((3, 2), stride=(2, 1), padding=1, dilation=(1, 2),
                              ceil_mode=True),
        lambda m: m.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        lambda m: m.AvgPool2d((2, 3), divisor_override=5),
        lambda m: m.AdaptiveAvgPool2d((None, 4)),
        lambda m: m.AdaptiveAvgPool2d(3),
        lambda m: m.AdaptiveMaxPool2d((2, 5)),
        lambda m: m.Sequential(m.Unfold((2, 3), padding=1, stride=(1, 2)),
                               m.Fold((7, 6), (2, 3), padding=1, stride=(1, 2))),
    ]:
        ours, theirs = make(nn), make(torch.nn)
        assert repr(ours) == repr(theirs)
        for attr in ("kernel_size", "stride", "padding", "dilation", "output_size"):
            if hasattr(theirs, attr):
                assert getattr(ours, attr) == getattr(theirs, attr), attr
        _same_values_and_gradients(torch, ours, theirs, [x])
    for make in [lambda m: m.MaxPool3d(2, return_indices=True),
                 lambda m: m.AvgPool3d((1, 2, 2), padding=(0, 1, 0)),
                 lambda m: m.AdaptiveAvgPool3d((2, None, 3)),
                 lambda m: m.AdaptiveMaxPool3d(2, return_indices=True)]:
        ours, theirs = make(nn), make(torch.nn)
        assert repr(ours) == repr(theirs)
        _same_values_and_gradients(torch, ours, theirs, [x[:, :, :4]])


@pytest.mark.torch
def test_a_small_cnn_takes_torchs_weights_and_gives_its_outputs_and_gradients():
    torch = pytest.importorskip("torch")

    def make(m):
        return m.Sequential(
            m.Conv2d(3, 8, 3, padding=1), m.BatchNorm2d(8), m.ReLU(), m.MaxPool2d(2),
            m.Conv2d(8, 8, 3, groups=4, dilation=2, padding="same", padding_mode="reflect"),
            m.ReLU(), m.AvgPool2d(2, ceil_mode=True), m.ConvTranspose2d(8, 4, 2, stride=2),
            m.AdaptiveMaxPool2d((2, 3)), m.Flatten(), m.Linear(24, 5)).double()

    theirs, ours = make(torch.nn), make(nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _load_torch_weights(ours, theirs)
    x = np.random.default_rng(0).standard_normal((2, 3, 11, 12))
    _same_values_and_gradients(torch, ours, theirs, [x], rtol=1e-9, atol=1e-11)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=name)


def test_conv_initialisation_and_attributes_are_torchs():
    for conv, fan_in in [(nn.Conv2d(6, 4, (3, 2), groups=2), 3 * 3 * 2),
                         (nn.Conv3d(2, 4, 2), 2 * 8),
                         (nn.ConvTranspose2d(6, 4, 3, groups=2), 2 * 9)]:
        bound = 1 / math.sqrt(fan_in)
        for p in (conv.weight, conv.bias):
            assert np.abs(p.numpy()).max() <= bound
        assert np.abs(conv.weight.numpy()).max() > bound / 2  # not all near 0
    conv = nn.Conv2d(6, 4, (3, 2), groups=2, padding="same", dtype="float64")
    assert conv.weight.shape == (4, 3, 3, 2) and conv.weight.dtype == np.float64
    assert conv.kernel_size == (3, 2) and conv.stride == (1, 1) and conv.padding == "same"
    assert conv(tr.randn(2, 6, 5, 7, dtype="float64")).shape == (2, 4, 5, 7)
    assert nn.ConvTranspose2d(6, 4, 3, groups=2).weight.shape == (6, 2, 3, 3)
    assert nn.Conv3d(2, 3, 1, bias=False).bias is None
    assert nn.MaxPool2d(3).stride == 3 and nn.AvgPool2d((2, 3)).stride == (2, 3)


def test_bad_arguments_are_refused_with_the_shapes_named():
    x = tr.randn(2, 4, 6, 6)
    with pytest.raises(ValueError, match=r"weight of shape \(3, 3, 2, 2\) with groups=2 "
                                         r"expects 6 input channels.*has 4"):
        F.conv2d(x, tr.randn(3, 3, 2, 2), groups=2)
    with pytest.raises(ValueError, match=r"weight must be 4-D \(out_channels, in_channels / "
                                         r"groups, kH, kW\).*got shape \(3, 4, 2\)"):
        F.conv2d(x, tr.randn(3, 4, 2))
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\)"):
        F.conv3d(tr.randn(4, 3, 3, 3), tr.randn(3, 4, 2, 2, 2), tr.randn(4))
    with pytest.raises(ValueError, match="6 positions along W .* fewer than the window's "
                                         "reach .* = 7"):
        F.conv2d(x, tr.randn(3, 4, 2, 4), dilation=(1, 2))
    with pytest.raises(ValueError, match=r"'same' needs stride 1, got stride=\(1, 2\)"):
        F.conv2d(x, tr.randn(3, 4, 2, 2), stride=(1, 2), padding="same")
    with pytest.raises(ValueError, match=r"stride must be an int >= 1 or a 2-tuple"):
        F.conv2d(x, tr.randn(3, 4, 2, 2), stride=(1, 2, 1))
    with pytest.raises(ValueError, match=r"expected a 4-D \(C, D, H, W\) or 5-D"):
        F.conv3d(x[0, 0], tr.randn(3, 4, 2, 2, 2))
    with pytest.raises(TypeError, match="float64 does not match the weight's dtype float32"):
        F.conv2d(x.double(), tr.randn(3, 4, 2, 2))
    with pytest.raises(ValueError, match="output_padding must be smaller than stride or "
                                         "dilation"):
        F.conv_transpose2d(x, tr.randn(4, 2, 3, 3), stride=2, output_padding=(1, 2))
    with pytest.raises(ValueError, match=r"gives an output of size \(-1, 1\), too small"):
        F.conv_transpose2d(x[..., :1, :1], tr.randn(4, 2, 1, 1), padding=(1, 0))
    with pytest.raises(ValueError, match=r"expects 4 input channels.*has 3"):
        F.conv_transpose1d(tr.randn(3, 5), tr.randn(4, 2, 3))
    with pytest.raises(ValueError, match=r"at most half the kernel size, got padding=\(1, 2\) "
                                         r"for kernel_size=\(2, 2\)"):
        F.max_pool2d(x, 2, padding=(1, 2))
    with pytest.raises(ValueError, match="divisor_override must be a nonzero int"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match=r"output_size must be an int >= 1 or a 2-tuple"):
        F.adaptive_avg_pool2d(x, (2, 0))
    with pytest.raises(ValueError, match=r"expected C·2·2 rows and 5·5 = 25 blocks"):
        F.fold(tr.randn(2, 12, 24), (6, 6), 2)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(4, 3, 2, groups=2)
    with pytest.raises(ValueError, match=r"padding_mode must be one of \('zeros',\)"):
        nn.ConvTranspose2d(4, 3, 2, padding_mode="reflect")
    with pytest.raises(ValueError, match="at most half the kernel size"):
        nn.MaxPool3d(2, padding=(0, 0, 2))
    with pytest.raises(ValueError, match=r"kernel_size must be an int >= 1 or a 2-tuple"):
        nn.Unfold((2, 2, 2))


@pytest.mark.torch
def test_ceil_mode_takes_an_input_shorter_than_the_window_as_torch():
    """With ceil_mode one last window may run past the end even where the input (padded) is
    shorter than the window's reach: a size-1 axis halved (found in review)."""
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    rng = np.random.default_rng(40)
    cases = [("max_pool2d", (1, 1, 1, 5), (2,), {"ceil_mode": True}),
             ("max_pool1d", (1, 1, 1), (2, 2), {"ceil_mode": True}),
             ("avg_pool2d", (1, 1, 1, 1), (2, 2), {"ceil_mode": True}),
             ("avg_pool1d", (1, 1, 2), (3, 2), {"ceil_mode": True, "count_include_pad": False}),
             ("lp_pool2d", (1, 1, 1, 5), (2, 3), {"ceil_mode": True}),
             ("max_pool2d", (1, 1, 3, 4), ((1, 3), (1, 3)), {"dilation": (1, 2),
                                                             "ceil_mode": True})]
    for name, shape, args, kw in cases:
        a = rng.standard_normal(shape) + 3
        x, xt = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, yt = getattr(F, name)(x, *args, **kw), getattr(TF, name)(xt, *args, **kw)
        y.sum().backward()
        yt.sum().backward()
        assert y.shape == tuple(yt.shape), name
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="fewer than the window's reach"):
        F.max_pool2d(tr.ones(1, 1, 1, 5), 2)  # without ceil_mode, as torch refuses it too

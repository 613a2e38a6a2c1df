"""1-D convolution, pooling and normalisation (``functional.conv1d``, ``max_pool1d``,
``avg_pool1d``, the adaptive pools, ``batch_norm``, ``group_norm``, ``rms_norm``,
``instance_norm``; ``nn.Conv1d``, ``nn.BatchNorm1d``, ``nn.GroupNorm``, ...):
values and gradients against torch in float64, gradients against central differences, and
the layers' parameters, buffers and state dicts against torch's."""

from __future__ import annotations

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


@st.composite
def conv_cases(draw):
    """Shapes and options of one conv1d call whose output is not empty."""
    groups = draw(st.integers(1, 3))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k, dilation = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    stride = draw(st.integers(1, 3))
    padding = draw(st.one_of(st.integers(0, 3), st.just("valid"),
                             st.just("same") if stride == 1 else st.just(0)))
    pads = {"same": dilation * (k - 1), "valid": 0}.get(padding, 2 * padding)
    least = max(dilation * (k - 1) + 1 - pads, 1)
    length = draw(st.integers(least, least + 6))
    n = draw(st.sampled_from([None, 1, 2]))  # None: an unbatched (C, L) input
    seed = draw(st.integers(0, 2**16))
    return dict(n=n, c=c, o=o, k=k, length=length, stride=stride, padding=padding,
                dilation=dilation, groups=groups, bias=draw(st.booleans()), seed=seed)


def _conv_arrays(case):
    rng = np.random.default_rng(case["seed"])
    shape = (case["c"], case["length"]) if case["n"] is None else \
        (case["n"], case["c"], case["length"])
    x = rng.standard_normal(shape)
    w = rng.standard_normal((case["o"], case["c"] // case["groups"], case["k"]))
    b = rng.standard_normal(case["o"]) if case["bias"] else None
    return x, w, b


def _opts(case):
    return dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"],
                groups=case["groups"])


@pytest.mark.torch
@given(case=conv_cases())
def test_conv1d_matches_torch(case):
    torch = pytest.importorskip("torch")
    x, w, b = _conv_arrays(case)
    ours = [tr.tensor(a, requires_grad=True) for a in (x, w, b) if a is not None]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b) if a is not None]
    y = F.conv1d(*ours[:2], ours[2] if b is not None else None, **_opts(case))
    with warnings.catch_warnings():  # torch warns (once) of a copy for some "same" pads
        warnings.simplefilter("ignore", UserWarning)
        yt = torch.nn.functional.conv1d(*theirs[:2], theirs[2] if b is not None else None,
                                        **_opts(case))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(yt.shape)
    y.backward(tr.tensor(g))
    yt.backward(torch.tensor(g))
    for a, at in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@given(case=conv_cases())
def test_conv1d_gradient_is_that_of_central_differences(device, case):
    x, w, b = _conv_arrays(case)
    args = [tr.tensor(a, device=device, requires_grad=True) for a in (x, w, b) if a is not None]

    def f(x, w, b=None):
        return F.conv1d(x, w, b, **_opts(case))

    assert gradcheck(f, args)


@pytest.mark.parametrize("device", DEVICES)
def test_conv1d_second_derivative(device):
    case = dict(n=2, c=4, o=2, k=3, length=7, stride=2, padding=1, dilation=1, groups=2,
                bias=True, seed=3)
    x, w, b = _conv_arrays(case)
    args = [tr.tensor(a, device=device, requires_grad=True) for a in (x, w, b)]
    assert gradgradcheck(lambda x, w, b: F.conv1d(x, w, b, **_opts(case)).tanh(), args)


@st.composite
def pool_cases(draw, dilation=True):
    k = draw(st.integers(1, 4))
    stride = draw(st.sampled_from([None, 1, 2, 3]))
    padding = draw(st.integers(0, k // 2))
    d = draw(st.integers(1, 3)) if dilation else 1
    least = max(d * (k - 1) + 1 - 2 * padding, 1)
    length = draw(st.integers(least, least + 7))
    n = draw(st.sampled_from([None, 1, 3]))
    return dict(k=k, stride=stride, padding=padding, dilation=d, length=length, n=n,
                ceil=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


def _pool_input(case):
    shape = (2, case["length"]) if case["n"] is None else (case["n"], 2, case["length"])
    return np.random.default_rng(case["seed"]).standard_normal(shape)


@pytest.mark.torch
@given(case=pool_cases())
def test_max_pool1d_matches_torch_values_indices_and_gradients(case):
    torch = pytest.importorskip("torch")
    x = _pool_input(case)
    args = (case["k"], case["stride"], case["padding"], case["dilation"], case["ceil"], True)
    xo, xt = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, i = F.max_pool1d(xo, *args)
    yt, it = torch.nn.functional.max_pool1d(xt, *args)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    assert i.dtype == np.int64
    real = np.isfinite(y.numpy())  # a dilated window can hold padding only: there the
    np.testing.assert_array_equal(i.numpy()[real], it.numpy()[real])  # index is not torch's
    if not real.all():  # and torch sends its gradient to an element outside the window
        return
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


@pytest.mark.torch
def test_max_pool1d_sends_a_tied_windows_gradient_to_its_first_maximum_as_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[[1.0, 3.0, 3.0, 2.0, 2.0, 2.0]]])
    xo, xt = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.max_pool1d(xo, 3, 1).sum().backward()
    torch.nn.functional.max_pool1d(xt, 3, 1).sum().backward()
    np.testing.assert_array_equal(xo.grad.numpy(), xt.grad.numpy())


@pytest.mark.torch
@given(case=pool_cases(dilation=False), count_include_pad=st.booleans())
def test_avg_pool1d_matches_torch(case, count_include_pad):
    torch = pytest.importorskip("torch")
    x = _pool_input(case)
    args = (case["k"], case["stride"], case["padding"], case["ceil"], count_include_pad)
    xo, xt = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = F.avg_pool1d(xo, *args), torch.nn.functional.avg_pool1d(xt, *args)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-15)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@given(length=st.integers(1, 12), size=st.integers(1, 13), seed=st.integers(0, 2**16))
def test_adaptive_pools_match_torch(length, size, seed):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(seed).standard_normal((2, 3, length))
    xo, xt = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = F.adaptive_avg_pool1d(xo, size), torch.nn.functional.adaptive_avg_pool1d(xt, size)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-15)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-15)
    xo, xt = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (y, i), (yt, it) = F.adaptive_max_pool1d(xo, size, True), \
        torch.nn.functional.adaptive_max_pool1d(xt, size, True)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(i.numpy(), it.numpy())
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@given(case=pool_cases())
def test_pool_gradients_are_those_of_central_differences(device, case):
    x = tr.tensor(_pool_input(case), device=device, requires_grad=True)
    k, s, p = case["k"], case["stride"], case["padding"]

    def max_pool(x):  # a window of padding only gives -inf: 0 there, for the differences
        y = F.max_pool1d(x, k, s, p, case["dilation"], case["ceil"])
        return tr.where(tr.isfinite(y.detach()), y, 0.0)

    assert gradcheck(max_pool, [x])
    assert gradcheck(lambda x: F.avg_pool1d(x, k, s, p, case["ceil"], False), [x])
    assert gradcheck(lambda x: F.adaptive_avg_pool1d(x, 3), [x])
    assert gradcheck(lambda x: F.adaptive_max_pool1d(x, 2), [x])


@pytest.mark.parametrize("device", DEVICES)
@given(shape=st.sampled_from([(3, 2), (2, 3, 4), (2, 2, 2, 3)]), training=st.booleans(),
       affine=st.booleans(), seed=st.integers(0, 2**16))
def test_batch_norm_gradient_is_that_of_central_differences(device, shape, training, affine,
                                                            seed):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = tr.tensor(rng.standard_normal(shape), device=device, requires_grad=True)
    w, b = (tr.tensor(rng.standard_normal(c), device=device, requires_grad=True)
            for _ in range(2))
    rm = tr.tensor(rng.standard_normal(c), device=device)
    rv = tr.tensor(rng.uniform(0.5, 2, c), device=device)

    def f(x, w, b):  # running stats are not updated here: gradcheck calls f many times
        return F.batch_norm(x, None if training else rm, None if training else rv,
                            w if affine else None, b if affine else None, training)

    assert gradcheck(f, [x, w, b] if affine else [x, w.detach(), b.detach()])


@pytest.mark.torch
@given(shape=st.sampled_from([(4, 3), (3, 3, 5), (2, 3, 2, 2)]), momentum=st.sampled_from(
    [0.1, 0.5, None]), affine=st.booleans(), track=st.booleans(), seed=st.integers(0, 2**16))
def test_batch_norm_layers_train_and_evaluate_as_torch(shape, momentum, affine, track, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    cls = "BatchNorm2d" if len(shape) == 4 else "BatchNorm1d"
    ours = getattr(nn, cls)(3, momentum=momentum, affine=affine, track_running_stats=track,
                            dtype=np.float64)
    theirs = getattr(torch.nn, cls)(3, momentum=momentum, affine=affine,
                                    track_running_stats=track, dtype=torch.float64)
    if affine:
        w, b = rng.standard_normal(3), rng.standard_normal(3)
        ours.load_state_dict({**ours.state_dict(), "weight": w, "bias": b})
        theirs.weight.data, theirs.bias.data = torch.tensor(w), torch.tensor(b)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for step in range(4):
        training = step < 3
        ours.train(training)
        theirs.train(training)
        x = rng.standard_normal(shape) * 2 + 1
        xo, xt = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        (y ** 3).sum().backward()
        (yt ** 3).sum().backward()
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-10)
        for k, v in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-12)
        if affine:
            np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                       rtol=1e-8, atol=1e-10)
            ours.zero_grad()
            theirs.zero_grad()


@pytest.mark.torch
def test_layers_take_torchs_weights_and_give_its_outputs():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Conv1d(4, 6, 3, padding="same", padding_mode="reflect"),
        torch.nn.BatchNorm1d(6), torch.nn.ReLU(), torch.nn.MaxPool1d(2),
        torch.nn.Conv1d(6, 6, 3, stride=2, groups=3, dilation=2, padding=2, bias=False),
        torch.nn.AvgPool1d(2, ceil_mode=True), torch.nn.AdaptiveMaxPool1d(1)).double()
    ours = nn.Sequential(
        nn.Conv1d(4, 6, 3, padding="same", padding_mode="reflect"),
        nn.BatchNorm1d(6), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(6, 6, 3, stride=2, groups=3, dilation=2, padding=2, bias=False),
        nn.AvgPool1d(2, ceil_mode=True), nn.AdaptiveMaxPool1d(1)).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs(torch.randn(5, 4, 20, dtype=torch.float64))  # running stats that are not 0 and 1
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 4, 17))
    for mode in (True, False):
        ours.train(mode)
        theirs.train(mode)
        np.testing.assert_allclose(ours(tr.tensor(x)).numpy(),
                                   theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    np.testing.assert_array_equal(ours[1].num_batches_tracked.numpy(), 2)


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv1d_padding_modes_as_torch(mode):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Conv1d(2, 3, 4, padding=2, padding_mode=mode, dtype=torch.float64)
    ours = nn.Conv1d(2, 3, 4, padding=2, padding_mode=mode, dtype=np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 6))  # unbatched
    np.testing.assert_allclose(ours(tr.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    assert repr(ours) == repr(theirs)


def test_conv1d_initialisation_and_attributes_are_torchs():
    conv = nn.Conv1d(6, 4, 5, groups=2, padding="same")
    assert conv.weight.shape == (4, 3, 5) and conv.bias.shape == (4,)
    assert conv.kernel_size == (5,) and conv.stride == (1,) and conv.padding == "same"
    bound = 1 / np.sqrt(3 * 5)
    for p in (conv.weight, conv.bias):
        assert np.abs(p.numpy()).max() <= bound
    assert np.abs(conv.weight.numpy()).max() > bound / 2  # not all near 0
    assert nn.MaxPool1d(3).stride == 3 and nn.AvgPool1d(3).kernel_size == (3,)
    assert conv(tr.randn(2, 6, 9)).shape == (2, 4, 9)
    assert [n for n, _ in nn.BatchNorm1d(3).named_buffers()] == [
        "running_mean", "running_var", "num_batches_tracked"]
    assert nn.BatchNorm1d(3, affine=False, track_running_stats=False).state_dict() == {}


def test_bad_arguments_are_refused_with_the_shapes_named():
    x = tr.randn(2, 4, 10)
    with pytest.raises(ValueError, match=r"expects 6 input channels.*has 4"):
        F.conv1d(x, tr.randn(3, 3, 2), groups=2)
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\)"):
        F.conv1d(x, tr.randn(3, 4, 2), tr.randn(4))
    with pytest.raises(ValueError, match="fewer than the window's reach"):
        F.conv1d(x, tr.randn(3, 4, 6), dilation=2)
    with pytest.raises(ValueError, match="'same' needs stride 1"):
        nn.Conv1d(4, 3, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"2-D \(C, L\) or 3-D"):
        F.conv1d(tr.randn(10), tr.randn(3, 1, 2))
    with pytest.raises(TypeError, match="float64 does not match the weight's dtype float32"):
        F.conv1d(x.double(), tr.randn(3, 4, 2))
    with pytest.raises(ValueError, match="at most half the kernel size"):
        F.max_pool1d(x, 2, padding=2)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv1d(4, 3, 2, groups=2)
    bn = nn.BatchNorm1d(4)
    with pytest.raises(ValueError, match=r"expected 4 channels on axis 1, got an input of "
                                         r"shape \(2, 3\)"):
        bn(tr.randn(2, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(tr.randn(1, 4))
    assert int(bn.num_batches_tracked.item()) == 0  # refused before the count changed
    with pytest.raises(ValueError, match="2-D or 3-D input"):
        bn(tr.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match="needs running_mean and running_var"):
        F.batch_norm(x, None, None)


def test_batch_norm_running_stats_are_not_in_the_graph_and_eval_uses_them():
    bn = nn.BatchNorm1d(2, momentum=None)
    x = tr.randn(8, 2, requires_grad=True)
    y = bn(x)
    assert not bn.running_mean.requires_grad and y.requires_grad
    batches = [tr.randn(8, 2) * 3 + 1 for _ in range(3)]
    bn.reset_running_stats()
    for b in batches:
        bn(b)
    mean = np.mean([b.numpy().mean(0) for b in batches], 0)  # momentum None: a plain average
    np.testing.assert_allclose(bn.running_mean.numpy(), mean, rtol=1e-5)
    bn.eval()
    z = tr.randn(4, 2)
    expected = (z.numpy() - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + 1e-5)
    np.testing.assert_allclose(bn(z).numpy(), expected, rtol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 3


@pytest.mark.torch
@given(shape=st.sampled_from([(2, 6), (3, 6, 4), (2, 6, 2, 3)]), groups=st.sampled_from(
    [1, 2, 3, 6]), affine=st.booleans(), seed=st.integers(0, 2**16))
def test_group_norm_matches_torch(shape, groups, affine, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    theirs = torch.nn.GroupNorm(groups, 6, affine=affine, dtype=torch.float64)
    ours = nn.GroupNorm(groups, 6, affine=affine, dtype=np.float64)
    if affine:
        with torch.no_grad():
            theirs.weight.normal_()
            theirs.bias.normal_()
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    _same_forward_backward(torch, ours, theirs, rng.standard_normal(shape) * 3 + 1)


def test_norms_refuse_a_weight_of_another_dtype_as_torch():
    x = tr.zeros(2, 3, 4)  # float32
    w = tr.ones(3, dtype="float64")
    with pytest.raises(TypeError, match="group_norm: input dtype float32 does not match the "
                                        "weight's dtype float64"):
        F.group_norm(x, 1, w)
    with pytest.raises(TypeError, match="instance_norm: input dtype float32 does not match the "
                                        "bias's dtype float64"):
        F.instance_norm(x, bias=w)
    with pytest.raises(TypeError, match="group_norm"):
        nn.GroupNorm(1, 3).double()(x)


def test_rms_norm_keeps_the_input_dtype_as_torch():
    # PyTorch computes with a weight of another dtype, and gives the input's dtype
    x = tr.tensor(np.ones((2, 4), np.float32), requires_grad=True)
    norm = nn.RMSNorm(4).double()
    y = norm(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and norm.weight.grad.dtype == np.float64


def test_group_norm_refuses_one_value_as_torch():
    # PyTorch counts N·C/G·(positions) and refuses a count of 1 (its 0/0 variance)
    for shape, groups in (((1, 1), 1), ((1, 2), 2), ((1, 1, 1, 1), 1)):
        with pytest.raises(ValueError, match="more than 1 value per channel"):
            F.group_norm(tr.zeros(shape), groups)
    assert F.group_norm(tr.ones(2, 1), 1).shape == (2, 1)  # as torch's: (2, 1) is allowed


@pytest.mark.torch
@given(shape=st.sampled_from([(4,), (3, 4), (2, 3, 4)]), eps=st.sampled_from([None, 1e-3]),
       affine=st.booleans(), seed=st.integers(0, 2**16))
def test_rms_norm_matches_torch(shape, eps, affine, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    theirs = torch.nn.RMSNorm(shape[-1:], eps=eps, elementwise_affine=affine,
                              dtype=torch.float64)
    ours = nn.RMSNorm(shape[-1:], eps=eps, elementwise_affine=affine, dtype=np.float64)
    if affine:
        with torch.no_grad():
            theirs.weight.normal_()
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    _same_forward_backward(torch, ours, theirs, rng.standard_normal(shape))


@pytest.mark.torch
@given(dims=st.sampled_from([2, 3, 4]), affine=st.booleans(), track=st.booleans(),
       seed=st.integers(0, 2**16))
def test_instance_norm_trains_and_evaluates_as_torch(dims, affine, track, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    cls = "InstanceNorm2d" if dims == 4 else "InstanceNorm1d"
    shape = {2: (3, 5), 3: (2, 3, 5), 4: (2, 3, 2, 3)}[dims]
    theirs = getattr(torch.nn, cls)(3, affine=affine, track_running_stats=track,
                                    momentum=0.3, dtype=torch.float64)
    ours = getattr(nn, cls)(3, affine=affine, track_running_stats=track, momentum=0.3,
                            dtype=np.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for step in range(3):
        ours.train(step < 2)
        theirs.train(step < 2)
        _same_forward_backward(torch, ours, theirs, rng.standard_normal(shape) * 2 + 1)
        for k, v in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), rtol=1e-12)


def _same_forward_backward(torch, ours, theirs, x):
    xo, xt = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    (yo ** 3).sum().backward()
    (yt ** 3).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-10)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-8, atol=1e-10,
                                   err_msg=name)


@pytest.mark.parametrize("device", DEVICES)
def test_group_rms_and_instance_norm_gradients_are_those_of_central_differences(device):
    rng = np.random.default_rng(0)
    x = tr.tensor(rng.standard_normal((2, 4, 3)), device=device, requires_grad=True)
    w, b = (tr.tensor(rng.standard_normal(4), device=device, requires_grad=True)
            for _ in range(2))
    assert gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), [x, w, b])
    assert gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), [x, w, b])
    v = tr.tensor(rng.standard_normal(3), device=device, requires_grad=True)
    assert gradcheck(lambda x, v: F.rms_norm(x, 3, v, 1e-6), [x, v])


def test_batch_norm_refuses_a_bad_batch_before_counting_it():
    bn = nn.BatchNorm1d(3, momentum=None)
    with pytest.raises(TypeError, match="float64 does not match"):
        bn(tr.randn(4, 3).double())
    assert int(bn.num_batches_tracked.item()) == 0


@pytest.mark.torch
def test_instance_norm_with_momentum_none_keeps_its_running_stats_as_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 5))
    theirs = torch.nn.InstanceNorm1d(3, momentum=None, track_running_stats=True,
                                     dtype=torch.float64)
    ours = nn.InstanceNorm1d(3, momentum=None, track_running_stats=True, dtype=np.float64)
    np.testing.assert_allclose(ours(tr.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(),
                               rtol=1e-12)
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[k].numpy(), v.numpy())
    with pytest.raises(ValueError, match="more than 1 position per channel"):
        ours(tr.ones(2, 3, 1, dtype="float64"))


@pytest.mark.torch
@pytest.mark.parametrize("train", [False, True])
def test_instance_norm_takes_float32_running_stats_with_a_float64_input_as_torch(train):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((3, 2, 4))
    ours = tr.nn.InstanceNorm1d(2, track_running_stats=True).train(train)
    theirs = torch.nn.InstanceNorm1d(2, track_running_stats=True).train(train)
    y, z = ours(tr.tensor(x)), theirs(torch.tensor(x))
    assert y.dtype == tr.float64 and ours.running_mean.dtype == tr.float32
    np.testing.assert_allclose(y.numpy(), z.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), atol=1e-7)

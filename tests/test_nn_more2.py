"""More of ``torch.nn``'s module machinery: ``AdaptiveLogSoftmaxWithLoss`` (torch's weights,
outputs, loss, gradients, ``log_prob`` and ``predict``), ``LazyLinear`` (uninitialized
parameters in the state dict, shapes from the first input or from a loaded state, becoming a
``Linear``), ``nn.Buffer``, ``RNNCellBase`` under the cells, ``nn.utils.skip_init``, and
BatchNorm's ``bias=`` keyword."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim

from .conftest import DEVICES


def _to_torch(torch, sd):
    return {k: torch.from_numpy(v.numpy()) for k, v in sd.items()}


# ---- AdaptiveLogSoftmaxWithLoss ----------------------------------------------------------------


def _asm_pair(torch, in_features=6, n_classes=11, cutoffs=(3, 7), div_value=2.0,
              head_bias=True):
    with warnings.catch_warnings():  # a tail of in_features // div_value**i = 0 units
        warnings.simplefilter("ignore", UserWarning)
        theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, list(cutoffs),
                                                     div_value=div_value,
                                                     head_bias=head_bias).double()
    rng = np.random.default_rng(len(cutoffs))  # torch's own draws depend on the tests before
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.tensor(rng.uniform(-1, 1, tuple(p.shape))))
    ours = nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value=div_value,
                                         head_bias=head_bias, dtype="float64")
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


@pytest.mark.torch
@given(n=st.integers(1, 6), cutoffs=st.sampled_from([(3,), (3, 7), (1, 2, 9)]),
       head_bias=st.booleans(), seed=st.integers(0, 2**16))
def test_adaptive_log_softmax_matches_torch(n, cutoffs, head_bias, seed):
    torch = pytest.importorskip("torch")
    ours, theirs = _asm_pair(torch, cutoffs=cutoffs, head_bias=head_bias)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6))
    y = rng.integers(0, 11, n)
    xo, xt = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(xo, tr.tensor(y)), theirs(xt, torch.tensor(y))
    assert out._fields == ref._fields == ("output", "loss")
    np.testing.assert_allclose(out.output.numpy(), ref.output.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(out.loss.item(), ref.loss.item(), rtol=1e-12)
    out.loss.backward()
    ref.loss.backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-14)
    grads = {k: p.grad for k, p in theirs.named_parameters()}
    for k, p in ours.named_parameters():
        if grads[k] is None:  # a cluster no target fell in: no gradient in either
            assert p.grad is None or not p.grad.numpy().any()
        else:
            np.testing.assert_allclose(p.grad.numpy(), grads[k].numpy(), rtol=1e-10,
                                       atol=1e-14)
    lp, lpt = ours.log_prob(tr.tensor(x)), theirs.log_prob(torch.tensor(x))
    np.testing.assert_allclose(lp.numpy(), lpt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.exp(lp.numpy()).sum(1), 1, rtol=1e-12)
    np.testing.assert_array_equal(ours.predict(tr.tensor(x)).numpy(),
                                  theirs.predict(torch.tensor(x)).numpy())


@pytest.mark.torch
def test_adaptive_log_softmax_predicts_outside_the_shortlist_and_takes_one_sample():
    torch = pytest.importorskip("torch")
    ours, theirs = _asm_pair(torch)
    with torch.no_grad():  # the head favours the clusters for some samples
        theirs.head.bias.copy_(torch.tensor([0.0, 0, 0, 4.0, -4.0]))
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(3).standard_normal((40, 6)) * 2
    pred = ours.predict(tr.tensor(x))
    np.testing.assert_array_equal(pred.numpy(), theirs.predict(torch.tensor(x)).numpy())
    assert pred.dtype == np.int64 and (pred.numpy() >= 3).any() and (pred.numpy() < 3).any()
    np.testing.assert_array_equal(pred.numpy(),
                                  theirs.log_prob(torch.tensor(x)).argmax(1).numpy())
    one = ours(tr.tensor(x[0]), tr.tensor(9))  # an unbatched sample, a 0-d target
    ref = theirs(torch.tensor(x[0]), torch.tensor(9))
    assert one.output.shape == tuple(ref.output.shape) == ()
    np.testing.assert_allclose(one.output.item(), ref.output.item(), rtol=1e-12)
    assert ours.log_prob(tr.tensor(x[0])).shape == (11,)
    assert ours.predict(tr.tensor(x[0])).shape == ()


@pytest.mark.torch
def test_adaptive_log_softmax_layout_repr_and_errors():
    torch = pytest.importorskip("torch")
    ours, theirs = _asm_pair(torch, in_features=8, n_classes=10, cutoffs=(3, 6))
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in ours.state_dict().items():
        assert v.shape == tuple(theirs.state_dict()[k].shape)
    back = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6], div_value=2.0,
                                               head_bias=True).double()
    back.load_state_dict(_to_torch(torch, ours.state_dict()))
    assert (ours.shortlist_size, ours.n_clusters, ours.head_size, ours.cutoffs) == \
        (theirs.shortlist_size, theirs.n_clusters, theirs.head_size, theirs.cutoffs)
    for bad in ([], [3, 3], [6, 3], [0, 3], [3, 10], [2.5]):
        with pytest.raises(ValueError, match="cutoffs should be a sequence"):
            nn.AdaptiveLogSoftmaxWithLoss(8, 10, bad)
    x = tr.zeros(2, 8, dtype="float64")
    with pytest.raises(ValueError, match=r"should be in \[0, 9\], but values in \[0, 10\]"):
        ours(x, tr.tensor([0, 10]))
    with pytest.raises(ValueError, match=r"a 1-D target of shape \(3,\) needs a 2-D input with "
                                         r"as many rows"):
        ours(x, tr.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="multi-target is not supported"):
        ours(x, tr.tensor([[0, 1]]))


# ---- LazyLinear ----------------------------------------------------------------------------------


@pytest.mark.torch
def test_lazy_linear_state_and_class_before_and_after_its_first_forward_as_torch():
    torch = pytest.importorskip("torch")
    for bias in (True, False):
        ours, theirs = nn.LazyLinear(5, bias=bias), torch.nn.LazyLinear(5, bias=bias)
        assert repr(ours) == repr(theirs)
        assert ours.in_features == theirs.in_features == 0
        assert ours.has_uninitialized_params() and theirs.has_uninitialized_params()
        sd, sdt = ours.state_dict(), theirs.state_dict()
        assert list(sd) == list(sdt)
        assert all(isinstance(v, nn.UninitializedParameter) for v in sd.values())
        assert isinstance(ours.weight, nn.UninitializedParameter)
        w = ours.weight
        opt = optim.SGD(ours.parameters(), lr=0.1)  # made before: keeps the same objects
        y, yt = ours(tr.randn(2, 3)), theirs(torch.randn(2, 3))
        assert type(ours) is nn.Linear and type(theirs) is torch.nn.Linear
        assert repr(ours) == repr(theirs)
        assert y.shape == tuple(yt.shape) == (2, 5)
        assert ours.weight is w and type(w) is nn.Parameter and w.shape == (5, 3)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert 0 < np.abs(w.numpy()).max() <= 1 / np.sqrt(3)  # Linear's init, in_features 3
        y.sum().backward()
        before = w.numpy().copy()
        opt.step()
        assert not np.array_equal(w.numpy(), before)


@pytest.mark.torch
def test_lazy_linear_loads_a_state_before_its_first_forward():
    torch = pytest.importorskip("torch")
    source = torch.nn.Linear(3, 5).double()
    ours = nn.LazyLinear(5, dtype="float64")
    ours.load_state_dict(source.state_dict())
    assert not ours.has_uninitialized_params() and type(ours) is nn.LazyLinear
    assert ours.weight.shape == (5, 3) and ours.in_features == 0  # as torch's, until a forward
    x = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_allclose(ours(tr.tensor(x)).numpy(),
                               source(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    assert type(ours) is nn.Linear and ours.in_features == 3
    loaded = nn.LazyLinear(5, dtype="float64")
    loaded.load_state_dict(source.state_dict())
    with pytest.raises(ValueError, match=r"the input has 4 features .* expects 3"):
        loaded(tr.zeros(2, 4, dtype="float64"))
    wrong = nn.LazyLinear(5)
    with pytest.raises(RuntimeError, match=r"weight: expected shape \(5, in_features\) for "
                                           r"LazyLinear\(out_features=5\), got \(4, 3\)"):
        wrong.load_state_dict({"weight": np.zeros((4, 3)), "bias": np.zeros(4)})
    assert wrong.has_uninitialized_params()  # nothing was loaded
    moved = nn.LazyLinear(2).to(dtype="float64")
    assert moved(tr.zeros(1, 4, dtype="float64")).dtype == np.float64
    lazy = nn.LazyLinear(2)
    with pytest.raises(TypeError, match="input dtype float64 does not match the parameters' "
                                        "dtype float32"):
        lazy(tr.zeros(1, 4, dtype="float64"))
    assert lazy.has_uninitialized_params() and type(lazy) is nn.LazyLinear  # nothing changed


# ---- nn.Buffer -----------------------------------------------------------------------------------


@pytest.mark.torch
def test_buffer_assignment_registers_a_buffer_as_torch():
    torch = pytest.importorskip("torch")
    for lib, Mod, Buf, make in ((nn, nn.Module, nn.Buffer, tr.ones),
                                (torch.nn, torch.nn.Module, torch.nn.Buffer, torch.ones)):
        m = Mod()
        m.kept = Buf(make(2))
        m.scratch = Buf(make(3), persistent=False)
        assert list(dict(m.named_buffers())) == ["kept", "scratch"]
        assert list(m.state_dict()) == ["kept"]
        m.scratch = make(4)  # a plain tensor into a buffer's name keeps its persistence
        assert list(m.state_dict()) == ["kept"] and m.scratch.shape[0] == 4
        m.plain = 3
        with pytest.raises(KeyError, match="attribute 'plain' already exists"):
            m.plain = Buf(make(1))
        m.w = lib.Parameter(make(1))
        with pytest.raises(TypeError, match="as parameter 'w'"):
            m.w = Buf(make(1))
        assert list(m.parameters()) == [m.w]
    t = tr.tensor([1.0, 2.0], requires_grad=True)
    b = nn.Buffer(t)
    assert isinstance(b, tr.Tensor) and b.requires_grad and b.persistent
    np.testing.assert_array_equal(b.numpy(), [1.0, 2.0])
    assert nn.Buffer().shape == (0,)
    m = nn.Linear(2, 2)
    m.stats = nn.Buffer(tr.zeros(2))
    m.to(dtype="float64")
    assert m.stats.dtype == np.float64 and "stats" in m.state_dict()


# ---- RNNCellBase ---------------------------------------------------------------------------------


@pytest.mark.torch
def test_rnn_cell_base_is_the_cells_base_with_torchs_repr_and_parameters():
    torch = pytest.importorskip("torch")
    for cls in (nn.RNNCell, nn.LSTMCell, nn.GRUCell):
        assert issubclass(cls, nn.RNNCellBase)
    base, tbase = nn.RNNCellBase(3, 4, False, 2), torch.nn.RNNCellBase(3, 4, False, 2)
    assert repr(base) == repr(tbase) == "RNNCellBase(3, 4, bias=False)"
    assert [(k, p.shape) for k, p in base.named_parameters()] == \
        [(k, tuple(p.shape)) for k, p in tbase.named_parameters()]
    w = base.weight_ih
    base.reset_parameters()
    assert base.weight_ih is w and np.abs(w.numpy()).max() <= 0.5  # U(-1/sqrt(4), 1/sqrt(4))
    for name, kwargs in (("RNNCell", {"bias": False, "nonlinearity": "relu"}),
                         ("LSTMCell", {}), ("GRUCell", {"bias": False})):
        ours, theirs = getattr(nn, name)(2, 3, **kwargs), getattr(torch.nn, name)(2, 3, **kwargs)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        ours = getattr(nn, name)(2, 3, dtype="float64", **kwargs)  # the cells work as before
        ours.load_state_dict(theirs.state_dict())
        x = np.random.default_rng(0).standard_normal((4, 2))
        y, yt = ours(tr.tensor(x)), theirs.double()(torch.tensor(x))
        y, yt = (y[0], yt[0]) if isinstance(y, tuple) else (y, yt)
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12)


# ---- nn.utils.skip_init ------------------------------------------------------------------------


def test_skip_init_builds_without_drawing_and_keeps_shapes_dtypes_and_devices():
    tr.manual_seed(7)
    expected = tr.rand(3).numpy()
    tr.manual_seed(7)
    m = nn.utils.skip_init(nn.Linear, 4, 3, dtype="float64", device="strict")
    np.testing.assert_array_equal(tr.rand(3).numpy(), expected)  # the stream is untouched
    assert type(m) is nn.Linear and m.weight.shape == (3, 4) and m.bias.shape == (3,)
    assert m.weight.dtype == np.float64 and m.weight.device == "strict"
    assert m.weight.requires_grad and isinstance(m.weight, nn.Parameter)
    nn.init.zeros_(m.weight)
    assert not m.weight.numpy().any()
    bn = nn.utils.skip_init(nn.BatchNorm1d, 3)
    assert [k for k, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    with pytest.raises(TypeError, match="expected a Module class"):
        nn.utils.skip_init(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="must take a 'device' argument"):
        nn.utils.skip_init(nn.ReLU)


# ---- BatchNorm's bias= ---------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("name", ["BatchNorm1d", "BatchNorm2d", "InstanceNorm1d",
                                  "InstanceNorm2d"])
def test_norms_take_torchs_bias_keyword(name):
    torch = pytest.importorskip("torch")
    for kwargs in ({}, {"bias": False}, {"affine": True, "bias": False}):
        ours, theirs = getattr(nn, name)(3, **kwargs), getattr(torch.nn, name)(3, **kwargs)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())


# ---- the new layers on each device ------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_new_layers_run_through_xp_on_each_device(device):
    rng = np.random.default_rng(0)
    asm = nn.AdaptiveLogSoftmaxWithLoss(4, 8, [2, 5], div_value=2.0, head_bias=True,
                                        device=device)
    with tr.no_grad():
        asm.head.bias.copy_(tr.tensor([0.0, 0.0, 3.0, -3.0], device=device))
    x = tr.tensor(rng.standard_normal((6, 4)), dtype="float32", device=device)
    out = asm(x, tr.tensor([0, 7, 3, 1, 5, 2], device=device))
    out.loss.backward()
    assert out.output.device == device and asm.tail[1][0].weight.grad.device == device
    assert asm.log_prob(x).device == device and asm.predict(x).device == device
    lazy = nn.LazyLinear(3, device=device)
    assert lazy(x).device == device and lazy.weight.device == device
    layers = [nn.Bilinear(4, 4, 2, device=device), nn.BatchNorm3d(2, device=device),
              nn.InstanceNorm3d(2, affine=True, device=device), nn.LocalResponseNorm(2),
              nn.ReflectionPad3d(1), nn.CircularPad2d(1), nn.LPPool2d(2, 2), nn.PixelShuffle(2),
              nn.ChannelShuffle(2), nn.Softmax2d(), nn.RReLU(), nn.Dropout3d(0.5)]
    inputs = [(x, x), (rng.standard_normal((2, 2, 2, 3, 2)),),
              (rng.standard_normal((2, 2, 3, 2)),),
              (rng.standard_normal((2, 4, 3)),), (rng.standard_normal((1, 2, 2, 3, 2)),),
              (rng.standard_normal((2, 3, 4)),), (rng.standard_normal((1, 2, 4, 4)),),
              (rng.standard_normal((1, 8, 2, 2)),), (rng.standard_normal((2, 4, 3)),),
              (rng.standard_normal((2, 3, 2, 2)),), (rng.standard_normal((5, 3)),),
              (rng.standard_normal((2, 2, 2, 2, 2)),)]
    for layer, args in zip(layers, inputs):
        args = [a if isinstance(a, tr.Tensor) else
                tr.tensor(a, dtype="float32", device=device, requires_grad=True) for a in args]
        y = layer(*args)
        assert y.device == device
        y.sum().backward()
    y, i = nn.MaxPool2d(2, return_indices=True)(tr.tensor(rng.standard_normal((1, 2, 4, 4)),
                                                          device=device))
    assert nn.MaxUnpool2d(2)(y, i).device == device

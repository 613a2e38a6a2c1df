"""Activation modules, LayerNorm, nn.init and nn.utils.rnn.pad_sequence: values and gradients
against PyTorch (float64), gradients against central differences on every device, nn.init's
distributions by statistics on large seeded draws, and the errors PyTorch raises."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn
from tinygrad_rnn.nn import init
from tinygrad_rnn.testing import gradcheck, gradgradcheck
from tinygrad_rnn.testing import strategies as tst

from .conftest import DEVICES


def t(a: object, device: str = "cpu", requires_grad: bool = False) -> tr.Tensor:
    return tr.tensor(np.asarray(a, dtype=np.float64), device=device, requires_grad=requires_grad)


def away_from_zero(a: np.ndarray) -> np.ndarray:
    """a with no element within 0.1 of 0 (a kink of relu and leaky_relu: no derivative)."""
    return np.where(np.abs(a) < 0.1, 0.5, a)


# ---- activations ---------------------------------------------------------------------------

# (ours, PyTorch's name and arguments)
ACTIVATIONS = [
    (lambda: nn.ReLU(), "ReLU", {}),
    (lambda: nn.ReLU(inplace=True), "ReLU", {"inplace": True}),
    (lambda: nn.Tanh(), "Tanh", {}),
    (lambda: nn.Sigmoid(), "Sigmoid", {}),
    (lambda: nn.Identity(3, a=4), "Identity", {}),
    (lambda: nn.LeakyReLU(), "LeakyReLU", {}),
    (lambda: nn.LeakyReLU(0.2, inplace=True), "LeakyReLU", {"negative_slope": 0.2,
                                                             "inplace": True}),
    (lambda: nn.Softmax(dim=1), "Softmax", {"dim": 1}),
    (lambda: nn.LogSoftmax(-1), "LogSoftmax", {"dim": -1}),
]
ACT_IDS = ["relu", "relu_inplace", "tanh", "sigmoid", "identity", "leaky_relu",
           "leaky_relu_0.2", "softmax", "log_softmax"]


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("make", "name", "kwargs"), ACTIVATIONS, ids=ACT_IDS)
def test_activation_module_matches_torch(device, make, name, kwargs):
    """Values, gradients (at 0 too, where relu's is 0 and leaky_relu's the slope) and repr."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 2))
    a[0, :2] = 0.0
    g = rng.standard_normal(a.shape)
    ours, theirs = make(), getattr(torch.nn, name)(**kwargs)
    x, xt = t(a, device, True), torch.tensor(a.copy(), requires_grad=True)
    # in-place layers write into their input, which a leaf requiring grad refuses
    out = ours(x * 1 if kwargs.get("inplace") else x)
    ref = theirs(xt * 1 if kwargs.get("inplace") else xt)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-15)
    out.backward(t(g, device))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert repr(ours) == repr(theirs)
    assert list(ours.parameters()) == []


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs"), [("relu", {}), ("tanh", {}), ("sigmoid", {}),
                                             ("leaky_relu", {}),
                                             ("leaky_relu", {"negative_slope": -0.5})])
def test_functional_activation_matches_torch(device, name, kwargs):
    torch = pytest.importorskip("torch")
    a = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    x, xt = t(a, device, True), torch.tensor(a, requires_grad=True)
    out, ref = getattr(F, name)(x, **kwargs), getattr(torch.nn.functional, name)(xt, **kwargs)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("fn", [F.relu, F.tanh, F.sigmoid, F.leaky_relu,
                                lambda x: F.leaky_relu(x, 1.7)],
                         ids=["relu", "tanh", "sigmoid", "leaky_relu", "leaky_relu_1.7"])
@given(a=tst.arrays())
def test_functional_activation_gradcheck(device, fn, a):
    x = t(away_from_zero(a), device, True)
    assert gradcheck(fn, [x])
    assert gradgradcheck(fn, [x])


@pytest.mark.parametrize("cls", [nn.Softmax, nn.LogSoftmax])
def test_softmax_module_without_dim_raises(cls):
    with pytest.raises(TypeError, match="needs dim="):
        cls()


def test_activation_modules_keep_dtype_and_work_in_sequential():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.LogSoftmax(dim=-1))
    y = model(tr.randn(5, 3))
    assert y.dtype == np.float32 and y.shape == (5, 2)
    np.testing.assert_allclose(np.exp(y.numpy()).sum(-1), 1.0, rtol=1e-5)


# ---- LayerNorm -----------------------------------------------------------------------------


@st.composite
def layer_norm_cases(draw):
    """(input shape, normalized_shape, affine, bias): normalized_shape the last 1 to ndim axes."""
    shape = draw(tst.shapes(min_dims=1, max_dims=4, max_side=4))
    k = draw(st.integers(1, len(shape)))
    return shape, shape[len(shape) - k:], draw(st.booleans()), draw(st.booleans())


@pytest.mark.torch
@given(case=layer_norm_cases(), eps=st.sampled_from([1e-5, 1e-3, 0.5]), data=st.data())
def test_layer_norm_matches_torch(case, eps, data):
    """F.layer_norm's value and its gradients for input, weight and bias, float64."""
    torch = pytest.importorskip("torch")
    shape, norm_shape, affine, use_bias = case
    a = data.draw(tst.arrays(shape))
    w, b = data.draw(tst.arrays(norm_shape)), data.draw(tst.arrays(norm_shape))
    g = data.draw(tst.arrays(shape))
    x, xt = t(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    wo, wt = (t(w, requires_grad=True), torch.tensor(w, requires_grad=True)) if affine \
        else (None, None)
    bo, bt = (t(b, requires_grad=True), torch.tensor(b, requires_grad=True)) if use_bias \
        else (None, None)
    out = F.layer_norm(x, norm_shape, wo, bo, eps)
    ref = torch.nn.functional.layer_norm(xt, norm_shape, wt, bt, eps)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-9, atol=1e-10)
    out.backward(t(g))
    ref.backward(torch.tensor(g))
    for ours, theirs in [(x, xt), (wo, wt), (bo, bt)]:
        if ours is not None:
            np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-8,
                                       atol=1e-9)


@pytest.mark.parametrize("device", DEVICES)
@given(case=layer_norm_cases(), data=st.data())
def test_layer_norm_gradcheck(device, case, data):
    shape, norm_shape, _, _ = case
    x = data.draw(tst.tensors(shape, device=device, requires_grad=True))
    w = data.draw(tst.tensors(norm_shape, device=device, requires_grad=True))
    b = data.draw(tst.tensors(norm_shape, device=device, requires_grad=True))
    assert gradcheck(lambda x, w, b: F.layer_norm(x, norm_shape, w, b, eps=1e-3), [x, w, b])


@pytest.mark.parametrize("device", DEVICES)
def test_layer_norm_gradgradcheck(device):
    rng = np.random.default_rng(2)
    x = t(rng.standard_normal((2, 3, 4)), device, True)
    w = t(rng.standard_normal(4), device, True)
    b = t(rng.standard_normal(4), device, True)
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x, 4, w, b), [x, w, b])


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("normalized_shape", "affine", "bias"),
                         [(4, True, True), ([3, 4], True, True), ((4,), True, False),
                          ((3, 4), False, True)])
def test_layer_norm_module_matches_torch(device, normalized_shape, affine, bias):
    """Parameters (names, shapes, ones and zeros), repr, and output with torch's weights."""
    torch = pytest.importorskip("torch")
    kw = {"elementwise_affine": affine, "bias": bias}
    ours = nn.LayerNorm(normalized_shape, **kw, device=device, dtype="float64")
    theirs = torch.nn.LayerNorm(normalized_shape, **kw, dtype=torch.float64)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v, theirs.state_dict()[k].numpy())
    assert all(p.device == device and p.dtype == np.float64 for p in ours.parameters())
    with torch.no_grad():  # non-trivial weights, loaded from torch
        for p in theirs.parameters():
            p.normal_()
    ours.load_state_dict(theirs.state_dict())
    a = np.random.default_rng(3).standard_normal((2, 3, 4))
    np.testing.assert_allclose(ours(t(a, device)).numpy(),
                               theirs(torch.tensor(a)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_layer_norm_module_defaults_and_reset():
    ln = nn.LayerNorm(3)
    assert ln.normalized_shape == (3,) and ln.eps == 1e-5
    assert [n for n, _ in ln.named_parameters()] == ["weight", "bias"]
    assert ln.weight.dtype == np.float32
    w = ln.weight
    with tr.no_grad():
        w += 1.0
    ln.reset_parameters()
    assert ln.weight is w  # in place: an optimizer made before keeps training it
    np.testing.assert_array_equal(w.numpy(), np.ones(3))
    y = ln(tr.randn(2, 3))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy().mean(-1), 0.0, atol=1e-6)
    plain = nn.LayerNorm(3, elementwise_affine=False)
    assert plain.weight is None and plain.bias is None and list(plain.parameters()) == []


@pytest.mark.parametrize(("x_shape", "norm_shape", "match"), [
    ((2, 3), (4,), r"normalized_shape=\(4,\) needs an input of shape \(\*, 4\)"),
    ((3,), (2, 3), "needs an input of shape"),
    ((2, 3), (), "at least one axis"),
])
def test_layer_norm_wrong_shape_raises(x_shape, norm_shape, match):
    with pytest.raises(ValueError, match=match):
        F.layer_norm(tr.zeros(*x_shape), norm_shape)


def test_layer_norm_wrong_weight_raises():
    with pytest.raises(ValueError, match="weight must have the shape"):
        F.layer_norm(tr.zeros(2, 3), 3, weight=tr.ones(2))
    with pytest.raises(TypeError, match="dtype"):
        F.layer_norm(tr.zeros(2, 3), 3, bias=tr.zeros(3, dtype="float64"))


# ---- nn.init -------------------------------------------------------------------------------


@pytest.mark.torch
@given(shape=tst.shapes(min_dims=2, max_dims=5, max_side=5))
def test_fan_in_and_fan_out_match_torch(shape):
    torch = pytest.importorskip("torch")
    assert init._calculate_fan_in_and_fan_out(tr.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(), (5,)])
@pytest.mark.parametrize("fn", [init.xavier_uniform_, init.xavier_normal_,
                                init.kaiming_uniform_, init.kaiming_normal_])
def test_fan_of_fewer_than_two_axes_raises_as_torch(shape, fn):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as theirs:
        getattr(torch.nn.init, fn.__name__)(torch.zeros(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions") as ours:
        fn(tr.zeros(*shape))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.torch
def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    names = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
             "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]
    for name in names:
        for param in [None, 0, 0.2, 3]:
            assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)
    for name, param in [("gelu", None), ("leaky_relu", True), ("leaky_relu", "0.1")]:
        with pytest.raises(ValueError) as theirs:
            torch.nn.init.calculate_gain(name, param)
        with pytest.raises(ValueError) as ours:
            init.calculate_gain(name, param)
        assert str(ours.value) == str(theirs.value)


# (function, keyword arguments, "uniform" or "normal"); the shape below is (out, in, k1, k2)
INITS = [
    (init.uniform_, {"a": -0.5, "b": 2.0}, "uniform"),
    (init.normal_, {"mean": 1.5, "std": 0.3}, "normal"),
    (init.xavier_uniform_, {"gain": 2.0}, "uniform"),
    (init.xavier_normal_, {"gain": 0.5}, "normal"),
    (init.kaiming_uniform_, {}, "uniform"),
    (init.kaiming_uniform_, {"a": math.sqrt(5)}, "uniform"),  # what torch's Linear uses
    (init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "relu"}, "uniform"),
    (init.kaiming_normal_, {"a": 0.1, "mode": "FAN_OUT"}, "normal"),
    (init.kaiming_normal_, {"nonlinearity": "tanh"}, "normal"),
]
INIT_IDS = ["uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform",
            "kaiming_uniform_sqrt5", "kaiming_uniform_fan_out", "kaiming_normal_fan_out",
            "kaiming_normal_tanh"]


@pytest.mark.torch
@pytest.mark.parametrize(("fn", "kwargs", "kind"), INITS, ids=INIT_IDS)
def test_init_distribution_matches_torch(fn, kwargs, kind):
    """The same distribution as torch's, by statistics of 192,000 draws (shape (64, 50, 6, 10):
    fan_in 3000, fan_out 3840). The streams differ, so samples are compared, not values: the
    means agree to 0.02 std (their standard error is 0.0023 std each), the stds to 1% (0.16%
    each), and for a uniform the extremes lie within the same bound, reached to 0.1% (a gap
    above that has probability about exp(-192))."""
    torch = pytest.importorskip("torch")
    shape = (64, 50, 6, 10)
    ours = fn(tr.zeros(*shape, dtype="float64"), **kwargs).numpy()
    theirs = getattr(torch.nn.init, fn.__name__)(torch.zeros(shape, dtype=torch.float64),
                                                 **kwargs).numpy()
    std = theirs.std()
    assert abs(ours.mean() - theirs.mean()) < 0.02 * std
    assert ours.std() == pytest.approx(std, rel=0.01)
    if kind == "uniform":
        lo, hi = min(ours.min(), theirs.min()), max(ours.max(), theirs.max())
        width = hi - lo
        for s in (ours, theirs):
            assert s.min() - lo < 1e-3 * width and hi - s.max() < 1e-3 * width


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("fn", "kwargs", "kind"), INITS, ids=INIT_IDS)
def test_init_in_place_keeps_dtype_device_and_records_nothing(device, dtype, fn, kwargs, kind):
    w = tr.zeros(4, 6, dtype=dtype, device=device, requires_grad=True)
    array_type = type(w._data)
    y = (w * w).sum()  # saved w's zeros before the fill
    out = fn(w, **kwargs)
    assert out is w and w.dtype == dtype and w.device == device and type(w._data) is array_type
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    assert np.all(w.numpy() != 0)
    y.backward()  # the gradient of the forward that ran: 2 · 0
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((4, 6)))


@pytest.mark.parametrize(("fn", "kwargs", "kind"), INITS, ids=INIT_IDS)
def test_init_follows_manual_seed_on_every_device(fn, kwargs, kind):
    draws = []
    for device in ["cpu", "strict"]:
        tr.manual_seed(7)
        draws.append(fn(tr.zeros(3, 5, device=device), **kwargs).numpy())
    tr.manual_seed(8)
    other = fn(tr.zeros(3, 5), **kwargs).numpy()
    np.testing.assert_array_equal(draws[0], draws[1])
    assert not np.array_equal(draws[0], other)
    a = fn(tr.zeros(3, 5), **kwargs, generator=np.random.default_rng(1)).numpy()
    b = fn(tr.zeros(3, 5), **kwargs, generator=np.random.default_rng(1)).numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("device", DEVICES)
def test_constant_zeros_ones(device):
    w = tr.zeros(2, 3, device=device)
    assert init.constant_(w, 0.25) is w
    np.testing.assert_array_equal(w.numpy(), np.full((2, 3), 0.25, np.float32))
    np.testing.assert_array_equal(init.ones_(w).numpy(), np.ones((2, 3)))
    np.testing.assert_array_equal(init.zeros_(w).numpy(), np.zeros((2, 3)))
    i = tr.zeros(3, dtype="int64", device=device)
    assert init.constant_(i, 2.5).numpy().tolist() == [2, 2, 2]  # cast, as torch's
    assert i.dtype == np.int64


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (6, 2, 3), (2, 3, 4), (1, 7)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_rows_or_columns_orthonormal_times_gain(device, shape, gain):
    w = init.orthogonal_(tr.zeros(*shape, dtype="float64", device=device), gain=gain)
    assert w.shape == shape and w.device == device
    m = w.numpy().reshape(shape[0], -1)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram, gain**2 * np.eye(len(gram)), atol=1e-12)


def test_orthogonal_is_uniform_in_sign():
    """Without the sign correction, QR's Q has a biased diagonal (LAPACK makes R's positive or
    negative by convention); with it, each diagonal entry's mean over many draws is about 0."""
    tr.manual_seed(0)
    diag = np.array([np.diag(init.orthogonal_(tr.zeros(3, 3, dtype="float64")).numpy())
                     for _ in range(2000)])
    assert np.all(np.abs(diag.mean(0)) < 0.05)  # one entry: std 1/√3, so 0.05 is 3.9 SE


def test_init_errors_and_edge_cases():
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(tr.zeros(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(tr.zeros(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="from=1"):
        init.uniform_(tr.zeros(3), 1, 0)
    with pytest.raises(ValueError, match="std >= 0"):
        init.normal_(tr.zeros(3), 0, -1)
    with pytest.raises(TypeError, match="floating-point"):
        init.uniform_(tr.zeros(3, dtype="int64"))
    with pytest.raises(TypeError, match="expected a Tensor"):
        init.normal_(np.zeros(3))
    empty = tr.zeros(0, 3)
    for fn in (init.kaiming_uniform_, init.kaiming_normal_):
        with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
            assert fn(empty) is empty
    assert init.orthogonal_(empty) is empty


def test_init_applies_to_a_model():
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))

    def xavier(m):
        if isinstance(m, nn.Linear):
            init.xavier_uniform_(m.weight, gain=init.calculate_gain("tanh"))
            init.zeros_(m.bias)

    model.apply(xavier)
    assert np.abs(model[0].weight.numpy()).max() <= 5 / 3 * math.sqrt(6 / 12)
    assert not model[2].bias.numpy().any()
    assert nn.init is init


# ---- pad_sequence --------------------------------------------------------------------------


@st.composite
def sequence_batches(draw):
    """(lengths, trailing shape): 1 to 4 sequences of lengths 0 to 4."""
    lengths = draw(st.lists(st.integers(0, 4), min_size=1, max_size=4))
    return lengths, draw(tst.shapes(min_dims=0, max_dims=2, max_side=3))


@pytest.mark.torch
@given(batch=sequence_batches(), batch_first=st.booleans(),
       side=st.sampled_from(["right", "left"]), value=st.sampled_from([0.0, -1.5]),
       data=st.data())
def test_pad_sequence_matches_torch(batch, batch_first, side, value, data):
    torch = pytest.importorskip("torch")
    from tinygrad_rnn.nn.utils.rnn import pad_sequence

    lengths, rest = batch
    arrays = [data.draw(tst.arrays((n, *rest))) for n in lengths]
    ours = [t(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = pad_sequence(ours, batch_first=batch_first, padding_value=value, padding_side=side)
    ref = torch.nn.utils.rnn.pad_sequence(theirs, batch_first=batch_first,
                                          padding_value=value, padding_side=side)
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    g = data.draw(tst.arrays(tuple(ref.shape)))
    out.backward(t(g))
    ref.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


@pytest.mark.parametrize("device", DEVICES)
@given(batch=sequence_batches(), batch_first=st.booleans(),
       side=st.sampled_from(["right", "left"]), data=st.data())
def test_pad_sequence_gradcheck(device, batch, batch_first, side, data):
    lengths, rest = batch
    seqs = [data.draw(tst.tensors((n, *rest), device=device, requires_grad=True))
            for n in lengths]
    fn = lambda *s: nn.utils.rnn.pad_sequence(s, batch_first, 0.5, side)  # noqa: E731
    assert gradcheck(fn, seqs)


@pytest.mark.torch
def test_pad_sequence_dtype_and_tensor_input_as_torch():
    torch = pytest.importorskip("torch")
    pad = nn.utils.rnn.pad_sequence
    tpad = torch.nn.utils.rnn.pad_sequence
    ints = [np.array([1, 2]), np.array([3])]
    out = pad([tr.tensor(a) for a in ints], padding_value=2.7)  # cast to int64: 2
    ref = tpad([torch.tensor(a) for a in ints], padding_value=2.7)
    assert out.dtype == np.int64 and out.numpy().tolist() == ref.tolist()
    mixed = pad([tr.ones(2), tr.ones(1, dtype="float64")])  # the first's dtype, as torch's
    assert mixed.dtype == np.float32
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(pad(t(a)).numpy(), tpad(torch.tensor(a)).numpy())


def test_pad_sequence_errors():
    pad = nn.utils.rnn.pad_sequence
    with pytest.raises(ValueError, match="empty list"):
        pad([])
    with pytest.raises(ValueError, match=r"shape \(L, 3\) of the first, got \(1, 4\)"):
        pad([tr.zeros(2, 3), tr.zeros(1, 4)])
    with pytest.raises(ValueError, match="padding_side"):
        pad([tr.zeros(2)], padding_side="middle")
    with pytest.raises(ValueError, match="0-d"):
        pad([tr.zeros(2), tr.tensor(1.0)])
    with pytest.raises(TypeError, match="list"):
        pad([tr.zeros(2), [1.0]])


def test_pad_sequence_import_paths():
    import tinygrad_rnn.nn.utils.rnn as rnn_utils
    from tinygrad_rnn.nn.utils.rnn import pad_sequence

    assert nn.utils.rnn is rnn_utils and rnn_utils.pad_sequence is pad_sequence
    assert nn.utils.clip_grad_norm_ is not None  # nn.utils is still the module it was


# ---- Embedding.from_pretrained ---------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("freeze", [True, False])
@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding_from_pretrained_matches_torch(freeze, padding_idx):
    """The weight's values (the padding row kept), requires_grad, lookups and gradients, as
    torch's; the weight is a copy, and no random number is drawn."""
    torch = pytest.importorskip("torch")
    w = np.random.default_rng(0).standard_normal((5, 3))
    source = t(w)
    state = tr.random.generator().bit_generator.state
    ours = nn.Embedding.from_pretrained(source, freeze=freeze, padding_idx=padding_idx)
    assert tr.random.generator().bit_generator.state == state
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=freeze,
                                                padding_idx=padding_idx)
    assert repr(ours) == repr(theirs)
    assert ours.weight.requires_grad == theirs.weight.requires_grad == (not freeze)
    assert ours.weight.dtype == np.float64
    np.testing.assert_array_equal(ours.weight.numpy(), w)
    idx = [[0, 1, 4], [1, 1, 3]]
    out, ref = ours(idx), theirs(torch.tensor(idx))
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    if not freeze:
        (out * out).sum().backward()
        (ref * ref).sum().backward()
        np.testing.assert_array_equal(ours.weight.grad.numpy(), theirs.weight.grad.numpy())
        ours.weight.data[0, 0] = 7.0
        assert source.numpy()[0, 0] == w[0, 0]  # a copy: the source does not change


@pytest.mark.parametrize("device", DEVICES)
def test_embedding_from_pretrained_keeps_device_and_dtype(device):
    w = tr.tensor(np.ones((3, 2), dtype=np.float32), device=device)
    e = nn.Embedding.from_pretrained(w)
    assert e.weight.device == device and e.weight.dtype == np.float32
    e64 = nn.Embedding.from_pretrained(np.ones((3, 2)), dtype="float32", device=device)
    assert e64.weight.device == device and e64.weight.dtype == np.float32
    with pytest.raises(ValueError, match=r"must be 2-D \(num_embeddings, embedding_dim\), got "
                                         r"shape \(3,\)"):
        nn.Embedding.from_pretrained(np.ones(3))
    with pytest.raises(TypeError, match="must be a floating-point one, got int64"):
        nn.Embedding.from_pretrained(np.ones((3, 2), dtype=np.int64))
    with pytest.raises(ValueError, match=r"padding_idx must be an index in \[-3, 3\)"):
        nn.Embedding.from_pretrained(np.ones((3, 2)), padding_idx=3)
    with pytest.raises(ValueError, match=r"_weight has shape \(4, 3\), expected \(5, 3\)"):
        nn.Embedding(5, 3, _weight=np.ones((4, 3)))
    listed = nn.Embedding.from_pretrained([[1.0, 2.0]], device=device)
    assert listed.weight.dtype == np.float32  # a list, as tr.tensor takes it


@pytest.mark.torch
def test_data_parallel_on_one_device_is_the_module_with_torchs_names():
    """``nn.DataParallel(model)`` runs the model; its state dict's names start with
    ``module.``, as PyTorch's, so checkpoints of wrapped models move both ways."""
    torch = pytest.importorskip("torch")
    ours = nn.DataParallel(nn.LSTM(3, 4))
    theirs = torch.nn.DataParallel(torch.nn.LSTM(3, 4))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(tr.tensor(x))[0].numpy(),
                               theirs(torch.tensor(x))[0].detach().numpy(), atol=1e-6)
    assert ours.module.hidden_size == 4
    with pytest.raises(ValueError, match="one device; give at most one"):
        nn.DataParallel(nn.Linear(2, 2), device_ids=[0, 1])


# (functional name, extra arguments): every activation and dropout that takes ``inplace=``
INPLACE = [("relu", ()), ("relu6", ()), ("leaky_relu", (0.2,)), ("elu", (0.7,)),
           ("celu", (1.5,)), ("selu", ()), ("hardtanh", (-0.5, 0.8)), ("threshold", (0.1, -2.0)),
           ("rrelu", (0.1, 0.3)), ("hardsigmoid", ()), ("hardswish", ()), ("silu", ()),
           ("mish", ()), ("dropout", (0.0,)), ("alpha_dropout", (0.5, False)),
           ("dropout1d", (0.0,)), ("dropout2d", (0.0,)), ("dropout3d", (0.0,)),
           ("feature_alpha_dropout", (0.5, False))]


@pytest.mark.torch
@pytest.mark.parametrize(("name", "args"), INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_true_writes_into_the_input_as_torch(name, args):
    """``inplace=True`` returns the input itself, holding the result; a view writes through
    to its base; the gradient is the out-of-place one; a leaf that requires grad is
    refused (as RuntimeError, PyTorch's class)."""
    torch = pytest.importorskip("torch")
    shape = {"dropout1d": (3, 4, 5), "dropout2d": (2, 3, 4, 5)}.get(name, (2, 3, 4, 5, 2))
    a = np.random.default_rng(3).uniform(-4, 4, shape)
    g = np.random.default_rng(4).standard_normal(a.shape)
    x, xt = t(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = x * 1, xt * 1
    out = getattr(F, name)(y, *args, inplace=True)
    ref = getattr(torch.nn.functional, name)(yt, *args, inplace=True)
    assert out is y and ref is yt
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-15)
    out.backward(t(g))
    ref.backward(torch.tensor(g))
    # (rtol: torch's hardsigmoid and celu gradients use float32 constants, docs/pytorch.md)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-7, atol=1e-15)
    try:  # a leaf: refused as torch refuses it (a dropout that changes nothing is not)
        getattr(torch.nn.functional, name)(torch.tensor(a, requires_grad=True), *args,
                                           inplace=True)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="requires grad"):
            getattr(F, name)(t(a, requires_grad=True), *args, inplace=True)
    else:
        leaf = t(a, requires_grad=True)
        assert getattr(F, name)(leaf, *args, inplace=True) is leaf
    base = t(a)
    getattr(F, name)(base[1:], *args, inplace=True)  # a view: the base sees the write
    tb = torch.tensor(a)
    getattr(torch.nn.functional, name)(tb[1:], *args, inplace=True)
    np.testing.assert_allclose(base.numpy(), tb.numpy(), rtol=1e-12, atol=1e-15)


def test_inplace_modules_write_into_their_input_and_dropout_keeps_its_mask():
    y = t(np.linspace(-2, 2, 12).reshape(3, 4))
    assert nn.ReLU(inplace=True)(y) is y and float(y.min()) == 0.0
    tr.manual_seed(5)
    z = t(np.ones((40, 50)))
    out = nn.Dropout(0.5, inplace=True)(z)
    tr.manual_seed(5)
    fresh = nn.Dropout(0.5)(t(np.ones((40, 50))))
    assert out is z
    np.testing.assert_array_equal(z.numpy(), fresh.numpy())  # the same draw, written into z
    assert set(np.unique(z.numpy())) == {0.0, 2.0}

"""The tail of nn against torch.nn in float64: the lazy convolutions and normalisations (state
before and after the first forward, classes, loading shapes, values and gradients, weights
moving both ways), ``UninitializedBuffer``, ``SyncBatchNorm`` and ``convert_sync_batchnorm``,
``nn.utils.fusion``, ``nn.utils.stateless``, ``nn.utils.convert_parameters``, the hook-based
``nn.utils.spectral_norm``; and ``tr.func.stack_module_state`` (the vmap ensemble recipe) and
``replace_all_batch_norm_modules_``."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn.func import (
    functional_call,
    replace_all_batch_norm_modules_,
    stack_module_state,
    vmap,
)

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _to_torch(sd):
    return {k: torch.from_numpy(np.array(v.numpy())) for k, v in sd.items()}


def _close(a, b, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol)


def _forward_backward(ours, theirs, x):
    """Run both on the same float64 input; compare output, input gradient and every
    parameter's gradient (cleared first)."""
    for p in [*ours.parameters(), *theirs.parameters()]:
        p.grad = None
    xo = tr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    _close(yo, yt)
    w = np.random.default_rng(1).standard_normal(yt.shape)
    (yo * tr.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    _close(xo.grad, xt.grad)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close(p.grad, theirs_params[name].grad)


RNG = np.random.default_rng(0)

CONVS = [
    ("LazyConv1d", dict(out_channels=4, kernel_size=3), (2, 3, 7)),
    ("LazyConv1d", dict(out_channels=4, kernel_size=2, groups=2, bias=False), (2, 6, 5)),
    ("LazyConv2d", dict(out_channels=3, kernel_size=(2, 3), stride=2, padding=1), (2, 2, 6, 7)),
    ("LazyConv2d", dict(out_channels=4, kernel_size=3, padding="same",
                        padding_mode="reflect"), (3, 5, 5)),
    ("LazyConv3d", dict(out_channels=2, kernel_size=2, dilation=(1, 2, 1)), (1, 2, 4, 5, 3)),
    ("LazyConvTranspose1d", dict(out_channels=4, kernel_size=3, stride=2, output_padding=1,
                                 groups=2), (2, 4, 5)),
    ("LazyConvTranspose2d", dict(out_channels=3, kernel_size=2, bias=False), (2, 2, 3, 4)),
    ("LazyConvTranspose3d", dict(out_channels=2, kernel_size=(1, 2, 2), padding=(0, 1, 0)),
     (1, 3, 2, 3, 3)),
]


@pytest.mark.parametrize(("cls", "kwargs", "shape"), CONVS)
def test_lazy_conv_state_class_and_values_as_torch(cls, kwargs, shape):
    ours = getattr(nn, cls)(**kwargs, dtype="float64")
    theirs = getattr(torch.nn, cls)(**kwargs, dtype=torch.float64)
    assert repr(ours) == repr(theirs) and ours.in_channels == theirs.in_channels == 0
    assert ours.has_uninitialized_params() and theirs.has_uninitialized_params()
    sd = ours.state_dict()
    assert list(sd) == list(theirs.state_dict())
    assert all(isinstance(v, nn.UninitializedParameter) for v in sd.values())
    x = RNG.standard_normal(shape)
    w = ours.weight
    opt = optim.SGD(ours.parameters(), lr=0.1)  # made before: the same objects after
    y, yt = ours(tr.tensor(x)), theirs(torch.tensor(x))
    assert type(ours).__name__ == type(theirs).__name__ == cls[4:]
    assert type(ours) is getattr(nn, cls[4:])
    assert repr(ours) == repr(theirs) and y.shape == tuple(yt.shape)
    assert ours.weight is w and type(w) is nn.Parameter and w.shape == tuple(theirs.weight.shape)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    fan_in = np.prod(w.shape[1:])
    assert 0 < np.abs(w.numpy()).max() <= 1 / np.sqrt(fan_in)  # the plain layer's init
    y.sum().backward()
    before = w.numpy().copy()
    opt.step()
    assert not np.array_equal(w.numpy(), before)
    # weights both ways: torch's into ours, then ours (the plain class) into a torch lazy one
    ours.load_state_dict(theirs.state_dict())
    _forward_backward(ours, theirs, x)
    back = getattr(torch.nn, cls)(**kwargs, dtype=torch.float64)
    back.load_state_dict(_to_torch(ours.state_dict()))
    _close(back(torch.tensor(x)), ours(tr.tensor(x)))


@pytest.mark.parametrize(("cls", "kwargs", "shape"), CONVS[::2])
def test_lazy_conv_loads_a_state_before_its_first_forward(cls, kwargs, shape):
    plain = getattr(torch.nn, cls)(**kwargs, dtype=torch.float64)
    plain(torch.zeros(shape, dtype=torch.float64))  # materialized by torch
    ours = getattr(nn, cls)(**kwargs, dtype="float64")
    ours.load_state_dict(plain.state_dict())
    assert not ours.has_uninitialized_params() and type(ours) is getattr(nn, cls)
    assert ours.in_channels == 0  # as torch's, until a forward
    x = RNG.standard_normal(shape)
    _forward_backward(ours, plain, x)
    assert type(ours) is getattr(nn, cls[4:]) and ours.in_channels == plain.in_channels
    wrong = getattr(nn, cls)(**kwargs, dtype="float64")
    wrong.load_state_dict(plain.state_dict())
    bad = list(shape)
    bad[1] += 2
    with pytest.raises(ValueError, match="the loaded weight of shape .* expects"):
        wrong(tr.zeros(*bad, dtype="float64"))


def test_lazy_conv_refuses_before_changing_anything():
    lazy = nn.LazyConv2d(4, 3)
    with pytest.raises(RuntimeError, match=r"weight: expected shape \(4, in_channels / 1, 3, "
                                           r"3\) for LazyConv2d, got \(4, 2, 3\)"):
        lazy.load_state_dict({"weight": np.zeros((4, 2, 3)), "bias": np.zeros(4)})
    with pytest.raises(RuntimeError, match=r"bias: expected shape \(4,\)"):
        lazy.load_state_dict({"weight": np.zeros((4, 2, 3, 3)), "bias": np.zeros(5)})
    with pytest.raises(ValueError, match="expected a 3-D or 4-D input"):
        lazy(tr.zeros(1, 1, 2, 5, 5))
    with pytest.raises(TypeError, match="input dtype float64 does not match"):
        lazy(tr.zeros(1, 2, 5, 5, dtype="float64"))
    grouped = nn.LazyConv1d(4, 3, groups=2)
    with pytest.raises(ValueError, match=r"in_channels \(3, .*\) must be divisible by groups"):
        grouped(tr.zeros(1, 3, 5))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.LazyConv1d(3, 3, groups=2)
    for m in (lazy, grouped):
        assert m.has_uninitialized_params() and type(m).__name__.startswith("Lazy")
    unbatched = nn.LazyConv1d(2, 2)
    assert unbatched(tr.zeros(3, 5)).shape == (2, 4) and unbatched.in_channels == 3


NORMS = [("LazyBatchNorm1d", (4, 3)), ("LazyBatchNorm1d", (4, 3, 5)),
         ("LazyBatchNorm2d", (3, 2, 4, 4)), ("LazyBatchNorm3d", (2, 3, 2, 3, 2)),
         ("LazyInstanceNorm1d", (2, 3, 6)), ("LazyInstanceNorm2d", (2, 3, 4, 5)),
         ("LazyInstanceNorm3d", (2, 2, 3, 3, 2))]


@pytest.mark.parametrize(("cls", "shape"), NORMS)
@pytest.mark.parametrize("options", [{}, {"affine": False}, {"track_running_stats": False},
                                     {"bias": False, "momentum": None}])
def test_lazy_norms_as_torch(cls, shape, options):
    ours = getattr(nn, cls)(**options, dtype="float64")
    theirs = getattr(torch.nn, cls)(**options, dtype=torch.float64)
    assert repr(ours) == repr(theirs)
    sd, sdt = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(sdt)
    assert [type(v).__name__ for v in sd.values()] == \
        [type(v).__name__.replace("Tensor", "Tensor") for v in sdt.values()]
    x = RNG.standard_normal(shape)
    _forward_backward(ours, theirs, x)  # training mode: batch statistics
    assert type(ours) is getattr(nn, cls[4:]) and type(theirs) is getattr(torch.nn, cls[4:])
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        _close(ours.state_dict()[k], v)  # running statistics updated alike
    if "track_running_stats" not in options:
        assert type(ours.running_mean) is tr.Tensor
        ours.eval()
        theirs.eval()
        _forward_backward(ours, theirs, x * 2 + 1)


def test_lazy_norm_loads_moves_and_refuses():
    plain = torch.nn.BatchNorm2d(3, dtype=torch.float64)
    plain(torch.randn(4, 3, 2, 2, dtype=torch.float64))
    ours = nn.LazyBatchNorm2d(dtype="float64")
    ours.load_state_dict(plain.state_dict())
    assert not ours.has_uninitialized_params()
    plain.eval()
    ours.eval()
    x = RNG.standard_normal((2, 3, 2, 2))
    _forward_backward(ours, plain, x)
    assert type(ours) is nn.BatchNorm2d and ours.num_features == 3
    # moved before the first forward, inside a container: the buffers stay uninitialized
    net = nn.Sequential(nn.LazyConv1d(4, 2), nn.LazyBatchNorm1d()).to(dtype="float64")
    assert isinstance(net[1].running_mean, nn.UninitializedBuffer)
    assert net[1].running_mean.dtype == np.float64 and net[1].has_uninitialized_params()
    assert isinstance(net[1].state_dict()["running_var"], nn.UninitializedBuffer)
    assert net(tr.zeros(2, 3, 5, dtype="float64")).dtype == np.float64
    assert net[1].running_mean.shape == (4,) and net[1].running_mean.dtype == np.float64
    wrong = nn.LazyBatchNorm1d()
    with pytest.raises(RuntimeError, match=r"running_var: expected shape \(3,\), as the values "
                                           r"loaded beside it, got \(4,\)"):
        wrong.load_state_dict({"weight": np.ones(3), "bias": np.zeros(3),
                               "running_mean": np.zeros(3), "running_var": np.ones(4),
                               "num_batches_tracked": np.array(0)})
    assert wrong.has_uninitialized_params()
    with pytest.raises(ValueError, match="expected a 2-D or 3-D input"):
        wrong(tr.zeros(2, 3, 4, 5))
    assert wrong.has_uninitialized_params()
    # nothing lazy: num_features still comes from the input
    bare = nn.LazyBatchNorm1d(affine=False, track_running_stats=False)
    assert not bare.has_uninitialized_params()
    assert bare(tr.randn(4, 5)).shape == (4, 5) and bare.num_features == 5
    # an unbatched instance norm reads axis 0 (PyTorch's reads axis 1 and then refuses it)
    inst = nn.LazyInstanceNorm1d()
    assert inst(tr.randn(3, 6)).shape == (3, 6) and inst.num_features == 3


def test_uninitialized_buffer_as_torch():
    b = nn.UninitializedBuffer(dtype="float64")
    t = torch.nn.UninitializedBuffer(dtype=torch.float64)
    assert repr(b) == repr(t) == "<UninitializedBuffer>"
    assert b.shape == (0,) and b.dtype == np.float64 and not b.requires_grad
    assert b.persistent and not nn.UninitializedBuffer(persistent=False).persistent
    b.materialize((2, 3))
    t.materialize((2, 3))
    assert type(b) is tr.Tensor and type(t) is torch.Tensor
    assert b.shape == tuple(t.shape) and not b.numpy().any()
    m = nn.Module()
    off = nn.UninitializedBuffer(persistent=False)
    m.register_buffer("stats", off, persistent=off.persistent)
    assert "stats" not in m.state_dict() and m.stats is off


@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 2, 2), (2, 3, 2, 1, 2),
                                   (2, 3, 1, 2, 2, 2)])
def test_sync_batch_norm_is_batch_norm_of_any_rank_as_torch(shape):
    ours = nn.SyncBatchNorm(3, momentum=0.3, dtype="float64")
    theirs = torch.nn.SyncBatchNorm(3, momentum=0.3, dtype=torch.float64)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() + 0.5 for k, v in theirs.state_dict().items()})
    theirs.load_state_dict({k: v + 0.5 if v.is_floating_point() else v
                            for k, v in theirs.state_dict().items()})
    ours.num_batches_tracked.zero_()
    x = RNG.standard_normal(shape)
    _forward_backward(ours, theirs, x)
    for k, v in theirs.state_dict().items():
        _close(ours.state_dict()[k], v)
    ours.eval()
    theirs.eval()
    _forward_backward(ours, theirs, x)
    with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
        ours(tr.zeros(3))


def test_convert_sync_batchnorm_shares_tensors_as_torch():
    def build(lib):
        return lib.nn.Sequential(lib.nn.Conv2d(2, 3, 1), lib.nn.BatchNorm2d(3),
                                 lib.nn.Sequential(lib.nn.BatchNorm1d(3, affine=False)),
                                 lib.nn.InstanceNorm1d(3))

    ours, theirs = build(tr), build(torch)
    ours[1].eval()
    theirs[1].eval()
    bn = ours[1]
    conv_o = nn.SyncBatchNorm.convert_sync_batchnorm(ours)
    conv_t = torch.nn.SyncBatchNorm.convert_sync_batchnorm(theirs)
    assert [type(m).__name__ for m in conv_o.modules()] == \
        [type(m).__name__ for m in conv_t.modules()]
    assert list(conv_o.state_dict()) == list(conv_t.state_dict())
    assert conv_o[1].weight is bn.weight and conv_o[1].running_mean is bn.running_mean
    assert not conv_o[1].training and conv_o[2][0].training
    single = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(2, dtype="float64"))
    assert type(single) is nn.SyncBatchNorm and single.weight.dtype == np.float64


# ---- fusion ------------------------------------------------------------------------------


def _bn_pair(lib, c, d, affine=True):
    bn = getattr(lib.nn, f"BatchNorm{d}d")(c, affine=affine)
    return bn


def _randomize(ours, theirs):
    """Random float64 values for every tensor of ours, copied into theirs."""
    ours.to(dtype="float64")
    theirs.double()
    state = {}
    for k, v in ours.state_dict().items():
        if v.dtype.kind == "f":
            r = RNG.standard_normal(v.shape)
            state[k] = np.abs(r) + 0.5 if "var" in k else r
        else:
            state[k] = v.numpy()
    ours.load_state_dict(state)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})


@pytest.mark.parametrize(("conv", "d", "transpose", "bias", "affine"),
                         [("Conv1d", 1, False, True, True), ("Conv2d", 2, False, False, True),
                          ("Conv3d", 3, False, True, False),
                          ("ConvTranspose2d", 2, True, True, True),
                          ("ConvTranspose1d", 1, True, False, False)])
def test_fuse_conv_bn_equals_the_pair_and_torchs_fusion(conv, d, transpose, bias, affine):
    ours = nn.Sequential(getattr(nn, conv)(2, 4, 3, bias=bias), _bn_pair(tr, 4, d, affine))
    theirs = torch.nn.Sequential(getattr(torch.nn, conv)(2, 4, 3, bias=bias),
                                 _bn_pair(torch, 4, d, affine))
    _randomize(ours, theirs)
    ours.eval()
    theirs.eval()
    x = RNG.standard_normal((2, 2) + (5,) * d)
    fused = nn.utils.fuse_conv_bn_eval(ours[0], ours[1], transpose=transpose)
    fused_t = torch.nn.utils.fuse_conv_bn_eval(theirs[0], theirs[1], transpose=transpose)
    assert type(fused) is type(ours[0]) and fused is not ours[0]
    _close(fused(tr.tensor(x)), ours(tr.tensor(x)))
    _close(fused.weight, fused_t.weight)
    _close(fused.bias, fused_t.bias)
    assert fused.bias.requires_grad == fused_t.bias.requires_grad
    assert fused.weight.requires_grad and ours[0].bias is (None if not bias else ours[0].bias)


def test_fuse_linear_bn_and_the_weights_functions_as_torch():
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    _randomize(ours, theirs)
    ours.eval()
    theirs.eval()
    x = RNG.standard_normal((5, 3))
    fused = nn.utils.fuse_linear_bn_eval(ours[0], ours[1])
    fused_t = torch.nn.utils.fuse_linear_bn_eval(theirs[0], theirs[1])
    _close(fused(tr.tensor(x)), ours(tr.tensor(x)))
    _close(fused(tr.tensor(x)), fused_t(torch.tensor(x)))
    lin, bn = ours[0], ours[1]
    w, b = nn.utils.fusion.fuse_linear_bn_weights(lin.weight, None, bn.running_mean,
                                                  bn.running_var, bn.eps, bn.weight, bn.bias)
    wt, bt = torch.nn.utils.fusion.fuse_linear_bn_weights(
        theirs[0].weight, None, theirs[1].running_mean, theirs[1].running_var, theirs[1].eps,
        theirs[1].weight, theirs[1].bias)
    _close(w, wt)
    _close(b, bt)
    assert isinstance(w, nn.Parameter) and not b.requires_grad and not bt.requires_grad
    ours.train()
    with pytest.raises(ValueError, match="fusion only for eval"):
        nn.utils.fuse_linear_bn_eval(ours[0], ours[1])
    ours.eval()
    with pytest.raises(ValueError, match=r"linear.out_features \(4\) must equal "
                                         r"bn.num_features \(3\)"):
        nn.utils.fuse_linear_bn_eval(ours[0], nn.BatchNorm1d(3).eval())
    with pytest.raises(ValueError, match="no running statistics"):
        nn.utils.fuse_conv_bn_eval(nn.Conv1d(1, 3, 1).eval(),
                                   nn.BatchNorm1d(3, track_running_stats=False).eval())


# ---- stateless, convert_parameters -------------------------------------------------------


def test_stateless_functional_call_warns_then_is_func_functional_call():
    lin = nn.Linear(3, 2)
    params = {"weight": tr.ones(2, 3), "bias": tr.zeros(2)}
    x = tr.randn(4, 3)
    with pytest.warns(FutureWarning, match="stateless.functional_call` is deprecated"):
        y = nn.utils.stateless.functional_call(lin, params, (x,))
    _close(y, functional_call(lin, params, (x,)))
    _close(y, x.sum(1, keepdims=True) * tr.ones(1, 2))
    from tinygrad_rnn.nn.utils.convert_parameters import (
        parameters_to_vector,
        vector_to_parameters,
    )

    assert parameters_to_vector is nn.utils.parameters_to_vector
    assert vector_to_parameters is nn.utils.vector_to_parameters
    assert parameters_to_vector(lin.parameters()).shape == (8,)


# ---- the hook-based spectral_norm -----------------------------------------------------------


@pytest.mark.parametrize(("make", "shape", "n_iter"),
                         [(lambda lib: lib.nn.Linear(4, 3), (5, 4), 1),
                          (lambda lib: lib.nn.Conv2d(2, 3, 2), (2, 2, 4, 4), 3),
                          (lambda lib: lib.nn.ConvTranspose1d(2, 3, 2), (2, 2, 5), 2)])
def test_old_spectral_norm_matches_torch_step_for_step(make, shape, n_iter):
    theirs = torch.nn.utils.spectral_norm(make(torch).double(), n_power_iterations=n_iter)
    ours = nn.utils.spectral_norm(make(tr).to(dtype="float64"), n_power_iterations=n_iter)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict(theirs.state_dict())  # the same u and v to start from
    x = RNG.standard_normal(shape)
    for _ in range(3):  # training: each forward runs the power iterations
        _forward_backward(ours, theirs, x)
        _close(ours.weight_u, theirs.weight_u)
        _close(ours.weight_v, theirs.weight_v)
        _close(ours.weight, theirs.weight)
    ours.eval()
    theirs.eval()
    u = ours.weight_u.numpy().copy()
    _forward_backward(ours, theirs, x)
    np.testing.assert_array_equal(ours.weight_u.numpy(), u)  # eval: no iteration
    back = nn.utils.spectral_norm(make(tr).to(dtype="float64"), n_power_iterations=n_iter)
    back.load_state_dict(ours.state_dict())
    theirs2 = torch.nn.utils.spectral_norm(make(torch).double(), n_power_iterations=n_iter)
    theirs2.load_state_dict(_to_torch(ours.state_dict()))
    theirs2.eval()
    back.eval()
    _close(back(tr.tensor(x)), theirs2(torch.tensor(x)))
    nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _close(ours.weight, theirs.weight)
    assert isinstance(ours.weight, nn.Parameter)


def test_old_spectral_norm_errors():
    lin = nn.utils.spectral_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        nn.utils.spectral_norm(lin)
    with pytest.raises(ValueError, match="has no parameter 'kernel'"):
        nn.utils.spectral_norm(nn.Linear(2, 2), "kernel")
    with pytest.raises(ValueError, match="can't have uninitialized parameters"):
        nn.utils.spectral_norm(nn.LazyLinear(2))
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


# ---- stack_module_state: the vmap ensemble recipe -------------------------------------------


def _mlp(lib):
    class MLP(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = lib.nn.Linear(6, 8)
            self.bn = lib.nn.BatchNorm1d(8)
            self.fc2 = lib.nn.Linear(8, 3)

        def forward(self, x):
            return self.fc2(self.bn(self.fc1(x)).relu())

    return MLP


def test_stack_module_state_runs_the_vmap_ensemble_recipe_as_torch():
    n = 3
    MLP, TMLP = _mlp(tr), _mlp(torch)
    models = [MLP() for _ in range(n)]
    tmodels = [TMLP() for _ in range(n)]
    for m, t in zip(models, tmodels):
        _randomize(m, t)
        m.eval()
        t.eval()
    params, buffers = stack_module_state(models)
    tparams, tbuffers = torch.func.stack_module_state(tmodels)
    assert list(params) == list(tparams) and list(buffers) == list(tbuffers)
    for k in tparams:
        assert params[k].shape == tuple(tparams[k].shape) and params[k].requires_grad
        assert params[k].is_leaf and params[k] is not models[0]._parameters.get(k)
        _close(params[k], tparams[k])
    for k in tbuffers:
        _close(buffers[k], tbuffers[k])
        assert not buffers[k].requires_grad
    base, tbase = copy.deepcopy(models[0]), copy.deepcopy(tmodels[0]).to("meta")

    def fmodel(params, buffers, x):
        return functional_call(base, (params, buffers), (x,))

    def tfmodel(params, buffers, x):
        return torch.func.functional_call(tbase, (params, buffers), (x,))

    x = RNG.standard_normal((5, 6))
    same = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, tr.tensor(x))
    tsame = torch.func.vmap(tfmodel, in_dims=(0, 0, None))(tparams, tbuffers, torch.tensor(x))
    assert same.shape == (n, 5, 3)
    _close(same, tsame)
    for i, m in enumerate(models):  # each model's own prediction
        _close(same[i], m(tr.tensor(x)))
    xs = RNG.standard_normal((n, 5, 6))  # a different minibatch per model
    each = vmap(fmodel)(params, buffers, tr.tensor(xs))
    teach = torch.func.vmap(tfmodel)(tparams, tbuffers, torch.tensor(xs))
    _close(each, teach)
    each.sum().backward()
    teach.sum().backward()
    for k in tparams:
        _close(params[k].grad, tparams[k].grad)
    assert models[0].fc1.weight.grad is None  # the stacks are cut from the models


def test_stack_module_state_errors_as_torch():
    with pytest.raises(RuntimeError, match="Expected at least one model, got 0"):
        stack_module_state([])
    with pytest.raises(RuntimeError, match="same training/eval mode"):
        stack_module_state([nn.Linear(2, 2), nn.Linear(2, 2).eval()])
    with pytest.raises(RuntimeError, match="same class"):
        stack_module_state([nn.Linear(2, 2), nn.Bilinear(2, 2, 2)])
    frozen = nn.Linear(2, 2).requires_grad_(False)
    with pytest.raises(RuntimeError, match="weight from each model to have the same "
                                           ".requires_grad"):
        stack_module_state([nn.Linear(2, 2), frozen])
    with pytest.raises(RuntimeError, match="weight has different shapes"):
        stack_module_state([nn.Linear(2, 2), nn.Linear(3, 2)])
    params, _ = stack_module_state([frozen, copy.deepcopy(frozen)])
    assert not params["weight"].requires_grad


def test_replace_all_batch_norm_modules_as_torch():
    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4),
                                 lib.nn.Sequential(lib.nn.BatchNorm1d(4, affine=False)),
                                 lib.nn.InstanceNorm1d(4, track_running_stats=True))

    ours, theirs = build(tr), build(torch)
    _randomize(ours, theirs)
    assert replace_all_batch_norm_modules_(ours) is ours
    torch.func.replace_all_batch_norm_modules_(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for o, t in zip(ours.modules(), theirs.modules()):
        if hasattr(t, "track_running_stats"):
            assert o.track_running_stats == t.track_running_stats
            assert (o.running_mean is None) == (t.running_mean is None)
    ours.eval()
    theirs.eval()
    x = RNG.standard_normal((5, 3))
    _close(ours[:3](tr.tensor(x)), theirs[:3](torch.tensor(x)))  # batch statistics in eval

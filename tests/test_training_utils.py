"""Training utilities PyTorch programs reach for: optim.LBFGS and optim.ASGD, optim.swa_utils,
amp (autocast, GradScaler), utils.checkpoint, and tr.compile / tr.jit. Each follows PyTorch
step by step in float64 (LBFGS's iterates with and without the line search, ASGD's average,
SWA and EMA weights, SWALR's lrs, GradScaler's scale through a skipped step), and the
checkpoint gives the plain call's values and gradients while keeping less memory."""

from __future__ import annotations

import contextlib
import math
import pickle
import tracemalloc
import warnings

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import amp, jit, nn, optim
from tinygrad_rnn.nn import Parameter
from tinygrad_rnn.optim import swa_utils
from tinygrad_rnn.utils.checkpoint import checkpoint, checkpoint_sequential

from .conftest import DEVICES
from .test_optim import INIT, TARGETS, WEIGHTS, assert_moves_equal, run_ours

try:
    import torch
except ImportError:  # the tests that compare with PyTorch skip; the others run
    torch = None


def torch_test(test):
    """Marked ``torch`` and skipped without it."""
    return pytest.mark.torch(pytest.mark.skipif(torch is None, reason="needs PyTorch")(test))


@contextlib.contextmanager
def float64_defaults():
    """Both frameworks' default dtype float64: torch keeps ASGD's eta and mu, and the SWA
    division, in it; tr's int-times-float products too."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    tr.set_default_dtype("float64")
    try:
        yield
    finally:
        torch.set_default_dtype(old)
        tr.set_default_dtype("float32")


def make_params(device="cpu", values=INIT):
    return [Parameter(tr.tensor(v, device=device)) for v in values]


def torch_params(values=INIT):
    return [torch.tensor(v, requires_grad=True) for v in values]


def as_np(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def quartic(params, const):
    """A smooth, not quadratic problem: sum_i sum(w_i (p_i - c_i)^2 + 0.1 (p_i - c_i)^4)."""
    total = 0.0
    for p, c, w in zip(params, TARGETS, WEIGHTS):
        e = p - const(c, p)
        total = total + (const(w, p) * e**2 + 0.1 * e**4).sum()
    return total


def ours_const(a, p):
    return tr.tensor(a, device=p.device)


def torch_const(a, p):
    return torch.tensor(a)


def lbfgs_run(lib, opt, params, steps, const):
    losses = []
    for _ in range(steps):
        def closure():
            opt.zero_grad()
            loss = quartic(params, const)
            loss.backward()
            return loss
        losses.append(opt.step(closure).item())
    return losses


# ---- LBFGS --------------------------------------------------------------------------------------
LBFGS_CASES = [
    dict(),
    dict(lr=0.5, max_iter=6, history_size=3),
    dict(max_iter=5, max_eval=6, tolerance_change=1e-12),
    dict(lr=0.8, max_iter=4, tolerance_grad=1e-3),
]


@torch_test
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("kwargs", LBFGS_CASES, ids=range(len(LBFGS_CASES)))
@pytest.mark.parametrize("device", DEVICES)
def test_lbfgs_matches_torch(device, kwargs, line_search_fn):
    params, theirs = make_params(device), torch_params()
    opt = optim.LBFGS(params, line_search_fn=line_search_fn, **kwargs)
    topt = torch.optim.LBFGS(theirs, line_search_fn=line_search_fn, **kwargs)
    ours_losses = lbfgs_run(tr, opt, params, 3, ours_const)
    torch_losses = lbfgs_run(torch, topt, theirs, 3, torch_const)
    np.testing.assert_allclose(ours_losses, torch_losses, rtol=1e-10)
    for a, b in zip(params, theirs):
        np.testing.assert_allclose(a.numpy(), as_np(b), rtol=1e-8, atol=1e-12)
    ours_state, torch_state = opt.state[params[0]], topt.state[theirs[0]]
    assert ours_state["func_evals"] == torch_state["func_evals"]
    assert ours_state["n_iter"] == torch_state["n_iter"]
    assert set(ours_state) == set(torch_state)


@torch_test
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_trains_the_time_sequence_prediction_model_as_torch(line_search_fn):
    """PyTorch's examples/time_sequence_prediction, shrunk: two LSTMCells and a Linear predict
    the next sample of sines, trained by LBFGS(lr=0.8); here in float64, two steps of ten
    iterations (longer runs at this lr wander, and amplify the last bits' differences)."""
    T, B, H = 12, 3, 6
    rng = np.random.default_rng(2)
    data = np.sin(np.arange(T + 1)[None, :] / 2.0 + rng.integers(0, 20, (B, 1)) / 3.0)
    x, y = data[:, :-1], data[:, 1:]

    class Sequence(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm1, self.lstm2 = nn.LSTMCell(1, H), nn.LSTMCell(H, H)
            self.linear = nn.Linear(H, 1)

        def forward(self, inp):
            h1 = c1 = h2 = c2 = tr.zeros(inp.shape[0], H, dtype=tr.float64)
            outs = []
            for t in range(inp.shape[1]):
                h1, c1 = self.lstm1(inp[:, t:t + 1], (h1, c1))
                h2, c2 = self.lstm2(h1, (h2, c2))
                outs.append(self.linear(h2))
            return tr.cat(outs, 1)

    class TorchSequence(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm1, self.lstm2 = torch.nn.LSTMCell(1, H), torch.nn.LSTMCell(H, H)
            self.linear = torch.nn.Linear(H, 1)

        def forward(self, inp):
            h1 = c1 = h2 = c2 = torch.zeros(inp.shape[0], H, dtype=torch.float64)
            outs = []
            for t in range(inp.shape[1]):
                h1, c1 = self.lstm1(inp[:, t:t + 1], (h1, c1))
                h2, c2 = self.lstm2(h1, (h2, c2))
                outs.append(self.linear(h2))
            return torch.cat(outs, 1)

    torch.manual_seed(0)
    theirs = TorchSequence().double()
    ours = Sequence().double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    kwargs = dict(lr=0.8, max_iter=10, line_search_fn=line_search_fn)
    opt, topt = optim.LBFGS(ours.parameters(), **kwargs), torch.optim.LBFGS(theirs.parameters(),
                                                                            **kwargs)
    for _ in range(2):
        def closure():
            opt.zero_grad()
            loss = nn.functional.mse_loss(ours(tr.tensor(x)), tr.tensor(y))
            loss.backward()
            return loss

        def tclosure():
            topt.zero_grad()
            loss = torch.nn.functional.mse_loss(theirs(torch.tensor(x)), torch.tensor(y))
            loss.backward()
            return loss

        np.testing.assert_allclose(opt.step(closure).item(), topt.step(tclosure).item(),
                                   rtol=1e-10)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.numpy(), as_np(q), rtol=1e-8, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_state_dict_mid_run_continues_exactly(line_search_fn):
    kwargs = dict(max_iter=4, history_size=3, line_search_fn=line_search_fn)
    params = make_params()
    opt = optim.LBFGS(params, **kwargs)
    lbfgs_run(tr, opt, params, 2, ours_const)
    sd = pickle.loads(pickle.dumps(opt.state_dict()))
    state = next(iter(sd["state"].values()))
    # tensors, as torch's LBFGS keeps its flat vectors
    assert isinstance(state["d"], tr.Tensor) and state["d"].shape == (sum(v.size for v in INIT),)
    assert all(isinstance(v, tr.Tensor) for v in state["old_dirs"])
    params_b = make_params(values=[p.numpy() for p in params])
    opt_b = optim.LBFGS(params_b, **kwargs)
    opt_b.load_state_dict(sd)
    assert lbfgs_run(tr, opt, params, 2, ours_const) == lbfgs_run(tr, opt_b, params_b, 2,
                                                                  ours_const)
    for a, b in zip(params, params_b):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@torch_test
def test_lbfgs_loads_torchs_state_and_goes_on_as_torch():
    kwargs = dict(max_iter=4, history_size=3, line_search_fn="strong_wolfe")
    theirs = torch_params()
    topt = torch.optim.LBFGS(theirs, **kwargs)
    lbfgs_run(torch, topt, theirs, 2, torch_const)
    params = make_params(values=[as_np(t) for t in theirs])
    opt = optim.LBFGS(params, **kwargs)
    opt.load_state_dict(topt.state_dict())
    np.testing.assert_allclose(lbfgs_run(tr, opt, params, 2, ours_const),
                               lbfgs_run(torch, topt, theirs, 2, torch_const), rtol=1e-10)
    for a, b in zip(params, theirs):
        np.testing.assert_allclose(a.numpy(), as_np(b), rtol=1e-8, atol=1e-12)


def test_lbfgs_refuses_what_torch_refuses():
    params = make_params()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": params[:1]}, {"params": params[1:]}])
    opt = optim.LBFGS(params)
    with pytest.raises(ValueError, match="parameter groups"):
        opt.add_param_group({"params": [Parameter(tr.zeros(2))]})
    with pytest.raises(ValueError, match="strong_wolfe"):
        optim.LBFGS(params, line_search_fn="backtracking")
    with pytest.raises(TypeError, match="closure"):
        opt.step(None)
    assert opt.param_groups[0]["max_eval"] == 25  # max_iter * 5 // 4, as torch


# ---- ASGD ---------------------------------------------------------------------------------------
ASGD_CASES = [
    dict(),
    dict(lr=0.05, t0=5, lambd=1e-3, alpha=0.5, weight_decay=0.1),
    dict(lr=0.03, t0=0, maximize=True),
]


def torch_asgd(kwargs, steps, sign=1.0):
    theirs = torch_params()
    topt = torch.optim.ASGD(theirs, foreach=False, **kwargs)
    with float64_defaults():
        for _ in range(steps):
            topt.zero_grad()
            (sign * quadratic_torch(theirs)).backward()
            topt.step()
    return topt, theirs


def quadratic_torch(params):
    from .test_optim import quadratic
    return quadratic(params, torch_const)


@torch_test
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kwargs", ASGD_CASES, ids=range(len(ASGD_CASES)))
def test_asgd_matches_torch_and_keeps_its_average(device, kwargs):
    from .test_optim import quadratic
    sign = -1.0 if kwargs.get("maximize") else 1.0
    params = make_params(device)
    opt = optim.ASGD(params, **kwargs)
    with float64_defaults():  # eta and mu in the default dtype, as torch's
        for _ in range(40):
            opt.zero_grad()
            (sign * quadratic(params, ours_const)).backward()
            opt.step()
    topt, theirs = torch_asgd(kwargs, 40, sign)
    assert_moves_equal([p.numpy() for p in params], [as_np(t) for t in theirs])
    for p, t in zip(params, theirs):
        ax = opt.state[p]["ax"]
        assert isinstance(ax, tr.Tensor) and ax.device == p.device
        np.testing.assert_allclose(ax.numpy() - as_np(t), topt.state[t]["ax"].numpy() - as_np(t),
                                   rtol=1e-10, atol=1e-15)
        for k in ("eta", "mu", "step"):  # 0-d tensors of torch's dtype and values
            assert isinstance(opt.state[p][k], tr.Tensor) and opt.state[p][k].shape == ()
            assert opt.state[p][k].item() == pytest.approx(topt.state[t][k].item(), rel=1e-14)


def test_asgd_average_swaps_in_as_awd_lstm_does():
    """AWD-LSTM's NT-ASGD evaluates with the averages: tmp = p.data.clone();
    p.data = opt.state[p]['ax'].clone(); ...; p.data = tmp."""
    params = make_params()
    opt = optim.ASGD(params, lr=0.05, t0=0)
    run_ours(opt, params, 5)
    tmp = {p: p.data.clone() for p in params}
    held = {p: opt.state[p]["ax"].clone() for p in params}
    for p in params:
        p.data = opt.state[p]["ax"].clone()
    for p in params:
        np.testing.assert_array_equal(p.numpy(), held[p].numpy())
        p.data = tmp[p]
    run_ours(opt, params, 1)  # the average moves on; what was taken from it does not
    assert all(not np.array_equal(opt.state[p]["ax"].numpy(), held[p].numpy()) for p in params)


@pytest.mark.parametrize("device", DEVICES)
def test_asgd_state_dict_mid_run_continues_exactly(device):
    """Exactly where eta and mu are of the parameters' dtype (the default dtype float64): a
    load casts them to it, as torch's does."""
    tr.set_default_dtype("float64")
    try:
        _asgd_state_dict_mid_run_continues_exactly(device)
    finally:
        tr.set_default_dtype("float32")


def _asgd_state_dict_mid_run_continues_exactly(device):
    kwargs = dict(lr=0.05, t0=3, weight_decay=0.01)
    params = make_params(device)
    opt = optim.ASGD(params, **kwargs)
    run_ours(opt, params, 6)
    sd = opt.state_dict()
    entry = next(iter(sd["state"].values()))
    assert all(isinstance(entry[k], tr.Tensor) for k in ("ax", "eta", "mu", "step"))
    params_b = make_params(device, [p.numpy() for p in params])
    opt_b = optim.ASGD(params_b, **kwargs)
    opt_b.load_state_dict(sd)
    assert all(isinstance(opt_b.state[p]["ax"], tr.Tensor) for p in params_b)
    run_ours(opt, params, 7)
    run_ours(opt_b, params_b, 7)
    for a, b in zip(params, params_b):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        np.testing.assert_array_equal(opt.state[a]["ax"].numpy(), opt_b.state[b]["ax"].numpy())


@torch_test
def test_asgd_loads_torchs_state_and_goes_on_as_torch():
    from .test_optim import quadratic
    kwargs = dict(lr=0.05, t0=4)
    topt, theirs = torch_asgd(kwargs, 6)
    params = make_params(values=[as_np(t) for t in theirs])
    opt = optim.ASGD(params, **kwargs)
    opt.load_state_dict(topt.state_dict())
    with float64_defaults():  # (each new eta and mu is rounded to the default dtype)
        run_ours(opt, params, 9)
    with float64_defaults():
        for _ in range(9):
            topt.zero_grad()
            quadratic(theirs, torch_const).backward()
            topt.step()
    assert_moves_equal([p.numpy() for p in params], [as_np(t) for t in theirs])


def test_asgd_takes_torchs_flags():
    params = make_params()
    optim.ASGD(params, foreach=None, capturable=False, differentiable=False)
    with pytest.raises(ValueError, match="differentiable"):
        optim.ASGD(params, differentiable=True)
    with pytest.raises(ValueError, match="learning rate"):
        optim.ASGD(params, lr=-1.0)


# ---- swa_utils ----------------------------------------------------------------------------------
def twin_models():
    """A small net with a BatchNorm, in torch and here, with the same float64 weights."""
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                 torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2)).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def assert_same_state(ours, theirs, rtol=1e-12):
    a, b = ours.state_dict(), theirs.state_dict()
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_allclose(tr.tensor(a[k]).numpy(), b[k].numpy(), rtol=rtol,
                                   atol=1e-14, err_msg=k)


AVERAGES = {
    "swa-default": lambda m: {},
    "swa-avg_fn": lambda m: dict(avg_fn=m.get_swa_avg_fn()),
    "swa-multi": lambda m: dict(multi_avg_fn=m.get_swa_multi_avg_fn()),
    "ema-multi": lambda m: dict(multi_avg_fn=m.get_ema_multi_avg_fn(0.9)),
    "ema-avg_fn": lambda m: dict(avg_fn=m.get_ema_avg_fn(0.8)),
}


@torch_test
@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("average", list(AVERAGES))
def test_averaged_model_matches_torch(average, use_buffers):
    if average == "swa-multi" and use_buffers:
        pytest.skip("torch's get_swa_multi_avg_fn refuses integer buffers (addcdiv)")
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((8, 3)) for _ in range(6)]
    with float64_defaults():
        ours, theirs = twin_models()
        avg = swa_utils.AveragedModel(ours, use_buffers=use_buffers,
                                      **AVERAGES[average](swa_utils))
        tavg = torch.optim.swa_utils.AveragedModel(theirs, use_buffers=use_buffers,
                                                   **AVERAGES[average](torch.optim.swa_utils))
        opt, topt = optim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(),
                                                                          lr=0.1)
        for x in batches:
            opt.zero_grad()
            (ours(tr.tensor(x)) ** 2).sum().backward()
            opt.step()
            avg.update_parameters(ours)
            topt.zero_grad()
            (theirs(torch.tensor(x)) ** 2).sum().backward()
            topt.step()
            tavg.update_parameters(theirs)
        assert_same_state(avg, tavg)
        assert int(avg.n_averaged.item()) == len(batches)
        assert avg.module is not ours and avg.module[0].weight is not ours[0].weight
        avg.eval()
        tavg.eval()
        x = rng.standard_normal((5, 3))
        np.testing.assert_allclose(avg(tr.tensor(x)).numpy(), as_np(tavg(torch.tensor(x))),
                                   rtol=1e-12)


@torch_test
def test_update_bn_matches_torch():
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal((8, 3)) for _ in range(4)]
    with float64_defaults():
        ours, theirs = twin_models()
        ours.eval()
        theirs.eval()
        swa_utils.update_bn([(tr.tensor(x), 0) for x in batches], ours)
        torch.optim.swa_utils.update_bn([(torch.tensor(x), 0) for x in batches], theirs)
        assert_same_state(ours, theirs)
        assert not ours.training and ours[1].momentum == 0.1


SWALR_CASES = [
    dict(swa_lr=0.05),
    dict(swa_lr=[0.05, 0.5], anneal_epochs=3, anneal_strategy="linear"),
    dict(swa_lr=0.01, anneal_epochs=0),
    dict(swa_lr=0.2, anneal_epochs=4, last_epoch=-1),
]


def swalr_trace(mod, lib, make, steps=8):
    ps = [lib.tensor([1.0], requires_grad=True), lib.tensor([2.0], requires_grad=True)]
    opt = mod.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.3}], lr=0.1)
    sched = make(opt)
    out = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
    return out, sched


@torch_test
@pytest.mark.parametrize("kwargs", SWALR_CASES, ids=range(len(SWALR_CASES)))
def test_swalr_matches_torch(kwargs):
    ours, sched = swalr_trace(optim, tr, lambda o: swa_utils.SWALR(o, **kwargs))
    theirs, tsched = swalr_trace(torch.optim, torch,
                                 lambda o: torch.optim.swa_utils.SWALR(o, **kwargs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)
    sd = sched.state_dict()
    assert set(sd) <= set(tsched.state_dict())
    assert sd["_step_count"] == tsched.state_dict()["_step_count"]


@torch_test
def test_swalr_takes_over_from_a_schedule_as_torch():
    """The usual SWA recipe: a cosine schedule, then SWALR from the lr it reached."""
    def run(mod, lib, sched_mod):
        p = lib.tensor([1.0], requires_grad=True)
        opt = mod.SGD([p], lr=0.5)
        cos = mod.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        lrs = []
        for _ in range(4):
            opt.step()
            cos.step()
        swa = sched_mod.SWALR(opt, swa_lr=0.05, anneal_epochs=3)
        for _ in range(5):
            opt.step()
            swa.step()
            lrs.append(opt.param_groups[0]["lr"])
        return lrs

    np.testing.assert_allclose(run(optim, tr, swa_utils),
                               run(torch.optim, torch, torch.optim.swa_utils), rtol=1e-14)


def test_swalr_state_dict_round_trip_and_checks():
    def make():
        p = Parameter(tr.tensor([1.0]))
        opt = optim.SGD([p], lr=0.5)
        return opt, swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=5, anneal_strategy="linear")

    opt, sched = make()
    for _ in range(2):
        opt.step()
        sched.step()
    opt_b, sched_b = make()
    opt_b.load_state_dict(opt.state_dict())
    sched_b.load_state_dict(sched.state_dict())
    for _ in range(4):
        opt.step()
        sched.step()
        opt_b.step()
        sched_b.step()
        assert sched.get_last_lr() == sched_b.get_last_lr()
    with pytest.raises(ValueError, match="anneal_strategy"):
        swa_utils.SWALR(opt, swa_lr=0.1, anneal_strategy="exp")
    with pytest.raises(ValueError, match="swa_lr"):
        swa_utils.SWALR(opt, swa_lr=[0.1, 0.2])
    with pytest.raises(ValueError, match="decay"):
        swa_utils.get_ema_multi_avg_fn(1.5)
    with pytest.raises(ValueError, match="not both"):
        swa_utils.AveragedModel(nn.Linear(2, 2), avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())


def test_swa_utils_is_importable_as_in_torch():
    from tinygrad_rnn.optim.swa_utils import SWALR, AveragedModel, update_bn

    assert optim.swa_utils.AveragedModel is AveragedModel is optim.AveragedModel
    assert SWALR is optim.SWALR and update_bn is optim.update_bn
    assert isinstance(AveragedModel(nn.Linear(2, 2)), nn.Module)


# ---- amp ----------------------------------------------------------------------------------------
def scaler_run(lib, scaler, model, opt, steps, bad):
    """A training loop through the scaler: every other step unscales and clips first; the
    steps in ``bad`` see an inf or a NaN in the input, so their gradients overflow."""
    rng = np.random.default_rng(0)
    clip = torch.nn.utils.clip_grad_norm_ if lib is torch else nn.utils.clip_grad_norm_
    autocast = torch.autocast if lib is torch else amp.autocast
    trace = []
    for i in range(steps):
        x = rng.standard_normal((4, 3))
        if i in bad:
            x[0, 0] = bad[i]
        opt.zero_grad()
        with autocast("cpu"):
            loss = (model(lib.tensor(x)) ** 2).mean()
        scaler.scale(loss).backward()
        if i % 2:
            scaler.unscale_(opt)
            clip(model.parameters(), 0.5)
        scaler.step(opt)
        scaler.update()
        trace.append((scaler.get_scale(), scaler._get_growth_tracker(),
                      [as_np(p).copy() for p in model.parameters()]))
    return trace


@torch_test
def test_grad_scaler_matches_torch_through_skipped_steps():
    kwargs = dict(init_scale=2.0**10, growth_factor=4.0, backoff_factor=0.25, growth_interval=3)
    bad = {4: np.inf, 9: np.nan, 10: -np.inf}
    with float64_defaults(), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's, on the inf inputs
        theirs = torch.nn.Linear(3, 2)
        ours = nn.Linear(3, 2)
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
        scaler, tscaler = amp.GradScaler("cpu", **kwargs), torch.amp.GradScaler("cpu", **kwargs)
        a = scaler_run(tr, scaler, ours, optim.SGD(ours.parameters(), lr=0.1, momentum=0.9),
                       14, bad)
        b = scaler_run(torch, tscaler, theirs,
                       torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9), 14, bad)
    assert [s for s, _, _ in a] == [s for s, _, _ in b]
    assert [g for _, g, _ in a] == [g for _, g, _ in b]
    assert a[4][0] < a[3][0]  # a skipped step backs off
    np.testing.assert_array_equal(a[4][2][0], a[3][2][0])  # and leaves the weights
    for (_, _, pa), (_, _, pb) in zip(a, b):
        for x, y in zip(pa, pb):
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-15)
    assert scaler.state_dict() == tscaler.state_dict()


@torch_test
def test_grad_scaler_unscales_scales_and_loads_torchs_state():
    p = Parameter(tr.tensor([1.0, 2.0]))
    opt = optim.SGD([p], lr=0.1)
    scaler = amp.GradScaler("cpu", init_scale=3.0)  # a scale that is no power of two
    loss = scaler.scale((p * p).sum())
    np.testing.assert_allclose(loss.item(), 15.0)
    loss.backward()
    scaler.unscale_(opt)
    inv = np.float32(1 / 3.0)  # as torch: the float32 reciprocal
    np.testing.assert_array_equal(p.grad.numpy(), (np.array([6.0, 12.0], np.float32) * inv))
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="after step"):
        scaler.unscale_(opt)
    scaler.update(8.0)
    assert scaler.get_scale() == 8.0
    assert scaler.scale([p, (p, p)])[1][0].numpy().tolist() == (p.numpy() * 8).tolist()
    tscaler = torch.amp.GradScaler("cpu", init_scale=5.0, growth_interval=7)
    fresh = amp.GradScaler("cpu")
    fresh.load_state_dict(tscaler.state_dict())
    assert fresh.state_dict() == tscaler.state_dict()
    with pytest.raises(RuntimeError, match="empty"):
        fresh.load_state_dict({})
    with pytest.raises(RuntimeError, match="Closure"):
        scaler.step(opt, closure=lambda: 0.0)
    p16 = Parameter(tr.tensor([1.0], dtype=tr.float16))
    opt16 = optim.SGD([p16], lr=0.1)
    scaler.scale((p16 * 2).sum()).backward()
    with pytest.raises(ValueError, match="FP16"):
        scaler.unscale_(opt16)


@pytest.mark.parametrize("device", DEVICES)
def test_grad_scaler_skips_and_backs_off_on_every_device(device):
    p = Parameter(tr.tensor([1.0, 2.0], device=device))
    opt = optim.SGD([p], lr=0.25)
    scaler = amp.GradScaler("cuda" if device == "cuda" else "cpu", init_scale=4.0,
                            growth_interval=2)
    for factor, scale in (([1.0, 1.0], 4.0), ([1.0, 1.0], 8.0), ([np.inf, 1.0], 4.0),
                          ([1.0, np.nan], 2.0), ([1.0, 1.0], 2.0)):
        before = p.numpy()
        opt.zero_grad()
        scaler.scale((p * tr.tensor(factor, device=device)).sum()).backward()
        scaler.step(opt)
        scaler.update()
        assert scaler.get_scale() == scale
        finite = np.isfinite(factor).all()
        np.testing.assert_array_equal(p.numpy(), before - 0.25 * np.array(factor) if finite
                                      else before)
        assert p.device == device


def test_grad_scaler_disabled_passes_through():
    p = Parameter(tr.tensor([1.0, 2.0]))
    opt = optim.SGD([p], lr=0.5)
    scaler = amp.GradScaler("cpu", enabled=False)
    loss = (p * p).sum()
    assert scaler.scale(loss) is loss and not scaler.is_enabled()
    loss.backward()
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    np.testing.assert_allclose(p.numpy(), [0.0, 0.0])
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {}


@pytest.mark.skipif(tr.cuda.is_available(), reason="a GPU is there: the scaler stays enabled")
def test_grad_scaler_for_cuda_without_a_gpu_disables_itself_as_torch():
    with pytest.warns(UserWarning, match="CUDA is not available"):
        scaler = amp.GradScaler()
    assert not scaler.is_enabled()
    with pytest.warns(UserWarning, match="CUDA is not available"):
        assert not tr.cuda.amp.GradScaler().is_enabled()


def test_autocast_runs_ops_in_their_own_dtype():
    x = tr.randn(2, 3)
    lin = nn.Linear(3, 4)
    with amp.autocast("cuda"), amp.autocast("cpu", dtype=tr.float16), \
            amp.autocast(device_type="cpu", enabled=False):
        y = lin(x)
    assert y.dtype == tr.float32 and not amp.is_autocast_enabled()

    @amp.autocast("cuda", dtype=tr.float16)
    def f(a):
        return a * 2

    assert f(x).dtype == tr.float32 and f.__name__ == "f"
    with tr.cuda.amp.autocast(), tr.cpu.amp.autocast(dtype="bfloat16") if hasattr(tr, "cpu") \
            else amp._cpu.amp.autocast():
        assert lin(x).dtype == tr.float32
    with pytest.raises(TypeError, match="device_type"):
        amp.autocast(tr.float16)

    class Double(tr.autograd.Function):
        @staticmethod
        @tr.cuda.amp.custom_fwd
        def forward(ctx, a):
            return a * 2

        @staticmethod
        @amp.custom_bwd(device_type="cuda")
        def backward(ctx, g):
            return g * 2

    a = tr.ones(2, requires_grad=True)
    Double.apply(a).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0])


def test_cuda_and_cpu_amp_import_as_in_torch():
    from tinygrad_rnn.cuda.amp import GradScaler, autocast

    assert tr.cuda.amp.autocast is autocast and tr.cuda.amp.GradScaler is GradScaler
    assert issubclass(autocast, amp.autocast) and issubclass(GradScaler, amp.GradScaler)
    import tinygrad_rnn.cpu.amp as cpu_amp

    assert cpu_amp.GradScaler().is_enabled() and cpu_amp.autocast().device == "cpu"


def test_grad_scaler_pickles_between_iterations():
    p = Parameter(tr.tensor([1.0]))
    opt = optim.SGD([p], lr=0.1)
    scaler = amp.GradScaler("cpu", growth_interval=1)
    scaler.scale(p.sum()).backward()
    scaler.step(opt)
    scaler.update()
    back = pickle.loads(pickle.dumps(scaler))
    assert back.get_scale() == scaler.get_scale() == 2.0**17
    assert back.state_dict() == scaler.state_dict()


# ---- checkpoint ---------------------------------------------------------------------------------
def mlp(n, width=8, dropout=0.0):
    layers = []
    for _ in range(n):
        layers += [nn.Linear(width, width), nn.Tanh()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers).double()


def grads_of(model, x):
    return [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize("how", ["checkpoint", "sequential", "sequential-list"])
def test_checkpoint_gives_the_plain_values_and_gradients(how, dropout, device):
    model = mlp(6, dropout=dropout).to(device)
    x = tr.randn(5, 8, dtype=tr.float64, device=device, requires_grad=True)
    tr.manual_seed(7)
    y = model(x)
    (y**2).sum().backward()
    expected, expected_y = grads_of(model, x), y.numpy()
    model.zero_grad()
    x.grad = None
    tr.manual_seed(7)  # the same dropout masks: the recomputation restores the generator
    if how == "checkpoint":
        y = checkpoint(model, x, use_reentrant=False)
    elif how == "sequential":
        y = checkpoint_sequential(model, 3, x, use_reentrant=True)
    else:
        y = checkpoint_sequential(list(model), 4, x, use_reentrant=False)
    tr.randn(3)  # draws between forward and backward do not change the recomputation
    np.testing.assert_array_equal(y.numpy(), expected_y)
    (y**2).sum().backward()
    for a, b in zip(grads_of(model, x), expected):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


@torch_test
def test_checkpoint_matches_torch_with_several_outputs_and_other_arguments():
    """An LSTM cell step checkpointed, as torch.utils.checkpoint: a tuple out, a number and a
    keyword in; gradients for the inputs and (through tr.autograd.grad) the weights."""
    theirs = torch.nn.LSTMCell(3, 4).double()
    ours = nn.LSTMCell(3, 4).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(3)
    xs, h0, c0 = rng.standard_normal((5, 2, 3)), rng.standard_normal((2, 4)), \
        rng.standard_normal((2, 4))

    def run(lib, cell, ckpt):
        def step(x, h, c, scale, *, shift):
            h, c = cell(x * scale, (h, c))
            return h + shift, c

        x = lib.tensor(xs, requires_grad=True)
        h, c = lib.tensor(h0, requires_grad=True), lib.tensor(c0)
        state = (h, c)
        for t in range(xs.shape[0]):
            state = ckpt(step, x[t], *state, 0.5, shift=0.1, use_reentrant=False)
        loss = (state[0] ** 2).sum() + state[1].sum()
        weights = list(cell.parameters())
        grads = lib.autograd.grad(loss, [x, h, *weights])
        return [as_np(loss)] + [as_np(g) for g in grads]

    expected = run(torch, theirs, torch.utils.checkpoint.checkpoint)
    for a, b in zip(run(tr, ours, checkpoint), expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_checkpoint_of_an_lstm_gives_its_nested_result_and_gradients():
    """nn.LSTM returns (output, (h_n, c_n)); with dropout between its layers, the rerun
    draws the same masks."""
    lstm = nn.LSTM(4, 6, num_layers=2, dropout=0.3).double()
    x = tr.randn(7, 3, 4, dtype=tr.float64, requires_grad=True)

    def loss_and_grads(run):
        lstm.zero_grad()
        x.grad = None
        tr.manual_seed(5)
        out, (h, c) = run()
        (out.square().sum() + h.sum() + c.sum()).backward()
        return [out.numpy(), h.numpy(), c.numpy(), x.grad.numpy()] + [
            p.grad.numpy() for p in lstm.parameters()]

    plain = loss_and_grads(lambda: lstm(x))
    checked = loss_and_grads(lambda: checkpoint(lstm, x, use_reentrant=False))
    for a, b in zip(checked, plain):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_checkpoint_reaches_tensors_the_function_closes_over():
    w = tr.randn(4, 4, dtype=tr.float64, requires_grad=True)
    x = tr.randn(2, 4, dtype=tr.float64, requires_grad=True)
    w2 = w * 2  # made outside, read inside: its gradient flows on to w
    out = checkpoint(lambda a: (a @ w2).tanh() @ w, x, use_reentrant=False)
    out.sum().backward()
    got = w.grad.numpy(), x.grad.numpy()
    w.grad = x.grad = None
    ((x @ (w * 2)).tanh() @ w).sum().backward()
    np.testing.assert_allclose(got[0], w.grad.numpy(), rtol=1e-13)
    np.testing.assert_allclose(got[1], x.grad.numpy(), rtol=1e-13)


def test_checkpoint_without_recording_is_a_plain_call_and_refuses_what_torch_refuses():
    model = mlp(2)
    x = tr.randn(3, 8, dtype=tr.float64)
    with tr.no_grad():
        y = checkpoint(model, x, use_reentrant=False)
    assert not y.requires_grad and y._ctx is None
    with pytest.raises(ValueError, match="Unexpected keyword arguments: k"):
        checkpoint(lambda a, k: a, x, k=1)
    y = checkpoint(model, x, use_reentrant=False)
    with pytest.raises(RuntimeError, match="create_graph"):
        tr.autograd.grad(y.sum(), list(model.parameters()), create_graph=True)


def test_checkpoint_sequential_keeps_less_memory():
    """A 32-layer chain at batch 512: the plain graph holds every activation; in 8
    checkpointed segments, the boundaries and one segment's at a time."""
    tr.manual_seed(0)
    model = nn.Sequential(*[nn.Sequential(nn.Linear(64, 64), nn.Tanh()) for _ in range(32)])
    model = model.double()
    x = tr.randn(512, 64, dtype=tr.float64, requires_grad=True)

    def peak(run):
        model.zero_grad()
        tracemalloc.start()
        try:
            run().square().sum().backward()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    plain = peak(lambda: model(x))
    segmented = peak(lambda: checkpoint_sequential(model, 8, x, use_reentrant=False))
    assert segmented < 0.4 * plain, (segmented, plain)


# ---- compile and jit ------------------------------------------------------------------------
def test_compile_and_jit_hand_back_what_they_get():
    model = nn.Linear(2, 2)
    assert jit.compile(model) is model and jit.compile(model, fullgraph=True) is model

    @jit.compile
    def f(x):
        return x + 1

    @jit.compile(dynamic=True)
    def g(x):
        return x * 2

    assert f(1) == 2 and g(2) == 4
    assert jit.script(model) is model and jit.trace(model, tr.zeros(1, 2)) is model
    assert jit.trace_module(model, {"forward": tr.zeros(1, 2)}) is model

    class M(nn.Module):
        x: jit.Final[int] = 3

        @jit.ignore
        def a(self):
            return 1

        @jit.ignore(drop=True)
        def b(self):
            return 2

        @jit.unused
        def c(self):
            return 3

        @jit.export
        def d(self):
            return jit.annotate(int, 4)

    m = M()
    assert (m.a(), m.b(), m.c(), m.d()) == (1, 2, 3, 4)
    assert not jit.is_scripting() and not jit.is_tracing()
    with pytest.raises(TypeError, match="module or a function"):
        jit.compile(3)


@pytest.mark.skipif(not hasattr(tr, "autocast"), reason="top-level names not added yet")
def test_top_level_names_as_in_torch():
    assert tr.autocast is amp.autocast and tr.amp.GradScaler is amp.GradScaler
    assert tr.amp.autocast is amp.autocast
    assert tr.compile is jit.compile and tr.jit.script is jit.script
    assert tr.cpu.amp.autocast().device == "cpu"
    assert tr.utils.checkpoint.checkpoint is checkpoint
    model = nn.Linear(2, 2)
    assert tr.compile(model) is model and tr.jit.script(model) is model


@pytest.mark.torch
@pytest.mark.parametrize("p", [0, -math.inf, -1.0, -2.5])
def test_total_norm_of_orders_at_most_zero_match_torch(p):
    """p = 0, -inf and negative p, as PyTorch's get_total_norm and clip_grad_norm_ compose
    them (the norm of the per-tensor norms: p = 0 counts the nonzero ones)."""
    torch = pytest.importorskip("torch")
    for values in ([[3.0, -1.0, 0.5], [2.0]], [[3.0, -1.0, 0.0], [2.0]]):
        ours = tr.nn.utils.get_total_norm([tr.tensor(v) for v in values], p)
        theirs = torch.nn.utils.get_total_norm([torch.tensor(v) for v in values], p)
        assert ours.item() == pytest.approx(theirs.item(), rel=1e-6)
    with pytest.raises(ValueError, match="norm_type must be a number"):
        tr.nn.utils.get_total_norm([tr.ones(2)], math.nan)

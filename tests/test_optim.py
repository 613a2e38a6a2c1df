"""Optimizers, learning-rate schedules and gradient clipping: parity with torch.optim (float64,
rtol 1e-10) on every device, state_dict round trips, clear errors, and parameters without grad."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn.nn import Parameter
from tinygrad_rnn.nn.utils import clip_grad_norm_, clip_grad_value_

from .conftest import DEVICES

RTOL = 1e-10
SHAPES = [(3, 4), (4,), (2, 3, 2)]
_rng = np.random.default_rng(1234)
INIT = [_rng.standard_normal(s) for s in SHAPES]
TARGETS = [_rng.standard_normal(s) for s in SHAPES]
WEIGHTS = [_rng.uniform(0.2, 3.0, s) for s in SHAPES]


def quadratic(params, const):
    """sum_i sum(w_i * (p_i - c_i)**2) + 0.05 * (sum_i sum(p_i))**2, in either framework."""
    total, coupling = 0.0, 0.0
    for p, c, w in zip(params, TARGETS, WEIGHTS):
        total = total + (const(w, p) * (p - const(c, p)) ** 2).sum()
        coupling = coupling + p.sum()
    return total + 0.05 * coupling**2


def ours_const(a, p):
    return tr.tensor(a, device=p.device)


def make_params(device, values=INIT):
    return [Parameter(tr.tensor(v, device=device)) for v in values]


def grouped(params, groups):
    if groups is None:
        return params
    return [{"params": [params[i] for i in idx], **opts} for idx, opts in groups]


def run_ours(opt, params, steps):
    for _ in range(steps):
        opt.zero_grad()
        quadratic(params, ours_const).backward()
        opt.step()


def run_torch(torch, name, kwargs, groups=None, steps=10):
    params = [torch.tensor(v, requires_grad=True) for v in INIT]
    opt = getattr(torch.optim, name)(grouped(params, groups), **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        quadratic(params, lambda a, p: torch.tensor(a)).backward()
        opt.step()
    return [p.detach().numpy() for p in params]


def assert_moves_equal(ours, theirs):
    """Compare the displacements from INIT, so that small learning rates are checked too."""
    for a, b, p0 in zip(ours, theirs, INIT):
        np.testing.assert_allclose(a - p0, b - p0, rtol=RTOL, atol=1e-15)


OPTIMIZER_CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.03, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.95), eps=1e-6)),
    ("Adam", dict(lr=0.02, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.05)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.05, weight_decay=0.3)),
    ("AdamW", dict(lr=0.05, betas=(0.5, 0.9), amsgrad=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.005, momentum=0.5)),
    ("RMSprop", dict(lr=0.005, momentum=0.7, centered=True, eps=1e-4, weight_decay=0.01)),
]


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZER_CASES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZER_CASES)])
def test_optimizer_matches_torch(device, name, kwargs):
    torch = pytest.importorskip("torch")
    params = make_params(device)
    run_ours(getattr(optim, name)(params, **kwargs), params, 10)
    assert_moves_equal([p.numpy() for p in params], run_torch(torch, name, kwargs))


GROUPS = [([0], {"lr": 0.2, "weight_decay": 0.05}), ([1, 2], {})]


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs"), [("SGD", dict(lr=0.02, momentum=0.5)),
                                              ("Adam", dict(lr=0.01)), ("AdamW", dict(lr=0.01)),
                                              ("RMSprop", dict(lr=0.003, centered=True))])
def test_optimizer_param_groups_match_torch(device, name, kwargs):
    torch = pytest.importorskip("torch")
    params = make_params(device)
    opt = getattr(optim, name)(grouped(params, GROUPS), **kwargs)
    assert [g["lr"] for g in opt.param_groups] == [0.2, kwargs["lr"]]
    run_ours(opt, params, 10)
    assert_moves_equal([p.numpy() for p in params], run_torch(torch, name, kwargs, GROUPS))


# ---- schedules ----------------------------------------------------------------------------------
SCHEDULE_CASES = [
    ("StepLR", dict(step_size=4, gamma=0.5), "StepLR", dict(step_size=4, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9), "ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=1e-3), "CosineAnnealingLR",
     dict(T_max=10, eta_min=1e-3)),
    ("CosineAnnealingLR", dict(T_max=7), "CosineAnnealingLR", dict(T_max=7)),
    ("LinearWarmup", dict(warmup_steps=6, start_factor=0.25), "LinearLR",
     dict(start_factor=0.25, end_factor=1.0, total_iters=6)),
    ("MultiStepLR", dict(milestones=[7, 3, 12], gamma=0.5), "MultiStepLR",
     dict(milestones=[7, 3, 12], gamma=0.5)),
    ("LambdaLR", dict(lr_lambda=lambda t: 0.95**t + 0.01 * t), "LambdaLR",
     dict(lr_lambda=lambda t: 0.95**t + 0.01 * t)),
    ("LinearLR", dict(start_factor=0.5, end_factor=0.1, total_iters=8), "LinearLR",
     dict(start_factor=0.5, end_factor=0.1, total_iters=8)),
    ("LinearLR", dict(), "LinearLR", dict()),
]


def _learning_rates(opt, sched, steps):
    """The learning rates a schedule gives, step by step (and that it set in the groups)."""
    lrs = [sched.get_last_lr()]
    with warnings.catch_warnings():  # torch's SequentialLR steps its parts with a deprecated arg
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(steps):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
            assert lrs[-1] == [g["lr"] for g in opt.param_groups]
    return np.array(lrs)


def torch_lrs(torch, make_sched, steps=30):
    params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    opt = torch.optim.SGD([{"params": [params[0]], "lr": 0.1}, {"params": [params[1]]}], lr=0.02)
    return _learning_rates(opt, make_sched(torch.optim.lr_scheduler, opt), steps)


def our_lrs(make_sched, steps=30, device="cpu"):
    params = make_params(device, [np.zeros(2), np.zeros(3)])
    opt = optim.SGD([{"params": [params[0]], "lr": 0.1}, {"params": [params[1]]}], lr=0.02)
    return _learning_rates(opt, make_sched(optim, opt), steps)


@pytest.mark.torch
@pytest.mark.parametrize(("ours", "kw", "theirs", "tkw"), SCHEDULE_CASES,
                         ids=[c[0] + str(i) for i, c in enumerate(SCHEDULE_CASES)])
def test_scheduler_matches_torch(ours, kw, theirs, tkw):
    torch = pytest.importorskip("torch")
    expected = torch_lrs(torch, lambda mod, opt: getattr(mod, theirs)(opt, **tkw))
    got = our_lrs(lambda mod, opt: getattr(mod, ours)(opt, **kw))
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-15)


@pytest.mark.torch
def test_sequential_lr_matches_torch():
    torch = pytest.importorskip("torch")

    def warm_cos(ours):
        def make(mod, opt):
            warm = (mod.LinearWarmup(opt, 5, start_factor=0.1) if ours
                    else mod.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=5))
            cos = mod.CosineAnnealingLR(opt, T_max=20, eta_min=1e-3)
            return mod.SequentialLR(opt, [warm, cos], milestones=[5])
        return make

    def three(mod, opt):
        parts = [mod.ExponentialLR(opt, gamma=0.8), mod.StepLR(opt, step_size=3, gamma=0.5),
                 mod.ExponentialLR(opt, gamma=0.95)]
        return mod.SequentialLR(opt, parts, milestones=[4, 13])

    np.testing.assert_allclose(our_lrs(warm_cos(True)), torch_lrs(torch, warm_cos(False)),
                               rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(our_lrs(three), torch_lrs(torch, three), rtol=RTOL, atol=1e-15)


def test_linear_warmup_from_zero():
    lrs = our_lrs(lambda mod, opt: mod.LinearWarmup(opt, warmup_steps=4), steps=6)
    np.testing.assert_allclose(lrs[:, 0], [0.0, 0.025, 0.05, 0.075, 0.1, 0.1, 0.1], rtol=1e-15)
    none = our_lrs(lambda mod, opt: mod.LinearWarmup(opt, warmup_steps=0), steps=2)
    np.testing.assert_array_equal(none[:, 1], [0.02] * 3)


@pytest.mark.parametrize("make", [
    lambda opt: optim.StepLR(opt, 3, gamma=0.5),
    lambda opt: optim.CosineAnnealingLR(opt, T_max=9, eta_min=0.01),
    lambda opt: optim.SequentialLR(opt, [optim.LinearWarmup(opt, 4), optim.ExponentialLR(
        opt, 0.9)], [4]),
], ids=["step", "cosine", "sequential"])
def test_scheduler_state_dict_round_trip(make):
    opt_a = optim.SGD(make_params("cpu"), lr=0.1)
    sched_a = make(opt_a)
    for _ in range(6):
        opt_a.step()
        sched_a.step()
    sd = sched_a.state_dict()
    assert_plain(sd)
    opt_b = optim.SGD(make_params("cpu"), lr=0.1)
    sched_b = make(opt_b)  # as torch advises: the schedule, then the optimizer's state (the
    opt_b.load_state_dict(opt_a.state_dict())  # lrs: making the schedule sets them), then its
    sched_b.load_state_dict(sd)
    assert sched_b.get_last_lr() == sched_a.get_last_lr()
    for _ in range(6):
        opt_a.step()
        sched_a.step()
        opt_b.step()
        sched_b.step()
        assert sched_b.get_last_lr() == sched_a.get_last_lr()
        assert opt_b.param_groups[0]["lr"] == opt_a.param_groups[0]["lr"]
    with pytest.raises(ValueError, match="nothing was loaded"):
        sched_b.load_state_dict({**sd, "base_lrs": [0.1, 0.2]})
    with pytest.raises(ValueError, match="missing keys"):
        sched_b.load_state_dict({"last_epoch": 3})


@pytest.mark.torch
@pytest.mark.parametrize("resume_at", [0, 3, 9])
@pytest.mark.parametrize(("ours", "kw", "theirs", "tkw"), SCHEDULE_CASES,
                         ids=[c[0] + str(i) for i, c in enumerate(SCHEDULE_CASES)])
def test_scheduler_resumed_with_last_epoch_matches_torch(ours, kw, theirs, tkw, resume_at):
    """Resuming as a checkpoint does: the optimizer's groups hold initial_lr and the lrs of
    step k + 1 (a schedule stepped k + 1 times), and the schedule is made again with
    last_epoch=k; its lrs go on as torch's, and so as the schedule's that never stopped but
    for StepLR where step k + 1 is a decay: the constructor's step decays a second time, as
    torch's does."""
    torch = pytest.importorskip("torch")

    def resumed(mod, opt, name, kwargs):
        first = getattr(mod, name)(opt, **kwargs)  # records initial_lr in the groups
        with warnings.catch_warnings():  # torch's: a schedule stepped before the optimizer
            warnings.simplefilter("ignore", UserWarning)
            for _ in range(resume_at + 1):  # the groups' lrs of step k + 1
                first.step()
        return getattr(mod, name)(opt, **kwargs, last_epoch=resume_at)

    got = our_lrs(lambda mod, opt: resumed(mod, opt, ours, kw), steps=12)
    expected = torch_lrs(torch, lambda mod, opt: resumed(mod, opt, theirs, tkw), steps=12)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-15)
    fresh = our_lrs(lambda mod, opt: getattr(mod, ours)(opt, **kw), steps=resume_at + 13)
    if theirs == "StepLR" and (resume_at + 1) % tkw["step_size"] == 0:
        np.testing.assert_allclose(got, fresh[resume_at + 1:] * tkw["gamma"], rtol=RTOL)
    else:
        np.testing.assert_allclose(got, fresh[resume_at + 1:], rtol=RTOL, atol=1e-15)


def test_resuming_a_schedule_needs_initial_lr():
    opt = optim.SGD(make_params("cpu"), lr=0.1)
    with pytest.raises(KeyError, match=r"'initial_lr' is not specified in param_groups\[0\] "
                                       "when resuming a schedule at last_epoch=4"):
        optim.StepLR(opt, 3, last_epoch=4)
    assert "initial_lr" not in opt.param_groups[0]  # nothing changed
    with pytest.raises(ValueError, match="Invalid last_epoch: -2"):
        optim.StepLR(opt, 3, last_epoch=-2)


# ---- ReduceLROnPlateau ----------------------------------------------------------------------
@pytest.mark.torch
@given(metrics=st.lists(st.one_of(st.floats(-3, 3), st.sampled_from([1.0, float("nan")])),
                        min_size=1, max_size=40),
       mode=st.sampled_from(["min", "max"]), threshold_mode=st.sampled_from(["rel", "abs"]),
       threshold=st.sampled_from([0.0, 1e-4, 0.1]), patience=st.integers(0, 3),
       cooldown=st.integers(0, 2), factor=st.sampled_from([0.1, 0.5, 0.0]),
       min_lr=st.sampled_from([0.0, 1e-3, (1e-3, 0.005)]), eps=st.sampled_from([1e-8, 1e-2]))
def test_reduce_lr_on_plateau_matches_torch(metrics, mode, threshold_mode, threshold, patience,
                                            cooldown, factor, min_lr, eps):
    """The lrs, step by step, and every counter of the state, as torch's; then torch's state
    loads here and goes on the same."""
    torch = pytest.importorskip("torch")
    kw = dict(mode=mode, factor=factor, patience=patience, threshold=threshold,
              threshold_mode=threshold_mode, cooldown=cooldown, eps=eps,
              min_lr=list(min_lr) if isinstance(min_lr, tuple) else min_lr)

    def run(mod_optim, sched_mod, params):
        opt = mod_optim.SGD([{"params": [params[0]], "lr": 0.1}, {"params": [params[1]]}],
                            lr=0.02)
        sched = sched_mod.ReduceLROnPlateau(opt, **kw)
        lrs = []
        for m in metrics:
            sched.step(m)
            lrs.append(sched.get_last_lr())
            assert lrs[-1] == [g["lr"] for g in opt.param_groups]
        return lrs, sched, opt

    t_lrs, t_sched, t_opt = run(torch.optim, torch.optim.lr_scheduler,
                                [torch.zeros(2, requires_grad=True),
                                 torch.zeros(3, requires_grad=True)])
    o_lrs, o_sched, o_opt = run(optim, optim, make_params("cpu", [np.zeros(2), np.zeros(3)]))
    np.testing.assert_allclose(o_lrs, t_lrs, rtol=1e-15, atol=0)
    ours_sd, theirs_sd = o_sched.state_dict(), t_sched.state_dict()
    assert_plain(ours_sd)
    assert set(ours_sd) == set(theirs_sd)
    for k in ("num_bad_epochs", "cooldown_counter", "last_epoch", "best", "min_lrs"):
        np.testing.assert_array_equal(ours_sd[k], theirs_sd[k])
    o_sched.load_state_dict(theirs_sd)  # torch's state goes on here as in torch
    for m in metrics[:5]:
        o_sched.step(tr.tensor(m))
        t_sched.step(torch.tensor(m))
        assert o_sched.get_last_lr() == t_sched.get_last_lr()


def test_reduce_lr_on_plateau_refuses_bad_settings_and_states():
    opt = optim.SGD(make_params("cpu"), lr=0.1)
    with pytest.raises(ValueError, match=r"Invalid factor: 1.0 \(must be < 1.0"):
        optim.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match=r"mode must be one of \('min', 'max'\), got 'low'"):
        optim.ReduceLROnPlateau(opt, mode="low")
    with pytest.raises(ValueError, match="threshold_mode must be one of"):
        optim.ReduceLROnPlateau(opt, threshold_mode="relative")
    with pytest.raises(ValueError, match="expected 1 min_lrs"):
        optim.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])
    with pytest.raises(ValueError, match="Invalid patience: -1"):
        optim.ReduceLROnPlateau(opt, patience=-1)
    with pytest.raises(TypeError, match="SGD is not an Optimizer|not an Optimizer"):
        optim.ReduceLROnPlateau(object())
    sched = optim.ReduceLROnPlateau(opt, patience=0)
    sched.step(1.0)
    sd = sched.state_dict()
    with pytest.raises(ValueError, match="nothing was loaded: .*mode must be one of"):
        sched.load_state_dict({**sd, "mode": "low", "best": 5.0})
    assert sched.best == 1.0
    with pytest.raises(ValueError, match="nothing was loaded: missing keys"):
        sched.load_state_dict({"best": 0.0})
    sched.step(2.0)  # worse, patience 0: cut
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01)
    opt.add_param_group({"params": make_params("cpu", [np.zeros(1)]), "lr": 0.5})
    sched.step(3.0)  # the new group gets the default min_lr, as torch's
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.001, 0.05])
    with pytest.raises(ValueError, match=r"the metric must be one number, got shape \(2,\)"):
        sched.step(tr.tensor([1.5, 2.0]))
    assert isinstance(sched, optim.LRScheduler)  # as torch's
    with pytest.raises(TypeError, match="ReduceLROnPlateau follows a metric"):
        optim.SequentialLR(opt, [optim.StepLR(opt, 2), sched], [3])


# ---- gradient clipping ----------------------------------------------------------------------
GRADS = [g * s for g, s in zip((_rng.standard_normal(s) for s in SHAPES), (3.0, 0.1, 1.0))]


def grads_on(device, with_none=True):
    params = make_params(device, INIT + [np.zeros(2)] if with_none else INIT)
    for p, g in zip(params, GRADS):
        p.grad = tr.tensor(g, device=device)
    return params


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(device, norm_type, max_norm):
    torch = pytest.importorskip("torch")
    params = grads_on(device)
    total = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    tparams = [torch.tensor(v, requires_grad=True) for v in INIT + [np.zeros(2)]]
    for p, g in zip(tparams, GRADS):
        p.grad = torch.tensor(g)
    expected = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type=norm_type)
    assert isinstance(total, tr.Tensor) and total.shape == () and total.dtype == np.float64
    np.testing.assert_allclose(total.item(), expected.item(), rtol=RTOL)
    for p, tp in zip(params[:-1], tparams):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=RTOL)
    assert params[-1].grad is None and tparams[-1].grad is None
    if max_norm > total.item():
        for p, g in zip(params, GRADS):
            np.testing.assert_array_equal(p.grad.numpy(), g)  # untouched when not clipping


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
def test_clip_grad_value_matches_torch(device):
    torch = pytest.importorskip("torch")
    params = grads_on(device)
    clip_grad_value_(params, 0.7)
    tparams = [torch.tensor(v, requires_grad=True) for v in INIT]
    for p, g in zip(tparams, GRADS):
        p.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_value_(tparams, 0.7)
    for p, tp in zip(params, tparams):
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_clip_grad_norm_edges(device):
    params = grads_on(device)
    one = clip_grad_norm_(params[0], 1e9)  # a single tensor is accepted, as in torch
    np.testing.assert_allclose(one.item(), np.linalg.norm(GRADS[0]), rtol=1e-12)
    assert one.device == device
    assert clip_grad_norm_([Parameter(tr.zeros(3, device=device))], 1.0).item() == 0.0
    params[1].grad = tr.tensor(np.array([1.0, math.inf, 0.0, 2.0]), device=device)
    with pytest.raises(RuntimeError, match="non-finite|cannot be clipped"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    big = Parameter(tr.zeros(2, device=device))
    big.grad = tr.tensor(np.array([3e30, 4e30], dtype=np.float32), device=device)
    total = clip_grad_norm_([big], 1.0)
    assert total.dtype == np.float32 and total.item() == pytest.approx(5e30, rel=1e-6)
    np.testing.assert_allclose(big.grad.numpy(), [0.6, 0.8], rtol=1e-6)
    with pytest.raises(ValueError, match="norm_type"):
        clip_grad_norm_(params, 1.0, norm_type=float("nan"))
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value_(params, -1.0)


@pytest.mark.torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
@pytest.mark.parametrize("where", [0, 1, 2])
def test_clip_grad_norm_nan_anywhere_is_nan_as_torch(norm_type, where):
    """A NaN in any gradient makes the total NaN (and is reported), whichever it is in: the
    inf norm's max must not skip it."""
    torch = pytest.importorskip("torch")
    grads = [np.array([1.0, 2.0]), np.array([0.5, 3.0]), np.array([4.0, 0.0])]
    grads[where] = np.array([np.nan, 0.0])
    ours = [Parameter(tr.zeros(2, dtype="float64")) for _ in grads]
    theirs = [torch.zeros(2, dtype=torch.float64, requires_grad=True) for _ in grads]
    for p, tp, g in zip(ours, theirs, grads):
        p.grad, tp.grad = tr.tensor(g), torch.tensor(g)
    total = clip_grad_norm_(ours, 1.0, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type=norm_type)
    assert math.isnan(total.item()) and math.isnan(expected.item())
    for p, tp in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())  # NaN alike
    with pytest.raises(RuntimeError, match="cannot be clipped"):
        clip_grad_norm_(ours, 1.0, norm_type=norm_type, error_if_nonfinite=True)


# ---- state dicts ---------------------------------------------------------------------------------
def assert_plain(x, where="state_dict"):
    """Only dicts, lists, tuples, Python scalars, None and Tensors (what torch's holds, and what
    tr.save writes)."""
    if type(x) is dict:
        for k, v in x.items():
            assert type(k) in (int, str), (where, k)
            assert_plain(v, f"{where}[{k!r}]")
    elif type(x) in (list, tuple):
        for i, v in enumerate(x):
            assert_plain(v, f"{where}[{i}]")
    else:
        assert x is None or type(x) in (bool, int, float, str, tr.Tensor), (where, type(x))


def assert_state_tensors(opt):
    """Every state entry a Tensor, as torch's: the arrays on their parameter's device in its
    dtype, the step counts 0-d float32 tensors on the CPU."""
    for p, state in opt.state.items():
        for n, v in state.items():
            assert isinstance(v, tr.Tensor), (n, type(v))
            if n == "step":
                assert v.shape == () and v.dtype == np.float32 and v.device == "cpu", n
            else:
                assert v._dev is p._dev and v.dtype == p.dtype, n


FULL_STATE = [  # options under which each optimizer keeps every kind of state
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (optim.Adam, dict(lr=0.05, amsgrad=True, weight_decay=0.01)),
    (optim.AdamW, dict(lr=0.05, betas=(0.7, 0.9))),
    (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("cls", "kwargs"), FULL_STATE, ids=[c.__name__ for c, _ in FULL_STATE])
def test_state_dict_round_trip_continues_exactly(device, cls, kwargs):
    params_a = make_params(device)
    opt_a = cls(grouped(params_a, GROUPS), **kwargs)
    run_ours(opt_a, params_a, 4)
    sd = copy.deepcopy(opt_a.state_dict())  # (the state dict holds the optimizer's tensors)
    assert_plain(sd)
    assert sorted(sd["state"]) == [0, 1, 2]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1, 2]]
    for k, entry in sd["state"].items():
        for n, v in entry.items():
            assert (v.shape == () and n == "step") or v.shape == SHAPES[int(k)], (k, n)

    params_b = make_params(device, [p.numpy() for p in params_a])
    opt_b = cls(grouped(params_b, [([0], {}), ([1, 2], {})]), lr=123.0)
    opt_b.load_state_dict(sd)
    for entry in sd["state"].values():  # the optimizer holds copies, never the given tensors
        for v in entry.values():
            v.fill_(np.nan)
    assert opt_b.param_groups[0]["lr"] == opt_a.param_groups[0]["lr"] == 0.2
    assert opt_b.param_groups[0]["params"][0] is params_b[0]
    run_ours(opt_a, params_a, 4)
    run_ours(opt_b, params_b, 4)
    for a, b in zip(params_a, params_b):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert_state_tensors(opt_b)  # state lives on the parameters' device


def test_load_state_dict_refuses_and_changes_nothing():
    params = make_params("cpu")
    opt = optim.Adam(params, lr=0.01)
    run_ours(opt, params, 2)
    good = copy.deepcopy(opt.state_dict())
    before = copy.deepcopy(opt.state_dict())

    def bad(edit):
        sd = copy.deepcopy(opt.state_dict())  # its dicts are the optimizer's own, as torch's
        edit(sd)
        return sd

    cases = [
        (bad(lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0]))), "2 parameter"),
        (bad(lambda sd: sd["param_groups"][0]["params"].pop()), "has 2 parameters"),
        (bad(lambda sd: sd["state"][1].update(exp_avg=np.zeros(5))), r"shape \(5,\)"),
        (bad(lambda sd: sd["state"][0].pop("exp_avg_sq")), "lacks"),
        (bad(lambda sd: sd["state"][0].update(momentum_buffer=np.zeros(SHAPES[0]))),
         "unexpected"),
        (bad(lambda sd: sd["state"].update({7: sd["state"][0]})), "no parameter"),
        (bad(lambda sd: sd["param_groups"][0].update(lr="fast")), "learning rate"),
        (bad(lambda sd: sd["param_groups"][0].update(betas=[0.9, 1.5])), "beta"),
        (bad(lambda sd: sd["param_groups"][0].pop("eps")), "lacks the options"),
        (bad(lambda sd: sd["state"][0].update(step=-2)), "non-negative integer"),
        (bad(lambda sd: sd["state"][0].update(step=math.inf)), "non-negative integer"),
        (bad(lambda sd: sd["state"][0].update(step=math.nan)), "non-negative integer"),
        (bad(lambda sd: sd["param_groups"][0].update(differentiable=True)),
         "differentiable=True"),
        (bad(lambda sd: sd["param_groups"][0].update(amsgrad=True)), "lacks"),
        ({"state": {}}, "'state' and 'param_groups'"),
    ]
    for sd, match in cases:
        with pytest.raises(ValueError, match=match):
            opt.load_state_dict(sd)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for k, entry in before["state"].items():
        for n, v in entry.items():
            np.testing.assert_array_equal(after["state"][k][n], v)
    opt.load_state_dict(good)  # a sound one still loads
    str_keys = {**good, "state": {str(k): v for k, v in good["state"].items()}}
    opt.load_state_dict(str_keys)  # as a JSON-like writer may store the indices
    assert sorted(opt.state_dict()["state"]) == [0, 1, 2]


def test_load_state_dict_casts_to_parameter_dtype():
    params = make_params("cpu")
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    run_ours(opt, params, 1)
    sd = opt.state_dict()
    p32 = [Parameter(tr.tensor(v, dtype="float32")) for v in INIT]
    opt32 = optim.SGD(p32, lr=0.5, momentum=0.9)
    opt32.load_state_dict(sd)
    assert all(st["momentum_buffer"].dtype == np.float32 for st in opt32.state.values())


# ---- behaviour ---------------------------------------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("cls", "kwargs"), FULL_STATE + [(optim.AdamW, dict(weight_decay=0.5))],
                         ids=[c.__name__ for c, _ in FULL_STATE] + ["AdamW-decay"])
def test_params_without_grad_are_skipped(device, cls, kwargs):
    params = make_params(device)
    opt = cls(params, **kwargs)
    params[1].grad = tr.tensor(GRADS[1], device=device)
    opt.step()
    np.testing.assert_array_equal(params[0].numpy(), INIT[0])
    np.testing.assert_array_equal(params[2].numpy(), INIT[2])
    assert not np.array_equal(params[1].numpy(), INIT[1])
    assert list(opt.state_dict()["state"]) == [1]
    opt.zero_grad()
    assert all(p.grad is None for p in params)


@pytest.mark.parametrize("device", DEVICES)
def test_optimizer_on_strict_device_keeps_state_there(device):
    params = make_params(device)
    opt = optim.Adam(params, lr=0.01, amsgrad=True)
    sched = optim.StepLR(opt, 2)
    run_ours(opt, params, 3)
    sched.step()
    clip_grad_norm_(params, 0.1)
    clip_grad_value_(params, 0.01)
    for p in params:
        assert isinstance(p._data, p._dev.array_type)
    assert_state_tensors(opt)


def test_state_follows_module_to():
    model = nn.Linear(3, 2, dtype="float64")
    opt = optim.Adam(model.parameters(), lr=0.01)
    x = tr.tensor(np.ones((4, 3)))
    model(x).sum().backward()
    opt.step()
    model.to("strict")
    opt.zero_grad()
    model(x.to("strict")).sum().backward()
    opt.step()
    assert_state_tensors(opt)


def test_step_closure_and_float32():
    params = [Parameter(tr.tensor(v, dtype="float32")) for v in INIT]
    opt = optim.RMSprop(params, lr=0.01, momentum=0.5, centered=True)

    def closure():
        opt.zero_grad()
        loss = quadratic(params, ours_const)
        loss.backward()
        return loss

    first = opt.step(closure).item()
    for _ in range(20):
        last = opt.step(closure).item()
    assert last < first
    assert all(p.dtype == np.float32 for p in params)
    assert all(v.dtype == np.float32 for st in opt.state.values() for v in st.values()
               if not isinstance(v, int))


def _leaf():
    return Parameter(tr.zeros(3))


@pytest.mark.parametrize(("make", "error", "match"), [
    (lambda: optim.SGD([_leaf()], lr=-0.1), ValueError, "learning rate"),
    (lambda: optim.SGD([_leaf()], lr=float("nan")), ValueError, "learning rate"),
    (lambda: optim.SGD([_leaf()], lr="0.1"), TypeError, "real number"),
    (lambda: optim.SGD([_leaf()], lr=0.1, momentum=-0.5), ValueError, "momentum"),
    (lambda: optim.SGD([_leaf()], lr=0.1, weight_decay=-1), ValueError, "weight_decay"),
    (lambda: optim.SGD([_leaf()], lr=0.1, nesterov=True), ValueError, "Nesterov"),
    (lambda: optim.SGD([_leaf()], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     ValueError, "Nesterov"),
    (lambda: optim.Adam([_leaf()], betas=(1.0, 0.999)), ValueError, "beta parameter at index 0"),
    (lambda: optim.Adam([_leaf()], betas=(0.9, -0.1)), ValueError, "beta parameter at index 1"),
    (lambda: optim.Adam([_leaf()], betas=0.9), ValueError, "pair"),
    (lambda: optim.AdamW([_leaf()], eps=-1e-8), ValueError, "epsilon"),
    (lambda: optim.AdamW([_leaf()], weight_decay=-0.1), ValueError, "weight_decay"),
    (lambda: optim.RMSprop([_leaf()], alpha=-0.9), ValueError, "alpha"),
    (lambda: optim.RMSprop([_leaf()], momentum=-1), ValueError, "momentum"),
    (lambda: optim.Adam([]), ValueError, "empty parameter list"),
    (lambda: optim.Adam(_leaf()), TypeError, "wrap it in a list"),
    (lambda: optim.Adam([np.zeros(3)]), TypeError, "only optimize Tensors"),
    (lambda: optim.Adam([_leaf() * 2]), ValueError, "non-leaf"),
    (lambda: optim.Adam([p := _leaf(), p]), ValueError, "more than once"),
    (lambda: optim.Adam([{"params": [p := _leaf()]}, {"params": [p]}]), ValueError,
     "more than once"),
    (lambda: optim.Adam([{"params": [_leaf()], "lr": -1}]), ValueError, "learning rate"),
    (lambda: optim.StepLR(optim.SGD([_leaf()], lr=0.1), step_size=0), ValueError, "step_size"),
    (lambda: optim.StepLR("opt", step_size=2), TypeError, "not an Optimizer"),
    (lambda: optim.CosineAnnealingLR(optim.SGD([_leaf()], lr=0.1), T_max=0), ValueError,
     "T_max"),
    (lambda: optim.LinearWarmup(optim.SGD([_leaf()], lr=0.1), 5, start_factor=1.5), ValueError,
     "start_factor"),
    (lambda: optim.LinearWarmup(optim.SGD([_leaf()], lr=0.1), 2.5), TypeError, "warmup_steps"),
    (lambda: optim.SequentialLR(o := optim.SGD([_leaf()], lr=0.1), [optim.StepLR(o, 2)], [3]),
     ValueError, "milestones"),
    (lambda: optim.SequentialLR(o := optim.SGD([_leaf()], lr=0.1),
                                [optim.StepLR(o, 2), optim.StepLR(o, 3)], [0]),
     ValueError, "milestone"),
    (lambda: optim.SequentialLR(optim.SGD([_leaf()], lr=0.1),
                                [optim.StepLR(optim.SGD([_leaf()], lr=0.1), 2)], []),
     ValueError, "optimizer given"),
])
def test_arguments_are_validated(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_step_refuses_a_misshaped_gradient():
    p = _leaf()
    opt = optim.SGD([p], lr=0.1)
    p.grad = tr.zeros(4)
    with pytest.raises(ValueError, match="shape"):
        opt.step()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("cls", "kwargs"), FULL_STATE, ids=[c.__name__ for c, _ in FULL_STATE])
def test_a_bad_gradient_anywhere_updates_nothing(device, cls, kwargs):
    params = make_params(device)
    opt = cls(params, **kwargs)
    run_ours(opt, params, 1)
    before = ([p.numpy().copy() for p in params], opt.state_dict())
    other = "strict" if device == "cpu" else "cpu"
    last = params[-1]
    for bad, error, match in [
        (tr.zeros(last.shape[:-1] + (last.shape[-1] + 1,), dtype=last.dtype, device=device),
         ValueError, "shape"),
        (tr.zeros(last.shape, dtype="float32", device=device), ValueError, "dtype float32"),
        (tr.zeros(last.shape, dtype=last.dtype, device=other), ValueError, f"device '?{other}"),
        (np.zeros(last.shape, np.float32), TypeError, "must be a Tensor"),
    ]:
        for p in params:
            p.grad = tr.ones(p.shape, dtype=p.dtype, device=device)
        last.grad = bad
        with pytest.raises(error, match=match):
            opt.step()
        for p, b in zip(params, before[0]):
            np.testing.assert_array_equal(p.numpy(), b)
        after = opt.state_dict()
        assert after["param_groups"] == before[1]["param_groups"]
        for k, entry in before[1]["state"].items():
            for n, v in entry.items():
                np.testing.assert_array_equal(after["state"][k][n], v)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_torch_options_this_optimizer_lacks_are_refused_not_ignored(name):
    torch = pytest.importorskip("torch")
    p = _leaf()
    with pytest.raises(ValueError, match="does not implement PyTorch's differentiable=True"):
        getattr(optim, name)([{"params": [p], "differentiable": True}], lr=0.1)
    with pytest.raises(ValueError, match="does not implement PyTorch's differentiable=True"):
        getattr(optim, name)([p], lr=0.1, differentiable=True)
    with pytest.raises(TypeError, match="unexpected keyword argument 'lr_decay'"):
        getattr(optim, name)([p], lr=0.1, lr_decay=0.1)
    opt = getattr(optim, name)([p], lr=0.1)
    tp = torch.nn.Parameter(torch.ones(3))
    topt = getattr(torch.optim, name)([tp], lr=0.1, foreach=False)
    groups = topt.state_dict()["param_groups"]
    opt.load_state_dict({"state": {}, "param_groups": groups})  # torch's defaults load
    for k, v in opt.param_groups[0].items():
        if k != "params" and k in groups[0]:
            assert v == groups[0][k], k
    opt.param_groups[0]["name"] = "kept"  # other keys are kept and ignored, as in torch
    p.grad = tr.ones(3)
    opt.step()
    assert opt.state_dict()["param_groups"][0]["name"] == "kept"
    named = optim.SGD([{"params": [_leaf()], "name": "encoder"}], lr=0.1)
    assert named.param_groups[0]["name"] == "encoder"
    assert named.state_dict()["param_groups"][0]["name"] == "encoder"


def test_a_state_saved_before_a_schedule_loads_into_a_scheduled_optimizer():
    p = _leaf()
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    saved = opt.state_dict()
    sched = optim.StepLR(opt, 2, gamma=0.5)
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["initial_lr"] == 0.1
    for _ in range(2):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05)


@pytest.mark.parametrize(("make", "edit", "match"), [
    (lambda o: optim.StepLR(o, 2), dict(gamma="x", step_size=0), "step_size.*gamma"),
    (lambda o: optim.StepLR(o, 2), dict(last_epoch="5"), "last_epoch"),
    (lambda o: optim.ExponentialLR(o, 0.9), dict(gamma=-1.0), "gamma"),
    (lambda o: optim.CosineAnnealingLR(o, 10), dict(T_max=0), "T_max"),
    (lambda o: optim.LinearWarmup(o, 3), dict(start_factor=2.0), "start_factor"),
    (lambda o: optim.StepLR(o, 2), dict(base_lrs=[-0.1]), "learning rate"),
    (lambda o: optim.SequentialLR(o, [optim.LinearWarmup(o, 3), optim.ExponentialLR(o, 0.9)],
                                  [3]), dict(_milestones=[0]), "milestone"),
])
def test_scheduler_load_state_dict_checks_values(make, edit, match):
    opt = optim.SGD([_leaf()], lr=0.1)
    sched = make(opt)
    before = sched.state_dict()
    with pytest.raises(ValueError, match=match):
        sched.load_state_dict({**before, **edit})
    assert sched.state_dict() == before


def test_clip_grad_refuses_a_non_float_gradient_before_scaling_any():
    a, b = _leaf(), _leaf()
    a.grad, b.grad = tr.full((3,), 10.0), tr.tensor([1, 2, 3])
    for clip in (lambda: clip_grad_norm_([a, b], 1.0), lambda: clip_grad_value_([a, b], 1.0)):
        with pytest.raises(TypeError, match="floating-point"):
            clip()
        np.testing.assert_array_equal(a.grad.numpy(), [10.0, 10.0, 10.0])


@pytest.mark.torch
@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop", "SGD"])
def test_training_moves_over_from_torch_midway(name):
    """A model, an optimizer and a schedule trained for a while in PyTorch load here as PyTorch
    saved them (its parameters straight from named_parameters(), Adam's step as a 0-d tensor,
    the schedule's own bookkeeping keys) and continue exactly as PyTorch continues."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    kw = {"lr": 0.01, **({"momentum": 0.9} if name in ("SGD", "RMSprop") else {})}
    tm = torch.nn.Linear(3, 2).double()
    topt = getattr(torch.optim, name)(tm.parameters(), **kw)
    tsch = torch.optim.lr_scheduler.StepLR(topt, 2, 0.5)
    x = np.random.default_rng(0).standard_normal((4, 3))

    def torch_step():
        topt.zero_grad()
        (tm(torch.tensor(x)) ** 2).sum().backward()
        topt.step()
        tsch.step()

    for _ in range(3):
        torch_step()
    m = nn.Linear(3, 2).double()
    m.load_state_dict(dict(tm.named_parameters()))  # tensors that require grad
    opt = getattr(optim, name)(m.parameters(), **kw)
    sch = optim.StepLR(opt, 2, 0.5)
    opt.load_state_dict(topt.state_dict())
    sch.load_state_dict(tsch.state_dict())
    for _ in range(4):
        torch_step()
        opt.zero_grad()
        (m(tr.tensor(x)) ** 2).sum().backward()
        opt.step()
        sch.step()
        assert sch.get_last_lr() == tsch.get_last_lr()
    for ours, theirs in zip(m.parameters(), tm.parameters()):
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.torch
def test_named_parameters_default_lr_and_foreach_as_in_torch():
    """optim.X(model.named_parameters()) keeps the names in "param_names", as torch 2.13
    does; SGD's lr defaults to 1e-3; clip_grad_norm_(foreach=...) is accepted."""
    torch = pytest.importorskip("torch")
    m, tm = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    for name in ("SGD", "Adam"):
        ours = getattr(optim, name)(m.named_parameters())
        theirs = getattr(torch.optim, name)(tm.named_parameters())
        assert ours.param_groups[0]["param_names"] == theirs.param_groups[0]["param_names"]
        assert ours.param_groups[0]["lr"] == theirs.param_groups[0]["lr"] == 1e-3
        assert [p is q for p, q in zip(ours.param_groups[0]["params"], m.parameters())] == \
            [True, True]
        sd = ours.state_dict()
        assert sd["param_groups"][0]["param_names"] == ["weight", "bias"]
        ours.load_state_dict(sd)
    with pytest.raises(TypeError, match="with names .* or none"):
        optim.SGD([("weight", m.weight), m.bias])
    m.weight.grad = tr.ones(3, 2)
    total = clip_grad_norm_(m.parameters(), 1.0, foreach=True)
    assert total.item() == pytest.approx(6 ** 0.5, rel=1e-6)


def test_schedules_live_in_optim_lr_scheduler_too_as_in_torch():
    from tinygrad_rnn.optim.lr_scheduler import ReduceLROnPlateau, StepLR

    assert optim.lr_scheduler.StepLR is optim.StepLR is StepLR
    assert ReduceLROnPlateau is optim.ReduceLROnPlateau
    opt = optim.SGD(make_params("cpu"), lr=0.1)
    per_group = optim.LambdaLR(opt, [lambda t: 1.0 / (t + 1)])
    for _ in range(3):
        opt.step()
        per_group.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.025)
    sd = per_group.state_dict()
    assert "_lr_lambdas" not in sd  # functions are not saved, as torch's
    assert_plain(sd)
    again = optim.LambdaLR(optim.SGD(make_params("cpu"), lr=0.1), lambda t: 1.0 / (t + 1))
    again.load_state_dict(sd)
    assert again.get_last_lr() == per_group.get_last_lr()
    with pytest.raises(ValueError, match="expected 1 lr_lambdas"):
        optim.LambdaLR(opt, [lambda t: 1.0, lambda t: 2.0])
    with pytest.raises(ValueError, match=r"Invalid start_factor: 0 \(must be in \(0, 1\]\)"):
        optim.LinearLR(opt, start_factor=0)


ALL_OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam",
                  "Adadelta"]


@pytest.mark.torch
@pytest.mark.parametrize("name", ALL_OPTIMIZERS)
def test_maximize_and_torchs_implementation_flags_as_torch(name):
    """maximize=True ascends (each optimizer negates the gradient first, as PyTorch's);
    foreach, fused and capturable choose how PyTorch computes the same update: accepted."""
    torch = pytest.importorskip("torch")
    opts = dict(lr=0.05, weight_decay=0.01)
    if name in ("SGD", "RMSprop"):
        opts["momentum"] = 0.9
    w0 = np.random.default_rng(0).standard_normal(4)
    p, tp = tr.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    flags = {} if name in ("SGD", "Adagrad") else dict(capturable=False)  # as torch's take
    ours = getattr(optim, name)([p], maximize=True, foreach=False, **flags, **opts)
    theirs = getattr(torch.optim, name)([tp], maximize=True, foreach=False, **opts)
    for _ in range(5):
        for w, opt, lib in ((p, ours, tr), (tp, theirs, torch)):
            opt.zero_grad()
            (-(w - lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=w.dtype)) ** 2).sum().backward()
            opt.step()
    rtol = 1e-7 if name == "NAdam" else 1e-9  # its momentum product: float32 in torch
    np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=rtol, atol=1e-12)
    assert ours.param_groups[0]["maximize"] is True
    fresh = getattr(optim, name)([tr.tensor(w0, requires_grad=True)], **opts)
    fresh.load_state_dict(ours.state_dict())  # maximize travels with the groups
    assert fresh.param_groups[0]["maximize"] is True
    sd = ours.state_dict()
    del sd["param_groups"][0]["maximize"]  # a checkpoint from before the option
    fresh = getattr(optim, name)([tr.tensor(w0, requires_grad=True)], **opts)
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["maximize"] is False


def test_a_custom_optimizer_written_for_pytorch_runs_and_resumes():
    """A subclass with its own step keeps what it likes in self.state[p] (a dict made on
    first use); its state dict saves that and loads it back as tensors."""

    class MomentumSGD(optim.Optimizer):
        def __init__(self, params, lr=0.1, momentum=0.9):
            super().__init__(params, dict(lr=lr, momentum=momentum))

        @tr.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    if "buf" not in state:
                        state["buf"] = tr.zeros_like(p)
                        state["count"] = 0
                    state["buf"].mul_(group["momentum"]).add_(p.grad)
                    state["count"] += 1
                    p.add_(state["buf"], alpha=-group["lr"])

    def run(opt, p, steps):
        for _ in range(steps):
            opt.zero_grad()
            ((p - 3.0) ** 2).sum().backward()
            opt.step()

    p = tr.tensor([0.0, 1.0], dtype="float64", requires_grad=True)
    opt = MomentumSGD([p])
    run(opt, p, 3)
    saved, at = copy.deepcopy(opt.state_dict()), p.detach().clone()
    run(opt, p, 2)
    q = tr.tensor(at.numpy(), requires_grad=True)
    resumed = MomentumSGD([q])
    resumed.load_state_dict(saved)
    assert isinstance(resumed.state[q]["buf"], tr.Tensor)
    assert resumed.state[q]["buf"].dtype == np.float64 and resumed.state[q]["count"] == 3
    run(resumed, q, 2)
    np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("base", ["LRScheduler", "_LRScheduler"])
@pytest.mark.parametrize("sequential", [False, True])
def test_a_schedule_written_for_pytorch_with_get_lr_runs_as_torch(base, sequential):
    """A warmup schedule as seq2seq code writes it: a subclass with only get_lr(), alone or
    as the first phase of a SequentialLR."""
    torch = pytest.importorskip("torch")

    def trace(lib, opt_mod):
        class Warmup(getattr(opt_mod.lr_scheduler, base)):
            def __init__(self, optimizer, warmup, last_epoch=-1):
                self.warmup = warmup
                super().__init__(optimizer, last_epoch)

            def get_lr(self):
                scale = min(1.0, (self.last_epoch + 1) / self.warmup)
                return [b * scale for b in self.base_lrs]

        p = lib.zeros(2, requires_grad=True)
        opt = opt_mod.SGD([p], lr=1.0)
        sched = Warmup(opt, 4)
        if sequential:
            sched = opt_mod.lr_scheduler.SequentialLR(
                opt, [sched, opt_mod.lr_scheduler.ExponentialLR(opt, 0.5)], [6])
        lrs = []
        for _ in range(9):
            lrs.append(opt.param_groups[0]["lr"])
            p.grad = lib.ones(2)
            opt.step()
            sched.step()
        return lrs

    np.testing.assert_allclose(trace(tr, optim), trace(torch, torch.optim), rtol=1e-12)


@pytest.mark.torch
def test_a_run_saved_here_in_torchs_format_resumes_in_torch_with_its_state():
    """The optimizer's state keyed by ints, as torch's: torch takes it with its moments;
    LambdaLR's and CyclicLR's states carry what torch's load needs."""
    import io

    torch = pytest.importorskip("torch")
    w0 = np.random.default_rng(0).standard_normal(3)
    p = tr.tensor(w0, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    sched = optim.lr_scheduler.LambdaLR(opt, lambda e: 0.9 ** e)
    for _ in range(3):
        opt.zero_grad()
        ((p - 1) ** 2).sum().backward()
        opt.step()
        sched.step()
    buf = io.BytesIO()
    tr.save({"opt": opt.state_dict(), "sched": sched.state_dict(), "w": p.detach()}, buf,
            format="torch")
    buf.seek(0)
    ck = torch.load(buf)
    tp = torch.tensor(ck["w"].numpy(), requires_grad=True)
    topt = torch.optim.Adam([tp], lr=0.1)
    tsched = torch.optim.lr_scheduler.LambdaLR(topt, lambda e: 0.9 ** e)
    topt.load_state_dict(ck["opt"])
    tsched.load_state_dict(ck["sched"])
    for _ in range(3):
        for w, o, s in ((p, opt, sched), (tp, topt, tsched)):
            o.zero_grad()
            ((w - 1) ** 2).sum().backward()
            o.step()
            s.step()
    np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-12)
    cyc = optim.lr_scheduler.CyclicLR(optim.SGD([tr.zeros(1, requires_grad=True)], lr=1.0),
                                      0.1, 1.0)
    torch.optim.lr_scheduler.CyclicLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)],
                                                      lr=1.0), 0.1, 1.0).load_state_dict(
        cyc.state_dict())

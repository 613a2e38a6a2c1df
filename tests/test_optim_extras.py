"""The optimizers and schedules beyond the basics: Adagrad, Adamax, NAdam, RAdam, Adadelta;
ConstantLR, PolynomialLR, MultiplicativeLR, CyclicLR, CosineAnnealingWarmRestarts, OneCycleLR,
ChainedScheduler. Each follows torch.optim step by step (float64, rtol 1e-10), with param
groups of their own settings; a state saved mid-run (here or by torch) goes on exactly; bad
arguments are refused by name."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import optim
from tinygrad_rnn.nn import Parameter

from .conftest import DEVICES

# the problem of test_optim.py: its quadratic, parameters and comparisons
from .test_optim import INIT, RTOL, assert_moves_equal, grouped, quadratic, run_ours


def make_params(device="cpu", values=INIT):
    return [Parameter(tr.tensor(v, device=device)) for v in values]


@contextlib.contextmanager
def float64_scalars(torch):
    """torch keeps NAdam's mu_product (and the step counts) in its default dtype: float64
    makes it the exact reference for our float64 numbers."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


@pytest.fixture(autouse=True)
def _float64_scalars_here_too():
    """Ours keeps NAdam's mu_product and the step counts in its default dtype too, as torch:
    float64 for the comparisons with torch's float64 run."""
    old = tr.get_default_dtype()
    tr.set_default_dtype(np.float64)
    try:
        yield
    finally:
        tr.set_default_dtype(old)


def torch_steps(torch, opt, params, steps):
    with float64_scalars(torch):
        for _ in range(steps):
            opt.zero_grad()
            quadratic(params, lambda a, p: torch.tensor(a)).backward()
            opt.step()


def torch_run(torch, name, kwargs, groups=None, steps=30):
    params = [torch.tensor(v, requires_grad=True) for v in INIT]
    opt = getattr(torch.optim, name)(grouped(params, groups), **kwargs, foreach=False)
    torch_steps(torch, opt, params, steps)
    return opt, params


# ---- optimizers ---------------------------------------------------------------------------------
OPTIMIZER_CASES = [
    ("Adagrad", {}),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.3,
                     eps=1e-6)),
    ("Adamax", {}),
    ("Adamax", dict(lr=0.05, betas=(0.7, 0.8), eps=1e-4, weight_decay=0.1)),
    ("NAdam", {}),
    ("NAdam", dict(lr=0.05, betas=(0.8, 0.9), momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True)),
    ("RAdam", {}),  # rho_t > 5 from step 6 on: both branches
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True)),
    ("Adadelta", {}),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=0.1)),
]


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZER_CASES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZER_CASES)])
def test_optimizer_matches_torch(device, name, kwargs):
    torch = pytest.importorskip("torch")
    params = make_params(device)
    run_ours(getattr(optim, name)(params, **kwargs), params, 30)
    _, theirs = torch_run(torch, name, kwargs)
    assert_moves_equal([p.numpy() for p in params], [t.detach().numpy() for t in theirs])


GROUP_CASES = [  # the second group overrides every option it can
    ("Adagrad", dict(lr=0.05), dict(lr=0.2, lr_decay=0.1, weight_decay=0.3, eps=1e-3)),
    ("Adamax", dict(lr=0.01), dict(lr=0.03, betas=(0.5, 0.9), weight_decay=0.2, eps=1e-3)),
    ("NAdam", dict(lr=0.01), dict(lr=0.03, betas=(0.5, 0.9), momentum_decay=0.02,
                                  weight_decay=0.2, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1), dict(lr=0.03, betas=(0.5, 0.8),
                                                    decoupled_weight_decay=True)),
    ("Adadelta", dict(lr=0.5), dict(lr=1.5, rho=0.8, eps=1e-3, weight_decay=0.1)),
]


@pytest.mark.torch
@pytest.mark.parametrize(("name", "kwargs", "second"), GROUP_CASES,
                         ids=[c[0] for c in GROUP_CASES])
def test_param_groups_with_their_own_settings_match_torch(name, kwargs, second):
    torch = pytest.importorskip("torch")
    groups = [([0, 2], {}), ([1], second)]
    params = make_params()
    opt = getattr(optim, name)(grouped(params, groups), **kwargs)
    assert {k: opt.param_groups[1][k] for k in second} == second
    run_ours(opt, params, 30)
    topt, theirs = torch_run(torch, name, kwargs, groups)
    assert_moves_equal([p.numpy() for p in params], [t.detach().numpy() for t in theirs])
    ours_groups, torch_groups = opt.state_dict()["param_groups"], topt.state_dict()["param_groups"]
    for o, t in zip(ours_groups, torch_groups):  # the same options, by torch's names
        assert set(o) == set(t)
        assert {k: v for k, v in o.items() if k != "foreach"} == \
            {k: v for k, v in t.items() if k != "foreach"}  # (torch's ran with foreach=False)


FULL = [  # options under which each keeps every kind of state
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    (optim.Adamax, dict(lr=0.05, weight_decay=0.01)),
    (optim.NAdam, dict(lr=0.05, weight_decay=0.01, decoupled_weight_decay=True)),
    (optim.RAdam, dict(lr=0.05, betas=(0.8, 0.9))),
    (optim.Adadelta, dict(lr=0.5, weight_decay=0.01)),
]


def assert_plain(x):
    """Only dicts, lists, tuples, Python scalars, None and Tensors (what a checkpoint holds)."""
    if type(x) is dict:
        for k, v in x.items():
            assert type(k) in (int, str), k
            assert_plain(v)
    elif type(x) in (list, tuple):
        for v in x:
            assert_plain(v)
    else:
        assert x is None or type(x) in (bool, int, float, str, tr.Tensor), type(x)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("cls", "kwargs"), FULL, ids=[c.__name__ for c, _ in FULL])
def test_state_dict_mid_run_continues_exactly(device, cls, kwargs):
    groups = [([0], {"lr": 0.02}), ([1, 2], {})]
    params_a = make_params(device)
    opt_a = cls(grouped(params_a, groups), **kwargs)
    run_ours(opt_a, params_a, 7)
    sd = opt_a.state_dict()
    assert_plain(sd)
    assert sorted(sd["state"]) == [0, 1, 2]
    params_b = make_params(device, [p.numpy() for p in params_a])
    opt_b = cls(grouped(params_b, [([0], {}), ([1, 2], {})]), **kwargs)
    opt_b.load_state_dict(sd)
    assert opt_b.param_groups[0]["lr"] == 0.02
    run_ours(opt_a, params_a, 8)
    run_ours(opt_b, params_b, 8)
    for a, b in zip(params_a, params_b):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for state in opt_b.state.values():  # tensors: arrays on the parameters' device
        for n, v in state.items():
            assert isinstance(v, tr.Tensor)
            assert n == "step" or v._dev is params_b[0]._dev


@pytest.mark.torch
@pytest.mark.parametrize(("name", "kwargs"), [(c.__name__, kw) for c, kw in FULL],
                         ids=[c.__name__ for c, _ in FULL])
def test_torch_state_mid_run_loads_and_goes_on_as_torch(name, kwargs):
    """torch's state dict (steps and NAdam's mu_product as 0-d tensors) loads here, and both go
    on alike; ours has torch's entries by name."""
    torch = pytest.importorskip("torch")
    topt, theirs = torch_run(torch, name, kwargs, steps=6)
    params = make_params(values=[t.detach().numpy() for t in theirs])
    opt = getattr(optim, name)(params, **kwargs)
    opt.load_state_dict(topt.state_dict())
    run_ours(opt, params, 9)
    torch_steps(torch, topt, theirs, 9)
    assert_moves_equal([p.numpy() for p in params], [t.detach().numpy() for t in theirs])
    ours_state, torch_state = opt.state_dict()["state"], topt.state_dict()["state"]
    assert set(ours_state[0]) == set(torch_state[0])
    for n, v in torch_state[0].items():
        np.testing.assert_allclose(ours_state[0][n], v.numpy(), rtol=1e-9)


def test_nadam_keeps_mu_product_as_torch_and_checks_it_on_load():
    """A 0-d tensor of the default dtype, as torch's; loaded, in the parameter's dtype (as
    torch's load casts it), from a tensor, an array or a number (an older state dict)."""
    params = make_params()
    opt = optim.NAdam(params, lr=0.01)
    run_ours(opt, params, 3)
    sd = opt.state_dict()
    product = sd["state"][0]["mu_product"]
    assert isinstance(product, tr.Tensor) and product.shape == () and 0 < product.item() < 1
    assert product.dtype == tr.get_default_dtype()
    bad = {**sd, "state": {**sd["state"], 0: {**sd["state"][0], "mu_product": "x"}}}
    with pytest.raises(ValueError, match=r"mu_product'\] must be a finite number"):
        opt.load_state_dict(bad)
    for given in (np.array(0.5), 0.5, tr.tensor(0.5, dtype=np.float32)):
        opt.load_state_dict({**sd, "state": {**sd["state"], 0: {
            **sd["state"][0], "mu_product": given}}})
        loaded = opt.state[params[0]]["mu_product"]
        assert isinstance(loaded, tr.Tensor) and loaded.item() == 0.5
        assert loaded.dtype == params[0].dtype


def _leaf():
    return Parameter(tr.zeros(3))


@pytest.mark.parametrize(("make", "error", "match"), [
    (lambda: optim.Adagrad([_leaf()], lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
    (lambda: optim.Adagrad([_leaf()], lr_decay=-1), ValueError, "Invalid lr_decay value"),
    (lambda: optim.Adagrad([_leaf()], weight_decay=-1), ValueError, "weight_decay"),
    (lambda: optim.Adagrad([_leaf()], initial_accumulator_value=-1), ValueError,
     "Invalid initial_accumulator_value"),
    (lambda: optim.Adagrad([_leaf()], eps=-1e-10), ValueError, "Invalid epsilon"),
    (lambda: optim.Adagrad([{"params": [_leaf()], "initial_accumulator_value": 0.5}]),
     ValueError, "initial_accumulator_value=0.5 cannot be set per group"),
    (lambda: optim.Adamax([_leaf()], betas=(1.0, 0.9)), ValueError, "beta parameter at index 0"),
    (lambda: optim.Adamax([_leaf()], eps=-1), ValueError, "epsilon"),
    (lambda: optim.NAdam([_leaf()], momentum_decay=-0.1), ValueError,
     "Invalid momentum_decay value"),
    (lambda: optim.NAdam([_leaf()], betas=(0.9,)), ValueError, "betas must be a pair"),
    (lambda: optim.RAdam([_leaf()], betas=(0.9, 1.0)), ValueError, "beta parameter at index 1"),
    (lambda: optim.RAdam([_leaf()], weight_decay=-0.1), ValueError, "weight_decay"),
    (lambda: optim.Adadelta([_leaf()], rho=1.5), ValueError, "Invalid rho value: 1.5"),
    (lambda: optim.Adadelta([_leaf()], lr=-1.0), ValueError, "learning rate"),
    (lambda: optim.Adadelta([_leaf()], lr="1"), TypeError, "lr|learning rate"),
])
def test_optimizer_arguments_are_validated(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("cls", [c for c, _ in FULL], ids=[c.__name__ for c, _ in FULL])
def test_torch_options_not_implemented_are_refused(cls):
    for option in ("differentiable",):  # maximize is implemented; capturable changes nothing
        with pytest.raises(ValueError, match=f"does not implement PyTorch's {option}=True"):
            cls([{"params": [_leaf()], option: True}])
    cls([{"params": [_leaf()], "maximize": False, "foreach": None}])  # torch's defaults load


# ---- schedules ----------------------------------------------------------------------------------
def _trace(opt, sched, steps):
    """Each group's lr and momentum (or beta1) after making the schedule and after each step."""
    def now():
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
        return [[g["lr"], g["betas"][0] if "betas" in g else g.get("momentum", 0.0)]
                for g in opt.param_groups]

    out = [now()]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(now())
    return np.array(out)


def _optimizer(mod, params, kind):
    groups = [{"params": [params[0]], "lr": 0.1}, {"params": [params[1]]}]
    if kind == "adam":
        return mod.Adam(groups, lr=0.02, betas=(0.9, 0.99))
    return mod.SGD(groups, lr=0.02, momentum=0.5 if kind == "momentum" else 0.0)


def torch_trace(torch, make, steps=30, kind="sgd"):
    params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    opt = _optimizer(torch.optim, params, kind)
    return _trace(opt, make(torch.optim.lr_scheduler, opt), steps)


def our_trace(make, steps=30, kind="sgd"):
    opt = _optimizer(optim, make_params("cpu", [np.zeros(2), np.zeros(3)]), kind)
    return _trace(opt, make(optim.lr_scheduler, opt), steps)


SCHEDULE_CASES = {  # name: (schedule, its arguments, the optimizer it drives)
    "constant": ("ConstantLR", {}, "sgd"),
    "constant-4": ("ConstantLR", dict(factor=0.5, total_iters=4), "sgd"),
    "constant-0": ("ConstantLR", dict(factor=0.2, total_iters=0), "sgd"),
    "polynomial": ("PolynomialLR", {}, "sgd"),
    "polynomial-2": ("PolynomialLR", dict(total_iters=12, power=2.0), "sgd"),
    "polynomial-half": ("PolynomialLR", dict(total_iters=40, power=0.5), "sgd"),
    "multiplicative": ("MultiplicativeLR", dict(lr_lambda=lambda t: 0.9), "sgd"),
    "multiplicative-groups": ("MultiplicativeLR", dict(lr_lambda=[
        lambda t: 0.95, lambda t: 1.0 - 0.01 * t]), "sgd"),
    "restarts": ("CosineAnnealingWarmRestarts", dict(T_0=5), "sgd"),
    "restarts-mult": ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=1e-3), "sgd"),
    "cyclic": ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4), "momentum"),
    "cyclic-2": ("CyclicLR", dict(base_lr=[0.01, 0.001], max_lr=[0.1, 0.05], step_size_up=3,
                                  step_size_down=5, mode="triangular2",
                                  base_momentum=[0.8, 0.7], max_momentum=0.95), "momentum"),
    "cyclic-exp": ("CyclicLR", dict(base_lr=0.001, max_lr=0.1, step_size_up=2.5,
                                    mode="exp_range", gamma=0.95, cycle_momentum=False), "sgd"),
    "cyclic-fn": ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5,
                                   scale_fn=lambda x: 1.0 / (1.0 + 0.1 * x),
                                   scale_mode="iterations"), "adam"),
    "onecycle": ("OneCycleLR", dict(max_lr=0.5, total_steps=30), "momentum"),
    "onecycle-linear": ("OneCycleLR", dict(max_lr=[0.5, 0.1], epochs=3, steps_per_epoch=10,
                                           pct_start=0.25, anneal_strategy="linear",
                                           div_factor=10.0, final_div_factor=100.0,
                                           base_momentum=[0.8, 0.85]), "momentum"),
    "onecycle-3": ("OneCycleLR", dict(max_lr=0.3, total_steps=30, three_phase=True,
                                      pct_start=0.2), "adam"),
    "onecycle-nomom": ("OneCycleLR", dict(max_lr=0.3, total_steps=30, cycle_momentum=False),
                       "sgd"),
}


def _maker(case, **extra):
    name, kw, _ = SCHEDULE_CASES[case]
    return lambda mod, opt: getattr(mod, name)(opt, **kw, **extra)


@pytest.mark.torch
@pytest.mark.parametrize("case", list(SCHEDULE_CASES))
def test_schedule_matches_torch(case):
    """The lrs and momenta step by step, as torch's (OneCycleLR to its last allowed step)."""
    torch = pytest.importorskip("torch")
    kind = SCHEDULE_CASES[case][2]
    np.testing.assert_allclose(our_trace(_maker(case), kind=kind),
                               torch_trace(torch, _maker(case), kind=kind), rtol=RTOL, atol=1e-15)


def _chain(*parts):
    def make(mod, opt):
        return mod.ChainedScheduler([getattr(mod, n)(opt, **kw) for n, kw in parts])
    return make


CHAIN_CASES = {  # torch's own example, the cosine's recursive form past a trough, and
    # schedules without a recursive form (they set their own lrs) before and after others
    "constant-exponential": _chain(("ConstantLR", dict(factor=0.1, total_iters=20)),
                                   ("ExponentialLR", dict(gamma=0.9))),
    "linear-cosine": _chain(("LinearLR", dict(start_factor=0.2, total_iters=4)),
                            ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001))),
    "step-multistep-poly": _chain(("StepLR", dict(step_size=3, gamma=0.5)),
                                  ("MultiStepLR", dict(milestones=[2, 5, 5], gamma=0.7)),
                                  ("PolynomialLR", dict(total_iters=40, power=2.0))),
    "multiplicative-constant": _chain(("MultiplicativeLR", dict(lr_lambda=lambda t: 0.97)),
                                      ("ConstantLR", dict(factor=0.5, total_iters=3))),
    "lambda-exponential": _chain(("LambdaLR", dict(lr_lambda=lambda t: 1.0 / (t + 1))),
                                 ("ExponentialLR", dict(gamma=0.95))),
    "exponential-restarts": _chain(("ExponentialLR", dict(gamma=0.95)),
                                   ("CosineAnnealingWarmRestarts", dict(T_0=4))),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", list(CHAIN_CASES))
def test_chained_scheduler_matches_torch(case):
    torch = pytest.importorskip("torch")
    make = CHAIN_CASES[case]
    np.testing.assert_allclose(our_trace(make), torch_trace(torch, make), rtol=RTOL, atol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("resume_at", [2, 7])
@pytest.mark.parametrize("case", ["constant-4", "polynomial-2", "multiplicative-groups",
                                  "restarts", "cyclic-2", "onecycle-linear"])
def test_schedule_resumed_with_last_epoch_matches_torch(case, resume_at):
    """Made again with last_epoch=k over groups that hold the lrs of step k + 1 (and the
    initial_lr, max_lr, ... the first one recorded), a schedule goes on as one that never
    stopped, and as torch's."""
    torch = pytest.importorskip("torch")
    kind = SCHEDULE_CASES[case][2]

    def resumed(mod, opt):
        first = _maker(case)(mod, opt)
        with warnings.catch_warnings():  # torch's: a schedule stepped before the optimizer
            warnings.simplefilter("ignore", UserWarning)
            for _ in range(resume_at + 1):
                first.step()
        return _maker(case, last_epoch=resume_at)(mod, opt)

    got = our_trace(resumed, steps=12, kind=kind)
    fresh = our_trace(_maker(case), steps=resume_at + 13, kind=kind)
    np.testing.assert_allclose(got, fresh[resume_at + 1:], rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(got, torch_trace(torch, resumed, steps=12, kind=kind),
                               rtol=RTOL, atol=1e-15)


ROUND_TRIP = ["multiplicative-groups", "restarts-mult", "cyclic-2", "cyclic-fn", "onecycle-3"]


@pytest.mark.parametrize("case", ROUND_TRIP + list(CHAIN_CASES))
def test_schedule_state_dict_mid_run_continues_exactly(case):
    """Saved after 7 steps, loaded as PyTorch advises (make the schedule, then load the
    optimizer's state, then the schedule's), the run goes on exactly."""
    make, kind = (_maker(case), SCHEDULE_CASES[case][2]) if case in SCHEDULE_CASES \
        else (CHAIN_CASES[case], "sgd")

    def started():
        opt = _optimizer(optim, make_params("cpu", [np.zeros(2), np.zeros(3)]), kind)
        return opt, make(optim, opt)

    opt_a, sched_a = started()
    _trace(opt_a, sched_a, 7)
    sd = sched_a.state_dict()
    assert_plain(sd)
    opt_b, sched_b = started()
    opt_b.load_state_dict(opt_a.state_dict())
    sched_b.load_state_dict(sd)
    assert sched_b.state_dict() == sd
    np.testing.assert_array_equal(_trace(opt_b, sched_b, 15), _trace(opt_a, sched_a, 15))
    with pytest.raises(ValueError, match="nothing was loaded"):
        sched_b.load_state_dict({**sd, "last_epoch": -5, "_last_lr": [0.1]})
    assert sched_b.state_dict() == sched_a.state_dict() != sd  # the bad load changed nothing


@pytest.mark.torch
@pytest.mark.parametrize("case", ["restarts-mult", "cyclic-2", "onecycle-3", "constant-4",
                                  "polynomial-2"])
def test_torch_schedule_state_loads_and_goes_on_as_torch(case):
    """A schedule's state dict that torch saved (its bookkeeping keys included) loads here."""
    torch = pytest.importorskip("torch")
    kind = SCHEDULE_CASES[case][2]
    tparams = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    topt = _optimizer(torch.optim, tparams, kind)
    tsched = _maker(case)(torch.optim.lr_scheduler, topt)
    _trace(topt, tsched, 7)
    opt = _optimizer(optim, make_params("cpu", [np.zeros(2), np.zeros(3)]), kind)
    sched = _maker(case)(optim, opt)
    opt.load_state_dict(topt.state_dict())
    sched.load_state_dict(tsched.state_dict())
    np.testing.assert_allclose(_trace(opt, sched, 15), _trace(topt, tsched, 15), rtol=RTOL,
                               atol=1e-15)


@pytest.mark.torch
def test_warm_restarts_step_to_fractional_epochs_as_torch():
    """step(epoch) jumps anywhere, fractional epochs too: the cosine at T_cur = epoch - (start
    of its cycle), as torch's; step() then goes on from there."""
    torch = pytest.importorskip("torch")
    epochs = [0.5, 1.25, 2.999, 3.0, 7.5, 8.0, 20.25, 21.0, 44.9, 45.0, 0.0, 13.7]

    def run(mod, opt):
        sched = mod.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.01)
        out = []
        for e in epochs:
            sched.step(e)
            out.append([sched.get_last_lr(), [sched.T_cur, sched.T_i, sched.last_epoch]])
            sched.step()  # and one ordinary step after each jump
            out.append([sched.get_last_lr(), [sched.T_cur, sched.T_i, sched.last_epoch]])
        return out

    ours = run(optim, _optimizer(optim, make_params("cpu", [np.zeros(2), np.zeros(3)]), "sgd"))
    tparams = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    theirs = run(torch.optim.lr_scheduler, _optimizer(torch.optim, tparams, "sgd"))
    for (lr, where), (tlr, twhere) in zip(ours, theirs):
        np.testing.assert_allclose(lr, tlr, rtol=RTOL, atol=1e-15)
        np.testing.assert_allclose(where, twhere, rtol=1e-12)


def test_warm_restarts_finds_the_cycle_of_an_epoch_as_torch():
    """Cycles of 1, 3, 9, 27, 81, 243 steps start at epochs 0, 1, 4, 13, 40, 121; step(epoch)
    finds the cycle by torch 2.13's logarithm, which rounds log3(243) down at epoch 121 and
    puts it at the end of the cycle before (T_cur = T_i = 81), at eta_min, as torch does."""
    opt = optim.SGD(make_params(), lr=0.1)
    sched = optim.CosineAnnealingWarmRestarts(opt, T_0=1, T_mult=3)
    for epoch, (T_cur, T_i) in [(121.0, (81.0, 81)), (120.5, (80.5, 81)), (40, (0, 81)),
                                (0.25, (0.25, 1)), (3.0, (2.0, 3))]:
        sched.step(epoch)
        assert (sched.T_cur, sched.T_i, sched.last_epoch) == (T_cur, T_i, int(epoch))
    sched.step(121.0)
    assert sched.get_last_lr() == [0.0]


@pytest.mark.torch
def test_onecycle_refuses_to_step_past_total_steps_as_torch():
    torch = pytest.importorskip("torch")
    for mod, params in [(optim, make_params()),
                        (torch.optim, [torch.zeros(2, requires_grad=True)])]:
        opt = mod.SGD(params, lr=0.1, momentum=0.9)
        sched = _sched_mod(mod).OneCycleLR(opt, 0.1, total_steps=10)
        for _ in range(10):
            opt.step()
            sched.step()
        with pytest.raises(ValueError, match="Tried to step 11 times. The specified number of "
                                             "total steps is 10"):
            sched.step()


# ---- bad arguments ------------------------------------------------------------------------------
def _opt(mod, kind="momentum", n=1):
    """An optimizer of ``mod`` (ours or torch's) with n groups, with momentum or without."""
    if mod is optim:
        params = make_params()
    else:
        import torch
        params = [torch.zeros(2, requires_grad=True) for _ in range(3)]
    groups = [{"params": [p]} for p in params[:n]]
    if kind == "adagrad":
        return mod.Adagrad(groups, lr=0.1)
    return mod.SGD(groups, lr=0.1, momentum=0.9)


def _sched_mod(mod):
    return mod if mod is optim else mod.lr_scheduler


SCHEDULE_ERRORS = [  # (make from (optim module, schedule module), what our message says)
    (lambda o, s: s.ConstantLR(_opt(o), factor=1.5), "Invalid factor: 1.5"),
    (lambda o, s: s.MultiplicativeLR(_opt(o), [lambda t: 1.0] * 2), "expected 1 lr_lambdas"),
    (lambda o, s: s.CosineAnnealingWarmRestarts(_opt(o), T_0=0), "Invalid T_0: 0"),
    (lambda o, s: s.CosineAnnealingWarmRestarts(_opt(o), T_0=2, T_mult=0), "Invalid T_mult: 0"),
    (lambda o, s: s.CosineAnnealingWarmRestarts(_opt(o), T_0=2).step(-1), "Invalid epoch: -1"),
    (lambda o, s: s.CyclicLR(_opt(o), 0.01, 0.1, mode="exp"), "mode must be one of"),
    (lambda o, s: s.CyclicLR(_opt(o), [0.01, 0.02], 0.1),
     "base_lr must have one value per param group"),
    (lambda o, s: s.CyclicLR(_opt(o, "adagrad"), 0.01, 0.1), "cycle_momentum=True needs an "
     "optimizer with momentum or betas; Adagrad has neither"),
    (lambda o, s: s.OneCycleLR(_opt(o), 0.1), "needs total_steps, or epochs and steps_per_epoch"),
    (lambda o, s: s.OneCycleLR(_opt(o), 0.1, total_steps=0), "Invalid total_steps: 0"),
    (lambda o, s: s.OneCycleLR(_opt(o), 0.1, epochs=0, steps_per_epoch=3), "Invalid epochs: 0"),
    (lambda o, s: s.OneCycleLR(_opt(o), 0.1, epochs=2, steps_per_epoch=-1),
     "Invalid steps_per_epoch: -1"),
    (lambda o, s: s.OneCycleLR(_opt(o), 0.1, total_steps=10, pct_start=1.5),
     "Invalid pct_start: 1.5"),
    (lambda o, s: s.OneCycleLR(_opt(o), 0.1, total_steps=10, anneal_strategy="cosine"),
     "anneal_strategy must be one of 'cos' or 'linear', got 'cosine'"),
    (lambda o, s: s.OneCycleLR(_opt(o, n=2), [0.1], total_steps=10),
     "max_lr must have one value per param group"),
    (lambda o, s: s.OneCycleLR(_opt(o, "adagrad"), 0.1, total_steps=10),
     "cycle_momentum=True needs"),
    (lambda o, s: s.ChainedScheduler([]), "at least one scheduler"),
    (lambda o, s: s.ChainedScheduler([s.ReduceLROnPlateau(_opt(o))]), "ReduceLROnPlateau"),
    (lambda o, s: s.ChainedScheduler([s.ConstantLR(_opt(o)), s.ConstantLR(_opt(o))]),
     "same optimizer"),
]


@pytest.mark.parametrize(("make", "match"), SCHEDULE_ERRORS,
                         ids=[str(i) for i in range(len(SCHEDULE_ERRORS))])
def test_schedule_arguments_are_refused_by_name_as_torch_refuses_them(make, match):
    """Each is a ValueError naming the argument; torch refuses the same with a ValueError."""
    with pytest.raises(ValueError, match=match):
        make(optim, optim)
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        make(torch.optim, torch.optim.lr_scheduler)


@pytest.mark.parametrize(("make", "error", "match"), [
    (lambda: optim.ConstantLR(_opt(optim), total_iters=-1), ValueError, "Invalid total_iters"),
    (lambda: optim.PolynomialLR(_opt(optim), total_iters=2.5), TypeError, "total_iters"),
    (lambda: optim.PolynomialLR(_opt(optim), power=-1.0), ValueError, "Invalid power: -1.0"),
    (lambda: optim.MultiplicativeLR(_opt(optim), 0.9), TypeError, "lr_lambda must be a function"),
    (lambda: optim.CosineAnnealingWarmRestarts(_opt(optim), T_0=2, eta_min=-1.0), ValueError,
     "Invalid eta_min"),
    (lambda: optim.CyclicLR(_opt(optim), 0.01, 0.1, step_size_up=0), ValueError,
     "Invalid step_size_up: 0"),
    (lambda: optim.CyclicLR(_opt(optim), 0.01, -0.1), ValueError, "Invalid max_lr: -0.1"),
    (lambda: optim.CyclicLR(_opt(optim), 0.01, 0.1, scale_fn=lambda x: 1.0, scale_mode="x"),
     ValueError, "scale_mode must be one of"),
    (lambda: optim.OneCycleLR(_opt(optim), 0.1, total_steps=10, div_factor=0), ValueError,
     "Invalid div_factor: 0"),
    (lambda: optim.OneCycleLR(_opt(optim), 0.1, total_steps=10, pct_start=0.1), ValueError,
     "gives a phase of no steps"),  # torch divides by zero at step 0
    (lambda: optim.ChainedScheduler([_opt(optim)]), TypeError, r"schedulers\[0\] is a SGD"),
])
def test_schedule_arguments_torch_does_not_check_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_a_refused_cyclic_or_onecycle_leaves_the_optimizer_alone():
    opt = _opt(optim)
    before = opt.state_dict()["param_groups"]
    for bad in (lambda: optim.CyclicLR(opt, 0.01, 0.1, base_momentum=-1.0),
                lambda: optim.OneCycleLR(opt, 0.1, total_steps=10, max_momentum=[0.9, 0.9])):
        with pytest.raises(ValueError):
            bad()
        assert opt.state_dict()["param_groups"] == before

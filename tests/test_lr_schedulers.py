"""Every learning-rate schedule against torch 2.13's, bit for bit, over 520 steps: the lrs (and
the momenta or Adam's beta1 that CyclicLR and OneCycleLR cycle) step by step, with an lr
changed by hand mid-run, with a second schedule on the same optimizer, resumed from a state
dict mid-run (ours, torch's into ours and ours into torch's), resumed with ``last_epoch=k``,
jumped with the deprecated ``step(epoch)``, and torch's warnings (a schedule stepped before its
optimizer, ``step(epoch)``, ``get_lr()`` called by hand) word for word."""

from __future__ import annotations

import copy
import math
import types
import warnings

import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import optim

STEPS = 520
RESUME_AT = 250


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _params(o, n=2):
    if o is optim:
        return [tr.nn.Parameter(tr.zeros(2)) for _ in range(n)]
    import torch
    return [torch.zeros(2, requires_grad=True) for _ in range(n)]


def make_optimizer(o, kind):
    """Two groups (lrs 0.1 and the default 0.02); no gradients, so a step changes nothing but
    marks the optimizer as stepped."""
    p = _params(o)
    groups = [{"params": [p[0]], "lr": 0.1}, {"params": [p[1]]}]
    if kind == "adam":
        return o.Adam(groups, lr=0.02, betas=(0.9, 0.99))
    return o.SGD(groups, lr=0.02, momentum=0.9 if kind == "sgd" else 0.0)


def snapshot(opt, sched):
    """Each group's lr and momentum (or beta1) as exact hex strings, and get_last_lr()."""
    def h(x):
        return float(x).hex()

    groups = [[h(g["lr"]), h(g["betas"][0] if "betas" in g else g.get("momentum", 0.0))]
              for g in opt.param_groups]
    return groups, [h(x) for x in sched.get_last_lr()]


def run(opt, sched, steps, manual=True, start=0, extra=None):
    """The snapshots after each of ``steps`` optimizer and schedule steps (``extra``: another
    schedule stepped after it); ``manual``: set lrs by hand after steps 100 and 350."""
    out = []
    for i in range(start, start + steps):
        opt.step()
        sched.step()
        if extra is not None:
            extra.step()
        if manual and i == 100:
            opt.param_groups[0]["lr"] = 0.3
        if manual and i == 350:
            opt.param_groups[1]["lr"] *= 0.5
        out.append(snapshot(opt, sched))
    return out


def assert_same(ours, theirs):
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"first difference at step {i}: ours {a}, torch {b}"


def simple(name, **kw):
    def make(o, opt, **extra):
        mod = o.swa_utils if name == "SWALR" else o.lr_scheduler
        return getattr(mod, name)(opt, **kw, **extra)
    make.simple = True
    return make


def warmup(o, opt, **extra):  # ours: LinearWarmup; torch's: the LinearLR it is
    if o is optim:
        return optim.lr_scheduler.LinearWarmup(opt, 30, start_factor=0.25, **extra)
    return o.lr_scheduler.LinearLR(opt, start_factor=0.25, end_factor=1.0, total_iters=30,
                                   **extra)


warmup.simple = True


def sequential(*parts, milestones):
    def make(o, opt):
        s = o.lr_scheduler
        return s.SequentialLR(opt, [getattr(s, n)(opt, **kw) for n, kw in parts], milestones)
    return make


def chained(*parts):
    def make(o, opt):
        s = o.lr_scheduler
        return s.ChainedScheduler([getattr(s, n)(opt, **kw) for n, kw in parts])
    return make


CASES = {  # name: (make(optim module, optimizer, **last_epoch), the optimizer's kind)
    "step-7": (simple("StepLR", step_size=7, gamma=0.5), "sgd"),
    "step-1": (simple("StepLR", step_size=1, gamma=0.99), "plain"),
    "step-100": (simple("StepLR", step_size=100, gamma=0.3), "adam"),
    "multistep": (simple("MultiStepLR", milestones=[10, 50, 50, 200], gamma=0.5), "sgd"),
    "multistep-unsorted": (simple("MultiStepLR", milestones=[300, 3], gamma=0.1), "plain"),
    "exponential": (simple("ExponentialLR", gamma=0.99), "sgd"),
    "exponential-slow": (simple("ExponentialLR", gamma=0.9995), "adam"),
    "cosine-100": (simple("CosineAnnealingLR", T_max=100, eta_min=1e-3), "sgd"),
    "cosine-7": (simple("CosineAnnealingLR", T_max=7), "plain"),
    "cosine-1": (simple("CosineAnnealingLR", T_max=1, eta_min=0.005), "plain"),
    "lambda": (simple("LambdaLR", lr_lambda=lambda t: 0.95**t), "sgd"),
    "lambda-groups": (simple("LambdaLR", lr_lambda=[lambda t: 1 / (t + 1),
                                                    lambda t: t % 10 / 10 + 0.1]), "plain"),
    "multiplicative": (simple("MultiplicativeLR", lr_lambda=lambda t: 0.995), "sgd"),
    "multiplicative-groups": (simple("MultiplicativeLR", lr_lambda=[
        lambda t: 0.99, lambda t: 1.0 if t % 50 else 0.5]), "plain"),
    "constant": (simple("ConstantLR"), "sgd"),
    "constant-100": (simple("ConstantLR", factor=0.5, total_iters=100), "plain"),
    "constant-0": (simple("ConstantLR", factor=0.2, total_iters=0), "plain"),
    "linear": (simple("LinearLR"), "sgd"),
    "linear-300": (simple("LinearLR", start_factor=0.1, end_factor=0.9, total_iters=300),
                   "plain"),
    "linear-down": (simple("LinearLR", start_factor=0.5, end_factor=0.0, total_iters=40),
                    "adam"),
    "warmup": (warmup, "sgd"),
    "polynomial": (simple("PolynomialLR"), "sgd"),
    "polynomial-300": (simple("PolynomialLR", total_iters=300, power=2.0), "plain"),
    "polynomial-half": (simple("PolynomialLR", total_iters=50, power=0.5), "adam"),
    "cyclic": (simple("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=20), "sgd"),
    "cyclic-2": (simple("CyclicLR", base_lr=[0.01, 0.001], max_lr=[0.1, 0.05], step_size_up=13,
                        step_size_down=29, mode="triangular2", base_momentum=[0.8, 0.7],
                        max_momentum=0.95), "sgd"),
    "cyclic-exp": (simple("CyclicLR", base_lr=0.001, max_lr=0.1, step_size_up=12.5,
                          mode="exp_range", gamma=0.999, cycle_momentum=False), "plain"),
    "cyclic-fn": (simple("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=30,
                         scale_fn=lambda x: 1 / (1 + 0.01 * x), scale_mode="iterations"),
                  "adam"),
    "onecycle": (simple("OneCycleLR", max_lr=0.5, total_steps=STEPS), "sgd"),
    "onecycle-linear": (simple("OneCycleLR", max_lr=[0.5, 0.1], epochs=4, steps_per_epoch=150,
                               pct_start=0.25, anneal_strategy="linear", div_factor=10.0,
                               final_div_factor=100.0, base_momentum=[0.8, 0.85]), "sgd"),
    "onecycle-3": (simple("OneCycleLR", max_lr=0.3, total_steps=700, three_phase=True,
                          pct_start=0.2), "adam"),
    "onecycle-nomom": (simple("OneCycleLR", max_lr=0.3, total_steps=800, cycle_momentum=False),
                       "plain"),
    "restarts": (simple("CosineAnnealingWarmRestarts", T_0=10), "sgd"),
    "restarts-mult": (simple("CosineAnnealingWarmRestarts", T_0=5, T_mult=2, eta_min=1e-4),
                      "plain"),
    "swalr": (simple("SWALR", swa_lr=0.05), "sgd"),
    "swalr-linear": (simple("SWALR", swa_lr=[0.05, 0.5], anneal_epochs=30,
                            anneal_strategy="linear"), "plain"),
    "swalr-0": (simple("SWALR", swa_lr=0.01, anneal_epochs=0), "adam"),
    "sequential": (sequential(("LinearLR", dict(start_factor=0.1, total_iters=20)),
                              ("CosineAnnealingLR", dict(T_max=200, eta_min=1e-4)),
                              milestones=[20]), "sgd"),
    "sequential-3": (sequential(("ConstantLR", dict(factor=0.1, total_iters=30)),
                                ("ExponentialLR", dict(gamma=0.99)),
                                ("StepLR", dict(step_size=50, gamma=0.5)),
                                milestones=[30, 200]), "plain"),
    "sequential-lambda": (sequential(("LambdaLR", dict(lr_lambda=lambda t: 1 / (1 + t))),
                                     ("MultiplicativeLR", dict(lr_lambda=lambda t: 0.99)),
                                     milestones=[100]), "plain"),
    "chained": (chained(("ConstantLR", dict(factor=0.1, total_iters=20)),
                        ("ExponentialLR", dict(gamma=0.99))), "sgd"),
    "chained-cosine": (chained(("LinearLR", dict(start_factor=0.2, total_iters=40)),
                               ("CosineAnnealingLR", dict(T_max=60, eta_min=1e-3))), "plain"),
    "chained-restarts": (chained(("ExponentialLR", dict(gamma=0.999)),
                                 ("CosineAnnealingWarmRestarts", dict(T_0=40)),
                                 ("StepLR", dict(step_size=30, gamma=0.5))), "plain"),
}
SIMPLE = [c for c, (make, _) in CASES.items() if getattr(make, "simple", False)]
# the schedules whose step(epoch) torch warns about (its CosineAnnealingWarmRestarts does not;
# SequentialLR and ChainedScheduler take no epoch)
EPOCH_CASES = SIMPLE


def trace(o, case, steps=STEPS, manual=True, second=False):
    make, kind = CASES[case]
    opt = make_optimizer(o, kind)
    sched = make(o, opt)
    extra = o.lr_scheduler.ExponentialLR(opt, gamma=0.998) if second else None
    return [snapshot(opt, sched)] + run(opt, sched, steps, manual, extra=extra)


# ---- step by step -------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("case", list(CASES))
def test_lrs_equal_torchs_bit_for_bit(case, torch):
    assert_same(trace(optim, case, manual=False), trace(torch.optim, case, manual=False))


@pytest.mark.torch
@pytest.mark.parametrize("case", list(CASES))
def test_an_lr_set_by_hand_carries_on_as_in_torch(case, torch):
    """Chainable schedules go on from the lr set by hand; closed forms (LambdaLR, CyclicLR,
    OneCycleLR, CosineAnnealingWarmRestarts) overwrite it at the next step; as torch's."""
    assert_same(trace(optim, case), trace(torch.optim, case))


@pytest.mark.torch
@pytest.mark.parametrize("case", list(CASES))
def test_two_schedules_on_one_optimizer_compound_as_in_torch(case, torch):
    """The schedule and an ExponentialLR made after it on the same optimizer, both stepped."""
    assert_same(trace(optim, case, second=True), trace(torch.optim, case, second=True))


def test_the_issue_example():
    p = tr.nn.Parameter(tr.ones(1))
    o = optim.SGD([p], lr=1.0)
    s = optim.lr_scheduler.StepLR(o, 2, 0.5)
    out = []
    for i in range(5):
        o.step()
        s.step()
        if i == 1:
            o.param_groups[0]["lr"] = 0.3
        out.append(o.param_groups[0]["lr"])
    assert out == [1.0, 0.3, 0.3, 0.15, 0.15]


@pytest.mark.torch
@pytest.mark.parametrize("name", ["CyclicLR", "OneCycleLR"])
@pytest.mark.parametrize("kind", ["sgd", "nesterov", "adam", "adamw", "rmsprop"])
def test_momentum_cycles_as_in_torch(name, kind, torch):
    """The momentum (Adam's and AdamW's beta1) moves against the lr, as torch's moves it."""
    def run_it(o):
        p = _params(o, 1)
        opt = {"sgd": lambda: o.SGD(p, lr=0.1, momentum=0.9),
               "nesterov": lambda: o.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
               "adam": lambda: o.Adam(p, lr=0.1, betas=(0.9, 0.999)),
               "adamw": lambda: o.AdamW(p, lr=0.1),
               "rmsprop": lambda: o.RMSprop(p, lr=0.1, momentum=0.5)}[kind]()
        s = o.lr_scheduler
        sched = (s.CyclicLR(opt, 0.01, 0.1, step_size_up=17, base_momentum=0.7,
                            max_momentum=0.95) if name == "CyclicLR"
                 else s.OneCycleLR(opt, 0.2, total_steps=STEPS, base_momentum=0.75))
        return [snapshot(opt, sched)] + run(opt, sched, STEPS, manual=False)

    ours, theirs = run_it(optim), run_it(torch.optim)
    assert_same(ours, theirs)
    assert len({m for (groups, _) in ours for _, m in groups}) > 20  # it did cycle


# ---- state dicts and resuming -------------------------------------------------------------------
def _resumed(o_from, o_to, case):
    """Run with ``o_from`` to RESUME_AT, move both state dicts into a fresh optimizer and
    schedule of ``o_to`` (made first, then the states loaded, as torch advises), go on."""
    make, kind = CASES[case]
    opt = make_optimizer(o_from, kind)
    sched = make(o_from, opt)
    run(opt, sched, RESUME_AT)
    opt_sd, sched_sd = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    opt2 = make_optimizer(o_to, kind)
    sched2 = make(o_to, opt2)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    assert snapshot(opt2, sched2) == snapshot(opt, sched)
    return run(opt2, sched2, STEPS - RESUME_AT, start=RESUME_AT)


@pytest.mark.parametrize("case", list(CASES))
def test_a_state_dict_saved_mid_run_goes_on_as_the_run(case):
    ours = trace(optim, case)[RESUME_AT + 1:]
    assert_same(_resumed(optim, optim, case), ours)


@pytest.mark.torch
@pytest.mark.parametrize("case", [c for c in CASES if c != "warmup"])  # torch has no warmup
def test_state_dicts_move_between_torch_and_here_both_ways(case, torch):
    """Same keys as torch's; torch's state loads here and goes on as torch's run, ours loads
    into torch and goes on there as ours."""
    make, kind = CASES[case]
    ours = make(optim, make_optimizer(optim, kind)).state_dict()
    theirs = make(torch.optim, make_optimizer(torch.optim, kind)).state_dict()
    assert set(ours) == set(theirs)
    for a, b in zip(ours.get("_schedulers", []), theirs.get("_schedulers", [])):
        assert set(a) == set(b)
    full = trace(optim, case)[RESUME_AT + 1:]
    assert_same(_resumed(torch.optim, optim, case), full)
    assert_same(_resumed(optim, torch.optim, case), full)


@pytest.mark.torch
@pytest.mark.parametrize("resume_at", [0, 6, 99])
@pytest.mark.parametrize("case", SIMPLE)
def test_last_epoch_resumes_as_torch(case, resume_at, torch):
    """Made again with last_epoch=k over groups that hold the lrs a schedule stepped k + 1
    times left (and initial_lr, max_lr, ...): its first step is step k + 1 from those lrs."""
    make, kind = CASES[case]

    def resumed(o):
        opt = make_optimizer(o, kind)
        run(opt, make(o, opt), resume_at + 1, manual=False)
        sched = make(o, opt, last_epoch=resume_at)
        return [snapshot(opt, sched)] + run(opt, sched, 60, manual=False)

    assert_same(resumed(optim), resumed(torch.optim))


def test_resuming_needs_initial_lr_in_every_group():
    opt = make_optimizer(optim, "sgd")
    with pytest.raises(KeyError, match=r"'initial_lr' is not specified in param_groups\[0\]"):
        optim.lr_scheduler.ExponentialLR(opt, 0.9, last_epoch=3)
    assert all("initial_lr" not in g for g in opt.param_groups)


def test_initial_lr_is_recorded_once_and_base_lrs_read_from_it():
    opt = make_optimizer(optim, "plain")
    first = optim.lr_scheduler.ConstantLR(opt, factor=0.5)
    second = optim.lr_scheduler.ExponentialLR(opt, 0.9)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.02]
    assert first.base_lrs == second.base_lrs == [0.1, 0.02]
    assert second.get_last_lr() == [0.05, 0.01]  # made on top of the first's step 0


# ---- step(epoch) and the warnings ---------------------------------------------------------------
EPOCHS = [0, 3, 10, 10, 57, 2, 250, 400, 101, 7]


@pytest.mark.torch
@pytest.mark.parametrize("case", EPOCH_CASES)
def test_step_epoch_uses_the_closed_form_and_warns_as_torch(case, torch):
    make, kind = CASES[case]
    epochs = EPOCHS + ([0.5, 12.25, 37.75] if case.startswith("restarts") else [])

    def jumps(o):
        opt = make_optimizer(o, kind)
        sched = make(o, opt)
        out = []
        for e in epochs:
            opt.step()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                sched.step(e)
            out.append((snapshot(opt, sched), sched.last_epoch,
                        [(w.category, str(w.message)) for w in caught]))
            opt.step()
            sched.step()  # and an ordinary step after each jump
            out.append((snapshot(opt, sched), sched.last_epoch, []))
        return out

    ours, theirs = jumps(optim), jumps(torch.optim)
    assert_same(ours, theirs)
    if not case.startswith("restarts"):
        assert ours[0][2] == [(UserWarning, optim.lr_scheduler.EPOCH_DEPRECATION_WARNING)]


@pytest.mark.torch
@pytest.mark.parametrize("case", list(CASES))
def test_stepping_before_the_optimizer_warns_as_torch(case, torch):
    """Once, at the first step() after the schedule was made (each part of a composite warns,
    but CosineAnnealingWarmRestarts, whose step() never checks, as torch's), word for word as
    torch's."""
    make, kind = CASES[case]

    def caught(o):
        opt = make_optimizer(o, kind)
        sched = make(o, opt)
        out = []
        for _ in range(3):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                sched.step()
            out.append([(x.category, str(x.message)) for x in w])
        return out

    ours = caught(optim)
    assert ours == caught(torch.optim)
    assert ours[1:] == [[], []]
    if not case.startswith(("restarts", "chained-restarts")):
        assert ours[0] and ours[0][0][1].startswith("Detected call of `lr_scheduler.step()` "
                                                    "before `optimizer.step()`.")


@pytest.mark.torch
def test_a_replaced_optimizer_step_and_get_lr_by_hand_warn_as_torch(torch):
    def caught(o):
        opt = make_optimizer(o, "sgd")
        sched = o.lr_scheduler.StepLR(opt, 3)
        out = []
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            sched.get_lr()
            opt.step = types.MethodType(type(opt).step, opt)  # no longer the schedule's
            opt.step()
            sched.step()
        out += [(x.category, str(x.message)) for x in w]
        return out

    ours = caught(optim)
    assert ours == caught(torch.optim)
    assert [m.split(".")[0] for _, m in ours] == [
        "To get the last learning rate computed by the scheduler, please use `get_last_lr()`",
        "Seems like `optimizer"]


def test_the_optimizer_is_marked_stepped_copies_too():
    """The schedule's wrapper of optimizer.step steps the optimizer it belongs to, in a deep
    copy too (where PyTorch's weak reference would step the original)."""
    opt = make_optimizer(optim, "sgd")
    sched = optim.lr_scheduler.StepLR(opt, 2)
    twin = copy.deepcopy(opt)
    twin.step()
    assert getattr(twin, "_opt_called", False) and not getattr(opt, "_opt_called", False)
    assert twin.step.optimizer is twin
    wrapped = opt.step
    opt.step()
    sched.step()  # no warning: the optimizer stepped first
    optim.lr_scheduler.ExponentialLR(opt, 0.5)
    assert opt.step is wrapped  # a second schedule does not wrap it again


# ---- schedules written for PyTorch --------------------------------------------------------------
@pytest.mark.torch
def test_a_chainable_schedule_written_for_pytorch_runs_as_there(torch):
    """A subclass with its own chainable get_lr() and _get_closed_form_lr(), reading the groups,
    base_lrs and last_epoch: the same lrs, with an lr set by hand and step(epoch) jumps."""
    def run_it(o):
        class Halve(o.lr_scheduler.LRScheduler):
            def __init__(self, optimizer, every, last_epoch=-1):
                self.every = every
                super().__init__(optimizer, last_epoch)

            def get_lr(self):
                lrs = [g["lr"] for g in self.optimizer.param_groups]
                if self.last_epoch == 0 or self.last_epoch % self.every:
                    return lrs
                return [lr * 0.5 for lr in lrs]

            def _get_closed_form_lr(self):
                return [b * 0.5 ** (self.last_epoch // self.every) for b in self.base_lrs]

        opt = make_optimizer(o, "sgd")
        sched = Halve(opt, 4)
        out = [snapshot(opt, sched)] + run(opt, sched, 120)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            sched.step(9)
        out.append(snapshot(opt, sched))
        out += run(opt, sched, 10, manual=False)
        return out, sorted(sched.state_dict())

    assert run_it(optim) == run_it(torch.optim)


# ---- ReduceLROnPlateau --------------------------------------------------------------------------
def metric(t):
    """A loss that falls, levels off and wobbles, so the schedule cuts the lr now and then."""
    return 1.0 / (1.0 + t / 40.0) + 0.02 * math.sin(t * 0.7)


PLATEAU = dict(mode="min", factor=0.5, patience=5, cooldown=2, min_lr=[1e-4, 0.0],
               threshold=1e-3)


def plateau_run(o, steps=STEPS, start=0, opt=None, sched=None, other=None, manual=True):
    opt = make_optimizer(o, "sgd") if opt is None else opt
    sched = o.lr_scheduler.ReduceLROnPlateau(opt, **PLATEAU) if sched is None else sched
    out = []
    for t in range(start, start + steps):
        opt.step()
        if other is not None:
            other.step()
        sched.step(metric(t))
        if manual and t == 100:
            opt.param_groups[0]["lr"] = 0.3
        out.append((snapshot(opt, sched), sched.num_bad_epochs, sched.cooldown_counter))
    return out, opt, sched


@pytest.mark.torch
def test_reduce_lr_on_plateau_as_torch(torch):
    ours, _, sched = plateau_run(optim)
    theirs, _, tsched = plateau_run(torch.optim)
    assert_same(ours, theirs)
    assert len({lrs[0][0] for (lrs, _), _, _ in ours}) > 5  # it did cut
    assert set(sched.state_dict()) == set(tsched.state_dict())

    def with_step_lr(o):  # a second schedule on the same optimizer
        opt = make_optimizer(o, "sgd")
        return plateau_run(o, opt=opt, other=o.lr_scheduler.StepLR(opt, 45, 0.7))[0]

    assert_same(with_step_lr(optim), with_step_lr(torch.optim))


@pytest.mark.torch
@pytest.mark.parametrize(("o_from", "o_to"), [("ours", "ours"), ("torch", "ours"),
                                              ("ours", "torch")])
def test_reduce_lr_on_plateau_resumes_from_a_state_dict(o_from, o_to, torch):
    mods = {"ours": optim, "torch": torch.optim}
    full, _, _ = plateau_run(optim)
    _, opt, sched = plateau_run(mods[o_from], steps=RESUME_AT)
    o = mods[o_to]
    opt2 = make_optimizer(o, "sgd")
    sched2 = o.lr_scheduler.ReduceLROnPlateau(opt2, **PLATEAU)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    sched2.load_state_dict(copy.deepcopy(sched.state_dict()))
    rest, _, _ = plateau_run(o, steps=STEPS - RESUME_AT, start=RESUME_AT, opt=opt2,
                             sched=sched2)
    assert_same(rest, full[RESUME_AT:])


@pytest.mark.torch
def test_reduce_lr_on_plateau_step_epoch_warns_as_torch(torch):
    def caught(o):
        opt = make_optimizer(o, "sgd")
        sched = o.lr_scheduler.ReduceLROnPlateau(opt)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            sched.step(1.0)  # before the optimizer: no warning, as torch's
            sched.step(0.5, 7)
        return [(x.category, str(x.message)) for x in w], sched.last_epoch

    ours = caught(optim)
    assert ours == caught(torch.optim)
    assert ours[1] == 7 and len(ours[0]) == 1 and "epoch parameter" in ours[0][0][1]


# ---- refusals kept where torch divides by zero --------------------------------------------------
@pytest.mark.parametrize(("make", "match"), [
    (lambda opt: optim.OneCycleLR(opt, 0.1, total_steps=10, pct_start=1.0), "phase of no steps"),
    (lambda opt: optim.OneCycleLR(opt, 0.1, total_steps=10, pct_start=0.1), "phase of no steps"),
    (lambda opt: optim.ConstantLR(opt, factor=0.0, total_iters=3), "divide by zero"),
    (lambda opt: optim.CosineAnnealingLR(opt, T_max=0), "T_max"),
    (lambda opt: optim.CyclicLR(opt, 0.01, 0.1, step_size_up=0), "step_size_up"),
])
def test_settings_torch_divides_by_zero_with_are_refused(make, match):
    opt = make_optimizer(optim, "sgd")
    before = copy.deepcopy(opt.param_groups)
    with pytest.raises(ValueError, match=match):
        make(opt)
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == \
        [{k: v for k, v in g.items() if k != "params"} for g in before]
    optim.ConstantLR(opt, factor=0.0, total_iters=0)  # never divides: allowed, as in torch


def test_linear_warmup_from_zero_and_without_warmup():
    opt = make_optimizer(optim, "plain")
    sched = optim.LinearWarmup(opt, 4)
    lrs = [sched.get_last_lr()[0]] + [r[0][0][0] for r in run(opt, sched, 6, manual=False)]
    assert [float.fromhex(x) if isinstance(x, str) else x for x in lrs] == pytest.approx(
        [0.0, 0.025, 0.05, 0.075, 0.1, 0.1, 0.1], rel=1e-15)
    opt = make_optimizer(optim, "plain")
    sched = optim.LinearWarmup(opt, 0)
    run(opt, sched, 3, manual=False)
    assert sched.get_last_lr() == [0.1, 0.02]


@pytest.mark.torch
def test_a_negative_lr_a_schedule_reached_loads_as_torch():
    """OneCycleLR's third phase ends below 0 with a linear anneal: the optimizer's state dict
    then holds a negative lr, which PyTorch's load_state_dict takes (it checks lr only when
    the optimizer is made)."""
    torch = pytest.importorskip("torch")
    lrs = []
    for lib in (tr, torch):
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.Adadelta([p], lr=1.0)
        sched = lib.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=2.0, total_steps=8, anneal_strategy="linear", three_phase=True,
            cycle_momentum=False)
        for _ in range(8):
            p.grad = lib.ones(2)
            opt.step()
            sched.step()
        other = lib.optim.Adadelta([lib.nn.Parameter(lib.ones(2))], lr=1.0)
        other.load_state_dict(opt.state_dict())
        lrs.append(other.param_groups[0]["lr"])
    assert lrs[0] == lrs[1] < 0
    with pytest.raises(ValueError, match="learning rate"):
        tr.optim.Adadelta([tr.nn.Parameter(tr.ones(2))], lr=-1.0)

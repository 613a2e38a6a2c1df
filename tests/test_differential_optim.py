"""Differential test of the optimizers, learning-rate schedules and training utilities against
PyTorch: Hypothesis draws one training run (an optimizer with random options, now and then
invalid ones, several parameter groups of parameters of different shapes, a few steps on a
random least-squares loss) or one schedule (random arguments, a random number of steps) or one
call of a utility (gradient clipping, ``parameters_to_vector``, ``swa_utils``), and torch and
ours run the same thing in lockstep, each action in both.

Compared after every action: whether each raised (exception types may differ; a case stops
where both raise), the parameters, the optimizer's ``state_dict()`` (every state tensor and
number, and each group's options key by key), the lrs (and momenta or betas a schedule cycles),
and the schedule's ``state_dict()``. Mid-run, torch's state dicts are loaded into ours and ours
into torch, and both go on from there; gradients are zeroed either way (``set_to_none``), some
parameters get no gradient in a step, and a parameter group is added between steps.

Each case's arrays come from a NumPy generator seeded by a drawn integer; the structure (which
optimizer or schedule, which options, which actions) is what Hypothesis draws and shrinks. Run
deeper with ``HYPOTHESIS_PROFILE=thorough``, or scale every test's examples with
``OPTIM_FUZZ_SCALE=20``.
"""

# ruff: noqa: B023  (the functions handed to Lockstep run at once, inside their loop)
from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

SCALE = int(os.environ.get("OPTIM_FUZZ_SCALE", "1"))


def bad(draw) -> bool:
    """Now and then an argument out of range, to compare the refusals (shrinks to valid)."""
    return draw(st.integers(0, 14)) == 14


def _scaled(factor: int):
    return settings(max_examples=settings.default.max_examples * factor * SCALE)


# ---- comparing -------------------------------------------------------------------------------


def _plain(v: Any) -> Any:
    """A state dict (or anything in it) as dicts, lists and tuples of floats, None, strings
    and host arrays; torch's and ours alike."""
    if isinstance(v, dict):
        return {k: _plain(e) for k, e in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_plain(e) for e in v)
    if isinstance(v, tr.Tensor):
        return v.numpy().copy()
    if isinstance(v, torch.Tensor):
        return v.detach().numpy().copy()
    return v


def _close(where: str, ours: Any, theirs: Any, rtol: float = 1e-9) -> None:
    """ours equals torch's: the same structure, numbers and arrays to ``rtol`` (relative to
    the largest magnitude in theirs, plus each element's own)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{where}: {ours!r} vs torch's dict"
        assert set(map(str, ours)) == set(map(str, theirs)), \
            f"{where}: keys {sorted(map(str, ours))} vs torch {sorted(map(str, theirs))}"
        by_name = {str(k): v for k, v in ours.items()}
        for k, v in theirs.items():
            _close(f"{where}[{k!r}]", by_name[str(k)], v, rtol)
        return
    if isinstance(theirs, (list, tuple)) and not (
            len(theirs) and all(isinstance(e, (int, float)) for e in theirs)
            and isinstance(ours, np.ndarray)):
        assert isinstance(ours, (list, tuple)), f"{where}: {ours!r} vs torch's {theirs!r}"
        assert len(ours) == len(theirs), f"{where}: length {len(ours)} vs torch {len(theirs)}"
        for k, (o, t) in enumerate(zip(ours, theirs)):
            _close(f"{where}[{k}]", o, t, rtol)
        return
    if theirs is None or isinstance(theirs, (str, bool)):
        assert ours == theirs and type(ours) is type(theirs), \
            f"{where}: {ours!r} vs torch {theirs!r}"
        return
    o, t = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert o.shape == t.shape, f"{where}: shape {o.shape} vs torch {t.shape}"
    scale = float(np.max(np.abs(t[np.isfinite(t)]), initial=0.0))
    with np.errstate(invalid="ignore"):
        ok = (np.abs(o - t) <= rtol * (scale + np.abs(t)) + 1e-300) | (o == t) | (
            np.isnan(o) & np.isnan(t))
    if not ok.all():
        np.testing.assert_allclose(o, t, rtol=rtol, atol=rtol * scale, err_msg=where)


class Lockstep:
    """Runs each action in torch, then in ours, and compares whether each raised: both raising
    ends the case (``stopped``), one raising fails it."""

    def __init__(self):
        self.stopped = False

    def __call__(self, what: str, f_torch: Callable[[], Any], f_ours: Callable[[], Any],
                 expect_warnings: bool = False) -> tuple[Any, Any]:
        results, errors = [], []
        for f in (f_torch, f_ours):
            with warnings.catch_warnings(record=True), np.errstate(all="ignore"):
                warnings.simplefilter("always")
                try:
                    results.append(f())
                    errors.append(None)
                except Exception as e:  # noqa: BLE001
                    results.append(None)
                    errors.append(e)
        t, o = errors
        if t is not None or o is not None:
            event(f"raised: {what.split()[0]} torch={type(t).__name__} ours={type(o).__name__}")
        if t is not None:
            assert o is not None, f"{what}: torch raised {t!r}; ours did not"
            self.stopped = True
            return None, None
        assert o is None, f"{what}: ours raised {o!r}; torch did not"
        return results[0], results[1]


# ---- optimizers ------------------------------------------------------------------------------

S = st.sampled_from

# name -> {option: (valid values, an invalid one or None)}; the options a group may override
# are those in GROUP_KEYS (torch checks options only when the optimizer is made, so a group's
# own invalid option is refused here and run there: not drawn)
OPTIONS: dict[str, dict[str, tuple[list, Any]]] = {
    "SGD": dict(lr=([0.01, 0.1, 0.3], -0.1), momentum=([0.0, 0.5, 0.9], -0.5),
                dampening=([0.0, 0.0, 0.3], None), weight_decay=([0.0, 0.05], -0.1),
                nesterov=([False, True], None), maximize=([False, True], None)),
    "Adam": dict(lr=([0.01, 0.1], -0.01), betas=([(0.9, 0.999), (0.5, 0.9), (0.0, 0.5)],
                                                   (1.0, 0.9)),
                 eps=([1e-8, 1e-3], -1e-8), weight_decay=([0.0, 0.1], -0.1),
                 amsgrad=([False, True], None), maximize=([False, True], None),
                 decoupled_weight_decay=([False, True], None)),
    "AdamW": dict(lr=([0.01, 0.1], -0.01), betas=([(0.9, 0.999), (0.5, 0.9)], (0.9, 1.0)),
                  eps=([1e-8, 1e-3], -1e-8), weight_decay=([0.0, 0.01, 0.5], -0.1),
                  amsgrad=([False, True], None), maximize=([False, True], None)),
    "Adamax": dict(lr=([0.002, 0.1], -0.01), betas=([(0.9, 0.999), (0.5, 0.9)], (0.9, -0.1)),
                   eps=([1e-8, 1e-2], -1e-8), weight_decay=([0.0, 0.1], -0.1),
                   maximize=([False, True], None)),
    "Adagrad": dict(lr=([0.01, 0.3], -0.01), lr_decay=([0.0, 0.1], -0.1),
                    weight_decay=([0.0, 0.1], -0.1),
                    initial_accumulator_value=([0.0, 0.0, 0.5], -0.5),
                    eps=([1e-10, 1e-3], -1e-10), maximize=([False, True], None)),
    "Adadelta": dict(lr=([1.0, 0.5], -1.0), rho=([0.9, 0.5, 0.0], 1.5),
                     eps=([1e-6, 1e-2], -1e-6), weight_decay=([0.0, 0.1], -0.1),
                     maximize=([False, True], None)),
    "RMSprop": dict(lr=([0.01, 0.05], -0.01), alpha=([0.99, 0.5], -0.5),
                    eps=([1e-8, 1e-3], -1e-8), weight_decay=([0.0, 0.1], -0.1),
                    momentum=([0.0, 0.5, 0.9], -0.5), centered=([False, True], None),
                    maximize=([False, True], None)),
    "NAdam": dict(lr=([0.002, 0.05], -0.01), betas=([(0.9, 0.999), (0.5, 0.9)], (1.5, 0.9)),
                  eps=([1e-8, 1e-3], -1e-8), weight_decay=([0.0, 0.1], -0.1),
                  momentum_decay=([0.004, 0.1], -0.1),
                  decoupled_weight_decay=([False, True], None), maximize=([False, True], None)),
    "RAdam": dict(lr=([0.001, 0.05], -0.01), betas=([(0.9, 0.999), (0.5, 0.9), (0.9, 0.6)],
                                                     (0.9, 1.5)),
                  eps=([1e-8, 1e-3], -1e-8), weight_decay=([0.0, 0.1], -0.1),
                  decoupled_weight_decay=([False, True], None), maximize=([False, True], None)),
    "ASGD": dict(lr=([0.01, 0.1], -0.01), lambd=([1e-4, 0.1], None), alpha=([0.75, 0.5], None),
                 t0=([1e6, 2.0, 0.0], None), weight_decay=([0.0, 0.1], -0.1),
                 maximize=([False, True], None)),
    "Rprop": dict(lr=([0.01, 0.1], -0.01), etas=([(0.5, 1.2), (0.3, 2.0)], (1.2, 0.5)),
                  step_sizes=([(1e-6, 50), (0.02, 0.2)], None), maximize=([False, True], None)),
    "Adafactor": dict(lr=([0.01, 0.1], -0.01), beta2_decay=([-0.8, -0.5, 0.0], 0.5),
                      eps=([(None, 1e-3), (1e-30, 1e-3), (None, 0.1)], (None, -1.0)),
                      d=([1.0, 2.0], None), weight_decay=([0.0, 0.1], -0.1),
                      maximize=([False, True], None)),
}
GROUP_KEYS = {"lr", "weight_decay", "eps", "betas", "maximize", "momentum_decay", "lr_decay",
              "alpha", "rho", "lambd", "etas", "d"}
# the implementation flags each takes in torch, with values drawn for them ("fused" only on
# the optimizers whose torch twin has a CPU fused kernel)
FLAGS = {"foreach": [None, False, True], "fused": [None, False, True]}
TAKES_FUSED = {"SGD", "Adam", "AdamW", "Adagrad"}
TAKES_FOREACH = set(OPTIONS)


def _draw_options(draw, name: str, for_group: bool) -> dict[str, Any]:
    out = {}
    for k, (good, wrong) in OPTIONS[name].items():
        if for_group and k not in GROUP_KEYS:
            continue
        if draw(st.booleans()):  # else the default
            out[k] = draw(S(good))
            if not for_group and wrong is not None and bad(draw):
                out[k] = wrong
    return out


def _shapes(draw, n: int) -> list[tuple[int, ...]]:
    return [tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 3))))
            for _ in range(n)]


class Problem:
    """A least-squares loss per parameter, ``0.5 * |A p - b|^2 + 0.1 * sum(p^4)`` (p
    flattened), the same matrices in both libraries; ``loss(m, params, used)`` sums it over
    the parameters ``used``. (Not a quadratic: on one, L-BFGS's second direction is Newton's,
    and its line search's curvature test at the first trial step is then an exact tie, decided
    by rounding.)"""

    def __init__(self, rng: np.random.Generator, shapes):
        self.start = [rng.standard_normal(s) for s in shapes]
        self.A = [rng.standard_normal((int(np.prod(s)) + 1, int(np.prod(s)))) for s in shapes]
        self.b = [rng.standard_normal(int(np.prod(s)) + 1) for s in shapes]

    def loss(self, m, params, used):
        terms = [((m.tensor(self.A[k]) @ params[k].reshape(-1) - m.tensor(self.b[k])) ** 2)
                 .sum() * 0.5 + (params[k] ** 4).sum() * 0.1 for k in used]
        return sum(terms[1:], terms[0])


def _to_torch(sd: Any) -> Any:
    """Our state dict with torch's tensors in place of ours (what torch's load takes)."""
    if isinstance(sd, dict):
        return {k: _to_torch(v) for k, v in sd.items()}
    if isinstance(sd, (list, tuple)):
        return type(sd)(_to_torch(v) for v in sd)
    if isinstance(sd, tr.Tensor):
        return torch.tensor(sd.numpy().copy())
    return sd


def _compare_optimizers(where, topt, oopt, tparams, oparams, rtol=1e-9, skip=()):
    """Parameters and state dicts; the state entries ``skip`` only by their presence."""
    for k, (t, o) in enumerate(zip(tparams, oparams)):
        _close(f"{where}: parameter {k}", o.numpy(), t.detach().numpy(), rtol)
    tsd, osd = topt.state_dict(), oopt.state_dict()
    tstate, ostate = _plain(tsd["state"]), _plain(osd["state"])
    for state in (*tstate.values(), *ostate.values()):
        for k in skip:
            if k in state:
                state[k] = "present"
    _close(f"{where}: state_dict()['state']", ostate, tstate, rtol)
    assert len(osd["param_groups"]) == len(tsd["param_groups"])
    for i, (og, tg) in enumerate(zip(osd["param_groups"], tsd["param_groups"])):
        assert set(og) == set(tg), f"{where}: group {i} keys {sorted(og)} vs {sorted(tg)}"
        for k in tg:
            assert og[k] == tg[k], f"{where}: group {i}[{k!r}] {og[k]!r} vs torch {tg[k]!r}"
            assert isinstance(og[k], tuple) == isinstance(tg[k], tuple), \
                f"{where}: group {i}[{k!r}] {og[k]!r} vs torch {tg[k]!r}"


@given(data=st.data())
@_scaled(4)
def test_optimizer_run_matches_torch(data):
    draw = data.draw
    name = draw(S(sorted(OPTIONS)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_groups = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 2)) for _ in range(n_groups)]
    late = draw(st.integers(0, 2))  # parameters of a group added mid-run
    problem = Problem(rng, _shapes(draw, sum(sizes) + late))
    kwargs = _draw_options(draw, name, for_group=False)
    for flag, values in FLAGS.items():
        if (flag == "fused" and name in TAKES_FUSED or flag == "foreach" and name
                in TAKES_FOREACH) and draw(st.booleans()):
            kwargs[flag] = draw(S(values))
    group_opts = [_draw_options(draw, name, for_group=True) for _ in range(n_groups + 1)]
    note(f"{name}({kwargs}), groups {group_opts}, shapes {[s.shape for s in problem.start]}")
    tparams = [torch.tensor(v, requires_grad=True) for v in problem.start]
    oparams = [nn.Parameter(tr.tensor(v)) for v in problem.start]

    def groups(params):
        out, k = [], 0
        for size, opts in zip(sizes, group_opts):
            out.append({"params": params[k:k + size], **opts})
            k += size
        return out

    # torch's ASGD computes its float32 eta otherwise with foreach=True (so torch's two paths
    # differ in eta's last bit, and the parameters by as much): ours is its single-tensor path
    rtol = 1e-6 if name == "ASGD" and kwargs.get("foreach") else 1e-9
    run = Lockstep()
    topt, oopt = run(f"{name}(...)", lambda: getattr(torch.optim, name)(groups(tparams),
                                                                        **kwargs),
                     lambda: getattr(optim, name)(groups(oparams), **kwargs))
    if run.stopped:
        return
    event(f"ran: {name}")
    live = sum(sizes)
    for step in range(draw(st.integers(1, 5))):
        what = draw(S(["step"] * 4 + ["add_param_group", "swap state_dicts"]))
        if what == "add_param_group" and live < len(problem.start):
            k = live
            live += 1
            opts = group_opts[-1]
            run("add_param_group", lambda: topt.add_param_group({"params": [tparams[k]],
                                                                  **opts}),
                lambda: oopt.add_param_group({"params": [oparams[k]], **opts}))
        elif what == "swap state_dicts":  # each loads the other's (so both cast as loads do)
            tsd, osd = topt.state_dict(), oopt.state_dict()
            run(what, lambda: topt.load_state_dict(_to_torch(osd)),
                lambda: oopt.load_state_dict(tsd))
        if run.stopped:
            return
        used = [k for k in range(live) if draw(st.integers(0, 3))] or [0]
        how = draw(S(["set_to_none", "zeros", "accumulate"]))
        note(f"step {step}: {what}; gradients of {used}, zero_grad: {how}")

        def backward(m, opt, params):
            if how != "accumulate":
                opt.zero_grad(set_to_none=how == "set_to_none")
            problem.loss(m, params, used).backward()
            return opt.step()
        run(f"step {step}", lambda: backward(torch, topt, tparams),
            lambda: backward(tr, oopt, oparams))
        if run.stopped:
            return
        _compare_optimizers(f"{name} after step {step}", topt, oopt, tparams, oparams, rtol)


@given(data=st.data())
@_scaled(2)
def test_lbfgs_run_matches_torch(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    problem = Problem(rng, _shapes(draw, draw(st.integers(1, 3))))
    kwargs = dict(lr=draw(S([1.0, 0.5, 0.1] + ([-1.0] if bad(draw) else []))),
                  max_iter=draw(st.integers(1, 5)),
                  max_eval=draw(S([None, 2, 8])), tolerance_grad=draw(S([1e-7, 1e-3])),
                  tolerance_change=draw(S([1e-9, 1e-4])), history_size=draw(S([1, 3, 100])),
                  line_search_fn=draw(S([None, "strong_wolfe"])))
    note(f"LBFGS({kwargs}), shapes {[s.shape for s in problem.start]}")
    tparams = [torch.tensor(v, requires_grad=True) for v in problem.start]
    oparams = [nn.Parameter(tr.tensor(v)) for v in problem.start]
    run = Lockstep()
    topt, oopt = run("LBFGS(...)", lambda: torch.optim.LBFGS(tparams, **kwargs),
                     lambda: optim.LBFGS(oparams, **kwargs))
    if run.stopped:
        return
    everything = range(len(tparams))

    def closure(m, opt, params):
        def f():
            opt.zero_grad()
            loss = problem.loss(m, params, everything)
            loss.backward()
            return loss
        return f
    for step in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 3)) == 0:
            tsd, osd = topt.state_dict(), oopt.state_dict()
            note(f"step {step}: after swapping state_dicts")
            run("swap state_dicts", lambda: topt.load_state_dict(_to_torch(osd)),
                lambda: oopt.load_state_dict(tsd))
        tl, ol = run(f"step {step}", lambda: topt.step(closure(torch, topt, tparams)),
                     lambda: oopt.step(closure(tr, oopt, oparams)))
        if run.stopped:
            return
        _close(f"LBFGS step {step}: the loss returned", _plain(ol), _plain(tl))
        # (iterates of a line search drift apart in the last bits: 1e-7)
        # ("al" is scratch space, each entry written before it is read; its values are
        # differences of nearly equal numbers where the search has converged)
        _compare_optimizers(f"LBFGS after step {step}", topt, oopt, tparams, oparams, 1e-7,
                            skip=("al",))


# ---- regressions the fuzzing found -------------------------------------------------------------


def test_constructor_options_checked_even_where_every_group_overrides_them():
    p = nn.Parameter(tr.zeros(2))
    for m, q in ((torch.optim, torch.zeros(2, requires_grad=True)), (optim, p)):
        with pytest.raises(ValueError, match="weight_decay"):
            m.ASGD([{"params": [q], "weight_decay": 0.0}], weight_decay=-0.1)
        with pytest.raises(ValueError, match="[Nn]esterov"):
            m.SGD([{"params": [q], "momentum": 0.9}], nesterov=True)


def test_fused_and_foreach_together_refused():
    for m, q in ((torch.optim, torch.zeros(2, requires_grad=True)),
                 (optim, nn.Parameter(tr.zeros(2)))):
        for name in ("SGD", "Adam", "AdamW", "Adagrad"):
            with pytest.raises(RuntimeError, match="cannot be `True` together"):
                getattr(m, name)([q], fused=True, foreach=True)


def test_asgd_eta_rounded_to_the_default_dtype_after_a_load():
    """torch rounds each new eta and mu to the default dtype, then stores them in their
    tensors' dtype (float64 after a load into float64 parameters)."""
    tp = torch.ones(3, dtype=torch.float64, requires_grad=True)
    op = nn.Parameter(tr.ones(3, dtype="float64"))
    topt, oopt = torch.optim.ASGD([tp]), optim.ASGD([op])
    for step in range(3):
        tp.grad, op.grad = torch.ones_like(tp), tr.ones_like(op)
        topt.step()
        oopt.step()
        if step == 0:
            topt.load_state_dict(topt.state_dict())
            oopt.load_state_dict(oopt.state_dict())
            assert oopt.state[op]["eta"].dtype == np.float64
    assert oopt.state[op]["eta"].item() == topt.state[tp]["eta"].item()
    np.testing.assert_array_equal(op.numpy(), tp.detach().numpy())


def test_adagrad_state_made_by_the_constructor():
    ps = [nn.Parameter(tr.zeros(2)), nn.Parameter(tr.zeros(3))]
    opt = optim.Adagrad(ps, initial_accumulator_value=0.5)
    assert sorted(opt.state_dict()["state"]) == [0, 1]
    np.testing.assert_array_equal(opt.state[ps[1]]["sum"].numpy(), [0.5] * 3)
    ps[0].grad = tr.ones(2)
    opt.step()
    assert opt.state[ps[1]]["step"].item() == 0 and opt.state[ps[0]]["step"].item() == 1
    late = nn.Parameter(tr.zeros(1))
    opt.add_param_group({"params": [late]})  # as torch's: its state at its first step
    assert late not in opt.state


def test_lbfgs_state_keeps_tensors_when_a_step_returns_at_once():
    """A step whose first gradient is already small returns without touching the state: a
    loaded state stays tensors, which torch's load_state_dict takes."""
    p = nn.Parameter(tr.tensor([1.0, 2.0], dtype="float64"))
    opt = optim.LBFGS([p], tolerance_grad=1e-3)

    def closure(target):
        def f():
            opt.zero_grad()
            loss = ((p - tr.tensor(target, dtype="float64")) ** 2).sum()
            loss.backward()
            return loss
        return f
    opt.step(closure([0.0, 0.0]))
    opt.load_state_dict(opt.state_dict())
    opt.step(closure(p.numpy().tolist()))  # gradient zero: returns at once
    state = opt.state_dict()["state"][0]
    assert isinstance(state["d"], tr.Tensor) and isinstance(state["prev_flat_grad"], tr.Tensor)
    assert all(isinstance(v, tr.Tensor) for v in state["old_dirs"])
    torch.optim.LBFGS([torch.zeros(2, dtype=torch.float64, requires_grad=True)]) \
        .load_state_dict(_to_torch(opt.state_dict()))

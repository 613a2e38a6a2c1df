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

import copy
import os
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn import sparse as trs

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

SCALE = int(os.environ.get("OPTIM_FUZZ_SCALE", "1"))


def _lr_tensor(lib, kwargs, table):
    """The options with the lr (given, or the table's first) as a float64 tensor of ``lib``,
    as torch takes one (float64: torch computes some step sizes in the tensor's dtype)."""
    return {**kwargs, "lr": lib.tensor(kwargs.get("lr", table["lr"][0][0]), dtype=lib.float64)}



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
    if isinstance(v, trs.SparseTensor):  # (SGD's momentum for sparse gradients)
        return v.to_dense().numpy().copy()
    if isinstance(v, torch.Tensor):
        return (v.to_dense() if v.is_sparse else v).detach().numpy().copy()
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
                 warns: bool = False) -> tuple[Any, Any]:
        """With ``warns``, also whether each warned, by category (where neither raised)."""
        results, errors, categories = [], [], []
        for f in (f_torch, f_ours):
            with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
                warnings.simplefilter("always")
                try:
                    results.append(f())
                    errors.append(None)
                except Exception as e:  # noqa: BLE001
                    results.append(None)
                    errors.append(e)
            categories.append(sorted({w.category.__name__ for w in caught}))
        t, o = errors
        if warns and t is None and o is None:
            assert categories[1] == categories[0], \
                f"{what}: ours warned {categories[1]}, torch {categories[0]}"
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
    # (ns_steps >= 100 is refused when made here, at the first step there: docs/pytorch.md)
    "Muon": dict(lr=([0.01, 0.1], -0.01), weight_decay=([0.0, 0.1], -0.1),
                 momentum=([0.95, 0.5, 0.0], -0.5), nesterov=([True, False], None),
                 ns_coefficients=([(3.4445, -4.775, 2.0315), (2.0, -1.5, 0.5)], None),
                 eps=([1e-7, 1e-3], None), ns_steps=([5, 0, 2], None),
                 adjust_lr_fn=([None, "original", "match_rms_adamw"], "other")),
}
GROUP_KEYS = {"lr", "weight_decay", "eps", "betas", "maximize", "momentum_decay", "lr_decay",
              "alpha", "rho", "lambd", "etas", "d"}
# the implementation flags each takes in torch, with values drawn for them ("fused" only on
# the optimizers whose torch twin has a CPU fused kernel)
FLAGS = {"foreach": [None, False, True], "fused": [None, False, True]}
TAKES_FUSED = {"SGD", "Adam", "AdamW", "Adagrad"}
TAKES_FOREACH = set(OPTIONS) - {"Muon"}


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
        def const(a, p):  # in p's dtype
            return m.tensor(a.astype("float32" if "32" in str(p.dtype) else "float64"))
        terms = [((const(self.A[k], params[k]) @ params[k].reshape(-1)
                   - const(self.b[k], params[k])) ** 2).sum() * 0.5
                 + (params[k] ** 4).sum() * 0.1 for k in used]
        return sum(terms[1:], terms[0])


def _to_torch(sd: Any) -> Any:
    """Our state dict with torch's tensors in place of ours (what torch's load takes)."""
    if isinstance(sd, dict):
        return {k: _to_torch(v) for k, v in sd.items()}
    if isinstance(sd, (list, tuple)):
        return type(sd)(_to_torch(v) for v in sd)
    if isinstance(sd, tr.Tensor):
        return torch.tensor(sd.numpy().copy())
    if isinstance(sd, trs.SparseTensor):
        return torch.sparse_coo_tensor(_to_torch(sd._indices()), _to_torch(sd._values()),
                                       tuple(sd.shape), is_coalesced=sd.is_coalesced())
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
            if isinstance(tg[k], torch.Tensor):  # a tensor lr
                assert isinstance(og[k], tr.Tensor), f"{where}: group {i}[{k!r}] {og[k]!r}"
                _close(f"{where}: group {i}[{k!r}]", _plain(og[k]), _plain(tg[k]), 0.0)
                continue
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
    shapes = _shapes(draw, sum(sizes) + late)
    if name == "Muon":  # (matrices only)
        shapes = [(draw(st.integers(1, 4)), draw(st.integers(1, 4))) for _ in shapes]
    problem = Problem(rng, shapes)
    kwargs = _draw_options(draw, name, for_group=False)
    for flag, values in FLAGS.items():
        if (flag == "fused" and name in TAKES_FUSED or flag == "foreach" and name
                in TAKES_FOREACH) and draw(st.booleans()):
            kwargs[flag] = draw(S(values))
    group_opts = [_draw_options(draw, name, for_group=True) for _ in range(n_groups + 1)]
    dt = draw(S(["float64", "float64", "float32"]))
    named = draw(st.booleans())  # the groups' parameters given as named_parameters() gives
    # now and then the lr a tensor, as torch takes it (float64: torch computes some step
    # sizes in the tensor's dtype, docs/pytorch.md)
    tensor_lr = name != "LBFGS" and draw(st.integers(0, 4)) == 0
    note(f"{name}({kwargs}), groups {group_opts}, shapes {[s.shape for s in problem.start]}, "
         f"{dt}{', named' if named else ''}{', tensor lr' if tensor_lr else ''}")

    def options(lib):
        return _lr_tensor(lib, kwargs, OPTIONS[name]) if tensor_lr else kwargs
    tparams = [torch.tensor(v.astype(dt), requires_grad=True) for v in problem.start]
    oparams = [nn.Parameter(tr.tensor(v.astype(dt))) for v in problem.start]

    def groups(params):
        out, k = [], 0
        for size, opts in zip(sizes, group_opts):
            ps = params[k:k + size]
            out.append({"params": [(f"p{k + j}", p) for j, p in enumerate(ps)] if named
                        else ps, **opts})
            k += size
        return out

    # torch's ASGD computes its float32 eta otherwise with foreach=True (so torch's two paths
    # differ in eta's last bit, and the parameters by as much): ours is its single-tensor path
    rtol = 1e-6 if name == "ASGD" and kwargs.get("foreach") else 1e-9
    if dt == "float32":  # a float32 run: to float32's rounding, compounded over a few steps
        rtol = 1e-4
    if name == "Muon":  # torch's Newton-Schulz iterations run in bfloat16 (docs/pytorch.md)
        rtol = 3e-2
    run = Lockstep()
    topt, oopt = run(f"{name}(...)", lambda: getattr(torch.optim, name)(groups(tparams),
                                                                        **options(torch)),
                     lambda: getattr(optim, name)(groups(oparams), **options(tr)))
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
            run("add_param_group", lambda: topt.add_param_group(
                {"params": [(f"p{k}", tparams[k])] if named else [tparams[k]], **opts}),
                lambda: oopt.add_param_group(
                    {"params": [(f"p{k}", oparams[k])] if named else [oparams[k]], **opts}))
        elif what == "swap state_dicts":  # each loads the other's (so both cast as loads do)
            tsd, osd = topt.state_dict(), oopt.state_dict()
            run(what, lambda: topt.load_state_dict(_to_torch(osd)),
                lambda: oopt.load_state_dict(tsd))
        if run.stopped:
            return
        used = [k for k in range(live) if draw(st.integers(0, 3))] or [0]
        how = draw(S(["set_to_none", "zeros", "accumulate"]))
        if how == "accumulate" and name == "SGD" and kwargs.get("foreach") \
                and kwargs.get("nesterov"):
            how = "zeros"  # torch's foreach Nesterov step adds the momentum into p.grad itself
            # (its single-tensor step does not): a gradient accumulated on it is torch's own
        note(f"step {step}: {what}; gradients of {used}, zero_grad: {how}")

        def backward(m, opt, params):
            if how != "accumulate":
                opt.zero_grad(set_to_none=how == "set_to_none")
            problem.loss(m, params, used).backward()
            return opt.step()
        try:
            run(f"step {step}", lambda: backward(torch, topt, tparams),
                lambda: backward(tr, oopt, oparams))
        except AssertionError as e:
            # torch's fused SGD kernel fails where some momentum buffers exist and others do
            # not yet (a parameter's first gradient after the others' first steps)
            if name == "SGD" and kwargs.get("fused") and "expected Tensor as element" in str(e):
                event("torch's fused SGD: a mix of new and old momentum buffers")
                return
            raise
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


# ---- sparse gradients (embedding(sparse=True)'s) -----------------------------------------------

# the optimizers that take a sparse gradient, with their options (weight_decay: both refuse
# it with a sparse gradient, at the step)
SPARSE_OPTIONS = {
    "SparseAdam": dict(lr=([0.01, 0.1], 0.0), betas=([(0.9, 0.999), (0.5, 0.9), (0.0, 0.5)],
                                                      (1.0, 0.9)),
                       eps=([1e-8, 1e-3], 0.0), maximize=([False, True], None)),
    "SGD": OPTIONS["SGD"],
    "Adagrad": OPTIONS["Adagrad"],
}


def _kinds(state: Any) -> Any:
    """What each state entry is: a tensor, or a Python number (torch's SparseAdam counts its
    steps in an int)."""
    return {k: {n: "number" if isinstance(v, (int, float)) else "tensor" for n, v in e.items()}
            for k, e in state.items()}


@given(data=st.data())
@_scaled(2)
def test_sparse_optimizer_run_matches_torch(data):
    """Embedding tables (their rows looked up with ``embedding(..., sparse=True)``, so each
    gradient is a sparse tensor of the rows, repeats and ``padding_idx`` included, or now and
    then a dense one) trained by the optimizers that take sparse gradients."""
    draw = data.draw
    name = draw(S(sorted(SPARSE_OPTIONS)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    saved_options = OPTIONS
    try:  # (_draw_options reads OPTIONS)
        globals()["OPTIONS"] = SPARSE_OPTIONS
        kwargs = _draw_options(draw, name, for_group=False)
        group_opts = [_draw_options(draw, name, for_group=True) for _ in range(3)]
    finally:
        globals()["OPTIONS"] = saved_options
    shapes = [(draw(st.integers(1, 6)), draw(st.integers(1, 3)))
              for _ in range(draw(st.integers(1, 3)))]
    n_first = draw(st.integers(1, len(shapes)))  # the others in a group added mid-run
    dt = draw(S(["float64", "float64", "float32"]))
    tensor_lr = draw(st.integers(0, 4)) == 0  # (float64, as in the run above)
    note(f"{name}({kwargs}), groups {group_opts}, tables {shapes}, {dt}"
         f"{', tensor lr' if tensor_lr else ''}")

    def options(lib):
        return _lr_tensor(lib, kwargs, SPARSE_OPTIONS[name]) if tensor_lr else kwargs
    start = [rng.standard_normal(shape).astype(dt) for shape in shapes]
    tparams = [torch.tensor(v, requires_grad=True) for v in start]
    oparams = [nn.Parameter(tr.tensor(v)) for v in start]
    run = Lockstep()
    topt, oopt = run(f"{name}(...)", lambda: getattr(torch.optim, name)(
        [{"params": tparams[:n_first], **group_opts[0]}], **options(torch)),
        lambda: getattr(optim, name)([{"params": oparams[:n_first], **group_opts[0]}],
                                     **options(tr)))
    if run.stopped:
        return
    event(f"ran: sparse {name}")
    rtol = 1e-4 if dt == "float32" else 1e-9
    live = n_first
    for step in range(draw(st.integers(1, 5))):
        what = draw(S(["step"] * 4 + ["add_param_group", "swap state_dicts"]))
        if what == "add_param_group" and live < len(shapes):
            k, live = live, len(shapes)
            run("add_param_group",
                lambda: topt.add_param_group({"params": tparams[k:], **group_opts[1]}),
                lambda: oopt.add_param_group({"params": oparams[k:], **group_opts[1]}))
        elif what == "swap state_dicts":
            tsd, osd = topt.state_dict(), oopt.state_dict()
            run(what, lambda: topt.load_state_dict(_to_torch(osd)),
                lambda: oopt.load_state_dict(tsd))
        if run.stopped:
            return
        how = draw(S(["set_to_none", "zeros", "accumulate"]))
        # per table and backward call: the rows looked up, padding_idx, and whether the
        # gradient is dense instead (the table used whole)
        calls = [[(draw(st.lists(st.integers(0, shape[0] - 1), max_size=5)),
                   draw(S([None, None, 0])), draw(st.integers(0, 9)) == 0)
                  for shape in shapes[:live]] for _ in range(draw(st.integers(1, 2)))]
        targets = [[rng.standard_normal((len(i), shape[1])) for (i, _, _), shape in
                    zip(call, shapes)] for call in calls]
        note(f"step {step}: {what}; lookups {calls}, zero_grad: {how}")

        def backward(m, opt, params):
            if how != "accumulate":
                opt.zero_grad(set_to_none=how == "set_to_none")
            for call, target in zip(calls, targets):
                terms = []
                for (index, pad, dense), t, w in zip(call, target, params):
                    if dense:
                        terms.append((w * w).sum() * 0.5)
                        continue
                    rows = m.nn.functional.embedding(m.tensor(index, dtype=m.int64), w,
                                                     padding_idx=pad, sparse=True)
                    terms.append(((rows - m.tensor(t.astype(dt))) ** 2).sum() * 0.5
                                 + (rows ** 4).sum() * 0.1)
                sum(terms[1:], terms[0]).backward()
            return opt.step()
        run(f"step {step}", lambda: backward(torch, topt, tparams),
            lambda: backward(tr, oopt, oparams))
        if run.stopped:
            return
        _compare_optimizers(f"sparse {name} after step {step}", topt, oopt, tparams, oparams,
                            rtol)
        assert _kinds(oopt.state_dict()["state"]) == _kinds(topt.state_dict()["state"])


# ---- regressions the fuzzing found -------------------------------------------------------------


def test_sparse_adam_counts_steps_in_an_int():
    """torch's SparseAdam keeps ``step`` a Python int, in its state and state dict; a loaded
    step becomes one here too."""
    counted = []
    for m, w in ((torch, torch.zeros(4, 2, requires_grad=True)),
                 (tr, nn.Parameter(tr.zeros(4, 2)))):
        opt = m.optim.SparseAdam([w], lr=0.1)
        for _ in range(2):
            m.nn.functional.embedding(m.tensor([1, 3, 1]), w, sparse=True).sum().backward()
            opt.step()
        counted.append(opt.state_dict()["state"][0]["step"])
    assert counted == [2, 2] and all(type(c) is int for c in counted)
    sd = opt.state_dict()
    sd["state"][0]["step"] = tr.tensor(5.0)
    opt.load_state_dict(sd)
    assert type(opt.state[w]["step"]) is int and opt.state[w]["step"] == 5


def _sgd_dense_then_sparse(m, w, first_dense: bool, nesterov: bool, opt=None):
    """Two SGD steps with momentum on w: a dense gradient then a sparse one, or the other way
    round."""
    opt = opt or m.optim.SGD([w], lr=0.1, momentum=0.5, nesterov=nesterov)
    for dense in (first_dense, not first_dense):
        opt.zero_grad()
        if dense:
            (w * w).sum().backward()
        else:
            m.nn.functional.embedding(m.tensor([1, 1, 2]), w, sparse=True).sum().backward()
        opt.step()
    return opt


def test_sgd_momentum_dense_buffer_takes_a_sparse_gradient():
    """A momentum buffer made by a dense gradient takes a later sparse one, as torch's
    (``b.mul_(mu).add_(g)``), and stays dense."""
    tw = torch.ones(3, 2, dtype=torch.float64, requires_grad=True)
    ow = nn.Parameter(tr.ones(3, 2, dtype="float64"))
    topt = _sgd_dense_then_sparse(torch, tw, True, False)
    oopt = _sgd_dense_then_sparse(tr, ow, True, False)
    np.testing.assert_allclose(ow.numpy(), tw.detach().numpy(), rtol=1e-12)
    assert isinstance(oopt.state[ow]["momentum_buffer"], tr.Tensor)
    np.testing.assert_allclose(oopt.state[ow]["momentum_buffer"].numpy(),
                               topt.state[tw]["momentum_buffer"].numpy(), rtol=1e-12)


@pytest.mark.parametrize("first_dense, nesterov", [(True, True), (False, False),
                                                   (False, True)])
def test_sgd_momentum_sparse_plus_dense_refused(first_dense, nesterov):
    """Where torch's step would add a dense tensor to a sparse one (Nesterov's g + mu * b
    with a dense buffer and a sparse g; a sparse buffer and a dense g), both refuse, with
    torch's message; ours before anything changed."""
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        _sgd_dense_then_sparse(torch, torch.ones(3, 2, requires_grad=True), first_dense,
                               nesterov)
    w = nn.Parameter(tr.ones(3, 2))
    opt = optim.SGD([w], lr=0.1, momentum=0.5, nesterov=nesterov)
    seen = []
    real_step = opt._update

    def spy(p, g, group, state):  # the parameter and buffer as the refused step found them
        real_step(p, g, group, state)
        seen.append((p.numpy(), copy.deepcopy(state["momentum_buffer"])))
    opt._update = spy
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        _sgd_dense_then_sparse(tr, w, first_dense, nesterov, opt)
    (before, buf), = seen
    np.testing.assert_array_equal(w.numpy(), before)
    after = opt.state[w]["momentum_buffer"]
    assert type(after) is type(buf)
    np.testing.assert_array_equal(_plain(after), _plain(buf))


def test_sgd_sparse_momentum_buffer_of_torch_loads():
    """torch's state dict of SGD on sparse gradients holds a sparse momentum buffer: it loads
    as ours, and the steps go on as torch's."""
    tw = torch.ones(3, 2, dtype=torch.float64, requires_grad=True)
    ow = nn.Parameter(tr.ones(3, 2, dtype="float64"))
    topt = torch.optim.SGD([tw], lr=0.1, momentum=0.5)
    oopt = optim.SGD([ow], lr=0.1, momentum=0.5)
    for step in range(2):
        for m, w, opt in ((torch, tw, topt), (tr, ow, oopt)):
            opt.zero_grad()
            m.nn.functional.embedding(m.tensor([1, 1, 2 - step]), w, sparse=True).sum() \
                .backward()
            opt.step()
        oopt.load_state_dict(topt.state_dict())
        assert isinstance(oopt.state[ow]["momentum_buffer"], trs.SparseTensor)
        np.testing.assert_allclose(_plain(oopt.state[ow]["momentum_buffer"]),
                                   _plain(topt.state[tw]["momentum_buffer"]), rtol=1e-12)
    np.testing.assert_allclose(ow.numpy(), tw.detach().numpy(), rtol=1e-12)


TENSOR_LR_OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adamax", "Adagrad", "Adadelta", "RMSprop",
                        "NAdam", "RAdam", "ASGD", "Rprop", "Adafactor", "Muon", "SparseAdam",
                        "LBFGS"]


@pytest.mark.parametrize("name", TENSOR_LR_OPTIMIZERS)
def test_tensor_lr_kept_and_refused_as_torch(name):
    """Every optimizer takes a 1-element tensor lr and keeps that very tensor in its groups;
    a bigger one is refused with torch's message, and so is Adam's and AdamW's with
    foreach=True (unless capturable=True)."""
    for m, p in ((torch, torch.ones(2, 2, requires_grad=True)),
                 (tr, nn.Parameter(tr.ones(2, 2)))):
        lr = m.tensor([0.01])
        assert getattr(m.optim, name)([p], lr=lr).param_groups[0]["lr"] is lr
        with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
            getattr(m.optim, name)([p], lr=m.tensor([0.01, 0.02]))
        if name in ("Adam", "AdamW"):
            with pytest.raises(ValueError, match="lr as a Tensor is not supported for "
                                                 "capturable=False and foreach=True"):
                getattr(m.optim, name)([p], lr=m.tensor(0.01), foreach=True)
            getattr(m.optim, name)([p], lr=m.tensor(0.01), foreach=True, capturable=True)


def test_tensor_lr_state_dicts_and_schedules_as_torch():
    """A schedule fills a tensor lr in place (the optimizer's tensor follows it) and keeps
    copies of it (initial_lr, base_lrs, get_last_lr()); the state dicts carry tensors, and
    each library loads the other's."""
    values = []
    for m in (torch, tr):
        p = (torch.ones(2, requires_grad=True) if m is torch else nn.Parameter(tr.ones(2)))
        lr = m.tensor(0.1, dtype=m.float64)
        opt = m.optim.SGD([p], lr=lr)
        sched = m.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        for _ in range(2):
            opt.step()
            sched.step()
        group = opt.param_groups[0]
        assert group["lr"] is lr and group["initial_lr"] is not lr
        last = sched.get_last_lr()[0]
        assert isinstance(last, m.Tensor) and last is not lr
        values.append((lr.item(), group["initial_lr"].item(), last.item(),
                       sched.state_dict()["base_lrs"][0].item()))
        if m is tr:  # ours loads torch's state dicts, and torch ours
            oopt, osched, osd = opt, sched, (opt.state_dict(), sched.state_dict())
        else:
            topt, tsched = opt, sched
    assert values[0] == values[1] == (0.025, 0.1, 0.025, 0.1)
    oopt.load_state_dict(topt.state_dict())
    osched.load_state_dict(tsched.state_dict())
    assert isinstance(oopt.param_groups[0]["lr"], tr.Tensor)
    assert isinstance(osched.base_lrs[0], tr.Tensor)
    topt.load_state_dict(_to_torch(osd[0]))
    tsched.load_state_dict(_to_torch(osd[1]))
    osched.step()
    tsched.step()
    assert oopt.param_groups[0]["lr"].item() == topt.param_groups[0]["lr"].item() == 0.0125


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


# ---- learning-rate schedules -------------------------------------------------------------------

# functions a LambdaLR or MultiplicativeLR may take (the same objects in both libraries)
LAMBDAS = [lambda e: 0.95**e, lambda e: 1.0 / (e + 1), lambda e: 0.5 if e % 3 else 1.0,
           lambda e: 1.0 + 0.1 * e]
SIMPLE = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
          "ConstantLR", "PolynomialLR", "LambdaLR", "MultiplicativeLR"]
# the schedules whose step(epoch) torch still takes (through their closed form, or, for the
# others, their get_lr at that epoch), with its deprecation warning
EPOCH_FORM = {"StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
              "ConstantLR", "PolynomialLR", "CosineAnnealingWarmRestarts"}


def _simple(draw, name: str) -> dict[str, Any]:
    """Random arguments of one of the SIMPLE schedules (now and then an invalid one)."""
    f = draw(S([0.1, 0.5, 0.9]))
    if name == "StepLR":  # (not step_size=0: ours refuses it, torch divides by it later)
        return dict(step_size=draw(st.integers(1, 4)), gamma=f)
    if name == "MultiStepLR":
        return dict(milestones=draw(st.lists(st.integers(0, 8), max_size=4)), gamma=f)
    if name == "ExponentialLR":
        return dict(gamma=f)
    if name == "CosineAnnealingLR":
        return dict(T_max=draw(st.integers(1, 8)), eta_min=draw(S([0.0, 1e-3, 0.05])))
    if name == "LinearLR":
        return dict(start_factor=draw(S([1 / 3, 0.5, 1.0] + ([0.0, 1.5] if bad(draw) else []))),
                    end_factor=draw(S([1.0, 0.5, 0.1])), total_iters=draw(st.integers(1, 6)))
    if name == "ConstantLR":
        return dict(factor=draw(S([1 / 3, 0.5, 1.0] + ([1.5] if bad(draw) else []))),
                    total_iters=draw(st.integers(0, 6)))
    if name == "PolynomialLR":
        return dict(total_iters=draw(st.integers(1, 6)), power=draw(S([1.0, 2.0, 0.5])))
    k = draw(st.integers(0, len(LAMBDAS) - 1))
    return dict(lr_lambda=LAMBDAS[k])


def _sched_case(draw):
    """(name, build(m, opt) -> schedule, optimizer name, how it steps)."""
    name = draw(S(SIMPLE + ["CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR",
                            "SequentialLR", "ChainedScheduler", "ReduceLROnPlateau"]))
    opt_name = draw(S(["SGD", "Adam"]))
    if name in SIMPLE:
        kw = _simple(draw, name)
        return name, lambda m, opt: getattr(m, name)(opt, **kw), opt_name, kw
    if name == "CosineAnnealingWarmRestarts":
        kw = dict(T_0=draw(st.integers(0 if bad(draw) else 1, 5)),
                  T_mult=draw(st.integers(0 if bad(draw) else 1, 3)),
                  eta_min=draw(S([0.0, 1e-3])))
        return name, lambda m, opt: m.CosineAnnealingWarmRestarts(opt, **kw), opt_name, kw
    if name == "CyclicLR":
        kw = dict(base_lr=draw(S([0.001, [0.001, 0.002]])), max_lr=draw(S([0.1, [0.1, 0.05]])),
                  step_size_up=draw(st.integers(1, 5)),
                  step_size_down=draw(S([None, 1, 3])),
                  mode=draw(S(["triangular", "triangular2", "exp_range"])),
                  gamma=draw(S([1.0, 0.9])), cycle_momentum=draw(st.booleans()),
                  base_momentum=draw(S([0.8, [0.8, 0.7]])), max_momentum=draw(S([0.9, 0.95])))
        return name, lambda m, opt: m.CyclicLR(opt, **kw), opt_name, kw
    if name == "OneCycleLR":
        kw = dict(max_lr=draw(S([0.1, [0.1, 0.2]])), pct_start=draw(S([0.3, 0.5, 0.25])),
                  anneal_strategy=draw(S(["cos", "linear"])),
                  cycle_momentum=draw(st.booleans()), base_momentum=draw(S([0.85, 0.5])),
                  max_momentum=draw(S([0.95, 0.9])), div_factor=draw(S([25.0, 2.0])),
                  final_div_factor=draw(S([1e4, 10.0])), three_phase=draw(st.booleans()))
        if draw(st.booleans()):
            kw["total_steps"] = draw(st.integers(4, 16))
        else:
            kw.update(epochs=draw(st.integers(1, 3)), steps_per_epoch=draw(st.integers(2, 5)))
        return name, lambda m, opt: m.OneCycleLR(opt, **kw), opt_name, kw
    if name == "ReduceLROnPlateau":
        kw = dict(mode=draw(S(["min", "max"])), factor=draw(S([0.1, 0.5])),
                  patience=draw(st.integers(0, 3)), threshold=draw(S([1e-4, 0.1])),
                  threshold_mode=draw(S(["rel", "abs"])), cooldown=draw(st.integers(0, 2)),
                  min_lr=draw(S([0.0, 0.01, [0.0, 0.02]])), eps=draw(S([1e-8, 1e-3])))
        return name, lambda m, opt: m.ReduceLROnPlateau(opt, **kw), opt_name, kw
    parts = [draw(S(SIMPLE)) for _ in range(draw(st.integers(1, 3)))]
    kws = [_simple(draw, p) for p in parts]
    if name == "SequentialLR":
        milestones = sorted(draw(st.lists(st.integers(1, 8), min_size=len(parts) - 1,
                                          max_size=len(parts) - 1)))

        def build(m, opt):
            return m.SequentialLR(opt, [getattr(m, p)(opt, **k) for p, k in zip(parts, kws)],
                                  milestones)
        return name, build, opt_name, dict(parts=parts, kws=kws, milestones=milestones)

    def chained(m, opt):
        return m.ChainedScheduler([getattr(m, p)(opt, **k) for p, k in zip(parts, kws)],
                                  optimizer=opt)
    return name, chained, opt_name, dict(parts=parts, kws=kws)


def _sched_optimizer(m, opt_name, params, lrs, lr_dtype=None):
    """SGD or Adam with one group per lr; with ``lr_dtype``, the lrs are tensors of it (which
    a schedule fills in place)."""
    lib = torch if m is torch.optim else tr
    groups = [{"params": [p], "lr": lr if lr_dtype is None else lib.tensor(lr, dtype=lr_dtype)}
              for p, lr in zip(params, lrs)]
    if opt_name == "SGD":
        return m.SGD(groups, lr=0.1, momentum=0.9)
    return m.Adam(groups, lr=0.1, betas=(0.9, 0.99))


def _groups_view(opt) -> list[dict]:
    keys = ("lr", "initial_lr", "momentum", "betas", "max_lr", "min_lr", "max_momentum",
            "base_momentum")
    return [{k: _plain(g[k]) for k in keys if k in g} for g in opt.param_groups]


def _sched_state(s) -> dict:
    sd = _plain(s.state_dict())
    return {k: v for k, v in sd.items() if not callable(v)}


def _counters(sd: dict) -> dict:
    """Our schedule's state dict with MultiStepLR's milestones (its parts' too) as Counters:
    ours saves the Counter as a dict (so tr.save writes it), and torch's closed form
    (step(epoch)) needs the Counter's elements()."""
    sd = dict(sd)
    if isinstance(sd.get("milestones"), dict):
        sd["milestones"] = Counter(sd["milestones"])
    if isinstance(sd.get("_schedulers"), list):
        sd["_schedulers"] = [_counters(s) for s in sd["_schedulers"]]
    return sd


@given(data=st.data())
@_scaled(4)
def test_schedule_matches_torch(data):
    draw = data.draw
    name, build, opt_name, kw = _sched_case(draw)
    lrs = draw(S([[0.1], [0.1, 0.05]]))
    lr_dtype = draw(S([None, None, "float32", "float64"]))  # tensor lrs, of that dtype
    note(f"{name}({kw}) on {opt_name} with lrs {lrs}, tensors of {lr_dtype}")
    tparams = [torch.zeros(2, requires_grad=True) for _ in lrs]
    oparams = [nn.Parameter(tr.zeros(2)) for _ in lrs]
    topt = _sched_optimizer(torch.optim, opt_name, tparams, lrs,
                            lr_dtype and getattr(torch, lr_dtype))
    oopt = _sched_optimizer(optim, opt_name, oparams, lrs, lr_dtype)
    held = [g["lr"] for g in oopt.param_groups]  # (a tensor lr is filled, never replaced)
    run = Lockstep()
    ts, os_ = run(f"{name}(...)", lambda: build(torch.optim.lr_scheduler, topt),
                  lambda: build(optim.lr_scheduler, oopt), warns=True)
    if run.stopped:
        return
    event(f"ran: {name}")
    plateau = name == "ReduceLROnPlateau"
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    metrics = np.round(rng.standard_normal(40).cumsum() * 2) / 2  # plateaus and ties

    def compare(where):
        _close(f"{where}: groups", _groups_view(oopt), _groups_view(topt), 1e-12)
        _close(f"{where}: get_last_lr()", _plain(os_.get_last_lr()), _plain(ts.get_last_lr()),
               1e-12)
        _close(f"{where}: state_dict()", _sched_state(os_), _sched_state(ts), 1e-12)
    compare("made")
    for k in range(draw(st.integers(1, 30))):
        how = draw(S(["step"] * 6 + ["epoch", "swap", "no optimizer step"]))
        if how == "swap":
            tsd, osd = ts.state_dict(), os_.state_dict()
            osd = _counters(_to_torch(osd))
            run("swap state_dicts", lambda: ts.load_state_dict(osd),
                lambda: os_.load_state_dict(tsd))
            how = "step"
        if how != "no optimizer step":
            topt.step()
            oopt.step()
        if plateau:
            run(f"step {k}", lambda: ts.step(float(metrics[k])),
                lambda: os_.step(float(metrics[k])), warns=True)
        elif how == "epoch" and name in EPOCH_FORM:
            e = draw(st.integers(0, 12))
            note(f"step {k}: step({e})")
            run(f"step({e})", lambda: ts.step(e), lambda: os_.step(e), warns=True)
        else:
            run(f"step {k}", ts.step, os_.step, warns=True)
        if run.stopped:
            return
        compare(f"{name} after step {k} ({how})")
        assert all(g["lr"] is lr for g, lr in zip(oopt.param_groups, held) if lr_dtype)


# ---- training utilities -----------------------------------------------------------------------


def _grads_case(draw, rng):
    """Parameters (some without a gradient), their gradients now and then non-finite."""
    shapes = _shapes(draw, draw(st.integers(1, 3)))
    values = [rng.standard_normal(s) * draw(S([1.0, 10.0])) for s in shapes]
    grads = [None if draw(st.integers(0, 4)) == 0 else rng.standard_normal(s) for s in shapes]
    if draw(st.integers(0, 5)) == 0 and any(g is not None and g.size for g in grads):
        g = next(g for g in grads if g is not None and g.size)
        g.flat[0] = draw(S([np.inf, -np.inf, np.nan]))
    return values, grads


def _leaves(m, values, grads):
    out = []
    for v, g in zip(values, grads):
        p = m.tensor(v.copy(), requires_grad=True)
        if g is not None:
            p.grad = m.tensor(g.copy())
        out.append(p)
    return out


def _grads_of(ps):
    return [None if p.grad is None else _plain(p.grad) for p in ps]


@given(data=st.data())
@_scaled(4)
def test_training_utility_matches_torch(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(S(["clip_grad_norm_", "clip_grad_value_", "get_total_norm",
                   "parameters_to_vector", "vector_to_parameters"]))
    values, grads = _grads_case(draw, rng)
    run = Lockstep()
    tps, ops = _leaves(torch, values, grads), _leaves(tr, values, grads)
    # a single tensor, not a list (not for the vector functions: torch's iterate over its
    # rows, so vector_to_parameters writes into views of them and changes nothing)
    one = draw(st.integers(0, 5)) == 0 and "vector" not in kind
    targ = (lambda ps: ps[0]) if one else (lambda ps: ps)
    if kind == "clip_grad_norm_" or kind == "get_total_norm":
        max_norm = draw(S([0.1, 1.0, 10.0, 0.0] + ([-1.0] if bad(draw) else [])))
        norm_type = draw(S([2.0, 1.0, 3.0, 0.5, np.inf, -np.inf, 0.0]))
        kw = dict(norm_type=norm_type, error_if_nonfinite=draw(st.booleans()),
                  foreach=draw(S([None, False, True])))
        note(f"{kind}(max_norm={max_norm}, {kw}), grads {grads}")
        if max_norm < 0:  # torch scales by a negative factor (flips the gradients): refused
            with pytest.raises(ValueError, match="max_norm"):
                nn.utils.clip_grad_norm_(ops, max_norm, **kw)
            return
        if kind == "get_total_norm":
            def call(m, ps):
                gs = [p.grad for p in ([ps[0]] if one else ps) if p.grad is not None]
                total = m.nn.utils.get_total_norm(gs, **kw)
                m.nn.utils.clip_grads_with_norm_(ps, max_norm, total, foreach=kw["foreach"])
                return total
        else:
            def call(m, ps):
                return m.nn.utils.clip_grad_norm_(targ(ps), max_norm, **kw)
        t, o = run(kind, lambda: call(torch, tps), lambda: call(tr, ops))
        if run.stopped:
            return
        _close(f"{kind}: the total norm", _plain(o), _plain(t), 1e-12)
        assert str(o.dtype) == str(t.dtype).removeprefix("torch."), (o.dtype, t.dtype)
    elif kind == "clip_grad_value_":
        c = draw(S([0.1, 1.0, 0.0] + ([-1.0] if bad(draw) else [])))
        note(f"clip_grad_value_({c}), grads {grads}")
        if c < 0:  # torch clamps every gradient to -c ... c, i.e. sets it to c: refused
            with pytest.raises(ValueError, match="clip_value"):
                nn.utils.clip_grad_value_(ops, c)
            return
        if all(g is None for g in (grads[:1] if one else grads)):
            # torch's foreach kernel fails on an empty list
            return
        run(kind, lambda: torch.nn.utils.clip_grad_value_(targ(tps), c),
            lambda: nn.utils.clip_grad_value_(targ(ops), c))
    elif kind == "parameters_to_vector":
        t, o = run(kind, lambda: torch.nn.utils.parameters_to_vector(targ(tps)),
                   lambda: nn.utils.parameters_to_vector(targ(ops)))
        if not run.stopped:
            _close(kind, _plain(o), _plain(t), 0)
            assert o.requires_grad == t.requires_grad
    else:
        # (a vector too short for the parameters; not one too long: torch takes its start,
        # ours refuses it)
        n = sum(v.size for v in values) - (1 if bad(draw) else 0)
        vec = rng.standard_normal(max(n, 0))
        run(kind, lambda: torch.nn.utils.vector_to_parameters(torch.tensor(vec), targ(tps)),
            lambda: nn.utils.vector_to_parameters(tr.tensor(vec), targ(ops)))
    if run.stopped:
        return
    _close(f"{kind}: the gradients after", _grads_of(ops), _grads_of(tps), 1e-12)
    _close(f"{kind}: the parameters after", [_plain(p) for p in ops],
           [_plain(p) for p in tps], 0)


def _model(m):
    return m.nn.Sequential(m.nn.Linear(3, 4), m.nn.BatchNorm1d(4), m.nn.Linear(4, 2))


def _module_state(mod) -> dict:
    return {k: _plain(v) for k, v in mod.state_dict().items()}


@given(data=st.data())
@_scaled(2)
def test_swa_utils_match_torch(data):
    draw = data.draw
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    how = draw(S(["swa", "ema multi", "ema", "swa multi"]))
    decay = draw(S([0.999, 0.5, 0.9]))
    # (not get_swa_multi_avg_fn with use_buffers: torch's fails on BatchNorm's integer
    # num_batches_tracked, ours averages it, truncating)
    use_buffers = draw(st.booleans()) and how != "swa multi"
    note(f"AveragedModel({how}, decay={decay}, use_buffers={use_buffers})")

    def fns(m):
        su = m.optim.swa_utils
        return {"swa": {}, "ema multi": dict(multi_avg_fn=su.get_ema_multi_avg_fn(decay)),
                "ema": dict(avg_fn=su.get_ema_avg_fn(decay)),
                "swa multi": dict(multi_avg_fn=su.get_swa_multi_avg_fn())}[how]
    tmodel = _model(torch).double()
    omodel = _model(tr).double()
    omodel.load_state_dict({k: v.detach().numpy().copy() for k, v in
                            tmodel.state_dict().items()})
    tavg = torch.optim.swa_utils.AveragedModel(tmodel, use_buffers=use_buffers, **fns(torch))
    oavg = optim.swa_utils.AveragedModel(omodel, use_buffers=use_buffers, **fns(tr))
    batches = [rng.standard_normal((draw(st.integers(2, 4)), 3)) for _ in range(3)]
    for k in range(draw(st.integers(1, 4))):
        with torch.no_grad():  # the model trains: new weights, new running statistics
            for p in tmodel.parameters():
                p.add_(torch.tensor(rng.standard_normal(tuple(p.shape))))
            tmodel(torch.tensor(batches[k % 3]))
        omodel.load_state_dict({n: v.detach().numpy().copy() for n, v in
                                tmodel.state_dict().items()})
        tavg.update_parameters(tmodel)
        oavg.update_parameters(omodel)
        _close(f"after update {k}", _module_state(oavg), _module_state(tavg), 1e-12)
    x = rng.standard_normal((2, 3))
    tavg.eval()
    oavg.eval()
    _close("the averaged model's forward", _plain(oavg(tr.tensor(x))),
           _plain(tavg(torch.tensor(x))), 1e-12)
    tuples = draw(st.booleans())
    torch.optim.swa_utils.update_bn([(torch.tensor(b), 0) if tuples else torch.tensor(b)
                                     for b in batches], tavg)
    optim.swa_utils.update_bn([(tr.tensor(b), 0) if tuples else tr.tensor(b)
                               for b in batches], oavg)
    _close("after update_bn", _module_state(oavg), _module_state(tavg), 1e-12)
    assert oavg.training == tavg.training


@given(data=st.data())
@_scaled(2)
def test_swalr_matches_torch(data):
    draw = data.draw
    lrs = draw(S([[0.1], [0.1, 0.05]]))
    kw = dict(swa_lr=draw(S([0.05, [0.05, 0.01][:len(lrs)], 0.2])),
              anneal_epochs=draw(st.integers(0 if bad(draw) else 1, 6)),
              anneal_strategy=draw(S(["cos", "linear"] + (["quadratic"] if bad(draw) else []))))
    note(f"SWALR({kw}) on lrs {lrs}")
    tparams = [torch.zeros(2, requires_grad=True) for _ in lrs]
    oparams = [nn.Parameter(tr.zeros(2)) for _ in lrs]
    topt = _sched_optimizer(torch.optim, "SGD", tparams, lrs)
    oopt = _sched_optimizer(optim, "SGD", oparams, lrs)
    run = Lockstep()
    ts, os_ = run("SWALR(...)", lambda: torch.optim.swa_utils.SWALR(topt, **kw),
                  lambda: optim.swa_utils.SWALR(oopt, **kw))
    if run.stopped:
        return
    for k in range(draw(st.integers(1, 12))):
        topt.step()
        oopt.step()
        run(f"step {k}", ts.step, os_.step)
        _close(f"SWALR after step {k}: lrs", _groups_view(oopt), _groups_view(topt), 1e-12)
        _close(f"SWALR after step {k}: get_last_lr()", os_.get_last_lr(), ts.get_last_lr(),
               1e-12)
    _close("SWALR state_dict()", _sched_state(os_), _sched_state(ts), 1e-12)


def test_total_norm_of_no_gradients_is_zero_of_any_order():
    for norm_type in (2.0, 1.0, np.inf, -np.inf, 0.0):
        t = torch.nn.utils.clip_grad_norm_([torch.zeros(2, requires_grad=True)], 1.0,
                                           norm_type, error_if_nonfinite=True)
        o = nn.utils.clip_grad_norm_([nn.Parameter(tr.zeros(2))], 1.0, norm_type,
                                     error_if_nonfinite=True)
        assert o.item() == t.item() == 0.0
        assert nn.utils.get_total_norm([], norm_type).item() == 0.0


def test_swa_multi_average_weight_rounded_as_torch():
    """torch's 1 / (n + 1) of the int64 n_averaged is a float32 (the default dtype) weight."""
    tm, om = torch.nn.Linear(3, 2).double(), nn.Linear(3, 2).double()
    rng = np.random.default_rng(0)
    tavg = torch.optim.swa_utils.AveragedModel(
        tm, multi_avg_fn=torch.optim.swa_utils.get_swa_multi_avg_fn())
    oavg = optim.swa_utils.AveragedModel(om, multi_avg_fn=optim.swa_utils.get_swa_multi_avg_fn())
    for _ in range(4):
        with torch.no_grad():
            for p in tm.parameters():
                p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape))))
        om.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
        tavg.update_parameters(tm)
        oavg.update_parameters(om)
    np.testing.assert_array_equal(oavg.module.weight.numpy(),
                                  tavg.module.weight.detach().numpy())


def test_sequential_lr_takes_a_repeated_milestone():
    """A repeated milestone skips the part between, as in torch."""
    lrs = []
    for m, p in ((torch.optim, torch.zeros(1, requires_grad=True)),
                 (optim, nn.Parameter(tr.zeros(1)))):
        opt = m.SGD([p], lr=1.0)
        ls = m.lr_scheduler
        s = ls.SequentialLR(opt, [ls.ConstantLR(opt, 0.5, 10), ls.ExponentialLR(opt, 0.1),
                                  ls.ExponentialLR(opt, 0.9)], [2, 2])
        out = []
        for _ in range(4):
            opt.step()
            s.step()
            out.append(s.get_last_lr()[0])
        lrs.append(out)
    np.testing.assert_allclose(lrs[1], lrs[0], rtol=1e-15)


def test_schedule_state_with_a_negative_last_lr_loads():
    """OneCycleLR's linear anneal goes below 0 at step total_steps (torch allows that step, as
    ours): such a state dict loads, as in torch."""
    p = nn.Parameter(tr.zeros(1))
    opt = optim.SGD([p], lr=0.1)
    s = optim.lr_scheduler.ExponentialLR(opt, 0.5)
    sd = s.state_dict()
    sd["_last_lr"] = [-1e-17]
    s.load_state_dict(sd)
    assert s.get_last_lr() == [-1e-17]
    sd["base_lrs"] = [-0.1]
    with pytest.raises(ValueError, match="learning rate"):
        s.load_state_dict(sd)


def test_a_group_added_after_a_load_has_torchs_options():
    """torch's load gives the defaults differentiable=False where they lack it (Adafactor's),
    so a group added later has it."""
    keys = []
    for m, make in ((torch.optim, lambda: torch.zeros(2, requires_grad=True)),
                    (optim, lambda: nn.Parameter(tr.zeros(2)))):
        opt = m.Adafactor([make()])
        opt.add_param_group({"params": [make()]})
        opt.load_state_dict(opt.state_dict())
        opt.add_param_group({"params": [make()]})
        keys.append([sorted(g) for g in opt.param_groups])
    assert keys[1] == keys[0]

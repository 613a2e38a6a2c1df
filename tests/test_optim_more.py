"""Rprop, Adafactor and Muon follow torch.optim step by step (float64, rtol 1e-12) on
parameters of every shape they take (0-d to 3-d; matrices for Muon), in param groups of their
own settings, parameters and state alike; a state saved mid-run moves torch -> here and here
-> torch and both go on alike; bad settings are refused by name, before anything changes.
Then ``nn.utils.get_total_norm`` and ``clip_grads_with_norm_`` against torch's.

torch's Muon runs its Newton-Schulz iterations in bfloat16, ours in the parameter's dtype: the
exact reference is torch's own code with ``Tensor.bfloat16`` made the identity, and a second
test bounds the distance to torch's bfloat16 steps as they are."""

from __future__ import annotations

import copy
import io
import math

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import optim
from tinygrad_rnn.nn import Parameter
from tinygrad_rnn.nn.utils import clip_grad_norm_, clip_grads_with_norm_, get_total_norm

from .conftest import DEVICES
from .test_optim import assert_plain

RTOL, ATOL = 1e-12, 1e-14
_rng = np.random.default_rng(2025)


def _problem(shapes):
    """Initial values, targets and weights of the loss, one of each per parameter."""
    return ([_rng.standard_normal(s) for s in shapes], [_rng.standard_normal(s) for s in shapes],
            [_rng.uniform(0.2, 3.0, s) for s in shapes])


ANY = _problem([(), (5,), (4, 3), (2, 3, 4)])  # Rprop, Adafactor: 0-d to 3-d
MATRICES = _problem([(4, 3), (3, 5), (6, 6)])  # Muon: tall, wide, square
PROBLEM = {"Rprop": ANY, "Adafactor": ANY, "Muon": MATRICES}


def loss(params, const, problem):
    """sum_i sum(w_i (p_i - c_i)^2 + 0.1 p_i^4) + 0.05 (sum_i sum p_i)^2, in either framework."""
    total, coupling = 0.0, 0.0
    for p, c, w in zip(params, problem[1], problem[2]):
        total = total + (const(w, p) * (p - const(c, p)) ** 2 + 0.1 * p**4).sum()
        coupling = coupling + p.sum()
    return total + 0.05 * coupling**2


def ours_const(a, p):
    return tr.tensor(a, device=p.device)


def ours_params(values, device="cpu"):
    return [Parameter(tr.tensor(v, device=device)) for v in values]


def torch_params(torch, values):
    return [torch.tensor(v, requires_grad=True) for v in values]


def grouped(params, second):
    """Two groups: the even-numbered parameters with the defaults, the others with ``second``."""
    return [{"params": params[0::2]}, {"params": params[1::2], **second}]


def run(opt, params, const, problem, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss(params, const, problem).backward()
        opt.step()


def run_ours(opt, params, name, steps):
    run(opt, params, ours_const, PROBLEM[name], steps)


def run_torch(torch, opt, params, name, steps):
    run(opt, params, lambda a, p: torch.tensor(a), PROBLEM[name], steps)


@pytest.fixture
def exact_muon(monkeypatch):
    """torch's Muon with its bfloat16 cast made the identity: its own float64 reference."""
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.Tensor, "bfloat16", lambda self, *a, **k: self.clone())
    return torch


def assert_params_as_torch(params, tparams, start):
    """Values and moves from ``start`` alike (so that small moves are checked too)."""
    for p, tp, p0 in zip(params, tparams, start):
        a, b = p.numpy(), tp.detach().numpy()
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(a - p0, b - p0, rtol=RTOL, atol=ATOL)


def assert_state_as_torch(opt, topt):
    """The same state entries, by torch's names and shapes and of its values, and the same
    options in the groups (torch's also holds its implementation flags)."""
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert_plain(ours)
    assert sorted(ours["state"]) == sorted(theirs["state"])
    for k, t_entry in theirs["state"].items():
        o_entry = ours["state"][k]
        assert set(o_entry) == set(t_entry), k
        for n, v in t_entry.items():
            v = v.numpy()
            if n == "step":  # a 0-d float tensor of torch's dtype
                step = o_entry[n]
                assert isinstance(step, tr.Tensor) and step.shape == (), (k, n)
                assert step.dtype == v.dtype and step.item() == v, (k, n)
            else:
                assert isinstance(o_entry[n], tr.Tensor), (k, n)
                assert o_entry[n].shape == v.shape, (k, n)
                np.testing.assert_allclose(o_entry[n], v, rtol=RTOL, atol=ATOL, err_msg=f"{k} {n}")
    for o, t in zip(ours["param_groups"], theirs["param_groups"]):
        assert o == t  # key by key, tuples as tuples, torch's implementation flags too


CASES = [  # (name, defaults, the second group's own options)
    ("Rprop", {}, dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ("Rprop", dict(lr=0.02, etas=(0.6, 1.1), maximize=True), dict(maximize=False)),
    ("Adafactor", {}, dict(lr=0.05, beta2_decay=-0.5, eps=(1e-3, 1e-2), d=1.5,
                           weight_decay=0.1)),
    ("Adafactor", dict(lr=0.03, weight_decay=0.05, maximize=True),
     dict(eps=(None, 0.5), d=2.0, beta2_decay=0.0, maximize=False)),
    ("Muon", dict(lr=0.02), dict(lr=0.05, momentum=0.9, nesterov=False, weight_decay=0.0,
                                 adjust_lr_fn="match_rms_adamw")),
    ("Muon", dict(lr=0.01, weight_decay=0.2, adjust_lr_fn="original", ns_steps=3),
     dict(ns_coefficients=(2.0, -1.5, 0.5), eps=1e-3, ns_steps=7, momentum=0.0)),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs", "second"), CASES, ids=IDS)
def test_optimizer_matches_torch_step_by_step(exact_muon, device, name, kwargs, second):
    torch = exact_muon
    start = PROBLEM[name][0]
    params, tparams = ours_params(start, device), torch_params(torch, start)
    opt = getattr(optim, name)(grouped(params, second), **kwargs)
    topt = getattr(torch.optim, name)(grouped(tparams, second), **kwargs)
    for step in range(1, 25):
        run_ours(opt, params, name, 1)
        run_torch(torch, topt, tparams, name, 1)
        assert_params_as_torch(params, tparams, start)
        if step % 4 == 0:
            assert_state_as_torch(opt, topt)
    assert not np.allclose(params[0].numpy(), start[0])  # it moved


@pytest.mark.torch
@pytest.mark.parametrize(("name", "kwargs", "second"), CASES, ids=IDS)
def test_state_moves_from_torch_and_back_mid_run(exact_muon, name, kwargs, second):
    """torch's state dict (steps as 0-d float tensors) loads here and both go on alike; then
    ours, written in torch's format by ``tr.save``, loads into torch and both go on alike."""
    torch = exact_muon
    start = PROBLEM[name][0]
    tparams = torch_params(torch, start)
    topt = getattr(torch.optim, name)(grouped(tparams, second), **kwargs)
    run_torch(torch, topt, tparams, name, 8)

    here = [t.detach().numpy().copy() for t in tparams]
    params = ours_params(here)
    opt = getattr(optim, name)(grouped(params, {}), lr=0.5)  # the options come with the state
    opt.load_state_dict(topt.state_dict())
    assert_state_as_torch(opt, topt)
    run_ours(opt, params, name, 8)
    run_torch(torch, topt, tparams, name, 8)
    assert_params_as_torch(params, tparams, here)
    assert_state_as_torch(opt, topt)

    buf = io.BytesIO()
    tr.save(opt.state_dict(), buf, format="torch")
    buf.seek(0)
    saved = torch.load(buf)
    here = [p.numpy().copy() for p in params]
    tparams = torch_params(torch, here)
    topt = getattr(torch.optim, name)(grouped(tparams, {}), lr=0.5)
    topt.load_state_dict(saved)
    assert_state_as_torch(opt, topt)
    run_ours(opt, params, name, 8)
    run_torch(torch, topt, tparams, name, 8)
    assert_params_as_torch(params, tparams, here)
    assert_state_as_torch(opt, topt)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs", "second"), CASES, ids=IDS)
def test_state_dict_round_trip_continues_exactly(device, name, kwargs, second):
    start = PROBLEM[name][0]
    params_a = ours_params(start, device)
    opt_a = getattr(optim, name)(grouped(params_a, second), **kwargs)
    run_ours(opt_a, params_a, name, 5)
    sd = copy.deepcopy(opt_a.state_dict())  # (it holds the optimizer's own tensors)
    assert_plain(sd)
    assert sorted(sd["state"]) == list(range(len(start)))
    params_b = ours_params([p.numpy() for p in params_a], device)
    opt_b = getattr(optim, name)(grouped(params_b, {}), lr=0.5)
    opt_b.load_state_dict(sd)
    for entry in sd["state"].values():  # the optimizer holds copies, never the given tensors
        for v in entry.values():
            v.fill_(np.nan)
    assert opt_b.param_groups[1] == {**opt_a.param_groups[1], "params": params_b[1::2]}
    run_ours(opt_a, params_a, name, 5)
    run_ours(opt_b, params_b, name, 5)
    for a, b in zip(params_a, params_b):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for state in opt_b.state.values():  # tensors, on the parameters' device but the steps
        for n, v in state.items():
            assert isinstance(v, tr.Tensor)
            assert v._dev is params_b[0]._dev or n == "step"


def test_adafactor_keeps_matrices_factored_and_vectors_whole():
    params = ours_params(ANY[0] + [np.ones((2, 2, 3, 5))])
    opt = optim.Adafactor(params)
    run_ours(opt, params[:4], "Adafactor", 1)
    params[4].grad = tr.ones(2, 2, 3, 5, dtype="float64")
    opt.step()
    shapes = {k: {n: v.item() if n == "step" else v.shape for n, v in e.items()}
              for k, e in opt.state_dict()["state"].items()}
    assert shapes == {0: {"step": 2, "variance": ()}, 1: {"step": 2, "variance": (5,)},
                      2: {"step": 2, "row_var": (4, 1), "col_var": (1, 3)},
                      3: {"step": 2, "row_var": (2, 3, 1), "col_var": (2, 1, 4)},
                      4: {"step": 1, "row_var": (2, 2, 3, 1), "col_var": (2, 2, 1, 5)}}


@pytest.mark.torch
def test_muon_is_within_bfloat16_rounding_of_torchs_own_steps():
    """Without the float64 reference: torch's bfloat16 iterations move the parameters by what
    ours moves them, to about 1% (bfloat16 keeps 8 bits)."""
    torch = pytest.importorskip("torch")
    start = MATRICES[0]
    params, tparams = ours_params(start), torch_params(torch, start)
    opt, topt = optim.Muon(params, lr=0.02), torch.optim.Muon(tparams, lr=0.02)
    run_ours(opt, params, "Muon", 10)
    run_torch(torch, topt, tparams, "Muon", 10)
    for p, tp, p0 in zip(params, tparams, start):
        ours, theirs = p.numpy() - p0, tp.detach().numpy() - p0
        assert np.linalg.norm(ours - theirs) < 0.03 * np.linalg.norm(theirs)
        assert not np.allclose(ours, theirs, rtol=1e-6)  # (the reference above is not this)


def test_newton_schulz_orthogonalises():
    """Muon's update of one step from zero momentum is the gradient's direction with every
    singular value near 1 (PyTorch's coefficients leave them in about [0.7, 1.2])."""
    g = _rng.standard_normal((7, 4))
    p = Parameter(tr.zeros(7, 4, dtype="float64"))
    opt = optim.Muon([p], lr=1.0, weight_decay=0.0, momentum=0.0, nesterov=False,
                     adjust_lr_fn="match_rms_adamw")
    p.grad = tr.tensor(g)
    opt.step()
    x = -p.numpy() / (0.2 * math.sqrt(7))
    s = np.linalg.svd(x, compute_uv=False)
    assert 0.6 < s.min() and s.max() < 1.25
    u, _, vt = np.linalg.svd(g, full_matrices=False)
    assert np.linalg.norm(x - u @ vt) < 0.5 * np.linalg.norm(u @ vt)


@pytest.mark.parametrize("name", ["Rprop", "Adafactor", "Muon"])
def test_float32_stays_float32_and_params_without_grad_are_skipped(name):
    start = PROBLEM[name][0]
    params = [Parameter(tr.tensor(v, dtype="float32")) for v in start]
    opt = getattr(optim, name)(params, lr=0.01)
    first = loss(params, ours_const, PROBLEM[name]).item()
    run(opt, params, ours_const, PROBLEM[name], 15)
    assert loss(params, ours_const, PROBLEM[name]).item() < first
    assert all(p.dtype == np.float32 for p in params)
    assert all(v.dtype == np.float32 for st in opt.state.values() for v in st.values()
               if not isinstance(v, int))
    fresh = [Parameter(tr.tensor(v)) for v in start]
    opt = getattr(optim, name)(fresh)
    fresh[1].grad = tr.ones(fresh[1].shape, dtype="float64")
    opt.step()
    assert list(opt.state_dict()["state"]) == [1]
    for i in (0, 2):
        np.testing.assert_array_equal(fresh[i].numpy(), start[i])


# ---- errors --------------------------------------------------------------------------------------
def _leaf(shape=(3, 2)):
    return Parameter(tr.zeros(shape))


@pytest.mark.parametrize(("make", "error", "match"), [
    (lambda: optim.Rprop([_leaf()], lr=-0.1), ValueError, r"Invalid learning rate: -0.1"),
    (lambda: optim.Rprop([_leaf()], etas=(1.5, 1.2)), ValueError, r"Invalid eta values: 1.5, 1.2"),
    (lambda: optim.Rprop([_leaf()], etas=(0.5, 0.9)), ValueError, r"Invalid eta values: 0.5, 0.9"),
    (lambda: optim.Rprop([_leaf()], etas=0.5), ValueError, "etas must be a pair"),
    (lambda: optim.Rprop([_leaf()], step_sizes=(1.0, 0.1)), ValueError,
     r"Invalid step_sizes: \(1.0, 0.1\)"),
    (lambda: optim.Rprop([_leaf()], step_sizes=(-1e-6, 50)), ValueError, "Invalid step_sizes"),
    (lambda: optim.Rprop([{"params": [_leaf()], "step_sizes": ("a", 1)}]), TypeError,
     "step_size_min must be a real number"),
    (lambda: optim.Adafactor([_leaf()], lr=-1.0), ValueError, "Invalid learning rate: -1.0"),
    (lambda: optim.Adafactor([_leaf()], beta2_decay=0.5), ValueError,
     r"Invalid beta2_decay: 0.5 \(must be <= 0\)"),
    (lambda: optim.Adafactor([_leaf()], eps=(-1e-30, 1e-3)), ValueError,
     "Invalid epsilon1 value: -1e-30"),
    (lambda: optim.Adafactor([_leaf()], eps=(None, -0.1)), ValueError,
     "Invalid epsilon2 value: -0.1"),
    (lambda: optim.Adafactor([_leaf()], eps=1e-3), ValueError, "eps must be a pair"),
    (lambda: optim.Adafactor([_leaf()], d=0.5), ValueError,
     r"Invalid clipping threshold d: 0.5 \(must be >= 1.0\)"),
    (lambda: optim.Adafactor([{"params": [_leaf()], "weight_decay": -0.1}]), ValueError,
     "Invalid weight_decay value: -0.1"),
    (lambda: optim.Muon([_leaf()], lr=-0.02), ValueError, "Invalid learning rate: -0.02"),
    (lambda: optim.Muon([_leaf()], momentum=-0.9), ValueError, "Invalid momentum value: -0.9"),
    (lambda: optim.Muon([_leaf()], weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (lambda: optim.Muon([_leaf()], ns_steps=100), ValueError, "Invalid ns_steps: 100"),
    (lambda: optim.Muon([_leaf()], ns_steps=2.5), TypeError, "ns_steps must be an integer"),
    (lambda: optim.Muon([_leaf()], ns_coefficients=(1.0, 2.0)), ValueError,
     r"ns_coefficients must be three numbers \(a, b, c\), got \(1.0, 2.0\)"),
    (lambda: optim.Muon([_leaf()], eps=-1e-7), ValueError, "Invalid epsilon value: -1e-07"),
    (lambda: optim.Muon([_leaf()], adjust_lr_fn="sqrt"), ValueError,
     "adjust_lr_fn must be None, 'original' or 'match_rms_adamw', got 'sqrt'"),
    (lambda: optim.Muon([_leaf(), _leaf((3,))]), ValueError,
     r"Muon only supports 2-D parameters, got one of shape \(3,\)"),
    (lambda: optim.Muon([_leaf((2, 3, 4))]), ValueError, r"shape \(2, 3, 4\)"),
])
def test_arguments_are_refused_by_name(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.torch
@pytest.mark.parametrize(("name", "flags", "error"), [
    ("Rprop", dict(capturable=True, foreach=True, differentiable=False), None),
    ("Rprop", dict(fused=True), TypeError),
    ("Adafactor", dict(foreach=True), None),
    ("Adafactor", dict(capturable=True), TypeError),
    ("Adafactor", dict(differentiable=False), TypeError),
    ("Muon", dict(foreach=False), TypeError),
    ("Muon", dict(maximize=True), TypeError),
])
def test_torchs_implementation_flags_are_taken_where_torch_takes_them(name, flags, error):
    """foreach and capturable choose how torch computes the same update: accepted where torch
    has them; a flag torch's optimizer lacks is a TypeError in both."""
    torch = pytest.importorskip("torch")
    if error is None:
        getattr(optim, name)([_leaf()], **flags)
        getattr(torch.optim, name)([torch.zeros(3, 2, requires_grad=True)], **flags)
        return
    with pytest.raises(error, match="unexpected keyword argument"):
        getattr(optim, name)([_leaf()], **flags)
    with pytest.raises(error):
        getattr(torch.optim, name)([torch.zeros(3, 2, requires_grad=True)], **flags)


def test_rprop_refuses_differentiable_as_the_other_optimizers():
    with pytest.raises(ValueError, match="Rprop does not implement PyTorch's differentiable=True"):
        optim.Rprop([_leaf()], differentiable=True)
    with pytest.raises(ValueError, match="differentiable=True"):
        optim.Rprop([{"params": [_leaf()], "differentiable": True}])


def test_muon_add_param_group_refuses_a_vector_and_changes_nothing():
    opt = optim.Muon([_leaf()])
    with pytest.raises(ValueError, match=r"2-D parameters, got one of shape \(4,\)"):
        opt.add_param_group({"params": [_leaf((5, 5)), _leaf((4,))], "lr": 0.1})
    assert len(opt.param_groups) == 1
    opt.add_param_group({"params": [_leaf((5, 5))], "lr": 0.1})
    assert [g["lr"] for g in opt.param_groups] == [1e-3, 0.1]


@pytest.mark.parametrize(("name", "edit", "match"), [
    ("Adafactor", lambda sd: sd["state"][1].update(row_var=np.zeros((4, 3))),
     r"state\[1\]\['row_var'\] has shape \(4, 3\), it must have shape \(4, 1\)"),
    ("Adafactor", lambda sd: sd["state"][3].update(col_var=np.zeros((1, 4))),
     r"must have shape \(2, 1, 4\)"),
    ("Adafactor", lambda sd: sd["state"][1].update(variance=np.zeros((4, 3))),
     r"unexpected entries \['variance'\]"),
    ("Adafactor", lambda sd: sd["state"][2].pop("variance"), r"lacks \['variance'\]"),
    ("Adafactor", lambda sd: sd["param_groups"][0].update(eps=[None, -1.0]), "epsilon2"),
    ("Adafactor", lambda sd: sd["param_groups"][1].update(d=0.0), "clipping threshold d"),
    ("Rprop", lambda sd: sd["param_groups"][0].update(etas=[1.2, 0.5]), "Invalid eta values"),
    ("Rprop", lambda sd: sd["state"][0].update(step_size=np.zeros(3)), "step_size"),
    ("Rprop", lambda sd: sd["state"][1].update(step=-1), "non-negative integer"),
    ("Muon", lambda sd: sd["param_groups"][0].update(ns_steps=500), "ns_steps"),
    ("Muon", lambda sd: sd["param_groups"][1].pop("ns_coefficients"), "lacks the options"),
    ("Muon", lambda sd: sd["state"][0].update(momentum_buffer=np.zeros((3, 4))), r"\(3, 4\)"),
])
def test_load_state_dict_refuses_and_changes_nothing(name, edit, match):
    """(The state is numbered in group order: 0-d, (4, 3), (5,), (2, 3, 4) for ANY.)"""
    start = PROBLEM[name][0]
    params = ours_params(start)
    opt = getattr(optim, name)(grouped(params, {"lr": 0.05}))
    run_ours(opt, params, name, 3)
    before = opt.state_dict()
    bad = opt.state_dict()
    edit(bad)
    with pytest.raises(ValueError, match="nothing was loaded: .*" + match):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for k, entry in before["state"].items():
        for n, v in entry.items():
            np.testing.assert_array_equal(after["state"][k][n], v)


# ---- get_total_norm and clip_grads_with_norm_ -------------------------------------------------
GRADS = [g * s for g, s in zip(_problem([(), (5,), (4, 3), (2, 3, 4)])[0], (2.0, 0.1, 3.0, 1.0))]


def grads_on(device, dtypes=("float64",) * 4):
    """Parameters with the GRADS (and a last one without a gradient)."""
    params = [Parameter(tr.zeros(g.shape, dtype=d, device=device))
              for g, d in zip(GRADS, dtypes)] + [Parameter(tr.zeros(2, device=device))]
    for p, g in zip(params, GRADS):
        p.grad = tr.tensor(g, dtype=p.dtype, device=device)
    return params


def torch_grads(torch, dtypes=("float64",) * 4):
    params = [torch.zeros(g.shape, dtype=getattr(torch, d), requires_grad=True)
              for g, d in zip(GRADS, dtypes)] + [torch.zeros(2, requires_grad=True)]
    for p, g in zip(params, GRADS):
        p.grad = torch.tensor(g, dtype=p.dtype)
    return params


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf])
def test_get_total_norm_matches_torch(device, norm_type):
    torch = pytest.importorskip("torch")
    ours = get_total_norm([p.grad for p in grads_on(device)[:4]], norm_type)
    theirs = torch.nn.utils.get_total_norm([p.grad for p in torch_grads(torch)[:4]], norm_type)
    assert isinstance(ours, tr.Tensor) and ours.shape == () and ours.device == device
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=RTOL)
    one = get_total_norm(tr.tensor(GRADS[2], device=device), norm_type)  # a single tensor
    np.testing.assert_allclose(one.item(), torch.nn.utils.get_total_norm(
        torch.tensor(GRADS[2]), norm_type).item(), rtol=RTOL)


@pytest.mark.torch
def test_get_total_norm_dtypes_empty_and_nonfinite_as_torch():
    torch = pytest.importorskip("torch")
    mixed = ("float32", "float64", "float32", "float32")
    ours = get_total_norm(iter([p.grad for p in grads_on("cpu", mixed)[:4]]), foreach=True)
    theirs = torch.nn.utils.get_total_norm([p.grad for p in torch_grads(torch, mixed)[:4]])
    assert ours.dtype == np.float64 and theirs.dtype == torch.float64  # promoted
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-6)
    single = get_total_norm([tr.tensor(GRADS[1], dtype="float32")])
    t_single = torch.nn.utils.get_total_norm([torch.tensor(GRADS[1], dtype=torch.float32)])
    assert single.dtype == np.float32 and t_single.dtype == torch.float32
    np.testing.assert_allclose(single.item(), t_single.item(), rtol=1e-6)
    empty, t_empty = get_total_norm([]), torch.nn.utils.get_total_norm([])
    assert empty.item() == t_empty.item() == 0.0 and empty.dtype == np.float32
    bad = [tr.tensor(GRADS[1]), tr.tensor([1.0, math.inf])]
    assert get_total_norm(bad).item() == math.inf
    with pytest.raises(RuntimeError, match="non-finite|cannot be clipped"):
        get_total_norm(bad, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.get_total_norm([torch.tensor([1.0, math.inf])], error_if_nonfinite=True)


@pytest.mark.torch
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grads_with_norm_matches_torch_and_composes_clip_grad_norm_(device, norm_type,
                                                                          max_norm):
    torch = pytest.importorskip("torch")
    params, tparams = grads_on(device), torch_grads(torch)
    total = get_total_norm([p.grad for p in params if p.grad is not None], norm_type)
    clip_grads_with_norm_(params, max_norm, total)
    ttotal = torch.nn.utils.get_total_norm([p.grad for p in tparams if p.grad is not None],
                                           norm_type)
    torch.nn.utils.clip_grads_with_norm_(tparams, max_norm, ttotal)
    for p, tp in zip(params[:4], tparams):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=RTOL)
    assert params[4].grad is None and tparams[4].grad is None
    if max_norm > total.item():
        for p, g in zip(params, GRADS):
            np.testing.assert_array_equal(p.grad.numpy(), g)  # untouched when not clipping
    composed = grads_on(device)
    returned = clip_grad_norm_(composed, max_norm, norm_type)
    assert returned.item() == total.item()
    for a, b in zip(composed[:4], params[:4]):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    by_number = grads_on(device)
    clip_grads_with_norm_(by_number[2], max_norm, total.item())  # a number, one tensor
    np.testing.assert_array_equal(by_number[2].grad.numpy(), params[2].grad.numpy())


def test_clip_grads_with_norm_refuses_bad_arguments_before_scaling_any():
    params = grads_on("cpu")
    total = get_total_norm([p.grad for p in params[:4]])
    for args, error, match in [
        ((-1.0, total), ValueError, "max_norm must be >= 0, got -1.0"),
        ((1.0, tr.tensor([1.0, 2.0])), ValueError, r"one number, got a tensor of shape \(2,\)"),
        ((1.0, -3.0), ValueError, r"total_norm must be >= 0 \(a norm\), got -3.0"),
        ((1.0, "3"), TypeError, "total_norm must be a Tensor or a number, got str"),
    ]:
        with pytest.raises(error, match=match):
            clip_grads_with_norm_(params, *args)
    params[3].grad = tr.tensor(np.ones(GRADS[3].shape, dtype=np.int64))
    with pytest.raises(TypeError, match="floating-point"):
        clip_grads_with_norm_(params, 1.0, total)
    with pytest.raises(TypeError, match="get_total_norm: every tensor must be a floating-point"):
        get_total_norm([params[0].grad, params[3].grad])
    with pytest.raises(ValueError, match="get_total_norm: norm_type must be a number"):
        get_total_norm([params[0].grad], norm_type=float("nan"))
    for p, g in zip(params[:3], GRADS):
        np.testing.assert_array_equal(p.grad.numpy(), g)

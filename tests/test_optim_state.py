"""Optimizer state as torch.optim keeps it: every per-parameter entry a Tensor (the arrays on
the parameter's device in its dtype, ``step`` a 0-d float tensor of the default dtype on the
CPU), updated in place (a tensor the user holds is the one the next step updates, and sees its
values), replaceable by the user; ``state_dict()`` holding those tensors and torch's param
groups key by key; ``load_state_dict`` taking torch's, ours and older ones (ints and arrays).
Side by side with torch where it is installed."""

from __future__ import annotations

import copy
import io

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import optim
from tinygrad_rnn.nn import Parameter

# (name, options) under which each keeps every kind of state it has
CASES = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.05, betas=(0.7, 0.9))),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("Adamax", dict(lr=0.05, weight_decay=0.01)),
    ("NAdam", dict(lr=0.05, weight_decay=0.01, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.9))),
    ("Adadelta", dict(lr=0.5, weight_decay=0.01)),
    ("ASGD", dict(lr=0.05, t0=2)),
    ("Rprop", dict(lr=0.05)),
    ("Adafactor", dict(lr=0.05)),
    ("Muon", dict(lr=0.02)),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
# ASGD keeps its numbers on the parameter's device, NAdam its mu_product beside its step
NUMBERS = {"step", "mu_product", "eta", "mu"}
RNG = np.random.default_rng(7)
START = [RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))]


def ours_params(values=START):
    return [Parameter(tr.tensor(v)) for v in values]


def torch_params(torch, values=START):
    return [torch.nn.Parameter(torch.tensor(v)) for v in values]


def step(lib, opt, params, n=1):
    for _ in range(n):
        opt.zero_grad()
        sum(((p - 0.5) ** 4).sum() + (p * p).sum() for p in params).backward()
        opt.step()


def test_every_state_entry_is_a_tensor_where_torch_keeps_it():
    for name, kwargs in CASES:
        params = ours_params()
        opt = getattr(optim, name)(params, **kwargs)
        step(tr, opt, params, 3)
        for p in params:
            for n, v in opt.state[p].items():
                assert isinstance(v, tr.Tensor), (name, n)
                if n in NUMBERS:
                    assert v.shape == () and v.dtype == np.float32, (name, n)
                    if n == "step":
                        assert v.item() == 3.0, name
                else:
                    assert v._dev is p._dev and v.dtype == p.dtype, (name, n)


@pytest.mark.torch
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_state_types_dtypes_and_devices_as_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    params, tparams = ours_params(), torch_params(torch)
    opt = getattr(optim, name)(params, **kwargs)
    topt = getattr(torch.optim, name)(tparams, **kwargs)
    step(tr, opt, params, 3)
    step(torch, topt, tparams, 3)
    for p, tp in zip(params, tparams):
        ours, theirs = opt.state[p], topt.state[tp]
        assert set(ours) == set(theirs), name
        for n, tv in theirs.items():
            v = ours[n]
            assert isinstance(v, tr.Tensor) and torch.is_tensor(tv), (name, n)
            assert v.shape == tuple(tv.shape), (name, n)
            assert str(v.dtype) == str(tv.dtype).removeprefix("torch."), (name, n)
            assert v.device == tv.device.type, (name, n)
            if name != "Muon":  # (torch's Muon iterates in bfloat16: other values)
                np.testing.assert_allclose(v.numpy(), tv.detach().numpy(), rtol=1e-6,
                                           atol=1e-9, err_msg=f"{name} {n}")


@pytest.mark.torch
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_param_groups_in_the_state_dict_equal_torchs_key_by_key(name, kwargs):
    torch = pytest.importorskip("torch")
    opt = getattr(optim, name)(ours_params(), **kwargs)
    topt = getattr(torch.optim, name)(torch_params(torch), **kwargs)
    ours, theirs = opt.state_dict()["param_groups"], topt.state_dict()["param_groups"]
    assert ours == theirs
    for o, t in zip(ours, theirs):
        assert list(o) and set(o) == set(t)
        for k, v in t.items():
            assert type(o[k]) is type(v) or isinstance(v, (int, float)), (name, k)
    assert opt.defaults == topt.defaults


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_state_is_updated_in_place_and_a_held_tensor_sees_it(name, kwargs):
    """As torch: ``buf = opt.state[p]["exp_avg"]; opt.step()`` leaves ``buf`` the very tensor
    the optimizer holds, with the new values; a detached view follows too, a clone does not;
    the state dict holds those same tensors."""
    params = ours_params()
    opt = getattr(optim, name)(params, **kwargs)
    step(tr, opt, params, 2)
    p = params[0]
    held = dict(opt.state[p])
    before = {n: v.numpy().copy() for n, v in held.items()}
    views = {n: v.detach() for n, v in held.items()}
    clones = {n: v.clone() for n, v in held.items()}
    sd = opt.state_dict()
    step(tr, opt, params, 1)
    changed = 0
    for n, v in held.items():
        assert opt.state[p][n] is v, (name, n)
        assert sd["state"][0][n] is v, (name, n)
        np.testing.assert_array_equal(views[n].numpy(), v.numpy())
        np.testing.assert_array_equal(clones[n].numpy(), before[n])
        changed += not np.array_equal(v.numpy(), before[n])
    assert changed, name


@pytest.mark.torch
def test_user_code_on_the_state_runs_as_in_torch():
    """``.norm()``, ``.mul_(0)``, ``.zero_()``, replacing an entry with ``zeros_like``: each
    changes the next step as it does in torch."""
    torch = pytest.importorskip("torch")
    for lib, make in ((tr, ours_params), (torch, lambda: torch_params(torch))):
        params = make()
        opt = lib.optim.Adam(params, lr=0.05)
        sgd_params = make()
        sgd = lib.optim.SGD(sgd_params, lr=0.05, momentum=0.9)
        step(lib, opt, params, 2)
        step(lib, sgd, sgd_params, 2)
        p, q = params[0], sgd_params[0]
        norm = float(opt.state[p]["exp_avg"].norm())
        opt.state[p]["exp_avg"].mul_(0)
        opt.state[p]["exp_avg_sq"].zero_()
        opt.state[params[1]]["exp_avg"] = lib.zeros_like(params[1])
        sgd.state[q]["momentum_buffer"].mul_(0.5)
        step(lib, opt, params, 2)
        step(lib, sgd, sgd_params, 2)
        out = [norm, *[x.detach().numpy().copy() for x in (*params, *sgd_params)],
               opt.state[p]["exp_avg"].detach().numpy().copy(),
               float(opt.state[p]["step"])]
        if lib is tr:
            ours = out
    theirs = out
    assert ours[0] == pytest.approx(theirs[0], rel=1e-12)
    for a, b in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_a_user_replacing_an_entry_with_an_array_or_number_still_steps():
    """An array or a number put in the state (as code of an earlier version did) becomes a
    tensor at the next step."""
    params = ours_params()
    opt = optim.Adam(params, lr=0.05)
    step(tr, opt, params, 2)
    opt.state[params[0]]["exp_avg"] = np.zeros(params[0].shape)
    opt.state[params[0]]["step"] = 2
    step(tr, opt, params, 1)
    assert isinstance(opt.state[params[0]]["exp_avg"], tr.Tensor)
    assert isinstance(opt.state[params[0]]["step"], tr.Tensor)
    assert opt.state[params[0]]["step"].item() == 3.0


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_an_older_state_dict_of_ints_and_arrays_loads(name, kwargs):
    """A state dict as earlier versions wrote it (host arrays, int steps, float numbers,
    lists for tuples) loads, as tensors, and goes on as the one it was taken from."""
    params_a = ours_params()
    opt_a = getattr(optim, name)(params_a, **kwargs)
    step(tr, opt_a, params_a, 3)
    sd = opt_a.state_dict()
    old = {"state": {str(k): {n: (int(v.item()) if n == "step" else
                                  float(v.item()) if n in NUMBERS else v.numpy())
                              for n, v in e.items()} for k, e in sd["state"].items()},
           "param_groups": [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()
                             if k not in ("foreach", "fused", "capturable", "differentiable",
                                          "decoupled_weight_decay", "maximize")
                             or name in ("NAdam", "RAdam") and k == "decoupled_weight_decay"}
                            for g in sd["param_groups"]]}
    params_b = ours_params([p.numpy() for p in params_a])
    opt_b = getattr(optim, name)(params_b, **kwargs)
    opt_b.load_state_dict(old)
    for p in params_b:
        assert all(isinstance(v, tr.Tensor) for v in opt_b.state[p].values())
    assert opt_b.state_dict()["param_groups"] == sd["param_groups"]
    step(tr, opt_a, params_a, 3)
    step(tr, opt_b, params_b, 3)
    for a, b in zip(params_a, params_b):
        # (NAdam's and ASGD's older numbers were float64: loaded in the parameter's dtype,
        # float64 here, where the run they come from keeps float32)
        np.testing.assert_allclose(a.numpy(), b.numpy(),
                                   rtol=1e-6 if name in ("ASGD", "NAdam") else 0)


@pytest.mark.torch
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_state_dicts_move_both_ways_with_torch(name, kwargs):
    """torch's state dict (its tensors as they are) loads here; ours, through ``tr.save(...,
    format="torch")``, loads into torch; both go on alike, their states equal."""
    torch = pytest.importorskip("torch")
    tparams = torch_params(torch)
    topt = getattr(torch.optim, name)(tparams, **kwargs)
    step(torch, topt, tparams, 3)
    params = ours_params([t.detach().numpy() for t in tparams])
    opt = getattr(optim, name)(params, **kwargs)
    opt.load_state_dict(topt.state_dict())
    assert opt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]
    buf = io.BytesIO()
    tr.save(opt.state_dict(), buf, format="torch")
    buf.seek(0)
    back = getattr(torch.optim, name)(torch_params(torch, [p.numpy() for p in params]),
                                      **kwargs)
    back.load_state_dict(torch.load(buf))
    for (n, v), (m, w) in zip(
            ((n, v) for st in opt.state_dict()["state"].values() for n, v in st.items()),
            ((n, v) for st in back.state_dict()["state"].values() for n, v in st.items())):
        assert n == m and torch.is_tensor(w)
        assert str(v.dtype) == str(w.dtype).removeprefix("torch."), (name, n)
        np.testing.assert_array_equal(v.numpy(), w.numpy())


def test_deepcopy_of_the_state_dict_is_a_snapshot():
    params = ours_params()
    opt = optim.Adam(params, lr=0.05)
    step(tr, opt, params, 2)
    snap = copy.deepcopy(opt.state_dict())
    live = opt.state_dict()
    step(tr, opt, params, 1)
    assert snap["state"][0]["step"].item() == 2.0 and live["state"][0]["step"].item() == 3.0


def test_a_custom_optimizer_keeps_its_tensors_and_steps():
    """A subclass written for torch (its own step on ``self.state[p]``) keeps working: its
    entries are what it put there, its state dict holds them."""

    class Momentum(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        @tr.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    if not state:
                        state["step"] = tr.tensor(0.0)
                        state["buf"] = tr.zeros_like(p)
                    state["step"] += 1
                    state["buf"].mul_(0.9).add_(p.grad)
                    p.add_(state["buf"], alpha=-group["lr"])

    params = ours_params()
    opt = Momentum(params)
    step(tr, opt, params, 2)
    buf = opt.state[params[0]]["buf"]
    step(tr, opt, params, 1)
    assert opt.state[params[0]]["buf"] is buf and opt.state[params[0]]["step"].item() == 3.0
    assert opt.state_dict()["state"][0]["buf"] is buf


def test_adam_decoupled_weight_decay_is_adamw():
    params_a, params_b = ours_params(), ours_params()
    a = optim.Adam(params_a, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)
    b = optim.AdamW(params_b, lr=0.05, weight_decay=0.1)
    step(tr, a, params_a, 4)
    step(tr, b, params_b, 4)
    for x, y in zip(params_a, params_b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    with pytest.raises(TypeError, match="decoupled_weight_decay"):
        optim.AdamW(ours_params(), decoupled_weight_decay=False)
    with pytest.raises(TypeError, match="capturable"):
        optim.SGD(ours_params(), capturable=True)  # as torch's SGD, which lacks it

"""Optimizer hooks against torch.optim's: step pre- and post-hooks (each optimizer's and the
global ones, their order, a pre-hook replacing the arguments, removal), on built-in
optimizers, LBFGS and a user's optimizer with its own step; state_dict and load_state_dict
hooks (their order, ``prepend``, a hook's returned dict used instead)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr

pytestmark = pytest.mark.torch


def _libs():
    torch = pytest.importorskip("torch")
    import torch.optim.optimizer as theirs  # (torch.optim has no attribute for it)

    return [(tr, tr.optim, tr.optim.optimizer), (torch, torch.optim, theirs)]


def _custom(lib, optim):
    class Halving(optim.Optimizer):
        """A user's optimizer as written for PyTorch: its own step."""

        def __init__(self, params):
            super().__init__(params, {"lr": 0.5})

        def step(self, closure=None):
            loss = closure() if closure is not None else None
            with lib.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is not None:
                            p -= group["lr"] * p.grad
            return loss

    return Halving


def _step_with_hooks(lib, optim, module, kind):
    """(what the hooks saw, the parameter after two steps)."""
    log = []
    p = lib.tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = (_custom(lib, optim)([p]) if kind == "custom" else
           getattr(optim, kind)([p], lr=0.1))

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        log.append("closure")
        return loss

    def add_closure(o, args, kwargs):  # a pre-hook that supplies the closure
        log.append(("pre", o is opt, len(args), sorted(kwargs)))
        return args, {**kwargs, "closure": closure}

    handles = [opt.register_step_pre_hook(add_closure),
               opt.register_step_post_hook(lambda o, a, k: log.append(("post", len(a)))),
               module.register_optimizer_step_pre_hook(lambda o, a, k: log.append("gpre")),
               module.register_optimizer_step_post_hook(lambda o, a, k: log.append("gpost"))]
    try:
        out = opt.step()
        log.append(float(out.detach()))
        for h in handles:
            h.remove()
        h.remove()  # again: nothing
        opt.step(closure)
    finally:
        for h in handles:
            h.remove()
    return log, p.detach().numpy().copy()


@pytest.mark.parametrize("kind", ["SGD", "Adam", "LBFGS", "custom"])
def test_step_hooks_run_as_torchs(kind):
    (ours, ours_p), (theirs, theirs_p) = [_step_with_hooks(*lib, kind) for lib in _libs()]
    assert ours == theirs
    np.testing.assert_allclose(ours_p, theirs_p, rtol=1e-12)


def test_a_pre_hook_must_return_none_or_args_and_kwargs():
    for lib, optim, _ in _libs():
        p = lib.tensor(np.ones(2), requires_grad=True)
        opt = optim.SGD([p], lr=0.1)
        opt.register_step_pre_hook(lambda o, a, k: "nonsense")
        with pytest.raises(RuntimeError, match="must return None or"):
            opt.step()


def _state_dicts_with_hooks(lib, optim):
    """(what the hooks saw, the lr loaded)."""
    log = []
    p = lib.tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = lib.tensor(np.array([0.5, -0.5]))
    opt.step()
    opt.register_state_dict_pre_hook(lambda o: log.append("pre a"))
    opt.register_state_dict_pre_hook(lambda o: log.append("pre b"), prepend=True)

    def tag(o, sd):
        log.append(("post", sorted(sd)))
        return {**sd, "note": 1}

    opt.register_state_dict_post_hook(tag)
    opt.register_state_dict_post_hook(lambda o, sd: log.append(("seen", sd["note"])))
    sd = opt.state_dict()
    log.append(sd["note"])

    def lower_lr(o, sd):
        log.append(("load pre", sorted(sd)))
        sd.pop("note")
        sd["param_groups"] = [{**g, "lr": 0.01} for g in sd["param_groups"]]
        return sd

    opt.register_load_state_dict_pre_hook(lower_lr)
    opt.register_load_state_dict_post_hook(lambda o: log.append("loaded"))
    given = dict(sd)
    opt.load_state_dict(given)
    log.append("note" in given)  # the caller's dict is left as it was
    return log, opt.param_groups[0]["lr"]


def test_state_dict_hooks_run_as_torchs():
    (ours, ours_lr), (theirs, theirs_lr) = [_state_dicts_with_hooks(lib, optim)
                                            for lib, optim, _ in _libs()]
    assert ours == theirs and ours_lr == theirs_lr == 0.01


def test_hooks_survive_deepcopy_and_a_schedule_wrapping_step():
    import copy

    p = tr.tensor(np.ones(2, np.float32), requires_grad=True)
    opt = tr.optim.SGD([p], lr=0.1)
    log = []
    opt.register_step_post_hook(lambda o, a, k: log.append(o is opt))
    sched = tr.optim.lr_scheduler.StepLR(opt, 1)
    p.grad = tr.ones(2)
    opt.step()
    sched.step()
    twin = copy.deepcopy(opt)
    twin.param_groups[0]["params"][0].grad = tr.ones(2)
    twin.step()  # the copy's hooks are copies too, run by the copy's step
    assert log == [True, False]

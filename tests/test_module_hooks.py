"""Module forward hooks (``register_forward_hook``, ``register_forward_pre_hook``) and the
parameter containers ``ParameterList`` and ``ParameterDict``, as PyTorch's."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn


def test_forward_hooks_record_and_replace_as_pytorch_does():
    """Pre-hooks see the arguments and may replace them, forward hooks see the arguments and
    the output and may replace it; in registration order; removed by their handles."""
    m = nn.Linear(3, 2)
    calls = []
    pre1 = m.register_forward_pre_hook(lambda mod, args: calls.append(("pre1", args[0].shape)))
    pre2 = m.register_forward_pre_hook(lambda mod, args: args[0] * 0)  # one value: the args
    post1 = m.register_forward_hook(lambda mod, args, out: calls.append(
        ("post1", mod is m, float(args[0].abs().sum()), out.shape)))
    post2 = m.register_forward_hook(lambda mod, args, out: out + 100)
    y = m(tr.ones(4, 3))
    assert calls == [("pre1", (4, 3)), ("post1", True, 0.0, (4, 2))]
    np.testing.assert_allclose(y.numpy(), np.broadcast_to(m.bias.numpy() + 100, (4, 2)))
    for h in (pre1, pre2, post1, post2):
        h.remove()
    x = tr.ones(1, 3)
    np.testing.assert_allclose(m(x).numpy(), (x @ m.weight.T + m.bias).numpy())
    assert len(calls) == 2


def test_forward_hook_collects_gate_activations_of_a_recurrent_stack():
    """The learner's use: record every layer's output of a model, then stop recording."""
    tr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    seen = {}
    handles = [mod.register_forward_hook(lambda mod, args, out, name=name: seen.update(
        {name: out.shape})) for name, mod in model.named_children()]
    out = model(tr.randn(5, 4))
    assert seen == {"0": (5, 8), "1": (5, 8), "2": (5, 2)} and out.shape == (5, 2)
    for h in handles:
        h.remove()
    seen.clear()
    model(tr.randn(5, 4))
    assert seen == {}
    copy.deepcopy(model)  # a module that once had hooks still copies


@pytest.mark.torch
def test_hooks_and_parameter_containers_match_torch():
    torch = pytest.importorskip("torch")

    def build(lib, tensor):
        class Net(lib.Module):
            def __init__(self):
                super().__init__()
                self.ws = lib.ParameterList([lib.Parameter(tensor(np.eye(3) * (k + 1)))
                                             for k in range(2)])
                self.bs = lib.ParameterDict({"first": lib.Parameter(tensor(np.ones(3))),
                                             "second": lib.Parameter(tensor(np.arange(3.0)))})

            def forward(self, x):
                for w, b in zip(self.ws, self.bs.values()):
                    x = (x @ w + b).tanh()
                return x

        return Net()

    ours = build(nn, lambda a: tr.tensor(a, dtype="float64"))
    theirs = build(torch.nn, lambda a: torch.tensor(a, dtype=torch.float64))
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    out_o = ours(tr.tensor(x))
    out_t = theirs(torch.tensor(x))
    np.testing.assert_allclose(out_o.numpy(), out_t.detach().numpy(), rtol=1e-14)
    out_o.sum().backward()
    out_t.sum().backward()
    for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-13)


def test_parameter_containers_behave_as_list_and_dict():
    pl = nn.ParameterList([tr.zeros(2), nn.Parameter(tr.ones(3))])
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in pl)
    pl.append(tr.ones(1))
    pl += [tr.ones(4)]
    assert [p.shape for p in pl] == [(2,), (3,), (1,), (4,)] and len(pl) == 4
    assert pl[-1].shape == (4,) and [p.shape for p in pl[1:3]] == [(3,), (1,)]
    pl[0] = tr.full((2,), 7.0)
    assert pl[0].numpy().tolist() == [7.0, 7.0]
    with pytest.raises(IndexError, match="out of range"):
        pl[4]
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an "
                                        "iterable"):
        pl.extend(tr.ones(2))
    pd = nn.ParameterDict({"a": tr.zeros(2)})
    pd.update([("b", tr.ones(1))])
    pd["c"] = nn.Parameter(tr.ones(3))
    assert list(pd) == ["a", "b", "c"] and "b" in pd and pd.get("z") is None
    del pd["a"]
    assert list(pd.keys()) == ["b", "c"] and pd.pop("b").shape == (1,) and len(pd) == 1
    with pytest.raises(KeyError, match="can't contain '.'"):
        pd["x.y"] = tr.zeros(1)
    assert "ParameterDict(" in repr(pd) and "FloatTensor of size 3]" in repr(pd)


class _Two:
    """A module of two inputs (a scale that may need no gradient) and two outputs, in
    either framework."""

    @staticmethod
    def make(lib):
        class Two(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(3, 2).double()

            def forward(self, x, s, tag="t"):
                y = self.lin(x) * s
                return y.tanh(), y.sum()

        return Two()


def _hook_trace(lib, m, x, s):
    """Every hook's view of one forward and backward: names and the gradients' values."""
    seen = []

    def arr(t):
        return None if t is None else np.asarray(t.detach().numpy()).round(12).tolist()

    m.register_forward_pre_hook(lambda mod, args, kwargs: seen.append(("pre_kw", sorted(
        kwargs))), with_kwargs=True)
    m.register_forward_pre_hook(lambda mod, args: seen.append(("pre_first", len(args))),
                                prepend=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(("post_kw", sorted(
        kwargs))), with_kwargs=True)
    m.register_full_backward_pre_hook(lambda mod, go: seen.append(
        ("bpre", [arr(g) for g in go])))

    def double_input_grads(mod, gi, go):
        seen.append(("bfull", [arr(g) for g in gi], [arr(g) for g in go]))
        return tuple(None if g is None else g * 2 for g in gi)

    m.register_full_backward_hook(double_input_grads)
    y, total = m(x, s, tag="u")
    (y.sum() * 3 + total).backward()
    return seen, arr(x.grad), arr(None if s.grad is None else s.grad)


@pytest.mark.torch
@pytest.mark.parametrize("s_needs_grad", [True, False])
def test_full_backward_hooks_and_hook_options_match_torch(s_needs_grad):
    """register_full_backward_pre_hook / register_full_backward_hook (grad_output per tensor
    output, grad_input per tensor argument, None for one that needs none, a returned
    grad_input replacing the gradients that flow on), prepend=, with_kwargs=: the same
    calls, order and gradients as PyTorch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, s = rng.standard_normal((4, 3)), np.array(1.5)
    traces = []
    for lib in (tr, torch):
        if lib is torch:
            torch.manual_seed(0)
        m = _Two.make(lib)
        if lib is tr:
            ref = m
        else:
            m.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ref.state_dict().items()})
        xt = lib.tensor(x, requires_grad=True)
        st = lib.tensor(s, requires_grad=s_needs_grad)
        traces.append(_hook_trace(lib, m, xt, st))
    assert traces[0] == traces[1]


@pytest.mark.torch
def test_backward_hooks_on_an_lstm_see_its_top_level_outputs():
    """An LSTM returns (output, (h, c)): as in PyTorch, grad_output holds the output's
    gradient and None for (h, c), which is not a tensor; and a module of a number argument
    and non-tensor outputs gets None in those places, zeros for a tensor argument that
    needs no gradient."""
    torch = pytest.importorskip("torch")
    got = []
    for lib in (tr, torch):
        lib.manual_seed(0)
        m = lib.nn.LSTM(2, 3).double()
        if lib is tr:
            sd = m.state_dict()
        else:
            m.load_state_dict({k: torch.tensor(v.numpy()) for k, v in sd.items()})
        seen = []
        m.register_full_backward_hook(lambda mod, gi, go, seen=seen: seen.append(
            ([None if g is None else g.shape for g in gi],
             [None if g is None else tuple(g.shape) for g in go])))
        x = lib.tensor(np.ones((4, 1, 2)), requires_grad=True)
        out, (h, c) = m(x)
        (out.sum() + h.sum()).backward()
        got.append(([tuple(s) if s is not None else None for s in seen[0][0]], seen[0][1],
                    np.asarray(x.grad.numpy()).round(12).tolist()))

        class Mixed(lib.nn.Module):
            def forward(self, a, k, b):
                return a * b * k, 3, (a,)

        mixed, calls = Mixed(), []
        mixed.register_full_backward_hook(lambda mod, gi, go, calls=calls: calls.append(
            [None if g is None else g.numpy().tolist() for g in (*gi, *go)]))
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        mixed(a, 2.0, lib.tensor([3.0, 4.0]))[0].sum().backward()
        got.append(calls)
    assert got[0] == got[2] and got[1] == got[3]


def test_always_call_hooks_run_when_forward_raises():
    m = nn.Linear(3, 2)
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    m.register_forward_hook(lambda mod, args, out: seen.append("plain"))
    with pytest.raises(ValueError, match="features"):
        m(tr.ones(2, 5))
    assert seen == [None]
    with pytest.raises(TypeError, match="a hook must be callable"):
        m.register_forward_hook(3)


@pytest.mark.torch
def test_a_full_backward_hook_fires_once_through_a_double_backward():
    """The second-order pass comes back through the forward's inputs; as PyTorch's, the
    hook (and its replacement of grad_input) acts once, in the first backward."""
    torch = pytest.importorskip("torch")
    got = []
    for lib in (tr, torch):
        class Cube(lib.nn.Module):
            def forward(self, x):
                return x ** 3

        m, calls = Cube(), []
        m.register_full_backward_hook(lambda mod, gi, go, calls=calls: (
            calls.append("full"), (gi[0] * 2,))[1])
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (g,) = lib.autograd.grad(m(x).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g ** 2).sum(), x)
        got.append((calls, g.detach().numpy().tolist(), gg.numpy().tolist()))
    assert got[0] == got[1]

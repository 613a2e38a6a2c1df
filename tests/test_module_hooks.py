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
    assert "ParameterDict(" in repr(pd) and "float32 of size (3,)" in repr(pd)

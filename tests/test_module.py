"""Module bookkeeping: fixed parameter order, nesting, lists and dicts of modules, modes."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 4))
        self.heads = nn.ModuleDict({"a": nn.Linear(4, 1), "b": nn.Linear(4, 2)})
        self.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])
        self.scale = nn.Parameter(tr.ones(1))


def test_parameters_come_in_a_fixed_order_with_dotted_names():
    names = [n for n, _ in Net().named_parameters()]
    assert names == ["scale", "encoder.0.weight", "encoder.0.bias", "encoder.2.weight",
                     "encoder.2.bias", "heads.a.weight", "heads.a.bias", "heads.b.weight",
                     "heads.b.bias", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
                     "blocks.1.bias"]
    assert names == list(Net().state_dict())


def test_train_eval_reach_every_submodule():
    net = Net().eval()
    assert all(not m.training for m in net.modules())
    x = tr.randn(5, 3)
    np.testing.assert_array_equal(net.encoder(x).numpy(), net.encoder(x).numpy())
    net.train()
    assert net.encoder[1].training


def test_module_dict_and_list_behave_like_containers():
    d = nn.ModuleDict({"x": nn.Linear(2, 2)})
    d["y"] = nn.Linear(2, 3)
    assert list(d) == ["x", "y"] and "y" in d and len(d) == 2 and d["y"].out_features == 3
    with pytest.raises(ValueError, match="keys"):
        d["a.b"] = nn.Linear(1, 1)
    ml = nn.ModuleList([nn.Linear(1, 1)]).append(nn.Linear(1, 2))
    assert len(ml) == 2 and ml[1].out_features == 2


def test_assigning_a_non_parameter_to_a_parameter_slot_is_an_error():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Parameter"):
        lin.weight = tr.ones(2, 2)
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]


def test_tied_parameters_come_once_so_optimizers_accept_them():
    emb = nn.Embedding(5, 4)
    head = nn.Linear(4, 5)
    head.weight = emb.weight  # weight tying
    model = nn.Sequential(emb, head)
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "1.bias"]
    tr.optim.Adam(list(model.parameters()))  # no "appears more than once"


def test_registering_over_a_plain_attribute_replaces_it():
    m = nn.Module()
    m.w = None
    m.w = nn.Parameter(tr.ones(2))
    assert isinstance(m.w, nn.Parameter) and [n for n, _ in m.named_parameters()] == ["w"]

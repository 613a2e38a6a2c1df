"""Module bookkeeping: fixed parameter order, nesting, lists and dicts of modules, modes."""

from __future__ import annotations

import warnings

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


# ---- PyTorch parity of the module API ------------------------------------------------------


def _tied():
    emb = nn.Embedding(5, 4)
    head = nn.Linear(4, 5)
    head.weight = emb.weight
    return nn.Sequential(emb, head)


@pytest.mark.torch
def test_state_dict_names_a_tied_weight_and_a_shared_module_twice_as_torch():
    torch = pytest.importorskip("torch")
    model = _tied()
    t_emb, t_head = torch.nn.Embedding(5, 4), torch.nn.Linear(4, 5)
    t_head.weight = t_emb.weight
    t_model = torch.nn.Sequential(t_emb, t_head)
    assert list(model.state_dict()) == list(t_model.state_dict()) == ["0.weight", "1.weight",
                                                                      "1.bias"]
    t_model.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    np.testing.assert_array_equal(t_model[1].weight.detach().numpy(), model[0].weight.numpy())
    with torch.no_grad():
        t_emb.weight.mul_(2)
    model.load_state_dict({k: v.numpy() for k, v in t_model.state_dict().items()})
    np.testing.assert_array_equal(model[1].weight.numpy(), t_emb.weight.detach().numpy())
    assert model[0].weight is model[1].weight  # still tied
    lstm = nn.LSTM(2, 3)
    shared = nn.Sequential(lstm, lstm)
    t_lstm = torch.nn.LSTM(2, 3)
    assert list(shared.state_dict()) == list(torch.nn.Sequential(t_lstm, t_lstm).state_dict())


def test_a_tied_weight_loads_from_one_of_its_names():
    """A checkpoint that names a shared parameter once (as this library wrote them before)
    still loads strictly."""
    model = _tied()
    state = model.state_dict()
    del state["1.weight"]
    state["0.weight"] = state["0.weight"] + 1
    result = model.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(model[1].weight.numpy(), state["0.weight"])


def test_to_an_integer_dtype_is_refused_and_changes_nothing():
    layer = nn.Linear(3, 2)
    before = layer.weight.numpy().copy()
    for dtype in ("int32", "bool"):
        with pytest.raises(TypeError, match="floating-point"):
            layer.to(dtype=dtype)
    assert layer.weight.dtype == np.float32 and layer.weight.requires_grad
    np.testing.assert_array_equal(layer.weight.numpy(), before)


@pytest.mark.parametrize("make", [lambda: nn.LSTM(3, 4, num_layers=2, proj_size=2,
                                                  forget_bias=1.0),
                                  lambda: nn.GRU(3, 4, bidirectional=True),
                                  lambda: nn.LSTMCell(3, 4), lambda: nn.RNNCell(3, 4, bias=False),
                                  lambda: nn.Linear(3, 4), lambda: nn.Embedding(6, 3,
                                                                               padding_idx=2)],
                         ids=["LSTM", "GRU", "LSTMCell", "RNNCell", "Linear", "Embedding"])
def test_reset_parameters_reinitialises_in_place(make):
    """As PyTorch's: the same Parameter objects get fresh values (an optimizer built before
    keeps training them), the values a new module would get from the same seed."""
    tr.manual_seed(0)
    m = make()
    params = list(m.parameters())
    opt = tr.optim.SGD(params, lr=0.1)
    tr.manual_seed(1)
    fresh = make()
    tr.manual_seed(1)
    m.reset_parameters()
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    for p, q in zip(m.parameters(), fresh.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    for p in params:
        p.grad = tr.ones_like(p)
    before = [p.numpy().copy() for p in params]
    opt.step()
    assert all(not np.array_equal(p.numpy(), b) for p, b in zip(params, before))


@pytest.mark.torch
def test_small_layer_details_follow_torch():
    torch = pytest.importorskip("torch")
    pairs = [(nn.RNNCell(3, 4, nonlinearity="relu"), torch.nn.RNNCell(3, 4, nonlinearity="relu")),
             (nn.Linear(3, 2, bias=False), torch.nn.Linear(3, 2, bias=False)),
             (nn.Linear(3, 2), torch.nn.Linear(3, 2)),
             (nn.Embedding(5, 2, padding_idx=-1), torch.nn.Embedding(5, 2, padding_idx=-1)),
             (nn.LSTM(3, 4, proj_size=np.int64(2)), torch.nn.LSTM(3, 4, proj_size=2)),
             (nn.LSTM(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.1,
                      bidirectional=True, proj_size=2),
              torch.nn.LSTM(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.1,
                            bidirectional=True, proj_size=2))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
    with warnings.catch_warnings():  # torch: "Initializing zero-element tensors is a no-op"
        warnings.simplefilter("ignore", UserWarning)
        t_empty = torch.nn.Linear(0, 3)
    empty = nn.Linear(0, 3)  # in_features 0: the bias alone, zero
    np.testing.assert_array_equal(empty.bias.numpy(), t_empty.bias.detach().numpy())
    assert empty(tr.zeros(2, 0)).shape == (2, 3)
    lstm, t_lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2), \
        torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    lstm.flatten_parameters()  # PyTorch code calls it; nothing to do here
    names = {id(p): n for n, p in lstm.named_parameters()}
    assert [[names[id(w)] for w in ws] for ws in lstm.all_weights] == t_lstm._all_weights
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 2)


@pytest.mark.torch
def test_embedding_padding_row_gets_no_gradient_as_torch():
    torch = pytest.importorskip("torch")
    emb = nn.Embedding(6, 3, padding_idx=2, dtype="float64")
    assert np.all(emb.weight.numpy()[2] == 0)
    emb.weight.data[2] = 5.0  # a padding row that is not zero is still looked up
    t_emb = torch.nn.Embedding(6, 3, padding_idx=2, dtype=torch.float64)
    with torch.no_grad():
        t_emb.weight.copy_(torch.from_numpy(emb.weight.numpy()))
    idx = np.array([[2, 0, 2], [5, 2, 1]])
    gy = np.random.default_rng(0).standard_normal((2, 3, 3))
    out = emb(idx)
    (out * tr.tensor(gy)).sum().backward()
    t_out = t_emb(torch.from_numpy(idx))
    (t_out * torch.from_numpy(gy)).sum().backward()
    np.testing.assert_array_equal(out.numpy(), t_out.detach().numpy())
    np.testing.assert_allclose(emb.weight.grad.numpy(), t_emb.weight.grad.numpy(), rtol=1e-12)
    assert np.all(emb.weight.grad.numpy()[2] == 0)


def test_reset_parameters_keeps_a_removed_bias_removed():
    for bias in (True, False):
        lin = nn.Linear(3, 2, bias=bias)
        lin.bias = None
        lin.reset_parameters()
        assert lin.bias is None and [n for n, _ in lin.named_parameters()] == ["weight"]
    assert nn.Linear(3, 2).bias is not None


def test_embedding_function_checks_padding_idx():
    w = tr.randn(5, 2, requires_grad=True)
    with pytest.raises(ValueError, match=r"padding_idx must lie in \[-5, 5\)"):
        tr.functional.embedding([1, 2], w, padding_idx=7)


@pytest.mark.torch
def test_module_helpers_follow_torch():
    """apply (children first), named_children, parameters(recurse=False), zero_grad to zeros,
    requires_grad_ to freeze, and the float/double shortcuts."""
    torch = pytest.importorskip("torch")

    def build(nn_):
        return nn_.Sequential(nn_.Linear(3, 4), nn_.Sequential(nn_.Linear(4, 4)),
                              nn_.Linear(4, 2))

    ours, theirs = build(nn), build(torch.nn)
    seen, t_seen = [], []
    ours.apply(lambda m: seen.append(type(m).__name__))
    theirs.apply(lambda m: t_seen.append(type(m).__name__))
    assert seen == t_seen
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.parameters(recurse=False)) == []
    assert len(list(ours[0].parameters(recurse=False))) == 2
    ours[0].requires_grad_(False)
    out = ours(tr.randn(5, 3)).sum()
    out.backward()
    assert ours[0].weight.grad is None and ours[2].weight.grad is not None
    ours.zero_grad(set_to_none=False)
    assert not ours[2].weight.grad.numpy().any() and ours[0].weight.grad is None
    ours.zero_grad()
    assert ours[2].weight.grad is None
    assert ours.double()[2].weight.dtype == np.float64
    assert ours.float()[2].weight.dtype == np.float32


@pytest.mark.torch
def test_a_module_registered_twice_is_one_child_as_torch():
    torch = pytest.importorskip("torch")
    lin, t_lin = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    ours = nn.Sequential(lin, lin, nn.Linear(2, 1))
    theirs = torch.nn.Sequential(t_lin, t_lin, torch.nn.Linear(2, 1))
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    seen, t_seen = [], []
    ours.apply(lambda m: seen.append(type(m).__name__))
    theirs.apply(lambda m: t_seen.append(type(m).__name__))
    assert seen == t_seen


def test_optimizer_zero_grad_to_none_or_zeros():
    w = nn.Parameter(tr.ones(2))
    opt = tr.optim.SGD([w], lr=0.1)
    w.grad = tr.ones(2)
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and not w.grad.numpy().any()
    opt.zero_grad()
    assert w.grad is None


def test_a_layer_refused_for_its_dtype_draws_no_random_numbers():
    for make in (lambda: nn.Linear(3, 2, dtype="int64"), lambda: nn.Embedding(4, 2, dtype="int32"),
                 lambda: nn.LSTM(3, 2, dtype=np.int32), lambda: nn.GRUCell(3, 2, dtype="bool")):
        tr.manual_seed(5)
        with pytest.raises(TypeError, match="floating-point"):
            make()
        after = tr.randn(3).numpy()
        tr.manual_seed(5)
        np.testing.assert_array_equal(after, tr.randn(3).numpy())


def test_bad_arguments_get_errors_that_name_them():
    with pytest.raises(ValueError, match="dropout probability must be a number"):
        nn.Dropout("a")
    with pytest.raises(ValueError, match="dropout probability must be a number"):
        tr.functional.dropout(tr.ones(2), p=None)
    assert nn.Dropout(np.float32(0.25)).p == 0.25  # NumPy numbers are numbers
    assert tr.functional.dropout(tr.ones(2), p=np.float64(0.0)).shape == (2,)
    with pytest.raises(TypeError, match=r"the state must be a tuple \(h, c\) of Tensors, got int"):
        nn.LSTMCell(3, 4)(tr.ones(2, 3), 5)
    with pytest.raises(ValueError, match="at least one axis"):
        nn.Linear(3, 2)(tr.tensor(1.0))
    lin = nn.Linear(3, 2)
    for bad, match in (([1, 2], "expects a dict"), (None, "expects a dict"),
                       ({1: 2}, r"keys must be parameter names \(str\)")):
        with pytest.raises(TypeError, match=match):
            lin.load_state_dict(bad)
    before = lin.weight.numpy()
    with pytest.raises(RuntimeError, match="weight: not an array"):
        lin.load_state_dict({"weight": [[1, 2], [3]], "bias": [0.0, 0.0]})
    np.testing.assert_array_equal(lin.weight.numpy(), before)


@pytest.mark.torch
def test_mixed_dtypes_in_matmul_and_linear_are_refused_as_in_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch.ones(2, 2) @ torch.ones(2, 2, dtype=torch.float64)
    with pytest.raises(TypeError, match=r"dtypes differ \(float32 and float64\)"):
        tr.ones(2, 2) @ tr.ones(2, 2, dtype="float64")
    with pytest.raises(TypeError, match="input dtype float64 does not match the weight's"):
        nn.Linear(2, 2)(tr.ones(1, 2, dtype="float64"))
    with pytest.raises(TypeError, match="input dtype int64"):
        nn.Linear(2, 2)(tr.ones(1, 2, dtype="int64"))


def test_index_and_target_tensors_on_another_device():
    from tinygrad_rnn.testing import strict

    strict.register()
    x = tr.arange(4.0, device="strict")
    np.testing.assert_array_equal(x[tr.tensor([3, 1])].numpy(), [3.0, 1.0])  # moved, as torch
    with pytest.raises(ValueError, match="embedding: indices on 'cpu', weight on 'strict'"):
        nn.Embedding(5, 2).to("strict")(tr.tensor([0, 1]))
    with pytest.raises(ValueError, match="cross_entropy: target on 'cpu', input on 'strict'"):
        tr.functional.cross_entropy(tr.ones(2, 3, device="strict"), tr.tensor([0, 1]))

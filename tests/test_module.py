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
    with pytest.raises(KeyError, match="can't contain '.'"):  # KeyError, as torch
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
    t_model.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in model.state_dict().items()})
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


# ---- removing and replacing registered values, as torch.nn.Module ----------------------------


def head_model(nn_=nn):
    """A body and a head (the head is what gets replaced, as in fine-tuning), made with our nn
    or with torch.nn."""

    class Head(nn_.Module):
        def __init__(self):
            super().__init__()
            self.body = nn_.Linear(3, 4)
            self.head = nn_.Linear(4, 2)

    return Head()


@pytest.mark.torch
def test_a_submodule_set_to_none_is_unregistered_everywhere_as_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = head_model(), head_model(torch.nn)
    old_head = ours.head
    ours.head, theirs.head = None, None
    assert ours.head is None and theirs.head is None
    assert list(ours._modules) == list(theirs._modules) == ["body", "head"]  # the name stays
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["body.weight", "body.bias"]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert repr(ours) == repr(theirs)  # "(head): None", as torch
    seen = []
    ours.apply(seen.append)
    assert old_head not in seen and len(seen) == 2
    ours.double().train(False).zero_grad()  # none of these reaches the removed head
    assert old_head.weight.dtype == np.float32 and old_head.training
    opt = tr.optim.SGD(ours.parameters(), lr=0.1)
    assert not any(p is old_head.weight for g in opt.param_groups for p in g["params"])
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    ours.head = nn.Linear(4, 2)  # the name takes a module again, in its place
    assert list(ours.state_dict()) == ["body.weight", "body.bias", "head.weight", "head.bias"]


@pytest.mark.torch
def test_a_registered_name_refuses_a_value_of_another_kind_as_torch():
    """A submodule's name takes a Module or None; a parameter's a Parameter or None: anything
    else is a TypeError, in both, and leaves the module as it was."""
    torch = pytest.importorskip("torch")
    for lib, nn_ in ((tr, nn), (torch, torch.nn)):
        m = head_model(nn_)
        before = [n for n, _ in m.named_parameters()]
        for name, value in (("head", "str"), ("head", lib.ones(2)), ("head", 3),
                            ("body", lambda x: x)):
            with pytest.raises(TypeError, match=f"cannot assign .* as child module '{name}'"):
                setattr(m, name, value)
        for value in (lib.ones(4, 3), 3, nn_.Linear(1, 1)):
            with pytest.raises(TypeError, match=r"cannot assign .* as parameter 'weight' "
                                                r"\((torch\.)?nn\.Parameter or None expected\)"):
                m.body.weight = value
        assert [n for n, _ in m.named_parameters()] == before
        assert isinstance(m.head, nn_.Linear)
        m.body.weight = None  # None is allowed, and removes it from parameters()
        assert [n for n, _ in m.named_parameters()] == ["body.bias", "head.weight", "head.bias"]
        assert "weight" in m.body._parameters and m.body.weight is None


@pytest.mark.torch
def test_del_removes_a_parameter_buffer_or_submodule_as_torch():
    torch = pytest.importorskip("torch")
    for lib, nn_ in ((tr, nn), (torch, torch.nn)):
        m = head_model(nn_)
        m.register_buffer("stat", lib.zeros(2), persistent=False)
        m.note = "plain"
        del m.head, m.body.weight, m.stat, m.note
        assert list(m._modules) == ["body"] and list(m.body._parameters) == ["bias"]
        assert list(m._buffers) == [] and not m._non_persistent_buffers_set
        assert list(m.state_dict()) == ["body.bias"]
        for name in ("head", "stat", "note"):
            assert not hasattr(m, name)
        with pytest.raises(AttributeError):
            del m.head
        m.head = nn_.Linear(4, 2)  # the name is free for anything again
        assert list(m.state_dict()) == ["body.bias", "head.weight", "head.bias"]


def test_a_parameter_set_to_none_is_not_loaded_moved_or_trained():
    lin = nn.Linear(3, 2)
    lin.bias = None
    assert list(lin.state_dict()) == ["weight"]
    result = lin.load_state_dict({"weight": np.ones((2, 3)), "bias": np.ones(2)}, strict=False)
    assert result.unexpected_keys == ["bias"] and lin.bias is None
    assert lin.double().weight.dtype == np.float64 and lin.bias is None


# ---- containers, as torch.nn's ----------------------------------------------------------------


def _refusals(nn_):
    """Ways to put a non-Module into a container: each must raise TypeError."""
    lin = nn_.Linear(2, 2)
    return {
        "Sequential(...)": lambda: nn_.Sequential(lin, lambda t: t * 0),
        "Sequential.append": lambda: nn_.Sequential(lin).append("oops"),
        "Sequential.extend": lambda: nn_.Sequential(lin).extend([lin, 3]),
        "Sequential[i] =": lambda: nn_.Sequential(lin).__setitem__(0, "oops"),
        "ModuleList(...)": lambda: nn_.ModuleList([lin, "oops"]),
        "ModuleList.append": lambda: nn_.ModuleList().append("oops"),
        "ModuleList.extend": lambda: nn_.ModuleList().extend(["oops"]),
        "ModuleList +=": lambda: nn_.ModuleList().__iadd__(["oops"]),
        "ModuleList[i] =": lambda: nn_.ModuleList([lin]).__setitem__(-1, "oops"),
        "ModuleDict(...)": lambda: nn_.ModuleDict({"a": lin, "b": 3}),
        "ModuleDict[k] =": lambda: nn_.ModuleDict().__setitem__("a", "oops"),
        "ModuleDict.update": lambda: nn_.ModuleDict().update([("a", "oops")]),
        "add_module": lambda: nn_.Module().add_module("a", "oops"),
        "register_module": lambda: nn_.Module().register_module("a", 3),
    }


@pytest.mark.torch
@pytest.mark.parametrize("way", list(_refusals(nn)))
def test_containers_refuse_non_modules_as_torch(way):
    torch = pytest.importorskip("torch")
    for nn_ in (nn, torch.nn):
        with pytest.raises(TypeError, match=r"is not a Module subclass|cannot assign"):
            _refusals(nn_)[way]()


def test_containers_refuse_non_modules_in_insert_too_and_add_none_of_a_bad_batch():
    """Stricter than torch, whose ModuleList.insert takes anything and whose Sequential.insert
    raises AssertionError: insert is an adder like the others. A batch (extend, update) is
    checked whole before anything is added."""
    for container in (nn.Sequential(nn.Linear(1, 1)), nn.ModuleList([nn.Linear(1, 1)])):
        with pytest.raises(TypeError, match="str is not a Module subclass"):
            container.insert(0, "oops")
        with pytest.raises(TypeError, match="int is not a Module subclass"):
            container.extend([nn.Linear(1, 2), 3])
        assert len(container) == 1
    d = nn.ModuleDict({"a": nn.Linear(1, 1)})
    for bad in ({"b": nn.Linear(1, 1), "c": "oops"}, [("b", nn.Linear(1, 1)), ("training", None)]):
        with pytest.raises((TypeError, KeyError)):
            d.update(bad)
        assert list(d) == ["a"]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        nn.ModuleList([nn.Linear(1, 1)]).insert(3, nn.Linear(1, 1))  # torch: a broken list


def _edits(nn_, kind):
    """The same edits on a Sequential or a ModuleList of Linear(1, k) layers; returns what each
    step leaves: (registered names, out_features of each layer), and the results read."""
    def lin(k):
        return nn_.Linear(1, k)

    def seen(c):
        return list(c._modules), [m.out_features for m in c]

    make = nn_.Sequential if kind == "Sequential" else (lambda *ms: nn_.ModuleList(ms))
    c = make(lin(1), lin(2), lin(3), lin(4))
    log = [seen(c), len(c), c[-1].out_features, c[0].out_features]
    for sl in (slice(1, None), slice(None, None, -1), slice(-2, None), slice(5, 9)):
        part = c[sl]
        log += [type(part).__name__, seen(part)]
    for bad in (4, -5):
        with pytest.raises(IndexError, match=f"index {bad} is out of range"):
            c[bad]
    with pytest.raises(TypeError):
        c["0"]
    c.append(lin(5))
    c.extend([lin(6), lin(7)])
    c.insert(0, lin(8))
    if kind == "Sequential":  # torch's ModuleList.insert breaks on a negative index
        c.insert(-1, lin(9))
    log.append(seen(c))
    log += [c.pop(1).out_features, seen(c), type(c.pop(slice(0, 2))).__name__, seen(c)]
    del c[-1]
    log.append(seen(c))
    del c[::2]
    log.append(seen(c))
    c[-1] = lin(10)
    c[0] = None  # a slot may be emptied, as torch
    log.append(list(c._modules))
    c[0] = lin(11)
    other = make(lin(12))
    c += other
    log += [seen(c), seen(c + other), [m.out_features for m in c]]
    return log


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["Sequential", "ModuleList"])
def test_sequential_and_module_list_index_slice_and_edit_as_torch(kind):
    """Negative indices, slices of the same type (Sequential's keep their names, ModuleList's
    are numbered from 0, as torch's), append, extend, insert, pop, del (which numbers afresh),
    item assignment, + and +=."""
    torch = pytest.importorskip("torch")
    assert _edits(nn, kind) == _edits(torch.nn, kind)


@pytest.mark.torch
def test_sequential_from_an_ordered_dict_and_its_operators_as_torch():
    from collections import OrderedDict

    torch = pytest.importorskip("torch")
    outs = []
    for nn_ in (nn, torch.nn):
        seq = nn_.Sequential(OrderedDict([("embed", nn_.Linear(2, 3)), ("out", nn_.Linear(3, 1))]))
        tail = seq[1:]
        with pytest.raises(ValueError, match="only objects of Sequential class"):
            seq + [nn_.Linear(1, 1)]
        with pytest.raises(ValueError, match="only objects of Sequential class"):
            seq += nn_.ModuleList()
        outs.append([list(seq.state_dict()), list(tail.state_dict()), seq[-1].out_features,
                     list((seq + tail)._modules), str(seq)])
    assert outs[0] == outs[1]
    seq = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    x = tr.randn(4, 2)
    np.testing.assert_array_equal(seq(x).numpy(), seq[1](seq[0](x)).numpy())
    np.testing.assert_array_equal(seq[:1](x).numpy(), seq[0](x).numpy())


@pytest.mark.torch
def test_module_dict_methods_and_key_rules_as_torch():
    torch = pytest.importorskip("torch")
    logs = []
    for nn_ in (nn, torch.nn):
        d = nn_.ModuleDict([("a", nn_.Linear(1, 1)), ("b", nn_.Linear(1, 2))])
        d.update({"c": nn_.Linear(1, 3)})
        d.update([("d", nn_.Linear(1, 4)), ["a", nn_.Linear(1, 5)]])  # pairs; "a" replaced
        d.update(nn_.ModuleDict({"e": nn_.Linear(1, 6)}))
        log = [list(d), list(d.keys()), [m.out_features for m in d.values()],
               [(k, m.out_features) for k, m in d.items()], "c" in d, "z" in d, len(d)]
        log += [d.pop("b").out_features, list(d)]
        del d["c"]
        log.append(list(d))
        for missing in (d.pop, d.__delitem__, d.__getitem__):
            with pytest.raises(KeyError):
                missing("zz")
        for key in ("training", "keys", "update", "a.b", ""):  # clashes and bad names
            with pytest.raises(KeyError):
                d[key] = nn_.Linear(1, 1)
        with pytest.raises(TypeError, match="should be a string"):
            d[1] = nn_.Linear(1, 1)
        with pytest.raises(TypeError, match="should be called with an iterable"):
            nn_.ModuleDict(3)
        with pytest.raises(ValueError, match="element #0 has length 1; 2 is required"):
            nn_.ModuleDict([("a",)])
        d.clear()
        log.append(len(d))
        logs.append(log)
    assert logs[0] == logs[1]


@pytest.mark.torch
def test_module_list_repr_folds_runs_of_equal_modules_as_torch():
    torch = pytest.importorskip("torch")

    def build(nn_):
        return nn_.ModuleList([nn_.Linear(2, 2) for _ in range(3)] + [nn_.Linear(2, 1), None,
                                                                      nn_.Linear(2, 1)])

    assert repr(build(nn)) == repr(build(torch.nn))
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList()) == "ModuleList()"


# ---- registering by name, buffers --------------------------------------------------------------


@pytest.mark.torch
def test_add_module_register_parameter_and_get_submodule_as_torch():
    torch = pytest.importorskip("torch")
    for lib, nn_ in ((tr, nn), (torch, torch.nn)):
        m = head_model(nn_)
        m.note = 1
        m.add_module("extra", nn_.Linear(2, 2))
        m.register_module("empty", None)
        m.add_module("extra", nn_.Linear(2, 3))  # a child of that name is replaced, in place
        assert list(m._modules) == ["body", "head", "extra", "empty"]
        assert m.extra.out_features == 3 and m.empty is None
        for name in ("note", "training", "forward"):  # taken by other attributes
            with pytest.raises(KeyError, match=f"attribute '{name}' already exists"):
                m.add_module(name, nn_.Linear(1, 1))
        with pytest.raises(KeyError):
            m.add_module("a.b", nn_.Linear(1, 1))
        with pytest.raises(KeyError):
            m.register_parameter("", nn_.Parameter(lib.ones(1)))
        with pytest.raises(KeyError, match="attribute 'head' already exists"):
            m.register_parameter("head", nn_.Parameter(lib.ones(1)))
        with pytest.raises(TypeError, match="cannot assign .* object to parameter 'p'"):
            m.register_parameter("p", lib.ones(1))
        m.register_parameter("p", nn_.Parameter(lib.ones(1)))
        m.register_parameter("q", None)
        assert [n for n, _ in m.named_parameters(recurse=False)] == ["p"]
        assert list(m._parameters) == ["p", "q"]
        assert m.get_submodule("") is m and m.get_submodule("extra") is m.extra
        outer = nn_.Sequential(m)
        assert outer.get_submodule("0.head") is m.head
        for path, match in (("0.nope", "has no attribute `nope`"),
                            ("0.head.weight", "`weight` is not an nn.Module"),
                            ("0.empty", "`empty` is not an nn.Module"),
                            ("0.head.x", "Linear has no attribute `x`")):
            with pytest.raises(AttributeError, match=match):
                outer.get_submodule(path)


def normed(lib=tr, nn_=nn):
    """A layer with buffers of each kind: running statistics (float, persistent), a step count
    (integer), a scratch mask (not persistent) and an absent one (None)."""

    class Normed(nn_.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn_.Linear(2, 2)
            self.register_buffer("running_mean", lib.zeros(2))
            self.register_buffer("steps", lib.zeros((), dtype=lib.int64))
            self.register_buffer("mask", lib.ones(2), persistent=False)
            self.register_buffer("absent", None)
            self.scale = nn_.Parameter(lib.ones(2))

        def forward(self, x):
            return self.lin(x) * self.scale * self.mask - self.running_mean

    return Normed()


@pytest.mark.torch
def test_buffers_are_state_but_not_parameters_as_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Sequential(normed()), torch.nn.Sequential(normed(torch, torch.nn))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "0.scale", "0.running_mean", "0.steps", "0.lin.weight", "0.lin.bias"]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()] == [
        "0.running_mean", "0.steps", "0.mask"]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert len(list(ours.buffers())) == 3 and len(list(ours[0].buffers(recurse=False))) == 3
    assert list(ours.state_dict(prefix="model.")) == list(theirs.state_dict(prefix="model."))
    # torch's state_dict loads here and back (the int64 count included)
    with torch.no_grad():
        theirs[0].running_mean += 3
        theirs[0].steps += 7
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(ours[0].running_mean.numpy(), [3, 3])
    assert ours[0].steps.item() == 7 and ours[0].steps.dtype == np.int64
    theirs.load_state_dict({k: torch.from_numpy(v.numpy())
                            for k, v in ours.state_dict().items()})
    # a persistent buffer is required; a non-persistent one is not expected
    state = ours.state_dict()
    for lib_model, convert in ((ours, lambda v: v),
                               (theirs, lambda v: torch.from_numpy(v.numpy()))):
        short = {k: convert(v) for k, v in state.items() if k != "0.steps"}
        with pytest.raises(RuntimeError, match="0.steps"):
            lib_model.load_state_dict(short)
        assert list(lib_model.load_state_dict(short, strict=False).missing_keys) == ["0.steps"]
        extra = {**{k: convert(v) for k, v in state.items()}, "0.mask": convert(tr.ones(2))}
        with pytest.raises(RuntimeError, match="0.mask"):
            lib_model.load_state_dict(extra)
    # double() casts floating buffers and leaves the integer count, as torch
    ours.double()
    theirs.double()
    assert str(ours[0].running_mean.dtype) == str(theirs[0].running_mean.dtype).split(".")[1]
    assert ours[0].steps.dtype == np.int64 and theirs[0].steps.dtype == torch.int64
    assert ours[0].mask.dtype == np.float64 and ours[0].absent is None


@pytest.mark.torch
def test_buffer_assignment_and_registration_rules_as_torch():
    torch = pytest.importorskip("torch")
    for lib, nn_ in ((tr, nn), (torch, torch.nn)):
        m = normed(lib, nn_)
        m.mask = lib.zeros(3)  # a tensor replaces a buffer, which stays non-persistent
        assert m._buffers["mask"].shape == (3,) and "mask" in m._non_persistent_buffers_set
        assert "mask" not in m.state_dict()
        m.running_mean = None  # None empties it
        assert "running_mean" in m._buffers and "running_mean" not in m.state_dict()
        with pytest.raises(TypeError, match="cannot assign 'list' as buffer 'steps'"):
            m.steps = [1]
        with pytest.raises(TypeError, match="cannot assign 'list' object to buffer 'b'"):
            m.register_buffer("b", [1.0])
        for name in ("lin", "scale", "training"):
            with pytest.raises(KeyError, match=f"attribute '{name}' already exists"):
                m.register_buffer(name, lib.ones(1))
        for name in ("a.b", ""):
            with pytest.raises(KeyError):
                m.register_buffer(name, lib.ones(1))
        with pytest.raises(TypeError, match="buffer name should be a string"):
            m.register_buffer(1, lib.ones(1))
        m.steps = nn_.Parameter(lib.ones(1))  # a Parameter takes the name from the buffer
        assert "steps" in m._parameters and "steps" not in m._buffers
        m.mask = nn_.Linear(1, 1)  # and so does a module
        assert "mask" in m._modules and "mask" not in m._buffers
        assert "mask" not in m._non_persistent_buffers_set


def test_to_moves_buffers_keeps_shared_ones_shared_and_integers_integer():
    from tinygrad_rnn.testing import strict

    strict.register()
    m = nn.Sequential(normed(), normed())
    m[1].register_buffer("shared", m[0].running_mean)
    steps = m[0].steps
    m.to("strict")
    assert {b.device for b in m.buffers()} == {"strict"} and m[0].lin.weight.device == "strict"
    assert m[1].shared is m[0].running_mean and m[0].steps is not steps  # a new tensor, as torch
    assert m(tr.ones(1, 2, device="strict")).device == "strict"
    m.to("cpu")
    mean = m[0].running_mean
    m.float()  # nothing to change: the same tensor
    assert m[0].running_mean is mean
    m.double()
    assert m[0].running_mean.dtype == np.float64 and m[0].steps.dtype == np.int64
    assert m[1].shared is m[0].running_mean
    assert not m[0].running_mean.requires_grad


def test_a_module_pickled_before_buffers_existed_still_loads():
    import pickle

    lin = nn.Linear(2, 1)
    old = nn.Linear.__new__(nn.Linear)
    old.__setstate__({k: v for k, v in lin.__dict__.items()
                      if k not in ("_buffers", "_non_persistent_buffers_set")})
    assert list(old.buffers()) == [] and list(old.state_dict()) == ["weight", "bias"]
    lin.register_buffer("mask", tr.ones(1), persistent=False)
    back = pickle.loads(pickle.dumps(lin))
    assert [n for n, _ in back.named_buffers()] == ["mask"]
    assert "mask" in back._non_persistent_buffers_set and list(back.state_dict()) == ["weight",
                                                                                      "bias"]


# ---- modes and printing --------------------------------------------------------------------


@pytest.mark.torch
def test_train_refuses_a_non_bool_mode_as_torch():
    torch = pytest.importorskip("torch")
    for m in (head_model(), head_model(torch.nn)):
        for mode in ("eval", 0, None):
            with pytest.raises(ValueError, match="training mode is expected to be boolean"):
                m.train(mode)
        assert m.training and m.head.training


@pytest.mark.torch
def test_repr_with_extra_lines_and_children_as_torch():
    torch = pytest.importorskip("torch")

    def build(nn_):
        class Block(nn_.Module):
            def __init__(self, extra):
                super().__init__()
                self.extra = extra
                self.inner = nn_.Sequential(nn_.Linear(2, 2), None)

            def extra_repr(self):
                return self.extra

        return [Block("size=2"), Block("two\nlines"), Block("")]

    for ours, theirs in zip(build(nn), build(torch.nn)):
        assert repr(ours) == repr(theirs)


def test_assigning_a_tensor_to_a_parameters_data_takes_its_array():
    """``p.data = other`` as in PyTorch: the parameter stays the same object (optimizers keep
    it), with the other tensor's values; a tensor on another device is refused."""
    lin = nn.Linear(2, 2)
    w = lin.weight
    lin.weight.data = tr.ones(2, 2)
    assert lin.weight is w and isinstance(w.data, tr.Tensor) and w.requires_grad
    np.testing.assert_array_equal(lin(tr.ones(1, 2)).numpy(),
                                  2.0 + lin.bias.numpy()[None, :])
    with pytest.raises(ValueError, match="x.data = a tensor on 'strict' for a tensor on "
                                         "'cpu'"):
        lin.weight.data = tr.ones(2, 2, device="strict")


def _stateful(nn_):
    """A model with extra state (a vocabulary and a step count) in a child, built from
    ``nn_`` (ours or torch's)."""
    class Vocab(nn_.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn_.Linear(2, 2)
            self.words, self.steps = ["a", "b"], 0

        def get_extra_state(self):
            return {"words": list(self.words), "steps": self.steps}

        def set_extra_state(self, state):
            self.words, self.steps = list(state["words"]), state["steps"]

        def forward(self, x):
            return self.proj(x)

    return nn_.Sequential(nn_.Linear(2, 2), Vocab(), nn_.Linear(2, 1))


def test_extra_state_is_saved_and_loaded_under_pytorchs_name():
    """``get_extra_state``/``set_extra_state`` as PyTorch's: the same names in the same
    places, the object itself in the dict; a strict load without it names it missing."""
    torch = pytest.importorskip("torch")
    ours, theirs = _stateful(nn), _stateful(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "0.weight", "0.bias", "1._extra_state", "1.proj.weight", "1.proj.bias", "2.weight",
        "2.bias"]
    ours[1].words, ours[1].steps = ["x", "y", "z"], 7
    sd = ours.state_dict()
    assert sd["1._extra_state"] == {"words": ["x", "y", "z"], "steps": 7}
    back = _stateful(nn)
    back.load_state_dict(sd)
    assert back[1].words == ["x", "y", "z"] and back[1].steps == 7
    np.testing.assert_array_equal(back[1].proj.weight.numpy(), ours[1].proj.weight.numpy())
    # between the frameworks: the extra state travels as it is
    theirs.load_state_dict({k: v if k.endswith("_extra_state") else torch.from_numpy(v.numpy())
                            for k, v in sd.items()})
    assert theirs[1].words == ["x", "y", "z"] and theirs[1].steps == 7
    del sd["1._extra_state"]
    w = back[0].weight.numpy().copy()
    with pytest.raises(RuntimeError, match=r"missing keys: 1\._extra_state"):
        _stateful(nn).load_state_dict(sd)
    assert back.load_state_dict(sd, strict=False).missing_keys == ["1._extra_state"]
    np.testing.assert_array_equal(back[0].weight.numpy(), w)
    with pytest.raises(RuntimeError, match=r"unexpected keys: 1\._extra_state"):
        nn.Sequential(nn.Linear(2, 2), nn.Module(), nn.Linear(2, 1)).load_state_dict(
            ours.state_dict())


def _hook_log(nn_, log):
    """A two-level model whose state-dict hooks write to ``log``, the post hooks renaming
    the inner ``weight`` entries to ``kernel``."""
    model = nn_.Sequential(nn_.Linear(2, 3), nn_.Sequential(nn_.Linear(3, 1)))

    def pre(name):
        return lambda m, prefix, keep_vars: log.append(("pre", name, prefix, keep_vars))

    def post(name):
        def hook(m, sd, prefix, meta):
            log.append(("post", name, prefix, sorted(k for k in sd if k.startswith(prefix))))
            for k in [k for k in sd if k.startswith(prefix) and k.endswith("weight")]:
                sd[k[:-len("weight")] + "kernel"] = sd.pop(k)
        return hook

    for name, m in [("root", model), ("lin", model[0]), ("inner", model[1]),
                    ("leaf", model[1][0])]:
        m.register_state_dict_pre_hook(pre(name))
        m.register_state_dict_post_hook(post(name))
    return model


def test_state_dict_hooks_run_in_pytorchs_order_and_may_change_the_dict():
    torch = pytest.importorskip("torch")
    ours_log, theirs_log = [], []
    ours, theirs = _hook_log(nn, ours_log), _hook_log(torch.nn, theirs_log)
    sd, t_sd = ours.state_dict(prefix="m.", keep_vars=True), theirs.state_dict(prefix="m.",
                                                                               keep_vars=True)
    assert ours_log == theirs_log and list(sd) == list(t_sd)
    assert "m.1.0.kernel" in sd and sd["m.0.kernel"] is ours[0].weight
    ours.register_state_dict_post_hook(lambda m, sd, prefix, meta: {})
    with pytest.raises(RuntimeError, match="post-hook must return None"):
        ours.state_dict()
    handle = ours[0].register_state_dict_pre_hook(lambda *a: ours_log.append("again"))
    handle.remove()
    ours_log.clear()
    ours[1].state_dict()
    assert "again" not in ours_log and ours_log[0] == ("pre", "inner", "", False)


def test_load_post_hooks_see_the_loaded_values_and_may_forgive_missing_names():
    """As PyTorch's: the hooks run after the values are written, children first, with the
    lists that are returned; clearing them lets a strict load pass. Names left make a strict
    load fail, and then the tensors are put back as they were."""
    torch = pytest.importorskip("torch")

    def build(nn_, log):
        model = nn_.Sequential(nn_.Linear(2, 2), nn_.Sequential(nn_.Linear(2, 1)))
        for name, m in [("root", model), ("lin", model[0]), ("inner", model[1])]:
            m.register_load_state_dict_post_hook(
                lambda m, keys, name=name: log.append((name, list(keys.missing_keys),
                                                       list(keys.unexpected_keys),
                                                       float(m.state_dict()[next(iter(
                                                           m.state_dict()))].sum()))))
        return model

    ours_log, theirs_log = [], []
    ours, theirs = build(nn, ours_log), build(torch.nn, theirs_log)
    sd = {"0.weight": np.full((2, 2), 1.0), "0.bias": np.full(2, 2.0),
          "1.0.weight": np.full((1, 2), 3.0), "extra": np.zeros(1)}
    ours.load_state_dict(sd, strict=False)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=False)
    assert ours_log == theirs_log
    assert [n for n, *_ in ours_log] == ["lin", "inner", "root"]

    before = {k: v.numpy().copy() for k, v in ours.state_dict().items()}
    new = {k: v + 10 for k, v in sd.items() if k != "extra"}
    with pytest.raises(RuntimeError, match=r"put back.*missing keys: 1\.0\.bias"):
        ours.load_state_dict(new)
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])

    def forgive(m, keys):
        keys.missing_keys.clear()

    ours.register_load_state_dict_post_hook(forgive)
    result = ours.load_state_dict(new)
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(ours[1][0].weight.numpy(), np.full((1, 2), 13.0))
    ours.register_load_state_dict_post_hook(lambda m, keys: keys)
    with pytest.raises(RuntimeError, match="post-hook must return None"):
        ours.load_state_dict(new)


def test_load_with_assign_takes_the_given_tensors_as_pytorch():
    """``assign=True``: the module holds the given tensors (dtype and device kept), each
    parameter keeps its requires_grad; a shape error still writes nothing."""
    torch = pytest.importorskip("torch")
    lin, t_lin = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    lin.bias.requires_grad_(False)
    t_lin.bias.requires_grad_(False)
    w = tr.tensor(np.arange(6.0).reshape(3, 2))
    b = tr.ones(3, dtype=tr.float64)
    lin.load_state_dict({"weight": w, "bias": b}, assign=True)
    t_lin.load_state_dict({"weight": torch.arange(6.0, dtype=torch.float64).reshape(3, 2),
                           "bias": torch.ones(3, dtype=torch.float64)}, assign=True)
    for p, tp in [(lin.weight, t_lin.weight), (lin.bias, t_lin.bias)]:
        assert isinstance(p, nn.Parameter) and str(p.dtype) == "float64"
        assert p.requires_grad == tp.requires_grad and str(tp.dtype) == "torch.float64"
    np.testing.assert_array_equal(lin.weight.numpy(), w.numpy())
    y = lin(tr.ones(1, 2, dtype=tr.float64))
    y.sum().backward()
    assert lin.weight.grad is not None and lin.bias.grad is None
    bn = nn.BatchNorm1d(3)
    bn.load_state_dict({**{k: v.numpy() for k, v in bn.state_dict().items()},
                        "running_mean": np.full(3, 5.0)}, assign=True)
    assert "running_mean" in bn._buffers and bn.running_mean.numpy().tolist() == [5.0] * 3
    old = lin.weight
    with pytest.raises(RuntimeError, match="expected shape"):
        lin.load_state_dict({"weight": np.ones((2, 2)), "bias": np.ones(3)}, assign=True)
    with pytest.raises(RuntimeError, match="must be floating-point"):
        lin.load_state_dict({"weight": np.ones((3, 2), dtype=np.int64), "bias": np.ones(3)},
                            assign=True)
    assert lin.weight is old


def test_functional_call_ignores_the_state_dict_hooks_and_extra_state_as_torch():
    """tr.func.functional_call names the parameters and buffers, as torch's: a module with
    extra state or with state-dict hooks that rename keys works, and the hooks stay silent."""
    model = _stateful(nn)
    calls = []
    model.register_state_dict_pre_hook(lambda *a: calls.append("pre"))
    model.register_state_dict_post_hook(
        lambda m, sd, prefix, meta: sd.update({"renamed": sd.pop("0.weight")}))
    params = {k: v.detach() * 0 for k, v in model.named_parameters()}
    out = tr.func.functional_call(model, params, (tr.ones(1, 2),), strict=True)
    assert out.tolist() == [[0.0]] and calls == []


def test_a_shared_modules_extra_state_is_loaded_from_either_name():
    """As a tied weight: a module under two names, given under one, is not missing."""
    vocab = _stateful(nn)[1]
    model = nn.ModuleDict({"a": vocab, "b": vocab})
    sd = {k: v for k, v in model.state_dict().items() if k.startswith("a.")}
    result = model.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []


@pytest.mark.torch
def test_get_parameter_get_buffer_set_submodule_to_empty_and_type_as_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tr, torch):
        got = []
        m = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
        got.append((tuple(m.get_parameter("0.weight").shape),
                    m.get_parameter("0.weight") is m[0].weight,
                    m.get_buffer("1.running_mean") is m[1].running_mean))
        relu = lib.nn.ReLU()
        for name, *args in (("get_parameter", "0.nope"), ("get_parameter", "1.running_mean"),
                            ("get_buffer", "0.weight"), ("get_parameter", "5.weight"),
                            ("set_submodule", "9", relu, True),
                            ("set_submodule", "0.weight", relu)):
            try:
                getattr(m, name)(*args)
                got.append("ran")
            except Exception as e:  # noqa: BLE001 - the class and message are compared
                got.append((type(e).__name__, str(e)))
        m.set_submodule("0", lib.nn.Linear(2, 3, bias=False))
        m.set_submodule("new", lib.nn.ReLU())
        got.append((m[0].bias is None, type(m.new).__name__))
        weight = m[0].weight
        assert m.to_empty(device="cpu") is m and m.type(lib.float64) is m
        got.append((m[0].weight is weight, str(m[0].weight.dtype).split(".")[-1],
                    tuple(m[1].running_var.shape), m.share_memory() is m))
        results.append(got)
    assert results[0] == results[1]

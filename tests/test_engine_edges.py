"""Edge cases of the engine found in review: each a wrong answer or a silent failure once."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn
from tinygrad_rnn.testing.strict import STRICT_XP


def test_second_derivative_treats_a_detached_copy_as_a_constant():
    x = tr.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    (g,) = tr.grad((x * x.detach()).sum(), x, create_graph=True)  # g = x.detach()
    np.testing.assert_array_equal(g.numpy(), [1.0, 2.0])
    if g.requires_grad:
        g.sum().backward()
        assert x.grad is None or np.all(x.grad.numpy() == 0)


def test_gradients_never_alias_on_any_path():
    a = tr.tensor([1.0, 2.0], requires_grad=True)
    b = tr.tensor([3.0, 4.0], requires_grad=True)
    (a + b).backward(tr.ones(2), create_graph=True)
    assert a.grad is not b.grad and a.grad.data is not b.grad.data
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    go = tr.tensor([1.0, 1.0])
    (g,) = tr.grad(x + 1, x, go)
    g.data *= 2  # writable, and not the upstream gradient's memory
    np.testing.assert_array_equal(go.numpy(), [1.0, 1.0])
    (s,) = tr.grad(x.sum(), x)
    s.data *= 3  # not a read-only broadcast view
    np.testing.assert_array_equal(s.numpy(), [3.0, 3.0])


def test_grad_leaves_retained_gradients_alone():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    tr.grad((h * h).sum(), x)
    assert h.grad is None and x.grad is None


def test_create_graph_through_a_device_move():
    x = tr.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    (g,) = tr.grad((x.to("strict") ** 2).sum(), x, create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_cast_to_integers_leaves_the_graph():
    x = tr.tensor([1.5, 2.5], requires_grad=True)
    i = x.to(dtype="int64")
    assert i.dtype == np.int64 and not i.requires_grad


def test_numpy_scalars_do_not_promote_float32():
    x = tr.tensor([1.0, 2.0])
    for y in (x + np.float64(1), x ** np.float64(2), np.float64(2) * x, x.clip(np.float64(0), 1)):
        assert y.dtype == np.float32


def test_refused_create_graph_changes_nothing():
    lstm = nn.LSTM(2, 3)
    w = tr.tensor([2.0], requires_grad=True)
    out, _ = lstm(tr.randn(4, 1, 2))
    with pytest.raises(RuntimeError, match="impl='composed'"):
        ((w * w).sum() + out.sum()).backward(create_graph=True)
    assert w.grad is None and lstm.weight_ih_l0.grad is None


def test_load_state_dict_with_a_bad_value_loads_nothing():
    gru = nn.GRU(2, 3)
    before = gru.state_dict()
    bad = {k: np.ones_like(v) for k, v in before.items()}
    bad["bias_hh_l0"] = np.array(["x"] * 9)
    with pytest.raises(RuntimeError, match="bias_hh_l0: expected real numbers"):
        gru.load_state_dict(bad)
    for k, v in gru.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_a_backward_with_a_wrong_shape_is_caught():
    class Bad(tr.Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return gy[:, :1]

    x = tr.ones(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Bad.backward .* shape \(3, 4\)"):
        Bad.apply(x).sum().backward()


def test_a_backward_leaking_numpy_on_the_strict_device_names_the_op():
    class Leaky(tr.Function):
        def forward(self, x):
            self.shape = x.shape
            return x * 2

        def backward(self, gy):
            return np.zeros(self.shape)

    x = tr.ones(3, device="strict", requires_grad=True)
    with pytest.raises(TypeError, match="Leaky.backward"):
        Leaky.apply(x).sum().backward()


def test_strict_namespace_checks_keyword_arguments():
    a = tr.ones(3, device="strict").data
    with pytest.raises(TypeError, match="host numpy.ndarray"):
        STRICT_XP.clip(a, a_min=np.zeros(3), a_max=1)


def test_truth_value_of_tensors():
    assert not tr.tensor([0.0]) and tr.tensor(1.0) < 2
    with pytest.raises(ValueError, match="ambiguous"):
        bool(tr.tensor([1.0, 2.0]) > 0)
    assert tr.tensor(1.0) not in [tr.tensor(2.0)]


def test_empty_index_list_picks_nothing():
    x = tr.ones(3, requires_grad=True)
    y = x[[]]
    assert y.shape == (0,)
    (y.sum() + x.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])


def test_fused_ops_release_their_buffers_after_backward():
    lstm = nn.LSTM(2, 3)
    out, _ = lstm(tr.randn(5, 1, 2))
    fn = out.grad_fn
    assert fn.__dict__  # holds the activations until backward
    out.sum().backward()
    assert not fn.__dict__ and fn.saved == ()

"""Edge cases of the engine found in review: each a wrong answer or a silent failure once."""

from __future__ import annotations

import math

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
    assert a.grad is not b.grad and a.grad._data is not b.grad._data
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    go = tr.tensor([1.0, 1.0])
    (g,) = tr.grad(x + 1, x, go)
    g._data *= 2  # writable, and not the upstream gradient's memory
    np.testing.assert_array_equal(go.numpy(), [1.0, 1.0])
    (s,) = tr.grad(x.sum(), x)
    s._data *= 3  # not a read-only broadcast view
    np.testing.assert_array_equal(s.numpy(), [3.0, 3.0])


def test_grad_fills_retained_gradients_it_passes_and_runs_only_what_leads_to_inputs():
    """As PyTorch's: a tensor that called retain_grad() gets the gradient tr.grad passes
    through it (no leaf's .grad changes); ops behind the wanted inputs do not run (their
    hooks stay silent, a retained tensor there gets nothing) and keep their graph."""
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    tr.grad((h * h).sum(), x)
    np.testing.assert_array_equal(h.grad.numpy(), [4.0, 8.0])
    assert x.grad is None
    heard = []
    a = x * 3
    a.retain_grad()
    a.register_hook(lambda g: heard.append(g))
    w = a.exp()
    (gw,) = tr.grad((w * 2).sum(), w)
    np.testing.assert_array_equal(gw.numpy(), [2.0, 2.0])
    assert a.grad is None and heard == []
    w.sum().backward()  # the part behind w was not run, so not freed
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp(3 * x.numpy()))


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


class _ArrayOnlyBackward(tr.Function):
    differentiable_backward = False

    def forward(self, x):
        self.saved = (x,)
        return x * x

    def backward(self, gy):
        (x,) = self.saved
        return 2 * x * gy


def test_refused_create_graph_changes_nothing():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    w = tr.tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="create_graph=True cannot go through it"):
        ((w * w).sum() + _ArrayOnlyBackward.apply(x).sum()).backward(create_graph=True)
    assert w.grad is None and x.grad is None


def test_a_users_op_without_a_differentiable_backward_is_named_without_layer_advice():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="_ArrayOnlyBackward .*differentiable_backward = False") \
            as info:
        _ArrayOnlyBackward.apply(x).sum().backward(create_graph=True)
    assert "impl=" not in str(info.value) and x.grad is None


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


def test_apply_names_a_non_tensor_input_before_a_device_mismatch():
    from tinygrad_rnn.ops.elementwise import Add

    with pytest.raises(TypeError, match="input 2 is a int"):
        Add.apply(tr.ones(2), tr.ones(2, device="strict"), 3)
    with pytest.raises(ValueError, match="different devices: 'cpu' and 'strict'"):
        Add.apply(tr.ones(2), tr.ones(2, device="strict"))


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
    a = tr.ones(3, device="strict")._data
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


class _Mul(tr.Function):
    """x0 * x1, with a backward that returns what ``result`` says (to test the checks)."""

    result = "right"

    def forward(self, x0, x1):
        if x0.shape[-1] == 0:
            raise ValueError("my own check failed")
        self.saved = (x0, x1)
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.saved
        return {"right": lambda: (gy * x1, gy * x0), "list": lambda: [gy * x1, gy * x0],
                "three": lambda: (gy * x1, gy * x0, gy), "one": lambda: gy * x1,
                "number": lambda: (2.0, gy * x0),
                "extra axis": lambda: ((gy * x1)[None].repeat(2, 0), gy * x0)}[self.result]()


@pytest.mark.parametrize(("result", "match"), [
    ("three", r"_Mul.backward returned 3 gradient\(s\) for 2 input\(s\)"),
    ("one", r"_Mul.backward returned 1 gradient\(s\) for 2 input\(s\)"),
    ("number", r"gradient of shape \(\) for an input of shape \(3,\)"),
])
def test_a_backward_that_returns_the_wrong_gradients_is_named(monkeypatch, result, match):
    a = tr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = tr.tensor([4.0, 5.0, 6.0], requires_grad=True)
    monkeypatch.setattr(_Mul, "result", result)
    with pytest.raises(RuntimeError, match=match):
        _Mul.apply(a, b).sum().backward()


def test_a_backward_may_return_a_list_and_a_broadcast_gradient():
    a = tr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = tr.tensor([4.0, 5.0, 6.0], requires_grad=True)
    for result in ("list", "extra axis"):
        a.grad = b.grad = None
        _Mul.result = result
        try:
            _Mul.apply(a, b).sum().backward()
        finally:
            _Mul.result = "right"
        scale = 2 if result == "extra axis" else 1  # the extra axis is summed away
        np.testing.assert_array_equal(a.grad.numpy(), scale * b.numpy())
        np.testing.assert_array_equal(b.grad.numpy(), a.numpy())


def test_an_op_error_names_the_op_and_keeps_the_line_that_raised():
    with pytest.raises(ValueError, match=r"_Mul on inputs of shapes \(0,\), \(0,\): my own") as e:
        _Mul.apply(tr.zeros(0), tr.zeros(0))
    assert isinstance(e.value.__cause__, ValueError)  # its traceback has the op's own line


def test_apply_takes_tensors_as_positional_arguments():
    with pytest.raises(TypeError, match="input 1 is a float: the positional arguments must"):
        _Mul.apply(tr.ones(3), 1.0)
    with pytest.raises(TypeError, match="input 0 is a ndarray"):
        _Mul.apply(np.ones(3), tr.ones(3))


class _SmoothAbs(tr.Function):
    """y = sqrt(x² + 1) + max(x, 0) * sign(x) + |x|, written with the xp functions a backward
    may use under create_graph=True.  VJP: gy * (x / sqrt(x² + 1) + [x > 0] + sign(x))."""

    def forward(self, x):
        xp = self.xp
        self.saved = (x,)
        return xp.sqrt(x * x + 1) + xp.maximum(x, 0) * xp.sign(x) + xp.abs(x)

    def backward(self, gy):
        (x,) = self.saved
        xp = self.xp
        step = xp.where(x > 0, 1.0, 0.0)
        return gy * (x / xp.sqrt(x * x + 1) + xp.minimum(step, 1.0) + xp.sign(x)
                     + xp.zeros(x.shape) + xp.abs(x) * 0)


def test_backward_xp_functions_have_second_derivatives():
    from tinygrad_rnn.testing import gradcheck, gradgradcheck

    x = tr.tensor([-1.5, -0.3, 0.4, 2.0], dtype="float64", requires_grad=True)
    assert gradcheck(_SmoothAbs.apply, [x])
    assert gradgradcheck(_SmoothAbs.apply, [x])


def test_an_xp_function_missing_under_create_graph_is_named():
    class UsesExpm1(tr.Function):
        def forward(self, x):
            return self.xp.expm1(x)

        def backward(self, gy):
            return gy * self.xp.expm1(gy) * 0 + gy

    x = tr.tensor([0.5], dtype="float64", requires_grad=True)
    with pytest.raises(AttributeError, match="xp.expm1 is not available in backward under "
                                             "create_graph=True"):
        tr.grad(UsesExpm1.apply(x).sum(), [x], create_graph=True)


def test_requires_grad_after_use_does_not_reach_back():
    """As PyTorch: an op records which inputs needed a gradient when it ran; a leaf that
    starts requiring grad afterwards gets none from that op, but does from later ones."""
    x, w = tr.ones(2), tr.ones(2, requires_grad=True)
    early = (x * w).sum()
    x.requires_grad_()
    (early + (x * 3).sum()).backward()
    assert x.grad.numpy().tolist() == [3.0, 3.0] and w.grad.numpy().tolist() == [1.0, 1.0]


def test_complex_gradients_flow_only_through_ops_written_for_them():
    """Complex leaves may require grad and complex results carry gradients through the ops
    whose backward is written for complex numbers (``complex_ok``); any other op meeting a
    complex array while recording is refused by name, never given a wrong gradient."""
    z = np.array([1 + 2j, 3 - 1j])
    t = tr.tensor(z, requires_grad=True)
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    assert x.to(tr.complex128).requires_grad
    with pytest.raises(TypeError, match="Relu does not support complex gradients"):
        t.relu()
    with pytest.raises(TypeError, match="Xlogy does not support complex gradients"):
        (x * t).xlogy(t)
    w = x.detach().to(np.complex128) * tr.tensor(z)  # without gradients: as NumPy
    np.testing.assert_array_equal(w.numpy(), np.array([1.0, 2.0]) * z)


@pytest.mark.torch
def test_differential_fuzzing_findings_behave_as_torch():
    """Found by tests/test_differential.py: each now as PyTorch."""
    torch = pytest.importorskip("torch")
    F = tr.nn.functional
    s = tr.tensor(np.float64(1.5))
    assert s.movedim(0, 0).item() == s.transpose(0, 0).item() == s.permute(()).item() == 1.5
    x = tr.ones(2, 3)
    for bad, kind in [(lambda: x.permute(()), ValueError), (lambda: x.unbind(5), IndexError),
                      (lambda: tr.stack([x[0], x[0]], -3), IndexError),
                      (lambda: tr.bmm(tr.ones(1, 2, 1), tr.ones(2, 1, 1)), ValueError),
                      (lambda: F.linear(tr.ones(1, 2), tr.ones(1, 2), tr.ones(2)), ValueError),
                      (lambda: F.linear(tr.ones(1, 1, 1), tr.ones(1, 1, 1)), ValueError)]:
        with pytest.raises(kind):
            bad()
    a = np.array([[1.0], [2.0]])
    for lib in (tr, torch):  # an advanced index's result is contiguous: view and writes work
        t = lib.tensor(a)
        assert t[:, [0, 0]].is_contiguous() and t[:, [0, 0]].view(-1).tolist() == [1, 1, 2, 2]
        c = t[:, [0, 0]].clone()
        c.reshape(-1).add_(1)
        assert c.tolist() == [[2, 2], [3, 3]]
    grads = []
    for lib in (tr, torch):
        x = lib.tensor([0.1, float("nan")], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([0.3, 0.2], dtype=lib.float64, requires_grad=True)
        z = lib.tensor([0.5, 0.5], dtype=lib.float64, requires_grad=True)
        logits = lib.tensor([math.inf, 0.5], dtype=lib.float64, requires_grad=True)
        target = lib.tensor([0.53, 0.2], dtype=lib.float64)
        out = (lib.maximum(x, y) * lib.tensor([math.nan, 1.0], dtype=lib.float64)).sum() \
            + x.clamp(max=z).sum()
        out.backward()
        bce = lib.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
        bce.sum().backward()
        grads.append([x.grad.numpy(), y.grad.numpy(), z.grad.numpy(), bce.detach().numpy(),
                      logits.grad.numpy()])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-14)

"""The learning instruments that listen to the engine: ``tr.trace`` and ``tr.detect_anomaly``."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn.autograd import _HOOKS

B, I, H = 2, 3, 4


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


@pytest.fixture
def lstm_step():
    """One LSTM step in float64: inputs as NumPy arrays and as tensors."""
    rng = np.random.default_rng(0)
    arrays = {
        "x": rng.standard_normal((B, I)), "h": rng.standard_normal((B, H)),
        "c": rng.standard_normal((B, H)), "w_ih": rng.standard_normal((4 * H, I)),
        "w_hh": rng.standard_normal((4 * H, H)), "b_ih": rng.standard_normal(4 * H),
        "b_hh": rng.standard_normal(4 * H), "v": rng.standard_normal((B, H)),
    }
    tensors = {k: tr.tensor(a, requires_grad=k.startswith(("w", "b"))) for k, a in
               arrays.items()}
    return arrays, tensors


def _run_step(t):
    h, c = F.lstm_cell(t["x"], (t["h"], t["c"]), t["w_ih"], t["w_hh"], t["b_ih"], t["b_hh"])
    return (h * t["v"]).sum()


def test_trace_lstm_step_records_every_op_with_shapes(lstm_step):
    _, t = lstm_step
    with tr.trace() as tape:
        loss = _run_step(t)
        loss.backward()
    fwd = [r for r in tape.records if r.phase == "forward"]
    bwd = [r for r in tape.records if r.phase == "backward"]
    assert [r.op for r in fwd] == [
        "Transpose", "MatMul", "Add", "Transpose", "MatMul", "Add", "Add", "Split",
        "Sigmoid", "Sigmoid", "Tanh", "Sigmoid", "Mul", "Mul", "Add", "Tanh", "Mul", "Mul", "Sum"]
    assert [r.index for r in fwd] == list(range(len(fwd)))
    assert fwd[1].input_shapes == ((B, I), (I, 4 * H)) and fwd[1].output_shapes == ((B, 4 * H),)
    assert fwd[7].output_shapes == ((B, H),) * 4
    assert fwd[-1].output_shapes == ((),)
    # every op needs a gradient here, so each one's backward is recorded once, in reverse order
    assert sorted(r.index for r in bwd) == list(range(len(fwd)))
    assert bwd[0].op == "Sum" and bwd[0].gy_norms == (1.0,)
    for r in bwd:
        assert r.op == fwd[r.index].op and r.input_shapes == fwd[r.index].input_shapes


def test_trace_lstm_step_gradient_norms_match_manual(lstm_step):
    a, t = lstm_step
    with tr.trace() as tape:
        _run_step(t).backward()
    # the same step and its gradients, by hand
    gates = a["x"] @ a["w_ih"].T + a["b_ih"] + a["h"] @ a["w_hh"].T + a["b_hh"]
    zi, zf, zg, zo = np.split(gates, 4, axis=1)
    i, f, g, o = _sigmoid(zi), _sigmoid(zf), np.tanh(zg), _sigmoid(zo)
    c = f * a["c"] + i * g
    dh = a["v"]
    do = dh * np.tanh(c)
    dc = dh * o * (1 - np.tanh(c) ** 2)
    di, df, dg = dc * g, dc * a["c"], dc * i
    dz = [di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)]
    norm = np.linalg.norm

    by_index = {r.index: r for r in tape.records if r.phase == "backward"}
    fwd = [r for r in tape.records if r.phase == "forward"]
    sig = [r.index for r in fwd if r.op == "Sigmoid"]  # made in the order i, f, o
    for k, (gy, gx) in zip(sig, [(di, dz[0]), (df, dz[1]), (do, dz[3])]):
        np.testing.assert_allclose(by_index[k].gy_norms, [norm(gy)], rtol=1e-12)
        np.testing.assert_allclose(by_index[k].gx_norms, [norm(gx)], rtol=1e-12)
    split = by_index[7]
    assert split.op == "Split"
    np.testing.assert_allclose(split.gy_norms, [norm(d) for d in dz], rtol=1e-12)
    np.testing.assert_allclose(split.gx_norms, [norm(np.concatenate(dz, 1))], rtol=1e-12)
    # the bias add passes the gradient on summed back to the bias's shape (4H,)
    bias_add = by_index[2]
    dgates = np.concatenate(dz, 1)
    np.testing.assert_allclose(bias_add.gx_norms, [norm(dgates), norm(dgates.sum(0))],
                               rtol=1e-12)
    # x needs no gradient: the MatMul passes on only W_ih's (through the transpose)
    mm = by_index[1]
    assert mm.gx_norms[0] is None
    np.testing.assert_allclose(mm.gx_norms[1], norm(a["x"].T @ dgates), rtol=1e-12)


def test_trace_table_is_printable(lstm_step):
    _, t = lstm_step
    with tr.trace() as tape:
        _run_step(t).backward()
    text = tape.table()
    lines = text.splitlines()
    assert lines[0].split() == ["#", "pass", "op", "input", "shapes", "output", "shapes", "|gy|",
                                "|gx|"]
    assert len(lines) == 2 + len(tape.records)
    assert any(ln.split()[1:4] == ["forward", "MatMul", f"({B},{I})"] for ln in lines)
    assert any(ln.split()[1:3] == ["backward", "Split"] for ln in lines)
    assert str(tape) == text


def test_trace_is_off_outside_its_block(lstm_step):
    _, t = lstm_step
    with tr.trace() as tape:
        assert _HOOKS.active
    _run_step(t).backward()
    assert tape.records == [] and not _HOOKS.active and _HOOKS.listeners == []


def test_trace_of_op_made_before_the_trace_has_no_index():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with tr.trace() as tape:
        y.backward()
    assert [r.op for r in tape.records] == ["Sum", "Mul"]
    assert all(r.index == -1 and r.phase == "backward" for r in tape.records)
    assert tape.records[1].output_shapes == ((2,),)
    # an op with several outputs, one of them unused: its shape is unknown here, not ()
    a, b = tr.split(tr.tensor([1.0, 2.0, 3.0], requires_grad=True), [1, 2])
    z = b.sum()
    with tr.trace() as tape:
        z.backward()
    split = next(r for r in tape.records if r.op != "Sum")
    assert split.output_shapes == (None, (2,)) and " ? (2,) " in tape.table()


# ---- anomaly detection ---------------------------------------------------------------------


def test_detect_anomaly_names_log_and_the_line_that_made_it():
    with np.errstate(divide="ignore"), tr.detect_anomaly(), pytest.raises(RuntimeError) as err:
        line = sys._getframe().f_lineno + 1
        tr.tensor([0.0]).log()
    msg = str(err.value)
    assert "Log" in msg and "forward" in msg and "inf" in msg
    assert f"test_debug.py:{line}" in msg
    assert "tr.tensor([0.0]).log()" in msg  # the source line itself


def test_detect_anomaly_in_backward_names_the_op_and_its_line():
    x = tr.tensor([0.0, 4.0], requires_grad=True)
    with np.errstate(divide="ignore"), tr.detect_anomaly():
        line = sys._getframe().f_lineno + 1
        y = x.sqrt()  # finite: sqrt(0) = 0, but its derivative 1 / (2 sqrt(0)) is not
        with pytest.raises(RuntimeError) as err:
            y.sum().backward()
    msg = str(err.value)
    assert "Sqrt.backward" in msg and "backward pass" in msg and "inf" in msg
    assert "received was finite" in msg
    assert f"test_debug.py:{line}" in msg


def test_detect_anomaly_reports_nan_from_a_deep_graph():
    x = tr.tensor([-1.0, 1.0], requires_grad=True)
    with np.errstate(invalid="ignore"), tr.detect_anomaly(), pytest.raises(RuntimeError) as e:
        y = (x * 2).tanh()
        line = sys._getframe().f_lineno + 1
        (y + 0.5).sqrt()  # tanh(-2) + 0.5 < 0
    assert "Sqrt" in str(e.value) and "NaN (1 of 2 values)" in str(e.value)
    assert f"test_debug.py:{line}" in str(e.value)


def test_detect_anomaly_says_when_the_input_was_already_bad():
    x = tr.tensor([np.nan, 1.0])
    with tr.detect_anomaly(), pytest.raises(RuntimeError, match="input 0 already held NaN"):
        x * 2


def test_detect_anomaly_for_an_op_made_before_it_began():
    x = tr.tensor([0.0], requires_grad=True)
    y = x.sqrt()
    with np.errstate(divide="ignore"), tr.detect_anomaly():
        with pytest.raises(RuntimeError, match="made before detect_anomaly"):
            y.backward()


def test_detect_anomaly_passes_finite_computations_through():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    with tr.detect_anomaly():
        (x.log() * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.log([1.0, 2.0]) + 1, rtol=1e-6)


def test_detection_off_does_nothing():
    assert not _HOOKS.active
    with np.errstate(divide="ignore"):
        y = tr.tensor([0.0]).log()  # no error: -inf, as NumPy gives
        x = tr.tensor([0.0], requires_grad=True)
        x.sqrt().backward()
    assert np.isneginf(y.numpy()).all() and np.isposinf(x.grad.numpy()).all()


def test_detect_anomaly_and_trace_together():
    x = tr.tensor([0.0], requires_grad=True)
    with np.errstate(divide="ignore"), tr.trace() as tape, tr.detect_anomaly():
        y = x.sqrt()
        with pytest.raises(RuntimeError, match="Sqrt"):
            y.backward()
    assert [(r.phase, r.op) for r in tape.records] == [("forward", "Sqrt"), ("backward", "Sqrt")]
    assert not _HOOKS.active and _HOOKS.listeners == []


def test_detect_anomaly_with_create_graph():
    x = tr.tensor([0.5, 2.0], requires_grad=True)
    with tr.detect_anomaly():
        (gx,) = tr.grad((x * x * x).sum(), x, create_graph=True)
        gx.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([0.5, 2.0]))


def test_detect_anomaly_under_create_graph_names_the_backward_not_a_forward_pass():
    x = tr.tensor([0.0], requires_grad=True)
    with np.errstate(divide="ignore"), tr.detect_anomaly():
        y = x.sqrt()  # finite; its derivative 1 / (2 sqrt x) is inf at 0
        with pytest.raises(RuntimeError) as err:
            tr.grad(y.sum(), x, create_graph=True)
    msg = str(err.value)
    assert msg.startswith("detect_anomaly: in the backward pass, while create_graph=True "
                          "recorded Sqrt.backward as ops, the output of Div holds inf")
    assert "tr.grad(y.sum(), x, create_graph=True)" in msg and "y = x.sqrt()" in msg
    assert _HOOKS.recording is None  # reset, even though backward raised


def test_detect_anomaly_under_create_graph_names_an_overflowing_sum_of_gradients():
    x = tr.tensor(np.array([1.0], np.float32), requires_grad=True)
    with np.errstate(over="ignore"), tr.detect_anomaly():
        (x * 2e38).sum().backward(create_graph=True)  # finite: x.grad = 2e38
        with pytest.raises(RuntimeError, match="sums of gradients that meet .* Its inputs are "
                           "finite: their sum overflowed"):
            (x * 2e38).sum().backward(create_graph=True)  # 4e38 > float32's largest
        y = x * 1e-30  # two finite gradients meeting at y overflow there
        with pytest.raises(RuntimeError, match="sums of gradients that meet"):
            (y * 2e38 + y * 2e38).sum().backward(create_graph=True)
    assert _HOOKS.recording is None


def test_detect_anomaly_catches_an_overflow_when_gradients_accumulate():
    x = tr.tensor([1.0, 0.0], requires_grad=True)  # float32
    with np.errstate(over="ignore"), tr.detect_anomaly():
        (x * 2e38).sum().backward()  # finite: x.grad = [2e38, 2e38]
        with pytest.raises(RuntimeError, match=r"shape \(2,\) \(float32\) gave inf .*overflowed"):
            (x * 2e38).sum().backward()  # 2e38 + 2e38 > float32's largest, 3.4e38


def test_detect_anomaly_catches_a_bad_gradient_given_to_backward():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    with tr.detect_anomaly():
        with pytest.raises(RuntimeError, match="given to backward.. holds NaN"):
            x.backward(tr.tensor([1.0, np.nan]))  # on a leaf: no op would see it
        with pytest.raises(RuntimeError, match="given to backward.. holds inf"):
            (x * 2).backward(tr.tensor([np.inf, 1.0]))
    assert x.grad is None


def test_detect_anomaly_checks_retained_gradients():
    x = tr.tensor([1.0], requires_grad=True)
    with np.errstate(over="ignore"), tr.detect_anomaly():
        h = x * 1
        h.retain_grad()
        loss = (h * 2e38).sum()
        loss.backward(retain_graph=True)
        with pytest.raises(RuntimeError, match=r"shape \(1,\) .*overflowed"):
            loss.backward()


def test_detect_anomaly_says_when_a_grad_was_already_bad():
    x = tr.tensor([1.0], requires_grad=True)
    with np.errstate(invalid="ignore", over="ignore"):
        (x * np.inf).sum().backward()  # outside: x.grad = inf
        with tr.detect_anomaly(), pytest.raises(
                RuntimeError, match=r"already held inf \(1 of 1 values\) before"):
            (x * 2).sum().backward()


def test_detect_anomaly_ignores_gradients_no_input_needs():
    """x * c with c a constant: Mul's gradient for c overflows, and the engine drops it."""
    x, c = tr.tensor([1e30], requires_grad=True), tr.tensor([1e-30])
    with tr.detect_anomaly(), np.errstate(over="ignore"):
        (x * c * 1e30).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0], rtol=1e-5)


def test_trace_norms_neither_underflow_nor_overflow_in_float32():
    for scale in (1e-25, 1e20):
        a = tr.tensor([1.0, 1.0], requires_grad=True)
        with tr.trace() as t:
            (a * scale).sum().backward()
        norm = t.records[-1].gx_norms[0]
        np.testing.assert_allclose(norm, scale * np.sqrt(2), rtol=1e-6)

"""``tr.viz``: the DOT text of a graph, parsed back; collapsed and expanded time steps."""

from __future__ import annotations

import re
import shutil
from collections import Counter

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn

NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$')
EDGE = re.compile(r'^\s*(\w+) -> (\w+)(?: \[label="((?:[^"\\]|\\.)*)"\])?;$')
CLUSTER = re.compile(r"^\s*subgraph (cluster_\w+) \{$")


def parse(dot: str) -> tuple[dict[str, dict], list[tuple[str, str, str]]]:
    """A tiny DOT reader for what to_dot writes: nodes (name -> label lines, attributes and
    cluster) and edges (source, target, label)."""
    lines = dot.strip().splitlines()
    assert lines[0] == "digraph tinygrad_rnn {" and lines[-1] == "}"
    nodes: dict[str, dict] = {}
    edges = []
    cluster = None
    for ln in lines[1:-1]:
        if m := CLUSTER.match(ln):
            cluster = m.group(1)
        elif ln.strip() == "}":
            cluster = None
        elif m := NODE.match(ln):
            assert m.group(1) not in nodes, f"node {m.group(1)} declared twice"
            nodes[m.group(1)] = {"label": m.group(2).split("\\n"), "attrs": m.group(3),
                                 "cluster": cluster}
        elif m := EDGE.match(ln):
            edges.append((m.group(1), m.group(2), m.group(3) or ""))
    for a, b, _ in edges:
        assert a in nodes and b in nodes, f"edge {a} -> {b} between undeclared nodes"
    return nodes, edges


def ops(nodes):
    return {k: v for k, v in nodes.items() if k.startswith("op")}


def steps(nodes):
    return {k: v for k, v in nodes.items() if v["label"][0].startswith(("step", "l0"))
            and "box3d" in v["attrs"]}


@pytest.fixture
def cell():
    tr.manual_seed(0)
    return nn.LSTMCell(3, 5, impl="composed")


def test_to_dot_one_lstm_step(cell):
    x = tr.randn(2, 3)
    h, c = cell(x)
    nodes, edges = parse(tr.viz.to_dot(h, params=cell))
    names = Counter(v["label"][0] for v in ops(nodes).values())
    assert names == {"Transpose": 2, "MatMul": 2, "Add": 4, "Split": 1, "Sigmoid": 3,
                     "Tanh": 2, "Mul": 3}
    # parameters by name, with shape and dtype; x, h0 and c0 are unnamed leaves
    labels = {v["label"][0]: v["label"] for v in nodes.values()}
    assert labels["weight_ih"] == ["weight_ih", "(20, 3) float32"]
    assert labels["weight_hh"] == ["weight_hh", "(20, 5) float32"]
    assert labels["bias_ih"] == ["bias_ih", "(20,) float32"]
    assert labels["bias_hh"] == ["bias_hh", "(20,) float32"]
    assert len(nodes) == 17 + 4 + 3 + 1  # ops, parameters, x h0 c0, the output
    assert nodes["out"]["label"] == ["(2, 5) float32"]
    assert "doubleoctagon" in nodes["out"]["attrs"]
    # one edge per op input, plus the output's
    assert len(edges) == 2 * 1 + 2 * 2 + 4 * 2 + 1 + 3 * 1 + 2 * 1 + 3 * 2 + 1
    split = next(k for k, v in nodes.items() if v["label"] == ["Split"])
    assert sorted(lab for a, _, lab in edges if a == split) == [
        f"out {k}: (2, 5) float32" for k in range(4)]
    # every gate reads its block of the Split
    gates = Counter(nodes[b]["label"][0] for a, b, _ in edges if a == split)
    assert gates == {"Sigmoid": 3, "Tanh": 1}


def test_to_dot_params_as_dict_and_without(cell):
    h, _ = cell(tr.randn(2, 3))
    named, _ = parse(tr.viz.to_dot(h, params={"W": cell.weight_ih}))
    assert ["W", "(20, 3) float32"] in [v["label"] for v in named.values()]
    plain, _ = parse(tr.viz.to_dot(h))
    assert not any("weight" in v["label"][0] for v in plain.values())
    with pytest.raises(TypeError, match="params"):
        tr.viz.to_dot(h, params=[cell.weight_ih])


def test_to_dot_shows_constants_and_repeated_inputs():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    nodes, edges = parse(tr.viz.to_dot(x * x + 3))
    assert Counter(v["label"][0] for v in ops(nodes).values()) == {"Mul": 1, "Add": 1}
    mul = next(k for k, v in nodes.items() if v["label"] == ["Mul"])
    assert sum(1 for _, b, _ in edges if b == mul) == 2  # x * x: two arrows from x
    assert ["3", "() float32"] in [v["label"] for v in nodes.values()]


def test_to_dot_of_a_leaf():
    nodes, edges = parse(tr.viz.to_dot(tr.tensor([1.0, 2.0])))
    assert len(nodes) == 1 and not edges
    assert "doubleoctagon" in next(iter(nodes.values()))["attrs"]


def test_to_dot_long_chain_has_no_recursion_limit():
    x = tr.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    nodes, edges = parse(tr.viz.to_dot(y))
    assert len(ops(nodes)) == 5000


def test_to_dot_100_step_composed_lstm_collapsed():
    tr.manual_seed(0)
    T = 100
    lstm = nn.LSTM(3, 8, impl="composed")
    out, _ = lstm(tr.randn(T, 2, 3))
    nodes, edges = parse(tr.viz.to_dot(out.sum(), params=lstm, collapse_steps=True))
    st = steps(nodes)
    assert sorted(v["label"][0] for v in st.values()) == sorted(f"step {t}" for t in range(T))
    assert {v["label"][1] for v in st.values()} == {"14 ops"}  # every step, the same cell
    by_t = {int(v["label"][0].split()[1]): k for k, v in st.items()}
    pairs = {(a, b) for a, b, _ in edges}
    for t in range(T - 1):
        assert (by_t[t], by_t[t + 1]) in pairs  # the recurrence, h and c on one arrow
        assert [lab for a, b, lab in edges if (a, b) == (by_t[t], by_t[t + 1])] == [
            "(2, 8) float32"]
    # outside the steps: the two biases' sum and the input projection before the loop, the
    # output's Cat and the loss
    assert Counter(v["label"][0] for v in ops(nodes).values()) == {
        "Transpose": 1, "MatMul": 1, "Add": 2, "Split": 1, "Cat": 1, "Sum": 1}
    w_hh = next(k for k, v in nodes.items() if v["label"][0] == "weight_hh_l0")
    assert {b for a, b, _ in edges if a == w_hh} == set(st)  # each step uses W_hh once
    assert len(nodes) == T + 7 + 4 + 3 + 1  # steps, ops, parameters, x h0 c0, output


def test_to_dot_expand_one_step_shows_its_gates():
    tr.manual_seed(0)
    lstm = nn.LSTM(3, 8, impl="composed")
    out, _ = lstm(tr.randn(10, 2, 3))
    nodes, edges = parse(tr.viz.to_dot(out.sum(), params=lstm, expand=4))
    st = steps(nodes)
    assert sorted(int(v["label"][0].split()[1]) for v in st.values()) == [
        t for t in range(10) if t != 4]
    inside = {k: v for k, v in nodes.items() if v["cluster"] is not None}
    assert Counter(v["label"][0] for v in inside.values()) == {
        "Transpose": 1, "MatMul": 1, "Add": 2, "Split": 1, "Sigmoid": 3, "Tanh": 2, "Mul": 3,
        "Reshape": 1}
    by_t = {int(v["label"][0].split()[1]): k for k, v in st.items()}
    # step 3 feeds the expanded step's matmul (h) and its forget-gate product (c)
    targets = {nodes[b]["label"][0] for a, b, _ in edges if a == by_t[3] and b in inside}
    assert targets == {"MatMul", "Mul"}
    # and hands step 5 its h (the last Mul) and c (the Add)
    sources = {nodes[a]["label"][0] for a, b, _ in edges if b == by_t[5] and a in inside}
    assert sources == {"Mul", "Add"}
    with pytest.raises(ValueError, match="no time step 10"):
        tr.viz.to_dot(out.sum(), expand=10)


def test_to_dot_bidirectional_layers_name_their_steps():
    tr.manual_seed(0)
    gru = nn.GRU(3, 4, num_layers=2, bidirectional=True, impl="composed")
    out, _ = gru(tr.randn(5, 1, 3))
    nodes, _ = parse(tr.viz.to_dot(out.sum(), collapse_steps=True))
    labels = sorted(v["label"][0] for v in nodes.values() if "box3d" in v["attrs"])
    assert labels == sorted(f"l{k}{d} step {t}" for k in range(2) for d in ("", "_reverse")
                            for t in range(5))


def test_viz_step_marks_a_hand_written_loop():
    tr.manual_seed(0)
    T, H = 6, 4
    w_ih, w_hh = tr.randn(4 * H, 3, requires_grad=True), tr.randn(4 * H, H, requires_grad=True)
    x = tr.randn(T, 2, 3)
    h = c = tr.zeros(2, H)
    for t in range(T):
        with tr.viz.step(t):
            h, c = F.lstm_cell(x[t], (h, c), w_ih, w_hh)
    loss = (h * h).sum()
    nodes, edges = parse(tr.viz.to_dot(loss, params={"w_ih": w_ih, "w_hh": w_hh},
                                       collapse_steps=True))
    st = steps(nodes)
    assert sorted(v["label"] for v in st.values()) == sorted(
        [f"step {t}", "15 ops"] for t in range(T))  # both matmuls too (no biases here)
    assert Counter(v["label"][0] for v in ops(nodes).values()) == {"Mul": 1, "Sum": 1}
    assert not tr.autograd._HOOKS.active


def test_to_dot_refuses_what_it_cannot_draw():
    tr.manual_seed(0)
    lstm = nn.LSTM(3, 4)  # fused: the whole sequence is one op
    out, _ = lstm(tr.randn(5, 1, 3))
    with pytest.raises(ValueError, match="no op of this graph belongs to a time step"):
        tr.viz.to_dot(out, collapse_steps=True)
    nodes, _ = parse(tr.viz.to_dot(out))
    assert "LSTMSequence" in {v["label"][0] for v in nodes.values()}
    loss = out.sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="freed by backward"):
        tr.viz.to_dot(loss)
    with pytest.raises(TypeError):
        tr.viz.to_dot(np.ones(3))


def test_render_without_graphviz_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` there
    with pytest.raises(RuntimeError, match="apt-get install graphviz") as err:
        tr.viz.render(tr.tensor([1.0]), tmp_path / "g.svg")
    assert "brew install graphviz" in str(err.value) and "conda install" in str(err.value)


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot program")
def test_render_writes_an_svg(cell, tmp_path):
    h, _ = cell(tr.randn(2, 3))
    path = tr.viz.render(h, tmp_path / "cell.svg", params=cell)
    text = path.read_text()
    assert "<svg" in text and "weight_hh" in text and "Sigmoid" in text

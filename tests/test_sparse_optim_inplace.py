"""Optimizer steps on sparse gradients write only the gradient's rows, in place, as torch's:
the parameter and its state keep their arrays (a step costs the rows, not the table), each
write counts once in ``_version`` as torch's does, and what else holds the values (a graph
that saved them, a view, ``x.data``) is served as before: the graph keeps the forward's
values (copy on write, docs/pytorch.md), a view sees the new ones. Also the row-wise
``scatter_add`` against ``np.add.at``, bit for bit."""

from __future__ import annotations

import warnings
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn.backend import scatter_add

STEPPERS = {
    "SparseAdam": lambda lib, ps: lib.optim.SparseAdam(ps, lr=0.05),
    "SGD": lambda lib, ps: lib.optim.SGD(ps, lr=0.1),
    "SGD-momentum": lambda lib, ps: lib.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "Adagrad": lambda lib, ps: lib.optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
}


def _stepped(emb, opt, index) -> None:
    emb(tr.tensor(index)).sum().backward()
    opt.step()
    opt.zero_grad()


def _arrays(opt, p) -> dict[str, tr.Tensor]:
    """p and its dense state tensors, by name."""
    out = {"param": p}
    out.update({n: t for n, t in opt.state[p].items() if isinstance(t, tr.Tensor) and t.ndim})
    return out


@pytest.mark.parametrize("name", sorted(STEPPERS))
def test_sparse_step_keeps_the_arrays(name):
    emb = nn.Embedding(20, 3, sparse=True)
    opt = STEPPERS[name](tr, emb.parameters())
    _stepped(emb, opt, [1, 2, 1])
    # (weak references: holding the arrays would make the step copy them)
    before = {n: weakref.ref(t._data) for n, t in _arrays(opt, emb.weight).items()}
    for index in ([3, 4], [4, 4, 0], [19]):
        _stepped(emb, opt, index)
    after = _arrays(opt, emb.weight)
    assert after.keys() == before.keys()
    assert all(before[n]() is t._data for n, t in after.items())


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(STEPPERS))
def test_sparse_step_versions_match_torch(name):
    torch = pytest.importorskip("torch")
    versions = []
    for lib in (tr, torch):
        emb = lib.nn.Embedding(6, 2, sparse=True)
        opt = STEPPERS[name](lib, emb.parameters())
        seen = []
        for index in ([1, 2, 1], [0, 5]):
            emb(lib.tensor(index)).sum().backward()
            state = opt.state[emb.weight]
            held = {n: t for n, t in state.items()
                    if isinstance(t, lib.Tensor) and t.ndim and not t.is_sparse}
            v0 = {n: t._version for n, t in held.items()} | {"param": emb.weight._version}
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Sparse invariant checks")
                opt.step()
            held["param"] = emb.weight
            seen.append({n: t._version - v0.get(n, 0) for n, t in held.items()})
            opt.zero_grad()
        versions.append(seen)
    assert versions[0] == versions[1]


@pytest.mark.parametrize("name", sorted(STEPPERS))
def test_sparse_step_leaves_a_saved_graph_its_values(name):
    """A graph that saved the parameter before the step differentiates the forward as it ran
    (torch refuses that backward; the documented copy on write here)."""
    emb = nn.Embedding(5, 2, sparse=True)
    opt = STEPPERS[name](tr, emb.parameters())
    w = emb.weight
    old = w.detach().clone().numpy()
    y = (w * w).sum()  # saves w's array
    emb(tr.tensor([0, 3])).sum().backward()
    opt.step()
    assert not np.array_equal(w.detach().numpy(), old)  # the step happened
    w.grad = None
    y.backward()
    np.testing.assert_array_equal(w.grad.numpy(), 2 * old)


@pytest.mark.parametrize("held", ["detach", "data", "row"])
def test_sparse_step_reaches_views(held):
    emb = nn.Embedding(5, 2, sparse=True)
    opt = optim.SparseAdam(emb.parameters(), lr=0.1)
    w = emb.weight
    view = {"detach": lambda: w.detach(), "data": lambda: w.data, "row": lambda: w.data[3]}[held]()
    emb(tr.tensor([3, 1])).sum().backward()
    v0 = w._version
    opt.step()
    assert w._version == v0 + 1
    whole = w.detach().numpy()
    np.testing.assert_array_equal(view.numpy(), whole[3] if held == "row" else whole)


def test_sparse_step_state_held_by_the_user():
    """A state tensor the user holds is the one the step updates; a copy of it is not."""
    emb = nn.Embedding(5, 2, sparse=True)
    opt = optim.SparseAdam(emb.parameters(), lr=0.1)
    _stepped(emb, opt, [0])
    m = opt.state[emb.weight]["exp_avg"]
    snapshot = m.clone()
    _stepped(emb, opt, [2])
    assert m is opt.state[emb.weight]["exp_avg"] and m[2].abs().sum().item() > 0
    assert snapshot[2].abs().sum().item() == 0


@given(st.data())
def test_scatter_add_rows_equals_add_at(data):
    """Whole rows at repeated places add up in their order: bit for bit NumPy's add.at."""
    shape = data.draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    k = data.draw(st.integers(1, len(shape) - 1))
    n = data.draw(st.integers(0, 12))
    index = tuple(np.array(data.draw(st.lists(st.integers(0, s - 1), min_size=n, max_size=n)),
                           dtype=np.int64) for s in shape[:k])
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    values = rng.standard_normal((n, *shape[k:])).astype(np.float32)
    target = rng.standard_normal(shape).astype(np.float32)
    expected = target.copy()
    np.add.at(expected, index, values)
    scatter_add(np, target, index, values)
    np.testing.assert_array_equal(target, expected)


def test_scatter_add_other_indices_fall_back():
    """Negative, out-of-range, sliced and broadcast indices go to add.at as they are."""
    t = np.zeros((3, 2))
    scatter_add(np, t, (np.array([-1, -1]),), np.ones((2, 2)))
    np.testing.assert_array_equal(t[2], [2, 2])
    scatter_add(np, t, (slice(None), np.array([0, 0])), np.ones((3, 2)))
    np.testing.assert_array_equal(t[:, 0], [2, 2, 4])
    with pytest.raises(IndexError):
        scatter_add(np, t, (np.array([3]),), np.ones((1, 2)))


def test_sparse_optim_benchmark_runs(monkeypatch, capsys):
    """benchmarks/bench_sparse_optim.py prints its table (a smoke run, tiny sizes)."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_sparse_optim.py"
    spec = importlib.util.spec_from_file_location("bench_sparse_optim_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", ["bench", "--rows", "30", "--dim", "4", "--batch", "5",
                                      "--steps", "3"])
    with warnings.catch_warnings():
        module.main()
    out = capsys.readouterr().out
    assert all(name in out for name in module.OPTIMIZERS)

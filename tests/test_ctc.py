"""CTC loss (``ops/ctc.py``, ``functional.ctc_loss``, ``nn.CTCLoss``): against torch's values
and gradients, and its own gradient against central differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn
from tinygrad_rnn.testing import gradcheck

from .conftest import DEVICES


@st.composite
def ctc_cases(draw, max_t=9):
    """Sizes, logits, targets (padded, labels 1..C-1 with repeats), lengths; some too long
    for their inputs (an infinite loss)."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(2, 5))
    t = draw(st.integers(1, max_t))
    s = draw(st.integers(0, 4))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    targets = rng.integers(1, c, (n, s)) if s else np.zeros((n, 0), np.int64)
    if s and draw(st.booleans()):
        targets[:, -1] = targets[:, 0]  # repeats need a blank between them
    input_lengths = rng.integers(0 if draw(st.booleans()) else 1, t + 1, n)
    target_lengths = rng.integers(0, s + 1, n)
    return rng.standard_normal((t, n, c)), targets, input_lengths, target_lengths


@pytest.mark.torch
@given(case=ctc_cases(), reduction=st.sampled_from(["none", "mean", "sum"]),
       zero_infinity=st.booleans(), flat=st.booleans())
def test_ctc_loss_matches_torch(case, reduction, zero_infinity, flat):
    torch = pytest.importorskip("torch")
    logits, targets, il, tl = case
    if flat:  # the 1-D form: each target's labels one after another
        targets = np.concatenate([targets[n, :tl[n]] for n in range(len(tl))])
    x = tr.tensor(logits, requires_grad=True)
    ours = F.ctc_loss(x.log_softmax(-1), targets, il, tl, reduction=reduction,
                      zero_infinity=zero_infinity)
    xt = torch.tensor(logits, requires_grad=True)
    theirs = torch.nn.functional.ctc_loss(xt.log_softmax(-1), torch.tensor(targets),
                                          torch.tensor(il), torch.tensor(tl),
                                          reduction=reduction, zero_infinity=zero_infinity)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10)
    finite = np.isfinite(theirs.detach().numpy()).all()
    if finite:
        ours.sum().backward()
        theirs.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@given(case=ctc_cases(max_t=6))
def test_ctc_gradient_is_that_of_central_differences(device, case):
    logits, targets, il, tl = case
    il = np.maximum(il, 2 * tl.max(initial=0) + 1)[: len(il)].clip(max=logits.shape[0])
    lp = tr.tensor(logits, device=device, requires_grad=True)

    def f(a):
        return F.ctc_loss(a, targets, il, tl, reduction="sum", zero_infinity=True)

    assert gradcheck(f, [lp])


@pytest.mark.torch
def test_the_module_and_one_unbatched_sequence_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((7, 4))
    ours = nn.CTCLoss(blank=3)(tr.tensor(logits).log_softmax(-1), [0, 1, 1], 7, 3)
    theirs = torch.nn.CTCLoss(blank=3)(torch.tensor(logits).log_softmax(-1),
                                       torch.tensor([0, 1, 1]), torch.tensor(7),
                                       torch.tensor(3))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    too_long = F.ctc_loss(tr.tensor(logits).log_softmax(-1), [0, 1, 1], 2, 3, blank=3,
                          reduction="none")
    assert too_long.item() == np.inf


@pytest.mark.torch
def test_an_impossible_alignment_has_gradient_nan_as_torch():
    torch = pytest.importorskip("torch")
    logits = np.random.default_rng(1).standard_normal((2, 2, 3))
    grads = []
    for m in (tr, torch):
        x = m.tensor(logits, requires_grad=True)
        loss = m.nn.functional.ctc_loss(x.log_softmax(-1), m.tensor([[1, 1], [1, 2]]),
                                        m.tensor([1, 2]), m.tensor([2, 2]), reduction="none")
        loss.sum().backward()  # sequence 0: two 1s need 3 steps, it has 1
        grads.append(x.grad.numpy())
    assert np.isnan(grads[0][0, 0]).all() and not np.isnan(grads[0][1, 0]).any()
    assert not np.isnan(grads[0][:, 1]).any()
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)
    x = tr.tensor(logits, requires_grad=True)
    F.ctc_loss(x.log_softmax(-1), [[1, 1], [1, 2]], [1, 2], [2, 2], zero_infinity=True,
               reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], 0.0)


def test_bad_input_is_named():
    lp = tr.zeros(5, 2, 4)
    with pytest.raises(ValueError, match=r"target 0 holds \[1, 0\]: labels must be classes in "
                                         r"\[0, 4\) other than blank 0"):
        F.ctc_loss(lp, [[1, 0], [1, 2]], [5, 5], [2, 2])
    with pytest.raises(ValueError, match=r"input_lengths must be in \[0, 5\], got \[6, 5\]"):
        F.ctc_loss(lp, [[1, 2], [1, 2]], [6, 5], [2, 2])
    with pytest.raises(ValueError, match=r"target_lengths must have one entry per sequence"):
        F.ctc_loss(lp, [[1, 2], [1, 2]], [5, 5], [2])
    with pytest.raises(ValueError, match=r"1-D targets hold 3 labels, but target_lengths sum "
                                         r"to 4"):
        F.ctc_loss(lp, [1, 2, 3], [5, 5], [2, 2])
    with pytest.raises(TypeError, match="targets must be integers"):
        F.ctc_loss(lp, [[1.5, 2.0]] * 2, [5, 5], [2, 2])
    with pytest.raises(ValueError, match="blank 4 is not a class of 4"):
        F.ctc_loss(lp, [[1, 2]] * 2, [5, 5], [2, 2], blank=4)
    x = tr.zeros(5, 2, 4, dtype="float64", requires_grad=True)
    loss = F.ctc_loss(x.log_softmax(-1), [[1, 2]] * 2, [5, 5], [2, 2])
    with pytest.raises(RuntimeError, match="create_graph"):
        tr.grad(loss, x, create_graph=True)

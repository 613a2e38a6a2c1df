"""Probabilistic, ranking and embedding losses (``functional`` and ``nn``): values and
gradients against torch in float64, gradients against central differences."""

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

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


def _signs(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


def _cases(rng, n, d):
    """(name, our call, torch's call, float inputs, other arguments) for each loss."""
    x1, x2, x3 = (rng.standard_normal((n, d)) for _ in range(3))
    mean, target = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    var = rng.uniform(0.1, 2.0, (n, d))
    counts = rng.integers(0, 6, (n, d)).astype(np.float64)
    y = _signs(rng, (n,))
    labels = (rng.random((n, d)) < 0.5).astype(np.float64)
    return [
        ("gaussian_nll_loss", [mean, var], dict(target=target, full=True)),
        ("poisson_nll_loss", [mean], dict(target=counts, full=True)),
        ("poisson_nll_loss", [var], dict(target=counts, log_input=False)),
        ("margin_ranking_loss", [x1[:, 0], x2[:, 0]], dict(target=y, margin=0.3)),
        ("hinge_embedding_loss", [np.abs(x1)], dict(target=_signs(rng, (n, d)), margin=0.8)),
        ("soft_margin_loss", [x1], dict(target=_signs(rng, (n, d)))),
        ("multilabel_soft_margin_loss", [x1], dict(target=labels)),
        ("cosine_embedding_loss", [x1, x2], dict(target=y, margin=0.2)),
        ("triplet_margin_loss", [x1, x2, x3], dict(margin=0.5, swap=True)),
        ("triplet_margin_loss", [x1, x2, x3], dict(p=1.0)),
    ]


def _call(lib_f, name, inputs, kwargs, reduction, lib):
    kw = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    if name == "gaussian_nll_loss":  # (input, target, var)
        return lib_f(inputs[0], kw.pop("target"), inputs[1], **kw, reduction=reduction)
    if name in ("poisson_nll_loss", "hinge_embedding_loss", "soft_margin_loss",
                "multilabel_soft_margin_loss"):
        return lib_f(inputs[0], kw.pop("target"), **kw, reduction=reduction)
    if name in ("margin_ranking_loss", "cosine_embedding_loss"):
        return lib_f(inputs[0], inputs[1], kw.pop("target"), **kw, reduction=reduction)
    return lib_f(*inputs, **kw, reduction=reduction)


@pytest.mark.torch
@given(n=st.integers(1, 4), d=st.integers(1, 4), reduction=REDUCTIONS,
       seed=st.integers(0, 2**16))
def test_losses_match_torch(n, d, reduction, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    for name, inputs, kwargs in _cases(rng, n, d):
        ours = [tr.tensor(a, requires_grad=True) for a in inputs]
        theirs = [torch.tensor(a, requires_grad=True) for a in inputs]
        lo = _call(getattr(F, name), name, ours, kwargs, reduction, tr)
        lt = _call(getattr(torch.nn.functional, name), name, theirs, kwargs, reduction, torch)
        np.testing.assert_allclose(lo.numpy(), lt.detach().numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)
        g = rng.standard_normal(lt.shape)
        lo.backward(tr.tensor(g))
        lt.backward(torch.tensor(g))
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-10,
                                       err_msg=name)


@pytest.mark.parametrize("device", DEVICES)
@given(seed=st.integers(0, 2**16))
def test_loss_gradients_are_those_of_central_differences(device, seed):
    rng = np.random.default_rng(seed)
    for name, inputs, kwargs in _cases(rng, 3, 2):
        if name == "hinge_embedding_loss" or "margin" in kwargs or "swap" in kwargs:
            continue  # kinks: their gradients are checked against torch's
        xs = [tr.tensor(a, device=device, requires_grad=True) for a in inputs]
        kw = {k: tr.tensor(v, device=device) if isinstance(v, np.ndarray) else v
              for k, v in kwargs.items()}

        def f(*xs, name=name, kw=kw):
            return _call(getattr(F, name), name, list(xs), dict(kw), "sum", tr)

        assert gradcheck(f, xs), name


@pytest.mark.torch
def test_gaussian_nll_takes_one_variance_per_sample_or_a_number_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    mu, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    for var in (rng.uniform(0.5, 1, (4, 1)), rng.uniform(0.5, 1, (4,)), 0.7,
                np.array([[1e-9, 1.0, 2.0]] * 4)):  # the last is clamped at eps
        v_o = tr.tensor(var, requires_grad=True) if isinstance(var, np.ndarray) else var
        v_t = torch.tensor(var, requires_grad=True) if isinstance(var, np.ndarray) else var
        lo = nn.GaussianNLLLoss()(tr.tensor(mu), tr.tensor(y), v_o)
        lt = torch.nn.GaussianNLLLoss()(torch.tensor(mu), torch.tensor(y), v_t)
        np.testing.assert_allclose(lo.numpy(), lt.detach().numpy(), rtol=1e-12)
        if isinstance(var, np.ndarray):
            lo.backward()
            lt.backward()
            np.testing.assert_allclose(v_o.grad.numpy(), v_t.grad.numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="var has negative entries"):
        F.gaussian_nll_loss(tr.tensor(mu), tr.tensor(y), tr.tensor(-np.ones((4, 3))))
    with pytest.raises(ValueError, match="fits neither"):
        F.gaussian_nll_loss(tr.tensor(mu), tr.tensor(y), tr.ones(2, 3, dtype="float64"))


def test_loss_modules_hold_their_options():
    assert nn.TripletMarginLoss(margin=2.0, swap=True).swap
    assert "reduction='sum'" in repr(nn.MarginRankingLoss(reduction="sum"))
    w = tr.tensor([1.0, 2.0])
    m = nn.MultiLabelSoftMarginLoss(weight=w)
    assert "weight" in m.state_dict()
    x, y = tr.zeros(3, 2), tr.ones(3, 2)
    expected = (np.log(2) * np.array([1.0, 2.0])).mean()
    np.testing.assert_allclose(m(x, y).numpy(), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="reduction must be"):
        nn.CosineEmbeddingLoss(reduction="avg")


@pytest.mark.torch
def test_poisson_and_gaussian_nll_differentiate_a_broadcast_target_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, target = rng.standard_normal((4, 3)), rng.uniform(0, 5, (3,))
    var = rng.uniform(0.5, 2, (4, 3))
    for name, extra in (("poisson_nll_loss", dict(full=True)), ("gaussian_nll_loss", {})):
        grads = []
        for lib, f in ((tr, F), (torch, torch.nn.functional)):
            xi, ti = lib.tensor(x, requires_grad=True), lib.tensor(target, requires_grad=True)
            args = (xi, ti, lib.tensor(var)) if name == "gaussian_nll_loss" else (xi, ti)
            loss = getattr(f, name)(*args, **extra)
            loss.backward()
            grads.append((loss.item(), xi.grad.numpy(), ti.grad.numpy()))
        np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-12)
        for a, b in zip(grads[0][1:], grads[1][1:]):
            np.testing.assert_allclose(a, b, rtol=1e-10, err_msg=name)


_LOSS_NAMES = ["MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
               "L1Loss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "CTCLoss", "GaussianNLLLoss",
               "PoissonNLLLoss", "MarginRankingLoss", "HingeEmbeddingLoss",
               "CosineEmbeddingLoss", "TripletMarginLoss", "SoftMarginLoss",
               "MultiLabelSoftMarginLoss", "MultiMarginLoss", "MultiLabelMarginLoss",
               "TripletMarginWithDistanceLoss"]


@pytest.mark.torch
def test_loss_modules_take_torchs_arguments_in_torchs_positions():
    """Every loss module's parameters, in order, are PyTorch's (the deprecated size_average
    and reduce included), so a call by position binds as there: the old-style
    CrossEntropyLoss(None, False) sums (it used to land on ignore_index=False and ignore
    class 0); legacy arguments warn and give PyTorch's reduction."""
    import inspect
    import warnings

    torch = pytest.importorskip("torch")
    for name in _LOSS_NAMES:
        ours = list(inspect.signature(getattr(nn, name).__init__).parameters)
        theirs = list(inspect.signature(getattr(torch.nn, name).__init__).parameters)
        assert ours == theirs, name
    x = np.random.default_rng(0).standard_normal((4, 3))
    y = np.array([0, 1, 2, 0])
    for args in [(None, False), (None, None, -100, False), (None, True, 1, True),
                 (None, None, 2)]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ours = nn.CrossEntropyLoss(*args)(tr.tensor(x), tr.tensor(y)).numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = torch.nn.CrossEntropyLoss(*args)(torch.tensor(x), torch.tensor(y))
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)
        assert bool(caught) == (args[1] is not None or len(args) > 3)
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.MSELoss(False).reduction == "sum"
    with pytest.raises(TypeError, match="ignore_index must be an int, got bool"):
        nn.NLLLoss(None, None, True)

"""More of ``nn``: fractional max pooling, ``multi_head_attention_forward``, antialiased
``interpolate``, ``linear_cross_entropy`` and ``CrossMapLRN2d``. Gradients against central
differences in float64 on Hypothesis-drawn cases; values, indices and gradients against torch
(tests marked ``torch``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import functional as F
from tinygrad_rnn import nn
from tinygrad_rnn.testing import gradcheck

from .conftest import DEVICES


def _torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------- fractional max pooling

@st.composite
def fractional_cases(draw):
    """(d, x, kernel, output size, samples): 2 or 3 spatial axes, each output + kernel - 1
    within the input."""
    d = draw(st.sampled_from([2, 3]))
    k = tuple(draw(st.integers(1, 3)) for _ in range(d))
    size = tuple(draw(st.integers(kk, kk + (6 if d == 2 else 3))) for kk in k)
    size = tuple(n + (d == 3) for n in size)  # torch's 3-D pool needs a position more
    out = tuple(draw(st.integers(1, n - kk + 1 - (d == 3))) for n, kk in zip(size, k))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.permutation(n * c * int(np.prod(size))).reshape(n, c, *size) / 7.0  # no ties
    return d, x, k, out, rng.random((n, c, d))


@pytest.mark.torch
@settings(deadline=None)
@given(case=fractional_cases(), dtype=st.sampled_from([np.float32, np.float64]))
def test_fractional_max_pool_values_indices_and_gradient_are_torchs(case, dtype):
    torch = _torch()
    d, x, k, out, u = case
    x, u = x.astype(dtype), u.astype(dtype)
    ours = getattr(F, f"fractional_max_pool{d}d")
    theirs = getattr(torch.nn.functional, f"fractional_max_pool{d}d")
    xt = torch.tensor(x, requires_grad=True)
    yt, it = theirs(xt, k, output_size=out, _random_samples=torch.tensor(u),
                    return_indices=True)
    xs = tr.tensor(x, requires_grad=True)
    y, i = ours(xs, k, output_size=out, _random_samples=tr.tensor(u), return_indices=True)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(i.numpy(), it.numpy())
    assert i.dtype == np.int64
    g = np.random.default_rng(0).standard_normal(y.shape).astype(dtype)
    (yt * torch.tensor(g)).sum().backward()
    (y * tr.tensor(g)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


@settings(deadline=None, max_examples=15)
@pytest.mark.parametrize("device", DEVICES)
@given(case=fractional_cases())
def test_fractional_max_pool_gradient_is_that_of_central_differences(device, case):
    d, x, k, out, u = case
    pool = getattr(F, f"fractional_max_pool{d}d")
    samples = tr.tensor(u, device=device)
    gradcheck(lambda t: pool(t, k, output_size=out, _random_samples=samples),
              [tr.tensor(x, device=device, requires_grad=True)], check_dtype=False)


@pytest.mark.torch
def test_fractional_max_pool_ratio_unbatched_nan_and_with_indices_as_torch():
    torch = _torch()
    x = np.random.default_rng(1).standard_normal((3, 9, 10))
    u = np.random.default_rng(2).random((1, 3, 2))
    y, i = F.fractional_max_pool2d_with_indices(tr.tensor(x), (2, 3), output_ratio=(0.5, 0.4),
                                                _random_samples=tr.tensor(u))
    yt, it = torch.nn.functional.fractional_max_pool2d_with_indices(
        torch.tensor(x), (2, 3), output_ratio=(0.5, 0.4), _random_samples=torch.tensor(u))
    assert y.shape == (3, 4, 4)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
    np.testing.assert_array_equal(i.numpy(), it.numpy())
    # a window holding NaNs picks its last NaN, as torch's kernel
    x = np.zeros((1, 1, 4, 4, 4))
    x[0, 0, 2, 2, 2] = x[0, 0, 3, 3, 3] = np.nan
    x[0, 0, 3, 3, 2] = 5.0
    u = np.full((1, 1, 3), 0.5)
    y, i = F.fractional_max_pool3d(tr.tensor(x), 2, 1, _random_samples=tr.tensor(u),
                                   return_indices=True)
    yt, it = torch.nn.functional.fractional_max_pool3d(
        torch.tensor(x), 2, 1, _random_samples=torch.tensor(u), return_indices=True)
    assert np.isnan(y.item()) and i.item() == it.item() == 63


def test_fractional_max_pool_modules_draw_their_samples_from_the_global_generator():
    x = tr.randn(2, 3, 12, 12)
    pool = nn.FractionalMaxPool2d(3, output_ratio=0.5, return_indices=True)
    tr.manual_seed(5)
    y1, i1 = pool(x)
    tr.manual_seed(5)
    y2, i2 = pool(x)
    y3, _ = pool(x)
    assert y1.shape == (2, 3, 6, 6)
    np.testing.assert_array_equal(i1.numpy(), i2.numpy())
    np.testing.assert_array_equal(y1.numpy(), x.reshape(2, 3, -1).gather(
        -1, i1.reshape(2, 3, -1)).reshape(2, 3, 6, 6).numpy())
    assert not np.array_equal(y1.numpy(), y3.numpy())
    fixed = nn.FractionalMaxPool3d(2, output_size=(2, 3, 4),
                                   _random_samples=tr.rand(1, 2, 3))
    assert fixed(tr.randn(2, 5, 6, 7)).shape == (2, 2, 3, 4)


def test_fractional_max_pool_of_an_empty_batch_or_output_is_empty_as_torchs():
    for shape, out in [((0, 2, 5, 5), (2, 2)), ((1, 2, 5, 5), (0, 2))]:
        x = tr.randn(*shape, requires_grad=True)
        y, i = F.fractional_max_pool2d(x, 2, out, return_indices=True)
        assert y.shape == i.shape == (shape[0], 2, *out)
        y.sum().backward()
        assert x.grad.shape == shape and not x.grad.numpy().any()


@pytest.mark.parametrize("call, match", [
    (lambda x: F.fractional_max_pool2d(x, 2), "output_size or output_ratio"),
    (lambda x: F.fractional_max_pool2d(x, 2, (4, 4)),
     r"need 5 positions \(output_size \+ kernel_size - 1\)"),
    (lambda x: F.fractional_max_pool3d(x, 2, (3, 3, 3)),
     r"need 5 positions \(output_size \+ kernel_size\)"),
    (lambda x: F.fractional_max_pool2d(x, 0, (2, 2)), "kernel_size must be"),
    (lambda x: F.fractional_max_pool2d(x, 2, (2, 2), _random_samples=tr.rand(1, 2, 2)),
     r"\(1, 1, 2\)"),
    (lambda x: F.fractional_max_pool2d(x, 2, (2, 2), _random_samples=tr.rand(1, 1, 3)),
     r"\(1, 1, 2\)"),
    (lambda x: F.fractional_max_pool2d(x, 2, (2, 2), _random_samples=tr.ones(1, 1, 2)),
     r"\[0, 1\)"),
    (lambda x: F.fractional_max_pool2d(x, 2, (2, 2),
                                       _random_samples=tr.rand(1, 1, 2, dtype="float64")),
     "dtype"),
    (lambda x: F.fractional_max_pool2d(x[0, 0], 2, (2, 2)), "3-D"),
    (lambda x: F.fractional_max_pool2d(x.long(), 2, (2, 2)), "floating-point"),
    (lambda x: nn.FractionalMaxPool2d(2, (2, 2), 0.5), "exactly one"),
    (lambda x: nn.FractionalMaxPool2d(2, output_ratio=1.5), r"in \(0, 1\)"),
])
def test_fractional_max_pool_refuses_bad_arguments_clearly(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(tr.rand(1, 1, 4, 4))


# ---------------------------------------------------------------- multi_head_attention_forward

@st.composite
def attention_cases(draw):
    """Keyword arguments of ``multi_head_attention_forward`` (as float64 arrays) covering its
    options; no query has every key masked (that row is NaN with need_weights)."""
    H = draw(st.integers(1, 2))
    d = draw(st.integers(1, 2))
    E, L, S, N = H * d, draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    batched = draw(st.booleans())
    separate = draw(st.booleans())
    kdim, vdim = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if separate else (E, E)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    r = rng.standard_normal
    a = dict(query=r((L, N, E)), key=r((S, N, kdim)), value=r((S, N, vdim)),
             embed_dim_to_check=E, num_heads=H, in_proj_weight=None,
             in_proj_bias=r(3 * E) if draw(st.booleans()) else None, bias_k=None, bias_v=None,
             add_zero_attn=draw(st.booleans()), dropout_p=0.5, out_proj_weight=r((E, E)),
             out_proj_bias=r(E) if draw(st.booleans()) else None, training=False,
             need_weights=draw(st.booleans()), average_attn_weights=draw(st.booleans()),
             use_separate_proj_weight=separate)
    if separate:
        a.update(q_proj_weight=r((E, E)), k_proj_weight=r((E, kdim)), v_proj_weight=r((E, vdim)))
    else:
        a["in_proj_weight"] = r((3 * E, E))
    static = draw(st.sampled_from(["none", "bias_kv", "static_k", "static_v"]))
    if static == "bias_kv":
        a.update(bias_k=r((1, 1, E)), bias_v=r((1, 1, E)))
    elif static != "none":
        a[static] = r((N * H, S, d))
    allowed = rng.random((L, S)) < 0.7
    allowed[:, 0] = True
    mask = draw(st.sampled_from(["none", "bool", "float", "3d", "causal"]))
    if mask == "causal":
        a.update(attn_mask=~np.tril(np.ones((L, S), bool)), is_causal=True)
    elif mask != "none":
        m = ~allowed if mask == "bool" else np.where(allowed, r((L, S)), -np.inf)
        a["attn_mask"] = np.broadcast_to(m, (N * H, L, S)).copy() if mask == "3d" else m
    if draw(st.booleans()):
        pad = rng.random((N, S)) < 0.3
        pad[:, 0] = False
        a["key_padding_mask"] = pad if draw(st.booleans()) else np.where(pad, -np.inf, 0.0)
    if not batched:
        for name in ("query", "key", "value"):
            a[name] = a[name][:, 0]
        if "key_padding_mask" in a:
            a["key_padding_mask"] = a["key_padding_mask"][0]
        for name in ("static_k", "static_v"):
            if name in a:
                a[name] = a[name][:H]
        if np.ndim(a.get("attn_mask")) == 3:
            a["attn_mask"] = a["attn_mask"][:H]
    return a


@pytest.mark.torch
@settings(deadline=None)
@given(case=attention_cases())
def test_multi_head_attention_forward_values_and_gradients_are_torchs(case):
    torch = _torch()
    grads = ("query", "key", "value", "in_proj_weight", "q_proj_weight", "static_k", "bias_v")
    ours = {k: tr.tensor(v, requires_grad=k in grads) if isinstance(v, np.ndarray) else v
            for k, v in case.items()}
    theirs = {k: torch.tensor(v, requires_grad=k in grads and v.dtype != bool)
              if isinstance(v, np.ndarray) else v for k, v in case.items()}
    with warnings.catch_warnings(record=True) as said:  # both warn of mismatched masks
        warnings.simplefilter("always")
        out, w = F.multi_head_attention_forward(**ours)
        out_t, w_t = torch.nn.functional.multi_head_attention_forward(**theirs)
    assert len(said) in (0, 2) and all("mismatched" in str(x.message) for x in said)
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert (w is None) == (w_t is None)
    if w is not None:
        np.testing.assert_allclose(w.numpy(), w_t.detach().numpy(), rtol=1e-9, atol=1e-12)
    g = np.random.default_rng(0).standard_normal(out.shape)
    (out * tr.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    for name in grads:
        if name in case and case[name] is not None:
            mine, want = ours[name].grad, theirs[name].grad
            if want is None:  # torch's key projection unused under a static_k
                assert mine is None or not mine.numpy().any()
            else:
                np.testing.assert_allclose(mine.numpy(), want.numpy(), rtol=1e-8, atol=1e-11,
                                           err_msg=name)


@pytest.mark.filterwarnings("ignore:.*mismatched key_padding_mask")
@settings(deadline=None, max_examples=10)
@given(case=attention_cases())
def test_multi_head_attention_forward_gradient_is_that_of_central_differences(case):
    names = ("query", "key", "value", "in_proj_weight", "k_proj_weight", "static_v", "bias_k")
    names = [n for n in names if case.get(n) is not None]
    rest = {k: tr.tensor(v) if isinstance(v, np.ndarray) else v for k, v in case.items()
            if k not in names}

    def f(*ts):
        out, w = F.multi_head_attention_forward(**rest, **dict(zip(names, ts)))
        return out if w is None else (out, w)

    gradcheck(f, [tr.tensor(case[n], requires_grad=True) for n in names], check_dtype=False)


def test_multi_head_attention_module_runs_on_the_functional():
    tr.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2, kdim=3, vdim=5, add_bias_kv=True, dropout=0.5)
    q, k, v = tr.randn(3, 2, 4), tr.randn(6, 2, 3), tr.randn(6, 2, 5)
    mha.eval()
    out, w = mha(q, k, v, average_attn_weights=False)
    ref, w_ref = F.multi_head_attention_forward(
        q, k, v, 4, 2, None, mha.in_proj_bias, mha.bias_k, mha.bias_v, False, 0.5,
        mha.out_proj.weight, mha.out_proj.bias, training=False, use_separate_proj_weight=True,
        q_proj_weight=mha.q_proj_weight, k_proj_weight=mha.k_proj_weight,
        v_proj_weight=mha.v_proj_weight, average_attn_weights=False)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(w.numpy(), w_ref.numpy())
    assert w.shape == (2, 2, 3, 7)
    # dropout on the weights in training only, from the global generator
    mha.train()
    tr.manual_seed(3)
    a = mha(q, k, v)[1]
    tr.manual_seed(3)
    np.testing.assert_array_equal(a.numpy(), mha(q, k, v)[1].numpy())
    assert not np.allclose(a.numpy(), mha.eval()(q, k, v)[1].numpy())


@pytest.mark.parametrize("change, match", [
    (dict(embed_dim_to_check=6), "embedding size 6, got 4"),
    (dict(num_heads=3), "not a multiple of num_heads 3"),
    (dict(in_proj_weight=None), "in_proj_weight is None"),
    (dict(bias_k=tr.zeros(1, 1, 4)), "both bias_k and bias_v"),
    (dict(bias_k=tr.zeros(1, 1, 4), bias_v=tr.zeros(1, 1, 4), static_k=tr.zeros(4, 5, 2)),
     "cannot be added to static_k"),
    (dict(static_k=tr.zeros(4, 5, 3)), r"static_k must be .*\(4, S, 2\), got \(4, 5, 3\)"),
    (dict(attn_mask=tr.zeros(3, 3)), r"attn_mask must be \(3, 5\) or \(4, 3, 5\)"),
    (dict(key_padding_mask=tr.zeros(2, 4, dtype="bool")), r"must be \(2, 5\), got \(2, 4\)"),
    (dict(is_causal=True), "needs attn_mask"),
    (dict(dropout_p=2.0), r"dropout probability must be a number in \[0, 1\]"),
    (dict(key=tr.zeros(5, 3, 4)), "the query's batch 2"),
])
def test_multi_head_attention_forward_refuses_bad_arguments_clearly(change, match):
    args = dict(query=tr.zeros(3, 2, 4), key=tr.zeros(5, 2, 4), value=tr.zeros(5, 2, 4),
                embed_dim_to_check=4, num_heads=2, in_proj_weight=tr.zeros(12, 4),
                in_proj_bias=None, bias_k=None, bias_v=None, add_zero_attn=False,
                dropout_p=0.0, out_proj_weight=tr.zeros(4, 4), out_proj_bias=None)
    with pytest.raises(ValueError, match=match):
        F.multi_head_attention_forward(**{**args, **change})


# ---------------------------------------------------------------- linear_cross_entropy

@st.composite
def linear_ce_cases(draw):
    """(x, W, b, target, keyword arguments): batched or not, K-dimensional or not, class
    indices (some ignored) or probabilities, class weights, smoothing, each reduction."""
    batched = draw(st.booleans())
    out = () if not batched else draw(st.sampled_from([(), (), (2,), (2, 1)]))
    N, I, C = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(2, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((N, I) if batched else (I,))
    W = rng.standard_normal((C, *out, I))
    b = rng.standard_normal((C, *out)) if draw(st.booleans()) else None
    batch = (N,) if batched else ()
    kw = dict(reduction=draw(st.sampled_from(["mean", "sum", "none"])),
              label_smoothing=draw(st.sampled_from([0.0, 0.0, 0.25])))
    if draw(st.booleans()):
        kw["weight"] = rng.random(C) + 0.1
    if draw(st.booleans()):  # probabilities
        p = rng.random((*batch, C, *out))
        t = p / p.sum(len(batch), keepdims=True)
    else:
        t = rng.integers(0, C, (*batch, *out))
        if draw(st.booleans()):
            kw["ignore_index"] = int(rng.integers(0, C))
    return x, W, b, t, kw


@pytest.mark.torch
@settings(deadline=None)
@given(case=linear_ce_cases())
def test_linear_cross_entropy_values_and_gradients_are_torchs(case):
    torch = _torch()
    x, W, b, t, kw = case
    ours = [tr.tensor(a, requires_grad=True) if a is not None else None for a in (x, W, b)]
    theirs = [torch.tensor(a, requires_grad=True) if a is not None else None for a in (x, W, b)]
    weight = kw.pop("weight", None)
    loss = F.linear_cross_entropy(ours[0], ours[1], tr.tensor(t), linear_bias=ours[2],
                                  weight=None if weight is None else tr.tensor(weight), **kw)
    want = torch.nn.functional.linear_cross_entropy(
        theirs[0], theirs[1], torch.tensor(t), linear_bias=theirs[2],
        weight=None if weight is None else torch.tensor(weight), **kw)
    if not np.isfinite(want.detach().numpy()).all():  # torch's 0/0 mean, every target ignored
        return
    np.testing.assert_allclose(loss.numpy(), want.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(0).standard_normal(loss.shape)
    (loss * tr.tensor(g)).sum().backward()
    (want * torch.tensor(g)).sum().backward()
    for mine, theirs_ in zip(ours, theirs):
        if mine is not None:
            np.testing.assert_allclose(mine.grad.numpy(), theirs_.grad.numpy(), rtol=1e-9,
                                       atol=1e-12)


@st.composite
def chunked_cases(draw):
    """(x, W, b, target, weight, ignore_index, reduction, chunk) that the chunked path takes."""
    N, I, C = draw(st.integers(1, 6)), draw(st.integers(1, 3)), draw(st.integers(2, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    batched = draw(st.booleans())
    x = rng.standard_normal((N, I) if batched else (I,))
    t = rng.integers(0, C, (N,) if batched else ())
    b = rng.standard_normal(C) if draw(st.booleans()) else None
    w = rng.random(C) + 0.1 if draw(st.booleans()) else None
    return (x, rng.standard_normal((C, I)), b, t, w, int(rng.integers(0, C)),
            draw(st.sampled_from(["mean", "sum", "none"])), draw(st.integers(1, 4)))


@settings(deadline=None)
@pytest.mark.parametrize("device", DEVICES)
@given(case=chunked_cases())
def test_chunked_linear_cross_entropy_equals_the_reference_and_its_gradient_checks(device,
                                                                                  case):
    x, W, b, t, w, ignore, reduction, chunk = case
    weight = None if w is None else tr.tensor(w, device=device)
    target = tr.tensor(t, device=device)
    opts = nn.LinearCrossEntropyOptions(batch_chunk_size=chunk)
    params = [a for a in (x, W, b) if a is not None]

    def f(options, *ts):
        return F.linear_cross_entropy(ts[0], ts[1], target, linear_bias=ts[2] if b is not None
                                      else None, weight=weight, reduction=reduction,
                                      ignore_index=ignore, options=options)

    results = []
    for options in (None, opts):
        ts = [tr.tensor(a, device=device, requires_grad=True) for a in params]
        loss = f(options, *ts)
        loss.sum().backward()
        results.append([loss.numpy()] + [t_.grad.numpy() for t_ in ts])
    for a, r in zip(*results):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-13)
    gradcheck(lambda *ts: f(opts, *ts),
              [tr.tensor(a, device=device, requires_grad=True) for a in params],
              check_dtype=False)


@pytest.mark.torch
def test_linear_cross_entropy_loss_module_is_torchs():
    torch = _torch()
    ours = nn.LinearCrossEntropyLoss(3, 4, out_features=(2,), bias=True, dtype="float64",
                                     label_smoothing=0.1, weight=tr.ones(4, dtype="float64"))
    theirs = torch.nn.LinearCrossEntropyLoss(3, 4, out_features=(2,), bias=True,
                                             dtype=torch.float64, label_smoothing=0.1,
                                             weight=torch.ones(4, dtype=torch.float64))
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3))
    t = np.random.default_rng(1).integers(0, 4, (5, 2))
    np.testing.assert_allclose(ours(tr.tensor(x), tr.tensor(t)).item(),
                               theirs(torch.tensor(x), torch.tensor(t)).item(), rtol=1e-12)
    chunked = nn.LinearCrossEntropyLoss(3, 40, options=nn.LinearCrossEntropyOptions())
    for n, i, c in [(64, 3, 40), (5, 7, 3), (100, 2, 1000), (1, 1, 1)]:  # aspect_ratio:2
        want = torch.nn.LinearCrossEntropyOptions()._compute_batch_chunk_size(
            n, i, c, "aspect_ratio:2")
        assert chunked.options.rows(n, i, c) == max(want, 1)
    assert chunked(tr.randn(64, 3), tr.randint(0, 40, (64,))).shape == ()


def test_linear_cross_entropy_warns_where_options_cannot_apply_and_refuses_bad_input():
    x, W = tr.randn(3, 2), tr.randn(4, 2)
    opts = nn.LinearCrossEntropyOptions(batch_chunk_size=1)
    with pytest.warns(UserWarning, match="options ignored"):
        F.linear_cross_entropy(x, W, tr.tensor([0, 1, 2]), label_smoothing=0.1, options=opts)
    for call, match in [
        (lambda: F.linear_cross_entropy(tr.randn(2, 3, 2), W, tr.tensor([0])), "1 or 2 dim"),
        (lambda: F.linear_cross_entropy(x, tr.randn(4), tr.tensor([0])), "at least 2"),
        (lambda: F.linear_cross_entropy(x, tr.randn(4, 3), tr.tensor([0, 1, 2])),
         "input has 2 features"),
        (lambda: F.linear_cross_entropy(x, W, tr.tensor([0, 1, 2]), linear_bias=tr.zeros(3)),
         r"linear_bias of shape \(4,\)"),
        (lambda: F.linear_cross_entropy(tr.randn(2), tr.randn(4, 2, 2), tr.tensor(0)),
         "needs a batched input"),
        (lambda: F.linear_cross_entropy(x, W, tr.rand(3, 4), ignore_index=1), "probabilities"),
        (lambda: F.linear_cross_entropy(x, W, tr.tensor([0, 1]), options=opts),
         "target shape"),
        (lambda: F.linear_cross_entropy(x, W, tr.tensor([0, 1, 4]), options=opts),
         r"lie in \[0, 4\)"),
        (lambda: nn.LinearCrossEntropyOptions(chunking_method="rows"), "chunking_method"),
        (lambda: nn.LinearCrossEntropyOptions(batch_chunk_size=0), "batch_chunk_size"),
        (lambda: nn.LinearCrossEntropyLoss(2, 4, weight=tr.ones(3)), r"\(4,\)"),
    ]:
        with pytest.raises(ValueError, match=match):
            call()


# ---------------------------------------------------------------- CrossMapLRN2d

@st.composite
def lrn_cases(draw):
    size, C = draw(st.integers(1, 6)), draw(st.integers(1, 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((draw(st.integers(1, 2)), C, draw(st.integers(1, 3)), 2))
    return x, size, draw(st.sampled_from([1e-4, 0.5, 2.0])), \
        draw(st.sampled_from([0.75, 0.5, 1.3])), draw(st.sampled_from([1.0, 2.0]))


@pytest.mark.torch
@settings(deadline=None)
@given(case=lrn_cases())
def test_cross_map_lrn2d_values_are_torchs_and_gradients_its_autograds(case):
    torch = _torch()
    x, size, alpha, beta, k = case
    ours = nn.CrossMapLRN2d(size, alpha, beta, k)
    xs = tr.tensor(x, requires_grad=True)
    y = ours(xs)
    np.testing.assert_allclose(
        y.numpy(), torch.nn.CrossMapLRN2d(size, alpha, beta, k)(torch.tensor(x)).numpy(),
        rtol=1e-12)
    # torch's hand-written backward disagrees with its forward (it fails torch's gradcheck),
    # so the gradient is checked against torch's autograd of the same forward
    xt = torch.tensor(x, requires_grad=True)
    sq = xt * xt
    C, h = x.shape[1], (size - 1) // 2
    total = torch.stack([sq[:, max(c - h, 0):c + h + 1].sum(1) + (sq[:, 0] if c > h else 0)
                         for c in range(C)], 1)
    yt = xt * (total * (alpha / size) + k) ** -beta
    g = np.random.default_rng(0).standard_normal(x.shape)
    (y * tr.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-13)


@settings(deadline=None, max_examples=15)
@pytest.mark.parametrize("device", DEVICES)
@given(case=lrn_cases())
def test_cross_map_lrn2d_gradient_is_that_of_central_differences(device, case):
    x, size, alpha, beta, k = case
    lrn = nn.CrossMapLRN2d(size, alpha, beta, k)
    gradcheck(lrn, [tr.tensor(x, device=device, requires_grad=True)], check_dtype=False)


@pytest.mark.torch
def test_cross_map_lrn2d_gradient_is_torchs_where_torchs_backward_is_right():
    torch = _torch()
    for size, C in [(3, 1), (5, 1), (4, 2), (5, 2)]:
        x = np.random.default_rng(size).standard_normal((2, C, 3, 2))
        xs, xt = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        nn.CrossMapLRN2d(size, 0.5, 0.75, 1.0)(xs).sum().backward()
        torch.nn.CrossMapLRN2d(size, 0.5, 0.75, 1.0)(xt).sum().backward()
        np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-10)
    assert repr(nn.CrossMapLRN2d(3)) == repr(torch.nn.CrossMapLRN2d(3))
    with pytest.raises(ValueError, match="4-D input"):
        nn.CrossMapLRN2d(3)(tr.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="size must be a positive int"):
        nn.CrossMapLRN2d(0)


# ---------------------------------------------------------------- antialiased interpolate

@st.composite
def antialias_cases(draw):
    """(x, keyword arguments of interpolate): bilinear or bicubic, shrinking or growing each
    axis by size or scale_factor, align_corners or not."""
    H, W = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    kw = dict(mode=draw(st.sampled_from(["bilinear", "bicubic"])), antialias=True,
              align_corners=draw(st.sampled_from([None, False, True])))
    if draw(st.booleans()):
        kw["size"] = (draw(st.integers(1, 8)), draw(st.integers(1, 8)))
    else:
        f = draw(st.sampled_from([0.2, 0.3, 0.5, 0.7, 1.6]))
        kw.update(scale_factor=f, recompute_scale_factor=draw(st.booleans()))
        H, W = max(H, 5), max(W, 5)  # (an output length of at least 1)
    x = np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal((2, 2, H, W))
    return x, kw


@pytest.mark.torch
@settings(deadline=None)
@given(case=antialias_cases(), dtype=st.sampled_from([np.float32, np.float64]))
def test_antialiased_interpolate_values_and_gradients_are_torchs(case, dtype):
    torch = _torch()
    x, kw = case
    x = x.astype(dtype)
    xs, xt = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = F.interpolate(xs, **kw)
    if y.shape[-1] == 1:  # torch's kernel gives every row the first's there: H and W swapped
        swapped = {**kw, "size": kw["size"][::-1]} if "size" in kw else kw
        yt = torch.nn.functional.interpolate(xt.mT, **swapped).mT
    else:
        yt = torch.nn.functional.interpolate(xt, **kw)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
    g = np.random.default_rng(0).standard_normal(y.shape).astype(dtype)
    (y * tr.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), **tol)


@settings(deadline=None, max_examples=15)
@pytest.mark.parametrize("device", DEVICES)
@given(case=antialias_cases())
def test_antialiased_interpolate_gradient_is_that_of_central_differences(device, case):
    x, kw = case
    gradcheck(lambda t: F.interpolate(t, **kw), [tr.tensor(x, device=device,
                                                           requires_grad=True)],
              check_dtype=False)


def test_antialiased_downsampling_averages_what_each_output_covers():
    x = tr.tensor(np.arange(8.0).reshape(1, 1, 1, 8))
    y = F.interpolate(x, size=(1, 2), mode="bilinear", antialias=True)
    # each output's triangle of half-width 4 over the positions it covers, normalised
    w = np.maximum(1 - np.abs(np.arange(8) + 0.5 - 2.0) / 4, 0)
    np.testing.assert_allclose(y.numpy()[0, 0, 0, 0], (w * np.arange(8)).sum() / w.sum())
    with pytest.raises(ValueError, match="antialias=True is for the bilinear and bicubic"):
        F.interpolate(tr.ones(1, 1, 4), size=2, mode="linear", antialias=True)

"""Differential test of the neural-network layer against PyTorch: Hypothesis draws one call of
``nn.functional`` or one ``nn`` module (convolutions, pools, norms, losses, embeddings,
activations, dropout, interpolation, padding, sampling grids, attention, transformer layers,
recurrent layers) with random but meaningful arguments and inputs, and now and then invalid
ones. The call runs in torch and here, in float64 or float32; a module is built in torch, its
parameters and buffers perturbed (so a norm's weight is not all ones) and copied into ours.

Compared: whether each raises (exception types may differ), every output's shape, dtype,
``requires_grad`` and values, then, after one backward of a random weighted sum of the float
outputs, the gradient of every input and every parameter, and every parameter and buffer after
the call (BatchNorm's running statistics, an Embedding renormalised by ``max_norm``).

Each case's arrays come from a NumPy generator seeded by a drawn integer; the structure of the
call (which function, which arguments, which shapes) is what Hypothesis draws and shrinks. Run
deeper with ``HYPOTHESIS_PROFILE=thorough``.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr

from ._differential import close, one_in, registry

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

RAN: Counter = Counter()


@dataclass
class Case:
    """One call: ``call(m, module, *tensors)`` with ``m`` either ``torch`` or ``tr``."""

    name: str
    arrays: list[np.ndarray]  # float arrays become leaves that require grad (unless in nograd)
    call: Callable[..., Any]
    make: Callable[[Any], Any] | None = None  # m -> module, built in torch, copied into ours
    train: bool = True
    nograd: set[int] = field(default_factory=set)  # float inputs that do not require grad
    loose: bool = False  # a long composition (a transformer layer): looser tolerance
    # a max pool: a window over padding alone gives -inf, and torch's gradient of it lands
    # on whatever index it kept (not in the window); then no gradient is compared
    inf_window: bool = False


GENS, gen = registry()  # the case generators, by family


def bad(draw) -> bool:
    return one_in(draw, 15)


def fdt(m, dt):
    return m.float64 if dt == np.float64 else m.float32


def ints(draw, lo, hi, n):
    return tuple(draw(st.integers(lo, hi)) for _ in range(n))


def one_or_tuple(draw, v: tuple):
    """An int where all agree (now and then), else the tuple: both spellings must work."""
    return v[0] if len(set(v)) == 1 and draw(st.booleans()) else v


class Arrays:
    def __init__(self, rng: np.random.Generator, dt):
        self.rng, self.dt = rng, dt

    def normal(self, shape, kinky: bool = False):
        """Standard normal, or (kinky) values on a grid of halves: ties and kinks included."""
        if kinky:
            return (self.rng.integers(-4, 5, shape) / 2).astype(self.dt)
        return self.rng.standard_normal(shape).astype(self.dt)

    def uniform(self, shape, lo, hi):
        return self.rng.uniform(lo, hi, shape).astype(self.dt)

    def ints(self, shape, lo, hi):
        return self.rng.integers(lo, hi, shape).astype(np.int64)


# ---- convolutions --------------------------------------------------------------------------


@gen("conv")
def _conv(draw, a: Arrays):
    d = draw(st.integers(1, 3))
    transposed = draw(st.booleans())
    groups = draw(st.sampled_from([1, 1, 2]))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2)) + (1 if bad(draw) else 0)
    k = ints(draw, 1, 3, d)
    stride = ints(draw, 1, 2, d)
    dil = ints(draw, 1, 2, d)
    maxs = 5 if d < 3 else 4
    spatial = ints(draw, 1, maxs, d)
    batched = draw(st.booleans()) or bad(draw)
    x = a.normal(((draw(st.integers(1, 2)),) if batched else ()) + (cin,) + spatial)
    bias = draw(st.booleans())
    if transposed:
        pad = ints(draw, 0, 1, d)
        # torch gives an empty output where padding crops it all without a bias, and refuses
        # it with one; ours refuses both: no such padding
        pad = tuple(min(p, ((s_ - 1) * st_ + dl * (kk - 1)) // 2) for p, s_, st_, dl, kk in
                    zip(pad, spatial, stride, dil, k))
        outpad = tuple(draw(st.integers(0, max(s, dl) - 1)) for s, dl in zip(stride, dil))
        if bad(draw):
            outpad = tuple(max(s, dl) for s, dl in zip(stride, dil))
        kw = dict(stride=one_or_tuple(draw, stride), padding=one_or_tuple(draw, pad),
                  output_padding=one_or_tuple(draw, outpad), groups=groups,
                  dilation=one_or_tuple(draw, dil))
        if draw(st.booleans()):  # the functional form, weight and bias as inputs
            w = a.normal((cin, cout // groups) + k)
            arrays = [x, w] + ([a.normal((cout,))] if bias else [])
            return Case(f"conv_transpose{d}d", arrays, lambda m, _, x, w, b=None: getattr(
                m.nn.functional, f"conv_transpose{d}d")(x, w, b, **kw))
        return Case(f"ConvTranspose{d}d", [x], lambda m, mod, x: mod(x),
                    lambda m: getattr(m.nn, f"ConvTranspose{d}d")(cin, cout, k, bias=bias, **kw))
    pad: Any = draw(st.sampled_from(["int", "int", "same", "valid"]))
    if pad == "int":
        pad = one_or_tuple(draw, ints(draw, 0, 2, d))
    elif pad == "same" and not bad(draw):
        stride = (1,) * d  # torch refuses 'same' with a stride
    kw = dict(stride=one_or_tuple(draw, stride), padding=pad, dilation=one_or_tuple(draw, dil),
              groups=groups)
    if draw(st.booleans()):
        w = a.normal((cout, cin // groups) + k)
        arrays = [x, w] + ([a.normal((cout,))] if bias else [])
        return Case(f"conv{d}d", arrays, lambda m, _, x, w, b=None: getattr(
            m.nn.functional, f"conv{d}d")(x, w, b, **kw))
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    return Case(f"Conv{d}d {mode}", [x], lambda m, mod, x: mod(x),
                lambda m: getattr(m.nn, f"Conv{d}d")(cin, cout, k, bias=bias,
                                                      padding_mode=mode, **kw))


# ---- pooling -------------------------------------------------------------------------------


@gen("pool")
def _pool(draw, a: Arrays):
    d = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["max", "avg", "lp", "adaptive_max", "adaptive_avg", "unpool"]))
    maxs = 7 if d < 3 else 5
    spatial = ints(draw, 1, maxs, d)
    c = draw(st.integers(1, 2))
    batched = draw(st.booleans())
    shape = ((draw(st.integers(1, 2)),) if batched else ()) + (c,) + spatial
    # values on a grid of halves now and then: ties for the max pools (the first one wins)
    x = a.normal(shape, kinky=kind in ("avg", "max", "unpool", "adaptive_max")
                 and draw(st.booleans()))
    F = "nn.functional"
    if kind.startswith("adaptive"):
        out = tuple(draw(st.one_of(st.integers(1, 4), st.none())) if d > 1 else
                    draw(st.integers(1, 4)) for _ in range(d))
        if bad(draw):
            out = out[:-1] if d > 1 else (0,)
        osz = one_or_tuple(draw, out) if None not in out else out
        ri = kind == "adaptive_max" and draw(st.booleans())
        name = f"{kind}_pool{d}d"
        if ri:
            return Case(name, [x], lambda m, _, x: getattr(m.nn.functional, name)(
                x, osz, return_indices=True))
        return Case(name, [x], lambda m, _, x: getattr(m.nn.functional, name)(x, osz))
    k = ints(draw, 1, 3, d)
    stride = ints(draw, 1, 3, d) if draw(st.booleans()) else None
    ceil = draw(st.booleans())
    pad = tuple(draw(st.integers(0, kk // 2 + (1 if bad(draw) else 0))) for kk in k)
    if d == 3 and kind in ("avg", "lp") and any(s < kk for s, kk in zip(spatial, k)):
        # torch's 3-D average pool alone refuses an input smaller than the window (padding
        # and ceil_mode aside), where its 1-D and 2-D ones and ours compute it
        spatial = tuple(max(s, kk) for s, kk in zip(spatial, k))
        x = a.normal(shape[:-3] + spatial, kinky=kind == "avg" and draw(st.booleans()))
    if kind == "lp":
        p = draw(st.sampled_from([1.0, 2.0, 3.0, 1.5]))
        # torch's lp_pool1d multiplies by kernel_size, and fails on a tuple: an int for 1-D
        ksz = k[0] if d == 1 else one_or_tuple(draw, k)
        x = np.abs(x) + 0.1  # torch's pow of a negative sum gives NaN with odd p
        name = f"lp_pool{d}d"
        return Case(name, [x], lambda m, _, x: getattr(m.nn.functional, name)(
            x, p, ksz, stride, ceil_mode=ceil))
    if kind == "avg":
        cip = draw(st.booleans())
        kw: dict[str, Any] = dict(stride=stride, padding=one_or_tuple(draw, pad), ceil_mode=ceil,
                                  count_include_pad=cip)
        if d > 1 and draw(st.booleans()):
            kw["divisor_override"] = draw(st.integers(0 if bad(draw) else 1, 3))
        name = f"avg_pool{d}d"
        if draw(st.booleans()):
            mk = lambda m: getattr(m.nn, f"AvgPool{d}d")(k, **kw)  # noqa: E731
            return Case(f"AvgPool{d}d", [x], lambda m, mod, x: mod(x), mk)
        return Case(name, [x], lambda m, _, x: getattr(m.nn.functional, name)(x, k, **kw))
    dil = ints(draw, 1, 2, d)
    # no window over padding alone: torch's max pool backward then writes out of bounds
    # (heap corruption, the process aborts); such an axis goes unpadded
    pad = tuple(0 if _padding_only_window(n, kk, ss, p, dl, ceil) else p for n, kk, ss, p, dl in
                zip(spatial, k, stride or k, pad, dil))
    kw = dict(stride=stride, padding=pad, dilation=dil, ceil_mode=ceil)
    name = f"max_pool{d}d"
    if kind == "max":
        ri = draw(st.booleans())
        if draw(st.booleans()):
            mk = lambda m: getattr(m.nn, f"MaxPool{d}d")(k, return_indices=ri, **kw)  # noqa: E731
            return Case(f"MaxPool{d}d", [x], lambda m, mod, x: mod(x), mk, inf_window=True)
        return Case(name, [x], lambda m, _, x: getattr(m.nn.functional, name)(
            x, k, return_indices=ri, **kw), inf_window=True)
    # max_unpool of max_pool's indices (dilation 1, as the unpool assumes). No overlapping
    # windows: where two take the same maximum, one write wins the unpool's output, and
    # torch's gradient (a gather) reaches both, the loser's too; ours only the winner's
    stride = tuple(max(s, kk) for s, kk in zip(stride or k, k))
    kw = dict(stride=stride, padding=pad)
    with_size = draw(st.booleans())
    del F

    def unpool(m, _, x):
        y, i = getattr(m.nn.functional, name)(x, k, return_indices=True, **kw)
        size = tuple(x.shape[-d:]) if with_size else None
        return y, getattr(m.nn.functional, f"max_unpool{d}d")(y, i, k, output_size=size, **kw)
    return Case(f"max_unpool{d}d", [x], unpool)


def _padding_only_window(n, k, stride, pad, dil, ceil) -> bool:
    """Whether a max pool along an axis of n has a window over padding alone."""
    span = n + 2 * pad - dil * (k - 1) - 1
    if span < 0:
        return False  # no window at all: both refuse
    out = (-(-span // stride) if ceil else span // stride) + 1
    if ceil and (out - 1) * stride >= n + pad:  # the last window must start inside
        out -= 1
    return any(all(not 0 <= o * stride - pad + j * dil < n for j in range(k))
               for o in range(out))


# ---- normalization -------------------------------------------------------------------------


@gen("norm")
def _norm(draw, a: Arrays):
    kind = draw(st.sampled_from(["batch", "batch", "layer", "group", "instance", "lrn", "rms",
                                 "batch_f", "instance_f", "group_f", "layer_f"]))
    train = draw(st.booleans())
    eps = draw(st.sampled_from([1e-5, 1e-3, 0.1]))
    if kind in ("batch", "instance", "batch_f", "instance_f"):
        d = draw(st.integers(1, 3))
        c = draw(st.integers(1, 3))
        n = draw(st.integers(1, 3))
        spatial = ints(draw, 1, 3, d if kind.startswith("instance") or d > 1 else
                       draw(st.integers(0, 1)))
        shape = (n, c) + spatial
        affine = draw(st.booleans())
        track = draw(st.booleans())
        if bad(draw) and (affine or track or kind == "batch_f"):
            # (torch checks no channel count where a norm has no per-channel state; ours does)
            shape = (n, c + 1) + spatial
        if kind == "instance" and draw(st.booleans()):
            shape = shape[1:]  # unbatched (torch's functional form takes (N, C) as batched)
        x = a.normal(shape)
        momentum = draw(st.sampled_from([0.1, None, 0.5]))
        if kind == "batch_f":
            rm, rv = a.normal((c,)), a.uniform((c,), 0.5, 2)
            w, b = a.normal((c,)), a.normal((c,))
            use_stats = draw(st.booleans()) or not train

            def bn(m, _, x, w, b):
                rmt = m.tensor(rm.copy()) if use_stats else None
                rvt = m.tensor(rv.copy()) if use_stats else None
                y = m.nn.functional.batch_norm(x, rmt, rvt, w, b, train, momentum or 0.1, eps)
                return (y, rmt, rvt) if use_stats else y
            return Case("batch_norm", [x, w, b], bn)
        if kind == "instance_f":
            use = draw(st.booleans())
            rm, rv = a.normal((c,)), a.uniform((c,), 0.5, 2)

            def inorm(m, _, x):
                rmt = m.tensor(rm.copy()) if use else None
                rvt = m.tensor(rv.copy()) if use else None
                y = m.nn.functional.instance_norm(x, rmt, rvt, use_input_stats=train or not use,
                                                  momentum=momentum or 0.1, eps=eps)
                return (y, rmt, rvt) if use else y
            return Case("instance_norm", [x], inorm)
        cls = f"{'BatchNorm' if kind == 'batch' else 'InstanceNorm'}{d}d"
        return Case(cls, [x], lambda m, mod, x: mod(x),
                    lambda m: getattr(m.nn, cls)(c, eps=eps, momentum=momentum, affine=affine,
                                                 track_running_stats=track), train=train)
    if kind in ("layer", "layer_f", "rms"):
        shape = ints(draw, 1, 3, draw(st.integers(1, 4)))
        k = draw(st.integers(1, len(shape)))
        ns = shape[-k:]
        if bad(draw):
            ns = ns[:-1] + (ns[-1] + 1,)
        x = a.normal(shape)
        if kind == "rms":
            e = draw(st.sampled_from([None, 1e-5, 0.1]))
            aff = draw(st.booleans())
            return Case("RMSNorm", [x], lambda m, mod, x: mod(x),
                        lambda m: m.nn.RMSNorm(ns, eps=e, elementwise_affine=aff))
        if kind == "layer_f":
            w = draw(st.booleans())
            arrays = [x] + ([a.normal(ns), a.normal(ns)] if w else [])
            return Case("layer_norm", arrays, lambda m, _, x, w=None, b=None:
                        m.nn.functional.layer_norm(x, ns, w, b, eps))
        aff, bias = draw(st.booleans()), draw(st.booleans())
        return Case("LayerNorm", [x], lambda m, mod, x: mod(x),
                    lambda m: m.nn.LayerNorm(ns, eps=eps, elementwise_affine=aff, bias=bias))
    if kind in ("group", "group_f"):
        g = draw(st.integers(1, 3))
        c = g * draw(st.integers(1, 2)) + (1 if bad(draw) else 0)
        shape = (draw(st.integers(1, 2)), c) + ints(draw, 1, 3, draw(st.integers(0, 2)))
        x = a.normal(shape)
        aff = draw(st.booleans())
        if kind == "group_f":
            arrays = [x] + ([a.normal((c,)), a.normal((c,))] if aff else [])
            return Case("group_norm", arrays, lambda m, _, x, w=None, b=None:
                        m.nn.functional.group_norm(x, g, w, b, eps))
        return Case("GroupNorm", [x], lambda m, mod, x: mod(x),
                    lambda m: m.nn.GroupNorm(g, c, eps=eps, affine=aff))
    size = draw(st.integers(1, 4))
    alpha, beta, kk = (draw(st.sampled_from(v)) for v in ([1e-4, 0.5], [0.75, 1.0], [1.0, 2.0]))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 5))) + ints(
        draw, 1, 3, draw(st.integers(0 if bad(draw) else 1, 3)))
    x = a.normal(shape)
    return Case("LocalResponseNorm", [x], lambda m, mod, x: mod(x),
                lambda m: m.nn.LocalResponseNorm(size, alpha, beta, kk))


# ---- losses --------------------------------------------------------------------------------

RED = st.sampled_from(["mean", "sum", "none"])


def _class_target(draw, a: Arrays, n, c, extra, ignore):
    t = a.ints((n,) + extra if n else extra, 0, c)
    if ignore is not None and t.size and draw(st.booleans()):
        t.flat[0] = ignore
    if bad(draw) and t.size:
        t.flat[-1] = c  # out of range
    return t


@gen("loss")
def _loss(draw, a: Arrays):
    kind = draw(st.sampled_from([
        "pointwise", "pointwise", "bce", "bce_logits", "kl", "ce", "ce", "nll", "poisson",
        "gaussian", "hinge", "ranking", "soft_margin", "multilabel_soft", "multilabel",
        "multi_margin", "cosine_emb", "triplet", "triplet_dist", "ctc"]))
    red = draw(RED)
    F = lambda m: m.nn.functional  # noqa: E731
    if kind == "pointwise":
        how = draw(st.sampled_from(["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"]))
        shape = ints(draw, 1, 3, draw(st.integers(0, 3)))
        tshape = shape if not bad(draw) else shape[1:]
        kinky = draw(st.booleans())
        x, t = a.normal(shape, kinky), a.normal(tshape, kinky)
        kw = {}
        if how == "smooth_l1_loss":
            kw["beta"] = draw(st.sampled_from([1.0, 0.5, 0.0]))
        if how == "huber_loss":
            kw["delta"] = draw(st.sampled_from([1.0, 0.5, 2.0]))
        return Case(how, [x, t], lambda m, _, x, t: getattr(F(m), how)(x, t, reduction=red,
                                                                      **kw))
    if kind in ("bce", "bce_logits"):
        shape = ints(draw, 1, 3, draw(st.integers(0, 3)))
        w = a.uniform(shape[-1:], 0.1, 2) if draw(st.booleans()) else None
        t = a.uniform(shape, 0, 1) if draw(st.booleans()) else a.ints(shape, 0, 2).astype(a.dt)
        if kind == "bce":
            x = a.uniform(shape, 0.02, 0.98)
            return Case("binary_cross_entropy", [x, t], lambda m, _, x, t: F(m)
                        .binary_cross_entropy(x, t, None if w is None else m.tensor(w),
                                              reduction=red))
        x = a.normal(shape) * 3
        pw = a.uniform(shape[-1:], 0.1, 3) if draw(st.booleans()) else None
        return Case("binary_cross_entropy_with_logits", [x, t], lambda m, _, x, t: F(m)
                    .binary_cross_entropy_with_logits(
                        x, t, None if w is None else m.tensor(w), reduction=red,
                        pos_weight=None if pw is None else m.tensor(pw)))
    if kind == "kl":
        shape = ints(draw, 1, 3, draw(st.integers(1, 3)))
        lt = draw(st.booleans())
        x = np.log(a.uniform(shape, 0.05, 1))
        t = np.log(a.uniform(shape, 0.05, 1)) if lt else a.uniform(shape, 0, 1)
        r = draw(st.sampled_from(["mean", "sum", "none", "batchmean"]))
        return Case("kl_div", [x, t], lambda m, _, x, t: F(m).kl_div(x, t, reduction=r,
                                                                      log_target=lt))
    if kind in ("ce", "nll"):
        c = draw(st.integers(1, 4))
        n = draw(st.sampled_from([0, 1, 3]))  # 0: unbatched (C,) input
        extra = ints(draw, 1, 2, draw(st.integers(0, 2))) if n else ()
        x = a.normal(((n,) if n else ()) + (c,) + extra)
        w = a.uniform((c,), 0.1, 2) if draw(st.booleans()) else None
        if w is not None and bad(draw):
            w = a.uniform((c + 1,), 0.1, 2)
        ii = draw(st.sampled_from([-100, 0, 1]))
        probs = kind == "ce" and draw(st.booleans())
        if probs:
            t = a.uniform(x.shape, 0, 1)
            t = t / t.sum(axis=1 if n else 0, keepdims=True)
        else:
            t = _class_target(draw, a, n, c, extra, ii)
        ls = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5])) if kind == "ce" else 0.0
        if not probs and red == "mean" and np.all(t == ii):
            red = "sum"  # docs/pytorch.md: the mean of no target is 0 here, torch's 0/0 NaN

        def ce(m, _, x, t=None):
            tt = t if t is not None else m.tensor(tcls)
            if kind == "nll":
                return F(m).nll_loss(F(m).log_softmax(x, 1 if n else 0), tt,
                                     None if w is None else m.tensor(w), ignore_index=ii,
                                     reduction=red)
            return F(m).cross_entropy(x, tt, None if w is None else m.tensor(w),
                                      ignore_index=ii, reduction=red, label_smoothing=ls)
        tcls = t
        return Case(kind, [x, t] if probs else [x], ce)
    if kind == "poisson":
        shape = ints(draw, 1, 3, draw(st.integers(1, 3)))
        li, full = draw(st.booleans()), draw(st.booleans())
        x = a.normal(shape) if li else a.uniform(shape, 0.01, 3)
        t = a.ints(shape, 0, 5).astype(a.dt)
        eps = draw(st.sampled_from([1e-8, 0.1]))
        # with full=True the target takes no gradient: torch's Stirling term is masked with
        # masked_fill after log(target), and at target 0 its gradient is 0 * inf = NaN
        return Case("poisson_nll_loss", [x, t], lambda m, _, x, t: F(m).poisson_nll_loss(
            x, t, log_input=li, full=full, eps=eps, reduction=red),
            nograd={1} if full else set())
    if kind == "gaussian":
        shape = ints(draw, 1, 3, draw(st.integers(1, 3)))
        vs = draw(st.sampled_from(["same", "last1", "less", "scalar"]))
        vshape = {"same": shape, "last1": shape[:-1] + (1,), "less": shape[:-1],
                  "scalar": ()}[vs]
        if bad(draw):
            vshape = shape[:-1] + (shape[-1] + 1,)
        full = draw(st.booleans())
        var = a.uniform(vshape, 0.1, 2)
        return Case("gaussian_nll_loss", [a.normal(shape), a.normal(shape), var],
                    lambda m, _, x, t, v: F(m).gaussian_nll_loss(x, t, v, full=full,
                                                                 reduction=red))
    if kind in ("hinge", "soft_margin"):
        shape = ints(draw, 1, 3, draw(st.integers(0, 3)))
        t = (a.ints(shape, 0, 2) * 2 - 1).astype(a.dt)
        x = a.normal(shape, draw(st.booleans()))
        if kind == "soft_margin":
            return Case("soft_margin_loss", [x, t], lambda m, _, x, t: F(m).soft_margin_loss(
                x, t, reduction=red), nograd={1})
        mg = draw(st.sampled_from([1.0, 0.5, 0.0, -1.0]))
        return Case("hinge_embedding_loss", [x, t], lambda m, _, x, t: F(m)
                    .hinge_embedding_loss(x, t, margin=mg, reduction=red), nograd={1})
    if kind == "ranking":
        shape = ints(draw, 1, 3, draw(st.integers(0, 1)))
        y = (a.ints(shape, 0, 2) * 2 - 1).astype(a.dt)
        mg = draw(st.sampled_from([0.0, 0.5, 1.0]))
        return Case("margin_ranking_loss", [a.normal(shape), a.normal(shape), y],
                    lambda m, _, x1, x2, y: F(m).margin_ranking_loss(x1, x2, y, margin=mg,
                                                                     reduction=red), nograd={2})
    if kind in ("multilabel_soft", "multilabel", "multi_margin"):
        n, c = draw(st.integers(0, 3)), draw(st.integers(1, 4))
        shape = (n, c) if n else (c,)
        x = a.normal(shape, draw(st.booleans()))
        if kind == "multilabel_soft":
            t = a.ints(shape, 0, 2).astype(a.dt)
            w = a.uniform((c,), 0.1, 2) if draw(st.booleans()) else None
            return Case("multilabel_soft_margin_loss", [x, t], lambda m, _, x, t: F(m)
                        .multilabel_soft_margin_loss(x, t, None if w is None else m.tensor(w),
                                                     reduction=red), nograd={1})
        if kind == "multilabel":
            t = a.ints(shape, -1, c)
            return Case("multilabel_margin_loss", [x], lambda m, _, x: F(m)
                        .multilabel_margin_loss(x, m.tensor(t), reduction=red))
        t = a.ints((n,) if n else (), 0, c + (1 if bad(draw) else 0))
        p = draw(st.sampled_from([1, 2]))
        mg = draw(st.sampled_from([1.0, 0.5]))
        w = a.uniform((c,), 0.1, 2) if draw(st.booleans()) else None
        return Case("multi_margin_loss", [x], lambda m, _, x: F(m).multi_margin_loss(
            x, m.tensor(t), p=p, margin=mg, weight=None if w is None else m.tensor(w),
            reduction=red))
    if kind == "cosine_emb":
        n, dd = draw(st.integers(0, 3)), draw(st.integers(1, 4))
        shape = (n, dd) if n else (dd,)
        y = (a.ints(shape[:-1], 0, 2) * 2 - 1).astype(np.int64)
        mg = draw(st.sampled_from([0.0, 0.5, -0.5]))
        return Case("cosine_embedding_loss", [a.normal(shape), a.normal(shape)],
                    lambda m, _, x1, x2: F(m).cosine_embedding_loss(x1, x2, m.tensor(y),
                                                                    margin=mg, reduction=red))
    if kind in ("triplet", "triplet_dist"):
        n, dd = draw(st.integers(0, 3)), draw(st.integers(1, 4))
        shape = (n, dd) if n else (dd,)
        arrays = [a.normal(shape), a.normal(shape), a.normal(shape)]
        mg, swap = draw(st.sampled_from([1.0, 0.5, 2.0])), draw(st.booleans())
        if kind == "triplet":
            p = draw(st.sampled_from([2.0, 1.0, 3.0]))
            return Case("triplet_margin_loss", arrays, lambda m, _, x, y, z: F(m)
                        .triplet_margin_loss(x, y, z, margin=mg, p=p, swap=swap, reduction=red))
        return Case("triplet_margin_with_distance_loss", arrays, lambda m, _, x, y, z: F(m)
                    .triplet_margin_with_distance_loss(x, y, z, margin=mg, swap=swap,
                                                       reduction=red))
    # ctc
    T, N, C = draw(st.integers(1, 6)), draw(st.integers(1, 3)), draw(st.integers(2, 4))
    blank = draw(st.sampled_from([0, C - 1]))
    S = draw(st.integers(0, 4))
    # logits, then log_softmax in the call: torch's ctc gradient is the one through a
    # log_softmax (exp(lp) - posterior), not the one with respect to log_probs themselves
    lp = a.normal((T, N, C))
    tg = a.ints((N, S), 0, C - 1)
    tg[tg >= blank] += 1  # no blank inside a target
    il = a.ints((N,), 1, T + 1)
    tl = a.ints((N,), 0, S + 1)
    zi = draw(st.booleans())
    red = draw(st.sampled_from(["mean", "sum", "none"]))
    return Case("ctc_loss", [lp], lambda m, _, lp: F(m).ctc_loss(
        F(m).log_softmax(lp, -1), m.tensor(tg), m.tensor(il), m.tensor(tl), blank=blank,
        reduction=red, zero_infinity=zi))


# ---- embeddings ----------------------------------------------------------------------------


@gen("embedding")
def _embedding(draw, a: Arrays):
    num, dim = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    pidx = draw(st.sampled_from([None, 0, -1, 1]))
    if pidx is not None and not -num <= pidx < num:
        pidx = None
    max_norm = draw(st.sampled_from([None, None, 1.0, 0.5]))
    norm_type = draw(st.sampled_from([2.0, 1.0, 3.0]))
    if draw(st.booleans()):
        idx = a.ints(ints(draw, 0, 3, draw(st.integers(0, 3))), 0, num + (1 if bad(draw) else 0))
        # scale_grad_by_freq is not drawn: docs/pytorch.md says it is refused here
        return Case("Embedding", [], lambda m, mod: mod(m.tensor(idx)), lambda m: m.nn.Embedding(
            num, dim, padding_idx=pidx, max_norm=max_norm, norm_type=norm_type))
    mode = draw(st.sampled_from(["sum", "mean", "max"]))
    two_d = draw(st.booleans())
    psw = mode == "sum" and draw(st.booleans())
    if two_d:
        idx = a.ints((draw(st.integers(1, 3)), draw(st.integers(1, 3))), 0, num)
        offs = None
        ilo = False
    else:
        idx = a.ints((draw(st.integers(0, 6)),), 0, num)
        ilo = draw(st.booleans())
        cuts = sorted(draw(st.lists(st.integers(0, len(idx)), min_size=1, max_size=3)))
        offs = np.array([0] + cuts[1:] if not bad(draw) else cuts, dtype=np.int64)
        if ilo:
            offs = np.concatenate([offs, [len(idx)]]).astype(np.int64)
    w = a.uniform(idx.shape, 0.1, 2)

    def bag(m, mod, *psw_):
        return mod(m.tensor(idx), None if offs is None else m.tensor(offs),
                   per_sample_weights=psw_[0] if psw_ else None)
    return Case(f"EmbeddingBag {mode}", [w] if psw else [], bag, lambda m: m.nn.EmbeddingBag(
        num, dim, max_norm=max_norm, norm_type=norm_type, mode=mode, include_last_offset=ilo,
        padding_idx=pidx))


# ---- activations ---------------------------------------------------------------------------

ACTS: dict[str, tuple[Callable[..., dict], bool]] = {  # name -> (draw kwargs, takes inplace)
    "relu": (lambda d: {}, True), "relu6": (lambda d: {}, True),
    "elu": (lambda d: {"alpha": d(st.sampled_from([1.0, 0.5, 2.0]))}, True),
    "selu": (lambda d: {}, True),
    "celu": (lambda d: {"alpha": d(st.sampled_from([1.0, 0.5, 2.0]))}, True),
    "gelu": (lambda d: {"approximate": d(st.sampled_from(["none", "tanh"]))}, False),
    "silu": (lambda d: {}, True), "mish": (lambda d: {}, True),
    "hardswish": (lambda d: {}, True), "hardsigmoid": (lambda d: {}, True),
    "hardtanh": (lambda d: {"min_val": d(st.sampled_from([-1.0, -0.5, 0.0])),
                            "max_val": d(st.sampled_from([1.0, 0.5, 2.0]))}, True),
    "leaky_relu": (lambda d: {"negative_slope": d(st.sampled_from([0.01, 0.2, -0.5]))}, True),
    "rrelu": (lambda d: {"lower": 0.1, "upper": 0.3, "training": False}, True),
    "logsigmoid": (lambda d: {}, False), "tanhshrink": (lambda d: {}, False),
    "softplus": (lambda d: {"beta": d(st.sampled_from([1.0, 2.0, 0.5])),
                            "threshold": d(st.sampled_from([20.0, 1.0, 0.5]))}, False),
    "softshrink": (lambda d: {"lambd": d(st.sampled_from([0.5, 1.0, 0.0]))}, False),
    "hardshrink": (lambda d: {"lambd": d(st.sampled_from([0.5, 1.0, 0.0]))}, False),
    "softsign": (lambda d: {}, False), "sigmoid": (lambda d: {}, False),
    "tanh": (lambda d: {}, False),
    "threshold": (lambda d: {"threshold": d(st.sampled_from([0.0, 0.5, -1.0])),
                             "value": d(st.sampled_from([0.0, 2.0, -3.0]))}, True),
}
MODS = {"relu": "ReLU", "relu6": "ReLU6", "elu": "ELU", "selu": "SELU", "celu": "CELU",
        "gelu": "GELU", "silu": "SiLU", "mish": "Mish", "hardswish": "Hardswish",
        "hardsigmoid": "Hardsigmoid", "hardtanh": "Hardtanh", "leaky_relu": "LeakyReLU",
        "logsigmoid": "LogSigmoid", "tanhshrink": "Tanhshrink", "softplus": "Softplus",
        "softshrink": "Softshrink", "hardshrink": "Hardshrink", "softsign": "Softsign",
        "sigmoid": "Sigmoid", "tanh": "Tanh", "threshold": "Threshold"}


@gen("activation")
def _activation(draw, a: Arrays):
    shape = ints(draw, 1, 4, draw(st.integers(0, 4)))
    x = a.normal(shape, kinky=draw(st.booleans())) * draw(st.sampled_from([1, 1, 10]))
    kind = draw(st.sampled_from(sorted(ACTS) + ["softmax", "log_softmax", "softmin", "glu",
                                                "prelu", "Softmax2d", "rrelu_train0"]))
    if kind in ("softmax", "log_softmax", "softmin", "glu"):
        n = max(len(shape), 1)
        dim = draw(st.integers(-n, n - 1)) if not bad(draw) else n
        if kind == "glu":
            return Case("glu", [x], lambda m, _, x: m.nn.functional.glu(x, dim))
        dt = draw(st.sampled_from([None, "float64"]))
        return Case(kind, [x], lambda m, _, x: getattr(m.nn.functional, kind)(
            x, dim, dtype=None if dt is None else m.float64))
    if kind == "prelu":
        c = shape[1] if len(shape) >= 2 else 1
        num = draw(st.sampled_from([1, c]))
        init = draw(st.sampled_from([0.25, -0.5]))
        return Case("PReLU", [x], lambda m, mod, x: mod(x),
                    lambda m: m.nn.PReLU(num, init))
    if kind == "Softmax2d":
        return Case("Softmax2d", [x], lambda m, mod, x: mod(x), lambda m: m.nn.Softmax2d())
    if kind == "rrelu_train0":  # lower == upper: the training draw is deterministic
        return Case("rrelu lower=upper", [x], lambda m, _, x: m.nn.functional.rrelu(
            x, 0.2, 0.2, training=True))
    kwf, inplace_ok = ACTS[kind]
    kw = kwf(draw)
    # torch refuses the backward of an in-place leaky_relu with a negative slope (its own
    # limit: the output does not say the input's sign); ours gives the gradient
    inplace = inplace_ok and draw(st.booleans()) and kw.get("negative_slope", 0) >= 0
    if kind in MODS and draw(st.booleans()):
        mkw = dict(kw)
        if inplace:
            mkw["inplace"] = True

        def run_mod(m, mod, x):
            return mod(x * 1)
        return Case(f"{MODS[kind]}{' inplace' if inplace else ''}", [x], run_mod,
                    lambda m: getattr(m.nn, MODS[kind])(**mkw))
    if inplace:
        def run_inplace(m, _, x):
            # a non-leaf: an in-place write into a leaf is refused; the result is the
            # input itself, written into
            y = x * 1
            out = getattr(m.nn.functional, kind)(y, inplace=True, **kw)
            assert out is y
            return out
        return Case(f"{kind} inplace", [x], run_inplace)
    return Case(kind, [x], lambda m, _, x: getattr(m.nn.functional, kind)(x, **kw))


@gen("dropout")
def _dropout(draw, a: Arrays):
    kind = draw(st.sampled_from(["dropout", "dropout1d", "dropout2d", "dropout3d",
                                 "alpha_dropout", "feature_alpha_dropout"]))
    nd = {"dropout": draw(st.integers(0, 3)), "dropout1d": draw(st.integers(2, 3)),
          "dropout2d": draw(st.integers(3, 4)), "dropout3d": draw(st.integers(4, 5)),
          "alpha_dropout": draw(st.integers(0, 3)),
          "feature_alpha_dropout": draw(st.integers(2, 4))}[kind]
    x = a.normal(ints(draw, 1, 3, nd))
    training = draw(st.booleans())
    p = draw(st.sampled_from([0.0, 1.0] if training else [0.0, 0.5, 1.0]))
    if bad(draw):
        p = 1.5
    if draw(st.booleans()):
        cls = {"dropout": "Dropout", "dropout1d": "Dropout1d", "dropout2d": "Dropout2d",
               "dropout3d": "Dropout3d", "alpha_dropout": "AlphaDropout",
               "feature_alpha_dropout": "FeatureAlphaDropout"}[kind]
        return Case(cls, [x], lambda m, mod, x: mod(x), lambda m: getattr(m.nn, cls)(p),
                    train=training)
    return Case(kind, [x], lambda m, _, x: getattr(m.nn.functional, kind)(x, p, training))


# ---- resampling and reshaping --------------------------------------------------------------


@gen("interpolate")
def _interpolate(draw, a: Arrays):
    d = draw(st.integers(1, 3))
    modes = ["nearest", "nearest-exact", "area", {1: "linear", 2: "bilinear", 3: "trilinear"}[d]]
    if d == 2:
        modes.append("bicubic")
    mode = draw(st.sampled_from(modes))
    if bad(draw):
        mode = draw(st.sampled_from(["linear", "bilinear", "bicubic", "trilinear"]))
    spatial = ints(draw, 1, 5 if d < 3 else 3, d)
    x = a.normal((draw(st.integers(1, 2)), draw(st.integers(1, 2))) + spatial)
    kw: dict[str, Any] = {"mode": mode}
    if draw(st.booleans()):
        size = ints(draw, 1, 7 if d < 3 else 4, d)
        kw["size"] = one_or_tuple(draw, size)
    else:
        sf = tuple(draw(st.sampled_from([0.5, 1.0, 1.5, 2.0, 2.5, 0.7, 3.0])) for _ in range(d))
        kw["scale_factor"] = sf[0] if draw(st.booleans()) else sf
        kw["recompute_scale_factor"] = draw(st.sampled_from([None, True, False]))
    if mode in ("linear", "bilinear", "bicubic", "trilinear"):
        kw["align_corners"] = draw(st.sampled_from([None, True, False]))
    if draw(st.integers(0, 4)) == 0:
        cls = "UpsamplingNearest2d" if mode == "nearest" else "Upsample"
        if cls == "UpsamplingNearest2d" and d != 2:
            cls = "Upsample"
        if cls == "Upsample":
            mkw = {k: v for k, v in kw.items() if k != "recompute_scale_factor"}
        else:
            mkw = {k: v for k, v in kw.items() if k in ("size", "scale_factor")}
        return Case(cls, [x], lambda m, mod, x: mod(x), lambda m: getattr(m.nn, cls)(**mkw))
    return Case(f"interpolate {mode}", [x], lambda m, _, x: m.nn.functional.interpolate(x, **kw))


@gen("pad")
def _pad(draw, a: Arrays):
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    nd = draw(st.integers(1, 5))
    shape = ints(draw, 1, 4, nd)
    k = draw(st.integers(1, min(nd, 3)))
    lo = -1 if mode in ("constant", "circular") else 0
    pads = tuple(draw(st.integers(lo, 3)) for _ in range(2 * k))
    if mode == "circular":  # torch reads uninitialised memory where a wrap passes a crop
        axes = shape[::-1][:k]
        pads = tuple(p if p >= 0 or axes[i // 2] + p >= pads[i ^ 1] else 0
                     for i, p in enumerate(pads))
    x = a.normal(shape)
    value = draw(st.sampled_from([0.0, 1.5]))
    if draw(st.integers(0, 2)) == 0:  # the module: ZeroPad2d, ReflectionPad3d, ...
        cls = {"constant": "ConstantPad", "reflect": "ReflectionPad",
               "replicate": "ReplicationPad", "circular": "CircularPad"}[mode]
        if mode == "constant" and value == 0 and draw(st.booleans()):
            cls = "ZeroPad"
        cls += f"{k}d"
        arg = pads[0] if len(set(pads)) == 1 and draw(st.booleans()) else pads
        return Case(cls, [x], lambda m, mod, x: mod(x), lambda m: getattr(m.nn, cls)(
            arg, *([value] if cls.startswith("Constant") else [])))
    if mode == "constant":
        return Case("pad constant", [x], lambda m, _, x: m.nn.functional.pad(x, pads,
                                                                             value=value))
    return Case(f"pad {mode}", [x], lambda m, _, x: m.nn.functional.pad(x, pads, mode=mode))


@gen("shuffle")
def _shuffle(draw, a: Arrays):
    kind = draw(st.sampled_from(["pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
                                 "unfold", "fold", "one_hot"]))
    r = draw(st.integers(1, 3))
    lead = ints(draw, 1, 2, draw(st.integers(0, 2)))
    if kind == "pixel_shuffle":
        c = draw(st.integers(1, 2)) * r * r + (1 if bad(draw) else 0)
        x = a.normal(lead + (c,) + ints(draw, 1, 3, 2))
        return Case(kind, [x], lambda m, _, x: m.nn.functional.pixel_shuffle(x, r))
    if kind == "pixel_unshuffle":
        h, w = (r * draw(st.integers(1, 2)) for _ in range(2))
        x = a.normal(lead + (draw(st.integers(1, 2)), h + (1 if bad(draw) else 0), w))
        return Case(kind, [x], lambda m, _, x: m.nn.functional.pixel_unshuffle(x, r))
    if kind == "channel_shuffle":
        g = draw(st.integers(1, 3))
        x = a.normal((draw(st.integers(1, 2)), g * draw(st.integers(1, 2)))
                     + ints(draw, 1, 2, draw(st.integers(0, 2))))
        return Case(kind, [x], lambda m, mod, x: mod(x), lambda m: m.nn.ChannelShuffle(g))
    if kind == "one_hot":
        n = draw(st.integers(1, 4))
        t = a.ints(ints(draw, 0, 3, draw(st.integers(0, 2))), 0, n + (1 if bad(draw) else 0))
        nc = draw(st.sampled_from([-1, n, n + 2]))
        return Case(kind, [], lambda m, _: m.nn.functional.one_hot(m.tensor(t), nc))
    k = ints(draw, 1, 3, 2)
    dil, pad, stride = ints(draw, 1, 2, 2), ints(draw, 0, 1, 2), ints(draw, 1, 2, 2)
    kw = dict(kernel_size=one_or_tuple(draw, k), dilation=one_or_tuple(draw, dil),
              padding=one_or_tuple(draw, pad), stride=one_or_tuple(draw, stride))
    c = draw(st.integers(1, 2))
    batched = draw(st.booleans())
    if kind == "unfold":
        x = a.normal(((2,) if batched else ()) + (c,) + ints(draw, 1, 5, 2))
        return Case("unfold", [x], lambda m, _, x: m.nn.functional.unfold(x, **kw))
    osz = ints(draw, 1, 5, 2)
    nb = [(o + 2 * p - dl * (kk - 1) - 1) // s + 1 for o, p, dl, kk, s in
          zip(osz, pad, dil, k, stride)]
    L = nb[0] * nb[1] + (1 if bad(draw) else 0)
    x = a.normal(((2,) if batched else ()) + (c * k[0] * k[1], max(L, 0)))
    return Case("fold", [x], lambda m, _, x: m.nn.functional.fold(x, osz, **kw))


@gen("grid")
def _grid(draw, a: Arrays):
    d = draw(st.sampled_from([2, 3]))
    ac = draw(st.booleans())
    if draw(st.integers(0, 2)) == 0:
        n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        size = (n, c) + ints(draw, 1, 4, d)
        theta = a.normal((n, d, d + 1)) * 0.5
        return Case("affine_grid", [theta], lambda m, _, t: m.nn.functional.affine_grid(
            t, list(size), align_corners=ac))
    mode = draw(st.sampled_from(["bilinear", "nearest"]))  # bicubic is refused (docs/pytorch.md)
    pm = draw(st.sampled_from(["zeros", "border", "reflection"]))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    x = a.normal((n, c) + ints(draw, 1, 4, d))
    g = a.uniform((n,) + ints(draw, 1, 3, d) + (d,), -1.3, 1.3)
    return Case(f"grid_sample {mode} {pm}", [x, g], lambda m, _, x, g: m.nn.functional
                .grid_sample(x, g, mode=mode, padding_mode=pm, align_corners=ac),
                nograd={1} if mode == "nearest" else set())


@gen("distance")
def _distance(draw, a: Arrays):
    kind = draw(st.sampled_from(["cosine_similarity", "pairwise_distance", "normalize",
                                 "pdist", "cdist"]))
    shape = ints(draw, 1, 3, draw(st.integers(1, 3)))
    x = a.normal(shape)
    if kind == "normalize":
        p = draw(st.sampled_from([2.0, 1.0, 3.0, math.inf]))
        dim = draw(st.integers(-len(shape), len(shape) - 1))
        eps = draw(st.sampled_from([1e-12, 0.5]))
        if draw(st.booleans()):
            x[..., 0] = 0
        return Case("normalize", [x], lambda m, _, x: m.nn.functional.normalize(x, p, dim, eps))
    if kind == "pdist":
        x = a.normal((draw(st.integers(1, 4)), draw(st.integers(1, 3))))
        p = draw(st.sampled_from([2.0, 1.0, 3.0, math.inf, 0.0]))
        return Case("pdist", [x], lambda m, _, x: m.nn.functional.pdist(x, p))
    if kind == "cdist":
        b, d = draw(st.integers(1, 2)), draw(st.integers(1, 3))
        x1 = a.normal((b, draw(st.integers(1, 4)), d))
        x2 = a.normal((b, draw(st.integers(1, 4)), d))
        p = draw(st.sampled_from([2.0, 1.0, 3.0, math.inf, 0.0]))
        return Case("cdist", [x1, x2], lambda m, _, x1, x2: m.cdist(x1, x2, p))
    # broadcasting partner: a suffix of the shape with some ones
    s2 = tuple(1 if draw(st.integers(0, 3)) == 0 else s for s in shape[draw(st.integers(
        0, len(shape) - 1)):])
    y = a.normal(s2)
    if kind == "cosine_similarity":
        dim = draw(st.integers(-len(s2), len(s2) - 1))
        eps = draw(st.sampled_from([1e-8, 0.5]))
        return Case(kind, [x, y], lambda m, _, x, y: m.nn.functional.cosine_similarity(
            x, y, dim, eps))
    p = draw(st.sampled_from([2.0, 1.0, 3.0, math.inf]))
    keep = draw(st.booleans())
    eps = draw(st.sampled_from([1e-6, 0.5]))
    return Case(kind, [x, y], lambda m, _, x, y: m.nn.functional.pairwise_distance(
        x, y, p, eps, keep))


# ---- attention, transformer layers, recurrent layers ---------------------------------------


@gen("sdpa")
def _sdpa(draw, a: Arrays):
    lead = ints(draw, 1, 2, draw(st.integers(0, 2)))
    L, S, E, Ev = (draw(st.integers(1, 4)) for _ in range(4))
    gqa = len(lead) >= 1 and draw(st.booleans())
    hq = lead[-1] * (draw(st.integers(1, 2)) if gqa else 1) if lead else None
    qlead = lead[:-1] + (hq,) if lead else lead
    q, k, v = a.normal(qlead + (L, E)), a.normal(lead + (S, E)), a.normal(lead + (S, Ev))
    mask_kind = draw(st.sampled_from(["none", "bool", "float", "causal"]))
    mshape = draw(st.sampled_from([(L, S), (1, S), (L, 1)]))
    arrays = [q, k, v]
    mask = None
    if mask_kind == "bool":
        mask = a.ints(mshape, 0, 2).astype(bool)
        if draw(st.booleans()):
            mask[..., 0] = True  # no row fully masked
    elif mask_kind == "float":
        arrays.append(a.normal(mshape))
    scale = draw(st.sampled_from([None, 0.5]))
    causal = mask_kind == "causal"

    def sdpa(m, _, q, k, v, fm=None):
        am = fm if fm is not None else (None if mask is None else m.tensor(mask))
        return m.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=am, is_causal=causal, scale=scale, enable_gqa=gqa)
    return Case("scaled_dot_product_attention", arrays, sdpa)


@gen("mha")
def _mha(draw, a: Arrays):
    h = draw(st.integers(1, 2))
    e = h * draw(st.integers(1, 3)) + (1 if bad(draw) else 0)
    kd = draw(st.sampled_from([None, 3]))
    vd = draw(st.sampled_from([None, 2])) if kd else None
    bf = draw(st.booleans())
    bias, abkv, azn = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    L, S, N = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    batched = draw(st.booleans())

    def shp(t, f):
        return ((N, t, f) if bf else (t, N, f)) if batched else (t, f)
    q = a.normal(shp(L, e))
    self_attn = kd is None and draw(st.booleans())
    k = q if self_attn else a.normal(shp(S, kd or e))
    v = q if self_attn else a.normal(shp(S, vd or kd or e))
    S = L if self_attn else S
    kpm = None
    if draw(st.booleans()):
        kpm = a.ints((N, S) if batched else (S,), 0, 2).astype(bool)
        if draw(st.booleans()):
            kpm[..., 0] = False  # every query has a key (else NaN, or 0 without weights)
    am = None
    if draw(st.booleans()):
        am = a.ints((L, S), 0, 2).astype(bool)
        if draw(st.booleans()):
            am[:, 0] = False
        if draw(st.booleans()):
            am = np.where(am, -1e4, 0.0).astype(a.dt)
    nw, avg = draw(st.booleans()), draw(st.booleans())

    def run(m, mod, *xs):
        qq = xs[0]
        kk, vv = (qq, qq) if self_attn else (xs[1], xs[2])
        return mod(qq, kk, vv, key_padding_mask=None if kpm is None else m.tensor(kpm),
                   need_weights=nw, attn_mask=None if am is None else m.tensor(am),
                   average_attn_weights=avg)
    return Case("MultiheadAttention", [q] if self_attn else [q, k, v], run,
                lambda m: m.nn.MultiheadAttention(e, h, bias=bias, add_bias_kv=abkv,
                                                  add_zero_attn=azn, kdim=kd, vdim=vd,
                                                  batch_first=bf), loose=True)


@gen("transformer")
def _transformer(draw, a: Arrays):
    h = draw(st.integers(1, 2))
    d = h * draw(st.integers(1, 3))
    ff = draw(st.integers(1, 5))
    act = draw(st.sampled_from(["relu", "gelu"]))
    bf, nf = draw(st.booleans()), draw(st.booleans())
    bias = draw(st.booleans())
    L, S, N = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    batched = draw(st.booleans())
    train = draw(st.booleans())

    def shp(t):
        return ((N, t, d) if bf else (t, N, d)) if batched else (t, d)
    kw = dict(dim_feedforward=ff, dropout=0.0, activation=act, batch_first=bf, norm_first=nf,
              bias=bias)
    causal = draw(st.booleans())
    if draw(st.booleans()):
        x = a.normal(shp(L))

        def enc(m, mod, x):
            mask = m.nn.Transformer.generate_square_subsequent_mask(
                L, dtype=fdt(m, a.dt)) if causal else None
            return mod(x, src_mask=mask, is_causal=causal and mask is not None)
        return Case("TransformerEncoderLayer", [x], enc, lambda m: m.nn.TransformerEncoderLayer(
            d, h, **kw), train=train, loose=True)
    x, mem = a.normal(shp(L)), a.normal(shp(S))

    def dec(m, mod, x, mem):
        mask = m.nn.Transformer.generate_square_subsequent_mask(L, dtype=fdt(m, a.dt)) \
            if causal else None
        return mod(x, mem, tgt_mask=mask, tgt_is_causal=causal)
    return Case("TransformerDecoderLayer", [x, mem], dec, lambda m: m.nn.TransformerDecoderLayer(
        d, h, **kw), train=train, loose=True)


@gen("rnn")
def _rnn(draw, a: Arrays):
    kind = draw(st.sampled_from(["RNN", "LSTM", "GRU"]))
    I, H = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    nl = draw(st.integers(1, 2))
    bi, bf, bias = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    proj = draw(st.integers(0, H - 1)) if kind == "LSTM" else 0
    if kind == "LSTM" and bad(draw):
        proj = H
    nonlin = draw(st.sampled_from(["tanh", "relu"]))
    T, B = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    packed = draw(st.integers(0, 2)) == 0
    batched = packed or draw(st.booleans())
    x = a.normal(((B, T) if bf else (T, B)) + (I,) if batched else (T, I))
    D = 2 if bi else 1
    hout = proj or H
    h0 = draw(st.booleans())
    hs = (nl * D, B) if batched else (nl * D,)
    arrays = [x]
    if h0:
        arrays.append(a.normal(hs + (hout,)))
        if kind == "LSTM":
            arrays.append(a.normal(hs + (H,)))
    lengths = sorted(a.ints((B,), 1, T + 1).tolist(), reverse=True)
    sorted_ = draw(st.booleans())
    if not sorted_:
        a.rng.shuffle(lengths)

    def run(m, mod, x, *st0):
        hx = None
        if st0:
            hx = tuple(st0) if kind == "LSTM" else st0[0]
        if packed:
            U = m.nn.utils.rnn
            p = U.pack_padded_sequence(x, m.tensor(np.array(lengths, dtype=np.int64)),
                                       batch_first=bf, enforce_sorted=sorted_)
            out, hn = mod(p, hx)
            return U.pad_packed_sequence(out, batch_first=bf)[0], hn
        return mod(x, hx)
    kw = dict(num_layers=nl, bias=bias, batch_first=bf, bidirectional=bi)
    if kind == "RNN":
        kw["nonlinearity"] = nonlin
    if proj:
        kw["proj_size"] = proj
    return Case(f"{kind}{' packed' if packed else ''}", arrays, run,
                lambda m: getattr(m.nn, kind)(I, H, **kw))


@gen("layers")
def _layers(draw, a: Arrays):
    kind = draw(st.sampled_from(["Linear", "Bilinear", "RNNCell", "LSTMCell", "GRUCell",
                                 "Flatten", "Unflatten", "embedding_f"]))
    lead = ints(draw, 1, 3, draw(st.integers(0, 2)))
    bias = draw(st.booleans())
    i, o = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    wrong = 1 if bad(draw) else 0
    if kind == "Linear":
        return Case(kind, [a.normal(lead + (i + wrong,))], lambda m, mod, x: mod(x),
                    lambda m: m.nn.Linear(i, o, bias=bias))
    if kind == "Bilinear":
        j = draw(st.integers(1, 3))
        return Case(kind, [a.normal(lead + (i,)), a.normal(lead + (j + wrong,))],
                    lambda m, mod, x, y: mod(x, y), lambda m: m.nn.Bilinear(i, j, o, bias=bias))
    if kind.endswith("Cell"):
        batch = lead[:1]
        arrays = [a.normal(batch + (i + wrong,))]
        if draw(st.booleans()):
            arrays.append(a.normal(batch + (o,)))
            if kind == "LSTMCell":
                arrays.append(a.normal(batch + (o,)))
        nl = draw(st.sampled_from(["tanh", "relu"]))

        def cell(m, mod, x, *hx):
            if not hx:
                return mod(x)
            return mod(x, tuple(hx) if kind == "LSTMCell" else hx[0])
        return Case(kind, arrays, cell, lambda m: getattr(m.nn, kind)(
            i, o, bias=bias, **({"nonlinearity": nl} if kind == "RNNCell" else {})))
    if kind == "Flatten":
        x = a.normal(ints(draw, 1, 3, draw(st.integers(1, 4))))
        n = x.ndim
        sd, ed = draw(st.integers(-n, n - 1)), draw(st.integers(-n, n - 1))
        return Case(kind, [x], lambda m, mod, x: mod(x), lambda m: m.nn.Flatten(sd, ed))
    if kind == "Unflatten":
        x = a.normal(ints(draw, 1, 4, draw(st.integers(1, 3))))
        dim = draw(st.integers(-x.ndim, x.ndim - 1))
        size = x.shape[dim]
        sizes = draw(st.sampled_from([(size,), (1, size), (size, 1), (-1, 1), (2, -1)]))
        return Case(kind, [x], lambda m, mod, x: mod(x), lambda m: m.nn.Unflatten(dim, sizes))
    # F.embedding of a weight input: max_norm renormalises the looked-up rows in place
    num, dim = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    idx = a.ints(ints(draw, 1, 3, draw(st.integers(1, 2))), 0, num)
    mn = draw(st.sampled_from([None, 1.0, 0.5]))
    pidx = draw(st.sampled_from([None, 0]))
    w = a.normal((num, dim))

    def emb(m, _, w):
        w2 = w * 1  # a non-leaf: the renormalisation writes into it
        y = m.nn.functional.embedding(m.tensor(idx), w2, padding_idx=pidx, max_norm=mn)
        return y, w2.detach()
    return Case("embedding", [w], emb)


LOSS_MODULES = ["L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss",
                "CrossEntropyLoss", "NLLLoss", "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss",
                "SoftMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss",
                "HingeEmbeddingLoss", "CosineEmbeddingLoss", "MarginRankingLoss",
                "TripletMarginLoss"]


@gen("loss_module")
def _loss_module(draw, a: Arrays):
    """The loss modules: their arguments and buffers (weight, pos_weight) as torch's."""
    kind = draw(st.sampled_from(LOSS_MODULES))
    red = draw(RED)
    n, c = draw(st.integers(1, 3)), draw(st.integers(2, 4))
    x = a.normal((n, c))
    kw: dict[str, Any] = {"reduction": red}
    w = a.uniform((c,), 0.1, 2)
    if kind in ("L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "SoftMarginLoss"):
        t = a.normal((n, c)) if kind != "SoftMarginLoss" else np.sign(a.normal((n, c)))
        # torch has no gradient of soft_margin_loss for its target (refused); ours has one
        return Case(kind, [x, t], lambda m, mod, x, t: mod(x, t),
                    lambda m: getattr(m.nn, kind)(**kw),
                    nograd={1} if kind == "SoftMarginLoss" else set())
    if kind in ("BCELoss", "BCEWithLogitsLoss", "MultiLabelSoftMarginLoss"):
        t = a.uniform((n, c), 0, 1)
        if kind == "BCELoss":
            x = a.uniform((n, c), 0.05, 0.95)
        if draw(st.booleans()):
            kw["weight"] = "w"
        if kind == "BCEWithLogitsLoss" and draw(st.booleans()):
            kw["pos_weight"] = "pw"
        pw = a.uniform((c,), 0.1, 3)
        return Case(kind, [x, t], lambda m, mod, x, t: mod(x, t), lambda m: getattr(m.nn, kind)(
            **{k: m.tensor({"w": w, "pw": pw}[v]) if v in ("w", "pw") else v
               for k, v in kw.items()}), nograd={1})
    if kind in ("CrossEntropyLoss", "NLLLoss", "MultiMarginLoss"):
        t = a.ints((n,), 0, c)
        if kind != "MultiMarginLoss":
            kw["ignore_index"] = draw(st.sampled_from([-100, 1]))
            if red == "mean" and np.all(t == kw["ignore_index"]):
                kw["reduction"] = "sum"  # docs/pytorch.md: the mean of no target is 0 here
        if kind == "CrossEntropyLoss":
            kw["label_smoothing"] = draw(st.sampled_from([0.0, 0.2]))
        else:
            x = x - np.log(np.exp(x).sum(1, keepdims=True))
        wt = draw(st.booleans())
        return Case(kind, [x], lambda m, mod, x: mod(x, m.tensor(t)),
                    lambda m: getattr(m.nn, kind)(weight=m.tensor(w) if wt else None, **kw))
    if kind == "KLDivLoss":
        lt = draw(st.booleans())
        t = np.log(a.uniform((n, c), 0.05, 1)) if lt else a.uniform((n, c), 0, 1)
        r = draw(st.sampled_from(["mean", "sum", "batchmean"]))
        return Case(kind, [np.log(a.uniform((n, c), 0.05, 1)), t],
                    lambda m, mod, x, t: mod(x, t), lambda m: m.nn.KLDivLoss(reduction=r,
                                                                             log_target=lt))
    if kind == "PoissonNLLLoss":
        li, full = draw(st.booleans()), draw(st.booleans())
        t = a.ints((n, c), 0, 5).astype(a.dt)
        return Case(kind, [x if li else np.abs(x) + 0.1, t], lambda m, mod, x, t: mod(x, t),
                    lambda m: m.nn.PoissonNLLLoss(log_input=li, full=full, **kw),
                    nograd={1})
    if kind == "GaussianNLLLoss":
        full = draw(st.booleans())
        return Case(kind, [x, a.normal((n, c)), a.uniform((n, 1), 0.1, 2)],
                    lambda m, mod, x, t, v: mod(x, t, v),
                    lambda m: m.nn.GaussianNLLLoss(full=full, **kw))
    mg = draw(st.sampled_from([0.0, 0.5]))
    y = np.sign(a.normal((n,))).astype(a.dt)
    if kind == "HingeEmbeddingLoss":
        return Case(kind, [x, np.sign(a.normal((n, c)))], lambda m, mod, x, t: mod(x, t),
                    lambda m: m.nn.HingeEmbeddingLoss(margin=mg, **kw), nograd={1})
    if kind == "CosineEmbeddingLoss":
        return Case(kind, [x, a.normal((n, c))], lambda m, mod, x, z: mod(x, z, m.tensor(y)),
                    lambda m: m.nn.CosineEmbeddingLoss(margin=mg, **kw))
    if kind == "MarginRankingLoss":
        return Case(kind, [x[:, 0], a.normal((n,))], lambda m, mod, x, z: mod(x, z, m.tensor(y)),
                    lambda m: m.nn.MarginRankingLoss(margin=mg, **kw))
    return Case(kind, [x, a.normal((n, c)), a.normal((n, c))],
                lambda m, mod, x, p, q: mod(x, p, q),
                lambda m: m.nn.TripletMarginLoss(margin=mg + 0.5, **kw))


# ---- the runner ----------------------------------------------------------------------------


def _flat(out) -> list:
    if out is None:
        return []
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    if hasattr(out, "data") and hasattr(out, "batch_sizes"):  # a PackedSequence
        return _flat(out.data)
    return [out]


def _np(t) -> np.ndarray:
    return np.array(t.detach().cpu().numpy() if hasattr(t, "cpu") else t.detach().numpy())


def _is_float(t) -> bool:
    return str(t.dtype).removeprefix("torch.") in ("float32", "float64")


@dataclass
class Result:
    error: BaseException | None = None
    stage: str = ""
    outs: list = field(default_factory=list)  # (array, dtype name, requires_grad)
    grads: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict)  # parameters and buffers after the call


def _execute(case: Case, m, dt, state0, wseed, mod_dt=None) -> tuple[Result, dict | None]:
    """Run ``case`` in ``m``; the module in ``mod_dt`` (the inputs' dtype by default)."""
    r = Result()
    mod = None
    sd = None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            r.stage = "build"
            if case.make is not None:
                mod = case.make(m)
                mod = mod.double() if (mod_dt or dt) == np.float64 else mod.float()
                if m is torch:  # perturbed, so a norm's ones and zeros are not all that runs
                    g = np.random.default_rng(wseed + 1)
                    with torch.no_grad():
                        for name, t in mod.state_dict().items():
                            if not t.is_floating_point():
                                continue
                            noise = torch.tensor(g.standard_normal(tuple(t.shape)) * 0.2,
                                                 dtype=t.dtype)
                            t.copy_(t.abs() + 0.5 + noise.abs() if "running_var" in name
                                    else t + noise)
                    sd = {k: v.detach().numpy().copy() for k, v in mod.state_dict().items()}
                else:
                    mod.load_state_dict(state0)
                mod.train(case.train)
            r.stage = "forward"
            leaves = [m.tensor(x.copy(), requires_grad=(x.dtype.kind == "f"
                                                        and k not in case.nograd))
                      for k, x in enumerate(case.arrays)]
            outs = _flat(case.call(m, mod, *leaves))
            r.outs = [(_np(o), str(o.dtype).removeprefix("torch."), bool(o.requires_grad))
                      for o in outs]
            r.stage = "backward"
            g = np.random.default_rng(wseed)
            ws = [g.standard_normal(tuple(o.shape)) for o in outs]
            terms = [(o * m.tensor(w.astype(v.dtype))).sum() for o, w, (v, _, _) in
                     zip(outs, ws, r.outs) if o.requires_grad and _is_float(o)]
            if terms:
                sum(terms).backward()
            for k, x in enumerate(leaves):
                r.grads[f"input {k}"] = None if x.grad is None else _np(x.grad)
            if mod is not None:
                for name, p in mod.named_parameters():
                    r.grads[name] = None if p.grad is None else _np(p.grad)
                for name, t in mod.state_dict().items():
                    r.state[name] = _np(t)
            else:
                for k, x in enumerate(leaves):
                    r.state[f"input {k}"] = _np(x)
        except Exception as e:  # noqa: BLE001
            r.error = e
    return r, sd


def _close(name, ours, theirs, dt, loose, ref=None):
    """``close`` to a tolerance of the dtype (100 times looser for a long composition)."""
    close(name, ours, theirs, (1e-8 if dt == np.float64 else 2e-4) * (100 if loose else 1), ref)


def _arguments(case: Case) -> dict:
    """The values the case's functions close over: its drawn arguments, for the report."""
    out = {}
    for f in (case.call, case.make):
        if f is None:
            continue
        for name, cell in zip(f.__code__.co_freevars, f.__closure__ or ()):
            v = cell.cell_contents
            if not callable(v) and not isinstance(v, Arrays):
                out[name] = v
    return out


RECURRENT = ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")


def _run_case(data, families):
    draw = data.draw
    fam = draw(st.sampled_from(sorted(families)))
    dt = draw(st.sampled_from([np.float64, np.float32]))
    seed = draw(st.integers(0, 2**32 - 1))
    case = GENS[fam](draw, Arrays(np.random.default_rng(seed), dt))
    note(f"{case.name} {np.dtype(dt).name}: inputs {[x.shape for x in case.arrays]}")
    note(f"arguments: {_arguments(case)}")
    for k, x in enumerate(case.arrays):
        note(f"input {k} = np.array({x.tolist()!r})")
    # now and then a module in the other float dtype than its inputs: both must refuse
    mod_dt = ({np.float64: np.float32, np.float32: np.float64}[dt]
              if case.make is not None and bad(draw) else None)
    if mod_dt is not None:
        note(f"the module in {np.dtype(mod_dt).name}")
    floats = [k for k, x in enumerate(case.arrays) if x.dtype.kind == "f"]
    # (not huber_loss: torch's gives the input's dtype, then its backward fails on the mix;
    # binary_cross_entropy_with_logits of a float64 input gives a float32 target's dtype;
    # multilabel_soft_margin_loss: ours casts the target to the input's dtype; the recurrent
    # layers: torch checks no dtype of LSTMCell's c, ours checks every state's; torch's
    # conv_transpose1d/2d take a bias of another dtype, its 3d and every conv refuse it)
    if len(floats) >= 2 and bad(draw) and case.name not in (
            "huber_loss", "HuberLoss", "binary_cross_entropy_with_logits", "BCEWithLogitsLoss",
            "multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss", "conv_transpose1d",
            "conv_transpose2d") and \
            case.name.split()[0] not in RECURRENT:
        # one input in the other float dtype: both promote, or both refuse
        k = draw(st.sampled_from(floats))
        other = np.float32 if dt == np.float64 else np.float64
        case = replace(case, arrays=[x.astype(other) if j == k else x
                                     for j, x in enumerate(case.arrays)])
        mod_dt = mod_dt or dt  # (float32's tolerance)
        note(f"input {k} in {np.dtype(other).name}")
    t, sd = _execute(case, torch, dt, None, seed, mod_dt)
    o, _ = _execute(case, tr, dt, sd, seed, mod_dt)
    r = Result(error=ValueError())  # torch in float64 on the same inputs, for float32 cases
    if dt == np.float32 and mod_dt is None and t.error is None and o.error is None:
        r, _ = _execute(replace(case, arrays=[x.astype(np.float64) if x.dtype == np.float32
                                              else x for x in case.arrays]),
                        torch, np.float64, None, seed)
    ref = {} if r.error is not None else {
        **{f"output {k}": v for k, (v, _, _) in enumerate(r.outs)},
        **{f"grad of {n}": v for n, v in r.grads.items()}, **r.state}
    label = f"{case.name} ({np.dtype(dt).name})"
    if mod_dt is not None:
        dt = np.float32  # one of the two is float32: its tolerance
    if t.error is not None or o.error is not None:
        event(f"raised: {fam} torch={type(t.error).__name__} ours={type(o.error).__name__}")
    if t.error is not None:
        assert o.error is not None, f"{label}: torch raised at {t.stage}: {t.error!r}; ours " \
            "did not"
        return
    assert o.error is None, f"{label}: ours raised at {o.stage}: {o.error!r}; torch did not"
    RAN[case.name] += 1
    event(f"ran: {fam}")
    assert len(o.outs) == len(t.outs), f"{label}: {len(o.outs)} outputs vs {len(t.outs)}"
    for k, ((ov, od, og), (tv, td, tg)) in enumerate(zip(o.outs, t.outs)):
        assert od == td, f"{label}: output {k} dtype {od} vs torch {td}"
        assert og == tg, f"{label}: output {k} requires_grad {og} vs torch {tg}"
        _close(f"{label}: output {k}", ov, tv, dt, case.loose, ref.get(f"output {k}"))
    if case.inf_window and any(np.isneginf(v).any() for v, _, _ in t.outs):
        event("max pool: a window over padding alone")
        return
    for name in t.grads:
        tg, og = t.grads[name], o.grads.get(name, "missing")
        assert not isinstance(og, str), f"{label}: ours has no {name}"
        if tg is None or og is None:
            # an unused parameter's gradient: None in one, zeros in the other is no error
            other = og if tg is None else tg
            assert other is None or not np.any(other), f"{label}: grad of {name}: torch " \
                f"{'None' if tg is None else tg}, ours {'None' if og is None else og}"
            continue
        _close(f"{label}: grad of {name}", og, tg, dt, case.loose, ref.get(f"grad of {name}"))
    assert set(o.state) == set(t.state), f"{label}: state {sorted(o.state)} vs " \
        f"{sorted(t.state)}"
    for name in t.state:
        _close(f"{label}: {name} after the call", o.state[name], t.state[name], dt, case.loose,
               ref.get(name))


FAMILIES = sorted(GENS)


def _scaled(factor: int):
    return settings(max_examples=settings.default.max_examples * factor)


@pytest.mark.parametrize("family", FAMILIES)
@_scaled(2)
@given(data=st.data())
def test_nn_call_matches_torch(family, data):
    _run_case(data, {family})

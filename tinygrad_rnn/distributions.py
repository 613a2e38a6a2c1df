"""Probability distributions, as ``torch.distributions``: ``Categorical`` (sampling the next
character of a language model), ``Bernoulli`` and ``Normal`` (the reparameterised sample of a
VAE), with ``log_prob``, ``entropy`` and ``kl_divergence``, all differentiable in their
parameters. Samples are drawn on the host from ``tr.manual_seed``'s generator (other numbers
than PyTorch's for one seed) and moved to the parameters' device.

    dist = tr.distributions.Categorical(logits=model(x)[:, -1])
    next_char = dist.sample()                 # int64, one per row
    loss = -dist.log_prob(targets).mean()
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import functional as F
from . import random as _random
from .tensor import Tensor, tensor


def _as_tensor(value: Any, like: Tensor | None = None) -> Tensor:
    """``value`` as a floating-point tensor (of ``like``'s dtype and device, for a number)."""
    if isinstance(value, Tensor):
        return value if value.dtype.kind == "f" else value.float()
    if like is not None:
        return tensor(value, dtype=like.dtype, device=like.device)
    return tensor(value, dtype="float32")


def _one_of(probs: Any, logits: Any, name: str) -> None:
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: give either probs or logits, not both nor neither")


def _shape(sample_shape: Any) -> tuple[int, ...]:
    return (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)


class Distribution:
    """What every distribution here has: ``batch_shape``, ``event_shape``, ``sample``,
    ``log_prob``, ``entropy``, ``mean``, ``variance`` and ``stddev``."""

    batch_shape: tuple[int, ...]
    event_shape: tuple[int, ...] = ()

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(batch_shape={self.batch_shape})"


class Categorical(Distribution):
    """K categories, the last axis of ``probs`` (nonnegative, normalised here) or ``logits``
    (log-probabilities up to a constant): p(k) = probs[..., k] = softmax(logits)[..., k]."""

    def __init__(self, probs: Any = None, logits: Any = None) -> None:
        _one_of(probs, logits, "Categorical")
        if logits is not None:
            raw = _as_tensor(logits)
            self.logits = raw - raw.logsumexp(-1, keepdims=True)
            self.probs = self.logits.exp()
        else:
            p = _as_tensor(probs)
            self.probs = p / p.sum(-1, keepdims=True)
            eps = float(np.finfo(self.probs.dtype).eps)  # log(0) as log(eps), as PyTorch
            self.logits = self.probs.clamp(eps, 1 - eps).log()
        if self.probs.ndim == 0:
            raise ValueError("Categorical: probs or logits need at least one axis (the "
                             "categories)")
        self.batch_shape = self.probs.shape[:-1]

    @property
    def mean(self) -> Tensor:  # as PyTorch's: not defined over categories
        return self.probs.new_full(self.batch_shape, float("nan"))

    @property
    def variance(self) -> Tensor:
        return self.mean

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Category indices (int64) of shape ``sample_shape + batch_shape``."""
        shape = _shape(sample_shape)
        p = self.probs.numpy().astype(np.float64).reshape(-1, self.probs.shape[-1])
        u = _random.generator().random((math.prod(shape), len(p), 1))
        cdf = np.cumsum(p / p.sum(-1, keepdims=True), -1)
        k = np.minimum((u > cdf).sum(-1), p.shape[-1] - 1)  # inverse of the CDF per row
        return tensor(k.reshape(shape + self.batch_shape), dtype="int64",
                      device=self.probs.device)

    def log_prob(self, value: Tensor) -> Tensor:
        """log p(value) for category indices ``value`` (broadcast against batch_shape)."""
        v = value if isinstance(value, Tensor) else tensor(value, dtype="int64")
        if v.dtype.kind not in "iu":
            raise TypeError(f"Categorical.log_prob: the value must hold integer categories, "
                            f"got {v.dtype}")
        shape = np.broadcast_shapes(v.shape, self.batch_shape)
        logits = self.logits.broadcast_to(shape + self.logits.shape[-1:])
        return logits.gather(-1, v.broadcast_to(shape).unsqueeze(-1).long()).squeeze(-1)

    def entropy(self) -> Tensor:
        """-sum_k p_k log p_k (a category of probability 0 adds 0)."""
        plogp = (self.probs * self.logits).masked_fill(self.probs == 0, 0.0)
        return -plogp.sum(-1)


class Bernoulli(Distribution):
    """One coin per element: P(1) = ``probs`` = sigmoid(``logits``)."""

    def __init__(self, probs: Any = None, logits: Any = None) -> None:
        _one_of(probs, logits, "Bernoulli")
        if logits is not None:
            self.logits = _as_tensor(logits)
            self.probs = self.logits.sigmoid()
        else:
            self.probs = _as_tensor(probs)
            eps = np.finfo(self.probs.dtype).eps
            p = self.probs.clamp(eps, 1 - eps)
            self.logits = p.log() - (1 - p).log()
        self.batch_shape = self.probs.shape

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """0.0 or 1.0 (this dtype), of shape ``sample_shape + batch_shape``."""
        shape = _shape(sample_shape) + self.batch_shape
        u = _random.generator().random(shape)
        drawn = (u < np.broadcast_to(self.probs.numpy(), shape)).astype(self.probs.dtype)
        return tensor(drawn, device=self.probs.device)

    def log_prob(self, value: Any) -> Tensor:
        """value log p + (1 - value) log(1 - p), from the logits (stable)."""
        v = _as_tensor(value, self.logits)
        logits, v = self.logits, v
        shape = np.broadcast_shapes(logits.shape, v.shape)
        return -F.binary_cross_entropy_with_logits(logits.broadcast_to(shape),
                                                   v.broadcast_to(shape), reduction="none")

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


class Normal(Distribution):
    """N(loc, scale²), element by element (``loc`` and ``scale`` broadcast together)."""

    def __init__(self, loc: Any, scale: Any) -> None:
        like = loc if isinstance(loc, Tensor) else scale if isinstance(scale, Tensor) else None
        self.loc, self.scale = _as_tensor(loc, like), _as_tensor(scale, like)
        self.batch_shape = tuple(np.broadcast_shapes(self.loc.shape, self.scale.shape))
        if not bool((self.scale.detach() > 0).all()):
            raise ValueError("Normal: scale must be positive")

    @property
    def mean(self) -> Tensor:
        return self.loc.broadcast_to(self.batch_shape)

    @property
    def variance(self) -> Tensor:
        return (self.scale ** 2).broadcast_to(self.batch_shape)

    @property
    def mode(self) -> Tensor:
        return self.mean

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """loc + scale · ε, ε ~ N(0, 1): a sample through which gradients reach loc and scale
        (the reparameterisation trick of a VAE)."""
        shape = _shape(sample_shape) + self.batch_shape
        eps = tensor(_random.generator().standard_normal(shape), dtype=self.loc.dtype,
                     device=self.loc.device)
        return self.loc + self.scale * eps

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """``rsample`` without a gradient."""
        return self.rsample(sample_shape).detach()

    def log_prob(self, value: Any) -> Tensor:
        """-(value - loc)² / (2 scale²) - log scale - log √(2π)."""
        v = _as_tensor(value, self.loc)
        return -((v - self.loc) ** 2) / (2 * self.scale ** 2) - self.scale.log() \
            - 0.5 * math.log(2 * math.pi)

    def entropy(self) -> Tensor:
        """½ log(2πe) + log scale."""
        return (0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()).broadcast_to(
            self.batch_shape)

    def cdf(self, value: Any) -> Tensor:
        """P(X <= value) = ½ (1 + erf((value - loc) / (scale √2))), differentiable in loc,
        scale and value (a forecaster's predicted quantile coverage, say)."""
        v = _as_tensor(value, self.loc)
        return 0.5 * (1 + ((v - self.loc) / (self.scale * math.sqrt(2))).erf())

    def icdf(self, value: Any) -> Tensor:
        """The quantile: loc + scale √2 erfinv(2 value - 1), differentiable in loc, scale and
        value (a forecaster's prediction intervals)."""
        p = _as_tensor(value, self.loc)
        return self.loc + self.scale * (2 * p - 1).erfinv() * math.sqrt(2)


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p ‖ q) = E_p[log p - log q], in closed form, for two distributions of one kind
    (Normal, Categorical, Bernoulli), as ``torch.distributions.kl_divergence``."""
    if isinstance(p, Normal) and isinstance(q, Normal):
        ratio = (p.scale / q.scale) ** 2
        return 0.5 * (ratio + ((p.loc - q.loc) / q.scale) ** 2 - 1 - ratio.log())
    if isinstance(p, Categorical) and isinstance(q, Categorical):
        terms = (p.probs * (p.logits - q.logits)).masked_fill(p.probs == 0, 0.0)
        return terms.sum(-1)
    if isinstance(p, Bernoulli) and isinstance(q, Bernoulli):
        return p.probs * (F.logsigmoid(p.logits) - F.logsigmoid(q.logits)) + \
            (1 - p.probs) * (F.logsigmoid(-p.logits) - F.logsigmoid(-q.logits))
    raise NotImplementedError(f"kl_divergence of {type(p).__name__} and {type(q).__name__}: "
                              "only two of one kind (Normal, Categorical, Bernoulli)")

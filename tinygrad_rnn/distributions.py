"""Probability distributions, as ``torch.distributions``: the same classes, constructor
arguments (``validate_args`` too), ``batch_shape`` and ``event_shape``, ``sample``, ``rsample``
where PyTorch has a reparameterised one, ``log_prob``, ``entropy``, ``mean``, ``mode``,
``variance``, ``stddev``, ``cdf``, ``icdf`` and ``expand``, all differentiable in their
parameters.

    discrete     Categorical (sampling a language model's next character), Bernoulli,
                 Binomial, Poisson, NegativeBinomial (over-dispersed counts)
    continuous   Normal (a VAE's reparameterised sample), LogNormal, Laplace, StudentT,
                 Exponential, Gamma, Chi2, Beta, Uniform, Dirichlet (probability vectors),
                 MultivariateNormal (correlated vectors)
    composed     Independent (batch axes read as one event: a diagonal Gaussian),
                 MixtureSameFamily (a mixture density network's output, log_prob by logsumexp)
    kl_divergence(p, q) in closed form for the pairs PyTorch has among these; register_kl

Samples are drawn on the host from ``tr.manual_seed``'s generator (other numbers than
PyTorch's for one seed) and moved to the parameters' device. ``rsample`` is a differentiable
function of the parameters: of noise drawn apart from them (Normal, LogNormal, Laplace,
Exponential, Uniform, MultivariateNormal), or, for Gamma and Chi2, and Beta, Dirichlet
and StudentT built from Gamma draws as PyTorch builds them, by implicit reparameterisation
(``StandardGamma``: dx/da = -(∂P/∂a)(x; a) / p(x; a) for a Gamma(a, 1) draw x, P its CDF,
computed to ~1e-13 where PyTorch's is an approximation good to ~1e-3). ``Gamma.cdf`` is
``special.gammainc``. ``expand(batch_shape)`` broadcasts every distribution's parameters.

As PyTorch's, parameters are checked when a distribution is made, and ``log_prob`` (and
``cdf``) values against the support, unless ``validate_args=False``
(``Distribution.set_default_validate_args(False)`` for all): each failure is a ValueError
that names the distribution, the parameter and the constraint.

    dist = tr.distributions.Categorical(logits=model(x)[:, -1])
    next_char = dist.sample()                 # int64, one per row
    loss = -dist.log_prob(targets).mean()
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import functional as F
from . import random as _random
from .autograd import no_grad
from .backend import device_of
from .ops.elementwise import minimum, where
from .special import gammainc, igamma_arrays, xlogy
from .tensor import Function, Tensor, tensor


def _as_tensor(value: Any, like: Tensor | None = None, device: str | None = None) -> Tensor:
    """``value`` as a floating-point tensor (of ``like``'s dtype and device, for a number or an
    integer tensor, or a narrower floating one; without ``like``, float32 on ``device``)."""
    if isinstance(value, Tensor):
        if value.dtype.kind == "f":  # widened to like's, as PyTorch's promotion would first
            wider = like is not None and like.dtype.itemsize > value.dtype.itemsize
            return value.type_as(like) if wider else value
        return value.type_as(like) if like is not None else value.float()
    if like is not None:
        return tensor(value, dtype=like.dtype, device=like.device)
    return tensor(value, dtype="float32", device=device)


def _params(name: str, **values: Any) -> tuple[list[Tensor], tuple[int, ...]]:
    """The parameters as tensors broadcast to one shape (numbers take the dtype and device of
    the first floating tensor among them), and that shape: the batch shape."""
    like = next((v for v in values.values() if isinstance(v, Tensor) and v.dtype.kind == "f"),
                None)
    # without a floating tensor, numbers go where an integer one is (a Binomial's counts)
    device = next((v.device for v in values.values() if isinstance(v, Tensor)), None)
    ts = [_as_tensor(v, like, device) for v in values.values()]
    try:
        shape = tuple(np.broadcast_shapes(*(t.shape for t in ts)))
    except ValueError:
        got = ", ".join(f"{k} of shape {t.shape}" for k, t in zip(values, ts))
        raise ValueError(f"{name}: the parameters do not broadcast together: {got}") from None
    return [t if t.shape == shape else t.broadcast_to(shape) for t in ts], shape


def _require(owner: str, name: str, value: Tensor, ok: Tensor, constraint: str) -> None:
    """Raise a ValueError unless ``ok`` (elementwise, of ``value``'s shape) holds everywhere."""
    good = ok.numpy()
    if not good.all():
        bad = np.broadcast_to(value.detach().numpy(), good.shape)[~good]
        raise ValueError(f"{owner}: {name} must be {constraint}; {bad.size} of {good.size} "
                         f"elements (shape {good.shape}) are not, the first {bad.flat[0].item()}")


def _one_of(probs: Any, logits: Any, name: str) -> None:
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: give either probs or logits, not both nor neither")


def _shape(sample_shape: Any) -> tuple[int, ...]:
    return (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)


def _host(t: Tensor) -> np.ndarray:
    return t.detach().numpy()


def _below_one(u: np.ndarray, dtype: Any, low: float = 0.0) -> np.ndarray:
    """Host draws ``u`` in [low, 1) cast to ``dtype``, kept there: the cast rounds draws within
    half an ulp of 1 up to 1 itself (a float32 Uniform's high, log 0 in a Laplace)."""
    u = np.asarray(u).astype(dtype)
    return np.clip(u, np.asarray(low, dtype), np.nextafter(np.asarray(1, dtype), 0))


def _drawn(values: Any, like: Tensor) -> Tensor:
    """Host draws as a tensor of ``like``'s dtype, on its device."""
    return tensor(np.asarray(values), dtype=like.dtype, device=like.device)


def _binary_logits(probs: Tensor) -> Tensor:
    """log(p / (1 - p)) of p clamped to [eps, 1 - eps], as PyTorch's ``probs_to_logits``."""
    eps = float(np.finfo(probs.dtype).eps)
    p = probs.clamp(eps, 1 - eps)
    return p.log() - (-p).log1p()


def _sum_rightmost(x: Tensor, n: int) -> Tensor:
    return x.reshape(x.shape[:x.ndim - n] + (-1,)).sum(-1) if n > 0 else x


def _nonnegative_integer(v: Tensor) -> Tensor:
    return (v >= 0) & (v == v.floor())


def _clamped(x: Tensor, low: float, high: float = math.inf) -> Tensor:
    """``x`` with its values clamped to [low, high] and its gradient untouched (PyTorch's
    ``value.detach().clamp_``): a draw that underflowed stays a valid point of the support."""
    return x + (x.clamp(low, high) - x).detach()


class Distribution:
    """What every distribution here has: ``batch_shape``, ``event_shape``, ``sample``,
    ``log_prob``, ``mean``, ``variance``, ``stddev`` and ``expand``; ``rsample``, ``entropy``,
    ``mode``, ``cdf`` and ``icdf`` where PyTorch's has them (elsewhere they raise
    NotImplementedError)."""

    batch_shape: tuple[int, ...] = ()
    event_shape: tuple[int, ...] = ()
    has_rsample = False
    support = "the real numbers"  # what log_prob's value may be, in words
    _validate_default = True

    def __init__(self, batch_shape: Any = (), event_shape: Any = (),
                 validate_args: bool | None = None) -> None:
        self.batch_shape, self.event_shape = tuple(batch_shape), tuple(event_shape)
        self._validate_args = (Distribution._validate_default if validate_args is None
                               else bool(validate_args))

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Whether distributions made from now on check their parameters and values unless
        told (``validate_args``); True at first, as PyTorch's."""
        Distribution._validate_default = bool(value)

    def _check(self, name: str, value: Tensor, ok: Tensor, constraint: str) -> None:
        if self._validate_args:
            _require(type(self).__name__, name, value, ok, constraint)

    def _in_support(self, value: Tensor) -> Tensor | None:
        """Where ``value`` lies in the support (None: anywhere, a real-valued one)."""
        return None

    def _value(self, value: Any, like: Tensor, method: str = "log_prob") -> Tensor:
        """``value`` as a tensor, checked against the support (when validating)."""
        v = _as_tensor(value, like)
        if self._validate_args:
            ok = self._in_support(v)
            if ok is not None:
                _require(f"{type(self).__name__}.{method}", "the value", v, ok,
                         f"in the support ({self.support})")
        return v

    def _extended_shape(self, sample_shape: Any = ()) -> tuple[int, ...]:
        return _shape(sample_shape) + self.batch_shape + self.event_shape

    def _missing(self, what: str, why: str = "") -> NotImplementedError:
        return NotImplementedError(f"{type(self).__name__}.{what} is not implemented"
                                   f"{why or ', as in torch.distributions'}")

    @property
    def mean(self) -> Tensor:
        raise self._missing("mean")

    @property
    def mode(self) -> Tensor:
        raise self._missing("mode")

    @property
    def variance(self) -> Tensor:
        raise self._missing("variance")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """``rsample`` without a gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        raise self._missing("rsample", " (no reparameterised sample here): use sample()")

    def log_prob(self, value: Any) -> Tensor:
        raise self._missing("log_prob")

    def entropy(self) -> Tensor:
        raise self._missing("entropy")

    def cdf(self, value: Any) -> Tensor:
        raise self._missing("cdf")

    def icdf(self, value: Any) -> Tensor:
        raise self._missing("icdf")

    # the parameters, each of shape batch_shape + its own trailing axes (the event's, a
    # Categorical's categories), that ``expand`` broadcasts
    _batch_params: tuple[str, ...] = ()

    def expand(self, batch_shape: Any) -> Distribution:
        """This distribution with its parameters broadcast to ``batch_shape`` (+ their event
        axes), as ``torch.distributions``' ``expand``: axes of size 1 grow and new ones go in
        front; the parameters are broadcast views, through which gradients reach the original
        ones, and are not checked again."""
        new_shape = _shape(batch_shape)
        old = self.batch_shape
        if len(new_shape) < len(old) or any(
                o not in (1, n) for o, n in zip(old[::-1], new_shape[::-1])):
            raise ValueError(f"{type(self).__name__}.expand: batch_shape {old} cannot be "
                             f"expanded to {new_shape} (each axis must stay or grow from 1, "
                             f"new axes go in front)")
        new = copy.copy(self)
        new.batch_shape = new_shape
        for name in self._batch_params:
            t = getattr(self, name)
            shape = new_shape + t.shape[len(old):]
            setattr(new, name, t if t.shape == shape else t.broadcast_to(shape))
        return new

    def __repr__(self) -> str:
        event = f", event_shape={self.event_shape}" if self.event_shape else ""
        return f"{type(self).__name__}(batch_shape={self.batch_shape}{event})"


# ---- discrete ------------------------------------------------------------------------------


class Categorical(Distribution):
    """K categories, the last axis of ``probs`` (nonnegative, normalised here) or ``logits``
    (log-probabilities up to a constant): p(k) = probs[..., k] = softmax(logits)[..., k]."""

    support = "the integers 0..K-1"
    _batch_params = ("probs", "logits")

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
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
        super().__init__(self.probs.shape[:-1], validate_args=validate_args)
        if probs is not None:
            self._check("probs", p, p >= 0, "nonnegative")

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
        p = _host(self.probs).astype(np.float64).reshape(-1, self.probs.shape[-1])
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
        if self._validate_args:
            _require("Categorical.log_prob", "the value", v,
                     (v >= 0) & (v < self.probs.shape[-1]), f"in 0..{self.probs.shape[-1] - 1}")
        shape = np.broadcast_shapes(v.shape, self.batch_shape)
        logits = self.logits.broadcast_to(shape + self.logits.shape[-1:])
        return logits.gather(-1, v.broadcast_to(shape).unsqueeze(-1).long()).squeeze(-1)

    def entropy(self) -> Tensor:
        """-sum_k p_k log p_k (a category of probability 0 adds 0)."""
        plogp = (self.probs * self.logits).masked_fill(self.probs == 0, 0.0)
        return -plogp.sum(-1)


class Bernoulli(Distribution):
    """One coin per element: P(1) = ``probs`` = sigmoid(``logits``)."""

    support = "0 or 1"
    _batch_params = ("probs", "logits")

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        _one_of(probs, logits, "Bernoulli")
        if logits is not None:
            self.logits = _as_tensor(logits)
            self.probs = self.logits.sigmoid()
        else:
            self.probs = _as_tensor(probs)
            eps = np.finfo(self.probs.dtype).eps
            p = self.probs.clamp(eps, 1 - eps)
            self.logits = p.log() - (1 - p).log()
        super().__init__(self.probs.shape, validate_args=validate_args)
        if probs is not None:
            self._check("probs", self.probs, (self.probs >= 0) & (self.probs <= 1), "in [0, 1]")

    def _in_support(self, value: Tensor) -> Tensor:
        return (value == 0) | (value == 1)

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:  # as PyTorch's: 1 where p > 1/2, 0 below, NaN at 1/2
        mode = (self.probs >= 0.5).type_as(self.probs)
        return where(self.probs == 0.5, math.nan, mode)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """0.0 or 1.0 (this dtype), of shape ``sample_shape + batch_shape``."""
        shape = _shape(sample_shape) + self.batch_shape
        u = _random.generator().random(shape)
        return _drawn(u < np.broadcast_to(_host(self.probs), shape), self.probs)

    def log_prob(self, value: Any) -> Tensor:
        """value log p + (1 - value) log(1 - p), from the logits (stable)."""
        v = self._value(value, self.logits)
        shape = np.broadcast_shapes(self.logits.shape, v.shape)
        return -F.binary_cross_entropy_with_logits(self.logits.broadcast_to(shape),
                                                   v.broadcast_to(shape), reduction="none")

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


def _count_and_coin(dist: Distribution, total_count: Any, probs: Any, logits: Any,
                    validate_args: bool | None, probs_ok: Callable[[Tensor], Tensor],
                    constraint: str) -> Tensor:
    """What Binomial and NegativeBinomial share: ``total_count`` and one of ``probs`` and
    ``logits`` broadcast together, the batch shape, both forms of the coin set, probs
    checked; returns total_count as given (for its own check)."""
    name = type(dist).__name__
    _one_of(probs, logits, name)
    given = {"probs": probs} if probs is not None else {"logits": logits}
    (n, param), shape = _params(name, total_count=total_count, **given)
    Distribution.__init__(dist, shape, validate_args=validate_args)
    dist.total_count = n.type_as(param)
    if probs is not None:
        dist.probs, dist.logits = param, _binary_logits(param)
        dist._check("probs", param, probs_ok(param), constraint)
    else:
        dist.logits, dist.probs = param, param.sigmoid()
    return n


class Binomial(Distribution):
    """The number of successes in ``total_count`` coins of P(1) = ``probs`` = sigmoid(
    ``logits``): P(k) = C(n, k) p^k (1 - p)^(n - k), k = 0..n."""

    support = "the integers 0..total_count"
    _batch_params = ("total_count", "probs", "logits")

    def __init__(self, total_count: Any = 1, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        n = _count_and_coin(self, total_count, probs, logits, validate_args,
                            lambda p: (p >= 0) & (p <= 1), "in [0, 1]")
        self._check("total_count", n, _nonnegative_integer(n), "a nonnegative integer")

    def _in_support(self, value: Tensor) -> Tensor:
        return _nonnegative_integer(value) & (value <= self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return minimum(((self.total_count + 1) * self.probs).floor(), self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        n = np.broadcast_to(_host(self.total_count), shape).astype(np.int64)
        return _drawn(_random.generator().binomial(n, np.broadcast_to(_host(self.probs), shape)),
                      self.probs)

    def log_prob(self, value: Any) -> Tensor:
        """log C(n, k) + k logit - n log(1 + e^logit), from the logits (stable: the softplus
        as max(logit, 0) + log1p(e^-|logit|), max written so its gradient at 0 is 1/2)."""
        n, logits = self.total_count, self.logits
        k = self._value(value, logits)
        positive_part = (logits.clamp(min=0) + logits - logits.clamp(max=0)) / 2
        normalizer = n * positive_part + n * (-logits.abs()).exp().log1p() - (n + 1).lgamma()
        return k * logits - (k + 1).lgamma() - (n - k + 1).lgamma() - normalizer

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """0, 1, ..., n along a new first axis (n must be one number for the whole batch)."""
        n = self._one_total_count("enumerate_support")
        values = tensor(np.arange(n + 1), dtype=self.probs.dtype, device=self.probs.device)
        values = values.reshape((-1,) + (1,) * len(self.batch_shape))
        return values.broadcast_to((n + 1,) + self.batch_shape) if expand else values

    def entropy(self) -> Tensor:
        """-Σ_k P(k) log P(k) over the support (one total_count for the whole batch)."""
        log_p = self.log_prob(self.enumerate_support(False))
        return -(log_p.exp() * log_p).sum(0)

    def _one_total_count(self, what: str) -> int:
        counts = _host(self.total_count)
        if counts.size and counts.min() != counts.max():
            raise NotImplementedError(f"Binomial.{what}: total_count differs across the batch "
                                      f"(from {counts.min()} to {counts.max()}), as PyTorch's")
        return int(counts.max()) if counts.size else 0


class Poisson(Distribution):
    """Counts k = 0, 1, 2, ... with P(k) = rate^k e^(-rate) / k!."""

    support = "the nonnegative integers"
    _batch_params = ("rate",)

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,), shape = _params("Poisson", rate=rate)
        super().__init__(shape, validate_args=validate_args)
        self._check("rate", self.rate, self.rate >= 0, "nonnegative")

    def _in_support(self, value: Tensor) -> Tensor:
        return _nonnegative_integer(value)

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Counts, as floats of the rate's dtype (as PyTorch's)."""
        rate = np.broadcast_to(_host(self.rate), self._extended_shape(sample_shape))
        return _drawn(_random.generator().poisson(rate), self.rate)

    def log_prob(self, value: Any) -> Tensor:
        """k log(rate) - rate - log k! (k log(rate) = 0 at k = 0, rate = 0)."""
        k = self._value(value, self.rate)
        return xlogy(k, self.rate) - self.rate - (k + 1).lgamma()


class NegativeBinomial(Distribution):
    """The number of successes (each of probability ``probs`` = sigmoid(``logits``)) before
    ``total_count`` failures (a real number > 0 is allowed): P(k) = Γ(k + r) / (k! Γ(r))
    p^k (1 - p)^r, r = total_count: counts more spread than Poisson's."""

    support = "the nonnegative integers"
    _batch_params = ("total_count", "probs", "logits")

    def __init__(self, total_count: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        r = _count_and_coin(self, total_count, probs, logits, validate_args,
                            lambda p: (p >= 0) & (p < 1), "in [0, 1)")
        self._check("total_count", r, r >= 0, "nonnegative")

    def _in_support(self, value: Tensor) -> Tensor:
        return _nonnegative_integer(value)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.logits.exp()

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / (-self.logits).sigmoid()

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Poisson counts of a Gamma(total_count, e^-logits) rate (a Gamma-Poisson mixture)."""
        shape = self._extended_shape(sample_shape)
        rng = _random.generator()
        rate = rng.gamma(np.broadcast_to(_host(self.total_count), shape),
                         np.broadcast_to(np.exp(_host(self.logits)), shape))
        return _drawn(rng.poisson(rate), self.probs)

    def log_prob(self, value: Any) -> Tensor:
        """r log σ(-logits) + k log σ(logits) + log Γ(r + k) - log k! - log Γ(r) (0 where r +
        k = 0: the point mass at 0 of r = 0)."""
        r, logits = self.total_count, self.logits
        k = self._value(value, logits)
        unnormalized = r * F.logsigmoid(-logits) + k * F.logsigmoid(logits)
        normalizer = -(r + k).lgamma() + (1.0 + k).lgamma() + r.lgamma()
        return unnormalized - normalizer.masked_fill(r + k == 0.0, 0.0)


# ---- continuous ----------------------------------------------------------------------------


_from_loc = property(lambda self: self.loc, doc="loc")


class _LocScale(Distribution):
    """A location-scale family, element by element (``loc`` and ``scale`` broadcast
    together): its mean and mode are loc."""

    has_rsample = True
    _batch_params = ("loc", "scale")

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        (self.loc, self.scale), shape = _params(type(self).__name__, loc=loc, scale=scale)
        super().__init__(shape, validate_args=validate_args)
        self._check("loc", self.loc, self.loc == self.loc, "a real number, not NaN")
        self._check("scale", self.scale, self.scale > 0, "positive")

    mean = mode = _from_loc  # (a symmetric, unimodal family: both are loc)


class Normal(_LocScale):
    """N(loc, scale²), element by element (``loc`` and ``scale`` broadcast together)."""

    @property
    def variance(self) -> Tensor:
        return self.scale ** 2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """loc + scale · ε, ε ~ N(0, 1): a sample through which gradients reach loc and scale
        (the reparameterisation trick of a VAE)."""
        eps = _random.generator().standard_normal(self._extended_shape(sample_shape))
        return self.loc + self.scale * _drawn(eps, self.loc)

    def log_prob(self, value: Any) -> Tensor:
        """-(value - loc)² / (2 scale²) - log scale - log √(2π)."""
        v = _as_tensor(value, self.loc)
        return -((v - self.loc) ** 2) / (2 * self.scale ** 2) - self.scale.log() \
            - 0.5 * math.log(2 * math.pi)

    def entropy(self) -> Tensor:
        """½ log(2πe) + log scale."""
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

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


class LogNormal(Distribution):
    """exp(X), X ~ Normal(loc, scale) (``base_dist``): positive, skewed (prices, durations)."""

    has_rsample = True
    support = "the positive numbers"

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.base_dist = Normal(loc, scale, validate_args=False)
        self.loc, self.scale = self.base_dist.loc, self.base_dist.scale
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)
        self._check("scale", self.scale, self.scale > 0, "positive")

    def _in_support(self, value: Tensor) -> Tensor:
        return value > 0

    @property
    def mean(self) -> Tensor:
        return (self.loc + self.scale ** 2 / 2).exp()

    @property
    def mode(self) -> Tensor:
        return (self.loc - self.scale.square()).exp()

    @property
    def variance(self) -> Tensor:
        scale_sq = self.scale ** 2
        return scale_sq.expm1() * (2 * self.loc + scale_sq).exp()

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """exp(loc + scale · ε), ε ~ N(0, 1), differentiable in loc and scale."""
        return self.base_dist.rsample(sample_shape).exp()

    def expand(self, batch_shape: Any) -> LogNormal:
        new = super().expand(batch_shape)
        new.base_dist = self.base_dist.expand(new.batch_shape)
        new.loc, new.scale = new.base_dist.loc, new.base_dist.scale
        return new

    def log_prob(self, value: Any) -> Tensor:
        """Normal's log density at log(value), minus log(value) (the Jacobian of exp)."""
        y = self._value(value, self.loc).log()
        return self.base_dist.log_prob(y) - y

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() + self.loc

    def cdf(self, value: Any) -> Tensor:
        v = _as_tensor(value, self.loc)
        if self._validate_args:
            _require("LogNormal.cdf", "the value", v, v >= 0, "nonnegative")
        return self.base_dist.cdf(v.log())

    def icdf(self, value: Any) -> Tensor:
        return self.base_dist.icdf(value).exp()


class Laplace(_LocScale):
    """Density exp(-|x - loc| / scale) / (2 scale): the L1 loss's distribution."""

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale ** 2

    @property
    def stddev(self) -> Tensor:
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """loc - scale sign(u) log(1 - |u|), u uniform on (eps - 1, 1) (the inverse CDF; never
        log 0), differentiable in loc and scale."""
        eps = float(np.finfo(self.loc.dtype).eps)
        u = _drawn(_below_one(_random.generator().uniform(
            eps - 1, 1, self._extended_shape(sample_shape)), self.loc.dtype, eps - 1), self.loc)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value: Any) -> Tensor:
        v = _as_tensor(value, self.loc)
        return -(2 * self.scale).log() - (v - self.loc).abs() / self.scale

    def entropy(self) -> Tensor:
        return 1 + (2 * self.scale).log()

    def cdf(self, value: Any) -> Tensor:
        """½ - ½ sign(value - loc) expm1(-|value - loc| / scale)."""
        d = _as_tensor(value, self.loc) - self.loc
        return 0.5 - 0.5 * d.sign() * (-d.abs() / self.scale).expm1()

    def icdf(self, value: Any) -> Tensor:
        """loc - scale sign(p - ½) log(1 - 2|p - ½|)."""
        term = _as_tensor(value, self.loc) - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()


class StudentT(Distribution):
    """Student's t with ``df`` degrees of freedom, shifted by ``loc`` and scaled by ``scale``:
    a Normal with heavy tails (robust regression)."""

    has_rsample = True
    _batch_params = ("df", "loc", "scale")

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0,
                 validate_args: bool | None = None) -> None:
        (self.df, self.loc, self.scale), shape = _params("StudentT", df=df, loc=loc,
                                                         scale=scale)
        super().__init__(shape, validate_args=validate_args)
        self._check("df", self.df, self.df > 0, "positive")
        self._check("loc", self.loc, self.loc == self.loc, "a real number, not NaN")
        self._check("scale", self.scale, self.scale > 0, "positive")

    @property
    def mean(self) -> Tensor:
        """loc, NaN where df <= 1 (no mean)."""
        return where(self.df > 1, self.loc, math.nan)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """scale² df / (df - 2); inf where 1 < df <= 2, NaN where df <= 1."""
        wide = self.df > 2
        df = where(wide, self.df, 3.0)  # no 0/0 in the branch where() drops, nor its gradient
        undefined = where(self.df > 1, math.inf, math.nan).type_as(self.df)
        return where(wide, self.scale ** 2 * df / (df - 2), undefined)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """loc + scale X sqrt(df / Z), X ~ N(0, 1), Z ~ Chi2(df) (PyTorch's construction):
        differentiable in loc, scale and df (through Z, a ``StandardGamma`` draw)."""
        x = _drawn(_random.generator().standard_normal(self._extended_shape(sample_shape)),
                   self.loc)
        z = Chi2(self.df, validate_args=False).rsample(sample_shape)
        return self.loc + self.scale * x * (z / self.df).rsqrt()

    def log_prob(self, value: Any) -> Tensor:
        """-(df + 1)/2 log(1 + y²/df) - log scale - ½ log(df π) - log Γ(df/2) + log Γ((df +
        1)/2), y = (value - loc) / scale."""
        y = (_as_tensor(value, self.loc) - self.loc) / self.scale
        z = self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi) \
            + (0.5 * self.df).lgamma() - (0.5 * (self.df + 1.0)).lgamma()
        return -0.5 * (self.df + 1.0) * (y ** 2 / self.df).log1p() - z

    def entropy(self) -> Tensor:
        half, half1 = 0.5 * self.df, 0.5 * (self.df + 1)
        log_beta = half.lgamma() + math.lgamma(0.5) - half1.lgamma()
        return self.scale.log() + half1 * (half1.digamma() - half.digamma()) \
            + 0.5 * self.df.log() + log_beta


class Exponential(Distribution):
    """Density rate e^(-rate x) on x >= 0: waiting times."""

    has_rsample = True
    support = "the nonnegative numbers"

    _batch_params = ("rate",)

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,), shape = _params("Exponential", rate=rate)
        super().__init__(shape, validate_args=validate_args)
        self._check("rate", self.rate, self.rate > 0, "positive")

    def _in_support(self, value: Tensor) -> Tensor:
        return value >= 0

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return self.rate.new_full(self.batch_shape, 0.0)

    @property
    def variance(self) -> Tensor:
        return self.rate ** -2

    @property
    def stddev(self) -> Tensor:
        return self.rate.reciprocal()

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """E / rate, E ~ Exponential(1), differentiable in rate."""
        e = _random.generator().standard_exponential(self._extended_shape(sample_shape))
        return _drawn(e, self.rate) / self.rate

    def log_prob(self, value: Any) -> Tensor:
        return self.rate.log() - self.rate * self._value(value, self.rate)

    def entropy(self) -> Tensor:
        return 1.0 - self.rate.log()

    def cdf(self, value: Any) -> Tensor:
        return 1 - (-self.rate * self._value(value, self.rate, "cdf")).exp()

    def icdf(self, value: Any) -> Tensor:
        return -(-_as_tensor(value, self.rate)).log1p() / self.rate


class StandardGamma(Function):
    """x ~ Gamma(a, 1), one draw per element of a, from ``tr.manual_seed``'s generator on the
    host (in float64, then a's dtype).  VJP, by implicit reparameterisation (x = F⁻¹(u; a) with
    u ~ U(0, 1) held fixed, F(x; a) = P(a, x) the regularized lower incomplete gamma, so
    dF = 0): ga = gy dx/da = -gy (∂P/∂a)(a, x) / p(x; a), p(x; a) = x^(a-1) e^-x / Γ(a) the
    density (``special.igamma_arrays``' ratio: exact to ~1e-13, where PyTorch's is a fitted
    approximation); on arrays only.  Saves a and x."""

    differentiable_backward = False

    def forward(self, a: Any) -> Any:
        dev = device_of(a)
        host = dev.to_host(a)
        draws = _random.generator().standard_gamma(host.astype(np.float64))  # (0-d: a float)
        x = dev.to_device(np.asarray(draws, dtype=host.dtype))
        self.saved = (a, x)
        return x

    def backward(self, gy: Any) -> Any:
        a, x = self.saved
        return gy * -igamma_arrays(self.xp, a, x)[2].astype(gy.dtype, copy=False)


def _standard_gamma(concentration: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``StandardGamma`` draws of ``shape`` from ``concentration`` (broadcast), in float64:
    normalised by their sum (Beta, Dirichlet), float32 draws that underflowed to their
    smallest number would tie."""
    c = concentration.to(dtype="float64")
    return StandardGamma.apply(c if c.shape == shape else c.broadcast_to(shape))


def _inside_unit(x: Tensor, like: Tensor) -> Tensor:
    """``x`` in ``like``'s dtype, clamped into (0, 1) (its gradient untouched): a draw with a
    concentration below 1 rounds to 0 or 1 often; kept inside, as PyTorch's, so that
    log_prob of a sample is finite."""
    x = x.type_as(like)
    dt = x.dtype
    return _clamped(x, float(np.finfo(dt).tiny), float(np.nextafter(np.asarray(1, dt), 0)))


class Gamma(Distribution):
    """Density rate^a x^(a - 1) e^(-rate x) / Γ(a) on x >= 0, a = ``concentration``."""

    has_rsample = True
    support = "the nonnegative numbers"
    _batch_params = ("concentration", "rate")

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        (self.concentration, self.rate), shape = _params("Gamma", concentration=concentration,
                                                         rate=rate)
        super().__init__(shape, validate_args=validate_args)
        self._check("concentration", self.concentration, self.concentration > 0, "positive")
        self._check("rate", self.rate, self.rate > 0, "positive")

    def _in_support(self, value: Tensor) -> Tensor:
        return value >= 0

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate ** 2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """x / rate, x ~ Gamma(concentration, 1) by ``StandardGamma`` (its gradient in the
        concentration the implicit one, -(∂P/∂a)(a, x) / p(x) / rate; in the rate -x / rate²),
        clamped to the dtype's smallest normal number, as PyTorch's, so that log x is finite."""
        shape = self._extended_shape(sample_shape)
        c = self.concentration
        x = StandardGamma.apply(c if c.shape == shape else c.broadcast_to(shape)) / self.rate
        return _clamped(x, float(np.finfo(x.dtype).tiny))

    def log_prob(self, value: Any) -> Tensor:
        """a log rate + (a - 1) log value - rate value - log Γ(a)."""
        a, v = self.concentration, self._value(value, self.rate)
        return xlogy(a, self.rate) + xlogy(a - 1, v) - self.rate * v - a.lgamma()

    def entropy(self) -> Tensor:
        """a - log rate + log Γ(a) + (1 - a) ψ(a)."""
        a = self.concentration
        return a - self.rate.log() + a.lgamma() + (1.0 - a) * a.digamma()

    def cdf(self, value: Any) -> Tensor:
        """P(a, rate · value), the regularized lower incomplete gamma (``special.gammainc``):
        differentiable in the value (the density), the rate and, unlike PyTorch's, the
        concentration."""
        return gammainc(self.concentration, self.rate * self._value(value, self.rate, "cdf"))


class Chi2(Gamma):
    """The chi-squared distribution of ``df`` degrees of freedom, Gamma(df/2, rate 1/2): the
    sum of df squared standard normals."""

    def __init__(self, df: Any, validate_args: bool | None = None) -> None:
        (df,), _ = _params("Chi2", df=df)
        super().__init__(0.5 * df, 0.5, validate_args=False)
        self._validate_args = (Distribution._validate_default if validate_args is None
                               else bool(validate_args))
        self._check("df", df, df > 0, "positive")

    @property
    def df(self) -> Tensor:
        return self.concentration * 2


class Beta(Distribution):
    """Density x^(a - 1) (1 - x)^(b - 1) / B(a, b) on [0, 1], a = ``concentration1``, b =
    ``concentration0``: a probability's distribution."""

    has_rsample = True
    support = "[0, 1]"
    _batch_params = ("concentration1", "concentration0")

    def __init__(self, concentration1: Any, concentration0: Any,
                 validate_args: bool | None = None) -> None:
        (self.concentration1, self.concentration0), shape = _params(
            "Beta", concentration1=concentration1, concentration0=concentration0)
        super().__init__(shape, validate_args=validate_args)
        for name in ("concentration1", "concentration0"):
            c = getattr(self, name)
            self._check(name, c, c > 0, "positive")

    def _in_support(self, value: Tensor) -> Tensor:
        return (value >= 0) & (value <= 1)

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        """(a - 1) / (a + b - 2) with a - 1 and b - 1 clamped at 0; 1 where a and b are both
        below 1 (PyTorch's pick between the two modes, 0 and 1), NaN at a = b = 1."""
        a, b = self.concentration1, self.concentration0
        a1, b1 = (a - 1).clamp(min=0.0), (b - 1).clamp(min=0.0)
        return where((a < 1) & (b < 1), 1.0, a1 / (a1 + b1))

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """X / (X + Y), X ~ Gamma(a, 1), Y ~ Gamma(b, 1) (PyTorch's construction; drawn in
        that order), differentiable in a and b through the two ``StandardGamma`` draws; kept
        inside (0, 1). (PyTorch's backward differentiates the Beta's own CDF instead: other
        gradients for one sample, the same in expectation.)"""
        shape = self._extended_shape(sample_shape)
        x = _standard_gamma(self.concentration1, shape)
        y = _standard_gamma(self.concentration0, shape)
        return _inside_unit(x / (x + y), self.concentration1)

    def log_prob(self, value: Any) -> Tensor:
        """(a - 1) log x + (b - 1) log(1 - x) + log Γ(a + b) - log Γ(a) - log Γ(b)."""
        a, b = self.concentration1, self.concentration0
        x = self._value(value, a)
        return xlogy(a - 1, x) + xlogy(b - 1, 1 - x) + (a + b).lgamma() \
            - (a.lgamma() + b.lgamma())

    def entropy(self) -> Tensor:
        """log B(a, b) - (a - 1) ψ(a) - (b - 1) ψ(b) + (a + b - 2) ψ(a + b)."""
        a, b = self.concentration1, self.concentration0
        total = a + b
        return a.lgamma() + b.lgamma() - total.lgamma() - (2 - total) * total.digamma() \
            - ((a - 1) * a.digamma() + (b - 1) * b.digamma())


class Uniform(Distribution):
    """Uniform on [low, high)."""

    has_rsample = True
    _batch_params = ("low", "high")

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        (self.low, self.high), shape = _params("Uniform", low=low, high=high)
        super().__init__(shape, validate_args=validate_args)
        self._check("low", self.low, self.low < self.high, "less than high")

    support = "[low, high]"

    def _in_support(self, value: Tensor) -> Tensor:
        return (self.low <= value) & (value <= self.high)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def mode(self) -> Tensor:  # as PyTorch's: every point is one
        return math.nan * self.high

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / math.sqrt(12)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """low + u (high - low), u ~ U[0, 1), differentiable in low and high."""
        u = _drawn(_below_one(_random.generator().random(self._extended_shape(sample_shape)),
                              self.low.dtype), self.low)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Any) -> Tensor:
        """-log(high - low) inside [low, high), -inf outside."""
        v = self._value(value, self.low)
        inside = ((self.low <= v) & (self.high > v)).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()

    def cdf(self, value: Any) -> Tensor:
        v = self._value(value, self.low, "cdf")
        return ((v - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value: Any) -> Tensor:
        return _as_tensor(value, self.low) * (self.high - self.low) + self.low


class Dirichlet(Distribution):
    """Density Γ(Σ_k a_k) / Π_k Γ(a_k) · Π_k x_k^(a_k - 1) on the simplex (x_k >= 0, Σ_k x_k =
    1), a = ``concentration``, whose last axis (K long) is the event: a distribution over
    probability vectors (mixture weights, a Bayesian estimate of category frequencies)."""

    has_rsample = True
    support = "the simplex: nonnegative, summing to 1 over the last axis"
    _batch_params = ("concentration",)

    def __init__(self, concentration: Any, validate_args: bool | None = None) -> None:
        c = _as_tensor(concentration)
        if c.ndim < 1:
            raise ValueError("Dirichlet: concentration needs at least one axis (the event, K "
                             "categories), got a scalar")
        self.concentration = c
        super().__init__(c.shape[:-1], c.shape[-1:], validate_args=validate_args)
        self._check("concentration", c, c > 0, "positive")

    def _in_support(self, value: Tensor) -> Tensor:
        # (PyTorch's tolerance on the sum)
        return (value >= 0) & ((value.sum(-1, keepdims=True) - 1).abs() < 1e-6)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdims=True)

    @property
    def mode(self) -> Tensor:
        """(a - 1)+ / Σ (a - 1)+; the first corner (1, 0, ..., 0) where every a_k < 1
        (PyTorch's pick among the K modes), NaN where all a_k = 1."""
        c = self.concentration
        above = (c - 1).clamp(min=0.0)
        corner = tensor(np.eye(1, c.shape[-1])[0], dtype=c.dtype, device=c.device)
        return where((c < 1).all(-1, keepdims=True), corner, above / above.sum(-1, keepdims=True))

    @property
    def variance(self) -> Tensor:
        """a_k (a_0 - a_k) / (a_0² (a_0 + 1)), a_0 = Σ_k a_k."""
        c = self.concentration
        total = c.sum(-1, keepdims=True)
        return c * (total - c) / (total ** 2 * (total + 1))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """G / Σ_k G_k, G_k ~ Gamma(a_k, 1) (``StandardGamma``, in float64): differentiable in
        a through the draws; kept inside (0, 1)."""
        g = _standard_gamma(self.concentration, self._extended_shape(sample_shape))
        return _inside_unit(g / g.sum(-1, keepdims=True), self.concentration)

    def log_prob(self, value: Any) -> Tensor:
        """Σ_k (a_k - 1) log x_k + log Γ(Σ_k a_k) - Σ_k log Γ(a_k)."""
        c = self.concentration
        v = _as_tensor(value, c)
        if v.ndim < 1 or v.shape[-1] != c.shape[-1]:
            raise ValueError(f"Dirichlet.log_prob: the value's last axis must be the event "
                             f"({c.shape[-1]}), got shape {v.shape}")
        v = self._value(v, c)
        return xlogy(c - 1, v).sum(-1) + c.sum(-1).lgamma() - c.lgamma().sum(-1)

    def entropy(self) -> Tensor:
        """Σ_k log Γ(a_k) - log Γ(a_0) - (K - a_0) ψ(a_0) - Σ_k (a_k - 1) ψ(a_k)."""
        c = self.concentration
        total = c.sum(-1)
        return c.lgamma().sum(-1) - total.lgamma() - (c.shape[-1] - total) * total.digamma() \
            - ((c - 1) * c.digamma()).sum(-1)


# ---- composed ------------------------------------------------------------------------------


def _from_base(name: str) -> property:
    """A property that reads the base distribution's ``name``."""
    return property(lambda self: getattr(self.base_dist, name))


class Independent(Distribution):
    """``base_distribution`` with its last ``reinterpreted_batch_ndims`` batch axes read as
    event axes: log_prob and entropy sum over them (a diagonal Gaussian from a Normal)."""

    def __init__(self, base_distribution: Distribution, reinterpreted_batch_ndims: int,
                 validate_args: bool | None = None) -> None:
        if not isinstance(base_distribution, Distribution):
            raise TypeError(f"Independent: base_distribution must be a Distribution, got "
                            f"{type(base_distribution).__name__}")
        n, batch = reinterpreted_batch_ndims, base_distribution.batch_shape
        if not isinstance(n, int) or not 0 <= n <= len(batch):
            raise ValueError(f"Independent: reinterpreted_batch_ndims must be an int in 0.."
                             f"{len(batch)} (the base distribution's batch_shape is {batch}), "
                             f"got {n!r}")
        shape = batch + base_distribution.event_shape
        split = len(batch) - n
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, n
        super().__init__(shape[:split], shape[split:], validate_args=validate_args)

    # the base distribution's, element by element: reading batch axes as event axes changes
    # only what sums over them
    has_rsample = _from_base("has_rsample")  # type: ignore[assignment]
    mean = _from_base("mean")
    mode = _from_base("mode")
    variance = _from_base("variance")
    stddev = _from_base("stddev")

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value: Any) -> Tensor:
        return _sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def expand(self, batch_shape: Any) -> Independent:
        new = super().expand(batch_shape)
        new.base_dist = self.base_dist.expand(
            new.batch_shape + self.event_shape[:self.reinterpreted_batch_ndims])
        return new

    def entropy(self) -> Tensor:
        return _sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def __repr__(self) -> str:
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"


class MixtureSameFamily(Distribution):
    """A mixture of K components of one family: ``component_distribution``'s last batch axis
    (of size K) indexes the components, which ``mixture_distribution`` (a Categorical over K)
    weighs: p(x) = Σ_k π_k p_k(x), log_prob = logsumexp_k(log π_k + log p_k(x)). A mixture
    density network's loss is its -log_prob."""

    def __init__(self, mixture_distribution: Categorical, component_distribution: Distribution,
                 validate_args: bool | None = None) -> None:
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(f"MixtureSameFamily: mixture_distribution must be a Categorical, "
                             f"got {type(mixture_distribution).__name__}")
        if not isinstance(component_distribution, Distribution):
            raise ValueError(f"MixtureSameFamily: component_distribution must be a "
                             f"Distribution, got {type(component_distribution).__name__}")
        mdbs, cbs = mixture_distribution.batch_shape, component_distribution.batch_shape
        if not cbs:
            raise ValueError("MixtureSameFamily: component_distribution needs a batch axis "
                             "(the last) that indexes the components; its batch_shape is ()")
        for m, c in zip(reversed(mdbs), reversed(cbs[:-1])):
            if m != 1 and c != 1 and m != c:
                raise ValueError(f"MixtureSameFamily: mixture_distribution.batch_shape {mdbs} "
                                 f"does not fit component_distribution.batch_shape[:-1] "
                                 f"{cbs[:-1]}")
        k = mixture_distribution.probs.shape[-1]
        if k != cbs[-1]:
            raise ValueError(f"MixtureSameFamily: mixture_distribution has {k} components, "
                             f"component_distribution.batch_shape[-1] is {cbs[-1]}")
        self.mixture_distribution = mixture_distribution
        self.component_distribution = component_distribution
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(cbs[:-1], component_distribution.event_shape,
                         validate_args=validate_args)

    def _weights(self) -> Tensor:
        """The mixture's probabilities, broadcastable against the components' (K, event)."""
        probs = self.mixture_distribution.probs
        return probs.reshape(probs.shape + (1,) * self._event_ndims)

    def _pad(self, value: Any) -> Tensor:
        """``value`` with an axis for the components, before the event axes."""
        v = _as_tensor(value, self.mixture_distribution.probs)
        return v.unsqueeze(-1 - self._event_ndims)

    @property
    def mean(self) -> Tensor:
        return (self._weights() * self.component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self) -> Tensor:
        """E[Var(x | k)] + Var(E[x | k])."""
        w, axis, comp = self._weights(), -1 - self._event_ndims, self.component_distribution
        spread = (comp.mean - self.mean.unsqueeze(axis)) ** 2
        return (w * comp.variance).sum(axis) + (w * spread).sum(axis)

    def cdf(self, value: Any) -> Tensor:
        return (self.component_distribution.cdf(self._pad(value))
                * self.mixture_distribution.probs).sum(-1)

    def expand(self, batch_shape: Any) -> MixtureSameFamily:
        new = super().expand(batch_shape)
        k = self.component_distribution.batch_shape[-1]
        new.component_distribution = self.component_distribution.expand(new.batch_shape + (k,))
        new.mixture_distribution = self.mixture_distribution.expand(new.batch_shape)
        return new

    def log_prob(self, value: Any) -> Tensor:
        log_p = self.component_distribution.log_prob(self._pad(value))  # (..., K)
        return (log_p + self.mixture_distribution.logits.log_softmax(-1)).logsumexp(-1)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """A component drawn from the mixture, then a draw of that component (no gradient)."""
        shape = _shape(sample_shape)
        which = _host(self.mixture_distribution.sample(shape))  # shape + mixture batch
        draws = self.component_distribution.sample(shape)  # shape + batch + (K,) + event
        lead = len(self.batch_shape) - len(self.mixture_distribution.batch_shape)
        idx = which.reshape(shape + (1,) * lead + self.mixture_distribution.batch_shape)
        idx = np.broadcast_to(idx, shape + self.batch_shape)
        idx = idx.reshape(idx.shape + (1,) * (1 + self._event_ndims))
        idx = np.broadcast_to(idx, shape + self.batch_shape + (1,) + self.event_shape)
        picked = np.take_along_axis(_host(draws), idx, len(shape) + len(self.batch_shape))
        return _drawn(picked.squeeze(len(shape) + len(self.batch_shape)), draws)

    def __repr__(self) -> str:
        return (f"MixtureSameFamily({self.mixture_distribution!r}, "
                f"{self.component_distribution!r})")


class MultivariateNormal(Distribution):
    """N(loc, Σ) over vectors (the event is loc's last axis, n long), with Σ given as
    ``covariance_matrix``, ``precision_matrix`` (Σ⁻¹) or ``scale_tril`` (L, lower-triangular
    with a positive diagonal, Σ = L Lᵀ): one of them. Computed through L (``linalg.cholesky``,
    ``linalg.solve_triangular``), so log_prob needs no inverse and is differentiable in every
    parameter: a model that predicts a correlated Gaussian (a sketch's pen offsets, a
    multivariate forecast) trains on -log_prob."""

    has_rsample = True
    support = "real vectors"
    _batch_params = ("loc", "scale_tril")

    def __init__(self, loc: Any, covariance_matrix: Any = None, precision_matrix: Any = None,
                 scale_tril: Any = None, validate_args: bool | None = None) -> None:
        from . import linalg

        given = [m is not None for m in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError("MultivariateNormal: give exactly one of covariance_matrix, "
                             "precision_matrix and scale_tril")
        matrix = next(m for m in (covariance_matrix, precision_matrix, scale_tril)
                      if m is not None)
        loc = _as_tensor(loc, matrix if isinstance(matrix, Tensor) else None)
        matrix = _as_tensor(matrix, loc)
        loc = _as_tensor(loc, matrix)
        if loc.ndim < 1 or matrix.ndim < 2 or matrix.shape[-1] != matrix.shape[-2] \
                or matrix.shape[-1] != loc.shape[-1]:
            raise ValueError(f"MultivariateNormal: loc (..., n) and a matrix (..., n, n) of the "
                             f"same n, got shapes {loc.shape} and {matrix.shape}")
        try:
            batch = tuple(np.broadcast_shapes(loc.shape[:-1], matrix.shape[:-2]))
        except ValueError:
            raise ValueError(f"MultivariateNormal: the batch shapes of loc {loc.shape[:-1]} and "
                             f"of the matrix {matrix.shape[:-2]} do not broadcast") from None
        n = loc.shape[-1]
        super().__init__(batch, (n,), validate_args=validate_args)
        self._check("loc", loc, loc == loc, "real numbers, not NaN")
        if scale_tril is not None:
            on_diagonal = tensor(np.eye(n, dtype=bool), device=matrix.device)
            self._check("scale_tril", matrix, where(on_diagonal, matrix > 0, matrix.triu(1) == 0),
                        "lower-triangular with a positive diagonal")
            L = matrix
        else:
            if self._validate_args:
                sym = (matrix - matrix.mT).abs() <= 1e-6 * (1 + matrix.abs())
                _require("MultivariateNormal", "covariance_matrix" if covariance_matrix
                         is not None else "precision_matrix", matrix, sym, "symmetric")
            try:
                cov = matrix if covariance_matrix is not None else linalg.inv(matrix)
                L = linalg.cholesky(cov)
            except ValueError:
                name = "covariance_matrix" if covariance_matrix is not None else \
                    "precision_matrix"
                raise ValueError(f"MultivariateNormal: {name} must be positive-definite") \
                    from None
        self.loc = loc.broadcast_to(batch + (n,)) if loc.shape != batch + (n,) else loc
        self._unbroadcasted_scale_tril = L
        self.scale_tril = L.broadcast_to(batch + (n, n)) if L.shape != batch + (n, n) else L

    @property
    def covariance_matrix(self) -> Tensor:
        return self.scale_tril @ self.scale_tril.mT

    @property
    def precision_matrix(self) -> Tensor:
        """Σ⁻¹ = L⁻ᵀ L⁻¹."""
        from . import linalg

        eye = _drawn(np.eye(self.event_shape[0]), self.loc)
        inv_l = linalg.solve_triangular(self.scale_tril, eye.broadcast_to(self.scale_tril.shape),
                                        upper=False)
        return inv_l.mT @ inv_l

    mean = mode = _from_loc  # (a symmetric, unimodal family: both are loc)

    @property
    def variance(self) -> Tensor:
        """The diagonal of Σ: the squared row norms of L."""
        return (self.scale_tril ** 2).sum(-1)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """loc + L ε, ε ~ N(0, I): differentiable in loc and L."""
        eps = _random.generator().standard_normal(self._extended_shape(sample_shape))
        return self.loc + (self._unbroadcasted_scale_tril @ _drawn(eps, self.loc)
                           .unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self) -> Tensor:
        return self._unbroadcasted_scale_tril.diagonal(0, -2, -1).log().sum(-1)

    def _mahalanobis(self, diff: Tensor) -> Tensor:
        """‖L⁻¹ diff‖², by one triangular solve (batch axes broadcast)."""
        from . import linalg

        L = self._unbroadcasted_scale_tril
        if L.dtype != diff.dtype:  # the wider of the two, as PyTorch's promotion
            L, diff = (L.type_as(diff), diff) if diff.dtype.itemsize > L.dtype.itemsize \
                else (L, diff.type_as(L))
        batch = tuple(np.broadcast_shapes(diff.shape[:-1], L.shape[:-2]))
        z = linalg.solve_triangular(L.broadcast_to(batch + L.shape[-2:]),
                                    diff.broadcast_to(batch + diff.shape[-1:]).unsqueeze(-1),
                                    upper=False)
        return (z.squeeze(-1) ** 2).sum(-1)

    def log_prob(self, value: Any) -> Tensor:
        """-½ (n log 2π + ‖L⁻¹ (x - loc)‖²) - Σ log diag L."""
        v = _as_tensor(value, self.loc)
        if v.ndim < 1 or v.shape[-1] != self.event_shape[0]:
            raise ValueError(f"MultivariateNormal.log_prob: the value's last axis must be the "
                             f"event ({self.event_shape[0]}), got shape {v.shape}")
        n = self.event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + self._mahalanobis(v - self.loc)) \
            - self._half_log_det()

    def entropy(self) -> Tensor:
        """½ n (1 + log 2π) + Σ log diag L."""
        n = self.event_shape[0]
        h = 0.5 * n * (1 + math.log(2 * math.pi)) + self._half_log_det()
        return h if h.shape == self.batch_shape else h.broadcast_to(self.batch_shape)


# ---- KL divergence -------------------------------------------------------------------------

_KL: dict[tuple[type, type], Callable[[Any, Any], Tensor]] = {}
_EULER_GAMMA = 0.5772156649015329


def register_kl(type_p: type, type_q: type) -> Callable[[Callable[..., Tensor]],
                                                        Callable[..., Tensor]]:
    """A decorator that makes ``fn(p, q)`` the KL divergence of a ``type_p`` and a ``type_q``
    (subclasses included), as ``torch.distributions.kl.register_kl``."""
    for t in (type_p, type_q):
        if not (isinstance(t, type) and issubclass(t, Distribution)):
            raise TypeError(f"register_kl: expected subclasses of Distribution, got {t!r}")

    def register(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
        _KL[type_p, type_q] = fn
        return fn
    return register


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p ‖ q) = E_p[log p - log q] in closed form, as ``torch.distributions.kl_divergence``,
    for the pairs it has among the distributions here: two of one kind (but NegativeBinomial,
    StudentT, MixtureSameFamily), and Bernoulli-Poisson, Beta-{Exponential, Gamma, Normal,
    Uniform}, Exponential-{Gamma, Normal}, Gamma-{Exponential, Normal}, Laplace-Normal,
    Normal-Laplace, Uniform-{Beta, Exponential, Gamma, Normal}; inf where q has no mass
    where p has (Normal-Exponential, Poisson-Binomial, ...)."""
    for tp in type(p).__mro__:
        for tq in type(q).__mro__:
            fn = _KL.get((tp, tq))
            if fn is not None:
                return fn(p, q)
    raise NotImplementedError(f"kl_divergence of {type(p).__name__} and {type(q).__name__}: "
                              "no closed form here (as in torch.distributions)")


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p: MultivariateNormal, q: MultivariateNormal) -> Tensor:
    """½ (tr(Σq⁻¹ Σp) + ‖Lq⁻¹ (μq - μp)‖² - n) + Σ log diag Lq - Σ log diag Lp, the trace as
    ‖Lq⁻¹ Lp‖²_F (triangular solves, no inverse)."""
    from . import linalg

    if p.event_shape != q.event_shape:
        raise ValueError(f"kl_divergence: MultivariateNormals of different event shapes "
                         f"{p.event_shape} and {q.event_shape}")
    Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    if Lp.dtype != Lq.dtype:  # the wider of the two, as PyTorch's promotion
        Lp, Lq = (Lp.type_as(Lq), Lq) if Lq.dtype.itemsize > Lp.dtype.itemsize \
            else (Lp, Lq.type_as(Lp))
    batch = tuple(np.broadcast_shapes(Lp.shape[:-2], Lq.shape[:-2]))
    sq = Lp.shape[-2:]
    m = linalg.solve_triangular(Lq.broadcast_to(batch + sq), Lp.broadcast_to(batch + sq),
                                upper=False)
    n = p.event_shape[0]
    return 0.5 * ((m ** 2).sum((-2, -1)) + q._mahalanobis(p.loc - q.loc) - n) \
        + q._half_log_det() - p._half_log_det()


def _infinite_like(t: Tensor) -> Tensor:
    return t.new_full(t.shape, math.inf)


def _x_log_x(t: Tensor) -> Tensor:
    return xlogy(t, t)


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    ratio = (p.scale / q.scale) ** 2
    return 0.5 * (ratio + ((p.loc - q.loc) / q.scale) ** 2 - 1 - ratio.log())


def _masked_kl(t: Tensor, q_none: Tensor, p_none: Tensor) -> Tensor:
    """A KL term: inf where q has no mass and p has some, 0 where p has none, as PyTorch's
    (the logits of a probability 0 are clamped to a finite log eps, which would hide the
    inf)."""
    return where(p_none, 0.0, where(q_none, math.inf, t))


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    return _masked_kl(p.probs * (p.logits - q.logits), q.probs == 0, p.probs == 0).sum(-1)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    ones = _masked_kl(p.probs * (F.logsigmoid(p.logits) - F.logsigmoid(q.logits)),
                      q.probs == 0, p.probs == 0)
    zeros = _masked_kl((1 - p.probs) * (F.logsigmoid(-p.logits) - F.logsigmoid(-q.logits)),
                       q.probs == 1, p.probs == 1)
    return ones + zeros


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p: Binomial, q: Binomial) -> Tensor:
    """n (p log(p/q) + (1 - p) log((1 - p)/(1 - q))) for one n; inf where p's n exceeds q's."""
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError("kl_divergence of two Binomials where q.total_count > "
                                  "p.total_count (as in torch.distributions)")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p()
                          - (-q.probs).log1p())
    return where(p.total_count > q.total_count, math.inf, kl)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p: Poisson, q: Poisson) -> Tensor:
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p: Exponential, q: Exponential) -> Tensor:
    ratio = q.rate / p.rate
    return -ratio.log() + ratio - 1


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> Tensor:
    return q.concentration * (p.rate / q.rate).log() \
        + (q.concentration.lgamma() - p.concentration.lgamma()) \
        + (p.concentration - q.concentration) * p.concentration.digamma() \
        + (q.rate - p.rate) * (p.concentration / p.rate)


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> Tensor:
    total_p = p.concentration1 + p.concentration0
    total_q = q.concentration1 + q.concentration0
    t1 = q.concentration1.lgamma() + q.concentration0.lgamma() + total_p.lgamma()
    t2 = p.concentration1.lgamma() + p.concentration0.lgamma() + total_q.lgamma()
    t3 = (p.concentration1 - q.concentration1) * p.concentration1.digamma()
    t4 = (p.concentration0 - q.concentration0) * p.concentration0.digamma()
    return t1 - t2 + t3 + t4 + (total_q - total_p) * total_p.digamma()


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p: Dirichlet, q: Dirichlet) -> Tensor:
    """log Γ(Σp) - log Γ(Σq) - Σ_k (log Γ(p_k) - log Γ(q_k)) + Σ_k (p_k - q_k)(ψ(p_k) -
    ψ(Σp)), of the concentrations."""
    a, b = p.concentration, q.concentration
    total_a = a.sum(-1)
    return total_a.lgamma() - b.sum(-1).lgamma() - (a.lgamma() - b.lgamma()).sum(-1) \
        + ((a - b) * (a.digamma() - total_a.digamma().unsqueeze(-1))).sum(-1)


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Laplace, q: Laplace) -> Tensor:
    ratio = p.scale / q.scale
    gap = (p.loc - q.loc).abs()
    return -ratio.log() + gap / q.scale + ratio * (-gap / p.scale).exp() - 1


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> Tensor:
    """log of the width ratio; inf where p's interval leaves q's."""
    kl = ((q.high - q.low) / (p.high - p.low)).log()
    return where((q.low > p.low) | (q.high < p.high), math.inf, kl)


@register_kl(LogNormal, LogNormal)
def _kl_lognormal_lognormal(p: LogNormal, q: LogNormal) -> Tensor:
    return _kl_normal_normal(p.base_dist, q.base_dist)  # KL is invariant under exp


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError(
            f"kl_divergence of two Independent with reinterpreted_batch_ndims "
            f"{p.reinterpreted_batch_ndims} and {q.reinterpreted_batch_ndims}: they must agree")
    return _sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p: Bernoulli, q: Poisson) -> Tensor:
    return -p.entropy() - (p.probs * q.rate.log() - q.rate)


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p: Beta, q: Exponential) -> Tensor:
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p: Beta, q: Gamma) -> Tensor:
    a, b = p.concentration1, p.concentration0
    t2 = q.concentration.lgamma() - q.concentration * q.rate.log()
    t3 = (q.concentration - 1) * (a.digamma() - (a + b).digamma())
    return -p.entropy() + t2 - t3 + q.rate * a / (a + b)


@register_kl(Beta, Normal)
def _kl_beta_normal(p: Beta, q: Normal) -> Tensor:
    a, b = p.concentration1, p.concentration0
    mean, var = a / (a + b), q.scale ** 2
    second = (mean * (1 - mean) / (a + b + 1) + mean ** 2) * 0.5
    return -p.entropy() + 0.5 * (var * 2 * math.pi).log() \
        + (second - q.loc * mean + q.loc ** 2 * 0.5) / var


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p: Beta, q: Uniform) -> Tensor:
    kl = -p.entropy() + (q.high - q.low).log()
    return where((q.low > 0) | (q.high < 1), math.inf, kl)


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p: Exponential, q: Gamma) -> Tensor:
    ratio = q.rate / p.rate
    return -q.concentration * ratio.log() + ratio + q.concentration.lgamma() \
        + q.concentration * _EULER_GAMMA - (1 + _EULER_GAMMA)


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p: Exponential, q: Normal) -> Tensor:
    var, rate_sq = q.scale ** 2, p.rate ** 2
    return 0.5 * (rate_sq * var * 2 * math.pi).log() - 1 \
        + (rate_sq.reciprocal() - q.loc / p.rate + q.loc ** 2 * 0.5) / var


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p: Gamma, q: Exponential) -> Tensor:
    return -p.entropy() - q.rate.log() + q.rate * p.concentration / p.rate


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p: Gamma, q: Normal) -> Tensor:
    a, var, rate_sq = p.concentration, q.scale ** 2, p.rate ** 2
    t1 = 0.5 * (rate_sq * var * 2 * math.pi).log() - a - a.lgamma()
    t2 = 0.5 * (a ** 2 + a) / rate_sq
    return t1 + (a - 1) * a.digamma() + (t2 - q.loc * a / p.rate + 0.5 * q.loc ** 2) / var


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p: Laplace, q: Normal) -> Tensor:
    var = q.scale ** 2
    ratio = p.scale ** 2 / var
    return -0.5 * (2 * ratio / math.pi).log() + ratio \
        + (0.5 * p.loc ** 2 - p.loc * q.loc + 0.5 * q.loc ** 2) / var - 1


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p: Normal, q: Laplace) -> Tensor:
    gap = p.loc - q.loc
    z = gap / p.scale
    t2 = math.sqrt(2 / math.pi) * p.scale * (-0.5 * z ** 2).exp()
    t3 = gap * (math.sqrt(0.5) * z).erf()
    return -(p.scale / q.scale).log() + (t2 + t3) / q.scale - 0.5 * (1 + math.log(0.5 * math.pi))


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p: Uniform, q: Beta) -> Tensor:
    width = p.high - p.low
    t2 = (q.concentration1 - 1) * (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    t3 = (q.concentration0 - 1) * (_x_log_x(1 - p.high) - _x_log_x(1 - p.low) + width) / width
    t4 = q.concentration1.lgamma() + q.concentration0.lgamma() \
        - (q.concentration1 + q.concentration0).lgamma()
    return where((p.high > 1) | (p.low < 0), math.inf, t3 + t4 - width.log() - t2)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p: Uniform, q: Exponential) -> Tensor:
    kl = q.rate * (p.high + p.low) / 2 - ((p.high - p.low) * q.rate).log()
    return where(p.low < 0, math.inf, kl)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p: Uniform, q: Gamma) -> Tensor:
    width = p.high - p.low
    t2 = q.concentration.lgamma() - q.concentration * q.rate.log()
    t3 = (1 - q.concentration) * (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    kl = -width.log() + t2 + t3 + q.rate * (p.high + p.low) / 2
    return where(p.low < 0, math.inf, kl)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p: Uniform, q: Normal) -> Tensor:
    width = p.high - p.low
    t1 = (math.sqrt(math.pi * 2) * q.scale / width).log()
    return t1 + 0.5 * (width ** 2 / 12 + ((p.high + p.low - 2 * q.loc) / 2) ** 2) / q.scale ** 2


@register_kl(Exponential, Beta)
@register_kl(Exponential, Uniform)
def _kl_exponential_infinity(p: Exponential, q: Distribution) -> Tensor:
    return _infinite_like(p.rate)  # q has no mass where p has


@register_kl(Gamma, Beta)
@register_kl(Gamma, Uniform)
def _kl_gamma_infinity(p: Gamma, q: Distribution) -> Tensor:
    return _infinite_like(p.concentration)


@register_kl(Laplace, Beta)
@register_kl(Laplace, Exponential)
@register_kl(Laplace, Gamma)
@register_kl(Laplace, Uniform)
@register_kl(Normal, Beta)
@register_kl(Normal, Exponential)
@register_kl(Normal, Gamma)
@register_kl(Normal, Uniform)
def _kl_real_line_infinity(p: Laplace | Normal, q: Distribution) -> Tensor:
    return _infinite_like(p.loc)


@register_kl(Poisson, Bernoulli)
@register_kl(Poisson, Binomial)
def _kl_poisson_infinity(p: Poisson, q: Distribution) -> Tensor:
    return _infinite_like(p.rate)

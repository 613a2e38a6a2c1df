"""``tr.special``, PyTorch's ``torch.special``: the special functions under their SciPy-style
names, each the same function as elsewhere in the package (so the same values and gradients).

    expit = sigmoid        logit, erf, erfc, erfinv, log1p, expm1, exp2, xlogy, digamma (psi)
    logsumexp, softmax, log_softmax, ndtr (the standard normal CDF), ndtri (its inverse)
    gammaln = lgamma (log |Γ|), multigammaln (the multivariate one, ``tr.mvlgamma``)
"""

from __future__ import annotations

import math
from typing import Any

from .functional import log_softmax as _log_softmax
from .functional import softmax as _softmax
from .ops.elementwise import digamma, erf, erfc, erfinv, expm1, lgamma, log1p, where
from .ops.reduce import logsumexp
from .tensor import DTypeLike, Tensor, tensor

__all__ = ["digamma", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "log1p",
           "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "psi", "softmax",
           "xlogy"]

psi = digamma
gammaln = lgamma


def expit(input: Tensor) -> Tensor:  # noqa: A002
    """σ(x) = 1 / (1 + exp(-x)), the logistic function (``x.sigmoid()``)."""
    return input.sigmoid()


def logit(input: Tensor, eps: float | None = None) -> Tensor:  # noqa: A002
    """log(z / (1 - z)), z = x clamped to [eps, 1 - eps] with ``eps`` (``x.logit``)."""
    return input.logit(eps)


def exp2(input: Tensor) -> Tensor:  # noqa: A002
    """2^x, as exp(x ln 2) (float32 for an integer tensor)."""
    return (input._floating() * math.log(2)).exp()


def ndtr(input: Tensor) -> Tensor:  # noqa: A002
    """Φ(x), the standard normal CDF, as erfc(-x/√2) / 2: exact in the lower tail too."""
    return erfc(input._floating() * -math.sqrt(0.5)) * 0.5


def xlogy(input: Any, other: Any) -> Tensor:  # noqa: A002
    """x log(y), 0 where x = 0 (unless y is NaN), broadcast, as ``torch.special.xlogy``:
    x · log(y'), y' = y but 1 where x = 0 and y <= 0 or y = inf, so no 0 · (-inf) reaches the
    value or the gradient. Gradients as PyTorch's: log(y) for x (0 where x = 0 and y <= 0),
    x / y for y (0 where y' replaced y)."""
    ref = input if isinstance(input, Tensor) else other
    if not isinstance(ref, Tensor):
        raise TypeError("xlogy: input or other must be a Tensor")
    x, y = (ref._pair(other) if ref is input else ref._pair(input, reflected=True))
    x, y = x._floating(), y._floating()
    yd = y._data
    swap = (x._data == 0) & ((yd <= 0) | (yd == math.inf))
    return x * where(Tensor._wrap(swap, x._dev), 1.0, y).log()


def softmax(input: Tensor, dim: int, *, dtype: DTypeLike = None) -> Tensor:  # noqa: A002
    """exp(x_i) / Σ_j exp(x_j) along ``dim`` (``F.softmax``)."""
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype: DTypeLike = None) -> Tensor:  # noqa: A002
    """x_i - log Σ_j exp(x_j) along ``dim`` (``F.log_softmax``)."""
    return _log_softmax(input, dim, dtype=dtype)


def ndtri(input: Tensor) -> Tensor:  # noqa: A002
    """The standard normal quantile, Φ⁻¹(p) = √2 erfinv(2p - 1) (``torch.special.ndtri``).
    Where p (or 1 - p) is below about 1e-6, 2p - 1 rounds, so the result is good to about
    1e-8 relative there, where PyTorch's, computed from p itself, is exact."""
    return erfinv(2 * input._floating() - 1) * math.sqrt(2)


def multigammaln(input: Tensor, p: int) -> Tensor:  # noqa: A002
    """log Γ_p(x) = p (p - 1)/4 log π + Σ_{j<p} log Γ(x - j/2), the log of the multivariate
    gamma function (the Wishart's normaliser), elementwise, as ``torch.special.multigammaln``
    and ``torch.mvlgamma``; through ``lgamma``, so as exact and differentiable twice."""
    if not isinstance(p, int) or p < 1:
        raise ValueError(f"multigammaln: the dimension p must be an int >= 1, got {p!r}")
    x = input._floating()
    halves = tensor([-0.5 * j for j in range(p)], dtype=x.dtype, device=x.device)
    return lgamma(x.unsqueeze(-1) + halves).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)

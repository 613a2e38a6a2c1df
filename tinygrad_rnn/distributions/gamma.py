"""The Gamma distribution, as ``torch.distributions.Gamma``, and ``StandardGamma``, the
differentiable Gamma(a, 1) draw (implicit reparameterisation) that Gamma, Chi2, Beta, Dirichlet,
StudentT, FisherSnedecor and InverseGamma sample through."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import random as _random
from ..backend import device_of
from ..special import gammainc, igamma_arrays, xlogy
from ..tensor import Function, Tensor
from . import constraints
from .distribution import Distribution
from .utils import (
    _clamped,
    _params,
)


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
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    _batch_params = ("concentration", "rate")

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        (self.concentration, self.rate), shape = _params("Gamma", concentration=concentration,
                                                         rate=rate)
        super().__init__(shape, validate_args=validate_args)
        self._check("concentration", self.concentration, self.concentration > 0, "positive")
        self._check("rate", self.rate, self.rate > 0, "positive")


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

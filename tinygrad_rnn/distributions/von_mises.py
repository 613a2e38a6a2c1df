"""The von Mises distribution (a normal on the circle), as
``torch.distributions.VonMises``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import random as _random
from ..special import i0e, i1e
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import _drawn, _host, _params, _shape

__all__ = ["VonMises"]


def _rejection_sample(loc: np.ndarray, kappa: np.ndarray, r: np.ndarray,
                      shape: tuple[int, ...]) -> np.ndarray:
    """Best and Fisher's (1979) sampler, as PyTorch runs it, in float64 on the host: z =
    cos(π u1), f = (1 + r z) / (r + z), c = κ (r - f), accepted where c (2 - c) > u2 or
    log(c / u2) + 1 - c >= 0; then ±acos f (the sign from u3), shifted by loc into [-π, π)."""
    gen = _random.generator()
    x = np.zeros(shape)
    done = np.zeros(shape, dtype=bool)
    while not done.all():
        u1, u2, u3 = gen.random((3,) + shape)
        z = np.cos(math.pi * u1)
        f = (1 + r * z) / (r + z)
        c = kappa * (r - f)
        with np.errstate(divide="ignore", invalid="ignore"):
            accept = ~done & (((c * (2 - c) - u2) > 0) | (np.log(c / u2) + 1 - c >= 0))
        x = np.where(accept, np.sign(u3 - 0.5) * np.arccos(np.clip(f, -1, 1)), x)
        done |= accept
    return np.mod(x + math.pi + loc, 2 * math.pi) - math.pi


class VonMises(Distribution):
    """Density exp(κ cos(x - loc)) / (2π I0(κ)) on angles (any real ``value``, read modulo
    2π), ``loc`` an angle and ``concentration`` κ > 0. log I0(κ) = log i0e(κ) + κ, exact
    (PyTorch's uses a 7-digit polynomial fit, so the two differ by up to ~1e-7);
    differentiable in loc and κ."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False
    _batch_params = ("loc", "concentration")

    def __init__(self, loc: Any, concentration: Any, validate_args: bool | None = None
                 ) -> None:
        (self.loc, self.concentration), shape = _params("VonMises", loc=loc,
                                                        concentration=concentration)
        super().__init__(shape, validate_args=validate_args)
        self._check_args()

    def _log_i0(self) -> Tensor:
        return i0e(self.concentration).log() + self.concentration

    def log_prob(self, value: Any) -> Tensor:
        """κ cos(value - loc) - log(2π) - log I0(κ)."""
        v = self._value(value, self.loc)
        return self.concentration * (v - self.loc).cos() - math.log(2 * math.pi) - \
            self._log_i0()

    @property
    def mean(self) -> Tensor:
        """loc (the circular mean)."""
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """1 - I1(κ) / I0(κ) (the circular variance), as i1e(κ) / i0e(κ)."""
        return 1 - i1e(self.concentration) / i0e(self.concentration)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Angles in [-π, π) by Best and Fisher's rejection sampler (in float64 inside, as
        PyTorch's; the proposal r = (1 + ρ²) / (2ρ), ρ = (τ - √(2τ)) / (2κ), τ = 1 + √(1 +
        4κ²), or 1/κ + κ below κ = 1e-5)."""
        shape = _shape(sample_shape) + self.batch_shape
        kappa = np.broadcast_to(_host(self.concentration).astype(np.float64), shape)
        loc = np.broadcast_to(_host(self.loc).astype(np.float64), shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            tau = 1 + np.sqrt(1 + 4 * kappa ** 2)
            rho = (tau - np.sqrt(2 * tau)) / (2 * kappa)
            r = np.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho ** 2) / (2 * rho))
        return _drawn(_rejection_sample(loc, kappa, r, shape), self.loc)

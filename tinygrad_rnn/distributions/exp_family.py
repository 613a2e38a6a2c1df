"""Exponential families: p(x) = h(x) exp(<θ, T(x)> - A(θ)), as
``torch.distributions.ExponentialFamily``.

A subclass gives its natural parameters θ (``_natural_params``), the log-normalizer A
(``_log_normalizer(*θ)``) and E[log h(x)] (``_mean_carrier_measure``); the entropy and the KL
divergence of two of one family then follow from A and its gradient (a Bregman divergence):
H = A(θ) - <θ, ∇A(θ)> - E[log h], by ``autograd.grad`` with ``create_graph``, so both stay
differentiable in the parameters. Normal, Bernoulli, Beta, Gamma, Exponential, Poisson,
Dirichlet and ContinuousBernoulli are exponential families (with closed forms of their own).
"""

from __future__ import annotations

from typing import Any

from ..autograd import enable_grad, grad
from ..tensor import Tensor
from .distribution import Distribution
from .utils import _sum_rightmost

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """The base of exponential families; see the module's docstring."""

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        raise self._missing("_natural_params")

    def _log_normalizer(self, *natural_params: Tensor) -> Tensor:
        raise self._missing("_log_normalizer")

    @property
    def _mean_carrier_measure(self) -> Any:
        raise self._missing("_mean_carrier_measure")

    def _bregman(self, other: ExponentialFamily | None = None) -> Tensor:
        """A(θq) - A(θp) - <θq - θp, ∇A(θp)> (KL(p ‖ q)), or, without ``other``, the entropy's
        A(θp) - <θp, ∇A(θp)>."""
        with enable_grad():
            params = [p.detach().requires_grad_() for p in self._natural_params]
            lg = self._log_normalizer(*params)
            grads = grad(lg.sum(), params, create_graph=True)
        n = len(self.event_shape)
        if other is None:
            result = lg
            for p, g in zip(params, grads):
                result = result - _sum_rightmost(p * g, n)
            return result
        q_params = other._natural_params
        result = other._log_normalizer(*q_params) - lg
        for p, qp, g in zip(params, q_params, grads):
            result = result - _sum_rightmost((qp - p) * g, n)
        return result

    def entropy(self) -> Tensor:
        """A(θ) - <θ, ∇A(θ)> - E[log h(x)] (the gradient taken at θ detached, as PyTorch's)."""
        return self._bregman() - self._mean_carrier_measure

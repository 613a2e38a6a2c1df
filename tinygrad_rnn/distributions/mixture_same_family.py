"""A mixture of components of one family, as
``torch.distributions.MixtureSameFamily``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from . import constraints
from .categorical import Categorical
from .distribution import Distribution
from .utils import (
    _as_tensor,
    _drawn,
    _host,
    _shape,
)


class MixtureSameFamily(Distribution):
    """A mixture of K components of one family: ``component_distribution``'s last batch axis
    (of size K) indexes the components, which ``mixture_distribution`` (a Categorical over K)
    weighs: p(x) = Σ_k π_k p_k(x), log_prob = logsumexp_k(log π_k + log p_k(x)). A mixture
    density network's loss is its -log_prob."""

    arg_constraints: dict[str, constraints.Constraint] = {}

    @constraints.dependent_property
    def support(self) -> constraints.Constraint:
        return constraints.MixtureSameFamilyConstraint(self.component_distribution.support)

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

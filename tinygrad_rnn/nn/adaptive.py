"""``AdaptiveLogSoftmaxWithLoss``: the adaptive softmax of Grave et al. (2017), as
``torch.nn``'s, with its submodules, parameter names and outputs."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .. import functional as F
from ..ops.movement import GetItem, IndexScatter, cat
from ..tensor import DTypeError, DTypeLike, Tensor
from .layers import Linear, Sequential
from .module import Module, ModuleList


class _ASMoutput(NamedTuple):
    output: Tensor
    loss: Tensor


class AdaptiveLogSoftmaxWithLoss(Module):
    """An efficient softmax over many classes sorted by frequency: the ``cutoffs`` split the
    ``n_classes`` into a shortlist [0, cutoffs[0]) and clusters [cutoffs[i], cutoffs[i+1]).
    The ``head`` (Linear, in_features to shortlist + one logit per cluster, with a bias if
    ``head_bias``) scores the shortlist and the clusters; cluster i's ``tail[i]`` (Linear to
    in_features // div_value^(i+1), then Linear to the cluster's size, no biases) scores its
    classes. log p(class) = log p_head(class), or log p_head(cluster) + log p_tail(class).

    ``forward(input, target)`` gives ``(output, loss)``: each sample's log-probability of its
    target (computing only the clusters the targets fall in) and the mean of -output.
    ``log_prob(input)`` gives every class's log-probability, ``predict(input)`` the most
    likely class. Inputs (N, in_features) with targets (N,), or (in_features,) with a 0-d
    target. The parameters (``head.weight``, ``tail.0.0.weight``, ...) are PyTorch's."""

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int],
                 div_value: float = 4.0, head_bias: bool = False, device: str | None = None,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if not cutoffs:
            raise ValueError("AdaptiveLogSoftmaxWithLoss: cutoffs should be a sequence of "
                             "length larger than 0")
        if any(isinstance(c, bool) or not isinstance(c, numbers.Real) or int(c) != c
               for c in cutoffs) or cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 \
                or max(cutoffs) > n_classes - 1 or len(set(cutoffs)) != len(cutoffs):
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: cutoffs should be a sequence of "
                             f"unique, positive integers sorted in an increasing order, where "
                             f"each value is between 1 and n_classes-1 = {n_classes - 1}; got "
                             f"{cutoffs}")
        self.in_features, self.n_classes = int(in_features), int(n_classes)
        self.cutoffs = [int(c) for c in cutoffs] + [self.n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        kw = {"device": device, "dtype": dtype}
        self.head = Linear(self.in_features, self.head_size, bias=self.head_bias, **kw)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(self.in_features // (self.div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(self.in_features, hsz, bias=False, **kw),
                                        Linear(hsz, osz, bias=False, **kw)))

    def reset_parameters(self) -> None:
        """Every Linear's initialisation, in place."""
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def _batched(self, input: Tensor) -> tuple[Tensor, bool]:  # noqa: A002
        if not isinstance(input, Tensor) or input.ndim not in (1, 2):
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: expected an input of shape (N, "
                             f"{self.in_features}) or ({self.in_features},), got "
                             f"{getattr(input, 'shape', type(input).__name__)}")
        return (input, True) if input.ndim == 2 else (input.unsqueeze(0), False)

    def forward(self, input: Tensor, target: Any) -> _ASMoutput:  # noqa: A002
        t = target.numpy() if isinstance(target, Tensor) else np.asarray(target)
        if t.dtype.kind not in "iu":
            raise DTypeError(f"AdaptiveLogSoftmaxWithLoss: target must hold integer class "
                             f"indices, got {t.dtype}")
        if t.ndim == 1:
            if not isinstance(input, Tensor) or input.ndim != 2 or input.shape[0] != len(t):
                raise ValueError(f"AdaptiveLogSoftmaxWithLoss: a 1-D target of shape "
                                 f"{t.shape} needs a 2-D input with as many rows, got "
                                 f"{getattr(input, 'shape', type(input).__name__)}")
        elif t.ndim == 0:
            if not isinstance(input, Tensor) or input.ndim != 1:
                raise ValueError(f"AdaptiveLogSoftmaxWithLoss: a 0-d target needs a 1-D "
                                 f"input, got {getattr(input, 'shape', type(input).__name__)}")
        else:
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: expected a 0-d or 1-D target, got "
                             f"shape {t.shape} (multi-target is not supported)")
        tb = t.reshape(-1).astype(np.int64)
        if tb.size and (tb.min() < 0 or tb.max() >= self.n_classes):
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: target values should be in [0, "
                             f"{self.n_classes - 1}], but values in [{tb.min()}, {tb.max()}] "
                             "were found")
        x, batched = self._batched(input)
        dev, b = x._dev, x.shape[0]
        cluster = np.searchsorted(self.cutoffs, tb, side="right")  # 0: the shortlist
        head_index = np.where(cluster == 0, tb, self.shortlist_size + cluster - 1)
        head = F.log_softmax(self.head(x), 1)
        output = GetItem.apply(head, index=(dev.to_device(np.arange(b)),
                                            dev.to_device(head_index)), in_range=True)
        for i in range(1, self.n_clusters + 1):
            rows = np.flatnonzero(cluster == i)
            if not rows.size:
                continue
            at = dev.to_device(rows)
            part = GetItem.apply(x, index=at, in_range=True)
            local = F.log_softmax(self.tail[i - 1](part), 1)
            within = dev.to_device(tb[rows] - self.cutoffs[i - 1])  # the class in its cluster
            picked = GetItem.apply(local, index=(dev.to_device(np.arange(rows.size)), within),
                                   in_range=True)
            output = output + IndexScatter.apply(picked, index=(at,), shape=(b,))
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _full_log_prob(self, x: Tensor, head_output: Tensor) -> Tensor:
        head = F.log_softmax(head_output, 1)
        parts = [head[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            tail = F.log_softmax(self.tail[i](x), 1)
            parts.append(tail + head[:, self.shortlist_size + i].unsqueeze(1))
        return cat(parts, 1)

    def log_prob(self, input: Tensor) -> Tensor:  # noqa: A002
        """log p of every class: (N, n_classes) for (N, in_features), (n_classes,) for one
        sample."""
        x, batched = self._batched(input)
        out = self._full_log_prob(x, self.head(x))
        return out if batched else out.squeeze(0)

    def predict(self, input: Tensor) -> Tensor:  # noqa: A002
        """The most likely class of each sample (int64, (N,) or 0-d): the head's argmax where
        that is in the shortlist, else the argmax over every class's log-probability
        (computed for those samples only)."""
        x, batched = self._batched(input)
        xp, dev = x._dev.xp, x._dev
        head_output = self.head(x)
        out = xp.argmax(head_output._data, axis=1).astype(np.int64)
        rest = np.flatnonzero(Tensor._wrap(out >= self.shortlist_size, dev).numpy())
        if rest.size:
            at = dev.to_device(rest)
            lp = self._full_log_prob(GetItem.apply(x, index=at, in_range=True),
                                     GetItem.apply(head_output, index=at, in_range=True))
            out = out.copy()
            out[at] = xp.argmax(lp._data, axis=1)
        y = Tensor._wrap(out, dev)
        return y if batched else y.reshape(())

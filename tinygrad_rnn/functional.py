"""Compositions of the primitive ops: layers' math, activations and losses.

Everything here is built from ops in ``ops/``, so its gradient (and its second derivative) comes
from theirs; nothing here has a backward of its own.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import itertools
import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import random as _random
from .backend import broadcasts_to
from .ops.conv import Conv, ConvInput, Geometry
from .ops.elementwise import where
from .ops.elementwise2 import BCEWithLogits
from .ops.linear_ce import LinearCrossEntropy
from .ops.movement import GetItem, IndexScatter, Transpose, cat, stack
from .ops.windows import Col2Im, Im2Col, WindowMax, WindowSum, window_argmax
from .tensor import DTypeError, Tensor, torch_names

Reduction = str  # "mean", "sum" or "none"


def _same_device(where: str, name: str, a: Any, other: str, b: Tensor) -> None:
    """Refuse a tensor ``a`` on another device than ``b`` (a list or array is moved)."""
    if isinstance(a, Tensor) and a._dev is not b._dev:
        raise ValueError(f"{where}: {name} on {a.device!r}, {other} on {b.device!r}; move "
                         f"{name} with .to({b.device!r})")


def _first_as(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let a function take its first argument by PyTorch's keyword ``name`` too (``input=``,
    ``tensor=``), where it is named for what it holds here (``logits``, ``indices``)."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if name in kwargs:
                if args:
                    raise TypeError(f"{f.__name__}() got multiple values for argument "
                                    f"{name!r}")
                args = (kwargs.pop(name),)
            return f(*args, **kwargs)

        first = next(iter(inspect.signature(f).parameters))
        wrapper.torch_keywords = (  # type: ignore[attr-defined]
            getattr(f, "torch_keywords", {}) | {name: first})
        return wrapper

    return decorate


def _legacy_reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    """``reduction`` from PyTorch's deprecated ``size_average``/``reduce`` where either is
    given (with PyTorch's warning): reduce=False gives "none", else size_average=False
    "sum", else "mean"."""
    if size_average is None and reduce is None:
        return reduction
    reduction = "none" if reduce is not None and not reduce else \
        "sum" if size_average is not None and not size_average else "mean"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", UserWarning, stacklevel=3)
    return reduction


def _legacy_args(f: Callable[..., Any]) -> Callable[..., Any]:
    """Let a loss take PyTorch's deprecated ``size_average=`` and ``reduce=`` keywords, which
    set ``reduction`` as there (with PyTorch's warning). Keywords only: the functions here do
    not keep their positional slots (the loss modules do)."""
    slot = list(inspect.signature(f).parameters).index("reduction")

    @functools.wraps(f)
    def wrapper(*args: Any, size_average: Any = None, reduce: Any = None, **kwargs: Any) -> Any:
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce, "mean")
            if len(args) > slot:
                args = args[:slot] + (reduction,) + args[slot + 1:]
            else:
                kwargs["reduction"] = reduction
        return f(*args, **kwargs)

    return wrapper


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None  # noqa: A002
           ) -> Tensor:
    """y = x Wᵀ + b (x the input), with W of shape (out_features, in_features) as in
    PyTorch."""
    x = input
    if x.ndim == 0:
        raise ValueError(f"linear: the input must have at least one axis (its features), "
                         f"got a 0-d tensor; the weight expects {weight.shape[-1]} features")
    if x.dtype != weight.dtype:
        raise DTypeError(f"linear: input dtype {x.dtype} does not match the weight's dtype "
                         f"{weight.dtype}; convert the input with x.to({str(weight.dtype)!r}) "
                         "or the layer with .to(dtype)")
    if x.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the weight "
            f"expects {weight.shape[-1]} (weight shape {weight.shape})"
        )
    if weight.ndim > 2:
        raise ValueError(f"linear: the weight must be 1-D or 2-D (out_features, in_features), "
                         f"got shape {weight.shape}")
    y = x @ Transpose.apply(weight, axes=None)  # (not marked as a view: nobody writes it)
    if bias is None:
        return y
    if not broadcasts_to(bias.shape, y.shape):
        raise ValueError(f"linear: a bias of shape {bias.shape} does not fit the output of "
                         f"shape {y.shape}: it must broadcast to it (out_features,)")
    return y + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """y_o = x1ᵀ W_o x2 + b_o for each output o, as ``torch.nn.functional.bilinear``:
    ``input1`` (*, in1) and ``input2`` (*, in2) with the same leading axes (none for one
    sample), ``weight`` (out, in1, in2), ``bias`` (out,); the result (*, out). Computed as
    one matmul, x1 @ W as (in1, out·in2), then a product with x2 summed over in2."""
    _check_tensors("bilinear", input1=input1, input2=input2, weight=weight)
    if weight.ndim != 3:
        raise ValueError(f"bilinear: weight must be 3-D (out_features, in1_features, "
                         f"in2_features), got shape {weight.shape}")
    o, n1, n2 = weight.shape
    if input1.ndim == 0 or input2.ndim == 0 or input1.shape[:-1] != input2.shape[:-1]:
        raise ValueError(f"bilinear: input1 of shape {input1.shape} and input2 of shape "
                         f"{input2.shape} must have the same leading (batch) axes")
    if input1.shape[-1] != n1 or input2.shape[-1] != n2:
        raise ValueError(f"bilinear: inputs with {input1.shape[-1]} and {input2.shape[-1]} "
                         f"features for a weight of shape {weight.shape}, which expects {n1} "
                         f"and {n2}")
    _check_tensors_of("bilinear", input1, input2=input2, weight=weight, bias=bias)
    for name, t in (("input2", input2), ("weight", weight), ("bias", bias)):
        if t is not None:
            _same_device("bilinear", name, t, "input1", input1)
    if bias is not None and bias.shape != (o,):
        raise ValueError(f"bilinear: bias must have shape ({o},), one per output, got "
                         f"{bias.shape}")
    lead = input1.shape[:-1]
    t = input1 @ weight.permute(1, 0, 2).reshape(n1, o * n2)
    y = (t.reshape(*lead, o, n2) * input2.unsqueeze(-2)).sum(-1)
    return y if bias is None else y + bias


def _shift(x: Tensor, axis: int) -> Tensor:
    """x - m, m the maximum along ``axis`` as a constant (0 for a row of -inf, which then
    stays -inf): the largest shifted value is 0, so exp() neither overflows nor underflows."""
    xp = x._dev.xp
    if x.size == 0:
        return x
    m = x._data.max(axis=axis, keepdims=True)
    return x - Tensor._wrap(xp.where(m == -np.inf, 0, m), x._dev)


def _cast(x: Tensor, dtype: Any) -> Tensor:
    """x as ``dtype`` (None: as it is), the ``dtype=`` of softmax and log_softmax: PyTorch
    casts the input before the op (to compute a float16 input in float32, say)."""
    if dtype is None:
        return x
    from .tensor import resolve_dtype

    dt = resolve_dtype(dtype)
    if dt.kind != "f":
        raise DTypeError(f"softmax/log_softmax: dtype must be floating-point, got {dt}")
    return x if x.dtype == dt else x.to(dtype=dt)


@_first_as("input")
@torch_names
def softmax(x: Tensor, axis: int = -1, *, dtype: Any = None, _stacklevel: int = 3) -> Tensor:
    """exp(x - m) / Σ exp(x - m) along ``axis``, m the (constant) maximum: stable for any finite
    input, and exact to the dtype's precision even at large magnitudes. ``dtype`` casts x
    first, as PyTorch's; ``_stacklevel`` (the frame PyTorch's warning about an implicit dim
    names) changes nothing here."""
    x = _cast(x, dtype)
    e = _shift(x, axis).exp()
    return e / e.sum(axis, keepdims=True)


@_first_as("input")
@torch_names
def log_softmax(x: Tensor, axis: int = -1, *, dtype: Any = None, _stacklevel: int = 3
                ) -> Tensor:
    """s - log Σ exp(s) along ``axis``, with s = x - m (m the constant maximum): never takes the
    log of an underflowed zero, and exact at large magnitudes, where x - logsumexp(x) would
    subtract two large, nearly equal numbers. ``dtype`` casts x first, as PyTorch's;
    ``_stacklevel`` changes nothing here (as softmax's)."""
    x = _cast(x, dtype)
    if x.size == 0:  # nothing to normalise (and no log of an empty sum)
        return x.reshape(x.shape)
    s = _shift(x, axis)
    return s - s.exp().sum(axis, keepdims=True).log()


def _reduce(loss: Tensor, reduction: Reduction, count: Any = None) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / count if count is not None else loss.mean()
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _classes_last(x: Tensor) -> Tensor:
    """(N, C, d1, ...) as (N d1 ..., C): classes on axis 1 moved last, the rest one axis;
    (C,), one sample, as (1, C)."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim > 2:
        return x.transpose((0, *range(2, x.ndim), 1)).reshape(-1, x.shape[1])
    return x


def _class_weight(where: str, weight: Tensor | None, x: Tensor) -> Any:
    """The array of per-class weights (a constant, as PyTorch's, which has no gradient for
    them), or None; checked: a 1-D tensor of one weight per class, on x's device, of x's
    dtype (as PyTorch's, which refuses another)."""
    if weight is None:
        return None
    _check_tensors(where, weight=weight)
    _same_device(where, "weight", weight, "input", x)
    n_classes = x.shape[0 if x.ndim == 1 else 1]
    if weight.shape != (n_classes,):
        raise ValueError(f"{where}: weight must have one entry per class, shape "
                         f"({n_classes},), got {weight.shape}")
    if weight.dtype != x.dtype:
        raise DTypeError(f"{where}: weight dtype {weight.dtype} does not match the input's "
                         f"dtype {x.dtype}")
    return weight._data


@_first_as("input")
@_legacy_args
def nll_loss(
    log_probs: Tensor,
    target: Tensor | Any,
    weight: Tensor | None = None,
    reduction: Reduction = "mean",
    ignore_index: int = -100,
) -> Tensor:
    """-w[y] log_probs[y] for each sample's class y, as ``torch.nn.functional.nll_loss``.

    ``log_probs`` is (N, C) or (N, C, d1, ...) with classes on axis 1, or (C,) for one sample;
    ``target`` holds class indices of shape (N,) or (N, d1, ...). ``weight`` (C,) weighs each
    class (1 without it). Targets equal to ``ignore_index`` add nothing, and "mean" divides by
    the sum of the others' weights (their number without ``weight``); where that is 0, the
    mean is 0 (PyTorch's 0/0 is NaN).
    """
    loss, den, _ = _nll(log_probs, target, _class_weight("nll_loss", weight, log_probs),
                        ignore_index, "nll_loss")
    if reduction == "none":
        return loss
    return _reduce(loss, reduction, den)


def _nll(log_probs: Tensor, target: Any, w: Any, ignore_index: int, where_: str
         ) -> tuple[Tensor, Tensor, Any]:
    """nll_loss's per-sample losses (in target's shape), the divisor of its mean, and where
    the target is not ignored (an array in target's shape)."""
    _same_device(where_, "target", target, "input", log_probs)
    t = target if isinstance(target, Tensor) else Tensor._wrap(
        log_probs._dev.to_device(np.asarray(target)), log_probs._dev)
    if t.dtype.kind not in "iu":
        raise DTypeError(f"{where_}: target must hold integer class indices, got {t.dtype}")
    if log_probs.ndim == 0:
        raise ValueError(f"{where_}: the input must have a class axis, got a scalar")
    # target shape: the input's without its class axis (axis 1, or axis 0 for one sample)
    expected = () if log_probs.ndim == 1 else (log_probs.shape[0], *log_probs.shape[2:])
    if t.shape != expected:
        raise ValueError(
            f"{where_}: target shape {t.shape} does not fit input shape {log_probs.shape}: "
            f"expected target shape {expected}"
        )
    lp = _classes_last(log_probs)
    xp, dev = lp._dev.xp, lp._dev
    tflat = t._data.reshape(-1)
    keep = tflat != ignore_index
    n_classes = lp.shape[1]
    if bool((keep & ((tflat < 0) | (tflat >= n_classes))).any()):
        raise ValueError(f"{where_}: target values must lie in [0, {n_classes})")
    safe = xp.where(keep, tflat, 0)
    picked = GetItem.apply(lp, index=(xp.arange(lp.shape[0]), safe), in_range=True)
    wk = keep.astype(lp.dtype) if w is None else xp.where(keep, w[safe], 0)
    if w is not None:
        picked = picked * Tensor._wrap(wk, dev)
    loss = where(keep, -picked, 0.0)  # an ignored target's -inf adds no NaN
    den = wk.sum()
    den = Tensor._wrap(xp.where(den == 0, 1, den).astype(lp.dtype), dev)
    if loss.shape != t.shape:  # (N d1 ...,) back to (N, d1, ...), or () for one sample
        loss, keep = loss.reshape(t.shape), keep.reshape(t.shape)
    return loss, den, keep


@_first_as("input")
@_legacy_args
def cross_entropy(
    logits: Tensor,
    target: Tensor | Any,
    weight: Tensor | None = None,
    reduction: Reduction = "mean",
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy, as ``torch.nn.functional.cross_entropy``: ``nll_loss`` of
    ``log_softmax(logits)`` over the class axis (axis 1; axis 0 for one sample of shape (C,)).

    ``target`` holds class indices (then ``weight``, ``ignore_index`` and the mean are
    ``nll_loss``'s), or class probabilities of the logits' shape (a float tensor): then the
    loss of a sample is -Σ_c w_c y_c log p_c, and "mean" divides by the number of samples.
    ``label_smoothing`` ε mixes the target with the uniform distribution over the C classes:
    (1 - ε) loss + ε/C Σ_c -w_c log p_c, reduced as the loss is.
    """
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real) \
            or not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be a number in [0, 1], got "
                         f"{label_smoothing!r}")
    if logits.ndim == 0:
        raise ValueError("cross_entropy: logits must have a class axis, got a scalar")
    w = _class_weight("cross_entropy", weight, logits)
    axis = 0 if logits.ndim == 1 else 1
    n_classes = logits.shape[axis]
    logp = log_softmax(logits, axis=axis)
    wb = None if w is None else Tensor._wrap(  # w along the class axis, to broadcast
        w.reshape((n_classes,) + (1,) * (logits.ndim - axis - 1)), logits._dev)
    if isinstance(target, Tensor) and target.dtype.kind == "f":  # class probabilities
        _same_device("cross_entropy", "target", target, "input", logits)
        if target.shape != logits.shape:
            raise DTypeError(f"cross_entropy: target must hold integer class indices, or class "
                             f"probabilities of the logits' shape {logits.shape}; got "
                             f"{target.dtype} of shape {target.shape}")
        if ignore_index != -100:  # a probability target has no class to ignore
            raise ValueError(f"cross_entropy: ignore_index={ignore_index} is not supported for "
                             f"a floating point (class probabilities) target")
        y = target if label_smoothing == 0 else \
            target * (1 - label_smoothing) + label_smoothing / n_classes
        loss = -(logp * y * (1 if wb is None else wb)).sum(axis)
        return _reduce(loss, reduction)
    nll, den, keep = _nll(logp, target, w, ignore_index, "cross_entropy")
    if reduction not in ("mean", "sum", "none"):
        return _reduce(nll, reduction)  # its error
    if label_smoothing == 0:
        return nll if reduction == "none" else _reduce(nll, reduction, den)
    # the uniform part: -Σ_c w_c log p_c per sample, nothing for an ignored one
    smooth = where(keep, -(logp * (1 if wb is None else wb)).sum(axis), 0.0)
    eps = label_smoothing
    if reduction == "none":
        return (1 - eps) * nll + (eps / n_classes) * smooth
    return (1 - eps) * _reduce(nll, reduction, den) + \
        (eps / n_classes) * _reduce(smooth, reduction, den)


def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor | Any,  # noqa: A002
                         *, linear_bias: Tensor | None = None, weight: Tensor | None = None,
                         reduction: Reduction = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0, options: Any = None) -> Tensor:
    """``cross_entropy(linear(input, W, b), target, ...)``, as
    ``torch.nn.functional.linear_cross_entropy``: input (in_features,) or (N, in_features),
    ``linear_weight`` W (C, in_features), or (C, d1, ..., dK, in_features) for a K-dimensional
    loss (logits (N, C, d1, ..., dK), batched input only), ``linear_bias`` of W's shape less
    its last axis. ``target`` holds class indices, or class probabilities of the logits'
    shape; ``ignore_index`` None is -100 for indices and must stay None for probabilities.

    ``options`` (``nn.LinearCrossEntropyOptions``) asks for the batch in chunks of
    ``batch_chunk_size`` rows, with the same values: the logits of one chunk at a time are
    made, in the forward and again in the backward, never the whole (N, C) of them. It needs
    class indices, no label smoothing and no K-dimensional loss; otherwise it is ignored with
    a warning, as PyTorch's. The gradient is that of linear then cross_entropy."""
    where_ = "linear_cross_entropy"
    _check_tensors(where_, input=input, linear_weight=linear_weight)
    if input.ndim not in (1, 2):
        raise ValueError(f"{where_}: expected an input of 1 or 2 dimensions (in_features) or "
                         f"(N, in_features), got shape {input.shape}")
    if linear_weight.ndim < 2:
        raise ValueError(f"{where_}: expected a linear_weight of at least 2 dimensions "
                         f"(C, ..., in_features), got shape {linear_weight.shape}")
    batch, n_in = input.shape[:-1], input.shape[-1]
    if n_in != linear_weight.shape[-1]:
        raise ValueError(f"{where_}: the input has {n_in} features (shape {input.shape}), "
                         f"the linear_weight {linear_weight.shape[-1]} (shape "
                         f"{linear_weight.shape})")
    C, out_features = linear_weight.shape[0], linear_weight.shape[1:-1]
    if linear_bias is not None and linear_bias.shape != (C, *out_features):
        raise ValueError(f"{where_}: expected a linear_bias of shape {(C, *out_features)}, got "
                         f"{linear_bias.shape}")
    if out_features and not batch:
        raise ValueError(f"{where_}: a K-dimensional loss (linear_weight {linear_weight.shape}) "
                         f"needs a batched input (N, {n_in}), got shape {input.shape}")
    logits_shape = (*batch, C, *out_features)
    probabilities = getattr(target, "shape", None) == logits_shape
    if probabilities and ignore_index is not None:
        raise ValueError(f"{where_}: ignore_index cannot be given with a target of class "
                         "probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    if options is not None:
        integer = isinstance(target, Tensor) and target.dtype.kind in "iu"
        if out_features or label_smoothing != 0 or not integer or \
                reduction not in ("mean", "sum", "none"):
            warnings.warn(f"{where_}: options ignored; the chunked path needs reduction in "
                          f"('mean', 'sum', 'none'), label_smoothing == 0, integer class "
                          f"indices and no out_features; got reduction={reduction!r}, "
                          f"label_smoothing={label_smoothing}, target of "
                          f"{getattr(target, 'dtype', type(target).__name__)}, "
                          f"out_features={tuple(out_features)}", stacklevel=2)
        else:
            return _chunked_linear_cross_entropy(input, linear_weight, target, linear_bias,
                                                 weight, reduction, ignore_index, options)
    n_out = math.prod(out_features) * C
    logits = linear(input, linear_weight.reshape(n_out, n_in),
                    None if linear_bias is None else linear_bias.reshape(n_out))
    return cross_entropy(logits.reshape(logits_shape), target, weight, reduction, ignore_index,
                         label_smoothing)


@dataclasses.dataclass
class LinearCrossEntropyOptions:
    """How ``linear_cross_entropy`` splits the batch, as ``torch.nn.LinearCrossEntropyOptions``:
    ``batch_chunk_size`` rows at a time (None: the whole batch), or, where
    ``chunking_method`` is ``"aspect_ratio:k"`` (``"aspect_ratio"`` is k = 1; ``"auto"``,
    without a ``batch_chunk_size``, is k = 2), chunks whose (rows, C) logits are about the
    size of the (N, I) input, divided by k: ``min(next_pow2(ceil(N / ceil(C / I))) // k, N)``
    rows. ``acc_policy``, ``acc_dtype`` and ``allow_retain_graph`` are taken and checked:
    here everything accumulates in the input's dtype, and the backward can always run
    again."""

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: Any = None

    def __post_init__(self) -> None:
        if self.acc_policy not in ("auto", "accurate", "balanced", "compact"):
            raise ValueError(f"LinearCrossEntropyOptions: invalid acc_policy "
                             f"{self.acc_policy!r}")
        if self.chunking_method not in (None, "auto"):
            name, _, factor = str(self.chunking_method).partition(":")
            if name != "aspect_ratio" or not (factor or "1").isdigit() or int(factor or 1) < 1:
                raise ValueError(f"LinearCrossEntropyOptions: invalid chunking_method "
                                 f"{self.chunking_method!r} (\"auto\", \"aspect_ratio\", "
                                 f"\"aspect_ratio:k\" or None)")
        size = self.batch_chunk_size
        if size is not None and (isinstance(size, bool) or not isinstance(size, int)
                                 or size < 1):
            raise ValueError(f"LinearCrossEntropyOptions: batch_chunk_size must be a positive "
                             f"int or None, got {size!r}")

    def rows(self, n: int, in_features: int, num_classes: int) -> int:
        """The rows of one chunk, for a batch of n rows."""
        method = self.chunking_method
        if method == "auto":
            method = None if self.batch_chunk_size is not None else "aspect_ratio:2"
        if method is None:
            return n if self.batch_chunk_size is None else min(self.batch_chunk_size, n)
        k = int(method.partition(":")[2] or 1)
        want = -(-n // -(-num_classes // in_features))
        return max(1, min((1 << (want - 1).bit_length()) // k, n))


def _chunked_linear_cross_entropy(input: Tensor, linear_weight: Tensor,  # noqa: A002
                                  target: Tensor, linear_bias: Tensor | None,
                                  weight: Tensor | None, reduction: str, ignore_index: int,
                                  options: Any) -> Tensor:
    """``linear_cross_entropy`` with ``options``: the ``LinearCrossEntropy`` op's per-row
    losses, reduced as ``cross_entropy``'s (a mean over no row is 0)."""
    where_ = "linear_cross_entropy"
    _same_device(where_, "target", target, "input", input)
    if target.shape != input.shape[:-1]:
        raise ValueError(f"{where_}: target shape {target.shape} does not fit input shape "
                         f"{input.shape}: expected {input.shape[:-1]}")
    x, t = (input, target) if input.ndim == 2 else (input.unsqueeze(0), target.reshape(1))
    C = linear_weight.shape[0]
    keep = t._data != ignore_index
    if bool((keep & ((t._data < 0) | (t._data >= C))).any()):
        raise ValueError(f"{where_}: target values must lie in [0, {C})")
    if weight is not None:
        _check_tensors(where_, weight=weight)
        _same_device(where_, "weight", weight, "input", input)
        if weight.shape != (C,) or weight.dtype != input.dtype:
            raise ValueError(f"{where_}: weight must be ({C},) of the input's dtype "
                             f"{input.dtype}, got {weight.shape} of {weight.dtype}")
    w = None if weight is None else weight._data
    chunk = options.rows(len(x), x.shape[1], C)
    params = (linear_weight,) if linear_bias is None else (linear_weight, linear_bias)
    loss = LinearCrossEntropy.apply(x, *params, target=t._data, weight=w,
                                    ignore_index=ignore_index, chunk=chunk)
    if reduction == "none":
        return loss if input.ndim == 2 else loss.reshape(())
    if reduction == "sum":
        return loss.sum()
    xp = x._dev.xp
    den = keep.sum() if w is None else xp.where(keep, w[xp.where(keep, t._data, 0)], 0).sum()
    den = Tensor._wrap(xp.where(den == 0, 1, den).astype(x.dtype), x._dev)
    return loss.sum() / den


def _check_tensors(where: str, **args: Any) -> None:
    for name, value in args.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"{where}: {name} must be a Tensor, got {type(value).__name__} "
                            "(tr.tensor(...) makes one)")


def _additive_mask(mask: Any, like: Tensor, where_: str) -> Tensor | None:
    """An attention mask as a tensor to add to the scores: a bool mask (True: not allowed,
    as PyTorch's ``nn.MultiheadAttention``) becomes -inf there and 0 elsewhere; a float mask
    is added as it is."""
    if mask is None:
        return None
    m = mask if isinstance(mask, Tensor) else Tensor._wrap(like._dev.to_device(np.asarray(mask)),
                                                           like._dev)
    if m._dev is not like._dev:
        raise ValueError(f"{where_}: the mask is on {m.device!r}, the input on {like.device!r}")
    if m.dtype == np.bool_:
        return where(m, Tensor._wrap(like._dev.xp.asarray(-np.inf, dtype=like.dtype), like._dev),
                     Tensor._wrap(like._dev.xp.zeros((), dtype=like.dtype), like._dev))
    if m.dtype.kind != "f":
        raise DTypeError(f"{where_}: a mask must be bool or floating-point, got {m.dtype}")
    return m if m.dtype == like.dtype else m.to(dtype=like.dtype)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Any = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(q kᵀ · scale + mask) v over the last two axes (leading axes broadcast), as
    ``torch.nn.functional.scaled_dot_product_attention``: ``scale`` defaults to
    1/sqrt(q's last size); a bool ``attn_mask`` is True where attention is *allowed* (as
    PyTorch's here, the opposite of ``nn.MultiheadAttention``'s), a float one is added;
    ``is_causal`` allows each query position only the key positions up to its own. A row
    with nothing allowed (every score -inf) gives zeros and gradient 0, as PyTorch's.
    ``enable_gqa`` (grouped-query attention): key and value have fewer heads (axis -3) than
    query, a divisor of its; each key/value head serves that many consecutive query heads."""
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3 and value.ndim >= 3:
        hq = query.shape[-3]
        for name, t in (("key", key), ("value", value)):
            if hq % t.shape[-3]:
                raise ValueError(f"scaled_dot_product_attention: with enable_gqa the query's "
                                 f"{hq} heads must be a multiple of the {name}'s "
                                 f"{t.shape[-3]}")
        key = key.repeat_interleave(hq // key.shape[-3], dim=-3)
        value = value.repeat_interleave(hq // value.shape[-3], dim=-3)
    L, S = query.shape[-2], key.shape[-2]
    scores = (query @ key.transpose(-2, -1)) * (
        scale if scale is not None else 1 / math.sqrt(query.shape[-1]))
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal, not "
                             "both")
        attn_mask = Tensor._wrap(query._dev.to_device(np.tril(np.ones((L, S), bool))),
                                 query._dev)
    if attn_mask is not None:
        m = attn_mask if isinstance(attn_mask, Tensor) else _as_tensor_on(attn_mask, query)
        if m.dtype not in (np.bool_, np.float32, query.dtype):  # as PyTorch's
            raise DTypeError(f"scaled_dot_product_attention: attn_mask must be bool, float32 or "
                             f"of the query's dtype {query.dtype}, got {m.dtype}")
        scores = scores + _additive_mask(~m if m.dtype == np.bool_ else m, scores,
                                         "scaled_dot_product_attention")
    weights = _safe_softmax(scores)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return weights @ value


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
        out_proj_bias: Tensor | None, training: bool = True, key_padding_mask: Any = None,
        need_weights: bool = True, attn_mask: Any = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
        v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
        static_v: Tensor | None = None, average_attn_weights: bool = True,
        is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """``nn.MultiheadAttention``'s computation on given weights, as
    ``torch.nn.functional.multi_head_attention_forward``: query (L, N, E), key and value
    (S, N, ·), or unbatched (L, E), (S, ·). Per head h of size d = E / num_heads,

        q, k, v = query W_qᵀ + b_q, key W_kᵀ + b_k, value W_vᵀ + b_v   (split into heads)
        out = concat_h(softmax(q_h k_hᵀ / sqrt(d) + masks) v_h) W_outᵀ + b_out

    with W_q, W_k, W_v the thirds of ``in_proj_weight`` (or ``q/k/v_proj_weight`` with
    ``use_separate_proj_weight``), ``in_proj_bias`` likewise. ``bias_k``/``bias_v`` (1, 1, E)
    append one key and value; ``static_k``/``static_v`` (N·heads, S, d) replace the projected
    keys or values; ``add_zero_attn`` appends a zero key and value after them. A bool mask is
    True where attention is *not* allowed, a float one is added: ``attn_mask`` (L, S) or
    (N·heads, L, S), ``key_padding_mask`` (N, S). Returns (output, weights): the weights
    (N, L, S) averaged over heads, (N, heads, L, S) without ``average_attn_weights``, None
    without ``need_weights``. Dropout of ``dropout_p`` on the weights when ``training``.
    ``is_causal`` is PyTorch's hint: it needs ``attn_mask``, and where there is no
    ``key_padding_mask`` and no ``need_weights`` the causal mask is used in its place. Without
    ``need_weights`` (``scaled_dot_product_attention``) a query with every key masked gives
    zeros, with them (a softmax) NaN, as PyTorch's.

    The gradient is that of these compositions (linear, matmul, softmax, cat)."""
    return _multi_head_attention(
        "multi_head_attention_forward", query, key, value, embed_dim_to_check, num_heads,
        in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight,
        out_proj_bias, training, key_padding_mask, need_weights, attn_mask,
        use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, static_k,
        static_v, average_attn_weights, is_causal)


def _multi_head_attention(
        where_: str, query: Tensor, key: Tensor, value: Tensor, embed_dim: int, H: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
        out_proj_bias: Tensor | None, training: bool, key_padding_mask: Any,
        need_weights: bool, attn_mask: Any, separate: bool, q_proj_weight: Tensor | None,
        k_proj_weight: Tensor | None, v_proj_weight: Tensor | None, static_k: Tensor | None,
        static_v: Tensor | None, average_attn_weights: bool, is_causal: bool
) -> tuple[Tensor, Tensor | None]:
    """``multi_head_attention_forward``, its messages naming ``where_`` (the module's name
    when ``nn.MultiheadAttention`` calls it)."""
    _check_tensors(where_, query=query, key=key, value=value)
    dropout_p = _check_p(where_, dropout_p)
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise ValueError(f"{where_}: query, key and value must be 3-D (or all 2-D), got shapes "
                         f"{query.shape}, {key.shape}, {value.shape}")
    unbatched = query.ndim == 2
    if unbatched:
        query, key, value = (x.unsqueeze(1) for x in (query, key, value))
    L, N, E = query.shape
    S = key.shape[0]
    if E != embed_dim:
        raise ValueError(f"{where_}: expected a query of embedding size {embed_dim}, got {E}")
    if not isinstance(H, int) or H <= 0 or E % H:
        raise ValueError(f"{where_}: embed_dim {E} is not a multiple of num_heads {H!r}")
    d = E // H
    if key.shape[:2] != value.shape[:2] or key.shape[1] != N or (
            not separate and key.shape != value.shape):
        raise ValueError(f"{where_}: key {key.shape} and value {value.shape} must match, and "
                         f"have the query's batch {N}")
    if separate:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ValueError(f"{where_}: use_separate_proj_weight needs q_proj_weight, "
                             "k_proj_weight and v_proj_weight")
        wq, wk, wv = q_proj_weight, k_proj_weight, v_proj_weight
    elif in_proj_weight is None:
        raise ValueError(f"{where_}: in_proj_weight is None (give it, or the three "
                         "q/k/v_proj_weight with use_separate_proj_weight=True)")
    else:
        wq, wk, wv = in_proj_weight.chunk(3)
    bq = bk = bv = None
    if in_proj_bias is not None:
        bq, bk, bv = in_proj_bias.chunk(3)
    if (bias_k is None) != (bias_v is None):
        raise ValueError(f"{where_}: give both bias_k and bias_v, or neither")
    if bias_k is not None and (static_k is not None or static_v is not None):
        raise ValueError(f"{where_}: bias_k and bias_v cannot be added to static_k/static_v")
    # the keys' and values' projections, (S, N, E); a static one replaces its projection
    q = linear(query, wq, bq)
    k = linear(key, wk, bk) if static_k is None else None
    v = linear(value, wv, bv) if static_v is None else None
    for name, t in (("static_k", static_k), ("static_v", static_v)):
        if t is not None and (t.ndim != 3 or t.shape[0] != N * H or t.shape[2] != d):
            raise ValueError(f"{where_}: {name} must be (N·num_heads, S, head size) = "
                             f"({N * H}, S, {d}), got {t.shape}")
    S_kv = S if static_k is None else static_k.shape[1]
    if S_kv != (S if static_v is None else static_v.shape[1]):
        raise ValueError(f"{where_}: {S_kv} keys but {static_v.shape[1]} values")
    if key_padding_mask is not None and attn_mask is not None and \
            _dtype_of(key_padding_mask) != _dtype_of(attn_mask):
        warnings.warn(f"{where_}: support for mismatched key_padding_mask and attn_mask is "
                      "deprecated, as in PyTorch; give both the same dtype", stacklevel=3)
    causal_hint = is_causal and key_padding_mask is None and not need_weights
    if is_causal and attn_mask is None:
        raise ValueError(f"{where_}: is_causal is a hint that needs attn_mask too (the causal "
                         "mask, as nn.Transformer.generate_square_subsequent_mask makes)")
    mask = None if causal_hint else _additive_mask(attn_mask, q, where_)
    if mask is not None:
        if mask.shape not in ((L, S), (N * H, L, S)):
            raise ValueError(f"{where_}: attn_mask must be ({L}, {S}) or ({N * H}, {L}, {S}), "
                             f"got {mask.shape}")
        mask = mask.reshape(N, H, L, S) if mask.ndim == 3 else mask
    padding = _additive_mask(key_padding_mask, q, where_)
    if padding is not None:
        padding = padding.unsqueeze(0) if unbatched else padding
        if padding.shape != (N, S_kv):
            shown = padding.shape[1:] if unbatched else padding.shape
            raise ValueError(f"{where_}: key_padding_mask must be "
                             f"{(S_kv,) if unbatched else (N, S_kv)}, got {shown}")
    if bias_k is not None:  # one more key and value, open to every query
        k, v = cat([k, bias_k.expand(1, N, E)]), cat([v, bias_v.expand(1, N, E)])
        mask = None if mask is None else pad(mask, (0, 1))
        padding = None if padding is None else pad(padding, (0, 1))
    # heads: (S, N, E) -> (N, H, S, d); a static (N·H, S, d) is already split
    q = q.reshape(L, N, H, d).permute(1, 2, 0, 3)
    k = k.reshape(-1, N, H, d).permute(1, 2, 0, 3) if static_k is None else \
        static_k.reshape(N, H, -1, d)
    v = v.reshape(-1, N, H, d).permute(1, 2, 0, 3) if static_v is None else \
        static_v.reshape(N, H, -1, d)
    if add_zero_attn:  # and a zero key and value
        zeros = Tensor._wrap(q._dev.xp.zeros((N, H, 1, d), dtype=q.dtype), q._dev)
        k, v = cat([k, zeros], 2), cat([v, zeros], 2)
        mask = None if mask is None else pad(mask, (0, 1))
        padding = None if padding is None else pad(padding, (0, 1))
    if padding is not None:
        padding = padding.reshape(N, 1, 1, -1)
        mask = padding if mask is None else mask + padding
    p = dropout_p if training else 0.0
    if need_weights:
        scores = (q * (1 / math.sqrt(d))) @ k.transpose(-2, -1)  # (N, H, L, S')
        weights = softmax(scores if mask is None else scores + mask, -1)
        weights = dropout(weights, p) if p > 0 else weights
        out = weights @ v
    else:
        out = scaled_dot_product_attention(q, k, v, mask, p, is_causal=causal_hint)
    out = linear(out.permute(2, 0, 1, 3).reshape(L, N, E), out_proj_weight, out_proj_bias)
    if not need_weights:
        return (out.squeeze(1) if unbatched else out), None
    w = weights.mean(1) if average_attn_weights else weights
    return (out.squeeze(1), w.squeeze(0)) if unbatched else (out, w)


def _dtype_of(mask: Any) -> np.dtype:
    return mask.dtype if isinstance(mask, Tensor) else np.asarray(mask).dtype


def _safe_softmax(scores: Tensor) -> Tensor:
    """softmax along the last axis, but a row with every score -inf (attending to nothing)
    gives zeros, not NaN, as PyTorch's attention does; its scores are replaced before the
    softmax, so no NaN reaches the gradient either."""
    dead = (scores._data == -np.inf).all(-1, keepdims=True)
    if not dead.any():
        return softmax(scores, -1)
    return where(dead, 0.0, softmax(where(dead, 0.0, scores), -1))


def _as_tensor_on(values: Any, like: Tensor) -> Tensor:
    """``values`` (an array or sequence) as a tensor on ``like``'s device, its own dtype."""
    return Tensor._wrap(like._dev.to_device(np.asarray(values)), like._dev)


def _lengths_of(what: str, lengths: Any, n: int, most: int) -> np.ndarray:
    """``lengths`` (a tensor, array or sequence of ints) as host int64 of shape (n,), each in
    [0, most]."""
    a = np.asarray(lengths.numpy() if isinstance(lengths, Tensor) else lengths)
    if a.ndim == 0:
        a = a.reshape(1)
    if a.dtype.kind not in "iu" and not (a.size == 0 and a.dtype.kind == "f"):
        raise DTypeError(f"ctc_loss: {what} must be integers, got dtype {a.dtype}")
    a = a.astype(np.int64)
    if a.shape != (n,):
        raise ValueError(f"ctc_loss: {what} must have one entry per sequence ({n}), got shape "
                         f"{a.shape}")
    if (a < 0).any() or (a > most).any():
        raise ValueError(f"ctc_loss: {what} must be in [0, {most}], got {a.tolist()}")
    return a


def ctc_loss(log_probs: Tensor, targets: Any, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: Reduction = "mean", zero_infinity: bool = False
             ) -> Tensor:
    """The connectionist temporal classification loss, as ``torch.nn.functional.ctc_loss``:
    -log p(target | input), summed over every alignment of the target to the steps
    (``ops/ctc.py`` has the recursion and its gradient).

    ``log_probs`` (T, N, C) (or (T, C), one sequence): log-probabilities of the C classes at
    each step, e.g. ``log_softmax(logits, -1)``; ``targets`` (N, S) padded, or 1-D, all
    targets one after another; ``input_lengths`` and ``target_lengths`` (N,) the lengths of
    each. Labels are in [0, C) and never ``blank``. "mean" divides each loss by its target
    length (at least 1), then averages over the batch, as PyTorch. A target that cannot be
    aligned (too few steps) has an infinite loss (gradient NaN, as PyTorch's), or 0 (and
    gradient 0) with ``zero_infinity=True``.

    The gradient is that of the loss for ``log_probs`` as free inputs (checked against
    central differences); PyTorch's adds ``exp(log_probs)``, which is the same once it goes
    back through a log_softmax, where every step's gradients sum to -1.
    """
    from .ops.ctc import CTC

    if not isinstance(log_probs, Tensor) or log_probs.dtype.kind != "f":
        raise DTypeError("ctc_loss: log_probs must be a floating-point Tensor")
    one = log_probs.ndim == 2
    if one:
        log_probs = log_probs.reshape(log_probs.shape[0], 1, log_probs.shape[1])
    if log_probs.ndim != 3:
        raise ValueError(f"ctc_loss: log_probs must be (T, N, C) or (T, C), got shape "
                         f"{log_probs.shape}")
    T, N, C = log_probs.shape
    if not 0 <= blank < C:
        raise ValueError(f"ctc_loss: blank {blank} is not a class of {C}")
    tg = np.asarray(targets.numpy() if isinstance(targets, Tensor) else targets)
    if tg.size and tg.dtype.kind not in "iu":
        raise DTypeError(f"ctc_loss: targets must be integers, got dtype {tg.dtype}")
    tg = tg.astype(np.int64)
    if one and tg.ndim == 1 and np.ndim(target_lengths) == 0:
        tg = tg.reshape(1, -1)
    in_len = _lengths_of("input_lengths", input_lengths, N, T)
    if tg.ndim == 2:
        if tg.shape[0] != N:
            raise ValueError(f"ctc_loss: targets of shape {tg.shape} for {N} sequences")
        tl = _lengths_of("target_lengths", target_lengths, N, tg.shape[1])
        labels = [tg[n, :tl[n]] for n in range(N)]
    elif tg.ndim == 1:
        tl = _lengths_of("target_lengths", target_lengths, N, tg.shape[0])
        if tl.sum() != tg.shape[0]:
            raise ValueError(f"ctc_loss: 1-D targets hold {tg.shape[0]} labels, but "
                             f"target_lengths sum to {int(tl.sum())}")
        labels = np.split(tg, np.cumsum(tl)[:-1])
    else:
        raise ValueError(f"ctc_loss: targets must be (N, S) or 1-D, got shape {tg.shape}")
    for n, lab in enumerate(labels):
        if ((lab < 0) | (lab >= C) | (lab == blank)).any():
            raise ValueError(f"ctc_loss: target {n} holds {lab.tolist()}: labels must be "
                             f"classes in [0, {C}) other than blank {blank}")
    L = 2 * int(tl.max(initial=0)) + 1
    ext = np.full((N, L), blank, np.int64)
    for n, lab in enumerate(labels):
        ext[n, 1:2 * len(lab):2] = lab
    dev = log_probs._dev
    loss = CTC.apply(log_probs, ext=dev.to_device(ext), ext_len=dev.to_device(2 * tl + 1),
                     in_len=dev.to_device(in_len), blank=blank, zero_infinity=zero_infinity)
    if reduction == "none":
        return loss[0] if one else loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        per = Tensor._wrap(dev.to_device(np.maximum(tl, 1).astype(log_probs.dtype)), dev)
        return (loss / per).mean()
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


@_legacy_args
def mse_loss(input: Tensor, target: Tensor, reduction: Reduction = "mean",  # noqa: A002
             weight: Tensor | None = None) -> Tensor:
    """(input - target)², reduced. With ``weight`` (the input's shape), w (input - target)²,
    and "mean" divides by Σ w, as PyTorch."""
    d = _difference("mse_loss", input, target)
    if weight is None:
        return _reduce(d * d, reduction)
    w = _sample_weight("mse_loss", weight, input)
    return _reduce(d * d * w, reduction, w.sum())


def _broadcastable(where_: str, input: Tensor, target: Tensor) -> None:  # noqa: A002
    """Refuse an input and a target whose shapes do not broadcast together."""
    _check_tensors(where_, input=input, target=target)
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise ValueError(f"{where_}: input shape {input.shape} and target shape "
                         f"{target.shape} do not broadcast together") from None


def _difference(where_: str, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
    """input - target. Shapes that differ are broadcast with PyTorch's warning (a target of
    shape (N, 1) against an input of (N,) gives N² terms: usually a mistake)."""
    _broadcastable(where_, input, target)
    if input.shape != target.shape:
        warnings.warn(f"Using a target size ({_size(target.shape)}) that is different to the "
                      f"input size ({_size(input.shape)}). This will likely lead to incorrect "
                      "results due to broadcasting. Please ensure they have the same size.",
                      UserWarning, stacklevel=3)
        # both expanded first, as PyTorch's: a 0-d one then takes part in the dtype promotion
        shape = np.broadcast_shapes(input.shape, target.shape)
        input, target = input.expand(shape), target.expand(shape)  # noqa: A001
    return input - target


def _size(shape: tuple[int, ...]) -> str:
    """A shape as PyTorch's messages print it: ``torch.Size([2, 3])``."""
    return f"torch.Size({list(shape)})"


def _sample_weight(where_: str, weight: Tensor, input: Tensor) -> Tensor:  # noqa: A002
    """A weight per element, of the input's shape and device, as PyTorch's ``weight=``."""
    _check_tensors(where_, weight=weight)
    _same_device(where_, "weight", weight, "input", input)
    if weight.shape != input.shape:
        raise ValueError(f"{where_}: weight must have the input's shape {input.shape}, got "
                         f"{weight.shape}")
    return weight


@_legacy_args
def l1_loss(input: Tensor, target: Tensor, reduction: Reduction = "mean",  # noqa: A002
            weight: Tensor | None = None) -> Tensor:
    """|input - target|, reduced; gradient sign(input - target) (0 where they are equal).
    With ``weight`` (the input's shape), w |input - target|, and "mean" divides by Σ w, as
    PyTorch."""
    loss = _difference("l1_loss", input, target).abs()
    if weight is None:
        return _reduce(loss, reduction)
    w = _sample_weight("l1_loss", weight, input)
    return _reduce(loss * w, reduction, w.sum())


@_legacy_args
def smooth_l1_loss(input: Tensor, target: Tensor, reduction: Reduction = "mean",  # noqa: A002
                   beta: float = 1.0) -> Tensor:
    """0.5 d² / β where |d| < β, else |d| - 0.5 β, for d = input - target (quadratic near 0,
    then linear); β = 0 is ``l1_loss``, as PyTorch."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)
    d = _difference("smooth_l1_loss", input, target)
    z = d.abs()
    return _reduce(where(z._data < beta, 0.5 * d * d / beta, z - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: Reduction = "mean",  # noqa: A002
               delta: float = 1.0, weight: Tensor | None = None) -> Tensor:
    """0.5 d² where |d| < δ, else δ (|d| - 0.5 δ), for d = input - target: δ times
    ``smooth_l1_loss`` with β = δ. With ``weight`` (the input's shape) each element's loss is
    multiplied by it, and "mean" is the plain mean of the products, as PyTorch."""
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    d = _difference("huber_loss", input, target)
    z = d.abs()
    loss = where(z._data < delta, 0.5 * d * d, delta * (z - 0.5 * delta))
    if weight is not None:
        loss = loss * _sample_weight("huber_loss", weight, input)
    return _reduce(loss, reduction)


@_legacy_args
def kl_div(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
           log_target: bool = False) -> Tensor:
    """The Kullback-Leibler divergence KL(P ‖ Q) = Σ P (log P - log Q), as PyTorch's: ``input``
    holds log Q, ``target`` P (or log P with ``log_target``). Each element's loss is
    t (log t - input), with 0 log 0 = 0, or exp(t) (t - input) with ``log_target``.

    ``reduction="batchmean"`` divides the sum by the batch size (the first axis): that is the
    true KL divergence per sample. "mean" divides by the number of elements, as PyTorch
    (which warns about it)."""
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none', "
                         f"got {reduction!r}")
    _broadcastable("kl_div", input, target)  # (broadcast without a warning, as PyTorch's)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        nonzero = target._data != 0
        with np.errstate(invalid="ignore"):  # a negative target gives NaN, as in PyTorch
            t_log_t = where(nonzero, target * where(nonzero, target, 1.0).log(), 0.0)
        loss = t_log_t - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction)


def _bce_weight(where_: str, name: str, w: Tensor | None, x: Tensor) -> Tensor | None:
    """A weight that broadcasts to x's shape, on x's device, in x's dtype (a constant)."""
    if w is None:
        return None
    _check_tensors(where_, **{name: w})
    _same_device(where_, name, w, "input", x)
    try:
        np.broadcast_shapes(w.shape, x.shape)
    except ValueError:
        raise ValueError(f"{where_}: {name} of shape {w.shape} does not broadcast to the "
                         f"input's shape {x.shape}") from None
    return w.detach().to(dtype=x.dtype)


@_legacy_args
def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """-w [y log x + (1 - y) log(1 - x)] for probabilities x in [0, 1], as
    ``torch.nn.functional.binary_cross_entropy``: each log is clamped at -100, so x = 0 or 1
    gives a finite loss (there the gradient is 0; PyTorch's is ±1e12). On logits,
    ``binary_cross_entropy_with_logits`` is exact and stable: prefer it."""
    _check_tensors("binary_cross_entropy", input=input, target=target)
    if input.shape != target.shape:
        raise ValueError(f"binary_cross_entropy: input shape {input.shape} != target shape "
                         f"{target.shape}")
    if target.dtype != input.dtype:  # as PyTorch's
        raise DTypeError(f"binary_cross_entropy: target dtype {target.dtype} does not match the "
                         f"input's dtype {input.dtype}")
    x = input._data
    if bool((~((x >= 0) & (x <= 1))).any()):
        raise ValueError("binary_cross_entropy: every input must be a probability in [0, 1] "
                         "(for logits use binary_cross_entropy_with_logits)")
    w = _bce_weight("binary_cross_entropy", "weight", weight, input)

    def log_clamped(p: Tensor) -> Tensor:  # log p, at least -100, with no 1/0 in its gradient
        tiny = np.exp(-100.0)
        big = p._data > tiny
        return where(big, where(big, p, 1.0).log(), -100.0)

    loss = -(target * log_clamped(input) + (1 - target) * log_clamped(1 - input))
    return _reduce(loss if w is None else loss * w, reduction)


@_first_as("input")
@_legacy_args
def binary_cross_entropy_with_logits(
    logits: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: Reduction = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """-w [p y log σ(x) + (1 - y) log(1 - σ(x))], as PyTorch's: ``weight`` w and
    ``pos_weight`` p (the positives' weight, per class along the last axis) broadcast to x's
    shape, 1 where not given. It is computed as (1 - y) x + (p y + 1 - y) log(1 + exp(-x))
    (p = 1 without it), the log(1 + exp(-x)) as logsumexp([0, -x]), as PyTorch's: that
    neither overflows nor takes the log of zero, and at x = +inf the loss is inf and the
    gradient 1 - y. Without p it is one op (``BCEWithLogits``) whose gradient σ(x) - y is
    exact everywhere, in float32 too (x = 0 and far-negative logits included)."""
    _check_tensors("binary_cross_entropy_with_logits", logits=logits, target=target)
    if logits.shape != target.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: logits shape {logits.shape} != target shape "
            f"{target.shape}"
        )
    w = _bce_weight("binary_cross_entropy_with_logits", "weight", weight, logits)
    p = _bce_weight("binary_cross_entropy_with_logits", "pos_weight", pos_weight, logits)
    if p is None:  # (at x = +inf: the loss inf and the gradient 1 - y, as PyTorch's)
        loss = BCEWithLogits.apply(logits, target)
    else:
        zero = Tensor._wrap(logits._dev.xp.zeros(logits.shape, dtype=logits.dtype), logits._dev)
        softplus_neg = stack([zero, -logits], -1).logsumexp(-1)  # -log σ(x)
        loss = (1 - target) * logits + (p * target + 1 - target) * softplus_neg
    return _reduce(loss if w is None else loss * w, reduction)


@_first_as("input")
def dropout(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
            ) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (in training;
    the identity otherwise). The mask comes from ``tr.manual_seed``'s generator.
    ``inplace=True`` writes the result into ``x`` and returns it, as PyTorch's."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability must be a number in [0, 1], got {p!r}")
    if not training or p == 0:
        return x
    if inplace:
        return _in_place("dropout", x, lambda v: dropout(v, p, training))
    if p == 1:
        return x * 0
    keep = _random.generator().random(x.shape) >= p
    mask = x._dev.to_device((keep / (1 - p)).astype(x.dtype))
    return x * Tensor._wrap(mask, x._dev)


_SELU_ALPHA_SCALE = 1.7580993408473766  # SELU's -scale·alpha, the value of a dropped unit


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002
                  inplace: bool = False) -> Tensor:
    """Alpha dropout (Klambauer et al., 2017), as PyTorch's: in training, each element is
    dropped with probability ``p`` to SELU's negative saturation value α' = -1.7581, and the
    result is scaled back to zero mean and unit variance (for such inputs): y = a x + a α' p
    where kept, a α' (p - 1) where dropped, a = ((α'² p + 1)(1 - p))^(-1/2). The identity
    outside training (the default, as PyTorch's ``F.alpha_dropout``) and for p = 0; zeros
    for p = 1. The mask comes from ``tr.manual_seed``'s generator; the gradient is a where
    kept, 0 where dropped."""
    if inplace and training and p != 0:  # (else the identity: nothing written)
        return _in_place("alpha_dropout", input, lambda v: alpha_dropout(v, p, training))
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"alpha_dropout probability must be a number in [0, 1], got {p!r}")
    return _alpha_dropout(input, p, training, input.shape)


def _alpha_dropout(input: Tensor, p: float, training: bool,  # noqa: A002
                   mask_shape: tuple[int, ...]) -> Tensor:
    """``alpha_dropout`` with one draw per element of ``mask_shape`` (which broadcasts to the
    input's shape: the input's own, or one per channel)."""
    if not training or p == 0 or input.size == 0:
        return input
    if p == 1:
        return input * 0
    keep = _random.generator().random(mask_shape) >= p
    alpha = _SELU_ALPHA_SCALE
    a = 1 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    b = (keep - 1.0) * (alpha * a) + alpha * a * p
    dev = input._dev
    scale = Tensor._wrap(dev.to_device((keep * a).astype(input.dtype)), dev)
    return input * scale + Tensor._wrap(dev.to_device(b.astype(input.dtype)), dev)


def _check_p(where_: str, p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"{where_}: dropout probability must be a number in [0, 1], got {p!r}")
    return p


def _feature_dropout(where_: str, x: Tensor, p: float, training: bool) -> Tensor:
    """Whole channels of x (N, C, *) zeroed with probability ``p`` (one draw per (sample,
    channel) from ``tr.manual_seed``'s generator), the rest scaled by 1/(1-p), in training;
    the identity otherwise (PyTorch's ``feature_dropout``)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{where_}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim < 2:
        raise ValueError(f"{where_}: channel-wise dropout needs at least 2 axes (N, C, ...), "
                         f"got shape {x.shape}")
    if not training or p == 0 or x.size == 0:
        return x
    if p == 1:
        return x * 0
    keep = _random.generator().random(x.shape[:2] + (1,) * (x.ndim - 2)) >= p
    return x * Tensor._wrap(x._dev.to_device((keep / (1 - p)).astype(x.dtype)), x._dev)


def _unbatched_feature_dropout(where_: str, input: Tensor, p: float,  # noqa: A002
                               training: bool, batched: bool) -> Tensor:
    x = input if batched else input.unsqueeze(0)
    y = _feature_dropout(where_, x, p, training)
    return input if y is x else y if batched else y.squeeze(0)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Channel-wise dropout of (N, C, L) or (C, L) inputs, as
    ``torch.nn.functional.dropout1d``: each channel ``input[n, c]`` is zeroed as a whole with
    probability ``p`` and the others scaled by 1/(1-p), in training; the identity otherwise.
    ``inplace=True`` writes the result into the input, as ``dropout``'s."""
    if inplace and training and p != 0:  # (else the identity: nothing written)
        return _in_place("dropout1d", input, lambda v: dropout1d(v, p, training))
    _check_p("dropout1d", p)
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        raise ValueError(f"dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    return _unbatched_feature_dropout("dropout1d", input, p, training, input.ndim == 3)


def _warn_feature_rank(name: str, ndim: int | None, spatial: int) -> None:
    """PyTorch's deprecation warning for a channel-wise dropout given an input of another
    rank than (C, *spatial) or (N, C, *spatial)."""
    if ndim is not None and ndim not in (spatial + 1, spatial + 2):
        warnings.warn(f"{name}: Received a {ndim}-D input to {name}, which is deprecated and "
                      "will result in an error in a future release. To retain the behavior "
                      f"and silence this warning, please use dropout instead. Note that {name} "
                      f"exists to provide channel-wise dropout on inputs with {spatial} "
                      "spatial dimensions, a channel dimension, and an optional batch "
                      f"dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).", UserWarning,
                      stacklevel=3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Channel-wise dropout of (N, C, H, W) inputs, as ``torch.nn.functional.dropout2d``:
    ``dropout1d``'s masks, one per (sample, channel). As PyTorch's, a 3-D input is taken as
    (N, C, L), not as one unbatched (C, H, W) sample, with PyTorch's warning; other ranks
    warn that they are deprecated and are masked over their first two axes."""
    if inplace and training and p != 0:  # (else the identity: nothing written)
        return _in_place("dropout2d", input, lambda v: dropout2d(v, p, training))
    _check_p("dropout2d", p)
    ndim = input.ndim if isinstance(input, Tensor) else None
    _warn_feature_rank("dropout2d", ndim, 2)
    if ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout "
                      "behavior, please switch to using dropout1d instead.", UserWarning,
                      stacklevel=2)
    return _feature_dropout("dropout2d", input, p, training)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Channel-wise dropout of (N, C, D, H, W) or (C, D, H, W) inputs, as
    ``torch.nn.functional.dropout3d``: ``dropout1d``'s masks, one per (sample, channel).
    Other ranks warn that they are deprecated, as PyTorch's, and are taken as unbatched."""
    if inplace and training and p != 0:  # (else the identity: nothing written)
        return _in_place("dropout3d", input, lambda v: dropout3d(v, p, training))
    _check_p("dropout3d", p)
    ndim = input.ndim if isinstance(input, Tensor) else None
    _warn_feature_rank("dropout3d", ndim, 3)
    if ndim is None:
        raise TypeError(f"dropout3d: input must be a Tensor, got {type(input).__name__}")
    return _unbatched_feature_dropout("dropout3d", input, p, training, ndim == 5)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002
                          inplace: bool = False) -> Tensor:
    """``alpha_dropout`` of whole channels, as ``torch.nn.functional.feature_alpha_dropout``:
    one draw per (sample, channel) of (N, C, ...), each dropped channel set to SELU's
    saturation value and everything rescaled (``alpha_dropout``'s formula), in training;
    the identity otherwise (the default, as PyTorch's)."""
    if inplace and training and p != 0:  # (else the identity: nothing written)
        return _in_place("feature_alpha_dropout", input,
                         lambda v: feature_alpha_dropout(v, p, training))
    _check_p("feature_alpha_dropout", p)
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise ValueError(f"feature_alpha_dropout: channel-wise dropout needs at least 2 axes "
                         f"(N, C, ...), got {getattr(input, 'shape', type(input).__name__)}")
    return _alpha_dropout(input, p, training, input.shape[:2] + (1,) * (input.ndim - 2))


@torch_names
def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   axis: int = -1) -> Tensor:
    """A sample from the Gumbel-softmax (concrete) distribution, as
    ``torch.nn.functional.gumbel_softmax``: y = softmax((logits + g) / tau) along ``axis``
    (PyTorch's ``dim=``), g = -log(e) with e ~ Exp(1) drawn from ``tr.manual_seed``'s
    generator (so other numbers than PyTorch's for one seed). With ``hard``, the one-hot
    vector of y's argmax, with y's gradient (straight-through): ``y_hard - y.detach() + y``,
    as PyTorch computes it. ``eps`` is unused (PyTorch's is deprecated)."""
    if not isinstance(logits, Tensor):
        raise TypeError(f"gumbel_softmax: logits must be a Tensor, got {type(logits).__name__}")
    if logits.dtype.kind != "f":
        raise DTypeError(f"gumbel_softmax: logits must be floating-point, got {logits.dtype}")
    if isinstance(tau, bool) or not isinstance(tau, numbers.Real) or not tau > 0:
        raise ValueError(f"gumbel_softmax: tau must be a number > 0, got {tau!r}")
    from .ops.movement import _sort_axis

    ax = _sort_axis("gumbel_softmax", axis, logits.ndim)
    e = _random.generator().standard_exponential(logits.shape)
    with np.errstate(divide="ignore"):  # e = 0 (one draw in 2⁵³) gives g = inf, as torch
        g = Tensor._wrap(logits._dev.to_device(-np.log(e).astype(logits.dtype)), logits._dev)
    y = softmax((logits + g) / tau, ax)
    if not hard:
        return y
    xp = logits._dev.xp
    a = y._data.reshape(y.shape or (1,))
    n = a.shape[ax]
    pick = xp.expand_dims(xp.argmax(a, axis=ax), ax)
    at = xp.arange(n).reshape((n,) + (1,) * (a.ndim - ax - 1))
    y_hard = Tensor._wrap((at == pick).astype(y.dtype).reshape(y.shape), logits._dev)
    return y_hard - y.detach() + y


@_first_as("input")
def embedding(indices: Tensor | Any, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by integer ``indices`` (any shape); the gradient adds up rows
    picked more than once. The row ``padding_idx``, where given, gets no gradient. With
    ``max_norm``, as PyTorch's: first every looked-up row whose ``norm_type``-norm exceeds it
    is scaled to it, in ``weight`` itself, outside autograd (``renorm_rows_``).
    ``scale_grad_by_freq=True`` is refused (not implemented). With ``sparse=True``, weight's
    gradient is a sparse COO tensor (``sparse.EmbeddingSparse``): the looked-up rows'
    indices and gradients, uncoalesced, as PyTorch's."""
    if scale_grad_by_freq:
        raise ValueError("embedding: scale_grad_by_freq=True is not implemented (it divides "
                         "each row's gradient by its count in the batch)")
    if max_norm is not None and not (isinstance(max_norm, numbers.Real) and max_norm > 0):
        raise ValueError(f"embedding: max_norm must be a positive number, got {max_norm!r}")
    _same_device("embedding", "indices", indices, "weight", weight)
    idx = indices._data if isinstance(indices, Tensor) else weight._dev.to_device(
        np.asarray(indices))
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"embedding: indices must be integers, got {idx.dtype}")
    n = weight.shape[0]
    if idx.size and bool(((idx < 0) | (idx >= n)).any()):  # one device sync
        raise ValueError(f"embedding: indices must lie in [0, {n})")
    if padding_idx is not None and not -n <= padding_idx < n:
        raise ValueError(f"embedding: padding_idx must lie in [-{n}, {n}), got {padding_idx}")
    if max_norm is not None and idx.size:
        renorm_rows_(weight, idx, float(max_norm), float(norm_type), "embedding(max_norm=)")
    if sparse:  # weight's gradient a sparse tensor of the rows looked up (padding's left out)
        from .sparse import EmbeddingSparse

        keep = None if padding_idx is None else (idx != padding_idx % n).reshape(-1)
        return EmbeddingSparse.apply(weight, idx=idx, keep=keep)
    rows = GetItem.apply(weight, index=idx, in_range=True)  # checked just now
    if padding_idx is None:
        return rows
    return where((idx == padding_idx % n)[..., None], rows.detach(), rows)


EMBEDDING_BAG_MODES = ("sum", "mean", "max")


def _host_ints(what: str, name: str, t: Any) -> np.ndarray:
    if not isinstance(t, Tensor) or t.dtype.kind not in "iu":
        raise TypeError(f"{what}: {name} must be a Tensor of integers, got "
                        f"{getattr(t, 'dtype', type(t).__name__)}")
    return t.numpy().astype(np.int64)


def renorm_rows_(weight: Tensor, idx: Any, max_norm: float, norm_type: float,
                 what: str = "embedding_bag(max_norm=)") -> None:
    """The rows of ``weight`` named by ``idx`` whose ``norm_type``-norm exceeds ``max_norm``
    scaled, in place and outside autograd, to norm ``max_norm`` (exactly: by max_norm /
    (norm + 1e-7)), as PyTorch's ``embedding_renorm_``."""
    from .tensor import _set_values

    xp = weight._dev.xp
    rows = xp.unique(weight._dev.to_device(idx).reshape(-1))
    picked = weight._data[rows]
    norm = xp.abs(picked).max(axis=1) if norm_type == math.inf else \
        (xp.abs(picked) ** norm_type).sum(axis=1) ** (1 / norm_type)
    scale = xp.where(norm > max_norm, max_norm / (norm + 1e-7), 1.0)
    new = weight._data.copy()
    new[rows] = picked * scale[:, None].astype(picked.dtype)
    _set_values(weight, new, what)


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,  # noqa: A002
                  max_norm: float | None = None, norm_type: float = 2.0,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """The sums, means or maxima of bags of rows of ``weight`` (num_embeddings, D), one (D,)
    per bag, as ``torch.nn.functional.embedding_bag``, without making the (bag, length, D)
    lookups first:

    - ``input`` 2-D (B, N): B bags of N indices each (``offsets`` must be None);
    - ``input`` 1-D with ``offsets`` (1-D, starting at 0, non-decreasing): bag b holds
      input[offsets[b]:offsets[b+1]] (the last to the end); with ``include_last_offset`` the
      last offset is the end of the last bag instead of the start of one more, and must be
      the input's length (PyTorch's bags disagree between modes where it is not).

    ``mode`` "sum" (each row times its ``per_sample_weights`` entry, input's shape, if
    given), "mean", or "max" (elementwise; the gradient goes to the first largest, as
    PyTorch's). Entries equal to ``padding_idx`` are left out (and out of the mean's count);
    an empty bag gives zeros. ``max_norm`` renormalises the looked-up rows of weight first,
    in place (as ``nn.Embedding``'s). Sum and mean are one gather and one scatter-add
    (``IndexScatter``); max a gather into a padded (B, longest bag, D) block. Differentiable
    in weight and per_sample_weights. The indices are checked on the host (one device sync).
    """
    where_ = "embedding_bag"
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(f"{where_}: weight must be a 2-D Tensor (num_embeddings, "
                         f"embedding_dim), got {getattr(weight, 'shape', type(weight).__name__)}")
    if mode not in EMBEDDING_BAG_MODES:
        raise ValueError(f"{where_}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if scale_grad_by_freq:
        raise ValueError(f"{where_}: scale_grad_by_freq=True is not implemented")
    if sparse and mode == "max":
        raise ValueError("max mode does not support sparse weights")  # (PyTorch's words)
    if per_sample_weights is not None and mode != "sum":
        raise ValueError(f"{where_}: per_sample_weights is only supported for mode='sum' (got "
                         f"mode={mode!r}), as in PyTorch")
    idx = _host_ints(where_, "input", input)
    _same_device(where_, "input", input, "weight", weight)
    n_emb, dim = weight.shape
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{where_}: a 2-D input is a batch of bags of one length: offsets "
                             "must be None")
        B, N = idx.shape
        starts, ends = np.arange(B) * N, np.arange(1, B + 1) * N
        idx = idx.reshape(-1)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError(f"{where_}: a 1-D input needs offsets (a 1-D tensor of the bags' "
                             "starts)")
        off = _host_ints(where_, "offsets", offsets)
        _same_device(where_, "offsets", offsets, "weight", weight)
        if off.ndim != 1 or (include_last_offset and off.size < 1):
            raise ValueError(f"{where_}: offsets must be 1-D (and not empty with "
                             f"include_last_offset), got shape {off.shape}")
        n = idx.size
        if off.size and off[0] != 0:
            raise ValueError(f"{where_}: offsets[0] must be 0 (the first bag starts at the "
                             f"first index), got {off[0]}")
        if np.any(np.diff(off) < 0) or (off.size and off[-1] > n):
            raise ValueError(f"{where_}: offsets must be non-decreasing and at most the "
                             f"input's length {n}, got {off.tolist()}")
        if include_last_offset:
            if off[-1] != n:  # PyTorch's bags are inconsistent then (sum, mean, max differ)
                raise ValueError(f"{where_}: with include_last_offset, the last offset is the "
                                 f"end of the last bag, the input's length {n}; got {off[-1]}")
            starts, ends = off[:-1], off[1:]
        else:
            starts, ends = off, np.append(off[1:], n).astype(np.int64)
    else:
        raise ValueError(f"{where_}: input must be 1-D (with offsets) or 2-D, got shape "
                         f"{input.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= n_emb):
        bad = idx[(idx < 0) | (idx >= n_emb)][0]
        raise ValueError(f"{where_}: index {bad} is out of range for {n_emb} embeddings")
    if per_sample_weights is not None:
        if not isinstance(per_sample_weights, Tensor) or per_sample_weights.shape != \
                input.shape or per_sample_weights.dtype != weight.dtype:
            raise ValueError(f"{where_}: per_sample_weights must be a tensor of the input's "
                             f"shape {input.shape} and the weight's dtype {weight.dtype}")
        _same_device(where_, "per_sample_weights", per_sample_weights, "weight", weight)
    if max_norm is not None and idx.size:
        renorm_rows_(weight, idx, float(max_norm), float(norm_type))
    B = len(starts)
    counts = ends - starts
    pos = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)] or [np.zeros(0)])
    pos = pos.astype(np.int64)
    bag = np.repeat(np.arange(B), counts)
    if padding_idx is not None:
        if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)) \
                or not -n_emb <= padding_idx < n_emb:
            raise ValueError(f"{where_}: padding_idx must be an index in [-{n_emb}, {n_emb}), "
                             f"got {padding_idx!r}")
        keep = idx[pos] != padding_idx % n_emb
        pos, bag = pos[keep], bag[keep]
    dev = weight._dev
    if sparse:
        from .sparse import EmbeddingSparse
    if mode != "max":
        rows = EmbeddingSparse.apply(weight, idx=dev.to_device(idx[pos])) if sparse else \
            GetItem.apply(weight, index=dev.to_device(idx[pos]), in_range=True)  # (k, D)
        if per_sample_weights is not None:
            w = GetItem.apply(per_sample_weights.reshape(-1), index=dev.to_device(pos),
                              in_range=True)
            rows = rows * w.unsqueeze(-1)
        from .ops.movement import IndexScatter

        out = IndexScatter.apply(rows, index=(dev.to_device(bag),), shape=(B, dim))
        if mode == "mean":
            n_in = np.maximum(np.bincount(bag, minlength=B), 1)[:, None]
            out = out / Tensor._wrap(dev.to_device(n_in.astype(weight.dtype)), dev)
        return out
    from .ops.movement import max_along

    n_in = np.bincount(bag, minlength=B)
    longest = int(n_in.max(initial=0))
    if longest == 0:
        return weight[0:0].sum() * 0 + Tensor._wrap(dev.xp.zeros((B, dim), weight.dtype), dev)
    slot = np.arange(len(bag)) - np.repeat(np.cumsum(n_in) - n_in, n_in)  # place in its bag
    block = np.zeros((B, longest), dtype=np.int64)
    full = np.zeros((B, longest), dtype=bool)
    block[bag, slot], full[bag, slot] = idx[pos], True
    rows = GetItem.apply(weight, index=dev.to_device(block), in_range=True)  # (B, longest, D)
    rows = where(Tensor._wrap(dev.to_device(full[:, :, None]), dev), rows, -math.inf)
    best = max_along(rows, 1).values
    return where(Tensor._wrap(dev.to_device(n_in[:, None] > 0), dev), best, 0.0)


@_first_as("input")
def one_hot(indices: Tensor | Any, num_classes: int = -1, dtype: Any = np.int64) -> Tensor:
    """A new last axis of length ``num_classes`` with a 1 at each index (int64, as PyTorch)."""
    t = indices if isinstance(indices, Tensor) else Tensor._wrap(np.asarray(indices), "cpu")
    if t.dtype.kind not in "iu":
        raise DTypeError(f"one_hot: indices must be integers, got {t.dtype}")
    xp = t._dev.xp
    n = int(t._data.max()) + 1 if num_classes < 0 else num_classes
    if t.size and (bool((t._data < 0).any()) or bool((t._data >= n).any())):
        raise ValueError(f"one_hot: indices must lie in [0, {n})")
    out = t._data[..., None] == xp.arange(n)
    return Tensor._wrap(out.astype(dtype), t._dev)


# ---- more losses: probabilistic regression, ranking and embeddings -------------------------


def _softplus0(x: Tensor) -> Tensor:
    """log(1 + exp(x)) as logsumexp([0, x]): no overflow, an exact gradient σ(x)."""
    zero = Tensor._wrap(x._dev.xp.zeros(x.shape, dtype=x.dtype), x._dev)
    return stack([zero, x], -1).logsumexp(-1)


def _broadcast_shapes(where_: str, **tensors: Tensor) -> tuple[int, ...]:
    """The shape the tensors broadcast to; a ValueError naming them all if they do not."""
    try:
        return np.broadcast_shapes(*(t.shape for t in tensors.values()))
    except ValueError:
        shapes = ", ".join(f"{k} of shape {t.shape}" for k, t in tensors.items())
        raise ValueError(f"{where_}: {shapes} do not broadcast together") from None


def _sign_target(where_: str, target: Any, like: Tensor) -> Tensor:
    """A target of 1s and -1s as a tensor of ``like``'s dtype and device."""
    t = target if isinstance(target, Tensor) else _as_tensor_on(target, like)
    _same_device(where_, "target", t, "input", like)
    return t.to(like.dtype) if t.dtype != like.dtype else t


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float,  # noqa: A002
                      full: bool = False, eps: float = 1e-6, reduction: Reduction = "mean"
                      ) -> Tensor:
    """The negative log-likelihood of ``target`` under N(input, var), as PyTorch's::

        loss = 0.5 (log max(var, eps) + (input - target)² / max(var, eps))  (+ 0.5 log 2π)

    the constant with ``full``. ``var`` has the input's shape, or it without its last axis,
    or with 1 there (one variance per sample), or is a number. As in PyTorch the clamp at
    ``eps`` has no gradient of its own: var's gradient is taken at the clamped value. A
    negative var is a ValueError."""
    _check_tensors("gaussian_nll_loss", input=input, target=target)
    if not isinstance(var, Tensor):
        var = _as_tensor_on(np.full(input.shape, float(var), dtype=input.dtype), input)
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:  # one variance per sample, its last axis dropped
            var = var.unsqueeze(-1)
        elif not (input.shape[:-1] == var.shape[:-1] and var.shape[-1:] == (1,)):
            raise ValueError(f"gaussian_nll_loss: var of shape {var.shape} fits neither the "
                             f"input's shape {input.shape} nor it with 1 (or nothing) as its "
                             "last axis")
    _broadcast_shapes("gaussian_nll_loss", input=input, target=target)
    if bool((var._data < 0).any()):
        raise ValueError("gaussian_nll_loss: var has negative entries")
    xp = var._dev.xp
    v = Tensor._wrap(xp.maximum(var._data, eps), var._dev) + (var - var.detach())
    loss = 0.5 * (v.log() + (input - target) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


@_legacy_args
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True,  # noqa: A002
                     full: bool = False, eps: float = 1e-8, reduction: Reduction = "mean"
                     ) -> Tensor:
    """The negative log-likelihood of counts ``target`` under Poisson(rate), as PyTorch's:
    ``exp(input) - target · input`` with ``log_input`` (input is the log-rate), else
    ``input - target · log(input + eps)``; ``full`` adds Stirling's approximation of
    log(target!), ``target log target - target + 0.5 log(2π target)``, where target > 1."""
    _check_tensors("poisson_nll_loss", input=input, target=target)
    _broadcast_shapes("poisson_nll_loss", input=input, target=target)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:  # differentiable in the target too, as PyTorch's
        big = target._data > 1
        safe = where(big, target, 1.0)
        loss = loss + where(big, safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log(),
                            0.0)
    return _reduce(loss, reduction)


@_legacy_args
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0,
                        reduction: Reduction = "mean") -> Tensor:
    """max(0, -target · (input1 - input2) + margin), target 1 where input1 should rank
    higher and -1 where input2 should, as PyTorch's (the three broadcast)."""
    _check_tensors("margin_ranking_loss", input1=input1, input2=input2)
    y = _sign_target("margin_ranking_loss", target, input1)
    _broadcast_shapes("margin_ranking_loss", input1=input1, input2=input2, target=y)
    return _reduce((-y * (input1 - input2) + margin).clip(min=0), reduction)


@_legacy_args
def hinge_embedding_loss(input: Tensor, target: Any, margin: float = 1.0,  # noqa: A002
                         reduction: Reduction = "mean") -> Tensor:
    """x where target is 1, max(0, margin - x) where it is -1, as PyTorch's (x a distance:
    small for similar pairs, at least ``margin`` for dissimilar ones)."""
    _check_tensors("hinge_embedding_loss", input=input)
    y = _sign_target("hinge_embedding_loss", target, input)._data
    loss = where(y != 1, (margin - input).clip(min=0), 0.0) + where(y != -1, input, 0.0)
    return _reduce(loss, reduction)


@_legacy_args
def soft_margin_loss(input: Tensor, target: Any,  # noqa: A002
                     reduction: Reduction = "mean") -> Tensor:
    """log(1 + exp(-target · x)), the logistic loss of labels ±1, as PyTorch's."""
    _check_tensors("soft_margin_loss", input=input)
    y = _sign_target("soft_margin_loss", target, input)
    return _reduce(_softplus0(-y * input), reduction)


@_legacy_args
def multilabel_soft_margin_loss(input: Tensor, target: Any,  # noqa: A002
                                weight: Tensor | None = None,
                                reduction: Reduction = "mean") -> Tensor:
    """Binary cross-entropy of each of C labels from logits x (N, C), 0/1 targets, averaged
    over the labels: ``-mean_c w_c (y log σ(x) + (1 - y) log σ(-x))`` per sample, as
    PyTorch's."""
    _check_tensors("multilabel_soft_margin_loss", input=input)
    y = _sign_target("multilabel_soft_margin_loss", target, input)
    loss = y * _softplus0(-input) + (1 - y) * _softplus0(input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.sum(-1) / input.shape[-1], reduction)


@_legacy_args
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Any,
                          margin: float = 0.0, reduction: Reduction = "mean") -> Tensor:
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1, the
    cosine along the last axis of (N, D) or (D,) inputs, as PyTorch's (its squared norms
    plus 1e-12)."""
    _check_tensors("cosine_embedding_loss", input1=input1, input2=input2)
    if input1.shape != input2.shape or input1.ndim not in (1, 2):
        raise ValueError(f"cosine_embedding_loss: input1 {input1.shape} and input2 "
                         f"{input2.shape} must be one shape, (N, D) or (D,)")
    y = _sign_target("cosine_embedding_loss", target, input1)._data
    if tuple(y.shape) != input1.shape[:-1]:
        raise ValueError(f"cosine_embedding_loss: target of shape {tuple(y.shape)} for inputs "
                         f"of shape {input1.shape}: one ±1 per pair, shape "
                         f"{input1.shape[:-1]}")
    dot = (input1 * input2).sum(-1)
    cos = dot / (((input1 * input1).sum(-1) + 1e-12) * ((input2 * input2).sum(-1) + 1e-12)
                 ).sqrt()
    loss = where(y == 1, 1 - cos, 0.0) + where(y == -1, (cos - margin).clip(min=0), 0.0)
    return _reduce(loss, reduction)


@_legacy_args
def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                        swap: bool = False, reduction: Reduction = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin), d the ``pairwise_distance`` (p-norm, eps added),
    as PyTorch's; ``swap`` takes d(a, n) as min(d(a, n), d(p, n)) (Balntas et al., 2016)."""
    _check_tensors("triplet_margin_loss", anchor=anchor, positive=positive, negative=negative)
    if not anchor.ndim == positive.ndim == negative.ndim or anchor.ndim not in (1, 2):
        raise ValueError(f"triplet_margin_loss: anchor {anchor.shape}, positive "
                         f"{positive.shape} and negative {negative.shape} must all be (N, D) "
                         "or all (D,)")
    d_ap = pairwise_distance(anchor, positive, p, eps)
    d_an = pairwise_distance(anchor, negative, p, eps)
    if swap:
        from .ops.elementwise import minimum

        d_an = minimum(d_an, pairwise_distance(positive, negative, p, eps))
    return _reduce((d_ap - d_an + margin).clip(min=0), reduction)


def _integer_targets(where_: str, input: Tensor, target: Any) -> Tensor:  # noqa: A002
    """``target`` as an integer tensor on the input's device, for a (N, C) or (C,) input
    (both checked)."""
    _check_tensors(where_, input=input)
    if input.ndim not in (1, 2):
        raise ValueError(f"{where_}: expected a (N, C) or (C,) input, got shape {input.shape}")
    _same_device(where_, "target", target, "input", input)
    t = target if isinstance(target, Tensor) else _as_tensor_on(target, input)
    if t.dtype.kind not in "iu":
        raise DTypeError(f"{where_}: target must hold integer class indices, got {t.dtype}")
    return t


def _class_targets(where_: str, input: Tensor, target: Any) -> Any:  # noqa: A002
    """One class index per sample of a (N, C) or (C,) input, as a device int array of shape
    (N,) ((1,) for one sample), checked to lie in [0, C)."""
    t = _integer_targets(where_, input, target)
    want = input.shape[:1] if input.ndim == 2 else ()
    if t.shape != want and not (input.ndim == 1 and t.shape == (1,)):
        raise ValueError(f"{where_}: target of shape {t.shape} for an input of shape "
                         f"{input.shape}: expected one class index per sample, shape {want}")
    c = input.shape[-1]
    tt = t._data.reshape(-1)
    if tt.size and bool(((tt < 0) | (tt >= c)).any()):
        raise ValueError(f"{where_}: target values must be class indices in [0, {c})")
    return tt


@_legacy_args
def multi_margin_loss(input: Tensor, target: Any, p: int = 1,  # noqa: A002
                      margin: float = 1.0, weight: Tensor | None = None,
                      reduction: Reduction = "mean") -> Tensor:
    """The multi-class hinge loss, as ``torch.nn.functional.multi_margin_loss``: for each
    sample x (C scores) of class y::

        loss = Σ_{i ≠ y} w[y] · max(0, margin - x[y] + x[i])^p / C

    (``weight`` w, one per class, 1 without it; p is 1 or 2; the weight multiplies after the
    power, as PyTorch computes it). ``input`` is (N, C) or (C,), ``target`` (N,) or ()."""
    if p not in (1, 2) or isinstance(p, bool):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 are supported, got {p!r}")
    tt = _class_targets("multi_margin_loss", input, target)
    w = _class_weight("multi_margin_loss", weight, input)
    x = input.reshape(-1, input.shape[-1])
    xp, n, c = x._dev.xp, x.shape[0], x.shape[1]
    picked = GetItem.apply(x, index=(xp.arange(n), tt), in_range=True)
    z = margin - picked.unsqueeze(1) + x
    keep = (z._data > 0) & (tt[:, None] != xp.arange(c))
    h = where(keep, z if p == 1 else z * z, 0.0)
    if w is not None:
        h = h * Tensor._wrap(w[tt][:, None], x._dev)
    loss = h.sum(1) / c
    return _reduce(loss if input.ndim == 2 else loss.reshape(()), reduction)


@_legacy_args
def multilabel_margin_loss(input: Tensor, target: Any,  # noqa: A002
                           reduction: Reduction = "mean") -> Tensor:
    """The multi-label hinge loss, as ``torch.nn.functional.multilabel_margin_loss``: each
    sample x (C scores) has the target classes J, its ``target`` row's entries before the
    first -1 (the rest is ignored), and::

        loss = Σ_{j ∈ J} Σ_{i ∉ J} max(0, 1 - (x[j] - x[i])) / C

    ``input`` (N, C) or (C,), ``target`` integers of the same shape."""
    where_ = "multilabel_margin_loss"
    t = _integer_targets(where_, input, target)
    if t.shape != input.shape:
        raise ValueError(f"{where_}: target must have the input's shape {input.shape} (class "
                         f"indices, then -1 after the last), got {t.shape}")
    x = input.reshape(-1, input.shape[-1])
    xp, c = x._dev.xp, x.shape[1]
    tg = t._data.reshape(x.shape)
    valid = xp.cumsum(tg == -1, axis=1) == 0  # the entries before the first -1
    if tg.size and bool((valid & ((tg < 0) | (tg >= c))).any()):
        raise ValueError(f"{where_}: target values before the first -1 must be class indices "
                         f"in [0, {c})")
    safe = xp.where(valid, tg, 0)
    is_target = (valid[:, :, None] & (safe[:, :, None] == xp.arange(c))).any(axis=1)  # (N, C)
    picked = GetItem.apply(x, index=(xp.arange(x.shape[0])[:, None], safe), in_range=True)
    z = 1 - picked.unsqueeze(2) + x.unsqueeze(1)  # (N, J, C): 1 - x[j] + x[i]
    keep = valid[:, :, None] & ~is_target[:, None, :] & (z._data > 0)
    loss = where(keep, z, 0.0).sum((1, 2)) / c
    return _reduce(loss if input.ndim == 2 else loss.reshape(()), reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Any = None, margin: float = 1.0,
                                      swap: bool = False, reduction: Reduction = "mean"
                                      ) -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)), as
    ``torch.nn.functional.triplet_margin_with_distance_loss``: d is ``distance_function``
    (any function of two tensors giving one distance per pair; ``pairwise_distance``
    without one), and ``swap`` takes d(a, n) as min(d(a, n), d(p, n)). ``margin`` must be
    > 0, as PyTorch's."""
    where_ = "triplet_margin_with_distance_loss"
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{where_}: reduction must be 'mean', 'sum' or 'none', got "
                         f"{reduction!r}")
    if isinstance(margin, bool) or not isinstance(margin, numbers.Real) or not margin > 0:
        raise ValueError(f"{where_}: margin must be a number > 0, got {margin!r}")
    _check_tensors(where_, anchor=anchor, positive=positive, negative=negative)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(f"{where_}: anchor, positive and negative must have as many axes, got "
                         f"shapes {anchor.shape}, {positive.shape} and {negative.shape}")
    dist = pairwise_distance if distance_function is None else distance_function
    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        from .ops.elementwise import minimum

        d_neg = minimum(d_neg, dist(positive, negative))
    return _reduce((margin + d_pos - d_neg).clip(min=0), reduction)


# ---- activations and layer normalisation (torch.nn.functional's names) ----------------------
# ``inplace=True`` writes the result into the input and returns it, as PyTorch's (``_in_place``,
# below: ``Tensor._overwrite``'s rules).


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(x, 0); gradient 1 where x > 0, else 0 (at x = 0 too, as PyTorch)."""
    if inplace:
        return _in_place("relu", input, relu)
    return input.relu()


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """tanh(x); gradient 1 - tanh(x)²."""
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """σ(x) = 1 / (1 + exp(-x)); gradient σ(x) (1 - σ(x))."""
    return input.sigmoid()


def leaky_relu(input: Tensor, negative_slope: float = 0.01,  # noqa: A002
               inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope · x; gradient 1 or negative_slope (the slope at
    x = 0, as PyTorch)."""
    if inplace:
        return _in_place("leaky_relu", input, lambda v: leaky_relu(v, negative_slope))
    return where(input._data > 0, input, input * negative_slope)


def _only(x: Tensor, keep: Any) -> Tensor:
    """x where ``keep``, else 0 (a constant): the input of a branch that ``where`` keeps only
    there, so that what the branch computes elsewhere (exp(1000) = inf, or NaN) never reaches
    the gradient as 0 * inf = NaN."""
    return where(keep, x, 0.0)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """x Φ(x), Φ the standard normal CDF: x/2 (1 + erf(x/√2)), as PyTorch (Hendrycks and
    Gimpel, 2016). ``approximate="tanh"``: x/2 (1 + tanh(√(2/π) (x + 0.044715 x³)))."""
    if approximate == "none":
        return input * 0.5 * (1 + (input * math.sqrt(0.5)).erf())
    if approximate == "tanh":
        inner = (math.sqrt(2) * (2 / math.sqrt(math.pi)) * 0.5) * (
            input + 0.044715 * (input * input * input))
        return 0.5 * input * (1 + inner.tanh())
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x σ(x) (also called swish)."""
    if inplace:
        return _in_place("silu", input, silu)
    return input * input.sigmoid()


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """α (exp(x) - 1) where x <= 0 (expm1: exact near 0), else x; the gradient at 0 is α, the
    left one, as PyTorch's."""
    if inplace:
        return _in_place("elu", input, lambda v: elu(v, alpha))
    neg = input._data <= 0
    return where(neg, alpha * _only(input, neg).expm1(), input)


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """scale · elu(x, α) with Klambauer et al.'s (2017) α ≈ 1.6733 and scale ≈ 1.0507, which
    keep activations near mean 0 and variance 1."""
    if inplace:
        return _in_place("selu", input, selu)
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return scale * elu(input, alpha)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x where x > 0, else α (exp(x/α) - 1): continuously differentiable for every α."""
    if inplace:
        return _in_place("celu", input, lambda v: celu(v, alpha))
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 (it divides x)")
    neg = input._data <= 0
    return where(neg, alpha * (_only(input, neg) / alpha).expm1(), input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + exp(β x)) / β, a smooth relu; x itself where β x > ``threshold``, as PyTorch
    (there the two agree to about exp(-threshold), relatively)."""
    bx = input * beta
    soft = ~(bx._data > threshold)  # NaN too: NaN gives NaN, as in PyTorch
    return where(soft, _only(bx, soft).exp().log1p() / beta, input)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    """x clipped to [min_val, max_val]. As PyTorch's, the gradient is 0 at the bounds too (the
    clip's is 1 there) and passes at NaN."""
    if inplace:
        return _in_place("hardtanh", input, lambda v: hardtanh(v, min_val, max_val))
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    d = input._data
    inside = ~((d <= min_val) | (d >= max_val))
    return where(inside, input, input.detach().clip(min_val, max_val))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(x, 0), 6): ``hardtanh(x, 0, 6)`` (so its gradient at 0 and 6 is 0)."""
    if inplace:
        return _in_place("relu6", input, relu6)
    return hardtanh(input, 0.0, 6.0)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """log σ(x), computed as min(x, 0) - log(1 + exp(-|x|)), as PyTorch: exp never overflows
    and no log of an underflowed σ is taken. (At x = 0, min's gradient splits to 1/2, which is
    exactly σ(-0), the derivative there.)"""
    return input.minimum(0) - (-input.abs()).exp().log1p()


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x tanh(softplus(x)) (Misra, 2019)."""
    if inplace:
        return _in_place("mish", input, mish)
    return input * softplus(input).tanh()


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """The gated linear unit a σ(b), a and b the two halves of ``input`` along ``dim``."""
    if not -input.ndim <= dim < input.ndim:
        raise ValueError(f"glu: dim {dim} is out of range for an input of shape {input.shape}")
    n = input.shape[dim]
    if n % 2:
        raise ValueError(f"glu: the halved axis must have an even size, but axis {dim} of "
                         f"shape {input.shape} has size {n}")
    a, b = input.split(n // 2, axis=dim)
    return a * b.sigmoid()


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(x + 3, 0), 6) / 6: 0 below -3, 1 above 3, linear between; gradient 1/6
    strictly between -3 and 3, else 0, as PyTorch's."""
    if inplace:
        return _in_place("hardsigmoid", input, hardsigmoid)
    d = input._data
    inside = (d > -3) & (d < 3)
    return where(inside, (input + 3) / 6, (input.detach() + 3).clip(0, 6) / 6)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x hardsigmoid(x): 0 for x <= -3, x for x >= 3, x (x + 3) / 6 between (Howard et al.,
    2019). Its gradient at -3 is 0 and at 3 is 1, as PyTorch's."""
    if inplace:
        return _in_place("hardswish", input, hardswish)
    d = input._data
    middle = (d > -3) & (d < 3)
    m = _only(input, middle)
    return where(d <= -3, 0.0, where(middle, m * (m + 3) / 6, input))


@torch_names
def softmin(input: Tensor, axis: int = -1, *, dtype: Any = None,  # noqa: A002
            _stacklevel: int = 3) -> Tensor:
    """softmax(-x) along ``axis`` (PyTorch's ``dim=`` too); ``dtype`` casts x first;
    ``_stacklevel`` changes nothing here (as softmax's)."""
    return softmax(-_cast(input, dtype), axis)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """x - tanh(x)."""
    return input - input.tanh()


def _lambd(where_: str, lambd: Any) -> float:
    if isinstance(lambd, bool) or not isinstance(lambd, numbers.Real) or not lambd >= 0:
        raise ValueError(f"{where_}: lambd must be a number >= 0, got {lambd!r}")
    return float(lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """x - λ where x > λ, x + λ where x < -λ, else 0 (NaN stays NaN), as PyTorch; gradient 1
    outside [-λ, λ] and 0 inside, bounds included."""
    lam = _lambd("softshrink", lambd)
    d = input._data
    with np.errstate(invalid="ignore"):  # (inf · 0, never picked)
        inside = Tensor._wrap(d * 0, input._dev)  # a constant: 0, and NaN where x is NaN
    return where(d > lam, input - lam, where(d < -lam, input + lam, inside))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """x where |x| > λ, else 0 (NaN stays NaN), as PyTorch; gradient 1 outside [-λ, λ], 0
    inside, bounds included."""
    lam = _lambd("hardshrink", lambd)
    d = input._data
    return where((d >= -lam) & (d <= lam), 0, input)


def threshold(input: Tensor, threshold: float, value: float,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """x where x > ``threshold``, else ``value`` (NaN stays NaN), as PyTorch; gradient 1
    where x > threshold, else 0."""
    if inplace:
        return _in_place("threshold", input, lambda v: _threshold(v, threshold, value))
    for name, v in (("threshold", threshold), ("value", value)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"threshold: {name} must be a number, got {v!r}")
    return where(input._data <= threshold, value, input)


_threshold = threshold  # (threshold_'s own argument hides it)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,  # noqa: A002
          training: bool = False, inplace: bool = False) -> Tensor:
    """The randomized leaky relu (Xu et al., 2015), as ``torch.nn.functional.rrelu``: x where
    x > 0, else a · x. In training each element draws its own slope a ~ U(lower, upper) (from
    ``tr.manual_seed``'s generator; its gradient there is a); otherwise a = (lower + upper)
    / 2 for every element, exactly ``leaky_relu(x, (lower + upper) / 2)``, as PyTorch's."""
    if inplace:
        return _in_place("rrelu", input, lambda v: rrelu(v, lower, upper, training))
    for name, v in (("lower", lower), ("upper", upper)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"rrelu: {name} must be a number, got {v!r}")
    if lower > upper:
        raise ValueError(f"rrelu: the lower bound ({lower}) must be at most the upper bound "
                         f"({upper})")
    if not isinstance(input, Tensor):
        raise TypeError(f"rrelu: input must be a Tensor, got {type(input).__name__}")
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    a = _random.generator().uniform(lower, upper, input.shape).astype(input.dtype)
    return where(input._data > 0, input, input * Tensor._wrap(input._dev.to_device(a),
                                                              input._dev))


# ---- in-place activations: ``F.relu_(x)`` writes relu(x) into x (``Tensor._overwrite``'s rules:
# recorded by autograd, as ``x.relu_()``; refused on a leaf that requires grad, as PyTorch's)


def _in_place(where_: str, input: Tensor, fn: Any) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{where_}: input must be a Tensor, got {type(input).__name__}")
    return input._overwrite(where_, fn)


def relu_(input: Tensor) -> Tensor:  # noqa: A002
    """``relu``, in place: x takes max(x, 0) and is returned."""
    return _in_place("relu_", input, relu)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """``elu``, in place."""
    return _in_place("elu_", input, lambda x: elu(x, alpha))


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    """``leaky_relu``, in place."""
    return _in_place("leaky_relu_", input, lambda x: leaky_relu(x, negative_slope))


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0  # noqa: A002
              ) -> Tensor:
    """``hardtanh``, in place."""
    return _in_place("hardtanh_", input, lambda x: hardtanh(x, min_val, max_val))


def selu_(input: Tensor) -> Tensor:  # noqa: A002
    """``selu``, in place."""
    return _in_place("selu_", input, selu)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """``celu``, in place."""
    return _in_place("celu_", input, lambda x: celu(x, alpha))


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    """``threshold``, in place."""
    return _in_place("threshold_", input, lambda x: _threshold(x, threshold, value))


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,  # noqa: A002
           training: bool = False) -> Tensor:
    """``rrelu``, in place."""
    return _in_place("rrelu_", input, lambda x: rrelu(x, lower, upper, training))


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """max(0, x) + w · min(0, x), as ``torch.nn.functional.prelu``: ``weight`` holds one
    slope, or one per channel (axis 1; an input below 2-D has one channel). Gradient: 1
    where x > 0, w elsewhere (at x = 0 too, as PyTorch's); the slopes get x where x <= 0."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("prelu: input and weight must be Tensors")
    if weight.dtype != input.dtype:
        raise DTypeError(f"prelu: weight's dtype {weight.dtype} differs from the input's "
                         f"{input.dtype}")
    _same_device("prelu", "weight", weight, "input", input)
    n = weight.size
    if weight.ndim > 1:
        raise ValueError(f"prelu: weight must be 0-d or 1-D, got shape {weight.shape}")
    if n == 1:
        w = weight.reshape(())
    else:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if channels != n:
            raise ValueError(f"prelu: {n} slopes, but the input, of shape {input.shape}, has "
                             f"{channels} channel(s) (axis 1; one below 2-D): give one slope, "
                             "or one per channel")
        w = weight.reshape((n,) + (1,) * (input.ndim - 2))
    return where(input._data > 0, input, input * w)


def layer_norm(input: Tensor, normalized_shape: int | tuple[int, ...],  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-5
               ) -> Tensor:
    """Layer normalisation (Ba et al., 2016), as ``torch.nn.functional.layer_norm``::

        y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias

    E and Var over the last ``len(normalized_shape)`` axes, which must be
    ``normalized_shape``; Var is the biased one (divided by n, not n - 1). ``weight`` and
    ``bias``, of shape ``normalized_shape``, are optional (1 and 0 without them)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else \
        tuple(int(n) for n in normalized_shape)
    if not shape:
        raise ValueError("layer_norm: normalized_shape must have at least one axis, got ()")
    if input.shape[-len(shape):] != shape:
        raise ValueError(f"layer_norm: normalized_shape={shape} needs an input of shape "
                         f"(*, {', '.join(map(str, shape))}), got {input.shape}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and p.shape != shape:
            raise ValueError(f"layer_norm: {name} must have the shape normalized_shape={shape}, "
                             f"got {p.shape}")
        if p is not None and p.dtype != input.dtype:
            raise DTypeError(f"layer_norm: input dtype {input.dtype} does not match the {name}'s "
                             f"dtype {p.dtype}")
    axes = tuple(range(-len(shape), 0))
    d = input - input.mean(axes, keepdims=True)
    y = d / ((d * d).mean(axes, keepdims=True) + eps).sqrt()
    if weight is not None:
        y = y * weight
    return y if bias is None else y + bias


def _affine_dtypes(where_: str, input: Tensor, **params: Tensor | None) -> None:  # noqa: A002
    """Refuse a weight or bias of another dtype than the input's, as PyTorch's norms do."""
    for name, p in params.items():
        if p is not None and p.dtype != input.dtype:
            raise DTypeError(f"{where_}: input dtype {input.dtype} does not match the {name}'s "
                             f"dtype {p.dtype}")


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Group normalisation (Wu and He, 2018), as ``torch.nn.functional.group_norm``: the C
    channels of (N, C, ...) in ``num_groups`` groups of C / G, each (sample, group)
    normalised by its own mean and biased variance over its channels and positions, then
    ``· weight[c] + bias[c]`` per channel."""
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise ValueError(f"group_norm: expected an input of shape (N, C, ...), got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    n, c = input.shape[:2]
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)) or \
            num_groups < 1 or c % num_groups:
        raise ValueError(f"group_norm: {c} channels do not split into num_groups="
                         f"{num_groups!r} groups")
    if n * c // num_groups * math.prod(input.shape[2:]) == 1:  # PyTorch's count, refused there
        raise ValueError(f"group_norm: expected more than 1 value per channel, got an input of "
                         f"shape {input.shape} in {num_groups} groups")
    _affine_dtypes("group_norm", input, weight=weight, bias=bias)
    x = input.reshape(n, int(num_groups), -1)
    d = x - x.mean(-1, keepdims=True)
    y = (d / ((d * d).mean(-1, keepdims=True) + eps).sqrt()).reshape(input.shape)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


def rms_norm(input: Tensor, normalized_shape: int | tuple[int, ...],  # noqa: A002
             weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """Root-mean-square normalisation (Zhang and Sennrich, 2019), as
    ``torch.nn.functional.rms_norm``: ``x / sqrt(mean(x²) + eps) · weight`` over the last
    ``len(normalized_shape)`` axes; ``eps`` None is the dtype's machine epsilon, as there."""
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else \
        tuple(int(k) for k in normalized_shape)
    if not shape or input.shape[-len(shape):] != shape:
        raise ValueError(f"rms_norm: normalized_shape={shape} needs an input of shape "
                         f"(*, {', '.join(map(str, shape))}), got {input.shape}")
    if weight is not None and weight.shape != shape:
        raise ValueError(f"rms_norm: weight must have the shape normalized_shape={shape}, got "
                         f"{weight.shape}")
    e = float(np.finfo(input.dtype).eps) if eps is None else eps
    axes = tuple(range(-len(shape), 0))
    y = input / ((input * input).mean(axes, keepdims=True) + e).sqrt()
    if weight is None:
        return y
    y = y * weight  # in the input's dtype, as PyTorch's (with a weight of another dtype too)
    return y if y.dtype == input.dtype else y.to(input.dtype)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,  # noqa: A002
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Instance normalisation (Ulyanov et al., 2016), as
    ``torch.nn.functional.instance_norm``: each (sample, channel) of (N, C, ...) normalised
    over its positions (``batch_norm`` of the input seen as one sample of N·C channels).
    With running stats, they move towards the batch's average of the instances' statistics;
    ``use_input_stats=False`` normalises by them instead."""
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, L, ...), got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    n, c = input.shape[:2]
    _affine_dtypes("instance_norm", input, weight=weight, bias=bias)
    if use_input_stats and input.size // max(n * c, 1) <= 1:
        raise ValueError(f"instance_norm: expected more than 1 position per channel when "
                         f"using the input's statistics, got an input of shape {input.shape}")
    # running stats of another float dtype are taken, in the input's (as PyTorch's)
    rm = None if running_mean is None else running_mean.detach().repeat(n).to(input.dtype)
    rv = None if running_var is None else running_var.detach().repeat(n).to(input.dtype)
    y = batch_norm(input.reshape(1, n * c, *input.shape[2:]), rm, rv, None, None,
                   use_input_stats, momentum, eps).reshape(input.shape)
    if use_input_stats and running_mean is not None:
        from .autograd import no_grad

        with no_grad():
            running_mean.copy_(rm.reshape(n, c).mean(0))
            running_var.copy_(rv.reshape(n, c).mean(0))
    shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4,  # noqa: A002
                        beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Local response normalisation across channels (Krizhevsky et al., 2012), as
    ``torch.nn.functional.local_response_norm``: for (N, C, ...)::

        y_c = x_c / (k + alpha / size · Σ_{c' = c - size//2}^{c + (size-1)//2} x_c'²)^beta

    channels beyond the ends adding 0 (the sum always divided by ``size``, as PyTorch's
    average pool)."""
    _check_tensors("local_response_norm", input=input)
    n = _factor("local_response_norm", "size", size)
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected an input of 3 or more axes (N, C, "
                         f"...), got shape {input.shape}")
    if input.size == 0:
        return input
    c = input.shape[1]
    sq = _pad_axis(input * input, 1, n // 2, (n - 1) // 2, "constant", 0.0)
    total = sq.narrow(1, 0, c)
    for j in range(1, n):
        total = total + sq.narrow(1, j, c)
    return input / ((total / n) * alpha + k) ** beta


def _cross_map_lrn2d(input: Tensor, size: int, alpha: float, beta: float,  # noqa: A002
                     k: float) -> Tensor:
    """``nn.CrossMapLRN2d``'s normalisation across the channels of (N, C, H, W), as PyTorch's
    legacy kernel computes it: with h = (size - 1) // 2,

        y_c = x_c · (k + alpha / size · (Σ_{c' = c-h}^{c+h} x_c'² + [c > h] x_0²))^-beta

    channels beyond the ends adding 0. The term x_0² for c > h is PyTorch's: its running sum
    over the channels never takes channel 0 out again. The gradient is that of this
    composition (PyTorch's hand-written backward disagrees with its forward)."""
    _check_tensors("CrossMapLRN2d", input=input)
    if input.ndim != 4:
        raise ValueError(f"CrossMapLRN2d: expected a 4-D input (N, C, H, W), got shape "
                         f"{input.shape}")
    if input.size == 0:
        return input
    h, C = (size - 1) // 2, input.shape[1]
    sq = _pad_axis(input * input, 1, h, h, "constant", 0.0)
    total = sq.narrow(1, 0, C)
    for j in range(1, 2 * h + 1):
        total = total + sq.narrow(1, j, C)
    if C > h + 1:
        late = (np.arange(C) > h).astype(input.dtype).reshape(1, C, 1, 1)
        first = input.narrow(1, 0, 1)
        total = total + first * first * Tensor._wrap(input._dev.to_device(late), input._dev)
    return input * (total * (alpha / size) + k) ** -beta


# ---- normalisation, distances and padding (torch.nn.functional's names) ---------------------


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12  # noqa: A002
              ) -> Tensor:
    """x / max(‖x‖_p, eps), the p-norm along ``dim``: unit vectors along ``dim``."""
    return input / input.norm(p, dim, keepdims=True).clip(min=eps)


def _broadcast_pair(where_: str, x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    _check_tensors(where_, x1=x1, x2=x2)
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ValueError(f"{where_}: x1 of shape {x1.shape} and x2 of shape {x2.shape} do not "
                         "broadcast together") from None
    return tuple(x if x.shape == shape else x.broadcast_to(shape) for x in (x1, x2))


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Σ (x1 / ‖x1‖)(x2 / ‖x2‖) along ``dim`` (after broadcasting x1 and x2), each norm at
    least ``eps``: PyTorch's formula, which normalises each first (so the result stays in
    [-1, 1]). As there, the clamp at ``eps`` has no gradient of its own: the gradient flows as
    through the unclamped norm."""
    x1, x2 = _broadcast_pair("cosine_similarity", x1, x2)

    def unit(x: Tensor) -> Tensor:
        n = x.norm(2, dim, keepdims=True)
        at_least_eps = Tensor._wrap(n._dev.xp.maximum(n._data, eps), n._dev)
        return x / (at_least_eps + (n - n.detach()))  # the value max(n, eps), the gradient n's

    return (unit(x1) * unit(x2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """‖x1 - x2 + eps‖_p along the last axis (after broadcasting), as PyTorch (the eps keeps
    the norm's gradient finite where x1 = x2)."""
    x1, x2 = _broadcast_pair("pairwise_distance", x1, x2)
    d = x1 - x2 + eps
    return d.norm(p, -1 if d.ndim else None, keepdims=keepdim)


CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
               "donot_use_mm_for_euclid_dist")


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distance between each row of x1 (..., P, M) and each row of x2 (..., R, M):
    (..., P, R), the leading (batch) axes broadcast, as ``torch.cdist``: ‖x1_i - x2_j‖_p =
    (Σ_k |x1_ik - x2_jk|^p)^(1/p); p = 0 counts the differing coordinates (gradient 0), p =
    inf takes the largest |difference|. From the differences (..., P, R, M) directly,
    whatever ``compute_mode`` says (PyTorch's matrix-product form for p = 2 is faster and less
    exact). Differentiable; where a distance is 0 its gradient is 0, as PyTorch's (the
    power's inf kept out of the graph, ``_pow_or_zero``). For p = inf, equal largest
    differences share the gradient (PyTorch gives each all of it); for p < 1 the gradient at
    a zero difference is NaN, as PyTorch's."""
    for name, t in (("x1", x1), ("x2", x2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"cdist: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise ValueError(f"cdist: {name} must have at least 2 dims (..., rows, features), "
                             f"got shape {t.shape}")
        if t.dtype.kind != "f":
            raise DTypeError(f"cdist: only floating-point tensors, {name} is {t.dtype}")
    _same_device("cdist", "x2", x2, "x1", x1)
    if x1.dtype != x2.dtype:
        raise DTypeError(f"cdist: x1 and x2 must have one dtype, got {x1.dtype} and {x2.dtype}")
    if x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"cdist: x1 and x2 must have as many features (last dim), got shapes "
                         f"{x1.shape} and {x2.shape}")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not p >= 0:
        raise ValueError(f"cdist: p must be a number >= 0, got {p!r}")
    if compute_mode not in CDIST_MODES:
        raise ValueError(f"cdist: compute_mode must be one of {', '.join(CDIST_MODES)}, got "
                         f"{compute_mode!r}")
    try:
        np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ValueError:
        raise ValueError(f"cdist: the batch dims of x1 {x1.shape} and x2 {x2.shape} do not "
                         "broadcast together") from None
    return _p_norm_last(x1.unsqueeze(-2) - x2.unsqueeze(-3), p)  # d: (..., P, R, M)


def _p_norm_last(d: Tensor, p: float) -> Tensor:
    """The p-norm of differences along their last axis, for ``cdist`` and ``pdist``: p = 0
    counts the nonzero ones (gradient 0), p = inf takes the largest; gradient 0 where the
    norm is 0."""
    if d.size == 0:  # no pairs, or no features (distance 0)
        return d.abs().sum(-1)
    if p == 0:  # counts the nonzero ones, NaN with a NaN one; gradient 0, as PyTorch's
        nan = d._dev.xp.isnan(d._data)
        return where(d._data != 0, where(nan, d, 1.0), 0.0).sum(-1)
    if p == 1:
        return d.abs().sum(-1)
    if p == math.inf:
        return d.abs().amax(-1)
    if p == 2:
        return (d * d).sum(-1)._pow_or_zero(0.5)
    return (d.abs() ** float(p)).sum(-1)._pow_or_zero(1.0 / p)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:  # noqa: A002
    """The p-norm distance between every two rows of ``input`` (N, M), as
    ``torch.nn.functional.pdist``: the upper triangle of ``cdist(x, x, p)`` without its
    diagonal, row by row, ‖x_i - x_j‖_p for i < j, a (N (N - 1) / 2,) tensor. p >= 0 (0
    counts the differing coordinates, inf takes the largest |difference|); the gradient at a
    zero distance is 0, as PyTorch's."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pdist: input must be a Tensor, got {type(input).__name__}")
    if input.ndim != 2:
        raise ValueError(f"pdist: expected a 2-D input (N, M), got shape {input.shape}")
    if input.dtype.kind != "f":
        raise DTypeError(f"pdist: only floating-point inputs, got {input.dtype}")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not p >= 0:
        raise ValueError(f"pdist: p must be a number >= 0, got {p!r}")
    i, j = np.triu_indices(input.shape[0], 1)
    dev = input._dev
    rows = GetItem.apply(input, index=dev.to_device(i), in_range=True)
    return _p_norm_last(rows - GetItem.apply(input, index=dev.to_device(j), in_range=True), p)


INTERPOLATE_MODES = ("nearest", "nearest-exact", "area", "linear", "bilinear", "bicubic",
                     "trilinear")
# the interpolating modes, and the input rank each one is for (as PyTorch)
_SMOOTH_MODES = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}


def interpolate(input: Tensor, size: int | Sequence[int] | None = None,  # noqa: A002
                scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resample the spatial axes of a 3-D (N, C, L), 4-D (N, C, H, W) or 5-D (N, C, D, H, W)
    input to ``size`` (an int for every axis, or one per axis), or to each length times
    ``scale_factor``, rounded down, as ``torch.nn.functional.interpolate``. Each mode is
    separable, so it runs one spatial axis at a time; along an axis of length L resampled to
    n, with s = L / n (or 1 / scale_factor where that was given, unless
    ``recompute_scale_factor``):

    - "nearest": output j takes input ⌊j s⌋ (PyTorch's rule, in float32 as there, so the
      same picks); "nearest-exact": input ⌊(j + ½) s⌋ (Pillow's and SciPy's);
    - "linear" (3-D), "bilinear" (4-D), "trilinear" (5-D): the two neighbours of the source
      point mixed by distance, the source point s (j + ½) - ½ (clamped at 0), or with
      ``align_corners`` j (L - 1) / (n - 1), so that the end samples line up;
    - "bicubic" (4-D): the four neighbours (indices clamped to the edge) weighted by the cubic
      convolution kernel with a = -0.75, the source point as for "bilinear", not clamped;
    - "area": the adaptive average pool (the mean of each output cell's window).

    Each output is a gather (and a weighted sum of 2 or 4 for the smooth modes), so the
    gradient is scattered back. ``antialias=True`` (the bilinear and bicubic modes of 4-D
    inputs, for downsampling images) widens the filter by the scale where it shrinks an axis,
    as PyTorch's (and Pillow's): each output then averages every input it covers
    (``_antialias_last``)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: input must be a Tensor, got {type(input).__name__}")
    if mode not in INTERPOLATE_MODES:
        raise ValueError(f"interpolate: mode must be one of {', '.join(INTERPOLATE_MODES)}, "
                         f"got {mode!r}")
    if input.ndim not in (3, 4, 5):
        raise ValueError(f"interpolate: expected a 3-D (N, C, L), 4-D (N, C, H, W) or 5-D "
                         f"(N, C, D, H, W) input, got shape {input.shape}")
    if mode in _SMOOTH_MODES and input.ndim != _SMOOTH_MODES[mode]:
        raise ValueError(f"interpolate: mode {mode!r} is for {_SMOOTH_MODES[mode]}-D inputs, got "
                         f"a {input.ndim}-D one (shape {input.shape}); use "
                         f"{[m for m, d in _SMOOTH_MODES.items() if d == input.ndim][0]!r}")
    if align_corners is not None and mode not in _SMOOTH_MODES:
        raise ValueError("interpolate: align_corners can only be set with the interpolating "
                         f"modes (linear, bilinear, bicubic, trilinear), not {mode!r}")
    if antialias and (mode not in ("bilinear", "bicubic") or input.ndim != 4):
        raise ValueError(f"interpolate: antialias=True is for the bilinear and bicubic modes "
                         f"of 4-D inputs, got mode {mode!r} and shape {input.shape}")
    if input.dtype.kind != "f":
        raise DTypeError(f"interpolate: the input must be floating-point, got {input.dtype}")
    d = input.ndim - 2
    lengths = input.shape[2:]
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    scales: list[float | None] = [None] * d
    if size is not None:
        sizes = size if isinstance(size, (tuple, list)) else [size] * d
        if len(sizes) != d or any(isinstance(n, bool) or not isinstance(n, (int, np.integer))
                                  or n < 1 for n in sizes):
            raise ValueError(f"interpolate: size must be an int >= 1 or {d} of them for a "
                             f"{input.ndim}-D input, got {size!r}")
        n_out = [int(n) for n in sizes]
    else:
        sfs = scale_factor if isinstance(scale_factor, (tuple, list)) else [scale_factor] * d
        if len(sfs) != d or any(isinstance(f, bool) or not isinstance(f, numbers.Real)
                                or not f > 0 for f in sfs):
            raise ValueError(f"interpolate: scale_factor must be a number > 0 or {d} of them "
                             f"for a {input.ndim}-D input, got {scale_factor!r}")
        n_out = [math.floor(float(L) * float(f)) for L, f in zip(lengths, sfs)]
        if not recompute_scale_factor:
            scales = [float(f) for f in sfs]
    if min(lengths) < 1 or min(n_out) < 1:
        raise ValueError(f"interpolate: the input and output lengths must be > 0, got "
                         f"{tuple(lengths)} and {tuple(n_out)}")
    y = input
    if antialias:  # W first, then H, as PyTorch's separable kernel; a kept length untouched
        for k in reversed(range(d)):
            if lengths[k] != n_out[k]:
                y = _antialias_last(y.movedim(2 + k, -1), n_out[k], scales[k], mode,
                                    align_corners).movedim(-1, 2 + k)
        return y
    for k in range(d):
        axis = 2 + k
        if lengths[k] == n_out[k] and mode in ("nearest", "nearest-exact", "area") \
                and scales[k] in (None, 1.0):
            continue  # the identity along this axis
        y = _resample_last(y.movedim(axis, -1), n_out[k], scales[k], mode, align_corners,
                           shortcuts=input.ndim == 4).movedim(-1, axis)
    return y


def _antialias_last(x: Tensor, n_out: int, scale: float | None, mode: str,
                    align_corners: bool | None) -> Tensor:
    """``interpolate(..., antialias=True)`` along the last axis (of length L, to n_out), as
    PyTorch's separable kernel: with s = L / n_out (1 / scale_factor, or (L - 1) / (n_out - 1)
    with ``align_corners``) and the filter f (bilinear: the triangle 1 - |u|; bicubic: the
    cubic convolution kernel with a = -0.5) of half-width r (1, 2), output j is

        y_j = Σ_i w_ji x_i,  w_ji ∝ f((i - c_j + ½) / max(s, 1)),  c_j = s (j + ½)

    over the i with |i + ½ - c_j| < r·max(s, 1) (within the input), the weights of each j
    normalised to sum to 1: downsampling widens the filter by s, so that each output averages
    every input it covers. Arithmetic in the input's precision, as PyTorch's, so that the
    same inputs are picked. The gradient scatters each weighted pick back."""
    L, dev = x.shape[-1], x._dev
    ot = np.float64 if x.dtype == np.float64 else np.float32  # PyTorch's scalar type
    if align_corners:
        s = ot(L - 1) / ot(n_out - 1) if n_out > 1 else ot(0)
    else:
        s = ot(1.0 / scale) if scale is not None else ot(L) / ot(n_out)
    r = 1.0 if mode == "bilinear" else 2.0
    widen = s >= 1
    support = ot(r * np.float64(s)) if widen else ot(r)
    inv = ot(1.0 / np.float64(s)) if widen else ot(1.0)
    width = int(math.ceil(support)) * 2 + 1
    center = (np.float64(s) * (np.arange(n_out) + 0.5)).astype(ot)
    start = np.maximum(np.trunc((center - support) + 0.5).astype(np.int64), 0)
    stop = np.minimum(np.trunc((center + support) + 0.5).astype(np.int64), L)
    count = np.clip(stop - start, 0, width)
    at = start[:, None] + np.arange(width)  # (n_out, width)
    u = np.abs(((at.astype(ot) - center[:, None]) + 0.5) * np.float64(inv)).astype(ot)
    if mode == "bilinear":
        w = np.maximum(ot(1) - u, ot(0))
    else:
        a = ot(-0.5)
        w = np.where(u < 1, ((a + 2) * u - (a + 3)) * u * u + 1,
                     np.where(u < 2, ((a * u - 5 * a) * u + 8 * a) * u - 4 * a, ot(0)))
    w = np.where(np.arange(width) < count[:, None], w, ot(0)).astype(ot)
    total = w.sum(1, keepdims=True)
    w = np.where(total != 0, w / np.where(total != 0, total, 1), w)
    at = np.minimum(at, L - 1)
    y = None
    for k in range(width):
        if not w[:, k].any():
            continue
        term = GetItem.apply(x, index=(Ellipsis, dev.to_device(at[:, k])), in_range=True) * \
            Tensor._wrap(dev.to_device(w[:, k].astype(x.dtype)), dev)
        y = term if y is None else y + term
    return y if y is not None else x[..., :1].expand(*x.shape[:-1], n_out) * 0


def _resample_last(x: Tensor, n_out: int, scale: float | None, mode: str,
                   align_corners: bool | None, shortcuts: bool) -> Tensor:
    """``interpolate`` along the last axis alone (of length L, to n_out). As PyTorch's
    kernels: the linear modes copy an axis that keeps its length (whatever the scale), and
    "nearest" takes j (n = L) and j // 2 (n = 2L) without arithmetic where the scale is
    computed (no ``scale_factor``) or, with one, for images (``shortcuts``: its 2-D kernel
    alone does so). The gradient is always the forward's own (PyTorch's backward of 1-D and
    3-D "nearest" takes those shortcuts where its forward did not, and fails its gradcheck
    there)."""
    L = x.shape[-1]
    if n_out == L and mode in ("linear", "bilinear", "trilinear"):
        return x
    if mode == "area":
        return adaptive_avg_pool1d(x.reshape(-1, 1, L), n_out).reshape(*x.shape[:-1], n_out)
    j = np.arange(n_out)
    dev = x._dev

    def pick(at: np.ndarray) -> Tensor:
        return GetItem.apply(x, index=(Ellipsis, dev.to_device(at)), in_range=True)

    def weight(w: np.ndarray) -> Tensor:
        return Tensor._wrap(dev.to_device(w.astype(x.dtype)), dev)

    if mode in ("nearest", "nearest-exact"):
        s32 = np.float32(1.0 / scale) if scale is not None else np.float32(L) / np.float32(n_out)
        if mode == "nearest" and n_out == L and (shortcuts or scale is None):
            src = j
        elif mode == "nearest" and n_out == 2 * L and (shortcuts or scale is None):
            src = j >> 1
        elif mode == "nearest":
            src = np.floor(j.astype(np.float32) * s32).astype(np.int64)
        else:  # (j + 0.5) in float64 times the float32 scale, then rounded to float32
            src = np.floor(((j + 0.5) * np.float64(s32)).astype(np.float32)).astype(np.int64)
        return pick(np.minimum(src, L - 1))
    ot = np.float64 if x.dtype == np.float64 else np.float32  # PyTorch's opmath type
    if align_corners:
        s = ot(L - 1) / ot(n_out - 1) if n_out > 1 else ot(0)
        real = s * j.astype(ot)
    else:
        s = ot(1.0 / scale) if scale is not None else ot(L) / ot(n_out)
        real = s * (j.astype(ot) + ot(0.5)) - ot(0.5)
    if mode == "bicubic":
        base = np.floor(real)
        t = real - base
        a = ot(-0.75)

        def near(u: np.ndarray) -> np.ndarray:  # |u| <= 1
            return ((a + 2) * u - (a + 3)) * u * u + 1

        def far(u: np.ndarray) -> np.ndarray:  # 1 < |u| < 2
            return ((a * u - 5 * a) * u + 8 * a) * u - 4 * a

        ws = (far(t + 1), near(t), near(1 - t), far(2 - t))
        at = [np.clip(base.astype(np.int64) + k - 1, 0, L - 1) for k in range(4)]
        y = pick(at[0]) * weight(ws[0])
        for i, w in zip(at[1:], ws[1:]):
            y = y + pick(i) * weight(w)
        return y
    if not align_corners:
        real = np.maximum(real, ot(0))
    i0 = np.minimum(np.floor(real.astype(np.float32)).astype(np.int64), L - 1)
    i1 = i0 + (i0 < L - 1)
    lam1 = np.minimum(np.maximum(real - i0.astype(ot), ot(0)), ot(1))
    lam0 = ot(1) - lam1
    return pick(i0) * weight(lam0) + pick(i1) * weight(lam1)


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None,  # noqa: A002
             mode: str = "nearest", align_corners: bool | None = None) -> Tensor:
    """``interpolate``, under its deprecated name: it warns, as PyTorch's (a UserWarning),
    then interpolates."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None,  # noqa: A002
                     scale_factor: Any = None) -> Tensor:
    """``interpolate(input, size, scale_factor, mode="nearest")``, under its deprecated name:
    it warns, as PyTorch's."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None,  # noqa: A002
                      scale_factor: Any = None) -> Tensor:
    """``interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)``, under
    its deprecated name: it warns, as PyTorch's."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- spatial transformers: affine_grid and grid_sample ---------------------------------------

GRID_SAMPLE_MODES = ("bilinear", "nearest", "bicubic")
GRID_SAMPLE_PADDING_MODES = ("zeros", "border", "reflection")
_ALIGN_CORNERS_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                          "align_corners=False since 1.3.0. Please specify align_corners=True "
                          "if the old behavior is desired. See the documentation of "
                          "grid_sample for details.")


def _align_corners(align_corners: bool | None) -> bool:
    """None is False, with PyTorch's warning that the default changed."""
    if align_corners is None:
        warnings.warn(_ALIGN_CORNERS_WARNING, UserWarning, stacklevel=3)
        return False
    return bool(align_corners)


def _grid_steps(n: int, align_corners: bool) -> np.ndarray:
    """The n normalised coordinates of the pixels along an axis, PyTorch's
    ``linspace_from_neg_one``: -1 ... 1 (the pixels' centres at the ends with
    ``align_corners``, else their outer edges); 0 for a single pixel."""
    if n <= 1:
        return np.zeros(max(n, 0))
    steps = np.linspace(-1.0, 1.0, n)
    return steps if align_corners else steps * ((n - 1) / n)


def affine_grid(theta: Tensor, size: Sequence[int],
                align_corners: bool | None = None) -> Tensor:
    """The sampling grid of a batch of affine maps, as ``torch.nn.functional.affine_grid``
    (for ``grid_sample``): for ``size`` (N, C, H, W) and ``theta`` (N, 2, 3), a (N, H, W, 2)
    grid whose point (h, w) is theta · (x_w, y_h, 1), x and y the output pixels' normalised
    coordinates (see ``grid_sample``); for (N, C, D, H, W) and theta (N, 3, 4), a (N, D, H,
    W, 3) grid of theta · (x, y, z, 1). Differentiable in theta (a matmul with a constant
    base grid). ``align_corners`` None is False, with PyTorch's warning."""
    align = _align_corners(align_corners)
    if not isinstance(theta, Tensor):
        raise TypeError(f"affine_grid: theta must be a Tensor, got {type(theta).__name__}")
    if theta.dtype.kind != "f":
        raise DTypeError(f"affine_grid: expected theta to have a floating-point dtype, got "
                         f"{theta.dtype}")
    size = tuple(int(n) for n in size)
    if len(size) not in (4, 5):
        raise ValueError(f"affine_grid: size must be 4-D (N, C, H, W) or 5-D (N, C, D, H, W), "
                         f"for 2-D and 3-D affine maps; got {size}")
    d = len(size) - 2
    if theta.shape != (size[0], d, d + 1):
        raise ValueError(f"affine_grid: expected a batch of {d}-D affine matrices of shape "
                         f"({size[0]}, {d}, {d + 1}) for size {size}, got {theta.shape}")
    spatial = size[2:]
    if align and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      UserWarning, stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"affine_grid: expected a positive output size, got {size}")
    axes = np.meshgrid(*(_grid_steps(n, align) for n in spatial), indexing="ij")
    base = np.stack([*reversed(axes), np.ones(spatial)], -1).reshape(1, -1, d + 1)
    b = Tensor._wrap(theta._dev.to_device(base.astype(theta.dtype)), theta._dev)
    return (b @ theta.transpose(1, 2)).reshape(size[0], *spatial, d)


def _clip_coordinates(s: Tensor, n: int) -> Tensor:
    """s clamped to [0, n - 1], with gradient 1 strictly inside only, as PyTorch's
    ``clip_coordinates_set_grad`` (the ends count as outside)."""
    d = s._data
    inside = (d > 0) & (d < n - 1)
    return where(inside, s, s.detach().clip(0, n - 1))


def _reflect_coordinates(s: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """s reflected into [twice_low / 2, twice_high / 2] about its ends, as often as it takes
    (PyTorch's ``reflect_coordinates``); gradient ±1 by the number of reflections."""
    if twice_low == twice_high:
        return s.detach() * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    t = s - low
    a = where(t._data < 0, -t, t)
    flips = a._dev.xp.floor(a._data / span)
    extra = a - Tensor._wrap(flips * span, a._dev)
    return where(flips % 2 == 0, extra + low, span - extra + low)


def _grid_source(c: Tensor, n: int, padding_mode: str, align: bool) -> Tensor:
    """Normalised coordinates c (-1 ... 1) along an axis of n pixels as pixel positions, then
    folded in by ``padding_mode`` (PyTorch's ``grid_sampler_compute_source_index``)."""
    s = (c + 1) / 2 * (n - 1) if align else ((c + 1) * n - 1) / 2
    if padding_mode == "border":
        return _clip_coordinates(s, n)
    if padding_mode == "reflection":
        s = _reflect_coordinates(s, 0, 2 * (n - 1)) if align else \
            _reflect_coordinates(s, -1, 2 * n - 1)
        return _clip_coordinates(s, n)
    return s


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",  # noqa: A002
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """``input`` sampled at the points of ``grid``, as ``torch.nn.functional.grid_sample``
    (the sampler of spatial transformer networks): for a (N, C, H, W) input and a (N, H_out,
    W_out, 2) grid, ``out[n, :, h, w]`` is the input at the point (x, y) = grid[n, h, w],
    normalised so that -1 and 1 are the input's left and right (top and bottom) edges, or,
    with ``align_corners``, the centres of its corner pixels. A (N, C, D, H, W) input takes a
    (N, D_out, H_out, W_out, 3) grid of (x, y, z) points.

    - ``mode``: "bilinear" mixes the 2 (or 2·2·2) nearest pixels by distance
      (differentiable in the input and the grid), "nearest" takes the nearest one (half
      to even; the grid's gradient is 0). "bicubic" is not supported here.
    - ``padding_mode``: points outside read zeros ("zeros"), the edge pixels ("border": the
      point clamped, its gradient 0 outside), or the input mirrored at its edges
      ("reflection").

    Each sampled pixel is a gather of the input (its gradient scattered back), so everything
    runs through the array module. ``align_corners`` None is False, with PyTorch's
    warning."""
    if mode not in GRID_SAMPLE_MODES:
        raise ValueError(f"grid_sample: expected mode to be 'bilinear', 'nearest' or "
                         f"'bicubic', but got: {mode!r}")
    if padding_mode not in GRID_SAMPLE_PADDING_MODES:
        raise ValueError(f"grid_sample: expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: {padding_mode!r}")
    align = _align_corners(align_corners)
    _check_tensors("grid_sample", input=input, grid=grid)
    if input.ndim not in (4, 5):
        raise ValueError(f"grid_sample: expected a 4-D (N, C, H, W) or 5-D (N, C, D, H, W) "
                         f"input, got shape {input.shape}")
    d = input.ndim - 2
    if mode == "bicubic":
        raise ValueError("grid_sample: mode 'bicubic' is not supported here (only 'bilinear' "
                         "and 'nearest')")
    if grid.ndim != input.ndim or grid.shape[0] != input.shape[0] or grid.shape[-1] != d:
        raise ValueError(f"grid_sample: for an input of shape {input.shape}, expected a grid "
                         f"of shape ({input.shape[0]}, *out, {d}) with {d} output axes, got "
                         f"{grid.shape}")
    if input.dtype.kind != "f" or grid.dtype != input.dtype:
        raise DTypeError(f"grid_sample: input and grid must have one floating-point dtype, got "
                         f"{input.dtype} and {grid.dtype}")
    _same_device("grid_sample", "grid", grid, "input", input)
    xp, dev = input._dev.xp, input._dev
    size = input.shape[2:]
    # axis k of (D, H, W) is read from the grid's component d - 1 - k: (x, y, z) = (W, H, D)
    src = [_grid_source(grid[..., d - 1 - k], n, padding_mode, align)
           for k, n in enumerate(size)]
    x = input.movedim(1, -1)  # (N, *size, C): a gather then gives (N, *out, C)
    batch = xp.arange(input.shape[0]).reshape((-1,) + (1,) * d)

    def pick(at: list[Any]) -> Tensor:
        """x at the integer positions ``at`` (one per axis), 0 where any is outside."""
        inside = xp.ones(at[0].shape, dtype=bool)
        for i, n in zip(at, size):
            inside = inside & (i >= 0) & (i < n)
        safe = [xp.clip(i, 0, n - 1).astype(np.int64) for i, n in zip(at, size)]
        v = GetItem.apply(x, index=(batch, *safe), in_range=True)
        return where(inside[..., None], v, 0.0)

    if mode == "nearest":
        y = pick([xp.rint(s._data) for s in src])
    else:
        base = [xp.floor(s._data) for s in src]
        y = None
        for corner in itertools.product((0, 1), repeat=d):
            w = None
            for s, f, b in zip(src, base, corner):
                f_t = Tensor._wrap(f, dev)
                wk = s - f_t if b else f_t + 1 - s
                w = wk if w is None else w * wk
            term = pick([f + b for f, b in zip(base, corner)]) * w.unsqueeze(-1)
            y = term if y is None else y + term
    return y.movedim(-1, 1)


PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None  # noqa: A002
        ) -> Tensor:
    """``input`` padded, as ``torch.nn.functional.pad``. ``pad`` holds (before, after) pairs,
    the last axis first: (1, 2) pads the last axis with 1 element before and 2 after, and
    (1, 2, 0, 3) also the one before it with 3 after. A negative amount crops.

    - "constant": ``value`` (0 without it), on any number of axes;
    - "reflect": the input mirrored about its edge, the edge not repeated (each amount
      smaller than the axis);
    - "replicate": the edge element repeated;
    - "circular": the input wrapped around (each amount at most the axis), cropped first.

    The last three pad the last 1, 2 or 3 axes of an input with 1 or 2 more (batch, channels),
    as PyTorch's. Built from slices, flips, broadcasts and ``cat``: the gradient is theirs."""
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
    if not isinstance(pad, (tuple, list)) or not all(
            isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in pad):
        raise TypeError(f"pad: pad must be a tuple of integers, (before, after) for each axis "
                        f"padded, the last axis first; got {pad!r}")
    if len(pad) % 2:
        raise ValueError(f"pad: pad must hold (before, after) pairs, the last axis first; got "
                         f"{len(pad)} numbers, an odd count")
    n_axes = len(pad) // 2
    if n_axes > input.ndim:
        raise ValueError(f"pad: {len(pad)} numbers pad {n_axes} axes, but the input has only "
                         f"{input.ndim} (shape {input.shape})")
    if mode != "constant":
        if value:  # 0 (or None) is taken, as PyTorch takes it
            raise ValueError(f"pad: mode {mode!r} takes no value (a fill for mode 'constant')")
        if input.ndim not in (n_axes + 1, n_axes + 2) or n_axes > 3:
            raise ValueError(f"pad: mode {mode!r} pads the last 1, 2 or 3 axes of an input with "
                             f"1 or 2 axes more (batch, channels); got {n_axes} axes to pad "
                             f"and an input of shape {input.shape}")
    out = input
    for k in range(n_axes):
        out = _pad_axis(out, input.ndim - 1 - k, int(pad[2 * k]), int(pad[2 * k + 1]), mode,
                        0 if value is None else value)
    return input.clone() if out is input else out  # a new tensor, as PyTorch's


def _crop(x: Tensor, axis: int, before: int, after: int) -> Tensor:
    """x without ``before`` elements at the start of ``axis`` and ``after`` at its end."""
    if before == after == 0:
        return x
    n = x.shape[axis]
    if before + after > n:
        raise ValueError(f"pad: cropping {before} + {after} elements from an axis of size {n} "
                         "leaves a negative size")
    return x.narrow(axis, before, n - before - after)


def _pad_axis(x: Tensor, axis: int, before: int, after: int, mode: str, value: float) -> Tensor:
    """x padded along ``axis`` (a negative amount crops: after padding, except in "circular"
    mode, where PyTorch crops first)."""
    if mode == "circular":
        x = _crop(x, axis, max(-before, 0), max(-after, 0))
    lo, hi, n = max(before, 0), max(after, 0), x.shape[axis]
    if mode == "constant":
        def block(size: int) -> Tensor:
            shape = x.shape[:axis] + (size,) + x.shape[axis + 1:]
            return Tensor._wrap(x._dev.xp.full(shape, value, dtype=x.dtype), x._dev)

        head, tail = block(lo), block(hi)
    elif mode == "reflect":
        if lo >= n or hi >= n:
            raise ValueError(f"pad: reflect padding ({before}, {after}) must be smaller than "
                             f"the axis it pads, of size {n}")
        head, tail = x.narrow(axis, 1, lo).flip(axis), x.narrow(axis, n - 1 - hi, hi).flip(axis)
    elif mode == "replicate":
        if n == 0 and lo + hi:
            raise ValueError("pad: replicate padding of an axis of size 0 (it has no edge)")
        head = x.narrow(axis, 0, min(n, 1)).expand(*x.shape[:axis], lo, *x.shape[axis + 1:])
        tail = x.narrow(axis, n - min(n, 1), min(n, 1)).expand(
            *x.shape[:axis], hi, *x.shape[axis + 1:])
    else:  # circular
        if lo > n or hi > n:
            raise ValueError(f"pad: circular padding ({before}, {after}) wraps around an axis "
                             f"of size {n} more than once")
        head, tail = x.narrow(axis, n - lo, lo), x.narrow(axis, 0, hi)
    parts = [p for p in (head, x, tail) if p is x or p.shape[axis]]
    y = cat(parts, axis) if len(parts) > 1 else x
    return y if mode == "circular" else _crop(y, axis, max(-before, 0), max(-after, 0))


# ---- convolution, pooling and batch normalisation over 1, 2 or 3 spatial axes ----------------
# Inputs are (N, C, *spatial) (or unbatched (C, *spatial)): channels on axis 1, then d spatial
# axes (L; H, W; D, H, W), as PyTorch's. Each is built from slices, a stack and a matmul (or a
# max or a mean), so its gradient, and its second derivative, are theirs. One implementation
# serves every d: ``conv1d``, ``conv2d`` and ``conv3d`` (and the pools) only name it.

_SPATIAL = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def _one_int(where_: str, name: str, v: Any, least: int) -> int:
    """An int argument (or a 1-tuple of one, as PyTorch's ``_single``) of at least ``least``."""
    if isinstance(v, (tuple, list)) and len(v) == 1:
        v = v[0]
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
        raise ValueError(f"{where_}: {name} must be an int >= {least} (or a 1-tuple of one), "
                         f"got {v!r}")
    return int(v)


def _ints(where_: str, name: str, v: Any, d: int, least: int) -> tuple[int, ...]:
    """An int, or d of them (a tuple or list), each at least ``least``, as a d-tuple: PyTorch's
    ``_single``, ``_pair``, ``_triple``."""
    vs = tuple(v) if isinstance(v, (tuple, list)) else (v,) * d
    if len(vs) != d or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool)
                               and i >= least for i in vs):
        raise ValueError(f"{where_}: {name} must be an int >= {least} or a {d}-tuple of them, "
                         f"got {v!r}")
    return tuple(int(i) for i in vs)


def _shown(t: tuple[int, ...]) -> Any:
    """A d-tuple as messages show it: the int itself when d is 1."""
    return t[0] if len(t) == 1 else t


def _batched(where_: str, input: Tensor, d: int = 1) -> tuple[Tensor, bool]:  # noqa: A002
    """``input`` as (N, C, *spatial) with d spatial axes, and whether it was unbatched."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{where_}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (d + 1, d + 2):
        axes = ", ".join(_SPATIAL[d])
        raise ValueError(f"{where_}: expected a {d + 1}-D (C, {axes}) or {d + 2}-D (N, C, "
                         f"{axes}) input, got shape {input.shape}")
    return (input.unsqueeze(0), True) if input.ndim == d + 1 else (input, False)


def _taps(x: Tensor, k: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
          n_out: tuple[int, ...]) -> Tensor:
    """(N, C, K, *n_out), K = k1·k2·...: tap j = (j1, j2, ...) (row-major) of window
    l = (l1, l2, ...) is x[:, :, l1·s1 + j1·d1, l2·s2 + j2·d2, ...] (x is (N, C, *spatial),
    long enough): ``Im2Col``, one strided copy per tap into one buffer; the gradient of an
    element is the sum over the windows that hold it."""
    return Im2Col.apply(x, k=tuple(k), stride=tuple(stride), dilation=tuple(dilation),
                        n_out=tuple(n_out))


def _untaps(cols: Tensor, size: tuple[int, ...], k: tuple[int, ...], stride: tuple[int, ...],
            dilation: tuple[int, ...]) -> Tensor:
    """``_taps``'s transpose (col2im): (N, C, *size) from cols (N, C, K, *n), each tap added
    back where ``_taps`` took it, ``y[:, :, l·s + j·d] += cols[:, :, j, l]`` (``Col2Im``)."""
    return Col2Im.apply(cols, size=tuple(size), k=tuple(k), stride=tuple(stride),
                        dilation=tuple(dilation))


def _window_count(where_: str, length: int, k: int, stride: int, dilation: int, ceil: bool,
                  pad: int = 0, along: str = "") -> int:
    """How many windows of reach dilation·(k - 1) + 1 fit in ``length`` (padded on each side by
    ``pad``): PyTorch's rule, ``ceil`` counting a last partial window that starts inside the
    input or its left padding (which may then run past the input's end, as PyTorch's)."""
    reach = dilation * (k - 1) + 1
    room = length + 2 * pad - reach
    n = -(-room // stride) + 1 if ceil else room // stride + 1
    if ceil and (n - 1) * stride >= length + pad:
        n -= 1
    if n < 1 or room < 0 and not ceil:  # (with ceil, one window may run past the end)
        raise ValueError(f"{where_}: the input's {length} positions{along} (padded by {pad} on "
                         f"each side) are fewer than the window's reach dilation·(kernel_size "
                         f"- 1) + 1 = {reach}")
    return n


def _windows(where_: str, size: tuple[int, ...], k: tuple[int, ...], stride: tuple[int, ...],
             dilation: tuple[int, ...], ceil: bool, pad: tuple[int, ...]) -> tuple[int, ...]:
    """``_window_count`` along each spatial axis."""
    names = _SPATIAL[len(size)] if len(size) > 1 else ("",)
    return tuple(_window_count(where_, *a, ceil, p, f" along {name}" if name else "")
                 for *a, p, name in zip(size, k, stride, dilation, pad, names))


def _pad_arg(pads: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    """(before, after) per spatial axis as ``pad`` takes them: the last axis first."""
    return tuple(v for pair in reversed(pads) for v in pair)


def _check_tensors_of(where_: str, x: Tensor, **tensors: Tensor | None) -> None:
    """Each of ``tensors`` (None allowed) a Tensor of x's dtype."""
    for name, t in tensors.items():
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{where_}: {name} must be a Tensor, got {type(t).__name__}")
        if t is not None and t.dtype != x.dtype:
            raise DTypeError(f"{where_}: input dtype {x.dtype} does not match the {name}'s dtype "
                             f"{t.dtype}")


def _conv_padding(where_: str, padding: Any, d: int, k: tuple[int, ...],
                  stride: tuple[int, ...], dilation: tuple[int, ...]
                  ) -> tuple[tuple[int, int], ...]:
    """(before, after) padding of each spatial axis: ``padding`` an int, d ints, "valid" (0) or
    "same" (stride 1; an odd total dilation·(k - 1) puts the extra element after, as
    PyTorch)."""
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{where_}: padding must be an int, a {d}-tuple of ints, 'same' or "
                             f"'valid', got {padding!r}")
        if padding == "same" and any(s != 1 for s in stride):
            raise ValueError(f"{where_}: padding='same' needs stride 1, got "
                             f"stride={_shown(stride)}")
        totals = [dl * (kk - 1) if padding == "same" else 0 for kk, dl in zip(k, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in _ints(where_, "padding", padding, d, 0))


def _check_weight(where_: str, weight: Tensor, d: int, rows: str) -> tuple[int, ...]:
    """The kernel size of a (rows, columns, *k) weight, refused unless it has d axes >= 1."""
    kernel = ", ".join(f"k{a}" for a in _SPATIAL[d]) if d > 1 else "kernel_size"
    if weight.ndim != d + 2 or 0 in weight.shape[2:]:
        raise ValueError(f"{where_}: weight must be {d + 2}-D ({rows}, {kernel}), kernel sizes "
                         f">= 1, got shape {weight.shape}")
    return weight.shape[2:]


def _conv(where_: str, d: int, input: Tensor, weight: Tensor,  # noqa: A002
          bias: Tensor | None, stride: Any, padding: Any, dilation: Any, groups: Any) -> Tensor:
    """``conv1d``, ``conv2d`` and ``conv3d``: the d-dimensional convolution."""
    x, unbatched = _batched(where_, input, d)
    _check_tensors_of(where_, x, weight=weight, bias=bias)
    stride = _ints(where_, "stride", stride, d, 1)
    dilation = _ints(where_, "dilation", dilation, d, 1)
    groups = _one_int(where_, "groups", groups, 1)
    k = _check_weight(where_, weight, d, "out_channels, in_channels / groups")
    c, (o, cg) = x.shape[1], weight.shape[:2]
    if c != cg * groups or o % groups:
        raise ValueError(f"{where_}: weight of shape {weight.shape} with groups={groups} "
                         f"expects {cg * groups} input channels and out_channels divisible by "
                         f"{groups}; the input, of shape {input.shape}, has {c}")
    if bias is not None and bias.shape != (o,):
        raise ValueError(f"{where_}: bias must have shape ({o},), one per output channel, got "
                         f"{bias.shape}")
    pads = _conv_padding(where_, padding, d, k, stride, dilation)
    padded = tuple(m + a + b for m, (a, b) in zip(x.shape[2:], pads))
    n_out = _windows(where_, padded, k, stride, dilation, False, (0,) * d)
    y = Conv.apply(x, weight, geo=Geometry(k, stride, dilation, pads, groups), n_out=n_out)
    if bias is not None:
        y = y + bias.reshape(o, *(1,) * d)
    return y.squeeze(0) if unbatched else y


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
           stride: int = 1, padding: int | str = 0, dilation: int = 1, groups: int = 1
           ) -> Tensor:
    """1-D convolution (cross-correlation, as in every framework), as
    ``torch.nn.functional.conv1d``::

        y[n, o, l] = bias[o] + Σ_c Σ_j weight[o, c, j] · x[n, g·C/G + c, l·stride + j·dilation]

    x zero-padded by ``padding`` on each side, g = o // (O/G) the group of output channel o
    (G = ``groups``: input channel block g only feeds output block g). ``input`` is (N, C, L)
    or (C, L), ``weight`` (O, C/G, k), ``bias`` (O,); the result (N, O, L_out), L_out =
    (L + 2·padding - dilation·(k - 1) - 1) // stride + 1. ``padding="same"`` keeps L (stride
    1; an odd total puts the extra element on the right, as PyTorch), ``"valid"`` is 0.

    Computed by the op ``Conv`` (``ops/conv.py``) as im2col: the k taps of every window
    gathered from a strided view of the padded input, then one batched matmul with the weight
    as (G, O/G, C/G·k) (a depthwise convolution, k multiply-adds); its gradients are the ops
    ``ConvInput`` and ``ConvWeight``, each differentiable again."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
           stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0,
           dilation: int | tuple[int, int] = 1, groups: int = 1) -> Tensor:
    """2-D convolution, as ``torch.nn.functional.conv2d``: ``conv1d`` over (H, W)::

        y[n, o, h, w] = bias[o] + Σ_c Σ_i Σ_j weight[o, c, i, j]
                        · x[n, g·C/G + c, h·stride_h + i·dilation_h, w·stride_w + j·dilation_w]

    ``input`` (N, C, H, W) or (C, H, W), ``weight`` (O, C/G, kH, kW); ``stride``, ``padding``
    and ``dilation`` an int or an (H, W) pair, ``padding`` also "same" or "valid". Computed as
    ``conv1d``: the kH·kW taps of every window gathered, then one batched matmul."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
           stride: int | tuple[int, int, int] = 1,
           padding: int | tuple[int, int, int] | str = 0,
           dilation: int | tuple[int, int, int] = 1, groups: int = 1) -> Tensor:
    """3-D convolution, as ``torch.nn.functional.conv3d``: ``conv1d`` over (D, H, W), ``input``
    (N, C, D, H, W) or (C, D, H, W), ``weight`` (O, C/G, kD, kH, kW); ``stride``, ``padding``
    and ``dilation`` an int or a (D, H, W) triple, ``padding`` also "same" or "valid"."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(where_: str, d: int, input: Tensor, weight: Tensor,  # noqa: A002
                    bias: Tensor | None, stride: Any, padding: Any, output_padding: Any,
                    groups: Any, dilation: Any) -> Tensor:
    """``conv_transpose1d/2d/3d``: the gradient of the d-dimensional convolution."""
    x, unbatched = _batched(where_, input, d)
    _check_tensors_of(where_, x, weight=weight, bias=bias)
    stride = _ints(where_, "stride", stride, d, 1)
    pads = _ints(where_, "padding", padding, d, 0)
    extra = _ints(where_, "output_padding", output_padding, d, 0)
    dilation = _ints(where_, "dilation", dilation, d, 1)
    groups = _one_int(where_, "groups", groups, 1)
    k = _check_weight(where_, weight, d, "in_channels, out_channels / groups")
    c, (ci, og) = x.shape[1], weight.shape[:2]
    if c != ci or c % groups:
        raise ValueError(f"{where_}: weight of shape {weight.shape} with groups={groups} "
                         f"expects {ci} input channels, divisible by {groups}; the input, of "
                         f"shape {input.shape}, has {c}")
    o = og * groups
    if bias is not None and bias.shape != (o,):
        raise ValueError(f"{where_}: bias must have shape ({o},), one per output channel, got "
                         f"{bias.shape}")
    if any(e >= max(s, dl) for e, s, dl in zip(extra, stride, dilation)):
        raise ValueError(f"{where_}: output_padding must be smaller than stride or dilation, "
                         f"got output_padding={_shown(extra)}, stride={_shown(stride)}, "
                         f"dilation={_shown(dilation)}")
    size = x.shape[2:]
    full = tuple((m - 1) * s + dl * (kk - 1) + 1 + e
                 for m, s, dl, kk, e in zip(size, stride, dilation, k, extra))
    if any(f - 2 * p < 1 for f, p in zip(full, pads)):
        out = tuple(f - 2 * p for f, p in zip(full, pads))
        raise ValueError(f"{where_}: an input of shape {input.shape} gives an output of size "
                         f"{_shown(out)}, too small (padding={_shown(pads)} crops "
                         f"{_shown(full)})")
    geo = Geometry(k, stride, dilation, tuple((p, p) for p in pads), groups)
    y = ConvInput.apply(x, weight, geo=geo, size=tuple(f - 2 * p for f, p in zip(full, pads)))
    if bias is not None:
        y = y + bias.reshape(o, *(1,) * d)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride: int = 1, padding: int = 0, output_padding: int = 0,
                     groups: int = 1, dilation: int = 1) -> Tensor:
    """Transposed 1-D convolution, as ``torch.nn.functional.conv_transpose1d``: the gradient
    of ``conv1d`` with respect to its input, for the same stride, padding, dilation and
    groups, the weight (C, O/G, k) read as a conv1d weight from O to C channels::

        y[n, g·O/G + o, l·stride - padding + j·dilation] += weight[c, o, j] · x[n, c, l]

    summed over c of group g, l and j, plus ``bias[o]``. The result (N, O, L_out), L_out =
    (L - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1: ``output_padding``
    (smaller than stride or dilation) adds positions at the end, which conv1d would drop.
    Computed by the op ``ConvInput`` (``ops/conv.py``), conv1d's input gradient, as col2im:
    one batched matmul gives every window's taps, which a loop over the k taps adds back in
    place."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                     output_padding: int | tuple[int, int] = 0, groups: int = 1,
                     dilation: int | tuple[int, int] = 1) -> Tensor:
    """Transposed 2-D convolution, as ``torch.nn.functional.conv_transpose2d``:
    ``conv_transpose1d`` over (H, W), the weight (C, O/G, kH, kW), each option an int or an
    (H, W) pair."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """Transposed 3-D convolution, as ``torch.nn.functional.conv_transpose3d``:
    ``conv_transpose1d`` over (D, H, W), the weight (C, O/G, kD, kH, kW)."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def unfold(input: Tensor, kernel_size: int | tuple[int, int],  # noqa: A002
           dilation: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
           stride: int | tuple[int, int] = 1) -> Tensor:
    """The sliding blocks of an image as columns (im2col), as
    ``torch.nn.functional.unfold``: (N, C, H, W) or (C, H, W) gives (N, C·kH·kW, L), L the
    number of blocks (row-major), column l holding block l's elements, channel-major, then
    row-major within the block. x is zero-padded by ``padding`` first. Each option an int or
    an (H, W) pair. (``Tensor.unfold`` is the other one: windows along one axis.)"""
    x, unbatched = _batched("unfold", input, 2)
    k = _ints("unfold", "kernel_size", kernel_size, 2, 1)
    dilation = _ints("unfold", "dilation", dilation, 2, 1)
    pads = _ints("unfold", "padding", padding, 2, 0)
    stride = _ints("unfold", "stride", stride, 2, 1)
    n_out = _windows("unfold", x.shape[2:], k, stride, dilation, False, pads)
    if any(pads):
        x = pad(x, _pad_arg([(p, p) for p in pads]))
    n, c = x.shape[:2]
    y = _taps(x, k, stride, dilation, n_out).reshape(n, c * math.prod(k), math.prod(n_out))
    return y.squeeze(0) if unbatched else y


def fold(input: Tensor, output_size: int | tuple[int, int],  # noqa: A002
         kernel_size: int | tuple[int, int], dilation: int | tuple[int, int] = 1,
         padding: int | tuple[int, int] = 0, stride: int | tuple[int, int] = 1) -> Tensor:
    """Columns back into an image (col2im), as ``torch.nn.functional.fold``: ``unfold``'s
    transpose, (N, C·kH·kW, L) or (C·kH·kW, L) to (N, C, *output_size), each element of a
    block added at its place (overlapping blocks add up), then the padding cut off."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fold: input must be a Tensor, got {type(input).__name__}")
    size = _ints("fold", "output_size", output_size, 2, 1)
    k = _ints("fold", "kernel_size", kernel_size, 2, 1)
    dilation = _ints("fold", "dilation", dilation, 2, 1)
    pads = _ints("fold", "padding", padding, 2, 0)
    stride = _ints("fold", "stride", stride, 2, 1)
    if input.ndim not in (2, 3):
        raise ValueError(f"fold: expected a 2-D (C·kH·kW, L) or 3-D (N, C·kH·kW, L) input, got "
                         f"shape {input.shape}")
    x, unbatched = (input.unsqueeze(0), True) if input.ndim == 2 else (input, False)
    n, ck, length = x.shape
    taps = math.prod(k)
    n_out = _windows("fold", size, k, stride, dilation, False, pads)
    if ck % taps or length != math.prod(n_out):
        raise ValueError(f"fold: an input of shape {input.shape} does not fit output_size="
                         f"{size}, kernel_size={k}, dilation={dilation}, padding={pads}, "
                         f"stride={stride}: expected C·{k[0]}·{k[1]} rows and "
                         f"{n_out[0]}·{n_out[1]} = {math.prod(n_out)} blocks")
    full = tuple(m + 2 * p for m, p in zip(size, pads))
    y = _untaps(x.reshape(n, ck // taps, taps, *n_out), full, k, stride, dilation)
    if any(pads):
        y = y[(slice(None), slice(None), *(slice(p, p + m) for p, m in zip(pads, size)))]
    return y.squeeze(0) if unbatched else y


def _pool_args(where_: str, d: int, kernel_size: Any, stride: Any, padding: Any,
               dilation: Any = 1) -> tuple[tuple[int, ...], ...]:
    """(kernel_size, stride, padding, dilation) as d-tuples; ``stride`` None (or empty) is
    ``kernel_size``, as PyTorch's."""
    ints = _one_tuple if d == 1 else _ints
    k = ints(where_, "kernel_size", kernel_size, d, 1)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else \
        ints(where_, "stride", stride, d, 1)
    p = ints(where_, "padding", padding, d, 0)
    if any(pp > kk // 2 for pp, kk in zip(p, k)):
        raise ValueError(f"{where_}: padding should be at most half the kernel size, got "
                         f"padding={_shown(p)} for kernel_size={_shown(k)}")
    return k, s, p, ints(where_, "dilation", dilation, d, 1)


def _one_tuple(where_: str, name: str, v: Any, d: int, least: int) -> tuple[int]:
    """``_one_int`` as a 1-tuple (the 1-D names keep its message)."""
    return (_one_int(where_, name, v, least),)


def _max_pool(where_: str, d: int, input: Tensor, kernel_size: Any,  # noqa: A002
              stride: Any, padding: Any, dilation: Any, ceil_mode: bool,
              return_indices: bool) -> Any:
    """``max_pool1d/2d/3d``."""
    x, unbatched = _batched(where_, input, d)
    k, s, p, dl = _pool_args(where_, d, kernel_size, stride, padding, dilation)
    if x.dtype.kind != "f":
        raise DTypeError(f"{where_}: expected a floating-point input, got {x.dtype}")
    size = x.shape[2:]
    n_out = _windows(where_, size, k, s, dl, ceil_mode, p)
    right = [max((m - 1) * ss + dd * (kk - 1) + 1 - n - pp, 0)
             for m, ss, dd, kk, n, pp in zip(n_out, s, dl, k, size, p)]
    if any(p) or any(right):
        x = pad(x, _pad_arg(list(zip(p, right))), value=-np.inf)
    y = WindowMax.apply(x, k=k, stride=s, dilation=dl, n_out=n_out)
    if not return_indices:
        return y.squeeze(0) if unbatched else y
    xp = x._dev.xp
    flat, rest = 0, window_argmax(x._data, y._data, k, s, dl)
    for i in reversed(range(d)):  # the window's start plus its tap, on each axis, row-major
        shape = [1] * d
        shape[i] = n_out[i]
        pos = xp.arange(n_out[i]).reshape(shape) * s[i] - p[i] + (rest % k[i]) * dl[i]
        flat, rest = flat + pos * math.prod(size[i + 1:]), rest // k[i]
    idx = Tensor._wrap(flat.astype(np.int64), x._dev)
    return (y.squeeze(0), idx.squeeze(0)) if unbatched else (y, idx)


def max_pool1d(input: Tensor, kernel_size: int, stride: int | None = None,  # noqa: A002
               padding: int = 0, dilation: int = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """The largest element of each window, as ``torch.nn.functional.max_pool1d``:
    ``y[n, c, l] = max_j x[n, c, l·stride - padding + j·dilation]`` over the positions inside
    the input (padding counts as -inf). ``stride`` defaults to ``kernel_size``;
    ``ceil_mode`` keeps a last partial window. With ``return_indices`` also the position of
    each maximum in the input (int64), which ``max_unpool1d`` would take.

    The gradient of a window goes to its maximum only (the first, where several tie), as
    PyTorch's: ``WindowMax`` takes the maximum over the taps as strided views of the input,
    and its backward sends each window's gradient to the first tap equal to it (a NaN counts
    as the largest). A dilated window can
    hold padding only: its maximum is -inf, its index the padding position of its first tap,
    and it sends no gradient (PyTorch's index and gradient there point at an element outside
    the window)."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """``max_pool1d`` over (H, W), as ``torch.nn.functional.max_pool2d``: each option an int
    or an (H, W) pair; the taps of a window in row-major order (the first maximum gets the
    gradient); indices flat over (H, W), ``h·W + w``, as PyTorch's."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Any:
    """``max_pool2d`` over (D, H, W), as ``torch.nn.functional.max_pool3d``; indices flat over
    (D, H, W)."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def _avg_pool(where_: str, d: int, input: Tensor, kernel_size: Any,  # noqa: A002
              stride: Any, padding: Any, ceil_mode: bool, count_include_pad: bool,
              divisor_override: int | None) -> Tensor:
    """``avg_pool1d/2d/3d``."""
    x, unbatched = _batched(where_, input, d)
    k, s, p, _ = _pool_args(where_, d, kernel_size, stride, padding)
    if divisor_override is not None and (
            isinstance(divisor_override, bool) or not isinstance(divisor_override, int)
            or divisor_override == 0):
        raise ValueError(f"{where_}: divisor_override must be a nonzero int, got "
                         f"{divisor_override!r}")
    size = x.shape[2:]
    n_out = _windows(where_, size, k, s, (1,) * d, ceil_mode, p)
    right = [max((m - 1) * ss + kk - n - pp, 0) for m, ss, kk, n, pp in zip(n_out, s, k, size, p)]
    count = np.ones(())
    for m, ss, kk, n, pp in zip(n_out, s, k, size, p):  # a window's size, axis by axis
        start = np.arange(m) * ss - pp
        end = np.minimum(start + kk, n + pp)
        count = np.multiply.outer(count, end - start if count_include_pad else
                                  np.minimum(end, n) - np.maximum(start, 0))
    if divisor_override is not None:
        count = np.full(count.shape, divisor_override)
    if any(p) or any(right):
        x = pad(x, _pad_arg(list(zip(p, right))))
    if (count == count.flat[0]).all():  # one size for all: a scalar, one fast pass
        div: Any = Tensor._wrap(x._dev.to_device(np.array(count.flat[0], x.dtype)), x._dev)
    else:
        div = Tensor._wrap(x._dev.to_device(count.astype(x.dtype)), x._dev)
    y = WindowSum.apply(x, k=k, stride=s, dilation=(1,) * d, n_out=n_out) / div
    return y.squeeze(0) if unbatched else y


def avg_pool1d(input: Tensor, kernel_size: int, stride: int | None = None,  # noqa: A002
               padding: int = 0, ceil_mode: bool = False, count_include_pad: bool = True
               ) -> Tensor:
    """The mean of each window, as ``torch.nn.functional.avg_pool1d``: the sum of the
    elements of window l (zero padding adds 0) over its size, counted as PyTorch counts it:
    the positions of the window inside the padded input (``count_include_pad``) or inside the
    input (without it); a ``ceil_mode`` window past the padding counts only what it holds."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each window, as ``torch.nn.functional.avg_pool2d``: ``avg_pool1d`` over
    (H, W), a window's size the product of its sizes along H and W (each counted as there),
    or ``divisor_override`` where given."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each window, as ``torch.nn.functional.avg_pool3d``: ``avg_pool2d`` over
    (D, H, W)."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def _adaptive_windows(length: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive windows: window i covers [floor(i·L/size), ceil((i+1)·L/size))."""
    i = np.arange(size)
    return (i * length) // size, -(-((i + 1) * length) // size)


def _adaptive_sizes(where_: str, d: int, input: Tensor, output_size: Any  # noqa: A002
                    ) -> tuple[Tensor, bool, tuple[int, ...]]:
    """(x as (N, C, *spatial), unbatched, the output's spatial sizes). ``output_size`` is an
    int or d of them, None keeping that axis's size, as PyTorch's."""
    x, unbatched = _batched(where_, input, d)
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * d
    if len(sizes) == d:
        sizes = tuple(n if v is None else v for v, n in zip(sizes, x.shape[2:]))
    sizes = (_one_tuple if d == 1 else _ints)(where_, "output_size", sizes, d, 1)
    if 0 in x.shape[2:]:
        raise ValueError(f"{where_}: the input, of shape {input.shape}, has no positions")
    return x, unbatched, tuple(sizes)


def _adaptive_windows_of(x: Tensor, sizes: tuple[int, ...]
                         ) -> tuple[Any, list[np.ndarray], tuple[int, ...]]:
    """(x's values in windows, an array (N, C, *sizes, W) with W = w1·w2·... for the widest
    wi along each axis, each window padded by repeating its last element on each axis; each
    axis's window starts; the widths). Where every length is a multiple of its size the
    windows tile the input exactly: a reshape, no gather."""
    d, spatial, data = len(sizes), tuple(x.shape[2:]), x._data
    n, c = x.shape[:2]
    if all(length % size == 0 for length, size in zip(spatial, sizes)):
        widths = tuple(length // size for length, size in zip(spatial, sizes))
        split = data.reshape(n, c, *[v for pair in zip(sizes, widths) for v in pair])
        win = split.transpose(0, 1, *range(2, 2 + 2 * d, 2), *range(3, 3 + 2 * d, 2))
        return (win.reshape(n, c, *sizes, -1),
                [np.arange(size) * w for size, w in zip(sizes, widths)], widths)
    index: list[Any] = [slice(None), slice(None)]
    starts, widths_ = [], []
    for i, (length, size) in enumerate(zip(spatial, sizes)):
        start, end = _adaptive_windows(length, size)
        w = int((end - start).max())
        at = start[:, None] + np.arange(w)
        shape = [1] * (2 * d)
        shape[i], shape[d + i] = size, w
        index.append(x._dev.to_device(np.minimum(at, end[:, None] - 1).reshape(shape)))
        starts.append(start)
        widths_.append(w)
    return data[tuple(index)].reshape(n, c, *sizes, -1), starts, tuple(widths_)


def _adaptive_avg_pool(where_: str, d: int, input: Tensor, output_size: Any  # noqa: A002
                       ) -> Tensor:
    """Adaptive average pooling is separable: the mean over a window (i along H, j along W)
    is the mean along W of the means along H, so each axis is one matmul with an (L, size)
    matrix holding 1/width in window i's rows of column i (``_adaptive_windows``)."""
    x, unbatched, sizes = _adaptive_sizes(where_, d, input, output_size)
    for axis, size in zip(range(2, 2 + d), sizes):
        length = x.shape[axis]
        if length == size:  # windows of one element: this axis is kept as it is
            continue
        if size == 1:  # one window: the mean along the axis (global pooling)
            x = x.mean(axis, keepdims=True)
            continue
        start, end = _adaptive_windows(length, size)
        at = np.arange(length)[:, None]
        inside = (at >= start) & (at < end)
        mean = Tensor._wrap(x._dev.to_device((inside / (end - start)).astype(x.dtype)), x._dev)
        if axis == x.ndim - 1:
            x = x @ mean
        elif axis == x.ndim - 2:  # (the matrix broadcasts over the leading axes)
            x = mean.mT @ x
        else:
            x = (x.movedim(axis, -1) @ mean).movedim(-1, axis)
    return x.squeeze(0) if unbatched else x


def _adaptive_max_pool(where_: str, d: int, input: Tensor, output_size: Any,  # noqa: A002
                       return_indices: bool) -> Any:
    """The first maximum of each window: its place found among the window's values (no
    graph), then taken from x by one ``gather`` (whose gradient goes to that place only)."""
    x, unbatched, sizes = _adaptive_sizes(where_, d, input, output_size)
    win, starts, widths = _adaptive_windows_of(x, sizes)
    at = x._dev.xp.argmax(win, axis=-1)  # a repeat comes after the real element it repeats
    flat, rest, size = 0, at, x.shape[2:]
    for i in reversed(range(d)):  # the window's position, row-major over (W1, W2, ...), to x's
        shape = [1] * d
        shape[i] = len(starts[i])
        pos = x._dev.to_device(starts[i].reshape(shape)) + rest % widths[i]
        flat, rest = flat + pos * math.prod(size[i + 1:]), rest // widths[i]
    idx = Tensor._wrap(flat.astype(np.int64), x._dev)
    n, c = x.shape[:2]
    y = x.reshape(n, c, -1).gather(-1, idx.reshape(n, c, -1)).reshape(n, c, *sizes)
    if not return_indices:
        return y.squeeze(0) if unbatched else y
    return (y.squeeze(0), idx.squeeze(0)) if unbatched else (y, idx)


def adaptive_avg_pool1d(input: Tensor, output_size: int) -> Tensor:  # noqa: A002
    """The mean of each of ``output_size`` windows that tile the last axis, as
    ``torch.nn.functional.adaptive_avg_pool1d``: window i covers positions
    floor(i·L/size) ... ceil((i+1)·L/size) - 1 (neighbours may share one)."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """The mean of each of the (H_out, W_out) windows that tile (H, W), as
    ``torch.nn.functional.adaptive_avg_pool2d``: window (i, j) covers
    ``adaptive_avg_pool1d``'s window i along H and window j along W. ``output_size`` is an
    int or a pair, None keeping that axis's size."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """``adaptive_avg_pool2d`` over (D, H, W), as
    ``torch.nn.functional.adaptive_avg_pool3d``."""
    return _adaptive_avg_pool("adaptive_avg_pool3d", 3, input, output_size)


def adaptive_max_pool1d(input: Tensor, output_size: int,  # noqa: A002
                        return_indices: bool = False) -> Any:
    """The largest element of each of ``output_size`` windows (``adaptive_avg_pool1d``'s), as
    ``torch.nn.functional.adaptive_max_pool1d``; the gradient goes to the first maximum. With
    ``return_indices`` also each maximum's position in the input (int64)."""
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: bool = False) -> Any:
    """The largest element of each of ``adaptive_avg_pool2d``'s windows, as
    ``torch.nn.functional.adaptive_max_pool2d``; the gradient goes to the first maximum in
    row-major order. With ``return_indices`` also each maximum's position, flat over (H, W)
    (int64)."""
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: bool = False) -> Any:
    """``adaptive_max_pool2d`` over (D, H, W), as ``torch.nn.functional.adaptive_max_pool3d``;
    indices flat over (D, H, W)."""
    return _adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size, return_indices)


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``max_pool1d`` with its indices, always: (output, indices), as PyTorch's
    (``return_indices`` is taken and changes nothing)."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                     ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``max_pool2d`` with its indices, always: (output, indices), as PyTorch's."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                     ceil_mode, True)


def max_pool3d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``max_pool3d`` with its indices, always: (output, indices), as PyTorch's."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation,
                     ceil_mode, True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any,  # noqa: A002
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool1d`` with its indices, always: (output, indices), as PyTorch's."""
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any,  # noqa: A002
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool2d`` with its indices, always: (output, indices), as PyTorch's."""
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size: Any,  # noqa: A002
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool3d`` with its indices, always: (output, indices), as PyTorch's."""
    return _adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size, True)


def _fractional_starts(u: np.ndarray, length: int, n_out: int, k: int) -> np.ndarray:
    """Where each of the ``n_out`` windows of size k starts along an axis of ``length``, for
    each sample u in [0, 1) (an array, in the input's dtype): PyTorch's sequence,
    ``start_i = int((i + u)·α) - int(u·α)`` with ``α = (length - k) / (n_out - 1)``, the last
    window at ``length - k``. It is computed in u's dtype, as PyTorch's kernel computes it, so
    that the same samples give the same windows."""
    starts = np.empty((*u.shape, n_out), dtype=np.int64)
    if n_out > 1:
        alpha = u.dtype.type(length - k) / u.dtype.type(n_out - 1)
        i = np.arange(n_out - 1, dtype=u.dtype)
        starts[..., :-1] = (((i + u[..., None]) * alpha).astype(np.int64)
                            - (u * alpha).astype(np.int64)[..., None])
    if n_out:
        starts[..., -1] = length - k
    return starts


def _fractional_max_pool(where_: str, d: int, input: Tensor, kernel_size: Any,  # noqa: A002
                         output_size: Any, output_ratio: Any, return_indices: bool,
                         samples: Tensor | None) -> Any:
    """``fractional_max_pool2d/3d``: the windows' flat positions from the samples, the first
    maximum of each (the last NaN, where it holds one, as PyTorch's kernel), and a ``gather``
    of the input there (its gradient adds each window's gradient at its maximum)."""
    x, unbatched = _batched(where_, input, d)
    if x.dtype.kind != "f":
        raise DTypeError(f"{where_}: expected a floating-point input, got {x.dtype}")
    k = _ints(where_, "kernel_size", kernel_size, d, 1)
    N, C, size = x.shape[0], x.shape[1], x.shape[2:]
    if output_size is None and output_ratio is None:
        raise ValueError(f"{where_}: give either output_size or output_ratio")
    if output_size is None:
        ratio = output_ratio if isinstance(output_ratio, (tuple, list)) else (output_ratio,) * d
        if len(ratio) != d or not all(isinstance(r, numbers.Real) for r in ratio):
            raise ValueError(f"{where_}: output_ratio must be a number or {d} of them, got "
                             f"{output_ratio!r}")
        output_size = tuple(int(n * r) for n, r in zip(size, ratio))
    n_out = _ints(where_, "output_size", output_size, d, 0)
    for name, n, kk, m in zip(_SPATIAL[d], size, k, n_out):
        # PyTorch's 3-D kernel asks for one position more than its 2-D one
        if m + kk - 1 + (d == 3) > n:
            raise ValueError(f"{where_}: output_size {m} and kernel_size {kk} along {name} "
                             f"need {m + kk - 1 + (d == 3)} positions (output_size + "
                             f"kernel_size{')' if d == 3 else ' - 1)'}, the input has {n}")
    if samples is None:
        u = _random.generator().random((N, C, d)).astype(x.dtype)
    else:
        if not isinstance(samples, Tensor):
            raise TypeError(f"{where_}: _random_samples must be a Tensor, got "
                            f"{type(samples).__name__}")
        if samples.dtype != x.dtype:
            raise DTypeError(f"{where_}: _random_samples dtype {samples.dtype} does not match "
                             f"the input's dtype {x.dtype}")
        if samples.ndim != 3 or samples.shape[0] < N or samples.shape[1:] != (C, d):
            raise ValueError(f"{where_}: _random_samples must be (N, C, {d}) = ({N}, {C}, {d}) "
                             f"(one sample per plane and axis), got {samples.shape}")
        u = np.asarray(samples._dev.to_host(samples._data[:N]))
        if not ((u >= 0) & (u < 1)).all():
            raise ValueError(f"{where_}: _random_samples must lie in [0, 1)")
    # the flat position of each window's taps, (N, C, *n_out, *k): per axis, the window's
    # start plus the tap, times the axis's stride in the flattened plane
    pos: Any = 0
    for i in range(d):
        # PyTorch's samples run over (W, H) for 2-D and (T, H, W) for 3-D
        axis_u = u[..., 1 - i] if d == 2 else u[..., i]
        shape = [N, C] + [1] * (2 * d)
        shape[2 + i] = n_out[i]
        starts = _fractional_starts(axis_u, size[i], n_out[i], k[i]).reshape(shape)
        tap = [1] * (2 + 2 * d)
        tap[2 + d + i] = k[i]
        pos = pos + (starts + np.arange(k[i]).reshape(tap)) * math.prod(size[i + 1:])
    windows, K = math.prod(n_out), math.prod(k)
    pos = x._dev.to_device(pos.reshape(N, C, windows, K))
    xp = x._dev.xp
    taps = xp.take_along_axis(x._data.reshape(N, C, 1, math.prod(size)), pos, -1)
    at = xp.argmax(taps, -1)
    if bool(xp.isnan(x._data).any()):  # a window with a NaN picks its last one
        nan = xp.isnan(taps)
        at = xp.where(nan.any(-1), K - 1 - xp.argmax(nan[..., ::-1], -1), at)
    flat = xp.take_along_axis(pos, at[..., None], -1)[..., 0]  # (N, C, windows)
    idx = Tensor._wrap(flat, x._dev)
    y = x.reshape(N, C, math.prod(size)).gather(-1, idx).reshape(N, C, *n_out)
    if not return_indices:
        return y.squeeze(0) if unbatched else y
    idx = idx.reshape(N, C, *n_out)
    return (y.squeeze(0), idx.squeeze(0)) if unbatched else (y, idx)


def fractional_max_pool2d(input: Tensor, kernel_size: Any, output_size: Any = None,  # noqa: A002
                          output_ratio: Any = None, return_indices: bool = False,
                          _random_samples: Tensor | None = None) -> Any:
    """Max pooling over (H, W) with pseudo-random strides, as
    ``torch.nn.functional.fractional_max_pool2d`` (Graham, "Fractional Max-Pooling"): the
    output is ``output_size`` (or ``int(size · output_ratio)``), each element the largest of a
    ``kernel_size`` window whose start along each axis is
    ``int((i + u)·α) - int(u·α)``, ``α = (size - k) / (output - 1)``, the last window
    flush with the end. ``u`` is one sample in [0, 1) per (batch, channel, axis):
    ``_random_samples`` (N, C, 2) holds them, the W axis's first, as PyTorch's; without it
    they are drawn from the global generator. With ``return_indices`` also each maximum's
    position, flat over (H, W) (int64).

    The gradient of each output goes to its window's maximum (the first of a tie; a window
    holding a NaN picks its last NaN, as PyTorch's CPU kernel)."""
    return _fractional_max_pool("fractional_max_pool2d", 2, input, kernel_size, output_size,
                                output_ratio, return_indices, _random_samples)


def fractional_max_pool3d(input: Tensor, kernel_size: Any, output_size: Any = None,  # noqa: A002
                          output_ratio: Any = None, return_indices: bool = False,
                          _random_samples: Tensor | None = None) -> Any:
    """``fractional_max_pool2d`` over (T, H, W), as
    ``torch.nn.functional.fractional_max_pool3d``: ``_random_samples`` is (N, C, 3), in
    (T, H, W) order; indices flat over (T, H, W). As PyTorch's, each axis needs at least
    output + kernel positions (the 2-D pool, output + kernel - 1)."""
    return _fractional_max_pool("fractional_max_pool3d", 3, input, kernel_size, output_size,
                                output_ratio, return_indices, _random_samples)


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size: Any,  # noqa: A002
                                       output_size: Any = None, output_ratio: Any = None,
                                       return_indices: bool = False,
                                       _random_samples: Tensor | None = None
                                       ) -> tuple[Tensor, Tensor]:
    """``fractional_max_pool2d`` with its indices, always: (output, indices), as PyTorch's."""
    return _fractional_max_pool("fractional_max_pool2d", 2, input, kernel_size, output_size,
                                output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size: Any,  # noqa: A002
                                       output_size: Any = None, output_ratio: Any = None,
                                       return_indices: bool = False,
                                       _random_samples: Tensor | None = None
                                       ) -> tuple[Tensor, Tensor]:
    """``fractional_max_pool3d`` with its indices, always: (output, indices), as PyTorch's."""
    return _fractional_max_pool("fractional_max_pool3d", 3, input, kernel_size, output_size,
                                output_ratio, True, _random_samples)


def _unpool_size(where_: str, x: Tensor, k: tuple[int, ...], s: tuple[int, ...],
                 p: tuple[int, ...], output_size: Any) -> tuple[int, ...]:
    """The spatial size of ``max_unpool``'s output: (L - 1)·stride + kernel_size -
    2·padding along each axis, or ``output_size`` (d sizes, or d + 2 with (N, C) first),
    each within stride of that, as PyTorch's ``_unpool_output_size``."""
    d = len(k)
    default = [(n - 1) * ss + kk - 2 * pp for n, kk, ss, pp in zip(x.shape[2:], k, s, p)]
    if output_size is None:
        out = default
    else:
        given = [int(v) for v in (output_size if isinstance(output_size, (tuple, list))
                                  else (output_size,))]
        if len(given) == d + 2:
            given = given[2:]
        if len(given) != d:
            raise ValueError(f"{where_}: output_size should hold {d} or {d + 2} sizes, got "
                             f"{output_size!r}")
        for a, (v, m, ss) in enumerate(zip(given, default, s)):
            if not m - ss < v < m + ss:
                raise ValueError(f"{where_}: invalid output_size {tuple(given)} (axis {a} must "
                                 f"be between {m - ss} and {m + ss}, both excluded)")
        out = given
    if any(v < 0 for v in out):
        raise ValueError(f"{where_}: the output size {tuple(out)} has a negative axis")
    return tuple(out)


def _max_unpool(where_: str, d: int, input: Tensor, indices: Any, kernel_size: Any,  # noqa: A002
                stride: Any, padding: Any, output_size: Any) -> Tensor:
    """``max_unpool1d/2d/3d``."""
    x, unbatched = _batched(where_, input, d)
    k = _ints(where_, "kernel_size", kernel_size, d, 1)
    s = k if stride is None else _ints(where_, "stride", stride, d, 1)
    p = _ints(where_, "padding", padding, d, 0)
    _same_device(where_, "indices", indices, "input", input)
    idx = indices if isinstance(indices, Tensor) else _as_tensor_on(indices, input)
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"{where_}: indices must be integers (max_pool's), got {idx.dtype}")
    if idx.shape != input.shape:
        raise ValueError(f"{where_}: indices of shape {idx.shape} for an input of shape "
                         f"{input.shape}: they must have the input's shape")
    out = _unpool_size(where_, x, k, s, p, output_size)
    n, c = x.shape[:2]
    size = math.prod(out)
    xp = x._dev.xp
    flat = idx._data.reshape(n, c, -1)
    if flat.size and bool(((flat < 0) | (flat >= size)).any()):
        raise ValueError(f"{where_}: an index is out of range for an output of spatial size "
                         f"{out} ({size} positions)")
    at = (xp.arange(n * c).reshape(n, c, 1) * size + flat).reshape(-1)
    # an output position named twice takes the last value (PyTorch's CPU kernel writes them
    # in order): a stable sort by position keeps the input order within a run; keep its last
    order = xp.argsort(at, kind="stable")
    ranked = at[order]
    last = xp.concatenate([ranked[1:] != ranked[:-1], xp.ones(min(at.size, 1), dtype=bool)])
    kept = order[last]
    values = GetItem.apply(x.reshape(-1), index=kept, in_range=True)
    y = IndexScatter.apply(values, index=(at[kept],), shape=(n * c * size,))
    y = y.reshape(n, c, *out)
    return y.squeeze(0) if unbatched else y


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any,  # noqa: A002
                 stride: Any = None, padding: Any = 0, output_size: Any = None) -> Tensor:
    """``max_pool1d`` partly undone, as ``torch.nn.functional.max_unpool1d``: zeros of
    length ``output_size`` (by default (L - 1)·stride + kernel_size - 2·padding), with each
    element of ``input`` (N, C, L) or (C, L) put at its position in ``indices`` (what
    ``max_pool1d(..., return_indices=True)`` gave). A position named twice (overlapping
    windows) takes the last element, as PyTorch's CPU kernel, and only that one gets a
    gradient (PyTorch gives each of them one). ``stride`` defaults to ``kernel_size``."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any,  # noqa: A002
                 stride: Any = None, padding: Any = 0, output_size: Any = None) -> Tensor:
    """``max_unpool1d`` over (H, W), as ``torch.nn.functional.max_unpool2d``: indices flat
    over (H_out, W_out), as ``max_pool2d`` gives them."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any,  # noqa: A002
                 stride: Any = None, padding: Any = 0, output_size: Any = None) -> Tensor:
    """``max_unpool1d`` over (D, H, W), as ``torch.nn.functional.max_unpool3d``."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)


def _lp_pool(where_: str, d: int, input: Tensor, norm_type: float,  # noqa: A002
             kernel_size: Any, stride: Any, ceil_mode: bool) -> Tensor:
    """``lp_pool1d/2d/3d``."""
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real) \
            or norm_type == 0:
        raise ValueError(f"{where_}: norm_type must be a nonzero number, got {norm_type!r}")
    if norm_type == math.inf:
        return _max_pool(where_, d, input.abs(), kernel_size, stride, 0, 1, ceil_mode, False)
    if norm_type == -math.inf:
        return -_max_pool(where_, d, -input.abs(), kernel_size, stride, 0, 1, ceil_mode,
                          False)
    _batched(where_, input, d)  # its error first
    k = _pool_args(where_, d, kernel_size, stride, 0)[0]
    with np.errstate(divide="ignore", invalid="ignore"):  # NaN where PyTorch's is NaN
        out = _avg_pool(where_, d, input ** norm_type, kernel_size, stride, 0, ceil_mode,
                        True, None)
        return (out.sign() * out.abs().relu() * math.prod(k))._pow_or_zero(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int,  # noqa: A002
              stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """The p-norm of each window, as ``torch.nn.functional.lp_pool1d``:
    (Σ_window x^p)^(1/p) with p = ``norm_type`` (``avg_pool1d`` of x^p times the window's
    size, no padding; a window whose sum is 0 gives 0 and gradient 0, as PyTorch's;
    negative sums give NaN, as there). p = inf is the largest |x|, -inf the smallest.
    ``stride`` defaults to ``kernel_size``."""
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any,  # noqa: A002
              stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """``lp_pool1d`` over (H, W), as ``torch.nn.functional.lp_pool2d``."""
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any,  # noqa: A002
              stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """``lp_pool1d`` over (D, H, W), as ``torch.nn.functional.lp_pool3d``."""
    return _lp_pool("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode)


# ---- rearranging channels: pixel_shuffle, pixel_unshuffle, channel_shuffle -------------------


def _factor(where_: str, name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{where_}: {name} must be a positive int, got {v!r}")
    return int(v)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C·r², H, W) to (*, C, H·r, W·r), r = ``upscale_factor``, as
    ``torch.nn.functional.pixel_shuffle`` (sub-pixel convolution, Shi et al., 2016):
    ``out[..., c, h·r + i, w·r + j] = input[..., c·r² + i·r + j, h, w]``. A reshape and a
    permutation."""
    r = _factor("pixel_shuffle", "upscale_factor", upscale_factor)
    _check_tensors("pixel_shuffle", input=input)
    if input.ndim < 3:
        raise ValueError(f"pixel_shuffle: expected an input of at least 3 axes (*, C, H, W), "
                         f"got shape {input.shape}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ValueError(f"pixel_shuffle: the channels ({c}, axis -3 of shape {input.shape}) "
                         f"must be divisible by upscale_factor² = {r * r}")
    b = len(lead)
    y = input.reshape(*lead, c // (r * r), r, r, h, w)
    return y.permute(*range(b), b, b + 3, b + 1, b + 4, b + 2).reshape(
        *lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C, H·r, W·r) to (*, C·r², H, W), ``pixel_shuffle`` undone, as
    ``torch.nn.functional.pixel_unshuffle``."""
    r = _factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    _check_tensors("pixel_unshuffle", input=input)
    if input.ndim < 3:
        raise ValueError(f"pixel_unshuffle: expected an input of at least 3 axes (*, C, H, W), "
                         f"got shape {input.shape}")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise ValueError(f"pixel_unshuffle: the height and width ({h}, {w}) of the input of "
                         f"shape {input.shape} must be divisible by downscale_factor {r}")
    b = len(lead)
    y = input.reshape(*lead, c, h // r, r, w // r, r)
    return y.permute(*range(b), b, b + 2, b + 4, b + 1, b + 3).reshape(
        *lead, c * r * r, h // r, w // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:  # noqa: A002
    """The channels of (N, C, *) in ``groups`` groups, interleaved (ShuffleNet, Zhang et al.,
    2018), as ``torch.nn.functional.channel_shuffle``: output channel i·G + g is input
    channel g·(C/G) + i. A reshape and a transpose."""
    g = _factor("channel_shuffle", "groups", groups)
    _check_tensors("channel_shuffle", input=input)
    if input.ndim < 3:
        raise ValueError(f"channel_shuffle: expected an input of at least 3 axes (N, C, *), "
                         f"got shape {input.shape}")
    n, c, *rest = input.shape
    if c % g:
        raise ValueError(f"channel_shuffle: the channels ({c}) must be divisible by groups "
                         f"({g})")
    return input.reshape(n, g, c // g, *rest).transpose(1, 2).reshape(input.shape)


def _check_batch_norm(input: Tensor, running_mean: Tensor | None,  # noqa: A002
                      running_var: Tensor | None, weight: Tensor | None,
                      bias: Tensor | None) -> None:
    """``batch_norm``'s arguments checked (shapes, dtypes, devices), before anything changes:
    the BatchNorm layers call it before they count a batch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"batch_norm: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, ...), got shape "
                         f"{input.shape}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"batch_norm: {name} must be a Tensor, got {type(t).__name__}")
        if t.shape != (c,):
            raise ValueError(f"batch_norm: {name} must have shape ({c},), one per channel of "
                             f"the input of shape {input.shape}, got {t.shape}")
        if t.dtype != input.dtype:
            raise DTypeError(f"batch_norm: input dtype {input.dtype} does not match the "
                             f"{name}'s dtype {t.dtype}")
        _same_device("batch_norm", name, t, "input", input)
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation (Ioffe and Szegedy, 2015), as
    ``torch.nn.functional.batch_norm``::

        y = (x - mean) / sqrt(var + eps) · weight + bias

    per channel (axis 1 of (N, C, ...)). Training: mean and the biased var over the batch and
    every other axis, and, where running stats are given, ``running = (1 - momentum) ·
    running + momentum · batch`` in place (the running var takes the unbiased batch var, n /
    (n - 1) times the biased one), outside autograd. Evaluation: the running stats."""
    _check_batch_norm(input, running_mean, running_var, weight, bias)
    c = input.shape[1]
    axes = (0, *range(2, input.ndim))
    shape = (1, c) + (1,) * (input.ndim - 2)
    if training:
        n = input.size // max(c, 1)
        if n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {input.shape}")
        mean = input.mean(axes, keepdims=True)
        d = input - mean
        var = (d * d).mean(axes, keepdims=True)
        if running_mean is not None:
            from .autograd import no_grad

            m = float(momentum)
            with no_grad():
                running_mean.copy_(running_mean * (1 - m) + mean.detach().reshape(c) * m)
                running_var.copy_(running_var * (1 - m)
                                  + var.detach().reshape(c) * (m * n / (n - 1)))
        y = d / (var + eps).sqrt()
    else:
        if running_mean is None:
            raise ValueError("batch_norm: evaluation (training=False) needs running_mean and "
                             "running_var")
        y = (input - running_mean.reshape(shape)) / (running_var.reshape(shape) + eps).sqrt()
    if weight is not None:
        y = y * weight.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


# ---- recurrent cells, composed from primitive ops ----------------------------------------
# Each is one time step for a batch: x is (B, I) (or (I,)), the state (B, H) (or (H,)).
# Weights use PyTorch's layout: W_ih is (G*H, I) and W_hh is (G*H, H), with the G gate blocks
# stacked in PyTorch's order. These are the readable reference that fast paths are tested
# against.


def rnn_cell(
    x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
    b_hh: Tensor | None = None, nonlinearity: str = "tanh",
) -> Tensor:
    """Elman RNN step:  h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)  (or relu)."""
    return rnn_cell_projected(linear(x, w_ih, b_ih), h, w_hh, b_hh, nonlinearity)


def rnn_cell_projected(
    xw: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None = None, nonlinearity: str = "tanh"
) -> Tensor:
    """``rnn_cell`` with its input half xw = W_ih x_t + b_ih already computed: a sequence layer
    computes it for every step at once, with one matmul, before the loop."""
    pre = xw + linear(h, w_hh, b_hh)
    if nonlinearity == "tanh":
        return pre.tanh()
    if nonlinearity == "relu":
        return pre.relu()
    raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")


def lstm_cell(
    x: Tensor, state: tuple[Tensor, Tensor], w_ih: Tensor, w_hh: Tensor,
    b_ih: Tensor | None = None, b_hh: Tensor | None = None, w_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """LSTM step, gate blocks stacked i, f, g, o (PyTorch's order)::

        i = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)     input gate
        f = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)     forget gate
        g = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)  candidate
        o = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)     output gate
        c_t = f ⊙ c_{t-1} + i ⊙ g
        h_t = o ⊙ tanh(c_t)        (then h_t = W_hr h_t with a projection, ``proj_size``)

    The cell state c is carried by a sum, not squashed at every step: along c (the direct
    path; the full derivative also runs through h and the gates) ∂c_t/∂c_{t-1} = diag(f),
    which is why gradients survive long sequences when f stays near 1.
    """
    return lstm_cell_projected(linear(x, w_ih, b_ih), state, w_hh, b_hh, w_hr)


def lstm_cell_projected(
    xw: Tensor, state: tuple[Tensor, Tensor], w_hh: Tensor, b_hh: Tensor | None = None,
    w_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """``lstm_cell`` with its input half xw = W_ih x_t + b_ih already computed (see
    ``rnn_cell_projected``); the equations are in ``lstm_cell``'s docstring."""
    h, c = state
    gates = xw + linear(h, w_hh, b_hh)  # (B, 4H): the four gates' pre-activations side by side
    i, f, g, o = gates.split(c.shape[-1], axis=-1)  # H each (c's size; proj_size shrinks h)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()  # gates in (0, 1), g in (-1, 1)
    c = f * c + i * g  # keep the fraction f of the memory, write the fraction i of g
    h = o * c.tanh()  # show the fraction o of the memory
    if w_hr is not None:  # proj_size: h_t = W_hr h_t, while c keeps its H values
        h = linear(h, w_hr)
    return h, c


def gru_cell(
    x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """GRU step, gate blocks stacked r, z, n (PyTorch's order)::

        r = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)             reset gate
        z = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)             update gate
        n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t-1} + b_hn))    candidate
        h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}

    The reset gate multiplies W_hn h + b_hn (after the product), as PyTorch and cuDNN do.
    """
    return gru_cell_projected(linear(x, w_ih, b_ih), h, w_hh, b_hh)


def gru_cell_projected(
    gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None = None
) -> Tensor:
    """``gru_cell`` with its input half gi = W_ih x_t + b_ih already computed (see
    ``rnn_cell_projected``); the equations are in ``gru_cell``'s docstring."""
    i_r, i_z, i_n = gi.split(h.shape[-1], axis=-1)  # blocks of W_ih x_t + b_ih
    h_r, h_z, h_n = linear(h, w_hh, b_hh).split(h.shape[-1], axis=-1)  # of W_hh h_{t-1} + b_hh
    r = (i_r + h_r).sigmoid()
    z = (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()  # r gates the recurrent part only, bias b_hn included
    return (1 - z) * n + z * h  # z near 1 keeps h_{t-1}: state and gradient pass unchanged

"""``nn.utils.fusion``, as PyTorch's: fold an evaluation-mode batch normalisation into the
convolution or linear layer before it, so that inference runs one layer instead of two::

    bn(conv(x)) = conv'(x),  W' = W · s (per output channel),  b' = (b - μ) · s + β,
    s = γ / sqrt(σ² + eps)

with μ, σ² the running statistics and γ, β the batch norm's weight and bias (1 and 0 where
it has none). The fused layer is a copy of the first one; the originals are unchanged."""

from __future__ import annotations

import copy
from typing import Any

from ...autograd import no_grad
from ...tensor import Tensor
from ..module import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]


def _check_eval(where: str, layer: Any, bn: Any) -> None:
    if layer.training or bn.training:
        raise ValueError(f"{where}: fusion only for eval! call .eval() on both modules first "
                         "(in training the batch norm uses each batch's statistics)")
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError(f"{where}: the batch norm has no running statistics "
                         "(track_running_stats=False), so there is nothing to fold")


def fuse_conv_bn_eval(conv: Any, bn: Any, transpose: bool = False) -> Any:
    """A copy of ``conv`` (a convolution, or a transposed one with ``transpose=True``) whose
    output equals ``bn(conv(x))`` with both in evaluation mode, as PyTorch's. Both must be in
    evaluation mode and ``bn`` must track running statistics (PyTorch asserts it; here a
    ValueError)."""
    _check_eval("fuse_conv_bn_eval", conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
        transpose)
    return fused


def fuse_conv_bn_weights(conv_w: Tensor, conv_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor,
                         bn_eps: float, bn_w: Tensor | None, bn_b: Tensor | None,
                         transpose: bool = False) -> tuple[Parameter, Parameter]:
    """The fused convolution's ``(weight, bias)`` as new Parameters (each keeps the
    ``requires_grad`` of the tensor it comes from; a missing bias gives one that does not
    require grad), in the convolution's dtypes, as PyTorch's. The scale goes along the
    output channels: axis 0 of the weight, axis 1 for a transposed convolution."""
    with no_grad():
        w_dtype = conv_w.dtype
        b_dtype = conv_b.dtype if conv_b is not None else w_dtype
        bias_grad = conv_b.requires_grad if conv_b is not None else False
        conv_b = bn_rm.detach() * 0 if conv_b is None else conv_b.detach()
        bn_w = bn_rm.detach() * 0 + 1 if bn_w is None else bn_w.detach()
        bn_b = bn_rm.detach() * 0 if bn_b is None else bn_b.detach()
        scale = bn_w * (bn_rv.detach() + bn_eps).rsqrt()
        shape = (1, -1) if transpose else (-1, 1)
        shape = (*shape, *(1,) * (conv_w.ndim - 2))
        w = (conv_w.detach() * scale.reshape(shape)).to(w_dtype)
        b = ((conv_b - bn_rm.detach()) * scale + bn_b).to(b_dtype)
    return Parameter(w, conv_w.requires_grad), Parameter(b, bias_grad)


def fuse_linear_bn_eval(linear: Any, bn: Any) -> Any:
    """A copy of ``linear`` whose output equals ``bn(linear(x))`` with both in evaluation
    mode, as PyTorch's: ``bn`` normalises the linear layer's output features, so
    ``linear.out_features`` must equal ``bn.num_features`` (or that be 1)."""
    _check_eval("fuse_linear_bn_eval", linear, bn)
    if not (linear.out_features == bn.num_features or bn.num_features == 1):
        raise ValueError(f"fuse_linear_bn_eval: to fuse, linear.out_features "
                         f"({linear.out_features}) must equal bn.num_features "
                         f"({bn.num_features}) or bn.num_features be 1")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused


def fuse_linear_bn_weights(linear_w: Tensor, linear_b: Tensor | None, bn_rm: Tensor,
                           bn_rv: Tensor, bn_eps: float, bn_w: Tensor | None,
                           bn_b: Tensor | None) -> tuple[Parameter, Parameter]:
    """The fused linear layer's ``(weight, bias)`` as new Parameters, as PyTorch's: the
    weight's row k scaled by s_k (a batch norm without weight or bias counts as 1 and 0,
    where PyTorch's fails on one without)."""
    with no_grad():
        w_dtype = linear_w.dtype
        b_dtype = linear_b.dtype if linear_b is not None else w_dtype
        bias_grad = linear_b.requires_grad if linear_b is not None else False
        linear_b = bn_rm.detach() * 0 if linear_b is None else linear_b.detach()
        bn_w = bn_rm.detach() * 0 + 1 if bn_w is None else bn_w.detach()
        bn_b = bn_rm.detach() * 0 if bn_b is None else bn_b.detach()
        scale = bn_w * (bn_rv.detach() + bn_eps).rsqrt()
        w = linear_w.detach() * scale.unsqueeze(-1).to(w_dtype)
        b = ((linear_b - bn_rm.detach()) * scale + bn_b).to(b_dtype)
    return Parameter(w, linear_w.requires_grad), Parameter(b, bias_grad)

"""``tinygrad_rnn.nn.utils.clip_grad``, where PyTorch code imports them from: ``nn.utils``'s
gradient clipping."""

from . import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm"]

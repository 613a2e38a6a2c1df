"""``nn.MultiheadAttention``, as PyTorch's: the same parameters (``in_proj_weight`` with the
query, key and value blocks stacked, or ``q_proj_weight``, ``k_proj_weight``,
``v_proj_weight`` when the key or value size differs; ``in_proj_bias``; ``out_proj``;
``bias_k``/``bias_v``), the same masks and the same outputs: the module holds the weights,
``functional.multi_head_attention_forward`` computes (composed from the engine's ops)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..backend import get_device
from ..tensor import DTypeLike, Tensor
from . import init
from .layers import Linear
from .module import Module, param_dtype


class MultiheadAttention(Module):
    """Attention of ``num_heads`` heads of size embed_dim / num_heads:
    ``softmax(q kᵀ / sqrt(head size) + masks) v`` per head, the heads concatenated and
    projected by ``out_proj``. ``forward(query, key, value, key_padding_mask=None,
    need_weights=True, attn_mask=None, average_attn_weights=True, is_causal=False)`` returns
    (output, weights): shapes (L, N, E) (``batch_first``: (N, L, E); unbatched: (L, E)) and
    (N, L, S) averaged over heads, or (N, heads, L, S), or None without ``need_weights``.
    A bool mask is True where attention is *not* allowed, a float mask is added;
    ``attn_mask`` is (L, S) or (N·heads, L, S), ``key_padding_mask`` (N, S). ``is_causal``
    without ``attn_mask`` makes the causal mask (PyTorch asks for the mask too)."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 device: str | None = None, dtype: DTypeLike = None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be a positive "
                             f"multiple of num_heads ({num_heads})")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first, self.add_zero_attn = dropout, batch_first, add_zero_attn
        self._device = get_device(device or "cpu").name
        self._dtype = param_dtype(dtype, type(self).__name__)
        E = embed_dim
        if self._qkv_same_embed_dim:
            self._init_parameter("in_proj_weight", np.zeros((3 * E, E)))
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self._init_parameter("q_proj_weight", np.zeros((E, E)))
            self._init_parameter("k_proj_weight", np.zeros((E, self.kdim)))
            self._init_parameter("v_proj_weight", np.zeros((E, self.vdim)))
            self.in_proj_weight = None
        if bias:
            self._init_parameter("in_proj_bias", np.zeros(3 * E))
        else:
            self.in_proj_bias = None
        self.out_proj = Linear(E, E, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self._init_parameter("bias_k", np.zeros((1, 1, E)))
            self._init_parameter("bias_v", np.zeros((1, 1, E)))
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's: Xavier-uniform projections, zero biases, Xavier-normal bias_k/v."""
        from ..autograd import no_grad

        with no_grad():
            if self._qkv_same_embed_dim:
                init.xavier_uniform_(self.in_proj_weight)
            else:
                for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                    init.xavier_uniform_(w)
            if self.in_proj_bias is not None:
                init.zeros_(self.in_proj_bias)
                init.zeros_(self.out_proj.bias)
            if self.bias_k is not None:
                init.xavier_normal_(self.bias_k)
                init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any = None,
                need_weights: bool = True, attn_mask: Any = None,
                average_attn_weights: bool = True, is_causal: bool = False
                ) -> tuple[Tensor, Tensor | None]:
        batched = query.ndim == 3
        if batched and self.batch_first:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        sizes = (query.shape[-1], key.shape[-1], value.shape[-1])
        if sizes != (self.embed_dim, self.kdim, self.vdim):
            raise ValueError(f"MultiheadAttention: expected query, key, value of sizes "
                             f"{self.embed_dim}, {self.kdim}, {self.vdim}, got "
                             f"{', '.join(map(str, sizes))}")
        if is_causal and attn_mask is None:  # (PyTorch asks for the mask)
            L, S = query.shape[0], key.shape[0]
            attn_mask = Tensor._wrap(query._dev.to_device(~np.tril(np.ones((L, S), bool))),
                                     query._dev)
        out, weights = F._multi_head_attention(
            "MultiheadAttention", query, key, value, self.embed_dim, self.num_heads,
            self.in_proj_weight, self.in_proj_bias, self.bias_k, self.bias_v,
            self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            self.training, key_padding_mask, need_weights, attn_mask,
            not self._qkv_same_embed_dim, self.q_proj_weight, self.k_proj_weight,
            self.v_proj_weight, None, None, average_attn_weights, is_causal)
        return (out.transpose(0, 1) if batched and self.batch_first else out), weights

    def extra_repr(self) -> str:
        return ""

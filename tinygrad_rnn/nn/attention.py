"""``nn.MultiheadAttention``, as PyTorch's: the same parameters (``in_proj_weight`` with the
query, key and value blocks stacked, or ``q_proj_weight``, ``k_proj_weight``,
``v_proj_weight`` when the key or value size differs; ``in_proj_bias``; ``out_proj``;
``bias_k``/``bias_v``), the same masks and the same outputs, composed from the engine's ops
(``functional.scaled_dot_product_attention`` is the core)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from ..backend import get_device
from ..ops.movement import cat
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
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = (x.unsqueeze(1) for x in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = _tensor(key_padding_mask, query).unsqueeze(0)
        elif self.batch_first:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        if query.ndim != 3 or key.ndim != 3 or value.ndim != 3:
            raise ValueError(f"MultiheadAttention: query, key and value must be 3-D (or all "
                             f"2-D), got shapes {query.shape}, {key.shape}, {value.shape}")
        L, N, E = query.shape
        S = key.shape[0]
        H, d = self.num_heads, self.head_dim
        if E != self.embed_dim or key.shape[2] != self.kdim or value.shape[2] != self.vdim:
            raise ValueError(f"MultiheadAttention: expected query, key, value of sizes "
                             f"{self.embed_dim}, {self.kdim}, {self.vdim}, got {E}, "
                             f"{key.shape[2]}, {value.shape[2]}")
        if key.shape[:2] != value.shape[:2] or key.shape[1] != N:
            raise ValueError(f"MultiheadAttention: key {key.shape} and value {value.shape} "
                             f"must match, and have the query's batch {N}")
        if is_causal and attn_mask is None:
            attn_mask = Tensor._wrap(query._dev.to_device(~np.tril(np.ones((L, S), bool))),
                                     query._dev)
        if self._qkv_same_embed_dim:
            wq, wk, wv = self.in_proj_weight.chunk(3)
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        bq = bk = bv = None
        if self.in_proj_bias is not None:
            bq, bk, bv = self.in_proj_bias.chunk(3)
        q, k, v = F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)
        mask = F._additive_mask(attn_mask, q, "MultiheadAttention")
        if mask is not None and mask.shape not in ((L, S), (N * H, L, S)):
            raise ValueError(f"MultiheadAttention: attn_mask must be ({L}, {S}) or "
                             f"({N * H}, {L}, {S}), got {mask.shape}")
        pad = F._additive_mask(key_padding_mask, q, "MultiheadAttention")
        if pad is not None and pad.shape != (N, S):
            raise ValueError(f"MultiheadAttention: key_padding_mask must be ({N}, {S}), got "
                             f"{pad.shape}")
        if self.bias_k is not None:  # one more key and value, open to every query
            k = cat([k, self.bias_k.expand(1, N, E)])
            v = cat([v, self.bias_v.expand(1, N, E)])
            mask = None if mask is None else F.pad(mask, (0, 1))
            pad = None if pad is None else F.pad(pad, (0, 1))
        # heads: (L, N, E) -> (N, H, L, d)
        q = q.reshape(L, N, H, d).permute(1, 2, 0, 3)
        k = k.reshape(k.shape[0], N, H, d).permute(1, 2, 0, 3)
        v = v.reshape(v.shape[0], N, H, d).permute(1, 2, 0, 3)
        if self.add_zero_attn:  # and a zero key and value
            zeros = Tensor._wrap(q._dev.xp.zeros((N, H, 1, d), dtype=q.dtype), q._dev)
            k, v = cat([k, zeros], 2), cat([v, zeros], 2)
            mask = None if mask is None else F.pad(mask, (0, 1))
            pad = None if pad is None else F.pad(pad, (0, 1))
        scores = (q * (1 / math.sqrt(d))) @ k.transpose(-2, -1)  # (N, H, L, S')
        if mask is not None:
            scores = scores + (mask.reshape(N, H, L, -1) if mask.ndim == 3 else mask)
        if pad is not None:
            scores = scores + pad.reshape(N, 1, 1, -1)
        # without need_weights PyTorch runs scaled_dot_product_attention, whose row with
        # every key masked gives zeros; with them, its softmax's NaN
        weights = F.softmax(scores, -1) if need_weights else F._safe_softmax(scores)
        if self.dropout > 0 and self.training:
            weights = F.dropout(weights, self.dropout)
        out = (weights @ v).permute(2, 0, 1, 3).reshape(L, N, E)  # heads side by side
        out = self.out_proj(out)
        if unbatched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        w = weights.mean(1) if average_attn_weights else weights
        return out, (w.squeeze(0) if unbatched else w)

    def extra_repr(self) -> str:
        return ""


def _tensor(mask: Any, like: Tensor) -> Tensor:
    return mask if isinstance(mask, Tensor) else F._as_tensor_on(mask, like)

"""Variable-length sequences, as ``torch.nn.utils.rnn``: ``nn.utils.rnn.pad_sequence``.

The recurrent layers here take a padded batch with ``lengths=`` instead of a packed sequence,
so ``pad_sequence`` is what a batch of uneven sequences needs."""

from __future__ import annotations

from collections.abc import Iterable

from ...creation import full
from ...ops.movement import cat, stack
from ...tensor import Tensor


def pad_sequence(sequences: Iterable[Tensor] | Tensor, batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Sequences of shapes (L_i, *) as one tensor of shape (T, B, *), or (B, T, *) with
    ``batch_first``, T = max L_i: each is padded with ``padding_value`` after its end
    (``padding_side="right"``) or before its start ("left"), as PyTorch's.

    The padding is a constant joined on with ``cat``, so the result is differentiable: each
    sequence gets back the gradient of its own positions. The result has the first sequence's
    dtype, as PyTorch's; a tensor given instead of a list counts as the list of its rows."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    seqs = list(sequences)
    if not seqs:
        raise ValueError("pad_sequence: received an empty list of sequences")
    for s in seqs:
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: each sequence must be a Tensor, got "
                            f"{type(s).__name__}")
        if s.ndim == 0:
            raise ValueError("pad_sequence: each sequence needs a time axis (its first), got a "
                             "0-d tensor")
    dtype, rest = seqs[0].dtype, seqs[0].shape[1:]
    longest = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        if s.shape[1:] != rest:
            raise ValueError(f"pad_sequence: every sequence must have the shape (L, "
                             f"{', '.join(map(str, rest))}) of the first, got {s.shape}")
        s = s if s.dtype == dtype else s.to(dtype=dtype)
        n = longest - s.shape[0]
        if n:
            pad = full((n, *rest), padding_value, dtype=dtype, device=s.device)
            s = cat([s, pad] if padding_side == "right" else [pad, s])
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)

"""``data``: datasets and batches, as ``torch.utils.data``; ``checkpoint``: activation
checkpointing, as ``torch.utils.checkpoint``."""

from . import checkpoint, data  # noqa: F401

"""``data``: datasets and batches, as ``torch.utils.data``; ``checkpoint``: activation
checkpointing, as ``torch.utils.checkpoint``; ``tensorboard``: ``SummaryWriter``, as
``torch.utils.tensorboard``, writing TensorBoard's event files without TensorBoard."""

from . import checkpoint, data, tensorboard  # noqa: F401

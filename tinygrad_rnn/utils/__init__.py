"""``data``: datasets and batches, as ``torch.utils.data``."""

from . import data  # noqa: F401

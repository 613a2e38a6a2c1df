"""``tr.cuda.is_available()``, as in PyTorch."""

from __future__ import annotations

from .backend import cuda_available


def is_available() -> bool:
    """True when CuPy is installed and sees a CUDA GPU."""
    return cuda_available()

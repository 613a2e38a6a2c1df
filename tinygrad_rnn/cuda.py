"""``tr.cuda``, as PyTorch's: ``is_available()``, ``device_count()`` and the seeding calls that
scripts make at the top.

Every random number here is drawn on the host (``tinygrad_rnn.random``), for the GPU too, so
``manual_seed`` and ``manual_seed_all`` seed that one generator, as ``tr.manual_seed`` does.
"""

from __future__ import annotations

from .backend import cuda_available


def is_available() -> bool:
    """True when CuPy is installed and sees a CUDA GPU."""
    return cuda_available()


def device_count() -> int:
    """The number of GPUs CuPy sees (0 without CuPy or a GPU)."""
    if not cuda_available():
        return 0
    import cupy

    return int(cupy.cuda.runtime.getDeviceCount())


def manual_seed(seed: int) -> None:
    """Seeds tr's one generator (the GPU draws from it too): ``tr.manual_seed(seed)``."""
    from .random import manual_seed as seed_all

    seed_all(seed)


manual_seed_all = manual_seed

"""``tr.cuda``, as PyTorch's: ``is_available()``, ``device_count()``, the seeding calls that
scripts make at the top, and ``synchronize``, ``empty_cache``, ``memory_allocated``,
``current_device`` and ``get_device_name``; ``tr.cuda.amp`` holds PyTorch's older mixed-precision
names, ``autocast`` and ``GradScaler`` for "cuda" (see ``tinygrad_rnn.amp``).

Every random number here is drawn on the host (``tinygrad_rnn.random``), for the GPU too, so
``manual_seed`` and ``manual_seed_all`` seed that one generator, as ``tr.manual_seed`` does.
"""

from __future__ import annotations

from .amp import _cuda_amp as amp  # noqa: F401  (tr.cuda.amp, as torch.cuda.amp)
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


def synchronize(device: int | str | None = None) -> None:
    """Wait for every kernel queued on the GPU (a timing needs it); nothing without one.
    ``device`` is taken, as PyTorch's (CuPy's current device is the one waited for)."""
    if cuda_available():
        import cupy

        cupy.cuda.Device().synchronize()


def empty_cache() -> None:
    """Give the GPU memory CuPy holds for reuse back to the driver (its memory pools' free
    blocks), as PyTorch's frees its caching allocator's; nothing without a GPU."""
    if cuda_available():
        import cupy

        cupy.get_default_memory_pool().free_all_blocks()
        cupy.get_default_pinned_memory_pool().free_all_blocks()


def memory_allocated(device: int | str | None = None) -> int:
    """Bytes of GPU memory held by arrays now (CuPy's pool, in use, for every device); 0
    without a GPU. ``device`` is taken, as PyTorch's."""
    if not cuda_available():
        return 0
    import cupy

    return int(cupy.get_default_memory_pool().used_bytes())


def current_device() -> int:
    """The index of the GPU CuPy uses (0 unless changed); an error without one, as PyTorch."""
    if not cuda_available():
        raise RuntimeError("cuda.current_device: no CUDA GPU (CuPy sees none)")
    import cupy

    return int(cupy.cuda.Device().id)


def get_device_name(device: int | None = None) -> str:
    """The GPU's name, e.g. "NVIDIA H100 80GB HBM3"; an error without one."""
    if not cuda_available():
        raise RuntimeError("cuda.get_device_name: no CUDA GPU (CuPy sees none)")
    import cupy

    i = cupy.cuda.Device().id if device is None else int(device)
    name = cupy.cuda.runtime.getDeviceProperties(i)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)

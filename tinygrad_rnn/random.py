"""The random number generator behind ``randn``, ``rand``, ``dropout`` and weight init.

One seeded ``numpy.random.Generator`` on the host: ``tr.manual_seed(s)`` makes every draw after
it reproducible, and a CPU run and a GPU run draw identical numbers (they are made on the host
and then moved to the device).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import DTypeLike, Tensor, resolve_dtype, tensor

_rng = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Reseed the global generator."""
    global _rng
    _rng = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The global generator (draw from it to stay reproducible under ``manual_seed``)."""
    return _rng


def get_rng_state() -> dict[str, Any]:
    """The generator's state, to save in a checkpoint."""
    return _rng.bit_generator.state


def set_rng_state(state: dict[str, Any]) -> None:
    _rng.bit_generator.state = state


def _shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def randn(*shape: Any, dtype: DTypeLike = None, device: str = "cpu",
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples (float32 unless ``dtype``)."""
    dt = resolve_dtype(dtype) if dtype is not None else np.dtype(np.float32)
    return tensor(_rng.standard_normal(_shape(shape)).astype(dt), device=device,
                  requires_grad=requires_grad)


def rand(*shape: Any, dtype: DTypeLike = None, device: str = "cpu",
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) (float32 unless ``dtype``)."""
    dt = resolve_dtype(dtype) if dtype is not None else np.dtype(np.float32)
    return tensor(_rng.random(_shape(shape)).astype(dt), device=device,
                  requires_grad=requires_grad)


def randint(*args: Any, size: Any = None, dtype: DTypeLike = None, device: str = "cpu"
            ) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``, as PyTorch's (``size`` may be
    a keyword): integers uniform in [low, high), low 0 unless given; int64 unless ``dtype``."""
    if size is None:
        if len(args) < 2:
            raise TypeError("randint needs a size: randint(high, size) or "
                            "randint(low, high, size)")
        *args, size = args
    if len(args) not in (1, 2):
        raise TypeError(f"randint takes (high, size) or (low, high, size), got {len(args)} "
                        "numbers before the size")
    low, high = (0, args[0]) if len(args) == 1 else args
    if not high > low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    dt = resolve_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return tensor(_rng.integers(low, high, size=shape, dtype=np.int64).astype(dt),
                  device=device)

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


def randint(low: int, high: int, shape: Any, device: str = "cpu") -> Tensor:
    """Integers uniform in [low, high), int64."""
    return tensor(_rng.integers(low, high, size=shape, dtype=np.int64), device=device)

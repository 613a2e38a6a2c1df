"""Helpers for training loops."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor


def detach_state(state: Any) -> Any:
    """Cut a recurrent state (a Tensor, or a tuple/list of them such as LSTM's (h, c)) from
    its graph, keeping its values: what truncated backpropagation through time does between
    chunks, so the next backward() stops at the chunk boundary."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"detach_state: expected a Tensor or a tuple of them, got {type(state)}")

"""``tr.cond`` and ``tr.while_loop``: PyTorch's control-flow operators, run eagerly.

PyTorch's compile them into one graph; with no compiler here (``tr.compile`` runs eagerly too)
they are the Python ``if`` and ``while`` they stand for, with PyTorch's argument checks, so code
written for them runs unchanged. Gradients flow through the branch or the steps that ran."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .tensor import Tensor


def _leaves(tree: Any) -> list[Any]:
    """The leaves of nested lists, tuples and dicts."""
    out, todo = [], [tree]
    while todo:
        t = todo.pop()
        if isinstance(t, (list, tuple)):
            todo.extend(reversed(t))
        elif isinstance(t, dict):
            todo.extend(reversed(list(t.values())))
        else:
            out.append(t)
    return out


def cond(pred: Any, true_fn: Callable[..., Any], false_fn: Callable[..., Any],
         operands: Sequence[Any] = ()) -> Any:
    """``true_fn(*operands)`` if ``pred`` else ``false_fn(*operands)``, as ``torch.cond``:
    ``pred`` a Python bool or number, or a tensor of one element; ``operands`` a tuple or list
    (possibly nested) of tensors. Only the branch taken runs (its gradient is the result's)."""
    if isinstance(pred, (bool, int, float, np.bool_)):
        return true_fn(*operands) if pred else false_fn(*operands)
    if not isinstance(pred, Tensor):
        raise RuntimeError(f"Expected pred to be bool or tensor, but got {pred}.")
    if pred.numel() != 1:
        raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got {pred} "
                           f"(shape {pred.shape}).")
    if not callable(true_fn) or not callable(false_fn):
        raise RuntimeError("Expect both branches to be callable.")
    if not isinstance(operands, (tuple, list)) or any(
            not isinstance(t, Tensor) for t in _leaves(operands)):
        raise RuntimeError("Expect operands to be a tuple of possibly nested dict/list/tuple "
                           f"that only consists of tensor leaves, but got {operands}.")
    return true_fn(*operands) if bool(pred.item()) else false_fn(*operands)


def _check_pred(pred: Any) -> bool:
    if isinstance(pred, (bool, np.bool_)) or (
            isinstance(pred, Tensor) and pred.shape == () and pred.dtype == np.bool_):
        return bool(pred)
    raise RuntimeError(f"cond_fn must return a boolean scalar tensor or a boolean but got "
                       f"{pred}")


def while_loop(cond_fn: Callable[..., Any], body_fn: Callable[..., Any],
               carried_inputs: Sequence[Any]) -> tuple[Any, ...]:
    """``while cond_fn(*vals): vals = body_fn(*vals)``, starting from ``carried_inputs`` (a
    tuple or list of tensors and ints), as ``torch.while_loop``: cond_fn returns a bool or a
    0-d bool tensor, body_fn a tuple of as many values. Returns the last values as a tuple;
    where the loop never runs, copies of the inputs (tensors cloned), as PyTorch's."""
    if not callable(cond_fn) or not callable(body_fn):
        raise RuntimeError("Expect cond_fn and body_fn to be callable.")
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError(f"carried_inputs must be a tuple or list but got "
                           f"{type(carried_inputs)}")
    for t in _leaves(carried_inputs):
        if isinstance(t, bool) or not isinstance(t, (Tensor, int)):
            raise RuntimeError("Expect carried_inputs to be a tuple of possibly nested "
                               "dict/list/tuple that only consists of tensor or int leaves, "
                               f"but got {carried_inputs}.")
    vals = tuple(carried_inputs)
    if not _check_pred(cond_fn(*vals)):
        return tuple(v.clone() if isinstance(v, Tensor) else v for v in vals)
    while True:
        out = body_fn(*vals)
        if not isinstance(out, tuple):
            raise RuntimeError(f"body_fn should return a tuple but got {type(out)}")
        if len(out) != len(vals):
            raise RuntimeError(f"body_fn should return the same number of elements as "
                               f"carried_inputs, got {len(out)} vs {len(vals)}")
        vals = out
        if not _check_pred(cond_fn(*vals)):
            return vals

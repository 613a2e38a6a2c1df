"""``nn.utils.stateless``, as PyTorch's: the older home of ``functional_call``, deprecated
there in favour of ``torch.func.functional_call`` (``tr.func.functional_call`` here)."""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["functional_call"]


def functional_call(module: Any, parameters_and_buffers: Any, args: Any = None,
                    kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """``tr.func.functional_call``: ``module(*args, **kwargs)`` with the given parameters and
    buffers in place of its own. It warns (a FutureWarning) that it is deprecated, word for
    word as PyTorch's, then calls ``tr.func.functional_call``, its drop-in replacement."""
    from ...func import functional_call as _functional_call

    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 "
                  "and will be removed in a future version of PyTorch. Please use "
                  "`torch.func.functional_call` instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, () if args is None else args,
                            kwargs, tie_weights=tie_weights, strict=strict)

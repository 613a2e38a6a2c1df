"""Tools to test ops: ``gradcheck``, ``gradgradcheck``, ``assert_close`` (as
``torch.testing.assert_close``), ``make_tensor`` (as ``torch.testing.make_tensor``),
Hypothesis ``strategies`` (``tr.testing.strategies``, imported on first use: it needs the
``test`` extra) and the ``"strict"`` device (``testing.strict``)."""

from __future__ import annotations

import importlib
from types import ModuleType

from .comparison import assert_close
from .creation import make_tensor
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["GradcheckError", "assert_close", "gradcheck", "gradgradcheck", "make_tensor"]


def __getattr__(name: str) -> ModuleType:
    """``strategies`` and ``strict``, imported when first asked for: ``strategies`` needs
    Hypothesis, which importing the package must not."""
    if name in ("strategies", "strict"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

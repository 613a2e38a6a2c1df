"""Tools to test ops: ``gradcheck``, ``gradgradcheck``, Hypothesis ``strategies`` (import it
explicitly; it needs the ``test`` extra) and the ``"strict"`` device (``testing.strict``)."""

from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]

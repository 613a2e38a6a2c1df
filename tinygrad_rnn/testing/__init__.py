"""Tools to test ops: ``gradcheck``, ``gradgradcheck``, ``assert_close`` (as
``torch.testing.assert_close``), Hypothesis ``strategies`` (import it explicitly; it needs the
``test`` extra) and the ``"strict"`` device (``testing.strict``)."""

from .comparison import assert_close
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["GradcheckError", "assert_close", "gradcheck", "gradgradcheck"]

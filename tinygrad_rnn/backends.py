"""``tr.backends``, as PyTorch's, for the settings scripts make at the top:
``tr.backends.cudnn.deterministic = True``, ``tr.backends.cudnn.benchmark = False``.

There is no cuDNN here: the recurrent layers run their own fused loops, which give the same
result on every run. So these flags are kept, for code that reads them back, and change
nothing.
"""

from __future__ import annotations

from types import SimpleNamespace

cudnn = SimpleNamespace(deterministic=False, benchmark=False, enabled=True,
                        is_available=lambda: False)

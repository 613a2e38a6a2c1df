"""``nn.functional``, PyTorch's name for ``tinygrad_rnn.functional``: the same module, so that
``import tinygrad_rnn.nn.functional as F`` and ``nn.functional.cross_entropy`` work as they do
with ``torch.nn.functional``."""

import sys

from .. import functional as _functional

sys.modules[__name__] = _functional

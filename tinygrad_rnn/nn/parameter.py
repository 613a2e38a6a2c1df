"""``tinygrad_rnn.nn.parameter``, where PyTorch code imports them from
(``from torch.nn.parameter import Parameter``): the classes of ``nn.module`` and ``nn.lazy``."""

from .lazy import UninitializedBuffer
from .module import Buffer, Parameter, UninitializedParameter

__all__ = ["Buffer", "Parameter", "UninitializedBuffer", "UninitializedParameter"]

"""``tinygrad_rnn.nn.modules``, laid out as ``torch.nn.modules``: every layer of ``nn``, and a
submodule per file of PyTorch's (``nn.modules.loss``, ``nn.modules.rnn``, ...) holding the
layers that file holds there, so that imports such as ``from torch.nn.modules.loss import
_Loss`` port by changing the package's name. The classes are ``nn``'s own (this package groups
its files differently); each submodule is made here from the table below, with no code of its
own."""

from __future__ import annotations

import sys
import types

from .. import loss as _loss_file
from .. import module as _module_file

# torch.nn.modules' submodules and the names each holds (those that nn has)
LAYOUT: dict[str, tuple[str, ...]] = {
    "activation": ("Threshold", "ReLU", "RReLU", "Hardtanh", "ReLU6", "Sigmoid", "Hardsigmoid",
                   "Tanh", "SiLU", "Mish", "Hardswish", "ELU", "CELU", "SELU", "GLU", "GELU",
                   "Hardshrink", "LeakyReLU", "LogSigmoid", "Softplus", "Softshrink",
                   "MultiheadAttention", "PReLU", "Softsign", "Tanhshrink", "Softmin", "Softmax",
                   "Softmax2d", "LogSoftmax"),
    "adaptive": ("AdaptiveLogSoftmaxWithLoss",),
    "batchnorm": ("BatchNorm1d", "LazyBatchNorm1d", "BatchNorm2d", "LazyBatchNorm2d",
                  "BatchNorm3d", "LazyBatchNorm3d", "SyncBatchNorm"),
    "channelshuffle": ("ChannelShuffle",),
    "container": ("Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"),
    "conv": ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
             "ConvTranspose3d", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
             "LazyConvTranspose2d", "LazyConvTranspose3d"),
    "distance": ("PairwiseDistance", "CosineSimilarity"),
    "dropout": ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                "FeatureAlphaDropout"),
    "flatten": ("Flatten", "Unflatten"),
    "fold": ("Fold", "Unfold"),
    "instancenorm": ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LazyInstanceNorm1d",
                     "LazyInstanceNorm2d", "LazyInstanceNorm3d"),
    "linear": ("Bilinear", "Identity", "LazyLinear", "Linear"),
    "loss": ("L1Loss", "NLLLoss", "NLLLoss2d", "PoissonNLLLoss", "GaussianNLLLoss", "KLDivLoss",
             "MSELoss", "BCELoss", "BCEWithLogitsLoss", "HingeEmbeddingLoss",
             "MultiLabelMarginLoss", "SmoothL1Loss", "HuberLoss", "SoftMarginLoss",
             "CrossEntropyLoss", "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss",
             "MarginRankingLoss", "MultiMarginLoss", "TripletMarginLoss",
             "TripletMarginWithDistanceLoss", "CTCLoss", "LinearCrossEntropyLoss",
             "LinearCrossEntropyOptions"),
    "module": ("Module",),
    "normalization": ("LocalResponseNorm", "CrossMapLRN2d", "LayerNorm", "GroupNorm",
                      "RMSNorm"),
    "padding": ("CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d",
                "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d",
                "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
                "ZeroPad1d", "ZeroPad2d", "ZeroPad3d"),
    "pixelshuffle": ("PixelShuffle", "PixelUnshuffle"),
    "pooling": ("MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d",
                "MaxUnpool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "LPPool1d", "LPPool2d",
                "LPPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
                "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
                "FractionalMaxPool2d", "FractionalMaxPool3d"),
    "rnn": ("RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"),
    "sparse": ("Embedding", "EmbeddingBag"),
    "transformer": ("Transformer", "TransformerEncoder", "TransformerDecoder",
                    "TransformerEncoderLayer", "TransformerDecoderLayer"),
    "upsampling": ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"),
}
# the base classes PyTorch code subclasses, beside the public names
PRIVATE = {"loss": {"_Loss": _loss_file._Loss, "_WeightedLoss": _loss_file._WeightedLoss},
           "module": {"Module": _module_file.Module}}


def _make() -> list[str]:
    """Put each submodule in ``sys.modules`` (so ``import tinygrad_rnn.nn.modules.loss``
    finds it) and here, with its names; the public names also at this level."""
    from ... import nn

    here = sys.modules[__name__]
    public = []
    for sub, names in LAYOUT.items():
        mod = types.ModuleType(f"{__name__}.{sub}", f"``torch.nn.modules.{sub}``'s names.")
        held = {n: getattr(nn, n) for n in names} | PRIVATE.get(sub, {})
        mod.__dict__.update(held)
        mod.__all__ = list(names)
        sys.modules[mod.__name__] = mod
        setattr(here, sub, mod)
        here.__dict__.update(held)
        public += names
    return public


__all__ = _make()

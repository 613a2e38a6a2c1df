"""Layers: ``Module`` and ``Parameter``, small layers, activations, LayerNorm and BatchNorm,
1-D convolution and pooling, losses, the Transformer's layers, and the recurrent cells and
layers; ``nn.init`` (weight initialisation) and ``nn.utils``."""

from . import functional, init, utils
from .activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    Identity,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
)
from .attention import MultiheadAttention
from .conv import AdaptiveAvgPool1d, AdaptiveMaxPool1d, AvgPool1d, Conv1d, MaxPool1d
from .layers import (
    ConstantPad1d,
    ConstantPad2d,
    CosineSimilarity,
    Dropout,
    Embedding,
    Flatten,
    Linear,
    PairwiseDistance,
    Sequential,
    Unflatten,
    ZeroPad1d,
    ZeroPad2d,
)
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    CTCLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelSoftMarginLoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
)
from .module import Module, ModuleDict, ModuleList, Parameter, ParameterDict, ParameterList
from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    LayerNorm,
    RMSNorm,
)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell
from .transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "GRU", "LSTM", "RNN", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout",
    "Embedding", "GRUCell", "Identity", "LSTMCell", "LayerNorm", "LeakyReLU", "Linear",
    "LogSoftmax", "MSELoss", "Module", "ModuleDict", "ModuleList", "NLLLoss", "Parameter",
    "ParameterDict", "ParameterList",
    "RNNBase", "RNNCell", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "functional", "init",
    "utils",
    "CELU", "ELU", "GELU", "GLU", "SELU", "ConstantPad1d", "ConstantPad2d", "CosineSimilarity",
    "Flatten", "Hardsigmoid", "Hardswish", "Hardtanh", "HuberLoss", "KLDivLoss", "L1Loss",
    "LogSigmoid", "Mish", "PairwiseDistance", "ReLU6", "SiLU", "SmoothL1Loss", "Softmin",
    "Softplus", "Softsign", "Unflatten", "ZeroPad1d", "ZeroPad2d", "CTCLoss",
    "MultiheadAttention", "Conv1d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d",
    "AdaptiveMaxPool1d", "BatchNorm1d", "BatchNorm2d", "Transformer", "TransformerEncoder",
    "TransformerEncoderLayer", "TransformerDecoder", "TransformerDecoderLayer",
    "GaussianNLLLoss", "PoissonNLLLoss", "MarginRankingLoss", "HingeEmbeddingLoss",
    "CosineEmbeddingLoss", "TripletMarginLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss",
    "GroupNorm", "RMSNorm", "InstanceNorm1d", "InstanceNorm2d",
]

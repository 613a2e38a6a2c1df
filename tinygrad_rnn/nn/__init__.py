"""Layers: ``Module`` and ``Parameter``, small layers, losses, and the recurrent cells and
layers."""

from . import utils
from .layers import Dropout, Embedding, Linear, Sequential
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, ModuleDict, ModuleList, Parameter
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell

__all__ = [
    "GRU", "LSTM", "RNN", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout",
    "Embedding", "GRUCell", "LSTMCell", "Linear", "MSELoss", "Module", "ModuleDict",
    "ModuleList", "NLLLoss", "Parameter", "RNNBase", "RNNCell", "Sequential", "utils",
]

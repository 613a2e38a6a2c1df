"""Layers: ``Module`` and ``Parameter``, small layers, and the recurrent cells and layers."""

from . import utils
from .layers import Dropout, Embedding, Linear, Sequential
from .module import Module, ModuleDict, ModuleList, Parameter
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell

__all__ = [
    "GRU", "LSTM", "RNN", "Dropout", "Embedding", "GRUCell", "LSTMCell", "Linear", "Module",
    "ModuleDict", "ModuleList", "Parameter", "RNNBase", "RNNCell", "Sequential", "utils",
]

"""Recurrent layers with PyTorch's constructor arguments, parameter names, shapes, gate order
and initialisation, so that weights move between the two with ``state_dict``.

Cells (``RNNCell``, ``LSTMCell``, ``GRUCell``) run one time step; sequence layers (``RNN``,
``LSTM``, ``GRU``) run whole sequences, stacked and optionally bidirectional. Two
implementations of the same function, chosen with ``impl=``:

- ``"composed"``: the input half W_ih x_t + b_ih of every step is one ``linear`` before the loop
  (b_hh joins b_ih there, once, for the RNN and the LSTM); then every step calls the composed
  cells in ``functional`` (``lstm_cell_projected`` and its siblings, the second half of
  ``lstm_cell``), so the graph you backpropagate through is exactly the equations in their
  docstrings, 5 (RNN) to 17 (GRU) small ops per step. Second derivatives work.
- ``"fused"`` (the default): one op per layer and direction for the whole sequence
  (``ops/fused.py``), a few array calls per step; equal to the composed path in value and
  gradient, by test, and as fast as hand-written NumPy.

PyTorch's functional forms live here too, on the layers' own code path (``_stack`` for the
sequences, ``_cell`` for the cells): ``lstm``, ``gru``, ``rnn_tanh``, ``rnn_relu`` (exported
as ``tr.lstm`` and so on, as ``torch.lstm``) take the whole stack's parameters as one flat
list, and ``lstm_cell``, ``gru_cell``, ``rnn_tanh_cell``, ``rnn_relu_cell`` one step's.

Beyond PyTorch:

- ``lengths=``: one length per sequence of a padded batch, without sorting or packing. A finished
  sequence's state freezes, its padded outputs are zero, ``h_n`` is the state at its own last
  step, and the reverse direction starts at each sequence's own end. What the padding holds
  (zeros, NaN, anything) changes nothing, and its gradient is zero. A ``PackedSequence``
  (``nn.utils.rnn``), as PyTorch code passes, runs as exactly this: unpacked to the padded
  batch and its lengths, and the output packed the same way.
- ``forget_bias=`` (LSTM): added to the forget-gate block of every ``bias_ih`` at
  initialisation. The default 0 keeps PyTorch's initialisation; 1.0 is the classic choice for
  long dependencies. The parameters stay those of a plain LSTM, so they still load into PyTorch.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from .. import functional as F
from .. import random as _random
from ..backend import get_device
from ..ops.elementwise import where
from ..ops.fused import GRUPointwise, GRUSequence, LSTMPointwise, LSTMSequence, RNNSequence
from ..ops.movement import cat, stack
from ..tensor import DTypeError, DTypeLike, OpError, Tensor, describe_type
from ..viz import mark_step
from .module import Module, param_dtype
from .utils.rnn import PackedSequence, _check_packed, _packed_like, pad_packed_sequence

State = Tensor | tuple[Tensor, Tensor]
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
_NONLINEARITY = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}


def _check_impl(impl: str) -> str:
    if impl not in ("fused", "composed"):
        raise ValueError(f"impl must be 'fused' (fast) or 'composed' (readable), got {impl!r}")
    return impl


def _positive_int(name: str, v: Any) -> int:
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


def _uniform(shape: tuple[int, ...], bound: float) -> np.ndarray:
    """U(-bound, bound) drawn on the host from tr.manual_seed's generator."""
    return _random.generator().uniform(-bound, bound, size=shape)


def _check_input(layer: Module, x: Tensor, ndim: tuple[int, int], size: int, w: Tensor
                 ) -> None:
    """Shape, dtype and device of an input against the layer's input weights ``w``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{type(layer).__name__}: input must be a Tensor or a PackedSequence, "
                        f"got {describe_type(x)}")
    if x.ndim not in ndim:
        raise ValueError(
            f"{type(layer).__name__}: expected a {ndim[1]}-D (batched) or {ndim[0]}-D "
            f"(unbatched) input, got shape {x.shape}"
        )
    if x.shape[-1] != size:
        raise OpError(
            f"{type(layer).__name__}: input has {x.shape[-1]} features (shape {x.shape}) but "
            f"input_size is {size}"
        )
    if x.dtype != w.dtype:
        raise TypeError(
            f"{type(layer).__name__}: input dtype {x.dtype} does not match the weights' dtype "
            f"{w.dtype}; convert the input with x.to(dtype=...) or build the layer with dtype="
        )
    if x.device != w.device:
        raise OpError(
            f"{type(layer).__name__}: input is on {x.device!r} but the weights are on "
            f"{w.device!r}; move one with .to(device)"
        )


def _check_state(who: str, h: Any, expected: tuple[int, ...], what: str, ref: Tensor) -> None:
    """A state (or, for the functional forms, a weight) against its expected shape and the
    input's dtype and device; ``who`` names the layer or function in the error."""
    if not isinstance(h, Tensor):
        raise TypeError(f"{who}: {what} must be a Tensor, got {describe_type(h)}")
    if h.shape != expected:
        raise OpError(f"{who}: Expected {what} size {expected}, got {h.shape}")
    if h.device != ref.device:
        raise OpError(f"{who}: {what} is on {h.device!r} but the input is on {ref.device!r}; "
                      "move one with .to(device)")
    if h.dtype != ref.dtype:
        raise DTypeError(f"{who}: {what} is {h.dtype} but the input is {ref.dtype}; convert "
                         "it with .to(dtype=...)")


# ---- cells --------------------------------------------------------------------------------


def _cell(mode: str, x: Tensor, state: tuple[Tensor, ...], w: tuple[Any, ...],
          impl: str = "fused") -> tuple[Tensor, ...]:
    """One step of a cell on a batch, the cells' one code path (``tr.lstm_cell`` and its
    siblings too): x (B, I), ``state`` (h,) or, for LSTM, (h, c), each (B, H);
    ``w`` = (W_ih, W_hh, b_ih, b_hh), the biases None where absent. Returns the new state.
    ``"fused"``: both projections, then one pointwise op (``LSTMPointwise``, ``GRUPointwise``);
    ``"composed"``: ``functional``'s cells. An RNN step is one tanh or relu either way."""
    w_ih, w_hh, b_ih, b_hh = w
    if mode == "LSTM":
        if impl == "fused":
            gates = F.linear(x, w_ih, b_ih) + F.linear(state[0], w_hh, b_hh)
            return LSTMPointwise.apply(gates, state[1])
        return F.lstm_cell(x, (state[0], state[1]), w_ih, w_hh, b_ih, b_hh)
    if mode == "GRU":
        if impl == "fused":
            return (GRUPointwise.apply(F.linear(x, w_ih, b_ih), F.linear(state[0], w_hh, b_hh),
                                       state[0]),)
        return (F.gru_cell(x, state[0], w_ih, w_hh, b_ih, b_hh),)
    return (F.rnn_cell(x, state[0], w_ih, w_hh, b_ih, b_hh, _NONLINEARITY[mode]),)


class RNNCellBase(Module):
    """What the cells share, as ``torch.nn.RNNCellBase``: ``input_size``, ``hidden_size``,
    ``bias``, and the parameters ``weight_ih`` (num_chunks·H, I), ``weight_hh`` (num_chunks·H,
    H) and, with ``bias``, ``bias_ih`` and ``bias_hh`` (num_chunks·H,), ``num_chunks`` the
    gate blocks (1 for RNNCell, 4 for LSTMCell, 3 for GRUCell); PyTorch's initialisation and
    repr. It has no ``forward`` of its own."""

    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: str | None = None, dtype: DTypeLike = None, *,
                 impl: str = "fused") -> None:
        super().__init__()
        self.impl = _check_impl(impl)
        self.input_size = _positive_int("input_size", input_size)
        self.hidden_size = _positive_int("hidden_size", hidden_size)
        self._num_chunks = _positive_int("num_chunks", num_chunks)
        self.bias = bool(bias)
        self._device = get_device(device or "cpu").name
        self._dtype = param_dtype(dtype, type(self).__name__)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: every parameter U(-1/sqrt(H), 1/sqrt(H))."""
        n, h, k = self._num_chunks * self.hidden_size, self.hidden_size, 1 / math.sqrt(
            self.hidden_size)
        self._init_parameter("weight_ih", _uniform((n, self.input_size), k))
        self._init_parameter("weight_hh", _uniform((n, h), k))
        for name in ("bias_ih", "bias_hh"):
            if self.bias:
                self._init_parameter(name, _uniform((n,), k))
            else:
                setattr(self, name, None)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")
        nonlinearity = self.__dict__.get("nonlinearity", "tanh")
        return s if nonlinearity == "tanh" else s + f", nonlinearity={nonlinearity}"

    def _cell_weights(self) -> tuple[Any, ...]:
        """W_ih, W_hh, b_ih, b_hh (the biases None without ``bias``), as ``_cell`` takes them."""
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def _prepare(self, x: Tensor, hx: Any, n_states: int) -> tuple[Tensor, list[Tensor], bool]:
        """Batch the input and the states, made zeros where not given; check their shapes."""
        _check_input(self, x, (1, 2), self.input_size, self.weight_ih)
        batched = x.ndim == 2
        xb = x if batched else x.unsqueeze(0)
        shape = (xb.shape[0], self.hidden_size)
        if hx is None:
            states = [Tensor._wrap(xb._dev.xp.zeros(shape, dtype=xb.dtype), xb._dev)
                      for _ in range(n_states)]
            return xb, states, batched
        if n_states == 2 and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"{type(self).__name__}: the state must be a tuple (h, c) of "
                            f"Tensors, got {type(hx).__name__}")
        given = list(hx) if n_states == 2 else [hx]
        names = ["hidden", "cell"]
        states = []
        for h, name in zip(given, names):
            _check_state(type(self).__name__, h, shape if batched else shape[1:], name, x)
            states.append(h if batched else h.unsqueeze(0))
        return xb, states, batched


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: str | None = None,
                 dtype: DTypeLike = None, *, impl: str = "fused") -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        # an RNN step is already one matmul pair and one tanh/relu op: both impls are the same
        super().__init__(input_size, hidden_size, bias, GATES[self.mode], device, dtype,
                         impl=impl)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        xb, (h,), batched = self._prepare(input, hx, 1)
        (h,) = _cell("RNN_" + self.nonlinearity.upper(), xb, (h,), self._cell_weights(),
                     self.impl)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o): returns (h', c')."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: str | None = None, dtype: DTypeLike = None, *,
                 impl: str = "fused") -> None:
        super().__init__(input_size, hidden_size, bias, GATES[self.mode], device, dtype,
                         impl=impl)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None  # noqa: A002
                ) -> tuple[Tensor, Tensor]:
        xb, (h, c), batched = self._prepare(input, hx, 2)
        h, c = _cell(self.mode, xb, (h, c), self._cell_weights(), self.impl)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n): returns h'."""

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: str | None = None, dtype: DTypeLike = None, *,
                 impl: str = "fused") -> None:
        super().__init__(input_size, hidden_size, bias, GATES[self.mode], device, dtype,
                         impl=impl)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        xb, (h,), batched = self._prepare(input, hx, 1)
        (h,) = _cell(self.mode, xb, (h,), self._cell_weights(), self.impl)
        return h if batched else h.squeeze(0)


# ---- sequence layers ----------------------------------------------------------------------
# The functions below are the sequence layers' one code path, which ``tr.lstm``, ``tr.gru``,
# ``tr.rnn_tanh`` and ``tr.rnn_relu`` share: the layers hand them their parameters, the
# functions PyTorch's flat list of them.

Weights = tuple[Any, Any, Any, Any, Any]  # W_ih, W_hh, b_ih, b_hh, W_hr (None where absent)


def _sequence_states(who: str, mode: str, input: Tensor, hx: Any,  # noqa: A002
                     batch_first: bool, ld: int, h_out: int, hidden: int
                     ) -> tuple[Tensor, list[Tensor], bool]:
    """The input as (T, B, I) and the initial states as (L*D, B, h_out) (and (L*D, B, hidden)
    for LSTM's c), checked, zeros where ``hx`` is None; and whether the input was batched
    ((T, I) unbatched, with states (L*D, ·))."""
    batched = input.ndim == 3
    if not batched:
        x = input.unsqueeze(1)
    else:
        x = input.transpose(1, 0, 2) if batch_first else input
    if x.shape[0] == 0:
        raise ValueError(f"{who}: the input has no time steps (shape {input.shape}); a "
                         "sequence needs at least one")
    shapes = [(ld, x.shape[1], h_out)] + ([(ld, x.shape[1], hidden)] if mode == "LSTM" else [])
    if hx is None:
        xp = x._dev.xp
        return x, [Tensor._wrap(xp.zeros(s, dtype=x.dtype), x._dev) for s in shapes], batched
    if mode == "LSTM":
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"{who}: the initial state must be a tuple (h_0, c_0)")
        given = list(hx)
    else:
        if isinstance(hx, (tuple, list)):
            raise TypeError(f"{who}: the initial state must be one Tensor")
        given = [hx]
    states = []
    for h, s, name in zip(given, shapes, ["hidden", "cell"]):
        _check_state(who, h, s if batched else (s[0], s[2]), name, input)
        states.append(h if batched else h.unsqueeze(1))
    return x, states, batched


def _mask(lengths: Any, T: int, B: int, batched: bool, x: Tensor) -> Any:
    """A (T, B, 1) boolean device array: step t is inside sequence b. None without lengths."""
    if lengths is None:
        return None
    host = lengths.numpy() if isinstance(lengths, Tensor) else np.asarray(lengths)
    host = host.reshape(-1) if not batched else host
    if host.size == 0:  # [] of an empty batch: NumPy makes it float
        host = host.astype(np.int64)
    if host.dtype.kind not in "iu":
        raise DTypeError(f"lengths must be integers, got dtype {host.dtype}")
    if host.shape != (B,):
        raise ValueError(f"lengths must hold one length per sequence: expected shape ({B},),"
                         f" got {host.shape}")
    if host.size and (host.min() < 1 or host.max() > T):
        raise ValueError(f"lengths must lie in [1, {T}] (the padded length), got "
                         f"{host.tolist()}")
    m = np.arange(T)[:, None, None] < host[None, :, None]
    return x._dev.to_device(m)


def _zero_padding(x: Tensor, mask: Any) -> Tensor:
    """The input with its padded steps zeroed. Padding is never an output or a state, yet
    the weight gradients are sums over every step (Σ dgatesᵀ x), where a padded step's zero
    gradient times a NaN or inf in the padding would still give NaN. With zeros there,
    whatever a batch was padded with changes nothing, as with PyTorch's packed sequences;
    the gradient of the padding is zero."""
    return where(mask, x, 0.0)


def _stack(mode: str, x: Tensor, states: list[Tensor], weights: list[Weights],
           num_directions: int, dropout: float, mask: Any, impl: str = "fused"
           ) -> tuple[Tensor, Tensor, Tensor | None]:
    """Every layer in turn over the sequence x (T, B, I): each direction of a layer is one
    fused op (``impl="fused"``) or a loop of composed cells, and the next layer reads the
    directions' outputs side by side. ``states``: h_0 (and c_0 for LSTM), (L*D, B, ·);
    ``weights``: one ``Weights`` per layer and direction, in PyTorch's order (layer by layer,
    forward before reverse); ``dropout``: the probability of dropping from the outputs of
    every layer but the last (0 outside training); ``mask``: ``_mask``'s, or None. Returns
    the last layer's outputs (T, B, D*h_out) and h_n (and c_n for LSTM), (L*D, B, ·)."""
    if mask is not None:
        x = _zero_padding(x, mask)
    num_layers = len(weights) // num_directions
    h_n, c_n = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(num_directions):
            i = layer * num_directions + d
            h0, c0 = _row(states[0], i), (_row(states[1], i) if mode == "LSTM" else None)
            if impl == "fused":
                out, h, c = _run_fused(mode, x, h0, c0, weights[i], d == 1, mask)
            else:
                out, h, c = _run(mode, x, h0, c0, weights[i], d == 1, mask,
                                 group=f"l{layer}" + ("_reverse" if d else ""))
            outs.append(out)
            h_n.append(h)
            c_n.append(c)
        x = outs[0] if len(outs) == 1 else cat(outs, axis=2)
        if dropout and layer < num_layers - 1:
            x = F.dropout(x, dropout, training=True)
    # a stack even of one: h_n and c_n are new tensors, as PyTorch's, not views of a step's
    # state (a view could not be detached in place, the truncated-BPTT idiom h.detach_())
    return x, stack(h_n, 0), (stack(c_n, 0) if mode == "LSTM" else None)


def _row(states: Tensor, i: int) -> Tensor:
    """``states[i]``: the initial state of layer-and-direction i. A constant state (zeros
    where none was given, or one that needs no gradient and carries no forward-mode tangent)
    is read as an array view, with no op in the graph; this runs for every layer on every
    call."""
    if (states._ctx is None and not states.requires_grad and states._base is None
            and getattr(states, "_fw", None) is None):
        return Tensor._wrap(states._data[i], states._dev)
    return states[i]


def _run_fused(mode: str, x: Tensor, h: Tensor, c: Tensor | None, w: Weights, reverse: bool,
               mask: Any) -> tuple[Tensor, Tensor, Tensor | None]:
    """``_run`` as one fused op (ops/fused.py): the same function, a few array calls a step."""
    w_ih, w_hh, b_ih, b_hh, w_hr = w
    bias = b_ih is not None
    inputs = [x, h] + ([c] if c is not None else []) + [w_ih, w_hh]
    inputs += ([b_ih, b_hh] if bias else []) + ([w_hr] if w_hr is not None else [])
    kw = dict(bias=bias, proj=w_hr is not None, reverse=reverse, mask=mask)
    if mode == "LSTM":
        out, h_n, c_n = LSTMSequence.apply(*inputs, **kw)
        return out, h_n, c_n
    if mode == "GRU":
        out, h_n = GRUSequence.apply(*inputs, **kw)
    else:
        out, h_n = RNNSequence.apply(*inputs, **kw, nonlinearity=_NONLINEARITY[mode])
    return out, h_n, None


def _run(mode: str, x: Tensor, h: Tensor, c: Tensor | None, w: Weights, reverse: bool,
         mask: Any, group: str = "") -> tuple[Tensor, Tensor, Tensor | None]:
    """One direction of one layer over the sequence: outputs (T, B, H_out), final h, c.
    The readable version (``impl="composed"``): one composed cell per step, each marked
    as time step t of ``group`` for ``viz.to_dot``."""
    w_ih, w_hh, b_ih, b_hh, w_hr = w
    T = x.shape[0]
    if mode != "GRU" and b_ih is not None:  # both biases belong to every step's sum: added
        b_ih, b_hh = b_ih + b_hh, None  # once here (the GRU keeps b_hn inside r ⊙ (.))
    xw = F.linear(x, w_ih, b_ih).unbind(0)  # the input half of every step: one matmul
    ys: list[Any] = [None] * T
    for t in range(T - 1, -1, -1) if reverse else range(T):
        step_inputs = (xw[t], h, c)  # for viz.to_dot: the ops from these on are step t
        if mode == "LSTM":
            h_new, c_new = F.lstm_cell_projected(xw[t], (h, c), w_hh, b_hh, w_hr)
        elif mode == "GRU":
            h_new = F.gru_cell_projected(xw[t], h, w_hh, b_hh)
        else:
            h_new = F.rnn_cell_projected(xw[t], h, w_hh, b_hh, _NONLINEARITY[mode])
        if mask is None:
            h, c, y = h_new, (c_new if c is not None else None), h_new
        else:  # past its end a sequence keeps its state and outputs zeros
            m = mask[t]
            y = where(m, h_new, 0.0)
            h = where(m, h_new, h)
            c = where(m, c_new, c) if c is not None else None
        ys[t] = y.unsqueeze(0)  # inside the step, so that a drawing of it shows it there
        mark_step(t, group, (ys[t], h, c), step_inputs)  # (drawing only: no math)
    return cat(ys, 0), h, c


def _outputs(mode: str, out: Tensor, h_n: Tensor, c_n: Tensor | None, batched: bool,
             batch_first: bool) -> tuple[Tensor, ...]:
    """``_stack``'s results in the caller's layout: (output, h_n[, c_n]), the output
    batch-first where asked, the batch axis dropped from all of them for an unbatched input."""
    if batched:
        return (out.transpose(1, 0, 2) if batch_first else out, h_n,
                *([c_n] if mode == "LSTM" else []))
    return (out.squeeze(1), h_n.squeeze(1), *([c_n.squeeze(1)] if c_n is not None else []))




class RNNBase(Module):
    """The shared machinery of ``RNN``, ``LSTM`` and ``GRU`` (see those)."""

    def __init__(
        self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
        bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
        bidirectional: bool = False, proj_size: int = 0, forget_bias: float = 0.0,
        device: str | None = None, dtype: DTypeLike = None, impl: str = "fused",
    ) -> None:
        super().__init__()
        self.impl = _check_impl(impl)
        self.mode = mode
        self.input_size = _positive_int("input_size", input_size)
        self.hidden_size = _positive_int("hidden_size", hidden_size)
        self.num_layers = _positive_int("num_layers", num_layers)
        if not (isinstance(dropout, numbers.Real) and not isinstance(dropout, (bool, np.bool_))
                and 0 <= dropout <= 1):
            raise ValueError(f"dropout must be a number in [0, 1], got {dropout!r}")
        if dropout and self.num_layers == 1:
            warnings.warn(f"dropout={dropout} does nothing with num_layers=1: it applies between "
                          "layers, to the outputs of all but the last", UserWarning, stacklevel=3)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        if not isinstance(proj_size, (int, np.integer)) or isinstance(proj_size, bool) or \
                proj_size < 0 or (
                proj_size and proj_size >= hidden_size):
            raise ValueError(f"proj_size must be 0 or in [1, hidden_size), got {proj_size!r}")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size is only supported by LSTM")
        if forget_bias and not (mode == "LSTM" and bias):
            raise ValueError("forget_bias needs an LSTM with bias=True")
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self.proj_size, self.forget_bias = int(proj_size), float(forget_bias)
        self._device = get_device(device or "cpu").name
        self._dtype = param_dtype(dtype, type(self).__name__)
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """The size of h (``proj_size`` when projecting, else ``hidden_size``)."""
        return self.proj_size or self.hidden_size

    def reset_parameters(self) -> None:
        """PyTorch's initialisation, U(-1/sqrt(H), 1/sqrt(H)) for every parameter, then
        ``forget_bias`` added to the forget-gate block of each ``bias_ih``."""
        h, g = self.hidden_size, GATES[self.mode] * self.hidden_size
        k = 1 / math.sqrt(h)
        for layer in range(self.num_layers):
            n_in = self.input_size if layer == 0 else self.output_size * self.num_directions
            for d in range(self.num_directions):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                self._init_parameter("weight_ih" + sfx, _uniform((g, n_in), k))
                self._init_parameter("weight_hh" + sfx, _uniform((g, self.output_size), k))
                if self.bias:
                    b_ih = self._init_parameter("bias_ih" + sfx, _uniform((g,), k))
                    if self.forget_bias:
                        b_ih._data[h:2 * h] += self.forget_bias
                    self._init_parameter("bias_hh" + sfx, _uniform((g,), k))
                if self.proj_size:
                    self._init_parameter("weight_hr" + sfx, _uniform((self.proj_size, h), k))

    @property
    def all_weights(self) -> list[list[Tensor]]:
        """The parameters of each layer and direction, as PyTorch lists them: W_ih, W_hh
        (b_ih, b_hh with bias; W_hr with a projection)."""
        return [[w for w in self._weights(layer, d) if w is not None]
                for layer in range(self.num_layers) for d in range(self.num_directions)]

    def flatten_parameters(self) -> None:
        """Does nothing: PyTorch packs its weights into one buffer for cuDNN here, and these
        layers need no such packing. It exists so that PyTorch code calling it runs."""

    @property
    def _all_weights(self) -> list[list[str]]:
        """The names of ``all_weights``, per layer and direction, as PyTorch's."""
        return [[n + self._suffix(layer, d) for n, w in zip(_WEIGHT_NAMES,
                                                            self._weights(layer, d))
                 if w is not None]
                for layer in range(self.num_layers) for d in range(self.num_directions)]

    @staticmethod
    def _suffix(layer: int, d: int) -> str:
        return f"_l{layer}" + ("_reverse" if d else "")

    def _weights(self, layer: int, d: int) -> tuple[Any, ...]:
        """W_ih, W_hh, b_ih, b_hh, W_hr of one layer and direction (None where absent), read
        as attributes: a weight replaced by a computed tensor (``del
        rnn._parameters["weight_hh_l0"]; rnn.weight_hh_l0 = raw * mask``, the weight-drop
        recipe) is used as it is."""
        sfx = self._suffix(layer, d)
        params = self._parameters  # (first: this runs on every call)
        return tuple(params[n] if n in params else getattr(self, n, None)
                     for n in [w + sfx for w in _WEIGHT_NAMES])

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"  # in torch's order, then ours
        for name, default in [("proj_size", 0), ("num_layers", 1), ("bias", True),
                              ("batch_first", False), ("dropout", 0.0), ("bidirectional", False),
                              ("forget_bias", 0.0)]:
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s

    # ---- forward ---------------------------------------------------------------------------
    def forward(self, input: Tensor | PackedSequence,  # noqa: A002 - PyTorch's name
                hx: State | None = None, lengths: Any = None
                ) -> tuple[Tensor | PackedSequence, State]:
        """Run the whole sequence. ``input`` is (T, B, I), (B, T, I) with ``batch_first``, or
        (T, I) unbatched, or a ``PackedSequence``. Returns ``(output, h_n)``
        (``(output, (h_n, c_n))`` for LSTM): output is (T, B, D*H_out) (batch-first if asked),
        or a ``PackedSequence`` for a packed input; states (num_layers*D, B, H_out), in the
        batch's own order (a packed batch's too, as PyTorch's)."""
        if isinstance(input, PackedSequence):  # run as the padded batch with its lengths
            if lengths is not None:
                raise ValueError(f"{type(self).__name__}: a PackedSequence carries its own "
                                 "lengths; lengths= is for a padded batch")
            if not isinstance(input.data, Tensor) or input.data.ndim != 2:
                raise ValueError(f"{type(self).__name__}: a packed input's data must be 2-D "
                                 f"(steps, {self.input_size}), got shape "
                                 f"{getattr(input.data, 'shape', None)}")
            padded, lens = pad_packed_sequence(input)
            output, state = self._forward(padded, hx, lens, batch_first=False)
            return _packed_like(output, input), state
        return self._forward(input, hx, lengths, self.batch_first)

    def _forward(self, input: Tensor, hx: State | None, lengths: Any,  # noqa: A002
                 batch_first: bool) -> tuple[Tensor, State]:
        weights = [self._weights(layer, d) for layer in range(self.num_layers)
                   for d in range(self.num_directions)]
        _check_input(self, input, (2, 3), self.input_size, weights[0][0])
        ld = self.num_layers * self.num_directions
        x, states, batched = _sequence_states(type(self).__name__, self.mode, input, hx,
                                              batch_first, ld, self.output_size,
                                              self.hidden_size)
        mask = _mask(lengths, x.shape[0], x.shape[1], batched, x)
        out, h_n, c_n = _stack(self.mode, x, states, weights, self.num_directions,
                               self.dropout if self.training else 0.0, mask, self.impl)
        output, *last = _outputs(self.mode, out, h_n, c_n, batched, batch_first)
        return output, (tuple(last) if self.mode == "LSTM" else last[0])


class RNN(RNNBase):
    """Elman RNN over sequences, as ``torch.nn.RNN``:
    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu), stacked and optionally
    bidirectional. Call ``rnn(input, hx=None, lengths=None) -> (output, h_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: str | None = None,
                 dtype: DTypeLike = None, *, impl: str = "fused") -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype, impl=impl)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """LSTM over sequences, as ``torch.nn.LSTM`` (gates i, f, g, o; ``proj_size``), plus
    ``forget_bias``. Call ``lstm(input, hx=None, lengths=None) -> (output, (h_n, c_n))``,
    hx = (h_0, c_0)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: str | None = None, dtype: DTypeLike = None, *,
                 forget_bias: float = 0.0, impl: str = "fused") -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, forget_bias, device, dtype, impl)


class GRU(RNNBase):
    """GRU over sequences, as ``torch.nn.GRU`` (gates r, z, n).
    Call ``gru(input, hx=None, lengths=None) -> (output, h_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: str | None = None, dtype: DTypeLike = None, *,
                 impl: str = "fused") -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype, impl=impl)


# ---- PyTorch's functional forms: tr.lstm, tr.gru, tr.rnn_tanh, tr.rnn_relu and the cells ---

_FUNCTION_NAMES = {"RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu", "LSTM": "lstm", "GRU": "gru"}


def _matrix(who: str, w: Any, name: str) -> Tensor:
    """``w``, checked to be a 2-D Tensor: the weight that the sizes are read from."""
    if not isinstance(w, Tensor):
        raise TypeError(f"{who}: {name} must be a Tensor, got {describe_type(w)}")
    if w.ndim != 2:
        raise OpError(f"{who}: {name} must be 2-D (gates*hidden_size, features), got shape "
                      f"{w.shape}")
    return w


def _grouped_params(who: str, mode: str, params: Any, has_biases: bool, num_layers: int,
                    num_directions: int, x: Tensor) -> tuple[list[Weights], int, int]:
    """PyTorch's flat ``params`` (per layer and direction: W_ih, W_hh[, b_ih, b_hh][, W_hr])
    as one ``Weights`` each, every shape, dtype and device checked against the input ``x``;
    with the hidden size H and the size of h (H, or W_hr's rows with a projection)."""
    if not isinstance(params, (list, tuple)):
        raise TypeError(f"{who}: params must be a list of Tensors, got {describe_type(params)}")
    groups, base = num_layers * num_directions, 4 if has_biases else 2
    per = len(params) // groups
    if len(params) % groups or per not in ((base, base + 1) if mode == "LSTM" else (base,)):
        names = ", ".join(_WEIGHT_NAMES[:2] + (_WEIGHT_NAMES[2:4] if has_biases else ()))
        proj = f" (or {groups * (base + 1)} with weight_hr)" if mode == "LSTM" else ""
        raise OpError(f"{who}: expected {groups * base} params{proj} for {num_layers} "
                      f"layer(s) x {num_directions} direction(s), each {names}; got "
                      f"{len(params)}")
    w_hh = _matrix(who, params[1], "weight_hh_l0")
    G = GATES[mode]
    if w_hh.shape[0] % G:
        raise OpError(f"{who}: weight_hh_l0 has {w_hh.shape[0]} rows, not a multiple of the "
                      f"{G} gate blocks (of hidden_size rows each)")
    H = w_hh.shape[0] // G
    h_out = w_hh.shape[1] if per == base + 1 else H
    weights = []
    for k in range(groups):
        layer, d = divmod(k, num_directions)
        n_in = x.shape[-1] if layer == 0 else num_directions * h_out
        shapes = [(G * H, n_in), (G * H, h_out)] + [(G * H,)] * (2 if has_biases else 0)
        names = list(_WEIGHT_NAMES[:2] + (_WEIGHT_NAMES[2:4] if has_biases else ()))
        if per == base + 1:
            shapes.append((h_out, H))
            names.append(_WEIGHT_NAMES[4])
        mine = params[k * per:(k + 1) * per]
        for w, shape, name in zip(mine, shapes, names):
            _check_state(who, w, shape, name + RNNBase._suffix(layer, d), x)
        b = mine[2:4] if has_biases else [None, None]
        weights.append((mine[0], mine[1], b[0], b[1], mine[-1] if per == base + 1 else None))
    return weights, H, h_out


def _sequence(mode: str, input: Tensor, batch_sizes: Tensor | None, hx: Any,  # noqa: A002
              params: Any, has_biases: bool, num_layers: int, dropout: float, train: bool,
              bidirectional: bool, batch_first: bool) -> tuple[Tensor, ...]:
    """``tr.lstm`` and its siblings, padded (``batch_sizes`` None) or packed: the layers'
    own code path (``_stack``) with PyTorch's flat parameter list."""
    who = _FUNCTION_NAMES[mode]
    num_layers = _positive_int(f"{who}: num_layers", num_layers)
    D = 2 if bidirectional else 1
    if not isinstance(input, Tensor):
        raise TypeError(f"{who}: input must be a Tensor, got {describe_type(input)}")
    ndims = (2,) if batch_sizes is not None else (2, 3)
    if input.ndim not in ndims:
        raise OpError(f"{who}: expected a " + ("2-D packed input (steps, features)"
                      if batch_sizes is not None else "3-D (batched) or 2-D (unbatched) input")
                      + f", got shape {input.shape}")
    weights, H, h_out = _grouped_params(who, mode, params, bool(has_biases), num_layers, D,
                                        input)
    lengths, packed = None, None
    if batch_sizes is not None:  # run as the padded batch with its lengths, as the layers do
        if not isinstance(batch_sizes, Tensor) or batch_sizes.dtype != np.int64 or \
                batch_sizes.device != "cpu":
            got = (f"{batch_sizes.dtype} on {batch_sizes.device!r}"
                   if isinstance(batch_sizes, Tensor) else describe_type(batch_sizes))
            raise DTypeError(f"{who}: batch_sizes must be an int64 Tensor on the CPU (a "
                             f"PackedSequence's), got {got}")
        packed = PackedSequence(input, batch_sizes)
        _check_packed(packed, who)
        input, lengths = pad_packed_sequence(packed)  # noqa: A001
        batch_first = False
    x, states, batched = _sequence_states(who, mode, input, hx, bool(batch_first),
                                          num_layers * D, h_out, H)
    mask = _mask(lengths, x.shape[0], x.shape[1], batched, x)
    out, h_n, c_n = _stack(mode, x, states, weights, D, dropout if train else 0.0, mask)
    output, *last = _outputs(mode, out, h_n, c_n, batched, bool(batch_first))
    if packed is not None:
        output = _packed_like(output, packed).data
    return (output, *last)


def _padded(mode: str, input: Tensor, hx: Any, params: Any, has_biases: bool,  # noqa: A002
            num_layers: int, dropout: float, train: bool, bidirectional: bool,
            batch_first: bool) -> tuple[Tensor, ...]:
    return _sequence(mode, input, None, hx, params, has_biases, num_layers, dropout, train,
                     bidirectional, batch_first)


def _packed(mode: str, data: Tensor, batch_sizes: Tensor, hx: Any, params: Any,
            has_biases: bool, num_layers: int, dropout: float, train: bool,
            bidirectional: bool) -> tuple[Tensor, ...]:
    return _sequence(mode, data, batch_sizes, hx, params, has_biases, num_layers, dropout,
                     train, bidirectional, False)


def _overload(mode: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """PyTorch's two overloads, told apart as PyTorch does, by their arguments: the packed one
    has the params list fourth (the padded one has has_biases there) or ``batch_sizes=``."""
    packed = "batch_sizes" in kwargs or "data" in kwargs or (
        len(args) > 3 and isinstance(args[3], (list, tuple)))
    return (_packed if packed else _padded)(mode, *args, **kwargs)


_SEQUENCE_DOC = """``torch.{name}``: the whole of ``nn.{layer}`` as a function of PyTorch's flat
    parameter list, on the layers' own code path. Two overloads, as PyTorch's:

    - padded: ``{name}(input, hx, params, has_biases, num_layers, dropout, train,
      bidirectional, batch_first)``, input (T, B, I), (B, T, I) with ``batch_first``, or
      (T, I) unbatched;
    - packed: ``{name}(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train,
      bidirectional)``, the ``data`` and ``batch_sizes`` of a ``PackedSequence`` (sorted:
      ``hx`` and the states are in the packed order), the output ``data`` packed alike.

    ``params``: per layer and direction (forward, then reverse), W_ih, W_hh, then b_ih, b_hh
    with ``has_biases``{proj}, as ``nn.{layer}.all_weights`` lists them. ``hx``: {hx}.
    ``dropout`` drops from the outputs of every layer but the last when ``train``. Returns
    {returns}, states (num_layers*D, B, ·). Differentiable in the input, ``hx`` and every
    param. Shapes, dtypes and devices are checked, and errors name what was expected."""


def lstm(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor, Tensor]:
    return _overload("LSTM", args, kwargs)


def gru(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    return _overload("GRU", args, kwargs)


def rnn_tanh(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    return _overload("RNN_TANH", args, kwargs)


def rnn_relu(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    return _overload("RNN_RELU", args, kwargs)


_ONE_STATE = dict(hx="h_0 (num_layers*D, B, H)", returns="(output, h_n)")
lstm.__doc__ = _SEQUENCE_DOC.format(
    name="lstm", layer="LSTM", hx="the tuple (h_0, c_0), h_0 (num_layers*D, B, H_out) and c_0 "
    "(num_layers*D, B, H)", proj=", then W_hr (H_out, H) with a projection (found by the "
    "count of params)", returns="(output, h_n, c_n), output (T, B, D*H_out)")
gru.__doc__ = _SEQUENCE_DOC.format(name="gru", layer="GRU", proj="", **_ONE_STATE)
rnn_tanh.__doc__ = _SEQUENCE_DOC.format(name="rnn_tanh", layer="RNN", proj="", **_ONE_STATE)
rnn_relu.__doc__ = _SEQUENCE_DOC.format(name="rnn_relu", layer="RNN (relu)", proj="",
                                        **_ONE_STATE)


def _cell_function(mode: str, input: Tensor, hx: Any, w_ih: Tensor,  # noqa: A002
                   w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None) -> tuple[Tensor, ...]:
    """``tr.lstm_cell`` and its siblings: one step of the cells' own code path (``_cell``),
    input (B, I) or (I,) unbatched, every tensor checked against the input and W_hh."""
    who = _FUNCTION_NAMES[mode] + "_cell"
    if not isinstance(input, Tensor):
        raise TypeError(f"{who}: input must be a Tensor, got {describe_type(input)}")
    if input.ndim not in (1, 2):
        raise OpError(f"{who}: expected a 2-D (batched) or 1-D (unbatched) input, got shape "
                      f"{input.shape}")
    if mode == "LSTM" and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
        raise TypeError(f"{who}: hx must be a tuple (h, c) of two Tensors, got "
                        f"{describe_type(hx)}")
    given = list(hx) if mode == "LSTM" else [hx]
    G = GATES[mode]
    H = _matrix(who, w_hh, "w_hh").shape[1]
    _check_state(who, w_hh, (G * H, H), "w_hh", input)
    _check_state(who, w_ih, (G * H, input.shape[-1]), "w_ih", input)
    for b, name in ((b_ih, "b_ih"), (b_hh, "b_hh")):
        if b is not None:
            _check_state(who, b, (G * H,), name, input)
    batched = input.ndim == 2
    state = (input.shape[0], H) if batched else (H,)
    for h, name in zip(given, ["hx", "cx"]):
        _check_state(who, h, state, name, input)
    if not batched:
        input, given = input.unsqueeze(0), [h.unsqueeze(0) for h in given]  # noqa: A001
    new = _cell(mode, input, tuple(given), (w_ih, w_hh, b_ih, b_hh))
    return new if batched else tuple(h.squeeze(0) for h in new)


def lstm_cell(input: Tensor, hx: tuple[Tensor, Tensor], w_ih: Tensor,  # noqa: A002
              w_hh: Tensor, b_ih: Tensor | None = None, b_hh: Tensor | None = None
              ) -> tuple[Tensor, Tensor]:
    """``torch.lstm_cell``: one LSTM step, ``nn.LSTMCell`` as a function (the equations are
    in ``functional.lstm_cell``). input (B, I) or (I,); hx = (h, c), each (B, H) or (H,);
    w_ih (4H, I), w_hh (4H, H), b_ih, b_hh (4H,) or None. Returns (h', c')."""
    h, c = _cell_function("LSTM", input, hx, w_ih, w_hh, b_ih, b_hh)
    return h, c


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,  # noqa: A002
             b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """``torch.gru_cell``: one GRU step, ``nn.GRUCell`` as a function (the equations are in
    ``functional.gru_cell``). input (B, I) or (I,); hx (B, H) or (H,); w_ih (3H, I),
    w_hh (3H, H), b_ih, b_hh (3H,) or None. Returns h'."""
    return _cell_function("GRU", input, hx, w_ih, w_hh, b_ih, b_hh)[0]


def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,  # noqa: A002
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """``torch.rnn_tanh_cell``: h' = tanh(W_ih x + b_ih + W_hh h + b_hh), ``nn.RNNCell`` as
    a function. input (B, I) or (I,); hx (B, H) or (H,); w_ih (H, I), w_hh (H, H)."""
    return _cell_function("RNN_TANH", input, hx, w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,  # noqa: A002
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """``torch.rnn_relu_cell``: ``rnn_tanh_cell`` with relu in place of tanh."""
    return _cell_function("RNN_RELU", input, hx, w_ih, w_hh, b_ih, b_hh)[0]

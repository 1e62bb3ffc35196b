"""Recurrent layers (``RNN``, ``LSTM``, ``GRU``) and their cells, with torch's parameter names,
gate orders, initialization and printing.

A whole multi-layer, bidirectional run is one op: its function loops over time with
``jax.lax.scan``, so the graph holds one node (not one per step and gate) and JAX derives the
gradients of the input, the initial states and every weight. An op has one output, so the
op returns the output and the final states raveled into one vector, which the module cuts
apart with views.
"""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp

from .. import _factories, _ops
from .._graph import Op, apply
from .._tensor import Tensor
from . import functional as F
from ._modules import Module, _uniform
from .utils import rnn
from .utils.rnn import PackedSequence

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU"]

# torch's gate counts: the rows of weight_ih / weight_hh are the gates stacked
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _step(mode: str, x_gates, h, c, w_hh, b_hh, w_hr=None):
    """One time step from the input's projection ``x_gates`` (bias included) and the state
    ``(h, c)`` (``c`` is used by LSTM only): the new ``(h, c)``, in torch's gate order. An
    LSTM with ``w_hr`` projects its new ``h`` by it (torch's ``proj_size``)."""
    h_gates = jnp.matmul(h, w_hh.T)
    if b_hh is not None:
        h_gates = h_gates + b_hh
    if mode == "LSTM":
        i, f, g, o = jnp.split(x_gates + h_gates, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h if w_hr is None else jnp.matmul(h, w_hr.T)), c
    if mode == "GRU":
        x_r, x_z, x_n = jnp.split(x_gates, 3, axis=-1)
        h_r, h_z, h_n = jnp.split(h_gates, 3, axis=-1)
        r, z = jax.nn.sigmoid(x_r + h_r), jax.nn.sigmoid(x_z + h_z)
        n = jnp.tanh(x_n + r * h_n)
        return (1 - z) * n + z * h, c
    pre = x_gates + h_gates
    return (jnp.tanh(pre) if mode == "RNN_TANH" else jax.nn.relu(pre)), c


def _project(x, w_ih, b_ih):
    gates = jnp.matmul(x, w_ih.T)
    return gates if b_ih is None else gates + b_ih


def _cell(x, h, c, w_ih, w_hh, b_ih, b_hh, *, mode: str):
    h, c = _step(mode, _project(x, w_ih, b_ih), h, c, w_hh, b_hh)
    return jnp.stack([h, c]) if mode == "LSTM" else h


def _direction(mode: str, x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr, lengths, reverse: bool):
    """One layer in one direction over time-major ``x``: outputs (T, B, H) and final state.
    With ``lengths`` (B,), a sequence's state stays as it is past its length (and its output
    there is zero): the forward direction ends, and the reverse one starts, at its last step."""
    def body(state, x_gates):
        state = _step(mode, x_gates, *state, w_hh, b_hh, w_hr)
        return state, state[0]

    def body_within_lengths(state, xs):
        x_gates, t = xs
        running = (t < lengths)[:, None]
        new = tuple(jnp.where(running, a, b)
                    for a, b in zip(_step(mode, x_gates, *state, w_hh, b_hh, w_hr), state))
        return new, jnp.where(running, new[0], 0)

    gates = _project(x, w_ih, b_ih)
    if lengths is None:
        (h, c), out = jax.lax.scan(body, (h, c), gates, reverse=reverse)
    else:
        (h, c), out = jax.lax.scan(body_within_lengths, (h, c),
                                   (gates, jnp.arange(x.shape[0])), reverse=reverse)
    return out, h, c


def _rnn(x, h0, c0, masks, lengths, *weights, mode: str, num_layers: int, dirs: int,
         batch_first: bool, bias: bool, proj: bool):
    """The output and the final states, raveled and concatenated. ``weights`` are torch's
    flat weights (per layer, per direction: w_ih, w_hh, then b_ih, b_hh with ``bias``, then
    w_hr with ``proj``); ``masks`` are the scaled dropout masks applied to each layer's output
    but the last; ``lengths``, those of the sequences of a padded batch (or None)."""
    if batch_first:
        x = jnp.swapaxes(x, 0, 1)
    per = len(weights) // (num_layers * dirs)
    hs, cs = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            w = weights[k * per:(k + 1) * per]
            b_ih, b_hh = w[2:4] if bias else (None, None)
            out, h, c = _direction(mode, x, h0[k], c0[k], w[0], w[1], b_ih, b_hh,
                                   w[-1] if proj else None, lengths, d == 1)
            outs.append(out)
            hs.append(h)
            cs.append(c)
        x = jnp.concatenate(outs, axis=-1) if dirs == 2 else outs[0]
        if masks is not None and layer < num_layers - 1:
            x = x * masks[layer]
    if batch_first:
        x = jnp.swapaxes(x, 0, 1)
    parts = [x, jnp.stack(hs)] + ([jnp.stack(cs)] if mode == "LSTM" else [])
    return jnp.concatenate([p.ravel() for p in parts])


# torch's nodes here depend on its kernel (oneDNN's or its own, cell by cell); these name the
# one op funcgrad records.
RNN_CELL = Op("rnn_cell", _cell, "RnnCellBackward0")
RNN_LAYERS = Op("rnn", _rnn, "RnnBackward0")


def _autocast_run(mode: str, cell: bool):
    """How a recurrence of ``mode`` runs: as torch's CPU autocast treats it, Elman layers and
    cells and LSTM layers cast as a matmul does, GRUs and LSTM cells do not."""
    return _ops._as_matmul if mode.startswith("RNN") or mode == "LSTM" and not cell else apply


def _check_input(input: Tensor, input_size: int) -> None:
    if input.size(1) != input_size:
        raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} "
                           f"expected {input_size}")


def _check_states(input: Tensor, states: tuple, hidden_size: int) -> None:
    for i, h in enumerate(states):
        if h.shape[0] != input.shape[0]:
            raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{i} "
                               f"batch size {h.shape[0]}")
        size = h.shape[min(h.ndim - 1, 1)]  # (torch reads dimension 1, of any rank)
        if size != hidden_size:
            raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {size}, "
                               f"expected {hidden_size}")


def _check_weights(mode: str, w_ih: Tensor, w_hh: Tensor) -> None:
    gates, hidden_size = _GATES[mode], w_hh.shape[1]
    for name, weight in (("weight_ih", w_ih), ("weight_hh", w_hh)):
        if weight.shape[0] != gates * hidden_size:
            raise RuntimeError(f"{name} first dim must be {gates} * hidden_size = "
                               f"{gates * hidden_size}, but got {weight.shape[0]}")


# the order in which torch's top-level cells check their (w)eights, (i)nput and (h)idden states
_CHECK_ORDER = {"RNN_TANH": "wih", "RNN_RELU": "wih", "LSTM": "iwh", "GRU": "ihw"}


def cell(mode: str, input: Tensor, h: Tensor, c: Tensor, w_ih: Tensor, w_hh: Tensor,
         b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor:
    """One step of a cell of ``mode`` on a batch: the new ``h``, or for an LSTM ``h`` and
    ``c`` stacked."""
    return _autocast_run(mode, True)(RNN_CELL, input, h, c, w_ih, w_hh, b_ih, b_hh, mode=mode)


def functional_cell(mode: str, input: Tensor, states: tuple, w_ih: Tensor, w_hh: Tensor,
                    b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor:
    """torch's top-level cells (``lstm_cell``, ``gru_cell``…): ``cell`` after torch's checks
    of the weights, the batch of inputs and the states, in its order and words."""
    checks = {"w": lambda: _check_weights(mode, w_ih, w_hh),
              "i": lambda: _check_input(input, w_ih.shape[1]),
              "h": lambda: _check_states(input, states, w_hh.shape[1])}
    for check in _CHECK_ORDER[mode]:
        checks[check]()
    return cell(mode, input, states[0], states[-1], w_ih, w_hh, b_ih, b_hh)


def _map_states(states, fn):
    """``fn`` of an RNN's or GRU's state, or of each of an LSTM's (a pair)."""
    return tuple(map(fn, states)) if isinstance(states, tuple) else fn(states)


def _cut(flat: Tensor, *shapes: tuple) -> list[Tensor]:
    """Views of consecutive pieces of ``flat`` with the given shapes."""
    pieces, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        pieces.append(flat[start:start + size].reshape(shape))
        start += size
    return pieces


class RNNCellBase(Module):
    """One step of a recurrent cell of ``num_chunks`` gates; weights and biases uniform in
    ``±1/sqrt(hidden_size)``. The base of ``RNNCell``, ``GRUCell`` and ``LSTMCell``."""

    _mode: str  # the step each subclass computes

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gates = num_chunks * hidden_size
        bound = 1 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
        self.weight_ih = _uniform((gates, input_size), bound, dtype, device)
        self.weight_hh = _uniform((gates, hidden_size), bound, dtype, device)
        if bias:
            self.bias_ih = _uniform((gates,), bound, dtype, device)
            self.bias_hh = _uniform((gates,), bound, dtype, device)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def _prepare(self, input: Tensor, states: tuple | None) -> tuple:
        """``(input, states, batched)``: the input and states as a batch (states zeros when
        None), checked in torch's order and words."""
        name, lstm = type(self).__name__, self._mode == "LSTM"
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        for i, h in enumerate(states or ()):
            if h.ndim not in (1, 2):
                which = f"hx[{i}]" if lstm else "hidden"
                raise ValueError(f"{name}: Expected {which} to be 1D or 2D, got {h.ndim}D "
                                 "instead")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
            states = states and tuple(h.unsqueeze(0) for h in states)
        if states is None:
            zeros = _factories.zeros(input.shape[0], self.hidden_size, dtype=input.dtype,
                                     device=input.device)
            states = (zeros,) * (lstm + 1)
        _check_input(input, self.input_size)
        _check_states(input, states, self.hidden_size)
        return input, states, batched

    def _run(self, input: Tensor, h: Tensor, c: Tensor) -> Tensor:
        return cell(self._mode, input, h, c, self.weight_ih, self.weight_hh, self.bias_ih,
                    self.bias_hh)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h,), batched = self._prepare(input, None if hx is None else (hx,))
        h = self._run(input, h, h)
        return h if batched else h.squeeze(0)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text


class RNNCell(RNNCellBase):
    """An Elman cell: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or ``relu``).

    >>> import funcgrad
    >>> cell = funcgrad.nn.RNNCell(3, 4, nonlinearity="relu")
    >>> cell
    RNNCell(3, 4, nonlinearity=relu)
    >>> cell(funcgrad.ones(2, 3)).shape
    funcgrad.Size([2, 4])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self._mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity



class GRUCell(RNNCellBase):
    """A gated recurrent unit cell, with torch's gate order (reset, update, new) and its
    reset gate applied after the hidden projection."""

    _mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)


class LSTMCell(RNNCellBase):
    """A long short-term memory cell, with torch's gate order (input, forget, cell, output);
    returns ``(h', c')``.

    >>> import funcgrad
    >>> h, c = funcgrad.nn.LSTMCell(3, 4)(funcgrad.ones(3))
    >>> h.shape, c.shape
    (funcgrad.Size([4]), funcgrad.Size([4]))
    """

    _mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None):
        input, (h, c), batched = self._prepare(input, None if hx is None else tuple(hx))
        both = self._run(input, h, c)
        h, c = both[0], both[1]
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class RNNBase(Module):
    """Stacked recurrent layers of ``mode`` (``"LSTM"``, ``"GRU"``, ``"RNN_TANH"`` or
    ``"RNN_RELU"``) over (T, N, H_in) input ((N, T, H_in) with ``batch_first``, or unbatched
    (T, H_in)); weights and biases uniform in ``±1/sqrt(hidden_size)``. The base of ``RNN``,
    ``GRU`` and ``LSTM``.

    >>> import funcgrad
    >>> lstm = funcgrad.nn.LSTM(3, 4, num_layers=2)
    >>> isinstance(lstm, funcgrad.nn.RNNBase), lstm.mode
    (True, 'LSTM')
    >>> [w.shape for w in lstm.all_weights[1]]
    [funcgrad.Size([16, 4]), funcgrad.Size([16, 4]), funcgrad.Size([16]), funcgrad.Size([16])]
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode = mode
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError("hidden_size must be a positive integer")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than or equal to 1")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and self.mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size
        gates = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        out_size = proj_size or hidden_size  # (h's size)
        bound = 1 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:dirs]:
                size_in = input_size if layer == 0 else out_size * dirs
                name = f"l{layer}{suffix}"
                setattr(self, f"weight_ih_{name}", _uniform((gates, size_in), bound, dtype,
                                                            device))
                setattr(self, f"weight_hh_{name}", _uniform((gates, out_size), bound, dtype,
                                                            device))
                if bias:
                    setattr(self, f"bias_ih_{name}", _uniform((gates,), bound, dtype, device))
                    setattr(self, f"bias_hh_{name}", _uniform((gates,), bound, dtype, device))
                if proj_size:
                    setattr(self, f"weight_hr_{name}", _uniform((proj_size, hidden_size), bound,
                                                                dtype, device))

    def _states(self, input: Tensor, hx, batched: bool, batch_first: bool) -> tuple:
        """The initial ``(h0, c0)`` as batched (layers * directions, N, H) tensors, checked
        (with the input's size) in torch's order and words."""
        lstm = self.mode == "LSTM"
        hx = None if hx is None else tuple(hx) if lstm else (hx,)
        want = 3 if batched else 2
        if hx is not None and any(h.ndim != want for h in hx):
            which = "batched 3" if batched else "unbatched 2"
            got = (f"({hx[0].ndim}-D, {hx[1].ndim}-D) tensors" if lstm
                   else f"{hx[0].ndim}-D tensor")
            raise RuntimeError(f"For {which}-D input, hx{' and cx' if lstm else ''} should also "
                               f"be {want}-D but got {got}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError("input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        dirs = 2 if self.bidirectional else 1
        batch = input.shape[0 if batch_first else 1]
        shapes = [(self.num_layers * dirs, batch, size)
                  for size in (self.proj_size or self.hidden_size, self.hidden_size)]
        if hx is None:
            return tuple(_factories.zeros(*shape, dtype=input.dtype, device=input.device)
                         for shape in shapes)
        if not batched:
            hx = tuple(h.unsqueeze(1) for h in hx)
        for i, (h, shape) in enumerate(zip(hx, shapes)):
            if tuple(h.shape) != shape:
                which = f"hidden[{i}]" if lstm else "hidden"
                raise RuntimeError(f"Expected {which} size {shape}, got {list(h.shape)}")
        return hx if lstm else hx * 2

    def forward(self, input: Tensor | PackedSequence, hx=None):
        """The output and the final state(s), as torch's. A packed ``input`` (see
        ``funcgrad.nn.utils.rnn``) gives a packed output, and each sequence's final state is
        the one at its own last step."""
        packed = input if isinstance(input, PackedSequence) else None
        lengths, batch_first = None, self.batch_first
        if packed is not None:  # run as a padded, time-major batch, sorted as it is packed
            input, lengths = rnn.pad_packed_sequence(PackedSequence(*packed[:2]))
            lengths, batch_first = jnp.asarray(lengths.tolist()), False
            if hx is not None and packed.sorted_indices is not None:
                hx = _map_states(hx, lambda h: h.index_select(1, packed.sorted_indices))
        elif input.ndim not in (2, 3):
            name = "RNN" if self.mode.startswith("RNN") else self.mode
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D "
                             f"{'tensor ' if name == 'RNN' else ''}instead")
        batched = input.ndim == 3
        if not batched:
            input = input.unsqueeze(0 if batch_first else 1)
        h0, c0 = self._states(input, hx, batched, batch_first)
        dirs = 2 if self.bidirectional else 1
        masks = None
        if self.training and self.dropout > 0 and self.num_layers > 1:
            shape = (self.num_layers - 1, *input.shape[:-1], h0.shape[-1] * dirs)
            masks = F._dropout_noise(self.dropout, shape, input.dtype)
        flat = _autocast_run(self.mode, False)(
            RNN_LAYERS, input, h0, c0, masks, lengths, *self._flat_weights(), mode=self.mode,
            num_layers=self.num_layers, dirs=dirs, batch_first=batch_first, bias=self.bias,
            proj=self.proj_size > 0)
        states = [tuple(h0.shape), tuple(c0.shape)][:(self.mode == "LSTM") + 1]
        output, *final = _cut(flat, (*input.shape[:-1], h0.shape[-1] * dirs), *states)
        if not batched:
            output = output.squeeze(0 if batch_first else 1)
            final = [h.squeeze(1) for h in final]
        final = tuple(final) if self.mode == "LSTM" else final[0]
        if packed is None:
            return output, final
        output = rnn.pack_padded_sequence(output, lengths.tolist())
        if packed.unsorted_indices is not None:
            final = _map_states(final, lambda h: h.index_select(1, packed.unsorted_indices))
        return PackedSequence(output.data, packed.batch_sizes, packed.sorted_indices,
                              packed.unsorted_indices), final

    @property
    def _all_weights(self) -> list[list[str]]:
        """torch's names of the weights and biases, per layer and direction."""
        names = [[]]
        for name in self._parameters:
            if names[-1] and name.startswith("weight_ih"):
                names.append([])
            names[-1].append(name)
        return names

    @property
    def all_weights(self) -> list[list[Tensor]]:
        """The weights and biases, per layer and direction, as torch lists them."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """Accepted for torch compatibility: there is no cuDNN weight buffer to compact."""

    def _flat_weights(self) -> list[Tensor]:
        """torch's ``_flat_weights`` order: per layer and direction, the weights then biases."""
        return [p for p in self._parameters.values() if p is not None]

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text


class RNN(RNNBase):
    """Stacked Elman layers with ``tanh`` (or ``relu``); returns ``(output, h_n)``.

    >>> import funcgrad
    >>> rnn = funcgrad.nn.RNN(3, 4, num_layers=2, bidirectional=True)
    >>> output, h_n = rnn(funcgrad.ones(5, 2, 3))
    >>> output.shape, h_n.shape
    (funcgrad.Size([5, 2, 8]), funcgrad.Size([4, 2, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class GRU(RNNBase):
    """Stacked gated-recurrent-unit layers (``GRUCell``'s step); returns ``(output, h_n)``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("GRU", *args, **kwargs)


class LSTM(RNNBase):
    """Stacked long short-term memory layers (``LSTMCell``'s step); takes ``(h_0, c_0)`` and
    returns ``(output, (h_n, c_n))``; with ``proj_size``, ``h`` is projected to that size by
    ``weight_hr``.

    >>> import funcgrad
    >>> lstm = funcgrad.nn.LSTM(3, 4, batch_first=True)
    >>> lstm
    LSTM(3, 4, batch_first=True)
    >>> output, (h_n, c_n) = lstm(funcgrad.ones(2, 5, 3))
    >>> output.shape, c_n.shape
    (funcgrad.Size([2, 5, 4]), funcgrad.Size([1, 2, 4]))
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)

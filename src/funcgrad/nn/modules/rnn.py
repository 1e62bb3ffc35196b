"""``funcgrad.nn.modules.rnn``: the recurrent modules, where torch keeps them, for code importing
from here."""

from .._rnn import GRU as GRU
from .._rnn import LSTM as LSTM
from .._rnn import RNN as RNN
from .._rnn import GRUCell as GRUCell
from .._rnn import LSTMCell as LSTMCell
from .._rnn import RNNBase as RNNBase
from .._rnn import RNNCell as RNNCell
from .._rnn import RNNCellBase as RNNCellBase

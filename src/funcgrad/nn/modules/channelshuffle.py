"""``funcgrad.nn.modules.channelshuffle``: the channel shuffle, where torch keeps them, for code
importing from here."""

from .._modules import ChannelShuffle as ChannelShuffle

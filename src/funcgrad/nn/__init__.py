"""``funcgrad.nn``: neural-network building blocks."""

from . import functional as functional
from . import init as init
from . import utils as utils
from ._modules import (
    ELU,
    GELU,
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    L1Loss,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    Module,
    ModuleDict,
    ModuleList,
    MSELoss,
    NLLLoss,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)

__all__ = [
    "functional", "init", "utils", "Parameter", "Module", "Linear", "Sequential", "ModuleList",
    "ModuleDict", "Identity", "Flatten", "ReLU", "Tanh", "Sigmoid", "GELU", "SiLU", "LeakyReLU",
    "ELU", "Softplus", "Softmax", "LogSoftmax", "Dropout", "Embedding", "LayerNorm", "MSELoss",
    "L1Loss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
]

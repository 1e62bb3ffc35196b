"""``funcgrad.nn``: neural-network building blocks."""

from . import functional as functional
from . import init as init
from . import utils as utils
from ._modules import (
    ELU,
    GELU,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    BCELoss,
    BCEWithLogitsLoss,
    Conv1d,
    Conv2d,
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
    MaxPool2d,
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
    "functional", "init", "utils", "Parameter", "Module", "Linear", "Conv1d", "Conv2d",
    "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Sequential", "ModuleList",
    "ModuleDict", "Identity", "Flatten", "ReLU", "Tanh", "Sigmoid", "GELU", "SiLU", "LeakyReLU",
    "ELU", "Softplus", "Softmax", "LogSoftmax", "Dropout", "Embedding", "LayerNorm", "MSELoss",
    "L1Loss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
]

"""``funcgrad.nn``: neural-network building blocks."""

from . import functional as functional
from ._modules import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    LayerNorm,
    Linear,
    Module,
    MSELoss,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)

__all__ = [
    "functional", "Parameter", "Module", "Linear", "Sequential", "ReLU", "Tanh", "Sigmoid",
    "Dropout", "Embedding", "LayerNorm", "MSELoss", "BCELoss", "BCEWithLogitsLoss",
    "CrossEntropyLoss",
]

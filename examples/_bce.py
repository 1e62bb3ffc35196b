"""The seed notebook's binary cross-entropy, shared by the BCE examples and the functional one."""

import funcgrad


def binary_cross_entropy_loss(prediction, target):
    """Binary cross-entropy of one prediction, written with funcgrad ops as the notebook does."""
    epsilon = 1e-8  # To prevent log(0)
    prediction = funcgrad.clamp(prediction, epsilon, 1 - epsilon)
    return -(target * funcgrad.log(prediction) + (1 - target) * funcgrad.log(1 - prediction))

"""The seed notebook's logistic-regression gradient (cgpa 6.7 -> placement 0), chained by hand."""

from _bce import binary_cross_entropy_loss
from _common import setup

import funcgrad


def main() -> None:
    setup(__doc__)
    x = funcgrad.tensor(6.7)  # Input feature
    y = funcgrad.tensor(0.0)  # True label (binary)
    w = funcgrad.tensor(1.0)  # Weight
    b = funcgrad.tensor(0.0)  # Bias

    z = w * x + b  # Weighted sum (linear part)
    y_pred = funcgrad.sigmoid(z)  # Predicted probability
    loss = binary_cross_entropy_loss(y_pred, y)
    print(repr(loss))  # In [26]

    dloss_dy_pred = (y_pred - y) / (y_pred * (1 - y_pred))
    dy_pred_dz = y_pred * (1 - y_pred)
    dz_dw = x
    dz_db = 1
    dL_dw = dloss_dy_pred * dy_pred_dz * dz_dw
    dL_db = dloss_dy_pred * dy_pred_dz * dz_db
    print(f"Manual Gradient of loss w.r.t weight (dw): {dL_dw}")  # In [28]
    print(f"Manual Gradient of loss w.r.t bias (db): {dL_db}")


if __name__ == "__main__":
    main()

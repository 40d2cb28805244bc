"""How good is a fit: the usual regression metrics, in the target's original units."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def regression_metrics(y: Sequence[float], yhat: Sequence[float]) -> dict[str, float]:
    """MSE, RMSE, MAE and R² (1 − SS_res/SS_tot; NaN when the target is constant)."""
    y, yhat = np.asarray(y, dtype=float), np.asarray(yhat, dtype=float)
    if len(y) == 0:
        return {"MSE": np.nan, "RMSE": np.nan, "MAE": np.nan, "R²": np.nan}
    r = y - yhat
    mse = float(np.mean(r**2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return {"MSE": mse, "RMSE": mse**0.5, "MAE": float(np.mean(np.abs(r))), "R²": 1 - float(np.sum(r**2)) / ss_tot if ss_tot else np.nan}

"""The exact answers gradient descent is heading for, computed independently of torch: least squares and 2/λ_max."""

from __future__ import annotations

import numpy as np

from core.data.dataset import Dataset


def least_squares(ds: Dataset, rows: np.ndarray | None = None) -> tuple[dict[str, float], float]:
    """Closed-form least squares with an intercept, in original units: the optimum of MSE for a linear model."""
    X = ds.X.to_numpy(dtype=np.float64)
    y = ds.y.to_numpy(dtype=np.float64)
    if rows is not None:
        X, y = X[rows], y[rows]
    A = np.column_stack([X, np.ones(len(y))])
    sol, *_ = np.linalg.lstsq(A, y, rcond=None)
    return dict(zip(ds.features, map(float, sol[:-1]))), float(sol[-1])


def stable_lr(X: np.ndarray) -> float:
    """2/λ_max: plain gradient descent on the MSE of a linear model with an intercept converges only below it.

    The MSE's Hessian over (w, b) is H = (2/n)·AᵀA with A = [X, 1]; a step of lr multiplies the error along
    H's top eigenvector by (1 − lr·λ_max), which shrinks only while lr < 2/λ_max.
    """
    A = np.column_stack([X, np.ones(len(X))])
    return 2.0 / float(np.linalg.eigvalsh(2.0 / len(X) * A.T @ A)[-1])

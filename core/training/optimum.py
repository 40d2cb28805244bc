"""The exact answers gradient descent is heading for, computed independently of torch: least squares and 2/λ_max."""

from __future__ import annotations

import math

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


def suggested_rate_and_epochs(X: np.ndarray, tolerance: float = 1e-3, max_epochs: int = 100_000) -> tuple[float, int]:
    """A learning rate and a number of epochs that take plain full-batch gradient descent on the MSE of a linear model
    (X in the units the optimizer sees) to within `tolerance` of least squares, from the Hessian's eigenvalues alone.

    η is 1/λ_max, half the stable bound, rounded down to one significant digit; the error along eigenvector i shrinks
    by |1 − η·λᵢ| each epoch, so the slowest direction (λ_min) needs log(tolerance)/log|1 − η·λ_min| epochs, rounded up
    to one significant digit (83 → 90, 347 → 400).
    """
    A = np.column_stack([X, np.ones(len(X))])
    lam = np.linalg.eigvalsh(2.0 / len(X) * A.T @ A)
    lr = _one_digit(1.0 / float(lam[-1]), up=False)
    shrink = abs(1.0 - lr * float(lam[0]))
    if shrink >= 1.0 - 1e-12:  # a flat direction (a constant or duplicated column): it never converges along it
        return lr, max_epochs
    return lr, min(max_epochs, _one_digit(max(math.log(tolerance) / math.log(max(shrink, 1e-300)), 1.0), up=True))


def _one_digit(x: float, up: bool) -> float | int:
    scale = 10.0 ** math.floor(math.log10(x))
    lead = math.ceil(x / scale - 1e-9) if up else math.floor(x / scale + 1e-9)
    value = lead * scale
    return int(round(value)) if up else float(f"{value:.1g}")

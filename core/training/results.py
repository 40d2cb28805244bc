"""What the Train page reports about a run: its pace, its fit per split, its coefficients beside least squares and
a prediction, all in original units. Torch-free (the server imports it): the worker sends back numbers, and these
turn them into what a person reads."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.data.dataset import Dataset
from core.data.preprocess import Scaler, split
from core.plotting import thin
from core.training.config import TrainConfig
from core.training.metrics import regression_metrics
from core.training.optimum import least_squares, suggested_rate_and_epochs
from core.training.weights import forward


@dataclass(frozen=True)
class RunData:
    """A run's rows as train() saw them. The worker does not send its split or scaler back, so the server derives
    them again from (dataset, config), once per run, with the same seeded split and the same Scaler.fit."""

    features: list[str]
    X: np.ndarray  # every row, original units: converted once, since the live fit uses it every frame
    y: np.ndarray
    train_rows: np.ndarray
    test_rows: np.ndarray
    scaler: Scaler  # z-scores of the training rows, or the identity when the run trained on raw features


def run_data(ds: Dataset, cfg: TrainConfig) -> RunData:
    X, y = ds.X.to_numpy(dtype=float), ds.y.to_numpy(dtype=float)
    train_rows, test_rows = split(len(ds), cfg.test_fraction, cfg.seed)
    scaler = Scaler.fit(X[train_rows], y[train_rows]) if cfg.standardize else Scaler.identity(len(ds.features))
    return RunData(list(ds.features), X, y, train_rows, test_rows, scaler)


ETA_AFTER_S = 1.0  # an ETA is said only after this much training: the first epochs' rate (warm-up) misleads
ETA_AFTER_FRACTION = 0.02  # and this much of the run


@dataclass(frozen=True)
class Pace:
    fraction: float  # of the epochs done, at most 1
    epochs_per_s: float  # over the time it trained (pauses left out); 0 until an epoch is done
    eta_s: float | None  # until the last epoch at this rate; None without a rate
    trained_s: float = 0.0  # time it has trained, pauses left out

    @property
    def shown_eta_s(self) -> float | None:
        """The ETA worth showing a person: none in a run's first second or first 2 % ("ETA 436 s" for a 5 s run)."""
        meaningful = self.trained_s >= ETA_AFTER_S and self.fraction >= ETA_AFTER_FRACTION
        return self.eta_s if meaningful else None


def pace(
    epochs_done: int, epochs_total: int, started_at: float | None, finished_at: float | None, now: float, paused_s: float = 0.0
) -> Pace:
    """How fast a run goes and when it ends: from its start to its end, or to now while it trains, less its pauses."""
    trained = (finished_at or now) - (started_at or now) - paused_s
    rate = epochs_done / trained if trained > 0 else 0.0
    return Pace(min(epochs_done / epochs_total, 1.0), rate, (epochs_total - epochs_done) / rate if rate else None, max(trained, 0.0))


def _weight_columns(history: dict[str, list], features: Sequence[str]) -> list[str] | None:
    """The history's weight columns (w:<feature>, training units); None when the trainer did not record them
    (models with many parameters)."""
    names = [f"w:{f}" for f in features]
    return names if "b" in history and all(n in history for n in names) else None


def live_predictions(data: RunData, history: dict[str, list]) -> np.ndarray | None:
    """The fit at the newest epoch, from the recorded weights, for every row; None before the first epoch or when
    the weights are not recorded."""
    names = _weight_columns(history, data.features)
    if names is None or not len(history["b"]):
        return None
    coef, intercept = data.scaler.to_original(np.array([history[n][-1] for n in names]), history["b"][-1])
    return data.X @ coef + intercept


def coefficient_paths(history: dict[str, list], features: Sequence[str], scaler: Scaler, keep: slice) -> dict[str, list[float]] | None:
    """Every coefficient and the intercept epoch by epoch, in original units, at the epochs `keep` selects
    (core.plotting.decimate); None when the weights are not recorded. Scaler.to_original for all epochs at once."""
    names = _weight_columns(history, features)
    if names is None:
        return None
    W = np.array([thin(history[n], keep) for n in names], dtype=float).T  # epochs × features
    b = np.array(thin(history["b"], keep), dtype=float)
    coef = scaler.y_std * W / scaler.x_std
    paths = {f: coef[:, i].tolist() for i, f in enumerate(features)}
    paths["intercept"] = (scaler.y_mean + scaler.y_std * b - coef @ scaler.x_mean).tolist()
    return paths


def fit_report(data: RunData, predictions: Sequence[float]) -> dict[str, dict[str, float]]:
    """MSE, RMSE, MAE and R² on the training rows and, when some were held out, on the test rows."""
    yhat = np.asarray(predictions, dtype=float)
    report = {"train": regression_metrics(data.y[data.train_rows], yhat[data.train_rows])}
    if len(data.test_rows):
        report["test"] = regression_metrics(data.y[data.test_rows], yhat[data.test_rows])
    return report


@dataclass(frozen=True)
class Comparison:
    rows: list[dict[str, Any]]  # per parameter: parameter, trained, least squares (exact), difference
    distance: float  # ‖trained − exact‖ / ‖exact‖: how far from the optimum, as a fraction of its length


def coefficient_comparison(ds: Dataset, train_rows: np.ndarray, coef: dict[str, float], intercept: float) -> Comparison:
    """A linear model's coefficients beside least squares on the same training rows: the exact optimum of the MSE
    that gradient descent is heading for."""
    exact_coef, exact_intercept = least_squares(ds, rows=train_rows)
    names = [*coef, "intercept"]
    trained = np.array([*coef.values(), intercept], dtype=float)
    exact = np.array([*(exact_coef[n] for n in coef), exact_intercept])
    rows = [
        {"parameter": n, "trained": float(t), "least squares (exact)": float(e), "difference": float(t - e)}
        for n, t, e in zip(names, trained, exact)
    ]
    distance = float(np.linalg.norm(trained - exact) / max(np.linalg.norm(exact), 1e-12))
    return Comparison(rows, distance)


def typical_inputs(ds: Dataset) -> dict[str, float]:
    """The predict form's starting values: each feature's median, to 4 significant digits so the box reads cleanly."""
    return {f: float(f"{ds.X[f].median():.4g}") for f in ds.features}


def predict(weights: dict[str, np.ndarray], scaler: Scaler, activation: str, x: Sequence[float]) -> float:
    """One prediction in original units from a row in original units, for any served model (linear or MLP):
    scale the row as training did, run the numpy forward pass, and map ŷ back."""
    z = (np.asarray(x, dtype=float) - scaler.x_mean) / scaler.x_std
    return float(forward(weights, z, activation)[0] * scaler.y_std + scaler.y_mean)


def next_settings(cfg: TrainConfig, data: RunData, diverged: bool) -> TrainConfig | None:
    """What to train next after a run that diverged or ended short of least squares. For plain full-batch gradient
    descent on the MSE of a linear model it follows from the Hessian (optimum.suggested_rate_and_epochs); after any
    other divergence, a tenth of the learning rate. None when there is no better setting to offer."""
    plain = cfg.model == "linear" and cfg.loss == "mse" and cfg.optimizer == "sgd" and cfg.batch_size is None
    if plain:
        X = data.X[data.train_rows]
        if cfg.standardize:
            X = (X - data.scaler.x_mean) / data.scaler.x_std
        lr, epochs = suggested_rate_and_epochs(X)
        return dataclasses.replace(cfg, lr=lr, epochs=epochs)
    return dataclasses.replace(cfg, lr=float(f"{cfg.lr / 10:.3g}")) if diverged else None

"""What happens to a dataset before training: polynomial features, the train/test split and z-scores."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations_with_replacement
from typing import Any

import numpy as np
import pandas as pd

from core.data.dataset import DataError, Dataset
from core.data.moments import ColumnStats, column_stats
from core.i18n import _

# ---------------------------------------------------------------- preprocessing

MAX_POLY_FEATURES = 60


def polynomial_features(ds: Dataset, degree: int) -> Dataset:
    """Every product of the features up to degree, named so a coefficient says what it multiplies (area_m2^2, area_m2·rooms).

    The model stays linear in these columns, so least squares and every coefficient keep their meaning; the
    expansion is recorded in spec["polynomial"] so the dataset can be rebuilt from its spec.
    """
    if degree == 1:
        return ds
    if not 1 <= degree <= 5:
        raise DataError("Polynomial degree must be between 1 and 5; got {degree}.", degree=degree)
    base = ds.features
    terms = [t for d in range(1, degree + 1) for t in combinations_with_replacement(range(len(base)), d)]
    if len(terms) > MAX_POLY_FEATURES:
        raise DataError(
            "Degree {degree} on {features} features makes {columns} columns (at most {most}); lower the degree or use fewer features.",
            degree=degree,
            features=len(base),
            columns=len(terms),
            most=MAX_POLY_FEATURES,
        )
    X = ds.X.to_numpy(dtype=float)
    columns = {_term_name(base, t): np.prod(X[:, list(t)], axis=1) for t in terms}
    spec = {**ds.spec, "polynomial": {"degree": degree, "base_features": base}}
    desc = f"{ds.description} Polynomial features up to degree {degree}.".strip()
    return Dataset(X=pd.DataFrame(columns, index=ds.X.index), y=ds.y, name=ds.name, description=desc, spec=spec)


def _term_name(base: list[str], term: tuple[int, ...]) -> str:
    counts = {i: term.count(i) for i in dict.fromkeys(term)}
    return "·".join(base[i] if k == 1 else f"{base[i]}^{k}" for i, k in counts.items())


def split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/test row indices. Torch-free so the server can compute the same split."""
    test = holdout_mask(n, test_fraction, seed)
    if test is None:  # every row trains: no permutation to draw (sorted, it was 0 … n−1 anyway)
        return np.arange(n), np.arange(0)
    return np.flatnonzero(~test), np.flatnonzero(test)  # sorted, as np.sort gave them, in O(n) instead of O(n log n)


def holdout_mask(n: int, test_fraction: float, seed: int) -> np.ndarray | None:
    """split()'s test rows as a mask over the n rows, None when there are none: under torchrun a rank that holds
    only a range of the rows takes its part of the one split from it, without reading the other rows."""
    if not 0.0 <= test_fraction < 1.0:
        raise DataError("test_fraction must be in [0, 1); got {fraction}.", fraction=test_fraction)
    n_test = int(round(n * test_fraction))
    if n - n_test < 1:
        raise DataError("The test split leaves no training rows.")
    if n_test == 0:
        return None
    order = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
    np.random.default_rng(seed).shuffle(order)  # permutation(n)'s order (the same draws), in half its memory at 4-byte ints
    test = np.zeros(n, dtype=bool)
    test[order[:n_test]] = True
    return test


@dataclass(frozen=True)
class Scaler:
    """z-score for X and y, kept so every coefficient maps back to original units."""

    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: float
    y_std: float

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, rows: np.ndarray | None = None) -> Scaler:
        """z-scores of the given rows (None: all), from one pass over them (core.data.moments)."""
        return cls.from_stats(column_stats(X, y, rows))

    @classmethod
    def from_stats(cls, stats: ColumnStats) -> Scaler:
        std = np.where(stats.std > 0, stats.std, 1.0)  # a constant column is left unscaled
        return cls(stats.mean[:-1], std[:-1], float(stats.mean[-1]), float(std[-1]))

    @classmethod
    def identity(cls, n_features: int) -> Scaler:
        return cls(np.zeros(n_features), np.ones(n_features), 0.0, 1.0)

    def transform(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (X - self.x_mean) / self.x_std, (y - self.y_mean) / self.y_std

    def to_original(self, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
        """y = y_std·(w·(x − x_mean)/x_std + b) + y_mean, rearranged to coef·x + intercept."""
        coef = self.y_std * np.asarray(w, dtype=float) / self.x_std
        return coef, float(self.y_mean + self.y_std * b - coef @ self.x_mean)

    def to_standardized(self, coef: np.ndarray, intercept: float) -> tuple[np.ndarray, float]:
        """The inverse of to_original: the weights a model trained on z-scores would show."""
        coef = np.asarray(coef, dtype=float)
        w = coef * self.x_std / self.y_std
        return w, float((intercept + coef @ self.x_mean - self.y_mean) / self.y_std)


def coefficients_in_both_units(ds: Dataset, fit: tuple[dict[str, float], float], rows: np.ndarray) -> list[dict[str, Any]]:
    """One row per parameter of a fit in original units, beside the weight a model trained on z-scores shows.

    The z-scores are those of the given rows (the training split), as training with Standardize on computes them.
    The keys are English (the page labels the columns); "intercept" and the units are in the reader's language.
    """
    coef, intercept = fit
    scaler = Scaler.fit(ds.X.to_numpy(dtype=float)[rows], ds.y.to_numpy(dtype=float)[rows])
    w, b = scaler.to_standardized(np.array(list(coef.values())), intercept)
    return [
        {"parameter": name, "original units": value, "unit": unit, "standardized (z-scores)": float(z)}
        for name, value, unit, z in zip(
            [*coef, _("intercept")],
            [*coef.values(), intercept],
            [*(_("{target} per {feature}", target=ds.target, feature=f) for f in coef), ds.target],
            [*w, b],
        )
    ]

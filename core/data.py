"""Regression datasets: presets that teach, CSV loading that explains itself, split and scaling."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import pandas as pd


class DataError(ValueError):
    """Input data a person has to fix; the message says what and where."""


@dataclass(frozen=True, eq=False)
class Dataset:
    X: pd.DataFrame  # features, original units (the unit is in the column name, e.g. area_m2)
    y: pd.Series  # target, original units
    name: str
    description: str = ""
    spec: dict[str, Any] = field(default_factory=dict)  # how to rebuild it: preset and parameters

    @property
    def features(self) -> list[str]:
        return list(self.X.columns)

    @property
    def target(self) -> str:
        return str(self.y.name)

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Preset:
    name: str
    description: str  # one line a teacher can read out
    build: Callable[[np.random.Generator, int, float], tuple[pd.DataFrame, pd.Series]]


def _house_prices(rng: np.random.Generator, n: int, noise: float) -> tuple[pd.DataFrame, pd.Series]:
    area = rng.uniform(30.0, 250.0, n)
    # Bigger flats have more rooms, so the two features are correlated, as in real listings.
    rooms = np.clip(np.round(area / 40.0 + rng.normal(0.0, 0.7, n)), 1, 6)
    signal = 50_000.0 + 3_000.0 * area + 20_000.0 * rooms
    price = signal + rng.normal(0.0, noise * signal.std(), n)
    X = pd.DataFrame({"area_m2": area, "rooms": rooms})
    return X, pd.Series(price, name="price")


def _linear_1d(rng: np.random.Generator, n: int, noise: float) -> tuple[pd.DataFrame, pd.Series]:
    x = rng.uniform(-3.0, 3.0, n)
    signal = 2.0 * x + 1.0
    y = signal + rng.normal(0.0, noise * signal.std(), n)
    return pd.DataFrame({"x": x}), pd.Series(y, name="y")


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "house_prices",
            "Flat prices from area (m²) and number of rooms: the seed's example, price ≈ 50k + 3k·area + 20k·rooms.",
            _house_prices,
        ),
        Preset("linear_1d", "One feature, y = 2·x + 1 plus noise: the loss surface over (w, b) is exactly 2-D.", _linear_1d),
    )
}

MAX_ROWS = 1_000_000
DELIMITERS = (",", ";", "\t")


def make_dataset(preset: str = "house_prices", n: int = 1000, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Build a preset; the same (preset, n, noise, seed) always gives the same data."""
    if preset not in PRESETS:
        raise DataError(f"Unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}.")
    if not 2 <= n <= MAX_ROWS:
        raise DataError(f"n must be between 2 and {MAX_ROWS:,} rows; got {n}.")
    if not 0.0 <= noise <= 10.0:
        raise DataError(f"noise is a fraction of the signal's spread, between 0 and 10; got {noise}.")
    p = PRESETS[preset]
    X, y = p.build(np.random.default_rng(seed), n, noise)
    spec = {"preset": preset, "n": n, "noise": noise, "seed": seed}
    return Dataset(X=X, y=y, name=preset, description=p.description, spec=spec)


def load_csv(source: str | IO, target: str | None = None, features: list[str] | None = None) -> Dataset:
    """Read a numeric CSV. target None: the last column. features None: every other numeric column."""
    text = _read_text(source)
    if not text.strip():
        raise DataError("The file is empty: it needs a header row and at least two data rows.")
    header = text.lstrip().splitlines()[0]
    delimiter = max(DELIMITERS, key=header.count) if any(d in header for d in DELIMITERS) else ","
    try:
        df = pd.read_csv(io.StringIO(text), sep=delimiter)
    except (pd.errors.ParserError, csv.Error) as e:
        raise DataError(f"This does not read as a CSV file: {str(e)[:200]}") from None
    if df.shape[1] < 2:
        raise DataError("The file has a single column: it needs a target and at least one feature.")
    target = target if target is not None else str(df.columns[-1])
    if target not in df.columns:
        raise DataError(f"There is no column {target!r}; the columns are: {', '.join(map(str, df.columns))}.")
    if features is None:
        # a column that is mostly numbers is a feature with a few bad cells, reported below; text columns are skipped
        features = [c for c in df.columns if c != target and pd.to_numeric(df[c], errors="coerce").notna().mean() >= 0.5]
    missing = [f for f in features if f not in df.columns]
    if missing:
        raise DataError(f"No such feature column(s): {', '.join(map(str, missing))}.")
    if not features:
        raise DataError("No numeric feature column besides the target.")
    data = df[[*features, target]].apply(pd.to_numeric, errors="coerce")
    bad = ~np.isfinite(data.to_numpy(dtype=float)).all(axis=1)
    if bad.any():
        rows = (np.flatnonzero(bad) + 2)[:10]  # +2: the header is line 1 of the file
        raise DataError(f"{int(bad.sum())} row(s) have empty, non-numeric or infinite cells, e.g. lines {', '.join(map(str, rows))}.")
    if len(data) < len(features) + 2:
        raise DataError(f"Too few rows: {len(data)} rows for {len(features)} feature(s); need at least {len(features) + 2}.")
    spec = {"csv": getattr(source, "name", str(source)), "target": target, "features": list(features)}
    return Dataset(X=data[features].astype(float), y=data[target].astype(float), name="csv", spec=spec)


def _read_text(source: str | IO) -> str:
    if hasattr(source, "read"):
        raw = source.read()
    else:
        with open(source, "rb") as f:
            raw = f.read()
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError("The file is not UTF-8 text; save it as CSV (UTF-8) and upload it again.") from None


def split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/test row indices. Torch-free so the server can compute the same split."""
    if not 0.0 <= test_fraction < 1.0:
        raise DataError(f"test_fraction must be in [0, 1); got {test_fraction}.")
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    if n - n_test < 1:
        raise DataError("The test split leaves no training rows.")
    return np.sort(order[n_test:]), np.sort(order[:n_test])


@dataclass(frozen=True)
class Scaler:
    """z-score for X and y, kept so every coefficient maps back to original units."""

    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: float
    y_std: float

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray) -> Scaler:
        x_std = X.std(axis=0)
        y_std = float(y.std())
        return cls(X.mean(axis=0), np.where(x_std > 0, x_std, 1.0), float(y.mean()), y_std if y_std > 0 else 1.0)

    @classmethod
    def identity(cls, n_features: int) -> Scaler:
        return cls(np.zeros(n_features), np.ones(n_features), 0.0, 1.0)

    def transform(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (X - self.x_mean) / self.x_std, (y - self.y_mean) / self.y_std

    def to_original(self, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
        """y = y_std·(w·(x − x_mean)/x_std + b) + y_mean, rearranged to coef·x + intercept."""
        coef = self.y_std * np.asarray(w, dtype=float) / self.x_std
        return coef, float(self.y_mean + self.y_std * b - coef @ self.x_mean)

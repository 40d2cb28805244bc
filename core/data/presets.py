"""The teaching presets: the seed's house prices and datasets that each show one thing about regression."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.data.dataset import DataError, Dataset
from core.i18n import N_

Builder = Callable[..., tuple[pd.DataFrame, pd.Series]]


@dataclass(frozen=True)
class Preset:
    """name is the key (URLs, runs, exported scripts); title and description are catalogue ids, shown with _()."""

    name: str
    description: str  # one line a teacher can read out
    build: Builder  # (rng, n, noise, **params) -> (X, y)
    params: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # name -> (default, min, max)
    title: str = ""  # what a person reads for it: "House prices"


def _noisy(rng: np.random.Generator, signal: np.ndarray, noise: float) -> np.ndarray:
    """Gaussian noise with spread noise × the signal's spread, so noise means the same on every preset."""
    return signal + rng.normal(0.0, noise * signal.std(), len(signal))


def _house_prices(rng: np.random.Generator, n: int, noise: float) -> tuple[pd.DataFrame, pd.Series]:
    """The same numbers, bit for bit, as the plain formulas in the comments, but built in place: at n = 10M the
    plain version peaked at 4.5× the data's float32 size, this one at ~2.6× (tests/unit/data/test_data.py)."""
    block = np.empty((2, n))  # the frame's own storage: area and rooms, column-major as pandas keeps them
    area, rooms = block
    rng.random(out=area)  # area = rng.uniform(30, 250, n)
    area *= 220.0
    area += 30.0
    # Bigger flats have more rooms, so the two features are correlated, as in real listings.
    rng.standard_normal(out=rooms)  # rooms = clip(round(area / 40 + rng.normal(0, 0.7, n)), 1, 6)
    rooms *= 0.7
    signal = np.divide(area, 40.0)
    rooms += signal
    np.round(rooms, out=rooms)
    np.clip(rooms, 1, 6, out=rooms)
    np.multiply(area, 3_000.0, out=signal)  # signal = 50,000 + 3,000·area + 20,000·rooms
    signal += 50_000.0
    for lo in range(0, n, 1 << 16):  # the rooms term in slices: no third whole column before signal.std()
        signal[lo : lo + (1 << 16)] += rooms[lo : lo + (1 << 16)] * 20_000.0
    scale = noise * signal.std()
    price = rng.standard_normal(n)  # price = signal + rng.normal(0, noise·σ(signal), n)
    price *= scale
    price += signal
    X = pd.DataFrame(block.T, columns=["area_m2", "rooms"], copy=False)
    return X, pd.Series(price, name="price", copy=False)


def _linear_1d(rng: np.random.Generator, n: int, noise: float) -> tuple[pd.DataFrame, pd.Series]:
    x = rng.uniform(-3.0, 3.0, n)
    signal = 2.0 * x + 1.0
    y = signal + rng.normal(0.0, noise * signal.std(), n)
    return pd.DataFrame({"x": x}), pd.Series(y, name="y")


POLY_COEF = {2: (1.0, -2.0, 0.5), 3: (1.0, -2.0, -1.0, 0.5)}  # y = c0 + c1·x + c2·x² (+ c3·x³)


def _polynomial(rng: np.random.Generator, n: int, noise: float, degree: int = 3) -> tuple[pd.DataFrame, pd.Series]:
    x = rng.uniform(-3.0, 3.0, n)
    signal = np.polynomial.polynomial.polyval(x, POLY_COEF[degree])
    return pd.DataFrame({"x": x}), pd.Series(_noisy(rng, signal, noise), name="y")


def _sine(rng: np.random.Generator, n: int, noise: float) -> tuple[pd.DataFrame, pd.Series]:
    x = rng.uniform(0.0, 2.0 * np.pi, n)
    return pd.DataFrame({"x_rad": x}), pd.Series(_noisy(rng, np.sin(x), noise), name="y")


OUTLIER_FRACTION = 0.05


def _with_outliers(rng: np.random.Generator, n: int, noise: float) -> tuple[pd.DataFrame, pd.Series]:
    x = rng.uniform(-3.0, 3.0, n)
    y = _noisy(rng, 2.0 * x + 1.0, noise)
    k = max(1, round(OUTLIER_FRACTION * n))
    idx = rng.choice(n, size=k, replace=False)
    y[idx] += rng.choice([-1.0, 1.0], k) * rng.uniform(15.0, 25.0, k)  # far off the line: ~5σ of the signal and more
    return pd.DataFrame({"x": x}), pd.Series(y, name="y")


def _heteroscedastic(rng: np.random.Generator, n: int, noise: float) -> tuple[pd.DataFrame, pd.Series]:
    x = rng.uniform(0.0, 10.0, n)
    signal = 2.0 * x + 1.0
    spread = noise * signal.std() * (0.1 + 0.3 * x)  # 0.1× at x = 0 up to 3.1× at x = 10
    return pd.DataFrame({"x": x}), pd.Series(signal + rng.normal(0.0, 1.0, n) * spread, name="y")


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "house_prices",
            N_("Flat prices from area (m²) and number of rooms: the seed's example, price ≈ 50k + 3k·area + 20k·rooms."),
            _house_prices,
            title=N_("House prices"),
        ),
        Preset(
            "linear_1d",
            N_("One feature, y = 2·x + 1 plus noise: the loss surface over (w, b) is exactly 2-D."),
            _linear_1d,
            title=N_("A straight line"),
        ),
        Preset(
            "polynomial",
            N_("A curve, y = 1 − 2x − x² + 0.5x³ (or 1 − 2x + 0.5x² at degree 2): a straight line underfits; add polynomial features."),
            _polynomial,
            {"degree": (3, 2, 3)},
            title=N_("A polynomial curve"),
        ),
        Preset(
            "sine",
            N_("y = sin(x) over one period: no polynomial of low degree is exact, so watch the fit improve with degree."),
            _sine,
            title=N_("A sine wave"),
        ),
        Preset(
            "with_outliers",
            N_("y = 2·x + 1 with 5% of points thrown far off the line: squared error lets a few outliers tilt the fit."),
            _with_outliers,
            title=N_("A line with outliers"),
        ),
        Preset(
            "heteroscedastic",
            N_("y = 2·x + 1 where the noise grows with x: the fit is still unbiased, but its errors are not the same everywhere."),
            _heteroscedastic,
            title=N_("Noise that grows"),
        ),
    )
}

MAX_SEED = 2**32 - 1  # the same bound as a run's seed
MAX_ROWS = 1_000_000_000  # make_dataset's own bound (the memory of one machine); the app's is Limits.max_rows


def make_dataset(preset: str = "house_prices", n: int = 1000, noise: float = 0.1, seed: int = 0, **params: int) -> Dataset:
    """Build a preset; the same (preset, n, noise, seed, params) always gives the same data."""
    return make_rows(preset, n, 0, n, noise, seed, **params)


def make_rows(preset: str, n: int, lo: int, hi: int, noise: float = 0.1, seed: int = 0, **params: int) -> Dataset:
    """Rows [lo, hi) of make_dataset(preset, n, noise, seed, **params): under torchrun each rank builds only its own.

    Up to BLOCK_ABOVE rows the whole preset is drawn from one generator, as it always was (links and stored runs
    rebuild exactly that data), and sliced. Above it the rows are drawn in blocks of BLOCK_ROWS, each from its own
    generator seeded with (seed, block), so a process draws only the blocks its rows touch and every process draws
    the same rows whatever the number of ranks."""
    p, values = _checked(preset, n, noise, seed, params)
    if not 0 <= lo <= hi <= n:
        raise ValueError(f"rows [{lo}, {hi}) are not within the preset's {n}")
    spec = {"preset": preset, "n": n, "noise": noise, "seed": seed, **values}
    if n <= BLOCK_ABOVE:
        X, y = p.build(np.random.default_rng(seed), n, noise, **values)
        if (lo, hi) != (0, n):
            X, y = X.iloc[lo:hi].reset_index(drop=True), y.iloc[lo:hi].reset_index(drop=True)
    else:
        X, y = _blocks(p, n, lo, hi, noise, seed, values)
    return Dataset(X=X, y=y, name=preset, description=p.description, spec=spec)


def _env_rows(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


# Above BLOCK_ABOVE rows (only the CLI gets there: the app caps a preset's n at Limits.max_rows) a preset is drawn in
# blocks. The variables exist for tests, which exercise the blocks with a few thousand rows in spawned ranks.
BLOCK_ABOVE = _env_rows("DESCENT_PRESET_BLOCK_ABOVE", 1_000_000)
BLOCK_ROWS = _env_rows("DESCENT_PRESET_BLOCK_ROWS", 1 << 16)


def _blocks(p: Preset, n: int, lo: int, hi: int, noise: float, seed: int, values: dict[str, int]) -> tuple[pd.DataFrame, pd.Series]:
    """Rows [lo, hi) drawn block by block, written into one column-major array (no concatenation of frames)."""
    out: np.ndarray | None = None
    columns: list[str] = []
    target = ""
    for b in range(lo // BLOCK_ROWS, max(lo, hi - 1) // BLOCK_ROWS + 1):
        start = b * BLOCK_ROWS
        X, y = p.build(np.random.default_rng([seed, b]), min(BLOCK_ROWS, n - start), noise, **values)
        if out is None:
            columns, target = list(X.columns), str(y.name)
            out = np.empty((len(columns) + 1, hi - lo))
        a, z = max(lo, start) - start, min(hi, start + len(y)) - start  # the block's rows that are wanted
        at = start + a - lo
        out[:-1, at : at + z - a] = X.to_numpy(dtype=np.float64)[a:z].T
        out[-1, at : at + z - a] = y.to_numpy(dtype=np.float64)[a:z]
    return pd.DataFrame(out[:-1].T, columns=columns, copy=False), pd.Series(out[-1], name=target, copy=False)


def _checked(preset: str, n: int, noise: float, seed: int, params: dict[str, int]) -> tuple[Preset, dict[str, int]]:
    """The preset and its parameters, every value checked; raises DataError saying what to fix."""
    if preset not in PRESETS:
        raise DataError("Unknown preset {preset!r}; choose one of: {presets}.", preset=preset, presets=", ".join(PRESETS))
    if not 2 <= n <= MAX_ROWS:
        raise DataError("n must be between 2 and {most:,} rows; got {n}.", most=MAX_ROWS, n=n)
    if not 0.0 <= noise <= 10.0:
        raise DataError("noise is a fraction of the signal's spread, between 0 and 10; got {noise}.", noise=noise)
    if not (isinstance(seed, int) and 0 <= seed <= MAX_SEED):
        raise DataError("The data seed must be a whole number from 0 to {most:,}; got {seed!r}.", most=MAX_SEED, seed=seed)
    p = PRESETS[preset]
    unknown = set(params) - set(p.params)
    if unknown:
        if not p.params:
            raise DataError("Preset {preset!r} has no parameter {names}; it takes: none.", preset=preset, names=", ".join(sorted(unknown)))
        raise DataError(
            "Preset {preset!r} has no parameter {names}; it takes: {takes}.",
            preset=preset,
            names=", ".join(sorted(unknown)),
            takes=", ".join(p.params),
        )
    values = {k: int(params.get(k, default)) for k, (default, _, _) in p.params.items()}
    for k, (_, lo, hi) in p.params.items():
        if not lo <= values[k] <= hi:
            raise DataError(
                "{name} must be between {lo} and {hi} for preset {preset!r}; got {value}.",
                name=k,
                lo=lo,
                hi=hi,
                preset=preset,
                value=values[k],
            )
    return p, values

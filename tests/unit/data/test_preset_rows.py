"""A preset's rows: the same data as always up to 1,000,000 rows, blocks above it, any range of them alike."""

import hashlib

import numpy as np
import pytest

from core.data import presets
from core.data.presets import PRESETS, make_dataset, make_rows

# (preset, n, seed) → the first 16 hex digits of the sha256 of its float64 rows [X, y], and y's first and last
# values, from the code before make_rows existed: stored runs and shared links rebuild exactly these.
PINNED = [
    ("house_prices", 1000, 0, "4fd4d84939eaf806", 645033.1227156596, 483414.1831749018),
    ("house_prices", 1_000_000, 7, "264c8ac19c1c52ac", 606031.0114115885, 551755.0827642033),
    ("linear_1d", 1000, 0, "ae244d18e28e8354", 2.67210969512228, 0.062238496756255035),
    ("polynomial", 1000, 0, "98222f14a1fff74e", -1.0124209180705197, 2.2438585001307096),
    ("sine", 1_000_000, 7, "ce8901bc6d5f4a7e", -0.7955014724372179, -0.27985482442719634),
    ("with_outliers", 1000, 0, "4dd6e001465f658b", 2.67210969512228, 0.062238496756255035),
    ("with_outliers", 1_000_000, 7, "c4e4e8ef4c9d33c7", 2.0706595924469826, 0.945946621119679),
    ("heteroscedastic", 1000, 0, "0296c842ea39b677", 13.834983537651455, 9.637941482347967),
]


def rows_of(ds) -> np.ndarray:
    return np.ascontiguousarray(np.column_stack([ds.X.to_numpy(np.float64), ds.y.to_numpy(np.float64)]))


@pytest.mark.parametrize(("preset", "n", "seed", "digest", "first", "last"), PINNED)
def test_presets_up_to_a_million_rows_are_the_data_they_always_were(preset, n, seed, digest, first, last):
    ds = make_dataset(preset, n=n, noise=0.1, seed=seed)
    assert hashlib.sha256(rows_of(ds).tobytes()).hexdigest()[:16] == digest
    assert (float(ds.y.iat[0]), float(ds.y.iat[-1])) == (first, last)


def test_a_range_of_a_small_preset_is_its_slice():
    whole = rows_of(make_dataset("polynomial", n=5000, seed=2, degree=2))
    part = make_rows("polynomial", 5000, 1234, 4321, seed=2, degree=2)
    assert np.array_equal(rows_of(part), whole[1234:4321]) and part.X.index[0] == 0


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(presets, "BLOCK_ABOVE", 1000)
    monkeypatch.setattr(presets, "BLOCK_ROWS", 300)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_above_the_threshold_any_split_into_ranges_draws_the_same_rows(preset, small_blocks):
    n = 2501  # a last block of one row
    whole = make_dataset(preset, n=n, noise=0.3, seed=5)
    assert list(whole.X.columns) == list(presets.make_dataset(preset, n=10, seed=5).X.columns)
    rows = rows_of(whole)
    assert np.isfinite(rows).all()
    for world in (2, 3, 7):
        bounds = [n * r // world for r in range(world + 1)]
        parts = [rows_of(make_rows(preset, n, lo, hi, noise=0.3, seed=5)) for lo, hi in zip(bounds, bounds[1:])]
        assert np.array_equal(np.concatenate(parts), rows)
    assert np.array_equal(rows_of(make_rows(preset, n, 299, 301, noise=0.3, seed=5)), rows[299:301])  # across a block edge
    assert len(make_rows(preset, n, 600, 600, noise=0.3, seed=5)) == 0


def test_blocks_are_seeded_by_seed_and_block(small_blocks):
    a, b = make_dataset("linear_1d", n=2000, seed=1), make_dataset("linear_1d", n=2000, seed=2)
    assert not np.array_equal(rows_of(a)[:300], rows_of(b)[:300])
    assert not np.array_equal(rows_of(a)[:300], rows_of(a)[300:600])  # each block its own generator
    assert np.array_equal(rows_of(a)[:300], rows_of(make_dataset("linear_1d", n=1500, seed=1))[:300])  # a block is the same whatever n


def test_a_range_outside_the_preset_is_refused():
    with pytest.raises(ValueError):
        make_rows("sine", 100, 50, 101)

"""The Data page's coefficient table and data tables, checked against an independent computation."""

import numpy as np
import pytest

from core.data import coefficients_in_both_units, make_dataset, split
from core.training.optimum import least_squares


@pytest.mark.parametrize("preset", ["house_prices", "polynomial", "with_outliers"])
def test_the_standardized_column_is_least_squares_on_z_scores_of_the_training_rows(preset):
    ds = make_dataset(preset, n=400, noise=0.3, seed=1)
    rows = split(len(ds), 0.25, 0)[0]
    fit = least_squares(ds, rows=rows)

    table = coefficients_in_both_units(ds, fit, rows)

    X, y = ds.X.to_numpy(dtype=float)[rows], ds.y.to_numpy(dtype=float)[rows]
    Xz, yz = (X - X.mean(axis=0)) / X.std(axis=0), (y - y.mean()) / y.std()
    reference, *_ = np.linalg.lstsq(np.column_stack([Xz, np.ones(len(yz))]), yz, rcond=None)
    np.testing.assert_allclose([r["standardized (z-scores)"] for r in table], reference, atol=1e-8)
    assert abs(table[-1]["standardized (z-scores)"]) < 1e-8  # on z-scores the least-squares intercept is 0


def test_each_row_names_its_parameter_and_its_unit_in_original_units():
    ds = make_dataset("house_prices", n=100, noise=0.1, seed=0)
    fit = ({"area_m2": 3000.0, "rooms": 20000.0}, 50000.0)
    table = coefficients_in_both_units(ds, fit, split(len(ds), 0.2, 0)[0])
    assert [r["parameter"] for r in table] == ["area_m2", "rooms", "intercept"]
    assert [r["original units"] for r in table] == [3000.0, 20000.0, 50000.0]
    assert [r["unit"] for r in table] == ["price per area_m2", "price per rooms", "price"]


def test_frame_puts_the_target_last_and_summary_describes_every_column():
    ds = make_dataset("house_prices", n=50, noise=0.1, seed=0)
    assert list(ds.frame().columns) == ["area_m2", "rooms", "price"]
    summary = ds.summary()
    assert list(summary.index) == ["area_m2", "rooms", "price"]
    assert summary.loc["price", "mean"] == pytest.approx(ds.y.mean()) and summary.loc["rooms", "count"] == 50

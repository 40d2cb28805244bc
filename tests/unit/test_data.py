import io

import numpy as np
import pytest

from core.data import DataError, Scaler, load_csv, make_dataset, split


def test_house_prices_has_the_seeds_features_in_realistic_units():
    ds = make_dataset("house_prices", n=2000, noise=0.1, seed=0)
    assert ds.features == ["area_m2", "rooms"] and ds.target == "price"
    assert ds.X["area_m2"].between(30, 250).all()
    assert set(ds.X["rooms"].unique()) <= {1, 2, 3, 4, 5, 6}
    assert 1e5 < ds.y.median() < 1e6  # prices in currency units, not thousands
    assert np.corrcoef(ds.X["area_m2"], ds.X["rooms"])[0, 1] > 0.5  # bigger flats have more rooms


def test_presets_are_reproducible_and_seed_sensitive():
    a, b, c = make_dataset(seed=1), make_dataset(seed=1), make_dataset(seed=2)
    assert a.X.equals(b.X) and a.y.equals(b.y)
    assert not a.y.equals(c.y)


@pytest.mark.parametrize(
    "kwargs,message", [({"preset": "nope"}, "Unknown preset"), ({"n": 1}, "n must be between"), ({"noise": -1}, "noise is a fraction")]
)
def test_bad_preset_parameters(kwargs, message):
    with pytest.raises(DataError, match=message):
        make_dataset(**kwargs)


def test_split_is_seeded_disjoint_and_complete():
    tr, te = split(100, 0.2, seed=5)
    assert len(te) == 20 and len(set(tr) | set(te)) == 100 and not set(tr) & set(te)
    assert np.array_equal(split(100, 0.2, seed=5)[1], te)
    assert len(split(100, 0.0, seed=5)[1]) == 0


def test_scaler_maps_standardized_weights_back_to_original_units():
    rng = np.random.default_rng(0)
    X = rng.normal([100, 3], [50, 1], size=(200, 2))
    y = X @ [3000.0, 20000.0] + 50000.0
    s = Scaler.fit(X, y)
    Xs, ys = s.transform(X, y)
    w, *_ = np.linalg.lstsq(np.column_stack([Xs, np.ones(200)]), ys, rcond=None)
    coef, intercept = s.to_original(w[:2], w[2])
    np.testing.assert_allclose(coef, [3000, 20000], rtol=1e-9)
    assert intercept == pytest.approx(50000, rel=1e-9)


def test_load_csv_reads_numeric_columns():
    ds = load_csv(io.StringIO("area_m2;rooms;price\n50;2;200000\n80;3;310000\n100;3;350000\n120;4;420000\n"), target="price")
    assert ds.features == ["area_m2", "rooms"] and len(ds) == 4 and ds.y.iloc[-1] == 420000


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "The file is empty"),
        ("price\n1\n2\n3\n", "single column"),
        ("a,b\n1,2\nx,3\n4,5\n6,7\n", "non-numeric or infinite cells, e.g. lines 3"),
        ("a,b\n1,2\n3,4\n", "Too few rows"),
    ],
)
def test_load_csv_explains_what_is_wrong(text, message):
    with pytest.raises(DataError, match=message):
        load_csv(io.StringIO(text))


def test_load_csv_names_a_missing_target():
    with pytest.raises(DataError, match="There is no column 'cost'"):
        load_csv(io.StringIO("a,b\n1,2\n3,4\n5,6\n"), target="cost")

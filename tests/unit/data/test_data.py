import io
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data import (
    PRESETS,
    DataError,
    Limits,
    Scaler,
    load_csv,
    make_dataset,
    polynomial_features,
    read_table,
    split,
)
from core.i18n import decode

FIXTURES = Path(__file__).parent / "fixtures" / "bad_csv"
EXAMPLES = Path(__file__).resolve().parents[3] / "data" / "examples"


def lstsq(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(np.column_stack([np.ones(len(y)), X]), y, rcond=None)[0]


# ---------------------------------------------------------------- presets


def test_house_prices_has_the_seeds_features_in_realistic_units():
    ds = make_dataset("house_prices", n=2000, noise=0.1, seed=0)
    assert ds.features == ["area_m2", "rooms"] and ds.target == "price"
    assert ds.X["area_m2"].between(30, 250).all()
    assert set(ds.X["rooms"].unique()) <= {1, 2, 3, 4, 5, 6}
    assert 1e5 < ds.y.median() < 1e6  # prices in currency units, not thousands
    assert np.corrcoef(ds.X["area_m2"], ds.X["rooms"])[0, 1] > 0.5  # bigger flats have more rooms
    np.testing.assert_allclose(lstsq(ds.X.to_numpy(), ds.y.to_numpy()), [50_000, 3_000, 20_000], rtol=0.1)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_is_reproducible_seed_sensitive_and_described(preset):
    a, b, c = make_dataset(preset, seed=1), make_dataset(preset, seed=1), make_dataset(preset, seed=2)
    assert a.X.equals(b.X) and a.y.equals(b.y)
    assert not a.y.equals(c.y)
    assert len(a) == 1000 and np.isfinite(a.X.to_numpy()).all() and np.isfinite(a.y.to_numpy()).all()
    assert a.description and "\n" not in a.description and a.spec["preset"] == preset
    assert make_dataset(**a.spec).y.equals(a.y)  # the spec rebuilds it: what the URL's query parameters carry


def test_linear_1d_recovers_its_line():
    ds = make_dataset("linear_1d", n=5000, noise=0.1, seed=0)
    np.testing.assert_allclose(lstsq(ds.X.to_numpy(), ds.y.to_numpy()), [1.0, 2.0], atol=0.03)


@pytest.mark.parametrize("degree", [2, 3])
def test_polynomial_recovers_its_coefficients_and_a_line_underfits(degree):
    ds = make_dataset("polynomial", n=5000, noise=0.05, seed=0, degree=degree)
    x, y = ds.X["x"].to_numpy(), ds.y.to_numpy()
    np.testing.assert_allclose(np.polynomial.polynomial.polyfit(x, y, degree), {2: [1, -2, 0.5], 3: [1, -2, -1, 0.5]}[degree], atol=0.1)
    line = np.polynomial.polynomial.polyval(x, np.polynomial.polynomial.polyfit(x, y, 1))
    assert np.mean((y - line) ** 2) > 5 * np.var(y - np.polynomial.polynomial.polyval(x, np.polynomial.polynomial.polyfit(x, y, degree)))


def test_sine_follows_sin_and_noise_sets_the_residual_spread():
    ds = make_dataset("sine", n=5000, noise=0.2, seed=0)
    x, y = ds.X["x_rad"].to_numpy(), ds.y.to_numpy()
    assert x.min() >= 0 and x.max() <= 2 * np.pi
    resid = y - np.sin(x)
    assert abs(resid.mean()) < 0.02
    assert resid.std() == pytest.approx(0.2 * np.sin(x).std(), rel=0.05)


def test_with_outliers_has_about_five_percent_far_off_the_line():
    ds = make_dataset("with_outliers", n=4000, noise=0.1, seed=0)
    resid = ds.y.to_numpy() - (2 * ds.X["x"].to_numpy() + 1)
    far = np.abs(resid) > 10
    assert far.mean() == pytest.approx(0.05, abs=0.002)
    assert np.median(np.abs(resid[~far])) < 0.5  # the rest sit on the line


def test_heteroscedastic_noise_grows_with_x():
    ds = make_dataset("heteroscedastic", n=6000, noise=0.2, seed=0)
    x = ds.X["x"].to_numpy()
    resid = ds.y.to_numpy() - (2 * x + 1)
    low, high = resid[x < 2].std(), resid[x > 8].std()
    assert high > 5 * low
    np.testing.assert_allclose(lstsq(x, ds.y.to_numpy()), [1, 2], atol=0.15)  # still unbiased


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"preset": "nope"}, "Unknown preset"),
        ({"n": 1}, "n must be between"),
        ({"noise": -1}, "noise is a fraction"),
        ({"preset": "polynomial", "degree": 4}, "degree must be between 2 and 3"),
        ({"preset": "sine", "degree": 2}, "has no parameter degree"),
    ],
)
def test_bad_preset_parameters(kwargs, message):
    with pytest.raises(DataError, match=message):
        make_dataset(**kwargs)


# ---------------------------------------------------------------- split, scaling, polynomial features


def test_split_is_seeded_disjoint_and_complete():
    tr, te = split(100, 0.2, seed=5)
    assert len(te) == 20 and len(set(tr) | set(te)) == 100 and not set(tr) & set(te)
    assert np.array_equal(split(100, 0.2, seed=5)[1], te)
    assert len(split(100, 0.0, seed=5)[1]) == 0


def test_scaler_maps_standardized_weights_back_to_original_units_and_forth():
    rng = np.random.default_rng(0)
    X = rng.normal([100, 3], [50, 1], size=(200, 2))
    y = X @ [3000.0, 20000.0] + 50000.0
    s = Scaler.fit(X, y)
    Xs, ys = s.transform(X, y)
    w, *_ = np.linalg.lstsq(np.column_stack([Xs, np.ones(200)]), ys, rcond=None)
    coef, intercept = s.to_original(w[:2], w[2])
    np.testing.assert_allclose(coef, [3000, 20000], rtol=1e-9)
    assert intercept == pytest.approx(50000, rel=1e-9)
    w2, b2 = s.to_standardized(coef, intercept)
    np.testing.assert_allclose([*w2, b2], w, atol=1e-9)


def test_polynomial_features_are_named_recorded_and_exact():
    ds = make_dataset("house_prices", n=30)
    poly = polynomial_features(ds, 2)
    assert poly.features == ["area_m2", "rooms", "area_m2^2", "area_m2·rooms", "rooms^2"]
    np.testing.assert_allclose(poly.X["area_m2·rooms"], ds.X["area_m2"] * ds.X["rooms"])
    assert poly.spec["polynomial"] == {"degree": 2, "base_features": ["area_m2", "rooms"]} and poly.y.equals(ds.y)
    assert polynomial_features(ds, 1) is ds
    assert polynomial_features(make_dataset("sine", n=10), 3).features == ["x_rad", "x_rad^2", "x_rad^3"]


def test_polynomial_features_let_least_squares_fit_the_cubic_preset():
    ds = polynomial_features(make_dataset("polynomial", n=2000, noise=0.0, seed=0), 3)
    np.testing.assert_allclose(lstsq(ds.X.to_numpy(), ds.y.to_numpy()), [1, -2, -1, 0.5], atol=1e-8)


def test_polynomial_features_refuse_an_explosion():
    ds = make_dataset("house_prices", n=10)
    wide = type(ds)(X=ds.X.assign(**{f"f{i}": 1.0 for i in range(10)}), y=ds.y, name="wide")
    with pytest.raises(DataError, match="lower the degree or use fewer features"):
        polynomial_features(wide, 3)


# ---------------------------------------------------------------- CSV


def test_load_csv_reads_numeric_columns():
    ds = load_csv(io.StringIO("area_m2;rooms;price\n50;2;200000\n80;3;310000\n100;3;350000\n120;4;420000\n"), target="price")
    assert ds.features == ["area_m2", "rooms"] and len(ds) == 4 and ds.y.iloc[-1] == 420000
    assert ds.spec["delimiter"] == ";" and ds.spec["dropped"] == {"rows": 0}


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_delimiter_and_encoding_are_sniffed_chinese_headers_included(delimiter, encoding):
    text = (
        delimiter.join(["面积_m2", "房间数", "价格"])
        + "\n"
        + "\n".join(delimiter.join(map(str, r)) for r in [(50, 2, 1), (80, 3, 2), (90, 3, 4), (99, 4, 3)])
    )
    ds = load_csv(io.BytesIO(text.encode(encoding)))
    assert ds.features == ["面积_m2", "房间数"] and ds.target == "价格" and len(ds) == 4


def test_a_missing_header_is_detected_and_columns_are_named():
    table = read_table(io.StringIO("1,2,3\n4,5,7\n7,8,8\n9,1,2\n"))
    assert not table.has_header and table.columns == ["column_1", "column_2", "column_3"] and len(table.cells) == 4
    assert "no header row" in table.describe()


def test_quoted_cells_decimal_commas_and_trailing_delimiters():
    ds = load_csv(io.StringIO('"x";"label";"y"\n"1,5";"a;b";2\n2,5;c;3,25\n4;d;5;\n'))
    assert ds.features == ["x"] and ds.X["x"].tolist() == [1.5, 2.5, 4.0] and ds.y.tolist() == [2, 3.25, 5]


def test_bad_cells_are_dropped_on_request_and_reported_with_their_lines():
    ds = load_csv(FIXTURES / "bad_cells.csv", on_bad="drop")
    assert len(ds) == 4 and ds.spec["dropped"]["rows"] == 3 and ds.spec["dropped"]["lines"] == [3, 4, 5]
    assert "1 missing, 1 non-numeric, 1 infinite" in str(decode(ds.spec["dropped"]["summary"]))  # kept as a message: any language


def test_the_target_defaults_to_the_last_numeric_column():
    ds = load_csv(EXAMPLES / "iris.csv")
    assert ds.target == "petal_width" and ds.features == ["sepal_length", "sepal_width", "petal_length"]


BAD_FILES = {
    "empty.csv": "The file is empty: it needs a header row and at least two data rows.",
    "blank_lines.csv": "The file is empty",
    "binary.csv": "This is a binary file, not CSV text: export your data as CSV (UTF-8) and upload that.",
    "workbook.csv": "This is a spreadsheet workbook (Excel), not a CSV: in Excel choose File → Save As → CSV UTF-8.",
    "utf16.csv": "The file is UTF-16 text; save it as CSV UTF-8 (or GBK) and upload it again.",
    "not_utf8_or_gbk.csv": "The file is neither UTF-8 nor GBK text; save it as CSV UTF-8 and upload it again.",
    "single_column.csv": (
        "The file has a single column: it needs a target and at least one feature, separated by commas, semicolons or tabs."
    ),
    "constant_column.csv": (
        "Column 'floor' has the same value (3) in every row: it carries no information and makes the fit singular. Pick another column."
    ),
    "constant_target.csv": "Column 'y' has the same value (5) in every row: nothing to predict. Pick another column.",
    "duplicate_columns.csv": "The column name 'x' appears twice (columns 1 and 3); rename one and upload again.",
    "too_few_rows.csv": "Too few rows: 3 usable row(s) for 2 feature(s); need at least 4. Add rows or use fewer features.",
    "header_only.csv": "The file has a header row but no data rows.",
    "long_cell.csv": "Line 3 has a cell of 500 characters (at most 200 allowed): is this the right file, or is a quote left unclosed?",
    "ragged.csv": "Line 3 has 3 values but the header has 2 columns. Check for a stray comma or an unquoted value there.",
    "bad_cells.csv": (
        "3 row(s) have cells that are not usable numbers (1 missing, 1 non-numeric, 1 infinite): "
        "line 3 column 'x' ('abc', non-numeric); line 4 column 'y' (empty); line 5 column 'y' ('inf', infinite). "
        "Fix the file, or choose to drop these rows."
    ),
    "text_target.csv": "No numeric feature column besides the target: pick at least one feature.",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_gets_its_message(name):
    with pytest.raises(DataError) as err:
        load_csv(FIXTURES / name)
    assert str(err.value).startswith(BAD_FILES[name])


def test_a_text_column_picked_as_target_is_named():
    with pytest.raises(DataError, match=r"Column 'species' is mostly not numbers \(e.g. 'setosa' on line 2\)"):
        load_csv(FIXTURES / "text_target.csv", target="species")


@pytest.mark.parametrize(
    "limits,message",
    [
        (Limits(max_rows=3), "The file has more than 3 data rows; upload a sample of it."),
        (Limits(max_rows=5), "The file has 6 data rows; at most 5 are allowed. Upload a sample of it."),
        (Limits(max_columns=2), "The file has 3 columns; at most 2 are allowed. Keep only the columns you need."),
        (Limits(max_bytes=20), "The file is larger than 20 bytes; upload a smaller sample of it."),
    ],
)
def test_caps_on_rows_columns_and_bytes(limits, message):
    text = "a,b,c\n" + "".join(f"{i},{i * i},{i % 3}\n" for i in range(6))
    with pytest.raises(DataError) as err:
        load_csv(io.StringIO(text), limits=limits)
    assert str(err.value).startswith(message)


def test_misc_column_choices_are_explained():
    src = "a,b,c\n1,2,3\n2,3,5\n4,4,4\n5,1,0\n"
    for kwargs, message in [
        ({"target": "cost"}, "There is no column 'cost'; the columns are: a, b, c."),
        ({"features": ["z"]}, "No such feature column(s): z."),
        ({"target": "c", "features": ["c"]}, "'c' is the target; it cannot also be a feature."),
        ({"features": []}, "No numeric feature column besides the target"),
    ]:
        with pytest.raises(DataError) as err:
            load_csv(io.StringIO(src), **kwargs)
        assert str(err.value).startswith(message)


def test_examples_load_and_anscombe_matches_its_published_statistics():
    for i in "1234":
        ds = load_csv(EXAMPLES / "anscombe.csv", target=f"y{i}", features=[f"x{i}"])
        x, y = ds.X.iloc[:, 0].to_numpy(), ds.y.to_numpy()
        assert x.mean() == 9 and y.mean() == pytest.approx(7.50, abs=0.005) and np.var(y, ddof=1) == pytest.approx(4.125, abs=0.005)
        assert np.corrcoef(x, y)[0, 1] == pytest.approx(0.816, abs=0.001)
        np.testing.assert_allclose(lstsq(x, y), [3.00, 0.500], atol=0.005)
    zh = load_csv(EXAMPLES / "house_prices_zh_synthetic_gbk.csv")
    assert zh.features == ["面积_m2", "房间数"] and zh.spec["encoding"] == "gb18030" and len(zh) == 40


# ---------------------------------------------------------------- never another exception

CELL = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "nan", "inf", "-", "1,5", '"', '"a,b"', "1_000", "é", "面积", "\x00", "1e999", "0x10"]),
    st.text(max_size=8),
)


@st.composite
def csv_text(draw) -> str:
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(1, 5))
    rows = draw(st.lists(st.lists(CELL, min_size=max(0, width - 1), max_size=width + 1), min_size=0, max_size=12))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return end.join(sep.join(r) for r in rows)


def _check(result_or_error):
    try:
        ds = result_or_error()
    except DataError as e:
        assert str(e)
        return
    assert len(ds) >= len(ds.features) + 2 and ds.features and ds.target not in ds.features
    assert np.isfinite(ds.X.to_numpy(dtype=float)).all() and np.isfinite(ds.y.to_numpy(dtype=float)).all()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_text(), st.sampled_from(["fail", "drop"]), st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "str"]))
def test_load_csv_returns_a_dataset_or_raises_data_error_on_generated_text(text, on_bad, encoding):
    source = io.StringIO(text) if encoding == "str" else io.BytesIO(text.encode(encoding, errors="replace"))
    _check(lambda: load_csv(source, on_bad=on_bad))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_load_csv_never_raises_anything_else_on_arbitrary_bytes(raw):
    _check(lambda: load_csv(io.BytesIO(raw), on_bad="drop"))


def test_an_upload_far_over_the_row_cap_is_refused_without_holding_it_as_text():
    """Reading stops at the cap plus one row and never decodes the whole file at once (it once cost ~5.7× the file)."""
    data = b"x,y\n" + b"1,2\n" * 2_000_000  # 8 MB, a hundred times the cap of 20,000 rows
    tracemalloc.start()
    with pytest.raises(DataError, match="more than 20,000 data rows"):
        read_table(io.BytesIO(data), Limits(max_rows=20_000))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 3 * len(data)


def test_house_prices_built_in_place_are_the_plain_formulas_bit_for_bit():
    """A preset link must rebuild the very same rows, so the in-place build is checked against the plain formulas."""
    from core.data.presets import _house_prices

    def plain(rng, n, noise):
        area = rng.uniform(30.0, 250.0, n)
        rooms = np.clip(np.round(area / 40.0 + rng.normal(0.0, 0.7, n)), 1, 6)
        signal = 50_000.0 + 3_000.0 * area + 20_000.0 * rooms
        return np.column_stack([area, rooms]), signal + rng.normal(0.0, noise * signal.std(), n)

    for seed, n, noise in [(0, 1000, 0.1), (3, 70_001, 0.0), (9, 150_000, 2.5)]:
        X, y = _house_prices(np.random.default_rng(seed), n, noise)
        X_ref, y_ref = plain(np.random.default_rng(seed), n, noise)
        assert np.array_equal(X.to_numpy(), X_ref) and np.array_equal(y.to_numpy(), y_ref)
        assert list(X.columns) == ["area_m2", "rooms"] and y.name == "price"


def test_presets_are_not_capped_at_a_million_rows_in_core():
    ds = make_dataset("linear_1d", n=1_000_001, seed=0)
    assert len(ds) == 1_000_001

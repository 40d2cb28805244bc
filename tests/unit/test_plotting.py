import math

import numpy as np
import pytest

from core.data import make_dataset
from core.data.figures import data_figure, fit_check_figure
from core.plotting import MAX_POINTS, decimate, plain_arrays, thin, typed_arrays
from core.training.figures import loss_figure


@pytest.mark.parametrize("n", [1, 2, 1999, 2000, 2001, 4001, 100_000, 1_000_003])
def test_decimation_bounds_points_and_keeps_the_newest(n):
    kept = list(range(n))[decimate(n)]
    assert len(kept) <= MAX_POINTS
    assert kept[-1] == n - 1
    assert len(kept) == n or kept[0] < n / MAX_POINTS + 1  # starts near the beginning


def test_loss_figure_draws_the_last_epoch_and_blanks_nan():
    n = 10_000
    history = {"epoch": list(range(1, n + 1)), "train_loss": [1.0 / e for e in range(1, n + 1)], "test_loss": [2.0] * n}
    history["train_loss"][-1] = math.nan
    fig = loss_figure(history, log_y=True, target="price")
    train, test = fig["data"]
    assert train["x"][0] == 1 and train["x"][-1] == n and len(train["x"]) <= MAX_POINTS + 1  # the start and the newest
    assert train["y"][0] == 1.0 and train["y"][-1] is None  # JSON-safe
    assert test["name"] == "test loss"
    assert fig["layout"]["yaxis"]["type"] == "log" and "price²" in fig["layout"]["yaxis"]["title"]["text"]
    assert fig["layout"]["uirevision"]


@pytest.mark.parametrize("n", [1, 2000, 2001, 400_000])
def test_thin_keeps_the_first_value_with_the_stride(n):
    values = list(range(n))
    kept = thin(values, decimate(n))
    assert kept[0] == 0 and kept[-1] == n - 1 and kept == sorted(set(kept)) and len(kept) <= MAX_POINTS + 1


@pytest.mark.parametrize("n", [1, 2001, 400_000])
def test_a_live_records_numpy_column_thins_to_the_same_python_numbers_as_its_list(n):
    values = np.arange(1, n + 1, dtype=np.int64)
    kept = thin(values, decimate(n))
    assert kept == thin(values.tolist(), decimate(n)) and all(type(v) is int for v in kept)


def test_the_loss_figure_draws_a_live_records_numpy_columns_as_it_draws_lists():
    n = 3000
    epochs = np.arange(1, n + 1, dtype=np.int64)
    arrays = {"epoch": epochs, "train_loss": 1.0 / epochs, "test_loss": np.full(n, np.nan)}  # NaN: no test rows
    lists = {"epoch": epochs.tolist(), "train_loss": (1.0 / epochs).tolist(), "test_loss": [None] * n}
    assert loss_figure(arrays) == loss_figure(lists) and len(loss_figure(arrays)["data"]) == 1


def test_typed_arrays_round_trip_numbers_and_gaps():
    fig = {"data": [{"x": list(range(1, 101)), "y": [None, *[0.5 * i for i in range(99)]], "name": "train loss"},
                    {"x": ["a", "b"], "y": [1.0, 2.0]}], "layout": {"title": "t"}}  # fmt: skip
    packed = typed_arrays(fig)
    assert packed["data"][0]["x"]["dtype"] == "i4" and packed["data"][0]["y"]["dtype"] == "f8"  # long: base64 bytes
    assert packed["data"][1] == fig["data"][1] and packed["layout"] == fig["layout"]  # short or text: as they were
    assert plain_arrays(packed) == fig  # None travels as NaN (a gap in Plotly) and comes back as None


def test_loss_figure_without_a_test_split_has_one_trace():
    fig = loss_figure({"epoch": [1, 2], "train_loss": [2.0, 1.0], "test_loss": [None, None]})
    assert [t["name"] for t in fig["data"]] == ["train loss"]


def test_data_figure_plots_target_against_first_feature():
    ds = make_dataset("house_prices", n=50)
    fig = data_figure(ds)
    assert fig["data"][0]["y"] == ds.y.tolist() and fig["layout"]["xaxis"]["title"]["text"] == "area_m2"


def test_a_fit_is_a_line_over_one_input_and_prediction_against_actual_over_several():
    one = make_dataset("linear_1d", n=80)
    fit = ({"x": 2.0}, 1.0)
    (data, line) = data_figure(one, fit=fit)["data"]
    assert line["mode"] == "lines" and line["y"] == pytest.approx(sorted(2.0 * one.X["x"] + 1.0))
    two = make_dataset("house_prices", n=80)
    A = np.column_stack([two.X.to_numpy(), np.ones(len(two))])
    w = np.linalg.lstsq(A, two.y.to_numpy(), rcond=None)[0]  # least squares, independently of core
    fit = (dict(zip(two.features, w[:-1])), float(w[-1]))
    assert len(data_figure(two, fit=fit)["data"]) == 1  # no cloud of × that looks like a second dataset
    rows, diagonal = fit_check_figure(two, fit)["data"]
    assert rows["x"] == pytest.approx(two.y.tolist()) and rows["y"] == pytest.approx((A @ w).tolist())
    assert diagonal["x"] == diagonal["y"]
    from core.training.figures import fit_figure  # the Train page's live fit: the same reading

    rows, diagonal = fit_figure(two, A @ w)["data"]
    assert rows["x"] == pytest.approx(two.y.tolist()) and rows["y"] == pytest.approx((A @ w).tolist())
    assert fit_figure(one, 2.0 * one.X["x"] + 1.0)["data"][1]["mode"] == "lines"


def test_names_a_person_typed_reach_plotly_as_text_never_as_markup():
    """Plotly renders <a href>, <b> and friends in names and titles: a crafted column name must stay text."""
    import json

    from core.classroom.figures import landscape_figure
    from core.data import Dataset
    from core.data.figures import correlation_figure, fit_check_figure, histogram_figure, scatter3d_figure, scatter_matrix_figure
    from core.runs.figures import runs_overlay_figure
    from core.training.figures import fit_figure, lines_figure, predicted_actual_figure, residual_figure

    link, bold = '<a href="https://evil.example">click</a>', "<b>price</b>"
    base = make_dataset("house_prices", n=50)
    ds = Dataset(X=base.X.set_axis([link, "rooms"], axis=1), y=base.y.rename(bold), name=link)
    yhat = ds.y.to_numpy()
    history = {"epoch": [1, 2], "train_loss": [2.0, 1.0]}
    figures = [
        data_figure(ds), fit_check_figure(ds, ({link: 1.0, "rooms": 2.0}, 0.0), fit_label=bold),
        scatter3d_figure(ds, link, "rooms"), scatter_matrix_figure(ds), histogram_figure(ds), correlation_figure(ds),
        fit_figure(ds, yhat), loss_figure(history, target=bold), lines_figure(history, {link: [1.0, 2.0]}, "coefficient"),
        predicted_actual_figure(yhat, yhat, [0], bold), residual_figure(yhat, yhat, [0], bold),
        runs_overlay_figure({link: history}),
        landscape_figure([0, 1], [0, 1], np.zeros((2, 2)), np.zeros((2, 2)), 0, [0, 0], (link, bold)),
    ]  # fmt: skip
    for fig in figures:
        text = json.dumps(fig)
        assert "<a href" not in text and "<b>price" not in text, text[:300]
    assert "&lt;a href" in json.dumps(data_figure(ds))  # shown as the characters the person typed


def test_coefficient_paths_get_a_panel_and_a_scale_each():
    from core.training.figures import paths_figure

    epochs = {"epoch": list(range(1, 101))}
    fig = paths_figure(epochs, {"area_m2": [3000.0] * 100, "rooms": [19_000.0] * 100, "intercept": [530_000.0] * 100}, "coefficients")
    assert [t["yaxis"] for t in fig["data"]] == ["y", "y2", "y3"] and all(t["xaxis"] == "x" for t in fig["data"])
    domains = [fig["layout"][k]["domain"] for k in ("yaxis", "yaxis2", "yaxis3")]
    assert all(hi <= lo2 or hi2 <= lo for (lo, hi), (lo2, hi2) in zip(domains, domains[1:]))  # stacked, not overlapping
    assert fig["layout"]["xaxis"]["anchor"] == "y3"  # the epoch axis under the bottom panel

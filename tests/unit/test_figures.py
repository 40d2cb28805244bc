import math

import pytest

from core.data import make_dataset
from core.figures import MAX_POINTS, data_figure, decimate, loss_figure


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
    assert train["x"][-1] == n and len(train["x"]) <= MAX_POINTS
    assert train["y"][-1] is None  # JSON-safe
    assert test["name"] == "test loss"
    assert fig["layout"]["yaxis"]["type"] == "log" and "price²" in fig["layout"]["yaxis"]["title"]["text"]
    assert fig["layout"]["uirevision"]


def test_loss_figure_without_a_test_split_has_one_trace():
    fig = loss_figure({"epoch": [1, 2], "train_loss": [2.0, 1.0], "test_loss": [None, None]})
    assert [t["name"] for t in fig["data"]] == ["train loss"]


def test_data_figure_plots_target_against_first_feature():
    ds = make_dataset("house_prices", n=50)
    fig = data_figure(ds)
    assert fig["data"][0]["y"] == ds.y.tolist() and fig["layout"]["xaxis"]["title"]["text"] == "area_m2"

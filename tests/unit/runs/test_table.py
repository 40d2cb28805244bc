"""The Runs page's table: rows, filters, and a sort checked against pandas' sort_values."""

import math
from datetime import datetime

import pandas as pd
import pytest

from core.runs.table import COLUMNS, curve_label, data_label, loss_axis_title, select_runs, sort_rows, table_row, visible_columns

DATASET = {"preset": "house_prices", "rows": 1000, "target": "price"}


def run(run_id: str, status="completed", optimizer="sgd", lr=0.1, owner="me", test_loss=None, loss="mse", target="price") -> dict:
    return {
        "id": run_id,
        "created_at": 1_700_000_000.0 + len(run_id),
        "status": status,
        "owner": owner,
        "config": {"optimizer": optimizer, "lr": lr, "epochs": 50, "loss": loss},
        "epochs_done": 50,
        "train_loss": 1.0,
        "test_loss": test_loss,
        "elapsed_s": 0.5,
        "device": None,
        "dataset": {**DATASET, "target": target},
    }


def test_a_row_has_every_column_the_page_configures():
    row = table_row(run("abc"))
    assert tuple(row) == COLUMNS
    assert row["created"] == datetime.fromtimestamp(1_700_000_003.0) and row["device"] == "" and row["data"] == "house_prices, 1,000"
    assert row["run"] == row["id"][:6]  # the short id the table shows


def test_the_data_label_falls_back_to_the_file_name_then_a_question_mark():
    assert data_label({"csv": "flats.csv"}) == "flats.csv"
    assert data_label({"csv": "flats.csv", "rows": 5}) == "flats.csv, 5"
    assert data_label({}) == "?"


def test_filters_combine_and_an_empty_filter_keeps_everything():
    runs = [run("a"), run("b", status="diverged"), run("c", optimizer="adam"), run("d", owner="someone else")]
    assert select_runs(runs) == runs
    assert [r["id"] for r in select_runs(runs, statuses=["completed"])] == ["a", "c", "d"]
    assert [r["id"] for r in select_runs(runs, statuses=["completed"], optimizers=["sgd"], owner="me")] == ["a"]


@pytest.mark.parametrize("ascending", [True, False])
def test_the_sort_matches_pandas_with_ties_and_missing_values(ascending):
    losses = [0.5, None, 0.1, math.nan, 0.5, 0.3, None, 0.1]
    rows = [{"id": str(i), "test loss": v} for i, v in enumerate(losses)]
    expected = pd.DataFrame(rows).sort_values("test loss", ascending=ascending, na_position="last", kind="stable")
    assert [r["id"] for r in sort_rows(rows, "test loss", ascending)] == list(expected["id"])


def test_the_curve_label_says_optimizer_and_learning_rate():
    assert curve_label(run("0123456789", optimizer="adam", lr=0.001)) == "012345 · adam lr=0.001"
    assert curve_label(run("0123456789", lr=None)) == "012345"


def test_the_loss_axis_names_its_unit_only_when_every_run_shares_it():
    assert loss_axis_title([run("a"), run("b")]) == "MSE (price²)"
    assert loss_axis_title([run("a", loss="mae")]) == "MAE (price)"
    assert loss_axis_title([run("a", loss="huber")]) == "huber loss"
    assert loss_axis_title([run("a"), run("b", target="rent")]) == "loss"


def test_the_table_shows_only_the_columns_that_say_something():
    mine = table_row(run("0123456789"), owner=None)
    assert visible_columns([mine], ("train",))[:2] == ["run", "name"]  # no full id, no source, no "whose"
    assert "source" in visible_columns([mine], ())  # all runs: where each came from
    theirs = {**mine, "whose": "shared"}
    assert "whose" in visible_columns([mine, theirs], ("train",))

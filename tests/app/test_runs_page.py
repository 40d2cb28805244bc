"""The Runs page through AppTest, on a temporary store seeded with the real RunStore."""

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.runs import RunStore
from core.training import TrainConfig
from ui import state
from ui.cache import run_store

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
PAGE = "../pages/runs.py"
DATASET = {"preset": "house_prices", "n": 300, "noise": 0.1, "seed": 0, "rows": 300, "features": ["area", "rooms"], "target": "price"}


def seed(store: RunStore) -> list[str]:
    """Three finished runs (lr 0.01, 0.1, 0.5) and one still running; returns ids newest first, as the table shows them."""
    for i, (lr, status) in enumerate([(0.01, "completed"), (0.1, "completed"), (0.5, "diverged"), (0.05, "running")]):
        run_id = f"run-{i}"
        store.create(run_id, "someone", TrainConfig(lr=lr, epochs=50).to_dict(), DATASET)
        store.set_status(run_id, "running")
        store.append(run_id, {"epoch": list(range(1, 51)), "train_loss": [1 / (e * lr) for e in range(1, 51)], "test_loss": [None] * 50})
        if status != "running":
            store.finish(run_id, status, {"coef": {"area": 1.0, "rooms": 2.0}, "intercept": 0.0, "device": "cpu", "elapsed_s": 0.5})
        time.sleep(0.01)
    return [r["id"] for r in store.list_runs()]


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "runs.db"
    monkeypatch.setenv("DESCENT_DB", str(path))
    run_store.clear()  # the cached store belongs to whichever DESCENT_DB came first
    store = RunStore(str(path))
    yield store
    store.close()
    run_store.clear()


def open_runs(select: list[int] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(PAGE)
    if select is not None:
        at.session_state["runs_table"] = {"selection": {"rows": select, "columns": [], "cells": []}}
    return at.run()


def test_an_empty_store_says_how_runs_get_there(db):
    at = open_runs()
    assert not at.exception
    assert "No runs yet" in at.info[0].value


def test_the_table_lists_every_run_and_asks_for_a_selection(db):
    ids = seed(db)
    at = open_runs()
    assert not at.exception
    assert at.title[0].value == "Runs"
    table = at.dataframe[0].value
    assert list(table["id"]) == ids and set(table["status"]) == {"completed", "diverged", "running"}
    assert "Tick runs" in at.info[0].value


def test_filters_narrow_the_table(db):
    seed(db)
    at = open_runs()
    at.multiselect(key="runs_status").select("completed").run()
    assert set(at.dataframe[0].value["status"]) == {"completed"}
    at.selectbox(key="runs_sort").select("learning rate").run()
    assert list(at.dataframe[0].value["lr"]) == [0.01, 0.1]


def test_the_overlay_has_the_selected_runs_and_the_diff_their_settings(db):
    ids = seed(db)
    at = open_runs(select=[1, 2])
    assert not at.exception
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [t["name"] for t in chart["data"]]
    assert len(names) == 2 and [n.split(" · ")[0] for n in names] == ids[1:3]
    assert all(len(t["x"]) == 50 for t in chart["data"])
    diff = at.dataframe[1].value
    assert list(diff["setting"]) == ["lr"] and list(diff.columns) == ["setting", *ids[1:3]]


def test_delete_asks_for_confirmation_first(db):
    ids = seed(db)
    at = open_runs(select=[0])
    at.button(key="runs_delete_ask").click().run()
    assert "cannot be undone" in at.warning[0].value
    assert db.get(ids[0]) is not None  # nothing deleted yet
    at.button(key="runs_delete_cancel").click().run()
    assert not at.warning and db.get(ids[0]) is not None

    at.button(key="runs_delete_ask").click().run()
    at.button(key="runs_delete_confirm").click().run()
    assert not at.exception
    assert db.get(ids[0]) is None and db.history(ids[0]) == {}
    assert ids[0] not in list(at.dataframe[0].value["id"])


def test_open_in_train_hands_the_config_and_data_to_the_train_page(db):
    ids = seed(db)
    at = open_runs(select=[ids.index("run-1")])
    at.button(key="runs_again").click().run()
    # the Train page took the config into its widgets, popped the hand-over keys, and started the run
    assert state.PENDING_CONFIG not in at.session_state and state.PENDING_START not in at.session_state
    assert at.number_input(key="train_lr").value == 0.1 and at.number_input(key="train_epochs").value == 50
    assert at.session_state[state.LIVE].config == TrainConfig(lr=0.1, epochs=50)
    assert at.session_state[state.DATA_PARAMS]["n"] == 300

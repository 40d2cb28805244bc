"""The Runs page through AppTest, on a temporary store seeded with the real RunStore."""

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.runs import RunStore
from core.runs.worker import OUT_OF_MEMORY
from core.training import TrainConfig
from tests.app.test_chinese import KEPT
from tests.app.words import english, texts
from ui import state
from ui.cache import run_store
from ui.identity import user_owner

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
PAGE = "../pages/runs.py"
DATASET = {"preset": "house_prices", "n": 300, "noise": 0.1, "seed": 0, "rows": 300, "features": ["area", "rooms"], "target": "price"}


TESTER = {"is_logged_in": True, "email": "tester@example.com"}  # the page's user, who owns the seeded runs


def seed(store: RunStore) -> list[str]:
    """Three finished runs (lr 0.01, 0.1, 0.5) and one still running, all the tester's; ids newest first, as the table shows them."""
    for i, (lr, status) in enumerate([(0.01, "completed"), (0.1, "completed"), (0.5, "diverged"), (0.05, "running")]):
        run_id = f"run-{i}"
        store.create(run_id, user_owner(TESTER["email"]), TrainConfig(lr=lr, epochs=50).to_dict(), DATASET)
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


def open_runs(select: list[int] | None = None, user: dict | None = TESTER) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if user is not None:
        at.user = user
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


def test_a_stranger_sees_only_what_was_shared_with_them_and_can_neither_rename_nor_delete_it(db):
    ids = seed(db)
    assert "No runs yet" in open_runs(user=None).info[0].value  # nobody else's runs, ids included
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[state.SHARED_RUNS] = {"run-1"}  # as opening its link on the Train page leaves it
    at.run()
    at.switch_page(PAGE)
    at.session_state["runs_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    table = at.dataframe[0].value
    assert list(table["id"]) == ["run-1"] and list(table["whose"]) == ["shared"]
    assert at.button(key="runs_delete_ask").disabled and not at.text_input  # no rename either
    assert db.delete(["run-1"], owner="browser:a-stranger") == 0 and db.get("run-1") is not None
    assert not db.rename("run-1", "mine now", owner="browser:a-stranger") and db.get("run-1")["name"] != "mine now"
    assert len(ids) == 4


def test_the_owner_renames_a_run_and_the_name_shows_in_the_table(db):
    seed(db)
    at = open_runs(select=[0])
    at.text_input(key="runs_name_run-3").input("my best run").run()
    assert not at.exception
    assert db.get("run-3")["name"] == "my best run"
    assert "my best run" in list(open_runs().dataframe[0].value["name"])


def test_the_table_shows_short_ids_and_readable_numbers_and_the_overlay_offers_a_log_axis(db):
    ids = seed(db)
    at = open_runs(select=[0, 1])
    grid = at.dataframe[0]
    shown = list(grid.proto.column_order)
    assert "id" not in shown and shown[0] == "run"  # the full id stays out of sight
    assert list(grid.value["run"]) == [i[:6] for i in ids]
    formats = {c: json.loads(grid.proto.columns).get(c, {}) for c in ("train loss", "lr")}
    assert all(f.get("type_config", {}).get("format") for f in formats.values()), formats
    assert all(v == float(f"{v:.4g}") for v in grid.value["train loss"])  # 4 significant digits
    (overlay,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert overlay["layout"]["yaxis"]["type"] == "log"
    next(t for t in at.toggle if t.label == "Log scale").set_value(False).run()
    (overlay,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert overlay["layout"]["yaxis"].get("type", "linear") == "linear"


def seed_failed(store: RunStore) -> str:
    """A run that failed with the worker's out-of-memory message, stored as the job manager stores it."""
    store.create("run-9", user_owner(TESTER["email"]), TrainConfig(lr=0.2, epochs=50).to_dict(), DATASET)
    store.set_status("run-9", "running")
    store.append("run-9", {"epoch": [1, 2, 3], "train_loss": [3.0, 2.0, 1.5], "test_loss": [None] * 3})
    store.finish("run-9", "failed", {"reason": OUT_OF_MEMORY})
    return "run-9"


def open_runs_in_chinese(select: list[int] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = TESTER
    at.query_params["lang"] = "zh"
    at.run()
    at.switch_page(PAGE)
    if select is not None:
        at.session_state["runs_table"] = {"selection": {"rows": select, "columns": [], "cells": []}}
    return at.run()


def test_the_page_in_chinese_from_an_empty_store_to_a_deleted_run(db, chinese):
    at = open_runs_in_chinese()
    assert not at.exception and english(texts(at), KEPT) == []
    assert "还没有训练记录" in at.info[0].value

    seed(db)
    failed = seed_failed(db)
    at = open_runs_in_chinese()
    assert not at.exception and english(texts(at), KEPT) == []
    assert at.title[0].value == "训练记录" and "在表格中勾选训练" in at.info[0].value
    table = at.dataframe[0].value
    assert {"编号", "状态", "训练损失", "计划轮数"} <= set(table.columns) and "status" not in table.columns
    assert {"已完成", "已发散", "训练中", "失败"} == set(table["状态"])
    at.multiselect(key="runs_status").select("failed").run()  # the option's value stays English; its label is Chinese
    assert list(at.dataframe[0].value["ID"]) == [failed] and "失败" in at.multiselect(key="runs_status").options
    assert english(texts(at), KEPT) == []

    at = open_runs_in_chinese(select=[0, 1])  # the failed run and the running one: overlay, settings that differ, actions
    assert not at.exception and english(texts(at), KEPT) == []
    assert {"损失曲线", "不同的设置", "导出与复用"} <= {s.value for s in at.subheader}
    overlay = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert overlay["layout"]["xaxis"]["title"]["text"] == "轮次"
    assert list(at.dataframe[1].value.columns)[0] == "设置"

    at = open_runs_in_chinese(select=[0])
    at.button(key="runs_delete_ask").click().run()
    assert not at.exception and english(texts(at), KEPT) == []
    assert at.warning[0].value == "删除 1 次训练及其记录的所有轮次？此操作无法撤销。"
    at.button(key="runs_delete_confirm").click().run()
    assert not at.exception and english(texts(at), KEPT) == []
    assert "已删除 1 次训练。" in [t.value for t in at.toast] and db.get(failed) is None

"""The run store on SQLite, and on PostgreSQL when DESCENT_TEST_PG_URL is set (.ci/start-postgres.sh prints one)."""

import json
import math
import multiprocessing as mp
import os
import threading
import time

import pytest
import sqlalchemy as sa

import core.runs.store
from core.runs import RunStore, StoreError
from core.runs.compare import config_diff, export_csv, export_json
from core.runs.figures import runs_overlay_figure
from core.runs.history_codec import decode, encode
from core.runs.schema import SCHEMA_VERSION
from core.runs.store import database_url

PG_URL = os.environ.get("DESCENT_TEST_PG_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="DESCENT_TEST_PG_URL not set"))]
CONFIG = {"optimizer": "sgd", "lr": 0.01, "epochs": 100, "hidden": [16, 16]}
DATASET = {"preset": "house_prices", "n": 1000, "rows": 1000, "features": ["area", "rooms"], "target": "price"}


def rows(start: int, n: int, extra: bool = True) -> dict[str, list]:
    """n epochs of a made-up history, from epoch start + 1, as the job manager hands them over."""
    epochs = list(range(start + 1, start + n + 1))
    out = {
        "epoch": epochs,
        "train_loss": [1.0 / e for e in epochs],
        "test_loss": [None if e % 7 == 0 else 2.0 / e for e in epochs],
        "grad_norm": [math.nan if e % 5 == 0 else 0.5 for e in epochs],
        "lr": [0.01] * n,
    }
    if extra:
        out |= {"w:area": [0.1 * e for e in epochs], "w:rooms": [0.2] * n, "b": [0.0] * n}
    return out


def empty_database(url: str) -> None:
    engine = sa.create_engine(database_url(url))
    with engine.begin() as conn:
        for table in ("history_chunks", "runs", "classes", "schema_version"):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    empty_database(PG_URL)
    return PG_URL


@pytest.fixture
def store(url):
    s = RunStore(url)
    yield s
    s.close()


def test_a_run_round_trips_with_missing_values_and_extra_columns(store):
    store.create("r1", "alice", CONFIG, DATASET)
    assert store.get("r1")["status"] == "queued"
    store.set_status("r1", "running")
    store.append("r1", rows(0, 3))
    store.append("r1", rows(3, 4))
    run = store.get("r1")
    assert run["status"] == "running" and run["started_at"] is not None
    assert run["epochs_done"] == 7 and run["config"] == CONFIG and run["dataset"] == DATASET
    assert run["train_loss"] == pytest.approx(1 / 7)
    assert run["test_loss"] == pytest.approx(2 / 6)  # epoch 7's is missing: the last finite one is kept

    h = store.history("r1")
    assert h == {k: [None if isinstance(v, float) and math.isnan(v) else v for v in vs] for k, vs in rows(0, 7).items()}
    assert all(type(e) is int for e in h["epoch"])
    assert store.history("r1", columns=["epoch", "b", "nope"]) == {"epoch": list(range(1, 8)), "b": [0.0] * 7, "nope": [None] * 7}
    assert store.history("missing") == {}


def test_finish_keeps_the_result_and_merges_history_into_one_chunk(store):
    store.create("r1", "alice", CONFIG, DATASET)
    for i in range(10):
        store.append("r1", rows(10 * i, 10))
    result = {
        "coef": {"area": 1.5, "rooms": -2.0},
        "intercept": 3.0,
        "device": "cpu",
        "reason": "",
        "elapsed_s": 1.25,
        "metrics": {"r2": 0.9},
    }
    store.finish("r1", "completed", result)
    run = store.get("r1")
    assert run["status"] == "completed" and run["result"] == result
    assert run["device"] == "cpu" and run["elapsed_s"] == 1.25 and run["finished_at"] >= run["created_at"]
    with store._engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM history_chunks")).scalar() == 1
    assert store.history("r1")["epoch"] == list(range(1, 101))


def test_many_appends_are_merged_as_the_run_goes(store):
    store.create("r1", None, CONFIG, DATASET)
    for i in range(150):
        store.append("r1", rows(i, 1, extra=False))
    with store._engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM history_chunks")).scalar() < 40
    assert store.history("r1", ["epoch"])["epoch"] == list(range(1, 151))


def test_list_runs_newest_first_with_summaries_and_owner_filter(store):
    for i, owner in enumerate(["alice", "bob", "alice"]):
        store.create(f"r{i}", owner, {**CONFIG, "lr": 0.1 * (i + 1)}, DATASET, device="cpu")
        store.append(f"r{i}", rows(0, 5 + i))
        time.sleep(0.01)
    listed = store.list_runs()
    assert [r["id"] for r in listed] == ["r2", "r1", "r0"]
    assert listed[0]["epochs_done"] == 7 and listed[0]["config"]["lr"] == pytest.approx(0.3) and listed[0]["device"] == "cpu"
    assert [r["id"] for r in store.list_runs(owner="alice")] == ["r2", "r0"]
    assert len(store.list_runs(limit=1)) == 1
    assert set(store.histories(["r0", "r1", "unknown"])) == {"r0", "r1"}


def test_mark_interrupted_marks_every_unfinished_run_and_keeps_its_history(store):
    for run_id, status in [("q", "queued"), ("r", "running"), ("p", "paused"), ("c", None)]:
        store.create(run_id, "alice", CONFIG, DATASET)
        store.append(run_id, rows(0, 20))
        if status:
            store.set_status(run_id, status)
    store.finish("c", "completed", {"device": "cpu", "elapsed_s": 1.0})
    assert store.mark_interrupted() == 3
    assert {r["id"]: r["status"] for r in store.list_runs()} == {
        "q": "interrupted",
        "r": "interrupted",
        "p": "interrupted",
        "c": "completed",
    }
    assert store.history("r")["epoch"] == list(range(1, 21))
    assert store.mark_interrupted() == 0


def test_delete_removes_runs_and_history_and_later_appends_are_dropped(store):
    for run_id in ("a", "b", "c"):
        store.create(run_id, None, CONFIG, DATASET)
        store.append(run_id, rows(0, 5))
    assert store.delete(["a", "b", "zzz"]) == 2
    assert [r["id"] for r in store.list_runs()] == ["c"]
    assert store.history("a") == {} and store.get("a") is None
    store.append("a", rows(5, 5))  # a job still running when its run was deleted
    store.set_status("a", "running")
    store.finish("a", "completed", {})
    assert store.get("a") is None
    with store._engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM history_chunks WHERE run_id <> 'c'")).scalar() == 0
    assert store.delete([]) == 0


def test_concurrent_writer_threads_on_one_store(store):
    n_threads, appends = 8, 40

    def write(k: int) -> None:
        run_id = f"t{k}"
        store.create(run_id, f"s{k}", CONFIG, DATASET)
        store.set_status(run_id, "running")
        for i in range(appends):
            store.append(run_id, rows(3 * i, 3))
            if i % 10 == 0:
                store.list_runs()  # readers interleave with writers
        store.finish(run_id, "completed", {"device": "cpu", "elapsed_s": 0.1})

    threads = [threading.Thread(target=write, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    runs = store.list_runs()
    assert len(runs) == n_threads and all(r["status"] == "completed" and r["epochs_done"] == 3 * appends for r in runs)
    for h in store.histories([r["id"] for r in runs], ["epoch"]).values():
        assert h["epoch"] == list(range(1, 3 * appends + 1))


def _write_from_process(url: str, k: int, appends: int) -> None:
    store = RunStore(url)  # every process opens (and may migrate) the database at the same moment
    for j in range(2):
        run_id = f"p{k}-{j}"
        store.create(run_id, f"proc{k}", CONFIG, DATASET)
        for i in range(appends):
            store.append(run_id, rows(2 * i, 2))
        store.finish(run_id, "completed", {"device": "cpu", "elapsed_s": 0.1})
    store.close()


def test_concurrent_writer_processes_on_one_database(url):
    n_procs, appends = 4, 30
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_write_from_process, args=(url, k, appends)) for k in range(n_procs)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * n_procs
    store = RunStore(url)
    runs = store.list_runs()
    assert len(runs) == 2 * n_procs and all(r["epochs_done"] == 2 * appends for r in runs)
    for h in store.histories([r["id"] for r in runs], ["epoch"]).values():
        assert h["epoch"] == list(range(1, 2 * appends + 1))
    store.close()


V1_SCHEMA = [  # the schema as version 1 shipped it: the whole history as one JSON text per run
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "INSERT INTO schema_version (version) VALUES (1)",
    "CREATE TABLE runs (id VARCHAR(64) PRIMARY KEY, created_at DOUBLE PRECISION NOT NULL, owner VARCHAR(64), "
    "status VARCHAR(16) NOT NULL, config TEXT NOT NULL, dataset TEXT NOT NULL, result TEXT, history TEXT)",
]


def test_migration_from_schema_version_1(url):
    old_history = {"epoch": [1, 2, 3], "train_loss": [3.0, 2.0, 1.0], "test_loss": [3.5, None, 1.5]}
    engine = sa.create_engine(database_url(url))
    with engine.begin() as conn:
        for statement in V1_SCHEMA:
            conn.execute(sa.text(statement))
        insert = sa.text("INSERT INTO runs VALUES (:id, :created_at, :owner, :status, :config, :dataset, :result, :history)")
        conn.execute(
            insert,
            [
                {
                    "id": "old",
                    "created_at": 1_700_000_000.0,
                    "owner": "alice",
                    "status": "completed",
                    "config": json.dumps(CONFIG),
                    "dataset": json.dumps(DATASET),
                    "result": json.dumps({"device": "cuda:0", "elapsed_s": 4.5, "coef": {"area": 1.0}}),
                    "history": json.dumps(old_history),
                },
                {
                    "id": "never-ran",
                    "created_at": 1_700_000_001.0,
                    "owner": None,
                    "status": "queued",
                    "config": json.dumps(CONFIG),
                    "dataset": "{}",
                    "result": None,
                    "history": None,
                },
            ],
        )
    engine.dispose()

    store = RunStore(url)
    with store._engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version FROM schema_version")).scalar() == SCHEMA_VERSION
        assert "history" not in {c["name"] for c in sa.inspect(conn).get_columns("runs")}
    old = store.get("old")
    assert old["epochs_done"] == 3 and old["train_loss"] == 1.0 and old["test_loss"] == 1.5
    assert old["device"] == "cuda:0" and old["elapsed_s"] == 4.5 and old["result"]["coef"] == {"area": 1.0}
    assert store.history("old") == old_history
    assert store.get("never-ran")["epochs_done"] == 0 and store.history("never-ran") == {}
    store.append("old", rows(3, 2, extra=False))  # the migrated run goes on in the new layout
    assert store.history("old", ["epoch"])["epoch"] == [1, 2, 3, 4, 5]
    store.close()
    RunStore(url).close()  # opening a current database again changes nothing


def test_a_database_from_a_newer_app_is_refused(url):
    RunStore(url).close()
    engine = sa.create_engine(database_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE schema_version SET version = 99"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer Descent Lab"):
        RunStore(url)


def test_reading_100_runs_of_10000_epochs_is_fast(store):
    """The Runs page's overlay; benchmarks/store_read.py measures it properly."""
    ids = [f"run{i:03d}" for i in range(100)]
    history = rows(0, 10_000)
    for run_id in ids:
        store.create(run_id, None, CONFIG, DATASET)
        store.append(run_id, history)
    t = time.perf_counter()
    histories = store.histories(ids, ["epoch", "train_loss", "test_loss"])
    elapsed = time.perf_counter() - t
    assert sum(len(h["epoch"]) for h in histories.values()) == 1_000_000
    assert elapsed < 5.0, f"{elapsed:.2f} s"  # ~0.2 s measured; generous for a busy CI machine


def test_codec_keeps_kinds_and_refuses_ragged_columns():
    n, blob = encode({"epoch": [1, 2], "loss": [0.5, None], "note": ["a", {"b": 1}], "big": [2**70, 1]})
    assert n == 2
    out = decode(blob)
    assert out["epoch"].dtype.kind == "i" and out["epoch"].tolist() == [1, 2]
    assert out["loss"][0] == 0.5 and math.isnan(out["loss"][1])
    assert out["note"] == ["a", {"b": 1}] and out["big"] == [2**70, 1]
    assert set(decode(blob, ["loss"])) == {"loss"}
    with pytest.raises(ValueError, match="'loss' has 1 values"):
        encode({"epoch": [1, 2], "loss": [0.5]})


def test_database_url_defaults_and_refusals(monkeypatch, tmp_path):
    monkeypatch.delenv("DESCENT_DB", raising=False)
    assert database_url() == "sqlite:///descent_lab.db"
    monkeypatch.setenv("DESCENT_DB", str(tmp_path / "x.db"))
    assert database_url() == f"sqlite:///{tmp_path / 'x.db'}"
    assert database_url("postgresql://u:p@127.0.0.1/db") == "postgresql+psycopg://u:p@127.0.0.1/db"
    with pytest.raises(StoreError, match="Unsupported run store URL"):
        database_url("mysql://x")
    with pytest.raises(StoreError, match="Cannot open the run store"):
        RunStore(str(tmp_path / "no" / "such" / "dir" / "x.db"))


def _summaries(lrs: list[float]) -> list[dict]:
    return [{"id": f"r{i}", "config": {**CONFIG, "lr": lr}, "dataset": DATASET, "result": {"x": math.inf}} for i, lr in enumerate(lrs)]


def test_config_diff_lists_only_what_differs():
    a, b = _summaries([0.01, 0.1])
    b["dataset"] = {**DATASET, "n": 500}
    b["config"] = {k: v for k, v in b["config"].items() if k != "hidden"}
    diff = config_diff([a, b])
    assert diff == [
        {"setting": "lr", "r0": "0.01", "r1": "0.1"},
        {"setting": "hidden", "r0": "[16, 16]", "r1": "—"},
        {"setting": "data: n", "r0": "1000", "r1": "500"},
    ]
    assert config_diff([a, a]) == []


def test_exports_hold_every_epoch_of_every_run():
    runs = _summaries([0.01, 0.1])
    histories = {"r0": {"epoch": [1, 2], "train_loss": [1.0, None]}, "r1": {"epoch": [1], "train_loss": [3.0], "b": [0.5]}}
    lines = export_csv(runs, histories).splitlines()
    assert lines == ["run_id,optimizer,base_lr,epoch,train_loss,b", "r0,sgd,0.01,1,1.0,", "r0,sgd,0.01,2,,", "r1,sgd,0.1,1,3.0,0.5"]
    data = json.loads(export_json(runs, histories))
    with_lr = export_csv(runs, {"r0": {"epoch": [1], "lr": [0.005]}}).splitlines()
    assert with_lr[:2] == ["run_id,optimizer,base_lr,epoch,lr", "r0,sgd,0.01,1,0.005"]  # one lr column: the epoch's
    assert [d["history"] for d in data] == [histories["r0"], histories["r1"]] and data[0]["result"] == {"x": None}


def test_overlay_figure_has_a_color_per_run_and_stays_light():
    histories = {
        f"run {i}": {"epoch": list(range(1, 10_001)), "train_loss": [1.0] * 10_000, "test_loss": [2.0] * 10_000} for i in range(50)
    }
    fig = runs_overlay_figure(histories)
    assert len(fig["data"]) == 100 and sum(len(t["x"]) for t in fig["data"]) <= 20_000
    assert fig["data"][0]["line"]["color"] == fig["data"][1]["line"]["color"] != fig["data"][2]["line"]["color"]
    assert all(t["x"][-1] == 10_000 for t in fig["data"])  # the newest epoch is always drawn
    assert len(runs_overlay_figure(histories, test=False)["data"]) == 50


def test_a_duplicate_run_id_is_a_clear_error(store):
    store.create("r1", None, CONFIG, DATASET)
    with pytest.raises(StoreError, match="already stored"):
        store.create("r1", None, CONFIG, DATASET)


def test_a_replica_sweeps_only_runs_no_server_has_touched(store):
    """Two servers on one database: the one starting up must not mark the other's live runs."""
    store.create("theirs", None, CONFIG, DATASET)
    store.create("orphan", None, CONFIG, DATASET)
    store.set_status("theirs", "running")
    store.set_status("orphan", "running")
    time.sleep(0.3)
    store.touch(["theirs"])  # the other replica's liveness mark
    assert store.mark_interrupted(stale_after_s=0.2) == 1
    assert store.get("orphan")["status"] == "interrupted" and store.get("theirs")["status"] == "running"


def test_big_chunks_are_not_rewritten_at_the_end(store, monkeypatch):
    monkeypatch.setattr(core.runs.store, "MERGE_MAX_ROWS", 25)
    store.create("r1", None, CONFIG, DATASET)
    for i in range(3):
        store.append("r1", rows(10 * i, 10))
    store.finish("r1", "completed", {})
    with store._engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM history_chunks")).scalar() == 3  # 30 rows in all: left as written
    assert store.history("r1")["epoch"] == list(range(1, 31))
    store.create("r2", None, CONFIG, DATASET)
    for i in range(3):
        store.append("r2", rows(5 * i, 5))
    store.finish("r2", "completed", {})
    with store._engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM history_chunks WHERE run_id = 'r2'")).scalar() == 1  # 15 rows: one blob


def test_a_person_lists_renames_and_deletes_only_their_own_runs(store):
    store.create("alice-1", "browser:alice", CONFIG, DATASET, name="sgd · lr 0.01 · 100 ep · house_prices")
    store.create("bob-1", "browser:bob", CONFIG, DATASET)
    store.create("bob-2", "browser:bob", CONFIG, DATASET)
    assert {r["id"] for r in store.list_runs(owner="browser:alice")} == {"alice-1"}
    assert {r["id"] for r in store.list_runs(owner="browser:alice", also=["bob-2"])} == {"alice-1", "bob-2"}  # shared by link
    assert store.get("alice-1")["name"] == "sgd · lr 0.01 · 100 ep · house_prices"
    assert not store.rename("bob-1", "taken", owner="browser:alice") and store.get("bob-1")["name"] is None
    assert store.rename("alice-1", "  my   best\nrun  ", owner="browser:alice") and store.get("alice-1")["name"] == "my best run"
    with pytest.raises(StoreError, match="cannot be empty"):
        store.rename("alice-1", "   ")
    assert store.delete(["bob-1", "alice-1"], owner="browser:alice") == 1
    assert store.get("bob-1") is not None and store.get("alice-1") is None
    assert store.delete(["bob-1"]) == 1  # the admin's delete: any run

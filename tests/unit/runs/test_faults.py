"""Faults a hosted server meets, each with a real worker process and a real SQLite file: a store that breaks
mid-run, cannot be opened, is deleted or damaged; a server killed with runs live; a worker that will not stop;
a device the server lacks; a run too big for the worker's memory cap."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from core.data import make_dataset
from core.runs import JobManager, JobPolicy, RunStore, StoreError
from core.runs.job import default_worker_memory_mb
from core.training import ConfigError, TrainConfig

LONG = TrainConfig(epochs=1_000_000, lr=0.1)


@pytest.fixture(scope="module")
def ds():
    return make_dataset("house_prices", n=300)


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class FlakyStore(RunStore):
    """A real SQLite store whose writes fail while `broken` is set: with our error, or with a bug's."""

    broken: type[Exception] | None = None

    def _write(self):
        if self.broken is not None:
            raise self.broken("the disk said no")
        return super()._write()


@pytest.mark.parametrize("error", [StoreError, RuntimeError])
def test_a_store_that_fails_mid_run_never_stops_training_and_catches_up(tmp_path, ds, error):
    store = FlakyStore(f"sqlite:///{tmp_path / 'runs.db'}")
    m = JobManager(n_workers=1, store=store)
    try:
        job = m.submit(ds, TrainConfig(epochs=20_000, lr=0.1))
        wait_for(lambda: len(job.history["epoch"]) > 0 and job.stored)
        store.broken = error
        wait_for(lambda: m.snapshot(job.id).store_problem)
        assert "the disk said no" in str(m.snapshot(job.id).store_problem)
        done = m.wait(job.id, timeout=60)  # the collector lived on: the run ended
        assert done.status == "completed" and len(done.history["epoch"]) == 20_000
        assert m.store_health()["problem"] and m.store_health()["runs_unsaved"] == 1
        other = m.wait(m.submit(ds, TrainConfig(epochs=50)).id, timeout=60)  # and the next run trains
        assert other.status == "completed"
        store.broken = None  # the store answers again: the retries write everything it lacks
        wait_for(lambda: not m.store_health()["problem"] and m.store_health()["runs_unsaved"] == 0, timeout=30)
        assert store.get(job.id)["status"] == "completed"
        assert store.history(job.id, ["epoch"])["epoch"] == list(range(1, 20_001))
        assert len(store.history(other.id, ["epoch"])["epoch"]) == 50
    finally:
        m.shutdown()


def test_a_store_that_cannot_be_opened_leaves_training_working_and_says_why(ds):
    m = JobManager(n_workers=1, store=None, store_problem="Cannot open the run store at /nowhere/runs.db: no such folder.")
    try:
        job = m.submit(ds, TrainConfig(epochs=30))
        assert m.wait(job.id, timeout=60).status == "completed"
        assert "Cannot open the run store" in m.snapshot(job.id).store_problem
        assert m.store_health() == {"store": None, "problem": m.store_problem, "runs_unsaved": 1}
    finally:
        m.shutdown()


def test_every_database_error_is_a_store_error(tmp_path):
    path = tmp_path / "runs.db"
    store = RunStore(f"sqlite:///{path}")
    store.create("r1", None, {"lr": 0.1}, {})
    store.close()
    path.write_bytes(b"this is not a database\n" * 400)  # damaged in place
    for name in ("runs.db-wal", "runs.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    with pytest.raises(StoreError, match="Cannot open the run store"):
        RunStore(f"sqlite:///{path}")
    store._engine.dispose()  # the open store's pooled connections meet the damage too
    with pytest.raises(StoreError):
        store.append("r1", {"epoch": [1], "train_loss": [0.5]})
    with pytest.raises(StoreError):
        store.list_runs()


def test_a_deleted_database_file_is_noticed_not_written_into_the_void(tmp_path):
    path = tmp_path / "runs.db"
    store = RunStore(f"sqlite:///{path}")
    store.create("r1", None, {"lr": 0.1}, {})
    path.unlink()
    with pytest.raises(StoreError, match="deleted or replaced"):
        store.append("r1", {"epoch": [1], "train_loss": [0.5]})


def test_a_restart_after_a_kill_marks_the_dead_servers_runs_interrupted_at_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    store = RunStore(url)
    store.create("cut-off", None, {"lr": 0.1}, {})
    store.set_status("cut-off", "running")
    store.create("elsewhere", None, {"lr": 0.1}, {})
    store.set_status("elsewhere", "running")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with store._engine.begin() as conn:  # as a server that was killed (its pid is gone) and one on another machine left them
        conn.execute(sa.text("UPDATE runs SET holder = :h WHERE id = 'cut-off'"), {"h": f"{socket.gethostname()}:{dead.pid}"})
        conn.execute(sa.text("UPDATE runs SET holder = 'other-host:1' WHERE id = 'elsewhere'"))
    assert store.mark_interrupted(stale_after_s=60) == 1
    cut = store.get("cut-off")
    assert cut["status"] == "interrupted" and cut["finished_at"] is not None
    assert store.get("elsewhere")["status"] == "running"  # another machine's live run: only the staleness rule may end it


def test_a_worker_that_will_not_stop_is_ended_and_its_run_kept_as_stopped(ds):
    m = JobManager(n_workers=1, policy=JobPolicy(stop_grace_s=1.0))
    try:
        job = m.submit(ds, LONG)
        wait_for(lambda: len(job.history["epoch"]) > 100)
        stuck = m.worker_pids()[0]
        os.kill(stuck, signal.SIGSTOP)  # as a worker inside one endless epoch
        m.stop(job.id)
        done = m.wait(job.id, timeout=15)
        assert done.status == "stopped" and "did not stop within 1 s" in str(done.result["reason"])
        assert len(done.history["epoch"]) > 100
        wait_for(lambda: m.workers_ready() == 1 and m.worker_pids()[0] != stuck, timeout=60)
        assert m.wait(m.submit(ds, TrainConfig(epochs=20)).id, timeout=60).status == "completed"
    finally:
        m.shutdown()


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
def test_a_run_for_a_device_the_server_lacks_is_refused_not_queued_forever(ds):
    m = JobManager(n_workers=1)
    try:
        early = m.submit(ds, TrainConfig(epochs=10, device="cuda"))  # before any worker said what it sees
        done = m.wait(early.id, timeout=60)
        assert done.status == "failed" and "no usable CUDA GPU" in str(done.error)
        wait_for(lambda: m.workers_ready() == 1)
        with pytest.raises(ConfigError, match="no usable CUDA GPU"):
            m.submit(ds, TrainConfig(epochs=10, device="cuda"))
        assert m.devices()[:2] == ["auto", "cpu"] and "cuda" not in m.devices()
    finally:
        m.shutdown()


def test_a_run_too_big_for_the_worker_memory_cap_is_refused_before_it_starts():
    ds = make_dataset("house_prices", n=20_000)
    m = JobManager(n_workers=1, policy=JobPolicy(worker_memory_mb=200))
    try:
        with pytest.raises(ConfigError, match="needs about .* GiB for one training step"):
            m.submit(ds, TrainConfig(model="mlp", hidden=(4096, 4096), epochs=5))
        m.submit(ds, TrainConfig(model="mlp", hidden=(16, 16), epochs=5))  # a small one is fine
    finally:
        m.shutdown()


def test_the_step_memory_estimate_covers_the_model_and_the_batch():
    cfg = TrainConfig(model="mlp", hidden=(64, 32), batch_size=100)
    params = (3 + 1) * 64 + (64 + 1) * 32 + (32 + 1) * 1  # a 3-feature MLP's weights and biases, counted by hand
    need = cfg.memory_bytes(rows=1000, features=3)
    assert need >= params * 4 * 4 + 100 * (64 + 32 + 1) * 4  # weights, grads, two moments; one batch's activations
    assert TrainConfig(model="mlp", hidden=(64, 32)).memory_bytes(1000, 3) > need  # full batch holds more


def test_the_default_worker_memory_cap_shares_the_machine(monkeypatch):
    monkeypatch.delenv("DESCENT_WORKER_MEMORY_MB", raising=False)
    total_mb = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal:")).split()[1]) / 1024
    policy = JobPolicy.from_env(n_workers=2)
    assert policy.worker_memory_mb == default_worker_memory_mb(2) == int((total_mb - 1024) * 0.8 / 2)
    assert not policy.gpu_memory_capped
    monkeypatch.setenv("DESCENT_WORKER_MEMORY_MB", "3000")
    assert JobPolicy.from_env(2).worker_memory_mb == 3000 and JobPolicy.from_env(2).gpu_memory_capped

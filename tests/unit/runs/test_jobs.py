"""Real spawned worker processes: streaming, stop, reuse, queueing, and a worker that dies."""

import os
import signal
import time

import pytest

from core.data import make_dataset
from core.runs import JobManager
from core.training import TrainConfig, train

LONG = TrainConfig(epochs=1_000_000, lr=0.1)  # runs until stopped


@pytest.fixture(scope="module")
def manager():
    m = JobManager(n_workers=1)
    yield m
    m.shutdown()


@pytest.fixture(scope="module")
def ds():
    return make_dataset("house_prices", n=500)


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_job_streams_every_epoch_and_matches_the_trainer(manager, ds):
    cfg = TrainConfig(epochs=3000, lr=0.1)
    job = manager.submit(ds, cfg)
    cursor, seen, chunks = 0, [], 0
    while True:
        snap = manager.snapshot(job.id, since=cursor)
        if snap.rows["epoch"]:
            chunks += 1
        seen += snap.rows["epoch"]
        cursor = snap.cursor
        if snap.status in ("completed", "failed") and cursor == snap.epochs_done:
            break
        time.sleep(0.05)
    assert snap.status == "completed", snap.error
    assert seen == list(range(1, 3001))  # every epoch exactly once, in order: only what is new each time
    direct = train(ds, cfg)
    assert snap.result["coef"] == pytest.approx(direct.coef, rel=1e-6)
    assert job.history["train_loss"] == pytest.approx(direct.history["train_loss"].tolist(), rel=1e-6)


def test_stop_ends_a_run_within_an_epoch_and_the_worker_is_reused(manager, ds):
    pids = manager.worker_pids()
    job = manager.submit(ds, LONG)
    wait_for(lambda: len(job.history["epoch"]) > 0)
    manager.stop(job.id)
    t = time.monotonic()
    manager.wait(job.id, timeout=10)
    assert time.monotonic() - t < 1.0
    assert job.status == "stopped"
    assert "Stopped by request" in str(job.result["reason"])
    assert 0 < len(job.history["epoch"]) < LONG.epochs
    assert manager.worker_pids() == pids  # same process, torch imported once


def test_a_second_job_queues_behind_a_busy_worker(manager, ds):
    first = manager.submit(ds, LONG)
    second = manager.submit(ds, TrainConfig(epochs=10))
    wait_for(lambda: first.status == "running")
    assert manager.snapshot(second.id).queue_position == 1
    manager.stop(first.id)
    manager.wait(second.id, timeout=30)
    assert first.status == "stopped" and second.status == "completed"
    third = manager.submit(ds, LONG)
    fourth = manager.submit(ds, LONG)
    manager.stop(fourth.id)  # stopping a queued job: it never starts
    assert fourth.status == "stopped" and len(fourth.history["epoch"]) == 0
    manager.stop(third.id)
    manager.wait(third.id, timeout=10)


def test_a_killed_worker_fails_only_its_job_and_is_replaced(manager, ds):
    job = manager.submit(ds, LONG)
    wait_for(lambda: len(job.history["epoch"]) > 0)
    os.kill(manager.worker_pids()[0], signal.SIGKILL)
    manager.wait(job.id, timeout=10)
    assert job.status == "failed"
    assert "training process died" in str(job.error) and "epochs done so far are kept" in str(job.error)
    assert len(job.history["epoch"]) > 0
    after = manager.submit(ds, TrainConfig(epochs=20))
    manager.wait(after.id, timeout=60)
    assert after.status == "completed"


def test_bad_config_is_refused_before_it_reaches_a_worker(manager, ds):
    with pytest.raises(ValueError, match="epochs must be"):
        manager.submit(ds, TrainConfig(epochs=0))


def test_pause_holds_a_run_and_resume_continues_it(manager, ds):
    job = manager.submit(ds, LONG)
    wait_for(lambda: len(job.history["epoch"]) > 0)
    manager.pause(job.id)
    assert job.status == "paused"
    time.sleep(0.5)  # let the worker reach the pause point and send what it has
    held = len(job.history["epoch"])
    time.sleep(0.5)
    assert len(job.history["epoch"]) == held  # nothing trains while paused
    manager.resume(job.id)
    wait_for(lambda: len(job.history["epoch"]) > held)
    assert job.status == "running"
    manager.pause(job.id)
    manager.stop(job.id)  # stopping a paused run ends it
    manager.wait(job.id, timeout=10)
    assert job.status == "stopped"


def test_the_record_carries_every_trainer_column(manager, ds):
    job = manager.wait(manager.submit(ds, TrainConfig(epochs=50, lr=0.1)).id, timeout=60)
    assert {"epoch", "train_loss", "test_loss", "grad_norm", "lr", "w:area_m2", "w:rooms", "b"} <= set(job.history)
    assert all(len(v) == 50 for v in job.history.values())
    assert len(job.result["predictions"]) == len(ds) and job.result["model_file"]


def test_a_killed_worker_leaves_its_partial_history_in_the_store_and_a_restart_lists_it(tmp_path, ds):
    from core.runs import RunStore

    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    m = JobManager(n_workers=1, store=store)
    try:
        done = m.wait(m.submit(ds, TrainConfig(epochs=30), owner="alice").id, timeout=60)
        job = m.submit(ds, LONG, owner="alice")
        wait_for(lambda: len(job.history["epoch"]) > 100)
        os.kill(m.worker_pids()[0], signal.SIGKILL)
        m.wait(job.id, timeout=10)
        kept = store.history(job.id)
        assert len(kept["epoch"]) == len(job.history["epoch"]) > 100  # nothing done before the crash is lost
        assert store.get(job.id)["status"] == "failed"
        assert len(store.history(done.id)["epoch"]) == 30 and "w:area_m2" in store.history(done.id)
        running = m.submit(ds, LONG, owner="bob")
        wait_for(lambda: len(running.history["epoch"]) > 0)
    finally:
        m.shutdown()  # the server goes away mid-run
    restarted = JobManager(n_workers=1, store=RunStore(f"sqlite:///{tmp_path / 'runs.db'}"))
    try:
        runs = {r["id"]: r for r in restarted._store.list_runs()}
        assert runs[done.id]["status"] == "completed" and runs[job.id]["status"] == "failed"
        assert runs[running.id]["status"] == "interrupted" and runs[running.id]["finished_at"] is not None  # ended at the stop
    finally:
        restarted.shutdown()


def test_one_running_job_per_session_and_others_go_first():
    from core.runs import JobPolicy

    ds = make_dataset("house_prices", n=200)
    m = JobManager(n_workers=2, policy=JobPolicy(runs_per_session=1))
    try:
        a1 = m.submit(ds, LONG, owner="alice")
        a2 = m.submit(ds, LONG, owner="alice")  # waits: alice already has a run
        b1 = m.submit(ds, LONG, owner="bob")  # takes the second worker ahead of alice's second run
        wait_for(lambda: b1.status == "running", timeout=60)
        assert a1.status == "running" and a2.status == "queued"
        assert m.snapshot(a2.id).queue_position == 1
        m.stop(a1.id)
        wait_for(lambda: a2.status == "running", timeout=30)
        for j in (a2, b1):
            m.stop(j.id)
    finally:
        m.shutdown()


def test_a_closed_tabs_run_is_stopped_and_the_wall_time_cap_holds():
    from core.runs import JobPolicy

    ds = make_dataset("house_prices", n=200)
    m = JobManager(n_workers=1, policy=JobPolicy(orphan_after_s=1.0, max_run_s=2.0))
    try:
        m.heartbeat("carol")
        gone = m.submit(ds, LONG, owner="carol")  # carol's tab never beats again
        m.wait(gone.id, timeout=30)
        assert gone.status == "stopped" and "browser tab was closed" in str(gone.result["reason"])
        long = m.submit(ds, LONG)  # no session (the CLI): only the wall-time cap applies
        m.wait(long.id, timeout=30)
        assert long.status == "stopped" and "time limit of 2 s" in str(long.result["reason"])
        assert len(long.history["epoch"]) > 0  # the epochs done are kept
    finally:
        m.shutdown()


def test_a_run_that_runs_out_of_memory_fails_with_advice_and_the_worker_lives_on(monkeypatch, ds):
    """A real allocation failure: the worker's per-run memory cap (address space) on this CPU machine. A GPU's
    OutOfMemoryError takes the same path (out_of_memory below), which needs a GPU to provoke for real."""
    monkeypatch.setenv("DESCENT_WORKER_MEMORY_MB", "300")
    monkeypatch.setattr(TrainConfig, "memory_bytes", lambda *_: 0)  # past the server's estimate, to the real allocator
    m = JobManager(n_workers=1)
    try:
        wide = TrainConfig(model="mlp", hidden=(4096, 4096, 4096), optimizer="adam", epochs=5, device="cpu")
        job = m.submit(make_dataset("house_prices", n=5000), wide)  # ~0.8 GB of weights, optimizer state, activations
        m.wait(job.id, timeout=60)
        assert job.status == "failed"
        assert "ran out of memory" in str(job.error) and "smaller batch" in str(job.error)
        pids = m.worker_pids()
        small = m.submit(ds, TrainConfig(epochs=50))
        m.wait(small.id, timeout=60)
        assert small.status == "completed" and m.worker_pids() == pids  # the same worker, still healthy
    finally:
        m.shutdown()


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_a_cuda_run_that_runs_out_of_memory_fails_with_advice_and_releases_it(monkeypatch, ds):
    """A real CUDA OutOfMemoryError under the per-run cap (DESCENT_WORKER_MEMORY_MB caps the GPU's allocator);
    the next run, under the same cap, fits only if the failed one's memory was given back."""
    monkeypatch.setenv("DESCENT_WORKER_MEMORY_MB", "512")
    m = JobManager(n_workers=1)
    try:
        wide = TrainConfig(model="mlp", hidden=(4096,) * 4, optimizer="adam", epochs=3, device="cuda")
        job = m.submit(make_dataset("house_prices", n=5000), wide)  # ~0.8 GB of weights, gradients and Adam state
        m.wait(job.id, timeout=120)
        assert job.status == "failed" and "ran out of memory" in str(job.error)
        again = m.submit(make_dataset("house_prices", n=5000), TrainConfig(model="mlp", hidden=(1024, 1024), epochs=3, device="cuda"))
        m.wait(again.id, timeout=120)
        assert again.status == "completed", again.error
    finally:
        m.shutdown()


def test_out_of_memory_recognises_the_gpu_and_cpu_allocators_errors():
    import torch

    from core.runs.worker import out_of_memory

    assert out_of_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), torch)
    assert out_of_memory(MemoryError(), torch)
    with pytest.raises(RuntimeError) as cpu_failure:
        torch.empty(2**62, dtype=torch.uint8)
    assert out_of_memory(cpu_failure.value, torch)
    assert not out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied"), torch)


def test_the_gpu_gate_holds_gpu_runs_at_the_limit_and_lets_cpu_runs_past(ds):
    """The scheduling rule on a two-GPU machine (as a worker's torch would report it), without a GPU: the
    manager's workers are stood in for, since a real one here reports no accelerator."""
    from types import SimpleNamespace

    from core.runs import Job, JobPolicy

    m = JobManager(n_workers=1, policy=JobPolicy(runs_per_session=9, runs_per_gpu=1))
    try:
        with m._lock:
            m._accelerators = ["cuda:0", "cuda:1"]
            real = m._workers
            m._workers = [SimpleNamespace(job=None) for _ in range(4)]

            def queued(device: str, owner: str) -> Job:
                job = Job(id=f"{owner}-{device}", config=TrainConfig(device=device), dataset={}, owner=owner)
                m._queue.append(job)
                return job

            def start(job: Job) -> None:
                m._queue.remove(job)
                job.accelerator = m._gpu_for(job)
                next(w for w in m._workers if w.job is None).job = job

            a, b, c = queued("auto", "ann"), queued("cuda", "bob"), queued("cuda", "cy")
            start(m._next_job())
            start(m._next_job())
            assert (a.accelerator, b.accelerator) == ("cuda:0", "cuda:1")  # least busy GPU first
            cpu = queued("cpu", "dee")
            assert m._next_job() is cpu  # c waits for a GPU; the CPU run behind it goes first
            start(cpu)
            assert cpu.accelerator is None and m._next_job() is None
            next(w for w in m._workers if w.job is b).job = None  # b finishes: its GPU is free again
            assert m._next_job() is c and m._gpu_for(c) == "cuda:1"
            m._workers = real
            m._queue.clear()
    finally:
        m.shutdown()


def test_a_lesson_lane_does_not_wait_behind_its_owners_train_run(ds):
    """One run at a time per person, counted apart for Train runs and lesson lanes: a student's lesson starts at once."""
    from core.runs import JobPolicy

    m = JobManager(n_workers=2, policy=JobPolicy(runs_per_session=1))
    try:
        long = m.submit(ds, LONG, owner="student")
        wait_for(lambda: long.status == "running")
        lane = m.submit(ds, TrainConfig(epochs=50, lr=0.1), owner="student", kind="lesson", name="lesson · A good learning rate")
        assert m.wait(lane.id, timeout=60).status == "completed" and long.status == "running"
        second = m.submit(ds, TrainConfig(epochs=50), owner="student")  # a second Train run still waits its turn
        time.sleep(1.0)
        assert second.status == "queued"
        assert lane.dataset["source"] == "lesson" and long.dataset["source"] == "train"
    finally:
        m.shutdown()


def test_finished_jobs_are_held_compactly_and_within_the_memory_budget(monkeypatch, ds):
    """A finished run's history is kept as float64 arrays (read back as the same lists), and the oldest finished runs
    are forgotten once their histories, datasets and predictions pass KEEP_FINISHED_MB; the newest always stays."""
    from core.runs import manager as manager_module
    from core.runs.job import held_bytes

    m = JobManager(n_workers=1)
    try:
        cfg = TrainConfig(epochs=2000, lr=0.1, test_fraction=0.0)  # no test split: test_loss is None every epoch
        first = m.submit(ds, cfg)
        wait_for(lambda: first.done)
        direct = train(ds, cfg)
        snap = m.snapshot(first.id)
        assert snap.rows["epoch"] == list(range(1, 2001)) and all(isinstance(e, int) for e in snap.rows["epoch"])
        assert snap.rows["train_loss"] == pytest.approx(direct.history["train_loss"].tolist(), rel=1e-6)
        assert snap.rows["test_loss"] == [None] * 2000  # a column of None stays a list of None
        assert m.snapshot(first.id, since=1990).rows["epoch"] == list(range(1991, 2001))
        assert all(v.dtype.itemsize == 8 for v in first.history.values())  # 8 bytes an epoch, not a Python float's 32
        monkeypatch.setattr(manager_module, "KEEP_FINISHED_MB", 1.5 * held_bytes(first) / 2**20)  # room for one
        second = m.submit(ds, cfg)
        wait_for(lambda: second.done)
        assert m.get(first.id) is first  # over the budget, but it ended a moment ago: its owner may not have seen it end
        monkeypatch.setattr(manager_module, "KEEP_RECENT_S", 0.0)
        extra = m.submit(ds, cfg)
        wait_for(lambda: extra.done)
        assert m.get(first.id) is None and m.get(second.id) is None and m.snapshot(first.id) is None  # forgotten: the store has them
        second = extra
        assert m.get(second.id) is second
        monkeypatch.setattr(manager_module, "KEEP_FINISHED_MB", 0.0)  # below even one run: the newest stays
        third = m.submit(ds, cfg)
        wait_for(lambda: third.done)
        assert [j.id for j in m.jobs()] == [third.id]
    finally:
        m.shutdown()


def test_runs_kept_only_because_they_were_recent_are_let_go_when_that_passes_without_another_run(monkeypatch, ds):
    """The budget used to be applied only when a run ended: after a burst of long runs, those kept while recent stayed
    over the budget until someone trained again (benchmarks/soak.py's server ended holding ~120 MB of finished runs)."""
    from core.runs import manager as manager_module
    from core.runs.job import held_bytes

    m = JobManager(n_workers=1)
    try:
        cfg = TrainConfig(epochs=2000, lr=0.1, test_fraction=0.0)
        first = m.submit(ds, cfg)
        wait_for(lambda: first.done)
        monkeypatch.setattr(manager_module, "KEEP_FINISHED_MB", 1.5 * held_bytes(first) / 2**20)  # room for one
        second = m.submit(ds, cfg)
        wait_for(lambda: second.done)
        time.sleep(1.0)
        assert m.get(first.id) is first  # over the budget, kept: it ended within KEEP_RECENT_S
        monkeypatch.setattr(manager_module, "LIVENESS_S", 0.2)
        monkeypatch.setattr(manager_module, "KEEP_RECENT_S", 0.5)  # it has now aged past "recent"; no run ends after this
        wait_for(lambda: m.get(first.id) is None, timeout=10)
        assert m.get(second.id) is second  # the newest always stays
    finally:
        m.shutdown()

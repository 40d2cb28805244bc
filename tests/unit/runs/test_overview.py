"""The admin view's job overview: rows, counts and limits from jobs built by hand."""

import time

from core.runs.job import Job, JobPolicy, Snapshot
from core.runs.overview import ACTIVE_COLUMNS, active_row, duration, failure_rows, job_counts, limits_in_force, owner_name
from core.training import TrainConfig

NOW = 1_700_000_000.0


def job(job_id: str, status="running", owner=None, label="", **kw) -> Job:
    dataset = {"preset": "sine", "rows": 1200}
    return Job(job_id, TrainConfig(), dataset, owner=owner, owner_label=label, status=status, submitted_at=NOW - 30, **kw)


def snapshot(status="running", started_at=NOW - 20, epochs_done=400, queue_position=None) -> Snapshot:
    return Snapshot("j", status, {}, 0, epochs_done, 1000, queue_position, None, "", started_at, None)


def test_the_owner_is_the_label_else_the_session_else_the_cli():
    assert owner_name(job("a", label="ada@example.org", owner="f" * 32)) == "ada@example.org"
    assert owner_name(job("a", owner="abcdef123456")) == "session abcdef"
    assert owner_name(job("a")) == "(CLI)"


def test_durations_switch_to_minutes_at_two_minutes():
    assert duration(45) == "45 s" and duration(119.4) == "119 s"
    assert duration(120) == "2.0 min" and duration(3 * 3600) == "180.0 min"


def test_counts_put_paused_with_running():
    jobs = [job("a"), job("b", status="paused"), job("c", status="queued"), job("d", status="failed"), job("e", status="completed")]
    assert job_counts(jobs) == {"running": 2, "queued": 1, "failed": 1}


def test_a_running_job_row_has_its_rate_since_it_started():
    row = active_row(job("a", owner="abcdef123456"), snapshot(), NOW)
    assert tuple(row) == ACTIVE_COLUMNS
    assert row == {
        "status": "running",
        "owner": "session abcdef",
        "data": "sine, 1,200 rows",
        "epochs": "400 of 1,000",
        "epochs/s": "20",  # 400 epochs in 20 s
        "age": "30 s",
    }


def test_a_queued_job_shows_its_place_and_no_rate():
    row = active_row(job("a", status="queued"), snapshot("queued", started_at=None, epochs_done=0, queue_position=2), NOW)
    assert row["status"] == "queued #2" and row["epochs/s"] == "–"


def test_failures_are_the_latest_first_with_their_message():
    jobs = [job(str(i), status="failed", error=f"boom {i}", finished_at=NOW) for i in range(5)] + [job("ok", status="completed")]
    jobs[4].error, jobs[4].result = "", {"reason": "diverged at epoch 3"}
    rows = failure_rows(jobs, NOW, limit=3)
    assert [r["message"] for r in rows] == ["diverged at epoch 3", "boom 3", "boom 2"]
    assert rows[0]["finished"] == time.strftime("%H:%M:%S", time.localtime(NOW))
    assert rows[0]["owner"] == "(CLI)" and rows[0]["epochs"] == 0


def test_limits_say_their_variable_and_value():
    limits = limits_in_force(JobPolicy(keep_orphans=True, max_run_s=90.0), workers=3)
    memory = "memory per run beyond the worker (DESCENT_WORKER_MEMORY_MB; default from RAM and workers)"
    assert limits["worker processes (DESCENT_WORKERS)"] == "3"
    assert limits["closed browser: runs stopped after (DESCENT_ORPHAN_AFTER_S)"] == "kept running"
    assert limits["wall time per run (DESCENT_MAX_RUN_S)"] == "90 s"
    assert limits[memory] == "no limit"
    assert limits_in_force(JobPolicy(worker_memory_mb=512, gpu_memory_capped=True), 1)[memory] == "512 MB"
    assert limits_in_force(JobPolicy(worker_memory_mb=9000), 1)[memory].startswith("9,000 MB, host memory only")

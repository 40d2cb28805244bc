"""The admin view of a server's jobs: counts by state, one row per job in flight, the recent failures, the limits in force."""

from __future__ import annotations

import time
from collections.abc import Sequence

from core.data.csv_reader import LIMITS
from core.runs.job import Job, JobPolicy, Snapshot
from core.training.config import MAX_EPOCHS

ACTIVE_COLUMNS = ("status", "owner", "data", "epochs", "epochs/s", "age")  # the keys of active_row()


def owner_name(job: Job) -> str:
    """Who started it: the logged-in user or guest, else the first characters of its session, else the command line."""
    return job.owner_label or (f"session {job.owner[:6]}" if job.owner else "(CLI)")


def duration(seconds: float) -> str:
    """Seconds below two minutes, minutes from there: "45 s", "3.5 min"."""
    return f"{seconds:,.0f} s" if seconds < 120 else f"{seconds / 60:,.1f} min"


def job_counts(jobs: Sequence[Job]) -> dict[str, int]:
    """Jobs running (paused ones included), queued, and failed (those the manager still keeps in memory)."""
    return {
        "running": sum(j.status in ("running", "paused") for j in jobs),
        "queued": sum(j.status == "queued" for j in jobs),
        "failed": sum(j.status == "failed" for j in jobs),
    }


def active_row(job: Job, snap: Snapshot, now: float) -> dict[str, str]:
    """A queued or running job as text under ACTIVE_COLUMNS; epochs/s counts from its start, "–" before it starts."""
    elapsed_s = now - snap.started_at if snap.started_at else 0.0
    return {
        "status": f"queued #{snap.queue_position}" if snap.status == "queued" else snap.status,
        "owner": owner_name(job),
        "data": f"{job.dataset.get('preset') or job.dataset.get('csv') or '?'}, {job.dataset.get('rows', 0):,} rows",
        "epochs": f"{snap.epochs_done:,} of {snap.epochs_total:,}",
        "epochs/s": f"{snap.epochs_done / elapsed_s:,.0f}" if elapsed_s > 0 else "–",
        "age": duration(now - job.submitted_at),
    }


def failure_rows(jobs: Sequence[Job], now: float, limit: int) -> list[dict]:
    """The last `limit` failed jobs, newest first: when (local time), who, how far it got, and why."""
    failed = [j for j in jobs if j.status == "failed"][-limit:][::-1]
    return [
        {
            "finished": time.strftime("%H:%M:%S", time.localtime(j.finished_at or now)),
            "owner": owner_name(j),
            "epochs": len(j.history["epoch"]),
            "message": j.error or (j.result or {}).get("reason", ""),
        }
        for j in failed
    ]


def limits_in_force(policy: JobPolicy, workers: int) -> dict[str, str]:
    """Each limit, named with the environment variable that sets it, and its value as text."""
    orphans = "kept running" if policy.keep_orphans else f"{policy.orphan_after_s:g} s"
    return {
        "worker processes (DESCENT_WORKERS)": f"{workers}",
        "runs at a time per person, a browser or a login (DESCENT_RUNS_PER_SESSION)": f"{policy.runs_per_session}",
        "closed browser: runs stopped after (DESCENT_ORPHAN_AFTER_S)": orphans,
        "wall time per run (DESCENT_MAX_RUN_S)": f"{policy.max_run_s:g} s" if policy.max_run_s else "no limit",
        "runs at a time per GPU (DESCENT_RUNS_PER_GPU)": f"{policy.runs_per_gpu}",
        "memory per run beyond the worker (DESCENT_WORKER_MEMORY_MB; default from RAM and workers)": _memory(policy),
        "a run that will not stop is ended after (DESCENT_STOP_GRACE_S)": f"{policy.stop_grace_s:g} s",
        "epochs per run (DESCENT_MAX_EPOCHS)": f"{MAX_EPOCHS:,}",
        "rows (DESCENT_MAX_ROWS)": f"{LIMITS.max_rows:,}",
        "columns (DESCENT_MAX_COLUMNS)": f"{LIMITS.max_columns}",
        "upload size (DESCENT_MAX_UPLOAD_MB)": f"{LIMITS.max_bytes / 2**20:g} MB",
    }


def _memory(policy: JobPolicy) -> str:
    if not policy.worker_memory_mb:
        return "no limit"
    return f"{policy.worker_memory_mb:,} MB" + ("" if policy.gpu_memory_capped else ", host memory only (a GPU's is not capped)")

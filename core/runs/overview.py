"""The admin view of a server's jobs: counts by state, one row per job in flight, the recent failures, the limits in force."""

from __future__ import annotations

import time
from collections.abc import Sequence

from core.data.csv_reader import LIMITS
from core.i18n import N_, _
from core.runs.job import Job, JobPolicy, Snapshot, status_label
from core.training.config import MAX_EPOCHS

# the keys of active_row(), and the ids of its headings: show them with _(name)
ACTIVE_COLUMNS = (N_("status"), N_("owner"), N_("data"), N_("epochs"), N_("epochs/s"), N_("age"))


def owner_name(job: Job) -> str:
    """Who started it: the logged-in user or guest, else the first characters of its session, else the command line."""
    return job.owner_label or (_("session {id}", id=job.owner[:6]) if job.owner else "(CLI)")


def duration(seconds: float) -> str:
    """Seconds below two minutes, minutes from there: "45 s", "3.5 min"."""
    return _("{seconds:,.0f} s", seconds=seconds) if seconds < 120 else _("{minutes:,.1f} min", minutes=seconds / 60)


def job_counts(jobs: Sequence[Job]) -> dict[str, int]:
    """Jobs running (paused ones included), queued, and failed (those the manager still keeps in memory)."""
    return {
        "running": sum(j.status in ("running", "paused") for j in jobs),
        "queued": sum(j.status == "queued" for j in jobs),
        "failed": sum(j.status == "failed" for j in jobs),
    }


def active_row(job: Job, snap: Snapshot, now: float) -> dict[str, str]:
    """A queued or running job as text under ACTIVE_COLUMNS, in the reader's language; epochs/s from its start, "–" before."""
    elapsed_s = now - snap.started_at if snap.started_at else 0.0
    return {
        "status": _("queued #{position}", position=snap.queue_position) if snap.status == "queued" else status_label(snap.status),
        "owner": owner_name(job),
        "data": _(
            "{name}, {rows:,} rows", name=job.dataset.get("preset") or job.dataset.get("csv") or "?", rows=job.dataset.get("rows", 0)
        ),
        "epochs": _("{done:,} of {total:,}", done=snap.epochs_done, total=snap.epochs_total),
        "epochs/s": f"{snap.epochs_done / elapsed_s:,.0f}" if elapsed_s > 0 else "–",
        "age": duration(now - job.submitted_at),
    }


def failure_rows(jobs: Sequence[Job], now: float, limit: int) -> list[dict]:
    """The last `limit` failed jobs, newest first: when (local time), who, how far it got, and why (in the reader's
    language). The keys stay English, ids of the headings a page shows (_(key))."""
    failed = [j for j in jobs if j.status == "failed"][-limit:][::-1]
    return [
        {
            N_("finished"): time.strftime("%H:%M:%S", time.localtime(j.finished_at or now)),
            N_("owner"): owner_name(j),
            N_("epochs"): len(j.history["epoch"]),
            N_("message"): str(j.error or (j.result or {}).get("reason", "")),
        }
        for j in failed
    ]


def limits_in_force(policy: JobPolicy, workers: int) -> dict[str, str]:
    """Each limit, named with the environment variable that sets it (an id: show it with _(name)), and its value as text
    in the reader's language."""
    orphans = _("kept running") if policy.keep_orphans else _("{seconds:g} s", seconds=policy.orphan_after_s)
    return {
        N_("worker processes (DESCENT_WORKERS)"): f"{workers}",
        N_("runs at a time per person, a browser or a login (DESCENT_RUNS_PER_SESSION)"): f"{policy.runs_per_session}",
        N_("closed browser: runs stopped after (DESCENT_ORPHAN_AFTER_S)"): orphans,
        N_("wall time per run (DESCENT_MAX_RUN_S)"): _("{seconds:g} s", seconds=policy.max_run_s) if policy.max_run_s else _("no limit"),
        N_("runs at a time per GPU (DESCENT_RUNS_PER_GPU)"): f"{policy.runs_per_gpu}",
        N_("memory per run beyond the worker (DESCENT_WORKER_MEMORY_MB; default from RAM and workers)"): _memory(policy),
        N_("a run that will not stop is ended after (DESCENT_STOP_GRACE_S)"): _("{seconds:g} s", seconds=policy.stop_grace_s),
        N_("epochs per run (DESCENT_MAX_EPOCHS)"): f"{MAX_EPOCHS:,}",
        N_("rows (DESCENT_MAX_ROWS)"): f"{LIMITS.max_rows:,}",
        N_("columns (DESCENT_MAX_COLUMNS)"): f"{LIMITS.max_columns}",
        N_("upload size (DESCENT_MAX_UPLOAD_MB)"): f"{LIMITS.max_bytes / 2**20:g} MB",
    }


def _memory(policy: JobPolicy) -> str:
    if not policy.worker_memory_mb:
        return _("no limit")
    if policy.gpu_memory_capped:
        return f"{policy.worker_memory_mb:,} MB"
    return _("{mb:,} MB, host memory only (a GPU's is not capped)", mb=policy.worker_memory_mb)

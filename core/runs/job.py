"""A training job as the server sees it: its policy, its state, and what a page reads of it (a Snapshot)."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.data.dataset import Dataset
from core.i18n import N_, Message, _
from core.runs.columns import Columns
from core.training.config import TrainConfig

FINAL = ("completed", "stopped", "diverged", "failed")
STATUS_LABELS = {  # a run's status as a person reads it; the status itself stays English (the store, filters, tests)
    "queued": N_("queued"),
    "running": N_("running"),
    "paused": N_("paused"),
    "completed": N_("completed"),
    "stopped": N_("stopped"),
    "diverged": N_("diverged"),
    "failed": N_("failed"),
    "interrupted": N_("interrupted"),
}


def status_label(status: str) -> str:
    """The status in the reader's language (an unknown one as it is)."""
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def run_name(cfg: TrainConfig, data: str) -> str:
    """A name a person can tell runs apart by, from what differs most often: "sgd · lr 0.01 · 100 ep · house_prices"."""
    model = "" if cfg.model == "linear" else f"mlp {'×'.join(map(str, cfg.hidden))} · "
    return f"{model}{cfg.optimizer} · lr {cfg.lr:g} · {cfg.epochs:,} ep · {data}"


@dataclass(frozen=True)
class JobPolicy:
    """How a shared server shares itself; each field has an environment variable for operators."""

    runs_per_session: int = 1  # DESCENT_RUNS_PER_SESSION: a session's further runs wait, so no one can take every worker
    orphan_after_s: float = 60.0  # DESCENT_ORPHAN_AFTER_S: a run whose session has not been seen this long is stopped
    keep_orphans: bool = False  # DESCENT_KEEP_ORPHANS=1: let runs of closed tabs finish instead
    max_run_s: float | None = None  # DESCENT_MAX_RUN_S: wall-time cap per run
    runs_per_gpu: int = 1  # DESCENT_RUNS_PER_GPU: runs sharing one GPU (or Apple's MPS) at a time; the rest wait
    stop_grace_s: float = 5.0  # DESCENT_STOP_GRACE_S: a worker that has not stopped this long after Stop is killed and replaced
    worker_memory_mb: int | None = None  # DESCENT_WORKER_MEMORY_MB: what one run may allocate; default from RAM and workers
    gpu_memory_capped: bool = False  # the cap came from DESCENT_WORKER_MEMORY_MB, so it caps each GPU's allocator too

    @classmethod
    def from_env(cls, n_workers: int = 1) -> JobPolicy:
        env = os.environ.get
        memory = env("DESCENT_WORKER_MEMORY_MB")
        return cls(
            runs_per_session=int(env("DESCENT_RUNS_PER_SESSION", cls.runs_per_session)),
            orphan_after_s=float(env("DESCENT_ORPHAN_AFTER_S", cls.orphan_after_s)),
            keep_orphans=env("DESCENT_KEEP_ORPHANS", "") == "1",
            max_run_s=float(env("DESCENT_MAX_RUN_S")) if env("DESCENT_MAX_RUN_S") else None,
            runs_per_gpu=max(1, int(env("DESCENT_RUNS_PER_GPU", cls.runs_per_gpu))),
            stop_grace_s=float(env("DESCENT_STOP_GRACE_S", cls.stop_grace_s)),
            worker_memory_mb=int(memory) if memory else default_worker_memory_mb(n_workers),
            gpu_memory_capped=bool(memory),
        )


def default_worker_memory_mb(n_workers: int) -> int | None:
    """Four fifths of the RAM left after 1 GiB for the server, shared by the workers: a huge run fails with a
    message instead of swapping the machine everyone shares. None where the total is unknown (not Linux)."""
    try:
        total_kb = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal:")).split()[1])
    except (OSError, StopIteration, ValueError):
        return None
    return max(256, int((total_kb / 1024 - 1024) * 0.8 / max(n_workers, 1)))


@dataclass
class Job:
    id: str
    config: TrainConfig
    dataset: dict[str, Any]  # the dataset's spec and shape, for display
    owner: str | None = None  # who controls it: a logged-in user or a browser (ui/identity.py); None from the CLI
    name: str = ""  # what its owner calls it; run_name() until renamed
    owner_label: str = ""  # the logged-in user, or a guest's address and session, for the admin page
    kind: str = "train"  # or "lesson": a classroom lane, which has an allowance of its own (JobManager._next_job)
    status: str = "queued"  # queued → running ⇄ paused → completed | stopped | diverged | failed
    history: Mapping[str, np.ndarray] = field(default_factory=Columns)  # columnar, growing; its exact-size arrays once done
    result: dict[str, Any] | None = None  # coef, intercept, device, reason, elapsed_s
    error: Message | str = ""  # why it failed: a Message, shown in each reader's language (str() it)
    submitted_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    paused_s: float = 0.0  # time spent paused before the current pause, so a rate counts only training time
    paused_since: float | None = None  # when the current pause began
    stop_requested: bool = False
    stop_requested_at: float | None = None  # time.monotonic(): past the policy's grace its worker is killed
    stop_reason: Message | str = ""  # why the server stopped it (closed tab, wall-time cap); empty when the user did
    payload: tuple | None = field(default=None, repr=False)  # what the worker needs; dropped once sent
    source: Dataset | None = field(default=None, repr=False)  # the data itself, so a page can re-attach after a refresh
    accelerator: str | None = None  # the GPU it holds while it runs ("cuda:1", "mps"); None on the CPU
    unsaved: list[dict[str, np.ndarray]] = field(default_factory=list, repr=False)  # batches the run store lacks, as sent
    saved_at: float = 0.0  # when the last went to the store (time.monotonic())
    ending: bool = False  # its end is being written to the store; it reads as ended (done) once that is written
    stored: bool = False  # its row is in the run store
    store_behind: bool = False  # a store write failed: what the store lacks is retried until it lands

    @property
    def done(self) -> bool:
        return self.status in FINAL


@dataclass(frozen=True)
class Snapshot:
    """What changed in a job since a reader's cursor; new rows only, columnar."""

    id: str
    status: str
    rows: dict[str, list]
    cursor: int
    epochs_done: int
    epochs_total: int
    queue_position: int | None
    result: dict[str, Any] | None
    error: Message | str
    started_at: float | None
    finished_at: float | None
    waiting_for_gpu: bool = False  # queued because every GPU has DESCENT_RUNS_PER_GPU runs
    paused_s: float = 0.0  # time it has spent paused so far
    store_problem: Message | str = ""  # why this run is not being saved right now, and what to do; empty while it is


def held_bytes(job: Job) -> int:
    """Roughly what a job holds in the server's memory: its history, its dataset and its predictions."""
    history = sum(v.nbytes for v in job.history.values())
    data = 0 if job.source is None else job.source.X.memory_usage(index=False).sum() + job.source.y.nbytes
    predictions = 32 * len((job.result or {}).get("predictions") or ())
    return int(history + data + predictions)

"""The job manager's writes to the run store: queued under its lock, run outside it in order, and retried.

A page reading its snapshot never waits on the disk (an append of a second's epochs takes 20-80 ms), and a
store that fails never stops training: the failure is logged once and said (problem), the run's epochs stay
in memory in order, and every STORE_RETRY_S the runs the store lacks are written again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from core.i18n import Message
from core.runs.job import Job
from core.runs.store import RunStore, StoreError

log = logging.getLogger(__name__)

STORE_RETRY_S = 5.0  # how often writes the run store refused are tried again
BIG_RESULTS = ("predictions", "model_file", "safetensors", "weights")  # kept in memory, not in the store: rebuildable


class RunSaver:
    def __init__(self, store: RunStore | None, lock: threading.Lock, problem: Message | str = ""):
        """lock: the job manager's, which guards each job's unsaved epochs. problem: why there is no store."""
        self.store = store
        self.problem = problem  # why runs are not being saved now, and what to do (a Message); "" while every write lands
        self._lock = lock
        self._writes: deque[Callable[[], Any]] = deque()  # queued under the manager's lock, run outside it (drain)
        self._write_lock = threading.Lock()  # one drainer at a time, so writes land in the order they were queued
        self._retry_at = 0.0

    def later(self, write: Callable[[RunStore], Any]) -> None:
        """A store write from under the manager's lock, run by drain once the lock is free."""
        self._writes.append(lambda: self.record(write))

    def later_for(self, job: Job, write: Callable[[RunStore], Any]) -> None:
        """A store write for one job; if it fails the job is behind, and retry catches it up."""
        self._writes.append(lambda: self.record(write) or setattr(job, "store_behind", True))

    def then(self, step: Callable[[], Any]) -> None:
        """Anything that must follow the writes queued so far (a job's end)."""
        self._writes.append(step)

    def drain(self) -> None:
        """Run the queued writes, oldest first. Never call it holding the manager's lock: a job's end takes it."""
        with self._write_lock:
            while self._writes:
                self._writes.popleft()()

    def record(self, write: Callable[[RunStore], Any]) -> bool:
        """Write to the run store, if any. Whatever goes wrong is logged and said, never allowed to stop training
        or the collector thread that serves every job. True when the write landed."""
        if self.store is None:
            return False
        try:
            write(self.store)
        except Exception as e:  # noqa: BLE001 - StoreError, or a bug: either way the runs go on
            problem = (
                e.message
                if isinstance(e, StoreError)
                else Message("an unexpected {kind} in the run store: {error}", {"kind": type(e).__name__, "error": str(e)})
            )
            if problem != self.problem:
                (log.warning if isinstance(e, StoreError) else log.exception)("run store: %s", problem)
            self.problem = problem
            return False
        self.problem = ""
        return True

    def save(self, job: Job) -> None:
        """Queue the epochs the store lacks as one append: per message (10 a second) the writes cost a
        streaming run more server CPU than drawing it. Caller holds the lock."""
        if job.unsaved:
            self.later_for(job, lambda s: self.sync(s, job))
        job.saved_at = time.monotonic()

    def finish(self, job: Job, status: str, result: dict[str, Any]) -> None:
        """A job's end, written now (from a drain); if it fails, retry writes it later."""
        if not self.record(lambda s: s.finish(job.id, status, _kept(result))):
            job.store_behind = True

    def sync(self, s: RunStore, job: Job) -> None:
        """The job's row, then every epoch the store lacks, as one append in order. On a failure the epochs go
        back in front of any that arrived meanwhile, for the next try: memory holds them until the store answers."""
        if not job.stored:
            try:
                s.create(job.id, job.owner, job.config.to_dict(), job.dataset, name=job.name)
            except StoreError:
                if s.get(job.id) is None:  # not a row written by a try whose answer was lost
                    raise
            job.stored = True
        with self._lock:
            batches, job.unsaved = job.unsaved, []
        if not batches:
            return
        try:
            s.append(job.id, {c: np.concatenate([b[c] for b in batches]) for c in batches[0]})
        except BaseException:
            with self._lock:
                job.unsaved[:0] = batches
            raise

    def retry(self, jobs: Iterable[Job]) -> None:
        """Every STORE_RETRY_S while something failed, queue a catch-up for each job the store lacks. Caller holds the lock."""
        jobs = list(jobs)
        if self.store is None or time.monotonic() < self._retry_at or not (self.problem or any(j.store_behind for j in jobs)):
            return
        self._retry_at = time.monotonic() + STORE_RETRY_S
        for job in jobs:
            if job.store_behind or not job.stored:
                self.later_for(job, lambda s, job=job: self._catch_up(s, job))

    def health(self, jobs: Iterable[Job]) -> dict[str, Any]:
        """Where runs are saved, what is wrong with it if anything, and how many runs wait. Caller holds the lock."""
        behind = sum(j.store_behind or not j.stored for j in jobs)
        return {"store": self.store.display_url if self.store else None, "problem": self.problem, "runs_unsaved": behind}

    def _catch_up(self, s: RunStore, job: Job) -> None:
        """A retry: everything the store lacks of this job, its end included."""
        self.sync(s, job)
        if job.done:
            s.finish(job.id, job.status, _kept(job.result or {}))
        else:
            s.set_status(job.id, job.status)
        job.store_behind = False


def _kept(result: dict[str, Any]) -> dict[str, Any]:
    """What the store keeps of a result: everything but the big parts a new run can rebuild."""
    return {k: v for k, v in result.items() if k not in BIG_RESULTS}

"""Training jobs in spawned worker processes: started once, torch imported once, reused for every run.

The server process never imports torch for training. It sends a job to an idle worker over a pipe, and one
collector thread receives each worker's epochs in chunks (about ten a second), so the UI can ask for
"what is new since my cursor" without touching the training process. A worker that dies fails only its
own job and is replaced.
"""

from __future__ import annotations

import atexit
import gc
import logging
import multiprocessing as mp
import os
import threading
import time
import uuid
from collections import deque
from multiprocessing.connection import wait
from typing import Any

from core.data.dataset import Dataset
from core.i18n import Message
from core.runs.columns import Columns, release_freed_memory
from core.runs.history_codec import as_list
from core.runs.job import Job, JobPolicy, Snapshot, held_bytes, run_name
from core.runs.pool import WorkerProcess, default_workers
from core.runs.saving import RunSaver
from core.runs.store import RunStore
from core.training.config import ConfigError, TrainConfig

log = logging.getLogger(__name__)
SAVE_S = 1.0  # the server writes a running job's new epochs to the run store this often (a server crash loses ≤ 1 s)
KEEP_FINISHED = 200  # finished jobs kept in memory for late readers (a refresh re-attaches; older ones are read from the store)
# ... and at most this much of their histories, datasets and predictions (DESCENT_KEEP_FINISHED_MB): a few 1M-epoch runs
# held as Python floats once took the server from ~220 MB to 1.2 GB; 32 MB is two 300,000-epoch runs (benchmarks/soak.py)
KEEP_FINISHED_MB = float(os.environ.get("DESCENT_KEEP_FINISHED_MB", 32))
KEEP_RECENT_S = 120.0  # ... but a run that ended this recently stays whatever the budget: its owner sees it end
LIVENESS_S = 15.0  # how often a server marks its live runs in the store and sweeps runs no server holds
STALE_AFTER_S = 4 * LIVENESS_S  # a run untouched this long belongs to no running server


class JobManager:
    """A fixed pool of training workers and the jobs they run. Thread-safe; one per server process."""

    def __init__(
        self,
        n_workers: int | None = None,
        torch_threads: int = 1,
        store: RunStore | None = None,
        policy: JobPolicy | None = None,
        store_problem: Message | str = "",
    ):
        """store_problem: why there is no store (it could not be opened); runs then train unsaved, and say so. It, a job's
        error and its reason are Messages (or older plain text): process-wide, so each reader reads them in their language."""
        self._ctx = mp.get_context("spawn")  # CUDA cannot survive fork
        self._torch_threads = torch_threads
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._queue: deque[Job] = deque()
        self._closed = False
        self._store = store
        self._saver = RunSaver(store, self._lock, store_problem)
        n = n_workers or default_workers()
        self.policy = policy or JobPolicy.from_env(n)
        self._seen: dict[str, float] = {}  # owner → last heartbeat from any of its pages
        self._accelerators: list[str] = []  # as the workers' torch sees them: ["cuda:0", "cuda:1"], ["mps"] or []
        self._last_liveness = time.monotonic()
        self._freed = False  # a run ended or was forgotten since the C library last handed free memory back
        if store is not None:  # runs cut off by a server's end keep their history and show as interrupted
            self._saver.record(lambda s: s.mark_interrupted(stale_after_s=STALE_AFTER_S))
        self._workers = [WorkerProcess(self._ctx, torch_threads, self.policy) for _ in range(n)]
        self._collector = threading.Thread(target=self._collect, daemon=True, name="descent-collector")
        self._collector.start()
        atexit.register(self.shutdown)  # before multiprocessing's own exit hook kills the workers (LIFO)

    # -- public API -------------------------------------------------------------------------------
    def submit(self, ds: Dataset, cfg: TrainConfig, owner: str | None = None, label: str = "", name: str = "", kind: str = "train") -> Job:
        """Queue a run. owner: who controls it (fairness, isolation); label: who that is, for the admin; name: what
        its owner calls it (default: made from its settings and data); kind: "train" or "lesson" (a classroom lane)."""
        cfg.validate()
        need = cfg.memory_bytes(len(ds), len(ds.features))
        if self.policy.worker_memory_mb and need > self.policy.worker_memory_mb * 2**20:
            raise ConfigError(
                "This run needs about {gib:,.1f} GiB for one training step, more than the {mb:,} MB a run may use on this server. "
                "Use fewer or narrower hidden layers, a batch size (More settings), or fewer rows.",
                gib=need / 2**30, mb=self.policy.worker_memory_mb,
            )  # fmt: skip
        job = Job(
            id=uuid.uuid4().hex,
            config=cfg,
            dataset={**ds.spec, "rows": len(ds), "features": ds.features, "target": ds.target, "source": kind},
            kind=kind,
            owner=owner,
            owner_label=label,
            name=name or run_name(cfg, ds.name),
            source=ds,
            payload=(ds.X.to_numpy(dtype=float), ds.y.to_numpy(dtype=float), ds.features, ds.target, ds.name, cfg.to_dict()),
        )
        with self._lock:
            self._check_device(cfg)
            self._jobs[job.id] = job
            self._queue.append(job)
            self._saver.later_for(job, lambda s: self._saver.sync(s, job))  # its row first: every later write finds it
            self._dispatch()
        self._saver.drain()
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        """Every job this server holds (queued, running, and the last KEEP_FINISHED finished), oldest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.submitted_at)

    def snapshot(self, job_id: str, since: int = 0) -> Snapshot | None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            n = len(job.history["epoch"])
            since = min(max(since, 0), n)
            return Snapshot(
                id=job.id,
                status=job.status,
                rows={c: as_list(v[since:n]) for c, v in job.history.items()},  # lists, NaN as None, as pages read them
                cursor=n,
                epochs_done=n,
                epochs_total=job.config.epochs,
                queue_position=self._queue.index(job) + 1 if job.status == "queued" else None,  # jobs ahead, plus one
                waiting_for_gpu=job.status == "queued" and self._wants_gpu(job) and self._gpu_for(job) is None,
                result=job.result,
                error=job.error,
                started_at=job.started_at,
                finished_at=job.finished_at,
                store_problem=self._saver.problem if job.store_behind or not job.stored else "",
                paused_s=job.paused_s + (time.time() - job.paused_since if job.paused_since is not None else 0.0),
            )

    def stop(self, job_id: str) -> None:
        """Ask a job to stop; a running one stops before its next epoch, a queued one never starts."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and not job.done and not job.ending:
                self._stop(job)
        self._saver.drain()

    def _stop(self, job: Job, reason: Message | str = "") -> None:
        job.stop_requested, job.stop_reason, job.stop_requested_at = True, reason, time.monotonic()
        if job.status == "queued":
            self._queue.remove(job)
            self._finish(job, "stopped", reason=reason or Message("Stopped before it started."))
        for w in self._workers:
            if w.job is job:
                w.stop.set()

    def pause(self, job_id: str) -> None:
        """Hold a running job before its next epoch; its worker stays with it."""
        self._set_paused(job_id, True)

    def resume(self, job_id: str) -> None:
        self._set_paused(job_id, False)

    def _set_paused(self, job_id: str, paused: bool) -> None:
        with self._lock:
            for w in self._workers:
                if w.job is not None and w.job.id == job_id and w.job.status in ("running", "paused"):
                    (w.pause.set if paused else w.pause.clear)()
                    if paused and w.job.status == "running":
                        w.job.paused_since = time.time()
                    elif not paused and w.job.paused_since is not None:
                        w.job.paused_s += time.time() - w.job.paused_since
                        w.job.paused_since = None
                    w.job.status = "paused" if paused else "running"
                    self._saver.later(lambda s, job=w.job: s.set_status(job.id, job.status))
        self._saver.drain()

    def active_runs(self, owner: str, kind: str | None = None) -> list[Job]:
        """An owner's runs that are queued or running (of one kind: "train" or "lesson"), oldest first."""
        with self._lock:
            return sorted((j for j in self._jobs.values() if j.owner == owner and not j.done and kind in (None, j.kind)),
                          key=lambda j: j.submitted_at)  # fmt: skip

    def workers_ready(self) -> int:
        return sum(w.ready for w in self._workers)

    def worker_pids(self) -> list[int]:
        return [w.process.pid for w in self._workers]

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until the job ends (for the CLI, tests and benchmarks; pages poll instead)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self._jobs[job_id]
            if job.done:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job.status} after {timeout} s")
            time.sleep(0.02)

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._saver.drain()
        for job in list(self._jobs.values()):  # a graceful end: say so now rather than after STALE_AFTER_S
            if not job.done:
                self._saver.record(lambda s, job=job: s.set_status(job.id, "interrupted"))
        for w in self._workers:
            w.stop.set()
            try:
                w.conn.send(("quit",))
            except OSError:
                pass
        for w in self._workers:
            w.process.join(timeout=5)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
        # the workers' events are named semaphores, unlinked when collected: do it now, as a server stopped
        # by SIGTERM under uvicorn ends before multiprocessing's exit hook would
        self._workers = []
        gc.collect()

    # -- server side machinery --------------------------------------------------------------------
    def _dispatch(self) -> None:
        """Hand queued jobs to idle, ready workers, oldest first, skipping sessions at their limit. Caller holds the lock."""
        for w in self._workers:
            if not (w.ready and w.job is None and w.process.is_alive()):
                continue
            job = self._next_job()
            if job is None:
                return
            self._queue.remove(job)
            job.accelerator = self._gpu_for(job)
            w.stop.clear()  # the worker is idle, so no stale stop or pause can reach the new job
            w.pause.clear()
            w.job = job
            job.status, job.started_at = "running", time.time()
            w.conn.send(("job", job.id, (*job.payload, job.accelerator)))
            job.payload = None
            log.info("job %s started on worker %s at %.3f", job.id, w.process.pid, job.started_at)
            self._saver.later(lambda s, job=job: s.set_status(job.id, "running"))

    def _next_job(self) -> Job | None:
        """The oldest queued job whose owner is under its limit and, if it wants a GPU, one is free. A lesson's lanes
        and Train runs count apart: a short lane never waits behind its owner's long Train run, nor the reverse."""
        busy: dict[tuple[str | None, str], int] = {}
        for w in self._workers:
            if w.job is not None:
                busy[w.job.owner, w.job.kind] = busy.get((w.job.owner, w.job.kind), 0) + 1
        for job in self._queue:
            if job.owner is not None and busy.get((job.owner, job.kind), 0) >= self.policy.runs_per_session:
                continue
            if self._wants_gpu(job) and self._gpu_for(job) is None:
                continue  # waits for a GPU; a CPU job behind it may go first
            return job
        return None

    def _check_device(self, cfg: TrainConfig) -> None:
        """Refuse a device this server lacks at once: queued, such a run would wait forever. Caller holds the lock."""
        if self.workers_ready() and (problem := self._missing_device(cfg)):
            raise problem

    def _missing_device(self, cfg: TrainConfig) -> ConfigError | None:
        if cfg.device not in ("cuda", "mps") or any(a.startswith(cfg.device) for a in self._accelerators):
            return None
        return ConfigError("This server has no usable {name}: its training processes' torch sees none. Choose device auto or cpu.",
                           name="CUDA GPU" if cfg.device == "cuda" else "Apple GPU (MPS)")  # fmt: skip

    def devices(self) -> list[str]:
        """The devices a run can ask for here, as the workers' torch sees them ("auto" and "cpu" always)."""
        return ["auto", "cpu", *dict.fromkeys(a.split(":")[0] for a in self._accelerators)]

    def _wants_gpu(self, job: Job) -> bool:
        return job.config.device in ("cuda", "mps") or (job.config.device == "auto" and bool(self._accelerators))

    def _gpu_for(self, job: Job) -> str | None:
        """The least busy GPU with a free slot (DESCENT_RUNS_PER_GPU), or None: full, or the job runs on the CPU."""
        if not self._wants_gpu(job):
            return None
        load = {a: 0 for a in self._accelerators}
        for w in self._workers:
            if w.job is not None and w.job.accelerator in load:
                load[w.job.accelerator] += 1
        free = [a for a in self._accelerators if load[a] < self.policy.runs_per_gpu]
        return min(free, key=lambda a: load[a]) if free else None

    def heartbeat(self, owner: str) -> None:
        """A page of this session is open; its runs are wanted."""
        self._seen[owner] = time.time()

    def _reap(self) -> None:
        """Stop runs nobody watches any more and runs past the wall-time cap; keep the store's liveness marks.

        Caller holds the lock."""
        if time.monotonic() - self._last_liveness > LIVENESS_S:
            self._last_liveness = time.monotonic()
            live = [j.id for j in self._jobs.values() if not j.done]
            self._saver.later(lambda s: s.touch(live))
            self._saver.later(lambda s: s.mark_interrupted(stale_after_s=STALE_AFTER_S))
            self._freed |= self._forget_finished()  # runs kept only while recent: past KEEP_RECENT_S the budget holds
        self._saver.retry(self._jobs.values())
        now, p = time.time(), self.policy
        owners = {j.owner for j in self._jobs.values()}
        for owner, seen in list(self._seen.items()):  # a session gone for good, with no run here, is forgotten
            if owner not in owners and now - seen > max(3600.0, p.orphan_after_s):
                del self._seen[owner]
        for w in self._workers:  # Stop, a cap or the reaper acts between epochs; a worker stuck inside one is ended
            job = w.job
            if job and job.stop_requested_at and time.monotonic() - job.stop_requested_at > p.stop_grace_s and w.process.is_alive():
                log.warning("job %s: worker %s did not stop within %.0f s; killing it", job.id, w.process.pid, p.stop_grace_s)
                w.process.kill()  # the collector sees it die and replaces it (_replace)
        for job in list(self._jobs.values()):
            if job.done or job.ending or job.stop_requested:
                continue
            seen = self._seen.get(job.owner) if job.owner else None
            if not p.keep_orphans and seen is not None and now - seen > p.orphan_after_s:
                self._stop(job, Message("Stopped: its browser tab was closed (no page of that session seen for {s:.0f} s).",
                                        {"s": p.orphan_after_s}))  # fmt: skip
            elif p.max_run_s and job.started_at and now - job.started_at > p.max_run_s:
                self._stop(job, Message("Stopped at this server's time limit of {s:.0f} s per run; the epochs done are kept.",
                                        {"s": p.max_run_s}))  # fmt: skip

    def _finish(self, job: Job, status: str, result: dict | None = None, error: Message | str = "", reason: Message | str = "") -> None:
        """Queue the job's last epochs and its end for the store; it reads as ended once they are written, so
        whoever sees it end finds every epoch and the status saved. Caller holds the lock."""
        result = result if result is not None else {"reason": reason or error}
        job.ending = True
        self._saver.save(job)

        def end() -> None:
            self._saver.finish(job, status, result)
            with self._lock:
                job.status, job.finished_at, job.error, job.result = status, time.time(), error, result
                if job.paused_since is not None:  # stopped while paused: the pause ends with the run
                    job.paused_s, job.paused_since = job.paused_s + job.finished_at - job.paused_since, None
                log.info("job %s %s after %d epochs at %.3f", job.id, status, len(job.history["epoch"]), job.finished_at)
                job.history = job.history.compact() if isinstance(job.history, Columns) else job.history  # no room to grow
                self._forget_finished()
                self._freed = True

        self._saver.then(end)

    def _forget_finished(self) -> bool:
        """Keep the newest finished jobs within KEEP_FINISHED and KEEP_FINISHED_MB, but always the newest and those ended within
        KEEP_RECENT_S (whoever watched one sees it end); the rest are the store's. True if any went. Caller holds the lock."""
        finished, before = [j for j in self._jobs.values() if j.done], len(self._jobs)  # oldest first: insertion order
        held, recent = sum(map(held_bytes, finished)), time.time() - KEEP_RECENT_S
        for old in (j for j in finished[:-1] if (j.finished_at or 0) <= recent):
            if len(finished) <= KEEP_FINISHED and held <= KEEP_FINISHED_MB * 2**20:
                break
            del self._jobs[old.id]
            finished.remove(old)
            held -= held_bytes(old)
        return len(self._jobs) < before

    def _collect(self) -> None:
        while not self._closed:
            by_handle = {}
            for w in self._workers:
                by_handle[w.conn] = w
                by_handle[w.process.sentinel] = w
            ready = wait(list(by_handle), timeout=0.5)
            with self._lock:
                self._reap()
            self._saver.drain()
            if self._freed:  # a long run's growing columns, a forgotten run: give the pages back (outside the lock)
                self._freed = False
                release_freed_memory()
            for handle in ready:
                w = by_handle[handle]
                with self._lock:
                    if w not in self._workers:
                        continue  # already replaced in this round
                    try:
                        if handle is w.conn:
                            self._receive(w)
                        elif not w.process.is_alive() and not self._closed:
                            self._replace(w)
                        self._dispatch()
                    except Exception:  # noqa: BLE001 - this thread serves every job: log a bug, keep serving
                        log.exception("job collector")
                self._saver.drain()

    def _receive(self, w: WorkerProcess) -> None:
        try:
            while w.conn.poll():
                self._handle(w, w.conn.recv())
        except (EOFError, OSError):
            pass  # the sentinel reports the death

    def _handle(self, w: WorkerProcess, msg: tuple) -> None:
        kind = msg[0]
        if kind == "ready":
            w.ready = True
            log.info("worker %s ready at %.3f", w.process.pid, time.time())
            self._accelerators = msg[2]  # the same machine for every worker
            for job in [j for j in self._queue if self._missing_device(j.config)]:  # queued before anyone knew
                self._queue.remove(job)
                self._finish(job, "failed", error=self._missing_device(job.config).message)
            return
        job = self._jobs.get(msg[1])
        if job is None:
            return
        if kind == "rows":
            if not len(job.history["epoch"]):
                log.info("job %s first epochs arrived at %.3f", job.id, time.time())
            job.history.extend(msg[2])
            job.unsaved.append(msg[2])
            if job.history["epoch"][-1] == job.config.epochs:
                log.info("job %s last epoch arrived at %.3f", job.id, time.time())
            if time.monotonic() - job.saved_at >= SAVE_S:
                self._saver.save(job)
        elif kind in ("done", "error"):
            w.job = None
            if kind == "done":
                if job.stop_reason and msg[2]["status"] == "stopped":
                    msg[2]["reason"] = job.stop_reason
                self._finish(job, msg[2]["status"], result=msg[2])
            else:
                self._finish(job, "failed", error=msg[2])

    @property
    def store_problem(self) -> str:
        """Why runs are not being saved right now, and what to do; "" while every write lands."""
        return self._saver.problem

    def store_health(self) -> dict[str, Any]:
        """For the admin page: where runs are saved, what is wrong with it if anything, and how many runs wait."""
        with self._lock:
            return self._saver.health(self._jobs.values())

    def _replace(self, dead: WorkerProcess) -> None:
        code = dead.process.exitcode
        job = dead.job
        if job is not None and not job.done and not job.ending and job.stop_requested:
            self._finish(job, "stopped", reason=Message(
                "{reason} Its training process did not stop within {grace:g} s, so it was ended and replaced; the {n:,} epochs done "
                "are kept.", {"reason": job.stop_reason or Message("Stopped."), "grace": self.policy.stop_grace_s,
                              "n": len(job.history["epoch"])}))  # fmt: skip
        elif job is not None and not job.done and not job.ending:
            self._finish(job, "failed", error=Message(
                "The training process died (exit code {code}) after {n} epochs. The epochs done so far are kept and other runs are "
                "unaffected; start the run again, perhaps with fewer rows or epochs.",
                {"code": code, "n": len(job.history["epoch"])}))  # fmt: skip
        log.warning("worker %s died with exit code %s; starting a new one", dead.process.pid, code)
        self._workers[self._workers.index(dead)] = WorkerProcess(self._ctx, self._torch_threads, self.policy)

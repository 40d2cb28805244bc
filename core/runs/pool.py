"""The server's handles on its worker processes: each a spawned process with a pipe and two shared events."""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager

from core.runs import worker
from core.runs.job import Job, JobPolicy


class WorkerProcess:
    """One worker as the job manager sees it: started at once, ready once it has imported torch and warmed up."""

    def __init__(self, ctx: mp.context.SpawnContext, torch_threads: int, policy: JobPolicy):
        self.conn, child = ctx.Pipe()
        self.stop, self.pause = ctx.Event(), ctx.Event()
        memory = (policy.worker_memory_mb, policy.gpu_memory_capped)
        self.process = ctx.Process(
            target=worker.main, args=(child, self.stop, self.pause, torch_threads, memory), daemon=True, name="descent-worker"
        )
        with main_module_hidden():
            self.process.start()
        child.close()
        self.ready = False
        self.job: Job | None = None


@contextmanager
def main_module_hidden() -> Iterator[None]:
    """spawn re-runs the parent's __main__ file in the child; under `streamlit run` that is the app script."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def default_workers() -> int:
    """One worker per spare core, at least one: the server and the browser need a core on a laptop."""
    env = os.environ.get("DESCENT_WORKERS")
    if env:
        return max(1, int(env))
    return max(1, min(4, (os.cpu_count() or 2) - 1))


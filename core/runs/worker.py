"""The worker process: torch imported once, then one run after another, sent by the job manager over a pipe.

Epochs go back in batches (every FLUSH_S); Pause and Stop arrive as process-shared events, read every CONTROL_S.
This module is imported by the server too (the process target), so torch and the trainer load inside main().
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import time
import traceback
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np

from core.data.dataset import Dataset
from core.i18n import LocalizedError, Message
from core.training import weights
from core.training.config import TrainConfig

PREDICTIONS_MAX_ROWS = 200_000  # a finished run sends its predictions back only up to this size
FLUSH_S = 0.1  # a worker sends its new epochs at most this often
CONTROL_S = 0.02  # and looks at Pause and Stop this often

log = logging.getLogger(__name__)


def main(conn: Connection, stop: Any, pause: Any, torch_threads: int, memory: tuple[int | None, bool] = (None, False)) -> None:
    """memory: (MB a run may allocate beyond the warm worker, whether that also caps each GPU): see cap_memory."""
    import pandas as pd
    import torch

    torch.set_num_threads(torch_threads)  # training, the server and the browser share the machine's cores
    warm_up()
    cap_memory(torch, *memory)
    conn.send(("ready", os.getpid(), accelerators(torch)))
    parent = mp.parent_process()
    while True:
        if parent is not None and parent.sentinel in wait([conn, parent.sentinel]):
            return  # the server is gone: no orphans
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg[0] == "quit":
            return
        _, job_id, (X, y, features, target, name, cfg, accelerator) = msg
        try:
            if accelerator and accelerator.startswith("cuda"):
                torch.cuda.set_device(accelerator)  # the GPU the server's gate gave this run; "cuda" and "auto" mean it
            ds = Dataset(X=pd.DataFrame(X, columns=features), y=pd.Series(y, name=target), name=name)
            run(conn, job_id, ds, TrainConfig.from_dict(cfg), stop, pause)
        except (BrokenPipeError, EOFError):
            return
        except LocalizedError as e:  # ConfigError and DataError: the message is for the user, in whichever language reads it
            conn.send(("error", job_id, e.message))
        except ValueError as e:  # any other bad value the user gave
            conn.send(("error", job_id, str(e)))
        except Exception as e:  # noqa: BLE001 - a bug must fail one job, never the worker
            if out_of_memory(e, torch):
                del e  # the traceback holds the run's tensors: let them go before freeing the cache
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()  # the run's GPU memory back for the next run
                conn.send(("error", job_id, OUT_OF_MEMORY))
            else:
                traceback.print_exc()
                internal = Message("Training failed with an internal error ({kind}: {error}).", {"kind": type(e).__name__, "error": str(e)})
                conn.send(("error", job_id, internal))


def accelerators(torch: Any) -> list[str]:
    if torch.cuda.is_available():
        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return ["mps"] if torch.backends.mps.is_available() else []


OUT_OF_MEMORY = Message(
    "The run ran out of memory (the GPU's, or this server's per-run cap). The epochs done so far are kept. "
    "Train on the CPU, or use fewer rows, a smaller batch or a smaller model."
)


def out_of_memory(e: BaseException, torch: Any) -> bool:
    """CUDA's and MPS's OutOfMemoryError, and the CPU allocator's failure (a RuntimeError, or numpy's MemoryError)."""
    return isinstance(e, (torch.OutOfMemoryError, MemoryError)) or (isinstance(e, RuntimeError) and "can't allocate memory" in str(e))


def cap_memory(torch: Any, mb: int | None, gpu: bool = False) -> None:
    """How much a run may allocate beyond the warm worker (JobPolicy.worker_memory_mb), so one huge model fails
    with a message instead of swapping a shared machine or taking a whole GPU. On a CUDA machine it caps each
    GPU's caching allocator, only when an operator set DESCENT_WORKER_MEMORY_MB (gpu): the default comes from the
    host's RAM, which says nothing of a GPU's. CUDA cannot live with an address-space limit (it reserves tens of
    GB of it), so the host limit applies only on a machine without CUDA."""
    if not mb:
        return
    if torch.cuda.is_available():
        if not gpu:
            return
        for i in range(torch.cuda.device_count()):
            total = torch.cuda.get_device_properties(i).total_memory
            torch.cuda.set_per_process_memory_fraction(min(1.0, int(mb) * 2**20 / total), i)
        return
    import resource

    try:
        used = int(next(line for line in open("/proc/self/status") if line.startswith("VmSize:")).split()[1]) * 1024
    except OSError:
        log.warning("a per-run memory cap needs Linux's /proc; ignored")
        return
    resource.setrlimit(resource.RLIMIT_AS, (used + int(mb) * 2**20, resource.getrlimit(resource.RLIMIT_AS)[1]))


def warm_up() -> None:
    """The first optimizer step pays ~1 s of lazy imports inside torch; pay it before the first user waits."""
    from core.data.presets import make_dataset
    from core.training.trainer import train

    tiny = make_dataset("linear_1d", n=8)
    for optimizer in ("sgd", "adam"):
        train(tiny, TrainConfig(optimizer=optimizer, epochs=2, device="cpu"))


def run(conn: Connection, job_id: str, ds: Dataset, cfg: TrainConfig, stop: Any, pause: Any) -> None:
    """One job: train, streaming epochs to the server, then send the result (or the error, from main)."""
    from core.training.trainer import train  # already imported by warm_up: a dictionary lookup

    rows: list[dict] = []
    last_sent = 0.0  # the first epoch goes out at once: the user is waiting for the first point
    last_checked = 0.0

    def send() -> None:
        nonlocal rows, last_sent
        if rows:  # columns as numpy arrays: a memory copy to pickle, where a list pickles and unpickles value by value
            batch = {c: np.array([r[c] for r in rows], dtype=np.int64 if c == "epoch" else np.float64) for c in rows[0]}
            conn.send(("rows", job_id, batch))  # None (no test rows) travels as NaN
            rows = []
        last_sent = time.monotonic()

    def on_epoch(row: dict) -> None:  # called every epoch: kept to an append and a clock read
        rows.append(row)
        if time.monotonic() - last_sent >= FLUSH_S or row["epoch"] == cfg.epochs:
            send()  # the last epoch at once: the result (the history table, the model files) takes a while to build

    def should_stop() -> bool:
        # The events live across processes and take a lock to read (~1.5 µs each, as much as a fast epoch's
        # maths): read them every CONTROL_S, still instant for a person pressing Pause or Stop.
        nonlocal last_checked
        now = time.monotonic()
        if now - last_checked < CONTROL_S:
            return False
        last_checked = now
        if pause.is_set() and not stop.is_set():
            send()  # show every epoch up to the pause
            while pause.is_set() and not stop.is_set():
                time.sleep(0.05)
        return stop.is_set()

    try:
        result = train(ds, cfg, on_epoch=on_epoch, should_stop=should_stop)
    finally:
        send()  # the epochs done are kept, even when the run fails
    conn.send(
        (
            "done",
            job_id,
            {
                "status": result.status,
                "coef": result.coef,
                "intercept": result.intercept,
                "device": result.device,
                "reason": result.reason,
                "elapsed_s": result.elapsed_s,
                "params": result.params,
                "predictions": result.predict(ds.X) if len(ds) <= PREDICTIONS_MAX_ROWS else None,
                "model_file": result.model_file(),
                "safetensors": weights.safetensors_file(result),
                "weights": weights.served_weights(result),
            },
        )
    )

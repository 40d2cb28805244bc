"""Run history: every run's config, dataset, per-epoch history, result and status, in SQLite or PostgreSQL.

One store interface on SQLAlchemy Core, so the embedded SQLite file and a team's PostgreSQL share every query,
the connection pool and the migrations; only the transaction start differs (below).

Why history is stored as chunked columnar blobs, not one row per epoch:
- `append` gets a batch of epochs ~10×/s per running job; one INSERT of one blob per batch costs the same
  whether the batch holds 1 epoch or 5,000, where a row per epoch costs a statement's worth per epoch.
- A chart reads 100 runs × 10,000 epochs = 10⁶ epochs. Through any DB driver a row per epoch costs ~1 µs per
  row per column in Python (seconds); a float64 blob decodes with `np.frombuffer` in microseconds
  (benchmarks/store_read.py measures it).
- The bytes are the same on both backends (BLOB / BYTEA), so one codec serves both.
The cost: epochs cannot be filtered in SQL. The run's summary (epochs done, last losses) is kept on its
`runs` row at every append, so listing runs never touches history.

Small chunks are merged as a run goes (every MERGE_EVERY appends) and into one chunk when it ends, so a
finished run reads as a few blobs however slowly it trained. Chunks that together hold more than
MERGE_MAX_ROWS epochs are left as they are: they read as fast as one, and merging them rewrote megabytes
(0.23 s at the end of a 290,000-epoch run, while its last frame waited).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sqlite3
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy import event

SCHEMA_VERSION = 2  # 1: history as one JSON text per run; 2: chunked columnar history, summary columns
DEFAULT_PATH = "descent_lab.db"
ACTIVE = ("queued", "running", "paused")  # a run in one of these when the server starts was cut off
BUSY_TIMEOUT_MS = 30_000  # SQLite: how long a writer waits for another process's write lock
MERGE_EVERY = 64  # appends between merges of a running run's small chunks
MERGE_MAX_ROWS = 50_000  # epochs; bigger groups of chunks are not worth rewriting as one
_PG_MIGRATION_LOCK = 0x44455343  # "DESC": pg_advisory_xact_lock key that serializes migrations across servers


class StoreError(RuntimeError):
    """The run store cannot be opened, read or written; the message names the database and what to do."""


meta = sa.MetaData()
schema_version = sa.Table("schema_version", meta, sa.Column("version", sa.Integer, nullable=False))
runs = sa.Table(
    "runs",
    meta,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.Double, nullable=False),  # unix seconds
    sa.Column("owner", sa.String(64)),  # the session that started it
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("config", sa.Text, nullable=False),  # JSON: TrainConfig.to_dict()
    sa.Column("dataset", sa.Text, nullable=False),  # JSON: preset and parameters, or the CSV's hash and columns
    sa.Column("result", sa.Text),  # JSON: coef, intercept, reason, metrics…
    sa.Column("updated_at", sa.Double),
    sa.Column("started_at", sa.Double),
    sa.Column("finished_at", sa.Double),
    sa.Column("device", sa.String(32)),
    sa.Column("elapsed_s", sa.Double),
    sa.Column("epochs_done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("train_loss", sa.Double),  # the last finite value appended
    sa.Column("test_loss", sa.Double),
    sa.Index("runs_owner_created", "owner", "created_at"),
    sa.Index("runs_status", "status"),
)
chunks = sa.Table(
    "history_chunks",
    meta,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("start", sa.Integer, nullable=False),  # index of the chunk's first epoch row within the run
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("merged", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Index("history_chunks_run", "run_id", "start"),
)
SUMMARY = (
    runs.c.id,
    runs.c.created_at,
    runs.c.owner,
    runs.c.status,
    runs.c.config,
    runs.c.dataset,
    runs.c.device,
    runs.c.epochs_done,
    runs.c.train_loss,
    runs.c.test_loss,
    runs.c.elapsed_s,
    runs.c.started_at,
    runs.c.finished_at,
    runs.c.updated_at,
)

# built once: append runs ~10×/s per job, and building a statement costs more than executing it
_APPEND_SUMMARY = (
    runs.update()
    .where(runs.c.id == sa.bindparam("p_id"))
    .values(
        updated_at=sa.bindparam("p_now"),
        epochs_done=runs.c.epochs_done + sa.bindparam("p_n", type_=sa.Integer),
        train_loss=sa.func.coalesce(sa.bindparam("p_train", type_=sa.Double), runs.c.train_loss),
        test_loss=sa.func.coalesce(sa.bindparam("p_test", type_=sa.Double), runs.c.test_loss),
    )
    .returning(runs.c.epochs_done)
)


class RunStore:
    """Runs and their history. Thread-safe; several processes and servers may write to one database at once."""

    def __init__(self, url: str | None = None):
        self.url = database_url(url)
        self._pg = self.url.startswith("postgresql")
        self._lock = threading.Lock()
        self._appends: dict[str, int] = {}  # run id → appends since its last merge, for this process's writers
        try:
            if self._pg:
                self._engine = sa.create_engine(self.url, pool_pre_ping=True, pool_size=4, max_overflow=8)
            else:
                self._engine = sa.create_engine(self.url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})
                _sqlite_events(self._engine)
            self._writer = self._engine.execution_options(descent_write=True)
            self._migrate()
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(
                f"Cannot open the run store at {self.display_url}: {_reason(e)}. "
                "Check the path or database URL (environment variable DESCENT_DB) and that the database is reachable."
            ) from e

    @property
    def display_url(self) -> str:
        return sa.make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        self._engine.dispose()

    # -- writing ----------------------------------------------------------------------------------
    def create(self, run_id: str, owner: str | None, config: dict, dataset: dict, device: str | None = None) -> None:
        now = time.time()
        try:
            self._create(run_id, owner, config, dataset, device, now)
        except sa.exc.IntegrityError as e:
            raise StoreError(f"A run with id {run_id!r} is already stored; give each run a unique id (e.g. a uuid).") from e

    def _create(self, run_id: str, owner: str | None, config: dict, dataset: dict, device: str | None, now: float) -> None:
        with self._write() as conn:
            conn.execute(
                runs.insert().values(
                    id=run_id,
                    created_at=now,
                    updated_at=now,
                    owner=owner,
                    status="queued",
                    config=_dumps(config),
                    dataset=_dumps(dataset),
                    device=device,
                    epochs_done=0,
                )
            )

    def append(self, run_id: str, rows: dict[str, list]) -> None:
        """New epochs, columnar. One UPDATE and one INSERT whatever the batch size; a deleted run's rows are dropped."""
        n, blob = encode(rows)
        if n == 0:
            return
        params = {
            "p_id": run_id,
            "p_n": n,
            "p_now": time.time(),
            "p_train": _last_finite(rows.get("train_loss", ())),
            "p_test": _last_finite(rows.get("test_loss", ())),
        }
        with self._write() as conn:
            done = conn.execute(_APPEND_SUMMARY, params).scalar()
            if done is None:
                return  # deleted while it ran: the user asked to forget it
            conn.execute(chunks.insert(), {"run_id": run_id, "start": done - n, "n": n, "merged": False, "data": blob})
            with self._lock:
                count = self._appends[run_id] = self._appends.get(run_id, 0) + 1
            if count >= MERGE_EVERY:
                self._merge(conn, run_id, whole=False)
                with self._lock:
                    self._appends[run_id] = 0

    def set_status(self, run_id: str, status: str) -> None:
        now = time.time()
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if status == "running":
            values["started_at"] = sa.func.coalesce(runs.c.started_at, now)
        with self._write() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id).values(**values))

    def finish(self, run_id: str, status: str, result: dict) -> None:
        """The final status and result (coef, intercept, device, reason, elapsed_s, metrics); history merged to one chunk."""
        now = time.time()
        values: dict[str, Any] = {"status": status, "result": _dumps(result), "updated_at": now, "finished_at": now}
        if result.get("device"):
            values["device"] = str(result["device"])
        if isinstance(result.get("elapsed_s"), (int, float)):
            values["elapsed_s"] = float(result["elapsed_s"])
        with self._write() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id).values(**values))
            self._merge(conn, run_id, whole=True)
        with self._lock:
            self._appends.pop(run_id, None)

    def mark_interrupted(self, stale_after_s: float = 0.0) -> int:
        """Runs left queued, running or paused by a server that is gone become "interrupted"; their history stays.

        With several replicas on one database, each server touches its live runs (touch) and sweeps only runs
        nobody has touched for stale_after_s, so a replica's start never marks another replica's live runs.
        Returns how many were marked.
        """
        now = time.time()
        with self._write() as conn:
            query = sa.select(runs.c.id).where(runs.c.status.in_(ACTIVE), runs.c.updated_at < now - stale_after_s)
            ids = conn.execute(query).scalars().all()
            if not ids:
                return 0
            conn.execute(runs.update().where(runs.c.id.in_(ids)).values(status="interrupted", updated_at=now, finished_at=now))
            for run_id in ids:
                self._merge(conn, run_id, whole=True)
        return len(ids)

    def touch(self, run_ids: Sequence[str]) -> None:
        """This server still holds these runs (queued, running or paused): a liveness mark for mark_interrupted."""
        if run_ids:
            with self._write() as conn:
                conn.execute(runs.update().where(runs.c.id.in_(list(run_ids))).values(updated_at=time.time()))

    def delete(self, run_ids: Sequence[str]) -> int:
        ids = list(run_ids)
        if not ids:
            return 0
        with self._write() as conn:
            conn.execute(chunks.delete().where(chunks.c.run_id.in_(ids)))
            count = conn.execute(runs.delete().where(runs.c.id.in_(ids))).rowcount
        with self._lock:
            for run_id in ids:
                self._appends.pop(run_id, None)
        return count

    # -- reading ----------------------------------------------------------------------------------
    def list_runs(self, owner: str | None = None, limit: int = 500) -> list[dict]:
        """Newest first: id, created_at, owner, status, config, dataset, device, epochs_done, final losses, elapsed_s…"""
        query = sa.select(*SUMMARY).order_by(runs.c.created_at.desc(), runs.c.id.desc()).limit(limit)
        if owner is not None:
            query = query.where(runs.c.owner == owner)
        with self._read() as conn:
            return [_summary(row) for row in conn.execute(query).mappings()]

    def get(self, run_id: str) -> dict | None:
        with self._read() as conn:
            row = conn.execute(sa.select(*SUMMARY, runs.c.result).where(runs.c.id == run_id)).mappings().first()
        if row is None:
            return None
        out = _summary(row)
        out["result"] = json.loads(row["result"]) if row["result"] else None
        return out

    def history(self, run_id: str, columns: Sequence[str] | None = None) -> dict[str, list]:
        return self.histories([run_id], columns).get(run_id, {})

    def histories(self, run_ids: Sequence[str], columns: Sequence[str] | None = None) -> dict[str, dict[str, list]]:
        """Each run's per-epoch history, columnar; missing values are None. Runs without history map to {}."""
        ids = list(dict.fromkeys(run_ids))
        if not ids:
            return {}
        query = (
            sa.select(chunks.c.run_id, chunks.c.n, chunks.c.data).where(chunks.c.run_id.in_(ids)).order_by(chunks.c.run_id, chunks.c.start)
        )
        with self._read() as conn:
            known = set(conn.execute(sa.select(runs.c.id).where(runs.c.id.in_(ids))).scalars())
            parts: dict[str, list[tuple[int, dict[str, Any]]]] = {}
            for run_id, n, data in conn.execute(query):
                parts.setdefault(run_id, []).append((n, decode(data, columns)))
        return {run_id: _concat(parts.get(run_id, []), columns) for run_id in ids if run_id in known}

    # -- machinery --------------------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        try:
            with self._writer.begin() as conn:
                yield conn
        except sa.exc.OperationalError as e:
            raise StoreError(
                f"Could not write to the run store at {self.display_url}: {_reason(e)}. "
                "Another process may hold it locked for long, or the disk may be full or read-only."
            ) from e

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        try:
            with self._engine.connect() as conn:
                yield conn
        except sa.exc.OperationalError as e:
            raise StoreError(f"Could not read the run store at {self.display_url}: {_reason(e)}.") from e

    def _merge(self, conn: sa.Connection, run_id: str, whole: bool) -> None:
        """Replace a run's chunks (whole: all of them while they are small in all; else the ones written since
        the last merge) by one chunk; same rows, fewer blobs to read. Too many rows: marked merged, left as they are."""
        query = sa.select(chunks.c.id, chunks.c.start, chunks.c.n, chunks.c.merged).where(chunks.c.run_id == run_id)
        found = conn.execute(query.order_by(chunks.c.start)).all()
        if not (whole and sum(c.n for c in found) <= MERGE_MAX_ROWS):
            found = [c for c in found if not c.merged]  # the newest chunks: contiguous, after every merged one
        if len(found) < 2:
            return
        ids = [c.id for c in found]
        if sum(c.n for c in found) > MERGE_MAX_ROWS:
            conn.execute(chunks.update().where(chunks.c.id.in_(ids)).values(merged=True))
            return
        blobs = conn.execute(sa.select(chunks.c.n, chunks.c.data).where(chunks.c.id.in_(ids)).order_by(chunks.c.start)).all()
        merged = _join([(c.n, decode(c.data)) for c in blobs], None)  # numpy in, numpy out: no Python lists
        n, blob = encode(merged)
        conn.execute(chunks.delete().where(chunks.c.id.in_(ids)))
        conn.execute(chunks.insert().values(run_id=run_id, start=found[0].start, n=n, merged=True, data=blob))

    def _migrate(self) -> None:
        """Bring the database to SCHEMA_VERSION; one process at a time (write lock or advisory lock)."""
        with self._writer.begin() as conn:
            if self._pg:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            inspector = sa.inspect(conn)
            if not inspector.has_table("schema_version"):
                if inspector.has_table("runs"):
                    raise StoreError(f"{self.display_url} holds a 'runs' table that is not Descent Lab's; point DESCENT_DB elsewhere.")
                meta.create_all(conn)
                conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
                return
            version = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.display_url} was written by a newer Descent Lab (schema {version}; this one knows {SCHEMA_VERSION}). "
                    "Upgrade the app, or point DESCENT_DB at another database."
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[target](conn)
                conn.execute(schema_version.delete())
                conn.execute(schema_version.insert().values(version=target))


# -- migrations: MIGRATIONS[v] takes a database from version v-1 to v -------------------------------
def _migrate_1_to_2(conn: sa.Connection) -> None:
    """v1 kept a run's whole history as one JSON text column and no summary: move it into chunks and summarize."""
    for column, kind in (
        ("updated_at", "DOUBLE PRECISION"),
        ("started_at", "DOUBLE PRECISION"),
        ("finished_at", "DOUBLE PRECISION"),
        ("device", "VARCHAR(32)"),
        ("elapsed_s", "DOUBLE PRECISION"),
        ("epochs_done", "INTEGER NOT NULL DEFAULT 0"),
        ("train_loss", "DOUBLE PRECISION"),
        ("test_loss", "DOUBLE PRECISION"),
    ):
        conn.execute(sa.text(f"ALTER TABLE runs ADD COLUMN {column} {kind}"))
    chunks.create(conn)
    for index in runs.indexes:
        index.create(conn)
    old = conn.execute(sa.text("SELECT id, created_at, result, history FROM runs")).all()
    for run_id, created_at, result_text, history_text in old:
        result = json.loads(result_text) if result_text else {}
        history = json.loads(history_text) if history_text else {}
        n, blob = encode(history) if history else (0, b"")
        if n:
            conn.execute(chunks.insert().values(run_id=run_id, start=0, n=n, merged=True, data=blob))
        conn.execute(
            runs.update()
            .where(runs.c.id == run_id)
            .values(
                updated_at=created_at,
                device=result.get("device"),
                elapsed_s=result.get("elapsed_s"),
                epochs_done=n,
                train_loss=_last_finite(history.get("train_loss", ())),
                test_loss=_last_finite(history.get("test_loss", ())),
            )
        )
    conn.execute(sa.text("ALTER TABLE runs DROP COLUMN history"))


MIGRATIONS = {2: _migrate_1_to_2}


# -- the history codec ----------------------------------------------------------------------------
# blob = u32 header length, JSON header {"n": rows, "columns": [[name, kind, nbytes], …]}, then each column's bytes.
# kinds: "i8" int64 (epoch), "f8" float64 with NaN for missing, "json" for anything else.
def encode(rows: dict[str, Sequence]) -> tuple[int, bytes]:
    n = None
    header, parts = [], []
    for name, values in rows.items():
        if n is None:
            n = len(values)
        elif len(values) != n:
            raise StoreError(
                f"History column {name!r} has {len(values)} values where the others have {n}; every column needs one per epoch."
            )
        kind, raw = _pack(values)
        header.append([name, kind, len(raw)])
        parts.append(raw)
    head = json.dumps({"n": n or 0, "columns": header}).encode()
    return n or 0, struct.pack("<I", len(head)) + head + b"".join(parts)


def decode(blob: bytes, columns: Sequence[str] | None = None) -> dict[str, Any]:
    """Columns as numpy arrays (or lists for the "json" kind); only those asked for are decoded."""
    blob = bytes(blob)  # psycopg gives memoryview
    (size,) = struct.unpack_from("<I", blob)
    head = json.loads(blob[4 : 4 + size])
    out: dict[str, Any] = {}
    offset = 4 + size
    want = None if columns is None else set(columns)
    for name, kind, nbytes in head["columns"]:
        if want is None or name in want:
            raw = blob[offset : offset + nbytes]
            out[name] = json.loads(raw) if kind == "json" else np.frombuffer(raw, dtype="<" + kind)
        offset += nbytes
    return out


def _pack(values: Sequence) -> tuple[str, bytes]:
    """One column's bytes. numpy converts a whole list at once: a per-value Python check cost a streaming run
    a third of the server's CPU."""
    if not len(values):
        return "i8", b""
    try:
        arr = np.asarray(values)
    except ValueError:  # ragged: lists of different lengths
        arr = None
    if arr is not None and arr.ndim == 1:
        if arr.dtype.kind in "iu":
            return "i8", arr.astype("<i8").tobytes()
        if arr.dtype.kind in "fb":
            return "f8", arr.astype("<f8").tobytes()
        # None among numbers becomes NaN; ints beyond int64 stay exact in JSON
        if arr.dtype.kind == "O" and not any(type(v) is int and not -(2**63) <= v < 2**63 for v in values):
            try:
                return "f8", arr.astype("<f8").tobytes()
            except (TypeError, ValueError):
                pass
    return "json", _dumps(list(values)).encode()


def _join(parts: list[tuple[int, dict[str, Any]]], columns: Sequence[str] | None) -> dict[str, Any]:
    """Chunks → one columnar dict of numpy arrays (lists for "json" columns); a column missing from a chunk is NaN there."""
    names = list(columns) if columns is not None else list(dict.fromkeys(name for _, part in parts for name in part))
    out: dict[str, Any] = {}
    for name in names:
        pieces = [part[name] if name in part else np.full(n, np.nan) for n, part in parts]
        if any(isinstance(p, list) for p in pieces):
            out[name] = [v for p in pieces for v in as_list(p)]
        else:
            out[name] = np.concatenate(pieces) if pieces else np.empty(0)
    return out


def _concat(parts: list[tuple[int, dict[str, Any]]], columns: Sequence[str] | None) -> dict[str, list]:
    """Chunks → one columnar dict of lists, as pages and exports read it; NaN becomes None."""
    return {name: as_list(values) for name, values in _join(parts, columns).items()}


def as_list(values: Any) -> list:
    """A column as a plain list, NaN as None (missing), as pages, exports and the job's live record hold it."""
    if isinstance(values, list):
        return values
    if values.dtype.kind == "f":
        missing = np.isnan(values)
        if missing.any():
            obj = values.astype(object)
            obj[missing] = None
            return obj.tolist()
    return values.tolist()


# -- helpers --------------------------------------------------------------------------------------
def database_url(url: str | None = None) -> str:
    """None → env DESCENT_DB (a path or a URL) → ./descent_lab.db. postgresql:// is served by psycopg 3."""
    url = url or os.environ.get("DESCENT_DB") or DEFAULT_PATH
    if "://" not in url:
        return f"sqlite:///{url}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if not url.startswith(("sqlite://", "postgresql+psycopg://")):
        raise StoreError(f"Unsupported run store URL {url!r}: use a file path, sqlite:///path or postgresql://user@host/db.")
    return url


def _sqlite_events(engine: sa.Engine) -> None:
    """WAL (readers never block the writer), a busy timeout, and explicit transactions.

    pysqlite's own transaction handling starts transactions late and deferred; a deferred transaction that
    reads and then writes fails at once with SQLITE_BUSY when another process wrote meanwhile, whatever the
    busy timeout. So writers start with BEGIN IMMEDIATE (wait for the write lock up front), readers with BEGIN.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        for attempt in range(50):  # switching to WAL can answer "locked" at once while another process opens the file
            try:
                cur.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError:
                if attempt == 49:
                    raise
                time.sleep(0.1)
        cur.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable across a process crash, fast commits
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("descent_write") else "BEGIN")


def _summary(row: Any) -> dict:
    out = dict(row)
    out["config"] = json.loads(out["config"])
    out["dataset"] = json.loads(out["dataset"])
    return out


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, set, np.ndarray)):
        return list(value)
    return str(value)


def _last_finite(values: Sequence) -> float | None:
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        finite = np.flatnonzero(np.isfinite(values))
        return float(values[finite[-1]]) if len(finite) else None
    for v in reversed(values):
        if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and math.isfinite(v):
            return float(v)
    return None


def _reason(e: Exception) -> str:
    orig = getattr(e, "orig", None) or e
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


# -- comparing and exporting runs: pure functions of list_runs() rows and histories() ----------------
def config_diff(runs: Sequence[dict]) -> list[dict]:
    """The settings whose values differ between runs, config and dataset alike: [{"setting": name, run id: value…}].

    Values are strings, so a column mixing numbers, lists and "—" (not set) displays as one type.
    """
    flat = [{**run["config"], **{f"data: {k}": v for k, v in run["dataset"].items()}} for run in runs]
    names = list(dict.fromkeys(name for f in flat for name in f))
    missing = object()
    out = []
    for name in names:
        values = [f.get(name, missing) for f in flat]
        if any(v != values[0] for v in values[1:]):
            out.append({"setting": name, **{run["id"]: "—" if v is missing else _show(v) for run, v in zip(runs, values)}})
    return out


def export_json(runs: Sequence[dict], histories: dict[str, dict[str, list]]) -> str:
    """Every run with its summary, result and full history; strict JSON (non-finite numbers become null)."""
    return json.dumps([_json_safe({**run, "history": histories.get(run["id"], {})}) for run in runs], indent=1, allow_nan=False)


def export_csv(runs: Sequence[dict], histories: dict[str, dict[str, list]]) -> str:
    """One row per epoch per run: run_id, optimizer, lr, then every history column (blank where a run has none)."""
    columns = list(dict.fromkeys(name for run in runs for name in histories.get(run["id"], {})))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["run_id", "optimizer", "lr", *columns])
    for run in runs:
        h = histories.get(run["id"], {})
        n = len(next(iter(h.values()), []))
        head = [run["id"], run["config"].get("optimizer", ""), run["config"].get("lr", "")]
        for i in range(n):
            writer.writerow(head + ["" if name not in h or h[name][i] is None else h[name][i] for name in columns])
    return buffer.getvalue()


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=_jsonable)
    return "none" if value is None else str(value)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value

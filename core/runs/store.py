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

import json
import os
import socket
import sqlite3
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from core.i18n import LocalizedError
from core.i18n import decode as decode_message
from core.i18n import encode as encode_message
from core.runs.history_codec import concat_parts, decode, dumps, encode, join_parts
from core.runs.schema import MIGRATIONS, SCHEMA_VERSION, SUMMARY, chunks, last_finite, meta, runs, schema_version

DEFAULT_PATH = "descent_lab.db"
ACTIVE = ("queued", "running", "paused")  # a run in one of these when the server starts was cut off
BUSY_TIMEOUT_MS = 30_000  # SQLite: how long a writer waits for another process's write lock
MERGE_EVERY = 64  # appends between merges of a running run's small chunks
NAME_MAX = 120  # characters of a run's name
MERGE_MAX_ROWS = 50_000  # epochs; bigger groups of chunks are not worth rewriting as one
_PG_MIGRATION_LOCK = 0x44455343  # "DESC": pg_advisory_xact_lock key that serializes migrations across servers


class StoreError(LocalizedError, RuntimeError):
    """The run store cannot be opened, read or written; the message names the database and what to do, in the
    reader's language (the JobManager keeps it for every session)."""


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
        self.holder = f"{socket.gethostname()}:{os.getpid()}"  # this server, on the runs it writes while they are live
        self._file: tuple[str, tuple[int, int]] | None = None  # SQLite: the file's path and identity when opened
        try:
            if self._pg:
                self._engine = sa.create_engine(self.url, pool_pre_ping=True, pool_size=4, max_overflow=8)
            else:
                self._engine = sa.create_engine(self.url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})
                _sqlite_events(self._engine)
            self._writer = self._engine.execution_options(descent_write=True)
            self._migrate()
            self._file = _sqlite_file(self.url)
        except (sa.exc.SQLAlchemyError, OSError) as e:
            raise StoreError(
                "Cannot open the run store at {url}: {reason}. "
                "Check the path or database URL (environment variable DESCENT_DB) and that the database is reachable.",
                url=self.display_url,
                reason=_reason(e),
            ) from e

    @property
    def display_url(self) -> str:
        return sa.make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        self._engine.dispose()

    # -- writing ----------------------------------------------------------------------------------
    def create(
        self, run_id: str, owner: str | None, config: dict, dataset: dict, device: str | None = None, name: str | None = None
    ) -> None:
        now = time.time()
        try:
            self._create(run_id, owner, config, dataset, device, now, name)
        except StoreError as e:
            if isinstance(e.__cause__, sa.exc.IntegrityError):
                raise StoreError("A run with id {id} is already stored; give each run a unique id (e.g. a uuid).", id=repr(run_id)) from e
            raise

    def _create(
        self, run_id: str, owner: str | None, config: dict, dataset: dict, device: str | None, now: float, name: str | None
    ) -> None:
        with self._write() as conn:
            conn.execute(
                runs.insert().values(
                    id=run_id,
                    name=name,
                    created_at=now,
                    updated_at=now,
                    owner=owner,
                    status="queued",
                    config=dumps(config),
                    dataset=dumps(dataset),
                    device=device,
                    epochs_done=0,
                    holder=self.holder,
                )
            )

    def append(self, run_id: str, rows: dict[str, list]) -> None:
        """New epochs, columnar. One UPDATE and one INSERT whatever the batch size; a deleted run's rows are dropped."""
        try:
            n, blob = encode(rows)
        except ValueError as e:  # columns of different lengths: the codec's Message says which
            raise StoreError("These epochs cannot be stored: {problem}", problem=e.args[0] if e.args else "") from e
        if n == 0:
            return
        params = {
            "p_id": run_id,
            "p_n": n,
            "p_now": time.time(),
            "p_train": last_finite(rows.get("train_loss", ())),
            "p_test": last_finite(rows.get("test_loss", ())),
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
        values: dict[str, Any] = {"status": status, "updated_at": now, "holder": self.holder}
        if status == "running":
            values["started_at"] = sa.func.coalesce(runs.c.started_at, now)
        elif status not in ACTIVE:  # e.g. "interrupted" when the server stops: it ended now
            values["finished_at"] = now
        with self._write() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id).values(**values))

    def finish(self, run_id: str, status: str, result: dict) -> None:
        """The final status and result (coef, intercept, device, reason, elapsed_s, metrics); history merged to one chunk."""
        now = time.time()
        if "reason" in result:  # a Message: kept as its id and parameters, so each reader reads it in their language
            result = {**result, "reason": encode_message(result["reason"])}
        values: dict[str, Any] = {"status": status, "result": dumps(result), "updated_at": now, "finished_at": now}
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
        nobody has touched for stale_after_s, so a replica's start never marks another replica's live runs. A run
        whose holder was a process on this machine that no longer exists (a killed server) is marked at once.
        Returns how many were marked.
        """
        now = time.time()
        with self._write() as conn:
            active = conn.execute(sa.select(runs.c.id, runs.c.updated_at, runs.c.holder).where(runs.c.status.in_(ACTIVE))).all()
            ids = [r.id for r in active if r.updated_at < now - stale_after_s or _holder_gone(r.holder)]
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
                conn.execute(runs.update().where(runs.c.id.in_(list(run_ids))).values(updated_at=time.time(), holder=self.holder))

    def rename(self, run_id: str, name: str, owner: str | None = None) -> bool:
        """Give a run a name; with an owner, only that owner's run. True when a run was renamed."""
        name = " ".join(str(name).split())[:NAME_MAX]
        if not name:
            raise StoreError("A run's name cannot be empty.")
        query = runs.update().where(runs.c.id == run_id).values(name=name)
        with self._write() as conn:
            return conn.execute(query if owner is None else query.where(runs.c.owner == owner)).rowcount > 0

    def delete(self, run_ids: Sequence[str], owner: str | None = None) -> int:
        """Delete runs and their history; with an owner, only that owner's (the others are left, not counted)."""
        ids = list(run_ids)
        if not ids:
            return 0
        with self._write() as conn:
            if owner is not None:
                ids = list(conn.execute(sa.select(runs.c.id).where(runs.c.id.in_(ids), runs.c.owner == owner)).scalars())
                if not ids:
                    return 0
            conn.execute(chunks.delete().where(chunks.c.run_id.in_(ids)))
            count = conn.execute(runs.delete().where(runs.c.id.in_(ids))).rowcount
        with self._lock:
            for run_id in ids:
                self._appends.pop(run_id, None)
        return count

    # -- reading ----------------------------------------------------------------------------------
    def list_runs(self, owner: str | None = None, limit: int = 500, also: Sequence[str] = ()) -> list[dict]:
        """Newest first: id, name, created_at, owner, status, config, dataset, device, epochs_done, final losses, elapsed_s…

        owner: only that owner's runs, plus any whose id is in `also` (runs opened through a shared link)."""
        query = sa.select(*SUMMARY).order_by(runs.c.created_at.desc(), runs.c.id.desc()).limit(limit)
        if owner is not None:
            query = query.where(sa.or_(runs.c.owner == owner, runs.c.id.in_(list(also))))
        with self._read() as conn:
            return [_summary(row) for row in conn.execute(query).mappings()]

    def get(self, run_id: str) -> dict | None:
        with self._read() as conn:
            row = conn.execute(sa.select(*SUMMARY, runs.c.result).where(runs.c.id == run_id)).mappings().first()
        if row is None:
            return None
        out = _summary(row)
        out["result"] = json.loads(row["result"]) if row["result"] else None
        if out["result"] and "reason" in out["result"]:  # a Message, or an older run's English text as it was written
            out["result"]["reason"] = decode_message(out["result"]["reason"])
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
        return {run_id: concat_parts(parts.get(run_id, []), columns) for run_id in ids if run_id in known}

    # -- machinery --------------------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """Every database error becomes a StoreError: locked, full, read-only, corrupted, or the file gone."""
        self._check_file()
        try:
            with self._writer.begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(
                "Could not write to the run store at {url}: {reason}. "
                "Another process may hold it locked for long, the disk may be full or read-only, or the file may be damaged.",
                url=self.display_url,
                reason=_reason(e),
            ) from e

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        try:
            with self._engine.connect() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as e:
            raise StoreError("Could not read the run store at {url}: {reason}.", url=self.display_url, reason=_reason(e)) from e
        except (ValueError, struct.error) as e:  # a damaged history blob
            raise StoreError("The run store at {url} holds a damaged run history: {error}.", url=self.display_url, error=str(e)) from e

    def _check_file(self) -> None:
        """SQLite writes on into a file deleted or replaced under it, and nobody would see those writes again."""
        if self._file is None:
            return
        try:
            st = os.stat(self._file[0])
        except OSError:
            st = None
        if st is None or (st.st_dev, st.st_ino) != self._file[1]:
            raise StoreError(
                "The run store file {path} was deleted or replaced while the server ran: new runs are not saved. "
                "Restart the server to open it again (a new file is made if it is gone).",
                path=self._file[0],
            )

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
        merged = join_parts([(c.n, decode(c.data)) for c in blobs], None)  # numpy in, numpy out: no Python lists
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
                    raise StoreError(
                        "{url} holds a 'runs' table that is not Descent Lab's; point DESCENT_DB elsewhere.", url=self.display_url
                    )
                meta.create_all(conn)
                conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
                return
            version = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    "{url} was written by a newer Descent Lab (schema {version}; this one knows {known}). "
                    "Upgrade the app, or point DESCENT_DB at another database.",
                    url=self.display_url,
                    version=version,
                    known=SCHEMA_VERSION,
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[target](conn)
                conn.execute(schema_version.delete())
                conn.execute(schema_version.insert().values(version=target))


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
        raise StoreError("Unsupported run store URL {url}: use a file path, sqlite:///path or postgresql://user@host/db.", url=repr(url))
    return url


def _holder_gone(holder: str | None) -> bool:
    """Was this run's server a process on this machine that has ended? (Another machine's: unknown, so no.)"""
    host, _, pid = (holder or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


def _sqlite_file(url: str) -> tuple[str, tuple[int, int]] | None:
    """A SQLite database's file and its identity (device, inode); None for PostgreSQL and in-memory databases."""
    database = sa.make_url(url).database
    if not url.startswith("sqlite") or not database or database == ":memory:":
        return None
    st = os.stat(database)
    return os.path.abspath(database), (st.st_dev, st.st_ino)


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


def _reason(e: Exception) -> str:
    orig = getattr(e, "orig", None) or e
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__

"""The run store's tables, and the migrations that take an older database to this version."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np
import sqlalchemy as sa

from core.runs.history_codec import encode

SCHEMA_VERSION = 4  # 1: history as one JSON text per run; 2: chunked columnar history, summary columns; 3: holder and name;
# 4: classes (class mode: a class's code, lesson, teacher and table; its lanes are ordinary runs)

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
    sa.Column("holder", sa.String(128)),  # "host:pid" of the server that last wrote it while it was live
    sa.Column("name", sa.String(120)),  # what its owner calls it; made from its settings at the start
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
classes = sa.Table(
    "classes",
    meta,
    sa.Column("code", sa.String(16), primary_key=True),
    sa.Column("lesson", sa.String(32), nullable=False),
    sa.Column("owner", sa.String(64), nullable=False),  # the teacher; the class's lanes are runs of this owner
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
    sa.Column("ended_at", sa.Double),
    sa.Column("rows", sa.Text, nullable=False),  # JSON: the class table, one object per lane (core.runs.classes)
    sa.Index("classes_owner_created", "owner", "created_at"),
)
SUMMARY = (
    runs.c.id,
    runs.c.name,
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
                train_loss=last_finite(history.get("train_loss", ())),
                test_loss=last_finite(history.get("test_loss", ())),
            )
        )
    conn.execute(sa.text("ALTER TABLE runs DROP COLUMN history"))


def _migrate_2_to_3(conn: sa.Connection) -> None:
    """v3 records which server holds a live run, so a restarted server marks its own cut-off runs at once, and
    gives runs names their owners can change."""
    conn.execute(sa.text("ALTER TABLE runs ADD COLUMN holder VARCHAR(128)"))
    conn.execute(sa.text("ALTER TABLE runs ADD COLUMN name VARCHAR(120)"))


def _migrate_3_to_4(conn: sa.Connection) -> None:
    """v4 keeps classes (class mode); the runs are untouched."""
    classes.create(conn)


MIGRATIONS = {2: _migrate_1_to_2, 3: _migrate_2_to_3, 4: _migrate_3_to_4}



def last_finite(values: Sequence) -> float | None:
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        finite = np.flatnonzero(np.isfinite(values))
        return float(values[finite[-1]]) if len(finite) else None
    for v in reversed(values):
        if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and math.isfinite(v):
            return float(v)
    return None

"""A class (class mode) in the run store: its code, lesson, teacher and table, in the `classes` table (schema v4).

The lanes themselves are ordinary runs owned by the teacher (each row names its run id), so the Runs page keeps
them after the class ends; this table keeps what a run does not know: who submitted it, what they predicted, the
outcome and the round. Saved whenever the class changes and when it ends, so a server restart loses at most the rows
since the last save.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import sqlalchemy as sa

from core.runs.schema import classes
from core.runs.store import RunStore


@dataclass(frozen=True)
class SavedClass:
    code: str
    lesson: str
    owner: str  # the teacher's owner id
    created_at: float
    rows: list[dict] = field(default_factory=list)  # the class table: run_id, round, nickname, lr, prediction, outcome…
    ended_at: float | None = None


def save_class(store: RunStore, saved: SavedClass) -> None:
    """Insert or replace the class (one transaction on SQLite and PostgreSQL alike)."""
    values = {"code": saved.code, "lesson": saved.lesson, "owner": saved.owner, "created_at": saved.created_at,
              "updated_at": time.time(), "ended_at": saved.ended_at, "rows": json.dumps(saved.rows, default=str)}  # fmt: skip
    with store._write() as conn:  # noqa: SLF001 - the store's own transaction and error wrapping, shared by this table
        conn.execute(classes.delete().where(classes.c.code == saved.code))
        conn.execute(classes.insert().values(**values))


def load_class(store: RunStore, code: str) -> SavedClass | None:
    with store._read() as conn:  # noqa: SLF001
        row = conn.execute(sa.select(classes).where(classes.c.code == code)).mappings().first()
    return None if row is None else _saved(row)


def list_classes(store: RunStore, owner: str, limit: int = 100) -> list[SavedClass]:
    """A teacher's classes, newest first."""
    query = sa.select(classes).where(classes.c.owner == owner).order_by(classes.c.created_at.desc()).limit(limit)
    with store._read() as conn:  # noqa: SLF001
        return [_saved(row) for row in conn.execute(query).mappings()]


def _saved(row: sa.RowMapping) -> SavedClass:
    return SavedClass(row["code"], row["lesson"], row["owner"], row["created_at"], json.loads(row["rows"]), row["ended_at"])

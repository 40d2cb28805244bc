"""A run's per-epoch history as a compact columnar blob (int64, float64 with NaN, or JSON per column), and back."""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from core.i18n import Message


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
            raise ValueError(  # a Message: the run store's error says it in the reader's language
                Message(
                    "History column {name} has {count} values where the others have {n}; every column needs one per epoch.",
                    {"name": repr(name), "count": len(values), "n": n},
                )
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
    return "json", dumps(list(values)).encode()


def join_parts(parts: list[tuple[int, dict[str, Any]]], columns: Sequence[str] | None) -> dict[str, Any]:
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


def concat_parts(parts: list[tuple[int, dict[str, Any]]], columns: Sequence[str] | None) -> dict[str, list]:
    """Chunks → one columnar dict of lists, as pages and exports read it; NaN becomes None."""
    return {name: as_list(values) for name, values in join_parts(parts, columns).items()}


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


def dumps(value: Any) -> str:
    return json.dumps(value, default=jsonable)


def jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, set, np.ndarray)):
        return list(value)
    return str(value)

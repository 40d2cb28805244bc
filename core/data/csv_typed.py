"""A CSV of plain numbers read typed: in chunks, straight into float64 columns, the whole file or one part of it.

load_csv tries read_typed first (10M rows: ~1.5 s and ~1.5× the data's size, where the text-cell reader takes ~65 s
and ~4 GB); under torchrun each rank reads only its part (read_typed_part). Either gives up (None) on anything but
plain numbers, and the text-cell reader in core.data.csv_reader decides what to keep and what to say.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import pandas as pd

from core.data.csv_reader import NO_LIMITS, Limits, Table, _dataset, read_table
from core.data.dataset import DataError, Dataset

TYPED_CHUNK_ROWS = 1 << 18


def read_typed(path: str | os.PathLike, target: str | None, features: list[str] | None, limits: Limits) -> Dataset | None:
    """The whole file as numbers, or None where the text-cell reader must decide (text columns, bad cells, caps)."""
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
            lines = head.count(b"\n") + sum(b.count(b"\n") for b in iter(lambda: f.read(1 << 24), b""))
    except OSError:
        return None
    if lines - 1 > limits.max_rows or os.path.getsize(path) > limits.max_bytes:
        return None  # the text-cell reader refuses it, with the message a person reads
    if (plan := typed_plan(head, target, features, limits)) is None:
        return None
    sample, columns, keep = plan
    block = typed_block(path, sample, columns, keep, lines, int(sample.has_header))
    if block is None:
        return None
    X = pd.DataFrame(block[:-1].T, columns=keep[:-1], copy=False)
    y = pd.Series(block[-1], name=keep[-1], copy=False)
    return _dataset(X, y, str(path), sample.delimiter, sample.encoding, sample.has_header, {"rows": 0})


def typed_plan(head: bytes, target: str | None, features: list[str] | None, limits: Limits) -> tuple[Table, list[str], list[str]] | None:
    """From the file's first 64 KiB: its format (a Table of those lines), every column, and the columns to keep
    (features, then the target); None unless every cell there is a plain number and the columns asked for exist."""
    if len(head) == 65536:
        head = head[: head.rfind(b"\n") + 1]  # whole lines only
    try:
        sample = read_table(io.BytesIO(head), limits)
    except DataError:
        return None
    columns = sample.columns
    if set(sample.numeric_columns()) != set(columns) or sample.cells.map(lambda c: not c.strip()).to_numpy().any():
        return None  # a text column, or an empty cell: the text-cell reader decides what to keep and what to say
    target = columns[-1] if target is None else target
    features = [c for c in columns if c != target] if features is None else list(features)
    if target not in columns or target in features or not features or any(f not in columns for f in features):
        return None
    return sample, columns, [*features, target]


def typed_block(
    source: str | os.PathLike | IO[bytes], sample: Table, columns: list[str], keep: list[str], lines: int, skip: int
) -> np.ndarray | None:
    """The kept columns of source's rows as a (columns, rows) float64 block, in chunks of TYPED_CHUNK_ROWS; lines
    bounds the rows (a newline count). None at the first cell that is not a finite number."""
    block = np.empty((len(keep), lines + 1))  # a row per column: the frame's own column-major storage
    n = 0
    try:
        reader = pd.read_csv(
            source,
            sep=sample.delimiter,
            encoding=sample.encoding,
            header=None,
            names=columns,
            skiprows=skip,
            usecols=keep,
            dtype=np.float64,
            chunksize=TYPED_CHUNK_ROWS,
            index_col=False,
        )  # fmt: skip  (pandas 3 parses floats correctly rounded, as float() does: tests/unit/data/test_typed_csv.py)
        for chunk in reader:
            values = chunk[keep].to_numpy()
            if n + len(values) > block.shape[1] or not np.isfinite(values).all():
                return None
            block[:, n : n + len(values)] = values.T
            n += len(values)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return None
    return block[:, :n]


@dataclass(frozen=True)
class Part:
    """One process's share of a CSV of plain numbers (core.training.shards puts the shares together)."""

    X: pd.DataFrame  # this part's rows only
    y: pd.Series
    source: str
    delimiter: str
    encoding: str
    has_header: bool


def read_typed_part(
    path: str | os.PathLike, part: int, parts: int, target: str | None = None, features: list[str] | None = None
) -> Part | None:
    """Part `part` of `parts` of a file of plain numbers: the lines that start in that share of its data bytes.

    The file's bytes after the header are cut into `parts` equal ranges, each moved to the next line start, so every
    line falls in exactly one part and a process reads (and holds) only its own: under torchrun a rank of W reads
    ~1/W of the file. The header and format come from the first 64 KiB, read by every part. None where the file is
    not plain numbers (or cannot be read): the caller must then read it whole, with load_csv, on every rank alike."""
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
            size = f.seek(0, io.SEEK_END)
            if (plan := typed_plan(head, target, features, NO_LIMITS)) is None:
                return None
            sample, columns, keep = plan
            start = _line_end(f, 0) if sample.has_header else 0  # the first data byte
            lo, hi = (_line_start(f, start + (size - start) * k // parts, start) for k in (part, part + 1))
            f.seek(lo)
            lines = sum(f.read(min(1 << 24, hi - at)).count(b"\n") for at in range(lo, hi, 1 << 24))
            f.seek(lo)
            block = typed_block(io.BufferedReader(_Window(f, hi - lo)), sample, columns, keep, lines, 0)
    except OSError:
        return None
    if block is None:
        return None
    X = pd.DataFrame(block[:-1].T, columns=keep[:-1], copy=False)
    y = pd.Series(block[-1], name=keep[-1], copy=False)
    return Part(X, y, str(path), sample.delimiter, sample.encoding, sample.has_header)


def _line_end(f: IO[bytes], at: int) -> int:
    """The offset just past the newline that ends the line holding byte at (the file's size if none does)."""
    f.seek(at)
    f.readline()
    return f.tell()


def _line_start(f: IO[bytes], at: int, first: int) -> int:
    """The first line start at or after byte at (first: where the data's first line starts)."""
    return first if at <= first else _line_end(f, at - 1)


class _Window(io.RawIOBase):
    """The next `length` bytes of an open file, as a stream of their own: pandas reads a part in chunks, never whole."""

    def __init__(self, f: IO[bytes], length: int):
        self.f, self.left = f, length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.f.readinto(memoryview(buffer)[: min(len(buffer), self.left)])
        self.left -= n
        return n

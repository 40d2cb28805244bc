"""Reading a CSV a person uploads: encodings, delimiters and caps, with every bad cell named by line and column."""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, Literal

import numpy as np
import pandas as pd

from core.data.dataset import DataError, Dataset
from core.i18n import Message, _, encode

# ---------------------------------------------------------------- CSV


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    """Caps on what a CSV may hold, so one upload cannot take the server down. Override with DESCENT_MAX_* variables."""

    max_rows: int = 200_000  # also the cap on a preset's n in the app (core itself has none: see NO_LIMITS)
    max_columns: int = 50
    max_bytes: int = 50 * 2**20  # = server.maxUploadSize in .streamlit/config.toml
    max_cell_chars: int = 200  # a number is never this long; a longer cell means the wrong file

    @classmethod
    def from_env(cls) -> Limits:
        d = cls()
        return cls(
            max_rows=_env_int("DESCENT_MAX_ROWS", d.max_rows),
            max_columns=_env_int("DESCENT_MAX_COLUMNS", d.max_columns),
            max_bytes=_env_int("DESCENT_MAX_UPLOAD_MB", d.max_bytes // 2**20) * 2**20,
            max_cell_chars=_env_int("DESCENT_MAX_CELL_CHARS", d.max_cell_chars),
        )


LIMITS = Limits.from_env()  # the hosted app's caps
NO_LIMITS = Limits(max_rows=2**62, max_columns=10_000, max_bytes=2**62)  # the CLI and scripts: this machine's memory is the cap
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": Message("comma"), ";": Message("semicolon"), "\t": Message("tab")}  # str() in the reader's language
ENCODINGS = ("utf-8-sig", "gb18030")  # utf-8-sig reads plain UTF-8 too; GB18030 is a superset of GBK and GB2312
OnBad = Literal["fail", "drop"]
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")


@dataclass(frozen=True, eq=False)
class Table:
    """A CSV read as text cells, before a target is chosen: what the column pickers offer."""

    cells: pd.DataFrame  # str cells, header applied
    lines: np.ndarray  # the file line each row ends on, for messages
    delimiter: str
    encoding: str
    has_header: bool
    source: str

    @property
    def columns(self) -> list[str]:
        return list(self.cells.columns)

    def numeric_columns(self) -> list[str]:
        """Columns whose cells are at least half numbers: the ones worth offering as features or target."""
        return [c for c in self.columns if _to_numbers(self.cells[c], self.delimiter).notna().mean() >= 0.5]

    def describe(self) -> str:
        """What was read, in the reader's language (called where it is shown, never cached)."""
        enc = {"utf-8-sig": "UTF-8", "gb18030": "GBK/GB18030"}.get(self.encoding, self.encoding)
        params = {"rows": len(self.cells), "columns": len(self.columns), "delimiter": DELIMITER_NAMES[self.delimiter], "encoding": enc}
        if self.has_header:
            return _("{rows:,} rows × {columns} columns, {delimiter}-separated, {encoding}, a header row.", **params)
        return _(
            "{rows:,} rows × {columns} columns, {delimiter}-separated, {encoding}, no header row (columns named column_1, column_2, …).",
            **params,
        )


def read_table(source: str | os.PathLike | IO, limits: Limits = LIMITS) -> Table:
    """Read a CSV into text cells: sniff encoding, delimiter and header; enforce the caps. Raises DataError."""
    name = str(getattr(source, "name", source))
    with _binary(source, limits) as stream:
        for encoding in ENCODINGS:  # the first the file decodes in, found while reading it: no pass of its own
            stream.seek(0)
            text = io.TextIOWrapper(stream, encoding=encoding, newline="")  # decoded as read, never the whole file at once
            try:
                sample = text.read(65536)
                if not sample.strip():
                    raise DataError("The file is empty: it needs a header row and at least two data rows.")
                delimiter = _sniff_delimiter(sample)
                text.seek(0)
                rows, lines = _parse(text, delimiter, limits)
                break
            except UnicodeDecodeError:
                continue
            finally:
                text.detach()  # the stream is the caller's (an upload): leave it open
        else:
            raise DataError("The file is neither UTF-8 nor GBK text; save it as CSV UTF-8 and upload it again.")
    if not rows:
        raise DataError("The file has no rows: it needs a header row and at least two data rows.")
    width = len(rows[0])
    if width < 2:
        raise DataError(
            "The file has a single column: it needs a target and at least one feature, separated by commas, semicolons or tabs."
        )
    if width > limits.max_columns:
        raise DataError(
            "The file has {columns} columns; at most {most} are allowed. Keep only the columns you need.",
            columns=width,
            most=limits.max_columns,
        )
    has_header = not all(np.isfinite(_to_numbers(pd.Series(rows[0]), delimiter).to_numpy(dtype=float)))
    if has_header:
        header, rows, lines = [c.strip() for c in rows[0]], rows[1:], lines[1:]
        header = [c or f"column_{i + 1}" for i, c in enumerate(header)]
        seen: dict[str, int] = {}
        for i, c in enumerate(header):
            if c in seen:
                raise DataError(
                    "The column name {name!r} appears twice (columns {first} and {second}); rename one and upload again.",
                    name=c,
                    first=seen[c] + 1,
                    second=i + 1,
                )
            seen[c] = i
    else:
        header = [f"column_{i + 1}" for i in range(width)]
    if not rows:
        raise DataError("The file has a header row but no data rows.")
    if len(rows) > limits.max_rows:
        raise DataError(
            "The file has {rows:,} data rows; at most {most:,} are allowed. Upload a sample of it.", rows=len(rows), most=limits.max_rows
        )
    for row, line in zip(rows, lines):
        if len(row) > width:
            if any(c.strip() for c in row[width:]):
                raise DataError(
                    "Line {line} has {values} values but the header has {columns} columns. "
                    "Check for a stray {delimiter} or an unquoted value there.",
                    line=int(line),
                    values=len(row),
                    columns=width,
                    delimiter=DELIMITER_NAMES[delimiter],
                )
            del row[width:]  # a trailing delimiter
        elif len(row) < width:
            row.extend([""] * (width - len(row)))  # missing cells, reported when coerced
    cells = pd.DataFrame(rows, columns=header, dtype=object)
    return Table(cells=cells, lines=np.asarray(lines), delimiter=delimiter, encoding=encoding, has_header=has_header, source=name)


def to_dataset(table: Table, target: str | None = None, features: list[str] | None = None, on_bad: OnBad = "fail") -> Dataset:
    """Pick target and features, coerce to numbers, and drop or refuse rows with missing, non-numeric or infinite cells."""
    if target is None:
        numeric = table.numeric_columns()
        if not numeric:
            raise DataError("No column holds numbers: the target and features must be numeric.")
        target = numeric[-1]
    if target not in table.columns:
        raise DataError("There is no column {name!r}; the columns are: {columns}.", name=target, columns=", ".join(table.columns))
    if features is None:
        # mostly-number columns are features with a few bad cells, reported below; text columns are left out
        features = [c for c in table.numeric_columns() if c != target]
    features = list(features)
    missing = [f for f in features if f not in table.columns]
    if missing:
        raise DataError("No such feature column(s): {names}.", names=", ".join(missing))
    if target in features:
        raise DataError("{name!r} is the target; it cannot also be a feature. Untick it in the features.", name=target)
    if not features:
        raise DataError("No numeric feature column besides the target: pick at least one feature.")
    cols = [*features, target]
    numbers = pd.DataFrame({c: _to_numbers(table.cells[c], table.delimiter) for c in cols})
    for c in cols:
        ok = np.isfinite(numbers[c].to_numpy(dtype=float))
        if ok.mean() < 0.5:
            first = next((i for i in range(len(ok)) if not ok[i] and table.cells[c].iat[i].strip()), None)
            if first is None:
                raise DataError("Column {name!r} is mostly not numbers; untick it or pick another column.", name=c)
            raise DataError(
                "Column {name!r} is mostly not numbers (e.g. {value!r} on line {line}); untick it or pick another column.",
                name=c,
                value=table.cells[c].iat[first][:40],
                line=int(table.lines[first]),
            )
    problems = _problems(table, numbers, cols)
    dropped: dict[str, Any] = {"rows": 0}
    if problems:
        bad_rows = sorted({i for i, _, _ in problems})
        summary = _problem_summary(table, problems, bad_rows)
        if on_bad == "fail":
            raise DataError("{summary} Fix the file, or choose to drop these rows.", summary=summary)
        numbers = numbers.drop(index=bad_rows).reset_index(drop=True)
        # the summary as the run store keeps a message (core.i18n.encode): it reads in whoever's language shows it
        dropped = {"rows": len(bad_rows), "lines": [int(table.lines[i]) for i in bad_rows[:100]], "summary": encode(summary)}
    X, y = numbers[features].astype(float), numbers[target].astype(float)
    return _dataset(X, y, table.source, table.delimiter, table.encoding, table.has_header, dropped)


def _dataset(X: pd.DataFrame, y: pd.Series, source: str, delimiter: str, encoding: str, has_header: bool, dropped: dict) -> Dataset:
    """The checks every reading ends with (enough rows, no constant column) and the spec that rebuilds it."""
    features, target = list(X.columns), str(y.name)
    if len(y) >= len(features) + 2:
        columns = [*(X[c].to_numpy() for c in features), y.to_numpy()]
        check_rows(features, target, len(y), np.array([v.min() for v in columns]), np.array([v.max() for v in columns]))
    else:
        check_rows(features, target, len(y), np.zeros(0), np.zeros(0))
    spec, desc, name = dataset_spec(source, features, target, delimiter, encoding, has_header, dropped)
    return Dataset(X=X, y=y, name=name, description=desc, spec=spec)


def load_csv(
    source: str | os.PathLike | IO,
    target: str | None = None,
    features: list[str] | None = None,
    on_bad: OnBad = "fail",
    limits: Limits = LIMITS,
) -> Dataset:
    """Read a numeric CSV. target None: the last numeric column. features None: every other numeric column. Raises DataError.

    A file on disk that holds only plain numbers is read typed, in chunks, straight into float64 columns (10M rows:
    ~1.5 s and ~1.5× the data's size, where the text-cell reader below takes ~65 s and ~4 GB). Anything else, or
    any cell that does not read as a finite number, goes through the text-cell reader, which names every bad cell."""
    if isinstance(source, (str, os.PathLike)):
        from core.data.csv_typed import read_typed  # which imports this module

        if (ds := read_typed(source, target, features, limits)) is not None:
            return ds
    return to_dataset(read_table(source, limits), target=target, features=features, on_bad=on_bad)


def check_rows(features: list[str], target: str, n: int, lows: np.ndarray, highs: np.ndarray) -> None:
    """Enough rows, and no column the same in every row (lows, highs: each column's least and greatest, features
    then target). Split out so ranks that each hold a part can check the whole from reduced numbers."""
    if n < len(features) + 2:
        raise DataError(
            "Too few rows: {rows} usable row(s) for {features} feature(s); need at least {need}. Add rows or use fewer features.",
            rows=n,
            features=len(features),
            need=len(features) + 2,
        )
    for c, low, high in zip([*features, target], lows, highs):
        if low == high:
            if c == target:
                raise DataError(
                    "Column {name!r} has the same value ({value:g}) in every row: nothing to predict. Pick another column.",
                    name=c,
                    value=float(low),
                )
            raise DataError(
                "Column {name!r} has the same value ({value:g}) in every row: it carries no information and makes the fit singular. "
                "Pick another column.",
                name=c,
                value=float(low),
            )


def dataset_spec(
    source: str, features: list[str], target: str, delimiter: str, encoding: str, has_header: bool, dropped: dict
) -> tuple[dict, str, str]:
    """The spec that rebuilds a CSV's dataset, its description and its name."""
    spec = {
        "csv": os.path.basename(source),
        "target": target,
        "features": features,
        "delimiter": delimiter,
        "encoding": encoding,
        "has_header": has_header,
        "dropped": dropped,
    }
    desc = f"{os.path.basename(source)}: {', '.join(features)} → {target}."
    name = spec["csv"] or "csv"  # the file's own name: a person uploads several, and "csv" told them apart from nothing
    return spec, desc, name


@contextmanager
def _binary(source: str | os.PathLike | IO, limits: Limits) -> Iterator[IO[bytes]]:
    """The file as a seekable binary stream, its size and first bytes checked, without a copy of it in memory:
    a 38 MB upload of 10 million rows used to cost ~320 MB (bytes, text, and the csv module's UCS-4 buffer)."""
    try:
        if hasattr(source, "read"):
            stream = io.BytesIO(source.read().encode("utf-8")) if isinstance(source, io.TextIOBase) else source
            stream.seek(0)
            opened = None
        else:
            stream = opened = open(source, "rb")  # noqa: SIM115 - closed below
        size = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        head = stream.read(65536)
        stream.seek(0)
    except OSError as e:
        raise DataError("Cannot read the file: {reason}.", reason=str(e.strerror or e)) from None
    try:
        if size > limits.max_bytes:
            raise DataError("The file is larger than {size}; upload a smaller sample of it.", size=_size(limits.max_bytes))
        if head[:4] == b"PK\x03\x04" or head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise DataError("This is a spreadsheet workbook (Excel), not a CSV: in Excel choose File → Save As → CSV UTF-8.")
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise DataError("The file is UTF-16 text; save it as CSV UTF-8 (or GBK) and upload it again.")
        if b"\x00" in head:
            raise DataError("This is a binary file, not CSV text: export your data as CSV (UTF-8) and upload that.")
        yield stream
    finally:
        if opened is not None:
            opened.close()


def _size(n_bytes: int) -> str | Message:
    if n_bytes >= 2**20:
        return f"{n_bytes / 2**20:g} MB"
    return f"{n_bytes / 2**10:g} KB" if n_bytes >= 2**10 else Message("{n} bytes", {"n": n_bytes})


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same number (>1) of cells most often; quotes respected."""
    sample = [ln for ln in text[:65536].splitlines()[:50] if ln.strip()]
    best, best_score = ",", (0, 0)
    for d in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(sample, delimiter=d)]
        except csv.Error:
            continue
        if not widths or max(widths) < 2:
            continue
        consistent = sum(w == widths[0] for w in widths)
        score = (consistent, widths[0])
        if score > best_score:
            best, best_score = d, score
    return best


def _parse(text: IO[str], delimiter: str, limits: Limits) -> tuple[list[list[str]], list[int]]:
    """Rows of text cells and the line each ends on; reading stops at the row cap plus one."""
    rows: list[list[str]] = []
    lines: list[int] = []
    reader = csv.reader(text, delimiter=delimiter)
    try:
        for row in reader:
            if not any(c.strip() for c in row):
                continue  # blank line
            if len(rows) > limits.max_rows + 1:
                raise DataError("The file has more than {most:,} data rows; upload a sample of it.", most=limits.max_rows)
            if len(row) > limits.max_columns + 1 and any(c.strip() for c in row[limits.max_columns + 1 :]):
                raise DataError(
                    "Line {line} has {values} values; at most {most} columns are allowed.",
                    line=reader.line_num,
                    values=len(row),
                    most=limits.max_columns,
                )
            long = next((c for c in row if len(c) > limits.max_cell_chars), None)
            if long is not None:
                raise DataError(
                    "Line {line} has a cell of {chars:,} characters (at most {most} allowed): "
                    "is this the right file, or is a quote left unclosed?",
                    line=reader.line_num,
                    chars=len(long),
                    most=limits.max_cell_chars,
                )
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as e:
        raise DataError("Line {line} cannot be read as CSV ({reason}); check its quotes.", line=reader.line_num, reason=str(e)) from None
    return rows, lines


def _to_numbers(cells: pd.Series, delimiter: str) -> pd.Series:
    """Text cells to floats: NaN where not a number. Decimal commas are read in semicolon files (1,5 → 1.5)."""
    s = cells.astype(str).str.strip()
    if delimiter == ";":
        s = s.where(~s.str.match(_DECIMAL_COMMA), s.str.replace(",", ".", regex=False))
    s = s.where(~s.str.contains("_", regex=False), "")  # float() would read 1_000 as 1000; a person would not
    return pd.to_numeric(s, errors="coerce").astype(float)


def _problems(table: Table, numbers: pd.DataFrame, cols: list[str]) -> list[tuple[int, str, str]]:
    """(row, column, kind) for every cell that is not a finite number; kind is missing, non-numeric or infinite."""
    out = []
    for c in cols:
        v = numbers[c].to_numpy(dtype=float)
        for i in np.flatnonzero(~np.isfinite(v)):
            text = table.cells[c].iat[i].strip()
            kind = (
                "infinite"
                if np.isinf(v[i])
                else "missing"
                if text.lower() in ("", "nan", "na", "n/a", "null", "none", "-")
                else "non-numeric"
            )
            out.append((int(i), c, kind))
    return out


KIND_NAMES = {"missing": Message("missing"), "non-numeric": Message("non-numeric"), "infinite": Message("infinite")}


def _kind_count(kind: str, n: int) -> Message:
    if kind == "missing":
        return Message("{n} missing", {"n": n})
    return Message("{n} non-numeric", {"n": n}) if kind == "non-numeric" else Message("{n} infinite", {"n": n})


def listed(items: list[Message], semicolons: bool = False) -> Message | str:
    """Messages one after another with each language's separator between them, rendered when shown."""
    if not items:
        return ""
    out = items[0]
    for item in items[1:]:
        params = {"items": out, "item": item}
        out = Message("{items}; {item}", params) if semicolons else Message("{items}, {item}", params)
    return out


def _problem_summary(table: Table, problems: list[tuple[int, str, str]], bad_rows: list[int]) -> Message:
    """Which cells are not numbers, by line and column: a Message, so it reads in the language of whoever sees it."""
    kinds = {k: sum(1 for *_, kk in problems if kk == k) for k in KIND_NAMES}
    counts = listed([_kind_count(k, n) for k, n in kinds.items() if n])
    examples = []
    for i, c, kind in problems[:5]:
        cell = table.cells[c].iat[i].strip()
        where = {"line": int(table.lines[i]), "column": c}
        if cell:
            examples.append(
                Message("line {line} column {column!r} ({value!r}, {kind})", {**where, "value": cell[:20], "kind": KIND_NAMES[kind]})
            )
        else:
            examples.append(Message("line {line} column {column!r} (empty)", where))
    params = {"rows": len(bad_rows), "counts": counts, "examples": listed(examples, semicolons=True)}
    if len(problems) <= 5:
        return Message("{rows} row(s) have cells that are not usable numbers ({counts}): {examples}.", params)
    more = len(problems) - 5
    return Message(
        "{rows} row(s) have cells that are not usable numbers ({counts}): {examples}, and {more} more.", {**params, "more": more}
    )

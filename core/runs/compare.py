"""Comparing and exporting runs: pure functions of the store's run rows and histories."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from core.i18n import _
from core.runs.history_codec import jsonable


def config_diff(runs: Sequence[dict]) -> list[dict]:
    """The settings whose values differ between runs, config and dataset alike: [{"setting": name, run id: value…}].

    Values are strings, so a column mixing numbers, lists and "—" (not set) displays as one type; "none" is in the reader's
    language. The "setting" key stays: the page labels it.
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
    """One row per epoch per run: run_id, optimizer, base_lr (the setting), then every history column (blank where a
    run has none), among them lr, the rate each epoch actually used under its schedule."""
    columns = list(dict.fromkeys(name for run in runs for name in histories.get(run["id"], {})))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["run_id", "optimizer", "base_lr", *columns])
    for run in runs:
        h = histories.get(run["id"], {})
        n = len(next(iter(h.values()), []))
        head = [run["id"], run["config"].get("optimizer", ""), run["config"].get("lr", "")]
        for i in range(n):
            writer.writerow(head + ["" if name not in h or h[name][i] is None else h[name][i] for name in columns])
    return buffer.getvalue()


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=jsonable)
    return _("none") if value is None else str(value)


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

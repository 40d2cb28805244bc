"""The Runs page's view of the store: one table row per run, filtered and sorted, and the words its loss chart shows."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from core.i18n import N_, _

# the frame's keys, and the ids of the labels the table shows (_(column)): the frame keeps English keys, which tests read
COLUMNS = (
    N_("id"), N_("run"), N_("name"), N_("whose"), N_("source"), N_("created"), N_("status"), N_("optimizer"), N_("lr"), N_("epochs"),
    N_("of"), N_("train loss"), N_("test loss"), N_("time (s)"), N_("device"), N_("data"),
)  # fmt: skip
# what the table's text cells say, in the reader's language; the frame keeps the values (filters and tests read them)
VALUE_LABELS = {"mine": N_("mine"), "shared": N_("shared"), "train": N_("train"), "lesson": N_("lesson"), "class": N_("class")}
SHORT_ID = 6  # hex digits of a run's id the table shows: enough to tell a person's runs apart, as git's short hashes


def table_row(run: dict, owner: str | None = None) -> dict[str, Any]:
    """What the table shows of one list_runs() row, under COLUMNS; created in local time. whose: "mine" when the run
    is this owner's, "shared" when it was opened through someone's link (view only)."""
    config = run["config"]
    return {
        "id": run["id"],
        "run": run["id"][:SHORT_ID],
        "name": run.get("name") or "",
        "whose": "mine" if owner is None or run.get("owner") == owner else "shared",
        "source": run["dataset"].get("source", "train"),  # train: the Train page; lesson: a classroom lane
        "created": datetime.fromtimestamp(run["created_at"]),
        "status": run["status"],
        "optimizer": config.get("optimizer", ""),
        "lr": config.get("lr"),
        "epochs": run["epochs_done"],  # done
        "of": config.get("epochs"),  # planned
        "train loss": run["train_loss"],
        "test loss": run["test_loss"],
        "time (s)": run["elapsed_s"],
        "device": run["device"] or "",
        "data": data_label(run["dataset"]),
    }


def visible_columns(rows: Sequence[dict], sources: Collection[str]) -> list[str]:
    """COLUMNS as the table shows them: no full id (the short one is there), no source when one source is chosen, and
    no "whose" when every row is the person's own: the columns that say something fit the page."""
    hidden = {"id"} | ({"source"} if len(sources) == 1 else set()) | ({"whose"} if all(r["whose"] == "mine" for r in rows) else set())
    return [c for c in COLUMNS if c not in hidden]


def data_label(dataset: dict) -> str:
    """The preset or file name, with the row count where it is known: "house_prices, 1,000"."""
    name = dataset.get("preset") or dataset.get("csv") or "?"
    return f"{name}, {dataset['rows']:,}" if isinstance(dataset.get("rows"), int) else name


def select_runs(
    runs: Sequence[dict],
    statuses: Collection[str] = (),
    optimizers: Collection[str] = (),
    owner: str | None = None,
    sources: Collection[str] = (),
) -> list[dict]:
    """The runs with one of these statuses, optimizers and sources ("train", "lesson"; none given: any) and, given an
    owner, started by it."""
    return [
        r
        for r in runs
        if (not statuses or r["status"] in statuses)
        and (not optimizers or r["config"].get("optimizer", "") in optimizers)
        and (not sources or r["dataset"].get("source", "train") in sources)
        and (owner is None or r["owner"] == owner)
    ]


def sort_rows(rows: Sequence[dict], column: str, ascending: bool) -> list[dict]:
    """Stable sort on one column with missing values (None, NaN) last either way, as pandas' sort_values does."""
    missing = [r for r in rows if _missing(r[column])]
    present = [r for r in rows if not _missing(r[column])]
    return sorted(present, key=lambda r: r[column], reverse=not ascending) + missing  # reverse keeps ties in order


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def curve_label(run: dict) -> str:
    """Its name (made from what differs most often: optimizer, learning rate, epochs, data), else a short id."""
    if run.get("name"):
        return f"{run['name']} ({run['id'][:SHORT_ID]})"
    lr = run["config"].get("lr")
    short = run["id"][:SHORT_ID]
    return f"{short} · {run['config'].get('optimizer', '?')} lr={lr:g}" if isinstance(lr, (int, float)) else short


def loss_axis_title(runs: Sequence[dict]) -> str:
    """The loss and its unit when every run shares them ("MSE (price²)"), else just "loss"."""
    losses = {r["config"].get("loss", "mse") for r in runs}
    targets = {r["dataset"].get("target", "y") for r in runs}
    if len(losses) == 1 and len(targets) == 1:
        loss, target = losses.pop(), targets.pop()
        return {"mse": f"MSE ({target}²)", "mae": f"MAE ({target})"}.get(loss) or _("{loss} loss", loss=loss)
    return _("loss")

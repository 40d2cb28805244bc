"""Runs: this person's saved runs, and those opened through a shared link; overlay, compare, export, rename, delete
(their own only), or take one back to Train. The admin view sees every run."""

from datetime import datetime

import pandas as pd
import streamlit as st

from core.i18n import N_, _
from core.runs import RunStore, StoreError
from core.runs.compare import config_diff, export_csv, export_json
from core.runs.figures import runs_overlay_figure
from core.runs.job import status_label
from core.runs.store import ACTIVE, NAME_MAX
from core.runs.table import COLUMNS, VALUE_LABELS, curve_label, loss_axis_title, select_runs, sort_rows, table_row, visible_columns
from core.training import ConfigError, TrainConfig
from ui import identity, navigation, state
from ui.cache import run_store
from ui.text import readable

SORTS = {  # label (an id: shown as _(label)) → (column, ascending)
    N_("newest first"): ("created", False),
    N_("oldest first"): ("created", True),
    N_("lowest test loss"): ("test loss", True),
    N_("lowest train loss"): ("train loss", True),
    N_("learning rate"): ("lr", True),
}
CHART_COLUMNS = ["epoch", "train_loss", "test_loss"]
# label (an id) → sources shown; Train's first
SOURCES = {N_("Train runs"): ("train",), N_("lesson runs"): ("lesson", "class"), N_("all runs"): ()}
TEXT_CELLS = ("whose", "source")  # their values are words: shown in the reader's language (VALUE_LABELS)


def translated(label: str) -> str:
    """An option's label (a catalogue id) in the reader's language."""
    return _(label)


def cell(value: object) -> object:
    """A text cell's value in the reader's language; numbers, names and dates as they are."""
    return _(VALUE_LABELS[value]) if isinstance(value, str) and value in VALUE_LABELS else value


st.title(_("Runs"))
admin = bool(st.session_state.get(state.ADMIN_OK))
me = identity.owner_id()
shared_ids = sorted(st.session_state.get(state.SHARED_RUNS, set()))
try:
    store = run_store()
    runs = store.list_runs() if admin else store.list_runs(owner=me, also=shared_ids)
except StoreError as e:
    st.error(str(e))
    st.stop()

if not runs:
    st.info(
        _(
            "No runs yet. Every run you start on the Train page is saved here as it trains, and stays after a restart; "
            "runs others share with you (their link) appear here too, to view."
        )
    )
    st.stop()


by_id = {r["id"]: r for r in runs}
row_of = {r["id"]: table_row(r, None if admin else me) for r in runs}
table = pd.DataFrame(list(row_of.values()), columns=COLUMNS).set_index("id", drop=False)  # dtypes from every run

source_col, status_col, optimizer_col, sort_col, mine_col = st.columns([1.6, 2, 2, 2, 1.3], vertical_alignment="bottom")
source = source_col.selectbox(
    _("Show"), list(SOURCES), format_func=translated, key="runs_source", help=_("Lesson runs are the classroom's lanes")
)
statuses = status_col.multiselect(
    _("Status"), sorted(set(table["status"])), format_func=status_label, key="runs_status", placeholder=_("all")
)
optimizers = optimizer_col.multiselect(_("Optimizer"), sorted(set(table["optimizer"])), key="runs_optimizer", placeholder=_("all"))
sort = sort_col.selectbox(_("Sort"), list(SORTS), format_func=translated, key="runs_sort")
mine = mine_col.toggle(_("Only mine"), key="runs_mine", help=_("Hide the runs of others: shared with you, or everyone's for an admin"))

chosen = select_runs(runs, statuses, optimizers, owner=me if mine else None, sources=SOURCES[source])
shown_ids = [row["id"] for row in sort_rows([row_of[r["id"]] for r in chosen], *SORTS[sort])]
shown = table.loc[shown_ids].reset_index(drop=True)
for column in ("train loss", "test loss"):  # 1,340,000,000 with a "localized" column, never 1,339,677,011.364
    shown[column] = shown[column].map(readable)
shown["status"] = shown["status"].map(status_label)  # words in the reader's language; the filters above read the values
for column in TEXT_CELLS:
    shown[column] = shown[column].map(cell)
label = {c: _(c) for c in COLUMNS}  # the column names a person reads; the frame's keys stay English until shown

event = st.dataframe(
    shown.rename(columns=label),
    key="runs_table",
    on_select="rerun",
    selection_mode="multi-row",
    hide_index=True,
    width="stretch",
    height=min(420, 38 + 35 * len(shown)),
    # the full id stays in the frame, unseen
    column_order=[label[c] for c in visible_columns([row_of[i] for i in shown_ids], SOURCES[source])],
    column_config={
        label["run"]: st.column_config.TextColumn(
            width="small", help=_("The run's id, its first digits (the address of its page has it all)")
        ),
        label["name"]: st.column_config.TextColumn(width="medium", help=_("Rename one of your runs below")),
        label["source"]: st.column_config.TextColumn(width="small", help=_("train: the Train page; lesson: a classroom lane")),
        label["whose"]: st.column_config.TextColumn(
            width="small", help=_("mine: yours to rename and delete; shared: opened from a link, to view")
        ),
        label["created"]: st.column_config.DatetimeColumn(format=_("MMM D, HH:mm")),  # a moment.js format: 12月5日 in Chinese
        label["lr"]: st.column_config.NumberColumn(format="%.4g", width="small"),
        label["epochs"]: st.column_config.NumberColumn(format="%d", width="small", help=_("epochs done")),
        label["of"]: st.column_config.NumberColumn(format="%d", width="small", help=_("epochs planned")),
        label["device"]: st.column_config.TextColumn(width="small"),
        label["data"]: st.column_config.TextColumn(help=_("dataset, rows")),
        label["train loss"]: st.column_config.NumberColumn(format="localized"),
        label["test loss"]: st.column_config.NumberColumn(format="localized"),
        label["time (s)"]: st.column_config.NumberColumn(format="%.2f"),
    },
)
# a stale selection after a filter change is dropped
selected = [by_id[shown_ids[i]] for i in event.selection.rows if i < len(shown_ids)]
st.caption(
    _("{shown} of {total} runs · stored in {backend}", shown=len(shown), total=len(table), backend=store.display_url.split("://")[0])
)

if not selected:
    st.info(_("Tick runs in the table to overlay their loss curves, compare their settings, export or delete them."))
    st.stop()

# -- overlay --------------------------------------------------------------------------------------
st.subheader(_("Loss curves"))
test_loss_col, log_scale_col, _rest = st.columns([1.4, 1, 3.6])  # 测试损失（虚线） needs the room
show_test = test_loss_col.toggle(_("Test loss (dotted)"), value=True, key="runs_show_test")
log_y = log_scale_col.toggle(_("Log scale"), value=True, key="runs_log_y")
try:
    histories = store.histories([r["id"] for r in selected], CHART_COLUMNS)
except StoreError as e:
    st.error(str(e))
    st.stop()
curves = {curve_label(r): histories.get(r["id"], {}) for r in selected}
st.plotly_chart(runs_overlay_figure(curves, test=show_test, log_y=log_y, y_title=loss_axis_title(selected)), key="runs_overlay")
if empty := [r["id"] for r in selected if not histories.get(r["id"], {}).get("epoch")]:
    st.caption(_("No epochs recorded yet for {runs}.", runs=", ".join(empty)))

# -- config diff ----------------------------------------------------------------------------------
if len(selected) > 1:
    st.subheader(_("Settings that differ"))
    diff = config_diff(selected)
    if diff:
        diff_table = pd.DataFrame(diff).rename(columns={"setting": _("setting")})  # the other columns are run ids
        st.dataframe(diff_table, hide_index=True, width="stretch", key="runs_diff")
    else:
        st.caption(_("The selected runs share every setting and the same data."))

# -- actions --------------------------------------------------------------------------------------
st.subheader(_("Export and reuse"))
ids = [r["id"] for r in selected]
stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
csv_col, json_col, open_col, again_col, delete_col = st.columns(5)
# built only when clicked, on Streamlit's download thread: 100 runs' full history is ~1 s of work
csv_col.download_button(
    _("Download CSV"),
    lambda: export_csv(selected, store.histories(ids)),
    f"runs-{stamp}.csv",
    "text/csv",
    key="runs_csv",
    on_click="ignore",
    width="stretch",
)
json_col.download_button(
    _("Download JSON"),
    lambda: export_json(selected, store.histories(ids)),
    f"runs-{stamp}.json",
    "application/json",
    key="runs_json",
    on_click="ignore",
    width="stretch",
)
single = len(selected) == 1
one_help = None if single else _("Select exactly one run.")
open_train = open_col.button(_("Open in Train"), key="runs_open", disabled=not single, help=one_help, width="stretch")
run_again = again_col.button(
    _("Run again"), key="runs_again", disabled=not single, help=one_help or _("Start this config again on the Train page."), width="stretch"
)


def rename(store: RunStore, run_id: str, owner: str | None) -> None:
    try:
        store.rename(run_id, st.session_state[f"runs_name_{run_id}"], owner=owner)
    except StoreError as e:
        st.toast(str(e))


def ask_delete(ids: list[str]) -> None:
    st.session_state[state.RUNS_DELETE] = ids


def confirm_delete(store: RunStore, owner: str | None) -> None:
    doomed = st.session_state.pop(state.RUNS_DELETE, [])
    try:
        n = store.delete(doomed, owner=owner)
    except StoreError as e:
        st.session_state[state.RUNS_DELETE] = doomed
        st.toast(str(e))
        return
    st.toast(_("Deleted 1 run.") if n == 1 else _("Deleted {n} runs.", n=n))


def cancel_delete() -> None:
    st.session_state.pop(state.RUNS_DELETE, None)


theirs = [r["id"] for r in selected if not admin and r.get("owner") != me]
delete_col.button(_("Delete…"), key="runs_delete_ask", on_click=ask_delete, args=(ids,), width="stretch", disabled=bool(theirs),
                  help=_("Only your own runs can be deleted; others shared these with you to view.") if theirs else None)  # fmt: skip
if single and not theirs:
    rename_col, _rest = st.columns([3, 3])
    rename_col.text_input(_("Name"), value=selected[0]["name"] or "", key=f"runs_name_{selected[0]['id']}", max_chars=NAME_MAX,
                          on_change=rename, args=(store, selected[0]["id"], None if admin else me))  # fmt: skip

if open_train or run_again:
    run = selected[0]
    try:
        cfg = TrainConfig.from_dict(run["config"]).validate()
    except (ConfigError, TypeError) as e:
        st.error(_("This run's settings cannot be loaded into Train: {error}", error=e))
        st.stop()
    st.session_state[state.PENDING_CONFIG] = cfg.to_dict()
    st.session_state[state.PENDING_START] = bool(run_again)
    state.use_run_data(run["dataset"])  # the same data too, where its parameters rebuild it
    st.switch_page(navigation.path("train"))

if doomed := st.session_state.get(state.RUNS_DELETE):
    active = [i for i in doomed if by_id.get(i, {}).get("status") in ACTIVE]
    with st.container(border=True):
        ask = (
            _("Delete 1 run with all recorded epochs? This cannot be undone.")
            if len(doomed) == 1
            else _("Delete {n} runs with all recorded epochs? This cannot be undone.", n=len(doomed))
        )
        if active:
            ask += " " + _("{n} still training: the training goes on, but its epochs are no longer saved.", n=len(active))
        st.warning(ask)
        confirm_col, cancel_col, _rest = st.columns([1, 1, 4])
        confirm_col.button(_("Delete"), type="primary", key="runs_delete_confirm", on_click=confirm_delete,
                           args=(store, None if admin else me), width="stretch")  # fmt: skip
        cancel_col.button(_("Cancel"), key="runs_delete_cancel", on_click=cancel_delete, width="stretch")

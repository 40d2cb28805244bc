"""Runs: this person's saved runs, and those opened through a shared link; overlay, compare, export, rename, delete
(their own only), or take one back to Train. The admin view sees every run."""

from datetime import datetime

import pandas as pd
import streamlit as st

from core.runs import RunStore, StoreError
from core.runs.compare import config_diff, export_csv, export_json
from core.runs.figures import runs_overlay_figure
from core.runs.store import ACTIVE, NAME_MAX
from core.runs.table import COLUMNS, curve_label, loss_axis_title, select_runs, sort_rows, table_row, visible_columns
from core.training import ConfigError, TrainConfig
from ui import identity, navigation, state
from ui.cache import run_store
from ui.text import readable

SORTS = {  # label → (column, ascending)
    "newest first": ("created", False),
    "oldest first": ("created", True),
    "lowest test loss": ("test loss", True),
    "lowest train loss": ("train loss", True),
    "learning rate": ("lr", True),
}
CHART_COLUMNS = ["epoch", "train_loss", "test_loss"]
SOURCES = {"Train runs": ("train",), "lesson runs": ("lesson", "class"), "all runs": ()}  # label → sources shown; Train's first

st.title("Runs")
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
        "No runs yet. Every run you start on the Train page is saved here as it trains, and stays after a restart; "
        "runs others share with you (their link) appear here too, to view."
    )
    st.stop()


by_id = {r["id"]: r for r in runs}
row_of = {r["id"]: table_row(r, None if admin else me) for r in runs}
table = pd.DataFrame(list(row_of.values()), columns=COLUMNS).set_index("id", drop=False)  # dtypes from every run

source_col, status_col, optimizer_col, sort_col, mine_col = st.columns([1.6, 2, 2, 2, 1.3], vertical_alignment="bottom")
source = source_col.selectbox("Show", list(SOURCES), key="runs_source", help="Lesson runs are the classroom's lanes")
statuses = status_col.multiselect("Status", sorted(set(table["status"])), key="runs_status", placeholder="all")
optimizers = optimizer_col.multiselect("Optimizer", sorted(set(table["optimizer"])), key="runs_optimizer", placeholder="all")
sort = sort_col.selectbox("Sort", list(SORTS), key="runs_sort")
mine = mine_col.toggle("Only mine", key="runs_mine", help="Hide the runs of others: shared with you, or everyone's for an admin")

chosen = select_runs(runs, statuses, optimizers, owner=me if mine else None, sources=SOURCES[source])
shown_ids = [row["id"] for row in sort_rows([row_of[r["id"]] for r in chosen], *SORTS[sort])]
shown = table.loc[shown_ids].reset_index(drop=True)
for column in ("train loss", "test loss"):  # 1,340,000,000 with a "localized" column, never 1,339,677,011.364
    shown[column] = shown[column].map(readable)

event = st.dataframe(
    shown,
    key="runs_table",
    on_select="rerun",
    selection_mode="multi-row",
    hide_index=True,
    width="stretch",
    height=min(420, 38 + 35 * len(shown)),
    column_order=visible_columns([row_of[i] for i in shown_ids], SOURCES[source]),  # the full id stays in the frame, unseen
    column_config={
        "run": st.column_config.TextColumn(width="small", help="The run's id, its first digits (the address of its page has it all)"),
        "name": st.column_config.TextColumn(width="medium", help="Rename one of your runs below"),
        "source": st.column_config.TextColumn(width="small", help="train: the Train page; lesson: a classroom lane"),
        "whose": st.column_config.TextColumn(width="small", help="mine: yours to rename and delete; shared: opened from a link, to view"),
        "created": st.column_config.DatetimeColumn(format="MMM D, HH:mm"),
        "lr": st.column_config.NumberColumn(format="%.4g", width="small"),
        "epochs": st.column_config.NumberColumn(format="%d", width="small", help="epochs done"),
        "of": st.column_config.NumberColumn(format="%d", width="small", help="epochs planned"),
        "device": st.column_config.TextColumn(width="small"),
        "data": st.column_config.TextColumn(help="dataset, rows"),
        "train loss": st.column_config.NumberColumn(format="localized"),
        "test loss": st.column_config.NumberColumn(format="localized"),
        "time (s)": st.column_config.NumberColumn(format="%.2f"),
    },
)
# a stale selection after a filter change is dropped
selected = [by_id[shown_ids[i]] for i in event.selection.rows if i < len(shown_ids)]
st.caption(f"{len(shown)} of {len(table)} runs · stored in {store.display_url.split('://')[0]}")

if not selected:
    st.info("Tick runs in the table to overlay their loss curves, compare their settings, export or delete them.")
    st.stop()

# -- overlay --------------------------------------------------------------------------------------
st.subheader("Loss curves")
test_loss_col, log_scale_col, _ = st.columns([1, 1, 4])
show_test = test_loss_col.toggle("Test loss (dotted)", value=True, key="runs_show_test")
log_y = log_scale_col.toggle("Log scale", value=True, key="runs_log_y")
try:
    histories = store.histories([r["id"] for r in selected], CHART_COLUMNS)
except StoreError as e:
    st.error(str(e))
    st.stop()
curves = {curve_label(r): histories.get(r["id"], {}) for r in selected}
st.plotly_chart(runs_overlay_figure(curves, test=show_test, log_y=log_y, y_title=loss_axis_title(selected)), key="runs_overlay")
if empty := [r["id"] for r in selected if not histories.get(r["id"], {}).get("epoch")]:
    st.caption(f"No epochs recorded yet for {', '.join(empty)}.")

# -- config diff ----------------------------------------------------------------------------------
if len(selected) > 1:
    st.subheader("Settings that differ")
    diff = config_diff(selected)
    if diff:
        st.dataframe(pd.DataFrame(diff), hide_index=True, width="stretch", key="runs_diff")
    else:
        st.caption("The selected runs share every setting and the same data.")

# -- actions --------------------------------------------------------------------------------------
st.subheader("Export and reuse")
ids = [r["id"] for r in selected]
stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
csv_col, json_col, open_col, again_col, delete_col = st.columns(5)
# built only when clicked, on Streamlit's download thread: 100 runs' full history is ~1 s of work
csv_col.download_button(
    "Download CSV",
    lambda: export_csv(selected, store.histories(ids)),
    f"runs-{stamp}.csv",
    "text/csv",
    key="runs_csv",
    on_click="ignore",
    width="stretch",
)
json_col.download_button(
    "Download JSON",
    lambda: export_json(selected, store.histories(ids)),
    f"runs-{stamp}.json",
    "application/json",
    key="runs_json",
    on_click="ignore",
    width="stretch",
)
single = len(selected) == 1
one_help = None if single else "Select exactly one run."
open_train = open_col.button("Open in Train", key="runs_open", disabled=not single, help=one_help, width="stretch")
run_again = again_col.button(
    "Run again", key="runs_again", disabled=not single, help=one_help or "Start this config again on the Train page.", width="stretch"
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
    st.toast(f"Deleted {n} run{'s' * (n != 1)}.")


def cancel_delete() -> None:
    st.session_state.pop(state.RUNS_DELETE, None)


theirs = [r["id"] for r in selected if not admin and r.get("owner") != me]
delete_col.button("Delete…", key="runs_delete_ask", on_click=ask_delete, args=(ids,), width="stretch", disabled=bool(theirs),
                  help="Only your own runs can be deleted; others shared these with you to view." if theirs else None)  # fmt: skip
if single and not theirs:
    rename_col, _ = st.columns([3, 3])
    rename_col.text_input("Name", value=selected[0]["name"] or "", key=f"runs_name_{selected[0]['id']}", max_chars=NAME_MAX,
                          on_change=rename, args=(store, selected[0]["id"], None if admin else me))  # fmt: skip

if open_train or run_again:
    run = selected[0]
    try:
        cfg = TrainConfig.from_dict(run["config"]).validate()
    except (ConfigError, TypeError) as e:
        st.error(f"This run's settings cannot be loaded into Train: {e}")
        st.stop()
    st.session_state[state.PENDING_CONFIG] = cfg.to_dict()
    st.session_state[state.PENDING_START] = bool(run_again)
    state.use_run_data(run["dataset"])  # the same data too, where its parameters rebuild it
    st.switch_page(navigation.path("train"))

if doomed := st.session_state.get(state.RUNS_DELETE):
    active = [i for i in doomed if by_id.get(i, {}).get("status") in ACTIVE]
    with st.container(border=True):
        st.warning(
            f"Delete {len(doomed)} run{'s' * (len(doomed) != 1)} with all recorded epochs? This cannot be undone."
            + (f" {len(active)} still training: the training goes on, but its epochs are no longer saved." if active else "")
        )
        confirm_col, cancel_col, _ = st.columns([1, 1, 4])
        confirm_col.button("Delete", type="primary", key="runs_delete_confirm", on_click=confirm_delete,
                           args=(store, None if admin else me), width="stretch")  # fmt: skip
        cancel_col.button("Cancel", key="runs_delete_cancel", on_click=cancel_delete, width="stretch")

"""Runs: every saved run in a table; overlay, compare, export, delete, or take one back to Train."""

from datetime import datetime

import pandas as pd
import streamlit as st

from core.runs import StoreError
from core.runs.compare import config_diff, export_csv, export_json
from core.runs.figures import runs_overlay_figure
from core.runs.store import ACTIVE
from core.training import ConfigError, TrainConfig
from ui import navigation, state
from ui.cache import run_store

SORTS = {  # label → (column, ascending)
    "newest first": ("created", False),
    "oldest first": ("created", True),
    "lowest test loss": ("test loss", True),
    "lowest train loss": ("train loss", True),
    "learning rate": ("lr", True),
}
CHART_COLUMNS = ["epoch", "train_loss", "test_loss"]

st.title("Runs")
try:
    store = run_store()
    runs = store.list_runs()
except StoreError as e:
    st.error(str(e))
    st.stop()

if not runs:
    st.info("No runs yet. Every run you start on the Train page is saved here as it trains, and stays after a restart.")
    st.stop()


def table(runs: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [r["id"] for r in runs],
            "created": [datetime.fromtimestamp(r["created_at"]) for r in runs],
            "status": [r["status"] for r in runs],
            "optimizer": [r["config"].get("optimizer", "") for r in runs],
            "lr": [r["config"].get("lr") for r in runs],
            "epochs": [r["epochs_done"] for r in runs],
            "of": [r["config"].get("epochs") for r in runs],
            "train loss": [r["train_loss"] for r in runs],
            "test loss": [r["test_loss"] for r in runs],
            "time (s)": [r["elapsed_s"] for r in runs],
            "device": [r["device"] or "" for r in runs],
            "data": [_data_label(r["dataset"]) for r in runs],
        }
    )


def _data_label(ds: dict) -> str:
    name = ds.get("preset") or ds.get("csv") or "?"
    return f"{name}, {ds['rows']:,}" if isinstance(ds.get("rows"), int) else name


def label(run: dict) -> str:
    """Short, and says what differs most often: optimizer and learning rate."""
    lr = run["config"].get("lr")
    return f"{run['id'][:8]} · {run['config'].get('optimizer', '?')} lr={lr:g}" if isinstance(lr, (int, float)) else run["id"][:8]


def y_title(selected: list[dict]) -> str:
    losses = {r["config"].get("loss", "mse") for r in selected}
    targets = {r["dataset"].get("target", "y") for r in selected}
    if len(losses) == 1 and len(targets) == 1:
        loss, target = losses.pop(), targets.pop()
        return {"mse": f"MSE ({target}²)", "mae": f"MAE ({target})"}.get(loss, f"{loss} loss")
    return "loss"


df = table(runs)
by_id = {r["id"]: r for r in runs}

c1, c2, c3, c4 = st.columns([2, 2, 2, 1.3], vertical_alignment="bottom")
statuses = c1.multiselect("Status", sorted(set(df["status"])), key="runs_status", placeholder="all")
optimizers = c2.multiselect("Optimizer", sorted(set(df["optimizer"])), key="runs_optimizer", placeholder="all")
sort = c3.selectbox("Sort", list(SORTS), key="runs_sort")
mine = c4.toggle("Only my runs", key="runs_mine", help="Runs started in this browser session.")

shown = df
if statuses:
    shown = shown[shown["status"].isin(statuses)]
if optimizers:
    shown = shown[shown["optimizer"].isin(optimizers)]
if mine:
    shown = shown[[by_id[i]["owner"] == state.session_id() for i in shown["id"]]]
column, ascending = SORTS[sort]
shown = shown.sort_values(column, ascending=ascending, na_position="last", kind="stable").reset_index(drop=True)

event = st.dataframe(
    shown,
    key="runs_table",
    on_select="rerun",
    selection_mode="multi-row",
    hide_index=True,
    width="stretch",
    height=min(420, 38 + 35 * len(shown)),
    column_config={
        "id": st.column_config.TextColumn("run", width="small"),
        "created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
        "lr": st.column_config.NumberColumn(format="%.4g", width="small"),
        "epochs": st.column_config.NumberColumn(format="%d", width="small", help="epochs done"),
        "of": st.column_config.NumberColumn(format="%d", width="small", help="epochs planned"),
        "device": st.column_config.TextColumn(width="small"),
        "data": st.column_config.TextColumn(help="dataset, rows"),
        "train loss": st.column_config.NumberColumn(format="%.4g"),
        "test loss": st.column_config.NumberColumn(format="%.4g"),
        "time (s)": st.column_config.NumberColumn(format="%.2f"),
    },
)
rows = [i for i in event.selection.rows if i < len(shown)]  # a stale selection after a filter change is dropped
selected = [by_id[i] for i in shown["id"].iloc[rows]]
st.caption(f"{len(shown)} of {len(df)} runs · stored in {store.display_url.split('://')[0]}")

if not selected:
    st.info("Tick runs in the table to overlay their loss curves, compare their settings, export or delete them.")
    st.stop()

# -- overlay --------------------------------------------------------------------------------------
st.subheader("Loss curves")
o1, o2, _ = st.columns([1, 1, 4])
show_test = o1.toggle("Test loss (dotted)", value=True, key="runs_show_test")
log_y = o2.toggle("Log scale", value=True, key="runs_log_y")
try:
    histories = store.histories([r["id"] for r in selected], CHART_COLUMNS)
except StoreError as e:
    st.error(str(e))
    st.stop()
curves = {label(r): histories.get(r["id"], {}) for r in selected}
st.plotly_chart(runs_overlay_figure(curves, test=show_test, log_y=log_y, y_title=y_title(selected)), key="runs_overlay")
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
a1, a2, a3, a4, a5 = st.columns(5)
# built only when clicked, on Streamlit's download thread: 100 runs' full history is ~1 s of work
a1.download_button(
    "Download CSV",
    lambda: export_csv(selected, store.histories(ids)),
    f"runs-{stamp}.csv",
    "text/csv",
    key="runs_csv",
    on_click="ignore",
    width="stretch",
)
a2.download_button(
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
open_train = a3.button("Open in Train", key="runs_open", disabled=not single, help=one_help, width="stretch")
run_again = a4.button(
    "Run again", key="runs_again", disabled=not single, help=one_help or "Start this config again on the Train page.", width="stretch"
)


def ask_delete() -> None:
    st.session_state[state.RUNS_DELETE] = ids


def confirm_delete() -> None:
    doomed = st.session_state.pop(state.RUNS_DELETE, [])
    try:
        n = store.delete(doomed)
    except StoreError as e:
        st.session_state[state.RUNS_DELETE] = doomed
        st.toast(str(e))
        return
    st.toast(f"Deleted {n} run{'s' * (n != 1)}.")


def cancel_delete() -> None:
    st.session_state.pop(state.RUNS_DELETE, None)


a5.button("Delete…", key="runs_delete_ask", on_click=ask_delete, width="stretch")

if open_train or run_again:
    run = selected[0]
    try:
        cfg = TrainConfig.from_dict(run["config"]).validate()
    except (ConfigError, TypeError) as e:
        st.error(f"This run's settings cannot be loaded into Train: {e}")
        st.stop()
    st.session_state[state.PENDING_CONFIG] = cfg.to_dict()
    st.session_state[state.PENDING_START] = bool(run_again)
    data = run["dataset"]
    if "preset" in data:  # the same data too, where its parameters rebuild it
        st.session_state[state.DATA_PARAMS] = {**state.DEFAULT_DATA, **{k: data[k] for k in state.DEFAULT_DATA if k in data}}
        state.use_preset()
    st.switch_page(navigation.path("train"))

if doomed := st.session_state.get(state.RUNS_DELETE):
    active = [i for i in doomed if by_id.get(i, {}).get("status") in ACTIVE]
    with st.container(border=True):
        st.warning(
            f"Delete {len(doomed)} run{'s' * (len(doomed) != 1)} with all recorded epochs? This cannot be undone."
            + (f" {len(active)} still training: the training goes on, but its epochs are no longer saved." if active else "")
        )
        d1, d2, _ = st.columns([1, 1, 4])
        d1.button("Delete", type="primary", key="runs_delete_confirm", on_click=confirm_delete, width="stretch")
        d2.button("Cancel", key="runs_delete_cancel", on_click=cancel_delete, width="stretch")

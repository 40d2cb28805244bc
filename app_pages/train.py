"""Train: settings → a job in a worker process → every epoch's loss, polled at a bounded frame rate."""

import pandas as pd
import streamlit as st

from core.config import DEVICES, OPTIMIZERS, ConfigError, TrainConfig
from core.data import split
from core.figures import loss_figure
from core.jobs import COLUMNS, FINAL
from core.landscape import least_squares
from ui import state
from ui.cache import job_manager

FRAME_S = 0.5  # the chart's refresh interval, whatever the epoch rate

st.title("Train")
manager = job_manager()


def start_run() -> None:
    """A button callback, so the page below already knows a run is on (Stop enabled, polling started)."""
    ss = st.session_state
    ds = state.current_dataset()
    cfg = TrainConfig(optimizer=ss.train_optimizer, lr=float(ss.train_lr), epochs=int(ss.train_epochs), device=ss.train_device)
    try:
        job = manager.submit(ds, cfg.validate(), owner=state.session_id())
    except ConfigError as e:
        ss[state.TRAIN_ERROR] = str(e)
        return
    ss[state.LIVE] = {
        "job_id": job.id,
        "cursor": 0,
        "history": {c: [] for c in COLUMNS},
        "status": job.status,
        "config": cfg,
        "dataset": ds,
    }


def stop_run() -> None:
    manager.stop(st.session_state[state.LIVE]["job_id"])


live = st.session_state.get(state.LIVE)
running = live is not None and live["status"] not in FINAL

ds = state.current_dataset()
st.caption(f"Training on **{ds.name}** ({len(ds):,} rows; {', '.join(ds.features)} → {ds.target}). Change it on the Data page.")

c1, c2, c3, c4 = st.columns(4)
c1.number_input("Learning rate", min_value=0.0, value=0.01, step=0.01, format="%g", key="train_lr")
c2.number_input("Epochs", min_value=0, value=100, step=100, key="train_epochs")
c3.selectbox("Optimizer", OPTIMIZERS, format_func=str.upper, key="train_optimizer")
c4.selectbox("Device", DEVICES[:3], key="train_device", help="auto: CUDA if usable, then Apple MPS, then CPU.")

b1, b2, _ = st.columns([1, 1, 6])
b1.button("Train", type="primary", disabled=running, key="train_start", on_click=start_run, width="stretch")
b2.button("Stop", disabled=not running, key="train_stop", on_click=stop_run, width="stretch")
if error := st.session_state.pop(state.TRAIN_ERROR, None):
    st.error(error)


@st.fragment(run_every=FRAME_S if running else None)
def live_view() -> None:
    """Pull only the epochs that are new since the last frame, then redraw."""
    snap = manager.snapshot(live["job_id"], since=live["cursor"])
    if snap is None:
        st.warning("This run is no longer held by the server (it was restarted). Start a new run.")
        return
    for c in COLUMNS:
        live["history"][c].extend(snap.rows[c])
    live["cursor"], live["status"], live["result"], live["error"] = snap.cursor, snap.status, snap.result, snap.error
    if snap.status == "queued":
        st.info(f"Queued: position {snap.queue_position}. It starts when a worker is free.")
    elif snap.status == "running" or snap.epochs_done:
        st.progress(snap.epochs_done / snap.epochs_total, text=f"epoch {snap.epochs_done:,} of {snap.epochs_total:,}")
    if live["history"]["epoch"]:
        st.plotly_chart(loss_figure(live["history"], target=ds.target), key="loss_chart")
    if running and snap.status in FINAL:
        st.rerun()  # the whole page: stop polling, re-enable Train, show the result


def result_view() -> None:
    status, result = live["status"], live.get("result") or {}
    reason = result.get("reason") or live.get("error") or ""
    if status == "completed":
        st.success(f"Completed {live['cursor']:,} epochs on {result.get('device')} in {result.get('elapsed_s', 0):.2f} s.")
    elif status == "stopped":
        st.warning(reason or "Stopped.")
    elif status == "diverged":
        st.error(f"Diverged. {reason}")
    else:
        st.error(reason or "The run failed.")
    if "coef" not in result:
        return
    run_ds = live["dataset"]  # the data this run trained on, even if the Data page has moved on
    cfg = live["config"]
    exact_coef, exact_intercept = least_squares(run_ds, rows=split(len(run_ds), cfg.test_fraction, cfg.seed)[0])
    names = [*result["coef"], "intercept"]
    trained = [*result["coef"].values(), result["intercept"]]
    exact = [*exact_coef.values(), exact_intercept]
    st.subheader("Coefficients (original units)")
    st.dataframe(
        pd.DataFrame(
            {"parameter": names, "trained": trained, "least squares (exact)": exact, "difference": [t - e for t, e in zip(trained, exact)]}
        ),
        hide_index=True,
        column_config={k: st.column_config.NumberColumn(format="%.4g") for k in ("trained", "least squares (exact)", "difference")},
    )
    gap = max(abs(t - e) / max(abs(e), 1e-12) for t, e in zip(trained, exact))
    if status == "completed" and gap > 0.01:
        st.info(
            f"Not at the optimum yet: a coefficient is still {gap:.0%} away from least squares. "
            "Train for more epochs, or raise the learning rate (0.1 converges here in a few hundred epochs)."
        )
    st.caption(
        "Least squares is the exact optimum of the MSE on the same training rows, solved in closed form. "
        "Gradient descent gets there only with enough epochs and a suitable learning rate."
    )


if live is not None:
    live_view()
    if live["status"] in FINAL:
        result_view()
else:
    st.info("Press **Train** to fit the seed's linear model with these settings; every epoch's loss appears here as it trains.")
    # drawn empty now so the browser has loaded Plotly before the first epoch arrives
    st.plotly_chart(loss_figure({c: [] for c in COLUMNS}, target=ds.target), key="loss_chart")

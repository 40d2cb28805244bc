"""Train: settings → a job in a worker process → every epoch on screen, polled at a bounded frame rate."""

import time

import numpy as np
import pandas as pd
import streamlit as st

from core.data import Scaler, split
from core.plotting import decimate, thin
from core.runs import FINAL
from core.training import ConfigError, TrainConfig
from core.training.export import history_csv, training_script
from core.training.figures import fit_figure, lines_figure, loss_figure, predicted_actual_figure, residual_figure
from core.training.metrics import regression_metrics
from core.training.optimum import least_squares
from core.training.weights import forward
from ui import state, train_form
from ui.cache import job_manager
from ui.live_chart import live_chart

FRAME_S = 0.5  # the charts' refresh interval, whatever the epoch rate
QUEUED_FRAME_S = 2.0  # a queued run's frame: drawn once, then it watches for the run's start (see started)

st.title("Train")
manager = job_manager()
ss = st.session_state


def attach(job_id: str, control_key: str | None = None) -> dict | None:
    """Watch a job: a fresh record that the live view fills from epoch 1.

    Its owner controls it; a refreshed tab proves ownership with the key in its URL; anyone else who has
    the link watches read-only."""
    job = manager.get(job_id)
    if job is None or job.source is None:
        return None
    mine = job.owner == state.session_id() or (control_key is not None and manager.adopt(job.id, state.session_id(), control_key))
    ds, cfg = job.source, job.config
    train_rows, test_rows = split(len(ds), cfg.test_fraction, cfg.seed)
    X, y = ds.X.to_numpy(dtype=float), ds.y.to_numpy(dtype=float)
    scaler = Scaler.fit(X[train_rows], y[train_rows]) if cfg.standardize else Scaler.identity(len(ds.features))
    ss[state.LIVE] = {"job_id": job.id, "cursor": 0, "history": {}, "status": job.status, "config": cfg, "dataset": ds, "X": X,
                      "scaler": scaler, "test_rows": test_rows, "result": None, "error": "", "mine": mine}  # fmt: skip
    ss[state.LIVE]["control_key"] = job.control_key if mine else None
    name_in_url(ss[state.LIVE])
    return ss[state.LIVE]


def name_in_url(live: dict) -> None:
    """The run in the URL, so a refresh re-attaches to it; the control key too, so its owner keeps control."""
    if st.query_params.get("run") != live["job_id"]:
        st.query_params["run"] = live["job_id"]
    if live["control_key"] and st.query_params.get("key") != live["control_key"]:
        st.query_params["key"] = live["control_key"]


def start_run() -> None:
    """A button callback, so the page below already knows a run is on (Pause and Stop enabled, polling started)."""
    prep = state.data_prep()
    try:
        cfg = train_form.config_from_widgets(prep["standardize"], prep["test_fraction"])
        job = manager.submit(state.current_dataset(), cfg, owner=state.session_id(), label=state.owner_label())
    except ConfigError as e:
        ss[state.TRAIN_ERROR] = str(e)
        return
    attach(job.id)


def toggle_pause() -> None:
    live = ss[state.LIVE]
    (manager.resume if live["status"] == "paused" else manager.pause)(live["job_id"])
    live["status"] = "running" if live["status"] == "paused" else "paused"


def stop_run() -> None:
    manager.stop(ss[state.LIVE]["job_id"])


if (pending := ss.pop(state.PENDING_CONFIG, None)) is not None:  # "Open in Train" / "Run again" on the Runs page
    chosen = TrainConfig.from_dict(pending)
    train_form.load(chosen)
    state.data_prep().update(standardize=chosen.standardize, test_fraction=chosen.test_fraction)
    if ss.pop(state.PENDING_START, False):
        start_run()

live = ss.get(state.LIVE)
if live is None and "run" in st.query_params:  # a refreshed browser, or a shared link: pick the run up again
    live = attach(st.query_params["run"], st.query_params.get("key"))
elif live is not None:
    name_in_url(live)  # back from another page, whose link dropped the query
running = live is not None and live["status"] not in FINAL
queued = running and live["status"] == "queued"  # Pause is off until a worker takes the run
controls = running and live["mine"]

ds = state.current_dataset()
prep = state.data_prep()
st.caption(
    f"Training on **{ds.name}** ({len(ds):,} rows; {', '.join(ds.features)} → {ds.target}); "
    f"{'standardized' if prep['standardize'] else 'raw'} features, {prep['test_fraction']:.0%} held out for testing. "
    "Change these on the Data page."
)

train_form.render(disabled=running)
problem = None
try:
    train_form.config_from_widgets(prep["standardize"], prep["test_fraction"])
except ConfigError as e:
    problem = str(e)

b1, b2, b3, b4, _ = st.columns([1, 1, 1, 1.4, 3.6])
b1.button("Train", type="primary", disabled=running or problem is not None, key="train_start", on_click=start_run, width="stretch")
b2.button("Resume" if live and live["status"] == "paused" else "Pause", disabled=not controls or live["status"] == "queued",
          key="train_pause", on_click=toggle_pause, width="stretch")  # fmt: skip
b3.button("Stop", disabled=not controls, key="train_stop", on_click=stop_run, width="stretch")
b4.button("Seed example", disabled=running, key="train_seed_example", on_click=train_form.load, args=(train_form.DEFAULT,),
          help="The seed document's settings: SGD, lr 0.01, 100 epochs, MSE, linear model", width="stretch")  # fmt: skip
if live is not None and not live["mine"]:
    st.info("You are watching a shared run: read-only. Its owner can pause or stop it; press Train for a run of your own.")
if problem:
    st.error(problem)
if error := ss.pop(state.TRAIN_ERROR, None):
    st.error(error)


def progress(snap, box) -> None:
    if snap.status == "queued":
        free = "a GPU is free (this server shares each GPU between a set number of runs)" if snap.waiting_for_gpu else "a worker is free"
        job = manager.get(live["job_id"])
        waited = f" · waiting {time.time() - job.submitted_at:.0f} s" if job else ""
        box.info(f"Queued: position {snap.queue_position}{waited}. It starts when {free}.")
        return
    done, total = snap.epochs_done, snap.epochs_total
    elapsed = (snap.finished_at or time.time()) - (snap.started_at or time.time())
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = f" · ETA {(total - done) / rate:,.0f} s" if rate and snap.status == "running" else ""
    paused = " · paused" if snap.status == "paused" else ""
    box.progress(min(done / total, 1.0), text=f"epoch {done:,} of {total:,} · {rate:,.0f} epochs/s{eta}{paused}")


def live_predictions(history: dict) -> np.ndarray | None:
    """The fit at the newest epoch, from the recorded weights (linear models with few features)."""
    names = [f"w:{f}" for f in live["dataset"].features]
    if not history.get("b") or not all(n in history for n in names):
        return None
    coef, intercept = live["scaler"].to_original(np.array([history[n][-1] for n in names]), history["b"][-1])
    return live["X"] @ coef + intercept  # X converted once, at attach: this runs every frame


def charts(history: dict) -> None:
    cfg, ds_run = live["config"], live["dataset"]
    c1, c2 = st.columns(2)
    with c1:
        live_chart(loss_figure(history, log_y=ss.get("train_log", True), target=ds_run.target, loss=cfg.loss), key="loss_chart")
    with c2:
        final = (live.get("result") or {}).get("predictions")
        predicted = final or live_predictions(history)
        if predicted is not None:  # while streaming: a light SVG chart of a few hundred points, redrawn each frame
            fig = fit_figure(ds_run, predicted) if final else fit_figure(ds_run, predicted, max_points=300, webgl=False)
            live_chart(fig, key="fit_chart")
        else:
            st.caption("The fitted curve appears here when the run ends (the weights of bigger models are not streamed).")
    keep = decimate(len(history["epoch"]))
    names = [f"w:{f}" for f in ds_run.features]
    c3, c4 = st.columns(2)
    if all(n in history for n in names) and "b" in history:
        W = np.array([thin(history[n], keep) for n in names], dtype=float).T
        b = np.array(thin(history["b"], keep), dtype=float)
        s = live["scaler"]
        coef = s.y_std * W / s.x_std
        paths = {f: coef[:, i].tolist() for i, f in enumerate(ds_run.features)}
        paths["intercept"] = (s.y_mean + s.y_std * b - coef @ s.x_mean).tolist()
        with c3:
            live_chart(lines_figure({"epoch": thin(history["epoch"], keep)}, paths, "coefficient (original units)"), key="coef_chart")
    with c4:
        series = {"learning rate": thin(history["lr"], keep)} if "lr" in history else {}
        live_chart(lines_figure({"epoch": thin(history["epoch"], keep)}, series, "learning rate", log_y=cfg.schedule == "exponential"),
                   key="lr_chart")  # fmt: skip


def worth_waiting(snap) -> bool:
    """Will the first epochs of a run that just started, or the last of one about to end, arrive soon? Then wait
    for them (sleeping, ≤ FRAME_S) and draw them at once rather than up to a frame later. Ending within two
    frames counts: if it has not ended when this frame gives up, the next frame starts at once and waits again."""
    if snap is None or not running or snap.status != "running" or snap.epochs_done >= snap.epochs_total:
        return False  # nothing to wait for; every epoch in: drawn now, the result follows in the next frame
    if not live["cursor"] and not snap.rows["epoch"]:
        return True
    elapsed = time.time() - (snap.started_at or time.time())
    rate = snap.epochs_done / elapsed if elapsed > 0 else 0.0
    return rate > 0 and (snap.epochs_total - snap.epochs_done) / rate < 2 * FRAME_S


def started(box) -> bool:
    """Has a worker taken this queued run within QUEUED_FRAME_S? Checked every 0.1 s in the job manager's memory.

    The queue note is redrawn every 0.5 s meanwhile: drawing is where Streamlit notices a click (Stop, another
    page) and ends this frame, so the page answers within 0.5 s although the frame lasts up to QUEUED_FRAME_S.
    Twenty queued pages checking twice as often slowed the worker on the server's core by a third."""
    deadline = time.monotonic() + QUEUED_FRAME_S
    note_at = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        job = manager.get(live["job_id"])
        if job is None or job.status != "queued":
            return True
        if time.monotonic() >= note_at:
            note_at += 0.5
            if (snap := manager.snapshot(live["job_id"], since=live["cursor"])) is not None and snap.status == "queued":
                progress(snap, box)
        time.sleep(0.1)
    return False


# Each frame is a script run on the server (~10-40 ms of its CPU). Twenty people waiting in the queue at 2 frames
# a second saturated the server's core (benchmarks/load.py, protocol clients). A queued page instead runs one frame
# every QUEUED_FRAME_S that lasts until the next: it watches for its run's start (seen within ~0.1 s) and redraws
# only its queue note.
@st.fragment(run_every=(QUEUED_FRAME_S if queued else FRAME_S) if running else None)
def live_view() -> None:
    """Pull only the epochs that are new since the last frame, then redraw."""
    snap = manager.snapshot(live["job_id"], since=live["cursor"])
    deadline = time.monotonic() + FRAME_S
    while worth_waiting(snap) and time.monotonic() < deadline:
        time.sleep(0.02)
        snap = manager.snapshot(live["job_id"], since=live["cursor"])
    if snap is None:
        st.warning("This run is no longer held by the server (it was restarted). Start a new run.")
        return
    for c, values in snap.rows.items():
        live["history"].setdefault(c, []).extend(values)
    live.update(cursor=snap.cursor, status=snap.status, result=snap.result, error=snap.error)
    box = st.empty()  # the progress bar, or the queue note that started() keeps fresh
    progress(snap, box)
    if live["history"].get("epoch"):  # none yet while queued: no charts, so no chart toggles either
        t1, t2, _ = st.columns([1, 1, 4])
        t1.toggle("Log scale", value=True, key="train_log")
        frozen = t2.toggle("Freeze view", key="train_freeze", help="Stop redrawing the charts; training goes on")
        if not frozen:
            live["frozen_at"] = live["cursor"]
        # frozen: the same picture again, so the browser has nothing to redraw
        charts({c: v[: live["frozen_at"]] for c, v in live["history"].items()} if frozen else live["history"])
    if running and (snap.status in FINAL or (snap.status == "queued") != queued or (queued and started(box))):
        st.rerun()  # the whole page: Pause on once a worker has the run; at the end, the settings and the result


def retry(**changes) -> None:
    """After an out-of-memory failure: the same run on the CPU, or with smaller batches."""
    train_form.load(TrainConfig(**{**live["config"].to_dict(), **changes}))
    start_run()


def share_link() -> None:
    with st.expander("Share this run (read-only link)"):
        base = (st.context.url or "").split("?")[0]
        st.code(f"{base}?run={live['job_id']}", language=None)
        st.caption("Whoever opens it watches this run live and sees its result, but cannot pause or stop it.")


def result_view() -> None:
    status, result, cfg, ds_run = live["status"], live.get("result") or {}, live["config"], live["dataset"]
    reason = result.get("reason") or live.get("error") or ""
    if status == "completed":
        st.success(f"Completed {live['cursor']:,} epochs on {result.get('device')} in {result.get('elapsed_s', 0):.2f} s. {reason}")
    elif status == "stopped":
        st.warning(reason or "Stopped.")
    elif status == "diverged":
        st.error(f"Diverged. {reason}")
    else:
        st.error(reason or "The run failed.")
        if "out of memory" in reason and live["mine"]:
            r1, r2, _ = st.columns([1, 1, 3])
            job = manager.get(live["job_id"])
            if cfg.device != "cpu" and (job is None or job.accelerator is not None):  # not when "auto" meant the CPU
                r1.button("Retry on the CPU", key="retry_cpu", on_click=retry, kwargs={"device": "cpu"})
            if (cfg.batch_size or len(ds_run)) > 256:
                r2.button("Retry with batches of 256", key="retry_batch", on_click=retry, kwargs={"batch_size": 256})
    predicted = result.get("predictions")
    if predicted is None:
        return
    y = ds_run.y.to_numpy(dtype=float)
    test_rows = live["test_rows"]
    is_test = np.zeros(len(y), dtype=bool)
    is_test[test_rows] = True
    yhat = np.asarray(predicted, dtype=float)
    st.subheader(f"How good is the fit ({ds_run.target}, original units)")
    metrics = {"train": regression_metrics(y[~is_test], yhat[~is_test])}
    if is_test.any():
        metrics["test"] = regression_metrics(y[is_test], yhat[is_test])
    st.dataframe(
        pd.DataFrame(metrics).T, column_config={c: st.column_config.NumberColumn(format="%.4g") for c in ("MSE", "RMSE", "MAE", "R²")}
    )
    c1, c2 = st.columns(2)
    with c1:
        live_chart(predicted_actual_figure(y, yhat, test_rows, ds_run.target), key="pred_actual")
    with c2:
        live_chart(residual_figure(y, yhat, test_rows, ds_run.target), key="residuals")
    if result.get("coef"):
        coefficients(result, cfg, ds_run)
    if result.get("weights") is not None:
        predict_form(result, cfg, ds_run)
    else:
        st.caption("This model is too big to predict with here: download it below and load it with torch or safetensors.")
    exports(result, cfg, ds_run)


def coefficients(result: dict, cfg, ds_run) -> None:
    exact_coef, exact_intercept = least_squares(ds_run, rows=split(len(ds_run), cfg.test_fraction, cfg.seed)[0])
    names = [*result["coef"], "intercept"]
    trained = np.array([*result["coef"].values(), result["intercept"]])
    exact = np.array([*exact_coef.values(), exact_intercept])
    st.subheader("Coefficients (original units)")
    st.dataframe(
        pd.DataFrame({"parameter": names, "trained": trained, "least squares (exact)": exact, "difference": trained - exact}),
        hide_index=True,
        column_config={k: st.column_config.NumberColumn(format="%.6g") for k in ("trained", "least squares (exact)", "difference")},
    )
    distance = float(np.linalg.norm(trained - exact) / max(np.linalg.norm(exact), 1e-12))
    gap = float(np.max(np.abs(trained - exact) / np.maximum(np.abs(exact), 1e-12)))
    st.caption(
        f"Distance to the optimum: {distance:.2%} of its length. Least squares is the exact optimum of the MSE on the same "
        "training rows, solved in closed form; gradient descent gets there only with enough epochs and a suitable learning rate."
    )
    if live["status"] == "completed" and gap > 0.01 and cfg.loss == "mse":
        st.info(f"Not at the optimum yet: a coefficient is still {gap:.0%} away from least squares. Train for more epochs, "
                "or raise the learning rate (0.1 converges here in a few hundred epochs).")  # fmt: skip


def predict_form(result: dict, cfg, ds_run) -> None:
    """Any trained model, linear or MLP: its weights came back from the worker, and numpy runs the forward pass."""
    with st.form("predict"):
        st.markdown(f"**Predict {ds_run.target}**")
        cols = st.columns(len(ds_run.features))
        x = [c.number_input(f, value=float(f"{ds_run.X[f].median():.4g}"), format="%g") for c, f in zip(cols, ds_run.features)]
        if st.form_submit_button("Predict"):
            s = live["scaler"]
            y = forward(result["weights"], (np.array(x) - s.x_mean) / s.x_std, cfg.activation)[0] * s.y_std + s.y_mean
            st.metric(f"predicted {ds_run.target}", f"{float(y):,.6g}")


def exports(result: dict, cfg, ds_run) -> None:
    st.subheader("Take it away")
    e1, e2, e3, e4 = st.columns(4)
    if result.get("model_file"):
        e1.download_button("Model (.pt, weights_only)", result["model_file"], file_name="descent_lab_model.pt", key="dl_model",
                           on_click="ignore", help="torch.load(path, weights_only=True): the weights, scaling and config")  # fmt: skip
    if result.get("safetensors"):
        e2.download_button("Model (.safetensors)", result["safetensors"], file_name="descent_lab_model.safetensors",
                           key="dl_safetensors", on_click="ignore", help="safetensors.torch.load_file(path): the weights; "
                           "the scaling and config are in the file's metadata")  # fmt: skip
    history = live["history"]  # made on click (a callable), not on every rerun: 100k epochs of CSV take ~0.3 s
    e3.download_button("History (.csv)", lambda: history_csv(history), file_name="history.csv", mime="text/csv", key="dl_history",
                       on_click="ignore")  # fmt: skip
    e4.download_button("Standalone PyTorch script (.py)", lambda: training_script(ds_run, cfg), file_name="descent_lab_run.py",
                       mime="text/x-python", key="dl_script", on_click="ignore",
                       help="Plain PyTorch in the seed's style, retracing this run")  # fmt: skip


if live is not None:
    share_link()
    live_view()
    if live["status"] in FINAL:
        result_view()
else:
    st.info("Press **Train** to fit the model with these settings; every epoch's loss appears here as it trains.")
    # drawn empty now so the browser has loaded Plotly before the first epoch arrives
    live_chart(loss_figure({"epoch": [], "train_loss": []}, target=ds.target), key="loss_chart")

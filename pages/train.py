"""Train: settings → a job in a worker process → every epoch on screen, polled at a bounded frame rate."""

import dataclasses
import time

import pandas as pd
import streamlit as st

from core.i18n import N_, Message, _
from core.plotting import decimate, thin
from core.runs import FINAL, Job, JobManager, Snapshot, StoreError
from core.runs.job import status_label
from core.training import ConfigError, TrainConfig
from core.training.export import history_csv, training_script
from core.training.figures import fit_figure, lines_figure, loss_figure, paths_figure, predicted_actual_figure, residual_figure
from core.training.results import (
    coefficient_comparison,
    coefficient_paths,
    fit_report,
    live_predictions,
    next_settings,
    pace,
    predict,
    typical_inputs,
)
from ui import identity, state, train_form
from ui.cache import job_manager, run_store
from ui.live_chart import live_chart
from ui.live_run import LiveRun
from ui.text import md, md_list, readable, reads_as

FRAME_S = 0.5  # the charts' refresh interval, whatever the epoch rate
QUEUED_FRAME_S = 2.0  # a queued run's frame: drawn once, then it watches for the run's start (see started)
OPTIMUM_GAP = 0.01  # a completed MSE run further than this from least squares (relative distance) is told so
RETRY_BATCH = 256  # the batch size offered after running out of memory
# what people read for the words the code keeps in English: a split, the comparison table's columns
SPLITS = {"train": N_("training set"), "test": N_("test set")}
COMPARISON = {
    "parameter": N_("parameter"),
    "trained": N_("trained"),
    "least squares (exact)": N_("least squares (exact)"),
    "difference": N_("difference"),
}


def message_id(value: object) -> str:
    """A run's reason or error in English, whatever the reader's language: a Message's id, or the text itself
    (runs stored before messages were). For deciding what to offer, never for showing."""
    return value.id if isinstance(value, Message) else str(value or "")


def attach(manager: JobManager, job_id: str) -> LiveRun | None:
    """Watch a job: a fresh record that the live view fills from epoch 1.

    Its owner (this browser, or the logged-in user: ui/identity.py) controls it, in any tab and after a refresh;
    anyone else who has the link watches read-only, and finds it on their Runs page as shared with them."""
    job = manager.get(job_id)
    if job is None or job.source is None:
        return None
    mine = job.owner == identity.owner_id()
    if not mine:
        st.session_state.setdefault(state.SHARED_RUNS, set()).add(job.id)
    live = st.session_state[state.LIVE] = LiveRun.watch(job, mine)
    train_form.load(job.config)  # the form shows the run's settings, after a refresh too (not the defaults beside it)
    name_in_url(live)
    return live


def name_in_url(live: LiveRun) -> None:
    """The run in the URL, so a refresh re-attaches to it: its id only, which grants nobody control."""
    if st.query_params.get("run") != live.job_id:
        st.query_params["run"] = live.job_id
    if "key" in st.query_params:  # an address from before control left the URL
        del st.query_params["key"]


def stored_run_view(run_id: str) -> None:
    """A run's address opened when this server no longer holds the run (it restarted, or the run is old): what the
    store kept, read-only, or a plain word that it is gone. Never an empty page."""
    try:
        store = run_store()
        run = store.get(run_id)
        history = store.history(run_id, ["epoch", "train_loss", "test_loss"]) if run else {}
    except StoreError as e:
        st.warning(_("This run is not on the server any more, and its saved copy cannot be read: {error}", error=e))
        return
    if run is None:
        st.warning(_("This run is not on this server, and no saved run has this id: it may have been deleted. Press Train for a new one."))
        return
    st.info(
        _(
            "**{name}**: {status} after {done:,} of {total:,} epochs. This server no longer holds it (it restarted, or the run "
            "ended a while ago), so this is what was saved: read-only. Its full record is on the Runs page.",
            name=md(run["name"] or run["id"][:8]),
            status=status_label(run["status"]),
            done=run["epochs_done"],
            total=run["config"].get("epochs", 0),
        )
    )
    if history.get("epoch"):
        live_chart(loss_figure(history, target=run["dataset"].get("target", "y"), loss=run["config"].get("loss", "mse")),
                   key="loss_chart")  # fmt: skip


def start_run(manager: JobManager) -> None:
    """A button callback, so the page below already knows a run is on (Pause and Stop enabled, polling started).
    The settings are validated where they enter the job system, by submit; a refused one is shown once."""
    prep = state.data_prep()
    try:
        cfg = train_form.config_from_widgets(prep["standardize"], prep["test_fraction"])
        job = manager.submit(state.current_dataset(), cfg, owner=identity.owner_id(), label=identity.owner_label())
    except ConfigError as e:
        st.session_state[state.TRAIN_ERROR] = e.message  # a Message: shown in the reader's language, after a switch too
        return
    attach(manager, job.id)


def toggle_pause(manager: JobManager, live: LiveRun) -> None:
    paused = live.status == "paused"
    (manager.resume if paused else manager.pause)(live.job_id)
    live.status = "running" if paused else "paused"


def stop_run(manager: JobManager, live: LiveRun) -> None:
    manager.stop(live.job_id)


def progress(box, snap: Snapshot, job: Job | None) -> None:
    if snap.status == "queued":
        free = (
            _("a GPU is free (this server shares each GPU between a set number of runs)") if snap.waiting_for_gpu else _("a worker is free")
        )
        waited = _(" · waiting {seconds:.0f} s", seconds=time.time() - job.submitted_at) if job else ""
        box.info(_("Queued: position {position}{waited}. It starts when {free}.", position=snap.queue_position, waited=waited, free=free))
        return
    done, total = snap.epochs_done, snap.epochs_total
    speed = pace(done, total, snap.started_at, snap.finished_at, time.time(), snap.paused_s)
    eta = _(" · ETA {seconds:,.0f} s", seconds=speed.shown_eta_s) if speed.shown_eta_s is not None and snap.status == "running" else ""
    paused = _(" · paused") if snap.status == "paused" else ""
    text = _("epoch {done:,} of {total:,} · {rate:,.0f} epochs/s{eta}{paused}", done=done, total=total, rate=speed.epochs_per_s, eta=eta,
             paused=paused)  # fmt: skip
    box.progress(speed.fraction, text=text)


def charts(live: LiveRun, history: dict[str, list], log_y: bool) -> None:
    cfg, ds_run = live.config, live.dataset
    loss_col, fit_col = st.columns(2)
    with loss_col:
        live_chart(loss_figure(history, log_y=log_y, target=ds_run.target, loss=cfg.loss), key="loss_chart")
    with fit_col:
        final = (live.result or {}).get("predictions")
        predicted = final or live_predictions(live.data, history)
        if predicted is not None:  # while streaming: a light SVG chart of a few hundred points, redrawn each frame
            fig = fit_figure(ds_run, predicted) if final else fit_figure(ds_run, predicted, max_points=300, webgl=False)
            live_chart(fig, key="fit_chart")
        else:
            st.caption(_("The fitted curve appears here when the run ends (the weights of bigger models are not streamed)."))
    keep = decimate(len(history["epoch"]))
    epochs = {"epoch": thin(history["epoch"], keep)}
    coef_col, lr_col = st.columns(2)
    if (paths := coefficient_paths(history, ds_run.features, live.data.scaler, keep)) is not None:
        paths = {(_("intercept") if name == "intercept" else name): values for name, values in paths.items()}
        with coef_col:
            live_chart(
                paths_figure(epochs, paths, _("how each coefficient moved (original units, each on its own scale)")), key="coef_chart"
            )
    with lr_col:
        if cfg.schedule == "constant":  # a flat line is a quarter of the charts' area spent on one number
            st.caption(
                _("Learning rate: {lr:g} at every epoch (no schedule; More settings has step, cosine, exponential, warmup).", lr=cfg.lr)
            )
        else:
            series = {_("learning rate"): thin(history["lr"], keep)} if "lr" in history else {}
            live_chart(lines_figure(epochs, series, _("learning rate"), log_y=cfg.schedule == "exponential"), key="lr_chart")


def worth_waiting(snap: Snapshot | None, live: LiveRun, running: bool) -> bool:
    """Will the first epochs of a run that just started, or the last of one about to end, arrive soon? Then wait
    for them (sleeping, ≤ FRAME_S) and draw them at once rather than up to a frame later. Ending within two
    frames counts: if it has not ended when this frame gives up, the next frame starts at once and waits again."""
    if snap is None or not running or snap.status != "running" or snap.epochs_done >= snap.epochs_total:
        return False  # nothing to wait for; every epoch in: drawn now, the result follows in the next frame
    if not live.cursor and not snap.rows["epoch"]:
        return True
    eta_s = pace(snap.epochs_done, snap.epochs_total, snap.started_at, snap.finished_at, time.time(), snap.paused_s).eta_s
    return eta_s is not None and eta_s < 2 * FRAME_S


def started(manager: JobManager, live: LiveRun, box) -> bool:
    """Has a worker taken this queued run within QUEUED_FRAME_S? Checked every 0.1 s in the job manager's memory.

    The queue note is redrawn every 0.5 s meanwhile: drawing is where Streamlit notices a click (Stop, another
    page) and ends this frame, so the page answers within 0.5 s although the frame lasts up to QUEUED_FRAME_S.
    Twenty queued pages checking twice as often slowed the worker on the server's core by a third."""
    deadline = time.monotonic() + QUEUED_FRAME_S
    note_at = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        job = manager.get(live.job_id)
        if job is None or job.status != "queued":
            return True
        if time.monotonic() >= note_at:
            note_at += 0.5
            if (snap := manager.snapshot(live.job_id, since=live.cursor)) is not None and snap.status == "queued":
                progress(box, snap, job)
        time.sleep(0.1)
    return False


# Each frame is a script run on the server (~10-40 ms of its CPU). Twenty people waiting in the queue at 2 frames
# a second saturated the server's core (benchmarks/load.py, protocol clients). A queued page instead runs one frame
# every QUEUED_FRAME_S that lasts until the next: it watches for its run's start (seen within ~0.1 s) and redraws
# only its queue note.
def live_view(manager: JobManager, live: LiveRun, running: bool, queued: bool, paused: bool) -> None:
    """A fragment, rerun every frame with the arguments of the page's last full run: pull only the epochs that are
    new since the last frame, then redraw."""
    snap = manager.snapshot(live.job_id, since=live.cursor)
    deadline = time.monotonic() + FRAME_S
    while worth_waiting(snap, live, running) and time.monotonic() < deadline:
        time.sleep(0.02)
        snap = manager.snapshot(live.job_id, since=live.cursor)
    if snap is None:  # the server restarted, or let the ended run go to keep its memory bounded: show what the store kept
        st.session_state.pop(state.LIVE, None)
        st.rerun()
    live.absorb(snap)
    if snap.store_problem:
        st.warning(
            _(
                "This run is not being saved: {problem} It goes on training, and its epochs are kept in this server's memory until "
                "the store answers again; if the server restarts first they are lost, so download its history when it ends.",
                problem=snap.store_problem,
            ),
            icon=":material/database_off:",
        )
    box = st.empty()  # the progress bar, or the queue note that started() keeps fresh
    progress(box, snap, manager.get(live.job_id))
    if len(live.history["epoch"]):  # none yet while queued: no charts, so no chart toggles either
        log_col, freeze_col, _rest = st.columns([1, 1, 4])
        log_y = log_col.toggle(_("Log scale"), value=True, key=state.TRAIN_LOG)
        frozen = freeze_col.toggle(_("Freeze view"), key=state.TRAIN_FREEZE, help=_("Stop redrawing the charts; training goes on"))
        charts(live, live.charted(frozen), log_y)
    if running and (snap.status in FINAL or (snap.status == "queued") != queued or paused != (snap.status == "paused")
                    or (queued and started(manager, live, box))):  # fmt: skip
        st.rerun()  # the whole page: Pause on once a worker has the run, Resume once paused (in any tab); at the end, the result


def retry(manager: JobManager, cfg: TrainConfig, **changes) -> None:
    """After an out-of-memory failure: the same run on the CPU, or with smaller batches."""
    train_form.load(dataclasses.replace(cfg, **changes))
    start_run(manager)


def share_link(job_id: str) -> None:
    with st.expander(_("Share this run (read-only link)")):
        base = (st.context.url or "").split("?")[0]
        st.code(f"{base}?run={job_id}", language=None)
        st.caption(_("Whoever opens it watches this run live and sees its result, but cannot pause or stop it."))


def result_view(manager: JobManager, live: LiveRun) -> None:
    status, result, cfg, ds_run = live.status, live.result or {}, live.config, live.dataset
    reason = result.get("reason") or live.error or ""  # a Message (or older runs' text): str() says it in the reader's language
    said = str(reason)
    if status == "completed":
        st.success(
            _(
                "Completed {epochs:,} epochs on {device} in {seconds:.2f} s. {reason}",
                epochs=live.cursor,
                device=result.get("device"),
                seconds=result.get("elapsed_s", 0),
                reason=said,
            )
        )
    elif status == "stopped":
        st.warning(said or _("Stopped."))
    elif status == "diverged":
        st.error(_("Diverged. {reason}", reason=said))
        offer_next(manager, live, diverged=True)
    else:
        st.error(said or _("The run failed."))
        if "out of memory" in message_id(reason) and live.mine:
            cpu_col, batch_col, _rest = st.columns([1, 1, 3])
            job = manager.get(live.job_id)
            if cfg.device != "cpu" and (job is None or job.accelerator is not None):  # not when "auto" meant the CPU
                cpu_col.button(_("Retry on the CPU"), key="retry_cpu", on_click=retry, args=(manager, cfg), kwargs={"device": "cpu"})
            if (cfg.batch_size or len(ds_run)) > RETRY_BATCH:
                batch_col.button(_("Retry with batches of {n}", n=RETRY_BATCH), key="retry_batch", on_click=retry, args=(manager, cfg),
                                 kwargs={"batch_size": RETRY_BATCH})  # fmt: skip
    predicted = result.get("predictions")
    if predicted is None:
        return
    if status == "diverged":  # its numbers are huge or not numbers at all: there if asked for, not in the way
        with st.expander(_("Inspect the diverged run anyway")):
            fit_details(manager, live, result, predicted)
        return
    fit_details(manager, live, result, predicted)


def offer_next(manager: JobManager, live: LiveRun, diverged: bool) -> None:
    """One click to the settings that work: for plain gradient descent, from the data's Hessian (core.training.results)."""
    better = next_settings(live.config, live.data, diverged)
    if better is not None:
        st.button(_("Train again with learning rate {lr:g}, {epochs:,} epochs", lr=better.lr, epochs=better.epochs), type="primary",
                  key="train_next",
                  on_click=retry, args=(manager, live.config), kwargs={"lr": better.lr, "epochs": better.epochs})  # fmt: skip


def fit_details(manager: JobManager, live: LiveRun, result: dict, predicted: list) -> None:
    ds_run = live.dataset
    st.subheader(_("How good is the fit ({target}, original units)", target=md(ds_run.target)))
    st.dataframe(
        pd.DataFrame(fit_report(live.data, predicted)).T.map(readable).rename(index=lambda split: reads_as(SPLITS, split)),
        column_config={
            **{c: st.column_config.NumberColumn(format="localized") for c in ("MSE", "RMSE", "MAE")},
            "R²": st.column_config.NumberColumn(format="%.4f"),
        },  # thousands separators, never 1335000000
    )
    actual_col, residual_col = st.columns(2)
    with actual_col:
        live_chart(predicted_actual_figure(live.data.y, predicted, live.data.test_rows, ds_run.target), key="pred_actual")
    with residual_col:
        live_chart(residual_figure(live.data.y, predicted, live.data.test_rows, ds_run.target), key="residuals")
    if result.get("coef"):
        coefficients(manager, live, result["coef"], result["intercept"])
    if result.get("weights") is not None:
        predict_form(live, result["weights"])
    else:
        st.caption(_("This model is too big to predict with here: download it below and load it with torch or safetensors."))
    exports(live, result)


def coefficients(manager: JobManager, live: LiveRun, coef: dict[str, float], intercept: float) -> None:
    comparison = coefficient_comparison(live.dataset, live.data.train_rows, coef, intercept)
    st.subheader(_("Coefficients (original units)"))
    rows = [{**row, "parameter": _("intercept") if row["parameter"] == "intercept" else row["parameter"]} for row in comparison.rows]
    st.dataframe(  # the columns' and the intercept's names in the reader's language; the numbers as they are
        [{reads_as(COMPARISON, k): readable(v, 6) for k, v in row.items()} for row in rows],
        hide_index=True,
        column_config={
            reads_as(COMPARISON, k): st.column_config.NumberColumn(format="localized")
            for k in ("trained", "least squares (exact)", "difference")
        },  # fmt: skip
    )
    st.caption(
        _(
            "Distance to the optimum: {distance:.2%} of its length. Least squares is the exact optimum of the MSE on the same "
            "training rows, solved in closed form; gradient descent gets there only with enough epochs and a suitable learning rate.",
            distance=comparison.distance,
        )
    )
    if live.status == "completed" and comparison.distance > OPTIMUM_GAP and live.config.loss == "mse":
        st.info(_("Not at the optimum yet: {left:.0%} of the way is left. Gradient descent needs more epochs or a larger learning "
                  "rate to get there; the button below picks both from this data.", left=comparison.distance))  # fmt: skip
        offer_next(manager, live, diverged=False)


def predict_form(live: LiveRun, weights: dict) -> None:
    """Any trained model, linear or MLP: its weights came back from the worker, and numpy runs the forward pass."""
    ds_run = live.dataset
    with st.form("predict"):
        st.markdown(_("**Predict {target}**", target=md(ds_run.target)))
        feature_cols = st.columns(len(ds_run.features))
        x = [col.number_input(md(f), value=value, format="%g", key=f"predict_{i}")
             for i, (col, (f, value)) in enumerate(zip(feature_cols, typical_inputs(ds_run).items()))]  # fmt: skip
        if st.form_submit_button(_("Predict")):
            y = predict(weights, live.data.scaler, live.config.activation, x)
            st.metric(_("predicted {target}", target=md(ds_run.target)), f"{y:,.6g}")


def exports(live: LiveRun, result: dict) -> None:
    st.subheader(_("Take it away"))
    model_col, safetensors_col, history_col, script_col = st.columns(4)
    if result.get("model_file"):
        model_col.download_button(_("Model (.pt, weights_only)"), result["model_file"], file_name="descent_lab_model.pt",
                                  key="dl_model", on_click="ignore",
                                  help=_("torch.load(path, weights_only=True): the weights, scaling and config"))  # fmt: skip
    if result.get("safetensors"):
        safetensors_col.download_button(_("Model (.safetensors)"), result["safetensors"], file_name="descent_lab_model.safetensors",
                                        key="dl_safetensors", on_click="ignore", help=_("safetensors.torch.load_file(path): the "
                                        "weights; the scaling and config are in the file's metadata"))  # fmt: skip
    # these two are made on click (a callable), not on every rerun: 100k epochs of CSV take ~0.3 s
    history_col.download_button(_("History (.csv)"), lambda: history_csv(live.history), file_name="history.csv", mime="text/csv",
                                key="dl_history", on_click="ignore")  # fmt: skip
    script_col.download_button(_("Standalone PyTorch script (.py)"), lambda: training_script(live.dataset, live.config),
                               file_name="descent_lab_run.py", mime="text/x-python", key="dl_script", on_click="ignore",
                               help=_("Plain PyTorch in the seed's style, retracing this run"))  # fmt: skip


st.title(_("Train"))
manager = job_manager()

if (pending := st.session_state.pop(state.PENDING_CONFIG, None)) is not None:  # "Open in Train" / "Run again" on the Runs page
    chosen = TrainConfig.from_dict(pending)
    train_form.load(chosen)
    state.data_prep().update(standardize=chosen.standardize, test_fraction=chosen.test_fraction)
    if st.session_state.pop(state.PENDING_START, False):
        start_run(manager)

live: LiveRun | None = st.session_state.get(state.LIVE)
if live is None and "run" in st.query_params:  # a refreshed browser, or a shared link: pick the run up again
    live = attach(manager, st.query_params["run"])
elif live is not None:
    name_in_url(live)  # back from another page, whose link dropped the query
running = live is not None and live.status not in FINAL
queued = running and live.status == "queued"  # Pause is off until a worker takes the run
paused = running and live.status == "paused"
controls = running and live.mine

ds = state.current_dataset()
prep = state.data_prep()
said = {
    "name": md(state.dataset_label(ds)),
    "rows": len(ds),
    "features": md_list(ds.features),
    "target": md(ds.target),
    "test": prep["test_fraction"],
}
if prep["standardize"]:
    st.caption(_("Training on **{name}** ({rows:,} rows; {features} → {target}); standardized features, {test:.0%} held out for "
                 "testing. Change these on the Data page.", **said))  # fmt: skip
else:
    st.caption(_("Training on **{name}** ({rows:,} rows; {features} → {target}); raw features, {test:.0%} held out for testing. "
                 "Change these on the Data page.", **said))  # fmt: skip

train_form.render(disabled=running, devices=manager.devices() if manager.workers_ready() else None)
# checked while the settings can change; during a run the form is off and submit has checked the run's settings
problem = None if running else train_form.problem(prep["standardize"], prep["test_fraction"])

train_col, pause_col, stop_col, seed_col, _rest = st.columns([1, 1, 1, 1.4, 3.6])
train_col.button(_("Train"), type="primary", disabled=running or problem is not None, key="train_start", on_click=start_run,
                 args=(manager,), width="stretch")  # fmt: skip
pause_col.button(_("Resume") if paused else _("Pause"), disabled=not controls or queued, key="train_pause",
                 on_click=toggle_pause, args=(manager, live), width="stretch")  # fmt: skip
stop_col.button(_("Stop"), disabled=not controls, key="train_stop", on_click=stop_run, args=(manager, live), width="stretch")
seed_col.button(_("The guide's example"), disabled=running, key="train_seed_example", on_click=train_form.load, args=(train_form.DEFAULT,),
                help=_("The settings of the PyTorch guide this app grew from (its 'seed' example): SGD, learning rate 0.01, "
                       "100 epochs, MSE, a linear model"), width="stretch")  # fmt: skip
if live is not None and not live.mine:
    st.info(_("You are watching a shared run: read-only. Its owner can pause or stop it; press Train for a run of your own."))
if problem:
    st.error(problem)
if error := st.session_state.pop(state.TRAIN_ERROR, None):
    st.error(str(error))

if live is not None:
    share_link(live.job_id)
    frame_s = (QUEUED_FRAME_S if queued else FRAME_S) if running else None  # an ended run's view is drawn once
    st.fragment(live_view, run_every=frame_s)(manager, live, running, queued, paused)
    if live.status in FINAL:
        result_view(manager, live)
elif "run" in st.query_params:
    stored_run_view(st.query_params["run"])
else:
    st.info(_("Press **Train** to fit the model with these settings; every epoch's loss appears here as it trains."))
    # drawn empty now so the browser has loaded Plotly before the first epoch arrives
    live_chart(loss_figure({"epoch": [], "train_loss": []}, target=ds.target), key="loss_chart")

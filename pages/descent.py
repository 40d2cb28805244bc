"""Gradient descent: the loss surface, the trainer's own path on it and the update equation, at one epoch."""

import importlib.util
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

from core.classroom import LESSONS, Lesson, Surface, surface
from core.classroom.contrast import high_contrast
from core.classroom.figures import LABEL_COLORS, classroom_fit_figure, step_loss_figure
from core.classroom.klass import class_lessons
from core.classroom.lessons import (
    DATA_PAGE,
    DEFAULT_LESSON,
    DEFAULT_SPEED,
    MAX_DATA_FEATURES,
    SPEEDS,
    URL_KEYS,
    VIEWS,
    LessonRun,
    data_key,
    history_table,
    lane_config,
    lane_lr,
    lesson_dataset,
    settings_from_url,
    settings_to_url,
)
from core.classroom.play import play
from core.classroom.step import (
    LessonView,
    at_epoch,
    axis_pair_label,
    axis_pairs,
    equation_lines,
    fit_predictions,
    gif_epochs,
    lane_losses,
    lane_surface_figure,
    lesson_view,
    outcome_text,
    preset_lr,
    race_losses,
    race_rows,
    round_lr,
    stability_text,
    update_note,
)
from core.data import Dataset
from core.i18n import N_, _, decode
from core.plotting import figures_png, gif_from_pngs
from core.runs import FINAL, JobManager
from core.runs.job import status_label
from core.training import ConfigError
from ui import identity, state
from ui.cache import job_manager
from ui.charts import plotly_chart
from ui.classes import start_class
from ui.text import md, reads_as

POLL_S = 0.3  # while the lanes train; they are short
PROJECTOR_HEIGHT = 520  # px before high_contrast's 1.15: the charts fit under the controls of a 1280×720 projector
GIF_FRAMES = 16  # kaleido renders ~0.7 s a frame on one core, so a GIF samples the run
EXPORT = importlib.util.find_spec("kaleido") is not None  # PNG/GIF need kaleido and a Chrome/Chromium; CSV never does
LR_FACTORS = (0.5, 0.9, 1.1)  # the one-lane lessons' preset buttons, × 2/λ_max: good, oscillates, diverges
STEP_BUTTONS = ((N_("Back"), "descent_back", -1), (N_("Step 1"), "descent_step1", 1), (N_("Step 10"), "descent_step10", 10))
VIEW = state.DESCENT_VIEW
VIEW_LABELS = {"play": N_("Animation"), "step": N_("Step by step")}
# the race table's columns as shown (core.classroom.step.race_rows keeps English keys; the page translates at display)
RACE_LABELS = {"lane": N_("lane"), "optimizer": N_("optimizer"), "η": "η", "η × curvature": N_("η × curvature"),
               "bowl stretch": N_("bowl stretch"), "predicted": N_("predicted"), "observed": N_("observed"),
               "agrees": N_("agrees"), "status": N_("status")}  # fmt: skip
AGREES = {"yes": N_("yes"), "no": N_("no")}
URL_STATE = {"lesson": state.DESCENT_LESSON, "speed": state.DESCENT_SPEED, "d3": state.DESCENT_3D, "projector": state.DESCENT_PROJECTOR,
             "focus": state.DESCENT_FOCUS, "axes": state.DESCENT_AXES, "view": VIEW}  # fmt: skip
# projector mode: the page's own text (the prompt, captions, the equation) as large as the charts' (core.classroom.contrast)
# and the room for the charts: no sidebar, header or title, so at 1280×720 the charts start above the fold
PROJECTOR_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] { display: none; }
[data-testid="stMainBlockContainer"] { padding-top: 1rem; padding-bottom: 1rem; max-width: 100%; }
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p { font-size: 1.2rem; line-height: 1.4; }
[data-testid="stMainBlockContainer"] [data-testid="stCaptionContainer"] p { font-size: 1.1rem; }
[data-testid="stMainBlockContainer"] .katex-display { font-size: 1.45em; }
[data-testid="stMainBlockContainer"] label [data-testid="stMarkdownContainer"] p { font-size: 1rem; }
</style>"""


def race_columns() -> dict:
    """The race table's column settings, by the labels shown (built per run: the help is in the reader's language)."""
    return {
        _(RACE_LABELS["η × curvature"]): st.column_config.NumberColumn(format="%.3g", help=_(
            "η·λ_max: the rate times the bowl's steepest curvature. Below 1 it settles, 1 to 2 it oscillates, 2 or more it diverges.")),
        _(RACE_LABELS["bowl stretch"]): st.column_config.NumberColumn(format="%.3g", help=_(
            "The condition number λ_max/λ_min: how many times steeper the bowl is across than along. 1 is round.")),
        "η": st.column_config.NumberColumn(_("learning rate η"), format="%.4g"),
    }  # fmt: skip


def race_table(rows: list[dict]) -> pd.DataFrame:
    """race_rows as a person reads them: the labels, lane names, optimizers and outcome words in their language."""
    shown = [{**r, "lane": _(r["lane"]), "optimizer": _(r["optimizer"]), "predicted": outcome_text(r["predicted"]),
              "observed": outcome_text(r["observed"]), "agrees": reads_as(AGREES, r["agrees"]),
              "status": status_label(r["status"])} for r in rows]  # fmt: skip
    return pd.DataFrame(shown).rename(columns={k: _(v) for k, v in RACE_LABELS.items() if k != "η"})


def shown(labels: dict) -> Callable[[Any], str]:
    """A widget's format_func from its labels, translated now, in this run's language: Streamlit may call format_func
    later and elsewhere (AppTest calls it in the test's thread, where the session's language is unknown)."""
    return lambda v: labels.get(v, str(v))


def index(options, key: str) -> int | None:
    """A keyed choice's index= from its setting. Every widget here is drawn with its current setting (value=, index=,
    default=), not Streamlit's default: when a lesson's lanes end at once the page reruns before the browser has drawn
    its widgets, and the browser then sends their defaults (the first lesson, projector off, η = min_value)."""
    options = list(options)
    return options.index(st.session_state[key]) if st.session_state.get(key) in options else None


def share(**settings) -> None:
    """Write settings into the URL (only what changed, so a frame of play sends one key); None removes a key."""
    for k, v in settings_to_url({k: v for k, v in settings.items() if v is not None}).items():
        if st.query_params.get(k) != v:
            st.query_params[k] = v
    for k in (k for k, v in settings.items() if v is None and k in st.query_params):
        del st.query_params[k]


def restore_shared(query: dict[str, str]) -> None:
    """A session's first visit: a shared link sets every control; bad values are skipped."""
    ss = st.session_state
    shared = settings_from_url(query)
    for name, key in URL_STATE.items():
        if name in shared:
            ss[key] = shared[name]
    if "step" in shared and "view" not in shared:  # a link to one epoch opens where that epoch is shown
        ss[VIEW] = "step"
    ss[state.DESCENT_SHARED] = {k: shared[k] for k in ("lr", "step") if k in shared}  # used once the run exists


def dataset_for(lesson: Lesson) -> Dataset:
    """The lesson's preset, or the Data page's dataset if the classroom can draw it (else the page stops with why)."""
    if lesson.preset != DATA_PAGE:
        return lesson_dataset(lesson)
    ds = state.current_dataset()
    if not 1 <= len(ds.features) <= MAX_DATA_FEATURES:
        st.warning(_("This lesson needs a dataset with 1 or {most} features; the Data page's has {n}. Choose another there, or "
                     "another lesson.", most=MAX_DATA_FEATURES, n=len(ds.features)))  # fmt: skip
        st.stop()
    return ds


def start(manager: JobManager, lesson: Lesson, ds: Dataset, surfaces: list[Surface], lrs: list[float]) -> None:
    """Every lane as a job in the worker pool, like the Train page; the classroom replays their records. A run that
    is replaced before it ends is stopped: only what is on screen trains."""
    if (old := st.session_state.get(state.DESCENT_RUN)) is not None and not old.finished:
        for job_id in old.jobs:
            manager.stop(job_id)
    try:
        cfgs = [lane_config(lesson, lane, s, lr=lr) for lane, s, lr in zip(lesson.lanes, surfaces, lrs)]
        jobs = [
            manager.submit(ds, cfg, owner=identity.owner_id(), label=identity.owner_label(), kind="lesson",
                           name=_("lesson · {title} · {lane}", title=_(lesson.title), lane=_(lane.name)))
            for lane, cfg in zip(lesson.lanes, cfgs)
        ]  # fmt: skip
    except ConfigError as e:
        st.error(str(e))
        return
    st.session_state[state.DESCENT_RUN] = LessonRun(data_key(lesson, ds), lrs, [j.id for j in jobs])
    st.session_state[state.DESCENT_STEP] = 0


def train_at(manager: JobManager, lesson: Lesson, ds: Dataset, surfaces: list[Surface], factor: float | None = None) -> None:
    """A new η trains at once: typed (the number input's change) or a preset multiple of the limit (a button)."""
    if factor is not None:
        st.session_state[state.DESCENT_LR] = preset_lr(surfaces[0], factor)
    st.session_state[state.DESCENT_LR] = round_lr(st.session_state[state.DESCENT_LR])  # the η shown is the η trained
    start(manager, lesson, ds, surfaces, [st.session_state[state.DESCENT_LR]])


def lr_controls(manager: JobManager, lesson: Lesson, ds: Dataset, surfaces: list[Surface]) -> None:
    """A one-lane lesson's learning rate: typed, or a preset multiple of the limit. Either trains the lesson again."""
    lr_col, *preset_cols = st.columns([1.3, 1, 1, 1])
    args = (manager, lesson, ds, surfaces)
    lr_col.number_input(_("Learning rate η"), min_value=1e-12, format="%.4g", value=st.session_state[state.DESCENT_LR],
                        key=state.DESCENT_LR, on_change=train_at, args=args,
                        help=_("Type a rate and press Enter: the lesson trains again at it"))  # fmt: skip
    for col, f in zip(preset_cols, LR_FACTORS):
        col.button(_("{factor} × the limit", factor=f), key=f"descent_lr_{f}", on_click=train_at, args=(*args, f), width="stretch",
                   help=f"η = {f} × 2/λ_max = {preset_lr(surfaces[0], f):.4g}")  # fmt: skip


@st.fragment(run_every=POLL_S)
def wait_for_lanes(manager: JobManager, run: LessonRun) -> None:
    """Poll the lanes' jobs; when all have ended, rerun the page to draw the classroom."""
    snaps = [manager.snapshot(j) for j in run.jobs]
    if any(s is None for s in snaps):
        st.error(_("The runs were lost (the server restarted). Pick the lesson again."))
        st.session_state.pop(state.DESCENT_RUN, None)
        return
    if all(s.status in FINAL for s in snaps):
        run.histories = [s.rows for s in snaps]
        run.statuses = [s.status for s in snaps]
        run.errors = [s.error for s in snaps]
        st.rerun()
    done = sum(s.epochs_done for s in snaps)
    total = sum(s.epochs_total for s in snaps)
    text = (
        _("Training 1 lane in the workers… {done:,} of {total:,} epochs", done=done, total=total)
        if len(snaps) == 1
        else _("Training {n} lanes in the workers… {done:,} of {total:,} epochs", n=len(snaps), done=done, total=total)
    )
    st.progress(min(done / max(total, 1), 1.0), text=text)
    if any(s.status == "queued" for s in snaps):
        waiting_note(manager, snaps)


def waiting_note(manager: JobManager, snaps: list) -> None:
    """Why a lesson waits, and the way out when it is the person's own Train run that holds the worker."""
    mine = manager.active_runs(identity.owner_id(), kind="train")
    if mine:
        st.info(_("The lesson waits for a worker: your Train run *{name}* is using it. It starts when that run ends, or now if you "
                  "stop it.", name=md(mine[0].name)))  # fmt: skip
        st.button(_("Stop my Train run"), key="descent_stop_train", on_click=manager.stop, args=(mine[0].id,), icon=":material/stop:")
    else:
        position = min(s.queue_position or 0 for s in snaps if s.status == "queued")
        st.info(_("The lesson waits for a worker: other people's runs are ahead of it (place {position} in the queue).", position=position))


def move(delta: int, n_steps: int) -> None:
    ss = st.session_state
    ss[state.DESCENT_STEP] = int(min(max(ss.get(state.DESCENT_STEP, 0) + delta, 0), n_steps))


def view_controls(n_steps: int) -> str:
    """Animation or Step by step, with the chosen view's own controls beside it (the columns follow the control's value)."""
    view_col, *control_cols = st.columns([1.6, 0.8, 0.8, 0.8] if st.session_state[VIEW] == "step" else [1.6, 2.4])
    view = view_col.segmented_control(
        _("View"), VIEWS, format_func=shown({v: _(VIEW_LABELS[v]) for v in VIEWS}), required=True, key=VIEW, default=st.session_state[VIEW],
        label_visibility="collapsed",
        help=_("Animation: the whole run, played with ▶ Play under the chart. Step by step: one epoch with its numbers."),
    )  # fmt: skip
    share(view=view)
    if view == "step":
        for col, (label, key, delta) in zip(control_cols, STEP_BUTTONS):
            col.button(_(label), key=key, on_click=move, args=(delta, n_steps), width="stretch")
    else:
        control_cols[0].segmented_control(_("Speed"), SPEEDS, key=state.DESCENT_SPEED, default=st.session_state[state.DESCENT_SPEED],
                                          label_visibility="collapsed", required=True, format_func=lambda v: f"{v}/s",
                                          help=_("How many epochs a second ▶ Play shows"))  # fmt: skip
    return view


def choose_axes(names: list[str], projector: bool) -> tuple[int, int]:
    """The two parameters the surfaces are drawn over: a choice once there are more than two (not in projector mode)."""
    pairs = axis_pairs(names)
    if len(pairs) == 1 or projector:
        share(axes=None)
        return 0, 1
    if st.session_state.get(state.DESCENT_AXES) not in pairs:  # e.g. a shared link for another dataset
        st.session_state.pop(state.DESCENT_AXES, None)
    choice = st.selectbox(
        _("Surface over"), list(pairs), key=state.DESCENT_AXES, format_func=shown({p: axis_pair_label(p) for p in pairs}),
        index=index(pairs, state.DESCENT_AXES) or 0,
        help=_("A slice: the other parameter stays at its optimum. The path is the run's projection onto these two axes."),
    )  # fmt: skip
    share(axes=choice)
    return pairs[choice]


def choose_focus(lesson: Lesson, projector: bool) -> int:
    """The lane drawn large (and the one ▶ Play draws on top) in a race: a compact choice in projector mode."""
    if len(lesson.lanes) == 1:
        share(focus=None)
        return 0
    lanes = range(len(lesson.lanes))
    name = shown({i: _(lesson.lanes[i].name) for i in lanes})
    kept = index(lanes, state.DESCENT_FOCUS) or 0
    if projector:
        focus = st.selectbox(
            _("Lane drawn large"), lanes, format_func=name, key=state.DESCENT_FOCUS, index=kept, label_visibility="collapsed"
        )
    else:
        focus = st.radio(_("Lane drawn large"), lanes, format_func=name, horizontal=True, key=state.DESCENT_FOCUS, index=kept)
    focus = min(focus, len(lesson.lanes) - 1)
    share(focus=focus)
    return focus


def place(fig: dict, key: str, projector: bool) -> None:
    plotly_chart(high_contrast(fig) if projector else fig, key=key)


def play_section(room: LessonView, speed: int) -> None:
    """The whole run animated by Plotly in the browser: every lane on the focused lane's surface, three linked panels."""
    shown = play(room, speed, height=PROJECTOR_HEIGHT if room.projector else 720)
    place(shown.figure, key="descent_play_fig", projector=room.projector)
    text = [
        _("▶ Play runs in your browser: the path, the fitted line and the loss marker move together, one frame per epoch "
          "(frames sample the epochs of a long run).")
        if shown.sampled
        else _("▶ Play runs in your browser: the path, the fitted line and the loss marker move together, one frame per epoch."),
        _("Drag the slider under the chart to scrub. For the numbers of one update, switch to *Step by step*."),
    ]  # fmt: skip
    if shown.hidden == 1:
        text.append(_("1 lane runs on a differently scaled surface: pick it under *Lane drawn large*."))
    elif shown.hidden:
        text.append(_("{n} lanes run on differently scaled surfaces: pick them under *Lane drawn large*.", n=shown.hidden))
    st.caption(" ".join(text))


@st.fragment
def step_section(room: LessonView) -> None:
    """Everything that shows one epoch; the timeline slider reruns only this."""
    ss = st.session_state
    ss[state.DESCENT_STEP] = min(int(ss.get(state.DESCENT_STEP, 0)), room.n_steps)
    k = st.slider(_("Epoch"), 0, max(room.n_steps, 1), value=ss[state.DESCENT_STEP], key=state.DESCENT_STEP, persist_state="page",
                  label_visibility="collapsed" if room.projector else "visible")  # fmt: skip
    share(step=k)
    i, surf, path = room.focus, room.surfaces[room.focus], room.paths[room.focus]
    epoch, theta = at_epoch(path, k)  # k clipped to this lane's record

    tall = PROJECTOR_HEIGHT - 120 if room.projector else 520  # the timeline above takes the rest
    surface_col, fit_col = st.columns([1.25, 1])
    with surface_col:
        place(lane_surface_figure(room, i, k, tall), key="descent_surface", projector=room.projector)
    with fit_col:
        if theta is not None:
            predicted = fit_predictions(surf, room.dataset.X, theta)
            place(classroom_fit_figure(room.dataset, predicted, epoch, height=tall // 2), key="descent_fit", projector=room.projector)
        loss_title = _("MSE ({unit})", unit=room.loss_unit(i))
        losses = {_("train loss"): lane_losses(surf.quadratic, path)}
        place(step_loss_figure(losses, epoch, y_title=loss_title, height=tall // 2), key="descent_loss", projector=room.projector)

    if EXPORT:
        st.download_button(_("Surface as PNG"), lambda: figures_png([lane_surface_figure(room, i, k, 520)])[0],
                           f"descent-{room.lesson.key}-epoch{k}.png", "image/png", key="descent_png", on_click="ignore",
                           help=_("The surface chart at this epoch"))  # fmt: skip
    equation_panel(room, i, k)
    if len(room.lesson.lanes) > 1:
        race(room, k)


def equation_panel(room: LessonView, i: int, k: int) -> None:
    """Epoch k's update of lane i with its numbers: ŷ, L, ∂L/∂θ and, for plain gradient descent, the step itself."""
    lane = room.lesson.lanes[i]
    k, theta = at_epoch(room.paths[i], k)
    if theta is None:
        st.warning(_("At epoch {k} the weights are no longer finite numbers: the run diverged.", k=k))
        return
    with st.container(border=True):
        units = _("standardized") if lane.standardize else _("raw")
        st.markdown(_("**The update at epoch {k}** ({lane}; {units} units)", k=k, lane=_(lane.name), units=units))
        for line in equation_lines(room.surfaces[i], theta, room.lrs[i], lane.plain):
            st.latex(line)
        if note := update_note(lane, room.surfaces[i], room.paths[i], room.lrs[i], k):
            st.caption(note)


def race(room: LessonView, k: int) -> None:
    """Every lane small at the same epoch, their relative losses on one chart, and the predictions against the runs."""
    st.subheader(_("The race, in lockstep"))
    lanes = room.lesson.lanes
    for i, (lane, lane_col, (predicted, observed)) in enumerate(zip(lanes, st.columns(len(lanes)), room.labels)):
        said = (f"{outcome_text(predicted)} → {outcome_text(observed)}" if predicted != "—"
                else _("ran: {outcome}", outcome=outcome_text(observed)))  # fmt: skip
        title = f"<b>{_(lane.name)}</b><br>{said}"
        with lane_col:
            place(lane_surface_figure(room, i, k, 340, title=title, compact=True), key=f"descent_lane_{i}", projector=room.projector)
    place(step_loss_figure(race_losses(room), k, y_title=_("loss left (start = 1)")), key="descent_race_loss", projector=room.projector)
    st.caption(_("Loss left: how much of the gap between the starting loss and the best possible loss is still there, "
                 "(L − L*) / (L₀ − L*). 1 at the start, 0 at the best weights, so lanes on different bowls compare."))  # fmt: skip
    colors = {outcome_text(word): color for word, color in LABEL_COLORS.items()}  # the words as shown
    st.dataframe(
        race_table(race_rows(room)).style.map(lambda v: f"color: {colors[v]}" if v in colors else "",
                                              subset=[_(RACE_LABELS["predicted"]), _(RACE_LABELS["observed"])]),
        hide_index=True, width="stretch", column_config=race_columns(),
    )  # fmt: skip
    st.caption(
        _("Predicted for plain full-batch gradient descent from η × curvature: diverges at 2 or more, oscillates between 1 and 2, "
          "slow when |1 − η × curvature|^epochs leaves more than 1% of the start's distance, else converges. Observed from the run's "
          "weights.")
    )  # fmt: skip


def run_gif(room: LessonView) -> bytes:
    """The drawn lane's path on its contours, GIF_FRAMES epochs from start to end (contours even when 3-D is on)."""
    i, name = room.focus, room.lesson.lanes[room.focus].name
    figs = [lane_surface_figure(room, i, k, 440, title=_("{lane} · epoch {k}", lane=_(name), k=k), flat=True)
            for k in gif_epochs(room.n_steps, GIF_FRAMES)]  # fmt: skip
    return gif_from_pngs(figures_png(figs, width=560))


def export_section(room: LessonView, histories: list[dict[str, list]]) -> None:
    with st.expander(_("Export and share")):
        csv_col, gif_col, share_col = st.columns(3)
        csv = pd.DataFrame(history_table(room.lesson, list(room.lrs), histories)).to_csv(index=False)
        csv_col.download_button(_("History as CSV"), csv, f"descent-{room.lesson.key}.csv", "text/csv", key="descent_csv",
                                on_click="ignore", width="stretch",
                                help=_("Every lane's record: weights, loss and learning rate per epoch"))  # fmt: skip
        if EXPORT:
            gif_col.download_button(_("Run as animated GIF"), lambda: run_gif(room), f"descent-{room.lesson.key}.gif", "image/gif",
                                    key="descent_gif", on_click="ignore", width="stretch",
                                    help=_("{frames} frames; takes ~10 s to render", frames=GIF_FRAMES))  # fmt: skip
        else:
            gif_col.caption(_("PNG and GIF export need the kaleido package (`pip install -r requirements.txt`) and Chrome/Chromium."))
        keys = ", ".join(f"`{k}`" for k in URL_KEYS)
        share_col.caption(_("The page's address reproduces every setting above: {keys}. Copy it to share this view.", keys=keys))


ss = st.session_state
manager = job_manager()

if state.DESCENT_SHARED not in ss:
    restore_shared(st.query_params.to_dict())
ss.setdefault(state.DESCENT_LESSON, DEFAULT_LESSON)
ss.setdefault(state.DESCENT_SPEED, DEFAULT_SPEED)
ss.setdefault(VIEW, "play")

big = bool(ss.get(state.DESCENT_PROJECTOR))
if big:
    st.html(PROJECTOR_CSS)
else:
    st.title(_("Gradient descent"))
lesson_col, projector_col, d3_col, focus_col = st.columns([2.2, 1, 1, 1.4] if big else [2.2, 1, 1, 1])
lesson_col.selectbox(_("Lesson"), list(LESSONS), format_func=shown({k: _(x.title) for k, x in LESSONS.items()}),
                     key=state.DESCENT_LESSON,
                     index=index(LESSONS, state.DESCENT_LESSON),
                     label_visibility="collapsed" if big else "visible")  # fmt: skip
big = projector_col.toggle(_("Projector mode"), key=state.DESCENT_PROJECTOR, value=big,
                           help=_("For a class: large type, thick lines, dark on white. Hides the sidebar and the learning-rate "
                                  "controls; turn it off to get them back."))  # fmt: skip
three_d = d3_col.toggle(_("3-D surface"), key=state.DESCENT_3D, value=bool(ss.get(state.DESCENT_3D)), disabled=ss.get(VIEW) == "play",
                        help=_("In Step by step. The animation draws contours, where the path is easiest to follow."))  # fmt: skip
lesson = LESSONS[ss[state.DESCENT_LESSON]]
share(lesson=lesson.key, d3=bool(three_d), projector=bool(big), speed=ss[state.DESCENT_SPEED])
pending = ss[state.DESCENT_SHARED]
ds = dataset_for(lesson)
surfaces = [surface(ds, lane.standardize) for lane in lesson.lanes]
st.info(_("**{title}.** {prompt}", title=_(lesson.title), prompt=_(lesson.prompt)))
class_help = _("The whole room runs this lesson: a join code for the students")
if (
    not big
    and lesson.key in class_lessons()
    and st.button(_("Start a class"), key="descent_class", icon=":material/groups:", help=class_help)
):
    start_class(lesson.key)

run: LessonRun | None = ss.get(state.DESCENT_RUN)
if run is None or run.data_key != data_key(lesson, ds):  # one click on a lesson runs it; a new dataset is a new run
    lrs = [lane_lr(lane, s) for lane, s in zip(lesson.lanes, surfaces)]
    if "lr" in pending and len(lrs) == 1:  # a shared link's learning rate
        lrs = [round_lr(pending.pop("lr"))]
    ss[state.DESCENT_LR] = lrs[0]
    start(manager, lesson, ds, surfaces, lrs)
    run = ss.get(state.DESCENT_RUN)
if run is None:
    st.stop()

if len(lesson.lanes) == 1 and not big:
    ss.setdefault(state.DESCENT_LR, run.lrs[0])  # Streamlit drops the input's state while projector mode hides it
    lr_controls(manager, lesson, ds, surfaces)
if not big:
    limit_text, limit_terms = stability_text(surfaces[0], lesson.lanes[0].standardize)
    st.caption(limit_text, help=limit_terms)

if not run.finished:
    wait_for_lanes(manager, run)
    st.stop()
for lane, err in zip(lesson.lanes, run.errors):
    if err:
        st.error(_("{lane}: {error}", lane=_(lane.name), error=decode(err)))

room = lesson_view(lesson, ds, surfaces, run, projector=big, three_d=three_d)
if "step" in pending:  # a shared link's epoch, once the run it belongs to is on screen
    ss[state.DESCENT_STEP] = min(int(pending.pop("step")), room.n_steps)
share(lr=run.lrs[0] if len(lesson.lanes) == 1 else None)
view = view_controls(room.n_steps)
axes = choose_axes(room.param_names, big)
with focus_col if big else st.container():
    room = replace(room, axes=axes, focus=choose_focus(lesson, big))
if view == "step":
    step_section(room)
else:
    play_section(room, ss[state.DESCENT_SPEED])
export_section(room, run.histories)

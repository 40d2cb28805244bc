"""Gradient descent: the loss surface, the trainer's own path on it and the update equation, at one epoch."""

import importlib.util

import numpy as np
import pandas as pd
import streamlit as st

from core.classroom import LESSONS, surface
from core.classroom.animation import PlayLane, fit_ends, play_figure
from core.classroom.contrast import high_contrast
from core.classroom.figures import LABEL_COLORS, LANE_COLORS, classroom_fit_figure, landscape_figure, step_loss_figure
from core.classroom.landscape import grid_axes, loss_grid
from core.classroom.lessons import (
    DATA_PAGE,
    DEFAULT_LESSON,
    DEFAULT_SPEED,
    MAX_DATA_FEATURES,
    SPEEDS,
    URL_KEYS,
    VIEWS,
    equation,
    history_table,
    labels,
    lane_config,
    lane_lr,
    lesson_dataset,
    path_from_history,
    settings_from_url,
    settings_to_url,
    tex,
)
from core.plotting import figures_png, gif_from_pngs
from core.runs import FINAL
from core.training import ConfigError
from ui import state
from ui.cache import job_manager
from ui.charts import plotly_chart

POLL_S = 0.3  # while the lanes train; they are short
GRID_SIZE = 60  # contour nodes a side: each step view resends the grid (60² ≈ 150 kB of JSON, 120² ≈ 570 kB)
GIF_FRAMES = 16  # kaleido renders ~0.7 s a frame on one core, so a GIF samples the run
EXPORT = importlib.util.find_spec("kaleido") is not None  # PNG/GIF need kaleido and a Chrome/Chromium; CSV never does
VIEW = state.DESCENT_VIEW
VIEW_LABELS = {"play": "▶ Play the run", "step": "Step through, with the equation"}
# projector mode: the page's own text (the prompt, captions, the equation) as large as the charts' (core.classroom.contrast)
PROJECTOR_CSS = """<style>
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p { font-size: 1.35rem; line-height: 1.45; }
[data-testid="stMainBlockContainer"] [data-testid="stCaptionContainer"] p { font-size: 1.1rem; }
[data-testid="stMainBlockContainer"] .katex-display { font-size: 1.45em; }
[data-testid="stMainBlockContainer"] label [data-testid="stMarkdownContainer"] p { font-size: 1rem; }
</style>"""

st.title("Gradient descent")
ss = st.session_state
manager = job_manager()

if state.DESCENT_SHARED not in ss:  # a session's first visit: a shared link sets every control; bad values are skipped
    shared = settings_from_url(st.query_params.to_dict())
    for key, name in ((state.DESCENT_LESSON, "lesson"), (state.DESCENT_SPEED, "speed"), (state.DESCENT_3D, "d3"),
                      (state.DESCENT_PROJECTOR, "projector"), (state.DESCENT_FOCUS, "focus"), (state.DESCENT_AXES, "axes"),
                      (VIEW, "view")):  # fmt: skip
        if name in shared:
            ss[key] = shared[name]
    if "step" in shared and "view" not in shared:  # a link to one epoch opens where that epoch is shown
        ss[VIEW] = "step"
    ss[state.DESCENT_SHARED] = {k: shared[k] for k in ("lr", "step") if k in shared}  # used once the run exists
ss.setdefault(state.DESCENT_LESSON, DEFAULT_LESSON)
ss.setdefault(state.DESCENT_SPEED, DEFAULT_SPEED)
ss.setdefault(VIEW, "play")

top = st.columns([2.2, 1, 1, 1])
top[0].selectbox("Lesson", list(LESSONS), format_func=lambda k: LESSONS[k].title, key=state.DESCENT_LESSON)
big = top[1].toggle("Projector mode", key=state.DESCENT_PROJECTOR, help="Large fonts, thick lines, dark on white, fewer controls")
three_d = top[2].toggle("3-D surface", key=state.DESCENT_3D, disabled=ss.get(VIEW) == "play",
                        help="In Step through. ▶ Play animates the contours, where the path is easiest to follow.")  # fmt: skip
lesson = LESSONS[ss[state.DESCENT_LESSON]]
if big:
    st.html(PROJECTOR_CSS)


def share(**settings) -> None:
    """Write settings into the URL (only what changed, so a frame of play sends one key); None removes a key."""
    for k, v in settings_to_url({k: v for k, v in settings.items() if v is not None}).items():
        if st.query_params.get(k) != v:
            st.query_params[k] = v
    for k in (k for k, v in settings.items() if v is None and k in st.query_params):
        del st.query_params[k]


share(lesson=lesson.key, d3=bool(three_d), projector=bool(big), speed=ss[state.DESCENT_SPEED])
pending = ss[state.DESCENT_SHARED]
if lesson.preset == DATA_PAGE:  # the Data page's dataset, if the classroom can draw it
    ds = state.current_dataset()
    if not 1 <= len(ds.features) <= MAX_DATA_FEATURES:
        st.warning(f"This lesson needs a dataset with 1 or {MAX_DATA_FEATURES} features; the Data page's has {len(ds.features)}. "
                   "Choose another there, or another lesson.")  # fmt: skip
        st.stop()
else:
    ds = lesson_dataset(lesson)
data_key = (lesson.key, ds.name, tuple(ds.features), len(ds.y), float(ds.y.sum()))  # a new dataset is a new run
surfaces = [surface(ds, lane.standardize) for lane in lesson.lanes]
st.info(f"**{lesson.title}.** {lesson.prompt}")


def start(lrs: list[float]) -> None:
    """Every lane as a job in the worker pool, like the Train page; the classroom replays their records."""
    try:
        cfgs = [lane_config(lesson, lane, s, lr=lr) for lane, s, lr in zip(lesson.lanes, surfaces, lrs)]
        jobs = [manager.submit(ds, cfg, owner=state.session_id(), label=state.owner_label()) for cfg in cfgs]
    except ConfigError as e:
        st.error(str(e))
        return
    ss[state.DESCENT_RUN] = {"lesson": lesson.key, "data": data_key, "lrs": lrs, "jobs": [j.id for j in jobs],
                             "histories": None, "status": []}  # fmt: skip
    ss[state.DESCENT_STEP] = 0


def set_lr(factor: float) -> None:
    ss[state.DESCENT_LR] = float(f"{factor * surfaces[0].quadratic.lr_max():.4g}")


run = ss.get(state.DESCENT_RUN)
if run is None or run["lesson"] != lesson.key or run.get("data") != data_key:  # one click on a lesson runs it
    lrs = [lane_lr(lane, s) for lane, s in zip(lesson.lanes, surfaces)]
    if "lr" in pending and len(lrs) == 1:  # a shared link's learning rate
        lrs = [pending.pop("lr")]
    ss[state.DESCENT_LR] = float(f"{lrs[0]:.4g}")
    start(lrs)
    run = ss.get(state.DESCENT_RUN)
if run is None:
    st.stop()

lr_max0 = surfaces[0].quadratic.lr_max()
if len(lesson.lanes) == 1 and not big:
    c = st.columns([1.3, 0.8, 0.8, 0.8, 1])
    c[0].number_input("Learning rate η", min_value=1e-12, format="%.4g", key=state.DESCENT_LR)
    for col, f in zip(c[1:4], (0.5, 0.9, 1.1)):
        col.button(f"{f} × lr_max", key=f"descent_lr_{f}", on_click=set_lr, args=(f,), width="stretch",
                   help=f"η = {f} × 2/λ_max = {f * lr_max0:.4g}")  # fmt: skip
    c[4].button("Run", type="primary", key="descent_run_btn", on_click=lambda: start([float(ss[state.DESCENT_LR])]), width="stretch")
st.caption(
    f"λ_max of the Hessian = {2 / lr_max0:.4g}, so plain gradient descent is stable only for η < 2/λ_max = **{lr_max0:.4g}**"
    f" · condition number λ_max/λ_min = {surfaces[0].quadratic.condition_number():.3g}"
    + (" (standardized units)" if lesson.lanes[0].standardize else " (raw units)")
)


@st.fragment(run_every=POLL_S)
def wait_for_lanes() -> None:
    """Poll the lanes' jobs; when all have ended, rerun the page to draw the classroom."""
    snaps = [manager.snapshot(j) for j in run["jobs"]]
    if any(s is None for s in snaps):
        st.error("The runs were lost (the server restarted). Pick the lesson again.")
        ss.pop(state.DESCENT_RUN, None)
        return
    if all(s.status in FINAL for s in snaps):
        run["histories"] = [s.rows for s in snaps]
        run["status"] = [s.status for s in snaps]
        run["errors"] = [s.error for s in snaps]
        st.rerun()
    done = sum(s.epochs_done for s in snaps)
    total = sum(s.epochs_total for s in snaps)
    st.progress(min(done / max(total, 1), 1.0), text=f"Training {len(snaps)} lane(s) in the workers… {done} of {total} epochs")


if run["histories"] is None:
    wait_for_lanes()
    st.stop()
for lane, err in zip(lesson.lanes, run.get("errors", [])):
    if err:
        st.error(f"{lane.name}: {err}")

start_point = lesson.start or (0.0,) * surfaces[0].quadratic.dim
paths = [path_from_history(h, ds.features, start_point) for h in run["histories"]]
n_steps = max(len(p) for p in paths) - 1
param_names = [f"w:{f}" for f in ds.features] + ["b"]
if "step" in pending:  # a shared link's epoch, once the run it belongs to is on screen
    ss[state.DESCENT_STEP] = min(int(pending.pop("step")), n_steps)
share(lr=run["lrs"][0] if len(lesson.lanes) == 1 else None)
lane_labels = [labels(lesson, lane, s, lr, p, st_) for lane, s, lr, p, st_ in zip(lesson.lanes, surfaces, run["lrs"], paths, run["status"])]


def move(delta: int) -> None:
    ss[state.DESCENT_STEP] = int(min(max(ss.get(state.DESCENT_STEP, 0) + delta, 0), n_steps))


c = st.columns([2.6, 0.8, 0.8, 0.8]) if ss[VIEW] == "step" else st.columns([2.6, 2.4])
view = c[0].segmented_control("View", VIEWS, format_func=VIEW_LABELS.get, required=True, key=VIEW, label_visibility="collapsed",
                              help="Play animates the whole run in the browser; Step through shows one epoch with its numbers")  # fmt: skip
share(view=view)
if view == "step":
    c[1].button("Back", key="descent_back", on_click=move, args=(-1,), width="stretch")
    c[2].button("Step 1", key="descent_step1", on_click=move, args=(1,), width="stretch")
    c[3].button("Step 10", key="descent_step10", on_click=move, args=(10,), width="stretch")
else:
    c[1].select_slider("Speed", SPEEDS, key=state.DESCENT_SPEED, label_visibility="collapsed", format_func=lambda v: f"{v} epochs/s",
                       persist_state="page", help="How fast ▶ Play runs through the epochs")  # fmt: skip

axes = (0, 1)
if len(param_names) > 2 and not big:
    pairs = [(i, j) for i in range(len(param_names)) for j in range(i + 1, len(param_names))]
    options = [f"{param_names[i]} × {param_names[j]}" for i, j in pairs]
    if ss.get(state.DESCENT_AXES) not in options:  # e.g. a shared link for another dataset
        ss.pop(state.DESCENT_AXES, None)
    choice = st.selectbox(
        "Surface over", options, key=state.DESCENT_AXES,
        help="A slice: the other parameter stays at its optimum. The path is the run's projection onto these two axes.",
    )  # fmt: skip
    axes = pairs[[f"{param_names[i]} × {param_names[j]}" for i, j in pairs].index(choice)]
share(axes=ss.get(state.DESCENT_AXES) if len(param_names) > 2 and not big else None)
focus = 0
if len(lesson.lanes) > 1:
    focus = st.radio("Lane drawn large", range(len(lesson.lanes)), format_func=lambda i: lesson.lanes[i].name, horizontal=True,
                     key=state.DESCENT_FOCUS)  # fmt: skip
    focus = min(focus, len(lesson.lanes) - 1)
share(focus=focus if len(lesson.lanes) > 1 else None)


def place(fig: dict, key: str) -> None:
    plotly_chart(high_contrast(fig) if big else fig, key=key)


def surface_fig(i: int, k: int, height: int, title: str = "", compact: bool = False, flat: bool = False) -> dict:
    surf, path = surfaces[i], paths[i]
    q = surf.quadratic
    opt = q.optimum()
    pts = path[:, axes]
    u, v = grid_axes(pts, opt[list(axes)], size=GRID_SIZE)
    Z = loss_grid(q, u, v, axes=axes)
    kk = min(k, len(path) - 1)
    g = q.grad(path[kk]) if np.all(np.isfinite(path[kk])) else None
    arrow = None if g is None else -g[list(axes)]
    return landscape_figure(u, v, Z, pts, kk, opt[list(axes)], axis_titles(i), arrow=arrow, surface3d=three_d and not flat,
                            color=LANE_COLORS[i % len(LANE_COLORS)], height=height, title=title, compact=compact)  # fmt: skip


def lane_losses(i: int) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return surfaces[i].quadratic.loss(paths[i])


def axis_titles(i: int) -> tuple[str, str]:
    return tuple(param_names[a] + (" (std)" if lesson.lanes[i].standardize else "") for a in axes)  # type: ignore[return-value]


def loss_unit(i: int) -> str:
    return "training units, standardized" if lesson.lanes[i].standardize else f"{ds.target}²"


def play_section() -> None:
    """The whole run animated by Plotly in the browser: every lane on the focused lane's surface, three linked panels."""
    group = [i for i, lane in enumerate(lesson.lanes) if lane.standardize == lesson.lanes[focus].standardize and i != focus] + [focus]
    q = surfaces[focus].quadratic
    opt = q.optimum()[list(axes)]
    u, v = grid_axes(np.vstack([paths[i][:, axes] for i in group]), opt, size=GRID_SIZE)
    X = ds.X.to_numpy(dtype=float)
    lanes, x_ends = [], (0.0, 1.0)
    for i in group:
        x_ends, fit = fit_ends(surfaces[i], paths[i], X)
        predicted = lane_labels[i][0]
        name = lesson.lanes[i].name + (f" · predicted: {predicted}" if len(lesson.lanes) > 1 and predicted != "—" else "")
        lanes.append(PlayLane(name, LANE_COLORS[i % len(LANE_COLORS)], paths[i][:, axes], lane_losses(i), fit))
    others = ", ".join(ds.features[1:])
    x_title = ds.features[0] + (f" ({others} at its mean)" if others else "")
    fig = play_figure(u, v, loss_grid(q, u, v, axes=axes), opt, axis_titles(focus), lanes, X[:, 0], ds.y.to_numpy(dtype=float), x_ends,
                      (x_title, ds.target), loss_title=f"MSE ({loss_unit(focus)})", speed=ss[state.DESCENT_SPEED], height=720)  # fmt: skip
    place(fig, key="descent_play_fig")
    hidden = len(lesson.lanes) - len(group)
    st.caption(
        "▶ Play runs in your browser: the path, the fitted line and the loss marker move together, one frame per epoch"
        + (" (frames sample the epochs of a long run)" if n_steps + 1 > len(fig["frames"]) else "")
        + ". Drag the slider under the chart to scrub. For the numbers of one update, switch to *Step through*."
        + (f" {hidden} lane(s) run on a differently scaled surface: pick them under *Lane drawn large*." if hidden else "")
    )


@st.fragment
def classroom() -> None:
    """Everything that shows one epoch; the timeline slider reruns only this."""
    ss[state.DESCENT_STEP] = min(int(ss.get(state.DESCENT_STEP, 0)), n_steps)
    k = st.slider("Epoch", 0, max(n_steps, 1), key=state.DESCENT_STEP, persist_state="page")
    share(step=k)
    i = focus
    surf, path, lr = surfaces[i], paths[i], run["lrs"][i]
    kk = min(k, len(path) - 1)
    theta = path[kk]

    left, right = st.columns([1.25, 1])
    with left:
        place(surface_fig(i, k, 520), key="descent_surface")
    with right:
        if np.all(np.isfinite(theta)):
            coef, intercept = surf.scaler.to_original(theta[:-1], float(theta[-1]))
            predicted = ds.X.to_numpy(dtype=float) @ coef + intercept
            place(classroom_fit_figure(ds, predicted, kk, height=260), key="descent_fit")
        place(step_loss_figure({"train loss": lane_losses(i)}, kk, y_title=f"MSE ({loss_unit(i)})", height=260), key="descent_loss")

    if EXPORT:
        st.download_button("Surface as PNG", lambda: figures_png([surface_fig(i, k, 520)])[0], f"descent-{lesson.key}-epoch{k}.png",
                           "image/png", key="descent_png", on_click="ignore", help="The surface chart at this epoch")  # fmt: skip
    equation_panel(i, kk, theta, lr)
    if len(lesson.lanes) > 1:
        race(k)


def num(v: float, digits: int = 4) -> str:
    """A number for an equation: negatives in brackets, so "+ (−2)" never reads as "+ −2"."""
    return f"({tex(v, digits)})" if v < 0 else tex(v, digits)


def equation_panel(i: int, k: int, theta: np.ndarray, lr: float) -> None:
    lane, surf = lesson.lanes[i], surfaces[i]
    if not np.all(np.isfinite(theta)):
        st.warning(f"At epoch {k} the weights are no longer finite numbers: the run diverged.")
        return
    eq = equation(surf.X, surf.y, theta, lr, row=0)
    x = " + ".join(rf"{num(w)}\cdot {num(xv)}" for w, xv in zip(theta[:-1], eq.x_row))
    lines = [
        rf"\hat y_1 = w\cdot x_1 + b = {x} + {num(theta[-1])} = {tex(eq.yhat_row, 5)} \quad (y_1 = {tex(eq.y_row, 5)})",
        rf"L = \tfrac{{1}}{{n}}\textstyle\sum_i (y_i-\hat y_i)^2 = {tex(eq.loss, 6)} \quad (n = {len(surf.y)})",
    ]
    for j, name in enumerate(param_names):
        sym = "b" if name == "b" else f"w_{{{j + 1}}}"
        feat = "1" if name == "b" else f"x_{{i{j + 1}}}"
        lines.append(
            rf"\frac{{\partial L}}{{\partial {sym}}} = -\tfrac{{2}}{{n}}\textstyle\sum_i (y_i-\hat y_i)\,{feat} = {tex(eq.grad[j], 6)}"
        )
    plain = lane.optimizer == "sgd" and lane.batch_size is None
    if plain:
        for j, name in enumerate(param_names):
            sym = "b" if name == "b" else f"w_{{{j + 1}}}"
            lines.append(rf"{sym} \leftarrow {sym} - \eta\,\frac{{\partial L}}{{\partial {sym}}} = {tex(theta[j], 6)} - {tex(lr, 4)}\times"
                         rf"{num(eq.grad[j], 6)} = {tex(eq.next_theta[j], 6)}")  # fmt: skip
    with st.container(border=True):
        st.markdown(f"**The update at epoch {k}** ({lane.name}; {'standardized' if lane.standardize else 'raw'} units)")
        for line in lines:
            st.latex(line)
        if not plain:
            why = "each epoch takes several mini-batch steps" if lane.batch_size else f"{lane.optimizer} reshapes the step"
            st.caption(f"The gradient above is the full-batch one at this point; the run's own update differs ({why}).")
        elif k + 1 < len(paths[i]):
            st.caption(f"The trainer recorded {', '.join(f'{v:.6g}' for v in paths[i][k + 1])} after this epoch: the same numbers.")


def race(k: int) -> None:
    st.subheader("The race, in lockstep")
    cols = st.columns(len(lesson.lanes))
    for i, lane in enumerate(lesson.lanes):
        predicted, observed = lane_labels[i]
        title = f"<b>{lane.name}</b><br>" + (f"{predicted} → {observed}" if predicted != "—" else f"ran: {observed}")
        with cols[i % len(cols)]:
            place(surface_fig(i, k, 300, title=title, compact=True), key=f"descent_lane_{i}")
    rel = {}
    for i, lane in enumerate(lesson.lanes):
        q, L = surfaces[i].quadratic, lane_losses(i)
        best = float(q.loss(q.optimum()))
        rel[lane.name] = (L - best) / max(L[0] - best, 1e-300)
    place(step_loss_figure(rel, k, y_title="(L − L*) / (L₀ − L*)"), key="descent_race_loss")
    rows = []
    for i, lane in enumerate(lesson.lanes):
        q, lr = surfaces[i].quadratic, run["lrs"][i]
        predicted, observed = lane_labels[i]
        rows.append({"lane": lane.name, "optimizer": lane.optimizer, "η": lr, "η·λ_max": lr * 2 / q.lr_max(),
                     "condition number": q.condition_number(), "predicted": predicted, "observed": observed,
                     "agrees": "—" if predicted == "—" else ("yes" if predicted == observed else "no"),
                     "status": run["status"][i]})  # fmt: skip
    table = pd.DataFrame(rows)
    st.dataframe(
        table.style.format({"η": "{:.4g}", "η·λ_max": "{:.3g}", "condition number": "{:.3g}"}).map(
            lambda v: f"color: {LABEL_COLORS[v]}" if v in LABEL_COLORS else "", subset=["predicted", "observed"]
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption(
        "Predicted for plain full-batch gradient descent from η·λ of the Hessian: diverges at η·λ ≥ 2, oscillates for 1 < η·λ < 2, "
        "slow when |1 − η·λ|^epochs leaves more than 1% of the start's distance, else converges. Observed from the run's weights."
    )


if view == "step":
    classroom()
else:
    play_section()


def run_gif() -> bytes:
    """The drawn lane's path on its contours, GIF_FRAMES epochs from start to end (contours even when 3-D is on)."""
    steps = np.unique(np.linspace(0, n_steps, min(GIF_FRAMES, n_steps + 1)).round().astype(int))
    figs = [surface_fig(focus, int(k), 440, title=f"{lesson.lanes[focus].name} · epoch {k}", flat=True) for k in steps]
    return gif_from_pngs(figures_png(figs, width=560))


with st.expander("Export and share"):
    c = st.columns(3)
    csv = pd.DataFrame(history_table(lesson, run["lrs"], run["histories"])).to_csv(index=False)
    c[0].download_button("History as CSV", csv, f"descent-{lesson.key}.csv", "text/csv", key="descent_csv", on_click="ignore",
                         width="stretch", help="Every lane's record: weights, loss and learning rate per epoch")  # fmt: skip
    if EXPORT:
        c[1].download_button("Run as animated GIF", run_gif, f"descent-{lesson.key}.gif", "image/gif", key="descent_gif",
                             on_click="ignore", width="stretch", help=f"{GIF_FRAMES} frames; takes ~10 s to render")  # fmt: skip
    else:
        c[1].caption("PNG and GIF export need the kaleido package (pip install -r requirements.txt) and Chrome/Chromium.")
    c[2].caption("The page's address reproduces every setting above: " + ", ".join(URL_KEYS) + ". Copy it to share this view.")

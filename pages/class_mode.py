"""Class mode: a room runs one lesson together. Students join with a code, predict, and submit a lane; the teacher's
projector view shows every lane live. Who controls a class is decided by ui.identity.owner_id(), never by the URL."""

import time

import pandas as pd
import streamlit as st

from core.classroom.class_figures import class_landscape, class_losses, drawn_lanes, lr_axis, projector, tally_figure
from core.classroom.class_results import ClassSetup, column, shown_rows, table_csv, table_rows, tally, word
from core.classroom.klass import NICK_MAX, PREDICTIONS, Choice, ClassError, ClassRegistry, Klass
from core.classroom.lessons import LESSONS
from core.i18n import _
from core.runs import JobManager
from core.training import ConfigError
from ui import identity, state
from ui.cache import job_manager
from ui.charts import plotly_chart
from ui.classes import class_registry, earlier_classes, follow, join_link, launcher, qr_png, setup_for
from ui.text import md

POLL_S = 1.0  # the projector: lanes are short, so a second is "live"
STUDENT_POLL_S = 2.0  # a student's summary: thirty of them share the server's core with the projector
SCREENS = {"1280×720": 1.0, "1920×1080": 1.45}  # projector size → chart heights ×
HEIGHTS = {"surface": 400, "loss": 195, "lr": 175}  # px at 1280×720, before high_contrast's ×1.15
PROJECTOR_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] { display: none; }
[data-testid="stMainBlockContainer"] { padding-top: 0.6rem; padding-bottom: 0.5rem; max-width: 100%; }
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p { font-size: 1.15rem; line-height: 1.3; margin-bottom: 0.2rem; }
</style>"""


def refused(e: Exception) -> None:
    """A refused step's message, shown on the next run (callbacks run before the page draws); a LocalizedError's
    Message is kept, so it reads in the language of that run."""
    st.session_state[state.CLASS_ERROR] = getattr(e, "message", None) or str(e)


def join(registry: ClassRegistry, me: str) -> None:
    try:
        klass = registry.join(st.session_state.get("class_join_code", ""), me, st.session_state.get("class_nickname", ""))
    except ClassError as e:
        refused(e)
        return
    open_class(klass.code)


def join_form(registry: ClassRegistry, me: str, code: str = "") -> None:
    """Code and nickname; no account needed."""
    with st.form("class_join", border=True):
        st.text_input(
            _("Class code"),
            value=code,
            key="class_join_code",
            placeholder=_("e.g. {code}", code="K7RM2Q"),
            help=_("Six letters and digits, on the projector"),
        )
        st.text_input(
            _("Your nickname"),
            key="class_nickname",
            help=_("What the class sees next to your lane: up to {most} characters", most=NICK_MAX),
        )
        st.form_submit_button(_("Join"), type="primary", on_click=join, args=(registry, me))


def open_class(code: str) -> None:
    st.session_state[state.CLASS_CODE] = code
    st.query_params["code"] = code


def landing(registry: ClassRegistry, me: str, code: str) -> None:
    st.title(_("Class mode"))
    st.write(_("Join your class with the code on the projector and a nickname."))
    join_form(registry, me, code)
    mine = registry.teaching(me)
    if mine:
        st.caption(_("Your classes on this server:"))
        for k in mine:
            label = _("Open class {code} · {lesson}", code=k.code, lesson=_(k.lesson.title))
            st.button(label, key=f"class_open_{k.code}", on_click=open_class, args=(k.code,))
    st.caption(_("Teachers: open a lesson on the *Gradient descent* page and press **Start a class**."))
    earlier, problem = earlier_classes(me, {k.code for k in mine})
    if problem:
        st.warning(_("Your earlier classes cannot be read from the run store: {problem}", problem=problem))
    if earlier:
        st.subheader(_("Your earlier classes"))
        for saved in earlier:
            lesson = _(LESSONS[saved.lesson].title) if saved.lesson in LESSONS else saved.lesson
            when = time.strftime(_("%b %d, %H:%M"), time.localtime(saved.created_at))
            label = _(
                "Class {code} · {lesson} · {when} · {lanes} lane(s)", code=saved.code, lesson=lesson, when=when, lanes=len(saved.rows)
            )
            # the CSV keeps its English headers and words: it is data, for spreadsheets and scripts in any language
            hint = _(
                "Its table as CSV: every round's nickname, η, prediction, outcome and epochs to converge, with each lane's run id "
                "(the runs are on Runs)"
            )
            st.download_button(label, table_csv(saved.rows), f"class-{saved.code}.csv", "text/csv", key=f"class_saved_{saved.code}",
                               on_click="ignore", icon=":material/download:", help=hint)  # fmt: skip


# -- the teacher ------------------------------------------------------------------------------------------------------
def control(registry: ClassRegistry, step: str, code: str, me: str, *args: object) -> None:
    try:
        getattr(registry, step)(code, me, *args)
    except ClassError as e:
        refused(e)


def teacher_header(klass: Klass, big: bool) -> None:
    link = join_link(klass.code)
    text_col, qr_col, opt_col = st.columns([3, 0.7, 1.3], vertical_alignment="center")
    with text_col:
        heading = _("Join with code **{code}** · {lesson}", code=klass.code, lesson=md(_(klass.lesson.title)))
        st.markdown(("### " if not big else "#### ") + heading)
        st.markdown(_("Open **{link}** or scan the code, then pick a nickname.", link=md(link)))
    qr_col.image(qr_png(link), width=110 if not big else 96)
    with opt_col:
        st.toggle(_("Projector view"), key=state.CLASS_PROJECTOR, value=big, help=_("Large type, no sidebar: for the room's screen"))
        if big:
            st.segmented_control(_("Screen"), list(SCREENS), key=state.CLASS_SCREEN, required=True, label_visibility="collapsed",
                                 default=st.session_state.get(state.CLASS_SCREEN, "1280×720"))  # fmt: skip


@st.fragment(run_every=POLL_S)
def teacher_live(registry: ClassRegistry, manager: JobManager, code: str, me: str, big: bool, scale: float) -> None:
    """Controls, every lane and the tally, live."""
    registry.touch(code)
    try:
        klass = follow(registry, manager, registry.get(code))
    except ClassError as e:
        st.error(str(e))
        return
    setup = setup_for(klass.lesson_key)
    lanes_now = klass.lanes()
    c1, c2, c3, c4, c5 = st.columns([1.2, 1.2, 1, 1.3, 2.3], vertical_alignment="center")
    c1.button(_("Close submissions") if klass.open else _("Open submissions"), key="class_toggle_open", width="stretch",
              on_click=control, args=(registry, "set_open", code, me, not klass.open))  # fmt: skip
    c2.button(_("Hide outcomes") if klass.revealed else _("Reveal outcomes"), key="class_reveal", width="stretch",
              type="secondary" if klass.revealed else "primary",
              on_click=control, args=(registry, "reveal", code, me, not klass.revealed))  # fmt: skip
    c3.button(_("New round"), key="class_round", width="stretch", on_click=control, args=(registry, "new_round", code, me))
    names = sorted({s.nickname for s in lanes_now}, key=str.casefold)
    highlight = c4.selectbox(_("Highlight"), [None, *names], key=state.CLASS_HIGHLIGHT, label_visibility="collapsed",
                             format_func=lambda n: _("highlight a lane…") if n is None else n)  # fmt: skip
    counts = {"round": klass.round, "joined": len(klass.students), "submitted": len(lanes_now), "done": sum(s.ended for s in lanes_now)}
    c5.markdown(
        _("Round {round} · {joined} joined · {submitted} submitted · {done} done · submissions **open**", **counts)
        if klass.open
        else _("Round {round} · {joined} joined · {submitted} submitted · {done} done · submissions **closed**", **counts)
    )

    lanes = drawn_lanes(klass, setup, highlight=highlight)
    place = (lambda fig, key: plotly_chart(projector(fig), key=key)) if big else (lambda fig, key: plotly_chart(fig, key=key))
    left, mid, right = st.columns([1.25, 1.15, 0.7])
    with left:
        place(class_landscape(setup, lanes, klass.revealed, height=round(HEIGHTS["surface"] * scale)), "class_surface")
    with mid:
        place(class_losses(setup, lanes, klass.revealed, height=round(HEIGHTS["loss"] * scale)), "class_losses")
        place(lr_axis(setup, lanes, klass.revealed, height=round(HEIGHTS["lr"] * scale)), "class_lr")
    with right:
        place(tally_figure(tally(klass), height=round(HEIGHTS["surface"] * scale)), "class_tally")

    rows = table_rows(klass, setup, revealed=klass.revealed)
    # the CSV keeps its English headers and words: it is data, for spreadsheets and scripts in any language
    st.download_button(_("Class table as CSV"), table_csv(table_rows(klass, setup)), f"class-{code}.csv", "text/csv", key="class_csv",
                       on_click="ignore", help=_("Nickname, η, prediction, outcome and epochs to converge, every round"))  # fmt: skip
    if rows:
        epochs = "epochs to converge"
        rows = [{**r, epochs: "—" if r[epochs] is None else f"{int(r[epochs]):,}"} for r in rows]  # never "None"
        st.dataframe(
            pd.DataFrame(shown_rows(rows)),
            hide_index=True,
            width="stretch",
            column_config={column("learning rate"): st.column_config.NumberColumn(format="%.4g")},
        )
    with st.expander(_("Moderate and end")):
        roster = sorted(klass.students.values(), key=str.casefold)
        who = st.selectbox(_("Nickname"), roster, index=None, key="class_hide_who", placeholder=_("pick a nickname"))
        hide_col, show_col, end_col = st.columns(3)
        hide_col.button(
            _("Hide this nickname"),
            key="class_hide",
            disabled=who is None,
            on_click=control,
            args=(registry, "hide", code, me, who or "", True),
        )
        show_col.button(
            _("Show it again"),
            key="class_unhide",
            disabled=who is None,
            on_click=control,
            args=(registry, "hide", code, me, who or "", False),
        )
        end_col.button(_("End the class"), key="class_end", on_click=control, args=(registry, "end", code, me),
                       help=_("Submissions stop; the lanes stay as your runs, and the class is kept in the run store"))  # fmt: skip


# -- a student --------------------------------------------------------------------------------------------------------
def submit(registry: ClassRegistry, manager: JobManager, klass: Klass, setup: ClassSetup, me: str) -> None:
    form = st.session_state
    lr = form.get("class_lr")
    choice = Choice(lr=float(lr) if lr is not None else float("nan"), optimizer=form.get("class_optimizer") or "sgd",
                    prediction=form.get("class_prediction") or "", epochs_guess=int(form.get("class_epochs") or 0))  # fmt: skip
    try:
        registry.submit(klass.code, me, choice, setup.lr_range, launcher(manager, klass, setup))
    except (ClassError, ConfigError) as e:
        refused(e)


def submit_form(registry: ClassRegistry, manager: JobManager, klass: Klass, setup: ClassSetup, me: str) -> None:
    lo, hi = setup.lr_range
    with st.form("class_submit", border=True):
        if setup.optimizers:
            st.selectbox(_("Optimizer"), setup.optimizers, key="class_optimizer", format_func=word,
                         help=_("All at η = {lr:.4g}", lr=setup.default_lr))  # fmt: skip
        else:
            st.number_input(_("Learning rate η"), value=setup.default_lr, format="%.4g", key="class_lr",
                            help=_("Between {lo:.4g} and {hi:.4g}", lo=lo, hi=hi))  # fmt: skip
        st.radio(_("Before you submit, predict: this run…"), PREDICTIONS, index=None, key="class_prediction", horizontal=True,
                 format_func=word)  # fmt: skip
        st.number_input(_("…in about how many epochs (until it settles, or blows up)?"), min_value=1, max_value=10_000, value=20, step=1,
                        key="class_epochs")  # fmt: skip
        st.form_submit_button(_("Submit my lane"), type="primary", on_click=submit, args=(registry, manager, klass, setup, me))
    st.caption(_("Your prediction is locked once you submit."))


def my_lane(klass: Klass, setup: ClassSetup, me: str) -> None:
    """The student's own lane on the surface and its loss (drawn on a full run only: a student's poll stays tiny)."""
    mine = klass.lane_of(me)
    own = [x for x in drawn_lanes(klass, setup, student=me) if x.highlight]
    surface_col, loss_col = st.columns(2)
    with surface_col:
        plotly_chart(class_landscape(setup, own, klass.revealed, height=380), key="class_my_surface")
    if mine is None:
        return
    with loss_col:
        plotly_chart(class_losses(setup, own, klass.revealed, height=380), key="class_my_loss")
        if mine.ended and klass.revealed:
            outcome, predicted = word(mine.outcome), word(mine.choice.prediction)
            st.markdown(
                _(
                    "**Your lane {outcome}**, within 1% of the best weights at epoch {epoch}. You predicted: {prediction}.",
                    outcome=outcome,
                    epoch=mine.converged_at,
                    prediction=predicted,
                )
                if mine.converged_at
                else _("**Your lane {outcome}**. You predicted: {prediction}.", outcome=outcome, prediction=predicted)
            )
        elif not mine.ended:
            st.caption(_("Your lane is training…"))
        else:
            st.caption(_("Your lane has run. Wait for your teacher to reveal the outcomes."))


@st.fragment(run_every=STUDENT_POLL_S)
def student_live(registry: ClassRegistry, manager: JobManager, code: str, me: str) -> None:
    """The class summary; a change of round, open or reveal, or the student's lane ending, redraws the whole page."""
    try:
        klass = follow(registry, manager, registry.get(code))
    except ClassError as e:
        st.error(str(e))
        return
    if st.session_state.get(state.CLASS_PHASE) != phase(klass, me):
        st.rerun()
    st.markdown(
        _(
            "**The class:** {joined} joined · {submitted} submitted this round (round {round})",
            joined=len(klass.students),
            submitted=len(klass.lanes()),
            round=klass.round,
        )
    )
    st.dataframe(pd.DataFrame(shown_rows(tally(klass))), hide_index=True)


def phase(klass: Klass, me: str) -> tuple:
    """What the student's form depends on: a change (the teacher closed, revealed, started a round) redraws the page."""
    mine = klass.lane_of(me)
    return klass.round, klass.open, klass.revealed, mine is not None, mine is not None and mine.ended


def student_view(registry: ClassRegistry, manager: JobManager, klass: Klass, me: str) -> None:
    st.session_state[state.CLASS_PHASE] = phase(klass, me)
    nick = klass.students.get(me)
    if nick is None:
        st.title(_("Class {code}", code=klass.code))
        st.write(_("Lesson: **{lesson}**. Pick a nickname to join.", lesson=md(_(klass.lesson.title))))
        join_form(registry, me, klass.code)
        return
    setup = setup_for(klass.lesson_key)
    st.markdown(f"### {md(_(klass.lesson.title))}")
    st.caption(_("You are **{nickname}** in class {code}, round {round}.", nickname=md(nick), code=klass.code, round=klass.round))
    mine = klass.lane_of(me)
    if mine is not None:
        what = _("optimizer {name}", name=word(mine.choice.optimizer)) if setup.optimizers else f"η = {mine.choice.lr:.4g}"
        st.success(
            _(
                "Submitted: {what}. You predicted it **{prediction}** in about {epochs:,} epochs (locked).",
                what=what,
                prediction=word(mine.choice.prediction),
                epochs=mine.choice.epochs_guess,
            )
        )
    elif not klass.open:
        st.info(_("Submissions are closed for now. Wait for your teacher."))
    else:
        submit_form(registry, manager, klass, setup, me)
    my_lane(klass, setup, me)
    student_live(registry, manager, klass.code, me)


# -- the page ---------------------------------------------------------------------------------------------------------
registry, manager = class_registry(), job_manager()
me = identity.owner_id()
if state.CLASS_ERROR in st.session_state:
    st.error(str(st.session_state.pop(state.CLASS_ERROR)))
code = st.query_params.get("code") or st.session_state.get(state.CLASS_CODE, "")  # a link opened wins
try:
    klass = registry.get(code) if code else None
except ClassError as e:
    st.error(str(e))
    st.session_state.pop(state.CLASS_CODE, None)
    klass = None
if klass is None:
    landing(registry, me, st.query_params.get("code", ""))
    st.stop()
st.session_state[state.CLASS_CODE] = klass.code
if st.query_params.get("code") != klass.code:
    st.query_params["code"] = klass.code  # a refresh comes back here; the code lets no one control the class

if registry.is_teacher(klass.code, me):
    big = bool(st.session_state.get(state.CLASS_PROJECTOR))
    if big:
        st.html(PROJECTOR_CSS)
    teacher_header(klass, big)
    teacher_live(registry, manager, klass.code, me, big, SCREENS.get(st.session_state.get(state.CLASS_SCREEN), 1.0) if big else 1.0)
else:
    student_view(registry, manager, klass, me)

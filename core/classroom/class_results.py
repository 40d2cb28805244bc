"""What a class's lanes did: each lane's path and outcome from its trainer record, the tally and the class table.

The rows keep English keys and words (the CSV and the run store are data, read by spreadsheets and by every reader);
shown_rows() puts them in the reader's language where a page shows them.

The numbers come from the same helpers as the lessons (core.classroom.lessons and .landscape), so a lane in a class
is labelled exactly as the same lane in a lesson would be.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.classroom.klass import HIDDEN, OUTCOMES, PREDICTIONS, Choice, ClassRegistry, Klass, Submission, optimizer_lesson
from core.classroom.landscape import CONVERGED_RATIO, observed_lane
from core.classroom.lessons import Lane, Lesson, Surface, lane_config, lane_lr, lesson_dataset, path_from_history, shown_rate, surface
from core.data.dataset import Dataset
from core.i18n import N_, _
from core.runs.classes import SavedClass
from core.runs.job import FINAL, Snapshot
from core.training.config import TrainConfig

LR_RANGE = (0.01, 3.0)  # × the limit 2/λ_max: the η a student may type; beyond 3× every lane just explodes
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a cell starting with one of these as a formula
NOT_REVEALED = N_("(not revealed)")
# the words in the table and the tally as a person reads them: outcomes (a prediction is one of them) and job statuses
WORDS = {
    "converges": N_("converges"), "slow": N_("slow"), "oscillates": N_("oscillates"), "diverges": N_("diverges"),
    "queued": N_("queued"), "running": N_("running"), "paused": N_("paused"), "completed": N_("completed"),
    "stopped": N_("stopped"), "diverged": N_("diverged"), "failed": N_("failed"), NOT_REVEALED: NOT_REVEALED,
    "momentum": N_("momentum"),  # the one optimizer whose name is a word (sgd, nesterov, rmsprop, adam are names)
}  # fmt: skip
COLUMNS = {
    "round": N_("round"), "nickname": N_("nickname"), "learning rate": N_("learning rate"), "optimizer": N_("optimizer"),
    "prediction": N_("prediction"), "epochs guessed": N_("epochs guessed"), "outcome": N_("outcome"),
    "epochs to converge": N_("epochs to converge"), "category": N_("category"), "predicted": N_("students predicting"),
    "observed": N_("lanes observed"), "predicted rightly": N_("predicted rightly"),
}  # fmt: skip
WORD_COLUMNS = ("category", "prediction", "outcome", "optimizer")  # cells holding a word of WORDS; the others: names, numbers


@dataclass(frozen=True, eq=False)
class ClassSetup:
    """A lesson as a class runs it: one data set, one surface, the template lane each student's choice changes."""

    lesson: Lesson
    dataset: Dataset
    surf: Surface
    lane: Lane  # the lesson's first lane: its standardizing and batching hold for every student
    limit: float  # 2/λ_max of the surface: plain gradient descent converges only below it
    lr_range: tuple[float, float]  # what a student may pick
    default_lr: float  # the lesson's own η (its first lane's), where the form starts

    @property
    def start(self) -> np.ndarray:
        return np.asarray(self.lesson.start_point(self.surf.quadratic.dim), dtype=np.float64)

    @property
    def optimizers(self) -> list[str]:
        """The optimizer lesson's choices; [] where students pick η."""
        return [lane.optimizer for lane in self.lesson.lanes] if optimizer_lesson(self.lesson) else []


def class_setup(lesson: Lesson) -> ClassSetup:
    ds = lesson_dataset(lesson)
    lane = lesson.lanes[0]
    surf = surface(ds, lane.standardize)
    limit = surf.quadratic.lr_max()
    lo, hi = (shown_rate(f * limit) for f in LR_RANGE)
    return ClassSetup(lesson, ds, surf, lane, limit, (lo, hi), lane_lr(lane, surf))


def choice_config(setup: ClassSetup, choice: Choice) -> TrainConfig:
    """The trainer's config for a student's lane: the lesson's lane with their η, or their optimizer at the lesson's η."""
    if setup.optimizers:
        lane = next(x for x in setup.lesson.lanes if x.optimizer == choice.optimizer)
        return lane_config(setup.lesson, lane, setup.surf)
    return lane_config(setup.lesson, setup.lane, setup.surf, lr=choice.lr)


def lane_path(setup: ClassSetup, history: dict[str, list]) -> np.ndarray:
    """θ₀ then θ after each recorded epoch (the trainer's own weights)."""
    return path_from_history(history, setup.dataset.features, tuple(setup.start))


def lane_outcome(setup: ClassSetup, history: dict[str, list], status: str) -> tuple[str, int | None]:
    """(outcome, epochs to converge) of an ended lane: observed_lane's word, and the first epoch within
    CONVERGED_RATIO of the start's distance from the optimum (None if it never got there)."""
    path = lane_path(setup, history)
    if len(path) < 2:
        return ("diverges" if status == "diverged" else ""), None
    outcome = observed_lane(setup.surf.quadratic, path, diverged=status == "diverged")
    with np.errstate(over="ignore", invalid="ignore"):
        dist = np.linalg.norm(path - setup.surf.quadratic.optimum(), axis=1)
    close = np.flatnonzero(np.isfinite(dist) & (dist <= CONVERGED_RATIO * dist[0]))
    return outcome, (int(close[0]) if len(close) else None)


def tally(klass: Klass, revealed: bool | None = None) -> list[dict]:
    """Per category, this round: how many predicted it, how many lanes did it, and how many predicted it rightly.
    Outcomes count only once revealed (the teacher's reveal) and the lane has ended."""
    lanes = klass.lanes()
    show = klass.revealed if revealed is None else revealed
    rows = []
    for cat in OUTCOMES:
        predicted = sum(s.choice.prediction == cat for s in lanes)
        if cat not in PREDICTIONS and not (show and any(s.outcome == cat for s in lanes)):
            continue  # "slow" is no one's prediction: listed once a lane is slow
        observed = sum(s.outcome == cat for s in lanes) if show else None
        right = sum(s.outcome == cat == s.choice.prediction for s in lanes) if show else None
        rows.append({"category": cat, "predicted": predicted, "observed": observed, "predicted rightly": right})
    return rows


def table_rows(klass: Klass, setup: ClassSetup, revealed: bool = True) -> list[dict]:
    """The class table, every round: nickname (as shown: hidden ones hidden), η, optimizer, prediction, outcome, epochs."""
    rows = []
    for s in klass.submissions:
        show = revealed or s.round < klass.round
        rows.append({
            "round": s.round, "nickname": klass.shown_name(s.nickname), "learning rate": submission_lr(setup, s),
            **({"optimizer": s.choice.optimizer} if setup.optimizers else {}),
            "prediction": s.choice.prediction, "epochs guessed": s.choice.epochs_guess,
            "outcome": (s.outcome or s.status) if show else NOT_REVEALED,
            "epochs to converge": s.converged_at if show else None,
        })  # fmt: skip
    return rows


def word(value: object) -> object:
    """An outcome, a prediction, a status or an optimizer in the reader's language; anything else (a name, a number) as it is."""
    return _(WORDS[value]) if isinstance(value, str) and value in WORDS else value


def column(name: str) -> str:
    """A column of the table or the tally as its header reads in the reader's language."""
    return _(COLUMNS[name]) if name in COLUMNS else name


def shown_rows(rows: list[dict]) -> list[dict]:
    """Rows of table_rows() or tally() as a page shows them: headers and words translated, a hidden nickname as
    "(hidden)" in the reader's language; nicknames and numbers untouched. The English rows stay the data."""
    out = []
    for row in rows:
        shown = {}
        for key, value in row.items():
            if key in WORD_COLUMNS:
                value = word(value)
            elif key == "nickname" and value == HIDDEN:
                value = _(HIDDEN)
            shown[column(key)] = value
        out.append(shown)
    return out


def submission_lr(setup: ClassSetup, s: Submission) -> float:
    """The η a lane trained at: the student's, or in the optimizer lesson the lesson's own."""
    return setup.default_lr if setup.optimizers else s.choice.lr


def safe_cell(value: object) -> object:
    """A text cell a spreadsheet shows as text: one starting with = + - @ (or a tab) gets a leading apostrophe, so a
    nickname like =HYPERLINK(…) stays a name. Numbers pass as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def table_csv(rows: list[dict]) -> str:
    """The class table as CSV, every text cell guarded against formula injection."""
    out = io.StringIO()
    if rows:
        w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows({k: safe_cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def refresh(registry: ClassRegistry, klass: Klass, setup: ClassSetup, snapshot: Callable[[str], Snapshot | None]) -> int:
    """Pass each unfinished lane's record from its job to the registry, with its outcome once it has ended.
    snapshot: JobManager.snapshot. Returns how many lanes ended just now (the page then saves the class)."""
    ended = 0
    for s in klass.submissions:
        if s.ended:
            continue
        snap = snapshot(s.job_id)
        if snap is None:  # the server forgot the job (a restart): the lane is lost, say so rather than wait for ever
            registry.record(klass.code, s.job_id, "failed", s.history)
            ended += 1
            continue
        done = snap.status in FINAL
        outcome, converged = lane_outcome(setup, snap.rows, snap.status) if done else ("", None)
        registry.record(klass.code, s.job_id, snap.status, snap.rows, outcome, converged)
        ended += done
    return ended


def saved_class(klass: Klass, setup: ClassSetup) -> SavedClass:
    """The class as the run store keeps it: the full table (outcomes included) with each lane's run id."""
    rows = [{"run_id": s.job_id, **row} for s, row in zip(klass.submissions, table_rows(klass, setup, revealed=True))]
    return SavedClass(klass.code, klass.lesson_key, klass.teacher, klass.created_at, rows, klass.ended_at)

"""Class mode: a whole room runs one lesson together. Classes, rosters, predictions, submissions and tallies.

Pure Python with one lock, so every session of one server (held by ui/classes.py with st.cache_resource) sees the
same class, and tests drive it with an injected clock. Control is the teacher's owner id (ui/identity.owner_id: a
login or the browser's cookie), never anything in a URL: the join link carries the code, which only lets a person in
as a student. Training is not done here: submit() is handed a `launch` callable that queues the lane as a job.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from core.classroom.lessons import DATA_PAGE, LESSONS, Lesson
from core.i18n import N_, LocalizedError
from core.runs.job import FINAL

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I: read off a projector from the back row
CODE_LEN = 6  # 32⁶ ≈ 10⁹ codes: guessing a live one is hopeless
NICK_MAX = 30  # characters of a nickname
IDLE_S = 2 * 3600.0  # a class nobody has touched this long ends; its lanes stay as the teacher's runs
ENDED_KEEP_S = 24 * 3600.0  # an ended code is remembered this long, so a late student reads "ended", not "wrong"
PREDICTIONS = ("converges", "oscillates", "diverges")
OUTCOMES = ("converges", "slow", "oscillates", "diverges")  # core.classroom.landscape.LABELS: "slow" = not there yet
HIDDEN = N_("(hidden)")  # a hidden nickname as the table, the CSV and the run store keep it (pages translate it)


class ClassError(LocalizedError, ValueError):
    """A refused step in a class (a wrong code, a taken nickname, a closed class…), with a message a person can act on,
    in the language of whoever reads it (what they typed rides as a parameter)."""


def class_lessons() -> dict[str, Lesson]:
    """The lessons a class can run: every preset lesson (the Data page's dataset is one person's, not the room's)."""
    return {k: lesson for k, lesson in LESSONS.items() if lesson.preset != DATA_PAGE}


def optimizer_lesson(lesson: Lesson) -> bool:
    """Students pick an optimizer (at the lesson's η) rather than a learning rate: the lanes differ by optimizer."""
    return len({lane.optimizer for lane in lesson.lanes}) > 1


def normalize_code(code: str) -> str:
    """What a person typed as a code: case, spaces and dashes do not matter ("abc-123" is "ABC123")."""
    return "".join(str(code).split()).replace("-", "").upper()


def clean_nickname(nickname: str) -> str:
    """A nickname on one line with single spaces, or ClassError when empty or too long."""
    nick = " ".join(str(nickname).split())
    if not nick:
        raise ClassError("Type a nickname: the class sees it next to your lane.")
    if len(nick) > NICK_MAX:
        raise ClassError("A nickname has at most {most} characters; this one has {length}.", most=NICK_MAX, length=len(nick))
    return nick


@dataclass(frozen=True)
class Choice:
    """What a student submits: the rate (or the optimizer, in the optimizer lesson) and the prediction made before."""

    lr: float
    optimizer: str
    prediction: str  # one of PREDICTIONS
    epochs_guess: int  # "about how many epochs" until it settles


@dataclass
class Submission:
    """One student's lane in one round: their choice and, as the job reports, its record and outcome."""

    nickname: str
    student: str  # the student's owner id; shown to no one
    round: int
    choice: Choice
    job_id: str
    submitted_at: float
    status: str = "queued"  # the job's status; one of FINAL once it has ended
    history: dict[str, list] = field(default_factory=dict)  # the trainer's record so far (columnar)
    outcome: str = ""  # one of OUTCOMES once ended (core.classroom.landscape.observed_lane)
    converged_at: int | None = None  # the first epoch within 1% of the start's distance from the optimum

    @property
    def ended(self) -> bool:
        return self.status in FINAL


@dataclass
class Klass:
    """One class: a lesson, its teacher, its roster and every round's submissions."""

    code: str
    lesson_key: str
    teacher: str  # owner id of whoever started it: the only one who may control it
    created_at: float
    last_active: float
    open: bool = True  # submissions accepted
    revealed: bool = False  # outcomes shown to the room
    round: int = 1
    students: dict[str, str] = field(default_factory=dict)  # student owner id → nickname
    submissions: list[Submission] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)  # nicknames the teacher hid (shown as "hidden")
    ended_at: float | None = None

    @property
    def lesson(self) -> Lesson:
        return LESSONS[self.lesson_key]

    def lanes(self, round_: int | None = None) -> list[Submission]:
        """This round's submissions (or another's), oldest first."""
        r = self.round if round_ is None else round_
        return [s for s in self.submissions if s.round == r]

    def lane_of(self, student: str) -> Submission | None:
        """This student's lane in the current round, if they submitted."""
        return next((s for s in self.lanes() if s.student == student), None)

    def shown_name(self, nickname: str) -> str:
        return HIDDEN if nickname.casefold() in self.hidden else nickname

    def copy(self) -> Klass:
        """A copy a page can read while other sessions change the class (the submissions copied one level down)."""
        subs = [replace(s, history={k: list(v) for k, v in s.history.items()}) for s in self.submissions]
        return replace(self, students=dict(self.students), submissions=subs, hidden=set(self.hidden))


class ClassRegistry:
    """Every live class of one server process. Thread-safe: every method takes the lock."""

    def __init__(self, idle_s: float = IDLE_S, clock: Callable[[], float] = time.time, on_end: Callable[[Klass], None] | None = None):
        """on_end(klass): called (outside the lock) for each class that ends, to keep it (core.runs.classes.save_class)."""
        self.idle_s, self._clock, self._on_end = idle_s, clock, on_end
        self._lock = threading.Lock()
        self._live: dict[str, Klass] = {}
        self._ended: dict[str, float] = {}  # code → when it ended

    # -- the teacher --------------------------------------------------------------------------------------------
    def start(self, teacher: str, lesson_key: str) -> Klass:
        """A new class of a lesson with a fresh code, controlled by `teacher` (an owner id)."""
        if lesson_key not in class_lessons():
            raise ClassError("The lesson {lesson!r} cannot run as a class; pick one with its own data.", lesson=lesson_key)
        if not teacher:
            raise ClassError("A class needs a teacher: open it from a browser with cookies on, or log in.")
        self.sweep()
        with self._lock:
            code = self._new_code()
            now = self._clock()
            self._live[code] = Klass(code, lesson_key, teacher, now, now)
            return self._live[code].copy()

    def set_open(self, code: str, who: str, is_open: bool) -> None:
        with self._lock:
            self._control(code, who).open = is_open

    def reveal(self, code: str, who: str, shown: bool = True) -> None:
        with self._lock:
            self._control(code, who).revealed = shown

    def new_round(self, code: str, who: str) -> None:
        """Another round: everyone may submit again; the earlier rounds stay in the table and the store."""
        with self._lock:
            k = self._control(code, who)
            k.round, k.open, k.revealed = k.round + 1, True, False

    def hide(self, code: str, who: str, nickname: str, hidden: bool = True) -> None:
        """Show a nickname as "hidden" everywhere (the projector, the table, the CSV); the lane stays."""
        with self._lock:
            k = self._control(code, who)
            (k.hidden.add if hidden else k.hidden.discard)(nickname.casefold())

    def end(self, code: str, who: str) -> Klass:
        with self._lock:
            k = self._control(code, who)
            self._finish(k)
        self._ended_hook([k])
        return k.copy()

    def is_teacher(self, code: str, who: str) -> bool:
        with self._lock:
            k = self._live.get(normalize_code(code))
            return k is not None and bool(who) and k.teacher == who

    def teaching(self, who: str) -> list[Klass]:
        """The live classes this owner controls, newest first."""
        with self._lock:
            return [k.copy() for k in sorted(self._live.values(), key=lambda k: -k.created_at) if who and k.teacher == who]

    # -- the students -------------------------------------------------------------------------------------------
    def join(self, code: str, student: str, nickname: str) -> Klass:
        """Into the roster under a nickname nobody else in the class has (ignoring case); joining again is a no-op."""
        nick = clean_nickname(nickname)
        with self._lock:
            k = self._find(code)
            if student in k.students:
                if k.students[student].casefold() != nick.casefold():
                    raise ClassError("You are already in this class as {nickname}.", nickname=k.students[student])
                return k.copy()
            if any(n.casefold() == nick.casefold() for n in k.students.values()):
                raise ClassError("Someone in this class is already called {nickname}. Pick another nickname.", nickname=nick)
            k.students[student] = nick
            k.last_active = self._clock()
            return k.copy()

    def submit(self, code: str, student: str, choice: Choice, lr_range: tuple[float, float],
               launch: Callable[[Choice, str], str]) -> Submission:  # fmt: skip
        """Check the choice, then queue the lane: launch(choice, nickname) → the job's id. One submission a round."""
        with self._lock:
            k = self._find(code)
            nick = k.students.get(student)
            if nick is None:
                raise ClassError("Join the class with a nickname first.")
            if not k.open:
                raise ClassError("Submissions are closed. Wait for your teacher to open them (or start a new round).")
            if any(s.student == student for s in k.lanes()):
                raise ClassError("You have already submitted this round; your prediction is locked.")
            check_choice(k.lesson, choice, lr_range)
            job_id = launch(choice, nick)
            sub = Submission(nick, student, k.round, choice, job_id, self._clock())
            k.submissions.append(sub)
            k.last_active = sub.submitted_at
            return replace(sub)

    # -- every session ------------------------------------------------------------------------------------------
    def get(self, code: str) -> Klass:
        """A copy of the live class with this code, or ClassError: a wrong code, or one that has ended."""
        self.sweep()
        with self._lock:
            return self._find(code).copy()

    def record(self, code: str, job_id: str, status: str, history: dict[str, list], outcome: str = "",
               converged_at: int | None = None) -> None:  # fmt: skip
        """A lane's progress as its job reports it (the page that polls passes it on)."""
        with self._lock:
            k = self._live.get(normalize_code(code))
            for s in k.submissions if k else ():
                if s.job_id == job_id and not s.ended:
                    s.status, s.history, s.outcome, s.converged_at = status, history, outcome, converged_at

    def touch(self, code: str) -> None:
        """The teacher's page is open: the class is in use even while nobody submits."""
        with self._lock:
            if (k := self._live.get(normalize_code(code))) is not None:
                k.last_active = self._clock()

    def sweep(self) -> list[Klass]:
        """End classes idle for idle_s (each goes to on_end) and forget codes ended long ago; returns the ended."""
        now = self._clock()
        with self._lock:
            done = [k for k in self._live.values() if now - k.last_active > self.idle_s]
            for k in done:
                self._finish(k)
            for code in [c for c, t in self._ended.items() if now - t > ENDED_KEEP_S]:
                del self._ended[code]
        self._ended_hook(done)
        return done

    # -- inside the lock ----------------------------------------------------------------------------------------
    def _new_code(self) -> str:
        while True:
            code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LEN))
            if code not in self._live and code not in self._ended:
                return code

    def _find(self, code: str) -> Klass:
        c = normalize_code(code)
        if c in self._live:
            return self._live[c]
        if c in self._ended:
            raise ClassError("The class {code} has ended. Ask your teacher for the new code.", code=c)
        if not c:
            raise ClassError("Type the class code your teacher shows (six letters and digits).")
        raise ClassError("No class has the code {code}. Check it against the one your teacher shows (no 0, O, 1 or I in codes).", code=c)

    def _control(self, code: str, who: str) -> Klass:
        k = self._find(code)
        if not who or k.teacher != who:
            raise ClassError("Only the teacher who started this class can do that (from their own browser or login).")
        k.last_active = self._clock()
        return k

    def _finish(self, k: Klass) -> None:
        k.ended_at, k.open = self._clock(), False
        self._live.pop(k.code, None)
        self._ended[k.code] = k.ended_at

    def _ended_hook(self, ended: list[Klass]) -> None:
        for k in ended:
            if self._on_end is not None:
                self._on_end(k)


def check_choice(lesson: Lesson, choice: Choice, lr_range: tuple[float, float]) -> None:
    """ClassError unless the choice is one this lesson takes: η within lr_range (or a lesson optimizer), a prediction."""
    if optimizer_lesson(lesson):
        names = [lane.optimizer for lane in lesson.lanes]
        if choice.optimizer not in names:
            raise ClassError("Pick one of this lesson's optimizers: {names}.", names=", ".join(names))
    else:
        lo, hi = lr_range
        if not (isinstance(choice.lr, (int, float)) and math.isfinite(choice.lr) and lo <= choice.lr <= hi):
            raise ClassError("The learning rate η must be between {lo:.4g} and {hi:.4g} in this lesson.", lo=lo, hi=hi)
    if choice.prediction not in PREDICTIONS:
        raise ClassError("Record your prediction first: converges, oscillates or diverges.")
    if not 1 <= choice.epochs_guess <= 10_000:
        raise ClassError("Guess about how many epochs it takes: a whole number from 1 to 10,000.")

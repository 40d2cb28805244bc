"""The gradient-descent classroom's lessons, lanes and update equation: torch-free, so the page stays light.

A lesson is one dataset and one or more lanes (runs from the same start); the page runs each lane as a job and
draws the trainer's own weight record on the exact loss surface from core.classroom.landscape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.classroom.landscape import Quadratic, observed_lane, predict_lane
from core.data.dataset import Dataset
from core.data.preprocess import Scaler
from core.data.presets import make_dataset
from core.i18n import N_
from core.training.config import TrainConfig

MAX_EPOCHS = 500  # classroom runs are short: every epoch is a frame on the timeline
MAX_ROWS = 1_000  # rows of a preset lesson
# the ravine race's optimizers: each lane is named by its optimizer, marked for the catalogue so a lane's name reads
# in the reader's language (momentum → 动量) wherever it is shown as _(lane.name) or _(lane.optimizer)
RACE_OPTIMIZERS = (N_("sgd"), N_("momentum"), N_("nesterov"), N_("rmsprop"), N_("adam"))
DATA_PAGE = ""  # a lesson's preset: the session's own dataset (ui.state.current_dataset), when it has MAX_DATA_FEATURES or fewer
MAX_DATA_FEATURES = 2  # the surface is over (w, b) or a slice; the path and equation stay readable


@dataclass(frozen=True)
class Lane:
    """One run of a lesson. lr_factor is a multiple of this lane's 2/λ_max; lr, when set, is absolute.
    name is an English catalogue id (N_): show it as _(lane.name); it stays English in a CSV and a run's record."""

    name: str
    optimizer: str = "sgd"
    lr_factor: float = 0.5
    lr: float | None = None
    standardize: bool = False
    batch_size: int | None = None  # None: full batch, one step per epoch

    @property
    def plain(self) -> bool:
        """Plain full-batch gradient descent: one step of −η∇L per epoch, so the equation panel's update is the run's."""
        return self.optimizer == "sgd" and self.batch_size is None


@dataclass(frozen=True)
class Lesson:
    """title and prompt are English catalogue ids (N_): pages show them as _(lesson.title), _(lesson.prompt)."""

    key: str
    title: str
    prompt: str  # what the teacher asks the class before pressing play
    preset: str
    lanes: tuple[Lane, ...]
    n: int = 200
    noise: float = 0.3
    epochs: int = 60
    start: tuple[float, ...] | None = None  # (w…, b) in training units; None: all zeros

    def start_point(self, dim: int) -> tuple[float, ...]:
        """Where every lane starts, for dim parameters (w…, b)."""
        return self.start or (0.0,) * dim


LESSONS: dict[str, Lesson] = {
    x.key: x
    for x in (
        Lesson(
            "good",
            N_("A good learning rate"),
            N_(
                "One feature, y ≈ 2x + 1. The learning rate η is half the limit (the largest rate that still settles). "
                "Predict: how many epochs until the line fits? Does the path head straight for the best weights (the star)? "
                "Then press ▶ Play."
            ),
            "linear_1d",
            (Lane(N_("0.5 × the limit"), lr_factor=0.5),),
            start=(-1.0, -2.0),
        ),
        Lesson(
            "oscillates",
            N_("Too big: oscillates"),
            N_(
                "Same data, η at 0.9 × the limit. Predict: will it still reach the best weights? What shape will the path have, "
                "and will the loss curve notice? Then press ▶ Play."
            ),
            "linear_1d",
            (Lane(N_("0.9 × the limit"), lr_factor=0.9),),
            start=(-1.0, -2.0),
        ),
        Lesson(
            "diverges",
            N_("Way too big: diverges"),
            N_("η at 1.1 × the limit, just past it. Predict: a bit slower, or something else entirely? Then press ▶ Play."),
            "linear_1d",
            (Lane(N_("1.1 × the limit"), lr_factor=1.1),),
            start=(-1.0, -2.0),
            epochs=30,
        ),
        Lesson(
            "lr_race",
            N_("Learning-rate race"),
            N_(
                "Four learning rates from the same start, in lockstep. Each lane is labelled in advance from how its η compares "
                "with the limit; predict which one wins, then press ▶ Play and check the labels against what happens."
            ),
            "linear_1d",
            (
                Lane(N_("0.02 × the limit"), lr_factor=0.02),
                Lane(N_("0.5 × the limit"), lr_factor=0.5),
                Lane(N_("0.9 × the limit"), lr_factor=0.9),
                Lane(N_("1.05 × the limit"), lr_factor=1.05),
            ),
            start=(-1.0, -2.0),
        ),
        Lesson(
            "house",
            N_("House prices, the guide's example"),
            N_(
                "The example of the PyTorch guide this app grew from: price from area and rooms, standardized, SGD with η = 0.01 for "
                "100 epochs. The two features are correlated, so the bowl is a long valley. Predict: does the guide's run reach the "
                "best weights (least squares)? Then press ▶ Play."
            ),
            "house_prices",
            (Lane(N_("the guide's SGD, η 0.01"), lr=0.01, standardize=True),),
            n=1000,
            noise=0.1,
            epochs=100,
        ),
        Lesson(
            "scaling",
            N_("Why scale features"),
            N_(
                "The same house prices, raw and standardized, each at half its own limit. Predict: which contours are round, "
                "and which run reaches the best weights in 100 epochs? Compare how stretched the two bowls are."
            ),
            "house_prices",
            (Lane(N_("raw features"), lr_factor=0.5), Lane(N_("standardized"), lr_factor=0.5, standardize=True)),
            n=1000,
            noise=0.1,
            epochs=100,
        ),
        Lesson(
            "ravine",
            N_("Momentum through a ravine"),
            N_(
                "Standardized house prices: a long narrow valley. Five optimizers, one learning rate, one start. Predict the order "
                "they reach the best weights, and which ones zig-zag, then press ▶ Play."
            ),
            "house_prices",
            tuple(Lane(o, optimizer=o, lr_factor=0.3, standardize=True) for o in RACE_OPTIMIZERS),
            n=1000,
            noise=0.1,
            epochs=80,
            start=(-1.5, 1.5, 0.0),
        ),
        Lesson(
            "data",
            N_("Your data (from the Data page)"),
            N_(
                "The dataset chosen on the Data page (one or two features), standardized, at half the limit. Predict: how round "
                "is the bowl, and how many epochs until the loss flattens? Then press ▶ Play."
            ),
            DATA_PAGE,
            (Lane(N_("0.5 × the limit"), lr_factor=0.5, standardize=True),),
        ),
        Lesson(
            "minibatch",
            N_("Mini-batch noise"),
            N_(
                "The same learning rate with the full batch, batches of 32 and batches of 4. Each point is the weights after one "
                "epoch. Predict: which path is smooth, which one jitters around the best weights? Then press ▶ Play."
            ),
            "linear_1d",
            (
                Lane(N_("full batch"), lr_factor=0.1),
                Lane(N_("batch 32"), lr_factor=0.1, batch_size=32),
                Lane(N_("batch 4"), lr_factor=0.1, batch_size=4),
            ),
            start=(-1.0, -2.0),
            epochs=40,
        ),
    )
}


@dataclass(frozen=True)
class Surface:
    """A lane's data in training units and its exact quadratic: what the optimizer sees."""

    X: np.ndarray  # (n, d), training units
    y: np.ndarray
    scaler: Scaler
    quadratic: Quadratic


def surface(ds: Dataset, standardize: bool) -> Surface:
    """As the trainer sees the data with test_fraction 0: every row, z-scored when standardize (X and y)."""
    X, y = ds.X.to_numpy(dtype=np.float64), ds.y.to_numpy(dtype=np.float64)
    scaler = Scaler.fit(X, y) if standardize else Scaler.identity(X.shape[1])
    Xs, ys = scaler.transform(X, y)
    return Surface(Xs, ys, scaler, Quadratic.from_data(Xs, ys))


def lesson_dataset(lesson: Lesson) -> Dataset:
    return make_dataset(lesson.preset, n=min(lesson.n, MAX_ROWS), noise=lesson.noise, seed=0)


def shown_rate(lr: float) -> float:
    """A multiple of the limit as a rate to 4 significant digits, rounded toward zero: the rate the trainer uses is the
    one the page shows, digit for digit, and a rate meant to sit below a boundary (0.5 × the limit is η·λ_max = 1,
    where oscillation starts) never lands just above it."""
    if not lr > 0:
        return lr
    unit = 10.0 ** (math.floor(math.log10(lr)) - 3)
    return float(f"{math.floor(lr / unit * (1 + 1e-12)) * unit:.4g}")


def lane_lr(lane: Lane, surf: Surface) -> float:
    return lane.lr if lane.lr is not None else shown_rate(lane.lr_factor * surf.quadratic.lr_max())


def data_key(lesson: Lesson, ds: Dataset) -> tuple:
    """What makes a lesson's run stale: another lesson, or another dataset (the Data page's may change under it)."""
    return (lesson.key, ds.name, tuple(ds.features), len(ds.y), float(ds.y.sum()))


@dataclass
class LessonRun:
    """A lesson's lanes as jobs in the worker pool (the page's ui.state.DESCENT_RUN): what was started, then what they recorded."""

    data_key: tuple  # data_key(lesson, ds) when started
    lrs: list[float]  # per lane
    jobs: list[str]  # job ids, per lane
    histories: list[dict[str, list]] | None = None  # the trainers' records, once every lane has ended
    statuses: list[str] = field(default_factory=list)  # per lane, once ended: a core.runs FINAL status
    errors: list[str | None] = field(default_factory=list)  # per lane, once ended

    @property
    def finished(self) -> bool:
        return self.histories is not None


def lane_config(lesson: Lesson, lane: Lane, surf: Surface, lr: float | None = None, epochs: int | None = None) -> TrainConfig:
    """The trainer's config for a lane: full data (the surface is over every row), a given start, CPU (tiny problems)."""
    start = lesson.start_point(surf.quadratic.dim)
    return TrainConfig(
        model="linear",
        optimizer=lane.optimizer,
        lr=float(lr if lr is not None else lane_lr(lane, surf)),
        epochs=min(int(epochs or lesson.epochs), MAX_EPOCHS),
        batch_size=lane.batch_size,
        standardize=lane.standardize,
        test_fraction=0.0,
        init="given",
        init_params=tuple(float(v) for v in start),
        device="cpu",
        seed=0,
    )


def param_names(features: list[str]) -> list[str]:
    """θ's parameters as the trainer's record names them: a weight per feature, then the bias."""
    return [f"w:{f}" for f in features] + ["b"]


def path_from_history(history: dict[str, list], features: list[str], start: tuple[float, ...]) -> np.ndarray:
    """θ₀ (the given start) then θ after each epoch, from the trainer's own record: shape (epochs + 1, d + 1)."""
    cols = param_names(features)
    rows = np.array([history[c] for c in cols], dtype=np.float64).T if history.get("b") else np.empty((0, len(cols)))
    return np.vstack([np.asarray(start, dtype=np.float64)[None, :], rows])


def labels(lesson: Lesson, lane: Lane, surf: Surface, lr: float, path: np.ndarray | None, status: str) -> tuple[str, str]:
    """(predicted, observed). The prediction is for plain full-batch gradient descent; for others it is '—'."""
    start = np.asarray(lesson.start_point(surf.quadratic.dim))
    predicted = predict_lane(surf.quadratic, lr, start, lesson.epochs) if lane.plain else "—"
    observed = observed_lane(surf.quadratic, path, diverged=status == "diverged") if path is not None and len(path) > 1 else ""
    return predicted, observed


@dataclass(frozen=True)
class Equation:
    """One epoch of plain gradient descent with its numbers, in training units."""

    row: int
    x_row: np.ndarray  # the example row's features
    y_row: float
    yhat_row: float  # ŷ = w·x + b for that row
    loss: float  # L = (1/n) Σ (yᵢ − ŷᵢ)²
    grad: np.ndarray  # (∂L/∂w…, ∂L/∂b) = −(2/n) Σ (yᵢ − ŷᵢ)·(xᵢ, 1)
    lr: float
    theta: np.ndarray
    next_theta: np.ndarray  # θ − η·∂L/∂θ


def equation(X: np.ndarray, y: np.ndarray, theta: np.ndarray, lr: float, row: int = 0) -> Equation:
    """The numbers the equation panel shows, straight from the definition (the sign the seed drops included)."""
    X, y, theta = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64), np.asarray(theta, dtype=np.float64)
    w, b = theta[:-1], theta[-1]
    yhat = X @ w + b
    r = y - yhat
    n = len(y)
    grad = np.append(-(2.0 / n) * (X.T @ r), -(2.0 / n) * r.sum())
    return Equation(row, X[row], float(y[row]), float(yhat[row]), float(r @ r / n), grad, lr, theta, theta - lr * grad)


# -- sharing: every setting of the page in the URL ----------------------------------------------------------------
SPEEDS = (2, 5, 10, 15, 20)  # epochs per second while playing (in the browser: core.classroom.animation)
DEFAULT_SPEED = 15  # a frame every 67 ms: smooth, and slow enough to follow
DEFAULT_LESSON = "good"
VIEWS = ("play", "step")  # the run animated in the browser, or one epoch at a time with the update equation
URL_KEYS = ("lesson", "lr", "step", "speed", "d3", "projector", "focus", "axes", "view")
MAX_LR = 1e6  # a typed learning rate above this is a typo, not a lesson


def settings_from_url(query: dict[str, str]) -> dict:
    """The page's settings from query parameters; each invalid or missing value is left out (the page's default wins).

    lesson: a LESSONS key; lr: 0 < η ≤ MAX_LR, one-lane lessons only (a race's rates are the lesson); step: epoch ≥ 0;
    speed: one of SPEEDS; d3, projector: "0"/"1"; focus: a lane index of the lesson; axes: passed on as text, the page
    checks it against the dataset's parameter pairs; view: one of VIEWS.
    """
    out: dict = {}
    lesson = LESSONS.get(str(query.get("lesson", DEFAULT_LESSON)))
    if lesson is None:
        lesson = LESSONS[DEFAULT_LESSON]
    elif "lesson" in query:
        out["lesson"] = lesson.key

    def number(key: str, kind: type, ok) -> None:
        try:
            x = kind(query[key])
        except (KeyError, ValueError, TypeError, OverflowError):
            return
        if ok(x):
            out[key] = x

    if len(lesson.lanes) == 1:
        number("lr", float, lambda x: np.isfinite(x) and 0 < x <= MAX_LR)
    number("step", int, lambda x: 0 <= x <= MAX_EPOCHS)
    number("speed", int, lambda x: x in SPEEDS)
    number("focus", int, lambda x: 0 <= x < len(lesson.lanes))
    for flag in ("d3", "projector"):
        if query.get(flag) in ("0", "1"):
            out[flag] = query[flag] == "1"
    if isinstance(query.get("axes"), str):
        out["axes"] = query["axes"]
    if query.get("view") in VIEWS:
        out["view"] = query["view"]
    return out


def settings_to_url(settings: dict) -> dict[str, str]:
    """The inverse of settings_from_url for the keys present: what the page writes into the URL."""
    fmt = {"lr": lambda x: f"{x:.6g}", "d3": lambda x: "1" if x else "0", "projector": lambda x: "1" if x else "0"}
    return {k: fmt.get(k, str)(v) for k, v in settings.items() if k in URL_KEYS and v is not None}


def history_table(lesson: Lesson, lrs: list[float], histories: list[dict[str, list]]) -> list[dict]:
    """Every lane's trainer record as rows (lane, optimizer, lr, then the record's own columns), for a CSV."""
    rows = []
    for lane, lr, h in zip(lesson.lanes, lrs, histories):
        n = max((len(v) for v in h.values() if isinstance(v, list)), default=0)
        cols = {k: v for k, v in h.items() if isinstance(v, list) and len(v) == n}  # whole-run columns; sparse ones skipped
        for i in range(n):
            rows.append({"lesson": lesson.key, "lane": lane.name, "optimizer": lane.optimizer, "lr": lr,
                         "batch_size": lane.batch_size or "full", "standardize": lane.standardize,
                         **{k: v[i] for k, v in cols.items()}})  # fmt: skip
    return rows


def tex(v: float, digits: int = 6) -> str:
    """A number for KaTeX: 6.4294e+05 becomes 6.4294 × 10⁵ (KaTeX would typeset "e + 05" as a sum)."""
    s = f"{v:.{digits}g}"
    if "e" in s:
        mantissa, exponent = s.split("e")
        s = rf"{mantissa}\times 10^{{{int(exponent)}}}"
    return s

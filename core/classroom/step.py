"""The classroom's numbers at one epoch: the surface view with −∇L, the fit, the update equation and the race.

pages/descent.py only lays these out; every number it shows comes from here, where tests check it against autograd
and the trainer's own record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.classroom.figures import LANE_COLORS, landscape_figure
from core.classroom.landscape import LABELS, Quadratic, grid_axes, loss_grid
from core.classroom.lessons import Lane, Lesson, LessonRun, Surface, equation, labels, param_names, path_from_history, shown_rate, tex
from core.data.dataset import Dataset
from core.i18n import _

GRID_SIZE = 60  # contour nodes a side: each step view resends the grid (60² ≈ 150 kB of JSON, 120² ≈ 570 kB)


@dataclass(frozen=True, eq=False)
class LessonView:
    """A finished lesson as every view draws it: the lanes' surfaces and recorded paths, and the page's choices."""

    lesson: Lesson
    dataset: Dataset
    surfaces: tuple[Surface, ...]  # per lane, in that lane's training units
    paths: tuple[np.ndarray, ...]  # per lane: θ₀ then θ after each epoch, shape (epochs + 1, d + 1)
    lrs: tuple[float, ...]
    statuses: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]  # per lane: (predicted, observed)
    axes: tuple[int, int] = (0, 1)  # the two parameters the surfaces are drawn over
    focus: int = 0  # the lane drawn large
    projector: bool = False  # high contrast (core.classroom.contrast), applied where the page places a figure
    three_d: bool = False  # the step view's surface as a 3-D bowl instead of contours

    @property
    def n_steps(self) -> int:
        """The last epoch any lane recorded (a diverged lane may stop early)."""
        return max(len(p) for p in self.paths) - 1

    @property
    def param_names(self) -> list[str]:
        return param_names(self.dataset.features)

    def axis_titles(self, i: int) -> tuple[str, str]:
        """The surface's two axes in words, in the reader's language."""
        names = [param_label(self.param_names[a]) for a in self.axes]
        if self.lesson.lanes[i].standardize:
            return _("{name} (standardized)", name=names[0]), _("{name} (standardized)", name=names[1])
        return names[0], names[1]

    def loss_unit(self, i: int) -> str:
        return _("training units, standardized") if self.lesson.lanes[i].standardize else f"{self.dataset.target}²"


def lesson_view(
    lesson: Lesson, ds: Dataset, surfaces: list[Surface], run: LessonRun, projector: bool = False, three_d: bool = False
) -> LessonView:
    """A finished run's view: each lane's path from its record and its (predicted, observed) labels; axes and focus
    are chosen on the page once the run's parameters are known (dataclasses.replace)."""
    assert run.histories is not None, "the lanes have not ended yet"
    start = lesson.start_point(surfaces[0].quadratic.dim)
    paths = tuple(path_from_history(h, ds.features, start) for h in run.histories)
    tags = tuple(labels(lesson, *per_lane) for per_lane in zip(lesson.lanes, surfaces, run.lrs, paths, run.statuses))
    return LessonView(lesson, ds, tuple(surfaces), paths, tuple(run.lrs), tuple(run.statuses), tags, projector=projector, three_d=three_d)


# -- the controls' numbers --------------------------------------------------------------------------------------


def round_lr(lr: float) -> float:
    """A learning rate as the number input shows it (4 significant digits), so Run trains on what the class reads."""
    return float(f"{lr:.4g}")


def preset_lr(surf: Surface, factor: float) -> float:
    """factor × 2/λ_max, as a preset button sets it (as a lesson's lane would)."""
    return shown_rate(factor * surf.quadratic.lr_max())


def stability_text(surf: Surface, standardize: bool) -> tuple[str, str]:
    """The caption under the controls in plain words, and its tooltip with the terms a textbook uses."""
    q = surf.quadratic
    lr_max, kappa = q.lr_max(), q.condition_number()
    text = _(
        "**The limit: η < {lr_max:.4g}.** Above it each step overshoots the bottom by more than it started, and the run "
        "diverges. The bowl is {kappa:.3g} times steeper across than along ({units} units).",
        lr_max=lr_max,
        kappa=kappa,
        units=_("standardized") if standardize else _("raw"),
    )
    tip = _(
        "The limit is 2/λ_max, where λ_max = {lam:.4g} is the largest eigenvalue of the loss's Hessian: the curvature "
        "of the bowl in its steepest direction. {kappa:.3g} is the condition number λ_max/λ_min. These hold for plain "
        "full-batch gradient descent on this loss.",
        lam=2 / lr_max,
        kappa=kappa,
    )
    return text, tip


def param_label(name: str) -> str:
    """A parameter as a student reads it: "w:x" is the weight of x, "b" the intercept."""
    return _("weight of {name}", name=name[2:]) if name.startswith("w:") else _("intercept b") if name == "b" else name


def outcome_text(word: str) -> str:
    """An outcome (core.classroom.landscape.LABELS: "converges", …) in the reader's language; "—" and "" as they are."""
    return _(word) if word in LABELS else word


def axis_pairs(names: list[str]) -> dict[str, tuple[int, int]]:
    """Every pair of parameters a surface can be drawn over, by its key ("w:area_m2 × b"): d(d − 1)/2 of them."""
    n = len(names)
    return {f"{names[i]} × {names[j]}": (i, j) for i in range(n) for j in range(i + 1, n)}


def axis_pair_label(key: str) -> str:
    """An axis_pairs key in plain words, for the page's choice."""
    return " × ".join(param_label(name) for name in key.split(" × "))


def gif_epochs(n_steps: int, frames: int) -> list[int]:
    """`frames` epochs evenly from 0 to n_steps (fewer for a short run), first and last included: a GIF samples the run."""
    return [int(k) for k in np.unique(np.linspace(0, n_steps, min(frames, n_steps + 1)).round().astype(int))]


# -- one lane at one epoch ---------------------------------------------------------------------------------------


def at_epoch(path: np.ndarray, k: int) -> tuple[int, np.ndarray | None]:
    """k clipped to the lane's record, and θ there; None once the weights are no longer finite (the run diverged)."""
    k = min(k, len(path) - 1)
    return k, (path[k] if np.all(np.isfinite(path[k])) else None)


def lane_losses(q: Quadratic, path: np.ndarray) -> np.ndarray:
    """The full-data loss at every recorded θ; inf or nan once a diverging run overflows (drawn as a gap)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return q.loss(path)


@dataclass(frozen=True)
class SurfaceView:
    """One lane's loss surface over two parameters and its path there, at one epoch."""

    u: np.ndarray  # the first axis' grid (columns of Z)
    v: np.ndarray  # the second axis' grid (rows of Z)
    Z: np.ndarray  # the loss on the grid, every other parameter at its optimum
    path: np.ndarray  # (epochs + 1, 2): the run on the two axes
    step: int  # the epoch, clipped to the run
    optimum: np.ndarray  # θ* on the two axes
    arrow: np.ndarray | None  # −∇L at the current point on the two axes; None once diverged


def surface_view(surf: Surface, path: np.ndarray, axes: tuple[int, int], k: int, grid_size: int = GRID_SIZE) -> SurfaceView:
    """The grid holds the whole path and the optimum, so the picture does not jump as the epoch moves."""
    q, ax = surf.quadratic, list(axes)
    optimum, pts = q.optimum()[ax], path[:, ax]
    u, v = grid_axes(pts, optimum, size=grid_size)
    k, theta = at_epoch(path, k)
    arrow = None if theta is None else -q.grad(theta)[ax]
    return SurfaceView(u, v, loss_grid(q, u, v, axes=axes), pts, k, optimum, arrow)


def lane_surface_figure(
    view: LessonView, i: int, k: int, height: int, title: str = "", compact: bool = False, flat: bool = False
) -> dict[str, Any]:
    """Lane i's surface figure at epoch k; flat: contours even when the 3-D bowl is on (a GIF frame)."""
    s = surface_view(view.surfaces[i], view.paths[i], view.axes, k)
    return landscape_figure(s.u, s.v, s.Z, s.path, s.step, s.optimum, view.axis_titles(i), arrow=s.arrow,
                            surface3d=view.three_d and not flat, color=LANE_COLORS[i % len(LANE_COLORS)], height=height,
                            title=title, compact=compact)  # fmt: skip


def fit_predictions(surf: Surface, X: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """ŷ for every row of X (original units) from θ in training units: the model's line on the data at this epoch."""
    coef, intercept = surf.scaler.to_original(theta[:-1], float(theta[-1]))
    return np.asarray(X, dtype=np.float64) @ coef + intercept


# -- the update equation ------------------------------------------------------------------------------------------


SHOWN_DIGITS = 6  # significant digits of the largest weight: the equation's results are shown to this absolute precision


def decimals(theta: np.ndarray) -> int:
    """Decimal places that give the largest |θⱼ| SHOWN_DIGITS significant digits: one absolute precision for the whole
    update, so a weight of 1e-16 in float64 and 1e-9 in float32 both read 0.00000 beside a weight of 1.2."""
    top = float(np.max(np.abs(theta[np.isfinite(theta)]), initial=0.0))
    return int(min(max(SHOWN_DIGITS - 1 - (np.floor(np.log10(top)) if top > 0 else 0), 0), 15))


def fixed(v: float, places: int) -> str:
    """v to a number of decimal places, never "-0.000"."""
    s = f"{v:.{places}f}"
    return s[1:] if s.startswith("-") and not s.strip("-0.") else s


def exact(v: float) -> str:
    """v with the shortest digits that are exactly it (η as the trainer used it)."""
    return repr(float(v)).removesuffix(".0")


def checkable(result: str, operands: list[float], combine, preferred: list[str] | None = None) -> list[str]:
    """The operands with just enough digits that combine(the operands as shown) rounds to the shown result the way the
    result is shown: a student who redoes the arithmetic by hand gets the page's number. The preferred strings (the
    operands as the panel shows them elsewhere) are used when they suffice."""
    places = len(result.partition(".")[2])
    tries = ([preferred] if preferred else []) + [[f"{v:.{digits}g}" for v in operands] for digits in range(5, 18)]
    for shown in tries:
        if fixed(combine([float(x) for x in shown]), places) == result:
            return shown
    return [exact(v) for v in operands]


def shown(s: str) -> str:
    """A number as shown, for KaTeX: 1.5e-05 becomes 1.5 × 10⁻⁵ (KaTeX would typeset "e − 05" as a difference)."""
    mantissa, e, exponent = s.partition("e")
    return rf"{mantissa}\times 10^{{{int(exponent)}}}" if e else s


def num(s: str) -> str:
    """A shown number in a sum: negatives in brackets, so "+ (−2)" never reads as "+ −2"."""
    return f"({shown(s)})" if s.startswith("-") else shown(s)


def equation_lines(surf: Surface, theta: np.ndarray, lr: float, plain: bool) -> list[str]:
    """The panel's LaTeX: ŷ for the first row, the loss, each ∂L/∂θⱼ, and (plain gradient descent only) each update.
    ŷ₁ and each update are checkable by hand: their operands carry the digits the shown result needs (checkable)."""
    eq = equation(surf.X, surf.y, theta, lr, row=0)
    d = len(theta) - 1
    syms = [f"w_{{{j + 1}}}" for j in range(d)] + ["b"]
    feats = [f"x_{{i{j + 1}}}" for j in range(d)] + ["1"]
    yhat = fixed(eq.yhat_row, decimals(np.array([eq.yhat_row])))
    operands = checkable(yhat, [*theta[:-1], *eq.x_row, theta[-1]], lambda v: float(np.dot(v[:d], v[d:-1])) + v[-1])
    ops = [num(x) for x in operands]
    terms = " + ".join(rf"{w}\cdot {x}" for w, x in zip(ops[:d], ops[d:-1]))
    lines = [
        rf"\hat y_1 = w\cdot x_1 + b = {terms} + {ops[-1]} = {shown(yhat)} \quad (y_1 = {tex(eq.y_row, 6)})",
        rf"L = \tfrac{{1}}{{n}}\textstyle\sum_i (y_i-\hat y_i)^2 = {tex(eq.loss, 6)} \quad (n = {len(surf.y)})",
    ]
    grads = [fixed(g, decimals(eq.grad)) for g in eq.grad]  # one precision for all: a gradient of 1e-16 reads 0.000000
    for sym, feat, g in zip(syms, feats, grads):
        lines.append(rf"\frac{{\partial L}}{{\partial {sym}}} = -\tfrac{{2}}{{n}}\textstyle\sum_i (y_i-\hat y_i)\,{feat} = {shown(g)}")
    if plain:
        places = decimals(np.append(theta, eq.next_theta))
        for j, sym in enumerate(syms):
            after = fixed(eq.next_theta[j], places)
            before, grad = checkable(after, [theta[j], eq.grad[j]], lambda v: v[0] - lr * v[1], [fixed(theta[j], places), grads[j]])
            lines.append(rf"{sym} \leftarrow {sym} - \eta\,\frac{{\partial L}}{{\partial {sym}}} = {num(before)} - {shown(exact(lr))}\times"
                         rf"{num(grad)} = {shown(after)}")  # fmt: skip
    return lines


def update_note(lane: Lane, surf: Surface, path: np.ndarray, lr: float, k: int) -> str:
    """The caption under the equation: the trainer's own next θ beside the equation's (plain gradient descent), saying
    "the same numbers" only when they read the same; or why the run's step differs."""
    if not lane.plain:
        mini_batch = _("each epoch takes several mini-batch steps")
        why = mini_batch if lane.batch_size else _("{optimizer} reshapes the step", optimizer=_(lane.optimizer))
        return _("The gradient above is the full-batch one at this point; the run's own update differs ({why}).", why=why)
    if k + 1 >= len(path):
        return ""
    ours = equation(surf.X, surf.y, path[k], lr).next_theta
    places = decimals(np.concatenate([path[k], ours]))
    recorded = [fixed(v, places) for v in path[k + 1]]
    if recorded == [fixed(v, places) for v in ours]:
        return _("The trainer recorded {numbers} after this epoch: the same numbers.", numbers=", ".join(recorded))
    return _("The trainer recorded {numbers} after this epoch. The last digits differ from the equation's because the trainer "
             "computes in 32-bit floats (about 7 significant digits) and the equation in 64-bit.", numbers=", ".join(recorded))  # fmt: skip


# -- the race -----------------------------------------------------------------------------------------------------


def relative_losses(q: Quadratic, path: np.ndarray) -> np.ndarray:
    """(L − L*) / (L₀ − L*) per epoch: 1 at the start, 0 at the optimum, so lanes on differently scaled surfaces compare."""
    losses, best = lane_losses(q, path), float(q.loss(q.optimum()))
    with np.errstate(over="ignore", invalid="ignore"):
        return (losses - best) / max(float(losses[0]) - best, 1e-300)


def race_losses(view: LessonView) -> dict[str, np.ndarray]:
    """Every lane's relative loss, by lane name (in the reader's language): the race's loss chart."""
    return {_(lane.name): relative_losses(s.quadratic, p) for lane, s, p in zip(view.lesson.lanes, view.surfaces, view.paths)}


def race_rows(view: LessonView) -> list[dict[str, Any]]:
    """The race's table, a row per lane: its rate against its own λ_max, the prediction and what happened. Keys and
    outcome words are English (tests and code compare them); the page translates the labels and words it shows."""
    rows = []
    for lane, surf, lr, (predicted, observed), status in zip(view.lesson.lanes, view.surfaces, view.lrs, view.labels, view.statuses):
        q = surf.quadratic
        rows.append({"lane": lane.name, "optimizer": lane.optimizer, "η": lr, "η × curvature": lr * 2 / q.lr_max(),
                     "bowl stretch": q.condition_number(), "predicted": predicted, "observed": observed,
                     "agrees": "—" if predicted == "—" else ("yes" if predicted == observed else "no"),
                     "status": status})  # fmt: skip
    return rows

"""The classroom's numbers at one epoch: the surface view with −∇L, the fit, the update equation and the race.

pages/descent.py only lays these out; every number it shows comes from here, where tests check it against autograd
and the trainer's own record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.classroom.figures import LANE_COLORS, landscape_figure
from core.classroom.landscape import Quadratic, grid_axes, loss_grid
from core.classroom.lessons import Lane, Lesson, LessonRun, Surface, equation, labels, param_names, path_from_history, tex
from core.data.dataset import Dataset

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
        names, std = self.param_names, " (std)" if self.lesson.lanes[i].standardize else ""
        return names[self.axes[0]] + std, names[self.axes[1]] + std

    def loss_unit(self, i: int) -> str:
        return "training units, standardized" if self.lesson.lanes[i].standardize else f"{self.dataset.target}²"


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
    """factor × 2/λ_max, as a preset button sets it."""
    return round_lr(factor * surf.quadratic.lr_max())


def stability_text(surf: Surface, standardize: bool) -> str:
    """The page's caption under the controls: λ_max, the stability limit 2/λ_max and the condition number."""
    q = surf.quadratic
    lr_max = q.lr_max()
    return (
        f"λ_max of the Hessian = {2 / lr_max:.4g}, so plain gradient descent is stable only for η < 2/λ_max = **{lr_max:.4g}**"
        f" · condition number λ_max/λ_min = {q.condition_number():.3g}" + (" (standardized units)" if standardize else " (raw units)")
    )


def axis_pairs(names: list[str]) -> dict[str, tuple[int, int]]:
    """Every pair of parameters a surface can be drawn over, by its label ("w:area_m2 × b"): d(d − 1)/2 of them."""
    n = len(names)
    return {f"{names[i]} × {names[j]}": (i, j) for i in range(n) for j in range(i + 1, n)}


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


def num(v: float, digits: int = 4) -> str:
    """A number for an equation: negatives in brackets, so "+ (−2)" never reads as "+ −2"."""
    return f"({tex(v, digits)})" if v < 0 else tex(v, digits)


def equation_lines(surf: Surface, theta: np.ndarray, lr: float, plain: bool) -> list[str]:
    """The panel's LaTeX: ŷ for the first row, the loss, each ∂L/∂θⱼ, and (plain gradient descent only) each update."""
    eq = equation(surf.X, surf.y, theta, lr, row=0)
    d = len(theta) - 1
    syms = [f"w_{{{j + 1}}}" for j in range(d)] + ["b"]
    feats = [f"x_{{i{j + 1}}}" for j in range(d)] + ["1"]
    x = " + ".join(rf"{num(w)}\cdot {num(xv)}" for w, xv in zip(theta[:-1], eq.x_row))
    lines = [
        rf"\hat y_1 = w\cdot x_1 + b = {x} + {num(theta[-1])} = {tex(eq.yhat_row, 5)} \quad (y_1 = {tex(eq.y_row, 5)})",
        rf"L = \tfrac{{1}}{{n}}\textstyle\sum_i (y_i-\hat y_i)^2 = {tex(eq.loss, 6)} \quad (n = {len(surf.y)})",
    ]
    for sym, feat, g in zip(syms, feats, eq.grad):
        lines.append(rf"\frac{{\partial L}}{{\partial {sym}}} = -\tfrac{{2}}{{n}}\textstyle\sum_i (y_i-\hat y_i)\,{feat} = {tex(g, 6)}")
    if plain:
        for j, sym in enumerate(syms):
            lines.append(rf"{sym} \leftarrow {sym} - \eta\,\frac{{\partial L}}{{\partial {sym}}} = {tex(theta[j], 6)} - {tex(lr, 4)}\times"
                         rf"{num(eq.grad[j], 6)} = {tex(eq.next_theta[j], 6)}")  # fmt: skip
    return lines


def update_note(lane: Lane, path: np.ndarray, k: int) -> str:
    """The caption under the equation: the trainer's own next θ (plain gradient descent), or why the run's step differs."""
    if not lane.plain:
        why = "each epoch takes several mini-batch steps" if lane.batch_size else f"{lane.optimizer} reshapes the step"
        return f"The gradient above is the full-batch one at this point; the run's own update differs ({why})."
    if k + 1 < len(path):
        return f"The trainer recorded {', '.join(f'{v:.6g}' for v in path[k + 1])} after this epoch: the same numbers."
    return ""


# -- the race -----------------------------------------------------------------------------------------------------


def relative_losses(q: Quadratic, path: np.ndarray) -> np.ndarray:
    """(L − L*) / (L₀ − L*) per epoch: 1 at the start, 0 at the optimum, so lanes on differently scaled surfaces compare."""
    losses, best = lane_losses(q, path), float(q.loss(q.optimum()))
    with np.errstate(over="ignore", invalid="ignore"):
        return (losses - best) / max(float(losses[0]) - best, 1e-300)


def race_losses(view: LessonView) -> dict[str, np.ndarray]:
    """Every lane's relative loss, by lane name: the race's loss chart."""
    return {lane.name: relative_losses(s.quadratic, p) for lane, s, p in zip(view.lesson.lanes, view.surfaces, view.paths)}


def race_rows(view: LessonView) -> list[dict[str, Any]]:
    """The race's table, a row per lane: its rate against its own λ_max, the prediction and what happened."""
    rows = []
    for lane, surf, lr, (predicted, observed), status in zip(view.lesson.lanes, view.surfaces, view.lrs, view.labels, view.statuses):
        q = surf.quadratic
        rows.append({"lane": lane.name, "optimizer": lane.optimizer, "η": lr, "η·λ_max": lr * 2 / q.lr_max(),
                     "condition number": q.condition_number(), "predicted": predicted, "observed": observed,
                     "agrees": "—" if predicted == "—" else ("yes" if predicted == observed else "no"),
                     "status": status})  # fmt: skip
    return rows

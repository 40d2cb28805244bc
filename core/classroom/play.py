"""The classroom's ▶ Play view assembled from a finished lesson: which lanes share the surface, their names and fits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.classroom.animation import PlayLane, fit_ends, play_figure
from core.classroom.figures import LANE_COLORS
from core.classroom.landscape import grid_axes, loss_grid
from core.classroom.lessons import Lesson
from core.classroom.step import GRID_SIZE, LessonView, lane_losses, outcome_text
from core.data.dataset import Dataset
from core.i18n import _


def play_group(lesson: Lesson, focus: int) -> list[int]:
    """The lanes drawn on the focused lane's surface: those in the same units (raw or standardized), the focus last (on top)."""
    same = lesson.lanes[focus].standardize
    return [i for i, lane in enumerate(lesson.lanes) if lane.standardize == same and i != focus] + [focus]


def lane_name(view: LessonView, i: int) -> str:
    """A race lane's legend name carries its prediction, so the class can check it as the run plays."""
    predicted, name = view.labels[i][0], _(view.lesson.lanes[i].name)
    if len(view.lesson.lanes) > 1 and predicted != "—":
        return _("{lane} · predicted: {outcome}", lane=name, outcome=outcome_text(predicted))
    return name


def fit_x_title(ds: Dataset) -> str:
    """The fit panel's x axis: the first feature; the others are held at their mean (animation.fit_ends)."""
    others = ", ".join(ds.features[1:])
    return _("{feature} ({others} at its mean)", feature=ds.features[0], others=others) if others else ds.features[0]


@dataclass(frozen=True)
class Play:
    figure: dict[str, Any]  # animation.play_figure's: three linked panels with a frame per shown epoch
    hidden: int  # lanes on a differently scaled surface, left out (pick one as the lane drawn large)
    sampled: bool  # the frames sample the epochs of a long run


def play(view: LessonView, speed: float, height: int = 720, grid_size: int = GRID_SIZE) -> Play:
    """Every lane of the focused lane's group on its surface, the grid holding all their paths."""
    group = play_group(view.lesson, view.focus)
    ax = list(view.axes)
    q = view.surfaces[view.focus].quadratic
    optimum = q.optimum()[ax]
    u, v = grid_axes(np.vstack([view.paths[i][:, ax] for i in group]), optimum, size=grid_size)
    ds = view.dataset
    X = ds.X.to_numpy(dtype=float)
    lanes, x_ends = [], (0.0, 1.0)
    for i in group:
        x_ends, fit = fit_ends(view.surfaces[i], view.paths[i], X)
        color = LANE_COLORS[i % len(LANE_COLORS)]
        lanes.append(PlayLane(lane_name(view, i), color, view.paths[i][:, ax], lane_losses(view.surfaces[i].quadratic, view.paths[i]), fit))
    fig = play_figure(u, v, loss_grid(q, u, v, axes=view.axes), optimum, view.axis_titles(view.focus), lanes, X[:, 0],
                      ds.y.to_numpy(dtype=float), x_ends, (fit_x_title(ds), ds.target),
                      loss_title=_("MSE ({unit})", unit=view.loss_unit(view.focus)), speed=speed, height=height)  # fmt: skip
    return Play(fig, len(view.lesson.lanes) - len(group), view.n_steps + 1 > len(fig["frames"]))

"""The class's projector figures: every lane on one contour, every loss curve, the η axis with the limit, the tally.

Thirty lanes stay readable: thin, translucent lines in one colour until the teacher reveals the outcomes (then each in
its outcome's colour), one highlighted lane thick and on top, the optimum starred. Plain dicts, like every figure here.
Built on each page run (never cached), so their words are in the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.classroom.class_results import WORDS, ClassSetup, lane_path, submission_lr
from core.classroom.contrast import LIGHT_SURFACE, high_contrast
from core.classroom.figures import LABEL_COLORS
from core.classroom.klass import HIDDEN, Klass
from core.classroom.landscape import grid_axes, loss_grid
from core.classroom.step import lane_losses
from core.i18n import _
from core.plotting import finite, plain_text

PENDING = "#5a6b80"  # a lane before the reveal: one quiet colour, so no outcome shows early
HIGHLIGHT = "#000000"
LANE_WIDTH = 1.6  # px: 30 of them stay apart on a 1280×720 projector
GRID = 60  # contour nodes a side: the projector resends the grid every frame
LOSS_FLOOR = 1e-12  # loss left below this is float32's noise at the optimum


@dataclass(frozen=True, eq=False)
class DrawnLane:
    """One lane as the projector draws it."""

    name: str  # the nickname as shown (a hidden one reads "(hidden)", in the reader's language)
    path: np.ndarray  # θ₀ then θ per recorded epoch
    lr: float
    outcome: str  # "" while it trains
    highlight: bool = False


def drawn_lanes(klass: Klass, setup: ClassSetup, highlight: str | None = None, student: str | None = None) -> list[DrawnLane]:
    """This round's lanes as drawn: a hidden nickname as "(hidden)"; the highlighted one (by nickname), or the
    student's own (by owner id), thick."""
    return [DrawnLane(_shown(klass, s.nickname), lane_path(setup, s.history), submission_lr(setup, s),
                      s.outcome, highlight=(s.nickname == highlight) or (student is not None and s.student == student))
            for s in klass.lanes()]  # fmt: skip


def _shown(klass: Klass, nickname: str) -> str:
    name = klass.shown_name(nickname)
    return _(HIDDEN) if name == HIDDEN else name


def _color(lane: DrawnLane, revealed: bool) -> str:
    if lane.highlight:
        return HIGHLIGHT
    return LABEL_COLORS.get(lane.outcome, PENDING) if revealed else PENDING


def _ordered(lanes: Sequence[DrawnLane]) -> list[DrawnLane]:
    return sorted(lanes, key=lambda x: x.highlight)  # the highlighted lane last: drawn on top


def class_landscape(setup: ClassSetup, lanes: Sequence[DrawnLane], revealed: bool, height: int = 420) -> dict[str, Any]:
    """Every lane's path on the lesson's contours (the first two parameters; the others at their optimum)."""
    q = setup.surf.quadratic
    opt = q.optimum()
    pts = np.vstack([setup.start[None, :2], *[x.path[:, :2] for x in lanes]]) if lanes else setup.start[None, :2]
    u, v = grid_axes(pts, opt[:2], size=GRID, pad=0.12, clip=2.5)
    Z = loss_grid(q, u, v)
    root = np.sqrt(np.maximum(Z - Z.min(), 0.0))
    traces: list[dict[str, Any]] = [
        {"type": "contour", "x": u.tolist(), "y": v.tolist(), "z": root.tolist(), "colorscale": LIGHT_SURFACE, "ncontours": 14,
         "showscale": False, "contours": {"coloring": "heatmap"}, "line": {"width": 0.8, "color": "rgba(0,0,0,0.3)"}, "hoverinfo": "skip"},
    ]  # fmt: skip
    for lane in _ordered(lanes):
        p = _within(lane.path[:, :2], u, v)
        c = _color(lane, revealed)
        traces.append({"type": "scatter", "mode": "lines", "name": plain_text(lane.name), "x": p[:, 0].tolist(), "y": p[:, 1].tolist(),
                       "line": {"color": c, "width": 4 if lane.highlight else LANE_WIDTH}, "opacity": 1.0 if lane.highlight else 0.7,
                       "meta": {"lane": True},
                       "hovertemplate": f"{plain_text(lane.name)}<br>η = {lane.lr:.4g}<extra></extra>"})  # fmt: skip
    traces.append({"type": "scatter", "mode": "markers", "name": _("start"), "x": [setup.start[0]], "y": [setup.start[1]],
                   "marker": {"size": 10, "color": "#333333", "symbol": "circle-open", "line": {"width": 2}}})  # fmt: skip
    traces.append({"type": "scatter", "mode": "markers", "name": _("optimum (least squares)"), "x": [opt[0]], "y": [opt[1]],
                   "marker": {"size": 18, "symbol": "star", "color": "white", "line": {"color": "black", "width": 1.5}}})  # fmt: skip
    names = [_("weight of {feature}", feature=f) for f in setup.dataset.features] + [_("intercept b")]  # step.param_label's words
    title = (_("{n} lane on the loss surface (★ = best weights)", n=len(lanes)) if len(lanes) == 1
             else _("{n} lanes on the loss surface (★ = best weights)", n=len(lanes)))  # fmt: skip
    return {"data": traces, "layout": {
        "height": height, "margin": {"l": 60, "r": 15, "t": 40, "b": 50}, "showlegend": False,
        "title": {"text": title, "x": 0.01,
                  "font": {"size": 13}},
        "xaxis": {"title": {"text": plain_text(names[0])}, "range": [u[0], u[-1]]},
        "yaxis": {"title": {"text": plain_text(names[1])}, "range": [v[0], v[-1]]},
        "uirevision": "class-landscape"}}  # fmt: skip


def _within(path: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """A path cut where it leaves (a margin of) the window: a diverging lane would drag Plotly's view after it."""
    mu, mv = 2 * (u[-1] - u[0]), 2 * (v[-1] - v[0])
    ok = np.all(np.isfinite(path), axis=1) & (np.abs(path[:, 0] - (u[0] + u[-1]) / 2) < mu) & (np.abs(path[:, 1] - (v[0] + v[-1]) / 2) < mv)
    bad = np.flatnonzero(~ok)
    return path[: bad[0]] if len(bad) else path


def class_losses(setup: ClassSetup, lanes: Sequence[DrawnLane], revealed: bool, height: int = 200) -> dict[str, Any]:
    """Every lane's loss left, (L − L*)/(L₀ − L*), per epoch on a log axis: lanes of any η compare on one chart."""
    q = setup.surf.quadratic
    best, first = float(q.loss(q.optimum())), float(q.loss(setup.start))
    traces = []
    for lane in _ordered(lanes):
        left = (lane_losses(q, lane.path) - best) / max(first - best, 1e-300)
        ys = finite([max(float(x), LOSS_FLOOR) if x < 1e6 else None for x in left])  # at the floor: as good as float32 gets
        traces.append({"type": "scatter", "mode": "lines", "name": plain_text(lane.name), "x": list(range(len(ys))), "y": ys,
                       "line": {"color": _color(lane, revealed), "width": 4 if lane.highlight else LANE_WIDTH},
                       "opacity": 1.0 if lane.highlight else 0.7, "meta": {"lane": True}})  # fmt: skip
    return {"data": traces, "layout": {
        "height": height, "margin": {"l": 60, "r": 15, "t": 35, "b": 45}, "showlegend": False,
        "title": {"text": _("Loss left (start = 1)"), "x": 0.01, "font": {"size": 13}},
        "xaxis": {"title": {"text": _("epoch")}, "rangemode": "tozero"},
        "yaxis": {"type": "log", "exponentformat": "power", "dtick": 4, "range": [-12.5, 6]}, "uirevision": "class-losses"}}  # fmt: skip


def lr_axis(setup: ClassSetup, lanes: Sequence[DrawnLane], revealed: bool, height: int = 200) -> dict[str, Any]:
    """The learning-rate axis (log): the limit 2/λ_max and where oscillation starts (half of it), each student's η a dot
    coloured by its outcome once revealed. Dots with one η stack upwards."""
    lo, hi = setup.lr_range
    limit = setup.limit
    counts: dict[float, int] = {}
    xs, ys, colors, names = [], [], [], []
    for lane in lanes:
        level = counts[lane.lr] = counts.get(lane.lr, 0) + 1
        xs.append(lane.lr)
        ys.append(level)
        colors.append(_color(lane, revealed) if revealed or lane.highlight else PENDING)
        names.append(plain_text(lane.name))
    top = max(counts.values(), default=1) + 1
    band = {"type": "rect", "xref": "x", "yref": "paper", "y0": 0, "y1": 1, "line": {"width": 0}, "layer": "below"}
    shapes = [
        {**band, "x0": lo, "x1": limit / 2, "fillcolor": "rgba(44,160,44,0.10)"},
        {**band, "x0": limit / 2, "x1": limit, "fillcolor": "rgba(148,103,189,0.12)"},
        {**band, "x0": limit, "x1": hi, "fillcolor": "rgba(214,39,40,0.10)"},
        {"type": "line", "xref": "x", "yref": "paper", "x0": limit, "x1": limit, "y0": 0, "y1": 1,
         "line": {"color": "#c00000", "width": 3}},
        {"type": "line", "xref": "x", "yref": "paper", "x0": limit / 2, "x1": limit / 2, "y0": 0, "y1": 1,
         "line": {"color": "#6a00b8", "width": 2, "dash": "dash"}},
    ]  # fmt: skip
    notes = [{"x": np.log10(limit / 2), "y": 0, "xref": "x", "yref": "paper", "text": _("oscillates above"), "showarrow": False,
              "xanchor": "right", "yanchor": "bottom", "xshift": -4, "font": {"size": 12}}]  # fmt: skip
    dots = {"type": "scatter", "mode": "markers", "name": _("students"), "x": xs, "y": ys, "text": names,
            "hovertemplate": "%{text}<br>η = %{x:.4g}<extra></extra>",
            "marker": {"size": 11, "color": colors, "line": {"color": "white", "width": 1}}}  # fmt: skip
    return {"data": [dots], "layout": {
        "height": height, "margin": {"l": 60, "r": 15, "t": 35, "b": 45}, "showlegend": False, "shapes": shapes, "annotations": notes,
        "title": {"text": _("η per student · limit 2/λ_max = {limit:.3g}", limit=limit), "x": 0.01, "font": {"size": 13}},
        "xaxis": {"title": {"text": _("learning rate η")}, "type": "log", "range": [np.log10(lo), np.log10(hi)]},
        "yaxis": {"visible": False, "range": [0, top + 0.5]}, "uirevision": "class-lr"}}  # fmt: skip


def tally_figure(rows: list[dict], height: int = 420) -> dict[str, Any]:
    """Predictions against outcomes per category (core.classroom.class_results.tally): grey bars, then coloured ones.
    Horizontal, so the categories read on a narrow projector column."""
    cats = [r["category"] for r in rows][::-1]  # top to bottom as the table lists them
    shown = [_(WORDS[c]) if c in WORDS else c for c in cats]
    predicted = [r["predicted"] for r in rows][::-1]
    traces = [{"type": "bar", "orientation": "h", "name": _("students predicting"), "y": shown, "x": predicted, "text": predicted,
               "textposition": "outside", "marker": {"color": "#9aa5b1"}}]  # fmt: skip
    if rows and rows[0]["observed"] is not None:
        observed = [r["observed"] for r in rows][::-1]
        traces.append({"type": "bar", "orientation": "h", "name": _("happened"), "y": shown, "x": observed, "text": observed,
                       "textposition": "outside", "marker": {"color": [LABEL_COLORS.get(c, PENDING) for c in cats]}})  # fmt: skip
    top = max([r["predicted"] for r in rows] + [r["observed"] or 0 for r in rows] + [1])
    return {"data": traces, "layout": {
        "height": height, "margin": {"l": 10, "r": 10, "t": 35, "b": 90}, "barmode": "group",
        "title": {"text": _("Predicted vs happened") if len(traces) > 1 else _("Predictions"), "x": 0.01, "font": {"size": 13}},
        "legend": {"orientation": "h", "y": -0.1, "yanchor": "top", "x": 0, "traceorder": "reversed"},  # as the bars stack
        "xaxis": {"range": [0, top * 1.3 + 0.5], "dtick": max(1, top // 4)}, "yaxis": {"automargin": True},
        "uirevision": "class-tally"}}  # fmt: skip


def projector(fig: dict[str, Any]) -> dict[str, Any]:
    """high_contrast for a projector, with the lanes kept thin (its 3 px floor would merge thirty of them) and the η axis's
    bands and limit in their own colours (it draws every shape's outline black)."""
    out = high_contrast(fig, scale=1.3)
    out["layout"]["shapes"] = fig["layout"].get("shapes", [])
    for t, orig in zip(out["data"], fig["data"]):
        if isinstance(orig.get("meta"), dict) and orig["meta"].get("lane"):
            t["line"] = {**t["line"], "width": orig["line"]["width"] * (1.5 if orig["line"]["width"] > LANE_WIDTH else 1.2)}
    return out

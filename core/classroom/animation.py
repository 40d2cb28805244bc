"""The classroom's Play as one Plotly figure with frames, so the browser animates without a server round trip a frame.

Replaying epochs through Streamlit reruns reached ~2 frames/s: each frame was a rerun, a websocket message and a
re-render of every chart. Here the whole run is sent once; Plotly's own "animate" (play/pause buttons and a slider)
steps through the frames in the browser. One figure holds three panels (the path on the loss contours, the fitted
line on the data and the loss curve) and every frame updates all three, so they can never drift apart.
Plain dicts, like core/figures.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.classroom.contrast import scale_color
from core.classroom.lessons import Surface
from core.i18n import _
from core.plotting import plain_text

MAX_FRAMES = 200  # frames a figure carries; longer runs are decimated (first and last epoch always kept)
RAF_SLACK_MS = 8  # half a 60 Hz tick: see frame_ms
DATA_POINTS = 1_000  # data points drawn in the fit panel (static, drawn once)
DIGITS = 5  # significant digits sent to the browser: pixels need ~4, and it halves the JSON
LEVELS = 18  # loss levels drawn, evenly spaced in √(L − L_min) like the step view's contours
VIRIDIS = [[i / 9, c] for i, c in enumerate(("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779",
                                             "#6ece58", "#b5de2b", "#fde725"))]  # fmt: skip


@dataclass(frozen=True)
class PlayLane:
    """One run as the animation needs it. Arrays are indexed by epoch (0 = the start, before any update)."""

    name: str
    color: str
    path: np.ndarray  # (epochs + 1, 2): the weights on the surface's two axes
    loss: np.ndarray  # (epochs + 1,): the full-data loss at each epoch
    fit: np.ndarray  # (epochs + 1, 2): the model's prediction at the fit panel's two x ends


def frame_epochs(n_points: int, max_frames: int = MAX_FRAMES) -> np.ndarray:
    """Which epochs get a frame: all of them, or an even sample of ≤ max_frames that keeps the first and the last."""
    if n_points <= 0:
        return np.zeros(0, dtype=int)
    return np.unique(np.linspace(0, n_points - 1, min(n_points, max(max_frames, 2))).round().astype(int))


def frame_ms(speed: float, stride: float = 1.0) -> int:
    """The duration to ask Plotly for, so frames come every stride/speed seconds (stride: epochs a frame advances).

    Plotly shows the next frame at the first animation tick (60 Hz) after more than `duration` ms, so asking for the
    interval itself lands one tick late (100 ms → 117 ms, 8.6 instead of 10 frames/s); asking RAF_SLACK_MS less does not.
    """
    return max(int(round(1000.0 * stride / max(speed, 1e-9))) - RAF_SLACK_MS, 1)


def fit_ends(surf: Surface, path: np.ndarray, X: np.ndarray) -> tuple[tuple[float, float], np.ndarray]:
    """The model's line on the data at every epoch: ŷ at the first feature's min and max, in original units.

    Other features are held at their mean, so with several features this is the model's slice through the data's centre.
    path: (epochs + 1, d + 1) weights in training units, as the trainer recorded them. Returns ((x_lo, x_hi), (epochs + 1, 2)).
    """
    X = np.asarray(X, dtype=np.float64)
    lo, hi = float(X[:, 0].min()), float(X[:, 0].max())
    ends = np.repeat(X.mean(axis=0)[None, :], 2, axis=0)
    ends[:, 0] = (lo, hi)
    Xs = (ends - surf.scaler.x_mean) / surf.scaler.x_std
    path = np.asarray(path, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        yhat = path[:, :-1] @ Xs.T + path[:, -1:]
        return (lo, hi), surf.scaler.y_mean + surf.scaler.y_std * yhat


def _num(v: float) -> float | None:
    """A finite number rounded to DIGITS significant digits, else None (a gap in a Plotly line)."""
    return float(f"{v:.{DIGITS}g}") if np.isfinite(v) else None


def _nums(values: Sequence[float] | np.ndarray) -> list[float | None]:
    return [_num(float(v)) for v in np.asarray(values, dtype=np.float64).ravel()]


def _in_window(pts: np.ndarray, u: Sequence[float], v: Sequence[float]) -> np.ndarray:
    """Points within a margin of the contour window; a diverging path leaves it and would drag the axes along."""
    mu, mv = 2 * (u[-1] - u[0]), 2 * (v[-1] - v[0])
    with np.errstate(invalid="ignore"):
        ok = np.all(np.isfinite(pts), axis=1)
        return ok & (pts[:, 0] > u[0] - mu) & (pts[:, 0] < u[-1] + mu) & (pts[:, 1] > v[0] - mv) & (pts[:, 1] < v[-1] + mv)


def _quadratic(u: Sequence[float], v: Sequence[float], Z: np.ndarray) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Z over the grid as zc + (p − c)ᵀA(p − c): centre c, 2×2 form A, zc. Exact for a linear model's MSE (a quadratic).

    None when the fit is not a bowl (A not positive definite), e.g. a flat direction.
    """
    U, V = np.meshgrid(np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64))
    su, sv = (u[-1] - u[0]) or 1.0, (v[-1] - v[0]) or 1.0
    x, y = (U.ravel() - u[0]) / su, (V.ravel() - v[0]) / sv  # unit square: a well-conditioned fit at any scale
    z = np.asarray(Z, dtype=np.float64).ravel()
    zs = float(np.abs(z).max()) or 1.0
    coef = np.linalg.lstsq(np.column_stack([np.ones_like(x), x, y, x * x, x * y, y * y]), z / zs, rcond=None)[0]
    a0, bx, by, axx, axy, ayy = coef
    A = np.array([[axx, axy / 2], [axy / 2, ayy]])
    if not np.all(np.isfinite(A)) or np.linalg.eigvalsh(A).min() <= 1e-12 * max(abs(A).max(), 1e-300):
        return None
    c = np.linalg.solve(2 * A, -np.array([bx, by]))
    zc = float(a0 + np.array([bx, by]) @ c + c @ A @ c) * zs
    scale = np.diag([1 / su, 1 / sv])  # back to (u, v): p = p0 + diag(su, sv)·x
    return np.array([u[0], v[0]]) + c * [su, sv], scale @ A @ scale * zs, zc


def _level_traces(u: Sequence[float], v: Sequence[float], Z: np.ndarray) -> list[dict[str, Any]]:
    """The loss surface as filled level sets (ellipses): scatter traces, which survive Plotly's frame-by-frame animation.

    A contour trace cannot be used: a frame redraws only scatter traces and Plotly removes the other layers of that
    subplot, so the surface would vanish at the first frame. Each trace's meta.level (0…1) says where its colour sits on
    the scale, so core.classroom.contrast can recolour it for a projector.
    """
    box = {"x": [u[0], u[-1], u[-1], u[0], u[0]], "y": [v[0], v[0], v[-1], v[-1], v[0]]}
    base = {"type": "scatter", "mode": "lines", "fill": "toself", "hoverinfo": "skip", "showlegend": False, "name": _("loss")}
    out = [{**base, **box, "fillcolor": scale_color(VIRIDIS, 1.0), "line": {"width": 0}, "meta": {"level": 1.0}}]
    fit = _quadratic(u, v, Z)
    if fit is None:
        return out
    c, A, zc = fit
    lam, vecs = np.linalg.eigh(A)
    zmin = float(np.min(Z))
    top = np.sqrt(max(float(np.max(Z)) - zmin, 0.0))
    t = np.linspace(0, 2 * np.pi, 73)
    circle = np.vstack([np.cos(t), np.sin(t)])
    for i in range(LEVELS, 0, -1):  # outermost first: each smaller ellipse paints its band over the last
        level = zmin + (i * top / LEVELS) ** 2
        if level <= zc:
            continue
        pts = c[:, None] + vecs @ (np.sqrt((level - zc) / lam)[:, None] * circle)
        at = (i - 0.5) / LEVELS  # the band inside this ellipse
        out.append({**base, "x": _nums(pts[0]), "y": _nums(pts[1]), "fillcolor": scale_color(VIRIDIS, at),
                    "line": {"width": 0.5, "color": "rgba(255,255,255,0.5)"}, "meta": {"level": at, "loss": level}})  # fmt: skip
    return out


def _log_range(lanes: Sequence[PlayLane]) -> list[float]:
    """The loss panel's log10 range: every finite positive loss, with a little room above and below."""
    all_loss = np.concatenate([np.asarray(lane.loss, dtype=np.float64) for lane in lanes])
    pos = all_loss[np.isfinite(all_loss) & (all_loss > 0)]
    if not len(pos):
        return [-1.0, 1.0]
    lo, hi = np.log10(pos.min()), np.log10(pos.max())
    pad = max(0.05 * (hi - lo), 0.1)
    return [float(lo - pad), float(hi + pad)]


def _frame_traces(
    lanes: Sequence[PlayLane], e: int, shown: np.ndarray, inside: list[np.ndarray], x_ends: tuple[float, float]
) -> list[dict[str, Any]]:
    """The traces that move, at epoch e: per lane the path so far, the current point, the fitted line, the loss so far and its marker.

    The loss curve grows with the path rather than being drawn whole: the class predicts first, so no view shows the future.
    """
    out: list[dict[str, Any]] = []
    upto = shown[shown <= e]
    for lane, ok in zip(lanes, inside):
        k = min(e, len(lane.path) - 1)
        idx = upto[upto < len(lane.path)]
        if not len(idx) or idx[-1] != k:
            idx = np.append(idx, k)
        pts = lane.path[idx].astype(np.float64)
        pts[~ok[idx]] = np.nan  # off the map: a gap, not a line to infinity
        now = lane.path[k] if ok[k] else (np.nan, np.nan)
        with np.errstate(invalid="ignore"):
            loss = np.where(np.asarray(lane.loss, dtype=np.float64)[idx] > 0, lane.loss[idx], np.nan)  # log axis: > 0 only
        out += [
            {"x": _nums(pts[:, 0]), "y": _nums(pts[:, 1])},
            {"x": _nums([now[0]]), "y": _nums([now[1]])},
            {"x": list(x_ends), "y": _nums(lane.fit[k])},
            {"x": idx.tolist(), "y": _nums(loss)},
            {"x": [k], "y": _nums(loss[-1:])},
        ]
    return out


def _decade_step(log_range: list[float], panel_px: float) -> int | str:
    """Labels on a log axis: every decade, or every few when a short panel (a projector's) would stack them; 2s and
    5s only within a small range."""
    decades = log_range[1] - log_range[0]
    if decades <= 2.5:
        return "D2"
    return max(1, int(np.ceil(decades / max(panel_px / 32, 1))))  # ≥ 32 px a label: 18 px type on a projector


def play_figure(
    u: Sequence[float],
    v: Sequence[float],
    Z: np.ndarray,
    optimum: Sequence[float],
    axis_titles: tuple[str, str],
    lanes: Sequence[PlayLane],
    data_x: Sequence[float],
    data_y: Sequence[float],
    x_ends: tuple[float, float],
    data_titles: tuple[str, str],
    loss_title: str | None = None,
    fit_title: str | None = None,
    speed: float = 15.0,
    max_frames: int = MAX_FRAMES,
    height: int = 620,
) -> dict[str, Any]:
    """The run as an animation: contours with each lane's path (left), the fit on the data and the loss curve (right).

    u, v, Z: the loss on a grid (Z[row = v, col = u]), drawn as filled level sets.
    lanes: drawn in order, so put the one to watch last (on top).
    speed: epochs per second while playing. Frames are decimated to ≤ max_frames; a frame's path keeps every shown epoch.
    loss_title, fit_title: None for the plain words, in the reader's language.
    """
    Z = np.asarray(Z, dtype=np.float64)
    axis_titles, data_titles = tuple(map(plain_text, axis_titles)), tuple(map(plain_text, data_titles))  # names a person typed
    loss_title = plain_text(_("loss") if loss_title is None else loss_title)
    fit_title = _("Fit on the data") if fit_title is None else fit_title
    n_points = max(len(lane.path) for lane in lanes)
    shown = frame_epochs(n_points, max_frames)
    stride = (n_points - 1) / max(len(shown) - 1, 1)
    duration = frame_ms(speed, stride)
    inside = [_in_window(np.asarray(lane.path, dtype=np.float64), u, v) for lane in lanes]
    loss_range = _log_range(lanes)
    sample = np.unique(np.linspace(0, len(data_x) - 1, min(len(data_x), DATA_POINTS)).round().astype(int)) if len(data_x) else []

    data_name = _("data")
    static: list[dict[str, Any]] = [
        *_level_traces(u, v, Z),
        {"type": "scatter", "mode": "markers", "name": _("optimum (least squares)"), "x": _nums([optimum[0]]),
         "y": _nums([optimum[1]]), "marker": {"size": 16, "symbol": "star", "color": "white", "line": {"color": "black", "width": 1.5}}},
        {"type": "scatter", "mode": "markers", "name": data_name, "x": _nums(np.asarray(data_x)[sample]),
         "y": _nums(np.asarray(data_y)[sample]), "xaxis": "x2", "yaxis": "y2", "showlegend": False,
         "marker": {"size": 5, "opacity": 0.45, "color": "#4c78a8"}, "hovertemplate": "%{x:.4g}, %{y:.4g}<extra>" + data_name + "</extra>"},
    ]  # fmt: skip
    moving_style: list[dict[str, Any]] = []
    for lane in lanes:
        moving_style += [
            {"type": "scatter", "mode": "lines+markers", "name": lane.name, "legendgroup": lane.name,
             "line": {"color": lane.color, "width": 2}, "marker": {"size": 5, "color": lane.color}},
            {"type": "scatter", "mode": "markers", "name": lane.name, "legendgroup": lane.name, "showlegend": False,
             "marker": {"size": 13, "color": lane.color, "line": {"color": "white", "width": 2}}},
            {"type": "scatter", "mode": "lines", "name": lane.name, "legendgroup": lane.name, "showlegend": False,
             "xaxis": "x2", "yaxis": "y2", "line": {"color": lane.color, "width": 3}},
            {"type": "scatter", "mode": "lines", "name": lane.name, "legendgroup": lane.name, "showlegend": False,
             "xaxis": "x3", "yaxis": "y3", "line": {"color": lane.color, "width": 2}},
            {"type": "scatter", "mode": "markers", "name": lane.name, "legendgroup": lane.name, "showlegend": False,
             "xaxis": "x3", "yaxis": "y3", "marker": {"size": 11, "color": lane.color, "line": {"color": "white", "width": 1.5}}},
        ]  # fmt: skip
    moving = list(range(len(static), len(static) + len(moving_style)))
    frames = [{"name": str(int(e)), "traces": moving, "data": _frame_traces(lanes, int(e), shown, inside, x_ends)} for e in shown]

    y = np.asarray(data_y, dtype=np.float64)
    pad = 0.15 * (float(y.max() - y.min()) or 1.0) if len(y) else 1.0
    x_pad = 0.03 * ((x_ends[1] - x_ends[0]) or 1.0)
    still = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}
    play = {"frame": {"duration": duration, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}
    panel = {"xref": "paper", "yref": "paper", "showarrow": False, "xanchor": "left", "yanchor": "bottom", "font": {"size": 14}}
    top, bottom = 70, 200  # px: the legend above; the tick labels, ▶ Play and the epoch slider below
    px = 1 / max(height - top - bottom, 100)  # one pixel of the panels' height in paper units: gaps hold at any height
    gap = 50 * px  # between the fit and the loss panels: the fit's tick labels and title, then the loss panel's title
    layout = {
        "height": height,
        "margin": {"l": 60, "r": 20, "t": top, "b": bottom},
        "xaxis": {"domain": [0, 0.5], "range": [u[0], u[-1]], "title": {"text": axis_titles[0]}},
        "yaxis": {"domain": [0, 1], "range": [v[0], v[-1]], "title": {"text": axis_titles[1]}},
        "xaxis2": {"domain": [0.6, 1], "anchor": "y2", "range": [x_ends[0] - x_pad, x_ends[1] + x_pad], "title": {"text": data_titles[0]}},
        "yaxis2": {"domain": [min(0.5 + gap, 0.9), 1], "anchor": "x2", "title": {"text": data_titles[1]},
                   "range": [float(y.min() - pad), float(y.max() + pad)] if len(y) else None},
        "xaxis3": {"domain": [0.6, 1], "anchor": "y3", "range": [-0.5, n_points - 0.5], "title": {"text": _("epoch")}},
        "yaxis3": {"domain": [0, max(0.5 - gap, 0.1)], "anchor": "x3", "type": "log", "range": loss_range, "title": {"text": loss_title},
                   "exponentformat": "power", "dtick": _decade_step(loss_range, (0.5 - gap) / px)},
        "annotations": [
            {**panel, "x": 0, "y": 1.0, "text": "<b>" + _("Path on the loss surface") + "</b>"},
            {**panel, "x": 0.6, "y": 1.0, "text": f"<b>{fit_title}</b>"},
            {**panel, "x": 0.6, "y": max(0.5 - gap, 0.1) + 4 * px, "text": "<b>" + _("Loss per epoch") + "</b>"},
        ],
        "legend": {"orientation": "h", "x": 0, "y": 1.1, "yanchor": "bottom"},
        "hovermode": "closest",
        "updatemenus": [{
            "type": "buttons", "direction": "left", "showactive": False, "x": 0, "y": -62 * px, "xanchor": "left", "yanchor": "top",
            "pad": {"r": 10, "t": 10}, "font": {"size": 14},
            "buttons": [
                {"label": _("▶ Play"), "method": "animate", "args": [None, {**play, "fromcurrent": True}]},
                {"label": _("❚❚ Pause"), "method": "animate", "args": [[None], still]},
                {"label": _("⟲ From the start"), "method": "animate", "args": [None, play]},
            ],
        }],
        "sliders": [{
            "active": 0, "x": 0, "y": -110 * px, "len": 1.0, "xanchor": "left", "yanchor": "top", "pad": {"t": 10, "b": 10},
            "currentvalue": {"prefix": _("Epoch") + " ", "visible": True, "xanchor": "left", "font": {"size": 15, "color": "#31333f"}},
            "font": {"color": "rgba(0,0,0,0)"}, "ticklen": 0, "minorticklen": 0,  # 200 tick labels would overlap
            "transition": {"duration": 0},
            "steps": [{"label": str(int(e)), "method": "animate", "args": [[str(int(e))], still]} for e in shown],
        }],
        "uirevision": "play",
    }  # fmt: skip
    data = static + [{**style, **upd} for style, upd in zip(moving_style, frames[0]["data"])]
    return {"data": data, "layout": layout, "frames": frames}

"""The classroom's figures: the loss landscape with the run's path, and the loss and fit at one epoch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from core.data.dataset import Dataset
from core.i18n import _
from core.plotting import finite, loss_axis, plain_text
from core.training.figures import fit_figure

# -- gradient-descent classroom ----------------------------------------------------------------------------
LANE_COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf")
LABEL_COLORS = {"converges": "#2ca02c", "slow": "#ff7f0e", "oscillates": "#9467bd", "diverges": "#d62728"}


def landscape_figure(
    u: Sequence[float],
    v: Sequence[float],
    Z: np.ndarray,
    path: np.ndarray,
    step: int,
    optimum: Sequence[float],
    axis_titles: tuple[str, str],
    arrow: Sequence[float] | None = None,
    surface3d: bool = False,
    color: str = LANE_COLORS[0],
    height: int = 460,
    title: str = "",
    compact: bool = False,
) -> dict[str, Any]:
    """Loss contours (or the 3-D bowl) with the optimum, the path up to `step`, and −∇L at the current point.

    Contours are drawn on √(L − L_min) so the rings of a quadratic are evenly spaced; the colour bar shows L itself.
    path: (epochs + 1, 2) points on the two axes; arrow: the descent direction (−∇L on the two axes) at the current point.
    """
    Z = np.asarray(Z, dtype=float)
    axis_titles = (plain_text(axis_titles[0]), plain_text(axis_titles[1]))  # from a dataset's column names
    zmin = float(Z.min())
    root = np.sqrt(np.maximum(Z - zmin, 0.0))
    ticks = np.linspace(0.0, float(root.max()), 5)
    path = np.asarray(path, dtype=float)
    k = min(max(step, 0), len(path) - 1)
    inside = _inside(path, u, v)
    past, now = path[: k + 1], path[k]
    loss = _("loss")
    if surface3d:
        zpath = _surface_height(u, v, Z, past)
        traces = [
            {"type": "surface", "x": list(u), "y": list(v), "z": Z.tolist(), "colorscale": "Viridis", "opacity": 0.85,
             "showscale": False, "name": loss},
            {"type": "scatter3d", "mode": "lines+markers", "name": _("path"), "x": past[:, 0].tolist(), "y": past[:, 1].tolist(),
             "z": zpath, "line": {"color": color, "width": 6}, "marker": {"size": 3, "color": color}},
            {"type": "scatter3d", "mode": "markers", "name": _("optimum"), "x": [optimum[0]], "y": [optimum[1]],
             "z": [zmin], "marker": {"size": 7, "symbol": "diamond", "color": "white", "line": {"color": "black", "width": 2}}},
        ]  # fmt: skip
        layout = {
            "height": height,
            "margin": {"l": 10, "r": 10, "t": 30 if title else 10, "b": 10},
            "scene": {
                "camera": {"eye": {"x": 1.55, "y": 1.55, "z": 1.1}},  # back from the default 1.25s: no axis title at the edge
                "xaxis": {"title": {"text": axis_titles[0]}},
                "yaxis": {"title": {"text": axis_titles[1]}},
                "zaxis": {"title": {"text": loss}},
            },
            "showlegend": False,
            "uirevision": "landscape3d",
        }
    else:
        traces = [
            {"type": "contour", "x": list(u), "y": list(v), "z": root.tolist(), "colorscale": "Viridis", "ncontours": 18,
             "contours": {"coloring": "heatmap"}, "line": {"width": 0.5, "color": "rgba(255,255,255,0.5)"},
             "customdata": Z.tolist(), "hovertemplate": "%{x:.3g}, %{y:.3g}<br>L = %{customdata:.4g}<extra></extra>",
             "colorbar": {"title": {"text": loss}, "tickvals": ticks.tolist(), "ticktext": [f"{zmin + t * t:.3g}" for t in ticks]}},
            {"type": "scatter", "mode": "lines+markers", "name": _("path"), "x": past[inside[: k + 1], 0].tolist(),
             "y": past[inside[: k + 1], 1].tolist(), "line": {"color": color, "width": 2}, "marker": {"size": 5, "color": color}},
            {"type": "scatter", "mode": "markers", "name": _("optimum (least squares)"), "x": [optimum[0]], "y": [optimum[1]],
             "marker": {"size": 16, "symbol": "star", "color": "white", "line": {"color": "black", "width": 1.5}}},
            {"type": "scatter", "mode": "markers", "name": _("epoch {k}", k=k), "x": [now[0]] if inside[k] else [],
             "y": [now[1]] if inside[k] else [], "marker": {"size": 13, "color": color, "line": {"color": "white", "width": 2}}},
        ]  # fmt: skip
        layout = {
            "height": height,
            "margin": {"l": 60, "r": 20, "t": 70 if title else 45, "b": 50},
            "xaxis": {"title": {"text": axis_titles[0]}, "range": [u[0], u[-1]]},
            "yaxis": {"title": {"text": axis_titles[1]}, "range": [v[0], v[-1]]},
            "legend": {"orientation": "h", "y": 1.01, "yanchor": "bottom", "x": 0},  # above: below, it met the axis title
            "uirevision": "landscape",
        }
        if arrow is not None and inside[k] and np.all(np.isfinite(arrow)) and np.any(arrow):
            # a fixed screen length (18% of the view) in the direction of −∇L: the step's direction, readable at any lr
            a = np.asarray(arrow, dtype=float)
            span = np.array([u[-1] - u[0], v[-1] - v[0]], dtype=float)
            d = a / span
            tip = now + 0.18 * span * d / np.linalg.norm(d)
            layout["annotations"] = [
                {"x": tip[0], "y": tip[1], "ax": now[0], "ay": now[1], "xref": "x", "yref": "y", "axref": "x", "ayref": "y",
                 "showarrow": True, "arrowhead": 3, "arrowsize": 1.2, "arrowwidth": 2.5, "arrowcolor": "white", "text": ""},
                {"x": tip[0], "y": tip[1], "xref": "x", "yref": "y", "text": "−∇L", "showarrow": False,
                 "font": {"color": "white", "size": 14}, "yshift": 12},
            ]  # fmt: skip
    if title:
        layout["title"] = {"text": title, "font": {"size": 14}, "x": 0.01}
    if compact:  # a small multiple in a race: no legend or colour bar, the panel title says which lane
        layout["showlegend"] = False
        layout["margin"] = {"l": 45, "r": 10, "t": 75, "b": 40}  # a two-line title above the top tick label, even in projector type
        layout["title"] = {**layout.get("title", {}), "font": {"size": 12}}
        traces[0] = {**traces[0], "showscale": False}
    return {"data": traces, "layout": layout}


def _inside(path: np.ndarray, u: Sequence[float], v: Sequence[float]) -> np.ndarray:
    """Points within (a margin of) the drawn window: a diverging path leaves it, and Plotly would rescale to follow."""
    mu, mv = 2 * (u[-1] - u[0]), 2 * (v[-1] - v[0])
    ok = np.all(np.isfinite(path), axis=1)
    return ok & (path[:, 0] > u[0] - mu) & (path[:, 0] < u[-1] + mu) & (path[:, 1] > v[0] - mv) & (path[:, 1] < v[-1] + mv)


def _surface_height(u: Sequence[float], v: Sequence[float], Z: np.ndarray, pts: np.ndarray) -> list[float | None]:
    """Z at the nearest grid node to each point (None outside), so the 3-D path lies on the drawn surface."""
    u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
    out: list[float | None] = []
    for x, y in pts:
        if not (np.isfinite(x) and np.isfinite(y)) or not (u[0] <= x <= u[-1] and v[0] <= y <= v[-1]):
            out.append(None)
            continue
        out.append(float(Z[int(np.abs(v - y).argmin()), int(np.abs(u - x).argmin())]))
    return out


def step_loss_figure(
    curves: dict[str, Sequence[float]],
    step: int,
    y_title: str | None = None,
    log_y: bool = True,
    colors: Sequence[str] = LANE_COLORS,
    height: int = 320,
) -> dict[str, Any]:
    """Loss per epoch for one or more lanes, with a marker at the selected epoch on each and a vertical line there.
    y_title: None for the plain word, in the reader's language."""
    traces = []
    for i, (name, ys) in enumerate(curves.items()):
        ys = finite(list(ys))
        c = colors[i % len(colors)]
        k = min(step, len(ys) - 1)
        traces.append({"type": "scatter", "mode": "lines", "name": name, "x": list(range(len(ys))), "y": ys,
                       "line": {"color": c, "width": 2}, "legendgroup": name})  # fmt: skip
        traces.append({"type": "scatter", "mode": "markers", "x": [k], "y": [ys[k]], "showlegend": False,
                       "marker": {"size": 11, "color": c, "line": {"color": "white", "width": 1.5}}, "legendgroup": name})  # fmt: skip
    return {
        "data": traces,
        "layout": {
            "height": height,
            "margin": {"l": 60, "r": 20, "t": 30, "b": 45},
            "xaxis": {"title": {"text": _("epoch")}, "rangemode": "tozero"},
            "yaxis": loss_axis(_("loss") if y_title is None else y_title, log_y),
            "shapes": [_vline(step)],
            "legend": {"orientation": "h", "y": 1.12, "x": 0},
            "uirevision": "step-loss",
        },
    }


def _vline(x: float) -> dict[str, Any]:
    line = {"color": "gray", "width": 1, "dash": "dot"}
    return {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "paper", "line": line}


def classroom_fit_figure(ds: Dataset, predicted: Sequence[float], epoch: int, height: int = 380) -> dict[str, Any]:
    """fit_figure with the y axis held to the data's range, so a diverging line leaves the view instead of squashing it."""
    fig = fit_figure(ds, predicted, height=height)
    y = ds.y.to_numpy(dtype=float)
    pad = 0.15 * (y.max() - y.min() or 1.0)
    fig["layout"]["yaxis"]["range"] = [float(y.min() - pad), float(y.max() + pad)]
    fig["layout"]["uirevision"] = "classroom-fit"
    if len(ds.features) == 1:
        fig["data"][1]["name"] = _("model at epoch {epoch}", epoch=epoch)
    else:  # prediction against actual (fit_figure): the x axis holds the data's range too
        fig["data"][0]["name"] = _("rows at epoch {epoch}", epoch=epoch)
        fig["layout"]["xaxis"]["range"] = fig["layout"]["yaxis"]["range"]
    return fig

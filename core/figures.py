"""Plotly figures as plain dicts, built from plain data.

Plain dicts because they cost ~0.5 ms where a validated go.Figure of 2,000 points costs ~20 ms, and a
live chart is rebuilt every frame. Every function here is pure and testable without a browser.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from core.data import Dataset

MAX_POINTS = 2000  # per trace; the full record stays in the job's history
COLORS = {"train": "#1f77b4", "test": "#ff7f0e", "data": "#4c78a8", "fit": "#d62728"}


def decimate(n: int, max_points: int = MAX_POINTS) -> slice:
    """A stride over n points that keeps at most ~max_points and always covers the newest (see thin for the first)."""
    step = max(1, -(-n // max_points))  # ceil(n / max_points)
    return slice((n - 1) % step, n, step)  # offset so the last point is always included


def thin(values: Sequence, keep: slice) -> list:
    """values[keep], with the first value put back where the stride skipped it: a run's start stays on the chart
    (a 400,000-epoch run otherwise began at epoch 200, after the whole descent)."""
    picked = list(values[keep])
    return [values[0], *picked] if keep.start else picked


def _finite(values: Sequence[float | None]) -> list[float | None]:
    return [v if v is not None and math.isfinite(v) else None for v in values]


PACK_MIN = 64  # shorter arrays stay JSON numbers: readable, and no smaller packed


def typed_arrays(figure: dict[str, Any]) -> dict[str, Any]:
    """The figure with each trace's long x/y as Plotly's typed-array spec ({"dtype", "bdata"}: base64 bytes).

    A live frame's ~20,000 numbers cost the server ~25 ms of JSON a frame (Streamlit encodes a component's data
    twice); as base64 they are a few strings. Plotly.js decodes them into its full data; None becomes NaN,
    which it draws as a gap, as it draws None."""
    return {**figure, "data": [{k: _typed(v) if k in ("x", "y") else v for k, v in t.items()} for t in figure["data"]]}


def _typed(values: Any) -> Any:
    if not isinstance(values, (list, np.ndarray)) or len(values) < PACK_MIN:
        return values
    try:
        arr = np.asarray(values)
        if arr.dtype.kind == "O":
            arr = arr.astype(float)
    except (TypeError, ValueError):
        return values  # text: categories, not numbers
    if arr.dtype.kind in "iu" and len(arr) and -(2**31) <= arr.min() and arr.max() < 2**31:
        dtype = "i4"
    elif arr.dtype.kind in "iuf":
        dtype = "f8"
    else:
        return values
    return {"dtype": dtype, "bdata": base64.b64encode(arr.astype("<" + dtype).tobytes()).decode("ascii")}


def plain_arrays(figure: dict[str, Any]) -> dict[str, Any]:
    """typed_arrays undone (NaN back to None), for readers that want numbers: tests, benchmarks."""

    def plain(v: Any) -> Any:
        if not (isinstance(v, dict) and "bdata" in v):
            return v
        arr = np.frombuffer(base64.b64decode(v["bdata"]), dtype="<" + v["dtype"])
        return [None if x != x else x for x in arr.tolist()]

    return {**figure, "data": [{k: plain(v) for k, v in t.items()} for t in figure["data"]]}


def _loss_axis(title: str, log_y: bool) -> dict[str, Any]:
    """A loss axis: powers of ten, and on a log scale labels at decades only (2, 3, 5… between them crowded it)."""
    return {"title": {"text": title}, "type": "log" if log_y else "linear", "exponentformat": "power", "minorloglabels": "none"}


LOSS_LABELS = {"mse": "MSE ({t}²)", "mae": "MAE ({t})", "huber": "Huber loss (≈ {t} units)"}


def loss_figure(history: dict[str, list], log_y: bool = True, target: str = "y", loss: str = "mse", height: int = 380) -> dict[str, Any]:
    """Train and test loss per epoch; traces decimated to MAX_POINTS, the newest epoch always drawn."""
    epochs = history["epoch"]
    keep = decimate(len(epochs))
    x = thin(epochs, keep)
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "train loss",
            "x": x,
            "y": _finite(thin(history["train_loss"], keep)),
            "line": {"color": COLORS["train"], "width": 2},
        },
    ]
    test = history.get("test_loss", [])
    if any(v is not None for v in test[-1:]):
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "test loss",
                "x": x,
                "y": _finite(thin(test, keep)),
                "line": {"color": COLORS["test"], "width": 2, "dash": "dot"},
            }
        )
    return {
        "data": traces,
        "layout": {
            "height": height,
            "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
            "xaxis": {"title": {"text": "epoch"}, "rangemode": "tozero"},
            "yaxis": _loss_axis(LOSS_LABELS[loss].format(t=target), log_y),
            "legend": {"orientation": "h", "y": 1.08, "x": 0},
            "uirevision": "loss",  # keep the user's zoom between frames
        },
    }


def lines_figure(history: dict[str, list], series: dict[str, list], y_title: str, height: int = 300, log_y: bool = False) -> dict[str, Any]:
    """Several per-epoch series against epoch (coefficient paths, the learning rate); decimated like the loss."""
    keep = decimate(len(history["epoch"]))
    x = thin(history["epoch"], keep)
    traces = [{"type": "scatter", "mode": "lines", "name": name, "x": x, "y": _finite(thin(v, keep))} for name, v in series.items()]
    # linear: from zero, so a constant learning rate is a line above zero, not one centred in ±1
    yaxis = _loss_axis(y_title, True) if log_y else {"title": {"text": y_title}, "rangemode": "tozero"}
    return {
        "data": traces,
        "layout": {
            "height": height,
            "margin": {"l": 60, "r": 20, "t": 30, "b": 45},
            "xaxis": {"title": {"text": "epoch"}},
            "yaxis": yaxis,
            "legend": {"orientation": "h", "y": 1.12, "x": 0},
            "uirevision": y_title,
        },
    }


def fit_figure(ds: Dataset, predicted: Sequence[float], height: int = 380, max_points: int = 5_000, webgl: bool = True) -> dict[str, Any]:
    """The data and the model's predictions against the first feature: a line for one feature, points for more.

    While a run streams, pass a few hundred points and webgl=False: the chart is redrawn every frame, and a
    WebGL context per redraw is costly (browsers also cap how many exist at once).
    """
    rows = _sample(len(ds), max_points)
    points = "scattergl" if webgl else "scatter"
    first = ds.features[0]
    x = ds.X[first].to_numpy()[rows]
    yhat = np.asarray(predicted, dtype=float)[rows]
    data = {
        "type": points,
        "mode": "markers",
        "name": ds.target,
        "x": x.tolist(),
        "y": ds.y.to_numpy()[rows].tolist(),
        "marker": {"size": 5, "opacity": 0.5, "color": COLORS["data"]},
    }
    if len(ds.features) == 1:
        order = np.argsort(x)
        fit = {
            "type": "scatter",
            "mode": "lines",
            "name": "model",
            "x": x[order].tolist(),
            "y": _finite(yhat[order].tolist()),
            "line": {"color": COLORS["fit"], "width": 3},
        }
    else:
        fit = {
            "type": points,
            "mode": "markers",
            "name": "model's prediction",
            "x": x.tolist(),
            "y": _finite(yhat.tolist()),
            "marker": {"size": 4, "color": COLORS["fit"], "symbol": "x"},
        }
    return {
        "data": [data, fit],
        "layout": {
            "height": height,
            "margin": {"l": 60, "r": 20, "t": 30, "b": 45},
            "xaxis": {"title": {"text": first}},
            "yaxis": {"title": {"text": ds.target}},
            "legend": {"orientation": "h", "y": 1.12, "x": 0},
            "uirevision": "fit",
        },
    }


def _by_split(x: np.ndarray, y: np.ndarray, test_rows: np.ndarray, name: str) -> list[dict[str, Any]]:
    is_test = np.zeros(len(x), dtype=bool)
    is_test[test_rows] = True
    return [
        {
            "type": "scattergl",
            "mode": "markers",
            "name": f"{part} rows",
            "x": x[mask].tolist(),
            "y": y[mask].tolist(),
            "marker": {"size": 5, "opacity": 0.6, "color": COLORS[part]},
        }
        for part, mask in (("train", ~is_test), ("test", is_test))
        if mask.any()
    ]


def predicted_actual_figure(
    y: Sequence[float], yhat: Sequence[float], test_rows: np.ndarray, target: str, height: int = 360
) -> dict[str, Any]:
    y, yhat = np.asarray(y, float), np.asarray(yhat, float)
    lo, hi = float(min(y.min(), yhat.min())), float(max(y.max(), yhat.max()))
    ideal = {"type": "scatter", "mode": "lines", "name": "perfect", "x": [lo, hi], "y": [lo, hi], "line": {"color": "#888", "dash": "dash"}}
    return {
        "data": [*_by_split(y, yhat, test_rows, target), ideal],
        "layout": {
            "height": height,
            "margin": {"l": 60, "r": 20, "t": 30, "b": 45},
            "legend": {"orientation": "h", "y": 1.12, "x": 0},
            "xaxis": {"title": {"text": f"actual {target}"}},
            "yaxis": {"title": {"text": f"predicted {target}"}},
        },
    }


def residual_figure(y: Sequence[float], yhat: Sequence[float], test_rows: np.ndarray, target: str, height: int = 360) -> dict[str, Any]:
    y, yhat = np.asarray(y, float), np.asarray(yhat, float)
    return {
        "data": _by_split(yhat, y - yhat, test_rows, target),
        "layout": {
            "height": height,
            "margin": {"l": 60, "r": 20, "t": 30, "b": 45},
            "legend": {"orientation": "h", "y": 1.12, "x": 0},
            "xaxis": {"title": {"text": f"predicted {target}"}},
            "yaxis": {"title": {"text": "residual (actual − predicted)"}},
            "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0, "y1": 0, "line": {"color": "#888", "dash": "dash"}}],
        },
    }


DATA_POINTS = 20_000  # scattergl draws this many smoothly; beyond it a seeded sample is drawn
MATRIX_POINTS = 3_000  # SVG scatter matrix and 3-D scatter: fewer, they are heavier per point


def _sample(n: int, max_points: int) -> np.ndarray:
    """Row indices to draw: all of them, or a seeded, sorted sample, so a figure is the same on every rerun."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size=max_points, replace=False))


def _layout(height: int, **extra: Any) -> dict[str, Any]:
    return {"height": height, "margin": {"l": 60, "r": 20, "t": 30, "b": 50}, **extra}


def data_figure(
    ds: Dataset,
    height: int = 420,
    x: str | None = None,
    fit: tuple[dict[str, float], float] | None = None,
    fit_label: str = "fitted model",
) -> dict[str, Any]:
    """Target against one feature (the first by default); a second feature, if any, colours the points.

    fit: (coef by feature, intercept) in original units, drawn as the model's prediction at each point.
    """
    x = x or ds.features[0]
    rows = _sample(len(ds), DATA_POINTS)
    others = [f for f in ds.features if f != x]
    marker: dict[str, Any] = {"size": 6, "opacity": 0.7, "color": COLORS["data"]}
    if others:
        second = others[0]
        marker.update(color=ds.X[second].iloc[rows].tolist(), colorscale="Viridis", showscale=True, colorbar={"title": {"text": second}})
    xs = ds.X[x].iloc[rows]
    traces: list[dict[str, Any]] = [
        {"type": "scattergl", "mode": "markers", "name": ds.target, "x": xs.tolist(), "y": ds.y.iloc[rows].tolist(), "marker": marker}
    ]
    if fit is not None:
        coef, intercept = fit
        pred = ds.X.iloc[rows][list(coef)].to_numpy(dtype=float) @ np.array(list(coef.values())) + intercept
        order = np.argsort(xs.to_numpy(dtype=float), kind="stable")
        # one input (maybe expanded into x, x², …): the prediction is a curve over x; more inputs: a cloud of points
        single = len(ds.spec.get("polynomial", {}).get("base_features", ds.features)) == 1
        traces.append(
            {
                "type": "scattergl",
                "mode": "lines" if single else "markers",
                "name": fit_label,
                "x": xs.to_numpy(dtype=float)[order].tolist(),
                "y": _finite(pred[order].tolist()),
                "line": {"color": COLORS["fit"], "width": 3},
                "marker": {"color": COLORS["fit"], "size": 4, "symbol": "x"},
            }
        )
    legend = {"orientation": "h", "y": 1.12, "x": 0}  # above the plot, clear of the colour bar
    return {"data": traces, "layout": _layout(height, xaxis={"title": {"text": x}}, yaxis={"title": {"text": ds.target}}, legend=legend)}


def scatter3d_figure(ds: Dataset, x: str, y: str, height: int = 520) -> dict[str, Any]:
    """Two features and the target in 3-D: for a linear model the fit is a plane through this cloud."""
    rows = _sample(len(ds), MATRIX_POINTS)
    trace = {
        "type": "scatter3d",
        "mode": "markers",
        "name": ds.target,
        "x": ds.X[x].iloc[rows].tolist(),
        "y": ds.X[y].iloc[rows].tolist(),
        "z": ds.y.iloc[rows].tolist(),
        "marker": {"size": 3, "opacity": 0.8, "color": ds.y.iloc[rows].tolist(), "colorscale": "Viridis"},
    }
    scene = {"xaxis": {"title": {"text": x}}, "yaxis": {"title": {"text": y}}, "zaxis": {"title": {"text": ds.target}}}
    return {"data": [trace], "layout": {"height": height, "margin": {"l": 0, "r": 0, "t": 10, "b": 0}, "scene": scene}}


def scatter_matrix_figure(ds: Dataset, columns: list[str] | None = None, height: int = 620) -> dict[str, Any]:
    """Every pair among the features and the target: correlated features show up as thin diagonal clouds."""
    rows = _sample(len(ds), MATRIX_POINTS)
    table = ds.X.assign(**{ds.target: ds.y}).iloc[rows]
    columns = columns or [*ds.features[:5], ds.target]
    dims = [{"label": c, "values": table[c].tolist()} for c in columns]
    trace = {
        "type": "splom",
        "dimensions": dims,
        "showupperhalf": False,
        "marker": {"size": 3, "opacity": 0.6, "color": COLORS["data"]},
        "diagonal": {"visible": False},
    }
    return {"data": [trace], "layout": {"height": height, "margin": {"l": 60, "r": 20, "t": 20, "b": 50}, "dragmode": "select"}}


def histogram_figure(ds: Dataset, bins: int = 40, height: int = 320) -> dict[str, Any]:
    """The target's distribution, binned here so the browser gets bins rather than every value."""
    counts, edges = np.histogram(ds.y.to_numpy(dtype=float), bins=bins)
    trace = {
        "type": "bar",
        "name": ds.target,
        "x": ((edges[:-1] + edges[1:]) / 2).tolist(),
        "y": counts.tolist(),
        "width": float(edges[1] - edges[0]),
        "marker": {"color": COLORS["data"]},
    }
    return {
        "data": [trace],
        "layout": _layout(height, xaxis={"title": {"text": ds.target}}, yaxis={"title": {"text": "rows"}}, bargap=0.02),
    }


def correlation_figure(ds: Dataset, height: int = 380) -> dict[str, Any]:
    """Pearson correlation of every pair among the features and the target, with the value written in each cell."""
    table = ds.X.assign(**{ds.target: ds.y})
    corr = np.nan_to_num(np.corrcoef(table.to_numpy(dtype=float), rowvar=False), nan=0.0).reshape(table.shape[1], table.shape[1])
    names = list(table.columns)
    trace = {
        "type": "heatmap",
        "x": names,
        "y": names,
        "z": np.round(corr, 3).tolist(),
        "zmin": -1,
        "zmax": 1,
        "colorscale": "RdBu",
        "reversescale": True,
        "text": [[f"{v:.2f}" for v in row] for row in corr],
        "texttemplate": "%{text}",
        "hovertemplate": "%{y} vs %{x}: %{z}<extra></extra>",
    }
    return {"data": [trace], "layout": _layout(height, yaxis={"autorange": "reversed"})}


MEMORY_COLORS = {
    "weights": "#4c78a8",
    "gradients": "#f58518",
    "optimizer states": "#e45756",
    "activations": "#72b7b2",
    "KV cache": "#54a24b",
    "framework overhead": "#bab0ac",
}


def memory_figure(
    rows: Sequence[tuple[str, dict[str, float]]], gpu_gib: float, gpu_label: str, height: int | None = None
) -> dict[str, Any]:
    """Where the memory goes, one stacked horizontal bar per setting (GiB per GPU), against the GPU's memory."""
    labels = [label for label, _ in rows][::-1]  # the first row on top
    parts = [p for p in MEMORY_COLORS if any(gib.get(p, 0) > 0 for _, gib in rows)]
    traces = [
        {
            "type": "bar",
            "orientation": "h",
            "name": part,
            "y": labels,
            "x": [round(gib.get(part, 0.0), 3) for _, gib in rows][::-1],
            "marker": {"color": MEMORY_COLORS[part]},
            "hovertemplate": f"{part}: %{{x:.2f}} GiB<extra></extra>",
        }
        for part in parts
    ]
    widest = max([sum(gib.values()) for _, gib in rows] + [gpu_gib])
    return {
        "data": traces,
        "layout": {
            "height": height or 150 + 56 * len(rows),
            "barmode": "stack",
            "margin": {"l": 20, "r": 20, "t": 30, "b": 20},
            "xaxis": {"ticksuffix": " GiB", "range": [0, widest * 1.08]},
            "yaxis": {"automargin": True},
            "legend": {"orientation": "h", "y": -0.12, "yanchor": "top", "x": 0, "traceorder": "normal"},
            "shapes": [
                {"type": "line", "x0": gpu_gib, "x1": gpu_gib, "y0": 0, "y1": 1, "yref": "paper", "line": {"color": "#222", "dash": "dash"}}
            ],
            "annotations": [
                {"x": gpu_gib, "y": 1, "yref": "paper", "yanchor": "bottom", "text": f"{gpu_label}: {gpu_gib:.1f} GiB", "showarrow": False}
            ],
        },
    }


# --- GPU history for the Environment page's live cards ---------------------------------------------------------

GPU_METRICS = {  # history key → (title, unit, fixed y range or None)
    "util": ("GPU utilization", "%", (0, 100)),
    "mem": ("memory used", "% of total", (0, 100)),
    "temp": ("temperature", "°C", None),
    "power": ("power draw", "W", None),
}
GPU_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")


def gpu_history_figure(history: dict[int, dict[str, list]], metric: str, height: int = 200) -> dict[str, Any]:
    """One metric over the last minutes, a line per GPU; x is seconds before the newest sample, so it reads "… ago"."""
    title, unit, y_range = GPU_METRICS[metric]
    newest = max((h["t"][-1] for h in history.values() if h.get("t")), default=0.0)
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": f"GPU {i}",
            "x": [round(t - newest, 1) for t in h["t"]],
            "y": _finite(h[metric]),
            "line": {"color": GPU_COLORS[n % len(GPU_COLORS)], "width": 2},
        }
        for n, (i, h) in enumerate(sorted(history.items()))
    ]
    yaxis: dict[str, Any] = {"title": {"text": unit}}
    if y_range:
        yaxis["range"] = list(y_range)
    return {
        "data": traces,
        "layout": {
            "height": height,
            "title": {"text": title, "font": {"size": 14}, "x": 0.01},
            "margin": {"l": 50, "r": 10, "t": 35, "b": 35},
            "xaxis": {"title": {"text": "seconds ago"}, "zeroline": False},
            "yaxis": yaxis,
            "showlegend": len(traces) > 1,
            "uirevision": f"gpu-{metric}",
        },
    }


RUN_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f")
OVERLAY_POINTS = 20_000  # across all traces of the overlay, so 100 runs stay as light as one long run


def runs_overlay_figure(
    histories: dict[str, dict[str, list]], test: bool = True, log_y: bool = True, y_title: str = "loss", height: int = 420
) -> dict[str, Any]:
    """Loss curves of several runs on one chart: a color per run, train solid, test dotted; {label: history}."""
    per_trace = max(200, OVERLAY_POINTS // max(1, len(histories) * (2 if test else 1)))
    traces = []
    for n, (label, h) in enumerate(histories.items()):
        epochs = h.get("epoch") or []
        keep = decimate(len(epochs), per_trace - 1)  # thin puts the first epoch back
        color = RUN_COLORS[n % len(RUN_COLORS)]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": label,
                "legendgroup": label,
                "x": thin(epochs, keep),
                "y": _finite(thin(h.get("train_loss") or [None] * len(epochs), keep)),
                "line": {"color": color, "width": 2},
                "hovertemplate": "epoch %{x}<br>train loss %{y:.4g}<extra>" + label + "</extra>",
            }
        )
        if test and any(v is not None for v in h.get("test_loss") or []):
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": f"{label} (test)",
                    "legendgroup": label,
                    "showlegend": False,
                    "x": thin(epochs, keep),
                    "y": _finite(thin(h["test_loss"], keep)),
                    "line": {"color": color, "width": 1.5, "dash": "dot"},
                    "hovertemplate": "epoch %{x}<br>test loss %{y:.4g}<extra>" + label + "</extra>",
                }
            )
    return {
        "data": traces,
        "layout": {
            "height": height,
            "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
            "xaxis": {"title": {"text": "epoch"}, "rangemode": "tozero"},
            "yaxis": _loss_axis(y_title, log_y),
            "legend": {"title": {"text": "solid: train · dotted: test" if test else ""}},
            "uirevision": "runs-overlay",
        },
    }


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
    zmin = float(Z.min())
    root = np.sqrt(np.maximum(Z - zmin, 0.0))
    ticks = np.linspace(0.0, float(root.max()), 5)
    path = np.asarray(path, dtype=float)
    k = min(max(step, 0), len(path) - 1)
    inside = _inside(path, u, v)
    past, now = path[: k + 1], path[k]
    if surface3d:
        zpath = _surface_height(u, v, Z, past)
        traces = [
            {"type": "surface", "x": list(u), "y": list(v), "z": Z.tolist(), "colorscale": "Viridis", "opacity": 0.85,
             "showscale": False, "name": "loss"},
            {"type": "scatter3d", "mode": "lines+markers", "name": "path", "x": past[:, 0].tolist(), "y": past[:, 1].tolist(),
             "z": zpath, "line": {"color": color, "width": 6}, "marker": {"size": 3, "color": color}},
            {"type": "scatter3d", "mode": "markers", "name": "optimum", "x": [optimum[0]], "y": [optimum[1]],
             "z": [zmin], "marker": {"size": 7, "symbol": "diamond", "color": "white", "line": {"color": "black", "width": 2}}},
        ]  # fmt: skip
        layout = {
            "height": height,
            "margin": {"l": 0, "r": 0, "t": 30 if title else 10, "b": 0},
            "scene": {
                "xaxis": {"title": {"text": axis_titles[0]}},
                "yaxis": {"title": {"text": axis_titles[1]}},
                "zaxis": {"title": {"text": "loss"}},
            },
            "showlegend": False,
            "uirevision": "landscape3d",
        }
    else:
        traces = [
            {"type": "contour", "x": list(u), "y": list(v), "z": root.tolist(), "colorscale": "Viridis", "ncontours": 18,
             "contours": {"coloring": "heatmap"}, "line": {"width": 0.5, "color": "rgba(255,255,255,0.5)"},
             "customdata": Z.tolist(), "hovertemplate": "%{x:.3g}, %{y:.3g}<br>L = %{customdata:.4g}<extra></extra>",
             "colorbar": {"title": {"text": "loss"}, "tickvals": ticks.tolist(), "ticktext": [f"{zmin + t * t:.3g}" for t in ticks]}},
            {"type": "scatter", "mode": "lines+markers", "name": "path", "x": past[inside[: k + 1], 0].tolist(),
             "y": past[inside[: k + 1], 1].tolist(), "line": {"color": color, "width": 2}, "marker": {"size": 5, "color": color}},
            {"type": "scatter", "mode": "markers", "name": "optimum (least squares)", "x": [optimum[0]], "y": [optimum[1]],
             "marker": {"size": 16, "symbol": "star", "color": "white", "line": {"color": "black", "width": 1.5}}},
            {"type": "scatter", "mode": "markers", "name": f"epoch {k}", "x": [now[0]] if inside[k] else [],
             "y": [now[1]] if inside[k] else [], "marker": {"size": 13, "color": color, "line": {"color": "white", "width": 2}}},
        ]  # fmt: skip
        layout = {
            "height": height,
            "margin": {"l": 60, "r": 20, "t": 40 if title else 20, "b": 50},
            "xaxis": {"title": {"text": axis_titles[0]}, "range": [u[0], u[-1]]},
            "yaxis": {"title": {"text": axis_titles[1]}, "range": [v[0], v[-1]]},
            "legend": {"orientation": "h", "y": -0.18, "x": 0},
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
        layout["margin"] = {"l": 45, "r": 10, "t": 40, "b": 40}
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
    y_title: str = "loss",
    log_y: bool = True,
    colors: Sequence[str] = LANE_COLORS,
    height: int = 320,
) -> dict[str, Any]:
    """Loss per epoch for one or more lanes, with a marker at the selected epoch on each and a vertical line there."""
    traces = []
    for i, (name, ys) in enumerate(curves.items()):
        ys = _finite(list(ys))
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
            "xaxis": {"title": {"text": "epoch"}, "rangemode": "tozero"},
            "yaxis": _loss_axis(y_title, log_y),
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
    fig["data"][1]["name"] = f"model at epoch {epoch}"
    return fig


def projector(fig: dict[str, Any], scale: float = 1.5) -> dict[str, Any]:
    """A projector-friendly copy: larger fonts, thicker lines and markers, taller."""
    layout = {**fig["layout"], "font": {"size": round(12 * scale)}, "height": round(fig["layout"].get("height", 400) * 1.15)}
    data = []
    for t in fig["data"]:
        t = dict(t)
        if "line" in t and "width" in t["line"]:
            t["line"] = {**t["line"], "width": t["line"]["width"] * scale}
        if "marker" in t and "size" in t["marker"]:
            t["marker"] = {**t["marker"], "size": t["marker"]["size"] * scale}
        data.append(t)
    return {"data": data, "layout": layout}


import io  # noqa: E402  (the export helpers' own imports, kept with them)
import threading  # noqa: E402

_EXPORT_LOCK = threading.Lock()  # kaleido's sync server is one per process: one export at a time


def figures_png(figs: Sequence[dict[str, Any]], width: int = 900, height: int | None = None) -> list[bytes]:
    """PNG bytes of each figure through kaleido (plotly's static export), which drives a headless Chrome/Chromium.

    One browser for the whole batch (~0.7 s a contour frame on one core, ~8 s for a 3-D surface: software WebGL);
    a process without kaleido or without a browser raises here, on export only.
    """
    import kaleido
    import plotly.io as pio

    with _EXPORT_LOCK:
        kaleido.start_sync_server(silence_warnings=True)
        try:
            return [pio.to_image(f, format="png", width=width, height=height or f["layout"].get("height", 500)) for f in figs]
        finally:
            kaleido.stop_sync_server(silence_warnings=True)


def gif_from_pngs(frames: Sequence[bytes], frame_ms: int = 150, hold_last_ms: int = 1500) -> bytes:
    """An animated GIF (looping) from PNG frames of one size; the last frame is held so the end can be read."""
    from PIL import Image

    images = [Image.open(io.BytesIO(b)).convert("RGB") for b in frames]
    durations = [frame_ms] * (len(images) - 1) + [hold_last_ms]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0, optimize=True)
    return out.getvalue()

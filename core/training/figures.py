"""A run's figures: loss per epoch, coefficient and learning-rate paths, the fit, predicted against actual, residuals.

Their words are in the current language (core.i18n): built per frame for one reader, never cached across sessions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from core.data.dataset import Dataset
from core.i18n import N_, _
from core.plotting import COLORS, decimate, finite, loss_axis, plain_text, sample_rows, thin

PANEL_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
LOSS_LABELS = {"mse": N_("MSE ({t}²)"), "mae": N_("MAE ({t})"), "huber": N_("Huber loss (≈ {t} units)")}
SPLIT_ROWS = {"train": N_("train rows"), "test": N_("test rows")}


def loss_figure(history: dict[str, list], log_y: bool = True, target: str = "y", loss: str = "mse", height: int = 380) -> dict[str, Any]:
    """Train and test loss per epoch; traces decimated to MAX_POINTS, the newest epoch always drawn."""
    epochs = history["epoch"]
    keep = decimate(len(epochs))
    x = thin(epochs, keep)
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": _("train loss"),
            "x": x,
            "y": finite(thin(history["train_loss"], keep)),
            "line": {"color": COLORS["train"], "width": 2},
        },
    ]
    test = history.get("test_loss", [])
    if any(v is not None for v in finite(test[-1:])):  # None or NaN: no test rows
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": _("test loss"),
                "x": x,
                "y": finite(thin(test, keep)),
                "line": {"color": COLORS["test"], "width": 2, "dash": "dot"},
            }
        )
    return {
        "data": traces,
        "layout": {
            "height": height,
            "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
            "xaxis": {"title": {"text": _("epoch")}, "rangemode": "tozero"},
            "yaxis": loss_axis(_(LOSS_LABELS[loss], t=plain_text(target)), log_y),
            "legend": {"orientation": "h", "y": 1.08, "x": 0},
            "uirevision": "loss",  # keep the user's zoom between frames
        },
    }


def lines_figure(history: dict[str, list], series: dict[str, list], y_title: str, height: int = 300, log_y: bool = False) -> dict[str, Any]:
    """Several per-epoch series against epoch (coefficient paths, the learning rate); decimated like the loss."""
    keep = decimate(len(history["epoch"]))
    x = thin(history["epoch"], keep)
    traces = [
        {"type": "scatter", "mode": "lines", "name": plain_text(name), "x": x, "y": finite(thin(v, keep))} for name, v in series.items()
    ]
    # linear: from zero, so a constant learning rate is a line above zero, not one centred in ±1
    yaxis = loss_axis(y_title, True) if log_y else {"title": {"text": y_title}, "rangemode": "tozero"}
    return {
        "data": traces,
        "layout": {
            "height": height,
            "margin": {"l": 60, "r": 20, "t": 30, "b": 45},
            "xaxis": {"title": {"text": _("epoch")}},
            "yaxis": yaxis,
            "legend": {"orientation": "h", "y": 1.12, "x": 0},
            "uirevision": y_title,
        },
    }


def paths_figure(history: dict[str, list], series: dict[str, list], y_title: str, height: int = 300) -> dict[str, Any]:
    """Coefficient paths, one panel each over a shared epoch axis: each gets a scale of its own, so an intercept of
    ~530,000 no longer flattens an area coefficient of ~3,000 into a line along zero."""
    keep = decimate(len(history["epoch"]))
    x = thin(history["epoch"], keep)
    n = max(len(series), 1)
    gap = 0.06
    traces, layout = [], {}
    for i, (name, values) in enumerate(series.items()):
        axis = "" if i == 0 else str(i + 1)
        top = 1.0 - i / n
        traces.append({"type": "scatter", "mode": "lines", "name": plain_text(name), "x": x, "y": finite(thin(values, keep)),
                       "xaxis": "x", "yaxis": f"y{axis}", "line": {"color": PANEL_COLORS[i % len(PANEL_COLORS)], "width": 2}})  # fmt: skip
        layout[f"yaxis{axis}"] = {"domain": [max(top - 1.0 / n + gap / 2, 0.0), top - gap / 2], "anchor": "x", "nticks": 3,
                                  "title": {"text": plain_text(name), "font": {"size": 11}}}  # fmt: skip
    return {
        "data": traces,
        "layout": {
            **layout,
            "height": height,
            "margin": {"l": 70, "r": 20, "t": 30, "b": 45},
            "xaxis": {"title": {"text": _("epoch")}, "anchor": f"y{n if n > 1 else ''}"},
            "showlegend": False,
            "title": {"text": y_title, "font": {"size": 12}, "x": 0.01},
            "uirevision": y_title,
        },
    }


def fit_figure(ds: Dataset, predicted: Sequence[float], height: int = 380, max_points: int = 5_000, webgl: bool = True) -> dict[str, Any]:
    """With one feature, the data and the model's line over it. With more, the model is a surface, and its predictions
    drawn over one feature scatter like a second noisy dataset: each row's prediction against its actual value instead.

    While a run streams, pass a few hundred points and webgl=False: the chart is redrawn every frame, and a
    WebGL context per redraw is costly (browsers also cap how many exist at once).
    """
    rows = sample_rows(len(ds), max_points)
    points = "scattergl" if webgl else "scatter"
    y, yhat = ds.y.to_numpy(dtype=float)[rows], np.asarray(predicted, dtype=float)[rows]
    target = plain_text(ds.target)
    if len(ds.features) == 1:
        x = ds.X[ds.features[0]].to_numpy(dtype=float)[rows]
        order = np.argsort(x)
        data = [
            {"type": points, "mode": "markers", "name": target, "x": x.tolist(), "y": y.tolist(),
             "marker": {"size": 5, "opacity": 0.5, "color": COLORS["data"]}},
            {"type": "scatter", "mode": "lines", "name": _("model"), "x": x[order].tolist(), "y": finite(yhat[order].tolist()),
             "line": {"color": COLORS["fit"], "width": 3}},
        ]  # fmt: skip
        titles = (plain_text(ds.features[0]), target)
    else:
        lo, hi = float(y.min()), float(y.max())
        data = [
            {"type": points, "mode": "markers", "name": _("rows: prediction against actual"), "x": y.tolist(), "y": finite(yhat.tolist()),
             "marker": {"size": 5, "opacity": 0.6, "color": COLORS["data"]}},
            {"type": "scatter", "mode": "lines", "name": _("prediction = actual"), "x": [lo, hi], "y": [lo, hi],
             "line": {"color": COLORS["fit"], "dash": "dash", "width": 2}},
        ]  # fmt: skip
        titles = (_("actual {target}", target=target), _("predicted {target}", target=target))
    return {
        "data": data,
        "layout": {
            "height": height,
            "margin": {"l": 60, "r": 20, "t": 30, "b": 45},
            "xaxis": {"title": {"text": titles[0]}},
            "yaxis": {"title": {"text": titles[1]}},
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
            "name": _(SPLIT_ROWS[part]),
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
    line = {"color": "#888", "dash": "dash"}
    ideal = {"type": "scatter", "mode": "lines", "name": _("perfect"), "x": [lo, hi], "y": [lo, hi], "line": line}
    return {
        "data": [*_by_split(y, yhat, test_rows, target), ideal],
        "layout": {
            "height": height,
            "margin": {"l": 60, "r": 20, "t": 30, "b": 45},
            "legend": {"orientation": "h", "y": 1.12, "x": 0},
            "xaxis": {"title": {"text": _("actual {target}", target=plain_text(target))}},
            "yaxis": {"title": {"text": _("predicted {target}", target=plain_text(target))}},
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
            "xaxis": {"title": {"text": _("predicted {target}", target=plain_text(target))}},
            "yaxis": {"title": {"text": _("residual (actual − predicted)")}},
            "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0, "y1": 0, "line": {"color": "#888", "dash": "dash"}}],
        },
    }

"""The Data page's figures: the data with its least-squares fit, scatter matrix, 3-D scatter, histogram, correlations."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.data.dataset import Dataset
from core.i18n import _
from core.plotting import COLORS, finite, layout, plain_text, sample_rows

DATA_POINTS = 20_000  # scattergl draws this many smoothly; beyond it a seeded sample is drawn
MATRIX_POINTS = 3_000  # SVG scatter matrix and 3-D scatter: fewer, they are heavier per point


def data_figure(
    ds: Dataset,
    height: int = 420,
    x: str | None = None,
    fit: tuple[dict[str, float], float] | None = None,
    fit_label: str | None = None,
) -> dict[str, Any]:
    """Target against one feature (the first by default); a second feature, if any, colours the points.

    fit: (coef by feature, intercept) in original units, drawn as the model's prediction at each point.
    Words are in the reader's language (the figure is built on every run, never cached).
    """
    x = x or ds.features[0]
    fit_label = fit_label or _("fitted model")
    rows = sample_rows(len(ds), DATA_POINTS)
    others = [f for f in ds.features if f != x]
    marker: dict[str, Any] = {"size": 6, "opacity": 0.7, "color": COLORS["data"]}
    if others:
        second = others[0]
        colorbar = {"title": {"text": plain_text(second)}}
        marker.update(color=ds.X[second].iloc[rows].tolist(), colorscale="Viridis", showscale=True, colorbar=colorbar)
    xs = ds.X[x].iloc[rows]
    traces: list[dict[str, Any]] = [
        {
            "type": "scattergl",
            "mode": "markers",
            "name": plain_text(ds.target),
            "x": xs.tolist(),
            "y": ds.y.iloc[rows].tolist(),
            "marker": marker,
        }  # fmt: skip
    ]
    if fit is not None and one_input(ds):  # with more inputs the fit is no curve over x: fit_check_figure draws it
        pred = _predict(ds, fit, rows)
        order = np.argsort(xs.to_numpy(dtype=float), kind="stable")
        traces.append({"type": "scattergl", "mode": "lines", "name": fit_label, "x": xs.to_numpy(dtype=float)[order].tolist(),
                       "y": finite(pred[order].tolist()), "line": {"color": COLORS["fit"], "width": 3}})  # fmt: skip
    legend = {"orientation": "h", "y": 1.12, "x": 0}  # above the plot, clear of the colour bar
    axes = {"xaxis": {"title": {"text": plain_text(x)}}, "yaxis": {"title": {"text": plain_text(ds.target)}}}
    return {"data": traces, "layout": layout(height, legend=legend, **axes)}


def one_input(ds: Dataset) -> bool:
    """One input, maybe expanded into x, x², …: a fit is a curve over it. With more, it is a surface, and drawn over one
    feature its predictions scatter like a second noisy dataset."""
    return len(ds.spec.get("polynomial", {}).get("base_features", ds.features)) == 1


def fit_check_figure(ds: Dataset, fit: tuple[dict[str, float], float], fit_label: str | None = None, height: int = 420) -> dict[str, Any]:
    """A fit with several inputs, the way it can be read: each row's prediction against its actual target; on the
    dashed diagonal they agree."""
    fit_label = fit_label or _("fitted model")
    rows = sample_rows(len(ds), DATA_POINTS)
    y, pred = ds.y.iloc[rows].to_numpy(dtype=float), _predict(ds, fit, rows)
    finite_pred = pred[np.isfinite(pred)]
    lo, hi = float(min(y.min(), finite_pred.min(initial=y.min()))), float(max(y.max(), finite_pred.max(initial=y.max())))
    traces = [
        {"type": "scattergl", "mode": "markers", "name": _("rows"), "x": y.tolist(), "y": finite(pred.tolist()),
         "marker": {"size": 5, "opacity": 0.6, "color": COLORS["data"]}},
        {"type": "scatter", "mode": "lines", "name": _("prediction = actual"), "x": [lo, hi], "y": [lo, hi],
         "line": {"color": COLORS["fit"], "dash": "dash", "width": 2}},
    ]  # fmt: skip
    target = plain_text(ds.target)
    axes = {
        "xaxis": {"title": {"text": _("actual {target}", target=target)}},
        "yaxis": {"title": {"text": _("{fit}: predicted {target}", fit=plain_text(fit_label), target=target)}},
    }
    return {"data": traces, "layout": layout(height, legend={"orientation": "h", "y": 1.12, "x": 0}, **axes)}


def _predict(ds: Dataset, fit: tuple[dict[str, float], float], rows: np.ndarray) -> np.ndarray:
    coef, intercept = fit
    return ds.X.iloc[rows][list(coef)].to_numpy(dtype=float) @ np.array(list(coef.values())) + intercept


def scatter3d_figure(ds: Dataset, x: str, y: str, height: int = 520) -> dict[str, Any]:
    """Two features and the target in 3-D: for a linear model the fit is a plane through this cloud."""
    rows = sample_rows(len(ds), MATRIX_POINTS)
    trace = {
        "type": "scatter3d",
        "mode": "markers",
        "name": plain_text(ds.target),
        "x": ds.X[x].iloc[rows].tolist(),
        "y": ds.X[y].iloc[rows].tolist(),
        "z": ds.y.iloc[rows].tolist(),
        "marker": {"size": 3, "opacity": 0.8, "color": ds.y.iloc[rows].tolist(), "colorscale": "Viridis"},
    }
    scene = {axis: {"title": {"text": plain_text(name)}} for axis, name in (("xaxis", x), ("yaxis", y), ("zaxis", ds.target))}
    return {"data": [trace], "layout": {"height": height, "margin": {"l": 0, "r": 0, "t": 10, "b": 0}, "scene": scene}}


def scatter_matrix_figure(ds: Dataset, columns: list[str] | None = None, height: int = 620) -> dict[str, Any]:
    """Every pair among the features and the target: correlated features show up as thin diagonal clouds."""
    rows = sample_rows(len(ds), MATRIX_POINTS)
    table = ds.X.assign(**{ds.target: ds.y}).iloc[rows]
    columns = columns or [*ds.features[:5], ds.target]
    dims = [{"label": plain_text(c), "values": table[c].tolist()} for c in columns]
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
        "name": plain_text(ds.target),
        "x": ((edges[:-1] + edges[1:]) / 2).tolist(),
        "y": counts.tolist(),
        "width": float(edges[1] - edges[0]),
        "marker": {"color": COLORS["data"]},
    }
    return {
        "data": [trace],
        "layout": layout(height, xaxis={"title": {"text": plain_text(ds.target)}}, yaxis={"title": {"text": _("rows")}}, bargap=0.02),
    }


def correlation_figure(ds: Dataset, height: int = 380) -> dict[str, Any]:
    """Pearson correlation of every pair among the features and the target, with the value written in each cell."""
    table = ds.X.assign(**{ds.target: ds.y})
    corr = np.nan_to_num(np.corrcoef(table.to_numpy(dtype=float), rowvar=False), nan=0.0).reshape(table.shape[1], table.shape[1])
    names = [plain_text(c) for c in table.columns]
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
        "hovertemplate": _("%{y} vs %{x}: %{z}") + "<extra></extra>",
    }
    return {"data": [trace], "layout": layout(height, yaxis={"autorange": "reversed"})}

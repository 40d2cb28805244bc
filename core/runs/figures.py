"""The Runs page's overlay: every selected run's loss curve on one chart, light whatever the number of runs."""

from __future__ import annotations

from typing import Any

from core.i18n import _
from core.plotting import decimate, finite, loss_axis, plain_text, thin

RUN_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f")
OVERLAY_POINTS = 20_000  # across all traces of the overlay, so 100 runs stay as light as one long run


def runs_overlay_figure(
    histories: dict[str, dict[str, list]], test: bool = True, log_y: bool = True, y_title: str = "", height: int = 420
) -> dict[str, Any]:
    """Loss curves of several runs on one chart: a color per run, train solid, test dotted; {label: history}. Its words are
    in the reader's language (y_title: already so; default "loss")."""
    y_title = y_title or _("loss")
    per_trace = max(200, OVERLAY_POINTS // max(1, len(histories) * (2 if test else 1)))
    traces = []
    for n, (raw_label, h) in enumerate(histories.items()):
        label = plain_text(raw_label)
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
                "y": finite(thin(h.get("train_loss") or [None] * len(epochs), keep)),
                "line": {"color": color, "width": 2},
                "hovertemplate": _("epoch %{x}<br>train loss %{y:.4g}"),  # the trace's name, in the hover's side box
            }
        )
        if test and any(v is not None for v in h.get("test_loss") or []):
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": _("{label} (test)", label=label),
                    "legendgroup": label,
                    "showlegend": False,
                    "x": thin(epochs, keep),
                    "y": finite(thin(h["test_loss"], keep)),
                    "line": {"color": color, "width": 1.5, "dash": "dot"},
                    "hovertemplate": _("epoch %{x}<br>test loss %{y:.4g}"),
                }
            )
    return {
        "data": traces,
        "layout": {
            "height": height,
            "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
            "xaxis": {"title": {"text": _("epoch")}, "rangemode": "tozero"},
            "yaxis": loss_axis(y_title, log_y),
            "legend": {"title": {"text": _("solid: train · dotted: test") if test else ""}},
            "uirevision": "runs-overlay",
        },
    }

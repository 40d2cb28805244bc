"""Live GPU history (memory, utilisation, temperature, power) as small line charts."""

from __future__ import annotations

from typing import Any

from core.i18n import N_, _
from core.plotting import finite

# --- GPU history for the Environment page's live cards ---------------------------------------------------------

GPU_METRICS = {  # history key → (title, unit, fixed y range or None); titles and units are English ids, shown through _()
    "util": (N_("GPU utilization"), "%", (0, 100)),
    "mem": (N_("memory used"), N_("% of total"), (0, 100)),
    "temp": (N_("temperature"), "°C", None),
    "power": (N_("power draw"), "W", None),
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
            "y": finite(h[metric]),
            "line": {"color": GPU_COLORS[n % len(GPU_COLORS)], "width": 2},
        }
        for n, (i, h) in enumerate(sorted(history.items()))
    ]
    yaxis: dict[str, Any] = {"title": {"text": _(unit)}}
    if y_range:
        yaxis["range"] = list(y_range)
    return {
        "data": traces,
        "layout": {
            "height": height,
            "title": {"text": _(title), "font": {"size": 14}, "x": 0.01},
            "margin": {"l": 50, "r": 10, "t": 35, "b": 35},
            "xaxis": {"title": {"text": _("seconds ago")}, "zeroline": False},
            "yaxis": yaxis,
            "showlegend": len(traces) > 1,
            "uirevision": f"gpu-{metric}",
        },
    }

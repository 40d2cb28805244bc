"""The memory estimate as a stacked bar per GPU, beside the card's capacity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.i18n import _

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
            "name": _(part),  # the parts are catalogue ids (core.fit.estimate.PARTS)
            "y": labels,
            "x": [round(gib.get(part, 0.0), 3) for _, gib in rows][::-1],
            "marker": {"color": MEMORY_COLORS[part]},
            "hovertemplate": _(part) + ": %{x:.2f} GiB<extra></extra>",
        }
        for part in parts
    ]
    right = max([sum(gib.values()) for _, gib in rows] + [gpu_gib]) * 1.08
    # the GPU's label inside the plot, on the side of its line with room, so the chart's edge never cuts it
    side = "right" if gpu_gib > right / 2 else "left"
    label = {"x": gpu_gib, "y": 1, "yref": "paper", "yanchor": "top", "xanchor": side, "xshift": -6 if side == "right" else 6,
             "text": f"{gpu_label}: {gpu_gib:.1f} GiB", "showarrow": False, "bgcolor": "rgba(255,255,255,0.85)"}  # fmt: skip
    return {
        "data": traces,
        "layout": {
            "height": height or 170 + 56 * len(rows),
            "barmode": "stack",
            "margin": {"l": 20, "r": 20, "t": 50, "b": 30},
            "xaxis": {"ticksuffix": " GiB", "range": [0, right]},
            "yaxis": {"automargin": True},
            "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "traceorder": "normal"},  # above: clear of the ticks
            "shapes": [
                {"type": "line", "x0": gpu_gib, "x1": gpu_gib, "y0": 0, "y1": 1, "yref": "paper", "line": {"color": "#222", "dash": "dash"}}
            ],
            "annotations": [label],
        },
    }

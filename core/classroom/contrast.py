"""Projector mode for any of our plain-dict figures: large type, thick lines, dark on white, a strong palette.

A projector washes out thin lines, pale colours and dark backgrounds, and the back row reads nothing under ~18 px.
This post-processes a finished figure (animation frames included), so the figure builders need no projector branch.
"""

from __future__ import annotations

from typing import Any

INK = "#000000"
PAPER = "#ffffff"
# the classroom's lane colours (core.classroom.figures.LANE_COLORS, D3's) → darker, more saturated ones that survive a projector
STRONG = {
    "#d62728": "#c00000",
    "#1f77b4": "#0040c0",
    "#2ca02c": "#007a00",
    "#9467bd": "#6a00b8",
    "#ff7f0e": "#d55e00",
    "#17becf": "#007b8a",
    "#4c78a8": "#2b4c7e",  # data points
    "white": "#ffd400",  # the optimum's star: white vanishes on a light surface, yellow with a black edge does not
}
# the loss surface from white (the optimum) to a mid blue-grey: coloured paths stay the most saturated thing on it
LIGHT_SURFACE = [[0.0, "#ffffff"], [0.35, "#dde6f0"], [1.0, "#7d96b4"]]
MIN_LINE = 3.0  # px: the thinnest data line on a projector


def scale_color(scale: list[list], t: float) -> str:
    """The colour at t ∈ [0, 1] on a Plotly-style colour scale ([[position, "#rrggbb"], …]), linearly in RGB."""
    t = min(max(float(t), 0.0), 1.0)
    for (p0, c0), (p1, c1) in zip(scale, scale[1:]):
        if t <= p1:
            f = (t - p0) / ((p1 - p0) or 1.0)
            a, b = (int(c0[i : i + 2], 16) for i in (1, 3, 5)), (int(c1[i : i + 2], 16) for i in (1, 3, 5))
            return "rgb({},{},{})".format(*(round(x + f * (y - x)) for x, y in zip(a, b)))
    return scale[-1][1]


def _color(c: Any) -> Any:
    return STRONG.get(c, c) if isinstance(c, str) else c


def _trace(t: dict[str, Any], scale: float, size: int = 18) -> dict[str, Any]:
    """One trace, or a frame's partial update of one (only the keys it has are touched)."""
    t = dict(t)
    level = t.get("meta", {}).get("level") if isinstance(t.get("meta"), dict) else None
    if level is not None:  # a filled level set of core.classroom.animation's loss surface
        t["fillcolor"] = scale_color(LIGHT_SURFACE, level)
        if t.get("line", {}).get("width"):
            t["line"] = {"width": 1.2, "color": "rgba(0,0,0,0.35)"}
        return t
    if t.get("type") == "contour":
        t["colorscale"] = LIGHT_SURFACE
        t["line"] = {"width": 1.2, "color": "rgba(0,0,0,0.35)"}
        if "colorbar" in t:
            t["colorbar"] = {**t["colorbar"], "tickfont": {"color": INK, "size": size}}
        return t
    if isinstance(t.get("line"), dict):
        line = {**t["line"], "color": _color(t["line"].get("color"))}
        if "width" in line:
            line["width"] = max(line["width"] * scale, MIN_LINE)
        if line.get("color") == "gray":
            line["color"] = INK
        t["line"] = line
    if isinstance(t.get("marker"), dict):
        marker = {**t["marker"], "color": _color(t["marker"].get("color"))}
        if isinstance(marker.get("size"), (int, float)):
            marker["size"] = marker["size"] * scale
        if "opacity" in marker:
            marker["opacity"] = max(marker["opacity"], 0.8)
        if isinstance(marker.get("line"), dict) and "width" in marker["line"]:
            marker["line"] = {**marker["line"], "width": marker["line"]["width"] * scale}
        t["marker"] = {k: v for k, v in marker.items() if v is not None}
    if isinstance(t.get("opacity"), (int, float)):
        t["opacity"] = max(t["opacity"], 0.6)
    return t


def _axis(a: dict[str, Any], size: int) -> dict[str, Any]:
    """Sizes are explicit: Streamlit's chart theme sets axis fonts of its own, which a layout-wide font does not reach."""
    title = a.get("title", {})
    title = {"text": title} if isinstance(title, str) else title
    return {**a, "showline": True, "linecolor": INK, "linewidth": 2, "gridcolor": "#c8c8c8", "zerolinecolor": "#888888",
            "tickfont": {"color": INK, "size": size}, "title": {**title, "font": {"color": INK, "size": size}}}  # fmt: skip


def high_contrast(fig: dict[str, Any], scale: float = 1.5) -> dict[str, Any]:
    """A projector copy of fig: fonts × scale (≥ 18 px), lines ≥ 3 px, markers × scale, black on white, strong colours."""
    lay = dict(fig.get("layout", {}))
    size = max(round(lay.get("font", {}).get("size", 12) * scale), 18)
    lay.update(font={**lay.get("font", {}), "size": size, "color": INK}, paper_bgcolor=PAPER, plot_bgcolor=PAPER)
    lay["height"] = round(lay.get("height", 400) * 1.15)  # room for the larger type; the margins grow with it, so what is
    if isinstance(lay.get("margin"), dict):  # placed below the panels in paper units (▶ Play, the slider) stays clear of them
        lay["margin"] = {k: round(v * 1.15) if k in ("t", "b") else v for k, v in lay["margin"].items()}
    for key in [k for k in lay if k.startswith(("xaxis", "yaxis"))]:
        lay[key] = _axis(lay[key], size)
    if isinstance(lay.get("scene"), dict):
        lay["scene"] = {k: (_axis(v, size) if k.endswith("axis") else v) for k, v in lay["scene"].items()}
    lay["legend"] = {**lay.get("legend", {}), "font": {"size": size, "color": INK}}
    lay["hoverlabel"] = {"font": {"size": size}}
    lay["annotations"] = [
        {**a, "font": {**a.get("font", {}), "color": INK, "size": round(a.get("font", {}).get("size", 12) * scale)},
         **({"arrowcolor": INK, "arrowwidth": a.get("arrowwidth", 1) * scale} if a.get("showarrow") else {})}
        for a in lay.get("annotations", [])
    ]  # fmt: skip
    lay["shapes"] = [{**s, "line": {**s.get("line", {}), "color": INK, "width": 2}} for s in lay.get("shapes", [])]
    if isinstance(lay.get("title"), dict):
        lay["title"] = {**lay["title"], "font": {**lay["title"].get("font", {}), "size": size, "color": INK}}
    lay["updatemenus"] = [{**m, "font": {"size": size, "color": INK}, "bgcolor": "#f0f0f0", "bordercolor": INK}
                          for m in lay.get("updatemenus", [])]  # fmt: skip
    lay["sliders"] = [
        {**s, "currentvalue": {**s.get("currentvalue", {}), "font": {"size": round(size * 1.2), "color": INK}},
         "bordercolor": INK, "activebgcolor": INK}
        for s in lay.get("sliders", [])
    ]  # fmt: skip
    out: dict[str, Any] = {"data": [_trace(t, scale, size) for t in fig.get("data", [])], "layout": lay}
    if "frames" in fig:
        out["frames"] = [{**f, "data": [_trace(t, scale) for t in f.get("data", [])]} for f in fig["frames"]]
    return out

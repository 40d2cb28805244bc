"""What every capability's figures share: Plotly figures as plain dicts, thinned traces, typed arrays, static export.

Plain dicts because they cost ~0.5 ms where a validated go.Figure of 2,000 points costs ~20 ms, and a
live chart is rebuilt every frame. Every function here is pure and testable without a browser.
"""

from __future__ import annotations

import base64
import io  # noqa: E402  (the export helpers' own imports, kept with them)
import math
import threading  # noqa: E402
from collections.abc import Sequence
from typing import Any

import numpy as np

MAX_POINTS = 2000  # per trace; the full record stays in the job's history
COLORS = {"train": "#1f77b4", "test": "#ff7f0e", "data": "#4c78a8", "fit": "#d62728"}


def decimate(n: int, max_points: int = MAX_POINTS) -> slice:
    """A stride over n points that keeps at most ~max_points and always covers the newest (see thin for the first)."""
    step = max(1, -(-n // max_points))  # ceil(n / max_points)
    return slice((n - 1) % step, n, step)  # offset so the last point is always included


def thin(values: Sequence, keep: slice) -> list:
    """values[keep], with the first value put back where the stride skipped it: a run's start stays on the chart
    (a 400,000-epoch run otherwise began at epoch 200, after the whole descent)."""
    if isinstance(values, np.ndarray):  # a live record's column: Python numbers, as from a list
        return (values[:1].tolist() if keep.start else []) + values[keep].tolist()
    picked = list(values[keep])
    return [values[0], *picked] if keep.start else picked


def finite(values: Sequence[float | None]) -> list[float | None]:
    return [v if v is not None and math.isfinite(v) else None for v in values]


PACK_MIN = 64  # shorter arrays stay JSON numbers: readable, and no smaller packed


def plain_text(text: str) -> str:
    """A name a person typed (a CSV column, a dataset) as Plotly shows it: as text. Plotly renders a subset of HTML
    in titles, names and labels (a column named <a href=…> became a link); entities show as the characters."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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


def loss_axis(title: str, log_y: bool) -> dict[str, Any]:
    """A loss axis: powers of ten, and on a log scale labels at decades only (2, 3, 5… between them crowded it)."""
    return {"title": {"text": title}, "type": "log" if log_y else "linear", "exponentformat": "power", "minorloglabels": "none"}


def sample_rows(n: int, max_points: int) -> np.ndarray:
    """Row indices to draw: all of them, or a seeded, sorted sample, so a figure is the same on every rerun."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size=max_points, replace=False))


# Latin in the app's own face, then a CJK face from whichever system has one (Linux: fonts-noto-cjk; macOS: PingFang;
# Windows: Microsoft YaHei), so Chinese titles and labels never fall back to tofu boxes
FONT_FAMILY = "'Source Sans', 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"


def with_font(figure: dict[str, Any]) -> dict[str, Any]:
    """The figure with the CJK-capable font stack, unless it names a family of its own."""
    lay = figure.get("layout", {})
    return {**figure, "layout": {**lay, "font": {"family": FONT_FAMILY, **lay.get("font", {})}}}


def layout(height: int, **extra: Any) -> dict[str, Any]:
    return {"height": height, "margin": {"l": 60, "r": 20, "t": 30, "b": 50}, **extra}


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
            return [pio.to_image(with_font(f), format="png", width=width, height=height or f["layout"].get("height", 500)) for f in figs]
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

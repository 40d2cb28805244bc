"""Placing our plain-dict Plotly figures cheaply.

st.plotly_chart turns a dict into a validated go.Figure before serialising it: ~20 ms for a 2,000-point
trace, four charts a frame at two frames a second. Our figures come from core/figures.py, whose tests
check them, so we hand Streamlit a Figure whose to_dict() is the dict itself (~2 ms). It relies on
plotly.tools.return_figure_from_figure_or_data calling to_dict() on a Figure; tests/app checks the
spec that reaches the browser is ours, so a change there fails a test rather than a page.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from core.plotting import with_font


class _Prebuilt(go.Figure):
    def __init__(self, spec: dict[str, Any]):  # noqa: D107 - deliberately skips go.Figure's validating __init__
        self._spec = spec

    def to_dict(self) -> dict[str, Any]:
        return self._spec


def plotly_chart(spec: dict[str, Any], key: str) -> None:
    st.plotly_chart(_Prebuilt(with_font(spec)), key=key)

"""A Plotly chart that stays mounted while a run streams: the browser updates it in place with Plotly.react.

st.plotly_chart hashes the figure into its element id, so every frame of a live run mounted a new chart: the
user's zoom was lost each frame and the browser redrew four charts from scratch (~200 ms a frame, 870 ms for
the first, measured in Chromium's long-task log). This component keeps one element per key; each frame
hands it the new figure and Plotly.react redraws only what changed, honouring layout.uirevision, so zoom
and pan survive. Plotly.js is the copy shipped inside the plotly package, served by Streamlit's static
file serving (server.enableStaticServing) from ui/static, beside the app script, so nothing is fetched from the internet.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import plotly
import streamlit as st

from core.i18n import _
from core.plotting import typed_arrays, with_font

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"  # beside ui/app.py (the app script), served at app/static/
PLOTLY_JS = "plotly.min.js"

_JS = """
const SRC = "app/static/plotly.min.js";  // relative to the page, so a server under a path prefix works too
let loading = null;

function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = new URL(SRC, document.baseURI).href;
      s.onload = () => resolve(window.Plotly);
      s.onerror = () => { loading = null; reject(new Error("Plotly could not be loaded")); };
      document.head.appendChild(s);
    });
  }
  return loading;
}

export default function ({ data, parentElement }) {
  let div = parentElement.querySelector(".descent-live-chart");
  const fresh = !div;
  if (fresh) {
    div = document.createElement("div");
    div.className = "descent-live-chart";
    div.style.width = "100%";
    div.style.minHeight = (data.figure.layout.height || 380) + "px";
    parentElement.appendChild(div);
  }
  div._next = data.figure;  // frames can arrive faster than they draw: draw only the newest
  if (div._drawing) return;
  div._drawing = true;
  const draw = (P) => {
    const fig = div._next;
    div._next = null;
    return P.react(div, fig.data, fig.layout, {displaylogo: false, responsive: true}).then(() => {
      if (div._next) return draw(P);
    });
  };
  // A chart already on screen updates at once; a new one draws in a task of its own, so the charts a run
  // brings up do not hold back the paint of the one already showing (the loss, when Train is pressed).
  const ready = fresh ? loadPlotly().then((P) => new Promise((r) => setTimeout(() => r(P), 0))) : loadPlotly();
  ready.then(draw).catch((e) => {
    div.textContent = (data.failed || "The live chart could not be drawn ({error}). Reload the page.").replace("{error}", e.message);
  }).finally(() => { div._drawing = false; });
}
"""


def _install_plotly_js() -> None:
    """Copy plotly.min.js from the installed plotly package into ui/static, once per server (and per upgrade)."""
    src = Path(plotly.__file__).parent / "package_data" / PLOTLY_JS
    dst = STATIC / PLOTLY_JS
    try:
        if not dst.exists() or dst.stat().st_size != src.stat().st_size:
            STATIC.mkdir(exist_ok=True)
            shutil.copyfile(src, dst)
    except OSError as e:  # a read-only install: the page says the chart could not be drawn
        log.warning("could not copy %s to %s: %s", src, dst, e)


_install_plotly_js()
_component = st.components.v2.component("descent_live_chart", js=_JS, isolate_styles=False)


def live_chart(figure: dict[str, Any], key: str) -> None:
    """Draw figure (a plain Plotly dict) under a stable key: the browser keeps the chart and updates it in place.

    Long traces travel as typed arrays (core.plotting.typed_arrays); read them back with plain_arrays."""
    failed = _("The live chart could not be drawn ({error}). Reload the page.", error="{error}")  # the browser fills in its error
    _component(key=key, data={"figure": typed_arrays(with_font(figure)), "failed": failed}, height="content")

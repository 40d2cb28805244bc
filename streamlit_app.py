"""Descent Lab: router and the sidebar every page shares."""

import logging
import os

import streamlit as st

from ui import state
from ui.cache import job_manager

if level := os.environ.get("DESCENT_LOG_LEVEL"):  # e.g. INFO: one line per finished job, for operators and benchmarks
    logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("core").setLevel(level.upper())

st.set_page_config(page_title="Descent Lab", page_icon="📉", layout="wide")

pages = [
    st.Page("app_pages/environment.py", title="Environment", icon=":material/memory:"),
    st.Page("app_pages/data.py", title="Data", icon=":material/scatter_plot:", url_path="data"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:", url_path="train"),
    st.Page("app_pages/descent.py", title="Gradient descent", icon=":material/landscape:", url_path="descent"),
    st.Page("app_pages/memory.py", title="Will it fit?", icon=":material/memory_alt:", url_path="fit"),
    st.Page("app_pages/runs.py", title="Runs", icon=":material/history:", url_path="runs"),
]
page = st.navigation(pages)

manager = job_manager()  # starts the workers on first visit, so they are warm by the first Train click
with st.sidebar:
    st.markdown("### Descent Lab")
    ds = state.current_dataset()
    st.caption(f"**Data:** {ds.name}, {len(ds):,} rows · {', '.join(ds.features)} → {ds.target}")

    @st.fragment(run_every=10)
    def heartbeat() -> None:
        """While any page of this tab is open its runs are wanted; a closed tab's runs are stopped (JobPolicy)."""
        manager.heartbeat(state.session_id())
        ready = manager.workers_ready()
        st.caption(f"**Workers:** {ready} of {len(manager.worker_pids())} ready" + ("" if ready else " (warming up torch…)"))

    heartbeat()

page.run()

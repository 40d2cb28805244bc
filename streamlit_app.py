"""Descent Lab's server: `streamlit run streamlit_app.py` serves ui/app.py, the app script, and warms up as it starts.

st.App is how Streamlit lets code run at server start and stop (its lifespan); see ui/warm_up.py for why.
"""

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import streamlit as st

from ui import closed_sessions, warm_up

if level := os.environ.get("DESCENT_LOG_LEVEL"):  # e.g. INFO: one line per finished job, for operators and benchmarks
    logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("core").setLevel(level.upper())


@asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    started = warm_up.start()
    sweeper = asyncio.create_task(closed_sessions.sweep())  # closed tabs' state is let go past its reconnect window
    yield
    sweeper.cancel()
    # uvicorn re-raises SIGTERM once it has shut down, which ends the process before any atexit hook runs:
    # stop the workers and mark unfinished runs interrupted here
    for manager in started:
        manager.shutdown()


app = st.App(Path(__file__).resolve().parent / "ui" / "app.py", lifespan=lifespan)

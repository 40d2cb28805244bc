"""The server's warm-up (streamlit_app.py): what a first visit would wait for, done as the server starts.

Streamlit runs the app script only once a browser connects, so the first visitor would wait while that run
imports pandas, SQLAlchemy, Plotly and core (~0.7 s here) and only then start the training workers. The
warm-up does both in a thread while the browser is still loading Streamlit's JavaScript (~1 s). torch is
never imported here: the workers import it in their own processes.
"""

from __future__ import annotations

import ast
import importlib
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.runs import JobManager

ROOT = Path(__file__).resolve().parents[1]
THREAD = "descent-warm-up"
log = logging.getLogger("core.warm_up")
_done = threading.Event()
_done.set()  # nothing to wait for until start(): AppTest runs the app script without a server


def import_pages() -> None:
    """Import every module the app script and the pages import at their top level."""
    for path in [ROOT / "ui" / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    importlib.import_module(alias.name)
            elif isinstance(node, ast.ImportFrom) and not node.level:
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name):  # a submodule, as in `from ui import state`
                        importlib.import_module(f"{node.module}.{alias.name}")


def start() -> list[JobManager]:
    """Warm up in a thread; the list gets the worker pool once it has started, for the server to stop at its end."""
    started: list[JobManager] = []
    _done.clear()
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_outside_sessions)
    threading.Thread(target=_warm_up, args=(started,), daemon=True, name=THREAD).start()
    return started


def wait() -> None:
    """A visit during the warm-up waits for it rather than importing the same modules alongside it."""
    _done.wait(timeout=60)


def _warm_up(started: list[JobManager]) -> None:
    try:
        import_pages()
        from ui.cache import job_manager

        started.append(job_manager())
    except Exception:  # the first script run meets the same error and shows it properly
        log.exception("warm-up failed")
    finally:
        _done.set()


def _outside_sessions(record: logging.LogRecord) -> bool:
    """Streamlit warns when a cached function runs outside a session; the warm-up does so on purpose."""
    return record.threadName != THREAD

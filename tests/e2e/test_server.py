"""`streamlit run streamlit_app.py` itself: warm before anyone visits, torch kept out, a clean stop on SIGTERM."""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def worker_pids(server_pid: int) -> list[int]:
    """The server's training workers (its other child is multiprocessing's resource tracker)."""
    pids = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    return [int(p) for p in pids if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]


def test_the_server_starts_its_workers_before_any_visit_and_stops_them_on_sigterm(tmp_path, port):
    env = {**os.environ, "DESCENT_WORKERS": "1", "DESCENT_DB": str(tmp_path / "runs.db")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while not workers:  # no browser has connected: only the warm-up can have started them
            assert proc.poll() is None and time.monotonic() < deadline, "no worker started"
            time.sleep(0.2)
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                workers = worker_pids(proc.pid)
            except OSError:
                continue
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode is not None
    for pid in workers:  # joined by the lifespan's shutdown, not left to notice the closed pipe
        assert not Path(f"/proc/{pid}").exists()
    assert "leaked" not in out and "Traceback" not in out and "missing ScriptRunContext" not in out, out


def test_the_warm_up_imports_what_the_pages_import_and_never_torch():
    code = (
        "import sys\n"
        "from ui import warm_up\n"
        "warm_up.import_pages()\n"
        "assert {'pandas', 'sqlalchemy', 'plotly.graph_objects', 'core.runs.manager', 'ui.state', 'ui.live_chart'} <= set(sys.modules)\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


def test_a_fresh_server_first_visited_at_train_shows_the_titled_navigation(tmp_path, port, browser):
    """With pages/ at the top level, Streamlit would take it for a v1 multipage app when a server's first visit is a
    page URL, listing file names; the app script lives in ui/ so st.navigation holds. Its static folder (plotly.js
    for the live chart) lives beside it, so the empty loss chart draws and no start-up warning says it is missing."""
    env = {**os.environ, "DESCENT_WORKERS": "1", "DESCENT_DB": str(tmp_path / "runs.db")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/train")
        page.get_by_role("button", name="Train", exact=True).wait_for(timeout=60_000)
        nav = page.get_by_test_id("stSidebarNav")
        for title in ("Environment", "Data", "Train", "Gradient descent", "Will it fit?", "Runs"):
            assert nav.get_by_text(title, exact=True).count() == 1, title
        assert nav.get_by_text("train", exact=True).count() == 0  # a v1 multipage app would list the file name
        page.locator(".descent-live-chart .main-svg").first.wait_for(timeout=30_000)  # plotly.js came from ui/static
        assert page.get_by_text("could not be drawn").count() == 0
    finally:
        context.close()
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "static folder" not in out.lower() and "Traceback" not in out, out

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
        "assert {'pandas', 'sqlalchemy', 'plotly.graph_objects', 'core.jobs', 'ui.state', 'ui.live_chart'} <= set(sys.modules)\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr

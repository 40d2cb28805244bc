"""The smoke test runs here (no GPU): it checks the CPU, says there is no GPU, and streams one JSON line per step."""

import json
import subprocess
import sys
import time
from pathlib import Path

from core.env.smoke import SmokeProcess, format_event

ROOT = Path(__file__).resolve().parents[3]


def test_cli_smoke_json_streams_steps_and_a_summary():
    out = subprocess.run(
        [sys.executable, "-m", "core", "env", "--smoke", "--json", "--quick", "--no-compile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    steps = {(e.get("step"), e.get("device")): e for e in events}
    assert steps[("matmul check", "cpu")]["status"] == "ok" and steps[("matmul check", "cpu")]["max_rel_error"] < 1e-4
    assert steps[("TFLOP/s fp32", "cpu")]["tflops"] > 0
    if not any(d and d.startswith("cuda") for _, d in steps):
        assert "No CUDA GPU" in steps[("GPU", "")]["message"]
    assert events[-1] == {"summary": True, "status": "ok", "failed": []}


def test_smoke_process_collects_events_from_the_child():
    proc = SmokeProcess(quick=True, compile_check=False)
    deadline = time.monotonic() + 120
    while not proc.done():
        assert time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(0.2)  # let the reader thread drain the pipe
    events = proc.events()
    assert events[0]["step"] == "import torch" and events[-1]["summary"] is True
    assert format_event(events[1]).startswith("ok   matmul check [cpu]")

"""How much does watching a run live slow it down? Method: ../shared/DESIGN.md, "Measuring the live view's cost".

Runs one config (house_prices, n = 1,000, SGD lr 0.1, full batch) long enough that the trainer alone takes
≥ 5 s, (a) through `core.training.train` alone and (b) through the real app in headless Chromium with the
chart open (Train click → final epoch drawn). The server and its workers are pinned to one core, the
browser to the other, as a user's browser runs on their own machine; the baseline is pinned to the
server's core too, with the worker's torch thread cap.

    .venv/bin/python benchmarks/stream_overhead.py [--target-s 6.5] [--runs 3]

The machine is shared and noisy (one run's ratio ranged 1.17-1.55 here, and the trainer alone 18-24 µs an
epoch within an hour), so the app runs --runs times in one server with the trainer alone run before the first
and after each: each app run is divided by the mean of the two baselines around it, and the ratio is the median.
Prints each run, the ratio and the latencies (Train click → first point, last epoch → drawn); cold start is
benchmarks/cold_start.py's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from procstat import children, cpu_s, free_port, wait_until_answers  # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
SERVER_CORE, BROWSER_CORE = 1, 0
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LR = 0.1

BASELINE = """
import json, os, sys, time
os.sched_setaffinity(0, {{{core}}})
import torch
torch.set_num_threads(1)
from core.data import make_dataset
from core.training import TrainConfig, train
ds = make_dataset("house_prices", n=1000, noise=0.1, seed=0)
train(ds, TrainConfig(epochs=50, lr={lr}))  # warm, as the app's worker is
t = time.perf_counter()
r = train(ds, TrainConfig(epochs={epochs}, lr={lr}))
print(json.dumps({{"wall_s": time.perf_counter() - t, "epochs": len(r.history)}}))
"""

LAST_EPOCH_DRAWN = """() => {
  const plot = document.querySelector('.js-plotly-plot');
  if (!plot || !plot._fullData || !plot._fullData.length) return 0;
  const x = plot._fullData[0].x;  // decoded: plot.data keeps the typed-array spec the server sent
  return x.length ? x[x.length - 1] : 0;
}"""


def trainer_alone(epochs: int) -> float:
    code = BASELINE.format(core=SERVER_CORE, lr=LR, epochs=epochs)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["wall_s"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target-s", type=float, default=6.5, help="trainer-alone wall time to aim for (≥ 5)")
    parser.add_argument("--runs", type=int, default=3, help="app runs in one server (the ratio takes their median)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    if (os.cpu_count() or 1) < 2:
        sys.exit("needs two cores: one for the server and its workers, one for the browser")

    probe_epochs = int(os.environ.get("PROBE_EPOCHS", 2000))
    per_epoch = trainer_alone(probe_epochs) / probe_epochs
    epochs = int(args.target_s / per_epoch)
    baselines = [trainer_alone(epochs)]  # and again after each app run: each run is compared with the two around it
    print(f"trainer alone: {epochs:,} epochs in {baselines[0]:.2f} s ({baselines[0] / epochs * 1e6:.0f} µs/epoch)")

    port = free_port()
    env = {**os.environ, "DESCENT_LOG_LEVEL": "INFO", "DESCENT_WORKERS": "1"}
    url = f"http://127.0.0.1:{port}"
    os.sched_setaffinity(0, {BROWSER_CORE})  # Chromium inherits this; the server is pinned by taskset
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        server = subprocess.Popen(
            ["taskset", "-c", str(SERVER_CORE), sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
             "--server.port", str(port), "--server.address", "127.0.0.1"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            wait_until_answers(url, server)
            page.goto(f"{url}/train")
            page.get_by_role("heading", name="Train").wait_for(timeout=60_000)
            while not page.get_by_text(re.compile(r"Workers:.*1 of 1 ready")).is_visible():  # a warm worker
                time.sleep(0.5)
                page.reload()
                page.get_by_role("heading", name="Train").wait_for(timeout=60_000)
            for label, value in (("Learning rate", str(LR)), ("Epochs", str(epochs))):
                box = page.get_by_label(label, exact=True)
                box.fill(value)
                box.press("Enter")
            time.sleep(1.0)  # let the settings' reruns settle

            workers = children(server.pid)
            runs = []  # per run: (click → last epoch drawn, click → first point, drawn at, CPU per process)
            for _ in range(args.runs):
                cpu0 = {pid: cpu_s(pid) for pid in [server.pid, *workers]}
                t_click = time.time()
                page.get_by_role("button", name="Train", exact=True).click()
                # the chart still shows the previous run until this one's first frame: wait for a newest epoch below the end
                page.wait_for_function(f"(e => e > 0 && e < {epochs})(({LAST_EPOCH_DRAWN})())", polling="raf", timeout=60_000)
                first_point_s = time.time() - t_click
                page.wait_for_function(f"({LAST_EPOCH_DRAWN})() === {epochs}", polling="raf", timeout=600_000)
                t_drawn = time.time()
                runs.append((t_drawn - t_click, first_point_s, t_drawn, {pid: cpu_s(pid) - c for pid, c in cpu0.items()}))
                page.get_by_text(re.compile("Completed")).wait_for(timeout=30_000)
                time.sleep(1.0)
                baselines.append(trainer_alone(epochs))  # the server idles meanwhile
            browser.close()
        finally:
            server.terminate()
            log, _ = server.communicate(timeout=30)

    print("trainer alone, before and after each app run:", ", ".join(f"{b:.2f} s" for b in baselines))
    ratios = []
    arrived = [float(m) for m in re.findall(r"job \S+ last epoch arrived at ([\d.]+)", log)]
    for i, (app_s, first_point_s, t_drawn, cpu) in enumerate(runs):
        baseline_s = (baselines[i] + baselines[i + 1]) / 2
        ratios.append(app_s / baseline_s)
        end_latency = f"{t_drawn - arrived[i]:.2f} s" if i < len(arrived) else "n/a (no job log line)"
        print(f"app run {i + 1}: {app_s:.2f} s (Train click → epoch {epochs:,} drawn), {app_s / baseline_s:.2f} × the trainer alone; "
              f"CPU: server {cpu[server.pid]:.2f} s, worker(s) {sum(v for p, v in cpu.items() if p != server.pid):.2f} s; "
              f"Train click → first point {first_point_s:.2f} s; last epoch → drawn {end_latency}")  # fmt: skip
    print(f"ratio {statistics.median(ratios):.2f} (median over the app runs of app ÷ trainer alone around it; target ≤ 1.25)")
    if os.environ.get("VERBOSE"):
        print(f"click at {t_click:.3f}", *[line for line in log.splitlines() if "core.runs" in line], sep="\n")


if __name__ == "__main__":
    main()

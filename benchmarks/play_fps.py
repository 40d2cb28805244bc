"""Frames per second of the classroom's ▶ Play in headless Chromium (the animation runs in the browser).

Starts `streamlit run` on a free port, opens a lesson at a speed, presses "⟲ From the start" in the chart and counts,
until Plotly reports the animation ended:
  - Plotly's plotly_animatingframe events (a frame applied), and
  - distinct values of the slider's "Epoch n" label sampled every requestAnimationFrame (a frame on screen).
Prints one line per run with both rates, the requested rate and the figure's payload (JSON bytes, frames).
Run under the shared lock: flock /tmp/descent-bench.lock .venv/bin/python benchmarks/play_fps.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from procstat import free_port, wait_until_answers  # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]

FIND = "() => [...document.querySelectorAll('.js-plotly-plot')].some(el => el._transitionData && el._transitionData._frames.length)"
ARM = """() => {
  const el = [...document.querySelectorAll('.js-plotly-plot')].find(el => el._transitionData && el._transitionData._frames.length);
  const frames = el._transitionData._frames;
  const w = window.__play = {events: [], drawn: [], done: false, frames: frames.length,
    bytes: JSON.stringify({data: el.data, layout: el.layout, frames: frames}).length};
  el.on('plotly_animatingframe', e => w.events.push([performance.now(), e.name]));
  el.on('plotly_animated', () => { w.done = true; });
  let cur = null;  // the slider's "Epoch n" text, which Plotly rewrites as each frame is shown
  const label = () => {
    if (!cur || !cur.isConnected) cur = [...el.querySelectorAll('text.slider-label')].find(t => t.textContent.startsWith('Epoch'));
    return cur ? cur.textContent : '';
  };
  const tick = () => {
    const s = label();
    if (!w.drawn.length || w.drawn[w.drawn.length - 1][1] !== s) w.drawn.push([performance.now(), s]);
    if (!w.done) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


def rate(samples: list) -> float:
    """Frames per second between the first and the last sample."""
    if len(samples) < 2:
        return 0.0
    return (len(samples) - 1) / ((samples[-1][0] - samples[0][0]) / 1000)


def start_server(port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port), "--server.address", "127.0.0.1",
           "--server.fileWatcherType", "none"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    wait_until_answers(f"http://127.0.0.1:{port}", proc, poll_s=0.2)
    return proc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lessons", default="good,ravine", help="comma-separated lesson keys")
    ap.add_argument("--speeds", default="15,20", help="comma-separated epochs/s (core.classroom.lessons.SPEEDS)")
    ap.add_argument("--runs", type=int, default=2, help="plays per lesson and speed")
    ap.add_argument("--projector", action="store_true", help="projector mode (high contrast, larger)")
    ap.add_argument("--screenshot", default="", help="folder: save a screenshot of each lesson's page before playing")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = start_server(port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1700})  # Streamlit scrolls inside: tall shows all
            for lesson in args.lessons.split(","):
                for speed in (int(s) for s in args.speeds.split(",")):
                    q = f"lesson={lesson}&view=play&speed={speed}&projector={int(args.projector)}"
                    page.goto(f"http://127.0.0.1:{port}/descent?{q}")
                    page.wait_for_function(FIND, timeout=180_000)  # the lanes have trained and the figure is drawn
                    page.wait_for_timeout(1500)
                    if args.screenshot:
                        out = Path(args.screenshot) / f"play-{lesson}{'-projector' if args.projector else ''}.png"
                        out.parent.mkdir(parents=True, exist_ok=True)
                        page.screenshot(path=str(out), full_page=True)
                        print(f"screenshot: {out}")
                    for run in range(args.runs):
                        page.evaluate(ARM)
                        page.get_by_text("⟲ From the start").click()
                        page.wait_for_function("window.__play.done", timeout=120_000, polling=200)
                        w = page.evaluate("window.__play")
                        drawn = [d for d in w["drawn"] if d[1]][1:]  # from the first change on
                        print(json.dumps({
                            "lesson": lesson, "speed": speed, "run": run + 1, "frames": w["frames"], "payload_kB": round(w["bytes"] / 1024),
                            "events": len(w["events"]), "fps_events": round(rate(w["events"]), 1),
                            "fps_drawn": round(rate(drawn), 1), "asked_fps": speed,
                        }))  # fmt: skip
                        page.wait_for_timeout(300)
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()

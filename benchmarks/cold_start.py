"""Cold start: `streamlit run` → first page drawn, as the median of several fresh servers.

The browser is open before each server starts, as a user's is. The server and everything it spawns are pinned
to one core and the browser to the other, as in stream_overhead.py. "Drawn" means the page's main control is
on screen, not only its title: the Train button on /train; on /environment the probe's "importing torch" notice
or its verdicts. "Worker warm" is the server's log line for it.

Two kinds of browser:
- first visit (default): a fresh profile each time, so all of Streamlit's JavaScript is fetched and compiled;
- --returning: one profile that has seen the app before on the same port, as a laptop's browser usually has
  (Streamlit's assets are cached as immutable for a year).

    .venv/bin/python benchmarks/cold_start.py [--repeats 5] [--page train|environment] [--returning]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from procstat import free_port, wait_until_answers  # benchmarks/ is on sys.path when run as a script
from stream_overhead import BROWSER_CORE, CHROMIUM_ARGS, SERVER_CORE

ROOT = Path(__file__).resolve().parents[1]
PAGES = {  # page → (path, JavaScript: is its main control on screen?)
    "train": ("/train", "[...document.querySelectorAll('button')].some(b => b.textContent.trim() === 'Train')"),
    "environment": ("/environment", "/Probing torch|Verdicts/.test(document.body ? document.body.textContent : '')"),
}
# when the page is drawn, to the millisecond: a locator's wait polls at growing intervals (up to 0.5 s here)
WATCH = """drawn => new MutationObserver((_, watcher) => {
  if (drawn()) { window.drawnAt = performance.timeOrigin + performance.now(); watcher.disconnect(); }
}).observe(document, {subtree: true, childList: true, characterData: true})"""


def one_start(context, page_name: str, port: int, script: str = "streamlit_app.py") -> dict[str, float]:
    path, drawn = PAGES[page_name]
    url = f"http://127.0.0.1:{port}"
    page = context.new_page()
    page.add_init_script(f"({WATCH})(() => {drawn})")
    t0 = time.time()
    server = subprocess.Popen(
        ["taskset", "-c", str(SERVER_CORE), sys.executable, "-m", "streamlit", "run", script,
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env={**os.environ, "DESCENT_WORKERS": "1", "DESCENT_LOG_LEVEL": "INFO"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    ready = threading.Event()
    threading.Thread(target=watch_log, args=(server, ready), daemon=True).start()
    try:
        wait_until_answers(url, server, poll_s=0.02)
        t = {"server answers": time.time() - t0}
        page.goto(url + path, wait_until="load")
        t["load event"] = time.time() - t0
        page.wait_for_function("() => window.drawnAt", timeout=60_000)
        t["page drawn"] = page.evaluate("window.drawnAt") / 1000 - t0
        ready.wait(timeout=60)
        t["worker warm"] = time.time() - t0 if ready.is_set() else float("nan")
        return t
    finally:
        page.close()
        server.terminate()
        server.wait(timeout=30)
        stop_group(server.pid)


def watch_log(server: subprocess.Popen, ready: threading.Event) -> None:
    """Read the server's log to its end (a full pipe would stall it); set ready at its first warm worker."""
    for line in server.stdout:
        if re.search(r"worker \d+ ready", line):
            ready.set()


def stop_group(pgid: int) -> None:
    """The next start must not share its core with this one's workers or probe, should any outlive the server."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    while subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True).returncode == 0:
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--page", choices=sorted(PAGES), default="train")
    parser.add_argument("--returning", action="store_true", help="a browser that has visited the app before")
    parser.add_argument("--script", default="streamlit_app.py", help="what `streamlit run` runs (to compare entry points)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    os.sched_setaffinity(0, {BROWSER_CORE})  # Chromium inherits this; the server is pinned by taskset
    from playwright.sync_api import sync_playwright

    starts = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        browser.new_page().goto("about:blank")  # the browser process itself is running, as a user's is
        viewport = {"width": 1400, "height": 1000}
        port = free_port()
        returning = browser.new_context(viewport=viewport) if args.returning else None
        if returning:
            one_start(returning, args.page, port, args.script)  # the earlier visit that filled the cache; not counted
        for i in range(args.repeats):
            context = returning or browser.new_context(viewport=viewport)
            starts.append(one_start(context, args.page, port if returning else free_port(), args.script))
            if not returning:
                context.close()
            print(f"start {i + 1}: " + ", ".join(f"{k} {v:.2f} s" for k, v in starts[-1].items()), flush=True)
        browser.close()
    kind = "returning browser" if args.returning else "first visit"
    print(f"median of {len(starts)} ({PAGES[args.page][0]}, {kind}): "
          + ", ".join(f"{k} {statistics.median(s[k] for s in starts):.2f} s" for k in starts[0]))  # fmt: skip


if __name__ == "__main__":
    main()

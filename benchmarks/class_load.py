"""A class of N students submits within a window, and one projector shows every lane: how long until each lane is drawn.

Starts `streamlit run` on loopback (its own throwaway run store; benchmarks/load.py's server, pinned to one core where
there are two). One headless Chromium page is the teacher: it opens the Gradient descent page, presses "Start a class",
turns on the projector view at 1280×720, and a probe in the page stamps (Date.now()) the first time each student's
lane is drawn on the contour chart with its path (a trace of the lane's nickname with more than one point). N students
are protocol clients (benchmarks/load.py's ProtocolSession: Streamlit's websocket protocol, no browser): each opens
/class?code=…, joins with a nickname, then at its own moment spread evenly over --window seconds submits an η (spread
over the lesson's range, so some converge, some oscillate, some diverge) and a prediction, stamping time.time() as it
sends the press; then it keeps polling as a student's page does (its 1 s fragment) until the end.

Lane latency = drawn on the projector − submit pressed, both on this machine's wall clock. Prints p50/p95/max, how many
lanes were drawn, the peak RSS of the server process (and with its workers) against the bar (--memory-bar-mb, default
the ~225 MB docs/deploy.md gives for the server under benchmarks/load.py's 20 sessions), and any error a student saw.
--shots DIR: after the round, reveal the outcomes, highlight one lane and save the projector at 1280×720 and 1920×1080.

    .venv/bin/python benchmarks/class_load.py [--students 30] [--window 10] [--timeout 180] [--shots /tmp/wt22_shots]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]
from load import (  # noqa: E402
    BROWSER_CORE,
    CHROMIUM,
    CHROMIUM_ARGS,
    XSRF_COOKIE,
    ProtocolSession,
    RssSampler,
    pct,
    spread,
    start_server,
    xsrf_cookie,
)
from procstat import free_port  # noqa: E402

PAGE = "class"
LANES_PROBE = """(() => {
  window.__seen = {};  // nickname → Date.now() when its lane was first drawn with a path on the contour chart
  setInterval(() => {
    for (const el of document.querySelectorAll('.js-plotly-plot')) {
      const data = el._fullData || [];
      if (!data.some(t => t.type === 'contour')) continue;
      for (const t of data) {
        if (t.meta && t.meta.lane && t.x && t.x.length > 1 && !(t.name in window.__seen)) window.__seen[t.name] = Date.now();
      }
    }
  }, 50);
})();"""


class Student(ProtocolSession):
    """A student's tab: the class page with its code in the query string; widgets found by key, buttons also by label."""

    def __init__(self, url: str, out: dict, code: str):
        super().__init__(url, out)
        self.query_string = f"code={code}"

    def rerun(self, fragment_id: str = "", trigger: str | None = None, auto: bool = False) -> bytes:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        msg.ParseFromString(super().rerun(fragment_id, trigger, auto))
        cs = msg.rerun_script
        if not self.page_hash:
            cs.page_name = PAGE
        cs.context_info.url = f"{self.url}/{PAGE}?{self.query_string}"
        return msg.SerializeToString()

    def on_element(self, el, now: float, epochs: int) -> None:  # noqa: ANN001 - a streamlit.proto Element
        kind = el.WhichOneof("type")
        if kind in ("button", "text_input", "number_input", "radio"):
            wid = getattr(el, kind).id
            self.ids[wid.rsplit("-", 1)[-1]] = wid
            if kind == "button":
                self.ids[el.button.label] = wid
        elif kind == "alert":
            if el.alert.body.startswith("Submitted"):
                self.out.setdefault("submitted", now)
            elif el.alert.format == 1:  # ERROR
                self.out.setdefault("error", el.alert.body[:200])
        elif kind == "exception":
            self.out["exception"] = self.out.get("exception", 0) + 1


async def student(url: str, code: str, name: str, lr: float, prediction: str, at: float, stop: asyncio.Event, out: dict) -> None:
    from websockets.asyncio.client import connect

    out.update(name=name, log=[], stage="open")
    s = Student(url, out, code)
    receiver = None
    try:
        token = await asyncio.to_thread(xsrf_cookie, url)
        async with connect(f"ws://{url.split('://', 1)[1]}/_stcore/stream", subprotocols=["streamlit", token], origin=url,
                           additional_headers={"Cookie": f"{XSRF_COOKIE}={token}"}, max_size=None, ping_interval=None) as ws:  # fmt: skip
            s.ws = ws
            receiver = asyncio.create_task(s.receive(0))
            s.finished.clear()
            await s.send(s.rerun())
            while "Join" not in s.ids:
                await s.wait_run(60)
                s.finished.clear()
            out["stage"] = "join"
            s.values = {"class_join_code": ("string_value", code), "class_nickname": ("string_value", name)}
            await s.send(s.rerun(trigger="Join"))
            while "Submit my lane" not in s.ids:
                await s.wait_run(60)
                s.finished.clear()
            out["stage"] = "wait to submit"
            await asyncio.sleep(max(0.0, at - time.time()))
            s.values = {"class_lr": ("double_value", lr), "class_prediction": ("string_value", prediction),
                        "class_epochs": ("int_value", 20)}
            out["clicked"] = time.time()
            await s.send(s.rerun(trigger="Submit my lane"))
            out["stage"] = "polling"
            await stop.wait()
    except Exception as e:  # noqa: BLE001 - one student's failure is a figure, not the end of the benchmark
        out["error"] = f"{out['stage']}: {type(e).__name__}: {e}"[:200]
    finally:
        s.clear_timers()
        if receiver is not None:
            receiver.cancel()


async def projector_page(browser, url: str) -> tuple:  # noqa: ANN001 - a Playwright Browser
    page = await (await browser.new_context(viewport={"width": 1280, "height": 720})).new_page()
    await page.goto(f"{url}/descent?lesson=good")
    await page.get_by_role("button", name="Start a class").click(timeout=120_000)
    await page.wait_for_url("**/class?code=*", timeout=60_000)
    code = page.url.split("code=", 1)[1][:6]
    await page.get_by_text("Projector view").click()
    await page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=60_000)
    await page.evaluate(LANES_PROBE)
    return page, code


async def drive(url: str, n: int, window: float, timeout: float, shots: Path | None, pin: bool) -> tuple[list[dict], dict]:
    from playwright.async_api import async_playwright

    from core.classroom.class_results import class_setup
    from core.classroom.lessons import LESSONS

    lo, hi = class_setup(LESSONS["good"]).lr_range
    if pin:
        os.sched_setaffinity(0, {BROWSER_CORE})  # this process and the Chromium it starts: off the server's core
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page, code = await projector_page(browser, url)
        stop = asyncio.Event()
        t0 = time.time() + 5  # everyone joins first
        outs = [{} for _ in range(n)]
        preds = ("converges", "oscillates", "diverges")
        tasks = [asyncio.create_task(student(url, code, f"s{i:02d}", round(lo * (hi / lo) ** (i / max(n - 1, 1)), 4), preds[i % 3],
                                             t0 + window * i / max(n - 1, 1), stop, outs[i]))
                 for i in range(n)]  # fmt: skip
        deadline = time.monotonic() + timeout
        seen: dict = {}
        while time.monotonic() < deadline and len(seen) < n and time.time() < t0 + window + 30:  # 30 s past the last press: lost
            await asyncio.sleep(0.5)
            seen = await page.evaluate("window.__seen")
        if shots is not None:
            try:
                await screenshots(page, shots)
            except Exception as e:  # noqa: BLE001 - the figures above still count
                print(f"screenshots failed: {type(e).__name__}: {e}"[:300])
        stop.set()
        await asyncio.gather(*tasks)
        await browser.close()
    return outs, seen


async def screenshots(page, shots: Path) -> None:  # noqa: ANN001 - a Playwright Page
    shots.mkdir(parents=True, exist_ok=True)
    await page.get_by_role("button", name="Reveal outcomes").click()
    await page.wait_for_timeout(1500)
    await page.locator('[data-testid="stSelectbox"]').first.click()  # the teacher's highlight: one lane thick and on top
    await page.keyboard.type("s16")
    await page.keyboard.press("Enter")
    await page.wait_for_timeout(2500)
    await page.screenshot(path=str(shots / "projector_1280x720.png"))
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await page.get_by_text("1920×1080").click()
    await page.wait_for_timeout(3000)
    await page.screenshot(path=str(shots / "projector_1920x1080.png"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--window", type=float, default=10.0, help="seconds over which the submissions are spread")
    ap.add_argument("--timeout", type=float, default=180.0)
    ap.add_argument("--memory-bar-mb", type=float, default=225.0)
    ap.add_argument("--shots", type=Path)
    ap.add_argument("--no-pin", action="store_true")
    args = ap.parse_args()
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")
    db = os.path.join(tempfile.mkdtemp(prefix="descent-class-"), "runs.db")
    port = free_port()
    server = start_server(port, db, pin)
    sampler = RssSampler(server.pid)
    sampler.start()
    try:
        outs, seen = asyncio.run(drive(f"http://127.0.0.1:{port}", args.students, args.window, args.timeout, args.shots, pin))
    finally:
        sampler.done.set()
        sampler.join()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    lat = [seen[o["name"]] / 1000 - o["clicked"] for o in outs if "clicked" in o and o["name"] in seen]
    clicks = [o["clicked"] for o in outs if "clicked" in o]
    errors = [o["error"] for o in outs if "error" in o]
    print(f"class of {args.students} protocol students + 1 Chromium projector (1280×720); lesson 'good'; "
          f"DESCENT_WORKERS={os.environ.get('DESCENT_WORKERS', 'default')}; pinned={'yes' if pin else 'no'}")  # fmt: skip
    print(f"submissions: {len(clicks)} within {max(clicks) - min(clicks):.1f} s" if clicks else "submissions: none")
    print(f"lanes drawn on the projector: {len(lat)}/{args.students}; errors seen by students: {len(errors)}")
    for e in errors[:5]:
        print(f"  error: {e}")
    print(f"Python tracebacks on students' screens: {sum(o.get('exception', 0) for o in outs)}")
    print(f"lane latency (submit pressed → drawn on the projector): {spread(lat)}; max {max(lat, default=float('nan')):.2f} s")
    p95 = pct(lat, 0.95) if lat else float("nan")
    print(f"p95 {p95:.2f} s against 3 s: {'met' if lat and len(lat) == args.students and p95 <= 3 else 'NOT met'}")
    ok = sampler.peak_server <= args.memory_bar_mb
    print(f"peak RSS: server process {sampler.peak_server:.0f} MB (bar {args.memory_bar_mb:.0f} MB: {'within' if ok else 'OVER'}); "
          f"server + workers {sampler.peak_total:.0f} MB")  # fmt: skip
    if args.shots:
        print(f"screenshots: {args.shots / 'projector_1280x720.png'}, {args.shots / 'projector_1920x1080.png'}")
    print(f"server log: {Path(db).with_name('server.log')}")


if __name__ == "__main__":
    main()

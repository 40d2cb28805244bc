"""Many people press Train at once: N sessions against one local server, each training through the real app.

Starts `streamlit run` on loopback (its own throwaway run store, DESCENT_WORKERS left at its default) and runs N
sessions, each: open /train, set Epochs, press Train (all at once, behind a barrier), wait for "Completed 2,000
epochs". By default N − 1 of them are protocol clients and one (--pages) is a real Chromium page that draws:
- protocol client (ProtocolSession): speaks Streamlit's websocket protocol itself, as the frontend does, with no
  browser: GET /_stcore/health for the XSRF cookie, connect to ws://…/_stcore/stream with subprotocols
  ["streamlit", <cookie>] and the cookie; send BackMsg rerun_script (page_name "train", later the page_script_hash
  the server announced, and the query string the server last set), set Epochs as an int_value WidgetState under the
  widget's id (found in the deltas: a keyed widget's id ends with its key), press Train as a trigger_value; answer
  every ForwardMsg auto_rerun (the live view's 0.5 s fragment, the sidebar's 10 s heartbeat) with a fragment rerun
  each interval until a stop_auto_rerun or a full run's new_session. It draws nothing: the loss chart (a
  components-v2 bidi_component whose json holds {"figure": …}) counts as drawn when its element arrives.
- Chromium page (--browser: every session one, --drawing of them drawing, the rest with Plotly stubbed out): a
  browser context in one headless Chromium. 20 pages saturate a core by themselves, and the browser's own
  fragment timers then pace the server, so this mode measures the browser more than the server.
The server and its workers are pinned to one core and this process (protocol clients, Playwright) and the browser
to the other where the machine has two or more (DESIGN.md, "Measuring the live view's cost"). Everything is
bounded by --timeout.

    .venv/bin/python benchmarks/load.py [--sessions 20] [--epochs 2000] [--timeout 420] [--pages 1] [--browser]

Prints: every session finished (yes/no), failures, total wall time, per-session queue wait and run time
(median, p95, from the run store), press → completed as each session saw it, chart latency (below) for the
protocol clients and the Chromium pages apart, peak RSS of the server process and of its workers, CPU of server,
workers, browser and this process, and whether any process of the server was left behind after it stopped.
--raw writes every session's timeline (for a protocol client, each non-delta ForwardMsg and auto rerun it sent).

Chart latency of an epoch = the wall-clock time it was first drawn in that session's loss chart − the time the
worker finished it. Both ends are stamped with the one wall clock of this machine (time.time() in Python,
Date.now() in Chromium):
- worker end: a probe in the server's worker processes stamps each epoch as the trainer hands it over (before
  the worker's ~0.1 s send buffer). The run store has no per-epoch times, so the benchmark installs the probe
  itself: a sitecustomize.py on the server's PYTHONPATH wraps core.runs.worker.run in each worker and
  JobManager._handle in the server (which stamps when each chunk of epochs reaches the server). App code is
  unchanged; the probe adds one time.time() per epoch.
- client end: a protocol client stamps the newest epoch (last x) of the "train loss" trace of each loss chart as
  its message is decoded; a Chromium page polls every 100 ms, and on every plotly_afterplot event, for the newest
  epoch of the trace named "train loss" in any .js-plotly-plot div, and stamps each new maximum.
Every epoch of every session is one sample; the split is worker → server (send buffer, pipe, collector thread),
server → placed in a frame, and placed → drawn (rendering, websocket, and in a browser React + Plotly).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]  # run as a script, or loaded by the probe inside the server
from procstat import cpu_s, free_port, rss_mb, wait_until_answers  # noqa: E402

from core.plotting import plain_arrays  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_CORE, BROWSER_CORE = 1, 0


def descendants(pid: int) -> set[int]:
    """Every live process below pid (from /proc, no psutil)."""
    parent_of: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent_of[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    out, frontier = set(), {pid}
    while frontier:
        frontier = {c for c, p in parent_of.items() if p in frontier} - out
        out |= frontier
    return out


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class RssSampler(threading.Thread):
    """Peak RSS of the server process, and of server + workers together, every 0.25 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_server, self.peak_total, self.children = pid, 0.0, 0.0, set()
        self.cpu: dict[int, float] = {}  # pid → its latest CPU seconds
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.25):
            kids = descendants(self.pid)
            self.children |= kids
            for q in (self.pid, *kids):
                self.cpu[q] = max(self.cpu.get(q, 0.0), cpu_s(q))
            server = rss_mb(self.pid)
            self.peak_server = max(self.peak_server, server)
            self.peak_total = max(self.peak_total, server + sum(rss_mb(k) for k in kids))


# -- the epoch-time probe, run inside the server and its workers (see the docstring) ----------------------------
PROBE_ENV = "DESCENT_BENCH_PROBE_DIR"
SITECUSTOMIZE = """\
import importlib.util as _u
_spec = _u.spec_from_file_location("_descent_load_probe", {path!r})
_m = _u.module_from_spec(_spec)
_spec.loader.exec_module(_m)
_m.install_probe()
"""


def install_probe() -> None:
    """Patch core.runs.worker, core.runs.manager and ui.charts as they are imported (not before: a helper process such as
    multiprocessing's resource tracker must not import pandas for nothing)."""
    import importlib.abc
    import importlib.util

    out = os.environ.get(PROBE_ENV)
    if not out:
        return
    patches = {"core.runs.worker": _patch_worker, "core.runs.manager": _patch_manager}
    patches.update({"ui.charts": _patch_charts, "ui.live_chart": _patch_charts})

    class PatchOnImport(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):  # noqa: ANN001, ANN201 - importlib's protocol
            if name not in patches:
                return None
            patch = patches.pop(name)
            sys.meta_path.remove(self)  # find the real module without coming back here
            try:
                spec = importlib.util.find_spec(name)
            finally:
                if patches:
                    sys.meta_path.insert(0, self)
            exec_module = spec.loader.exec_module

            def patched(module: types.ModuleType) -> None:
                exec_module(module)
                patch(module, Path(out))

            spec.loader.exec_module = patched
            return spec

    sys.meta_path.insert(0, PatchOnImport())


class _Stamps:
    """One JSON line per event, [kind, job, epoch, time], from any thread of the server."""

    def __init__(self, out: Path):
        self.file = open(out / f"server-{os.getpid()}.jsonl", "a", buffering=1)  # noqa: SIM115 - the server's lifetime
        self.lock = threading.Lock()

    def __call__(self, kind: str, job: str | None, epoch: int) -> None:
        line = json.dumps([kind, job, int(epoch), time.time()]) + "\n"
        with self.lock:
            self.file.write(line)


_stamps: _Stamps | None = None


def _stamp(out: Path) -> _Stamps:
    global _stamps
    _stamps = _stamps or _Stamps(out)
    return _stamps


def _patch_worker(worker: types.ModuleType, out: Path) -> None:
    """Worker: stamp each epoch as the trainer hands it over."""
    run = worker.run

    def timed_run(conn, job_id, ds, cfg, stop, pause):  # noqa: ANN001, ANN202 - core.runs.worker.run's signature
        from core.training import trainer

        stamps: list[tuple[int, float]] = []
        train = trainer.train

        def timed_train(ds, cfg, on_epoch=None, should_stop=None):  # noqa: ANN001, ANN202
            def on_epoch_timed(row: dict) -> None:
                stamps.append((row["epoch"], time.time()))
                on_epoch(row)

            return train(ds, cfg, on_epoch=on_epoch_timed if on_epoch else None, should_stop=should_stop)

        trainer.train = timed_train  # run() imports train by name from the trainer at each call
        try:
            return run(conn, job_id, ds, cfg, stop, pause)
        finally:
            trainer.train = train
            (out / f"worker-{job_id}.json").write_text(json.dumps(stamps))

    worker.run = timed_run


def _patch_manager(manager: types.ModuleType, out: Path) -> None:
    """Server: stamp each chunk's arrival."""
    handle = manager.JobManager._handle

    def timed_handle(self, w, msg):  # noqa: ANN001, ANN202 - JobManager._handle's signature
        if msg[0] == "rows" and len(msg[2].get("epoch", ())):
            _stamp(out)("arrived", msg[1], int(msg[2]["epoch"][-1]))
        return handle(self, w, msg)

    manager.JobManager._handle = timed_handle


def _patch_charts(charts: types.ModuleType, out: Path) -> None:
    """Server: stamp each loss chart a script run hands to Streamlit, with the newest epoch in it
    (ui.charts.plotly_chart, or ui.live_chart.live_chart, whichever the Train page uses)."""
    name = "plotly_chart" if hasattr(charts, "plotly_chart") else "live_chart"
    place = getattr(charts, name)

    def timed_place(spec: dict, key: str, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        place(spec, key, *args, **kwargs)
        if key == "loss_chart" and spec["data"] and len(spec["data"][0]["x"]):
            import streamlit as st

            _stamp(out)("placed", st.query_params.get("run"), spec["data"][0]["x"][-1])

    setattr(charts, name, timed_place)


def start_server(port: int, db: str, pin: bool) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port), "--server.address", "127.0.0.1",
           "--server.fileWatcherType", "none", "--server.runOnSave", "false"]  # fmt: skip
    if pin:
        cmd = ["taskset", "-c", str(SERVER_CORE), *cmd]
    probe = Path(db).with_name("probe")
    probe.mkdir(exist_ok=True)
    (probe / "sitecustomize.py").write_text(SITECUSTOMIZE.format(path=str(Path(__file__).resolve())))
    path = os.pathsep.join(p for p in (str(probe), str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "DESCENT_DB": db, "PYTHONPATH": path, PROBE_ENV: str(probe)}
    log = open(Path(db).with_name("server.log"), "w")  # noqa: SIM115 - the server's lifetime, not a block's
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_until_answers(f"http://127.0.0.1:{port}", proc, poll_s=0.2, hint=f"; see {log.name}")
    return proc


DRAWN_PROBE = """(() => {
  window.__drawn = [];  // [newest epoch in the loss chart, Date.now()] each time it grows
  let best = 0;
  const scan = () => {
    for (const el of document.querySelectorAll('.js-plotly-plot')) {
      if (!el.__probed && typeof el.on === 'function') { el.__probed = true; el.on('plotly_afterplot', scan); }
      for (const t of (el._fullData || [])) {  // typed arrays decoded (el.data keeps the base64 spec)
        if (t.name !== 'train loss' || !t.x || !t.x.length) continue;
        const e = Number(t.x[t.x.length - 1]);
        if (e > best) { best = e; window.__drawn.push([e, Date.now()]); }
      }
    }
  };
  setInterval(scan, 100);
  window.__ws = [];  // [Date.now(), bytes] of each websocket message from the server
  const WS = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new WS(...args);
    ws.addEventListener('message', (m) => window.__ws.push([Date.now(), m.data.byteLength || m.data.size || m.data.length || 0]));
    return ws;
  };
  window.WebSocket.prototype = WS.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();"""


# Streamlit's Plotly chunk (4.7 MB of JavaScript) swapped for components that draw nothing (its two exports), and
# plotly.min.js, where the app serves its own (app/static), for a Plotly whose every call does nothing.
NO_PLOTLY = "export function PlotlyChart() { return null; }\nexport default function NoPlotly() { return null; }\n"
NO_PLOTLY_JS = """(() => {
  const noop = new Proxy(function () { return Promise.resolve(); },
                         {get: (t, k) => (k === 'then' ? undefined : noop), apply: () => Promise.resolve()});
  window.Plotly = noop;
})();"""


async def all_ready(ready: asyncio.Barrier, timeout_s: float, out: dict) -> None:
    """Everyone has the page open, then everyone presses Train at once (a session that never gets there is waited
    for no longer than timeout_s)."""
    out["stage"] = "wait for every page"
    try:
        await asyncio.wait_for(ready.wait(), timeout=timeout_s)
    except (TimeoutError, asyncio.BrokenBarrierError):
        pass
    out["stage"], out["clicks"] = "click Train", 0


async def one_session(browser, url: str, epochs: int, timeout_s: float, out: dict, draw: bool, ready: asyncio.Barrier) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    await context.add_init_script(DRAWN_PROBE)
    out["kind"], out["draws"] = "browser", draw
    if not draw:  # the server does the same work and sends the same frames; only this browser skips Plotly
        await context.route("**/PlotlyChart.*.js", lambda route: route.fulfill(body=NO_PLOTLY, content_type="text/javascript"))
        await context.route("**/plotly.min.js", lambda route: route.fulfill(body=NO_PLOTLY_JS, content_type="text/javascript"))
    page = await context.new_page()
    out["stage"] = "open /train"
    try:
        await page.goto(f"{url}/train", timeout=timeout_s * 1000)
        box = page.get_by_label("Epochs", exact=True)
        await box.wait_for(timeout=timeout_s * 1000)
        out["stage"] = "set epochs"
        await box.fill(str(epochs))
        await box.press("Enter")
        train = page.get_by_role("button", name="Train", exact=True)
        done = page.get_by_text(f"Completed {epochs:,} epochs")
        failed = page.locator("[data-testid='stAlertContentError']")
        await page.wait_for_timeout(300)  # the Enter's rerun lands before the click
        await all_ready(ready, timeout_s / 2, out)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:  # a click that lands during a busy server's rerun can be lost: click again
            out.setdefault("clicked", time.time())
            await train.click(timeout=60_000)
            out["clicks"] += 1
            started = time.monotonic()
            while time.monotonic() - started < 20 and await train.is_enabled() and not await done.count():
                await asyncio.sleep(0.25)
            if not await train.is_enabled() or await done.count():
                break
        out["stage"] = "wait for Completed"
        while time.monotonic() < deadline:
            if await done.count():
                out["completed"] = time.time()
                break
            if await failed.count():
                out["error"] = (await failed.first.inner_text())[:200]
                break
            await asyncio.sleep(0.5)
        else:
            out["error"] = f"timed out at: {out['stage']}"
        out["exception"] = await page.locator("[data-testid='stException']").count()
        out["stage"] = "wait for the last epoch drawn"
        while draw and time.monotonic() < deadline:  # "Completed" can be on screen before a busy browser has drawn the chart
            drawn = await page.evaluate("window.__drawn")
            if drawn and drawn[-1][0] >= epochs:
                break
            await asyncio.sleep(0.5)
        out["drawn"] = await page.evaluate("window.__drawn")
        out["ws"] = await page.evaluate("window.__ws")
        out["job"] = dict(q.split("=", 1) for q in page.url.partition("?")[2].split("&") if "=" in q).get("run")
    except Exception as e:  # noqa: BLE001 - one session's failure is a figure, not the end of the benchmark
        out["error"] = f"{out['stage']}: {type(e).__name__}: {e}"[:200]
        await ready.abort()  # nobody waits for a session that will never arrive
    finally:
        await context.close()


# -- protocol-level sessions: Streamlit's websocket protocol, spoken directly (see the docstring) -----------------
XSRF_COOKIE = "_streamlit_xsrf"
TRAIN_PAGE = "train"


def xsrf_cookie(url: str) -> str:
    """The XSRF cookie the server sets on /_stcore/health, which the frontend fetches before it connects."""
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=30) as r:
        for header in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            if name.strip() == XSRF_COOKIE:
                return rest.split(";", 1)[0].strip().strip('"')
    return ""


class ProtocolSession:
    """One browser tab as the server sees it: a websocket to /_stcore/stream, BackMsgs out, ForwardMsgs in.

    Mirrors what Streamlit's frontend does for this page: the first rerun names the page by its URL path, later ones
    by the page_script_hash the server announced, with the query string the server last set (page_info_changed); a
    widget's value travels as a WidgetState under the id its element carried (a keyed widget's id ends with its key);
    a button press is a trigger_value sent once; every ForwardMsg auto_rerun starts a timer that sends a
    fragment-scoped rerun (is_auto_rerun) each interval until a stop_auto_rerun for that fragment or a full script
    run's new_session clears the timers. Nothing is drawn: the loss chart counts as drawn when its element arrives."""

    def __init__(self, url: str, out: dict):
        self.url, self.out = url, out
        self.page_hash, self.query_string = "", ""
        self.ids: dict[str, str] = {}  # widget key → the id its newest element carried
        self.values: dict[str, tuple[str, object]] = {}  # widget key → (WidgetState field, value), sent with every rerun
        self.timers: dict[str, tuple[float, asyncio.Task]] = {}  # fragment id → (interval, its timer)
        self.finished = asyncio.Event()  # a script run (full or fragment) finished
        self.best = 0
        self.ws = None

    def rerun(self, fragment_id: str = "", trigger: str | None = None, auto: bool = False) -> bytes:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query_string
        if self.page_hash:
            cs.page_script_hash = self.page_hash
        else:
            cs.page_name = TRAIN_PAGE
        if fragment_id:
            cs.fragment_id = fragment_id
        cs.is_auto_rerun = auto
        for key, (field, value) in self.values.items():
            if key in self.ids:
                w = cs.widget_states.widgets.add()
                w.id = self.ids[key]
                setattr(w, field, value)
        if trigger:
            w = cs.widget_states.widgets.add()
            w.id, w.trigger_value = self.ids[trigger], True
        info = cs.context_info
        info.timezone, info.locale, info.color_scheme = "UTC", "en-US", "light"
        info.url = f"{self.url}/{TRAIN_PAGE}" + (f"?{self.query_string}" if self.query_string else "")
        return msg.SerializeToString()

    async def send(self, data: bytes) -> None:
        await self.ws.send(data)

    async def auto_rerun(self, fragment_id: str, interval: float) -> None:
        """The frontend's setInterval: a fragment rerun every interval, whether or not the last one has finished."""
        nxt = time.monotonic()
        while True:
            nxt += interval
            await asyncio.sleep(max(0.0, nxt - time.monotonic()))
            self.out["log"].append([round(time.time(), 3), "sent auto rerun", fragment_id])
            await self.send(self.rerun(fragment_id, auto=True))

    def clear_timers(self, fragment_ids: list[str] | None = None) -> None:
        for f in list(self.timers) if fragment_ids is None else fragment_ids:
            if f in self.timers:
                self.timers.pop(f)[1].cancel()

    def on_message(self, data: bytes, epochs: int) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        now = time.time()
        msg = ForwardMsg()
        msg.ParseFromString(data)
        kind = msg.WhichOneof("type")
        if kind != "delta":  # the session's timeline, for --raw
            self.out["log"].append([round(now, 3), kind, msg.auto_rerun.fragment_id if kind == "auto_rerun" else ""])
        if kind == "delta":
            delta = msg.delta
            if delta.WhichOneof("type") == "new_element":
                self.on_element(delta.new_element, now, epochs)
        elif kind == "new_session":
            self.page_hash = msg.new_session.page_script_hash or self.page_hash
            if not msg.metadata.run.fragment_ids:  # a full script run: the frontend drops every timer
                self.clear_timers()
        elif kind == "navigation":
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
            params = dict(q.split("=", 1) for q in self.query_string.split("&") if "=" in q)
            self.out["job"] = params.get("run", self.out.get("job"))
        elif kind == "auto_rerun":
            f, interval = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
            if f and (f not in self.timers or self.timers[f][0] != interval):
                self.clear_timers([f])
                self.timers[f] = (interval, asyncio.create_task(self.auto_rerun(f, interval)))
        elif kind == "stop_auto_rerun":
            self.clear_timers(list(msg.stop_auto_rerun.fragment_ids))
        elif kind == "script_finished":
            self.finished.set()
        elif kind == "ref_hash":  # only for hashes a client says it has cached; this one says none
            self.out.setdefault("error", "server sent a cached-message reference")

    def on_element(self, el, now: float, epochs: int) -> None:  # noqa: ANN001 - a streamlit.proto Element
        kind = el.WhichOneof("type")
        if kind in ("button", "number_input"):
            wid = getattr(el, kind).id
            self.ids[wid.rsplit("-", 1)[-1]] = wid
        elif kind == "bidi_component" and el.bidi_component.id.endswith("loss_chart") and el.bidi_component.json:
            for trace in plain_arrays(json.loads(el.bidi_component.json)["figure"]).get("data", []):
                if trace.get("name") == "train loss" and trace.get("x"):
                    epoch = int(trace["x"][-1])
                    if epoch > self.best:
                        self.best = epoch
                        self.out["drawn"].append([epoch, now * 1000])
        elif kind == "alert":
            if f"Completed {epochs:,} epochs" in el.alert.body:
                self.out.setdefault("completed", now)
            elif el.alert.format == 1:  # ERROR
                self.out.setdefault("error", el.alert.body[:200])
        elif kind == "exception":
            self.out["exception"] = self.out.get("exception", 0) + 1

    async def receive(self, epochs: int) -> None:
        async for data in self.ws:
            if isinstance(data, bytes):
                self.on_message(data, epochs)

    async def wait_run(self, timeout_s: float) -> None:
        """Until the script run (or fragment run) now in flight has finished."""
        await asyncio.wait_for(self.finished.wait(), timeout=timeout_s)


async def protocol_session(url: str, epochs: int, timeout_s: float, out: dict, ready: asyncio.Barrier) -> None:
    from websockets.asyncio.client import connect

    out.update(kind="protocol", draws=True, drawn=[], log=[], stage="open /train")
    s = ProtocolSession(url, out)
    receiver = None
    deadline = time.monotonic() + timeout_s
    try:
        token = await asyncio.to_thread(xsrf_cookie, url)
        host = url.split("://", 1)[1]
        async with connect(f"ws://{host}/_stcore/stream", subprotocols=["streamlit", token] if token else ["streamlit"],
                           origin=url, additional_headers={"Cookie": f"{XSRF_COOKIE}={token}"} if token else None,
                           max_size=None, open_timeout=timeout_s, ping_interval=None) as ws:  # fmt: skip
            s.ws = ws
            receiver = asyncio.create_task(s.receive(epochs))
            s.finished.clear()
            await s.send(s.rerun())
            while not {"train_start", "train_epochs"} <= s.ids.keys():
                await s.wait_run(timeout_s)
                s.finished.clear()
                if receiver.done():
                    raise ConnectionError("the server closed the websocket")
            out["stage"] = "set epochs"
            s.values["train_epochs"] = ("int_value", epochs)  # NumberInput.DataType INT
            s.finished.clear()
            await s.send(s.rerun())  # what the browser's Enter in the Epochs box sends
            await s.wait_run(timeout_s)
            await all_ready(ready, timeout_s / 2, out)
            while time.monotonic() < deadline and not out.get("job"):  # resend a press that found no run (as the browser mode clicks again)
                out.setdefault("clicked", time.time())
                await s.send(s.rerun(trigger="train_start"))
                out["clicks"] += 1
                started = time.monotonic()
                while time.monotonic() - started < 20 and not out.get("job") and not receiver.done():
                    await asyncio.sleep(0.05)
                if receiver.done():
                    raise ConnectionError("the server closed the websocket")
            out["stage"] = "wait for Completed"
            while time.monotonic() < deadline and "completed" not in out and "error" not in out and not receiver.done():
                await asyncio.sleep(0.1)
            if "completed" not in out and "error" not in out:
                out["error"] = f"timed out at: {out['stage']}" if not receiver.done() else "the server closed the websocket"
            out["stage"] = "wait for the last epoch drawn"
            while s.best < epochs and time.monotonic() < deadline and not receiver.done():
                await asyncio.sleep(0.1)
            out.setdefault("exception", 0)
    except Exception as e:  # noqa: BLE001 - one session's failure is a figure, not the end of the benchmark
        out["error"] = f"{out['stage']}: {type(e).__name__}: {e}"[:200]
        await ready.abort()
    finally:
        s.clear_timers()
        if receiver is not None:
            receiver.cancel()


async def drive(url: str, n: int, epochs: int, timeout_s: float, pin: bool, pages: int, drawing: int) -> list[dict]:
    """n sessions: the first `pages` are Chromium pages (the first `drawing` of them draw), the rest protocol clients."""
    from playwright.async_api import async_playwright

    if pin:
        os.sched_setaffinity(0, {BROWSER_CORE})  # Chromium inherits it; the protocol clients run in this process
    results = [{} for _ in range(n)]
    ready = asyncio.Barrier(n)

    async def everyone(browser) -> None:  # noqa: ANN001 - a Playwright Browser, or None
        sessions = [one_session(browser, url, epochs, timeout_s, r, i < drawing, ready) if i < pages
                    else protocol_session(url, epochs, timeout_s, r, ready) for i, r in enumerate(results)]  # fmt: skip
        try:
            await asyncio.wait_for(asyncio.gather(*sessions), timeout=timeout_s + 120)
        except TimeoutError:
            for r in results:
                r.setdefault("error", f"cut off at: {r.get('stage')}")

    if not pages:
        await everyone(None)
        return results
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await everyone(browser)
        finally:
            await browser.close()
    return results


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else float("nan")


def spread(values: list[float]) -> str:
    return f"median {pct(values, 0.5):.2f} s, p95 {pct(values, 0.95):.2f} s (n={len(values)})"


def _firsts(events: list[tuple[int, float]]) -> tuple[list[int], list[float]]:
    """(epoch, time) events → the times the newest epoch first reached each new maximum, for bisect."""
    epochs, times = [], []
    for epoch, t in sorted(events, key=lambda e: e[1]):
        if not epochs or epoch > epochs[-1]:
            epochs.append(epoch)
            times.append(t)
    return epochs, times


def _first_time(firsts: tuple[list[int], list[float]], epoch: int) -> float | None:
    i = bisect.bisect_left(firsts[0], epoch)
    return firsts[1][i] if i < len(firsts[0]) else None


def chart_latency(results: list[dict], probe: Path) -> dict:
    """Per-epoch samples of drawn − finished in the worker, and its three stages (see the docstring)."""
    events: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for f in probe.glob("server-*.jsonl"):
        for line in f.read_text().splitlines():
            kind, job, epoch, t = json.loads(line)
            events.setdefault((kind, job), []).append((epoch, t))
    out: dict[str, list[float]] = {k: [] for k in ("total", "to_server", "to_frame", "to_drawn", "last", "gaps", "placed")}
    missing = 0
    for r in results:
        worker = probe / f"worker-{r.get('job')}.json"
        if not r.get("job") or not worker.exists():
            continue
        stamps = json.loads(worker.read_text())
        drawn = _firsts([(e, t / 1000) for e, t in r.get("drawn") or []])
        arrived, placed = _firsts(events.get(("arrived", r["job"]), [])), _firsts(events.get(("placed", r["job"]), []))
        out["gaps"] += [b - a for a, b in zip(drawn[1], drawn[1][1:])]
        for epoch, t_worker in stamps:
            if (t_placed := _first_time(placed, epoch)) is not None:
                out["placed"].append(t_placed - t_worker)
            if not r.get("draws", True):
                continue
            t_drawn = _first_time(drawn, epoch)
            if t_drawn is None:
                missing += 1
                continue
            out["total"].append(t_drawn - t_worker)
            t_arrived, t_placed = _first_time(arrived, epoch), _first_time(placed, epoch)
            if t_arrived is not None:
                out["to_server"].append(t_arrived - t_worker)
            if t_arrived is not None and t_placed is not None:
                out["to_frame"].append(t_placed - t_arrived)
            if t_placed is not None:
                out["to_drawn"].append(t_drawn - t_placed)
        if r.get("draws", True) and stamps and (t_last := _first_time(drawn, stamps[-1][0])) is not None:
            out["last"].append(t_last - stamps[-1][1])
    return {**out, "missing": missing}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=2000)
    ap.add_argument("--timeout", type=float, default=420, help="seconds for all sessions together")
    ap.add_argument("--no-pin", action="store_true", help="do not split server and browser over two cores")
    ap.add_argument("--browser", action="store_true", help="every session a Chromium page (the old mode), not protocol clients")
    ap.add_argument("--pages", type=int, default=1, help="protocol mode: how many of the sessions are real Chromium pages, drawing")
    ap.add_argument("--drawing", type=int, default=4, help="--browser: pages whose browser draws the charts (the rest skip Plotly)")
    ap.add_argument("--raw", type=Path, help="write every session's timeline (browser, store, probe) to this JSON file")
    args = ap.parse_args()
    pages = args.sessions if args.browser else min(args.pages, args.sessions)
    drawing = min(args.drawing, pages) if args.browser else pages
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")

    db = os.path.join(tempfile.mkdtemp(prefix="descent-load-"), "runs.db")
    port = free_port()
    server = start_server(port, db, pin)
    sampler = RssSampler(server.pid)
    sampler.start()
    everything = RssSampler(os.getpid())  # for the CPU of the browser: our descendants outside the server's tree
    everything.start()
    t0 = time.time()
    try:
        results = asyncio.run(drive(f"http://127.0.0.1:{port}", args.sessions, args.epochs, args.timeout, pin, pages, drawing))
    finally:
        wall = time.time() - t0
        for each in (sampler, everything):
            each.done.set()
            each.join()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    time.sleep(1.0)
    left = sorted(pid for pid in sampler.children if alive(pid))

    from core.runs import RunStore

    runs = [r for r in RunStore(db).list_runs(limit=10_000)]
    waits = [r["started_at"] - r["created_at"] for r in runs if r.get("started_at")]
    run_s = [r["finished_at"] - r["started_at"] for r in runs if r.get("started_at") and r.get("finished_at")]
    seen = [r["completed"] - r["clicked"] for r in results if "completed" in r]
    errors = [r["error"] for r in results if "error" in r]
    statuses: dict[str, int] = {}
    for r in runs:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1

    print(f"sessions {args.sessions}, {args.epochs:,} epochs each, house_prices n=1,000; "
          f"DESCENT_WORKERS={os.environ.get('DESCENT_WORKERS', 'default')}; pinned={'yes' if pin else 'no'}")  # fmt: skip
    print(f"every session finished: {'yes' if len(seen) == args.sessions else 'no'} ({len(seen)}/{args.sessions})")
    print(f"sessions: {pages} Chromium page(s) ({drawing} drawing), {args.sessions - pages} protocol client(s)")
    print(f"runs in the store: {statuses}; errors seen by the sessions: {len(errors)}")
    for e in errors[:5]:
        print(f"  error: {e}")
    print(f"sessions that needed a second Train press: {sum(r.get('clicks', 0) > 1 for r in results)}")
    print(f"Python tracebacks on screen: {sum(r.get('exception', 0) for r in results)}")
    print(f"total wall time: {wall:.1f} s")
    print(f"queue wait (created → started): {spread(waits)}")
    print(f"run time (started → finished): {spread(run_s)}")
    print(f"click → 'Completed' on screen: {spread(seen)}")
    probe = Path(db).with_name("probe")
    groups = [("protocol clients", "arrived in the client", "rest of the script run, websocket, protobuf + JSON decode in the client",
               [r for r in results if r.get("kind") == "protocol"]),
              ("Chromium pages", "drawn", "rest of the script run, websocket, React + Plotly in the browser",
               [r for r in results if r.get("kind") == "browser" and r.get("draws")])]  # fmt: skip
    for name, drawn, stage3, group in groups:
        if not group:
            continue
        lat = chart_latency(group, probe)
        n_lat = len(lat["total"])
        print(f"chart latency, {name} ({len(group)}): epoch finished in the worker → {drawn} in its loss chart, every epoch: "
              f"{spread(lat['total'])}; max {max(lat['total'], default=float('nan')):.2f} s; "
              f"within 2 s: {sum(v <= 2 for v in lat['total']) / max(n_lat, 1):.1%}; epochs never {drawn}: {lat['missing']}")  # fmt: skip
        print(f"  1. worker → server (worker's send buffer, pipe, collector thread): {spread(lat['to_server'])}")
        print(f"  2. server → placed in a frame (waiting for the session's next 0.5 s frame, the script up to the chart): "
              f"{spread(lat['to_frame'])}")  # fmt: skip
        print(f"  3. placed → {drawn} ({stage3}): {spread(lat['to_drawn'])}")
        print(f"  last epoch of each run → {drawn}: {spread(lat['last'])}")
        print(f"  interval between a session's successive loss charts: {spread(lat['gaps'])}")
    placed = chart_latency(results, probe)["placed"]
    print(f"server side, every session: epoch finished in the worker → in a loss chart the server sent: {spread(placed)}")
    server_cpu = sampler.cpu.get(server.pid, 0.0)
    workers_cpu = sum(v for k, v in sampler.cpu.items() if k != server.pid)
    print(f"CPU over the wall time: server process {server_cpu:.1f} s ({server_cpu / wall:.0%} of a core), "
          f"its workers {workers_cpu:.1f} s (warm-up included)")  # fmt: skip
    browser_cpu = sum(v for k, v in everything.cpu.items() if k not in sampler.cpu and k not in (server.pid, os.getpid()))
    where = f"; server + workers pinned to core {SERVER_CORE}, browser to core {BROWSER_CORE}" if pin else ""
    print(f"CPU of the browser (Chromium + Playwright's driver): {browser_cpu:.1f} s ({browser_cpu / wall:.0%} of a core){where}")
    own = everything.cpu.get(os.getpid(), 0.0)
    print(f"CPU of this process (the protocol clients, the samplers, Playwright's client): {own:.1f} s ({own / wall:.0%} of a core)")
    print(f"server log: {Path(db).with_name('server.log')}")
    if args.raw:
        by_id = {r["id"]: r for r in runs}
        for r in results:
            run = by_id.get(r.get("job"), {})
            r["store"] = {k: run.get(k) for k in ("created_at", "started_at", "finished_at", "status")}
            worker = probe / f"worker-{r.get('job')}.json"
            r["worker_epochs"] = json.loads(worker.read_text()) if worker.exists() else []
        r_server = [json.loads(line) for f in probe.glob("server-*.jsonl") for line in f.read_text().splitlines()]
        args.raw.write_text(json.dumps({"sessions": results, "server_events": r_server}))
        print(f"timelines: {args.raw}")
    print(f"peak RSS: server process {sampler.peak_server:.0f} MB; server + workers {sampler.peak_total:.0f} MB")
    print(f"processes of the server left after it stopped: {left or 'none'}")


if __name__ == "__main__":
    main()

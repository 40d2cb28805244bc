"""Many people press Train at once: N browser sessions against one local server, each training through the real app.

Starts `streamlit run` on loopback (its own throwaway run store, DESCENT_WORKERS left at its default), opens N
browser contexts in one headless Chromium, and in each: open /train, set Epochs, click Train, wait for
"Completed 2,000 epochs". The server and its workers are pinned to one core and the browser to the other where
the machine has two or more (DESIGN.md, "Measuring the live view's cost"). Everything is bounded by --timeout.

    .venv/bin/python benchmarks/load.py [--sessions 20] [--epochs 2000] [--timeout 900]

Prints: every session finished (yes/no), failures, total wall time, per-session queue wait and run time
(median, p95, from the run store), click → completed as each browser saw it, chart latency (below), peak RSS of
the server process and of its workers, CPU of server, workers and browser, and whether any process of the server
was left behind after it stopped.

Chart latency of an epoch = the wall-clock time it was first drawn in that session's loss chart − the time the
worker finished it. Both ends are stamped with the one wall clock of this machine (time.time() in Python,
Date.now() in Chromium):
- worker end: a probe in the server's worker processes stamps each epoch as the trainer hands it over (before
  the worker's ~0.1 s send buffer). The run store has no per-epoch times, so the benchmark installs the probe
  itself: a sitecustomize.py on the server's PYTHONPATH wraps core.jobs._run in each worker and
  JobManager._handle in the server (which stamps when each chunk of epochs reaches the server). App code is
  unchanged; the probe adds one time.time() per epoch.
- browser end: each page polls every 100 ms, and on every plotly_afterplot event, for the newest epoch (last x)
  of the trace named "train loss" in any .js-plotly-plot div, and stamps each new maximum.
Every epoch of every session is one sample; the split is worker → server (send buffer, pipe, collector thread)
and server → drawn (waiting for the next 0.5 s frame, rendering, websocket, Plotly in the browser).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import types
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_CORE, BROWSER_CORE = 1, 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


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
    """Patch core.jobs and ui.charts as they are imported (not before: a helper process such as
    multiprocessing's resource tracker must not import pandas for nothing)."""
    import importlib.abc
    import importlib.util

    out = os.environ.get(PROBE_ENV)
    if not out:
        return
    patches = {"core.jobs": _patch_jobs, "ui.charts": _patch_charts, "ui.live_chart": _patch_charts}

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


def _patch_jobs(jobs: types.ModuleType, out: Path) -> None:
    """Worker: stamp each epoch as the trainer hands it over. Server: stamp each chunk's arrival."""
    run, handle = jobs._run, jobs.JobManager._handle

    def timed_run(conn, job_id, ds, cfg, stop, pause, trainer):  # noqa: ANN001, ANN202 - core.jobs._run's signature
        stamps: list[tuple[int, float]] = []

        def train(ds, cfg, on_epoch=None, should_stop=None):  # noqa: ANN001, ANN202
            def on_epoch_timed(row: dict) -> None:
                stamps.append((row["epoch"], time.time()))
                on_epoch(row)

            return trainer.train(ds, cfg, on_epoch=on_epoch_timed if on_epoch else None, should_stop=should_stop)

        try:
            return run(conn, job_id, ds, cfg, stop, pause, types.SimpleNamespace(train=train))
        finally:
            (out / f"worker-{job_id}.json").write_text(json.dumps(stamps))

    def timed_handle(self, w, msg):  # noqa: ANN001, ANN202 - JobManager._handle's signature
        if msg[0] == "rows" and msg[2].get("epoch"):
            _stamp(out)("arrived", msg[1], msg[2]["epoch"][-1])
        return handle(self, w, msg)

    jobs._run, jobs.JobManager._handle = timed_run, timed_handle


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
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"streamlit did not start; see {log.name}")


DRAWN_PROBE = """(() => {
  window.__drawn = [];  // [newest epoch in the loss chart, Date.now()] each time it grows
  let best = 0;
  const scan = () => {
    for (const el of document.querySelectorAll('.js-plotly-plot')) {
      if (!el.__probed && typeof el.on === 'function') { el.__probed = true; el.on('plotly_afterplot', scan); }
      for (const t of (el.data || [])) {
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


async def one_session(browser, url: str, epochs: int, timeout_s: float, out: dict, draw: bool, ready: asyncio.Barrier) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    await context.add_init_script(DRAWN_PROBE)
    out["draws"] = draw
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
        out["stage"] = "wait for every page"
        try:  # everyone has the page open, then everyone presses Train at once
            await asyncio.wait_for(ready.wait(), timeout=timeout_s / 2)
        except (TimeoutError, asyncio.BrokenBarrierError):
            pass
        out["stage"], out["clicks"] = "click Train", 0
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


async def drive(url: str, n: int, epochs: int, timeout_s: float, pin: bool, drawing: int) -> list[dict]:
    from playwright.async_api import async_playwright

    if pin:
        os.sched_setaffinity(0, {BROWSER_CORE})  # Chromium inherits it
    results = [{} for _ in range(n)]
    ready = asyncio.Barrier(n)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await asyncio.wait_for(
                asyncio.gather(*(one_session(browser, url, epochs, timeout_s, r, i < drawing, ready) for i, r in enumerate(results))),
                timeout=timeout_s + 120,
            )
        except TimeoutError:
            for r in results:
                r.setdefault("error", f"cut off at: {r.get('stage')}")
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
    ap.add_argument("--drawing", type=int, default=4, help="sessions whose browser draws the charts (the rest skip Plotly)")
    ap.add_argument("--raw", type=Path, help="write every session's timeline (browser, store, probe) to this JSON file")
    args = ap.parse_args()
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
        results = asyncio.run(drive(f"http://127.0.0.1:{port}", args.sessions, args.epochs, args.timeout, pin, args.drawing))
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

    from core.store import RunStore

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
    print(f"runs in the store: {statuses}; errors seen in browsers: {len(errors)}")
    for e in errors[:5]:
        print(f"  error: {e}")
    print(f"sessions that needed a second Train click: {sum(r.get('clicks', 0) > 1 for r in results)}")
    print(f"Python tracebacks on screen: {sum(r.get('exception', 0) for r in results)}")
    print(f"total wall time: {wall:.1f} s")
    print(f"queue wait (created → started): {spread(waits)}")
    print(f"run time (started → finished): {spread(run_s)}")
    print(f"click → 'Completed' on screen: {spread(seen)}")
    lat = chart_latency(results, Path(db).with_name("probe"))
    n_lat = len(lat["total"])
    drawing = sum(bool(r.get("draws")) for r in results)
    print(f"chart latency (epoch finished in the worker → drawn in its loss chart), every epoch of the {drawing} drawing sessions: "
          f"{spread(lat['total'])}; max {max(lat['total'], default=float('nan')):.2f} s; "
          f"within 2 s: {sum(v <= 2 for v in lat['total']) / max(n_lat, 1):.1%}; epochs never drawn: {lat['missing']}")  # fmt: skip
    print(f"  1. worker → server (worker's send buffer, pipe, collector thread): {spread(lat['to_server'])}")
    print(f"  2. server → placed in a frame (waiting for the session's next 0.5 s frame, the script up to the chart): "
          f"{spread(lat['to_frame'])}")  # fmt: skip
    print(f"  3. placed → drawn (rest of the script run, websocket, React + Plotly in the browser): {spread(lat['to_drawn'])}")
    print(f"  last epoch of each run → drawn: {spread(lat['last'])}")
    print(f"  interval between a page's successive loss-chart draws: {spread(lat['gaps'])}")
    print(f"server side, every session: epoch finished in the worker → in a loss chart the server sent: {spread(lat['placed'])}")
    server_cpu = sampler.cpu.get(server.pid, 0.0)
    workers_cpu = sum(v for k, v in sampler.cpu.items() if k != server.pid)
    print(f"CPU over the wall time: server process {server_cpu:.1f} s ({server_cpu / wall:.0%} of a core), "
          f"its workers {workers_cpu:.1f} s (warm-up included)")  # fmt: skip
    browser_cpu = sum(v for k, v in everything.cpu.items() if k not in sampler.cpu and k not in (server.pid, os.getpid()))
    where = f"; server + workers pinned to core {SERVER_CORE}, browser to core {BROWSER_CORE}" if pin else ""
    print(f"CPU of the browser (Chromium + Playwright's driver): {browser_cpu:.1f} s ({browser_cpu / wall:.0%} of a core){where}")
    print(f"server log: {Path(db).with_name('server.log')}")
    if args.raw:
        by_id = {r["id"]: r for r in runs}
        probe = Path(db).with_name("probe")
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

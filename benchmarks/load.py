"""Many people press Train at once: N browser sessions against one local server, each training through the real app.

Starts `streamlit run` on loopback (its own throwaway run store, DESCENT_WORKERS left at its default), opens N
browser contexts in one headless Chromium, and in each: open /train, set Epochs, click Train, wait for
"Completed 2,000 epochs". The server and its workers are pinned to one core and the browser to the other where
the machine has two or more (DESIGN.md, "Measuring the live view's cost"). Everything is bounded by --timeout.

    .venv/bin/python benchmarks/load.py [--sessions 20] [--epochs 2000] [--timeout 900]

Prints: every session finished (yes/no), failures, total wall time, per-session queue wait and run time
(median, p95, from the run store), click → completed as each browser saw it, peak RSS of the server process
and of its workers, and whether any process of the server was left behind after it stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
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


def start_server(port: int, db: str, pin: bool) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port), "--server.address", "127.0.0.1",
           "--server.fileWatcherType", "none", "--server.runOnSave", "false"]  # fmt: skip
    if pin:
        cmd = ["taskset", "-c", str(SERVER_CORE), *cmd]
    env = {**os.environ, "DESCENT_DB": db}
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


async def one_session(browser, url: str, epochs: int, timeout_s: float, out: dict) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
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
    except Exception as e:  # noqa: BLE001 - one session's failure is a figure, not the end of the benchmark
        out["error"] = f"{out['stage']}: {type(e).__name__}: {e}"[:200]
    finally:
        await context.close()


async def drive(url: str, n: int, epochs: int, timeout_s: float, pin: bool) -> list[dict]:
    from playwright.async_api import async_playwright

    if pin:
        os.sched_setaffinity(0, {BROWSER_CORE})  # Chromium inherits it
    results = [{} for _ in range(n)]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await asyncio.wait_for(
                asyncio.gather(*(one_session(browser, url, epochs, timeout_s, r) for r in results)), timeout=timeout_s + 120
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=2000)
    ap.add_argument("--timeout", type=float, default=420, help="seconds for all sessions together")
    ap.add_argument("--no-pin", action="store_true", help="do not split server and browser over two cores")
    args = ap.parse_args()
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")

    db = os.path.join(tempfile.mkdtemp(prefix="descent-load-"), "runs.db")
    port = free_port()
    server = start_server(port, db, pin)
    sampler = RssSampler(server.pid)
    sampler.start()
    t0 = time.time()
    try:
        results = asyncio.run(drive(f"http://127.0.0.1:{port}", args.sessions, args.epochs, args.timeout, pin))
    finally:
        wall = time.time() - t0
        sampler.done.set()
        sampler.join()
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
    server_cpu = sampler.cpu.get(server.pid, 0.0)
    workers_cpu = sum(v for k, v in sampler.cpu.items() if k != server.pid)
    print(f"CPU over the wall time: server process {server_cpu:.1f} s ({server_cpu / wall:.0%} of a core), "
          f"its workers {workers_cpu:.1f} s (warm-up included)")  # fmt: skip
    print(f"server log: {Path(db).with_name('server.log')}")
    print(f"peak RSS: server process {sampler.peak_server:.0f} MB; server + workers {sampler.peak_total:.0f} MB")
    print(f"processes of the server left after it stopped: {left or 'none'}")


if __name__ == "__main__":
    main()

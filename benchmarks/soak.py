"""Does the server's memory stay put? 200 runs (some long) across 20 sessions, then every tab closed.

Starts `streamlit run` on loopback (a throwaway run store) and drives it with benchmarks/load.py's protocol clients
(a websocket per tab, the BackMsgs a browser sends: set Epochs, press Train, follow the fragment reruns until
"Completed"). Each session runs its share of the runs one after another; every `--long-every`-th run is long.
When a session's runs are done its websocket closes (the tab is closed). Prints the server process's RSS after
the first 20 runs have completed and at the end (every tab closed, past Streamlit's disconnected-session TTL),
and their ratio: the goal is ≤ 1.2.

    .venv/bin/python benchmarks/soak.py [--sessions 20] [--runs 200] [--epochs 2000] [--long 300000] [--long-every 20]
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import XSRF_COOKIE, ProtocolSession, start_server, xsrf_cookie  # noqa: E402
from procstat import free_port  # noqa: E402

TTL_S = 120  # Streamlit's server.disconnectedSessionTTL default: a closed tab's session state may live this long


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


class Tab(ProtocolSession):
    """A protocol session whose "Completed N epochs" check follows the run it is on."""

    want = 0

    async def receive(self, epochs: int) -> None:  # noqa: ARG002 - the run's epochs change; self.want has them
        async for data in self.ws:
            if isinstance(data, bytes):
                self.on_message(data, self.want)


async def session(url: str, runs: list[int], done: list[int], timeout_s: float, errors: list[str]) -> None:
    from websockets.asyncio.client import connect

    out: dict = {"drawn": [], "log": [], "clicks": 0}
    tab = Tab(url, out)
    token = await asyncio.to_thread(xsrf_cookie, url)
    host = url.split("://", 1)[1]
    async with connect(f"ws://{host}/_stcore/stream", subprotocols=["streamlit", token] if token else ["streamlit"], origin=url,
                       additional_headers={"Cookie": f"{XSRF_COOKIE}={token}"} if token else None, max_size=None,
                       open_timeout=timeout_s, ping_interval=None) as ws:  # fmt: skip
        tab.ws = ws
        receiver = asyncio.create_task(tab.receive(0))
        try:
            tab.finished.clear()
            await tab.send(tab.rerun())
            while not {"train_start", "train_epochs"} <= tab.ids.keys():
                await tab.wait_run(timeout_s)
                tab.finished.clear()
            for epochs in runs:
                tab.want, previous = epochs, out.get("job")
                out.pop("completed", None)
                tab.values["train_epochs"] = ("int_value", epochs)
                tab.finished.clear()
                await tab.send(tab.rerun())
                await tab.wait_run(timeout_s)
                deadline = time.monotonic() + timeout_s
                while out.get("job") == previous and time.monotonic() < deadline:  # press Train until a run starts
                    await tab.send(tab.rerun(trigger="train_start"))
                    started = time.monotonic()
                    while out.get("job") == previous and time.monotonic() - started < 20:
                        await asyncio.sleep(0.05)
                while "completed" not in out and "error" not in out and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                if "error" in out:
                    errors.append(out.pop("error"))
                elif "completed" not in out:
                    errors.append(f"a run of {epochs:,} epochs did not complete within {timeout_s:.0f} s")
                done.append(1)
        finally:
            tab.clear_timers()
            receiver.cancel()
    # leaving the block closed the websocket: the tab is closed


async def drive(url: str, args: argparse.Namespace, server_pid: int) -> tuple[float, float]:
    plans = [[] for _ in range(args.sessions)]
    for i in range(args.runs):  # round robin, so long runs are spread over the sessions and over time
        plans[i % args.sessions].append(args.long if (i + 1) % args.long_every == 0 else args.epochs)
    done: list[int] = []
    errors: list[str] = []
    tasks = [asyncio.create_task(session(url, p, done, args.timeout, errors)) for p in plans]
    while len(done) < 20 and not all(t.done() for t in tasks):
        await asyncio.sleep(0.2)
    first = rss_mb(server_pid)
    print(f"server RSS after the first 20 runs: {first:.0f} MB", flush=True)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    print(f"runs completed: {len(done)} of {args.runs}; session errors: {len(errors) + len(failed)}", flush=True)
    for e in (errors + [repr(f) for f in failed])[:5]:
        print(f"  {e}")
    print(f"every tab closed; waiting {TTL_S + 15} s (Streamlit's disconnected-session TTL and the job manager's sweep)", flush=True)
    await asyncio.sleep(TTL_S + 15)
    return first, rss_mb(server_pid)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--epochs", type=int, default=2000)
    ap.add_argument("--long", type=int, default=300_000, help="epochs of a long run")
    ap.add_argument("--long-every", type=int, default=20, help="every this-many-th run is long")
    ap.add_argument("--timeout", type=float, default=600, help="seconds one run may take, queue included")
    args = ap.parse_args()
    db = os.path.join(tempfile.mkdtemp(prefix="descent-soak-"), "runs.db")
    port = free_port()
    server = start_server(port, db, pin=False)
    t0 = time.time()
    try:
        first, end = asyncio.run(drive(f"http://127.0.0.1:{port}", args, server.pid))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"{args.runs} runs ({args.runs // args.long_every} of {args.long:,} epochs, the rest {args.epochs:,}) across "
          f"{args.sessions} sessions, house_prices n = 1,000, in {time.time() - t0:.0f} s")  # fmt: skip
    print(f"server RSS: after the first 20 runs {first:.0f} MB, at the end {end:.0f} MB; ratio end/first {end / first:.2f} (goal ≤ 1.2)")


if __name__ == "__main__":
    main()

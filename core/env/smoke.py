"""A smoke test and micro-benchmark of torch on this machine, run as `python -m core env --smoke [--json]`.

Each step reports one event (a dict) as it finishes, so the page can show progress: allocate on each device,
a matmul checked against the CPU, TFLOP/s for fp32/tf32/bf16, device memory bandwidth, host↔device copies,
and whether torch.compile works and how long it takes. On a CPU-only machine it checks the CPU and says so.
The page runs it in a child process (SmokeProcess) so torch and any crash stay out of the server.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.i18n import N_, LocalizedError, Message, _, decode, encode

ROOT = Path(__file__).resolve().parents[2]
Event = dict[str, Any]
MIB = 2**20
MARKS = {"ok": N_("ok"), "fail": N_("FAIL"), "skip": N_("skip")}  # a step's status as the log shows it


class CheckFailed(LocalizedError, AssertionError):
    """A check's result was wrong (not an exception from torch): its message is ours, so it is translated."""


def _emitted(ev: Event) -> Event:
    """A Message in an event becomes its text in this process's language ("message", for --json readers and the log)
    plus its id and parameters ("i18n"), so the page shows it in each reader's language."""
    msg = ev.get("message")
    if isinstance(msg, Message):
        ev["message"], ev["i18n"] = str(msg), encode(msg)
    return ev


def run_smoke(emit: Callable[[Event], None], quick: bool = False, compile_check: bool = True) -> list[Event]:
    """Run every step; each step's failure is an event, never an exception. Returns all events."""
    events: list[Event] = []

    def step(name: str, fn: Callable[[], Event], label: str = "") -> Event:
        t0 = time.perf_counter()
        try:
            ev = {"step": name, "status": "ok", **fn()}
        except LocalizedError as e:
            ev = {"step": name, "status": "fail", "message": e.message}
        except Exception as e:  # noqa: BLE001 - a failed check is a result
            ev = {"step": name, "status": "fail", "message": f"{type(e).__name__}: {e}".strip()[:500]}
        ev.setdefault("device", label)
        ev["seconds"] = round(time.perf_counter() - t0, 3)
        events.append(_emitted(ev))
        emit(ev)
        return ev

    t0 = time.perf_counter()
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        ev = {"step": N_("import torch"), "status": "fail", "message": f"{type(e).__name__}: {e}"}
        emit(ev)
        return [ev]
    took = Message("torch {version} in {seconds:.1f} s", {"version": torch.__version__, "seconds": time.perf_counter() - t0})
    emit(ev := _emitted({"step": N_("import torch"), "status": "ok", "message": took}))
    events.append(ev)

    n = 256 if quick else 1024
    big = 2048 if quick else 8192  # GPU matmul size: large enough to reach peak TFLOP/s
    step(N_("matmul check"), lambda: _matmul_check(torch, "cpu", n), "cpu")
    step("TFLOP/s fp32", lambda: _tflops(torch, "cpu", torch.float32, 512 if quick else 1024, tf32=False), "cpu")

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus == 0:
        mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
        if mps:
            step(N_("matmul check"), lambda: _matmul_check(torch, "mps", n), "mps")
        ev = _emitted(
            {
                "step": "GPU",
                "status": "skip",
                "device": "",
                "message": Message("No CUDA GPU: torch.cuda.is_available() is False, so only the CPU was checked."),
            }
        )
        events.append(ev)
        emit(ev)
    for i in range(gpus):
        dev = f"cuda:{i}"
        size = (64 if quick else 512) * MIB
        step(N_("allocate"), lambda dev=dev, size=size: _allocate(torch, dev, size), dev)
        step(N_("matmul check"), lambda dev=dev: _matmul_check(torch, dev, n), dev)
        step("TFLOP/s fp32", lambda dev=dev: _tflops(torch, dev, torch.float32, big, tf32=False), dev)
        step("TFLOP/s tf32", lambda dev=dev: _tflops(torch, dev, torch.float32, big, tf32=True), dev)
        if torch.cuda.is_bf16_supported():
            step("TFLOP/s bf16", lambda dev=dev: _tflops(torch, dev, torch.bfloat16, big, tf32=False), dev)
        step(N_("memory bandwidth"), lambda dev=dev, size=size: _bandwidth(torch, dev, size), dev)
        step(N_("host to device"), lambda dev=dev, size=size: _copy(torch, dev, size, to_device=True), dev)
        step(N_("device to host"), lambda dev=dev, size=size: _copy(torch, dev, size, to_device=False), dev)
    if compile_check:
        step("torch.compile", lambda: _compile(torch, "cuda:0" if gpus else "cpu"), "cuda:0" if gpus else "cpu")
    return events


def _sync(torch: Any, device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)
    elif device == "mps":
        torch.mps.synchronize()


def _allocate(torch: Any, device: str, nbytes: int) -> Event:
    x = torch.empty(nbytes // 4, dtype=torch.float32, device=device)
    x.fill_(1.0)
    ok = float(x[-1].item()) == 1.0  # host sync
    free, total = torch.cuda.mem_get_info(device)
    del x
    torch.cuda.empty_cache()
    text = Message(
        "{mib:.0f} MiB allocated and written; {free:.1f} of {total:.1f} GiB free",
        {"mib": nbytes / MIB, "free": free / 2**30, "total": total / 2**30},
    )
    return {"message": text, "ok": ok}


def _matmul_check(torch: Any, device: str, n: int) -> Event:
    """The device's fp32 result against the CPU's, with TF32 off so both do true fp32 arithmetic."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=g, dtype=torch.float64), torch.randn(n, n, generator=g, dtype=torch.float64)
    ref = a @ b  # fp64 on the CPU: the reference
    prev = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        got = (a.float().to(device) @ b.float().to(device)).cpu().double()  # .cpu(): host sync
    finally:
        torch.backends.cuda.matmul.allow_tf32 = prev
    err = float((got - ref).abs().max() / ref.abs().max())
    if err > 1e-4:
        raise CheckFailed(N_("{n}×{n} fp32 matmul differs from the fp64 CPU result by {err:.2e} (relative), more than 1e-4"), n=n, err=err)
    text = Message("{n}×{n} fp32 matmul matches the fp64 CPU result (max relative error {err:.1e})", {"n": n, "err": err})
    return {"message": text, "max_rel_error": err}


def _timed(torch: Any, device: str, fn: Callable[[], Any], min_s: float = 0.3) -> tuple[float, int]:
    """Seconds per call and the calls timed: warm up, then repeat until at least `min_s` has passed."""
    fn()
    _sync(torch, device)
    iters, t0 = 0, time.perf_counter()
    while True:
        fn()
        iters += 1
        _sync(torch, device)
        elapsed = time.perf_counter() - t0
        if elapsed >= min_s or iters >= 1000:
            return elapsed / iters, iters


def _tflops(torch: Any, device: str, dtype: Any, n: int, tf32: bool) -> Event:
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    prev = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    try:
        per = _timed(torch, device, lambda: a @ b)[0]
    finally:
        torch.backends.cuda.matmul.allow_tf32 = prev
    tflops = 2 * n**3 / per / 1e12
    return {"message": Message("{tflops:.2f} TFLOP/s ({n}×{n} matmul)", {"tflops": tflops, "n": n}), "tflops": round(tflops, 3)}


def _bandwidth(torch: Any, device: str, nbytes: int) -> Event:
    x = torch.empty(nbytes // 4, dtype=torch.float32, device=device)
    y = torch.empty_like(x)
    per = _timed(torch, device, lambda: y.copy_(x))[0]
    gbs = 2 * nbytes / per / 1e9  # a copy reads and writes every byte
    text = Message("{gbs:.0f} GB/s device memory (copy of {mib:.0f} MiB)", {"gbs": gbs, "mib": nbytes / MIB})
    return {"message": text, "gb_per_s": round(gbs, 1)}


def _copy(torch: Any, device: str, nbytes: int, to_device: bool) -> Event:
    host = torch.empty(nbytes // 4, dtype=torch.float32).pin_memory()
    dev = torch.empty(nbytes // 4, dtype=torch.float32, device=device)
    src, dst = (host, dev) if to_device else (dev, host)
    per = _timed(torch, device, lambda: dst.copy_(src, non_blocking=True))[0]
    gbs = nbytes / per / 1e9
    return {
        "message": Message("{gbs:.1f} GB/s (pinned host memory, {mib:.0f} MiB)", {"gbs": gbs, "mib": nbytes / MIB}),
        "gb_per_s": round(gbs, 2),
    }


def _compile(torch: Any, device: str) -> Event:
    def f(x: Any) -> Any:
        return torch.sin(x) * 2 + x.pow(2).mean()

    x = torch.randn(4096, device=device)
    compiled = torch.compile(f)
    t0 = time.perf_counter()
    got = compiled(x)
    _sync(torch, device)
    first = time.perf_counter() - t0
    if not torch.allclose(got, f(x), atol=1e-5):
        raise CheckFailed(N_("torch.compile's result differs from eager mode"))
    return {"message": Message("works; first call (compilation) took {seconds:.1f} s", {"seconds": first}), "compile_s": round(first, 2)}


def format_event(ev: Event) -> str:
    """One log line in the current language: the step's mark and name, its device, what it found."""
    status = MARKS.get(ev.get("status", ""))
    mark = _pad(_(status) if status else "", 4)
    where = f" [{ev['device']}]" if ev.get("device") else ""
    step = ev.get("step", "")
    message = decode(ev["i18n"]) if isinstance(ev.get("i18n"), str) else ev.get("message", "")
    return f"{mark} {_(step) if step else ''}{where}: {message}"


def _pad(text: str, width: int) -> str:
    """Pad to `width` terminal columns: a Chinese character takes two."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)


def steps_and_summary(events: list[Event]) -> tuple[list[Event], Event | None]:
    """The step events in order, and the closing summary once the child has written it."""
    return [e for e in events if "step" in e], next((e for e in events if e.get("summary")), None)


def smoke_markdown(events: list[Event]) -> str:
    """The steps as a Markdown section, to append to the environment report."""
    return "\n## " + _("Smoke test") + "\n\n" + "\n".join(f"- {format_event(e)}" for e in steps_and_summary(events)[0]) + "\n"


class SmokeProcess:
    """The smoke test in a child process; a reader thread collects its JSON lines so the page can poll them."""

    def __init__(self, quick: bool = False, compile_check: bool = True) -> None:
        cmd = [sys.executable, "-m", "core", "env", "--smoke", "--json"] + (["--quick"] if quick else [])
        cmd += [] if compile_check else ["--no-compile"]
        self.started = time.time()
        self._proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self._events: list[Event] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, name="descent-smoke-reader", daemon=True).start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                ev = {"step": N_("output"), "status": "", "message": line[:500]}  # a warning torch printed, say
            with self._lock:
                self._events.append(ev)
        self._proc.wait()  # reap it: an exited child nobody waits for stays a <defunct> entry under the server

    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)

    def done(self) -> bool:
        return self._proc.poll() is not None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll()

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()

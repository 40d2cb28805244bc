"""The process-wide objects, created once per server process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import streamlit as st

from core.env import EnvReport
from core.env.nvml import FAKE_GPU_ENV, LiveSampler, PynvmlAdapter, demo_nvml
from core.i18n import Message
from core.runs import JobManager, RunStore, StoreError
from ui.admin_gate import AdminGate

ROOT = Path(__file__).resolve().parents[1]


@st.cache_resource(show_spinner=False)  # made at server start (ui/warm_up.py); a visit meanwhile waits in warm_up.wait()
def job_manager() -> JobManager:
    """One pool of warm worker processes per server, shared by every session; every run goes into the store.

    A store that cannot be opened (a bad DESCENT_DB, a damaged file) leaves training working: the runs go unsaved,
    and the sidebar, the Train page and the Admin page say so (a Message: the pool is every session's)."""
    try:
        return JobManager(store=run_store())
    except StoreError as e:
        return JobManager(
            store=None,
            store_problem=Message(
                "{problem} Runs train, but are not saved until the server restarts with a working store.", {"problem": e.message}
            ),
        )


@st.cache_resource(show_spinner=False)
def admin_gate() -> AdminGate:
    """The admin password's failed tries, counted across every session of this server."""
    return AdminGate()


@st.cache_resource(ttl=300, show_spinner=False)
def environment_probe(fake_gpu: bool = False) -> Future[EnvReport]:
    """Started in the background so the page renders at once; the probe imports torch, which takes seconds.

    `fake_gpu` (DESCENT_FAKE_GPU=1) is part of the cache key so a test or demo with the fake H100 never sees the real report.
    """
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="descent-probe").submit(_probe_in_child, fake_gpu)


def _probe_in_child(fake_gpu: bool = False) -> EnvReport:
    """Probe in a child process: torch and the NVIDIA driver stay out of the server, and a crash there is only a message here."""
    env = {**os.environ, FAKE_GPU_ENV: "1" if fake_gpu else "0"}
    try:
        out = subprocess.run(
            [sys.executable, "-m", "core", "env", "--json"], capture_output=True, text=True, timeout=120, check=True, cwd=ROOT, env=env
        )
        return EnvReport.from_dict(json.loads(out.stdout))
    except (subprocess.SubprocessError, json.JSONDecodeError, OSError) as e:
        detail = getattr(e, "stderr", "") or str(e)
        report = EnvReport(python=sys.version.split()[0], os=sys.platform)
        report.notes.append(f"The environment probe failed: {detail.strip().splitlines()[-1] if detail.strip() else e}")
        return report


@st.cache_resource(show_spinner=False)
def gpu_sampler(fake_gpu: bool = False) -> LiveSampler:
    """One NVML sampler per server (NVML only, no torch): every session's live GPU cards share its history."""
    return LiveSampler(demo_nvml if fake_gpu else PynvmlAdapter.load)


@st.cache_resource(show_spinner=False)
def run_store() -> RunStore:
    """One run store per server process (SQLite at DESCENT_DB, or PostgreSQL when that is a postgresql:// URL)."""
    return RunStore()

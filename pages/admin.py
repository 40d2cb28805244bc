"""Admin: every session's jobs on this server, the workers, the limits in force; behind a configured password."""

import hmac
import os
import time

import pandas as pd
import streamlit as st

from core.data import LIMITS
from core.training import MAX_EPOCHS
from ui import state
from ui.cache import job_manager

FAILURES_SHOWN = 10

st.title("Admin")
ss = st.session_state


def configured_password() -> str:
    """DESCENT_ADMIN_PASSWORD, else secrets [admin] password; empty when neither is set (the view is off)."""
    if env := os.environ.get("DESCENT_ADMIN_PASSWORD"):
        return env
    try:
        return str(st.secrets.get("admin", {}).get("password", "") or "")
    except FileNotFoundError:  # no secrets.toml at all
        return ""


password = configured_password()
if not password:
    st.info(
        "The admin view is disabled: no admin password is configured. To enable it, add\n\n"
        '```toml\n[admin]\npassword = "…"\n```\n\n'
        "to `.streamlit/secrets.toml`, or set the environment variable `DESCENT_ADMIN_PASSWORD`, and restart the server."
    )
    st.stop()

if not ss.get(state.ADMIN_OK):
    with st.columns([2, 3])[0], st.form("admin_login", clear_on_submit=True):  # the typed password does not stay in the widget
        typed = st.text_input("Admin password", type="password", key=state.ADMIN_PASSWORD)
        submitted = st.form_submit_button("Open the admin view", type="primary")
    if submitted:
        if hmac.compare_digest(typed.encode(), password.encode()):
            ss[state.ADMIN_OK] = True
            st.rerun()
        st.columns([2, 3])[0].error("Wrong password.")
    st.stop()

manager = job_manager()
now = time.time()


def owner(job) -> str:
    return job.owner_label or (f"session {job.owner[:6]}" if job.owner else "(CLI)")


def age(seconds: float) -> str:
    return f"{seconds:,.0f} s" if seconds < 120 else f"{seconds / 60:,.1f} min"


jobs = manager.jobs()
active = [j for j in jobs if not j.done]
failed = [j for j in jobs if j.status == "failed"][-FAILURES_SHOWN:][::-1]

ready, total = manager.workers_ready(), len(manager.worker_pids())
m1, m2, m3, m4 = st.columns(4)
m1.metric("Workers ready", f"{ready} of {total}")
m2.metric("Running", sum(j.status in ("running", "paused") for j in active))
m3.metric("Queued", sum(j.status == "queued" for j in active))
m4.metric("Failed (kept in memory)", sum(j.status == "failed" for j in jobs))

h1, h2 = st.columns([6, 1], vertical_alignment="bottom")
h1.subheader("Jobs now", anchor=False)
h2.button("Refresh", key="admin_refresh", icon=":material/refresh:", width="stretch")  # any click reruns the page
if not active:
    st.caption("No job is queued or running.")
else:
    header = st.columns([1.1, 1.1, 2.0, 1.6, 1.0, 0.9, 0.8])
    for col, name in zip(header, ["status", "owner", "data", "epochs", "epochs/s", "age"]):
        col.markdown(f"**{name}**")
    for job in active:
        snap = manager.snapshot(job.id, since=2**62)  # counts only, no rows
        if snap is None:
            continue
        status = f"queued #{snap.queue_position}" if snap.status == "queued" else snap.status
        elapsed = now - snap.started_at if snap.started_at else 0.0
        rate = f"{snap.epochs_done / elapsed:,.0f}" if elapsed > 0 and snap.started_at else "–"
        c = st.columns([1.1, 1.1, 2.0, 1.6, 1.0, 0.9, 0.8], vertical_alignment="center")
        c[0].write(status)
        c[1].write(owner(job))
        c[2].write(f"{job.dataset.get('preset') or job.dataset.get('csv') or '?'}, {job.dataset.get('rows', 0):,} rows")
        c[3].write(f"{snap.epochs_done:,} of {snap.epochs_total:,}")
        c[4].write(rate)
        c[5].write(age(now - job.submitted_at))
        c[6].button("Stop", key=f"admin_stop_{job.id}", on_click=manager.stop, args=(job.id,), width="stretch")

st.subheader("Recent failures", anchor=False)
if not failed:
    st.caption("None since this server started.")
else:
    st.dataframe(
        pd.DataFrame(
            {
                "finished": [time.strftime("%H:%M:%S", time.localtime(j.finished_at or now)) for j in failed],
                "owner": [owner(j) for j in failed],
                "epochs": [len(j.history["epoch"]) for j in failed],
                "message": [j.error or (j.result or {}).get("reason", "") for j in failed],
            }
        ),
        hide_index=True,
        width="stretch",
    )

st.subheader("Policy and limits in force", anchor=False)
p = manager.policy
memory_mb = os.environ.get("DESCENT_WORKER_MEMORY_MB")
limits = {
    "worker processes (DESCENT_WORKERS)": f"{total}",
    "runs at a time per session (DESCENT_RUNS_PER_SESSION)": f"{p.runs_per_session}",
    "closed tab: runs stopped after (DESCENT_ORPHAN_AFTER_S)": "kept running" if p.keep_orphans else f"{p.orphan_after_s:g} s",
    "wall time per run (DESCENT_MAX_RUN_S)": f"{p.max_run_s:g} s" if p.max_run_s else "no limit",
    "runs at a time per GPU (DESCENT_RUNS_PER_GPU)": f"{p.runs_per_gpu}",
    "memory per run beyond the worker, CPU servers (DESCENT_WORKER_MEMORY_MB)": f"{memory_mb} MB" if memory_mb else "no limit",
    "epochs per run (DESCENT_MAX_EPOCHS)": f"{MAX_EPOCHS:,}",
    "rows (DESCENT_MAX_ROWS)": f"{LIMITS.max_rows:,}",
    "columns (DESCENT_MAX_COLUMNS)": f"{LIMITS.max_columns}",
    "upload size (DESCENT_MAX_UPLOAD_MB)": f"{LIMITS.max_bytes / 2**20:g} MB",
}
st.dataframe(pd.DataFrame({"setting": list(limits), "value": list(limits.values())}), hide_index=True, width="content")

if st.button("Leave the admin view", key="admin_logout"):
    ss.pop(state.ADMIN_OK, None)
    st.rerun()

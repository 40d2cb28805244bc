"""Admin: every session's jobs on this server, the workers, the limits in force; behind a configured password."""

import hmac
import time

import pandas as pd
import streamlit as st

from core.i18n import N_, _
from core.runs.overview import ACTIVE_COLUMNS, active_row, failure_rows, job_counts, limits_in_force
from ui import identity, state
from ui.admin_gate import configured_password
from ui.cache import admin_gate, job_manager

FAILURES_SHOWN = 10
ACTIVE_WIDTHS = [1.1, 1.1, 2.0, 1.6, 1.0, 0.9, 0.8]  # ACTIVE_COLUMNS, then the Stop button
# the English keys of core/runs/overview.py's rows, as column headings in the reader's language
HEADINGS = {
    "status": N_("status"),
    "owner": N_("owner"),
    "data": N_("data"),
    "epochs": N_("epochs"),
    "epochs/s": N_("epochs/s"),
    "age": N_("age"),
    "finished": N_("finished"),
    "message": N_("message"),
    "setting": N_("setting"),
    "value": N_("value"),
}


def heading(key: str) -> str:
    """A column's heading in the reader's language; a key this table does not know is looked up as an id itself."""
    return _(HEADINGS[key]) if key in HEADINGS else _(key)


st.title(_("Admin"))


password = configured_password()  # never empty here: without one the page is not in the navigation (ui/app.py)

if not st.session_state.get(state.ADMIN_OK):
    gate, who = admin_gate(), identity.owner_id()
    login_col, _spacer = st.columns([2, 3])
    with login_col, st.form("admin_login", clear_on_submit=True):  # the typed password does not stay in the widget
        typed = st.text_input(_("Admin password"), type="password", key=state.ADMIN_PASSWORD)
        submitted = st.form_submit_button(_("Open the admin view"), type="primary")
    if submitted:
        if (wait := gate.wait_s(who)) > 0:  # not even checked: a guess during the wait costs nothing but time
            login_col.error(_("Too many wrong passwords. Try again in {wait:.0f} s.", wait=wait))
            st.stop()
        if hmac.compare_digest(typed.encode(), password.encode()):
            gate.succeeded(who)
            st.session_state[state.ADMIN_OK] = True
            st.rerun()
        gate.failed(who, identity.owner_label())
        wait = gate.wait_s(who)
        login_col.error(_("Wrong password. Wait {wait:.0f} s before the next try.", wait=wait) if wait > 0 else _("Wrong password."))
    st.stop()

manager = job_manager()
now = time.time()
jobs = manager.jobs()
active = [j for j in jobs if not j.done]

ready, total = manager.workers_ready(), len(manager.worker_pids())
counts = job_counts(jobs)
workers_col, running_col, queued_col, failed_col = st.columns(4)
workers_col.metric(_("Workers ready"), _("{ready} of {total}", ready=ready, total=total))
running_col.metric(_("Running"), counts["running"])
queued_col.metric(_("Queued"), counts["queued"])
failed_col.metric(_("Failed (kept in memory)"), counts["failed"])

title_col, refresh_col = st.columns([6, 1], vertical_alignment="bottom")
title_col.subheader(_("Jobs now"), anchor=False)
refresh_col.button(_("Refresh"), key="admin_refresh", icon=":material/refresh:", width="stretch")  # any click reruns the page
if not active:
    st.caption(_("No job is queued or running."))
else:
    *heading_cells, _stop_heading = st.columns(ACTIVE_WIDTHS)
    for heading_cell, name in zip(heading_cells, ACTIVE_COLUMNS):
        heading_cell.markdown(f"**{heading(name)}**")
    for job in active:
        snap = manager.snapshot(job.id, since=2**62)  # counts only, no rows
        if snap is None:
            continue
        *value_cells, stop_cell = st.columns(ACTIVE_WIDTHS, vertical_alignment="center")
        for value_cell, value in zip(value_cells, active_row(job, snap, now).values()):
            value_cell.write(str(value))
        stop_cell.button(_("Stop"), key=f"admin_stop_{job.id}", on_click=manager.stop, args=(job.id,), width="stretch")

st.subheader(_("Recent failures"), anchor=False)
if failures := failure_rows(jobs, now, limit=FAILURES_SHOWN):
    table = pd.DataFrame(failures)
    table["message"] = table["message"].map(str)  # a Message (or older text) in the reader's language
    st.dataframe(table.rename(columns=heading), hide_index=True, width="stretch")
else:
    st.caption(_("None since this server started."))

st.subheader(_("Run store"), anchor=False)
health = manager.store_health()
if health["problem"]:
    st.error(_("**Runs are not being saved.** {problem}", problem=health["problem"]), icon=":material/database_off:")
else:
    st.success(_("Every run is saved to {store}.", store=health["store"]), icon=":material/database:")
st.caption(_("Runs whose record the store lacks (kept in memory, retried every few seconds): {n}", n=health["runs_unsaved"]))

st.subheader(_("Policy and limits in force"), anchor=False)
limits = limits_in_force(manager.policy, total)
settings = pd.DataFrame({"setting": [_(k) for k in limits], "value": [str(v) for v in limits.values()]})
st.dataframe(settings.rename(columns=heading), hide_index=True, width="stretch")

if st.button(_("Leave the admin view"), key="admin_logout"):
    st.session_state.pop(state.ADMIN_OK, None)
    st.rerun()

"""Descent Lab's app script: router and the sidebar every page shares (streamlit_app.py serves it)."""

import streamlit as st

from ui import warm_up

warm_up.wait()  # a visit while the server warms up; the imports below are then already done

from core.data import LIMITS
from core.runs import JobManager
from core.training import MAX_EPOCHS
from ui import identity, navigation, state
from ui.admin_gate import configured_password
from ui.cache import job_manager
from ui.text import md, md_list

st.set_page_config(page_title="Descent Lab", page_icon="📉", layout="wide")


def login_configured() -> bool:
    """Streamlit's OIDC login is on when secrets hold an [auth] section; without it the app is open."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets.toml at all
        return False


if login_configured() and not st.user.get("is_logged_in", False):
    st.title("Descent Lab")
    st.write("This server asks you to log in first.")
    st.button("Log in", type="primary", on_click=st.login)
    st.stop()

page = st.navigation(navigation.pages(admin=bool(configured_password())))

manager = job_manager()  # the server's warm-up has started its workers (under AppTest, this first run does)
with st.sidebar:
    st.markdown("### Descent Lab")
    ds = state.current_dataset()
    st.caption(f"**Data:** {md(ds.name)}, {len(ds):,} rows · {md_list(ds.features)} → {md(ds.target)}")

    @st.fragment(run_every=10 if manager.workers_ready() else 2)  # "ready" shows within 2 s of a cold start's warm-up
    def heartbeat(manager: JobManager) -> None:
        """While any page of this browser is open its runs are wanted; a closed browser's runs are stopped (JobPolicy)."""
        manager.heartbeat(identity.owner_id())
        ready = manager.workers_ready()
        st.caption(f"**Workers:** {ready} of {len(manager.worker_pids())} ready" + ("" if ready else " (warming up torch…)"))

    heartbeat(manager)
    identity.remember_browser()
    if manager.store_problem:
        st.warning(f"**Runs are not being saved.** {manager.store_problem}", icon=":material/database_off:")

    policy = manager.policy
    with st.expander("Limits on this server"):
        st.caption(
            f"{LIMITS.max_rows:,} rows · {LIMITS.max_columns} columns · {LIMITS.max_bytes / 2**20:g} MB upload · "
            f"{MAX_EPOCHS:,} epochs · "
            + (f"{policy.max_run_s:g} s per run" if policy.max_run_s else "no time limit per run")
            + f" · {policy.runs_per_session} run{'s' if policy.runs_per_session > 1 else ''} at a time per person"
        )
    if login_configured():
        st.button("Log out", key="logout", on_click=st.logout)
    else:
        st.caption("Open app: no login configured (an `[auth]` section in secrets turns it on).")

page.run()

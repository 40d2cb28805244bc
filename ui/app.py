"""Descent Lab's app script: router and the sidebar every page shares (streamlit_app.py serves it)."""

import streamlit as st

from ui import warm_up

warm_up.wait()  # a visit while the server warms up; the imports below are then already done

from core.data import LIMITS
from core.i18n import _
from core.runs import JobManager
from core.training import MAX_EPOCHS
from ui import identity, language, navigation, state
from ui.admin_gate import configured_password
from ui.cache import job_manager
from ui.text import md, md_list

st.set_page_config(page_title="Descent Lab", page_icon="📉", layout="wide")
language.choose()
language.frontend_words()


def login_configured() -> bool:
    """Streamlit's OIDC login is on when secrets hold an [auth] section; without it the app is open."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets.toml at all
        return False


if login_configured() and not st.user.get("is_logged_in", False):
    st.title("Descent Lab")
    st.write(_("This server asks you to log in first."))
    st.button(_("Log in"), type="primary", on_click=st.login)
    st.stop()

page = st.navigation(navigation.pages(admin=bool(configured_password())))

manager = job_manager()  # the server's warm-up has started its workers (under AppTest, this first run does)
with st.sidebar:
    st.markdown("### Descent Lab")
    language.switch()
    ds = state.current_dataset()
    st.caption(
        _(
            "**Data:** {name}, {rows:,} rows · {features} → {target}",
            name=md(state.dataset_label(ds)),
            rows=len(ds),
            features=md_list(ds.features),
            target=md(ds.target),
        )
    )

    @st.fragment(run_every=10 if manager.workers_ready() else 2)  # "ready" shows within 2 s of a cold start's warm-up
    def heartbeat(manager: JobManager) -> None:
        """While any page of this browser is open its runs are wanted; a closed browser's runs are stopped (JobPolicy)."""
        manager.heartbeat(identity.owner_id())
        ready = manager.workers_ready()
        workers = len(manager.worker_pids())
        st.caption(
            _("**Workers:** {ready} of {workers} ready", ready=ready, workers=workers)
            if ready
            else _("**Workers:** {ready} of {workers} ready (warming up torch…)", ready=ready, workers=workers)
        )

    heartbeat(manager)
    identity.remember_browser()
    if manager.store_problem:
        st.warning(_("**Runs are not being saved.** {problem}", problem=manager.store_problem), icon=":material/database_off:")

    policy = manager.policy
    with st.expander(_("Limits on this server")):
        limits = _(
            "{rows:,} rows · {columns} columns · {mb:g} MB upload · {epochs:,} epochs",
            rows=LIMITS.max_rows,
            columns=LIMITS.max_columns,
            mb=LIMITS.max_bytes / 2**20,
            epochs=MAX_EPOCHS,
        )
        per_run = _("{seconds:g} s per run", seconds=policy.max_run_s) if policy.max_run_s else _("no time limit per run")
        at_once = (
            _("{runs} runs at a time per person", runs=policy.runs_per_session)
            if policy.runs_per_session > 1
            else _("1 run at a time per person")
        )
        st.caption(f"{limits} · {per_run} · {at_once}")
    if login_configured():
        st.button(_("Log out"), key="logout", on_click=st.logout)
    else:
        st.caption(_("Open app: no login configured (an `[auth]` section in secrets turns it on)."))

page.run()

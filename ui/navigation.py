"""The app's pages: one table that the router (ui/app.py) and any page that sends a person elsewhere both read.

st.Page gets absolute paths into the top-level pages/ folder: the app script lives in ui/, away from pages/, so
Streamlit never takes that folder for a v1 multipage app (it does when a server's first visit is a page URL).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.i18n import N_, _

PAGES_DIR = Path(__file__).resolve().parents[1] / "pages"

# file stem → (title, icon, url path); the first is the page `streamlit run` opens
PAGES = {
    "home": (N_("Home"), ":material/home:", "home"),
    "environment": (N_("Environment"), ":material/memory:", "environment"),
    "data": (N_("Data"), ":material/scatter_plot:", "data"),
    "train": (N_("Train"), ":material/model_training:", "train"),
    "descent": (N_("Gradient descent"), ":material/landscape:", "descent"),
    "class_mode": (N_("Class"), ":material/groups:", "class"),
    "memory": (N_("Will it fit?"), ":material/memory_alt:", "fit"),
    "runs": (N_("Runs"), ":material/history:", "runs"),
    "admin": (N_("Admin"), ":material/admin_panel_settings:", "admin"),
}


def path(name: str) -> str:
    """A page's file as st.switch_page takes it."""
    return str(PAGES_DIR / f"{name}.py")


def pages(admin: bool) -> list[st.Page]:
    """admin: the Admin page is listed (an admin password is configured); for everyone else it would be a dead end."""
    return [
        st.Page(path(name), title=_(title), icon=icon, url_path=url, default=i == 0)
        for i, (name, (title, icon, url)) in enumerate(PAGES.items())
        if admin or name != "admin"
    ]

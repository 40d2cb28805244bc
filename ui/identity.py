"""Who owns a run: the logged-in user, or else this browser. Control of a run never rides in a URL.

Without login a browser is known by a random id kept in a cookie (COOKIE) that the page itself sets: every tab and
every refresh of that browser is the same owner, so a refreshed page takes its runs back, while a copied address
opens them read-only anywhere else. The cookie is the owner's only proof, so it never appears in a link.
"""

from __future__ import annotations

import hashlib
import re
import secrets

import streamlit as st

OWNER = "owner"  # session-state key: this session's owner id
COOKIE = "descent_owner"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,64}")
_JS = """
export default function ({ data }) {
  if (!document.cookie.split("; ").includes(data.cookie)) {
    const secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = data.cookie + "; path=/; max-age=31536000; SameSite=Strict" + secure;
  }
}
"""
_cookie_setter = st.components.v2.component("descent_owner_cookie", js=_JS)


def owner_id() -> str:
    """The logged-in user (hashed: the store's owner column is short and the address is not needed there), else this
    browser: its cookie's id, or a new one that remember_browser() then keeps in the cookie."""
    if st.user.get("is_logged_in"):
        return user_owner(str(st.user.get("email") or st.user.get("sub") or st.user.get("name")))
    if OWNER not in st.session_state:
        cookie = st.context.cookies.get(COOKIE)
        cookie = cookie if isinstance(cookie, str) else ""  # none yet; AppTest has no cookies at all
        st.session_state[OWNER] = "browser:" + (cookie if _TOKEN.fullmatch(cookie) else secrets.token_urlsafe(24))
    return st.session_state[OWNER]


def user_owner(who: str) -> str:
    """A logged-in user's owner id."""
    return "user:" + hashlib.sha256(who.encode()).hexdigest()[:40]


def owner_label() -> str:
    """Who a run belongs to, as the admin page shows it: the logged-in user, else a guest by browser and address."""
    if st.user.get("is_logged_in"):
        return str(st.user.get("email") or st.user.get("name") or "logged-in user")
    ip = st.context.ip_address
    return f"guest {owner_id().removeprefix('browser:')[:6]}" + (f" from {ip}" if ip else " (this machine)")


def remember_browser() -> None:
    """Keep this browser's id in its cookie, so a refresh or another tab is the same owner (an invisible element)."""
    owner = owner_id()
    if owner.startswith("browser:"):
        _cookie_setter(key="owner_cookie", data={"cookie": f"{COOKIE}={owner.removeprefix('browser:')}"})

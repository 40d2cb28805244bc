"""Each session's language: the URL's ?lang= (a teacher shares a Chinese link), else the choice made in this
session, else the browser's language on a first visit. The sidebar switch changes it and the URL with it."""

from __future__ import annotations

import streamlit as st

from core.i18n import LANGUAGES, _, follow, language_of

KEY = "lang"  # session state and URL query parameter


def _session_language() -> str | None:
    try:
        return st.session_state.get(KEY)
    except Exception:  # noqa: BLE001 - outside a script run (a worker thread, a test) there is no session
        return None


follow(_session_language)


def choose() -> str:
    """Settle this run's language, before anything is drawn, and keep it in the URL through page switches."""
    asked = st.query_params.get(KEY)
    if asked in LANGUAGES:
        st.session_state[KEY] = asked
    elif st.session_state.get(KEY) not in LANGUAGES:
        st.session_state[KEY] = language_of(st.context.locale or st.context.headers.get("Accept-Language"))
    lang = st.session_state[KEY]
    if asked != lang and (asked is not None or lang != "en"):
        st.query_params[KEY] = lang
    return lang


def in_url() -> dict[str, str]:
    """The language's part of the URL, for a page that rewrites its query (the Data page's preset link): keep it."""
    return {KEY: st.query_params[KEY]} if KEY in st.query_params else {}


def switch() -> None:
    """English / 中文, each in its own words, so either reader finds it."""
    st.session_state["lang_switch"] = st.session_state[KEY]
    st.segmented_control(
        "Language · 语言",
        list(LANGUAGES),
        format_func=LANGUAGES.get,
        key="lang_switch",
        on_change=_switched,
    )


def _switched() -> None:
    chosen = st.session_state.get("lang_switch")
    if chosen in LANGUAGES:  # clicking the chosen one again unselects it: keep the language
        st.session_state[KEY] = chosen
        st.query_params[KEY] = chosen


def frontend_words() -> None:
    """Streamlit's own words on the file uploader (its button and size line) come from its frontend in English; in
    another language, CSS puts ours in their place. The selectors are Streamlit 1.67's test ids (tests/e2e pins them)."""
    if st.session_state.get(KEY, "en") == "en":
        return
    upload = _("Upload")
    limit = _("Up to {mb} MB per file · CSV, TSV, TXT", mb=st.get_option("server.maxUploadSize"))
    button = '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p'
    size = '[data-testid="stFileUploaderDropzoneInstructions"] span'
    st.html(
        f'<style>{button}{{font-size:0}}{button}::after{{content:"{_css(upload)}";font-size:.875rem}}'
        f'{size}{{font-size:0}}{size}::after{{content:"{_css(limit)}";font-size:.875rem}}</style>'
    )


def _css(text: str) -> str:
    """Text as a CSS string's content: our catalogue's words, escaped all the same."""
    return "".join(c if c.isalnum() or c in " ·、，。" else f"\\{ord(c):x} " for c in text)

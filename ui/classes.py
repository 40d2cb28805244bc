"""Class mode's Streamlit side: the one class registry of this server, the join link and QR code, and lane launching.

The registry lives in st.cache_resource, so every session of the server (the teacher's, each student's, the
projector's) sees one class; control is checked there against ui.identity.owner_id(), never against the URL.
"""

from __future__ import annotations

import io
import logging
import os
from urllib.parse import urlsplit

import segno
import streamlit as st

from core.classroom.class_results import ClassSetup, choice_config, class_setup, refresh, saved_class
from core.classroom.klass import IDLE_S, Choice, ClassRegistry, Klass
from core.classroom.lessons import LESSONS
from core.i18n import current
from core.runs import JobManager, StoreError
from core.runs.classes import SavedClass, list_classes, save_class
from ui import identity, navigation, state
from ui.cache import run_store

log = logging.getLogger(__name__)
PAGE_URL = "class"  # ui.navigation's url path of pages/class_mode.py


@st.cache_resource(show_spinner=False)
def class_registry() -> ClassRegistry:
    """Every class of this server. DESCENT_CLASS_IDLE_S: a class untouched this long ends (its lanes stay as runs)."""
    return ClassRegistry(idle_s=float(os.environ.get("DESCENT_CLASS_IDLE_S", IDLE_S)), on_end=keep)


@st.cache_resource(show_spinner=False)
def setup_for(lesson_key: str) -> ClassSetup:
    """A lesson's data, surface and limits, built once per server."""
    return class_setup(LESSONS[lesson_key])


def earlier_classes(me: str, live: set[str]) -> tuple[list[SavedClass], str]:
    """This teacher's saved classes with at least one lane that are no longer on this server (ended, or from before a
    restart), newest first; and, if the store cannot be read, why (the page says it and goes on)."""
    try:
        return [c for c in list_classes(run_store(), me) if c.code not in live and c.rows], ""
    except StoreError as e:
        return [], str(e)


def keep(klass: Klass) -> None:
    """Save the class in the run store; where the store cannot take it, the class goes on unsaved (logged)."""
    try:
        save_class(run_store(), saved_class(klass, setup_for(klass.lesson_key)))
    except StoreError as e:
        log.warning("class %s not saved: %s", klass.code, e)


def follow(registry: ClassRegistry, manager: JobManager, klass: Klass) -> Klass:
    """The class with every lane's newest record; saved once more whenever a lane has ended."""
    if refresh(registry, klass, setup_for(klass.lesson_key), manager.snapshot):
        klass = registry.get(klass.code)
        keep(klass)
    return klass


def launcher(manager: JobManager, klass: Klass, setup: ClassSetup):
    """What registry.submit calls to queue a student's lane: a short job in the shared queue, owned by the teacher
    (so the lanes are the teacher's runs, and a class takes at most the teacher's share of the workers)."""

    def launch(choice: Choice, nickname: str) -> str:
        what = choice.optimizer if setup.optimizers else f"η {choice.lr:.4g}"
        job = manager.submit(setup.dataset, choice_config(setup, choice), owner=klass.teacher, label=f"class {klass.code}",
                             name=f"class {klass.code} · round {klass.round} · {nickname} · {what}", kind="class")  # fmt: skip
        return job.id

    return launch


def start_class(lesson_key: str) -> None:
    """The Gradient descent page's "Start a class": a class of this lesson, controlled by this browser or login."""
    klass = class_registry().start(identity.owner_id(), lesson_key)
    st.session_state[state.CLASS_CODE] = klass.code
    st.switch_page(navigation.path("class_mode"))


def join_link(code: str) -> str:
    """The address a student opens: this server's class page with the code (and the teacher's language, when not
    English), and nothing else (no control rides in it)."""
    return class_address(str(st.context.url or ""), code, current())


def class_address(page: str, code: str, lang: str = "en") -> str:
    """The class page beside the page the teacher has open (its address as the browser shows it), so a server under a
    sub-path behind a proxy (https://school.example/descent/…) gives that path too. A teacher in Chinese gives a link
    with &lang=zh, so the room opens it in Chinese; English needs nothing (a browser's own language still counts)."""
    parts = urlsplit(page)
    query = f"code={code}" + (f"&lang={lang}" if lang != "en" else "")
    if not parts.netloc:
        return f"http://localhost:8501/{PAGE_URL}?{query}"
    folder = parts.path.rsplit("/", 1)[0]  # "/descent/train" → "/descent"; "/train" and "/" → ""
    return f"{parts.scheme}://{parts.netloc}{folder}/{PAGE_URL}?{query}"


def qr_png(text: str) -> bytes:
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=8, border=2)
    return buf.getvalue()

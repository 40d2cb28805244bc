"""Which language this thread speaks: a context variable, so each Streamlit session (its own script thread)
and the CLI choose their own without passing a language through every call."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable

LANGUAGES = {"en": "English", "zh": "中文"}  # code → its own name, as the language switch shows it
DEFAULT = "en"

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("descent_lab_language", default=None)
_sources: list[Callable[[], str | None]] = []  # where a host keeps each user's language (the app: session state)


def use(language: str | None) -> str:
    """Speak `language` (a code, a locale such as zh_CN.UTF-8, or an Accept-Language value) from now on in this
    thread; anything not understood is English. Returns the code chosen."""
    code = language_of(language)
    _current.set(code)
    return code


def current() -> str:
    """This thread's language (use), else what the host says (follow), else English."""
    code = _current.get()
    if code is None and _sources:
        code = _sources[0]()
    return code if code in LANGUAGES else DEFAULT


def follow(source: Callable[[], str | None]) -> None:
    """Ask `source` for the language wherever use() was not called. The app keeps each session's language in its
    session state, and a Streamlit session's fragments and reruns may run in threads that never saw a use()."""
    _sources[:] = [source]


def language_of(value: str | None) -> str:
    """The first supported language named in a locale or an Accept-Language header ("zh-CN,zh;q=0.9,en;q=0.8",
    "zh_TW.UTF-8", "en-US"); English when none is."""
    for part in re.split(r"[,;:\s]+", value or ""):
        code = re.split(r"[-_.@]", part.strip().lower(), maxsplit=1)[0]
        if code in LANGUAGES:
            return code
    return DEFAULT

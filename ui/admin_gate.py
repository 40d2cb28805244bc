"""The admin password: whether one is configured (else there is no Admin page), and its gate: each wrong try makes
the next one wait, for that browser and for the whole server.

A guessing script gets a few free tries, then waits twice as long after each failure (up to MAX_WAIT_S); many
failures on one server within WINDOW_S make everyone wait, so changing browser (or dropping its cookie) does not
reset the count. Failures are logged with who tried and never with what was typed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import streamlit as st

log = logging.getLogger("descent.admin")

FREE_TRIES = 3  # per browser, before the waits start
MAX_WAIT_S = 300.0
WINDOW_S = 600.0  # the server's count looks back this far
SERVER_FREE = 20  # failures within WINDOW_S, from anyone, before every try waits
SERVER_WAIT_S = 60.0


@dataclass
class AdminGate:
    """One per server (ui/cache.py); thread-safe."""

    sessions: dict[str, tuple[int, float]] = field(default_factory=dict)  # who → (failures, when the last was)
    recent: deque[float] = field(default_factory=deque)  # when each failure on this server was, within WINDOW_S
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_s(self, who: str, now: float | None = None) -> float:
        """Seconds before this browser may try again; 0 when it may now."""
        now = time.time() if now is None else now
        with self.lock:
            self._forget(now)
            failures, last = self.sessions.get(who, (0, 0.0))
            own = min(2.0 ** (failures - FREE_TRIES), MAX_WAIT_S) if failures >= FREE_TRIES else 0.0
            server = SERVER_WAIT_S if len(self.recent) >= SERVER_FREE else 0.0
            anchor = max(last, self.recent[-1] if self.recent else 0.0)
            return max(0.0, last + own - now, anchor + server - now)

    def failed(self, who: str, label: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self.lock:
            failures = self.sessions.get(who, (0, 0.0))[0] + 1
            self.sessions[who] = (failures, now)
            self.recent.append(now)
            log.warning("admin password refused for %s (%d in a row; %d on this server lately)", label, failures, len(self.recent))

    def succeeded(self, who: str) -> None:
        with self.lock:
            self.sessions.pop(who, None)

    def _forget(self, now: float) -> None:
        while self.recent and now - self.recent[0] > WINDOW_S:
            self.recent.popleft()


def configured_password() -> str:
    """DESCENT_ADMIN_PASSWORD, else secrets [admin] password; empty when neither is set (the view is off)."""
    if env := os.environ.get("DESCENT_ADMIN_PASSWORD"):
        return env
    try:
        return str(st.secrets.get("admin", {}).get("password", "") or "")
    except FileNotFoundError:  # no secrets.toml at all
        return ""

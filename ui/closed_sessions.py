"""Closed tabs' sessions let go once Streamlit's reconnect window (server.disconnectedSessionTTL, 120 s) has passed.

Streamlit keeps a closed tab's session, session state included (here the watched run's whole record), in a TTL cache
so that a tab that reconnects finds it. That cache removes expired entries only when it is next written or its length
is asked, that is when the next tab connects: on a server nobody visits any more the last sessions stayed for good
(benchmarks/soak.py: 19 closed sessions and their runs still held with every tab closed for 135 s). A sweep on the event
loop, which owns the cache, does every SWEEP_S what the next visitor's connection would do, then collects what those
sessions held (their cycles wait for a full GC otherwise, and the app turns Streamlit's per-run GC off) and hands the
freed memory back to the system.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

SWEEP_S = 10.0  # a look at a small dict; a closed session goes within 10 s of its window's end
log = logging.getLogger("core.closed_sessions")


async def sweep(period_s: float = SWEEP_S) -> None:
    """Forever, on the server's event loop (streamlit_app.py's lifespan starts it and cancels it at the end)."""
    while True:
        await asyncio.sleep(period_s)
        if reap(session_cache()):
            from core.runs.columns import release_freed_memory  # not at the server's start: the warm-up imports core

            gc.collect()
            release_freed_memory()


def session_cache() -> Any | None:
    """Streamlit's store of disconnected sessions (a streamlit.runtime.caching.ttl_cache.TTLCache), or None where
    this Streamlit keeps it elsewhere: then nothing is swept, as before (tests/unit/ui checks 1.67's layout)."""
    try:
        from streamlit.runtime import Runtime

        return Runtime.instance()._session_mgr._session_storage._cache  # no public way to reap it
    except (RuntimeError, AttributeError):
        return None


def reap(cache: Any | None) -> int:
    """Remove the expired sessions from the cache; how many there were."""
    expire = getattr(cache, "expire", None)
    if expire is None:
        return 0
    removed = len(expire())
    if removed:
        log.info("let go of %d closed sessions past their reconnect window", removed)
    return removed

"""Closed tabs' sessions are let go once past Streamlit's reconnect window, not when the next tab happens to connect."""

from unittest.mock import MagicMock

from streamlit.runtime.caching.ttl_cache import TTLCache
from streamlit.runtime.memory_session_storage import MemorySessionStorage
from streamlit.runtime.websocket_session_manager import WebsocketSessionManager

from ui.closed_sessions import reap


def test_only_the_sessions_past_their_window_are_removed():
    now = [0.0]
    cache = TTLCache(maxsize=128, ttl=120, timer=lambda: now[0])
    cache["old"] = "state of a tab closed long ago"
    now[0] = 100.0
    cache["recent"] = "state of a tab that may still reconnect"
    now[0] = 150.0
    assert reap(cache) == 1
    assert list(cache._data) == ["recent"]  # without the sweep "old" stayed until the next write
    assert reap(cache) == 0


def test_streamlits_session_store_is_where_the_sweep_looks():
    """ui.closed_sessions.session_cache reads Runtime._session_mgr._session_storage._cache; a Streamlit that moves it
    turns the sweep into a no-op, so this says so instead."""
    storage = MemorySessionStorage(ttl_seconds=120)
    manager = WebsocketSessionManager(storage, MagicMock(), MagicMock(), None)
    assert callable(manager._session_storage._cache.expire)


def test_a_store_without_expiry_is_left_alone():
    assert reap(None) == 0 and reap({"a": 1}) == 0

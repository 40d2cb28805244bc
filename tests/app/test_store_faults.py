"""A run store that cannot be opened: the app starts, trains and says so on every page that matters."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")


@pytest.fixture
def unusable_store(monkeypatch, tmp_path):
    """DESCENT_DB names a file in a folder that does not exist; the process-wide objects are made afresh for it."""
    from ui import cache

    monkeypatch.setenv("DESCENT_DB", str(tmp_path / "no-such-folder" / "runs.db"))
    monkeypatch.setenv("DESCENT_ADMIN_PASSWORD", "s3cret")
    cache.job_manager.clear()
    cache.run_store.clear()
    yield
    cache.job_manager().shutdown()
    cache.job_manager.clear()
    cache.run_store.clear()


def test_the_app_trains_with_an_unusable_store_and_says_runs_are_not_saved(unusable_store):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("../pages/train.py").run()
    assert not at.exception
    banner = " ".join(w.value for w in at.sidebar.warning)
    assert "Runs are not being saved" in banner and "Cannot open the run store" in banner
    at.number_input(key="train_epochs").set_value(30)
    at.button(key="train_start").click().run()
    deadline = time.monotonic() + 90
    while not at.success:  # AppTest cannot fire the live view's timer: rerun as the browser would
        assert time.monotonic() < deadline and not at.exception, at.exception
        time.sleep(0.3)
        at.run()
    assert "Completed 30 epochs" in at.success[0].value
    assert any("This run is not being saved" in w.value for w in at.warning)

    at.switch_page("../pages/admin.py").run()
    at.text_input(key="admin_password").input("s3cret")
    at.button[0].click().run()
    assert any("Runs are not being saved" in e.value for e in at.error)

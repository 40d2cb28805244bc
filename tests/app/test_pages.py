"""Every page through streamlit.testing's AppTest, with the real job manager and worker processes."""

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
PAGES = ["app_pages/environment.py", "app_pages/data.py", "app_pages/train.py"]


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(page)
    return at.run()


def rerun_until(at: AppTest, done, timeout: float = 90.0) -> AppTest:
    """AppTest cannot fire run_every; rerun by hand, as the browser's timer would."""
    deadline = time.monotonic() + timeout
    while not done(at):
        assert time.monotonic() < deadline, "timed out waiting for the page"
        assert not at.exception, at.exception
        time.sleep(0.3)
        at.run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_an_exception(page):
    at = open_page(page)
    assert not at.exception
    assert at.title[0].value == Path(page).stem.capitalize()


def test_environment_page_gives_a_verdict():
    at = rerun_until(open_page("app_pages/environment.py"), lambda at: len(at.metric) >= 4)
    assert at.metric[0].label == "torch" and at.metric[0].value
    texts = " ".join(e.value for e in at.info) + " ".join(e.value for e in at.warning)
    assert "GPU" in texts or "MPS" in texts


def test_data_page_changes_the_dataset_for_every_page():
    at = open_page("app_pages/data.py")
    at.number_input(key="data_n").set_value(300).run()
    assert not at.exception
    assert len(json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["y"]) == 300
    at.switch_page("app_pages/train.py").run()
    assert "300 rows" in at.caption[0].value


def test_train_streams_epochs_then_shows_coefficients_beside_least_squares():
    at = open_page("app_pages/train.py")
    at.number_input(key="train_lr").set_value(0.1)
    at.number_input(key="train_epochs").set_value(2000)
    at.button(key="train_start").click().run()
    assert not at.exception
    at = rerun_until(at, lambda at: at.success)
    assert "Completed 2,000 epochs" in at.success[0].value
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["x"][-1] == 2000  # the newest epoch is drawn
    table = at.dataframe[0].value
    assert list(table["parameter"]) == ["area_m2", "rooms", "intercept"]
    assert (abs(table["difference"]) <= 1e-3 * abs(table["least squares (exact)"])).all()  # converged to the optimum


def test_bad_settings_show_a_message_and_start_nothing():
    at = open_page("app_pages/train.py")
    at.number_input(key="train_epochs").set_value(0)
    at.button(key="train_start").click().run()
    assert not at.exception
    assert "epochs must be a whole number from 1" in at.error[0].value
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["x"] == []  # the empty chart, nothing started


def test_a_diverging_run_says_why():
    at = open_page("app_pages/train.py")
    at.number_input(key="train_lr").set_value(50.0)
    at.number_input(key="train_epochs").set_value(500)
    at.button(key="train_start").click().run()
    at = rerun_until(at, lambda at: at.error)
    assert "Diverged" in at.error[0].value and "Lower the learning rate" in at.error[0].value

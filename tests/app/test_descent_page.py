"""The gradient-descent classroom through AppTest, with the real job manager: lessons run, races label, steps move."""

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui import state

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def open_classroom(lesson: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("app_pages/descent.py")
    if lesson:
        at.session_state[state.DESCENT_LESSON] = lesson
    at.run()
    deadline = time.monotonic() + 90
    while not at.slider:  # AppTest cannot fire run_every: rerun as the browser's timer would
        assert not at.exception, at.exception
        assert time.monotonic() < deadline, "the lanes never finished"
        time.sleep(0.3)
        at.run()
    assert not at.exception
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_page_renders_a_lesson_and_the_step_controls_move_the_step():
    at = open_classroom()
    assert at.title[0].value == "Gradient descent"
    assert at.slider[0].value == 0
    button(at, "Step 1").click().run()
    assert at.slider[0].value == 1
    button(at, "Step 10").click().run()
    assert at.slider[0].value == 11
    button(at, "Back").click().run()
    assert at.slider[0].value == 10
    assert any("∂" in x.value or "partial" in x.value for x in at.latex)
    assert any("-" in x.value and r"\frac{\partial L}{\partial w_{1}}" in x.value for x in at.latex)
    button(at, "Play").click().run()
    assert at.session_state[state.DESCENT_PLAYING]
    assert not at.exception


def test_learning_rate_race_runs_and_every_lane_label_matches_its_prediction():
    at = open_classroom("lr_race")
    table = next(d.value for d in at.dataframe if "predicted" in d.value.columns)
    table = getattr(table, "data", table)
    assert len(table) == 4
    assert list(table["predicted"]) == list(table["observed"])
    assert set(table["observed"]) == {"slow", "converges", "oscillates", "diverges"}


def test_optimizer_race_runs_every_lane():
    at = open_classroom("ravine")
    table = next(d.value for d in at.dataframe if "optimizer" in d.value.columns)
    table = getattr(table, "data", table)
    assert list(table["optimizer"]) == ["sgd", "momentum", "nesterov", "rmsprop", "adam"]
    assert all(table["observed"] != "")
    assert not at.exception

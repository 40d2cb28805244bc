"""The gradient-descent classroom through AppTest, with the real job manager: lessons run, races label, steps move."""

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import state

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")


def open_classroom(lesson: str | None = None, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.query_params.update(query or {})
    at.switch_page("../pages/descent.py")
    if lesson:
        at.session_state[state.DESCENT_LESSON] = lesson
    at.run()
    return wait_for_charts(at)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def speed(at: AppTest):
    return at.segmented_control[1]


def step_view(at: AppTest) -> AppTest:
    at.segmented_control[0].set_value("step").run()
    assert at.slider, "the timeline is in the step view"
    return at


def test_play_sends_the_whole_run_once_as_an_animated_figure():
    at = open_classroom()
    assert at.segmented_control[0].value == "play" and not at.slider  # Play is the default view; no server-side timeline
    (fig,) = charts(at)
    epochs = len(fig["frames"]) - 1
    assert epochs == 60 and fig["frames"][-1]["name"] == "60"
    run = at.session_state[state.DESCENT_RUN]
    history = run.histories[0]
    last = fig["frames"][-1]["data"]
    assert last[1]["x"][0] == pytest.approx(history["w:x"][-1], rel=1e-4)  # the trainer's own last weights
    assert last[1]["y"][0] == pytest.approx(history["b"][-1], rel=1e-4)
    labels = [b["label"] for b in fig["layout"]["updatemenus"][0]["buttons"]]
    assert any("Play" in x for x in labels) and any("Pause" in x for x in labels)
    speed(at).set_value(20).run()  # the speed is the frame duration in the browser
    (fig,) = charts(at)
    assert fig["layout"]["updatemenus"][0]["buttons"][0]["args"][1]["frame"]["duration"] == 42
    assert at.query_params["speed"] == "20" and at.query_params["view"] == "play"
    print(f"play figure: {len(at.get('plotly_chart')[0].proto.spec) // 1024} kB of JSON, {len(fig['frames'])} frames")


def test_projector_mode_draws_the_play_figure_in_high_contrast():
    at = open_classroom(query={"projector": "1"})
    (fig,) = charts(at)
    assert fig["layout"]["paper_bgcolor"] == "#ffffff" and fig["layout"]["font"]["size"] >= 18
    assert len(fig["frames"]) == 61
    at = step_view(at)
    assert all(c["layout"]["paper_bgcolor"] == "#ffffff" for c in charts(at))
    assert not at.number_input  # fewer controls: the learning rate is the lesson's
    assert not at.title and "stSidebar" in at.get("html")[0].proto.body  # no title or sidebar: the charts start higher


def wait_for_run(at: AppTest) -> AppTest:
    deadline = time.monotonic() + 90
    while not at.session_state[state.DESCENT_RUN].finished:
        assert time.monotonic() < deadline, "the lanes never finished"
        time.sleep(0.3)
        at.run()
    return at


def test_one_play_control_a_new_learning_rate_trains_by_itself():
    at = open_classroom()
    assert not any(b.label in ("Run", "Train") for b in at.button)  # no separate run button: ▶ Play is the one play control
    assert [o for o in at.segmented_control[0].options] == ["Animation", "Step by step"]
    first = at.session_state[state.DESCENT_RUN]
    at.number_input[0].set_value(0.05).run()  # typed (Enter): the lesson trains again at it
    run = wait_for_run(at).session_state[state.DESCENT_RUN]
    assert run is not first and run.lrs == [0.05]
    button(at, "0.9 × the limit").click().run()  # a preset multiple of the limit trains at once too
    run = wait_for_run(at).session_state[state.DESCENT_RUN]
    assert run.lrs == [at.number_input[0].value] and run.lrs[0] == pytest.approx(0.9 * 0.2985, rel=2e-3)
    assert not at.exception


def test_a_new_rate_before_the_lanes_end_stops_the_old_ones():
    at = open_classroom()
    at.session_state[state.DESCENT_LESSON] = "house"
    at.run()
    old = at.session_state[state.DESCENT_RUN]
    at.number_input[0].set_value(0.02).run()
    from ui.cache import job_manager

    manager = job_manager()
    assert all(manager.wait(j, timeout=60).status in ("stopped", "completed") for j in old.jobs)
    assert wait_for_run(at).session_state[state.DESCENT_RUN].lrs == [0.02]


def test_the_limit_is_said_in_plain_words_with_the_terms_in_its_tooltip():
    at = open_classroom()
    (limit,) = [c for c in at.caption if c.value.startswith("**The limit")]
    assert "λ" not in limit.value and "λ_max" in limit.help and "condition number" in limit.help
    at = step_view(at)
    assert not any("lr_max" in b.label for b in at.button)


def test_page_renders_a_lesson_and_the_step_controls_move_the_step():
    at = step_view(open_classroom())
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
    assert at.query_params["view"] == "step" and at.query_params["step"] == "10"
    at.segmented_control[0].set_value("play").run()  # and back: the step survives a visit to the play view
    at.segmented_control[0].set_value("step").run()
    assert at.slider[0].value == 10
    assert not at.exception


def test_learning_rate_race_runs_and_every_lane_label_matches_its_prediction():
    at = open_classroom("lr_race")
    (fig,) = charts(at)  # the race plays on one surface: every lane's path moves in the same frames
    paths = [t for t in fig["data"] if t.get("mode") == "lines+markers"]
    assert len(paths) == 4 and len(fig["frames"][0]["traces"]) == 4 * 5  # per lane: path, point, fit, loss so far, loss marker
    at = step_view(at)
    table = next(d.value for d in at.dataframe if "predicted" in d.value.columns)
    table = getattr(table, "data", table)
    assert len(table) == 4
    assert list(table["predicted"]) == list(table["observed"])
    assert set(table["observed"]) == {"slow", "converges", "oscillates", "diverges"}


def test_optimizer_race_runs_every_lane():
    at = step_view(open_classroom("ravine"))
    table = next(d.value for d in at.dataframe if "optimizer" in d.value.columns)
    table = getattr(table, "data", table)
    assert list(table["optimizer"]) == ["sgd", "momentum", "nesterov", "rmsprop", "adam"]
    assert all(table["observed"] != "")
    assert not at.exception


def toggle(at: AppTest, label: str):
    return next(t for t in at.toggle if t.label == label)


def test_a_shared_url_restores_every_setting_and_the_page_writes_them_back():
    query = {"lesson": "oscillates", "lr": "0.0123", "step": "7", "speed": "5", "d3": "1", "projector": "0"}
    at = open_classroom(query=query)
    assert at.selectbox[0].value == "oscillates"
    assert at.number_input[0].value == 0.0123
    assert at.session_state[state.DESCENT_RUN].lrs == [0.0123]  # the run itself used the shared rate
    assert at.segmented_control[0].value == "step"  # a link to an epoch opens the step view
    assert at.slider[0].value == 7
    assert toggle(at, "3-D surface").value and not toggle(at, "Projector mode").value
    for k, v in {**query, "view": "step"}.items():
        assert at.query_params[k] == v, k
    # and back: change the controls, the URL follows
    button(at, "Step 1").click().run()
    at.segmented_control[0].set_value("play").run()
    assert speed(at).value == 5
    speed(at).set_value(20).run()
    toggle(at, "Projector mode").set_value(True).run()
    assert (at.query_params["step"], at.query_params["speed"], at.query_params["projector"]) == ("8", "20", "1")
    assert at.query_params["view"] == "play"


def test_a_race_url_restores_the_lane_drawn_large():
    at = open_classroom(query={"lesson": "ravine", "focus": "3", "axes": "w:rooms × b"})
    assert at.radio[0].value == 3
    assert at.query_params["focus"] == "3"
    assert at.selectbox[1].value == "w:rooms × b"
    assert at.query_params["axes"] == "w:rooms × b"


def test_invalid_url_values_fall_back_to_defaults_without_a_traceback():
    at = open_classroom(query={"lesson": "nope", "lr": "-1", "step": "x", "speed": "7", "d3": "maybe", "focus": "9", "axes": "?"})
    assert not at.exception
    assert at.selectbox[0].value == "good"
    assert speed(at).value == 15
    assert not toggle(at, "3-D surface").value
    assert at.query_params["lesson"] == "good" and at.query_params["speed"] == "15"
    assert step_view(at).slider[0].value == 0


def test_history_csv_holds_every_lane():
    at = open_classroom("minibatch")
    assert not at.exception
    assert any(b.label == "History as CSV" for b in at.get("download_button"))


def test_your_data_lesson_uses_the_data_page_dataset_and_refuses_too_many_features():
    at = open_classroom(query={"lesson": "data"})  # the default dataset: house_prices, 2 features
    assert at.selectbox[0].value == "data"
    assert any("weight of area_m2" in o for o in at.selectbox[1].options)  # the parameter in plain words
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[state.DATA_PARAMS] = {"preset": "polynomial", "n": 200, "noise": 0.1, "seed": 0, "degree": 3}
    at.session_state[state.DATA_PREP] = {"standardize": True, "test_fraction": 0.2, "poly_degree": 3}
    at.run()
    at.switch_page("../pages/descent.py")
    at.session_state[state.DESCENT_LESSON] = "data"
    at.run()
    assert not at.exception
    assert any("1 or 2 features" in w.value for w in at.warning)


def chinese_left(at: AppTest) -> list[str]:
    """English still on the page (projector mode's stylesheet is not prose: words.py skips it)."""
    from tests.app.test_chinese import KEPT
    from tests.app.words import english, texts

    return english(texts(at), KEPT)


def wait_for_charts(at: AppTest) -> AppTest:
    deadline = time.monotonic() + 90
    while not at.get("plotly_chart"):  # AppTest cannot fire run_every: rerun as the browser's timer would
        assert not at.exception, at.exception
        assert time.monotonic() < deadline, "the lanes never finished"
        time.sleep(0.3)
        at.run()
    assert not at.exception, at.exception
    return at


def test_the_classroom_in_chinese_through_both_views_a_race_and_projector_mode():
    """The page walked as a Chinese class sees it: the first lesson animated and step by step, the learning-rate race
    with its table, and projector mode. Nothing English is left but names, code and the maths; the numbers are the same."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    at.switch_page("../pages/descent.py")
    at.run()
    wait_for_charts(at)
    assert chinese_left(at) == []
    assert at.title[0].value == "梯度下降" and at.info[0].value.startswith("**合适的学习率。** 一个特征")
    assert list(at.segmented_control[0].options) == ["动画", "逐步"]
    assert any(c.value.startswith("**上限：η <") for c in at.caption)
    (fig,) = charts(at)
    assert [b["label"] for b in fig["layout"]["updatemenus"][0]["buttons"]] == ["▶ 播放", "❚❚ 暂停", "⟲ 从头开始"]
    assert (fig["layout"]["xaxis"]["title"]["text"], fig["layout"]["yaxis"]["title"]["text"]) == ("x 的权重", "截距 b")
    assert fig["layout"]["sliders"][0]["currentvalue"]["prefix"] == "轮次 "

    at = step_view(at)
    button(at, "前进 1 步").click().run()
    assert at.slider[0].value == 1 and chinese_left(at) == []
    assert any("训练器在这一轮之后记录的是" in c.value for c in at.caption)
    assert any(m.value.startswith("**第 1 轮的更新**（0.5 × 上限；原始单位）") for m in at.markdown)
    english = button(step_view(open_classroom()), "Step 1").click().run()
    assert [x.value for x in at.latex] == [x.value for x in english.latex]  # the equation is maths: the same in both languages

    at.session_state[state.DESCENT_LESSON] = "lr_race"
    at.run()
    wait_for_charts(at)
    assert at.segmented_control[0].value == "step"  # the view is kept from lesson to lesson
    assert chinese_left(at) == [] and "同步赛跑" in [s.value for s in at.subheader]
    table = next(d.value for d in at.dataframe if "预测" in getattr(d.value, "data", d.value).columns)
    table = getattr(table, "data", table)
    assert list(table.columns) == ["赛道", "优化器", "η", "η × 曲率", "碗的拉伸", "预测", "实际", "一致", "状态"]
    assert list(table["预测"]) == list(table["实际"]) and set(table["实际"]) == {"偏慢", "收敛", "振荡", "发散"}

    at.segmented_control[0].set_value("play").run()
    assert chinese_left(at) == []
    assert all("· 预测：" in t["name"] for t in charts(at)[0]["data"] if t.get("mode") == "lines+markers")  # legend: the prediction

    at.toggle(key=state.DESCENT_PROJECTOR).set_value(True).run()
    assert not at.exception and not at.title and chinese_left(at) == []
    assert charts(at)[0]["layout"]["paper_bgcolor"] == "#ffffff"
    step_view(at)
    assert chinese_left(at) == []
